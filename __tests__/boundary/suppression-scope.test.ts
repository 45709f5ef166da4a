import { Construct } from 'constructs';
import { Testing } from 'cdktf';
import { BoundarySuppressions } from '../../lib';
import { checkedStack, machine } from './fixtures';
import { MESSAGE } from './refusal';

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
    expect(message).toMatch(/^App\.suppressions: 'Boundary-RestrictedEgress' is not allowed: the App is above every stack.*Fix: add it to the stack/);
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
});
