import { Aspects } from 'cdktf';
import { AiActRole, BOUNDARY_RULES, BoundaryChecks, BoundaryPolicy, DataClass, DataFlow, EgressForm, Processor } from '../../lib';
import { analyticsStack, appSynthError, productApp } from './beside-product';
import { policy } from './fixtures';

// Red team (audit redteam): a stack beside the product's environments passed with any BoundaryChecks
// on it. A pack that left a rule out (instead of a suppression with a reason, which boundary.md
// lists) or judged by another policy let a sensitive machine with open egress through, unlisted.

describe('a stack beside the product runs the whole boundary', () => {
  test('a pack that leaves a rule out is refused, naming the rule and the fix', () => {
    const app = productApp();
    Aspects.of(analyticsStack(app)).add(new BoundaryChecks({ policy, rules: BOUNDARY_RULES.filter((r) => r.id !== 'Boundary-RestrictedEgress') }));
    expect(appSynthError(app)).toMatch(/analytics\.aspects: 'a boundary rule pack that does not run Boundary-RestrictedEgress against the policy of product acme' is not allowed: .* Fix: add the whole pack, .*BoundarySuppressions\.add/);
  });

  test('a pack of another policy, under which a flow the product forbids passes, is refused', () => {
    const app = productApp();
    const looser = new BoundaryPolicy({ aiActRoles: [AiActRole.DEPLOYER], egress: [{ dataClass: DataClass.PSEUDONYMIZED, to: [Processor.mistralAi(), Processor.jinaAi()], form: EgressForm.PSEUDONYMIZED }] });
    const stack = analyticsStack(app, DataClass.PUBLIC);
    // The product's policy sends pseudonymized data to Mistral only.
    DataFlow.declare(stack.node.findChild('Box'), { processor: Processor.jinaAi(), dataClass: DataClass.PSEUDONYMIZED, form: EgressForm.PSEUDONYMIZED });
    Aspects.of(stack).add(new BoundaryChecks({ policy: looser }));
    expect(appSynthError(app)).toMatch(/analytics\.aspects: 'a boundary rule pack that does not run Boundary-EuPlacement, .* against the policy of product acme' is not allowed/);
  });

  test('the whole pack, of a policy equal by value, or two packs that together run every rule, are accepted', () => {
    const app = productApp();
    const stack = analyticsStack(app);
    const same = new BoundaryPolicy({ aiActRoles: [AiActRole.DEPLOYER], egress: [
      { dataClass: DataClass.PUBLIC, to: [Processor.mistralAi(), Processor.jinaAi()], form: EgressForm.RAW },
      { dataClass: DataClass.PSEUDONYMIZED, to: [Processor.mistralAi()], form: EgressForm.PSEUDONYMIZED },
    ] });
    Aspects.of(stack).add(new BoundaryChecks({ policy: same, rules: BOUNDARY_RULES.slice(0, 5) }));
    Aspects.of(stack).add(new BoundaryChecks({ policy, rules: BOUNDARY_RULES.slice(5) }));
    const error = appSynthError(app);
    expect(error).not.toMatch(/analytics\.aspects/);
    // The packs do run: the box has no egress allowlist.
    expect(error).toMatch(/Boundary-RestrictedEgress: analytics\/Box\/\w+\.egress: 'allow all' is not allowed/);
  });
});
