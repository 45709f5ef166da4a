import { requireAmount } from './private/amount';
import { requireInstance } from './runtime-checks';
/**
 * An amount of storage, in binary units.
 *
 * Hetzner sells disks and volumes in whole GB (which its API means as GiB), so
 * the conversions here refuse to round silently.
 */
export class Size {
  /** An amount in mebibytes. */
  public static mebibytes(amount: number): Size {
    return new Size(amount, 1);
  }

  /** An amount in gibibytes. */
  public static gibibytes(amount: number): Size {
    return new Size(amount, 1024);
  }

  /** An amount in tebibytes. */
  public static tebibytes(amount: number): Size {
    return new Size(amount, 1024 * 1024);
  }

  private readonly mebibyteAmount: number;

  private constructor(amount: number, mebibytesPerUnit: number) {
    requireAmount('Size', amount, 'Size.gibibytes(50)');
    this.mebibyteAmount = amount * mebibytesPerUnit;
  }

  /** The size in MiB. */
  public toMebibytes(): number {
    return this.mebibyteAmount;
  }

  /** Throws when the size is not a whole number of GiB. */
  public toGibibytes(): number {
    return Size.whole(this.mebibyteAmount / 1024, this, 'GiB');
  }

  /** Whether this size is strictly larger than `other`. */
  public isLargerThan(other: Size): boolean {
    // From JavaScript, a bare number (20) compared as undefined and answered false without a word.
    requireInstance('Size.isLargerThan', 'other', other, Size, 'pass a Size, such as Size.gibibytes(20), not a bare number');
    return this.mebibyteAmount > other.mebibyteAmount;
  }

  /** In the largest whole unit, such as `20 GiB` or `1 TiB`. */
  public toString(): string {
    if (this.mebibyteAmount % (1024 * 1024) === 0 && this.mebibyteAmount > 0) return `${this.mebibyteAmount / (1024 * 1024)} TiB`;
    if (this.mebibyteAmount % 1024 === 0) return `${this.mebibyteAmount / 1024} GiB`;
    return `${this.mebibyteAmount} MiB`;
  }

  private static whole(value: number, size: Size, unit: string): number {
    if (!Number.isInteger(value)) {
      throw new RangeError(`Size: ${size} is not a whole number of ${unit}. Fix: use a size that converts exactly, or convert to a smaller unit.`);
    }
    return value;
  }
}
