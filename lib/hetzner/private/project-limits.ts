import { TerraformStack } from 'cdktf';
import { IConstruct } from 'constructs';
import { stackOf } from '../../core/private/stack-of';
import { invalidValue } from '../../core/validation-message';
import { FIREWALLS_PER_PROJECT } from './firewall-limits';
import { warnOnce } from '../../core/private/warn-once';
import { NamedResource, namedResourcesOf, sharedProject } from './project-uniqueness';

const checkedStacks = new WeakSet<TerraformStack>();

/**
 * Makes synth fail when the stacks of the App that share `scope`'s Hetzner project create more firewalls than Hetzner
 * allows in one project (50): Hetzner refuses the next firewall at apply, part-way through a deploy, and each stack
 * alone looked fine. The project is judged as the name checks judge it (project-uniqueness.ts): one stack under one
 * provider, and one product's stacks of one project (staging lives in production's), are surely one project, an
 * error; a team's own stacks may deploy to one project (one HCLOUD_TOKEN) or to several, a warning. Firewalls with
 * `count` or `for_each` are not counted (their number may be computed). Idempotent per stack.
 */
export function checkFirewallsPerProject(scope: IConstruct): void {
  const stack = stackOf(scope);
  if (!stack || checkedStacks.has(stack)) return;
  checkedStacks.add(stack);
  stack.node.addValidation({ validate: () => firewallCountProblems(stack) });
}

function firewallCountProblems(stack: TerraformStack): string[] {
  const firewallsOf = (s: TerraformStack) => namedResourcesOf(s).filter((r) => r.resource.terraformResourceType === 'hcloud_firewall');
  const others = stack.node.root.node.findAll().filter(TerraformStack.isStack).filter((s) => s !== stack).map(firewallsOf);
  const errors: string[] = [];
  // One provider of a stack holds one token, so its resources are in one project whatever their labels say.
  for (const own of groupBy(firewallsOf(stack), (r) => r.provider ?? '')) {
    const certain: NamedResource[] = [...own];
    const inferred: NamedResource[] = [];
    let where = 'in one Hetzner project (one provider, one token)';
    for (const g of others.flat()) {
      const shares = own.map((f) => sharedProject(f, g)).filter((p) => p !== undefined);
      if (shares.length === 0) continue;
      const known = shares.find((p) => p!.certain);
      (known ? certain : inferred).push(g);
      // sharedProject says why ("is in production's Hetzner project, where staging lives too (…)"); staging's reason says most.
      if (known && (certain.length === own.length + 1 || /staging/.test(known.reason))) where = known.reason.replace(/^is /, '').replace(/ too \(both are [a-z]+'s\)$/, '');
    }
    if (certain.length > FIREWALLS_PER_PROJECT) {
      errors.push(invalidValue(stack, 'firewalls', `${certain.length} firewalls`,
        `${perStack(certain)} ${where}, and Hetzner allows ${FIREWALLS_PER_PROJECT} firewalls per project, `
        + 'so the deploy that creates the next one fails part-way through', fixFor(certain)));
    } else if (certain.length + inferred.length > FIREWALLS_PER_PROJECT) {
      const all = [...certain, ...inferred];
      warnOnce(stack, `Hetzner-FirewallsInProject: ${invalidValue(stack, 'firewalls', `${all.length} firewalls`,
        `${perStack(all)} may deploy to one Hetzner project (one HCLOUD_TOKEN deploys every stack to one project), and Hetzner allows `
        + `${FIREWALLS_PER_PROJECT} firewalls per project, so the deploy that creates the next one would fail part-way through`, fixFor(all))} `
        + 'If these stacks deploy to Hetzner projects of their own (a token each), this is no problem.');
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
  return `create at most ${FIREWALLS_PER_PROJECT} firewalls in one project: fewer machines (each Machine has a firewall of its own)`
    + `${staging ? ", staging on test's machine (StagingMode.reuseTestMachine())" : ''}, or some of the stacks in a Hetzner project of their own (a provider with its token)`;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return [...groups.values()];
}
