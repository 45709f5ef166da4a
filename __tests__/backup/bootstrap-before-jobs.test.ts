import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BackupWorld, expectFailure, expectSuccess, PROD_HOST } from './helpers/world';
import { describeWithRealParts, isRoot } from '../setup/real-parts';

// systemd runs backup-bootstrap before every dump and push (BackupPlan's units), so a first-boot bootstrap
// that failed is retried. It must then never replace a repository that is gone with an empty one, which
// every later check and drill would find fresh. The rendered scripts, real restic over a real OpenSSH
// SFTP server and a real PostgreSQL.
const describeAsRoot = describeWithRealParts(isRoot, 'the bootstrap-before-jobs suite', 'root (runuser, sshd)');

describeAsRoot('backup-bootstrap, run before every dump', () => {
  jest.setTimeout(240_000);
  let tmp: string;
  let world: BackupWorld;

  const prodWith = (name: string) => world.productionWith(name, { PG_DATABASES: 'app' });

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'backup-bootstrap-'));
    world = await BackupWorld.start(tmp);
    world.pg.sql('postgres', 'CREATE DATABASE app');
    world.pg.sql('app', "CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL); INSERT INTO users SELECT g, 'user ' || g FROM generate_series(1, 100) g;");
  });

  afterAll(async () => {
    await world?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('a first bootstrap that failed is made good by the next one; a repository that opened once and is gone is never replaced', async () => {
    const name = 'repo-lost';
    const etc = prodWith(name);
    // The first boot: the Storage Box cannot be reached yet (port 1: privileged, unused). Nothing is initialized.
    const first = await world.run(world.production, 'backup-bootstrap', world.variant(etc, 'backup.conf', { storagebox_PORT: 1 }));
    expect(first.code).not.toBe(0);
    expect(fs.existsSync(path.join(world.sftp.home, name))).toBe(false);
    expectFailure(await world.run(world.production, 'backup-dump', etc), PROD_HOST, 'dump', /restic backup of dump \d{8}T\d{6}Z failed/);

    // The next scheduled backup: the bootstrap runs first and initializes the repository; the dump succeeds.
    const again = await world.run(world.production, 'backup-bootstrap', etc);
    if (again.code !== 0) throw new Error(again.stderr);
    expect(again.stderr).toMatch(/storagebox: repository initialized/);
    expectSuccess(await world.run(world.production, 'backup-dump', etc), PROD_HOST, 'dump');
    // Run before every dump, it changes nothing once all is in place.
    const idle = await world.run(world.production, 'backup-bootstrap', etc);
    expect(idle.code).toBe(0);
    expect(idle.stderr).toMatch(/storagebox: repository exists and opens/);

    // The repository is deleted (through the machine's own account, or the account's home was changed).
    fs.rmSync(path.join(world.sftp.home, name), { recursive: true });
    const lost = await world.run(world.production, 'backup-bootstrap', etc);
    expect(lost.code).not.toBe(0);
    expect(lost.stderr).toMatch(/the repository on storagebox opened from this machine before and does not open now .*not initializing an empty one in its place/);
    expect(lost.pings.map((p) => p.path)).toEqual([`/ping/test-ping-key/${PROD_HOST}-push/fail`]);
    // No empty repository took its place: the dump fails and alerts, as it should.
    expect(fs.existsSync(path.join(world.sftp.home, name, 'config'))).toBe(false);
    expectFailure(await world.run(world.production, 'backup-dump', etc), PROD_HOST, 'dump', /restic backup of dump \d{8}T\d{6}Z failed/);
  });
});
