import * as fs from 'fs';
import * as net from 'net';
import { Duration } from '../../lib/core/duration';
import { waitFor } from './wait';

/**
 * Starts `server` on 127.0.0.1 at a port the kernel picks and resolves with that port: the race-free way for
 * a server in this process (nothing can take the port between choosing and listening).
 */
export function listenOnFreePort(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

/**
 * A TCP port on 127.0.0.1 for a server in another process (sshd, PostgreSQL, Prometheus), which cannot be
 * handed a listening socket or asked for the port it took.
 *
 * Why not "listen on 0, close, pass the number on": the kernel hands the same ephemeral ports to every
 * `listen(0)` and outgoing connection on the machine, so another test's client may take the port before the
 * daemon binds it. These ports come from below the kernel's ephemeral range, which the kernel never assigns
 * on its own; each process walks that range from its own offset and never hands out a port twice, and a port
 * that anything listens on is skipped.
 */
export async function freePort(): Promise<number> {
  const { low, high } = reservedRange();
  const span = high - low;
  for (let tries = 0; tries < span; tries++) {
    const port = low + ((processOffset + cursor++) % span);
    if (handedOut.has(port) || FETCH_BAD_PORTS.has(port)) continue;
    if (await bindable(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free TCP port on 127.0.0.1 between ${low} and ${high}`);
}

const handedOut = new Set<number>();
// The Fetch standard's "bad ports" at or above 10000 (amanda's 10080): Node's fetch refuses them before connecting
// ("bad port"), so a test that fetches a server or a closed port there failed with that, not with what it checks.
const FETCH_BAD_PORTS = new Set([10080]);
let cursor = 0;
// Different jest workers and concurrent runs start far apart in the range.
const processOffset = (process.pid * 7919) % 10_000;

function reservedRange(): { low: number; high: number } {
  let ephemeralLow = 32768;
  let ephemeralHigh = 60999;
  try {
    [ephemeralLow, ephemeralHigh] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  } catch {
    // Not Linux: the kernel's usual range is assumed.
  }
  // Below the ephemeral range when it leaves room there (the usual case), above it otherwise.
  return ephemeralLow - 1024 >= 10_000 ? { low: 10_000, high: ephemeralLow } : { low: ephemeralHigh + 1, high: 65_536 };
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.unref();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/**
 * Resolves once something accepts connections on the port, or rejects after `timeout`, or as soon as `failed`
 * (asked before each try) says why the server will never listen, such as its process having exited.
 */
export async function waitForPort(port: number, timeout = Duration.seconds(10), failed: () => string | undefined = () => undefined): Promise<void> {
  await waitFor(async () => {
    const why = failed();
    if (why) throw new Error(why);
    return new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
  }, { timeout, interval: Duration.millis(100), what: `something to listen on 127.0.0.1:${port}` });
}
