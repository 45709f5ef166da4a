import { Testing } from 'cdktf';
import {
  AlertReceiver, BackupPlan, Component, DatabaseStorage, DeadMansSwitch, Duration, Environment, Location, MonitoringPlan, Phase, Product, ProductProps,
  RestoreCheck, Roadmap, S3Provider, Size, StagingMode, UptimeCheck,
} from '../../lib';
import { ProductStacks } from '../../stacks';
import { synthesizedBundle } from '../../testing/bundle';
import { policy } from '../boundary/fixtures';

const admin = { sshPublicKeys: { ops: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr ops@acme.eu' }, cidrs: ['198.51.100.0/24'] };
const backup = { restoreChecks: [RestoreCheck.sql('users-present', { database: 'app', query: 'SELECT count(*) > 0 FROM users' })], offsite: S3Provider.IONOS };
const monitoring = new MonitoringPlan({
  uptimeChecks: [UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu/health'), UptimeCheck.http(Environment.TEST, 'https://test.acme.eu/health')],
  receivers: [AlertReceiver.webhook('ops', { hostname: 'chat.acme.eu' })],
  deadMansSwitch: DeadMansSwitch.healthchecksIo(),
});
const product = (overrides: Partial<ProductProps> = {}) => new Product({ name: 'acme', phase: Phase.TWO, admin, stateBucket: 'acme-state', boundary: policy, backup, monitoring, ...overrides });
const synth = (stack: any) => JSON.parse(Testing.synth(stack, true));
const resources = (json: any, type: string): any[] => Object.values(json.resource?.[type] ?? {});
const DROP_IN = '/etc/postgresql/15/main/conf.d/50-sovereign.conf';

describe('the product PostgreSQL in the environment stacks', () => {
  test('test and production run the same major, each on its pinned private address, the drill restoring into it', () => {
    const stacks = new ProductStacks(Testing.app(), product());
    const [testJson, productionJson] = [synth(stacks.test), synth(stacks.production)];
    const testBundle = synthesizedBundle(testJson, 'acme-test-app');
    const productionBundle = synthesizedBundle(productionJson, 'acme-production-app');
    for (const [json, bundle] of [[testJson, testBundle], [productionJson, productionBundle]] as const) {
      expect(bundle.parts.find((p) => p.name === 'postgresql 15')!.packages).toContain('postgresql-15');
      expect(bundle.files.get(DROP_IN)!.content).toMatch(/^listen_addresses = 'localhost,10\.0\.1\.2'$/m);
      expect(resources(json, 'hcloud_server')[0].network[0].ip).toBe('10.0.1.2');
    }
    expect(stacks.test.database.version.equals(stacks.production.database.version)).toBe(true);
    const names = testBundle.parts.map((p) => p.name);
    expect(names).toContain('sovereign-backup restore drill');
    // The dump and the drill run the client programs of the servers' major, not the newest one installed.
    expect(testBundle.parts.find((p) => p.name === 'sovereign-backup restore drill')!.packages).toEqual(['postgresql-client-15']);
    for (const conf of [testBundle.files.get('/etc/sovereign-backup/drill.conf')!, productionBundle.files.get('/etc/sovereign-backup/backup.conf')!]) {
      expect(conf.content ?? conf.template).toMatch(/^PG_BIN='\/usr\/lib\/postgresql\/15\/bin'$/m);
    }
  });

  test.each([
    ['1', 26, Phase.ONE], ['2', 8, Phase.TWO], ['3', 8, Phase.THREE],
  ] as const)("Phase %s: the drill calls production's newest backup too old at the age production's plan does (%i hours)", (_, hours, phase) => {
    // Phase 1 refuses an offsite copy that was not adopted early.
    const stacks = new ProductStacks(Testing.app(), product({ phase, ...(phase === Phase.ONE ? { backup: { restoreChecks: backup.restoreChecks } } : {}) }));
    const plan = BackupPlan.of(stacks.production.app)!;
    expect(plan.maxBackupAge.toSeconds()).toBe(hours * 3600);
    const drill = synthesizedBundle(synth(stacks.test), 'acme-test-app').files.get('/etc/sovereign-backup/drill.conf')!;
    // The drill's own default (26 hours) passed a Phase 2 backup three times older than production's limit.
    expect(drill.content ?? drill.template).toMatch(new RegExp(`^MAX_AGE_HOURS=${hours}$`, 'm'));
  });

  test("each environment's app role has a password variable of its own: test's machine never holds production's", () => {
    const stacks = new ProductStacks(Testing.app(), product({ staging: StagingMode.fromProductionSnapshot() }), { stagingExpiresAt: '2099-12-31' });
    const fed: Record<string, string> = {};
    for (const stack of stacks.all) {
      const json = synth(stack);
      const template = synthesizedBundle(json, `acme-${stack.environment.name}-app`).files.get('/etc/sovereign/postgres/app-password')!.template!;
      const variable = /^\$\{var\.(\w+)\}\n$/.exec(template)![1];
      expect(json.variable[variable]).toMatchObject({ sensitive: true, nullable: false });
      expect(json.variable[variable].default).toBeUndefined();
      fed[stack.environment.name] = variable;
    }
    // One TF_VAR_ name per environment: a single exported value (or CI secret) can no longer reach them all.
    expect(fed).toEqual({ test: 'database_app_password_test', staging: 'database_app_password_staging', production: 'database_app_password_production' });
  });

  test("production's backup plan dumps the database's data directory; Phase 2 keeps it on the root disk", () => {
    const stacks = new ProductStacks(Testing.app(), product());
    expect(stacks.production.databaseVolume).toBeUndefined();
    expect(stacks.production.database.dataDirectory).toBe('/var/lib/postgresql/15/main');
    expect(BackupPlan.of(stacks.production.app)).toBeDefined();
    expect(resources(synth(stacks.production), 'hcloud_volume')).toEqual([]);
  });

  test('Phase 3 moves the data directory to a volume the dumps cover; the volume validation stays satisfied', () => {
    const stacks = new ProductStacks(Testing.app(), product({ phase: Phase.THREE }));
    const json = synth(stacks.production);
    expect(resources(json, 'hcloud_volume')).toHaveLength(1);
    expect(stacks.production.database.dataDirectory).toBe('/srv/postgresql/15/main');
    expect(stacks.production.databaseVolume!.coveringBackup()).toBe(BackupPlan.of(stacks.production.app));
    expect(stacks.test.databaseVolume).toBeUndefined();
  });

  test('earlier than Phase 3 when Roadmap.assess says database size and growth cross the disk threshold', () => {
    const assessment = Roadmap.assess({
      payingCustomers: 3, monthlyModelApiSpendEur: 0, p95Latency: Duration.millis(300), latencySla: Duration.millis(1000),
      databaseSize: Size.gibibytes(100), databaseGrowthPerMonth: Size.gibibytes(5), diskSize: Size.gibibytes(160),
      offlineInferenceRequired: false, failedRestoreDrills: 0, releasesPerMonth: 4,
    });
    const stacks = new ProductStacks(Testing.app(), product({ database: { storage: DatabaseStorage.fromAssessment(assessment, Size.gibibytes(200)) } }));
    const [volume] = resources(synth(stacks.production), 'hcloud_volume');
    expect(volume.size).toBe(200);
    expect(Component.declaredIn(stacks.production).map((c) => c.component)).toContain(Component.DATA_VOLUME);
  });

  test('a location per environment: test in fsn1, production and staging in nbg1, the Storage Box in neither production location', () => {
    const stacks = new ProductStacks(Testing.app(), product({ locations: { test: Location.FSN1, production: Location.NBG1 } }));
    const test = synth(stacks.test);
    expect(resources(test, 'hcloud_server')[0].location).toBe('fsn1');
    expect(resources(test, 'hcloud_network_subnet')[0].network_zone).toBe('eu-central');
    const production = synth(stacks.production);
    expect(resources(production, 'hcloud_server')[0].location).toBe('nbg1');
    expect(resources(production, 'hcloud_storage_box')[0].location).toBe('hel1');
    const p = product({ locations: { test: Location.FSN1, production: Location.NBG1 } });
    expect(p.locationFor(Environment.STAGING)).toBe(Location.NBG1);
    const inHelsinki = new ProductStacks(Testing.app(), product({ locations: { test: Location.HEL1, production: Location.HEL1 } }));
    expect(resources(synth(inHelsinki.production), 'hcloud_storage_box')[0].location).toBe('fsn1');
  });

  test('the environments document records each location and database', () => {
    const stacks = new ProductStacks(Testing.app(), product({ locations: { test: Location.FSN1, production: Location.NBG1 } }));
    expect(stacks.test.record).toMatchObject({ environment: 'test', location: 'fsn1', database: { major: 15, dataDirectory: '/var/lib/postgresql/15/main' } });
    expect(stacks.production.record).toMatchObject({ environment: 'production', location: 'nbg1', database: { major: 15 } });
  });
});
