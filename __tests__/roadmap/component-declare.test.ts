import { TerraformStack, Testing } from 'cdktf';
import { Component, Phase, Product, ProductProps } from '../../lib';
import { ProductStacks } from '../../stacks';
import { policy } from '../boundary/fixtures';
import { refusal } from '../boundary/refusal';
import { admin, backup, monitoring } from '../setup/product-basics';

// Audit (plain JavaScript callers): Component.declare(construct, 'redis') recorded no component at all, so the phase
// never saw Redis (postponed in Phase 1), and reading the declarations back crashed with "unknown component id".

describe('Component.declare', () => {
  test.each([['redis'], [undefined], [{ id: 'redis' }]])('refuses %j, naming the construct, the value and the constants', (component) => {
    const stack = new TerraformStack(Testing.app(), 'acme-production');
    expect(refusal(() => Component.declare(stack, component as any)))
      .toMatch(/^acme-production\.component: (.* is not allowed: it is not a Component.*|missing: a Component is required)\. Fix: use a Component constant: .*Component\.REDIS/);
    expect(Component.declaredIn(stack)).toEqual([]);
  });

  test('a Component declared in Phase 1 is still judged as the postponed component it is', () => {
    const stacks = new ProductStacks(Testing.app(), new Product({ name: 'acme', phase: Phase.ONE, admin, stateBucket: 'acme-state', boundary: policy, backup, monitoring } as ProductProps));
    Component.declare(stacks.production.app, Component.REDIS);
    expect(Component.declaredIn(stacks.production).map((d) => d.component)).toContain(Component.REDIS);
    expect(() => Testing.synth(stacks.production, true)).toThrow(/redis/i);
  });
});
