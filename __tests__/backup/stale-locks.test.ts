import { ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { BackupWorld, expectFailure, expectSuccess, PATH_ENV, pingPath, PROD_HOST, RunResult, runScript, shiftedClock, survivorsOf } from './helpers/world';
import { holdResticLock, killHolder, unlockFails, writeOldLock } from './helpers/restic-lock';
import { BACKUP_RESTORE_FILES } from '../../lib/backup/private/scripts';
import { describeWithRealParts, isRoot } from '../setup/real-parts';
import { Duration } from '../../lib';
import { signal, statFields } from '../../testing/harness/processes';
import { waitFor } from '../../testing/harness/wait';
import { listenOnFreePort } from '../../testing/harness/ports';

// A job killed mid-run (a hard reset, the OOM killer, the Storage Box's connection lost before restic
// deleted its lock) leaves its restic lock in the repository. Debian 12's restic (0.14) never looks past
// a lock, stale or not: forget, prune, check and key removal need the exclusive lock and failed every
// run, and a stale exclusive lock (a prune or check killed) failed every backup, until someone ran
// restic unlock by hand. The rendered jobs, real restic over a real OpenSSH SFTP server, real PostgreSQL.
const describeAsRoot = describeWithRealParts(isRoot, 'the stale restic lock suite', 'root (runuser, sshd)');

/** The processes of the job run with the configuration directory `etc` that are stopped (state T), as "<pid> <command>". */
function stoppedOf(etc: string): string[] {
  return survivorsOf(etc).filter((p) => statFields(p.split(' ')[0])?.[0] === 'T');
}

describeAsRoot('a lock left by a killed job does not stop the backups for good', () => {
  jest.setTimeout(240_000);
  let tmp: string;
  let world: BackupWorld;
  const running: ChildProcess[] = [];

  const prodWith = (name: string) => world.productionWith(name, { PG_DATABASES: 'app' });
  const locks = (name: string) => fs.readdirSync(path.join(world.sftp.home, name, 'locks'));
  const holdLock = (name: string, kind: 'shared' | 'exclusive') => holdResticLock(path.join(world.sftp.home, name), kind, running);

  /** A lock whose process was killed with no chance to remove it: stale, by restic's own rule (this host, process gone). */
  async function staleLock(name: string, kind: 'shared' | 'exclusive'): Promise<string> {
    const held = await holdLock(name, kind);
    await killHolder(held);
    expect(locks(name)).toContain(held.lock);
    return held.lock;
  }

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'backup-locks-'));
    world = await BackupWorld.start(tmp);
    world.pg.sql('postgres', 'CREATE DATABASE app');
    world.pg.sql('app', `CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL);
      INSERT INTO users SELECT g, 'user ' || g FROM generate_series(1, 1000) g;`);
    const bootstrap = await world.run(world.production, 'backup-bootstrap', prodWith('repo-bootstrapped'));
    if (bootstrap.code !== 0) throw new Error(bootstrap.stderr);
  });

  afterAll(async () => {
    for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await world?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('the lock of a dump killed mid-run: the check and the prune remove it and do their work', async () => {
    const name = 'repo-shared';
    world.copyBootstrapped(name);
    const etc = prodWith(name);
    expectSuccess(await world.run(world.production, 'backup-dump', etc), PROD_HOST, 'dump');

    const lock = await staleLock(name, 'shared');
    const check = await world.run(world.production, 'backup-check', etc);
    expectSuccess(check, PROD_HOST, 'check');
    expect(check.stderr).toMatch(/storagebox: removing stale locks of the repository, if any \(restic unlock\)/);
    expect(locks(name)).not.toContain(lock);

    await staleLock(name, 'shared');
    expectSuccess(await world.run(world.production, 'backup-prune', etc), PROD_HOST, 'prune');
    expect(locks(name)).toEqual([]);
  });

  // Audit (sixth pass): a stale exclusive lock failed every dump and push (and paged) until the next check or prune removed
  // it, though restic itself calls it stale. They remove this machine's stale locks first now, naming each; another
  // machine's lock stays, and fails them as before.
  test("a restic killed mid-run (SIGKILL) with the exclusive lock: the dump and the push remove it, name it and back up; another machine's lock, live or 30 minutes unrefreshed, stays and fails them", async () => {
    const name = 'repo-exclusive';
    world.copyBootstrapped(name);
    const uploads = path.join(tmp, 'uploads-exclusive');
    fs.mkdirSync(uploads);
    fs.writeFileSync(path.join(uploads, 'contract.pdf'), 'contract 1\n');
    const etc = world.productionWith(name, { PG_DATABASES: 'app', FILE_PATHS: uploads });
    const removed = (lock: string) => new RegExp(`storagebox: restic unlock removed the stale lock ${lock.slice(0, 8)}: the exclusive lock of restic pid \\d+ on [\\w.-]+, last refreshed \\d+ minutes ago`);
    for (const job of ['backup-dump', 'backup-push']) {
      const lock = await staleLock(name, 'exclusive');
      const ran = await world.run(world.production, job, etc);
      expectSuccess(ran, PROD_HOST, job.slice('backup-'.length));
      expect(ran.stderr).toMatch(removed(lock));
      expect(locks(name)).toEqual([]);
    }

    // Audit (sixth pass, review): a lock that goes while restic unlock runs (its job ended, or its restic refreshed it under
    // a new name) was said to be removed by it. Beside a killed restic's lock, this machine's live one, whose file a stand-in
    // restic deletes as the unlock starts (as its job ending would): only the killed one is said to be removed.
    expect(locks(name)).toEqual([]);
    const killed = await staleLock(name, 'shared');
    const live = await holdLock(name, 'shared');
    try {
      const bin = path.join(tmp, 'bin-lock-goes');
      fs.mkdirSync(bin, { recursive: true });
      fs.writeFileSync(path.join(bin, 'restic'), `#!/bin/bash\n[ "\${@: -1}" != unlock ] || rm -f ${path.join(world.sftp.home, name, 'locks', live.lock)}\n`
        + 'exec /usr/bin/restic "$@"\n', { mode: 0o755 });
      const ran = await world.run(world.production, 'backup-push', etc, { env: { PATH: `${bin}:${PATH_ENV}` } });
      expectSuccess(ran, PROD_HOST, 'push');
      expect(ran.stderr).toMatch(new RegExp(`storagebox: restic unlock removed the stale lock ${killed.slice(0, 8)}: the lock of restic pid \\d+`));
      expect(ran.stderr).toMatch(new RegExp(`storagebox: the lock ${live.lock.slice(0, 8)} went while unlocking \\(its restic ended or refreshed it\\): the lock of restic pid \\d+`));
      expect(ran.stderr).not.toMatch(new RegExp(`removed the stale lock ${live.lock.slice(0, 8)}`));
    } finally {
      await killHolder(live);
    }

    // Another machine's key change, running: restic unlock leaves its lock, and the jobs fail naming it, as before.
    const other = await holdResticLock(path.join(world.sftp.home, name), 'exclusive', running, undefined, 'another-machine');
    try {
      for (const job of ['backup-dump', 'backup-push']) {
        expectFailure(await world.run(world.production, job, etc), PROD_HOST, job.slice('backup-'.length),
          /repository is already locked exclusively by PID \d+ on another-machine/);
        // One lock, another machine's (restic refreshes it under a new name every 5 minutes).
        expect(locks(name)).toHaveLength(1);
      }
    } finally {
      await killHolder(other);
    }
    for (const lock of locks(name)) fs.rmSync(path.join(world.sftp.home, name, 'locks', lock));

    // Audit (sixth pass, review): restic unlock also removes any lock not refreshed for 30 minutes, whatever its host, and
    // restic 0.14 only warns when a refresh fails: another machine's prune on a flaky link may still delete packs. Beside
    // this host's killed restic, the dump and the push leave that lock (and restic unlock) alone, and fail naming it.
    for (const job of ['backup-dump', 'backup-push']) {
      const killed = await staleLock(name, 'exclusive');
      const old = writeOldLock(path.join(world.sftp.home, name), 'another-machine', 40);
      const ran = await world.run(world.production, job, etc);
      // restic names the first lock it meets, either one; the log names the other machine's.
      expectFailure(ran, PROD_HOST, job.slice('backup-'.length), /repository is already locked exclusively by PID \d+ on [\w.-]+/);
      expect(ran.stderr).toMatch(new RegExp(`storagebox: restic unlock not run before the backup: the exclusive lock of restic pid 4242 on another-machine, last refreshed [34]\\d minutes ago \\(${old.slice(0, 8)}\\) is not this machine's`));
      expect(locks(name).sort()).toEqual([old, killed].sort());
      for (const lock of [old, killed]) fs.rmSync(path.join(world.sftp.home, name, 'locks', lock));
    }
  });

  // Audit (fifth pass): the stale-lock restore test covered backup-restore only. backup-restore-files reads under restic's
  // shared lock too, which restic refuses on any exclusive lock, stale or not: its stale locks go first (restic unlock, this
  // machine's repository), and one restic unlock cannot remove fails it at once, naming the lock, with the path untouched.
  test("a killed check's exclusive lock beside backup-restore-files: removed, and the files restored; one restic unlock cannot remove fails it at once", async () => {
    const name = 'repo-restore-files';
    world.copyBootstrapped(name);
    const uploads = path.join(tmp, 'uploads');
    fs.mkdirSync(uploads);
    fs.writeFileSync(path.join(uploads, 'invoice.pdf'), 'invoice 1\n');
    const etc = world.productionWith(name, { PG_DATABASES: 'app', FILE_PATHS: uploads });
    // As a plan with file paths renders it beside the other jobs.
    fs.writeFileSync(path.join(world.production.root, 'usr/local/sbin/backup-restore-files'), BACKUP_RESTORE_FILES, { mode: 0o755 });
    expectSuccess(await world.run(world.production, 'backup-dump', etc), PROD_HOST, 'dump');
    expectSuccess(await world.run(world.production, 'backup-push', etc), PROD_HOST, 'push');
    fs.writeFileSync(path.join(uploads, 'invoice.pdf'), 'overwritten by mistake\n');

    // restic unlock fails (an account that may not delete, a link lost), the clock an hour on: the lock is stale.
    const lock = await staleLock(name, 'exclusive');
    const restore = (env: Record<string, string> = {}) => runScript(path.join(world.production.root, 'usr/local/sbin/backup-restore-files'),
      world.receiver, { TMPDIR: tmp, SOVEREIGN_BACKUP_ETC: etc, ...env }, { args: ['--replace'] });
    const refused = await restore({ PATH: `${unlockFails(tmp)}:${shiftedClock(tmp, 1)}` });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/FAILED: a stale exclusive lock of restic pid \d+ on [\w.-]+, last refreshed \d+ minutes ago \(a check, a prune or a key change killed mid-run\), is on the repository of storagebox, and restic unlock did not remove it \(see the log\): restic refuses every read while it is there\. Nothing was changed\. Fix: see in the log why restic unlock failed, run restic unlock on storagebox once it can \(it removes stale locks only\), then run backup-restore-files again/);
    expect(fs.readFileSync(path.join(uploads, 'invoice.pdf'), 'utf8')).toBe('overwritten by mistake\n');
    expect(locks(name)).toContain(lock);

    // restic unlock works: the lock of this host's killed restic goes, and the files come back.
    const restored = await restore();
    if (restored.code !== 0) throw new Error(`backup-restore-files failed (exit ${restored.code}):\n${restored.stderr}`);
    expect(restored.stderr).toMatch(/storagebox: removing stale locks of the repository, if any \(restic unlock\)/);
    expect(restored.stderr).toMatch(/OK: restored the files of acme-production-app from storagebox/);
    expect(fs.readFileSync(path.join(uploads, 'invoice.pdf'), 'utf8')).toBe('invoice 1\n');
    expect(locks(name)).toEqual([]);
  });

  // Audit (seventh pass): before a backup the job lists the repository's locks (unlock_before_backup), and the backup
  // connected again: against a Storage Box that does not answer, the job waited out ssh's ConnectTimeout (20 s) once
  // more, for each restic it started, before failing. A listener that accepts and never answers, ssh's timeout cut to
  // 2 s and its calls counted by a stand-in on PATH: the dump and the push connect once and fail as before.
  test('a repository that does not answer: the dump and the push connect once, then fail as before, naming it', async () => {
    const name = 'repo-unreachable';
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => { sockets.push(socket); });
    const port = await listenOnFreePort(silent);
    const bin = path.join(tmp, 'bin-ssh-counted');
    const calls = path.join(tmp, 'ssh-calls');
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, 'ssh'), `#!/bin/bash\necho "$$" >>'${calls}'\nexec /usr/bin/ssh -o ConnectTimeout=2 "$@"\n`, { mode: 0o755 });
    // Audit (eighth pass, review): the push's first file backup lists the target's file snapshots first (is this an
    // unrestored rebuild?), and that listing's timeout did not count: the lock listing waited out another one.
    const uploads = path.join(tmp, 'uploads-unreachable');
    fs.mkdirSync(uploads);
    fs.writeFileSync(path.join(uploads, 'contract.pdf'), 'contract 1\n');
    const etc = world.productionWith(name, { PG_DATABASES: 'app', FILE_PATHS: uploads, BACKUP_STATE: path.join(tmp, 'state-unreachable'), storagebox_PORT: port });
    const failed = {
      'backup-dump': /^dump \d{8}T\d{6}Z is kept on this machine, but streaming it failed for storagebox: restic backup of dump \d{8}T\d{6}Z failed \([^)]*timed out during banner exchange/,
      // The files are held back: whether this is an unrestored rebuild could not be told.
      'backup-push': new RegExp(`^push failed for the file backup of ${uploads} to storagebox: cannot tell whether this machine is an unrestored rebuild: it has not backed up its paths before, and the file snapshots of ${PROD_HOST} on storagebox could not be listed \\(restic: storagebox: Fatal: unable to open repository at .*\\)\\. Nothing of the files was sent there \\(the other targets, if any, got them\\)\\. .*; storagebox: restic backup of dump \\d{8}T\\d{6}Z failed \\([^)]*timed out during banner exchange`),
    };
    const connections = () => fs.readFileSync(calls, 'utf8').split('\n').filter(Boolean).length;
    /** The lines of the job's log (the failure ping's copy) that are exactly `line`, or that match it. */
    const logged = (ran: RunResult, line: string | RegExp) => ran.pings[ran.pings.length - 1].body.split('--- log ---\n')[1].split(/\r?\n/)
      .filter((l) => (typeof line === 'string' ? l === line : line.test(l))).length;
    try {
      // The dump keeps its local copy, which the push then tries to send.
      for (const job of ['backup-dump', 'backup-push'] as const) {
        fs.writeFileSync(calls, '');
        const ran = await world.run(world.production, job, etc, { env: { PATH: `${bin}:${PATH_ENV}` } });
        expectFailure(ran, PROD_HOST, job.slice('backup-'.length), failed[job]);
        expect(ran.code).toBe(1);
        expect(connections()).toBe(1);
        expect(ran.stderr).toMatch(job === 'backup-dump'
          ? /storagebox: the repository cannot be reached \(listing its locks timed out\), so the backup to it fails without connecting again/
          : /storagebox: the repository cannot be reached \(listing its file snapshots timed out\), so the backup to it fails without connecting again/);
        // The push's lock listing, after the file listing found the target unreachable, did not connect: restic_on's notice
        // says so, not a lock listing that failed.
        expect(ran.stderr).not.toMatch(/storagebox: cannot list the repository's locks/);
        // Audit (eighth pass): the listing's messages reached the log again for each restic call the job did not make.
        expect(logged(ran, 'ssh: Connection timed out during banner exchange')).toBe(1);
        // restic's own words for the session ssh could not open vary (`error: EOF` mostly; twice in eight busy runs not).
        expect(logged(ran, /^Fatal: unable to open repository at sftp:root@127\.0\.0\.1:repo-unreachable: /)).toBe(1);
        // ssh ends the lines of its log file with CR LF: the CR went on into the failure message.
        expect(ran.pings[ran.pings.length - 1].body).not.toContain('\r');
      }

      // Audit (eighth pass): a first dump of empty databases lists the target's dumps first (is this an unrestored
      // rebuild?), and that listing's timeout did not count: the lock listing waited out another one.
      // Audit (eighth pass, review): and a target whose dumps could not be listed was left unchecked: the empty dump was
      // kept in DUMP_DIR (and sent to any target that answered), backup-push sent it once the target answered, as the
      // newest backup, and the next dump, finding a local copy, checked nothing. It fails before dumping now.
      world.pg.sql('postgres', 'CREATE DATABASE empty_app');
      world.pg.sql('empty_app', 'CREATE TABLE users (id int PRIMARY KEY)');
      fs.writeFileSync(calls, '');
      const firstDumps = path.join(tmp, 'dumps-unreachable-first');
      const firstConf = { PG_DATABASES: 'empty_app', DUMP_DIR: firstDumps, BACKUP_STATE: path.join(tmp, 'state-unreachable-first') };
      const first = await world.run(world.production, 'backup-dump', world.variant(etc, 'backup.conf', firstConf), { env: { PATH: `${bin}:${PATH_ENV}` } });
      expectFailure(first, PROD_HOST, 'dump', new RegExp(`^cannot tell whether this machine is an unrestored rebuild: it has not dumped before, its databases \\(empty_app\\) hold no row, and the dumps of ${PROD_HOST} on storagebox could not be listed \\(restic: storagebox: Fatal: unable to open repository at sftp:root@127\\.0\\.0\\.1:repo-unreachable: .*\\)\\. Nothing was dumped\\. Fix: find out from restic's error why, fix that, and run backup-dump again once its dumps can be listed; if this machine is meant to start empty, giving up the data of any dumps there, run backup-dump --start-empty once`));
      expect(first.stderr).toMatch(/storagebox: the repository cannot be reached \(listing its dumps timed out\), so the backup to it fails without connecting again/);
      expect(connections()).toBe(1);
      expect(fs.readdirSync(firstDumps).filter((entry) => !entry.startsWith('.partial-'))).toEqual([]);
      // Audit (eighth pass, second review): with no dump there, the push stopped at "no completed dump" before the files:
      // a new machine whose first dump refused tried no file backup at all. It goes on to the files, failing for both.
      fs.writeFileSync(calls, '');
      const firstPush = await world.run(world.production, 'backup-push', world.variant(etc, 'backup.conf', firstConf), { env: { PATH: `${bin}:${PATH_ENV}` } });
      expectFailure(firstPush, PROD_HOST, 'push', new RegExp(`^push failed for no dump yet in ${firstDumps}: backup-dump has not completed its first dump on this machine; see its alert \\(journalctl -u backup-dump\\); the file backup of ${uploads} to storagebox: cannot tell whether`));
      expect(firstPush.stderr).toMatch(/storagebox: the repository cannot be reached \(listing its file snapshots timed out\)/);
      expect(connections()).toBe(1);

      // Once the target answers, the check runs: a dump of this host there holds empty_app's rows, so the first dump refuses.
      world.copyBootstrapped(name);
      const answering = { ...firstConf, storagebox_PORT: world.sftp.port };
      world.pg.sql('empty_app', 'INSERT INTO users VALUES (1)');
      expectSuccess(await world.run(world.production, 'backup-dump', world.variant(etc, 'backup.conf', {
        ...answering, DUMP_DIR: path.join(tmp, 'dumps-unreachable-seeded'), BACKUP_STATE: path.join(tmp, 'state-unreachable-seeded'),
      })), PROD_HOST, 'dump');
      world.pg.sql('empty_app', 'TRUNCATE users');
      expectFailure(await world.run(world.production, 'backup-dump', world.variant(etc, 'backup.conf', answering)), PROD_HOST, 'dump',
        /^refusing to dump: this machine has not dumped before, and its databases \(empty_app\) hold no row, while the newest dump of \S+ on storagebox \(\d{8}T\d{6}Z\) holds 1 rows/);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
      world.pg.sql('postgres', 'DROP DATABASE IF EXISTS empty_app');
    }
  });

  test('a lock whose process still runs is left alone: the check fails and names it', async () => {
    const name = 'repo-live';
    world.copyBootstrapped(name);
    const etc = prodWith(name);
    expectSuccess(await world.run(world.production, 'backup-dump', etc), PROD_HOST, 'dump');
    const held = await holdLock(name, 'shared');
    try {
      expectFailure(await world.run(world.production, 'backup-check', etc), PROD_HOST, 'check', /repository is already locked by PID \d+/);
      expect(locks(name)).toContain(held.lock);
    } finally {
      await killHolder(held);
    }
  });

  // Audit (job overlap): the jobs of a machine take its repositories one at a time, each waiting up to an hour for the
  // others. A dump, a check or a prune can run for hours, and the one that gave up said only "another backup job".
  test('a job that waits past its limit for the repository lock fails naming the job that holds it, which goes on', async () => {
    const name = 'repo-lock-wait';
    world.copyBootstrapped(name);
    const etc = world.productionWith(name, { PG_DATABASES: 'app', LOCK_WAIT_SECONDS: 2 });
    // The dump, stopped while it holds the lock: a job that runs for hours.
    let held: number[] = [];
    const dump = world.run(world.production, 'backup-dump', etc, { onOutput: { when: /step: dumping app/, act: () => {
      held = survivorsOf(etc).map((p) => Number(p.split(' ')[0]));
      for (const pid of held) signal(pid, 'SIGSTOP');
    } } });
    await waitFor(() => held.length > 0, { timeout: Duration.seconds(30), what: 'the dump to hold the lock and be stopped' });
    // Continued children first, then, as long as the dump runs, any of its processes found stopped: a program that stops
    // itself when it sees its child stopped (util-linux's runuser, which runs pg_dump here, can), continued before its
    // child, sees the child still stopped and stops again, for good. The dump hung here once, in a CI run at load 12,
    // until runScript's limit killed it; that is one way it could. A process continued again is logged below.
    const stoppedAgain = new Set<string>();
    const continueStopped = () => {
      for (const line of stoppedOf(etc)) {
        stoppedAgain.add(line);
        signal(Number(line.split(' ')[0]), 'SIGCONT');
      }
    };
    // Once the prune has ended, however it ended: the dump continued, and looked at until it ends, whatever the test found.
    const resume = () => {
      for (const pid of [...held].reverse()) signal(pid, 'SIGCONT');
      const continuing = setInterval(continueStopped, 100);
      continuing.unref();
      dump.finally(() => clearInterval(continuing)).catch(() => undefined);
    };
    try {
      const prune = await world.run(world.production, 'backup-prune', etc).finally(resume);
      expectFailure(prune, PROD_HOST, 'prune', new RegExp('^another backup job has held the repository lock for 2 seconds, so backup-prune did nothing: '
        + 'backup-dump \\(pid \\d+\\), since \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\. Fix: see what it does \\(systemctl list-units \'backup-\\*\'; '
        + 'journalctl -u <its unit>\\); when it runs this long on every run, move one of the two schedules away from the other'));
    } catch (e) {
      // The dump still runs: it ends before the suite's world is stopped.
      await dump.catch(() => undefined);
      throw e;
    }
    // The dump it waited for is not disturbed; the prune runs once the lock is free.
    // (Its pings include the prune's, sent while it ran.)
    const dumped = await dump;
    if (stoppedAgain.size > 0) console.log(`continued again after they stopped themselves: ${[...stoppedAgain].join('; ')}`);
    // Its output shown when it failed: a dump that hung here once (killed at runScript's limit) said nothing else.
    expect({ code: dumped.code, stderr: dumped.code === 0 ? '' : dumped.stderr }).toEqual({ code: 0, stderr: '' });
    expect(dumped.pings.map((p) => p.path).filter((p) => p.includes('-dump'))).toEqual([pingPath(PROD_HOST, 'dump', '/start'), pingPath(PROD_HOST, 'dump')]);
    expectSuccess(await world.run(world.production, 'backup-prune', etc), PROD_HOST, 'prune');
  });
});
