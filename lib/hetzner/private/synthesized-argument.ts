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
 * Some arguments (or `'all'`) of a resource as its construct built them, before any override (`addOverride`,
 * `addPropertyOverride`), their tokens resolved: what the library meant Terraform to receive, to hold
 * against what the stack writes. cdktf keeps a resource's overrides apart and merges them in only when it
 * writes the resource, so a view of the resource with none writes what was built.
 */
export function builtArguments<K extends string>(resource: TerraformResource, names: readonly K[] | 'all'): Partial<Record<K, unknown>> {
  // cdktf's (and cdktn's) own field, not public API: were it renamed, the view below would still write the overrides and
  // every check comparing it with the written resource would pass unseen. Fail loudly instead.
  if (!Object.prototype.hasOwnProperty.call(resource, 'rawOverrides')) {
    throw new Error(`${resource.node.path}: this CDK keeps a resource's overrides outside \`rawOverrides\`, so the library cannot tell what it built `
      + 'from what an override changed. Fix: use cdktf 0.21 or cdktn 0.24, the versions this library supports.');
  }
  const withoutOverrides = Object.create(resource, { rawOverrides: { value: {} } }) as TerraformResource;
  return picked(withoutOverrides, resource, names);
}

function picked<K extends string>(writer: TerraformResource, resource: TerraformResource, names: readonly K[] | 'all'): Partial<Record<K, unknown>> {
  const written = writer.toTerraform() as { resource?: Record<string, Record<string, Record<string, unknown>>> };
  const body = written.resource?.[resource.terraformResourceType]?.[resource.friendlyUniqueId] ?? {};
  const chosen = Object.fromEntries((names === 'all' ? Object.keys(body) : names.filter((name) => name in body)).map((name) => [name, body[name]]));
  return (Tokenization.resolve(chosen, { scope: resource, preparing: false, resolver: RESOLVER }) ?? {}) as Partial<Record<K, unknown>>;
}
