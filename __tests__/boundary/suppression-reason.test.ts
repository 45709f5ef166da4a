import { BoundarySuppressions } from '../../lib';
import { checkedStack } from './fixtures';

// Audit 13: "at least 20 characters" counted UTF-16 units after trim(), so a reason of 20 zero-width
// spaces passed and the boundary document showed it blank. Letters are counted now.

describe('a suppression reason says something', () => {
  test.each<[string, string]>([
    ['20 zero-width spaces', '\u200b'.repeat(20)],
    ['no-break spaces and dots', '\u00a0. '.repeat(10)],
    ['19 letters padded with punctuation', `${'x'.repeat(19)}!!!!!!!!!!`],
  ])('%s is refused', (_name, reason) => {
    expect(() => BoundarySuppressions.add(checkedStack(), [{ id: 'Boundary-EuPlacement', reason }]))
      .toThrow(/^production\.suppressions: 'Boundary-EuPlacement' is not allowed: a suppression needs a specific reason of at least 20 characters \(letters.*Fix: say why/);
  });

  test('a real reason, in any script, is accepted', () => {
    expect(() => BoundarySuppressions.add(checkedStack(), [{ id: 'Boundary-EuPlacement', reason: 'US marketing site, public data only' }])).not.toThrow();
    expect(() => BoundarySuppressions.add(checkedStack(), [{ id: 'Boundary-EuPlacement', reason: 'Öffentliche Marketingseite für die USA' }])).not.toThrow();
  });
});

// Red team (audit boundary3): the entry objects were kept as passed, so a JavaScript caller could
// shorten the reason (or switch the rule) after the check; the boundary document showed the edit.
describe('a suppression is fixed once added', () => {
  test('editing the entry afterwards changes neither its reason nor its rule', () => {
    const stack = checkedStack();
    const entry = { id: 'Boundary-EuPlacement', reason: 'US marketing site, public data only' };
    BoundarySuppressions.add(stack, [entry]);
    entry.reason = 'ok';
    entry.id = 'Boundary-RestrictedEgress';
    expect(BoundarySuppressions.placedIn(stack)).toEqual([{ id: 'Boundary-EuPlacement', reason: 'US marketing site, public data only', path: 'production' }]);
    expect(BoundarySuppressions.find(stack, 'Boundary-RestrictedEgress')).toBeUndefined();
  });
});
