import * as ipaddr from 'ipaddr.js';
import { requireInstance } from './runtime-checks';
import { invalidValue, ValidationError } from './validation-message';

const FIX = "write the block as address/prefix with host bits cleared, such as Peer.ipv4('203.0.113.0/24') or Peer.ipv6('2001:db8::/32')";
const HOST_BITS_SET = 'the address has host bits set; Hetzner only accepts the start of the block';
const IPV4_DOTTED = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/**
 * The other side of a firewall rule: one IPv4 or IPv6 block, such as the office network admins
 * connect from (`Peer.ipv4('203.0.113.0/24')`) or the whole IPv6 internet (`Peer.anyIpv6()`).
 *
 * Every API that takes CIDR blocks takes a `Peer` or the block as text; a `Peer` is checked once,
 * when it is built, for what Hetzner would refuse (not an address and prefix, a prefix longer than
 * the family allows, host bits set, an IPv6 address written with a dotted quad) and for the family
 * its factory names. It is written out in one canonical form (IPv6 lowercase and compressed), so
 * two peers for the same block are equal however they were written.
 */
export class Peer {
  /**
   * An IPv4 block, such as `'203.0.113.0/24'`, or one address as `'/32'`.
   * @throws ValidationError when it is not a valid IPv4 block
   */
  public static ipv4(cidr: string): Peer {
    return Peer.checked('Peer.ipv4', 'ipv4', cidr);
  }

  /**
   * An IPv6 block in hexadecimal form, such as `'2001:db8::/32'`, or one address as `'/128'`.
   * IPv4-mapped blocks (inside `::ffff:0:0/96`) count as the IPv4 addresses they map wherever
   * the library checks what a set of blocks opens.
   * @throws ValidationError when it is not a valid IPv6 block
   */
  public static ipv6(cidr: string): Peer {
    return Peer.checked('Peer.ipv6', 'ipv6', cidr);
  }

  /** Every IPv4 address, `0.0.0.0/0`. */
  public static anyIpv4(): Peer {
    return new Peer('ipv4', '0.0.0.0/0');
  }

  /** Every IPv6 address, `::/0`. */
  public static anyIpv6(): Peer {
    return new Peer('ipv6', '::/0');
  }

  /**
   * Every address of both families: `[Peer.anyIpv4(), Peer.anyIpv6()]`, a list because a peer is
   * one block; pass it where a rule takes its blocks, such as `FirewallRule.tcpIn(443, Peer.anywhere())`.
   */
  public static anywhere(): Peer[] {
    return [Peer.anyIpv4(), Peer.anyIpv6()];
  }

  private static checked(at: string, family: 'ipv4' | 'ipv6', cidr: unknown): Peer {
    const problem = cidrProblem(cidr);
    const other = family === 'ipv4' ? 'ipv6' : 'ipv4';
    if (problem) {
      // Peer.ipv4('2001:db8::1') was told to add '/128', and then, on the next run, that it is an IPv6 block.
      const one = oneAddressBlock(cidr);
      const fix = one !== undefined && ipaddr.parseCIDR(one)[0].kind() === other ? `use Peer.${other}('${one}') for this one address, or the block of its network` : cidrFix(cidr);
      throw new ValidationError(invalidValue(at, 'cidr', cidr, problem, fix));
    }
    const text = cidr as string;
    if (ipaddr.parseCIDR(text)[0].kind() !== family) {
      throw new ValidationError(invalidValue(at, 'cidr', cidr, `it is an ${other === 'ipv4' ? 'IPv4' : 'IPv6'} block`, `use Peer.${other}('${text}')`));
    }
    return new Peer(family, canonical(text));
  }

  private constructor(
    /** Whether the block is IPv4 or IPv6. */
    public readonly family: 'ipv4' | 'ipv6',
    private readonly cidr: string,
  ) {}

  /**
   * Whether `other` is the same block: another `Peer`, or a block as text (`'2001:DB8::/32'`
   * equals `Peer.ipv6('2001:db8::/32')`); text that is not a valid block equals no peer.
   * @throws ValidationError when `other` is neither a `Peer` nor text (a number, `undefined`, `null`)
   */
  public equals(other: Peer | string): boolean {
    if (other instanceof Peer) return other.cidr === this.cidr;
    // From JavaScript, 123 or undefined answered false without a word, as the other value types' questions no longer do.
    if (typeof other !== 'string') {
      requireInstance('Peer.equals', 'other', other, Peer, "pass a Peer, such as Peer.ipv4('203.0.113.0/24'), or the block as text", 'a Peer or a CIDR block as text');
    }
    return cidrProblem(other) === undefined && canonical(other) === this.cidr;
  }

  /** The block in CIDR notation, as a firewall rule is synthesized with it: `203.0.113.0/24`, `2001:db8::/32`. */
  public toString(): string {
    return this.cidr;
  }

  /** The block in CIDR notation, so that a peer serializes as the text it stands for. */
  public toJSON(): string {
    return this.cidr;
  }
}

/**
 * A block as the library carries it internally: a `Peer` as its CIDR text, anything else as it
 * came (text is passed on unchanged, so configurations written with text synthesize as before).
 * @internal
 */
export function blockText(block: unknown): unknown {
  return block instanceof Peer ? block.toString() : block;
}

/**
 * Why a CIDR block is invalid, or `undefined` when it is valid. A `Peer` is checked as its text,
 * so something that only pretends to be one is refused like any other non-text value.
 *
 * Hetzner rejects blocks with host bits set ("is not the start of the cidr block"),
 * so this checks that too instead of letting the apply fail.
 * @internal
 */
export function cidrProblem(block: unknown): string | undefined {
  const cidr = blockText(block);
  if (typeof cidr !== 'string') return 'a CIDR block is a string, such as "203.0.113.0/24" or "2001:db8::/32"';
  const match = /^([^/\s]+)\/(\d{1,3})$/.exec(cidr);
  if (!match) return 'a CIDR block is an address and a prefix length, such as 203.0.113.0/24 or 2001:db8::/32';
  const [, address, prefixText] = match;
  // A zone (`fe80::1%eth0`) names an interface of one machine: no firewall block carries one, and the
  // provider's parser refuses it at plan ("invalid CIDR address"), after synth had passed it on.
  if (address.includes('%')) return `'${address}' carries a zone (${address.slice(address.indexOf('%'))}), which names an interface of one machine; a firewall block has none`;
  const isV4 = IPV4_DOTTED.test(address);
  // IPv6 without an embedded dotted quad: Hetzner's API takes the plain hexadecimal form.
  const isV6 = !address.includes('.') && address.includes(':') && ipaddr.IPv6.isValid(address);
  if (!isV4 && !isV6 && dottedIpv6(address)) {
    return dottedIpv6(address)!.isIPv4MappedAddress()
      ? `'${address}' is an IPv4-mapped IPv6 address written with a dotted quad; an IPv4 client reaches Hetzner's firewall with its IPv4 address`
      : `'${address}' is an IPv6 address written with a dotted quad, which Hetzner's API does not take`;
  }
  if (!isV4 && !isV6) return `'${address}' is not an IPv4 or IPv6 address`;
  const width = isV4 ? 32 : 128;
  const prefix = Number(prefixText);
  if (prefix > width) return `the prefix length must be at most ${width}`;
  const bits = ipaddr.parse(address).toByteArray().reduce((acc, byte) => (acc << 8n) | BigInt(byte), 0n);
  const hostMask = (1n << BigInt(width - prefix)) - 1n;
  if ((bits & hostMask) !== 0n) return HOST_BITS_SET;
  return undefined;
}

/** A valid block in one form: ipaddr.js writes IPv6 per RFC 5952 (lowercase, longest zero run compressed, also when IPv4-mapped). */
function canonical(cidr: string): string {
  const [address, prefix] = ipaddr.parseCIDR(cidr);
  return `${address.toString()}/${prefix}`;
}

/** An IPv6 address with an embedded dotted quad (`::ffff:192.0.2.1`), parsed; `undefined` for anything else. */
function dottedIpv6(address: string): ipaddr.IPv6 | undefined {
  return address.includes('.') && address.includes(':') && ipaddr.IPv6.isValid(address) ? ipaddr.IPv6.parse(address) : undefined;
}

/** The block of one address given without a prefix length ('203.0.113.7' → '203.0.113.7/32', /128 for IPv6), if it is one. */
function oneAddressBlock(text: unknown): string | undefined {
  if (typeof text !== 'string') return undefined;
  const address = ipaddr.IPv4.isValidFourPartDecimal(text) || (ipaddr.IPv6.isValid(text) && !text.includes('%'));
  const one = address ? `${text}/${ipaddr.parse(text).kind() === 'ipv4' ? 32 : 128}` : undefined;
  return one !== undefined && cidrProblem(one) === undefined ? one : undefined;
}

/**
 * The fix for an invalid block (see `cidrProblem`): for host bits set, the block and the one address it
 * may have meant; for a zone, the block without it; for a dotted quad, the IPv4 block an IPv4-mapped one
 * stands for, or the hexadecimal form; otherwise how a block is written, with `example`.
 * @internal
 */
export function cidrFix(block: unknown, example = FIX): string {
  const cidr = blockText(block);
  const problem = cidrProblem(cidr);
  if (problem === undefined || typeof cidr !== 'string') return example;
  // An address without a prefix length (a newcomer's own, as "what is my IP" shows it): the block of that one
  // address, not an example of another network's (a /24 would open SSH to 255 strangers' addresses too).
  const one = oneAddressBlock(cidr);
  if (one !== undefined) return `add the prefix length: '${one}' for this one address, or the block of its network`;
  const match = /^([^/\s]+)\/(\d{1,3})$/.exec(cidr);
  if (!match) return example;
  const [, address, prefixText] = match;
  const prefix = Number(prefixText);
  if (address.includes('%')) {
    const bare = `${address.slice(0, address.indexOf('%'))}/${prefixText}`;
    return cidrProblem(bare) === undefined ? `leave the zone out: '${canonical(bare)}'` : `leave the zone out, and ${cidrFix(bare, example)}`;
  }
  const dotted = dottedIpv6(address);
  if (dotted && dotted.isIPv4MappedAddress() && prefix >= 96 && prefix <= 128) {
    const v4 = `${dotted.toIPv4Address().toString()}/${prefix - 96}`;
    if (cidrProblem(v4) === undefined) return `write the IPv4 block it maps: Peer.ipv4('${v4}'), or '${v4}'`;
  }
  if (dotted && prefix <= 128) {
    const hex = `${dotted.toString()}/${prefix}`;
    if (cidrProblem(hex) === undefined) return `write it in hexadecimal form: '${hex}'`;
  }
  return fixFor(cidr, problem, example);
}

/** The fix for an invalid block: for host bits set, the block and the one address it may have meant. */
function fixFor(cidr: unknown, problem: string, example = FIX): string {
  if (problem !== HOST_BITS_SET || typeof cidr !== 'string') return example;
  const [address, prefix] = ipaddr.parseCIDR(cidr);
  const width = address.kind() === 'ipv4' ? 32 : 128;
  const start = address.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(cidr) : ipaddr.IPv6.networkAddressFromCIDR(cidr);
  return `write the start of the block, '${start.toString()}/${prefix}', or the one address, '${address.toString()}/${width}'`;
}
