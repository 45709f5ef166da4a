import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { HELPER_MEMORY_MAX_MIB } from '../../lib/monitoring/private/profile';
import { alertRelayUnit } from '../../lib/monitoring/private/render';
import { ALERT_RELAY_SCRIPT, ALERT_RELAY_SILENT_RECEIVERS } from '../../lib/monitoring/private/scripts';
import { MACHINE_PYTHON } from '../setup/real-parts';
import { freePort, listenOnFreePort } from '../setup/ports';
import { Duration } from '../../lib/core/duration';
import { Environment } from '../../lib/core/environment';
import { DeadMansSwitch } from '../../lib/monitoring/dead-mans-switch';
import { waitFor } from '../../testing/harness/wait';
import { memoryKib, threadCount } from '../../testing/harness/processes';

// The rendered alert relay (lib/monitoring/private/scripts.ts), run as its unit runs it, between a client that posts as
// Alertmanager does and a loopback receiver. The live suite (monitoring-e2e.test.ts) runs it behind the real Alertmanager.
describe('the alert relay', () => {
  const PASSWORD = 'relay-test-password-0123456789abcdef';
  const TOKEN_PATH = '/hooks/T0KEN-relay-4711?sig=S1G-relay-0815';
  let dir: string;
  let relay: ChildProcess;
  let relayPort: number;
  let logged = '';
  const received: Array<{ url: string; body: string; contentType?: string; authorization?: string }> = [];
  let answer: { status: number; body: (url: string) => string; headers?: Record<string, string> } = { status: 200, body: () => 'OK' };
  // While set, the receiver answers nothing, and keeps here how to answer each post it received.
  let holding: Array<() => void> | undefined;
  const receive = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ url: req.url ?? '', body: Buffer.concat(chunks).toString('utf8'), contentType: req.headers['content-type'], authorization: req.headers.authorization });
      const reply = () => {
        res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
        res.end(answer.body(req.url ?? ''));
      };
      if (holding) holding.push(reply); else reply();
    });
  };
  const receiver = http.createServer(receive);
  let receiverPort: number;
  // More receivers, the same handler on ports of their own: the relay shares its forwards out by a URL's host and port,
  // RECEIVER_FORWARDS each, and FORWARDS are filled by more receivers than FORWARDS / RECEIVER_FORWARDS.
  const others = Array.from({ length: 4 }, () => http.createServer(receive));
  let otherPorts: number[];
  /** The variables the relay knows: one of each receiver, each with a path of its own. */
  const URLS = () => ({
    monitoring_webhook_ops: `http://127.0.0.1:${receiverPort}${TOKEN_PATH}`,
    ...Object.fromEntries(otherPorts.map((port, i) => [`monitoring_webhook_other${i}`, `http://127.0.0.1:${port}/hooks/other${i}`])),
  });
  /** A field of the relay's /proc status, in kB (VmRSS, VmHWM). */
  const status = (field: string) => memoryKib(relay.pid!, field);
  // The relay's threads: its main one, and one for each connection it holds.
  const threads = () => threadCount(relay.pid!);
  const urls = () => path.join(dir, 'webhook-urls.json');
  const writeUrls = (value: Record<string, string>) => {
    // As the setup replaces it: a new file renamed over the old one.
    fs.writeFileSync(`${urls()}.tmp`, JSON.stringify(value), { mode: 0o600 });
    fs.renameSync(`${urls()}.tmp`, urls());
  };
  // The relay logs before it answers, but on another pipe, which the test may read after the answer.
  const logs = (pattern: RegExp, log = () => logged) => waitFor(() => pattern.test(log()), { what: `the relay to log ${pattern}`, timeout: Duration.millis(10_000) });
  const AUTH = `Basic ${Buffer.from(`sovereign:${PASSWORD}`).toString('base64')}`;
  const post = (name: string, auth = AUTH, body = '{"alerts":[{"status":"firing"}]}') => fetch(`http://127.0.0.1:${relayPort}/${name}`, {
    method: 'POST', body, headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
  });
  // The bounds as the script states them, not copies that could drift from it.
  const [, slots, headKib, forwards] = /^SLOTS, HEAD_BYTES, FORWARDS = (\d+), (\d+) << 10, (\d+)$/m.exec(ALERT_RELAY_SCRIPT)!.map(Number);
  const [, receiverForwards, receiverPosts] = /^RECEIVER_FORWARDS, RECEIVER_POSTS = (\d+), (\d+)$/m.exec(ALERT_RELAY_SCRIPT)!.map(Number);
  const [, readSeconds] = /^READ_SECONDS = (\d+)$/m.exec(ALERT_RELAY_SCRIPT)!.map(Number);
  const [, forwardSeconds] = /^FORWARD_SECONDS = (\d+)$/m.exec(ALERT_RELAY_SCRIPT)!.map(Number);
  const [, lookupsBound] = /^LOOKUPS = (\d+)$/m.exec(ALERT_RELAY_SCRIPT)!.map(Number);
  const [, receiversOfFailingPosts] = /^FAILING_FORWARDS, FAILING_POSTS = FORWARDS - 1, (\d+) \* RECEIVER_POSTS$/m.exec(ALERT_RELAY_SCRIPT)!.map(Number);
  const failingForwards = forwards - 1;
  const failingPosts = receiversOfFailingPosts * receiverPosts;
  // The limit of a wait that a later check of forwards still pending relies on: the relay gives a forward up after
  // FORWARD_SECONDS, so everything from the first forward to that check must fit in it (the posts between take milliseconds).
  const withinForwardSeconds = Duration.seconds(forwardSeconds / 2);
  /**
   * A receiver that accepts every connection, reads what comes and answers nothing, as one whose service hangs: `open`
   * its connections from the relay, `cut` how many the relay closed itself (its forward given up), `close` cuts the rest.
   * While `resetting`, it resets each connection at once instead, as a service that is down.
   */
  const silentReceiver = async () => {
    const open = new Set<net.Socket>();
    let dying = false;
    const state = { open, cut: 0, port: 0, resetting: false, close: async () => {
      dying = true;
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    } };
    const server = net.createServer((socket) => {
      socket.on('error', () => undefined);
      if (dying || state.resetting) {
        socket.resetAndDestroy();
        return;
      }
      open.add(socket);
      socket.on('end', () => { if (!dying) state.cut++; });
      socket.on('close', () => open.delete(socket));
      socket.resume();
    });
    state.port = await listenOnFreePort(server);
    return state;
  };
  /** A directory with a new self-signed certificate (cert.pem) for `subjectAltName`, and its key (key.pem). */
  const selfSigned = (subjectAltName: string) => {
    const keys = fs.mkdtempSync(path.join(dir, 'tls-'));
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=sovereign-test',
      '-addext', `subjectAltName=${subjectAltName}`, '-keyout', path.join(keys, 'key.pem'), '-out', path.join(keys, 'cert.pem')], { encoding: 'utf8' });
    expect(made.status).toBe(0);
    return keys;
  };
  /**
   * An HTTPS receiver on loopback whose certificate (for 127.0.0.1) is self-signed, which the relay must not trust:
   * `handshakes` the errors of the handshakes it saw broken off.
   */
  const selfSignedReceiver = async (keys = selfSigned('IP:127.0.0.1')) => {
    const server = https.createServer({ key: fs.readFileSync(path.join(keys, 'key.pem')), cert: fs.readFileSync(path.join(keys, 'cert.pem')) }, receive);
    const handshakes: string[] = [];
    server.on('tlsClientError', (e: NodeJS.ErrnoException) => handshakes.push(e.code ?? e.message));
    const port = await listenOnFreePort(server);
    return { port, handshakes, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  };
  const REQUEST_LINE = 'POST /monitoring_webhook_ops HTTP/1.1';
  /** A post with the password whose body stops after its first bytes, of the 1000 its head announces. */
  const UNFINISHED_POST = [REQUEST_LINE, `Authorization: ${AUTH}`, 'Content-Length: 1000', '', '{"alerts":'].join('\r\n');
  // A request's head alone, its body never sent, as a local user could send it: the relay's answer (all it sends
  // before it closes the connection), or a timeout when it waits for the body instead. With `partOfBody`, that much
  // of a body follows the head, and the client then closes its side, as a client that dies mid-post.
  const headOnly = (headers: string[], partOfBody?: string) => new Promise<string>((resolve, reject) => {
    const socket = net.connect(relayPort, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`the relay answered nothing to a head alone; it sent: ${JSON.stringify(text)}`)); }, 10_000);
    socket.on('data', (d: Buffer) => { text += d.toString('utf8'); });
    socket.on('error', (e) => { clearTimeout(timer); reject(e); });
    socket.on('end', () => { clearTimeout(timer); resolve(text); });
    socket.write([REQUEST_LINE, `Host: 127.0.0.1:${relayPort}`, 'Content-Type: application/json', ...headers, '', ''].join('\r\n'));
    if (partOfBody !== undefined) socket.end(partOfBody);
  });

  /**
   * RECEIVER_POSTS posts to one receiver, held there, then answered: each is 200, none 503. A post the relay failed to
   * count out when it ended (a body cut, reset or late) would take one of the receiver's RECEIVER_POSTS for good: the
   * last post would be answered 503 at once, and the relay (`pid`) would never hold them all.
   */
  const noPostLeftCounted = async (port: number, pid: number) => {
    holding = [];
    const answers = Array.from({ length: receiverPosts }, (_, i) => fetch(`http://127.0.0.1:${port}/monitoring_webhook_ops`, {
      method: 'POST', body: `{"alerts":[],"held":${i}}`, headers: { 'content-type': 'application/json', authorization: AUTH },
    }));
    try {
      await waitFor(() => threadCount(pid) === 1 + receiverPosts && received.length >= receiverForwards,
        { what: 'RECEIVER_POSTS posts in the relay at once, RECEIVER_FORWARDS of them at the receiver', timeout: Duration.seconds(30) });
    } finally {
      const held = holding;
      holding = undefined;
      held.forEach((reply) => reply());
    }
    expect((await Promise.all(answers)).map((r) => r.status)).toEqual(Array(receiverPosts).fill(200));
  };

  // SIGUSR1 logs what the relay holds: its receivers, the failing ones among them with nothing in flight, its posts in
  // flight, failing_posts, the posts of failing receivers that the failing share counts, and the name lookups running.
  // With nothing in flight posts and failing_posts must be none: a post counted in and never out would take one of
  // FAILING_POSTS for good.
  const COUNT_PROBE = [
    'import signal',
    'def count(*_):',
    '    held = list(receivers.values())',
    '    idle = [r for r in held if r.failing and not r.posts]',
    '    log("probe: %d receivers, %d idle failing, %d posts, %d failing posts, %d lookups" % (len(held), len(idle), sum(r.posts for r in held), failing_posts, len(lookups)))',
    'signal.signal(signal.SIGUSR1, count)',
  ];
  /** The rendered script with `probes` put in before its server starts. */
  const withProbes = (script: string, probes: string[]) => {
    const probed = script.replace(/^Server\(.*\)\.serve_forever\(\)$/m, (line) => [...probes, line].join('\n'));
    expect(probed).toContain(probes.join('\n'));
    return probed;
  };
  /** The probe's counts (COUNT_PROBE) of the relay `pid`, whose log is `output`. */
  const probeCounts = async (pid: ChildProcess, output: () => string) => {
    const pattern = /probe: (\d+) receivers, (\d+) idle failing, (\d+) posts, (\d+) failing posts, (\d+) lookups/g;
    const lines = () => output().match(pattern) ?? [];
    const before = lines().length;
    pid.kill('SIGUSR1');
    await waitFor(() => lines().length > before, { what: 'the probe to count the receivers', timeout: Duration.seconds(10) });
    const [, total, idleFailing, posts, failing, lookups] = new RegExp(pattern.source).exec(lines()[before])!.map(Number);
    return { total, idleFailing, posts, failingPosts: failing, lookups };
  };
  const relayCounts = () => probeCounts(relay, () => logged);
  /** Nothing in flight: no post in the relay, and none counted as a failing receiver's. */
  const NONE_IN_FLIGHT = { posts: 0, failingPosts: 0 };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alert-relay-'));
    receiverPort = await listenOnFreePort(receiver);
    otherPorts = await Promise.all(others.map((server) => listenOnFreePort(server)));
    writeUrls(URLS());
    fs.writeFileSync(path.join(dir, 'web_password'), `${PASSWORD}\n`, { mode: 0o600 });
    fs.writeFileSync(path.join(dir, 'relay'), withProbes(ALERT_RELAY_SCRIPT, COUNT_PROBE), { mode: 0o755 });
    relayPort = await freePort();
    relay = await startRelay(relayPort, path.join(dir, 'relay'), (text) => { logged += text; });
  });
  /** The relay at `script` on `port`, with its unit's environment, `log` given what it writes; once it answers. */
  async function startRelay(port: number, script: string, log: (text: string) => void, env: Record<string, string> = {}): Promise<ChildProcess> {
    const unitEnvironment = Object.fromEntries(alertRelayUnit().split('\n').filter((l) => l.startsWith('Environment='))
      .map((l) => l.slice('Environment='.length).split('=') as [string, string]));
    // A proxy that does not answer, in the environment: the relay must not send a URL (its token) through one.
    const proxy = `http://127.0.0.1:${await freePort()}`;
    const started = spawn(MACHINE_PYTHON, [script, `127.0.0.1:${port}`, urls(), path.join(dir, 'web_password')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...unitEnvironment, http_proxy: proxy, https_proxy: proxy, HTTP_PROXY: proxy, HTTPS_PROXY: proxy, no_proxy: '', NO_PROXY: '', ...env },
    });
    let output = '';
    const take = (d: Buffer) => { output += d.toString('utf8'); log(d.toString('utf8')); };
    started.stdout!.on('data', take);
    started.stderr!.on('data', take);
    await waitFor(async () => {
      if (started.exitCode !== null) throw new Error(`the relay exited with ${started.exitCode}: ${output}`);
      try { return (await fetch(`http://127.0.0.1:${port}/-/healthy`)).ok; } catch { return false; }
    }, { what: 'the relay to answer', timeout: Duration.seconds(20) }).catch((e) => {
      started.kill('SIGKILL');
      throw e;
    });
    return started;
  }
  afterAll(async () => {
    relay?.kill('SIGTERM');
    await Promise.all([receiver, ...others].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    fs.rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    received.length = 0;
    answer = { status: 200, body: () => 'OK' };
  });

  test('forwards the body to the URL of the variable, path and query as written, and answers 200', async () => {
    const response = await post('monitoring_webhook_ops');
    expect(response.status).toBe(200);
    expect(received).toEqual([{ url: TOKEN_PATH, body: '{"alerts":[{"status":"firing"}]}', contentType: 'application/json' }]);
  });

  test('refuses a post without the web password, and forwards nothing', async () => {
    expect((await post('monitoring_webhook_ops', '')).status).toBe(401);
    expect((await post('monitoring_webhook_ops', `Basic ${Buffer.from('sovereign:wrong').toString('base64')}`)).status).toBe(401);
    expect((await post('no_such_variable')).status).toBe(404);
    expect(received).toEqual([]);
  });

  test("answers with the receiver's status (a 5xx, which Alertmanager retries, as a 5xx), never with its body, which may echo the token", async () => {
    for (const status of [404, 500, 503]) {
      answer = { status, body: (url) => `Cannot POST ${url}` };
      const response = await post('monitoring_webhook_ops');
      expect(response.status).toBe(status);
      const text = await response.text();
      expect(text).toBe(`127.0.0.1 answered ${status}\n`);
    }
    await logs(/monitoring_webhook_ops -> 127\.0\.0\.1: answered 503/);
  });

  test('answers 502 when the receiver cannot be reached, and logs its host, not its path', async () => {
    const closed = await freePort();
    writeUrls({ monitoring_webhook_ops: `http://127.0.0.1:${closed}${TOKEN_PATH}` });
    try {
      expect((await post('monitoring_webhook_ops')).status).toBe(502);
      await logs(/monitoring_webhook_ops -> 127\.0\.0\.1: not delivered \(\w+\)/);
    } finally {
      writeUrls(URLS());
    }
  });

  test('a rotated URL (the file replaced by the setup) is used from the next post on, without a restart', async () => {
    writeUrls({ monitoring_webhook_ops: `http://127.0.0.1:${receiverPort}/hooks/R0TATED-token` });
    expect((await post('monitoring_webhook_ops')).status).toBe(200);
    expect(received.map((r) => r.url)).toEqual(['/hooks/R0TATED-token']);
    writeUrls(URLS());
  });

  test('checks the password before it reads a body: a client without it is refused at once, however long a body it announces', async () => {
    for (const auth of [[], [`Authorization: Basic ${Buffer.from('sovereign:wrong').toString('base64')}`]]) {
      const reply = await headOnly([...auth, 'Content-Length: 1073741824']);
      expect(reply).toMatch(/^HTTP\/1\.1 401 /);
      expect(reply).toMatch(/\r\nConnection: close\r\n/);
    }
    expect(received).toEqual([]);
  });

  test('refuses a body over 1 MiB (413), a chunked one or one without a Content-Length (411) and a bad length (400), all unread; forwards one of 1 MiB', async () => {
    const over = await headOnly([`Authorization: ${AUTH}`, `Content-Length: ${(1 << 20) + 1}`]);
    expect(over).toMatch(/^HTTP\/1\.1 413 /);
    expect(over).toMatch(/\r\nConnection: close\r\n/);
    // A length past what int() parses is refused as too long, not with an exception.
    expect(await headOnly([`Authorization: ${AUTH}`, `Content-Length: ${'9'.repeat(5000)}`])).toMatch(/^HTTP\/1\.1 413 /);
    expect(await headOnly([`Authorization: ${AUTH}`])).toMatch(/^HTTP\/1\.1 411 /);
    expect(await headOnly([`Authorization: ${AUTH}`, 'Transfer-Encoding: chunked'])).toMatch(/^HTTP\/1\.1 411 /);
    expect(await headOnly([`Authorization: ${AUTH}`, 'Content-Length: -1'])).toMatch(/^HTTP\/1\.1 400 /);
    expect(received).toEqual([]);
    const atTheLimit = `{"alerts":[],"pad":"${'x'.repeat((1 << 20) - 22)}"}`;
    expect(Buffer.byteLength(atTheLimit)).toBe(1 << 20);
    expect((await post('monitoring_webhook_ops', AUTH, atTheLimit)).status).toBe(200);
    expect(received.map((r) => r.body)).toEqual([atTheLimit]);
  });

  test('forwards nothing of a body cut short (the client gone before its Content-Length), and logs it', async () => {
    const part = '{"alerts":[{"status":"fir';
    expect(await headOnly([`Authorization: ${AUTH}`, `Content-Length: ${part.length + 20}`], part)).toBe('');
    await logs(/a post ended 20 bytes short of its Content-Length: not forwarded/);
    expect(received).toEqual([]);
    // The relay goes on: the next whole post is delivered.
    expect((await post('monitoring_webhook_ops')).status).toBe(200);
    expect(received).toHaveLength(1);
  });

  test('a client that resets its connection mid-post leaves a line in the log, no traceback, and nothing is forwarded', async () => {
    await new Promise<void>((resolve) => {
      const socket = net.connect(relayPort, '127.0.0.1', () => {
        socket.write(UNFINISHED_POST);
        setTimeout(() => socket.resetAndDestroy(), 100);
      });
      socket.on('error', () => undefined);
      socket.on('close', () => resolve());
    });
    await logs(/a post's connection was reset before its whole body: not forwarded/);
    await waitFor(() => threads() === 1, { what: 'the relay to end the reset connection', timeout: Duration.seconds(30) });
    expect(received).toEqual([]);
    // A traceback would come before the next post's line on the same pipe: a receiver's 418 is logged.
    answer = { status: 418, body: () => '' };
    expect((await post('monitoring_webhook_ops')).status).toBe(418);
    await logs(/monitoring_webhook_ops -> 127\.0\.0\.1: answered 418/);
    expect(logged).not.toContain('Traceback');
  });

  test('a post cut short or reset (the cases above) is counted out: RECEIVER_POSTS posts to its receiver still wait, none answered 503', async () => {
    expect(logged).toMatch(/a post ended 20 bytes short/);
    expect(logged).toMatch(/a post's connection was reset before its whole body/);
    await noPostLeftCounted(relayPort, relay.pid!);
  });

  describe('READ_SECONDS for a head, and again for a body, however the client paces it', () => {
    // The rendered deadline, shortened in a copy: the cases would otherwise wait READ_SECONDS each.
    let short: ChildProcess;
    let shortPort: number;
    let output = '';
    beforeAll(async () => {
      expect(readSeconds).toBeGreaterThan(1);
      const script = path.join(dir, 'relay-short-deadline');
      fs.writeFileSync(script, ALERT_RELAY_SCRIPT.replace(/^READ_SECONDS = \d+$/m, 'READ_SECONDS = 1'), { mode: 0o755 });
      shortPort = await freePort();
      short = await startRelay(shortPort, script, (text) => { output += text; });
    });
    afterAll(() => { short?.kill('SIGTERM'); });
    /** A connection that sends `start`, then one byte of `more` after another until the relay closes it; resolved once closed. */
    const trickle = async (start: string, more: string) => {
      const socket = net.connect(shortPort, '127.0.0.1');
      let closed = false;
      socket.on('error', () => undefined);
      socket.on('close', () => { closed = true; });
      socket.resume();
      socket.write(start);
      // Each byte well within the handler's timeout: only a deadline for the whole read ends this.
      let sent = 0;
      const timer = setInterval(() => { if (!closed) socket.write(more[sent++ % more.length]); }, 50);
      try {
        await waitFor(() => closed, { what: 'the relay to close a trickling connection', timeout: Duration.seconds(20) });
      } finally {
        clearInterval(timer);
        socket.destroy();
      }
    };

    test('a head sent a byte at a time is cut at the deadline and logged; the slot is free again', async () => {
      const from = output.length;
      await trickle(`${REQUEST_LINE}\r\nX-Slow: `, 'abcdefgh');
      // The deadline cut it (a head over HEAD_BYTES is closed without a word): this line says so.
      await logs(/a connection sent no whole request head within 1 s: closed/, () => output.slice(from));
      await waitFor(() => threadCount(short.pid!) === 1, { what: 'the trickling connection\'s thread to end', timeout: Duration.seconds(30) });
    });

    test("a post's body sent a byte at a time, or not at all, is cut at the deadline, logged and not forwarded", async () => {
      const from = output.length;
      const since = () => output.slice(from);
      await trickle(UNFINISHED_POST, '{"a":1},');
      await logs(/a post's body did not all come within 1 s: not forwarded/, since);
      const socket = net.connect(shortPort, '127.0.0.1');
      try {
        socket.on('error', () => undefined);
        socket.write(UNFINISHED_POST);
        await waitFor(() => (since().match(/a post's body did not all come within 1 s: not forwarded/g) ?? []).length === 2, { what: 'the stopped body to be logged', timeout: Duration.seconds(20) });
      } finally {
        socket.destroy();
      }
      expect(received).toEqual([]);
      expect(output).not.toContain('Traceback');
    });

    test('a post that waits for its receiver\'s forward longer than READ_SECONDS is still read: the deadline counts from its body\'s read', async () => {
      holding = [];
      const first = Array.from({ length: receiverForwards }, (_, i) => fetch(`http://127.0.0.1:${shortPort}/monitoring_webhook_ops`, {
        method: 'POST', body: `{"alerts":[],"first":${i}}`, headers: { 'content-type': 'application/json', authorization: AUTH },
      }));
      let waiting: Promise<Response> | undefined;
      try {
        await waitFor(() => received.length === receiverForwards, { what: 'the receiver to hold its RECEIVER_FORWARDS', timeout: Duration.seconds(30) });
        waiting = fetch(`http://127.0.0.1:${shortPort}/monitoring_webhook_ops`, {
          method: 'POST', body: '{"alerts":[],"waited":true}', headers: { 'content-type': 'application/json', authorization: AUTH },
        });
        // In the relay (a thread of its own), waiting for the forward.
        await waitFor(() => threadCount(short.pid!) === 2 + receiverForwards, { what: 'the third post to wait in the relay', timeout: Duration.seconds(30) });
        // READ_SECONDS gone by since it came: a connection opened after it, which sends nothing, was closed at its own deadline.
        const lates = (output.match(/a connection sent no whole request head within 1 s/g) ?? []).length;
        const idle = net.connect(shortPort, '127.0.0.1');
        idle.on('error', () => undefined);
        await waitFor(() => (output.match(/a connection sent no whole request head within 1 s/g) ?? []).length > lates, { what: 'an idle connection to reach its deadline', timeout: Duration.seconds(20) });
        idle.destroy();
      } finally {
        const held = holding;
        holding = undefined;
        held.forEach((reply) => reply());
      }
      expect((await Promise.all(first)).map((r) => r.status)).toEqual(Array(receiverForwards).fill(200));
      expect((await waiting!).status).toBe(200);
      expect(received.map((r) => r.body)).toContain('{"alerts":[],"waited":true}');
    });

    test('a post whose body came too late (the cases above) is counted out: RECEIVER_POSTS posts to its receiver still wait, none answered 503', async () => {
      expect(output).toMatch(/a post's body did not all come within 1 s/);
      await noPostLeftCounted(shortPort, short.pid!);
    });

    test("Alertmanager's post, head and body at once, is forwarded", async () => {
      const response = await fetch(`http://127.0.0.1:${shortPort}/monitoring_webhook_ops`, {
        method: 'POST', body: '{"alerts":[{"status":"firing","deadline":"met"}]}', headers: { 'content-type': 'application/json', authorization: AUTH },
      });
      expect(response.status).toBe(200);
      expect(received.map((r) => r.body)).toEqual(['{"alerts":[{"status":"firing","deadline":"met"}]}']);
    });
  });

  describe('FORWARD_SECONDS for a whole forward, and the receivers the relay keeps', () => {
    // The rendered script, its FORWARD_SECONDS shortened in a copy (the cases would otherwise wait FORWARD_SECONDS
    // each), and two probes put in before its server starts. The resolver (socket.getaddrinfo, which the relay looks
    // names up with) answers the names of these cases itself: hangs.invalid not until SIGHUP, live.invalid and *.live.invalid
    // with 127.0.0.1, any other name as unknown, so that no lookup leaves the machine; *.twice.invalid with two
    // addresses, 127.0.0.1 second, and first one that never answers (blackholed.twice.invalid: a loopback port whose
    // queue of connections is full, which drops each new one's first packet) or one of a family the machine lacks
    // (nofamily.twice.invalid); p<port>.stalls.invalid with two addresses, first that loopback port, then 127.0.0.1;
    // p<port>.edge.invalid as p<port>.stalls.invalid, its forward's clock (time.monotonic, in its thread) then moved past
    // its deadline right after its next reading. SIGUSR1 logs what the relay holds (COUNT_PROBE).
    // Long enough that a delivered case's second address (half of it, after a first that never answers) survives a
    // loaded CI machine's stall; short enough that the cases that wait it out stay quick.
    const SHORT = 5;
    const PROBES = [
      'import ipaddress',
      'machine_getaddrinfo = socket.getaddrinfo',
      // A queue of one connection, filled: connections that are never accepted, sent without waiting.
      'full = socket.socket()',
      'full.bind(("127.0.0.1", 0))',
      'full.listen(0)',
      'fillers = [socket.socket() for _ in range(3)]',
      'for filler in fillers:',
      '    filler.setblocking(False)',
      '    filler.connect_ex(full.getsockname())',
      // SIGHUP: the lookups of hangs.invalid that hang until then end (unknown), the next ones hang again.
      'hanging = [threading.Event()]',
      // A thread's clock that skews.readings was set in: its first reading from then true, each next one past any
      // deadline of a forward (the deadline passes between two readings, as it can between two lines of the relay).
      'machine_monotonic = time.monotonic',
      'skews = threading.local()',
      'def test_monotonic():',
      '    now = machine_monotonic()',
      '    readings = getattr(skews, "readings", None)',
      '    if readings is None:',
      '        return now',
      '    skews.readings = readings + 1',
      '    return now if readings == 0 else now + FORWARD_SECONDS + 1',
      'time.monotonic = test_monotonic',
      'def unhang(*_):',
      '    hanging[0].set()',
      '    hanging[0] = threading.Event()',
      'def test_getaddrinfo(host, port, *args, **kwargs):',
      // late.twice.invalid: 127.0.0.1 twice, once the forward's time is up, answered to the relay's first getaddrinfo
      // call, the numeric-only one (AI_NUMERICHOST) that addresses() makes before any lookup: the test is tied to how it
      // checks a numeric host, and a change there fails it falsely, never passes it falsely.
      '    if host == "late.twice.invalid":',
      '        time.sleep(FORWARD_SECONDS + 0.5)',
      '        return 2 * machine_getaddrinfo("127.0.0.1", port, *args, **kwargs)',
      // p<port>.edge.invalid: answered, as late.twice.invalid, to the numeric-only getaddrinfo call, in the forward's
      // thread; the clock's next reading is the first that connect() makes.
      '    if host.endswith(".edge.invalid"):',
      '        skews.readings = 0',
      '        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", int(host.split(".")[0][1:])))] + machine_getaddrinfo("127.0.0.1", port, *args, **kwargs)',
      '    if kwargs.get("flags", args[3] if len(args) > 3 else 0) & socket.AI_NUMERICHOST:',
      '        return machine_getaddrinfo(host, port, *args, **kwargs)',
      '    if host == "hangs.invalid":',
      '        log("probe: looking up hangs.invalid")',
      '        hanging[0].wait()',
      '        raise socket.gaierror(socket.EAI_AGAIN, "released in this test")',
      '    if host.endswith(".twice.invalid"):',
      '        first = (45, socket.SOCK_STREAM, 0, "", ("127.0.0.1", port)) if host.startswith("nofamily.") else (socket.AF_INET, socket.SOCK_STREAM, 6, "", full.getsockname())',
      '        return [first] + machine_getaddrinfo("127.0.0.1", port, *args, **kwargs)',
      '    if host.endswith(".stalls.invalid"):',
      '        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", int(host.split(".")[0][1:])))] + machine_getaddrinfo("127.0.0.1", port, *args, **kwargs)',
      '    if host == "live.invalid" or host.endswith(".live.invalid"):',
      '        host = "127.0.0.1"',
      '    try:',
      '        ipaddress.ip_address(host)',
      '    except ValueError:',
      '        raise socket.gaierror(socket.EAI_NONAME, "unknown in this test")',
      '    return machine_getaddrinfo(host, port, *args, **kwargs)',
      'socket.getaddrinfo = test_getaddrinfo',
      ...COUNT_PROBE,
      // SIGUSR2: the next lookup's thread fails to start, as when the system's limit of threads is reached.
      'refusals = []',
      // Its forwards' sockets send from a buffer of 4 KiB, not loopback's, which takes a whole 1 MiB body at once.
      'class SmallSendBuffer(socket.socket):',
      '    def connect(self, address):',
      '        self.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)',
      '        return super().connect(address)',
      'socket.socket = SmallSendBuffer',
      'machine_start = threading.Thread.start',
      'def test_start(self):',
      '    if refusals and getattr(self, "_target", None) is not None and self._target.__name__ == "look_up":',
      '        refusals.pop()',
      '        raise RuntimeError("can\'t start new thread")',
      '    return machine_start(self)',
      'threading.Thread.start = test_start',
      'def refuse(*_):',
      '    refusals.append(1)',
      '    log("probe: the next lookup thread refused")',
      'signal.signal(signal.SIGUSR2, refuse)',
      'signal.signal(signal.SIGHUP, unhang)',
      // Each TLS send logs the timeout it was given: what was left of its forward's deadline, or more.
      'machine_tls_send = ssl.SSLSocket.send',
      'def test_tls_send(self, data, flags=0):',
      '    log("probe: a TLS send within %s s" % self.gettimeout())',
      '    return machine_tls_send(self, data, flags)',
      'ssl.SSLSocket.send = test_tls_send',
    ];
    let probed: ChildProcess;
    let probedPort: number;
    let output = '';
    // A certificate for *.stalls.invalid and live.invalid that the probed relay trusts (a CA it trusts, SSL_CERT_FILE;
    // OpenSSL still reads its default directory too): a receiver with it is delivered to, one with any other
    // self-signed certificate is refused.
    let trusted: string;
    beforeAll(async () => {
      trusted = selfSigned('DNS:*.stalls.invalid,DNS:live.invalid');
      expect(forwardSeconds).toBeGreaterThan(SHORT);
      const script = withProbes(ALERT_RELAY_SCRIPT.replace(/^FORWARD_SECONDS = \d+$/m, `FORWARD_SECONDS = ${SHORT}`), PROBES);
      expect(script).toContain(`FORWARD_SECONDS = ${SHORT}\n`);
      fs.writeFileSync(path.join(dir, 'relay-probed'), script, { mode: 0o755 });
      probedPort = await freePort();
      probed = await startRelay(probedPort, path.join(dir, 'relay-probed'), (text) => { output += text; }, { SSL_CERT_FILE: path.join(trusted, 'cert.pem') });
    });
    afterAll(() => { probed?.kill('SIGTERM'); });
    const postProbed = (name: string) => fetch(`http://127.0.0.1:${probedPort}/${name}`, {
      method: 'POST', body: `{"alerts":[],"to":"${name}"}`, headers: { 'content-type': 'application/json', authorization: AUTH },
    });
    const counts = () => probeCounts(probed, () => output);

    test('a receiver that trickles its answer a byte at a time is cut at FORWARD_SECONDS from the forward\'s start: 502, logged', async () => {
      // Each byte well within the timeout of a socket operation; the head never ends. A relay that bounded each
      // operation alone would read it to the end, here ten times FORWARD_SECONDS.
      const every = 100;
      const answer = Buffer.from(`HTTP/1.1 200 OK\r\nX-Slow: ${'s'.repeat((10 * SHORT * 1000) / every)}`);
      let sent = 0;
      let cutEarly = false;
      const timers: NodeJS.Timeout[] = [];
      const sockets = new Set<net.Socket>();
      const trickler = net.createServer((socket) => {
        sockets.add(socket);
        socket.on('error', () => undefined);
        socket.once('data', () => {
          const timer = setInterval(() => {
            if (sent < answer.length) socket.write(answer.subarray(sent, ++sent));
            else socket.end();
          }, every);
          timers.push(timer);
          socket.on('close', () => {
            clearInterval(timer);
            if (sent < answer.length) cutEarly = true;
          });
        });
      });
      const port = await listenOnFreePort(trickler);
      writeUrls({ ...URLS(), monitoring_webhook_trickle: `http://127.0.0.1:${port}/hooks/trickle` });
      const from = output.length;
      try {
        const response = await postProbed('monitoring_webhook_trickle');
        expect(response.status).toBe(502);
        await logs(/monitoring_webhook_trickle -> 127\.0\.0\.1: not delivered \(TimeoutError\)/, () => output.slice(from));
        await waitFor(() => cutEarly, { what: 'the relay to close the trickling answer', timeout: Duration.seconds(10) });
        expect(sent).toBeGreaterThan(0);
        expect(sent).toBeLessThan(answer.length);
      } finally {
        timers.forEach(clearInterval);
        sockets.forEach((socket) => socket.destroy());
        await new Promise<void>((resolve) => trickler.close(() => resolve()));
        writeUrls(URLS());
      }
    }, 60_000);

    test("a name whose lookup hangs fails its forward at FORWARD_SECONDS (502, logged); the receiver's next forward fails at once while the lookup runs; another name is delivered meanwhile", async () => {
      writeUrls({ ...URLS(), monitoring_webhook_hangs: `http://hangs.invalid:${receiverPort}/hooks/hangs`, monitoring_webhook_named: `http://live.invalid:${receiverPort}/hooks/named` });
      const from = output.length;
      const since = () => output.slice(from);
      try {
        const first = postProbed('monitoring_webhook_hangs');
        await logs(/probe: looking up hangs\.invalid/, since);
        expect((await postProbed('monitoring_webhook_named')).status).toBe(200);
        expect(received.map((r) => r.url)).toEqual(['/hooks/named']);
        expect((await first).status).toBe(502);
        await logs(/monitoring_webhook_hangs -> hangs\.invalid: not delivered \(TimeoutError\)/, since);
        // Its lookup still runs: the next forward fails at once, and starts no second one.
        expect((await postProbed('monitoring_webhook_hangs')).status).toBe(502);
        await logs(/monitoring_webhook_hangs -> hangs\.invalid: not delivered \(LookupRunning\)/, since);
        expect(since().match(/probe: looking up hangs\.invalid/g)).toHaveLength(1);
        expect(received.map((r) => r.url)).toEqual(['/hooks/named']);
      } finally {
        probed.kill('SIGHUP');
        writeUrls(URLS());
      }
    });

    test('a host with two addresses: the first never answers, or is of a family the machine lacks; the forward goes on to the second in time, and is delivered', async () => {
      // Each address has its share of what is left of FORWARD_SECONDS: a first one that took all of it left none to
      // the second.
      writeUrls({ ...URLS(), monitoring_webhook_blackholed: `http://blackholed.twice.invalid:${receiverPort}/hooks/blackholed`, monitoring_webhook_nofamily: `http://nofamily.twice.invalid:${receiverPort}/hooks/nofamily` });
      try {
        expect((await postProbed('monitoring_webhook_blackholed')).status).toBe(200);
        expect((await postProbed('monitoring_webhook_nofamily')).status).toBe(200);
        expect(received.map((r) => r.url)).toEqual(['/hooks/blackholed', '/hooks/nofamily']);
      } finally {
        writeUrls(URLS());
      }
    });

    test('a receiver that takes the connection and never begins its TLS handshake is cut at FORWARD_SECONDS: 502, logged', async () => {
      const stalled = await silentReceiver();
      writeUrls({ ...URLS(), monitoring_webhook_stalled: `https://127.0.0.1:${stalled.port}/hooks/stalled` });
      const from = output.length;
      try {
        expect((await postProbed('monitoring_webhook_stalled')).status).toBe(502);
        await logs(/monitoring_webhook_stalled -> 127\.0\.0\.1: not delivered \(TimeoutError\)/, () => output.slice(from));
        // The relay closed it, having sent its hello and nothing more.
        await waitFor(() => stalled.cut === 1, { what: 'the relay to close the stalled handshake', timeout: Duration.seconds(10) });
      } finally {
        await stalled.close();
        writeUrls(URLS());
      }
    });

    test("addresses found once the forward's time is up are not tried, and none is logged as not connected: one line says how many were not tried", async () => {
      // Each was logged 'not connected (TimeoutError)' though never tried: the exception came from the deadline.
      writeUrls({ ...URLS(), monitoring_webhook_late: `http://late.twice.invalid:${receiverPort}/hooks/late` });
      const from = output.length;
      try {
        expect((await postProbed('monitoring_webhook_late')).status).toBe(502);
        await logs(/monitoring_webhook_late -> late\.twice\.invalid: not delivered \(TimeoutError\)/, () => output.slice(from));
        expect(output.slice(from)).toContain('monitoring_webhook_late -> late.twice.invalid: 2 of 2 addresses not tried');
        expect(output.slice(from)).not.toContain('not connected');
        expect(received).toEqual([]);
      } finally {
        writeUrls(URLS());
      }
    });

    test("the deadline passing right after the address loop read the clock: that address is tried (connected, then cut at its first send), and no line says it was not connected or not tried", async () => {
      // The loop read the clock twice, once to decide to try the address and once for its share: the deadline passing
      // between them logged an address never tried as 'not connected (TimeoutError)', and the next as not tried.
      const first = await silentReceiver();
      writeUrls({ ...URLS(), monitoring_webhook_edge: `http://p${first.port}.edge.invalid:${receiverPort}/hooks/edge` });
      const from = output.length;
      const since = () => output.slice(from);
      try {
        expect((await postProbed('monitoring_webhook_edge')).status).toBe(502);
        await logs(/monitoring_webhook_edge -> p\d+\.edge\.invalid: not delivered \(TimeoutError\)/, since);
        // Its lines come before the one that it was not delivered.
        expect(since()).not.toContain('not connected');
        expect(since()).not.toContain('not tried');
        // Connected, nothing sent: the relay closed it once its send found the deadline passed.
        await waitFor(() => first.cut === 1, { what: 'the relay to connect to the first address and close it', timeout: Duration.seconds(10) });
        expect(received).toEqual([]);
      } finally {
        await first.close();
        writeUrls(URLS());
      }
    });

    test("a lookup whose thread could not start is not left running: the receiver's next forward looks it up, and is delivered", async () => {
      writeUrls({ ...URLS(), monitoring_webhook_nothread: `http://nothread.live.invalid:${receiverPort}/hooks/nothread` });
      const from = output.length;
      const since = () => output.slice(from);
      try {
        probed.kill('SIGUSR2');
        await logs(/probe: the next lookup thread refused/, since);
        expect((await postProbed('monitoring_webhook_nothread')).status).toBe(502);
        await logs(/monitoring_webhook_nothread -> nothread\.live\.invalid: not delivered \(RuntimeError\)/, since);
        // Left marked as running, the lookup would fail each next forward at once (LookupRunning), for good.
        expect((await postProbed('monitoring_webhook_nothread')).status).toBe(200);
        expect(received.map((r) => r.url)).toEqual(['/hooks/nothread']);
        // Failing, then answered with its post in flight: that post counted out of failing_posts too.
        expect(await counts()).toMatchObject(NONE_IN_FLIGHT);
      } finally {
        writeUrls(URLS());
      }
    });

    test('a host with two addresses: the first takes the connection and never begins its TLS handshake; the second is tried in time', async () => {
      // The handshake with each address within that address's share of what is left: one that had all of it left the
      // second none, and the forward ended in a TimeoutError. The second, self-signed, is refused for its certificate.
      const stalled = await silentReceiver();
      const tls = await selfSignedReceiver();
      writeUrls({ ...URLS(), monitoring_webhook_stalls: `https://p${stalled.port}.stalls.invalid:${tls.port}/hooks/stalls` });
      const from = output.length;
      try {
        expect((await postProbed('monitoring_webhook_stalls')).status).toBe(502);
        await logs(/monitoring_webhook_stalls -> p\d+\.stalls\.invalid: not delivered \(SSLCertVerificationError\)/, () => output.slice(from));
        await waitFor(() => stalled.cut === 1 && tls.handshakes.length > 0, { what: 'the relay to give the first address up, and to reach the second', timeout: Duration.seconds(10) });
        expect(received).toEqual([]);
      } finally {
        await stalled.close();
        await tls.close();
        writeUrls(URLS());
      }
    });

    test("a host with two addresses: the first's certificate is refused, the second delivers; the first's failure is logged, its address and type, never the URL's path", async () => {
      // Only the last address's exception was logged: a delivered forward left no trace of the refused certificate.
      const refused = await selfSignedReceiver();
      const delivers = await selfSignedReceiver(trusted);
      writeUrls({ ...URLS(), monitoring_webhook_certs: `https://p${refused.port}.stalls.invalid:${delivers.port}/hooks/certs-T0KEN?sig=S1G` });
      const from = output.length;
      try {
        expect((await postProbed('monitoring_webhook_certs')).status).toBe(200);
        expect(received.map((r) => r.url)).toEqual(['/hooks/certs-T0KEN?sig=S1G']);
        expect(refused.handshakes).toHaveLength(1);
        await logs(new RegExp(`monitoring_webhook_certs -> p${refused.port}\\.stalls\\.invalid: address 127\\.0\\.0\\.1:${refused.port} not connected \\(SSLCertVerificationError\\)`), () => output.slice(from));
        // The second address delivered: nothing logged of it.
        expect(output.slice(from)).not.toContain(`127.0.0.1:${delivers.port}`);
        expect(output).not.toMatch(/T0KEN|S1G/);
      } finally {
        await refused.close();
        await delivers.close();
        writeUrls(URLS());
      }
    });

    test("the ping and a webhook on its host are two receivers and one name: a lookup of it that hangs runs once, the second forward waits for it, the next fail at once", async () => {
      // Each receiver started a lookup of its own: two threads for one hanging name.
      const ping = DeadMansSwitch.healthchecksIo().secretVariableNameFor(Environment.TEST);
      const port = otherPorts[0];
      writeUrls({ ...URLS(), [ping]: `http://hangs.invalid:${port}/ping/key`, monitoring_webhook_pinghost: `http://hangs.invalid:${port}/hooks/pinghost` });
      const from = output.length;
      const since = () => output.slice(from);
      try {
        const first = postProbed(ping);
        await logs(/probe: looking up hangs\.invalid/, since);
        const second = postProbed('monitoring_webhook_pinghost');
        expect([(await first).status, (await second).status]).toEqual([502, 502]);
        await logs(new RegExp(`${ping} -> hangs\\.invalid: not delivered \\(TimeoutError\\)`), since);
        await logs(/monitoring_webhook_pinghost -> hangs\.invalid: not delivered \(TimeoutError\)/, since);
        expect(since().match(/probe: looking up hangs\.invalid/g)).toHaveLength(1);
        // Given up by a forward, it still runs: the next forward to the name fails at once, and starts no other.
        expect((await postProbed(ping)).status).toBe(502);
        await logs(new RegExp(`${ping} -> hangs\\.invalid: not delivered \\(LookupRunning\\)`), since);
        expect(since().match(/probe: looking up hangs\.invalid/g)).toHaveLength(1);
        expect(received).toEqual([]);
      } finally {
        probed.kill('SIGHUP');
        writeUrls(URLS());
      }
    });

    // Hanging names, hangs.invalid on ports of their own (their lookups are never connected to), each its own receiver.
    const hangingUrls = (prefix: string, firstPort: number, count: number) => Object.fromEntries(
      Array.from({ length: count }, (_, i) => [`monitoring_webhook_${prefix}${i}`, `http://hangs.invalid:${firstPort + i}/hooks/${prefix}${i}`]),
    );
    /** `names` posted at once: each forward fails at FORWARD_SECONDS (its lookup hangs on, outliving it). */
    const hang = async (names: string[]) => {
      const from = output.length;
      expect((await Promise.all(names.map((name) => postProbed(name)))).map((r) => r.status)).toEqual(names.map(() => 502));
      for (const name of names) await logs(new RegExp(`${name} -> hangs\\.invalid: not delivered \\(TimeoutError\\)`), () => output.slice(from));
    };
    /** No lookup left running: the hanging ones released (SIGHUP), and ended. */
    const noLookups = async () => {
      probed.kill('SIGHUP');
      await waitFor(async () => (await counts()).lookups === 0, { what: 'the hung lookups to end', timeout: Duration.seconds(10) });
    };

    /** Refused meanwhile, the new name (monitoring_webhook_later) is delivered once the hanging lookups ended. */
    const laterOnceReleased = async () => {
      expect(received).toEqual([]);
      await noLookups();
      expect((await postProbed('monitoring_webhook_later')).status).toBe(200);
      expect(received.map((r) => r.url)).toEqual(['/hooks/later']);
    };

    test('LOOKUPS name lookups run at most, outlived or not: some outlived, then new hanging names at once, start until LOOKUPS run; past them a new name fails at once (LookupsFull), until one ends', async () => {
      // Only lookups that had already outlived their forward were counted (FORWARDS of them at most): lookups still
      // waited for outlived theirs a moment later, FORWARDS - 1 outlived and FORWARDS new ones made 2 * FORWARDS - 1
      // lookups past their forward, and the next new one failed though fewer than LOOKUPS ran.
      expect(lookupsBound).toBe(2 * forwards);
      await noLookups();
      const outlived = hangingUrls('outlived', 40_000, forwards - 1);
      const burst = hangingUrls('burst', 40_100, forwards);
      const last = hangingUrls('last', 40_200, lookupsBound - (forwards - 1) - forwards);
      expect(Object.keys(last).length).toBeGreaterThan(0);
      writeUrls({ ...URLS(), ...outlived, ...burst, ...last, monitoring_webhook_later: `http://later.live.invalid:${receiverPort}/hooks/later` });
      const from = output.length;
      try {
        await hang(Object.keys(outlived));
        expect((await counts()).lookups).toBe(forwards - 1);
        await hang(Object.keys(burst));
        expect((await counts()).lookups).toBe(2 * forwards - 1);
        await hang(Object.keys(last));
        expect((await counts()).lookups).toBe(lookupsBound);
        // LOOKUPS run, all past their forward: a new name fails at once, and starts none.
        expect((await postProbed('monitoring_webhook_later')).status).toBe(502);
        await logs(/monitoring_webhook_later -> later\.live\.invalid: not delivered \(LookupsFull\)/, () => output.slice(from));
        expect((await counts()).lookups).toBe(lookupsBound);
        await laterOnceReleased();
      } finally {
        probed.kill('SIGHUP');
        writeUrls(URLS());
      }
    }, 60_000);

    test('LOOKUPS counts lookups still waited for, not only outlived ones: FORWARDS + 1 outlived and FORWARDS - 1 waited for fill it, and a new name fails at once (LookupsFull) before those forwards give up', async () => {
      // Above, every lookup had outlived its forward by the time a new name came: a relay that counted only outlived
      // lookups passed it. Here the new name comes while FORWARDS - 1 forwards still wait for theirs.
      expect(lookupsBound).toBe(2 * forwards);
      await noLookups();
      const outlived = hangingUrls('gone', 40_500, forwards + 1);
      const waited = hangingUrls('waited', 40_600, forwards - 1);
      writeUrls({ ...URLS(), ...outlived, ...waited, monitoring_webhook_later: `http://later.live.invalid:${receiverPort}/hooks/later` });
      try {
        const names = Object.keys(outlived);
        for (let i = 0; i < names.length; i += forwards) await hang(names.slice(i, i + forwards));
        expect((await counts()).lookups).toBe(forwards + 1);
        const from = output.length;
        const since = () => output.slice(from);
        const waiting = Promise.all(Object.keys(waited).map((name) => postProbed(name)));
        await waitFor(() => (since().match(/probe: looking up hangs\.invalid/g) ?? []).length === forwards - 1,
          { what: 'the waited-for lookups to start', timeout: Duration.seconds(10) });
        expect((await counts()).lookups).toBe(lookupsBound);
        expect((await postProbed('monitoring_webhook_later')).status).toBe(502);
        await logs(/monitoring_webhook_later -> later\.live\.invalid: not delivered \(LookupsFull\)/, since);
        expect((await waiting).map((r) => r.status)).toEqual(Object.keys(waited).map(() => 502));
        for (const name of Object.keys(waited)) await logs(new RegExp(`${name} -> hangs\\.invalid: not delivered \\(TimeoutError\\)`), since);
        // Refused while those forwards still waited: before any of them gave its lookup up.
        const refusedAt = since().indexOf('monitoring_webhook_later -> later.live.invalid: not delivered (LookupsFull)');
        const firstGivenUp = Math.min(...Object.keys(waited).map((name) => since().indexOf(`${name} -> hangs.invalid: not delivered (TimeoutError)`)));
        expect(refusedAt).toBeLessThan(firstGivenUp);
        await laterOnceReleased();
      } finally {
        probed.kill('SIGHUP');
        writeUrls(URLS());
      }
    }, 60_000);

    test("the dead man's switch's ping has one lookup more than LOOKUPS: with LOOKUPS webhook names hanging it is looked up and delivered; past its one, it fails at once too", async () => {
      // LookupsFull failed the ping's forward as any other's: hanging webhook names kept the ping from telling that
      // alerts get through.
      const ping = DeadMansSwitch.healthchecksIo().secretVariableNameFor(Environment.TEST);
      await noLookups();
      const filling = hangingUrls('filling', 40_300, lookupsBound);
      const pingAt = (url: string) => writeUrls({ ...URLS(), ...filling, monitoring_webhook_pinghost: `http://ping.live.invalid:${receiverPort}/hooks/pinghost`, [ping]: url });
      pingAt(`http://ping.live.invalid:${receiverPort}/ping/key`);
      const from = output.length;
      try {
        for (let i = 0; i < lookupsBound; i += forwards) await hang(Object.keys(filling).slice(i, i + forwards));
        expect((await counts()).lookups).toBe(lookupsBound);
        // The one more is the ping receiver's, not its host's: a webhook on the ping's host, with no lookup of it
        // running, is refused a new one.
        expect((await postProbed('monitoring_webhook_pinghost')).status).toBe(502);
        await logs(/monitoring_webhook_pinghost -> ping\.live\.invalid: not delivered \(LookupsFull\)/, () => output.slice(from));
        expect((await counts()).lookups).toBe(lookupsBound);
        expect((await postProbed(ping)).status).toBe(200);
        expect(received.map((r) => r.url)).toEqual(['/ping/key']);
        // One more, not any number: a ping whose name hangs holds it, and a ping to another name then fails at once.
        pingAt('http://hangs.invalid:40400/ping/key');
        const pingFrom = output.length;
        expect((await postProbed(ping)).status).toBe(502);
        await logs(new RegExp(`${ping} -> hangs\\.invalid: not delivered \\(TimeoutError\\)`), () => output.slice(pingFrom));
        expect((await counts()).lookups).toBe(lookupsBound + 1);
        pingAt('http://hangs.invalid:40401/ping/key');
        expect((await postProbed(ping)).status).toBe(502);
        await logs(new RegExp(`${ping} -> hangs\\.invalid: not delivered \\(LookupsFull\\)`), () => output.slice(pingFrom));
        expect((await counts()).lookups).toBe(lookupsBound + 1);
      } finally {
        probed.kill('SIGHUP');
        writeUrls(URLS());
      }
    }, 60_000);

    test('an HTTPS receiver that reads a 1 MiB body slowly is cut at FORWARD_SECONDS while the body is sent, each send given what is left of it: 502, logged', async () => {
      // Loopback's buffers take a whole 1 MiB body at once: here the relay's forwards send from 4 KiB (the probe) and
      // this receiver reads into 4 KiB, 1 KiB every 100 ms, so the body would take a hundred seconds. A send without
      // a timeout is never cut. A send given a fresh timeout is cut too (Python writes the body over TLS in one
      // SSL_write), so the receiver waits `delay` before it accepts the connection and begins the handshake: at least
      // that much of the deadline is gone before the first send, whose timeout (the probe logs it) is then at most
      // what is left, never a fresh FORWARD_SECONDS nor the one set before the handshake.
      // One second: time enough for the handshake on a loaded machine, and a bound on the sends' timeouts still below
      // a fresh FORWARD_SECONDS.
      const delay = 1;
      const reader = spawn(MACHINE_PYTHON, ['-c', [
        'import select, socket, ssl, sys, time',
        'context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)',
        'context.load_cert_chain(sys.argv[1], sys.argv[2])',
        'server = socket.socket()',
        'server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)',
        'server.bind(("127.0.0.1", 0))',
        'server.listen()',
        'print("port", server.getsockname()[1], flush=True)',
        // The relay's connection is queued: its forward has begun.
        'select.select([server], [], [])',
        'time.sleep(float(sys.argv[3]))',
        'got = 0',
        // A failed handshake says why (on stderr) and is reported closed with nothing read, rather than dying silently.
        'try:',
        '    tls = context.wrap_socket(server.accept()[0], server_side=True)',
        '    while True:',
        '        data = tls.recv(1024)',
        '        if not data:',
        '            break',
        '        got += len(data)',
        '        time.sleep(0.1)',
        'except OSError as e:',
        '    print("reader:", repr(e), file=sys.stderr, flush=True)',
        'print("closed", got, flush=True)',
      ].join('\n'), path.join(trusted, 'cert.pem'), path.join(trusted, 'key.pem'), String(delay)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let said = '';
      reader.stdout!.on('data', (d: Buffer) => { said += d.toString('utf8'); });
      try {
        await waitFor(() => /^port \d+$/m.test(said), { what: 'the slow reader to listen', timeout: Duration.seconds(10) });
        const port = Number(/^port (\d+)$/m.exec(said)![1]);
        writeUrls({ ...URLS(), monitoring_webhook_slowreader: `https://live.invalid:${port}/hooks/slowreader` });
        const body = JSON.stringify({ alerts: [], pad: 'p'.repeat((1 << 20) - 40) });
        const from = output.length;
        const response = await fetch(`http://127.0.0.1:${probedPort}/monitoring_webhook_slowreader`, {
          method: 'POST', body, headers: { 'content-type': 'application/json', authorization: AUTH },
        });
        expect(response.status).toBe(502);
        await logs(/monitoring_webhook_slowreader -> live\.invalid: not delivered \(TimeoutError\)/, () => output.slice(from));
        // The relay closed the connection part way through the body: the reader got some of it, not all.
        await waitFor(() => /^closed \d+$/m.test(said), { what: 'the relay to close the slow reader', timeout: Duration.seconds(10) });
        const got = Number(/^closed (\d+)$/m.exec(said)![1]);
        expect(got).toBeGreaterThan(0);
        expect(got).toBeLessThan(body.length);
        // Each send given what was left of the deadline: no more than FORWARD_SECONDS less the receiver's delay.
        const sends = [...output.slice(from).matchAll(/^sovereign-alert-relay: probe: a TLS send within (\S+) s$/gm)].map((m) => m[1]);
        expect(sends.length).toBeGreaterThan(0);
        for (const timeout of sends) expect(Number(timeout)).toBeLessThanOrEqual(SHORT - delay);
      } finally {
        reader.kill('SIGKILL');
        writeUrls(URLS());
      }
    }, 60_000);

    test('forgets a receiver with nothing in flight, and keeps KEPT_FAILING failing ones at most: posts to ever more hosts leave no more', async () => {
      expect(ALERT_RELAY_SCRIPT).toMatch(/^KEPT_FAILING = SLOTS$/m);
      const keptFailing = slots;
      const closed = await freePort();
      const hosts = keptFailing + 8;
      const start = await counts();
      const busy = start.total - start.idleFailing;
      // Receivers that answer, each a host of its own: none is kept.
      writeUrls(Object.fromEntries(Array.from({ length: hosts }, (_, i) => [`monitoring_webhook_live${i}`, `http://h${i}.live.invalid:${receiverPort}/hooks/live${i}`])));
      for (let i = 0; i < hosts; i++) expect((await postProbed(`monitoring_webhook_live${i}`)).status).toBe(200);
      expect(received).toHaveLength(hosts);
      expect(await counts()).toEqual({ total: start.total, idleFailing: start.idleFailing, lookups: start.lookups, ...NONE_IN_FLIGHT });
      // Receivers that cannot be reached: KEPT_FAILING of them kept, the others forgotten.
      writeUrls(Object.fromEntries(Array.from({ length: hosts }, (_, i) => [`monitoring_webhook_down${i}`, `http://h${i}.live.invalid:${closed}/hooks/down${i}`])));
      try {
        for (let i = 0; i < hosts; i++) expect((await postProbed(`monitoring_webhook_down${i}`)).status).toBe(502);
      } finally {
        writeUrls(URLS());
      }
      expect(await counts()).toEqual({ total: busy + keptFailing, idleFailing: keptFailing, lookups: start.lookups, ...NONE_IN_FLIGHT });
    }, 60_000);
  });

  test("follows no redirect, not even to the same host's other path, and answers one with 502", async () => {
    for (const status of [301, 302, 303, 307, 308]) {
      answer = { status, body: () => '', headers: { location: `http://127.0.0.1:${receiverPort}/elsewhere` } };
      const response = await post('monitoring_webhook_ops');
      expect(response.status).toBe(502);
      expect(await response.text()).toBe(`127.0.0.1 answered ${status}\n`);
      await logs(new RegExp(`monitoring_webhook_ops -> 127\\.0\\.0\\.1: answered ${status}`));
    }
    expect(received.map((r) => r.url)).toEqual(Array(5).fill(TOKEN_PATH));
  });

  test("sends a URL's user and password as basic auth, as Alertmanager's own client did, not as part of the host", async () => {
    writeUrls({ monitoring_webhook_ops: `http://deploy:p%40ss%2Fw0rd@127.0.0.1:${receiverPort}${TOKEN_PATH}` });
    try {
      expect((await post('monitoring_webhook_ops')).status).toBe(200);
      expect(received).toEqual([expect.objectContaining({ url: TOKEN_PATH, authorization: `Basic ${Buffer.from('deploy:p@ss/w0rd').toString('base64')}` })]);
    } finally {
      writeUrls(URLS());
    }
  });

  test('holds SLOTS connections at most, each head HEAD_BYTES at most: RSS stays bounded, the same process forwards a post while every slot is held', async () => {
    const pid = relay.pid!;
    // VmHWM from here on is the peak of this case alone (5: reset the peak to the current RSS).
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    const before = status('VmRSS');
    const open = (head: Buffer | undefined) => {
      const socket = net.connect(relayPort, '127.0.0.1');
      const attacker = { socket, closed: false };
      socket.on('error', () => undefined);
      socket.on('close', () => { attacker.closed = true; });
      // Flowing, so that the relay's end of the connection is seen.
      socket.resume();
      if (head) socket.write(head);
      return attacker;
    };
    const attackers: Array<ReturnType<typeof open>> = [];
    try {
      // http.server alone reads 100 header lines of 64 KiB each (6 MiB a connection) before the relay's code runs: the
      // relay refuses each of these past HEAD_BYTES, unanswered.
      const huge = Buffer.from([REQUEST_LINE, ...Array.from({ length: 100 }, (_, i) => `X-${i}: ${'h'.repeat(65_000)}`), ''].join('\r\n'));
      const refused = Array.from({ length: 2 * slots }, () => open(huge));
      attackers.push(...refused);
      await waitFor(() => refused.every((a) => a.closed), { what: 'the relay to close every connection whose head is over HEAD_BYTES', timeout: Duration.millis(60_000) });
      // Then three times as many connections as there are slots, held: a head just under HEAD_BYTES that never ends, or
      // nothing at all. Each new one takes the slot of the oldest: the last SLOTS hold every slot.
      const endless = Buffer.from([REQUEST_LINE, ...Array.from({ length: 90 }, (_, i) => `X-${i}: ${'e'.repeat(headKib * 10)}`), ''].join('\r\n'));
      expect(endless.length).toBeLessThan(headKib << 10);
      const held = Array.from({ length: 3 * slots }, (_, i) => open(i % 2 ? endless : undefined));
      attackers.push(...held);
      await waitFor(() => (threads() === slots + 1 && held.filter((a) => a.closed).length === 2 * slots), { what: 'every slot held by the last connections, the older ones cut', timeout: Duration.millis(60_000) });
      const response = await post('monitoring_webhook_ops', AUTH, '{"alerts":[{"status":"firing","while":"held"}]}');
      expect(response.status).toBe(200);
      expect(received.map((r) => r.body)).toEqual(['{"alerts":[{"status":"firing","while":"held"}]}']);
      // Its slot was one held connection's: the others still hold theirs.
      expect(held.filter((a) => !a.closed).length).toBe(slots - 1);

      // The interpreter as it was, and under 128 KiB for each slot's thread, head and buffers: with http.server's own
      // limits each of the over-long heads above held MiBs. Under the unit's MemoryMax in any case.
      const peak = status('VmHWM');
      expect(peak).toBeLessThan(before + slots * 128);
      expect(peak).toBeLessThan(HELPER_MEMORY_MAX_MIB.alertRelay << 10);
      expect([relay.pid, relay.exitCode, relay.signalCode]).toEqual([pid, null, null]);
    } finally {
      for (const a of attackers) a.socket.destroy();
    }
    await waitFor(() => threads() === 1, { what: 'the held slots to be given back', timeout: Duration.millis(60_000) });
    expect((await post('monitoring_webhook_ops')).status).toBe(200);
    expect(relay.pid).toBe(pid);
    // A refused or cut connection is no error: nothing in the log.
    expect(logged).not.toContain('Traceback');
  }, 180_000);

  test('forwards FORWARDS posts at once, RECEIVER_FORWARDS of them to one receiver (a body and a connection each in memory); the next ones wait for one to end, and are delivered', async () => {
    const names = Object.keys(URLS());
    // More receivers than FORWARDS fill, each sent more posts than it takes at once.
    expect(names.length * receiverForwards).toBeGreaterThan(forwards);
    const each = receiverForwards + 1;
    const posts = names.length * each;
    holding = [];
    const answers = names.flatMap((name) => Array.from({ length: each }, (_, i) => post(name, AUTH, `{"alerts":[],"post":"${name}/${i}"}`)));
    try {
      // Every post is in the relay (a thread each), and FORWARDS of them reached the receivers, which hold them.
      await waitFor(() => (threads() === 1 + posts && received.length >= forwards), { what: 'every post in the relay, FORWARDS at the receivers', timeout: Duration.millis(60_000) });
      expect(received).toHaveLength(forwards);
      for (const name of names) expect(received.filter((r) => JSON.parse(r.body).post.startsWith(`${name}/`)).length).toBeLessThanOrEqual(receiverForwards);
    } finally {
      const held = holding;
      holding = undefined;
      held.forEach((reply) => reply());
    }
    expect((await Promise.all(answers)).map((r) => r.status)).toEqual(Array(posts).fill(200));
    expect(received.map((r) => JSON.parse(r.body).post).sort()).toEqual(names.flatMap((name) => Array.from({ length: each }, (_, i) => `${name}/${i}`)).sort());
  });

  test('a receiver that takes posts and never answers holds RECEIVER_FORWARDS forwards and RECEIVER_POSTS connections at most: another receiver is delivered to meanwhile', async () => {
    const dead = await silentReceiver();
    writeUrls({ ...URLS(), monitoring_webhook_dead: `http://127.0.0.1:${dead.port}/hooks/dead` });
    const statuses: number[] = [];
    const flood = Array.from({ length: receiverPosts + 2 }, (_, i) => post('monitoring_webhook_dead', AUTH, `{"alerts":[],"dead":${i}}`)
      .then((r) => { statuses.push(r.status); return r.status; }));
    try {
      // RECEIVER_FORWARDS posts at the dead receiver, the rest of RECEIVER_POSTS waiting in the relay, the ones past them answered.
      // Within withinForwardSeconds: the check below that its forwards are still pending relies on it.
      await waitFor(() => dead.open.size === receiverForwards && threads() === 1 + receiverPosts && statuses.length === 2,
        { what: 'the dead receiver to hold RECEIVER_FORWARDS forwards, RECEIVER_POSTS posts in the relay', timeout: withinForwardSeconds });
      expect(statuses).toEqual([503, 503]);
      await logs(/monitoring_webhook_dead -> 127\.0\.0\.1: \d+ posts already wait for it: answered 503/);
      // Meanwhile, another receiver's post is delivered, and one to a third.
      for (const name of ['monitoring_webhook_ops', 'monitoring_webhook_other0']) {
        expect((await post(name, AUTH, `{"alerts":[],"to":"${name}"}`)).status).toBe(200);
      }
      expect(received.map((r) => JSON.parse(r.body).to)).toEqual(['monitoring_webhook_ops', 'monitoring_webhook_other0']);
      // While the dead receiver's forwards are still pending: none given up by the relay yet.
      expect([dead.open.size, dead.cut, statuses.length]).toEqual([receiverForwards, 0, 2]);
    } finally {
      // Cut: each forward then fails (502), and the waiting ones with it.
      await dead.close();
      await Promise.all(flood);
      writeUrls(URLS());
    }
    expect(statuses.slice(2).every((s) => s === 502)).toBe(true);
    await logs(/monitoring_webhook_dead -> 127\.0\.0\.1: not delivered \(\w+\)/);
  }, 120_000);

  test('the bounds leave room for three receivers that never answer: a forward and slots for the others', () => {
    // What the documentation promises (ALERT_RELAY_SILENT_RECEIVERS, three): FORWARDS takes their RECEIVER_FORWARDS and
    // one more, and their waiting posts (RECEIVER_POSTS each) leave slots for the others' connections.
    expect(ALERT_RELAY_SILENT_RECEIVERS).toBeGreaterThanOrEqual(3);
    expect(ALERT_RELAY_SILENT_RECEIVERS * receiverPosts).toBeLessThan(slots);
  });

  test("three receivers that never answer leave a forward for the others: the dead man's switch ping, which goes through the relay, is delivered meanwhile", async () => {
    const dead = await Promise.all(Array.from({ length: ALERT_RELAY_SILENT_RECEIVERS }, () => silentReceiver()));
    writeUrls({ ...URLS(), ...Object.fromEntries(dead.map((d, i) => [`monitoring_webhook_dead${i}`, `http://127.0.0.1:${d.port}/hooks/dead${i}`])) });
    const each = receiverForwards + 1;
    const flood = dead.flatMap((_, i) => Array.from({ length: each }, (__, j) => post(`monitoring_webhook_dead${i}`, AUTH, `{"alerts":[],"dead":"${i}/${j}"}`)));
    try {
      // Every post in the relay, and each dead receiver holding its forwards. Within withinForwardSeconds: the check
      // below that they are still pending relies on it.
      await waitFor(() => threads() === 1 + dead.length * each && dead.reduce((n, d) => n + d.open.size, 0) === Math.min(forwards, dead.length * receiverForwards),
        { what: 'the dead receivers to hold their forwards, every post in the relay', timeout: withinForwardSeconds });
      expect((await post('monitoring_webhook_other1', AUTH, '{"alerts":[],"to":"deadman"}')).status).toBe(200);
      expect(received.map((r) => r.body)).toEqual(['{"alerts":[],"to":"deadman"}']);
      // Delivered while the dead receivers' forwards were pending, not after the relay gave one up.
      expect(dead.map((d) => [d.open.size, d.cut])).toEqual(dead.map(() => [receiverForwards, 0]));
    } finally {
      await Promise.all(dead.map((d) => d.close()));
      await Promise.all(flood);
      writeUrls(URLS());
    }
  }, 120_000);

  /**
   * FORWARDS receivers that never answer, each failed once first, then holding the failing receivers' share:
   * FAILING_FORWARDS forwards at them, FAILING_POSTS posts in the relay, the posts past those answered 503. `urls`
   * are written with theirs. Within withinForwardSeconds: a later check that their forwards are still pending relies
   * on it. `end` cuts them (their posts then fail) and writes the URLs back.
   */
  const holdFailingShare = async (urls: Record<string, string> = {}) => {
    const dead = await Promise.all(Array.from({ length: forwards }, () => silentReceiver()));
    writeUrls({ ...URLS(), ...urls, ...Object.fromEntries(dead.map((d, i) => [`monitoring_webhook_dead${i}`, `http://127.0.0.1:${d.port}/hooks/dead${i}`])) });
    const open = () => dead.reduce((n, d) => n + d.open.size, 0);
    // More posts to them than FAILING_POSTS, fewer than RECEIVER_POSTS to each.
    const each = Math.floor(failingPosts / dead.length) + 1;
    const statuses: number[] = [];
    let flood: Array<Promise<number>> = [];
    // The log of this flood alone: an earlier case's 503s must not answer for its own.
    const from = logged.length;
    const end = async () => {
      dead.forEach((d) => { d.resetting = false; });
      await Promise.all(dead.map((d) => d.close()));
      await Promise.all(flood);
      writeUrls(URLS());
    };
    try {
      expect(each).toBeLessThanOrEqual(receiverPosts);
      // Down first: each forward to them gets no answer, and each is failing from then on.
      dead.forEach((d) => { d.resetting = true; });
      expect((await Promise.all(dead.map((_, i) => post(`monitoring_webhook_dead${i}`)))).map((r) => r.status)).toEqual(dead.map(() => 502));
      // Then they take posts and never answer.
      dead.forEach((d) => { d.resetting = false; });
      flood = dead.flatMap((_, i) => Array.from({ length: each }, (__, j) => post(`monitoring_webhook_dead${i}`, AUTH, `{"alerts":[],"dead":"${i}/${j}"}`)
        .then((r) => { statuses.push(r.status); return r.status; })));
      await waitFor(() => open() === failingForwards && threads() === 1 + failingPosts && statuses.length === dead.length * each - failingPosts,
        { what: 'the failing receivers to hold FORWARDS - 1 forwards and FAILING_POSTS posts', timeout: withinForwardSeconds });
      expect(statuses).toEqual(Array(dead.length * each - failingPosts).fill(503));
      await logs(/monitoring_webhook_dead\d -> 127\.0\.0\.1: it is failing, and \d+ posts already wait for failing receivers: answered 503/, () => logged.slice(from));
    } catch (e) {
      await end();
      throw e;
    }
    return { dead, open, end };
  };

  test("receivers whose last forward got no answer share FORWARDS - 1 forwards and FAILING_POSTS posts: FORWARDS of them that never answer leave a forward for the dead man's switch ping", async () => {
    const { dead, open, end } = await holdFailingShare();
    try {
      expect((await post('monitoring_webhook_other1', AUTH, '{"alerts":[],"to":"deadman"}')).status).toBe(200);
      expect(received.map((r) => r.body)).toEqual(['{"alerts":[],"to":"deadman"}']);
      // Delivered while their forwards were pending, not after the relay gave one up.
      expect([open(), dead.map((d) => d.cut)]).toEqual([failingForwards, dead.map(() => 0)]);
    } finally {
      await end();
    }
    expect(await relayCounts()).toMatchObject(NONE_IN_FLIGHT);
  }, 120_000);

  test('posts that came in while their receivers answered are counted as failing once they fail: past FAILING_POSTS they are answered 503 at their turn, and leave the others slots', async () => {
    // RECEIVER_POSTS posts to each of FORWARDS silent receivers, all in before any forward to them has failed: every
    // slot. Counted only on the way in, none was a failing receiver's post, and all held their slots until their
    // forwards, one after another, timed out.
    const dead = await Promise.all(Array.from({ length: forwards }, () => silentReceiver()));
    writeUrls({ ...URLS(), ...Object.fromEntries(dead.map((d, i) => [`monitoring_webhook_dead${i}`, `http://127.0.0.1:${d.port}/hooks/dead${i}`])) });
    const open = () => dead.reduce((n, d) => n + d.open.size, 0);
    const cut = () => dead.reduce((n, d) => n + d.cut, 0);
    expect(dead.length * receiverPosts).toBeLessThanOrEqual(slots);
    const statuses: number[] = [];
    const from = logged.length;
    const flood = dead.flatMap((_, i) => Array.from({ length: receiverPosts }, (__, j) => post(`monitoring_webhook_dead${i}`, AUTH, `{"alerts":[],"dead":"${i}/${j}"}`)
      .then((r) => { statuses.push(r.status); return r.status; })));
    try {
      await waitFor(() => threads() === 1 + dead.length * receiverPosts && open() === forwards,
        { what: 'every post in the relay, each receiver holding its forward', timeout: withinForwardSeconds });
      expect(statuses).toEqual([]);
      // Their first forwards time out (FORWARD_SECONDS): the posts over FAILING_POSTS are answered 503, the others wait.
      const over = dead.length * (receiverPosts - 1) - failingPosts;
      expect(over).toBeGreaterThan(0);
      await waitFor(() => cut() === forwards && statuses.length === forwards + over && threads() === 1 + failingPosts,
        { what: 'the first forwards to time out, and FAILING_POSTS posts to stay', timeout: Duration.seconds(forwardSeconds * 2) });
      expect(statuses.filter((s) => s === 503)).toHaveLength(over);
      await logs(/monitoring_webhook_dead\d -> 127\.0\.0\.1: it is failing, and \d+ posts already wait for failing receivers: answered 503/, () => logged.slice(from));
      // The slots they left: another receiver is delivered to while their next forwards are pending.
      expect((await post('monitoring_webhook_other1', AUTH, '{"alerts":[],"to":"other"}')).status).toBe(200);
      expect(received.map((r) => r.body)).toEqual(['{"alerts":[],"to":"other"}']);
      expect([open(), cut()]).toEqual([failingForwards, forwards]);
    } finally {
      await Promise.all(dead.map((d) => d.close()));
      await Promise.all(flood);
      writeUrls(URLS());
    }
    expect(await relayCounts()).toMatchObject(NONE_IN_FLIGHT);
  }, 120_000);

  test('a failing receiver with posts waiting starts answering: they are delivered, and counted out of the failing posts', async () => {
    // A receiver that resets its first connection (it fails), then holds the posts it receives until released.
    let connections = 0;
    const blip = net.createServer((socket) => {
      socket.on('error', () => undefined);
      if (connections++ === 0) socket.resetAndDestroy(); else receiver.emit('connection', socket);
    });
    const blipPort = await listenOnFreePort(blip);
    writeUrls({ ...URLS(), monitoring_webhook_recovers: `http://127.0.0.1:${blipPort}/hooks/recovers` });
    const queued = receiverPosts;
    expect(queued).toBeLessThanOrEqual(failingPosts);
    const bodies = Array.from({ length: queued }, (_, i) => `{"alerts":[],"queued":${i}}`);
    let answers: Array<Promise<Response>> = [];
    try {
      expect(await relayCounts()).toMatchObject(NONE_IN_FLIGHT);
      expect((await post('monitoring_webhook_recovers')).status).toBe(502);
      holding = [];
      answers = bodies.map((body) => post('monitoring_webhook_recovers', AUTH, body));
      // Counted in the wait: a post's thread starts at its connection, and the post is counted only once its head and
      // password are read.
      await waitFor(async () => threads() === 1 + queued && received.length === receiverForwards
        && (await relayCounts()).posts === queued,
      { what: 'RECEIVER_POSTS posts to the failing receiver in the relay, RECEIVER_FORWARDS at it', timeout: Duration.seconds(20) });
      expect(await relayCounts()).toMatchObject({ posts: queued, failingPosts: queued });
    } finally {
      const held = holding ?? [];
      holding = undefined;
      held.forEach((reply) => reply());
      writeUrls(URLS());
    }
    try {
      expect((await Promise.all(answers)).map((r) => r.status)).toEqual(bodies.map(() => 200));
      expect(received.map((r) => r.body).sort()).toEqual([...bodies].sort());
      // Its answer counted its posts out of failing_posts: kept there, they would leave fewer of FAILING_POSTS to the
      // failing receivers for good, and after a few such recoveries every failing receiver's post would be answered 503.
      expect(await relayCounts()).toMatchObject(NONE_IN_FLIGHT);
    } finally {
      await new Promise<void>((resolve) => blip.close(() => resolve()));
    }
  });

  test("the dead man's switch's receiver is never failing: after a forward to it failed once, its ping is still delivered while failing receivers hold their share", async () => {
    // The ping's variable as the setup names it: the relay knows the ping by it.
    const ping = DeadMansSwitch.healthchecksIo().secretVariableNameFor(Environment.TEST);
    // A ping service that resets its first connection (a blip), then answers as the receiver above does.
    let connections = 0;
    const blip = net.createServer((socket) => {
      socket.on('error', () => undefined);
      if (connections++ === 0) socket.resetAndDestroy(); else receiver.emit('connection', socket);
    });
    const blipPort = await listenOnFreePort(blip);
    const { dead, open, end } = await holdFailingShare({ [ping]: `http://127.0.0.1:${blipPort}/ping/key` });
    try {
      // Its first forward fails (through the forward the failing ones leave); counted with the failing receivers, its
      // next would be answered 503 (or wait for their forwards).
      expect((await post(ping, AUTH, '{"alerts":[],"to":"deadman","try":1}')).status).toBe(502);
      expect((await post(ping, AUTH, '{"alerts":[],"to":"deadman","try":2}')).status).toBe(200);
      expect(received.map((r) => [r.url, r.body])).toEqual([['/ping/key', '{"alerts":[],"to":"deadman","try":2}']]);
      expect([open(), dead.map((d) => d.cut)]).toEqual([failingForwards, dead.map(() => 0)]);
    } finally {
      await end();
      await new Promise<void>((resolve) => blip.close(() => resolve()));
    }
    expect(await relayCounts()).toMatchObject(NONE_IN_FLIGHT);
  }, 120_000);

  test("the dead man's switch's ping is a receiver of its own: a webhook on the ping service's host fails and is counted failing, while the ping is delivered", async () => {
    const ping = DeadMansSwitch.healthchecksIo().secretVariableNameFor(Environment.TEST);
    // The ping service's host and port, where another webhook's path gets its connection reset.
    const service = http.createServer((req, res) => {
      if (req.url === '/hooks/beside') req.socket.resetAndDestroy(); else receive(req, res);
    });
    const port = await listenOnFreePort(service);
    writeUrls({ ...URLS(), [ping]: `http://127.0.0.1:${port}/ping/key`, monitoring_webhook_beside: `http://127.0.0.1:${port}/hooks/beside` });
    try {
      const start = await relayCounts();
      // Room to keep one more failing receiver (KEPT_FAILING), so that it shows in the count.
      expect(start.idleFailing).toBeLessThan(slots);
      expect((await post(ping, AUTH, '{"alerts":[],"to":"deadman","try":1}')).status).toBe(200);
      expect((await post('monitoring_webhook_beside')).status).toBe(502);
      expect((await relayCounts()).idleFailing).toBe(start.idleFailing + 1);
      // The ping's next post neither takes the webhook's failing away nor waits for it.
      expect((await post(ping, AUTH, '{"alerts":[],"to":"deadman","try":2}')).status).toBe(200);
      expect(await relayCounts()).toMatchObject({ ...NONE_IN_FLIGHT, idleFailing: start.idleFailing + 1 });
      expect(received.map((r) => r.url)).toEqual(['/ping/key', '/ping/key']);
    } finally {
      await new Promise<void>((resolve) => service.close(() => resolve()));
      writeUrls(URLS());
    }
  });

  test('verifies the certificate of an HTTPS receiver: a self-signed one on loopback gets nothing, and the post 502', async () => {
    const { port, handshakes, close } = await selfSignedReceiver();
    writeUrls({ ...URLS(), monitoring_webhook_selfsigned: `https://127.0.0.1:${port}/hooks/selfsigned` });
    try {
      expect((await post('monitoring_webhook_selfsigned')).status).toBe(502);
      await logs(/monitoring_webhook_selfsigned -> 127\.0\.0\.1: not delivered \(SSLCertVerificationError\)/);
      expect(received).toEqual([]);
      // The relay broke off the handshake itself: it reached the server, which heard no request.
      await waitFor(() => handshakes.length > 0, { what: 'the receiver to see the handshake refused', timeout: Duration.seconds(10) });
    } finally {
      await close();
      writeUrls(URLS());
    }
  });

  test('one receiver is a host and port: two variables with different paths to it share its RECEIVER_FORWARDS', async () => {
    const closed = await freePort();
    writeUrls({ ...URLS(), monitoring_webhook_ops_second: `http://127.0.0.1:${receiverPort}/hooks/second`, monitoring_webhook_closed: `http://127.0.0.1:${closed}/hooks/closed` });
    const names = ['monitoring_webhook_ops', 'monitoring_webhook_ops_second'];
    holding = [];
    const each = receiverForwards + 1;
    const answers = names.flatMap((name) => Array.from({ length: each }, (_, i) => post(name, AUTH, `{"alerts":[],"post":"${name}/${i}"}`)));
    try {
      await waitFor(() => threads() === 1 + names.length * each && received.length >= receiverForwards, { what: 'every post in the relay, RECEIVER_FORWARDS at the receiver', timeout: Duration.seconds(20) });
      // A forward to another receiver (one that refuses connections: every receiver here holds its posts) ends meanwhile:
      // time for a forward the relay wrongly began to arrive too.
      expect((await post('monitoring_webhook_closed')).status).toBe(502);
      expect(received).toHaveLength(receiverForwards);
    } finally {
      const held = holding;
      holding = undefined;
      held.forEach((reply) => reply());
      writeUrls(URLS());
    }
    expect((await Promise.all(answers)).map((r) => r.status)).toEqual(Array(answers.length).fill(200));
  });

  test("one receiver is its lowercased host and its port, the scheme's default when none is written, without a user or password", () => {
    // The rendered script's receiver_of, run by the machine's Python without its server (its last line): a port of 443 or
    // 80 is not one a test may listen on.
    const script = ALERT_RELAY_SCRIPT.replace(/^Server\(.*\)\.serve_forever\(\)$/m, '');
    expect(script).not.toBe(ALERT_RELAY_SCRIPT);
    const urls = [
      ['https://hooks.example/a', 'https://HOOKS.example:443/b', 'https://user:pw@hooks.example/c'],
      ['http://hooks.example/a', 'http://hooks.example:80/b'],
      ['https://hooks.example:8443/a'],
      ['http://[::1]:8080/a', 'http://[::1]:8080/b'],
      // What urlsplit refuses (a port out of range, an unclosed IPv6 literal) is a receiver of its own, never an exception.
      ['http://hooks.example:70000/a'],
      ['http://[::1/a'],
    ];
    const run = spawnSync(MACHINE_PYTHON, ['-c', `import sys, json\nsys.argv = ['relay', '127.0.0.1:0', '/nonexistent', '/nonexistent']\nexec(sys.stdin.read())\nprint(json.dumps([[repr(receiver_of(u)) for u in g] for g in ${JSON.stringify(urls)}]))`], { input: script, encoding: 'utf8', timeout: 10_000 });
    expect([run.status, run.stderr]).toEqual([0, '']);
    const keys: string[][] = JSON.parse(run.stdout);
    // One key within each group, and a different one for each group.
    for (const group of keys) expect(new Set(group).size).toBe(1);
    expect(new Set(keys.map((g) => g[0])).size).toBe(urls.length);
    expect(keys.flat().join(' ')).not.toMatch(/user|pw/);
  });

  test('bursts of large posts keep the relay within its stated bound: its unit gives it one malloc arena', async () => {
    const pid = relay.pid!;
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    const before = status('VmRSS');
    const mib = 1 << 20;
    // 16 clients posting 12 times each, bodies of 0.1 to 1 MiB, to every receiver (fewer than RECEIVER_POSTS at each): FORWARDS
    // at once in the relay, and without MALLOC_ARENA_MAX=1 each thread's freed bodies left in an arena of its own.
    const names = Object.keys(URLS());
    expect(Math.ceil(16 / names.length)).toBeLessThanOrEqual(receiverPosts);
    await Promise.all(Array.from({ length: 16 }, async (_, client) => {
      for (let i = 0; i < 12; i++) {
        const size = Math.floor(mib * (0.1 + (0.9 * (((client * 12 + i) * 37) % 100)) / 100)) - 40;
        const response = await post(names[client % names.length], AUTH, JSON.stringify({ alerts: [], pad: 'p'.repeat(size) }));
        expect(response.status).toBe(200);
      }
    }));
    expect(received).toHaveLength(16 * 12);
    // FORWARDS bodies in memory at once, each counted twice (a body and its copies while sent): measured here, 5 MiB
    // over the idle relay with one arena, 16 MiB with glibc's arena a thread. And the script's bound in any case.
    const bound = Number(/ = (\d+) MiB at most\./.exec(ALERT_RELAY_SCRIPT)![1]);
    const peak = status('VmHWM');
    expect(peak).toBeLessThan(before + forwards * 2 * 1024);
    expect(peak).toBeLessThan(bound << 10);
    expect(relay.pid).toBe(pid);
  }, 120_000);

  // Last: after every case above.
  test("no part of a URL's path or query ever reached the relay's log", () => {
    expect(logged).toContain('monitoring_webhook_ops -> 127.0.0.1');
    expect(logged).not.toMatch(/T0KEN|S1G|R0TATED/);
  });
});
