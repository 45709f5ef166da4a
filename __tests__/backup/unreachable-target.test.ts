import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BackupWorld, expectFailure, PATH_ENV, PROD_HOST, RunResult, TEST_HOST } from './helpers/world';
import { realRestic } from './helpers/real-restic';
import { describeWithRealParts, isRoot } from '../setup/real-parts';
import { SilentTarget, silentTarget } from './helpers/silent-target';

// Audit (ninth pass): the backups found a target that does not answer once and failed at once (listing, unreached),
// but the other jobs waited out ssh's ConnectTimeout (20 s) again for each restic they started: the drill three times
// (its lock listing, its manifest's fetch, that fetch once more), a restore by hand twice (its unlock, its lock
// listing), a key rotation three times, the bootstrap twice (its login, then the key's installation; or its opening of
// the repository, then restic init). A listener that accepts and never answers counts the connections, and a stand-in
// ssh on PATH cuts ssh's timeout to 2 s (sftp runs /usr/bin/ssh itself: the bootstrap's login waits the whole 20 s):
// each job connects once, fails as before, and says why.
const describeAsRoot = describeWithRealParts(isRoot, 'the unreachable target suite', 'root (runuser, sshd)');

describeAsRoot('a target that does not answer: each job connects to it once, and fails', () => {
  jest.setTimeout(240_000);
  let tmp: string;
  let world: BackupWorld;
  let silent: SilentTarget;

  /** Runs a job of `machine` with the quicker ssh first on PATH; returns its result and the connections it opened. */
  async function counted(machine: 'production' | 'test', job: string, etc: string): Promise<{ ran: RunResult; connections: number }> {
    const before = silent.sockets.length;
    const ran = await world.run(world[machine], job, etc, { env: { PATH: `${silent.bin}:${PATH_ENV}` } });
    return { ran, connections: silent.sockets.length - before };
  }

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'backup-unreachable-'));
    world = await BackupWorld.start(tmp);
    silent = await silentTarget(tmp);
  });

  afterAll(async () => {
    silent?.close();
    await world?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('the restore drill lists the locks, fetches no manifest, and fails naming the timeout', async () => {
    const { ran, connections } = await counted('test', 'restore-drill', world.variant(world.test.etc, 'drill.conf', { source_PORT: silent.port }));
    expect(connections).toBe(1);
    expectFailure(ran, TEST_HOST, 'restore-drill', new RegExp(`^cannot fetch the newest backup of ${PROD_HOST} from source \\(restic dump of its manifest failed\\): the repository cannot be reached \\(ssh: Connection timed out during banner exchange\\)`));
    expect(ran.stderr).toMatch(/source: the repository cannot be reached \(listing its locks timed out\), so restore-drill does not connect to it again/);
    // The fetch did not connect: restic_on's notice, and no second read.
    expect(ran.stderr).toMatch(/source: not connecting again, the repository was not reached a moment ago: ssh: Connection timed out during banner exchange/);
    expect(ran.stderr).not.toMatch(/reading once more/);
  });

  test('a restore by hand removes no lock, lists none, and fails naming the target it cannot reach', async () => {
    const etc = world.productionWith('repo-unreachable-restore', { storagebox_PORT: silent.port });
    const { ran, connections } = await counted('production', 'backup-restore', etc);
    expect(ran.code).toBe(1);
    expect(connections).toBe(1);
    expect(ran.stderr).toMatch(/storagebox: the repository cannot be reached \(removing stale locks timed out\), so backup-restore does not connect to it again/);
    // Not "its locks could not all be read ... pass --snapshot": no snapshot can be read from a target that does not answer.
    expect(ran.stderr).toMatch(/FAILED: the repository of storagebox cannot be reached \(ssh: Connection timed out during banner exchange\)\. Nothing was changed\. Fix: see why storagebox does not answer from this machine/);
  });

  test.each([
    ['backup-prune', 'prune', /^prune failed for: storagebox/],
    ['backup-check', 'check', /^check failed for storagebox: restic unlock failed \([^)]*timed out during banner exchange/],
  ])('%s connects once and fails for the target', async (job, slug, reason) => {
    const etc = world.productionWith(`repo-unreachable-${slug}`, { storagebox_PORT: silent.port });
    const { ran, connections } = await counted('production', job, etc);
    expectFailure(ran, PROD_HOST, slug, reason);
    expect(connections).toBe(1);
    expect(ran.stderr).toMatch(new RegExp(`storagebox: the repository cannot be reached \\(removing stale locks timed out\\), so ${job} does not connect to it again`));
  });

  // Review (ninth pass): the prune judged only its unlock: a target that went away after it was connected to again,
  // and waited out, by each call left (a forget and a listing for each kind of snapshot).
  test('a prune whose target goes away after its unlock fails at the first call that times out, and connects no more', async () => {
    // A plan with file paths too: the prune has two kinds of snapshot to go through.
    const etc = world.productionWith('repo-unreachable-after-unlock', { TAGS: 'sovereign-dump sovereign-files' });
    const bootstrap = await world.run(world.production, 'backup-bootstrap', etc);
    if (bootstrap.code !== 0) throw new Error(bootstrap.stderr);
    // The first ssh of the prune (its unlock's) reaches the Storage Box; every later one goes to the silent target.
    const bin = path.join(tmp, 'bin-ssh-goes-away');
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, 'ssh'), `#!/bin/bash\nmkdir '${bin}/reached' 2>/dev/null && exec /usr/bin/ssh "$@"\n`
      + `exec '${silent.bin}/ssh' "\${@/Port=${world.sftp.port}/Port=${silent.port}}"\n`, { mode: 0o755 });
    const before = silent.sockets.length;
    const ran = await world.run(world.production, 'backup-prune', etc, { env: { PATH: `${bin}:${PATH_ENV}` } });
    expectFailure(ran, PROD_HOST, 'prune', /^prune failed for: storagebox/);
    expect(silent.sockets.length - before).toBe(1);
    expect(ran.stderr).toMatch(/run: restic_on storagebox unlock\n(?![\s\S]*removing stale locks timed out)/);
    expect(ran.stderr).toMatch(/storagebox: the repository cannot be reached \(applying the retention to the \S+ snapshots on storagebox timed out\), so backup-prune does not connect to it again/);
  });

  // Review (twelfth pass, left then): the count of what a prune left, read from a listing that failed, was taken as
  // "none left" (or, empty, as a number); it is said as a listing that failed, and that went untested.
  test('a prune whose listing of what it left fails says so, not that no snapshot is left', async () => {
    const etc = world.productionWith('repo-unreachable-left');
    const bootstrap = await world.run(world.production, 'backup-bootstrap', etc);
    if (bootstrap.code !== 0) throw new Error(bootstrap.stderr);
    // The retention and its prune reach the Storage Box; the target goes away for the listing of what is left (the
    // only \`snapshots\` call that ends with its tag), which then times out for real.
    const bin = path.join(tmp, 'bin-restic-left-goes-away');
    fs.mkdirSync(bin, { recursive: true });
    const restic = realRestic();
    fs.writeFileSync(path.join(bin, 'restic'), `#!/bin/bash\ncase " $* " in *" snapshots --json --host ${PROD_HOST} --tag sovereign-dump ") ;; *) exec '${restic}' "$@";; esac\n`
      + `exec '${restic}' "\${@/Port=${world.sftp.port}/Port=${silent.port}}"\n`, { mode: 0o755 });
    const before = silent.sockets.length;
    const ran = await world.run(world.production, 'backup-prune', etc, { env: { PATH: `${bin}:${silent.bin}:${PATH_ENV}` } });
    expectFailure(ran, PROD_HOST, 'prune', /^prune failed for: storagebox/);
    expect(silent.sockets.length - before).toBe(1);
    expect(ran.stderr).toMatch(/run: restic_on storagebox prune\n/);
    expect(ran.stderr).toMatch(/listing the sovereign-dump snapshots of storagebox failed/);
    expect(ran.stderr).not.toMatch(/no sovereign-dump snapshot left|keeps +sovereign-dump snapshots/);
  });

  test('the bootstrap installs no key after a login that timed out, and fails naming it', async () => {
    const etc = world.productionWith('repo-unreachable-bootstrap', { storagebox_PORT: silent.port });
    const { ran, connections } = await counted('production', 'backup-bootstrap', etc);
    expect(connections).toBe(1);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toMatch(/FAILED: storagebox cannot be reached \(ssh: Connection timed out during banner exchange\), so this machine's key was not installed there nor its repository opened/);
    // The fix names the address the login went to (the bootstrap reads the host and the port with tv_to).
    const host = /^storagebox_HOST='?([^'\n]*)'?$/m.exec(fs.readFileSync(path.join(etc, 'backup.conf'), 'utf8'))![1];
    expect(ran.stderr).toContain(`Fix: see why ${host} port ${silent.port} does not answer from this machine, then run backup-bootstrap again`);
    expect(ran.stderr).not.toMatch(/installing this machine's key/);
  });

  test('the bootstrap of a password login does not run restic init after opening the repository timed out', async () => {
    const etc = world.productionWith('repo-unreachable-init', { storagebox_PORT: silent.port, storagebox_AUTH: 'password' });
    const { ran, connections } = await counted('production', 'backup-bootstrap', etc);
    expect(connections).toBe(1);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toMatch(/storagebox: the repository cannot be reached \(opening the repository timed out\), so backup-bootstrap does not connect to it again/);
    expect(ran.stderr).toMatch(/FAILED: the repository on storagebox cannot be reached \(ssh: Connection timed out during banner exchange\), so it was not initialized/);
    expect(ran.stderr).not.toMatch(/run: restic_on storagebox init/);
  });
});
