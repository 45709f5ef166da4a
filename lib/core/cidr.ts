import { isIPv4, isIPv6 } from 'net';

/** The addresses that mean "the whole internet". */
export const ANYWHERE_IPV4 = '0.0.0.0/0';
export const ANYWHERE_IPV6 = '::/0';

/**
 * Why a CIDR block is invalid, or `undefined` when it is valid.
 *
 * Hetzner rejects blocks with host bits set ("is not the start of the cidr block"),
 * so this checks that too instead of letting the apply fail.
 */
export function cidrProblem(cidr: string): string | undefined {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(cidr);
  if (!match) return 'a CIDR block is an address and a prefix length, such as 203.0.113.0/24 or 2001:db8::/32';
  const [, address, prefixText] = match;
  const prefix = Number(prefixText);
  let bits: bigint;
  let width: number;
  if (isIPv4(address)) {
    bits = address.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
    width = 32;
  } else if (isIPv6(address) && !address.includes('.')) {
    bits = ipv6ToBigInt(address);
    width = 128;
  } else {
    return `'${address}' is not an IPv4 or IPv6 address`;
  }
  if (prefix > width) return `the prefix length must be at most ${width}`;
  const hostMask = (1n << BigInt(width - prefix)) - 1n;
  if ((bits & hostMask) !== 0n) return 'the address has host bits set; Hetzner only accepts the start of the block';
  return undefined;
}

/** Whether a CIDR block covers the whole IPv4 or IPv6 internet. */
export function isAnywhere(cidr: string): boolean {
  return /\/0$/.test(cidr.trim());
}

function ipv6ToBigInt(address: string): bigint {
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array(missing).fill('0'), ...tailGroups];
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group, 16)), 0n);
}
