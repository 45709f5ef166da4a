import { sensitiveAttributePaths } from '../private/provider-schema';
import { BoundaryRule, isMarkedSensitive } from './rule';

export const sensitiveOutput: BoundaryRule = {
  id: 'Boundary-SensitiveOutput',
  level: 'error',
  cause: 'An output carries a sensitive variable or a sensitive provider attribute, directly or through locals or the attributes of resources it was written into, without being marked sensitive.',
  explanation: 'Outputs are printed by `cdktf deploy` and `terraform output`; a secret in an unmarked output ends up in CI logs.',
  enforcedAt: 'synth (Aspect over the whole app)',
  evaluate: ({ terraform, stack }) => {
    const sensitiveVariables = new Set(Object.entries(terraform.variable ?? {}).filter(([, v]: [string, any]) => isMarkedSensitive(v?.sensitive)).map(([name]) => name));
    const locals: Record<string, unknown> = terraform.locals ?? {};
    const resources: Record<string, Record<string, any>> = terraform.resource ?? {};
    const known = new Map<string, boolean>();
    const carriesSecret = (text: string): boolean => [...text.matchAll(/var\.([A-Za-z0-9_-]+)/g)].some((m) => sensitiveVariables.has(m[1]))
      || [...text.matchAll(/(?<![\w.])([a-z][a-z0-9]*_[a-z0-9_]+)\.([A-Za-z0-9_-]+)(?:\[[^\]]*\])*(?:\.([a-z_]+))?/g)].some((m) => {
        const [, type, name, attribute] = m;
        const paths = sensitiveAttributePaths(type);
        // The whole resource (jsonencode(hcloud_storage_box.box), nonsensitive(…)) holds its secrets
        // too, and so does a block holding a sensitive attribute.
        if (paths.length > 0 && (attribute === undefined || paths.some((p) => p[0] === attribute))) return true;
        return writtenCarries(type, name, attribute);
      });
    /**
     * Whether what the configuration writes into a resource's attribute (or any, for the whole resource)
     * reads a secret: a rollout's `input` holding the bundle with its secret templates, an attribute set
     * from a sensitive variable. `nonsensitive(terraform_data.rollout.output)` prints them as surely as
     * the variable itself. Each attribute is read once.
     */
    function writtenCarries(type: string, name: string, attribute: string | undefined): boolean {
      const body = resources[type]?.[name];
      if (!body || typeof body !== 'object') return false;
      const key = `${type}.${name}.${attribute ?? '*'}`;
      // Being followed (a cycle) counts as nothing until it is known.
      if (known.has(key)) return known.get(key)!;
      known.set(key, false);
      // terraform_data's output is its input.
      const read = type === 'terraform_data' && attribute === 'output' ? 'input' : attribute;
      const { ['//']: _metadata, ...written } = body;
      const value = read === undefined ? written : written[read];
      const carries = value !== undefined && secretPath(value, locals, carriesSecret) !== undefined;
      known.set(key, carries);
      return carries;
    }
    return Object.entries(terraform.output ?? {}).flatMap(([name, output]: [string, any]) => {
      if (isMarkedSensitive(output?.sensitive)) return [];
      const via = secretPath(output?.value ?? '', locals, carriesSecret);
      if (!via) return [];
      const through = via.length > 0 ? ` (through ${via.map((l) => `local.${l}`).join(' → ')})` : '';
      return [{
        path: stack.node.path,
        message: `${stack.node.path}.output.${name}: 'sensitive: false' is not allowed: the output carries a secret${through}. Fix: mark the output sensitive (new TerraformOutput(…, { sensitive: true })) or do not output it`,
      }];
    });
  },
};

/**
 * The chain of locals through which `value` reads a secret ([] when it reads one itself), or
 * undefined when it reads none. Locals are followed transitively, each once: `nonsensitive()` in
 * a local lifts Terraform's own mark, so only this check stands between the secret and the log.
 */
function secretPath(value: unknown, locals: Record<string, unknown>, carriesSecret: (text: string) => boolean): string[] | undefined {
  const seen = new Set<string>();
  const queue: Array<{ value: unknown; via: string[] }> = [{ value, via: [] }];
  while (queue.length > 0) {
    const next = queue.shift()!;
    const text = JSON.stringify(next.value ?? '');
    if (carriesSecret(text)) return next.via;
    for (const [, local] of text.matchAll(/(?<![\w.])local\.([A-Za-z_][\w-]*)/g)) {
      if (seen.has(local) || !(local in locals)) continue;
      seen.add(local);
      queue.push({ value: locals[local], via: [...next.via, local] });
    }
  }
  return undefined;
}
