import { coversWholeInternet } from '../../core/cidr';
import { SynthesizedResource } from './rule';

/** A firewall rule from a synthesized `hcloud_firewall`. */
export interface InboundRule {
  readonly protocol: string;
  readonly port?: string;
  readonly sourceIps: readonly string[];
  readonly description?: string;
}

/** An outbound rule from a synthesized `hcloud_firewall`. */
export interface OutboundRule {
  readonly protocol: string;
  readonly port?: string;
  readonly destinationIps: readonly string[];
  readonly description?: string;
}

/** Whether a value is, or holds, a Terraform expression: Terraform computes it at plan, so synth cannot read it. */
function isExpression(value: unknown): boolean {
  return typeof value === 'string' ? value.includes('${') : Array.isArray(value) ? value.some(isExpression) : false;
}

/**
 * The rules of a firewall as Hetzner would apply them: the literal `rule` blocks, every `dynamic "rule"`
 * block (its content stands for each item of its `for_each`) and a `rule` written as one expression,
 * which may hold any rule. A field Terraform computes (direction, protocol, port, addresses) is read
 * as its widest value, so that a rule written through an expression is never read as harmless.
 */
function rulesOf(firewall: SynthesizedResource): any[] {
  const written = [firewall.body.rule ?? []].flat();
  const dynamic = [firewall.body.dynamic ?? []].flat().flatMap((d: any) => (d !== null && typeof d === 'object' && !Array.isArray(d) ? [d.rule ?? []].flat() : [d]))
    .map((d: any) => (d !== null && typeof d === 'object' && !Array.isArray(d) ? (d.content ?? unknownRule(d)) : unknownRule(d)));
  return [...written, ...dynamic].map((r: any) => (r !== null && typeof r === 'object' && !Array.isArray(r) ? r : unknownRule(r)));
}

/** A rule synth cannot read at all (written as one expression): any direction, protocol, port and address. */
function unknownRule(written: unknown): Record<string, string> {
  const text = typeof written === 'string' && written.includes('${') ? written : '${unreadable rule}';
  return { direction: text, protocol: text, port: text, source_ips: text, destination_ips: text };
}

/** How a protocol Terraform computes is read: every protocol, TCP and UDP included. */
const ANY_PROTOCOL = 'any (computed by Terraform)';

/** How addresses Terraform computes are read: the whole internet (the text names it for the message). */
const ANY_ADDRESS = '0.0.0.0/0 (computed by Terraform: may be any address)';

function protocolOf(value: unknown): string {
  return isExpression(value) ? ANY_PROTOCOL : String(value);
}

/** The addresses of a rule; a list Terraform computes, or holding an expression, counts as the whole internet. */
function addressesOf(value: unknown): string[] {
  const list = [value ?? []].flat().map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  return isExpression(value) ? [...list, ANY_ADDRESS] : list;
}

function portOf(value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : String(value);
}

export function inboundRules(firewall: SynthesizedResource): InboundRule[] {
  // A direction Terraform computes may be either.
  return rulesOf(firewall).filter((r) => r.direction === 'in' || isExpression(r.direction))
    .map((r) => ({ protocol: protocolOf(r.protocol), port: portOf(r.port), sourceIps: addressesOf(r.source_ips), description: r.description }));
}

export function outboundRules(firewall: SynthesizedResource): OutboundRule[] {
  return rulesOf(firewall).filter((r) => r.direction === 'out' || isExpression(r.direction))
    .map((r) => ({ protocol: protocolOf(r.protocol), port: portOf(r.port), destinationIps: addressesOf(r.destination_ips), description: r.description }));
}

/**
 * The inclusive port range of a synthesized rule, read the way Hetzner reads it: a port, `a-b`,
 * `any` or nothing (every port). Text Hetzner would refuse counts as every port, so a malformed
 * rule is never read as harmless.
 */
export function portRangeOf(port: string | undefined): [number, number] {
  if (port === undefined || port.trim() === 'any') return [1, 65535];
  const match = /^\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?$/.exec(port);
  if (!match) return [1, 65535];
  const a = Number(match[1]);
  const b = Number(match[2] ?? match[1]);
  // A reversed range is read as the ports between its ends, never as matching nothing.
  return [Math.min(a, b), Math.max(a, b)];
}

/** Whether a rule's port (single, `a-b` range or `any`) covers `port`. */
export function coversPort(rule: { protocol: string; port?: string }, port: number): boolean {
  if (rule.protocol !== 'tcp' && rule.protocol !== 'udp' && rule.protocol !== ANY_PROTOCOL) return false;
  const [from, to] = portRangeOf(rule.port);
  return port >= from && port <= to;
}

/** Whether a rule's sources cover the whole IPv4 or IPv6 internet (by coverage, not by the text `/0`). */
export function isFromAnywhere(rule: InboundRule): boolean {
  return coversWholeInternet(rule.sourceIps.map((ip) => (ip === ANY_ADDRESS ? '0.0.0.0/0' : ip)));
}
