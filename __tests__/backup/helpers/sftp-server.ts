import { ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { startLoopbackSshd, stopSshd } from '../../../testing/harness/sshd';

/**
 * A real SFTP server like a Storage Box account: OpenSSH's sshd on 127.0.0.1 on a high port
 * (the box uses 23), public-key login only, its own host key and configuration, and SFTP only
 * (the internal server), starting in `home` as a Storage Box session starts in the account's home.
 */
export class SftpServer {
  public static async start(dir: string): Promise<SftpServer> {
    fs.mkdirSync(dir, { recursive: true });
    const home = path.join(dir, 'home');
    fs.mkdirSync(home, { mode: 0o755 });
    const sshd = await startLoopbackSshd(dir, [`ForceCommand internal-sftp -d ${home}`, 'Subsystem sftp internal-sftp', 'PermitTTY no']);
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
