import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { App, TerraformOutput, TerraformResource, TerraformStack, Testing } from 'cdktf';
import { HcloudProvider } from '../../generated/providers/hcloud/provider';
import { Environment, ObjectStorageBackend, PrivateNetwork, SecretVariable } from '../../lib';
import { terraformBinary } from '../../testing/harness/terraform-cli';
import { describeWithRealParts, hasTerraform } from '../setup/real-parts';
import { earlierHclFiles, thrownMessage, withHcl } from '../setup/stack';

// Review (hcl): ObjectStorageBackend recommended stack.addOverride('terraform.required_version', …) for a narrower
// range; cdktf 0.21's HCL renderer writes the terraform block's plain settings as list indexes (`0 = "required_version"`),
// so with --hcl the synth succeeded and wrote a cdk.tf that Terraform cannot parse.

/** A stack holding an ObjectStorageBackend (so this library guards its rendering), built under the current --hcl. */
function backendStack(app: App): TerraformStack {
  const stack = new TerraformStack(app, 'production');
  new HcloudProvider(stack, 'hcloud', {});
  new ObjectStorageBackend(stack, { bucket: 'acme-state' });
  return stack;
}

/** Terraform's parse of an HCL text: `fmt -` exits 0 when it parses, 2 (naming the line) when it does not. */
function terraformParse(hcl: string): { status: number | null; stderr: string } {
  const run = spawnSync(terraformBinary(), ['fmt', '-no-color', '-'], { input: hcl, encoding: 'utf8' });
  return { status: run.status, stderr: run.stderr };
}

/** A stack named network holding only a PrivateNetwork (guarded, with no secret and no written-stack check). */
function networkStack(app: App): { stack: TerraformStack; network: PrivateNetwork } {
  const stack = new TerraformStack(app, 'network');
  new HcloudProvider(stack, 'hcloud', {});
  return { stack, network: new PrivateNetwork(stack, 'Network', { environment: Environment.TEST, subnetRange: '10.0.1.0/24' }) };
}

describe("a stack's override of a plain terraform setting", () => {
  test.each([false, true])('is written as JSON, and refused with --hcl naming the override, why and the fix (hcl %s)', (hcl) => {
    withHcl(hcl, () => {
      const app = Testing.app();
      const stack = backendStack(app);
      stack.addOverride('terraform.required_version', '>= 1.11, < 2.0');
      const file = path.join(app.outdir, 'stacks', 'production', hcl ? 'cdk.tf' : 'cdk.tf.json');
      const earlier = hcl ? earlierHclFiles(app.outdir, 'production') : [];
      const message = thrownMessage(() => app.synth());
      if (!hcl) {
        expect(message).toBe('');
        expect(JSON.parse(fs.readFileSync(file, 'utf8')).terraform.required_version).toBe('>= 1.11, < 2.0');
        return;
      }
      expect(message).toContain("[production] stack.addOverride('terraform.required_version'): with HCL output (--hcl, SYNTH_HCL_OUTPUT, Testing.synthHcl) "
        + 'cdktf 0.21 and cdktn 0.24 write a plain setting of the terraform block as a list index (such as 0 = "required_version"), '
        + 'which Terraform cannot parse: init and validate would fail on cdk.tf. '
        + 'Synthesize JSON (without --hcl), which writes it, or leave it out under --hcl: of the terraform block, cdk.tf carries only required_providers, backend and cloud.');
      for (const f of earlier) expect(fs.existsSync(f)).toBe(false);
    });
  });

  test('with --hcl, is named with a dropped resource override in one refusal, one line each', () => {
    withHcl(true, () => {
      const app = Testing.app();
      const stack = backendStack(app);
      stack.addOverride('terraform.experiments', []);
      stack.addOverride('output.extra.value', 'x');
      const lines = thrownMessage(() => app.synth()).split('\n');
      expect(lines[0]).toMatch(/^\[production\] stack\.addOverride\('output\.extra\.value'\): with HCL output .* cdktf 0\.21 and cdktn 0\.24 write only the terraform block/);
      expect(lines[1]).toMatch(/^\[production\] stack\.addOverride\('terraform\.experiments'\): with HCL output .*\(such as 0 = "experiments"\)/);
    });
  });

  // Review (hcl): the refusal was installed only by the written-stack check and secrets-at-synth, so a stack holding
  // only constructs that take neither path (a PrivateNetwork) wrote `0 = "required_version"` into cdk.tf.
  test('with --hcl, is refused on a stack holding only a PrivateNetwork, and its earlier cdk.tf and metadata.json go', () => {
    withHcl(true, () => {
      const app = Testing.app();
      const { stack } = networkStack(app);
      stack.addOverride('terraform.required_version', '>= 1.11');
      const earlier = earlierHclFiles(app.outdir, 'network');
      expect(thrownMessage(() => app.synth())).toContain("[network] stack.addOverride('terraform.required_version'): with HCL output (--hcl, SYNTH_HCL_OUTPUT, Testing.synthHcl) cdktf 0.21 and cdktn 0.24 write a plain setting");
      for (const f of earlier) expect(fs.existsSync(f)).toBe(false);
    });
  });

  // Review (hcl): a deletion (the value undefined) of a terraform setting takes it out of the HCL as of the JSON.
  test('with --hcl, a deletion of a plain terraform setting is written (without the setting), not refused', () => {
    withHcl(true, () => {
      const app = Testing.app();
      const stack = backendStack(app);
      stack.addOverride('terraform.required_version', undefined);
      expect(thrownMessage(() => app.synth())).toBe('');
      const hcl = fs.readFileSync(path.join(app.outdir, 'stacks', 'production', 'cdk.tf'), 'utf8');
      expect(hcl).toMatch(/backend "s3"/);
      expect(hcl).not.toMatch(/required_version/);
    });
  });

  // The HCL renders resources apart from the stack's overrides: a deletion of a resource's attribute is made in the JSON
  // the checks read, not in cdk.tf, which would still deploy it.
  test('with --hcl, a deletion of a resource attribute is refused as left out of cdk.tf', () => {
    withHcl(true, () => {
      const app = Testing.app();
      const { stack, network } = networkStack(app);
      const resource = network.node.findAll().find((c) => c instanceof TerraformResource && c.terraformResourceType === 'hcloud_network') as TerraformResource;
      const key = `resource.hcloud_network.${stack.getLogicalId(resource)}.labels`;
      stack.addOverride(key, undefined);
      expect(JSON.parse(Testing.synth(stack)).resource.hcloud_network[stack.getLogicalId(resource)].labels).toBeUndefined();
      expect(thrownMessage(() => app.synth())).toContain(`[network] stack.addOverride('${key}'): with HCL output (--hcl, SYNTH_HCL_OUTPUT, Testing.synthHcl) cdktf 0.21 and cdktn 0.24 write only the terraform block`);
    });
  });
});

// A team's snapshot test renders HCL with Testing.synthHcl, without --hcl: the guard is on the stack's HCL rendering
// itself, so it refuses there too (that HCL would be as wrong as cdk.tf), and the message names that way of rendering.
test('Testing.synthHcl of a guarded stack refuses an override its HCL would miswrite', () => {
  const { stack } = networkStack(Testing.app());
  expect(Testing.synthHcl(stack)).toContain('hcloud_network');
  stack.addOverride('terraform.required_version', '>= 1.11');
  expect(() => Testing.synthHcl(stack)).toThrow("[network] stack.addOverride('terraform.required_version'): with HCL output (--hcl, SYNTH_HCL_OUTPUT, Testing.synthHcl)");
});

// Review (guard): every HCL rendering of a guarded stack rendered its JSON first, read only by secrets-at-synth and the
// written-stack check: a stack with neither rendered twice.
describe('the JSON rendered before the HCL', () => {
  test('a stack with no secret and no written-stack check renders its HCL alone, once, and still refuses', () => {
    withHcl(true, () => {
      const app = Testing.app();
      const { stack } = networkStack(app);
      const json = jest.spyOn(stack, 'toTerraform');
      const hcl = jest.spyOn(stack, 'toHclTerraform');
      expect(thrownMessage(() => app.synth())).toBe('');
      expect(fs.readFileSync(path.join(app.outdir, 'stacks', 'network', 'cdk.tf'), 'utf8')).toContain('hcloud_network');
      expect(json).toHaveBeenCalledTimes(0);
      expect(hcl).toHaveBeenCalledTimes(1);
      stack.addOverride('terraform.required_version', '>= 1.11');
      expect(thrownMessage(() => app.synth())).toContain("[network] stack.addOverride('terraform.required_version'): with HCL output");
      expect(json).toHaveBeenCalledTimes(0);
    });
  });

  // The flip is a stack override the HCL guard refuses too: the secret's refusal is the one given, as before.
  test("a stack with a secret renders its JSON first, so a secret flipped by a stack override is refused as the secret", () => {
    const stack = new TerraformStack(Testing.app(), 'acme');
    new HcloudProvider(stack, 'hcloud', {});
    new SecretVariable(stack, 'api_token', { description: 'Token of the API' });
    const json = jest.spyOn(stack, 'toTerraform');
    const hcl = jest.spyOn(stack, 'toHclTerraform');
    expect(Testing.synthHcl(stack)).toContain('api_token');
    expect(json).toHaveBeenCalledTimes(1);
    expect(hcl).toHaveBeenCalledTimes(1);
    stack.addOverride('variable.api_token.sensitive', false);
    const message = thrownMessage(() => Testing.synthHcl(stack));
    expect(message).toMatch(/^acme\/api_token\.sensitive: 'var\.api_token' is not allowed: the variable is not rendered sensitive/);
    expect(message).not.toContain('stack.addOverride');
  });
});

describeWithRealParts(hasTerraform(), 'hcl-rendering', 'terraform on PATH, to parse the HCL cdktf writes')('the HCL cdktf 0.21 writes for a terraform override, parsed by Terraform', () => {
  // The ground for the refusal: if a cdktf upgrade writes these settings right, this fails, and the refusal can go.
  test('a plain setting, on a stack this library does not guard, is written so that Terraform cannot parse it', () => {
    withHcl(true, () => {
      const stack = new TerraformStack(Testing.app(), 'plain');
      new TerraformOutput(stack, 'o', { value: 'x' });
      stack.addOverride('terraform.required_version', '>= 1.11');
      const hcl = Testing.synthHcl(stack);
      expect(hcl).toMatch(/^\s*0 = "required_version"$/m);
      const parsed = terraformParse(hcl);
      expect(parsed.status).toBe(2);
      expect(parsed.stderr).toContain('0 = "required_version"');
    });
  });

  test('required_providers and backend overrides, which the refusal lets through, are written and parse', () => {
    withHcl(true, () => {
      const app = Testing.app();
      const stack = backendStack(app);
      stack.addOverride('terraform.required_providers.hcloud.version', '~> 1.52');
      stack.addOverride('terraform.backend.s3.key', 'team/production.tfstate');
      expect(thrownMessage(() => app.synth())).toBe('');
      const hcl = fs.readFileSync(path.join(app.outdir, 'stacks', 'production', 'cdk.tf'), 'utf8');
      expect(hcl).toMatch(/version = "~> 1\.52"/);
      expect(hcl).toMatch(/key = "team\/production\.tfstate"/);
      const parsed = terraformParse(hcl);
      expect(parsed.stderr).not.toMatch(/Error/);
      expect(parsed.status).toBe(0);
    });
  });
});
