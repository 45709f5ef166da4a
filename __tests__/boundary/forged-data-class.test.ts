import { Server } from '../../generated/providers/hcloud/server';
import { DataClass } from '../../lib';
import { checkedStack, machine } from './fixtures';
import { refusal } from './refusal';

// Red team (audit redteam): a data class was checked with instanceof only. A copy made with
// Object.create(DataClass.prototype) (JavaScript) is none of the four classes, so a resource declared
// to hold only such copies was read as holding nothing, that is as public: a raw server in Ashburn
// passed Boundary-EuPlacement and was missing from boundary.md's "lives in" table.

describe('only the four data classes can be declared', () => {
  test('a look-alike class on a raw server or a Machine is refused where it is declared', () => {
    const forged = Object.assign(Object.create(DataClass.prototype), { name: 'internal', strictness: 0, description: 'internal' });
    const stack = checkedStack();
    const raw = new Server(stack, 'Raw', { name: 'raw', serverType: 'cpx21', image: 'debian-12', location: 'ash' });
    expect(refusal(() => DataClass.declare(raw, [forged])))
      .toMatch(/^production\/Raw\.dataClasses\[0\]: 'internal' is not allowed: it is not one of the data classes .* Fix: use DataClass\.PUBLIC, PSEUDONYMIZED, SENSITIVE or SECRET$/);
    expect(refusal(() => machine(checkedStack(), 'App', { dataClasses: [forged] }))).toMatch(/^production\/App\.dataClasses\[0\]: 'internal' is not allowed/);
  });

  test('one class passed where a list belongs (JavaScript) is refused with the path, not a TypeError', () => {
    const raw = new Server(checkedStack(), 'Raw', { name: 'raw', serverType: 'cpx21', image: 'debian-12', location: 'fsn1' });
    expect(refusal(() => DataClass.declare(raw, DataClass.SECRET as unknown as DataClass[])))
      .toMatch(/^production\/Raw\.dataClasses: .* is not allowed: it is an? .*, not a list\. Fix: list data classes such as \[DataClass\.SENSITIVE\]$/);
  });

  test('the real classes are accepted', () => {
    const stack = checkedStack();
    DataClass.declare(new Server(stack, 'Raw', { name: 'raw', serverType: 'cpx21', image: 'debian-12', location: 'fsn1' }), [DataClass.PUBLIC, DataClass.SECRET]);
  });
});
