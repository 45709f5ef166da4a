import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdktf';
import { runCli } from '../../cli/run-cli';
import { phase1Pilot } from '../../examples/phase1-pilot';
import { HcloudApiStandIn } from '../environments/hcloud-api-stand-in';
import { cli, deployEnvironment, NO_ACCOUNT_HOME } from './cli';

// Audit (cli): every command but check, guard and init took any option it did not know, and ignored it. A typo
// changed what ran: `release --dryrun` deployed for real, `staging delete-expired --yes=false` deleted, `cost --jsn`
// printed text to a JSON parser. Each command now refuses what it does not take, naming the option it is closest to.

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-options-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function synthesized(): string {
  const outdir = fs.mkdtempSync(path.join(work, 'out-'));
  const app = new App({ outdir });
  phase1Pilot(app);
  app.synth();
  return outdir;
}

describe('release refuses an option it does not take, before running anything', () => {
  const outdir = synthesized();

  /** Runs release with an `npx` on PATH that logs each call: whether anything ran is whether the log exists. */
  async function release(extra: string[]) {
    const bin = fs.mkdtempSync(path.join(work, 'npx-'));
    const log = path.join(bin, 'calls.log');
    fs.writeFileSync(path.join(bin, 'npx'), `#!/bin/sh\necho "$*" >> "${log}"\ncase "$2" in snapshot) echo 4242;; esac\n`, { mode: 0o755 });
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['release', '--product', 'phase1-pilot', '--out', outdir, ...extra],
      { ...NO_ACCOUNT_HOME, env: { ...deployEnvironment(outdir), PATH: `${bin}:${process.env.PATH}` }, out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out: out.join('\n'), err: err.join('\n'), ran: fs.existsSync(log) };
  }

  test.each([
    [['--rehearse', 'true', '--dryrun'], /unknown option '--dryrun' for release \(did you mean --dry-run\?\)\. Fix: pass --dry-run, or see `cdktf-sovereign-hetzner help release`/],
    [['--rehearse', 'true', '--dry_run'], /unknown option '--dry_run' for release \(did you mean --dry-run\?\)/],
    [['--rehearse', 'true', '--no-snapshots'], /unknown option '--no-snapshots' for release \(did you mean --no-snapshot\?\)/],
    [['--rehearse', 'true', '--dry-run=false'], /--dry-run takes no value \('--dry-run=false'\)/],
    // The rehearsal's command left out: the next option became it, and test was deployed before it failed.
    [['--rehearse', '--dry-run'], /--rehearse needs a value, but the option --dry-run follows it\. Fix: see `cdktf-sovereign-hetzner help release`/],
    [['--rehearse', 'true', 'production'], /unexpected argument 'production' for release: it takes only options/],
  ])('%j', async (extra, message) => {
    const { code, err, ran } = await release(extra);
    expect({ code, ran }).toEqual({ code: 2, ran: false });
    expect(err).toMatch(message);
  });

  test('a required option left out names the command whose help lists it', async () => {
    const { code, err } = await cli(['release', '--out', outdir, '--rehearse', 'true', '--dry-run']);
    expect(code).toBe(2);
    expect(err).toBe('error: --product is required. Fix: see `cdktf-sovereign-hetzner help release`.');
  });

  test('the options it takes still run it', async () => {
    const { code, ran } = await release(['--rehearse', 'true', '--no-snapshot', '--staging-days=2', '--now', '2026-11-25T09:00:00Z']);
    expect({ code, ran }).toEqual({ code: 0, ran: true });
    expect((await release(['--rehearse', 'true', '--dry-run'])).ran).toBe(false);
  });
});

describe('the Hetzner commands refuse an option they do not take, before any request', () => {
  let api: HcloudApiStandIn;
  let endpoint: string;
  beforeEach(async () => {
    api = new HcloudApiStandIn({
      servers: [
        { id: 1, name: 'acme-staging-app', labels: { 'environment': 'staging', 'lifecycle': 'on-demand', 'purpose': 'release-rehearsal', 'expires-at': '2026-11-20' } },
        { id: 2, name: 'acme-production-app', labels: { environment: 'production' } },
      ],
      images: [], load_balancers: [], volumes: [], primary_ips: [], floating_ips: [], firewalls: [], networks: [], ssh_keys: [], placement_groups: [],
    });
    endpoint = await api.start();
  });
  afterEach(() => api.stop());
  const run = (args: string[]) => cli(args, { HCLOUD_TOKEN: 'test-token', HCLOUD_ENDPOINT: endpoint });

  test.each([
    [['staging', 'delete-expired', '--yes=false', '--now', '2026-11-25T12:00:00Z'], /--yes takes no value \('--yes=false'\)/],
    [['staging', 'delete-expired', '--yess', '--now', '2026-11-25T12:00:00Z'], /unknown option '--yess' for staging delete-expired \(did you mean --yes\?\)/],
    [['staging', 'list', '--now', '2026-11-25T12:00:00Z', '--json'], /unknown option '--json' for staging list\. Fix: see `cdktf-sovereign-hetzner help staging list`/],
    [['snapshot', '--server', 'acme-production-app', '--kep', '1'], /unknown option '--kep' for snapshot \(did you mean --keep\?\)/],
  ])('%j', async (args, message) => {
    const { code, err } = await run(args);
    expect(code).toBe(2);
    expect(err).toMatch(message);
    expect(api.requests).toEqual([]);
    expect(api.deleted).toEqual([]);
  });

  test('staging without a command names its commands, with exit 2', async () => {
    const { code, err } = await run(['staging']);
    expect(code).toBe(2);
    expect(err).toMatch(/^error: staging takes a command: list, delete-expired, claim or unclaim\. Fix: .*staging list/);
    expect(api.requests).toEqual([]);
  });
});

describe('cost, report, check and guard refuse what they do not take', () => {
  const outdir = synthesized();

  test('cost --jsn fails instead of printing text where JSON was asked for', async () => {
    const { code, out, err } = await cli(['cost', '--out', outdir, '--jsn']);
    expect({ code, out }).toEqual({ code: 2, out: '' });
    expect(err).toMatch(/unknown option '--jsn' for cost \(did you mean --json\?\)/);
    expect(await cli(['cost', '--out', outdir, '--json=false'])).toMatchObject({ code: 2, err: expect.stringMatching(/--json takes no value/) });
    expect(JSON.parse((await cli(['cost', '--out', outdir, '--json'])).out).monthly).toEqual(expect.any(Number));
  });

  test('report --too fails instead of writing the report into ./report', async () => {
    const { code, err } = await cli(['report', '--app', path.join(work, 'none.js'), '--too', path.join(work, 'report')]);
    expect(code).toBe(2);
    expect(err).toMatch(/unknown option '--too' for report \(did you mean --to\?\)/);
  });

  test('check and guard take --out=DIR as cost and release do, and name the closest option of a typo', async () => {
    const { code, err } = await cli(['check', 'phase1-pilot-production', `--out=${outdir}`, '--plan']);
    expect(code).toBe(1);
    expect(err).toMatch(/^Missing for phase1-pilot-production/m);
    expect((await cli(['check', '--out', outdir, '--plna'])).err).toMatch(/unknown option '--plna' for check \(did you mean --plan\?\)/);
    expect((await cli(['guard', 'phase1-pilot-production', '--out', outdir, '--print-plan=yes'])).err).toMatch(/--print-plan takes no value/);
  });

  test('an option before the command is refused with exit 2, not answered with the usage and exit 0', async () => {
    for (const args of [['--version'], ['--out', outdir, 'check']]) {
      const { code, out, err } = await cli(args);
      expect({ code, out }).toEqual({ code: 2, out: '' });
      expect(err).toMatch(new RegExp(`^error: unknown option '${args[0]}': the command comes first`));
    }
    expect((await cli(['--help'])).code).toBe(0);
  });
});
