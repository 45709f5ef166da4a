import { ChildProcess, execFileSync, spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Duration } from '../../lib/core/duration';
import { ASKPASS, BACKUP_ROTATE_KEYS, COMMON } from '../../lib/backup/private/scripts';
import { ETC, LIB, SBIN, shellConf } from '../../lib/backup/private/tooling';
import { HeartbeatReceiver } from './helpers/heartbeat-receiver';
import { realRestic } from './helpers/real-restic';
import { addCheapRepositoryKey, cheapenRepositoryKeys } from './helpers/restic-key';
import { holdResticLock, killHolder } from './helpers/restic-lock';
import { SftpServer } from './helpers/sftp-server';
import { silentTarget } from './helpers/silent-target';
import { b64, holdLockFile, PATH_ENV, PROD_HOST, runScript, RunResult } from './helpers/world';
import { describeWithRealParts, isRoot } from '../setup/real-parts';
import { startTogether } from '../setup/start-together';

// backup-rotate-keys as the rollout agent runs it: the tooling laid out in a machine root (the
// script next to the other jobs, common.sh and askpass where they source them, backup.conf with
// Storage Box targets as BackupPlan writes it), the replaced password files kept under
// SOVEREIGN_PREVIOUS_ROOT at their absolute paths, and real restic over a real OpenSSH SFTP server
// on loopback (the Storage Box stand-in of the end-to-end suite). Needs root, like that suite.
const describeAsRoot = describeWithRealParts(isRoot, 'the backup-rotate-keys suite', 'root (sshd)');

// Characters a shell or restic's command splitting would trip over, so that a leak or a mangling shows.
const A = 'old horse battery staple 7#';
const B = `n3w "pass" $HOME \\ 'q' ünï ${'`'}id${'`'}`;
const NEITHER_NEW = 'a new password it never had';
const NEITHER_OLD = 'an old password it never had';
/** No run may print these, or their base64 form, anywhere: stdout, stderr, heartbeat pings. */
const SECRETS = [A, B, NEITHER_NEW, NEITHER_OLD];
const FAIL_PING = `/ping/test-ping-key/${PROD_HOST}-push/fail`;

interface Key {
  readonly current: boolean;
  readonly id: string;
}

/** A target of the machine after a rollout: its repository, its new password and the one the rollout replaced. */
interface TargetAfterRollout {
  readonly repo: string;
  readonly current: string;
  /** null: the rollout did not replace the password file (a new target, or nothing changed). */
  readonly previous: string | null;
}

interface MachineAfterRollout {
  readonly etc: string;
  readonly previousRoot: string;
}

function leaks(text: string): string[] {
  return SECRETS.filter((s) => text.includes(s) || text.includes(b64(s).trim())).map((s) => `a password of ${s.length} characters`);
}

describeAsRoot('backup-rotate-keys with real restic over SFTP', () => {
  jest.setTimeout(180_000);
  let tmp: string;
  let sftp: SftpServer;
  let receiver: HeartbeatReceiver;
  let root: string;
  let runTmp: string;
  let sshDir: string;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rotate-keys-'));
    fs.chmodSync(tmp, 0o755);
    [sftp, receiver] = await startTogether([SftpServer.start(path.join(tmp, 'storage-box')), HeartbeatReceiver.start()] as const);

    // The tooling where the plan installs it; the script sources ../lib/sovereign-backup/common.sh.
    root = path.join(tmp, 'machine');
    const install = (file: string, content: string, mode: number) => {
      fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true, mode: 0o755 });
      fs.writeFileSync(path.join(root, file), content, { mode });
    };
    install(`${LIB}/common.sh`, COMMON, 0o644);
    install(`${LIB}/askpass`, ASKPASS, 0o755);
    install(`${SBIN}/backup-rotate-keys`, BACKUP_ROTATE_KEYS, 0o755);
    // This machine's key, installed on the Storage Box account (the bootstrap's job).
    sshDir = path.join(tmp, 'ssh');
    fs.mkdirSync(sshDir, { mode: 0o700 });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(sshDir, 'id_ed25519')]);
    sftp.authorize(fs.readFileSync(path.join(sshDir, 'id_ed25519.pub'), 'utf8'));
    runTmp = path.join(tmp, 'run-tmp');
    fs.mkdirSync(runTmp, { mode: 0o700 });
  });

  afterAll(async () => {
    await Promise.all([sftp?.stop(), receiver?.stop()]);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  /**
   * The machine after a rollout: a configuration directory (as BackupPlan writes it, one Storage Box
   * target per entry: storagebox, storagebox2, …) holding the new passwords, and the rollout's keep
   * of replaced files holding the previous password files.
   */
  function rollout(name: string, targets: TargetAfterRollout[]): MachineAfterRollout {
    const etc = path.join(tmp, `machine-${name}`, ETC);
    const previousRoot = path.join(tmp, `previous-${name}`);
    const names = targets.map((_, i) => (i === 0 ? 'storagebox' : `storagebox${i + 1}`));
    fs.mkdirSync(path.join(etc, 'secrets'), { recursive: true, mode: 0o700 });
    fs.cpSync(sshDir, path.join(etc, 'ssh'), { recursive: true });
    fs.mkdirSync(previousRoot);
    fs.writeFileSync(path.join(etc, 'secrets/backup-heartbeat.b64'), b64(receiver.url), { mode: 0o600 });
    fs.writeFileSync(path.join(etc, 'backup.conf'), shellConf(`sovereign-backup jobs of ${PROD_HOST} (test)`, [
      ['BACKUP_HOST', PROD_HOST],
      ['BACKUP_STATE', path.join(tmp, 'state')],
      ['HEARTBEAT', 'backup-heartbeat'],
      ['TARGETS', names.join(' ')],
      ...targets.flatMap((t, i): Array<[string, string | number]> => [
        [`${names[i]}_KIND`, 'sftp'], [`${names[i]}_HOST`, '127.0.0.1'], [`${names[i]}_PORT`, sftp.port], [`${names[i]}_USER`, 'root'],
        [`${names[i]}_REPO_PATH`, t.repo], [`${names[i]}_AUTH`, 'key'], [`${names[i]}_HOSTKEYS`, 'yes'],
      ]),
    ]), { mode: 0o600 });
    targets.forEach((t, i) => {
      fs.writeFileSync(path.join(etc, `ssh/known_hosts.${names[i]}`), `sovereign-${names[i]} ${sftp.hostKey}\n`);
      const secret = path.join(etc, `secrets/${names[i]}.restic.b64`);
      fs.writeFileSync(secret, b64(t.current), { mode: 0o600 });
      if (t.previous !== null) {
        const kept = path.join(previousRoot, secret);
        fs.mkdirSync(path.dirname(kept), { recursive: true, mode: 0o700 });
        fs.writeFileSync(kept, b64(t.previous), { mode: 0o600 });
      }
    });
    return { etc, previousRoot };
  }

  /** restic on a repository of the SFTP server's home, read directly from its directory by the test. */
  function restic(repo: string, password: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
    const result = spawnSync('restic', ['-r', path.join(sftp.home, repo), '--no-cache', ...args], {
      env: { PATH: PATH_ENV, HOME: '/root', RESTIC_PASSWORD: password }, encoding: 'utf8',
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  function keys(repo: string, password: string): Key[] {
    const result = restic(repo, password, ['--no-lock', 'key', 'list', '--json']);
    if (result.status !== 0) throw new Error(result.stderr);
    return JSON.parse(result.stdout);
  }

  const opens = (repo: string, password: string) => restic(repo, password, ['--no-lock', 'cat', 'config']).status === 0;

  /**
   * A repository initialized with `password`, holding one snapshot; returns the snapshot's ID. Each
   * is a copy of one made with restic once per password (init calibrates its key derivation and
   * takes seconds on a loaded machine; what a test proves does not depend on which copy it has), its
   * key re-wrapped under a cheap derivation. The keys the script adds keep restic's calibration.
   */
  const templates = new Map<string, { repo: string; snapshot: string }>();
  function repository(repo: string, password: string): string {
    let template = templates.get(password);
    if (!template) {
      const name = `template-${templates.size}`;
      for (const args of [['init'], ['backup', '--host', PROD_HOST, '--tag', 'sovereign-files', path.join(root, LIB)]]) {
        const result = restic(name, password, args);
        if (result.status !== 0) throw new Error(result.stderr);
        // The key init made gets a cheap derivation: the script and the checks open each copy many times.
        if (args[0] === 'init') cheapenRepositoryKeys(path.join(sftp.home, name), password);
      }
      const [snapshot] = JSON.parse(restic(name, password, ['--no-lock', 'snapshots', '--json']).stdout);
      template = { repo: name, snapshot: snapshot.id };
      templates.set(password, template);
    }
    fs.cpSync(path.join(sftp.home, template.repo), path.join(sftp.home, repo), { recursive: true });
    return template.snapshot;
  }

  /** Every file of a repository with its content's hash: equal listings mean an untouched repository. */
  function repositoryState(repo: string): string[] {
    const dir = path.join(sftp.home, repo);
    return (fs.readdirSync(dir, { recursive: true }) as string[]).sort()
      .filter((f) => fs.statSync(path.join(dir, f)).isFile())
      .map((f) => `${f} ${createHash('sha256').update(fs.readFileSync(path.join(dir, f))).digest('hex')}`);
  }

  async function run(machine: MachineAfterRollout, extraPath?: string): Promise<RunResult> {
    const result = await runScript(path.join(root, SBIN, 'backup-rotate-keys'), receiver, {
      ...(extraPath ? { PATH: `${extraPath}:${PATH_ENV}` } : {}), TMPDIR: runTmp,
      SOVEREIGN_BACKUP_ETC: machine.etc, SOVEREIGN_PREVIOUS_ROOT: machine.previousRoot,
    }, { timeout: Duration.seconds(150) });
    // Every run, whatever its case: no password in what it printed or sent.
    const leaked = leaks([result.stdout, result.stderr, ...result.pings.map((p) => `${p.path}\n${p.body}`)].join('\n'));
    if (leaked.length > 0) throw new Error(`backup-rotate-keys printed or sent ${leaked.join(', ')}`);
    // It leaves nothing behind in its temp directory (its log, the key listings).
    const left = fs.readdirSync(runTmp);
    if (left.length > 0) throw new Error(`backup-rotate-keys left ${left.join(', ')} in its temp directory`);
    return result;
  }

  /** A directory holding a `restic` that runs `script` (bash, with restic's arguments), then the real restic: put it first on PATH. */
  function resticInFront(name: string, script: string): string {
    const dir = path.join(tmp, name);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'restic'), `#!/bin/bash\n${script}\nexec '${realRestic()}' "$@"\n`, { mode: 0o755 });
    return dir;
  }

  function expectSuccess(result: RunResult): void {
    if (result.code !== 0) throw new Error(`backup-rotate-keys failed (exit ${result.code}):\n${result.stderr}`);
    expect(result.stderr).toMatch(/rotate-keys: OK: /);
    expect(result.pings).toEqual([]); // a rotation is not a backup: success pings nothing
  }

  test('rotates the key of the target whose password changed: B opens the repository and its snapshot, A no longer does, one key left; a re-run changes nothing', async () => {
    const snapshot = repository('rotate', A);
    repository('rotate-other', B);
    const otherBefore = repositoryState('rotate-other');
    // storagebox's password changed from A to B; storagebox2's file was not replaced.
    const machine = rollout('rotate', [{ repo: 'rotate', current: B, previous: A }, { repo: 'rotate-other', current: B, previous: null }]);
    const configBefore = fs.readFileSync(path.join(sftp.home, 'rotate', 'config'));

    const result = await run(machine);
    expectSuccess(result);
    expect(result.stderr).toMatch(/storagebox: adding the new password as a key/);
    expect(result.stderr).toMatch(/run: restic_on storagebox .*\bkey add\b/); // the pattern the re-run must not show
    expect(result.stderr).toMatch(/storagebox: restic key rotated: the new password opens the repository \(key \w{8}, 1 key\(s\) in all\), the previous one no longer does/);
    expect(result.stderr).toMatch(/storagebox2: no previous restic password file \(.*\): nothing to rotate/);
    expect(result.stderr).toMatch(/OK: restic keys rotated: storagebox; unchanged: storagebox2/);

    // The key the script added is sealed with B (re-wrapping checks its MAC); re-wrapped under the cheap
    // derivation, the checks and the re-run below open it in milliseconds, not half a second each.
    expect(cheapenRepositoryKeys(path.join(sftp.home, 'rotate'), B)).toBe(1);
    expect(opens('rotate', B)).toBe(true);
    const withA = restic('rotate', A, ['--no-lock', 'cat', 'config']);
    expect(withA.status).not.toBe(0);
    expect(withA.stderr).toMatch(/wrong password or no key found/);
    const keysAfter = keys('rotate', B);
    expect(keysAfter).toEqual([expect.objectContaining({ current: true })]);
    const snapshots = JSON.parse(restic('rotate', B, ['--no-lock', 'snapshots', '--json']).stdout);
    expect(snapshots.map((s: any) => s.id)).toEqual([snapshot]);
    expect(restic('rotate', B, ['--no-lock', 'ls', snapshot]).status).toBe(0);
    // The same repository, not a new one: its config (with the repository ID) is the one init wrote.
    expect(fs.readFileSync(path.join(sftp.home, 'rotate', 'config'))).toEqual(configBefore);
    expect(repositoryState('rotate-other')).toEqual(otherBefore);

    const state = repositoryState('rotate');
    const again = await run(machine);
    expectSuccess(again);
    expect(again.stderr).toMatch(/storagebox: the new password opens the repository \(key \w{8}\) and the previous one does not: already rotated/);
    expect(again.stderr).toMatch(/OK: restic keys rotated: none; unchanged: storagebox storagebox2/);
    // No restic key command ran. Word boundaries: a key ID is 8 hex digits and may itself start with
    // "add" (key add58469 failed the unanchored pattern once in CI).
    expect(again.stderr).not.toMatch(/\bkey (add|remove)\b/);
    expect(again.stderr).not.toMatch(/adding the new password|removing the previous password/);
    expect(keys('rotate', B)).toEqual(keysAfter);
    expect(repositoryState('rotate')).toEqual(state);
  });

  test('a configuration directory (and so the previous password\'s path) with a double quote, spaces and a %: rotated as any other', async () => {
    repository('rotate-quoted', A);
    // The configuration directory and the rollout's keep are both named with it: the previous password's file is
    // <keep>/<configuration directory>/secrets/storagebox.restic.b64, given to restic in --password-command.
    const machine = rollout('with a "quote" and 100%d', [{ repo: 'rotate-quoted', current: B, previous: A }]);
    expect(machine.etc).toContain('"');

    const result = await run(machine);
    expectSuccess(result);
    expect(result.stderr).toMatch(/storagebox: adding the new password as a key/);
    expect(result.stderr).toMatch(/storagebox: restic key rotated: the new password opens the repository \(key \w{8}, 1 key\(s\) in all\), the previous one no longer does/);
    expect(cheapenRepositoryKeys(path.join(sftp.home, 'rotate-quoted'), B)).toBe(1);
    expect(opens('rotate-quoted', B)).toBe(true);
    expect(opens('rotate-quoted', A)).toBe(false);
    expect(keys('rotate-quoted', B)).toEqual([expect.objectContaining({ current: true })]);
  });

  test('finishes a rotation that stopped after adding the new key: the old key goes', async () => {
    repository('half', A);
    // The run that stopped: it added B as a key with A, then ended before removing A's key. (Added as
    // restic key add writes it, under the cheap derivation: key add would calibrate scrypt for seconds.)
    addCheapRepositoryKey(path.join(sftp.home, 'half'), A, B);
    expect(keys('half', A)).toHaveLength(2);
    expect(opens('half', B)).toBe(true);

    const result = await run(rollout('half', [{ repo: 'half', current: B, previous: A }]));
    expectSuccess(result);
    expect(result.stderr).toMatch(/both open the repository: an earlier rotation stopped before removing the old key/);
    expect(result.stderr).not.toMatch(/adding the new password/);
    expect(opens('half', A)).toBe(false);
    expect(keys('half', B)).toEqual([expect.objectContaining({ current: true })]);
  });

  test('no previous password file (the rollout did not replace it): nothing to do', async () => {
    repository('unreplaced', B);
    const before = repositoryState('unreplaced');
    const result = await run(rollout('unreplaced', [{ repo: 'unreplaced', current: B, previous: null }]));
    expectSuccess(result);
    expect(result.stderr).toMatch(/storagebox: no previous restic password file \(.*\): nothing to rotate/);
    expect(result.stderr).toMatch(/OK: restic keys rotated: none; unchanged: storagebox/);
    expect(repositoryState('unreplaced')).toEqual(before);
  });

  test('a previous password file identical to the new one: nothing to do', async () => {
    repository('same', B);
    const before = repositoryState('same');
    const result = await run(rollout('same', [{ repo: 'same', current: B, previous: B }]));
    expectSuccess(result);
    expect(result.stderr).toMatch(/storagebox: the restic password did not change: nothing to rotate/);
    expect(repositoryState('same')).toEqual(before);
  });

  test('neither password opens the repository: fails loudly, names the target and the step, leaves that repository untouched and removes no previous key from the others', async () => {
    repository('neither', A);
    repository('neither-other', A);
    const before = repositoryState('neither');
    const result = await run(rollout('neither', [
      { repo: 'neither', current: NEITHER_NEW, previous: NEITHER_OLD },
      { repo: 'neither-other', current: B, previous: A },
    ]));
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(result.stderr).toMatch(
      /FAILED: restic key rotation failed for storagebox: opening the repository failed: neither the new nor the previous restic password opens the repository .*nothing was changed\. Set the restic password variable back to the value that opens this repository and deploy again/);
    expect(result.stderr).not.toMatch(/OK: /);
    // Failures alert through the push job's heartbeat, as the bootstrap's do.
    expect(result.pings.map((p) => p.path)).toEqual([FAIL_PING]);
    expect(result.pings[0].body).toMatch(/storagebox: opening the repository failed: neither the new nor the previous/);
    expect(repositoryState('neither')).toEqual(before);
    expect(opens('neither', A)).toBe(true);
    expect(keys('neither', A)).toHaveLength(1);
    // The other target gets the new key, and keeps the previous one: the failed rollout puts the previous password back.
    expect(result.stderr).toMatch(/storagebox2: the new password opens the repository \(key \w{8}\)/);
    expect(result.stderr).not.toMatch(/storagebox2: restic key rotated/);
    expect(result.stderr).toMatch(/No previous key was removed from any repository: the previous password opens every repository it opened before/);
    expect(opens('neither-other', B)).toBe(true);
    expect(opens('neither-other', A)).toBe(true);
  });

  test('a target that cannot be reached: no previous key goes anywhere, so the password the failed rollout puts back opens every repository; the next deploy finishes', async () => {
    // Phase 2: the Storage Box and the offsite copy share the restic password. The second target is down during the deploy.
    repository('partial-box', A);
    repository('partial-offsite', A);
    const machine = rollout('partial', [{ repo: 'partial-box', current: B, previous: A }, { repo: 'partial-offsite', current: B, previous: A }]);
    const conf = path.join(machine.etc, 'backup.conf');
    const reachable = fs.readFileSync(conf, 'utf8');
    // Port 1 (tcpmux): privileged and unused. Later assignments win when backup.conf is sourced.
    fs.appendFileSync(conf, 'storagebox2_PORT=1\n');
    const failed = await run(machine);
    expect(failed.code).not.toBe(0);
    expect(failed.code).not.toBeNull();
    expect(failed.pings.map((p) => p.path)).toEqual([FAIL_PING]);
    // The rollout fails, and its agent puts the previous password files back: A must still open both.
    // (Before, the Storage Box was rotated first: A no longer opened it, and every backup to it failed.)
    expect(opens('partial-box', A)).toBe(true);
    expect(opens('partial-offsite', A)).toBe(true);
    expect(opens('partial-box', B)).toBe(true);
    expect(failed.pings[0].body).toMatch(/storagebox2: opening the repository with the new password failed: .*Connection refused/);
    expect(failed.pings[0].body).toMatch(/No previous key was removed from any repository[^]*a new key added to storagebox stays, and the next deploy with the new password finishes the rotation/);
    expect(cheapenRepositoryKeys(path.join(sftp.home, 'partial-box'), B)).toBe(1);

    // The next deploy with the new password, the offsite copy reachable again: both rotated.
    fs.writeFileSync(conf, reachable);
    const again = await run(machine);
    expectSuccess(again);
    expect(again.stderr).toMatch(/storagebox: the new password \(key \w{8}\) and the previous one \(key \w{8}\) both open the repository/);
    expect(again.stderr).toMatch(/OK: restic keys rotated: storagebox storagebox2; unchanged: none/);
    for (const repo of ['partial-box', 'partial-offsite']) {
      expect(opens(repo, A)).toBe(false);
      expect(keys(repo, B)).toEqual([expect.objectContaining({ current: true })]);
    }
  });

  // Audit (ninth pass): a target that does not answer cost a connection timeout (20 s) three times: the unlock with the
  // previous password, the unlock with the new one, the key listing. The first one's timeout now stands for the run. A
  // listener that accepts and never answers counts the connections; a stand-in ssh on PATH cuts the timeout to 2 s.
  test('a target that does not answer: it is connected to once, and the rotation fails naming the timeout', async () => {
    repository('silent-box', A);
    const machine = rollout('silent', [{ repo: 'silent-box', current: B, previous: A }]);
    const silent = await silentTarget(tmp);
    fs.appendFileSync(path.join(machine.etc, 'backup.conf'), `storagebox_PORT=${silent.port}\n`);
    try {
      const failed = await run(machine, silent.bin);
      expect(silent.sockets.length).toBe(1);
      expect(failed.code).toBe(1);
      expect(failed.pings.map((p) => p.path)).toEqual([FAIL_PING]);
      expect(failed.stderr).toMatch(/storagebox: the repository cannot be reached \(removing stale locks timed out\), so backup-rotate-keys does not connect to it again/);
      expect(failed.pings[0].body).toMatch(/storagebox: opening the repository with the new password failed: storagebox: not connecting again, the repository was not reached a moment ago: ssh: Connection timed out during banner exchange/);
      expect(opens('silent-box', A)).toBe(true);
    } finally {
      silent.close();
    }
  });

  // Audit (fifth pass): the stale locks went before restic key remove only, and restic key add takes a lock too, which
  // restic refuses on any exclusive lock, stale or not: a check, a prune or a key change killed mid-run failed the
  // rotation of every deploy that changed the password (rolled back) until the next check removed its lock.
  test.each(['shared', 'exclusive'] as const)("the %s lock a restic killed mid-run left stops neither the new key's addition nor the old key's removal", async (kind) => {
    const repo = `stale-lock-${kind}`;
    repository(repo, A);
    const locks = () => fs.readdirSync(path.join(sftp.home, repo, 'locks'));
    // A backup (shared) or a key change (exclusive) of this host that takes its lock, then is killed before it can remove it.
    const running: ChildProcess[] = [];
    await killHolder(await holdResticLock(path.join(sftp.home, repo), kind, running, A));
    expect(locks()).toHaveLength(1);

    const result = await run(rollout(repo, [{ repo, current: B, previous: A }]));
    expectSuccess(result);
    expect(result.stderr).toMatch(/storagebox: removing stale locks of the repository, if any \(restic unlock\)/);
    expect(locks()).toEqual([]);
    expect(opens(repo, A)).toBe(false);
    expect(opens(repo, B)).toBe(true);
  });

  // Audit (job overlap): the rollout runs backup-rotate-keys whenever the backup tooling changes, and it waited for the
  // repository lock before looking at the passwords. A deploy during a dump or a check (which runs for hours) waited
  // with it, until the agent stopped the command after 30 minutes and rolled the deploy back.
  test('no password changed: it neither waits for the repository lock nor opens a repository, while another job holds the lock', async () => {
    repository('busy-same', B);
    repository('busy-changed', A);
    const lock = path.join(tmp, 'state', 'repository.lock');
    fs.mkdirSync(path.dirname(lock), { recursive: true });
    // A job of the machine that holds the lock (a check reading its slice): one process, so that killing it frees the lock.
    // It writes its name into the lock file, as repo_lock does.
    const release = await holdLockFile(lock, (pid) => `backup-check (pid ${pid}), since 2026-12-07T05:10:00`);
    try {
      const wait = (machine: MachineAfterRollout) => {
        // The rotation's own wait (the plan renders 20 minutes, within the agent's 30 for a command); the other jobs' hour stays.
        fs.appendFileSync(path.join(machine.etc, 'backup.conf'), 'LOCK_WAIT_SECONDS=3600\nROTATE_LOCK_WAIT_SECONDS=3\n');
        return machine;
      };
      const before = repositoryState('busy-same');
      const same = await run(wait(rollout('busy-same', [{ repo: 'busy-same', current: B, previous: B }, { repo: 'busy-same', current: B, previous: null }])));
      expectSuccess(same);
      expect(same.stderr).toMatch(/storagebox: the restic password did not change: nothing to rotate/);
      expect(same.stderr).toMatch(/storagebox2: no previous restic password file \(.*\): nothing to rotate/);
      expect(same.stderr).toMatch(/OK: restic keys rotated: none; unchanged: storagebox storagebox2/);
      expect(same.stderr).not.toMatch(/repository lock|run: restic_on/);
      expect(repositoryState('busy-same')).toEqual(before);

      // A changed password still takes the lock: the rotation waits for the job, and gives up naming it.
      const changed = await run(wait(rollout('busy-changed', [{ repo: 'busy-changed', current: B, previous: A }])));
      expect(changed.code).not.toBe(0);
      expect(changed.stderr).toMatch(/FAILED: another backup job has held the repository lock for 3 seconds, so backup-rotate-keys did nothing: backup-check \(pid \d+\), since 2026-12-07T05:10:00\. Fix: deploy again once it has ended .*The rollout rolls back, and the machine keeps the previous restic password/);
      expect(opens('busy-changed', A)).toBe(true);
      expect(opens('busy-changed', B)).toBe(false);
    } finally {
      await release();
    }
  });

  test('an unreachable repository fails with restic\'s reason, not as a wrong password', async () => {
    repository('unreachable', A);
    const machine = rollout('unreachable', [{ repo: 'unreachable', current: B, previous: A }]);
    // Port 1 (tcpmux): privileged and unused. Later assignments win when backup.conf is sourced.
    fs.appendFileSync(path.join(machine.etc, 'backup.conf'), 'storagebox_PORT=1\n');
    const result = await run(machine);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/FAILED: restic key rotation failed for storagebox: opening the repository with the new password failed: .*Connection refused/);
    expect(result.pings.map((p) => p.path)).toEqual([FAIL_PING]);
    expect(opens('unreachable', A)).toBe(true);
    expect(keys('unreachable', A)).toHaveLength(1);
  });

  test('a failed key add fails with restic\'s own reason, and the previous password still opens the repository', async () => {
    // The Storage Box refuses the new key file (a full or read-only account): restic key add fails as restic does.
    const refusing = resticInFront('refusing', `[[ " $* " == *' key add '* ]] && { echo 'Fatal: creating key in backend: sftp: "permission denied" (SSH_FX_PERMISSION_DENIED)' >&2; exit 1; }`);
    repository('add-refused', A);
    const result = await run(rollout('add-refused', [{ repo: 'add-refused', current: B, previous: A }]), refusing);
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(result.pings.map((p) => p.path)).toEqual([FAIL_PING]);
    expect(result.pings[0].body).toMatch(
      /storagebox: adding the new password as a key \(restic key add\) failed: .*SSH_FX_PERMISSION_DENIED.* \(the repository still opens with the previous password only\)/);
    expect(result.pings[0].body).not.toMatch(/see the log/);
    expect(opens('add-refused', A)).toBe(true);
    expect(opens('add-refused', B)).toBe(false);
  });

  // Every run() above already fails on a password in the output or a ping; this one also watches restic's calls.
  test('the passwords never reach the output, the heartbeat, restic\'s argv or its environment', async () => {
    // A restic on PATH before the real one that records how it is called, then runs the real one.
    const calls = path.join(tmp, 'restic-calls');
    const spy = resticInFront('spy', `{ printf 'argv:'; printf ' %s' "$@"; printf '\\n'; env; } >>'${calls}'`);

    repository('secrecy', A);
    const result = await run(rollout('secrecy', [{ repo: 'secrecy', current: B, previous: A }]), spy);
    expectSuccess(result);
    expect(opens('secrecy', B)).toBe(true);
    const recorded = fs.readFileSync(calls, 'utf8');
    expect(recorded).toMatch(/argv: .*key add --new-password-file \/dev\/fd\/\d+/);
    expect(recorded).toMatch(/argv: .*key remove \w{8}/);
    expect(recorded).toMatch(/argv: .*--password-command base64 -d /);
    expect(leaks(recorded)).toEqual([]);
    expect(leaks(`${result.stdout}\n${result.stderr}`)).toEqual([]);
  });
});
