import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Construct } from 'constructs';
import { TerraformStack, TerraformVariable, Testing } from 'cdktf';
import { phase1Pilot } from '../../examples/phase1-pilot';
import { phase2PayingCustomers } from '../../examples/phase2-paying-customers';
import { estimateCost } from '../../lib/cost/estimator';
import {
  BackupPlan, BackupTarget, Component, DataClass, DataFlow, Duration, EgressForm, Environment, ErrorMonitoringEndpoint, Heartbeat, Location, Machine, Processor, RestoreCheck, RestoreDrill, S3Provider,
  ServerType, StorageBox, StorageBoxAccount, Product, Phase, MonitoringPlan, UptimeCheck, AlertReceiver, DeadMansSwitch,
} from '../../lib';
import { PriceList } from '../../lib/cost/price-list';
import { productDiagram } from '../../lib/report/diagram';
import { renderMarkdown } from '../../lib/report/render';
import { costFigures, reportSections } from '../../lib/report/report-document';
import { reportModelOf } from '../../lib/report/report-model';
import { writeOperatorReport } from '../../lib/report/operator-report';
import { ADMIN_CIDRS, ADMIN_KEY, testStack } from '../setup/stack';
import { synthesizedBundle } from '../../testing/bundle';
import { ProductStacks } from '../../stacks';
import { Server } from '../../generated/providers/hcloud/server';
import { EXAMPLE_ADMIN, exampleBoundary } from '../../examples/shared';

const estimate = { billingDate: '2026-11-25' };
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'operator-report-'));

/** Stands for a backup plan by what the report reads: RPO, machines, targets (see lib/backup). */
class PlanLike extends Construct {
  public readonly recoveryPointObjective = Duration.hours(6);
  public readonly recoveryTimeObjective = Duration.hours(4);
  public readonly schedule = 'every 6 hours at :15 UTC';
  public readonly retention = 'keep-daily 7, keep-weekly 4';
  public readonly targets = ['Storage Box in hel1'];
  constructor(scope: Construct, id: string, public readonly machines: Machine[]) {
    super(scope, id);
  }
}

describe('the operator report of the Phase 1 example', () => {
  const app = Testing.app();
  phase1Pilot(app);
  const outdir = tmp();
  const written = writeOperatorReport(app, { outdir, estimate });

  test('writes index.md and one self-contained index.html', async () => {
    const report = await written;
    expect([report.markdownFile, report.htmlFile]).toEqual([path.join(outdir, 'index.md'), path.join(outdir, 'index.html')]);
    const html = fs.readFileSync(report.htmlFile, 'utf8');
    expect(html).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src 'none'/);
    // Nothing is fetched: no script, no stylesheet or image from elsewhere.
    expect(html).not.toMatch(/<script|<link rel="stylesheet"|src="(https?:)?\/\//);
    expect(html.match(/<svg /g)).toHaveLength(1);
  });

  test('shows the bundle version each machine is rolled out to, the one the synthesized stack carries', async () => {
    const { model, markdownFile } = await written;
    const markdown = fs.readFileSync(markdownFile, 'utf8');
    for (const stack of app.node.children.filter((c): c is TerraformStack => c instanceof TerraformStack)) {
      const json = JSON.parse(Testing.synth(stack));
      const server: any = Object.values(json.resource.hcloud_server)[0];
      const version = synthesizedBundle(json, server.name).version;
      const view = model.products[0].environments.flatMap((e) => e.machines).find((m) => m.name === server.name)!;
      expect(view.bundleVersion).toBe(version);
      expect(markdown).toContain(`${version.slice(0, 19)}…`);
    }
  });

  test('the diagram shows every machine and processor, and the flows with class and form', async () => {
    const { model, htmlFile } = await written;
    // Graphviz writes "-" in ids and labels as "&#45;".
    const html = fs.readFileSync(htmlFile, 'utf8').replace(/&#45;/g, '-');
    const machines = model.products[0].environments.flatMap((e) => e.machines.map((m) => m.name));
    expect(machines).toEqual(['phase1-pilot-test-app', 'phase1-pilot-staging-app', 'phase1-pilot-production-app']);
    for (const name of machines) expect(html).toContain(`<g id="machine-${name}" class="node">`);
    for (const id of ['processor-mistral-ai', 'processor-jina-ai', 'hetzner-backups']) expect(html).toContain(`<g id="${id}" class="node">`);
    expect(html).toContain('pseudonymized data, sent pseudonymized');
    expect(html).toContain('public data, sent raw');
  });

  // Audit (report): error monitoring declares its flow on its own construct (<stack>/Monitoring/ErrorMonitoring), for
  // the machine it names. The report showed that path as the sender and the diagram drew no arrow to GlitchTip: the
  // processor stood unconnected, as if nothing were sent there.
  test('every declared flow leaves from the machine that sends it, with its arrow in the diagram', async () => {
    const { model } = await written;
    const product = model.products[0];
    const machines = new Set(product.environments.flatMap((e) => e.machines.map((m) => m.name)));
    const glitchtip = product.flows.filter((f) => f.processor === 'GlitchTip (self-hosted)');
    expect(glitchtip.map((f) => [f.from, f.fromPath])).toEqual([
      ['phase1-pilot-test-app', 'phase1-pilot-test/Monitoring/ErrorMonitoring'],
      ['phase1-pilot-production-app', 'phase1-pilot-production/Monitoring/ErrorMonitoring'],
    ]);
    for (const f of product.flows) expect([f.from, machines.has(f.from)]).toEqual([f.from, true]);
    const dot = productDiagram(product, model.estimate);
    expect(dot).toContain('"machine-phase1-pilot-production-app" -> "processor-glitchtip-self-hosted" [label="pseudonymized data, sent pseudonymized"');
    expect(dot.match(/-> "processor-/g)).toHaveLength(product.flows.length);
  });

  test('every amount on the page is the estimator\'s', async () => {
    const { model, htmlFile } = await written;
    const html = fs.readFileSync(htmlFile, 'utf8');
    const shown = [...html.matchAll(/data-cost="([^"]+)">([^<]+)</g)].map((m) => [m[1], m[2]]);
    const figures = costFigures(model.estimate);
    expect(shown.length).toBeGreaterThan(20);
    for (const [key, text] of shown) expect([key, text]).toEqual([key, figures[key]]);
    const product = model.estimate.products[0];
    expect(figures['product.phase1-pilot.permanent']).toBe(product.permanentMonthly.toString());
    expect(figures['product.phase1-pilot.rehearsal.hourly']).toBe(product.rehearsal!.hourly.toString(4));
    expect(shown).toContainEqual(['product.phase1-pilot.permanent', '€29.80']);
    expect(shown).toContainEqual(['product.phase1-pilot.rehearsal.hourly', '€0.0144']);
  });

  test('the Markdown has the same sections and numbers, and the diagram beside it', async () => {
    const { markdownFile, diagramFiles } = await written;
    const md = fs.readFileSync(markdownFile, 'utf8');
    expect(md.match(/^#{1,3} .*/gm)).toEqual([
      "# Operator's report: phase1-pilot",
      '## phase1-pilot: Phase 1, Pre-revenue or early pilots',
      '### Environments and machines',
      '### Diagram',
      '### Data classes and the boundary',
      '### Backups and monitoring',
      '### Cost',
      '### What this phase does not build yet',
      '### Good in the first 90 days',
      '## Prices used',
    ]);
    expect(md).toMatch(/\| Hetzner server backups \| daily, in a window Hetzner picks \| 1 day \| a rebuild from the backup image/);
    expect(md).toContain('| one hour of staging (phase1-pilot-staging) | **€0.0144** |');
    expect(md).toContain('| staging left up until the reaper deletes it on 2026-12-31 (864 hours from 2026-11-25) | €8.9900 |');
    expect(md).toContain('| Kubernetes | postponed | more than 5 services that deploy independently, or more than 3 app machines to schedule | - |');
    expect(md).toContain('| yes | You have backup and restore discipline | remote backup: phase1-pilot-production/Backups; restore drill on phase1-pilot-test |');
    // The Storage Box is in the stacks now: counted in the cost, no longer "would add".
    expect(md).toContain('| Remote backup target (Storage Box) | provided | phase1-pilot-production/Backups |');
    expect(md).toContain('| phase1-pilot-production | Storage Box bx11 | Storage Box | €3.20 | €0.0051 | 2026-04-01 (low, assumed) |');
    expect(md).toMatch(/^\| Storage Box bx11 \| phase1-pilot-production \| €3\.20 \| low \| the last verified price/m);
    expect(md).not.toContain('Required by the phase but not in the stacks yet');
    expect(md).toContain('![Diagram of phase1-pilot](diagram-phase1-pilot.svg)');
    expect(fs.readFileSync(diagramFiles[0], 'utf8')).toMatch(/^<svg /);
  });
});

test("a product that rehearses on the test machine still has production's pre-release snapshots in its costs, as `cost` counts them", () => {
  // Phase 2 has no staging stack, but its release path snapshots production first (the backup plan says so): the
  // report left those snapshots out and showed a lower month than `cost --app` for the same app.
  const app = Testing.app();
  phase2PayingCustomers(app);
  const report = reportModelOf(app, { estimate }).estimate;
  const production = (e: typeof report) => e.products[0].environments.find((env) => env.environment === 'production')!;
  expect(production(report).lines.filter((l) => l.kind === 'snapshot').map((l) => l.description)).toEqual([expect.stringMatching(/^3 pre-release snapshots of phase2-paying-production-app/)]);
  expect(report.monthly.toString()).toBe(estimateCost(app, estimate).monthly.toString());
});

test('shows backup plans with RPO and RTO, and monitoring, when the tree has them', () => {
  const { app, stack } = testStack('production');
  const machine = new Machine(stack, 'App', {
    environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS, dataClasses: [DataClass.SENSITIVE],
  });
  new PlanLike(stack, 'Backups', [machine]);
  Component.declare(new Construct(stack, 'Uptime'), Component.EXTERNAL_UPTIME_CHECKS);
  const product = reportModelOf(app, { estimate }).products[0];
  expect(product.name).toBeUndefined();
  expect(product.backupFlows.map((b) => [b.from, b.to, b.rpo, b.rto, b.schedule, b.kind])).toEqual([
    ['production-app', 'Storage Box in hel1', '6 hours', '4 hours', 'every 6 hours at :15 UTC', 'backup-plan'],
    ['production-app', 'Hetzner server backups', '1 day', 'a rebuild from the backup image; not measured by the stacks', 'daily, in a window Hetzner picks', 'hetzner-backups'],
  ]);
  expect(product.monitoring).toEqual([{ component: 'external-uptime-checks', title: 'External uptime checks', required: false, providedBy: ['production/Uptime'] }]);
});

test('works for stacks without machines, backups or monitoring', async () => {
  const { app } = testStack('empty');
  const report = await writeOperatorReport(app, { outdir: tmp(), estimate });
  const md = fs.readFileSync(report.markdownFile, 'utf8');
  expect(md).toContain('No backup copies in the stacks yet.');
  expect(md).toContain('(empty: no machines)');
});

test('refuses what a JavaScript caller can pass wrong, before writing anything', async () => {
  // null crashed reading 'outdir'; a misspelt { outDir } wrote the report to ./report instead.
  const { app } = testStack('empty');
  await expect(writeOperatorReport(app, null as any)).rejects.toThrow(/^writeOperatorReport\.options: null is not allowed: the property is optional.*Fix: leave options out \(or undefined\), or pass \{ outdir: 'report' \}$/);
  await expect(writeOperatorReport(app, { outDir: tmp() } as any)).rejects.toThrow(/^writeOperatorReport\.options\.outDir: 'outDir' is not allowed: .*did you mean 'outdir'\?/);
  await expect(writeOperatorReport('app' as any)).rejects.toThrow(/^writeOperatorReport\.scope: 'app' is not allowed: it is not a construct/);
  expect(fs.existsSync('report')).toBe(false);
});

// Audit (cost): the report priced with the estimate's prices (`report --prices FILE`, or `estimate.prices`), but its
// "Prices used", its traffic lines and the Storage Box it proposes came from the bundled file: a team with prices of
// its own read the bundled date, lists and figures beside totals computed from theirs.
test('says the prices the estimate used, not the bundled ones, when given a price file of its own', () => {
  const data = JSON.parse(fs.readFileSync(path.join(__dirname, '../../lib/cost/hetzner-prices.json'), 'utf8'));
  data.takenOn = '2026-11-30';
  data.traffic.overagePerTb.eu = 2;
  data.storageBoxes.bx11.prices['2026-04-01'] = { monthly: 4.1, hourly: 0.0066 };
  const prices = PriceList.fromData(data);
  const app = Testing.app();
  phase1Pilot(app);
  // Without its backup plan, the product lacks the remote backup Phase 1 requires: the report proposes a Storage Box.
  const production = app.node.findAll().find((c) => c.node.id === 'phase1-pilot-production')!;
  expect(production.node.tryRemoveChild('Backups')).toBe(true);
  const md = renderMarkdown(reportSections(reportModelOf(app, { estimate: { ...estimate, prices } })), (p) => `diagram-${p}.svg`);
  expect(md).toContain('From your price file, taken on 2026-11-30.');
  expect(md).not.toContain('2026-09-29');
  expect(md).toContain('cx33 in fsn1: 20 TB outgoing traffic included a month, then €2.00/TB');
  expect(md).toContain('a bx11 Storage Box would add €4.10 a month (price list 2026-04-01)');
});

// Audit (report): names a team chooses reached index.md as written, and Markdown passes inline HTML through: a
// processor named with <script>, a purpose with <img onerror> or <!-- (which hides the rest of the report wherever
// the Markdown is rendered), a title with a line break that ends the heading.
describe('free text a team chooses', () => {
  const chosen = async () => {
    const { app, stack } = testStack('production');
    const processor = new Processor({
      name: 'Acme <script>alert(1)</script> AI', legalSeat: { city: 'Paris ```', country: 'FR' }, hostnames: ['api.acme.eu'], purpose: '<img src=x onerror=alert(2)> embeddings',
    });
    const machine = new Machine(stack, 'App', {
      environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS, dataClasses: [DataClass.PUBLIC],
    });
    DataFlow.declare(machine, { processor, dataClass: DataClass.PUBLIC, form: EgressForm.RAW, purpose: 'docs <!-- hidden from here on\n```' });
    return writeOperatorReport(app, { outdir: tmp(), estimate, title: 'Acme <b>bold</b>\n# not a heading' });
  };

  test('is shown as text in the Markdown, never as markup', async () => {
    const md = fs.readFileSync((await chosen()).markdownFile, 'utf8');
    // Outside the Graphviz source's code block, which Markdown shows as it is.
    const text = md.replace(/^(`{3,})dot$[\s\S]*?^\1$/gm, '');
    expect(text).not.toMatch(/<script|<img|<!--|<b>/);
    expect(md).not.toMatch(/^# not a heading/m);
    expect(md).toContain("# Operator's report: Acme &lt;b>bold&lt;/b> # not a heading");
    expect(md).toContain('| Acme &lt;script>alert(1)&lt;/script> AI | Paris ```, FR | api.acme.eu | &lt;img src=x onerror=alert(2)> embeddings |');
    expect(md).toContain('| production-app | Acme &lt;script>alert(1)&lt;/script> AI | public | raw | docs &lt;!-- hidden from here on ``` | **no** |');
    // The Graphviz source stays in one code block: its fence is longer than any run of backticks inside.
    expect(md).toMatch(/^````dot$/m);
    expect(md).toContain('## Prices used');
  });

  test('is shown as text in the HTML, the diagram\'s SVG included', async () => {
    const html = fs.readFileSync((await chosen()).htmlFile, 'utf8');
    expect(html).not.toMatch(/<script|<img|<!-- hidden|<b>/);
    expect(html).toContain('Acme &lt;script&gt;alert(1)&lt;/script&gt; AI');
  });
});

// Audit (report): every restore drill of the stacks was credited to every backup copy. A drill that restores only the
// Storage Box left the offsite bucket reading "restore drill weekly on Mon at 06:00 UTC", though no drill ever
// restored from it: the team lead read recovery from the offsite copy as proven weekly.
describe('the restore drill a backup copy is verified by', () => {
  const copies = (app: ReturnType<typeof Testing.app>) => reportModelOf(app, { estimate }).products[0].backupFlows
    .filter((b) => b.kind === 'backup-plan').map((b) => [b.to, b.verification]);

  test("is named for each copy it restores: Phase 2's drill restores the Storage Box and the offsite bucket", () => {
    const app = Testing.app();
    phase2PayingCustomers(app);
    const weekly = 'restic check daily at 05:00 UTC; restore drill weekly on Mon at 06:00 UTC on phase2-paying-test-app';
    expect(copies(app)).toEqual([['Storage Box in hel1', weekly], ['S3 bucket at Scaleway (FR)', weekly]]);
  });

  test('is not named for a copy it does not restore', () => {
    // Hand-built: production's plan copies to a Storage Box and an offsite bucket; the team's drill reads the box only.
    const app = Testing.app();
    const secret = (stack: TerraformStack, id: string) => new TerraformVariable(stack, id, { type: 'string', sensitive: true });
    const machine = (stack: TerraformStack, environment: Environment) => new Machine(stack, 'App', {
      environment, role: 'app', serverType: ServerType.CX33, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS, dataClasses: [DataClass.SENSITIVE, DataClass.SECRET],
    });
    const production = new TerraformStack(app, 'production');
    const box = new StorageBox(production, 'Box', { environment: Environment.PRODUCTION, name: 'acme-backups', location: Location.HEL1, password: secret(production, 'box_password') });
    const account = box.addSubaccount('App', { homeDirectory: 'backups/app', password: secret(production, 'box_app_password') });
    const plan = BackupPlan.phase2(production, 'Backups', {
      environment: Environment.PRODUCTION, resticPassword: secret(production, 'restic_password'), heartbeat: Heartbeat.healthchecks(secret(production, 'heartbeat_url')),
      targets: [BackupTarget.storageBox(account), BackupTarget.s3Compatible({
        provider: S3Provider.SCALEWAY, endpoint: secret(production, 's3_endpoint'), bucket: secret(production, 's3_bucket'),
        accessKeyId: secret(production, 's3_key_id'), secretAccessKey: secret(production, 's3_secret_key'),
      })],
    });
    plan.protect(machine(production, Environment.PRODUCTION));
    const test = new TerraformStack(app, 'test');
    new RestoreDrill(test, 'Drill', {
      machine: machine(test, Environment.TEST),
      source: BackupTarget.storageBox(StorageBoxAccount.fromAttributes({ host: 'u1-sub2.your-storagebox.de', username: 'u1-sub2', location: Location.HEL1, password: secret(test, 'drill_password') })),
      sourceHost: 'production-app', resticPassword: secret(test, 'restic_password'), heartbeat: Heartbeat.healthchecks(secret(test, 'drill_heartbeat_url')),
      checks: [RestoreCheck.sql('users-present', { database: 'app', query: 'SELECT count(*) > 0 FROM users' })],
    });
    expect(copies(app)).toEqual([
      ['Storage Box in hel1', 'restic check daily at 05:00 UTC; restore drill weekly on Mon at 06:00 UTC on test-app'],
      ['S3 bucket at Scaleway (FR)', 'restic check daily at 05:00 UTC; no restore drill restores this copy'],
    ]);
  });
});

// Audit (report): from Phase 2 production's backups go to an S3 bucket at Scaleway as well, a copy of every sensitive
// row and secret, encrypted by restic. The report's data classes said sensitive and secret data "never leaves the EU
// control plane" and lived only on Hetzner machines and the Storage Box: the one copy outside Hetzner was missing
// from where a team lead reads what leaves, to whom, in what form.
test('says that the classes production holds leave, encrypted, to the offsite backup copy, and live there', () => {
  const app = Testing.app();
  phase2PayingCustomers(app);
  const classes = new Map(reportModelOf(app, { estimate }).products[0].dataClasses.map((c) => [c.name, c]));
  for (const name of ['sensitive', 'secret']) {
    expect(classes.get(name)!.livesIn).toContain('S3 bucket at Scaleway (FR) (encrypted backup copy)');
    expect(classes.get(name)!.mayLeave).toBe('never leaves the EU control plane, except as backup copies encrypted on the machine (restic) to S3 bucket at Scaleway (FR)');
  }
  // Production holds no public data: nothing of it is in the copy.
  expect(classes.get('public')!.livesIn).toEqual([]);
  expect(classes.get('public')!.mayLeave).toBe('raw to Mistral AI, Jina AI, GlitchTip (self-hosted)');
  const md = renderMarkdown(reportSections(reportModelOf(app, { estimate })), (p) => `diagram-${p}.svg`);
  expect(md).toContain('| sensitive | Tenant, user, proposal and audit data; stays inside the EU control plane. | phase2-paying-test-app, phase2-paying-production-app, '
    + 'phase2-paying-production-backups, S3 bucket at Scaleway (FR) (encrypted backup copy) | never leaves the EU control plane, except as backup copies encrypted on the machine (restic) to S3 bucket at Scaleway (FR) |');
});

// Audit (report): the diagram put every machine in "EU control plane: Hetzner Cloud" and every processor under
// "External processors (EU legal seat)". A machine holding public data only may run in Ashburn, and Sentry (seated in
// San Francisco) passes with usSeatAccepted: the picture a team lead reads said EU of both.
test('says "EU" only of machines and processors that are in the EU', () => {
  const { app, stack } = testStack('production');
  const machine = new Machine(stack, 'App', {
    environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CPX21, location: Location.ASH, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS, dataClasses: [DataClass.PUBLIC],
  });
  const sentry = ErrorMonitoringEndpoint.sentryEuRegion({ ingestHostname: 'o123456.ingest.de.sentry.io', usSeatAccepted: 'events are scrubbed of personal data before they are sent' }).processor;
  DataFlow.declare(machine, { processor: sentry, dataClass: DataClass.PUBLIC, form: EgressForm.RAW, purpose: 'error events' });
  const model = reportModelOf(app, { estimate });
  const dot = productDiagram(model.products[0], model.estimate);
  expect(dot).not.toContain('EU control plane: Hetzner Cloud"');
  expect(dot).not.toContain('External processors (EU legal seat)');
  expect(dot).toContain('label="Hetzner Cloud: the EU control plane, and machines outside the EU"');
  expect(dot).toContain('production-app\\ncpx21 in ash (outside the EU):');
  expect(dot).toContain('Sentry (Functional Software, Inc.)\\nSan Francisco, US (outside the EU)\\n');
  const md = renderMarkdown(reportSections(model), (p) => `diagram-${p}.svg`);
  expect(md).toMatch(/\| production-app \| cpx21 \| [^|]+ \| ash \(outside the EU\) \|/);
  expect(md).toContain('| Sentry (Functional Software, Inc.) | San Francisco, US (outside the EU) | o123456.ingest.de.sentry.io |');
  // In the EU, as before.
  const phase1 = Testing.app();
  phase1Pilot(phase1);
  const pilot = reportModelOf(phase1, { estimate });
  const pilotDot = productDiagram(pilot.products[0], pilot.estimate);
  expect(pilotDot).toContain('label="EU control plane: Hetzner Cloud"');
  expect(pilotDot).toContain('label="External processors (EU legal seat)"');
  expect(pilotDot).not.toContain('outside the EU');
});

// Audit (report): monitoring was listed by component only ("External uptime checks: provided by
// phase1-pilot-test/Monitoring"): which URLs are watched, from which machine, and who is alerted were not in the
// report, though every one of them is built (each prober's configuration, the receivers' and the dead-man's switch's
// egress).
test('lists each uptime check the stacks run, the machine that probes it, and who is alerted', () => {
  const app = Testing.app();
  phase1Pilot(app);
  const product = reportModelOf(app, { estimate }).products[0];
  expect(product.uptimeChecks.map((c) => [c.name, c.target, c.environment, c.probedFrom, c.notify])).toEqual([
    ['pilot-example-eu-health', 'https://pilot.example.eu/health', 'production', 'phase1-pilot-test-app', ['ops (webhook to chat.example.eu)']],
    ['test-pilot-example-eu-health', 'https://test.pilot.example.eu/health', 'test', 'phase1-pilot-production-app', ['ops (webhook to chat.example.eu)']],
  ]);
  const md = renderMarkdown(reportSections(reportModelOf(app, { estimate })), (p) => `diagram-${p}.svg`);
  expect(md).toMatch(/^\| pilot-example-eu-health \| https:\/\/pilot\.example\.eu\/health \| production \| phase1-pilot-test-app \| [^|]+ \| ops \(webhook to chat\.example\.eu\) \|$/m);
  expect(md).toContain("Alerts go to ops (webhook to chat.example.eu). A prober that dies stops pinging the dead-man's switch: healthchecks.io (hc-ping.com), every 5 minutes.");
});

test("shows an uptime check's URL without its query, which may hold a key", () => {
  const app = Testing.app();
  const product = new Product({
    name: 'acme', phase: Phase.ONE, admin: EXAMPLE_ADMIN, ...exampleBoundary(), stateBucket: 'acme-terraform-state',
    monitoring: new MonitoringPlan({
      uptimeChecks: [UptimeCheck.http(Environment.PRODUCTION, 'https://acme.example.eu/health?key=k3y-0f-the-status-page#x')],
      receivers: [AlertReceiver.webhook('ops', { hostname: 'chat.example.eu' })], deadMansSwitch: DeadMansSwitch.healthchecksIo(),
    }),
  });
  new ProductStacks(app, product);
  const model = reportModelOf(app, { estimate });
  expect(model.products[0].uptimeChecks.map((c) => c.target)).toEqual(['https://acme.example.eu/health?…']);
  expect(renderMarkdown(reportSections(model), (p) => `diagram-${p}.svg`)).not.toContain('k3y-0f-the-status-page');
});

// Audit (report): a purpose given as a Terraform expression (a variable) reached the page as cdktf's internal
// placeholder, `${TfToken[TOKEN.8]}`: no Terraform a reader can look up.
test('shows text given as a Terraform expression as that expression, never as an internal token', async () => {
  const { app, stack } = testStack('production');
  const purpose = new TerraformVariable(stack, 'embedding_purpose', { type: 'string' });
  const processor = new Processor({ name: 'Acme AI', legalSeat: { city: 'Paris', country: 'FR' }, hostnames: ['api.acme.eu'], purpose: purpose.stringValue });
  const machine = new Machine(stack, 'App', {
    environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS, dataClasses: [DataClass.PUBLIC],
  });
  DataFlow.declare(machine, { processor, dataClass: DataClass.PUBLIC, form: EgressForm.RAW, purpose: purpose.stringValue });
  const report = await writeOperatorReport(app, { outdir: tmp(), estimate });
  const md = fs.readFileSync(report.markdownFile, 'utf8');
  const html = fs.readFileSync(report.htmlFile, 'utf8');
  for (const page of [md, html]) expect(page).not.toContain('TfToken');
  expect(md).toContain('| production-app | Acme AI | public | raw | ${var.embedding_purpose} (known at deploy) | **no** |');
  expect(md).toContain('| Acme AI | Paris, FR | api.acme.eu | ${var.embedding_purpose} (known at deploy) |');
});

// Audit (report): '' as outdir failed with mkdir's bare "ENOENT: no such file or directory, mkdir ''", '' as the title
// headed the page with nothing, and a title from a Terraform variable printed its placeholder.
test('refuses an empty outdir or title, or one known only at deploy, naming the option and the fix', async () => {
  const { app, stack } = testStack('empty');
  await expect(writeOperatorReport(app, { outdir: '' })).rejects.toThrow(/^writeOperatorReport\.options\.outdir: '' is not allowed: it is empty\. Fix: pass a directory such as 'report'/);
  await expect(writeOperatorReport(app, { outdir: tmp(), title: ' ' })).rejects.toThrow(/^writeOperatorReport\.options\.title: ' ' is not allowed: it is empty\. Fix: pass a title/);
  const title = new TerraformVariable(stack, 'title', { type: 'string' });
  await expect(writeOperatorReport(app, { outdir: tmp(), title: title.stringValue })).rejects.toThrow(/^writeOperatorReport\.options\.title: .* is not allowed: a Terraform token is known only at deploy/);
});

// Audit (report): the release path snapshots production before each release and `snapshot --keep 3` keeps the newest
// three; the cost section billed them ("3 pre-release snapshots of …-production-app"), but the backups section, where a
// team lead reads what copies exist, left them out.
test('lists the pre-release snapshots the cost section bills among the backup copies, with the diagram', () => {
  const snapshotRow = (app: ReturnType<typeof Testing.app>, options = {}) => {
    const model = reportModelOf(app, { estimate: { ...estimate, ...options } });
    const product = model.products[0];
    return { product, dot: productDiagram(product, model.estimate), flows: product.backupFlows.filter((b) => b.kind === 'pre-release-snapshots') };
  };
  const pilot = Testing.app();
  phase1Pilot(pilot);
  const phase1 = snapshotRow(pilot, { preReleaseSnapshotsKept: 5 });
  expect(phase1.flows.map((b) => [b.from, b.to, b.schedule, b.retention, b.verification])).toEqual([[
    'phase1-pilot-production-app', 'Hetzner snapshots', 'before each release (the release path)',
    'the newest 5 (snapshot --keep 5); kept until deleted, also when the server is; volumes not included', 'staging is built from the newest for each rehearsal',
  ]]);
  expect(phase1.dot).toContain('"machine-phase1-pilot-production-app" -> "hetzner-snapshots" [label="before each release", style=dashed];');
  const paying = Testing.app();
  phase2PayingCustomers(paying);
  expect(snapshotRow(paying).flows.map((b) => [b.from, b.verification])).toEqual([['phase2-paying-production-app', 'none by the stacks (no staging is built from them)']]);
  // Stacks the release path does not snapshot have none.
  const { app, stack } = testStack('production');
  new Machine(stack, 'App', { environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS });
  expect(snapshotRow(app).flows).toEqual([]);
});

// Audit (report): the legend said "dashed purple arrows are backup copies", but the arrows to Hetzner's server backups
// are dashed and grey: a reader matching colours found production's daily backups unexplained.
test("the diagram's legend names the colour of every kind of backup arrow it draws", () => {
  const app = Testing.app();
  phase1Pilot(app);
  const model = reportModelOf(app, { estimate });
  const dot = productDiagram(model.products[0], model.estimate);
  const dashed = dot.split('\n').filter((l) => l.includes('style=dashed'));
  expect(dashed.filter((l) => l.includes('color="#6a1b9a"')).map((l) => /-> "([^"]+)"/.exec(l)![1])).toEqual(['store-phase1-pilot-production-phase1-pilot-production-backups']);
  expect(dashed.filter((l) => !l.includes('color=')).map((l) => /-> "([^"]+)"/.exec(l)![1])).toEqual(['hetzner-backups', 'hetzner-snapshots']);
  const md = renderMarkdown(reportSections(model), (p) => `diagram-${p}.svg`);
  expect(md).toContain("dashed arrows are backup copies: purple ones the backup plan's, grey ones Hetzner's server backups and snapshots.");
});

// Audit (report): a team lead reads the report to know when recovery was last proven. Written from the code, it
// cannot know; it said nothing of it, not even where to look, nor (with no drill at all) that recovery is unproven.
test('says where the last proof of recovery is, or that there is none', () => {
  const app = Testing.app();
  phase1Pilot(app);
  const md = renderMarkdown(reportSections(reportModelOf(app, { estimate })), (p) => `diagram-${p}.svg`);
  expect(md).toContain('When recovery was last proven is not known to this report, which is written from the code: the restore drill on phase1-pilot-test-app '
    + '(weekly on Mon at 06:00 UTC) reports each run to its heartbeat check, and its prober alerts RestoreDrillFailed when a run fails and RestoreDrillMissed when none finished within 180 hours 15 minutes.');
  const { app: bare, stack } = testStack('production');
  new Machine(stack, 'App', { environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS });
  const bareMd = renderMarkdown(reportSections(reportModelOf(bare, { estimate })), (p) => `diagram-${p}.svg`);
  expect(bareMd).toContain('No restore drill in the stacks: recovery from these copies is not proven.');
});

// Audit (report): a server the team builds without Machine (the generated bindings' Server, a bastion say) was billed
// in the cost section but missing from "Environments and machines", the diagram and where data lives: the report
// showed one machine in a stack that runs two.
test('shows a server not built with Machine, and the data the boundary judges it to hold', () => {
  const { app, stack } = testStack('production');
  new Machine(stack, 'App', { environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS, dataClasses: [DataClass.PUBLIC] });
  new Server(stack, 'Bastion', { name: 'production-bastion', serverType: 'cx23', image: 'debian-12', location: 'fsn1' });
  const model = reportModelOf(app, { estimate });
  const product = model.products[0];
  expect(model.estimate.products[0].environments[0].lines.filter((l) => l.kind === 'server').map((l) => l.description)).toEqual(['cx33 in fsn1', 'cx23 in fsn1']);
  expect(product.environments[0].stores.map((s) => [s.name, s.kind, s.detail, s.location, s.dataClasses])).toEqual([
    ['production-bastion', 'server', 'cx23, not built with Machine, declaring no data classes (judged sensitive)', 'fsn1', ['sensitive']],
  ]);
  expect(product.dataClasses.find((c) => c.name === 'sensitive')!.livesIn).toEqual(['production-bastion']);
  expect(productDiagram(product, model.estimate)).toMatch(/"store-production-production-bastion" \[id="store-production-production-bastion", shape=box, label="production-bastion\\nserver cx23, not built with Machine/);
});
