import { ChildProcess, execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { SynthesizedBundle } from './bundle';
import { removeStepScripts, RolloutTarget } from './harness/override';
import { startLoopbackSshd, stopSshd } from './harness/sshd';
import { standInSystemdAnalyze } from './harness/systemd-analyze';
import { PrepareRefusedError } from './prepare-refused-error';
import { clusterConfigDirectory, createDebianCluster, pgCtlService, PG_BIN, PG_MAJOR } from './postgres-cluster';

/** `'a b'` as one shell word. */
const shellWord = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

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
 * stand-in on the session's PATH that logs each call, fails those matching `<dir>/systemctl.fail`
 * (an extended regular expression), and otherwise runs the hook `prepareFor` wrote for the unit and action, if any
 * (a unit without one is only recorded). On a host without systemd-analyze (the node:22 image has no systemd package),
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
    // A directory used before (a rehearsal run again): a new key each start, and no earlier machine's unit hooks,
    // which would run its namespace's server on this machine's systemctl calls.
    fs.rmSync(path.join(dir, 'units'), { recursive: true, force: true });
    for (const key of ['deploy_key', 'deploy_key.pub']) fs.rmSync(path.join(dir, key), { force: true });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'deployer', '-f', path.join(dir, 'deploy_key')]);
    fs.copyFileSync(path.join(dir, 'deploy_key.pub'), path.join(dir, 'authorized_keys'));
    fs.writeFileSync(path.join(bin, 'systemctl'), [
      '#!/bin/sh',
      `echo "$*" >> ${path.join(dir, 'systemctl.log')}`,
      `if [ -s ${path.join(dir, 'systemctl.fail')} ] && echo "$*" | grep -Eq -f ${path.join(dir, 'systemctl.fail')}; then`,
      '  echo "Job for $* failed because the control process exited with error code." >&2; exit 1',
      'fi',
      // A unit `prepareFor` stands in for runs its hook for the action (`<dir>/units/<unit>.<action>`), as systemd would run it.
      'action=$1; [ $# -gt 0 ] && shift',
      'for unit in "$@"; do',
      '  case "$unit" in -*) continue ;; *.*) ;; *) unit="$unit.service" ;; esac',
      `  hook="${path.join(dir, 'units')}/$unit.$action"`,
      '  if [ -x "$hook" ]; then "$hook" || exit $?; fi',
      'done',
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

  /**
   * The machine whose bundle `prepareFor` prepared this one for, for the refusal of a second call; set while it made a
   * namespace (and maybe started a server) that `stop` must remove.
   */
  private preparedFor?: string;

  /** The network namespace `prepareFor` runs servers in: named by sshd's port, which no other machine here has now. */
  private get netns(): string {
    return `loopback-${this.port}`;
  }

  /**
   * Makes on this machine what installing PostgreSQL's package would have made on a server, so that a bundle's
   * `postgresql <major>` part (a `PostgresDatabase`, as the app machine of `ProductStacks` has) activates here; no
   * other package's: a bundle without such a part is refused, as there is nothing here to prepare for it. It makes
   * Debian's cluster `main` under `root` (initdb'd, owned by postgres), a network namespace carrying the addresses
   * of the setup's `listen_addresses` (the machine's private address), and the
   * `postgresql@<major>-main` unit: `systemctl start|stop|restart` of it runs pg_ctl as postgres, the server in that
   * namespace. `stop()` stops the server and removes the namespace. Needs root, `ip netns` and PostgreSQL's
   * programs at /usr/lib/postgresql/15/bin (Debian's postgresql-15). Call it once, before the first rollout.
   */
  public prepareFor(bundle: SynthesizedBundle): void {
    const where = `LoopbackMachine.prepareFor(${bundle.machine})`;
    const part = bundle.parts.find((p) => /^postgresql \d+$/.test(p.name));
    if (!part) {
      throw new PrepareRefusedError(`${where}: the bundle has no part this can prepare (its parts: ${bundle.parts.map((p) => p.name).join(', ') || 'none'}); `
        + 'prepareFor makes only what PostgreSQL\'s package makes, for a \'postgresql <major>\' part. Fix: pass the bundle of a machine with a '
        + 'PostgresDatabase, or roll this one out without prepareFor.');
    }
    if (this.preparedFor !== undefined) {
      throw new PrepareRefusedError(`${where}: this machine is prepared already, for ${this.preparedFor}'s bundle, and one machine holds one cluster. `
        + 'Fix: start another LoopbackMachine for another machine\'s bundle, or roll out to this one without a second prepareFor.');
    }
    const setupFile = part.files.find((f) => f.path === '/etc/sovereign/postgres/setup.json');
    if (!setupFile?.content) throw new PrepareRefusedError(`${where}: the '${part.name}' part has no /etc/sovereign/postgres/setup.json to read the cluster from. Fix: pass the bundle of a machine with a PostgresDatabase, from synthesizedBundle(stackJson, serverName).`);
    const conf = setupOf(where, part.name, setupFile.content);
    if (conf.requireMount) throw new PrepareRefusedError(`${where}: the database lives on a volume mounted at ${conf.requireMount}, which a loopback machine cannot mount, and the setup refuses to run without it. Fix: roll out a machine whose database is on the server's disk (DatabaseStorage.rootDisk()).`);
    if (conf.major !== PG_MAJOR) throw new PrepareRefusedError(`${where}: the database is PostgreSQL ${conf.major}; a loopback machine runs PostgreSQL ${PG_MAJOR}'s programs (${PG_BIN}) only. Fix: roll out a machine with PostgresVersion.V${PG_MAJOR}.`);
    if (!fs.existsSync(`${PG_BIN}/pg_ctl`)) throw new PrepareRefusedError(`${where}: ${PG_BIN}/pg_ctl does not exist on this host, and the unit's commands run it. Fix: install Debian's postgresql-${PG_MAJOR} on this host.`);
    // Address literals beyond loopback's: `localhost` and 127.0.0.1 are the namespace's own once lo is up.
    const addresses = conf.listenAddresses.filter((a) => /^[0-9.]+$|:/.test(a) && a !== '127.0.0.1' && a !== '::1');
    this.replaceStaleNamespace(where);
    execFileSync('ip', ['netns', 'add', this.netns], { stdio: 'pipe' });
    this.preparedFor = bundle.machine;
    try {
      const inNamespace = (...args: string[]) => execFileSync('ip', ['netns', 'exec', this.netns, 'ip', ...args], { stdio: 'pipe' });
      inNamespace('link', 'set', 'lo', 'up');
      for (const address of addresses) inNamespace('addr', 'add', `${address}/${address.includes(':') ? 128 : 32}`, 'dev', 'lo');
      createDebianCluster(this.root, conf.dataDirectory);
      const units = path.join(this.dir, 'units');
      fs.mkdirSync(units, { recursive: true });
      for (const [action, argv] of Object.entries(pgCtlService(this.root, conf.port))) {
        fs.writeFileSync(path.join(units, `${conf.serviceName}.${action}`),
          `#!/bin/sh\nexec ${['ip', 'netns', 'exec', this.netns, ...argv].map(shellWord).join(' ')}\n`, { mode: 0o755 });
      }
    } catch (e) {
      // The namespace is a mount under /run/netns that outlives this process: undone, a fixed retry can make it again.
      spawnSync('ip', ['netns', 'del', this.netns], { stdio: 'ignore' });
      this.preparedFor = undefined;
      // createDebianCluster's refusal (a directory postgres cannot reach), said as this call's.
      throw e instanceof PrepareRefusedError ? new PrepareRefusedError(`${where}: ${e.message}`, { cause: e }) : e;
    }
  }

  /**
   * Removes a namespace of this machine's name that nothing runs in: one left by a run killed before its `stop()` (a
   * port is free again once its sshd is gone). One that runs processes is another's, and is refused.
   */
  private replaceStaleNamespace(where: string): void {
    const file = `/run/netns/${this.netns}`;
    if (!fs.existsSync(file)) return;
    const pids = spawnSync('ip', ['netns', 'pids', this.netns], { encoding: 'utf8' });
    const running = pids.status === 0 ? pids.stdout.trim().split('\n').filter(Boolean) : undefined;
    if (running?.length === 0) spawnSync('ip', ['netns', 'del', this.netns], { stdio: 'ignore' });
    if (fs.existsSync(file)) {
      const what = running === undefined ? `whose processes 'ip netns pids' could not list (${pids.stderr?.trim()})` : running.length ? `with processes ${running.join(', ')} running in it` : 'which \'ip netns del\' could not remove';
      throw new PrepareRefusedError(`${where}: the network namespace ${this.netns} exists already, ${what}. Fix: stop what runs in it (\`ip netns pids ${this.netns}\`), then \`ip netns del ${this.netns}\`.`);
    }
  }

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

  /**
   * Stops sshd, and what `prepareFor` started, and resolves when sshd has exited; `dir` stays for the test to inspect or
   * remove. The rollouts' step files this machine's port named (`/root/.sovereign-rollout-step.<port>.*.sh`, which the
   * override puts in the host's one /root) are removed first, while the port is still this sshd's: once it is free,
   * another test's machine may take it, and its live step files carry the same port.
   */
  public stop(): Promise<void> {
    removeStepScripts(this.port);
    if (this.preparedFor !== undefined) {
      const cluster = clusterConfigDirectory(this.root);
      if (fs.existsSync(cluster)) {
        spawnSync('runuser', ['-u', 'postgres', '--', `${PG_BIN}/pg_ctl`, '-D', cluster, '-m', 'immediate', '-w', 'stop'], { cwd: '/', stdio: 'ignore' });
      }
      spawnSync('ip', ['netns', 'del', this.netns], { stdio: 'ignore' });
      this.preparedFor = undefined;
    }
    return stopSshd(this.child);
  }
}

/** The setup's settings prepareFor reads; the rest are read as they are (checked where they are used). */
interface ClusterSetup {
  readonly listenAddresses: string[];
  readonly [setting: string]: any;
}

/**
 * The part's /etc/sovereign/postgres/setup.json, read: a bundle edited or built by hand gave a bare SyntaxError (not
 * JSON) or TypeError (no listenAddresses) from inside prepareFor, naming neither the file nor a fix.
 */
function setupOf(where: string, partName: string, content: string): ClusterSetup {
  const file = `the '${partName}' part's /etc/sovereign/postgres/setup.json`;
  const fix = 'Fix: pass the bundle synthesizedBundle(stackJson, serverName) returns for a machine with a PostgresDatabase, its setup.json as rendered.';
  let conf: unknown;
  try {
    conf = JSON.parse(content);
  } catch (e) {
    throw new PrepareRefusedError(`${where}: ${file} is not JSON (${(e as Error).message}). ${fix}`, { cause: e });
  }
  if (typeof conf !== 'object' || conf === null || Array.isArray(conf)) {
    throw new PrepareRefusedError(`${where}: ${file} is ${JSON.stringify(conf)}, not an object of settings. ${fix}`);
  }
  const listen = (conf as Record<string, unknown>).listenAddresses;
  if (!Array.isArray(listen) || !listen.every((a) => typeof a === 'string')) {
    throw new PrepareRefusedError(`${where}: ${file} has listenAddresses ${listen === undefined ? 'missing' : JSON.stringify(listen)}, where the addresses PostgreSQL `
      + `listens on (a list of strings, such as ["localhost","10.0.1.2"]) must be. ${fix}`);
  }
  return conf as ClusterSetup;
}
