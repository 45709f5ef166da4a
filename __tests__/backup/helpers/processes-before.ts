import { alive, ProcessId } from '../../../testing/harness/processes';

/**
 * The processes there before a job started, which a sampler of the job's processes need not read again: each by its pid
 * and its start time (the harness's ProcessId). A pid alone is not enough: Linux hands pids out from a cursor that wraps,
 * and past the wrap the cursor moves among live processes, so one of them ending can give its pid to the job's next
 * process at once.
 */
export class ProcessesBefore {
  private readonly starts = new Map<number, string>();

  /** Read (processEntry) before the caller looked at the process: a pid reused in between then reads as another. */
  record(process: ProcessId): void {
    this.starts.set(process.pid, process.start);
  }

  /**
   * Whether `pid` is still the process recorded (alive: the same pid with the same start time). A pid gone or started
   * again (another process) is forgotten, and read from then on.
   */
  skips(pid: number): boolean {
    const start = this.starts.get(pid);
    if (start === undefined) return false;
    if (alive({ pid, start })) return true;
    this.starts.delete(pid);
    return false;
  }

  get size(): number {
    return this.starts.size;
  }
}
