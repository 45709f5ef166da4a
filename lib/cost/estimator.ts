import { Construct, IConstruct } from 'constructs';
import { resourcesOf, SynthesizedResource } from '../boundary/rules/rule';
import { Duration } from '../core/duration';
import { Size } from '../core/size';
import { ValidationError } from '../core/validation-message';
import { At, checkOptions as checkFields, fail as failAt, is, orNothing } from '../core/runtime-checks';
import { ServerType } from '../hetzner/server-type';
import {
  billedFor, CostEstimate, CostKind, CostLine, EnvironmentCost, FreeResource, PhaseCost, ProductCost, RehearsalCost, StagingComparison, UntilExpiryCost,
} from './cost-estimate';
import { Money } from './money';
import { isIsoDate } from './price-data';
import { PriceDates, PriceList, ResolvedPrice } from './price-list';
import { SynthesizedStack, synthesizedStacksOf } from './synthesized-stacks';
import { DEFAULT_PRE_RELEASE_SNAPSHOTS_KEPT } from '../environments/pre-release-snapshots';
import { preReleaseSnapshotServer } from '../environments/release-plan';
import { EXPIRES_AT_LABEL, expiryProblem, StagingMode } from '../environments/staging';

/** Resource types of Terraform's built-in provider. */
const TERRAFORM_BUILT_IN = ['terraform_data'];
import { MissingPrice, UnknownPriceError } from './unknown-price-error';

/** The hours of one rehearsal when `rehearsalLength` is not given (the CLI holds its flags to these too). */
export const DEFAULT_REHEARSAL_HOURS = 2;
/** The rehearsals a month when `rehearsalsPerMonth` is not given: about one release a week. */
export const DEFAULT_REHEARSALS_PER_MONTH = 4;

/** How a cost estimate is made: the prices, the day, existing servers, rehearsals and traffic. */
export interface CostEstimateOptions {
  /**
   * The prices.
   * @default PriceList.hetzner() - the dated list shipped with the library
   */
  readonly prices?: PriceList;
  /**
   * The day the estimate is for, `YYYY-MM-DD`: it decides which price list is in force.
   * @default - today (UTC)
   */
  readonly billingDate?: string;
  /**
   * Stacks whose servers already exist: stack name → the day its servers were ordered, or last
   * rescaled (`YYYY-MM-DD`). Servers ordered before 2026-06-15 and never rescaled keep the
   * 2026-04-01 prices; every rescale moves a server to the newest list.
   * @default - every server is a new order, at the newest prices
   */
  readonly serversOrderedOn?: Record<string, string>;
  /**
   * How long one release rehearsal keeps staging up.
   * @default Duration.hours(2)
   */
  readonly rehearsalLength?: Duration;
  /**
   * Rehearsals a month, for the monthly cost of on-demand staging.
   * @default 4 - about one release a week
   */
  readonly rehearsalsPerMonth?: number;
  /**
   * Whether to count the Object Storage base price for the buckets holding Terraform state
   * (once per product: the base price is per Hetzner account and covers 1 TB).
   * @default true
   */
  readonly stateStorage?: boolean;
  /**
   * Outgoing traffic of each server a month, to price traffic above what its type includes (Hetzner counts the
   * allowance and the overage in TiB, which it writes "TB": `Size.tebibytes(20)` is the allowance of most EU types).
   * @default - not estimated; listed under `notCounted`
   */
  readonly egressPerServer?: Size;
  /**
   * How many pre-release snapshots of production's app server are kept (`snapshot --keep`), each billed by its
   * size every month and counted at most the server's disk.
   * @default 3 - what `snapshot` keeps, and so the release path
   */
  readonly preReleaseSnapshotsKept?: number;
}

/** Which environments come first in tables: the release order. */
const ENVIRONMENT_ORDER = ['test', 'staging', 'production'];
const NETWORK_ZONE_LOCATION: Record<string, string> = { 'eu-central': 'fsn1', 'us-east': 'ash', 'us-west': 'hil', 'ap-southeast': 'sin' };
const PRICE_FILE = 'lib/cost/hetzner-prices.json';

/**
 * Estimates what the stacks under `scope` (an App or one stack) cost at Hetzner, from the
 * construct tree: each stack is synthesized in memory and its resources priced.
 *
 * Throws `UnknownPriceError` naming every resource without a known price; nothing is costed as zero
 * unless the price file lists it as free, with the basis.
 */
export function estimateCost(scope: IConstruct, options: CostEstimateOptions = {}): CostEstimate {
  if (!Construct.isConstruct(scope)) failAt('estimateCost', 'scope', scope, 'it is not a construct', 'pass the app (or a stack): estimateCost(app)');
  return estimateSynthesizedCost(synthesizedStacksOf(scope), options);
}

/** Estimates what synthesized stacks cost (from the tree, or read from `cdktf.out`). */
export function estimateSynthesizedCost(stacks: readonly SynthesizedStack[], options: CostEstimateOptions = {}): CostEstimate {
  checkCostEstimateOptions('CostEstimate', 'options', options);
  const prices = options.prices ?? PriceList.hetzner();
  const billingDate = options.billingDate ?? new Date().toISOString().slice(0, 10);
  const rehearsalLength = options.rehearsalLength ?? Duration.hours(DEFAULT_REHEARSAL_HOURS);
  const rehearsalsPerMonth = options.rehearsalsPerMonth ?? DEFAULT_REHEARSALS_PER_MONTH;
  checkOptions(options, stacks, billingDate, rehearsalLength, rehearsalsPerMonth);
  const kept = options.preReleaseSnapshotsKept ?? DEFAULT_PRE_RELEASE_SNAPSHOTS_KEPT;
  if (!Number.isInteger(kept) || kept < 1 || kept > 50) {
    throw new ValidationError(`CostEstimate.preReleaseSnapshotsKept: ${JSON.stringify(kept)} is not allowed: it is how many pre-release snapshots \`snapshot --keep\` keeps. `
      + `Fix: pass a whole number from 1 to 50, as given to --keep (default ${DEFAULT_PRE_RELEASE_SNAPSHOTS_KEPT})`);
  }

  const problems: string[] = [];
  const environments = stacks.map((stack) => environmentCost(stack, prices, billingDate, options, kept, problems));
  if (problems.length > 0) throw new UnknownPriceError(problems);

  const groups = new Map<string | undefined, { stacks: SynthesizedStack[]; environments: EnvironmentCost[] }>();
  stacks.forEach((stack, i) => {
    const key = stack.product?.name;
    const group = groups.get(key) ?? { stacks: [], environments: [] };
    group.stacks.push(stack);
    group.environments.push(environments[i]);
    groups.set(key, group);
  });

  const billedHours = Math.ceil(rehearsalLength.toSeconds() / 3600);
  const products: ProductCost[] = [...groups.entries()].map(([name, group]) => {
    const info = group.stacks[0].product;
    const envs = [...group.environments].sort((a, b) => rank(a.environment) - rank(b.environment));
    const shared = options.stateStorage === false ? [] : stateStorageLines(name, group.stacks, prices, billingDate);
    const alwaysOn = envs.filter((e) => !e.onDemand);
    const onDemand = envs.filter((e) => e.onDemand);
    const alwaysOnMonthly = Money.sum(alwaysOn.map((e) => e.monthly));
    const sharedMonthly = Money.sum(shared.map((l) => l.monthly));
    const permanentMonthly = alwaysOnMonthly.plus(sharedMonthly);
    let rehearsal: RehearsalCost | undefined;
    // A product that rehearses on a server of its own has a staging stack only while a rehearsal is planned; without
    // one, its rehearsals are modelled on production's app server, whose snapshot staging is built from.
    const production = envs.find((e) => e.environment === 'production');
    const stagingModel = production ? stagingModelOf(production, group.stacks.find((s) => s.name === production.stack)) : [];
    const modelled = onDemand.length === 0 && info?.staging === 'production-snapshot' && production
      ? { on: production.stack, lines: stagingModel } : undefined;
    if (onDemand.length > 0 || modelled) {
      const lines = modelled?.lines ?? onDemand.flatMap((e) => e.lines);
      const each = billedFor(lines, billedHours);
      rehearsal = {
        stack: modelled ? `${name}-staging (not synthesized: modelled on ${modelled.on})` : onDemand.map((e) => e.stack).join(', '),
        hourly: modelled ? Money.sum(lines.flatMap((l) => (l.hourly ? [l.hourly] : []))) : Money.sum(onDemand.map((e) => e.hourly)),
        length: rehearsalLength,
        billedHours,
        each,
        perMonth: rehearsalsPerMonth,
        monthly: each.times(rehearsalsPerMonth),
        ...(modelled ? {} : untilExpiryOf(onDemand, lines, billingDate, billedHours)),
      };
    }
    const onDemandMonthly = rehearsal?.monthly ?? Money.ZERO;
    return {
      ...(name !== undefined ? { product: name } : {}),
      ...(info?.phase !== undefined ? { phase: info.phase } : {}),
      ...(info?.phaseTitle !== undefined ? { phaseTitle: info.phaseTitle } : {}),
      ...(info?.staging !== undefined ? { stagingMode: info.staging } : {}),
      environments: envs,
      shared,
      alwaysOnMonthly,
      sharedMonthly,
      permanentMonthly,
      ...(rehearsal ? { rehearsal } : {}),
      onDemandMonthly,
      monthly: permanentMonthly.plus(onDemandMonthly),
      comparison: comparisonOf(envs, stagingModel, permanentMonthly, onDemandMonthly, info?.staging),
    };
  });

  const phases: PhaseCost[] = [];
  for (const product of products.filter((p) => p.phase !== undefined)) {
    const existing = phases.find((p) => p.phase === product.phase);
    if (existing) {
      phases[phases.indexOf(existing)] = { ...existing, products: [...existing.products, product.product!], monthly: existing.monthly.plus(product.monthly) };
    } else {
      phases.push({ phase: product.phase!, ...(product.phaseTitle ? { title: product.phaseTitle } : {}), products: [product.product!], monthly: product.monthly });
    }
  }
  phases.sort((a, b) => a.phase - b.phase);

  const lines = [...products.flatMap((p) => p.environments.flatMap((e) => e.lines)), ...products.flatMap((p) => p.shared)];
  return {
    currency: 'EUR',
    priceBasis: prices.basis,
    pricesTakenOn: prices.takenOn,
    billingDate,
    serversOrderedOn: { ...(options.serversOrderedOn ?? {}) },
    products,
    phases,
    monthly: Money.sum(products.map((p) => p.monthly)),
    lines,
    pricesToVerify: lines.filter((l) => l.price.confidence !== 'high' || l.price.assumed !== undefined),
    notCounted: notCounted(products, prices, options, billingDate),
  };
}

/**
 * Refuses estimate options a JavaScript caller can get wrong (null, a misspelt option, a number for a Duration), naming
 * `at` and `prop`: the estimate's own calls, and a `BudgetGuard` when it is declared rather than at synth.
 * @internal
 */
export function checkCostEstimateOptions(at: At, prop: string, options: unknown): void {
  // From JavaScript: null options, rehearsalLength: 2 or prices: {} crashed deep inside with a TypeError; a misspelt option was ignored.
  checkFields<CostEstimateOptions>(at, prop, options as CostEstimateOptions | undefined, {
    prices: is.optional(is.instance(PriceList, 'use PriceList.hetzner() or PriceList.fromData(…)')),
    // Dates and the rehearsal count are checked by the estimate, with their own reasons.
    billingDate: is.checkedLater(),
    serversOrderedOn: is.optional(is.textMap("map stack names to dates, such as { 'acme-production': '2026-03-01' }")),
    rehearsalLength: is.optional(is.instance(Duration, 'pass a duration such as Duration.hours(2)')),
    rehearsalsPerMonth: is.checkedLater(),
    stateStorage: is.optional(is.boolean()),
    egressPerServer: is.optional(is.instance(Size, 'pass a size such as Size.gibibytes(100)')),
    preReleaseSnapshotsKept: is.checkedLater(),
  }, orNothing('pass { billingDate, rehearsalsPerMonth, … }'));
  // From JavaScript: a count from an environment variable is text; said so, not "such as 4" to a caller who passed '4'.
  for (const [count, what, example] of [['rehearsalsPerMonth', 'rehearsals', 4], ['preReleaseSnapshotsKept', 'snapshots', DEFAULT_PRE_RELEASE_SNAPSHOTS_KEPT]] as const) {
    const value = (options as CostEstimateOptions | undefined)?.[count];
    if (typeof value === 'string') {
      throw new ValidationError(`CostEstimate.${count}: ${JSON.stringify(value)} is not allowed: it is text, and a number of ${what} is a number. `
        + `Fix: pass the number itself, such as ${example} (Number(text) for text from the environment or JSON)`);
    }
  }
}

function checkOptions(options: CostEstimateOptions, stacks: readonly SynthesizedStack[], billingDate: string, length: Duration, perMonth: number): void {
  const fail = (prop: string, value: unknown, why: string, fix: string): never => {
    throw new ValidationError(`CostEstimate.${prop}: ${JSON.stringify(value)} is not allowed: ${why}. Fix: ${fix}`);
  };
  if (!isIsoDate(billingDate)) fail('billingDate', billingDate, 'it is not a date', "write it as YYYY-MM-DD, such as '2026-12-01'");
  for (const [stack, date] of Object.entries(options.serversOrderedOn ?? {})) {
    if (!stacks.some((s) => s.name === stack)) fail('serversOrderedOn', stack, 'there is no such stack', `use a stack name: ${stacks.map((s) => s.name).join(', ')}`);
    if (!isIsoDate(date)) fail(`serversOrderedOn.${stack}`, date, 'it is not a date', "write the day the servers were ordered or last rescaled as YYYY-MM-DD");
    if (date > billingDate) fail(`serversOrderedOn.${stack}`, date, `it is after the billing date ${billingDate}`, 'give the day the existing servers were ordered');
  }
  if (!Number.isInteger(perMonth) || perMonth < 0) fail('rehearsalsPerMonth', perMonth, 'it is not a whole number of rehearsals', 'pass 0 or more, such as 4');
  if (length.toSeconds() <= 0) fail('rehearsalLength', String(length), 'a rehearsal lasts some time', 'pass a duration such as Duration.hours(2)');
}

function rank(environment: string): number {
  const i = ENVIRONMENT_ORDER.indexOf(environment);
  return i < 0 ? ENVIRONMENT_ORDER.length : i;
}

function environmentCost(stack: SynthesizedStack, prices: PriceList, billingDate: string, options: CostEstimateOptions, snapshotsKept: number, problems: string[]): EnvironmentCost {
  const resources = resourcesOf(stack.terraform);
  const environment = stack.environment ?? labelledEnvironment(resources) ?? 'unknown';
  const dates: PriceDates = { billingDate };
  const serverDates: PriceDates = { billingDate, ...(options.serversOrderedOn?.[stack.name] ? { orderedOn: options.serversOrderedOn[stack.name] } : {}) };
  const lines: CostLine[] = [];
  const free: FreeResource[] = [];
  const outsideHetzner: string[] = [];

  for (const r of resources) {
    const address = `${r.type}.${r.name}`;
    const line = (kind: CostKind, item: string, description: string, price: ResolvedPrice, monthly = price.monthly, hourly = price.hourly): CostLine => ({
      stack: stack.name, path: r.path, address, kind, item, description, monthly, ...(hourly ? { hourly } : {}), price,
    });
    try {
      // Terraform's own resources (the machines' rollouts) exist only in the state: nobody bills them.
      if (TERRAFORM_BUILT_IN.includes(r.type)) continue;
      if (!r.type.startsWith('hcloud_')) {
        outsideHetzner.push(address);
        continue;
      }
      const basis = prices.free(r.type);
      if (basis) {
        free.push({ stack: stack.name, path: r.path, address, basis: basis.basis });
        continue;
      }
      switch (r.type) {
        case 'hcloud_server': {
          const type = literal(r, 'server_type');
          const location = literal(r, 'location', 'Hetzner would pick the location, and prices differ by region', 'set the location, such as Location.FSN1');
          const price = prices.serverType(type, location, serverDates);
          lines.push({ ...line(CostKind.SERVER, type, `${type} in ${location}`, price), location });
          // Server type prices exclude the primary IPv4, which Hetzner creates with the server where public_net names none.
          if (createsPrimaryIpv4(r)) {
            lines.push(line(CostKind.PRIMARY_IP, 'ipv4', 'primary IPv4 Hetzner creates with the server (its public_net names none)', prices.primaryIp('ipv4', dates)));
          }
          // An expression decides only at apply whether the 20% is billed: priced neither way, it fails like the type.
          const backups = r.body.backups === undefined || typeof r.body.backups === 'boolean' ? r.body.backups === true : literal(r, 'backups') === 'true';
          if (backups) {
            const share = prices.serverBackupShare;
            lines.push(line(CostKind.SERVER_BACKUPS, type, `Hetzner backups of the ${type} (${prices.serverBackupPercent}% of its price)`,
              { ...price, sources: [...prices.serverBackupSources] }, price.monthly.times(share), price.hourly?.times(share)));
          }
          if (options.egressPerServer) {
            const overage = trafficLine(prices, type, location, options.egressPerServer);
            if (overage) lines.push(line(CostKind.TRAFFIC, 'traffic', overage.description, overage.price, overage.monthly, undefined));
          }
          break;
        }
        case 'hcloud_primary_ip': {
          const type = literal(r, 'type');
          lines.push(line(CostKind.PRIMARY_IP, type, `primary ${type === 'ipv4' ? 'IPv4' : type === 'ipv6' ? 'IPv6' : type}`, prices.primaryIp(type, dates)));
          break;
        }
        case 'hcloud_floating_ip': {
          const type = literal(r, 'type');
          lines.push(line(CostKind.FLOATING_IP, type, `floating ${type}`, prices.floatingIp(type, dates)));
          break;
        }
        case 'hcloud_volume': {
          const size = Number(literal(r, 'size'));
          const price = prices.perGbMonth('volumes', dates);
          lines.push(line(CostKind.VOLUME, 'volume', `volume of ${size} GB at ${price.monthly.toString(4)}/GB-month`, price, price.monthly.times(size), undefined));
          break;
        }
        case 'hcloud_snapshot': {
          const gb = snapshotBound(stack, r);
          const price = prices.perGbMonth('snapshots', dates);
          lines.push(line(CostKind.SNAPSHOT, 'snapshot', `snapshot of at most ${gb} GB (the server's disk) at ${price.monthly.toString(4)}/GB-month`, price, price.monthly.times(gb), undefined));
          break;
        }
        case 'hcloud_storage_box': {
          const type = literal(r, 'storage_box_type');
          lines.push(line(CostKind.STORAGE_BOX, type, `Storage Box ${type}`, prices.storageBox(type, dates)));
          break;
        }
        case 'hcloud_load_balancer': {
          const type = literal(r, 'load_balancer_type');
          const location = typeof r.body.location === 'string' ? r.body.location : NETWORK_ZONE_LOCATION[r.body.network_zone];
          if (location === undefined) throw new MissingPrice(`load balancer '${type}'`, 'it has neither a location nor a network zone', 'set its location');
          lines.push(line(CostKind.LOAD_BALANCER, type, `load balancer ${type} in ${r.body.location ?? r.body.network_zone}`, prices.loadBalancer(type, location, dates)));
          break;
        }
        default:
          throw new MissingPrice(`resource type '${r.type}'`, 'the price file neither prices it nor lists it as free',
            `copy the bundled price file (${PRICE_FILE} in the package) into your repository, add its price there with the date and the source `
            + '(or list it under "freeResourceTypes" with the basis, if Hetzner does not charge for it), and pass it: `cost --prices <file>`, '
            + 'or `prices: PriceList.fromData(...)` in code');
      }
    } catch (e) {
      if (!(e instanceof MissingPrice)) throw e;
      problems.push(`${r.path} (${address}): ${e.message}`);
    }
  }
  const snapshots = preReleaseSnapshotsLine(stack, environment, resources, prices, dates, snapshotsKept);
  if (snapshots) lines.push(snapshots);
  const onDemand = stack.onDemand ?? environment === 'staging';
  const expiresAt = onDemand ? labelledExpiry(resources) : undefined;
  return {
    stack: stack.name,
    environment,
    ...(stack.product ? { product: stack.product.name } : {}),
    onDemand,
    lines,
    free,
    outsideHetzner,
    monthly: Money.sum(lines.map((l) => l.monthly)),
    hourly: Money.sum(lines.flatMap((l) => (l.hourly ? [l.hourly] : []))),
    monthlyOnly: lines.filter((l) => l.hourly === undefined),
    ...(expiresAt ? { expiresAt } : {}),
  };
}

/** The earliest valid `expires-at` label of the stack's resources: the reaper deletes each from its day on. */
function labelledExpiry(resources: readonly SynthesizedResource[]): string | undefined {
  const dates = resources.map((r) => r.body.labels?.[EXPIRES_AT_LABEL]).filter((d): d is string => typeof d === 'string' && expiryProblem(d) === undefined);
  return dates.sort()[0];
}

/**
 * Staging left up from the start of the billing date until the reaper deletes it (the start of its expiry day), where
 * that is longer than a rehearsal; each line billed per started hour and capped at its monthly price.
 */
function untilExpiryOf(onDemand: readonly EnvironmentCost[], lines: readonly CostLine[], billingDate: string, rehearsalHours: number): { untilExpiry?: UntilExpiryCost } {
  const expiresAt = onDemand.map((e) => e.expiresAt).filter((d): d is string => d !== undefined).sort()[0];
  if (!expiresAt) return {};
  const hours = (Date.parse(`${expiresAt}T00:00:00Z`) - Date.parse(`${billingDate}T00:00:00Z`)) / 3_600_000;
  if (hours <= rehearsalHours) return {};
  return { untilExpiry: { expiresAt, hours, cost: billedFor(lines, hours) } };
}

function literal(r: SynthesizedResource, attribute: string, whyMissing = 'it is not set', fixMissing = `set ${attribute}`): string {
  const value = r.body[attribute];
  if (value === undefined || value === null) throw new MissingPrice(`${attribute} (missing)`, whyMissing, fixMissing);
  const text = String(value);
  if (/\$\{/.test(text)) {
    throw new MissingPrice(`${attribute} '${text}'`, 'it is a Terraform expression, known only at apply', `give ${attribute} a literal value in the construct`);
  }
  return text;
}

/**
 * Whether Hetzner creates a primary IPv4 with the server: without public_net, or with ipv4_enabled (the default) and
 * no `ipv4` of an address of its own (an `hcloud_primary_ip`, priced on its own line).
 */
function createsPrimaryIpv4(r: SynthesizedResource): boolean {
  const publicNet = publicNetOf(r.body);
  if (publicNet === undefined || publicNet === null) return true;
  return publicNet.ipv4_enabled !== false && (publicNet.ipv4 === undefined || publicNet.ipv4 === null);
}

/** A server's `public_net` block: a list of one, as cdktf synthesizes it, or the block itself. */
function publicNetOf(server: Record<string, any>): Record<string, any> | undefined {
  return Array.isArray(server.public_net) ? server.public_net[0] : server.public_net;
}

/**
 * The pre-release snapshots of production's app server that the release path keeps: not in the stacks (the `snapshot`
 * command takes them), billed per GB of image size a month. Each is counted at the server's disk, its upper bound.
 */
function preReleaseSnapshotsLine(stack: SynthesizedStack, environment: string, resources: readonly SynthesizedResource[], prices: PriceList,
  dates: PriceDates, kept: number): CostLine | undefined {
  // The release path snapshots production before each release when it has a backup plan, and always when staging is built from it.
  const snapshotted = environment === 'production' && (stack.preReleaseSnapshot === true || stack.product?.staging === StagingMode.fromProductionSnapshot().name);
  if (!snapshotted) return undefined;
  const name = preReleaseSnapshotServer(stack.name);
  const server = resources.find((r) => r.type === 'hcloud_server' && r.body.name === name);
  // The release path snapshots the server by this name: a stack without it (not built by ProductStacks) gets no snapshot
  // from it either. A server type that is not a literal fails the estimate on the server's own line.
  const bound = server ? diskBound(server.body) : undefined;
  if (!server || !bound) return undefined;
  const { type, gb } = bound;
  const price = prices.perGbMonth('snapshots', dates);
  return {
    stack: stack.name,
    path: `${server.path}/pre-release-snapshots`,
    address: `snapshot --server ${name} --keep ${kept} (release path)`,
    kind: CostKind.SNAPSHOT,
    item: 'pre-release snapshots',
    description: `${kept} pre-release snapshot${kept === 1 ? '' : 's'} of ${name} (snapshot --keep ${kept} on the release path), `
      + `each at most ${gb} GB (the ${type.name}'s disk, an upper bound) at ${price.monthly.toString(4)}/GB-month`,
    monthly: price.monthly.times(gb * kept),
    price,
  };
}

/** A snapshot is at most as large as the disk of the server it is taken of: that disk's size, for a known server type. */
function diskBound(server: { server_type?: unknown }): { type: ServerType; gb: number } | undefined {
  const type = ServerType.of(String(server.server_type));
  return type.isKnown ? { type, gb: type.disk.toGibibytes() } : undefined;
}

/** The size bound of a snapshot resource of this stack: the disk of the server it is taken of. */
function snapshotBound(stack: SynthesizedStack, r: SynthesizedResource): number {
  const match = /^\$\{hcloud_server\.([^.]+)\.id\}$/.exec(String(r.body.server_id ?? ''));
  const server = match ? stack.terraform.resource?.hcloud_server?.[match[1]] : undefined;
  const bound = server ? diskBound(server) : undefined;
  if (!bound) {
    throw new MissingPrice(`snapshot of ${String(r.body.server_id)}`, 'its size is not known at synth, and it is not of a server of this stack whose disk bounds it',
      'take the snapshot of a server in the same stack, or leave snapshots to the release path');
  }
  return bound.gb;
}

/**
 * The traffic above a server's allowance, all in TiB: Hetzner's "20 TB" is 20 TiB in its API (included_traffic,
 * 20 * 2^40 bytes), and its overage price per TB is per that TB. The description said TB of TiB figures.
 */
function trafficLine(prices: PriceList, type: string, location: string, egress: Size) {
  const included = prices.includedTrafficTb(type, location);
  const tib = egress.toMebibytes() / (1024 * 1024);
  if (tib <= included) return undefined;
  const price = prices.trafficOverage(location);
  const over = tib - included;
  return {
    description: `outgoing traffic of the ${type} above its ${included} TiB: ${over.toFixed(2)} TiB at ${price.monthly}/TiB`,
    price,
    monthly: price.monthly.times(over),
  };
}

function labelledEnvironment(resources: readonly SynthesizedResource[]): string | undefined {
  const counts = new Map<string, number>();
  for (const r of resources) {
    const env = r.body.labels?.environment;
    if (typeof env === 'string') counts.set(env, (counts.get(env) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
}

function stateStorageLines(product: string | undefined, stacks: readonly SynthesizedStack[], prices: PriceList, billingDate: string): CostLine[] {
  const buckets = new Map<string, string>();
  for (const stack of stacks) {
    const s3 = stack.terraform.terraform?.backend?.s3;
    if (s3 && /your-objectstorage\.com/.test(String(s3.endpoints?.s3 ?? s3.endpoint ?? ''))) buckets.set(String(s3.bucket), stack.name);
  }
  if (buckets.size === 0) return [];
  const price = prices.objectStorageBase({ billingDate });
  const names = [...buckets.keys()];
  // The base price is per account: one line for the product, however many of its stacks keep state there.
  return [{
    stack: product ?? [...buckets.values()][0],
    path: `${product ?? 'app'}/terraform-state`,
    address: `terraform.backend.s3 (${names.join(', ')})`,
    kind: CostKind.OBJECT_STORAGE,
    item: 'object-storage',
    description: `Object Storage base price: Terraform state in ${names.length === 1 ? `bucket ${names[0]}` : `buckets ${names.join(', ')}`} (per Hetzner account, 1 TB included)`,
    monthly: price.monthly,
    ...(price.hourly ? { hourly: price.hourly } : {}),
    price,
  }];
}

/** What a staging server built from production's snapshot has of production's: a server and its addresses. */
const STAGING_KINDS: readonly CostKind[] = [CostKind.SERVER, CostKind.PRIMARY_IP];

/**
 * The lines of production a staging stack has: the app server the release path snapshots, of the same type, and its
 * addresses. Not its Hetzner backups, nor a volume (a snapshot holds the root disk only), nor production's other
 * machines. A production stack without that server (not built by ProductStacks) is modelled by all its servers and addresses.
 */
function stagingModelOf(production: EnvironmentCost, stack: SynthesizedStack | undefined): CostLine[] {
  const servers = Object.entries((stack?.terraform.resource?.hcloud_server ?? {}) as Record<string, any>);
  const app = servers.find(([, body]) => body?.name === preReleaseSnapshotServer(production.stack));
  if (!app) return production.lines.filter((l) => STAGING_KINDS.includes(l.kind));
  const [id, body] = app;
  const publicNet = publicNetOf(body);
  const addresses = new Set([`hcloud_server.${id}`, ...['ipv4', 'ipv6'].flatMap((k) => {
    const ip = /^\$\{hcloud_primary_ip\.([^.]+)\.id\}$/.exec(String(publicNet?.[k] ?? ''));
    return ip ? [`hcloud_primary_ip.${ip[1]}`] : [];
  })]);
  return production.lines.filter((l) => STAGING_KINDS.includes(l.kind) && addresses.has(l.address));
}

function comparisonOf(envs: readonly EnvironmentCost[], stagingModel: readonly CostLine[], permanent: Money, onDemandMonthly: Money, stagingMode?: string): StagingComparison {
  const onDemand = envs.filter((e) => e.onDemand);
  const production = envs.find((e) => e.environment === 'production');
  let permanentStaging = Money.ZERO;
  let basis = 'no staging stack and no production environment to model one on';
  if (onDemand.length > 0) {
    permanentStaging = Money.sum(onDemand.map((e) => e.monthly));
    basis = `the staging stack (${onDemand.map((e) => e.stack).join(', ')}) kept up all month`;
  } else if (production) {
    permanentStaging = Money.sum(stagingModel.map((l) => l.monthly));
    const rehearses = stagingMode === 'production-snapshot' ? 'no staging stack was synthesized' : 'this product rehearses on the test machine';
    basis = `modelled on ${production.stack}: its app server and that server's addresses, without Hetzner backups or volumes (staging is built from the app server's snapshot, of its type; ${rehearses})`;
  }
  const threePermanent = permanent.plus(permanentStaging);
  const testPlusOnDemand = permanent.plus(onDemandMonthly);
  return { threePermanent, testPlusOnDemand, saving: threePermanent.minus(testPlusOnDemand), extraCost: testPlusOnDemand.minus(threePermanent), permanentStaging, permanentStagingBasis: basis };
}

function notCounted(products: readonly ProductCost[], prices: PriceList, options: CostEstimateOptions, billingDate: string): string[] {
  const notes: string[] = [];
  // The newest list in force is applied to any later day: a change Hetzner made since the prices were taken is not in it.
  if (billingDate > prices.takenOn) {
    const days = Math.round((Date.parse(`${billingDate}T00:00:00Z`) - Date.parse(`${prices.takenOn}T00:00:00Z`)) / 86_400_000);
    notes.push(`Price changes after ${prices.takenOn}, the day the prices were taken, ${days} day${days === 1 ? '' : 's'} before the billing date ${billingDate}: `
      + "compare with Hetzner's price list before buying.");
  }
  if (!options.egressPerServer) {
    const eu = prices.trafficOverage('fsn1').monthly;
    notes.push(`Outgoing traffic above what each server includes (20 TiB a month for most types in the EU, then ${eu}/TiB): no traffic figure was given.`);
  }
  const bases = products.flatMap((p) => p.shared.filter((l) => l.kind === CostKind.OBJECT_STORAGE));
  if (bases.length > 1) {
    // Which products share a Hetzner account is not in the stacks: each is counted, and the overlap said.
    notes.push(`Object Storage base price: counted once per product (${bases.length} times, ${Money.sum(bases.map((l) => l.monthly))} a month); `
      + `Hetzner bills it once per account, so products that share an account pay it once (${bases[0].monthly} a month).`);
  }
  for (const product of products) {
    for (const env of product.environments) {
      if (env.outsideHetzner.length > 0) notes.push(`${env.stack}: resources of other providers, not billed by Hetzner: ${env.outsideHetzner.join(', ')}.`);
      if (env.onDemand) {
        for (const l of env.monthlyOnly) notes.push(`${env.stack}: ${l.description} has no hourly price; each rehearsal counts its full monthly price (an upper bound).`);
      }
    }
  }
  return notes;
}
