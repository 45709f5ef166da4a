import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { freePort, waitForPort } from './ports';

/** An OpenSSH sshd on 127.0.0.1, started for a test. */
export interface LoopbackSshd {
  readonly port: number;
  readonly child: ChildProcess;
  /** What sshd wrote to stderr. */
  readonly log: string[];
  /** Its host key as `<type> <base64>`, for pinning. */
  readonly hostKey: string;
}

/**
 * Starts sshd on 127.0.0.1 on a free port with its own host key and configuration in `dir`: root
 * login with the keys in `dir`/authorized_keys only, and `extra` configuration lines on top.
 * `defaultKeyExchange` keeps OpenSSH's own key exchanges (the post-quantum hybrid first), as a
 * benchmark wants: a real server may offer them.
 */
export async function startLoopbackSshd(dir: string, extra: readonly string[], options: { defaultKeyExchange?: boolean } = {}): Promise<LoopbackSshd> {
  // sshd's privilege separation directory; Debian's ssh.service creates it at boot.
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const hostKeyFile = path.join(dir, 'host_key');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'loopback sshd', '-f', hostKeyFile]);
  const authorized = path.join(dir, 'authorized_keys');
  if (!fs.existsSync(authorized)) fs.writeFileSync(authorized, '', { mode: 0o600 });
  const port = await freePort();
  const config = path.join(dir, 'sshd_config');
  fs.writeFileSync(config, [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${hostKeyFile}`, `PidFile ${path.join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${authorized}`, 'PubkeyAuthentication yes', 'PasswordAuthentication no',
    'KbdInteractiveAuthentication no', 'UsePAM no', 'PermitRootLogin prohibit-password', 'AllowUsers root',
    // The temp directory's modes are not sshd's business.
    'StrictModes no', 'AllowTcpForwarding no', 'X11Forwarding no', 'MaxStartups 50',
    // Classic X25519 key exchange only, unless asked otherwise. OpenSSH 9's client prefers the
    // post-quantum hybrid (sntrup761x25519), whose key generation costs it 75 ms of CPU per connection
    // here against 6 ms; the suites open hundreds of connections. The clients' own settings are
    // untouched: against a server that offers the hybrid, the scripts still negotiate it.
    ...(options.defaultKeyExchange ? [] : ['KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org']),
    ...extra, '',
  ].join('\n'));
  execFileSync('/usr/sbin/sshd', ['-t', '-f', config]);
  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  const log: string[] = [];
  child.stderr!.on('data', (d: Buffer) => log.push(d.toString()));
  await waitForPort(port);
  const hostKey = fs.readFileSync(`${hostKeyFile}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
  return { port, child, log, hostKey };
}

/** Stops a started sshd and waits for it to exit. */
export function stopSshd(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
