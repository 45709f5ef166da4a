import { Construct } from 'constructs';
import { TerraformVariable } from 'cdktf';
import { checkProps, is } from '../core/runtime-checks';
import { frozenSnapshot } from '../core/private/frozen-snapshot';
import { protectCheckedSecret } from '../core/private/sensitive-variable';
import { guardStack } from '../core/private/guard-stack';

/** What a secret variable is for. */
export interface SecretVariableProps {
  /** What the secret is and where to get it; shown by `terraform plan` when it is missing. */
  readonly description: string;
}

/**
 * A secret (token, password, key) that reaches the configuration only at plan time: a
 * sensitive Terraform variable without a default, set through `TF_VAR_<name>` in the
 * environment. Terraform redacts it in plans and logs; it is never written to the synthesized JSON.
 */
export class SecretVariable extends TerraformVariable {
  constructor(scope: Construct, id: string, props: SecretVariableProps) {
    // One snapshot, taken before super (which needs the description): what is checked below is what the variable got.
    const given = frozenSnapshot(props);
    super(scope, id, { type: 'string', sensitive: true, nullable: false, description: given?.description });
    guardStack(this);
    checkProps<SecretVariableProps>(this, given, {
      description: is.text("say what the secret is and where to get it, such as 'Password of the app role'"),
    }, "pass { description: 'Password of the app role' }");
    // A plan saved beside the stack holds this secret's value in clear; and `sensitive` set to false after this
    // constructor (from plain JavaScript, or by an override) would have Terraform print it: refused at synth.
    protectCheckedSecret(this, 'sensitive', this);
  }

  /** The environment variable that sets it. */
  public get environmentVariable(): string {
    return `TF_VAR_${this.friendlyUniqueId}`;
  }
}
