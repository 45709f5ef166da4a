import * as fs from 'fs';

// A process table read from /proc, for a harness that ends what a server it started left: Linux only.

/** A process, named by its pid and its start time (so that a pid reused by another process is not taken for it). */
export interface ProcessId {
  readonly pid: number;
  readonly start: string;
}

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses): state first. */
export function statFields(pid: number | string): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** The processes whose parent is `pid` now (none found without a /proc, as on macOS: the listener's stop is all there is). */
export function childrenOf(pid: number): ProcessId[] {
  if (!fs.existsSync('/proc/self/stat')) return [];
  return fs.readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).flatMap((entry) => {
    const fields = statFields(entry);
    // Field 4 of stat is the parent's pid, field 22 the start time (here counted from the state, field 3).
    return fields && Number(fields[1]) === pid ? [{ pid: Number(entry), start: fields[19] }] : [];
  });
}

/** Whether the process still runs: not ended, not a zombie (its parent reaps it), not its pid reused. */
export function alive(p: ProcessId): boolean {
  const fields = statFields(p.pid);
  return fields !== undefined && fields[0] !== 'Z' && fields[19] === p.start;
}

/** Sends `name` to `pid`, which may have ended meanwhile. */
export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Ended meanwhile.
  }
}
