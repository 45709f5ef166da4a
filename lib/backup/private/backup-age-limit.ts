import { Duration } from '../../core/duration';

/**
 * The longest `maxBackupAge` a `BackupPlan` takes without `maxBackupAgeReason`: 6 days.
 *
 * Backups that stop without a job failing (a stopped timer, a machine whose jobs no longer run) are noticed only when
 * the newest one is older than `maxBackupAge` (the BackupTooOld alert). Of the copies taken before they stopped, only
 * Hetzner's server backups run out on their own: 7 daily slots, the oldest replaced every day whether or not a dump
 * ran (production keeps them on). The plan's own copies do not: the local copies are rotated only by a dump that
 * succeeded, and restic's `--keep-daily` counts days that have a snapshot. So an alert after 7 days comes when every
 * image is from after the stop; after 6 days it leaves one day to keep the last image from before it (convert it
 * into a snapshot, which Hetzner keeps until deleted; Hetzner picks the hour of its backups, so no less than a day).
 * The operating model's cadence gives the same week: daily dumps, and a weekly proof that recovery works, which a
 * longer threshold lets pass without a new backup.
 */
export const MAX_BACKUP_AGE_LIMIT = Duration.days(6);
