import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { lockAgent } from '../../cli/ssh-agent-lock';
import { describeWithRealParts } from '../setup/real-parts';

const hasAgent = spawnSync('ssh-agent', ['-k'], { stdio: 'ignore' }).error === undefined;

// The release locks the runner's agent for the rehearsal with a passphrase of its own. OpenSSH's agent reads that
// passphrase as a C string and drops the connection on a NUL inside it: with 32 random bytes, one lock in eight
// failed, and the release refused where the agent would have locked.
describeWithRealParts(hasAgent, 'the SSH agent lock', 'OpenSSH (ssh-agent, ssh-keygen, ssh-add)')('lockAgent, against a real ssh-agent', () => {
  let dir: string;
  let agentPid: number;
  let socket: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-lock-'));
    socket = path.join(dir, 'agent.sock');
    const agent = spawnSync('ssh-agent', ['-s', '-a', socket], { encoding: 'utf8' });
    agentPid = Number(/SSH_AGENT_PID=(\d+)/.exec(agent.stdout)![1]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'lock-test', '-f', path.join(dir, 'key')]);
    execFileSync('ssh-add', ['-q', path.join(dir, 'key')], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: 'ignore' });
  });

  afterAll(() => {
    if (agentPid) try { process.kill(agentPid); } catch { /* gone already */ }
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
});
