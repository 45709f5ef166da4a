import { Annotations, TerraformStack } from 'cdktf';
import { invalidValue, quote, ValidationError } from '../core/validation-message';
import { checkOptions, fail, orNothing, propNames, refuseUnknownProps, requireInstance } from '../core/runtime-checks';
import { CostLine, largestLines, ProductCost } from './cost-estimate';
import { checkCostEstimateOptions, CostEstimateOptions, estimateSynthesizedCost } from './estimator';
import { Money } from './money';
import { synthesizedStacksOf } from './synthesized-stacks';
import { UnknownPriceError } from './unknown-price-error';

/** How a budget is declared: when it warns before it is reached. */
export interface BudgetOptions {
  /**
   * The share of the budget from which synth warns, above 0 and at most 1.
   * @default 0.8 - a warning from 80% of the budget
   */
  readonly warnAt?: number;
}

/** A monthly budget, in net euros, with the share from which synth warns. */
export class Budget {
  /**
   * At most `amount` a month. Over it synth fails with the breakdown; from `warnAt` of it
   * (80% unless set) synth warns.
   */
  public static monthly(amount: Money, options: BudgetOptions = {}): Budget {
    if (typeof amount === 'number') {
      throw new ValidationError(`Budget.monthly: ${amount} is not allowed: a plain number is not an amount of money. Fix: pass Money.euros(${amount})`);
    }
    // From JavaScript: text from an environment variable, or any other value, is named for what it is.
    if (typeof amount === 'string') {
      throw new ValidationError(`Budget.monthly: ${quote(amount)} is not allowed: it is text, and a budget is an amount of money. `
        + `Fix: pass Money.euros(${Number.isFinite(Number(amount)) && (amount as string).trim() !== '' ? Number(amount) : '…'}) (Number(text) for text from the environment or JSON)`);
    }
    if (!(amount instanceof Money)) {
      throw new ValidationError(`Budget.monthly: ${quote(amount)} is not allowed: it is not an amount of money. Fix: pass Money.euros(…), such as Money.euros(25)`);
    }
    if (amount.isZero()) {
      throw new ValidationError(`Budget.monthly: '${amount}' is not allowed: `
        + 'a budget of nothing fails every stack, and a negative one is not a budget. Fix: pass the most the team will spend a month, such as Money.euros(25)');
    }
    if (options === null || typeof options !== 'object' || Array.isArray(options)) fail('Budget.monthly', 'options', options, 'options are an object of named values', 'pass { warnAt: 0.8 } or nothing');
    refuseUnknownProps('Budget.monthly', 'options', options, propNames<BudgetOptions>({ warnAt: true }));
    const warnAt = options.warnAt ?? 0.8;
    if (typeof warnAt === 'string') {
      throw new ValidationError(`Budget.warnAt: ${quote(warnAt)} is not allowed: it is text, and the share is a number. Fix: pass the number itself, such as 0.8 (Number(text) for text from the environment or JSON)`);
    }
    if (!Number.isFinite(warnAt) || warnAt <= 0 || warnAt > 1) {
      throw new ValidationError(`Budget.warnAt: ${JSON.stringify(warnAt)} is not allowed: it is the share of the budget from which synth warns. Fix: pass a share above 0 and at most 1, such as 0.8`);
    }
    return new Budget(amount, warnAt);
  }

  private constructor(
    /** The most a month may cost. */
    public readonly amount: Money,
    /** The share of the budget from which synth warns. */
    public readonly warnAt: number,
  ) {}

  /** Whether a monthly cost is over the budget, near it (from `warnAt`), or within it. */
  public judge(monthly: Money): 'over' | 'near' | 'within' {
    if (monthly.isGreaterThan(this.amount)) return 'over';
    return monthly.ratioTo(this.amount) >= this.warnAt ? 'near' : 'within';
  }

  /** The budget in words, such as `€30.00 a month`. */
  public toString(): string {
    return `${this.amount} a month`;
  }
}

/** How a `BudgetGuard` estimates the cost it holds to the budget. */
export interface BudgetGuardOptions {
  /**
   * How the cost is estimated (prices, billing date, rehearsals a month…).
   * @default - the shipped prices, today, new orders, 4 rehearsals of 2 hours a month
   */
  readonly estimate?: CostEstimateOptions;
}

// Products already guarded: every stack of a product may ask, the first one checks.
const guardedProducts = new WeakSet<object>();

/**
 * Holds stacks to a monthly budget at synth: over it, synth fails with the breakdown and the
 * largest items; near it, a warning. A resource without a known price fails synth too.
 */
export class BudgetGuard {
  /**
   * Holds one environment stack to `budget`. An always-on environment counts a whole month; an
   * on-demand one (staging) counts its rehearsals a month.
   */
  public static forEnvironment(stack: TerraformStack, budget: Budget, options: BudgetGuardOptions = {}): void {
    options = BudgetGuard.checkArguments(stack, budget, options);
    BudgetGuard.attach(stack, budget, 'budget', () => [stack], (product) => {
      const env = product.environments[0];
      const monthly = env.onDemand ? product.onDemandMonthly : env.monthly;
      const basis = env.onDemand && product.rehearsal
        ? `${product.rehearsal.perMonth} rehearsals of ${product.rehearsal.length} a month, ${product.rehearsal.each} each`
        : 'a whole month';
      return { monthly, lines: env.lines, basis, shared: false };
    }, options);
  }

  /**
   * Holds all the stacks of a product to `budget`: its always-on environments, what they share
   * (state storage) and its rehearsals. Registered once per `product` (any object standing for
   * it), on the first stack that asks; `stacks` is read at synth, when every stack exists.
   */
  public static forProduct(stack: TerraformStack, product: object, budget: Budget, stacks: () => readonly TerraformStack[], options: BudgetGuardOptions = {}): void {
    options = BudgetGuard.checkArguments(stack, budget, options);
    if (typeof product !== 'object' || product === null) fail(stack, 'product', product, 'it is not an object standing for the product', 'pass the product, such as the Product the stacks are built from');
    if (typeof stacks !== 'function') fail(stack, 'stacks', stacks, 'it is not a function', "pass a function that returns the product's stacks, such as () => stacks");
    if (guardedProducts.has(product)) return;
    guardedProducts.add(product);
    BudgetGuard.attach(stack, budget, 'product.budget', () => stacks(), (cost) => ({
      monthly: cost.monthly,
      lines: [...cost.environments.flatMap((e) => (e.onDemand ? [] : e.lines)), ...cost.shared],
      basis: cost.rehearsal
        ? `always-on environments, shared costs, and ${cost.rehearsal.perMonth} rehearsals of ${cost.rehearsal.length} a month (${cost.rehearsal.monthly})`
        : 'always-on environments and shared costs',
      shared: true,
    }), options);
  }

  /** From JavaScript: a Money for a Budget, or a misspelt estimate option, failed only at synth, with a TypeError or no path. */
  private static checkArguments(stack: unknown, budget: unknown, options: unknown): BudgetGuardOptions {
    if (typeof stack !== 'object' || stack === null || !TerraformStack.isStack(stack)) {
      fail('BudgetGuard', 'stack', stack, 'it is not a TerraformStack', 'pass the stack the budget is checked on, such as an EnvironmentStack');
    }
    requireInstance(stack as TerraformStack, 'budget', budget, Budget, 'pass Budget.monthly(Money.euros(30))');
    // What is checked is what synth reads: a frozen snapshot of the options, each read once.
    return checkOptions<BudgetGuardOptions>(stack as TerraformStack, 'options', options as BudgetGuardOptions, {
      estimate: (at, prop, value) => { if (value !== undefined) checkCostEstimateOptions(at, prop, value); },
    }, orNothing('pass { estimate: { billingDate, … } }')) ?? {};
  }

  private static attach(scope: TerraformStack, budget: Budget, prop: string, stacks: () => readonly TerraformStack[],
    select: (product: ProductCost) => { monthly: Money; lines: readonly CostLine[]; basis: string; shared: boolean }, options: BudgetGuardOptions): void {
    let warned = false;
    scope.node.addValidation({
      validate: () => {
        let estimate;
        try {
          estimate = estimateSynthesizedCost(stacks().flatMap((s) => synthesizedStacksOf(s)), options.estimate);
        } catch (e) {
          if (e instanceof UnknownPriceError) {
            // A resource without a price is often one that fails its own validation (a server outside the EU, where
            // the price list has no prices): that error names the cause and the fix, and the budget is checked once it is fixed.
            if (othersFail(scope, stacks())) return [];
            return [invalidValue(scope, prop, budget, `the cost cannot be checked against it: ${e.message}`, 'price or remove the resources named above')];
          }
          throw e;
        }
        const product = estimate.products[0];
        const { monthly, lines, basis, shared } = select(product);
        const verdict = budget.judge(monthly);
        const breakdown = breakdownOf(product, lines, estimate.pricesTakenOn, basis, shared);
        if (verdict === 'over') {
          return [invalidValue(scope, prop, budget,
            `the estimated cost is ${monthly} a month, ${monthly.minus(budget.amount)} over it (${breakdown})`,
            'raise the budget, or make the stacks smaller: a smaller server type, fewer always-on resources, staging on demand')];
        }
        if (verdict === 'near' && !warned) {
          warned = true;
          Annotations.of(scope).addWarning(`Cost-NearBudget: ${scope.node.path}.${prop}: the estimated cost ${monthly} a month is ${monthly.percentOf(budget.amount)}% `
            + `of the budget of ${budget.amount} (a warning from ${Math.round(budget.warnAt * 100)}%; ${breakdown}). Fix: plan the next step before it is over: raise the budget, or make the stacks smaller.`);
        }
        return [];
      },
    });
  }
}

/** Whether a construct of `stacks` other than `guard` fails its own validation (which stops synth anyway). */
function othersFail(guard: TerraformStack, stacks: readonly TerraformStack[]): boolean {
  return stacks.some((stack) => stack.node.findAll().some((c) => c !== guard && c.node.validate().length > 0));
}

function breakdownOf(product: ProductCost, lines: readonly CostLine[], takenOn: string, basis: string, withShared: boolean): string {
  const environments = product.environments.map((e) => `${e.stack} ${e.monthly}${e.onDemand ? ' if kept up all month' : ''}`);
  const shared = withShared ? product.shared.map((l) => `${l.description} ${l.monthly}`) : [];
  const largest = largestLines(lines, 5).map((l, i) => `${i + 1}. ${l.description} in ${l.stack}: ${l.monthly}`);
  return `counting ${basis}, at Hetzner's net prices taken on ${takenOn}. By environment: ${[...environments, ...shared].join('; ')}. Largest items: ${largest.join('; ')}`;
}
