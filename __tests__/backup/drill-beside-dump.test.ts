import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BackupWorld, expectSuccess, PROD_HOST, scratchDatabases, TEST_HOST } from './helpers/world';
import { describeWithRealParts, isRoot } from '../setup/real-parts';

// Audit (job overlap): a machine that runs the restore drill and is protected by a plan of its own (a test machine
// with its own backups) has one PostgreSQL for both. The dump of every database took the drill's scratch databases
// too: a copy of production's backup, half restored while the drill runs, dropped WITH (FORCE) under a pg_dump that
// was reading one, and kept until the next drill with DRILL_KEEP_DATABASES=1, so that the machine's own backups
// carried production's data for as long as their retention. The rendered jobs, real restic over a real OpenSSH SFTP
// server, real PostgreSQL.
const describeAsRoot = describeWithRealParts(isRoot, 'the drill-beside-dump suite', 'root (runuser, sshd)');

describeAsRoot('a dump on a machine that also runs the restore drill', () => {
  jest.setTimeout(240_000);
  let tmp: string;
  let world: BackupWorld;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drill-beside-dump-'));
    world = await BackupWorld.start(tmp);
    world.seedAppWithOrders();
    await world.bootstrapForCopies();
  });

  afterAll(async () => {
    await world?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test("leaves out the drill's scratch databases, names them, and dumps the machine's own", async () => {
    // Production's backup, and a drill of it that keeps its scratch databases (as DRILL_KEEP_DATABASES=1 does).
    world.copyBootstrapped('repo-production');
    expectSuccess(await world.run(world.production, 'backup-dump', world.productionWith('repo-production', { PG_DATABASES: 'app' })), PROD_HOST, 'dump');
    const drillEtc = world.variant(world.test.etc, 'drill.conf', { source_REPO_PATH: 'repo-production', DRILL_KEEP_DATABASES: 1 });
    const drill = await world.run(world.test, 'restore-drill', drillEtc);
    expectSuccess(drill, TEST_HOST, 'restore-drill');
    const scratch = scratchDatabases(drill.pings[1].body).app;
    expect(world.pg.sql('postgres', 'SELECT datname FROM pg_database ORDER BY 1').split('\n')).toContain(scratch);

    // The machine's own plan, dumping every database (PostgresDump.allDatabases()), beside the drill's configuration.
    world.copyBootstrapped('repo-own');
    const ownEtc = world.variant(world.productionWith('repo-own', { PG_DATABASES: '' }), 'backup.conf', {},
      { 'drill.conf': fs.readFileSync(path.join(drillEtc, 'drill.conf'), 'utf8') });
    const dump = await world.run(world.production, 'backup-dump', ownEtc);
    expectSuccess(dump, PROD_HOST, 'dump');
    const dumps = path.join(tmp, 'dumps-repo-own');
    const [stamp] = fs.readdirSync(dumps).filter((d) => /^\d{8}T\d{6}Z$/.test(d));
    const index = fs.readFileSync(path.join(dumps, stamp, 'INDEX'), 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ')[0]);
    expect(index).toEqual(['app', 'postgres']);
    expect(fs.existsSync(path.join(dumps, stamp, `${scratch}.dump`))).toBe(false);
    expect(dump.pings[1].body).toMatch(/^dumped app postgres into /);
    expect(dump.stderr).toContain(`leaving out the restore drill's scratch database(s) ${scratch}: copies of the backup it restores, not this machine's data`);
  });
});

// A world that fails to start stops what it did start: a suite whose PostgreSQL could not start (its directory not
// reachable by the postgres account) left its sshd running past jest's exit, one per failed suite.
describeAsRoot('a backup world that cannot start', () => {
  test('stops the servers it started before it fails', async () => {
    const closed = fs.mkdtempSync(path.join(os.tmpdir(), 'world-start-fails-'));
    const tmp = path.join(closed, 'world');
    fs.mkdirSync(tmp);
    fs.chmodSync(closed, 0o700);
    try {
      await expect(BackupWorld.start(tmp)).rejects.toThrow(/initdb/);
      const left = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((line) => line.includes(tmp));
      expect(left).toEqual([]);
    } finally {
      fs.rmSync(closed, { recursive: true, force: true });
    }
  });
});
