import { execFileSync } from 'child_process';
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
 * A process's environment (`NAME=value` each) as its memory holds it now: what it started with, unless it wrote over
 * it (a process title: sshd's, PostgreSQL's), undefined once it has gone, where it is not ours to read, and for a
 * process of another account unless we are root (not read at all, so that one scan does not wait on every process of
 * the host; as root, where the suites run, a test's `runuser -u postgres …` is another account's and must be found).
 * Reading it waits for the process's memory map, as a command line's does: not for a process in uninterruptible sleep
 * (D) by its stat (undefined, for the caller to look again). What remains: a process of our own account that enters
 * D between its stat and this read, or holds its memory map's lock otherwise, blocks this synchronous read for as
 * long as it is stuck.
 */
export function environmentOf(p: ProcessEntry): string[] | undefined {
  if (p.state === 'D' || (process.getuid?.() !== 0 && !ownProcess(p.pid))) return undefined;
  try {
    return fs.readFileSync(`/proc/${p.pid}/environ`, 'utf8').split('\0');
  } catch {
    return undefined;
  }
}

/** Whether the process `pid` runs as this process's account (false once it has gone, or without a uid: Windows). */
function ownProcess(pid: number): boolean {
  try {
    return fs.statSync(`/proc/${pid}`).uid === process.getuid?.();
  } catch {
    return false;
  }
}

let ticksPerSecond: number | undefined;

/**
 * Now, on the clock of a process's start time (its stat's field 22): clock ticks since boot. A process whose start is
 * at most this one's started before now. /proc/uptime alone will not do: in a container LXCFS virtualizes it (the
 * container's age) but not the start times in stat (the host's), and every process would then seem to start after
 * now. So the later of it and this process's own start on that clock plus how long it has run, which lags by node's
 * own start-up (a few milliseconds from the fork to the moment process.uptime() counts from).
 */
export function bootTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()) || 100;
    } catch {
      // No getconf (a slim image): Linux's USER_HZ is 100 on every architecture it runs on.
      ticksPerSecond = 100;
    }
  }
  const sinceOwnStart = Number(statFields('self')![19]) + Math.ceil(process.uptime() * ticksPerSecond);
  return Math.max(sinceOwnStart, Math.ceil(Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * ticksPerSecond));
}

/**
 * The pids of our account's processes holding a TCP connection whose local end is 127.0.0.1:`port` (a server's side of
 * it), from /proc/net/tcp and the socket inodes of each process's open files (none without a /proc). Any state but
 * LISTEN: one whose client left is in CLOSE_WAIT until it closes its end, and still a process the server left.
 */
export function holdingConnectionsTo(port: number): number[] {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let table = '';
  try {
    table = fs.readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return [];
  }
  // Field 2 the local address, field 4 the state (0A for LISTEN), field 10 the socket's inode (0 for one no process
  // holds any more: TIME_WAIT).
  const inodes = new Set(table.split('\n').slice(1).map((line) => line.trim().split(/\s+/))
    .filter((f) => f[1] === local && f[3] !== '0A' && f[9] !== undefined && f[9] !== '0').map((f) => `socket:[${f[9]}]`));
  if (inodes.size === 0) return [];
  return processTable().filter((p) => ownProcess(p.pid) && openFiles(p.pid).some((target) => inodes.has(target))).map((p) => p.pid);
}

/** What the open files of `pid` point at (`socket:[inode]` for a socket); none once it has gone. */
function openFiles(pid: number): string[] {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
      try {
        return [fs.readlinkSync(`/proc/${pid}/fd/${fd}`)];
      } catch {
        return [];
      }
    });
  } catch {
    return [];
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
