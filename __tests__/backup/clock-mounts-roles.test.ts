import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  BackupWorld, expectFailure, expectSuccess, MachineRoot, PATH_ENV, PROD_HOST, RESTIC_PASSWORD, RunResult, runScript, TEST_HOST,
} from './helpers/world';
import { describeWithRealParts, isRoot } from '../setup/real-parts';

// False successes found by the backup audit (a clock ahead at dump time, an unmounted volume, a
// roles dump cut off by a full disk, databases left out of the dump list), each reproduced with
// the exact rendered scripts against a real PostgreSQL 15, restic and OpenSSH, and a real tmpfs
// and ext4 file system. Needs root, as the end-to-end suite does (mount, losetup, runuser).
const describeAsRoot = describeWithRealParts(isRoot, 'the clock, mount and roles suite', 'root (runuser, sshd, mount, losetup)');

describeAsRoot('no success on a wrong clock, a missing volume, a cut-off roles dump or a database left out', () => {
  jest.setTimeout(300_000);
  let tmp: string;
  let world: BackupWorld;

  const prodWith = (name: string, settings: Record<string, string | number> = {}) => world.productionWith(name, { PG_DATABASES: 'app', ...settings });

  /** A directory of programs put first on PATH. */
  const binWith = (name: string, programs: Record<string, string>) => {
    const bin = path.join(tmp, `bin-${name}`);
    fs.mkdirSync(bin, { recursive: true });
    for (const [program, body] of Object.entries(programs)) fs.writeFileSync(path.join(bin, program), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
    return bin;
  };
  /** Runs a rendered script as world.run does, with more environment (another PATH, SOVEREIGN_ROOT). */
  const runWith = (machine: MachineRoot, script: string, etc: string, env: Record<string, string>, args: string[] = []): Promise<RunResult> => {
    if (args.length === 0) return runScript(path.join(machine.root, 'usr/local/sbin', script), world.receiver, { TMPDIR: tmp, SOVEREIGN_BACKUP_ETC: etc, ...env });
    // runScript passes no arguments: a wrapper does.
    const wrapper = path.join(tmp, `run-${script}-${Date.now()}`);
    fs.writeFileSync(wrapper, `#!/bin/bash\nexec '${path.join(machine.root, 'usr/local/sbin', script)}' ${args.map((a) => `'${a}'`).join(' ')}\n`, { mode: 0o755 });
    return runScript(wrapper, world.receiver, { TMPDIR: tmp, SOVEREIGN_BACKUP_ETC: etc, ...env });
  };
  /** The snapshots of a repository on the Storage Box with a tag, read by restic directly. */
  const snapshots = (repo: string, tag: string): Array<{ id: string; time: string; paths: string[] }> => JSON.parse(execFileSync('restic',
    ['-r', path.join(world.sftp.home, repo), '--no-lock', '--no-cache', 'snapshots', '--json', '--tag', tag], { encoding: 'utf8', env: { ...process.env, RESTIC_PASSWORD } }));

  /**
   * Records the newest dump's manifest of a repository on the Storage Box again, one second newer (restic's latest),
   * after `change` edited its files (in the dump's directory, which it may rename: it returns the new name, if any).
   * Returns the dump's time the new manifest names.
   */
  const recordManifestAgain = (repo: string, change: (dir: string) => string | void): string => {
    const restic = (args: string[], input?: Buffer) => execFileSync('restic', ['-r', path.join(world.sftp.home, repo), '--no-cache', ...args],
      { input, env: { ...process.env, RESTIC_PASSWORD, TZ: 'UTC' }, maxBuffer: 64 * 1024 * 1024 });
    const [manifest] = snapshots(repo, 'sovereign-dump');
    const work = fs.mkdtempSync(path.join(tmp, `manifest-${repo}-`));
    fs.writeFileSync(path.join(work, 'manifest.tar'), restic(['dump', manifest.id, '/sovereign-dump/manifest.tar']));
    execFileSync('tar', ['-xf', path.join(work, 'manifest.tar'), '-C', work]);
    const [stamp] = fs.readdirSync(work).filter((d) => /Z$/.test(d));
    const renamed = change(path.join(work, stamp)) || stamp;
    if (renamed !== stamp) fs.renameSync(path.join(work, stamp), path.join(work, renamed));
    const tar = execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '-C', work, '-cf', '-', renamed]);
    const time = new Date(Date.parse(manifest.time) + 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
    restic(['backup', '--stdin', '--stdin-filename', 'sovereign-dump/manifest.tar', '--host', PROD_HOST,
      '--tag', 'sovereign-dump', '--tag', `dump-${renamed}`, '--time', time], tar);
    return renamed;
  };

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'backup-clock-'));
    world = await BackupWorld.start(tmp);
    world.pg.sql('postgres', 'CREATE DATABASE app');
    world.pg.sql('app', `CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL);
      INSERT INTO users SELECT g, 'user ' || g FROM generate_series(1, 1000) g;
      CREATE TABLE orders (id int PRIMARY KEY, user_id int NOT NULL REFERENCES users, body text);
      INSERT INTO orders SELECT g, 1 + g % 1000, md5(g::text) FROM generate_series(1, 2000) g;`);
    const bootstrap = await world.run(world.production, 'backup-bootstrap', prodWith('repo-bootstrapped'));
    if (bootstrap.code !== 0) throw new Error(bootstrap.stderr);
  });

  afterAll(async () => {
    await world?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('a dump taken while the clock ran 400 days ahead fails the push, the check, the drill and an unattended restore', async () => {
    const name = 'repo-future';
    const etc = prodWith(name);
    world.copyBootstrapped(name);
    expectSuccess(await world.run(world.production, 'backup-dump', etc), PROD_HOST, 'dump');
    // The clock is 400 days fast for the next dump only (date is what the scripts read the time with).
    const fast = binWith('fast-clock', {
      date: 'for a in "$@"; do case $a in -d*|--date*) exec /usr/bin/date "$@";; esac; done\nexec /usr/bin/date -d "@$(( $(/usr/bin/date +%s) + 400 * 86400 ))" "$@"',
    });
    const future = await runWith(world.production, 'backup-dump', etc, { PATH: `${fast}:${PATH_ENV}` });
    expectSuccess(future, PROD_HOST, 'dump');
    const stamp = /dumped app into \S+\/(\d{8}T\d{6}Z)/.exec(future.pings[1].body)![1];
    expect(Number(stamp.slice(0, 4))).toBeGreaterThan(new Date().getUTCFullYear());

    expectFailure(await world.run(world.production, 'backup-push', etc), PROD_HOST, 'push',
      new RegExp(`the newest dump \\(${stamp}\\) is dated in the future[\\s\\S]*Fix: check this machine's clock`));
    expectFailure(await world.run(world.production, 'backup-check', etc), PROD_HOST, 'check',
      /check failed for storagebox: the newest sovereign-dump snapshot \w{8} is dated in the future/);
    const drillEtc = world.variant(world.test.etc, 'drill.conf', { source_REPO_PATH: name, DRILL_KEEP_DATABASES: 0 });
    expectFailure(await world.run(world.test, 'restore-drill', drillEtc), TEST_HOST, 'restore-drill',
      new RegExp(`the newest backup of ${PROD_HOST} on source \\(stream snapshot [0-9a-f]{8}\\) holds a dump dated in the future \\(${stamp}\\)`));
    // A restore by hand pings nothing: its outcome is its exit code and its output.
    const restore = await world.run(world.production, 'backup-restore', etc);
    expect(restore.code).not.toBe(0);
    expect(restore.stderr).toMatch(new RegExp(`the newest dump of ${PROD_HOST} on storagebox \\(${stamp}, stream snapshot [0-9a-f]{8}\\) is dated in the future[\\s\\S]*pass --snapshot`));
    expect(restore.pings).toEqual([]);
  });

  // Audit (day 2): a manifest whose dump time is no time (a damaged or forged one) passed the pattern check, and its
  // age was counted from 1970: the drill reported "a dump taken 494000 hours ago: backups are not arriving", and a
  // restore, which refuses a newest dump dated ahead, took it for an old one and went on.
  test("a manifest whose dump's time is no time fails the drill and the restore, naming the snapshot and the value", async () => {
    const name = 'repo-no-time';
    const etc = prodWith(name);
    world.copyBootstrapped(name);
    expectSuccess(await world.run(world.production, 'backup-dump', etc), PROD_HOST, 'dump');
    recordManifestAgain(name, () => '20261340T250000Z');
    const no = "names its dump's time as '20261340T250000Z', which is not a time: backup-dump names each dump by the UTC time it took it";
    const drillEtc = world.variant(world.test.etc, 'drill.conf', { source_REPO_PATH: name, DRILL_KEEP_DATABASES: 0 });
    expectFailure(await world.run(world.test, 'restore-drill', drillEtc), TEST_HOST, 'restore-drill',
      new RegExp(`the manifest of the newest backup of ${PROD_HOST} on source \\(stream snapshot [0-9a-f]{8}\\) ${no}[\\s\\S]*failed step: fetching the newest backup's manifest`));
    const restore = await world.run(world.production, 'backup-restore', etc);
    expect(restore.code).not.toBe(0);
    expect(restore.stderr).toMatch(new RegExp(`FAILED: the manifest of the newest dump of ${PROD_HOST} on storagebox \\(stream snapshot [0-9a-f]{8}\\) ${no}`));
    expect(restore.stderr).not.toMatch(/OK: restored/);
  });

  // docs/backup.md: backup-restore "pings no heartbeat". A failure while it read backup.conf (here the server's client
  // programs missing) came after the configuration had named the jobs' heartbeat, and pinged <host>-restore/fail: a
  // check no team creates, with the log as its body.
  test('backup-restore pings no heartbeat, also when it fails reading its configuration', async () => {
    const etc = world.variant(world.production.etc, 'backup.conf', { PG_BIN: path.join(tmp, 'no-such-major', 'bin') });
    const restore = await world.run(world.production, 'backup-restore', etc);
    expect(restore.code).not.toBe(0);
    expect(restore.stderr).toMatch(/PostgreSQL's client programs are not in \S+no-such-major\/bin/);
    expect(restore.pings).toEqual([]);
  });

  test('backup-dump refuses to run while timedatectl says the clock is not synchronized', async () => {
    const etc = prodWith('repo-unsynced');
    world.copyBootstrapped('repo-unsynced');
    const unsynced = binWith('unsynced', { timedatectl: '[ "$*" = "show -p NTPSynchronized --value" ] && echo no' });
    const dump = await runWith(world.production, 'backup-dump', etc, { PATH: `${unsynced}:${PATH_ENV}` });
    expectFailure(dump, PROD_HOST, 'dump', /the system clock is not synchronized \(timedatectl: NTPSynchronized=no\)[\s\S]*Fix: make time synchronization work/);
    expect(fs.existsSync(path.join(tmp, 'dumps-repo-unsynced')) ? fs.readdirSync(path.join(tmp, 'dumps-repo-unsynced')) : []).toEqual([]);
    // Where timedatectl answers yes the dump runs; where it cannot tell (no systemd, as here), the log says so.
    const synced = binWith('synced', { timedatectl: '[ "$*" = "show -p NTPSynchronized --value" ] && echo yes' });
    expectSuccess(await runWith(world.production, 'backup-dump', etc, { PATH: `${synced}:${PATH_ENV}` }), PROD_HOST, 'dump');
    const unknown = await world.run(world.production, 'backup-dump', etc);
    expectSuccess(unknown, PROD_HOST, 'dump');
    expect(unknown.stderr).toMatch(/cannot tell whether the clock is synchronized \(timedatectl: .+\); dumping anyway/);
  });

  test('a volume that is not mounted fails the file backup instead of recording an empty snapshot', async () => {
    const name = 'repo-volume';
    world.copyBootstrapped(name);
    const volume = path.join(tmp, 'volume');
    const root = path.join(tmp, 'volume-root');
    fs.mkdirSync(volume, { recursive: true });
    fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
    // As DataVolume writes it: the volume by its stable name, nofail.
    fs.writeFileSync(path.join(root, 'etc/fstab'), `# <file system> <mount point> <type> <options> <dump> <pass>\n/dev/disk/by-id/scsi-0HC_Volume_1 ${volume} ext4 discard,nofail,defaults 0 2\n`);
    const etc = prodWith(name, { DUMP_DIR: '', FILE_PATHS: volume, TAGS: 'sovereign-files' });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', volume]);
    try {
      for (let i = 0; i < 3; i++) fs.writeFileSync(path.join(volume, `upload-${i}.bin`), `file ${i}\n`.repeat(1000));
      expectSuccess(await runWith(world.production, 'backup-push', etc, { SOVEREIGN_ROOT: root }), PROD_HOST, 'push');
    } finally {
      execFileSync('umount', [volume]);
    }
    expect(snapshots(name, 'sovereign-files')).toHaveLength(1);
    // The volume is gone (detached, or its mount failed at boot): an empty directory is left.
    expect(fs.readdirSync(volume)).toEqual([]);
    expectFailure(await runWith(world.production, 'backup-push', etc, { SOVEREIGN_ROOT: root }), PROD_HOST, 'push',
      new RegExp(`push failed for the file backup of ${volume}: /etc/fstab mounts ${volume}, which is not mounted[\\s\\S]*Fix: attach the volume and mount it`));
    expect(snapshots(name, 'sovereign-files')).toHaveLength(1);
  });

  // Audit (fifth pass): restic 0.14 skips a backup path that does not exist ("does not exist, skipping") and exits 0.
  // A plan path missing on the machine (renamed, removed, a volume mounted elsewhere) was reported pushed, and its record
  // named it, while no snapshot held it: found only when a restore after a loss had nothing of it.
  test('a file path missing on the machine fails the push, naming it; the paths that exist are backed up', async () => {
    const name = 'repo-missing-path';
    world.copyBootstrapped(name);
    const kept = path.join(tmp, 'kept-uploads');
    const gone = path.join(tmp, 'renamed-exports');
    fs.mkdirSync(kept, { recursive: true });
    fs.writeFileSync(path.join(kept, 'invoice.pdf'), 'invoice 1\n');
    const etc = prodWith(name, { DUMP_DIR: '', FILE_PATHS: `${kept} ${gone}` });
    const push = await world.run(world.production, 'backup-push', etc);
    expectFailure(push, PROD_HOST, 'push', new RegExp(`push failed for the file backup of ${gone}: no such path on this machine, so nothing of it was backed up \\(restic skips it without failing; the other paths were\\)\\. Fix: find where its files went`));
    const [files] = snapshots(name, 'sovereign-files');
    expect(files.paths).toEqual([kept]);
    // Its record names the paths the snapshot holds, not those of the plan.
    const record = execFileSync('restic', ['-r', path.join(world.sftp.home, name), '--no-lock', '--no-cache', 'dump', 'latest', '/sovereign-files/record', '--tag', 'sovereign-files-record'],
      { encoding: 'utf8', env: { ...process.env, RESTIC_PASSWORD } });
    expect(record).toMatch(new RegExp(`^snapshot ${files.id.slice(0, 8)}\nfiles 1\nbytes 10\npaths ${kept}\n$`));
  });

  test('a roles dump cut off by a nearly full disk is never reported as a success', async () => {
    const name = 'repo-full-disk';
    world.copyBootstrapped(name);
    const image = path.join(tmp, 'small.ext4');
    const dumps = path.join(tmp, 'small-disk');
    // 64 MB of ext4 with 5% reserved for root: the dump's other files are written by root.
    execFileSync('truncate', ['-s', '64M', image]);
    execFileSync('mkfs.ext4', ['-q', '-F', '-m', '5', image]);
    fs.mkdirSync(dumps, { recursive: true });
    execFileSync('mount', ['-o', 'loop', image, dumps]);
    try {
      // Fill what anyone but root may use.
      const avail = () => Number(execFileSync('df', ['--output=avail', '-B1', dumps], { encoding: 'utf8' }).split('\n')[1].trim());
      execFileSync('fallocate', ['-l', String(avail()), path.join(dumps, 'filler')]);
      for (let i = 0; avail() > 0 && i < 20; i++) execFileSync('fallocate', ['-l', String(avail()), path.join(dumps, `filler-${i}`)]);
      expect(avail()).toBe(0);
      // No reserve for restic's packs (backup-dump's DUMP_RESERVE_MB): the dump's files go into root's reserved blocks.
      const etc = prodWith(name, { DUMP_DIR: path.join(dumps, 'postgresql'), DUMP_RESERVE_MB: 0 });
      const dump = await world.run(world.production, 'backup-dump', etc);
      if (dump.code === 0) {
        // Written in full, or not at all.
        const [stamp] = fs.readdirSync(path.join(dumps, 'postgresql')).filter((d) => /Z$/.test(d));
        expect(fs.readFileSync(path.join(dumps, 'postgresql', stamp, 'globals.sql'), 'utf8')).toMatch(/^-- PostgreSQL database cluster dump complete$/m);
      } else {
        expectFailure(dump, PROD_HOST, 'dump', /roles/);
      }
    } finally {
      execFileSync('umount', [dumps]);
    }
  });

  test('a drill of a backup whose roles dump is cut off fails: a restore of it could not create the owners', async () => {
    const name = 'repo-cut-roles';
    world.copyBootstrapped(name);
    const etc = prodWith(name);
    expectSuccess(await world.run(world.production, 'backup-dump', etc), PROD_HOST, 'dump');
    // What an older backup-dump recorded on a full disk: the manifest of the same dump with an empty
    // globals.sql, its checksum matching.
    const stamp = recordManifestAgain(name, (dir) => {
      fs.writeFileSync(path.join(dir, 'globals.sql'), '');
      const sums = fs.readFileSync(path.join(dir, 'SHA256SUMS'), 'utf8')
        .replace(/^\w{64}(  globals\.sql)$/m, 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855$1');
      fs.writeFileSync(path.join(dir, 'SHA256SUMS'), sums);
    });
    const drillEtc = world.variant(world.test.etc, 'drill.conf', { source_REPO_PATH: name, DRILL_KEEP_DATABASES: 0 });
    expectFailure(await world.run(world.test, 'restore-drill', drillEtc), TEST_HOST, 'restore-drill',
      new RegExp(`the roles of dump ${stamp} \\(globals\\.sql\\) are empty or cut off`));
  });

  test('a database that allows no connections fails the dump unless the databases are named; a template database is dumped', async () => {
    const name = 'repo-closed-db';
    world.copyBootstrapped(name);
    world.pg.sql('postgres', 'CREATE DATABASE billing');
    world.pg.sql('billing', 'CREATE TABLE invoices (id int PRIMARY KEY); INSERT INTO invoices SELECT generate_series(1, 500)');
    try {
      world.pg.sql('postgres', 'ALTER DATABASE billing ALLOW_CONNECTIONS false');
      expectFailure(await world.run(world.production, 'backup-dump', prodWith(name, { PG_DATABASES: '' })), PROD_HOST, 'dump',
        /database\(s\) billing allow no connections, so pg_dump cannot dump them[\s\S]*Fix: allow connections \(ALTER DATABASE <name> ALLOW_CONNECTIONS true\), or leave them out on purpose by naming the databases/);
      // Named on purpose: the other databases are dumped.
      expectSuccess(await world.run(world.production, 'backup-dump', prodWith(name, { PG_DATABASES: 'app postgres' })), PROD_HOST, 'dump');

      world.pg.sql('postgres', 'ALTER DATABASE billing ALLOW_CONNECTIONS true');
      world.pg.sql('postgres', 'ALTER DATABASE billing IS_TEMPLATE true');
      const dump = await world.run(world.production, 'backup-dump', prodWith(name, { PG_DATABASES: '' }));
      expectSuccess(dump, PROD_HOST, 'dump');
      expect(dump.pings[1].body).toMatch(/dumped app billing postgres into/);
    } finally {
      world.pg.sql('postgres', 'ALTER DATABASE billing IS_TEMPLATE false ALLOW_CONNECTIONS true');
      world.pg.sql('postgres', 'DROP DATABASE billing');
    }
  });
});
