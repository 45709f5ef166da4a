/**
 * Address helpers of the simulated cloud. Public addresses come from the documentation ranges
 * (RFC 5737 for IPv4, RFC 3849 for IPv6), so nothing the stand-in hands out is routable.
 */

const IPV4_POOLS = ['203.0.113', '198.51.100', '192.0.2'];

/** The n-th public IPv4 address (n from 0), cycling through the three documentation /24s. */
export function publicIpv4(n: number): string {
  const pool = IPV4_POOLS[Math.floor(n / 254) % IPV4_POOLS.length];
  return `${pool}.${(n % 254) + 1}`;
}

/** The n-th public IPv6 /64 network. */
export function publicIpv6Network(n: number): string {
  return `2001:db8:${(0x1000 + n).toString(16)}::/64`;
}

/** The start of a /64 (`2001:db8:1001::`), which hcloud reads as a primary or floating IPv6's `ip_address`. */
export function networkAddressOf(network: string): string {
  return network.replace(/\/64$/, '');
}

/** The first address of a /64, as Hetzner gives it to the server. */
export function firstAddressOf(network: string): string {
  return network.replace(/::\/64$/, '::1');
}

/** An IPv4 address as a number, or undefined when it is not one. */
export function ipv4ToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

/** A number as a dotted IPv4 address. */
export function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** An IPv4 CIDR as [first address, prefix length], or undefined if it is not one. */
export function parseCidr(cidr: string): { base: number; prefix: number } | undefined {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr);
  if (!m) return undefined;
  const base = ipv4ToInt(m[1]);
  const prefix = Number(m[2]);
  if (base === undefined || prefix > 32) return undefined;
  return { base, prefix };
}

/** Whether `inner` lies inside `outer`. */
export function cidrContains(outer: string, inner: string): boolean {
  const o = parseCidr(outer);
  const i = parseCidr(inner);
  if (!o || !i || i.prefix < o.prefix) return false;
  const size = 2 ** (32 - o.prefix);
  return Math.floor(i.base / size) === Math.floor(o.base / size);
}

/** A MAC address derived from an object ID, in Hetzner's locally administered 86:00:00 prefix. */
export function macAddress(id: number): string {
  return ['86', '00', '00', ...[16, 8, 0].map((s) => (Math.floor(id / 2 ** s) % 256).toString(16).padStart(2, '0'))].join(':');
}
