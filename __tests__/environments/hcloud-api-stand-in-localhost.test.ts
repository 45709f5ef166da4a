import { spawnSync } from 'child_process';
import * as net from 'net';
import * as path from 'path';
import { openFiles, tcpAddress, tcpSockets } from '../../testing/harness/processes';
import { javascriptEntry } from '../../testing/harness/transpile-cache';
import { isRoot, testWithRealParts } from '../setup/real-parts';
import { HcloudApiStandIn, LocalhostLookup } from './hcloud-api-stand-in';

// Review: start('localhost') listened on whatever localhost resolved to, so an /etc/hosts naming another address put
// the stand-in (and the tests' tokens) there; a host with `::1 localhost` but no IPv6 failed to start it; and the port
// taken on the first address could be held by another process on the second.

const answer = (...addresses: string[]): LocalhostLookup => async () => addresses.map((address) => ({ address }));

const servers = async (endpoint: string, host: string): Promise<number> => {
  const response = await fetch(`http://${host}:${new URL(endpoint).port}/v1/servers`, { headers: { Authorization: 'Bearer test-token' } });
  return response.status;
};

/**
 * Whether this process listens on `host`:`port`: a listening socket of the kernel's table that is one of its open files.
 * Not a connection attempt: a port released here is free for another jest worker to take at once.
 */
const listensHere = (host: string, port: number): boolean => {
  const ours = new Set(openFiles('self').map((f) => f.target));
  return tcpSockets().some((s) => s.local === tcpAddress(host, port) && s.state === '0A' && ours.has(`socket:[${s.inode}]`));
};

describe("the API stand-in at localhost listens on this machine's loopback only", () => {
  test.each([
    ['another host', ['127.0.0.1', '192.0.2.10'], '192.0.2.10'],
    ['every IPv4 interface', ['0.0.0.0'], '0.0.0.0'],
    ['every interface', ['::'], '::'],
    ['a link-local IPv6 address', ['::1', 'fe80::1'], 'fe80::1'],
    ['an IPv6 address mapping another host', ['::ffff:192.0.2.10'], '::ffff:192.0.2.10'],
  ])('a resolver answer naming %s is refused, naming it and the fix, before anything listens', async (_, addresses, outside) => {
    const api = new HcloudApiStandIn({ servers: [] });
    const listen = jest.spyOn(net.Server.prototype, 'listen');
    try {
      await expect(api.start('localhost', answer(...addresses))).rejects.toThrow(
        `HcloudApiStandIn.start('localhost'): localhost resolves to ${addresses.join(', ')}, and ${outside} is not loopback (127.0.0.0/8, ::1): `
        + "tests send traffic to this machine's loopback only. Fix: map localhost to 127.0.0.1 (and ::1) in /etc/hosts, or start the stand-in at '127.0.0.1'.");
      expect(listen).not.toHaveBeenCalled();
    } finally {
      listen.mockRestore();
      await api.stop();
    }
  });

  test('any address of 127.0.0.0/8 is loopback: it listens on each on one port, and the URL names localhost', async () => {
    const api = new HcloudApiStandIn({ servers: [{ id: 1, name: 'kept', labels: {} }] });
    try {
      const endpoint = await api.start('localhost', answer('127.0.0.1', '127.0.0.2', '127.0.0.1'));
      expect(endpoint).toMatch(/^http:\/\/localhost:\d+\/v1$/);
      expect([await servers(endpoint, '127.0.0.1'), await servers(endpoint, '127.0.0.2')]).toEqual([200, 200]);
      expect(api.requests).toHaveLength(2);
    } finally {
      await api.stop();
    }
  });

  // Another process binding the port on the second address between the two binds: made to happen by binding it, for
  // real, just before the stand-in's own bind there.
  const takenOnSecondAddress = (times: number) => {
    const realListen = net.Server.prototype.listen;
    const blockers: net.Server[] = [];
    const blocked: number[] = [];
    const spy = jest.spyOn(net.Server.prototype, 'listen').mockImplementation(function (this: net.Server, ...args: any[]) {
      const [port, address] = args;
      if (address === '127.0.0.2' && port !== 0 && blocked.length < times && !blockers.includes(this)) {
        blocked.push(port);
        const blocker = net.createServer();
        blockers.push(blocker);
        blocker.listen(port, address, () => realListen.apply(this, args as any));
        return this;
      }
      return realListen.apply(this, args as any);
    });
    return {
      blocked,
      restore: async () => {
        spy.mockRestore();
        await Promise.all(blockers.map((b) => new Promise((resolve) => b.close(resolve))));
      },
    };
  };

  test("a port another process holds on the second address: a fresh port on both, the first attempt's closed", async () => {
    const api = new HcloudApiStandIn({ servers: [] });
    const taken = takenOnSecondAddress(1);
    try {
      const endpoint = await api.start('localhost', answer('127.0.0.1', '127.0.0.2'));
      const port = Number(new URL(endpoint).port);
      expect(taken.blocked).toHaveLength(1);
      expect(port).not.toBe(taken.blocked[0]);
      expect([await servers(endpoint, '127.0.0.1'), await servers(endpoint, '127.0.0.2')]).toEqual([200, 200]);
      expect([listensHere('127.0.0.1', port), listensHere('127.0.0.1', taken.blocked[0])]).toEqual([true, false]);
    } finally {
      await taken.restore();
      await api.stop();
    }
  });

  test('ports taken again and again: refused after five tries, naming the addresses and the fix, nothing left listening', async () => {
    const api = new HcloudApiStandIn({ servers: [] });
    const taken = takenOnSecondAddress(Infinity);
    try {
      await expect(api.start('localhost', answer('127.0.0.1', '127.0.0.2'))).rejects.toThrow(
        "HcloudApiStandIn.start('localhost'): 5 ports in a row were taken on one of 127.0.0.1, 127.0.0.2 once bound on another. Fix: look for a process binding many loopback ports (ss -ltnp).");
      expect(taken.blocked).toHaveLength(5);
      expect(taken.blocked.filter((port) => listensHere('127.0.0.1', port))).toEqual([]);
    } finally {
      await taken.restore();
      await api.stop();
    }
  });

  // A host with `::1 localhost` in /etc/hosts and no IPv6: a network namespace of the test's own, IPv6 off on its
  // loopback, where the stand-in runs in a child process (its plain JavaScript from the transpile cache).
  // As root a network namespace needs no user namespace (which a host may forbid); otherwise an unprivileged one maps us to root in it.
  const hasUserns = !isRoot && spawnSync('unshare', ['-r', 'true']).status === 0;
  const netns = [isRoot ? '-n' : '-rn', 'sh', '-c', 'ip link set lo up && f=/proc/sys/net/ipv6/conf/lo/disable_ipv6 && { [ ! -e $f ] || echo 1 > $f; } && exec "$@"', 'netns'];
  const withoutIpv6 = "localhost resolving to ::1 where the host has no IPv6: ::1 left out, 127.0.0.1 served; ::1 alone or asked for: refused";
  testWithRealParts(isRoot || hasUserns, withoutIpv6, 'root, or unprivileged user namespaces, for unshare of a network namespace')(withoutIpv6, () => {
    const script = `
      const { HcloudApiStandIn } = require(process.argv[1]);
      const answer = (...addresses) => async () => addresses.map((address) => ({ address }));
      const outcome = (promise) => promise.then((endpoint) => 'started at ' + endpoint, (e) => e.code ?? e.message);
      (async () => {
        const probe = require('net').createServer();
        const ipv6 = await outcome(new Promise((resolve, reject) => probe.once('error', reject).listen(0, '::1', () => { probe.close(); resolve('::1'); })));
        const api = new HcloudApiStandIn({ servers: [] });
        const endpoint = await api.start('localhost', answer('::1', '127.0.0.1'));
        const response = await fetch('http://127.0.0.1:' + new URL(endpoint).port + '/v1/servers', { headers: { Authorization: 'Bearer test-token' } });
        await api.stop();
        const alone = await outcome(new HcloudApiStandIn({}).start('localhost', answer('::1')));
        const asked = await outcome(new HcloudApiStandIn({}).start('::1'));
        console.log(JSON.stringify({ ipv6, endpoint, status: response.status, requests: api.requests.length, alone, asked }));
        process.exit(0); // a stand-in left listening by a regression would keep it running
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const entry = javascriptEntry(path.join(__dirname, 'hcloud-api-stand-in'));
    const run = spawnSync('unshare', [...netns, process.execPath, '-e', script, entry], { encoding: 'utf8', timeout: 20_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toEqual({
      ipv6: 'EADDRNOTAVAIL',
      endpoint: expect.stringMatching(/^http:\/\/localhost:\d+\/v1$/),
      status: 200,
      requests: 1,
      alone: "HcloudApiStandIn.start('localhost'): localhost resolves to ::1 only, and this host cannot listen there: ::1 (EADDRNOTAVAIL). "
        + "Fix: map localhost to 127.0.0.1 in /etc/hosts, or start the stand-in at '127.0.0.1'.",
      asked: 'EADDRNOTAVAIL',
    });
  });
});
