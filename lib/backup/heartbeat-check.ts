import { Duration } from '../core/duration';
import { Schedule } from './schedule';

/**
 * One check to create at the ping service (Healthchecks) for a job that pings the heartbeat, with the period and
 * grace time that job needs.
 *
 * The jobs ping `/start` when they begin and the check's name on success, and Healthchecks counts a job down when no
 * success arrives within the grace after a start, or within the period plus the grace after the last success. So the
 * grace covers the timer's random delay and the longest run the job's unit allows (for the push, after the dump it
 * waits for): with Healthchecks' default grace of an hour, a dump, check or drill that took longer than an hour was
 * reported down while it ran, and a run that started late after a quick one was reported missed.
 */
export interface HeartbeatCheck {
  /** The check's name (its slug under the ping key): `<server>-<job>`, such as `acme-production-app-push`. */
  readonly name: string;
  /** When the job runs (UTC). */
  readonly schedule: Schedule;
  /** The check's period: the schedule's interval. */
  readonly period: Duration;
  /** The check's grace time: the timer's random delay plus the longest run the job's unit allows. */
  readonly grace: Duration;
}
