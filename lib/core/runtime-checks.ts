import { Construct } from 'constructs';
import { invalidValue, missingValue, ValidationError } from './validation-message';
import { builtByAClass, frozenSnapshot } from './private/frozen-snapshot';
import { PACKAGE_NAME } from './private/package-name';
import { refuseUnlessSensitiveVariable } from './private/sensitive-variable';

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

/** Throws the library's `ValidationError` for a wrong value: `<at>.<prop>: <value> is not allowed: <why>. Fix: <fix>`. */
export function fail(at: At, prop: string, value: unknown, why: string, fix: string): never {
  throw new ValidationError(invalidValue(at, prop, value, why, fix));
}

/**
 * A props object: a plain object (or class instance), not null, an array or a primitive. `prop` names a nested
 * one (`admin`), so the message reads `Product(acme).admin: missing`, not `Product(acme).admin.props`.
 */
export function requireProps<T>(at: At, value: T, fix: string, prop = 'props'): NonNullable<T> {
  if (prop !== 'props') {
    requireObject(at, prop, value, fix);
    return value as NonNullable<T>;
  }
  if (value === null || value === undefined) throw new ValidationError(missingValue(at, prop, 'the props object is required', fix));
  if (typeof value !== 'object' || Array.isArray(value)) fail(at, prop, value, 'props are an object of named values', fix);
  return value as NonNullable<T>;
}

/** A nested object (`admin`, `options`, `entries[0]`), in one wording wherever it is checked: missing, or of another type. */
function requireObject(at: At, prop: string, value: unknown, fix: string): void {
  if (value === undefined || value === null) throw new ValidationError(missingValue(at, prop, 'an object of named values is required', fix));
  if (typeof value !== 'object' || Array.isArray(value)) fail(at, prop, value, `it is ${aType(value)}, not an object of named values`, fix);
}

/**
 * The property names of a props type, as a compile-checked list: `names` must list every field of
 * `T`, optional ones included, so a field added to the interface does not compile until it is known here.
 */
export function propNames<T>(names: { readonly [K in keyof Required<T>]: true }): readonly string[] {
  return Object.keys(names);
}

/**
 * Refuses a property that `known` does not list. In JavaScript a misspelt optional property
 * (`hetznerBackup`, `dataClass`, `locaton`) is otherwise ignored and its default used without a word:
 * a server without backups, a volume classed lower than its data, production in another location.
 * A plain object may hold nothing else. A class instance (props built by a JavaScript class, or a
 * value passed for an interface) may have members of its own, so only its own fields that are a
 * typo of a known name (`locaton`, `Location`) are refused; a construct is not looked into. A
 * property set to `undefined` changes nothing, so it passes. The value is not printed: a misspelt
 * secret property may hold the secret itself.
 */
export function refuseUnknownProps(at: At, prop: string | undefined, value: unknown, known: readonly string[]): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
  const prototype = Object.getPrototypeOf(value);
  // The snapshot of props built by a class is a plain object, but the class's rule still applies to it.
  const isPlain = (prototype === Object.prototype || prototype === null) && !builtByAClass(value);
  if (!isPlain && Construct.isConstruct(value)) return;
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined || known.includes(key)) continue;
    // A class instance's other members are its own business; a near miss of a known name is the misspelling it looks like.
    if (!isPlain && typoOf(key, known) === undefined) continue;
    const near = nearestName(key, known);
    const fix = near !== undefined ? `did you mean '${near}'? Rename it` : `remove it; the properties are ${known.join(', ')}`;
    fail(at, prop === undefined ? key : `${prop}.${key}`, key, 'there is no property of this name, so its value would be ignored and the default used', fix);
  }
}

/** The known name closest to `name` (case, one or two typed letters apart, or its plural or singular), if any is close. */
function nearestName(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  // A plural or singular of a known name ('dataClass' for 'dataClasses') is as likely as a typo.
  return typoOf(name, known) ?? (lower.length < 4 ? undefined : known.find((k) => k.length >= 4 && (k.toLowerCase().startsWith(lower) || lower.startsWith(k.toLowerCase()))));
}

/** The known name `name` is a typo of (another case, or one or two typed letters apart), if any. */
function typoOf(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = candidate.toLowerCase() === lower ? 0 : editDistance(lower, candidate.toLowerCase());
    if (distance <= Math.max(2, Math.floor(candidate.length / 4)) && (best === undefined || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

/** Levenshtein distance: the fewest single-letter insertions, deletions and substitutions from `a` to `b`. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/** A value that must be one of a class's instances (an enum-like class such as `Environment`). */
export function requireInstance<T>(at: At, prop: string, value: unknown, type: ClassOf<T>, fix: string, what?: string): T {
  if (value instanceof type) return value as T;
  const named = what ?? `${/^[aeiou]/i.test(type.name) ? 'an' : 'a'} ${type.name}`;
  if (value === undefined || value === null) throw new ValidationError(missingValue(at, prop, `${named} is required`, fix));
  if (isFromAnotherCopy(value, type)) {
    return fail(at, prop, value, `it is ${named} from another copy of ${PACKAGE_NAME} (the library is installed twice, and this copy does not recognise the other's values)`,
      `install the library once (npm ls ${PACKAGE_NAME}, then npm dedupe or align the versions) and import every construct and value from it`);
  }
  return fail(at, prop, value, `it is not ${named}${typeof value === 'string' ? ' (a string is not one, even with the same name)' : ''}`, fix);
}

/** Whether `value` is an instance of a class of the same name as `type` along its prototype chain: the same class from a second copy of the library. */
function isFromAnotherCopy(value: unknown, type: ClassOf<unknown>): boolean {
  if (value === null || typeof value !== 'object' || type.name === '' || type.name === 'Object') return false;
  for (let proto = Object.getPrototypeOf(value); proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    if ((proto as { constructor?: { name?: string } }).constructor?.name === type.name) return true;
  }
  return false;
}

/**
 * Refuses `null` for an optional property, as itself rather than as a required value that is missing. The library's
 * optional properties take `undefined` for "left out" and refuse `null`: from plain JavaScript or JSON, `null` is
 * written on purpose and may mean "none" where leaving it out means the default ("every finding of the rule" for a
 * suppression's `appliesTo`, SENSITIVE and SECRET for `dataClasses`), so guessing either would be wrong somewhere.
 * jsii's other languages never send it: their structs leave a None/nil field out.
 */
export function refuseNull(at: At, prop: string, value: unknown, fix: Fix): void {
  if (value === null) {
    fail(at, prop, null, 'the property is optional, and null does not leave it out (null may mean "none", where leaving it out means the default)', nullFix(prop, fix));
  }
}

/**
 * The fix a check gives: a text, or an `OptionalFix` whose caller chose what a null is told. A null given a plain text
 * is told "leave <prop> out (or undefined), or <fix>": no "for its default", since some optional properties have none
 * (one no longer read, one whose absence means "none").
 */
export type Fix = string | OptionalFix;

/** A fix for an optional property that says itself how to leave the property out: `leaveOutFix` or `orNothing`. */
export interface OptionalFix {
  /** What every refusal but a null's says. */
  readonly text: string;
  /** What a null's says, given the property's last name. */
  readonly ifNull: (name: string) => string;
}

/**
 * A fix that already says to leave the property out ("…, or leave it out"): a null is told it as it is, since saying it
 * twice would read wrong.
 */
export function leaveOutFix(text: string): OptionalFix {
  return { text, ifNull: () => text };
}

/**
 * An options argument's fix, "pass { minute: 15 } or nothing" for `orNothing('pass { minute: 15 }')`. A null is told
 * "leave options out (or undefined), or pass { minute: 15 }": to a caller who passed null, "nothing" is what null seemed to be.
 */
export function orNothing(pass: string): OptionalFix {
  return { text: `${pass} or nothing`, ifNull: (name) => leaveOut(name, pass) };
}

/** The text of a fix, for every refusal but a null's. */
export function fixText(fix: Fix): string {
  return typeof fix === 'string' ? fix : fix.text;
}

function nullFix(prop: string, fix: Fix): string {
  const name = prop.replace(/^.*\./, '');
  return typeof fix === 'string' ? leaveOut(name, fix) : fix.ifNull(name);
}

function leaveOut(name: string, fix: string): string {
  return `leave ${name} out (or undefined), or ${fix}`;
}

/** `requireInstance`, except that a value left out (`undefined`) passes. */
export function optionalInstance<T>(at: At, prop: string, value: unknown, type: ClassOf<T>, fix: Fix, what?: string): T | undefined {
  refuseNull(at, prop, value, fix);
  return value === undefined ? undefined : requireInstance(at, prop, value, type, fixText(fix), what);
}

/** A text value; a missing one and one of another type are refused with `fix`. */
export function requireString(at: At, prop: string, value: unknown, fix: string): string {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) throw new ValidationError(missingValue(at, prop, 'a text value is required', fix));
  return fail(at, prop, value, `it is ${aType(value)}, not a text value`, fix);
}

/** `requireString`, except that a value left out (`undefined`) passes. */
export function optionalString(at: At, prop: string, value: unknown, fix: Fix): string | undefined {
  refuseNull(at, prop, value, fix);
  return value === undefined ? undefined : requireString(at, prop, value, fixText(fix));
}

/** How to write a true/false property. */
const BOOLEAN_FIX = 'write true or false (without quotes)';

/** true, false, or left out; anything else (such as the string 'true') is refused. */
export function optionalBoolean(at: At, prop: string, value: unknown): boolean | undefined {
  refuseNull(at, prop, value, BOOLEAN_FIX);
  if (value === undefined || typeof value === 'boolean') return value;
  return fail(at, prop, value, `it is ${aType(value)}, not true or false`, BOOLEAN_FIX);
}

/** A list; each element is checked by `each` with its index in the path. */
export function requireArray<T>(at: At, prop: string, value: unknown, fix: string, each: (element: unknown, prop: string) => T): T[] {
  if (value === undefined || value === null) throw new ValidationError(missingValue(at, prop, 'a list is required', fix));
  if (!Array.isArray(value)) return fail(at, prop, value, `it is ${aType(value)}, not a list`, fix);
  return value.map((element, i) => each(element, `${prop}[${i}]`));
}

/** `requireArray`, except that a value left out (`undefined`) passes; `null` is refused as null (`refuseNull`). */
export function optionalArray<T>(at: At, prop: string, value: unknown, fix: Fix, each: (element: unknown, prop: string) => T): T[] | undefined {
  refuseNull(at, prop, value, fix);
  return value === undefined ? undefined : requireArray(at, prop, value, fixText(fix), each);
}

/** A map of text to text, such as labels. */
export function optionalStringMap(at: At, prop: string, value: unknown, fix: Fix): Record<string, string> | undefined {
  refuseNull(at, prop, value, fix);
  if (value === undefined) return undefined;
  const text = fixText(fix);
  // null was refused above; the test narrows the type for the loop below.
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return fail(at, prop, value, 'it is not a map of names to text values', text);
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') fail(at, `${prop}.${key}`, v, `it is ${aType(v)}, not a text value`, text);
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

/** The type of `value` as a reader names it, with its article: "a number", "an object", "NaN". */
export function aType(value: unknown): string {
  const type = describeType(value);
  if (type === 'NaN' || type === 'null') return type;
  return /^[aeiou]/i.test(type) ? `an ${type}` : `a ${type}`;
}

/** The type of `value` as a reader names it: `null`, `list`, `NaN`, a class name, or `typeof`. */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'number' && Number.isNaN(value)) return 'NaN';
  if (typeof value === 'object') return (value as object).constructor?.name && (value as object).constructor !== Object ? (value as object).constructor.name : 'object';
  return typeof value;
}

/**
 * A runtime check of one value: returns nothing when the value is acceptable, throws a
 * `ValidationError` naming `at`, `prop`, the value and `fix` otherwise.
 */
export type Check = (at: At, prop: string, value: unknown) => void;

/** A check that knows how to write a right value: what `is.optional` takes, so its null refusal can name the fix. */
export type CheckWithFix = Check & { readonly fix: Fix };

/** The check, carrying its fix for `is.optional`. */
export function withFix(fix: Fix, check: (at: At, prop: string, value: unknown) => void): CheckWithFix {
  return Object.assign(check, { fix });
}

/**
 * A check for every field of `T`, optional ones included: a props interface that gains a field
 * does not compile until its schema says how to check it.
 */
export type Schema<T> = { readonly [K in keyof Required<T>]: Check };

/** What a field must be, by kind; each returns a `Check` for `checkProps` and `Schema`. */
export const is = {
  /** Anything: for fields whose value the construct checks itself (with the same message shape). */
  checkedLater: (): Check => () => undefined,
  /** An instance of `type` (enum-like classes, value types, constructs). */
  instance: <T>(type: ClassOf<T>, fix: Fix, what?: string): CheckWithFix => withFix(fix, (at, prop, value) => { requireInstance(at, prop, value, type, fixText(fix), what); }),
  /**
   * A secret: a sensitive Terraform variable (`SecretVariable`). Anything else is refused without
   * printing it, since a JavaScript user may have pasted the secret itself.
   */
  secret: (fix: string): CheckWithFix => withFix(fix, (at, prop, value) => { refuseUnlessSensitiveVariable(at, prop, value, fix); }),
  /** A text value (a Terraform token is text too). */
  text: (fix: Fix): CheckWithFix => withFix(fix, (at, prop, value) => { requireString(at, prop, value, fixText(fix)); }),
  /** A finite number; `integer` also refuses fractions. */
  number: (fix: string, options: { integer?: boolean } = {}): CheckWithFix => withFix(fix, (at, prop, value) => {
    if (value === undefined || value === null) throw new ValidationError(missingValue(at, prop, 'a number is required', fix));
    if (typeof value !== 'number' || !Number.isFinite(value) || (options.integer && !Number.isInteger(value))) {
      fail(at, prop, value, typeof value === 'number' ? `it is not a finite ${options.integer ? 'whole ' : ''}number` : `it is ${aType(value)}, not a number`, fix);
    }
  }),
  /** A TCP port: a whole number from 1 to 65535 (0 or 70000 would only fail when the job or service first runs). */
  port: (fix: string): CheckWithFix => withFix(fix, (at, prop, value) => {
    is.number(fix, { integer: true })(at, prop, value);
    if ((value as number) < 1 || (value as number) > 65535) fail(at, prop, value, 'a port is a whole number from 1 to 65535', fix);
  }),
  /** true or false. */
  boolean: (): CheckWithFix => withFix(BOOLEAN_FIX, (at, prop, value) => {
    if (typeof value !== 'boolean') {
      if (value === undefined || value === null) throw new ValidationError(missingValue(at, prop, 'true or false is required', BOOLEAN_FIX));
      fail(at, prop, value, `it is ${aType(value)}, not true or false`, BOOLEAN_FIX);
    }
  }),
  /** A list whose every element passes `each`. */
  list: (each: Check, fix: Fix): CheckWithFix => withFix(fix, (at, prop, value) => { requireArray(at, prop, value, fixText(fix), (element, p) => each(at, p, element)); }),
  /** A map of names to text values (labels). */
  textMap: (fix: string): CheckWithFix => withFix(fix, (at, prop, value) => {
    if (value === undefined || value === null) throw new ValidationError(missingValue(at, prop, 'a map of names to text values is required', fix));
    optionalStringMap(at, prop, value, fix);
  }),
  /** A nested props object, checked field by field (paths `prop.field`). */
  object: <T>(schema: Schema<T>, fix: Fix): CheckWithFix => withFix(fix, (at, prop, value) => { checkFields(at, prop, value, schema, fixText(fix)); }),
  /** The check, or nothing at all: `undefined` passes (null does not: a JSON null is not "left out", `refuseNull`). */
  optional: (check: CheckWithFix): Check => (at, prop, value) => {
    refuseNull(at, prop, value, check.fix);
    if (value !== undefined) check(at, prop, value);
  },
};

/**
 * Checks a props object against its schema: `props` is an object, it has no field the schema does
 * not know (a misspelt one, in JavaScript), and every field passes its check. Returns what was checked: a frozen
 * snapshot of the props (`frozenSnapshot`), taken before the checks, which the caller builds from instead of `given`.
 * It only checks: what a construct does to its stack (the `--hcl` guard) is its own `guardStack(this)` (guard-stack).
 */
export function checkProps<T>(at: At, given: T, schema: Schema<T>, fix: string): NonNullable<T> {
  const props = frozenSnapshot(given, Object.keys(schema));
  requireProps(at, props, fix);
  refuseUnknownProps(at, undefined, props, Object.keys(schema));
  for (const [key, check] of Object.entries(schema) as Array<[string, Check]>) check(at, key, (props as Record<string, unknown>)[key]);
  return props as NonNullable<T>;
}

/**
 * An options argument that may be left out: `undefined` passes, `null` is refused as null (`refuseNull`), anything else
 * is checked like props (and returned as a frozen snapshot).
 */
export function checkOptions<T>(at: At, prop: string, given: T | undefined, schema: Schema<T>, fix: Fix): T | undefined {
  refuseNull(at, prop, given, fix);
  if (given === undefined) return undefined;
  const options = frozenSnapshot(given, Object.keys(schema));
  checkFields(at, prop, options, schema, fixText(fix));
  return options;
}

function checkFields<T>(at: At, prop: string, value: unknown, schema: Schema<T>, fix: string): void {
  requireObject(at, prop, value, fix);
  refuseUnknownProps(at, prop, value, Object.keys(schema));
  for (const [key, check] of Object.entries(schema) as Array<[string, Check]>) check(at, `${prop}.${key}`, (value as Record<string, unknown>)[key]);
}
