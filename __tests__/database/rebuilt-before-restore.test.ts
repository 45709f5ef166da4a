import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { execFileSync } from 'child_process';
import { cheapenRepositoryKeys } from '../backup/helpers/restic-key';
import { fingerprint, LabMachine, PILOT, RecoveryLab, RESTIC_PASSWORD } from './helpers/recovery-lab';
import { PG_BIN } from '../../testing/postgres-cluster';
import { NamespacePair } from './helpers/netns';
import { describeWithRealParts } from '../setup/real-parts';

// Production is lost and rebuilt (docs/backup.md, "backup-restore"): the deploy rolls the bundle out to the new
// server, whose setup creates an empty app database, and enables the backup timers. The operator restores later;
// a scheduled dump that fires in between (Phase 1 daily at 03:00, Phase 2 every 6 hours) used to dump the empty
// database and push it as the newest backup, which `backup-restore` (and the drill) then took: the restore gave
// back an empty database and reported success.
const ready = fs.existsSync(`${PG_BIN}/postgres`) && fs.existsSync('/usr/bin/restic') && fs.existsSync('/usr/sbin/sshd') && NamespacePair.available();
const describeReal = describeWithRealParts(ready, 'the rebuilt-before-restore suite', 'root, ip netns, PostgreSQL 15, restic and OpenSSH');

/** The dump manifests of production's host on the Storage Box lab. */
function manifests(lab: RecoveryLab): string[] {
  const out = execFileSync('restic', ['-r', path.join(lab.box.home, 'restic'), '--no-cache', 'snapshots', '--json',
    '--host', PILOT.productionServer, '--tag', 'sovereign-dump'], { env: { ...process.env, RESTIC_PASSWORD }, encoding: 'utf8' });
  return (JSON.parse(out) ?? []).map((s: { id: string }) => s.id);
}

describeReal('a rebuilt production machine before its restore', () => {
  jest.setTimeout(240_000);
  let tmp: string;
  let lab: RecoveryLab;
  let production: LabMachine;
  let rebuilt: LabMachine;
  let before: string;
  let history: string[];

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'db-rebuilt-'));
    lab = await RecoveryLab.start(tmp);
    production = lab.productionMachine();
    production.configurePostgres();
    production.asApp(`
      CREATE TABLE tenants (id int PRIMARY KEY, name text NOT NULL);
      INSERT INTO tenants SELECT g, 'tenant ' || g FROM generate_series(1, 250) g;`);
    before = fingerprint(production, 'app');
    const bootstrap = await production.run('backup-bootstrap');
    if (bootstrap.code !== 0) throw new Error(bootstrap.stderr);
    cheapenRepositoryKeys(path.join(lab.box.home, 'restic'), RESTIC_PASSWORD);
    const dump = await production.run('backup-dump');
    if (dump.code !== 0) throw new Error(dump.stderr);
    history = manifests(lab);
    expect(history).toHaveLength(1);
    production.destroy({ wipe: true });
    // The new server: the rollout's setup created the app role and an empty app database, and the bootstrap ran.
    rebuilt = lab.productionMachine('rebuilt-production');
    rebuilt.configurePostgres();
    const again = await rebuilt.run('backup-bootstrap');
    if (again.code !== 0) throw new Error(again.stderr);
  });

  afterAll(async () => {
    production?.destroy();
    rebuilt?.destroy();
    await lab?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('the scheduled dump refuses to record the empty database as the newest backup, and says to restore first', async () => {
    const dump = await rebuilt.run('backup-dump');
    expect(dump.code).not.toBe(0);
    expect(dump.stderr).toMatch(/refusing to dump: this machine has not dumped before, and its databases \(app postgres\) hold no row, while the newest dump of phase1-pilot-production-app on storagebox \(\d{8}T\d{6}Z\) holds 250 rows/);
    expect(dump.stderr).toMatch(/Fix: restore it first with backup-restore, as docs\/backup\.md, section Restoring by hand, of cdktf-sovereign-hetzner \(node_modules\/cdktf-sovereign-hetzner\/docs\/backup\.md in your IaC repo, [\s\S]*backup-dump --start-empty once/);
    expect(dump.stderr).toMatch(/failed step: checking that this machine's databases are not an unrestored rebuild/);
    expect(dump.pings.map((p) => p.path)).toContain(`/ping/test-ping-key/${PILOT.productionServer}-dump/fail`);
    // Nothing reached the Storage Box, and no local copy was kept.
    expect(manifests(lab)).toEqual(history);
    expect(fs.readdirSync(path.join(rebuilt.root, 'var/backups/sovereign/postgresql')).filter((n) => /Z$/.test(n))).toEqual([]);
  });

  test("backup-restore then gives back production's data, and the next dump records it", async () => {
    const restore = await rebuilt.run('backup-restore');
    if (restore.code !== 0) throw new Error(restore.stderr);
    expect(restore.stderr).toMatch(/OK: restored app postgres .* 1 tables and 250 rows match/);
    expect(fingerprint(rebuilt, 'app')).toBe(before);
    const dump = await rebuilt.run('backup-dump');
    if (dump.code !== 0) throw new Error(dump.stderr);
    expect(manifests(lab)).toHaveLength(2);
    // The newest backup is the restored data: a second restore (of the newest) matches production's rows.
    const replaced = await rebuilt.run('backup-restore', {}, ['--replace']);
    if (replaced.code !== 0) throw new Error(replaced.stderr);
    expect(replaced.stderr).toMatch(/1 tables and 250 rows match/);
  });

  test('a machine meant to start empty says so once, with --start-empty; later dumps need nothing', async () => {
    rebuilt.superuser('app', 'DROP TABLE tenants');
    fs.rmSync(path.join(rebuilt.root, 'var/lib/sovereign-backup'), { recursive: true, force: true });
    fs.rmSync(path.join(rebuilt.root, 'var/backups/sovereign/postgresql'), { recursive: true, force: true });
    expect((await rebuilt.run('backup-dump')).code).not.toBe(0);
    const started = await rebuilt.run('backup-dump', {}, ['--start-empty']);
    if (started.code !== 0) throw new Error(started.stderr);
    const next = await rebuilt.run('backup-dump');
    if (next.code !== 0) throw new Error(next.stderr);
  });
});
