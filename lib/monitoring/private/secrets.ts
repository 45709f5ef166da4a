import { Fn, TerraformVariable } from 'cdktf';
import { BundleFile } from '../../hetzner/machine-bundle';
import { SECRETS } from './paths';

/**
 * The root-only file cloud-init writes a secret to: base64, so that any value survives the YAML, and
 * a Terraform reference, so that the synthesized configuration holds no secret. The setup decodes it.
 */
export function secretFile(name: string, variable: TerraformVariable): BundleFile {
  return { path: `${SECRETS}/${name}.b64`, content: `${Fn.base64encode(variable.stringValue)}\n`, permissions: '0600', owner: 'root:root' };
}
