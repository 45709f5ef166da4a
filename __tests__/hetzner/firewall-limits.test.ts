import * as fs from 'fs';
import { Environment, FirewallDirection, FirewallRule, Machine, ServerType } from '../../lib';
import { expectRefused } from '../boundary/refusal';
import { ADMIN_CIDRS, ADMIN_KEY, resourcesOf, synthJson, testStack } from '../setup/stack';
import { FACTS_FILE } from './hetzner-facts';

// Audit (limits): Hetzner accepts at most 500 (effective) rules per Cloud Firewall and 5 firewalls per server
// (reference facts, firewall.limits, from docs.hetzner.com/cloud/firewalls/faq). A machine took any number of rules
// (ingress, egress, allowInbound, allowOutbound, and those the constructs add: SSH, the egress allowlist, the
// monitoring), and synth passed a firewall Hetzner refuses when Terraform writes it. The facts do not say how an
// effective rule is counted beyond that; each rule is at least one, so the rules are what is counted here.

const LIMITS = JSON.parse(fs.readFileSync(FACTS_FILE, 'utf8')).firewall.limits as { effectiveRulesPerFirewall: number; firewallsPerServer: number };

function machineWith(inbound: number, outbound = 0) {
  const { stack } = testStack('production');
  // adminCidrs give the SSH rule: one inbound rule more than `inbound`.
  const machine = new Machine(stack, 'App', {
    environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS,
    ingress: Array.from({ length: inbound - 1 }, (_, i) => FirewallRule.tcpIn(10000 + i, ['198.51.100.0/24'])),
  });
  for (let i = 0; i < outbound; i += 1) machine.allowOutbound(FirewallRule.tcpOut(20000 + i, FirewallRule.ANYWHERE));
  return { stack, machine };
}

const RULES_FIX = "Fix: merge rules: one rule for each protocol and port (or range of adjacent ports, such as '8000-8099') listing all its address blocks, "
  + 'and a wider block where one covers several';

describe('the rules of a machine\'s firewall', () => {
  test(`${LIMITS.effectiveRulesPerFirewall} rules, in and out, pass synth and reach the firewall`, () => {
    expect(LIMITS.effectiveRulesPerFirewall).toBe(500);
    const { stack } = machineWith(450, 50);
    const [firewall] = resourcesOf(synthJson(stack), 'hcloud_firewall');
    expect(firewall.rule).toHaveLength(500);
  });

  test('one more fails synth, naming the machine, the count and the fix', () => {
    const message = expectRefused(() => machineWith(501).stack);
    expect(message).toBe(`production/App.firewall: '501 rules (501 inbound, 0 outbound)' is not allowed: Hetzner accepts at most 500 (effective) rules per firewall, `
      + 'and each rule counts at least once, so Terraform could not write this firewall. ' + RULES_FIX);
  });

  test('rules added after the machine was built count too', () => {
    expect(expectRefused(() => machineWith(480, 21).stack)).toMatch(/^production\/App\.firewall: '501 rules \(480 inbound, 21 outbound\)' is not allowed/);
  });
});

describe('the firewalls of a machine\'s server', () => {
  test(`the machine attaches its own firewall only, and up to ${LIMITS.firewallsPerServer} through an override pass`, () => {
    expect(LIMITS.firewallsPerServer).toBe(5);
    const own = machineWith(1);
    expect(resourcesOf(synthJson(own.stack), 'hcloud_server')[0].firewall_ids).toHaveLength(1);
    const five = machineWith(1);
    // An override of the list adds to the machine's own firewall (cdktf merges lists).
    five.machine.server.addOverride('firewall_ids', [11, 12, 13, 14]);
    expect(resourcesOf(synthJson(five.stack), 'hcloud_server')[0].firewall_ids).toHaveLength(5);
  });

  test('six fail synth, naming the server, the count and the fix', () => {
    expect(expectRefused(() => {
      const { stack, machine } = machineWith(1);
      machine.server.addOverride('firewall_ids', [11, 12, 13, 14, 15]);
      return stack;
    })).toBe("production/App.server: '6 firewalls (firewall_ids)' is not allowed: Hetzner assigns at most 5 firewalls to a server, so Terraform could not create or update it. "
      + "Fix: add the rules to the machine's own firewall (ingress/egress props, machine.allowInbound or machine.allowOutbound) and attach no other");
  });
});

// Audit (scale): Hetzner's API takes at most 100 CIDR blocks in one rule's source_ips or destination_ips (its API
// reference for firewall rules: "You can specify 100 CIDR blocks at most"). The admin networks all went into one SSH
// rule, so a team with more than 100 office, VPN and CI blocks passed synth and failed at apply, and any rule given more
// blocks did too.
describe('the address blocks of a firewall rule', () => {
  /** n distinct /24 blocks in 198.18.0.0/15 (benchmarking addresses, RFC 2544). */
  const blocks = (n: number) => Array.from({ length: n }, (_, i) => `198.${18 + (i >> 8)}.${i % 256}.0/24`);

  function machineWithAdminCidrs(adminCidrs: string[]) {
    const { stack } = testStack('production');
    new Machine(stack, 'App', { environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [ADMIN_KEY], adminCidrs });
    return stack;
  }

  test('100 admin networks give one SSH rule; 250 give three, each within the limit, together every block', () => {
    const sshRules = (n: number) => resourcesOf(synthJson(machineWithAdminCidrs(blocks(n))), 'hcloud_firewall')[0].rule.filter((r: any) => r.port === '22');
    expect(sshRules(100).map((r: any) => r.source_ips.length)).toEqual([100]);
    const rules = sshRules(250);
    expect(rules.map((r: any) => [r.direction, r.protocol, r.source_ips.length])).toEqual([['in', 'tcp', 100], ['in', 'tcp', 100], ['in', 'tcp', 50]]);
    expect(rules.flatMap((r: any) => r.source_ips)).toEqual(blocks(250));
    expect(rules.map((r: any) => r.description)).toEqual(['SSH from admin networks (1 of 3)', 'SSH from admin networks (2 of 3)', 'SSH from admin networks (3 of 3)']);
  });

  test('a rule of 100 blocks passes; one of 101, in or out, fails synth naming the machine, the rule, the count and the fix', () => {
    const withRule = (rule: FirewallRule) => {
      const { stack, machine } = machineWith(1);
      if (rule.direction === FirewallDirection.IN) machine.allowInbound(rule); else machine.allowOutbound(rule);
      return stack;
    };
    expect(resourcesOf(synthJson(withRule(FirewallRule.tcpIn(8443, blocks(100), { description: 'partner API' }))), 'hcloud_firewall')[0].rule).toHaveLength(2);
    expect(expectRefused(() => withRule(FirewallRule.tcpIn(8443, blocks(101), { description: 'partner API' })))).toBe(
      "production/App.firewall: '101 address blocks in the source_ips of the rule 'partner API'' is not allowed: Hetzner accepts at most 100 address blocks in one rule, "
      + 'so Terraform could not write this firewall. Fix: split the blocks over rules of at most 100 each, for the same protocol and port, or merge adjacent blocks into wider ones');
    expect(expectRefused(() => withRule(FirewallRule.tcpOut(5432, blocks(130))))).toMatch(/^production\/App\.firewall: '130 address blocks in the destination_ips of the rule 'allow out tcp 5432'' is not allowed/);
  });
});
