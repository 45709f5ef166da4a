import { IConstruct } from 'constructs';
import { Duration } from '../../core/duration';
import { isReason, REASON_RULE } from '../../core/reason';
import { invalidValue, ValidationError } from '../../core/validation-message';

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

/** The fix that lifts the limit, named in every refusal of it. */
export const LIFT_BACKUP_AGE_LIMIT = 'pass maxBackupAgeReason with the reason the backups may go unnoticed that long';

/**
 * Whether `maxBackupAgeReason` was given, refusing one that is not a specific reason: a construct given one may
 * go past MAX_BACKUP_AGE_LIMIT.
 */
export function backupAgeLimitLifted(scope: IConstruct, reason: string | undefined): boolean {
  if (reason === undefined) return false;
  if (!isReason(reason)) {
    throw new ValidationError(invalidValue(scope, 'maxBackupAgeReason', reason,
      `letting backups go unnoticed for more than ${MAX_BACKUP_AGE_LIMIT} needs a specific reason (${REASON_RULE})`,
      "say why, such as 'archive machine, restored from the quarterly export if lost'"));
  }
  return true;
}

/** Refuses a `maxBackupAge` above MAX_BACKUP_AGE_LIMIT; `consequence` says what the longer age would let pass. */
export function refuseBackupAgeAboveLimit(scope: IConstruct, maxBackupAge: Duration, consequence: string): void {
  if (!maxBackupAge.isLongerThan(MAX_BACKUP_AGE_LIMIT)) return;
  throw new ValidationError(invalidValue(scope, 'maxBackupAge', maxBackupAge, consequence,
    `use at most Duration.days(${MAX_BACKUP_AGE_LIMIT.toDays()}), such as Duration.hours(26) with a daily schedule; or ${LIFT_BACKUP_AGE_LIMIT}`));
}
