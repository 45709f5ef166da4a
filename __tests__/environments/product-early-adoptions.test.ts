import { Component, Phase, Product } from '../../lib';
import { policy } from '../boundary/fixtures';
import { refusal } from '../boundary/refusal';
import { admin, backup, monitoring } from '../setup/product-basics';

// Audit (roadmap): a component adopted twice published the first reason in postponed.md and dropped the second
// without a word, so the honest list left out a reason the team gave.

describe('Product.earlyAdoptions', () => {
  const product = (reasons: string[]) => new Product({
    name: 'acme', phase: Phase.ONE, admin, stateBucket: 'acme-state', boundary: policy, backup, monitoring,
    earlyAdoptions: reasons.map((reason) => ({ component: Component.REDIS, reason })),
  });

  test('refuses a component adopted twice, naming it and the fix', () => {
    expect(refusal(() => product(['Rate limits of the public API must survive restarts.', 'Sessions of the EU SSO gateway must survive restarts.'])))
      .toMatch(/^Product\(acme\)\.earlyAdoptions: "redis" is not allowed: it is adopted twice, and the postponed list publishes one reason for it\. Fix: give it one adoption/);
  });

  test('one adoption of it is recorded with its reason', () => {
    expect(product(['Rate limits of the public API must survive restarts.']).adoptionOf(Component.REDIS)?.reason).toMatch(/^Rate limits/);
  });
});
