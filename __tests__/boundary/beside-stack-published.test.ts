import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Aspects, TerraformStack } from 'cdktf';
import { HcloudProvider } from '../../generated/providers/hcloud/provider';
import { BoundaryChecks, BoundarySuppressions, DataClass, Environment, Machine, Phase, Product, ServerType, SshKey } from '../../lib';
import { ProductStacks } from '../../stacks';
import { admin, backup, monitoring } from '../setup/product-basics';
import { policy } from './fixtures';

// Red team (audit redteam): a stack beside the product's environments must run the product's pack,
// but boundary.md covered the environments only. A suppression there (an analytics box holding
// sensitive data with open egress, "accepted") passed synth while the published boundary said
// "None: every rule applies everywhere" and did not show the box's data at all.

describe('boundary.md publishes the stacks checked beside the product', () => {
  test('a suppression and the sensitive data of a stack beside the environments are listed', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'beside-doc-'));
    const app = new App({ outdir });
    new ProductStacks(app, new Product({ name: 'acme', phase: Phase.ONE, stateBucket: 'acme-tfstate', boundary: policy, admin, backup, monitoring }));
    const stack = new TerraformStack(app, 'analytics');
    new HcloudProvider(stack, 'hcloud', {});
    const box = new Machine(stack, 'Box', {
      environment: Environment.PRODUCTION, role: 'analytics', name: 'acme-analytics', serverType: ServerType.CX33, sshKeys: [SshKey.fromName('admin')],
      adminCidrs: ['203.0.113.0/24'], dataClasses: [DataClass.SENSITIVE],
    });
    BoundarySuppressions.add(box, [{ id: 'Boundary-RestrictedEgress', reason: 'Pulls public datasets from many mirrors until the proxy lands' }]);
    Aspects.of(stack).add(new BoundaryChecks({ policy }));
    app.synth();
    const doc = fs.readFileSync(path.join(outdir, 'products', 'acme', 'boundary.md'), 'utf8');
    expect(doc).toMatch(/\| Boundary-RestrictedEgress \| analytics\/Box \| Pulls public datasets from many mirrors until the proxy lands \|/);
    expect(doc).not.toMatch(/None: every rule applies everywhere/);
    expect(doc).toMatch(/\| sensitive \| [^\n]*analytics: hcloud_server acme-analytics \(fsn1\)/);
    expect(doc).toMatch(/### analytics\/Box\/\w+ \(sensitive\)\n\n\*\*No host allowlist\*\*/);
  });
});
