// Its own module: the components publish these numbers in their thresholds, and Roadmap.assess compares
// against them, so the postponed list and the assessment cannot disagree at a boundary.

/** The numbers `Roadmap.assess` compares against. Each is documented where it is used. */
export const ROADMAP_THRESHOLDS = {
  /** Paying customers that start Phase 2. */
  phaseTwoPayingCustomers: 1,
  /** Paying customers that mean real traction (Phase 3). */
  phaseThreePayingCustomers: 25,
  /** Share of the disk the database may fill before it moves to a volume. */
  volumeDiskShare: 0.5,
  /** Months of disk that must remain at the current growth. */
  minimumMonthsOfDisk: 6,
  /** Share of the disk after which the database leaves the app machine. */
  splitDatabaseDiskShare: 0.7,
  /** Monthly model API spend (EUR) from which self-hosting is worth pricing (this figure included). */
  selfHostingSpendEur: 1500,
  /** Months a GPU server's setup fee is spread over in the break-even (a year of commitment). */
  selfHostingSetupFeeMonths: 12,
  /** Releases per month above which on-demand staging would be up most of the time. */
  permanentStagingReleasesPerMonth: 20,
} as const;
