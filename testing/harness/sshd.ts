import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Duration } from '../../lib/core/duration';
import { freePort, waitForPort } from './ports';
import { unlessTimedOut, waitFor } from './wait';
import { alive, bootTicks, descendantsOf, environmentOf, holdingConnectionsTo, processEntry, processTable, ProcessEntry, signal, statFields } from './processes';

/** The port each sshd started here listens on, which its sessions' processes carry (SSH_CONNECTION): see stopSshd. */
const ports = new WeakMap<ChildProcess, number>();

/** An OpenSSH sshd on 127.0.0.1, started for a test. */
export interface LoopbackSshd {
  readonly port: number;
  readonly child: ChildProcess;
  /** What sshd wrote to stderr. */
  readonly log: string[];
  /** Its host key as `<type> <base64>`, for pinning. */
  readonly hostKey: string;
}

/** How a loopback sshd is started besides its configuration. */
export interface LoopbackSshdOptions {
  /**
   * Keeps OpenSSH's own key exchanges (the post-quantum hybrid first), as a benchmark wants: a real server may offer them.
   * @default false - X25519 only
   */
  readonly defaultKeyExchange?: boolean;
  /** How long sshd may take to listen before the start fails (and sshd is stopped). @default Duration.seconds(10) */
  readonly startTimeout?: Duration;
}

/**
 * Starts sshd on 127.0.0.1 on a free port with its own host key and configuration in `dir`: root
 * login with the keys in `dir`/authorized_keys only, and `extra` configuration lines on top.
 * A start that fails (sshd exits, or does not listen in time) stops the sshd it started: it ran on
 * past jest's exit otherwise, since the caller never got it to stop.
 */
export async function startLoopbackSshd(dir: string, extra: readonly string[], options: LoopbackSshdOptions = {}): Promise<LoopbackSshd> {
  // sshd's privilege separation directory; Debian's ssh.service creates it at boot.
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const hostKeyFile = path.join(dir, 'host_key');
  // ssh-keygen asks before overwriting (and, with no terminal, refuses): a directory used before gets a new key too.
  for (const file of [hostKeyFile, `${hostKeyFile}.pub`]) fs.rmSync(file, { force: true });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'loopback sshd', '-f', hostKeyFile]);
  const authorized = path.join(dir, 'authorized_keys');
  if (!fs.existsSync(authorized)) fs.writeFileSync(authorized, '', { mode: 0o600 });
  const port = await freePort();
  const config = path.join(dir, 'sshd_config');
  fs.writeFileSync(config, [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${hostKeyFile}`, `PidFile ${path.join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${authorized}`, 'PubkeyAuthentication yes', 'PasswordAuthentication no',
    'KbdInteractiveAuthentication no', 'UsePAM no', 'PermitRootLogin prohibit-password', 'AllowUsers root',
    // The temp directory's modes are not sshd's business.
    'StrictModes no', 'AllowTcpForwarding no', 'X11Forwarding no', 'MaxStartups 50',
    // Classic X25519 key exchange only, unless asked otherwise. OpenSSH 9's client prefers the
    // post-quantum hybrid (sntrup761x25519), whose key generation costs it 75 ms of CPU per connection
    // here against 6 ms; the suites open hundreds of connections. The clients' own settings are
    // untouched: against a server that offers the hybrid, the scripts still negotiate it.
    ...(options.defaultKeyExchange ? [] : ['KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org']),
    ...extra, '',
  ].join('\n'));
  execFileSync('/usr/sbin/sshd', ['-t', '-f', config]);
  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  ports.set(child, port);
  const log: string[] = [];
  child.stderr!.on('data', (d: Buffer) => log.push(d.toString()));
  // 'close', not the exit code: Node may report the exit before the last of stderr, which says why.
  let closed = false;
  child.once('close', () => { closed = true; });
  const exited = () => (closed
    ? `sshd exited (${child.exitCode ?? child.signalCode}) before it listened on 127.0.0.1:${port}: ${log.join('').trim() || 'no output'}` : undefined);
  try {
    await waitForPort(port, options.startTimeout ?? Duration.seconds(10), exited);
  } catch (e) {
    await stopSshd(child);
    throw e;
  }
  const hostKey = fs.readFileSync(`${hostKeyFile}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
  return { port, child, log, hostKey };
}

/**
 * Stops a started sshd and waits for it to exit, and for every process it left: those serving its connections, each in
 * a session of its own (so a signal to sshd's group misses it) and outliving the listener, and what their sessions
 * started, which may have left the tree (`setsid cmd &`, whose shell exits: PID 1's then). One still serving a probe of
 * the port, a client that just left, or a session's detached command ran on past the stop, and a test looking for what
 * its server left found it. Found three ways: the listener's descendants while it is still their parent (it is stopped,
 * SIGSTOP, for that look); once it exited, the processes holding a connection to its port (a child it forked after the
 * look: a stopped sshd that had left ppoll still accepts and forks when continued, and SIGTERM only sets a flag it
 * reads later; that child loses its parent and carries sshd's title, not SSH_CONNECTION); and a session's processes
 * that left the tree, by their environment (SSH_CONNECTION names the port). Both of the last two count only processes
 * that started before the listener exited: the port is free then, and another worker's sshd may listen on it.
 * Those left after 5 s are killed.
 */
export async function stopSshd(child: ChildProcess): Promise<void> {
  const listener = child.pid;
  if (child.exitCode !== null || child.signalCode !== null || listener === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  signal(listener, 'SIGSTOP');
  // Stopped once its state says so: until then it may still accept and fork. Gone, or a zombie, will do too. Looked at
  // for 5 s at most: one stuck in uninterruptible sleep that long is left to the connections' look below.
  const stopped = () => ['T', 't', 'Z', 'X', undefined].includes(statFields(listener)?.[0]);
  await waitFor(stopped, { timeout: Duration.seconds(5), interval: Duration.millis(5), what: `sshd ${listener} to stop` }).catch(unlessTimedOut);
  const serving = descendantsOf([listener]).filter((pid) => pid !== listener).flatMap((pid) => processEntry(pid) ?? []);
  child.kill('SIGTERM');
  signal(listener, 'SIGCONT');
  // Waited for 10 s at most: a listener stuck in uninterruptible sleep (or one that ignores SIGTERM) would hang the
  // suite's teardown. It is killed then, and the scan below goes on without its exit.
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => { timer = setTimeout(() => r(true), 10_000); })]);
  clearTimeout(timer);
  if (gaveUp) signal(listener, 'SIGKILL');
  const before = bootTicks();
  const port = ports.get(child);
  const startedBefore = (p: ProcessEntry) => Number(p.start) <= before;
  const connected = port === undefined ? [] : holdingConnectionsTo(port).flatMap((pid) => processEntry(pid) ?? []).filter(startedBefore);
  const isSession = (variable: string) => variable.startsWith('SSH_CONNECTION=') && variable.endsWith(` 127.0.0.1 ${port}`);
  // Each process's environment is read once (what it holds does not come to name the port later), and the table at
  // each look: a process found may have forked since the last.
  const inSession = new Map<string, boolean>();
  const marked = (p: ProcessEntry) => {
    if (!startedBefore(p)) return false;
    const key = `${p.pid} ${p.start}`;
    if (!inSession.has(key)) {
      const environment = environmentOf(p, 'skip');
      if (environment === undefined) return false;
      inSession.set(key, environment.some(isSession));
    }
    return inSession.get(key)!;
  };
  const left = (): ProcessEntry[] => {
    const table = processTable().filter((p) => p.state !== 'Z' && p.pid !== process.pid);
    const roots = [...[...serving, ...connected].filter(alive).map((p) => p.pid), ...table.filter(marked).map((p) => p.pid)];
    const found = new Set(descendantsOf(roots, table));
    return table.filter((p) => found.has(p.pid));
  };
  const sent = new Set<string>();
  // Each look signals what it finds that was not signalled yet: a process found may have forked since the last.
  const end = (name: NodeJS.Signals) => waitFor(() => {
    const found = left();
    for (const p of found.filter((q) => !sent.has(`${name} ${q.pid} ${q.start}`))) {
      sent.add(`${name} ${p.pid} ${p.start}`);
      signal(p.pid, name);
    }
    return found.length === 0;
  }, { timeout: Duration.seconds(5), what: `what sshd ${listener} left to end on ${name}` }).catch(unlessTimedOut);
  await end('SIGTERM');
  // A SIGKILL ends a process when it next runs, which on a loaded machine is not at once.
  await end('SIGKILL');
}
