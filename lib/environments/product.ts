import { BoundaryPolicy, requireCheckedPolicy } from '../boundary/boundary-policy';
import { RestoreCheck } from '../backup/restore-check';
import { S3Provider } from '../backup/s3-provider';
import { Port } from '../core/port';
import { Budget } from '../cost/budget';
import { MonitoringPlan } from '../monitoring/monitoring-plan';
import { DataFlowProps } from '../boundary/data-flow';
import { DatabaseStorage } from '../database/database-storage';
import { Environment } from '../core/environment';
import { labelValueProblem } from '../core/labels';
import { cidrFix, cidrProblem, coversWholeInternet, isIpv6Block } from '../core/cidr';
import { Peer } from '../core/peer';
import {
  fail as failAt, leaveOutFix, optionalArray, optionalBoolean, optionalInstance, optionalString, optionalStringMap, orNothing, propNames, refuseNull, refuseUnknownProps, requireArray, requireInstance, requireProps,
  requireString,
} from '../core/runtime-checks';
import { isReason, REASON_RULE } from '../core/reason';
import { ValidationError } from '../core/validation-message';
import { frozenSnapshot } from '../core/private/frozen-snapshot';
import { DataFlow } from '../boundary/data-flow';
import { bucketNameProblem } from '../hetzner/object-storage-backend';
import { Location } from '../hetzner/location';
import { ServerType } from '../hetzner/server-type';
import { sshKeyFingerprint, sshKeyMaterial } from '../hetzner/private/openssh-public-key';
import { Component } from '../roadmap/component';
import { Phase } from '../roadmap/phase';
import { EarlyAdoption } from '../roadmap/postponed';
import { ServerTypeChoice } from '../roadmap/server-type-choice';
import { AdminAccess, EnvironmentSshPublicKeys } from './admin-access';
import { readOnlyAdmin } from './private/read-only-admin';
import { StagingMode } from './staging';

/** How a product's production data is backed up and proven restorable. */
export interface ProductBackupOptions {
  /** The team's verification queries for the weekly restore drill on the test machine; at least one. */
  readonly restoreChecks: RestoreCheck[];
  /**
   * The offsite S3-compatible provider (EU, not Hetzner); its endpoint, bucket and keys come in as sensitive variables.
   * In Phase 1 it is a postponed component: adopt `Component.OFFSITE_BACKUP` early, with the reason, to build it.
   * @default - none; required from Phase 2 on
   */
  readonly offsite?: S3Provider;
  /**
   * The TCP port of the offsite endpoint, when its URL names one other than 443 (`https://s3.example.eu:8443`).
   * The endpoint is a secret, so synth cannot read it: production's egress opens this port, and the plan
   * checks the URL against it.
   * @default Port.of(443)
   */
  readonly offsitePort?: Port;
  /**
   * The host of the Healthchecks-style service the jobs ping.
   * @default - the host of the ping URL
   * @deprecated Not read since 0.2: the backup jobs declare their heartbeat's host from the ping URL itself
   * (taken from the secret at deploy time), so a host given here could only disagree with it. Leave it out.
   */
  readonly heartbeatHostname?: string;
  /**
   * The Storage Box's SSH host keys (`ssh-keyscan -p 23 <host>`, key part), to pin instead of trusting on first use.
   * @default - trusted on first use, with a warning
   */
  readonly storageBoxHostKeys?: string[];
}

/** Where each environment's machines run; an environment not listed runs in `ProductProps.location`. */
export interface EnvironmentLocations {
  /** @default - `ProductProps.location` */
  readonly test?: Location;
  /** @default - production's location: staging rehearses where production runs */
  readonly staging?: Location;
  /** @default - `ProductProps.location` */
  readonly production?: Location;
}

/**
 * A state bucket per environment. An Object Storage key reads every bucket of its Hetzner project, and a stack's state
 * holds its secrets in clear: production's bucket in production's project keeps test's key (the always-on test
 * machine's deploys, test's CI jobs) away from production's state.
 */
export interface EnvironmentStateBuckets {
  /** @default - `ProductProps.stateBucket` */
  readonly test?: string;
  /** @default - production's bucket: staging built from production's snapshot lives in production's project */
  readonly staging?: string;
  /** @default - `ProductProps.stateBucket` */
  readonly production?: string;
}

/**
 * Which environments' machines have a public IPv4 address (a primary IP Hetzner bills, €0.50 a month each). Without
 * one, a machine is reached over its IPv6 /64 alone: `admin.cidrs` must then hold an IPv6 block (SSH and the
 * rollout arrive over IPv6), its uptime checks probe IPv6 alone, and the stack has no `app_ipv4` output.
 */
export interface EnvironmentPublicIpv4 {
  /** @default true */
  readonly test?: boolean;
  /** @default - production's: staging rehearses what production runs */
  readonly staging?: boolean;
  /** @default true */
  readonly production?: boolean;
}

/** The product's PostgreSQL: what the team states, the rest follows from the phase and the machines. */
export interface ProductDatabaseOptions {
  /**
   * The app's database (and role) in every environment.
   * @default 'app'
   */
  readonly name?: string;
  /**
   * Where production's data directory lives.
   * @default DatabaseStorage.PHASE_DEFAULT - the root disk in Phase 1 and 2, a 50 GiB volume from Phase 3
   */
  readonly storage?: DatabaseStorage;
}

/** What a product is declared with: name, phase, admin access, state, boundary, and its optional backup, monitoring, database and budget. */
export interface ProductProps {
  /** Short name; prefixes stacks and resource names (lowercase letters, digits, "-"). */
  readonly name: string;
  /** The roadmap phase the product is in; decides machines and components. */
  readonly phase: Phase;
  /** Admin SSH keys (the same for every environment, or an environment's own) and the networks admins and CI connect from. */
  readonly admin: AdminAccess;
  /** The data boundary: what may leave the EU control plane, to whom, in what form. Every stack is checked against it. */
  readonly boundary: BoundaryPolicy;
  /**
   * What the app sends to external processors; each flow is checked against the boundary, and
   * the processors' hostnames join the app machines' egress allowlist.
   * @default - none
   */
  readonly dataFlows?: DataFlowProps[];
  /** The Object Storage bucket holding every environment's Terraform state (one key per stack), except the environments `stateBuckets` gives a bucket of their own. */
  readonly stateBucket: string;
  /**
   * A state bucket of its own for an environment, in that environment's Hetzner project, such as
   * `{ production: 'acme-production-tfstate' }`: with one bucket, the key that reads test's state reads production's too.
   * @default - every environment's state in `stateBucket`
   */
  readonly stateBuckets?: EnvironmentStateBuckets;
  /**
   * Where the machines run.
   * @default Location.FSN1
   */
  readonly location?: Location;
  /**
   * Where each environment runs, for example test in fsn1 and production in nbg1. Stacks, cost,
   * the boundary document and the report all read it from here; production's backups go to a
   * Storage Box outside production's location.
   * @default - every environment in `location`
   */
  readonly locations?: EnvironmentLocations;
  /**
   * Whether each environment's machines (the app machine, and production's monitoring machine in Phase 3) have a
   * public IPv4 address, such as `{ test: false }` for an IPv6-only test machine. Every machine keeps its IPv6 /64.
   * @default - every environment's machines have a public IPv4 (staging follows production)
   */
  readonly publicIpv4?: EnvironmentPublicIpv4;
  /**
   * The PostgreSQL every environment's app machine runs (the same major everywhere, so the test
   * machine's drill restores production's dumps into it).
   * @default - database and role 'app', storage by phase
   */
  readonly database?: ProductDatabaseOptions;
  /**
   * Where the state bucket is.
   * @default Location.FSN1
   */
  readonly stateLocation?: Location;
  /**
   * How releases are rehearsed.
   * @default StagingMode.reuseTestMachine()
   */
  readonly staging?: StagingMode;
  /**
   * Components built before their phase, each with the reason; they are listed as such in the postponed list.
   * @default - none
   */
  readonly earlyAdoptions?: EarlyAdoption[];
  /**
   * Backups: production gets a BackupPlan (dumps, Storage Box in another location, offsite copy from
   * Phase 2) and the test machine runs the weekly restore drill.
   * @default - none; a production stack then fails synth, since production refuses to run without backups
   */
  readonly backup?: ProductBackupOptions;
  /**
   * Monitoring: uptime checks run from another always-on machine, alert receivers, the dead-man's
   * switch and the error-monitoring endpoint.
   * @default - none; a production stack then fails synth, since production needs uptime checks and a receiver
   */
  readonly monitoring?: MonitoringPlan;
  /**
   * The most the product may cost a month at Hetzner's net list prices: its always-on environments, what
   * they share (the state bucket's Object Storage base price) and 4 rehearsals of 2 hours on on-demand
   * staging. Over it synth fails with the breakdown and the largest items; from `warnAt` (80% unless set) it warns.
   * @default - no budget
   */
  readonly budget?: Budget;
  /**
   * Server types Hetzner cannot deliver right now (for example sold out); each preset falls back to its next type.
   * @default - none
   */
  readonly unavailableServerTypes?: string[];
}

const NAME = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;

/**
 * A product declared once: its name, phase, admin access and state. Every environment stack
 * reads it from here, so no construct asks the team for the same fact twice.
 */
export class Product {
  /** The product's name: part of stack, server and bucket names. */
  public readonly name: string;
  /** The phase the product is in, which decides what it may build. */
  public readonly phase: Phase;
  /** Who administers the machines: SSH keys and networks (a frozen copy of what was checked). */
  public readonly admin: AdminAccess;
  /** The data boundary every stack is checked against. */
  public readonly boundary: BoundaryPolicy;
  /** The data flows to external processors the product declares. */
  public readonly dataFlows: readonly DataFlowProps[];
  /** The Object Storage bucket holding the Terraform state; `stateBucketFor` gives an environment's. */
  public readonly stateBucket: string;
  /** The environments whose state has a bucket of its own (frozen). */
  public readonly stateBuckets: EnvironmentStateBuckets;
  /** The default location; `locationFor` gives an environment's. */
  public readonly location: Location;
  /** Where each environment runs, when it does not run in `location` (frozen). */
  public readonly locations: EnvironmentLocations;
  /** The environments whose machines' public IPv4 was set; `publicIpv4For` gives an environment's. */
  public readonly publicIpv4: EnvironmentPublicIpv4;
  /** The product's PostgreSQL, with every default filled in. */
  public readonly database: Required<ProductDatabaseOptions>;
  /** The Object Storage location of the state bucket. */
  public readonly stateLocation: Location;
  /** How the product rehearses a release. */
  public readonly staging: StagingMode;
  /** Components built before their phase, each with its reason. */
  public readonly earlyAdoptions: readonly EarlyAdoption[];
  /** The monthly budget the stacks are held to, if any. */
  public readonly budget?: Budget;
  /** How production is backed up, if declared. */
  public readonly backup?: ProductBackupOptions;
  /** How the product is monitored, if declared. */
  public readonly monitoring?: MonitoringPlan;
  private readonly unavailable: ReadonlySet<string>;

  constructor(given: ProductProps) {
    // Copied first, each prop read once, then checked and kept: from JavaScript a getter could otherwise answer the
    // check with a safe list and the copy with '0.0.0.0/0', and the caller's objects (props.backup's lists) stay editable.
    const props = frozenSnapshot(given, PRODUCT_PROP_NAMES);
    const at = `Product(${typeof props?.name === 'string' ? props.name : '?'})`;
    const fail = (prop: string, value: unknown, why: string, fix: string): never => {
      // These messages quote the value as JSON (as they always have); NaN and Infinity by name.
      const shown = typeof value === 'number' && !Number.isFinite(value) ? String(value) : JSON.stringify(value);
      throw new ValidationError(`${at}.${prop}: ${shown} is not allowed: ${why}. Fix: ${fix}`);
    };
    checkProductProps(at, props);
    if (!NAME.test(props.name ?? '')) fail('name', props.name, 'a product name is 1-32 lowercase letters, digits or "-"', 'use a short name such as "acme"');
    for (const [i, adoption] of (props.earlyAdoptions ?? []).entries()) {
      // The postponed list publishes one reason per component: a second adoption's reason was dropped without a word.
      if (props.earlyAdoptions!.findIndex((a) => a.component === adoption.component) < i) {
        fail('earlyAdoptions', adoption.component.id, 'it is adopted twice, and the postponed list publishes one reason for it', 'give it one adoption, with both reasons in one sentence');
      }
      if (props.phase.permits(adoption.component)) {
        fail('earlyAdoptions', adoption.component.id, `${props.phase} already includes it`, 'remove the adoption');
      }
      // Letters, not characters: 20 dots or zero-width spaces built a postponed component with no reason to revisit.
      if (!isReason(adoption.reason)) {
        fail('earlyAdoptions', adoption.component.id, `an early adoption needs a specific reason of at least 20 characters (${REASON_RULE})`,
          `say why it cannot wait for its threshold (${adoption.component.threshold})`);
      }
    }
    if (labelValueProblem(props.name)) fail('name', props.name, labelValueProblem(props.name)!, 'use a short name such as "acme"');
    this.name = props.name;
    this.phase = props.phase;
    // Frozen copies, here and below: the product was checked against these, and a later edit (the caller's
    // object, or the product's from JavaScript) would reach the stacks unchecked.
    this.admin = readOnlyAdmin(props.admin);
    this.boundary = props.boundary;
    this.dataFlows = Object.freeze([...props.dataFlows ?? []]);
    this.stateBucket = props.stateBucket;
    this.stateBuckets = Object.freeze({ ...props.stateBuckets });
    this.location = props.location ?? Location.FSN1;
    this.locations = Object.freeze({ ...props.locations });
    // Frozen: the admin networks were checked against these settings above.
    this.publicIpv4 = Object.freeze({ ...props.publicIpv4 });
    for (const [environment, location] of Object.entries(this.locations)) {
      if (!['test', 'staging', 'production'].includes(environment)) fail(`locations.${environment}`, environment, 'the environments are test, staging and production', 'use one of these keys');
      if (!(location instanceof Location)) fail(`locations.${environment}`, location, 'a location is a Location', 'use Location.FSN1, Location.NBG1 or Location.HEL1');
    }
    const databaseName = props.database?.name ?? 'app';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(databaseName) || databaseName === 'postgres') {
      fail('database.name', databaseName, 'a database name is lowercase letters, digits and "_", and not "postgres"', "use a name such as 'app'");
    }
    this.database = { name: databaseName, storage: props.database?.storage ?? DatabaseStorage.PHASE_DEFAULT };
    this.stateLocation = props.stateLocation ?? Location.FSN1;
    this.staging = props.staging ?? StagingMode.reuseTestMachine();
    this.earlyAdoptions = Object.freeze([...props.earlyAdoptions ?? []]);
    this.budget = props.budget;
    // The snapshot's: frozen, its lists (restoreChecks, storageBoxHostKeys) and offsite no longer the caller's.
    this.backup = props.backup;
    this.monitoring = props.monitoring;
    this.unavailable = new Set(props.unavailableServerTypes ?? []);
  }

  /** The preset server types for an environment's app machine, in order of preference. */
  public serverTypesFor(environment: Environment): ServerTypeChoice {
    this.requireEnvironment('serverTypesFor', environment);
    return this.phase.machineFor(environment);
  }

  /**
   * The server type an environment's app machine gets: the first of the phase's preset that is
   * not listed as unavailable. Throws when the whole preset is unavailable.
   */
  public serverTypeFor(environment: Environment): ServerType {
    const choice = this.serverTypesFor(environment);
    const picked = choice.pick(this.unavailable);
    if (!picked) {
      throw new ValidationError(`Product(${this.name}).unavailableServerTypes: every ${environment.name} preset type (${choice}) is listed as unavailable. `
        + 'Fix: wait for capacity, pick another location, or adopt a larger type explicitly.');
    }
    return picked;
  }

  /** Where an environment's machines run. */
  public locationFor(environment: Environment): Location {
    this.requireEnvironment('locationFor', environment);
    if (environment === Environment.STAGING) return this.locations.staging ?? this.locationFor(Environment.PRODUCTION);
    if (environment === Environment.TEST) return this.locations.test ?? this.location;
    return this.locations.production ?? this.location;
  }

  /**
   * Whether an environment's machines have a public IPv4 address: its own setting in `publicIpv4`, production's
   * for staging without one, and true otherwise.
   */
  public publicIpv4For(environment: Environment): boolean {
    this.requireEnvironment('publicIpv4For', environment);
    if (environment === Environment.STAGING) return this.publicIpv4.staging ?? this.publicIpv4For(Environment.PRODUCTION);
    return (environment === Environment.TEST ? this.publicIpv4.test : this.publicIpv4.production) ?? true;
  }

  /**
   * The admin public keys, by name, that open an environment's machines: its own (`admin.environmentSshPublicKeys`)
   * or else `admin.sshPublicKeys`. Staging's are production's: it boots production's image in production's project.
   */
  public sshPublicKeysFor(environment: Environment): Readonly<Record<string, string>> {
    this.requireEnvironment('sshPublicKeysFor', environment);
    if (environment === Environment.STAGING) return this.sshPublicKeysFor(Environment.PRODUCTION);
    const own = this.admin.environmentSshPublicKeys;
    return (environment === Environment.TEST ? own?.test : own?.production) ?? this.admin.sshPublicKeys;
  }

  /** The bucket an environment's Terraform state is in. */
  public stateBucketFor(environment: Environment): string {
    this.requireEnvironment('stateBucketFor', environment);
    if (environment === Environment.STAGING) return this.stateBuckets.staging ?? this.stateBucketFor(Environment.PRODUCTION);
    if (environment === Environment.TEST) return this.stateBuckets.test ?? this.stateBucket;
    return this.stateBuckets.production ?? this.stateBucket;
  }

  /**
   * From JavaScript, 'test' (the name, not Environment.TEST) fell through to production's answer: production's
   * location, keys and state bucket for a test stack built by hand.
   */
  private requireEnvironment(method: string, environment: unknown): void {
    requireInstance(`Product(${this.name}).${method}`, 'environment', environment, Environment,
      'use Environment.TEST, Environment.STAGING or Environment.PRODUCTION (the object, not its name)', 'an Environment');
  }

  /** The early adoption of a component, if the team made one. */
  public adoptionOf(component: Component): EarlyAdoption | undefined {
    return this.earlyAdoptions.find((a) => a.component === component);
  }
}

/** What TypeScript checks at compile time, checked at runtime for JavaScript and JSON users. */
const PRODUCT_PROP_NAMES = propNames<ProductProps>({
  name: true, phase: true, admin: true, boundary: true, dataFlows: true, stateBucket: true, stateBuckets: true, location: true, locations: true, publicIpv4: true, database: true,
  stateLocation: true, staging: true, earlyAdoptions: true, backup: true, monitoring: true, budget: true, unavailableServerTypes: true,
});

function checkProductProps(at: string, props: ProductProps): void {
  requireProps(at, props, "pass { name, phase, admin, boundary, stateBucket }");
  // In JavaScript a misspelt option (locaton, budjet, backups) would be ignored and its default used: refused by name instead.
  refuseUnknownProps(at, undefined, props, PRODUCT_PROP_NAMES);
  requireString(at, 'name', props.name, "use a short name such as 'acme'");
  requireInstance(at, 'phase', props.phase, Phase, 'use Phase.ONE, Phase.TWO or Phase.THREE (the object, not its name)', 'a Phase');
  requireProps(at, props.admin, "pass admin: { sshPublicKeys: { ops: 'ssh-ed25519 …' }, cidrs: ['203.0.113.0/24'] }", 'admin');
  // A misspelt hostKeys would leave every machine's host key unpinned.
  refuseUnknownProps(at, 'admin', props.admin, propNames<AdminAccess>({ sshPublicKeys: true, environmentSshPublicKeys: true, cidrs: true, hostKeys: true }));
  const keys = optionalStringMap(at, 'admin.sshPublicKeys', props.admin.sshPublicKeys, "pass { ops: 'ssh-ed25519 AAAA… ops@acme.eu' }");
  // Empty counts as missing: otherwise the machines' errors name their own props (sshKeys, adminCidrs), not the product's.
  if (keys === undefined || Object.keys(keys).length === 0) failAt(at, 'admin.sshPublicKeys', keys, 'production needs admin keys', "pass { ops: 'ssh-ed25519 AAAA… ops@acme.eu' }");
  checkEnvironmentSshPublicKeys(at, props.admin.environmentSshPublicKeys);
  refuseRepeatedKeys(at, 'admin.sshPublicKeys', keys);
  for (const environment of ['test', 'production'] as const) {
    refuseRepeatedKeys(at, `admin.environmentSshPublicKeys.${environment}`, props.admin.environmentSshPublicKeys?.[environment]);
  }
  const cidrs = requireArray(at, 'admin.cidrs', props.admin.cidrs, "list the networks admins and CI connect from, such as ['203.0.113.0/24']", (c, prop) => {
    const problem = cidrProblem(c);
    if (problem) failAt(at, prop, c, problem, cidrFix(c, "write the block as address/prefix with host bits cleared, such as '203.0.113.0/24'"));
    return c as Peer | string;
  });
  const hostKeys = optionalStringMap(at, 'admin.hostKeys', props.admin.hostKeys, "pass { 'acme-production-app': 'ssh-ed25519 AAAA…' }");
  const servers = ['test', 'staging', 'production'].flatMap((e) => ['app', 'monitoring'].map((r) => `${props.name}-${e}-${r}`));
  for (const name of Object.keys(hostKeys ?? {})) {
    // A misspelt name would leave the machine it meant unpinned, silently.
    if (!servers.includes(name)) failAt(at, `admin.hostKeys.${name}`, name, 'no machine of the product has this server name', `use one of ${servers.join(', ')}`);
  }
  if (cidrs.length === 0) {
    failAt(at, 'admin.cidrs', '[]', 'production is administered and deployed over SSH from these networks, and none is listed', "list the office, VPN and CI blocks, such as ['203.0.113.0/24']");
  }
  checkPublicIpv4(at, props.publicIpv4, cidrs);
  if (coversWholeInternet(cidrs)) {
    failAt(at, 'admin.cidrs', cidrs.join(', '), 'together these blocks cover the whole internet, and SSH must never be open to it', 'list only the office, VPN and CI blocks');
  }
  requireCheckedPolicy(at, 'boundary', props.boundary, 'pass new BoundaryPolicy({ aiActRoles, egress })');
  optionalArray(at, 'dataFlows', props.dataFlows, 'list flows such as [{ processor, dataClass, form }]', (f, prop) => DataFlow.checked(`${at}.${prop}`, f));
  const bucket = requireString(at, 'stateBucket', props.stateBucket, "name the state bucket, such as 'acme-tfstate'");
  const bucketProblem = bucketNameProblem(bucket);
  if (bucketProblem) failAt(at, 'stateBucket', bucket, bucketProblem, "use a name such as 'acme-tfstate'");
  const buckets = optionalStringMap(at, 'stateBuckets', props.stateBuckets, "name a bucket per environment, such as { production: 'acme-production-tfstate' }");
  refuseUnknownProps(at, 'stateBuckets', buckets, propNames<EnvironmentStateBuckets>({ test: true, staging: true, production: true }));
  for (const [environment, name] of Object.entries(buckets ?? {})) {
    const problem = bucketNameProblem(name);
    if (problem) failAt(at, `stateBuckets.${environment}`, name, problem, "use a name such as 'acme-production-tfstate'");
  }
  // `location: { test: Location.NBG1 }` is `locations` missing its s: say so, rather than only that a map is no Location.
  const byEnvironment = (value: unknown) => value !== null && typeof value === 'object' && !(value instanceof Location) && !Array.isArray(value)
    && Object.keys(value).length > 0 && Object.keys(value).every((k) => ['test', 'staging', 'production'].includes(k));
  if (byEnvironment(props.location)) {
    failAt(at, 'location', `{ ${Object.keys(props.location as object).map((k) => `${k}: …`).join(', ')} }`, 'location is one Location for every environment, and this is one per environment',
      `rename it locations (locations: { test: Location.NBG1 }), or pass one Location such as location: Location.FSN1`);
  }
  for (const prop of ['location', 'stateLocation'] as const) {
    optionalInstance(at, prop, props[prop], Location, 'use Location.FSN1, Location.NBG1 or Location.HEL1', 'a Location');
  }
  if (props.locations !== undefined && (props.locations === null || typeof props.locations !== 'object' || Array.isArray(props.locations))) {
    failAt(at, 'locations', props.locations, 'locations are an object by environment', '{ test: Location.FSN1, production: Location.NBG1 }');
  }
  // Location.of('fra1') gives a location that is not in the catalog: say so here, once, not as an EU question per resource.
  const placed: Array<[string, unknown]> = [['location', props.location], ['stateLocation', props.stateLocation],
    ...Object.entries(props.locations ?? {}).map(([environment, l]): [string, unknown] => [`locations.${environment}`, l])];
  for (const [prop, value] of placed) {
    const location = optionalInstance(at, prop, value, Location, 'use Location.FSN1, Location.NBG1 or Location.HEL1', 'a Location');
    if (location && !location.isKnown) failAt(at, prop, location.name, 'it is not a Hetzner location', 'use Location.FSN1, Location.NBG1 or Location.HEL1');
  }
  optionalInstance(at, 'staging', props.staging, StagingMode, 'use StagingMode.reuseTestMachine() or StagingMode.fromProductionSnapshot()', 'a StagingMode');
  optionalArray(at, 'earlyAdoptions', props.earlyAdoptions, "list { component, reason }", (a, prop) => {
    if (a === null || typeof a !== 'object' || !((a as EarlyAdoption).component instanceof Component)) {
      failAt(at, prop, a, 'an early adoption names a Component and a reason', "write { component: Component.DATA_VOLUME, reason: '…' }");
    }
    refuseUnknownProps(at, prop, a, propNames<EarlyAdoption>({ component: true, reason: true }));
    // A number or a list crashed the reason's check below with a TypeError.
    requireString(at, `${prop}.reason`, (a as EarlyAdoption).reason, "say why it cannot wait for its threshold, in a sentence: { component, reason: '…' }");
    return a;
  });
  optionalArray(at, 'unavailableServerTypes', props.unavailableServerTypes, "list server type names such as ['cx33']", (t, prop) => {
    const name = requireString(at, prop, t, "write the name, such as 'cx33'");
    // A misspelt name ('cx-33') would leave the sold-out type in the preset, silently.
    if (!ServerType.of(name).isKnown) failAt(at, prop, name, 'it is not a Hetzner server type', "write the API name, such as 'cx33' or 'cpx32'");
    return name;
  });
  // A list ([{ name: 'crm' }]) passed as well, and its options were ignored.
  const databaseFix = orNothing("pass { name: 'app' }");
  refuseNull(at, 'database', props.database, databaseFix);
  if (props.database !== undefined && (typeof props.database !== 'object' || Array.isArray(props.database))) {
    failAt(at, 'database', props.database, 'database options are an object', databaseFix.text);
  }
  optionalString(at, 'database.name', props.database?.name, "use a name such as 'app'");
  refuseUnknownProps(at, 'database', props.database, propNames<ProductDatabaseOptions>({ name: true, storage: true }));
  optionalInstance(at, 'database.storage', props.database?.storage, DatabaseStorage,
    'use DatabaseStorage.PHASE_DEFAULT, DatabaseStorage.rootDisk() or DatabaseStorage.volume(Size.gibibytes(50))', 'a DatabaseStorage');
  // Read only when the stacks are built (or at synth, for the budget): checked here, so the error names the product, not a TypeError.
  optionalInstance(at, 'budget', props.budget, Budget, 'use Budget.monthly(Money.euros(30))', 'a Budget');
  optionalInstance(at, 'monitoring', props.monitoring, MonitoringPlan, 'pass new MonitoringPlan({ uptimeChecks, receivers, deadMansSwitch })', 'a MonitoringPlan');
  if (props.backup !== undefined) checkBackupOptions(at, props.backup);
}

/**
 * Each environment's `publicIpv4`: true or false, by environment. An environment without IPv4 is administered and deployed
 * over IPv6 alone, so `admin.cidrs` needs an IPv6 block: said here, with the product's props, rather than as each
 * machine's `adminCidrs` at synth.
 */
function checkPublicIpv4(at: string, publicIpv4: unknown, cidrs: ReadonlyArray<Peer | string>): void {
  if (publicIpv4 === undefined) return;
  if (publicIpv4 === null || typeof publicIpv4 !== 'object' || Array.isArray(publicIpv4)) {
    failAt(at, 'publicIpv4', publicIpv4, 'it is an object of true or false by environment', '{ test: false } for an IPv6-only test machine, or leave it out');
  }
  refuseUnknownProps(at, 'publicIpv4', publicIpv4, propNames<EnvironmentPublicIpv4>({ test: true, staging: true, production: true }));
  const ipv6Admin = cidrs.some(isIpv6Block);
  for (const [environment, value] of Object.entries(publicIpv4 as EnvironmentPublicIpv4)) {
    if (optionalBoolean(at, `publicIpv4.${environment}`, value) === false && !ipv6Admin) {
      failAt(at, `publicIpv4.${environment}`, false, `${environment}'s machines would have no public IPv4, so SSH and the deploy's rollout reach them over IPv6 alone, and admin.cidrs holds no IPv6 block: no admin and no rollout could connect`,
        "add the IPv6 blocks admins and CI connect from to admin.cidrs, such as Peer.ipv6('2001:db8:1234::/48'), or leave publicIpv4 out");
    }
  }
}

/**
 * One key under two names: each name becomes an SSH key of the environment's Hetzner project, which registers a key
 * (its fingerprint) once, so the deploy failed with uniqueness_error part-way through.
 */
function refuseRepeatedKeys(at: string, prop: string, keys: Readonly<Record<string, string>> | undefined): void {
  const seen = new Map<string, string>();
  for (const [name, key] of Object.entries(keys ?? {})) {
    const material = sshKeyMaterial(key);
    const first = seen.get(material);
    if (first !== undefined) {
      failAt(at, `${prop}.${name}`, sshKeyFingerprint(key), `it is the key of '${first}' too (comments aside), and Hetzner registers a key once per project, so the deploy would fail with uniqueness_error`,
        `list each key once, under one name (remove '${name}' or '${first}')`);
    }
    seen.set(material, name);
  }
}

/** An environment's own admin keys: an object by environment, none empty, and none for staging (which follows production). */
function checkEnvironmentSshPublicKeys(at: string, own: unknown): void {
  if (own === undefined) return;
  const example = "pass { production: { ops: 'ssh-ed25519 AAAA… ops@acme.eu' } }";
  if (own === null || typeof own !== 'object' || Array.isArray(own)) failAt(at, 'admin.environmentSshPublicKeys', own, 'it is an object of keys by environment', example);
  if ((own as Record<string, unknown>).staging !== undefined) {
    failAt(at, 'admin.environmentSshPublicKeys.staging', 'staging', "staging uses production's keys: built from production's snapshot, it boots production's image "
      + "in production's project and refers to production's registered keys by name", "remove it, and give production the keys staging needs");
  }
  refuseUnknownProps(at, 'admin.environmentSshPublicKeys', own, propNames<EnvironmentSshPublicKeys>({ test: true, production: true }));
  for (const environment of ['test', 'production'] as const) {
    const prop = `admin.environmentSshPublicKeys.${environment}`;
    const keys = optionalStringMap(at, prop, (own as EnvironmentSshPublicKeys)[environment], "pass { ops: 'ssh-ed25519 AAAA… ops@acme.eu' }");
    // Empty would not mean "the shared keys" but a machine nobody can log into (Hetzner e-mails a root password instead).
    if (keys !== undefined && Object.keys(keys).length === 0) {
      failAt(at, prop, keys, `${environment}'s machines would accept no admin key`, `list ${environment}'s keys, or leave ${environment} out to use admin.sshPublicKeys`);
    }
  }
}

/** The product's backup options: each field of its type, and none misspelt (a misspelt offsite would drop the offsite copy). */
function checkBackupOptions(at: string, backup: unknown): void {
  const example = "pass backup: { restoreChecks: [RestoreCheck.sql('tenants-present', { database: 'app', query: 'SELECT count(*) > 0 FROM tenants' })] }";
  requireProps(at, backup, example, 'backup');
  refuseUnknownProps(at, 'backup', backup, propNames<ProductBackupOptions>({ restoreChecks: true, offsite: true, offsitePort: true, heartbeatHostname: true, storageBoxHostKeys: true }));
  const options = backup as ProductBackupOptions;
  requireArray(at, 'backup.restoreChecks', options.restoreChecks, "list the drill's queries, such as [RestoreCheck.sql('tenants-present', { database: 'app', query: 'SELECT count(*) > 0 FROM tenants' })]",
    (c, prop) => requireInstance(at, prop, c, RestoreCheck, "build it with RestoreCheck.sql(name, { database, query })", 'a RestoreCheck'));
  optionalInstance(at, 'backup.offsite', options.offsite, S3Provider, 'use S3Provider.SCALEWAY, S3Provider.IONOS, S3Provider.OVHCLOUD or S3Provider.of(name, country)', 'an S3Provider');
  const port = optionalInstance(at, 'backup.offsitePort', options.offsitePort, Port, 'use Port.of(8443)', 'a Port');
  if (port && !port.isSingle) failAt(at, 'backup.offsitePort', String(port), 'an S3 endpoint listens on one port', 'use Port.of(8443)');
  optionalArray(at, 'backup.storageBoxHostKeys', options.storageBoxHostKeys, "list the keys such as ['ssh-ed25519 AAAA…']",
    (k, prop) => requireString(at, prop, k, "write the key as text, such as 'ssh-ed25519 AAAA…'"));
  optionalString(at, 'backup.heartbeatHostname', options.heartbeatHostname, leaveOutFix('leave it out (it is no longer read)'));
}
