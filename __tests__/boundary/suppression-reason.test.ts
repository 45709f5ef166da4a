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

// Red team (audit redteam): twenty letters were enough, so one letter or word repeated passed as a
// reason and was published as one; and each entry was read several times, so a getter (JavaScript)
// answered the checks with a real reason and the boundary document with an empty one.
describe('a suppression reason is a sentence, read once', () => {
  test.each<[string, string]>([
    ['one letter repeated', 'x'.repeat(30)],
    ['one word repeated', 'TODO TODO TODO TODO TODO TODO'],
  ])('%s is refused', (_name, reason) => {
    expect(() => BoundarySuppressions.add(checkedStack(), [{ id: 'Boundary-EuPlacement', reason }]))
      .toThrow(/^production\.suppressions: 'Boundary-EuPlacement' is not allowed: a suppression needs a specific reason of at least 20 characters \(letters, at least 8 different ones.*Fix: say why/);
  });

  test('an entry whose getter answers differently on each read is kept as it was checked', () => {
    // How many times the library reads a reason while checking and keeping it; the getter below is real for all but the last read.
    let reads = 0;
    BoundarySuppressions.add(checkedStack(), [{ id: 'Boundary-EuPlacement', get reason() { reads++; return 'US marketing site, public data only'; } }]);
    let n = 0;
    const stack = checkedStack();
    BoundarySuppressions.add(stack, [{ id: 'Boundary-EuPlacement', get reason() { n++; return n <= Math.max(reads - 1, 1) ? 'US marketing site, public data only' : ''; } }]);
    expect(BoundarySuppressions.placedIn(stack).map((s) => s.reason)).toEqual(['US marketing site, public data only']);
  });
});
