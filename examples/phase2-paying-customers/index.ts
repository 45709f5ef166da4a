import { App } from 'cdktf';
import { Phase, Product, StagingMode } from '../../lib';
import { ProductStacks } from '../../stacks';
import { EXAMPLE_ADMIN, exampleBackup, exampleBoundary, exampleMonitoring } from '../shared';

/**
 * Phase 2, first paying customers: production grows a size, staging still reuses the test
 * machine (no staging stack), and offsite backup plus host alerting become required.
 * Stacks: phase2-paying-test, phase2-paying-production.
 */
export function phase2PayingCustomers(app: App): ProductStacks {
  const product = new Product({
    name: 'phase2-paying',
    phase: Phase.TWO,
    admin: EXAMPLE_ADMIN,
    ...exampleBoundary(),
    monitoring: exampleMonitoring('paying.example.eu'),
    backup: exampleBackup({ offsite: true }),
    stateBucket: 'paying-terraform-state',
    staging: StagingMode.reuseTestMachine(),
  });
  return new ProductStacks(app, product);
}
