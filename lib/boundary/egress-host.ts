import { Token } from 'cdktf';
import { isReason, REASON_RULE } from '../core/reason';
import { DataClass } from '../core/data-class';
import { At, fail, propNames, refuseUnknownProps, requireProps } from '../core/runtime-checks';
import { modelProviderOf } from './model-apis';
import { hostnameProblem, Processor } from './processor';

/** What an extra host declared public-only must say. */
export interface PublicOnlyEgressHostOptions {
  /**
   * Why the machine sends the host nothing beyond public data, such as 'Python package index: the machine only
   * downloads packages from it'. Published in boundary.md beside the host.
   */
  readonly reason: string;
}

/** Hosts this module built and checked. */
const checked = new WeakSet<object>();

/**
 * A host a machine may reach besides the policy's processors, the package mirrors and what its constructs declare
 * (backup targets, alert receivers), with what it is for. The only kind is `publicOnly`: the host receives no data
 * beyond the public class (a package registry, a public API the machine only reads), said in a reason that
 * boundary.md publishes beside it. A host that receives more is a processor: declare it in the policy's egress and
 * what leaves with `DataFlow.declare`, so synth judges its seat, the class and the form.
 *
 * Synth refuses an extra host that is a declared processor's API or a known model provider's (OpenAI, Anthropic,
 * Google's Gemini, …, `model-apis.ts`): sending to it is a data flow, public-only or not. Build it with
 * `EgressHost.publicOnly`; a copy or plain object is refused.
 */
export class EgressHost {
  /**
   * A host that receives nothing beyond public data, with the reason that says so. `hostname` may be a `Lazy`
   * (checked once it resolves) where `EgressAllowlist.apply` takes it; the policy's extra hosts are text.
   */
  public static publicOnly(hostname: string, options: PublicOnlyEgressHostOptions): EgressHost {
    const at = `EgressHost(${typeof hostname === 'string' && !Token.isUnresolved(hostname) ? hostname : '?'})`;
    if (!(typeof hostname === 'string' && Token.isUnresolved(hostname))) {
      const problem = hostnameProblem(hostname);
      if (problem) fail(at, 'hostname', hostname, problem, "write only the host, such as 'pypi.org'");
    }
    requireProps(at, options, "pass { reason: '…' }: why the host receives nothing beyond public data");
    refuseUnknownProps(at, undefined, options, propNames<PublicOnlyEgressHostOptions>({ reason: true }));
    // Read once: a getter from JavaScript could answer the check and boundary.md differently.
    const reason = options.reason;
    if (!isReason(reason)) {
      fail(at, 'reason', reason, `an extra host needs a specific reason that it receives nothing beyond public data (${REASON_RULE})`,
        "say what the host is and why only public data goes to it, such as 'Python package index: the machine only downloads packages'");
    }
    return new EgressHost(hostname, reason);
  }

  /** The host (a token where it is known only at synth). */
  public readonly hostname: string;
  /** The most the host receives: public data. */
  public readonly dataClass: DataClass = DataClass.PUBLIC;
  /** Why it receives nothing more, as boundary.md publishes it. */
  public readonly reason: string;

  private constructor(hostname: string, reason: string) {
    this.hostname = hostname;
    this.reason = reason;
    Object.freeze(this);
    checked.add(this);
  }

  /** How boundary.md names why it is on an allowlist, `from` saying where it was given. */
  public describe(from: string): string {
    return `extra host from ${from}, ${this.dataClass.name} data only: ${this.reason}`;
  }
}

/**
 * An extra host as given, from TypeScript or JavaScript: built by `EgressHost.publicOnly`. A bare string, the form of
 * 0.2's pre-releases, carried no purpose, so nothing judged or published what it was for; it is refused, saying how
 * to write it.
 */
export function requireEgressHost(at: At, prop: string, value: unknown): EgressHost {
  if (typeof value === 'string') {
    const shown = Token.isUnresolved(value) ? 'the host' : value;
    fail(at, prop, value, 'an extra egress host given as bare text says neither what it is for nor what it receives, so synth can judge nothing about it and boundary.md could publish no reason',
      `write EgressHost.publicOnly('${shown}', { reason: '…' }) for a host that receives nothing beyond public data (a package registry); a processor's API goes in the policy's egress with DataFlow.declare; `
      + "a host another construct of this library gives the machine (a backup target, an alert receiver) is declared by that construct");
  }
  if (!(value instanceof EgressHost) || !checked.has(value) || Object.getPrototypeOf(value) !== EgressHost.prototype) {
    fail(at, prop, value, 'it was not built by EgressHost.publicOnly, which checks the host and its reason', "write EgressHost.publicOnly('pypi.org', { reason: '…' })");
  }
  return value;
}

/**
 * Why `hostname`, given as an extra host (or a declared destination), must go through a data flow instead, as
 * `[why, fix]`: it is the API of one of `processors` (declared in the policy or by a flow), or of a known model
 * provider. `undefined` when it is neither. `remove` says how to take it off where it was given.
 */
export function extraHostConflict(hostname: string, processors: readonly Processor[], remove: string): [string, string] | undefined {
  const processor = processors.find((p) => p.hostnames.includes(hostname));
  if (processor) {
    return [`it is the API of the declared processor ${processor.name} (${processor.legalSeat?.city}, ${processor.legalSeat?.country}): what a machine sends it is a data flow, judged by class and form, not an extra host`,
      `${remove}: the allowlist lets through every processor the policy allows, and a workload declares what it sends with DataFlow.declare(workload, { processor, dataClass, form, purpose })`];
  }
  const provider = modelProviderOf(hostname);
  if (provider) {
    return [`it is the API of ${provider}, a model provider: what a machine sends it is a data flow to a processor, which synth judges by legal seat, class and form, public-only or not`,
      `declare ${provider} as a Processor with its EU legal seat in the policy's egress, for the classes it may receive, and the flow with DataFlow.declare; a provider without an EU seat is not reached from the control plane`];
  }
  return undefined;
}
