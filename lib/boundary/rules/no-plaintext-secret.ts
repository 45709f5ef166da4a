import { sensitiveAttributePaths, valuesAt } from '../private/provider-schema';
import { ReadableText, readableTexts, secretKindIn, stringsWithPaths } from '../secret-patterns';
import { BoundaryRule, Finding, readsAReference } from './rule';

export const noPlaintextSecret: BoundaryRule = {
  id: 'Boundary-NoPlaintextSecret',
  level: 'error',
  cause: 'A secret appears in plain text in the synthesized configuration: a literal in an attribute the provider marks sensitive, or a value that looks like a key, token, password or credentialed URL.',
  explanation: 'Secrets, tokens and identity data have the hardest boundary; the synthesized JSON is committed, reviewed and copied, so secrets arrive only through sensitive variables or the environment.',
  enforcedAt: 'synth (Aspect over the whole app)',
  evaluate: ({ resources, terraform, stack }) => {
    const findings: Finding[] = [];
    const locals: Record<string, unknown> = terraform.locals ?? {};
    for (const r of resources) {
      for (const attributePath of sensitiveAttributePaths(r.type)) {
        for (const value of valuesAt(r.body, attributePath)) {
          if (value !== null && value !== undefined && !readsAReference(value, locals)) {
            findings.push({
              path: r.path,
              message: `${r.path}.${attributePath.join('.')}: '<redacted>' is not allowed: the provider marks it sensitive and it is a literal in the configuration (an expression that reads no variable, resource or data source is one too). Fix: pass it through a SecretVariable (TF_VAR_… in the environment)`,
            });
          }
        }
      }
    }
    for (const provider of [terraform.provider?.hcloud ?? []].flat()) {
      if (provider?.token !== undefined && !readsAReference(provider.token, locals)) {
        findings.push({ path: stack.node.path, message: `${stack.node.path}.provider.hcloud.token: '<redacted>' is not allowed: the API token is a literal in the configuration (an expression that reads no variable, resource or data source is one too). Fix: leave it unset and export HCLOUD_TOKEN` });
      }
    }
    for (const { path, value } of stringsWithPaths(terraform)) {
      const hit = [...readableTexts(value), ...keyedText(path, value)].map((t) => ({ within: t.within, kind: secretKindIn(t.text) })).find((h) => h.kind !== undefined);
      if (!hit) continue;
      const owner = resources.find((r) => path.startsWith(`resource.${r.type}.${r.name}`));
      const at = owner ? owner.path : stack.node.path;
      findings.push({
        path: at,
        message: `${at} (${path}${hit.within ? `, ${hit.within}` : ''}): '<redacted: looks like a ${hit.kind}>' is not allowed: secrets never appear in plain text in the synthesized configuration. Fix: pass it through a SecretVariable, or read it on the machine from a file that is not in the configuration`,
      });
    }
    return findings;
  },
};

/**
 * A literal read with the name it is stored under, as `name=value`: the JSON key says what it is
 * when the text alone does not (`variable "db_password" { default = "…" }`, `locals { mistral_api_key
 * = "…" }`, an `environment` map's `API_TOKEN`), so a secret pasted under a secret's name is found
 * like `PASSWORD=…` in a file. A variable's default is read under the variable's name.
 */
function keyedText(path: string, value: string): ReadableText[] {
  const keys = path.split('.').map((k) => k.replace(/\[\d+\]$/, ''));
  const variableDefault = keys.length === 3 && keys[0] === 'variable' && keys[2] === 'default';
  const key = variableDefault ? keys[1] : keys[keys.length - 1];
  if (!key) return [];
  return [{ text: `${key.replace(/[^A-Za-z0-9_]/g, '_')}=${value}`, within: variableDefault ? `the default of variable ${key}` : `the value of ${key}` }];
}
