import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DataResource, TerraformStack, Testing } from 'cdktf';
import { ObjectStorageBackend } from '../../lib';
import { TerraformData } from '../../lib/core/private/terraform-data';

const ADMIN_SSH_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr ops@acme.eu';

type Modules = { cdktf: typeof import('cdktf'); lib: typeof import('../../lib'); stacks: typeof import('../../stacks') };

/**
 * Synthesizes `build`'s stack with its validations, with TERRAFORM_BINARY_NAME naming a `terraform` that counts its
 * runs, or one that does not exist (a machine without Terraform). cdktf reads the name when it loads, so the modules
 * are loaded afresh. Returns the runs counted, the synthesized JSON and what the synth threw.
 */
function synthWithTerraform(terraform: 'counting' | 'missing', build: (modules: Modules) => TerraformStack): { runs: number; json?: any; error?: unknown } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synth-terraform-'));
  const binary = path.join(dir, 'terraform');
  if (terraform === 'counting') fs.writeFileSync(binary, `#!/bin/sh\necho "$*" >> '${dir}/runs'\necho 'Terraform v1.11.4'\n`, { mode: 0o755 });
  const saved = process.env.TERRAFORM_BINARY_NAME;
  process.env.TERRAFORM_BINARY_NAME = binary;
  let json: any;
  let error: unknown;
  try {
    jest.isolateModules(() => {
      const cdktf = require('cdktf');
      try {
        json = JSON.parse(cdktf.Testing.synth(build({ cdktf, lib: require('../../lib'), stacks: require('../../stacks') }), true));
      } catch (e) {
        error = e;
      }
    });
    const runs = fs.existsSync(path.join(dir, 'runs')) ? fs.readFileSync(path.join(dir, 'runs'), 'utf8').trim().split('\n').length : 0;
    return { runs, json, error };
  } finally {
    if (saved === undefined) delete process.env.TERRAFORM_BINARY_NAME;
    else process.env.TERRAFORM_BINARY_NAME = saved;
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('terraform_data without a Terraform at synth', () => {
  test("cdktf's DataResource runs `terraform version` at every synth, and fails the synth without Terraform (what this class avoids)", () => {
    const control = ({ cdktf }: Modules) => {
      const stack = new cdktf.TerraformStack(cdktf.Testing.app(), 'control');
      new cdktf.DataResource(stack, 'Data', { triggersReplace: { a: '1' } });
      return stack;
    };
    expect(synthWithTerraform('counting', control)).toMatchObject({ runs: 1, error: undefined });
    expect(String(synthWithTerraform('missing', control).error)).toMatch(/Validation failed[\s\S]*Could not determine version of \S*terraform/);
  });

  test("a product's stacks (machine rollouts, an offsite target's precondition) synthesize, validations included, without running Terraform", () => {
    const { runs, json, error } = synthWithTerraform('counting', ({ cdktf, lib, stacks }) => {
      const product = new lib.Product({
        name: 'acme', phase: lib.Phase.TWO, stateBucket: 'acme-state', boundary: require('../boundary/fixtures').policy,
        admin: { sshPublicKeys: { ops: ADMIN_SSH_KEY }, cidrs: ['198.51.100.0/24'] },
        monitoring: new lib.MonitoringPlan({
          uptimeChecks: [lib.UptimeCheck.http(lib.Environment.PRODUCTION, 'https://acme.eu/health')],
          receivers: [lib.AlertReceiver.webhook('ops', { hostname: 'chat.acme.eu' })],
          deadMansSwitch: lib.DeadMansSwitch.healthchecksIo(),
        }),
        backup: { offsite: lib.S3Provider.IONOS, restoreChecks: [lib.RestoreCheck.sql('users-present', { database: 'app', query: 'SELECT count(*) > 0 FROM users' })] },
      });
      return new stacks.ProductStacks(cdktf.Testing.app(), product).production;
    });
    // No run at all, so the synth cannot depend on a Terraform being installed.
    expect({ runs, error }).toEqual({ runs: 0, error: undefined });
    // The machine's rollout and the offsite endpoint's port precondition.
    expect(Object.keys(json.resource.terraform_data)).toEqual(expect.arrayContaining([expect.stringMatching(/Rollout/), expect.stringMatching(/Endpoint|Port|Offsite/i)]));
  });

  test('synthesizes what DataResource does: triggers_replace and the meta-arguments, in JSON and in HCL', () => {
    const build = (kind: 'ours' | 'cdktf') => {
      const stack = new TerraformStack(Testing.app(), 'same');
      const config = {
        triggersReplace: { bundle: 'sha256:abc', inputs: '${var.x}' },
        connection: { type: 'ssh' as const, host: '203.0.113.7', user: 'root' },
        provisioners: [{ type: 'remote-exec' as const, inline: ['true'] }],
        lifecycle: { precondition: [{ condition: 'true', errorMessage: 'never' }] },
      };
      if (kind === 'ours') new TerraformData(stack, 'Data', config);
      else new DataResource(stack, 'Data', config);
      return stack;
    };
    const [ours, theirs] = [build('ours'), build('cdktf')];
    const resources = (stack: TerraformStack) => JSON.parse(Testing.synth(stack)).resource;
    const oursJson = resources(ours);
    expect(oursJson.terraform_data.Data.triggers_replace).toEqual({ bundle: 'sha256:abc', inputs: '${var.x}' });
    expect(oursJson).toEqual(resources(theirs));
    const hcl = Testing.synthHcl(ours);
    expect(hcl).toMatch(/resource "terraform_data" "Data" \{\s*triggers_replace = \{/);
    expect(hcl).toBe(Testing.synthHcl(theirs));
  });
});

describe('the Terraform version a stack declares', () => {
  const requiredVersion = (stack: TerraformStack) => JSON.parse(Testing.synth(stack)).terraform?.required_version;

  test('terraform_data needs 1.4: its stack says so, so an older Terraform names the version at init', () => {
    const stack = new TerraformStack(Testing.app(), 'local-state');
    expect(requiredVersion(stack)).toBeUndefined();
    new TerraformData(stack, 'Data', { triggersReplace: { a: 'b' } });
    new TerraformData(stack, 'Other');
    expect(requiredVersion(stack)).toBe('>= 1.4');
  });

  test('the highest need wins, whichever element comes first; a stack\'s own setting wins over all', () => {
    for (const order of [['data', 'backend'], ['backend', 'data']]) {
      const stack = new TerraformStack(Testing.app(), 'production');
      for (const what of order) {
        if (what === 'data') new TerraformData(stack, 'Data');
        else new ObjectStorageBackend(stack, { bucket: 'acme-state' });
      }
      expect([order, requiredVersion(stack)]).toEqual([order, '>= 1.10']);
      stack.addOverride('terraform.required_version', '~> 1.11.0');
      expect([order, requiredVersion(stack)]).toEqual([order, '~> 1.11.0']);
    }
  });

  test('each stack has its own: a stack without terraform_data or the backend declares none', () => {
    const app = Testing.app();
    const withData = new TerraformStack(app, 'with-data');
    new TerraformData(withData, 'Data');
    const plain = new TerraformStack(app, 'plain');
    expect([requiredVersion(withData), requiredVersion(plain)]).toEqual(['>= 1.4', undefined]);
  });

  test("cdktf's HCL output carries none: its renderer writes the terraform block's settings as `0 = ...`, which Terraform cannot parse", () => {
    const stack = new TerraformStack(Testing.app(), 'production');
    new ObjectStorageBackend(stack, { bucket: 'acme-state' });
    new TerraformData(stack, 'Data');
    const hcl = Testing.synthHcl(stack);
    expect(hcl).toMatch(/backend "s3" \{/);
    expect(hcl).not.toMatch(/^\s*\d+ = /m);
    expect(hcl).not.toContain('required_version');
  });
});
