import { Duration } from '../../lib/core/duration';

/** How long waitFor looks, how often, and what for (its error names it). */
export interface WaitOptions {
  /** What the wait is for, as the end of "timed out after … waiting for <what>". */
  readonly what: string;
  readonly timeout: Duration;
  /** The pause between looks. @default Duration.millis(50) */
  readonly interval?: Duration;
}

/** A value that passes an `if`. */
export type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

/** What waitFor throws when the time is up (a caller that goes on without the condition catches this alone). */
export class WaitTimedOut extends Error {}

/**
 * Looks at `condition` until it gives a truthy value, and resolves with that value; throws WaitTimedOut naming `what`
 * once `timeout` has passed on the clock (not after a count of looks: a slow look would stretch that bound). An error
 * the condition throws ends the wait with that error. A zero timeout makes exactly one look; the last pause is cut to
 * the time left, so that the wait takes no longer than asked.
 */
export async function waitFor<T>(condition: () => T | Promise<T>, options: WaitOptions): Promise<Truthy<T>> {
  const timeout = options.timeout.toMillis();
  const interval = (options.interval ?? Duration.millis(50)).toMillis();
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await condition();
    if (value) return value as Truthy<T>;
    const left = deadline - Date.now();
    if (left <= 0) throw new WaitTimedOut(`timed out after ${timeout} ms waiting for ${options.what}`);
    await new Promise((r) => setTimeout(r, Math.min(interval, left)));
  }
}

/** For `.catch` after a wait whose caller goes on without its condition: a timeout is swallowed, any other error rethrown. */
export function unlessTimedOut(e: unknown): void {
  if (!(e instanceof WaitTimedOut)) throw e;
}
