import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BackupWorld, expectSuccess, PROD_HOST, RESTIC_PASSWORD } from './helpers/world';
import { describeWithRealParts, isRoot } from '../setup/real-parts';

// How the jobs log in to the Storage Box, with the rendered scripts, real restic (Debian's 0.14) and a real OpenSSH sshd
// on loopback. restic reads -o as CSV and splits sftp.command itself, and ssh parses each -o as a configuration line and
// expands % in its paths: a value with a space, a quote, a comma or a % must reach ssh whole through all three.
const describeAsRoot = describeWithRealParts(isRoot, 'the Storage Box login suite', 'root (runuser, sshd)');

describeAsRoot('Storage Box logins of the backup jobs', () => {
  jest.setTimeout(240_000);
  let tmp: string;
  let world: BackupWorld;

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'backup-login-'));
    world = await BackupWorld.start(tmp);
    world.seedAppWithOrders();
  });

  afterAll(async () => {
    await world?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('a configuration directory and TMPDIR with spaces, quotes, a comma and a %: bootstrap, dump and snapshots on the real restic', async () => {
    const odd = 'with spaces, a "quote", a comma and 100%d';
    const etc = path.join(tmp, `etc ${odd}`);
    fs.cpSync(world.productionWith('repo-odd-paths', { PG_DATABASES: 'app' }), etc, { recursive: true });
    const jobTmp = path.join(tmp, `tmp ${odd}`);
    fs.mkdirSync(jobTmp);
    // The key and the known host key the jobs use are the ones under that directory (-o IdentityFile, UserKnownHostsFile).
    expect(fs.existsSync(path.join(etc, 'ssh', 'id_ed25519'))).toBe(true);
    expect(fs.readFileSync(path.join(etc, 'ssh', 'known_hosts.storagebox'), 'utf8')).toContain(world.sftp.hostKey);
    const run = (script: string) => world.run(world.production, script, etc, { env: { TMPDIR: jobTmp } });

    const bootstrap = await run('backup-bootstrap');
    if (bootstrap.code !== 0) throw new Error(bootstrap.stderr);
    expect(bootstrap.stderr).toMatch(/storagebox: repository initialized/);
    const dump = await run('backup-dump');
    expectSuccess(dump, PROD_HOST, 'dump');
    // The snapshots are on the Storage Box, read there by restic itself.
    const snapshots = JSON.parse(execFileSync('restic', ['-r', path.join(world.sftp.home, 'repo-odd-paths'), 'snapshots', '--json', '--no-lock'],
      { env: { ...process.env, RESTIC_PASSWORD }, encoding: 'utf8' }));
    expect(snapshots.map((s: { tags: string[] }) => s.tags.find((t) => t.startsWith('sovereign-dump'))).sort()).toEqual(['sovereign-dump', 'sovereign-dump-data']);
    // A second bootstrap logs in with the key from that directory again and finds the repository.
    const again = await run('backup-bootstrap');
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/storagebox: repository exists and opens/);
  });
});
