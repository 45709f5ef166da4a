import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cheapenRepositoryKeys } from '../backup/helpers/restic-key';
import { JobRun, LabMachine, fingerprint, PILOT, RecoveryLab, RESTIC_PASSWORD } from './helpers/recovery-lab';
import { PG_BIN } from '../../testing/postgres-cluster';
import { NamespacePair } from './helpers/netns';
import { describeWithRealParts } from '../setup/real-parts';

// The whole data path of the example product (examples/phase1-pilot) on loopback, from its rendered
// files only: production's PostgreSQL configured by its bundle, the app's data loaded over the private
// address, backed up by production's rendered jobs to the Storage Box lab; production lost (server
// stopped, files wiped); then the weekly drill of the test stack, on a second cluster configured from
// the test stack's bundle, restores the backup through the read-only sub-account and passes its checks.
const ready = fs.existsSync(`${PG_BIN}/postgres`) && fs.existsSync('/usr/bin/restic') && fs.existsSync('/usr/sbin/sshd') && NamespacePair.available();
const describeReal = describeWithRealParts(ready, 'the full-cycle suite', 'root, ip netns, PostgreSQL 15, restic and OpenSSH');

const pingPath = (host: string, job: string, suffix = '') => `/ping/test-ping-key/${host}-${job}${suffix}`;
function expectSuccess(run: JobRun, host: string, job: string): void {
  if (run.code !== 0) throw new Error(`${job} failed (exit ${run.code}):\n${run.stderr}`);
  expect(run.pings.map((p) => p.path)).toEqual([pingPath(host, job, '/start'), pingPath(host, job)]);
}

describeReal('full cycle from the rendered files: configure, load, back up, lose production, drill on test', () => {
  jest.setTimeout(180_000);
  let tmp: string;
  let lab: RecoveryLab;
  let production: LabMachine;
  let testMachine: LabMachine;
  let before: string;
  let rebuilt: LabMachine;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'db-cycle-'));
    lab = await RecoveryLab.start(tmp);
  });

  afterAll(async () => {
    production?.destroy();
    testMachine?.destroy();
    rebuilt?.destroy();
    await lab?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test("production's PostgreSQL is configured by its bundle, and the app loads its data over the private address", () => {
    production = lab.productionMachine();
    const out = production.configurePostgres();
    expect(out).toMatch(/created role app[\s\S]*created database app[\s\S]*PostgreSQL 15 ready/);
    production.asApp(`
      CREATE TABLE tenants (id int PRIMARY KEY, name text NOT NULL, created timestamptz NOT NULL);
      INSERT INTO tenants SELECT g, 'Mandant ' || g || E' \\u00e9\\n"q"', timestamptz '2026-01-01 00:00:00+00' + g * interval '7 minutes' FROM generate_series(1, 300) g;
      CREATE TABLE invoices (id bigserial PRIMARY KEY, tenant_id int NOT NULL REFERENCES tenants, total numeric(12, 2), lines jsonb);
      INSERT INTO invoices (tenant_id, total, lines) SELECT (g % 300) + 1, g * 1.25, jsonb_build_array(g, 'x') FROM generate_series(1, 4000) g;`);
    expect(production.asApp('SELECT current_user || \' \' || count(*) FROM invoices')).toBe('app 4000');
    // A role the setup does not create: the restore brings it back from the backup's globals, with its grant.
    production.superuser('app', 'CREATE ROLE reporting NOLOGIN; GRANT SELECT ON invoices TO reporting');
    before = fingerprint(production, 'app');
  });

  test("production's rendered jobs back it up to the Storage Box lab", async () => {
    const bootstrap = await production.run('backup-bootstrap');
    if (bootstrap.code !== 0) throw new Error(bootstrap.stderr);
    // A cheap key derivation for the jobs' many opens (a test speed-up; restic calibrated the real one).
    cheapenRepositoryKeys(path.join(lab.box.home, 'restic'), RESTIC_PASSWORD);
    expectSuccess(await production.run('backup-dump'), PILOT.productionServer, 'dump');
    const push = await production.run('backup-push');
    expectSuccess(push, PILOT.productionServer, 'push');
    expect(push.pings[1].body).toMatch(/pushed dump \d{8}T\d{6}Z to storagebox, read back/);
    expect(fs.existsSync(path.join(lab.box.home, 'restic', 'config'))).toBe(true);
  });

  test('production is lost: its server stops and its files are wiped', () => {
    production.destroy({ wipe: true });
    expect(fs.existsSync(production.root)).toBe(false);
  });

  test("the test stack's drill restores production's backup into the test cluster and passes its checks", async () => {
    lab.shareWithDrillAccount();
    // Keep the scratch databases, so that this test can compare every row itself.
    testMachine = lab.testMachine('test', { DRILL_KEEP_DATABASES: 1 });
    expect(fs.readFileSync(path.join(testMachine.etc, 'drill.conf'), 'utf8')).toMatch(/^source_AUTH='password'$/m);
    expect(testMachine.configurePostgres()).toMatch(/created role app/);
    const drill = await testMachine.run('restore-drill');
    expectSuccess(drill, PILOT.testServer, 'restore-drill');
    expect(drill.pings[1].body).toMatch(/restored snapshot \w{8} of phase1-pilot-production-app \(dump \d{8}T\d{6}Z, 0 hours old\): app postgres; 2 tables and 4300 rows match .*; 1 verification queries true/);
    const scratch = /kept until the next drill as ([\w ]+)/.exec(drill.pings[1].body)![1].split(' ').find((n) => n.endsWith('_app'))!;
    expect(fingerprint(testMachine, scratch)).toBe(before);
  });

  test('the drill fails, and says why, when the backup lacks what its check needs', async () => {
    // The drill drops the scratch databases the previous one kept before it restores.
    const empty = fs.mkdtempSync(path.join(testMachine.etc, 'checks-'));
    fs.writeFileSync(path.join(empty, '01-tenants-missing.sql'), '-- database: app\nSELECT count(*) > 1000 FROM tenants\n');
    const checks = path.join(testMachine.etc, 'drill-checks');
    fs.renameSync(checks, `${checks}.kept`);
    fs.renameSync(empty, checks);
    try {
      const drill = await testMachine.run('restore-drill');
      expect(drill.code).not.toBe(0);
      expect(drill.pings.map((p) => p.path)).toContain(pingPath(PILOT.testServer, 'restore-drill', '/fail'));
      expect(drill.stderr).toMatch(/verification query 01-tenants-missing returned 'f' instead of true/);
    } finally {
      fs.rmSync(checks, { recursive: true });
      fs.renameSync(`${checks}.kept`, checks);
    }
  });

  test('backup-restore on a rebuilt production machine: the app database comes back with its owners and roles, verified', async () => {
    // The test machine's cluster and namespace go first: the rebuilt machine takes the same private address.
    testMachine.destroy();
    rebuilt = lab.productionMachine('rebuilt-production');
    // The rollout's setup runs first on the new server: the app role (with its password) and an empty app database.
    rebuilt.configurePostgres();
    expect(rebuilt.superuser('postgres', "SELECT count(*) FROM pg_roles WHERE rolname = 'reporting'")).toBe('0');
    const restore = await rebuilt.run('backup-restore');
    if (restore.code !== 0) throw new Error(`backup-restore failed (exit ${restore.code}):\n${restore.stderr}`);
    expect(restore.pings).toEqual([]); // run by hand: it reports on the terminal
    expect(restore.stderr).toMatch(/OK: restored app postgres of phase1-pilot-production-app from snapshot \w{8} \(dump \d{8}T\d{6}Z\) on storagebox, with their owners and the backup's roles; 2 tables and 4300 rows match/);
    expect(fingerprint(rebuilt, 'app')).toBe(before);
    // The app's database, owned by the app role as production's was; the role the setup lacks came back with its grant.
    expect(rebuilt.superuser('postgres', "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'app'")).toBe('app');
    expect(rebuilt.superuser('app', "SELECT string_agg(DISTINCT tableowner, ',') FROM pg_tables WHERE schemaname = 'public'")).toBe('app');
    expect(rebuilt.superuser('app', "SELECT has_table_privilege('reporting', 'invoices', 'SELECT')")).toBe('t');
    // The app logs in over the private address with its password (set by the setup, kept by the restore) and writes.
    expect(rebuilt.asApp("INSERT INTO tenants VALUES (301, 'after the restore', now()); SELECT current_user || ' ' || count(*) FROM invoices")).toBe('app 4000');
  });

  test('backup-restore refuses to drop a database that holds data, and says what it would drop, unless --replace', async () => {
    const refused = await rebuilt.run('backup-restore');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/refusing to restore over databases that hold data: restoring would drop app \(\d+ tables, views or sequences, about \d+ rows, [\d.]+ [kM]B\)\. Fix: pass --replace[\s\S]*failed step: checking the databases on this machine/);
    expect(refused.stderr).not.toMatch(/OK: /);
    expect(rebuilt.asApp('SELECT count(*) FROM tenants WHERE id = 301')).toBe('1');

    const stamp = /replace them with dump (\d{8}T\d{6}Z)/.exec(refused.stderr)![1];
    const replaced = await rebuilt.run('backup-restore', {}, ['--replace', '--database', 'app', '--snapshot', stamp]);
    if (replaced.code !== 0) throw new Error(`backup-restore --replace failed (exit ${replaced.code}):\n${replaced.stderr}`);
    expect(replaced.stderr).toMatch(new RegExp(`OK: restored app of phase1-pilot-production-app from snapshot \\w{8} \\(dump ${stamp}\\) .*; 2 tables and 4300 rows match .*; replaced app \\(`));
    expect(fingerprint(rebuilt, 'app')).toBe(before);
    expect(rebuilt.asApp('SELECT count(*) FROM tenants')).toBe('300');
    const unknown = await rebuilt.run('backup-restore', {}, ['--database', 'nope', '--replace']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/dump \d{8}T\d{6}Z holds no database nope \(it holds: app postgres\)/);
  });
});
