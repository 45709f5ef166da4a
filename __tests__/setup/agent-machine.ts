import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Duration } from '../../lib/core/duration';
import { ROLLOUT_AGENT } from '../../lib/hetzner/private/rollout-agent';
import { hasSystemdAnalyze, standInSystemdAnalyze } from '../../testing/harness/systemd-analyze';
import { MACHINE_PYTHON } from './real-parts';

/** Whether this host has systemd-analyze (the systemd package), which the agent runs on every unit file it installs. */
export const HOST_HAS_ANALYZE = hasSystemdAnalyze(process.env.PATH ?? '');

/** What one run of the agent did. */
export interface AgentRun {
  readonly status: number | null;
  readonly output: string;
  /** Whether the delivery directory was left behind (the agent removes it once it has taken the bundle). */
  readonly incomingLeft: boolean;
}

/**
 * A machine for the rollout agent run directly, as the rollout's last provisioner runs it: its file system is
 * a directory (SOVEREIGN_ROOT) and its systemctl records its calls instead of acting.
 */
export class AgentMachine {
  public readonly dir: string;
  public readonly root: string;
  private readonly agent: string;
  private readonly bin: string;

  constructor(prefix = 'rollout-agent-') {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    this.root = path.join(this.dir, 'root');
    this.agent = path.join(this.dir, 'sovereign-rollout');
    this.bin = path.join(this.dir, 'bin');
    fs.mkdirSync(this.root);
    fs.mkdirSync(this.bin);
    fs.writeFileSync(this.agent, ROLLOUT_AGENT, { mode: 0o755 });
    fs.writeFileSync(path.join(this.bin, 'systemctl'), `#!/bin/sh\necho "$*" >> ${this.dir}/systemctl.log\n`, { mode: 0o755 });
    // On a host without systemd, the machine's systemd-analyze stands in (as a LoopbackMachine's) and passes every
    // unit: the cases that judge its verdicts need the real one (testWithRealParts), and CI has it.
    standInSystemdAnalyze(this.bin, process.env.PATH ?? '');
  }

  /**
   * Delivers a compressed bundle and the rendered deploy-time inputs as the provisioners do, then runs `apply`.
   * `commandTimeout` shortens how long the agent lets one command run; the agent itself is stopped a minute after it.
   * `path` replaces the host's PATH after the machine's own commands (a PATH without one of them).
   */
  public deliver(payload: string, version: string, inputs: Record<string, string>, options: { commandTimeout?: Duration; path?: string } = {}): AgentRun {
    const incoming = fs.mkdtempSync(path.join(this.dir, 'incoming-'));
    fs.writeFileSync(path.join(incoming, 'bundle.gz.b64'), payload);
    fs.writeFileSync(path.join(incoming, 'inputs.json'), JSON.stringify(inputs));
    fs.rmSync(path.join(this.dir, 'systemctl.log'), { force: true });
    const timeout = options.commandTimeout?.toSeconds();
    const run = spawnSync(MACHINE_PYTHON, [this.agent, 'apply', '--version', version, '--dir', incoming], {
      env: { ...process.env, SOVEREIGN_ROOT: this.root, PATH: `${this.bin}:${options.path ?? process.env.PATH}`, ...(timeout === undefined ? {} : { SOVEREIGN_COMMAND_TIMEOUT: String(timeout) }) },
      encoding: 'utf8',
      ...(timeout === undefined ? {} : { timeout: (timeout + 60) * 1000 }),
    });
    return { status: run.status, output: `${run.stdout}${run.stderr}`, incomingLeft: fs.existsSync(incoming) };
  }

  /** `sovereign-rollout status`: what the machine runs. */
  public status(): string {
    const run = spawnSync(MACHINE_PYTHON, [this.agent, 'status'], { env: { ...process.env, SOVEREIGN_ROOT: this.root }, encoding: 'utf8' });
    return `${run.stdout}${run.stderr}`.trim();
  }

  public exists(machinePath: string): boolean {
    return fs.existsSync(path.join(this.root, machinePath));
  }

  /** A file's content on the machine, or undefined when it is absent. */
  public read(machinePath: string): string | undefined {
    const file = path.join(this.root, machinePath);
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
  }

  public write(machinePath: string, content: string): void {
    fs.writeFileSync(path.join(this.root, machinePath), content);
  }

  /** The systemctl calls of the last run, one per line. */
  public systemctl(): string[] {
    const file = path.join(this.dir, 'systemctl.log');
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n') : [];
  }

  public remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
