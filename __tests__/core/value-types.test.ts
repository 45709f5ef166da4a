import { DataClass, Duration, Environment, PrivateNetwork, Product, Size } from '../../lib';
import { testStack } from '../setup/stack';
import { cidrProblem, isAnywhere } from '../../lib/core/cidr';
import { labelKeyProblem, labelValueProblem } from '../../lib/core/labels';

describe('Size', () => {
  test('converts between units and reads like a person writes it', () => {
    expect(Size.tebibytes(1).toGibibytes()).toBe(1024);
    expect(Size.gibibytes(40).toString()).toBe('40 GiB');
    expect(Size.mebibytes(512).toString()).toBe('512 MiB');
    expect(Size.gibibytes(80).isLargerThan(Size.gibibytes(40))).toBe(true);
  });
  test('fails when a conversion would round', () => {
    expect(() => Size.mebibytes(1500).toGibibytes()).toThrow(/not a whole number of GiB/);
  });
  test.each([[-1], [NaN], [Infinity]])('fails when the amount is %p', (amount) => {
    expect(() => Size.gibibytes(amount)).toThrow(/is not allowed: an amount is a finite, non-negative number\. Fix: pass an amount >= 0, such as Size\.gibibytes\(50\)/);
  });
  test('names text from a JavaScript caller as text, with the call that takes the number', () => {
    expect(() => Size.gibibytes('50' as unknown as number)).toThrow(/Size: '50' is not allowed: it is text, and an amount is a number\. Fix: pass the number itself, such as Size\.gibibytes\(50\)/);
    expect(() => Duration.hours('6' as unknown as number)).toThrow(/Duration: '6' is not allowed: it is text.* such as Duration\.hours\(6\)/);
  });
});

describe('Duration', () => {
  test('converts and prints', () => {
    expect(Duration.days(7).toHours()).toBe(168);
    expect(Duration.hours(36).toString()).toBe('36 hours');
    expect(Duration.days(1).toString()).toBe('1 day');
    expect(Duration.minutes(90).isLongerThan(Duration.hours(1))).toBe(true);
  });
  test('fails when a conversion would round', () => {
    expect(() => Duration.hours(36).toDays()).toThrow(/not a whole number of days/);
  });
  test('fails when negative', () => {
    expect(() => Duration.days(-1)).toThrow(/non-negative/);
  });
});

describe('DataClass', () => {
  test('orders classes from public to secret', () => {
    expect(DataClass.all().map((c) => c.name)).toEqual(['public', 'pseudonymized', 'sensitive', 'secret']);
    expect(DataClass.strictest([DataClass.PUBLIC, DataClass.SECRET, DataClass.SENSITIVE])).toBe(DataClass.SECRET);
    expect(DataClass.strictest([])).toBeUndefined();
  });
});

describe('CIDR blocks', () => {
  test.each(['10.0.0.0/16', '203.0.113.0/24', '198.51.100.7/32', '2001:db8::/32', '2001:db8:0:1::/64', '::/0', '0.0.0.0/0'])('accepts %s', (cidr) => {
    expect(cidrProblem(cidr)).toBeUndefined();
  });
  test.each([
    ['10.0.0.1/16', /host bits/],
    ['2001:db8::1/32', /host bits/],
    ['10.0.0.0/33', /at most 32/],
    ['10.0.0.0', /address and a prefix length/],
    ['example.eu/24', /not an IPv4 or IPv6 address/],
    ['300.1.1.1/32', /not an IPv4 or IPv6 address/],
  ])('rejects %s', (cidr, why) => {
    expect(cidrProblem(cidr)).toMatch(why);
  });
  test('knows the whole internet when it sees it', () => {
    expect(isAnywhere('0.0.0.0/0')).toBe(true);
    expect(isAnywhere('::/0')).toBe(true);
    expect(isAnywhere('10.0.0.0/8')).toBe(false);
  });
});

describe('Hetzner labels', () => {
  test.each(['production', 'app_1', 'a.b-c', '', 'x'.repeat(63)])('accepts the value %p', (value) => {
    expect(labelValueProblem(value)).toBeUndefined();
  });
  test.each(['feat/x', '-start', 'end-', 'x'.repeat(64), 'user@example.eu', '2026-11-25T10:00:00Z'])('rejects the value %p', (value) => {
    expect(labelValueProblem(value)).toBeDefined();
  });
  test('accepts prefixed keys and rejects empty names', () => {
    expect(labelKeyProblem('example.eu/owner')).toBeUndefined();
    expect(labelKeyProblem('environment')).toBeUndefined();
    expect(labelKeyProblem('example.eu/')).toBeDefined();
    expect(labelKeyProblem('')).toBeDefined();
  });
});

describe('a value from a second copy of the library', () => {
  // Two versions in node_modules give two Environment classes: the check cannot accept the other's
  // value (its protections may differ), so it says what happened instead of "it is not an Environment".
  const second = (): typeof import('../../lib') => {
    let copy: typeof import('../../lib') | undefined;
    jest.isolateModules(() => { copy = require('../../lib'); });
    return copy!;
  };

  test('is refused naming the second copy and how to install one', () => {
    const other = second();
    expect(other.Environment).not.toBe(Environment);
    const { stack } = testStack('production');
    expect(() => new PrivateNetwork(stack, 'Network', { environment: other.Environment.PRODUCTION, name: 'acme-production-network' }))
      .toThrow(/^production\/Network\.environment: 'production' is not allowed: it is an Environment from another copy of cdktf-sovereign-hetzner .*Fix: install the library once \(npm ls cdktf-sovereign-hetzner/);
    expect(() => new Product({ name: 'acme', phase: other.Phase.ONE } as any)).toThrow(/^Product\(acme\)\.phase: .* is not allowed: it is a Phase from another copy of cdktf-sovereign-hetzner/);
  });

  test('a plain object shaped like the value is still refused as not being one', () => {
    const { stack } = testStack('production');
    expect(() => new PrivateNetwork(stack, 'Network', { environment: { name: 'production', protectedFromLoss: true } as any, name: 'acme-production-network' }))
      .toThrow(/^production\/Network\.environment: .* is not allowed: it is not an Environment\. Fix:/);
  });
});
