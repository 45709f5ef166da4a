import { TerraformResource } from 'cdktf';
import { IConstruct } from 'constructs';
import { isReason, REASON_RULE } from '../core/reason';
import { frozenSnapshot } from '../core/private/frozen-snapshot';
import { checkProps, fail, is, requireInstance, requireProps } from '../core/runtime-checks';
import { stackOf } from '../core/private/stack-of';
import { productOf } from './private/project-uniqueness';

/** A limit Hetzner raised for the account on request, and why the team knows it did. */
export interface RaisedFirewallLimit {
  /** The number of firewalls Hetzner now allows the account: a whole number above its default, 50. */
  readonly firewalls: number;
  /** Where the raise is recorded (the support ticket, its date): at least 20 letters, for the next reader. */
  readonly reason: string;
}

/** The most firewalls a firewall resource with a computed `count` or `for_each` creates, as the team declares it. */
export interface DeclaredFirewallCount {
  /** The most instances its `count` or `for_each` can have: a whole number from 0. */
  readonly atMost: number;
}

/** Hetzner's default: "Create up to 50 Firewalls total across your projects" (docs.hetzner.com/cloud/firewalls/faq). */
const DEFAULT_FIREWALLS = 50;
/** The raises declared in an App, by the product whose account Hetzner raised ('': every account of the App). */
const raised = new WeakMap<IConstruct, Map<string, RaisedFirewallLimit>>();
/** The most firewalls each firewall resource whose number synth cannot know creates, as declared. */
const declaredCounts = new WeakMap<TerraformResource, number>();

/**
 * Hetzner's limits that hold per account, across its projects, and the raises Hetzner granted on request. Synth
 * counts the firewalls of every stack of the App against the limit (each `Machine` has one): a product's stacks
 * fail synth past it, a team's other stacks warn. A raise is Hetzner's for one account: declared in a product's
 * stack it holds for that product's account (a product's stacks are one account's, and an App may hold products of
 * several accounts), declared on the App (or a team's own stack) for every account of the App.
 */
export class HetznerAccountLimits {
  /** Hetzner's default limit of firewalls per account. */
  public static readonly DEFAULT_FIREWALLS = DEFAULT_FIREWALLS;

  /**
   * Declares that Hetzner raised the account's firewall limit (a limit request in the Cloud Console or to support),
   * so synth counts against `firewalls` instead of 50. Placed in a product's stack (the stack, or any construct in
   * it), it holds for that product's account only: another product of the App may deploy to an account Hetzner did
   * not raise. Placed on the App, or in a team's own stack (whose account the library cannot tell), it holds for
   * every account of the App that declares no raise of its own: right when the App deploys to one account.
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
    const declared = raised.get(scope.node.root) ?? new Map<string, RaisedFirewallLimit>();
    raised.set(scope.node.root, declared);
    const product = productOfScope(scope);
    const earlier = declared.get(product ?? '');
    // An account has one limit: a second, other number (in another of the product's stacks) would silently win.
    if (earlier && earlier.firewalls !== copy.firewalls) {
      fail(at, 'firewalls', copy.firewalls, `a raise to ${earlier.firewalls} is declared already for ${product === undefined ? "the App's accounts" : `the account of product '${product}'`} ('${earlier.reason}'), and an account has one limit`,
        'declare the limit Hetzner granted once');
    }
    declared.set(product ?? '', copy);
  }

  /**
   * Declares the most firewalls a firewall resource creates whose `count` or `for_each` synth cannot read (it reads a
   * variable, a resource or a data source), so that synth counts them against the account's limit: such a resource
   * is otherwise left out of the count, with a warning (Hetzner-FirewallsUncounted). A count synth can read wins.
   */
  public static declareFirewallCount(firewall: TerraformResource, props: DeclaredFirewallCount): void {
    const at = `${firewall?.node?.path || 'HetznerAccountLimits'}.declareFirewallCount`;
    const fix = 'write { atMost: 10 }: the most its count (or the size of its for_each) can be';
    requireInstance(at, 'firewall', firewall, TerraformResource, 'pass the hcloud Firewall resource whose count or for_each is computed');
    if (firewall.terraformResourceType !== 'hcloud_firewall') {
      fail(at, 'firewall', firewall.terraformResourceType, 'only firewalls are counted against this limit', 'pass the hcloud Firewall resource whose count or for_each is computed');
    }
    requireProps(at, props, fix);
    const copy = frozenSnapshot(props, ['atMost']);
    checkProps<DeclaredFirewallCount>(at, copy, { atMost: is.number(fix, { integer: true }) }, fix);
    if (copy.atMost < 0) fail(at, 'atMost', copy.atMost, 'a resource creates no fewer than 0 firewalls', fix);
    declaredCounts.set(firewall, copy.atMost);
  }

  /**
   * The most firewalls `firewall` creates, as declared with declareFirewallCount; undefined if nothing is declared.
   * @internal
   */
  public static _declaredFirewallsOf(firewall: TerraformResource): number | undefined {
    return declaredCounts.get(firewall);
  }

  /**
   * The firewall limit of the account of `product`'s stacks (undefined: a team's own stack), and the raise declared
   * for it, if any: the product's own, else the App's.
   * @internal
   */
  public static _firewallsOf(scope: IConstruct, product: string | undefined): { readonly limit: number; readonly raise?: RaisedFirewallLimit } {
    const declared = raised.get(scope.node.root);
    const raise = (product === undefined ? undefined : declared?.get(product)) ?? declared?.get('');
    return { limit: raise?.firewalls ?? DEFAULT_FIREWALLS, raise };
  }
}

/** The product whose stack `scope` is in; undefined on the App or in a team's own stack. */
function productOfScope(scope: IConstruct): string | undefined {
  const stack = stackOf(scope);
  return stack === undefined ? undefined : productOf(stack);
}
