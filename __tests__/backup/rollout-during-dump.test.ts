import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Duration } from '../../lib';
import { BackupWorld, b64, expectSuccess, holdLockFile, pingPath, PROD_HOST, RESTIC_PASSWORD } from './helpers/world';
import { describeWithRealParts, isRoot } from '../setup/real-parts';
import { openFiles } from '../../testing/harness/processes';
import { waitFor } from '../../testing/harness/wait';

// Audit (job overlap): a deploy that changes the restic password replaces the password file on the machine while a
// dump may be running (the rollout agent writes each file and renames it into place), and backup-rotate-keys adds the
// new password to the repository only once the dump let go of the repository lock. The dump's restic calls after the
// switch (the read-back of the snapshots it had just written) opened the repository with the new password, which it
// did not know yet: the dump failed, and that day's backup with it. The rendered jobs, real restic over a real OpenSSH
// SFTP server, real PostgreSQL.
const describeAsRoot = describeWithRealParts(isRoot, 'the rollout-during-dump suite', 'root (runuser, sshd)');

describeAsRoot('a rollout that changes the restic password while a dump runs', () => {
  jest.setTimeout(240_000);
  let tmp: string;
  let world: BackupWorld;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rollout-during-dump-'));
    world = await BackupWorld.start(tmp);
    world.pg.sql('postgres', 'CREATE DATABASE app');
    world.pg.sql('app', `CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL);
      INSERT INTO users SELECT g, 'user ' || g FROM generate_series(1, 1000) g;`);
    await world.bootstrapForCopies();
  });

  afterAll(async () => {
    await world?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('the dump finishes with the password it started with, and reads its snapshots back', async () => {
    world.copyBootstrapped('repo-rotating');
    const etc = world.productionWith('repo-rotating', { PG_DATABASES: 'app' });
    const secret = path.join(etc, 'secrets', 'storagebox.restic.b64');
    const dump = await world.run(world.production, 'backup-dump', etc, { onOutput: { when: /step: dumping app/, act: () => {
      // As the rollout agent switches a file: written beside it, then renamed over it.
      fs.writeFileSync(`${secret}.new`, b64('the password of the next deploy 9%'), { mode: 0o600 });
      fs.renameSync(`${secret}.new`, secret);
    } } });
    expect(fs.readFileSync(secret, 'utf8')).toBe(b64('the password of the next deploy 9%'));
    expectSuccess(dump, PROD_HOST, 'dump');
    expect(dump.pings[1].body).toMatch(/verified, streamed to storagebox and read back/);
    // Nothing of the run is left.
    expect(fs.readdirSync(path.join(tmp, 'production-state')).filter((f) => f.startsWith('cache-run.'))).toEqual([]);
  });

  // The other order: the job opened its password, then waited for the lock, and the rotation the deploy started took the
  // lock first and removed that password from the repository. The job's restic calls all failed ("wrong password").
  test('a job that waited for the lock while the deploy rotated the password opens the repository with the new one', async () => {
    world.copyBootstrapped('repo-waited');
    const etc = world.productionWith('repo-waited', { PG_DATABASES: 'app' });
    const state = path.join(tmp, 'production-state');
    fs.mkdirSync(state, { recursive: true });
    const lock = path.join(state, 'repository.lock');
    const release = await holdLockFile(lock);
    // A job waits in `flock -w <seconds> 9` on this lock file (other suites' jobs may wait on theirs meanwhile).
    const lockWaits = () => spawnSync('pgrep', ['-f', '^flock -w [0-9]+ 9$'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).some((pid) =>
      openFiles(Number(pid)).some((f) => f.fd === '9' && f.target === lock));
    try {
      const dump = world.run(world.production, 'backup-dump', etc);
      await waitFor(lockWaits, { timeout: Duration.seconds(30), what: `the dump to wait for ${lock}` });
      // What the deploy does meanwhile: the new password file renamed into place, then the rotation (here by restic
      // itself, on the Storage Box's directory): the new password added, the one the job opened removed.
      const next = 'the password of the next deploy 10%';
      const secret = path.join(etc, 'secrets', 'storagebox.restic.b64');
      fs.writeFileSync(`${secret}.new`, b64(next), { mode: 0o600 });
      fs.renameSync(`${secret}.new`, secret);
      const repository = path.join(world.sftp.home, 'repo-waited');
      const restic = (password: string, ...args: string[]) => execFileSync('restic', ['--no-cache', '-r', repository, ...args],
        { env: { PATH: process.env.PATH, RESTIC_PASSWORD: password }, encoding: 'utf8' });
      const newPasswordFile = path.join(tmp, 'next-password');
      fs.writeFileSync(newPasswordFile, next, { mode: 0o600 });
      const before = JSON.parse(restic(RESTIC_PASSWORD, 'key', 'list', '--json')) as Array<{ id: string; current: boolean }>;
      restic(RESTIC_PASSWORD, 'key', 'add', '--new-password-file', newPasswordFile);
      restic(next, 'key', 'remove', before.find((k) => k.current)!.id);
      expect(() => restic(RESTIC_PASSWORD, 'cat', 'config')).toThrow();
      await release();
      const result = await dump;
      expectSuccess(result, PROD_HOST, 'dump');
      expect(result.pings[1].body).toMatch(/verified, streamed to storagebox and read back/);
      expect(result.stderr).toMatch(/storagebox: the restic password was replaced while this job waited for the repository lock, and the repository was rotated to the new one meanwhile: using the new one/);
    } finally {
      await release();
    }
  });

  // Every job's start removes run directories older than a day, as left by killed jobs: a run that lasts longer (a drill
  // of several copies, a run by hand) must not lose its passwords with them (a copy kept there did).
  test("a job's start leaves the run directory of a job still going alone, however old", async () => {
    world.copyBootstrapped('repo-cleared');
    const etc = world.productionWith('repo-cleared', { PG_DATABASES: 'app' });
    const state = path.join(tmp, 'production-state');
    let aged = false;
    // The dump waits in pg_dump for the table while the other job starts: a small database dumps in well under a
    // second, which a check started on its step's output could miss.
    const release = await world.pg.holdTable('app', 'users');
    const dump = world.run(world.production, 'backup-dump', etc, { onOutput: { when: /step: dumping app/, act: () => {
      // The dump's run directory, as it is a day and more into a long run.
      const old = new Date(Date.now() - 2 * 86400_000);
      for (const dir of fs.readdirSync(state).filter((f) => f.startsWith('cache-run.'))) fs.utimesSync(path.join(state, dir), old, old);
      aged = true;
    } } });
    try {
      await waitFor(() => aged, { timeout: Duration.seconds(30), what: "the dump's run directory aged" });
      // Another job starts meanwhile (it clears stale run directories, then waits for the repository lock in vain).
      const check = await world.run(world.production, 'backup-check', world.productionWith('repo-cleared', { LOCK_WAIT_SECONDS: 1 }));
      expect(check.stderr).toMatch(/another backup job has held the repository lock for 1 seconds, so backup-check did nothing: backup-dump/);
    } finally {
      release();
    }
    const dumped = await dump;
    if (dumped.code !== 0) throw new Error(`dump failed (exit ${dumped.code}):\n${dumped.stderr}`);
    expect(dumped.pings.map((p) => p.path).filter((p) => p.includes('-dump'))).toEqual([pingPath(PROD_HOST, 'dump', '/start'), pingPath(PROD_HOST, 'dump')]);
    // Once it ended, its directory went.
    expect(fs.readdirSync(state).filter((f) => f.startsWith('cache-run.'))).toEqual([]);
  });
});
