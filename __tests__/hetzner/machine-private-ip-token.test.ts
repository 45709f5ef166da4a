import { Lazy, TerraformStack, TerraformVariable } from 'cdktf';
import { DataClass, Environment, Machine, PrivateNetwork, ServerType } from '../../lib';
import { expectRefused, outcomeOf, refusal } from '../boundary/refusal';
import { ADMIN_CIDRS, ADMIN_KEY, testStack } from '../setup/stack';

// A machine's private address given as a token skipped every check: without a network it was dropped
// without a word (the literal was refused), and a Lazy producing a public address passed synth.
// A Lazy is held to the literal's check at synth; an address Terraform computes (another stack's
// output) is left to Hetzner, which refuses one outside the subnet at apply: a loud failure, and no
// boundary depends on it, so it is not warned about.

const lazy = (value: string) => Lazy.stringValue({ produce: () => value });

function app(stack: TerraformStack, privateIp: string, withNetwork = true): Machine {
  const privateNetwork = withNetwork ? new PrivateNetwork(stack, 'Network', { environment: Environment.PRODUCTION, name: 'acme-production-network' }) : undefined;
  return new Machine(stack, 'App', {
    environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS,
    dataClasses: [DataClass.PUBLIC], privateNetwork, privateIp,
  });
}

describe('a private address given as a token', () => {
  test('without a private network is refused, as the literal is', () => {
    const { stack } = testStack();
    const ip = new TerraformVariable(stack, 'app_ip', { type: 'string' });
    expect(refusal(() => app(stack, ip.stringValue, false)))
      .toMatch(/^production\/App\.privateIp: .*\(a Terraform token: .*\) is not allowed: a private address is on a private network, and none is given, so it would be ignored/);
  });

  test('from a Lazy that produces a public address is refused at synth', () => {
    expectRefused(() => {
      const { stack } = testStack();
      app(stack, lazy('203.0.113.5'));
      return stack;
    }, /production\/App\.privateIp: '203\.0\.113\.5' is not allowed: it is not an IPv4 address of a private \(RFC 1918\) network \(the value was given as a token\)\. Fix: write the address alone/);
  });

  test('from a Lazy that produces a private address, or from a variable, passes', () => {
    for (const build of [(_s: TerraformStack) => lazy('10.0.1.2'), (s: TerraformStack) => new TerraformVariable(s, 'app_ip', { type: 'string' }).stringValue]) {
      expect(outcomeOf(() => {
        const { stack } = testStack();
        app(stack, build(stack));
        return stack;
      }).kind).toBe('accepted');
    }
  });
});
