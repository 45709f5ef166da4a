import { invalidValue, missingValue, ValidationError } from './validation-message';

/**
 * Runtime checks for public entry points, so a JavaScript or JSON user gets the same
 * `ValidationError` (path, value, fix) that TypeScript would have given at compile time,
 * never a TypeError from deep inside and never a silently unprotected resource.
 *
 * `at` is where the value sits: a construct path or a written-out path such as `Product(acme)`.
 */
export type At = Parameters<typeof invalidValue>[0];

/** A class, also one with a private constructor (enum-like classes such as `Environment`). */
// eslint-disable-next-line @typescript-eslint/ban-types
export type ClassOf<T> = Function & { prototype: T };

export function fail(at: At, prop: string, value: unknown, why: string, fix: string): never {
  throw new ValidationError(invalidValue(at, prop, value, why, fix));
}

/** A props object: a plain object (or class instance), not null, an array or a primitive. */
export function requireProps<T>(at: At, value: T, fix: string): NonNullable<T> {
  if (value === null || value === undefined) throw new ValidationError(missingValue(at, 'props', 'the props object is required', fix));
  if (typeof value !== 'object' || Array.isArray(value)) fail(at, 'props', value, 'props are an object of named values', fix);
  return value as NonNullable<T>;
}

/** A value that must be one of a class's instances (an enum-like class such as `Environment`). */
export function requireInstance<T>(at: At, prop: string, value: unknown, type: ClassOf<T>, fix: string, what?: string): T {
  if (value instanceof type) return value as T;
  if (value === undefined || value === null) throw new ValidationError(missingValue(at, prop, `${what ?? `a ${type.name}`} is required`, fix));
  return fail(at, prop, value, `it is not ${what ?? `a ${type.name}`}${typeof value === 'string' ? ' (a string is not one, even with the same name)' : ''}`, fix);
}

export function optionalInstance<T>(at: At, prop: string, value: unknown, type: ClassOf<T>, fix: string, what?: string): T | undefined {
  return value === undefined ? undefined : requireInstance(at, prop, value, type, fix, what);
}

export function requireString(at: At, prop: string, value: unknown, fix: string): string {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) throw new ValidationError(missingValue(at, prop, 'a text value is required', fix));
  return fail(at, prop, value, `it is a ${describeType(value)}, not a text value`, fix);
}

export function optionalString(at: At, prop: string, value: unknown, fix: string): string | undefined {
  return value === undefined ? undefined : requireString(at, prop, value, fix);
}

export function optionalBoolean(at: At, prop: string, value: unknown): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  return fail(at, prop, value, `it is a ${describeType(value)}, not true or false`, 'write true or false (without quotes)');
}

/** A list; each element is checked by `each` with its index in the path. */
export function requireArray<T>(at: At, prop: string, value: unknown, fix: string, each: (element: unknown, prop: string) => T): T[] {
  if (value === undefined || value === null) throw new ValidationError(missingValue(at, prop, 'a list is required', fix));
  if (!Array.isArray(value)) return fail(at, prop, value, `it is a ${describeType(value)}, not a list`, fix);
  return value.map((element, i) => each(element, `${prop}[${i}]`));
}

export function optionalArray<T>(at: At, prop: string, value: unknown, fix: string, each: (element: unknown, prop: string) => T): T[] | undefined {
  return value === undefined ? undefined : requireArray(at, prop, value, fix, each);
}

/** A map of text to text, such as labels. */
export function optionalStringMap(at: At, prop: string, value: unknown, fix: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return fail(at, prop, value, 'it is not a map of names to text values', fix);
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') fail(at, `${prop}.${key}`, v, `it is a ${describeType(v)}, not a text value`, fix);
  }
  return value as Record<string, string>;
}

/** A value of a TypeScript string enum. */
export function requireEnum<T extends string>(at: At, prop: string, value: unknown, values: Record<string, T>, typeName: string): T {
  const allowed = Object.values(values);
  if ((allowed as unknown[]).includes(value)) return value as T;
  const fix = `use one of ${Object.keys(values).map((k) => `${typeName}.${k}`).join(', ')}`;
  if (value === undefined || value === null) throw new ValidationError(missingValue(at, prop, `a ${typeName} is required`, fix));
  return fail(at, prop, value, `it is not a ${typeName}`, fix);
}

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'number' && Number.isNaN(value)) return 'NaN';
  if (typeof value === 'object') return (value as object).constructor?.name && (value as object).constructor !== Object ? (value as object).constructor.name : 'object';
  return typeof value;
}
