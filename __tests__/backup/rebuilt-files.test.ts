import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BackupWorld, expectFailure, expectSuccess, MachineRoot, PATH_ENV, PROD_HOST, RESTIC_PASSWORD, RunResult, runScript } from './helpers/world';
import { appWithTwoPaths, filePathsMachine } from './helpers/file-paths-machine';
import { tree } from './helpers/file-tree';
import { raceBehindCheck, StartScript } from './helpers/lock-race';
import { describeWithRealParts, isRoot, testWithRealParts } from '../setup/real-parts';

// The file side of a rebuilt machine (docs/backup.md, "Production is lost"). The new server gets its bundle and the
// backup timers before anyone restores; its paths are empty directories (the app's skeleton, a new volume's
// lost+found). The first push backed them up as they were: the newest file snapshot was the empty tree, the one a
// restore of the newest takes, and the next prune could keep it instead of the one with the files. And nothing
// restored the paths: docs/backup.md covered the databases only. Real restic, OpenSSH on loopback and the rendered
// scripts of a plan that protects two paths besides the databases.
/** restic run under strace's fault injection stands in for a file removed between restic's listing and its lstat. */
const hasStrace = spawnSync('strace', ['-V'], { stdio: 'ignore' }).status === 0;
const describeAsRoot = describeWithRealParts(isRoot, 'the rebuilt-files suite', 'root (runuser, sshd, chown)');

describeAsRoot('a rebuilt machine before its files are restored', () => {
  jest.setTimeout(300_000);
  let tmp: string;
  let world: BackupWorld;
  let uploads: string;
  let exports: string;
  let production: MachineRoot;
  let rebuilt: MachineRoot;
  const before: Record<string, string> = {};
  const repo = 'repo-files';

  /** The file snapshots of production's host on the Storage Box, oldest first, read by restic directly. */
  const fileSnapshots = (): Array<{ id: string; paths: string[] }> => JSON.parse(execFileSync('restic',
    ['-r', path.join(world.sftp.home, repo), '--no-lock', '--no-cache', 'snapshots', '--json', '--host', PROD_HOST, '--tag', 'sovereign-files'],
    { encoding: 'utf8', env: { ...process.env, RESTIC_PASSWORD } })) ?? [];
  const run = (machine: MachineRoot, script: string, args: string[] = []): Promise<RunResult> => world.run(machine, script, machine.etc, { args });
  /** restic on the Storage Box's repository, as an operator runs it. */
  const restic = (args: string[]): string => execFileSync('restic', ['-r', path.join(world.sftp.home, repo), '--no-cache', ...args],
    { encoding: 'utf8', env: { ...process.env, RESTIC_PASSWORD, TZ: 'UTC' } });
  /** A time for restic backup --time, to the second as backup-push gives it, `seconds` ago. */
  const secondsAgo = (seconds: number): string => new Date(Date.now() - seconds * 1000).toISOString().slice(0, 19).replace('T', ' ');
  /** A machine of production's plan with two paths, its key authorized on the Storage Box. */
  const machine = (name: string): MachineRoot => filePathsMachine(world, name, repo, { uploads, exports });
  /** What a redeploy leaves in a path: the app's empty directories and an empty marker file, a new volume's lost+found. */
  const skeleton = (dir: string) => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(path.join(dir, 'lost+found'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'avatars', 'thumbnails'), { recursive: true });
    fs.writeFileSync(path.join(dir, '.keep'), '');
  };

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'backup-files-'));
    world = await BackupWorld.start(tmp);
    ({ uploads, exports } = appWithTwoPaths(world, tmp));
    production = machine('production-files');
    const bootstrap = await run(production, 'backup-bootstrap');
    if (bootstrap.code !== 0) throw new Error(bootstrap.stderr);
  });

  afterAll(async () => {
    await world?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('a new machine whose paths are empty and have no history backs them up as they are', async () => {
    expectSuccess(await run(production, 'backup-dump'), PROD_HOST, 'dump');
    expectSuccess(await run(production, 'backup-push'), PROD_HOST, 'push');
    // The files arrive: uploads of several owners and modes, nested, a binary one, an empty one, a link; an export.
    fs.mkdirSync(path.join(uploads, 'avatars', 'thumbnails'), { recursive: true });
    fs.writeFileSync(path.join(uploads, 'avatars', 'u1.png'), Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251)));
    fs.writeFileSync(path.join(uploads, 'avatars', 'thumbnails', 'u1.png'), 'thumbnail\n'.repeat(50));
    fs.writeFileSync(path.join(uploads, 'contract.pdf'), '%PDF-1.4 contract\n'.repeat(200), { mode: 0o640 });
    fs.writeFileSync(path.join(uploads, 'empty.txt'), '');
    fs.symlinkSync('contract.pdf', path.join(uploads, 'latest.pdf'));
    execFileSync('chown', ['-R', '65534:65534', path.join(uploads, 'avatars')]);
    fs.chmodSync(uploads, 0o750);
    fs.writeFileSync(path.join(exports, 'report-2026-11.csv'), 'month,revenue\n2026-11,1200\n');
    expectSuccess(await run(production, 'backup-push'), PROD_HOST, 'push');
    before.uploads = tree(uploads);
    before.exports = tree(exports);
    expect(fileSnapshots()).toHaveLength(2);
  });

  test("the rebuilt machine's first push refuses to record its empty uploads, names them and the fix, and still sends the dump", async () => {
    // Production is lost; its successor gets the bundle and the same paths. Its database came back (the dump finds
    // rows), and the exports are on a volume that outlived the server; the uploads were on the lost disk.
    skeleton(uploads);
    rebuilt = machine('production-rebuilt');
    const bootstrap = await run(rebuilt, 'backup-bootstrap');
    if (bootstrap.code !== 0) throw new Error(bootstrap.stderr);
    const manifests = () => JSON.parse(execFileSync('restic', ['-r', path.join(world.sftp.home, repo), '--no-lock', '--no-cache', 'snapshots', '--json',
      '--tag', 'sovereign-dump'], { encoding: 'utf8', env: { ...process.env, RESTIC_PASSWORD } })).length;
    const dumps = manifests();
    expectSuccess(await run(rebuilt, 'backup-dump'), PROD_HOST, 'dump');
    expect(manifests()).toBe(dumps + 1);

    const push = await run(rebuilt, 'backup-push');
    expectFailure(push, PROD_HOST, 'push', new RegExp(`refusing to back up the paths, since this machine has not backed them up before and ${uploads} holds no file with content here, `
      + `while the newest snapshot of ${PROD_HOST} that holds it on storagebox \\(\\w{8}, \\d{4}-\\d\\d-\\d\\dT[\\d:]{8} UTC\\) holds 3 files \\([\\d.]+KiB\\)\\. `
      + 'This looks like a rebuilt machine whose files were not restored yet'));
    expect(push.pings.find((p) => p.path.endsWith('/fail'))!.body)
      .toMatch(/Fix: restore them first with backup-restore-files, as docs\/backup\.md, section Restoring by hand, of cdktf-sovereign-hetzner \(node_modules\/cdktf-sovereign-hetzner\/docs\/backup\.md in your IaC repo, or cdktn-sovereign-hetzner under CDK Terrain\) says, then run backup-push again; [\s\S]*run backup-push --start-empty once/);
    // The exports, which hold their files, are not named; nothing of the files was sent, the dump was.
    expect(push.stderr).not.toMatch(new RegExp(`${exports} holds no file`));
    expect(push.stderr).toMatch(/dump \d{8}T\d{6}Z is snapshot \w{8} on storagebox: streamed and read back/);
    expect(fileSnapshots()).toHaveLength(2);
    // It is no one-off: the next scheduled push refuses as well.
    expectFailure(await run(rebuilt, 'backup-push'), PROD_HOST, 'push', /refusing to back up the paths/);
    expect(fileSnapshots()).toHaveLength(2);
  });

  // backup-restore-files itself (its default restore, --path, --snapshot, the refusal and --replace, and the push that
  // records the paths once they are restored) is restore-files.test.ts's: each proved there once.

  test('a machine meant to start with empty paths says so once, with --start-empty; later pushes need nothing', async () => {
    fs.rmSync(path.join(tmp, 'production-rebuilt-state'), { recursive: true, force: true });
    skeleton(uploads);
    expectFailure(await run(rebuilt, 'backup-push'), PROD_HOST, 'push', /refusing to back up the paths/);
    const started = await run(rebuilt, 'backup-push', ['--start-empty']);
    expectSuccess(started, PROD_HOST, 'push');
    expect(started.stderr).toMatch(/--start-empty: .* are backed up as they are, whatever the targets hold/);
    expectSuccess(await run(rebuilt, 'backup-push'), PROD_HOST, 'push');
    // The first two pushes' and these two.
    expect(fileSnapshots()).toHaveLength(4);
  });

  test('the file restore of docs/backup.md, run as written, gives back the uploads', async () => {
    // The block of "By hand, without the tooling" that restores the paths, with only this machine's paths and port put in.
    const doc = fs.readFileSync(path.join(__dirname, '../../docs/backup.md'), 'utf8');
    const block = /```sh\n(# the file paths[\s\S]*?)```/.exec(doc)![1];
    const [, withFiles] = fileSnapshots();
    const target = path.join(tmp, 'manual-files');
    // The state a rebuilt machine's path is in: empty.
    fs.rmSync(uploads, { recursive: true, force: true });
    fs.mkdirSync(uploads);
    const commands = block.replace(/\/etc\/sovereign-backup/g, rebuilt.etc).replace('-p 23', `-p ${world.sftp.port}`)
      .replace(/\/var\/tmp\/restore-files/g, target).replace(/\/srv\/uploads/g, uploads).replace('<snapshot ID>', withFiles.id.slice(0, 8))
      .replace(/r "sftp:\$box:restic"/, `r "sftp:$box:${repo}"`);
    expect(commands).toMatch(/--verify/);
    execFileSync('bash', ['-euo', 'pipefail', '-c', `. ${rebuilt.etc}/backup.conf\n${commands}`], { env: { PATH: PATH_ENV, HOME: '/root' }, stdio: ['ignore', 'pipe', 'pipe'] });
    expect(tree(uploads)).toBe(before.uploads);
  });

  test("a rebuilt machine's path seeded with a few files (a default configuration cloud-init wrote) is refused as an empty one is, even with as many files as half the snapshot's", async () => {
    // The uploads are back (the manual restore above) and recorded: the newest snapshot of the path holds them.
    expectSuccess(await run(rebuilt, 'backup-push'), PROD_HOST, 'push');
    const recorded = fileSnapshots().length;
    // Lost again; the new server's cloud-init writes the app's default configuration into the path before anyone restores.
    fs.rmSync(path.join(tmp, 'production-rebuilt-state'), { recursive: true, force: true });
    skeleton(uploads);
    fs.mkdirSync(path.join(uploads, 'config'));
    fs.writeFileSync(path.join(uploads, 'config', 'default.yml'), 'max_upload_mb: 20\n');
    // Two of the snapshot's three files in number, but a few bytes of its KiB: the bytes alone tell (a path whose
    // snapshot holds one or two files, an SQLite file or a key store, has as many here once one is seeded).
    fs.writeFileSync(path.join(uploads, 'config', 'limits.yml'), 'max_files: 9\n');
    const push = await run(rebuilt, 'backup-push');
    expectFailure(push, PROD_HOST, 'push', new RegExp(`refusing to back up the paths, since this machine has not backed them up before and ${uploads} holds only 2 files `
      + `with content \\(31B, less than half of the snapshot's files or of its bytes\\) here, while the newest snapshot of ${PROD_HOST} that holds it on storagebox `
      + '\\(\\w{8}, [\\dT:-]+ UTC\\) holds 3 files \\([\\d.]+KiB\\)\\. This looks like a rebuilt machine whose files were not restored yet'));
    // The exports hold what their snapshot holds: not named. Nothing of the files was sent.
    expect(push.stderr).not.toMatch(new RegExp(`${exports} holds`));
    expect(fileSnapshots()).toHaveLength(recorded);
    // A machine meant to keep only the seeded files says so once.
    expectSuccess(await run(rebuilt, 'backup-push', ['--start-empty']), PROD_HOST, 'push');
    expect(fileSnapshots()).toHaveLength(recorded + 1);
  });

  // Review (day 2): backup-restore refuses a dump taken while it waited for the lock; backup-restore-files restored such a
  // push's snapshot, of the paths as they are now. A check holds the lock, the restore and then a push wait, the push
  // wins the lock the check let go and ends before the restore's next look (its flock calls held back by a shim).
  test('a push that won the lock and ended while backup-restore-files waited: its snapshot is refused, naming why, and nothing changes', async () => {
    const start = (script: string, args: string[] = []): StartScript => (env, options) =>
      runScript(path.join(rebuilt.root, 'usr/local/sbin', script), world.receiver, { TMPDIR: tmp, SOVEREIGN_BACKUP_ETC: rebuilt.etc, ...env }, { args, ...options });
    const held = tree(uploads);
    const snapshotsBefore = fileSnapshots().length;
    const race = await raceBehindCheck(tmp, 'push-ended', path.join(tmp, 'production-rebuilt-state'),
      start('backup-restore-files', ['--path', uploads, '--replace']), start('backup-push'), 'backup-push');
    expectSuccess(await race.job, PROD_HOST, 'push');
    expect(fileSnapshots().length).toBeGreaterThan(snapshotsBefore);
    race.letRestoreFlock();
    const restore = await race.restore;
    expect(restore.code).not.toBe(0);
    expect(restore.stderr).toMatch(new RegExp(`FAILED: the newest file snapshot of ${uploads} on storagebox \\(\\w{8}, [\\dT:-]+ UTC\\) was taken after this restore started, `
      + 'while it waited for the repository lock: it is of this machine as it is now, not the backup to restore\\. Nothing was changed\\. Fix: pass --snapshot'));
    expect(tree(uploads)).toBe(held);
  });

  // restic 0.14 exits 3 when it cannot read some source files and saves the snapshot without them. The push failed, and
  // left that snapshot: the newest of the path, the one backup-restore-files took, and the one of its day keep-daily kept
  // over the complete one. A file root cannot read: a write-only sysctl bound over it.
  test('a file snapshot restic saved without a file it could not read (exit 3) is forgotten, and a restore passes over one left without a record', async () => {
    expectSuccess(await run(rebuilt, 'backup-push'), PROD_HOST, 'push');
    const complete = fileSnapshots()[fileSnapshots().length - 1];
    const count = fileSnapshots().length;
    const held = tree(uploads);
    fs.writeFileSync(path.join(uploads, 'later.pdf'), 'a later upload\n');
    const unreadable = path.join(uploads, 'locked.bin');
    fs.writeFileSync(unreadable, '');
    execFileSync('mount', ['--bind', '/proc/sys/vm/compact_memory', unreadable]);
    let left: ReturnType<typeof spawnSync> | undefined;
    try {
      const push = await run(rebuilt, 'backup-push');
      expectFailure(push, PROD_HOST, 'push', new RegExp(`push failed for storagebox: restic backup of ${uploads} ${exports} could not read some files, so the snapshot it saved `
        + `without them \\(\\w{8}\\) was forgotten\\. Fix: make them readable[\\s\\S]*"Path":"${unreadable}"`));
      expect(fileSnapshots().map((s) => s.id)).toEqual(expect.arrayContaining([complete.id]));
      expect(fileSnapshots()).toHaveLength(count);
      // One whose forget another process's lock refused: restic's exit 3, timed to the second as pushes time them, no record.
      left = spawnSync('restic', ['-r', path.join(world.sftp.home, repo), '--no-cache', 'backup', '--time', secondsAgo(0), '--host', PROD_HOST,
        '--tag', 'sovereign-files', uploads, exports], { env: { ...process.env, RESTIC_PASSWORD, TZ: 'UTC' } });
    } finally {
      execFileSync('umount', [unreadable]);
    }
    expect(left?.status).toBe(3);
    expect(fileSnapshots()).toHaveLength(count + 1);
    const young = fileSnapshots()[count].id;
    const restore = await run(rebuilt, 'backup-restore-files', ['--path', uploads, '--replace']);
    expect(restore.stderr).toMatch(new RegExp(`OK: restored the files of ${PROD_HOST} from storagebox: ${uploads} from snapshot ${complete.id.slice(0, 8)} `));
    // Review (fifth pass): it was passed over silently.
    expect(restore.stderr).toContain(`; passed over for ${uploads}, newer snapshot ${young.slice(0, 8)}, which has no record (its push failed before writing one; `
      + `to restore it, pass --snapshot ${young.slice(0, 8)})`);
    expect(tree(uploads)).toBe(held);
    // Review (fifth pass): the prune forgot every file snapshot without a record, a push's still being read back (on a
    // replacement machine of this backup host name, whose lock is not this one's) or one whose record write failed.
    // Only one that is surely a failed push goes: timed to the second, older than a push runs, and superseded by a newer
    // recorded snapshot of its paths; while another is left, the retention waits (keep-daily kept it over the
    // complete one of its day).
    const withLeft = fileSnapshots().map((s) => s.id);
    const stale = spawnSync('restic', ['-r', path.join(world.sftp.home, repo), '--no-cache', 'backup', '--time', secondsAgo(15 * 3600), '--host', PROD_HOST,
      '--tag', 'sovereign-files', exports], { env: { ...process.env, RESTIC_PASSWORD, TZ: 'UTC' } });
    expect(stale.status).toBe(0);
    const staleId = fileSnapshots().map((s) => s.id).find((id) => !withLeft.includes(id));
    const prune = await run(rebuilt, 'backup-prune');
    expectSuccess(prune, PROD_HOST, 'prune');
    expect(prune.stderr).toContain(`storagebox: the retention of the file snapshots waits while file snapshots without a record are younger than a push runs (14 hours) or the newest of their paths: ${young}`);
    expect(fileSnapshots().map((s) => s.id)).toEqual(withLeft);
    expect(staleId).toBeDefined();
    // The operator forgets it (restic forget), as the push would have.
    restic(['forget', young]);
  });

  // Review (fifth pass): a record dated before the old snapshots (a clock wrong at boot, restic backup --time by hand)
  // made the prune forget every file snapshot from before the records, and restores pass over them; and the records
  // kept their own retention: with a snapshot forgotten by hand, keep-daily kept its record and forgot the record of
  // the snapshot it kept, which the next prune forgot as a failed push.
  test('the prune keeps a snapshot restic backup made by hand after a record dated before it, and the records follow the snapshots kept', async () => {
    const ids = () => fileSnapshots().map((s) => s.id);
    const records = (): Array<{ id: string; time: string }> => JSON.parse(restic(['snapshots', '--json', '--host', PROD_HOST, '--tag', 'sovereign-files-record']));
    expectSuccess(await run(rebuilt, 'backup-push'), PROD_HOST, 'push');
    expectSuccess(await run(rebuilt, 'backup-push'), PROD_HOST, 'push');
    const [f1, f2] = ids().slice(-2);
    const [r1, r2] = records().slice(-2).map((r) => r.id);
    restic(['forget', f2]);
    expectSuccess(await run(rebuilt, 'backup-prune'), PROD_HOST, 'prune');
    expect(ids()).toContain(f1);
    expect(records().map((r) => r.id)).toEqual(expect.arrayContaining([r1]));
    expect(records().map((r) => r.id)).not.toContain(r2);
    // A snapshot made by hand (no --time: a fraction of a second), the only one holding a file, and a pushed pair
    // (snapshot and record) dated before it.
    const ledger = path.join(exports, 'ledger-2019.csv');
    fs.writeFileSync(ledger, 'year,total\n2019,10\n');
    restic(['backup', '--host', PROD_HOST, '--tag', 'sovereign-files', uploads, exports]);
    const byHand = ids()[ids().length - 1];
    restic(['backup', '--time', '2026-01-01 00:00:00', '--host', PROD_HOST, '--tag', 'sovereign-files', exports]);
    execFileSync('restic', ['-r', path.join(world.sftp.home, repo), '--no-cache', 'backup', '--stdin', '--stdin-filename', 'sovereign-files/record',
      '--time', '2026-01-01 00:00:00', '--host', PROD_HOST, '--tag', 'sovereign-files-record'], { input: 'snapshot 00000000\n', env: { ...process.env, RESTIC_PASSWORD, TZ: 'UTC' } });
    expectSuccess(await run(rebuilt, 'backup-prune'), PROD_HOST, 'prune');
    expect(ids()).toContain(byHand);
    fs.rmSync(ledger);
    const restore = await run(rebuilt, 'backup-restore-files', ['--path', exports, '--replace']);
    expect(restore.stderr).toMatch(new RegExp(`OK: restored the files of ${PROD_HOST} from storagebox: ${exports} from snapshot ${byHand.slice(0, 8)} `));
    expect(fs.readFileSync(ledger, 'utf8')).toBe('year,total\n2019,10\n');
  });

  // Review (sixth pass): restic 0.14's snapshots --json passes over a snapshot file it cannot load ("could not load
  // snapshot" on stderr) and exits 0. The prune took that file snapshot's record for an orphan and forgot it (a damaged
  // record made its snapshot look unrecorded; a damaged manifest, its dump's stream orphaned).
  test('the prune forgets nothing on a target where restic could not load a snapshot, and names the fix', async () => {
    expectSuccess(await run(rebuilt, 'backup-push'), PROD_HOST, 'push');
    const records = (): string[] => JSON.parse(restic(['snapshots', '--json', '--host', PROD_HOST, '--tag', 'sovereign-files-record'])).map((r: { id: string }) => r.id);
    const newest = fileSnapshots()[fileSnapshots().length - 1].id;
    const before = records();
    const file = path.join(world.sftp.home, repo, 'snapshots', newest);
    const good = fs.readFileSync(file);
    fs.writeFileSync(file, Buffer.alloc(good.length, 7));
    try {
      const prune = await run(rebuilt, 'backup-prune');
      expectFailure(prune, PROD_HOST, 'prune', /prune failed for: storagebox/);
      expect(prune.stderr).toContain('storagebox: restic could not load some snapshots (');
      expect(prune.stderr).toContain('so nothing of this target is forgotten');
      expect(prune.stderr).toContain('Fix: run restic check on storagebox');
      expect(records()).toEqual(before);
    } finally {
      fs.writeFileSync(file, good);
    }
  });

  // Review (sixth pass): a file snapshot without a record whose paths no newer recorded snapshot holds (plan paths
  // renamed or reduced after a failed push, file backups stopped) was never superseded: the retention of the file
  // snapshots waited for ever while every prune reported OK; and its note named an 8-character ID but no command.
  test('the prune fails once a file snapshot without a record that nothing supersedes is older than a push runs and the age limit, naming the command that forgets it', async () => {
    const retired = path.join(tmp, 'srv', 'retired');
    fs.mkdirSync(retired, { recursive: true });
    fs.writeFileSync(path.join(retired, 'old.csv'), 'a path no longer in the plan\n');
    const conf = fs.readFileSync(path.join(rebuilt.etc, 'backup.conf'), 'utf8');
    const maxAge = Number(/^MAX_AGE_HOURS=['"]?([\d.]+)/m.exec(conf)![1]);
    const old = spawnSync('restic', ['-r', path.join(world.sftp.home, repo), '--no-cache', 'backup', '--time', secondsAgo((14 + maxAge + 1) * 3600),
      '--host', PROD_HOST, '--tag', 'sovereign-files', retired], { env: { ...process.env, RESTIC_PASSWORD, TZ: 'UTC' } });
    expect(old.status).toBe(0);
    const id = fileSnapshots().find((s) => s.paths.includes(retired))!.id;
    const prune = await run(rebuilt, 'backup-prune');
    expectFailure(prune, PROD_HOST, 'prune', new RegExp(`prune failed for: storagebox: on storagebox, file snapshots without a record are older than a push runs `
      + `and the backup age limit \\(14 \\+ ${maxAge} hours\\)[^\\n]*: ${id}\\. Fix: once you know`));
    const command = new RegExp(`\\(as root, in sudo -i or sudo bash -c '…': (RESTIC_PASSWORD_COMMAND=[^\\n]* restic -o sftp\\.command=[^\\n]* --no-cache forget ${id})\\), then run backup-prune again`).exec(prune.stderr);
    expect(command).not.toBeNull();
    // The command it names, run as given in a root shell on the machine, forgets it.
    execFileSync('bash', ['-c', command![1]], { stdio: 'ignore' });
    expect(fileSnapshots().map((s) => s.id)).not.toContain(id);
    expectSuccess(await run(rebuilt, 'backup-prune'), PROD_HOST, 'prune');
  });

  /** restic under strace, `inject` failing the syscalls on `target` with ENOENT; once restic exits 3, `after` runs. */
  const faultyRestic = (name: string, target: string, inject: string, after: string): string => {
    const bin = path.join(tmp, name);
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, 'restic'), `#!/bin/bash\nstrace -f -qq -o /dev/null -P '${target}' -e trace=${inject} -e inject=${inject}:error=ENOENT /usr/bin/restic "$@"\n`
      + `rc=$?\n[ "$rc" != 3 ] || ${after}\nexit "$rc"\n`, { mode: 0o755 });
    return bin;
  };
  /** backup-push of the rebuilt machine, its restic faulty as `fault` says (faultyRestic's arguments); `env` adds to its environment. */
  const pushWithFault = (fault: Parameters<typeof faultyRestic>, env: Record<string, string> = {}): Promise<RunResult> =>
    runScript(path.join(rebuilt.root, 'usr/local/sbin', 'backup-push'), world.receiver,
      { TMPDIR: tmp, SOVEREIGN_BACKUP_ETC: rebuilt.etc, PATH: `${faultyRestic(...fault)}:${PATH_ENV}`, ...env });
  /** A push under `fault` that succeeds, keeping and recording its snapshot, and names `gone` as vanished; returns that snapshot. */
  const pushKeepingVanished = async (fault: Parameters<typeof faultyRestic>, gone: string): Promise<{ id: string; paths: string[] }> => {
    const count = fileSnapshots().length;
    const push = await pushWithFault(fault);
    expectSuccess(push, PROD_HOST, 'push');
    expect(push.stderr).toContain(`storagebox: 1 files vanished while restic read the paths (they are not in the snapshot): ${gone}`);
    expect(fileSnapshots()).toHaveLength(count + 1);
    return fileSnapshots()[count];
  };

  // Review (fifth pass): restic 0.14 also exits 3 when a file vanished while it read the paths (listed, then gone
  // before its lstat: an upload renamed, a cache or journal file removed; churning files gave it in 2 of 6 runs). The push
  // forgot that snapshot, which held every file that still existed: on a machine whose paths churn, every push forgot its
  // snapshot. Here the vanishing is made certain: restic runs under strace, whose fault injection answers the lstat of
  // one file with ENOENT, as the kernel answers for a file removed after the listing.
  const vanished = 'a file that vanished while restic read the paths (exit 3, ENOENT only) leaves the snapshot kept and recorded, naming the file';
  testWithRealParts(hasStrace, vanished, 'strace (scripts/system-packages.sh installs it)')(vanished, async () => {
    const gone = path.join(uploads, 'upload.part');
    const stays = path.join(uploads, 'upload.done');
    fs.writeFileSync(gone, 'an upload being renamed\n');
    fs.writeFileSync(stays, 'an upload\n');
    const kept = await pushKeepingVanished(['bin-vanishing', gone, 'newfstatat,lstat', 'true'], gone);
    const records: Array<{ id: string }> = JSON.parse(restic(['snapshots', '--json', '--host', PROD_HOST, '--tag', 'sovereign-files-record']));
    const record = restic(['dump', records[records.length - 1].id, '/sovereign-files/record']);
    expect(record).toContain(`snapshot ${kept.id.slice(0, 8)}\n`);
    expect(record).toContain(`vanished ${gone}\n`);
    const listing = restic(['ls', kept.id]).split('\n');
    expect(listing).toContain(stays);
    expect(listing).not.toContain(gone);
    fs.rmSync(gone);
    fs.rmSync(stays);
  });

  // Review (sixth pass): a volume of the paths unmounted during the push makes every file of it vanish (ENOENT); the
  // push kept and recorded that snapshot as complete, although the mount check exists to stop such a snapshot.
  const unmounted = 'a file system of the paths unmounted while restic read it (its files vanish) fails the push and forgets the snapshot, naming the mount';
  testWithRealParts(hasStrace, unmounted, 'strace (scripts/system-packages.sh installs it)')(unmounted, async () => {
    const root = path.join(tmp, 'root-unmounting');
    const volume = path.join(uploads, 'volume');
    const inside = path.join(volume, 'upload.bin');
    fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
    fs.mkdirSync(volume, { recursive: true });
    fs.writeFileSync(path.join(root, 'etc/fstab'), `/dev/disk/by-id/scsi-0HC_Volume_2 ${volume} ext4 discard,nofail,defaults 0 2\n`);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', volume]);
    try {
      fs.writeFileSync(inside, 'an upload on the volume\n');
      // restic lists the volume's file, which is gone at its lstat; the volume is unmounted by the time restic exits.
      const count = fileSnapshots().length;
      const push = await pushWithFault(['bin-unmounting', inside, 'newfstatat,lstat', `umount '${volume}'`], { SOVEREIGN_ROOT: root });
      expectFailure(push, PROD_HOST, 'push', new RegExp(`restic backup of ${uploads} ${exports} could not read some files, so the snapshot it saved without them `
        + `\\(\\w{8}\\) was forgotten\\. Fix: mount ${volume} again \\(journalctl -b for why it went\\), then run backup-push again\\. restic: 1 files vanished `
        + `while restic read the paths, and /etc/fstab mounts ${volume}, which is not mounted any more`));
      expect(fileSnapshots()).toHaveLength(count);
    } finally {
      spawnSync('umount', [volume]);
      fs.rmSync(volume, { recursive: true, force: true });
    }
  });

  // Review (sixth pass): a directory gone between restic's lstat and its open comes with "error":{} (no errno): the push
  // took it for a file it could not read and forgot the snapshot, naming the wrong fix.
  const vanishedDir = 'a directory that vanished between restic\'s lstat and its open leaves the snapshot kept and recorded, naming it';
  testWithRealParts(hasStrace, vanishedDir, 'strace (scripts/system-packages.sh installs it)')(vanishedDir, async () => {
    const dir = path.join(uploads, 'batch');
    const sub = path.join(dir, 'sub');
    fs.mkdirSync(sub, { recursive: true });
    fs.writeFileSync(path.join(sub, 'part.bin'), 'a batch being moved\n');
    await pushKeepingVanished(['bin-vanishing-dir', sub, 'openat', `rm -rf '${dir}'`], sub);
  });

  // Review (fifth pass): the push took a missing plan path out of its paths before the check above, which then passed
  // on the others; the push backed them up, recorded that this machine backs up its paths, and failed naming the
  // missing one. Its fix (mkdir -p) then made the next push back up the path empty, unchecked: the newest snapshot of
  // it, the one a restore takes, and the one a prune could keep.
  test("a rebuilt machine whose path is missing (the others present) refuses the file backup, records nothing, and refuses it again once the path is made empty", async () => {
    const recorded = fileSnapshots().length;
    const state = path.join(tmp, 'production-rebuilt-state');
    fs.rmSync(state, { recursive: true, force: true });
    fs.rmSync(uploads, { recursive: true, force: true });
    const refusal = new RegExp(`refusing to back up the paths, since this machine has not backed them up before and ${uploads} holds nothing \\(no such path\\) here, `
      + `while the newest snapshot of ${PROD_HOST} that holds it on storagebox \\(\\w{8}, [\\dT:-]+ UTC\\) holds \\d+ files`);
    expectFailure(await run(rebuilt, 'backup-push'), PROD_HOST, 'push', refusal);
    expect(fileSnapshots()).toHaveLength(recorded);
    expect(fs.existsSync(path.join(state, 'files-backed-up-from-this-machine'))).toBe(false);
    // What the missing-path message once told first: make it. The check still runs, and refuses the empty path.
    fs.mkdirSync(uploads);
    expectFailure(await run(rebuilt, 'backup-push'), PROD_HOST, 'push', /refusing to back up the paths/);
    expect(fileSnapshots()).toHaveLength(recorded);
  });
});
