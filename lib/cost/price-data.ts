/**
 * The shape of the price file (lib/cost/hetzner-prices.json) and the check that guards it.
 *
 * Prices are data: updating them is a change to that one file, and `priceDataProblems` (run by a
 * test and by every `PriceList`) refuses a file without dates, with a negative price, or with a
 * source nobody can look up.
 */

/** How sure the figure is: `low` marks an assumed or third-party figure the estimator names as such. */
export type PriceConfidence = 'high' | 'medium' | 'low';

/** One price under one price list. */
export interface PriceEntry {
  /** The monthly price (the cap of hourly billing). */
  readonly monthly?: number;
  /** The price per started hour, where Hetzner publishes one. */
  readonly hourly?: number;
  /** For products sold by size: the price per GB and month. */
  readonly perGbMonth?: number;
  /** Overrides the item's confidence for this figure. */
  readonly confidence?: PriceConfidence;
  /** Why a figure is used although it is not verified for this list. */
  readonly assumed?: string;
  readonly note?: string;
}

/** A price per price region (`eu`, `us`, `sin`), for products whose price depends on the location. */
export type RegionalPriceEntry = Record<string, PriceEntry | string | undefined> & {
  readonly confidence?: PriceConfidence;
  readonly assumed?: string;
  readonly note?: string;
};

/** A priced product (a server type, a Storage Box plan…) with its prices per price list id. */
export interface PricedItem<P = PriceEntry> {
  readonly prices: Record<string, P>;
  readonly sources: readonly string[];
  readonly confidence: PriceConfidence;
}

export interface ServerTypePrices extends PricedItem<RegionalPriceEntry> {
  /** Traffic included per month, per price region, in Hetzner's TB: TiB (2^40 bytes), as its API counts it. */
  readonly includedTrafficTb: Record<string, number>;
  /** The last day the type could be ordered, where it is deprecated. */
  readonly orderableUntil?: string;
  /** Locations where it can no longer be ordered. */
  readonly notOrderableIn?: readonly string[];
}

/** A dated price list: which prices apply from when, and to what. */
export interface PriceListSpec {
  /** The list's id, such as `2026-06-15`. */
  readonly id: string;
  /** The first day the list is billed. */
  readonly effectiveFrom: string;
  /** Only resources ordered (or rescaled) on or after this day get the list; older ones keep the previous one. */
  readonly ordersFrom?: string;
  /** The sections the list changes; other sections keep the previous list. @default - all */
  readonly covers?: readonly string[];
  /** In words: which prices apply, and to what. */
  readonly appliesTo: string;
  /** Source ids (keys of the price file's `sources`). */
  readonly sources: readonly string[];
}

/** Where a price comes from: a page, an announcement or a repository file, dated. */
export interface SourceSpec {
  /** What the source is, in words. */
  readonly title: string;
  /** The day the source was read or published, `YYYY-MM-DD`. */
  readonly date: string;
  /** The kind of source, such as `price-page` or `announcement`. @default - not stated */
  readonly kind?: string;
  /** How far the source can be relied on, in words. @default - not stated */
  readonly reliability?: string;
  /** Where to read it. @default - no URL (a repository file instead) */
  readonly url?: string;
  /** The repository holding it, `owner/name`. @default - not a repository file */
  readonly repo?: string;
  /** The file in the repository. @default - not a repository file */
  readonly path?: string;
  /** The commit read. @default - not a repository file */
  readonly commit?: string;
}

/** The whole price file. */
export interface PriceData {
  readonly currency: 'EUR';
  readonly basis: string;
  /** The date the prices were taken from the public price list (the newest data point). */
  readonly takenOn: string;
  readonly compiledOn?: string;
  readonly billing: { readonly rule: string; readonly sources: readonly string[] };
  readonly priceLists: readonly PriceListSpec[];
  /** Location name → price region. */
  readonly priceRegions: Record<string, string>;
  readonly serverTypes: Record<string, ServerTypePrices>;
  readonly serverBackups: { readonly percentOfServerPrice: number; readonly sources: readonly string[]; readonly confidence: PriceConfidence };
  readonly primaryIps: Record<string, PricedItem>;
  readonly floatingIps: Record<string, PricedItem>;
  readonly volumes: PricedItem & { readonly minSizeGb: number };
  readonly snapshots: PricedItem;
  readonly storageBoxes: Record<string, PricedItem & { readonly sizeTb: number }>;
  readonly loadBalancers: Record<string, PricedItem<RegionalPriceEntry> & { readonly includedTrafficTb: Record<string, number> }>;
  readonly objectStorage: PricedItem & { readonly scope: string; readonly included: Record<string, number> };
  /** The price of outgoing traffic above the allowance, per Hetzner's TB (a TiB, as the allowance), per price region. */
  readonly traffic: { readonly overagePerTb: Record<string, number>; readonly charged: string; readonly sources: readonly string[]; readonly confidence: PriceConfidence };
  /** Resource types Hetzner does not charge for, each with the basis for saying so. */
  readonly freeResourceTypes: Record<string, { readonly basis: string; readonly sources: readonly string[] }>;
  readonly sources: Record<string, SourceSpec>;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const CONFIDENCE = ['high', 'medium', 'low'];
const ENTRY_META = new Set(['confidence', 'assumed', 'note']);
const PRICE_FIELDS = ['monthly', 'hourly', 'perGbMonth'];

/** Whether `value` is a real calendar date written `YYYY-MM-DD`. */
export function isIsoDate(value: unknown): value is string {
  if (typeof value !== 'string' || !DATE.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

/**
 * Every problem with a price file, each naming where it is and how to fix it; empty when the file
 * is sound.
 */
export function priceDataProblems(data: unknown): string[] {
  const problems: string[] = [];
  const d = data as Partial<PriceData> & Record<string, any>;
  if (typeof d !== 'object' || d === null) return ['the price file is not a JSON object'];
  const fail = (where: string, why: string, fix: string) => problems.push(`${where}: ${why}. Fix: ${fix}`);

  if (d.currency !== 'EUR') fail('currency', `'${String(d.currency)}' is not allowed: prices are Hetzner's EUR list prices`, "set \"currency\": \"EUR\"");
  if (typeof d.basis !== 'string' || !/VAT/.test(d.basis)) {
    fail('basis', `${JSON.stringify(d.basis)} is not allowed: every estimate says what its amounts are, net or with VAT`, 'set "basis", such as "net list prices, excluding VAT"');
  }
  if (!isIsoDate(d.takenOn)) fail('takenOn', `${JSON.stringify(d.takenOn)} is not a date: every price file says when its prices were taken from the price list`, 'set "takenOn" to the date as YYYY-MM-DD');
  const sources = (typeof d.sources === 'object' && d.sources !== null) ? d.sources as Record<string, SourceSpec> : {};
  if (Object.keys(sources).length === 0) fail('sources', 'missing: every price needs a source', 'list the sources by id');
  for (const [id, source] of Object.entries(sources)) {
    if (typeof source?.title !== 'string' || source.title === '') fail(`sources.${id}.title`, 'missing', 'say what the source is');
    if (typeof source?.date !== 'string' || !/\d{4}/.test(source.date)) fail(`sources.${id}.date`, `${JSON.stringify(source?.date)} is not a date`, 'give the date the source was read or published');
  }
  const checkSources = (where: string, ids: unknown) => {
    if (!Array.isArray(ids) || ids.length === 0) {
      fail(`${where}.sources`, 'missing: a price without a source cannot be checked', 'list at least one source id');
      return;
    }
    for (const id of ids) if (!(id in sources)) fail(`${where}.sources`, `'${id}' is not a listed source`, 'add it under "sources" or use a listed id');
  };
  const checkConfidence = (where: string, value: unknown, required: boolean) => {
    if (value === undefined && !required) return;
    if (!CONFIDENCE.includes(value as string)) fail(`${where}.confidence`, `${JSON.stringify(value)} is not a confidence`, 'use "high", "medium" or "low"');
  };

  const lists = Array.isArray(d.priceLists) ? d.priceLists : [];
  if (lists.length === 0) fail('priceLists', 'missing: the file must say which prices apply from when', 'add at least one dated price list');
  const listIds = new Set<string>();
  let previous = '';
  for (const [i, list] of lists.entries()) {
    const where = `priceLists[${i}]`;
    if (typeof list?.id !== 'string' || list.id === '') fail(`${where}.id`, 'missing', 'give the list an id, such as its date');
    else if (listIds.has(list.id)) fail(`${where}.id`, `'${list.id}' is listed twice`, 'give each list its own id');
    else listIds.add(list.id);
    if (!isIsoDate(list?.effectiveFrom)) fail(`${where}.effectiveFrom`, `${JSON.stringify(list?.effectiveFrom)} is not a date`, 'write the first billed day as YYYY-MM-DD');
    else if (list.effectiveFrom <= previous) fail(`${where}.effectiveFrom`, `${list.effectiveFrom} is not after the previous list's`, 'order the lists by date');
    else previous = list.effectiveFrom;
    if (list?.ordersFrom !== undefined && !isIsoDate(list.ordersFrom)) fail(`${where}.ordersFrom`, `${JSON.stringify(list.ordersFrom)} is not a date`, 'write it as YYYY-MM-DD');
    if (typeof list?.appliesTo !== 'string' || list.appliesTo.length < 10) fail(`${where}.appliesTo`, 'missing', 'say in words which prices apply, and to what');
    checkSources(where, list?.sources);
  }
  const regions = new Set(Object.values((d.priceRegions ?? {}) as Record<string, string>));
  if (regions.size === 0) fail('priceRegions', 'missing', 'map each location to its price region, such as "fsn1": "eu"');

  const checkEntry = (where: string, entry: any, fields: string[]) => {
    if (typeof entry !== 'object' || entry === null) {
      fail(where, `${JSON.stringify(entry)} is not a price`, `give ${fields.join(' or ')}`);
      return;
    }
    if (!fields.some((f) => entry[f] !== undefined)) fail(where, 'no price in it', `give ${fields.join(' or ')}`);
    for (const f of PRICE_FIELDS) {
      const v = entry[f];
      if (v === undefined) continue;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(`${where}.${f}`, `${JSON.stringify(v)} is not allowed: a price is a non-negative number`, 'write the net EUR price as a number, such as 5.49');
    }
    if (entry.monthly !== undefined && entry.hourly !== undefined && entry.hourly > entry.monthly) {
      fail(`${where}.hourly`, `${entry.hourly} is above the monthly price ${entry.monthly}`, 'check the figures: hourly billing stops at the monthly price');
    }
    checkConfidence(where, entry.confidence, false);
  };
  const checkPrices = (where: string, prices: any, regional: boolean, fields: string[]) => {
    if (typeof prices !== 'object' || prices === null || Object.keys(prices).length === 0) {
      fail(`${where}.prices`, 'missing', 'give the prices per price list id');
      return;
    }
    for (const [listId, entry] of Object.entries(prices)) {
      if (!listIds.has(listId)) fail(`${where}.prices.${listId}`, `'${listId}' is not a price list`, `use one of ${[...listIds].join(', ')}`);
      if (!regional) {
        checkEntry(`${where}.prices.${listId}`, entry, fields);
        continue;
      }
      const byRegion = Object.entries(entry as object).filter(([k]) => !ENTRY_META.has(k));
      if (byRegion.length === 0) fail(`${where}.prices.${listId}`, 'no region priced', 'give the price per region, such as "eu": { "monthly": 5.49 }');
      for (const [region, regional] of byRegion) {
        if (!regions.has(region)) fail(`${where}.prices.${listId}.${region}`, `'${region}' is not a price region`, `use one of ${[...regions].join(', ')}`);
        checkEntry(`${where}.prices.${listId}.${region}`, regional, fields);
      }
      checkConfidence(`${where}.prices.${listId}`, (entry as any).confidence, false);
    }
  };
  const checkItem = (where: string, item: any, regional: boolean, fields: string[]) => {
    if (typeof item !== 'object' || item === null) {
      fail(where, 'missing', `add "${where}" with its prices and sources`);
      return;
    }
    checkPrices(where, item.prices, regional, fields);
    checkSources(where, item.sources);
    checkConfidence(where, item.confidence, true);
  };
  const checkItems = (section: string, items: any, regional: boolean, fields: string[]) => {
    if (typeof items !== 'object' || items === null || Object.keys(items).length === 0) {
      fail(section, 'missing', `add the section "${section}"`);
      return;
    }
    for (const [name, item] of Object.entries(items as Record<string, any>)) checkItem(`${section}.${name}`, item, regional, fields);
  };

  checkItems('serverTypes', d.serverTypes, true, ['monthly']);
  for (const [name, item] of Object.entries((d.serverTypes ?? {}) as Record<string, any>)) {
    for (const [region, tb] of Object.entries(item?.includedTrafficTb ?? {})) {
      if (typeof tb !== 'number' || !(tb >= 0)) fail(`serverTypes.${name}.includedTrafficTb.${region}`, `${JSON.stringify(tb)} is not a number of TB`, 'write it as a number');
    }
    if (item?.orderableUntil !== undefined && !isIsoDate(item.orderableUntil)) fail(`serverTypes.${name}.orderableUntil`, 'not a date', 'write it as YYYY-MM-DD');
  }
  checkItems('loadBalancers', d.loadBalancers, true, ['monthly']);
  checkItems('primaryIps', d.primaryIps, false, ['monthly']);
  checkItems('floatingIps', d.floatingIps, false, ['monthly']);
  checkItems('storageBoxes', d.storageBoxes, false, ['monthly']);
  checkItem('volumes', d.volumes, false, ['perGbMonth']);
  checkItem('snapshots', d.snapshots, false, ['perGbMonth']);
  checkItem('objectStorage', d.objectStorage, false, ['monthly']);

  const backups = d.serverBackups;
  if (typeof backups?.percentOfServerPrice !== 'number' || !(backups.percentOfServerPrice >= 0 && backups.percentOfServerPrice <= 100)) {
    fail('serverBackups.percentOfServerPrice', `${JSON.stringify(backups?.percentOfServerPrice)} is not a percentage`, 'write it as a number from 0 to 100, such as 20');
  }
  checkSources('serverBackups', backups?.sources);
  const overage = d.traffic?.overagePerTb ?? {};
  for (const region of regions) {
    const v = (overage as Record<string, unknown>)[region];
    if (typeof v !== 'number' || !(v >= 0)) fail(`traffic.overagePerTb.${region}`, `${JSON.stringify(v)} is not allowed: a price is a non-negative number`, 'write the EUR price per TB');
  }
  checkSources('traffic', d.traffic?.sources);
  for (const [type, free] of Object.entries((d.freeResourceTypes ?? {}) as Record<string, any>)) {
    if (!/^hcloud_[a-z_]+$/.test(type)) fail(`freeResourceTypes.${type}`, 'not an hcloud resource type', 'use the Terraform type name, such as hcloud_network');
    if (typeof free?.basis !== 'string' || free.basis.length < 10) fail(`freeResourceTypes.${type}.basis`, 'missing', 'say why Hetzner does not charge for it');
    checkSources(`freeResourceTypes.${type}`, free?.sources);
  }
  return problems;
}
