import { DataClass } from '../core/data-class';
import { ANYWHERE_IPV4, ANYWHERE_IPV6 } from '../core/cidr';
import { FirewallRule } from '../hetzner/firewall-rule';
import { Machine } from '../hetzner/machine';
import { BoundaryPolicy, PACKAGE_MIRROR_HOSTNAMES } from './boundary-policy';
import { DataFlow } from './data-flow';

const ANYWHERE = [ANYWHERE_IPV4, ANYWHERE_IPV6];
/** TCP ports the host allowlist narrows to allowlisted addresses. */
const ALLOWLISTED_TCP_PORTS = [23, 80, 443];

export interface EgressAllowlistOptions {
  /** The policy that decides which processors' hostnames are allowed. */
  readonly policy: BoundaryPolicy;
  /**
   * Further hostnames this machine needs, such as its backup targets.
   * @default - none
   */
  readonly hostnames?: string[];
}

/**
 * Limits what a machine holding sensitive or secret data can reach, in two layers:
 *
 * 1. its Hetzner Cloud Firewall gets outbound rules, which switch egress to deny-by-default:
 *    DNS (53), NTP (123/udp), HTTP/HTTPS (80, 443) and SSH to backup targets (23) only.
 *    Hetzner firewalls match IP blocks, not hostnames, so this layer limits ports, not hosts;
 * 2. on the host, an nftables allowlist lets TCP 23/80/443 reach only the addresses of
 *    allowlisted hostnames (Debian mirrors, backup targets, processors the policy allows for
 *    the machine's declared data flows), refreshed from DNS by a timer and before apt runs.
 *
 * Private-network traffic is not filtered by Hetzner and is left open on the host too: it
 * stays inside the control plane.
 */
export class EgressAllowlist {
  /** The hostnames the allowlist for `machine` holds. */
  public static hostnamesFor(machine: Machine, options: EgressAllowlistOptions): string[] {
    const processors = DataFlow.declaredIn(machine)
      .filter((flow) => options.policy.allows(flow.dataClass, flow.processor, flow.form))
      .flatMap((flow) => flow.processor.hostnames);
    return [...new Set([...PACKAGE_MIRROR_HOSTNAMES, ...options.policy.extraEgressHostnames, ...(options.hostnames ?? []), ...processors])];
  }

  /** Whether the boundary requires restricted egress for a machine. */
  public static isRequiredFor(machine: Machine): boolean {
    return machine.dataClasses.some((c) => c === DataClass.SENSITIVE || c === DataClass.SECRET);
  }

  /** Applies both layers to `machine`. The hostname list is read at synth, after every flow is declared. */
  public static apply(machine: Machine, options: EgressAllowlistOptions): void {
    machine.allowOutbound(FirewallRule.udpOut(53, ANYWHERE, { description: 'DNS' }));
    machine.allowOutbound(FirewallRule.tcpOut(53, ANYWHERE, { description: 'DNS over TCP' }));
    machine.allowOutbound(FirewallRule.udpOut(123, ANYWHERE, { description: 'NTP' }));
    machine.allowOutbound(FirewallRule.tcpOut(80, ANYWHERE, { description: 'HTTP (host allowlist narrows it)' }));
    machine.allowOutbound(FirewallRule.tcpOut(443, ANYWHERE, { description: 'HTTPS (host allowlist narrows it)' }));
    machine.allowOutbound(FirewallRule.tcpOut(23, ANYWHERE, { description: 'Storage Box SSH (host allowlist narrows it)' }));
    machine.addCloudInitPart({
      name: 'egress-allowlist',
      packages: ['nftables', 'dnsutils'],
      files: [
        { path: '/etc/sovereign/egress-hostnames', content: () => `${EgressAllowlist.hostnamesFor(machine, options).join('\n')}\n` },
        { path: '/etc/nftables.d/sovereign-egress.nft', content: EGRESS_RULESET },
        { path: '/usr/local/sbin/sovereign-egress-refresh', content: REFRESH_SCRIPT, permissions: '0755' },
        { path: '/etc/systemd/system/sovereign-egress-refresh.service', content: REFRESH_SERVICE },
        { path: '/etc/systemd/system/sovereign-egress-refresh.timer', content: REFRESH_TIMER },
        { path: '/etc/apt/apt.conf.d/05sovereign-egress', content: 'APT::Update::Pre-Invoke { "/usr/local/sbin/sovereign-egress-refresh || true"; };\n' },
      ],
      commands: [
        'nft -f /etc/nftables.d/sovereign-egress.nft',
        '/usr/local/sbin/sovereign-egress-refresh',
        'systemctl daemon-reload',
        'systemctl enable --now sovereign-egress-refresh.timer',
      ],
    });
  }
}

export const EGRESS_RULESET = `# Rendered by cdktf-sovereign-hetzner (EgressAllowlist): TCP ${ALLOWLISTED_TCP_PORTS.join('/')} only to allowlisted hosts.
table inet sovereign_egress {
  set allowed_v4 { type ipv4_addr; flags interval; }
  set allowed_v6 { type ipv6_addr; flags interval; }
  chain output {
    type filter hook output priority 0; policy accept;
    ct state established,related accept
    oifname "lo" accept
    ip daddr { 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 } accept
    tcp dport { ${ALLOWLISTED_TCP_PORTS.join(', ')} } ip daddr @allowed_v4 accept
    tcp dport { ${ALLOWLISTED_TCP_PORTS.join(', ')} } ip6 daddr @allowed_v6 accept
    tcp dport { ${ALLOWLISTED_TCP_PORTS.join(', ')} } counter reject with tcp reset
  }
}
`;

export const REFRESH_SCRIPT = `#!/bin/sh
# Resolves the allowlisted hostnames and replaces the nftables sets with their addresses.
# A hostname that does not resolve keeps nothing open; the script fails so the timer shows it.
set -eu
HOSTS_FILE=\${EGRESS_HOSTNAMES_FILE:-/etc/sovereign/egress-hostnames}
v4=""; v6=""; failed=0
while IFS= read -r host; do
  [ -n "$host" ] || continue
  a=$(dig +short A "$host" | grep -E '^[0-9.]+$' || true)
  aaaa=$(dig +short AAAA "$host" | grep -E '^[0-9a-fA-F:]+$' || true)
  [ -n "$a$aaaa" ] || { echo "sovereign-egress: $host does not resolve" >&2; failed=1; }
  for ip in $a; do v4="$v4\${v4:+, }$ip"; done
  for ip in $aaaa; do v6="$v6\${v6:+, }$ip"; done
done < "$HOSTS_FILE"
{
  echo "flush set inet sovereign_egress allowed_v4"
  echo "flush set inet sovereign_egress allowed_v6"
  [ -z "$v4" ] || echo "add element inet sovereign_egress allowed_v4 { $v4 }"
  [ -z "$v6" ] || echo "add element inet sovereign_egress allowed_v6 { $v6 }"
} | nft -f -
exit "$failed"
`;

const REFRESH_SERVICE = `[Unit]
Description=Refresh the egress allowlist from DNS
After=network-online.target
Wants=network-online.target

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/sovereign-egress-refresh
`;

const REFRESH_TIMER = `[Unit]
Description=Refresh the egress allowlist every 10 minutes

[Timer]
OnBootSec=1min
OnUnitActiveSec=10min

[Install]
WantedBy=timers.target
`;
