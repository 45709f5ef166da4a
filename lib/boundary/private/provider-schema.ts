import schemaFile from '../../../schema/hcloud-provider-schema.json';

type Block = { attributes?: Record<string, any>; block_types?: Record<string, { block: Block }> };

const provider = (schemaFile as any).provider_schemas['registry.terraform.io/hetznercloud/hcloud'];

function sensitivePaths(block: Block, prefix: string[] = []): string[][] {
  const paths: string[][] = [];
  for (const [name, attribute] of Object.entries(block.attributes ?? {})) {
    if (attribute.sensitive) paths.push([...prefix, name]);
    if (attribute.nested_type) paths.push(...sensitivePaths(attribute.nested_type, [...prefix, name]));
  }
  for (const [name, nested] of Object.entries(block.block_types ?? {})) paths.push(...sensitivePaths(nested.block, [...prefix, name]));
  return paths;
}

const cache = new Map<string, string[][]>();

/**
 * The secrets that resources of the local providers the rules let through (random, tls) compute, as their providers
 * mark them sensitive: their schemas are not committed, and a generated password or key written through a local into
 * a label passed the checks.
 */
const LOCAL_PROVIDER_SECRETS: Readonly<Record<string, string[][]>> = {
  random_password: [['result'], ['bcrypt_hash']],
  tls_private_key: [['private_key_pem'], ['private_key_openssh'], ['private_key_pem_pkcs8']],
};

/**
 * The attribute paths the hcloud provider marks sensitive for a resource type (or `provider`),
 * read from the committed provider schema, and the secrets of random_password and tls_private_key.
 */
export function sensitiveAttributePaths(type: string): string[][] {
  if (!cache.has(type)) {
    const block = type === 'provider' ? provider.provider.block : provider.resource_schemas[type]?.block;
    cache.set(type, block ? sensitivePaths(block) : LOCAL_PROVIDER_SECRETS[type] ?? []);
  }
  return cache.get(type)!;
}

/** The values at a path in a JSON body, descending through lists of nested blocks. */
export function valuesAt(body: unknown, path: readonly string[]): unknown[] {
  if (path.length === 0) return [body];
  if (Array.isArray(body)) return body.flatMap((item) => valuesAt(item, path));
  if (body && typeof body === 'object') {
    const next = (body as Record<string, unknown>)[path[0]];
    return next === undefined ? [] : valuesAt(next, path.slice(1));
  }
  return [];
}
