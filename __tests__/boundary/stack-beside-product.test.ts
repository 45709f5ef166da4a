import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Aspects, TerraformStack } from 'cdktf';
import { HcloudProvider } from '../../generated/providers/hcloud/provider';
import { BoundaryChecks, DataClass, Environment, Machine, Phase, Product, ServerType, SshKey } from '../../lib';
import { ProductStacks } from '../../stacks';
import { admin, backup, monitoring } from '../setup/product-basics';
import { policy } from './fixtures';

// Red team (audit boundary3): a stack added to the app beside the product's environments had no
// rule pack (the environments add their own), so a sensitive machine in it with open egress passed
// synth, and boundary.md, which covers the environments, did not show it.

function productApp(): App {
  const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'beside-')) });
  new ProductStacks(app, new Product({ name: 'acme', phase: Phase.ONE, stateBucket: 'acme-tfstate', boundary: policy, admin, backup, monitoring }));
  return app;
}

function analytics(app: App): TerraformStack {
  const stack = new TerraformStack(app, 'analytics');
  new HcloudProvider(stack, 'hcloud', {});
  new Machine(stack, 'Box', {
    environment: Environment.PRODUCTION, role: 'analytics', serverType: ServerType.CX33, sshKeys: [SshKey.fromName('admin')],
    adminCidrs: ['203.0.113.0/24'], dataClasses: [DataClass.SENSITIVE],
  });
  return stack;
}

function synthError(app: App): string {
  try {
    app.synth();
    return '';
  } catch (e) {
    return String((e as Error).message);
  }
}

describe('red team: a stack beside the product is checked too', () => {
  test('a stack without a pack fails synth with the fix', () => {
    const app = productApp();
    analytics(app);
    expect(synthError(app)).toMatch(/analytics\.aspects: 'no boundary rule pack' is not allowed: .* Fix: add the pack to it, Aspects\.of\(stack\)\.add\(new BoundaryChecks/);
  });

  test('with the pack, its own findings fail synth', () => {
    const app = productApp();
    Aspects.of(analytics(app)).add(new BoundaryChecks({ policy }));
    const error = synthError(app);
    expect(error).not.toMatch(/no boundary rule pack/);
    expect(error).toMatch(/Boundary-RestrictedEgress: analytics\/Box\/\w+\.egress: 'allow all' is not allowed/);
  });
});
