import { SecretVariable } from '../../lib';
import { checkedStack, machine, synthErrors } from './fixtures';

// Audit (secrets): a SecretVariable written into a label or a name of an hcloud resource passed synth. Terraform
// redacts it in the plan, but Hetzner keeps labels and names in clear: its console, every token of the project
// (read-only ones too) and the listings and reports that print labels show the secret.

describe('a sensitive variable never goes into a label or a name', () => {
  test('in a label (an override, as from JavaScript) or a name it is refused, naming the resource, the variable and the fix', () => {
    const stack = checkedStack();
    const m = machine(stack);
    const token = new SecretVariable(stack, 'deploy_token', { description: 'Token the deploy hook checks' });
    m.server.addOverride('labels.deploy-token', token.stringValue);
    m.ipv6.addOverride('name', `production-app-${token.stringValue}`);
    const errors = synthErrors(stack);
    expect(errors).toMatch(/Boundary-SecretViaVariable: production\/App\/Resource\.labels: 'var\.deploy_token' is not allowed: the variable is sensitive, and Hetzner keeps a resource's labels in clear.*Fix: give the secret to the machine in a bundle file built from the SecretVariable/);
    expect(errors).toMatch(/production\/App\/Ipv6\.name: 'var\.deploy_token' is not allowed/);
  });

  test('a variable that is not sensitive may name things', () => {
    const stack = checkedStack();
    const m = machine(stack);
    m.server.addOverride('labels.team', '${var.team}');
    stack.addOverride('variable.team', { type: 'string', default: 'search' });
    expect(synthErrors(stack)).toBe('');
  });
});
