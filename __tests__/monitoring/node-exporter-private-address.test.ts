import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdktf';
import { phase3Traction } from '../../examples/phase3-traction';
import { APP_PRIVATE_IP } from '../../stacks/environment-stack';
import { Unit } from '../boundary/egress-host';
import { describeWithRealParts, isRoot, runsInCi } from '../setup/real-parts';

// Phase 3: the monitoring machine scrapes the app machine's node exporter over the private network. It listened on
// every interface (`--web.listen-address=:9100`), the public one included, kept off the internet by the Hetzner
// firewall alone (a detached firewall published the host's metrics). It now listens on loopback and the private
// address only, and waits for the address, which Hetzner's private network brings up late at boot.
// The unit's commands are run as systemd runs them, with the real node exporter, in a network namespace of their own.

const NODE_EXPORTER = '/usr/bin/prometheus-node-exporter';
const DROP_IN = '/etc/systemd/system/prometheus-node-exporter.service.d/sovereign-monitoring.conf';
const canRun = isRoot && spawnSync('unshare', ['-n', 'true']).status === 0 && spawnSync(NODE_EXPORTER, ['--version']).status === 0;

/** The app machine's node exporter drop-in in the Phase 3 example's production stack, and the address the prober scrapes. */
function appDropIn(): { unit: Unit; target: string } {
  const stacks = phase3Traction(Testing.app({ stackTraces: false }));
  const content = stacks.production.app.bundle.files().get(DROP_IN)?.content;
  if (typeof content !== 'string') throw new Error(`the app machine's bundle has no ${DROP_IN} as text`);
  const targets = stacks.production.monitoringMachine!.bundle.files().get('/etc/sovereign-monitoring/targets/nodes.json')?.content;
  return { unit: new Unit('prometheus-node-exporter.service', content), target: JSON.parse(String(targets))[0].targets[0] };
}

/** A unit's command as systemd runs it, as shell: `$$` unescaped, and a `-` prefix (failure ignored) as `|| true`. */
const asRun = (command: string) => (command.startsWith('-') ? `{ ${command.slice(1)} || true; }` : command).replace(/\$\$/g, '$');

/** Shell: prints `<label> connected`, or the error code, for a TCP connect to `address:port` within 3 s. */
const probe = (label: string, address: string, port: number) => `${process.execPath} -e "const s=require('net').connect(${port},'${address}');`
  + `s.on('connect',()=>{console.log('${label} connected');s.destroy()});s.on('error',(e)=>console.log('${label} '+e.code));setTimeout(()=>{console.log('${label} timeout');process.exit()},3000).unref()"`;

describeWithRealParts(canRun, 'node exporter on the private address', 'root, unshare and prometheus-node-exporter')('node exporter scraped over the private network', () => {
  test('listens on loopback and the private address only, and starts when the address comes up late', () => {
    const { unit, target } = appDropIn();
    const [address, port] = [APP_PRIVATE_IP, 9100];
    const pre = unit.values('Service', 'ExecStartPre');
    const start = unit.values('Service', 'ExecStart').filter((c) => c !== '');
    expect(start).toHaveLength(1);
    const PUBLIC = '203.0.113.5';
    const OTHER_PRIVATE = '10.0.1.9';
    const script = [
      'set -u',
      'ip link set lo up',
      // The public interface is up from the start; the private one comes up with no address yet.
      `ip link add eth0 type veth peer name eth0p && ip addr add ${PUBLIC}/32 dev eth0 && ip link set eth0 up`,
      'ip link add priv type veth peer name privp && ip link set priv up',
      // The unit starts (its ExecStartPre lines, then ExecStart) before the private address exists.
      `( ${[...pre.map(asRun), `exec ${asRun(start[0])}`].join(' && ')} ) >/dev/null 2>&1 & NE=$!`,
      'sleep 3',
      `ip addr add ${address}/32 dev priv && ip addr add ${OTHER_PRIVATE}/32 dev priv`,
      `for i in $(seq 200); do ${probe('x', '127.0.0.1', port)} | grep -q connected && break; sleep 0.1; done`,
      probe('loopback', '127.0.0.1', port),
      probe('private', address, port),
      probe('public', PUBLIC, port),
      probe('other-private', OTHER_PRIVATE, port),
      'kill $NE 2>/dev/null; wait',
    ].join('\n');
    const run = spawnSync('unshare', ['-n', '--kill-child', 'sh', '-c', script], { encoding: 'utf8', timeout: 60_000 });
    const seen = Object.fromEntries(run.stdout.trim().split('\n').map((l) => l.split(' ')).filter((w) => w.length === 2));
    expect(seen).toEqual({ loopback: 'connected', private: 'connected', public: 'ECONNREFUSED', 'other-private': 'ECONNREFUSED' });
    // Where it listens is where the monitoring machine scrapes it.
    expect(target).toBe(`${APP_PRIVATE_IP}:${port}`);
  });
});

// Review: the wait for the address (up to 2 minutes) ran under systemd's default start timeout of 90 s, which Debian's
// unit leaves as it is: at a boot where the private network came up late, and at a deploy's restart meanwhile,
// systemd killed the start before the wait ended.
const DEBIAN_UNIT = '/lib/systemd/system/prometheus-node-exporter.service';
(fs.existsSync(DEBIAN_UNIT) || runsInCi() ? describe : describe.skip)('node exporter\'s start timeout, with Debian\'s unit', () => {
  /** A start timeout as a unit file writes it (`180s`, `3min`, `90`), in seconds; `infinity` and 0 wait for ever. */
  const seconds = (value: string): number => {
    if (value === 'infinity' || value === '0') return Infinity;
    const m = /^(\d+)\s*(s|sec|min|m)?$/.exec(value);
    if (!m) throw new Error(`unexpected TimeoutStartSec=${value}`);
    return Number(m[1]) * (m[2] === 'min' || m[2] === 'm' ? 60 : 1);
  };

  test('covers the wait for the private address, with time left for the service to start', () => {
    const { unit } = appDropIn();
    const debian = new Unit('prometheus-node-exporter.service', fs.readFileSync(DEBIAN_UNIT, 'utf8'));
    // The drop-in is read after the unit: its value wins; with neither, systemd's default.
    const timeout = seconds([...debian.values('Service', 'TimeoutStartSec'), ...unit.values('Service', 'TimeoutStartSec')].pop() ?? '90s');
    const waits = unit.values('Service', 'ExecStartPre').map((c) => /\[ \$\$i -le (\d+) \]/.exec(c)).filter((m) => m !== null);
    expect(waits).toHaveLength(1);
    // Each round sleeps a second (and runs ip and grep): the wait takes at least that many seconds.
    expect(timeout).toBeGreaterThanOrEqual(Number(waits[0]![1]) + 30);
  });

  (spawnSync('systemd-analyze', ['--version']).status === 0 ? test : test.skip)('systemd-analyze verify reads the unit with the drop-in without a complaint about it', () => {
    const { unit } = appDropIn();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-exporter-unit-'));
    try {
      fs.copyFileSync(DEBIAN_UNIT, path.join(dir, 'prometheus-node-exporter.service'));
      fs.mkdirSync(path.join(dir, 'prometheus-node-exporter.service.d'));
      fs.writeFileSync(path.join(dir, 'prometheus-node-exporter.service.d', 'sovereign-monitoring.conf'), unit.content);
      const run = spawnSync('systemd-analyze', ['verify', '--man=no', path.join(dir, 'prometheus-node-exporter.service')],
        { encoding: 'utf8', env: { ...process.env, SYSTEMD_UNIT_PATH: `${dir}:` } });
      expect(run.stderr).not.toMatch(/TimeoutStartSec|Failed to parse|Unknown key|sovereign-monitoring\.conf/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
