import type { IMachine } from '../machine';
import type { BundlePart } from '../machine-bundle';
import {
  HOST_TABLES_LOADER, hostTableDefinition, hostTableNames, nftablesServiceDropIn, replacingTable, tableBootUnit,
} from './nftables-table';
import { privateAddressOf } from './private-address';
import { PRIVATE_INGRESS_CHECK, PRIVATE_INGRESS_RUNTIME_FILES, privateIngressCheckFiles } from './private-ingress-check';

// The host table that narrows what reaches a machine over its private network, which Hetzner's Cloud Firewalls do
// not filter. The constructs that open a port there declare who may reach it (PrivateIngress.allowTcp); the table
// admits those peers on those ports, replies, ICMP and DHCP, and drops everything else addressed to the private address.

/** One peer a construct declared: `from` may reach TCP `port` of the machine over the private network. */
export interface PrivateIngressRule {
  /** The peer machine. */
  readonly from: IMachine;
  /** The TCP port. */
  readonly port: number;
  /** Who needs it, such as "node exporter, scraped by acme-production-monitoring". */
  readonly purpose: string;
}

/** The table's names: its loader copy's, its definition's, its drop-in's, the table's own. */
const HOST_TABLE = hostTableNames('ip', 'sovereign-private-ingress');
export const PRIVATE_INGRESS_TABLE = HOST_TABLE.table;
export const PRIVATE_INGRESS_RULESET = '/etc/nftables.d/sovereign-private-ingress.nft';
export const PRIVATE_INGRESS_UNIT = 'sovereign-private-ingress.service';
export const PRIVATE_INGRESS_PART = 'private-network ingress';
/** Has nftables.service load the table in the transaction that flushes the ruleset (`systemctl restart nftables`). */
export const PRIVATE_INGRESS_NFTABLES_DROP_IN = HOST_TABLE.dropIn;
/** nftables.service's loader (`HOST_TABLES_LOADER`), this part's copy. */
export const PRIVATE_INGRESS_NFTABLES_LOADER = HOST_TABLE.loader;
/** The command that prints the table for the loader. */
export const PRIVATE_INGRESS_DEFINITION = HOST_TABLE.definition;

const declared = new WeakMap<IMachine, PrivateIngressRule[]>();

/** Records a declared peer for `machine`'s table. */
export function declarePrivateIngress(machine: IMachine, rule: PrivateIngressRule): void {
  declared.set(machine, [...(declared.get(machine) ?? []), rule]);
}

/** The peers declared for `machine`, in declaration order. */
export function privateIngressRules(machine: IMachine): readonly PrivateIngressRule[] {
  return [...(declared.get(machine) ?? [])];
}

/** A rule as the table writes it: the peer's private address (text, or a reference filled in at deploy). */
export interface RenderedIngressRule {
  readonly from: string;
  readonly port: number;
  readonly purpose: string;
}

/**
 * The table. Only what arrives for `address` (the machine's private address) over the interface that holds it is
 * narrowed: the public interface is the Hetzner firewall's, and loopback and containers' bridges (a container that
 * connects to the machine's private address) are the machine's own. The interface is found by the kernel at each
 * packet (`fib daddr . iif`), so the table names none: Hetzner's is `enp7s0` or `ens10` by server type. The private network is IPv4 only, so the
 * table is of family `ip` and leaves IPv6 alone. A port Docker or Podman publishes is translated (DNAT) to a
 * container's address before input would see it: the forward chain narrows what was addressed to the private
 * address by the connection's original destination, with the same peers.
 */
export function privateIngressRuleset(address: string, rules: readonly RenderedIngressRule[]): string {
  const allowed = (port: string) => rules.flatMap((r) => [`    # ${r.purpose}`, `    ip saddr ${r.from} ${port} ${r.port} accept`]);
  const lines = (list: string[]) => (list.length > 0 ? `${list.join('\n')}\n` : '');
  return `# Rendered by cdktf-sovereign-hetzner (PrivateIngress): what reaches this machine over its private network.
# Hetzner's Cloud Firewalls do not filter private networks; this table does, on the machine itself.
# Idempotent: loading it again replaces the table in one transaction.
${replacingTable(PRIVATE_INGRESS_TABLE, `  chain input {
    type filter hook input priority 0; policy accept;
    ip daddr != ${address} accept
    # Not arriving on the interface the private address is on (loopback, containers' bridges): not from the private network.
    fib daddr . iif type != local accept
    ct state established,related accept
    # Ping, and the errors path MTU discovery needs (the private network's MTU is 1450).
    ip protocol icmp accept
    # DHCP's answers: the private address is leased, and renewed, over the private network.
    udp sport 67 udp dport 68 accept
${lines(allowed('tcp dport'))}    counter drop
  }
  chain forward {
    type filter hook forward priority 0; policy accept;
    # Ports published to containers on the private address: judged by where the connection was sent.
    ct original ip daddr != ${address} accept
    ct state established,related accept
${lines(allowed('meta l4proto tcp ct original proto-dst'))}    counter drop
  }
`)}`;
}

/**
 * The machine's part: the table, the unit that loads it at every boot before the network (and so before the
 * private address exists), the drop-in that has nftables.service load it with /etc/nftables.conf in one transaction, and
 * the check that loads it again after any other flush and records whether it is there (`private-ingress-check.ts`). It activates first, so that on a new server nothing listens on the private address
 * before the table is there. The table is rendered at synth, once every construct has declared its peers.
 */
export function privateIngressPart(machine: IMachine): BundlePart {
  const address = privateAddressOf(machine);
  if (address === undefined) throw new Error(`privateIngressPart: ${machine.node.path} has no private network`);
  const rendered = () => privateIngressRules(machine).map((r) => ({ from: privateAddressOf(r.from)!, port: r.port, purpose: r.purpose }));
  return {
    name: PRIVATE_INGRESS_PART,
    activatesFirst: true,
    packages: ['nftables'],
    runtimeFiles: PRIVATE_INGRESS_RUNTIME_FILES,
    files: [
      { path: PRIVATE_INGRESS_RULESET, content: () => privateIngressRuleset(address, rendered()), check: ['nft', '-c', '-f', '{}'] },
      {
        path: `/etc/systemd/system/${PRIVATE_INGRESS_UNIT}`,
        content: tableBootUnit({
          description: `Private-network ingress: load the nftables table ${PRIVATE_INGRESS_TABLE} before the network comes up`,
          rulesetFile: PRIVATE_INGRESS_RULESET,
        }),
      },
      { path: PRIVATE_INGRESS_NFTABLES_DROP_IN, content: nftablesServiceDropIn('PrivateIngress', PRIVATE_INGRESS_NFTABLES_LOADER) },
      { path: PRIVATE_INGRESS_NFTABLES_LOADER, content: HOST_TABLES_LOADER, permissions: '0755' },
      { path: PRIVATE_INGRESS_DEFINITION, content: hostTableDefinition('PrivateIngress', `exec cat ${PRIVATE_INGRESS_RULESET}`), permissions: '0755' },
      ...privateIngressCheckFiles(),
    ],
    commands: [
      'systemctl daemon-reload',
      `systemctl enable ${PRIVATE_INGRESS_UNIT} ${PRIVATE_INGRESS_CHECK}.timer`,
      // Loads the table, or replaces it in one transaction.
      `systemctl reload-or-restart ${PRIVATE_INGRESS_UNIT}`,
      `systemctl start ${PRIVATE_INGRESS_CHECK}.timer`,
    ],
  };
}
