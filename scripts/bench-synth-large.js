#!/usr/bin/env node
// Measures the synth of a product near the top of the operating model (__tests__/setup/large-product.ts: Phase 3,
// the longest product name, 20 admin keys per environment, 150 admin networks, 20 EU processors and 40 flows,
// 15 alert receivers, 20 uptime checks), at that size and at twice it, in-process (`app.synth()`, what `cdktf synth`
// runs after its own start-up: scripts/bench-synth.js measures that), with the three examples for scale. Wall time
// depends on what else the machine runs; CPU time (user + system of this process) much less, so both are recorded.
// Run after a build (`npm run build && node scripts/bench-synth-large.js`). BENCH_RUNS sets the runs (default 5),
// each after one warm-up, each in a new App and output directory. Results go to scripts/bench-synth-large.results.md.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS || 5);
const { App } = require(require.resolve('cdktf', { paths: [ROOT] }));
const { javascriptEntry } = require(path.join(ROOT, 'dist', 'testing', 'harness', 'transpile-cache.js'));
const fixture = require(javascriptEntry(path.join(ROOT, '__tests__', 'setup', 'large-product')));
const { EXAMPLES } = require(path.join(ROOT, 'dist', 'examples'));

/**
 * What this script measured at fa97d6f (the scale suite's commit, before synth did its repeated work once), on the same
 * machine and day, load average about 9 to 11 (other jobs shared the 2 cores): CPU and wall medians of 5 runs, by app.
 */
const BEFORE = { commit: 'fa97d6f', cpu: [2.57, 1.87, 2.39], wall: [4.79, 3.68, 4.96] };

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-synth-large-'));
const scaled = (factor) => Object.fromEntries(Object.entries(fixture.LARGE_PRODUCT).map(([k, v]) => [k, v * factor]));

const apps = {
  'the three examples (phase 1, 2, 3)': (app) => Object.values(EXAMPLES).forEach((build) => build(app)),
  'large product, 1×': (app) => fixture.largeProductStacks(app, scaled(1)),
  'large product, 2× (40 keys an environment, 300 networks, 40 processors, 80 flows, 30 receivers, 40 checks)': (app) => fixture.largeProductStacks(app, scaled(2)),
};

function once(build) {
  const app = new App({ outdir: fs.mkdtempSync(path.join(tmp, 'app-')) });
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  build(app);
  app.synth();
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  const sizes = fs.readdirSync(path.join(app.outdir, 'stacks')).map((s) => fs.statSync(path.join(app.outdir, 'stacks', s, 'cdk.tf.json')).size);
  const boundary = fs.readdirSync(path.join(app.outdir, 'products')).map((p) => fs.statSync(path.join(app.outdir, 'products', p, 'boundary.md')).size);
  fs.rmSync(app.outdir, { recursive: true, force: true });
  return { wall, cpu: (used.user + used.system) / 1e6, stacks: sizes.length, json: sizes.reduce((a, b) => a + b, 0), boundary: Math.max(...boundary) };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = Object.entries(apps).map(([name, build]) => {
  once(build); // warm-up: module loading and the JIT
  const runs = Array.from({ length: RUNS }, () => once(build));
  return { name, runs, last: runs[runs.length - 1] };
});
fs.rmSync(tmp, { recursive: true, force: true });

const s = (x) => `${x.toFixed(2)} s`;
const kb = (x) => `${Math.round(x / 1024)} KiB`;
const [l1, l5, l15] = os.loadavg().map((x) => x.toFixed(1));
const lines = [
  '# Synth of a large product (scripts/bench-synth-large.js)',
  '',
  `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} cores, Node ${process.version}, ${RUNS} runs each after one warm-up, in-process`,
  `(\`app.synth()\` with every validation, the product documents included; the cdktf CLI adds its own start-up, scripts/bench-synth.results.md).`,
  `Load average (1 / 5 / 15 min) at the end: ${l1} / ${l5} / ${l15}. CPU is this process's user + system time; wall time also counts waiting for the cores.`,
  '',
  `| app | stacks | cdk.tf.json (all stacks) | boundary.md | CPU median | CPU min–max | wall median | wall min–max | before (${BEFORE.commit}): CPU / wall median |`,
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...results.map(({ name, runs, last }, i) => {
    const cpu = runs.map((r) => r.cpu);
    const wall = runs.map((r) => r.wall);
    return `| ${name} | ${last.stacks} | ${kb(last.json)} | ${kb(last.boundary)} | ${s(median(cpu))} | ${s(Math.min(...cpu))}–${s(Math.max(...cpu))} | ${s(median(wall))} | `
      + `${s(Math.min(...wall))}–${s(Math.max(...wall))} | ${s(BEFORE.cpu[i])} / ${s(BEFORE.wall[i])} |`;
  }),
  '',
  `Before: at ${BEFORE.commit}, each stack wrote its product's documents, each time running the boundary checks on every stack of the`,
  'product, and each rollout built its inputs document (a Terraform call, with a stack trace, per deploy-time reference) at every',
  'resolution of its stack. Before that commit the large product did not synthesize at all: an admin key whose base64 reads like an',
  'API token failed Boundary-NoPlaintextSecret, and 150 admin networks went into one firewall rule (Hetzner takes 100; that failed at apply).',
  '',
];
fs.writeFileSync(path.join(__dirname, 'bench-synth-large.results.md'), lines.join('\n'));
console.log(lines.join('\n'));
