import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BackupWorld, b64, expectSuccess, pingPath, PROD_HOST } from './helpers/world';
import { describeWithRealParts, isRoot } from '../setup/real-parts';

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
    const bootstrap = await world.run(world.production, 'backup-bootstrap', world.productionWith('repo-bootstrapped'));
    if (bootstrap.code !== 0) throw new Error(bootstrap.stderr);
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

  // Every job's start removes run directories older than a day, as left by killed jobs: a run that lasts longer (a drill
  // of several copies, a run by hand) must not lose its passwords with them (a copy kept there did).
  test("a job's start leaves the run directory of a job still going alone, however old", async () => {
    world.copyBootstrapped('repo-cleared');
    const etc = world.productionWith('repo-cleared', { PG_DATABASES: 'app' });
    const state = path.join(tmp, 'production-state');
    let aged = false;
    const dump = world.run(world.production, 'backup-dump', etc, { onOutput: { when: /step: dumping app/, act: () => {
      // The dump's run directory, as it is a day and more into a long run.
      const old = new Date(Date.now() - 2 * 86400_000);
      for (const dir of fs.readdirSync(state).filter((f) => f.startsWith('cache-run.'))) fs.utimesSync(path.join(state, dir), old, old);
      aged = true;
    } } });
    for (let i = 0; i < 600 && !aged; i++) await new Promise((r) => setTimeout(r, 50));
    expect(aged).toBe(true);
    // Another job starts meanwhile (it clears stale run directories, then waits for the repository lock in vain).
    const check = await world.run(world.production, 'backup-check', world.productionWith('repo-cleared', { LOCK_WAIT_SECONDS: 1 }));
    expect(check.stderr).toMatch(/another backup job has held the repository lock for 1 seconds, so backup-check did nothing: backup-dump/);
    const dumped = await dump;
    if (dumped.code !== 0) throw new Error(`dump failed (exit ${dumped.code}):\n${dumped.stderr}`);
    expect(dumped.pings.map((p) => p.path).filter((p) => p.includes('-dump'))).toEqual([pingPath(PROD_HOST, 'dump', '/start'), pingPath(PROD_HOST, 'dump')]);
    // Once it ended, its directory went.
    expect(fs.readdirSync(state).filter((f) => f.startsWith('cache-run.'))).toEqual([]);
  });
});
