import { Testing } from 'cdktf';
import { Environment, FirewallRule, Machine, MachineProps, Peer, ServerType } from '../../lib';
import { CostKind } from '../../lib/cost/cost-estimate';
import { estimateCost } from '../../lib/cost/estimator';
import { checkedStack, machine } from '../boundary/fixtures';
import { expectRefused, refusal } from '../boundary/refusal';
import { ADMIN_KEY, resourcesOf, synthJson, testStack, warningsOf } from '../setup/stack';

// A team may drop the primary IPv4 (€0.50 a month; the /64 is free). Machine always built one, so the only way
// was a raw override, which left the address billed, unassigned, and the rollout connecting to it. `publicIpv4:
// false` builds no IPv4, connects to the server's IPv6 address, and refuses what could not work over IPv6 alone.

const V6_ADMIN = Peer.ipv6('2001:db8:a0::/48');
const V4_ADMIN = '203.0.113.0/24';

function production(props: Partial<MachineProps> = {}) {
  const { stack } = testStack('production');
  const machine = new Machine(stack, 'App', {
    environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [ADMIN_KEY], adminCidrs: [V4_ADMIN, V6_ADMIN], ...props,
  });
  return { stack, machine };
}

/** The bundle part that gives the machine a rollout. */
const APP_PART = { name: 'app', files: [{ path: '/etc/app/app.conf', content: 'listen = [::]:8080\n' }] };

describe('Machine without a public IPv4 (publicIpv4: false)', () => {
  test('builds no IPv4 primary IP and asks Hetzner for none; its IPv6 /64 is its own primary IP, kept over a replacement', () => {
    const { stack, machine } = production({ publicIpv4: false });
    const json = synthJson(stack);
    const ips = resourcesOf(json, 'hcloud_primary_ip');
    expect(ips.map((ip) => ip.type)).toEqual(['ipv6']);
    expect(ips[0]).toMatchObject({ auto_delete: false, delete_protection: true });
    const [server] = resourcesOf(json, 'hcloud_server');
    expect(server.public_net).toEqual([{ ipv4_enabled: false, ipv6_enabled: true, ipv6: expect.stringMatching(/^\$\{hcloud_primary_ip\.App_Ipv6_[A-Z0-9]+\.id\}$/) }]);
    expect(machine.ipv4).toBeUndefined();
    // What it saves: no primary IPv4, neither its own nor one Hetzner would create.
    const lines = estimateCost(stack).products[0].environments[0].lines.filter((l) => l.kind === CostKind.PRIMARY_IP);
    expect(lines.map((l) => [l.description, l.monthly.toString()])).toEqual([['primary IPv6', '€0.00']]);
  });

  test('by default a machine keeps both addresses, each its own primary IP', () => {
    const { stack, machine } = production();
    const json = synthJson(stack);
    expect(resourcesOf(json, 'hcloud_primary_ip').map((ip) => ip.type).sort()).toEqual(['ipv4', 'ipv6']);
    expect(resourcesOf(json, 'hcloud_server')[0].public_net[0]).toMatchObject({ ipv4_enabled: true, ipv6_enabled: true });
    expect(machine.ipv4).toBeDefined();
  });

  test("its rollout connects to the server's own IPv6 address (…::1), not to the start of the /64", () => {
    const v6 = production({ publicIpv4: false });
    v6.machine.addBundlePart(APP_PART);
    const [rollout] = resourcesOf(synthJson(v6.stack), 'terraform_data').filter((r) => r.connection);
    expect(rollout.connection.host).toMatch(/^\$\{hcloud_server\.App_[A-Z0-9]+\.ipv6_address\}$/);
    const dual = production();
    dual.machine.addBundlePart(APP_PART);
    const [dualRollout] = resourcesOf(synthJson(dual.stack), 'terraform_data').filter((r) => r.connection);
    expect(dualRollout.connection.host).toMatch(/^\$\{hcloud_primary_ip\.App_Ipv4_[A-Z0-9]+\.ip_address\}$/);
  });

  // Dual stack: the rollout connected to the IPv4 address whatever the admin networks were. With only IPv6 blocks
  // (an IPv6 VPN, a CI runner with IPv6), the firewall admits SSH over IPv6 alone, and every deploy waited out its
  // connection timeout on an address that never answers.
  test('with both addresses, the rollout goes over the family the admin networks allow: IPv6 when all of them are IPv6', () => {
    const hostFor = (adminCidrs: MachineProps['adminCidrs']) => {
      const { stack, machine } = production({ adminCidrs });
      machine.addBundlePart(APP_PART);
      return resourcesOf(synthJson(stack), 'terraform_data').find((r) => r.connection)!.connection.host;
    };
    expect(hostFor([V6_ADMIN, '2001:db8:b0::/48'])).toMatch(/^\$\{hcloud_server\.App_[A-Z0-9]+\.ipv6_address\}$/);
    expect(hostFor([V4_ADMIN, V6_ADMIN])).toMatch(/^\$\{hcloud_primary_ip\.App_Ipv4_[A-Z0-9]+\.ip_address\}$/);
    expect(hostFor([V4_ADMIN])).toMatch(/^\$\{hcloud_primary_ip\.App_Ipv4_[A-Z0-9]+\.ip_address\}$/);
  });

  test('with only IPv4 admin networks, is refused at synth: no admin and no rollout could reach SSH', () => {
    const message = expectRefused(() => production({ publicIpv4: false, adminCidrs: [V4_ADMIN, Peer.ipv4('198.51.100.0/24')] }).stack);
    expect(message).toContain("production/App.adminCidrs: '203.0.113.0/24, 198.51.100.0/24' is not allowed: the machine has no public IPv4 (publicIpv4: false), "
      + 'so SSH reaches it over IPv6 alone, and none of these blocks is IPv6');
    expect(message).toMatch(/Fix: add the IPv6 blocks admins and the deploying CI connect from, such as Peer\.ipv6\('2001:db8:1234::\/48'\), or leave publicIpv4 on$/m);
    // One IPv6 block among them is enough, and a machine with IPv4 takes IPv4 blocks alone as before.
    expect(() => Testing.synth(production({ publicIpv4: false, adminCidrs: [V4_ADMIN, V6_ADMIN] }).stack, true)).not.toThrow();
    expect(() => Testing.synth(production({ adminCidrs: [V4_ADMIN] }).stack, true)).not.toThrow();
  });

  test('warns when its files name GitHub, which publishes no IPv6 address; a dual-stack machine does not', () => {
    const part = { name: 'fetch', files: [{ path: '/etc/app/sources', content: 'https://github.com/acme/app/releases\nghcr.io/acme/app:1.2\n' }] };
    const v6 = production({ publicIpv4: false });
    v6.machine.addBundlePart(part);
    Testing.synth(v6.stack, true);
    const warnings = warningsOf(v6.stack).filter((w) => w.includes('Machine-Ipv6OnlyUnreachableHost'));
    expect(warnings).toEqual([expect.stringMatching(/^Machine-Ipv6OnlyUnreachableHost: production\/App has no public IPv4 \(publicIpv4: false\), and its files name ghcr\.io, github\.com, which publish no IPv6 address .* Fix: /)]);
    const dual = production();
    dual.machine.addBundlePart(part);
    Testing.synth(dual.stack, true);
    expect(warningsOf(dual.stack).join('\n')).not.toMatch(/Machine-Ipv6OnlyUnreachableHost/);
    const quiet = production({ publicIpv4: false });
    quiet.machine.addBundlePart(APP_PART);
    Testing.synth(quiet.stack, true);
    expect(warningsOf(quiet.stack).join('\n')).not.toMatch(/Machine-Ipv6OnlyUnreachableHost/);
  });

  test('warns about an inbound rule that admits IPv4 blocks alone: over IPv6 alone, it admits no one', () => {
    const v6 = production({
      publicIpv4: false,
      ingress: [FirewallRule.tcpIn(5432, ['198.51.100.0/24'], { description: 'partner database' }), FirewallRule.httpsFromAnywhere()],
    });
    Testing.synth(v6.stack, true);
    expect(warningsOf(v6.stack).filter((w) => w.startsWith('Machine-Ipv4OnlyIngress'))).toEqual([
      "Machine-Ipv4OnlyIngress: production/App.ingress 'partner database' (tcp 5432 from 198.51.100.0/24) admits only IPv4 blocks, and the machine has "
      + "no public IPv4 (publicIpv4: false), so it admits no one. Fix: add the IPv6 blocks of the same clients, such as Peer.ipv6('2001:db8:1234::/48'), or leave publicIpv4 on."]);
    const dual = production({ ingress: [FirewallRule.tcpIn(5432, ['198.51.100.0/24'])] });
    Testing.synth(dual.stack, true);
    expect(warningsOf(dual.stack).join('\n')).not.toMatch(/Machine-Ipv4OnlyIngress/);
  });

  test('a sensitive machine without IPv4, its egress allowlist and its rollout pass the boundary rule pack', () => {
    const stack = checkedStack();
    const m = machine(stack, 'App', { publicIpv4: false, adminCidrs: [V6_ADMIN] });
    m.addBundlePart(APP_PART);
    const json = synthJson(stack);
    const [firewall] = resourcesOf(json, 'hcloud_firewall');
    // The allowlist's outbound rules reach IPv6 destinations as IPv4 ones; SSH comes in from the IPv6 admin block alone.
    for (const rule of firewall.rule.filter((r: any) => r.direction === 'out')) expect(rule.destination_ips).toEqual(['0.0.0.0/0', '::/0']);
    expect(firewall.rule.filter((r: any) => r.direction === 'in')).toEqual([expect.objectContaining({ port: '22', source_ips: ['2001:db8:a0::/48'] })]);
  });

  test('publicIpv4 that is not a boolean (a JavaScript caller\'s "false") is refused with path, value and fix', () => {
    expect(refusal(() => production({ publicIpv4: 'false' as unknown as boolean }))).toMatch(/^production\/App\.publicIpv4: 'false' is not allowed: .*Fix: /);
  });
});
