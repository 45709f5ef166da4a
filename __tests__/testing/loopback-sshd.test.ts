import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { startLoopbackSshd, stopSshd } from '../../testing/harness/sshd';
import { describeWithRealParts, isRoot } from '../setup/real-parts';

// The loopback sshd offers X25519 only (the suites open hundreds of connections, and the post-quantum
// hybrid OpenSSH's client prefers costs it 75 ms of CPU each); a benchmark asks for OpenSSH's own list.
// Its sessions see the stock dotfiles of a fresh Debian server, whatever this machine's root has.
const describeAsRoot = describeWithRealParts(isRoot, 'the loopback sshd suite', 'root (sshd)');

describeAsRoot('the loopback sshd', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'loopback-sshd-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(tmp, 'id_ed25519')]);
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** Starts a loopback sshd in `tmp`/`name` and runs `command` in a root session over it with OpenSSH's client defaults. */
  async function session(name: string, command: string, options: { defaultKeyExchange?: boolean } = {}) {
    const dir = path.join(tmp, name);
    fs.mkdirSync(dir);
    fs.copyFileSync(path.join(tmp, 'id_ed25519.pub'), path.join(dir, 'authorized_keys'));
    const sshd = await startLoopbackSshd(dir, [], options);
    try {
      const ssh = spawnSync('ssh', ['-v', '-F', '/dev/null', '-i', path.join(tmp, 'id_ed25519'), '-p', String(sshd.port), '-o', 'BatchMode=yes',
        '-o', 'StrictHostKeyChecking=no', '-o', `UserKnownHostsFile=${path.join(dir, 'known_hosts')}`, 'root@127.0.0.1', command], { encoding: 'utf8' });
      expect({ status: ssh.status, stderr: ssh.status === 0 ? '' : ssh.stderr }).toEqual({ status: 0, stderr: '' });
      return ssh;
    } finally {
      await stopSshd(sshd.child);
    }
  }

  /** The key exchange an OpenSSH client with its own defaults negotiates with the server. */
  async function negotiated(name: string, options: { defaultKeyExchange?: boolean }): Promise<string> {
    return /debug1: kex: algorithm: (\S+)/.exec((await session(name, 'true', options)).stderr)![1];
  }

  test('is X25519 by default, and OpenSSH\'s own choice when a benchmark asks for it', async () => {
    expect(await negotiated('classic', {})).toBe('curve25519-sha256');
    expect(await negotiated('default', { defaultKeyExchange: true })).toMatch(/^sntrup761x25519-sha512(@openssh\.com)?$/);
  });

  // bash reads ~/.bashrc for every command sshd runs. This image's runs pyenv (0.7 CPU-s a session) and puts its
  // shims first on PATH; a fresh Debian server has the stock file, and so do the loopback sshd's sessions.
  const stock = '/usr/share/base-files/dot.bashrc';
  const bashrc = path.join(os.userInfo().homedir, '.bashrc');
  (fs.existsSync(stock) && fs.existsSync(bashrc) ? test : test.skip)('gives its sessions a fresh Debian root\'s ~/.bashrc and leaves this machine\'s alone', async () => {
    const before = fs.readFileSync(bashrc, 'utf8');
    const seen = (await session('dotfiles', 'cat ~/.bashrc')).stdout;
    expect(seen).toBe(fs.readFileSync(stock, 'utf8'));
    expect(fs.readFileSync(bashrc, 'utf8')).toBe(before);
  });
});
