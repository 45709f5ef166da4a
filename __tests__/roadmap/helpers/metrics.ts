import { Duration, RoadmapMetrics, Size } from '../../../lib';

/**
 * A product in Phase 1 with nothing to change: no paying customers, a small model-API bill, the
 * database far from the disk's threshold. Each suite states only what it moves from here.
 */
export const CALM_METRICS: RoadmapMetrics = {
  payingCustomers: 0,
  monthlyModelApiSpendEur: 120,
  p95Latency: Duration.millis(400),
  latencySla: Duration.millis(1000),
  databaseSize: Size.gibibytes(5),
  databaseGrowthPerMonth: Size.gibibytes(1),
  diskSize: Size.gibibytes(80),
  offlineInferenceRequired: false,
  failedRestoreDrills: 0,
  releasesPerMonth: 6,
};
