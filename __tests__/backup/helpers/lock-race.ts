import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { PATH_ENV, RunOptions, RunResult } from './world';
import { waitFor } from '../../../testing/harness/wait';
import { Duration } from '../../../lib/core/duration';

/** Starts a backup script with extra environment and options (a machine's backup-restore, backup-dump, backup-push…). */
export type StartScript = (env: Record<string, string>, options: RunOptions) => Promise<RunResult>;

/** A restore and a job that made a backup while the restore waited for the repository lock. */
export interface LockRace {
  readonly restore: Promise<RunResult>;
  readonly job: Promise<RunResult>;
  /** Lets the restore's waiting flock calls go on. */
  letRestoreFlock(): void;
}

/**
 * A check that holds a machine's repository lock (its line as backup-check writes it; it lets go when killed, as when
 * it gave way), a restore run by hand and then a backup job that wait for it. The restore's waiting flock calls start
 * only once it is let go (a shim on its PATH), as a busy scheduler may delay them: the job wins the lock the check let go.
 */
export async function raceBehindCheck(dir: string, name: string, stateDir: string, restore: StartScript, job: StartScript, jobName: string): Promise<LockRace> {
  const lock = path.join(stateDir, 'repository.lock');
  const go = path.join(dir, `${name}-may-flock`);
  const shim = path.join(dir, `${name}-bin`);
  fs.mkdirSync(shim, { recursive: true });
  fs.writeFileSync(path.join(shim, 'flock'), `#!/bin/bash\nif [[ " $* " == *" -w "* ]]; then while [ ! -e '${go}' ]; do sleep 0.1; done; fi\nexec /usr/bin/flock "$@"\n`, { mode: 0o755 });
  const check = spawn('bash', ['-c', `exec 9<>'${lock}'; flock 9; printf 'backup-check (pid %s), since 2026-12-06T00:00:00Z\\n' $$ >'${lock}'; echo held; exec sleep 600`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => check.stdout!.once('data', () => resolve()));
  let restoreWaits = false;
  let jobWaits = false;
  const waiting = /waiting for the repository lock, held by backup-check/;
  const restoring = restore({ PATH: `${shim}:${PATH_ENV}` }, { onOutput: { when: waiting, act: () => { restoreWaits = true; } } });
  await waitFor(() => restoreWaits, { timeout: Duration.minutes(1), what: 'the restore to wait for the check' });
  const running = job({}, { onOutput: { when: waiting, act: () => { jobWaits = true; } } });
  await waitFor(() => jobWaits, { timeout: Duration.minutes(1), what: `${jobName} to wait for the check` });
  check.kill('SIGKILL');
  await waitFor(() => fs.readFileSync(lock, 'utf8').startsWith(jobName), { timeout: Duration.minutes(1), what: `${jobName} to take the lock` });
  return { restore: restoring, job: running, letRestoreFlock: () => fs.writeFileSync(go, '') };
}
