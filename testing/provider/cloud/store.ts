import * as fs from 'fs';
import * as path from 'path';
import { alive } from '../../harness/processes';
import { ObjectValue } from '../values';

/**
 * The simulated cloud's state: one JSON file per Hetzner project.
 *
 * Several plugin processes use one file at once (Terraform starts a plugin process per provider
 * instance, cdktf deploys stacks in parallel), so every change is a locked read-modify-write:
 * an exclusive lock file (O_CREAT|O_EXCL), then the new content written to a temporary file and
 * renamed over the old one. Readers never lock: a rename is atomic, so they see the old or the new
 * file, never half of one.
 */
export interface CloudState {
  /** The file format's version; a reader refuses a file with any other, rather than misread it. */
  readonly version: 1;
  /** The next free object ID; one sequence for every type, as Hetzner IDs look alike. */
  nextId: number;
  /** Objects by resource type (such as `hcloud_server`) and ID, each as its attributes. */
  objects: Record<string, Record<string, ObjectValue>>;
}

/** A project with no objects yet. */
export function emptyCloud(): CloudState {
  return { version: 1, nextId: 10000001, objects: {} };
}

/** How long a writer waits for the lock before it gives up. */
const LOCK_TIMEOUT_MS = 30_000;
/** A lock older than this is abandoned even if its owner seems alive. */
const LOCK_STALE_MS = 120_000;

const sleeper = new Int32Array(new SharedArrayBuffer(4));
function sleepMs(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** A simulated project in one JSON file: locked read-modify-write for changes, lock-free reads. */
export class CloudStore {
  public readonly lockFile: string;

  constructor(public readonly file: string) {
    this.lockFile = `${file}.lock`;
  }

  /** The current state; an absent file is an empty project. */
  public read(): CloudState {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyCloud();
      throw e;
    }
    const state = JSON.parse(text) as CloudState;
    if (state?.version !== 1 || typeof state.nextId !== 'number' || typeof state.objects !== 'object') {
      throw new Error(`${this.file} is not a stand-in cloud file (version 1)`);
    }
    return state;
  }

  /** Runs `change` on the current state under the lock and writes the result. */
  public update<T>(change: (state: CloudState) => T): T {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const token = this.acquire();
    try {
      const state = this.read();
      const result = change(state);
      const tmp = `${this.file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify(state, null, 1));
      fs.renameSync(tmp, this.file);
      return result;
    } finally {
      this.release(token);
    }
  }

  private acquire(): string {
    const token = `${process.pid} ${Date.now()} ${Math.random().toString(36).slice(2)}`;
    const deadline = Date.now() + LOCK_TIMEOUT_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        fs.writeFileSync(this.lockFile, token, { flag: 'wx' });
        return token;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      this.breakIfStale();
      if (Date.now() > deadline) {
        throw new Error(`the cloud file ${this.file} stayed locked for ${LOCK_TIMEOUT_MS / 1000} s (lock held by: ${this.holder() ?? 'unknown'})`);
      }
      sleepMs(Math.min(2 + attempt, 20) * (0.5 + Math.random()));
    }
  }

  private release(token: string): void {
    // Only remove the lock if it is still ours (it could have been broken as stale).
    if (this.holder() === token) fs.rmSync(this.lockFile, { force: true });
  }

  private holder(): string | undefined {
    try {
      return fs.readFileSync(this.lockFile, 'utf8');
    } catch {
      return undefined;
    }
  }

  /** Removes a lock whose owner died (or that is very old), so a crash cannot block the project. */
  private breakIfStale(): void {
    const content = this.holder();
    if (content === undefined) return;
    const [pid, since] = content.split(' ').map(Number);
    if (!pid || !since) return; // being written right now
    const dead = !alive(pid) || Date.now() - since > LOCK_STALE_MS;
    if (!dead) return;
    const aside = `${this.lockFile}.stale.${process.pid}.${Math.random().toString(36).slice(2)}`;
    try {
      fs.renameSync(this.lockFile, aside);
    } catch {
      return; // someone else broke it first
    }
    const moved = fs.readFileSync(aside, 'utf8');
    if (moved !== content) {
      // A live lock was taken over between the read and the rename: put it back.
      try {
        fs.linkSync(aside, this.lockFile);
      } catch {
        // The lock was taken again meanwhile; that owner proceeds.
      }
    }
    fs.rmSync(aside, { force: true });
  }
}
