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
