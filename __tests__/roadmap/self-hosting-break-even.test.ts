import { DatabaseStorage, Phase, Roadmap, RoadmapMetrics, Size } from '../../lib';
import { gpuServerPrice } from '../../lib/cost/price-gpu';
import HETZNER_PRICES from '../../lib/cost/hetzner-prices.json';
import { CALM_METRICS } from './helpers/metrics';

/** Past the model-spend threshold, in Phase 3 by its customers. */
const metrics: RoadmapMetrics = { ...CALM_METRICS, payingCustomers: 30, monthlyModelApiSpendEur: 1600 };

describe('Roadmap.assess prices self-hosted inference', () => {
  const gex44 = gpuServerPrice('gex44');

  test('the GPU price comes from the price file, dated, with its setup fee, and says it is unverified', () => {
    expect(gex44).toMatchObject({ name: 'gex44', asOf: expect.stringMatching(/^\d{4}-\d{2}/), verified: false });
    expect(gex44.setupFee).toBeGreaterThan(0);
    expect(gex44.sources.length).toBeGreaterThan(0);
    // Every source it names is in the price file, where its date and reliability are.
    for (const id of [...gex44.sources, ...gpuServerPrice('gex130').sources]) expect(Object.keys(HETZNER_PRICES.sources)).toContain(id);
    expect(gex44.note).toMatch(/UNVERIFIED/);
    expect(() => gpuServerPrice('gex9000')).toThrow(/'gex9000' is not allowed: .*known: gex44, gex130/);
  });

  test('break-even: server + setup fee over 12 months + the stated operations allowance, against the measured spend', () => {
    const { selfHosting, changes } = Roadmap.assess({ ...metrics, selfHostingOperationsEurPerMonth: 900 });
    const expected = Math.round((gex44.monthly + gex44.setupFee / 12 + 900) * 100) / 100;
    expect(selfHosting).toMatchObject({
      gpuServer: 'gex44', serverMonthlyEur: gex44.monthly, setupFeeEur: gex44.setupFee, setupFeeMonths: 12,
      operationsEurPerMonth: 900, selfHostedEurPerMonth: expected, modelApiEurPerMonth: 1600, priceVerified: false,
    });
    expect(selfHosting!.savingEurPerMonth).toBeCloseTo(1600 - expected, 2);
    const change = changes.find((c) => c.id === 'self-host-inference')!;
    expect(change.reason).toContain(`EUR ${gex44.monthly}/month + EUR ${gex44.setupFee} setup over 12 months + EUR 900/month operations`);
    expect(change.reason).toMatch(/unverified/);
    expect(selfHosting!.paybackMonths).toBeCloseTo(gex44.setupFee / (1600 - gex44.monthly - 900), 2);
  });

  test('a spend under the self-hosted cost keeps the APIs, with the figures; a larger allowance flips the answer', () => {
    const costly = Roadmap.assess({ ...metrics, selfHostingOperationsEurPerMonth: 1500 });
    expect(costly.selfHosting!.savingEurPerMonth).toBeLessThan(0);
    expect(costly.changes.map((c) => c.id)).toContain('price-self-hosting');
    expect(costly.changes.map((c) => c.id)).not.toContain('self-host-inference');
    expect(costly.changes.find((c) => c.id === 'price-self-hosting')!.change).toMatch(/keep the model APIs/);
    const small = Roadmap.assess({ ...metrics, monthlyModelApiSpendEur: 200, selfHostingOperationsEurPerMonth: 100 });
    expect(small.changes.map((c) => c.id)).not.toContain('price-self-hosting');
    expect(small.selfHosting!.savingEurPerMonth).toBeLessThan(0);
  });

  test('without an allowance, the threshold still flags pricing it and asks for the figure', () => {
    const { selfHosting, changes } = Roadmap.assess(metrics);
    expect(selfHosting).toBeUndefined();
    expect(changes.find((c) => c.id === 'price-self-hosting')!.change).toMatch(/selfHostingOperationsEurPerMonth/);
    expect(() => Roadmap.assess({ ...metrics, selfHostingOperationsEurPerMonth: -1 })).toThrow(/selfHostingOperationsEurPerMonth: -1 is not allowed/);
  });
});

describe('DatabaseStorage follows the roadmap', () => {
  test('root disk in Phase 1 and 2, a volume from Phase 3; earlier when the assessment crosses the disk threshold', () => {
    expect(DatabaseStorage.PHASE_DEFAULT.volumeSizeFor(Phase.TWO)).toBeUndefined();
    expect(DatabaseStorage.PHASE_DEFAULT.volumeSizeFor(Phase.THREE)!.toString()).toBe('50 GiB');
    const full = Roadmap.assess({ ...metrics, payingCustomers: 2, databaseSize: Size.gibibytes(45) });
    const storage = DatabaseStorage.fromAssessment(full, Size.gibibytes(100));
    expect(storage.volumeSizeFor(Phase.TWO)!.toString()).toBe('100 GiB');
    expect(storage.reason).toMatch(/over 50% of the 80 GB disk/);
    expect(DatabaseStorage.fromAssessment(Roadmap.assess(metrics)).volumeSizeFor(Phase.TWO)).toBeUndefined();
  });
});
