import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { freePort, waitForPort } from '../../setup/ports';

/**
 * A real SFTP server like a Storage Box account: OpenSSH's sshd on 127.0.0.1 on a high port
 * (the box uses 23), public-key login only, its own host key and configuration, and SFTP only
 * (the internal server), starting in `home` as a Storage Box session starts in the account's home.
 */
export class SftpServer {
  public static async start(dir: string): Promise<SftpServer> {
    // sshd's privilege separation directory; Debian's ssh.service creates it at boot.
    fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    fs.mkdirSync(dir, { recursive: true });
    const home = path.join(dir, 'home');
    fs.mkdirSync(home, { mode: 0o755 });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'test storage box', '-f', path.join(dir, 'host_key')]);
    fs.writeFileSync(path.join(dir, 'authorized_keys'), '', { mode: 0o600 });
    const port = await freePort();
    const config = path.join(dir, 'sshd_config');
    fs.writeFileSync(config, [
      `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${path.join(dir, 'host_key')}`, `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`, 'PubkeyAuthentication yes', 'PasswordAuthentication no',
      'KbdInteractiveAuthentication no', 'UsePAM no', 'PermitRootLogin prohibit-password', 'AllowUsers root',
      // The temp directory's modes are not sshd's business.
      'StrictModes no', `ForceCommand internal-sftp -d ${home}`, 'Subsystem sftp internal-sftp',
      'AllowTcpForwarding no', 'X11Forwarding no', 'PermitTTY no', 'MaxStartups 50', '',
    ].join('\n'));
    execFileSync('/usr/sbin/sshd', ['-t', '-f', config]);
    const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    const log: string[] = [];
    child.stderr!.on('data', (d: Buffer) => log.push(d.toString()));
    await waitForPort(port);
    return new SftpServer(dir, home, port, child, log);
  }

  private constructor(
    public readonly dir: string,
    /** The account's home: where a session starts, and relative paths point. */
    public readonly home: string,
    public readonly port: number,
    private readonly child: ChildProcess,
    public readonly log: string[],
  ) {}

  /** The host key as `<type> <base64>`, for pinning. */
  public get hostKey(): string {
    return fs.readFileSync(path.join(this.dir, 'host_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
  }

  /** Lets a client key in. */
  public authorize(publicKey: string): void {
    fs.appendFileSync(path.join(this.dir, 'authorized_keys'), `${publicKey.trim()}\n`);
  }

  public stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null) return resolve();
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }
}
