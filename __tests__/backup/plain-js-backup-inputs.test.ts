import { TerraformStack, TerraformVariable } from 'cdktf';
import { Environment, Location, Machine, ServerType, Size } from '../../lib';
import { BackupPlan, BackupPlanOptions } from '../../lib/backup/backup-plan';
import { BackupTarget } from '../../lib/backup/backup-target';
import { Heartbeat } from '../../lib/backup/heartbeat';
import { PostgresDump } from '../../lib/backup/postgres-dump';
import { Retention } from '../../lib/backup/retention';
import { S3Provider } from '../../lib/backup/s3-provider';
import { Schedule } from '../../lib/backup/schedule';
import { DataVolume } from '../../lib/hetzner/data-volume';
import { StorageBox, StorageBoxAccount } from '../../lib/hetzner/storage-box';
import { expectRefused, refusal } from '../boundary/refusal';
import { ADMIN_CIDRS, ADMIN_KEY, synthJson, testStack } from '../setup/stack';
import { machinePayload } from '../setup/machine-payload';
import { filesByPath } from './helpers/machine-root';

// Audit (plain JavaScript callers of the backup API): inputs that TypeScript lets through or cannot see, each of
// which built a stack that backed up less than it said, without a word, or crashed at synth.

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr';
const secret = (stack: TerraformStack, name: string) => new TerraformVariable(stack, name, { type: 'string', sensitive: true });

function production() {
  const { stack } = testStack('production');
  const machine = new Machine(stack, 'App', {
    environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, location: Location.FSN1, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS,
  });
  const box = new StorageBox(stack, 'StorageBox', { environment: Environment.PRODUCTION, password: secret(stack, 'box_password') });
  const account = box.addSubaccount('App', { homeDirectory: 'backups/production/app', password: secret(stack, 'box_app_password') });
  const options: BackupPlanOptions = {
    environment: Environment.PRODUCTION, resticPassword: secret(stack, 'restic_password'), heartbeat: Heartbeat.healthchecks(secret(stack, 'heartbeat_url')),
    targets: [BackupTarget.storageBox(account, { hostKeys: [KEY] })],
  };
  return { stack, machine, box, options };
}

function worker(stack: TerraformStack): Machine {
  return new Machine(stack, 'Worker', {
    environment: Environment.PRODUCTION, role: 'worker', serverType: ServerType.CX33, location: Location.FSN1, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS,
  });
}

describe('PostgresDump.dataDirectory decides which volumes count as backed up', () => {
  test.each(['', '/', 'var/lib/postgresql', '/srv/../srv', '/srv/pg/', '/srv/my data'])('%j is refused at the call, naming the option and the fix', (dataDirectory) => {
    expect(refusal(() => PostgresDump.allDatabases({ dataDirectory }))).toMatch(new RegExp(
      `^PostgresDump\\.allDatabases\\.options\\.dataDirectory: '${dataDirectory.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}' is not allowed: a data directory is an absolute path below the root.*`
      + "Fix: use the absolute path of PostgreSQL's data directory, such as '/var/lib/postgresql'"));
    expect(refusal(() => PostgresDump.databases(['app'], { dataDirectory }))).toMatch(/^PostgresDump\.databases\.options\.dataDirectory: .* is not allowed/);
  });

  test("a files volume is not covered by a dump whose data directory was '' (before: it passed synth with its files in no backup)", () => {
    const { stack, machine, options } = production();
    new DataVolume(stack, 'Uploads', { machine, size: Size.gibibytes(10), mountPath: '/srv/uploads' });
    const plan = new BackupPlan(stack, 'Backups', options);
    expect(refusal(() => plan.protect(machine, { postgres: PostgresDump.allDatabases({ dataDirectory: '' as any }) }))).toMatch(/dataDirectory: '' is not allowed/);
    // What the check stands for: a dump of the default data directory leaves the uploads volume uncovered, and synth says so.
    plan.protect(machine);
    expect(() => synthJson(stack)).toThrow(/production\/Uploads\.mountPath: '\/srv\/uploads' is not allowed: Hetzner server backups and snapshots do not include attached volumes/);
  });

  test('real data directories pass, and still cover the volume they are on', () => {
    for (const dataDirectory of ['/var/lib/postgresql', '/srv/postgresql/15/main', '/mnt/pg_data.1']) expect(PostgresDump.allDatabases({ dataDirectory }).dataDirectory).toBe(dataDirectory);
    const { stack, machine, options } = production();
    const volume = new DataVolume(stack, 'Database', { machine, size: Size.gibibytes(10), mountPath: '/srv/postgresql' });
    new BackupPlan(stack, 'Backups', options).protect(machine, { postgres: PostgresDump.allDatabases({ dataDirectory: '/srv/postgresql/15/main' }) });
    expect(volume.coveringBackup()).toBeDefined();
  });
});

describe('BackupPlan presets refuse the settings they fix', () => {
  // In JavaScript (or with a TypeScript object typed BackupPlanProps) these reached the preset, which overwrote them
  // with its own: a team that wrote 30 daily snapshots kept 7, without a word.
  test.each([
    ['phase1', 'retention', Retention.of({ daily: 30, monthly: 24 })],
    ['phase1', 'localCopies', 30],
    ['phase1', 'schedule', Schedule.everyHours(6)],
    ['phase1', 'maxBackupAge', undefined],
    ['phase2', 'checkSchedule', Schedule.daily({ hour: 1 })],
    ['phase2', 'requireOffsite', false],
  ] as const)('BackupPlan.%s with %s', (preset, field, value) => {
    const { stack, options } = production();
    if (value === undefined) {
      // Left out (undefined) is not a setting: the preset's value applies, as before.
      expect(() => BackupPlan[preset](stack, 'Backups', { ...options, [field]: value } as any)).not.toThrow();
      return;
    }
    const message = refusal(() => BackupPlan[preset](stack, 'Backups', { ...options, [field]: value } as any));
    expect(message).toMatch(new RegExp(`^BackupPlan\\.${preset}\\.options\\.${field}: .* is not allowed: the Phase ${preset.slice(-1)} preset sets ${field} itself, so this value would be ignored\\. `
      + `Fix: leave it out to keep the preset's, or build the plan with new BackupPlan\\(scope, id, \\{ environment, resticPassword, heartbeat, targets, ${field}, … \\}\\)`));
  });

  test('the preset without them builds as before, and new BackupPlan takes the setting', () => {
    const { stack, options } = production();
    expect(BackupPlan.phase1(stack, 'Backups', options).retention).toBe(Retention.DEFAULT);
    const wanted = Retention.of({ daily: 30, monthly: 24 });
    expect(new BackupPlan(stack, 'Backups2', { ...options, retention: wanted }).retention).toBe(wanted);
  });
});

describe('Storage Box sub-accounts whose homes meet are one repository', () => {
  test('two sub-accounts with the same home, each on its own machine, fail synth naming both accounts (before: two machines in one restic repository, unseen)', () => {
    const { stack, machine, box, options } = production();
    const other = box.addSubaccount('Worker', { homeDirectory: 'backups/production/app', password: secret(stack, 'box_worker_password') });
    new BackupPlan(stack, 'Backups', options).protect(machine);
    new BackupPlan(stack, 'Backups2', { ...options, targets: [BackupTarget.storageBox(other, { hostKeys: [KEY] })] }).protect(worker(stack));
    expectRefused(() => stack, new RegExp("production/Backups2\\.targets: 'Storage Box in hel1' is not allowed: production/App and production/Worker both back up to "
      + "production/StorageBox/App at path 'restic' and production/StorageBox/Worker at path 'restic', one directory of the Storage Box.*Fix: give each machine its own repository"));
  });

  test('one home inside the other, with paths that meet, is the same directory too', () => {
    const { stack, machine, box, options } = production();
    const parent = box.addSubaccount('Parent', { homeDirectory: 'backups/production', password: secret(stack, 'box_parent_password') });
    new BackupPlan(stack, 'Backups', options).protect(machine);
    new BackupPlan(stack, 'Backups2', { ...options, targets: [BackupTarget.storageBox(parent, { path: 'app/restic', hostKeys: [KEY] })] }).protect(worker(stack));
    expectRefused(() => stack, /production\/App and production\/Worker both back up to production\/StorageBox\/App at path 'restic' and production\/StorageBox\/Parent at path 'app\/restic'/);
  });

  test('homes of their own, or paths of their own in one home, synthesize', () => {
    for (const [home, path] of [['backups/production/worker', 'restic'], ['backups/production/app', 'worker']]) {
      const { stack, machine, box, options } = production();
      const other = box.addSubaccount('Worker', { homeDirectory: home, password: secret(stack, 'box_worker_password') });
      new BackupPlan(stack, 'Backups', options).protect(machine);
      new BackupPlan(stack, 'Backups2', { ...options, targets: [BackupTarget.storageBox(other, { path, hostKeys: [KEY] })] }).protect(worker(stack));
      expect(() => synthJson(stack)).not.toThrow();
    }
  });
});

describe('a target keeps the options it checked', () => {
  test('a host key pushed onto the options after the call neither crashes synth nor reaches the machine', () => {
    const { stack, machine, box, options } = production();
    const given = { hostKeys: [KEY] };
    const target = BackupTarget.storageBox(box.addSubaccount('Other', { homeDirectory: 'backups/other', password: secret(stack, 'box_other_password') }), given);
    // Before: "TypeError: k.trim is not a function" at synth, naming no construct.
    given.hostKeys.push(42 as any, 'ssh-ed25519 AAAAinjectedAfterTheCheck');
    new BackupPlan(stack, 'Backups', { ...options, targets: [target] }).protect(machine);
    const json = synthJson(stack);
    const [server] = Object.values(json.resource.hcloud_server) as any[];
    const knownHosts = Object.entries(filesByPath(machinePayload(json, server.name))).filter(([path]) => path.includes('known_hosts'));
    expect(knownHosts.map(([, content]) => content).join('')).toContain(KEY);
    expect(knownHosts.map(([, content]) => content).join('')).not.toContain('injected');
  });

  test('an S3 target keeps its checked path, and an account by attributes cannot be edited', () => {
    const { stack, machine, options } = production();
    const given: any = { provider: S3Provider.SCALEWAY, endpoint: secret(stack, 'e'), bucket: secret(stack, 'b'), accessKeyId: secret(stack, 'k'), secretAccessKey: secret(stack, 's'), path: 'app' };
    const target = BackupTarget.s3Compatible(given);
    given.path = '../../elsewhere';
    new BackupPlan(stack, 'Backups', { ...options, targets: [...options.targets!, target] }).protect(machine);
    expect(() => synthJson(stack)).not.toThrow();
    const account = StorageBoxAccount.fromAttributes({ host: 'u1-sub2.your-storagebox.de', username: 'u1-sub2', location: Location.HEL1 });
    expect(Object.isFrozen(account)).toBe(true);
  });

  test.each(['../x', 'restic/..', './restic', 'a/./b'])('a repository path with a "." or ".." part (%j) is refused, as the message always said', (path) => {
    expectRefused(() => {
      const { stack, machine, box, options } = production();
      const target = BackupTarget.storageBox(box.addSubaccount('Other', { homeDirectory: 'backups/other', password: secret(stack, 'box_other_password') }), { path, hostKeys: [KEY] });
      new BackupPlan(stack, 'Backups', { ...options, targets: [target] }).protect(machine);
      return stack;
    }, /production\/Backups\.targets: '.*' is not allowed: a repository path is relative, without spaces or "\.\."/);
  });
});

describe('one target listed twice', () => {
  test('the same target twice, or its account and path again, fails synth: one remote copy where the list reads as two', () => {
    for (const second of [(t: BackupTarget) => t, (_t: BackupTarget, box: StorageBox) => BackupTarget.storageBox(box.node.findChild('App') as any, { hostKeys: [KEY] })]) {
      const { stack, machine, box, options } = production();
      new BackupPlan(stack, 'Backups', { ...options, targets: [options.targets![0], second(options.targets![0], box)] }).protect(machine);
      expectRefused(() => stack, /^production\/Backups\.targets: 'Storage Box in hel1' is not allowed: production\/App's backups would go to production\/StorageBox\/App at path 'restic' twice.*Fix: list each target once/);
    }
  });
});

describe('S3Provider.of', () => {
  // A blank name made an offsite provider the documents could not name; a country that is no code ('France', '')
  // was refused only at the plan, as a provider outside the EU.
  test.each([['', 'FR', /^S3Provider\.of\.name: '' is not allowed: the provider needs a name/], ['Acme Storage', 'France', /^S3Provider\.of\(Acme Storage\)\.country: 'France' is not allowed: a country is an ISO 3166-1 alpha-2 code/],
    ['Acme Storage', '', /^S3Provider\.of\(Acme Storage\)\.country: '' is not allowed/]])('(%j, %j) is refused at the call', (name, country, message) => {
    expect(refusal(() => S3Provider.of(name, country))).toMatch(message);
  });

  test('a code in any case is taken in capitals, and judged by it', () => {
    expect(S3Provider.of('Acme Storage', ' nl ').country).toBe('NL');
    expect(S3Provider.of('Acme Storage', 'nl').inEu).toBe(true);
  });
});
