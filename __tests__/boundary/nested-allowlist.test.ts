import { Token } from 'cdktf';
import { Server } from '../../generated/providers/hcloud/server';
import { DataClass, Environment, FirewallRule, Machine, ServerType, SshKey } from '../../lib';
import { checkedStack, machine, synthErrors } from './fixtures';
import { expectRefused } from './refusal';

// Audit 03: the rule took the egress allowlist of any ancestor of a server, so a server built inside a
// machine counted as narrowed by the host nftables table, which runs only on that machine's own server.

describe('only a machine\'s own server has its host allowlist', () => {
  test('a Machine nested in an allowlisted Machine, with TCP 443 and 80 to anywhere, is refused', () => {
    expectRefused(() => {
      const stack = checkedStack();
      const outer = machine(stack);
      new Machine(outer, 'Worker', {
        environment: Environment.PRODUCTION, role: 'worker', serverType: ServerType.CX33, sshKeys: [SshKey.fromName('admin')],
        adminCidrs: ['203.0.113.0/24'], dataClasses: [DataClass.SENSITIVE, DataClass.SECRET],
        egress: [FirewallRule.tcpOut(443, FirewallRule.ANYWHERE), FirewallRule.tcpOut(80, FirewallRule.ANYWHERE)],
      });
      return stack;
    }, /Boundary-RestrictedEgress: production\/App\/Worker\/\w+\.egress: 'tcp 443 to [^']*' is not allowed: .*no host allowlist narrows/);
  });

  test('a raw server inside an allowlisted Machine, reusing its firewall, is refused', () => {
    expectRefused(() => {
      const stack = checkedStack();
      const outer = machine(stack);
      new Server(outer, 'Sidecar', {
        name: 'sidecar', serverType: 'cx33', image: 'debian-12', location: 'fsn1',
        labels: { 'data-class': 'sensitive', 'data-sensitive': 'true' }, firewallIds: [Token.asNumber(outer.firewall.id)],
      });
      return stack;
    }, /Boundary-RestrictedEgress: production\/App\/Sidecar\.egress: .* is not allowed: .*no host allowlist narrows/);
  });

  test('the machine\'s own server keeps its allowlist', () => {
    const stack = checkedStack();
    machine(stack);
    expect(synthErrors(stack)).toBe('');
  });
});
