import * as fs from 'fs';
import { Environment, FirewallRule, Machine, ServerType } from '../../lib';
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
