import { Phase } from '../../roadmap/phase';

/** What the monitoring of one phase runs. */
export interface MonitoringProfile {
  /** Node exporter with its host collectors and the host alerts (Phase 2 on); before, only the textfile and filesystem collectors. */
  readonly hostMetrics: boolean;
  /** Prometheus and Alertmanager of production run on a machine of their own (Phase 3). */
  readonly monitoringMachine: boolean;
}

/** What a prober may take: Prometheus's retention, and each daemon's systemd MemoryMax in MiB. */
export interface ProberResources {
  readonly retentionTime: string;
  readonly retentionSize: string;
  readonly memoryMaxMib: { readonly prometheus: number; readonly alertmanager: number; readonly blackbox: number; readonly node: number };
  /** The caps added up: the four daemons' and the two helpers' (HELPER_MEMORY_MAX_MIB), the most the prober may take. */
  readonly memoryMaxTotalMib: number;
}

// About three times what each daemon used in the benchmark (scripts/bench-monitoring.results.md: about 50, 34,
// 19 and 18 MiB RSS), nearly four times for Prometheus, whose head block grows for two hours: a cap is only ever
// hit by a leak. The dedicated machine gets room for Phase 3's longer retention and more checks.
const SHARED_MEMORY = { prometheus: 192, alertmanager: 112, blackbox: 64, node: 64 } as const;
const DEDICATED_MEMORY = { prometheus: 2048, alertmanager: 128, blackbox: 96, node: 64 } as const;

/**
 * The systemd MemoryMax in MiB of the prober's two helpers, the same beside an app and on a machine of its own: the alert
 * relay (a notification body of at most 1 MiB in each of its FORWARDS, 4, posts at once) and the watch of Prometheus. Both are
 * Python, not Go, so no GOMEMLIMIT goes with them.
 */
export const HELPER_MEMORY_MAX_MIB = { alertRelay: 48, prometheusWatch: 48 } as const;

/** The monitoring profile of a phase. */
export function profileFor(phase: Phase): MonitoringProfile {
  return { hostMetrics: phase.number >= 2, monitoringMachine: phase.monitoringMachine !== undefined };
}

/** A prober's resources: modest beside an app, generous on a machine of its own. */
export function proberResources(phase: Phase, dedicated: boolean): ProberResources {
  const memoryMaxMib = dedicated ? DEDICATED_MEMORY : SHARED_MEMORY;
  const memoryMaxTotalMib = [...Object.values(memoryMaxMib), ...Object.values(HELPER_MEMORY_MAX_MIB)].reduce((a, b) => a + b, 0);
  return dedicated
    ? { retentionTime: '90d', retentionSize: '20GB', memoryMaxMib, memoryMaxTotalMib }
    : { retentionTime: '15d', retentionSize: phase.number === 1 ? '512MB' : '1GB', memoryMaxMib, memoryMaxTotalMib };
}

/** The share of a machine's memory the monitoring may take beside the app (Component.MONITORING_MACHINE's threshold). */
export const SHARED_MEMORY_SHARE = 0.25;
