import { Duration } from '../core/duration';
import { Money } from './money';
import { ResolvedPrice } from './price-list';

/** What a line of the estimate prices. */
export enum CostKind {
  /** A cloud server, at its server type's price. */
  SERVER = 'server',
  /** Hetzner's daily server backups: a share of the server's price. */
  SERVER_BACKUPS = 'server backups',
  /** A primary IPv4 or IPv6 address. */
  PRIMARY_IP = 'primary IP',
  /** A floating IP address. */
  FLOATING_IP = 'floating IP',
  /** A block storage volume, by the GB-month. */
  VOLUME = 'volume',
  /** A server snapshot, by the GB-month. */
  SNAPSHOT = 'snapshot',
  /** A Storage Box plan. */
  STORAGE_BOX = 'Storage Box',
  /** A load balancer. */
  LOAD_BALANCER = 'load balancer',
  /** Object Storage: the base price of the buckets (the Terraform state). */
  OBJECT_STORAGE = 'Object Storage',
  /** Outgoing traffic above what the servers include. */
  TRAFFIC = 'traffic overage',
}

/** One priced item: a resource, or a part of one (a server's backups). */
export interface CostLine {
  /** The stack it is synthesized in; for costs shared by a product's stacks, the stacks' product. */
  readonly stack: string;
  /** The construct path, as recorded in the synthesized resource. */
  readonly path: string;
  /** The Terraform address, such as `hcloud_server.App_F1B96344`. */
  readonly address: string;
  /** What the line prices. */
  readonly kind: CostKind;
  /** The priced product, such as `cx33`, `bx11`, `ipv4` or `lb11`. */
  readonly item: string;
  /** Where it is, for resources priced by location. */
  readonly location?: string;
  /** In words, such as `cx33 in fsn1`. */
  readonly description: string;
  /** What an always-on month costs (Hetzner's monthly price, the cap of hourly billing). */
  readonly monthly: Money;
  /** The price per started hour; absent where Hetzner publishes none (sold by the GB-month). */
  readonly hourly?: Money;
  /** The unit price used, with its price list, confidence and sources. */
  readonly price: ResolvedPrice;
}

/** A synthesized resource Hetzner does not charge for, and why. */
export interface FreeResource {
  /** The stack it is synthesized in. */
  readonly stack: string;
  /** The construct path, as recorded in the synthesized resource. */
  readonly path: string;
  /** The Terraform address, such as `hcloud_firewall.App_Firewall_1A2B3C4D`. */
  readonly address: string;
  /** Why Hetzner does not charge for it, from the price file. */
  readonly basis: string;
}

/** The cost of one environment stack. */
export interface EnvironmentCost {
  /** The stack name. */
  readonly stack: string;
  /** `test`, `staging`, `production`, or `unknown` for a stack that does not say. */
  readonly environment: string;
  /** The product the stack belongs to, if it says. */
  readonly product?: string;
  /** Whether the environment exists only on demand (staging). */
  readonly onDemand: boolean;
  /** The priced lines. */
  readonly lines: readonly CostLine[];
  /** Resources Hetzner does not charge for, each with the basis for saying so. */
  readonly free: readonly FreeResource[];
  /** Resources of other providers, which Hetzner does not bill (listed, never priced). */
  readonly outsideHetzner: readonly string[];
  /** A whole month of the environment. */
  readonly monthly: Money;
  /** One hour of the environment (lines without an hourly price are not in it; see `monthlyOnly`). */
  readonly hourly: Money;
  /** Lines Hetzner prices by the month only; a short-lived environment pays at most their monthly price. */
  readonly monthlyOnly: readonly CostLine[];
  /**
   * For an on-demand environment: the day the staging reaper may delete it (its `expires-at` label).
   * @default - none: an always-on environment, or one without the label
   */
  readonly expiresAt?: string;
}

/** What staging costs if left up until the reaper deletes it (a release that stopped before taking it down). */
export interface UntilExpiryCost {
  /** The staging's `expires-at` day: the reaper deletes from its start (UTC). */
  readonly expiresAt: string;
  /** The hours from the start of the billing date to the start of the expiry day. */
  readonly hours: number;
  /** Those hours of staging: each resource billed per started hour, capped at its monthly price. */
  readonly cost: Money;
}

/** Rehearsing releases on an on-demand staging environment. */
export interface RehearsalCost {
  /** The staging stack. */
  readonly stack: string;
  /** One hour of staging. */
  readonly hourly: Money;
  /** How long one rehearsal keeps staging up. */
  readonly length: Duration;
  /** The hours billed for one rehearsal: Hetzner bills every started hour. */
  readonly billedHours: number;
  /** One rehearsal: each resource billed per started hour, capped at its monthly price. */
  readonly each: Money;
  /** Rehearsals a month. */
  readonly perMonth: number;
  /** `perMonth` rehearsals. */
  readonly monthly: Money;
  /**
   * Staging left up from the billing date until its expiry, longer than a rehearsal: what one forgotten rehearsal costs.
   * @default - none: staging is modelled (no stack, so no expiry), or expires within a rehearsal
   */
  readonly untilExpiry?: UntilExpiryCost;
}

/** The seed's comparison: three permanent environments, or test always on and staging on demand. */
export interface StagingComparison {
  /** Test, staging and production all always on (plus shared costs). */
  readonly threePermanent: Money;
  /** Test and production always on, staging only for rehearsals (plus shared costs). */
  readonly testPlusOnDemand: Money;
  /** What on-demand staging saves a month. */
  readonly saving: Money;
  /** What on-demand staging costs more a month than a permanent one, when its rehearsals do (zero when it saves). */
  readonly extraCost: Money;
  /** What a permanent staging environment would cost a month, and how that figure was obtained. */
  readonly permanentStaging: Money;
  /** How `permanentStaging` was obtained, in words. */
  readonly permanentStagingBasis: string;
}

/** The cost of one product: its environments, what they share, and staging. */
export interface ProductCost {
  /** The product name; `undefined` for stacks that belong to no product. */
  readonly product?: string;
  /** The product's phase, 1 to 4. */
  readonly phase?: number;
  /** The phase's title. */
  readonly phaseTitle?: string;
  /** The product's staging mode, such as `production-snapshot`. */
  readonly stagingMode?: string;
  /** The product's environment stacks. */
  readonly environments: readonly EnvironmentCost[];
  /** Costs of the product as a whole, such as the Object Storage holding the Terraform state. */
  readonly shared: readonly CostLine[];
  /** The always-on environments, a month. */
  readonly alwaysOnMonthly: Money;
  /** The shared costs, a month. */
  readonly sharedMonthly: Money;
  /** Always-on environments plus shared costs: what the product costs a month before any rehearsal. */
  readonly permanentMonthly: Money;
  /** The on-demand staging environment's rehearsals, if it has one. */
  readonly rehearsal?: RehearsalCost;
  /** Rehearsals a month (zero without a staging stack). */
  readonly onDemandMonthly: Money;
  /** Everything a month: permanent plus rehearsals. */
  readonly monthly: Money;
  /** Three permanent environments against test plus on-demand staging. */
  readonly comparison: StagingComparison;
}

/** A phase's products and their monthly cost. */
export interface PhaseCost {
  /** The phase, 1 to 4. */
  readonly phase: number;
  /** The phase's title. */
  readonly title?: string;
  /** The products in the phase. */
  readonly products: readonly string[];
  /** The phase's products, a month. */
  readonly monthly: Money;
}

/** The estimate of an app. */
export interface CostEstimate {
  /** The currency of every amount. */
  readonly currency: 'EUR';
  /** What the amounts are, from the price file: net list prices, excluding VAT, and what server prices leave out. */
  readonly priceBasis: string;
  /** The date the prices were taken from Hetzner's price list. */
  readonly pricesTakenOn: string;
  /** The day the estimate is for. */
  readonly billingDate: string;
  /** Stacks whose servers were priced as existing ones: stack → the day they were ordered or last rescaled. */
  readonly serversOrderedOn: Readonly<Record<string, string>>;
  /** One cost per product (and one for stacks of no product). */
  readonly products: readonly ProductCost[];
  /** The products grouped by phase. */
  readonly phases: readonly PhaseCost[];
  /** The whole app, a month: every product's permanent cost plus its rehearsals. */
  readonly monthly: Money;
  /** Every priced line, environments and shared. */
  readonly lines: readonly CostLine[];
  /** Lines whose price is not verified (low or medium confidence, or an assumed figure), to check first. */
  readonly pricesToVerify: readonly CostLine[];
  /** Costs the estimate leaves out, in words (such as outgoing traffic when none was given). */
  readonly notCounted: readonly string[];
}

/** The `n` largest lines, by monthly cost. */
export function largestLines(lines: readonly CostLine[], n: number): CostLine[] {
  return [...lines].sort((a, b) => b.monthly.toEuros() - a.monthly.toEuros() || a.address.localeCompare(b.address)).slice(0, n);
}

/**
 * The cost of running `lines` for `hours` started hours: each billed per hour and capped at its
 * monthly price; a line without an hourly price costs its monthly price (an upper bound).
 */
export function billedFor(lines: readonly CostLine[], hours: number): Money {
  return Money.sum(lines.map((l) => (l.hourly ? l.hourly.times(hours).min(l.monthly) : l.monthly)));
}
