/**
 * Sentinel values for a stack's secrets and the forms a leak would take: a value is found in a log,
 * a plan or a file whether it appears as itself or encoded, as the tooling carries it.
 */

/** A distinctive value for a secret variable; `/+=&'` make its encoded forms differ from it. */
export function sentinelFor(variable: string): string {
  return `Zq7${variable.replace(/_/g, '')}Snt/+=&'x`;
}

/** A sentinel for every sensitive variable without a default of a synthesized stack, as `TF_VAR_…`. */
export function sentinelVariables(stackJson: any): Record<string, string> {
  return Object.fromEntries(Object.entries<any>(stackJson?.variable ?? {})
    .filter(([, v]) => v.sensitive === true && v.default === undefined)
    .map(([name]) => [`TF_VAR_${name}`, sentinelFor(name)]));
}

/**
 * The forms of a secret to look for: itself, base64 (also of the value and a newline), URL-, JSON- and
 * shell-quoted, and the first 10 characters of its secret part (of a URL: what follows the scheme and host).
 */
export function secretForms(value: string): Record<string, string> {
  const url = /^[a-z][a-z0-9+.-]*:\/\/(?:([^@/]*)@)?[^/]*(.*)$/is.exec(value);
  const secretPart = url ? `${url[1] ?? ''}${url[2]}` : value;
  return {
    ...(secretPart.length >= 8 ? { prefix: secretPart.slice(0, 10) } : {}),
    raw: value,
    base64: Buffer.from(value).toString('base64'),
    base64Line: Buffer.from(`${value}\n`).toString('base64'),
    url: encodeURIComponent(value),
    json: JSON.stringify(value).slice(1, -1),
    shell: `'${value.replace(/'/g, "'\\''")}'`,
  };
}

/** `<name>: <form>` for every form of every secret that `text` contains. */
export function leakedSecrets(text: string, secrets: Record<string, string>): string[] {
  return Object.entries(secrets).flatMap(([name, value]) => Object.entries(secretForms(value))
    .filter(([, form]) => text.includes(form)).map(([form]) => `${name}: ${form}`));
}

/** Every string of a `terraform show -json` state that Terraform does not mark sensitive, by address. */
export function readableStateStrings(state: any): { path: string; value: string }[] {
  const found: { path: string; value: string }[] = [];
  const walk = (value: unknown, sensitive: unknown, at: string) => {
    if (sensitive === true) return;
    if (typeof value === 'string') found.push({ path: at, value });
    else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, sensitive && typeof sensitive === 'object' ? (sensitive as any)[k] : undefined, `${at}.${k}`);
    }
  };
  const modules = [state?.values?.root_module, ...(state?.values?.root_module?.child_modules ?? [])].filter(Boolean);
  for (const m of modules) for (const r of m.resources ?? []) walk(r.values, r.sensitive_values, r.address);
  for (const [name, output] of Object.entries<any>(state?.values?.outputs ?? {})) if (!output.sensitive) walk(output.value, undefined, `output.${name}`);
  return found;
}
