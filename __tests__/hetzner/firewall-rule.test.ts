import { Environment, FirewallRule, Machine, ServerType } from '../../lib';
import { ADMIN_CIDRS, ADMIN_KEY, resourcesOf, synthJson, testStack } from '../setup/stack';

// The rule fields as Hetzner takes them (hetzner-facts.json, firewall.ruleFields): a port is required for TCP and
// UDP and absent for ICMP, GRE and ESP; inbound rules name source_ips, outbound ones destination_ips.

test('a TCP or UDP rule without a port is refused (from JavaScript), naming the fix', () => {
  expect(() => FirewallRule.tcpIn(undefined as any, ['203.0.113.0/24']))
    .toThrow(/FirewallRule\.tcpIn\.port: missing: a tcp rule names its ports, and Hetzner refuses one without\. Fix: pass a port such as 443/);
  expect(() => FirewallRule.udpOut(undefined as any, FirewallRule.ANYWHERE))
    .toThrow(/FirewallRule\.udpOut\.port: missing: a udp rule names its ports/);
});

test('the synthesized rules: inbound ones carry source_ips only, outbound ones destination_ips only, ICMP no port', () => {
  const { stack } = testStack('production');
  new Machine(stack, 'App', {
    environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS,
    ingress: [FirewallRule.icmpIn()], egress: [FirewallRule.udpOut(123, FirewallRule.ANYWHERE)],
  });
  const [firewall] = resourcesOf(synthJson(stack), 'hcloud_firewall');
  for (const rule of firewall.rule) {
    expect(Object.keys(rule)).toContain(rule.direction === 'in' ? 'source_ips' : 'destination_ips');
    expect(Object.keys(rule)).not.toContain(rule.direction === 'in' ? 'destination_ips' : 'source_ips');
  }
  const icmp = firewall.rule.find((r: any) => r.protocol === 'icmp');
  expect(icmp).toEqual({ direction: 'in', protocol: 'icmp', description: 'allow in icmp', source_ips: ['0.0.0.0/0', '::/0'] });
  expect(firewall.rule.find((r: any) => r.protocol === 'udp')).toMatchObject({ direction: 'out', port: '123', destination_ips: ['0.0.0.0/0', '::/0'] });
});
