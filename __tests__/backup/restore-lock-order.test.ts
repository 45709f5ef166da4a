import { ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BackupWorld, expectGaveWay, expectSuccess, fingerprint, PROD_HOST, RunOptions, RunResult, runScript, shiftedClock, slowStorageBoxLink } from './helpers/world';
import { holdResticLock, killHolder, unlockFails } from './helpers/restic-lock';
import { raceBehindCheck as raceBehindCheckOf } from './helpers/lock-race';
import { describeWithRealParts, isRoot } from '../setup/real-parts';
import { BACKUP_RESTORE_FILES } from '../../lib/backup/private/scripts';
import { waitFor } from '../../testing/harness/wait';
import { Duration } from '../../lib/core/duration';

// Audit (day 2, job overlap): backup-restore, run by hand after a loss, took no part in the lock order. It waited up to
// an hour, without a word, for whatever held the repository lock: behind a long check, as long as the check read; behind
// a dump or a push, until it ended, and that backup (of the machine as it is now, what the operator restores over)
// became the newest, which the restore then took. Now a check or a prune gives way to it, as to a dump, and any other
// holder fails it at once, naming the holder and the fix. The rendered jobs, real restic over a real OpenSSH SFTP
// server, real PostgreSQL: the dump is held in pg_dump by a table lock, the check's link to the Storage Box is slow.
const describeAsRoot = describeWithRealParts(isRoot, 'the restore-lock-order suite', 'root (runuser, sshd)');

describeAsRoot('backup-restore, run by hand while a job holds the repository lock', () => {
  jest.setTimeout(300_000);
  let tmp: string;
  let world: BackupWorld;
  let etc: string;
  let dumped: string;
  const running: ChildProcess[] = [];

  const run = (script: string, conf: string, env: Record<string, string> = {}, options: RunOptions = {}): Promise<RunResult> =>
    runScript(path.join(world.production.root, 'usr/local/sbin', script), world.receiver, { TMPDIR: tmp, SOVEREIGN_BACKUP_ETC: conf, ...env }, { timeout: Duration.seconds(280), ...options });

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'restore-lock-order-'));
    world = await BackupWorld.start(tmp);
    world.seedAppWithOrders();
    await world.bootstrapForCopies();
    world.copyBootstrapped('repo-restore');
    // A short wait for the lock: the code before this change waited it out in silence.
    etc = world.productionWith('repo-restore', { PG_DATABASES: 'app', CHECK_READ_SLICES: 1, LOCK_WAIT_SECONDS: 60 });
    const dump = await run('backup-dump', etc);
    expectSuccess(dump, PROD_HOST, 'dump');
    dumped = /\b(\d{8}T\d{6}Z)\b/.exec(dump.pings[1].body)![1];
  });

  afterAll(async () => {
    for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await world?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('a dump holds the lock: the restore fails at once, naming it, and changes nothing; the dump goes on', async () => {
    const before = fingerprint(world.pg, 'app');
    const release = await world.pg.holdTable('app', 'users');
    let dumping = false;
    let dump: Promise<RunResult> | undefined;
    try {
      dump = run('backup-dump', etc, {}, { onOutput: { when: /step: dumping app/, act: () => { dumping = true; } } });
      await waitFor(() => dumping && fs.readdirSync(path.join(world.sftp.home, 'repo-restore', 'locks')).length > 0, { timeout: Duration.minutes(1), what: 'the dump to stream (its restic lock)' });
      const started = Date.now();
      const restore = await run('backup-restore', etc, {}, { args: ['--replace'] });
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(restore.code).not.toBe(0);
      expect(restore.stderr).toMatch(/FAILED: backup-dump \(pid \d+\), since [\dT:-]+Z holds this machine's repository lock, and backup-restore waits for no job but a check or a prune \(they give way to it\): a dump or a push that ended while it waited would be the newest backup, of this machine as it is now, and the restore would take it\. Nothing was changed\. Fix: see what it does \(systemctl list-units 'backup-\*'; journalctl -u backup-dump\)/);
      expect(restore.pings).toEqual([]);
    } finally {
      release();
    }
    expectSuccess(await dump!, PROD_HOST, 'dump');
    expect(fingerprint(world.pg, 'app')).toBe(before);
  });

  test('a check holds the lock: it gives way, the restore runs at once and succeeds, and the check reads again and passes', async () => {
    const slow = path.join(tmp, 'link-is-slow');
    fs.writeFileSync(slow, '');
    const check = run('backup-check', etc, { PATH: slowStorageBoxLink(tmp, slow) });
    // The check's restic has the repository's exclusive lock and reads, slowly.
    const locks = path.join(world.sftp.home, 'repo-restore', 'locks');
    await waitFor(() => fs.readdirSync(locks).length === 1, { timeout: Duration.minutes(1), what: "the check's restic to read" });

    const restore = await run('backup-restore', etc, {}, { args: ['--replace'] });
    if (restore.code !== 0) throw new Error(`backup-restore failed (exit ${restore.code}):\n${restore.stderr}`);
    expect(restore.stderr).toMatch(/waiting for the repository lock, held by backup-check \(pid \d+\), since [\dT:-]+Z: a check or a prune gives way/);
    expect(restore.stderr).toMatch(/OK: restored app of acme-production-app from snapshot/);

    fs.rmSync(slow);
    // Audit (second pass): the check said it gave way to "a job that makes the backups"; it was a restore, by its pid.
    expectGaveWay(await check, PROD_HOST, 'check', 'backup-restore \\(pid \\d+\\)');
  });
  // Review (day 2): the restore named the holder once, before it waited. A check held the lock, the restore waited for
  // it, a dump timer fired and waited too, the check gave way, and the two raced for the lock: when the dump won, the
  // restore waited for it without a word and then restored it (the machine as it is now). The race is made certain
  // here: the restore's flock calls start only once the dump has the lock (a shim on its PATH), as a busy scheduler may.
  const raceBehindCheck = async (name: string) => {
    const race = await raceBehindCheckOf(tmp, name, path.join(tmp, 'production-state'),
      (env, options) => run('backup-restore', etc, env, { args: ['--replace'], ...options }), (env, options) => run('backup-dump', etc, env, options), 'backup-dump');
    return { restore: race.restore, dump: race.job, letRestoreFlock: race.letRestoreFlock };
  };
  const snapshots = () => fs.readdirSync(path.join(world.sftp.home, 'repo-restore', 'snapshots')).length;

  // Review (day 2): the restore named the holder once, before it waited. A check held the lock, the restore waited for
  // it, a dump timer fired and waited too, the check gave way, and the two raced for the lock: when the dump won, the
  // restore waited for it without a word and then restored it (the machine as it is now).
  test('a check holds the lock, the restore and then a dump wait, the dump wins the lock: the restore fails naming it', async () => {
    const before = fingerprint(world.pg, 'app');
    const snapshotsBefore = snapshots();
    const release = await world.pg.holdTable('app', 'users');
    let dump: Promise<RunResult> | undefined;
    try {
      const race = await raceBehindCheck('dump-holds');
      dump = race.dump;
      const restore = race.restore;
      race.letRestoreFlock();
      const restored = await Promise.race([restore, new Promise<RunResult>((resolve) => setTimeout(() => resolve({ code: -1, stdout: '', stderr: 'still waiting after 20s', pings: [] }), 20_000))]);
      expect(restored.stderr).toMatch(/FAILED: backup-dump \(pid \d+\), since [\dT:-]+Z holds this machine's repository lock, and backup-restore waits for no job but a check or a prune/);
      expect(restored.code).not.toBe(0);
      release();
      const ended = await restore;
      expect(ended.stderr).not.toMatch(/OK: restored/);
    } finally {
      release();
    }
    expectSuccess(await dump!, PROD_HOST, 'dump');
    expect(snapshots()).toBeGreaterThan(snapshotsBefore);
    expect(fingerprint(world.pg, 'app')).toBe(before);
  });

  // A dump that won the lock and ended before the restore looked again (within one slice of its wait) is seen by its
  // time: taken after the restore started.
  test('the dump wins the lock and ends before the restore looks again: the restore refuses its dump, naming why', async () => {
    const before = fingerprint(world.pg, 'app');
    const race = await raceBehindCheck('dump-ended');
    expectSuccess(await race.dump, PROD_HOST, 'dump');
    race.letRestoreFlock();
    const restore = await race.restore;
    expect(restore.code).not.toBe(0);
    expect(restore.stderr).toMatch(/FAILED: the newest dump of acme-production-app on storagebox \(\d{8}T\d{6}Z, stream snapshot \w{8}\) was taken after this restore started, while it waited for the repository lock: it is of this machine as it is now, not the backup to restore\. Nothing was changed\. Fix: pass --snapshot/);
    expect(fingerprint(world.pg, 'app')).toBe(before);
  });

  // Audit (third pass): only the drill read the restic locks in the repository; the restore judged this machine's lock
  // file alone and read with --no-lock. A restic of another machine (a replacement still running the old one's jobs,
  // a machine restored beside it) was not seen: a backup there became the newest while the restore read, and a prune
  // there removed data the restore was reading. Here the other machine's restic holds the lock with this machine's lock
  // file free, as it would.
  const repo = () => path.join(world.sftp.home, 'repo-restore');
  test("another machine's backup holds a restic lock: the restore without --snapshot fails at once, changing nothing; with it, it restores", async () => {
    // Review: a newer dump than the one named, so that restoring the newest instead of the named one fails this test.
    expectSuccess(await run('backup-dump', etc), PROD_HOST, 'dump');
    const before = fingerprint(world.pg, 'app');
    const held = await holdResticLock(repo(), 'shared', running);
    try {
      const restore = await run('backup-restore', etc, {}, { args: ['--replace'] });
      expect(restore.code).not.toBe(0);
      expect(restore.stderr).toMatch(/FAILED: restic pid \d+ on [\w.-]+ holds a lock on the repository of storagebox, refreshed \d+ minutes? ago: another machine may be writing a backup, which would become the newest while the restore reads\. Nothing was changed\. Fix: pass --snapshot to name the backup to restore/);
      expect(fingerprint(world.pg, 'app')).toBe(before);
      // backup-restore-files as a plan with file paths renders it beside the others (this machine's plan backs up none).
      fs.writeFileSync(path.join(world.production.root, 'usr/local/sbin/backup-restore-files'), BACKUP_RESTORE_FILES, { mode: 0o755 });
      const files = await run('backup-restore-files', world.variant(etc, 'backup.conf', { FILE_PATHS: path.join(tmp, 'uploads') }), {}, { args: ['--replace'] });
      expect(files.code).not.toBe(0);
      expect(files.stderr).toMatch(/FAILED: restic pid \d+ on [\w.-]+ holds a lock on the repository of storagebox, refreshed \d+ minutes? ago: another machine/);

      // Review: a time no dump has failed as "cannot fetch the manifest … (restic dump failed)"; and the outcome of a
      // failure left out the notes (here the lock gone past), which only a success carried.
      const none = await run('backup-restore', etc, {}, { args: ['--replace', '--snapshot', '20200101T000000Z'] });
      expect(none.code).not.toBe(0);
      expect(none.stderr).toMatch(/FAILED: there is no dump of acme-production-app taken at 20200101T000000Z on storagebox\. Nothing was changed\. Fix: pass --snapshot with one of its dumps, by its ID or the time in its tag dump-<time> \(restic snapshots --host acme-production-app --tag sovereign-dump lists them\)\n/);
      expect(none.stderr).toMatch(/\(restic snapshots --host acme-production-app --tag sovereign-dump lists them\); restic pid \d+ on [\w.-]+ holds a lock on the repository of storagebox, refreshed \d+ minutes? ago; restoring snapshot 20200101T000000Z as named.*\nfailed step: fetching the manifest/);

      const named = await run('backup-restore', etc, {}, { args: ['--replace', '--snapshot', dumped] });
      if (named.code !== 0) throw new Error(`backup-restore --snapshot failed (exit ${named.code}):\n${named.stderr}`);
      expect(named.stderr).toMatch(new RegExp(`OK: restored app of acme-production-app from snapshot \\w{8} \\(dump ${dumped}\\) .*; restic pid \\d+ on [\\w.-]+ holds a lock on the repository of storagebox, refreshed \\d+ minutes? ago; restoring snapshot ${dumped} as named, which no backup changes, with restic's shared lock on each read \\(restic refuses to read while a prune holds the repository, and a prune cannot start while it reads\\)`));
    } finally {
      await killHolder(held);
      fs.rmSync(path.join(repo(), 'locks', held.lock));
    }
  });

  test("another machine's prune holds the repository exclusively: the restore fails even with --snapshot, changing nothing", async () => {
    const before = fingerprint(world.pg, 'app');
    const held = await holdResticLock(repo(), 'exclusive', running);
    try {
      const restore = await run('backup-restore', etc, {}, { args: ['--replace', '--snapshot', dumped] });
      expect(restore.code).not.toBe(0);
      expect(restore.stderr).toMatch(/FAILED: restic pid \d+ on [\w.-]+ holds a lock on the repository of storagebox, refreshed \d+ minutes? ago, exclusively: a check, a prune or a key change of another machine, and a prune removes data the restore would read\. Nothing was changed\. Fix: .*; once [\w.-]+ is known to be down \(its restic cannot remove its lock\) and restic list locks on storagebox \(restic cat lock <ID> names each one's host and pid\) shows no other machine's restic running, restic unlock --remove-all on storagebox removes the lock at once; it removes every machine's locks, and a prune after it may delete the data of a backup still running elsewhere/);
      expect(fingerprint(world.pg, 'app')).toBe(before);
    } finally {
      await killHolder(held);
      fs.rmSync(path.join(repo(), 'locks', held.lock));
    }
  });

  // Review (third pass): a stale lock that restic unlock did not remove was noted and the restore went on, but its reads
  // take restic's shared lock, which restic refuses on any exclusive lock, stale or not: a killed check's lock failed
  // the restore later as "restic dump failed". Here the check's restic was killed, restic unlock fails (a stand-in), and
  // the clock is an hour on, so its lock is stale.
  test("a killed check's exclusive lock that restic unlock fails to remove: the restore fails at once, naming it and the fix", async () => {
    const before = fingerprint(world.pg, 'app');
    const held = await holdResticLock(repo(), 'exclusive', running);
    await killHolder(held);
    const bin = unlockFails(tmp);
    try {
      const restore = await run('backup-restore', etc, { PATH: `${bin}:${shiftedClock(tmp, 1)}` }, { args: ['--replace', '--snapshot', dumped] });
      expect(restore.code).not.toBe(0);
      expect(restore.stderr).toMatch(/FAILED: a stale exclusive lock of restic pid \d+ on [\w.-]+, last refreshed \d+ minutes ago \(a check, a prune or a key change killed mid-run\), is on the repository of storagebox, and restic unlock did not remove it \(see the log\): restic refuses every read while it is there\. Nothing was changed\. Fix: see in the log why restic unlock failed, run restic unlock on storagebox once it can \(it removes stale locks only\), then run backup-restore again/);
      expect(restore.stderr).not.toMatch(/restic dump failed|goes on/);
      expect(fingerprint(world.pg, 'app')).toBe(before);
    } finally {
      fs.rmSync(path.join(repo(), 'locks', held.lock), { force: true });
    }
  });

  // Review: restic 0.14 leaves its lock when killed (SIGKILL, a crash; SIGTERM too), and the restore judged the lock by
  // its time alone: a lock of this machine whose restic was gone held an emergency restore for 30 minutes, blaming
  // "another machine". It is removed first (restic unlock, as the other jobs do), and the restore goes on.
  test("a lock left by this machine's killed restic: it is removed, and the restore goes on at once", async () => {
    const held = await holdResticLock(repo(), 'shared', running);
    await killHolder(held);
    try {
      const restore = await run('backup-restore', etc, {}, { args: ['--replace'] });
      if (restore.code !== 0) throw new Error(`backup-restore failed (exit ${restore.code}):\n${restore.stderr}`);
      expect(restore.stderr).toMatch(/OK: restored app of acme-production-app from snapshot /);
      expect(restore.stderr).toMatch(/no restic process holds a lock on the repository of storagebox/);
      expect(restore.stderr).not.toMatch(/a stale lock of restic/);
      expect(fs.readdirSync(path.join(repo(), 'locks'))).not.toContain(held.lock);
    } finally {
      fs.rmSync(path.join(repo(), 'locks', held.lock), { force: true });
    }
  });
});
