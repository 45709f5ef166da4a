import { IConstruct } from 'constructs';
import type { BoundaryPolicy } from '../boundary-policy';
import type { AllowlistCarrier } from './allowlist-delivery';

/** What an egress allowlist applied to a machine lets out, as the rule compares it. */
export interface AppliedAllowlist {
  /** Construct path of the machine. */
  readonly path: string;
  /** The policy whose processors and extra hostnames the allowlist lets through. */
  readonly policy: BoundaryPolicy;
  /** UDP ports allowed out (DNS, NTP), narrowed to the machine's resolvers and time servers. */
  readonly udpPorts: readonly number[];
  /** TCP ports the host allowlist lets out, each narrowed (DNS to the resolvers, the others to allowlisted hostnames), read at synth. */
  tcpPorts(): number[];
  /** The TCP ports narrowed to the allowlisted hostnames, read at synth. */
  narrowedTcpPorts(): number[];
  /** The TCP ports every allowlisted host is reached on (not one destination's), read at synth. */
  sharedTcpPorts(): SharedPort[];
  /** The time servers NTP (123/udp) may reach. */
  timeServers(): string[];
  /** The hostnames allowlisted, read at synth. */
  hostnames(): string[];
  /** The same hostnames, in the same order, each with why it is on the list: for the published boundary document. */
  entries(): AllowlistEntry[];
  /** What carries the table to the server (its user data, its rollout), as the library built them. */
  carriers(): AllowlistCarrier[];
}

/** A TCP port every allowlisted host is reached on, and what opened it. */
export interface SharedPort {
  /** The TCP port. */
  readonly port: number;
  /** Whether it was opened with `EgressAllowlist.allowTcpPort`. */
  readonly byAllowTcpPort: boolean;
  /** The descriptions of the firewall rules that open it, the allowlist's own left out. */
  readonly rules: readonly string[];
  /** The purposes of the destinations the library's constructs declared on it (a heartbeat's ping host), which they open the port for themselves. */
  readonly declaredByConstructs: readonly string[];
}

/** One allowlisted hostname and every reason it is on the list. */
export interface AllowlistEntry {
  /** The host (a token when it is known only at deploy). */
  readonly hostname: string;
  /** Where it came from, such as 'Debian mirror' or 'declared processor Mistral AI (Paris, FR)'. */
  readonly origins: string[];
  /** The TCP ports the host table lets the machine reach it on, ascending: each origin's (80 and 443, or a declared destination's own). */
  readonly ports: number[];
}

/** By server: the host table runs on the machine's own server only, never on a server built inside the machine. */
const applied = new WeakMap<IConstruct, AppliedAllowlist>();

/** Records the allowlist applied to a machine, whose host table runs on `server`, the machine's own. */
export function recordAllowlist(server: IConstruct, allowlist: AppliedAllowlist): void {
  applied.set(server, allowlist);
}

/**
 * The allowlist whose host table runs on `server`: only its own machine's. A server nested in a
 * machine (a raw server, or another Machine's) does not run that machine's table, so an ancestor's
 * allowlist never counts.
 */
export function allowlistFor(server: IConstruct): AppliedAllowlist | undefined {
  return applied.get(server);
}
