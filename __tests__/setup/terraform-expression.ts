import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { terraformBinary } from '../../testing';

/**
 * What Terraform renders for each of `templates` (strings of a synthesized stack, `${…}` references in them) with the
 * given values of the stack's variables: `terraform console` over a configuration of the variables and the templates as
 * locals, no provider and no init. A template Terraform cannot render (a regex that does not match) gives `{ error }`.
 * All of them in one console first (the console answers only the last line of its input, so one list of them all);
 * where one cannot be rendered, which leaves the list unknown, each in a console of its own, for its error.
 */
export function renderTemplates(templates: readonly string[], variables: Record<string, string>): Array<{ value?: string; error?: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tf-expression-'));
  const env = { ...process.env, ...Object.fromEntries(Object.entries(variables).map(([k, v]) => [`TF_VAR_${k}`, v])) };
  const variable = Object.fromEntries(Object.keys(variables).map((name) => [name, { type: 'string', sensitive: true }]));
  const consoleOver = (locals: readonly string[], expression: string) => {
    fs.writeFileSync(path.join(dir, 'main.tf.json'), JSON.stringify({ variable, locals: Object.fromEntries(locals.map((t, i) => [`r${i}`, t])) }));
    const run = spawnSync(terraformBinary(), ['console'], { cwd: dir, env, input: `${expression}\n`, encoding: 'utf8', timeout: 60_000 });
    // The console prints the JSON text as an HCL string: decode it twice. An error it prints (in colour) to stdout and stderr.
    const out = run.stdout.trim();
    return run.status === 0 && out.startsWith('"') ? { value: JSON.parse(JSON.parse(out)) } : { error: `${run.stdout}${run.stderr}`.replace(/\x1b\[[0-9;]*m/g, '').replace(/\s+/g, ' ').trim() };
  };
  try {
    const all = consoleOver(templates, `jsonencode([${templates.map((_, i) => `nonsensitive(local.r${i})`).join(', ')}])`);
    if (all.value !== undefined) return (all.value as unknown as string[]).map((value) => ({ value }));
    return templates.map((template) => consoleOver([template], 'jsonencode(nonsensitive(local.r0))') as { value?: string; error?: string });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
