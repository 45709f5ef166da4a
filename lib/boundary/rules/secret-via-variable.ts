import { sensitiveAttributePaths, valuesAt } from '../private/provider-schema';
import { BoundaryRule, Finding, isMarkedSensitive } from './rule';
import { describeVia, readsThroughLocals, secretsReadBy } from './secret-reach';

export const secretViaVariable: BoundaryRule = {
  id: 'Boundary-SecretViaVariable',
  level: 'error',
  cause: 'A secret variable has a default, a secret is written into a label, name or description Hetzner shows in clear (a firewall rule\'s description and a reverse DNS name too; directly or through locals), or a sensitive provider attribute is fed by a variable not marked sensitive.',
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
    const locals: Record<string, unknown> = terraform.locals ?? {};
    const unmarked = (text: string) => [...text.matchAll(/var\.([A-Za-z0-9_-]+)/g)]
      .filter((m) => variables[m[1]] && !isMarkedSensitive(variables[m[1]].sensitive)).map((m) => `var.${m[1]}`);
    for (const r of resources) {
      for (const attributePath of sensitiveAttributePaths(r.type)) {
        for (const value of valuesAt(r.body, attributePath)) {
          for (const reach of readsThroughLocals(value, locals, unmarked)) {
            findings.push({ path: r.path, message: `${r.path}.${attributePath.join('.')}: '${reach.reference}' is not allowed: the variable feeding a sensitive attribute${describeVia(reach)} is not marked sensitive. Fix: declare it with SecretVariable` });
          }
        }
      }
    }
    // Hetzner keeps labels and names in clear: its console, every token of the project and the reports show them.
    // Followed through locals (a TerraformLocal holding the variable, or an expression built from it), each once.
    const secretsOf = secretsReadBy(terraform);
    for (const r of resources.filter((x) => x.type.startsWith('hcloud_'))) {
      for (const shown of SHOWN_IN_CLEAR) {
        const attribute = shown.join('.');
        for (const reach of valuesAt(r.body, shown).flatMap((v) => secretsOf(v))) {
          const what = reach.reference.startsWith('var.') ? 'the variable is sensitive' : 'the attribute holds a secret';
          findings.push({ path: r.path, message: `${r.path}.${attribute}: '${reach.reference}' is not allowed: ${what}${describeVia(reach)}, and Hetzner keeps a resource's ${attribute} in clear, shown in its console, to every token of the project and in listings and reports. Fix: give the secret to the machine in a bundle file built from the SecretVariable, never in a label or a name` });
        }
      }
    }
    return findings;
  },
};

/**
 * hcloud attributes Hetzner shows in clear to whoever reads the project: labels, names and descriptions, a firewall
 * rule's description (nested in its rule blocks), and a reverse DNS entry's name (`hcloud_rdns.dns_ptr`), which
 * anyone on the internet can look up too.
 */
const SHOWN_IN_CLEAR: readonly (readonly string[])[] = [['labels'], ['name'], ['description'], ['rule', 'description'], ['dns_ptr']];
