import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Duration } from '../../lib';
import { BackupWorld, expectGaveWay, expectSuccess, PROD_HOST, RunResult, runScript, slowStorageBoxLink } from './helpers/world';
import { describeWithRealParts, isRoot } from '../setup/real-parts';
import { waitFor } from '../../testing/harness/wait';

// Audit (timing): one job at a time holds a machine's repositories. After downtime the missed push (with its dump),
// check and prune all run at boot, each after its timer's random delay: a check that took the lock first and read for
// more than an hour failed the catch-up dump on its hour's wait; so did a long daily check Phase 2's 06:15 dump. The
// dump now comes first: the check stops its restic, clears the lock it left in the repository, lets the dump go and
// reads its slice again. The rendered jobs, real restic over a real OpenSSH SFTP server, real PostgreSQL; the check's
// link to the Storage Box is slow (its ssh's output trickles) while the test says so.
const describeAsRoot = describeWithRealParts(isRoot, 'the dump-before-check suite', 'root (runuser, sshd)');

describeAsRoot('a dump that comes while a long check holds the repository lock', () => {
  jest.setTimeout(300_000);
  let tmp: string;
  let world: BackupWorld;

  const slowLink = (slow: string) => slowStorageBoxLink(tmp, slow);
  const run = (script: string, etc: string, env: Record<string, string> = {}): Promise<RunResult> =>
    runScript(path.join(world.production.root, 'usr/local/sbin', script), world.receiver, { TMPDIR: tmp, SOVEREIGN_BACKUP_ETC: etc, ...env }, { timeout: Duration.seconds(280) });

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dump-before-check-'));
    world = await BackupWorld.start(tmp);
    world.pg.sql('postgres', 'CREATE DATABASE app');
    world.pg.sql('app', `CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL);
      INSERT INTO users SELECT g, md5(g::text) FROM generate_series(1, 3000) g;`);
    await world.bootstrapForCopies();
  });

  afterAll(async () => {
    await world?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('renders how long a check or prune that gave way waits to have the lock back: the bootstrap, a dump and a push', () => {
    const conf = fs.readFileSync(path.join(world.production.etc, 'backup.conf'), 'utf8');
    expect(conf).toMatch(/^GIVE_WAY_WAIT_SECONDS=48600$/m);
    expect(conf).toMatch(/^LOCK_WAIT_SECONDS=3600$/m);
  });

  test('the check gives way: the dump runs at once, and the check reads its slice again and passes', async () => {
    world.copyBootstrapped('repo-busy');
    const etc = world.productionWith('repo-busy', { PG_DATABASES: 'app', CHECK_READ_SLICES: 1 });
    expectSuccess(await run('backup-dump', etc), PROD_HOST, 'dump');

    const slow = path.join(tmp, 'link-is-slow');
    fs.writeFileSync(slow, '');
    const check = run('backup-check', etc, { PATH: slowLink(slow) });
    // The check's restic has the repository's exclusive lock and reads, slowly.
    const locks = path.join(world.sftp.home, 'repo-busy', 'locks');
    await waitFor(() => fs.readdirSync(locks).length > 0, { timeout: Duration.minutes(1), interval: Duration.millis(100), what: "the check's lock in the repository" });
    expect(fs.readdirSync(locks)).toHaveLength(1);

    // The dump waits far less than the check would hold it (minutes at this speed).
    const dump = await run('backup-dump', world.variant(etc, 'backup.conf', { LOCK_WAIT_SECONDS: 60 }));
    expectSuccess(dump, PROD_HOST, 'dump');
    expect(dump.stderr).toMatch(/waiting for the repository lock, held by backup-check \(pid \d+\), since [\dT:-]+Z: a check or a prune gives way/);

    fs.rmSync(slow);
    const checked = await check;
    const body = expectGaveWay(checked, PROD_HOST, 'check', 'backup-dump \\(pid \\d+\\)');
    expect(checked.stderr).toMatch(/storagebox: backup-dump \(pid \d+\) waits for the repository lock: stopping this step \(restic check of storagebox, reading data slice 1\/1\)/);
    expect(checked.stderr).toMatch(/storagebox: the repository lock is back after \d+s; running the step again/);
    expect(body).toMatch(/read data slice storagebox slice 1\/1 .*backups fresh; gave way 1 time\(s\) to backup-dump \(pid \d+\) and ran the step again/);
    // No lock of the stopped check is left in the repository. (A restic stopped while it wrote a lock over SFTP may
    // leave its half-written `<id>-restic-temp-<random>` file, which restic does not read as a lock: the dump and the
    // check above ran beside it.)
    expect(fs.readdirSync(locks).filter((f) => /^[0-9a-f]{64}$/.test(f))).toEqual([]);
  });

  // Audit (second pass): the check said "a job that makes the backups waits" whoever waited. Each waiter now writes its
  // name before it waits (the dump above is named); one that wrote none (a job of an earlier version, which only
  // holds repository.wanted; a state disk with no inode left) is said to be unknown, and a name left by a waiter that
  // is gone (killed while it waited) is not given, and is removed.
  test('a waiter that wrote no name: the check gives way saying it does not know whom, not naming a waiter that is gone or whose pid is another\'s', async () => {
    world.copyBootstrapped('repo-unnamed');
    const etc = world.productionWith('repo-unnamed', { PG_DATABASES: 'app', CHECK_READ_SLICES: 1 });
    expectSuccess(await run('backup-dump', etc), PROD_HOST, 'dump');
    const state = path.join(tmp, 'production-state');
    let gone = 2_000_000_000;
    while (fs.existsSync(`/proc/${gone}`)) gone--;
    const leftOver = path.join(state, `repository.wanted.${gone}`);
    fs.writeFileSync(leftOver, `backup-push (pid ${gone})\n`);
    // Review: a waiter killed by SIGKILL (no exit trap) left its name, and another process has its pid now: it was named.
    const reusedBy = spawn('sleep', ['120'], { stdio: 'ignore' });
    const reused = path.join(state, `repository.wanted.${reusedBy.pid}`);
    fs.writeFileSync(reused, `backup-dump (pid ${reusedBy.pid})\n`);
    // Review: a waiter that could not write its name (a full state disk) beside one that did gave "backup-restore (pid N), ".
    const named = spawn('bash', ['-c', 'exec -a backup-restore sleep 120'], { stdio: 'ignore' });
    const unnamed = spawn('sleep', ['120'], { stdio: 'ignore' });
    fs.writeFileSync(path.join(state, `repository.wanted.${named.pid}`), `backup-restore (pid ${named.pid})\n`);
    fs.writeFileSync(path.join(state, `repository.wanted.${unnamed.pid}`), '');
    try {

      const slow = path.join(tmp, 'link-is-slow-unnamed');
      fs.writeFileSync(slow, '');
      let holder: ReturnType<typeof spawn> | undefined;
      const check = runScript(path.join(world.production.root, 'usr/local/sbin/backup-check'), world.receiver,
        { TMPDIR: tmp, SOVEREIGN_BACKUP_ETC: etc, PATH: slowLink(slow) }, {
          timeout: Duration.seconds(280),
          // Once it stopped its step for the waiter, the waiter goes (as a dump of an earlier version would, with the lock).
          onOutput: { when: /waits for the repository lock: stopping this step/, act: () => { fs.rmSync(slow); holder?.kill('SIGKILL'); } },
        });
      const locks = path.join(world.sftp.home, 'repo-unnamed', 'locks');
      await waitFor(() => fs.readdirSync(locks).length === 1, { timeout: Duration.minutes(1), what: "the check's restic to read" });
      // A dump of an earlier version waiting: it holds repository.wanted (shared) and wrote no name.
      holder = spawn('bash', ['-c', 'exec 7<>"$1"; flock -s 7; echo held; exec sleep 120', 'holder', path.join(state, 'repository.wanted')], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve) => holder!.stdout!.once('data', () => resolve()));

      const checked = await check;
      holder.kill('SIGKILL');
      expectGaveWay(checked, PROD_HOST, 'check', `backup-restore \\(pid ${named.pid}\\), a job that did not record its name`);
      expect(checked.stderr).not.toContain(`pid ${gone}`);
      expect(checked.stderr).not.toContain(`pid ${reusedBy.pid}`);
      expect(fs.existsSync(leftOver)).toBe(false);
      expect(fs.existsSync(reused)).toBe(false);
    } finally {
      for (const waiter of [reusedBy, named, unnamed]) {
        waiter.kill('SIGKILL');
        fs.rmSync(path.join(state, `repository.wanted.${waiter.pid}`), { force: true });
      }
    }
  });

  test('the prune gives way too: restic prune stopped midway leaves a repository the dump writes to and the prune finishes', async () => {
    world.copyBootstrapped('repo-pruning');
    const etc = world.productionWith('repo-pruning', { PG_DATABASES: 'app' });
    for (let i = 0; i < 2; i++) expectSuccess(await run('backup-dump', etc), PROD_HOST, 'dump');

    const slow = path.join(tmp, 'link-is-slow-for-prune');
    let dump: Promise<RunResult> | undefined;
    // The dump comes once the prune's restic prune runs (its forget is done), slowly.
    const prune = runScript(path.join(world.production.root, 'usr/local/sbin/backup-prune'), world.receiver,
      { TMPDIR: tmp, SOVEREIGN_BACKUP_ETC: etc, PATH: slowLink(slow) }, {
        timeout: Duration.seconds(280),
        onOutput: {
          when: /run: restic_on storagebox prune/,
          act: () => {
            fs.writeFileSync(slow, '');
            setTimeout(() => { dump = run('backup-dump', world.variant(etc, 'backup.conf', { LOCK_WAIT_SECONDS: 60 })); }, 1500);
          },
        },
      });
    await waitFor(() => dump !== undefined, { timeout: Duration.minutes(2), interval: Duration.millis(100), what: 'the dump to start' });
    const dumped = await dump!;
    expectSuccess(dumped, PROD_HOST, 'dump');
    expect(dumped.stderr).toMatch(/waiting for the repository lock, held by backup-prune \(pid \d+\)/);
    fs.rmSync(slow);
    expectGaveWay(await prune, PROD_HOST, 'prune', 'backup-dump \\(pid \\d+\\)');
    // The repository is sound after the stopped prune, and holds the dump that came.
    const check = await run('backup-check', world.variant(etc, 'backup.conf', { CHECK_READ_SLICES: 1 }));
    expectSuccess(check, PROD_HOST, 'check');
  });
});
