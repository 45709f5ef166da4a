import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, TerraformStack } from 'cdktf';
import { HcloudProvider } from '../../generated/providers/hcloud/provider';
import { BoundarySuppressions, Phase, Product } from '../../lib';
import { PACKAGE_NAME } from '../../lib/core/private/package-name';
import { ProductStacks } from '../../stacks';
import { admin, backup, monitoring } from '../setup/product-basics';
import { appSynthError } from './beside-product';
import { checkedStack, machine, policy } from './fixtures';

// Red team (audit redteam): every failed synth ends with cdktf's own hint, "pass 'skipValidation:
// true' to your App configuration". A hurried developer who did so turned the whole data boundary
// off: the stacks were written unchecked, and boundary.md was still published saying every rule is
// enforced at synth.

describe('skipValidation does not skip the data boundary', () => {
  test('a sensitive machine with open egress still fails, and its stack is not written', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'skip-validation-'));
    const app = new App({ outdir, skipValidation: true });
    machine(checkedStack('production', app), 'App', {}, false);
    const error = appSynthError(app);
    expect(error).toMatch(/\[production\] Boundary-RestrictedEgress: production\/App\/\w+\.egress: 'allow all' is not allowed/);
    // The CDK's name is either (the cdktn build rewrites imports only); the library's is the one it runs as.
    expect(error).toContain(`skipValidation skips the CDK's validations (cdktf's or cdktn's), not the rule packs of ${PACKAGE_NAME} (the data boundary): `);
    expect(error).toMatch(/ Fix the findings, or accept a rule pack's finding with BoundarySuppressions\.add/);
    expect(fs.existsSync(path.join(outdir, 'stacks', 'production', 'cdk.tf.json'))).toBe(false);
  });

  test('a stack beside the product with no pack still fails', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'skip-validation-'));
    const app = new App({ outdir, skipValidation: true });
    new ProductStacks(app, new Product({ name: 'acme', phase: Phase.ONE, stateBucket: 'acme-tfstate', boundary: policy, admin, backup, monitoring }));
    new HcloudProvider(new TerraformStack(app, 'analytics'), 'hcloud', {});
    expect(appSynthError(app)).toMatch(/analytics\.aspects: 'no boundary rule pack' is not allowed/);
  });

  test('a compliant app, or a finding accepted with a reason, still synthesizes with skipValidation', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'skip-validation-'));
    const app = new App({ outdir, skipValidation: true });
    const stack = checkedStack('production', app);
    machine(stack);
    const open = machine(stack, 'Open', { role: 'batch' }, false);
    BoundarySuppressions.add(open, [{ id: 'Boundary-RestrictedEgress', reason: 'Batch job pulls public datasets until the proxy lands' }]);
    expect(appSynthError(app)).toBe('');
  });
});
