import { requireAmount } from '../core/private/amount';
import { aType, fail, requireArray, requireInstance } from '../core/runtime-checks';
const MICROS_PER_EURO = 1_000_000;

/**
 * An amount of euros, net of VAT.
 *
 * Kept as whole millionths of a euro, so that sums of list prices (5.49 + 8.49, or 20% of 8.49)
 * are exact and a page, a CLI and a test that print the same amount print the same digits.
 */
export class Money {
  /** No money: €0. */
  public static readonly ZERO = new Money(0);

  /** An amount in euros; negative amounts throw. */
  public static euros(amount: number): Money {
    requireAmount('Money', amount, 'Money.euros(25)');
    return new Money(Math.round(amount * MICROS_PER_EURO));
  }

  /** The sum of the amounts; zero for none. */
  public static sum(amounts: readonly Money[]): Money {
    const checked = requireArray('Money.sum', 'amounts', amounts, 'pass a list of amounts, such as [Money.euros(5.49), Money.euros(8.49)]',
      (m, prop) => requireInstance('Money.sum', prop, m, Money, 'pass Money.euros(…) for each amount'));
    return new Money(checked.reduce((total, m) => total + m.micros, 0));
  }

  private constructor(private readonly micros: number) {}

  /** This amount and `other` together. */
  public plus(other: Money): Money {
    return new Money(this.micros + Money.other('plus', other).micros);
  }

  /** The difference; never below zero (a saving is computed the other way round). */
  public minus(other: Money): Money {
    return new Money(Math.max(0, this.micros - Money.other('minus', other).micros));
  }

  /** This amount times a non-negative factor, rounded to a millionth of a euro. */
  public times(factor: number): Money {
    if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 0) {
      fail('Money.times', 'factor', factor, typeof factor === 'number' ? 'a factor is a finite number >= 0' : `it is ${aType(factor)}, and a factor is a number`,
        'pass a number >= 0, such as 0.2 for a fifth (Number(text) for text from the environment or JSON)');
    }
    return new Money(Math.round(this.micros * factor));
  }

  /** The smaller of the two: hourly billing stops at the monthly price. */
  public min(other: Money): Money {
    return this.micros <= Money.other('min', other).micros ? this : other;
  }

  /** Whether this amount is more than `other`. */
  public isGreaterThan(other: Money): boolean {
    return this.micros > Money.other('isGreaterThan', other).micros;
  }

  /** Whether the amount is €0. */
  public isZero(): boolean {
    return this.micros === 0;
  }

  /** This amount as a share of `whole` (0.8 for 80%); 0 when `whole` is zero. */
  public ratioTo(whole: Money): number {
    return Money.other('ratioTo', whole).micros === 0 ? 0 : this.micros / whole.micros;
  }

  /** The amount in euros, as a number (such as `12.5`). */
  public toEuros(): number {
    return this.micros / MICROS_PER_EURO;
  }

  /** `€5.49`: rounded to the cent. Hourly prices read better with `toString(4)`: `€0.0144`. */
  public toString(decimals = 2): string {
    return `€${this.format(decimals)}`;
  }

  /** This amount as a whole percentage of `whole`, rounded down (57 for €28.50 of €50); 0 when `whole` is zero. */
  public percentOf(whole: Money): number {
    // In whole millionths: ratioTo(whole) * 100 is 56.99999999999999 for €28.50 of €50.
    return Money.other('percentOf', whole).micros === 0 ? 0 : Math.floor((this.micros * 100) / whole.micros);
  }

  /** The amount without the currency sign, rounded half up to `decimals` places (0 to 6). */
  public format(decimals = 2): string {
    if (!Number.isInteger(decimals) || decimals < 0 || decimals > 6) {
      fail('Money.format', 'decimals', decimals, 'the places after the point are a whole number from 0 to 6', 'pass 2 for cents, or 4 for hourly prices');
    }
    // In whole units of the last printed place, never through a float of euros (which rounds large half-way amounts down).
    const unit = 10 ** (6 - decimals);
    const digits = String(Math.floor((this.micros + unit / 2) / unit)).padStart(decimals + 1, '0');
    return decimals === 0 ? digits : `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
  }

  /** The other amount of an arithmetic method: a JavaScript caller's number would make every result NaN, without a word. */
  private static other(method: string, other: unknown): Money {
    return requireInstance(`Money.${method}`, 'other', other, Money, 'pass an amount, such as Money.euros(5), not a bare number');
  }
}
