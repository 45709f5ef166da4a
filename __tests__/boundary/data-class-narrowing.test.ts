import { DataClass } from '../../lib';
import { checkedStack, machine, synthErrors } from './fixtures';

// Audit 04: DataClass.declare replaced a Machine's own declaration, so with its labels replaced too, a
// machine built as SENSITIVE was judged public: placed in Ashburn, no firewall, synth passing. A
// declaration may now add classes, never drop one declared on the construct or above it.

describe('a data class declaration never narrows', () => {
  test('redeclaring a sensitive Machine as public is refused, naming the path, value and fix', () => {
    const m = machine(checkedStack());
    expect(() => DataClass.declare(m, [DataClass.PUBLIC]))
      .toThrow(/^production\/App\.dataClasses: \["public"\] is not allowed: production\/App already holds sensitive, and a declaration can add classes but never remove one \(sensitive\)\. Fix: declare every class it holds: \[DataClass\.PUBLIC, DataClass\.SENSITIVE\]$/);
  });

  test('declaring public on a resource inside the Machine is refused too', () => {
    const m = machine(checkedStack());
    expect(() => DataClass.declare(m.server, [DataClass.PUBLIC])).toThrow(/production\/App\/\w+\.dataClasses: \["public"\] is not allowed/);
  });

  test('adding a class is accepted and the rules read the wider declaration', () => {
    const stack = checkedStack();
    const m = machine(stack);
    DataClass.declare(m, [DataClass.SENSITIVE, DataClass.SECRET]);
    expect(DataClass.declaredFor(m.server)).toEqual([DataClass.SENSITIVE, DataClass.SECRET]);
    expect(synthErrors(stack)).toBe('');
  });
});
