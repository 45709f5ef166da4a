import { ChildProcess, execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { startLoopbackSshd, stopSshd } from '../../../testing/harness/sshd';
import { recordAccountMade } from '../../setup/run-leftovers';

/**
 * A real SFTP server like a Storage Box account: OpenSSH's sshd on 127.0.0.1 on a high port
 * (the box uses 23), public-key login only, its own host key and configuration, and SFTP only
 * (the internal server), starting in `home` as a Storage Box session starts in the account's home.
 */
export interface PasswordLogin {
  /** An OS user of this machine (created if missing) whose password the server accepts, as a read-only Storage Box account logs in. */
  readonly user: string;
  readonly password: string;
  /** Where its sessions start; owned by the user. */
  readonly home: string;
}

export class SftpServer {
  /**
   * Starts the server; with `passwordLogin`, that user logs in with its password (and nothing
   * else) into its own home, as the drill's read-only sub-account does. Each start has a new host key.
   * `defaultKeyExchange`: see {@link startLoopbackSshd}.
   */
  public static async start(dir: string, options: { passwordLogin?: PasswordLogin; storageBoxAccount?: PasswordLogin; defaultKeyExchange?: boolean } = {}): Promise<SftpServer> {
    fs.mkdirSync(dir, { recursive: true });
    const home = path.join(dir, 'home');
    fs.mkdirSync(home, { mode: 0o755 });
    const extra = [`ForceCommand internal-sftp -d ${home}`, 'Subsystem sftp internal-sftp', 'PermitTTY no'];
    const login = options.passwordLogin;
    if (login) {
      // No shell: internal-sftp needs none.
      ensureAccount(login, '/usr/sbin/nologin');
      fs.mkdirSync(login.home, { recursive: true });
      execFileSync('chown', ['-R', `${login.user}:`, login.home]);
      extra.push(`AllowUsers ${login.user}`, `Match User ${login.user}`, '  PasswordAuthentication yes', '  PubkeyAuthentication no',
        `  ForceCommand internal-sftp -d ${login.home}`);
    }
    const account = options.storageBoxAccount;
    if (account) {
      // A login shell: sshd runs a ForceCommand that is not internal-sftp through it.
      ensureAccount(account, '/bin/bash');
      fs.mkdirSync(account.home, { recursive: true });
      execFileSync('chown', ['-R', `${account.user}:`, account.home]);
      const shell = path.join(dir, 'storage-box-shell');
      fs.writeFileSync(shell, STORAGE_BOX_SHELL, { mode: 0o755 });
      extra.push(`AllowUsers ${account.user}`, `Match User ${account.user}`, '  PasswordAuthentication yes', '  PubkeyAuthentication yes',
        `  AuthorizedKeysFile ${account.home}/.ssh/authorized_keys`, `  ForceCommand ${shell} ${account.home}`);
    }
    const sshd = await startLoopbackSshd(dir, extra, { defaultKeyExchange: options.defaultKeyExchange });
    return new SftpServer(dir, home, sshd.port, sshd.hostKey, sshd.child, sshd.log);
  }

  private constructor(
    public readonly dir: string,
    /** The account's home: where a session starts, and relative paths point. */
    public readonly home: string,
    public readonly port: number,
    /** The host key as `<type> <base64>`, for pinning. */
    public readonly hostKey: string,
    private readonly child: ChildProcess,
    public readonly log: string[],
  ) {}

  /** Lets a client key in. */
  public authorize(publicKey: string): void {
    fs.appendFileSync(path.join(this.dir, 'authorized_keys'), `${publicKey.trim()}\n`);
  }

  public stop(): Promise<void> {
    return stopSshd(this.child);
  }
}

/** Makes the OS user of a login (if missing, recorded for the run's cleanup) with its password and login shell. */
function ensureAccount(login: PasswordLogin, shell: string): void {
  if (spawnSync('id', ['-u', login.user]).status !== 0) {
    let made = true;
    withAccountsLock(() => {
      try {
        execFileSync('useradd', ['-M', '-d', login.home, '-s', shell, login.user], { stdio: 'pipe' });
      } catch (e) {
        // Exit 9: another worker made it between the two (it recorded it).
        if ((e as { status?: number }).status !== 9) throw e;
        made = false;
      }
    });
    if (made) recordAccountMade(login.user);
  }
  withAccountsLock(() => execFileSync('chpasswd', { input: `${login.user}:${login.password}\n`, stdio: ['pipe', 'pipe', 'pipe'] }));
}

/**
 * A stand-in of a Storage Box's SSH service on port 23 for one account, run as its ForceCommand with the account's home:
 * `install-ssh-key` reads public keys on stdin and adds each to the account's `.ssh/authorized_keys` in both formats
 * Hetzner's docs name (RFC4716 for port 22, OpenSSH's one line for port 23), saying "Key No. N (…) was installed in …
 * format" for each, as Hetzner's does; every call adds them again (nothing in Hetzner's docs says it skips a key already
 * there, so a caller must not count on it). Anything else is an SFTP session in the home.
 */
const STORAGE_BOX_SHELL = `#!/bin/bash
home=$1
if [ "\${SSH_ORIGINAL_COMMAND:-}" != install-ssh-key ]; then exec /usr/lib/openssh/sftp-server -d "$home"; fi
set -euo pipefail
mkdir -p "$home/.ssh"
chmod 700 "$home/.ssh"
n=0
while IFS= read -r key || [ -n "$key" ]; do
  [ -n "$key" ] || continue
  n=$((n + 1))
  read -r type _ comment <<<"$key"
  printf '%s\\n' "$key" | ssh-keygen -e -f /dev/stdin | grep -v '^Comment:' >>"$home/.ssh/authorized_keys"
  echo "Key No. $n ($type \${comment:-}) was installed in RFC4716 format"
  printf '%s\\n' "$key" >>"$home/.ssh/authorized_keys"
  echo "Key No. $n ($type \${comment:-}) was installed in OpenSSH format"
done
[ "$n" -gt 0 ] || { echo 'no key given on stdin' >&2; exit 1; }
`;

/**
 * Runs an account tool (useradd, chpasswd) again while another suite holds /etc/passwd's lock: those tools
 * give up at once ("cannot lock /etc/passwd; try again later") instead of waiting, and suites run side by side.
 */
function withAccountsLock(command: () => unknown): void {
  for (let attempt = 1; ; attempt++) {
    try {
      command();
      return;
    } catch (e) {
      const said = `${(e as { stderr?: Buffer | string }).stderr ?? ''}`;
      if (attempt >= 50 || !/cannot lock|try again later/i.test(said)) throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
}
