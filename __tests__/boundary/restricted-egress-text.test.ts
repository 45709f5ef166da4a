import { FirewallRule, EgressAllowlist } from '../../lib';
import { boundaryDocument } from '../../lib/boundary/boundary-document';
import { egressRuleset, HETZNER_RESOLVERS } from '../../lib/boundary/egress-allowlist';
import { restrictedEgress } from '../../lib/boundary/rules/restricted-egress';
import { checkedStack, machine, policy, synthErrors } from './fixtures';

// Audit (boundary text): Boundary-RestrictedEgress and the boundary document explained only the TCP hostname
// allowlist. The host table also narrows DNS to the machine's resolvers and NTP to its time servers, and leaves
// some destinations open: the texts now say both, read against the table itself.

/** The destinations the host table accepts on every port, whatever the allowlist: read from the rendered table. */
function acceptedOnEveryPort(): string[] {
  const ruleset = egressRuleset([23, 80, 443]);
  const output = ruleset.slice(ruleset.indexOf('chain output'), ruleset.indexOf('chain forward'));
  return output.split('\n').flatMap((line) => {
    const m = /^\s*ip6? daddr (\{ ([^}]*) \}|(\S+)) accept$/.exec(line);
    return m ? (m[2] ?? m[3]).split(', ') : [];
  });
}

describe('what Boundary-RestrictedEgress says the allowlist narrows', () => {
  test('the finding says TCP goes to hostnames, DNS to the resolvers and NTP to the configured time servers', () => {
    const stack = checkedStack();
    const m = machine(stack, 'App', {}, false);
    EgressAllowlist.apply(m, { policy, timeServers: ['ntp.example.eu'] });
    m.allowOutbound(FirewallRule.udpOut(5353, FirewallRule.ANYWHERE, { description: 'mDNS' }));
    const errors = synthErrors(stack);
    const finding = errors.split('\n').find((l) => l.includes("'udp 5353 to"));
    expect(finding).toBeDefined();
    // DNS over TCP (53) is not among the ports narrowed to hostnames: it goes to the resolvers.
    expect(finding).toMatch(/TCP 23, 80, 443 only to the addresses of its allowlisted hostnames/);
    expect(finding).toMatch(/DNS \(53, UDP and TCP\) only to the resolvers the machine is configured with/);
    expect(finding).toMatch(/NTP \(123\/udp\) only to its time servers \(ntp\.example\.eu\)/);
    expect(finding).toMatch(/Fix: remove the rule/);
  });

  test('the explanation names what is narrowed, by which layer, and everything the host table leaves open', () => {
    const { explanation, enforcedAt } = restrictedEgress;
    expect(explanation).toMatch(/DNS \(53, UDP and TCP\)[^.]*only to the resolvers the machine is configured with/);
    expect(explanation).toMatch(/NTP \(123\/udp\) only to its time servers \(the allowlist's timeServers, Hetzner's by default\)/);
    expect(explanation).toMatch(/each to every address/);
    expect(explanation).toContain('169.254.169.254');
    expect(explanation).toMatch(/ICMP/);
    for (const destination of acceptedOnEveryPort()) expect(explanation).toContain(destination);
    expect(enforcedAt).toMatch(/DNS to the machine's resolvers, NTP to its time servers/);
  });

  test('the published document says the same, with the default resolvers, and its enforcement table names both layers', () => {
    const stack = checkedStack();
    machine(stack);
    const doc = boundaryDocument({ title: 'acme', policy, stacks: [stack] });
    const section = doc.slice(doc.indexOf('## Where machines holding sensitive or secret data may connect'), doc.indexOf('## Enforcement points'));
    for (const destination of acceptedOnEveryPort()) expect(section).toContain(destination);
    expect(section).toContain('169.254.169.254');
    expect(section).toMatch(/ICMP/);
    expect(section).toMatch(/^DNS \(53, UDP and TCP\) to: the resolvers the machine is configured with/m);
    for (const resolver of HETZNER_RESOLVERS) expect(section).toContain(resolver);
    const row = doc.split('\n').find((l) => l.startsWith('| Boundary-RestrictedEgress |'));
    expect(row).toMatch(/DNS to the machine's resolvers, NTP to its time servers/);
  });
});
