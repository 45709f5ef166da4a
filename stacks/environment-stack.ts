import { Construct } from 'constructs';
import { Annotations, Aspects, ISynthesisSession, TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import { HcloudProvider } from '../generated/providers/hcloud/provider';
import {
  BackupPlan, BoundaryChecks, DataVolume, Duration, EnvironmentMonitoring, Budget, BudgetGuard, Component, DataClass, DataFlow, EgressAllowlist, Environment, EnvironmentRecord, FirewallRule, Machine, MachineRolloutOptions,
  IMachine, ISshKey, ObjectStorageBackend, PostgresDatabase, PrivateNetwork, Product, SecretVariable, SshKey, StagingMode,
} from '../lib';
import { writeProductDocuments } from '../lib/environments/product-documents';
import { OnDemandLabels } from './on-demand-labels';
import { isExpired } from '../lib/environments/staging';
import { STAGING_NOT_REAPED, stagingSuppressionRegistry } from '../lib/environments/staging-suppressions';
import { SuppressionUse } from '../lib/core/private/suppression-registry';
import { invalidValue, missingValue } from '../lib/core/validation-message';
import { Retirement, RetirementOptions } from '../lib/core/retirement';
import { checkProps, fail, is, leaveOutFix, withFix } from '../lib/core/runtime-checks';
import { protectWorkingDirectoryOf } from '../lib/core/private/working-directory';
import { holdsOnlyPublic } from '../lib/core/private/only-public';
import { HETZNER_API_ENDPOINTS } from '../lib/environments/private/hetzner-endpoints';
import { sshKeyMaterial } from '../lib/hetzner/private/openssh-public-key';
import { addProductionBackups, addRestoreDrill } from './environment-backups';
import { declareBuiltComponents, PhaseMachines, warnAboutUndeclaredServers } from './environment-components';
import { componentConstant } from '../lib/roadmap/private/component-constant';
import { checkNetworkClients } from '../lib/database/private/network-clients';
import { guardStack } from '../lib/core/private/guard-stack';

/** The environment's private subnet (PrivateNetwork's default) and the addresses pinned in it. */
const PRIVATE_SUBNET = '10.0.1.0/24';
/** The app machine's private address: pinned, since PostgreSQL listens on it. Hetzner gives the first server .2 too. */
export const APP_PRIVATE_IP = '10.0.1.2';
const MONITORING_PRIVATE_IP = '10.0.1.3';
/** What an app machine holds unless the stack says otherwise: an app machine with its database holds tenant data and credentials. */
const DEFAULT_APP_DATA_CLASSES: readonly DataClass[] = [DataClass.SENSITIVE, DataClass.SECRET];
/** The furthest expiry the release path gives staging: `--staging-days` at most 14, plus the day the reaper deletes from. */
const STAGING_MAX_DAYS = 15;
/** The first wait before the provider polls a Hetzner action again (the provider's default is 500ms; later waits grow). */
const HCLOUD_POLL_INTERVAL = Duration.seconds(1);
/** Where a database volume is mounted; the data directory is `<mount>/<major>/main`. */
export const DATABASE_VOLUME_MOUNT = '/srv/postgresql';

/** Which product and environment a stack is, and what it may deviate from the product's defaults. */
export interface EnvironmentStackProps {
  /** The product this environment belongs to; its phase decides the machines. */
  readonly product: Product;
  /** Which environment this stack is. */
  readonly environment: Environment;
  /**
   * When an on-demand staging environment may be torn down, as a UTC date `YYYY-MM-DD`.
   * Required for staging; the staging reaper deletes it from that day on.
   * @default - none; a staging stack fails synth without one
   */
  readonly expiresAt?: string;
  /**
   * The data classes the app machine holds.
   * @default [DataClass.SENSITIVE, DataClass.SECRET] - an app machine with its database holds tenant data and credentials
   */
  readonly dataClasses?: DataClass[];
  /**
   * Public entry points of the app machine.
   * @default [FirewallRule.httpsFromAnywhere(), FirewallRule.httpFromAnywhere()]
   */
  readonly ingress?: FirewallRule[];
  /**
   * The most this environment may cost a month (an on-demand one: its rehearsals a month).
   * @default - no budget of its own; the product's budget, if any, still applies
   */
  readonly budget?: Budget;
  /**
   * Retire this environment: the first of two deliberate steps. Deploying it turns delete protection
   * and `prevent_destroy` off (nothing is deleted); `cdktf destroy` is the second step. See docs/day-2.md.
   * @default - not retiring: production stays protected
   */
  readonly retire?: RetirementOptions;
  /**
   * The machines whose apps connect to the database over the private network (a worker on a machine of its own), as
   * `PostgresDatabaseProps.networkClients`: the app machine's private-network table and `pg_hba.conf` admit their
   * private addresses on the database's port, and no other machine's. They are in the stack's private network, which
   * the stack creates, so this is a function that builds them in the stack, called once its network and app machine
   * exist and before its database: `(stack) => [new Machine(stack, 'Worker', { …, sshKeys: [...stack.adminSshKeys],
   * privateNetwork: stack.network })]` (docs/database.md shows the whole worker).
   * @default - none: nothing reaches the database over the private network
   */
  readonly networkClients?: (stack: EnvironmentStack) => IMachine[];
}

const NETWORK_CLIENTS_FACTORY = "pass a function that builds them in the stack: networkClients: (stack) => [new Machine(stack, 'Worker', { …, sshKeys: [...stack.adminSshKeys], privateNetwork: stack.network })]";

/** How to write the app machine's data classes. */
const APP_DATA_CLASSES_FIX = leaveOutFix('list what the app machine holds, such as [DataClass.SENSITIVE, DataClass.SECRET], or leave it out for that default');

/** The rollout settings of a product's machine: its pinned host key, if the product names one. */
function rolloutOf(product: Product, serverName: string): MachineRolloutOptions | undefined {
  const hostKey = product.admin.hostKeys?.[serverName];
  return hostKey === undefined ? undefined : { hostKey };
}

/**
 * One environment of a product as its own stack, with its own state: deploying or destroying
 * one environment never touches another.
 *
 * It holds the provider (token from `HCLOUD_TOKEN`, never in the configuration), the state
 * backend, the environment's private network, its admin keys and its app machine, sized by
 * the product's phase. A staging stack is on demand: labelled with its purpose and expiry, and
 * built from the image in its `staging_image` variable (a production snapshot).
 */
export class EnvironmentStack extends TerraformStack {
  /** The product this environment belongs to. */
  public readonly product: Product;
  /** Which environment this stack is. */
  public readonly environment: Environment;
  /** The environment's private network. */
  public readonly network: PrivateNetwork;
  /** The app machine, sized by the product's phase. */
  public readonly app: Machine;
  /** The app machine's PostgreSQL. */
  public readonly database: PostgresDatabase;
  /** Production, from Phase 3 (or when the product's database storage says so): the volume the data directory is on. */
  public readonly databaseVolume?: DataVolume;
  /** Phase 3 production only: the machine Prometheus and Alertmanager run on. */
  public readonly monitoringMachine?: Machine;
  /** Test and production: uptime checks, alerts and error monitoring (staging is on demand and not watched). */
  public readonly monitoring?: EnvironmentMonitoring;
  /** Staging only: the image (production snapshot ID) the staging server is built from. */
  public readonly stagingImage?: TerraformVariable;
  /** Staging only: the UTC date (`YYYY-MM-DD`) the staging reaper may delete it from. */
  public readonly expiresAt?: string;
  /**
   * The environment's admin SSH keys as the app machine has them.
   *
   * For a machine of your own in the stack (a `networkClients` worker): `sshKeys: [...stack.adminSshKeys]`. A
   * `new SshKey` of the same public key registers it again in the same Hetzner project, which is refused at synth
   * (Hetzner's `uniqueness_error` at deploy).
   *
   * In test, production and a staging not built from production's snapshot, each is an `SshKey` this stack
   * registers. In a staging built from production's snapshot (`StagingMode.fromProductionSnapshot()`), which lives in
   * production's project, each is only a reference by name to production's key (`sshKeyReference`
   * `<product>-production-<name>`, and its `publicKey`): no `SshKey`, so no `.resource` to read or depend on, and
   * staging neither registers nor deletes it. Read only `sshKeyReference` and `publicKey` (the `ISshKey` fields) to
   * work in both.
   */
  public readonly adminSshKeys: readonly ISshKey[];
  /** Staging only: gives the stack's labelled resources its on-demand labels (the reaper's), refusing other values, and warns of a type the reaper does not remove. */
  private readonly onDemandLabelling?: OnDemandLabels;

  constructor(scope: Construct, id: string, props: EnvironmentStackProps) {
    super(scope, id);
    guardStack(this);
    checkProps<EnvironmentStackProps>(this, props, {
      product: is.instance(Product, 'pass the product: { product: new Product({ … }), environment: Environment.PRODUCTION }', 'a Product'),
      environment: is.instance(Environment, 'use Environment.PRODUCTION, Environment.TEST or Environment.STAGING (the object, not its name)', 'an Environment'),
      // The staging validation checks the date with this stack's path.
      expiresAt: is.optional(is.text("write the UTC date as YYYY-MM-DD, such as '2026-12-31'")),
      // The app machine checks the elements with its own path. A null is no list (it was taken for "left out"), and an
      // empty list of data classes declares nothing: the machine took DataClass.SENSITIVE for it, dropping the SECRET
      // of the default, so the boundary judged the machine that holds the database's credentials by a lower class.
      dataClasses: is.optional(withFix(APP_DATA_CLASSES_FIX, (at, prop, value) => {
        is.list(is.checkedLater(), APP_DATA_CLASSES_FIX)(at, prop, value);
        if ((value as unknown[]).length === 0) fail(at, prop, value, 'an empty list declares nothing, and the machine would be judged by a default class', APP_DATA_CLASSES_FIX.text);
        // The stack always builds the app machine's PostgreSQL database, which refuses a public-only machine at synth
        // (under <stack>/Database.machine, naming another default): said here, once, with this stack's default.
        if (holdsOnlyPublic(value as DataClass[])) {
          fail(at, prop, (value as DataClass[]).map(String), "the stack runs the product's PostgreSQL database on its app machine, and a database holds the product's users and their data, never public data alone; "
            + 'declared public, the boundary would let that machine run outside the EU with open egress',
          'leave dataClasses out for the default [DataClass.SENSITIVE, DataClass.SECRET], or list what the database holds too, such as [DataClass.PUBLIC, DataClass.SENSITIVE]; '
            + 'put public-only work on a Machine of its own');
        }
      })),
      ingress: is.optional(is.list(is.checkedLater(), leaveOutFix('list the entry points, such as [FirewallRule.httpsFromAnywhere()], [] for none, or leave it out for HTTPS and HTTP'))),
      budget: is.optional(is.instance(Budget, 'use Budget.monthly(Money.euros(30))', 'a Budget')),
      retire: is.optional(is.object<RetirementOptions>({ reason: is.checkedLater(), includeBackups: is.checkedLater() }, "pass retire: { reason: '…' }")),
      networkClients: is.optional(withFix(NETWORK_CLIENTS_FACTORY, (at, prop, value) => {
        if (typeof value !== 'function') {
          fail(at, prop, value, `it is ${Array.isArray(value) ? 'a list, and a client must be a machine in the private network this stack creates' : 'not a function'}`, NETWORK_CLIENTS_FACTORY);
        }
      })),
    }, 'pass { product, environment }');
    if (props.retire) Retirement.declare(this, props.retire);
    this.product = props.product;
    this.environment = props.environment;
    this.expiresAt = props.expiresAt;
    const product = props.product;
    const environment = props.environment;
    const isStaging = environment === Environment.STAGING;
    const prefix = `${product.name}-${environment.name}`;
    const location = product.locationFor(environment);
    // Staging's on-demand labels, for the staging reaper; added as an Aspect below, once the stack's own Aspects are.
    this.onDemandLabelling = isStaging ? new OnDemandLabels(this, props.expiresAt) : undefined;
    // Without environment: each resource's environment label comes from its environment prop.
    const onDemandLabels: Record<string, string> = Object.fromEntries(Object.entries(this.onDemandLabelling?.labels ?? {}).filter(([key]) => key !== 'environment'));

    // Hetzner's APIs named, so that no HCLOUD_ENDPOINT left in a shell or CI sends the token elsewhere. Every action
    // the provider waits for is polled, and polls count against the project's 3600 requests an hour
    // (terraform-provider-hcloud #702): the first poll after a second, not half a second, halves the fastest rate.
    new HcloudProvider(this, 'hcloud', {
      endpoint: HETZNER_API_ENDPOINTS.endpoint,
      endpointHetzner: HETZNER_API_ENDPOINTS.endpoint_hetzner,
      pollInterval: `${HCLOUD_POLL_INTERVAL.toMillis()}ms`,
    });
    new ObjectStorageBackend(this, { bucket: product.stateBucketFor(environment), location: product.stateLocation });

    this.network = new PrivateNetwork(this, 'Network', {
      environment,
      name: `${prefix}-network`,
      location,
      subnetRange: PRIVATE_SUBNET,
      labels: onDemandLabels,
    });
    // A snapshot can only be used in the project it was taken in, so staging built from production's lives in production's
    // project, where production has registered the admin keys; Hetzner allows a key (fingerprint) once per project.
    // Registered again, staging's deploy failed with uniqueness_error; so it uses production's by name, and never owns them.
    const inProductionProject = isStaging && product.staging.name === StagingMode.fromProductionSnapshot().name;
    // Each environment's own keys: a key that opens test (held by test's CI job) opens production only when the product says so.
    const sshKeys: ISshKey[] = Object.entries(product.sshPublicKeysFor(environment)).map(([name, publicKey]) => (inProductionProject
      ? Object.freeze({ sshKeyReference: `${product.name}-${Environment.PRODUCTION.name}-${name}`, publicKey: publicKey.trim() })
      : new SshKey(this, `AdminKey-${name}`, { name: `${prefix}-${name}`, publicKey, labels: { environment: environment.name, ...onDemandLabels } })));
    this.adminSshKeys = Object.freeze([...sshKeys]);

    if (isStaging) {
      this.stagingImage = new TerraformVariable(this, 'staging_image', {
        type: 'string',
        default: 'debian-12',
        description: 'Image the staging server is built from: the release path passes the ID of a fresh production snapshot.',
      });
    }

    this.app = new Machine(this, 'App', {
      environment,
      role: 'app',
      name: `${prefix}-app`,
      serverType: product.serverTypeFor(environment),
      location,
      image: this.stagingImage?.stringValue,
      dataClasses: props.dataClasses ?? [...DEFAULT_APP_DATA_CLASSES],
      sshKeys,
      adminCidrs: product.admin.cidrs,
      publicIpv4: product.publicIpv4For(environment),
      ingress: props.ingress ?? [FirewallRule.httpsFromAnywhere(), FirewallRule.httpFromAnywhere()],
      privateNetwork: this.network,
      privateIp: APP_PRIVATE_IP,
      labels: onDemandLabels,
      rollout: rolloutOf(product, `${prefix}-app`),
    });

    // Built once the network and the app machine exist, checked under this stack's prop, before the database declares them.
    const networkClients = props.networkClients && checkNetworkClients(this, 'networkClients', this.app, props.networkClients(this));

    // The volume comes first: its mount is a bundle part the database's setup runs after.
    const productionVolume = product.database.storage.volumeSizeFor(product.phase);
    const volumeSize = environment === Environment.PRODUCTION ? productionVolume : undefined;
    this.databaseVolume = volumeSize && new DataVolume(this, 'DatabaseVolume', {
      machine: this.app, size: volumeSize, mountPath: DATABASE_VOLUME_MOUNT, name: `${prefix}-postgresql`,
    });
    this.database = new PostgresDatabase(this, 'Database', {
      machine: this.app,
      privateAddress: APP_PRIVATE_IP,
      privateSubnet: PRIVATE_SUBNET,
      database: product.database.name,
      // One variable per environment: with one name for all, a single exported value (or CI secret) reached every
      // stack, and the always-on test machine held production's database password.
      password: new SecretVariable(this, databasePasswordVariable(environment), {
        description: `Password of the ${product.database.name} role of ${prefix}'s PostgreSQL (at least 16 characters; its own, never another environment's)`,
      }),
      dataVolume: this.databaseVolume,
      // Built from production's snapshot, which skips production's database volume: the root disk holds no cluster.
      createEmptyClusterIfMissing: inProductionProject && productionVolume !== undefined,
      networkClients,
    });

    if (product.backup && environment === Environment.PRODUCTION) addProductionBackups(this, product, this.app, product.backup, this.database);
    if (product.backup && environment === Environment.TEST) addRestoreDrill(this, product, this.app, product.backup, this.database);

    // Phase 3 production: Prometheus and Alertmanager move to a machine of their own.
    const monitoringTypes = environment === Environment.PRODUCTION ? product.phase.monitoringMachine : undefined;
    this.monitoringMachine = monitoringTypes && new Machine(this, 'MonitoringMachine', {
      environment, role: 'monitoring', name: `${prefix}-monitoring`, serverType: monitoringTypes.preferred, location,
      dataClasses: [DataClass.SECRET], sshKeys, adminCidrs: product.admin.cidrs, publicIpv4: product.publicIpv4For(environment), privateNetwork: this.network, privateIp: MONITORING_PRIVATE_IP,
      rollout: rolloutOf(product, `${prefix}-monitoring`),
    });
    this.monitoring = environment === Environment.STAGING ? undefined : new EnvironmentMonitoring(this, 'Monitoring', {
      plan: product.monitoring, phase: product.phase, environment, machine: this.app, monitoringMachine: this.monitoringMachine,
    });

    for (const flow of product.dataFlows) DataFlow.declare(this.app, flow);
    // The backup plan, the restore drill and the monitoring declare their own destinations
    // (EgressAllowlist.requireHostnames): the allowlist holds them without this stack listing them.
    for (const machine of [this.app, ...(this.monitoringMachine ? [this.monitoringMachine] : [])]) {
      if (EgressAllowlist.isRequiredFor(machine)) EgressAllowlist.apply(machine, { policy: product.boundary });
    }
    Aspects.of(this).add(new BoundaryChecks({ policy: product.boundary }));
    // A worker of networkClients, or anything added later, is reaped with the rest of a rehearsal that died before its destroy.
    if (this.onDemandLabelling) Aspects.of(this).add(this.onDemandLabelling);
    // A volume, or a database off the app machine, is a roadmap component: whoever adds one, the phase judges it.
    declareBuiltComponents(this, this.phaseMachines);

    if (this.app.ipv4) new TerraformOutput(this, 'app_ipv4', { value: this.app.ipv4.ipAddress, description: 'Public IPv4 of the app machine' });
    // The server's own address (`…::1`): its primary IP's ip_address is the start of the /64 (`…::`), where the server does not answer.
    new TerraformOutput(this, 'app_ipv6', { value: this.app.server.ipv6Address, description: 'Public IPv6 of the app machine (the first address of its /64)' });

    this.node.addValidation({ validate: () => this.validateEnvironment() });
    if (props.budget) BudgetGuard.forEnvironment(this, props.budget);
    if (product.budget) BudgetGuard.forProduct(this, product, product.budget, () => productStacks(this));
    // A staging stack's expiry, where OnDemandLabels found it valid (an invalid one is refused at validation instead).
    const validExpiry = this.onDemandLabelling?.expiresAt;
    if (validExpiry && isExpired(validExpiry, new Date())) {
      Annotations.of(this).addWarning(`Environment-StagingExpired: ${this.node.path}.expiresAt '${validExpiry}' has passed; the staging reaper may delete this environment. Fix: set a later date if the rehearsal is still running.`);
    }
    if (validExpiry) this.warnIfPermanentStaging(validExpiry);
    if (environment === Environment.PRODUCTION) this.warnIfTestKeysOpenProduction();
    if (inProductionProject && productionVolume) {
      // Hetzner snapshots hold the root disk only: staging's database would start empty and the rehearsal pass on no data.
      Annotations.of(this).addWarning(`Environment-StagingWithoutData: ${this.node.path} is built from production's snapshot, but production's database is on a `
        + `${productionVolume} volume (${product.database.storage}), which a Hetzner snapshot does not include: staging's PostgreSQL starts without production's data. `
        + 'Fix: restore the newest backup into staging before the rehearsal (restic restore of the production dump), or keep production\'s data directory on the root disk (database: { storage: DatabaseStorage.rootDisk() }).');
    }

    this.wrapSynthesizerWithDocuments();
    protectWorkingDirectoryOf(this);
  }

  /** The machines the phase builds in this stack, against which the stack's other servers are judged. */
  private get phaseMachines(): PhaseMachines {
    return { app: this.app, monitoringMachine: this.monitoringMachine, phase: this.product.phase };
  }

  /** What the release path and reports read about this environment. */
  public get record(): EnvironmentRecord {
    return {
      stack: this.node.id,
      environment: this.environment.name,
      location: this.app.location.name,
      serverType: this.app.serverType.name,
      database: {
        major: this.database.version.major,
        dataDirectory: this.database.dataDirectory,
        ...(this.databaseVolume ? { volume: this.databaseVolume.size.toString() } : {}),
        tuning: this.database.tuning.toString(),
      },
      serverTypePreset: this.product.serverTypesFor(this.environment).types.map((t) => t.name),
      onDemand: !this.environment.alwaysOn,
      ...(this.expiresAt ? { expiresAt: this.expiresAt } : {}),
      ...(BackupPlan.of(this.app)?.preReleaseSnapshot ? { preReleaseSnapshot: true } : {}),
    };
  }

  /**
   * Staging lives for a rehearsal: the release path gives it at most 15 days (`--staging-days` 14, plus the day the
   * reaper starts from). An expiry further off keeps it up as permanent staging, a postponed component, without
   * the early adoption and reason the postponed list would show.
   */
  private warnIfPermanentStaging(expiresAt: string): void {
    const component = Component.PERMANENT_STAGING;
    if (this.product.phase.permits(component) || this.product.adoptionOf(component)) return;
    const days = Math.ceil((new Date(`${expiresAt}T00:00:00Z`).getTime() - Date.now()) / 86_400_000);
    if (days <= STAGING_MAX_DAYS) return;
    Annotations.of(this).addWarning(`Environment-StagingLongLived: ${this.node.path}.expiresAt '${expiresAt}' is ${days} days away: staging kept up that long `
      + `is the permanent staging ${this.product.phase} postpones (it comes in when ${component.threshold}). Fix: give the rehearsal its own expiry, `
      + `at most ${STAGING_MAX_DAYS} days ahead (the release path sets it), or adopt it early with a reason: earlyAdoptions: [{ component: Component.PERMANENT_STAGING, reason: '…' }]`);
  }

  /**
   * Every key that opens test's machines also opens production's: whatever key test's deploys use (test's CI
   * job, the people who can run it) is root on production. A personal key on both is fine, as long as test
   * has one key of its own for its deploys. Once per product, on production's stack.
   */
  private warnIfTestKeysOpenProduction(): void {
    const production = new Set(Object.values(this.product.sshPublicKeysFor(Environment.PRODUCTION)).map(sshKeyMaterial));
    const test = Object.entries(this.product.sshPublicKeysFor(Environment.TEST));
    if (test.some(([, key]) => !production.has(sshKeyMaterial(key)))) return;
    Annotations.of(this).addWarning(`Environment-SharedAdminKey: ${this.node.path}: every admin key of test (${test.map(([name]) => name).join(', ')}) `
      + "also opens production, so test's deploy key (test's ADMIN_SSH_KEY in CI, held by every test job) is root on production. "
      + "Fix: give production keys of its own, admin: { environmentSshPublicKeys: { production: { ops: 'ssh-ed25519 AAAA…' } } }, "
      + "and set production's ADMIN_SSH_KEY to its private key (a GitHub environment secret of production, or a GitLab variable scoped to production).");
  }

  /**
   * A machine that holds a copy of production's data is held to production's classes: staging built from production's
   * snapshot boots a copy of its disk, and test's restore drill restores its databases every week. Declared to hold
   * less, the boundary judged that copy by the lesser classes (outside the EU and with open egress if public).
   */
  private productionCopyDataClassProblems(copy: string): string[] {
    const production = productStacks(this).find((s) => s.environment === Environment.PRODUCTION);
    const held = production?.app.dataClasses ?? DEFAULT_APP_DATA_CLASSES;
    const missing = held.filter((c) => !this.app.dataClasses.includes(c));
    if (missing.length === 0) return [];
    const names = (classes: readonly DataClass[]) => classes.map((c) => c.name).join(', ');
    return [invalidValue(this, 'dataClasses', names(this.app.dataClasses),
      `${copy}, and so holds what production's app machine holds (${names(held)}); `
      + `declared without ${names(missing)}, it would be judged by the data boundary as if that copy held less (where it may run, what may leave it)`,
      `leave dataClasses out of the ${this.environment.name} stack, or list production's: [${held.map((c) => `DataClass.${c.name.toUpperCase()}`).join(', ')}]`)];
  }

  private validateEnvironment(): string[] {
    const errors: string[] = [];
    // Without a valid expiresAt the labels lack expires-at: the written-stack check refuses that too, with this message.
    if (this.onDemandLabelling?.expiryRefusal) errors.push(this.onDemandLabelling.expiryRefusal);
    // Outside staging nothing warns Staging-NotReaped: a suppression of it there matches nothing.
    errors.push(...this.onDemandLabelling?.errors(this)
      ?? stagingSuppressionRegistry.unusedRefusals(this, new SuppressionUse(), { why: `${this.node.path} is a ${this.environment.name} stack, and only a staging stack warns ${STAGING_NOT_REAPED}` }));
    if (this.environment === Environment.STAGING && this.product.staging.name === StagingMode.fromProductionSnapshot().name) {
      errors.push(...this.productionCopyDataClassProblems("staging is built from production's snapshot, a copy of production's disk"));
    }
    if (this.environment === Environment.TEST && this.product.backup) {
      errors.push(...this.productionCopyDataClassProblems("test's app machine runs the weekly restore drill, which restores production's databases onto it"));
    }
    if (this.environment === Environment.PRODUCTION) {
      const plan = BackupPlan.of(this.app);
      if (!plan) {
        errors.push(missingValue(this, 'backup', 'production refuses to run without a backup plan: Hetzner server backups alone die with the server and skip volumes',
          "declare the product's backups: backup: { restoreChecks: [RestoreCheck.sql('tenants-present', { database: 'app', query: 'SELECT count(*) > 0 FROM tenants' })] }"));
      } else if (!plan.targets.some((t) => t.kind === 'storagebox' || t.isOffsite)) {
        errors.push(missingValue(this, 'backup.targets', 'production needs a remote copy on a second storage system', 'give the plan a Storage Box target'));
      }
    }
    const phase = this.product.phase;
    warnAboutUndeclaredServers(this, this.phaseMachines);
    for (const { component, path } of Component.declaredIn(this)) {
      if (phase.permits(component) || this.product.adoptionOf(component)) continue;
      errors.push(`${path}: component '${component.id}' is not allowed: ${phase} postpones ${component.title}; it comes in when ${component.threshold}. `
        + `Fix: remove it, or adopt it early with a reason: earlyAdoptions: [{ component: Component.${componentConstant(component)}, reason: '…' }]`);
    }
    return errors;
  }

  // The product's documents (postponed list, environments) are written with the stacks, so they never drift from them.
  // Once per synth and product, by whichever of its stacks synthesizes first: every stack is built and prepared by then,
  // and the documents read all of them. Written again by each stack, they ran every stack's boundary checks once per
  // stack, which grew with the square of the stacks and was most of a large product's synth.
  private wrapSynthesizerWithDocuments(): void {
    const inner = this.synthesizer;
    this.synthesizer = {
      synthesize: (session: ISynthesisSession) => {
        inner.synthesize(session);
        const written = documentsWritten.get(session) ?? new Set<Product>();
        documentsWritten.set(session, written);
        if (written.has(this.product)) return;
        written.add(this.product);
        const stacks = productStacks(this);
        writeProductDocuments(session.outdir, this.product, stacks.map((s) => ({ stack: s, environment: s.environment, expiresAt: s.expiresAt })), stacks.map((s) => s.record),
          this.node.root.node.findAll().filter((c): c is TerraformStack => TerraformStack.isStack(c) && !(c instanceof EnvironmentStack)));
      },
    };
  }
}

/** The products whose documents a synth (its session) has written. */
const documentsWritten = new WeakMap<ISynthesisSession, Set<Product>>();

/**
 * The variable an environment's database password comes from: `database_app_password_<environment>`, so that
 * test, staging and production each get their own (`TF_VAR_database_app_password_production`, …).
 */
export function databasePasswordVariable(environment: Environment): string {
  return `database_app_password_${environment.name}`;
}

/** Every environment stack of the same product in the app, in construction order. */
export function productStacks(stack: EnvironmentStack): EnvironmentStack[] {
  return stack.node.root.node.findAll()
    .filter((c): c is EnvironmentStack => c instanceof EnvironmentStack && c.product === stack.product);
}
