import { execFileSync, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { FixtureOptions, synthBackupApp } from './fixture';
import { HeartbeatReceiver, Ping } from './heartbeat-receiver';
import { overrideConf, writeMachineFiles } from './machine-root';
import { PostgresCluster } from './postgres';
import { cheapenRepositoryKeys, cheapenS3rverRepositoryKeys } from './restic-key';
import { S3Server } from './s3-server';
import { SftpServer } from './sftp-server';
import { renderTemplate, serverIdValues, templateValues } from './terraform-template';
import { startTogether } from '../../setup/start-together';
import { allPids, commandLineOf, environmentOf, holders, processEntry, processTable, signal } from '../../../testing/harness/processes';
import { waitFor, WaitTimedOut } from '../../../testing/harness/wait';
import { Duration } from '../../../lib/core/duration';

/** The restic password of every repository the fixture's machines use. */
export const RESTIC_PASSWORD = 'correct horse battery staple 7#';
/** The production machine's server name (restic's host of its backups). */
export const PROD_HOST = 'acme-production-app';
/** The test machine's server name (where the drill runs). */
export const TEST_HOST = 'acme-test-app';
/** The PATH a systemd service runs with. */
export const PATH_ENV = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** What one run of a script did: its exit code, output, and the heartbeat pings it sent. */
export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly pings: Ping[];
}

/** How {@link runScript} acts on a script while it runs. */
export interface RunOptions {
  /**
   * The script's command-line arguments (backup-restore's --replace, --database).
   * @default - none
   */
  readonly args?: string[];
  /**
   * Once the script's output matches, SIGTERM to the script and everything it started, as `systemctl stop` (or a
   * timeout, or a shutdown) does.
   * @default - never stopped
   */
  readonly stopWhen?: RegExp;
  /**
   * Once the script's output matches `when`, `act` runs (once), given the script's process ID (also its process
   * group's): to do something to the running job from outside, as the OOM killer, a power loss or an operator would.
   * @default - nothing is done
   */
  readonly onOutput?: { readonly when: RegExp; readonly act: (pid: number) => void };
  /**
   * More of the script's environment, as the unit or its caller sets it (the rollout's SOVEREIGN_PREVIOUS_ROOT).
   * @default - none
   */
  readonly env?: Record<string, string>;
  /**
   * How long the script may run before the harness kills it (a run the test itself holds up, such as a dump held by a
   * table lock while drills run beside it, needs longer than the jobs' own time).
   * @default Duration.seconds(100)
   */
  readonly timeout?: Duration;
}

/** Options of a {@link BackupWorld}. */
export interface WorldOptions {
  /**
   * Also start an S3 server (s3rver on loopback) as the offsite bucket: production's plan then
   * copies to the Storage Box and to the bucket, as from Phase 2.
   * @default false
   */
  readonly offsite?: boolean;
  /**
   * Keep the key derivation `restic init` calibrated, as on a real machine (benchmarks). Otherwise
   * the Storage Box's repositories get a cheap one after each bootstrap (see {@link cheapenRepositoryKeys}).
   * @default false
   */
  readonly calibratedKeys?: boolean;
  /**
   * The Storage Box offers OpenSSH's own key exchanges, the post-quantum hybrid first, as a real server
   * may (benchmarks): each connection then costs the client what it costs on a machine.
   * @default false - X25519 only (see startLoopbackSshd)
   */
  readonly defaultKeyExchange?: boolean;
}

/** A machine's files as the bundle lays them out, and its configuration directory. */
export interface MachineRoot {
  readonly root: string;
  readonly etc: string;
}

/**
 * The production and test machines of the fixture app, laid out under `tmp` from the synthesized
 * bundles (rendered as Terraform renders them at apply), pointed at a real PostgreSQL, a real SFTP
 * server and a heartbeat receiver: the exact scripts the library renders, run as they are.
 */
export class BackupWorld {
  /** Starts the servers and lays out both machines under `tmp` (which the caller removes). */
  public static async start(tmp: string, options: WorldOptions = {}): Promise<BackupWorld> {
    fs.chmodSync(tmp, 0o755);
    const [pg, sftp, receiver, s3] = await startTogether([
      PostgresCluster.start(path.join(tmp, 'postgres')),
      SftpServer.start(path.join(tmp, 'storage-box'), { defaultKeyExchange: options.defaultKeyExchange }),
      HeartbeatReceiver.start(),
      options.offsite ? S3Server.start(path.join(tmp, 's3')) : Promise.resolve(undefined),
    ] as const);
    const world = new BackupWorld(tmp, pg, sftp, receiver, s3, options.calibratedKeys ?? false);
    world.production = world.layOut('production', { storagebox_PORT: sftp.port });
    world.test = world.layOut('test', { source_PORT: sftp.port, DRILL_KEEP_DATABASES: 1 });
    sftp.authorize(world.generateKey(world.production.etc));
    sftp.authorize(world.generateKey(world.test.etc));
    return world;
  }

  /** The production machine: the plan's jobs. */
  public production!: MachineRoot;
  /** The test machine: the restore drill from the Storage Box. */
  public test!: MachineRoot;
  /** The file systems {@link smallDisk} mounted, which {@link stop} unmounts. */
  private readonly mounts: string[] = [];
  /** The fixture app synthesized for each set of options {@link layOut} was given. */
  private readonly synths = new Map<string, ReturnType<typeof synthBackupApp>>();

  private constructor(
    public readonly tmp: string,
    public readonly pg: PostgresCluster,
    public readonly sftp: SftpServer,
    public readonly receiver: HeartbeatReceiver,
    /** The offsite bucket's server, when the world was started with `offsite`. */
    public readonly s3: S3Server | undefined,
    private readonly calibratedKeys: boolean,
  ) {}

  /**
   * Lays out one machine of the fixture app, synthesized once per set of options (below). `drillPasswordLogin`
   * renders the drill as a read-only account's: password login, host key trusted on first use, no SSH key of its own.
   */
  public layOut(name: string, settings: Record<string, string | number>,
    options: { drillPasswordLogin?: { user: string; password: string }; drillSource?: FixtureOptions['drillSource']; filePaths?: string[] } = {}): MachineRoot {
    const fixture: FixtureOptions = {
      hostKeys: [this.sftp.hostKey], drillSourceHostFromVariable: true, drillSourceUser: options.drillPasswordLogin?.user ?? 'root',
      drillPasswordLogin: options.drillPasswordLogin !== undefined, offsite: this.s3 !== undefined, drillSource: options.drillSource,
      filePaths: options.filePaths,
    };
    // One synth per set of options: machines laid out alike (start's production and test, a suite's variants of one
    // drill) read the same stacks, and each synth costs a few tenths of a CPU-second. The stacks are only read here.
    const key = JSON.stringify(fixture);
    const synthesized = this.synths.get(key) ?? synthBackupApp(fixture);
    this.synths.set(key, synthesized);
    const { production, test } = synthesized;
    const bucket = this.s3 ? {
      endpoint: this.s3.endpoint, bucket: this.s3.bucket, access_key_id: this.s3.credentials.accessKeyId, secret_access_key: this.s3.credentials.secretAccessKey,
    } : {};
    const offsite = Object.fromEntries(Object.entries(bucket).flatMap(([k, v]) => [[`offsite_${k}`, v], [`drill_offsite_${k}`, v]]));
    const subaccount = Object.keys(production.json.resource.hcloud_storage_box_subaccount)[0];
    const values = templateValues({
      restic_password: RESTIC_PASSWORD,
      production_restic_password: RESTIC_PASSWORD,
      heartbeat_url: this.receiver.url,
      storage_box_app_password: 'Not-used-by-key-login-1',
      storage_box_drill_password: options.drillPasswordLogin?.password ?? 'unused',
      drill_source_host: '127.0.0.1',
      ...offsite,
    }, {
      [`hcloud_storage_box_subaccount.${subaccount}.server`]: '127.0.0.1',
      [`hcloud_storage_box_subaccount.${subaccount}.username`]: 'root',
    });
    Object.assign(values, serverIdValues(production.userData, test.userData));
    const isProduction = name.startsWith('production');
    const root = path.join(this.tmp, `${name}-machine`);
    writeMachineFiles(renderTemplate(isProduction ? production.userData : test.userData, values), root);
    const etc = path.join(root, 'etc/sovereign-backup');
    if (isProduction) {
      overrideConf(path.join(etc, 'backup.conf'), {
        BACKUP_STATE: path.join(this.tmp, `${name}-state`), DUMP_DIR: path.join(this.tmp, `${name}-dumps`),
        PG_HOST: this.pg.dir, PG_PORT: this.pg.port, ...settings,
      });
    } else {
      overrideConf(path.join(etc, 'drill.conf'), {
        BACKUP_STATE: path.join(this.tmp, `${name}-state`), DRILL_WORK: path.join(this.tmp, `${name}-drill-work`),
        PG_HOST: this.pg.dir, PG_PORT: this.pg.port, ...settings,
      });
    }
    return { root, etc };
  }

  /** Generates a machine's backup SSH key in its configuration directory; returns the public key. */
  public generateKey(etc: string): string {
    fs.mkdirSync(path.join(etc, 'ssh'), { recursive: true });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(etc, 'ssh', 'id_ed25519')]);
    return fs.readFileSync(path.join(etc, 'ssh', 'id_ed25519.pub'), 'utf8');
  }

  /**
   * Runs a rendered script of a machine, asynchronously (the heartbeat receiver lives in this process).
   * After a bootstrap, the Storage Box's new repositories get a cheap key derivation (see
   * {@link cheapenRepositoryKeys}) unless the world keeps calibrated keys: the scripts open them
   * hundreds of times in a suite.
   */
  public async run(machine: MachineRoot, script: string, etc: string = machine.etc, options: RunOptions = {}): Promise<RunResult> {
    const result = await runScript(path.join(machine.root, 'usr/local/sbin', script), this.receiver, { TMPDIR: this.tmp, SOVEREIGN_BACKUP_ETC: etc }, options);
    if (script === 'backup-bootstrap' && result.code === 0 && !this.calibratedKeys) this.cheapenNewRepositoryKeys();
    return result;
  }

  /**
   * Every repository on the Storage Box (and in the bucket) whose key still has restic's calibrated
   * derivation gets a cheap one.
   */
  private cheapenNewRepositoryKeys(): void {
    for (const repository of resticRepositories(this.sftp.home, '')) cheapenRepositoryKeys(repository, RESTIC_PASSWORD);
    if (this.s3) {
      for (const repository of resticRepositories(path.join(this.s3.dir, this.s3.bucket), '._S3rver_object')) cheapenS3rverRepositoryKeys(repository, RESTIC_PASSWORD);
    }
  }

  /** A copy of a machine's configuration directory with some settings or files changed. */
  public variant(etc: string, conf: string, settings: Record<string, string | number>, files: Record<string, string> = {}): string {
    const copy = fs.mkdtempSync(path.join(this.tmp, 'etc-'));
    fs.cpSync(etc, copy, { recursive: true });
    overrideConf(path.join(copy, conf), settings);
    for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(copy, name), content, { mode: 0o600 });
    return copy;
  }

  /**
   * A copy of a test machine's configuration `etc` whose drill restores two copies of the backups, as ProductStacks
   * renders it with the offsite bucket: the Storage Box's (`source`) and the same repository under a second name
   * (`source2`), with `settings` changed besides.
   */
  public drillOfTwoCopies(etc: string, settings: Record<string, string | number> = {}): string {
    const conf = fs.readFileSync(path.join(etc, 'drill.conf'), 'utf8');
    const second = Object.fromEntries([...conf.matchAll(/^source_(\w+)='?([^'\n]*)'?$/gm)].map(([, key, value]) => [`source2_${key}`, value]));
    return this.variant(etc, 'drill.conf', { ...second, DRILL_SOURCES: 'source source2', ...settings }, {
      'secrets/source2.restic.b64': fs.readFileSync(path.join(etc, 'secrets/source.restic.b64'), 'utf8'),
      'ssh/known_hosts.source2': fs.readFileSync(path.join(etc, 'ssh/known_hosts.source'), 'utf8').replace(/^sovereign-source /gm, 'sovereign-source2 '),
    });
  }

  /**
   * A copy of production's configuration whose jobs use a restic repository of their own (`repo`, on the Storage
   * Box) and a dump directory of their own, with `settings` changed besides.
   */
  public productionWith(repo: string, settings: Record<string, string | number> = {}): string {
    return this.variant(this.production.etc, 'backup.conf', { storagebox_REPO_PATH: repo, DUMP_DIR: path.join(this.tmp, `dumps-${repo}`), ...settings });
  }

  /** Runs production's backup-bootstrap on the repository 'repo-bootstrapped', which {@link copyBootstrapped} copies; throws its log if it fails. */
  public async bootstrapForCopies(): Promise<void> {
    const bootstrap = await this.run(this.production, 'backup-bootstrap', this.productionWith('repo-bootstrapped'));
    if (bootstrap.code !== 0) throw new Error(bootstrap.stderr);
  }

  /** Production's `app` database as the fixture's verification queries expect it: 1,000 users and 2,000 orders that reference them. */
  public seedAppWithOrders(): void {
    this.pg.sql('postgres', 'CREATE DATABASE app');
    this.pg.sql('app', `CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL);
      INSERT INTO users SELECT g, 'user ' || g FROM generate_series(1, 1000) g;
      CREATE TABLE orders (id int PRIMARY KEY, user_id int NOT NULL REFERENCES users);
      INSERT INTO orders SELECT g, (g % 1000) + 1 FROM generate_series(1, 2000) g;`);
  }

  /** Copies the repository the suite bootstrapped as 'repo-bootstrapped' to `repo` on the Storage Box. */
  public copyBootstrapped(repo: string): void {
    fs.cpSync(path.join(this.sftp.home, 'repo-bootstrapped'), path.join(this.sftp.home, repo), { recursive: true });
  }

  /**
   * A file system of `bytes` (a tmpfs, root only) mounted at `<tmp>/<name>`: a disk that can be filled. `options`
   * are more of tmpfs's mount options (`nr_inodes=2`, `ro`). {@link stop} unmounts it whatever a test left in it,
   * so that the suite's directory can be removed.
   */
  public smallDisk(name: string, bytes: number, options: string[] = []): string {
    const dir = path.join(this.tmp, name);
    fs.mkdirSync(dir);
    execFileSync('mount', ['-t', 'tmpfs', '-o', [`size=${bytes}`, 'mode=0700', ...options].join(','), 'tmpfs', dir]);
    this.mounts.push(dir);
    return dir;
  }

  /**
   * Fills the file system of `dir` with a file `filler` until `leave` bytes are left. A job may be writing there
   * meanwhile (a test fills the disk under a running dump): a fallocate of what df said was free then fails whole
   * (No space left on device), so the file is grown again, a few times, by what is free by then.
   */
  public static fillDisk(dir: string, leave: number): void {
    const free = () => Number(execFileSync('df', ['--output=avail', '-B1', dir], { encoding: 'utf8' }).split('\n')[1].trim());
    const filler = path.join(dir, 'filler');
    const first = free();
    if (first <= leave) throw new Error(`${dir} has only ${first} bytes left, fewer than the ${leave} to leave`);
    for (let attempt = 0, available = first; attempt < 10 && available > leave; attempt++, available = free()) {
      const size = fs.existsSync(filler) ? fs.statSync(filler).size : 0;
      const grown = spawnSync('fallocate', ['-l', String(size + available - leave), filler], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
      if (grown.error) throw grown.error;
      if (grown.status !== 0 && !/No space left on device/.test(grown.stderr)) throw new Error(`fallocate in ${dir} failed: ${grown.stderr}`);
    }
    const left = free();
    if (left > leave) throw new Error(`${dir} still has ${left} bytes free after 10 tries to leave ${leave}: something writes there as fast`);
  }


  /** Stops every server of the world, and unmounts the small disks. */
  public async stop(): Promise<void> {
    try {
      await Promise.all([this.sftp.stop(), this.receiver.stop(), this.s3?.stop()]);
      this.pg.destroy();
    } finally {
      // A process a failed job left behind may hold a file open there: detached then (umount -l), gone once it ends.
      for (const dir of this.mounts.splice(0)) {
        if (spawnSync('mountpoint', ['-q', dir]).status !== 0) continue;
        try {
          execFileSync('umount', [dir], { stdio: 'ignore' });
        } catch {
          execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
        }
      }
    }
  }
}

/**
 * Runs a script as systemd would (a minimal environment plus `env` and `options.env`), asynchronously, since the
 * heartbeat receiver lives in this process; returns its output and the pings it sent. `stopWhen`
 * and `onOutput` act on it while it runs (see {@link RunOptions}). With
 * BACKUP_TEST_TIMING set, prints how long each run took (to find where a suite's time goes).
 */
export function runScript(script: string, receiver: HeartbeatReceiver, env: Record<string, string>, options: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = (options.timeout ?? Duration.seconds(100)).toMillis();
  const first = receiver.pings.length;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(script, options.args ?? [], {
      // options.env last: the caller's additions win over the base `env` (TMPDIR, SOVEREIGN_BACKUP_ETC), as RunOptions.env says.
      env: { PATH: PATH_ENV, HOME: '/root', LANG: 'C.UTF-8', ...env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // A group of its own, to be stopped as systemd stops a service: every process of it at once
      // (by `stopWhen`, or by the time limit, whose kill would otherwise leave a child holding the
      // output pipes open, so that the run never closes and its test times out without a word).
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    let stopped = false;
    let acted = false;
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (options.onOutput && !acted && options.onOutput.when.test(stderr)) {
        acted = true;
        options.onOutput.act(child.pid!);
      }
      if (options.stopWhen && !stopped && options.stopWhen.test(stderr)) {
        stopped = true;
        process.kill(-child.pid!, 'SIGTERM');
      }
    });
    const timer = setTimeout(() => {
      let killed = 'its process group was killed';
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { killed = 'its process group was gone (what holds its output left the group)'; }
      stderr += `\n[test harness] ${path.basename(script)} still ran after ${timeoutMs / 1000} s: ${killed}\n`;
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (process.env.BACKUP_TEST_TIMING) process.stderr.write(`[timing] ${path.basename(script)} ${Date.now() - started} ms (exit ${code})\n`);
      // A ping's request may still be in flight when the script's process ends; give it a moment.
      setTimeout(() => resolve({ code, stdout, stderr, pings: receiver.since(first) }), 50);
    });
  });
}

/** The restic repositories anywhere under `dir` (directories with a `config` file and `keys/`); `suffix` ends a stored file's name. */
function resticRepositories(dir: string, suffix: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const found: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const sub = path.join(dir, entry.name);
    if (fs.existsSync(path.join(sub, `config${suffix}`)) && fs.existsSync(path.join(sub, 'keys'))) found.push(sub);
    else if (!['data', 'index', 'snapshots', 'locks'].includes(entry.name)) found.push(...resticRepositories(sub, suffix));
  }
  return found;
}

/** The scratch databases a drill kept (DRILL_KEEP_DATABASES=1), by production database, from its summary. */
export function scratchDatabases(summary: string): Record<string, string> {
  const names = /kept until the next drill as ([\w ]+)/.exec(summary)![1].split(' ');
  return Object.fromEntries(names.map((n) => [n.replace(/^restore_drill_\d{8}t\d{6}_[0-9a-f]{6}_/, ''), n]));
}

/** Row count and an ordered digest of every row of every user table of a database, computed by the test itself. */
export function fingerprint(pg: PostgresCluster, database: string): string {
  const tables = pg.sql(database, "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1").split('\n');
  return tables.map((t) => `${t} ${pg.sql(database, `SELECT count(*) || ' ' || md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '')) FROM ${t} x`)}`).join('\n');
}

/** A base64 secret file's content, as the bundle writes one. */
export const b64 = (s: string) => `${Buffer.from(s, 'utf8').toString('base64')}\n`;

/** The path a job's ping reaches the heartbeat receiver at. */
export const pingPath = (host: string, job: string, suffix = '') => `/ping/test-ping-key/${host}-${job}${suffix}`;

/** Exit 0, and exactly the job's /start and success pings. */
export function expectSuccess(result: RunResult, host: string, job: string): void {
  if (result.code !== 0) throw new Error(`${job} failed (exit ${result.code}):\n${result.stderr}`);
  expect(result.pings.map((p) => p.path)).toEqual([pingPath(host, job, '/start'), pingPath(host, job)]);
}

/**
 * A check or prune that gave way once to the jobs waiting for the repository lock and ran its step again: it
 * succeeded (its own pings among the other jobs'), and its log and its success ping name them as `waiters` says (a
 * regular expression's source, such as `backup-dump \\(pid \\d+\\)`). Returns its success ping's body.
 */
export function expectGaveWay(result: RunResult, host: string, job: string, waiters: string): string {
  const own = result.pings.filter((p) => p.path.includes(`${host}-${job}`));
  expect(result.code).toBe(0);
  expect(own.map((p) => p.path)).toEqual([pingPath(host, job, '/start'), pingPath(host, job)]);
  expect(result.stderr).toMatch(new RegExp(`storagebox: ${waiters} waits for the repository lock: stopping this step`));
  expect(own[1].body).toMatch(new RegExp(`gave way 1 time\\(s\\) to ${waiters} and ran the step again`));
  return own[1].body;
}

/** Non-zero, a /fail ping matching `reason`, never a success ping or an OK line. */
export function expectFailure(result: RunResult, host: string, job: string, reason: RegExp): void {
  const paths = result.pings.map((p) => p.path);
  if (result.code === 0 || paths.includes(pingPath(host, job))) {
    throw new Error(`${job} reported success where it must fail (exit ${result.code}, pings ${paths.join(', ')}):\n${result.stderr}`);
  }
  expect(result.code).not.toBeNull();
  expect(paths).toContain(pingPath(host, job, '/fail'));
  const fail = result.pings.find((p) => p.path === pingPath(host, job, '/fail'))!;
  expect(fail.body).toMatch(reason);
  expect(result.stderr).toMatch(/FAILED/);
  // The job's own OK line (a drill of several copies logs each copy's as restore-drill@<copy>).
  expect(result.stderr).not.toMatch(/Z [\w-]+: OK: /);
}

/** Every file of a directory tree, largest first. */
export function filesBySize(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile()).map((e) => path.join(e.parentPath ?? (e as any).path, e.name))
    .sort((a, b) => fs.statSync(b).size - fs.statSync(a).size);
}

/** Flips bytes all through a file (bit rot, a bad disk, tampering), keeping its size. */
export function corrupt(file: string): void {
  const data = fs.readFileSync(file);
  for (let i = 64; i < data.length - 16; i += 509) data[i] ^= 0xff;
  if (data.length <= 80) data[data.length - 1] ^= 0xff;
  fs.writeFileSync(file, data);
}

/** "<pid> <command>"; undefined once the process has ended. */
function pidAndCommand(pid: number): string | undefined {
  const args = commandLineOf(pid);
  return args && `${pid} ${args.join(' ')}`;
}

/**
 * The processes a job left running: every process whose environment carries the job's
 * configuration directory (`SOVEREIGN_BACKUP_ETC=<etc>`, which everything a job starts inherits),
 * as "<pid> <command>". After a job exited, there must be none.
 */
export function survivorsOf(etc: string): string[] {
  const marker = `SOVEREIGN_BACKUP_ETC=${etc}`;
  const found: string[] = [];
  // Each is read whatever its state ('wait'), so that one stuck in uninterruptible sleep (which a SIGKILL ends only once
  // it wakes) still counts. The read of such a process waits until it wakes: a stalled disk's test must let its disk go
  // before it looks for survivors.
  for (const pid of allPids()) {
    if (!environmentOf(pid, 'wait')?.includes(marker)) continue;
    const shown = pidAndCommand(pid);
    if (shown) found.push(shown);
  }
  return found;
}

/**
 * The processes holding a machine's repository lock open (`<BACKUP_STATE>/repository.lock`), as
 * "<pid> <command>", and whether `flock -n` gets it: the next job must not wait for a job that ended.
 */
export function repositoryLock(state: string): { holders: string[]; free: boolean } {
  const lock = path.join(state, 'repository.lock');
  const holding: string[] = [];
  for (const { pid } of holders((target) => target === lock)) {
    const shown = pidAndCommand(pid);
    if (shown) holding.push(shown);
  }
  let free = true;
  try {
    execFileSync('flock', ['-n', lock, 'true'], { stdio: 'ignore' });
  } catch {
    free = false;
  }
  return { holders: holding, free };
}

/**
 * A process that holds `lock` with flock, as a backup job holds its state's repository lock, once it does: one process
 * (bash that execs sleep), so that ending it frees the lock. `note`, given its pid, is written into the lock file, as
 * repo_lock writes its job's name and start. Resolves with the release (SIGKILL, then its exit); throws, the holder
 * ended, if it has not taken the lock within 10 seconds.
 */
export async function holdLockFile(lock: string, note?: (pid: number) => string): Promise<() => Promise<void>> {
  const holder = spawn('bash', ['-c', 'exec 9<>"$1" && flock 9 && exec sleep 300', 'holder', lock], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => holder.once('exit', () => resolve()));
  const release = async () => {
    holder.kill('SIGKILL');
    await exited;
  };
  try {
    await waitFor(() => spawnSync('flock', ['-n', lock, 'true']).status !== 0, { timeout: Duration.seconds(10), what: `a holder to take ${lock}` });
  } catch (e) {
    await release();
    throw e;
  }
  if (note) fs.writeFileSync(lock, `${note(holder.pid!)}\n`);
  return release;
}

/**
 * The process of a drill's run for one copy of several (the script run again with `SB_DRILL_OF=<copy>`, under the
 * configuration directory `etc`): not its subshells, nor the programs it started.
 */
export function drillCopyProcess(etc: string, copy: string): number | undefined {
  const ofCopy = `SB_DRILL_OF=${copy}`;
  const ofEtc = `SOVEREIGN_BACKUP_ETC=${etc}`;
  for (const p of processTable()) {
    // Not the environ of a process stuck in uninterruptible sleep (on a stalled disk), whose memory map a read waits for.
    const env = environmentOf(p, 'skip');
    if (!env?.includes(ofCopy) || !env.includes(ofEtc)) continue;
    // None once it ended while it was read.
    if (!commandLineOf(p.pid)?.some((arg) => arg.endsWith('/restore-drill'))) continue;
    // Its subshells (bash forks, the same command line) have it as their parent; it has the run of all copies.
    const parent = processEntry(p.parent);
    const parentEnv = parent && environmentOf(parent, 'skip');
    if (parentEnv && !parentEnv.includes(ofCopy)) return p.pid;
  }
  return undefined;
}

/**
 * A PATH whose `date` runs `hours` ahead of the real clock (behind, when negative), for the times a job reads with
 * `date` (a dump's time, a drill's now); calls that convert a given date (`-d`, `--date`) are left alone. The
 * directory is made under `dir`.
 */
export function shiftedClock(dir: string, hours: number): string {
  const bin = path.join(dir, `clock-${hours}h`);
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(path.join(bin, 'date'), '#!/bin/bash\nfor a in "$@"; do case $a in -d*|--date*) exec /usr/bin/date "$@";; esac; done\n'
    + `exec /usr/bin/date -d "@$(( $(/usr/bin/date +%s) + ${hours} * 3600 ))" "$@"\n`, { mode: 0o755 });
  return `${bin}:${PATH_ENV}`;
}

/**
 * A PATH whose ssh passes the Storage Box's answers on at 640 bytes a second while the file `slow` exists: a job's
 * restic reads for minutes (a long check, a long prune). The programs are written under `dir`.
 */
export function slowStorageBoxLink(dir: string, slow: string): string {
  const bin = path.join(dir, 'bin-slow-link');
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(path.join(bin, 'trickle.py'), [
    'import os, sys, time',
    'while True:',
    '    slow = os.path.exists(sys.argv[1])',
    '    chunk = sys.stdin.buffer.read1(64 if slow else 65536)',
    '    if not chunk:',
    '        break',
    '    sys.stdout.buffer.write(chunk)',
    '    sys.stdout.buffer.flush()',
    '    if slow:',
    '        time.sleep(0.1)',
    '',
  ].join('\n'));
  fs.writeFileSync(path.join(bin, 'ssh'), `#!/bin/bash\nset -o pipefail\n/usr/bin/ssh "$@" | python3 '${bin}/trickle.py' '${slow}'\n`, { mode: 0o755 });
  return `${bin}:${PATH_ENV}`;
}

/**
 * SIGKILLs every process of the job run with the configuration directory `etc` (see {@link survivorsOf}), as the OOM
 * killer, a unit's last kill at its timeout or a crash does: no exit trap runs. Returns once none is left.
 */
export async function killJob(etc: string): Promise<void> {
  // Again at each look: a process the job forked between two looks is killed at the next. Bounded on the clock,
  // generously: a loaded machine reaps a killed process late, and one in uninterruptible sleep dies only when it wakes
  // (a look itself waits on such a process: see survivorsOf).
  await waitFor(() => {
    const survivors = survivorsOf(etc);
    for (const p of survivors) signal(Number(p.split(' ')[0]), 'SIGKILL');
    return survivors.length === 0;
  }, { timeout: Duration.seconds(30), interval: Duration.millis(100), what: `the processes of the job run with ${etc} to end after SIGKILL` }).catch((e) => {
    throw e instanceof WaitTimedOut ? new Error(`${e.message}; still there: ${survivorsOf(etc).join('; ')}`) : e;
  });
}
