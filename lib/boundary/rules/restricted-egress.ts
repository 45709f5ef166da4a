import { BoundaryRule } from './rule';
import { outboundRules } from './firewall-rules';

const HELD_STRICT = ['sensitive', 'secret'];

export const restrictedEgress: BoundaryRule = {
  id: 'Boundary-RestrictedEgress',
  level: 'error',
  cause: 'A server holding sensitive or secret data has a firewall without outbound rules, so any process on it can send anything anywhere.',
  explanation: 'Where nothing may leave, egress is limited to what the machine needs (DNS, NTP, package mirrors, backup targets, allowed processors). Hetzner firewalls match IPs and ports, so they limit ports; the host allowlist limits hostnames.',
  enforcedAt: 'Hetzner Cloud Firewall (ports) and the host nftables allowlist (hostnames), both rendered at synth',
  evaluate: ({ resources }) => {
    const firewalls = new Map(resources.filter((r) => r.type === 'hcloud_firewall').map((f) => [`\${hcloud_firewall.${f.name}.id}`, f]));
    return resources.filter((r) => r.type === 'hcloud_server').flatMap((server) => {
      const labels = server.body.labels ?? {};
      const holdsStrict = HELD_STRICT.some((c) => labels[`data-${c}`] === 'true') || labels['data-class'] === undefined;
      if (!holdsStrict) return [];
      const attached = [server.body.firewall_ids ?? []].flat().map((id: string) => firewalls.get(id)).filter(Boolean);
      if (attached.some((f) => outboundRules(f!).length > 0)) return [];
      return [{
        path: server.path,
        message: `${server.path}.egress: 'allow all' is not allowed: the server holds ${labels['data-class'] ?? 'undeclared (counted as sensitive)'} data and its firewall has no outbound rules. Fix: apply EgressAllowlist to the machine (ProductStacks does this for app machines)`,
      }];
    });
  },
};
