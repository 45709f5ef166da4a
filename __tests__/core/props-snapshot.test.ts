import { TerraformStack } from 'cdktf';
import {
  DataVolume, Environment, Location, Machine, Phase, Port, PostgresDatabase, PostgresDump, SecretVariable, ServerType, Size, SshKey,
} from '../../lib';
import { BackupPlan } from '../../lib/backup/backup-plan';
import { BackupTarget } from '../../lib/backup/backup-target';
import { Heartbeat } from '../../lib/backup/heartbeat';
import { RestoreCheck } from '../../lib/backup/restore-check';
import { RestoreDrill } from '../../lib/backup/restore-drill';
import { DataClass } from '../../lib/core/data-class';
import { PrivateNetwork } from '../../lib/hetzner/private-network';
import { StorageBox, StorageBoxAccount, StorageBoxSubaccount } from '../../lib/hetzner/storage-box';
import { EnvironmentMonitoring } from '../../lib/monitoring/environment-monitoring';
import { ErrorMonitoring } from '../../lib/monitoring/error-monitoring';
import { ErrorMonitoringEndpoint } from '../../lib/monitoring/error-monitoring-endpoint';
import { AlertReceiver } from '../../lib/monitoring/alert-receiver';
import { DeadMansSwitch } from '../../lib/monitoring/dead-mans-switch';
import { MonitoringPlan } from '../../lib/monitoring/monitoring-plan';
import { UptimeCheck } from '../../lib/monitoring/uptime-check';
import { Retention } from '../../lib/backup/retention';
import { S3Provider } from '../../lib/backup/s3-provider';
import { Schedule, Weekday } from '../../lib/backup/schedule';
import { Duration } from '../../lib/core/duration';
import { MachineBundle } from '../../lib/hetzner/machine-bundle';
import { MachineRollout } from '../../lib/hetzner/machine-rollout';
import { Testing } from 'cdktf';
import { frozenSnapshot } from '../../lib/core/private/frozen-snapshot';
import { plan } from '../monitoring/helpers/fixture';
import { ADMIN_CIDRS, resourcesOf, synthJson, testStack } from '../setup/stack';

// Audit (plain JavaScript callers): these constructs checked their props, then copied them, reading each prop a
// second time. A getter could answer the check with one value and the construct with another (PostgreSQL on 5432
// for the check, 6543 for the build; a 10 GiB volume for the check, 20 GiB for the resource), and nested objects
// (a machine's rollout options, a dump's database names) stayed the caller's, editable after the check. Each now
// takes one frozen snapshot of its props before checking them, and uses only that.

const HOST_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yx';
const OTHER_HOST_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr';

/** A value that answers `first` on its first read and `later` after, counting the reads. */
function shifting<T>(first: T, later: T): { reads: number; readonly value: T } {
  return { reads: 0, get value() { this.reads += 1; return this.reads === 1 ? first : later; } };
}

function machineProps(extra: Record<string, unknown> = {}): any {
  return {
    environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, location: Location.NBG1,
    sshKeys: [SshKey.fromName('admin')], adminCidrs: [...ADMIN_CIDRS], privateIp: undefined, ...extra,
  };
}

function sshSources(stack: TerraformStack): string[] {
  const rules = resourcesOf(synthJson(stack), 'hcloud_firewall').flatMap((f: any) => f.rule ?? []);
  return rules.filter((r: any) => r.port === '22').flatMap((r: any) => r.source_ips ?? []);
}

describe('Machine takes one frozen snapshot of its props', () => {
  test('a getter that answers differently on its second read builds from what was checked', () => {
    const { stack } = testStack();
    const cidrs = shifting(['203.0.113.0/24'], ['0.0.0.0/0', '::/0']);
    const props = machineProps();
    delete props.adminCidrs;
    Object.defineProperty(props, 'adminCidrs', { get: () => cidrs.value, enumerable: true });
    new Machine(stack, 'App', props);
    expect(cidrs.reads).toBe(1);
    expect(sshSources(stack)).toEqual(['203.0.113.0/24']);
  });

  test("an edit of the caller's props, their lists and rollout options after the build changes nothing", () => {
    const { stack } = testStack();
    const props = machineProps({ rollout: { hostKey: HOST_KEY } });
    const machine = new Machine(stack, 'App', props);
    props.adminCidrs.push('0.0.0.0/0');
    props.rollout.hostKey = OTHER_HOST_KEY;
    props.role = 'attacker';
    machine.addBundlePart({ name: 'hello', files: [{ path: '/etc/hello', content: 'hi\n' }] });
    const json = synthJson(stack);
    const rollout = resourcesOf(json, 'terraform_data').find((r: any) => r.connection);
    expect(rollout.connection.host_key).toBe(HOST_KEY);
    expect(sshSources(stack)).toEqual(['203.0.113.0/24']);
    expect(machine.role).toBe('app');
  });
});

describe('DataVolume takes one frozen snapshot of its props', () => {
  const volumeOf = (props: any) => {
    const { stack } = testStack();
    const machine = new Machine(stack, 'App', machineProps());
    // Defined, not spread: a spread would read the getter itself.
    Object.defineProperty(props, 'machine', { value: machine, enumerable: true });
    return { stack, volume: new DataVolume(stack, 'Data', props) };
  };

  test('a getter that answers differently on its second read builds from what was checked', () => {
    const size = shifting(Size.gibibytes(10), Size.gibibytes(20));
    const props: any = { withoutBackup: 'scratch space, rebuilt on demand at start' };
    Object.defineProperty(props, 'size', { get: () => size.value, enumerable: true });
    const { stack, volume } = volumeOf(props);
    expect(size.reads).toBe(1);
    expect(volume.size.toMebibytes()).toBe(10 * 1024);
    expect(resourcesOf(synthJson(stack), 'hcloud_volume')[0].size).toBe(10);
  });

  test("an edit of the caller's props and its list after the build changes nothing", () => {
    const props: any = { size: Size.gibibytes(10), withoutBackup: 'scratch space, rebuilt on demand at start', dataClasses: [] };
    const { stack, volume } = volumeOf(props);
    // The synth-time check reads withoutBackup: removed from the caller's object, the volume still has its reason.
    delete props.withoutBackup;
    props.dataClasses.push('attacker');
    expect(() => synthJson(stack)).not.toThrow();
    expect(volume.dataClasses).not.toContain('attacker');
  });
});

describe('PostgresDatabase takes one frozen snapshot of its props', () => {
  const databaseOf = (extra: any) => {
    const { stack } = testStack();
    const machine = new Machine(stack, 'App', machineProps({ role: 'db' }));
    const password = new SecretVariable(stack, 'database_app_password', { description: 'app role password' });
    const props: any = { machine, privateAddress: '10.0.1.2', privateSubnet: '10.0.1.0/24', password, withoutBackup: 'demo data, reloaded from fixtures on every deploy', networkClients: [] };
    for (const [k, d] of Object.entries(Object.getOwnPropertyDescriptors(extra))) Object.defineProperty(props, k, d);
    return { stack, props, database: new PostgresDatabase(stack, 'Database', props) };
  };

  test('a getter that answers differently on its second read builds from what was checked', () => {
    const port = shifting<unknown>(5432, 6543);
    const { database } = databaseOf({ get port() { return port.value; } });
    expect(port.reads).toBe(1);
    expect(database.port.from).toBe(5432);
  });

  test("an edit of the caller's props and its list after the build changes nothing", () => {
    const { stack, props, database } = databaseOf({});
    // Read at synth: production's database with no dump is refused unless it says why.
    delete props.withoutBackup;
    props.networkClients.push('attacker');
    props.port = 80;
    expect(() => synthJson(stack)).not.toThrow();
    expect(database.port.from).toBe(5432);
  });
});

describe("PostgresDump's options and database names are one frozen snapshot", () => {
  test('a getter that answers differently on its second read builds from what was checked', () => {
    for (const make of [(o: any) => PostgresDump.allDatabases(o), (o: any) => PostgresDump.databases(['app'], o)]) {
      const port = shifting<unknown>(5432, Port.range(5432, 5440));
      const dump = make({ get port() { return port.value; } });
      expect(port.reads).toBe(1);
      expect(dump.port.to).toBe(5432);
    }
  });

  test("an edit of the caller's names and options after the build changes nothing", () => {
    const names = ['app'];
    const options: any = { dataDirectory: '/srv/postgresql' };
    const dump = PostgresDump.databases(names, options);
    names.push('../etc');
    options.dataDirectory = '/';
    expect(dump.databaseNames).toEqual(['app']);
    expect(dump.dataDirectory).toBe('/srv/postgresql');
  });
});

describe('EnvironmentMonitoring takes one frozen snapshot of its props', () => {
  const monitoringOf = (extra: any) => {
    const { stack } = testStack('acme-staging');
    const machine = new Machine(stack, 'App', { environment: Environment.STAGING, role: 'app', name: 'acme-staging-app', serverType: ServerType.CX33 });
    const props: any = { plan: plan(), environment: Environment.STAGING, machine, phase: Phase.ONE };
    for (const [k, d] of Object.entries(Object.getOwnPropertyDescriptors(extra))) Object.defineProperty(props, k, d);
    return { props, monitoring: new EnvironmentMonitoring(stack, 'Monitoring', props) };
  };

  test('a getter that answers differently on its second read builds from what was checked', () => {
    const phase = shifting<unknown>(Phase.ONE, Phase.THREE);
    const { monitoring } = monitoringOf({ get phase() { return phase.value; } });
    expect(phase.reads).toBe(1);
    expect(monitoring.phase).toBe(Phase.ONE);
  });

  test("an edit of the caller's props after the build changes nothing", () => {
    const { props, monitoring } = monitoringOf({});
    props.phase = Phase.THREE;
    props.plan = undefined;
    expect(monitoring.phase).toBe(Phase.ONE);
    expect(monitoring.plan).toBeDefined();
  });
});

// Every construct that checks its props, the same way: each prop a getter that answers its value on the first read
// and a wrong one after; and the caller's object, its lists and nested objects edited after the build.
type Build = (stack: TerraformStack, props: any) => unknown;
const secret = (stack: TerraformStack, name: string) => new SecretVariable(stack, name, { description: name });
const machineIn = (stack: TerraformStack, environment = Environment.PRODUCTION) => new Machine(stack, 'Host', machineProps({ environment, role: 'host' }));
const boxIn = (stack: TerraformStack) => new StorageBox(stack, 'Box', { environment: Environment.PRODUCTION, location: Location.HEL1, password: secret(stack, 'box') });
const CONSTRUCTS: Array<[string, (stack: TerraformStack) => any, Build]> = [
  ['Machine', () => machineProps({ labels: { team: 'ml' }, rollout: { hostKey: HOST_KEY } }), (stack, props) => new Machine(stack, 'App', props)],
  ['DataVolume', (stack) => ({ machine: machineIn(stack), size: Size.gibibytes(10), mountPath: '/srv/data', dataClasses: [DataClass.SENSITIVE], labels: { team: 'ml' },
    withoutBackup: 'scratch space, rebuilt on demand at start' }), (stack, props) => new DataVolume(stack, 'Data', props)],
  ['PostgresDatabase', (stack) => ({ machine: machineIn(stack), privateAddress: '10.0.1.2', privateSubnet: '10.0.1.0/24', password: secret(stack, 'pw'), port: 5432,
    withoutBackup: 'demo data, reloaded from fixtures on every deploy', networkClients: [] }), (stack, props) => new PostgresDatabase(stack, 'Database', props)],
  ['SshKey', () => ({ name: 'acme-ops', publicKey: `${HOST_KEY} ops@acme.eu`, labels: { team: 'ml' } }), (stack, props) => new SshKey(stack, 'Key', props)],
  ['PrivateNetwork', () => ({ environment: Environment.PRODUCTION, name: 'acme-production-network', ipRange: '10.0.0.0/16', subnetRange: '10.0.1.0/24', labels: { team: 'ml' } }),
    (stack, props) => new PrivateNetwork(stack, 'Network', props)],
  ['StorageBox', (stack) => ({ environment: Environment.PRODUCTION, location: Location.HEL1, password: secret(stack, 'box'), dailySnapshots: 7,
    dataClasses: [DataClass.SENSITIVE], labels: { team: 'ml' } }), (stack, props) => new StorageBox(stack, 'Box', props)],
  ['StorageBoxSubaccount', (stack) => ({ box: boxIn(stack), homeDirectory: 'backups/production/app', password: secret(stack, 'sub'), readonly: false, description: 'app backups' }),
    (stack, props) => new StorageBoxSubaccount(stack.node.findChild('Box'), 'App', props)],
  ['BackupPlan', (stack) => ({ environment: Environment.PRODUCTION, resticPassword: secret(stack, 'restic'), heartbeat: Heartbeat.healthchecks(secret(stack, 'hb')),
    targets: [BackupTarget.storageBox(boxIn(stack).addSubaccount('App', { homeDirectory: 'backups/app', password: secret(stack, 'sub') }))], localCopies: 7 }),
    (stack, props) => (new BackupPlan(stack, 'Backups', props)).protect(machineIn(stack))],
  ['RestoreDrill', (stack) => ({ machine: machineIn(stack, Environment.TEST),
    source: BackupTarget.storageBox(StorageBoxAccount.fromAttributes({ host: 'u12345-sub2.your-storagebox.de', username: 'u12345-sub2', location: Location.HEL1, readonly: false })),
    sourceHost: 'acme-production-app', resticPassword: secret(stack, 'restic'), heartbeat: Heartbeat.healthchecks(secret(stack, 'hb')),
    checks: [RestoreCheck.sql('users-present', { database: 'app', query: 'SELECT count(*) > 0 FROM users' })] }), (stack, props) => new RestoreDrill(stack, 'Drill', props)],
  ['EnvironmentMonitoring', (stack) => ({ plan: plan(), phase: Phase.ONE, environment: Environment.PRODUCTION, machine: machineIn(stack) }),
    (stack, props) => new EnvironmentMonitoring(stack, 'Monitoring', props)],
  ['ErrorMonitoring', (stack) => ({ machine: machineIn(stack), endpoint: ErrorMonitoringEndpoint.sentryEuRegion({ ingestHostname: 'o123456.ingest.de.sentry.io' }),
    dsn: secret(stack, 'dsn') }), (stack, props) => new ErrorMonitoring(stack, 'Errors', props)],
  ['MachineRollout', () => ({ bundle: new MachineBundle('acme-production-app'), host: '203.0.113.10', dependsOn: [], image: 'debian-12', options: { hostKey: HOST_KEY, port: 22 } }),
    (stack, props) => new MachineRollout(stack, 'Rollout', props)],
];

/** The same props, each field a getter that answers its value once and `later` after; `reads` counts the reads. */
function answeringOnce(props: Record<string, unknown>, later: (value: unknown) => unknown): { props: any; reads: Record<string, number> } {
  const reads: Record<string, number> = {};
  const shifty = {};
  for (const [key, value] of Object.entries(props)) {
    reads[key] = 0;
    Object.defineProperty(shifty, key, { enumerable: true, get: () => { reads[key] += 1; return reads[key] === 1 ? value : later(value); } });
  }
  return { props: shifty, reads };
}

/** Edits what the caller still holds: its fields, its lists (an element pushed) and nested objects (a field changed or added). */
function editAfterBuild(props: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(props)) {
    if (Array.isArray(value)) value.push(value[0] ?? 'edited');
    else if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
      for (const field of Object.keys(value)) (value as any)[field] = typeof (value as any)[field] === 'string' ? `${(value as any)[field]}-edited` : undefined;
      (value as any).edited = 'yes';
    } else if (typeof value === 'string') props[key] = `${value}-edited`;
    else if (typeof value === 'number') props[key] = value + 1;
    else if (typeof value === 'boolean') props[key] = !value;
  }
}

function synthOf(build: (stack: TerraformStack) => void): string {
  const { stack } = testStack();
  build(stack);
  return Testing.synth(stack, true);
}

describe('every construct that checks its props builds from one frozen snapshot of them', () => {
  test.each(CONSTRUCTS)('%s reads each prop once, and builds what the first answers say', (_name, propsIn, build) => {
    const expected = synthOf((stack) => build(stack, propsIn(stack)));
    let reads: Record<string, number> = {};
    const actual = synthOf((stack) => {
      const shifty = answeringOnce(propsIn(stack), (value) => (typeof value === 'string' ? `${value}-second` : undefined));
      reads = shifty.reads;
      build(stack, shifty.props);
    });
    expect(Object.entries(reads).filter(([, n]) => n > 1)).toEqual([]);
    expect(actual).toEqual(expected);
  });

  test.each(CONSTRUCTS)("%s: an edit of the caller's props, lists and nested objects after the build changes nothing", (_name, propsIn, build) => {
    const expected = synthOf((stack) => build(stack, propsIn(stack)));
    const actual = synthOf((stack) => {
      const props = propsIn(stack);
      build(stack, props);
      editAfterBuild(props);
    });
    expect(actual).toEqual(expected);
  });
});

describe('MonitoringPlan builds from one frozen snapshot of its props', () => {
  const propsOf = () => ({
    uptimeChecks: [UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu/health')], receivers: [AlertReceiver.webhook('ops', { hostname: 'chat.example.eu' })], deadMansSwitch: DeadMansSwitch.healthchecksIo(),
    diskWarningShare: 0.8, diskCriticalShare: 0.9,
  });

  test('reads each prop once, and keeps what the first answers say', () => {
    const shifty = answeringOnce(propsOf(), (value) => (typeof value === 'number' ? 0.1 : undefined));
    const built = new MonitoringPlan(shifty.props);
    expect(Object.entries(shifty.reads).filter(([, n]) => n > 1)).toEqual([]);
    expect([built.diskWarningShare, built.diskCriticalShare, built.receivers.length, built.deadMansSwitch]).toEqual([0.8, 0.9, 1, expect.any(DeadMansSwitch)]);
  });

  test("an edit of the caller's props and lists after the build changes nothing", () => {
    const props = propsOf();
    const built = new MonitoringPlan(props);
    editAfterBuild(props);
    expect([built.diskWarningShare, built.diskCriticalShare, built.receivers.length, built.uptimeChecks.length]).toEqual([0.8, 0.9, 1, 1]);
  });
});

// The value types' factories check their options the same way, and keep (or build from) what they checked.
describe('value types read each option once', () => {
  const account = StorageBoxAccount.fromAttributes({ host: 'u12345-sub2.your-storagebox.de', username: 'u12345-sub2', location: Location.HEL1 });
  const FACTORIES: Array<[string, Record<string, unknown>, (options: any, stack: TerraformStack) => unknown]> = [
    ['AlertReceiver.webhook', { hostname: 'chat.example.eu', port: 443 }, (o) => AlertReceiver.webhook('ops', o)],
    ['AlertReceiver.email', { to: ['ops@example.eu'], from: 'alerts@example.eu', smarthost: 'smtp.example.eu:587', username: 'alerts' }, (o) => AlertReceiver.email('ops', o)],
    ['ErrorMonitoringEndpoint.sentryEuRegion', { ingestHostname: 'o123456.ingest.de.sentry.io' }, (o) => ErrorMonitoringEndpoint.sentryEuRegion(o)],
    ['DeadMansSwitch.selfHosted', { hostname: 'ping.example.eu', port: 443 }, (o) => DeadMansSwitch.selfHosted(o)],
    ['DeadMansSwitch.healthchecksIo', { interval: Duration.minutes(5) }, (o) => DeadMansSwitch.healthchecksIo(o)],
    ['Retention.of', { daily: 7, weekly: 4, monthly: 6 }, (o) => Retention.of(o)],
    ['RestoreCheck.sql', { database: 'app', query: 'SELECT count(*) > 0 FROM users' }, (o) => RestoreCheck.sql('users-present', o)],
    ['Schedule.daily', { hour: 3, minute: 0 }, (o) => Schedule.daily(o)],
    ['Schedule.weekly', { day: Weekday.SUNDAY, hour: 4, minute: 0 }, (o) => Schedule.weekly(o)],
    ['Schedule.everyHours', { minute: 15 }, (o) => Schedule.everyHours(6, o)],
    ['UptimeCheck.http', { expectStatus: [200], expectBody: 'ok' }, (o) => UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu/health', o)],
    ['UptimeCheck.tcp', { tls: true }, (o) => UptimeCheck.tcp(Environment.PRODUCTION, 'mail.acme.eu', 587, o)],
    ['PostgresDump.allDatabases', { port: 5432, dataDirectory: '/srv/postgresql', osUser: 'postgres' }, (o) => PostgresDump.allDatabases(o)],
    ['StorageBoxAccount.fromAttributes', { host: 'u12345-sub2.your-storagebox.de', username: 'u12345-sub2', location: Location.HEL1, readonly: true },
      (o) => StorageBoxAccount.fromAttributes(o)],
    ['BackupTarget.storageBox', { path: 'restic', hostKeys: [HOST_KEY] }, (o) => BackupTarget.storageBox(account, o)],
    ['BackupTarget.s3Compatible', {}, (o) => BackupTarget.s3Compatible(o)],
    ['BackupPlan.protect', { paths: ['/srv/uploads'], postgres: PostgresDump.NONE }, (o, stack) => new BackupPlan(stack, 'Backups', {
      environment: Environment.PRODUCTION, resticPassword: secret(stack, 'restic'), heartbeat: Heartbeat.healthchecks(secret(stack, 'hb')),
      targets: [BackupTarget.storageBox(boxIn(stack).addSubaccount('App', { homeDirectory: 'backups/app', password: secret(stack, 'sub') }))],
    }).protect(machineIn(stack), o)],
  ];

  test.each(FACTORIES)('%s', (name, options, make) => {
    const { stack } = testStack();
    const given = name === 'BackupTarget.s3Compatible' ? {
      provider: S3Provider.SCALEWAY, endpoint: secret(stack, 'endpoint'), bucket: secret(stack, 'bucket'), accessKeyId: secret(stack, 'key_id'),
      secretAccessKey: secret(stack, 'secret_key'), path: 'production-app', port: Port.of(443),
    } : options;
    const shifty = answeringOnce(given, (value) => (typeof value === 'string' ? `${value}-second` : undefined));
    make(shifty.props, stack);
    expect(Object.entries(shifty.reads).filter(([, n]) => n > 1)).toEqual([]);
  });
});

// Props built by a class keep working: its own fields, and props given by getters on its prototype, read once.
test('props built by a class, with a getter on its prototype and a member of its own, build as before', () => {
  let reads = 0;
  class AppMachine {
    public readonly environment = Environment.PRODUCTION;
    public readonly serverType = ServerType.CX33;
    public readonly adminCidrs = [...ADMIN_CIDRS];
    public readonly sshKeys = [SshKey.fromName('admin')];
    public readonly createdBy = 'platform team';
    public get role(): string { reads += 1; return 'app'; }
  }
  const { stack } = testStack();
  const machine = new Machine(stack, 'App', new AppMachine() as any);
  expect([machine.role, reads]).toEqual(['app', 1]);
  expect(() => synthJson(stack)).not.toThrow();
});

// Review of the snapshot (third pass): plain objects were copied only five levels down, so a getter deeper answered
// every read and an object there stayed the caller's; an object reached twice became two copies. Props built by a
// class became a copy with the class's prototype but without its private state: an instance whose methods threw.
describe('frozenSnapshot', () => {
  test('copies plain objects at any depth: a getter six levels down is read once, and the copy is frozen there', () => {
    let reads = 0;
    const deepest = { get cidr() { reads += 1; return reads === 1 ? '192.0.2.0/24' : '0.0.0.0/0'; } };
    const given = { a: { b: { c: { d: { e: { f: deepest } } } } } };
    const copy = frozenSnapshot(given);
    const f = copy.a.b.c.d.e.f;
    expect([f.cidr, f.cidr, reads, Object.isFrozen(f), f === deepest]).toEqual(['192.0.2.0/24', '192.0.2.0/24', 1, true, false]);
  });

  test('a cycle ends, leading back to the copy, and an object reached twice stays one object', () => {
    const shared = { name: 'shared' };
    const given: any = { left: { shared }, right: [shared] };
    given.self = given;
    given.left.up = given;
    const copy: any = frozenSnapshot(given);
    expect([copy.self === copy, copy.left.up === copy, copy.left.shared === copy.right[0], copy.left.shared === shared]).toEqual([true, true, true, false]);
    expect(Object.isFrozen(copy.left.shared)).toBe(true);
  });

  test("props built by a class become a plain object of its fields, not a copy of the class without its private state", () => {
    class Account {
      #host = 'u12345-sub2.your-storagebox.de';
      public readonly username = 'u12345-sub2';
      public get host(): string { return this.#host; }
      public describe(): string { return `${this.username}@${this.#host}`; }
    }
    const copy: any = frozenSnapshot(new Account(), ['host', 'username']);
    expect(copy instanceof Account).toBe(false);
    expect({ ...copy }).toEqual({ username: 'u12345-sub2', host: 'u12345-sub2.your-storagebox.de' });
    // Everything the copy has can be read: nothing on it is a method of a class it is not.
    for (const key in copy) expect(() => (typeof copy[key] === 'function' ? copy[key]() : copy[key])).not.toThrow();
  });

  test('a class instance inside props (a value type, a token, a caller\'s own object) is kept as it is', () => {
    class Owner { #name = 'platform team'; public get name(): string { return this.#name; } }
    const owner = new Owner();
    const copy: any = frozenSnapshot({ owner, port: Port.of(5432), list: [owner] });
    expect([copy.owner === owner, copy.owner.name, copy.list[0] === owner, copy.port instanceof Port]).toEqual([true, 'platform team', true, true]);
  });

  test("an account built by the caller's class, with a private field behind a getter, passes BackupTarget.storageBox", () => {
    class ReadOnlyAccount {
      #password: SecretVariable;
      public readonly host = 'u12345-sub2.your-storagebox.de';
      public readonly username = 'u12345-sub2';
      public readonly location = Location.HEL1;
      public readonly readonly = false;
      public readonly note = 'kept by the platform team';
      constructor(password: SecretVariable) { this.#password = password; }
      public get password(): SecretVariable { return this.#password; }
    }
    const { stack } = testStack();
    const password = new SecretVariable(stack, 'BoxPassword', { description: 'the box password' });
    expect(() => BackupTarget.storageBox(new ReadOnlyAccount(password) as any, { hostKeys: [HOST_KEY] })).not.toThrow();
  });
});

// SecretVariable read its description once for the variable and again for the check.
test('SecretVariable reads its description once', () => {
  const { stack } = testStack();
  const description = shifting('the password of the app role', '');
  const variable = new SecretVariable(stack, 'AppPassword', { get description() { return description.value; } });
  expect([description.reads, variable.description]).toEqual([1, 'the password of the app role']);
});

// The CHANGELOG's breaking note: what a value type keeps from the caller and hands back is the frozen copy.
test("a list kept from the arguments and handed back is the frozen copy, not the caller's", () => {
  const names = ['app'];
  const dump = PostgresDump.databases(names);
  names.push('other');
  expect([dump.databaseNames, Object.isFrozen(dump.databaseNames)]).toEqual([['app'], true]);
  expect(() => { 'use strict'; (dump.databaseNames as string[]).push('other'); }).toThrow(TypeError);
});
