import { Construct } from 'constructs';

/**
 * A frozen copy of props as they are now: each field read once (a getter answers once), plain objects and lists
 * copied at every depth, class instances inside them (value types, constructs, tokens, a caller's own objects) kept as
 * they are. A construct checks the copy and keeps it, so a JavaScript caller cannot pass the check with one answer and
 * be built from another (a getter that answers the check with a safe list and the copy with '0.0.0.0/0'), nor edit what
 * was checked afterwards. The same object reached twice becomes the same copy, so a cycle ends and shared parts stay shared.
 * `names` are read too when they are not own enumerable fields (a getter on a class's prototype). A list (an argument
 * such as `PostgresDump.databases(names)`) is copied and frozen the same way.
 * @internal
 */
export function frozenSnapshot<T>(props: T, names: readonly string[] = []): T {
  // A construct passed where props are checked (an account for BackupTarget.storageBox) is itself, not a copy.
  if (props === null || typeof props !== 'object' || Construct.isConstruct(props)) return props;
  // A snapshot given again (a construct that snapshots its props and checks them) is already what it would become.
  if (SNAPSHOTS.has(props)) return props;
  const copies = new WeakMap<object, unknown>();
  if (Array.isArray(props) || isPlain(props)) return remembered(frozenCopy(props, copies) as object) as T;
  // Props built by a class (or passed for an interface, a jsii host's object among them) are read into a plain
  // object: the construct reads only fields, and a copy that kept the class's prototype without its private state
  // (#fields, non-enumerable ones) would be an instance whose methods throw. The copy is marked, so the checks still
  // judge the class's other members by a class's rule (only a near miss of a known name is refused).
  const source = props as Record<string, unknown>;
  const copy: Record<string, unknown> = {};
  copies.set(source, copy);
  for (const key of new Set([...Object.keys(source), ...names.filter((n) => n in source)])) define(copy, key, frozenCopy(source[key], copies));
  BUILT_BY_A_CLASS.add(copy);
  return remembered(Object.freeze(copy)) as T;
}

function remembered(snapshot: object): object {
  SNAPSHOTS.add(snapshot);
  return snapshot;
}

/** Whether `value` is the snapshot of props built by a class (see `frozenSnapshot`). @internal */
export function builtByAClass(value: object): boolean {
  return BUILT_BY_A_CLASS.has(value);
}

const BUILT_BY_A_CLASS = new WeakSet<object>();
const SNAPSHOTS = new WeakSet<object>();

function isPlain(value: object): boolean {
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function frozenCopy(value: unknown, copies: WeakMap<object, unknown>): unknown {
  if (value === null || typeof value !== 'object' || !(Array.isArray(value) || isPlain(value))) return value;
  if (copies.has(value)) return copies.get(value);
  // Registered before its fields are copied: a field that leads back here gets this copy, not another round.
  const copy: Record<string, unknown> | unknown[] = Array.isArray(value) ? [] : Object.create(Object.getPrototypeOf(value));
  copies.set(value, copy);
  if (Array.isArray(value)) value.forEach((v, i) => { (copy as unknown[])[i] = frozenCopy(v, copies); });
  else for (const key of Object.keys(value)) define(copy as Record<string, unknown>, key, frozenCopy((value as Record<string, unknown>)[key], copies));
  return Object.freeze(copy);
}

// Defined, not assigned: a field named '__proto__' would otherwise set the copy's prototype.
function define(copy: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
}
