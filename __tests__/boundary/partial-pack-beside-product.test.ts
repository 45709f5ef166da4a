import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Aspects, TerraformStack } from 'cdktf';
import { HcloudProvider } from '../../generated/providers/hcloud/provider';
import { AiActRole, BOUNDARY_RULES, BoundaryChecks, BoundaryPolicy, DataClass, DataFlow, EgressForm, Environment, Machine, Phase, Processor, Product, ServerType, SshKey } from '../../lib';
import { ProductStacks } from '../../stacks';
import { admin, backup, monitoring } from '../setup/product-basics';
import { policy } from './fixtures';

// Red team (audit redteam): a stack beside the product's environments passed with any BoundaryChecks
// on it. A pack that left a rule out (instead of a suppression with a reason, which boundary.md
// lists) or judged by another policy let a sensitive machine with open egress through, unlisted.

function productApp(): App {
  const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'partial-pack-')) });
  new ProductStacks(app, new Product({ name: 'acme', phase: Phase.ONE, stateBucket: 'acme-tfstate', boundary: policy, admin, backup, monitoring }));
  return app;
}

function analytics(app: App, dataClass = DataClass.SENSITIVE): TerraformStack {
  const stack = new TerraformStack(app, 'analytics');
  new HcloudProvider(stack, 'hcloud', {});
  new Machine(stack, 'Box', {
    environment: Environment.PRODUCTION, role: 'analytics', serverType: ServerType.CX33, sshKeys: [SshKey.fromName('admin')],
    adminCidrs: ['203.0.113.0/24'], dataClasses: [dataClass],
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

describe('a stack beside the product runs the whole boundary', () => {
  test('a pack that leaves a rule out is refused, naming the rule and the fix', () => {
    const app = productApp();
    Aspects.of(analytics(app)).add(new BoundaryChecks({ policy, rules: BOUNDARY_RULES.filter((r) => r.id !== 'Boundary-RestrictedEgress') }));
    expect(synthError(app)).toMatch(/analytics\.aspects: 'a boundary rule pack that does not run Boundary-RestrictedEgress against the policy of product acme' is not allowed: .* Fix: add the whole pack, .*BoundarySuppressions\.add/);
  });

  test('a pack of another policy, under which a flow the product forbids passes, is refused', () => {
    const app = productApp();
    const looser = new BoundaryPolicy({ aiActRoles: [AiActRole.DEPLOYER], egress: [{ dataClass: DataClass.PSEUDONYMIZED, to: [Processor.mistralAi(), Processor.jinaAi()], form: EgressForm.PSEUDONYMIZED }] });
    const stack = analytics(app, DataClass.PUBLIC);
    // The product's policy sends pseudonymized data to Mistral only.
    DataFlow.declare(stack.node.findChild('Box'), { processor: Processor.jinaAi(), dataClass: DataClass.PSEUDONYMIZED, form: EgressForm.PSEUDONYMIZED });
    Aspects.of(stack).add(new BoundaryChecks({ policy: looser }));
    expect(synthError(app)).toMatch(/analytics\.aspects: 'a boundary rule pack that does not run Boundary-EuPlacement, .* against the policy of product acme' is not allowed/);
  });

  test('the whole pack, of a policy equal by value, or two packs that together run every rule, are accepted', () => {
    const app = productApp();
    const stack = analytics(app);
    const same = new BoundaryPolicy({ aiActRoles: [AiActRole.DEPLOYER], egress: [
      { dataClass: DataClass.PUBLIC, to: [Processor.mistralAi(), Processor.jinaAi()], form: EgressForm.RAW },
      { dataClass: DataClass.PSEUDONYMIZED, to: [Processor.mistralAi()], form: EgressForm.PSEUDONYMIZED },
    ] });
    Aspects.of(stack).add(new BoundaryChecks({ policy: same, rules: BOUNDARY_RULES.slice(0, 5) }));
    Aspects.of(stack).add(new BoundaryChecks({ policy, rules: BOUNDARY_RULES.slice(5) }));
    const error = synthError(app);
    expect(error).not.toMatch(/analytics\.aspects/);
    // The packs do run: the box has no egress allowlist.
    expect(error).toMatch(/Boundary-RestrictedEgress: analytics\/Box\/\w+\.egress: 'allow all' is not allowed/);
  });
});
