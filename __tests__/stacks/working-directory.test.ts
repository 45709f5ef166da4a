import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Testing } from 'cdktf';
import { Phase, Product } from '../../lib';
import { ProductStacks } from '../../stacks';
import { HetznerStandIn, placeholderVariables, writeStandInOverride } from '../../testing';
import { runTerraform } from '../../testing/harness/terraform-cli';
import { policy } from '../boundary/fixtures';
import { admin, backup, monitoring } from '../setup/product-basics';
import { sentinelFor } from '../setup/secret-sentinels';

// `cdktf plan` (and `cdktf diff`) run `terraform plan -out plan` in cdktf.out/stacks/<stack>: the saved plan holds
// every variable's value in clear. Synth keeps that directory to its owner and removes a plan saved there before.

const product = () => new Product({ name: 'acme', phase: Phase.ONE, admin, stateBucket: 'acme-state', boundary: policy, backup, monitoring });

describe("a stack's working directory, where Terraform saves plans that hold the stack's secrets", () => {
  const standIn = HetznerStandIn.shared();
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'working-directory-'));
  // The usual umask: what Terraform and a plain mkdir create is readable by every local user.
  const umask = process.umask(0o022);
  afterAll(() => {
    process.umask(umask);
    fs.rmSync(outdir, { recursive: true, force: true });
  });
  const synth = () => {
    const app = new App({ outdir });
    new ProductStacks(app, product());
    app.synth();
  };
  const modeOf = (file: string) => fs.statSync(file).mode & 0o777;

  test("is its owner's alone, and the next synth (every cdktf deploy starts with one) removes the plan cdktf saved there", () => {
    synth();
    const dir = path.join(outdir, 'stacks', 'acme-production');
    for (const stack of fs.readdirSync(path.join(outdir, 'stacks'))) expect([stack, modeOf(path.join(outdir, 'stacks', stack))]).toEqual([stack, 0o700]);

    // What `cdktf plan acme-production` runs there, with production's secrets from TF_VAR_….
    writeStandInOverride(dir, path.join(outdir, 'cloud.json'));
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'cdk.tf.json'), 'utf8'));
    const password = sentinelFor('database_app_password_production');
    const env = { ...standIn.env(), ...placeholderVariables(json, {}), TF_VAR_database_app_password_production: password };
    const init = runTerraform(['init', '-input=false', '-no-color'], dir, env, 240_000);
    expect(init.stderr).toBe('');
    const plan = runTerraform(['plan', '-input=false', '-no-color', '-out', 'plan'], dir, env, 240_000);
    expect(plan.ok).toBe(true);
    const saved = path.join(dir, 'plan');
    // The saved plan holds the password in clear (a zip of the configuration, the state and the variables' values),
    // and Terraform wrote it readable by everyone: only the directory keeps other users out.
    expect(spawnSync('unzip', ['-p', saved], { encoding: 'latin1' }).stdout).toContain(password);
    expect(modeOf(saved)).toBe(0o644);
    expect(modeOf(dir)).toBe(0o700);

    synth();
    expect(fs.existsSync(saved)).toBe(false);
    expect(modeOf(dir)).toBe(0o700);
    // What Terraform needs stays: its initialized directory and the override beside the stack.
    expect(fs.existsSync(path.join(dir, '.terraform'))).toBe(true);
  }, 300_000);
});

describe("the stand-in's workspaces, where the tests' plans run (with real secrets when TF_VAR_… are set)", () => {
  test('keep no saved plan once read, in a directory of their owner alone', () => {
    const json = JSON.parse(Testing.synth(new ProductStacks(Testing.app(), product()).test, true));
    const password = sentinelFor('database_app_password_test');
    const ws = HetznerStandIn.shared().workspace(json).setVariables({ TF_VAR_database_app_password_test: password }).setConfiguration(json);
    const planned = ws.plan();
    expect(planned.changes?.creates.length).toBeGreaterThan(5);
    expect(fs.readdirSync(ws.dir).filter((f) => /plan/.test(f))).toEqual([]);
    expect(fs.statSync(ws.dir).mode & 0o777).toBe(0o700);
  }, 300_000);
});

// Audit (secrets): only EnvironmentStack protected its working directory; a team's own TerraformStack holding the same
// secrets kept cdktf's 0755 directory. __tests__/core/secrets-at-synth.test.ts proves it for every construct that takes a secret.
