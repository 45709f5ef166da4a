import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { SynthesizedBundle } from '../../../testing/bundle';
import { renderTemplate, templateValues } from '../../backup/helpers/terraform-template';

/** Writes the bundle's PostgreSQL files under `root`, deploy-time ones rendered as Terraform would with `variables`. */
export function layOutDatabaseFiles(bundle: SynthesizedBundle, root: string, variables: Record<string, string>): string[] {
  const part = bundle.parts.find((p) => p.name.startsWith('postgresql '));
  if (!part) throw new Error(`no postgresql part in the bundle of ${bundle.machine}`);
  for (const file of part.files) {
    const target = path.join(root, file.path);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const content = file.content ?? renderTemplate(file.template!, templateValues(variables));
    fs.writeFileSync(target, content, { mode: parseInt(file.permissions, 8) });
    fs.chmodSync(target, parseInt(file.permissions, 8));
    if (file.owner !== 'root:root') execFileSync('chown', [file.owner, target]);
  }
  return part.files.map((f) => f.path);
}
