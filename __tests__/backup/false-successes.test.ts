import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SftpServer } from './helpers/sftp-server';
import { BackupWorld, corrupt, expectFailure, expectSuccess, filesBySize, MachineRoot, pingPath, PROD_HOST, TEST_HOST } from './helpers/world';
import { describeWithRealParts, isRoot } from '../setup/real-parts';

// The four false successes of issue #13, each reproduced against the exact rendered scripts with a
// real PostgreSQL 15, restic and OpenSSH: each job must now fail and ping /fail where it used to
// report success. Needs root, as the end-to-end suite does.
const describeAsRoot = describeWithRealParts(isRoot, 'the backup false-success suite', 'root (runuser, sshd, useradd)');

describeAsRoot('no success without proof', () => {
  jest.setTimeout(180_000);
  let tmp: string;
  let world: BackupWorld;

  /** Production's configuration with its own repository and dump directory. */
  const prodWith = (name: string, settings: Record<string, string | number> = {}) => world.productionWith(name, settings);

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'backup-proof-'));
    world = await BackupWorld.start(tmp);
    const { pg } = world;
    pg.sql('postgres', 'CREATE DATABASE app');
    pg.sql('postgres', 'CREATE DATABASE analytics');
    pg.sql('postgres', 'CREATE DATABASE bulk');
    // What the drill checks query: users and orders; small, as the drills here prove nothing by size.
    pg.sql('app', `CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL);
      INSERT INTO users SELECT g, 'user ' || g FROM generate_series(1, 1000) g;
      CREATE TABLE orders (id int PRIMARY KEY, user_id int NOT NULL REFERENCES users, body text);
      INSERT INTO orders SELECT g, 1 + g % 1000, md5(g::text) FROM generate_series(1, 2000) g;`);
    // About 16 MB of random hex, for the cases that need many packs: its dump (9.3 MB, compressed) spans
    // several restic chunks, which the next dump shares. restic cuts where its rolling hash, under each
    // repository's random polynomial, says (about once per MiB past 512 KiB), and at 8 MiB at the latest.
    // Half this data (a 4.7 MB dump) had no cut at all in about one repository in fifty: the next dump,
    // whose header differs, then shared no chunk and the dedup case proved nothing (seen once). Past 8 MiB
    // there is always a cut, and the chunks after the first are the same in both dumps.
    pg.sql('bulk', `CREATE TABLE blobs (id int PRIMARY KEY, body text);
      INSERT INTO blobs SELECT g, md5(g::text) || md5(random()::text) || md5(random()::text) || md5(random()::text)
        || md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) FROM generate_series(1, 60000) g;`);
    pg.sql('analytics', "CREATE TABLE events (at timestamptz, kind text); INSERT INTO events SELECT now(), 'view' FROM generate_series(1, 50) g");
    const bootstrap = await world.run(world.production, 'backup-bootstrap', prodWith('repo-bootstrapped'));
    if (bootstrap.code !== 0) throw new Error(bootstrap.stderr);
  });

  /**
   * A repository as backup-bootstrap leaves it (initialized, empty) under `name`: a copy of one the
   * bootstrap made in beforeAll. `restic init` calibrates its key derivation, seconds of CPU on a
   * loaded machine; what a case proves does not depend on which copy of an empty repository it has
   * (each case has one target, and every job's restic cache lives for that run only).
   */

  afterAll(async () => {
    await world?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('a dump that deduplicates onto a corrupted data pack fails: the new snapshot is read back from the remote without a cache', async () => {
    const etc = prodWith('repo-corrupt-pack', { PG_DATABASES: 'app bulk' });
    const repo = path.join(world.sftp.home, 'repo-corrupt-pack');
    world.copyBootstrapped('repo-corrupt-pack');
    expectSuccess(await world.run(world.production, 'backup-dump', etc), PROD_HOST, 'dump');
    expectSuccess(await world.run(world.production, 'backup-push', etc), PROD_HOST, 'push');
    // Bit rot in the stored data: every data pack written so far (tree packs are small and stay sound).
    const packs = filesBySize(path.join(repo, 'data')).filter((f) => fs.statSync(f).size > 256 * 1024);
    expect(packs.length).toBeGreaterThan(0);
    packs.forEach(corrupt);

    // The next dump holds the same rows: restic stores only its new chunks and points at the bad ones.
    // The dump streams to the target, so it is the job that reads the new snapshot back and fails.
    const dump = await world.run(world.production, 'backup-dump', etc);
    expectFailure(dump, PROD_HOST, 'dump', /streaming it failed for storagebox: reading snapshot \w{8} back[\s\S]*failed step: reading snapshot \w{8} back from storagebox without a cache/);
    const fail = dump.pings.find((p) => p.path.endsWith('/fail'))!;
    expect(fail.body).toMatch(/ciphertext verification failed|differs from its checksum/);
    // The push does not take the failed stream for a copy: it sends the dump again, and fails the same way.
    expectFailure(await world.run(world.production, 'backup-push', etc), PROD_HOST, 'push',
      /push failed for storagebox: reading snapshot \w{8} back[\s\S]*(ciphertext verification failed|differs from its checksum)/);
  });

  test('a drill behind a warm cache fails when the remote index and snapshots are corrupted: it reads only the remote', async () => {
    const etc = prodWith('repo-warm-cache', { PG_DATABASES: 'app' });
    const repo = path.join(world.sftp.home, 'repo-warm-cache');
    world.copyBootstrapped('repo-warm-cache');
    expectSuccess(await world.run(world.production, 'backup-dump', etc), PROD_HOST, 'dump');
    expectSuccess(await world.run(world.production, 'backup-push', etc), PROD_HOST, 'push');
    const drillEtc = world.variant(world.test.etc, 'drill.conf', { source_REPO_PATH: 'repo-warm-cache', DRILL_KEEP_DATABASES: 0 });
    // The first drill fills whatever cache the drill keeps.
    expectSuccess(await world.run(world.test, 'restore-drill', drillEtc), TEST_HOST, 'restore-drill');
    for (const dir of ['index', 'snapshots']) filesBySize(path.join(repo, dir)).forEach(corrupt);
    expectFailure(await world.run(world.test, 'restore-drill', drillEtc), TEST_HOST, 'restore-drill',
      /cannot fetch the newest backup|restic dump of snapshot \w{8} from source failed|there is no backup/);
  });

  test('a drill of a backup without the app database fails its app checks, whatever scratch database an earlier drill left', async () => {
    const etc = prodWith('repo-no-app', { PG_DATABASES: 'analytics' });
    world.copyBootstrapped('repo-no-app');
    expectSuccess(await world.run(world.production, 'backup-dump', etc), PROD_HOST, 'dump');
    expectSuccess(await world.run(world.production, 'backup-push', etc), PROD_HOST, 'push');
    // What an earlier drill of a complete backup leaves with DRILL_KEEP_DATABASES=1, or when killed:
    // a scratch database that passes the app checks.
    world.pg.sql('postgres', 'CREATE DATABASE restore_drill_app TEMPLATE app');
    try {
      const drillEtc = world.variant(world.test.etc, 'drill.conf', { source_REPO_PATH: 'repo-no-app' });
      expectFailure(await world.run(world.test, 'restore-drill', drillEtc), TEST_HOST, 'restore-drill',
        /verification query 01-every-order-has-its-user checks database app, which this backup does not contain \(it holds: analytics\)/);
    } finally {
      world.pg.sql('postgres', 'DROP DATABASE restore_drill_app');
    }
  });

  test('a drill logging in with a password fails when the Storage Box host key changed since its first login', async () => {
    const login = { user: 'sovereign-drill', password: 'Drill-password-1-long-enough', home: path.join(tmp, 'drill-account') };
    const etc = prodWith('repo-host-key', { PG_DATABASES: 'app' });
    world.copyBootstrapped('repo-host-key');
    expectSuccess(await world.run(world.production, 'backup-dump', etc), PROD_HOST, 'dump');
    expectSuccess(await world.run(world.production, 'backup-push', etc), PROD_HOST, 'push');
    // The read-only account sees the same repository (here: a copy its OS user may read).
    fs.mkdirSync(login.home, { recursive: true });
    fs.cpSync(path.join(world.sftp.home, 'repo-host-key'), path.join(login.home, 'restic'), { recursive: true });
    const box = await SftpServer.start(path.join(tmp, 'drill-box'), { passwordLogin: login });
    let moved: SftpServer | undefined;
    try {
      // The drill as RestoreDrill renders it for a read-only account: password login, host key on first use.
      const drill: MachineRoot = world.layOut('test-password', { source_PORT: box.port }, { drillPasswordLogin: login });
      expect(fs.readFileSync(path.join(drill.etc, 'drill.conf'), 'utf8')).toMatch(/^source_AUTH='password'$/m);
      expect(fs.existsSync(path.join(drill.etc, 'ssh'))).toBe(false);
      expectSuccess(await world.run(drill, 'restore-drill'), TEST_HOST, 'restore-drill');

      // The same account behind another host key: a man in the middle, or a box that was replaced.
      await box.stop();
      moved = await SftpServer.start(path.join(tmp, 'drill-box-2'), { passwordLogin: login });
      expect(moved.hostKey).not.toBe(box.hostKey);
      const changed = world.variant(drill.etc, 'drill.conf', { source_PORT: moved.port });
      expectFailure(await world.run(drill, 'restore-drill', changed), TEST_HOST, 'restore-drill', /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/);
    } finally {
      await box.stop();
      await moved?.stop();
    }
  });

  test('backup-check reads a different slice each run and every pack within N runs: a corrupted pack is found within the cycle', async () => {
    const etc = prodWith('repo-check-cycle', { CHECK_READ_SLICES: 3, PG_DATABASES: 'bulk' });
    const repo = path.join(world.sftp.home, 'repo-check-cycle');
    world.copyBootstrapped('repo-check-cycle');
    expectSuccess(await world.run(world.production, 'backup-dump', etc), PROD_HOST, 'dump');
    expectSuccess(await world.run(world.production, 'backup-push', etc), PROD_HOST, 'push');
    const slices: string[] = [];
    for (let run = 0; run < 3; run++) {
      const check = await world.run(world.production, 'backup-check', etc);
      expectSuccess(check, PROD_HOST, 'check');
      slices.push(/read data slice storagebox slice (\d\/3)/.exec(check.pings[1].body)![1]);
    }
    expect(slices).toEqual(['1/3', '2/3', '3/3']);

    // One data pack goes bad: within the next three runs one check reads it and fails (the runs
    // after that failure prove nothing more, so they are not made).
    corrupt(filesBySize(path.join(repo, 'data'))[0]);
    const outcomes: string[] = [];
    for (let run = 0; run < 3 && !outcomes.includes('failed'); run++) {
      const check = await world.run(world.production, 'backup-check', etc);
      outcomes.push(check.code === 0 ? 'sound' : 'failed');
      if (check.code !== 0) expectFailure(check, PROD_HOST, 'check', /check failed for storagebox: restic check reading slice [123]\/3 failed[\s\S]*failed step: restic check of storagebox, reading data slice [123]\/3/);
    }
    expect(outcomes).toContain('failed');
  });

  // Audit (full disks): the check records the slice it read on the state disk; on a full one the record failed unseen,
  // and every check read the same slice while it reported the whole cycle.
  test('backup-check on a full state disk fails: it cannot record the slice it read, so the next check would read the same one', async () => {
    const etc = prodWith('repo-check-full-state', { PG_DATABASES: 'analytics' });
    world.copyBootstrapped('repo-check-full-state');
    expectSuccess(await world.run(world.production, 'backup-dump', etc), PROD_HOST, 'dump');
    const state = world.smallDisk('check-state', 1024 * 1024);
    const checkEtc = world.variant(etc, 'backup.conf', { BACKUP_STATE: state });
    const slice = path.join(state, 'check-slice.storagebox');
    const first = await world.run(world.production, 'backup-check', checkEtc);
    expectSuccess(first, PROD_HOST, 'check');
    expect(first.pings[1].body).toMatch(/read data slice storagebox slice 1\/7 /);
    expect(fs.readFileSync(slice, 'utf8')).toBe('1\n');

    BackupWorld.fillDisk(state, 0);
    const full = await world.run(world.production, 'backup-check', checkEtc);
    expectFailure(full, PROD_HOST, 'check', new RegExp(`^check failed for storagebox: slice 2/7 was read, but recording that in ${slice} failed \\(.*No space left on device.*\\), `
      + `so the next check would read the same slice again and the other slices never \\(its disk has \\d+ inodes and 0 MiB free\\)\\. Fix: free space on that disk \\(df -h ${state}\\)`));
    // repository.wanted: where a dump waiting for the lock says so, so that a check gives way (dump-before-check.test.ts).
    expect(fs.readdirSync(state).sort()).toEqual(['check-slice.storagebox', 'filler', 'repository.lock', 'repository.wanted']);
    expect(fs.readFileSync(slice, 'utf8')).toBe('1\n');

    // With room again, the slice that was not recorded is read again, and recorded.
    fs.rmSync(path.join(state, 'filler'));
    const again = await world.run(world.production, 'backup-check', checkEtc);
    expectSuccess(again, PROD_HOST, 'check');
    expect(again.pings[1].body).toMatch(/read data slice storagebox slice 2\/7 /);
    expect(fs.readFileSync(slice, 'utf8')).toBe('2\n');
  });

  // Audit (third pass): a job writes its name into repository.lock once it holds the lock, for a job that waits to
  // name it. On a full state disk that write failed unseen (|| true), and the job reported its success as if recorded.
  test('a job whose state disk is full before it runs cannot record itself as the lock holder: it goes on and says so', async () => {
    const etc = prodWith('repo-prune-full-state', { PG_DATABASES: 'analytics' });
    world.copyBootstrapped('repo-prune-full-state');
    expectSuccess(await world.run(world.production, 'backup-dump', etc), PROD_HOST, 'dump');
    const state = world.smallDisk('prune-state-full', 1024 * 1024);
    BackupWorld.fillDisk(state, 0);
    const prune = await world.run(world.production, 'backup-prune', world.variant(etc, 'backup.conf', { BACKUP_STATE: state }));
    expectSuccess(prune, PROD_HOST, 'prune');
    expect(prune.pings[1].body).toMatch(new RegExp(`^pruned storagebox with .*; could not record this job as the holder of the repository lock in ${state}/repository\\.lock `
      + `\\(No space left on device; its disk has \\d+ inodes and 0 MiB free\\), so a job that waits for the lock names 'a job that did not record its name' instead of backup-prune\\. `
      + `Fix: free space on that disk \\(df -h ${state}\\)\n`));
    expect(fs.readFileSync(path.join(state, 'repository.lock'), 'utf8')).toBe('');
  });

  // Audit (full disks): a copy of a drill of several ran load_conf before it knew that another run reports for it: a
  // failure there (a state disk with no inode left) pinged a /fail of its own per copy, and the run's report said the
  // copy failed at step 'unknown', "it ended without saying why".
  test('a drill of two copies whose copies fail reading their configuration pings one failure, naming each copy\'s cause', async () => {
    const conf = fs.readFileSync(path.join(world.test.etc, 'drill.conf'), 'utf8');
    // The Storage Box's copy under a second name: a drill of two copies, as ProductStacks renders with the bucket.
    const second = Object.fromEntries([...conf.matchAll(/^source_(\w+)='?([^'\n]*)'?$/gm)].map(([, key, value]) => [`source2_${key}`, value]));
    // The state disk holds the drill's lock and the run's cache directory, and no further inode: each copy's cache fails.
    const state = world.smallDisk('drill-state-no-inodes', 1024 * 1024, ['nr_inodes=3']);
    const etc = world.variant(world.test.etc, 'drill.conf', { ...second, DRILL_SOURCES: 'source source2', BACKUP_STATE: state },
      { 'secrets/source2.restic.b64': fs.readFileSync(path.join(world.test.etc, 'secrets/source.restic.b64'), 'utf8') });
    const drill = await world.run(world.test, 'restore-drill', etc);
    expectFailure(drill, TEST_HOST, 'restore-drill', /^the drill failed on 2 of 2 copies of acme-production-app's backups: /);
    expect(drill.pings.map((p) => p.path)).toEqual([pingPath(TEST_HOST, 'restore-drill', '/start'), pingPath(TEST_HOST, 'restore-drill', '/fail')]);
    const cause = (copy: string) => `${copy} \\(Storage Box in \\w+\\) failed at step 'starting' \\(exit 1\\): cannot create this run's restic cache in ${state}, so it did nothing: `
      + `mktemp: failed to create directory via template '${state}/cache-run\\.XXXXXX': No space left on device\\. Its disk has 0 inodes and \\d+ MiB free\\. `
      + `Fix: free inodes or space on that disk \\(df -i ${state} and df -h ${state}\\), then run restore-drill again`;
    expect(drill.pings[1].body).toMatch(new RegExp(`^the drill failed on 2 of 2 copies of acme-production-app's backups: ${cause('source')}; ${cause('source2')}; passed: none\n`));
  });
});
