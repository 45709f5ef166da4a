import { App, Aspects, TerraformStack, TerraformVariable, Testing } from 'cdktf';
import { HcloudProvider } from '../../../generated/providers/hcloud/provider';
import {
  AiActRole, BOUNDARY_RULES, BoundaryChecks, BoundaryPolicy, BoundaryRule, DataClass, EgressAllowlist, EgressForm, Environment, FirewallRule, Location, Machine,
  ObjectStorageBackend, Phase, PrivateNetwork, Processor, SshKey,
} from '../../../lib';
import { BackupPlan } from '../../../lib/backup/backup-plan';
import { BackupTarget } from '../../../lib/backup/backup-target';
import { S3Provider } from '../../../lib/backup/s3-provider';
import { Heartbeat } from '../../../lib/backup/heartbeat';
import { RestoreCheck } from '../../../lib/backup/restore-check';
import { RestoreDrill } from '../../../lib/backup/restore-drill';
import { StorageBox, StorageBoxAccount } from '../../../lib/hetzner/storage-box';
import { AlertReceiver } from '../../../lib/monitoring/alert-receiver';
import { DeadMansSwitch } from '../../../lib/monitoring/dead-mans-switch';
import { EnvironmentMonitoring } from '../../../lib/monitoring/environment-monitoring';
import { ErrorMonitoringEndpoint } from '../../../lib/monitoring/error-monitoring-endpoint';
import { errorMonitoringEndpoint } from '../../../lib/monitoring/error-monitoring-rule';
import { MonitoringPlan, MonitoringPlanProps } from '../../../lib/monitoring/monitoring-plan';
import { UptimeCheck } from '../../../lib/monitoring/uptime-check';
import { machinePayload } from '../../setup/machine-payload';

/** The boundary pack with the error-monitoring rule, as the lead adds it to BOUNDARY_RULES. */
export const RULES: readonly BoundaryRule[] = BOUNDARY_RULES.some((r) => r.id === errorMonitoringEndpoint.id)
  ? BOUNDARY_RULES : [...BOUNDARY_RULES, errorMonitoringEndpoint];

/** A self-hosted GlitchTip, declared as the processor it is: run by the team itself, in Berlin. */
export const glitchTip = new Processor({
  name: 'GlitchTip (self-hosted by Acme)', legalSeat: { city: 'Berlin', country: 'DE' }, hostnames: ['errors.acme.eu'], purpose: 'error monitoring',
});
const mistral = Processor.mistralAi();

export function boundary(processors: Processor[] = [glitchTip]): BoundaryPolicy {
  return new BoundaryPolicy({
    aiActRoles: [AiActRole.DEPLOYER],
    egress: [
      { dataClass: DataClass.PUBLIC, to: [mistral, ...processors], form: EgressForm.RAW },
      { dataClass: DataClass.PSEUDONYMIZED, to: [mistral, ...processors], form: EgressForm.PSEUDONYMIZED },
    ],
  });
}

export const ops = AlertReceiver.webhook('ops', { hostname: 'chat.acme.eu' });
export const oncall = AlertReceiver.email('oncall', { to: ['oncall@acme.eu'], from: 'alerts@acme.eu', smarthost: 'smtp.mail.eu:587', username: 'alerts@acme.eu' });

/** The examples' plan: production's site and API, test's site, two receivers, healthchecks.io, self-hosted GlitchTip. */
export function plan(overrides: Partial<MonitoringPlanProps> = {}): MonitoringPlan {
  return new MonitoringPlan({
    uptimeChecks: [
      UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu/health', { expectBody: '"status":\\s*"ok"' }),
      UptimeCheck.http(Environment.PRODUCTION, 'https://api.acme.eu/v1/ping', { notify: [ops, oncall] }),
      UptimeCheck.http(Environment.TEST, 'https://test.acme.eu/health'),
    ],
    receivers: [ops],
    deadMansSwitch: DeadMansSwitch.healthchecksIo(),
    errorMonitoring: ErrorMonitoringEndpoint.selfHosted(glitchTip),
    ...overrides,
  });
}

export interface FixtureOptions {
  readonly phase?: Phase;
  readonly plan?: MonitoringPlan;
  readonly policy?: BoundaryPolicy;
  /** Production's backup plan and test's restore drill. @default true */
  readonly backups?: boolean;
  /** Leave the Phase 3 monitoring machine out. @default false */
  readonly withoutMonitoringMachine?: boolean;
  /** Test's drill restores production's offsite bucket too (`additionalSources`), as ProductStacks' from Phase 2. @default false */
  readonly drillOffsite?: boolean;
}

export interface EnvironmentFixture {
  readonly stack: TerraformStack;
  readonly app: Machine;
  readonly monitoringMachine?: Machine;
  readonly monitoring: EnvironmentMonitoring;
}

export interface ProductFixture {
  readonly app: App;
  readonly test: EnvironmentFixture;
  readonly production: EnvironmentFixture;
}

const secret = (stack: TerraformStack, name: string) => new TerraformVariable(stack, name, { type: 'string', sensitive: true });

/**
 * A product's test and production stacks wired the way EnvironmentStack wires them: app machine on
 * the environment's network, production backed up (Phase 1 plan to a Storage Box in hel1), the
 * restore drill on test, EnvironmentMonitoring, the egress allowlist with its hosts, and the
 * boundary checks with the error-monitoring rule.
 */
export function productFixture(options: FixtureOptions = {}): ProductFixture {
  const app = Testing.app();
  const phase = options.phase ?? Phase.ONE;
  const monitoringPlan = 'plan' in options ? options.plan : plan();
  const policy = options.policy ?? boundary();
  const admin = { sshKeys: [SshKey.fromName('admin')], adminCidrs: ['203.0.113.0/24'] };
  const withBackups = options.backups ?? true;

  const environment = (env: Environment): EnvironmentFixture => {
    const stack = new TerraformStack(app, `acme-${env.name}`);
    new HcloudProvider(stack, 'hcloud', {});
    new ObjectStorageBackend(stack, { bucket: 'acme-state' });
    const network = new PrivateNetwork(stack, 'Network', { environment: env, name: `acme-${env.name}-network` });
    const machine = new Machine(stack, 'App', {
      environment: env, role: 'app', name: `acme-${env.name}-app`, serverType: phase.machineFor(env).preferred,
      dataClasses: [DataClass.SENSITIVE, DataClass.SECRET], ingress: [FirewallRule.httpsFromAnywhere()], privateNetwork: network, ...admin,
    });
    const monitoringMachine = env === Environment.PRODUCTION && phase.monitoringMachine && !options.withoutMonitoringMachine
      ? new Machine(stack, 'MonitoringMachine', {
        environment: env, role: 'monitoring', name: `acme-${env.name}-monitoring`, serverType: phase.monitoringMachine.preferred,
        dataClasses: [DataClass.SECRET], privateNetwork: network, ...admin,
      })
      : undefined;
    if (withBackups && env === Environment.PRODUCTION) {
      const box = new StorageBox(stack, 'StorageBox', { environment: env, location: Location.HEL1, password: secret(stack, 'storage_box_password') });
      const account = box.addSubaccount('App', { homeDirectory: 'backups/production/app', password: secret(stack, 'storage_box_app_password') });
      BackupPlan.phase1(stack, 'Backups', {
        environment: env, resticPassword: secret(stack, 'restic_password'), heartbeat: Heartbeat.healthchecks(secret(stack, 'heartbeat_url')),
        targets: [BackupTarget.storageBox(account)],
      }).protect(machine);
    }
    if (withBackups && env === Environment.TEST) {
      new RestoreDrill(stack, 'RestoreDrill', {
        machine,
        source: BackupTarget.storageBox(StorageBoxAccount.fromAttributes({ host: 'u12345-sub2.your-storagebox.de', username: 'u12345-sub2', location: Location.HEL1, readonly: false })),
        ...(options.drillOffsite ? { additionalSources: [BackupTarget.s3Compatible({
          provider: S3Provider.SCALEWAY, endpoint: secret(stack, 'production_offsite_s3_endpoint'), bucket: secret(stack, 'production_offsite_s3_bucket'),
          accessKeyId: secret(stack, 'production_offsite_s3_access_key_id'), secretAccessKey: secret(stack, 'production_offsite_s3_secret_access_key'),
        })] } : {}),
        sourceHost: 'acme-production-app',
        resticPassword: secret(stack, 'production_restic_password'),
        heartbeat: Heartbeat.healthchecks(secret(stack, 'heartbeat_url')),
        checks: [RestoreCheck.sql('users-present', { database: 'app', query: 'SELECT count(*) > 0 FROM users' })],
      });
    }
    const monitoring = new EnvironmentMonitoring(stack, 'Monitoring', { plan: monitoringPlan, phase, environment: env, machine, monitoringMachine });
    for (const m of [machine, ...(monitoringMachine ? [monitoringMachine] : [])]) {
      if (EgressAllowlist.isRequiredFor(m)) EgressAllowlist.apply(m, { policy });
    }
    Aspects.of(stack).add(new BoundaryChecks({ policy, rules: RULES }));
    return { stack, app: machine, monitoringMachine, monitoring };
  };
  const test = environment(Environment.TEST);
  const production = environment(Environment.PRODUCTION);
  return { app, test, production };
}

/** The synthesized stack, validations run. */
export function synth(stack: TerraformStack): any {
  return JSON.parse(Testing.synth(stack, true));
}

/** Synthesizes with validations; returns the error text, or '' when synth passes. */
export function synthErrors(stack: TerraformStack): string {
  try {
    Testing.synth(stack, true);
    return '';
  } catch (e) {
    return String((e as Error).message);
  }
}

/** What the server named `name` receives (its bundle), as one cloud-config document; see machinePayload. */
export function userDataOf(json: any, name: string): string {
  return machinePayload(json, name);
}
