import { sensitiveAttributePaths } from '../private/provider-schema';
import { BoundaryRule } from './rule';

export const sensitiveOutput: BoundaryRule = {
  id: 'Boundary-SensitiveOutput',
  level: 'error',
  cause: 'An output carries a sensitive variable or a sensitive provider attribute without being marked sensitive.',
  explanation: 'Outputs are printed by `cdktf deploy` and `terraform output`; a secret in an unmarked output ends up in CI logs.',
  enforcedAt: 'synth (Aspect over the whole app)',
  evaluate: ({ terraform, stack }) => {
    const sensitiveVariables = new Set(Object.entries(terraform.variable ?? {}).filter(([, v]: [string, any]) => v?.sensitive).map(([name]) => name));
    return Object.entries(terraform.output ?? {}).flatMap(([name, output]: [string, any]) => {
      if (output?.sensitive) return [];
      const text = JSON.stringify(output?.value ?? '');
      const viaVariable = [...text.matchAll(/var\.([A-Za-z0-9_-]+)/g)].some((m) => sensitiveVariables.has(m[1]));
      const viaAttribute = [...text.matchAll(/(hcloud_[a-z_]+)\.[A-Za-z0-9_-]+\.([a-z_]+)/g)]
        .some((m) => sensitiveAttributePaths(m[1]).some((p) => p.length === 1 && p[0] === m[2]));
      if (!viaVariable && !viaAttribute) return [];
      return [{
        path: stack.node.path,
        message: `${stack.node.path}.output.${name}: 'sensitive: false' is not allowed: the output carries a secret. Fix: mark the output sensitive (new TerraformOutput(…, { sensitive: true })) or do not output it`,
      }];
    });
  },
};
