import { DataClass } from '../../core/data-class';
import { deliveryFindings } from '../private/allowlist-delivery';
import { allowlistFor } from '../private/egress-declarations';
import { DNS_AND_NTP_NARROWED, EGRESS_NOT_NARROWED } from '../private/egress-scope';
import { BoundaryRule, Finding } from './rule';
import { declareVolumesFix, describeServerHoldings, heldByServer } from './server-holdings';
import { firewallsAttachedTo } from './firewall-attachments';
import { outboundRules, portRangeOf } from './firewall-rules';

export const restrictedEgress: BoundaryRule = {
  id: 'Boundary-RestrictedEgress',
  level: 'error',
  cause: 'A server holding sensitive or secret data (its own, or on a volume attached to it) can send to destinations or ports outside its egress allowlist: no outbound rule (all egress open), no host allowlist, an outbound rule the allowlist does not narrow (a port range, another protocol, UDP other than DNS (53) and NTP (123)), or a host allowlist that may never reach the server: its user data or its rollout is not what the library built (an override or an Aspect changed it).',
  explanation: 'Where nothing may leave, egress is limited to what the machine needs (DNS, NTP, package mirrors, backup targets, allowed processors). '
    + 'Hetzner firewalls match addresses and ports, not names: the firewall opens only DNS (53, UDP and TCP), NTP (123/udp) and the TCP ports '
    + 'narrowed to hostnames (23, 80, 443, each one opened with EgressAllowlist.allowTcpPortTo or allowTcpPort, and each a construct opens for its destination, such as an S3 endpoint\'s or an alert relay\'s), each to every address. The host nftables table '
    + `narrows them, for the machine and its containers alike: each of those TCP ports only to the addresses of the allowlisted hostnames reached on it (each host on its own ports: 80 and 443 for mirrors and processors, a declared destination and allowTcpPortTo's hosts on their own, plus every port opened with EgressAllowlist.allowTcpPort), ${DNS_AND_NTP_NARROWED}; `
    + `every other TCP and UDP port is closed. ${EGRESS_NOT_NARROWED}`,
  enforcedAt: 'Hetzner Cloud Firewall (ports) and the host nftables allowlist (TCP to the allowlisted hostnames, DNS to the machine\'s resolvers, NTP to its time servers), both rendered at synth',
  evaluate: ({ resources, constructAt }) => {
    return resources.filter((r) => r.type === 'hcloud_server').flatMap((server): Finding[] => {
      // What its volumes hold too: the server mounts and reads them.
      const held = heldByServer(server, resources, constructAt);
      if (!held.classes.some((c) => c === DataClass.SENSITIVE || c === DataClass.SECRET)) return [];
      // Every firewall that reaches the server counts, however it is attached: Hetzner adds their rules together.
      const attached = firewallsAttachedTo(server, resources);
      // A firewall outside the stack may open any egress: its rules cannot be read, so it is refused.
      const unknown = attached.unknown.map(({ attribute, id }): Finding => ({
        path: server.path,
        message: `${server.path}.egress: 'firewall ${id}' (attached by ${attribute}) is not allowed: the server holds ${describeServerHoldings(held)} data, and that firewall is not defined in this stack, so its outbound rules, which Hetzner adds to the others, cannot be checked. `
          + 'Fix: attach only firewalls of this stack (the Machine\'s own firewall; add rules with machine.allowOutbound), or remove the attachment',
      }));
      const outbound = attached.firewalls.flatMap((f) => outboundRules(f));
      if (outbound.length === 0) {
        return [...unknown, {
          path: server.path,
          message: `${server.path}.egress: 'allow all' is not allowed: the server holds ${describeServerHoldings(held)} data and its firewall has no outbound rules. Fix: apply EgressAllowlist to the machine (ProductStacks does this for app machines)${declareVolumesFix(held)}`,
        }];
      }
      const construct = constructAt?.(server.path);
      const allowlist = construct ? allowlistFor(construct) : undefined;
      if (!allowlist) {
        return [...unknown, {
          path: server.path,
          message: `${server.path}.egress: '${outbound.map(describe).join('; ')}' is not allowed: the server holds ${describeServerHoldings(held)} data and no host allowlist narrows these rules to known hostnames. Fix: apply EgressAllowlist to the machine${declareVolumesFix(held)}`,
        }];
      }
      // DNS over TCP (53) is accepted too, but narrowed to the resolvers, not to hostnames.
      const accepted = new Set(allowlist.tcpPorts());
      // The allowlist is read from the construct tree: it counts only if what carries it reaches Terraform as built.
      const undelivered = deliveryFindings(server.path, allowlist.carriers(), resources);
      return [...unknown, ...undelivered, ...outbound.flatMap((rule): Finding[] => {
        const [from, to] = portRangeOf(rule.port);
        const single = from === to;
        const ok = (rule.protocol === 'udp' && single && allowlist.udpPorts.includes(from))
          || (rule.protocol === 'tcp' && single && accepted.has(from));
        if (ok) return [];
        return [{
          path: server.path,
          message: `${server.path}.egress: '${describe(rule)}' is not allowed: the server holds ${describeServerHoldings(held)} data, and its egress allowlist lets out only `
            + `TCP ${allowlist.narrowedTcpPorts().join(', ')} only to the addresses of its allowlisted hostnames, DNS (53, UDP and TCP) only to the resolvers `
            + `the machine is configured with and NTP (123/udp) only to its time servers (${allowlist.timeServers().join(', ')}). `
            + 'Fix: remove the rule, or open one TCP port at a time to the hosts that need it with EgressAllowlist.allowTcpPortTo(machine, Port.of(port), [host], purpose), which the host allowlist narrows to those hosts',
        }];
      })];
    });
  },
};

function describe(rule: { protocol: string; port?: string; destinationIps: readonly string[] }): string {
  return `${rule.protocol} ${rule.port ?? 'any'} to ${rule.destinationIps.join(', ') || 'nowhere'}`;
}
