import { execFileSync, spawnSync } from 'child_process';

/** An OpenSSH ssh-agent started for a test, listening at `socket`. */
export interface TestSshAgent {
  readonly socket: string;
  readonly pid: number;
  /** Adds the private key files `keys` (ssh-add). */
  add(...keys: string[]): void;
  /** Removes every key it holds (ssh-add -D). */
  removeAll(): void;
  /** Stops it; one already gone (a rehearsal killed it) is no error. */
  stop(): void;
}

/** Starts an ssh-agent at `socket` holding the private key files `keys`. */
export function startSshAgent(socket: string, keys: readonly string[] = []): TestSshAgent {
  const started = spawnSync('ssh-agent', ['-s', '-a', socket], { encoding: 'utf8' });
  const pid = /SSH_AGENT_PID=(\d+)/.exec(started.stdout ?? '');
  if (!pid) throw new Error(`ssh-agent did not start at ${socket}: ${started.error?.message ?? started.stderr}`);
  const sshAdd = (args: readonly string[]) => execFileSync('ssh-add', ['-q', ...args], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: 'ignore' });
  const agent: TestSshAgent = {
    socket,
    pid: Number(pid[1]),
    add: (...files) => sshAdd(files),
    removeAll: () => sshAdd(['-D']),
    stop: () => {
      try { process.kill(agent.pid); } catch { /* gone already */ }
    },
  };
  try {
    if (keys.length > 0) agent.add(...keys);
  } catch (e) {
    agent.stop();
    throw e;
  }
  return agent;
}
