import { IConstruct } from 'constructs';
import { isReason, REASON_RULE } from '../core/reason';
import { frozenSnapshot } from '../core/private/frozen-snapshot';
import { checkProps, fail, is, requireProps } from '../core/runtime-checks';

/** A limit Hetzner raised for the account on request, and why the team knows it did. */
export interface RaisedFirewallLimit {
  /** The number of firewalls Hetzner now allows the account: a whole number above its default, 50. */
  readonly firewalls: number;
  /** Where the raise is recorded (the support ticket, its date): at least 20 letters, for the next reader. */
  readonly reason: string;
}

/** Hetzner's default: "Create up to 50 Firewalls total across your projects" (docs.hetzner.com/cloud/firewalls/faq). */
const DEFAULT_FIREWALLS = 50;
const raised = new WeakMap<IConstruct, RaisedFirewallLimit>();

/**
 * Hetzner's limits that hold per account, across its projects, and the raises Hetzner granted on request. Synth
 * counts the firewalls of every stack of the App against the limit (each `Machine` has one): a product's stacks
 * fail synth past it, a team's other stacks warn. A raise applies to the whole App (the account's stacks).
 */
export class HetznerAccountLimits {
  /** Hetzner's default limit of firewalls per account. */
  public static readonly DEFAULT_FIREWALLS = DEFAULT_FIREWALLS;

  /**
   * Declares that Hetzner raised the account's firewall limit (a limit request in the Cloud Console or to support),
   * so synth counts against `firewalls` instead of 50. Placed on any construct of the App; it holds for the App.
   */
  public static raiseFirewalls(scope: IConstruct, props: RaisedFirewallLimit): void {
    const at = `${scope?.node?.path || 'App'}.raiseFirewalls`;
    const fix = "write { firewalls: 100, reason: 'raised by Hetzner support, ticket 123456 of 2026-11-02' }";
    requireProps(at, props, fix);
    // Read once, then checked: a getter (from JavaScript) cannot answer the check with one value and the count with another.
    const copy = frozenSnapshot(props, ['firewalls', 'reason']);
    checkProps<RaisedFirewallLimit>(at, copy, { firewalls: is.number(fix, { integer: true }), reason: is.text(fix) }, fix);
    if (copy.firewalls <= DEFAULT_FIREWALLS) {
      fail(at, 'firewalls', copy.firewalls, `Hetzner allows ${DEFAULT_FIREWALLS} firewalls per account without a raise, so this raises nothing`, 'declare the limit Hetzner granted, above 50, or remove the declaration');
    }
    if (!isReason(copy.reason)) fail(at, 'reason', copy.reason, `a raised limit needs a specific reason (${REASON_RULE})`, 'say where Hetzner granted it (the ticket, its date)');
    raised.set(scope.node.root, copy);
  }

  /**
   * The firewall limit the App's stacks are counted against, and the declared raise, if any.
   * @internal
   */
  public static _firewallsOf(scope: IConstruct): { readonly limit: number; readonly raise?: RaisedFirewallLimit } {
    const raise = raised.get(scope.node.root);
    return { limit: raise?.firewalls ?? DEFAULT_FIREWALLS, raise };
  }
}
