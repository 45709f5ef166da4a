import { statFields } from '../../../testing/harness/processes';

/** A process's start time (field 22 of its stat, as the harness's ProcessId keeps it); undefined once it has gone. */
export const startOf = (pid: number): string | undefined => statFields(pid)?.[19];

/**
 * The processes there before a job started, which a sampler of the job's processes need not read again: each by its pid
 * and its start time. A pid alone is not enough: Linux hands pids out from a cursor that wraps, and past the wrap the
 * cursor moves among live processes, so one of them ending can give its pid to the job's next process at once.
 */
export class ProcessesBefore {
  private readonly starts = new Map<number, string>();

  constructor(private readonly startTime: (pid: number) => string | undefined = startOf) {}

  /** `start` read before the caller looked at the process: a pid reused in between then reads as another process. */
  record(pid: number, start: string): void {
    this.starts.set(pid, start);
  }

  /**
   * Whether `pid` is still the process recorded: the same pid with the same start time. A pid gone or started again
   * (another process) is forgotten, and read from then on.
   */
  skips(pid: number): boolean {
    const recorded = this.starts.get(pid);
    if (recorded === undefined) return false;
    if (this.startTime(pid) === recorded) return true;
    this.starts.delete(pid);
    return false;
  }

  get size(): number {
    return this.starts.size;
  }
}
