import { ChildProcess, execFileSync, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Duration } from '../../lib';
import { alive, commandLineOf } from '../../testing/harness/processes';
import { POSTGRES_BIN, PostgresCluster } from './helpers/postgres';
import { killAll, processesIn } from '../setup/run-leftovers';
import { BackupWorld, expectFailure, expectSuccess, pingPath, PROD_HOST, TEST_HOST } from './helpers/world';
import { describeWithRealParts, isRoot } from '../setup/real-parts';
import { waitFor } from '../../testing/harness/wait';

// The restore drill on a test machine whose PostgreSQL has too little disk for the backup it restores: the exact
// rendered script, with real PostgreSQL 15 servers (production's, and the test machine's on a small tmpfs), restic
// and OpenSSH. A restore that filled that disk stopped the test machine's PostgreSQL, which could not start again
// until someone freed space by hand (its own start needs room): the test environment was down, and every later drill
// failed. Production's restore by hand (backup-restore) had the same crash, after it had dropped the databases it
// replaces: it is run here against a PostgreSQL on a small disk as well. Needs root, as the end-to-end suite does
// (mount, runuser, sshd).
const describeAsRoot = describeWithRealParts(isRoot, 'the drill disk suite', 'root (runuser, sshd, mount)');

describeAsRoot('the restore drill and the disk of the test machine\'s PostgreSQL', () => {
  jest.setTimeout(180_000);
  let tmp: string;
  let world: BackupWorld;
  const clusters: PostgresCluster[] = [];

  /** The test machine's PostgreSQL, on a disk of `megabytes` of its own (an initdb'd cluster takes about 38 MB of it). */
  const smallServer = async (name: string, megabytes: number) => {
    const cluster = await PostgresCluster.start(world.smallDisk(name, megabytes * 1024 * 1024));
    clusters.push(cluster);
    return cluster;
  };

  /** The drill's configuration against `server`: two copies (the Storage Box's, under a second name as well), and `settings`. */
  const drillOn = (server: PostgresCluster, settings: Record<string, string | number>) =>
    world.drillOfTwoCopies(world.test.etc, { PG_HOST: server.dir, PG_PORT: server.port, ...settings });

  /** What a copy's failure says when its restore stopped short of filling the disk. */
  const stoppedForRoom = (copy: string, server: PostgresCluster, reserve: number) => `${copy} \\(Storage Box in \\w+\\) failed at step 'restoring snapshot \\w{8} from ${copy}' \\(exit 1\\): `
    + `restoring snapshot \\w{8}: stopped restoring app after \\d+ of its \\d+ bytes: the disk of ${server.dataDir}(/pg_wal)? has \\d+ MiB left, and the restore leaves ${reserve} MiB free there `
    + `for PostgreSQL \\(a server whose disk fills stops, and starts again only once space is freed by hand\\)\\. Fix: free space on that disk \\(df -h ${server.dataDir}\\) `
    + 'or give the test machine\'s PostgreSQL a larger one: .*unless DRILL_KEEP_DATABASES=1 in .*/drill\\.conf keeps them all, which needs room for every copy\\)';

  /** backup-restore of the backup's app database (--replace) into `server`, leaving `reserve` MiB free on its disk. */
  const restoreInto = (server: PostgresCluster, reserve: number) => world.run(world.production, 'backup-restore',
    world.variant(world.production.etc, 'backup.conf', { PG_HOST: server.dir, PG_PORT: server.port, RESTORE_RESERVE_MB: reserve }),
    { args: ['--replace', '--database', 'app'] });

  /** A server whose app database holds data of its own, which backup-restore replaces only with --replace. */
  const serverWithApp = async (name: string, megabytes: number) => {
    const server = await smallServer(name, megabytes);
    server.sql('postgres', 'CREATE DATABASE app');
    server.sql('app', "CREATE TABLE before_restore (note text); INSERT INTO before_restore VALUES ('kept')");
    return server;
  };

  /** Bytes free on the disk of `dir`, as the restore sees them (df: what an unprivileged writer may use). */
  const freeBytes = (dir: string) => Number(execFileSync('df', ['--output=avail', '-B1', dir], { encoding: 'utf8' }).split('\n')[1].trim());

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'backup-drill-disk-'));
    world = await BackupWorld.start(tmp);
    const { pg } = world;
    pg.sql('postgres', 'CREATE DATABASE app');
    // What the drill's checks query (users, orders): about 30 MB restored, with its write-ahead log.
    pg.sql('app', `CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL);
      INSERT INTO users SELECT g, 'user ' || g FROM generate_series(1, 1000) g;
      CREATE TABLE orders (id int PRIMARY KEY, user_id int NOT NULL REFERENCES users, body text);
      INSERT INTO orders SELECT g, 1 + g % 1000, md5(g::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) FROM generate_series(1, 120000) g;`);
    expect((await world.run(world.production, 'backup-bootstrap')).code).toBe(0);
    expectSuccess(await world.run(world.production, 'backup-dump', world.variant(world.production.etc, 'backup.conf', { PG_DATABASES: 'app' })), PROD_HOST, 'dump');
  });

  afterAll(async () => {
    for (const cluster of clusters) cluster.destroy();
    await world?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('a backup that does not fit: each copy\'s restore stops with the reserve left, the drill fails naming the disk, and PostgreSQL stays up', async () => {
    const server = await smallServer('pg-too-small', 72);
    const drill = await world.run(world.test, 'restore-drill', drillOn(server, { DRILL_KEEP_DATABASES: 0, DRILL_RESERVE_MB: 24 }));
    // The server still answers (it used to stop on a full disk, and to stay down).
    expect(server.sql('postgres', 'SELECT 1')).toBe('1');
    expectFailure(drill, TEST_HOST, 'restore-drill', new RegExp(`^the drill failed on 2 of 2 copies of acme-production-app's backups: ${stoppedForRoom('source', server, 24)}; `
      + `${stoppedForRoom('source2', server, 24)}; passed: none\\n`));
    expect(drill.pings.map((p) => p.path)).toEqual([pingPath(TEST_HOST, 'restore-drill', '/start'), pingPath(TEST_HOST, 'restore-drill', '/fail')]);
    // Each copy dropped what it had restored.
    expect(server.sql('postgres', "SELECT count(*) FROM pg_database WHERE datname LIKE 'restore_drill_%'")).toBe('0');
  });

  test('DRILL_KEEP_DATABASES=1 keeps every copy\'s databases: the copy that no longer fits stops with the reserve left, and the next drill drops them', async () => {
    // Room for one restored copy and the reserve, not for two.
    const server = await smallServer('pg-one-copy', 110);
    const kept = await world.run(world.test, 'restore-drill', drillOn(server, { DRILL_KEEP_DATABASES: 1, DRILL_RESERVE_MB: 24 }));
    expectFailure(kept, TEST_HOST, 'restore-drill', new RegExp(`^the drill failed on 1 of 2 copies of acme-production-app's backups: ${stoppedForRoom('source2', server, 24)}; `
      + 'passed: source \\(Storage Box in \\w+\\): restored snapshot .*; kept until the next drill as restore_drill_\\w+_app\\n'));
    const scratch = () => server.sql('postgres', "SELECT count(*) FROM pg_database WHERE datname LIKE 'restore_drill_%'");
    // The server still answers (it used to stop at the next drill, which dropped these on a full disk), with the first copy's databases kept (and what the second had restored, as kept ones are).
    expect(scratch()).toBe('2');

    // The disk grown, as the failure's fix says: the next drill drops the kept databases and restores both copies.
    execFileSync('mount', ['-o', 'remount,size=200m', server.dir]);
    const next = await world.run(world.test, 'restore-drill', drillOn(server, { DRILL_KEEP_DATABASES: 0, DRILL_RESERVE_MB: 24 }));
    expectSuccess(next, TEST_HOST, 'restore-drill');
    expect(next.pings[1].body).toMatch(/^every copy of acme-production-app's newest backup restored: source \(.*\): restored snapshot .*; source2 \(.*\): restored snapshot /);
    expect(scratch()).toBe('0');
  });

  test('backup-restore into a PostgreSQL whose disk cannot hold the backup stops with the reserve left, names the disk and the fix, and PostgreSQL stays up', async () => {
    // Room for the compressed dump and the reserve (so it is not refused up front), not for the restored database.
    const server = await serverWithApp('pg-restore-too-small', 100);
    const restore = await restoreInto(server, 40);
    expect(restore.code).not.toBe(0);
    expect(restore.pings).toEqual([]); // run by hand: it reports on the terminal
    expect(restore.stderr).toMatch(new RegExp(`restoring snapshot \\w{8}: stopped restoring app after \\d+ of its \\d+ bytes: the disk of ${server.dataDir}(/pg_wal)? has \\d+ MiB left, `
      + 'and the restore leaves 40 MiB free there for PostgreSQL \\(a server whose disk fills stops, and starts again only once space is freed by hand\\)\\. '
      + `Fix: free space on that disk \\(df -h ${server.dataDir}\\) or grow the volume it is on, then run backup-restore again with --replace: `
      + 'the databases app were dropped before the restore and are partially restored now'));
    expect(restore.stderr).not.toMatch(/OK: /);
    // The server still answers (it used to stop with its write-ahead log's disk full, and to stay down), with room left.
    expect(server.sql('postgres', 'SELECT 1')).toBe('1');
    // The restorer looks between 1 MiB pieces of the compressed stream and what PostgreSQL already took in still lands,
    // so the reserve absorbs a little (about 5 MiB of these 40): most of it is still free, where a full disk had none.
    expect(freeBytes(server.dataDir)).toBeGreaterThan(20 * 1024 * 1024);

    // The volume grown, as the fix says: the same restore with --replace brings the backup's app database back.
    execFileSync('mount', ['-o', 'remount,size=200m', server.dir]);
    const again = await restoreInto(server, 40);
    if (again.code !== 0) throw new Error(`backup-restore --replace failed (exit ${again.code}):\n${again.stderr}`);
    expect(again.stderr).toMatch(/OK: restored app of acme-production-app from snapshot \w{8} .*; 2 tables and 121000 rows match the backup's counts and checksums; replaced app \(/);
    expect(server.sql('app', 'SELECT count(*) FROM orders')).toBe('120000');
  });

  test('backup-restore refuses up front, dropping nothing, when even the compressed dumps and the reserve do not fit', async () => {
    const server = await serverWithApp('pg-restore-refused', 72);
    const restore = await restoreInto(server, 40);
    expect(restore.code).not.toBe(0);
    expect(restore.stderr).toMatch(new RegExp(`refusing to restore: the dumps of app take \\d+ MiB \\(compressed; restored, they take more\\), and the disk of ${server.dataDir} has \\d+ MiB free `
      + '\\(\\d+ MiB once the databases it replaces are dropped\\), less than the dumps and the 40 MiB the restore leaves free for PostgreSQL .*Nothing was dropped\\. '
      + `Fix: free space on that disk \\(df -h ${server.dataDir}\\) or grow the volume it is on, then run backup-restore again[\\s\\S]*failed step: checking the room on PostgreSQL's disk`));
    // Nothing was dropped: the server's own app database is as it was.
    expect(server.sql('app', 'SELECT note FROM before_restore')).toBe('kept');
  });
});

// The helper's own start, without the world: a failure partway must leave nothing running.
describeAsRoot('a test PostgreSQL whose start fails', () => {
  // 120 s: the stop after a failed start may take 30 s, and each pg_ctl stop in it 30 s more (jest's default is 30 s).
  test('a PostgreSQL whose start fails is stopped: pg_ctl gave up, the server it launched ran on past jest\'s exit', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-no-time-'));
    try {
      // pg_ctl waits no time: the start fails with the server launched (a loaded machine's 30 s, cheaply).
      await expect(PostgresCluster.start(dir, { startTimeout: Duration.seconds(0) })).rejects.toThrow(/server did not start in time/);
      expect(processesIn(dir)).toEqual([]);
    } finally {
      killAll(processesIn(dir));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

// Review: the helper's stop was a fast shutdown only. A session that does not end kept the server up, pg_ctl gave up
// after 30 s, and the server ran on past jest's exit, its error swallowed by the suite's cleanup (destroy).
describeAsRoot('a test PostgreSQL that a session holds open through the fast shutdown', () => {
  /**
   * A session whose COPY reads from a program that ignores SIGTERM and SIGQUIT (PostgreSQL signals the backend's
   * process group): the backend waits in a read of its output that its own SIGTERM does not interrupt, so a fast
   * shutdown waits for it. Resolves with the program's pid once it runs: the session is 'active' in
   * pg_stat_activity before the COPY's shell has run the program.
   */
  async function holdOpen(cluster: PostgresCluster): Promise<{ session: ChildProcess; program: number }> {
    const session = spawn(`${POSTGRES_BIN}/psql`, ['-X', '-q', '-h', cluster.dir, '-p', String(cluster.port), '-U', 'postgres', '-d', 'postgres',
      '-c', "CREATE TEMP TABLE held (line text); COPY held FROM PROGRAM 'trap \"\" TERM QUIT; exec sleep 600'"], { stdio: 'ignore' });
    const programs = () => processesIn(cluster.dir).filter((pid) => commandLineOf(pid)?.join(' ') === 'sleep 600');
    await waitFor(() => programs().length > 0, { timeout: Duration.minutes(1), what: "the COPY's program to run" });
    expect(programs()).toHaveLength(1);
    return { session, program: programs()[0] };
  }

  /** Runs `step` with the environment's variables set as `env` gives, and as they were after. */
  function withEnvironment(env: Record<string, string>, step: () => void): void {
    const before = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
    Object.assign(process.env, env);
    try {
      step();
    } finally {
      for (const [name, value] of Object.entries(before)) if (value === undefined) delete process.env[name]; else process.env[name] = value;
    }
  }

  test('is stopped anyway: a fast shutdown, then an immediate one (SIGQUIT), then SIGKILL to the server\'s processes, each named, whatever language pg_ctl speaks', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-held-open-'));
    const cluster = await PostgresCluster.start(dir, { stopTimeout: Duration.seconds(2) });
    const { session, program } = await holdOpen(cluster);
    // A developer's look at the server's log, and a process of theirs (root's) working in the data directory: the
    // stop's SIGKILL is for the server's processes, not for everything that names or works in its directory.
    const onlookers = [
      spawn('tail', ['-f', path.join(dir, 'server.log')], { stdio: 'ignore', cwd: '/' }),
      spawn('tail', ['-f', '/dev/null'], { stdio: 'ignore', cwd: cluster.dataDir }),
    ].map((child) => child.pid!);
    const stderr = jest.spyOn(process.stderr, 'write');
    // Review (sixth pass): the stop's bounded SIGKILL rounds read every process's command line, which waits on one
    // stuck in D state past the bound: only those of the server's processes are read now (to name them).
    const nodeFs = jest.requireActual<typeof fs>('fs');
    const readFileSync = nodeFs.readFileSync;
    const cmdlinesRead: number[] = [];
    const reads = jest.spyOn(nodeFs, 'readFileSync').mockImplementation(((file: fs.PathOrFileDescriptor, options?: unknown) => {
      const cmdline = /^\/proc\/(\d+)\/cmdline$/.exec(String(file));
      if (cmdline) cmdlinesRead.push(Number(cmdline[1]));
      return readFileSync(file, options as fs.ObjectEncodingOptions);
    }) as typeof fs.readFileSync);
    try {
      // pg_ctl's messages in German, as on a developer machine with a German locale: the stop that matched pg_ctl's
      // English "server does not shut down" gave up after the fast shutdown, the server running. (Debian's PostgreSQL
      // has the translations; LANGUAGE needs a locale other than C.)
      const german = { LANGUAGE: 'de', LC_ALL: 'C.UTF-8' };
      expect(spawnSync(`${POSTGRES_BIN}/pg_ctl`, ['status'], { env: { ...process.env, ...german }, encoding: 'utf8' }).stderr).toMatch(/kann nicht als root/);
      withEnvironment(german, () => cluster.stop());
      reads.mockRestore();
      const named = stderr.mock.calls.map(([text]) => String(text)).join('');
      expect([...new Set(cmdlinesRead)].filter((pid) => !named.includes(`  ${pid} `))).toEqual([]);
      expect(processesIn(dir).sort()).toEqual([...onlookers].sort());
      expect({ program: alive(program), onlookers: onlookers.filter(alive) }).toEqual({ program: false, onlookers });
      expect(named).toMatch(new RegExp(`SIGKILL to what is left of the server after its stop:\\n(  .*\\n)*  ${program} sleep 600\\n`));
      const log = fs.readFileSync(path.join(dir, 'server.log'), 'utf8');
      expect(log).toMatch(/received fast shutdown request[\s\S]*received immediate shutdown request/);
    } finally {
      reads.mockRestore();
      stderr.mockRestore();
      session.kill();
      killAll([...onlookers, ...processesIn(dir)]);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  // Review: a pg_ctl step that failed for want of a running server (one that crashed, or that ended just after pg_ctl
  // gave up) threw before the SIGKILL of what was left: the COPY's program, which outlives its server, ran on.
  test('whose postmaster crashed leaves nothing running after destroy: what the server ran is ended although pg_ctl finds no server', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-crashed-'));
    const cluster = await PostgresCluster.start(dir);
    const { session, program } = await holdOpen(cluster);
    try {
      const postmaster = Number(fs.readFileSync(path.join(cluster.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      process.kill(postmaster, 'SIGKILL');
      await waitFor(() => !alive(postmaster), { timeout: Duration.minutes(1), what: 'the postmaster to be gone' });
      expect(alive(postmaster)).toBe(false);
      cluster.destroy();
      expect({ program: alive(program), left: processesIn(dir) }).toEqual({ program: false, left: [] });
    } finally {
      session.kill();
      killAll(processesIn(dir));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
