import { Duration } from '../../core/duration';
import { Schedule, Weekday } from '../schedule';

/**
 * The longest the restore drill may take for one copy of the backups (fetch, restore, verify): its service's timeout is
 * this times the copies it restores, one after the other, and monitoring counts a drill missed only after its interval
 * plus that time.
 */
export const DRILL_RUN_TIME_PER_COPY = Duration.hours(12);

/**
 * How late the drill's timer may start a run (its `RandomizedDelaySec`), so that the machines drilling one Storage Box
 * do not all connect at once. A run that starts late ends late: monitoring's wait includes it.
 */
export const DRILL_START_DELAY = Duration.minutes(15);

/** When the restore drill runs when its props name no schedule: Mondays at 06:00 UTC. */
export const DRILL_DEFAULT_SCHEDULE = Schedule.weekly({ day: Weekday.MONDAY, hour: 6 });
