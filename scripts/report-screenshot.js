#!/usr/bin/env node
// Writes the operator's report of the Phase 1 example and photographs it in headless Chromium
// (Debian's /usr/bin/chromium) into docs/report-phase1.png, the picture the README shows.
// Run with `npm run report:screenshot` (it builds first).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { pathToFileURL } = require('url');

const ROOT = path.resolve(__dirname, '..');
const DIST = process.env.SOVEREIGN_DIST || path.join(ROOT, 'dist');
const OUT = path.join(ROOT, 'docs', 'report-phase1.png');
const { App } = require(require.resolve('cdktf', { paths: [ROOT] }));
const { chromium } = require(require.resolve('playwright-core', { paths: [ROOT] }));
const { EXAMPLES } = require(path.join(DIST, 'examples'));
const { writeOperatorReport } = require(path.join(DIST, 'lib', 'report', 'operator-report'));

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'report-screenshot-'));
  try {
    const app = new App({ outdir: path.join(tmp, 'cdktf.out') });
    EXAMPLES['phase1-pilot'](app);
    const { htmlFile } = await writeOperatorReport(app, { outdir: path.join(tmp, 'report') });
    const profile = path.join(tmp, 'profile');
    const chromiumTmp = path.join(tmp, 'chromium-tmp');
    fs.mkdirSync(profile);
    fs.mkdirSync(chromiumTmp);
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      viewport: { width: 1280, height: 900 },
      env: { ...process.env, TMPDIR: chromiumTmp },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = context.pages()[0] || await context.newPage();
      const errors = [];
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      await page.goto(pathToFileURL(htmlFile).href, { waitUntil: 'load' });
      if (errors.length > 0) throw new Error(`the report logged errors: ${errors.join('; ')}`);
      fs.mkdirSync(path.dirname(OUT), { recursive: true });
      await page.screenshot({ path: OUT, fullPage: true });
    } finally {
      await context.close();
    }
    console.log(`Wrote ${path.relative(ROOT, OUT)}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
