import { Construct } from 'constructs';

/**
 * A frozen copy of props as they are now: each field read once (a getter answers once), plain objects and lists
 * copied down to `depth` levels, class instances (value types, constructs) kept. A construct checks the copy and
 * keeps it, so a JavaScript caller cannot pass the check with one answer and be built from another (a getter that
 * answers the check with a safe list and the copy with '0.0.0.0/0'), nor edit what was checked afterwards.
 * `names` are read too when they are not own enumerable fields (a getter on a class's prototype). A list (an argument
 * such as `PostgresDump.databases(names)`) is copied and frozen the same way.
 * @internal
 */
export function frozenSnapshot<T>(props: T, names: readonly string[] = [], depth = 5): T {
  // A construct passed where props are checked (an account for BackupTarget.storageBox) is itself, not a copy.
  if (props === null || typeof props !== 'object' || Construct.isConstruct(props)) return props;
  if (Array.isArray(props)) return frozenCopy(props, depth) as T;
  const source = props as Record<string, unknown>;
  // Props built by a class keep its prototype: the checks judge a class instance's other members by their own rule
  // (only a near miss of a known name is refused), which a plain copy would turn into "unknown property".
  const prototype = Object.getPrototypeOf(source);
  const copy: Record<string, unknown> = Object.create(prototype);
  for (const key of new Set([...Object.keys(source), ...names.filter((n) => n in source)])) {
    // Defined, not assigned: a getter of the same name on the class's prototype would refuse the assignment.
    Object.defineProperty(copy, key, { value: frozenCopy(source[key], depth - 1), enumerable: true });
  }
  return Object.freeze(copy) as T;
}

function frozenCopy(value: unknown, depth: number): unknown {
  if (depth <= 0 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return Object.freeze(value.map((v) => frozenCopy(v, depth - 1)));
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return value;
  return Object.freeze(Object.fromEntries(Object.entries(value).map(([k, v]) => [k, frozenCopy(v, depth - 1)])));
}
