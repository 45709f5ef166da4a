import { execFileSync, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Testing } from 'cdktf';
import { phase1Pilot } from '../../../examples/phase1-pilot';
import { synthesizedBundle, SynthesizedBundle } from '../../../testing/bundle';
import { HeartbeatReceiver, Ping } from '../../backup/helpers/heartbeat-receiver';
import { overrideConf } from '../../backup/helpers/machine-root';
import { SftpServer } from '../../backup/helpers/sftp-server';
import { renderTemplate, serverIdValues, templateValues } from '../../backup/helpers/terraform-template';
import { createDebianCluster, PG_BIN } from '../../../testing/postgres-cluster';
import { NamespacePair } from './netns';
import { MACHINE_PYTHON } from '../../setup/real-parts';
import { startTogether } from '../../setup/start-together';

// A recovery lab on loopback, built from the example product's stacks (examples/phase1-pilot): a
// Storage Box (OpenSSH's SFTP server: production's sub-account by key, the drill's read-only one by
// password), machines laid out from the rendered bundles (files as Terraform renders them at apply),
// each running a real PostgreSQL 15 configured by the rendered setup inside a network namespace that
// carries the machine's private address. Shared by the full-cycle test and scripts/bench-rto.js.

/** The example product whose stacks the lab renders. */
export const PILOT = {
  production: 'phase1-pilot-production',
  test: 'phase1-pilot-test',
  productionServer: 'phase1-pilot-production-app',
  testServer: 'phase1-pilot-test-app',
} as const;

export const RESTIC_PASSWORD = 'lab restic password, 31 chars!';
export const APP_PASSWORD = "lab-app-password-'quoted'-0001";
export const PRIVATE_ADDRESS = '10.0.1.2';
const PATH_ENV = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The network namespaces of one of the example's machines: `db` carries its private address (the example's
 * network is 10.0.1.0/24) and a TEST-NET "public" address. `tag` keeps concurrent machines apart.
 */
export function machineNamespace(tag: string): NamespacePair {
  return NamespacePair.create(tag, {
    privateCidr: `${PRIVATE_ADDRESS}/24`, publicAddress: '192.0.2.1', outsideAddress: '192.0.2.2', privateSubnet: '10.0.1.0/24',
  });
}

/** The synthesized production and test stacks of the example product. */
export function synthPilot(): { production: any; test: any } {
  const app = Testing.app({ stackTraces: false });
  const stacks = phase1Pilot(app);
  return { production: JSON.parse(Testing.synth(stacks.production, true)), test: JSON.parse(Testing.synth(stacks.test, true)) };
}

/** A placeholder for every variable of a stack, overridden by `given`: what a deploy's TF_VAR_ values are. */
export function allVariables(json: any, given: Record<string, string>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of Object.keys(json.variable ?? {})) values[name] = `lab-${name.replace(/_/g, '-')}-0001`;
  return { ...values, ...given };
}

/**
 * Writes the files of a machine's bundle (of the `parts` chosen) under `root` as the rollout would
 * install them (the deploy-time ones rendered as Terraform renders them), with their modes and owners.
 */
export function layOutBundle(bundle: SynthesizedBundle, root: string, values: Record<string, string>, parts: (name: string) => boolean = () => true): string[] {
  const written: string[] = [];
  for (const part of bundle.parts.filter((p) => parts(p.name))) {
    for (const file of part.files) {
      const target = path.join(root, file.path);
      fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
      const content = file.content ?? renderTemplate(file.template!, values);
      fs.writeFileSync(target, content);
      fs.chmodSync(target, parseInt(file.permissions, 8));
      if (file.owner !== 'root:root') execFileSync('chown', [file.owner, target]);
      written.push(file.path);
    }
  }
  return written;
}

/** The result of a rendered job. */
export interface JobRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly pings: Ping[];
  readonly ms: number;
}

/** A machine's files under a directory, with its own PostgreSQL once `configurePostgres` ran. */
export class LabMachine {
  public ns?: NamespacePair;

  constructor(
    public readonly lab: RecoveryLab,
    public readonly name: string,
    /** The machine's file system. */
    public readonly root: string,
    public readonly server: string,
    public readonly bundle: SynthesizedBundle,
  ) {}

  /** The backup tooling's configuration directory. */
  public get etc(): string {
    return path.join(this.root, 'etc/sovereign-backup');
  }

  /** The PostgreSQL socket directory. */
  public get socket(): string {
    return path.join(this.root, 'var/run/postgresql');
  }

  /**
   * What installing `postgresql-15` leaves (Debian's cluster `main`), then the rendered setup
   * script, run inside a namespace that carries the private address: it starts the server,
   * creates the app role and database. The setup's service commands run pg_ctl as systemctl
   * would start the Debian unit. Returns the setup's output.
   */
  public configurePostgres(options: { fsync?: boolean } = {}): string {
    createDebianCluster(this.root);
    if (options.fsync) fs.appendFileSync(path.join(this.root, 'etc/postgresql/15/main/postgresql.conf'), 'fsync = on\n');
    this.ns = machineNamespace(`${process.pid % 10000}${this.name.slice(0, 1)}`);
    this.pointServiceAtPgCtl();
    return this.setup();
  }

  /** Runs the rendered setup script in the machine's namespace; throws on failure. */
  public setup(): string {
    const r = spawnSync('ip', ['netns', 'exec', this.ns!.db, MACHINE_PYTHON, path.join(this.root, 'usr/local/sbin/sovereign-postgres-setup')],
      { env: { PATH: PATH_ENV, SOVEREIGN_ROOT: this.root, LANG: 'C.UTF-8' }, encoding: 'utf8' });
    const out = `${r.stdout}${r.stderr}`;
    if (r.status !== 0) throw new Error(`sovereign-postgres-setup failed on ${this.name} (exit ${r.status}):\n${out}`);
    return out;
  }

  /** SQL as the superuser over the Unix socket (peer, as the tooling connects); psql's unaligned output. */
  public superuser(database: string, sql: string): string {
    return execFileSync('runuser', ['-u', 'postgres', '--', `${PG_BIN}/psql`, '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1',
      '-h', this.socket, '-d', database, '-c', sql], { encoding: 'utf8', cwd: '/', maxBuffer: 64 * 1024 * 1024 }).trim();
  }

  /** SQL as the app role over the private address, as the app connects. */
  public asApp(sql: string, options: { database?: string } = {}): string {
    return execFileSync('ip', ['netns', 'exec', this.ns!.db, `${PG_BIN}/psql`, '-X', '-q', '-A', '-t', '-w', '-v', 'ON_ERROR_STOP=1',
      `host=${PRIVATE_ADDRESS} port=5432 user=app dbname=${options.database ?? 'app'} sslmode=disable`, '-c', sql],
    { env: { PATH: PATH_ENV, PGPASSWORD: APP_PASSWORD }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).trim();
  }

  /** Only paths and ports differ from the machine: the rendered defaults are /var/…, the socket in /var/run and port 23. */
  public override(conf: string, settings: Record<string, string | number>): void {
    overrideConf(path.join(this.etc, conf), { PG_HOST: this.socket, BACKUP_STATE: path.join(this.root, 'var/lib/sovereign-backup'), ...settings });
  }

  /** Runs a rendered job of this machine with `args`, asynchronously (the heartbeat receiver lives in this process). */
  public run(script: string, env: Record<string, string> = {}, args: string[] = []): Promise<JobRun> {
    const receiver = this.lab.receiver;
    const first = receiver.pings.length;
    const started = process.hrtime.bigint();
    return new Promise((resolve, reject) => {
      const child = spawn(path.join(this.root, 'usr/local/sbin', script), args, {
        env: { PATH: PATH_ENV, HOME: '/root', LANG: 'C.UTF-8', TMPDIR: this.lab.dir, SOVEREIGN_BACKUP_ETC: this.etc, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      child.on('error', reject);
      child.on('close', (code) => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        // A ping may still be in flight when the job's process ends.
        setTimeout(() => resolve({ code, stdout, stderr, pings: receiver.since(first), ms }), 50);
      });
    });
  }

  /** Stops the server and removes the namespaces; with `wipe`, the machine's files go too (a lost machine). */
  public destroy(options: { wipe?: boolean } = {}): void {
    if (fs.existsSync(path.join(this.root, 'etc/postgresql/15/main'))) {
      spawnSync('runuser', ['-u', 'postgres', '--', `${PG_BIN}/pg_ctl`, '-D', path.join(this.root, 'etc/postgresql/15/main'), '-m', 'immediate', '-w', 'stop'], { cwd: '/' });
    }
    this.ns?.destroy();
    this.ns = undefined;
    if (options.wipe) fs.rmSync(this.root, { recursive: true, force: true });
  }

  private pointServiceAtPgCtl(): void {
    const file = path.join(this.root, 'etc/sovereign/postgres/setup.json');
    const conf = JSON.parse(fs.readFileSync(file, 'utf8'));
    const pgCtl = (...args: string[]) => ['runuser', '-u', 'postgres', '--', `${PG_BIN}/pg_ctl`, '-D', path.join(this.root, 'etc/postgresql/15/main'),
      '-l', path.join(this.root, 'var/log/postgresql/postgresql.log'), '-w', '-t', '120', ...args];
    const ready = `${PG_BIN}/pg_isready -q -h ${this.socket} -p ${conf.port}`;
    conf.service = {
      start: ['sh', '-c', `${ready} || exec "$@"`, 'start', ...pgCtl('start')],
      stop: ['sh', '-c', `${ready} || exit 0; exec "$@"`, 'stop', ...pgCtl('-m', 'fast', 'stop')],
      restart: pgCtl('-m', 'fast', 'restart'),
    };
    fs.writeFileSync(file, JSON.stringify(conf, null, 2));
  }
}

/**
 * The Storage Box lab and the machines. Production's sub-account logs in by key (the key its
 * bootstrap would install with the password; the lab's SFTP-only server has no install-ssh-key);
 * the drill's read-only sub-account logs in with its password and sees the same directory, read-only.
 */
export class RecoveryLab {
  /** The OS user the read-only sub-account logs in as. */
  public static readonly DRILL_USER = 'sovereign-dbdrill';
  public static readonly DRILL_PASSWORD = 'Drill-sub-account-password-0001';

  /** `defaultKeyExchange`: the Storage Box offers OpenSSH's own key exchanges, as a benchmark wants (see SftpServer). */
  public static async start(dir: string, options: { defaultKeyExchange?: boolean } = {}): Promise<RecoveryLab> {
    fs.chmodSync(dir, 0o755);
    const boxDir = path.join(dir, 'storage-box');
    const [box, receiver] = await startTogether([
      SftpServer.start(boxDir, {
        passwordLogin: { user: RecoveryLab.DRILL_USER, password: RecoveryLab.DRILL_PASSWORD, home: path.join(boxDir, 'home') },
        defaultKeyExchange: options.defaultKeyExchange,
      }),
      HeartbeatReceiver.start(),
    ] as const);
    return new RecoveryLab(dir, box, receiver, synthPilot());
  }

  private constructor(
    public readonly dir: string,
    public readonly box: SftpServer,
    public readonly receiver: HeartbeatReceiver,
    /** The synthesized stacks. */
    public readonly stacks: { production: any; test: any },
  ) {}

  /** The values Terraform gives the production bundle's references at apply. */
  public productionValues(): Record<string, string> {
    const json = this.stacks.production;
    const [subaccount] = Object.entries<any>(json.resource.hcloud_storage_box_subaccount).find(([, r]) => !r.access_settings?.readonly) ?? [];
    const values = templateValues(allVariables(json, {
      restic_password: RESTIC_PASSWORD, database_app_password_production: APP_PASSWORD, backup_heartbeat_url: this.receiver.url,
    }), {
      [`hcloud_storage_box_subaccount.${subaccount}.server`]: '127.0.0.1',
      [`hcloud_storage_box_subaccount.${subaccount}.username`]: 'root',
    });
    return { ...values, ...serverIdValues(...this.templates(PILOT.production, PILOT.productionServer)) };
  }

  /** The values for the test bundle: production's drill account (its stack's outputs) and the shared restic password. */
  public testValues(): Record<string, string> {
    const values = templateValues(allVariables(this.stacks.test, {
      restic_password: RESTIC_PASSWORD, database_app_password_test: APP_PASSWORD, restore_drill_heartbeat_url: this.receiver.url,
      production_backup_host: '127.0.0.1', production_backup_username: RecoveryLab.DRILL_USER,
      production_backup_drill_password: RecoveryLab.DRILL_PASSWORD,
    }));
    return { ...values, ...serverIdValues(...this.templates(PILOT.test, PILOT.testServer)) };
  }

  /** Lays out production's app machine from its rendered bundle; its backup key is authorized on the box. */
  public productionMachine(name = 'production'): LabMachine {
    const machine = this.layOut(name, PILOT.production, PILOT.productionServer, this.productionValues());
    fs.mkdirSync(path.join(machine.etc, 'ssh'), { recursive: true });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(machine.etc, 'ssh', 'id_ed25519')]);
    this.box.authorize(fs.readFileSync(path.join(machine.etc, 'ssh', 'id_ed25519.pub'), 'utf8'));
    machine.override('backup.conf', { DUMP_DIR: path.join(machine.root, 'var/backups/sovereign/postgresql'), storagebox_PORT: this.box.port });
    return machine;
  }

  /** Lays out the test stack's app machine (the weekly drill) from its rendered bundle. */
  public testMachine(name = 'test', settings: Record<string, string | number> = {}): LabMachine {
    const machine = this.layOut(name, PILOT.test, PILOT.testServer, this.testValues());
    machine.override('drill.conf', { DRILL_WORK: path.join(machine.root, 'var/tmp/restore-drill'), source_PORT: this.box.port, ...settings });
    return machine;
  }

  /** The read-only sub-account's view: the files production wrote, readable (not writable) by its OS user. */
  public shareWithDrillAccount(): void {
    execFileSync('chmod', ['-R', 'a+rX', this.box.home]);
  }

  public async stop(): Promise<void> {
    await Promise.all([this.box.stop(), this.receiver.stop()]);
  }

  private layOut(name: string, stack: string, server: string, values: Record<string, string>): LabMachine {
    const json = stack === PILOT.production ? this.stacks.production : this.stacks.test;
    const bundle = synthesizedBundle(json, server);
    const root = path.join(this.dir, `${name}-machine`);
    fs.mkdirSync(root, { recursive: true, mode: 0o755 });
    // The database and backup parts: the others (monitoring, egress allowlist) play no part in a restore.
    layOutBundle(bundle, root, values, (part) => part.startsWith('postgresql ') || part.startsWith('sovereign-backup'));
    return new LabMachine(this, name, root, server, bundle);
  }

  private templates(stack: string, server: string): string[] {
    const json = stack === PILOT.production ? this.stacks.production : this.stacks.test;
    return [...synthesizedBundle(json, server).files.values()].map((f) => f.template ?? '').filter(Boolean);
  }
}

/** Row count and an ordered digest of every row of every user table, computed independently of the tooling. */
export function fingerprint(machine: LabMachine, database: string): string {
  const tables = machine.superuser(database, "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1")
    .split('\n').filter(Boolean);
  return tables.map((t) => `${t} ${machine.superuser(database, `SELECT count(*) || ' ' || md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '')) FROM ${t} x`)}`).join('\n');
}
