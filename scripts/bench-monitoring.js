#!/usr/bin/env node
// Measures the Phase 1 monitoring live, on the real Debian binaries (prometheus, prometheus-alertmanager,
// prometheus-blackbox-exporter, prometheus-node-exporter), with the configuration the library renders
// for production's prober (the same harness as __tests__/monitoring/monitoring-e2e.test.ts):
//   1. outage → alert: the time from stopping the checked HTTP target to the firing notification at
//      the webhook receiver, and from restarting it to the resolved notification. With the e2e test's
//      short timing (BENCH_RUNS runs), and once with the library's default timing (BENCH_DEFAULT_TIMING=0 skips it);
//   2. memory: what the four daemons take, with the default timing, after BENCH_MEMORY_SECONDS.
// Run from the repository root: `node scripts/bench-monitoring.js`. Results go to scripts/bench-monitoring.results.md.
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS || 5);
const MEMORY_SECONDS = Number(process.env.BENCH_MEMORY_SECONDS || 300);
const DEFAULT_TIMING = process.env.BENCH_DEFAULT_TIMING !== '0';

// The harness is TypeScript: transpile it on load (no type-check; `npm run typecheck` does that).
const ts = require(require.resolve('typescript', { paths: [ROOT] }));
require.extensions['.ts'] = (module, filename) => {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020, esModuleInterop: true },
  });
  module._compile(outputText, filename);
};
process.env.TMPDIR = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-monitoring-'));
process.env.CHECKPOINT_DISABLE = '1';
const { startLiveProber, runJobHook, OPS_PATH } = require(path.join(ROOT, '__tests__/monitoring/helpers/live-prober.ts'));
const { waitFor } = require(path.join(ROOT, 'testing/harness/wait.ts'));
const { memoryKib } = require(path.join(ROOT, 'testing/harness/processes.ts'));
const { Duration } = require(path.join(ROOT, 'lib/core/duration.ts'));
const { Phase } = require(path.join(ROOT, 'lib/roadmap/phase.ts'));
const { Environment } = require(path.join(ROOT, 'lib/core/environment.ts'));
const { HELPER_MEMORY_MAX_MIB, proberResources } = require(path.join(ROOT, 'lib/monitoring/private/profile.ts'));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The daemons run in process groups of their own: stop them when the benchmark is interrupted.
let running;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    Promise.resolve(running?.stop()).finally(() => process.exit(130));
  });
}
async function started(options) {
  running = await startLiveProber(options);
  return running;
}

/** Stops the target once the check passes; returns the ms to the firing and to the resolved notification. */
async function outage(options, boundMs) {
  const live = await started(options);
  try {
    runJobHook(live.root, 'backup-push', 'success');
    await waitFor(async () => (await live.stack.query(`probe_success{check="${live.check}"} == 1`)).length > 0, { what: 'a passing probe', timeout: Duration.millis(boundMs) });
    const firing = () => live.receiver.alerts(OPS_PATH).find((a) => a.labels.alertname === 'UptimeCheckFailed' && a.status === 'firing');
    if (firing()) throw new Error('UptimeCheckFailed fired while the target was up');
    const stoppedAt = Date.now();
    await live.target.down();
    const alert = await waitFor(firing, { what: 'the firing notification', timeout: Duration.millis(boundMs) });
    const restartedAt = Date.now();
    await live.target.up();
    const resolved = await waitFor(() => live.receiver.alerts(OPS_PATH)
      .find((a) => a.labels.alertname === 'UptimeCheckFailed' && a.status === 'resolved' && a.at >= restartedAt), { what: 'the resolved notification', timeout: Duration.millis(boundMs) });
    return { detect: alert.at - stoppedAt, resolve: resolved.at - restartedAt };
  } finally {
    await live.stop();
  }
}

function memoryOf(pid) {
  return { rss: memoryKib(pid, 'VmRSS') / 1024, pss: memoryKib(pid, 'Pss', 'smaps_rollup') / 1024 };
}

async function memory() {
  // The library's default timing: 30 s probes, rules every 15 s, Alertmanager's 30 s/5 min grouping.
  const live = await started({
    check: { interval: Duration.seconds(30), timeout: Duration.seconds(10), alertAfter: Duration.minutes(2) },
    evaluationInterval: Duration.seconds(15),
    groupTiming: null,
  });
  try {
    runJobHook(live.root, 'backup-push', 'success');
    const peak = {};
    let last = {};
    const deadline = Date.now() + MEMORY_SECONDS * 1000;
    while (Date.now() < deadline) {
      last = Object.fromEntries(Object.entries(live.stack.pids).map(([unit, pid]) => [unit, memoryOf(pid)]));
      for (const [unit, m] of Object.entries(last)) {
        peak[unit] = { rss: Math.max(peak[unit]?.rss ?? 0, m.rss), pss: Math.max(peak[unit]?.pss ?? 0, m.pss) };
      }
      await sleep(5000);
    }
    const series = Number((await live.stack.query('count({__name__!=""})'))[0]?.value[1]);
    return { peak, last, series };
  } finally {
    await live.stop();
  }
}

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { min: sorted[0], median: sorted[Math.floor(sorted.length / 2)], max: sorted[sorted.length - 1] };
}

function version(binary) {
  return execFileSync(binary, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0].replace(/\s*\(.*$/, '');
}

async function main() {
  const short = [];
  for (let i = 0; i < RUNS; i += 1) {
    short.push(await outage({}, 30_000));
    console.log(`short timing, run ${i + 1}/${RUNS}: ${JSON.stringify(short[short.length - 1])}`);
  }
  let defaults;
  if (DEFAULT_TIMING) {
    defaults = await outage({
      check: { interval: Duration.seconds(30), timeout: Duration.seconds(10), alertAfter: Duration.minutes(2) },
      evaluationInterval: Duration.seconds(15),
      groupTiming: null,
    }, 600_000);
    console.log(`default timing: ${JSON.stringify(defaults)}`);
  }
  const mem = await memory();
  console.log(`memory: ${JSON.stringify(mem)}`);

  const ms = (n) => `${(n / 1000).toFixed(1)} s`;
  const mib = (n) => `${n.toFixed(1)} MiB`;
  const d = { detect: stats(short.map((s) => s.detect)), resolve: stats(short.map((s) => s.resolve)) };
  const units = ['prometheus', 'prometheus-alertmanager', 'prometheus-blackbox-exporter', 'prometheus-node-exporter'];
  const sum = (which, key) => units.reduce((acc, u) => acc + mem[which][u][key], 0);
  const resources = proberResources(Phase.ONE, false);
  const memoryMax = resources.memoryMaxMib;
  const caps = { prometheus: memoryMax.prometheus, 'prometheus-alertmanager': memoryMax.alertmanager, 'prometheus-blackbox-exporter': memoryMax.blackbox, 'prometheus-node-exporter': memoryMax.node };
  const presetTypes = [...Phase.ONE.machineFor(Environment.TEST).types, ...Phase.ONE.machineFor(Environment.PRODUCTION).types];
  const smallestType = presetTypes.reduce((a, b) => (a.memory.isLargerThan(b.memory) ? b : a));
  const smallest = smallestType.memory.toMebibytes();
  // The four sampled daemons' caps; with the helpers' (not sampled), the figure docs/monitoring gives.
  const daemonCaps = Object.values(caps).reduce((a, b) => a + b, 0);
  const allCaps = resources.memoryMaxTotalMib;
  const lines = [
    '# Monitoring benchmark',
    '',
    `Written by \`node scripts/bench-monitoring.js\` on ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} cores, Node ${process.version}, `
      + `${['prometheus', 'prometheus-alertmanager', 'prometheus-blackbox-exporter', 'prometheus-node-exporter'].map(version).join(', ')} (Debian 12 packages).`,
    'It runs production\'s Phase 1 prober as the library renders it (the harness of `__tests__/monitoring/monitoring-e2e.test.ts`): one HTTP check of test, '
      + 'its backup jobs\' metrics, the ops webhook and the dead-man\'s switch, all on loopback.',
    '',
    '## Outage to alert',
    '',
    'From stopping the checked HTTP target to the firing notification at the webhook receiver, and from restarting it to the resolved notification.',
    '',
    '| timing | runs | stop → firing at the receiver (min / median / max) | back → resolved at the receiver (min / median / max) |',
    '|---|---|---|---|',
    `| e2e test: probe every 1 s, alert after 2 s, rules every 1 s, Alertmanager group wait and interval 1 s | ${RUNS} | ${ms(d.detect.min)} / ${ms(d.detect.median)} / ${ms(d.detect.max)} | ${ms(d.resolve.min)} / ${ms(d.resolve.median)} / ${ms(d.resolve.max)} |`,
    ...(defaults ? [`| library default: probe every 30 s, alert after 2 min, rules every 15 s, group wait 30 s, group interval 5 min | 1 | ${ms(defaults.detect)} | ${ms(defaults.resolve)} |`] : []),
    '',
    'With the default timing an outage reaches the receiver after the check\'s `alertAfter` (2 minutes) plus up to one probe interval, one rule evaluation and the group wait: '
      + 'about 2.5 to 3.5 minutes. A resolved notification waits for the next group interval (up to 5 minutes).',
    '',
    '## Memory beside the app',
    '',
    `The four daemons with the default timing, sampled every 5 s for ${MEMORY_SECONDS} s (${mem.series} series in Prometheus). PSS counts shared pages once per sharer.`,
    '',
    '| daemon | RSS peak | PSS peak | PSS at the end | systemd MemoryMax |',
    '|---|---|---|---|---|',
    ...units.map((u) => `| ${u} | ${mib(mem.peak[u].rss)} | ${mib(mem.peak[u].pss)} | ${mib(mem.last[u].pss)} | ${caps[u]} MiB |`),
    `| **all four** | ${mib(sum('peak', 'rss'))} | ${mib(sum('peak', 'pss'))} | ${mib(sum('last', 'pss'))} | ${daemonCaps} MiB |`,
    '',
    `On ${smallestType.name} (${smallestType.memory}), Phase 1's smallest preset type, the daemons take ${((sum('peak', 'rss') / smallest) * 100).toFixed(1)}% of the memory at their peak RSS, `
      + `and at most ${((daemonCaps / smallest) * 100).toFixed(1)}% under their caps: they fit beside the app, well under the quarter of the machine `
      + 'at which a separate monitoring machine becomes due. Prometheus grows with its head block over the first two hours; its cap, not this sample, is the bound. '
      + 'Caps and the e2e timing are the library\'s; systemd does not enforce the caps here (the daemons run without it).',
    '',
    // The relay and the watch run beside the four (Python, not sampled): the phase pages count their caps too.
    `With the alert relay and Prometheus's watch (${HELPER_MEMORY_MAX_MIB.alertRelay} and ${HELPER_MEMORY_MAX_MIB.prometheusWatch} MiB, not sampled here) the caps beside the app `
      + `add up to ${allCaps} MiB, ${((allCaps / smallest) * 100).toFixed(1)}% of ${smallestType.name}: the figure docs/monitoring gives.`,
    '',
  ];
  fs.writeFileSync(path.join(__dirname, 'bench-monitoring.results.md'), lines.join('\n'));
  fs.rmSync(process.env.TMPDIR, { recursive: true, force: true });
  console.log(lines.join('\n'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
