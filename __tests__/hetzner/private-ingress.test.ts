import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TerraformStack, Testing } from 'cdktf';
import { HcloudProvider } from '../../generated/providers/hcloud/provider';
import { Environment, Location, Machine, Port, PostgresDatabase, PrivateIngress, PrivateNetwork, SecretVariable, ServerType, SshKey } from '../../lib';
import { METADATA_GUARD_CHECK, METADATA_GUARD_TABLE } from '../../lib/backup/private/metadata-guard-check';
import { BASE_PART, ensureBasePart, METADATA_GUARD_RULESET, METADATA_GUARD_UNIT } from '../../lib/backup/private/tooling';
import { HOST_TABLES_DIR, hostTableDefinition } from '../../lib/hetzner/private/nftables-table';
import { PRIVATE_INGRESS_CHECK } from '../../lib/hetzner/private/private-ingress-check';
import { HOST_TABLES_LOADER_METRIC } from '../../lib/hetzner/private/table-check';
import {
  PRIVATE_INGRESS_DEFINITION, PRIVATE_INGRESS_NFTABLES_DROP_IN, PRIVATE_INGRESS_NFTABLES_LOADER, PRIVATE_INGRESS_RULESET, PRIVATE_INGRESS_UNIT,
} from '../../lib/hetzner/private/private-ingress-table';
import { phase3Traction } from '../../examples/phase3-traction';
import { bootTransaction, bundleOf, systemdTestAvailable } from '../boundary/boot-transaction';
import { DEBIAN_NFTABLES_CONF, nftablesService, noNftablesService, Unit } from '../boundary/egress-host';
import { synthExample } from '../examples/synth-examples';
import { refusal } from '../boundary/refusal';
import { describeWithRealParts, isRoot, testWithRealParts } from '../setup/real-parts';
import { synthesizedBundle } from '../../testing/bundle';

// Hetzner's Cloud Firewalls do not filter private networks: every server in the network reached every port of every
// other one (PostgreSQL, node exporter, sshd). A machine in a private network now loads a table that admits only the
// peers the constructs declared. Asked of real nftables in network namespaces of the test's own: the machine, and the
// private network with the machine's peers on it.

const APP = '10.0.1.2';
const MONITORING = '10.0.1.3';
const WORKER = '10.0.1.4';
const OTHER = '10.0.1.9';

/** An environment: the app machine (PostgreSQL, reached by the worker), a worker, and a monitoring machine that reads the app's node exporter. */
function environment() {
  const stack = new TerraformStack(Testing.app(), 'acme-production');
  new HcloudProvider(stack, 'hcloud', {});
  const network = new PrivateNetwork(stack, 'Network', { environment: Environment.PRODUCTION, subnetRange: '10.0.1.0/24' });
  const machine = (id: string, role: string, privateIp: string) => new Machine(stack, id, {
    environment: Environment.PRODUCTION, role, serverType: ServerType.CX23, location: Location.FSN1, sshKeys: [SshKey.fromName('admin')],
    adminCidrs: ['203.0.113.0/24'], privateNetwork: network, privateIp,
  });
  const app = machine('App', 'app', APP);
  const worker = machine('Worker', 'worker', WORKER);
  const monitoring = machine('Monitoring', 'monitoring', MONITORING);
  new PostgresDatabase(stack, 'Database', {
    machine: app, privateAddress: APP, privateSubnet: '10.0.1.0/24', password: new SecretVariable(stack, 'pw', { description: 'x' }), networkClients: [worker],
    withoutBackup: 'demo data, reloaded from fixtures on every deploy',
  });
  PrivateIngress.allowTcp(app, monitoring, 9100, 'node exporter, scraped by the monitoring machine');
  PrivateIngress.allowTcp(app, worker, 8080, 'the app container, published on 8080');
  return { stack, app, worker, monitoring };
}

const text = (m: Machine, file: string) => {
  const content = m.bundle.files().get(file)?.content;
  if (typeof content !== 'string') throw new Error(`${m.node.path} has no ${file} as text`);
  return content;
};

/**
 * Phase 3's production stack, as `cdktf synth` writes it: synthesized once for the file (about 0.7 CPU-s a synth), as
 * the tests only read it (`bundleOf` parses a fresh bundle from it each time).
 */
let phase3Stack: any;
const phase3Production = (): any => (phase3Stack ??= synthExample(phase3Traction).stacks['phase3-traction-production']);

describe('PrivateIngress: what the constructs declare is what the table admits', () => {
  test("EnvironmentMonitoring admits the monitoring machine to the app's node exporter, and nothing else reaches the app", () => {
    const production = phase3Traction(Testing.app({ stackTraces: false })).production;
    expect(PrivateIngress.rulesFor(production.app).map((r) => ({ from: r.from, port: r.port })))
      .toEqual([{ from: production.monitoringMachine, port: 9100 }]);
    const ruleset = text(production.app, PRIVATE_INGRESS_RULESET);
    expect(ruleset.split('\n').filter((l) => /^\s+ip saddr/.test(l)).map((l) => l.trim())).toEqual([
      `ip saddr ${MONITORING} tcp dport 9100 accept`, `ip saddr ${MONITORING} meta l4proto tcp ct original proto-dst 9100 accept`]);
    // The monitoring machine runs no service for the network: its table admits no one.
    expect(PrivateIngress.rulesFor(production.monitoringMachine!)).toEqual([]);
    expect(text(production.monitoringMachine!, PRIVATE_INGRESS_RULESET)).toMatch(/ip daddr != 10\.0\.1\.3 accept/);
  });

  test('PostgresDatabase admits its networkClients on its port, in the table and in pg_hba.conf; a peer declared later on the port too', () => {
    const { app, monitoring } = environment();
    const ruleset = text(app, PRIVATE_INGRESS_RULESET);
    expect(ruleset).toContain(`ip saddr ${WORKER} tcp dport 5432 accept`);
    // Forwarded to a container, judged by the connection's original destination port.
    expect(ruleset).toContain(`ip saddr ${WORKER} meta l4proto tcp ct original proto-dst 5432 accept`);
    const hbaHosts = () => text(app, '/etc/postgresql/15/main/pg_hba.conf').split('\n').filter((l) => /^host\s+app\s/.test(l)).map((l) => l.split(/\s+/)[3]);
    // The monitoring machine reaches 9100 only: it is no client of the database.
    expect(hbaHosts()).toEqual(['127.0.0.1/32', '::1/128', `${APP}/32`, `${WORKER}/32`]);
    PrivateIngress.allowTcp(app, monitoring, 5432, 'a PostgreSQL exporter on the monitoring machine');
    expect(hbaHosts()).toEqual(['127.0.0.1/32', '::1/128', `${APP}/32`, `${WORKER}/32`, `${MONITORING}/32`]);
  });

  test('a client whose private address Hetzner chooses is admitted by pg_hba.conf at the address Terraform fills in', () => {
    const stack = new TerraformStack(Testing.app(), 'acme-production');
    new HcloudProvider(stack, 'hcloud', {});
    const network = new PrivateNetwork(stack, 'Network', { environment: Environment.PRODUCTION, subnetRange: '10.0.1.0/24' });
    const machine = (id: string, privateIp?: string) => new Machine(stack, id, {
      environment: Environment.PRODUCTION, role: id.toLowerCase(), serverType: ServerType.CX23, location: Location.FSN1, sshKeys: [SshKey.fromName('admin')],
      adminCidrs: ['203.0.113.0/24'], privateNetwork: network, privateIp,
    });
    const app = machine('App', APP);
    const worker = machine('Worker');
    new PostgresDatabase(stack, 'Database', {
      machine: app, privateAddress: APP, privateSubnet: '10.0.1.0/24', password: new SecretVariable(stack, 'pw', { description: 'x' }), networkClients: [worker],
      withoutBackup: 'demo data, reloaded from fixtures on every deploy',
    });
    const hba = synthesizedBundle(JSON.parse(Testing.synth(stack, true)), app.serverName).files.get('/etc/postgresql/15/main/pg_hba.conf')!;
    expect(hba.template).toMatch(/^host\s+app\s+app\s+\$\{tolist\(hcloud_server\.Worker_\w+\.network\)\.0\.ip\}\/32\s+scram-sha-256$/m);
  });

  test('a peer outside the private network, or the machine itself, is refused with the path and the fix', () => {
    const { stack, app } = environment();
    const loner = new Machine(stack, 'Loner', {
      environment: Environment.PRODUCTION, role: 'loner', serverType: ServerType.CX23, location: Location.FSN1, sshKeys: [SshKey.fromName('admin')], adminCidrs: ['203.0.113.0/24'],
    });
    PrivateIngress.allowTcp(app, loner, 8080, 'the loner');
    expect(app.node.validate().join('\n')).toMatch(/acme-production\/App\.privateIngress: 'acme-production\/Loner on TCP 8080 \(the loner\)' is not allowed: acme-production\/Loner is in no private network.*Fix: attach both machines/);
    expect(refusal(() => PrivateIngress.allowTcp(app, app, 8080, 'itself'))).toMatch(/acme-production\/App\.privateIngress\.from: .*a machine reaches itself over loopback/);
    expect(refusal(() => PrivateIngress.allowTcp(app, loner, 8080, 'two\nlines'))).toMatch(/purpose.*one-line comment/);
  });

  test('a machine in a private network with no bundle part of its own loads the table too, and what is declared for it is in it', () => {
    const { worker, app } = environment();
    // The worker runs nothing of the library's: before, it had no bundle, no table, and a declaration enforced nothing.
    expect(worker.bundle.partNames).toContain('private-network ingress');
    expect(worker.rollout).toBeDefined();
    expect(text(worker, PRIVATE_INGRESS_RULESET)).toMatch(/ip daddr != 10\.0\.1\.4 accept[\s\S]*counter drop/);
    PrivateIngress.allowTcp(worker, app, Port.of(7000), 'the job queue, fed by the app');
    expect(text(worker, PRIVATE_INGRESS_RULESET)).toContain(`ip saddr ${APP} tcp dport 7000 accept`);
    expect(worker.node.validate()).toEqual([]);
  });

  test('such a machine is rolled out over SSH, so it needs adminCidrs; a machine outside any network still gets no bundle of its own', () => {
    const { stack } = environment();
    const network = new PrivateNetwork(stack, 'Other', { environment: Environment.PRODUCTION, name: 'acme-production-other', subnetRange: '10.0.2.0/24' });
    const base = { environment: Environment.PRODUCTION, serverType: ServerType.CX23, location: Location.FSN1, sshKeys: [SshKey.fromName('admin')] };
    const unreachable = new Machine(stack, 'Batch', { ...base, role: 'batch', privateNetwork: network });
    expect(unreachable.node.validate().join('\n')).toMatch(/acme-production\/Batch\.adminCidrs: .*its bundle \(.*private-network ingress.*\) is rolled out over SSH/);
    const loner = new Machine(stack, 'Loner', { ...base, role: 'loner', adminCidrs: ['203.0.113.0/24'] });
    expect(loner.rollout).toBeUndefined();
  });

  // The loader finds a damaged definition's live table by its part's name, `-` as `_`: each part's loader copy, definition,
  // drop-in and table must share it. All three host tables, on a machine that has them all.
  test("every host table's loader copy, definition, drop-in and table share one name, '-' as '_'", () => {
    const bundle = bundleOf(phase3Production(), 'phase3-traction-production-app');
    const files = new Map(bundle.parts.flatMap((p) => p.files).map((f) => [f.path, f.content ?? '']));
    const names = [...files.keys()].filter((f) => f.startsWith(`${HOST_TABLES_DIR}/`)).map((f) => path.basename(f)).sort();
    expect(names).toEqual(['sovereign-egress', 'sovereign-metadata-guard', 'sovereign-private-ingress']);
    for (const name of names) {
      const loader = `/usr/local/sbin/${name}-nftables`;
      expect(files.get(loader)).toBe(files.get(PRIVATE_INGRESS_NFTABLES_LOADER));
      expect(files.get(`/etc/systemd/system/nftables.service.d/zz-${name}.conf`)).toContain(`ExecStart=${loader} start`);
      expect([...files.values()].some((c) => new RegExp(`^table (ip|inet) ${name.replace(/-/g, '_')} \\{$`, 'm').test(c))).toBe(true);
    }
  });

  test('a port is a Port or a number, never a range', () => {
    const { app, worker } = environment();
    PrivateIngress.allowTcp(app, worker, Port.of(6379), 'redis');
    expect(PrivateIngress.rulesFor(app).map((r) => r.port)).toContain(6379);
    expect(refusal(() => PrivateIngress.allowTcp(app, worker, Port.range(8000, 8080), 'a range')))
      .toMatch(/acme-production\/App\.privateIngress\.port: '8000-8080' is not allowed: a peer is admitted to one port, and this is a range.*Fix: pass one port of it, such as Port\.of\(8000\)/);
    expect(refusal(() => PrivateIngress.allowTcp(app, worker, 70000, 'too high'))).toMatch(/App\.privateIngress\.port: '?70000'? is not allowed/);
  });

  test("a PostgresDatabase's networkClients are refused under its own prop: the database's machine, a machine outside the network", () => {
    const { stack, worker, monitoring } = environment();
    const loner = new Machine(stack, 'Loner', {
      environment: Environment.PRODUCTION, role: 'loner', serverType: ServerType.CX23, location: Location.FSN1, sshKeys: [SshKey.fromName('admin')], adminCidrs: ['203.0.113.0/24'],
    });
    const database = (id: string, machine: Machine, privateAddress: string, networkClients: Machine[]) => () => new PostgresDatabase(stack, id, {
      machine, privateAddress, privateSubnet: '10.0.1.0/24', password: new SecretVariable(stack, `${id}pw`, { description: 'x' }), networkClients,
      withoutBackup: 'demo data, reloaded from fixtures on every deploy',
    });
    expect(refusal(database('Own', worker, WORKER, [monitoring, worker]))).toMatch(/acme-production\/Own\.networkClients\[1\]: 'acme-production\/Worker' is not allowed: it is the database's own machine.*Fix: list only the other machines/);
    // Refused before anything was declared: the monitoring machine, listed first, was not admitted to the worker.
    expect(PrivateIngress.rulesFor(worker)).toEqual([]);
    expect(refusal(database('Outside', monitoring, MONITORING, [loner]))).toMatch(/acme-production\/Outside\.networkClients\[0\]: 'acme-production\/Loner' is not allowed: acme-production\/Loner is in no private network.*Fix: attach both machines/);
  });
});

const canRun = isRoot && spawnSync('unshare', ['-n', 'nft', 'list', 'ruleset']).status === 0;

describeWithRealParts(canRun, 'the private-network ingress table', 'root, unshare and nft')('the table, loaded by its unit in network namespaces', () => {
  let dir: string | undefined;
  afterEach(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

  /**
   * Shell: prints `<label> connected`, or the error code, or `timeout` (1.5 s), for each TCP connect of `connects`
   * (`[label, from, address, port]`), all at once from one process: a round's dropped connects wait out their 1.5 s
   * together, not one after the other.
   */
  const probes = (connects: Array<[string, string, string, number]>) => `${process.execPath} -e "const n=require('net');`
    + `for(const [l,f,a,p] of [${connects.map(([label, from, address, port]) => `['${label}','${from}','${address}',${port}]`).join(',')}]){`
    + `const s=n.connect({port:p,host:a,localAddress:f});let said=false;const say=(r)=>{if(!said){said=true;console.log(l+' '+r);s.destroy()}};`
    + `s.on('connect',()=>say('connected'));s.on('error',(e)=>say(e.code));setTimeout(()=>say('timeout'),1500).unref()}"`;
  /** Shell: the same for one TCP connect from `from` to `address:port`. */
  const probe = (label: string, from: string, address: string, port: number) => probes([[label, from, address, port]]);

  /**
   * The app machine with the backup tooling, and what its host tables' loading reads (the loaders, the definitions, the
   * rulesets they print) moved into a directory of the test's own, with Debian's nftables.conf beside them.
   */
  const hostTablesIn = (prefix: string) => {
    const { app } = environment();
    ensureBasePart(app);
    const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    dir = root;
    const paths = [...app.bundle.files().keys()];
    const moved = paths.filter((p) => p.startsWith(`${HOST_TABLES_DIR}/`) || p.endsWith('-nftables') || [METADATA_GUARD_RULESET, PRIVATE_INGRESS_RULESET].includes(p));
    const local = (content: string) => moved.reduce((c, p) => c.split(p).join(path.join(root, p)), content);
    for (const p of moved) {
      fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
      fs.writeFileSync(path.join(root, p), local(text(app, p)), { mode: 0o755 });
    }
    const conf = path.join(root, 'nftables.conf');
    fs.writeFileSync(conf, DEBIAN_NFTABLES_CONF);
    return { app, root, paths, local, conf };
  };
  /** The loader's environment for what `hostTablesIn` moved to `root`: its definitions, its lock, the parts' copies of it (not the machine's own). */
  const hostTablesEnv = (root: string, conf: string) => `SOVEREIGN_NFTABLES_CONF=${conf} SOVEREIGN_HOST_TABLES=${path.join(root, HOST_TABLES_DIR)} SOVEREIGN_HOST_TABLES_LOCK=${root}/lock `
    + `SOVEREIGN_HOST_TABLES_LOADERS=${path.join(root, '/usr/local/sbin')}`;

  test('the monitoring machine reaches node exporter, the worker PostgreSQL and a published container port; any other private address nothing; after a reload, on a second boot, through systemctl restart, reload and stop of nftables too, the table never missing', () => {
    const { app } = environment();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'private-ingress-'));
    const ruleset = path.join(dir, 'ingress.nft');
    fs.writeFileSync(ruleset, text(app, PRIVATE_INGRESS_RULESET));
    const unit = new Unit(PRIVATE_INGRESS_UNIT, text(app, `/etc/systemd/system/${PRIVATE_INGRESS_UNIT}`));
    const [start] = unit.values('Service', 'ExecStart').map((c) => c.split(PRIVATE_INGRESS_RULESET).join(ruleset));
    const [reload] = unit.values('Service', 'ExecReload').map((c) => c.split(PRIVATE_INGRESS_RULESET).join(ruleset));
    // Debian's nftables.service, as `systemctl restart nftables` runs it with the drop-in merged: ExecStop, ExecStart
    // (its nftables.conf, which flushes the ruleset first), ExecStartPost; a reload its ExecReload, a stop its ExecStop.
    const nftablesConf = path.join(dir, 'nftables.conf');
    fs.writeFileSync(nftablesConf, DEBIAN_NFTABLES_CONF);
    // The loader the drop-in runs, and the table's definition it loads, with their paths moved into the test's directory.
    const loader = path.join(dir, 'nftables-loader');
    const local = (content: string) => content.split(PRIVATE_INGRESS_RULESET).join(ruleset).split(PRIVATE_INGRESS_NFTABLES_LOADER).join(loader);
    const tables = path.join(dir, 'host-tables');
    fs.mkdirSync(tables);
    for (const [file, at] of [[PRIVATE_INGRESS_NFTABLES_LOADER, loader], [PRIVATE_INGRESS_DEFINITION, path.join(tables, 'sovereign-private-ingress')]]) {
      const content = app.bundle.files().get(file)?.content;
      if (content !== undefined) fs.writeFileSync(at, local(String(content)), { mode: 0o755 });
    }
    // Without the drop-in (before it existed), nftables.service runs its own commands alone.
    const nftables = nftablesService(String(app.bundle.files().get(PRIVATE_INGRESS_NFTABLES_DROP_IN)?.content ?? ''), nftablesConf);
    const loaderEnv = `env SOVEREIGN_NFTABLES_CONF=${nftablesConf} SOVEREIGN_HOST_TABLES=${tables} SOVEREIGN_HOST_TABLES_LOCK=${dir}/host-tables.lock`;
    const inMachine = (commands: string[]) => commands.map((c) => `nsenter -t $M -n ${loaderEnv} ${local(c)}`).join(' && ');
    const nftablesRestart = inMachine(nftables.restart);
    const nftablesReload = inMachine(nftables.reload);
    const nftablesStop = inMachine(nftables.stop);
    // Another process of the machine lists the table without pause while nftables.service restarts and reloads 10 times.
    const watched = [
      `( polls=0; missing=0; : >${dir}/polling; while [ ! -e ${dir}/watched ]; do polls=$((polls+1)); `
        + `nsenter -t $M -n nft list table ip sovereign_private_ingress >/dev/null 2>&1 || missing=$((missing+1)); done; echo "polls $polls missing $missing" >${dir}/watch.out ) & W=$!`,
      `until [ -e ${dir}/polling ]; do :; done`,
      `for i in 1 2 3 4 5 6 7 8 9 10; do { ${nftablesRestart} && ${nftablesReload}; } >/dev/null 2>&1 || echo "watch:round-$i failed"; done`,
      `touch ${dir}/watched; wait $W; awk '{ print "watch:polls " $2; print "watch:missing " $4 }' ${dir}/watch.out`,
    ].join('\n');
    const node = process.execPath;
    /** Shell: waits up to 30 s for `file` in the test's directory, printing `<label> not-ready` if it never comes. */
    const waitFor = (file: string, label: string) => `i=0; until [ -e ${dir}/${file} ]; do i=$((i+1)); [ $i -le 300 ] || { echo '${label} not-ready'; break; }; sleep 0.1; done`;
    // From the private network: the monitoring machine, the worker and another server of the network, each with its address.
    const checks = (round: string) => [
      probes([
        [`${round}:monitoring-9100`, MONITORING, APP, 9100], [`${round}:worker-5432`, WORKER, APP, 5432],
        [`${round}:other-9100`, OTHER, APP, 9100], [`${round}:other-5432`, OTHER, APP, 5432], [`${round}:other-22`, OTHER, APP, 22],
        [`${round}:monitoring-22`, MONITORING, APP, 22], [`${round}:worker-9100`, WORKER, APP, 9100],
        // A port published to a container (Docker's DNAT), which input never sees: the declared peer only.
        [`${round}:worker-8080`, WORKER, APP, 8080], [`${round}:other-8080`, OTHER, APP, 8080],
      ]),
      // A container on the machine reaches the machine's private address over its bridge, not over the private network.
      `nsenter -t $C -n ${probe(`${round}:container-9100`, '172.17.0.2', APP, 9100)}`,
      // The machine's own connections into the network get their answers.
      // The peer's server is ready before the probe, and ends with its first connection (or is ended after the probe).
      `nsenter -t $N -n ${node} -e "const v=require('net').createServer((s)=>{s.end();v.close()}).listen(7000,'${OTHER}',()=>require('fs').writeFileSync('${dir}/${round}-outbound-ready',''))" & O=$!; `
        + `${waitFor(`${round}-outbound-ready`, `${round}:outbound-server`)}; nsenter -t $M -n ${probe(`${round}:outbound`, APP, OTHER, 7000)}; `
        + `i=0; while kill -0 $O 2>/dev/null && [ $i -lt 100 ]; do i=$((i+1)); sleep 0.1; done; { kill $O; wait $O; } 2>/dev/null`,
      `nsenter -t $M -n nft list table ip sovereign_private_ingress 2>/dev/null | grep -c 'tcp dport' | sed 's/^/${round}:rules /'`,
    ].map((c) => (c.startsWith('nsenter') ? c : `nsenter -t $N -n ${c}`));
    const script = [
      'set -u',
      // Everything started here lives until the script ends it, however long the rounds take on a loaded machine.
      "P=''; trap 'kill $P 2>/dev/null' EXIT; trap 'exit 1' TERM INT",
      // The machine ($M) and the private network ($N), joined by a veth pair; both namespaces end with the script.
      'unshare -n sleep infinity & M=$!; unshare -n sleep infinity & N=$!; P="$M $N"',
      'for i in $(seq 200); do [ "$(readlink /proc/$M/ns/net)" != "$(readlink /proc/self/ns/net)" ] && [ "$(readlink /proc/$N/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break; sleep 0.1; done',
      'ip link add priv type veth peer name net && ip link set priv netns $M && ip link set net netns $N',
      `nsenter -t $M -n sh -c "ip link set lo up && ip addr add ${APP}/24 dev priv && ip link set priv up"`,
      `nsenter -t $N -n sh -c "ip link set lo up && for a in ${MONITORING} ${WORKER} ${OTHER}; do ip addr add \\$a/24 dev net; done && ip link set net up"`,
      // A container behind the machine ($C), its port 8080 published on the machine's addresses as Docker does (DNAT).
      'unshare -n sleep infinity & C=$!; P="$P $C"; for i in $(seq 200); do [ "$(readlink /proc/$C/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break; sleep 0.1; done',
      'ip link add docker0 type veth peer name eth0 && ip link set docker0 netns $M && ip link set eth0 netns $C',
      'nsenter -t $M -n sh -c "ip addr add 172.17.0.1/16 dev docker0 && ip link set docker0 up && echo 1 > /proc/sys/net/ipv4/ip_forward"',
      'nsenter -t $M -n nft -f - <<EOF\ntable ip nat {\n  chain prerouting {\n    type nat hook prerouting priority -100;\n    tcp dport 8080 dnat to 172.17.0.2:8080\n  }\n}\nEOF',
      'nsenter -t $C -n sh -c "ip link set lo up && ip addr add 172.17.0.2/16 dev eth0 && ip link set eth0 up && ip route add default via 172.17.0.1"',
      `nsenter -t $C -n ${node} -e "require('net').createServer((s)=>s.end()).listen(8080,'0.0.0.0',()=>require('fs').writeFileSync('${dir}/container-ready',''))" & P="$P $!"`,
      waitFor('container-ready', 'setup:container-server'),
      // The machine's services, on every interface as sshd does: what the table must narrow.
      `nsenter -t $M -n ${node} -e "let r=0;const n=require('net');for(const p of [22,5432,9100])n.createServer((s)=>s.end()).listen(p,'0.0.0.0',()=>{if(++r===3)require('fs').writeFileSync('${dir}/ready','')})" & P="$P $!"`,
      waitFor('ready', 'setup:machine-servers'),
      ...checks('before'),
      `nsenter -t $M -n ${start} && echo boot:ok`,
      ...checks('boot'),
      // The rollout reloads the table: replaced in one transaction, never doubled.
      `nsenter -t $M -n ${reload} && nsenter -t $M -n ${reload} && echo reload:ok`,
      ...checks('reload'),
      // A second boot starts from an empty ruleset (Debian's nftables.service flushes it too), then the unit loads the table
      // (and Docker its NAT again).
      `nsenter -t $M -n nft flush ruleset && nsenter -t $M -n ${start} && echo second-boot:ok`,
      'nsenter -t $M -n nft -f - <<EOF\ntable ip nat {\n  chain prerouting {\n    type nat hook prerouting priority -100;\n    tcp dport 8080 dnat to 172.17.0.2:8080\n  }\n}\nEOF',
      ...checks('second-boot'),
      // Between boots and deploys, someone restarts nftables.service (Docker's NAT goes with it, and Docker adds it again).
      `${nftablesRestart} && echo nftables-restart:ok`,
      'nsenter -t $M -n nft -f - <<EOF\ntable ip nat {\n  chain prerouting {\n    type nat hook prerouting priority -100;\n    tcp dport 8080 dnat to 172.17.0.2:8080\n  }\n}\nEOF',
      ...checks('nftables-restart'),
      `${nftablesReload} && echo nftables-reload:ok`,
      `nsenter -t $M -n nft list table ip sovereign_private_ingress 2>/dev/null | grep -c 'tcp dport' | sed 's/^/nftables-reload:rules /'`,
      // A stop flushed everything: the private address was open to the whole network until the check. Now it keeps the table.
      `${nftablesStop} && echo nftables-stop:ok`,
      'nsenter -t $M -n nft -f - <<EOF\ntable ip nat {\n  chain prerouting {\n    type nat hook prerouting priority -100;\n    tcp dport 8080 dnat to 172.17.0.2:8080\n  }\n}\nEOF',
      ...checks('nftables-stop'),
      // Between Debian's flush and the drop-in's load the table was missing; now never.
      watched,
      'kill $P 2>/dev/null; wait',
    ].join('\n');
    // In a namespace of its own too: the links are made there before they move, never in the test's own namespace.
    const run = spawnSync('unshare', ['-n', 'sh', '-c', script], { encoding: 'utf8', timeout: 170_000 });
    const seen: Record<string, string> = {};
    for (const line of run.stdout.trim().split('\n')) {
      const space = line.indexOf(' ');
      seen[space < 0 ? line : line.slice(0, space)] = space < 0 ? line : line.slice(space + 1);
    }
    const round = (name: string, expected: Record<string, string>) => Object.fromEntries(Object.entries(expected).map(([k, v]) => [`${name}:${k}`, v]));
    const narrowed = {
      'monitoring-9100': 'connected', 'worker-5432': 'connected', 'other-9100': 'timeout', 'other-5432': 'timeout', 'other-22': 'timeout',
      'monitoring-22': 'timeout', 'worker-9100': 'timeout', 'worker-8080': 'connected', 'other-8080': 'timeout', 'container-9100': 'connected', outbound: 'connected', rules: '3',
    };
    expect({ stderr: run.stderr, status: run.status }).toEqual({ stderr: '', status: 0 });
    expect(seen).toEqual({
      ...round('before', {
        'monitoring-9100': 'connected', 'worker-5432': 'connected', 'other-9100': 'connected', 'other-5432': 'connected', 'other-22': 'connected',
        'monitoring-22': 'connected', 'worker-9100': 'connected', 'worker-8080': 'connected', 'other-8080': 'connected', 'container-9100': 'connected', outbound: 'connected', rules: '0',
      }),
      'boot:ok': 'boot:ok', ...round('boot', narrowed),
      'reload:ok': 'reload:ok', ...round('reload', narrowed),
      'second-boot:ok': 'second-boot:ok', ...round('second-boot', narrowed),
      'nftables-restart:ok': 'nftables-restart:ok', ...round('nftables-restart', narrowed),
      'nftables-reload:ok': 'nftables-reload:ok', 'nftables-reload:rules': '3',
      'nftables-stop:ok': 'nftables-stop:ok', ...round('nftables-stop', narrowed),
      'watch:polls': seen['watch:polls'], 'watch:missing': '0',
    });
    expect(Number(seen['watch:polls'])).toBeGreaterThan(20);
  }, 180_000);

  test('a flush no drop-in follows (nft flush ruleset): the check loads the table again and records for node exporter whether it is there', () => {
    const { app } = environment();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'private-ingress-check-'));
    const ruleset = path.join(dir, 'ingress.nft');
    fs.writeFileSync(ruleset, text(app, PRIVATE_INGRESS_RULESET));
    const check = path.join(dir, 'check');
    fs.writeFileSync(check, text(app, `/usr/local/sbin/${PRIVATE_INGRESS_CHECK}`), { mode: 0o755 });
    const textfiles = path.join(dir, 'textfiles');
    const systemctl = noNftablesService(dir);
    /** In a network namespace of its own: `before`, then the check; its exit code, the table's rules and the metric. */
    const run = (before: string, rulesetFile = ruleset) => {
      const r = spawnSync('unshare', ['-n', 'sh', '-c', `${before}; SOVEREIGN_SYSTEMCTL=${systemctl} PRIVATE_INGRESS_RULESET_FILE=${rulesetFile} PRIVATE_INGRESS_TEXTFILE_DIR=${textfiles} ${check}; `
        + `echo "rc=$?"; nft list table ip sovereign_private_ingress 2>/dev/null | grep -c 'tcp dport'`], { encoding: 'utf8' });
      const metric = fs.readFileSync(path.join(textfiles, 'sovereign_private_ingress.prom'), 'utf8');
      // When it ran too: the alert tells a stopped check by this timestamp, not by "present", which node exporter keeps.
      const ranAt = Number(/^sovereign_private_ingress_check_timestamp_seconds (\d+)$/m.exec(metric)?.[1]);
      expect(Math.abs(ranAt - Date.now() / 1000)).toBeLessThan(60);
      // A repair shows too: "present" is 1 again after the check loaded the table, so it alone never told that it had been gone.
      const repairs = /^sovereign_private_ingress_check_repairs_total (\d+)$/m.exec(metric)?.[1];
      const lastRepair = Number(/^sovereign_private_ingress_check_last_repair_timestamp_seconds (\d+)$/m.exec(metric)?.[1]);
      const repairedNow = Math.abs(lastRepair - Date.now() / 1000) < 60 ? 'now' : lastRepair;
      return { out: r.stdout.trim().split('\n'), stderr: r.stderr, metric: /^sovereign_private_ingress_table_present (\d)$/m.exec(metric)?.[1], repairs, repairedNow };
    };
    expect(run(`nft -f ${ruleset}`)).toEqual({ out: ['rc=0', '3'], stderr: '', metric: '1', repairs: '0', repairedNow: 0 });
    const flushed = run(`nft -f ${ruleset} && nft flush ruleset`);
    expect(flushed).toMatchObject({ out: ['rc=0', '3'], metric: '1', repairs: '1', repairedNow: 'now' });
    expect(flushed.stderr).toMatch(/table ip sovereign_private_ingress is missing; loading/);
    // The count and the time stay with the next check that finds the table in place.
    expect(run(`nft -f ${ruleset}`)).toMatchObject({ out: ['rc=0', '3'], metric: '1', repairs: '1', repairedNow: 'now' });
    // A ruleset that does not load: the check fails, and the metric says the table is not there. No repair is counted:
    // one was, and HostTableRepaired told "loaded it again" beside PrivateIngressNotLoaded.
    expect(run('true', path.join(dir, 'missing.nft'))).toMatchObject({ out: ['rc=1', '0'], metric: '0', repairs: '1' });
    // The textfile removed (by hand, or to clear a stale metric): the count and the last repair's time went back to 0
    // with it (the repair alert stopped early); they are kept beside it, in a file node exporter does not read.
    fs.rmSync(path.join(textfiles, 'sovereign_private_ingress.prom'));
    expect(run(`nft -f ${ruleset}`)).toMatchObject({ out: ['rc=0', '3'], metric: '1', repairs: '1', repairedNow: 'now' });
    expect(fs.readdirSync(textfiles).filter((f) => f.endsWith('.prom'))).toEqual(['sovereign_private_ingress.prom']);
    // Upgraded, reverted (a check without the state file counted on in the textfile alone), upgraded again: the state
    // file is stale. The counter never goes back: the larger of the two is the count.
    const textfile = path.join(textfiles, 'sovereign_private_ingress.prom');
    fs.writeFileSync(textfile, fs.readFileSync(textfile, 'utf8').replace(/^(sovereign_private_ingress_check_repairs_total) \d+$/m, '$1 3'));
    expect(run(`nft -f ${ruleset}`)).toMatchObject({ out: ['rc=0', '3'], metric: '1', repairs: '3', repairedNow: 'now' });
    expect(fs.readFileSync(path.join(textfiles, '.sovereign_private_ingress.repairs'), 'utf8')).toMatch(/^sovereign_private_ingress_check_repairs_total 3$/m);
  });

  // One host table's definition that did not load (its ruleset file missing, its body refused) failed nftables.service's
  // whole load: at boot, from an empty ruleset, neither /etc/nftables.conf (the user's own firewall) nor the other host
  // tables were loaded; a stop or a reload with a corrected conf failed and changed nothing.
  test('a host table that does not load is left out, named, only at boot; loaded, its live table is kept (or nothing loads); the unit fails; a conf that does not load changes nothing', () => {
    const { app } = environment();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'private-ingress-loader-'));
    const ruleset = path.join(dir, 'ingress.nft');
    fs.writeFileSync(ruleset, text(app, PRIVATE_INGRESS_RULESET));
    const loader = path.join(dir, 'loader');
    fs.writeFileSync(loader, text(app, PRIVATE_INGRESS_NFTABLES_LOADER), { mode: 0o755 });
    const tables = path.join(dir, 'host-tables');
    fs.mkdirSync(tables);
    fs.writeFileSync(path.join(tables, 'sovereign-private-ingress'), text(app, PRIVATE_INGRESS_DEFINITION).split(PRIVATE_INGRESS_RULESET).join(ruleset), { mode: 0o755 });
    // Sorted before and after it: one whose ruleset file is missing, one whose body nft refuses.
    fs.writeFileSync(path.join(tables, 'a-missing'), hostTableDefinition('Test', `exec cat ${dir}/missing.nft`), { mode: 0o755 });
    fs.writeFileSync(path.join(tables, 'z-refused'), hostTableDefinition('Test', "echo 'table ip refused { chain c { jump nowhere; }; }'"), { mode: 0o755 });
    const conf = path.join(dir, 'nftables.conf');
    fs.writeFileSync(conf, DEBIAN_NFTABLES_CONF);
    // Two that load each on its own and not together (one chain, two hooks).
    const clashing = path.join(dir, 'clashing');
    fs.mkdirSync(clashing);
    for (const hook of ['input', 'output']) {
      fs.writeFileSync(path.join(clashing, hook), hostTableDefinition('Test', `echo 'table ip clash { chain c { type filter hook ${hook} priority 0; }; }'`), { mode: 0o755 });
    }
    // A host table whose definition nft refuses while its table is loaded (an earlier rollout's): the loads' first
    // line flushes the ruleset, so leaving it out would remove the live table with it; its live table is kept instead.
    const kept = path.join(dir, 'kept');
    fs.mkdirSync(kept);
    fs.copyFileSync(path.join(tables, 'sovereign-private-ingress'), path.join(kept, 'sovereign-private-ingress'));
    fs.chmodSync(path.join(kept, 'sovereign-private-ingress'), 0o755);
    fs.writeFileSync(path.join(kept, 'z-guard'), hostTableDefinition('Test', "printf 'table ip guard\\ndelete table ip guard\\ntable ip guard { chain c { jump nowhere; }; }\\n'"), { mode: 0o755 });
    const guard = path.join(dir, 'guard.nft');
    fs.writeFileSync(guard, 'table ip guard {\n set s { type ipv4_addr; flags interval; elements = { 10.0.0.0/8, 192.0.2.1 }; }\n'
      + ' chain c { type filter hook output priority 0; ip daddr @s counter drop; }\n}\n');
    const step = (label: string, command: string) => `${command}; echo "${label} rc=$? $(nft list tables | sort | tr '\\n' ,)"`;
    // No part's copy of the loader (SOVEREIGN_HOST_TABLES_LOADERS: an empty directory): the machine's own /usr/local/sbin is no part of the test.
    const loaderRun = (action: string, from = tables) => `SOVEREIGN_NFTABLES_CONF=${conf} SOVEREIGN_HOST_TABLES=${from} SOVEREIGN_HOST_TABLES_LOCK=${dir}/lock `
      + `SOVEREIGN_HOST_TABLES_LOADERS=${dir}/no-loaders ${loader} ${action}`;
    const r = spawnSync('unshare', ['-n', 'sh', '-c', [
      step('boot', loaderRun('start')),
      // a-missing prints nothing: which table it was is not known, so nothing loads (a loaded table of it stays).
      step('corrected-reload', `sed -i 's/inet filter/inet corrected/' ${conf} && cp ${conf} ${conf}.good && ${loaderRun('reload')}`),
      step('stop', loaderRun('stop')),
      step('kept-reload', `nft -f ${guard} && ${loaderRun('reload', kept)}`),
      step('kept-stop', loaderRun('stop', kept)),
      step('kept-restart', loaderRun('start', kept)),
      `echo "kept-set $(nft list set ip guard s | grep -o '10.0.0.0/8, 192.0.2.1')"`,
      // A conf that does not load: a reload changes nothing; a restart (its stop done) leaves only the host tables.
      step('broken-conf-reload', `echo 'table inet filter { bogus' >>${conf} && ${loaderRun('reload', kept)}`),
      step('broken-conf-restart', `${loaderRun('stop', kept)} 2>/dev/null; ${loaderRun('start', kept)}`),
      // Definitions that fail only together: with tables loaded, nothing changes; at boot, the conf alone.
      step('clashing-reload', `cp ${conf}.good ${conf} && ${loaderRun('reload', clashing)}`),
      step('clashing-boot', `nft flush ruleset && ${loaderRun('start', clashing)}`),
    ].join('\n')], { encoding: 'utf8' });
    const booted = 'table inet filter,table ip sovereign_private_ingress,';
    const all = 'table inet corrected,table ip guard,table ip sovereign_private_ingress,';
    expect(r.stdout.trim().split('\n')).toEqual([
      `boot rc=1 ${booted}`, `corrected-reload rc=1 ${booted}`, `stop rc=1 ${booted}`,
      `kept-reload rc=1 ${all}`, 'kept-stop rc=1 table ip guard,table ip sovereign_private_ingress,', `kept-restart rc=1 ${all}`,
      'kept-set 10.0.0.0/8, 192.0.2.1',
      `broken-conf-reload rc=1 ${all}`, 'broken-conf-restart rc=1 table ip guard,table ip sovereign_private_ingress,',
      'clashing-reload rc=1 table ip guard,table ip sovereign_private_ingress,', 'clashing-boot rc=1 table inet corrected,',
    ]);
    expect(r.stderr).toMatch(/loaded .*nftables\.conf alone, without the host tables/);
    expect(r.stderr).toMatch(new RegExp(`${tables}/a-missing does not load; loading the rest without its table`));
    expect(r.stderr).toMatch(new RegExp(`loaded without ${tables}/a-missing ${tables}/z-refused`));
    expect(r.stderr).toMatch(new RegExp(`${tables}/a-missing does not load and its table cannot be kept; nothing loaded, the ruleset stays as it is`));
    expect(r.stderr).toMatch(new RegExp(`${kept}/z-guard does not load; keeping its loaded table \\(ip guard\\) as it is`));
    expect(r.stderr).toMatch(/nftables\.conf does not load; nothing loaded/);
  });

  // A host table's definition deleted or made non-executable by hand (its part still installed) was skipped without a
  // word: the load's first line flushed the ruleset, so every reload and restart removed the working table until the
  // check. A deploy that removes the part removes its copy of the loader with it: then the table goes on purpose.
  test("a definition missing or not executable while its part is installed keeps its live table and fails the unit; a part removed drops it", () => {
    const { root, conf } = hostTablesIn('host-tables-damaged-');
    const definition = path.join(root, PRIVATE_INGRESS_DEFINITION);
    const loader = `${hostTablesEnv(root, conf)} ${path.join(root, PRIVATE_INGRESS_NFTABLES_LOADER)}`;
    const step = (label: string, command: string) => `${command}; echo "${label} rc=$? $(nft list tables | sort | tr '\\n' ,) rules=$(nft list table ip sovereign_private_ingress 2>/dev/null | grep -c 'tcp dport')"`;
    const r = spawnSync('unshare', ['-n', 'sh', '-c', [
      step('boot', `${loader} start`),
      // Made non-executable: a reload with a changed conf applies the conf and keeps the table.
      step('not-executable-reload', `chmod -x ${definition} && sed -i 's/inet filter/inet corrected/' ${conf} && ${loader} reload`),
      step('deleted-restart', `rm ${definition} && ${loader} stop; ${loader} start`),
      // At boot it is not loaded yet: the rest loads; its own unit loads it after nftables.service.
      step('deleted-boot', `nft flush ruleset && ${loader} start`),
      // A deploy removed the part: its copy of the loader goes with its definition, and a restart drops its table.
      step('removed-restart', `nft -f ${path.join(root, PRIVATE_INGRESS_RULESET)} && rm ${path.join(root, PRIVATE_INGRESS_NFTABLES_LOADER)} && `
        + `${loader.replace(PRIVATE_INGRESS_NFTABLES_LOADER, '/usr/local/sbin/sovereign-metadata-guard-nftables')} start`),
    ].join('\n')], { encoding: 'utf8' });
    const guard = 'table inet sovereign_metadata_guard';
    expect(r.stdout.trim().split('\n')).toEqual([
      `boot rc=0 table inet filter,${guard},table ip sovereign_private_ingress, rules=3`,
      `not-executable-reload rc=1 table inet corrected,${guard},table ip sovereign_private_ingress, rules=3`,
      `deleted-restart rc=1 table inet corrected,${guard},table ip sovereign_private_ingress, rules=3`,
      `deleted-boot rc=1 table inet corrected,${guard}, rules=0`,
      `removed-restart rc=0 table inet corrected,${guard}, rules=0`,
    ]);
    expect(r.stderr).toMatch(new RegExp(`${definition} is missing or not executable while its part is installed \\(\\S+-nftables\\): keeping its loaded table \\(ip sovereign_private_ingress\\) as it is; the next deploy writes it again`));
    expect(r.stderr).toMatch(/and its table is not loaded: loading the rest without it/);
  });

  // The backup tooling's metadata guard (only root reaches 169.254.169.254, whose user data holds the backup secrets) was
  // loaded once by a oneshot unit: nftables.service's restart, reload or stop removed it until the next boot.
  test("the backup tooling's metadata guard is a host table: nftables.service's restart, reload and stop keep it", () => {
    const { app, root, paths, local, conf } = hostTablesIn('metadata-guard-');
    const dropIns = paths.filter((p) => p.startsWith('/etc/systemd/system/nftables.service.d/')).sort().map((p) => text(app, p)).join('');
    const nftables = nftablesService(dropIns, conf);
    const env = hostTablesEnv(root, conf);
    const step = (label: string, commands: string[]) => `${commands.map((c) => `env ${env} ${local(c)}`).join(' && ')}; echo "${label} rc=$? $(nft list tables | sort | tr '\\n' ,)"`;
    const boot = new Unit('sovereign-metadata-guard.service', text(app, '/etc/systemd/system/sovereign-metadata-guard.service')).values('Service', 'ExecStart');
    const r = spawnSync('unshare', ['-n', 'sh', '-c', [
      step('boot', [...boot, `nft -f ${PRIVATE_INGRESS_RULESET}`]), step('restart', nftables.restart), step('reload', nftables.reload), step('stop', nftables.stop),
    ].join('\n')], { encoding: 'utf8' });
    const tables = 'table inet sovereign_metadata_guard,table ip sovereign_private_ingress,';
    expect(r.stdout.trim().split('\n')).toEqual([`boot rc=0 ${tables}`, `restart rc=0 table inet filter,${tables}`, `reload rc=0 table inet filter,${tables}`, `stop rc=0 ${tables}`]);
    expect(r.stderr).toBe('');
  });

  // The guard's part ran only `systemctl enable --now` of its boot unit, a oneshot that stays active once it has run:
  // a rollout that changed its ruleset started nothing, and the old table stayed loaded until the next boot.
  test("a rollout that changes the metadata guard's ruleset loads it: the part's commands reload its active unit", () => {
    const bundle = bundleOf(phase3Production(), 'phase3-traction-production-app');
    const part = bundle.parts.find((p) => p.name === BASE_PART)!;
    const files = new Map(part.files.map((f) => [f.path, f.content ?? '']));
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metadata-guard-rollout-'));
    const ruleset = path.join(dir, 'guard.nft');
    // What an earlier release loaded at boot: the guard without its forward chain.
    const earlier = path.join(dir, 'earlier.nft');
    fs.writeFileSync(earlier, files.get(METADATA_GUARD_RULESET)!.replace(/ {2}chain forward \{[^}]*\}\n/, ''));
    fs.writeFileSync(ruleset, files.get(METADATA_GUARD_RULESET)!);
    const unit = new Unit(METADATA_GUARD_UNIT, files.get(`/etc/systemd/system/${METADATA_GUARD_UNIT}`)!);
    const exec = (key: string) => unit.values('Service', key).map((c) => c.split(METADATA_GUARD_RULESET).join(ruleset)).join(' && ');
    // systemctl as it treats the guard's unit, active since boot: start and enable --now run nothing; a reload runs ExecReload, a restart ExecStart.
    const systemctl = path.join(dir, 'systemctl');
    fs.writeFileSync(systemctl, `#!/bin/sh\ncase " $* " in *" ${METADATA_GUARD_UNIT} "*)\n  case "$1" in reload|reload-or-restart|try-reload-or-restart) ${exec('ExecReload')} ;; restart|try-restart) ${exec('ExecStart')} ;; esac ;;\nesac\n`, { mode: 0o755 });
    const commands = (part.commands ?? []).map((c) => (Array.isArray(c) ? c.join(' ') : c).replace(/^systemctl /, `${systemctl} `));
    expect(commands.length).toBeGreaterThan(0);
    const r = spawnSync('unshare', ['-n', 'sh', '-c', `nft -f ${earlier} && ${commands.join(' && ')}; echo "rc=$?"; `
      + `nft list table ${METADATA_GUARD_TABLE} | grep -c 'ip daddr 169.254.169.254 reject'`], { encoding: 'utf8' });
    expect({ out: r.stdout.trim().split('\n'), stderr: r.stderr }).toEqual({ out: ['rc=0', '1'], stderr: '' });
  });

  /**
   * The metadata guard's ruleset and check written into a fresh `dir`, and the shell that loads the guard, deletes its
   * table and runs the check with node exporter's directory at `textfiles`, then echoes its exit status.
   */
  function guardCheckIn(prefix: string): (textfiles: string) => string {
    const { app } = environment();
    ensureBasePart(app);
    const into = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    dir = into;
    const ruleset = path.join(into, 'guard.nft');
    fs.writeFileSync(ruleset, text(app, METADATA_GUARD_RULESET));
    const check = path.join(into, 'check');
    fs.writeFileSync(check, text(app, `/usr/local/sbin/${METADATA_GUARD_CHECK}`), { mode: 0o755 });
    return (textfiles) => `nft -f ${ruleset} && nft delete table ${METADATA_GUARD_TABLE} && `
      + `SOVEREIGN_SYSTEMCTL=${noNftablesService(into)} METADATA_GUARD_RULESET_FILE=${ruleset} METADATA_GUARD_TEXTFILE_DIR=${textfiles} ${check}; echo "rc=$?"`;
  }

  // The metadata guard had no check: a load that left it out, or `nft delete table`, let any process read the backup
  // secrets in the user data, silently, until the next boot.
  test("the metadata guard's check loads it again when it was deleted, counts the repair and records it for node exporter", () => {
    const deletedThenChecked = guardCheckIn('metadata-guard-check-');
    const textfiles = path.join(dir!, 'textfiles');
    const r = spawnSync('unshare', ['-n', 'sh', '-c', `${deletedThenChecked(textfiles)}; nft list table ${METADATA_GUARD_TABLE} | grep -c 'meta skuid != 0 reject'`], { encoding: 'utf8' });
    expect(r.stdout.trim().split('\n')).toEqual(['rc=0', '1']);
    expect(r.stderr).toMatch(/table inet sovereign_metadata_guard is missing; loading/);
    const metric = fs.readFileSync(path.join(textfiles, 'sovereign_metadata_guard.prom'), 'utf8');
    expect(metric).toMatch(/^sovereign_metadata_guard_table_present 1$/m);
    expect(metric).toMatch(/^sovereign_metadata_guard_check_repairs_total 1$/m);
  });

  // Review: the checks wrote their textfile and repairs by the path of node exporter's directory, which sits in
  // prometheus's /var/lib/prometheus: prometheus could swap it for a symlink, and root made and renamed files in its target.
  test("a check never writes through a symlink planted where node exporter's directory was, nor in a directory of another user's; the table is loaded again all the same", () => {
    const deletedThenChecked = guardCheckIn('metadata-guard-textfiles-');
    const textfiles = path.join(dir!, 'node-exporter');
    const victim = path.join(dir!, 'victim');
    fs.mkdirSync(victim);
    const run = () => {
      const r = spawnSync('unshare', ['-n', 'sh', '-c', `${deletedThenChecked(textfiles)}; nft list table ${METADATA_GUARD_TABLE} >/dev/null && echo loaded`], { encoding: 'utf8' });
      return { out: r.stdout.trim().split('\n'), stderr: r.stderr };
    };
    fs.symlinkSync(victim, textfiles);
    const linked = run();
    expect(linked.out).toEqual(['rc=0', 'loaded']);
    expect(linked.stderr).toContain(`sovereign-metadata-guard-check: ${textfiles} is a symlink: sovereign_metadata_guard.prom not written; remove it (the next run makes the directory again)`);
    expect(fs.readdirSync(victim)).toEqual([]);
    expect(fs.lstatSync(textfiles).isSymbolicLink()).toBe(true);
    // A directory of prometheus's own there: nothing written in it either.
    fs.rmSync(textfiles);
    fs.mkdirSync(textfiles);
    fs.chownSync(textfiles, 65534, 65534);
    const foreign = run();
    expect(foreign.out).toEqual(['rc=0', 'loaded']);
    expect(foreign.stderr).toContain(`${textfiles} is owned by uid 65534, not 0 (chown it to root or remove it): sovereign_metadata_guard.prom not written`);
    expect(fs.readdirSync(textfiles)).toEqual([]);
    // Once it is gone, the next check makes it and writes both files.
    fs.rmSync(textfiles, { recursive: true });
    expect(run()).toEqual({ out: ['rc=0', 'loaded'], stderr: expect.not.stringContaining('not written') });
    expect(fs.readdirSync(textfiles).sort()).toEqual(['.sovereign_metadata_guard.repairs', 'sovereign_metadata_guard.prom']);
    expect(fs.readFileSync(path.join(textfiles, 'sovereign_metadata_guard.prom'), 'utf8')).toMatch(/^sovereign_metadata_guard_check_repairs_total 1$/m);
    expect(fs.lstatSync(textfiles).uid).toBe(0);
  });

  // Review: the check read its repairs and its textfile by path before textfile_cd, through a symlink planted in
  // node exporter's place: a FIFO there blocked sed, the oneshot unit never ended and the table was never loaded again.
  test('a FIFO planted at the repairs\' and textfile\'s names behind a symlinked directory neither blocks the check nor keeps the table from loading', () => {
    const deletedThenChecked = guardCheckIn('metadata-guard-fifo-');
    const victim = path.join(dir!, 'victim');
    fs.mkdirSync(victim);
    for (const name of ['.sovereign_metadata_guard.repairs', 'sovereign_metadata_guard.prom']) {
      expect(spawnSync('mkfifo', [path.join(victim, name)]).status).toBe(0);
    }
    const textfiles = path.join(dir!, 'node-exporter');
    fs.symlinkSync(victim, textfiles);
    // The timeout only kills a check that blocks (the unfixed one did, for good): nothing is asserted about time.
    const r = spawnSync('unshare', ['-n', 'sh', '-c', `${deletedThenChecked(textfiles)}; nft list table ${METADATA_GUARD_TABLE} >/dev/null && echo loaded`],
      { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
    expect(r.signal).toBeNull();
    expect(r.stdout.trim().split('\n')).toEqual(['rc=0', 'loaded']);
    expect(r.stderr).toMatch(/table inet sovereign_metadata_guard is missing; loading/);
    expect(r.stderr).toContain(`${textfiles} is a symlink`);
    expect(fs.readdirSync(victim).sort()).toEqual(['.sovereign_metadata_guard.repairs', 'sovereign_metadata_guard.prom']);
    expect(fs.lstatSync(path.join(victim, 'sovereign_metadata_guard.prom')).isFIFO()).toBe(true);
  });
});

describeWithRealParts(systemdTestAvailable, 'the private-network ingress table at boot', 'root, systemd and setpriv')('the table at every boot, as systemd orders it', () => {
  const phase3 = phase3Production();

  test.each(['phase3-traction-production-app', 'phase3-traction-production-monitoring'])('on %s it loads at every boot, before the network brings the private address up', (machine) => {
    const bundle = bundleOf(phase3, machine);
    // The network as systemd-networkd brings it up (Hetzner's Debian uses ifupdown's networking.service, ordered the same way).
    const boot = bootTransaction(bundle, 'multi-user.target', ['systemd-networkd.service']);
    expect(boot.jobs).toEqual(expect.arrayContaining([PRIVATE_INGRESS_UNIT, 'systemd-networkd.service', 'network-pre.target']));
    expect(boot.log).not.toMatch(/ordering cycle|Job .* deleted to break/i);
    expect(boot.deps(PRIVATE_INGRESS_UNIT, 'Before')).toContain('network-pre.target');
    expect(boot.field(PRIVATE_INGRESS_UNIT, 'DefaultDependencies')).toBe('no');
    expect(boot.deps('systemd-networkd.service', 'After')).toContain('network-pre.target');
    // The check that loads it again after a flush, and records whether it is there, runs from every boot on.
    expect(bootTransaction(bundle, 'timers.target').jobs).toContain(`${PRIVATE_INGRESS_CHECK}.timer`);
  });

  // `systemctl edit nftables` writes override.conf, which sorted after the parts' 50-*.conf drop-ins: one that reset
  // ExecStart= (to run Debian's `nft -f /etc/nftables.conf` again, say) silently dropped the host tables from every restart.
  test("a user's override.conf that resets nftables.service's commands is read before the parts' drop-ins: the loader still runs", () => {
    const bundle = bundleOf(phase3, 'phase3-traction-production-app');
    const user = { name: 'user', files: [{ path: '/etc/systemd/system/nftables.service.d/override.conf',
      content: '[Service]\nExecStart=\nExecStart=/usr/sbin/nft -f /etc/nftables.conf\nExecReload=\nExecReload=/usr/sbin/nft -f /etc/nftables.conf\nExecStop=\nExecStop=/usr/sbin/nft flush ruleset\n' }] };
    const nftables = bootTransaction({ parts: [...bundle.parts, user] }, 'nftables.service');
    expect(['ExecStart', 'ExecReload', 'ExecStop'].map((kind) => nftables.commands('nftables.service', kind)))
      .toEqual(['start', 'reload', 'stop'].map((verb) => [`${PRIVATE_INGRESS_NFTABLES_LOADER} ${verb}`]));
  });

  // A drop-in that still sorts after the parts' (zzz-local.conf) and resets a command: nothing told that nftables.service
  // no longer loaded the host tables; each restart removed them until the checks, silently.
  testWithRealParts(canRun, "a drop-in read after the parts' that resets nftables.service's start", 'root, unshare and nft')("a drop-in read after the parts' that resets nftables.service's start: every check records it, naming its own part's loader copy; a masked nftables.service is not recorded as one, an unreadable one keeps the last record", () => {
    const bundle = bundleOf(phase3, 'phase3-traction-production-app');
    const files = new Map(bundle.parts.flatMap((p) => p.files).map((f) => [f.path, f.content ?? '']));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'host-tables-loader-'));
    try {
      const guard = path.join(dir, 'guard.nft');
      fs.writeFileSync(guard, files.get(METADATA_GUARD_RULESET)!);
      const check = path.join(dir, 'check');
      fs.writeFileSync(check, files.get(`/usr/local/sbin/${METADATA_GUARD_CHECK}`)!, { mode: 0o755 });
      // The parts' copies of the loader, in a directory of the test's own (SOVEREIGN_HOST_TABLES_LOADERS).
      const sbin = path.join(dir, 'sbin');
      fs.mkdirSync(sbin);
      const copies = [...files.keys()].filter((f) => /^\/usr\/local\/sbin\/sovereign-.*-nftables$/.test(f));
      expect(copies).toHaveLength(3);
      for (const f of copies) fs.writeFileSync(path.join(sbin, path.basename(f)), files.get(f)!, { mode: 0o755 });
      /** `systemctl show -p LoadState -p ExecStart -p ExecReload -p ExecStop nftables.service`, as systemd merged the unit with `extra`'s drop-in. */
      const show = (extra: string | undefined) => {
        const user = extra === undefined ? [] : [{ name: 'user', files: [{ path: '/etc/systemd/system/nftables.service.d/zzz-local.conf', content: extra }] }];
        const merged = bootTransaction({ parts: [...bundle.parts, ...user] }, 'nftables.service');
        return ['LoadState=loaded', ...['ExecStart', 'ExecReload', 'ExecStop'].flatMap((kind) => merged.commands('nftables.service', kind)
          .map((line) => line.split('/usr/local/sbin/').join(`${sbin}/`))
          .map((line) => `${kind}={ path=${line.split(' ')[0]} ; argv[]=${line} ; ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }`))].join('\n');
      };
      const systemctl = path.join(dir, 'systemctl');
      fs.writeFileSync(systemctl, `#!/bin/sh\n[ ! -e ${dir}/fail ] || { echo 'Failed to connect to bus: No such file or directory' >&2; exit 1; }\ncat ${dir}/show\n`, { mode: 0o755 });
      const run = (shown: string) => {
        fs.writeFileSync(path.join(dir, 'show'), `${shown}\n`);
        const r = spawnSync('unshare', ['-n', 'sh', '-c', `nft -f ${guard} && SOVEREIGN_SYSTEMCTL=${systemctl} SOVEREIGN_HOST_TABLES_LOADERS=${sbin} METADATA_GUARD_RULESET_FILE=${guard} `
          + `METADATA_GUARD_TEXTFILE_DIR=${dir} ${check}; echo "rc=$?"`], { encoding: 'utf8' });
        const metric = fs.readFileSync(path.join(dir, 'sovereign_metadata_guard.prom'), 'utf8');
        return { rc: r.stdout.trim(), loader: new RegExp(`^${HOST_TABLES_LOADER_METRIC}\\{check="${METADATA_GUARD_CHECK}"\\} (\\d)$`, 'm').exec(metric)?.[1], stderr: r.stderr };
      };
      expect(run(show(undefined))).toEqual({ rc: 'rc=0', loader: '1', stderr: '' });
      // Debian's start back, as a user who wanted it would write it: the table is there now (rc 0), the loader is not.
      // The fix names the check's own part's copy, which is there wherever the check is (not the egress allowlist's).
      const bypassed = run(show('[Service]\nExecStart=\nExecStart=/usr/sbin/nft -f /etc/nftables.conf\n'));
      expect(bypassed).toMatchObject({ rc: 'rc=0', loader: '0' });
      expect(bypassed.stderr).toMatch(/nftables\.service does not run the host tables' loader for ExecStart=: .*systemctl cat nftables shows it: remove its reset, or run \/usr\/local\/sbin\/sovereign-metadata-guard-nftables start\|reload\|stop in it/);
      expect(bypassed.stderr).not.toMatch(/sovereign-egress-nftables/);
      // A second command beside the loader's (ExecStop= added to, not reset): its own transaction, the tables missing after it.
      expect(run(show('[Service]\nExecStop=/usr/sbin/nft flush ruleset\n'))).toMatchObject({ loader: '0', stderr: expect.stringMatching(/loader for ExecStop=:/) });
      // The loader copy nftables.service runs, not executable: its start, reload and stop fail.
      for (const f of copies) fs.chmodSync(path.join(sbin, path.basename(f)), 0o644);
      expect(run(show(undefined))).toMatchObject({ rc: 'rc=0', loader: '0', stderr: expect.stringMatching(/runs a copy of the host tables' loader that is missing or not executable \( ExecStart=\S+-nftables ExecReload=\S+ ExecStop=\S+ \)/) });
      for (const f of copies) fs.chmodSync(path.join(sbin, path.basename(f)), 0o755);
      // Masked (`systemctl show` lists no command): it never runs, so no restart drops the tables and nothing is bypassed.
      expect(run('LoadState=masked')).toEqual({ rc: 'rc=0', loader: undefined, stderr: '' });
      // systemctl that cannot answer: no new record (HostTablesLoaderBypassed would name the wrong fix); the journal says
      // why. The last record stays: a firing alert is not resolved by one transient bus error (its `for:` would restart).
      fs.writeFileSync(path.join(dir, 'fail'), '');
      const unreadable = run(show(undefined));
      expect(unreadable).toMatchObject({ rc: 'rc=0', loader: undefined });
      expect(unreadable.stderr).toMatch(/cannot read nftables\.service's commands \(systemctl show: Failed to connect to bus.*\); the last record of whether it runs the host tables' loader is kept/);
      fs.rmSync(path.join(dir, 'fail'));
      expect(run(show('[Service]\nExecStart=\nExecStart=/usr/sbin/nft -f /etc/nftables.conf\n'))).toMatchObject({ loader: '0' });
      fs.writeFileSync(path.join(dir, 'fail'), '');
      expect(run(show(undefined))).toMatchObject({ rc: 'rc=0', loader: '0', stderr: expect.stringMatching(/cannot read nftables\.service's commands/) });
      expect(run(show(undefined))).toMatchObject({ loader: '0' });
      fs.rmSync(path.join(dir, 'fail'));
      expect(run(show(undefined))).toMatchObject({ loader: '1' });
      // A state systemd does not name (neither loaded, masked nor not-found) is a read that failed too.
      expect(run('LoadState=bad-setting')).toMatchObject({ loader: '1', stderr: expect.stringMatching(/cannot read nftables\.service's commands/) });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  // The metadata guard (only root reaches 169.254.169.254, whose user data holds the backup secrets) had no boot-order
  // test: its unit ran after basic.target, beside every other service of multi-user.target, with the network already up,
  // so a process of another user started at boot could read the user data before it. Its check's timer was not asked either.
  test('the metadata guard loads at every boot before the network, and its check runs from every boot on', () => {
    const guard = 'sovereign-metadata-guard.service';
    const timer = `${METADATA_GUARD_CHECK}.timer`;
    const boot = bootTransaction(bundleOf(phase3, 'phase3-traction-production-app'), 'multi-user.target', ['systemd-networkd.service']);
    expect(boot.jobs).toEqual(expect.arrayContaining([guard, timer, 'timers.target', 'systemd-networkd.service', 'network-pre.target']));
    expect(boot.log).not.toMatch(/ordering cycle|Job .* deleted to break/i);
    expect(boot.field(guard, 'DefaultDependencies')).toBe('no');
    expect(boot.deps(guard, 'Before')).toContain('network-pre.target');
    expect(boot.deps(guard, 'After')).not.toContain('basic.target');
    expect(boot.deps('systemd-networkd.service', 'After')).toContain('network-pre.target');
    // The timer is started with timers.target (which basic.target wants) and starts the check, 1 minute after boot.
    expect(boot.deps(timer, 'WantedBy')).toContain('timers.target');
    expect(boot.deps('basic.target', 'Wants')).toContain('timers.target');
    expect(boot.deps(timer, 'Triggers')).toEqual([`${METADATA_GUARD_CHECK}.service`]);
  });

  test('node exporter, on the app machine\'s private address, starts after the network', () => {
    const start = bootTransaction(bundleOf(phase3, 'phase3-traction-production-app'), 'prometheus-node-exporter.service');
    expect(start.deps('prometheus-node-exporter.service', 'After')).toEqual(expect.arrayContaining(['network-online.target']));
    expect(start.log).not.toMatch(/ordering cycle|Job .* deleted to break/i);
  });
});
