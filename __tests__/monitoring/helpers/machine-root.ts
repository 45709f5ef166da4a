import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BUNDLE, MachineFile, machineFiles, renderTemplate, variableValues } from './machine-files';

/** The server id the test's bundles are built for (Terraform's `hcloud_server.….id`). */
export const BUILT_FOR_SERVER_ID = '4711';

/** Fake secrets, as a team would set them with TF_VAR_… (hosts match the fixture's declarations). */
export const FAKE_SECRETS: Record<string, string> = {
  monitoring_deadman_ping_url_production: 'https://hc-ping.com/00000000-0000-4000-8000-000000000000',
  monitoring_deadman_ping_url_test: 'https://hc-ping.com/00000000-0000-4000-8000-00000000000e',
  monitoring_webhook_ops: 'https://chat.acme.eu/hooks/alerts?token=not-a-real-token',
  monitoring_smtp_password_oncall: 'not a real "password"',
  error_monitoring_dsn: 'https://0123456789abcdef0123456789abcdef@errors.acme.eu/1',
};

/**
 * A machine's files under a temporary root: the user data rendered the way Terraform renders it
 * (secrets from `variables`, private IPs as 10.0.1.x), decoded as cloud-init decodes it, with every
 * absolute path of the monitoring moved under the root so the real tools can read the files.
 */
export class MachineRoot {
  public static create(userData: string, variables: Record<string, string> = FAKE_SECRETS, prefix = 'monitoring-root-', serverId = BUILT_FOR_SERVER_ID): MachineRoot {
    const values = new Proxy(variableValues(variables), {
      get: (target, key: string) => target[key]
        ?? (/\.network\)\.0\.ip$/.test(key) ? '10.0.1.2' : undefined)
        ?? (/^hcloud_server\.[\w-]+\.id$/.test(key) ? serverId : undefined),
    });
    // The monitoring's files are rendered strictly: a reference the test cannot resolve is an error.
    // Other parts (backups, egress allowlist) are someone else's and are left as synthesized.
    const files = machineFiles(userData, (p, content) => {
      if (isMonitoringFile(p)) return renderTemplate(content, values);
      return p.startsWith('/etc/sovereign/identity/') ? renderTemplate(content, values, true) : content;
    }, false);
    const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    return new MachineRoot(root, renderTemplate(userData, values, true), files);
  }

  private constructor(
    public readonly dir: string,
    /** The user data as Terraform renders it at apply. */
    public readonly userData: string,
    /** The files as cloud-init writes them, at their paths on the machine. */
    public readonly files: Map<string, MachineFile>,
  ) {
    for (const f of files.values()) this.write(f.path, f.content, parseInt(f.permissions, 8));
    // The setup unpacks the bundle as at first boot; then configuration moves under the root. The
    // scripts stay as rendered: SOVEREIGN_ROOT points them at the root.
    if (files.has(BUNDLE)) {
      const unpack = this.setup('unpack');
      if (unpack.status !== 0) throw new Error(`setup unpack failed: ${unpack.output}`);
      for (const [machinePath, spec] of Object.entries(JSON.parse(files.get(BUNDLE)!.content) as Record<string, { mode: string }>)) {
        files.set(machinePath, { path: machinePath, content: this.read(machinePath), permissions: spec.mode });
      }
    }
    for (const f of files.values()) {
      // The identity's lists hold machine paths, which its check moves under SOVEREIGN_ROOT itself.
      if (!f.path.startsWith('/usr/local/sbin/') && !f.path.startsWith('/etc/sovereign/identity/') && f.path !== BUNDLE) fs.writeFileSync(this.path(f.path), this.relocate(f.content));
    }
  }

  /** A path on the machine, under the root. */
  public path(machinePath: string): string {
    return path.join(this.dir, machinePath);
  }

  /** Moves the monitoring's absolute paths under the root. */
  public relocate(text: string): string {
    return text.replace(/(?<![\w/.-])\/(etc\/sovereign-monitoring|etc\/sovereign\/|var\/lib\/prometheus|var\/lib\/sovereign\/|usr\/local\/sbin\/sovereign-)/g, `${this.dir}/$1`);
  }

  public read(machinePath: string): string {
    return fs.readFileSync(this.path(machinePath), 'utf8');
  }

  public write(machinePath: string, content: string, mode = 0o644): void {
    const target = this.path(machinePath);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, content);
    fs.chmodSync(target, mode);
  }

  /** Replaces text in a file under the root, and fails when the text is not there (a test override that silently misses proves nothing). */
  public override(machinePath: string, from: string | RegExp, to: string): void {
    const text = this.read(machinePath);
    const replaced = text.replace(from instanceof RegExp ? new RegExp(from.source, from.flags.includes('g') ? from.flags : `${from.flags}g`) : new RegExp(escape(from), 'g'), to);
    if (replaced === text) throw new Error(`override: ${String(from)} is not in ${machinePath}`);
    fs.writeFileSync(this.path(machinePath), replaced);
  }

  /** The environment that points the setup script and the job hook at the root. */
  public get toolEnv(): NodeJS.ProcessEnv {
    return { PATH: process.env.PATH, SOVEREIGN_ROOT: this.dir };
  }

  /** Runs the rendered setup script. */
  public setup(...args: string[]): { status: number | null; output: string } {
    const result = spawnSync(this.path('/usr/local/sbin/sovereign-monitoring-setup'), args, { env: this.toolEnv, encoding: 'utf8' });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  }

  /** The command line of a systemd drop-in's ExecStart, with paths under the root. */
  public execStart(unit: string): string[] {
    const dropIn = this.read(`/etc/systemd/system/${unit}.service.d/sovereign-monitoring.conf`);
    const line = dropIn.split('\n').filter((l) => l.startsWith('ExecStart=') && l !== 'ExecStart=').pop();
    if (!line) throw new Error(`no ExecStart in the drop-in of ${unit}`);
    return this.relocate(line.slice('ExecStart='.length)).split(' ');
  }

  /**
   * What systemd runs for a unit: from the monitoring's drop-in of a Debian unit, or from a unit file
   * of the bundle. ExecCondition= commands and the ExecStart= command line, paths under the root.
   */
  public unitCommands(unit: string): { conditions: string[][]; execStart: string[]; environment: Record<string, string> } {
    const dropIn = `/etc/systemd/system/${unit}.service.d/sovereign-monitoring.conf`;
    const text = this.read(fs.existsSync(this.path(dropIn)) ? dropIn : `/etc/systemd/system/${unit}.service`);
    const values = (key: string) => text.split('\n').filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1)).filter(Boolean);
    const argv = (line: string) => this.relocate(line).split(' ');
    const start = values('ExecStart').pop();
    if (!start) throw new Error(`no ExecStart for ${unit}`);
    return {
      conditions: values('ExecCondition').map((l) => argv(l.replace(/^\+/, ''))),
      execStart: argv(start),
      environment: Object.fromEntries(values('Environment').map((l) => l.split('=', 2) as [string, string])),
    };
  }

  /** The `Environment=` settings of a systemd drop-in. */
  public unitEnvironment(unit: string): Record<string, string> {
    const dropIn = this.read(`/etc/systemd/system/${unit}.service.d/sovereign-monitoring.conf`);
    return Object.fromEntries(dropIn.split('\n').filter((l) => l.startsWith('Environment='))
      .map((l) => l.slice('Environment='.length).split('=', 2) as [string, string]));
  }

  public remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Runs a checker; returns its exit status and everything it printed. */
export function check(command: string, args: string[]): { status: number | null; output: string } {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}` };
}

/** Whether cloud-init writes the file for the monitoring. */
export function isMonitoringFile(machinePath: string): boolean {
  return /^\/etc\/sovereign-monitoring\/|^\/usr\/local\/sbin\/sovereign-(monitoring-setup|job-metric)$|^\/etc\/systemd\/system\/prometheus[a-z-]*\.service\.d\//.test(machinePath);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
