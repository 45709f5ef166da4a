import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { lockAgent } from '../../cli/ssh-agent-lock';
import { describeWithRealParts } from '../setup/real-parts';
import { startSshAgent, TestSshAgent } from '../../testing/harness/ssh-agent';

const hasAgent = spawnSync('ssh-agent', ['-k'], { stdio: 'ignore' }).error === undefined;

// The release locks the runner's agent for the rehearsal with a passphrase of its own. OpenSSH's agent reads that
// passphrase as a C string and drops the connection on a NUL inside it: with 32 random bytes, one lock in eight
// failed, and the release refused where the agent would have locked.
describeWithRealParts(hasAgent, 'the SSH agent lock', 'OpenSSH (ssh-agent, ssh-keygen, ssh-add)')('lockAgent, against a real ssh-agent', () => {
  let dir: string;
  let agent: TestSshAgent | undefined;
  let socket: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-lock-'));
    socket = path.join(dir, 'agent.sock');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'lock-test', '-f', path.join(dir, 'key')]);
    agent = startSshAgent(socket, [path.join(dir, 'key')]);
  });

  afterAll(() => {
    agent?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const listed = () => spawnSync('ssh-add', ['-l'], { env: { ...process.env, SSH_AUTH_SOCK: socket }, encoding: 'utf8' });

  test('locks and unlocks every time, the key hidden while locked and back after', async () => {
    // 40 rounds: with the raw-bytes passphrase, at least one of them fails 99.5% of the time.
    for (let round = 0; round < 40; round++) {
      const locked = await lockAgent(socket);
      expect({ round, locked: 'unlock' in locked ? 'locked' : locked.why }).toEqual({ round, locked: 'locked' });
      expect(listed().stdout).toMatch(/no identities/);
      expect(await (locked as { unlock: () => Promise<unknown> }).unlock()).toEqual({ unlocked: true });
      expect(listed().stdout).toMatch(/lock-test/);
    }
  }, 60_000);

  // Review (revz 4): a lock whose answer was lost (a dropped connection, a slow forwarded agent past the time limit)
  // was reported as "could not be locked" without an unlock, and the agent, locked after all, stayed so: the steps
  // after failed with "Permission denied (publickey)". It is unlocked now.
  test('a lock whose answer is lost is undone', async () => {
    let connections = 0;
    const proxySocket = path.join(dir, 'lossy.sock');
    // The first connection's request reaches the agent, its answer does not; the others pass both ways.
    const proxy = net.createServer((client) => {
      const first = connections++ === 0;
      const agent = net.createConnection(socket);
      client.pipe(agent);
      agent.on('data', (data) => (first ? client.destroy() : client.write(data)));
      client.on('close', () => agent.destroy());
      agent.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(proxySocket, resolve));
    try {
      const locked = await lockAgent(proxySocket);
      expect(locked).toEqual({ why: 'the agent could not be locked (the agent closed the connection without an answer)' });
      expect(listed().stdout).toMatch(/lock-test/);
    } finally {
      proxy.close();
    }
  });
});
