import { DRILL_RUN_TIME_PER_COPY, DRILL_START_DELAY } from '../backup/private/drill-run-time';
import { ROADMAP_THRESHOLDS } from '../roadmap/roadmap';
import { Phase } from '../roadmap/phase';
import { requireInstance } from '../core/runtime-checks';

/** How urgent an alert is; receivers get both, the severity label lets them page on `critical` only. */
export enum AlertSeverity {
  /** Someone must act now: production is down or its recovery is at risk. */
  CRITICAL = 'critical',
  /** Someone must act this week. */
  WARNING = 'warning',
  /** Not for people: the dead-man's switch. */
  NONE = 'none',
}

/**
 * An alert the library ships, with what it watches and when it fires, in words and numbers. The
 * Prometheus rules are rendered from these names; the phase documents list them.
 */
export class MonitoringAlert {
  /** An uptime check fails from its prober. */
  public static readonly UPTIME_CHECK_FAILED = new MonitoringAlert('UptimeCheckFailed', 1,
    'an uptime check: its URL or port, from a machine other than the one it checks',
    "the probe fails (no connection, wrong status, body not matching, timeout) for the check's alertAfter (default 2 minutes); "
      + "each address family the checked machine serves is probed on its own (IPv4 and IPv6, IPv6 alone without a public IPv4; a check's ipFamilies narrows it), and the alert names the family (ip_family)",
    'critical for production, warning for test');
  /** A checked certificate expires within the check's `certificateExpiry`. */
  public static readonly TLS_CERTIFICATE_EXPIRING = new MonitoringAlert('TlsCertificateExpiring', 1,
    'the certificate of every TLS uptime check',
    "the certificate expires within the check's certificateExpiry (default 14 days)", 'as its check');
  /** The newest verified backup is older than the plan's `maxBackupAge`. */
  public static readonly BACKUP_TOO_OLD = new MonitoringAlert('BackupTooOld', 1,
    'the newest verified backup (the push job of the BackupPlan)',
    "it is older than the plan's maxBackupAge: the RPO plus the plan's allowance for the timer's jitter and the job's run time (Phase 1: 24 h + 2 h)",
    "critical for production's plan");
  /** The last run of a backup job failed. */
  public static readonly BACKUP_JOB_FAILED = new MonitoringAlert('BackupJobFailed', 1,
    'every backup job (dump, push, prune, check)', 'its last run failed', "critical for production's plan");
  /** The last restore drill failed. */
  public static readonly RESTORE_DRILL_FAILED = new MonitoringAlert('RestoreDrillFailed', 1,
    'the restore drill on the test machine', 'its last run failed', 'critical');
  /** No restore drill finished within its interval, its start delay and its longest run time. */
  public static readonly RESTORE_DRILL_MISSED = new MonitoringAlert('RestoreDrillMissed', 1,
    'the restore drill on the test machine', `no run finished within its schedule's interval, plus a start up to ${DRILL_START_DELAY} late (the timer's random delay) and its longest run time (${DRILL_RUN_TIME_PER_COPY} for each copy it restores)`, 'critical');
  /** A disk is fuller than the plan's `diskWarningShare` (warning). */
  public static readonly DISK_ABOVE_VOLUME_THRESHOLD = new MonitoringAlert('DiskAboveVolumeThreshold', 1,
    'every disk and volume of the watched machines',
    `it is more than ${pct(ROADMAP_THRESHOLDS.volumeDiskShare)} full (diskWarningShare) for 15 minutes: by default Roadmap.assess's threshold for moving the database to a volume`, 'warning');
  /** A disk is fuller than the plan's `diskCriticalShare` (critical). */
  public static readonly DISK_ABOVE_SPLIT_THRESHOLD = new MonitoringAlert('DiskAboveSplitThreshold', 1,
    'every disk and volume of the watched machines',
    `it is more than ${pct(ROADMAP_THRESHOLDS.splitDatabaseDiskShare)} full (diskCriticalShare) for 15 minutes: by default Roadmap.assess's threshold for moving the database off the app disk`, 'critical');
  /** An exporter or Alertmanager cannot be scraped. */
  public static readonly MONITORING_TARGET_DOWN = new MonitoringAlert('MonitoringTargetDown', 1,
    'the monitoring itself: blackbox exporter, Alertmanager and every node exporter a prober scrapes',
    'it cannot be scraped for 2 minutes (a dead Prometheus is the dead-man\'s switch\'s job)', 'warning');
  /** A series the other alerts read is missing. */
  public static readonly MONITORING_DATA_MISSING = new MonitoringAlert('MonitoringDataMissing', 1,
    'the series the other alerts read: each uptime check\'s result, each watched machine\'s disks, each watched job\'s record',
    'one is missing for 10 minutes (absent()); the alerts that read it keep their last state for a day (8 days for the jobs) instead of reporting resolved', 'warning');
  /** The prober's Prometheus does not answer (said by the watch beside it). */
  public static readonly PROMETHEUS_DOWN = new MonitoringAlert('PrometheusDown', 1,
    "the prober's Prometheus, watched by sovereign-prometheus-watch beside it",
    'it does not answer twice in a row (15 s apart); its alerts are held in Alertmanager instead of reported resolved, until 3 minutes after it is back', 'critical');
  /** Always firing: the pings of the dead-man's switch. */
  public static readonly WATCHDOG = new MonitoringAlert('Watchdog', 1,
    'the prober as a whole: machine, Prometheus, rule evaluation, Alertmanager and the way out',
    "always firing; delivered to the dead-man's switch once every interval (default 5 minutes), measured. The ping service alerts when a ping is more than the grace (one interval) late", 'none');
  /** A machine's last rollout failed. */
  public static readonly ROLLOUT_FAILED = new MonitoringAlert('RolloutFailed', 1,
    "the last rollout of every watched machine's bundle (its agent's record)",
    'the last rollout failed, so the machine still runs its previous bundle (the deploy failed too)', 'warning');
  /** A machine's egress allowlist is not loaded. */
  public static readonly EGRESS_ALLOWLIST_NOT_LOADED = new MonitoringAlert('EgressAllowlistNotLoaded', 1,
    "the host egress allowlist of every watched machine that holds sensitive data",
    'its nftables table was missing after the last refresh or the last 2-minute check (or no check ran for 10 minutes), so outbound traffic may not be narrowed to the allowlist, for 5 minutes', 'critical');
  /** A machine's egress allowlist is not refreshed from DNS. */
  public static readonly EGRESS_ALLOWLIST_REFRESH_FAILING = new MonitoringAlert('EgressAllowlistRefreshFailing', 1,
    "the refresh of the host egress allowlist from DNS (every 10 minutes)",
    'the last refresh failed (a hostname does not resolve: its addresses stay blocked), or none ran for 30 minutes, for 20 minutes (so 50 minutes after the last refresh that ran)', 'warning');
  /** A machine's private-network ingress table is not loaded, or its check stopped. */
  public static readonly PRIVATE_INGRESS_NOT_LOADED = new MonitoringAlert('PrivateIngressNotLoaded', 1,
    'the private-network ingress table of every watched machine in a private network (checked every 2 minutes)',
    'its nftables table was missing after the last check, which loads it again, so every machine of the private network reaches every port, or no check ran for 10 minutes (its last answer is stale), for 5 minutes', 'critical');
  /** A machine's metadata guard (only root reaches the metadata service) is not loaded, or its check stopped. */
  public static readonly METADATA_GUARD_NOT_LOADED = new MonitoringAlert('MetadataGuardNotLoaded', 1,
    'the metadata guard of every watched machine with backup tooling (checked every 2 minutes)',
    'its nftables table was missing after the last check, which loads it again, so any process reads the backup secrets in the user data, or no check ran for 10 minutes (its last answer is stale), for 5 minutes', 'critical');
  /** A host table's check found it missing and loaded it again: the alerts above never see a flush it repaired at once. */
  public static readonly HOST_TABLE_REPAIRED = new MonitoringAlert('HostTableRepaired', 1,
    'the host egress allowlist, the private-network ingress table and the metadata guard of every watched machine (their 2-minute checks)',
    'a check found its nftables table missing and loaded it again within the last hour: something flushed the ruleset (nft flush ruleset, a firewall tool) and the table was gone for up to 2 minutes, which the alerts on a missing table never see, as it is back when they read', 'warning');
  /** nftables.service no longer runs the host tables' loader: a drop-in read after the parts' resets its commands. */
  public static readonly HOST_TABLES_LOADER_BYPASSED = new MonitoringAlert('HostTablesLoaderBypassed', 1,
    "nftables.service's commands on every watched machine with a host table (read by its 2-minute checks)",
    "its start, reload or stop is not the host tables' loader (a drop-in read after nftables.service.d/zz-sovereign-*.conf resets it), so every restart, reload or stop leaves the host tables out until the checks load them again, for 5 minutes", 'warning');
  /** A machine has less than 10% of its memory available (Phase 2). */
  public static readonly MEMORY_ALMOST_EXHAUSTED = new MonitoringAlert('MemoryAlmostExhausted', 2,
    'the memory of every watched machine', 'less than 10% is available for 10 minutes', 'warning');
  /** The kernel killed a process for memory (Phase 2). */
  public static readonly OUT_OF_MEMORY_KILL = new MonitoringAlert('OutOfMemoryKill', 2,
    'the kernel of every watched machine', 'it killed a process for memory in the last 30 minutes', 'warning');
  /** A disk is full within 24 hours at its current growth (Phase 2). */
  public static readonly DISK_WILL_FILL = new MonitoringAlert('DiskWillFillIn24Hours', 2,
    'every disk and volume of the watched machines', 'at the growth of the last 6 hours it is full within 24 hours, for 1 hour', 'critical');
  /** A machine's CPUs are more than 90% busy (Phase 2). */
  public static readonly CPU_SATURATED = new MonitoringAlert('CpuSaturated', 2,
    'the CPUs of every watched machine', 'they are more than 90% busy for 30 minutes', 'warning');

  /** Every alert the library ships, in the order the phase documents list them. */
  public static all(): MonitoringAlert[] {
    return [
      MonitoringAlert.UPTIME_CHECK_FAILED, MonitoringAlert.TLS_CERTIFICATE_EXPIRING, MonitoringAlert.BACKUP_TOO_OLD,
      MonitoringAlert.BACKUP_JOB_FAILED, MonitoringAlert.RESTORE_DRILL_FAILED, MonitoringAlert.RESTORE_DRILL_MISSED,
      MonitoringAlert.ROLLOUT_FAILED, MonitoringAlert.EGRESS_ALLOWLIST_NOT_LOADED, MonitoringAlert.EGRESS_ALLOWLIST_REFRESH_FAILING,
      MonitoringAlert.PRIVATE_INGRESS_NOT_LOADED, MonitoringAlert.METADATA_GUARD_NOT_LOADED, MonitoringAlert.HOST_TABLE_REPAIRED, MonitoringAlert.HOST_TABLES_LOADER_BYPASSED, MonitoringAlert.DISK_ABOVE_VOLUME_THRESHOLD, MonitoringAlert.DISK_ABOVE_SPLIT_THRESHOLD, MonitoringAlert.MONITORING_TARGET_DOWN,
      MonitoringAlert.MONITORING_DATA_MISSING, MonitoringAlert.PROMETHEUS_DOWN, MonitoringAlert.WATCHDOG, MonitoringAlert.MEMORY_ALMOST_EXHAUSTED, MonitoringAlert.OUT_OF_MEMORY_KILL,
      MonitoringAlert.DISK_WILL_FILL, MonitoringAlert.CPU_SATURATED,
    ];
  }

  /** The alerts a phase ships. */
  public static forPhase(phase: Phase): MonitoringAlert[] {
    // A JavaScript caller's 1 has no `number`, so every comparison would be false: no alerts, without a word.
    requireInstance('MonitoringAlert.forPhase', 'phase', phase, Phase, 'use Phase.ONE, Phase.TWO or Phase.THREE (the object, not its number)');
    return MonitoringAlert.all().filter((a) => a.sincePhase <= phase.number);
  }

  private constructor(
    /** The `alertname`. */
    public readonly name: string,
    /** The first phase that ships it. */
    public readonly sincePhase: number,
    /** What it watches. */
    public readonly watches: string,
    /** When it fires, with the numbers. */
    public readonly firesWhen: string,
    /** Its severity, in words. */
    public readonly severity: string,
  ) {}

  /** The `alertname`. */
  public toString(): string {
    return this.name;
  }
}

function pct(share: number): string {
  return `${Math.round(share * 100)}%`;
}
