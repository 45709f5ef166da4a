import { IConstruct } from 'constructs';

/** What an egress allowlist applied to a machine lets out, as the rule compares it. */
export interface AppliedAllowlist {
  /** Construct path of the machine. */
  readonly path: string;
  /** UDP ports allowed out (DNS, NTP); not narrowed by host. */
  readonly udpPorts: readonly number[];
  /** TCP ports the host allowlist narrows to allowlisted hostnames, read at synth. */
  tcpPorts(): number[];
  /** The hostnames allowlisted, read at synth. */
  hostnames(): string[];
}

const applied = new WeakMap<IConstruct, AppliedAllowlist>();

export function recordAllowlist(machine: IConstruct, allowlist: AppliedAllowlist): void {
  applied.set(machine, allowlist);
}

/** The allowlist applied to `scope` or its nearest ancestor. */
export function allowlistFor(scope: IConstruct): AppliedAllowlist | undefined {
  for (const c of [...scope.node.scopes].reverse()) {
    const a = applied.get(c);
    if (a) return a;
  }
  return undefined;
}
