import { DefaultTokenResolver, StringConcat, TerraformResource, Tokenization } from 'cdktf';

const RESOLVER = new DefaultTokenResolver(new StringConcat());

/**
 * Some arguments of a resource as synthesized: overrides applied, then their tokens resolved. Only those arguments: a
 * server's user data, resolved with the rest, would throw where it cannot render, which its own check reports.
 */
export function synthesizedArguments<K extends string>(resource: TerraformResource, names: readonly K[]): Partial<Record<K, unknown>> {
  return picked(resource, resource, names);
}

/** One argument of a resource as synthesized (see synthesizedArguments). */
export function synthesizedArgument(resource: TerraformResource, name: string): unknown {
  return synthesizedArguments(resource, [name])[name];
}

/**
 * Where a resource keeps what the library built of it, field by field (see recordBuilt): on the resource, under a
 * symbol of the global registry, so that a machine built by another copy of the library is read too (requireMachine
 * accepts one); neither writable nor removable.
 */
const BUILT = Symbol.for('cdktf-sovereign-hetzner/built-fields');

/**
 * Records `resource` as the library built it, once it has finished: every field of its own (its configuration, its
 * meta-arguments), plain arrays and objects copied, tokens and other objects (a Lazy, a provider) kept as they are.
 * Call it where the library stops changing the resource: builtArguments reads what it recorded, so a later change
 * (a generated setter such as `server.userData = …`, `resource.count = 0`, a provisioner pushed onto the list, from
 * an Aspect or the caller) is not what the library built.
 */
export function recordBuilt(resource: TerraformResource): void {
  Object.defineProperty(resource, BUILT, { value: copiedDescriptors(Object.getOwnPropertyDescriptors(resource)), enumerable: false, writable: false, configurable: false });
}

/**
 * Some arguments (or `'all'`) of a resource as the library built it (recordBuilt), before any override (`addOverride`,
 * `addPropertyOverride`), their tokens resolved: what the library meant Terraform to receive, to hold against what
 * the stack writes. The resource writes itself from the recorded fields, with no overrides: cdktf keeps those apart
 * (in `rawOverrides`) and merges them in only when it writes the resource.
 */
export function builtArguments<K extends string>(resource: TerraformResource, names: readonly K[] | 'all'): Partial<Record<K, unknown>> {
  // cdktf's (and cdktn's) own field, not public API: were it renamed, the view below would still write the overrides and
  // every check comparing it with the written resource would pass unseen. Fail loudly instead.
  if (!Object.prototype.hasOwnProperty.call(resource, 'rawOverrides')) {
    throw new Error(`${resource.node.path}: this CDK keeps a resource's overrides outside \`rawOverrides\`, so the library cannot tell what it built `
      + 'from what an override changed. Fix: use cdktf 0.21 or cdktn 0.24, the versions this library supports.');
  }
  const fields = Object.prototype.hasOwnProperty.call(resource, BUILT) ? (resource as unknown as Record<symbol, PropertyDescriptorMap>)[BUILT] : undefined;
  // Read from the live resource instead, a change through a setter would count as built: fail loudly.
  if (!fields) throw new Error(`${resource.node.path}: the library did not record what it built of this resource (recordBuilt), so it cannot tell it from what changed it later`);
  const asBuilt = Object.create(resource, { ...copiedDescriptors(fields), rawOverrides: { value: {} } }) as TerraformResource;
  return picked(asBuilt, resource, names);
}

/** Each descriptor with its value copied (copiedValue): neither the record nor a view of it shares a list with the resource. */
function copiedDescriptors(descriptors: PropertyDescriptorMap): PropertyDescriptorMap {
  return Object.fromEntries(Reflect.ownKeys(descriptors).map((key) => {
    const d = descriptors[key as string];
    return [key, 'value' in d ? { ...d, value: copiedValue(d.value) } : d];
  }));
}

/** Plain arrays and objects copied all the way down; anything else (a token, a Lazy, a construct) kept by reference. */
function copiedValue(value: unknown, seen = new Map<object, unknown>()): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return seen.get(value);
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    seen.set(value, copy);
    for (const item of value) copy.push(copiedValue(item, seen));
    return copy;
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return value;
  const copy: Record<string, unknown> = Object.create(prototype);
  seen.set(value, copy);
  for (const [k, v] of Object.entries(value)) copy[k] = copiedValue(v, seen);
  return copy;
}

function picked<K extends string>(writer: TerraformResource, resource: TerraformResource, names: readonly K[] | 'all'): Partial<Record<K, unknown>> {
  const written = writer.toTerraform() as { resource?: Record<string, Record<string, Record<string, unknown>>> };
  const body = written.resource?.[resource.terraformResourceType]?.[resource.friendlyUniqueId] ?? {};
  const chosen = Object.fromEntries((names === 'all' ? Object.keys(body) : names.filter((name) => name in body)).map((name) => [name, body[name]]));
  return (Tokenization.resolve(chosen, { scope: resource, preparing: false, resolver: RESOLVER }) ?? {}) as Partial<Record<K, unknown>>;
}
