import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BackupWorld, expectFailure, expectSuccess, PATH_ENV, PROD_HOST, runScript } from './helpers/world';
import { describeWithRealParts, isRoot } from '../setup/real-parts';

// Audit (full disks): the dump's fan-out writes each database's checksum into the run's directory in TMPDIR. When
// TMPDIR's disk filled during the dump, that write failed at close, which Python ignored: the job then failed on an
// empty checksum file with "read -r sum bytes copy … exited with 1", which names neither the disk nor the fix. The
// exact rendered backup-dump, real PostgreSQL 15, restic and OpenSSH, with TMPDIR on a small tmpfs (root: mount).
const describeAsRoot = describeWithRealParts(isRoot, 'the dump TMPDIR suite', 'root (mount, runuser, sshd)');

describeAsRoot('a TMPDIR that fills during the dump', () => {
  jest.setTimeout(180_000);
  let tmp: string;
  let world: BackupWorld;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'backup-dump-tmpdir-'));
    world = await BackupWorld.start(tmp);
    world.pg.sql('postgres', 'CREATE DATABASE analytics');
    world.pg.sql('analytics', "CREATE TABLE events (at timestamptz, kind text); INSERT INTO events SELECT now(), 'view' FROM generate_series(1, 50) g");
  });

  afterAll(async () => {
    await world?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** backup-dump of production's `etc` with TMPDIR at `tmpdir` (BackupWorld.run keeps the suite's own). */
  const dumpWithTmpdir = (etc: string, tmpdir: string, onDump?: () => void) => runScript(path.join(world.production.root, 'usr/local/sbin/backup-dump'),
    world.receiver, { TMPDIR: tmpdir, SOVEREIGN_BACKUP_ETC: etc },
    onDump ? { onOutput: { when: /step: dumping analytics/, act: onDump } } : {});

  test('backup-dump fails naming TMPDIR, its disk and its free space, and the fix', async () => {
    const etc = world.productionWith('repo-tmpdir', { PG_DATABASES: 'analytics' });
    const bootstrap = await world.run(world.production, 'backup-bootstrap', etc);
    if (bootstrap.code !== 0) throw new Error(bootstrap.stderr);
    const tmpdir = world.smallDisk('tmpdir', 8 * 1024 * 1024);
    // With room, the same dump through the same small TMPDIR succeeds: the disk's size alone is no cause.
    expectSuccess(await dumpWithTmpdir(etc, tmpdir), PROD_HOST, 'dump');

    // Something else fills the disk once the database's dump has started: the fan-out's checksum no longer fits. The
    // table is held until the disk is full, so pg_dump writes nothing before: a 50-row dump that won the race against
    // the filler had its checksum written, and the job failed at a later write instead (CI, under load).
    const release = await world.pg.holdTable('analytics', 'events');
    let full: Awaited<ReturnType<typeof dumpWithTmpdir>>;
    try {
      full = await dumpWithTmpdir(etc, tmpdir, () => { try { BackupWorld.fillDisk(tmpdir, 0); } finally { release(); } });
    } finally {
      // A job that fails before 'dumping analytics' never calls the callback: the lock's session ends here.
      release();
    }
    expectFailure(full, PROD_HOST, 'dump', new RegExp(`writing the checksum of the dump of analytics into ${tmpdir}/sovereign-backup-run\\.\\w+ \\(TMPDIR\\) failed: `
      + `No space left on device\\. TMPDIR's disk \\(${tmpdir}\\) has \\d+ inodes and 0 MiB free; .*`
      + `Fix: free space on that disk \\(df -h ${tmpdir}\\), or give the job a TMPDIR on a larger disk, then run backup-dump again`));
    expect(full.stderr).not.toMatch(/read -r sum bytes copy/);
  });

  // Audit (eighth pass, second review): a failed write of SHA256SUMS was reported as a full TMPDIR ("free space on that
  // disk"), with no error, whatever the cause. A sha256sum that cannot read globals.sql (an I/O error): the job quotes it.
  test('a checksum write that fails for another cause than space names the error, not the disk', async () => {
    const etc = world.productionWith('repo-sums', { PG_DATABASES: 'analytics' });
    const bootstrap = await world.run(world.production, 'backup-bootstrap', etc);
    if (bootstrap.code !== 0) throw new Error(bootstrap.stderr);
    const bin = path.join(tmp, 'bin-sha256sum-eio');
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, 'sha256sum'), `#!/bin/bash
case " $* " in *" globals.sql "*) echo 'sha256sum: globals.sql: Input/output error' >&2; exit 1 ;; esac
exec /usr/bin/sha256sum "$@"
`, { mode: 0o755 });
    const failed = await world.run(world.production, 'backup-dump', etc, { env: { PATH: `${bin}:${PATH_ENV}` } });
    expectFailure(failed, PROD_HOST, 'dump', /^writing the checksums \(SHA256SUMS\) into \S+ failed: sha256sum: globals\.sql: Input\/output error$/m);
    expect(failed.pings[failed.pings.length - 1].body.split('\n')[0]).not.toMatch(/TMPDIR's disk|free space/);
  });
});
