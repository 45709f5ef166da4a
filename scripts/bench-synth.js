#!/usr/bin/env node
// Measures the wall time to synthesize every example: through the cdktf CLI (what `npm run synth`
// runs) and directly (`node dist/examples/main.js`, i.e. app.synth()). For scale it also runs the CLI
// on a minimal one-stack app, which shows how much of the CLI path is the CLI's own start-up.
// Run with `npm run bench` (it builds first). Results go to scripts/bench-synth.results.md.
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS || 7);
const env = { ...process.env, CHECKPOINT_DISABLE: '1', CI: '1' };
const cdktf = path.join(ROOT, 'node_modules', '.bin', 'cdktf');

function time(cmd, args, cwd = ROOT) {
  const start = process.hrtime.bigint();
  execFileSync(cmd, args, { cwd, env, stdio: 'ignore' });
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { min: sorted[0], median: sorted[Math.floor(sorted.length / 2)], max: sorted[sorted.length - 1] };
}

function minimalApp() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-minimal-'));
  fs.writeFileSync(path.join(dir, 'cdktf.json'), JSON.stringify({ language: 'typescript', app: 'node main.js', output: 'cdktf.out' }));
  fs.writeFileSync(path.join(dir, 'main.js'), `const { App, TerraformStack } = require(${JSON.stringify(require.resolve('cdktf', { paths: [ROOT] }))});
const app = new App(); new TerraformStack(app, 'empty'); app.synth();\n`);
  return dir;
}

const minimal = minimalApp();
const paths = {
  'examples, direct (`node dist/examples/main.js`: app.synth())': () => time(process.execPath, [path.join('dist', 'examples', 'main.js')]),
  'examples, cdktf CLI (`cdktf synth`, as `npm run synth`)': () => time(cdktf, ['synth']),
  'baseline: one empty stack, cdktf CLI': () => time(cdktf, ['synth'], minimal),
};

// One warm-up run each, so the first measured run does not pay for a cold disk cache.
for (const measure of Object.values(paths)) measure();
const results = Object.fromEntries(Object.entries(paths).map(([name, measure]) => [name, stats(Array.from({ length: RUNS }, measure))]));
fs.rmSync(minimal, { recursive: true, force: true });

const stacks = fs.readdirSync(path.join(ROOT, 'cdktf.out', 'stacks')).sort();
const fmt = (s) => `${s.toFixed(2)} s`;
const [direct, cli, baseline] = Object.values(results);
const lines = [
  '# Synth benchmark',
  '',
  `Written by \`npm run bench\` (scripts/bench-synth.js) on ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} cores, Node ${process.version}, ${RUNS} runs each after one warm-up.`,
  `Example stacks synthesized: ${stacks.join(', ')}.`,
  '',
  '| path | min | median | max |',
  '|---|---|---|---|',
  ...Object.entries(results).map(([name, s]) => `| ${name} | ${fmt(s.min)} | ${fmt(s.median)} | ${fmt(s.max)} |`),
  '',
  `CLI overhead over the direct path (median): ${fmt(cli.median - direct.median)}; budget about 1.5 s.`,
  `The CLI alone, on an app with one empty stack, takes ${fmt(baseline.median)}.`,
  '',
];
fs.writeFileSync(path.join(__dirname, 'bench-synth.results.md'), lines.join('\n'));
console.log(lines.join('\n'));
