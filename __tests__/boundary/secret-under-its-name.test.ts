import { TerraformLocal, TerraformVariable } from 'cdktf';
import { checkedStack, machine, synthErrors } from './fixtures';

// Red team (audit redteam): a secret pasted as a value was found only when its text looked like one
// (`PASSWORD=…`, a key's shape). Under a name that says it is a secret (a variable's default, a local,
// an environment map's key) a 32-character API key passed synth, in plain text in cdk.tf.json.

const KEY = 'Zk3rP9qLmN2vX8tY5wB7cD4eF6gH1jK0';

describe('a literal stored under a secret\'s name is a plaintext secret', () => {
  test('a variable default, a local and a map entry are refused, without printing the value', () => {
    const stack = checkedStack();
    machine(stack);
    new TerraformVariable(stack, 'mistral_api_key', { type: 'string', default: KEY });
    new TerraformLocal(stack, 'db_password', 'correct-horse-battery-staple');
    new TerraformLocal(stack, 'app_env', { 'MISTRAL-API-KEY': KEY, LOG_LEVEL: 'info' });
    const errors = synthErrors(stack);
    expect(errors).toMatch(/Boundary-NoPlaintextSecret: production \(variable\.mistral_api_key\.default, the default of variable mistral_api_key\): '<redacted: looks like a password or token assignment>' is not allowed: .* Fix: pass it through a SecretVariable/);
    expect(errors).toMatch(/production \(locals\.db_password, the value of db_password\): '<redacted/);
    expect(errors).toMatch(/production \(locals\.app_env\.MISTRAL-API-KEY, the value of MISTRAL-API-KEY\): '<redacted/);
    expect(errors).not.toContain(KEY);
    expect(errors).not.toContain('correct-horse');
  });

  test('references, file paths, short values and ordinary names pass', () => {
    const stack = checkedStack();
    machine(stack);
    const key = new TerraformVariable(stack, 'api_token', { type: 'string', sensitive: true });
    new TerraformLocal(stack, 'token_file', '/etc/app/token');
    new TerraformLocal(stack, 'secret_ref', key.stringValue);
    new TerraformLocal(stack, 'password_policy', 'strong');
    new TerraformVariable(stack, 'region', { type: 'string', default: 'fsn1-eu-central-default' });
    new TerraformVariable(stack, 'api_token_description', { type: 'string', description: 'The API token for the Mistral workspace of production' });
    expect(synthErrors(stack)).toBe('');
  });
});
