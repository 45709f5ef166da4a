import { execFileSync } from 'child_process';
import { createHash, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { appWithTwoPaths, filePathsMachine } from './helpers/file-paths-machine';
import { tree } from './helpers/file-tree';
import { realRestic } from './helpers/real-restic';
import { SilentTarget, silentTarget } from './helpers/silent-target';
import { BackupWorld, expectFailure, expectSuccess, MachineRoot, PATH_ENV, PROD_HOST, RESTIC_PASSWORD, RunOptions, RunResult } from './helpers/world';
import { describeWithRealParts, isRoot } from '../setup/real-parts';

// backup-restore-files, the restore of a machine's file paths by hand (docs/backup.md, "Restoring by hand"), run as
// rendered against a real restic repository behind OpenSSH on loopback: what a person restoring a rebuilt machine
// relies on. Production pushes two versions of its paths; its successor, with the same plan, restores them.
const describeAsRoot = describeWithRealParts(isRoot, 'the restore-files suite', 'root (runuser, sshd, chown, mount)');

// What a printed command says --replace would replace in a path: its regular files of at least one byte (as the script
// counts them), and their bytes as numfmt writes them.
const withContent = (dir: string): string => {
  let [n, size] = [0, 0];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.name === 'lost+found' || e.name.startsWith('.sovereign-restore.')) continue;
      const f = path.join(d, e.name);
      if (e.isDirectory()) walk(f);
      else if (e.isFile() && fs.statSync(f).size > 0) [n, size] = [n + 1, size + fs.statSync(f).size];
    }
  };
  walk(dir);
  expect(n).toBeGreaterThan(0);
  return `${n} files with content, ${execFileSync('numfmt', ['--to=iec-i', '--suffix=B', String(size)], { encoding: 'utf8' }).trim()}`;
};
const addReplace = "add --replace to replace them with the snapshot's";
/** `t` with the RegExp characters the refusals' messages hold (parentheses, + and .) escaped. */
const esc = (t: string): string => t.replace(/[()+.]/g, '\\$&');

describeAsRoot('backup-restore-files on a rebuilt machine', () => {
  jest.setTimeout(300_000);
  let tmp: string;
  let world: BackupWorld;
  let silent: SilentTarget;
  let uploads: string;
  let exports: string;
  let production: MachineRoot;
  let rebuilt: MachineRoot;
  /** The rebuilt machine's configuration with a second target, storagebox2: a copy of the repository as it was after the first push. */
  let twoTargets: string;
  const repo = 'repo-restore-files';
  /** The first and second pushes' file snapshots (IDs), and the paths' trees each holds. */
  let first: string;
  let second: string;
  const v1: Record<string, string> = {};
  const v2: Record<string, string> = {};
  /** The paths' own mtimes (ms) at the second push: the tree lines give the files' times, not the path's. */
  const v2Mtime: Record<string, number> = {};

  /** backup-restore-files on the rebuilt machine (its configuration unless `etc`), as a person runs it. */
  const restore = (args: string[] = [], options: { etc?: string } & Omit<RunOptions, 'args'> = {}): Promise<RunResult> =>
    world.run(rebuilt, 'backup-restore-files', options.etc ?? rebuilt.etc, { args, env: options.env, stopWhen: options.stopWhen, onOutput: options.onOutput });
  const push = (machine: MachineRoot): Promise<RunResult> => world.run(machine, 'backup-push');
  /** restic's output for `args` on the Storage Box's repository, read as the test (no lock, no cache). */
  const resticOnBox = (...args: string[]): string => execFileSync('restic', ['-r', path.join(world.sftp.home, repo), '--no-lock', '--no-cache', ...args],
    { encoding: 'utf8', env: { ...process.env, RESTIC_PASSWORD } });
  /** The newest file snapshot of production's host on the Storage Box. */
  const newestFileSnapshot = (): string => {
    const all: Array<{ id: string }> = JSON.parse(resticOnBox('snapshots', '--json', '--host', PROD_HOST, '--tag', 'sovereign-files'));
    return all[all.length - 1].id;
  };
  /** The newest file snapshot that holds `p` on the Storage Box. */
  const newestOf = (p: string): string => {
    const of: Array<{ id: string }> = JSON.parse(resticOnBox('snapshots', '--json', '--host', PROD_HOST, '--tag', 'sovereign-files', '--path', p));
    return of[of.length - 1].id;
  };
  /** The rebuilt machine's BACKUP_STATE, and the restore-placing marker of a path in it (as placing_marker names it). */
  const stateDir = (): string => path.join(tmp, 'production-rebuilt-state');
  const markerOf = (p: string): string => path.join(stateDir(), `restore-placing.${createHash('sha256').update(p).digest('hex').slice(0, 16)}`);
  /** A machine of production's plan with the two paths, its key authorized on the Storage Box, bootstrapped. */
  const machine = async (name: string): Promise<MachineRoot> => {
    const laidOut = filePathsMachine(world, name, repo, { uploads, exports });
    const bootstrap = await world.run(laidOut, 'backup-bootstrap');
    if (bootstrap.code !== 0) throw new Error(bootstrap.stderr);
    return laidOut;
  };
  /** What a redeploy leaves in a path: the app's empty directories, an empty marker file, a new volume's lost+found. */
  const skeleton = (dir: string): string => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(path.join(dir, 'lost+found'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'avatars'), { recursive: true });
    fs.writeFileSync(path.join(dir, '.keep'), '');
    return tree(dir);
  };
  /** The restore's work directories left in a path. */
  const leftovers = (dir: string): string[] => fs.readdirSync(dir).filter((n) => n.startsWith('.sovereign-restore'));
  /**
   * The environment of a restore whose restic writes `file` (as an app would) when it restores, after the check and
   * before the restored files are put in place: of any path, or only of `include`. Every restic call runs as it is.
   */
  const resticWritingOn = (file: string, include?: string): Record<string, string> => {
    const bin = path.join(tmp, 'bin-restic-writes');
    fs.mkdirSync(bin, { recursive: true });
    const restoring = include === undefined ? '*" restore "*' : `*" restore "*" --include ${include} "*`;
    fs.writeFileSync(path.join(bin, 'restic'), `#!/bin/bash\ncase " $* " in ${restoring}) printf 'written during the restore\\n' >'${file}' ;; esac\nexec /usr/bin/restic "$@"\n`, { mode: 0o755 });
    return { PATH: `${bin}:${PATH_ENV}` };
  };
  const ok = (result: RunResult): RunResult => {
    if (result.code !== 0) throw new Error(result.stderr);
    // Run by hand: it reports on the terminal only.
    expect(result.pings).toEqual([]);
    return result;
  };
  const refused = (result: RunResult, reason: RegExp): void => {
    if (result.code !== 1) throw new Error(`exit ${result.code}, not 1:\n${result.stderr}`);
    expect(result.stderr).toMatch(reason);
    expect(result.stderr).not.toMatch(/OK: restored/);
    expect(result.pings).toEqual([]);
  };
  /** Runs `body` with a tmpfs of `options` mounted over `dir` (hiding what it holds), unmounted after. */
  const mounted = async (dir: string, options: string, body: () => Promise<void>): Promise<void> => {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
    try {
      await body();
    } finally {
      // A process the restore left holding it would make a plain umount throw over the test's own failure: lazily then.
      try { execFileSync('umount', [dir], { stdio: 'pipe' }); } catch { execFileSync('umount', ['-l', dir]); }
    }
  };

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'backup-restore-files-'));
    [world, silent] = await Promise.all([BackupWorld.start(tmp), silentTarget(tmp)]);
    ({ uploads, exports } = appWithTwoPaths(world, tmp));
    production = await machine('production-files');
    expectSuccess(await world.run(production, 'backup-dump'), PROD_HOST, 'dump');

    // The first version: files of several owners and modes, nested, a link, a draft the second version removes.
    fs.mkdirSync(path.join(uploads, 'avatars'), { recursive: true });
    fs.writeFileSync(path.join(uploads, 'avatars', 'u1.png'), randomBytes(200_000));
    fs.writeFileSync(path.join(uploads, 'contract.pdf'), '%PDF-1.4 first\n'.repeat(100), { mode: 0o640 });
    fs.writeFileSync(path.join(uploads, 'draft.txt'), 'a draft, deleted later\n');
    fs.symlinkSync('contract.pdf', path.join(uploads, 'latest.pdf'));
    execFileSync('chown', ['-R', '65534:65534', path.join(uploads, 'avatars')]);
    fs.chmodSync(uploads, 0o750);
    fs.writeFileSync(path.join(exports, 'report-2026-11.csv'), 'month,revenue\n2026-11,1200\n', { mode: 0o600 });
    expectSuccess(await push(production), PROD_HOST, 'push');
    first = newestFileSnapshot();
    v1.uploads = tree(uploads);
    v1.exports = tree(exports);
    // The second target holds the repository as it was then: its newest file snapshot is the first.
    fs.cpSync(path.join(world.sftp.home, repo), path.join(world.sftp.home, `${repo}-second`), { recursive: true });

    // The second version: a changed file, a new large one (the restore takes a moment), the draft gone.
    fs.writeFileSync(path.join(uploads, 'contract.pdf'), '%PDF-1.4 signed\n'.repeat(120));
    fs.writeFileSync(path.join(uploads, 'avatars', 'u2.png'), randomBytes(6_000_000), { mode: 0o604 });
    fs.rmSync(path.join(uploads, 'draft.txt'));
    expectSuccess(await push(production), PROD_HOST, 'push');
    second = newestFileSnapshot();
    v2.uploads = tree(uploads);
    v2.exports = tree(exports);
    v2Mtime.uploads = Math.floor(fs.statSync(uploads).mtimeMs);
    v2Mtime.exports = Math.floor(fs.statSync(exports).mtimeMs);
    expect(v2.uploads).not.toBe(v1.uploads);

    // Production is lost; its successor has the same plan, a bootstrap and a dump (its database came back).
    rebuilt = await machine('production-rebuilt');
    expectSuccess(await world.run(rebuilt, 'backup-dump'), PROD_HOST, 'dump');
    const conf = fs.readFileSync(path.join(rebuilt.etc, 'backup.conf'), 'utf8');
    const copied = Object.fromEntries([...conf.matchAll(/^storagebox_(\w+)='?([^'\n]*)'?$/gm)].map(([, key, value]) => [`storagebox2_${key}`, value]));
    twoTargets = world.variant(rebuilt.etc, 'backup.conf', { ...copied, storagebox2_REPO_PATH: `${repo}-second`, TARGETS: 'storagebox storagebox2' }, {
      'secrets/storagebox2.restic.b64': fs.readFileSync(path.join(rebuilt.etc, 'secrets/storagebox.restic.b64'), 'utf8'),
      'ssh/known_hosts.storagebox2': fs.readFileSync(path.join(rebuilt.etc, 'ssh/known_hosts.storagebox'), 'utf8').replace(/^sovereign-storagebox /gm, 'sovereign-storagebox2 '),
    });
  });

  afterAll(async () => {
    silent?.close();
    await world?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('by default it restores every path from the newest snapshot, with contents, modes, owners and times (of the files and of each path itself); then backup-push accepts the machine', async () => {
    // A rebuilt machine's push refuses its empty paths until they are restored: rebuilt-files.test.ts proves it.
    skeleton(uploads);
    skeleton(exports);
    const restored = ok(await restore());
    expect(restored.stderr).toMatch(new RegExp(`OK: restored the files of ${PROD_HOST} from storagebox: ${uploads} from snapshot ${second.slice(0, 8)} \\([\\dT:-]+ UTC\\): 3 files, 2 directories, \\d+ bytes; `
      + `${exports} from snapshot ${second.slice(0, 8)} [^;]*: 1 files, 1 directories, 27 bytes; read back against the repository and matching the snapshots' listings`));
    expect(tree(uploads)).toBe(v2.uploads);
    expect(tree(exports)).toBe(v2.exports);
    // Each path itself gets the snapshot's time too (the redeploy's skeleton made it just now).
    expect([Math.floor(fs.statSync(uploads).mtimeMs), Math.floor(fs.statSync(exports).mtimeMs)]).toEqual([v2Mtime.uploads, v2Mtime.exports]);
    // The redeploy's empty marker went; lost+found stays; no work directory is left.
    expect(fs.existsSync(path.join(uploads, '.keep'))).toBe(false);
    expect(fs.existsSync(path.join(uploads, 'lost+found'))).toBe(true);
    expect([...leftovers(uploads), ...leftovers(exports)]).toEqual([]);

    expectSuccess(await push(rebuilt), PROD_HOST, 'push');
  });

  test('--path restores only that path; a path not in the plan is refused, changing nothing', async () => {
    const emptyUploads = skeleton(uploads);
    skeleton(exports);
    const only = ok(await restore(['--path', exports]));
    expect(only.stderr).toMatch(new RegExp(`OK: restored the files of ${PROD_HOST} from storagebox: ${exports} from snapshot \\w{8} [^;]*; read back`));
    expect(only.stderr).not.toMatch(new RegExp(`restoring ${uploads}`));
    expect(tree(exports)).toBe(v2.exports);
    expect(tree(uploads)).toBe(emptyUploads);

    const other = path.join(tmp, 'srv', 'other');
    refused(await restore(['--path', other]), new RegExp(`FAILED: --path '${other}' is not one of this machine's file paths \\(${uploads} ${exports}\\)`));
    expect(fs.existsSync(other)).toBe(false);
    expect(tree(uploads)).toBe(emptyUploads);
  });

  test('--snapshot restores that older snapshot, not the newest; one that is not a file snapshot (a dump\'s) is refused, changing nothing', async () => {
    const held = skeleton(uploads);
    const [manifest] = JSON.parse(resticOnBox('snapshots', '--json', '--tag', 'sovereign-dump'));
    refused(await restore(['--path', uploads, '--snapshot', manifest.id.slice(0, 8), '--replace']),
      new RegExp(`FAILED: snapshot ${manifest.id.slice(0, 8)} on storagebox is not a file snapshot of ${PROD_HOST} that holds ${uploads}`));
    expect(tree(uploads)).toBe(held);
    const older = ok(await restore(['--path', uploads, '--snapshot', first.slice(0, 8)]));
    expect(older.stderr).toMatch(new RegExp(`OK: restored the files of ${PROD_HOST} from storagebox: ${uploads} from snapshot ${first.slice(0, 8)} `));
    expect(tree(uploads)).toBe(v1.uploads);
  });

  test('without --replace a path holding files is refused, naming what it holds, and nothing changes; with --replace it holds exactly the snapshot', async () => {
    // The uploads hold the first version (the test above), and a file of their own.
    fs.writeFileSync(path.join(uploads, 'local-only.txt'), 'written on this machine\n');
    const held = tree(uploads);
    const all = await restore();
    refused(all, new RegExp(`refusing to restore over paths that hold files: restoring would replace what ${uploads} \\(4 files with content, [\\d.]+KiB\\); `
      + `${exports} \\(1 files with content, 27B\\) hold\\. Fix: pass --replace`));
    expect(all.stderr).toMatch(/failed step: checking what .* hold on this machine/);
    expect(tree(uploads)).toBe(held);
    expect(tree(exports)).toBe(v2.exports);

    const replaced = ok(await restore(['--path', uploads, '--replace']));
    expect(replaced.stderr).toMatch(new RegExp(`from snapshot \\w{8} .*replaced what ${uploads} \\(4 files with content, [\\d.]+KiB\\) held`));
    // The draft and the local file, which the newest snapshot lacks, are gone.
    expect(tree(uploads)).toBe(v2.uploads);
  });

  // Review (fourteenth pass): the check took find's count whether or not the walk finished, so a walk that failed
  // before it met a file (a directory root may not read, a root-squashed mount) counted nothing, and the path was
  // replaced without --replace.
  test('a path whose walk fails before it counts a file is refused without --replace (what it holds cannot be told), and nothing changes', async () => {
    const held = [tree(uploads), tree(exports)];
    const bin = path.join(tmp, 'bin-find-fails');
    fs.mkdirSync(bin, { recursive: true });
    // The count's walk of the exports (the one with -printf) fails at once; every other find runs as it is.
    fs.writeFileSync(path.join(bin, 'find'), `#!/bin/bash\ncase " $* " in *" ${exports} "*-printf*) echo "find: '${exports}/mnt': Permission denied (test)" >&2; exit 1 ;; esac\nexec /usr/bin/find "$@"\n`, { mode: 0o755 });
    const walked = await restore(['--path', exports], { env: { PATH: `${bin}:${PATH_ENV}` } });
    refused(walked, new RegExp(`FAILED: cannot tell what is in ${exports}: find failed while walking it \\(its errors are above\\) and counted no file with content\\. Nothing was changed\\. `
      + `Fix: make all of it readable to root \\(findmnt -R ${exports} lists the mounts under it\\), or pass --replace to restore over whatever it holds\n`));
    expect(walked.stderr).toContain(`find: '${exports}/mnt': Permission denied (test)`);
    expect([tree(uploads), tree(exports)]).toEqual(held);
    // With a path that holds files beside it, the refusal names those too: the --replace it asks for replaces them
    // (review, fourteenth pass: the first refusal came before the check of the others and named them not).
    const both = await restore([], { env: { PATH: `${bin}:${PATH_ENV}` } });
    refused(both, new RegExp(`FAILED: cannot tell what is in ${exports}: [^\\n]*counted no file with content, and restoring would also replace what ${uploads} \\(\\d+ files with content, [^)]+\\) hold\\. `
      + 'Nothing was changed\\. [^\\n]*or pass --replace to restore over whatever it holds and over what the others hold\n'));
    expect([tree(uploads), tree(exports)]).toEqual(held);
  });

  // The check over what the paths hold took a path's count from before the lock wait when there was one (count_content's
  // cache): an app that wrote into an empty path while the restore waited would have had its files replaced without
  // --replace. Only a comment, and every branch dropping the paths counted there, kept it from one: this run has no count
  // before the wait, and with one added there (count_content $paths before restore_lock) the file was replaced. It walks
  // each path once the lock is held now. That walk_content walks again where count_content would not is tested in
  // exit-report.test.ts, on the functions themselves.
  test('a path empty when the restore starts that gains a file before the repository lock is taken is refused without --replace, naming the path and its count', async () => {
    const emptyTree = skeleton(exports);
    const arrived = path.join(exports, 'avatars', 'arrived.csv');
    try {
      const bin = path.join(tmp, 'bin-flock-writes');
      fs.mkdirSync(bin, { recursive: true });
      // The app writes just before the flock that takes the repository lock (fd 9); every flock runs as it is.
      fs.writeFileSync(path.join(bin, 'flock'), `#!/bin/bash\nif [[ " $* " == *" 9 "* ]] && [ ! -e '${arrived}' ]; then printf 'written while the restore waited\\n' >'${arrived}'; fi\nexec /usr/bin/flock "$@"\n`, { mode: 0o755 });
      const late = await restore(['--path', exports], { env: { PATH: `${bin}:${PATH_ENV}` } });
      expect(fs.readFileSync(arrived, 'utf8')).toBe('written while the restore waited\n');
      refused(late, new RegExp(`FAILED: refusing to restore over paths that hold files: restoring would replace what ${exports} \\(${withContent(exports)}\\) hold\\. Fix: pass --replace`));
      expect(fs.readFileSync(arrived, 'utf8')).toBe('written while the restore waited\n');
      expect(tree(exports)).not.toBe(emptyTree);
      fs.rmSync(arrived);
      expect(tree(exports)).toBe(emptyTree);
    } finally {
      // The exports as the tests after this one take them (the newest snapshot's), also after a failed expect above.
      fs.rmSync(arrived, { force: true });
      ok(await restore(['--path', exports, '--replace']));
      expect(tree(exports)).toBe(v2.exports);
    }
  });

  // Review (fifteenth pass): the check walked each path before any restore began, and nothing walked it again before
  // the removal of what it held: an app that wrote into a path counted empty during the restore (hours, or a path
  // restored after another) had its files replaced without --replace. It is walked again before the marker now.
  test('a path empty when checked that gains a file while it is restored is refused without --replace before anything of it is removed, also when written during the restore of an earlier path, naming the path, its count and the command', async () => {
    const emptyTree = skeleton(exports);
    const arrived = path.join(exports, 'avatars', 'during-restore.csv');
    try {
      // The snapshot this run takes for the exports (their newest): the command the refusal names pins it (review, fifteenth
      // pass: it took the newest again, which a backup-push made meanwhile of the app's new files would be).
      const taken = newestOf(exports);
      const during = await restore(['--path', exports], { env: resticWritingOn(arrived) });
      expect(fs.readFileSync(arrived, 'utf8')).toBe('written during the restore\n');
      refused(during, new RegExp(esc(`FAILED: refusing to put the restored ${exports} in place: it held no file with content when checked, and now holds ${withContent(exports)}, `
        + 'written since (an app may be using it). Nothing was changed. Fix: stop what writes there, then run ')
        + `backup-restore-files --path ${esc(exports)} --from \\S+ --snapshot ${taken} ${esc(`(it holds ${withContent(exports)}: ${addReplace})`)}\n`));
      const printed = during.stderr.match(new RegExp(`then run (backup-restore-files --path ${esc(exports)} --from \\S+ --snapshot ${taken}) \\(`))![1];
      expect(leftovers(exports)).toEqual([]);
      expect(fs.existsSync(markerOf(exports))).toBe(false);
      fs.rmSync(arrived);
      expect(tree(exports)).toBe(emptyTree);
      // Both paths: the exports, checked before the uploads' restore began, gain the file while the uploads are restored.
      skeleton(uploads);
      const second = await restore([], { env: resticWritingOn(arrived, uploads) });
      expect(fs.readFileSync(arrived, 'utf8')).toBe('written during the restore\n');
      refused(second, new RegExp(esc(`FAILED: refusing to put the restored ${exports} in place: it held no file with content when checked, and now holds ${withContent(exports)}, `
        + `written since (an app may be using it). ${exports} was not changed (already restored: ${uploads}). Fix: stop what writes there, then run `)
        + `backup-restore-files --path ${esc(exports)} --from \\S+ --snapshot ${taken} ${esc(`(it holds ${withContent(exports)}: ${addReplace})`)}\n`));
      expect(tree(uploads)).toBe(v2.uploads);
      expect(leftovers(exports)).toEqual([]);
      expect(fs.existsSync(markerOf(exports))).toBe(false);
      fs.rmSync(arrived);
      expect(tree(exports)).toBe(emptyTree);
      // A walk again that fails tells nothing: refused as well. find fails on the exports once the restore's work
      // directory is there (the walk after the restore), and runs as it is for the check before it.
      const findBin = path.join(tmp, 'bin-find-fails-later');
      fs.mkdirSync(findBin, { recursive: true });
      fs.writeFileSync(path.join(findBin, 'find'), `#!/bin/bash\ncase " $* " in *" ${exports} "*-printf*) if compgen -G '${exports}/.sovereign-restore.*' >/dev/null; then echo "find: '${exports}/mnt': Permission denied (test)" >&2; exit 1; fi ;; esac\nexec /usr/bin/find "$@"\n`, { mode: 0o755 });
      refused(await restore(['--path', exports], { env: { PATH: `${findBin}:${PATH_ENV}` } }), new RegExp(esc(`FAILED: refusing to put the restored ${exports} in place: it held no file with content when checked, `
        + 'and find failed walking it again (its errors are above), so what was written there since cannot be told. Nothing was changed. Fix: stop what writes there, then run ')
        + `backup-restore-files --path ${esc(exports)} --from \\S+ --snapshot ${taken} ${esc(`(it may hold files, which find failed to count: ${addReplace})`)}\n`));
      expect(leftovers(exports)).toEqual([]);
      expect(tree(exports)).toBe(emptyTree);
      // The first refusal's command, run as printed (with the --replace its note offers, over the app's file again): it
      // restores the snapshot that run took. The exports are then as the tests after this one take them.
      fs.writeFileSync(arrived, 'written during the restore\n');
      const [command, ...args] = printed.split(' ');
      expect(command).toBe('backup-restore-files');
      ok(await restore([...args, '--replace']));
      expect(tree(exports)).toBe(v2.exports);
    } finally {
      // Both paths as the tests after this one take them (the newest snapshot's), also after a failed expect above: the
      // exports, and the uploads this test emptied (the both-paths run restores them only when it gets that far).
      fs.rmSync(arrived, { force: true });
      ok(await restore(['--path', uploads, '--path', exports, '--replace']));
      expect([tree(uploads), tree(exports)]).toEqual([v2.uploads, v2.exports]);
    }
  });

  // The refusal after the walk again names a command for each path not restored yet, each pinned to the snapshot this
  // run took for it. The refused path was the last one in the test above, so those later commands were never printed.
  test('a refused path that is not the last names, for each path after it, a command pinned to its snapshot that restores it as printed', async () => {
    const emptyUploads = skeleton(uploads);
    const emptyExports = skeleton(exports);
    const arrived = path.join(uploads, 'avatars', 'during-restore.png');
    try {
      const taken = { uploads: newestOf(uploads), exports: newestOf(exports) };
      // The uploads come first: the app writes into them while they are restored, and the exports wait their turn.
      const refusal = await restore([], { env: resticWritingOn(arrived, uploads) });
      expect(fs.readFileSync(arrived, 'utf8')).toBe('written during the restore\n');
      const held = withContent(uploads);
      refused(refusal, new RegExp(esc(`FAILED: refusing to put the restored ${uploads} in place: it held no file with content when checked, and now holds ${held}, `
        + 'written since (an app may be using it). Nothing was changed. Fix: stop what writes there, then run ')
        + `backup-restore-files --path ${esc(uploads)} --from (\\S+) --snapshot ${taken.uploads} ${esc(`(it holds ${held}: ${addReplace})`)}`
        + `, and for the paths not restored yet, backup-restore-files --path ${esc(exports)} --from \\1 --snapshot ${taken.exports}\n`));
      const later = refusal.stderr.match(new RegExp(`for the paths not restored yet, (backup-restore-files --path ${esc(exports)} --from \\S+ --snapshot ${taken.exports})\n`))![1];
      // Neither path changed, nor marked: the exports were not reached.
      expect([...leftovers(uploads), ...leftovers(exports)]).toEqual([]);
      expect(fs.existsSync(markerOf(uploads))).toBe(false);
      expect(fs.existsSync(markerOf(exports))).toBe(false);
      fs.rmSync(arrived);
      expect([tree(uploads), tree(exports)]).toEqual([emptyUploads, emptyExports]);
      // The later path's command, run as printed (no --replace: the exports are as empty as when counted), restores the
      // snapshot this run took for them, and leaves the uploads as they are.
      const [command, ...args] = later.split(' ');
      expect(command).toBe('backup-restore-files');
      ok(await restore(args));
      expect([tree(uploads), tree(exports)]).toEqual([emptyUploads, v2.exports]);
    } finally {
      // Both paths as the tests after this one take them (the newest snapshot's), also after a failed expect above.
      fs.rmSync(arrived, { force: true });
      ok(await restore(['--path', uploads, '--path', exports, '--replace']));
      expect([tree(uploads), tree(exports)]).toEqual([v2.uploads, v2.exports]);
    }
  });

  // The commands a refusal names took a walk that failed and counted nothing for an empty path: the one that gives a
  // marked path another snapshot carried --replace with no word of what it would replace there.
  test('a rerun naming a marked path and one whose walk fails names no --replace for that one unsaid: its commands say it may hold files find failed to count', async () => {
    const held = [tree(uploads), tree(exports)];
    const marker = `${uploads}\nsnapshot ${first.slice(0, 8)} (of the uploads) from storagebox2\n${first} storagebox2\n`;
    fs.writeFileSync(markerOf(uploads), marker);
    const bin = path.join(tmp, 'bin-find-fails-marked');
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, 'find'), `#!/bin/bash\ncase " $* " in *" ${exports} "*-printf*) echo "find: '${exports}/mnt': Permission denied (test)" >&2; exit 1 ;; esac\nexec /usr/bin/find "$@"\n`, { mode: 0o755 });
    try {
      const mixed = await restore(['--path', uploads, '--path', exports], { etc: twoTargets, env: { PATH: `${bin}:${PATH_ENV}` } });
      const uncounted = `${exports} may hold files, which find failed to count`;
      refused(mixed, new RegExp(`Fix: run backup-restore-files --path ${uploads} --from storagebox2 --snapshot ${first}; `
        + esc(`then backup-restore-files --path ${exports} (it may hold files, which find failed to count: ${addReplace}) for the others; `)
        + `[^\n]*or each from its newest snapshot on storagebox, backup-restore-files --path ${uploads} --path ${exports} --from storagebox `
        + esc(`(refused without --replace, as a marked path may be given another snapshot than its marker's; with it, it also replaces what is there: ${uncounted})`)));
      expect(mixed.stderr).not.toMatch(/--from storagebox --replace/);
      expect([tree(uploads), tree(exports)]).toEqual(held);
    } finally {
      fs.rmSync(markerOf(uploads));
    }
  });

  test('a path that exists but is not a directory is refused, and left as it is', async () => {
    fs.rmSync(exports, { recursive: true });
    fs.writeFileSync(exports, 'a file where the directory was\n');
    try {
      refused(await restore(['--path', exports, '--replace']),
        new RegExp(`FAILED: ${exports} is not a directory on this machine; move it away, then run backup-restore-files again`));
      expect(fs.readFileSync(exports, 'utf8')).toBe('a file where the directory was\n');
    } finally {
      fs.rmSync(exports);
      fs.mkdirSync(exports);
    }
    ok(await restore(['--path', exports]));
    expect(tree(exports)).toBe(v2.exports);
  });

  test('--from restores from the target it names; a target that is not one of the machine\'s is refused', async () => {
    const fromSecond = ok(await restore(['--from', 'storagebox2', '--path', uploads, '--replace'], { etc: twoTargets }));
    // The newest file snapshot there is the first push's.
    expect(fromSecond.stderr).toMatch(new RegExp(`OK: restored the files of ${PROD_HOST} from storagebox2: ${uploads} from snapshot ${first.slice(0, 8)} `));
    expect(tree(uploads)).toBe(v1.uploads);

    refused(await restore(['--from', 'offsite', '--replace'], { etc: twoTargets }),
      /FAILED: target 'offsite' is not one of this machine's targets \(storagebox storagebox2\); pass --from with one of them/);
    expect(tree(uploads)).toBe(v1.uploads);
  });

  test('a target that cannot be reached fails the restore, naming it, and changes nothing', async () => {
    const unreachable = world.variant(twoTargets, 'backup.conf', { storagebox2_PORT: silent.port });
    // A file the snapshot lacks: a restore that went ahead with --replace would remove it.
    fs.writeFileSync(path.join(uploads, 'local-only.txt'), 'written on this machine\n');
    const held = tree(uploads);
    const before = silent.sockets.length;
    const result = await restore(['--from', 'storagebox2', '--path', uploads, '--replace', '--snapshot', first.slice(0, 8)],
      { etc: unreachable, env: { PATH: `${silent.bin}:${PATH_ENV}` } });
    refused(result, /FAILED: the repository of storagebox2 cannot be reached \(ssh: Connection timed out during banner exchange\)\. Nothing was changed\. Fix: see why storagebox2 does not answer from this machine, or pass --from with another of its targets \(storagebox storagebox2\), then run backup-restore-files again/);
    expect(silent.sockets.length - before).toBe(1);
    expect(tree(uploads)).toBe(held);
    expect(fs.readFileSync(path.join(uploads, 'local-only.txt'), 'utf8')).toBe('written on this machine\n');
    expect(leftovers(uploads)).toEqual([]);
    fs.rmSync(path.join(uploads, 'local-only.txt'));
  });

  // Review (ninth pass): a restore killed while it put the files in place (SIGKILL, a power loss: no exit trap) left the
  // path half what it held, half the snapshot's, and a push could back that up as the newest snapshot of the path.
  // Review (tenth pass): the rerun took the newest snapshot of the first target, not the one the marker records, with no
  // --replace check; and the push went on with the other path (asserted now).
  test('a restore killed (SIGKILL) while it puts the files in place leaves a marker: backup-push refuses the path, naming it and the fix, and backs up the other; a rerun with no options restores the marker\'s snapshot and target whole, another snapshot needs --replace', async () => {
    const held = tree(uploads);
    const state = stateDir();
    const markers = (): string[] => fs.readdirSync(state).filter((n) => n.startsWith('restore-placing.'));
    // An mv that moves the first of the restored entries into the path, says so and waits: the restore caught halfway,
    // the old entries removed, one new one in place. Only for the uploads; every other mv is the real one.
    const bin = path.join(tmp, 'bin-mv-halfway');
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, 'mv'), `#!/bin/bash\n[ "$1" = -t ] && [ "$2" = '${uploads}' ] && [ "$3" = -- ] || exec /usr/bin/mv "$@"\n`
      + '/usr/bin/mv -t "$2" -- "$4"\necho "halfway: moved $4" >&2\nexec sleep 300\n', { mode: 0o755 });
    const snapshotsOf = (p: string): number => JSON.parse(resticOnBox('snapshots', '--json', '--host', PROD_HOST, '--tag', 'sovereign-files', '--path', p)).length;
    const uploadSnapshots = (): number => snapshotsOf(uploads);

    // The older snapshot, from the second target: a rerun with no options would take the newest from the first.
    const killed = await restore(['--from', 'storagebox2', '--snapshot', first.slice(0, 8), '--path', uploads, '--replace'],
      { etc: twoTargets, env: { PATH: `${bin}:${PATH_ENV}` }, onOutput: { when: /halfway: moved /, act: (pid) => process.kill(-pid, 'SIGKILL') } });
    expect(killed.code).toBeNull();
    expect(killed.stderr).toMatch(/step: putting the restored \S+ in place\n[\s\S]*halfway: moved /);
    // Half and half: neither what it held nor the snapshot.
    expect(tree(uploads)).not.toBe(held);
    expect(tree(uploads)).not.toBe(v1.uploads);
    expect(markers()).toHaveLength(1);

    const before = uploadSnapshots();
    const exportsBefore = snapshotsOf(exports);
    const pushed = await push(rebuilt);
    expectFailure(pushed, PROD_HOST, 'push', new RegExp(`the file backup of ${uploads}: a backup-restore-files did not finish putting `
      + `the files of snapshot ${first.slice(0, 8)} \\([\\dT:-]+ UTC\\) from storagebox2 in place in ${uploads} \\(stopped, power loss, or a failure after it began\\); `
      + `it may hold part of what it held and part of that snapshot \\(${state}/restore-placing\\.\\w{16} records it\\)\\. Backing it up would record that as the newest snapshot of ${uploads}, the one a restore takes\\. `
      + `Nothing of ${uploads} was sent\\. Fix: run backup-restore-files --path ${uploads} --from storagebox2 --snapshot ${first} again`));
    expect(uploadSnapshots()).toBe(before);
    // The other path was backed up all the same.
    expect(snapshotsOf(exports)).toBe(exportsBefore + 1);

    // Another snapshot (or target) over the marked path is refused without --replace, changing nothing.
    const half = tree(uploads);
    const other = await restore(['--path', uploads, '--snapshot', second.slice(0, 8)], { etc: twoTargets });
    refused(other, new RegExp(`FAILED: refusing to restore ${uploads} from snapshot ${second.slice(0, 8)} on storagebox: a backup-restore-files did not finish [^\\n]*, `
      + `and that is snapshot ${first.slice(0, 8)} on storagebox2\\. Nothing was changed\\. Fix: run backup-restore-files --path ${uploads} --from storagebox2 --snapshot ${first} to finish that restore, or pass --replace`));
    // The report says the path is still marked, though this run wrote no marker (review, eleventh pass).
    expect(other.stderr).toMatch(new RegExp(`FAILED \\(exit 1\\) [^\\n]*or pass --replace to restore the other snapshot over it\\. ${uploads} is marked as not put in place whole `
      + `\\(${state}/restore-placing\\.\\w{16}\\), and backup-push holds it back until a run of backup-restore-files --path ${uploads} --from storagebox2 --snapshot ${first} succeeds`));
    expect(tree(uploads)).toBe(half);
    expect(markers()).toHaveLength(1);

    // No options, no --replace: the marker's snapshot from the marker's target, not the newest from the first target;
    // only the marked path (review, eleventh pass: the unmarked one was restored from the marker's snapshot too).
    const exportsHeld = tree(exports);
    const again = ok(await restore([], { etc: twoTargets }));
    // The exports hold files and the run had no --replace: the command named for them has none, and says what adding
    // it would replace (review, fifteenth pass: it had --replace, and pasted it deleted them unsaid).
    expect(exportsHeld).toMatch(/ file /);
    expect(again.stderr).toContain(`restoring only ${uploads} (half placed); then run backup-restore-files --path ${exports} (it holds ${withContent(exports)}: ${addReplace}) for the other paths\n`);
    expect(again.stderr).not.toMatch(new RegExp(`OK: [^\\n]*${exports} from snapshot`));
    expect(tree(exports)).toBe(exportsHeld);
    expect(again.stderr).toMatch(new RegExp(`restoring it again, whatever it holds[\\s\\S]*OK: restored the files of ${PROD_HOST} from storagebox2: ${uploads} from snapshot `
      + `${first.slice(0, 8)} [^\\n]*; restored again what a stopped restore left half placed in ${uploads}`));
    expect(tree(uploads)).toBe(v1.uploads);
    expect(leftovers(uploads)).toEqual([]);
    expect(markers()).toEqual([]);
    // The second version back before the push: the tests below take its snapshot as the newest.
    ok(await restore(['--path', uploads, '--snapshot', second.slice(0, 8), '--replace']));
    expectSuccess(await push(rebuilt), PROD_HOST, 'push');
    expect(uploadSnapshots()).toBe(before + 1);
  });

  test('a restore that fails after it began to put the files in place says the path is marked and held back; a marker of a path no longer in the plan is noted', async () => {
    const state = stateDir();
    // The newest file snapshot (the test above pushed the second version again): the one a restore takes.
    const newest = newestFileSnapshot();
    // A path the plan dropped, left marked: nothing restores it or holds it back any more.
    const gone = path.join(tmp, 'srv', 'gone');
    const stray = path.join(state, 'restore-placing.0123456789abcdef');
    const emptyStray = path.join(state, 'restore-placing.fedcba9876543210');
    fs.writeFileSync(stray, `${gone}\nsnapshot ${first.slice(0, 8)} (2026-01-01T00:00:00 UTC) from storagebox\n${first} storagebox\n`);
    // An mv into the uploads that fails: the old entries are gone, the restored ones not moved.
    const bin = path.join(tmp, 'bin-mv-fails');
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, 'mv'), `#!/bin/bash\n[ "$1" = -t ] && [ "$2" = '${uploads}' ] || exec /usr/bin/mv "$@"\necho 'mv: refused' >&2\nexit 1\n`, { mode: 0o755 });
    try {
      const failed = await restore(['--path', uploads, '--replace'], { env: { PATH: `${bin}:${PATH_ENV}` } });
      refused(failed, new RegExp(`FAILED \\(exit 1\\) at step 'putting the restored ${uploads} in place': find [^\\n]* exited with 1 \\(line \\d+\\)\\. ${uploads} is marked as not put in place whole \\(${state}/restore-placing\\.\\w{16}\\), `
        + `and backup-push holds it back until a run of backup-restore-files --path ${uploads} --from storagebox --snapshot ${newest} succeeds`));
      expect(failed.stderr).toMatch(new RegExp(`${stray} records that a backup-restore-files did not finish putting the files of snapshot ${first.slice(0, 8)} [^\\n]* in place in ${gone}, `
        + `which is no longer one of this machine's file paths \\(${uploads} ${exports}\\), so nothing restores it or holds it back\\. Fix: check what ${gone} holds`));
      const again = ok(await restore(['--path', uploads]));
      expect(again.stderr).toMatch(new RegExp(`OK: restored [^\\n]*${uploads} from snapshot ${newest.slice(0, 8)} [^\\n]*restored again what a stopped restore left half placed`));
      expect(tree(uploads)).toBe(v2.uploads);
      expect(leftovers(uploads)).toEqual([]);
      expect(fs.readdirSync(state).filter((n) => n.startsWith('restore-placing.'))).toEqual([path.basename(stray)]);
      // The push notes the stray marker too, on the terminal and in its success ping, and backs the paths up; an empty
      // one (made by hand here: this version never writes one) is noted as of a path it cannot name.
      fs.writeFileSync(emptyStray, '');
      const pushed = await push(rebuilt);
      expectSuccess(pushed, PROD_HOST, 'push');
      const strayNote = new RegExp(`${stray} records that a backup-restore-files did not finish putting the files of snapshot ${first.slice(0, 8)} [^\\n]* in place in ${gone}, `
        + `which is no longer one of this machine's file paths \\(${uploads} ${exports}\\), so nothing restores it or holds it back\\. Fix: check what ${gone} holds \\(or restore it by hand\\), then remove ${stray}`);
      expect(pushed.stderr).toMatch(strayNote);
      expect(pushed.pings[1].body).toMatch(strayNote);
      const emptyStrayNote = new RegExp(`${emptyStray} is the empty marker of a backup-restore-files that did not finish putting files in place in a path that is not one of `
        + `this machine's file paths \\(${uploads} ${exports}; an empty marker names no path\\), so nothing restores it or holds it back\\. `
        + `Fix: check the paths the plan dropped \\(or restore them by hand\\), then remove ${emptyStray}`);
      expect(pushed.stderr).toMatch(emptyStrayNote);
      expect(pushed.pings[1].body).toMatch(emptyStrayNote);
    } finally {
      fs.rmSync(emptyStray, { force: true });
      fs.rmSync(stray, { force: true });
    }
  });

  // Review (twelfth pass, left then): a bare rerun finishes the restore the markers record; markers of different
  // snapshots or targets cannot be finished by one run, and it went untested that the run refuses them.
  test('a bare rerun over paths marked by restores of different snapshots or targets is refused, naming each marker and its command, and changes nothing', async () => {
    const state = stateDir();
    const [heldUploads, heldExports] = [tree(uploads), tree(exports)];
    // Each pair differs in one of the two only: a run that compared only the other would take them as one restore.
    const pairs: Array<[[string, string], [string, string]]> = [
      [[first, 'storagebox'], [second, 'storagebox']],
      [[first, 'storagebox'], [first, 'storagebox2']],
    ];
    try {
      for (const [[upSnap, upTarget], [exSnap, exTarget]] of pairs) {
        fs.writeFileSync(markerOf(uploads), `${uploads}\nsnapshot ${upSnap.slice(0, 8)} (of the uploads) from ${upTarget}\n${upSnap} ${upTarget}\n`);
        fs.writeFileSync(markerOf(exports), `${exports}\nsnapshot ${exSnap.slice(0, 8)} (of the exports) from ${exTarget}\n${exSnap} ${exTarget}\n`);
        const bare = await restore([], { etc: twoTargets });
        refused(bare, new RegExp(`FAILED: the paths to restore were left half placed by restores of different snapshots or targets `
          + `\\(snapshot ${upSnap.slice(0, 8)} \\(of the uploads\\) from ${upTarget}; snapshot ${exSnap.slice(0, 8)} \\(of the exports\\) from ${exTarget}; \\)\\. Nothing was changed\\. `
          + `Fix: run backup-restore-files --path ${uploads} --from ${upTarget} --snapshot ${upSnap}; backup-restore-files --path ${exports} --from ${exTarget} --snapshot ${exSnap};`));
        expect(bare.stderr).not.toMatch(/step: choosing the snapshots/);
        expect([tree(uploads), tree(exports)]).toEqual([heldUploads, heldExports]);
        expect(fs.readdirSync(state).filter((n) => n.startsWith('restore-placing.')).sort()).toEqual([path.basename(markerOf(uploads)), path.basename(markerOf(exports))].sort());
      }
    } finally {
      fs.rmSync(markerOf(uploads), { force: true });
      fs.rmSync(markerOf(exports), { force: true });
    }
  });

  // Review (thirteenth pass): a rerun naming a marked path and an unmarked one by --path took the marker's snapshot and
  // target for both: the unmarked path was restored from a snapshot older than its newest (over it, with --replace).
  // Review (of the thirteenth pass): a path whose marker is empty was said to have no marker, and its fix, a run naming
  // it alone, is refused over what it holds; and --from alone does not restore the paths from one snapshot.
  // Review (fourteenth pass): its one-run alternative named --snapshot without the marker's target (not the first) and
  // --replace for the marked path only (the unmarked one holds files): as printed, it was refused.
  test('a rerun naming by --path a marked path and an unmarked one, with neither --snapshot nor --from, is refused, naming commands that succeed as printed (or with --replace added as they say), and changes nothing; a path whose marker records it but no snapshot gets that marker\'s own fix, which is not refused', async () => {
    const state = stateDir();
    const [heldUploads, heldExports] = [tree(uploads), tree(exports)];
    // The older snapshot on the second target: what the run would have restored the exports from.
    const marker = `${uploads}\nsnapshot ${first.slice(0, 8)} (of the uploads) from storagebox2\n${first} storagebox2\n`;
    fs.writeFileSync(markerOf(uploads), marker);
    try {
      // With --replace, every command keeps it; without, the exports (which hold files) get none, only what it would
      // replace; the one that also gives the marked path another snapshot says it is refused without it (reviews,
      // fourteenth pass).
      const held = withContent(exports);
      for (const replace of [['--replace'], []]) {
        const [it, them, newest] = replace.length ? [' --replace', ' --replace', ' --replace']
          : [esc(` (it holds ${held}: ${addReplace})`), esc(` (${exports} holds ${held}: ${addReplace})`),
            esc(` (refused without --replace, as a marked path may be given another snapshot than its marker's; with it, it also replaces what is there: ${exports} holds ${held})`)];
        const mixed = await restore(['--path', uploads, '--path', exports, ...replace], { etc: twoTargets });
        refused(mixed, new RegExp(`FAILED: the paths named mix half placed and unmarked ones: ${uploads}, left half placed by a stopped restore of `
          + `snapshot ${first.slice(0, 8)} \\(of the uploads\\) from storagebox2, and ${exports}, with no marker that records a snapshot\\. A rerun with neither --snapshot nor --from takes `
          + `the marker's snapshot and target for every path named, so ${exports} would be restored from that snapshot, [^\\n]*Nothing was changed\\. `
          + `Fix: run backup-restore-files --path ${uploads} --from storagebox2 --snapshot ${first}; then backup-restore-files --path ${exports}${it} for the others; `
          + `or restore them in one run: all from the marker's snapshot \\(if it holds them all\\), backup-restore-files --path ${uploads} --path ${exports} --from storagebox2 --snapshot ${first}${them}; `
          + `or each from its newest snapshot on storagebox, backup-restore-files --path ${uploads} --path ${exports} --from storagebox${newest}\\. `
          + 'A command has --replace where this run was given it, where a marked path is given another snapshot than its marker\'s \\(as its newest may be\\), which is refused without it, '
          + 'and in the fix of a path whose marker records no snapshot \\(what it holds is half placed\\); where it would also replace the files of an unmarked path this run was not told to replace, '
          + 'the command comes without it and says what it would replace\n'));
        expect(mixed.stderr).not.toMatch(/step: choosing the snapshots/);
        expect([tree(uploads), tree(exports)]).toEqual([heldUploads, heldExports]);
        expect(fs.readdirSync(state).filter((n) => n.startsWith('restore-placing.'))).toEqual([path.basename(markerOf(uploads))]);
        expect(fs.readFileSync(markerOf(uploads), 'utf8')).toBe(marker);
      }
      // With no --path, the marked path alone; the others' command keeps the run's --replace, as the refusal's does
      // (review, thirteenth pass). A restic that fails stops it there, changing nothing.
      const bin = path.join(tmp, 'bin-restic-fails');
      fs.mkdirSync(bin, { recursive: true });
      fs.writeFileSync(path.join(bin, 'restic'), '#!/bin/bash\necho "restic: fails (test)" >&2\nexit 1\n', { mode: 0o755 });
      const bare = await restore(['--replace'], { etc: twoTargets, env: { PATH: `${bin}:${PATH_ENV}` } });
      refused(bare, new RegExp(`FAILED: `));
      expect(bare.stderr).toContain(`restoring only ${uploads} (half placed); then run backup-restore-files --path ${exports} --replace for the other paths\n`);
      expect([tree(uploads), tree(exports)]).toEqual([heldUploads, heldExports]);
      expect(fs.readFileSync(markerOf(uploads), 'utf8')).toBe(marker);

      // The exports' marker records their path but no snapshot: said so (not called empty), with its own fix (a snapshot
      // chosen, over what it holds).
      fs.writeFileSync(markerOf(exports), `${exports}\n`);
      const withEmpty = await restore(['--path', uploads, '--path', exports], { etc: twoTargets });
      refused(withEmpty, new RegExp(`FAILED: the paths named mix half placed and unmarked ones: ${uploads}, left half placed by a stopped restore of [^\\n]*, `
        + `and ${exports}, with no marker that records a snapshot \\(that of ${exports} records none\\)\\. [^\\n]*Nothing was changed\\. `
        + `Fix: run backup-restore-files --path ${uploads} --from storagebox2 --snapshot ${first}; backup-restore-files --path ${exports} --snapshot <ID> \\[--from <target>\\] --replace, `
        + `with the snapshot to restore and its target \\(restic snapshots --host ${PROD_HOST} --tag sovereign-files --path ${exports} lists them\\); or restore them in one run: `));
      expect(withEmpty.stderr).not.toMatch(/for the others/);
      expect([tree(uploads), tree(exports)]).toEqual([heldUploads, heldExports]);
      expect(fs.readdirSync(state).filter((n) => n.startsWith('restore-placing.')).sort()).toEqual([path.basename(markerOf(uploads)), path.basename(markerOf(exports))].sort());
      // That fix, as printed, is not refused in turn: the exports from their newest snapshot, and their marker gone.
      ok(await restore(['--path', exports, '--snapshot', newestOf(exports), '--replace'], { etc: twoTargets }));
      expect(tree(exports)).toBe(heldExports);
      expect(fs.readdirSync(state).filter((n) => n.startsWith('restore-placing.'))).toEqual([path.basename(markerOf(uploads))]);

      // The one-run alternative, run as printed, restores both from the marker's snapshot and removes the marker. What
      // it stood for before (--snapshot alone, --replace only for the marked path's other snapshot) is refused: the
      // marker's target is not the first, and the exports hold files.
      const aside = path.join(tmp, 'mixed-held');
      fs.mkdirSync(aside, { recursive: true });
      execFileSync('cp', ['-a', '--', uploads, exports, aside]);
      try {
        const printed = await restore(['--path', uploads, '--path', exports], { etc: twoTargets });
        refused(printed, /FAILED: the paths named mix half placed and unmarked ones: /);
        const oneRun = printed.stderr.match(/all from the marker's snapshot \(if it holds them all\), backup-restore-files ([^;(\n]+) \(([^)\n]+)\);/);
        expect(oneRun).not.toBeNull();
        // Printed without --replace (the run had none), with what adding it replaces: the exports' files, counted.
        expect(oneRun![2]).toBe(`${exports} holds ${withContent(exports)}: ${addReplace}`);
        const args = [...oneRun![1].split(' '), '--replace'];
        expect(args).toEqual(['--path', uploads, '--path', exports, '--from', 'storagebox2', '--snapshot', first, '--replace']);
        // An unmarked path that holds nothing costs nothing: its commands have no --replace and no note; only the one
        // that gives the marked path another snapshot (each path's newest) has it.
        fs.rmSync(exports, { recursive: true, force: true });
        fs.mkdirSync(exports);
        const empty = await restore(['--path', uploads, '--path', exports], { etc: twoTargets });
        refused(empty, new RegExp(`Fix: run backup-restore-files --path ${uploads} --from storagebox2 --snapshot ${first}; then backup-restore-files --path ${exports} for the others; `
          + `or restore them in one run: all from the marker's snapshot \\(if it holds them all\\), backup-restore-files --path ${uploads} --path ${exports} --from storagebox2 --snapshot ${first}; `
          + `or each from its newest snapshot on storagebox, backup-restore-files --path ${uploads} --path ${exports} --from storagebox --replace\\. `));
        expect(empty.stderr).not.toMatch(/holds \d+ files with content/);
        fs.rmSync(exports, { recursive: true, force: true });
        execFileSync('cp', ['-a', '--', path.join(aside, path.basename(exports)), exports]);
        refused(await restore(['--path', uploads, '--path', exports, '--snapshot', first], { etc: twoTargets }),
          new RegExp(`FAILED: refusing to restore ${uploads} from snapshot ${first.slice(0, 8)} on storagebox: `));
        expect([tree(uploads), tree(exports)]).toEqual([heldUploads, heldExports]);
        ok(await restore(args, { etc: twoTargets }));
        expect([tree(uploads), tree(exports)]).toEqual([v1.uploads, v1.exports]);
        expect(fs.readdirSync(state).filter((n) => n.startsWith('restore-placing.'))).toEqual([]);
      } finally {
        // The paths as they were, for the tests below.
        for (const p of [uploads, exports]) {
          fs.rmSync(p, { recursive: true, force: true });
          execFileSync('cp', ['-a', '--', path.join(aside, path.basename(p)), p]);
        }
        fs.rmSync(aside, { recursive: true, force: true });
      }
      expect([tree(uploads), tree(exports)]).toEqual([heldUploads, heldExports]);
    } finally {
      fs.rmSync(markerOf(uploads), { force: true });
      fs.rmSync(markerOf(exports), { force: true });
    }
  });

  // Review (eleventh pass): a marker whose write failed stayed, empty: push held the path back naming no snapshot, and a
  // rerun took it as marked and skipped the --replace check.
  test('a marker that cannot be written whole is removed, changing nothing; an empty marker does not skip the --replace check', async () => {
    const state = stateDir();
    const markers = (): string[] => fs.readdirSync(state).filter((n) => n.startsWith('restore-placing.'));
    const held = tree(uploads);
    // A sync that fails for the marker (a full disk, a quota): the marker file exists by then.
    const bin = path.join(tmp, 'bin-sync-fails');
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, 'sync'), `#!/bin/bash
[[ "$*" == *restore-placing.* ]] || exec /usr/bin/sync "$@"
echo 'sync: No space left on device' >&2
exit 1
`, { mode: 0o755 });
    refused(await restore(['--path', uploads, '--replace'], { env: { PATH: `${bin}:${PATH_ENV}` } }),
      new RegExp(`FAILED: cannot write ${state}/restore-placing\\.\\w{16}, which marks ${uploads} [^\\n]*sync: No space left on device[^\\n]*\\. Nothing was changed\\.`));
    expect(tree(uploads)).toBe(held);
    expect(markers()).toEqual([]);
    expect(fs.existsSync(path.join(state, '.restore-placing.new'))).toBe(false);

    // Review (twelfth pass): the rewrite of a marker an earlier run left (its path half placed) failed, and the marker
    // was removed: the next push would have backed up the half-placed path. It stays, whole.
    const marker = markerOf(uploads);
    const earlier = `${uploads}\nsnapshot ${second.slice(0, 8)} (an earlier run) from storagebox\n${second} storagebox\n`;
    fs.writeFileSync(marker, earlier);
    try {
      refused(await restore(['--path', uploads], { env: { PATH: `${bin}:${PATH_ENV}` } }),
        new RegExp(`FAILED: cannot write ${state}/restore-placing\\.\\w{16}, [^\\n]*sync: No space left on device`));
      expect(fs.readFileSync(marker, 'utf8')).toBe(earlier);
      expect(markers()).toHaveLength(1);
    } finally {
      fs.rmSync(marker, { force: true });
    }

    // An empty marker (this version never writes one: made by hand, as a damaged file system may leave one): the path
    // is checked as if it had none.
    fs.writeFileSync(marker, '');
    try {
      refused(await restore(['--path', uploads]), new RegExp(`FAILED: refusing to restore over paths that hold files: restoring would replace what ${uploads} \\(`));
      expect(tree(uploads)).toBe(held);
      // The push holds the path back all the same: its message says what the marker does not record and how to restore
      // without it, not a blank; the marker is of a path of the plan, not a stray one.
      const pushed = await push(rebuilt);
      const holdBackOf = new RegExp(`the file backup of ${uploads}: a backup-restore-files did not finish putting the files of a snapshot in place in ${uploads} `
        + `\\(stopped, power loss, or a failure after it began\\); it may hold part of what it held and part of that snapshot, which ${marker} does not record `
        + `\\(it records none: this version never writes one so; made by hand, or a damaged file system\\)\\. Backing it up [^\\n]*\\. Nothing of ${uploads} was sent\\. `
        + `Fix: run backup-restore-files --path ${uploads} --snapshot <ID> \\[--from <target>\\] --replace, with the snapshot to restore and its target `
        + `\\(restic snapshots --host ${PROD_HOST} --tag sovereign-files --path ${uploads} lists them\\) `
        + `\\(it restores ${uploads} whole and removes the marker\\); or, once you know ${uploads} is whole, remove ${marker}, then run backup-push again`);
      expectFailure(pushed, PROD_HOST, 'push', holdBackOf);
      // No stray-marker note of it, whatever its wording: the marker is named only where the hold-back message names it.
      const holdBack = (pushed.stderr.match(holdBackOf) ?? [''])[0];
      for (const text of [pushed.stderr, pushed.pings[pushed.pings.length - 1].body]) {
        expect(text).toContain(holdBack);
        expect(text.split(holdBack).join('')).not.toContain(marker);
      }
    } finally {
      fs.rmSync(marker, { force: true });
    }
  });

  // Review (twelfth pass, left then): a failed sync of the markers' directory, after the marker was renamed into it,
  // died saying "Nothing was changed", though the new marker stayed and held the path back.
  // Review (thirteenth pass): its fix named only that path's command; in a run of several paths, those after it were
  // left out, and a rerun with neither --snapshot nor --from would take the marker's snapshot for them.
  test('a restore whose marker is in place but whose directory cannot be synced says the marker stays, naming the command that finishes it and those of the paths after it', async () => {
    const state = stateDir();
    const marker = markerOf(uploads);
    const [held, heldExports] = [tree(uploads), tree(exports)];
    // The newest file snapshot that holds each path (a push above held the uploads back and sent the exports alone).
    const [newest, newestExports] = [newestOf(uploads), newestOf(exports)];
    // Only the sync of the markers' directory while a marker is there fails (the one after the marker's removal does not).
    const bin = path.join(tmp, 'bin-sync-dir-fails');
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, 'sync'), `#!/bin/bash
if [ "$*" = '-- ${state}' ] && compgen -G '${state}/restore-placing.*' >/dev/null; then echo 'sync: Input/output error' >&2; exit 1; fi
exec /usr/bin/sync "$@"
`, { mode: 0o755 });
    try {
      // Every path of the plan (the uploads first), over what they hold.
      const failed = await restore(['--replace'], { env: { PATH: `${bin}:${PATH_ENV}` } });
      refused(failed, new RegExp(`FAILED: cannot sync ${state} after putting ${marker} in place \\(it marks ${uploads} as being put in place until it is complete; a power loss now may lose it\\): `
        + `[^\\n]*sync: Input/output error[^\\n]*\\. ${uploads} was not changed, but the marker stays, naming this restore's snapshot ${newest.slice(0, 8)} on storagebox\\. `
        + `Fix: see why ${state} cannot be synced \\(dmesg; df -h ${state}\\), then run backup-restore-files --path ${uploads} --from storagebox --snapshot ${newest} --replace, `
        + `and for the paths not restored yet, backup-restore-files --path ${exports} --from storagebox --snapshot ${newestExports} --replace\\n`));
      expect(failed.stderr).not.toMatch(/Nothing was changed/);
      // The failure report names that one command for the marked path, the run's own (with its --replace), not a
      // second one read back from the marker on the failing file system (review, thirteenth pass).
      expect(failed.stderr).toMatch(new RegExp(`FAILED \\(exit 1\\) [^\\n]*\\. ${uploads} is marked as not put in place whole \\(${marker}\\), `
        + `and backup-push holds it back until a run of backup-restore-files --path ${uploads} --from storagebox --snapshot ${newest} --replace succeeds\\n`));
      expect(failed.stderr.match(/backup-restore-files --path [^\s,;]+ --from \S+ --snapshot [0-9a-f]+(?! --replace)(?=[\s,;]|$)/gm)).toBeNull();
      expect([tree(uploads), tree(exports)]).toEqual([held, heldExports]);
      expect(leftovers(uploads)).toEqual([]);
      expect(fs.readFileSync(marker, 'utf8')).toMatch(new RegExp(`^${uploads}\\nsnapshot ${newest.slice(0, 8)} [^\\n]* from storagebox\\n${newest} storagebox\\n$`));
      fs.rmSync(marker);

      // Without --replace (the paths empty, so the run gets that far): the commands have none, and nothing walks a
      // path once the marker is there: a find over the failing disk could hang before this message (review,
      // fifteenth pass: the fix read the marker back and walked the later paths).
      const aside = path.join(tmp, 'sync-held');
      fs.mkdirSync(aside, { recursive: true });
      execFileSync('cp', ['-a', '--', uploads, exports, aside]);
      const walked = path.join(tmp, 'walked-after-marker');
      // The failing disk reads back another marker than was written (another snapshot): a command built from it would
      // carry --replace; one built from what the run knows does not.
      fs.writeFileSync(path.join(bin, 'sync'), `#!/bin/bash
if [ "$*" = '-- ${state}' ] && compgen -G '${state}/restore-placing.*' >/dev/null; then
  printf '%s\\nsnapshot ${first.slice(0, 8)} (read back) from storagebox2\\n%s storagebox2\\n' '${uploads}' '${first}' >'${marker}'
  echo 'sync: Input/output error' >&2; exit 1
fi
exec /usr/bin/sync "$@"
`, { mode: 0o755 });
      fs.writeFileSync(path.join(bin, 'find'), `#!/bin/bash
! compgen -G '${state}/restore-placing.*' >/dev/null || echo "$*" >>'${walked}'
exec /usr/bin/find "$@"
`, { mode: 0o755 });
      try {
        for (const p of [uploads, exports]) {
          fs.rmSync(p, { recursive: true, force: true });
          fs.mkdirSync(p);
        }
        const bare = await restore([], { env: { PATH: `${bin}:${PATH_ENV}` } });
        refused(bare, new RegExp(`FAILED: cannot sync ${state} after putting ${marker} in place [^\\n]*`
          + `then run backup-restore-files --path ${uploads} --from storagebox --snapshot ${newest}, `
          + `and for the paths not restored yet, backup-restore-files --path ${exports} --from storagebox --snapshot ${newestExports}\\n`));
        expect(bare.stderr).not.toMatch(/--replace succeeds/);
        expect(fs.existsSync(walked)).toBe(false);
      } finally {
        fs.rmSync(path.join(bin, 'find'), { force: true });
        for (const p of [uploads, exports]) {
          fs.rmSync(p, { recursive: true, force: true });
          execFileSync('cp', ['-a', '--', path.join(aside, path.basename(p)), p]);
        }
        fs.rmSync(aside, { recursive: true, force: true });
      }
      expect([tree(uploads), tree(exports)]).toEqual([held, heldExports]);
    } finally {
      fs.rmSync(marker, { force: true });
    }
  });

  test('a restore stopped while restic writes leaves the path as it was, with no work directory', async () => {
    const held = tree(uploads);
    // Stopped once restic is started on the work directory, not before it was made or after the files were placed.
    const stopped = await restore(['--path', uploads, '--replace'], { stopWhen: /run: restic_on storagebox restore \w+ --target \S+\/\.sovereign-restore\.\w+ / });
    refused(stopped, /FAILED: stopped by a signal/);
    // The report reaches the terminal, though the signal came while restic's output went to the log.
    expect(stopped.stderr).toMatch(/FAILED \(exit 1\) at step 'restoring \S+ from snapshot \w{8} on storagebox': stopped by a signal\nstopped by a signal\nfailed step: restoring /);
    expect(tree(uploads)).toBe(held);
    expect(leftovers(uploads)).toEqual([]);
  });

  test('a restore killed (SIGKILL) while restic writes leaves its work directory, which backup-push does not back up and the next restore removes', async () => {
    const held = tree(uploads);
    // The line the kill waits for comes before restic starts, and restic may finish first: a restic that lingers after
    // its restore keeps the kill before the placing, whenever it lands.
    const bin = path.join(tmp, 'bin-restic-lingers');
    fs.mkdirSync(bin, { recursive: true });
    const restic = realRestic();
    fs.writeFileSync(path.join(bin, 'restic'), `#!/bin/bash\ncase " $* " in *" restore "*) '${restic}' "$@" || exit; exec sleep 300;; esac\n`
      + `exec '${restic}' "$@"\n`, { mode: 0o755 });
    const killed = await restore(['--path', uploads, '--replace'],
      { env: { PATH: `${bin}:${PATH_ENV}` }, onOutput: { when: /run: restic_on storagebox restore \w+ --target \S+\/\.sovereign-restore\.\w+ /, act: (pid) => process.kill(-pid, 'SIGKILL') } });
    expect(killed.code).toBeNull();
    expect(leftovers(uploads)).toHaveLength(1);
    expectSuccess(await push(rebuilt), PROD_HOST, 'push');
    const listed = resticOnBox('ls', '--json', newestFileSnapshot()).split('\n').filter(Boolean).map((line) => JSON.parse(line));
    const listedPaths: string[] = listed.filter((entry) => entry.struct_type === 'node').map((entry) => entry.path);
    expect(listedPaths).toContain(`${uploads}/contract.pdf`);
    expect(listedPaths.filter((p) => p.includes('.sovereign-restore'))).toEqual([]);
    ok(await restore(['--path', uploads, '--replace']));
    expect(leftovers(uploads)).toEqual([]);
    expect(tree(uploads)).toBe(held);
  });

  test('a restore whose disk fills up while restic writes (no inode left) fails, naming restic, and leaves the path as it was', async () => {
    // Inodes for the mount's root, .keep, the work directory and the directories restic makes in it for the path's own
    // (TMPDIR's depth), and two more: fewer than the snapshot's five entries, whatever TMPDIR is.
    const inodes = 3 + uploads.split('/').filter(Boolean).length + 2;
    await mounted(uploads, `size=64m,nr_inodes=${inodes}`, async () => {
      fs.writeFileSync(path.join(uploads, '.keep'), '');
      refused(await restore(['--path', uploads]),
        new RegExp(`FAILED: restic restore of ${uploads} from snapshot \\w{8} on storagebox failed \\([^\\n]+\\); ${uploads} is as it was`));
      expect(fs.readdirSync(uploads)).toEqual(['.keep']);
    });
  });

  test('a path whose disk has less room than the snapshot takes is refused before anything is written', async () => {
    await mounted(uploads, 'size=1m', async () => {
      refused(await restore(['--path', uploads]), new RegExp(`FAILED: refusing to restore ${uploads}: the files of snapshot \\w{8} take 6\\.\\dMiB `
        + 'and its disk has 1\\.0MiB free \\(what the path holds now goes only once the restored files are complete\\)\\. Nothing was changed\\.'));
      expect(fs.readdirSync(uploads)).toEqual([]);
    });
  });

  test('a path on a read-only file system fails the restore, naming it, and changes nothing', async () => {
    await mounted(uploads, 'size=64m,ro', async () => {
      refused(await restore(['--path', uploads]), new RegExp(`FAILED: cannot write in ${uploads} \\(mktemp: [^\\n]*Read-only file system\\): the restored files are written there first, `
        + `beside what it holds\\. Nothing was changed\\. Fix: make ${uploads} writable`));
      // Empty by construction (a read-only tmpfs mounted empty cannot change): what this asserts is the message.
      expect(fs.readdirSync(uploads)).toEqual([]);
    });
  });

  test('a path that does not exist yet, on a read-only file system, fails the restore with the same message', async () => {
    // Its parent (and the other path) hidden under a read-only tmpfs: the path must be made, and cannot be.
    await mounted(path.dirname(uploads), 'size=1m,ro', async () => {
      refused(await restore(['--path', uploads]), new RegExp(`FAILED: cannot write in ${uploads} \\(mkdir: [^\\n]*Read-only file system\\): the restored files are written there first, `
        + `beside what it holds\\. Nothing was changed\\. Fix: make ${uploads} writable`));
      expect(fs.readdirSync(path.dirname(uploads))).toEqual([]);
    });
  });

  test('a second path that cannot be written fails the restore, naming the first as restored and the second as unchanged', async () => {
    skeleton(uploads);
    // The paths are restored in the plan's order (uploads, then exports): the first is restored before the second fails.
    await mounted(exports, 'size=64m,ro', async () => {
      refused(await restore(['--replace']), new RegExp(`FAILED: cannot write in ${exports} \\(mktemp: [^\\n]*Read-only file system\\): the restored files are written there first, `
        + `beside what it holds\\. ${exports} was not changed \\(already restored: ${uploads}\\)\\. Fix: make ${exports} writable`));
    });
    expect(tree(uploads)).toBe(v2.uploads);
    expect(leftovers(uploads)).toEqual([]);
  });
});
