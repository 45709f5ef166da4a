import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Duration } from '../../../lib/core/duration';
import { alive } from '../../../testing/harness/processes';
import { waitFor } from '../../../testing/harness/wait';
import { freePort } from '../../setup/ports';
import { described, killAll, processesIn, processesWorkingIn } from '../../setup/run-leftovers';

/** PostgreSQL 15's programs (Debian's layout): pg_ctl, psql. */
export const POSTGRES_BIN = '/usr/lib/postgresql/15/bin';

/**
 * How long a stop waits for the processes it SIGKILLed to be gone: no process ignores SIGKILL, and one still there
 * after this is stuck in the kernel (uninterruptible sleep), where more waiting rarely helps.
 */
const KILLED_WAIT = Duration.seconds(5);

/** How a test's PostgreSQL is started. */
export interface PostgresClusterOptions {
  /** How long pg_ctl waits for the server to accept connections before the start fails. @default Duration.seconds(30) */
  readonly startTimeout?: Duration;
  /**
   * How long each pg_ctl step of a stop waits for the server to exit before the next, harder one: a fast shutdown
   * (SIGINT), then an immediate one (SIGQUIT); then SIGKILL to what is left of the server, awaited 5 s more.
   * @default Duration.seconds(30) - a server that holds out takes up to 65 s to stop (30 s + 30 s + 5 s)
   */
  readonly stopTimeout?: Duration;
}

/**
 * A real PostgreSQL 15 server in a directory: initdb'd and run as the `postgres` OS user (the
 * server refuses root), listening on a free loopback port and on a Unix socket in the directory.
 */
export class PostgresCluster {
  /**
   * A start that fails stops the server it started: pg_ctl gives up after `startTimeout` but the server it launched
   * runs on, past jest's exit, since the caller never got the cluster to destroy.
   */
  public static async start(dir: string, options: PostgresClusterOptions = {}): Promise<PostgresCluster> {
    fs.mkdirSync(dir, { recursive: true });
    fs.chmodSync(dir, 0o755);
    execFileSync('chown', ['postgres:postgres', dir]);
    const cluster = new PostgresCluster(dir, await freePort(), options.startTimeout ?? Duration.seconds(30), options.stopTimeout ?? Duration.seconds(30));
    cluster.asPostgres(`${POSTGRES_BIN}/initdb`, ['-D', cluster.dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale', 'C']);
    try {
      cluster.start();
    } catch (e) {
      const stopping = Date.now();
      const left = cluster.stopLaunched();
      // The time measured: a stop begun just before stopLaunched's 30 s are up may take 35 s more (pg_ctl's, then SIGKILL's).
      if (left.length > 0) throw new Error(`${(e as Error).message}\nand the server it launched still runs after ${Math.round((Date.now() - stopping) / 1000)} s of stopping it (processes ${left.join(', ')} in ${dir})`);
      throw e;
    }
    return cluster;
  }

  public readonly dataDir: string;

  private constructor(
    /** Also the Unix socket directory. */
    public readonly dir: string,
    public readonly port: number,
    private readonly startTimeout: Duration,
    private readonly stopTimeout: Duration,
  ) {
    this.dataDir = path.join(dir, 'data');
  }

  public start(): void {
    this.asPostgres(`${POSTGRES_BIN}/pg_ctl`, ['-D', this.dataDir, '-l', path.join(this.dir, 'server.log'), '-w', '-t', String(this.startTimeout.toSeconds()), 'start',
      '-o', `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`]);
  }

  /**
   * Stops the server: `fast` ends sessions cleanly, `immediate` (a crash) does not wait for a server still starting.
   * A server still up after `stopTimeout` gets the next, harder step: a session that does not end (a backend blocked in
   * a read its SIGTERM does not interrupt) kept a fast shutdown waiting, and pg_ctl gave up with the server running
   * on, past jest's exit when its suite's cleanup swallowed the error. So fast, then immediate (SIGQUIT), then SIGKILL
   * to what is left of the server (a program a backend ran, which outlived it). Whether a step failed for a server
   * still up is read from its postmaster, not from pg_ctl's message, which speaks the caller's language (a German
   * locale's message matched nothing, and the stop gave up with the server running). Throws as pg_ctl does for a
   * server that was not running (after ending what a crashed one left), and naming what SIGKILL did not end.
   */
  public stop(mode: 'fast' | 'immediate' = 'fast'): void {
    const running = this.postmasterRunning();
    try {
      for (const step of mode === 'fast' ? ['fast', 'immediate'] : ['immediate']) {
        try {
          this.asPostgres(`${POSTGRES_BIN}/pg_ctl`, ['-D', this.dataDir, '-w', '-t', String(this.stopTimeout.toSeconds()), '-m', step, 'stop']);
          return;
        } catch (e) {
          if (!running) throw e;
          // Ended after pg_ctl gave up (and before this look): stopped, and the next step would fail for want of it.
          if (!this.postmasterRunning()) return;
        }
      }
    } finally {
      // Also after a step that failed, or found no server: a backend's program outlives a postmaster that crashed.
      this.endLeftovers();
    }
  }

  /**
   * Runs SQL as the superuser and returns psql's unaligned, tuples-only output. The soak reads its whole ledger,
   * which grows with the run's length: past Node's 1 MiB default (about 26,000 rows of 40 bytes, 9 minutes of the writer on a
   * loaded machine) psql was killed with ENOBUFS.
   */
  public sql(database: string, sql: string): string {
    return execFileSync(`${POSTGRES_BIN}/psql`, ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', this.dir, '-p', String(this.port), '-U', 'postgres', '-d', database, '-c', sql],
      { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 }).trim();
  }

  /**
   * Holds `table` of `database` in ACCESS EXCLUSIVE mode, in a session of its own, until the returned function is
   * called: a pg_dump of it waits (a dump that runs for hours, for a test).
   */
  public async holdTable(database: string, table: string): Promise<() => void> {
    const session = spawn(`${POSTGRES_BIN}/psql`, ['-X', '-q', '-h', this.dir, '-p', String(this.port), '-U', 'postgres', '-d', database],
      { stdio: ['pipe', 'ignore', 'ignore'] });
    session.stdin.write(`BEGIN;\nLOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE;\n`);
    const held = () => this.sql(database, `SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND relation = '${table}'::regclass`) === '1';
    await waitFor(held, { timeout: Duration.seconds(30), what: `a session to hold ${database}.${table}` });
    return () => { session.kill(); };
  }

  /**
   * Stops a server pg_ctl launched and gave up on. pg_ctl's stop needs the server's postmaster.pid, which a server
   * still starting may not have written yet: it is asked again until no process of the cluster's directory is left.
   * The processes still there after 30 s (and the pg_ctl stop then running), for the caller to name rather than give up
   * silently.
   */
  private stopLaunched(): number[] {
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    for (const deadline = Date.now() + 30_000; processesIn(this.dir).length > 0 && Date.now() < deadline;) {
      if (fs.existsSync(path.join(this.dataDir, 'postmaster.pid'))) this.destroy('immediate');
      Atomics.wait(sleeper, 0, 0, 50);
    }
    return processesIn(this.dir);
  }

  /** Whether the postmaster that wrote the data directory's postmaster.pid runs. */
  private postmasterRunning(): boolean {
    let pid = 0;
    try { pid = Number(fs.readFileSync(path.join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]); } catch { /* none */ }
    return pid > 0 && alive(pid);
  }

  /**
   * The server's processes: those of the data directory's owner working in it (the postmaster, its backends and the
   * programs they ran). Not a developer's `tail -f` of server.log, nor a shell of theirs in the directory.
   */
  private serverProcesses(): number[] {
    let owner: number;
    try { owner = fs.statSync(this.dataDir).uid; } catch { return []; }
    // By working directory and owner alone: reading every process's command line may wait on one stuck in D state, past KILLED_WAIT.
    return processesWorkingIn(this.dataDir, owner);
  }

  /**
   * SIGKILL to what is left of the server, each named on stderr, listed again until none is (a postmaster may fork
   * between a listing and its SIGKILL) or KILLED_WAIT has passed: then it throws naming them.
   */
  private endLeftovers(): void {
    const named = new Set<number>();
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    for (const deadline = Date.now() + KILLED_WAIT.toMillis(); ;) {
      const left = this.serverProcesses();
      if (left.length === 0) return;
      if (Date.now() >= deadline) {
        throw new Error(`PostgreSQL in ${this.dir} still runs ${KILLED_WAIT.toSeconds()} s after SIGKILL (processes ${left.join(', ')})`);
      }
      const fresh = left.filter((pid) => !named.has(pid));
      if (fresh.length > 0) process.stderr.write(`\nPostgreSQL in ${this.dir}: SIGKILL to what is left of the server after its stop:\n${fresh.map(described).join('')}`);
      for (const pid of fresh) named.add(pid);
      killAll(left);
      Atomics.wait(sleeper, 0, 0, 50);
    }
  }

  /** Stops the server if it runs; the directory goes with the test's temp directory. */
  public destroy(mode: 'fast' | 'immediate' = 'fast'): void {
    try { this.stop(mode); } catch { /* not running */ }
  }

  /** Runs as `postgres`, in the environment the tests see (jest's copy of it: a child's default is the worker's own). */
  private asPostgres(command: string, args: string[]): void {
    execFileSync('runuser', ['-u', 'postgres', '--', command, ...args], { stdio: 'pipe', cwd: '/', env: process.env });
  }
}
