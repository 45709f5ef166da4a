import { execFileSync } from 'child_process';
import * as fs from 'fs';

// A process table read from /proc, for a harness that ends what a server it started left: Linux only. The harness's
// reader of /proc/<pid>/stat, fd, environ, cmdline, status, smaps_rollup and task and of /proc/net/tcp (the relay's
// memory and threads in its test, and scripts/bench-monitoring.js, read them here too; the offsite suite's sampler
// keeps an environ reader of its own for its CPU cost): __tests__/setup/run-leftovers.js and jest's CPU accounting
// (__tests__/setup/cpu-accounting-environment.js), plain JavaScript that jest's transform lets require this file, read
// it too, and the stand-in provider
// finds the Terraform process at a connection's other end, and reads its environment, with it
// (testing/provider/peer-environment.ts; shipped in dist/testing with this file).

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
    return fieldsOfStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * The fields of a stat line after the command name, state first. The name is in parentheses and may hold any: its end
 * is the line's last `)`, as no field after it has one.
 */
export function fieldsOfStat(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).trimEnd().split(' ');
}

/**
 * Whether a read of the process's memory (its environ, its cmdline) would wait until it wakes, by its stat's fields:
 * it is in uninterruptible sleep (D), and holds its memory map meanwhile (a read of a stalled disk or NFS mount).
 */
export function inUninterruptibleSleep(fields: readonly string[]): boolean {
  return fields[0] === 'D';
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
  return allPids().flatMap((pid) => processEntry(pid) ?? []);
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
 * What environmentOf does with a process in uninterruptible sleep (D), whose memory map a read waits for: `wait` until
 * it wakes (one process the caller must hear from: the stand-in provider's Terraform peer, a job's survivor, where
 * undefined would say "no environment"), or `skip` it (undefined, for the caller to look again: a scan of many, which
 * one stuck process must not hold up).
 */
export type IfAsleep = 'wait' | 'skip';

/**
 * A process's environment (`NAME=value` each) as its memory holds it now: what it started with, unless it wrote over
 * it (a process title: sshd's, PostgreSQL's), undefined once it has gone or where it is not ours to read. The same for
 * a pid as for an entry of a scan, whose state is read again here (it may have changed since the scan).
 *
 * Not read for a process of another account unless we are root (a read would be refused anyway; as root, where the
 * suites run, a test's `runuser -u postgres …` is another account's and must be found), nor, given `skip`, for one in
 * uninterruptible sleep by its stat. What remains with `skip`: a process that enters D between its stat and this read,
 * or holds its memory map's lock otherwise, blocks this synchronous read for as long as it is stuck.
 */
export function environmentOf(p: number | ProcessId, ifAsleep: IfAsleep): string[] | undefined {
  const pid = typeof p === 'number' ? p : p.pid;
  if (process.getuid?.() !== 0 && !ownedBy(pid)) return undefined;
  if (ifAsleep === 'skip') {
    const fields = statFields(pid);
    if (fields === undefined || inUninterruptibleSleep(fields)) return undefined;
  }
  try {
    return fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  } catch {
    return undefined;
  }
}

/**
 * A process's command line, its arguments each (none for a kernel thread or a zombie): undefined once it has gone or
 * where it is not ours to read. Reading it waits for the process's memory map, as an environment's does: a scan of
 * every process reads their stat (processTable), and this only for the few it is about to name or pick.
 *
 * Each argument ends in a NUL. A process that wrote over its title may end without one (sshd's), or pad the rest of
 * its arguments' memory with NULs (node's process.title, so npm's), which the kernel gives too: all trailing NULs are
 * cut, so that padding reads as no argument. An empty last argument is cut with it (the bytes are the same).
 */
export function commandLineOf(pid: number): string[] | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '');
    return text === '' ? [] : text.split('\0');
  } catch {
    return undefined;
  }
}

/**
 * Whether the process `pid` runs as the account `uid`, this process's unless given (false once it has gone, or
 * without a uid: Windows).
 */
export function ownedBy(pid: number, uid = process.getuid?.()): boolean {
  try {
    return uid !== undefined && fs.statSync(`/proc/${pid}`).uid === uid;
  } catch {
    return false;
  }
}

/**
 * A field of a process's memory accounting in KiB: /proc/<pid>/status's (VmRSS, VmHWM) or smaps_rollup's (Pss, whose
 * read walks the memory map, as a command line's waits for it). For a measurement, which a process that ended, or a
 * misnamed field, must not pass as a number: both throw.
 */
export function memoryKib(pid: number, field: string, file: 'status' | 'smaps_rollup' = 'status'): number {
  const found = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(fs.readFileSync(`/proc/${pid}/${file}`, 'utf8'));
  if (!found) throw new Error(`/proc/${pid}/${file} has no field ${field} in kB`);
  return Number(found[1]);
}

/** How many threads the process runs (its entries in /proc/<pid>/task); throws once it has gone, as memoryKib does. */
export function threadCount(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/task`).length;
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

/** A row of the kernel's IPv4 TCP table: its ends as the table writes them (see tcpAddress), its state, its socket's inode. */
export interface TcpSocket {
  readonly local: string;
  readonly remote: string;
  /** `01` for ESTABLISHED, `0A` for LISTEN, `08` for CLOSE_WAIT. */
  readonly state: string;
  /** `0` for one no process holds any more (TIME_WAIT). */
  readonly inode: string;
}

/** The kernel's IPv4 TCP sockets, from /proc/net/tcp (none without it). */
export function tcpSockets(): TcpSocket[] {
  let table: string;
  try {
    table = fs.readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return [];
  }
  // Field 2 the local address, 3 the remote one, 4 the state, 10 the socket's inode.
  return table.split('\n').slice(1).map((line) => line.trim().split(/\s+/)).filter((f) => f.length > 9)
    .map((f) => ({ local: f[1], remote: f[2], state: f[3], inode: f[9] }));
}

/** An IPv4 end as /proc/net/tcp writes it: the hex of the address's little-endian 32-bit value, then the port. */
export function tcpAddress(ip: string, port: number): string {
  const address = ip.split('.').map((o) => Number(o).toString(16).toUpperCase().padStart(2, '0')).reverse().join('');
  return `${address}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * The pids of our account's processes holding a TCP connection whose local end is 127.0.0.1:`port` (a server's side of
 * it), from /proc/net/tcp and the socket inodes of each process's open files (none without a /proc). Any state but
 * LISTEN: one whose client left is in CLOSE_WAIT until it closes its end, and still a process the server left.
 */
export function holdingConnectionsTo(port: number): number[] {
  const local = tcpAddress('127.0.0.1', port);
  const inodes = new Set(tcpSockets().filter((s) => s.local === local && s.state !== '0A' && s.inode !== '0').map((s) => `socket:[${s.inode}]`));
  if (inodes.size === 0) return [];
  return [...holders((target) => inodes.has(target), processTable().filter((p) => ownedBy(p.pid)).map((p) => p.pid))].map((h) => h.pid);
}

/** An open file of a process: its descriptor's number and what it points at (`socket:[inode]` for a socket). */
export interface OpenFile {
  readonly fd: string;
  readonly target: string;
}

/** The open files of `pid` (`self` for this process); none once it has gone, or where they are not ours to read. */
export function openFiles(pid: number | 'self'): OpenFile[] {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
      const target = openFile(pid, fd);
      return target === undefined ? [] : [{ fd, target }];
    });
  } catch {
    return [];
  }
}

/** What the descriptor `fd` of `pid` is open on (as openFiles gives it), undefined once either has gone. */
export function openFile(pid: number | 'self', fd: string): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
  } catch {
    return undefined;
  }
}

/**
 * The processes among `pids` (every process there is, unless given) with an open file that `matches`, each with the
 * first such file: lazily, so that a caller that needs one stops walking there.
 */
export function* holders(matches: (target: string) => boolean, pids: Iterable<number> = allPids()): Generator<{ pid: number } & OpenFile> {
  for (const pid of pids) {
    const file = openFiles(pid).find((f) => matches(f.target));
    if (file) yield { pid, ...file };
  }
}

/** The pids in /proc, read from its listing alone (none without a /proc). */
export function allPids(): number[] {
  try {
    return fs.readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).map(Number);
  } catch {
    return [];
  }
}

/**
 * Whether the process still runs: not ended, not a zombie (it has ended; its parent has not reaped it yet), and, given
 * with its start, not its pid reused. Read from its stat alone, which no process stuck in uninterruptible sleep holds
 * up. Without a /proc (macOS: the stand-in provider's store), whether a signal would reach it, a zombie too.
 */
export function alive(p: number | ProcessId): boolean {
  const pid = typeof p === 'number' ? p : p.pid;
  if (!HAS_PROC) return signalReaches(pid);
  const fields = statFields(pid);
  return fields !== undefined && fields[0] !== 'Z' && (typeof p === 'number' || fields[19] === p.start);
}

const HAS_PROC = fs.existsSync('/proc/self/stat');

function signalReaches(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // Another account's process: there, though not ours to signal.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Sends `name` to `pid`, which may have ended meanwhile. */
export function signal(pid: number, name: NodeJS.Signals): void {
  // A pid read from a file still being written (Number('') is 0) would signal our own process group, jest and npm
  // with it: no process of ours to end, as for one that has ended.
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, name);
  } catch {
    // Ended meanwhile.
  }
}
