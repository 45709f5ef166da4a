/** How a product rehearses a release. */
export class StagingMode {
  /**
   * Rehearse on the always-on test machine: nothing extra is deployed or paid for.
   * Right while releases are small and test data is representative.
   */
  public static reuseTestMachine(): StagingMode {
    return new StagingMode('reuse-test-machine', false);
  }

  /**
   * Rehearse on a separate server built from a fresh production snapshot (or backup image),
   * on real-shaped data. The release path takes the snapshot and passes its ID to the staging
   * stack's `staging_image` variable; the server gets production's type, since a snapshot
   * needs at least the disk it was taken from.
   */
  public static fromProductionSnapshot(): StagingMode {
    return new StagingMode('production-snapshot', true);
  }

  private constructor(
    /** The mode's name, such as `production-snapshot`. */
    public readonly name: string,
    /** Whether the mode deploys a staging stack of its own. */
    public readonly hasOwnStack: boolean,
  ) {}

  /** The mode's name. */
  public toString(): string {
    return this.name;
  }
}

/** Labels that mark on-demand resources: the staging reaper deletes only what carries all of them. */
export const ON_DEMAND_LABELS = { lifecycle: 'on-demand', purpose: 'release-rehearsal' } as const;
/**
 * The label naming the stack an on-demand staging resource belongs to, such as `acme-staging`: a release finds its
 * stack's staging by it. A name prefix also matched another stack's (`acme-staging-…` of a product `acme-staging-lab`).
 */
export const STACK_LABEL = 'stack';
/** The label holding the expiry date (`YYYY-MM-DD`, UTC): the resource may be deleted from that day on. */
export const EXPIRES_AT_LABEL = 'expires-at';

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Why an expiry date is invalid, or `undefined`. */
export function expiryProblem(expiresAt: string | undefined): string | undefined {
  if (expiresAt === undefined || expiresAt === '') return 'staging exists on demand and must say when it may be torn down';
  const match = DATE.exec(expiresAt);
  if (!match) return 'an expiry is a UTC date written YYYY-MM-DD';
  const date = new Date(`${expiresAt}T00:00:00Z`);
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== expiresAt) return `${expiresAt} is not a calendar date`;
  return undefined;
}

/** How many days the release path gives staging when not told (`release --staging-days`). */
export const DEFAULT_STAGING_DAYS = 2;

/**
 * The expiry that gives staging at least `days` whole days from `now`: the reaper deletes from the start of the
 * expiry day (UTC), so it is the day after `now + days` (one day from 23:59 would otherwise end a minute later,
 * in the middle of the rehearsal).
 */
export function expiryAfterDays(days: number, now: Date): string {
  return new Date(now.getTime() + (days + 1) * 86_400_000).toISOString().slice(0, 10);
}

/** Whether a resource labelled with `expiresAt` has expired at `now`. */
export function isExpired(expiresAt: string, now: Date): boolean {
  return now.getTime() >= new Date(`${expiresAt}T00:00:00Z`).getTime();
}
