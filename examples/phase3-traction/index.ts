import { App } from 'cdktf';
import { Location, Phase, Product, StagingMode } from '../../lib';
import { ProductStacks } from '../../stacks';
import { EXAMPLE_ADMIN, exampleBackup, exampleBoundary, exampleMonitoring, STAGING_EXPIRES_AT } from '../shared';

/**
 * Phase 3, real product traction: production on dedicated vCPUs in Nuremberg (cx43-class types are
 * scarce) with its PostgreSQL data directory on a volume, the test machine in Falkenstein, staging
 * from a production snapshot (in Nuremberg, where production runs) before each release.
 * Stacks: phase3-traction-test, phase3-traction-staging, phase3-traction-production.
 */
export function phase3Traction(app: App): ProductStacks {
  const product = new Product({
    name: 'phase3-traction',
    phase: Phase.THREE,
    admin: EXAMPLE_ADMIN,
    ...exampleBoundary(),
    monitoring: exampleMonitoring('traction.example.eu'),
    backup: exampleBackup({ offsite: true }),
    stateBucket: 'traction-terraform-state',
    location: Location.NBG1,
    locations: { test: Location.FSN1, production: Location.NBG1 },
    stateLocation: Location.NBG1,
    staging: StagingMode.fromProductionSnapshot(),
  });
  return new ProductStacks(app, product, { stagingExpiresAt: STAGING_EXPIRES_AT });
}
