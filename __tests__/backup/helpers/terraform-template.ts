/**
 * Renders a string of the synthesized configuration the way Terraform renders a template at
 * apply, for the subset the backup tooling produces: `$${` and `%%{` are escapes for `${` and
 * `%{`, and `${<expression>}` is replaced with the value the test assigns to the expression.
 * Anything else (an unknown reference, a `%{` directive) throws: the test then knows the user
 * data holds something it did not expect.
 */
export function renderTemplate(text: string, values: Record<string, string>): string {
  return text.replace(/\$\$\{|%%\{|\$\{([^}]*)\}|%\{/g, (match, expression: string | undefined) => {
    if (match === '$${') return '${';
    if (match === '%%{') return '%{';
    if (match === '%{') throw new Error('a template directive (%{) in user data: the tooling never writes one, so an escape is missing');
    const value = values[expression!];
    if (value === undefined) throw new Error(`user data references \${${expression}}, which the test gives no value`);
    return value;
  });
}

/** The values Terraform would give the expressions: each variable's base64 form, resource attributes as given. */
export function templateValues(variables: Record<string, string>, attributes: Record<string, string> = {}): Record<string, string> {
  const values: Record<string, string> = { ...attributes };
  for (const [name, value] of Object.entries(variables)) {
    values[`var.${name}`] = value;
    values[`base64encode(var.${name})`] = Buffer.from(value, 'utf8').toString('base64');
    // An S3 target's secrets are read without the spaces around them (Terraform's trimspace).
    values[`base64encode(trimspace(var.${name}))`] = Buffer.from(value.trim(), 'utf8').toString('base64');
  }
  return values;
}

/**
 * Values for the server IDs a bundle references (the machine's identity check): each server of
 * the user data gets a made-up ID, as the provider assigns one at apply.
 */
export function serverIdValues(...texts: string[]): Record<string, string> {
  const values: Record<string, string> = {};
  let next = 4_200_001;
  for (const text of texts) {
    for (const [, expression] of text.matchAll(/\$\{(hcloud_server\.[A-Za-z0-9_-]+\.id)\}/g)) values[expression] ??= String(next++);
  }
  return values;
}
