#!/usr/bin/env node
// Measures the cost estimator and the operator's report on the three phase examples and on a
// generated app with 50 environment stacks, and records the Phase 1 figures the README quotes.
// Run with `npm run bench:cost` (it builds first). Results go to scripts/bench-cost.results.md.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const DIST = process.env.SOVEREIGN_DIST || path.join(ROOT, 'dist');
const RUNS = Number(process.env.BENCH_RUNS || 5);
const { App } = require(require.resolve('cdktf', { paths: [ROOT] }));
const lib = require(path.join(DIST, 'lib'));
const { ProductStacks, EnvironmentStack } = require(path.join(DIST, 'stacks'));
const { EXAMPLES } = require(path.join(DIST, 'examples'));
const { EXAMPLE_ADMIN, exampleBoundary } = require(path.join(DIST, 'examples', 'shared'));
const { estimateCost } = require(path.join(DIST, 'lib', 'cost', 'estimator'));
const { PriceList } = require(path.join(DIST, 'lib', 'cost', 'price-list'));
const { writeOperatorReport } = require(path.join(DIST, 'lib', 'report', 'operator-report'));

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-cost-'));
const newApp = () => new App({ outdir: fs.mkdtempSync(path.join(tmp, 'app-')) });

/** 16 products with test, staging and production, and one with test and production: 50 environment stacks. */
function fiftyEnvironments(app) {
  const phases = [lib.Phase.ONE, lib.Phase.TWO, lib.Phase.THREE];
  for (let i = 0; i < 17; i++) {
    const product = new lib.Product({
      name: `generated-${String(i).padStart(2, '0')}`,
      phase: phases[i % 3],
      admin: EXAMPLE_ADMIN,
      ...exampleBoundary(),
      stateBucket: `generated-${i}-state`,
      staging: i < 16 ? lib.StagingMode.fromProductionSnapshot() : lib.StagingMode.reuseTestMachine(),
    });
    new ProductStacks(app, product, i < 16 ? { stagingExpiresAt: '2026-12-31' } : {});
  }
  return app;
}

const apps = {
  'phase1-pilot': (app) => EXAMPLES['phase1-pilot'](app),
  'phase2-paying-customers': (app) => EXAMPLES['phase2-paying-customers'](app),
  'phase3-traction': (app) => EXAMPLES['phase3-traction'](app),
  'generated, 50 environments': fiftyEnvironments,
};

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { min: sorted[0], median: sorted[Math.floor(sorted.length / 2)], max: sorted[sorted.length - 1] };
}

async function time(fn) {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function main() {
  const rows = [];
  for (const [name, define] of Object.entries(apps)) {
    // Building the construct tree is the app's own cost; the estimate and report are timed on a built tree.
    const warm = newApp();
    define(warm);
    estimateCost(warm);
    await writeOperatorReport(warm, { outdir: path.join(tmp, 'warm') });
    const estimateRuns = [];
    const reportRuns = [];
    let stacks = 0;
    for (let r = 0; r < RUNS; r++) {
      const app = newApp();
      define(app);
      stacks = app.node.findAll().filter((c) => c instanceof EnvironmentStack).length;
      estimateRuns.push(await time(() => estimateCost(app)));
      const appForReport = newApp();
      define(appForReport);
      reportRuns.push(await time(() => writeOperatorReport(appForReport, { outdir: path.join(tmp, `report-${r}`) })));
    }
    rows.push({ name, stacks, estimate: stats(estimateRuns), report: stats(reportRuns) });
  }

  // The figures the README quotes.
  const phase1App = newApp();
  EXAMPLES['phase1-pilot'](phase1App);
  const phase1 = estimateCost(phase1App).products[0];
  const box = PriceList.hetzner().storageBox('bx11', { billingDate: new Date().toISOString().slice(0, 10) });
  const withBox = phase1.permanentMonthly.plus(box.monthly);
  const noState = withBox.minus(phase1.sharedMonthly);
  // CX is often sold out in the EU: the presets then fall back to CPX, at its new-order price.
  const soldOut = newApp();
  new ProductStacks(soldOut, new lib.Product({
    name: 'phase1-cx-sold-out', phase: lib.Phase.ONE, admin: EXAMPLE_ADMIN, ...exampleBoundary(), stateBucket: 'pilot-terraform-state',
    staging: lib.StagingMode.fromProductionSnapshot(), unavailableServerTypes: ['cx23', 'cx33'],
  }), { stagingExpiresAt: '2026-12-31' });
  const fallback = estimateCost(soldOut).products[0];

  const ms = (n) => `${n.toFixed(0)} ms`;
  const lines = [
    '# Cost estimator and operator report benchmark',
    '',
    `Written by \`npm run bench:cost\` (scripts/bench-cost.js) on ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} cores, Node ${process.version}, `
      + `${RUNS} runs each after one warm-up. The estimate synthesizes every stack in memory and prices it; the report also lays the `
      + 'diagrams out with Graphviz (WebAssembly) and writes index.md, index.html and the SVGs. Building the construct tree is not timed.',
    '',
    '| app | environment stacks | estimate min | median | max | report min | median | max |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.name} | ${r.stacks} | ${ms(r.estimate.min)} | ${ms(r.estimate.median)} | ${ms(r.estimate.max)} | ${ms(r.report.min)} | ${ms(r.report.median)} | ${ms(r.report.max)} |`),
    '',
    `## Phase 1 (prices taken on ${PriceList.hetzner().takenOn}, new orders)`,
    '',
    `- Synthesized today: test ${phase1.environments.find((e) => e.environment === 'test').monthly}, production ${phase1.environments.find((e) => e.environment === 'production').monthly} `
      + `(cx33 with Hetzner backups and IPv4), state bucket ${phase1.sharedMonthly}: **${phase1.permanentMonthly} a month**.`,
    `- With the bx11 Storage Box the Phase 1 backups need (not in the stacks yet; ${box.monthly}, ${box.confidence} confidence: ${box.assumed}): **${withBox} a month**; `
      + `without the Object Storage base price for the state bucket: ${noState}.`,
    `- One hour of on-demand staging: **${phase1.rehearsal.hourly.toString(4)}**; one rehearsal of ${phase1.rehearsal.length}: ${phase1.rehearsal.each.toString(4)}.`,
    `- Three permanent environments ${phase1.comparison.threePermanent} a month versus staging on demand ${phase1.comparison.testPlusOnDemand} (saves ${phase1.comparison.saving}).`,
    `- If cx23 and cx33 are sold out and the presets fall back to cpx22 and cpx32: ${fallback.permanentMonthly} a month (before the Storage Box), `
      + `staging ${fallback.rehearsal.hourly.toString(4)} an hour.`,
    '',
  ];
  fs.writeFileSync(path.join(__dirname, 'bench-cost.results.md'), lines.join('\n'));
  console.log(lines.join('\n'));
  fs.rmSync(tmp, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  fs.rmSync(tmp, { recursive: true, force: true });
  process.exitCode = 1;
});
