import { App, Testing } from 'cdktf';
import { DataClass, Environment, Location, Phase, Product, ProductProps, StagingMode } from '../../lib';
import { EnvironmentStack } from '../../stacks';
import { policy } from '../boundary/fixtures';
import { admin, backup, monitoring } from '../setup/product-basics';

// Audit (staging lifecycle, data boundary): staging built from production's snapshot boots a copy of production's
// disk, its database and secrets included. A staging stack declared to hold only public data passed synth, and the
// boundary then judged that copy as public: it could run in Singapore, with its egress open.
describe('staging built from production\'s snapshot holds what production holds', () => {
  // Singapore offers cpx32, the preset's fallback, so only the boundary can refuse the place.
  const product = (overrides: Partial<ProductProps> = {}) => new Product({
    name: 'acme', phase: Phase.ONE, admin, stateBucket: 'acme-state', boundary: policy, backup, monitoring,
    staging: StagingMode.fromProductionSnapshot(), locations: { staging: Location.SIN }, unavailableServerTypes: ['cx33'], ...overrides,
  });
  const synthesize = (p: Product, staging: { dataClasses?: DataClass[] }, production: { dataClasses?: DataClass[] } = {}) => {
    const app: App = Testing.app();
    new EnvironmentStack(app, 'acme-test', { product: p, environment: Environment.TEST, ...(production.dataClasses ? { dataClasses: production.dataClasses } : {}) });
    new EnvironmentStack(app, 'acme-production', { product: p, environment: Environment.PRODUCTION, ...production });
    new EnvironmentStack(app, 'acme-staging', { product: p, environment: Environment.STAGING, expiresAt: '2026-12-31', ingress: [], ...staging });
    return () => app.synth();
  };

  test('a staging declared without production\'s classes is refused, naming the stack, the classes it leaves out and the fix', () => {
    expect(synthesize(product(), { dataClasses: [DataClass.PUBLIC, DataClass.PSEUDONYMIZED] })).toThrow(
      /acme-staging\.dataClasses: 'public, pseudonymized' is not allowed: staging is built from production's snapshot, a copy of production's disk, and so holds what production's app machine holds \(sensitive, secret\); declared without sensitive, secret, it would be judged .* Fix: leave dataClasses out of the staging stack, or list production's: \[DataClass\.SENSITIVE, DataClass\.SECRET\]/);
  });

  // Second pass: a stack declared public always builds its database, which refused the machine at synth under
  // <stack>/Database.machine, naming [DataClass.SENSITIVE] as "the default" where the stack's is [SENSITIVE, SECRET].
  test.each([Environment.PRODUCTION, Environment.TEST, Environment.STAGING])('a %s stack declared public alone is refused under the stack\'s dataClasses, with the stack\'s default', (environment) => {
    expect(() => new EnvironmentStack(Testing.app(), 'acme-x', { product: product({ locations: {} }), environment, expiresAt: '2026-12-31', dataClasses: [DataClass.PUBLIC] }))
      .toThrow(/^acme-x\.dataClasses: \["public"\] is not allowed: the stack runs the product's PostgreSQL database on its app machine.* Fix: leave dataClasses out for the default \[DataClass\.SENSITIVE, DataClass\.SECRET\]/);
  });

  test("judged by production's classes, it may not leave the EU", () => {
    expect(synthesize(product(), {})).toThrow(/acme-staging\/App.*outside the EU/);
  });

  test("production's own classes are the measure: a staging that lists them passes, one short of them does not", () => {
    const eu = product({ locations: {} });
    const pseudonymized = { dataClasses: [DataClass.PSEUDONYMIZED] };
    expect(synthesize(eu, pseudonymized, pseudonymized)).not.toThrow();
    expect(synthesize(eu, { dataClasses: [DataClass.SENSITIVE] })).toThrow(/acme-staging\.dataClasses: 'sensitive' is not allowed: .*declared without secret/);
  });

  // The same hole in test: its weekly restore drill restores production's databases onto test's app machine, which a
  // test stack declared public let the boundary judge as public.
  test("test's app machine, which restores production's databases every week, is held to production's classes too", () => {
    const eu = product({ locations: {} });
    const app: App = Testing.app();
    new EnvironmentStack(app, 'acme-test', { product: eu, environment: Environment.TEST, dataClasses: [DataClass.PSEUDONYMIZED] });
    new EnvironmentStack(app, 'acme-production', { product: eu, environment: Environment.PRODUCTION });
    expect(() => app.synth()).toThrow(
      /acme-test\.dataClasses: 'pseudonymized' is not allowed: test's app machine runs the weekly restore drill, which restores production's databases onto it, and so holds what production's app machine holds \(sensitive, secret\); declared without sensitive, secret, .* Fix: leave dataClasses out of the test stack, or list production's: \[DataClass\.SENSITIVE, DataClass\.SECRET\]/);
  });
});
