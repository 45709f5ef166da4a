import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { PATH_ENV, RESTIC_PASSWORD } from './world';

/** A restic process that holds a lock on a repository, and the lock's file name. */
export interface HeldLock {
  readonly child: ChildProcess;
  readonly lock: string;
}

const locksOf = (repo: string) => fs.readdirSync(path.join(repo, 'locks'));
const resticEnv = (password: string) => ({ PATH: PATH_ENV, HOME: '/root', RESTIC_PASSWORD: password });

/** Whether restic reads the lock back: one killed while writing it would leave a file no restic can read. */
function readable(repo: string, lock: string, password: string): boolean {
  return spawnSync('restic', ['-r', repo, '--no-cache', '--no-lock', 'cat', 'lock', lock], { env: resticEnv(password), stdio: 'ignore' }).status === 0;
}

/**
 * Starts restic on the repository directory `repo` (as this host, as a machine's own restic or another machine's
 * would be) in a way that takes its lock and then waits on its input: `backup --stdin` takes a shared lock, `key passwd`
 * (which reads the new password from stdin) the exclusive one. Resolves once restic reads the lock back; the process
 * is added to `running`, for the suite to kill at its end. `password` opens the repository (the world's by default).
 */
export async function holdResticLock(repo: string, kind: 'shared' | 'exclusive', running: ChildProcess[],
  password = RESTIC_PASSWORD): Promise<HeldLock> {
  const before = new Set(locksOf(repo));
  const args = kind === 'shared' ? ['backup', '--stdin', '--stdin-filename', 'held', '--host', 'killed-job'] : ['key', 'passwd'];
  const child = spawn('restic', ['-r', repo, '--no-cache', ...args], { env: resticEnv(password), stdio: ['pipe', 'ignore', 'pipe'] });
  running.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  for (let i = 0; i < 600; i++) {
    const added = locksOf(repo).filter((l) => !before.has(l));
    if (added.length === 1 && readable(repo, added[0], password)) return { child, lock: added[0] };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`restic ${args.join(' ')} took no lock on ${repo}: ${stderr}`);
}

/** Kills the holder with no chance to remove its lock (SIGKILL: the OOM killer, a crash); the lock stays. */
export async function killHolder(held: HeldLock): Promise<void> {
  if (held.child.exitCode !== null || held.child.signalCode !== null) return;
  const exited = new Promise((r) => held.child.once('exit', r));
  held.child.kill('SIGKILL');
  await exited;
}

/**
 * A directory under `dir` to put first on a job's PATH: its restic is a stand-in that fails `restic unlock` (as on an
 * account that may not delete, or a link lost mid-run) and runs the real restic for everything else. Returns the path.
 */
export function unlockFails(dir: string): string {
  const bin = path.join(dir, 'bin-unlock-fails');
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(path.join(bin, 'restic'), '#!/bin/bash\n[ "${@: -1}" != unlock ] || { echo "unlock: connection lost" >&2; exit 1; }\nexec /usr/bin/restic "$@"\n', { mode: 0o755 });
  return bin;
}
