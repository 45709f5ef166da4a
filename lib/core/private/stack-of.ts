import { TerraformStack } from 'cdktf';
import { IConstruct } from 'constructs';

/**
 * The stack `scope` is in, or undefined outside any stack (cdktf itself refuses to synthesize that), for the checks
 * a construct hooks on its stack once.
 * @internal
 */
export function stackOf(scope: IConstruct): TerraformStack | undefined {
  try {
    return TerraformStack.of(scope);
  } catch {
    return undefined;
  }
}
