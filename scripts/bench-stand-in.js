#!/usr/bin/env node
// Measures what the stand-in's suites spend per Terraform workspace, old way against new, in alternating
// rounds within one run (the machine is shared, so only ratios from one run mean anything):
//  1. a fresh workspace's first `terraform validate`: `terraform init` first, or a copy of an earlier init
//     of the same providers and backend (StandInWorkspace with HetznerStandIn.initTemplatesDir);
//  2. reaching `apply` from a plan: `plan` + `show -json` + `apply -auto-approve` (which plans again), or
//     `plan -out` + `apply <plan file>` (__tests__/testing/differential.test.ts);
//  3. `cdktf deploy` + `cdktf destroy` of the example's staging stack, synthesizing again or with --skip-synth
//     (__tests__/testing/cdktf-deploy-e2e.test.ts).
// Run from the repository: `node scripts/bench-stand-in.js` (BENCH_RUNS rounds, default 5;
// BENCH_CDKTF_RUNS for 3, default 2; BENCH_NOTE adds a line). Results go to scripts/bench-stand-in.results.md.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const ts = require('typescript');

const ROOT = path.resolve(__dirname, '..');
// Source, not dist/: TypeScript files are transpiled on require (no type-check; tsc does that).
require.extensions['.ts'] = (module, file) => {
  const out = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
    fileName: file, compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020, esModuleInterop: true, resolveJsonModule: true },
  });
  module._compile(out.outputText, file);
};
const { App } = require('cdktf');
const { HetznerStandIn, StandInWorkspace, placeholderVariables, writeStandInOverride } = require(path.join(ROOT, 'testing'));
const { javascriptEntry } = require(path.join(ROOT, 'testing', 'harness', 'transpile-cache'));
const { EXAMPLES } = require(path.join(ROOT, 'examples'));

const RUNS = Number(process.env.BENCH_RUNS || 5);
const CDKTF_RUNS = Number(process.env.BENCH_CDKTF_RUNS || 2);

function machineStack() {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-standin-'));
  const app = new App({ outdir });
  EXAMPLES['phase1-pilot'](app);
  app.synth();
  const dir = path.join(outdir, 'stacks', fs.readdirSync(path.join(outdir, 'stacks')).find((s) => s.endsWith('-test')));
  return JSON.parse(fs.readFileSync(path.join(dir, 'cdk.tf.json'), 'utf8'));
}

function timed(fn) {
  const started = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function must(run, what) {
  if (!run.ok) throw new Error(`${what} failed: ${run.stderr || run.stdout.slice(-2000)}`);
  return run;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Alternating rounds of `a` and `b` (b first in odd rounds); returns the medians and the ratio. */
function compare(rounds, a, b) {
  const times = { a: [], b: [] };
  a(); b(); // warm-up: caches, the daemon, the transpile cache
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? ['a', 'b'] : ['b', 'a'];
    for (const which of order) times[which].push(timed(which === 'a' ? a : b));
  }
  return { a: median(times.a), b: median(times.b), ratio: median(times.b) / median(times.a), rounds };
}

function load() {
  return os.loadavg().map((l) => l.toFixed(1)).join(' / ');
}

function main() {
  const stack = machineStack();
  const standIn = new HetznerStandIn({ reattach: true });
  const withoutTemplates = { env: (cloudFile) => standIn.env(cloudFile) };
  let n = 0;
  const fresh = (terraform) => {
    const dir = path.join(standIn.dir, 'bench', String(++n));
    return new StandInWorkspace(terraform, dir, path.join(dir, 'cloud.json')).setConfiguration(stack);
  };
  const loadBefore = load();

  const init = compare(RUNS,
    () => must(fresh(withoutTemplates).validate(), 'validate after init'),
    () => must(fresh(standIn).validate(), 'validate after a copied init'));

  const apply = compare(RUNS,
    () => {
      const ws = fresh(standIn);
      must(ws.validate(), 'validate');
      if (!ws.plan().changes) throw new Error('plan failed');
      must(ws.apply(), 'apply');
    },
    () => {
      const ws = fresh(standIn);
      must(ws.validate(), 'validate');
      must(ws.terraformRun(['plan', '-input=false', '-no-color', '-json', '-out=tfplan']), 'plan');
      must(ws.terraformRun(['apply', '-input=false', '-no-color', '-json', 'tfplan']), 'apply of the plan');
    });

  // 3: the cdktf CLI against a launched (not reattached) stand-in, as the e2e does.
  const launched = new HetznerStandIn({ reattach: false });
  const project = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-cdktf-'));
  fs.writeFileSync(path.join(project, 'cdktf.json'), JSON.stringify({
    language: 'typescript', app: `${JSON.stringify(process.execPath)} ${JSON.stringify(javascriptEntry(path.join(ROOT, 'examples', 'main')))}`,
    output: 'cdktf.out', terraformProviders: [], terraformModules: [], sendCrashReports: 'false', context: {},
  }));
  let variables = {};
  const cdktf = (...args) => {
    const run = spawnSync(path.join(ROOT, 'node_modules', '.bin', 'cdktf'), args, {
      cwd: project, encoding: 'utf8', timeout: 600_000,
      env: { ...variables, ...launched.env(), CI: '1', CHECKPOINT_DISABLE: '1', DISABLE_VERSION_CHECK: 'true', FORCE_COLOR: '0' },
    });
    if (run.status !== 0) throw new Error(`cdktf ${args.join(' ')} exited ${run.status}: ${(run.stdout + run.stderr).slice(-3000)}`);
  };
  cdktf('synth');
  const stacksDir = path.join(project, 'cdktf.out', 'stacks');
  const staging = fs.readdirSync(stacksDir).find((s) => s === 'phase1-pilot-staging') ?? fs.readdirSync(stacksDir).find((s) => s === 'phase1-pilot-test');
  for (const s of fs.readdirSync(stacksDir)) {
    writeStandInOverride(path.join(stacksDir, s), path.join(project, 'clouds', `${s}.json`));
    Object.assign(variables, placeholderVariables(JSON.parse(fs.readFileSync(path.join(stacksDir, s, 'cdk.tf.json'), 'utf8'))));
  }
  const upAndDown = (...extra) => () => {
    cdktf('deploy', staging, '--auto-approve', '--skip-provider-lock', ...extra);
    cdktf('destroy', staging, '--auto-approve', '--skip-provider-lock', ...extra);
  };
  const synth = compare(CDKTF_RUNS, upAndDown(), upAndDown('--skip-synth'));

  standIn.stop(true);
  launched.stop(true);
  fs.rmSync(project, { recursive: true, force: true });

  const line = (what, r, a, b) => `| ${what} | ${a}: ${r.a.toFixed(0)} ms | ${b}: ${r.b.toFixed(0)} ms | ${r.ratio.toFixed(2)} | ${r.rounds} |`;
  const text = [
    '# Stand-in workspace costs, old against new',
    '',
    `Written by scripts/bench-stand-in.js on ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} cores, Node ${process.version}.`,
    `Load average (1 / 5 / 15 min) before: ${loadBefore}; after: ${load()}. Medians of alternating rounds after one warm-up each; only the ratios compare.`,
    ...(process.env.BENCH_NOTE ? ['', process.env.BENCH_NOTE] : []),
    '',
    '| What | Old | New | New / old | Rounds |',
    '|---|---|---|---|---|',
    line('A fresh workspace\'s first `terraform validate` (reattached stand-in)', init, '`init` + validate', 'copied init + validate'),
    line('validate, plan and apply of the example\'s test stack', apply, 'plan + show + `apply -auto-approve`', 'plan -out + apply of the plan'),
    line(`\`cdktf deploy\` + \`cdktf destroy\` of ${staging} (launched stand-in)`, synth, 'synthesizing again', '`--skip-synth`'),
    '',
  ].join('\n');
  fs.writeFileSync(path.join(__dirname, 'bench-stand-in.results.md'), text);
  process.stdout.write(text);
}

main();
