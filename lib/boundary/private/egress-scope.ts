/**
 * What the host egress table of `EgressAllowlist` leaves open, and how it narrows the rest: one source for the
 * table and for the texts that describe it (the rule Boundary-RestrictedEgress, the boundary document).
 */

/** The private network's IPv4 ranges: open on every port (the Hetzner firewall does not filter the network either). */
export const PRIVATE_V4: readonly string[] = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];
/** Link-local IPv4, open on every port: Hetzner's metadata service and the gateway answer there. */
export const LINK_LOCAL_V4 = '169.254.0.0/16';
/** Link-local IPv6, open on every port. */
export const LINK_LOCAL_V6 = 'fe80::/10';
/** Where Hetzner's metadata service answers (cloud-init and the identity check ask it over HTTP). */
export const METADATA_SERVICE = '169.254.169.254';
/** IPv6 unique-local and multicast: open on every port but the TCP ports narrowed to hostnames. */
export const LOCAL_V6: readonly string[] = ['fc00::/7', 'ff00::/8'];
/** IPv4 multicast and broadcast: open on every port but the TCP ports narrowed to hostnames. */
export const LOCAL_V4: readonly string[] = ['224.0.0.0/4', '255.255.255.255'];

/** How the host table narrows DNS and NTP, in words. */
export const DNS_AND_NTP_NARROWED = 'DNS (53, UDP and TCP) only to the resolvers the machine is configured with (read from resolv.conf, '
  + 'or the servers systemd-resolved forwards to, at every refresh and whenever they change; Hetzner\'s when it names none), '
  + 'NTP (123/udp) only to its time servers (the allowlist\'s timeServers, Hetzner\'s by default)';

/** What the host table does not narrow, in words: one sentence. */
export const EGRESS_NOT_NARROWED = `Left open by the host table: loopback; the private network (${PRIVATE_V4.join(', ')}) and link-local `
  + `addresses (${LINK_LOCAL_V4}, where Hetzner's metadata service answers at ${METADATA_SERVICE}, and ${LINK_LOCAL_V6}) on every port; `
  + `IPv6 unique-local and multicast (${LOCAL_V6.join(', ')}), IPv4 multicast and broadcast (${LOCAL_V4.join(', ')}) on every port but `
  + 'the TCP ports narrowed to hostnames; replies to connections already open; and IP protocols other than TCP and UDP (ICMP and the '
  + 'like), which only the Hetzner firewall stops, on the public interface alone. What a DNS query carries reaches the resolver, '
  + 'and through it any name server (see "Declared, not enforced").';
