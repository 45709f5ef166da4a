import { IConstruct } from 'constructs';

/**
 * Formats a synth-time error the one way this library reports them:
 * `<path>.<prop>: <value> is not allowed: <why>. Fix: <how>`
 *
 * The value is quoted as JSON so that empty strings and lists stay visible.
 */
export function invalidValue(scope: IConstruct, prop: string, value: unknown, why: string, fix: string): string {
  return `${scope.node.path}.${prop}: ${quote(value)} is not allowed: ${why}. Fix: ${fix}`;
}

/** The same shape for a value that is missing rather than wrong. */
export function missingValue(scope: IConstruct, prop: string, why: string, fix: string): string {
  return `${scope.node.path}.${prop}: missing: ${why}. Fix: ${fix}`;
}

function quote(value: unknown): string {
  if (value === undefined) return 'undefined';
  // JSON would print NaN and Infinity as null.
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'object' && value !== null && typeof (value as { toString?: unknown }).toString === 'function'
    && (value as object).toString !== Object.prototype.toString) {
    return `'${String(value)}'`;
  }
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
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
