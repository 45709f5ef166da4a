/**
 * How many pre-release snapshots of production's server `snapshot` keeps unless `--keep` says otherwise: the newest
 * ones, each billed by its size every month (the cost estimate counts them).
 */
export const DEFAULT_PRE_RELEASE_SNAPSHOTS_KEPT = 3;
