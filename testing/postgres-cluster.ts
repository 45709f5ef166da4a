import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PrepareRefusedError } from './prepare-refused-error';

// What installing Debian's postgresql package leaves on a server, made under a directory that stands for the
// machine's root: the rendered setup finds a cluster there, as on a server, and its service commands run pg_ctl.

/** The PostgreSQL major whose programs this host has (Debian's postgresql-15): every cluster here is of it. */
export const PG_MAJOR = 15;

/** Where Debian installs PostgreSQL 15's programs. */
export const PG_BIN = `/usr/lib/postgresql/${PG_MAJOR}/bin`;

/** The configuration directory of Debian's cluster `main` under `root`, where pg_ctl -D points. */
export function clusterConfigDirectory(root: string): string {
  return path.join(root, `etc/postgresql/${PG_MAJOR}/main`);
}

/**
 * The part of Debian's cluster layout the package creates (postgresql.conf with its include_dir,
 * pg_ident.conf, the socket directory, an initdb'd `main`), under `root` and owned by postgres.
 * The test's postgresql.conf differs from Debian's only in the paths, which move under `root`.
 */
export function createDebianCluster(root: string, dataDirectory = `/var/lib/postgresql/${PG_MAJOR}/main`): void {
  // postgres must reach the directories below the temp directory (mkdtemp makes them 0700).
  const tmp = fs.realpathSync(os.tmpdir());
  for (let dir = fs.realpathSync(root); dir.startsWith(`${tmp}/`); dir = path.dirname(dir)) fs.chmodSync(dir, 0o755);
  // Elsewhere (a rehearsal's /root/rehearsal, 0700) the directories are the user's own: say which one blocks postgres.
  if (!postgresReaches(root)) {
    const blocking = ancestors(fs.realpathSync(root)).find((dir) => !postgresReaches(dir)) ?? root;
    throw new PrepareRefusedError(`createDebianCluster: the postgres user cannot reach ${root} (${blocking} is ${(fs.statSync(blocking).mode & 0o7777).toString(8).padStart(4, '0')}, and the cluster's files under it must be postgres's), so initdb would fail. Fix: use a directory under ${tmp}, or let others through ${blocking} (chmod o+x ${blocking}).`);
  }
  const conf = clusterConfigDirectory(root);
  const data = path.join(root, dataDirectory);
  const socket = path.join(root, 'var/run/postgresql');
  for (const dir of [conf, path.join(conf, 'conf.d'), path.dirname(data), socket, path.join(root, 'var/log/postgresql')]) fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(conf, 'postgresql.conf'), [
    `data_directory = '${data}'`,
    `hba_file = '${conf}/pg_hba.conf'`,
    `ident_file = '${conf}/pg_ident.conf'`,
    `unix_socket_directories = '${socket}'`,
    "ssl = off",
    "fsync = off",
    "include_dir = 'conf.d'",
    '',
  ].join('\n'));
  fs.writeFileSync(path.join(conf, 'pg_ident.conf'), '');
  if (!fs.existsSync(path.join(conf, 'pg_hba.conf'))) fs.writeFileSync(path.join(conf, 'pg_hba.conf'), 'local all postgres peer\n');
  execFileSync('chown', ['-R', 'postgres:postgres', path.join(root, 'etc/postgresql'), path.join(root, 'var/run/postgresql'), path.join(root, 'var/lib/postgresql'), path.join(root, 'var/log/postgresql')]);
  // A directory used before (the rehearsal run again) holds the cluster already, which initdb refuses to overwrite.
  if (fs.existsSync(path.join(data, 'PG_VERSION'))) return;
  execFileSync('runuser', ['-u', 'postgres', '--', `${PG_BIN}/initdb`, '-D', data, '-U', 'postgres', '-A', 'peer', '--no-sync', '-E', 'UTF8', '--locale', 'C'], { stdio: 'pipe', cwd: '/' });
}

/** Whether the postgres user can pass through `dir` (search permission on it and every directory above it). */
function postgresReaches(dir: string): boolean {
  return spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-x', dir], { cwd: '/', stdio: 'ignore' }).status === 0;
}

/** `dir` and the directories above it, from the top down. */
function ancestors(dir: string): string[] {
  return dir === path.dirname(dir) ? [dir] : [...ancestors(path.dirname(dir)), dir];
}

/** The commands that start, stop and restart the cluster under `root` as systemctl would the Debian unit: pg_ctl as postgres. */
export function pgCtlService(root: string, port: number): { start: string[]; stop: string[]; restart: string[] } {
  const pgCtl = (...args: string[]) => ['runuser', '-u', 'postgres', '--', `${PG_BIN}/pg_ctl`, '-D', clusterConfigDirectory(root),
    '-l', path.join(root, 'var/log/postgresql/postgresql.log'), '-w', '-t', '60', ...args];
  const ready = `${PG_BIN}/pg_isready -q -h ${path.join(root, 'var/run/postgresql')} -p ${port}`;
  return {
    // `start` on a running server fails under pg_ctl but not under systemctl: only start when stopped.
    start: ['sh', '-c', `${ready} || exec "$@"`, 'start', ...pgCtl('start')],
    stop: ['sh', '-c', `${ready} || exit 0; exec "$@"`, 'stop', ...pgCtl('-m', 'fast', 'stop')],
    restart: pgCtl('-m', 'fast', 'restart'),
  };
}

/** Points the setup's service commands at pg_ctl (as systemctl would start the Debian unit). */
export function serviceByPgCtl(root: string): void {
  const file = path.join(root, 'etc/sovereign/postgres/setup.json');
  const conf = JSON.parse(fs.readFileSync(file, 'utf8'));
  conf.service = pgCtlService(root, conf.port);
  fs.writeFileSync(file, JSON.stringify(conf, null, 2));
}
