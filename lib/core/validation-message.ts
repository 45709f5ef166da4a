import { IConstruct } from 'constructs';

/**
 * Formats a synth-time error the one way this library reports them:
 * `<path>.<prop>: <value> is not allowed: <why>. Fix: <how>`
 *
 * The value is quoted as JSON so that empty strings and lists stay visible.
 */
export function invalidValue(scope: IConstruct | string, prop: string, value: unknown, why: string, fix: string): string {
  return `${pathOf(scope)}.${prop}: ${quote(value)} is not allowed: ${why}. Fix: ${fix}`;
}

/** The same shape for a value that is missing rather than wrong. */
export function missingValue(scope: IConstruct | string, prop: string, why: string, fix: string): string {
  return `${pathOf(scope)}.${prop}: missing: ${why}. Fix: ${fix}`;
}

/** A construct's path, or a path written out for values outside the construct tree (`BoundaryPolicy`, `Processor(…)`). */
function pathOf(scope: IConstruct | string): string {
  return typeof scope === 'string' ? scope : scope.node.path;
}

/**
 * The value as a reader should see it: strings quoted, NaN and Infinity by name (JSON would print
 * `null`), objects with their own `toString` by it, the rest as JSON; never throws.
 */
export function quote(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint' || typeof value === 'symbol') return String(value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value === 'object' && value !== null && typeof (value as { toString?: unknown }).toString === 'function'
    && (value as object).toString !== Object.prototype.toString && !Array.isArray(value)) {
    try {
      return `'${String(value)}'`;
    } catch {
      return '<unprintable object>';
    }
  }
  if (typeof value === 'string') return `'${value}'`;
  try {
    const json = JSON.stringify(value, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : typeof v === 'bigint' ? String(v) : v));
    return json === undefined ? String(value) : json.length > 200 ? `${json.slice(0, 197)}...` : json;
  } catch {
    return '<unprintable object>';
  }
}

/**
 * An error in a construct's props, thrown while the app is built.
 * Its message already names the construct path, the value and the fix.
 */
export class ValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ValidationError';
  }
}
