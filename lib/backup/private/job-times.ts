import { Duration } from '../../core/duration';
import { HeartbeatCheck } from '../heartbeat-check';
import { Schedule } from '../schedule';

/** The durations added up. */
export function total(...ds: Duration[]): Duration {
  return Duration.seconds(ds.reduce((seconds, d) => seconds + d.toSeconds(), 0));
}

/**
 * How long a job waits for another of the machine's jobs to release the repositories (one at a time: prune needs
 * them to itself); then it fails, naming the job it waited for. Rendered as `LOCK_WAIT_SECONDS`.
 */
export const REPOSITORY_LOCK_WAIT = Duration.hours(1);

/**
 * How late each backup job's timer may start it (`RandomizedDelaySec`: machines sharing a Storage Box do not all
 * connect at once) and how long its run may take (`TimeoutStartSec`, which includes the wait for the repository
 * lock). The units are rendered from these, and so are the heartbeat checks' grace times: a check whose grace is
 * shorter than a run the unit allows reports a slow run as a missed one.
 */
export const JOB_TIMES = {
  /**
   * Runs before the dump and the push: the wait for the repository lock, then half an hour for a login and a
   * repository open per target. A oneshot unit has no start timeout unless it sets one: a login that hung held the
   * dump and the push queued behind it for good.
   */
  bootstrap: { longestRun: total(REPOSITORY_LOCK_WAIT, Duration.minutes(30)) },
  /** Started by the push's timer (the push needs it), so its start delay is the push's. */
  dump: { longestRun: Duration.hours(6) },
  push: { startDelay: Duration.minutes(10), longestRun: Duration.hours(6) },
  /** Includes the times it gave way to the jobs that make the backups (GIVE_WAY_WAIT): a prune that cannot finish fails. */
  prune: { startDelay: Duration.minutes(30), longestRun: Duration.hours(6) },
  /** Includes the times it gave way to the jobs that make the backups (GIVE_WAY_WAIT): a check that cannot finish fails. */
  check: { startDelay: Duration.minutes(30), longestRun: Duration.hours(12) },
} as const;

/**
 * How long after its timer a dump may start writing to the targets, under a restic lock that a drill of its repository
 * sees: the push timer's delay, the bootstrap it waits for, its own wait for the repository lock, and half an hour for
 * its steps before the stream opens (the clock, the databases, a first dump's check for an unrestored rebuild). A drill
 * that finds the newest dump past its age limit and no dump writing fails once this much more has passed.
 */
export const DUMP_STARTS_WRITING = total(JOB_TIMES.push.startDelay, JOB_TIMES.bootstrap.longestRun, REPOSITORY_LOCK_WAIT, Duration.minutes(30));

/**
 * How long a check or a prune that gave way to the jobs that make the backups (the bootstrap, the dump, the push: they
 * come first for the repository lock) waits to have it back: their longest runs. The check's and the prune's own
 * timeouts include that time; one that gives way so often that it cannot finish fails, and its heartbeat alerts.
 */
export const GIVE_WAY_WAIT = total(JOB_TIMES.bootstrap.longestRun, JOB_TIMES.dump.longestRun, JOB_TIMES.push.longestRun);

/**
 * How late each job's success may come after its timer elapsed, the grace of its heartbeat check: the timer's random
 * delay and the longest runs of its unit and of what it waits for (the bootstrap, and for the push the dump when there is one).
 */
export const JOB_GRACE = {
  dump: total(JOB_TIMES.push.startDelay, JOB_TIMES.bootstrap.longestRun, JOB_TIMES.dump.longestRun),
  push: total(JOB_TIMES.push.startDelay, JOB_TIMES.bootstrap.longestRun, JOB_TIMES.dump.longestRun, JOB_TIMES.push.longestRun),
  pushWithoutDump: total(JOB_TIMES.push.startDelay, JOB_TIMES.bootstrap.longestRun, JOB_TIMES.push.longestRun),
  prune: total(JOB_TIMES.prune.startDelay, JOB_TIMES.prune.longestRun),
  check: total(JOB_TIMES.check.startDelay, JOB_TIMES.check.longestRun),
} as const;

/** A Duration of whole minutes in words, such as `12 h 10 min`. */
export function hoursAndMinutes(d: Duration): string {
  const minutes = d.toMinutes();
  return [Math.floor(minutes / 60) > 0 ? `${Math.floor(minutes / 60)} h` : '', minutes % 60 > 0 ? `${minutes % 60} min` : ''].filter((w) => w !== '').join(' ');
}

/** A Duration of whole minutes as a unit writes it: `6h`, `10min`. */
export function systemdTime(d: Duration): string {
  const minutes = d.toMinutes();
  return minutes % 60 === 0 ? `${minutes / 60}h` : `${minutes}min`;
}

/** A check of a job run on `schedule`, whose success may come `latest` after its timer elapsed. */
export function heartbeatCheck(name: string, schedule: Schedule, latest: Duration): HeartbeatCheck {
  return { name, schedule, period: schedule.interval, grace: latest };
}
