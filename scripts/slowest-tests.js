#!/usr/bin/env node
// The slowest test files of a jest run, slowest first, with the share of the run each takes; then the slowest single tests.
//   node scripts/slowest-tests.js              runs the whole suite once (jest --ci --json) and reports, with
//                                              the CPU time the machine spent meanwhile (from /proc/stat: the
//                                              daemons the suites start count too) and the floor it sets; the
//                                              run's results stay in .tmp/slowest-tests.json (each file's CPU
//                                              in .tmp/slowest-tests.cpu.jsonl), and its exit status is jest's
//   node scripts/slowest-tests.js RESULTS.json reports a run you already have (jest --json --outputFile)
// SLOWEST_COUNT sets how many files and tests are listed (default 15 each).
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
/** The machine's busy and idle CPU time so far, in seconds (Linux; undefined elsewhere). */
function cpuTimes() {
  try {
    const [, ...fields] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = fields.map(Number);
    const hz = 100; // USER_HZ, 100 on every Linux architecture jest runs on
    return { busy: (user + nice + system + irq + softirq + steal) / hz, idle: (idle + iowait) / hz };
  } catch {
    return undefined;
  }
}

let file = process.argv[2];
let cpu;
if (!file) {
  // In the project (ignored by git), replaced by each run: a temp directory would be left behind each time.
  file = path.join(ROOT, '.tmp', 'slowest-tests.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.rmSync(file, { force: true });
  fs.rmSync(cpuLogOf(file), { force: true });
  const before = cpuTimes();
  const jest = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'), '--ci', '--json', '--outputFile', file], {
    cwd: ROOT, stdio: 'inherit', env: { ...process.env, JEST_CPU_LOG: cpuLogOf(file) },
  });
  const after = cpuTimes();
  if (before && after) cpu = { busy: after.busy - before.busy, idle: after.idle - before.idle };
  process.exitCode = jest.status ?? 1;
  if (!fs.existsSync(file)) process.exit();
}
const results = JSON.parse(fs.readFileSync(file, 'utf8'));
// Each file's CPU, when the run wrote it (__tests__/setup/cpu-accounting-environment.js).
const cpuOf = new Map(fs.existsSync(cpuLogOf(file))
  ? fs.readFileSync(cpuLogOf(file), 'utf8').trim().split('\n').map((line) => JSON.parse(line)).map((c) => [c.file, c])
  : []);
const files = results.testResults
  .map((r) => ({
    file: path.relative(ROOT, r.name), seconds: (r.endTime - r.startTime) / 1000, tests: r.assertionResults.length, failed: r.status !== 'passed',
    cpu: cpuOf.get(r.name),
  }))
  .sort((a, b) => b.seconds - a.seconds);
const total = files.reduce((sum, f) => sum + f.seconds, 0);
const wall = (Math.max(...results.testResults.map((r) => r.endTime)) - results.startTime) / 1000;
console.log(`${files.length} files, ${results.numTotalTests} tests: ${wall.toFixed(1)} s wall clock, ${total.toFixed(1)} s in the files (workers run them side by side)`);
if (cpu) {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  // Whatever the scheduling, the run cannot end before the cores have done its work.
  console.log(`CPU: ${cpu.busy.toFixed(0)} s busy, ${cpu.idle.toFixed(0)} s idle on ${cores} cores (everything the machine ran meanwhile); `
    + `floor ${(cpu.busy / cores).toFixed(0)} s of wall clock on ${cores} cores`);
}
const count = Number(process.env.SLOWEST_COUNT || 15);
for (const f of files.slice(0, count)) {
  console.log(`${f.seconds.toFixed(1).padStart(7)} s  ${(100 * f.seconds / total).toFixed(1).padStart(5)} %  ${f.file} (${f.tests} tests)${f.failed ? '  FAILED' : ''}`);
}

// The CPU each file cost: what a faster schedule cannot hide. Its worker's own, and that of the processes it
// started and waited for (Terraform, restic, npm); the daemons that detach are in the machine's total only.
if (cpuOf.size) {
  const cpuTotal = (c) => c.worker + c.children;
  const byCpu = files.filter((f) => f.cpu).sort((a, b) => cpuTotal(b.cpu) - cpuTotal(a.cpu));
  const sum = byCpu.reduce((s, f) => s + cpuTotal(f.cpu), 0);
  const workers = byCpu.reduce((s, f) => s + f.cpu.worker, 0);
  console.log(`The files that cost the most CPU (${sum.toFixed(0)} CPU-s in all: ${workers.toFixed(0)} in the workers, ${(sum - workers).toFixed(0)} in what they started and waited for):`);
  for (const f of byCpu.slice(0, count)) {
    console.log(`${cpuTotal(f.cpu).toFixed(1).padStart(7)} CPU-s  ${f.cpu.worker.toFixed(1).padStart(6)} worker  ${f.cpu.children.toFixed(1).padStart(6)} started  ${f.file}`);
  }
}

// A single test runs against its own timeout (jest.config.js's testTimeout, or the one its suite sets), so
// the slowest tests are the ones a slower machine would fail first: compare each with its budget.
const tests = results.testResults
  .flatMap((r) => r.assertionResults.map((a) => ({ file: path.relative(ROOT, r.name), name: a.fullName, seconds: (a.duration ?? 0) / 1000 })))
  .sort((a, b) => b.seconds - a.seconds);
console.log('The slowest single tests:');
for (const t of tests.slice(0, count)) {
  console.log(`${t.seconds.toFixed(1).padStart(7)} s  ${t.file}: ${t.name.length > 100 ? `${t.name.slice(0, 97)}...` : t.name}`);
}

/** Where a run's per-file CPU goes, next to its results. */
function cpuLogOf(results) {
  return results.replace(/\.json$/, '') + '.cpu.jsonl';
}
