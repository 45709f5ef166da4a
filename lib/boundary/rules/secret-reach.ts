import { sensitiveAttributePaths } from '../private/provider-schema';
import { isMarkedSensitive } from './rule';

/** A reference a value reads, and the locals it reads it through. */
export interface Reach {
  /** The reference, such as `var.db_password` or `hcloud_storage_box.box.password`. */
  readonly reference: string;
  /** The locals between the value and the reference, outermost first; empty when the value reads it itself. */
  readonly via: readonly string[];
}

/**
 * What `value` reads that `find` picks out of a text, each reference once with the shortest chain of locals it is
 * read through. Locals are followed transitively, each once, so a cycle (which Terraform refuses) still ends: a
 * local between a secret and where it lands (`nonsensitive()` in it lifts Terraform's own mark) hid the secret.
 */
export function readsThroughLocals(value: unknown, locals: Record<string, unknown>, find: (text: string) => string[]): Reach[] {
  const seen = new Set<string>();
  const found = new Map<string, Reach>();
  const queue: Array<{ value: unknown; via: string[] }> = [{ value, via: [] }];
  while (queue.length > 0) {
    const next = queue.shift()!;
    const text = JSON.stringify(next.value ?? '');
    for (const reference of find(text)) if (!found.has(reference)) found.set(reference, { reference, via: next.via });
    for (const [, local] of text.matchAll(/(?<![\w.])local\.([A-Za-z_][\w-]*)/g)) {
      if (seen.has(local) || !(local in locals)) continue;
      seen.add(local);
      queue.push({ value: locals[local], via: [...next.via, local] });
    }
  }
  return [...found.values()];
}

/** How a finding says where a reference was read through: ` (through local.a → local.b)`, or nothing. */
export function describeVia(reach: Reach): string {
  return reach.via.length > 0 ? ` (through ${reach.via.map((l) => `local.${l}`).join(' → ')})` : '';
}

/**
 * The secrets a value of the stack reads, directly or through locals: sensitive variables, sensitive provider
 * attributes (or a whole resource holding one), and what the configuration wrote into a resource's attribute from
 * either (a rollout's `input` holding the bundle with its secret templates; `terraform_data`'s output is its input).
 */
export function secretsReadBy(terraform: Record<string, any>): (value: unknown) => Reach[] {
  const sensitiveVariables = new Set(Object.entries(terraform.variable ?? {}).filter(([, v]: [string, any]) => isMarkedSensitive(v?.sensitive)).map(([name]) => name));
  const locals: Record<string, unknown> = terraform.locals ?? {};
  const resources: Record<string, Record<string, any>> = terraform.resource ?? {};
  const known = new Map<string, boolean>();
  const secretsIn = (text: string): string[] => [
    ...[...text.matchAll(/var\.([A-Za-z0-9_-]+)/g)].filter((m) => sensitiveVariables.has(m[1])).map((m) => `var.${m[1]}`),
    ...[...text.matchAll(/(?<![\w.])([a-z][a-z0-9]*_[a-z0-9_]+)\.([A-Za-z0-9_-]+)(?:\[[^\]]*\])*(?:\.([a-z_]+))?/g)].filter((m) => {
      const [, type, name, attribute] = m;
      const paths = sensitiveAttributePaths(type);
      // The whole resource (jsonencode(hcloud_storage_box.box), nonsensitive(…)) holds its secrets
      // too, and so does a block holding a sensitive attribute.
      if (paths.length > 0 && (attribute === undefined || paths.some((p) => p[0] === attribute))) return true;
      return writtenCarries(type, name, attribute);
    }).map(([, type, name, attribute]) => [type, name, attribute].filter((p) => p !== undefined).join('.')),
  ];
  /** Whether what the configuration writes into a resource's attribute (or any, for the whole resource) reads a secret; each attribute is read once. */
  function writtenCarries(type: string, name: string, attribute: string | undefined): boolean {
    const body = resources[type]?.[name];
    if (!body || typeof body !== 'object') return false;
    const key = `${type}.${name}.${attribute ?? '*'}`;
    // Being followed (a cycle) counts as nothing until it is known.
    if (known.has(key)) return known.get(key)!;
    known.set(key, false);
    const read = type === 'terraform_data' && attribute === 'output' ? 'input' : attribute;
    const { ['//']: _metadata, ...written } = body;
    const value = read === undefined ? written : written[read];
    const carries = value !== undefined && readsThroughLocals(value, locals, secretsIn).length > 0;
    known.set(key, carries);
    return carries;
  }
  return (value) => readsThroughLocals(value, locals, secretsIn);
}
