#!/usr/bin/env node
// Measures the Hetzner stand-in provider with the real Terraform CLI:
//  1. plugin start-up: spawn -> go-plugin handshake line (AutoMTLS, as Terraform launches it);
//  2. terraform validate and plan of each Phase 1 example stack, normal launch vs reattach daemon;
//  3. the share of the test suite's time spent in Terraform (runs `jest --ci` once).
// Run it after a build (`npm run build && node scripts/bench-terraform.js`); it uses dist/.
// BENCH_RUNS sets the runs per figure (default 7); BENCH_SKIP_SUITE=1 skips part 3.
// Results go to scripts/bench-terraform.results.md.
'use strict';
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS || 7);
const testing = require(path.join(ROOT, 'dist', 'testing'));
const { EXAMPLES } = require(path.join(ROOT, 'dist', 'examples'));
const { createServerCertificate } = require(path.join(ROOT, 'dist', 'testing', 'provider', 'certificate'));
const { MAGIC_COOKIE_VALUE } = require(path.join(ROOT, 'dist', 'testing', 'provider', 'main'));
const { App } = require('cdktf');

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor(s.length / 2)], max: s[s.length - 1] };
}
const ms = (v) => `${Math.round(v)} ms`;
const row = (name, s) => `| ${name} | ${ms(s.min)} | ${ms(s.median)} | ${ms(s.max)} |`;

/** Spawn to handshake line, as Terraform launches the plugin (cookie, client certificate). */
function startupOnce(entry, clientCert) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [entry], {
      env: { ...process.env, TF_PLUGIN_MAGIC_COOKIE: MAGIC_COOKIE_VALUE, PLUGIN_PROTOCOL_VERSIONS: '5,6', PLUGIN_CLIENT_CERT: clientCert },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) {
        const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
        child.kill();
        if (!/^1\|6\|tcp\|127\.0\.0\.1:\d+\|grpc\|/.test(out)) reject(new Error(`unexpected handshake: ${out}`));
        else resolve(elapsed);
      }
    });
    child.on('error', reject);
  });
}

async function measureStartup() {
  const entry = path.join(ROOT, 'dist', 'testing', 'provider', 'main.js');
  const cert = createServerCertificate().certPem;
  await startupOnce(entry, cert); // warm the disk cache
  const samples = [];
  for (let i = 0; i < Math.max(RUNS, 10); i++) samples.push(await startupOnce(entry, cert));
  return stats(samples);
}

function phase1Stacks() {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-tf-'));
  const app = new App({ outdir });
  EXAMPLES['phase1-pilot'](app);
  app.synth();
  const dir = path.join(outdir, 'stacks');
  return fs.readdirSync(dir).sort().map((name) => ({ name, dir: path.join(dir, name) }));
}

function measureCommands(stacks, reattach) {
  const standIn = new testing.HetznerStandIn({ reattach });
  const out = {};
  try {
    for (const { name, dir } of stacks) {
      const ws = standIn.workspace(dir, { name });
      const init = ws.init();
      if (!init.ok) throw new Error(`init failed for ${name}: ${init.stderr}`);
      const validate = [];
      const plan = [];
      ws.validate(); // warm-up
      for (let i = 0; i < RUNS; i++) {
        const v = ws.validate();
        if (!v.ok) throw new Error(`validate failed for ${name}: ${v.stdout}`);
        validate.push(v.ms);
        const p = ws.terraformRun(['plan', '-input=false', '-no-color', '-out=tfplan']);
        if (!p.ok) throw new Error(`plan failed for ${name}: ${p.stdout}${p.stderr}`);
        plan.push(p.ms);
      }
      out[name] = { init: init.ms, validate: stats(validate), plan: stats(plan) };
    }
  } finally {
    standIn.stop(true);
  }
  return out;
}

function measureSuite() {
  const log = path.join(os.tmpdir(), `bench-tf-suite-${process.pid}.tsv`);
  const report = path.join(os.tmpdir(), `bench-tf-suite-${process.pid}.json`);
  fs.rmSync(log, { force: true });
  const started = Date.now();
  const run = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'jest'), ['--ci', '--json', `--outputFile=${report}`], {
    cwd: ROOT, env: { ...process.env, HCLOUD_STANDIN_TERRAFORM_LOG: log, CI: '1' }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024,
  });
  const wall = Date.now() - started;
  const lines = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : [];
  const sum = (kind) => lines.filter((l) => l.startsWith(`${kind}\t`)).reduce((acc, l) => acc + Number(l.split('\t')[2]), 0);
  const count = (kind) => lines.filter((l) => l.startsWith(`${kind}\t`)).length;
  const result = fs.existsSync(report) ? JSON.parse(fs.readFileSync(report, 'utf8')) : {};
  // jest's default: one worker per core but one (the main process coordinates).
  const workers = Math.max(1, os.cpus().length - 1);
  const files = (result.testResults ?? []).map((t) => ({ name: path.relative(ROOT, t.name), ms: t.endTime - t.startTime, status: t.status }));
  return {
    wall, workers, exit: run.status, passed: result.numPassedTests, failed: result.numFailedTests,
    terraform: { ms: sum('terraform'), runs: count('terraform') }, cdktf: { ms: sum('cdktf'), runs: count('cdktf') },
    files: files.sort((a, b) => b.ms - a.ms),
  };
}

(async () => {
  const loadBefore = os.loadavg()[0];
  const terraformVersion = spawnSync(testing.terraformBinary(), ['version'], { encoding: 'utf8' }).stdout.split('\n')[0];
  const startup = await measureStartup();
  const stacks = phase1Stacks();
  const normal = measureCommands(stacks, false);
  const reattach = measureCommands(stacks, true);
  const suite = process.env.BENCH_SKIP_SUITE ? undefined : measureSuite();

  const lines = [
    '# Terraform benchmark: the Hetzner stand-in',
    '',
    `Written by scripts/bench-terraform.js on ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} cores, Node ${process.version}, ${terraformVersion}, ${RUNS} runs per figure after one warm-up.`,
    `Load from other processes on the machine is not controlled (1-minute load average ${loadBefore.toFixed(1)} at the start, ${os.loadavg()[0].toFixed(1)} at the end, on ${os.cpus().length} cores); medians are the figures to read.`,
    ...(process.env.BENCH_NOTE ? ['', process.env.BENCH_NOTE] : []),
    '',
    '## Plugin start-up',
    '',
    'From spawning `node dist/testing/provider/main.js` (with the magic cookie and a client certificate, as Terraform does) to its handshake line.',
    '',
    '| | min | median | max |',
    '|---|---|---|---|',
    row('start-up to handshake line', startup),
    '',
    '## Phase 1 example: validate and plan, per stack',
    '',
    'Normal: Terraform installs the stand-in from the filesystem mirror and starts a plugin process per provider instance (2 for validate, 3 for plan).',
    'Reattach: one long-lived plugin process reached through TF_REATTACH_PROVIDERS. `plan` writes a plan file over an empty state.',
    '',
    '| stack | command | mode | min | median | max |',
    '|---|---|---|---|---|---|',
    ...stacks.flatMap(({ name }) => ['validate', 'plan'].flatMap((cmd) => [['normal', normal], ['reattach', reattach]].map(([mode, m]) => {
      const s = m[name][cmd];
      return `| ${name} | ${cmd} | ${mode} | ${ms(s.min)} | ${ms(s.median)} | ${ms(s.max)} |`;
    }))),
    '',
    `Speed-up of reattach (median, ${stacks[0].name}): validate ${(normal[stacks[0].name].validate.median / reattach[stacks[0].name].validate.median).toFixed(1)}x, plan ${(normal[stacks[0].name].plan.median / reattach[stacks[0].name].plan.median).toFixed(1)}x.`,
    '',
  ];
  if (suite) {
    const worker = suite.wall * suite.workers;
    lines.push(
      '## Share of the test suite spent in Terraform',
      '',
      `\`jest --ci\` once: ${(suite.wall / 1000).toFixed(1)} s wall on ${suite.workers} workers (${suite.passed} passed, ${suite.failed} failed, exit ${suite.exit}).`,
      '',
      '| time | runs | total | share of worker time |',
      '|---|---|---|---|',
      `| Terraform commands run by the harness | ${suite.terraform.runs} | ${(suite.terraform.ms / 1000).toFixed(1)} s | ${((100 * suite.terraform.ms) / worker).toFixed(0)} % |`,
      `| cdktf CLI runs of the deploy end-to-end test (Terraform inside) | ${suite.cdktf.runs} | ${(suite.cdktf.ms / 1000).toFixed(1)} s | ${((100 * suite.cdktf.ms) / worker).toFixed(0)} % |`,
      `| together | | ${((suite.terraform.ms + suite.cdktf.ms) / 1000).toFixed(1)} s | ${((100 * (suite.terraform.ms + suite.cdktf.ms)) / worker).toFixed(0)} % |`,
      '',
      'Worker time = wall time x workers. Slowest test files:',
      '',
      '| file | time | status |',
      '|---|---|---|',
      ...suite.files.slice(0, 10).map((f) => `| ${f.name} | ${(f.ms / 1000).toFixed(1)} s | ${f.status} |`),
      '',
    );
  }
  fs.writeFileSync(path.join(__dirname, 'bench-terraform.results.md'), lines.join('\n'));
  console.log(lines.join('\n'));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
