import { Field, Shape } from './schema';
import { isObject, isUnknown, ObjectValue, unknownValue, Value, valuesEqual } from './values';

/** One step of a protocol AttributePath. */
export type PathStep = { attribute_name: string } | { element_key_int: number } | { element_key_string: string };

type ObjectShape = Shape & { kind: 'object' };

/**
 * Marks what the cloud will decide as "known after apply": every computed attribute that the
 * configuration leaves null, at every depth (nested blocks, nested attributes, set elements).
 * Used for a create and for the create half of a replacement, never for an in-place update,
 * where computed values stay what the cloud said (or every plan would show a change).
 */
export function markComputedUnknown(shape: ObjectShape, planned: ObjectValue, config: Value): ObjectValue {
  const out: ObjectValue = { ...planned };
  const cfg = isObject(config) ? config : {};
  for (const [name, field] of Object.entries(shape.attributes)) {
    const value = out[name];
    const configValue = cfg[name] ?? null;
    if (field.computed && !field.block && configValue === null) {
      out[name] = unknownValue();
      continue;
    }
    out[name] = markNested(field, value, configValue);
  }
  return out;
}

function markNested(field: Field, value: Value, config: Value): Value {
  const shape = field.shape;
  if (value === null || isUnknown(value)) return value;
  if (shape.kind === 'object') return isObject(value) ? markComputedUnknown(shape, value, config) : value;
  if (shape.kind !== 'collection' || shape.element.kind !== 'object') return value;
  const element = shape.element;
  if (shape.collection === 'map' && isObject(value)) {
    const cfg = isObject(config) ? config : {};
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, isObject(v) ? markComputedUnknown(element, v, cfg[k] ?? null) : v]));
  }
  if (!Array.isArray(value)) return value;
  const configs = Array.isArray(config) ? config : [];
  if (shape.collection === 'list') return value.map((v, i) => (isObject(v) ? markComputedUnknown(element, v, configs[i] ?? null) : v));
  // Set elements have no stable position: pair each with the configured element it came from.
  const unused = [...configs];
  return value.map((v) => {
    if (!isObject(v)) return v;
    const j = unused.findIndex((c) => isObject(c) && configuredPartMatches(element, c, v));
    const match = j >= 0 ? unused.splice(j, 1)[0] : null;
    return markComputedUnknown(element, v, match);
  });
}

/** Whether every non-null configured attribute of `config` equals the one in `value`. */
function configuredPartMatches(shape: ObjectShape, config: ObjectValue, value: ObjectValue): boolean {
  return Object.keys(shape.attributes).every((name) => {
    const c = config[name] ?? null;
    if (c === null || isUnknown(c)) return true;
    return valuesEqual(c, value[name] ?? null, true);
  });
}

/**
 * The attribute paths whose change forces a new resource, as the real provider reports them
 * (SDKv2 ForceNew, framework RequiresReplace), from the committed list in
 * schema/hcloud-replacement.json. A path is dotted (`network.ip`): through a single block it
 * continues into the object, through a list or map it names each changed element, and through a
 * set (whose elements have no key) it names the set when the values under it differ.
 * A value that becomes unknown counts as a change, as in the SDK.
 */
export function replacementPaths(shape: ObjectShape, prior: ObjectValue, planned: ObjectValue, forceNew: readonly string[]): PathStep[][] {
  const out: PathStep[][] = [];
  for (const dotted of forceNew) compareAt(shape, prior, planned, dotted.split('.'), [], out);
  return out;
}

function compareAt(shape: ObjectShape, prior: Value, planned: Value, segments: string[], steps: PathStep[], out: PathStep[][]): void {
  const [name, ...rest] = segments;
  const field = shape.attributes[name];
  if (!field) return;
  const before = isObject(prior) ? prior[name] ?? null : null;
  const after = isObject(planned) ? planned[name] ?? null : null;
  const here = [...steps, { attribute_name: name }];
  const isSet = field.shape.kind === 'collection' && field.shape.collection === 'set';
  if (rest.length === 0) {
    if (!valuesEqual(before, after, isSet)) out.push(here);
    return;
  }
  const s = field.shape;
  if (s.kind === 'object') {
    compareAt(s, before, after, rest, here, out);
    return;
  }
  if (s.kind !== 'collection' || s.element.kind !== 'object') return;
  const element = s.element;
  if (s.collection === 'set') {
    const project = (v: Value) => (Array.isArray(v) ? v.map((e) => valueAt(e, rest)) : []);
    if (isUnknown(after) || !valuesEqual(project(before), project(after), true)) out.push(here);
    return;
  }
  if (s.collection === 'list') {
    const a = Array.isArray(before) ? before : [];
    const b = Array.isArray(after) ? after : [];
    if (isUnknown(after)) {
      out.push(here);
      return;
    }
    for (let i = 0; i < Math.max(a.length, b.length); i++) compareAt(element, a[i] ?? null, b[i] ?? null, rest, [...here, { element_key_int: i }], out);
    return;
  }
  const a = isObject(before) ? before : {};
  const b = isObject(after) ? after : {};
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    compareAt(element, a[key] ?? null, b[key] ?? null, rest, [...here, { element_key_string: key }], out);
  }
}

function valueAt(v: Value, segments: string[]): Value {
  let cur: Value = v;
  for (const s of segments) {
    if (!isObject(cur)) return null;
    cur = cur[s] ?? null;
  }
  return cur;
}
