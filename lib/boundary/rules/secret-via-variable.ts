import { sensitiveAttributePaths, valuesAt } from '../private/provider-schema';
import { BoundaryRule, Finding, isMarkedSensitive } from './rule';

export const secretViaVariable: BoundaryRule = {
  id: 'Boundary-SecretViaVariable',
  level: 'error',
  cause: 'A secret variable has a default, is written into a label or name Hetzner shows in clear, or a sensitive provider attribute is fed by a variable not marked sensitive.',
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
    // Hetzner keeps labels and names in clear: its console, every token of the project and the reports show them.
    const sensitive = new Set(Object.entries(variables).filter(([, v]) => isMarkedSensitive(v?.sensitive)).map(([name]) => name));
    for (const r of resources.filter((x) => x.type.startsWith('hcloud_'))) {
      for (const attribute of SHOWN_IN_CLEAR) {
        const named = new Set([...JSON.stringify(r.body[attribute] ?? '').matchAll(/var\.([A-Za-z0-9_-]+)/g)].map((m) => m[1]).filter((n) => sensitive.has(n)));
        for (const name of named) {
          findings.push({ path: r.path, message: `${r.path}.${attribute}: 'var.${name}' is not allowed: the variable is sensitive, and Hetzner keeps a resource's ${attribute} in clear, shown in its console, to every token of the project and in listings and reports. Fix: give the secret to the machine in a bundle file built from the SecretVariable, never in a label or a name` });
        }
      }
    }
    return findings;
  },
};

/** hcloud attributes Hetzner shows in clear to whoever reads the project. */
const SHOWN_IN_CLEAR = ['labels', 'name', 'description'];
