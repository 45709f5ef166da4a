import { Construct } from 'constructs';
import { DataClass, Environment, FirewallRule, Product, RetirementOptions } from '../lib';
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
    const common = { product, dataClasses: props.dataClasses, ingress: props.ingress };
    const retire = (environment: Environment) => (props.retire?.environment === environment ? { retire: props.retire } : {});
    this.test = new EnvironmentStack(scope, `${product.name}-test`, { ...common, environment: Environment.TEST, ...retire(Environment.TEST) });
    if (props.stagingExpiresAt !== undefined && product.staging.hasOwnStack) {
      this.staging = new EnvironmentStack(scope, `${product.name}-staging`, {
        ...common, environment: Environment.STAGING, expiresAt: props.stagingExpiresAt, ...retire(Environment.STAGING),
      });
    }
    this.production = new EnvironmentStack(scope, `${product.name}-production`, { ...common, environment: Environment.PRODUCTION, ...retire(Environment.PRODUCTION) });
  }

  /** The stacks in release order: test, staging (if any), production. */
  public get all(): EnvironmentStack[] {
    return [this.test, ...(this.staging ? [this.staging] : []), this.production];
  }
}
