import { App } from 'cdktf';
import { Budget, Money, Phase, Product, StagingMode } from '../../lib';
import { ProductStacks } from '../../stacks';
import { EXAMPLE_ADMIN, exampleBackup, exampleBoundary, exampleMonitoring, STAGING_EXPIRES_AT } from '../shared';

/**
 * Phase 1, pre-revenue or early pilots: a small permanent test machine, a modest production
 * machine, and staging on demand, rehearsed on a server built from a production snapshot.
 * Stacks: phase1-pilot-test, phase1-pilot-staging, phase1-pilot-production.
 */
export function phase1Pilot(app: App): ProductStacks {
  const product = new Product({
    name: 'phase1-pilot',
    phase: Phase.ONE,
    admin: EXAMPLE_ADMIN,
    ...exampleBoundary(),
    monitoring: exampleMonitoring('pilot.example.eu'),
    backup: exampleBackup({ offsite: false }),
    stateBucket: 'pilot-terraform-state',
    staging: StagingMode.fromProductionSnapshot(),
    // Phase 1's promise is a small bill: synth warns from 80% of this and fails above it. Phase 1 costs
    // about €30 a month, so €40 leaves the warning for growth rather than for a first synth (as `init`'s).
    budget: Budget.monthly(Money.euros(40)),
  });
  return new ProductStacks(app, product, { stagingExpiresAt: STAGING_EXPIRES_AT });
}
