import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import { freePort, listenOnFreePort } from '../../setup/ports';
import { MachineRoot } from './machine-root';
import { Duration } from '../../../lib/core/duration';
import { waitFor } from '../../../testing/harness/wait';

export { freePort };

/** One notification Alertmanager delivered. */
export interface Notification {
  readonly path: string;
  /** When it arrived, in ms since the epoch. */
  readonly at: number;
  readonly body: any;
}

/** A local webhook receiver: records every POST (Alertmanager's webhook JSON) and answers 200. */
export class WebhookReceiver {
  public static async start(): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver();
    receiver._port = await listenOnFreePort(receiver.server);
    return receiver;
  }

  public readonly notifications: Notification[] = [];
  /** While true, every request's connection is dropped: a delivery that fails on the way. */
  public failing = false;
  /** While true, every request is refused with 404 and its path in the body, as a web framework's `Cannot POST /path` is. */
  public refusing = false;
  private readonly server: http.Server;
  private _port = 0;

  private constructor() {
    this.server = http.createServer((req, res) => {
      if (this.failing) {
        req.socket.destroy();
        return;
      }
      if (this.refusing) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end(`Cannot POST ${req.url}`);
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: any = text;
        try { body = JSON.parse(text); } catch { /* keep the text */ }
        this.notifications.push({ path: req.url ?? '', at: Date.now(), body });
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('OK');
      });
    });
  }

  public get port(): number {
    return this._port;
  }

  public url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** The alerts of notifications to `path`, each with the time its notification arrived. */
  public alerts(path: string): Array<{ at: number; status: string; labels: Record<string, string>; annotations: Record<string, string>; startsAt: string }> {
    return this.notifications.filter((n) => n.path === path && n.body?.alerts)
      .flatMap((n) => n.body.alerts.map((a: any) => ({ at: n.at, status: a.status, labels: a.labels, annotations: a.annotations, startsAt: a.startsAt })));
  }

  public stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** The HTTP service an uptime check watches; it can go down and come back on the same port. */
export class HttpTarget {
  public static async start(): Promise<HttpTarget> {
    const target = new HttpTarget();
    await target.up();
    return target;
  }

  private server?: http.Server;
  private _port = 0;

  private constructor() {}

  /** The port it first took (the kernel's pick), kept across `down()` and `up()`. */
  public get port(): number {
    return this._port;
  }

  public async up(): Promise<void> {
    const server = http.createServer((req, res) => {
      res.writeHead(req.url === '/health' ? 200 : 404, { 'content-type': 'application/json', connection: 'close' });
      res.end(req.url === '/health' ? '{"status":"ok"}' : '{}');
    });
    this.server = server;
    if (this._port === 0) {
      this._port = await listenOnFreePort(server);
      return;
    }
    await new Promise<void>((resolve) => server.listen(this._port, '127.0.0.1', resolve));
  }

  /** Stops it for good (the test is done): as `down`. */
  public stop(): Promise<void> {
    return this.down();
  }

  /** Stops accepting connections and drops open ones, like a crashed service. */
  public down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}

/**
 * A loopback stand-in for Hetzner's metadata service: answers
 * `/hetzner/v1/metadata/instance-id` with a server id, and counts the questions.
 */
export class MetadataService {
  public static async start(serverId: string): Promise<MetadataService> {
    const service = new MetadataService(serverId);
    service._port = await listenOnFreePort(service.server);
    return service;
  }

  public requests = 0;
  private readonly server: http.Server;
  private _port = 0;

  private constructor(public serverId: string) {
    this.server = http.createServer((req, res) => {
      this.requests += 1;
      const found = req.url === '/hetzner/v1/metadata/instance-id';
      res.writeHead(found ? 200 : 404, { 'content-type': 'text/plain', connection: 'close' });
      res.end(found ? this.serverId : 'not found');
    });
  }

  public get port(): number {
    return this._port;
  }

  public get url(): string {
    return `http://127.0.0.1:${this.port}/hetzner/v1/metadata/instance-id`;
  }

  public stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

/** The loopback ports of one live stack. */
export interface LivePorts {
  readonly prometheus: number;
  readonly alertmanager: number;
  readonly blackbox: number;
  readonly node: number;
  readonly alertRelay: number;
}

/** systemd's DefaultTimeoutStopSec: how long `systemctl restart` waits after SIGTERM before SIGKILL. */
const SYSTEMD_STOP_TIMEOUT_MS = 90_000;
const UNITS = ['prometheus-node-exporter', 'prometheus-blackbox-exporter', 'prometheus-alertmanager', 'prometheus'] as const;
/** The watch of Prometheus and the alert relay: units of the bundle (not drop-ins of Debian units). */
export const WATCH_UNIT = 'sovereign-prometheus-watch';
export const RELAY_UNIT = 'sovereign-alert-relay';
type LiveUnit = typeof UNITS[number] | typeof WATCH_UNIT | typeof RELAY_UNIT;

/** How the stack is started besides its files. */
export interface LiveStackOptions {
  /** Arguments appended to a daemon's command line (test timing only, such as Prometheus's resend delay). */
  readonly extraArgs?: Partial<Record<LiveUnit, string[]>>;
  /** Where the identity check asks for the server id (a loopback stand-in for Hetzner's metadata service). */
  readonly metadataUrl: string;
}

/**
 * The real Debian binaries, started with the command lines and configuration files the library
 * rendered (moved under a temporary root, ports swapped for free ones), each in its own process
 * group so that `stop` ends everything they started. As systemd does, a unit's ExecCondition= runs
 * first and a non-zero exit skips the unit (`skipped`).
 */
export class LiveStack {
  public static async start(root: MachineRoot, options: LiveStackOptions): Promise<LiveStack> {
    const ports: LivePorts = { prometheus: await freePort(), alertmanager: await freePort(), blackbox: await freePort(), node: await freePort(), alertRelay: await freePort() };
    const stack = new LiveStack(root, ports, options.metadataUrl);
    for (const file of ['prometheus.yml', 'alertmanager.yml', 'prometheus-watch.json']) stack.movePorts(`/etc/sovereign-monitoring/${file}`);
    const swap = (text: string) => stack.swapPorts(text);
    try {
      for (const unit of [RELAY_UNIT, ...UNITS, WATCH_UNIT] as LiveUnit[]) {
        const spec = root.unitCommands(unit);
        if (!(await stack.conditionsPass(spec.conditions))) {
          stack.skipped.push(unit);
          continue;
        }
        // State directories (TSDB, silences) are under the root too: execStart moved them.
        const [binary, ...args] = spec.execStart.map(swap);
        stack.spawn(unit, binary, [...args, ...(options.extraArgs?.[unit] ?? [])], { ...spec.environment, SOVEREIGN_ROOT: root.dir });
      }
      await stack.ready();
    } catch (e) {
      await stack.stop();
      throw e;
    }
    return stack;
  }

  /** Units whose ExecCondition= skipped them. */
  public readonly skipped: string[] = [];
  private readonly children = new Map<string, ChildProcess>();
  /** How each unit was started, so that `restart` starts it the same way. */
  private readonly commands = new Map<string, { binary: string; args: string[]; env: Record<string, string> }>();

  private constructor(public readonly root: MachineRoot, public readonly ports: LivePorts, private readonly metadataUrl: string) {}

  /** The rendered loopback ports in `text`, swapped for this stack's. */
  public swapPorts(text: string): string {
    return text
      .replace(/127\.0\.0\.1:9090\b/g, `127.0.0.1:${this.ports.prometheus}`)
      .replace(/127\.0\.0\.1:9093\b/g, `127.0.0.1:${this.ports.alertmanager}`)
      .replace(/127\.0\.0\.1:9115\b/g, `127.0.0.1:${this.ports.blackbox}`)
      .replace(/127\.0\.0\.1:9100\b/g, `127.0.0.1:${this.ports.node}`)
      .replace(/127\.0\.0\.1:9095\b/g, `127.0.0.1:${this.ports.alertRelay}`);
  }

  /** Swaps the ports in a file the setup (re)wrote, if it is there. */
  public movePorts(machinePath: string): void {
    const p = this.root.path(machinePath);
    if (fs.existsSync(p)) fs.writeFileSync(p, this.swapPorts(fs.readFileSync(p, 'utf8')));
  }

  /** The process IDs, by unit. */
  public get pids(): Record<string, number> {
    return Object.fromEntries([...this.children].map(([unit, child]) => [unit, child.pid!]));
  }

  /** The basic-auth header of the web APIs, from the password the setup made (as root reads it). */
  public get authorization(): string {
    const password = fs.readFileSync(this.root.path('/etc/sovereign-monitoring/secrets/web_password'), 'utf8').trim();
    return `Basic ${Buffer.from(`sovereign:${password}`).toString('base64')}`;
  }

  /** Prometheus's HTTP API. */
  public async query(expr: string): Promise<any[]> {
    const response = await fetch(`http://127.0.0.1:${this.ports.prometheus}/api/v1/query?query=${encodeURIComponent(expr)}`, { headers: { authorization: this.authorization } });
    const json: any = await response.json();
    return json.data?.result ?? [];
  }

  /** When Prometheus last evaluated a rule group, in ms since the epoch (0 before the first evaluation). */
  public async lastEvaluation(group: string): Promise<number> {
    const response = await fetch(`http://127.0.0.1:${this.ports.prometheus}/api/v1/rules`, { headers: { authorization: this.authorization } });
    const json: any = await response.json();
    const found = (json.data?.groups ?? []).find((g: any) => g.name === group);
    return found ? Date.parse(found.lastEvaluation) || 0 : 0;
  }

  /** The log of a unit so far. */
  public log(unit: string): string {
    const file = this.root.path(`/var/log/${unit}.log`);
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  }

  /** Runs a unit's ExecCondition= commands as systemd would before starting it: whether it would run. */
  public wouldRun(unit: string): Promise<boolean> {
    return this.conditionsPass(this.root.unitCommands(unit).conditions);
  }

  /** The alerts Alertmanager holds now (its API, as root with the password reads it). */
  public async alertmanagerAlerts(): Promise<Array<{ labels: Record<string, string>; status: { state: string } }>> {
    const response = await fetch(`http://127.0.0.1:${this.ports.alertmanager}/api/v2/alerts`, { headers: { authorization: this.authorization } });
    return (await response.json()) as any;
  }

  /**
   * Restarts one unit as `systemctl restart` does: SIGTERM (the daemon saves its state, such as
   * Alertmanager's notification log and silences), then the same command line again; resolves once it answers.
   * The daemon is given as long to stop as systemd gives it, not the few seconds a test's clean-up allows:
   * Alertmanager fsyncs each file it saves, which takes seconds on a loaded machine, and a SIGKILL before
   * its rename loses the whole file. A restart that needed SIGKILL proves nothing about saved state, so it throws.
   */
  public async restart(unit: LiveUnit): Promise<void> {
    const command = this.commands.get(unit);
    const child = this.children.get(unit);
    if (!command || !child) throw new Error(`${unit} is not running`);
    const { killed } = await stopGroup(child, 'SIGTERM', SYSTEMD_STOP_TIMEOUT_MS);
    this.children.delete(unit);
    if (killed) {
      throw new Error(`${unit} did not stop within ${SYSTEMD_STOP_TIMEOUT_MS / 1000} s of SIGTERM and was killed, as systemd would kill it: `
        + `what it saves on the way out is lost, so this restart cannot show what survives one.\n${this.log(unit)}`);
    }
    this.spawn(unit, command.binary, command.args, command.env);
    await this.ready();
  }

  /** Kills one unit's processes, as a crash would. */
  public async kill(unit: LiveUnit): Promise<void> {
    const child = this.children.get(unit);
    if (!child) throw new Error(`${unit} is not running`);
    await stopGroup(child, 'SIGKILL');
    this.children.delete(unit);
  }

  public async stop(): Promise<void> {
    await Promise.all([...this.children.values()].map((child) => stopGroup(child)));
    this.children.clear();
  }

  /**
   * Runs ExecCondition= command lines in order as systemd would (`+` runs one as root, which the test
   * is): all must exit 0. Asynchronously, so that loopback stand-ins in this process can answer.
   */
  private async conditionsPass(commands: string[][]): Promise<boolean> {
    for (const command of commands) {
      const [binary, ...args] = command;
      const child = spawn(binary.replace(/^\+/, ''), args, {
        env: { PATH: `${this.root.path('/test-bin')}:${process.env.PATH}`, SOVEREIGN_ROOT: this.root.dir, SOVEREIGN_METADATA_URL: this.metadataUrl, SOVEREIGN_IDENTITY_WAIT: '2' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout!.on('data', (d: Buffer) => { output += d.toString('utf8'); });
      child.stderr!.on('data', (d: Buffer) => { output += d.toString('utf8'); });
      const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      fs.mkdirSync(this.root.path('/var/log'), { recursive: true });
      fs.appendFileSync(this.root.path('/var/log/conditions.log'), `${command.join(' ')} -> ${status}\n${output}`);
      if (status === 255 || status === null) throw new Error(`ExecCondition ${command.join(' ')} failed: ${output}`);
      if (status !== 0) return false;
    }
    return true;
  }

  private spawn(unit: string, binary: string, args: string[], env: Record<string, string>): void {
    this.commands.set(unit, { binary, args, env });
    const logFile = this.root.path(`/var/log/${unit}.log`);
    fs.mkdirSync(this.root.path('/var/log'), { recursive: true });
    const out = fs.openSync(logFile, 'a');
    const child = spawn(binary, args, { detached: true, stdio: ['ignore', out, out], env: { PATH: process.env.PATH, ...env } });
    fs.closeSync(out);
    this.children.set(unit, child);
  }

  private async ready(): Promise<void> {
    const endpoints: Array<[string, string]> = [
      [RELAY_UNIT, `http://127.0.0.1:${this.ports.alertRelay}/-/healthy`],
      ['prometheus-node-exporter', `http://127.0.0.1:${this.ports.node}/metrics`],
      ['prometheus-blackbox-exporter', `http://127.0.0.1:${this.ports.blackbox}/metrics`],
      ['prometheus-alertmanager', `http://127.0.0.1:${this.ports.alertmanager}/-/ready`],
      ['prometheus', `http://127.0.0.1:${this.ports.prometheus}/-/ready`],
    ];
    for (const [unit, url] of endpoints.filter(([u]) => this.children.has(u))) {
      await waitFor(async () => {
        const child = this.children.get(unit)!;
        if (child.exitCode !== null) throw new Error(`${unit} exited with ${child.exitCode}:\n${this.log(unit)}`);
        try {
          return (await fetch(url, { headers: { authorization: this.authorization } })).ok;
        } catch {
          return false;
        }
      }, { what: `${unit} to answer ${url}`, timeout: Duration.seconds(20) });
    }
  }
}

/**
 * Ends a process group: SIGTERM (or `signal`), then SIGKILL after `killAfterMs`. Resolves with whether
 * the SIGKILL was needed.
 */
function stopGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', killAfterMs = 5000): Promise<{ killed: boolean }> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve({ killed: false });
  return new Promise((resolve) => {
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ }
    }, killAfterMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve({ killed });
    });
    try { process.kill(-child.pid!, signal); } catch { clearTimeout(timer); resolve({ killed: false }); }
  });
}
