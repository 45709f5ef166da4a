/**
 * A length of time.
 *
 * Conversions throw instead of rounding, so "36 hours" never silently becomes "1 day".
 */
export class Duration {
  public static millis(amount: number): Duration {
    return new Duration(amount, 0.001);
  }

  public static seconds(amount: number): Duration {
    return new Duration(amount, 1);
  }

  public static minutes(amount: number): Duration {
    return new Duration(amount, 60);
  }

  public static hours(amount: number): Duration {
    return new Duration(amount, 3600);
  }

  public static days(amount: number): Duration {
    return new Duration(amount, 86400);
  }

  private readonly secondAmount: number;

  private constructor(amount: number, secondsPerUnit: number) {
    if (!Number.isFinite(amount) || amount < 0) {
      throw new RangeError(`Duration: ${amount} is not allowed: a duration must be a finite, non-negative number. Fix: pass an amount >= 0.`);
    }
    this.secondAmount = amount * secondsPerUnit;
  }

  public toSeconds(): number {
    return this.secondAmount;
  }

  public toMillis(): number {
    return Math.round(this.secondAmount * 1e6) / 1e3;
  }

  public toMinutes(): number {
    return this.whole(60, 'minutes');
  }

  public toHours(): number {
    return this.whole(3600, 'hours');
  }

  public toDays(): number {
    return this.whole(86400, 'days');
  }

  public isLongerThan(other: Duration): boolean {
    return this.secondAmount > other.secondAmount;
  }

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
