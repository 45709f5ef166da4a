import { IConstruct } from 'constructs';
import { Fn, TerraformVariable } from 'cdktf';
import { SECRET_VARIABLE_FIX } from '../../boundary/private/secret-variable-fix';
import { invalidValue, ValidationError } from '../../core/validation-message';
import { BundleFile } from '../../hetzner/machine-bundle';
import { SECRETS } from './paths';

/** Throws unless `variable` is a sensitive Terraform variable. */
export function requireSensitiveVariable(scope: IConstruct, prop: string, variable: TerraformVariable | undefined): void {
  if (!(variable instanceof TerraformVariable) || variable.sensitive !== true) {
    throw new ValidationError(invalidValue(scope, prop, variable instanceof TerraformVariable ? `var.${variable.friendlyUniqueId}` : '<a value>',
      'a secret must come from a sensitive Terraform variable, so that it is never written into the configuration or printed in a plan',
      SECRET_VARIABLE_FIX));
  }
}

/**
 * The root-only file cloud-init writes a secret to: base64, so that any value survives the YAML, and
 * a Terraform reference, so that the synthesized configuration holds no secret. The setup decodes it.
 */
export function secretFile(name: string, variable: TerraformVariable): BundleFile {
  return { path: `${SECRETS}/${name}.b64`, content: `${Fn.base64encode(variable.stringValue)}\n`, permissions: '0600', owner: 'root:root' };
}
