import { Construct } from 'constructs';
import { Aspects, TerraformStack } from 'cdktf';
import { BOUNDARY_RULES, BoundaryChecks, DataClass, Environment, FirewallRule, IMachine, Product, RetirementOptions } from '../lib';
import { boundaryRulesRun } from '../lib/boundary/boundary-checks';
import { packsAbove } from '../lib/core/app-level-packs';
import { checkOptions, is, orNothing, requireInstance } from '../lib/core/runtime-checks';
import { EnvironmentStack } from './environment-stack';

/** What differs between products built from one declaration: staging on demand, the app machines' data and entry points, a retirement. */
export interface ProductStacksProps {
  /**
   * Create the on-demand staging stack (only when the product's staging mode has its own stack).
   * It expires on this UTC date, `YYYY-MM-DD`.
   * @default - no staging stack
   */
  readonly stagingExpiresAt?: string;
  /**
   * The data classes the app machines hold.
   * @default [DataClass.SENSITIVE, DataClass.SECRET]
   */
  readonly dataClasses?: DataClass[];
  /**
   * Public entry points of the app machines.
   * @default [FirewallRule.httpsFromAnywhere(), FirewallRule.httpFromAnywhere()]
   */
  readonly ingress?: FirewallRule[];
  /**
   * Retire one environment: deploy with this to turn its protections off, then `cdktf destroy` its stack.
   * @default - none retiring
   */
  readonly retire?: RetirementOptions & {
    /** The environment whose stack is retired; the other stacks keep their protections. */
    readonly environment: Environment;
  };
  /**
   * The machines whose apps connect to each environment's database over its private network, built in each stack
   * (`EnvironmentStackProps.networkClients`): `(stack) => [new Machine(stack, 'Worker', { …, sshKeys: [...stack.adminSshKeys],
   * privateNetwork: stack.network })]` (docs/database.md shows the whole worker).
   * @default - none: nothing reaches a database over the private network
   */
  readonly networkClients?: (stack: EnvironmentStack) => IMachine[];
}

/**
 * "Three environments, two alive": a product's test and production stacks, and its staging
 * stack when a release is being rehearsed on a server of its own. Stack names are
 * `<product>-test`, `<product>-staging` and `<product>-production`.
 */
export class ProductStacks {
  /** The test environment's stack, `<product>-test`: always on, where restore drills run. */
  public readonly test: EnvironmentStack;
  /** The production environment's stack, `<product>-production`: always on and protected against loss. */
  public readonly production: EnvironmentStack;
  /**
   * The staging stack, `<product>-staging`, while a release is rehearsed on a server of its own:
   * only with `stagingExpiresAt` and a staging mode that has its own stack; undefined otherwise.
   */
  public readonly staging?: EnvironmentStack;

  /** Creates the product's stacks in `scope` (the app), each an `EnvironmentStack` named after the product. */
  constructor(scope: Construct, product: Product, props: ProductStacksProps = {}) {
    checkProductStacksArguments(product, props);
    const common = { product, dataClasses: props.dataClasses, ingress: props.ingress, networkClients: props.networkClients };
    // The retirement without its environment: that one chose the stack, the stack's retirement is reason and backups.
    const retire = (environment: Environment) => (props.retire?.environment === environment
      ? { retire: { reason: props.retire.reason, includeBackups: props.retire.includeBackups } } : {});
    this.test = new EnvironmentStack(scope, `${product.name}-test`, { ...common, environment: Environment.TEST, ...retire(Environment.TEST) });
    if (props.stagingExpiresAt !== undefined && product.staging.hasOwnStack) {
      this.staging = new EnvironmentStack(scope, `${product.name}-staging`, {
        ...common, environment: Environment.STAGING, expiresAt: props.stagingExpiresAt, ...retire(Environment.STAGING),
      });
    }
    this.production = new EnvironmentStack(scope, `${product.name}-production`, { ...common, environment: Environment.PRODUCTION, ...retire(Environment.PRODUCTION) });
    scope.node.root.node.addValidation({ validate: () => uncheckedStacks(scope.node.root, product) });
  }

  /** The stacks in release order: test, staging (if any), production. */
  public get all(): EnvironmentStack[] {
    return [this.test, ...(this.staging ? [this.staging] : []), this.production];
  }
}

/**
 * What TypeScript checks at compile time, checked for JavaScript callers: a product that is not a
 * `Product`, options that are not an object, a misspelt option, or a retirement naming an environment by
 * its name would otherwise crash with a TypeError or be ignored (a retirement that retires nothing).
 */
function checkProductStacksArguments(product: Product, props: ProductStacksProps): void {
  requireInstance('ProductStacks', 'product', product, Product, 'pass the product: new ProductStacks(app, new Product({ … }), { … })', 'a Product');
  const at = `ProductStacks(${product.name})`;
  checkOptions<ProductStacksProps>(at, 'props', props, {
    stagingExpiresAt: is.optional(is.text("write the UTC date as YYYY-MM-DD, such as '2026-12-31'")),
    // The app machine and the stack check these with their own paths.
    dataClasses: is.checkedLater(),
    ingress: is.checkedLater(),
    networkClients: is.checkedLater(),
    retire: is.optional(is.object<NonNullable<ProductStacksProps['retire']>>({
      environment: is.instance(Environment, 'use Environment.PRODUCTION, Environment.TEST or Environment.STAGING (the object, not its name)', 'an Environment'),
      // Retirement.declare checks these with the stack's path.
      reason: is.checkedLater(),
      includeBackups: is.checkedLater(),
    }, "pass retire: { environment: Environment.PRODUCTION, reason: '…' }")),
  }, orNothing('pass { stagingExpiresAt, dataClasses, ingress, retire, networkClients }'));
}

/**
 * Stacks of the app beside a product's environments that no boundary pack checks. A stack added
 * next to the product (a quick analytics box) was neither checked nor in boundary.md: its servers
 * could hold sensitive data with open egress, unseen.
 */
function uncheckedStacks(root: Construct, product: Product): string[] {
  return root.node.findAll().filter(TerraformStack.isStack).flatMap((stack) => {
    if (stack instanceof EnvironmentStack) return [];
    const packs = [...Aspects.of(stack).all, ...packsAbove(stack)];
    const boundaryPacks = packs.filter((p): p is BoundaryChecks => p instanceof BoundaryChecks);
    // Together, the packs must run every rule against the product's policy: a subset (a rule left out
    // instead of suppressed with a reason) or another policy would pass what the boundary refuses.
    const run = new Set(boundaryPacks.flatMap((p) => boundaryRulesRun(p, product.boundary)));
    const missing = BOUNDARY_RULES.map((r) => r.id).filter((id) => !run.has(id));
    if (missing.length === 0) return [];
    if (boundaryPacks.length > 0) {
      return [`${stack.node.path}.aspects: 'a boundary rule pack that does not run ${missing.join(', ')} against the policy of product ${product.name}' is not allowed: `
        + 'the app publishes that data boundary, and this stack\'s packs leave those rules out (or judge by another policy), so it passes what the boundary refuses, with no suppression or reason in boundary.md. '
        + 'Fix: add the whole pack, Aspects.of(stack).add(new BoundaryChecks({ policy: product.boundary })), and accept a finding with BoundarySuppressions.add(construct, [{ id, reason }])'];
    }
    return [`${stack.node.path}.aspects: 'no boundary rule pack' is not allowed: the app publishes the data boundary of product ${product.name}, and this stack is none of its environments and is checked by no rule pack, so what it holds or sends is unchecked. `
      + 'Fix: add the pack to it, Aspects.of(stack).add(new BoundaryChecks({ policy: product.boundary })) (boundary.md then lists it with the environments), or move its resources into an environment stack'];
  });
}
