import { BOUNDARY_RULES, BoundaryChecks } from '../../lib';
import { policy } from './fixtures';
import { refusal } from './refusal';

// Audit (plain JavaScript callers): a pack given an empty rule list (a filter that matched nothing) checked nothing,
// while the stacks it was added to counted as checked.

describe('BoundaryChecks rules', () => {
  test('an empty list is refused with the fix', () => {
    expect(refusal(() => new BoundaryChecks({ policy, rules: [] })))
      .toMatch(/^BoundaryChecks\.rules: \[\] is not allowed: a pack that runs no rule checks nothing.*Fix: leave rules out to run every rule \(BOUNDARY_RULES\), or list the rules to run/);
  });

  test('every rule by default, or a chosen subset, still builds', () => {
    expect(() => new BoundaryChecks({ policy })).not.toThrow();
    expect(() => new BoundaryChecks({ policy, rules: BOUNDARY_RULES.slice(0, 1) })).not.toThrow();
  });
});
