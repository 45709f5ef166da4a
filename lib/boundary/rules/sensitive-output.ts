import { BoundaryRule, isMarkedSensitive } from './rule';
import { describeVia, secretsReadBy } from './secret-reach';

export const sensitiveOutput: BoundaryRule = {
  id: 'Boundary-SensitiveOutput',
  level: 'error',
  cause: 'An output carries a sensitive variable or a sensitive provider attribute, directly or through locals or the attributes of resources it was written into, without being marked sensitive.',
  explanation: 'Outputs are printed by `cdktf deploy` and `terraform output`; a secret in an unmarked output ends up in CI logs.',
  enforcedAt: 'synth (Aspect over the whole app)',
  evaluate: ({ terraform, stack }) => {
    const secretsOf = secretsReadBy(terraform);
    return Object.entries(terraform.output ?? {}).flatMap(([name, output]: [string, any]) => {
      if (isMarkedSensitive(output?.sensitive)) return [];
      const [reach] = secretsOf(output?.value ?? '');
      if (!reach) return [];
      return [{
        path: stack.node.path,
        message: `${stack.node.path}.output.${name}: 'sensitive: false' is not allowed: the output carries a secret${describeVia(reach)}. Fix: mark the output sensitive (new TerraformOutput(…, { sensitive: true })) or do not output it`,
      }];
    });
  },
};
