import { decode, encode, ExtData } from '@msgpack/msgpack';
import { Field, Shape } from './schema';

/**
 * Terraform values as the stand-in holds them: the msgpack decoding of cty values.
 *
 * Unknown values arrive as msgpack extension 0, refined unknowns (Terraform >= 1.8, such as
 * "a non-null string starting with 'vol-'") as extension 12. Both decode to ExtData and are
 * encoded back byte for byte, so the stand-in passes them through untouched.
 */
export type Value = null | string | number | boolean | Value[] | { [key: string]: Value } | ExtData;
/**
 * A Terraform object or map value: attribute name (or map key) to value. The simulated cloud keeps each
 * object's attributes in one, named as in hcloud's schema (`name`, `ipv4_address`, ...).
 */
export type ObjectValue = { [key: string]: Value };

/** A value Terraform does not know yet (during plan). */
export function isUnknown(v: unknown): v is ExtData {
  return v instanceof ExtData;
}

/** A fresh unknown value, the way cty encodes one (fixext1, type 0, payload 0). */
export function unknownValue(): ExtData {
  return new ExtData(0, new Uint8Array([0]));
}

/** Whether a value is a known object (not null, a list or an unknown). */
export function isObject(v: unknown): v is ObjectValue {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !isUnknown(v);
}

/** The wire form of a protocol DynamicValue. */
export interface DynamicValue {
  msgpack?: Buffer | Uint8Array;
  json?: Buffer | Uint8Array;
}

/** A value that does not fit the schema, with the attribute path it was found at. */
export class ValueError extends Error {
  constructor(public readonly path: string, public readonly problem: string) {
    super(`${path}: ${problem}`);
    this.name = 'ValueError';
  }
}

/** Decodes a DynamicValue; an absent one is null (Terraform omits prior state on create). */
export function decodeDynamic(dv: DynamicValue | undefined | null, where: string): Value {
  if (!dv) return null;
  if (dv.msgpack && dv.msgpack.length > 0) {
    try {
      return decode(dv.msgpack) as Value;
    } catch (e) {
      throw new ValueError(where, `the msgpack value cannot be decoded (${(e as Error).message})`);
    }
  }
  if (dv.json && dv.json.length > 0) {
    try {
      return JSON.parse(Buffer.from(dv.json).toString('utf8')) as Value;
    } catch (e) {
      throw new ValueError(where, `the JSON value cannot be parsed (${(e as Error).message})`);
    }
  }
  return null;
}

/** Encodes a value as msgpack; unknowns stay extension values. */
export function encodeDynamic(value: Value): { msgpack: Buffer } {
  const bytes = encode(value);
  return { msgpack: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Uint8Array) return 'binary data';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'boolean') return 'a bool';
  return `a ${typeof v} (${JSON.stringify(v)})`;
}

/**
 * Checks a value against a shape and normalizes it: missing attributes become null,
 * numbers that cty sent as strings (beyond 64 bits) become numbers. Throws a ValueError
 * naming the attribute path for anything that does not fit.
 */
export function conform(v: unknown, shape: Shape, path: string): Value {
  if (v === null || v === undefined) return null;
  if (isUnknown(v)) return v;
  switch (shape.kind) {
    case 'primitive':
      if (shape.type === 'string' && typeof v === 'string') return v;
      if (shape.type === 'bool' && typeof v === 'boolean') return v;
      if (shape.type === 'number') {
        if (typeof v === 'number') return v;
        if (typeof v === 'bigint') return Number(v);
        if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
      }
      throw new ValueError(path, `${shape.type === 'bool' ? 'a bool' : `a ${shape.type}`} is required, got ${describe(v)}`);
    case 'collection':
      if (shape.collection === 'map') {
        if (!isObject(v)) throw new ValueError(path, `a map is required, got ${describe(v)}`);
        return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, conform(e, shape.element, `${path}["${k}"]`)]));
      }
      if (!Array.isArray(v)) throw new ValueError(path, `a ${shape.collection} is required, got ${describe(v)}`);
      return v.map((e, i) => conform(e, shape.element, `${path}[${i}]`));
    case 'object': {
      if (!isObject(v)) throw new ValueError(path, `an object is required, got ${describe(v)}`);
      const out: ObjectValue = {};
      for (const key of Object.keys(v)) {
        if (!(key in shape.attributes)) throw new ValueError(`${path}.${key}`, 'is not an attribute in the provider schema');
      }
      for (const [name, field] of Object.entries(shape.attributes)) out[name] = conform(v[name], field.shape, `${path}.${name}`);
      return out;
    }
  }
}

/** Keeps only what the schema knows, for stored state written by another provider version. */
export function filterToSchema(v: unknown, shape: Shape): Value {
  if (v === null || v === undefined) return null;
  if (shape.kind === 'object') {
    if (!isObject(v)) return null;
    return Object.fromEntries(Object.entries(shape.attributes).map(([name, f]) => [name, filterToSchema(v[name], f.shape)]));
  }
  if (shape.kind === 'collection') {
    if (shape.collection === 'map') return isObject(v) ? Object.fromEntries(Object.entries(v).map(([k, e]) => [k, filterToSchema(e, shape.element)])) : null;
    return Array.isArray(v) ? v.map((e) => filterToSchema(e, shape.element)) : null;
  }
  return v as Value;
}

/** Structural equality; an unknown is never equal to anything, not even another unknown. */
export function valuesEqual(a: Value | undefined, b: Value | undefined, unordered = false): boolean {
  if (isUnknown(a) || isUnknown(b)) return false;
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    if (!unordered) return a.every((x, i) => valuesEqual(x, b[i]));
    const used = new Set<number>();
    return a.every((x) => {
      const j = b.findIndex((y, k) => !used.has(k) && valuesEqual(x, y, true));
      if (j < 0) return false;
      used.add(j);
      return true;
    });
  }
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) if (!valuesEqual(a[k] ?? null, b[k] ?? null, unordered)) return false;
    return true;
  }
  return false;
}

/** A deep copy that keeps unknowns as they are. */
export function cloneValue<T extends Value>(v: T): T {
  if (Array.isArray(v)) return v.map((e) => cloneValue(e)) as T;
  if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, cloneValue(e)])) as T;
  return v;
}

/** Whether the value holds an unknown anywhere. */
export function containsUnknown(v: Value): boolean {
  if (isUnknown(v)) return true;
  if (Array.isArray(v)) return v.some(containsUnknown);
  if (isObject(v)) return Object.values(v).some(containsUnknown);
  return false;
}

/** The element shape of an object field, whatever its nesting. */
export function objectOf(field: Field): (Shape & { kind: 'object' }) | undefined {
  const s = field.shape;
  if (s.kind === 'object') return s;
  if (s.kind === 'collection' && s.element.kind === 'object') return s.element;
  return undefined;
}
