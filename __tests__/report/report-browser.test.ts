import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { Testing } from 'cdktf';
import { phase1Pilot } from '../../examples/phase1-pilot';
import { writeOperatorReport } from '../../lib/report/operator-report';
import { launchChromium } from './chromium';

jest.setTimeout(90_000);

interface Seen {
  nodes: Array<{ id: string; text: string; width: number; height: number }>;
  costs: Array<{ key: string; text: string }>;
  text: string;
}

test('the Phase 1 report, as a person sees it in Chromium', async () => {
  const app = Testing.app();
  phase1Pilot(app);
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'report-browser-'));
  const { model, htmlFile } = await writeOperatorReport(app, { outdir, estimate: { billingDate: '2026-11-25' } });
  const browser = await launchChromium();
  try {
    const page = browser.context.pages()[0] ?? await browser.context.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(htmlFile).href, { waitUntil: 'load' });

    const seen = await page.evaluate(`(() => ({
      nodes: [...document.querySelectorAll('figure.diagram svg g.node')].map((g) => {
        const box = g.getBBox();
        return { id: g.id, text: g.textContent.replace(/\\s+/g, ' ').trim(), width: box.width, height: box.height };
      }),
      costs: [...document.querySelectorAll('[data-cost]')].map((e) => ({ key: e.dataset.cost, text: e.innerText.trim() })),
      text: document.body.innerText,
    }))()`) as Seen;

    // The diagram renders with every machine and processor, each a visible box with its name.
    const product = model.products[0];
    const expected = [
      ...product.environments.flatMap((e) => e.machines.map((m) => ({ id: m.id, name: m.name }))),
      ...product.processors.map((p) => ({ id: p.id, name: p.name })),
    ];
    expect(expected.map((e) => e.name)).toEqual(['phase1-pilot-test-app', 'phase1-pilot-staging-app', 'phase1-pilot-production-app', 'Mistral AI', 'Jina AI', 'GlitchTip (self-hosted)']);
    for (const { id, name } of expected) {
      const node = seen.nodes.find((n) => n.id === id);
      expect(node).toBeDefined();
      expect(node!.text).toContain(name);
      expect(node!.width).toBeGreaterThan(20);
      expect(node!.height).toBeGreaterThan(10);
    }

    // The numbers on the page are the estimator's.
    const cost = model.estimate.products[0];
    const shown = (key: string) => seen.costs.filter((c) => c.key === key).map((c) => c.text);
    expect(shown('product.phase1-pilot.permanent')).toEqual([cost.permanentMonthly.toString()]);
    expect(shown('product.phase1-pilot.monthly')).toEqual([cost.monthly.toString()]);
    expect(shown('product.phase1-pilot.rehearsal.hourly')).toEqual([cost.rehearsal!.hourly.toString(4)]);
    expect(shown('product.phase1-pilot.rehearsal.each')).toEqual([cost.rehearsal!.each.toString(4)]);
    expect(shown('product.phase1-pilot.comparison.saving')).toEqual([cost.comparison.saving.toString()]);
    for (const env of cost.environments) {
      expect(shown(`env.${env.stack}.monthly`)).toEqual([env.monthly.toString()]);
      expect(shown(`env.${env.stack}.hourly`)).toEqual([env.hourly.toString(4)]);
    }
    const lines = [...cost.environments.flatMap((e) => e.lines), ...cost.shared];
    const lineCells = seen.costs.filter((c) => c.key.startsWith('line.'));
    expect(lineCells.length).toBeGreaterThanOrEqual(lines.length);
    expect(lineCells.map((c) => c.text).sort()).toEqual(expect.arrayContaining(lines.map((l) => l.monthly.toString()).sort()));
    expect(seen.text).toContain(`one hour of staging (phase1-pilot-staging)\t${cost.rehearsal!.hourly.toString(4)}`);

    // No console error, and nothing but the file itself was loaded.
    expect(problems).toEqual([]);
    expect(requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'))).toEqual([]);
  } finally {
    await browser.close();
    fs.rmSync(outdir, { recursive: true, force: true });
  }
});
