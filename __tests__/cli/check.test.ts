import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdktf';
import { phase1Pilot } from '../../examples/phase1-pilot';
import { phase2PayingCustomers } from '../../examples/phase2-paying-customers';
import { EXAMPLE_ADMIN, exampleBackup, exampleBoundary, exampleMonitoring } from '../../examples/shared';
import { Phase, Product, StagingMode } from '../../lib';
import { ProductStacks } from '../../stacks';
import { STAND_IN_TOKEN, writeStandInOverride } from '../../testing';
import { cli } from './cli';
import { cdkOf } from '../../cli/cdk';
import { synthWarningsHeading } from '../../cli/synth-warnings';

describe('cdktf-sovereign-hetzner check: a deploy never waits at a prompt', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'check-cli-'));
  const app = new App({ outdir });
  phase1Pilot(app);
  app.synth();
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  const declared = (stack: string): string[] => {
    const json = JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', stack, 'cdk.tf.json'), 'utf8'));
    return Object.entries<any>(json.variable ?? {}).filter(([, v]) => v.default === undefined).map(([name]) => name).sort();
  };

  // `check` of production with nothing set, run once for the three tests that read it.
  let unset: Awaited<ReturnType<typeof cli>>;
  beforeAll(async () => {
    unset = await cli(['check', 'phase1-pilot-production', '--out', outdir]);
  });

  test('names every missing variable with what it is for and how to set it, and exits 1', () => {
    const { code, err } = unset;
    expect(code).toBe(1);
    const names = declared('phase1-pilot-production');
    expect(names.length).toBeGreaterThan(3);
    for (const name of names) expect(err).toMatch(new RegExp(`^ {2}TF_VAR_${name}( \\(secret\\))?: .+ \\[phase1-pilot-production\\]$`, 'm'));
    expect(err).toMatch(/^ {2}TF_VAR_restic_password \(secret\): .+\n {4}Fix: export TF_VAR_restic_password=… from your secret store/m);
    expect(err).toMatch(/^ {2}HCLOUD_TOKEN \(secret\): /m);
    expect(err).toMatch(/^ {2}AWS_SECRET_ACCESS_KEY \(secret\): /m);
    // Terraform creates no state bucket: the first deploy needs it made by hand, under the name the stacks use.
    expect(err).toMatch(/^ {2}AWS_ACCESS_KEY_ID: .*the state bucket 'pilot-terraform-state' at https:\/\/fsn1\.your-objectstorage\.com, which must exist before the first deploy \(create it once in the Hetzner console\)/m);
    expect(err).toMatch(/^ {2}SSH_AUTH_SOCK: an SSH agent holding the admin key.*\n {4}Fix: eval "\$\(ssh-agent\)" && ssh-add/m);
    expect(err).not.toMatch(/no description/);
  });

  test('--plan checks what a plan needs: no SSH agent, which only a deploy\'s rollouts use (CI\'s plan and drift jobs have none)', async () => {
    const names = declared('phase1-pilot-production');
    const env = Object.fromEntries([...names.map((n) => [`TF_VAR_${n}`, `value-of-${n}`]), ['HCLOUD_TOKEN', 'x'], ['AWS_ACCESS_KEY_ID', 'x'], ['AWS_SECRET_ACCESS_KEY', 'x']]);
    const deploy = await cli(['check', 'phase1-pilot-production', '--out', outdir], env);
    expect([deploy.code, deploy.err]).toEqual([1, expect.stringMatching(/^ {2}SSH_AUTH_SOCK: /m)]);
    const plan = await cli(['check', 'phase1-pilot-production', '--out', outdir, '--plan'], env);
    expect([plan.code, plan.err, plan.out]).toEqual([0, '', expect.stringContaining('Everything phase1-pilot-production needs for a plan is set')]);
    // Anything else missing still fails a plan's check.
    const { TF_VAR_restic_password: _left, ...withoutOne } = env;
    const missing = await cli(['check', 'phase1-pilot-production', '--out', outdir, '--plan'], withoutOne);
    expect([missing.code, missing.err]).toEqual([1, expect.stringMatching(/^ {2}TF_VAR_restic_password \(secret\): /m)]);
    expect(missing.err).not.toMatch(/SSH_AUTH_SOCK/);
  });

  // Audit (newcomer): `cdktf synth` prints its warnings only to a terminal. The scaffold's CI runs `npx cdktf synth &&
  // check`, and `node main.js` prints none either: the fixes they name (pin the host keys) were never seen there.
  test("prints the synth's warnings of the stacks it checks, each with its fix, which cdktf synth prints only in a terminal", () => {
    const { code, out } = unset;
    expect(code).toBe(1); // the warnings fail nothing: the missing secrets do
    expect(out).toMatch(/^The synth's warnings for phase1-pilot-production, each with its fix \(cdktf synth prints them only in a terminal, not in CI or through a pipe, and an app run with node alone prints none; none stops a deploy\):$/m);
    expect(out).toMatch(/^ {2}WARN \[phase1-pilot-production\/App\]: Rollout-UnpinnedHostKey: .* Fix: /m);
    expect(out).toMatch(/^ {2}WARN \[phase1-pilot-production\/Backups\]: Backup-UnpinnedHostKey: .* Fix: /m);
    // Only the stacks checked: test's own warnings are test's.
    expect(out).not.toMatch(/phase1-pilot-test\//);
  });

  // cdktn-sovereign-hetzner's check said `cdktf synth` prints the warnings only in a terminal; `cdktn synth` prints
  // them in CI and through a pipe as well. Then it said "as cdktn synth printed them" after an app run with `node`
  // alone, which printed none: the heading says what each prints, true whichever ran the app.
  test("names the synth of the package's own CDK above the warnings, a terminal only for cdktf's, and node alone printing none", () => {
    expect(synthWarningsHeading(cdkOf({ peerDependencies: { cdktn: '~0.24.0' } }), ['acme-test']))
      .toBe("The synth's warnings for acme-test, each with its fix (cdktn synth prints them in CI and through a pipe too, and an app run with node alone prints none; none stops a deploy):");
    expect(synthWarningsHeading(cdkOf({ peerDependencies: { cdktf: '^0.21.0' } }), ['acme-test']))
      .toBe("The synth's warnings for acme-test, each with its fix (cdktf synth prints them only in a terminal, not in CI or through a pipe, and an app run with node alone prints none; none stops a deploy):");
  });

  // Review (sixth pass): on a failing check the warnings came before its verdict (`Missing for …`), which a CI log,
  // both streams in one, then showed below a screen of warnings that fail nothing.
  test("on a failing check, the warnings come after the verdict and the list of what is missing, both streams in one log", () => {
    expect(unset.code).toBe(1);
    const lines = unset.log.split('\n');
    expect(lines[0]).toMatch(/^Missing for phase1-pilot-production: \d+ of \d+\. Terraform would stop and wait for them\.$/);
    const warnings = lines.findIndex((l) => l.startsWith("The synth's warnings for phase1-pilot-production"));
    expect(warnings).toBeGreaterThan(0);
    // Nothing of the verdict follows them: only the warnings.
    expect(lines.slice(warnings + 1).filter((l) => !/^ {2}WARN \[/.test(l))).toEqual([]);
    expect(lines.slice(1, warnings).filter((l) => !/^ {2}\S| {4}Fix: /.test(l))).toEqual([]);
  });

  test("says where the test stack's drill source comes from: production's outputs, read with terraform output", async () => {
    const { code, err } = await cli(['check', 'phase1-pilot-test', '--out', outdir]);
    expect(code).toBe(1);
    for (const [variable, output] of [['production_backup_host', 'backup_drill_host'], ['production_backup_username', 'backup_drill_username']]) {
      expect(err).toContain(`  TF_VAR_${variable}: `);
      expect(err).toContain(`    Fix: deploy phase1-pilot-production first, then export TF_VAR_${variable}=$(terraform -chdir=${path.join(outdir, 'stacks', 'phase1-pilot-production')} output -raw ${output})`);
      // The output it names is one production declares.
      expect(JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', 'phase1-pilot-production', 'cdk.tf.json'), 'utf8')).output[output]).toBeDefined();
    }
  });

  test('passes when everything is set, and then names nothing', async () => {
    const names = declared('phase1-pilot-production');
    const env = Object.fromEntries([...names.map((n) => [`TF_VAR_${n}`, 'x']), ['HCLOUD_TOKEN', 'x'], ['AWS_ACCESS_KEY_ID', 'x'], ['AWS_SECRET_ACCESS_KEY', 'x'], ['SSH_AUTH_SOCK', '/tmp/agent']]);
    const { code, out } = await cli(['check', 'phase1-pilot-production', '--out', outdir], env);
    // The verdict first; then only the synth's warnings, which fail nothing.
    expect(out).toMatch(/^Everything phase1-pilot-production needs is set \(\d+ variables and credentials\)\.\nThe synth's warnings for phase1-pilot-production, [^\n]*:(\n {2}WARN \[[^\n]*)+$/);
    expect(code).toBe(0);
    // One missing again: only that one is named.
    const { code: again, err } = await cli(['check', 'phase1-pilot-production', '--out', outdir], { ...env, TF_VAR_restic_password: '' });
    expect(again).toBe(1);
    expect(err.split('\n').filter((l) => /^ {2}\S/.test(l))).toEqual([expect.stringMatching(/^ {2}TF_VAR_restic_password \(secret\)/)]);
  });

  test("refuses a stack directory a rehearsal against the stand-in left its override in, unless it checks the rehearsal's own environment", async () => {
    const names = declared('phase1-pilot-production');
    const env = Object.fromEntries([...names.map((n) => [`TF_VAR_${n}`, 'x']), ['HCLOUD_TOKEN', 'a-real-token'], ['AWS_ACCESS_KEY_ID', 'x'], ['AWS_SECRET_ACCESS_KEY', 'x'], ['SSH_AUTH_SOCK', '/tmp/agent']]);
    const stackDir = path.join(outdir, 'stacks', 'phase1-pilot-production');
    // What docs/testing.md's standin.js writes after the first synth, and cdktf's next synth keeps.
    const override = writeStandInOverride(stackDir, path.join(outdir, 'rehearsal.cloud.json'));
    try {
      const { code, err } = await cli(['check', 'phase1-pilot-production', '--out', outdir], env);
      expect(code).toBe(1);
      expect(err).toContain(`${override} is left from a rehearsal against the stand-in: Terraform merges it into every command in that directory, `
        + "so a real deploy of phase1-pilot-production would keep its state in a local file, not in its bucket, and roll no bundle out.\n"
        + `    Fix: rm -rf ${stackDir} and synthesize again (npx cdktf synth) before deploying for real.`);
      // In the rehearsal's own shell (the stand-in's token), the override is what it should be.
      expect((await cli(['check', 'phase1-pilot-production', '--out', outdir], { ...env, HCLOUD_TOKEN: STAND_IN_TOKEN })).code).toBe(0);
      // Another stack, without one, is not named.
      expect(err).not.toContain('phase1-pilot-test');
    } finally {
      fs.rmSync(override);
    }
    expect((await cli(['check', 'phase1-pilot-production', '--out', outdir], env)).code).toBe(0);
  });

  // Audit (rehearsal): in the shell of a rehearsal against the stand-in (docs/testing.md's standin.js exports its token
  // and the placeholders, no state key and no agent), check listed AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
  // SSH_AUTH_SOCK as missing and exited 1, though the override beside each stack keeps the state in a local file and
  // rolls no bundle out. They are named apart now, as a real deploy's, and only where the override says so.
  test('in a rehearsal against the stand-in, names the state keys and the SSH agent its override makes unneeded apart from what is missing', async () => {
    const names = declared('phase1-pilot-production');
    const env = Object.fromEntries([...names.map((n) => [`TF_VAR_${n}`, 'x']), ['HCLOUD_TOKEN', STAND_IN_TOKEN]]);
    const stackDir = path.join(outdir, 'stacks', 'phase1-pilot-production');
    const check = () => cli(['check', 'phase1-pilot-production', '--out', outdir], env);
    const missingLines = (err: string) => err.split('\n').filter((l) => /^ {2}\S/.test(l)).map((l) => l.trim().split(/[ :]/)[0]);
    // The stand-in's token alone is no rehearsal: without the override, Terraform would read the bucket and roll out.
    const before = await check();
    expect(before.code).toBe(1);
    expect(missingLines(before.err)).toEqual(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'SSH_AUTH_SOCK']);
    const override = writeStandInOverride(stackDir, path.join(outdir, 'rehearsal.cloud.json'));
    try {
      const { code, out, err } = await check();
      expect({ code, err }).toEqual({ code: 0, err: '' });
      expect(out).toMatch(/^Everything phase1-pilot-production needs in this rehearsal against the stand-in is set \(\d+ variables and credentials\)\.$/m);
      expect(out).toContain('Not needed in this rehearsal against the stand-in, only by a real deploy: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, SSH_AUTH_SOCK '
        + `[phase1-pilot-production]. The stand-in's override beside the stack (${path.basename(override)}) keeps the state in a local file`);
      // The doc it points to opens from where the CLI ran.
      expect(fs.existsSync(/\(see (\S+)\)\.$/m.exec(out)![1])).toBe(true);
      // What the rehearsal does need is still missing when unset, and only that.
      const { TF_VAR_restic_password: _left, ...withoutOne } = env;
      const missing = await cli(['check', 'phase1-pilot-production', '--out', outdir], withoutOne);
      expect(missing.code).toBe(1);
      expect(missingLines(missing.err)).toEqual(['TF_VAR_restic_password']);
      // Rolled out to a test sshd with a key file, the rehearsal needs no agent either; its state is still local.
      writeStandInOverride(stackDir, path.join(outdir, 'rehearsal.cloud.json'), undefined, { rolloutTarget: { host: '127.0.0.1', port: 2222, privateKeyFile: path.join(outdir, 'id') } });
      expect((await check()).out).toContain('only by a real deploy: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, SSH_AUTH_SOCK [');
    } finally {
      fs.rmSync(override);
    }
  });

  // Audit (mutation): the drill's pairs are compared only for stacks that declare them. A shell that also serves a
  // Phase 2 product holds its offsite bucket's variables; checking a Phase 1 product must not fail on them.
  test('ignores the offsite pairs of the drill when the stacks checked declare none of them', async () => {
    const names = declared('phase1-pilot-production');
    const env = Object.fromEntries([...names.map((n) => [`TF_VAR_${n}`, 'x']), ['HCLOUD_TOKEN', 'x'], ['AWS_ACCESS_KEY_ID', 'x'], ['AWS_SECRET_ACCESS_KEY', 'x'], ['SSH_AUTH_SOCK', '/tmp/agent']]);
    const otherProduct = {
      TF_VAR_offsite_s3_bucket: 'bucket-a', TF_VAR_production_offsite_s3_bucket: 'bucket-b',
      TF_VAR_offsite_s3_secret_access_key: 'one-key', TF_VAR_production_offsite_s3_secret_access_key: 'one-key',
    };
    const { code, out, err } = await cli(['check', 'phase1-pilot-production', '--out', outdir], { ...env, ...otherProduct });
    expect({ code, err }).toEqual({ code: 0, err: '' });
    expect(out).not.toMatch(/offsite/);
  });

  test("refuses one value for two environments' secrets of a kind, and names the old shared name's successor", async () => {
    const stacks = ['phase1-pilot-test', 'phase1-pilot-production'];
    const names = [...new Set(stacks.flatMap(declared))];
    // Every value distinct, as each environment's secret store would hold them.
    const env: NodeJS.ProcessEnv = Object.fromEntries([...names.map((n) => [`TF_VAR_${n}`, `value-of-${n}`]),
      ['HCLOUD_TOKEN', 'x'], ['AWS_ACCESS_KEY_ID', 'x'], ['AWS_SECRET_ACCESS_KEY', 'x'], ['SSH_AUTH_SOCK', '/tmp/agent']]);
    // The drill's two variables are one password (checked below).
    env.TF_VAR_production_backup_drill_password = env.TF_VAR_storage_box_drill_password;
    expect(names).toEqual(expect.arrayContaining(['database_app_password_test', 'database_app_password_production']));
    expect((await cli(['check', ...stacks, '--out', outdir], env)).code).toBe(0);
    // Production's password on the test machine too: refused, naming both variables, never the value.
    const reused = 'one-password-for-every-environment';
    const same = await cli(['check', ...stacks, '--out', outdir], { ...env, TF_VAR_database_app_password_test: reused, TF_VAR_database_app_password_production: reused });
    expect(same.code).toBe(1);
    expect(same.err).toMatch(/^TF_VAR_database_app_password_test and TF_VAR_database_app_password_production hold the same value: .* Fix: give each environment a value of its own/m);
    expect(`${same.out}${same.err}`).not.toContain(reused);
    // Checking test alone still sees production's value beside it.
    expect((await cli(['check', 'phase1-pilot-test', '--out', outdir], { ...env, TF_VAR_database_app_password_production: env.TF_VAR_database_app_password_test })).code).toBe(1);
    // The name every environment shared before: not read any more, and the fix says so.
    const legacy: NodeJS.ProcessEnv = { ...env, TF_VAR_database_app_password: reused };
    delete legacy.TF_VAR_database_app_password_production;
    const old = await cli(['check', 'phase1-pilot-production', '--out', outdir], legacy);
    expect(old.code).toBe(1);
    expect(old.err).toMatch(/^ {2}TF_VAR_database_app_password_production \(secret\): .*\n {4}Fix: TF_VAR_database_app_password is set, but each environment now has its own/m);
  });

  test("fails when the test stack's drill password differs from production's drill sub-account password, naming no value", async () => {
    const stacks = ['phase1-pilot-production', 'phase1-pilot-test'];
    const names = [...new Set(stacks.flatMap(declared))];
    expect(names).toEqual(expect.arrayContaining(['storage_box_drill_password', 'production_backup_drill_password']));
    // Each environment's secrets differ (check refuses one value for two), the drill's pair is one password.
    const env: NodeJS.ProcessEnv = Object.fromEntries([...names.map((n) => [`TF_VAR_${n}`, `value-of-${n}`]), ['HCLOUD_TOKEN', 'x'], ['AWS_ACCESS_KEY_ID', 'x'], ['AWS_SECRET_ACCESS_KEY', 'x'], ['SSH_AUTH_SOCK', '/tmp/agent']]);
    env.TF_VAR_production_backup_drill_password = env.TF_VAR_storage_box_drill_password;
    expect((await cli(['check', ...stacks, '--out', outdir], env)).code).toBe(0);
    const differing = { ...env, TF_VAR_storage_box_drill_password: 'drill-password-one', TF_VAR_production_backup_drill_password: 'drill-password-two' };
    const { code, err } = await cli(['check', ...stacks, '--out', outdir], differing);
    expect(code).toBe(1);
    expect(err).toMatch(/TF_VAR_storage_box_drill_password and TF_VAR_production_backup_drill_password differ: .*weekly drill.*\n {4}Fix: set TF_VAR_production_backup_drill_password to the value of TF_VAR_storage_box_drill_password/);
    expect(err).not.toMatch(/drill-password-(one|two)/);
    // Checking the test stack alone sees it too: the drill is what fails.
    expect((await cli(['check', 'phase1-pilot-test', '--out', outdir], differing)).code).toBe(1);
    // Each variable's description names its twin, so .env.example and CI's list say it before a deploy.
    const json = (stack: string) => JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', stack, 'cdk.tf.json'), 'utf8'));
    expect(json('phase1-pilot-production').variable.storage_box_drill_password.description).toContain("the test stack's production_backup_drill_password must hold the same value");
    expect(json('phase1-pilot-test').variable.production_backup_drill_password.description).toContain("the same value as production's storage_box_drill_password");
  });

  test('--env-example writes exactly the variables the stacks declare, with their descriptions', async () => {
    const file = path.join(outdir, '.env.example');
    const { code } = await cli(['check', '--out', outdir, '--env-example', file]);
    expect(code).toBe(0);
    const text = fs.readFileSync(file, 'utf8');
    const written = [...text.matchAll(/^TF_VAR_(\w+)=$/gm)].map((m) => m[1]).sort();
    const all = [...new Set(fs.readdirSync(path.join(outdir, 'stacks')).flatMap(declared))].sort();
    expect(written).toEqual(all);
    expect(text).toMatch(/^# Password of the restic repositories .+ \(secret\)\. Read by phase1-pilot-production, phase1-pilot-test\.\nTF_VAR_restic_password=$/m);
  });

  test('fails when an HCLOUD_…ENDPOINT sends the provider, with its token, somewhere other than Hetzner, naming no value', async () => {
    const names = declared('phase1-pilot-production');
    const env = Object.fromEntries([...names.map((n) => [`TF_VAR_${n}`, 'x']), ['HCLOUD_TOKEN', 'x'], ['AWS_ACCESS_KEY_ID', 'x'], ['AWS_SECRET_ACCESS_KEY', 'x'], ['SSH_AUTH_SOCK', '/tmp/agent']]);
    const redirected = await cli(['check', 'phase1-pilot-production', '--out', outdir, '--plan'], { ...env, HCLOUD_ENDPOINT: 'https://api.example.net/v1' });
    expect(redirected).toMatchObject({ code: 1, err: expect.stringMatching(/^HCLOUD_ENDPOINT is set to a host other than Hetzner's API \(https:\/\/api\.hetzner\.cloud\/v1, https:\/\/api\.hetzner\.com\/v1\): .* Fix: unset HCLOUD_ENDPOINT before planning/) });
    expect(redirected.err).not.toContain('example.net');
    const deploy = await cli(['check', 'phase1-pilot-production', '--out', outdir], { ...env, HCLOUD_HETZNER_ENDPOINT: 'http://10.0.0.5:8080' });
    expect(deploy).toMatchObject({ code: 1, err: expect.stringMatching(/^HCLOUD_HETZNER_ENDPOINT is set to .* Fix: unset HCLOUD_HETZNER_ENDPOINT before deploying/) });
    // Hetzner's own URL passes, and a stand-in on this machine (the token never leaves it).
    for (const endpoint of ['https://api.hetzner.cloud/v1', 'http://127.0.0.1:8080/v1', 'file:///tmp/cloud.json']) {
      expect([endpoint, (await cli(['check', 'phase1-pilot-production', '--out', outdir], { ...env, HCLOUD_ENDPOINT: endpoint })).code]).toEqual([endpoint, 0]);
    }
  });

  test('fails with the fix for an unknown stack or a missing synth', async () => {
    const unknown = await cli(['check', 'phase1-pilot-prod', '--out', outdir]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/no synthesized stack named 'phase1-pilot-prod' in .*\. Fix: pass one of phase1-pilot-production, phase1-pilot-staging, phase1-pilot-test\./);
    const none = await cli(['check', '--out', path.join(outdir, 'nothing-here')]);
    expect(none.err).toMatch(/nothing-here\/stacks not found\. Fix: synthesize first/);
  });
});

describe('cdktf-sovereign-hetzner check, from Phase 2: the drill of the offsite bucket', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'check-cli-offsite-'));
  const app = new App({ outdir });
  phase2PayingCustomers(app);
  app.synth();
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));
  const stacks = ['phase2-paying-production', 'phase2-paying-test'];
  const variables = (stack: string): Record<string, any> => JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', stack, 'cdk.tf.json'), 'utf8')).variable;

  /** Every value distinct, as each environment's secret store would hold them, and each pair the drill needs as one. */
  const soundEnvironment = (): NodeJS.ProcessEnv => {
    const names = [...new Set(stacks.flatMap((s) => Object.entries(variables(s)).filter(([, v]) => v.default === undefined).map(([n]) => n)))];
    const env: NodeJS.ProcessEnv = Object.fromEntries([...names.map((n) => [`TF_VAR_${n}`, `value-of-${n}`]),
      ['HCLOUD_TOKEN', 'x'], ['AWS_ACCESS_KEY_ID', 'x'], ['AWS_SECRET_ACCESS_KEY', 'x'], ['SSH_AUTH_SOCK', '/tmp/agent']]);
    env.TF_VAR_production_backup_drill_password = env.TF_VAR_storage_box_drill_password;
    env.TF_VAR_production_offsite_s3_endpoint = env.TF_VAR_offsite_s3_endpoint;
    env.TF_VAR_production_offsite_s3_bucket = env.TF_VAR_offsite_s3_bucket;
    return env;
  };

  test('the test stack declares the bucket with a key of its own, and each description names its twin', () => {
    const test = variables('phase2-paying-test');
    for (const name of ['production_offsite_s3_endpoint', 'production_offsite_s3_bucket', 'production_offsite_s3_access_key_id', 'production_offsite_s3_secret_access_key']) {
      expect(test[name]).toMatchObject({ sensitive: true });
    }
    expect(test.production_offsite_s3_bucket.description).toContain("the same value as production's offsite_s3_bucket");
    expect(test.production_offsite_s3_access_key_id.description).toMatch(/read-only key .*not production's writing key/);
    expect(variables('phase2-paying-production').offsite_s3_endpoint.description).toContain("the test stack's production_offsite_s3_endpoint holds the same");
  });

  test('passes with the same bucket and a key of its own; fails naming the pair, never a value, on another bucket or production\'s key', async () => {
    const env = soundEnvironment();
    expect((await cli(['check', ...stacks, '--out', outdir], env)).code).toBe(0);

    const otherBucket = await cli(['check', ...stacks, '--out', outdir], { ...env, TF_VAR_production_offsite_s3_bucket: 'another-bucket-name' });
    expect(otherBucket.code).toBe(1);
    expect(otherBucket.err).toMatch(/^TF_VAR_offsite_s3_bucket and TF_VAR_production_offsite_s3_bucket differ: .*weekly drill.*\n {4}Fix: set TF_VAR_production_offsite_s3_bucket to the value of TF_VAR_offsite_s3_bucket\.$/m);
    expect(otherBucket.err).not.toContain('another-bucket-name');
    // One endpoint with and without its trailing slash is the same endpoint.
    expect((await cli(['check', ...stacks, '--out', outdir], { ...env, TF_VAR_offsite_s3_endpoint: 'https://s3.example.eu', TF_VAR_production_offsite_s3_endpoint: 'https://s3.example.eu/' })).code).toBe(0);
    expect((await cli(['check', ...stacks, '--out', outdir], { ...env, TF_VAR_offsite_s3_endpoint: 'https://s3.example.eu', TF_VAR_production_offsite_s3_endpoint: 'https://s3.other.eu' })).code).toBe(1);

    const writingKey = 'production-writing-key-secret';
    const shared = await cli(['check', ...stacks, '--out', outdir], { ...env, TF_VAR_offsite_s3_secret_access_key: writingKey, TF_VAR_production_offsite_s3_secret_access_key: writingKey });
    expect(shared.code).toBe(1);
    expect(shared.err).toMatch(/^TF_VAR_offsite_s3_secret_access_key and TF_VAR_production_offsite_s3_secret_access_key hold the same value: the always-on test machine would hold production's writing key .*\n {4}Fix: create a read-only key for the bucket/m);
    expect(`${shared.out}${shared.err}`).not.toContain(writingKey);
    // The test stack checked alone sees production's key beside it.
    expect((await cli(['check', 'phase2-paying-test', '--out', outdir], { ...env, TF_VAR_production_offsite_s3_access_key_id: env.TF_VAR_offsite_s3_access_key_id })).code).toBe(1);
  });
});

describe('check of stacks whose state is in buckets of different projects (stateBuckets, as init scaffolds)', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'check-buckets-'));
  const app = new App({ outdir });
  new ProductStacks(app, new Product({
    name: 'acme',
    phase: Phase.ONE,
    admin: EXAMPLE_ADMIN,
    ...exampleBoundary(),
    monitoring: exampleMonitoring('acme.example.eu'),
    backup: exampleBackup({ offsite: false }),
    stateBucket: 'acme-tfstate',
    stateBuckets: { production: 'acme-production-tfstate' },
    staging: StagingMode.fromProductionSnapshot(),
  }));
  app.synth();
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));
  const stacks = ['acme-test', 'acme-production'];

  test("names each stack's own bucket for its Object Storage key, never production's for test", async () => {
    const { code, err } = await cli(['check', ...stacks, '--out', outdir]);
    expect(code).toBe(1);
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
      const lines = err.split('\n').filter((l) => l.startsWith(`  ${name}`));
      expect(lines).toEqual(expect.arrayContaining([
        expect.stringMatching(/the state bucket 'acme-tfstate' .*\[acme-test\]$/),
        expect.stringMatching(/the state bucket 'acme-production-tfstate' .*\[acme-production\]$/),
      ]));
      expect(lines).toHaveLength(2);
    }
  });

  test('when one key is set for both, passes (both buckets may be in one project) and says when that is right', async () => {
    const names = [...new Set(stacks.flatMap((stack) => Object.entries<any>(JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', stack, 'cdk.tf.json'), 'utf8')).variable ?? {})
      .filter(([, v]) => v.default === undefined).map(([name]) => name)))];
    const env = Object.fromEntries([...names.map((n) => [`TF_VAR_${n}`, `value-of-${n}`]), ['HCLOUD_TOKEN', 'x'], ['AWS_ACCESS_KEY_ID', 'x'], ['AWS_SECRET_ACCESS_KEY', 'x'], ['SSH_AUTH_SOCK', '/tmp/agent']]);
    env.TF_VAR_production_backup_drill_password = env.TF_VAR_storage_box_drill_password;
    const { code, out, err } = await cli(['check', ...stacks, '--out', outdir], env);
    expect({ code, err }).toEqual({ code: 0, err: '' });
    expect(out).toMatch(/^Note: AWS_ACCESS_KEY_ID is read for the state buckets of acme-test and of acme-production, which differ: one value is right only if they are in one Hetzner project\. Otherwise check and deploy the stacks one at a time/m);
    // One stack alone, or stacks of one bucket, get no such note.
    expect((await cli(['check', 'acme-production', '--out', outdir], env)).out).not.toMatch(/Note:/);
  });
});
