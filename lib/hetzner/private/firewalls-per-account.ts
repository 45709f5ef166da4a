import { TerraformStack } from 'cdktf';
import { IConstruct } from 'constructs';
import { stackOf } from '../../core/private/stack-of';
import { invalidValue } from '../../core/validation-message';
import { warnOnce } from '../../core/private/warn-once';
import { HetznerAccountLimits } from '../account-limits';
import { instancesOf } from './instance-count';
import { synthesizedArgument } from './synthesized-argument';
import { NamedResource, namedResourcesOf } from './project-uniqueness';

const checkedStacks = new WeakSet<TerraformStack>();

/** A firewall resource of the App, and how many firewalls it creates (undefined: unknown at synth). */
interface Counted extends NamedResource {
  readonly instances: number | undefined;
}

/** The firewalls the library knows to be in one Hetzner account. */
interface Account {
  readonly firewalls: readonly Counted[];
  /** The product whose account it is; undefined for one provider of a team's stack. */
  readonly product?: string;
}

/**
 * Makes synth fail when the stacks of the App that are surely in one Hetzner account create more firewalls than
 * Hetzner allows: "up to 50 Firewalls total across your projects" (its firewall FAQ; hetzner-facts.json
 * `firewall.limits.firewallsTotal`), unless HetznerAccountLimits.raiseFirewalls declares a raise. Hetzner refuses the
 * next firewall at apply, part-way through a deploy, and each stack (each project) alone looked fine.
 *
 * Surely one account: a product's own stacks, test's, staging's and production's (their default provider): the
 * projects of one product are the team's, created in its one account (project tokens HCLOUD_TOKEN_TEST and
 * HCLOUD_TOKEN), and a product split over two accounts would declare nothing the library could read; and one
 * provider of a team's stack (one token). The rest (another product's stacks, a team's own, a stack's other
 * providers) may hold another account's token: the App's total only warns. Each account over its limit is reported
 * once, by the first stack of the App that creates its firewalls (naming every stack's share), not by each of them.
 * A resource with `count` or `for_each` counts as the firewalls it creates (instancesOf), or as many as declared
 * (HetznerAccountLimits.declareFirewallCount) where synth cannot read them; one with neither warns, naming its
 * path. Idempotent per stack.
 */
export function checkFirewallsPerAccount(scope: IConstruct): void {
  const stack = stackOf(scope);
  if (!stack || checkedStacks.has(stack)) return;
  checkedStacks.add(stack);
  stack.node.addValidation({ validate: () => firewallCountProblems(stack) });
}

function firewallCountProblems(stack: TerraformStack): string[] {
  const stacks = stack.node.root.node.findAll().filter(TerraformStack.isStack);
  // What is reported once is reported by the first of the stacks concerned whose validation runs this (it creates a
  // Machine), else by the App's first: cdktf names the stack whose validation failed beside the message.
  const reporter = (among: readonly TerraformStack[]) => among.find((s) => checkedStacks.has(s)) ?? stacks.find((s) => checkedStacks.has(s));
  const all: Counted[] = stacks.flatMap((s) => namedResourcesOf(s, true))
    .filter((r) => r.resource.terraformResourceType === 'hcloud_firewall')
    .map((r) => ({ ...r, instances: instancesOf(r.resource) ?? HetznerAccountLimits._declaredFirewallsOf(r.resource) }));
  const accounts = accountsOf(all);
  const limits = accounts.map((a) => HetznerAccountLimits._firewallsOf(stack, a.product));
  const over = accounts.filter((a, i) => total(a.firewalls) > limits[i].limit);
  const errors: string[] = [];
  for (const account of over) {
    const { limit, raise } = limits[accounts.indexOf(account)];
    if (reporter(stacks.filter((s) => account.firewalls.some((f) => f.stack === s))) !== stack) continue;
    const where = account.product !== undefined ? `in one Hetzner account (the projects of product '${account.product}': test's, and production's, where staging lives)`
      : 'in one Hetzner account (one provider, one token)';
    errors.push(invalidValue(stack, 'firewalls', countOf(account.firewalls),
      `${perStack(account.firewalls)} ${where}, and Hetzner allows ${allowed(limit, raise !== undefined)}, so the deploy that creates the next one fails part-way through`,
      fixFor(account.firewalls, account.product)));
  }
  if (reporter(stacks) !== stack) return errors;
  for (const unknown of all.filter((f) => f.instances === undefined)) warnUncounted(unknown);
  // Another product's stacks, a team's own and a stack's other providers may all deploy to one account: their total
  // warns, against the highest limit declared for any of them (if they share an account, it is the raised one).
  const limit = Math.max(HetznerAccountLimits.DEFAULT_FIREWALLS, ...limits.map((l) => l.limit));
  if (over.length === 0 && accounts.length > 1 && total(all) > limit) {
    warnOnce(stack, `Hetzner-FirewallsInAccount: ${invalidValue(stack, 'firewalls', countOf(all),
      `${perStack(all)} may deploy to one Hetzner account (a token of any of its projects deploys there), and Hetzner allows `
      + `${allowed(limit, limits.some((l) => l.raise !== undefined && l.limit === limit))}, so the deploy that creates the next one would fail part-way through`, fixFor(all))} `
      + 'If these stacks deploy to Hetzner accounts of their own, this is no problem.');
  }
  return errors;
}

/** The accounts the library knows: each product's stacks under their default provider, and each provider of a stack apart. */
function accountsOf(firewalls: readonly Counted[]): Account[] {
  const key = (f: Counted) => (f.product !== undefined && f.provider === undefined ? `product\0${f.product}` : `stack\0${f.stack.node.path}\0${f.provider ?? ''}`);
  return groupBy(firewalls, key).map((group) => ({ firewalls: group, product: key(group[0]).startsWith('product\0') ? group[0].product : undefined }));
}

function allowed(limit: number, raised: boolean): string {
  return raised ? `the ${limit} firewalls Hetzner raised the account's limit to (HetznerAccountLimits.raiseFirewalls)` : `${limit} firewalls per account, across its projects`;
}

/** The firewalls created, those synth cannot count aside (each warned of). */
function total(firewalls: readonly Counted[]): number {
  return firewalls.reduce((sum, f) => sum + (f.instances ?? 0), 0);
}

function warnUncounted(firewall: Counted): void {
  const multiplied = synthesizedArgument(firewall.resource, 'count') !== undefined ? 'count' : 'for_each';
  warnOnce(firewall.resource, `Hetzner-FirewallsUncounted: ${firewall.resource.node.path}: the number of firewalls its ${multiplied} creates is only `
    + `known at plan (it reads a variable, a resource or a data source), so synth cannot count them against Hetzner's limit of firewalls per account, `
    + 'and a deploy past it fails part-way through. Fix: declare the number at synth: count as a number (count: 3, or TerraformCount.of(3)), '
    + "or for_each over a literal list or map (TerraformIterator.fromList(['a', 'b']), TerraformIterator.fromMap({ a: … })); "
    + 'where it comes from a variable, declare the most it creates: HetznerAccountLimits.declareFirewallCount(firewall, { atMost: 10 }).');
}

/**
 * "acme-production creates 26 firewalls and acme-staging 26". A stack whose firewalls synth cannot count (each warned
 * of) says so: "0 firewalls" for one whose only firewalls have count or for_each read at plan would be untrue.
 */
function perStack(firewalls: readonly Counted[]): string {
  const UNCOUNTED = 'synth cannot count (count or for_each known only at plan: Hetzner-FirewallsUncounted)';
  const parts = groupBy(firewalls, (f) => f.stack.node.id).map((g, i) => {
    const [id, n, uncounted] = [g[0].stack.node.id, total(g), g.some((f) => f.instances === undefined)];
    if (uncounted && n === 0) return `${id} ${i === 0 ? 'creates firewalls' : 'firewalls'} ${UNCOUNTED}`;
    return `${id} ${i === 0 ? `creates ${n} firewall${n === 1 ? '' : 's'}` : n}${uncounted ? ` and more ${UNCOUNTED}` : ''}`;
  });
  return parts.length === 1 ? parts[0] : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

/** "51 firewalls", or "at least 51 firewalls" where some of them synth cannot count. */
function countOf(firewalls: readonly Counted[]): string {
  return `${firewalls.some((f) => f.instances === undefined) ? 'at least ' : ''}${total(firewalls)} firewalls`;
}

/**
 * The fix for `firewalls` over the limit. A product's account declares its raise in one of its stacks: declared on the
 * App, it would raise every account of the App, another product's too, which Hetzner did not raise.
 */
function fixFor(firewalls: readonly NamedResource[], product?: string): string {
  const staging = firewalls.some((f) => f.environment === 'staging');
  const declare = product === undefined ? 'it: HetznerAccountLimits.raiseFirewalls(app, '
    : `it in a stack of product '${product}' (on the App it would hold for every account of the App): `
      + `HetznerAccountLimits.raiseFirewalls(<the stack ${firewalls[0].stack.node.path}>, `;
  return `create fewer firewalls in the account: fewer machines (each Machine has a firewall of its own)`
    + `${staging ? ", staging on test's machine (StagingMode.reuseTestMachine())" : ''}, or some of the stacks in another Hetzner account; `
    + `or ask Hetzner to raise the limit and declare ${declare}{ firewalls: 100, reason: '<the ticket>' }).`;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return [...groups.values()];
}
