import { TerraformStack, TerraformVariable, Testing } from 'cdktf';
import { Firewall } from '../../generated/providers/hcloud/firewall';
import { LoadBalancer } from '../../generated/providers/hcloud/load-balancer';
import * as lib from '../../lib';
import {
  AiActRole, AlertReceiver, BackupPlan, BackupTarget, BoundaryChecks, BoundaryPolicy, BoundarySuppressions, Budget, DatabaseStorage, DataClass, DataVolume, DeadMansSwitch,
  Duration, EgressForm, Environment, EnvironmentMonitoring, ErrorMonitoring, ErrorMonitoringEndpoint, FirewallRule, Heartbeat, Location, Machine, MachineBundle, MachineRollout, Money,
  MonitoringAlert, MonitoringPlan, ObjectStorageBackend, Peer, Phase, Port, PostgresDatabase, PostgresDump, PostgresTuning, PostgresVersion, PrivateNetwork, Processor, Product, RestoreCheck,
  RestoreDrill, Retention, Retirement, S3Provider, Schedule, SecretVariable, ServerType, Size, SshKey, StorageBox, StorageBoxAccount, UptimeCheck, Weekday,
} from '../../lib';
import { checkedStack, policy } from './fixtures';
import { outcomeOf, MESSAGE } from './refusal';

// Issue #14: every public entry point validates at runtime what TypeScript checks at compile time.
// The root exports (lib/index.ts) are enumerated: every public constructor and static factory is
// either exercised here or listed with the reason it is not a configuration entry point, so a new
// export cannot slip past. Each entry point gets, in every argument after the scope and id:
// - each untyped value (null, NaN, Infinity, a string, a number, {}, [], true, and undefined where
//   the argument is required) instead of the valid argument: refused, never a crash;
// - for props objects, each field replaced by a value of another type (a string for an enum-like
//   class or a construct, null, NaN, Infinity, {}, …): refused, never a crash.
// "Refused" is a ValidationError or a failing synth whose every message has path, value and fix.

const secret = (stack: TerraformStack, name: string) => new TerraformVariable(stack, name, { type: 'string', sensitive: true });
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
const ADMIN = ['203.0.113.0/24'];

/** A machine in a checked production stack, with its network and egress allowlist; `environment` picks the stack. */
function appIn(stack: TerraformStack, environment = Environment.PRODUCTION): Machine {
  const network = new PrivateNetwork(stack, 'Network', { environment, name: `acme-${environment.name}-network`, location: Location.FSN1 });
  const m = new Machine(stack, 'App', {
    environment, role: 'app', name: `acme-${environment.name}-app`, serverType: ServerType.CX33, location: Location.FSN1,
    sshKeys: [SshKey.fromName('admin')], adminCidrs: ADMIN, dataClasses: [DataClass.SENSITIVE], privateNetwork: network, privateIp: '10.0.1.2',
  });
  lib.EgressAllowlist.apply(m, { policy });
  return m;
}

/** A second machine in the network of `appIn`'s machine (the monitoring machine's place). */
function peerOf(stack: TerraformStack): Machine {
  const m = new Machine(stack, 'Monitoring', {
    environment: Environment.PRODUCTION, role: 'monitoring', name: 'acme-production-monitoring', serverType: ServerType.CX33, location: Location.FSN1,
    sshKeys: [SshKey.fromName('admin')], adminCidrs: ADMIN, dataClasses: [DataClass.SECRET], privateNetwork: stack.node.findChild('Network') as PrivateNetwork, privateIp: '10.0.1.3',
  });
  lib.EgressAllowlist.apply(m, { policy });
  return m;
}

interface Entry {
  /** How the entry point is written, such as `new StorageBox` or `Schedule.daily`. */
  readonly name: string;
  /** Valid arguments after the scope and id, built in the given stack. */
  readonly args: (stack: TerraformStack) => unknown[];
  /** Calls it in `stack` with `args`; what it returns is not used. */
  readonly call: (stack: TerraformStack, args: unknown[]) => unknown;
  /** Argument positions that may be left out. */
  readonly optional?: number[];
  /** A stack that is not production (for constructs that refuse production). */
  readonly stack?: () => TerraformStack;
}

const mistral = Processor.mistralAi();
const storageBoxAccount = (stack: TerraformStack) => new StorageBox(stack, 'Box', { environment: Environment.PRODUCTION, location: Location.HEL1, password: secret(stack, 'box_password') })
  .addSubaccount('App', { homeDirectory: 'backups/app', password: secret(stack, 'box_app_password') });
const backupOptions = (stack: TerraformStack) => ({
  environment: Environment.PRODUCTION, resticPassword: secret(stack, 'restic_password'), heartbeat: Heartbeat.healthchecks(secret(stack, 'heartbeat_url')),
  targets: [BackupTarget.storageBox(storageBoxAccount(stack), { hostKeys: [KEY] })],
});
const monitoringPlan = () => ({
  uptimeChecks: [UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu/health'), UptimeCheck.http(Environment.TEST, 'https://test.acme.eu/health')],
  receivers: [AlertReceiver.webhook('ops', { hostname: 'chat.acme.eu' })],
  deadMansSwitch: DeadMansSwitch.healthchecksIo(),
});
const testStack = () => checkedStack('test');

const ENTRIES: Entry[] = [
  // Constructs
  { name: 'new Machine', args: () => [{ environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [SshKey.fromName('admin')], adminCidrs: ADMIN, dataClasses: [DataClass.PUBLIC] }], call: (s, [p]) => new Machine(s, 'App', p as any) },
  { name: 'new PrivateNetwork', args: () => [{ environment: Environment.PRODUCTION, name: 'acme-production-network', location: Location.FSN1 }], call: (s, [p]) => new PrivateNetwork(s, 'Network', p as any) },
  { name: 'new SshKey', args: () => [{ name: 'acme-ops', publicKey: `${KEY} ops@acme.eu` }], call: (s, [p]) => new SshKey(s, 'Key', p as any) },
  { name: 'new ObjectStorageBackend', stack: () => checkedStack('production', Testing.app(), false), args: () => [{ bucket: 'acme-state', location: Location.FSN1 }], call: (s, [p]) => new ObjectStorageBackend(s, p as any) },
  { name: 'new StorageBox', args: (s) => [{ environment: Environment.PRODUCTION, location: Location.HEL1, password: secret(s, 'box_password') }], call: (s, [p]) => new StorageBox(s, 'Box', p as any) },
  { name: 'StorageBox.addSubaccount', args: (s) => [{ homeDirectory: 'backups/app', password: secret(s, 'sub_password') }],
    call: (s, [p]) => new StorageBox(s, 'Box', { environment: Environment.PRODUCTION, location: Location.HEL1, password: secret(s, 'box_password') }).addSubaccount('App', p as any) },
  { name: 'new DataVolume', args: (s) => [{ machine: appIn(s), size: Size.gibibytes(10), mountPath: '/srv/data', withoutBackup: 'scratch space for model downloads, rebuilt on demand' }], call: (s, [p]) => new DataVolume(s, 'Volume', p as any) },
  { name: 'new PostgresDatabase', args: (s) => [{ machine: appIn(s), privateAddress: '10.0.1.2', privateSubnet: '10.0.1.0/24', password: secret(s, 'db_password') }], call: (s, [p]) => {
    // Dumped, as production's database must be (or it gives withoutBackup's reason).
    const database = new PostgresDatabase(s, 'Database', p as any);
    BackupPlan.phase1(s, 'Backups', backupOptions(s)).protect((p as any).machine, { postgres: database.dump() });
  } },
  { name: 'new SecretVariable', args: () => [{ description: 'A password' }], call: (s, [p]) => new SecretVariable(s, 'password', p as any) },
  { name: 'new BackupPlan', args: (s) => [{ ...backupOptions(s), schedule: Schedule.daily({ hour: 3 }) }], call: (s, [p]) => new BackupPlan(s, 'Backups', p as any).protect(appIn(s)) },
  { name: 'BackupPlan.phase1', args: (s) => [backupOptions(s)], call: (s, [p]) => BackupPlan.phase1(s, 'Backups', p as any).protect(appIn(s)) },
  { name: 'BackupPlan.protect', args: (s) => [appIn(s), { paths: ['/srv/uploads'] }], optional: [1], call: (s, [m, o]) => BackupPlan.phase1(s, 'Backups', backupOptions(s)).protect(m as any, o as any) },
  { name: 'new RestoreDrill', stack: testStack, call: (s, [p]) => new RestoreDrill(s, 'Drill', p as any),
    args: (s) => [{
      machine: appIn(s, Environment.TEST), sourceHost: 'acme-production-app', resticPassword: secret(s, 'restic_password'), heartbeat: Heartbeat.healthchecks(secret(s, 'drill_url')),
      source: BackupTarget.storageBox(StorageBoxAccount.fromAttributes({ host: 'u1-sub2.your-storagebox.de', username: 'u1-sub2', location: Location.HEL1, readonly: true, password: secret(s, 'drill_pw') })),
      checks: [RestoreCheck.sql('users-present', { database: 'app', query: 'SELECT count(*) > 0 FROM users' })],
    }] },
  { name: 'new EnvironmentMonitoring', args: (s) => [{ environment: Environment.PRODUCTION, phase: Phase.ONE, machine: appIn(s), plan: new MonitoringPlan(monitoringPlan()) }], call: (s, [p]) => new EnvironmentMonitoring(s, 'Monitoring', p as any) },
  { name: 'new ErrorMonitoring', args: (s) => [{ machine: appIn(s), endpoint: ErrorMonitoringEndpoint.selfHosted(mistral), dsn: secret(s, 'dsn') }], call: (s, [p]) => new ErrorMonitoring(s, 'Errors', p as any) },
  { name: 'new MachineRollout', call: (s, [p]) => new MachineRollout(s, 'Rollout', p as any),
    // A second rollout of a machine of the stack (to its own address), as Machine builds one.
    args: (s) => {
      const machine = appIn(s);
      const bundle = new MachineBundle('acme-production-app').addPart({ name: 'app', files: [{ path: '/etc/acme/app.conf', content: 'port=8080\n' }] });
      return [{ bundle, host: machine.ipv4!.ipAddress, dependsOn: [machine.server], image: machine.server.image, options: { connectTimeout: Duration.minutes(2) } }];
    } },
  { name: 'new BoundaryChecks', args: () => [{ policy }], call: (_s, [p]) => new BoundaryChecks(p as any) },
  // Values
  { name: 'new Product', args: () => [{ name: 'acme', phase: Phase.ONE, admin: { sshPublicKeys: { ops: `${KEY} ops@acme.eu` }, cidrs: ADMIN }, boundary: policy, stateBucket: 'acme-tfstate' }], call: (_s, [p]) => new Product(p as any) },
  { name: 'new BoundaryPolicy', args: () => [{ aiActRoles: [AiActRole.DEPLOYER], egress: [{ dataClass: DataClass.PUBLIC, to: [mistral], form: EgressForm.RAW }] }], call: (_s, [p]) => new BoundaryPolicy(p as any) },
  { name: 'new Processor', args: () => [{ name: 'Acme AI', legalSeat: { city: 'Paris', country: 'FR' }, hostnames: ['api.acme-ai.eu'] }], call: (_s, [p]) => new Processor(p as any) },
  { name: 'new MonitoringPlan', args: () => [monitoringPlan()], call: (_s, [p]) => new MonitoringPlan(p as any) },
  // Static factories
  { name: 'Processor.mistralAi', args: () => ['chat completions'], optional: [0], call: (_s, [p]) => Processor.mistralAi(p as any) },
  { name: 'EgressHost.publicOnly', args: () => ['pypi.org', { reason: 'Python package index: the machine only downloads packages' }], call: (_s, [h, o]) => lib.EgressHost.publicOnly(h as any, o as any) },
  { name: 'FirewallRule.tcpIn', args: () => [443, ADMIN, { description: 'HTTPS' }], optional: [2], call: (_s, a) => (FirewallRule.tcpIn as any)(...a) },
  { name: 'FirewallRule.udpOut', args: () => [53, FirewallRule.ANYWHERE], call: (_s, a) => (FirewallRule.udpOut as any)(...a) },
  { name: 'Port.of', args: () => [22], call: (_s, [p]) => Port.of(p as any) },
  { name: 'Port.range', args: () => [8000, 8080], call: (_s, [a, b]) => Port.range(a as any, b as any) },
  { name: 'Peer.ipv4', args: () => ['203.0.113.0/24'], call: (_s, [c]) => Peer.ipv4(c as any) },
  { name: 'Peer.ipv6', args: () => ['2001:db8::/32'], call: (_s, [c]) => Peer.ipv6(c as any) },
  { name: 'Duration.seconds', args: () => [5], call: (_s, [n]) => Duration.seconds(n as any) },
  { name: 'Duration.days', args: () => [7], call: (_s, [n]) => Duration.days(n as any) },
  { name: 'Size.gibibytes', args: () => [10], call: (_s, [n]) => Size.gibibytes(n as any) },
  { name: 'Money.euros', args: () => [25], call: (_s, [n]) => Money.euros(n as any) },
  { name: 'Money.sum', args: () => [[Money.euros(5.49), Money.euros(8.49)]], call: (_s, [m]) => Money.sum(m as any) },
  { name: 'Money.plus', args: () => [Money.euros(5)], call: (_s, [m]) => Money.euros(1).plus(m as any) },
  { name: 'Money.minus', args: () => [Money.euros(5)], call: (_s, [m]) => Money.euros(10).minus(m as any) },
  { name: 'Money.min', args: () => [Money.euros(5)], call: (_s, [m]) => Money.euros(10).min(m as any) },
  { name: 'Money.isGreaterThan', args: () => [Money.euros(5)], call: (_s, [m]) => Money.euros(10).isGreaterThan(m as any) },
  { name: 'Money.ratioTo', args: () => [Money.euros(50)], call: (_s, [m]) => Money.euros(10).ratioTo(m as any) },
  { name: 'Money.percentOf', args: () => [Money.euros(50)], call: (_s, [m]) => Money.euros(10).percentOf(m as any) },
  { name: 'Money.times', args: () => [0.2], call: (_s, [f]) => Money.euros(10).times(f as any) },
  { name: 'Money.format', args: () => [4], optional: [0], call: (_s, [d]) => Money.euros(10).format(d as any) },
  { name: 'PostgresTuning.forServerType', args: () => [ServerType.CX33], call: (_s, [t]) => PostgresTuning.forServerType(t as any) },
  { name: 'MonitoringAlert.forPhase', args: () => [Phase.TWO], call: (_s, [p]) => MonitoringAlert.forPhase(p as any) },
  { name: 'DatabaseStorage.volume', args: () => [Size.gibibytes(50)], optional: [0], call: (_s, [z]) => DatabaseStorage.volume(z as any) },
  { name: 'Budget.monthly', args: () => [Money.euros(100)], call: (_s, [m]) => Budget.monthly(m as any) },
  { name: 'Schedule.daily', args: () => [{ hour: 3, minute: 15 }], call: (_s, [t]) => Schedule.daily(t as any) },
  { name: 'Schedule.weekly', args: () => [{ day: Weekday.SUNDAY, hour: 4 }], call: (_s, [t]) => Schedule.weekly(t as any) },
  { name: 'Schedule.everyHours', args: () => [6, { minute: 15 }], optional: [1], call: (_s, [h, o]) => Schedule.everyHours(h as any, o as any) },
  { name: 'Retention.of', args: () => [{ daily: 7, weekly: 4 }], call: (_s, [c]) => Retention.of(c as any) },
  { name: 'RestoreCheck.sql', args: () => ['users-present', { database: 'app', query: 'SELECT count(*) > 0 FROM users' }], call: (_s, [n, o]) => RestoreCheck.sql(n as any, o as any) },
  { name: 'PostgresDump.databases', args: () => [['app'], { port: 5432 }], optional: [1], call: (_s, [n, o]) => PostgresDump.databases(n as any, o as any) },
  { name: 'PostgresDump.allDatabases', args: () => [{ port: 5432 }], optional: [0], call: (_s, [o]) => PostgresDump.allDatabases(o as any) },
  { name: 'PostgresVersion.of', args: () => [15], call: (_s, [n]) => PostgresVersion.of(n as any) },
  { name: 'S3Provider.of', args: () => ['Acme Storage', 'FR'], call: (_s, [n, c]) => S3Provider.of(n as any, c as any) },
  { name: 'BackupTarget.storageBox', args: (s) => [storageBoxAccount(s), { hostKeys: [KEY] }], optional: [1], call: (_s, [a, o]) => BackupTarget.storageBox(a as any, o as any) },
  { name: 'BackupTarget.s3Compatible', call: (_s, [o]) => BackupTarget.s3Compatible(o as any),
    args: (s) => [{ provider: S3Provider.SCALEWAY, endpoint: secret(s, 'e'), bucket: secret(s, 'b'), accessKeyId: secret(s, 'k'), secretAccessKey: secret(s, 'sk') }] },
  { name: 'StorageBoxAccount.fromAttributes', args: () => [{ host: 'u1-sub2.your-storagebox.de', username: 'u1-sub2', location: Location.HEL1 }], call: (_s, [a]) => StorageBoxAccount.fromAttributes(a as any) },
  { name: 'Heartbeat.healthchecks', args: (s) => [secret(s, 'heartbeat_url')], call: (_s, [v]) => Heartbeat.healthchecks(v as any) },
  { name: 'AlertReceiver.webhook', args: () => ['ops', { hostname: 'chat.acme.eu' }], call: (_s, [n, o]) => AlertReceiver.webhook(n as any, o as any) },
  { name: 'AlertReceiver.email', args: () => ['ops', { to: ['ops@acme.eu'], from: 'alerts@acme.eu', smarthost: 'smtp.mail.eu:587', username: 'alerts@acme.eu' }], call: (_s, [n, o]) => AlertReceiver.email(n as any, o as any) },
  { name: 'DeadMansSwitch.healthchecksIo', args: () => [{ interval: Duration.minutes(5) }], optional: [0], call: (_s, [o]) => DeadMansSwitch.healthchecksIo(o as any) },
  { name: 'DeadMansSwitch.selfHosted', args: () => [{ hostname: 'ping.acme.eu' }, {}], optional: [1], call: (_s, [p, o]) => DeadMansSwitch.selfHosted(p as any, o as any) },
  { name: 'ErrorMonitoringEndpoint.selfHosted', args: () => [mistral], call: (_s, [p]) => ErrorMonitoringEndpoint.selfHosted(p as any) },
  { name: 'ErrorMonitoringEndpoint.sentryEuRegion', args: () => [{ ingestHostname: 'o1.ingest.de.sentry.io', usSeatAccepted: 'we accept the US seat of Functional Software for scrubbed events' }], call: (_s, [p]) => ErrorMonitoringEndpoint.sentryEuRegion(p as any) },
  { name: 'UptimeCheck.http', args: () => [Environment.PRODUCTION, 'https://acme.eu/health', {}], optional: [2], call: (_s, a) => (UptimeCheck.http as any)(...a) },
  { name: 'UptimeCheck.tcp', args: () => [Environment.PRODUCTION, 'acme.eu', 5432, {}], optional: [3], call: (_s, a) => (UptimeCheck.tcp as any)(...a) },
  { name: 'DataClass.strictest', args: () => [[DataClass.PUBLIC, DataClass.SECRET]], call: (_s, [c]) => DataClass.strictest(c as any) },
  { name: 'Phase.of', args: () => [2], call: (_s, [n]) => Phase.of(n as any) },
  { name: 'SshKey.fromName', args: () => ['admin'], call: (_s, [n]) => SshKey.fromName(n as any) },
  { name: 'BoundarySuppressions.add', args: () => [[{ id: 'Boundary-EuPlacement', reason: 'a load balancer in ash for the US marketing site only' }]],
    call: (s, [e]) => BoundarySuppressions.add(new LoadBalancer(s, 'Lb', { name: 'lb', loadBalancerType: 'lb11', location: 'ash' }), e as any) },
  { name: 'StagingSuppressions.add', args: () => [[{ id: lib.STAGING_NOT_REAPED, reason: 'the certificate is free, and Let us Encrypt limits new ones' }]],
    call: (s, [e]) => lib.StagingSuppressions.add(new LoadBalancer(s, 'Lb', { name: 'lb', loadBalancerType: 'lb11', location: 'fsn1' }), e as any) },
  { name: 'Retirement.declare', stack: () => new TerraformStack(Testing.app(), 'production'), args: () => [{ reason: 'the pilot customer left; production is retired', includeBackups: false }], call: (s, [o]) => Retirement.declare(s, o as any) },
  { name: 'PrivateIngress.allowTcp', args: (s) => [appIn(s), peerOf(s), 9100, 'node exporter, scraped by the monitoring machine'],
    call: (_s, [m, f, p, w]) => lib.PrivateIngress.allowTcp(m as any, f as any, p as any, w as any) },
  { name: 'HetznerAccountLimits.raiseFirewalls', args: () => [{ firewalls: 100, reason: 'raised by Hetzner support, ticket 123456 of 2026-11-02' }],
    call: (s, [p]) => lib.HetznerAccountLimits.raiseFirewalls(s, p as any) },
  { name: 'HetznerAccountLimits.declareFirewallCount', args: (s) => [new Firewall(s, 'Tenants', { name: 'tenant-${count.index}', count: new TerraformVariable(s, 'tenants', { type: 'number' }).numberValue }), { atMost: 10 }],
    call: (_s, [f, p]) => lib.HetznerAccountLimits.declareFirewallCount(f as any, p as any) },
  { name: 'EgressAllowlist.apply', args: (s) => [new Machine(s, 'App', { environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [SshKey.fromName('admin')], adminCidrs: ADMIN, dataClasses: [DataClass.SENSITIVE] }), { policy }], call: (_s, [m, o]) => lib.EgressAllowlist.apply(m as any, o as any) },
];

/**
 * Root exports that are not configuration entry points, with the reason. Enum-like classes keep
 * their constructor private (their values are constants); queries read what constructs declared;
 * the rest serves reports, the CLI and the release path rather than a stack's configuration.
 */
const NOT_ENTRY_POINTS: Record<string, string> = {
  ValidationError: 'the error type itself',
  UnknownPriceError: 'thrown by the estimator, not built by users',
  DataClass: 'enum-like: constants; fromName reads a label (returns undefined for anything else), declare/declaredFor are internal bookkeeping',
  Environment: 'enum-like: constants only',
  Location: 'enum-like: constants; Location.of returns an unknown location that every construct refuses with its path',
  ServerType: 'enum-like: constants; ServerType.of/define return types that constructs check with their path',
  StagingMode: 'enum-like: constants', Component: 'enum-like: constants; declare/declaredIn/byId are the roadmap\'s bookkeeping',
  StorageBoxType: 'enum-like: constants', DatabaseStorage: 'covered: volume here, fromAssessment in the database suite',
  Retention: 'covered: Retention.of', Schedule: 'covered', Port: 'covered', Peer: 'covered: ipv4, ipv6 (anyIpv4, anyIpv6, anywhere take nothing)', FirewallRule: 'covered', Duration: 'covered', Size: 'covered', Money: 'covered',
  Budget: 'covered', BackupTarget: 'covered', StorageBoxAccount: 'covered', Heartbeat: 'covered', AlertReceiver: 'covered', DeadMansSwitch: 'covered',
  ErrorMonitoringEndpoint: 'covered', UptimeCheck: 'covered', PostgresDump: 'covered', PostgresVersion: 'covered', RestoreCheck: 'covered', S3Provider: 'covered',
  Phase: 'covered: Phase.of', Processor: 'covered', SshKey: 'covered', BoundarySuppressions: 'covered: add', StagingSuppressions: 'covered: add', Retirement: 'covered: declare', EgressAllowlist: 'covered: apply here, requireHostnames and allowTcpPort in the red-team corpus', PrivateIngress: 'covered: allowTcp here, rulesFor reads what was declared',
  BackupPlan: 'covered', StorageBox: 'covered', StorageBoxSubaccount: 'built by StorageBox.addSubaccount (covered)', DataFlow: 'covered: DataFlow.declare in the red-team corpus',
  CloudInit: 'a machine\'s own document (machine.cloudInit), no props', MachineBundle: 'a machine\'s own bundle (machine.bundle)',
  Roadmap: 'assess() reads measured metrics: its refusals (ValidationError, path, value, fix) are in the roadmap suite', ServerTypeChoice: 'built by the roadmap', PostponedRegister: 'built by postponedRegisterOf',
  HcloudApiClient: 'the staging reaper\'s HTTP client (CLI), not configuration', StagingReaper: 'CLI', PriceList: 'PriceList.fromData is covered by the cost suite; hetzner() takes nothing',
  BudgetGuard: 'attached by EnvironmentStack', Weekday: 'a TypeScript enum',
};

const UNTYPED: Array<[string, unknown]> = [
  ['null', null], ['NaN', NaN], ['Infinity', Infinity], ['a string', 'production'], ['a number', 42], ['{}', {}], ['[]', []], ['true', true],
];

/** How many bad configurations the corpus judged (the valid baselines not counted). */
let judgedBad = 0;

function judge(entry: Entry, mutate: (args: unknown[]) => unknown[]): ReturnType<typeof outcomeOf> {
  return outcomeOf(() => {
    const stack = entry.stack?.() ?? checkedStack();
    entry.call(stack, mutate(entry.args(stack)));
    return stack;
  });
}

/** What went wrong, or undefined when the outcome is a refusal in the library's shape. */
function problem(outcome: ReturnType<typeof outcomeOf>): string | undefined {
  if (outcome.kind === 'crash') return `crashed: ${String((outcome.error as Error)?.message ?? outcome.error).split('\n')[0]}`;
  if (outcome.kind === 'accepted') return 'accepted';
  const bad = outcome.message.split('\n').filter((l) => l.trim() !== '' && !MESSAGE.test(l));
  return bad.length > 0 ? `refused without path, value and fix: ${bad[0]}` : undefined;
}

/** Whether `value` has the same JavaScript type as `valid` (then a field may legitimately accept it). */
function sameType(value: unknown, valid: unknown): boolean {
  if (value === null || valid === null) return value === valid;
  if (typeof value !== typeof valid) return false;
  if (typeof value === 'number') return Number.isFinite(value) === Number.isFinite(valid as number);
  if (typeof value !== 'object') return true;
  if (Array.isArray(value) || Array.isArray(valid)) return Array.isArray(value) && Array.isArray(valid);
  return Object.getPrototypeOf(value) === Object.getPrototypeOf(valid);
}

describe('every public entry point validates untyped input', () => {
  test('every root export is an entry point exercised here or listed with a reason', () => {
    const classes = Object.entries(lib).filter(([, v]) => typeof v === 'function' && /^class\b/.test(Function.prototype.toString.call(v))).map(([k]) => k);
    const covered = new Set(ENTRIES.map((e) => e.name.replace(/^new /, '').split('.')[0]));
    const unaccounted = classes.filter((c) => !covered.has(c) && !(c in NOT_ENTRY_POINTS));
    expect(unaccounted).toEqual([]);
  });

  test.each(ENTRIES.map((e) => [e.name, e] as const))('%s: the valid arguments are accepted', (_name, entry) => {
    const outcome = judge(entry, (a) => a);
    expect(outcome.kind === 'accepted' ? 'accepted' : problem(outcome) ?? (outcome as { message: string }).message).toBe('accepted');
  });

  test.each(ENTRIES.map((e) => [e.name, e] as const))('%s: an untyped value in any argument is refused with path, value and fix', (_name, entry) => {
    const failures: string[] = [];
    const arity = entry.args(checkedStack('probe')).length;
    for (let i = 0; i < arity; i += 1) {
      const values = entry.optional?.includes(i) ? UNTYPED : [['undefined', undefined] as [string, unknown], ...UNTYPED];
      for (const [label, value] of values) {
        const valid = entry.args(checkedStack('probe'))[i];
        if (sameType(value, valid)) continue;
        judgedBad += 1;
        const p = problem(judge(entry, (a) => a.map((v, j) => (j === i ? value : v))));
        if (p) failures.push(`argument ${i} = ${label}: ${p}`);
      }
    }
    expect(failures).toEqual([]);
  });

  test.each(ENTRIES.map((e) => [e.name, e] as const))('%s: a field of another type is refused with path, value and fix', (_name, entry) => {
    const failures: string[] = [];
    const probe = entry.args(checkedStack('probe'));
    probe.forEach((arg, i) => {
      if (arg === null || typeof arg !== 'object' || Array.isArray(arg) || Object.getPrototypeOf(arg) !== Object.prototype) return;
      for (const key of Object.keys(arg)) {
        for (const [label, value] of UNTYPED) {
          if (sameType(value, (arg as Record<string, unknown>)[key])) continue;
          judgedBad += 1;
          const p = problem(judge(entry, (a) => a.map((v, j) => (j === i ? { ...(v as object), [key]: value } : v))));
          if (p) failures.push(`argument ${i}.${key} = ${label}: ${p}`);
        }
      }
    });
    expect(failures).toEqual([]);
  });

  test.each(ENTRIES.map((e) => [e.name, e] as const))('%s: a misspelt property is refused by name, never ignored for its default', (_name, entry) => {
    // In JavaScript nothing stops { hetznerBackup: true } or { locaton: … }: the default (no backups, another location) would apply without a word.
    const failures: string[] = [];
    const probe = entry.args(checkedStack('probe'));
    probe.forEach((arg, i) => {
      if (arg === null || typeof arg !== 'object' || Array.isArray(arg) || Object.getPrototypeOf(arg) !== Object.prototype) return;
      for (const key of [...Object.keys(arg), 'unknownOption']) {
        const misspelt = key === 'unknownOption' ? key : key.length > 3 ? key.slice(0, 1) + key.slice(2) : `${key}x`;
        judgedBad += 1;
        const outcome = judge(entry, (a) => a.map((v, j) => (j === i ? { ...(v as object), [misspelt]: (v as Record<string, unknown>)[key] ?? true } : v)));
        const p = problem(outcome);
        if (p) failures.push(`argument ${i}.${misspelt}: ${p}`);
        else if (!(outcome as { message: string }).message.includes(`.${misspelt}: '${misspelt}' is not allowed: there is no property of this name`)) {
          failures.push(`argument ${i}.${misspelt}: refused for another reason: ${(outcome as { message: string }).message}`);
        } else if (key !== 'unknownOption' && !(outcome as { message: string }).message.includes(`did you mean '${key}'`)) {
          failures.push(`argument ${i}.${misspelt}: the fix does not name '${key}': ${(outcome as { message: string }).message}`);
        }
      }
    });
    expect(failures).toEqual([]);
  });

  test('a secret passed as plain text is refused without being printed', () => {
    const pasted = 'hunter2-correct-horse-battery';
    const cases: Array<(s: TerraformStack) => unknown> = [
      (s) => new StorageBox(s, 'Box', { environment: Environment.PRODUCTION, location: Location.HEL1, password: pasted as any }),
      (s) => new PostgresDatabase(s, 'Database', { machine: appIn(s), privateAddress: '10.0.1.2', privateSubnet: '10.0.1.0/24', password: pasted as any }),
      (s) => BackupPlan.phase1(s, 'Backups', { ...backupOptions(s), resticPassword: pasted as any }),
      () => Heartbeat.healthchecks(pasted as any),
    ];
    for (const build of cases) {
      const outcome = outcomeOf(() => { const s = checkedStack(); build(s); return s; });
      expect(outcome.kind).toBe('rejected');
      expect((outcome as { message: string }).message).toMatch(/'<a value>' is not allowed: a secret must come from a sensitive Terraform variable/);
      expect((outcome as { message: string }).message).not.toContain(pasted);
    }
  });

  test('the corpus judged well over 300 bad untyped configurations', () => {
    // Runs after the tests above (jest keeps the order within a file); 0 when run alone with -t.
    if (judgedBad > 0) expect(judgedBad).toBeGreaterThan(1000);
  });
});
