import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { startLoopbackSshd, stopSshd } from '../../testing/harness/sshd';
import { describeWithRealParts, isRoot } from '../setup/real-parts';

// The loopback sshd offers X25519 only (the suites open hundreds of connections, and the post-quantum
// hybrid OpenSSH's client prefers costs it 75 ms of CPU each); a benchmark asks for OpenSSH's own list.
const describeAsRoot = describeWithRealParts(isRoot, 'the loopback sshd suite', 'root (sshd)');

describeAsRoot('the loopback sshd\'s key exchange', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'loopback-sshd-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(tmp, 'id_ed25519')]);
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** The key exchange an OpenSSH client with its own defaults negotiates with the server. */
  async function negotiated(name: string, options: { defaultKeyExchange?: boolean }): Promise<string> {
    const dir = path.join(tmp, name);
    fs.mkdirSync(dir);
    fs.copyFileSync(path.join(tmp, 'id_ed25519.pub'), path.join(dir, 'authorized_keys'));
    const sshd = await startLoopbackSshd(dir, [], options);
    try {
      const ssh = spawnSync('ssh', ['-v', '-F', '/dev/null', '-i', path.join(tmp, 'id_ed25519'), '-p', String(sshd.port), '-o', 'BatchMode=yes',
        '-o', 'StrictHostKeyChecking=no', '-o', `UserKnownHostsFile=${path.join(dir, 'known_hosts')}`, 'root@127.0.0.1', 'true'], { encoding: 'utf8' });
      expect({ status: ssh.status, stderr: ssh.status === 0 ? '' : ssh.stderr }).toEqual({ status: 0, stderr: '' });
      return /debug1: kex: algorithm: (\S+)/.exec(ssh.stderr)![1];
    } finally {
      await stopSshd(sshd.child);
    }
  }

  test('is X25519 by default, and OpenSSH\'s own choice when a benchmark asks for it', async () => {
    expect(await negotiated('classic', {})).toBe('curve25519-sha256');
    expect(await negotiated('default', { defaultKeyExchange: true })).toMatch(/^sntrup761x25519-sha512(@openssh\.com)?$/);
  });
});
