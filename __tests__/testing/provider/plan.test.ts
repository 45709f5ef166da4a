import { markComputedUnknown, replacementPaths } from '../../../testing/provider/plan';
import { blockShape } from '../../../testing/provider/schema';
import { isUnknown, unknownValue } from '../../../testing/provider/values';

// A schema with every kind of nesting: a single nested attribute, a list block, a set block, a
// map of nested attributes, and computed attributes at each depth.
const shape = blockShape({
  attributes: {
    id: { type: 'string', computed: true },
    name: { type: 'string', required: true },
    settings: { optional: true, computed: true, nested_type: { nesting_mode: 'single', attributes: { zone: { type: 'string', optional: true }, serial: { type: 'number', computed: true } } } },
    volumes: { optional: true, nested_type: { nesting_mode: 'map', attributes: { size: { type: 'number', required: true }, device: { type: 'string', computed: true } } } },
  },
  block_types: {
    disk: { nesting_mode: 'list', block: { attributes: { size: { type: 'number', optional: true }, path: { type: 'string', optional: true, computed: true } } } },
    network: { nesting_mode: 'set', block: { attributes: { ip: { type: 'string', optional: true, computed: true }, mac: { type: 'string', computed: true }, label: { type: 'string', optional: true } } } },
  },
}, 'example_thing');

const prior = {
  id: '7', name: 'a', settings: { zone: 'z1', serial: 1 },
  volumes: { data: { size: 10, device: '/dev/a' } },
  disk: [{ size: 10, path: '/a' }, { size: 20, path: '/b' }],
  network: [{ ip: '10.0.0.2', mac: 'm1', label: 'x' }, { ip: '10.0.0.3', mac: 'm2', label: 'y' }],
};

const paths = (planned: object, forceNew: string[]) => replacementPaths(shape, prior, { ...prior, ...planned }, forceNew)
  .map((steps) => steps.map((s) => ('attribute_name' in s ? s.attribute_name : 'element_key_int' in s ? s.element_key_int : s.element_key_string)).join('.'));

describe('replacement paths from the force-new list', () => {
  test('a top-level argument forces replacement only when it changes', () => {
    expect(paths({ name: 'b' }, ['name'])).toEqual(['name']);
    expect(paths({}, ['name'])).toEqual([]);
  });

  test('a nested path through a single nested attribute', () => {
    expect(paths({ settings: { zone: 'z2', serial: 1 } }, ['settings.zone'])).toEqual(['settings.zone']);
    expect(paths({ settings: { zone: 'z1', serial: 2 } }, ['settings.zone'])).toEqual([]);
  });

  test('a nested path through a list names the changed element', () => {
    expect(paths({ disk: [{ size: 10, path: '/a' }, { size: 30, path: '/b' }] }, ['disk.size'])).toEqual(['disk.1.size']);
    expect(paths({ disk: [{ size: 10, path: '/z' }, { size: 20, path: '/b' }] }, ['disk.size'])).toEqual([]);
  });

  test('a nested path through a map names the key', () => {
    expect(paths({ volumes: { data: { size: 20, device: '/dev/a' } } }, ['volumes.size'])).toEqual(['volumes.data.size']);
  });

  test('a nested path through a set names the set when the values under it differ, whatever the order', () => {
    expect(paths({ network: [{ ip: '10.0.0.3', mac: 'm2', label: 'y' }, { ip: '10.0.0.2', mac: 'm1', label: 'x' }] }, ['network.ip'])).toEqual([]);
    expect(paths({ network: [{ ip: '10.0.0.2', mac: 'm1', label: 'changed' }, { ip: '10.0.0.3', mac: 'm2', label: 'y' }] }, ['network.ip'])).toEqual([]);
    expect(paths({ network: [{ ip: '10.0.0.9', mac: 'm1', label: 'x' }, { ip: '10.0.0.3', mac: 'm2', label: 'y' }] }, ['network.ip'])).toEqual(['network']);
  });

  test('a value that becomes unknown counts as a change', () => {
    expect(paths({ name: unknownValue() }, ['name'])).toEqual(['name']);
  });
});

describe('computed values on create', () => {
  test('become unknown at every depth where the configuration leaves them null', () => {
    const config = {
      id: null, name: 'a', settings: { zone: 'z1', serial: null }, volumes: { data: { size: 10, device: null } },
      disk: [{ size: 10, path: null }], network: [{ ip: '10.0.0.2', mac: null, label: 'x' }, { ip: null, mac: null, label: 'y' }],
    };
    const planned = markComputedUnknown(shape, config, config) as any;
    expect(isUnknown(planned.id)).toBe(true);
    expect(planned.name).toBe('a');
    expect(planned.settings.zone).toBe('z1');
    expect(isUnknown(planned.settings.serial)).toBe(true);
    expect(isUnknown(planned.volumes.data.device)).toBe(true);
    expect(isUnknown(planned.disk[0].path)).toBe(true);
    expect(planned.network[0].ip).toBe('10.0.0.2');
    expect(isUnknown(planned.network[0].mac)).toBe(true);
    expect(isUnknown(planned.network[1].ip)).toBe(true);
    // An optional+computed nested attribute left out entirely is decided by the cloud as a whole.
    expect(isUnknown((markComputedUnknown(shape, { ...config, settings: null }, { ...config, settings: null }) as any).settings)).toBe(true);
  });
});
