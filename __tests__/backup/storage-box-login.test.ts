import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SftpServer } from './helpers/sftp-server';
import { b64, BackupWorld, expectSuccess, PROD_HOST, RESTIC_PASSWORD } from './helpers/world';
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

  test('a configuration directory and TMPDIR with spaces, quotes, a comma, a % and a $(…): bootstrap, dump and snapshots on the real restic; the exit clean-up removes the run directory and runs nothing', async () => {
    // A $(…) that, run at exit as code, would make the marker file. TMPDIR holds single quotes around it (so that the old code's '…' put it outside them) (a path with
    // both kinds of quote has no form restic splits back: refused, named), the configuration directory a double quote.
    const marker = path.join(tmp, 'cleanup-ran-a-command');
    const command = '$(touch $SB_TEST_MARKER)';
    const odd = `with spaces, a "quote", a comma and 100%d ${command}`;
    const etc = path.join(tmp, `etc ${odd}`);
    fs.cpSync(world.productionWith('repo-odd-paths', { PG_DATABASES: 'app' }), etc, { recursive: true });
    const jobTmp = path.join(tmp, `tmp with spaces, x'${command}'y, a comma and 100%d`);
    fs.mkdirSync(jobTmp);
    // The key and the known host key the jobs use are the ones under that directory (-o IdentityFile, UserKnownHostsFile).
    expect(fs.existsSync(path.join(etc, 'ssh', 'id_ed25519'))).toBe(true);
    expect(fs.readFileSync(path.join(etc, 'ssh', 'known_hosts.storagebox'), 'utf8')).toContain(world.sftp.hostKey);
    const run = async (script: string) => {
      const result = await world.run(world.production, script, etc, { env: { TMPDIR: jobTmp, SB_TEST_MARKER: marker } });
      // Every run's directory (and the keys' file) is gone at exit, and the path's $(…) never ran.
      expect(fs.existsSync(marker)).toBe(false);
      expect(fs.readdirSync(jobTmp)).toEqual([]);
      return result;
    };

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

  test('the bootstrap installs its new key with install-ssh-key over a password login, then logs in with the key; a second run installs nothing', async () => {
    // A sub-account whose authorized_keys is empty, as a new one is: the key login fails until the bootstrap installs it.
    const account = { user: 'sovereign-boxkey', password: 'Box-password-1-long-enough', home: path.join(tmp, 'box-account') };
    const box = await SftpServer.start(path.join(tmp, 'install-box'), { storageBoxAccount: account });
    try {
      const etc = world.variant(world.production.etc, 'backup.conf', { storagebox_PORT: box.port, storagebox_USER: account.user, DUMP_DIR: path.join(tmp, 'dumps-install') }, {
        'secrets/storagebox.password.b64': b64(account.password),
        'ssh/known_hosts.storagebox': `sovereign-storagebox ${box.hostKey}\n`,
      });
      // No key yet on this machine: the bootstrap makes one (ensure_key).
      for (const f of ['id_ed25519', 'id_ed25519.pub']) fs.rmSync(path.join(etc, 'ssh', f));
      const authorized = path.join(account.home, '.ssh', 'authorized_keys');
      expect(fs.existsSync(authorized)).toBe(false);

      const first = await world.run(world.production, 'backup-bootstrap', etc);
      if (first.code !== 0) throw new Error(first.stderr);
      expect(first.stderr).toMatch(/installing this machine's key on storagebox/);
      expect(first.stderr).toMatch(/storagebox: repository initialized/);
      const publicKey = fs.readFileSync(path.join(etc, 'ssh', 'id_ed25519.pub'), 'utf8').trim();
      // The stand-in said so, and the key is in the account's authorized_keys in both formats.
      const installed = fs.readFileSync(authorized, 'utf8');
      expect(installed.split('\n').filter((l) => l === publicKey)).toHaveLength(1);
      expect(installed).toContain('---- BEGIN SSH2 PUBLIC KEY ----');
      // One password login (the install), then the key's logins (the check after it, restic's init); the repository is in
      // the account's home.
      const logins = () => box.log.join('').split('\n').filter((l) => l.includes(`Accepted `) && l.includes(` for ${account.user} `));
      expect(logins().filter((l) => l.includes('Accepted password'))).toHaveLength(1);
      expect(logins().filter((l) => l.includes('Accepted publickey')).length).toBeGreaterThanOrEqual(2);
      expect(fs.existsSync(path.join(account.home, 'restic', 'config'))).toBe(true);

      // The next run (before every dump) logs in with the key: no password login, no second install.
      const passwordLogins = logins().filter((l) => l.includes('Accepted password')).length;
      const second = await world.run(world.production, 'backup-bootstrap', etc);
      expect(second.code).toBe(0);
      expect(second.stderr).not.toMatch(/installing this machine's key/);
      expect(second.stderr).toMatch(/storagebox: repository exists and opens/);
      expect(logins().filter((l) => l.includes('Accepted password'))).toHaveLength(passwordLogins);
      expect(fs.readFileSync(authorized, 'utf8')).toBe(installed);
      // And the jobs use the key: a dump reaches the account's repository.
      expectSuccess(await world.run(world.production, 'backup-dump', world.variant(etc, 'backup.conf', { PG_DATABASES: 'app' })), PROD_HOST, 'dump');
      const snapshots = JSON.parse(execFileSync('restic', ['-r', path.join(account.home, 'restic'), 'snapshots', '--json', '--no-lock'],
        { env: { ...process.env, RESTIC_PASSWORD }, encoding: 'utf8' }));
      expect(snapshots.length).toBe(2);
    } finally {
      await box.stop();
    }
  });
});
