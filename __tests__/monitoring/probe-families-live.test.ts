import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdktf';
import { parse } from 'yaml';
import { AlertReceiver, DeadMansSwitch, Duration, Environment, MonitoringPlan, Phase, Peer, Product, UptimeCheck } from '../../lib';
import { ProductStacks } from '../../stacks';
import { synthesizedBundle } from '../../testing/bundle';
import { policy } from '../boundary/fixtures';
import { admin, backup } from '../setup/product-basics';
import { freePort } from '../setup/ports';
import { describeWithRealParts } from '../setup/real-parts';
import { waitFor } from '../../testing/harness/wait';

// The real blackbox exporter, run with the blackbox.yml a product's prober receives, asked as the rendered Prometheus
// jobs ask it (their module, their target): each family's probe, on loopback, against a service that answers on
// 127.0.0.1 alone or on ::1 alone. The exporter preferred IPv6 and fell back to IPv4 before, one probe per check:
// the family that did not answer was not probed on its own. The targets are address literals (a name resolving to
// both needs an AAAA for localhost, which this machine's /etc/hosts need not have), each in its family's job.
const available = spawnSync('prometheus-blackbox-exporter', ['--version']).status === 0;
const describeLive = describeWithRealParts(available, 'the probe-families suite', "Debian's prometheus-blackbox-exporter");

interface Job { readonly module: string; readonly family: string }

/** The test prober's check jobs of production's HTTP check, and its blackbox.yml, from a synthesized dual-stack product. */
function rendered(): { jobs: Job[]; blackbox: string } {
  const plan = new MonitoringPlan({
    uptimeChecks: [UptimeCheck.http(Environment.PRODUCTION, 'http://acme.eu/health'), UptimeCheck.http(Environment.TEST, 'https://test.acme.eu/health')],
    receivers: [AlertReceiver.webhook('ops', { hostname: 'chat.acme.eu' })],
    deadMansSwitch: DeadMansSwitch.healthchecksIo(),
  });
  const product = new Product({
    name: 'acme', phase: Phase.ONE, admin: { ...admin, cidrs: ['198.51.100.0/24', Peer.ipv6('2001:db8:1234::/48')] }, stateBucket: 'acme-state', boundary: policy, backup, monitoring: plan,
  });
  const stacks = new ProductStacks(Testing.app(), product);
  const bundle = synthesizedBundle(JSON.parse(Testing.synth(stacks.test)), 'acme-test-app');
  const prometheus = parse(bundle.files.get('/etc/sovereign-monitoring/prometheus.yml')!.content!);
  const jobs = prometheus.scrape_configs.filter((j: any) => j.metrics_path === '/probe')
    .map((j: any) => ({ module: j.params.module[0], family: j.static_configs[0].labels.ip_family, target: j.static_configs[0].targets[0] }));
  expect(jobs.map((j: any) => [j.target, j.family])).toEqual([['http://acme.eu/health', 'ipv4'], ['http://acme.eu/health', 'ipv6']]);
  return { jobs, blackbox: bundle.files.get('/etc/sovereign-monitoring/blackbox.yml')!.content! };
}

/** A health endpoint on one loopback address. */
async function serve(host: string, port: number): Promise<http.Server> {
  const server = http.createServer((_req, res) => { res.writeHead(200, { connection: 'close' }); res.end('{"status":"ok"}'); });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return server;
}
const close = (server: http.Server) => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });

describeLive('each address family is probed on its own (real blackbox exporter, loopback)', () => {
  let dir: string;
  let exporter: ChildProcess;
  let exporterPort: number;
  let servicePort: number;
  let jobs: Job[];

  beforeAll(async () => {
    const config = rendered();
    jobs = config.jobs;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'probe-families-'));
    fs.writeFileSync(path.join(dir, 'blackbox.yml'), config.blackbox);
    exporterPort = await freePort();
    servicePort = await freePort();
    exporter = spawn('prometheus-blackbox-exporter', [`--config.file=${path.join(dir, 'blackbox.yml')}`, `--web.listen-address=127.0.0.1:${exporterPort}`], { stdio: 'ignore' });
    await waitFor(async () => {
      try { return (await fetch(`http://127.0.0.1:${exporterPort}/metrics`)).ok; } catch { return false; }
    }, { what: 'the blackbox exporter', timeout: Duration.seconds(20) });
  });

  afterAll(() => {
    if (exporter?.pid !== undefined && exporter.exitCode === null) exporter.kill('SIGTERM');
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** probe_success of one job's module against a loopback target (`127.0.0.1` or `[::1]`), as Prometheus scrapes it. */
  async function probe(family: string, host: string): Promise<number> {
    const job = jobs.find((j) => j.family === family)!;
    const target = `http://${host}:${servicePort}/health`;
    const response = await fetch(`http://127.0.0.1:${exporterPort}/probe?module=${encodeURIComponent(job.module)}&target=${encodeURIComponent(target)}`);
    const body = await response.text();
    return Number(/^probe_success (\d)$/m.exec(body)![1]);
  }

  test('an IPv6 outage (the service answers on 127.0.0.1 alone) fails the IPv6 probe while the IPv4 probe passes', async () => {
    const server = await serve('127.0.0.1', servicePort);
    try {
      expect(await probe('ipv4', '127.0.0.1')).toBe(1);
      expect(await probe('ipv6', '[::1]')).toBe(0);
    } finally {
      await close(server);
    }
  });

  test('an IPv4 outage (the service answers on ::1 alone) fails the IPv4 probe while the IPv6 probe passes', async () => {
    const server = await serve('::1', servicePort);
    try {
      expect(await probe('ipv4', '127.0.0.1')).toBe(0);
      expect(await probe('ipv6', '[::1]')).toBe(1);
    } finally {
      await close(server);
    }
  });

  test('neither module falls back to the other family', async () => {
    const v4 = await serve('127.0.0.1', servicePort);
    const v6 = await serve('::1', servicePort);
    try {
      expect(await probe('ipv4', '[::1]')).toBe(0);
      expect(await probe('ipv6', '127.0.0.1')).toBe(0);
    } finally {
      await Promise.all([close(v4), close(v6)]);
    }
  });
});
