import * as fs from 'fs';

// A process table read from /proc, for a harness that ends what a server it started left: Linux only. The one reader
// of /proc/<pid>/stat: __tests__/setup/run-leftovers.js (plain JavaScript, which jest's transform lets require this
// file) reads the table through it too.

/** A process, named by its pid and its start time (so that a pid reused by another process is not taken for it). */
export interface ProcessId {
  readonly pid: number;
  readonly start: string;
}

/** A process in the table: its parent's pid and its state (`Z` for a zombie, `D` for uninterruptible sleep) too. */
export interface ProcessEntry extends ProcessId {
  readonly parent: number;
  readonly state: string;
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

/** A process's entry, from its stat alone: undefined once it has gone. */
export function processEntry(pid: number): ProcessEntry | undefined {
  const fields = statFields(pid);
  // Field 4 of stat is the parent's pid, field 22 the start time (here counted from the state, field 3).
  return fields && { pid, start: fields[19], parent: Number(fields[1]), state: fields[0] };
}

/**
 * Every process there is, read from its stat alone (no command line, which waits for a process's memory map, held by
 * one stuck in uninterruptible sleep for as long as it is stuck). None without a /proc (macOS).
 */
export function processTable(): ProcessEntry[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  return entries.filter((entry) => /^\d+$/.test(entry)).flatMap((entry) => processEntry(Number(entry)) ?? []);
}

/** The processes whose parent is `pid` now (none found without a /proc, as on macOS: the listener's stop is all there is). */
export function childrenOf(pid: number): ProcessId[] {
  return processTable().filter((p) => p.parent === pid);
}

/** `roots` and the processes descended from them in `table` (by their parents' pids, transitively). */
export function descendantsOf(roots: readonly number[], table: readonly ProcessEntry[] = processTable()): number[] {
  const children = new Map<number, number[]>();
  for (const p of table) children.set(p.parent, [...(children.get(p.parent) ?? []), p.pid]);
  const found = new Set<number>();
  for (const queue = [...roots]; queue.length > 0;) {
    const pid = queue.shift()!;
    if (found.has(pid)) continue;
    found.add(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return [...found];
}

/**
 * A process's environment as it was started (`NAME=value` each), undefined once it has gone or where it is not ours to
 * read. Reading it waits for the process's memory map, as a command line's does: not for a process in uninterruptible
 * sleep, which may hold it for as long as it is stuck (undefined, for the caller to look again).
 */
export function environmentOf(p: ProcessEntry): string[] | undefined {
  if (p.state === 'D') return undefined;
  try {
    return fs.readFileSync(`/proc/${p.pid}/environ`, 'utf8').split('\0');
  } catch {
    return undefined;
  }
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
