import { DefaultTokenResolver, StringConcat, TerraformResource, Tokenization } from 'cdktf';

const RESOLVER = new DefaultTokenResolver(new StringConcat());

/**
 * One argument of a resource as synthesized: overrides applied, then its tokens resolved. Only that argument: a
 * server's user data, resolved with the rest, would throw where it cannot render, which its own check reports.
 */
export function synthesizedArgument(resource: TerraformResource, name: string): unknown {
  const written = resource.toTerraform() as { resource?: Record<string, Record<string, Record<string, unknown>>> };
  const value = written.resource?.[resource.terraformResourceType]?.[resource.friendlyUniqueId]?.[name];
  return Tokenization.resolve(value, { scope: resource, preparing: false, resolver: RESOLVER });
}
