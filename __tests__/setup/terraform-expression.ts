import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { terraformBinary } from '../../testing';

/**
 * What Terraform renders for each of `templates` (strings of a synthesized stack, `${…}` references in them) with the
 * given values of the stack's variables: `terraform console` over a configuration of the variables and the templates as
 * locals, no provider and no init. A template Terraform cannot render (a regex that does not match) gives `{ error }`.
 */
export function renderTemplates(templates: readonly string[], variables: Record<string, string>): Array<{ value?: string; error?: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tf-expression-'));
  try {
    return templates.map((template) => {
      const config = {
        variable: Object.fromEntries(Object.keys(variables).map((name) => [name, { type: 'string', sensitive: true }])),
        locals: { rendered: template },
      };
      fs.writeFileSync(path.join(dir, 'main.tf.json'), JSON.stringify(config));
      const env = { ...process.env, ...Object.fromEntries(Object.entries(variables).map(([k, v]) => [`TF_VAR_${k}`, v])) };
      const run = spawnSync(terraformBinary(), ['console'], { cwd: dir, env, input: 'jsonencode(nonsensitive(local.rendered))\n', encoding: 'utf8', timeout: 60_000 });
      // The console prints the JSON text as an HCL string: decode it twice. An error it prints (in colour) to stdout and stderr.
      const out = run.stdout.trim();
      return run.status === 0 && out.startsWith('"') ? { value: JSON.parse(JSON.parse(out)) } : { error: `${run.stdout}${run.stderr}`.replace(/\x1b\[[0-9;]*m/g, '').replace(/\s+/g, ' ').trim() };
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
