import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdktf';
import { runCli } from '../../cli/run-cli';
import { phase1Pilot } from '../../examples/phase1-pilot';
import { phase2PayingCustomers } from '../../examples/phase2-paying-customers';
import { EXAMPLE_ADMIN, exampleBackup, exampleBoundary, exampleMonitoring, STAGING_EXPIRES_AT } from '../../examples/shared';
import { Phase, Product, StagingMode } from '../../lib';
import { ProductStacks } from '../../stacks';
import { cliProcess, deployEnvironment, NO_ACCOUNT_HOME, ownPasswdViewAvailable, sameRelease } from './cli';
import { testWhereHostHas } from '../setup/real-parts';
import { STAND_IN_TOKEN } from '../../testing/harness/stand-in-names';
import { STAND_IN_STEPS } from '../../cli/production-project';
import { loopbackOnlyFetch } from '../setup/loopback-only-fetch';

function synthesized(define: (app: App) => unknown): string {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'release-'));
  const app = new App({ outdir });
  define(app);
  app.synth();
  return outdir;
}

async function release(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['release', ...args], { ...NO_ACCOUNT_HOME, env: {}, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: sameRelease(out.join('\n')), err: err.join('\n') };
}

describe('cdktf-sovereign-hetzner release --dry-run', () => {
  const phase1 = synthesized(phase1Pilot);

  test('prints the exact release path: test, snapshot, staging up, rehearse, staging down, production', async () => {
    const { code, out } = await release(['--product', 'phase1-pilot', '--out', phase1, '--rehearse', 'npm run e2e -- --env staging', '--dry-run', '--now', '2026-11-25T09:00:00Z']);
    expect(code).toBe(0);
    const commands = out.split('\n').filter((l) => !l.startsWith('#'));
    expect(commands).toEqual([
      `npx cdktf-sovereign-hetzner guard phase1-pilot-production --out ${phase1}`,
      'npx cdktf deploy phase1-pilot-test --auto-approve',
      "SNAPSHOT_ID=$(npx cdktf-sovereign-hetzner snapshot --server phase1-pilot-production-app --description 'pre-release 2026-11-25')",
      'npx cdktf-sovereign-hetzner staging claim --stack phase1-pilot-staging --release RELEASE_ID --expires-at 2026-11-28',
      'STAGING_EXPIRES_AT=2026-11-28 npx cdktf deploy phase1-pilot-staging --auto-approve --var=staging_image=${SNAPSHOT_ID} --outputs-file $TMP/release-RELEASE_ID-outputs.json',
      "STAGING_EXPIRES_AT=2026-11-28 REHEARSAL_OUTPUTS=$TMP/release-RELEASE_ID-outputs.json sh -c 'npm run e2e -- --env staging'",
      'STAGING_EXPIRES_AT=2026-11-28 npx cdktf destroy phase1-pilot-staging --auto-approve',
      'npx cdktf-sovereign-hetzner staging unclaim --stack phase1-pilot-staging --release RELEASE_ID',
      'npx cdktf deploy phase1-pilot-production --auto-approve',
    ]);
    expect(out).toMatch(/# 1\. guard production's plan \(it deletes nothing protected\)\n/);
    expect(out).toMatch(/# 7\. take staging down \(also runs if the rehearsal fails\)/);
    expect(out).toMatch(/# 8\. give up the claim on staging \(also runs if the rehearsal fails\)/);
  });

  test('refuses to rehearse on the test machine when the product stages on its own server but the synth had no staging expiry', async () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'release-no-expiry-'));
    fs.cpSync(phase1, outdir, { recursive: true });
    // What an app that reads STAGING_EXPIRES_AT synthesizes without it: the product's environments, no staging stack.
    const file = path.join(outdir, 'products', 'phase1-pilot', 'environments.json');
    const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    fs.writeFileSync(file, JSON.stringify({ ...doc, environments: doc.environments.filter((e: { environment: string }) => e.environment !== 'staging') }));
    const { code, err, out } = await release(['--product', 'phase1-pilot', '--out', outdir, '--rehearse', 'make smoke', '--dry-run']);
    expect(code).not.toBe(0);
    expect(err).toMatch(/phase1-pilot stages on a server of its own \(StagingMode\.fromProductionSnapshot\(\)\), but .* has no staging stack.*Fix: synthesize with one \(STAGING_EXPIRES_AT=YYYY-MM-DD npm run synth/);
    expect(out).not.toMatch(/rehearse on the test machine/);
    fs.rmSync(outdir, { recursive: true, force: true });
  });

  test('staging lives at least the days asked for: the expiry is the day after, since the reaper deletes from its start (UTC)', async () => {
    const { out } = await release(['--product', 'phase1-pilot', '--out', phase1, '--rehearse', 'make smoke', '--dry-run', '--staging-days', '1', '--now', '2026-11-25T23:59:00Z']);
    expect(out).toMatch(/^STAGING_EXPIRES_AT=2026-11-27 npx cdktf deploy phase1-pilot-staging/m);
  });

  test('without a snapshot, staging is built from the base image', async () => {
    const { out } = await release(['--product', 'phase1-pilot', '--out', phase1, '--rehearse', 'make smoke', '--dry-run', '--no-snapshot', '--now', '2026-11-25T09:00:00Z']);
    expect(out).not.toMatch(/snapshot --server/);
    expect(out).toMatch(/^STAGING_EXPIRES_AT=2026-11-28 npx cdktf deploy phase1-pilot-staging --auto-approve --outputs-file \$TMP\/release-RELEASE_ID-outputs\.json$/m);
    expect(out).toMatch(/^STAGING_EXPIRES_AT=2026-11-28 REHEARSAL_OUTPUTS=\$TMP\/release-RELEASE_ID-outputs\.json sh -c 'make smoke'$/m);
  });

  test('a product whose staging reuses the test machine rehearses there, with no staging stack', async () => {
    const outdir = synthesized(phase2PayingCustomers);
    const { out } = await release(['--product', 'phase2-paying', '--out', outdir, '--rehearse', 'make smoke', '--dry-run']);
    expect(out.split('\n').filter((l) => !l.startsWith('#'))).toEqual([
      `npx cdktf-sovereign-hetzner guard phase2-paying-production --out ${outdir}`,
      'npx cdktf deploy phase2-paying-test --auto-approve --outputs-file $TMP/release-RELEASE_ID-outputs.json',
      expect.stringMatching(/^SNAPSHOT_ID=\$\(npx cdktf-sovereign-hetzner snapshot --server phase2-paying-production-app --description 'pre-release \d{4}-\d{2}-\d{2}'\)$/),
      "REHEARSAL_OUTPUTS=$TMP/release-RELEASE_ID-outputs.json sh -c 'make smoke'",
      'npx cdktf deploy phase2-paying-production --auto-approve',
    ]);
    expect(out).toMatch(/rehearse on the test machine \(staging reuses it\)/);
    expect(out).toMatch(/snapshot production \(pre-release backup\)$/m);
  });

  test('fails clearly when the product was not synthesized', async () => {
    const { code, err } = await release(['--product', 'nope', '--out', phase1, '--rehearse', 'make smoke', '--dry-run']);
    expect(code).toBe(1);
    expect(err).toMatch(/products\/nope\/environments\.json not found\. Fix: run `npm run synth` first/);
  });

  test.each([[[]], [['--dry-run']], [['--dry-run', '--rehearse', ' ']]])('refuses to plan a release without a rehearsal: %j', async (extra) => {
    const { code, err } = await release(['--product', 'phase1-pilot', '--out', phase1, ...extra]);
    expect(code).toBe(2);
    expect(err).toMatch(/--rehearse "COMMAND" is required: a release is rehearsed before production\. Fix: pass the command that tests staging/);
  });

  test.each([['0'], ['15'], ['two']])('fails when --staging-days is %p', async (days) => {
    const { code, err } = await release(['--product', 'phase1-pilot', '--out', phase1, '--rehearse', 'make smoke', '--dry-run', '--staging-days', days]);
    expect(code).toBe(2);
    expect(err).toMatch(/--staging-days .* is not allowed: staging lives 1 to 14 days/);
  });
});

describe('cdktf-sovereign-hetzner release (run)', () => {
  const phase1 = synthesized(phase1Pilot);

  // A stand-in `npx` on PATH records each command; the snapshot step prints an image ID.
  function fakeNpx(): { bin: string; log: string } {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-npx-'));
    const log = path.join(bin, 'calls.log');
    fs.writeFileSync(path.join(bin, 'npx'), `#!/bin/sh\necho "STAGING_EXPIRES_AT=$STAGING_EXPIRES_AT $*" >> "${log}"\ncase "$2" in snapshot) echo 4242;; esac\n`, { mode: 0o755 });
    return { bin, log };
  }

  /** A release with the stand-in `npx`; `fails` names the commands (`case "$2 $3"` patterns) it fails, as an API error would. */
  async function run(rehearse: string, fails?: string) {
    const { bin, log } = fakeNpx();
    if (fails) fs.appendFileSync(path.join(bin, 'npx'), `case "$2 $3" in ${fails}) exit 1;; esac\n`);
    const err: string[] = [];
    const code = await runCli(['release', '--product', 'phase1-pilot', '--out', phase1, '--rehearse', rehearse, '--now', '2026-11-25T09:00:00Z'],
      { ...NO_ACCOUNT_HOME, env: { ...deployEnvironment(phase1), PATH: `${bin}:${process.env.PATH}` }, out: () => undefined, err: (l) => err.push(l) });
    return { code, calls: sameRelease(fs.readFileSync(log, 'utf8')).trim().split('\n'), err: err.join('\n') };
  }

  test('runs every step in order and builds staging from the snapshot it took', async () => {
    const { code, calls } = await run('true');
    expect(code).toBe(0);
    expect(calls).toEqual([
      `STAGING_EXPIRES_AT= cdktf-sovereign-hetzner guard phase1-pilot-production --out ${phase1}`,
      'STAGING_EXPIRES_AT= cdktf deploy phase1-pilot-test --auto-approve',
      "STAGING_EXPIRES_AT= cdktf-sovereign-hetzner snapshot --server phase1-pilot-production-app --description pre-release 2026-11-25",
      'STAGING_EXPIRES_AT= cdktf-sovereign-hetzner staging claim --stack phase1-pilot-staging --release RELEASE_ID --expires-at 2026-11-28',
      'STAGING_EXPIRES_AT=2026-11-28 cdktf deploy phase1-pilot-staging --auto-approve --var=staging_image=4242 --outputs-file $TMP/release-RELEASE_ID-outputs.json',
      'STAGING_EXPIRES_AT=2026-11-28 cdktf destroy phase1-pilot-staging --auto-approve',
      'STAGING_EXPIRES_AT= cdktf-sovereign-hetzner staging unclaim --stack phase1-pilot-staging --release RELEASE_ID',
      'STAGING_EXPIRES_AT= cdktf deploy phase1-pilot-production --auto-approve',
    ]);
  });

  test("refuses one value for two environments' secrets, or one token for both projects, before running anything", async () => {
    const attempt = async (env: NodeJS.ProcessEnv) => {
      const { bin, log } = fakeNpx();
      const err: string[] = [];
      const code = await runCli(['release', '--product', 'phase1-pilot', '--out', phase1, '--rehearse', 'true'],
        { ...NO_ACCOUNT_HOME, env: { ...deployEnvironment(phase1), PATH: `${bin}:${process.env.PATH}`, ...env }, out: () => undefined, err: (l) => err.push(l) });
      return { code, err: err.join('\n'), ran: fs.existsSync(log) };
    };
    const reused = 'one-password-for-every-environment';
    const passwords = await attempt({ TF_VAR_database_app_password_test: reused, TF_VAR_database_app_password_staging: 'staging-own-password-value', TF_VAR_database_app_password_production: reused });
    expect(passwords).toEqual({ code: 1, ran: false, err: expect.stringMatching(/TF_VAR_database_app_password_test and TF_VAR_database_app_password_production hold the same value: .* Fix: give each environment a value of its own/) });
    expect(passwords.err).not.toContain(reused);
    const tokens = await attempt({ HCLOUD_TOKEN_TEST: 'one-token-value', HCLOUD_TOKEN_PRODUCTION: 'one-token-value' });
    expect(tokens).toEqual({ code: 1, ran: false, err: expect.stringMatching(/HCLOUD_TOKEN_TEST and HCLOUD_TOKEN_PRODUCTION hold the same token: that is one Hetzner project/) });
    expect(tokens.err).not.toContain('one-token-value');
    // Each its own: the release runs.
    expect((await attempt({ TF_VAR_database_app_password_test: 'test-own-password-value', TF_VAR_database_app_password_production: 'production-own-password' })).code).toBe(0);
  });

  // Review (release rehearsal, fifth pass, revu 6): without a view of its own (no nested user namespaces), the release
  // read the build machine's ~/.ssh and agent, and refused on a machine holding production-like keys: skipped there.
  const sigterm = 'SIGTERM during the rehearsal (a cancelled CI job) still takes staging down, and never deploys production';
  testWhereHostHas(ownPasswdViewAvailable(), sigterm, 'root or nested user namespaces (a password database of the test\'s own)')(sigterm, () => {
    // The CLI as a process of its own (jest's `process` is a copy, whose signal listeners the kernel never calls).
    // The rehearsal passes, but its shell sends SIGTERM to the release while it runs.
    const { bin, log } = fakeNpx();
    // Helper (release rehearsal, fifth pass): with an empty home of its own, whatever the build machine's ~/.ssh holds.
    const [program, ...args] = cliProcess(bin, ['release', '--product', 'phase1-pilot', '--out', phase1, '--rehearse', 'kill -TERM $PPID; sleep 0.5', '--now', '2026-11-25T09:00:00Z']);
    const cli = spawnSync(program, args, { env: { ...deployEnvironment(phase1), PATH: `${bin}:${process.env.PATH}` }, encoding: 'utf8' });
    const calls = sameRelease(fs.readFileSync(log, 'utf8')).trim().split('\n');
    expect(cli.stderr).toMatch(/release: SIGTERM: the step under way ends, then only the clean-up steps run \(staging down\); production is not deployed/);
    expect(calls.slice(-2)).toEqual(['STAGING_EXPIRES_AT=2026-11-28 cdktf destroy phase1-pilot-staging --auto-approve',
      'STAGING_EXPIRES_AT= cdktf-sovereign-hetzner staging unclaim --stack phase1-pilot-staging --release RELEASE_ID']);
    expect(calls.join('\n')).not.toMatch(/deploy phase1-pilot-production/);
    expect(cli.stderr).toMatch(/release stopped by SIGTERM: production was not deployed/);
    expect(cli.status).toBe(143);
  });

  test('a failed clean-up says how to take staging down by hand', async () => {
    // `cdktf destroy` fails (an API error, say).
    const { code, calls, err } = await run('exit 3', '"destroy phase1-pilot-staging"');
    expect(code).toBe(1);
    expect(calls.join('\n')).toMatch(/cdktf destroy phase1-pilot-staging/);
    expect(err).toMatch(/step 7 \(take staging down\) failed with exit code 1\n/);
    // The rehearsal failed: production is not offered.
    expect(err).toMatch(/\nstaging was not taken down, so the release deploys nothing more\. Fix: finish the take-down: STAGING_EXPIRES_AT=2026-11-28 npx cdktf destroy phase1-pilot-staging --auto-approve\. Staging left up expires on 2026-11-28: `staging delete-expired --yes` deletes it then\.\nrelease stopped: production was not deployed\.$/);
  });

  // Audit (release): a take-down that failed after a passed rehearsal said only "staging may still be up", with the
  // destroy command: not that production was not deployed because of it, nor that the claim stays until staging is
  // down, nor the deploy that was left. The release stops before production (the safe choice: the API that refused
  // the destroy would likely stop production's deploy part-way), and names each command left, in order.
  test('a failed take-down after a passed rehearsal stops before production, naming the take-down, the unclaim and the deploy left', async () => {
    // `cdktf destroy` fails, so staging stays up, and `staging unclaim` keeps the claim while it is.
    const { code, calls, err } = await run('true', '"destroy phase1-pilot-staging"|"staging unclaim"');
    expect(code).toBe(1);
    expect(calls.join('\n')).not.toMatch(/deploy phase1-pilot-production/);
    expect(sameRelease(err)).toBe([
      'step 7 (take staging down) failed with exit code 1',
      'step 8 (give up the claim on staging) failed with exit code 1',
      'staging was not taken down (the rehearsal passed), so the release deploys nothing more. Fix: finish the take-down: '
        + 'STAGING_EXPIRES_AT=2026-11-28 npx cdktf destroy phase1-pilot-staging --auto-approve, then npx cdktf-sovereign-hetzner staging unclaim --stack phase1-pilot-staging --release RELEASE_ID, '
        + 'then deploy production as the release would have: npx cdktf deploy phase1-pilot-production --auto-approve. '
        + 'Staging left up expires on 2026-11-28: `staging delete-expired --yes` deletes it then.',
      'release stopped: production was not deployed.',
    ].join('\n'));
  });

  test("a guard that refuses production's plan stops the release before anything is deployed", async () => {
    const { bin, log } = fakeNpx();
    // The guard refuses (exit 1), as it does for a plan that deletes a protected resource.
    fs.writeFileSync(path.join(bin, 'npx'), fs.readFileSync(path.join(bin, 'npx'), 'utf8').replace('case "$2" in', 'case "$2" in guard) exit 1;;'));
    const err: string[] = [];
    const code = await runCli(['release', '--product', 'phase1-pilot', '--out', phase1, '--rehearse', 'true', '--now', '2026-11-25T09:00:00Z'],
      { ...NO_ACCOUNT_HOME, env: { ...deployEnvironment(phase1), PATH: `${bin}:${process.env.PATH}` }, out: () => undefined, err: (l) => err.push(l) });
    expect(code).toBe(1);
    expect(fs.readFileSync(log, 'utf8').trim().split('\n')).toEqual([`STAGING_EXPIRES_AT= cdktf-sovereign-hetzner guard phase1-pilot-production --out ${phase1}`]);
    expect(err.join('\n')).toMatch(/step 1 \(guard production's plan \(it deletes nothing protected\)\) failed with exit code 1[\s\S]*production was not deployed/);
  });

  // Audit (job overlap): with one staging stack for every release, a second release at once rebuilt staging under the
  // first one's rehearsal, and took it down at its end (or told the operator to). The claim is refused.
  test("staging claimed (by another release) stops the release before staging is touched: not rebuilt, not taken down", async () => {
    const { bin, log } = fakeNpx();
    // `staging claim` is refused, as it is while another release holds staging; `staging unclaim` leaves its claim alone.
    fs.writeFileSync(path.join(bin, 'npx'), fs.readFileSync(path.join(bin, 'npx'), 'utf8').replace('case "$2" in', 'case "$2" in staging) [ "$3" != claim ] || exit 1;;'));
    const err: string[] = [];
    const code = await runCli(['release', '--product', 'phase1-pilot', '--out', phase1, '--rehearse', 'true', '--now', '2026-11-25T09:00:00Z'],
      { ...NO_ACCOUNT_HOME, env: { ...deployEnvironment(phase1), PATH: `${bin}:${process.env.PATH}` }, out: () => undefined, err: (l) => err.push(l) });
    expect(code).toBe(1);
    const calls = sameRelease(fs.readFileSync(log, 'utf8')).trim().split('\n');
    expect(calls.slice(-2)).toEqual(['STAGING_EXPIRES_AT= cdktf-sovereign-hetzner staging claim --stack phase1-pilot-staging --release RELEASE_ID --expires-at 2026-11-28',
      'STAGING_EXPIRES_AT= cdktf-sovereign-hetzner staging unclaim --stack phase1-pilot-staging --release RELEASE_ID']);
    expect(calls.join('\n')).not.toMatch(/phase1-pilot-staging --auto-approve|deploy phase1-pilot-production/);
    expect(err.join('\n')).toMatch(/step 4 \(claim staging \(no other release holds it, and none left it up\)\) failed with exit code 1[\s\S]*production was not deployed/);
    expect(err.join('\n')).not.toMatch(/staging may still be up/);
  });

  test('a failed rehearsal takes staging down and never deploys production', async () => {
    const { code, calls, err } = await run('exit 3');
    expect(code).toBe(1);
    expect(calls.slice(-2)).toEqual(['STAGING_EXPIRES_AT=2026-11-28 cdktf destroy phase1-pilot-staging --auto-approve',
      'STAGING_EXPIRES_AT= cdktf-sovereign-hetzner staging unclaim --stack phase1-pilot-staging --release RELEASE_ID']);
    expect(calls.join('\n')).not.toMatch(/deploy phase1-pilot-production/);
    expect(err).toMatch(/step 6 \(rehearse on staging\) failed with exit code 3[\s\S]*release stopped: production was not deployed/);
  });
});

// Audit (lifecycle): every step ran with the one HCLOUD_TOKEN. With a Hetzner project per environment (what Hetzner
// and the README recommend), the release deployed test into production's project or production into test's, where
// its admin keys already exist (uniqueness_error); staging and the snapshot must be in production's project.
describe('cdktf-sovereign-hetzner release with one Hetzner project, when test and production register one key', () => {
  // Phase 1's example, but with the admin's key on test too: a layout the README supports with a project each.
  const sharedKey = synthesized((app) => new ProductStacks(app, new Product({
    name: 'phase1-pilot', phase: Phase.ONE, admin: { sshPublicKeys: EXAMPLE_ADMIN.sshPublicKeys, cidrs: EXAMPLE_ADMIN.cidrs },
    ...exampleBoundary(), monitoring: exampleMonitoring('pilot.example.eu'), backup: exampleBackup({ offsite: false }),
    stateBucket: 'pilot-terraform-state', staging: StagingMode.fromProductionSnapshot(),
  }), { stagingExpiresAt: STAGING_EXPIRES_AT }));

  async function attempt(env: NodeJS.ProcessEnv, outdir = sharedKey) {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-npx-one-project-'));
    const log = path.join(bin, 'calls.log');
    fs.writeFileSync(path.join(bin, 'npx'), `#!/bin/sh\necho "$*" >> "${log}"\ncase "$2" in snapshot) echo 4242;; esac\n`, { mode: 0o755 });
    const err: string[] = [];
    const code = await runCli(['release', '--product', 'phase1-pilot', '--out', outdir, '--rehearse', 'true', '--now', '2026-11-25T09:00:00Z'],
      { ...NO_ACCOUNT_HOME, env: { ...deployEnvironment(outdir), PATH: `${bin}:${process.env.PATH}`, ...env }, out: () => undefined, err: (l) => err.push(l) });
    return { code, err: err.join('\n'), ran: fs.existsSync(log) };
  }

  test('with HCLOUD_TOKEN alone it refuses before anything runs: Hetzner registers a key once per project', async () => {
    const { code, err, ran } = await attempt({ HCLOUD_TOKEN: 'one-project-token-value' });
    expect({ code, ran }).toEqual({ code: 1, ran: false });
    expect(err).toMatch(new RegExp("one SSH key is registered by phase1-pilot-test as 'phase1-pilot-test-admin' and phase1-pilot-production as "
      + "'phase1-pilot-production-admin': with HCLOUD_TOKEN alone every step acts in one Hetzner project, which registers a key once, so the second "
      + 'deploy would fail with uniqueness_error, after test is deployed\\. Fix: give each environment a Hetzner project, and export HCLOUD_TOKEN_TEST and HCLOUD_TOKEN_PRODUCTION'));
    expect(err).not.toContain('one-project-token-value');
  });

  test('with a project each it runs', async () => {
    expect((await attempt({ HCLOUD_TOKEN_TEST: 'test-token-value', HCLOUD_TOKEN_PRODUCTION: 'production-token-value' })).code).toBe(0);
  });

  test('the examples, whose test has a key of its own, release into one project', async () => {
    const { code, err } = await attempt({ HCLOUD_TOKEN: 'one-project-token-value' }, synthesized(phase1Pilot));
    expect(err).not.toMatch(/registered by/);
    expect(code).toBe(0);
  });
});

describe('cdktf-sovereign-hetzner release with a Hetzner project per environment', () => {
  const phase1 = synthesized(phase1Pilot);
  const TOKENS = { HCLOUD_TOKEN: 'shared-token-value', HCLOUD_TOKEN_TEST: 'test-token-value', HCLOUD_TOKEN_PRODUCTION: 'production-token-value' };

  test('each step runs with its project\'s token: test\'s for test, production\'s for the snapshot, staging and production', async () => {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-npx-tokens-'));
    const log = path.join(bin, 'calls.log');
    fs.writeFileSync(path.join(bin, 'npx'), `#!/bin/sh\necho "$HCLOUD_TOKEN $2 $3 $4" >> "${log}"\ncase "$2" in snapshot) echo 4242;; esac\n`, { mode: 0o755 });
    const out: string[] = [];
    const code = await runCli(['release', '--product', 'phase1-pilot', '--out', phase1, '--rehearse', `echo "$HCLOUD_TOKEN rehearse" >> ${log}`, '--now', '2026-11-25T09:00:00Z'],
      { ...NO_ACCOUNT_HOME, env: { ...deployEnvironment(phase1), PATH: `${bin}:${process.env.PATH}`, ...TOKENS }, out: (l) => out.push(l), err: (l) => out.push(l) });
    expect(code).toBe(0);
    expect(fs.readFileSync(log, 'utf8').trim().split('\n')).toEqual([
      'production-token-value guard phase1-pilot-production --out',
      'test-token-value deploy phase1-pilot-test --auto-approve',
      'production-token-value snapshot --server phase1-pilot-production-app',
      'production-token-value staging claim --stack',
      'production-token-value deploy phase1-pilot-staging --auto-approve',
      // The rehearsal, the app team's script, gets no token at all: HCLOUD_TOKEN may be production's project too.
      ' rehearse',
      'production-token-value destroy phase1-pilot-staging --auto-approve',
      'production-token-value staging unclaim --stack',
      'production-token-value deploy phase1-pilot-production --auto-approve',
    ]);
    expect(out.join('\n')).not.toMatch(/token-value/);
  });

  test('the dry run names each step\'s token variable, never a token', async () => {
    const out: string[] = [];
    const code = await runCli(['release', '--product', 'phase1-pilot', '--out', phase1, '--rehearse', 'make smoke', '--dry-run', '--now', '2026-11-25T09:00:00Z'],
      { ...NO_ACCOUNT_HOME, env: { ...deployEnvironment(phase1), ...TOKENS }, out: (l) => out.push(l), err: (l) => out.push(l) });
    expect(code).toBe(0);
    const commands = out.join('\n').split('\n').filter((l) => !l.startsWith('#'));
    expect(commands[0]).toBe(`HCLOUD_TOKEN=\${HCLOUD_TOKEN_PRODUCTION} npx cdktf-sovereign-hetzner guard phase1-pilot-production --out ${phase1}`);
    expect(commands[1]).toBe('HCLOUD_TOKEN=${HCLOUD_TOKEN_TEST} npx cdktf deploy phase1-pilot-test --auto-approve');
    expect(sameRelease(commands[3])).toBe('HCLOUD_TOKEN=${HCLOUD_TOKEN_PRODUCTION} npx cdktf-sovereign-hetzner staging claim --stack phase1-pilot-staging --release RELEASE_ID --expires-at 2026-11-28');
    expect(sameRelease(commands[4])).toBe('HCLOUD_TOKEN=${HCLOUD_TOKEN_PRODUCTION} STAGING_EXPIRES_AT=2026-11-28 npx cdktf deploy phase1-pilot-staging --auto-approve --var=staging_image=${SNAPSHOT_ID} --outputs-file $TMP/release-RELEASE_ID-outputs.json');
    expect(sameRelease(commands[5])).toBe("STAGING_EXPIRES_AT=2026-11-28 REHEARSAL_OUTPUTS=$TMP/release-RELEASE_ID-outputs.json sh -c 'make smoke'");
    expect(sameRelease(commands[7])).toBe('HCLOUD_TOKEN=${HCLOUD_TOKEN_PRODUCTION} npx cdktf-sovereign-hetzner staging unclaim --stack phase1-pilot-staging --release RELEASE_ID');
    expect(commands[8]).toBe('HCLOUD_TOKEN=${HCLOUD_TOKEN_PRODUCTION} npx cdktf deploy phase1-pilot-production --auto-approve');
    expect(out.join('\n')).not.toMatch(/token-value/);
  });

  test('refuses one project token without the other, before running anything', async () => {
    const err: string[] = [];
    const code = await runCli(['release', '--product', 'phase1-pilot', '--out', phase1, '--rehearse', 'make smoke', '--dry-run'],
      { ...NO_ACCOUNT_HOME, env: { HCLOUD_TOKEN: 'shared-token-value', HCLOUD_TOKEN_TEST: 'test-token-value' }, out: () => undefined, err: (l) => err.push(l) });
    expect(code).toBe(1);
    expect(err.join('\n')).toMatch(/HCLOUD_TOKEN_TEST is set but HCLOUD_TOKEN_PRODUCTION is not: .* Fix: export both HCLOUD_TOKEN_TEST and HCLOUD_TOKEN_PRODUCTION, or neither/);
    expect(err.join('\n')).not.toMatch(/token-value/);
  });
});

// Audit (lifecycle): whatever the snapshot step printed became staging's image: nothing left the literal
// ${SNAPSHOT_ID} in the deploy, a wrapper's chatter became `--var=staging_image=Snapshot created: 4242`.
describe('cdktf-sovereign-hetzner release when the snapshot step prints no image ID', () => {
  const phase1 = synthesized(phase1Pilot);

  test.each([[''], ['Snapshot created: 4242']])('stdout %p: staging is not brought up and production not deployed', async (printed) => {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-npx-snapshot-'));
    const log = path.join(bin, 'calls.log');
    fs.writeFileSync(path.join(bin, 'npx'), `#!/bin/sh\necho "$2 $3" >> "${log}"\ncase "$2" in snapshot) printf '%s' '${printed}';; esac\n`, { mode: 0o755 });
    const err: string[] = [];
    const code = await runCli(['release', '--product', 'phase1-pilot', '--out', phase1, '--rehearse', 'true', '--now', '2026-11-25T09:00:00Z'],
      { ...NO_ACCOUNT_HOME, env: { ...deployEnvironment(phase1), PATH: `${bin}:${process.env.PATH}` }, out: () => undefined, err: (l) => err.push(l) });
    expect(code).toBe(1);
    // Staging is never brought up, so there is nothing to take down; production is not deployed.
    expect(fs.readFileSync(log, 'utf8').trim().split('\n')).toEqual(['guard phase1-pilot-production', 'deploy phase1-pilot-test', 'snapshot --server']);
    expect(err.join('\n')).toMatch(/step 3 \(snapshot production .*\) printed ".*" where the snapshot's image ID belongs\. Fix: make the snapshot command print only the ID/);
  });
});

// Audit (cli): the release checked no variable before it started. One left unset (staging's database password, say)
// stopped it at that step's deploy: test was deployed and production snapshotted (billed) by then, and Terraform,
// which cannot prompt there, said only "No value for required variable".
describe('cdktf-sovereign-hetzner release with a variable unset', () => {
  const phase1 = synthesized(phase1Pilot);

  async function attempt(env: NodeJS.ProcessEnv, extra: string[] = []) {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-npx-unset-'));
    const log = path.join(bin, 'calls.log');
    fs.writeFileSync(path.join(bin, 'npx'), `#!/bin/sh\necho "$*" >> "${log}"\ncase "$2" in snapshot) echo 4242;; esac\n`, { mode: 0o755 });
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['release', '--product', 'phase1-pilot', '--out', phase1, '--rehearse', 'true', ...extra],
      { ...NO_ACCOUNT_HOME, env: { ...env, PATH: `${bin}:${process.env.PATH}` }, out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out: out.join('\n'), err: err.join('\n'), ran: fs.existsSync(log) };
  }

  test('refuses before any step, naming what is unset (never a value) and the check that explains it', async () => {
    const { TF_VAR_database_app_password_staging: _unset, SSH_AUTH_SOCK: _agent, ...env } = deployEnvironment(phase1);
    const { code, err, ran } = await attempt(env);
    expect({ code, ran }).toEqual({ code: 1, ran: false });
    expect(err).toMatch(new RegExp('^error: SSH_AUTH_SOCK, TF_VAR_database_app_password_staging are not set, which the release\'s stacks need: a step lacking one '
      + 'would stop part-way, after test is deployed or production snapshotted .* Nothing was run\\. Fix: set them \\(`cdktf-sovereign-hetzner check --out '));
    expect(err).not.toMatch(/stand-in-/);
  });

  // The shell of a rehearsal against the stand-in (docs/testing.md) holds its token, and its deploys need
  // --skip-provider-lock: the release's deploys lock the real provider from the public registry, after test was deployed.
  test("refuses the stand-in's token before any step, and the dry run says it would", async () => {
    // Should the refusal regress, its steps reach only the fake npx (ran), which runs nothing; and a request the CLI
    // made in-process (its HTTP client is fetch) to Hetzner's URL fails here instead of carrying the token there.
    const net = loopbackOnlyFetch();
    try {
      const standIn = await attempt({ ...deployEnvironment(phase1), HCLOUD_TOKEN: STAND_IN_TOKEN });
      expect(standIn).toMatchObject({ code: 1, ran: false });
      expect(standIn.err).toMatch(/^error: HCLOUD_TOKEN is the stand-in's token \(docs\/testing\.md\): the release runs against Hetzner \(its deploys lock the provider from the public registry.* Nothing was run\. Fix: /);
      expect(standIn.err.trimEnd().endsWith(STAND_IN_STEPS)).toBe(true);
      expect(STAND_IN_STEPS).toMatch(/cdktf deploy and destroy with --skip-provider-lock/);
      // Whatever HCLOUD_ENDPOINT says (the stand-in's file: project, Hetzner's URL, a server of this machine): the deploys'
      // provider comes from the registry all the same. With no snapshot step, the reason given is still true.
      for (const HCLOUD_ENDPOINT of ['file:///tmp/hcloud-standin/cloud.json', 'https://api.hetzner.cloud/v1', 'http://127.0.0.1:8080/v1']) {
        const withEndpoint = await attempt({ ...deployEnvironment(phase1), HCLOUD_TOKEN: STAND_IN_TOKEN, HCLOUD_ENDPOINT }, ['--no-snapshot']);
        expect(withEndpoint).toMatchObject({ code: 1, ran: false, err: expect.stringMatching(/^error: HCLOUD_TOKEN is the stand-in's token/) });
        expect(withEndpoint.err).not.toMatch(/snapshot|staging/);
      }
      const projects = await attempt({ ...deployEnvironment(phase1), HCLOUD_TOKEN: '', HCLOUD_TOKEN_TEST: STAND_IN_TOKEN, HCLOUD_TOKEN_PRODUCTION: 'production-token-value' });
      expect(projects).toMatchObject({ code: 1, ran: false, err: expect.stringMatching(/^error: HCLOUD_TOKEN_TEST is the stand-in's token/) });
      const dry = await attempt({ ...deployEnvironment(phase1), HCLOUD_TOKEN: STAND_IN_TOKEN }, ['--dry-run']);
      expect(dry).toMatchObject({ code: 0, ran: false, err: expect.stringMatching(/^note: the release would refuse to start: HCLOUD_TOKEN is the stand-in's token/m) });
      expect(net.remote).toEqual([]);
    } finally {
      net.restore();
    }
  });

  test('with a project per environment HCLOUD_TOKEN is not asked for; an empty variable counts as unset', async () => {
    const { HCLOUD_TOKEN: _token, ...env } = deployEnvironment(phase1);
    const tokens = { HCLOUD_TOKEN_TEST: 'test-token-value', HCLOUD_TOKEN_PRODUCTION: 'production-token-value' };
    expect(await attempt({ ...env, ...tokens })).toMatchObject({ code: 0, ran: true });
    const empty = await attempt({ ...env, ...tokens, TF_VAR_restic_password: '' });
    expect(empty).toMatchObject({ code: 1, ran: false, err: expect.stringMatching(/^error: TF_VAR_restic_password is not set/) });
    expect(empty.err).not.toMatch(/token-value/);
  });

  test('the dry run prints the commands all the same, and says on stderr what the real run would refuse for', async () => {
    const { code, out, err, ran } = await attempt({}, ['--dry-run']);
    expect({ code, ran }).toEqual({ code: 0, ran: false });
    expect(out).toMatch(/^npx cdktf deploy phase1-pilot-production --auto-approve$/m);
    expect(out).not.toMatch(/not set/);
    expect(err).toMatch(/^note: the release would refuse to start: .*TF_VAR_database_app_password_test.* are not set\.$/);
  });

  // The dry run named unset variables but not a value the real run refuses for its carriage return (a .env with
  // Windows line endings): a dry run looked clean before a release that would not start.
  test('the dry run also says on stderr when a value holds a carriage return, naming the variable and never the value', async () => {
    const { code, err, ran } = await attempt({ ...deployEnvironment(phase1), TF_VAR_restic_password: 'restic-value\r' }, ['--dry-run']);
    expect({ code, ran }).toEqual({ code: 0, ran: false });
    expect(err).toMatch(/^note: the release would refuse to start: TF_VAR_restic_password holds a carriage return \(\\r\)/m);
    expect(err).not.toContain('restic-value');
  });
});
