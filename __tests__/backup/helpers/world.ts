import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { synthBackupApp } from './fixture';
import { HeartbeatReceiver, Ping } from './heartbeat-receiver';
import { overrideConf, writeMachineFiles } from './machine-root';
import { PostgresCluster } from './postgres';
import { SftpServer } from './sftp-server';
import { renderTemplate, serverIdValues, templateValues } from './terraform-template';

export const RESTIC_PASSWORD = 'correct horse battery staple 7#';
export const PROD_HOST = 'acme-production-app';
export const TEST_HOST = 'acme-test-app';
const PATH_ENV = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly pings: Ping[];
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
  public static async start(tmp: string): Promise<BackupWorld> {
    fs.chmodSync(tmp, 0o755);
    const [pg, sftp, receiver] = await Promise.all([
      PostgresCluster.start(path.join(tmp, 'postgres')),
      SftpServer.start(path.join(tmp, 'storage-box')),
      HeartbeatReceiver.start(),
    ]);
    const world = new BackupWorld(tmp, pg, sftp, receiver);
    world.production = world.layOut('production', { storagebox_PORT: sftp.port });
    world.test = world.layOut('test', { source_PORT: sftp.port, DRILL_KEEP_DATABASES: 1 });
    sftp.authorize(world.generateKey(world.production.etc));
    sftp.authorize(world.generateKey(world.test.etc));
    return world;
  }

  public production!: MachineRoot;
  public test!: MachineRoot;

  private constructor(
    public readonly tmp: string,
    public readonly pg: PostgresCluster,
    public readonly sftp: SftpServer,
    public readonly receiver: HeartbeatReceiver,
  ) {}

  /**
   * Lays out one machine of a freshly synthesized app. `drillPasswordLogin` renders the drill as a
   * read-only account's: password login, host key trusted on first use, no SSH key of its own.
   */
  public layOut(name: string, settings: Record<string, string | number>, options: { drillPasswordLogin?: { user: string; password: string } } = {}): MachineRoot {
    const { production, test } = synthBackupApp({
      hostKeys: [this.sftp.hostKey], drillSourceHost: '127.0.0.1', drillSourceUser: options.drillPasswordLogin?.user ?? 'root',
      drillPasswordLogin: options.drillPasswordLogin !== undefined,
    });
    const subaccount = Object.keys(production.json.resource.hcloud_storage_box_subaccount)[0];
    const values = templateValues({
      restic_password: RESTIC_PASSWORD,
      production_restic_password: RESTIC_PASSWORD,
      heartbeat_url: this.receiver.url,
      storage_box_app_password: 'Not-used-by-key-login-1',
      storage_box_drill_password: options.drillPasswordLogin?.password ?? 'unused',
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

  public generateKey(etc: string): string {
    fs.mkdirSync(path.join(etc, 'ssh'), { recursive: true });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(etc, 'ssh', 'id_ed25519')]);
    return fs.readFileSync(path.join(etc, 'ssh', 'id_ed25519.pub'), 'utf8');
  }

  /** Runs a rendered script of a machine, asynchronously (the heartbeat receiver lives in this process). */
  public run(machine: MachineRoot, script: string, etc: string = machine.etc): Promise<RunResult> {
    const first = this.receiver.pings.length;
    return new Promise((resolve, reject) => {
      const child = spawn(path.join(machine.root, 'usr/local/sbin', script), [], {
        env: { PATH: PATH_ENV, HOME: '/root', LANG: 'C.UTF-8', TMPDIR: this.tmp, SOVEREIGN_BACKUP_ETC: etc },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      const timer = setTimeout(() => child.kill('SIGKILL'), 100_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        // A ping's request may still be in flight when the script's process ends; give it a moment.
        setTimeout(() => resolve({ code, stdout, stderr, pings: this.receiver.since(first) }), 50);
      });
    });
  }

  /** A copy of a machine's configuration directory with some settings or files changed. */
  public variant(etc: string, conf: string, settings: Record<string, string | number>, files: Record<string, string> = {}): string {
    const copy = fs.mkdtempSync(path.join(this.tmp, 'etc-'));
    fs.cpSync(etc, copy, { recursive: true });
    overrideConf(path.join(copy, conf), settings);
    for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(copy, name), content, { mode: 0o600 });
    return copy;
  }

  public async stop(): Promise<void> {
    await Promise.all([this.sftp.stop(), this.receiver.stop()]);
    this.pg.destroy();
  }
}

export const pingPath = (host: string, job: string, suffix = '') => `/ping/test-ping-key/${host}-${job}${suffix}`;

export function expectSuccess(result: RunResult, host: string, job: string): void {
  if (result.code !== 0) throw new Error(`${job} failed (exit ${result.code}):\n${result.stderr}`);
  expect(result.pings.map((p) => p.path)).toEqual([pingPath(host, job, '/start'), pingPath(host, job)]);
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
  expect(result.stderr).not.toMatch(/OK: /);
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
