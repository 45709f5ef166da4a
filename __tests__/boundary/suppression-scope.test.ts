import { Construct } from 'constructs';
import { Testing } from 'cdktf';
import { BoundarySuppressions, Environment, Phase, Product } from '../../lib';
import { admin, backup, monitoring } from '../setup/product-basics';
import { EnvironmentStack } from '../../stacks';
import { checkedStack, machine, policy } from './fixtures';
import { MESSAGE } from './refusal';
import { thrownMessage } from '../setup/stack';

// Audit 05: a suppression on the App (above every stack) silenced its rule in every stack, while the
// boundary document, which lists suppressions per stack, said none applied, and the unused-suppression
// check never saw it. Suppressions now belong to a stack or a construct inside one.

const REASON = 'temporary, ticket OPS-1, reviewed by the DPO';

describe('where a suppression may be placed', () => {
  test('on the App it is refused, naming the App, the rule and the fix', () => {
    const app = Testing.app();
    checkedStack('production', app);
    let message = '';
    try {
      BoundarySuppressions.add(app, [{ id: 'Boundary-RestrictedEgress', reason: REASON }]);
    } catch (e) {
      message = (e as Error).message;
      expect((e as Error).name).toBe('ValidationError');
    }
    expect(message).toMatch(MESSAGE);
    expect(message).toBe("App.suppressions: 'Boundary-RestrictedEgress' is not allowed: the App is above every stack, "
      + "so the suppression would apply to every stack below it while no stack's boundary document lists it. "
      + 'Fix: add it to the stack, or to the construct the finding is on, such as BoundarySuppressions.add(stack, [...])');
  });

  test('on a construct that groups stacks it is refused too', () => {
    const app = Testing.app();
    const group = new Construct(app, 'Product');
    checkedStack('production', group as any);
    expect(() => BoundarySuppressions.add(group, [{ id: 'Boundary-EuPlacement', reason: REASON }]))
      .toThrow(/^Product\.suppressions: 'Boundary-EuPlacement' is not allowed: 'Product' is above every stack/);
  });

  test('on a stack or a construct in it, it is accepted', () => {
    const stack = checkedStack();
    const m = machine(stack);
    expect(() => BoundarySuppressions.add(stack, [{ id: 'Boundary-RestrictedEgress', reason: REASON }])).not.toThrow();
    expect(() => BoundarySuppressions.add(m, [{ id: 'Boundary-AdminSshOnly', reason: REASON }])).not.toThrow();
  });

  // An entry that is no object was named as a `props` of the suppressions (`production.suppressions.props: missing`),
  // which the caller never wrote; it is the entry, worded as any nested object is (the stack's retire here).
  test('an entry that is no object is named as itself, in the wording of every nested object', () => {
    const stack = checkedStack('production', Testing.app());
    expect(thrownMessage(() => BoundarySuppressions.add(stack, [null as any])))
      .toMatch(/^production\.suppressions\.entries\[0\]: missing: an object of named values is required\. Fix: write entries\[0\] as \{ id: 'Boundary-EuPlacement'/);
    expect(thrownMessage(() => BoundarySuppressions.add(stack, ['Boundary-EuPlacement' as any])))
      .toMatch(/^production\.suppressions\.entries\[0\]: 'Boundary-EuPlacement' is not allowed: it is a string, not an object of named values\. Fix: write entries\[0\]/);
    const retired = thrownMessage(() => new EnvironmentStack(Testing.app(), 'acme-test', {
      product: new Product({ name: 'acme', phase: Phase.ONE, admin, stateBucket: 'acme-state', boundary: policy, backup, monitoring }), environment: Environment.TEST, retire: 'now' as any,
    }));
    expect(retired).toMatch(/acme-test\.retire: 'now' is not allowed: it is a string, not an object of named values\./);
  });
});
