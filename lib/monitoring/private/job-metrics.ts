import { TEXTFILE_DIR, UNITS } from './paths';

/** The systemd units of a BackupPlan's jobs (lib/backup), which the monitoring watches. */
export const BACKUP_JOB_UNITS = ['backup-dump', 'backup-push', 'backup-prune', 'backup-check'] as const;
/** The systemd unit of the RestoreDrill (lib/backup). */
export const RESTORE_DRILL_UNIT = 'restore-drill';

/** The name of the drop-in that hooks a watched job unit (`sovereign-monitoring-setup watch`). */
export const JOB_HOOK_DROP_IN = '50-sovereign-monitoring.conf';

/**
 * What the monitoring writes for node exporter about each watched job unit: when watching began (its setup's `watch`)
 * and the time of the last success and of the last failure (the unit's `sovereign-job-metric` hook), and the hook's
 * drop-in on the unit. They belong to the
 * part that installs the unit (its `runtimeFiles`): the rollout removes them with it, and no series of a job that is
 * gone stays behind with its last value.
 */
export function jobMetricFiles(units: readonly string[]): string[] {
  // The unit's hook (its drop-in) goes with it too: left behind, it named a unit that no longer exists.
  return units.flatMap((unit) => [
    ...['watched', 'success', 'failure'].map((kind) => `${TEXTFILE_DIR}/sovereign-job-${unit}-${kind}.prom`),
    `${UNITS}/${unit}.service.d/${JOB_HOOK_DROP_IN}`,
  ]);
}
