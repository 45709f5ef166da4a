import { anyToHclTerraform, anyToTerraform, hashMapper, hashMapperHcl, TerraformMetaArguments, TerraformResource } from 'cdktf';
import { Construct } from 'constructs';
import { requireTerraform, withTerraformFloor } from './terraform-floor';

/**
 * The configuration of Terraform's built-in `terraform_data` resource.
 * @internal
 */
export interface TerraformDataConfig extends TerraformMetaArguments {
  /** Values whose change replaces the resource (and so runs its provisioners again). @default - none */
  readonly triggersReplace?: { [key: string]: unknown };
}

/**
 * Terraform's built-in `terraform_data` resource (Terraform 1.4 on).
 *
 * cdktf's own `DataResource` checks the Terraform version at synth by running `terraform version` through a shell,
 * once per resource and per synth: a process per machine rollout and offsite target in every synth of a team's app
 * and of each of its tests, and a synth that fails where no Terraform is installed (a laptop, a CI job that only
 * synthesizes). The check adds nothing: the stack declares `required_version >= 1.4` instead (terraform-floor.ts),
 * so an older Terraform says at `init` which version it needs.
 * @internal
 */
export class TerraformData extends TerraformResource {
  private readonly triggers?: { [key: string]: unknown };

  constructor(scope: Construct, id: string, config: TerraformDataConfig = {}) {
    const { triggersReplace, ...meta } = config;
    super(scope, id, { ...meta, terraformResourceType: 'terraform_data', terraformGeneratorMetadata: { providerName: 'terraform' } });
    this.triggers = triggersReplace;
    requireTerraform(this, '1.4');
  }

  /** The resource, and the Terraform version its stack needs: a Terraform before 1.4 says so at `init`. */
  public toTerraform(): any {
    return withTerraformFloor(this, super.toTerraform());
  }

  protected synthesizeAttributes(): { [name: string]: unknown } {
    return { triggers_replace: hashMapper(anyToTerraform)(this.triggers) };
  }

  protected synthesizeHclAttributes(): { [name: string]: unknown } {
    return { triggers_replace: hashMapperHcl(anyToHclTerraform)(this.triggers) };
  }
}
