import { Duration, Environment, Phase, Roadmap, RoadmapMetrics, ROADMAP_THRESHOLDS, Size } from '../../lib';
import { CALM_METRICS as calm } from './helpers/metrics';
import { refusal } from '../boundary/refusal';

const assess = (overrides: Partial<RoadmapMetrics>) => Roadmap.assess({ ...calm, ...overrides });
const ids = (overrides: Partial<RoadmapMetrics>) => assess(overrides).changes.map((c) => c.id);

describe('Roadmap.assess', () => {
  test('calm metrics: Phase 1 and nothing to change', () => {
    expect(assess({})).toEqual({ recommendedPhase: Phase.ONE, changes: [] });
  });

  test('is pure: the same metrics give the same answer', () => {
    expect(assess({ payingCustomers: 3 })).toEqual(assess({ payingCustomers: 3 }));
  });

  describe('paying customers decide the phase', () => {
    test.each([
      [0, Phase.ONE], [1, Phase.TWO], [24, Phase.TWO], [25, Phase.THREE], [400, Phase.THREE],
    ])('%p paying customers → %s', (payingCustomers, phase) => {
      expect(assess({ payingCustomers }).recommendedPhase).toBe(phase);
    });
    test('the reason carries the number', () => {
      expect(assess({ payingCustomers: 3 }).changes[0]).toMatchObject({ id: 'enter-phase-2', reason: '3 paying customers: recovery risk now has a price' });
    });
  });

  describe('disk', () => {
    test('attach a volume: the example from the roadmap, with its numbers', () => {
      const change = assess({ databaseSize: Size.gibibytes(41), databaseGrowthPerMonth: Size.gibibytes(6) }).changes.find((c) => c.id === 'attach-volume');
      expect(change?.reason).toBe('DB data 41 GB is over 50% of the 80 GB disk and grows 6 GB/month');
    });
    test.each([
      [40, []], // exactly 50% is not over it
      [40.5, ['attach-volume']],
      [56, ['attach-volume']], // exactly 70%
      [56.5, ['split-app-db']],
    ])('DB %p GB of 80 GB → %p', (db, expected) => {
      expect(ids({ databaseSize: Size.mebibytes(db * 1024), databaseGrowthPerMonth: Size.gibibytes(0) })).toEqual(expected);
    });
    // Audit (roadmap): a full disk lifted a pre-revenue product to Phase 3, whose presets require a separate
    // monitoring machine and dedicated vCPUs that nothing measured called for. A phase moves on its own threshold.
    test('a full disk calls for its component, not the next phase: an early adoption below the phase that permits it', () => {
      const split = assess({ databaseSize: Size.gibibytes(60) });
      expect(split.recommendedPhase).toBe(Phase.ONE);
      expect(split.changes.find((c) => c.id === 'split-app-db')!.change)
        .toMatch(/; Phase 1 postpones Separate database server, so adopt it early with this reason: earlyAdoptions: \[\{ component: Component\.SPLIT_APP_DB, reason: '…' \}\]$/);
      const volume = assess({ databaseSize: Size.gibibytes(45) });
      expect(volume.recommendedPhase).toBe(Phase.ONE);
      expect(volume.changes.find((c) => c.id === 'attach-volume')!.change).toMatch(/Phase 1 postpones Attached data volume.*Component\.DATA_VOLUME/);
    });
    test('with paying customers, the phase that permits the volume: no adoption to declare', () => {
      const result = assess({ payingCustomers: 3, databaseSize: Size.gibibytes(45) });
      expect(result.recommendedPhase).toBe(Phase.TWO);
      expect(result.changes.find((c) => c.id === 'attach-volume')!.change).not.toMatch(/adopt/);
    });
    test.each([
      [Size.gibibytes(12.5), []], // (80-5)/12.5 = 6 months left: exactly the reserve
      [Size.gibibytes(13), ['attach-volume']],
    ])('growth %s/month with 75 GB free → %p', (growth, expected) => {
      expect(ids({ databaseGrowthPerMonth: growth })).toEqual(expected);
    });
    test('says how many months are left', () => {
      expect(assess({ databaseGrowthPerMonth: Size.gibibytes(25) }).changes[0].reason)
        .toBe('at 25 GB/month the 80 GB disk is full in 3 months, under the 6 months kept in reserve');
    });
  });

  describe('latency', () => {
    test.each([[1000, []], [1001, ['scale-production']]])('p95 %p ms against a 1000 ms SLA → %p', (ms, expected) => {
      expect(ids({ p95Latency: Duration.millis(ms) })).toEqual(expected);
    });
    // Audit (roadmap): the change sent the team to "the next type of its preset", a fallback for a sold-out type:
    // Phase 1 production's cx33 → cpx32 has the same vCPUs and memory, so the rescale changed nothing.
    test('the rescale it recommends adds capacity, which the preset\'s fallback does not', () => {
      const [preferred, fallback] = Phase.ONE.machineFor(Environment.PRODUCTION).types;
      expect([fallback.cores, fallback.memory.toMebibytes()]).toEqual([preferred.cores, preferred.memory.toMebibytes()]);
      const change = assess({ p95Latency: Duration.millis(1400) }).changes[0].change;
      expect(change).not.toMatch(/preset/);
      expect(change).toMatch(/^rescale the production machine to a larger type of its line, with more vCPUs and memory/);
    });
    test('the reason names both numbers', () => {
      expect(assess({ p95Latency: Duration.millis(1400) }).changes[0].reason).toBe('p95 latency 1.4 s is over the 1 s SLA');
    });
  });

  describe('inference', () => {
    test.each([[1499.99, []], [1500, ['price-self-hosting']]])('model spend EUR %p → %p', (spend, expected) => {
      expect(ids({ monthlyModelApiSpendEur: spend })).toEqual(expected);
    });
    test('pricing self-hosting is a decision point, not a phase change', () => {
      expect(assess({ monthlyModelApiSpendEur: 5000 }).recommendedPhase).toBe(Phase.ONE);
    });
    test('a regulatory need for offline inference requires self-hosting, adopted early in any phase, and moves no phase', () => {
      const result = assess({ offlineInferenceRequired: true, monthlyModelApiSpendEur: 5000 });
      expect(result.changes.map((c) => c.id)).toEqual(['self-host-inference']);
      expect(result.recommendedPhase).toBe(Phase.ONE);
      expect(result.changes[0].change).toMatch(/Phase 1 postpones Self-hosted model inference.*Component\.SELF_HOSTED_INFERENCE/);
      // No phase permits it: Phase 3 too needs the adoption.
      expect(assess({ offlineInferenceRequired: true, payingCustomers: 30 }).changes.find((c) => c.id === 'self-host-inference')!.change)
        .toMatch(/Phase 3 postpones Self-hosted model inference/);
    });
    test('pricing self-hosting builds nothing, so it asks for no adoption', () => {
      expect(assess({ monthlyModelApiSpendEur: 5000 }).changes[0].change).not.toMatch(/adopt/);
    });
  });

  describe('restore drills and releases', () => {
    test.each([[0, []], [1, ['fix-restore']]])('%p failed drills → %p', (failedRestoreDrills, expected) => {
      expect(ids({ failedRestoreDrills })).toEqual(expected);
    });
    test('a failed drill comes first', () => {
      expect(ids({ failedRestoreDrills: 2, payingCustomers: 5, p95Latency: Duration.seconds(2) })[0]).toBe('fix-restore');
    });
    test.each([[ROADMAP_THRESHOLDS.permanentStagingReleasesPerMonth, []], [21, ['consider-permanent-staging']]])('%p releases/month → %p', (releasesPerMonth, expected) => {
      expect(ids({ releasesPerMonth })).toEqual(expected);
    });
    test('permanent staging, postponed in every phase, is an early adoption', () => {
      expect(assess({ releasesPerMonth: 21 }).changes[0].change).toMatch(/Component\.PERMANENT_STAGING/);
    });
  });

  describe('bad metrics get a clear message, never a recommendation', () => {
    // Each is a ValidationError in the library's shape (path, value, why, fix); before, a plain Error without the why.
    test.each([
      ['payingCustomers', -1, /^RoadmapMetrics\.payingCustomers: -1 is not allowed: a measured figure is a finite number >= 0\. Fix: pass a measured, finite number >= 0/],
      ['monthlyModelApiSpendEur', NaN, /^RoadmapMetrics\.monthlyModelApiSpendEur: NaN is not allowed/],
      ['monthlyModelApiSpendEur', '120', /^RoadmapMetrics\.monthlyModelApiSpendEur: '120' is not allowed/],
      ['releasesPerMonth', Infinity, /^RoadmapMetrics\.releasesPerMonth: Infinity is not allowed/],
      ['failedRestoreDrills', undefined, /^RoadmapMetrics\.failedRestoreDrills: missing: .*\. Fix:/],
      ['databaseSize', undefined, /^RoadmapMetrics\.databaseSize: missing: .*\. Fix: pass a Size/],
      ['databaseSize', 40, /^RoadmapMetrics\.databaseSize: 40 is not allowed: it is not a Size\. Fix: pass a Size/],
      ['p95Latency', undefined, /^RoadmapMetrics\.p95Latency: missing: .*\. Fix: pass a Duration/],
      ['offlineInferenceRequired', undefined, /^RoadmapMetrics\.offlineInferenceRequired: missing/],
      ['offlineInferenceRequired', 'no', /^RoadmapMetrics\.offlineInferenceRequired: 'no' is not allowed: it is a string, not true or false/],
      ['diskSize', Size.gibibytes(0), /^RoadmapMetrics\.diskSize: '0 GiB' is not allowed: the database machine has a disk/],
      ['latencySla', Duration.seconds(0), /^RoadmapMetrics\.latencySla: '0 ms' is not allowed/],
      // Audit (roadmap): a fraction of a customer or of a drill, and a database larger than its disk, gave a recommendation.
      ['payingCustomers', 0.5, /^RoadmapMetrics\.payingCustomers: 0\.5 is not allowed: it is a count, and a count is a whole number\. Fix: pass how many, such as 0/],
      ['failedRestoreDrills', 1.5, /^RoadmapMetrics\.failedRestoreDrills: 1\.5 is not allowed: it is a count/],
      ['databaseSize', Size.gibibytes(81), /^RoadmapMetrics\.databaseSize: '81 GiB' is not allowed: it is larger than the 80 GiB disk it lives on \(diskSize\)\. Fix: pass both sizes of one disk/],
      ['diskSize', Size.mebibytes(80), /^RoadmapMetrics\.databaseSize: '5 GiB' is not allowed: it is larger than the 80 MiB disk/],
    ])('%s = %p', (field, value, message) => {
      expect(refusal(() => Roadmap.assess({ ...calm, [field]: value } as RoadmapMetrics))).toMatch(message);
    });
    test('a database that fills its whole disk is a full disk, not a mix-up', () => {
      expect(ids({ databaseSize: Size.gibibytes(80) })).toEqual(['split-app-db']);
    });
    test('fractional releases a month (an average) are measured figures', () => {
      expect(ids({ releasesPerMonth: 20.5 })).toEqual(['consider-permanent-staging']);
    });
    test('missing metrics altogether', () => {
      expect(refusal(() => Roadmap.assess(undefined as unknown as RoadmapMetrics))).toMatch(/^RoadmapMetrics\.props: missing/);
    });
    test('an optional figure given as null, from JavaScript, is refused as what it is, not as a missing required one', () => {
      expect(refusal(() => Roadmap.assess({ ...calm, selfHostingOperationsEurPerMonth: null } as unknown as RoadmapMetrics)))
        .toMatch(/^RoadmapMetrics\.selfHostingOperationsEurPerMonth: null is not allowed: it is optional, and null is no figure\. Fix: leave it out until self-hosting is priced/);
    });

    test('a misspelt metric, from JavaScript, is refused rather than left out of the assessment', () => {
      expect(refusal(() => Roadmap.assess({ ...calm, selfHostingOperationEurPerMonth: 900 } as unknown as RoadmapMetrics)))
        .toMatch(/^RoadmapMetrics\.selfHostingOperationEurPerMonth: 'selfHostingOperationEurPerMonth' is not allowed: there is no property of this name.*did you mean 'selfHostingOperationsEurPerMonth'\?/);
    });
    // Audit (roadmap): a GPU server named without the operations allowance priced nothing and said nothing.
    test('a GPU server without the operations allowance is refused, not ignored', () => {
      expect(refusal(() => Roadmap.assess({ ...calm, monthlyModelApiSpendEur: 2000, selfHostingGpuServer: 'gex130' })))
        .toMatch(/^RoadmapMetrics\.selfHostingGpuServer: 'gex130' is not allowed: it is priced only in the break-even, which needs selfHostingOperationsEurPerMonth.*Fix: state selfHostingOperationsEurPerMonth too/);
    });
    test.each([
      ['a GPU server the price file does not know', 'gex9000', /^RoadmapMetrics\.selfHostingGpuServer: 'gex9000' is not allowed: the price file has no such GPU server \(known: gex44, gex130\)\. Fix: use one of these/],
      ['a GPU server as a number', 44, /^RoadmapMetrics\.selfHostingGpuServer: 44 is not allowed: it is a number, not a text value/],
    ])('%s is refused as the metric, not deep in the price file', (_name, value, message) => {
      expect(refusal(() => Roadmap.assess({ ...calm, selfHostingOperationsEurPerMonth: 900, selfHostingGpuServer: value } as unknown as RoadmapMetrics))).toMatch(message);
    });
  });

});
