import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Duration } from '../../../lib/core/duration';
import { freePort } from '../../setup/ports';
import { alive, killAll, processesIn } from '../../setup/run-leftovers';

const BIN = '/usr/lib/postgresql/15/bin';

/** How a test's PostgreSQL is started. */
export interface PostgresClusterOptions {
  /** How long pg_ctl waits for the server to accept connections before the start fails. @default Duration.seconds(30) */
  readonly startTimeout?: Duration;
  /**
   * How long each step of a stop waits for the server to exit before the next, harder one: a fast shutdown (SIGINT),
   * then an immediate one (SIGQUIT), then SIGKILL to what is left in the directory.
   * @default Duration.seconds(30)
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
    cluster.asPostgres(`${BIN}/initdb`, ['-D', cluster.dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale', 'C']);
    try {
      cluster.start();
    } catch (e) {
      const stopping = Date.now();
      const left = cluster.stopLaunched();
      // The time measured: a pg_ctl stop begun just before stopLaunched's 30 s are up may wait 30 s more.
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
    this.asPostgres(`${BIN}/pg_ctl`, ['-D', this.dataDir, '-l', path.join(this.dir, 'server.log'), '-w', '-t', String(this.startTimeout.toSeconds()), 'start',
      '-o', `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`]);
  }

  /**
   * Stops the server: `fast` ends sessions cleanly, `immediate` (a crash) does not wait for a server still starting.
   * A server still up after `stopTimeout` gets the next, harder step: a session that does not end (a backend blocked in
   * a read its SIGTERM does not interrupt) kept a fast shutdown waiting, and pg_ctl gave up with the server running
   * on, past jest's exit when its suite's cleanup swallowed the error. So fast, then immediate (SIGQUIT), then SIGKILL
   * to what is left in the directory (a program a backend ran, which outlived it). Throws as pg_ctl does for a server
   * that is not running, and naming what SIGKILL did not end.
   */
  public stop(mode: 'fast' | 'immediate' = 'fast'): void {
    for (const step of mode === 'fast' ? ['fast', 'immediate'] : ['immediate']) {
      try {
        this.asPostgres(`${BIN}/pg_ctl`, ['-D', this.dataDir, '-w', '-t', String(this.stopTimeout.toSeconds()), '-m', step, 'stop']);
        break;
      } catch (e) {
        // Only a server still up goes on to the next step; any other failure (not running) is the caller's.
        if (!/server does not shut down/.test(String((e as { stderr?: Buffer }).stderr))) throw e;
      }
    }
    const left = processesIn(this.dir);
    if (left.length === 0) return;
    killAll(left);
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    for (const deadline = Date.now() + this.stopTimeout.toMillis(); left.some(alive) && Date.now() < deadline;) Atomics.wait(sleeper, 0, 0, 50);
    if (left.some(alive)) throw new Error(`PostgreSQL in ${this.dir} still runs after SIGKILL (processes ${left.filter(alive).join(', ')})`);
  }

  /**
   * Runs SQL as the superuser and returns psql's unaligned, tuples-only output. The soak reads its whole ledger,
   * which grows with the run's length: past Node's 1 MiB default (about 26,000 rows of 40 bytes, 9 minutes of the writer on a
   * loaded machine) psql was killed with ENOBUFS.
   */
  public sql(database: string, sql: string): string {
    return execFileSync(`${BIN}/psql`, ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', this.dir, '-p', String(this.port), '-U', 'postgres', '-d', database, '-c', sql],
      { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 }).trim();
  }

  /**
   * Holds `table` of `database` in ACCESS EXCLUSIVE mode, in a session of its own, until the returned function is
   * called: a pg_dump of it waits (a dump that runs for hours, for a test).
   */
  public async holdTable(database: string, table: string): Promise<() => void> {
    const session = spawn(`${BIN}/psql`, ['-X', '-q', '-h', this.dir, '-p', String(this.port), '-U', 'postgres', '-d', database],
      { stdio: ['pipe', 'ignore', 'ignore'] });
    session.stdin.write(`BEGIN;\nLOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE;\n`);
    const held = () => this.sql(database, `SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND relation = '${table}'::regclass`) === '1';
    for (let i = 0; i < 600 && !held(); i++) await new Promise((r) => setTimeout(r, 50));
    if (!held()) throw new Error(`could not hold ${database}.${table}`);
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

  /** Stops the server if it runs; the directory goes with the test's temp directory. */
  public destroy(mode: 'fast' | 'immediate' = 'fast'): void {
    try { this.stop(mode); } catch { /* not running */ }
  }

  private asPostgres(command: string, args: string[]): void {
    execFileSync('runuser', ['-u', 'postgres', '--', command, ...args], { stdio: 'pipe', cwd: '/' });
  }
}
