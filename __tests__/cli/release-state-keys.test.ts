import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdktf';
import { Phase, Product, StagingMode } from '../../lib';
import { ProductStacks } from '../../stacks';
import { EXAMPLE_ADMIN, exampleBackup, exampleBoundary, exampleMonitoring } from '../../examples/shared';
import { cli, deployEnvironment, sameRelease } from './cli';

// Audit (state keys): release gave each step its project's Hetzner token, but one AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY to all. With a state bucket per environment in each environment's own project (what the README
// recommends, and what init scaffolds), Hetzner Object Storage keys are per project: no one key reads both buckets,
// so the release stopped at the guard (test's key) or at test's deploy (production's key), or refused to start
// when only each project's own pair was exported.

/** Each Hetzner project's Object Storage: the bucket it holds, and the key pair that reads it (and no other project's). */
const PROJECTS = {
  test: { bucket: 'acme-tfstate', accessKeyId: 'test-access-key-id-value', secretAccessKey: 'test-secret-key-value' },
  production: { bucket: 'acme-production-tfstate', accessKeyId: 'production-access-key-id-value', secretAccessKey: 'production-secret-key-value' },
};

const PER_ENVIRONMENT_KEYS = {
  AWS_ACCESS_KEY_ID_TEST: PROJECTS.test.accessKeyId, AWS_SECRET_ACCESS_KEY_TEST: PROJECTS.test.secretAccessKey,
  AWS_ACCESS_KEY_ID_PRODUCTION: PROJECTS.production.accessKeyId, AWS_SECRET_ACCESS_KEY_PRODUCTION: PROJECTS.production.secretAccessKey,
};
const TOKENS = { HCLOUD_TOKEN_TEST: 'test-token-value', HCLOUD_TOKEN_PRODUCTION: 'production-token-value' };
const REHEARSAL = 'npx cdktf output acme-production; grep -q 203.0.113.10 "$REHEARSAL_OUTPUTS"';

describe('release with a state bucket in each environment\'s Hetzner project', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'release-state-keys-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const outdir = path.join(dir, 'cdktf.out');
  const app = new App({ outdir });
  new ProductStacks(app, new Product({
    name: 'acme', phase: Phase.ONE, admin: EXAMPLE_ADMIN, ...exampleBoundary(), monitoring: exampleMonitoring('acme.example.eu'),
    backup: exampleBackup({ offsite: false }), staging: StagingMode.fromProductionSnapshot(),
    stateBucket: PROJECTS.test.bucket, stateBuckets: { production: PROJECTS.production.bucket },
  }), { stagingExpiresAt: '2026-11-28' });
  app.synth();
  // What the stacks need, but the state key pair: each test says which it exports.
  const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _secret, ...withoutStateKeys } = deployEnvironment(outdir);

  /**
   * A stand-in `npx` that reads each stack's state as Terraform would: from the bucket its synthesized backend names,
   * with the key pair in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, which only the project holding the bucket accepts.
   * It logs each state read as `<command> <stack> <bucket> <ok|AccessDenied>`, and refuses (exit 1) a key of another project.
   */
  function standInObjectStorage(): { bin: string; log: string } {
    const bin = fs.mkdtempSync(path.join(dir, 'bin-'));
    const log = path.join(bin, 'calls.log');
    fs.writeFileSync(path.join(bin, 'npx'), `#!${process.execPath}
const fs = require('fs');
const path = require('path');
const projects = ${JSON.stringify(Object.values(PROJECTS))};
const [tool, command, ...rest] = process.argv.slice(2);
if (command === 'snapshot') { fs.appendFileSync(${JSON.stringify(log)}, 'snapshot\\n'); console.log('4242'); process.exit(0); }
if (command === 'staging') { fs.appendFileSync(${JSON.stringify(log)}, 'staging ' + rest.join(' ') + '\\n'); process.exit(0); }
const stack = rest[0];
const json = JSON.parse(fs.readFileSync(path.join(${JSON.stringify(outdir)}, 'stacks', stack, 'cdk.tf.json'), 'utf8'));
const bucket = json.terraform.backend.s3.bucket;
const holder = projects.find((p) => p.bucket === bucket);
const readable = holder !== undefined && process.env.AWS_ACCESS_KEY_ID === holder.accessKeyId && process.env.AWS_SECRET_ACCESS_KEY === holder.secretAccessKey;
fs.appendFileSync(${JSON.stringify(log)}, [command, stack, bucket, readable ? 'ok' : 'AccessDenied'].join(' ') + '\\n');
if (!readable) { console.error('Error: Failed to get existing workspaces: AccessDenied'); process.exit(1); }
const outputs = rest.indexOf('--outputs-file');
if (outputs >= 0) fs.writeFileSync(rest[outputs + 1], JSON.stringify({ [stack]: { app_ipv4: '203.0.113.10' } }));
`, { mode: 0o755 });
    return { bin, log };
  }

  async function release(env: NodeJS.ProcessEnv, extra: string[] = []) {
    const { bin, log } = standInObjectStorage();
    // The rehearsal reads staging's address from the outputs staging's deploy wrote, as an e2e suite does; it tries
    // production's state too, which it must not reach.
    const result = await cli(['release', '--product', 'acme', '--out', outdir, '--rehearse', REHEARSAL, '--now', '2026-11-25T09:00:00Z', ...extra],
      { ...withoutStateKeys, ...TOKENS, PATH: `${bin}:${process.env.PATH}`, ...env });
    return { ...result, out: sameRelease(result.out), calls: fs.existsSync(log) ? sameRelease(fs.readFileSync(log, 'utf8')).trim().split('\n') : [] };
  }

  test("with each project's key pair exported, every step reads its state with its own project's pair, and the release completes", async () => {
    // A pair left in the shell from another deploy does not reach any step.
    const { code, out, err, calls } = await release({ ...PER_ENVIRONMENT_KEYS, AWS_ACCESS_KEY_ID: 'stray-access-key-id-value', AWS_SECRET_ACCESS_KEY: 'stray-secret-key-value' });
    expect({ code, err }).toEqual({ code: 0, err: '' });
    expect(calls).toEqual([
      'guard acme-production acme-production-tfstate ok',
      'deploy acme-test acme-tfstate ok',
      'snapshot',
      'staging claim --stack acme-staging --release RELEASE_ID --expires-at 2026-11-28',
      'deploy acme-staging acme-production-tfstate ok',
      // Audit (release): the rehearsal ran with production's state key pair, which reads and writes production's state.
      'output acme-production acme-production-tfstate AccessDenied',
      'destroy acme-staging acme-production-tfstate ok',
      'staging unclaim --stack acme-staging --release RELEASE_ID',
      'deploy acme-production acme-production-tfstate ok',
    ]);
    expect(out + err).not.toMatch(/key-value|key-id-value/);
  });

  test.each([['test', 'guard acme-production acme-production-tfstate AccessDenied'], ['production', 'deploy acme-test acme-tfstate AccessDenied']] as const)(
    "with one pair (%s's) for every step it cannot complete, and says before it starts which variables give each project its own", async (project, stoppedAt) => {
      const { code, err, calls } = await release({ AWS_ACCESS_KEY_ID: PROJECTS[project].accessKeyId, AWS_SECRET_ACCESS_KEY: PROJECTS[project].secretAccessKey });
      expect(code).toBe(1);
      expect(calls[calls.length - 1]).toBe(stoppedAt);
      expect(err).toMatch(new RegExp("^note: one state key pair \\(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY\\) for every step, but test's state is in 'acme-tfstate' and "
        + "staging's and production's in 'acme-production-tfstate': that works only if one Hetzner project holds them all.* export AWS_ACCESS_KEY_ID_TEST, "
        + 'AWS_SECRET_ACCESS_KEY_TEST, AWS_ACCESS_KEY_ID_PRODUCTION and AWS_SECRET_ACCESS_KEY_PRODUCTION instead', 'm'));
      expect(err).not.toMatch(/key-value|key-id-value/);
    });

  test("the dry run names each step's state key variables, never a key", async () => {
    const { code, out, err, calls } = await release(PER_ENVIRONMENT_KEYS, ['--dry-run']);
    expect({ code, calls }).toEqual({ code: 0, calls: [] });
    const keys = (project: string) => `AWS_ACCESS_KEY_ID=\${AWS_ACCESS_KEY_ID_${project}} AWS_SECRET_ACCESS_KEY=\${AWS_SECRET_ACCESS_KEY_${project}}`;
    expect(out.split('\n').filter((l) => !l.startsWith('#'))).toEqual([
      `HCLOUD_TOKEN=\${HCLOUD_TOKEN_PRODUCTION} ${keys('PRODUCTION')} npx cdktf-sovereign-hetzner guard acme-production --out ${outdir}`,
      `HCLOUD_TOKEN=\${HCLOUD_TOKEN_TEST} ${keys('TEST')} npx cdktf deploy acme-test --auto-approve`,
      "SNAPSHOT_ID=$(HCLOUD_TOKEN=${HCLOUD_TOKEN_PRODUCTION} npx cdktf-sovereign-hetzner snapshot --server acme-production-app --description 'pre-release 2026-11-25')",
      'HCLOUD_TOKEN=${HCLOUD_TOKEN_PRODUCTION} npx cdktf-sovereign-hetzner staging claim --stack acme-staging --release RELEASE_ID --expires-at 2026-11-28',
      `HCLOUD_TOKEN=\${HCLOUD_TOKEN_PRODUCTION} ${keys('PRODUCTION')} STAGING_EXPIRES_AT=2026-11-28 npx cdktf deploy acme-staging --auto-approve --var=staging_image=\${SNAPSHOT_ID} --outputs-file $TMP/release-RELEASE_ID-outputs.json`,
      `STAGING_EXPIRES_AT=2026-11-28 REHEARSAL_OUTPUTS=$TMP/release-RELEASE_ID-outputs.json sh -c '${REHEARSAL}'`,
      `HCLOUD_TOKEN=\${HCLOUD_TOKEN_PRODUCTION} ${keys('PRODUCTION')} STAGING_EXPIRES_AT=2026-11-28 npx cdktf destroy acme-staging --auto-approve`,
      'HCLOUD_TOKEN=${HCLOUD_TOKEN_PRODUCTION} npx cdktf-sovereign-hetzner staging unclaim --stack acme-staging --release RELEASE_ID',
      `HCLOUD_TOKEN=\${HCLOUD_TOKEN_PRODUCTION} ${keys('PRODUCTION')} npx cdktf deploy acme-production --auto-approve`,
    ]);
    expect(err).toBe('');
    expect(out).not.toMatch(/key-value|key-id-value/);
  });

  test.each([
    [{ AWS_ACCESS_KEY_ID_TEST: PROJECTS.test.accessKeyId, AWS_SECRET_ACCESS_KEY_TEST: PROJECTS.test.secretAccessKey }, 'AWS_ACCESS_KEY_ID_PRODUCTION, AWS_SECRET_ACCESS_KEY_PRODUCTION are'],
    [{ ...PER_ENVIRONMENT_KEYS, AWS_SECRET_ACCESS_KEY_PRODUCTION: '' }, 'AWS_SECRET_ACCESS_KEY_PRODUCTION is'],
  ])('refuses a per-environment pair with a part missing (or empty), in the dry run too, before running anything', async (keys, missing) => {
    for (const extra of [[], ['--dry-run']]) {
      const { code, err, calls } = await release(keys, extra);
      expect({ code, calls }).toEqual({ code: 1, calls: [] });
      expect(err).toMatch(new RegExp(`^error: AWS_ACCESS_KEY_ID_TEST.* set but ${missing} not: with a state key pair per environment.* Nothing was run\\. `
        + 'Fix: export all four \\(AWS_ACCESS_KEY_ID_TEST, AWS_SECRET_ACCESS_KEY_TEST, AWS_ACCESS_KEY_ID_PRODUCTION, AWS_SECRET_ACCESS_KEY_PRODUCTION\\), or none'));
      expect(err).not.toMatch(/key-value|key-id-value/);
    }
  });

  test('with no state key at all it refuses before any step, naming both ways to give one', async () => {
    const { code, err, calls } = await release({});
    expect({ code, calls }).toEqual({ code: 1, calls: [] });
    expect(err).toMatch(/^error: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY are not set, which the release's stacks need: .* Nothing was run\. Fix: set them .*test's state is in 'acme-tfstate' and staging's and production's in 'acme-production-tfstate'.* export AWS_ACCESS_KEY_ID_TEST, AWS_SECRET_ACCESS_KEY_TEST, AWS_ACCESS_KEY_ID_PRODUCTION and AWS_SECRET_ACCESS_KEY_PRODUCTION/);
  });

  test('refuses a per-environment key holding a carriage return (a .env with Windows line endings), never printing it', async () => {
    const { code, err, calls } = await release({ ...PER_ENVIRONMENT_KEYS, AWS_SECRET_ACCESS_KEY_PRODUCTION: `${PROJECTS.production.secretAccessKey}\r` });
    expect({ code, calls }).toEqual({ code: 1, calls: [] });
    expect(err).toMatch(/^error: AWS_SECRET_ACCESS_KEY_PRODUCTION holds a carriage return/);
    expect(err).not.toMatch(/key-value|key-id-value/);
  });

  test("release's usage and the README's release paragraph name each project's state key variables", async () => {
    const usage = (await cli(['help', 'release'])).out;
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    for (const name of Object.keys(PER_ENVIRONMENT_KEYS)) {
      expect([name, usage]).toEqual([name, expect.stringContaining(name)]);
      expect([name, readme]).toEqual([name, expect.stringContaining(`\`${name}\``)]);
    }
    expect(usage).toMatch(/AWS_ACCESS_KEY_ID_PRODUCTION and AWS_SECRET_ACCESS_KEY_PRODUCTION for production's and staging's/);
  });

  test('check names, for each bucket, the variables release reads its key pair from', async () => {
    const { code, err } = await cli(['check', '--out', outdir], withoutStateKeys);
    expect(code).toBe(1);
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
      const lines = err.split('\n');
      const fixOf = (bucket: string) => lines[lines.findIndex((l) => l.startsWith(`  ${name}`) && l.includes(`'${bucket}'`)) + 1];
      expect(fixOf('acme-tfstate')).toMatch(new RegExp(`^    Fix: export ${name}=….*; \`release\` reads it from ${name}_TEST \\(for acme-test\\) when each project's state has a key pair of its own$`));
      expect(fixOf('acme-production-tfstate')).toMatch(new RegExp(`^    Fix: export ${name}=….*; \`release\` reads it from ${name}_PRODUCTION \\(for acme-production, acme-staging\\) when each project's state has a key pair of its own$`));
    }
  });
});
