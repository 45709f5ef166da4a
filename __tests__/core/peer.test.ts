import { Testing } from 'cdktf';
import {
  AlertReceiver, DeadMansSwitch, Environment, FirewallRule, Machine, MachineProps, MonitoringPlan, Peer, Phase, Product, ProductProps, RestoreCheck,
  ServerType, UptimeCheck,
} from '../../lib';
import { coversWholeInternet, isAnywhere, wholeInternetCoveredBy } from '../../lib/core/cidr';
import { ProductStacks } from '../../stacks';
import { checkedStack, machine, policy } from '../boundary/fixtures';
import { expectRefused, refusal } from '../boundary/refusal';
import { ADMIN_KEY, resourcesOf, testStack } from '../setup/stack';

// Issue #18: CIDR blocks as a value type. A Peer is checked when it is built, compares by value, and
// wherever the library takes CIDR blocks it is the same as its text: same synthesized rules, same
// whole-internet refusals (by coverage, so split and mapped forms too).


describe('Peer: construction', () => {
  test('ipv4 and ipv6 keep the block, with its family; toString and JSON are the CIDR text', () => {
    const office = Peer.ipv4('203.0.113.0/24');
    expect(office.toString()).toBe('203.0.113.0/24');
    expect(office.family).toBe('ipv4');
    expect(`${office}`).toBe('203.0.113.0/24');
    expect(JSON.stringify({ cidrs: [office] })).toBe('{"cidrs":["203.0.113.0/24"]}');
    const vpn = Peer.ipv6('2001:db8::/32');
    expect(vpn.toString()).toBe('2001:db8::/32');
    expect(vpn.family).toBe('ipv6');
    expect(Peer.ipv4('198.51.100.7/32').toString()).toBe('198.51.100.7/32');
  });

  test('IPv6 is written in one canonical form (lowercase, longest zero run compressed), the prefix without leading zeros', () => {
    expect(Peer.ipv6('2001:DB8:0:0:0:0:0:0/32').toString()).toBe('2001:db8::/32');
    expect(Peer.ipv6('2001:0db8:0000:0000:0001:0000:0000:0000/80').toString()).toBe('2001:db8:0:0:1::/80');
    expect(Peer.ipv4('10.0.0.0/08').toString()).toBe('10.0.0.0/8');
  });

  test("'::ffff:0:0/96' is a valid IPv6 peer (the IPv4-mapped block), in hexadecimal form", () => {
    const mapped = Peer.ipv6('::ffff:0:0/96');
    expect(mapped.toString()).toBe('::ffff:0:0/96');
    expect(mapped.family).toBe('ipv6');
  });

  test('anyIpv4, anyIpv6 and anywhere are the whole internet of each family', () => {
    expect(Peer.anyIpv4().toString()).toBe('0.0.0.0/0');
    expect(Peer.anyIpv4().family).toBe('ipv4');
    expect(Peer.anyIpv6().toString()).toBe('::/0');
    expect(Peer.anyIpv6().family).toBe('ipv6');
    expect(Peer.anywhere().map(String)).toEqual([...FirewallRule.ANYWHERE]);
    expect(Peer.anywhere().every((p) => p instanceof Peer)).toBe(true);
  });
});

describe('Peer: refusal of bad input', () => {
  test.each([
    ['abc', /^Peer\.ipv4\.cidr: 'abc' is not allowed: a CIDR block is an address and a prefix length/],
    ['203.0.113.0', /^Peer\.ipv4\.cidr: '203\.0\.113\.0' is not allowed: a CIDR block is an address and a prefix length/],
    ['10.0.0.0/33', /^Peer\.ipv4\.cidr: '10\.0\.0\.0\/33' is not allowed: the prefix length must be at most 32\. Fix: /],
    ['256.0.0.0/8', /^Peer\.ipv4\.cidr: '256\.0\.0\.0\/8' is not allowed: '256\.0\.0\.0' is not an IPv4 or IPv6 address/],
    [' 10.0.0.0/8', /is not allowed: a CIDR block is an address and a prefix length/],
    ['', /^Peer\.ipv4\.cidr: '' is not allowed/],
  ])('Peer.ipv4(%p) is refused with value, why and fix', (cidr, expected) => {
    expect(refusal(() => Peer.ipv4(cidr))).toMatch(expected);
  });

  test.each([
    ['2001:db8::/129', /^Peer\.ipv6\.cidr: '2001:db8::\/129' is not allowed: the prefix length must be at most 128/],
    ['2001:db8:::/32', /is not an IPv4 or IPv6 address/],
  ])('Peer.ipv6(%p) is refused with value, why and fix', (cidr, expected) => {
    expect(refusal(() => Peer.ipv6(cidr))).toMatch(expected);
  });

  test('host bits set: refused, and the fix names the start of the block and the one address', () => {
    expect(refusal(() => Peer.ipv4('10.0.0.1/8'))).toBe(
      "Peer.ipv4.cidr: '10.0.0.1/8' is not allowed: the address has host bits set; Hetzner only accepts the start of the block. "
      + "Fix: write the start of the block, '10.0.0.0/8', or the one address, '10.0.0.1/32'");
    expect(refusal(() => Peer.ipv6('2001:db8::1/32'))).toMatch(/Fix: write the start of the block, '2001:db8::\/32', or the one address, '2001:db8::1\/128'$/);
  });

  // A newcomer pasted their own address as "what is my IP" shows it, and the fix said "such as '203.0.113.0/24'":
  // another network's block, which copied would open SSH to the whole /24.
  test('an address without a prefix length: the fix names the block of that one address', () => {
    expect(refusal(() => Peer.ipv4('203.0.113.7'))).toMatch(/^Peer\.ipv4\.cidr: '203\.0\.113\.7' is not allowed: .* Fix: add the prefix length: '203\.0\.113\.7\/32' for this one address, or the block of its network$/);
    expect(refusal(() => Peer.ipv6('2001:db8::1'))).toMatch(/Fix: add the prefix length: '2001:db8::1\/128' for this one address, or the block of its network$/);
    // An address of the other family is sent to its own factory at once, not told its prefix and then its family.
    expect(refusal(() => Peer.ipv4('2001:db8::1'))).toMatch(/^Peer\.ipv4\.cidr: '2001:db8::1' is not allowed: .* Fix: use Peer\.ipv6\('2001:db8::1\/128'\) for this one address, or the block of its network$/);
    expect(refusal(() => Peer.ipv6('203.0.113.7'))).toMatch(/Fix: use Peer\.ipv4\('203\.0\.113\.7\/32'\) for this one address, or the block of its network$/);
  });

  test('the wrong family is refused, and the fix names the right factory', () => {
    expect(refusal(() => Peer.ipv4('2001:db8::/32'))).toBe("Peer.ipv4.cidr: '2001:db8::/32' is not allowed: it is an IPv6 block. Fix: use Peer.ipv6('2001:db8::/32')");
    expect(refusal(() => Peer.ipv4('::ffff:0:0/96'))).toMatch(/it is an IPv6 block\. Fix: use Peer\.ipv6\('::ffff:0:0\/96'\)$/);
    expect(refusal(() => Peer.ipv6('10.0.0.0/8'))).toBe("Peer.ipv6.cidr: '10.0.0.0/8' is not allowed: it is an IPv4 block. Fix: use Peer.ipv4('10.0.0.0/8')");
  });

  test.each([
    ['NaN', NaN, 'NaN'], ['null', null, 'null'], ['undefined', undefined, 'undefined'], ['a number', 42, '42'], ['{}', {}, '{}'],
    ['[]', [], '[]'], ['true', true, 'true'], ['a list of one block', ['10.0.0.0/8'], '["10.0.0.0/8"]'],
  ])('an untyped %s is refused by both factories, never a crash', (_label, value, shown) => {
    for (const [factory, build] of [['ipv4', () => Peer.ipv4(value as any)], ['ipv6', () => Peer.ipv6(value as any)]] as const) {
      const message = refusal(build);
      expect(message.startsWith(`Peer.${factory}.cidr: ${shown} is not allowed: a CIDR block is a string`)).toBe(true);
    }
  });
});

// An IPv6 block as an admin copies it from `ip addr` (with its zone) or from a log of mapped sockets
// (dotted): synth named the first valid and Terraform's plan failed on it ("invalid CIDR address"), and
// called the second "not an IPv4 or IPv6 address". Each is refused at synth with what it is and the block to write.
describe('Peer: IPv6 written with a zone or a dotted quad', () => {
  test.each([
    ['fe80::1%eth0/128', "carries a zone (%eth0), which names an interface of one machine; a firewall block has none", "leave the zone out: 'fe80::1/128'"],
    ['2001:DB8::%1/64', 'carries a zone (%1)', "leave the zone out: '2001:db8::/64'"],
    ['2001:db8::1%eth0/64', 'carries a zone (%eth0)', "leave the zone out, and write the start of the block, '2001:db8::/64', or the one address, '2001:db8::1/128'"],
    ['::ffff:203.0.113.0/120', 'is an IPv4-mapped IPv6 address written with a dotted quad', "write the IPv4 block it maps: Peer.ipv4('203.0.113.0/24'), or '203.0.113.0/24'"],
    ['::ffff:1.2.3.4/128', 'is an IPv4-mapped IPv6 address written with a dotted quad', "write the IPv4 block it maps: Peer.ipv4('1.2.3.4/32'), or '1.2.3.4/32'"],
    ['64:ff9b::192.0.2.0/120', 'is an IPv6 address written with a dotted quad', "write it in hexadecimal form: '64:ff9b::c000:200/120'"],
  ])('Peer.ipv6(%p) is refused: what it is and the block to write', (cidr, why, fix) => {
    const message = refusal(() => Peer.ipv6(cidr));
    expect(message).toContain(`Peer.ipv6.cidr: '${cidr}' is not allowed: '${cidr.split('/')[0]}' ${why}`);
    expect(message.endsWith(`Fix: ${fix}`)).toBe(true);
  });

  test('given as text, a zone is refused by firewall rules, a machine and a product, each naming its path, the value and the block to write', () => {
    expect(refusal(() => FirewallRule.tcpIn(22, ['fe80::1%eth0/128']))).toBe(
      "FirewallRule.tcpIn.from[0]: 'fe80::1%eth0/128' is not allowed: 'fe80::1%eth0' carries a zone (%eth0), which names an interface of one machine; "
      + "a firewall block has none. Fix: leave the zone out: 'fe80::1/128'");
    expectRefused(() => { const stack = checkedStack(); machine(stack, 'App', { adminCidrs: ['2001:db8:1::%wg0/48'] }); return stack; },
      /production\/App\.adminCidrs: '2001:db8:1::%wg0\/48' is not allowed: .* carries a zone \(%wg0\).*\. Fix: leave the zone out: '2001:db8:1::\/48'/);
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr ops@acme.eu';
    expect(refusal(() => new Product({
      name: 'acme', phase: Phase.ONE, admin: { sshPublicKeys: { ops: key }, cidrs: ['::ffff:198.51.100.0/120'] }, stateBucket: 'acme-tfstate', boundary: policy,
    }))).toMatch(/\.admin\.cidrs\[0\]: '::ffff:198\.51\.100\.0\/120' is not allowed: .* dotted quad.*\. Fix: write the IPv4 block it maps: Peer\.ipv4\('198\.51\.100\.0\/24'\)/);
  });

  test('a valid block keeps passing, however it is cased or compressed', () => {
    expect(Peer.ipv6('FE80::/10').toString()).toBe('fe80::/10');
    expect(Peer.ipv6('2001:0DB8:0000:0000::/64').toString()).toBe('2001:db8::/64');
    expect(FirewallRule.tcpIn(22, ['2001:DB8::/32']).peers).toEqual(['2001:DB8::/32']);
  });
});

describe('Peer: equality by value', () => {
  test('the same block is equal however it was built or written', () => {
    expect(Peer.ipv4('203.0.113.0/24').equals(Peer.ipv4('203.0.113.0/24'))).toBe(true);
    expect(Peer.ipv6('2001:DB8::/32').equals(Peer.ipv6('2001:db8:0::/32'))).toBe(true);
    expect(Peer.anyIpv4().equals(Peer.ipv4('0.0.0.0/0'))).toBe(true);
    expect(Peer.anyIpv6().equals('::/0')).toBe(true);
    expect(Peer.ipv6('2001:db8::/32').equals('2001:DB8:0:0::/32')).toBe(true);
    expect(Peer.ipv4('203.0.113.0/24').equals('203.0.113.0/24')).toBe(true);
  });

  test('a different block, prefix or family is not equal; invalid text equals nothing', () => {
    expect(Peer.ipv4('203.0.113.0/24').equals(Peer.ipv4('203.0.113.0/25'))).toBe(false);
    expect(Peer.ipv4('203.0.113.0/24').equals(Peer.ipv4('198.51.100.0/24'))).toBe(false);
    // The mapped form reaches the same addresses, but it is another block: Hetzner stores it as written.
    expect(Peer.ipv6('::ffff:cb00:7100/120').equals(Peer.ipv4('203.0.113.0/24'))).toBe(false);
    expect(Peer.anyIpv4().equals(Peer.anyIpv6())).toBe(false);
    expect(Peer.ipv4('10.0.0.0/8').equals('10.0.0.1/8')).toBe(false);
    expect(Peer.ipv4('10.0.0.0/8').equals('abc')).toBe(false);
  });
});

describe('Peer in firewall rules', () => {
  test('every rule factory takes Peers, and a rule built with them is the rule built with the text', () => {
    const office = '203.0.113.0/24';
    const vpn = '2001:db8::/32';
    const pairs: Array<[FirewallRule, FirewallRule]> = [
      [FirewallRule.tcpIn(22, [Peer.ipv4(office), Peer.ipv6(vpn)]), FirewallRule.tcpIn(22, [office, vpn])],
      [FirewallRule.udpIn('51820', [Peer.ipv4(office)], { description: 'WireGuard' }), FirewallRule.udpIn('51820', [office], { description: 'WireGuard' })],
      [FirewallRule.icmpIn(Peer.anywhere()), FirewallRule.icmpIn()],
      [FirewallRule.tcpOut(443, Peer.anywhere()), FirewallRule.tcpOut(443, FirewallRule.ANYWHERE)],
      [FirewallRule.udpOut(53, [Peer.anyIpv4(), '::/0']), FirewallRule.udpOut(53, ['0.0.0.0/0', '::/0'])],
    ];
    for (const [withPeers, withText] of pairs) {
      expect(withPeers.toRuleBlock()).toEqual(withText.toRuleBlock());
      expect(withPeers.peers.every((p) => typeof p === 'string')).toBe(true);
    }
    expect(pairs[0][0].toRuleBlock().sourceIps).toEqual([office, vpn]);
  });

  test('a machine configured with Peers synthesizes exactly as with the same blocks as text', () => {
    const build = (admin: MachineProps['adminCidrs'], ingress: FirewallRule[], egress: FirewallRule[]) => {
      const { stack } = testStack('production');
      new Machine(stack, 'App', {
        environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [ADMIN_KEY], adminCidrs: admin, ingress, egress,
      });
      return Testing.synth(stack, true);
    };
    const withPeers = build([Peer.ipv4('203.0.113.0/24'), Peer.ipv6('2001:db8::/32')],
      [FirewallRule.tcpIn(443, Peer.anywhere()), FirewallRule.udpIn(51820, [Peer.ipv4('198.51.100.0/24')])],
      [FirewallRule.tcpOut(5432, [Peer.ipv4('10.0.0.0/8')])]);
    const withText = build(['203.0.113.0/24', '2001:db8::/32'],
      [FirewallRule.tcpIn(443, FirewallRule.ANYWHERE), FirewallRule.udpIn(51820, ['198.51.100.0/24'])],
      [FirewallRule.tcpOut(5432, ['10.0.0.0/8'])]);
    expect(withPeers).toBe(withText);
    const [firewall] = resourcesOf(JSON.parse(withPeers), 'hcloud_firewall');
    expect(firewall.rule[0]).toMatchObject({ direction: 'in', protocol: 'tcp', port: '22', source_ips: ['203.0.113.0/24', '2001:db8::/32'] });
  });

  test("a product's admin networks as Peers give the same environment stacks as text", () => {
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr ops@acme.eu';
    const stacksWith = (cidrs: ProductProps['admin']['cidrs']) => new ProductStacks(Testing.app(), new Product({
      name: 'acme', phase: Phase.ONE, admin: { sshPublicKeys: { ops: key }, cidrs }, stateBucket: 'acme-tfstate', boundary: policy,
      backup: { restoreChecks: [RestoreCheck.sql('users-present', { database: 'app', query: 'SELECT count(*) > 0 FROM users' })] },
      monitoring: new MonitoringPlan({
        uptimeChecks: [UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu/health')],
        receivers: [AlertReceiver.webhook('ops', { hostname: 'chat.acme.eu' })],
        deadMansSwitch: DeadMansSwitch.healthchecksIo(),
      }),
    }));
    const withPeers = stacksWith([Peer.ipv4('198.51.100.0/24'), Peer.ipv6('2001:db8::/48')]);
    const withText = stacksWith(['198.51.100.0/24', '2001:db8::/48']);
    const production = Testing.synth(withPeers.production, true);
    expect(production).toBe(Testing.synth(withText.production, true));
    expect(Testing.synth(withPeers.test, true)).toBe(Testing.synth(withText.test, true));
    const sshRules = resourcesOf(JSON.parse(production), 'hcloud_firewall').flatMap((f) => f.rule).filter((r: any) => r.port === '22');
    expect(sshRules.length).toBeGreaterThan(0);
    for (const rule of sshRules) expect(rule.source_ips).toEqual(['198.51.100.0/24', '2001:db8::/48']);
  });

  test('something that only looks like a Peer is not one: refused with path, value and fix', () => {
    const lookalike = { toString: () => '203.0.113.0/24' };
    expect(refusal(() => FirewallRule.tcpIn(22, [lookalike as any]))).toMatch(/^FirewallRule\.tcpIn\.from\[0\]: '203\.0\.113\.0\/24' is not allowed: a CIDR block is a string/);
    const forged = Object.create(Peer.prototype);
    expect(refusal(() => FirewallRule.tcpOut(443, [forged]))).toMatch(/^FirewallRule\.tcpOut\.to\[0\]: .* is not allowed: a CIDR block is a string/);
  });
});

describe('the whole-internet rules see Peers as their blocks', () => {
  const halves = [Peer.ipv4('0.0.0.0/1'), Peer.ipv4('128.0.0.0/1')];

  test('coverage counts Peers: split, mapped and global-unicast forms', () => {
    expect(wholeInternetCoveredBy(halves)).toBe('IPv4');
    expect(wholeInternetCoveredBy([Peer.ipv6('::ffff:0:0/96')])).toBe('IPv4');
    expect(wholeInternetCoveredBy([Peer.ipv6('2000::/3')])).toBe('IPv6');
    expect(coversWholeInternet([Peer.ipv4('0.0.0.0/1')])).toBe(false);
    expect(coversWholeInternet([Peer.ipv4('0.0.0.0/1'), '128.0.0.0/1'])).toBe(true);
    expect(isAnywhere(Peer.anyIpv4())).toBe(true);
    expect(isAnywhere(Peer.ipv4('203.0.113.0/24'))).toBe(false);
    expect(FirewallRule.tcpIn(443, halves).isOpenToInternet).toBe(true);
    expect(FirewallRule.tcpIn(443, [Peer.ipv4('203.0.113.0/24')]).isOpenToInternet).toBe(false);
  });

  test('Machine refuses SSH from Peer.anyIpv4() and from the two halves of it', () => {
    const build = (adminCidrs: MachineProps['adminCidrs']) => () => { const stack = checkedStack(); machine(stack, 'App', { adminCidrs }); return stack; };
    expectRefused(build([Peer.anyIpv4()]), /production\/App\.adminCidrs: '0\.0\.0\.0\/0' is not allowed: SSH must never be open to the whole internet/);
    expectRefused(build([Peer.anyIpv6()]), /production\/App\.adminCidrs: '::\/0' is not allowed: SSH must never be open to the whole internet/);
    expectRefused(build(halves),
      /production\/App\.adminCidrs: '0\.0\.0\.0\/1, 128\.0\.0\.0\/1' is not allowed: together these blocks cover the whole internet/);
    expectRefused(build([Peer.ipv6('::ffff:0:0/96')]), /production\/App\.adminCidrs: '::ffff:0:0\/96' is not allowed: SSH must never be open/);
  });

  test("Machine's own check and the boundary rule pack both refuse an ingress rule that opens 22 to the halves", () => {
    const message = expectRefused(() => { const stack = checkedStack(); machine(stack, 'App', { ingress: [FirewallRule.tcpIn('1-1024', halves)] }); return stack; });
    expect(message).toMatch(/production\/App\.ingress: 'tcp 1-1024 from 0\.0\.0\.0\/1, 128\.0\.0\.0\/1' is not allowed: its ports include 22/);
    // The pack reads the synthesized blocks, not the Peers: it must see the same text.
    expect(message).toMatch(/Boundary-AdminSshOnly: production\/App\/Firewall\.rule: 'tcp 1-1024 from 0\.0\.0\.0\/1, 128\.0\.0\.0\/1' is not allowed/);
  });

  test('Product refuses admin networks that together are the whole internet, however they are given', () => {
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr ops@acme.eu';
    const product = (cidrs: ProductProps['admin']['cidrs']) => () => new Product({
      name: 'acme', phase: Phase.ONE, admin: { sshPublicKeys: { ops: key }, cidrs }, stateBucket: 'acme-tfstate', boundary: policy,
    });
    for (const cidrs of [halves, [Peer.ipv4('0.0.0.0/1'), '128.0.0.0/1'], [Peer.ipv6('::ffff:0:0/96')], Peer.anywhere()]) {
      expect(refusal(product(cidrs))).toMatch(/\.admin\.cidrs: '.*' is not allowed: together these blocks cover the whole internet/);
    }
    expect(product([Peer.ipv4('198.51.100.0/24')])).not.toThrow();
    expect(refusal(product([{ toString: () => '198.51.100.0/24' } as any]))).toMatch(/\.admin\.cidrs\[0\]: '198\.51\.100\.0\/24' is not allowed: a CIDR block is a string/);
  });
});
