import { Fn, TerraformOutput, TerraformResource } from 'cdktf';
import { SecretVariable } from '../../lib';
import { checkedStack, machine, synthErrors } from './fixtures';

// Red team (audit redteam): Boundary-SensitiveOutput followed a secret through locals, but not through
// the resource it was written into. A secret written into an attribute (a terraform_data's input, a
// raw server's user_data) and read back in an unmarked output through nonsensitive() was printed in
// the CI log by `cdktf deploy`, with synth passing.

function withSecretInResource() {
  const stack = checkedStack();
  machine(stack);
  const password = new SecretVariable(stack, 'db_password', { description: 'Password of the app role' });
  // A hurried "re-run the migration when the password changes" trigger.
  const trigger = new TerraformResource(stack, 'MigrationTrigger', { terraformResourceType: 'terraform_data' });
  trigger.addOverride('input', { url: `postgres://app:${password.stringValue}@10.0.1.2/app` });
  return { stack, trigger };
}

describe('an output of a resource a secret was written into carries the secret', () => {
  test('an unmarked output of its output (terraform_data\'s output is its input), through nonsensitive(), is refused', () => {
    const { stack, trigger } = withSecretInResource();
    new TerraformOutput(stack, 'migration_debug', { value: Fn.nonsensitive(trigger.getAnyMapAttribute('output')) });
    expect(synthErrors(stack)).toMatch(/Boundary-SensitiveOutput: production\.output\.migration_debug: 'sensitive: false' is not allowed: the output carries a secret\. Fix: mark the output sensitive/);
  });

  test('the whole resource, through a local, is refused too', () => {
    const { stack } = withSecretInResource();
    stack.addOverride('locals.trigger_dump', '${nonsensitive(jsonencode(terraform_data.MigrationTrigger))}');
    new TerraformOutput(stack, 'dump', { value: '${local.trigger_dump}' });
    expect(synthErrors(stack)).toMatch(/production\.output\.dump: 'sensitive: false' is not allowed: the output carries a secret \(through local\.trigger_dump\)/);
  });

  test('the same output marked sensitive, and outputs of attributes no secret was written into, pass', () => {
    const { stack, trigger } = withSecretInResource();
    new TerraformOutput(stack, 'migration_debug', { value: trigger.getAnyMapAttribute('output'), sensitive: true });
    new TerraformOutput(stack, 'trigger_id', { value: trigger.getStringAttribute('id') });
    expect(synthErrors(stack)).toBe('');
  });
});
