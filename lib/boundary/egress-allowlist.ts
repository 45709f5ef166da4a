import { TerraformStack, Token } from 'cdktf';
import { warnOnce } from '../core/private/warn-once';
import { DataClass } from '../core/data-class';
import { ANYWHERE_IPV4, ANYWHERE_IPV6, coversWholeInternet } from '../core/cidr';
import { Port } from '../core/port';
import { isReason, REASON_RULE } from '../core/reason';
import { fail, optionalArray, propNames, refuseUnknownProps, requireInstance, requireProps } from '../core/runtime-checks';
import { invalidValue } from '../core/validation-message';
import { CloudInit } from '../hetzner/cloud-init';
import { FirewallDirection, FirewallProtocol, FirewallRule } from '../hetzner/firewall-rule';
import type { IMachine, Machine } from '../hetzner/machine';
import { IDENTITY_UNIT } from '../hetzner/private/machine-identity';
import { TEXTFILE_DIR } from '../monitoring/private/paths';
import { requireMachine } from '../hetzner/private/require-machine';
import {
  HOST_TABLES_LOADER, HOST_TABLES_LOCK, hostTableDefinition, hostTableNames, nftablesServiceDropIn, replacingTable, tableBootUnit,
} from '../hetzner/private/nftables-table';
import { TableCheckOptions, tableCheckFiles, tableCheckPath, tableCheckRuntimeFiles } from '../hetzner/private/table-check';
import { resolveTemplate } from '../hetzner/private/terraform-template';
import { TEXTFILE_CD_FUNCTION } from '../monitoring/private/textfile-dir-shell';
import { BoundaryPolicy, PACKAGE_MIRRORS, requireCheckedPolicy } from './boundary-policy';
import { DataFlow } from './data-flow';
import { EgressHost, extraHostConflict, requireEgressHost } from './egress-host';
import { rolloutCarrier, userDataCarrier } from './private/allowlist-delivery';
import { AllowlistEntry, allowlistFor, recordAllowlist, SharedPort } from './private/egress-declarations';
import { LINK_LOCAL_V4, LINK_LOCAL_V6, LOCAL_V4, LOCAL_V6, PRIVATE_V4 } from './private/egress-scope';
import { hostnameProblem, Processor } from './processor';

const ANYWHERE = [ANYWHERE_IPV4, ANYWHERE_IPV6];
/** TCP ports the host allowlist always narrows to allowlisted addresses: Storage Box SSH, HTTP, HTTPS. */
const ALLOWLISTED_TCP_PORTS = [23, 80, 443];
/**
 * The TCP ports a host the allowlist holds for itself (a package mirror, a processor's API, an extra host) is reached
 * on: HTTP and HTTPS. A declared destination is reached on its own port: a Storage Box's 23 or a probe's 8443
 * opened to every allowlisted host would let a model provider's API be reached on it too. Every host, declared
 * destinations included, is reached as well on each port opened with `EgressAllowlist.allowTcpPort` (`sharedPorts`).
 */
const WEB_TCP_PORTS = [80, 443];
/** UDP out: DNS and NTP, which every machine needs; the host narrows them to its resolvers and time servers. */
const ALLOWED_UDP_PORTS = [53, 123];

/**
 * Hetzner's recursive resolvers, which its cloud servers are configured with (DHCP, cloud-init;
 * docs.hetzner.com, primary IP configuration): the host lets DNS reach them when the machine names
 * no resolver of its own.
 */
export const HETZNER_RESOLVERS: readonly string[] = ['185.12.64.1', '185.12.64.2', '2a01:4ff:ff00::add:1', '2a01:4ff:ff00::add:2'];
const HETZNER_RESOLVERS_V4 = HETZNER_RESOLVERS.filter((a) => !a.includes(':'));
const HETZNER_RESOLVERS_V6 = HETZNER_RESOLVERS.filter((a) => a.includes(':'));

/** Hetzner's time servers, which its Debian images configure for systemd-timesyncd. */
export const HETZNER_TIME_SERVERS: readonly string[] = ['ntp1.hetzner.de', 'ntp2.hetzner.com', 'ntp3.hetzner.net'];

/** What an egress allowlist allows: the policy's processors and any further hostnames. */
export interface EgressAllowlistOptions {
  /** The policy that decides which processors' hostnames are allowed. */
  readonly policy: BoundaryPolicy;
  /**
   * Further hosts this machine needs, each with what it is for: `EgressHost.publicOnly('pypi.org', { reason })`
   * for a host that receives nothing beyond public data, published with its reason in boundary.md. A bare string
   * is refused, and so is a processor's API or a known model provider's (that is a `DataFlow`). Constructs that
   * give a machine a destination (backups, monitoring) declare it themselves with `EgressAllowlist.requireHostnames`.
   * A `Lazy` host is checked like text once it resolves at synth; a value only Terraform knows (a variable) cannot
   * be, and synth warns (`Egress-UncheckedHostname`) that the allowlist opens whatever it names at deploy.
   * @default - none
   */
  readonly hostnames?: EgressHost[];
  /**
   * The time servers the machine synchronizes with: systemd-timesyncd is pinned to them, and NTP
   * (123/udp) reaches only their addresses, resolved like the allowlisted hostnames. Use names whose
   * addresses do not rotate: a pool name that answers differently at each refresh loses the server
   * timesyncd picked.
   * @default - Hetzner's: ntp1.hetzner.de, ntp2.hetzner.com, ntp3.hetzner.net (what its Debian images configure)
   */
  readonly timeServers?: string[];
}

/** A destination a construct declared for a machine: who needs it, and the TCP port it is reached on. */
export interface RequiredDestination {
  /** The host (a token when it is known only at deploy, such as a Storage Box's). */
  readonly hostname: string;
  /** Who needs it, such as "backup target (Storage Box in hel1)". */
  readonly purpose: string;
  /** The TCP port it is reached on, one port (`Port.of(23)`); the host table lets the machine reach the host on it alone. */
  readonly port: Port;
  /**
   * The TCP port it is reached on, as a number.
   * @deprecated read `port.from`: the port is a `Port` since 0.2.0, as every other port of the library
   */
  readonly portNumber: number;
  /**
   * Whether the machine only probes it (an uptime check: a connection, a TLS handshake, a request for a public URL),
   * sending none of its data: declared with `requireProbeTargets`.
   * @default false
   */
  readonly probe?: boolean;
}

/** Hostnames declared on machines by the constructs that need them (backup targets, alert receivers). */
const required = new WeakMap<IMachine, RequiredDestination[]>();

/** The TCP ports opened with `allowTcpPort`, which every allowlisted host is reached on. */
const opened = new WeakMap<IMachine, Set<number>>();

/** The units of each machine that send data off it, declared with `guardUnits`. */
const guarded = new WeakMap<IMachine, Set<string>>();
/**
 * A service unit's name, a template's instance included (`acme@blue.service`). Not a template itself
 * (`acme@.service`): systemd reads `Before=acme@.service` in the table's unit as `acme@sovereign-egress.service`,
 * so its instances would require the table without starting after it.
 */
const SERVICE_UNIT = /^[A-Za-z0-9:_.-]+(@[A-Za-z0-9:_.-]+)?\.service$/;

/**
 * Limits what a machine holding sensitive or secret data can reach, in two layers:
 *
 * 1. its Hetzner Cloud Firewall gets outbound rules, which switch egress to deny-by-default:
 *    DNS (53), NTP (123/udp), HTTP/HTTPS (80, 443) and SSH to backup targets (23) only, plus
 *    single TCP ports opened with `allowTcpPortTo` (or `allowTcpPort`). Hetzner firewalls match IP blocks, not
 *    hostnames, so this layer limits ports, not hosts;
 * 2. on the host, an nftables allowlist lets every allowed TCP port reach only the addresses of
 *    allowlisted hostnames, each on its own host's ports (80 and 443 for the mirrors, processors and extra
 *    hosts; a declared destination on its declared port, `allowTcpPortTo`'s hosts on theirs; `allowTcpPort`'s for every
 *    host, which synth warns of, `Boundary-PortToEveryHost`), refreshed from DNS by a
 *    timer and before apt runs; DNS reaches only the
 *    resolvers the machine is configured with (read from resolv.conf, or systemd-resolved's list
 *    behind its stub, at every refresh and whenever they change; Hetzner's when it names none) and
 *    NTP only the time servers systemd-timesyncd is pinned to (`timeServers`); what containers or
 *    VMs on the machine send (the forward hook) is narrowed the same way, and every other TCP or
 *    UDP port to a public address is closed on the host too, so a route out through the private
 *    network (which the Hetzner firewall does not filter) opens nothing more. The hostnames come
 *    from the policy (every processor it names, whatever flows are declared), the package mirrors, the
 *    policy's extra hostnames, and what the machine's constructs declare (`requireHostnames`:
 *    backup targets, alert receivers). A unit (`sovereign-egress.service`) loads the table at every
 *    boot, before the network comes up, and the units that send data (`guardUnits`: the backup jobs,
 *    the restore drill, the prober's Prometheus, Alertmanager and blackbox exporter, your app) start
 *    only after it and not at all when it failed. On a new server the allowlist is the first part of the
 *    bundle to activate: the rollout installs and loads it before it installs any other part's packages
 *    or starts their units. `systemctl restart nftables` (or reload, or stop), whose /etc/nftables.conf flushes
 *    the ruleset, loads it in the same transaction through a drop-in, with the addresses the last refresh loaded. The
 *    refresh loads it again if it has gone missing any other way, and records its outcome for node
 *    exporter's textfile collector (`sovereign_egress_refresh_success`,
 *    `sovereign_egress_refresh_timestamp_seconds`, `sovereign_egress_table_present`).
 *
 * Private-network traffic is not filtered by Hetzner, and this table leaves it open: it stays inside the
 * control plane. What reaches the machine over the private network is narrowed by its `PrivateIngress` table.
 */
export class EgressAllowlist {
  /** The hostnames the allowlist for `machine` holds. */
  public static hostnamesFor(machine: IMachine, options: EgressAllowlistOptions): string[] {
    // A caller's options are checked like apply's (a null from JavaScript was a TypeError); apply's own pass.
    requireMachine('EgressAllowlist.hostnamesFor', 'machine', machine);
    const at = `${machine.node.path}.egressAllowlist`;
    requireProps(at, options, 'pass { policy: product.boundary }');
    requireCheckedPolicy(at, 'policy', options.policy, 'pass the product\'s BoundaryPolicy');
    checkExtraHosts(at, options.hostnames, options.policy);
    return allowlistEntries(machine, options).map((e) => e.hostname);
  }

  /** Whether the boundary requires restricted egress for a machine. */
  public static isRequiredFor(machine: IMachine): boolean {
    return machine.dataClasses.some((c) => c === DataClass.SENSITIVE || c === DataClass.SECRET);
  }

  /**
   * Declares hostnames `machine` must reach over TCP `port` (a backup target on 23, an alert
   * receiver on 443), for its allowlist: whoever applies the allowlist, these are in it. Constructs
   * that give a machine a destination (BackupPlan, RestoreDrill, EnvironmentMonitoring,
   * ErrorMonitoring) call it themselves, so no stack can forget one.
   *
   * At synth the machine refuses a declared destination its firewall cannot reach: once a machine
   * has outbound rules, egress is deny-by-default, and `port` must be open to the internet.
   *
   * It is the constructs' route, judged like an extra host of `apply`: `purpose` is published beside the hosts in
   * boundary.md and must be a specific reason (at least 20 letters), and a host that is a processor's API (the
   * policy's) or a known model provider's is refused unless the stack declares a `DataFlow` to that processor. A
   * host of your own that receives only public data is an `EgressHost.publicOnly` in `apply`'s hostnames.
   *
   * @param port the TCP port it is reached on, one port: `Port.of(23)`. Default: 443.
   */
  public static requireHostnames(machine: IMachine, hostnames: string[], purpose: string, port?: Port): void;
  /**
   * @deprecated pass the port as a `Port` (`Port.of(23)`), as every other port of the library is given since 0.2.0. Synth
   * warns (`Egress-DeclaredPortNarrowed`) of a port declared so beyond 80 and 443: 0.1's table let every allowlisted host
   * through on it, and since 0.2 only the hosts declared on it are.
   */
  public static requireHostnames(machine: IMachine, hostnames: string[], purpose: string, port: number): void;
  public static requireHostnames(machine: IMachine, hostnames: string[], purpose: string, port: Port | number = Port.of(443)): void {
    declareDestinations(machine, hostnames, purpose, port, false, false, typeof port === 'number');
  }

  /**
   * Declares hosts `machine` probes on TCP `port` (an uptime check: a connection, a TLS handshake, a request for a
   * public URL), for its allowlist, like `requireHostnames`. A probe sends none of the machine's data, so a host that is
   * the API of a processor the policy names passes without a `DataFlow`: the allowlist lets every such processor
   * through already, and the probe opens nothing more. The host table cannot tell a probe from a request, so any other
   * probed host is open to every program on the machine on `port` like a declared destination: a model provider's API the policy
   * does not name is refused here too, and boundary.md lists each probed host with its purpose.
   * @param port the TCP port it is probed on, one port. Default: 443.
   */
  public static requireProbeTargets(machine: IMachine, hostnames: string[], purpose: string, port: Port = Port.of(443)): void {
    declareDestinations(machine, hostnames, purpose, port, true, false);
  }

  /** The destinations the machine's constructs declared with `requireHostnames` and `requireProbeTargets` (`probe: true`). */
  public static requiredDestinations(machine: IMachine): readonly RequiredDestination[] {
    return [...(required.get(machine) ?? [])];
  }

  /**
   * Opens TCP `port` out of `machine` to `hostnames` alone (a mail relay on 587, an artifact store on 8443): declares
   * them on the port for the allowlist (`requireHostnames`, with `purpose` published beside them in boundary.md) and
   * opens the firewall for it. The host allowlist lets no other host through on the port, a model provider's API
   * included. On a machine whose egress nothing restricts yet (no outbound rule, no sensitive data) no rule is added: it
   * reaches every port already, and a first rule would close the others; `apply`, called later, opens the port. On a public
   * machine whose egress you restricted by hand, with no allowlist, a call after its first outbound rule opens the port to
   * every address, the hosts unnarrowed; a call before it opens nothing, and synth refuses the port, naming the rule to add.
   * @param port one TCP port, such as `Port.of(587)`
   * @param hostnames the hosts reached on it, at least one
   * @param purpose what the hosts are and what the machine sends them (at least 20 letters), as `requireHostnames` takes it
   */
  public static allowTcpPortTo(machine: IMachine, port: Port, hostnames: string[], purpose: string): void {
    requireMachine('EgressAllowlist.allowTcpPortTo', 'machine', machine);
    const at = `${machine.node.path}.egress`;
    requireInstance(at, 'port', port, Port, 'pass one TCP port, such as Port.of(587)');
    // The call's own mistakes are named at the call (<path>.egress), as the port's type is; a host's at the host it declares.
    if (!port.isSingle) fail(at, 'port', port.toString(), 'a port opened to named hosts is one TCP port, and this is a range', `pass one port of it, such as Port.of(${port.from})`);
    // Left out (plain JavaScript) or empty, no host is declared on the port, and the firewall would open it to every allowlisted host.
    if (!Array.isArray(hostnames) || hostnames.length === 0) {
      fail(at, 'hostnames', hostnames, Array.isArray(hostnames) || hostnames === undefined || hostnames === null
        ? 'a port opened to no host opens nothing the table lets through' : 'the hosts are a list', "name the hosts reached on it, such as ['smtp.acme.eu']");
    }
    declareDestinations(machine, hostnames, purpose, port, false, false);
    // The team's own call: opened on a machine whose egress it restricted by hand too.
    openPort(machine, port.from, purpose);
  }

  /**
   * Opens one more TCP port out of `machine`; the host allowlist narrows it to the allowlisted hostnames, every one of
   * them, the policy's processors' APIs included. Synth warns (`Boundary-PortToEveryHost`, a boundary rule you can
   * suppress with the reason when every allowlisted host does need the port), as it does for a single TCP port opened with
   * `machine.allowOutbound` on which no destination is declared. Called again for a port it opened, it adds nothing: the
   * first call's rule and description stay.
   * @deprecated open the port to the hosts that need it: `allowTcpPortTo(machine, Port.of(587), [host], purpose)`
   */
  public static allowTcpPort(machine: IMachine, port: number, description: string): void {
    requireMachine('EgressAllowlist.allowTcpPort', 'machine', machine);
    const single = Port.of(port, `${machine.node.path}.egress`);
    // Called again for the port (two constructs of the team's, say), it is open already: a second rule would take
    // one of the firewall's 50 for nothing, and the warning would come twice. The first call keeps its description.
    if (opened.get(machine)?.has(single.from)) return;
    opened.set(machine, new Set([...(opened.get(machine) ?? []), single.from]));
    const rule = FirewallRule.tcpOut(single.from, ANYWHERE, { description });
    allowTcpPortRules.add(rule);
    machine.allowOutbound(rule);
  }

  /**
   * Declares systemd services of `machine` that send data off it (backup jobs, alert senders, your
   * app): on a machine with the allowlist they start only after its table is loaded, and not at all
   * when loading it failed (a failed load at boot leaves them stopped, not running unfiltered). The
   * constructs that add such units (BackupPlan, RestoreDrill, EnvironmentMonitoring) declare theirs.
   * On a machine without the allowlist it changes nothing.
   */
  public static guardUnits(machine: IMachine, units: string[]): void {
    const at = `${machine?.node?.path ?? 'EgressAllowlist'}.guardedUnits`;
    requireMachine('EgressAllowlist.guardUnits', 'machine', machine);
    const list = optionalArray(at, 'units', units, "list service units such as ['acme.service']", (u, prop) => checkGuardedUnit(at, prop, u)) ?? [];
    const set = guarded.get(machine) ?? new Set<string>();
    for (const u of list) set.add(u);
    guarded.set(machine, set);
  }

  /** The units of `machine` declared with `guardUnits`, sorted. */
  public static guardedUnits(machine: IMachine): string[] {
    return [...(guarded.get(machine) ?? [])].sort();
  }

  /** The TCP ports the host allowlist of `machine` narrows: the fixed ones and every single TCP port its firewall opens out. */
  public static narrowedTcpPorts(machine: IMachine): number[] {
    const opened = machine.egressRules
      .filter((r) => r.direction === FirewallDirection.OUT && r.protocol === FirewallProtocol.TCP && r.ports?.isSingle)
      .map((r) => r.ports!.from);
    // DNS over TCP (53) goes to the machine's resolvers, like DNS over UDP (their own set in the table); it
    // reaches allowlisted hostnames too only when a construct declared a destination on it (a TCP uptime check).
    const declared53 = (required.get(machine) ?? []).some((d) => d.port.from === 53);
    return [...new Set([...ALLOWLISTED_TCP_PORTS, ...opened])].filter((p) => p !== 53 || declared53).sort((a, b) => a - b);
  }

  /** Applies both layers to `machine`. The hostname list is read at synth, after everything is declared. */
  public static apply(machine: IMachine, options: EgressAllowlistOptions): void {
    requireMachine('EgressAllowlist.apply', 'machine', machine);
    const at = `${machine.node.path}.egressAllowlist`;
    // Refused before anything is added: a second call would open the firewall's ports again and
    // replace the hostnames the first one recorded, then stop at the bundle's part of the same name.
    if (allowlistFor(machine.server)) {
      fail(machine, 'egressAllowlist', 'EgressAllowlist.apply', 'the allowlist is applied to this machine already, and a machine has one',
        'call EgressAllowlist.apply once per machine, with every extra host in its hostnames; constructs that give the machine a destination add theirs with EgressAllowlist.requireHostnames');
    }
    requireProps(at, options, 'pass { policy: product.boundary }');
    refuseUnknownProps(at, undefined, options, propNames<EgressAllowlistOptions>({ policy: true, hostnames: true, timeServers: true }));
    const policy = requireCheckedPolicy(at, 'policy', options.policy, 'pass the product\'s BoundaryPolicy');
    const hostnames = checkExtraHosts(at, options.hostnames, policy);
    const timeServers = [...(optionalArray(at, 'timeServers', options.timeServers, "list time servers such as ['ntp1.hetzner.de']", (h, prop) => checkHostname(at, prop, h)) ?? HETZNER_TIME_SERVERS)];
    // What was checked is what is read at synth: a copy, frozen, so that a caller's object edited
    // afterwards (another policy, a host pushed onto its list) never reaches the table or boundary.md.
    const checked: EgressAllowlistOptions = Object.freeze({ policy, ...(hostnames ? { hostnames: Object.freeze([...hostnames]) as EgressHost[] } : {}) });
    if (timeServers.length === 0) fail(at, 'timeServers', [], 'the machine would have no time source, and backups refuse to run on an unsynchronized clock', "leave it out for Hetzner's time servers, or name at least one");
    checkTokensAtSynth(machine, at, 'hostnames', (hostnames ?? []).map((h) => h.hostname), true);
    // A flow's processor is known once the stack is built: an extra host that is its API is a flow, not an extra.
    if (hostnames?.length) machine.node.addValidation({ validate: () => flowConflicts(machine, at, hostnames) });
    checkTokensAtSynth(machine, at, 'timeServers', timeServers, true);
    // The firewall leaves DNS and NTP open to every address: the host narrows them to the resolvers the
    // machine reads at runtime and to the time servers' addresses, neither known at synth (a firewall
    // matches addresses, not names), and Hetzner lets its own resolvers through anyway. Narrowing the
    // firewall to Hetzner's resolvers would break a machine configured with others and close nothing
    // the host does not, which also covers routes through the private network the firewall never sees.
    for (const rule of [
      FirewallRule.udpOut(53, ANYWHERE, { description: 'DNS' }),
      FirewallRule.tcpOut(53, ANYWHERE, { description: 'DNS over TCP' }),
      FirewallRule.udpOut(123, ANYWHERE, { description: 'NTP' }),
      FirewallRule.tcpOut(80, ANYWHERE, { description: 'HTTP (host allowlist narrows it)' }),
      FirewallRule.tcpOut(443, ANYWHERE, { description: 'HTTPS (host allowlist narrows it)' }),
      FirewallRule.tcpOut(23, ANYWHERE, { description: 'Storage Box SSH (host allowlist narrows it)' }),
    ]) {
      allowlistRules.add(rule);
      machine.allowOutbound(rule);
    }
    // The ports asked for while the machine had no outbound rule (allowTcpPortTo, a construct's destination called before apply).
    for (const [port, description] of pending.get(machine) ?? []) openPort(machine, port, description);
    pending.delete(machine);
    // User data runs at first boot, before the first rollout can load the table: nothing there may run.
    machine.node.addValidation({ validate: () => firstBootRunners(machine) });
    // Read at synth, with every rule of the team's, those added after apply too.
    machine.node.addValidation({ validate: () => { duplicateRuleWarnings(machine); return []; } });
    recordAllowlist(machine.server, {
      path: machine.node.path,
      policy,
      udpPorts: ALLOWED_UDP_PORTS,
      // DNS over TCP goes to the resolvers like DNS over UDP.
      tcpPorts: () => [...new Set([53, ...EgressAllowlist.narrowedTcpPorts(machine)])],
      narrowedTcpPorts: () => EgressAllowlist.narrowedTcpPorts(machine),
      sharedTcpPorts: () => sharedPortRules(machine),
      hostnames: () => EgressAllowlist.hostnamesFor(machine, checked),
      entries: () => allowlistEntries(machine, checked),
      timeServers: () => [...timeServers],
      // Read at synth: the rollout exists once the bundle has a part (the allowlist's, added below).
      carriers: () => [userDataCarrier(machine.server), ...((machine as Machine).rollout ? [rolloutCarrier((machine as Machine).rollout!.resource)] : [])],
    });
    // Delivered again on every rollout: the commands are idempotent, and the table's boot path is
    // a unit (sovereign-egress.service), not a one-time command, so it survives reboots.
    machine.addBundlePart({
      name: 'egress-allowlist',
      // Before every other part: on a new server, nothing another part installs or starts runs without the table.
      activatesFirst: true,
      // systemd-timesyncd: the time client the drop-in pins (Hetzner's images ship it; the backup jobs read its state).
      packages: ['nftables', 'dnsutils', 'systemd-timesyncd'],
      // The refresh's metric: left behind, its last value kept the egress alerts firing for a machine without the allowlist.
      runtimeFiles: [`${TEXTFILE_DIR}/sovereign_egress.prom`, ...tableCheckRuntimeFiles(EGRESS_CHECK)],
      files: [
        // Root's alone: some hostnames come from secrets (the heartbeat's URL, the offsite endpoint), and only the refresh (root) reads it.
        { path: HOSTNAMES_FILE, content: () => hostnamesFile(allowlistEntries(machine, checked)), permissions: '0600' },
        { path: TIME_SERVERS_FILE, content: () => `${timeServers.join('\n')}\n` },
        { path: TIMESYNCD_DROP_IN, content: () => timesyncdDropIn(timeServers) },
        { path: RULESET_FILE, content: () => egressRuleset(EgressAllowlist.narrowedTcpPorts(machine)), check: ['nft', '-c', '-f', '{}'] },
        { path: REFRESH, content: REFRESH_SCRIPT, permissions: '0755' },
        { path: EGRESS_NFTABLES_DROP_IN, content: NFTABLES_DROP_IN },
        { path: NFTABLES_LOADER, content: HOST_TABLES_LOADER, permissions: '0755' },
        { path: TABLE_DEFINITION, content: TABLE_DEFINITION_SCRIPT, permissions: '0755' },
        { path: `${UNITS}/${BOOT_UNIT}`, content: () => bootService(EgressAllowlist.guardedUnits(machine)) },
        { path: `${UNITS}/${REFRESH_UNIT}.service`, content: REFRESH_SERVICE },
        { path: `${UNITS}/${REFRESH_UNIT}.timer`, content: REFRESH_TIMER },
        { path: `${UNITS}/${REFRESH_UNIT}.path`, content: REFRESH_PATH },
        ...tableCheckFiles(EGRESS_CHECK),
        { path: '/etc/apt/apt.conf.d/05sovereign-egress', content: `APT::Update::Pre-Invoke { "${REFRESH} || true"; };\n` },
      ],
      commands: [
        'systemctl daemon-reload',
        // reenable: the guarded units' requirement (RequiredBy=) follows the unit file when the list changes.
        `systemctl reenable ${BOOT_UNIT} ${REFRESH_UNIT}.timer ${REFRESH_UNIT}.path ${EGRESS_CHECK_UNIT}.timer`,
        // Loads the table (or reloads it in one transaction). Never a restart: the guarded units require
        // the unit, and a restart would restart them too (a running backup among them).
        `systemctl reload-or-restart ${BOOT_UNIT}`,
        // Fills the sets before the other parts' commands run (their first backup, their first alert). A
        // hostname that does not resolve, or DNS still slow, fails no rollout: the timer retries, the alert says so.
        `systemctl start ${REFRESH_UNIT}.service || echo "sovereign-egress: the first refresh failed (journalctl -u ${REFRESH_UNIT}); the timer retries it" >&2`,
        `systemctl start ${REFRESH_UNIT}.timer ${REFRESH_UNIT}.path ${EGRESS_CHECK_UNIT}.timer`,
        // Picks up the pinned time servers (a no-op when timesyncd is not running).
        'systemctl try-restart systemd-timesyncd.service',
      ],
    });
  }
}

/**
 * `requireHostnames` and `requireProbeTargets` as the library's constructs call them (BackupPlan, RestoreDrill, the
 * monitoring): the destinations are marked as the library's, so synth can tell a port only they are declared on from one
 * the team declared a host of its own on (`claimedPortWarnings`).
 */
export function requireConstructDestinations(machine: IMachine, hostnames: string[], purpose: string, port: Port = Port.of(443), probe = false): void {
  declareDestinations(machine, hostnames, purpose, port, probe, true);
}

/** The destinations a construct of the library declared (`requireConstructDestinations`), not the team. */
const byConstructs = new WeakSet<RequiredDestination>();
/** The destinations declared with 0.1's call, the port a number (`requireHostnames`' deprecated overload). */
const byNumber = new WeakSet<RequiredDestination>();

/** `requireHostnames` and `requireProbeTargets`: checks the destinations and records them for the machine's allowlist. */
function declareDestinations(machine: IMachine, hostnames: string[], purpose: string, port: Port | number, probe: boolean, byConstruct: boolean, asNumber = false): void {
  const path = machine?.node?.path ?? 'EgressAllowlist';
  const at = `${path}.egressHostnames`;
  requireMachine(`EgressAllowlist.${probe ? 'requireProbeTargets' : 'requireHostnames'}`, 'machine', machine);
  // Each host is named as the machine's destination, egressHostnames[i] counted across every call, as the refusal
  // of a model provider's API names it, not by its place in this call's list.
  const declared = required.get(machine)?.length ?? 0;
  const list = (optionalArray(at, 'hostnames', hostnames, "list hostnames such as ['u123.your-storagebox.de']", (h) => h) ?? [])
    .map((h, i) => checkHostname(path, `egressHostnames[${declared + i}]`, h));
  // A bad purpose or port is refused at the host it was declared for, as the other refusals of a destination are.
  const slot = `egressHostnames[${declared}${list.length > 1 ? `..${declared + list.length - 1}` : ''}]`;
  const hosts = list.map((h) => (Token.isUnresolved(h) ? 'a host known at deploy' : h)).join(', ');
  // A call with no host declares nothing, but a bad purpose or port is still a mistake: said of the call, not of a host.
  const where = list.length > 0 ? slot : 'egressHostnames';
  const what = list.length > 0 ? `the destination ${hosts}` : 'a declaration of no host (the hostnames list is empty)';
  // Published beside the hosts in boundary.md and the only thing said of them: held to a reason like an extra host's.
  if (!isReason(purpose)) {
    fail(path, `${where}.purpose`, purpose, `${what} needs a specific purpose, published beside it in boundary.md (${REASON_RULE})`,
      "say what the host is and what the machine sends it, such as 'backup target the nightly restic backups are written to'");
  }
  const single = destinationPort(`${path}.${where}`, what, port);
  // A deploy-time host declared here carries its purpose into boundary.md ("known at deploy"), so it is not warned about.
  checkTokensAtSynth(machine, path, 'egressHostnames', list, false, declared);
  if (!required.has(machine)) {
    machine.node.addValidation({ validate: () => {
      claimedPortWarnings(machine);
      numberPortWarnings(machine);
      return [...unreachableDestinations(machine), ...processorDestinations(machine)];
    } });
  }
  // Frozen: a caller holding what requiredDestinations returns cannot turn a checked destination into a probe or another host.
  const records = list.map((hostname): RequiredDestination => Object.freeze({ hostname, purpose, port: Port.of(single), portNumber: single, ...(probe ? { probe } : {}) }));
  if (byConstruct) for (const r of records) byConstructs.add(r);
  if (asNumber) for (const r of records) byNumber.add(r);
  required.set(machine, [...(required.get(machine) ?? []), ...records]);
}

/**
 * The allowlist of `machine`, each hostname once (first origin first) with every reason it is on
 * it: the one list the host table and the boundary document both read, so they cannot disagree.
 */
function allowlistEntries(machine: IMachine, options: EgressAllowlistOptions): AllowlistEntry[] {
  const entries = new Map<string, { origins: string[]; ports: Set<number> }>();
  const add = (hostname: string, origin: string, ports: readonly number[]) => {
    const entry = entries.get(hostname) ?? { origins: [], ports: new Set<number>() };
    if (!entry.origins.includes(origin)) entry.origins.push(origin);
    for (const p of ports) entry.ports.add(p);
    entries.set(hostname, entry);
  };
  const shared = sharedPorts(machine);
  const own = [...WEB_TCP_PORTS, ...shared];
  for (const [h, what] of Object.entries(PACKAGE_MIRRORS)) add(h, what, own);
  for (const h of options.policy.extraEgressHostnames) add(h.hostname, h.describe("the policy's extraEgressHostnames"), own);
  for (const h of options.hostnames ?? []) add(h.hostname, h.describe('EgressAllowlist.apply'), own);
  // A probe is said to be one, and what the table does with its host: it cannot tell a probe from any other connection.
  for (const r of required.get(machine) ?? []) {
    add(r.hostname, r.probe ? `${r.purpose} (probed on TCP ${r.port}: the probe sends no data, but the host is open to every program on the machine on that port)`
      : `${r.purpose} (declared for TCP ${r.port})`, [r.port.from, ...shared]);
  }
  // Derived from the policy, not from declared flows: a machine holding sensitive data may send
  // what the policy allows (scrubbed first) to any processor it names, and nothing else.
  for (const p of options.policy.processors) {
    for (const h of p.hostnames) add(h, `declared processor ${p.name} (${p.legalSeat?.city}, ${p.legalSeat?.country})`, own);
  }
  return [...entries].map(([hostname, e]) => ({ hostname, origins: e.origins, ports: [...e.ports].sort((a, b) => a - b) }));
}

/**
 * The TCP ports every allowlisted host is reached on, as every narrowed port was before: each opened with
 * `allowTcpPort` (the team opened it for the allowlist, not for one host), and a single TCP port the firewall opens
 * that no declared destination is reached on (a rule added with `machine.allowOutbound`). A declared destination's
 * port is its host's alone.
 */
function sharedPorts(machine: IMachine): number[] {
  const declared = new Set((required.get(machine) ?? []).map((d) => d.port.from));
  const unclaimed = EgressAllowlist.narrowedTcpPorts(machine).filter((p) => !ALLOWLISTED_TCP_PORTS.includes(p) && !declared.has(p));
  return [...new Set([...(opened.get(machine) ?? []), ...unclaimed])];
}

/** The rules `apply` adds (DNS, NTP, 23, 80, 443): the allowlist's own, never named as a rule of the team's. */
const allowlistRules = new WeakSet<FirewallRule>();

/**
 * Each port every allowlisted host is reached on (`sharedPorts`) through the firewall, with the descriptions of the team's
 * rules that open it and of the constructs' destinations declared on it. Not 80 and 443, which every host the allowlist
 * holds for itself is reached on anyway; nor a port only rules to a few addresses open (the firewall lets no other host through).
 */
function sharedPortRules(machine: IMachine): SharedPort[] {
  const viaAllowTcpPort = opened.get(machine) ?? new Set<number>();
  return sharedPorts(machine).filter((port) => !WEB_TCP_PORTS.includes(port)).sort((a, b) => a - b).flatMap((port): SharedPort[] => {
    const rules = machine.egressRules.filter((r) => r.direction === FirewallDirection.OUT && r.protocol === FirewallProtocol.TCP && r.ports?.isSingle && r.ports.from === port);
    if (!viaAllowTcpPort.has(port) && !rules.some((r) => coversWholeInternet(r.peers))) return [];
    const declared = (required.get(machine) ?? []).filter((d) => d.port.from === port && byConstructs.has(d)).map((d) => d.purpose);
    return [{
      port,
      byAllowTcpPort: viaAllowTcpPort.has(port),
      rules: rules.filter((r) => !allowlistRules.has(r)).map((r) => r.description),
      declaredByConstructs: [...new Set(declared)],
    }];
  });
}

/** The firewall rules the library's constructs added for the destinations they declare on the port (`allowDestinationPort`). */
const forDestinations = new WeakSet<FirewallRule>();

/**
 * Opens TCP `port` out of `machine` for the destinations a construct of the library declares on it (a probe's 8443,
 * an alert relay's 587, an offsite endpoint's port): the host allowlist lets only the hosts declared on it through.
 * Unlike a rule the team adds with `machine.allowOutbound`, synth knows this one was added for them (`claimedPortWarnings`).
 */
function allowDestinationPort(machine: IMachine, port: number, description: string): void {
  const rule = FirewallRule.tcpOut(port, ANYWHERE, { description });
  forDestinations.add(rule);
  machine.allowOutbound(rule);
}

/** The rules `allowTcpPort` added. */
const allowTcpPortRules = new WeakSet<FirewallRule>();

/**
 * A warning for each rule of the team's that opens out to every address a single port a rule of the library opens already
 * (the allowlist's 80, 443, 23, DNS and NTP; a port `allowTcpPortTo`, `allowTcpPort` or a construct opened), naming both:
 * the constructs add no rule where the team's came first (`apply`'s own rules are always added), but one added after them
 * stood beside theirs in the firewall, one of Hetzner's 50 rules taken for nothing. Not where Egress-PortClaimed already names the team's rule (a
 * port only the library's constructs declared hosts on).
 */
function duplicateRuleWarnings(machine: IMachine): void {
  const single = machine.egressRules.filter((r) => r.direction === FirewallDirection.OUT && r.ports?.isSingle);
  const byLibrary = (r: FirewallRule) => allowlistRules.has(r) || forDestinations.has(r) || allowTcpPortRules.has(r);
  const claimed = (port: number) => {
    const onPort = (required.get(machine) ?? []).filter((d) => d.port.from === port);
    return onPort.length > 0 && onPort.every((d) => byConstructs.has(d)) && !ALLOWLISTED_TCP_PORTS.includes(port) && !opened.get(machine)?.has(port);
  };
  for (const library of single.filter(byLibrary)) {
    const port = library.ports!.from;
    if (library.protocol === FirewallProtocol.TCP && forDestinations.has(library) && claimed(port)) continue;
    const team = single.filter((r) => !byLibrary(r) && r.protocol === library.protocol && r.ports!.from === port && coversWholeInternet(r.peers));
    if (team.length === 0) continue;
    const what = `${library.protocol.toUpperCase()} ${port}`;
    warnOnce(machine, `Egress-DuplicateRule: ${machine.node.path}.egress: ${what} out to every address is opened twice, by the library's rule '${library.description}' `
      + `and by your rule ${team.map((r) => `'${r.description}'`).join(', ')}: the firewall holds both, one of Hetzner's 50 rules taken for nothing, and the host `
      + `allowlist narrows the port the same way with either. Fix: remove your rule (from the machine's egress, or the allowOutbound call); the library's opens the port.`);
  }
}

/** By machine, the TCP ports asked for while it had no outbound rule and no allowlist, with their rules' descriptions: `apply` opens them. */
const pending = new WeakMap<IMachine, Map<number, string>>();

/**
 * Opens TCP `port` out of `machine` for a destination a construct declares on it (a backup or drill target's S3 port, an
 * alert relay's 587), with `allowDestinationPort`, where the host allowlist narrows it to the declared hosts: the allowlist
 * is applied, or the machine's data requires it (applied after the construct, as ProductStacks does). A machine whose
 * egress the team restricted by hand, with no allowlist, keeps its rules as the team wrote them: a rule to every address
 * would widen them without a word, and nothing would narrow it to the host (SMTP 25 to anywhere). Synth refuses the
 * destination instead, naming the one rule to add (`unreachableDestinations`). If the allowlist is applied later, `apply`
 * opens the port.
 */
export function openDestinationPort(machine: IMachine, port: Port, description: string): void {
  if (!allowlistFor(machine.server) && !EgressAllowlist.isRequiredFor(machine)) {
    remember(machine, port.from, description);
    return;
  }
  openPort(machine, port.from, description);
}

/**
 * Opens TCP `port` out of `machine` for the hosts declared on it (a construct's destination, `allowTcpPortTo`'s hosts), on
 * a machine whose egress is deny-by-default or will be. A machine with no outbound rule reaches every port, and a first
 * rule would close the others: the port waits for `apply`. A port the allowlist opens anyway (23, 80, 443, each opened
 * with `allowTcpPort`), or one opened for a destination already, is not opened again.
 */
function openPort(machine: IMachine, port: number, description: string): void {
  // allowTcpPort's port is open to every allowlisted host already, the destination among them.
  if (ALLOWLISTED_TCP_PORTS.includes(port) || opened.get(machine)?.has(port)) return;
  if (machine.egressRules.some((r) => forDestinations.has(r) && r.ports?.from === port)) return;
  // A rule of the team's opens the port to every address already (asked for before apply, the rule added before it):
  // a second would take one of the firewall's 50 rules for nothing. Not on a port a construct declared a host on, whose
  // own rule lets the team's go (Egress-PortClaimed says so).
  if (openedToEveryAddress(machine, port) && !(required.get(machine) ?? []).some((d) => d.port.from === port && byConstructs.has(d))) return;
  if (machine.egressRules.length === 0 && !EgressAllowlist.isRequiredFor(machine)) {
    remember(machine, port, description);
    return;
  }
  allowDestinationPort(machine, port, description);
}

/** Whether a rule of `machine`'s opens TCP `port` alone out to the whole internet: what opens it for any declared host. */
function openedToEveryAddress(machine: IMachine, port: number): boolean {
  return machine.egressRules.some((r) => r.direction === FirewallDirection.OUT && r.protocol === FirewallProtocol.TCP && r.ports?.isSingle
    && r.ports.from === port && coversWholeInternet(r.peers));
}

/** A port `apply` opens if it comes: the first asked for keeps its description. */
function remember(machine: IMachine, port: number, description: string): void {
  const ports = pending.get(machine) ?? new Map<number, string>();
  if (!ports.has(port)) ports.set(port, description);
  pending.set(machine, ports);
}

/**
 * A warning for each port only the library's constructs declared destinations on, that a rule of the team opens: while
 * no destination was declared on it, that rule opened the port to every allowlisted host (`sharedPorts`); now only the
 * declared hosts are reached on it, and another host gets a TCP reset at runtime. A port the team declared a host of its
 * own on is not warned of: the team knows the port is per host (allowTcpPort's recipe for one host on a port).
 */
function claimedPortWarnings(machine: IMachine): void {
  if (!allowlistFor(machine.server)) return;
  const shared = new Set([...ALLOWLISTED_TCP_PORTS, ...(opened.get(machine) ?? [])]);
  const declared = (required.get(machine) ?? []).filter((d) => !shared.has(d.port.from));
  const single = machine.egressRules.filter((r) => r.direction === FirewallDirection.OUT && r.protocol === FirewallProtocol.TCP && r.ports?.isSingle);
  for (const port of new Set(declared.map((d) => d.port.from))) {
    const onPort = declared.filter((d) => d.port.from === port);
    if (!onPort.every((d) => byConstructs.has(d))) continue;
    const rules = single.filter((r) => r.ports!.from === port);
    const team = rules.filter((r) => !forDestinations.has(r));
    if (team.length === 0) continue;
    // Each host once, with every purpose it is declared for on the port.
    const purposes = new Map<string, string[]>();
    for (const d of onPort) purposes.set(d.hostname, [...new Set([...(purposes.get(d.hostname) ?? []), d.purpose])]);
    const hosts = [...purposes].map(([h, p]) => `${Token.isUnresolved(h) ? 'a host known at deploy' : h} (${p.join('; ')})`).join(', ');
    // A construct opened the port itself (allowDestinationPort), so the rule may go; or the rule is what opens it for them.
    const rest = team.length < rules.length ? 'If nothing else uses the port, remove the rule: the construct opened it for its hosts itself.'
      : 'If the rule is there for these hosts alone, nothing stopped working: keep it, no construct opens the port for them.';
    warnOnce(machine, `Egress-PortClaimed: ${machine.node.path}: TCP ${port}, which the rule ${team.map((r) => `'${r.description}'`).join(', ')} opens out, `
      + `reaches only ${hosts}: a construct of the library declared them on the port, which makes it the declared hosts' alone, so the host allowlist no longer lets `
      + `the other allowlisted hosts through on it, and a program reaching one of them on TCP ${port} (an extra host, a ping URL with :${port}) gets a TCP reset. `
      + `Fix: if another host needs TCP ${port}, open it to that host too with EgressAllowlist.allowTcpPortTo(machine, Port.of(${port}), [host], purpose), which declares `
      + `the host on the port alone (and ends this warning); or open the port with EgressAllowlist.allowTcpPort(machine, ${port}, '…') instead of the rule (deprecated), which opens it `
      + `to every allowlisted host, the policy's processors' APIs included (Boundary-PortToEveryHost). ${rest}`);
  }
}

/**
 * A warning for each port a host was declared on with 0.1's call (`requireHostnames(machine, hosts, purpose, 587)`, the port
 * a number), when the port is no longer every allowlisted host's: 0.1's table let every allowlisted host through on every
 * narrowed port, so a program reaching another host on it (an extra host, a Storage Box of its own on 23) gets a TCP reset
 * since 0.2, without a word at synth. Not for 80 and 443 (every host the allowlist holds for itself keeps them), nor for a
 * port opened with `allowTcpPort` (still every host's). Passing the port as a `Port`, the overload of 0.2, ends it: it says
 * the port is the declared hosts' alone.
 */
function numberPortWarnings(machine: IMachine): void {
  if (!allowlistFor(machine.server)) return;
  const shared = new Set([...WEB_TCP_PORTS, ...(opened.get(machine) ?? [])]);
  const declared = (required.get(machine) ?? []).filter((d) => !shared.has(d.port.from));
  for (const port of new Set(declared.filter((d) => byNumber.has(d)).map((d) => d.port.from))) {
    const hosts = [...new Set(declared.filter((d) => d.port.from === port).map((d) => (Token.isUnresolved(d.hostname) ? 'a host known at deploy' : d.hostname)))].join(', ');
    warnOnce(machine, `Egress-DeclaredPortNarrowed: ${machine.node.path}: TCP ${port}, declared with EgressAllowlist.requireHostnames(machine, hosts, purpose, ${port}) `
      + `(the port as a number, 0.1's call), reaches only the hosts declared on it (${hosts}): 0.1's host table let every allowlisted host through on it, `
      + `0.2's lets each host through on its own ports only, so a program reaching another host on TCP ${port} (an extra host, a mirror, a processor's API) gets a TCP reset. `
      + `Fix: declare each other host that needs TCP ${port} on it, EgressAllowlist.allowTcpPortTo(machine, Port.of(${port}), [host], purpose); then pass the port as `
      + `Port.of(${port}) in the requireHostnames call, which says the port is the declared hosts' alone and ends this warning.`);
  }
}

/**
 * The refresh's hostnames file: a line `ports 80 443`, then the hosts reached on those TCP ports, for each set of ports
 * (in the allowlist's order). A host the table must not reach on a port is never under that port's line.
 */
function hostnamesFile(entries: readonly AllowlistEntry[]): string {
  const groups = new Map<string, string[]>();
  for (const e of entries) groups.set(e.ports.join(' '), [...(groups.get(e.ports.join(' ')) ?? []), e.hostname]);
  return [...groups].map(([ports, hosts]) => [`ports ${ports}`, ...hosts, ''].join('\n')).join('');
}

/**
 * The declared destinations `machine`'s firewall cannot reach. A machine without outbound rules
 * reaches everything (Hetzner's default); one with them reaches only what a TCP rule to the whole
 * internet opens, since a hostname's addresses are not known at synth.
 */
function unreachableDestinations(machine: IMachine): string[] {
  const rules = machine.egressRules;
  if (rules.length === 0) return [];
  const open = (port: number) => rules.some((r) => r.protocol === FirewallProtocol.TCP && r.includesPort(port) && coversWholeInternet(r.peers));
  // One refusal a port, naming every host declared on it: one rule opens the port for them all.
  const byPort = new Map<number, RequiredDestination[]>();
  for (const d of required.get(machine) ?? []) {
    if (!open(d.port.from)) byPort.set(d.port.from, [...(byPort.get(d.port.from) ?? []), d]);
  }
  return [...byPort].map(([port, onPort]) => {
    const hosts = [...new Set(onPort.map((d) => (Token.isUnresolved(d.hostname) ? `the ${d.purpose} (known at deploy)` : d.hostname)))];
    const purposes = [...new Set(onPort.map((d) => d.purpose))];
    return invalidValue(machine, 'egress', `${hosts.join(', ')} on TCP ${port}`,
      `${purposes.length === 1 ? `the ${purposes[0]} needs it` : `the ${purposes.join(', the ')} need it`}, and the machine's outbound rules `
        + `(${rules.map((r) => r.description).join('; ')}) do not open TCP ${port} to ${hosts.length === 1 ? 'it' : 'them'}, so it would fail at runtime`,
      ALLOWLISTED_TCP_PORTS.includes(port)
        ? `restrict egress with EgressAllowlist.apply(machine, { policy }), which opens it and narrows it to the declared hosts, or add FirewallRule.tcpOut(${port}, FirewallRule.ANYWHERE)`
        : allowlistFor(machine.server)
          ? `open it for the ${hosts.length === 1 ? 'host' : 'hosts'} alone, EgressAllowlist.allowTcpPortTo(machine, Port.of(${port}), [${hosts.length === 1 ? 'host' : 'hosts'}], purpose) (EgressAllowlist.apply opens TCP 23, 80 and 443 only)`
          // The team restricted egress by hand: the library adds no rule to its firewall, it names the one rule that opens the port.
          : `open TCP ${port} alone, machine.allowOutbound(FirewallRule.tcpOut(${port}, FirewallRule.ANYWHERE, { description: '${purposes.join('; ').replace(/'/g, '\\\'')}' })): `
            + `without an egress allowlist nothing narrows it to the ${hosts.length === 1 ? 'host' : 'hosts'}; or apply EgressAllowlist to the machine, which opens the port for the declared hosts alone`);
  });
}

/**
 * The declared destinations of a machine with the allowlist that are a processor's API (the policy's or a flow's) or a
 * known model provider's, judged like an extra host: a purpose would publish them, but what a machine sends a
 * processor is a data flow, judged by seat, class and form. A processor's API passes when a flow to that processor is
 * declared in the machine's stack (ErrorMonitoring declares its endpoint's flow beside the destination).
 */
function processorDestinations(machine: IMachine): string[] {
  const allowlist = allowlistFor(machine.server);
  if (!allowlist) return [];
  const { flows, processors } = processorsOf(machine);
  return (required.get(machine) ?? []).flatMap((d, i) => {
    const resolved = hostAtSynth(machine, d.hostname);
    if (resolved === undefined || flows.some((p) => p.hostnames.includes(resolved))) return [];
    // A probe sends none of the machine's data, and a processor the policy names is on the allowlist already: the probe
    // opens nothing the policy did not. Any other processor's or model provider's API it would open to every program.
    if (d.probe && allowlist.policy.processors.some((p) => p.hostnames.includes(resolved))) return [];
    const conflict = extraHostConflict(resolved, processors, 'do not declare it with EgressAllowlist.requireHostnames');
    return conflict ? [invalidValue(machine, `egressHostnames[${i}]`, resolved, `it is declared as the ${d.purpose}, but ${conflict[0].replace(/^it /, '')}`, conflict[1])] : [];
  });
}

/**
 * The machine's first-boot cloud-init parts that run something (commands, packages, whose maintainer scripts start
 * services): cloud-init runs them when the server is created, before the first rollout loads the table, with egress
 * open to every host the Hetzner firewall lets through (TCP 443 to anywhere).
 */
function firstBootRunners(machine: IMachine): string[] {
  const cloudInit = (machine as { cloudInit?: CloudInit }).cloudInit;
  return (cloudInit?.parts ?? []).flatMap((part) => {
    const packages = part.packages ?? [];
    const commands = part.commands ?? [];
    if (packages.length === 0 && commands.length === 0) return [];
    const runs = [...(packages.length > 0 ? [`packages ${packages.join(', ')}`] : []), ...(commands.length > 0 ? [`${commands.length} command(s)`] : [])];
    return [invalidValue(machine, 'cloudInit', `part '${part.name}' (${runs.join('; ')})`,
      'first-boot cloud-init runs when the server is created, before the first rollout loads the egress allowlist, so what it installs or starts '
        + 'reaches any host the Hetzner firewall lets through (TCP 443 to anywhere)',
      'move the part to the bundle (machine.addBundlePart with the same packages, files and commands): the rollout activates the allowlist '
        + 'before it installs or starts any other part; declare its services that send data with EgressAllowlist.guardUnits')];
  });
}

/**
 * The extra hosts given to `apply` (or `hostnamesFor`): each an `EgressHost`, in the allowlist's format, and
 * neither a processor's API of `policy` nor a known model provider's (a token's value is judged at synth).
 */
function checkExtraHosts(at: string, list: unknown, policy: BoundaryPolicy): EgressHost[] | undefined {
  return optionalArray(at, 'hostnames', list, "list hosts such as [EgressHost.publicOnly('pypi.org', { reason: '…' })]", (h, prop) => {
    const host = requireEgressHost(at, prop, h);
    checkHostname(at, prop, host.hostname);
    const conflict = Token.isUnresolved(host.hostname) ? undefined : extraHostConflict(host.hostname, policy.processors, 'remove it from the extra hosts');
    if (conflict) fail(at, prop, host.hostname, ...conflict);
    return host;
  });
}

/**
 * The extra hosts of `machine` that are the API of a processor a flow of its stack names, or (given as a `Lazy`)
 * of the policy's processors or a model provider: judged at synth, when the flows are declared and tokens resolve.
 */
function flowConflicts(machine: IMachine, at: string, hosts: readonly EgressHost[]): string[] {
  const { processors } = processorsOf(machine);
  return hosts.flatMap((h, i) => {
    const resolved = hostAtSynth(machine, h.hostname);
    if (resolved === undefined) return [];
    const conflict = extraHostConflict(resolved, processors, 'remove it from the extra hosts');
    return conflict ? [invalidValue(at, `hostnames[${i}]`, resolved, ...conflict)] : [];
  });
}

/** The processors `machine` may send to: those its stack's flows name, and with them its allowlist policy's. */
function processorsOf(machine: IMachine): { readonly flows: readonly Processor[]; readonly processors: readonly Processor[] } {
  const flows = DataFlow.declaredIn(TerraformStack.of(machine)).map((f) => f.processor);
  return { flows, processors: [...(allowlistFor(machine.server)?.policy.processors ?? []), ...flows] };
}

/** The host as synth knows it (a `Lazy` resolved), or `undefined` when only Terraform knows it (Egress-UncheckedHostname says so). */
function hostAtSynth(machine: IMachine, hostname: string): string | undefined {
  const resolved = Token.isUnresolved(hostname) ? resolveTemplate(machine, hostname) : hostname;
  return typeof resolved === 'string' && !resolved.includes('${') ? resolved : undefined;
}

/**
 * The one TCP port a declared destination is reached on, from a `Port` or (deprecated) a number: a range, a number
 * outside 1-65535 or text from JavaScript is refused naming the host it was declared for.
 */
/** `what`: the destination the port is for, as messages name it ("the destination u1.your-storagebox.de"). */
function destinationPort(at: string, what: string, port: unknown): number {
  const fix = 'pass one TCP port, such as Port.of(443)';
  if (port instanceof Port) {
    if (!port.isSingle) fail(at, 'port', port.toString(), `${what} is reached on one TCP port, and this is a range`, `pass one port of it, such as Port.of(${port.from})`);
    return port.from;
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    fail(at, 'port', port, `${what} is reached on a TCP port, a whole number from 1 to 65535`, fix);
  }
  return port as number;
}

function checkHostname(at: string, prop: string, h: unknown): string {
  // Tokens (a Lazy value, a bucket endpoint from a variable) are checked at synth, when they resolve: checkTokensAtSynth.
  if (typeof h === 'string' && Token.isUnresolved(h)) return h;
  const problem = hostnameProblem(h);
  if (problem) fail(at, prop, h, problem, HOSTNAME_FIX);
  return h as string;
}

function checkGuardedUnit(at: string, prop: string, u: unknown): string {
  if (typeof u === 'string' && /^[^@]+@\.service$/.test(u)) {
    fail(at, prop, u, 'it is a template, and the table\'s unit cannot be ordered before a template\'s instances (systemd reads the name as its own instance)',
      "name each instance, such as 'acme@blue.service'");
  }
  if (typeof u !== 'string' || !SERVICE_UNIT.test(u)) {
    fail(at, prop, u, 'it is not the name of a systemd service', "name the service with its suffix, such as 'acme.service'");
  }
  // Units the table's own unit starts after, or is: requiring the table would be a cycle.
  if ([BOOT_UNIT, `${REFRESH_UNIT}.service`, 'nftables.service'].includes(u as string)) {
    fail(at, prop, u, `${BOOT_UNIT} starts after it or is it, so requiring the table would be an ordering cycle`, 'guard only the services that send data off the machine');
  }
  // The clone check stops a clone's jobs and removes its secrets: it must run whatever became of the table.
  if (u === IDENTITY_UNIT) {
    fail(at, prop, u, 'it stops the jobs of a server cloned from another one and must run even when the table failed to load', 'guard only the services that send data off the machine');
  }
  return u as string;
}

const HOSTNAME_FIX = "write only the host, such as 'u123.your-storagebox.de'";

/**
 * The hostnames of `list` given as tokens, checked once the app is built: a `Lazy` that produces
 * text is held to the same format as a literal (it would otherwise reach the host table and the
 * boundary document unchecked), and a value Terraform computes at deploy (a variable, an attribute)
 * cannot be checked here at all. With `warn`, such a value is recorded in a warning: whatever reason the
 * caller gave, synth cannot judge the host, and a wrong one would only show as a refresh failure on the machine.
 */
function checkTokensAtSynth(machine: IMachine, at: string, prop: string, list: readonly string[], warn: boolean, first = 0): void {
  const tokens = list.map((hostname, i) => ({ hostname, prop: `${prop}[${first + i}]` })).filter((t) => Token.isUnresolved(t.hostname));
  if (tokens.length === 0) return;
  machine.node.addValidation({
    validate: () => tokens.flatMap((t) => {
      const resolved = resolveTemplate(machine, t.hostname);
      if (typeof resolved === 'string' && resolved.includes('${')) {
        if (warn) warnOnce(machine, `Egress-UncheckedHostname: ${at}.${t.prop} is \`${resolved}\`, known only at deploy, so synth cannot check that it is a hostname `
          + 'and the allowlist will let the machine reach whatever it names then. Fix: pass the host as text where you can; otherwise make sure the value is a DNS name '
          + "such as 'u123.your-storagebox.de' (no scheme, port or path), or declare it with EgressAllowlist.requireHostnames and a purpose.");
        return [];
      }
      const problem = hostnameProblem(resolved);
      return problem ? [invalidValue(at, t.prop, resolved, `${problem} (the value was given as a token)`, HOSTNAME_FIX)] : [];
    }),
  });
}

const HOSTNAMES_FILE = '/etc/sovereign/egress-hostnames';
const TIME_SERVERS_FILE = '/etc/sovereign/egress-time-servers';
/** Named to sort after the drop-ins that name servers (Hetzner's hetzner.conf): it resets their lists. */
const TIMESYNCD_DROP_IN = '/etc/systemd/timesyncd.conf.d/zz-sovereign-egress.conf';
/** Where the machine names its resolvers, and where systemd-resolved (when /etc/resolv.conf points at its stub) lists the ones it forwards to. */
const RESOLV_CONF = '/etc/resolv.conf';
const RESOLVED_UPSTREAM = '/run/systemd/resolve/resolv.conf';
const RULESET_FILE = '/etc/nftables.d/sovereign-egress.nft';
const REFRESH = '/usr/local/sbin/sovereign-egress-refresh';
/** The addresses the last refresh loaded into the sets, kept for nftables.service's loader (`--print`) and the check (`--restore`) to load with the table. */
const KEPT_SETS_FILE = '/var/lib/sovereign/egress/last-sets.nft';
/**
 * The refresh's lock: its loads and its save of the kept addresses, its `--restore` (the check's), and nftables.service's
 * loads, one at a time (`HOST_TABLES_LOCK`, in a directory of root's alone).
 */
const LOCK_FILE = HOST_TABLES_LOCK;
/** The table's names: its loader copy's, its definition's, its drop-in's, the table's own. */
const EGRESS_HOST_TABLE = hostTableNames('inet', 'sovereign-egress');
/** The table's check: its refresh runs every 10 minutes, and a flush no drop-in follows left outbound traffic open until then. */
export const EGRESS_CHECK_UNIT = 'sovereign-egress-check';
/** Has nftables.service load the table, with the addresses the last refresh loaded, in the transaction that flushes the ruleset. */
export const EGRESS_NFTABLES_DROP_IN = EGRESS_HOST_TABLE.dropIn;
/** nftables.service's loader (`HOST_TABLES_LOADER`), this part's copy, and the command that prints the table for it. */
const NFTABLES_LOADER = EGRESS_HOST_TABLE.loader;
const TABLE_DEFINITION = EGRESS_HOST_TABLE.definition;
const UNITS = '/etc/systemd/system';
const BOOT_UNIT = 'sovereign-egress.service';
const REFRESH_UNIT = 'sovereign-egress-refresh';
const TABLE = EGRESS_HOST_TABLE.table;

/**
 * The table, loadable again at any time in one `nft -f` transaction: the first line creates the
 * table when it is missing, so the `delete` always succeeds, and the new definition replaces the
 * old one atomically; there is no moment without the table. The hostname and time server sets start
 * empty (nothing is open) and the resolver sets with Hetzner's resolvers, until
 * `sovereign-egress-refresh` fills them with what the machine uses.
 */
export function egressRuleset(tcpPorts: readonly number[]): string {
  const narrowing = (hook: string, extra: string[]) => [
    `  chain ${hook} {`,
    `    type filter hook ${hook} priority 0; policy accept;`,
    '    ct state established,related accept',
    ...extra,
    `    ip daddr { ${PRIVATE_V4.join(', ')} } accept`,
    // Link-local stays on the link: Hetzner's metadata service (169.254.169.254, which cloud-init and
    // the identity check ask over HTTP; its own table keeps it root-only) and the gateway.
    `    ip daddr ${LINK_LOCAL_V4} accept`,
    `    ip6 daddr ${LINK_LOCAL_V6} accept`,
    // DNS only to the machine's resolvers, NTP only to its time servers: to any other address both
    // would carry whatever a program sends, no DNS or NTP needed.
    '    meta l4proto { tcp, udp } th dport 53 ip daddr @resolvers_v4 accept',
    '    meta l4proto { tcp, udp } th dport 53 ip6 daddr @resolvers_v6 accept',
    '    udp dport 123 ip daddr @time_servers_v4 accept',
    '    udp dport 123 ip6 daddr @time_servers_v6 accept',
    // Each address on its own ports: a probe target's 8443 opens 8443 to that host, not to every allowlisted one. The
    // sets hold single address . port pairs, a plain concatenated set: no interval flag, whose range type needs Linux 5.6.
    `    tcp dport { ${tcpPorts.join(', ')} } ip daddr . tcp dport @allowed_v4 accept`,
    `    tcp dport { ${tcpPorts.join(', ')} } ip6 daddr . tcp dport @allowed_v6 accept`,
    `    tcp dport { ${tcpPorts.join(', ')} } counter reject with tcp reset`,
    // Every other port too: the Hetzner firewall limits ports on the public interface only, and
    // traffic routed out through the private network (a NAT gateway) never meets it.
    `    ip6 daddr { ${LOCAL_V6.join(', ')} } accept`,
    `    ip daddr { ${LOCAL_V4.join(', ')} } accept`,
    '    meta l4proto tcp counter reject with tcp reset',
    '    meta l4proto udp counter reject',
    '  }',
  ].join('\n');
  return `# Rendered by cdktf-sovereign-hetzner (EgressAllowlist): TCP ${tcpPorts.join('/')} only to allowlisted hosts, each on its own ports.
# Idempotent: loading it again replaces the table in one transaction.
# Containers and VMs (Docker, Podman, libvirt) send through the forward hook, not output: both are narrowed.
# DNS goes only to the machine's resolvers, NTP only to its time servers; other TCP and UDP ports are
# closed here as at the Hetzner firewall, which private-network routes bypass.
${replacingTable(TABLE, `  set allowed_v4 { type ipv4_addr . inet_service; }
  set allowed_v6 { type ipv6_addr . inet_service; }
  set resolvers_v4 { type ipv4_addr; flags interval; elements = { ${HETZNER_RESOLVERS_V4.join(', ')} }; }
  set resolvers_v6 { type ipv6_addr; flags interval; elements = { ${HETZNER_RESOLVERS_V6.join(', ')} }; }
  set time_servers_v4 { type ipv4_addr; flags interval; }
  set time_servers_v6 { type ipv6_addr; flags interval; }
${narrowing('output', ['    oifname "lo" accept'])}
${narrowing('forward', [])}
`)}`;
}

/**
 * systemd-timesyncd's drop-in: the empty assignments drop the lists read before (Hetzner's
 * hetzner.conf, Debian's pool as fallback), so timesyncd asks only the servers NTP may reach.
 */
function timesyncdDropIn(timeServers: readonly string[]): string {
  return [
    '# Rendered by cdktf-sovereign-hetzner (EgressAllowlist): NTP (123/udp) reaches only these servers.',
    '[Time]', 'NTP=', `NTP=${timeServers.join(' ')}`, 'FallbackNTP=', `FallbackNTP=${timeServers.join(' ')}`, '',
  ].join('\n');
}

/** The table for the fixed ports (23, 80, 443); a machine with more TCP ports open gets them narrowed too. */
export const EGRESS_RULESET = egressRuleset(ALLOWLISTED_TCP_PORTS);

/**
 * `sovereign-egress-refresh`: fills the sets, first loading the table when it is missing, and
 * records its outcome for node exporter's textfile collector in `sovereign_egress.prom`:
 * `sovereign_egress_refresh_success` (1/0), `sovereign_egress_refresh_timestamp_seconds` and
 * `sovereign_egress_table_present` (1/0, after the run). The resolvers come from the machine's own
 * configuration, read at every run; the allowlisted hostnames and the time servers from DNS, through
 * those resolvers. `EGRESS_HOSTNAMES_FILE`, `EGRESS_TIME_SERVERS_FILE`, `EGRESS_RULESET_FILE`,
 * `EGRESS_TEXTFILE_DIR`, `EGRESS_RESOLV_CONF` and `EGRESS_RESOLVED_UPSTREAM` override its paths.
 */
export const REFRESH_SCRIPT = `#!/bin/sh
# sovereign-egress-refresh: rendered by cdktf-sovereign-hetzner (EgressAllowlist).
# Reads the machine's resolvers, then resolves the allowlisted hostnames and the time servers, and
# replaces the nftables sets with their addresses. When the table is missing (the ruleset was flushed,
# or the boot unit did not run) it loads it first.
# A hostname that does not resolve keeps nothing open; the script fails so the timer shows it.
# Every run records its outcome for node exporter's textfile collector, and keeps the addresses it
# loaded: with --restore (the check, after a flush) it loads the table with them at once, and with --print
# (nftables.service's loader) it prints the table with them, asking no DNS and writing nothing.
set -eu
HOSTS_FILE=\${EGRESS_HOSTNAMES_FILE:-${HOSTNAMES_FILE}}
TIME_SERVERS_FILE=\${EGRESS_TIME_SERVERS_FILE:-${TIME_SERVERS_FILE}}
RULESET_FILE=\${EGRESS_RULESET_FILE:-${RULESET_FILE}}
TEXTFILE_DIR=\${EGRESS_TEXTFILE_DIR:-${TEXTFILE_DIR}}
RESOLV_CONF=\${EGRESS_RESOLV_CONF:-${RESOLV_CONF}}
RESOLVED_UPSTREAM=\${EGRESS_RESOLVED_UPSTREAM:-${RESOLVED_UPSTREAM}}
KEPT_SETS_FILE=\${EGRESS_KEPT_SETS_FILE:-${KEPT_SETS_FILE}}
LOCK_FILE=\${EGRESS_LOCK_FILE:-${LOCK_FILE}}
CHECK=\${EGRESS_CHECK:-${tableCheckPath(EGRESS_CHECK_UNIT)}}

# One at a time: the table's loads with the sets, and the save of the addresses kept (a refresh, a --restore from
# the check, nftables.service's loader, which takes this lock around --print and its load). Unlocked, a restore could
# load the addresses kept before a refresh that had just loaded fresher ones and not yet kept them, and leave the stale
# ones until the next refresh. Held for the nft transactions and the save only, never across DNS: a restore after a
# flush waits milliseconds.
# A lock that cannot be had is no reason to leave the table unloaded: the load goes on, and says so.
# \`command\` keeps a redirection exec cannot make from ending the script (exec is a special builtin).
lock() {
  if mkdir -p -m 0700 "$(dirname "$LOCK_FILE")" && command exec 9>>"$LOCK_FILE" && flock -w 30 9; then return 0; fi
  echo "sovereign-egress: cannot lock $LOCK_FILE; loading anyway" >&2
}
unlock() { command exec 9>&-; }

# Locks, with the table loaded. A missing table is the check's to load, and to record as a repair for the alert: a flush
# the refresh repaired by itself showed nowhere. Unlocked meanwhile: the check's restore takes the lock. When the check
# cannot load it, the refresh does.
lock_with_table() { # <how the table went missing, for the log>
  lock
  table_present && return 0
  unlock
  "$CHECK" || true
  lock
  table_present && return 0
  echo "sovereign-egress: table ${TABLE} $1; loading $RULESET_FILE" >&2
  load_table
}

table_present() { nft list table ${TABLE} >/dev/null 2>&1; }

# What addresses are resolved from: the hostnames' and time servers' contents. Their file times cannot tell
# (a rollback copies the previous files back with their old times, the clock steps, two writes share one tick).
# Each file hashed on its own: a name moved from one to the other leaves their joined text as it was.
sources_id() { for f in "$HOSTS_FILE" "$TIME_SERVERS_FILE"; do cat "$f" 2>/dev/null | sha256sum; done | sha256sum | cut -d ' ' -f 1; }

# Whether the addresses the last refresh kept may come back: not when none were kept, nor when they were resolved from
# other hostnames or time servers (a deploy that removed a host: its addresses must not come back).
kept_current() { [ -s "$KEPT_SETS_FILE" ] && [ "$(sed -n '1s/^# sources //p' "$KEPT_SETS_FILE")" = "$(sources_id)" ]; }
EMPTY_SETS="sovereign-egress: loading $RULESET_FILE with its address sets empty until the next refresh"

# The table with the addresses the last refresh loaded, in one transaction. The table alone (its
# address sets empty: nothing open) when they may not come back, or when they do not load.
load_table() {
  if kept_current; then
    cat "$RULESET_FILE" "$KEPT_SETS_FILE" | nft -f - && return 0
    echo "sovereign-egress: the addresses kept in $KEPT_SETS_FILE do not load" >&2
  fi
  echo "$EMPTY_SETS" >&2
  nft -f "$RULESET_FILE"
}

if [ "\${1:-}" = --print ]; then
  # For nftables.service's loader, which holds the lock and loads it with /etc/nftables.conf in one transaction; with
  # --empty (the load with the kept addresses failed), the address sets empty.
  cat "$RULESET_FILE" || exit 1
  if [ "\${2:-}" != --empty ] && kept_current; then exec cat "$KEPT_SETS_FILE"; fi
  echo "$EMPTY_SETS" >&2
  exit 0
fi

if [ "\${1:-}" = --restore ]; then
  # DNS may be down, or not up yet at boot: the last addresses, never none and never all. The timer refreshes them.
  lock
  load_table
  exit 0
fi

${TEXTFILE_CD_FUNCTION}

# In a subshell in node exporter's directory, checked (textfile_cd), with relative names: never through a symlink there.
write_metrics() { # <success 1|0> <table present 1|0>
  ( textfile_cd sovereign-egress sovereign_egress.prom || exit 1
  tmp=$(mktemp ./.sovereign_egress.XXXXXX) || exit 1
  cat >"$tmp" <<EOF || { rm -f -- "$tmp"; exit 1; }
# HELP sovereign_egress_refresh_success Whether the last refresh of the egress allowlist succeeded (1) or failed (0).
# TYPE sovereign_egress_refresh_success gauge
sovereign_egress_refresh_success $1
# HELP sovereign_egress_refresh_timestamp_seconds Unix time of the last refresh of the egress allowlist.
# TYPE sovereign_egress_refresh_timestamp_seconds gauge
sovereign_egress_refresh_timestamp_seconds $(date +%s)
# HELP sovereign_egress_table_present Whether the nftables table ${TABLE} was loaded after the last refresh (1) or not (0).
# TYPE sovereign_egress_table_present gauge
sovereign_egress_table_present $2
EOF
  chmod 0644 "$tmp" && mv -T -f -- "$tmp" sovereign_egress.prom || { rm -f -- "$tmp"; exit 1; } )
}

finish() {
  rc=$?
  present=0; success=0
  if table_present; then present=1; fi
  if [ "$rc" -eq 0 ]; then success=1; fi
  write_metrics "$success" "$present" || echo "sovereign-egress: cannot write $TEXTFILE_DIR/sovereign_egress.prom" >&2
  exit "$rc"
}
trap finish EXIT
trap 'exit 1' HUP INT TERM

# The resolvers first, in their own transaction: the lookups below go through them. They are the
# nameservers of resolv.conf and, when it names systemd-resolved's local stub, the servers resolved
# forwards to. Loopback needs no rule (lo is open), nor link-local (open on the link).
sources="$RESOLV_CONF"
if grep -Eq '^[[:space:]]*nameserver[[:space:]]+127\\.0\\.0\\.5[34]([[:space:]]|$)' "$RESOLV_CONF" 2>/dev/null; then
  sources="$sources $RESOLVED_UPSTREAM"
fi
named=$(sed -n 's/^[[:space:]]*nameserver[[:space:]][[:space:]]*\\([^[:space:]#;]*\\).*$/\\1/p' $sources 2>/dev/null || true)
r4=""; r6=""
for ip in $named; do
  case "$ip" in
    127.*|::1|*%*) ;;
    *:*) if printf '%s\\n' "$ip" | grep -Eqx '[0-9a-fA-F:]+'; then r6="$r6\${r6:+, }$ip"; fi ;;
    *) if printf '%s\\n' "$ip" | grep -Eqx '[0-9]{1,3}([.][0-9]{1,3}){3}'; then r4="$r4\${r4:+, }$ip"; fi ;;
  esac
done
if [ -z "$r4$r6" ]; then
  echo "sovereign-egress: $sources name no resolver outside this machine; DNS may reach Hetzner's (${HETZNER_RESOLVERS.join(', ')})" >&2
  r4="${HETZNER_RESOLVERS_V4.join(', ')}"; r6="${HETZNER_RESOLVERS_V6.join(', ')}"
fi
resolver_sets=$(
  echo "flush set ${TABLE} resolvers_v4"
  echo "flush set ${TABLE} resolvers_v6"
  [ -z "$r4" ] || echo "add element ${TABLE} resolvers_v4 { $r4 }"
  [ -z "$r6" ] || echo "add element ${TABLE} resolvers_v6 { $r6 }"
)
lock_with_table 'is missing'
printf '%s\n' "$resolver_sets" | nft -f -
unlock

# Read before the lookups: what the kept addresses below are resolved from, even if a deploy writes the files meanwhile.
resolved_from=$(sources_id)
failed=0
resolve() { # <host>: its addresses in $a and $aaaa
  a=$(dig +short A "$1" | grep -E '^[0-9.]+$' || true)
  aaaa=$(dig +short AAAA "$1" | grep -E '^[0-9a-fA-F:]+$' || true)
  [ -n "$a$aaaa" ] || { echo "sovereign-egress: $1 does not resolve" >&2; failed=1; }
}
# The hostnames file: a line "ports 80 443", then the hosts reached on those TCP ports, each address of a host allowed
# on its own ports only ("address . port"). A host before any ports line opens nothing.
# With <ports>, the file of hostnames; without, the time servers' file: addresses in $found4 and $found6.
lookup() { # <file> [ports]
  found4=""; found6=""; ports=""
  while IFS= read -r host; do
    case "$host" in
      '') continue ;;
      'ports '*) ports=\${host#ports }; continue ;;
      # The machine itself (a URL's host, such as a stand-in endpoint's): loopback is open, and dig, which skips
      # /etc/hosts, may find no address for it and fail every refresh.
      localhost) continue ;;
    esac
    resolve "$host"
    if [ -z "\${2:-}" ]; then
      for ip in $a; do found4="$found4\${found4:+, }$ip"; done
      for ip in $aaaa; do found6="$found6\${found6:+, }$ip"; done
      continue
    fi
    [ -n "$ports" ] || { echo "sovereign-egress: $host has no ports line before it in $1; nothing opened for it" >&2; failed=1; continue; }
    for p in $ports; do
      for ip in $a; do found4="$found4\${found4:+, }$ip . $p"; done
      for ip in $aaaa; do found6="$found6\${found6:+, }$ip . $p"; done
    done
  done < "$1"
}
lookup "$HOSTS_FILE" ports; v4=$found4; v6=$found6
lookup "$TIME_SERVERS_FILE"; t4=$found4; t6=$found6
address_sets=$(
  echo "flush set ${TABLE} allowed_v4"
  echo "flush set ${TABLE} allowed_v6"
  echo "flush set ${TABLE} time_servers_v4"
  echo "flush set ${TABLE} time_servers_v6"
  [ -z "$v4" ] || echo "add element ${TABLE} allowed_v4 { $v4 }"
  [ -z "$v6" ] || echo "add element ${TABLE} allowed_v6 { $v6 }"
  [ -z "$t4" ] || echo "add element ${TABLE} time_servers_v4 { $t4 }"
  [ -z "$t6" ] || echo "add element ${TABLE} time_servers_v6 { $t6 }"
)
# With the resolvers again, and the table again when something flushed it while DNS answered; then kept, under the
# same lock: a restore loads these addresses or the ones this refresh replaces, never the older after the newer.
lock_with_table 'went missing during the refresh'
printf '%s\n' "$resolver_sets" "$address_sets" | nft -f -

# What the sets hold now, kept (root's alone) for --restore; a file that cannot be kept fails the run.
mkdir -p "$(dirname "$KEPT_SETS_FILE")"
kept=$(mktemp "$KEPT_SETS_FILE.XXXXXX")
printf '%s\n' "# sources $resolved_from" "$resolver_sets" "$address_sets" >"$kept" && mv -f "$kept" "$KEPT_SETS_FILE" || { rm -f "$kept"; exit 1; }
exit "$failed"
`;

/**
 * The boot path (`tableBootUnit`), which also pulls in the refresh, which fills the sets once DNS works. The guarded
 * units start after it and require it (`RequiredBy=`, made by `systemctl enable`): when the table fails to load they
 * do not start. A rollout reloads it rather than restarting it, which would restart them; stopping it stops them.
 */
function bootService(guardedUnits: readonly string[]): string {
  const guards = guardedUnits.length > 0 ? guardedUnits.join(' ') : undefined;
  return tableBootUnit({
    description: `Egress allowlist: load the nftables table ${TABLE} before the network comes up`,
    rulesetFile: RULESET_FILE,
    orderLines: guards ? ['# The units that send data start after the table, and (RequiredBy= below) not at all without it.', `Before=${guards}`] : [],
    unitLines: ['# Fill the sets from DNS (that unit waits for network-online.target), at boot and on every start.', `Wants=${REFRESH_UNIT}.service`],
    installLines: guards ? [`RequiredBy=${guards}`] : [],
  });
}

/** nftables.service's drop-in: the table, with the last addresses, in the transaction that flushes the ruleset. */
const NFTABLES_DROP_IN = nftablesServiceDropIn('EgressAllowlist', NFTABLES_LOADER);
/** The table for nftables.service's loader: with the addresses the last refresh kept (no DNS asked: nothing open, nothing lost). */
const TABLE_DEFINITION_SCRIPT = hostTableDefinition('EgressAllowlist', `exec "\${EGRESS_REFRESH:-${REFRESH}}" --print "$@"`);

/** Whether the table was there after the last check (1) or not (0); the refresh's own metric is written every 10 minutes only. */
export const EGRESS_CHECK_PRESENT_METRIC = 'sovereign_egress_check_table_present';
/** When the last check ran: the alert reads it to tell a stale answer (a stopped timer, a killed check). */
export const EGRESS_CHECK_TIMESTAMP_METRIC = 'sovereign_egress_check_timestamp_seconds';
/** How many times the check (or the refresh, through it) found the table missing and loaded it again. */
export const EGRESS_CHECK_REPAIRS_METRIC = 'sovereign_egress_check_repairs_total';
/** When the check last found the table missing and loaded it again (0: never); the repair alert reads it. */
export const EGRESS_CHECK_LAST_REPAIR_METRIC = 'sovereign_egress_check_last_repair_timestamp_seconds';
const EGRESS_CHECK: TableCheckOptions = {
  name: EGRESS_CHECK_UNIT,
  owner: 'EgressAllowlist',
  table: TABLE,
  loader: NFTABLES_LOADER,
  what: 'Egress allowlist',
  presentMetric: EGRESS_CHECK_PRESENT_METRIC,
  timestampMetric: EGRESS_CHECK_TIMESTAMP_METRIC,
  repairsMetric: EGRESS_CHECK_REPAIRS_METRIC,
  lastRepairMetric: EGRESS_CHECK_LAST_REPAIR_METRIC,
  textfile: 'sovereign_egress_check',
  textfileDirVariable: 'EGRESS_TEXTFILE_DIR',
  variables: [`REFRESH=\${EGRESS_REFRESH:-${REFRESH}}`],
  // The addresses the last refresh kept, asking no DNS (it may be what is down); none kept: the sets empty, nothing open.
  load: '"$REFRESH" --restore',
  loading: 'loading it with the addresses the last refresh kept ($REFRESH --restore)',
};

const REFRESH_SERVICE = `[Unit]
Description=Egress allowlist: fill the nftables sets from DNS (and load the table if it is missing)
After=network-online.target ${BOOT_UNIT}
Wants=network-online.target

[Service]
Type=oneshot
ExecStart=${REFRESH}
`;

/**
 * Refreshes as soon as the machine's resolvers change (a DHCP lease, an edit, systemd-resolved
 * learning others): the resolver sets would otherwise block the new ones until the next timer run.
 */
const REFRESH_PATH = `[Unit]
Description=Egress allowlist: refresh when the machine's resolvers change

[Path]
PathChanged=${RESOLV_CONF}
PathChanged=${RESOLVED_UPSTREAM}
Unit=${REFRESH_UNIT}.service

[Install]
WantedBy=paths.target
`;

const REFRESH_TIMER = `[Unit]
Description=Refresh the egress allowlist every 10 minutes

[Timer]
OnBootSec=1min
OnUnitActiveSec=10min

[Install]
WantedBy=timers.target
`;
