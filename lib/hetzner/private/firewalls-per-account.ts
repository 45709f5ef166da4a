import { TerraformStack } from 'cdktf';
import { IConstruct } from 'constructs';
import { stackOf } from '../../core/private/stack-of';
import { invalidValue } from '../../core/validation-message';
import { warnOnce } from '../../core/private/warn-once';
import { HetznerAccountLimits } from '../account-limits';
import { NamedResource, namedResourcesOf, productOf } from './project-uniqueness';

const checkedStacks = new WeakSet<TerraformStack>();

/**
 * Makes synth fail when the stacks of the App that are surely in `scope`'s Hetzner account create more firewalls than
 * Hetzner allows: "up to 50 Firewalls total across your projects" (its firewall FAQ; hetzner-facts.json
 * `firewall.limits.firewallsTotal`), unless HetznerAccountLimits.raiseFirewalls declares a raise. Hetzner refuses the
 * next firewall at apply, part-way through a deploy, and each stack (each project) alone looked fine.
 *
 * Surely one account: one provider of one stack (one token), and a product's own stacks, test's, staging's and
 * production's: the projects of one product are the team's, created in its one account (project tokens
 * HCLOUD_TOKEN_TEST and HCLOUD_TOKEN), and a product split over two accounts would declare nothing the library
 * could read. A team's other stacks (another product's, its own), and a stack's other providers, may hold another
 * account's token: they are counted for a warning only. Firewalls with `count` or `for_each` are not counted (their
 * number may be computed). Idempotent per stack.
 */
export function checkFirewallsPerAccount(scope: IConstruct): void {
  const stack = stackOf(scope);
  if (!stack || checkedStacks.has(stack)) return;
  checkedStacks.add(stack);
  stack.node.addValidation({ validate: () => firewallCountProblems(stack) });
}

function firewallCountProblems(stack: TerraformStack): string[] {
  const firewallsOf = (s: TerraformStack) => namedResourcesOf(s).filter((r) => r.resource.terraformResourceType === 'hcloud_firewall');
  const product = productOf(stack);
  const others = stack.node.root.node.findAll().filter(TerraformStack.isStack).filter((s) => s !== stack);
  const sameProduct = product === undefined ? [] : others.filter((s) => productOf(s) === product).flatMap(firewallsOf);
  const { limit, raise } = HetznerAccountLimits._firewallsOf(stack);
  const allowed = raise ? `the ${limit} firewalls Hetzner raised the account's limit to (HetznerAccountLimits.raiseFirewalls)`
    : `${limit} firewalls per account, across its projects`;
  const errors: string[] = [];
  const own = firewallsOf(stack);
  // One provider of a stack holds one token, so its resources are in one project, of one account.
  for (const group of groupBy(own, (r) => r.provider ?? '')) {
    const certain = [...group, ...sameProduct];
    const all = [...certain, ...own.filter((f) => !group.includes(f)), ...others.filter((s) => product === undefined || productOf(s) !== product).flatMap(firewallsOf)];
    if (certain.length > limit) {
      const where = sameProduct.length > 0 ? `in one Hetzner account (the projects of product '${product}': test's, and production's, where staging lives)`
        : 'in one Hetzner account (one provider, one token)';
      errors.push(invalidValue(stack, 'firewalls', `${certain.length} firewalls`,
        `${perStack(certain)} ${where}, and Hetzner allows ${allowed}, so the deploy that creates the next one fails part-way through`,
        fixFor(certain)));
    } else if (all.length > limit) {
      warnOnce(stack, `Hetzner-FirewallsInAccount: ${invalidValue(stack, 'firewalls', `${all.length} firewalls`,
        `${perStack(all)} may deploy to one Hetzner account (a token of any of its projects deploys there), and Hetzner allows `
        + `${allowed}, so the deploy that creates the next one would fail part-way through`, fixFor(all))} `
        + 'If these stacks deploy to Hetzner accounts of their own, this is no problem.');
    }
  }
  return errors;
}

/** "acme-production creates 26 firewalls and acme-staging 26". */
function perStack(firewalls: readonly NamedResource[]): string {
  const counts = groupBy(firewalls, (f) => f.stack.node.id).map((g) => [g[0].stack.node.id, g.length] as const);
  const parts = counts.map(([id, n], i) => (i === 0 ? `${id} creates ${n} firewall${n === 1 ? '' : 's'}` : `${id} ${n}`));
  return parts.length === 1 ? parts[0] : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

function fixFor(firewalls: readonly NamedResource[]): string {
  const staging = firewalls.some((f) => f.environment === 'staging');
  return `create fewer firewalls in the account: fewer machines (each Machine has a firewall of its own)`
    + `${staging ? ", staging on test's machine (StagingMode.reuseTestMachine())" : ''}, or some of the stacks in another Hetzner account; `
    + "or ask Hetzner to raise the limit and declare it: HetznerAccountLimits.raiseFirewalls(app, { firewalls: 100, reason: '<the ticket>' }).";
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return [...groups.values()];
}
