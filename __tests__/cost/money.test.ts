import * as fc from 'fast-check';
import { Money } from '../../lib/cost/money';
import { Budget } from '../../lib/cost/budget';

describe('Money', () => {
  test('sums list prices exactly, as a person adds them', () => {
    expect(Money.sum([5.49, 8.49, 1.698, 0.5, 0.5].map(Money.euros)).toString()).toBe('€16.68');
    expect(Money.euros(8.49).times(0.2).toString(4)).toBe('€1.6980');
    expect(Money.euros(0.0136).plus(Money.euros(0.0008)).toString(4)).toBe('€0.0144');
    expect(Money.euros(0.0144).times(700).min(Money.euros(8.99)).toString()).toBe('€8.99');
  });

  test('the sum of amounts in cents is exact whatever their order', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 1_000_000 }), { maxLength: 60 }), (cents) => {
      const total = Money.sum(cents.map((c) => Money.euros(c / 100)));
      const reversed = Money.sum([...cents].reverse().map((c) => Money.euros(c / 100)));
      const expected = cents.reduce((a, b) => a + b, 0);
      return total.format() === (expected / 100).toFixed(2) && reversed.format() === total.format();
    }));
  });

  test('fails when an amount is negative or not a number', () => {
    expect(() => Money.euros(-5)).toThrow(/Money: -5 is not allowed: an amount is a finite, non-negative number\. Fix: pass an amount >= 0, such as Money\.euros\(25\)/);
    expect(() => Money.euros(Number.NaN)).toThrow(/not allowed/);
    expect(() => Money.euros('30' as unknown as number)).toThrow(/Money: '30' is not allowed: it is text, and an amount is a number\. Fix: pass the number itself, such as Money\.euros\(25\)/);
    expect(() => Budget.monthly(30 as unknown as Money)).toThrow(/Budget\.monthly: 30 is not allowed: a plain number is not an amount of money\. Fix: pass Money\.euros\(30\)/);
  });
});

// Audit (cost): format() rounded through floating point (micros / 1e6 * 10^decimals + 1e-9), which rounds half-way
// amounts down once they are large enough for the nudge to vanish: €2,048.00035 printed €2048.0003, €262,144.035 €262144.03.
test('rounds half up exactly, whatever the amount', () => {
  expect(Money.euros(2048.00035).toString(4)).toBe('€2048.0004');
  expect(Money.euros(262144.035).toString()).toBe('€262144.04');
  fc.assert(fc.property(fc.integer({ min: 0, max: 100_000_000 }), fc.constantFrom(0, 2, 4), (units, decimals) => {
    // A half-way amount at the printed precision, in millionths: the digits, then a 5.
    const unit = 10 ** (6 - decimals);
    const micros = units * unit + unit / 2;
    const expected = BigInt(units + 1);
    const digits = expected.toString().padStart(decimals + 1, '0');
    const text = decimals === 0 ? digits : `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
    return Money.euros(micros / 1_000_000).format(decimals) === text;
  }));
});
