import { App, TerraformStack, Testing } from 'cdktf';
import { PrimaryIp } from '../../generated/providers/hcloud/primary-ip';
import { UploadedCertificate } from '../../generated/providers/hcloud/uploaded-certificate';
import { phase1Pilot } from '../../examples/phase1-pilot';
import { Budget, BudgetGuard } from '../../lib/cost/budget';
import { Money } from '../../lib/cost/money';
import { testStack, warningsOf } from '../setup/stack';

const estimate = { billingDate: '2026-11-25' };

function phase1(): { app: App; stacks: TerraformStack[] } {
  const app = Testing.app();
  const stacks = phase1Pilot(app).all;
  return { app, stacks };
}

describe('Budget', () => {
  test('fails when the budget is zero or negative', () => {
    expect(() => Budget.monthly(Money.euros(0))).toThrow(/^Budget\.monthly: '€0\.00' is not allowed: a budget of nothing fails every stack.*Fix: pass the most the team will spend a month/);
    expect(() => Budget.monthly(Money.euros(-25))).toThrow(/Money: -25 is not allowed/);
  });

  test('fails when the warning threshold is not a share of the budget', () => {
    expect(() => Budget.monthly(Money.euros(25), { warnAt: 0 })).toThrow(/Budget\.warnAt: 0 is not allowed/);
    expect(() => Budget.monthly(Money.euros(25), { warnAt: 1.5 })).toThrow(/Budget\.warnAt: 1\.5 is not allowed/);
  });

  test('judges a cost over, near (from 80% unless set) or within', () => {
    const budget = Budget.monthly(Money.euros(25));
    expect(budget.judge(Money.euros(25.01))).toBe('over');
    expect(budget.judge(Money.euros(25))).toBe('near');
    expect(budget.judge(Money.euros(20))).toBe('near');
    expect(budget.judge(Money.euros(19.99))).toBe('within');
    expect(Budget.monthly(Money.euros(25), { warnAt: 0.9 }).judge(Money.euros(20))).toBe('within');
  });
});

describe('BudgetGuard.forEnvironment', () => {
  test('fails synth over the budget, with the breakdown and the largest items', () => {
    const { stacks } = phase1();
    const production = stacks.find((s) => s.node.id === 'phase1-pilot-production')!;
    BudgetGuard.forEnvironment(production, Budget.monthly(Money.euros(10)), { estimate });
    expect(() => Testing.synth(production, true)).toThrow(new RegExp([
      "phase1-pilot-production\\.budget: '€10\\.00 a month' is not allowed: the estimated cost is €17\\.32 a month, €7\\.32 over it ",
      "\\(counting a whole month, at Hetzner's net prices taken on 2026-09-29\\. By environment: phase1-pilot-production €17\\.32\\. ",
      'Largest items: 1\\. cx33 in fsn1 in phase1-pilot-production: €8\\.49; ',
      '2\\. 3 pre-release snapshots of phase1-pilot-production-app \\(snapshot --keep 3 on the release path\\).* in phase1-pilot-production: €3\\.43; ',
      '3\\. Storage Box bx11 in phase1-pilot-production: €3\\.20; ',
      '4\\. Hetzner backups of the cx33 \\(20% of its price\\) in phase1-pilot-production: €1\\.70; ',
      '5\\. primary IPv4 in phase1-pilot-production: €0\\.50\\)\\. Fix: raise the budget, or make the stacks smaller',
    ].join('')));
  });

  test('warns near the budget and synthesizes', () => {
    const { stacks } = phase1();
    const production = stacks.find((s) => s.node.id === 'phase1-pilot-production')!;
    BudgetGuard.forEnvironment(production, Budget.monthly(Money.euros(20)), { estimate });
    expect(() => Testing.synth(production, true)).not.toThrow();
    // Only the cost warnings: other constructs of the example warn about their own concerns.
    expect(warningsOf(production).filter((w) => w.startsWith('Cost-'))).toEqual([
      expect.stringMatching(/^Cost-NearBudget: phase1-pilot-production\.budget: the estimated cost €17\.32 a month is 86% of the budget of €20\.00 \(a warning from 80%;/),
    ]);
  });

  test('is silent within the budget', () => {
    const { stacks } = phase1();
    // Production, not test: the example's own product budget (€40) is checked on the test stack.
    const production = stacks.find((s) => s.node.id === 'phase1-pilot-production')!;
    BudgetGuard.forEnvironment(production, Budget.monthly(Money.euros(25)), { estimate });
    Testing.synth(production, true);
    expect(warningsOf(production).filter((w) => w.startsWith('Cost-'))).toEqual([]);
  });

  test('holds an on-demand environment to its rehearsals a month', () => {
    const { stacks } = phase1();
    const staging = stacks.find((s) => s.node.id === 'phase1-pilot-staging')!;
    BudgetGuard.forEnvironment(staging, Budget.monthly(Money.euros(1)), { estimate: { ...estimate, rehearsalsPerMonth: 40 } });
    expect(() => Testing.synth(staging, true)).toThrow(/the estimated cost is €1\.15 a month, €0\.15 over it \(counting 40 rehearsals of 2 hours a month, €0\.03 each/);
  });

  test('fails synth naming a resource without a known price', () => {
    const { stacks } = phase1();
    const test = stacks.find((s) => s.node.id === 'phase1-pilot-test')!;
    new UploadedCertificate(test, 'Cert', { name: 'c', certificate: 'x', privateKey: 'y' });
    BudgetGuard.forEnvironment(test, Budget.monthly(Money.euros(25)), { estimate });
    expect(() => Testing.synth(test, true)).toThrow(/phase1-pilot-test\.budget: .*the cost cannot be checked against it: .*phase1-pilot-test\/Cert \(hcloud_uploaded_certificate\.Cert\): resource type 'hcloud_uploaded_certificate' has no known price/s);
  });
});

describe('BudgetGuard.forProduct', () => {
  test('checks the whole product once: environments, shared state storage and rehearsals', () => {
    const { app, stacks } = phase1();
    const product = {};
    const budget = Budget.monthly(Money.euros(20));
    for (const stack of stacks) BudgetGuard.forProduct(stack, product, budget, () => stacks, { estimate });
    const validations = stacks.map((s) => s.node.validate());
    expect(validations.flat()).toEqual([
      expect.stringMatching(/^phase1-pilot-test\.product\.budget: '€20\.00 a month' is not allowed: the estimated cost is €29\.92 a month, €9\.92 over it \(counting always-on environments, shared costs, and 4 rehearsals of 2 hours a month \(€0\.12\).*By environment: phase1-pilot-test €5\.99; phase1-pilot-staging €8\.99 if kept up all month; phase1-pilot-production €17\.32; Object Storage base price.*€6\.49\. Largest items: 1\. cx33 in fsn1 in phase1-pilot-production: €8\.49; 2\. Object Storage/),
    ]);
    expect(() => app.synth()).toThrow(/product\.budget/);
  });

  test('warns once near the budget', () => {
    const { stacks } = phase1();
    const product = {};
    for (const stack of stacks) BudgetGuard.forProduct(stack, product, Budget.monthly(Money.euros(32)), () => stacks, { estimate });
    // Validated twice (a second synth in the same process): still one warning.
    for (const stack of [...stacks, ...stacks]) Testing.synth(stack, true);
    // One warning, not one per stack (the example's own product budget of €40 is not near).
    expect(stacks.flatMap((s) => warningsOf(s)).filter((w) => w.startsWith('Cost-'))).toEqual([
      expect.stringMatching(/^Cost-NearBudget: phase1-pilot-test\.product\.budget: the estimated cost €29\.92 a month is 93% of the budget of €32\.00/),
    ]);
  });

  test('rounds the share down: an estimate just under the budget is not called 100% of it', () => {
    const { stacks } = phase1();
    const product = {};
    for (const stack of stacks) BudgetGuard.forProduct(stack, product, Budget.monthly(Money.euros(29.93)), () => stacks, { estimate });
    for (const stack of stacks) Testing.synth(stack, true);
    expect(stacks.flatMap((s) => warningsOf(s)).filter((w) => w.includes('€29.93'))).toEqual([
      expect.stringMatching(/the estimated cost €29\.92 a month is 99% of the budget of €29\.93/),
    ]);
  });
});

// Audit (cost): the share in the warning was Math.floor(ratio * 100) in floating point: €28.50 of €50 (57%) read
// "56% of the budget (a warning from 57%)", below the threshold it had just crossed.
test('the near-budget warning states the share exactly, at the threshold it crossed', () => {
  const { stack } = testStack('production');
  for (let i = 0; i < 57; i++) new PrimaryIp(stack, `Ip${i}`, { name: `ip-${i}`, type: 'ipv4', location: 'fsn1', autoDelete: false });
  BudgetGuard.forEnvironment(stack, Budget.monthly(Money.euros(50), { warnAt: 0.57 }), { estimate });
  Testing.synth(stack, true);
  expect(warningsOf(stack).filter((w) => w.startsWith('Cost-'))).toEqual([
    expect.stringMatching(/^Cost-NearBudget: production\.budget: the estimated cost €28\.50 a month is 57% of the budget of €50\.00 \(a warning from 57%;/),
  ]);
});

// Audit (cost): from JavaScript, Budget.monthly('30') (text from an environment variable) or { euros: 30 } was told
// "a budget of nothing fails every stack, and a negative one is not a budget": the wrong reason, and no way to pass it.
test('Budget.monthly names text and other non-Money values for what they are, with the call that takes them', () => {
  expect(() => Budget.monthly('30' as unknown as Money)).toThrow(
    /^Budget\.monthly: '30' is not allowed: it is text, and a budget is an amount of money\. Fix: pass Money\.euros\(30\) \(Number\(text\) for text from the environment or JSON\)$/);
  expect(() => Budget.monthly({ euros: 30 } as unknown as Money)).toThrow(
    /^Budget\.monthly: \{"euros":30\} is not allowed: it is not an amount of money\. Fix: pass Money\.euros\(…\), such as Money\.euros\(25\)$/);
  expect(() => Budget.monthly(undefined as unknown as Money)).toThrow(/^Budget\.monthly: undefined is not allowed: it is not an amount of money/);
});

// Audit (cost): BudgetGuard took whatever JavaScript passed and failed at synth with a TypeError from inside
// ("budget.judge is not a function" for a Money where a Budget belongs; "stacks is not a function"), naming no path or fix.
test('BudgetGuard refuses what a JavaScript caller can pass wrong, when it is called, with path, value and fix', () => {
  const { stack } = testStack('production');
  expect(() => BudgetGuard.forEnvironment(stack, Money.euros(30) as unknown as Budget))
    .toThrow(/^production\.budget: '€30\.00' is not allowed: it is not a Budget\. Fix: pass Budget\.monthly\(Money\.euros\(30\)\)/);
  expect(() => BudgetGuard.forEnvironment(stack, Budget.monthly(Money.euros(30)), { estimate: { billingdate: '2026-11-25' } } as any))
    .toThrow(/^production\.options\.estimate\.billingdate: 'billingdate' is not allowed: .*did you mean 'billingDate'\?/);
  expect(() => BudgetGuard.forEnvironment('production' as any, Budget.monthly(Money.euros(30))))
    .toThrow(/^BudgetGuard\.stack: 'production' is not allowed: it is not a TerraformStack/);
  expect(() => BudgetGuard.forProduct(stack, {}, Budget.monthly(Money.euros(30)), [stack] as any))
    .toThrow(/^production\.stacks: .* is not allowed: it is not a function\. Fix: pass a function that returns the product's stacks, such as \(\) => stacks/);
  // A count given as text, as the estimate refuses it, but when the guard is declared rather than at synth.
  expect(() => BudgetGuard.forEnvironment(stack, Budget.monthly(Money.euros(30)), { estimate: { rehearsalsPerMonth: '4' } } as any))
    .toThrow(/^CostEstimate\.rehearsalsPerMonth: "4" is not allowed: it is text/);
  expect(() => Testing.synth(stack, true)).not.toThrow();
});

// Audit (cost): text from JavaScript ('0.8' from an environment variable) was refused with "such as 0.8" as the fix.
test('Budget.monthly names a warnAt given as text for what it is', () => {
  expect(() => Budget.monthly(Money.euros(30), { warnAt: '0.8' as unknown as number }))
    .toThrow(/^Budget\.warnAt: '0\.8' is not allowed: it is text, and the share is a number\. Fix: pass the number itself, such as 0\.8 \(Number\(text\) for text from the environment or JSON\)$/);
});
