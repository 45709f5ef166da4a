import { Duration } from '../core/duration';
import { Size } from '../core/size';
import { fail, optionalBoolean, optionalString, propNames, refuseUnknownProps, requireInstance, requireProps } from '../core/runtime-checks';
import { missingValue, ValidationError } from '../core/validation-message';
import { gpuServerNames, gpuServerPrice } from '../cost/price-gpu';
import { Component } from './component';
import { Phase } from './phase';
import { ROADMAP_THRESHOLDS } from './thresholds';
import { componentConstant } from './private/component-constant';

/** What the roadmap decides on: measured facts, not forecasts. */
export interface RoadmapMetrics {
  /** Customers paying today. */
  readonly payingCustomers: number;
  /** Model API spend per month, in EUR (net). */
  readonly monthlyModelApiSpendEur: number;
  /** Measured p95 latency of the product's main request path. */
  readonly p95Latency: Duration;
  /** The p95 latency promised in the SLA. */
  readonly latencySla: Duration;
  /** Current database size. */
  readonly databaseSize: Size;
  /** Database growth per month. */
  readonly databaseGrowthPerMonth: Size;
  /** Disk size of the machine the database lives on. */
  readonly diskSize: Size;
  /** Whether a regulation or contract requires inference without external APIs. */
  readonly offlineInferenceRequired: boolean;
  /** Restore drills that failed in the last 90 days. */
  readonly failedRestoreDrills: number;
  /** Production releases per month. */
  readonly releasesPerMonth: number;
  /**
   * What the team reckons running self-hosted inference costs it a month beyond the server (on-call,
   * model updates, evaluation), in EUR. With it, `assess` prices self-hosting against the model API spend.
   * @default - not stated: self-hosting is flagged from the spend threshold, without a break-even
   */
  readonly selfHostingOperationsEurPerMonth?: number;
  /**
   * The dedicated GPU server self-hosting would run on, by its name in the price file; only with
   * `selfHostingOperationsEurPerMonth`, whose break-even prices it.
   * @default 'gex44'
   */
  readonly selfHostingGpuServer?: string;
}

/** The figures of the self-hosting break-even, as `assess` used them. */
export interface SelfHostingBreakEven {
  /** The GPU server priced, such as `gex44`. */
  readonly gpuServer: string;
  /** Its monthly price, net EUR. */
  readonly serverMonthlyEur: number;
  /** Its one-time setup fee, net EUR, and the months it is spread over. */
  readonly setupFeeEur: number;
  /** The months the setup fee is spread over. */
  readonly setupFeeMonths: number;
  /** The operations allowance the team stated. */
  readonly operationsEurPerMonth: number;
  /** Server + setup fee share + operations. */
  readonly selfHostedEurPerMonth: number;
  /** The measured model API spend. */
  readonly modelApiEurPerMonth: number;
  /** API spend minus self-hosted cost: positive when self-hosting is cheaper. */
  readonly savingEurPerMonth: number;
  /** Months until the setup fee is earned back by the saving (excluding the fee), when there is a saving. */
  readonly paybackMonths?: number;
  /** When the GPU price was seen, and whether a dated source confirms it. */
  readonly priceAsOf: string;
  /** Whether a dated source confirms the GPU price. */
  readonly priceVerified: boolean;
  /** The GPU price's source ids. */
  readonly priceSources: readonly string[];
}

export { ROADMAP_THRESHOLDS } from './thresholds';

/** One concrete change, with its reason in numbers. */
export interface RoadmapChange {
  /** Stable identifier, such as `attach-volume`. */
  readonly id: string;
  /** What to do. */
  readonly change: string;
  /** Why, with the measured numbers and the threshold they crossed. */
  readonly reason: string;
  /** The lowest phase in which the change belongs; below it, its component is an early adoption. */
  readonly minimumPhase: Phase;
  /** The roadmap component it brings in, if any. */
  readonly component?: Component;
}

/** What the measured numbers call for: a phase, changes, and the self-hosting break-even. */
export interface RoadmapAssessment {
  /**
   * The phase the paying customers call for: a phase is entered on its own threshold, never because one
   * component's threshold is crossed.
   */
  readonly recommendedPhase: Phase;
  /**
   * The changes the numbers call for, most urgent first. One that builds a component the recommended phase
   * postpones says so, with the early adoption to declare.
   */
  readonly changes: RoadmapChange[];
  /** The self-hosting break-even, when the team stated its operations allowance. */
  readonly selfHosting?: SelfHostingBreakEven;
}

/** Thresholds, not hopes: turns measured metrics into a phase and concrete changes. */
export class Roadmap {
  /**
   * Assesses measured metrics. Pure: the same metrics always give the same answer.
   * Throws a `ValidationError` naming the field when a metric is missing, negative, not a number or misspelt.
   */
  public static assess(metrics: RoadmapMetrics): RoadmapAssessment {
    checkMetrics(metrics);
    const t = ROADMAP_THRESHOLDS;
    const changes: RoadmapChange[] = [];
    const gb = (s: Size) => formatNumber(s.toMebibytes() / 1024);
    const seconds = (d: Duration) => `${formatNumber(d.toSeconds())} s`;
    const eur = (n: number) => `EUR ${n.toLocaleString('en-US', { maximumFractionDigits: 2 })}`;

    if (metrics.failedRestoreDrills > 0) {
      changes.push({
        id: 'fix-restore',
        change: 'fix the backups before anything else, and release nothing until a restore drill passes',
        reason: `${metrics.failedRestoreDrills} restore drill${metrics.failedRestoreDrills === 1 ? '' : 's'} failed in the last 90 days; a backup that does not restore is no backup`,
        minimumPhase: Phase.ONE,
      });
    }
    if (metrics.payingCustomers >= t.phaseThreePayingCustomers) {
      changes.push({
        id: 'enter-phase-3',
        change: 'enter Phase 3: scale production to dedicated vCPUs and move observability to its own machine',
        reason: `${metrics.payingCustomers} paying customers is at least the ${t.phaseThreePayingCustomers} that mark real traction`,
        minimumPhase: Phase.THREE,
        component: Component.MONITORING_MACHINE,
      });
    } else if (metrics.payingCustomers >= t.phaseTwoPayingCustomers) {
      changes.push({
        id: 'enter-phase-2',
        change: 'enter Phase 2: add an offsite non-Hetzner backup, host metrics and alerting',
        reason: `${metrics.payingCustomers} paying customer${metrics.payingCustomers === 1 ? '' : 's'}: recovery risk now has a price`,
        minimumPhase: Phase.TWO,
        component: Component.OFFSITE_BACKUP,
      });
    }

    const diskMb = metrics.diskSize.toMebibytes();
    const dbShare = metrics.databaseSize.toMebibytes() / diskMb;
    const growthMb = metrics.databaseGrowthPerMonth.toMebibytes();
    const monthsLeft = growthMb > 0 ? (diskMb - metrics.databaseSize.toMebibytes()) / growthMb : Infinity;
    const growth = `grows ${gb(metrics.databaseGrowthPerMonth)} GB/month`;
    if (dbShare > t.splitDatabaseDiskShare) {
      changes.push({
        id: 'split-app-db',
        change: 'move the database off the app disk: to a volume now, to its own server when CPU contends',
        reason: `DB data ${gb(metrics.databaseSize)} GB is over ${pct(t.splitDatabaseDiskShare)} of the ${gb(metrics.diskSize)} GB disk and ${growth}`,
        minimumPhase: Phase.THREE,
        component: Component.SPLIT_APP_DB,
      });
    } else if (dbShare > t.volumeDiskShare) {
      changes.push({
        id: 'attach-volume',
        change: 'attach a volume for the database (and back it up with dumps: Hetzner backups skip volumes)',
        reason: `DB data ${gb(metrics.databaseSize)} GB is over ${pct(t.volumeDiskShare)} of the ${gb(metrics.diskSize)} GB disk and ${growth}`,
        minimumPhase: Phase.TWO,
        component: Component.DATA_VOLUME,
      });
    } else if (monthsLeft < t.minimumMonthsOfDisk) {
      changes.push({
        id: 'attach-volume',
        change: 'attach a volume for the database (and back it up with dumps: Hetzner backups skip volumes)',
        reason: `at ${gb(metrics.databaseGrowthPerMonth)} GB/month the ${gb(metrics.diskSize)} GB disk is full in ${formatNumber(monthsLeft)} months, under the ${t.minimumMonthsOfDisk} months kept in reserve`,
        minimumPhase: Phase.TWO,
        component: Component.DATA_VOLUME,
      });
    }

    if (metrics.p95Latency.isLongerThan(metrics.latencySla)) {
      changes.push({
        id: 'scale-production',
        // Not "the next type of its preset": a preset lists fallbacks for when a type is sold out, and cx33's is cpx32, no larger.
        change: 'rescale the production machine to a larger type of its line, with more vCPUs and memory, such as cx33 → cx43 (keep_disk makes it reversible)',
        reason: `p95 latency ${seconds(metrics.p95Latency)} is over the ${seconds(metrics.latencySla)} SLA`,
        minimumPhase: Phase.ONE,
      });
    }
    const selfHosting = metrics.selfHostingOperationsEurPerMonth === undefined ? undefined : breakEven(metrics);
    const figures = selfHosting && `${selfHosting.gpuServer} at ${eur(selfHosting.serverMonthlyEur)}/month + ${eur(selfHosting.setupFeeEur)} setup over ${selfHosting.setupFeeMonths} months `
      + `+ ${eur(selfHosting.operationsEurPerMonth)}/month operations = ${eur(selfHosting.selfHostedEurPerMonth)}/month `
      + `(GPU price as of ${selfHosting.priceAsOf}${selfHosting.priceVerified ? '' : ', unverified'})`;
    if (metrics.offlineInferenceRequired) {
      changes.push({
        id: 'self-host-inference',
        change: 'self-host inference inside the EU control plane',
        reason: `a regulation or contract requires inference without external model APIs${figures ? `; it costs ${figures}` : ''}`,
        minimumPhase: Phase.THREE,
        component: Component.SELF_HOSTED_INFERENCE,
      });
    } else if (selfHosting && selfHosting.savingEurPerMonth > 0) {
      changes.push({
        id: 'self-host-inference',
        change: 'self-host inference: it costs less than the model API bill',
        reason: `model API spend ${eur(metrics.monthlyModelApiSpendEur)}/month is over self-hosting's ${figures}, `
          + `saving ${eur(selfHosting.savingEurPerMonth)}/month; the setup fee is earned back in ${formatNumber(selfHosting.paybackMonths!)} months`,
        minimumPhase: Phase.THREE,
        component: Component.SELF_HOSTED_INFERENCE,
      });
    } else if (selfHosting) {
      if (metrics.monthlyModelApiSpendEur >= t.selfHostingSpendEur) {
        changes.push({
          id: 'price-self-hosting',
          change: 'keep the model APIs: self-hosting costs more at this spend',
          reason: `model API spend ${eur(metrics.monthlyModelApiSpendEur)}/month is under self-hosting's ${figures}`,
          minimumPhase: Phase.THREE,
          component: Component.SELF_HOSTED_INFERENCE,
        });
      }
    } else if (metrics.monthlyModelApiSpendEur >= t.selfHostingSpendEur) {
      changes.push({
        id: 'price-self-hosting',
        change: 'price self-hosted inference against the model API bill (a decision point, not yet a build): state selfHostingOperationsEurPerMonth',
        reason: `model API spend ${eur(metrics.monthlyModelApiSpendEur)}/month is at least the ${eur(t.selfHostingSpendEur)}/month where self-hosting can pay`,
        minimumPhase: Phase.THREE,
        component: Component.SELF_HOSTED_INFERENCE,
      });
    }
    if (metrics.releasesPerMonth > t.permanentStagingReleasesPerMonth) {
      changes.push({
        id: 'consider-permanent-staging',
        change: 'consider a permanent staging environment',
        reason: `${metrics.releasesPerMonth} releases/month is over ${t.permanentStagingReleasesPerMonth}: on-demand staging would be up most of the time`,
        minimumPhase: Phase.ONE,
        component: Component.PERMANENT_STAGING,
      });
    }

    // The phases are stages of the business, entered on their own threshold (paying customers). A full disk or an
    // offline-inference obligation calls for its component, not for the whole next phase: Phase 3 for a pre-revenue
    // product with a full disk would have required a monitoring machine and dedicated vCPUs nothing measured asks for.
    const recommended = metrics.payingCustomers >= t.phaseThreePayingCustomers ? Phase.THREE
      : metrics.payingCustomers >= t.phaseTwoPayingCustomers ? Phase.TWO : Phase.ONE;
    return { recommendedPhase: recommended, changes: changes.map((c) => asEarlyAdoption(c, recommended)), ...(selfHosting ? { selfHosting } : {}) };
  }
}

/**
 * A change that builds a component the recommended phase postpones is an early adoption: it says so, with the
 * adoption to declare. Pricing self-hosting builds nothing, so it needs none.
 */
function asEarlyAdoption(change: RoadmapChange, phase: Phase): RoadmapChange {
  const component = change.component;
  if (!component || change.id === 'price-self-hosting' || phase.permits(component)) return change;
  return {
    ...change,
    change: `${change.change}; ${phase} postpones ${component.title}, so adopt it early with this reason: `
      + `earlyAdoptions: [{ component: Component.${componentConstant(component)}, reason: '…' }]`,
  };
}

function breakEven(metrics: RoadmapMetrics): SelfHostingBreakEven {
  const price = gpuServerPrice(metrics.selfHostingGpuServer ?? 'gex44');
  const months = ROADMAP_THRESHOLDS.selfHostingSetupFeeMonths;
  const operations = metrics.selfHostingOperationsEurPerMonth!;
  const cents = (n: number) => Math.round(n * 100) / 100;
  const selfHosted = cents(price.monthly + price.setupFee / months + operations);
  const saving = cents(metrics.monthlyModelApiSpendEur - selfHosted);
  const runningSaving = metrics.monthlyModelApiSpendEur - price.monthly - operations;
  return {
    gpuServer: price.name,
    serverMonthlyEur: price.monthly,
    setupFeeEur: price.setupFee,
    setupFeeMonths: months,
    operationsEurPerMonth: operations,
    selfHostedEurPerMonth: selfHosted,
    modelApiEurPerMonth: metrics.monthlyModelApiSpendEur,
    savingEurPerMonth: saving,
    ...(saving > 0 ? { paybackMonths: cents(price.setupFee / runningSaving) } : {}),
    priceAsOf: price.asOf,
    priceVerified: price.verified,
    priceSources: price.sources,
  };
}

function checkMetrics(metrics: RoadmapMetrics): void {
  const at = 'RoadmapMetrics';
  requireProps(at, metrics, 'pass the measured metrics, such as { payingCustomers: 3, monthlyModelApiSpendEur: 120, … }');
  // From JavaScript a misspelt optional metric (selfHostingOperationEurPerMonth) would drop the break-even without a word.
  refuseUnknownProps(at, undefined, metrics, propNames<RoadmapMetrics>({
    payingCustomers: true, monthlyModelApiSpendEur: true, p95Latency: true, latencySla: true, databaseSize: true, databaseGrowthPerMonth: true,
    diskSize: true, offlineInferenceRequired: true, failedRestoreDrills: true, releasesPerMonth: true, selfHostingOperationsEurPerMonth: true, selfHostingGpuServer: true,
  }));
  const counts: Array<keyof RoadmapMetrics> = ['payingCustomers', 'monthlyModelApiSpendEur', 'failedRestoreDrills', 'releasesPerMonth'];
  const sizes: Array<keyof RoadmapMetrics> = ['databaseSize', 'databaseGrowthPerMonth', 'diskSize'];
  const durations: Array<keyof RoadmapMetrics> = ['p95Latency', 'latencySla'];
  const measured = (field: string, value: unknown, fix: string) => {
    if (value === undefined || value === null) throw new ValidationError(missingValue(at, field, 'the roadmap decides on measured facts, and this one is required', fix));
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) fail(at, field, value, 'a measured figure is a finite number >= 0', fix);
  };
  for (const field of counts) measured(field, metrics[field], 'pass a measured, finite number >= 0');
  // Customers and failed drills are counted: 0.5 customers (a share of revenue from JSON, say) stayed in Phase 1 unnoticed.
  for (const field of ['payingCustomers', 'failedRestoreDrills'] as const) {
    if (!Number.isInteger(metrics[field])) fail(at, field, metrics[field], 'it is a count, and a count is a whole number', `pass how many, such as ${Math.floor(metrics[field])}`);
  }
  for (const field of sizes) requireInstance(at, field, metrics[field], Size, 'pass a Size, such as Size.gibibytes(40)');
  for (const field of durations) requireInstance(at, field, metrics[field], Duration, 'pass a Duration, such as Duration.millis(800)');
  // Optional: from JavaScript, null is not "left out" (the break-even would run on it), nor "missing".
  if (metrics.selfHostingOperationsEurPerMonth === null) {
    fail(at, 'selfHostingOperationsEurPerMonth', null, 'it is optional, and null is no figure', 'leave it out until self-hosting is priced, or pass the monthly EUR it would take beyond the server, >= 0');
  }
  if (metrics.selfHostingOperationsEurPerMonth !== undefined) {
    measured('selfHostingOperationsEurPerMonth', metrics.selfHostingOperationsEurPerMonth, 'pass the monthly EUR the team reckons running inference takes beyond the server, >= 0');
  }
  const gpuServer = optionalString(at, 'selfHostingGpuServer', metrics.selfHostingGpuServer, "name a GPU server of the price file, such as 'gex44'");
  if (gpuServer !== undefined && !gpuServerNames().includes(gpuServer)) {
    fail(at, 'selfHostingGpuServer', gpuServer, `the price file has no such GPU server (known: ${gpuServerNames().join(', ')})`,
      'use one of these: the GPU servers priced are those of the price file bundled with the library (dist/lib/cost/hetzner-prices.json in the package), each with its date and source, and one it lacks needs a library release that prices it');
  }
  if (gpuServer !== undefined && metrics.selfHostingOperationsEurPerMonth === undefined) {
    fail(at, 'selfHostingGpuServer', gpuServer, 'it is priced only in the break-even, which needs selfHostingOperationsEurPerMonth: alone it was ignored without a word',
      'state selfHostingOperationsEurPerMonth too (what running inference takes beyond the server, EUR a month), or leave the server out');
  }
  if (metrics.offlineInferenceRequired === undefined) {
    throw new ValidationError(missingValue(at, 'offlineInferenceRequired', 'whether inference must run without external APIs decides self-hosting', 'pass true or false'));
  }
  optionalBoolean(at, 'offlineInferenceRequired', metrics.offlineInferenceRequired);
  if (metrics.diskSize.toMebibytes() === 0) fail(at, 'diskSize', metrics.diskSize, 'the database machine has a disk', 'pass the disk size of the database machine');
  // A database larger than the disk it lives on is a mix-up of units or of disks, and read as a full disk it called for a split.
  if (metrics.databaseSize.isLargerThan(metrics.diskSize)) {
    fail(at, 'databaseSize', metrics.databaseSize, `it is larger than the ${metrics.diskSize} disk it lives on (diskSize)`,
      'pass both sizes of one disk, in their units, such as databaseSize: Size.gibibytes(12), diskSize: Size.gibibytes(80) (a volume\'s size, if the database is on one)');
  }
  if (metrics.latencySla.toSeconds() === 0) fail(at, 'latencySla', metrics.latencySla, 'an SLA of no time at all is always missed', 'pass the p95 latency your SLA promises');
}

function pct(share: number): string {
  return `${Math.round(share * 100)}%`;
}

function formatNumber(n: number): string {
  return String(Number(n.toFixed(2)));
}
