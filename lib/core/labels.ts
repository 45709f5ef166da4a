// Hetzner's label rules (hcloud-go hcloud/labels.go): values are at most 63 characters,
// alphanumeric at both ends with only '-', '_' and '.' inside, or empty. Keys are an
// optional DNS-style prefix and '/', then a name with the same rules as a value (not empty).
const LABEL_VALUE = /^(([A-Za-z0-9][-_.A-Za-z0-9]{0,61})?[A-Za-z0-9])?$/;
const LABEL_KEY_NAME = /^[A-Za-z0-9]([-_.A-Za-z0-9]{0,61}[A-Za-z0-9])?$/;
const LABEL_KEY_PREFIX = /^[A-Za-z0-9]([-_.A-Za-z0-9]{0,251}[A-Za-z0-9])?$/;

/** Why a label value is invalid, or `undefined` when it is valid. */
export function labelValueProblem(value: string): string | undefined {
  return LABEL_VALUE.test(value)
    ? undefined
    : 'a Hetzner label value has at most 63 characters, starts and ends with a letter or digit, and uses only letters, digits, "-", "_" and "." inside';
}

/** Why a label key is invalid, or `undefined` when it is valid. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (LABEL_KEY_NAME.test(name) && (prefix === undefined || LABEL_KEY_PREFIX.test(prefix))) return undefined;
  return 'a Hetzner label key is an optional DNS-style prefix and "/", then a name of at most 63 letters, digits, "-", "_" or "." that starts and ends with a letter or digit';
}

/** The first problem in a label map, as `[key, problem]`, or `undefined`. */
export function firstLabelProblem(labels: Record<string, string>): [string, string] | undefined {
  for (const [key, value] of Object.entries(labels)) {
    const keyProblem = labelKeyProblem(key);
    if (keyProblem) return [key, keyProblem];
    const valueProblem = labelValueProblem(value);
    if (valueProblem) return [`${key}=${value}`, valueProblem];
  }
  return undefined;
}

/**
 * Whether a Hetzner label selector (`k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`,
 * joined by commas) may match the labels. Anything it cannot read (an expression, labels that are
 * not literal) counts as matching, so an unknown attachment is never read as harmless.
 */
export function labelSelectorMayMatch(selector: unknown, labels: unknown): boolean {
  if (typeof selector !== 'string' || selector.includes('${')) return true;
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels) || Object.values(labels).some((v) => typeof v !== 'string' || v.includes('${'))) return true;
  const has = (k: string) => Object.prototype.hasOwnProperty.call(labels, k);
  // Commas inside `in (…)` lists are not requirement separators.
  const requirements = selector.match(/[^,(]+(?:\([^)]*\))?/g) ?? [];
  return requirements.every((raw) => {
    const r = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = /^([^\s!=]+)\s*!=\s*(\S*)$/.exec(r))) return (labels as Record<string, unknown>)[m[1]] !== m[2];
    if ((m = /^([^\s!=]+)\s*==?\s*(\S*)$/.exec(r))) return (labels as Record<string, unknown>)[m[1]] === m[2];
    if ((m = /^!\s*(\S+)$/.exec(r))) return !has(m[1]);
    if ((m = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(r))) {
      const values = m[3].split(',').map((v) => v.trim());
      const inList = has(m[1]) && values.includes((labels as Record<string, unknown>)[m[1]] as string);
      return m[2] === 'in' ? inList : !inList;
    }
    if ((m = /^(\S+)$/.exec(r))) return has(m[1]);
    return true;
  });
}
