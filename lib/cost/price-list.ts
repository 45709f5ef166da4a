import { ValidationError } from '../core/validation-message';
import { Money } from './money';
import { isIsoDate, PriceConfidence, PriceData, PriceEntry, PriceListSpec, priceDataProblems, RegionalPriceEntry, SourceSpec } from './price-data';
import { MissingPrice } from './unknown-price-error';
import HETZNER_PRICES from './hetzner-prices.json';

/** A price as the estimator uses it, with where it comes from. */
export interface ResolvedPrice {
  /** The monthly price: what an always-on resource costs, and the cap of hourly billing. */
  readonly monthly: Money;
  /** The price per started hour, where Hetzner publishes one. */
  readonly hourly?: Money;
  /** The id of the price list the figure belongs to, such as `2026-06-15`. */
  readonly list: string;
  /** How sure the figure is. */
  readonly confidence: PriceConfidence;
  /** Source ids, listed in the price file. */
  readonly sources: readonly string[];
  /** Why a figure is used although it is not verified for this list. */
  readonly assumed?: string;
  /** A remark from the price file, such as what the price includes. */
  readonly note?: string;
}

/** Why Hetzner does not charge for a resource type. */
export interface FreeOfCharge {
  /** The basis for saying so, in words. */
  readonly basis: string;
  /** Source ids (keys of the price file's `sources`). */
  readonly sources: readonly string[];
}

/** When the resource is billed, and when it was ordered. */
export interface PriceDates {
  /** The day the cost is for, `YYYY-MM-DD`. */
  readonly billingDate: string;
  /**
   * The day the resource was ordered, or (for a server) last rescaled, `YYYY-MM-DD`.
   * @default - the billing date: a new order
   */
  readonly orderedOn?: string;
}

const FILE = 'lib/cost/hetzner-prices.json';

/**
 * Hetzner's net list prices, dated, with their sources: which price applies to a resource
 * depends on the day it is billed and, for cloud servers, the day it was ordered or last
 * rescaled (since 2026-06-15 new orders and rescales pay the new list; older servers keep the
 * 2026-04-01 one).
 *
 * Every figure comes from one data file; a lookup without a price throws, naming what is missing.
 */
export class PriceList {
  /** The prices shipped with the library (lib/cost/hetzner-prices.json). */
  public static hetzner(): PriceList {
    PriceList.bundled ??= PriceList.fromData(HETZNER_PRICES as unknown);
    return PriceList.bundled;
  }

  /** A price list from data in the price file's shape; throws listing every problem. */
  public static fromData(data: unknown): PriceList {
    const problems = priceDataProblems(data);
    if (problems.length > 0) {
      throw new ValidationError(`PriceList: the price data is not usable:\n  ${problems.join('\n  ')}`);
    }
    return new PriceList(data as PriceData);
  }

  private static bundled?: PriceList;

  // The file's shape is the library's own: a team reads prices through the methods, and passes a file to `fromData`.
  private constructor(private readonly data: PriceData) {}

  /** The date the prices were taken from Hetzner's public price list. */
  public get takenOn(): string {
    return this.data.takenOn;
  }

  /** What the prices are, such as `net list prices, excluding VAT; …` (every price is in EUR). */
  public get basis(): string {
    return this.data.basis;
  }

  /** The dated price lists of the file, oldest first. */
  public get lists(): readonly PriceListSpec[] {
    return this.data.priceLists;
  }

  /** A source by id. */
  public source(id: string): SourceSpec | undefined {
    return this.data.sources[id];
  }

  /**
   * The price list that applies to a section (`serverTypes`, `storageBoxes`…) on a billing date,
   * for a resource ordered on `orderedOn`.
   */
  public listFor(section: string, dates: PriceDates): PriceListSpec {
    checkDate('billingDate', dates.billingDate);
    const orderedOn = dates.orderedOn ?? dates.billingDate;
    checkDate('orderedOn', orderedOn);
    const applicable = this.data.priceLists.filter((l) => l.effectiveFrom <= dates.billingDate
      && (l.covers === undefined || l.covers.includes(section))
      && (l.ordersFrom === undefined || orderedOn >= l.ordersFrom));
    const list = applicable[applicable.length - 1];
    if (!list) {
      throw new MissingPrice(`billing date ${dates.billingDate}`, `the price file starts on ${this.data.priceLists[0].effectiveFrom}`, 'estimate a later date');
    }
    return list;
  }

  /** A server type's price in a location. */
  public serverType(name: string, location: string, dates: PriceDates): ResolvedPrice {
    const item = this.data.serverTypes[name];
    if (!item) {
      throw new MissingPrice(`server type '${name}'`, `it is not in the price file (priced: ${Object.keys(this.data.serverTypes).join(', ')})`,
        `use a priced type, or add '${name}' with its prices and sources to ${FILE}`);
    }
    const region = this.region(location);
    const list = this.listFor('serverTypes', dates);
    const entry = item.prices[list.id];
    const price = entry?.[region] as PriceEntry | undefined;
    if (!price) {
      const newOrder = dates.orderedOn === undefined || dates.orderedOn >= (list.ordersFrom ?? list.effectiveFrom);
      const orderable = item.orderableUntil === undefined || !(item.notOrderableIn ?? []).includes(location);
      const why = !orderable && newOrder
        ? `it cannot be ordered in ${location} since ${item.orderableUntil}, so it has no new-order price; it is priced only for servers that already exist`
        : `the ${list.id} price list has no ${region} price for it (priced under: ${this.pricedUnder(item.prices, region)})`;
      const fix = !orderable && newOrder
        ? `move to a current type, or, for an existing server, pass the date it was ordered (serversOrderedOn / --ordered-on)`
        : `add its ${region} price under "${list.id}" to ${FILE}, with the source`;
      throw new MissingPrice(`server type '${name}' in ${location}`, why, fix);
    }
    return this.resolve(price, entry, list, item.sources, item.confidence);
  }

  /** Traffic included with a server type in a location, in TiB per month (Hetzner's "TB"; its API gives 20 * 2^40 bytes). */
  public includedTrafficTb(serverType: string, location: string): number {
    const tb = this.data.serverTypes[serverType]?.includedTrafficTb[this.region(location)];
    if (tb === undefined) throw new MissingPrice(`traffic included with '${serverType}' in ${location}`, 'it is not in the price file', `add it to ${FILE}`);
    return tb;
  }

  /** The price of one TiB (Hetzner's "TB") of outgoing traffic above what is included, in a location. */
  public trafficOverage(location: string): ResolvedPrice {
    const perTb = this.data.traffic.overagePerTb[this.region(location)];
    return { monthly: Money.euros(perTb), list: 'traffic', confidence: this.data.traffic.confidence, sources: this.data.traffic.sources };
  }

  /** Hetzner's server backups cost this share of the server's price (0.2 for 20%). */
  public get serverBackupShare(): number {
    return this.data.serverBackups.percentOfServerPrice / 100;
  }

  /** The same share as the price file writes it, in percent (20 for 20%): for saying it. */
  public get serverBackupPercent(): number {
    return this.data.serverBackups.percentOfServerPrice;
  }

  /** The source ids of the server-backup share. */
  public get serverBackupSources(): readonly string[] {
    return this.data.serverBackups.sources;
  }

  /** A primary IP (`ipv4` or `ipv6`). */
  public primaryIp(type: string, dates: PriceDates): ResolvedPrice {
    return this.simple('primaryIps', this.data.primaryIps, type, `primary IP type '${type}'`, dates);
  }

  /** A floating IP (`ipv4` or `ipv6`). */
  public floatingIp(type: string, dates: PriceDates): ResolvedPrice {
    return this.simple('floatingIps', this.data.floatingIps, type, `floating IP type '${type}'`, dates);
  }

  /** A Storage Box plan, such as `bx11`. */
  public storageBox(type: string, dates: PriceDates): ResolvedPrice {
    return this.simple('storageBoxes', this.data.storageBoxes, type, `Storage Box type '${type}'`, dates);
  }

  /** The Object Storage base price (per account, for every hour with a bucket). */
  public objectStorageBase(dates: PriceDates): ResolvedPrice {
    return this.simple('objectStorage', { base: this.data.objectStorage }, 'base', 'Object Storage', dates);
  }

  /** A load balancer type in a location. */
  public loadBalancer(type: string, location: string, dates: PriceDates): ResolvedPrice {
    const item = this.data.loadBalancers[type];
    if (!item) {
      throw new MissingPrice(`load balancer type '${type}'`, `it is not in the price file (priced: ${Object.keys(this.data.loadBalancers).join(', ')})`,
        `add it with its prices and sources to ${FILE}`);
    }
    const region = this.region(location);
    const list = this.listFor('loadBalancers', dates);
    const entry = item.prices[list.id];
    const price = entry?.[region] as PriceEntry | undefined;
    if (!price) {
      throw new MissingPrice(`load balancer type '${type}' in ${location}`,
        `the ${list.id} price list has no ${region} price for it (priced under: ${this.pricedUnder(item.prices, region)})`,
        `add its verified ${region} price under "${list.id}" to ${FILE}, with the source`);
    }
    return this.resolve(price, entry, list, item.sources, item.confidence);
  }

  /** The price per GB and month of volumes or snapshots. */
  public perGbMonth(section: 'volumes' | 'snapshots', dates: PriceDates): ResolvedPrice {
    const item = this.data[section];
    const list = this.listFor(section, dates);
    const price = item.prices[list.id];
    if (price?.perGbMonth === undefined) {
      throw new MissingPrice(section, `the ${list.id} price list has no per-GB price for them`, `add it to ${FILE}`);
    }
    return {
      monthly: Money.euros(price.perGbMonth), list: list.id, confidence: price.confidence ?? item.confidence, sources: item.sources,
      ...(price.note ? { note: price.note } : {}),
    };
  }

  /** The smallest volume Hetzner sells, in GB. */
  public get minVolumeSizeGb(): number {
    return this.data.volumes.minSizeGb;
  }

  /** Why Hetzner does not charge for a resource type (the basis in words, and its source ids), if it does not. */
  public free(resourceType: string): FreeOfCharge | undefined {
    return this.data.freeResourceTypes[resourceType];
  }

  /** The price region of a location (`eu` for fsn1, nbg1 and hel1). */
  public region(location: string): string {
    const region = this.data.priceRegions[location];
    if (!region) {
      throw new MissingPrice(`location '${location}'`, `it is not a priced location (known: ${Object.keys(this.data.priceRegions).join(', ')})`,
        'use a Hetzner location, or add it to priceRegions in the price file');
    }
    return region;
  }

  private simple(section: string, items: Record<string, { prices: Record<string, PriceEntry>; sources: readonly string[]; confidence: PriceConfidence }>,
    name: string, what: string, dates: PriceDates): ResolvedPrice {
    const item = items[name];
    if (!item) {
      throw new MissingPrice(what, `it is not in the price file (priced: ${Object.keys(items).join(', ')})`, `add it with its prices and sources to ${FILE}`);
    }
    const list = this.listFor(section, dates);
    const price = item.prices[list.id];
    if (!price) {
      throw new MissingPrice(what, `the ${list.id} price list has no price for it (priced under: ${Object.keys(item.prices).join(', ')})`,
        `add its verified price under "${list.id}" to ${FILE}, with the source`);
    }
    return this.resolve(price, undefined, list, item.sources, item.confidence);
  }

  private resolve(price: PriceEntry, regional: RegionalPriceEntry | undefined, list: PriceListSpec, sources: readonly string[], confidence: PriceConfidence): ResolvedPrice {
    const assumed = price.assumed ?? regional?.assumed;
    const note = price.note ?? regional?.note;
    return {
      monthly: Money.euros(price.monthly ?? 0),
      ...(price.hourly !== undefined ? { hourly: Money.euros(price.hourly) } : {}),
      list: list.id,
      confidence: price.confidence ?? regional?.confidence ?? confidence,
      sources,
      ...(assumed ? { assumed } : {}),
      ...(note ? { note } : {}),
    };
  }

  private pricedUnder(prices: Record<string, RegionalPriceEntry>, region: string): string {
    const lists = Object.entries(prices).filter(([, e]) => e[region] !== undefined).map(([id]) => id);
    return lists.length > 0 ? lists.join(', ') : `no list has a ${region} price`;
  }
}

function checkDate(name: string, value: string): void {
  if (!isIsoDate(value)) {
    throw new ValidationError(`PriceList.${name}: '${value}' is not allowed: it is not a date. Fix: write it as YYYY-MM-DD, such as '2026-05-01'.`);
  }
}
