import * as ipaddr from 'ipaddr.js';
import { blockText, cidrFix, cidrProblem, Peer } from './peer';

// What a valid block is lives with `Peer`, the block as a value; this module says what a set of blocks opens.
export { blockText, cidrFix, cidrProblem };

/** The addresses that mean "the whole internet". */
export const ANYWHERE_IPV4 = '0.0.0.0/0';
export const ANYWHERE_IPV6 = '::/0';

/** An address range as inclusive integer bounds in its family's space. */
interface Span { readonly from: bigint; readonly to: bigint }

/** A parsed block: its family, its span, and for IPv4-mapped IPv6 blocks, the IPv4 span it maps. */
interface ParsedBlock { readonly family: 'ipv4' | 'ipv6'; readonly span: Span; readonly mappedIpv4?: Span }

/** Parses a valid block (see `cidrProblem`); `undefined` for an invalid one. */
function parseBlock(cidr: string): ParsedBlock | undefined {
  if (cidrProblem(cidr) !== undefined) return undefined;
  const [address, prefix] = ipaddr.parseCIDR(cidr);
  const width = address.kind() === 'ipv4' ? 32 : 128;
  const from = toBigInt(address.toByteArray());
  const span = { from, to: from + (1n << BigInt(width - prefix)) - 1n };
  if (address.kind() === 'ipv4') return { family: 'ipv4', span };
  // ::ffff:0:0/96 holds every IPv4 address in mapped form: a block inside it reaches those IPv4 addresses.
  const mappedStart = 0xffff00000000n;
  const mappedEnd = 0xffffffffffffn;
  const lo = span.from > mappedStart ? span.from : mappedStart;
  const hi = span.to < mappedEnd ? span.to : mappedEnd;
  return { family: 'ipv6', span, ...(lo <= hi ? { mappedIpv4: { from: lo - mappedStart, to: hi - mappedStart } } : {}) };
}

/** Whether a block is a valid IPv6 one (see `cidrProblem`); a `Peer` counts as its block. */
export function isIpv6Block(block: Peer | string): boolean {
  return parseBlock(String(blockText(block)))?.family === 'ipv6';
}

/**
 * The public address space: what "anyone on the internet" can come from. For IPv4 everything but the
 * special-purpose blocks of RFC 6890 that are never routed on the internet; for IPv6 the global
 * unicast block 2000::/3. A set of blocks that covers one of these is open to the whole internet,
 * however it is written: `0.0.0.0/0`, `0.0.0.0/1` + `128.0.0.0/1`, `::ffff:0:0/96`, `2000::/3`.
 */
const NOT_ON_THE_INTERNET_V4 = ['0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24', '192.168.0.0/16', '198.18.0.0/15', '224.0.0.0/4', '240.0.0.0/4'];
const PUBLIC_V6: Span = spanOf('2000::/3');

/**
 * Which address family a set of blocks opens completely to the internet: `'IPv4'`, `'IPv6'`, or
 * `undefined` when neither. Computed as coverage of the public address space (IPv4-mapped IPv6
 * blocks count as the IPv4 addresses they map), never by comparing strings. Invalid blocks count
 * for nothing here; `cidrProblem` reports them. A `Peer` counts as its block.
 */
export function wholeInternetCoveredBy(blocks: readonly unknown[]): 'IPv4' | 'IPv6' | undefined {
  const v4: Span[] = [];
  const v6: Span[] = [];
  for (const given of blocks) {
    const block = blockText(given);
    if (typeof block !== 'string') continue;
    const parsed = parseBlock(block.trim());
    if (!parsed) continue;
    if (parsed.family === 'ipv4') v4.push(parsed.span);
    else {
      v6.push(parsed.span);
      if (parsed.mappedIpv4) v4.push(parsed.mappedIpv4);
    }
  }
  if (publicV4Spans().every((needed) => covers(v4, needed))) return 'IPv4';
  if (covers(v6, PUBLIC_V6)) return 'IPv6';
  return undefined;
}

/** Whether a set of blocks opens to the whole internet (IPv4 or IPv6); see `wholeInternetCoveredBy`. */
export function coversWholeInternet(blocks: readonly unknown[]): boolean {
  return wholeInternetCoveredBy(blocks) !== undefined;
}

/** Whether one CIDR block (text or `Peer`) on its own covers the whole IPv4 or IPv6 internet. */
export function isAnywhere(cidr: Peer | string): boolean {
  return coversWholeInternet([cidr]);
}

let publicV4: Span[] | undefined;
function publicV4Spans(): Span[] {
  if (publicV4) return publicV4;
  const holes = NOT_ON_THE_INTERNET_V4.map(spanOf).sort((a, b) => (a.from < b.from ? -1 : 1));
  const spans: Span[] = [];
  let next = 0n;
  for (const hole of holes) {
    if (hole.from > next) spans.push({ from: next, to: hole.from - 1n });
    if (hole.to + 1n > next) next = hole.to + 1n;
  }
  if (next <= 0xffffffffn) spans.push({ from: next, to: 0xffffffffn });
  publicV4 = spans;
  return spans;
}

/** Whether the union of `spans` contains all of `needed`. */
function covers(spans: readonly Span[], needed: Span): boolean {
  let reached = needed.from; // the first address not yet known to be covered
  for (const s of [...spans].sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0))) {
    if (s.from > reached) break;
    if (s.to >= reached) reached = s.to + 1n;
    if (reached > needed.to) return true;
  }
  return reached > needed.to;
}

function spanOf(cidr: string): Span {
  return parseBlock(cidr)!.span;
}

function toBigInt(bytes: number[]): bigint {
  return bytes.reduce((acc, byte) => (acc << 8n) | BigInt(byte), 0n);
}
