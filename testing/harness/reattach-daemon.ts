import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { alive } from './processes';
import { providerEntry, STAND_IN_TOKEN } from './provider-install';

/**
 * A long-lived stand-in plugin that Terraform reaches through TF_REATTACH_PROVIDERS instead of
 * starting two to five plugin processes per command (about ten times faster).
 *
 * The daemon reads nothing from its standard input; it exits when that pipe closes, which happens
 * when the process that started it ends, however it ends. Its pipe is unref'ed, so it never keeps
 * a test worker alive.
 */
export class ReattachDaemon {
  /** Starts a daemon and waits (synchronously, at most `timeoutMs`) for its reattach line. */
  public static start(timeoutMs = 15_000): ReattachDaemon {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hcloud-standin-daemon-'));
    const out = path.join(dir, 'stdout');
    const err = path.join(dir, 'stderr');
    const child = spawn(process.execPath, [providerEntry(), '--reattach'], {
      stdio: ['pipe', fs.openSync(out, 'w'), fs.openSync(err, 'w')],
      // Where /proc does not tell the daemon which Terraform process it serves (not Linux), it reads HCLOUD_TOKEN
      // from its own environment: a token of the right shape, as HetznerStandIn.env() gives Terraform.
      env: { ...process.env, HCLOUD_TOKEN: STAND_IN_TOKEN, HCLOUD_STANDIN_TRACE: process.env.HCLOUD_STANDIN_TRACE ?? '' },
      detached: false,
    });
    child.unref();
    (child.stdin as unknown as { unref?: () => void })?.unref?.();
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = fs.readFileSync(out, 'utf8').split('\n').find((l) => l.startsWith('TF_REATTACH_PROVIDERS='));
      if (line) return new ReattachDaemon(child.pid!, line.slice('TF_REATTACH_PROVIDERS='.length), () => child.stdin?.end(), dir);
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill();
        throw new Error(`The stand-in daemon did not start: ${fs.readFileSync(err, 'utf8').trim() || 'no output'}`);
      }
      Atomics.wait(sleeper, 0, 0, 10);
    }
  }

  private constructor(
    public readonly pid: number,
    /** The value for TF_REATTACH_PROVIDERS. */
    public readonly reattachProviders: string,
    private readonly close: () => void,
    private readonly dir: string,
  ) {}

  /** Whether the daemon process still runs. */
  public get alive(): boolean {
    return alive(this.pid);
  }

  /** Stops the daemon (closing its input; SIGTERM as well, for good measure). */
  public stop(): void {
    this.close();
    try {
      process.kill(this.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
