import { gunzipSync } from 'zlib';
import { parse } from 'yaml';

/** A file cloud-init writes, as it lands on the machine. */
export interface MachineFile {
  readonly path: string;
  readonly content: string;
  readonly permissions: string;
}

/**
 * Renders a string of the synthesized configuration the way Terraform renders it at apply: `$${`
 * and `%%{` are escapes, and `${<expression>}` is replaced with the value the test gives the
 * expression. An expression without a value throws, so the test knows everything the user data holds.
 */
export function renderTemplate(text: string, values: Record<string, string>, lenient = false): string {
  return text.replace(/\$\$\{|%%\{|\$\{([^}]*)\}|%\{/g, (match, expression: string | undefined) => {
    if (match === '$${') return '${';
    if (match === '%%{') return '%{';
    if (match === '%{') {
      if (lenient) return match;
      throw new Error('a template directive (%{) in user data: an escape is missing');
    }
    const value = values[expression!];
    if (value === undefined) {
      if (lenient) return match;
      throw new Error(`user data references \${${expression}}, which the test gives no value`);
    }
    return value;
  });
}

/** Template values for sensitive variables: Terraform's value of `var.x` and of `base64encode(var.x)`. */
export function variableValues(variables: Record<string, string>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(variables)) {
    values[`var.${name}`] = value;
    values[`base64encode(var.${name})`] = Buffer.from(value, 'utf8').toString('base64');
  }
  return values;
}

/** Where the monitoring's compressed bundle lands; the setup unpacks it at first boot. */
export const BUNDLE = '/etc/sovereign-monitoring/bundle.json';

/**
 * The files of a synthesized user data, decoded as cloud-init decodes them (`gz+b64`), each rendered
 * by `render` (Terraform's template rendering of the file's content). With `unpacked`, the files of
 * the monitoring's bundle are listed too, as the setup's `unpack` writes them.
 */
export function machineFiles(userData: string, render: (path: string, content: string) => string = (_, c) => c, unpacked = true): Map<string, MachineFile> {
  const doc = parse(userData);
  const files = new Map<string, MachineFile>();
  for (const f of doc.write_files ?? []) {
    const content = f.encoding === 'gz+b64' ? gunzipSync(Buffer.from(f.content, 'base64')).toString('utf8') : render(f.path, f.content);
    files.set(f.path, { path: f.path, content, permissions: f.permissions });
  }
  if (unpacked && files.has(BUNDLE)) {
    for (const [path, spec] of Object.entries(JSON.parse(files.get(BUNDLE)!.content) as Record<string, { mode: string; content: string }>)) {
      files.set(path, { path, content: spec.content, permissions: spec.mode });
    }
  }
  return files;
}

/** The parsed cloud-config document. */
export function cloudConfig(userData: string): any {
  return parse(userData);
}
