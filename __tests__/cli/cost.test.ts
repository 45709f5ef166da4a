import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdktf';
import { phase1Pilot } from '../../examples/phase1-pilot';
import { cli } from './cli';

const EXAMPLES_MODULE = path.resolve(__dirname, '..', '..', 'examples', 'index.ts');

describe('cdktf-sovereign-hetzner cost', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cost-cli-'));
  const app = new App({ outdir });
  phase1Pilot(app);
  app.synth();
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  test('prints the cost of the synthesized stacks: per resource, environment, product, phase and app', async () => {
    const { code, out } = await cli(['cost', '--out', outdir, '--billing-date', '2026-11-25']);
    expect(code).toBe(0);
    const text = out.split('\n').map((l) => l.replace(/\s+/g, ' ').trim());
    expect(text[0]).toBe("Hetzner net list prices in EUR (excluding VAT), taken on 2026-09-29, for 2026-11-25.");
    expect(text).toEqual(expect.arrayContaining([
      'phase1-pilot (Phase 1) a month an hour',
      'phase1-pilot-test (test, always on) €5.99 €0.0096',
      'cx23 in fsn1 €5.49 €0.0088',
      'phase1-pilot-production (production, always on) €17.32 €0.0222',
      // Audit (cost): the on-demand stack's row read "(staging, on demand) €8.99" in the "a month" column, a month it
      // does not cost (its rehearsals cost €0.12): the row now says the figure is for staging kept up all month.
      'phase1-pilot-staging (staging, on demand; if kept up all month) €8.99 €0.0144',
      'Storage Box bx11 [low, assumed] €3.20 €0.0051',
      'Hetzner backups of the cx33 (20% of its price) €1.70 €0.0027',
      "3 pre-release snapshots of phase1-pilot-production-app (snapshot --keep 3 on the release path), each at most 80 GB (the cx33's disk, an upper bound) at €0.0143/GB-month €3.43 -",
      'shared: Object Storage base price: Terraform state in bucket pilot-terraform-state (per Hetzner account, 1 TB included) €6.49',
      'always-on environments and shared costs €29.80',
      'staging on demand: €0.0144 an hour; one rehearsal of 2 hours €0.0288; 4 a month €0.12',
      // Audit (cost): what a rehearsal left up costs until the reaper deletes it on its expiry day (each line capped at its month).
      'staging left up until the reaper deletes it on 2026-12-31 (864 hours from 2026-11-25): €8.9900',
      'three permanent environments €38.79 a month; test always on and staging on demand €29.92; on-demand staging saves €8.87',
      'Phase 1 (phase1-pilot) €29.92',
      'Whole app, a month €29.92',
    ]));
    expect(out).toMatch(/Prices to verify:\n {2}Storage Box bx11 \(phase1-pilot-production\): €3\.20, low confidence/);
    expect(out).toMatch(/^ {2}Object Storage base price.*\(phase1-pilot\): €6\.49, medium confidence/m);
  });

  test('prices only the stacks of the last synth: a stack directory left by an earlier synth is not counted again', async () => {
    const stale = fs.mkdtempSync(path.join(os.tmpdir(), 'cost-stale-'));
    try {
      fs.cpSync(outdir, stale, { recursive: true });
      // An earlier synth's stack under another name (a renamed product, a staging expiry since dropped): cdktf leaves it.
      fs.cpSync(path.join(stale, 'stacks', 'phase1-pilot-production'), path.join(stale, 'stacks', 'acme-production'), { recursive: true });
      const whole = async (dir: string) => (await cli(['cost', '--out', dir, '--billing-date', '2026-11-25'])).out.split('\n').find((l) => l.startsWith('Whole app'));
      expect(await whole(stale)).toBe(await whole(outdir));
      const check = await cli(['check', 'acme-production', '--out', stale]);
      expect(check.code).not.toBe(0);
      expect(check.err).toMatch(/no synthesized stack named 'acme-production'/);
    } finally {
      fs.rmSync(stale, { recursive: true, force: true });
    }
  });

  test('--json gives the same estimate, machine-readable, in exact euros', async () => {
    const { code, out } = await cli(['cost', '--out', outdir, '--billing-date', '2026-11-25', '--json', '--rehearsal-hours', '1.5', '--rehearsals', '8']);
    expect(code).toBe(0);
    const estimate = JSON.parse(out);
    expect(estimate.products[0]).toMatchObject({ product: 'phase1-pilot', phase: 1, permanentMonthly: 29.8 });
    expect(estimate.products[0].rehearsal).toMatchObject({ billedHours: 2, each: 0.0288, perMonth: 8, monthly: 0.2304 });
    // Audit (cost): the JSON's amounts were bare numbers, with nothing saying they are net EUR, excluding VAT.
    expect(estimate).toMatchObject({ currency: 'EUR', priceBasis: 'net list prices, excluding VAT; server prices exclude the primary IPv4' });
  });

  test('builds the app from a module, and prices existing servers at the price they were ordered at', async () => {
    const { code, out } = await cli(['cost', '--app', EXAMPLES_MODULE, '--export', 'EXAMPLES', '--only', 'phase1-pilot',
      '--billing-date', '2026-11-25', '--ordered-on', 'phase1-pilot-production=2026-05-01', '--no-state-storage']);
    expect(code).toBe(0);
    expect(out).toMatch(/^ +cx33 in fsn1 +€8\.49/m);
    expect(out).toMatch(/^ +cx33 in fsn1 +€6\.49/m);
    expect(out).toMatch(/^ {2}always-on environments and shared costs +€20\.91$/m);
  });

  test('--snapshots-kept counts as many pre-release snapshots of production as snapshot --keep keeps', async () => {
    const row = async (...flags: string[]) => (await cli(['cost', '--out', outdir, '--billing-date', '2026-11-25', ...flags])).out
      .split('\n').map((l) => l.replace(/\s+/g, ' ').trim()).filter((l) => /pre-release snapshots? of|^Whole app/.test(l));
    expect(await row('--snapshots-kept', '1')).toEqual([
      "1 pre-release snapshot of phase1-pilot-production-app (snapshot --keep 1 on the release path), each at most 80 GB (the cx33's disk, an upper bound) at €0.0143/GB-month €1.14 -",
      // €29.9152 with three kept, less two of 80 GB at €0.0143
      'Whole app, a month €27.63',
    ]);
    expect(await cli(['cost', '--out', outdir, '--snapshots-kept', '0'])).toMatchObject({ code: 2, err: expect.stringMatching(/--snapshots-kept 0 is not allowed: .*Fix: pass a whole number from 1 to 50, as given to --keep/) });
  });

  // --egress-tb 21 was read as 21 TiB (23.09 TB) and priced a TiB above the 20 TiB allowance, where 21 TB is 19.10 TiB,
  // within it; the lines wrote TB of TiB figures. The flag is TB now, the allowance and the overage TiB, as Hetzner's API counts them.
  test('--egress-tb is TB (10^12 bytes), held against the allowance in TiB', async () => {
    const traffic = async (tb: string) => (await cli(['cost', '--out', outdir, '--billing-date', '2026-11-25', '--egress-tb', tb])).out
      .split('\n').map((l) => l.replace(/\s+/g, ' ').trim()).filter((l) => l.startsWith('outgoing traffic'));
    expect(await traffic('21')).toEqual([]);
    // 23 TB is 20.92 TiB: 0.92 TiB above the allowance, for each of the three servers.
    expect(await traffic('23')).toEqual([
      'outgoing traffic of the cx23 above its 20 TiB: 0.92 TiB at €1.00/TiB €0.92 -',
      'outgoing traffic of the cx33 above its 20 TiB: 0.92 TiB at €1.00/TiB €0.92 -',
      'outgoing traffic of the cx33 above its 20 TiB: 0.92 TiB at €1.00/TiB €0.92 -',
    ]);
  });

  test('fails clearly on bad input', async () => {
    expect(await cli(['cost', '--app', EXAMPLES_MODULE, '--export', 'EXAMPLES', '--only', 'phase9'])).toMatchObject({
      code: 1, err: expect.stringMatching(/^error: --only phase9: no such definition\. Fix: use one of phase1-pilot, phase2-paying-customers, phase3-traction\.$/),
    });
    expect(await cli(['cost', '--out', outdir, '--rehearsal-hours', '0'])).toMatchObject({ code: 2, err: expect.stringMatching(/--rehearsal-hours 0 is not allowed/) });
    expect(await cli(['cost', '--out', outdir, '--rehearsals', '0x10'])).toMatchObject({ code: 2, err: expect.stringMatching(/--rehearsals 0x10 is not allowed: it is a whole number of rehearsals a month, from 0 to 744/) });
    // Audit (usage errors): these passed the CLI and were refused by the estimator, as a failed run (exit 1) naming
    // CostEstimate's options instead of the flag.
    for (const rehearsals of ['2.5', '745']) {
      expect(await cli(['cost', '--out', outdir, '--rehearsals', rehearsals])).toEqual({ code: 2, out: '',
        err: `error: --rehearsals ${rehearsals} is not allowed: it is a whole number of rehearsals a month, from 0 to 744 (one release holds staging at a time, `
          + 'each billed an hour at least). Fix: pass a whole number such as 4.' });
    }
    // A length past what a price counts (Money.times.factor: Infinity) failed as a run, too.
    for (const hours of ['0.001', '744.5', `1${'0'.repeat(306)}`]) {
      expect(await cli(['cost', '--out', outdir, '--rehearsal-hours', hours])).toEqual({ code: 2, out: '',
        err: `error: --rehearsal-hours ${hours} is not allowed: a rehearsal lasts a minute at least, and at most a month (744 hours). Fix: pass the hours staging is up, such as 2.` });
    }
    // Each was held to a month, not the two together: 744 rehearsals of 744 hours priced staging up 744 months a month.
    expect(await cli(['cost', '--out', outdir, '--rehearsals', '744', '--rehearsal-hours', '744'])).toEqual({ code: 2, out: '',
      err: 'error: --rehearsals 744 and --rehearsal-hours 744 are not allowed together: staging, held by one release at a time, is up 553536 hours a month by them, '
        + 'and a month has 744 at most. Fix: pass fewer rehearsals or shorter ones (rehearsals times hours at most 744).' });
    // The estimator's defaults (4 rehearsals, 2 hours) count when one flag is left out.
    expect(await cli(['cost', '--out', outdir, '--rehearsal-hours', '187'])).toMatchObject({ code: 2, err: expect.stringMatching(/^error: --rehearsals 4 and --rehearsal-hours 187 are not allowed together/) });
    expect(await cli(['cost', '--out', outdir, '--rehearsals', '373'])).toMatchObject({ code: 2, err: expect.stringMatching(/^error: --rehearsals 373 and --rehearsal-hours 2 are not allowed together/) });
    expect(await cli(['cost', '--out', outdir, '--rehearsals', '372', '--rehearsal-hours', '2'])).toMatchObject({ code: 0 });
    // Unbounded, a 307-digit TB became an infinite Size, refused by the library as a run (exit 1) naming Size.gibibytes.
    for (const tb of ['1000000.5', `1${'0'.repeat(306)}`]) {
      expect(await cli(['cost', '--out', outdir, '--egress-tb', tb])).toEqual({ code: 2, out: '',
        err: `error: --egress-tb ${tb} is not allowed: it is the TB one server sends a month, at most 1000000 (far past what any server's link carries). Fix: pass the TB a server sends a month, such as 2.` });
    }
    expect(await cli(['cost', '--out', outdir, '--egress-tb', '1000000'])).toMatchObject({ code: 0 });
    expect(await cli(['cost', '--out', outdir, '--ordered-on', 'phase1-pilot-production=2026-13-01'])).toEqual({ code: 2, out: '',
      err: 'error: --ordered-on phase1-pilot-production=2026-13-01 is not allowed: 2026-13-01 is not a date. Fix: write it as YYYY-MM-DD, such as phase1-pilot-production=2026-05-01.' });
    expect(await cli(['cost', '--out', outdir, '--ordered-on', 'phase1-pilot-production'])).toMatchObject({ code: 2, err: expect.stringMatching(/--ordered-on phase1-pilot-production is not allowed: it is STACK=YYYY-MM-DD/) });
    // A stack that is none was left to the estimator, which failed as a run (exit 1) naming CostEstimate.serversOrderedOn.
    expect(await cli(['cost', '--out', outdir, '--ordered-on', 'phase1-pilot-prod=2026-05-01'])).toEqual({ code: 2, out: '',
      err: expect.stringMatching(/^error: --ordered-on phase1-pilot-prod=2026-05-01 is not allowed: there is no stack phase1-pilot-prod \(the stacks are [^)]*phase1-pilot-production[^)]*\)\. Fix: name one of them, such as [a-z0-9-]+=2026-05-01\.$/) });
    // The same from the app's tree (--app), whose stacks are known once it is built.
    expect(await cli(['cost', '--app', EXAMPLES_MODULE, '--export', 'EXAMPLES', '--only', 'phase1-pilot', '--ordered-on', 'phase1-pilot-prod=2026-05-01'])).toEqual({ code: 2, out: '',
      err: expect.stringMatching(/^error: --ordered-on phase1-pilot-prod=2026-05-01 is not allowed: there is no stack phase1-pilot-prod \(the stacks are [^)]*phase1-pilot-production[^)]*\)/) });
    expect(await cli(['cost', '--out', path.join(outdir, 'nowhere')])).toMatchObject({ code: 1, err: expect.stringMatching(/stacks not found\. Fix: synthesize the app first/) });
  });

  test('names a resource without a known price and fails', async () => {
    const broken = fs.mkdtempSync(path.join(os.tmpdir(), 'cost-cli-broken-'));
    fs.cpSync(outdir, broken, { recursive: true });
    const file = path.join(broken, 'stacks', 'phase1-pilot-test', 'cdk.tf.json');
    const tf = JSON.parse(fs.readFileSync(file, 'utf8'));
    tf.resource.hcloud_zone = { Dns: { name: 'example.eu', mode: 'primary', '//': { metadata: { path: 'phase1-pilot-test/Dns' } } } };
    fs.writeFileSync(file, JSON.stringify(tf));
    const { code, err } = await cli(['cost', '--out', broken]);
    expect(code).toBe(1);
    expect(err).toMatch(/phase1-pilot-test\/Dns \(hcloud_zone\.Dns\): resource type 'hcloud_zone' has no known price/);
    // The fix is a price file of the team's own, never an edit inside node_modules.
    expect(err).toMatch(/Fix: copy the bundled price file .* into your repository, add its price there .* and pass it: `cost --prices <file>`/);
    const prices = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', 'lib', 'cost', 'hetzner-prices.json'), 'utf8'));
    prices.freeResourceTypes.hcloud_zone = { basis: 'DNS zones are free (a team\'s own entry)', sources: ['API_SEED_2026_09_29'] };
    const own = path.join(broken, 'prices.json');
    fs.writeFileSync(own, JSON.stringify(prices));
    const fixed = await cli(['cost', '--out', broken, '--prices', own]);
    expect(fixed.err).toBe('');
    expect(fixed.code).toBe(0);
    const missing = await cli(['cost', '--out', broken, '--prices', path.join(broken, 'nope.json')]);
    expect(missing.err).toMatch(/--prices .*nope\.json: no such file\. Fix: copy the bundled price file/);
    fs.rmSync(broken, { recursive: true, force: true });
  });

  test('help lists the cost and report commands', async () => {
    const { code, out } = await cli(['help']);
    expect(code).toBe(0);
    expect(out).toMatch(/^ {2}cdktf-sovereign-hetzner cost \[--out DIR/m);
    expect(out).toMatch(/^ {2}cdktf-sovereign-hetzner report --app MODULE/m);
  });
});

test('cost says what on-demand staging costs more, when its rehearsals cost more than a permanent staging', async () => {
  // 744 hours of staging at most (one release holds it at a time), but each rehearsal of 90 minutes is billed two hours.
  const { code, out } = await cli(['cost', '--app', EXAMPLES_MODULE, '--export', 'EXAMPLES', '--only', 'phase1-pilot', '--billing-date', '2026-11-25', '--rehearsal-hours', '1.5', '--rehearsals', '496']);
  expect(code).toBe(0);
  expect(out.replace(/\s+/g, ' ')).toContain('three permanent environments €38.79 a month; test always on and staging on demand €44.08; on-demand staging costs €5.29 more');
});
