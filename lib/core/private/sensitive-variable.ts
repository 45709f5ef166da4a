import { IConstruct } from 'constructs';
import { TerraformVariable } from 'cdktf';
import { SECRET_VARIABLE_FIX } from '../../boundary/private/secret-variable-fix';
import { invalidValue, missingValue, ValidationError } from '../validation-message';
import { recheckAtSynth } from './secrets-at-synth';
import { protectWorkingDirectoryOf } from './working-directory';

/**
 * Throws unless `value` is a Terraform variable marked sensitive: the one construction-time refusal, in one wording,
 * for a secret given another way (synth has its own, see secrets-at-synth). A value that is not a variable is never
 * quoted (a JavaScript user may have pasted the secret itself);
 * `fix` is the caller's own suggestion for that case, the shared one by default. `at` may be a written-out path
 * (`Heartbeat.healthchecks`), which is why this one does not protect the working directory.
 * @internal
 */
export function refuseUnlessSensitiveVariable(at: IConstruct | string, prop: string, value: unknown, fix: string = SECRET_VARIABLE_FIX): asserts value is TerraformVariable {
  if (value === undefined || value === null) {
    throw new ValidationError(missingValue(at, prop, 'a secret comes from a sensitive Terraform variable', fix));
  }
  if (!(value instanceof TerraformVariable)) {
    throw new ValidationError(invalidValue(at, prop, '<a value>', 'a secret must come from a sensitive Terraform variable, never from the code', fix));
  }
  if (value.sensitive !== true) {
    throw new ValidationError(invalidValue(at, prop, `var.${value.friendlyUniqueId}`,
      'the variable is not marked sensitive, so Terraform would print the secret in plans and outputs',
      'declare it with { sensitive: true } (SecretVariable does)'));
  }
}

/**
 * What every construct that brings a secret into a stack calls: the refusal above, then {@link protectCheckedSecret}.
 * @internal
 */
export function requireSensitiveVariable(scope: IConstruct, prop: string, variable: TerraformVariable | undefined): void {
  refuseUnlessSensitiveVariable(scope, prop, variable);
  protectCheckedSecret(scope, prop, variable);
}

/**
 * What a construct calls for a secret it took through `prop`, once the value was refused unless sensitive (by
 * requireSensitiveVariable, is.secret in its schema, or the factory that made the value it holds):
 * - the secret is refused at synth unless the stack renders the variable sensitive: a JavaScript caller can set
 *   `sensitive` to false after the check, anyone can override it, and Terraform would then print the secret (see
 *   secrets-at-synth);
 * - the stack's working directory is kept to its owner, since Terraform writes the secret there in clear (a saved
 *   plan, a local state), also for a sensitive `TerraformVariable` that is not a `SecretVariable` in a team's own
 *   `TerraformStack`; and so is the variable's own stack's when another, since Terraform writes the value there too.
 * @internal
 */
export function protectCheckedSecret(scope: IConstruct, prop: string, variable: TerraformVariable): void {
  recheckAtSynth(scope, prop, variable);
  protectWorkingDirectoryOf(scope);
  // Once per stack: nothing more when the variable lives in the stack that took it.
  protectWorkingDirectoryOf(variable);
}
