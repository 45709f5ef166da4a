import { IConstruct } from 'constructs';
import { TerraformStack, TerraformVariable } from 'cdktf';
import { invalidValue } from '../../core/validation-message';
import { isMarkedSensitive } from '../../boundary/rules/rule';
import { BundleFiles, RenderedBundle } from '../machine-bundle';

/** A reference to a variable in a Terraform template, as cdktf resolves `variable.stringValue`. */
const VARIABLE_REFERENCE = /\bvar\.([A-Za-z_][A-Za-z0-9_-]*)/g;

/**
 * Why each bundle file that Terraform fills with a sensitive variable's value is readable by every user of the
 * machine (the app's user, node exporter, anyone who gets a shell): Terraform redacts the value in plans, and the
 * file would then show it in clear. A group may read (an owner such as `root:app` is how a service gets its secret).
 * @param machine the construct the message names
 */
export function readableSecretFiles(machine: IConstruct, files: BundleFiles, rendered: RenderedBundle): string[] {
  const sensitive = new Set(TerraformStack.of(machine).node.findAll()
    .filter((c): c is TerraformVariable => c instanceof TerraformVariable && isMarkedSensitive(c.sensitive))
    .map((v) => v.friendlyUniqueId));
  if (sensitive.size === 0) return [];
  return Object.entries(rendered.deployTimeContents).flatMap(([path, template]) => {
    const { part, file } = files.get(path)!;
    const mode = file.permissions ?? '0644';
    if ((parseInt(mode, 8) & 0o004) === 0) return [];
    const secrets = [...new Set([...template.matchAll(VARIABLE_REFERENCE)].map((m) => m[1]))].filter((name) => sensitive.has(name));
    if (secrets.length === 0) return [];
    return [invalidValue(machine, `bundle file ${path} (part ${part}).permissions`, mode,
      `the file holds the secret ${secrets.map((s) => `var.${s}`).join(', ')}, and every user of the machine can read it (Terraform redacts it in plans, the file would not)`,
      `give the file permissions: '0600' (or '0640' with an owner such as 'root:app' whose group needs it)`)];
  });
}
