import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BackupWorld, b64, expectSuccess, PROD_HOST } from './helpers/world';
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
    // The run's copy of the passwords went with it.
    expect(fs.readdirSync(path.join(tmp, 'production-state')).filter((f) => f.startsWith('cache-run.'))).toEqual([]);
  });
});
