import { DefaultTokenResolver, StringConcat, TerraformResource, Tokenization } from 'cdktf';

const RESOLVER = new DefaultTokenResolver(new StringConcat());

/**
 * Some arguments of a resource as synthesized: overrides applied, then their tokens resolved. Only those arguments: a
 * server's user data, resolved with the rest, would throw where it cannot render, which its own check reports.
 */
export function synthesizedArguments<K extends string>(resource: TerraformResource, names: readonly K[]): Partial<Record<K, unknown>> {
  const written = resource.toTerraform() as { resource?: Record<string, Record<string, Record<string, unknown>>> };
  const body = written.resource?.[resource.terraformResourceType]?.[resource.friendlyUniqueId] ?? {};
  const picked = Object.fromEntries(names.filter((name) => name in body).map((name) => [name, body[name]]));
  return (Tokenization.resolve(picked, { scope: resource, preparing: false, resolver: RESOLVER }) ?? {}) as Partial<Record<K, unknown>>;
}

/** One argument of a resource as synthesized (see synthesizedArguments). */
export function synthesizedArgument(resource: TerraformResource, name: string): unknown {
  return synthesizedArguments(resource, [name])[name];
}
