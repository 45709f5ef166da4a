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
  public static async start(dir: string, options: { passwordLogin?: PasswordLogin; defaultKeyExchange?: boolean } = {}): Promise<SftpServer> {
    fs.mkdirSync(dir, { recursive: true });
    const home = path.join(dir, 'home');
    fs.mkdirSync(home, { mode: 0o755 });
    const extra = [`ForceCommand internal-sftp -d ${home}`, 'Subsystem sftp internal-sftp', 'PermitTTY no'];
    const login = options.passwordLogin;
    if (login) {
      if (spawnSync('id', ['-u', login.user]).status !== 0) {
        // Exit 9: another worker made it between the two (it recorded it).
        let made = true;
        withAccountsLock(() => {
          try {
            execFileSync('useradd', ['-M', '-d', login.home, '-s', '/usr/sbin/nologin', login.user], { stdio: 'pipe' });
          } catch (e) {
            if ((e as { status?: number }).status !== 9) throw e;
            made = false;
          }
        });
        if (made) recordAccountMade(login.user);
      }
      withAccountsLock(() => execFileSync('chpasswd', { input: `${login.user}:${login.password}\n`, stdio: ['pipe', 'pipe', 'pipe'] }));
      fs.mkdirSync(login.home, { recursive: true });
      execFileSync('chown', ['-R', `${login.user}:`, login.home]);
      extra.push(`AllowUsers ${login.user}`, `Match User ${login.user}`, '  PasswordAuthentication yes', '  PubkeyAuthentication no',
        `  ForceCommand internal-sftp -d ${login.home}`);
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
