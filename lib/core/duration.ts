import { requireAmount } from './private/amount';
import { requireInstance } from './runtime-checks';
/**
 * A length of time.
 *
 * Conversions throw instead of rounding, so "36 hours" never silently becomes "1 day".
 */
export class Duration {
  /** A duration of `amount` milliseconds. */
  public static millis(amount: number): Duration {
    return new Duration(amount, 0.001);
  }

  /** A duration of `amount` seconds. */
  public static seconds(amount: number): Duration {
    return new Duration(amount, 1);
  }

  /** A duration of `amount` minutes. */
  public static minutes(amount: number): Duration {
    return new Duration(amount, 60);
  }

  /** A duration of `amount` hours. */
  public static hours(amount: number): Duration {
    return new Duration(amount, 3600);
  }

  /** A duration of `amount` days. */
  public static days(amount: number): Duration {
    return new Duration(amount, 86400);
  }

  private readonly secondAmount: number;

  private constructor(amount: number, secondsPerUnit: number) {
    requireAmount('Duration', amount, 'Duration.hours(6)');
    this.secondAmount = amount * secondsPerUnit;
  }

  /** The duration in seconds. */
  public toSeconds(): number {
    return this.secondAmount;
  }

  /** The duration in milliseconds. */
  public toMillis(): number {
    return Math.round(this.secondAmount * 1e6) / 1e3;
  }

  /** The duration in whole minutes; throws when it is not a whole number of them (90 seconds in minutes). */
  public toMinutes(): number {
    return this.whole(60, 'minutes');
  }

  /** The duration in whole hours; throws when it is not a whole number of them (90 minutes in hours). */
  public toHours(): number {
    return this.whole(3600, 'hours');
  }

  /** The duration in whole days; throws when it is not a whole number of them (36 hours in days). */
  public toDays(): number {
    return this.whole(86400, 'days');
  }

  /** Whether this duration is strictly longer than `other`. */
  public isLongerThan(other: Duration): boolean {
    // From JavaScript, a bare number (30) compared as undefined and answered false without a word.
    requireInstance('Duration.isLongerThan', 'other', other, Duration, 'pass a Duration, such as Duration.seconds(30), not a bare number');
    return this.secondAmount > other.secondAmount;
  }

  /** In the largest whole unit, such as `2 hours` or `90 seconds`. */
  public toString(): string {
    const units: Array<[number, string]> = [[86400, 'day'], [3600, 'hour'], [60, 'minute'], [1, 'second']];
    for (const [size, name] of units) {
      if (this.secondAmount % size === 0 && this.secondAmount >= size) {
        const n = this.secondAmount / size;
        return `${n} ${name}${n === 1 ? '' : 's'}`;
      }
    }
    return `${this.toMillis()} ms`;
  }

  private whole(secondsPerUnit: number, unit: string): number {
    const value = this.secondAmount / secondsPerUnit;
    if (!Number.isInteger(value)) {
      throw new RangeError(`Duration: ${this} is not a whole number of ${unit}. Fix: convert to a smaller unit.`);
    }
    return value;
  }
}
