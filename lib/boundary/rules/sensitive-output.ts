import { sensitiveAttributePaths } from '../private/provider-schema';
import { BoundaryRule } from './rule';

export const sensitiveOutput: BoundaryRule = {
  id: 'Boundary-SensitiveOutput',
  level: 'error',
  cause: 'An output carries a sensitive variable or a sensitive provider attribute, directly or through locals, without being marked sensitive.',
  explanation: 'Outputs are printed by `cdktf deploy` and `terraform output`; a secret in an unmarked output ends up in CI logs.',
  enforcedAt: 'synth (Aspect over the whole app)',
  evaluate: ({ terraform, stack }) => {
    const sensitiveVariables = new Set(Object.entries(terraform.variable ?? {}).filter(([, v]: [string, any]) => v?.sensitive).map(([name]) => name));
    const locals: Record<string, unknown> = terraform.locals ?? {};
    const carriesSecret = (text: string) => [...text.matchAll(/var\.([A-Za-z0-9_-]+)/g)].some((m) => sensitiveVariables.has(m[1]))
      || [...text.matchAll(/(?<![\w.])(hcloud_[a-z_]+)\.[A-Za-z0-9_-]+(?:\[[^\]]*\])*(?:\.([a-z_]+))?/g)].some((m) => {
        const paths = sensitiveAttributePaths(m[1]);
        // The whole resource (jsonencode(hcloud_storage_box.box), nonsensitive(…)) holds its secrets
        // too, and so does a block holding a sensitive attribute.
        return paths.length > 0 && (m[2] === undefined || paths.some((p) => p[0] === m[2]));
      });
    return Object.entries(terraform.output ?? {}).flatMap(([name, output]: [string, any]) => {
      if (output?.sensitive) return [];
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
