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

function rulesOf(firewall: SynthesizedResource): any[] {
  return [firewall.body.rule ?? []].flat().filter((r: any) => r !== null && typeof r === 'object');
}

export function inboundRules(firewall: SynthesizedResource): InboundRule[] {
  return rulesOf(firewall).filter((r) => r.direction === 'in')
    .map((r) => ({ protocol: String(r.protocol), port: r.port === undefined || r.port === null ? undefined : String(r.port), sourceIps: [r.source_ips ?? []].flat(), description: r.description }));
}

export function outboundRules(firewall: SynthesizedResource): OutboundRule[] {
  return rulesOf(firewall).filter((r) => r.direction === 'out')
    .map((r) => ({ protocol: String(r.protocol), port: r.port === undefined || r.port === null ? undefined : String(r.port), destinationIps: [r.destination_ips ?? []].flat(), description: r.description }));
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
  if (rule.protocol !== 'tcp' && rule.protocol !== 'udp') return false;
  const [from, to] = portRangeOf(rule.port);
  return port >= from && port <= to;
}

/** Whether a rule's sources cover the whole IPv4 or IPv6 internet (by coverage, not by the text `/0`). */
export function isFromAnywhere(rule: InboundRule): boolean {
  return coversWholeInternet(rule.sourceIps);
}
