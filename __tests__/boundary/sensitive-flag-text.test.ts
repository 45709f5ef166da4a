import { TerraformOutput, TerraformVariable } from 'cdktf';
import { UploadedCertificate } from '../../generated/providers/hcloud/uploaded-certificate';
import { SecretVariable } from '../../lib';
import { checkedStack, machine, synthErrors } from './fixtures';

// Red team (audit redteam): the rules read `sensitive` as JavaScript truthiness. A JavaScript caller
// passing the text "false" (an environment variable passed through) had an output or a variable read
// as marked, while Terraform converts "false" to false: the secret was printed in the deploy log, or
// fed a sensitive attribute from a variable shown in every plan.

describe('"false" is not a sensitive mark', () => {
  test('an output of a secret marked "false" is refused', () => {
    const stack = checkedStack();
    machine(stack);
    const password = new SecretVariable(stack, 'db_password', { description: 'Password of the app role' });
    new TerraformOutput(stack, 'db_password_debug', { value: password.stringValue, sensitive: 'false' as unknown as boolean });
    expect(synthErrors(stack)).toMatch(/Boundary-SensitiveOutput: production\.output\.db_password_debug: 'sensitive: false' is not allowed: the output carries a secret/);
  });

  test('a variable marked "false" feeding a sensitive attribute is refused', () => {
    const stack = checkedStack();
    machine(stack);
    const key = new TerraformVariable(stack, 'tls_key', { type: 'string' });
    key.addOverride('sensitive', 'false');
    new UploadedCertificate(stack, 'Cert', { name: 'app', certificate: '-----BEGIN CERTIFICATE-----', privateKey: key.stringValue });
    expect(synthErrors(stack)).toMatch(/Boundary-SecretViaVariable: production\/Cert\.private_key: 'var\.tls_key' is not allowed: the variable feeding a sensitive attribute is not marked sensitive/);
  });

  test('true and the text "true" are marks', () => {
    const stack = checkedStack();
    machine(stack);
    const key = new TerraformVariable(stack, 'tls_key', { type: 'string' });
    key.addOverride('sensitive', 'true');
    new UploadedCertificate(stack, 'Cert', { name: 'app', certificate: '-----BEGIN CERTIFICATE-----', privateKey: key.stringValue });
    new TerraformOutput(stack, 'key', { value: key.stringValue, sensitive: true });
    expect(synthErrors(stack)).toBe('');
  });
});
