import { SynthesizedResource } from './rule';

/** An inbound firewall rule from a synthesized `hcloud_firewall`. */
export interface InboundRule {
  readonly protocol: string;
  readonly port?: string;
  readonly sourceIps: readonly string[];
  readonly description?: string;
}

export function inboundRules(firewall: SynthesizedResource): InboundRule[] {
  return [firewall.body.rule ?? []].flat()
    .filter((r: any) => r?.direction === 'in')
    .map((r: any) => ({ protocol: r.protocol, port: r.port, sourceIps: r.source_ips ?? [], description: r.description }));
}

export function outboundRules(firewall: SynthesizedResource): unknown[] {
  return [firewall.body.rule ?? []].flat().filter((r: any) => r?.direction === 'out');
}

/** Whether a rule's port (single, `a-b` range or `any`) covers `port`. */
export function coversPort(rule: InboundRule, port: number): boolean {
  if (rule.protocol !== 'tcp' && rule.protocol !== 'udp') return false;
  if (rule.port === undefined || rule.port === 'any') return true;
  const [from, to] = rule.port.split('-').map(Number);
  return port >= from && port <= (to ?? from);
}

export function isFromAnywhere(rule: InboundRule): boolean {
  return rule.sourceIps.some((ip) => /\/0$/.test(ip.trim()));
}
