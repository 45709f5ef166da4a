import { ChildProcess, spawn } from 'child_process';
import * as net from 'net';
import { peerEnvironment, setListeningAddress } from '../../../testing/provider/peer-environment';

// A reattached stand-in reads HCLOUD_TOKEN and the endpoint from the process on the other end of each
// connection, and remembers which process that was. Clients here are real processes on loopback, each
// with its own SOVEREIGN_PEER_MARK; what they print is the local port they connected from.

const CLIENT = `
const net = require('net');
const socket = net.connect({ host: '127.0.0.1', port: Number(process.argv[1]), localAddress: '127.0.0.1', localPort: Number(process.argv[2]) || undefined });
socket.on('connect', () => process.stdout.write(socket.localPort + '\\n'));
socket.on('close', () => process.exit(0));
socket.on('error', (e) => { if (e.code !== 'ECONNRESET') { process.stderr.write(e.message); process.exit(1); } });
`;

describe('peerEnvironment (linux /proc)', () => {
  const server = net.createServer();
  const accepted: net.Socket[] = [];
  const clients: ChildProcess[] = [];
  let port = 0;

  beforeAll(async () => {
    server.on('connection', (s) => accepted.push(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    for (const c of clients) c.kill('SIGKILL');
    for (const s of accepted) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  /** Starts a client process marked `mark`, from `localPort` (any when 0); resolves once the server accepted it. */
  async function connect(mark: string, localPort = 0): Promise<{ child: ChildProcess; peer: string; socket: net.Socket }> {
    const child = spawn(process.execPath, ['-e', CLIENT, String(port), String(localPort)], { env: { ...process.env, SOVEREIGN_PEER_MARK: mark }, stdio: ['ignore', 'pipe', 'pipe'] });
    clients.push(child);
    const from = await new Promise<number>((resolve, reject) => {
      child.stdout!.once('data', (d) => resolve(Number(String(d).trim())));
      child.once('exit', (code) => reject(new Error(`client ${mark} exited ${code} before connecting`)));
    });
    return { child, peer: `ipv4:127.0.0.1:${from}`, socket: await acceptedFrom(from) };
  }

  /** The server's open end of the connection from `remotePort`, once it accepted it (a socket keeps its peer's port after it closed). */
  function acceptedFrom(remotePort: number): Promise<net.Socket> {
    const open = (s: net.Socket) => !s.destroyed && s.remotePort === remotePort;
    const known = accepted.find(open);
    if (known) return Promise.resolve(known);
    return new Promise((resolve) => {
      const onConnection = (s: net.Socket) => {
        if (!open(s)) return;
        server.off('connection', onConnection);
        resolve(s);
      };
      server.on('connection', onConnection);
    });
  }

  /** Resets the connection from the server's side (no TIME_WAIT on either end: its port is free at once); resolves when the client is gone. */
  async function closeFromServer(client: { child: ChildProcess; socket: net.Socket }): Promise<void> {
    const exited = new Promise((resolve) => client.child.once('exit', resolve));
    client.socket.resetAndDestroy();
    await exited;
  }

  test('names the process on the other end of each connection, asked again and again', async () => {
    const a = await connect('a');
    const b = await connect('b');
    for (let i = 0; i < 3; i++) {
      expect(peerEnvironment(a.peer)?.SOVEREIGN_PEER_MARK).toBe('a');
      expect(peerEnvironment(b.peer)?.SOVEREIGN_PEER_MARK).toBe('b');
    }
    await closeFromServer(a);
    await closeFromServer(b);
  });

  test('forgets a process once its connection is gone, also when another process reuses its port', async () => {
    const first = await connect('first');
    expect(peerEnvironment(first.peer)?.SOVEREIGN_PEER_MARK).toBe('first');
    const localPort = Number(first.peer.split(':').pop());
    await closeFromServer(first);
    expect(peerEnvironment(first.peer)).toBeUndefined();

    const second = await connect('second', localPort);
    expect(second.peer).toBe(first.peer);
    expect(peerEnvironment(second.peer)?.SOVEREIGN_PEER_MARK).toBe('second');
    await closeFromServer(second);
  });

  test("names its own client when another stand-in's client has the same local port (two test workers)", async () => {
    // Another worker's stand-in, and a Terraform of that worker connected to it from the port our client uses.
    const other = net.createServer();
    const otherSockets: net.Socket[] = [];
    other.on('connection', (s) => otherSockets.push(s));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const ours = await connect('ours');
    const localPort = Number(ours.peer.split(':').pop());
    const theirs = spawn(process.execPath, ['-e', CLIENT, String((other.address() as net.AddressInfo).port), String(localPort)],
      { env: { ...process.env, SOVEREIGN_PEER_MARK: 'theirs' }, stdio: ['ignore', 'pipe', 'pipe'] });
    clients.push(theirs);
    expect(Number(String(await new Promise((resolve) => theirs.stdout!.once('data', resolve))).trim())).toBe(localPort);
    try {
      // A lookup by the client's port alone finds whichever /proc/net/tcp lists first (theirs in about a third of runs here).
      setListeningAddress('127.0.0.1', port);
      expect(peerEnvironment(ours.peer)?.SOVEREIGN_PEER_MARK).toBe('ours');
    } finally {
      theirs.kill('SIGKILL');
      otherSockets.forEach((s) => s.destroy());
      await new Promise((resolve) => other.close(resolve));
      await closeFromServer(ours);
    }
  });
});
