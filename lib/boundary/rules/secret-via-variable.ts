import { sensitiveAttributePaths, valuesAt } from '../private/provider-schema';
import { BoundaryRule, Finding, isMarkedSensitive } from './rule';

export const secretViaVariable: BoundaryRule = {
  id: 'Boundary-SecretViaVariable',
  level: 'error',
  cause: 'A secret variable has a default, or a sensitive provider attribute is fed by a variable not marked sensitive.',
  explanation: 'Tokens and passwords arrive only through sensitive variables or the environment: a default writes the secret into the configuration, and an unmarked variable is printed in plans.',
  enforcedAt: 'synth (Aspect over the whole app)',
  evaluate: ({ terraform, resources, stack }) => {
    const findings: Finding[] = [];
    const variables: Record<string, any> = terraform.variable ?? {};
    for (const [name, variable] of Object.entries(variables)) {
      if (isMarkedSensitive(variable?.sensitive) && variable.default !== undefined) {
        findings.push({ path: stack.node.path, message: `${stack.node.path}.variable.${name}: '<redacted default>' is not allowed: a sensitive variable with a default writes the secret into the configuration. Fix: remove the default and set TF_VAR_${name} in the environment` });
      }
    }
    for (const r of resources) {
      for (const attributePath of sensitiveAttributePaths(r.type)) {
        for (const value of valuesAt(r.body, attributePath)) {
          for (const m of String(value ?? '').matchAll(/var\.([A-Za-z0-9_-]+)/g)) {
            if (variables[m[1]] && !isMarkedSensitive(variables[m[1]].sensitive)) {
              findings.push({ path: r.path, message: `${r.path}.${attributePath.join('.')}: 'var.${m[1]}' is not allowed: the variable feeding a sensitive attribute is not marked sensitive. Fix: declare it with SecretVariable` });
            }
          }
        }
      }
    }
    return findings;
  },
};
