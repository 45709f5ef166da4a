import { Aspects } from 'cdktf';
import { BoundaryChecks } from '../../lib';
import { analyticsStack, appSynthError, productApp } from './beside-product';
import { policy } from './fixtures';

// Red team (audit boundary3): a stack added to the app beside the product's environments had no
// rule pack (the environments add their own), so a sensitive machine in it with open egress passed
// synth, and boundary.md, which covers the environments, did not show it.

describe('red team: a stack beside the product is checked too', () => {
  test('a stack without a pack fails synth with the fix', () => {
    const app = productApp();
    analyticsStack(app);
    expect(appSynthError(app)).toMatch(/analytics\.aspects: 'no boundary rule pack' is not allowed: .* Fix: add the pack to it, Aspects\.of\(stack\)\.add\(new BoundaryChecks/);
  });

  test('with the pack, its own findings fail synth', () => {
    const app = productApp();
    Aspects.of(analyticsStack(app)).add(new BoundaryChecks({ policy }));
    const error = appSynthError(app);
    expect(error).not.toMatch(/no boundary rule pack/);
    expect(error).toMatch(/Boundary-RestrictedEgress: analytics\/Box\/\w+\.egress: 'allow all' is not allowed/);
  });
});
