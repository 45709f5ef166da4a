import { ValidationError } from '../core/validation-message';
import { checkProps, is } from '../core/runtime-checks';

/** How many snapshots of each age a remote repository keeps (restic `forget --keep-*`). */
export interface RetentionCounts {
  /**
   * The newest snapshot of each of the last N hours that have one.
   * @default 0
   */
  readonly hourly?: number;
  /** The newest snapshot of each of the last N days that have one. */
  readonly daily: number;
  /**
   * The newest snapshot of each of the last N weeks.
   * @default 0
   */
  readonly weekly?: number;
  /**
   * The newest snapshot of each of the last N months.
   * @default 0
   */
  readonly monthly?: number;
}

/**
 * The retention policy of the remote copies: applied by the prune job with
 * `restic forget --prune`, per machine and kind of backup.
 */
export class Retention {
  /** keep-daily 7, keep-weekly 4, keep-monthly 6: a week of days, a month of weeks, half a year of months. */
  public static readonly DEFAULT = Retention.of({ daily: 7, weekly: 4, monthly: 6 });

  /** Counts are whole numbers >= 0; a plan refuses a policy that keeps no daily snapshot. */
  public static of(counts: RetentionCounts): Retention {
    const count = is.number('pass a count such as 7', { integer: true });
    // What is checked is what is built from: a frozen snapshot, each field read once (a getter answers once).
    counts = checkProps<RetentionCounts>('Retention.of', counts, { hourly: is.optional(count), daily: count, weekly: is.optional(count), monthly: is.optional(count) },
      'pass { daily: 7, weekly: 4, monthly: 6 }');
    const all = { hourly: counts.hourly ?? 0, daily: counts.daily, weekly: counts.weekly ?? 0, monthly: counts.monthly ?? 0 };
    for (const [name, n] of Object.entries(all)) {
      if (!Number.isInteger(n) || n < 0) {
        throw new ValidationError(`Retention.${name}: ${n} is not allowed: counts are whole numbers >= 0. Fix: pass a count such as 7.`);
      }
    }
    return new Retention(all.hourly, all.daily, all.weekly, all.monthly);
  }

  private constructor(
    /** How many hourly snapshots stay (the newest of each hour; 0 keeps none for the hour). */
    public readonly hourly: number,
    /** How many daily snapshots stay (the newest of each day); at least 1 in a `BackupPlan`. */
    public readonly daily: number,
    /** How many weekly snapshots stay (the newest of each week). */
    public readonly weekly: number,
    /** How many monthly snapshots stay (the newest of each month). */
    public readonly monthly: number,
  ) {}

  /** The restic arguments, such as `--keep-daily 7 --keep-weekly 4 --keep-monthly 6`. */
  public toResticArguments(): string {
    return ([['hourly', this.hourly], ['daily', this.daily], ['weekly', this.weekly], ['monthly', this.monthly]] as const)
      .filter(([, n]) => n > 0)
      .map(([name, n]) => `--keep-${name} ${n}`)
      .join(' ');
  }

  /** Such as `keep-daily 7, keep-weekly 4, keep-monthly 6`; the daily count always shows. */
  public toString(): string {
    return ([['hourly', this.hourly], ['daily', this.daily], ['weekly', this.weekly], ['monthly', this.monthly]] as const)
      .filter(([name, n]) => n > 0 || name === 'daily')
      .map(([name, n]) => `keep-${name} ${n}`)
      .join(', ');
  }
}
