import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { freePort } from '../../setup/ports';

const BIN = '/usr/lib/postgresql/15/bin';

/**
 * A real PostgreSQL 15 server in a directory: initdb'd and run as the `postgres` OS user (the
 * server refuses root), listening on a free loopback port and on a Unix socket in the directory.
 */
export class PostgresCluster {
  public static async start(dir: string): Promise<PostgresCluster> {
    fs.mkdirSync(dir, { recursive: true });
    fs.chmodSync(dir, 0o755);
    execFileSync('chown', ['postgres:postgres', dir]);
    const cluster = new PostgresCluster(dir, await freePort());
    cluster.asPostgres(`${BIN}/initdb`, ['-D', cluster.dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale', 'C']);
    cluster.start();
    return cluster;
  }

  public readonly dataDir: string;

  private constructor(
    /** Also the Unix socket directory. */
    public readonly dir: string,
    public readonly port: number,
  ) {
    this.dataDir = path.join(dir, 'data');
  }

  public start(): void {
    this.asPostgres(`${BIN}/pg_ctl`, ['-D', this.dataDir, '-l', path.join(this.dir, 'server.log'), '-w', '-t', '30', 'start',
      '-o', `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`]);
  }

  public stop(): void {
    this.asPostgres(`${BIN}/pg_ctl`, ['-D', this.dataDir, '-w', '-t', '30', '-m', 'fast', 'stop']);
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

  /** Stops the server if it runs; the directory goes with the test's temp directory. */
  public destroy(): void {
    try { this.stop(); } catch { /* not running */ }
  }

  private asPostgres(command: string, args: string[]): void {
    execFileSync('runuser', ['-u', 'postgres', '--', command, ...args], { stdio: 'pipe', cwd: '/' });
  }
}
