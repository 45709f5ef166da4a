import { Duration } from '../../core/duration';
import { Schedule, Weekday } from '../schedule';

/** How often `BackupPlan.phase1` dumps: daily at 03:00 UTC. */
export const PHASE_ONE_SCHEDULE = Schedule.daily({ hour: 3 });

/** How often `BackupPlan.phase2` dumps: every 6 hours at a quarter past. */
export const PHASE_TWO_SCHEDULE = Schedule.everyHours(6, { minute: 15 });

/** When every preset (and a plan that names none) applies the retention: Sundays at 04:00 UTC. */
export const PRESET_PRUNE_SCHEDULE = Schedule.weekly({ day: Weekday.SUNDAY, hour: 4 });

/** When every preset (and a plan that names none) runs `restic check`: daily at 05:00 UTC. */
export const PRESET_CHECK_SCHEDULE = Schedule.daily({ hour: 5 });

/**
 * The age at which a backup made on `schedule` counts as too old when a plan names none: one interval plus
 * 2 hours for the run itself and the timer's jitter. The restore drill of another stack judges by it too.
 */
export function defaultMaxBackupAge(schedule: Schedule): Duration {
  return Duration.seconds(schedule.interval.toSeconds() + 2 * 3600);
}
