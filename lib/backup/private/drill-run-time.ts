import { Duration } from '../../core/duration';

/**
 * The longest the restore drill may take for one copy of the backups (fetch, restore, verify): its service's timeout is
 * this times the copies it restores, one after the other, and monitoring counts a drill missed only after its interval
 * plus that time.
 */
export const DRILL_RUN_TIME_PER_COPY = Duration.hours(12);
