import { ChildProcess, execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { RolloutTarget } from './harness/override';
import { startLoopbackSshd, stopSshd } from './harness/sshd';
import { standInSystemdAnalyze } from './harness/systemd-analyze';

/** What Debian installs as root's ~/.bashrc, as a fresh server has it. */
const DEBIAN_BASHRC = '/usr/share/base-files/dot.bashrc';

/** The sessions' PATH after the machine's bin/, as a Debian server's root has it. */
const SESSION_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * `NAME=VALUE` as one word of sshd_config's `SetEnv`: sshd splits its lines at blanks outside quotes and takes `\"` and
 * `\\` inside them, so a value with blanks, quotes or `#` is quoted; unquoted, `A=a b` set A to `a` and B to nothing.
 * A line holds no line break, and a name is a shell variable's: anything else is refused.
 */
function setEnvWord(name: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`LoopbackMachine env: ${JSON.stringify(name)} is not a variable name. Fix: use letters, digits and _, not starting with a digit.`);
  if (/[\n\r\0]/.test(value)) throw new Error(`LoopbackMachine env: ${name}'s value ${JSON.stringify(value)} holds a line break or NUL, which sshd_config's SetEnv cannot carry. Fix: pass a value on one line.`);
  return `"${name}=${value.replace(/[\\"]/g, '\\$&')}"`;
}

/** How a `LoopbackMachine`'s sessions differ from a server's. */
export interface LoopbackMachineOptions {
  /**
   * Variables added to every session, such as `SOVEREIGN_COMMAND_TIMEOUT` (seconds), which shortens how long the
   * rollout agent lets one command run. Values are quoted for sshd; one with a line break is refused.
   * @default - none beyond the session's own
   */
  readonly env?: Record<string, string>;
}

/**
 * A stand-in for a Hetzner server that a rollout reaches (root needed, OpenSSH's sshd installed):
 * sshd on 127.0.0.1 on a free port, root login with a key made for the test, its own host key (so the
 * rollout can pin it), and every session given `SOVEREIGN_ROOT=<root>`, so the rollout agent writes
 * the machine's files under a directory. systemd does not run in a test container: `systemctl` is a
 * recorder on the session's PATH that logs each call and fails those matching `<dir>/systemctl.fail`
 * (an extended regular expression). On a host without systemd-analyze (the node:22 image has no systemd package),
 * a stand-in on that PATH passes every unit file, which the rollout agent would otherwise refuse to install unverified.
 *
 * Sessions get `HOME=<dir>/home`, holding Debian's stock ~/.bashrc: bash reads ~/.bashrc for every command sshd
 * runs, and this machine's root may have any (a build machine's ran `pyenv init`, 0.7 CPU-s and 60 processes per
 * session, and put pyenv's shims before /usr/bin on PATH), where a fresh server has Debian's.
 */
export class LoopbackMachine {
  /** Starts sshd for a machine whose files live under `dir`/root. */
  public static async start(dir: string, options: LoopbackMachineOptions = {}): Promise<LoopbackMachine> {
    const root = path.join(dir, 'root');
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(root, { recursive: true });
    fs.mkdirSync(bin, { recursive: true });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'deployer', '-f', path.join(dir, 'deploy_key')]);
    fs.copyFileSync(path.join(dir, 'deploy_key.pub'), path.join(dir, 'authorized_keys'));
    fs.writeFileSync(path.join(bin, 'systemctl'), [
      '#!/bin/sh',
      `echo "$*" >> ${path.join(dir, 'systemctl.log')}`,
      `if [ -s ${path.join(dir, 'systemctl.fail')} ] && echo "$*" | grep -Eq -f ${path.join(dir, 'systemctl.fail')}; then`,
      '  echo "Job for $* failed because the control process exited with error code." >&2; exit 1',
      'fi',
      '',
    ].join('\n'), { mode: 0o755 });
    // The PATH its sessions get: a team's own (options.env) may name a real systemd-analyze, which no stand-in may hide.
    standInSystemdAnalyze(bin, options.env?.PATH ?? SESSION_PATH);
    const home = path.join(dir, 'home');
    fs.mkdirSync(home, { recursive: true });
    fs.writeFileSync(path.join(home, '.bashrc'), fs.existsSync(DEBIAN_BASHRC) ? fs.readFileSync(DEBIAN_BASHRC) : '');
    const sshd = await startLoopbackSshd(dir, [
      `SetEnv ${Object.entries({ SOVEREIGN_ROOT: root, HOME: home, PATH: `${bin}:${SESSION_PATH}`, ...options.env })
        .map(([name, value]) => setEnvWord(name, value)).join(' ')}`,
      'Subsystem sftp internal-sftp',
    ]);
    return new LoopbackMachine(dir, root, sshd.port, sshd.hostKey, sshd.child, sshd.log);
  }

  private constructor(
    /** The directory given to `start`: sshd's configuration and keys, the deploy key, the systemctl log, `root` and `home`. */
    public readonly dir: string,
    /** The machine's file system. */
    public readonly root: string,
    /** The TCP port sshd listens on at 127.0.0.1, picked free at start. */
    public readonly port: number,
    /** The host key as `<type> <base64>`. */
    public readonly hostKey: string,
    private readonly child: ChildProcess,
    /** What sshd wrote to stderr so far, in chunks as they arrived: for telling why a rollout could not connect. */
    public readonly log: string[],
  ) {}

  /** Where a rollout goes: this sshd, with its host key pinned. */
  public target(overrides: Partial<RolloutTarget> = {}): RolloutTarget {
    return { host: '127.0.0.1', port: this.port, privateKeyFile: path.join(this.dir, 'deploy_key'), hostKey: this.hostKey, timeout: '20s', ...overrides };
  }

  /** A file of the machine, or undefined when it does not exist. */
  public read(machinePath: string): string | undefined {
    const file = path.join(this.root, machinePath);
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
  }

  /** A file's permissions, such as `0600`. */
  public mode(machinePath: string): string {
    return (fs.statSync(path.join(this.root, machinePath)).mode & 0o7777).toString(8).padStart(4, '0');
  }

  /** The rollout agent's record of what the machine runs (its current.json); throws when no rollout has completed. */
  public current(): {
    /** The bundle version the machine runs, `sha256:<hex>` as `SynthesizedBundle.version` has it. */
    version: string;
    /** 16 hex digits naming this bundle version with these deploy-time inputs: it changes when only a secret does, too. */
    release: string;
    /** Every installed file by path, as `<sha256 hex of the content>:<octal mode, such as 600>:<user:group>`. */
    files: Record<string, string>;
  } {
    return JSON.parse(this.read('/var/lib/sovereign/rollout/current.json')!);
  }

  /** The systemctl calls since the last `clearSystemctl`. */
  public systemctlCalls(): string[] {
    const file = path.join(this.dir, 'systemctl.log');
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : [];
  }

  /** Forgets the systemctl calls so far, so that `systemctlCalls` shows only those of the next rollout. */
  public clearSystemctl(): void {
    fs.rmSync(path.join(this.dir, 'systemctl.log'), { force: true });
  }

  /** Makes systemctl calls matching `pattern` (an extended regular expression) fail, or none with undefined. */
  public failSystemctl(pattern: string | undefined): void {
    fs.writeFileSync(path.join(this.dir, 'systemctl.fail'), pattern ? `${pattern}\n` : '');
  }

  /** Stops sshd and resolves when it has exited; `dir` stays for the test to inspect or remove. */
  public stop(): Promise<void> {
    return stopSshd(this.child);
  }
}
