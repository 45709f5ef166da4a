import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TerraformVariable } from 'cdktf';
import {
  BackupPlan, BackupTarget, DataClass, DataFlow, EgressAllowlist, EgressForm, EgressHost, Environment, FirewallRule, Heartbeat, Location, Port, Processor, StorageBoxAccount,
} from '../../lib';
import { EGRESS_RULESET } from '../../lib/boundary/egress-allowlist';
import { applyEgressAllowlist, DEBIAN_NFTABLES_CONF, EgressPart, nftablesService, ScratchHost, setAddresses, setElements, startPath, Unit } from './egress-host';
import { checkedStack, machine, mistral, policy, synthErrors } from './fixtures';

const BOOT_UNIT = 'sovereign-egress.service';
const REFRESH_UNIT = 'sovereign-egress-refresh.service';
const REFRESH = '/usr/local/sbin/sovereign-egress-refresh';
const RULESET = '/etc/nftables.d/sovereign-egress.nft';
const TIME_SERVERS = '/etc/sovereign/egress-time-servers';
const TIMESYNCD_DROP_IN = '/etc/systemd/timesyncd.conf.d/zz-sovereign-egress.conf';
const NFTABLES_DROP_IN = '/etc/systemd/system/nftables.service.d/zz-sovereign-egress.conf';
const CHECK_UNIT = 'sovereign-egress-check';
const METRICS = ['sovereign_egress_refresh_success', 'sovereign_egress_refresh_timestamp_seconds', 'sovereign_egress_table_present'];

/** The part of a sensitive machine with a storage box target and a flow to Mistral. */
function egressPart(): EgressPart {
  const m = machine(checkedStack(), 'App', {}, false);
  const part = applyEgressAllowlist(m, { policy });
  EgressAllowlist.requireHostnames(m, ['u123.your-storagebox.de'], 'backup target the nightly backups are written to', 23);
  DataFlow.declare(m, { processor: mistral, dataClass: DataClass.PSEUDONYMIZED, form: EgressForm.PSEUDONYMIZED });
  return part;
}

describe('EgressAllowlist', () => {
  test('turns the firewall to deny-by-default egress with only DNS, NTP, HTTP(S) and Storage Box SSH', () => {
    const m = machine(checkedStack());
    expect(m.egressRules.map((r) => `${r.protocol} ${r.port}`)).toEqual(['udp 53', 'tcp 53', 'udp 123', 'tcp 80', 'tcp 443', 'tcp 23']);
  });

  test('allowlists mirrors and exactly the processors the policy names, whatever flows are declared', () => {
    const m = machine(checkedStack(), 'App', {}, false);
    const part = applyEgressAllowlist(m, { policy });
    // No flow declared: the policy alone decides (issue #14: the hosts were blocked without flows).
    expect(EgressAllowlist.hostnamesFor(m, { policy, hostnames: [EgressHost.publicOnly('registry.acme.eu', { reason: 'package registry: the machine only downloads from it' })] }))
      .toEqual(['deb.debian.org', 'security.debian.org', 'mirror.hetzner.com', 'registry.acme.eu', 'api.mistral.ai', 'api.jina.ai']);
    // A flow the policy does not allow adds nothing; Processor.mistralAi() again is the same processor.
    DataFlow.declare(m, { processor: Processor.mistralAi(), dataClass: DataClass.SENSITIVE, form: EgressForm.PSEUDONYMIZED });
    expect(part.file('/etc/sovereign/egress-hostnames')).toBe('ports 80 443\ndeb.debian.org\nsecurity.debian.org\nmirror.hetzner.com\napi.mistral.ai\napi.jina.ai\n');
  });

  test('takes the hostnames the machine\'s constructs declare, so no caller can forget a backup target', () => {
    const m = machine(checkedStack(), 'App', {}, false);
    const part = applyEgressAllowlist(m, { policy });
    EgressAllowlist.requireHostnames(m, ['u123.your-storagebox.de'], 'backup target the nightly backups are written to');
    expect(part.file('/etc/sovereign/egress-hostnames')).toContain('u123.your-storagebox.de\n');
    expect(() => EgressAllowlist.requireHostnames(m, ['https://u123.your-storagebox.de:23'], 'backup target the nightly backups are written to'))
      .toThrow(/production\/App\.egressHostnames\[1\]: 'https:\/\/u123\.your-storagebox\.de:23' is not allowed: .* Fix: /);
  });

  test('is required only for machines holding sensitive or secret data', () => {
    const stack = checkedStack();
    expect(EgressAllowlist.isRequiredFor(machine(stack, 'A', { dataClasses: [DataClass.PUBLIC, DataClass.PSEUDONYMIZED] }, false))).toBe(false);
    expect(EgressAllowlist.isRequiredFor(machine(stack, 'B', { dataClasses: [DataClass.SECRET] }, false))).toBe(true);
  });

  // Red team: NTP (123/udp) went to any address, so any program could send what it liked to a host of
  // its choosing on 123. It now reaches only the time servers, and timesyncd is pinned to the same list.
  test('pins systemd-timesyncd to the time servers NTP may reach: Hetzner\'s unless others are named', () => {
    const part = egressPart();
    expect(part.packages).toContain('systemd-timesyncd');
    expect(part.file(TIME_SERVERS)).toBe('ntp1.hetzner.de\nntp2.hetzner.com\nntp3.hetzner.net\n');
    const dropIn = new Unit('timesyncd', part.file(TIMESYNCD_DROP_IN));
    // The empty assignment drops the lists read before (Hetzner's hetzner.conf, Debian's pool), so timesyncd asks only these.
    expect(dropIn.values('Time', 'NTP')).toEqual(['', 'ntp1.hetzner.de ntp2.hetzner.com ntp3.hetzner.net']);
    expect(dropIn.values('Time', 'FallbackNTP')).toEqual(['', 'ntp1.hetzner.de ntp2.hetzner.com ntp3.hetzner.net']);
    // timesyncd reads its drop-ins in file name order: this one comes after Hetzner's.
    expect(['hetzner.conf', path.basename(TIMESYNCD_DROP_IN)].sort()).toEqual(['hetzner.conf', path.basename(TIMESYNCD_DROP_IN)]);

    const own = applyEgressAllowlist(machine(checkedStack(), 'App', {}, false), { policy, timeServers: ['time.acme.eu'] });
    expect(own.file(TIME_SERVERS)).toBe('time.acme.eu\n');
    expect(new Unit('timesyncd', own.file(TIMESYNCD_DROP_IN)).values('Time', 'NTP')).toEqual(['', 'time.acme.eu']);
  });

  test('refuses a time server that is not a hostname, and no time server at all', () => {
    const stack = checkedStack();
    expect(() => EgressAllowlist.apply(machine(stack, 'A', {}, false), { policy, timeServers: ['ntp://ntp1.hetzner.de'] }))
      .toThrow(/production\/A\.egressAllowlist\.timeServers\[0\]: 'ntp:\/\/ntp1\.hetzner\.de' is not allowed: .* Fix: /);
    expect(() => EgressAllowlist.apply(machine(stack, 'B', {}, false), { policy, timeServers: [] }))
      .toThrow(/production\/B\.egressAllowlist\.timeServers: .* no time source.* Fix: leave it out for Hetzner's time servers/);
  });

  // DNS over TCP goes to the resolvers only; a construct that declares a destination on 53 (a TCP
  // uptime check of a name server) gets it narrowed to its hostnames, as any other declared port.
  // A port the team opens with allowTcpPort is for the allowlist (587 to a mail relay it lists), as before; a port a
  // construct declares a destination on (a probe's 8443, a Storage Box's 23) is that host's alone.
  test('gives each host its own ports: 80 and 443 to mirrors and processors, a declared port to its host, allowTcpPort\'s to every host', () => {
    const m = machine(checkedStack(), 'App', {}, false);
    const part = applyEgressAllowlist(m, { policy });
    EgressAllowlist.requireHostnames(m, ['u123.your-storagebox.de'], 'backup target the nightly backups are written to', Port.of(23));
    m.allowOutbound(FirewallRule.tcpOut(8443, FirewallRule.ANYWHERE, { description: 'uptime check status' }));
    EgressAllowlist.requireProbeTargets(m, ['status.acme.eu'], 'host the prober probes for uptime check status', Port.of(8443));
    const mirrors = 'deb.debian.org\nsecurity.debian.org\nmirror.hetzner.com\napi.mistral.ai\napi.jina.ai\n';
    expect(part.file('/etc/sovereign/egress-hostnames')).toBe(`ports 80 443\n${mirrors}ports 23\nu123.your-storagebox.de\nports 8443\nstatus.acme.eu\n`);
    EgressAllowlist.allowTcpPort(m, 587, 'SMTP to the mail relay');
    expect(part.file('/etc/sovereign/egress-hostnames')).toBe(`ports 80 443 587\n${mirrors}ports 23 587\nu123.your-storagebox.de\nports 587 8443\nstatus.acme.eu\n`);
    expect(part.file(RULESET)).toMatch(/tcp dport \{ 23, 80, 443, 587, 8443 \} ip daddr \. tcp dport @allowed_v4 accept/);
  });

  test('narrows TCP 53 to the allowlisted hostnames as well when a construct declares a destination on it', () => {
    const m = machine(checkedStack(), 'App', {}, false);
    const part = applyEgressAllowlist(m, { policy });
    expect(EgressAllowlist.narrowedTcpPorts(m)).toEqual([23, 80, 443]);
    EgressAllowlist.requireHostnames(m, ['ns1.acme.eu'], 'uptime check of the DNS server over TCP', 53);
    expect(EgressAllowlist.narrowedTcpPorts(m)).toEqual([23, 53, 80, 443]);
    expect(part.file(RULESET)).toMatch(/tcp dport \{ 23, 53, 80, 443 \} ip daddr \. tcp dport @allowed_v4 accept/);
    // On 53 the declared host alone: the mirrors and processors stay on 80 and 443.
    expect(part.file('/etc/sovereign/egress-hostnames')).toMatch(/^ports 80 443\n(?:(?!ports ).*\n)*ports 53\nns1\.acme\.eu\n$/);
  });

  test('boots from a unit, not from one-time commands, and its commands can run on every rollout', () => {
    const part = egressPart();
    expect(part.commands).toEqual([
      'systemctl daemon-reload',
      `systemctl reenable ${BOOT_UNIT} sovereign-egress-refresh.timer sovereign-egress-refresh.path ${CHECK_UNIT}.timer`,
      // Reloaded, never restarted: the guarded units require it, and a restart would restart them.
      `systemctl reload-or-restart ${BOOT_UNIT}`,
      // The sets filled before any other part's command runs; a refresh that fails fails no rollout.
      `systemctl start ${REFRESH_UNIT} || echo "sovereign-egress: the first refresh failed (journalctl -u sovereign-egress-refresh); the timer retries it" >&2`,
      `systemctl start sovereign-egress-refresh.timer sovereign-egress-refresh.path ${CHECK_UNIT}.timer`,
      'systemctl try-restart systemd-timesyncd.service',
    ]);
    expect(part.commands.join('\n')).not.toMatch(/\bnft\b|sovereign-egress-refresh$/m);

    const boot = part.unit(BOOT_UNIT);
    expect(boot.values('Service', 'Type')).toEqual(['oneshot']);
    expect(boot.values('Service', 'RemainAfterExit')).toEqual(['yes']);
    expect(boot.values('Service', 'ExecStart')).toEqual(['/usr/sbin/nft -f /etc/nftables.d/sovereign-egress.nft']);
    expect(boot.values('Service', 'ExecReload')).toEqual(['/usr/sbin/nft -f /etc/nftables.d/sovereign-egress.nft']);
    expect(boot.values('Service', 'ExecStop')).toEqual([]); // a restart never removes the table
    expect(boot.values('Unit', 'DefaultDependencies')).toEqual(['no']);
    expect(boot.list('Unit', 'Before')).toEqual(expect.arrayContaining(['network-pre.target', 'shutdown.target']));
    expect(boot.list('Unit', 'Wants')).toEqual(expect.arrayContaining(['network-pre.target', REFRESH_UNIT]));
    expect(boot.list('Install', 'WantedBy')).toEqual(['multi-user.target']);

    // The refresh waits for DNS and for the table; the boot path is the table, then the refresh.
    const refresh = part.unit(REFRESH_UNIT);
    expect(refresh.list('Unit', 'After')).toEqual(expect.arrayContaining(['network-online.target', BOOT_UNIT]));
    expect(startPath(part, BOOT_UNIT)).toEqual([
      { unit: BOOT_UNIT, commands: ['/usr/sbin/nft -f /etc/nftables.d/sovereign-egress.nft'] },
      { unit: REFRESH_UNIT, commands: [REFRESH] },
    ]);
    expect(part.unit('sovereign-egress-refresh.timer').list('Install', 'WantedBy')).toEqual(['timers.target']);
    // A changed resolv.conf (or systemd-resolved's list) refreshes at once, not at the next timer run.
    const watch = part.unit('sovereign-egress-refresh.path');
    expect(watch.values('Path', 'PathChanged')).toEqual(['/etc/resolv.conf', '/run/systemd/resolve/resolv.conf']);
    expect(watch.values('Path', 'Unit')).toEqual([REFRESH_UNIT]);
    expect(watch.list('Install', 'WantedBy')).toEqual(['paths.target']);
    // The check runs every 2 minutes; its metric and its repairs' state go with the part.
    const timer = part.unit(`${CHECK_UNIT}.timer`);
    expect(timer.values('Timer', 'OnUnitActiveSec')).toEqual(['2min']);
    expect(timer.list('Install', 'WantedBy')).toEqual(['timers.target']);
    expect(part.unit(`${CHECK_UNIT}.service`).values('Service', 'ExecStart')).toEqual([`/usr/local/sbin/${CHECK_UNIT}`]);
    expect(part.runtimeFiles).toEqual([
      '/var/lib/prometheus/node-exporter/sovereign_egress.prom',
      '/var/lib/prometheus/node-exporter/sovereign_egress_check.prom',
      '/var/lib/prometheus/node-exporter/.sovereign_egress_check.repairs',
    ]);
  });

  test('the refresh script reads its paths from overridable variables and records exactly the agreed metrics', () => {
    const script = egressPart().file(REFRESH);
    expect(script).toMatch(/\$\{EGRESS_HOSTNAMES_FILE:-\/etc\/sovereign\/egress-hostnames\}/);
    expect(script).toMatch(/\$\{EGRESS_RULESET_FILE:-\/etc\/nftables\.d\/sovereign-egress\.nft\}/);
    expect(script).toMatch(/\$\{EGRESS_TEXTFILE_DIR:-\/var\/lib\/prometheus\/node-exporter\}/);
    expect(script).toMatch(/\$\{EGRESS_TIME_SERVERS_FILE:-\/etc\/sovereign\/egress-time-servers\}/);
    expect(script).toMatch(/\$\{EGRESS_RESOLV_CONF:-\/etc\/resolv\.conf\}/);
    expect(script).toMatch(/\$\{EGRESS_RESOLVED_UPSTREAM:-\/run\/systemd\/resolve\/resolv\.conf\}/);
    expect(script).toMatch(/\$\{EGRESS_KEPT_SETS_FILE:-\/var\/lib\/sovereign\/egress\/last-sets\.nft\}/);
    expect([...new Set(script.match(/\bsovereign_egress_[a-z_]+/g))].sort()).toEqual(METRICS);
  });

  // In CI the tools are installed by .ci/run, so a missing one fails instead of skipping.
  const nft = spawnSync('nft', ['--version']).status === 0 || process.env.CI ? test : test.skip;
  nft('renders an nftables ruleset that nft itself accepts', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nft-')), 'egress.nft');
    // With the refresh's load: the same address . port twice in one add (two mirrors on one CDN address) is accepted.
    fs.writeFileSync(file, `${EGRESS_RULESET}add element inet sovereign_egress allowed_v4 { 192.0.2.10 . 443, 192.0.2.10 . 443, 192.0.2.10 . 80 }\n`
      + 'add element inet sovereign_egress allowed_v6 { 2001:db8::10 . 443, 2001:db8::10 . 443 }\n');
    expect(() => execFileSync('nft', ['-c', '-f', file], { stdio: 'pipe' })).not.toThrow();
    // Single address . port pairs: a plain concatenated set. `flags interval` made them the range type (pipapo), which
    // needs Linux 5.6 and nft 0.9.4 and holds nothing a hash set does not.
    expect(EGRESS_RULESET).toMatch(/set allowed_v4 \{ type ipv4_addr \. inet_service; \}/);
    expect(EGRESS_RULESET).toMatch(/set allowed_v6 \{ type ipv6_addr \. inet_service; \}/);
  });

  test('renders a refresh script that sh parses', () => {
    const result = spawnSync('sh', ['-n'], { input: egressPart().file(REFRESH), encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  const cloudInit = spawnSync('cloud-init', ['--version']).status === 0 || process.env.CI ? test : test.skip;
  cloudInit("renders user data that Debian's cloud-init schema validates", () => {
    const m = machine(checkedStack());
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ci-')), 'user-data');
    fs.writeFileSync(file, m.cloudInit.render());
    const result = spawnSync('cloud-init', ['schema', '--config-file', file], { encoding: 'utf8' });
    expect(`${result.stdout}${result.stderr}`).toMatch(/Valid cloud-config/);
    expect(result.status).toBe(0);
  });
});

describe('the boot path and the refresh, run for real in a private network namespace', () => {
  const canRun = spawnSync('unshare', ['-n', 'nft', 'list', 'ruleset']).status === 0 || process.env.CI ? test : test.skip;
  const promtool = spawnSync('promtool', ['--version']).status === 0 || process.env.CI ? test : test.skip;

  // Documentation addresses: the stand-in dig answers with them and nothing is ever sent to them.
  const DNS = {
    'A deb.debian.org': ['192.0.2.10', '192.0.2.11'], 'AAAA deb.debian.org': ['2001:db8::10'],
    'A security.debian.org': ['198.51.100.20'], 'AAAA security.debian.org': ['2001:db8::20'],
    'A mirror.hetzner.com': ['198.51.100.21'], 'AAAA mirror.hetzner.com': ['2001:db8::21'],
    'A u123.your-storagebox.de': ['203.0.113.30'], 'AAAA u123.your-storagebox.de': ['2001:db8::30'],
    'A api.mistral.ai': ['198.51.100.40'], 'A api.jina.ai': ['198.51.100.41'],
    'A ntp1.hetzner.de': ['198.51.100.123'], 'AAAA ntp1.hetzner.de': ['2001:db8::123'],
    'A ntp2.hetzner.com': ['198.51.100.124'], 'A ntp3.hetzner.net': ['198.51.100.125'],
  };
  const TIME_V4 = ['198.51.100.123', '198.51.100.124', '198.51.100.125'];
  /** The resolvers the scratch machine's resolv.conf names. */
  const RESOLVERS_V4 = ['198.51.100.53'];
  const RESOLVERS_V6 = ['2001:db8::53'];
  const ALL_V4 = ['192.0.2.10', '192.0.2.11', '198.51.100.20', '198.51.100.21', '198.51.100.40', '198.51.100.41', '203.0.113.30'];
  const ALL_V6 = ['2001:db8::10', '2001:db8::20', '2001:db8::21', '2001:db8::30'];
  const LIST = 'nft list table inet sovereign_egress';

  let host: ScratchHost | undefined;
  /** The IPv6-only machine's scratch host, which is not built by `scratch()`. */
  let h6: ScratchHost | undefined;
  afterEach(() => { host?.dispose(); h6?.dispose(); h6 = undefined; });

  function scratch(answers: Record<string, readonly string[]> = DNS): ScratchHost {
    host = new ScratchHost(egressPart(), answers);
    writeResolvConf(host, `# written by the test\nnameserver ${RESOLVERS_V4[0]}\nnameserver ${RESOLVERS_V6[0]}\noptions edns0\n`);
    return host;
  }

  function writeResolvConf(h: ScratchHost, content: string, file = '/etc/resolv.conf'): void {
    fs.mkdirSync(path.dirname(h.at(file)), { recursive: true });
    fs.writeFileSync(h.at(file), content);
  }

  // Fixed sleeps raced a loaded machine: a listener 0.5 s after its start was not yet listening (a full run beside
  // other work read ECONNREFUSED for the path that works without the table), and nsenter into an unshare that had
  // not yet switched would configure the test's own namespace. Each start now waits for what it needs, at most 20 s.
  /** Shell: until each process `$VAR` runs in a network namespace of its own (its unshare has switched). */
  const untilUnshared = (...vars: string[]) => vars
    .map((v) => `for i in $(seq 200); do [ "$(readlink /proc/$${v}/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break; sleep 0.1; done`).join('; ');
  /** JavaScript for a listener process: `ready` is the callback of each of its `count` listens; after the last, srv.ready exists. */
  const listening = (count: number) => `let r=0;const ready=()=>{if(++r===${count})require('fs').writeFileSync('srv.ready','')};`;
  /** Shell, in the scratch machine's directory: until the listener started last wrote srv.ready. */
  const UNTIL_LISTENING = 'for i in $(seq 200); do [ -e srv.ready ] && break; sleep 0.1; done';

  // A namespace or listener a step starts lives as long as the steps' runner, the parent ($PPID) of every step, and
  // stopStarted ends it sooner. A clock gave each 20 to 60 s: on a loaded machine one test's steps outlasted it, and
  // its last probes met the world's link gone (ENETUNREACH) or its listener ended.
  /** Shell: a process that ends when the steps' runner does (`unshare -n` it for a namespace held that long). */
  const UNTIL_STEPS_END = 'sh -c "while kill -0 $PPID 2>/dev/null; do sleep 0.2; done"';
  /** JavaScript, in a step's `node -e "…"`: the process exits when the steps' runner has ended. */
  const EXIT_WITH_STEPS = 'setInterval(()=>{try{process.kill($PPID,0)}catch{process.exit()}},200)';

  /**
   * Shell lines, run in the scratch machine's directory, that start a container namespace ($C, its pid in c.pid) joined to
   * the host by the veth pair hc (host) / cc (container), and a world namespace ($W, w.pid) joined by hw / ww. Each lasts
   * as long as the steps (UNTIL_STEPS_END); the caller gives the links their addresses and routes.
   */
  const containerAndWorld = () => [
    `unshare -n ${UNTIL_STEPS_END} & C=$!; unshare -n ${UNTIL_STEPS_END} & W=$!; ${untilUnshared('C', 'W')}`,
    'echo $C > c.pid; echo $W > w.pid',
    'ip link add hc type veth peer name cc && ip link set cc netns $C',
    'ip link add hw type veth peer name ww && ip link set ww netns $W',
  ];

  /** Shell lines, as `containerAndWorld`, for the world namespace alone ($W, w.pid), joined to the host by hw / ww. */
  const worldAlone = () => [
    `unshare -n ${UNTIL_STEPS_END} & W=$!; ${untilUnshared('W')}; echo $W > w.pid`,
    'ip link add hw type veth peer name ww && ip link set ww netns $W',
  ];

  /** Shell: in the world namespace ($W), a TCP server on each of `ports` at `address` that answers and closes, until the steps end. */
  const worldListens = (ports: number[], address: string) => `nsenter -t $W -n ${process.execPath} -e "${listening(ports.length)}const n=require('net');`
    + `for(const p of [${ports.join(',')}])n.createServer((s)=>s.end()).listen(p,'${address}',ready);${EXIT_WITH_STEPS}" & echo $! > srv.pid; ${UNTIL_LISTENING}`;

  /** Ends what a test started in its namespaces, by the pid files (c.pid, srv.pid, …) it wrote in the scratch machine's directory. */
  const stopStarted = (h: ScratchHost, ...pidFiles: string[]) =>
    spawnSync('sh', ['-c', `kill $(cat ${pidFiles.map((f) => `${h.root}/${f}`).join(' ')}) 2>/dev/null`]);

  canRun('the boot path loads the table and fills it with the addresses of the allowlisted hostnames', () => {
    const h = scratch();
    const [boot, list] = h.inNetworkNamespace([h.start(BOOT_UNIT), LIST]);
    expect(boot.stderr).toBe('');
    expect(boot.status).toBe(0);
    expect(setAddresses(list.stdout, 'allowed_v4')).toEqual(ALL_V4);
    expect(setAddresses(list.stdout, 'allowed_v6')).toEqual(ALL_V6);
    expect(setElements(list.stdout, 'resolvers_v4')).toEqual(RESOLVERS_V4);
    expect(setElements(list.stdout, 'resolvers_v6')).toEqual(RESOLVERS_V6);
    expect(setElements(list.stdout, 'time_servers_v4')).toEqual(TIME_V4);
    expect(setElements(list.stdout, 'time_servers_v6')).toEqual(['2001:db8::123']);
    expect(list.stdout).toMatch(/tcp dport \{ 23, 80, 443 \} counter packets 0 bytes 0 reject with tcp reset/);
  });

  /** A shell command that prints 'connected', the error code, or 'timeout' (after 3 s) for a TCP connect from its namespace. */
  const tcpProbe = (port: number, address: string) => `${process.execPath} -e "const s=require('net').connect(${port},'${address}');`
    + `s.on('connect',()=>{console.log('connected');s.destroy()});s.on('error',(e)=>console.log(e.code));setTimeout(()=>{console.log('timeout');process.exit()},3000).unref()"`;

  // Red team: a container (Docker, Podman) on the machine sends through the forward hook, which a
  // table hooked on output alone never sees; the Hetzner firewall then let it reach any host on 443.
  canRun('a container on the machine reaches only allowlisted hosts, as the host itself does', () => {
    const h = scratch();
    const node = process.execPath;
    const connect = (ns: string, address: string) => `nsenter -t ${ns} -n ${tcpProbe(443, address)}`;
    const network = [
      // A container namespace behind the host (Docker's bridge) and a world namespace holding an
      // allowlisted address (api.mistral.ai's stand-in) and one that is not.
      ...containerAndWorld(),
      'ip addr add 172.17.0.1/16 dev hc && ip link set hc up && ip addr add 198.51.100.1/24 dev hw && ip link set hw up && ip link set lo up',
      'echo 1 > /proc/sys/net/ipv4/ip_forward',
      'nsenter -t $C -n sh -c "ip addr add 172.17.0.2/16 dev cc && ip link set cc up && ip route add default via 172.17.0.1"',
      'nsenter -t $W -n sh -c "ip addr add 198.51.100.40/24 dev ww && ip addr add 198.51.100.99/24 dev ww && ip link set ww up && ip route add 172.17.0.0/16 via 198.51.100.1"',
      // The listener ends with the steps: nothing outlives the test.
      `nsenter -t $W -n ${node} -e "${listening(1)}require('net').createServer((s)=>s.end()).listen(443,'0.0.0.0',ready);${EXIT_WITH_STEPS}" & echo $! > srv.pid; ${UNTIL_LISTENING}`,
    ].join('\n');
    const [setup, boot, allowed, other, fromHost] = h.inNetworkNamespace([
      `cd ${h.root}\n${network}`, h.start(BOOT_UNIT),
      connect(`$(cat ${h.root}/c.pid)`, '198.51.100.40'), connect(`$(cat ${h.root}/c.pid)`, '198.51.100.99'),
      tcpProbe(443, '198.51.100.99'),
    ]);
    stopStarted(h, 'c.pid', 'w.pid', 'srv.pid');
    expect({ setup: setup.stderr, allowed: allowed.stderr }).toEqual({ setup: '', allowed: '' });
    expect(boot.status).toBe(0);
    expect(allowed.stdout.trim()).toBe('connected');
    expect(fromHost.stdout.trim()).toBe('ECONNREFUSED');
    expect(other.stdout.trim()).toBe('ECONNREFUSED');
  });

  // The allowlist has IPv6 sets of its own: a destination outside them must be refused over IPv6 as
  // over IPv4, or any program reaches any host through the machine's IPv6 address.
  canRun('over IPv6 too: TCP 443 reaches only allowlisted addresses, DNS and NTP only the resolvers and time servers, other ports nothing, from the host and a container', () => {
    const h = scratch();
    const node = process.execPath;
    const [ALLOWED, RESOLVER, TIME_SERVER, OTHER] = [ALL_V6[0], RESOLVERS_V6[0], '2001:db8::123', '2001:db8::99'];
    const network = [
      ...containerAndWorld(),
      'ip link set lo up && ip -6 addr add fd00:17::1/64 dev hc nodad && ip link set hc up',
      'ip -6 addr add 2001:db8::1/64 dev hw nodad && ip link set hw up',
      'echo 1 > /proc/sys/net/ipv6/conf/all/forwarding',
      'nsenter -t $C -n sh -c "ip link set lo up && ip -6 addr add fd00:17::2/64 dev cc nodad && ip link set cc up && ip -6 route add default via fd00:17::1"',
      // The world: an allowlisted address (deb.debian.org's stand-in), the resolver, a time server and another host.
      `nsenter -t $W -n sh -c "ip link set lo up && for a in ${ALLOWED} ${RESOLVER} ${TIME_SERVER} ${OTHER}; do ip -6 addr add \\$a/64 dev ww nodad; done && ip link set ww up && ip -6 route add fd00:17::/64 via 2001:db8::1"`,
      // TCP 443 and 8443 on every address; UDP 53 and 123 echoed from the address asked, until the steps end.
      `nsenter -t $W -n ${node} -e "${listening(8)}const n=require('net'),d=require('dgram');for(const p of [443,8443])n.createServer((s)=>s.end()).listen(p,'::',ready);`
        + `for(const a of ['${RESOLVER}','${TIME_SERVER}','${OTHER}'])for(const p of [53,123]){const s=d.createSocket('udp6');s.on('message',(m,r)=>s.send(m,r.port,r.address));s.bind(p,a,ready)};${EXIT_WITH_STEPS}" & echo $! > srv.pid; ${UNTIL_LISTENING}`,
    ].join('\n');
    const udp6 = (port: number, address: string) => udpProbe(port, address).replace("createSocket('udp4')", "createSocket('udp6')");
    const probes: Record<string, string> = {
      'tcp 443 allowed': tcpProbe(443, ALLOWED), 'tcp 443 other': tcpProbe(443, OTHER), 'tcp 8443 other': tcpProbe(8443, OTHER),
      'dns resolver': udp6(53, RESOLVER), 'dns other': udp6(53, OTHER), 'ntp time server': udp6(123, TIME_SERVER), 'ntp other': udp6(123, OTHER),
    };
    const names = Object.keys(probes);
    const inContainer = (probe: string) => `nsenter -t $(cat ${h.root}/c.pid) -n ${probe}`;
    const [setup, before, boot, ...results] = h.inNetworkNamespace([
      `cd ${h.root}\n${network}`, tcpProbe(443, OTHER), h.start(BOOT_UNIT),
      ...names.map((n) => probes[n]), ...names.map((n) => inContainer(probes[n])),
    ]);
    stopStarted(h, 'c.pid', 'w.pid', 'srv.pid');
    expect(setup.stderr).toBe('');
    expect(before.stdout.trim()).toBe('connected'); // the path works without the table
    expect(boot.status).toBe(0);
    const blocked = expect.stringMatching(/^(EPERM|ECONNREFUSED)$/);
    const expected = {
      'tcp 443 allowed': 'connected', 'tcp 443 other': 'ECONNREFUSED', 'tcp 8443 other': 'ECONNREFUSED',
      // A refused datagram fails the sending socket (EPERM) or comes back unreachable (ECONNREFUSED).
      'dns resolver': 'answered', 'dns other': blocked, 'ntp time server': 'answered', 'ntp other': blocked,
    };
    const seen = (from: number) => Object.fromEntries(names.map((n, i) => [n, results[from + i].stdout.trim()]));
    expect({ host: seen(0), container: seen(names.length) }).toEqual({ host: expected, container: expected });
  });

  // A machine without a public IPv4 (publicIpv4: false) has no IPv4 route at all, and its resolv.conf names IPv6
  // resolvers alone. Its backups (TCP 23 to the Storage Box) and apt (80/443 to the mirrors) go over IPv6, where the
  // table must let them through, and still refuse every other host on those ports. Addresses are unique-local, on
  // links inside namespaces the test creates.
  canRun('on a machine without IPv4: the refresh fills the IPv6 sets from IPv6 resolvers, backups reach the Storage Box and apt its mirror over IPv6, other hosts nothing', () => {
    const m = machine(checkedStack(), 'App', { publicIpv4: false, adminCidrs: ['2001:db8:a0::/48'] }, false);
    const part = applyEgressAllowlist(m, { policy });
    EgressAllowlist.requireHostnames(m, ['u123.your-storagebox.de'], 'backup target the nightly backups are written to', 23);
    const [BOX, MIRROR, OTHER, RESOLVER] = ['fd00:64::30', 'fd00:64::10', 'fd00:64::99', 'fd00:64::53'];
    h6 = new ScratchHost(part, {
      ...DNS, 'AAAA u123.your-storagebox.de': [BOX], 'AAAA deb.debian.org': [MIRROR], 'AAAA security.debian.org': ['fd00:64::20'],
      'AAAA mirror.hetzner.com': ['fd00:64::21'], 'AAAA ntp1.hetzner.de': ['fd00:64::123'],
    });
    const h = h6;
    writeResolvConf(h, `nameserver ${RESOLVER}\n`);
    const network = [
      ...worldAlone(),
      // IPv6 only: the machine's one address and its default route; lo keeps 127.0.0.1, no other IPv4 exists.
      'ip link set lo up && ip -6 addr add fd00:64::1/64 dev hw nodad && ip link set hw up && ip -6 route add default via fd00:64::ff',
      `nsenter -t $W -n sh -c "ip link set lo up && for a in fd00:64::ff ${BOX} ${MIRROR} ${OTHER}; do ip -6 addr add \\$a/64 dev ww nodad; done && ip link set ww up"`,
      worldListens([23, 80, 443], '::'),
    ].join('\n');
    const steps: Record<string, string> = {
      setup: `cd ${h.root}\n${network}`,
      otherBefore: tcpProbe(23, OTHER), noIpv4: tcpProbe(23, '203.0.113.30'),
      boot: h.start(BOOT_UNIT), listed: LIST,
      box: tcpProbe(23, BOX), mirrorHttp: tcpProbe(80, MIRROR), mirrorHttps: tcpProbe(443, MIRROR),
      otherOn23: tcpProbe(23, OTHER), otherOn443: tcpProbe(443, OTHER), boxOn443: tcpProbe(443, BOX),
    };
    const names = Object.keys(steps);
    const results = h.inNetworkNamespace(Object.values(steps));
    stopStarted(h, 'w.pid', 'srv.pid');
    const r = Object.fromEntries(names.map((n, i) => [n, results[i]]));
    const out = (n: string) => r[n].stdout.trim();
    expect({ setup: r.setup.stderr, boot: r.boot.status, bootErr: r.boot.stderr }).toEqual({ setup: '', boot: 0, bootErr: '' });
    expect(out('otherBefore')).toBe('connected'); // the path works without the table
    expect(out('noIpv4')).toBe('ENETUNREACH'); // and nothing goes out over IPv4
    expect(setElements(r.listed.stdout, 'resolvers_v6')).toEqual([RESOLVER]);
    expect(setElements(r.listed.stdout, 'resolvers_v4')).toEqual([]);
    expect(setAddresses(r.listed.stdout, 'allowed_v6')).toEqual(expect.arrayContaining([BOX, MIRROR]));
    expect(setAddresses(r.listed.stdout, 'allowed_v6')).not.toContain(OTHER);
    expect({ box: out('box'), mirrorHttp: out('mirrorHttp'), mirrorHttps: out('mirrorHttps') })
      .toEqual({ box: 'connected', mirrorHttp: 'connected', mirrorHttps: 'connected' });
    // Each allowlisted address on its own host's ports only: the box, declared on 23, is not reached on 443.
    expect({ otherOn23: out('otherOn23'), otherOn443: out('otherOn443'), boxOn443: out('boxOn443') })
      .toEqual({ otherOn23: 'ECONNREFUSED', otherOn443: 'ECONNREFUSED', boxOn443: 'ECONNREFUSED' });
  });

  // Red team: the host table narrowed only 23/80/443 and left every other port to the Hetzner
  // firewall, which filters the public interface only: routed out through a private-network NAT
  // gateway (hcloud_network_route), a sensitive machine reached any host on any other port.
  canRun('routed out through a private-network gateway, other ports stay closed; DNS still goes out', () => {
    const h = scratch();
    const node = process.execPath;
    const connect = (port: number) => tcpProbe(port, '198.51.100.99');
    const network = [
      // The host's only route out is a gateway on its private network (10.0.1.1), which forwards to the world.
      `unshare -n ${UNTIL_STEPS_END} & G=$!; ${untilUnshared('G')}; echo $G > g.pid`,
      'ip link add priv type veth peer name gw && ip link set gw netns $G',
      'ip addr add 10.0.1.2/24 dev priv && ip link set priv up && ip link set lo up && ip route add default via 10.0.1.1',
      'nsenter -t $G -n sh -c "ip addr add 10.0.1.1/24 dev gw && ip link set gw up && ip addr add 198.51.100.99/32 dev lo && ip link set lo up"',
      `nsenter -t $G -n sh -c "ip addr add ${RESOLVERS_V4[0]}/32 dev lo"`,
      `nsenter -t $G -n ${node} -e "${listening(2)}const n=require('net');for(const p of [8443,53]){n.createServer((s)=>s.end()).listen(p,'0.0.0.0',ready)};${EXIT_WITH_STEPS}" & echo $! > srv.pid; ${UNTIL_LISTENING}`,
    ].join('\n');
    const [setup, before, dnsBefore, boot, other, dns, dnsElsewhere] = h.inNetworkNamespace([
      `cd ${h.root}\n${network}`, connect(8443), connect(53), h.start(BOOT_UNIT), connect(8443), tcpProbe(53, RESOLVERS_V4[0]), connect(53),
    ]);
    stopStarted(h, 'g.pid', 'srv.pid');
    expect(setup.stderr).toBe('');
    expect(before.stdout.trim()).toBe('connected'); // the path works without the table
    expect(dnsBefore.stdout.trim()).toBe('connected');
    expect(boot.status).toBe(0);
    expect(other.stdout.trim()).toBe('ECONNREFUSED');
    expect(dns.stdout.trim()).toBe('connected'); // DNS over TCP to the machine's resolver
    expect(dnsElsewhere.stdout.trim()).toBe('ECONNREFUSED'); // and to no other address
  });

  /**
   * A shell command that sends one UDP datagram from its namespace and prints 'answered' when the echo
   * comes back, the error code when the send or the socket fails, or 'timeout' after 1.5 s.
   */
  const udpProbe = (port: number, address: string) => `${process.execPath} -e "const s=require('dgram').createSocket('udp4');`
    + `const end=(w)=>{console.log(w);process.exit()};s.on('message',()=>end('answered'));s.on('error',(e)=>end(e.code));`
    + `s.connect(${port},'${address}',()=>s.send('probe',(e)=>{if(e)end(e.code)}));setTimeout(()=>end('timeout'),1500)"`;

  // Red team: DNS (53) and NTP (123/udp) went to any address, so any program on the machine, or in a
  // container on it, could send arbitrary datagrams to a host of its choosing on those ports; no DNS
  // or NTP was needed. They now reach only the machine's resolvers and time servers.
  canRun('DNS and NTP reach only the resolvers and the time servers, from the host and from its containers; the resolvers follow resolv.conf across a second deploy', () => {
    const h = scratch();
    const node = process.execPath;
    const RESOLVER = RESOLVERS_V4[0];
    const TIME_SERVER = TIME_V4[0];
    const OTHER = '198.51.100.99';
    const network = [
      // A container namespace behind the host (Docker's bridge), and the world: the resolver, a time server and another host.
      ...containerAndWorld(),
      'ip addr add 172.17.0.1/16 dev hc && ip link set hc up && ip addr add 198.51.100.1/24 dev hw && ip link set hw up && ip link set lo up',
      'echo 1 > /proc/sys/net/ipv4/ip_forward',
      'nsenter -t $C -n sh -c "ip addr add 172.17.0.2/16 dev cc && ip link set cc up && ip route add default via 172.17.0.1"',
      `nsenter -t $W -n sh -c "for a in ${RESOLVER} ${TIME_SERVER} ${OTHER}; do ip addr add \\$a/24 dev ww; done && ip link set ww up && ip route add 172.17.0.0/16 via 198.51.100.1"`,
      // Every address echoes on 53 and 123 (its own socket, so the answer comes from the address asked), until the steps end.
      `nsenter -t $W -n ${node} -e "${listening(6)}const d=require('dgram');for(const a of ['${RESOLVER}','${TIME_SERVER}','${OTHER}'])for(const p of [53,123]){const s=d.createSocket('udp4');s.on('message',(m,r)=>s.send(m,r.port,r.address));s.bind(p,a,ready)};${EXIT_WITH_STEPS}" & echo $! > srv.pid; ${UNTIL_LISTENING}`,
    ].join('\n');
    const inContainer = (probe: string) => `nsenter -t $(cat ${h.root}/c.pid) -n ${probe}`;
    const steps: Record<string, string> = {
      setup: `cd ${h.root}\n${network}`,
      dnsElsewhereBefore: udpProbe(53, OTHER), ntpElsewhereBefore: udpProbe(123, OTHER),
      boot: h.start(BOOT_UNIT),
      dns: udpProbe(53, RESOLVER), dnsElsewhere: udpProbe(53, OTHER),
      ntp: udpProbe(123, TIME_SERVER), ntpElsewhere: udpProbe(123, OTHER), ntpToResolver: udpProbe(123, RESOLVER),
      containerDns: inContainer(udpProbe(53, RESOLVER)), containerDnsElsewhere: inContainer(udpProbe(53, OTHER)),
      containerNtp: inContainer(udpProbe(123, TIME_SERVER)), containerNtpElsewhere: inContainer(udpProbe(123, OTHER)),
      // The machine is given another resolver: the path unit starts the refresh.
      changed: `printf 'nameserver ${OTHER}\\n' > ${h.at('/etc/resolv.conf')}\n${h.start(REFRESH_UNIT)}`,
      newResolver: udpProbe(53, OTHER), oldResolver: udpProbe(53, RESOLVER),
      // A second deploy restarts the boot unit, which reloads the table and refreshes it.
      redeploy: h.start(BOOT_UNIT), listed: LIST,
      newResolverAfterRedeploy: udpProbe(53, OTHER), oldResolverAfterRedeploy: udpProbe(53, RESOLVER),
    };
    const names = Object.keys(steps);
    const results = h.inNetworkNamespace(Object.values(steps));
    stopStarted(h, 'c.pid', 'w.pid', 'srv.pid');
    const r = Object.fromEntries(names.map((n, i) => [n, results[i]]));
    const out = (n: string) => r[n].stdout.trim();
    expect({ setup: r.setup.stderr, boot: r.boot.status, changed: r.changed.status, redeploy: r.redeploy.status })
      .toEqual({ setup: '', boot: 0, changed: 0, redeploy: 0 });
    // Without the table every probe is answered: the blocks below are the table's.
    expect([out('dnsElsewhereBefore'), out('ntpElsewhereBefore')]).toEqual(['answered', 'answered']);
    expect([out('dns'), out('ntp'), out('containerDns'), out('containerNtp')]).toEqual(['answered', 'answered', 'answered', 'answered']);
    // Refused by the table's reject: the send fails on the host (EPERM), the container gets port unreachable.
    for (const blocked of ['dnsElsewhere', 'ntpElsewhere', 'ntpToResolver', 'containerDnsElsewhere', 'containerNtpElsewhere']) {
      expect({ [blocked]: out(blocked) }).toEqual({ [blocked]: expect.stringMatching(/^(EPERM|ECONNREFUSED)$/) });
    }
    // resolv.conf changed: the new resolver is reachable, the old one no longer; a second deploy keeps it so.
    expect([out('newResolver'), out('oldResolver')]).toEqual(['answered', out('dnsElsewhere')]);
    expect(setElements(r.listed.stdout, 'resolvers_v4')).toEqual([OTHER]);
    expect(setElements(r.listed.stdout, 'resolvers_v6')).toEqual([]);
    expect([out('newResolverAfterRedeploy'), out('oldResolverAfterRedeploy')]).toEqual(['answered', out('dnsElsewhere')]);
  }, 60_000);

  canRun('reads the resolvers systemd-resolved forwards to when resolv.conf names its stub, and falls back to Hetzner\'s when none is named', () => {
    const h = scratch();
    writeResolvConf(h, 'nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n');
    writeResolvConf(h, 'nameserver 203.0.113.53\nnameserver 2001:db8::5353\nnameserver fe80::1%eth0\n', '/run/systemd/resolve/resolv.conf');
    const [stub, stubList, none, noneList] = h.inNetworkNamespace([
      h.start(BOOT_UNIT), LIST,
      `printf 'nameserver 127.0.0.1\\n' > ${h.at('/etc/resolv.conf')} && ${h.localize(REFRESH)}`, LIST,
    ]);
    expect(stub.stderr).toBe('');
    expect(setElements(stubList.stdout, 'resolvers_v4')).toEqual(['203.0.113.53']);
    expect(setElements(stubList.stdout, 'resolvers_v6')).toEqual(['2001:db8::5353']);
    // Only a loopback resolver (and no stub): Hetzner's, and the journal says so.
    expect(none.status).toBe(0);
    expect(none.stderr).toMatch(/name no resolver outside this machine; DNS may reach Hetzner's \(185\.12\.64\.1, 185\.12\.64\.2, 2a01:4ff:ff00::add:1, 2a01:4ff:ff00::add:2\)/);
    expect(setElements(noneList.stdout, 'resolvers_v4')).toEqual(['185.12.64.1', '185.12.64.2']);
    expect(setElements(noneList.stdout, 'resolvers_v6')).toEqual(['2a01:4ff:ff00::add:1', '2a01:4ff:ff00::add:2']);
  });

  // Hetzner's metadata service (169.254.169.254) answers cloud-init and the identity check that every
  // backup and monitoring job runs first (over HTTP, port 80): the table reset it like any host off the allowlist.
  canRun('the metadata service and the link stay reachable: link-local addresses are not narrowed', () => {
    const h = scratch();
    const network = [
      `unshare -n ${UNTIL_STEPS_END} & M=$!; ${untilUnshared('M')}; echo $M > m.pid`,
      'ip link add eth0 type veth peer name md && ip link set md netns $M',
      'ip addr add 172.31.1.100/32 dev eth0 && ip link set eth0 up && ip link set lo up && ip route add 169.254.169.254/32 dev eth0',
      'nsenter -t $M -n sh -c "ip addr add 169.254.169.254/32 dev md && ip link set md up && ip route add 172.31.1.100/32 dev md"',
      `nsenter -t $M -n ${process.execPath} -e "${listening(1)}require('net').createServer((s)=>s.end()).listen(80,'169.254.169.254',ready);${EXIT_WITH_STEPS}" & echo $! > srv.pid; ${UNTIL_LISTENING}`,
    ].join('\n');
    const [setup, before, boot, after] = h.inNetworkNamespace([`cd ${h.root}\n${network}`, tcpProbe(80, '169.254.169.254'), h.start(BOOT_UNIT), tcpProbe(80, '169.254.169.254')]);
    stopStarted(h, 'm.pid', 'srv.pid');
    expect(setup.stderr).toBe('');
    expect(before.stdout.trim()).toBe('connected');
    expect(boot.status).toBe(0);
    expect(after.stdout.trim()).toBe('connected');
  });

  canRun('survives a reboot: with all nftables state gone, the boot path brings the table back', () => {
    const h = scratch();
    const before = Math.floor(Date.now() / 1000);
    const [boot, listed, reboot, gone, bootAgain, listedAgain] = h.inNetworkNamespace([
      h.start(BOOT_UNIT), LIST,
      'nft flush ruleset', 'nft list ruleset', // a reboot: the kernel forgets every table
      h.start(BOOT_UNIT), LIST,
    ]);
    expect(boot.status).toBe(0);
    expect(setAddresses(listed.stdout, 'allowed_v4')).toEqual(ALL_V4);
    expect(reboot.status).toBe(0);
    expect(gone.stdout.trim()).toBe('');
    expect(bootAgain.stderr).toBe('');
    expect(bootAgain.status).toBe(0);
    expect(setAddresses(listedAgain.stdout, 'allowed_v4')).toEqual(ALL_V4);
    expect(setAddresses(listedAgain.stdout, 'allowed_v6')).toEqual(ALL_V6);
    // The resolvers are read from resolv.conf again, not left at the ruleset's Hetzner defaults.
    expect(setElements(listedAgain.stdout, 'resolvers_v4')).toEqual(RESOLVERS_V4);
    expect(setElements(listedAgain.stdout, 'time_servers_v4')).toEqual(TIME_V4);
    const metrics = h.metrics();
    expect(metrics).toMatchObject({ sovereign_egress_refresh_success: 1, sovereign_egress_table_present: 1 });
    expect(metrics.sovereign_egress_refresh_timestamp_seconds).toBeGreaterThanOrEqual(before);
  });

  canRun('a rollout reloads the table over the loaded one and refreshes it: still one table, filled again', () => {
    const h = scratch();
    // What `systemctl reload-or-restart` and then `systemctl start <refresh>` run on a machine whose table is loaded.
    const part = egressPart();
    const commands = [...part.unit(BOOT_UNIT).values('Service', 'ExecReload'), ...part.unit(REFRESH_UNIT).values('Service', 'ExecStart')];
    expect(commands).toHaveLength(2);
    const reload = ['set -e', ...commands.map((c) => h.localize(c))].join('\n');
    const [boot, again, tables, list] = h.inNetworkNamespace([h.start(BOOT_UNIT), reload, 'nft list tables', LIST]);
    expect(boot.status).toBe(0);
    expect(again.stderr).toBe('');
    expect(again.status).toBe(0);
    expect(tables.stdout.trim()).toBe('table inet sovereign_egress');
    expect(list.stdout.match(/reject with tcp reset/g)).toHaveLength(4); // replaced, not appended to (two per chain, output and forward)
    expect(setAddresses(list.stdout, 'allowed_v4')).toEqual(ALL_V4);
  });

  /** api.mistral.ai's stand-in, and a host on no allowlist, both in the world namespace of `allowedAndOther`. */
  const ALLOWED = '198.51.100.40';
  const OTHER = '198.51.100.99';
  /** Shell: the world namespace alone with ALLOWED and OTHER listening on 443, the machine routed to them. */
  const allowedAndOther = [
    ...worldAlone(),
    'ip link set lo up && ip addr add 198.51.100.1/24 dev hw && ip link set hw up',
    `nsenter -t $W -n sh -c "ip link set lo up && ip addr add ${ALLOWED}/24 dev ww && ip addr add ${OTHER}/24 dev ww && ip link set ww up"`,
    worldListens([443], '0.0.0.0'),
  ].join('\n');
  /** Shell: DNS down from here on, a dig that answers nothing first on PATH. */
  function withoutDns(h: ScratchHost): string {
    const noDns = path.join(h.root, 'no-dns');
    fs.mkdirSync(noDns, { recursive: true });
    fs.writeFileSync(path.join(noDns, 'dig'), '#!/bin/sh\nexit 9\n', { mode: 0o755 });
    return `PATH=${noDns}:$PATH`;
  }

  // The table let every allowlisted address through on every narrowed port (`tcp dport { … } ip daddr @allowed_v4`): a
  // probe target on 8443 opened 8443 to every allowlisted host, a model provider's API among them. Each address is now
  // allowed on its own host's ports, and a machine running the previous table takes the new one over it, and keeps it
  // through a restart of nftables and the check's restore.
  canRun('each host on its own ports: a probe target on 8443 opens 8443 to it alone, after an upgrade from the previous table, a restart and a restore', () => {
    const m = machine(checkedStack(), 'App', {}, false);
    const part = applyEgressAllowlist(m, { policy });
    m.allowOutbound(FirewallRule.tcpOut(8443, FirewallRule.ANYWHERE, { description: 'uptime check status' }));
    EgressAllowlist.requireProbeTargets(m, ['status.acme.eu'], 'host the prober probes for uptime check status', Port.of(8443));
    const [MISTRAL, PROBED] = ['198.51.100.40', '198.51.100.50'];
    const h = new ScratchHost(part, { ...DNS, 'A status.acme.eu': [PROBED] });
    host = h;
    writeResolvConf(h, `nameserver ${RESOLVERS_V4[0]}\n`);
    const hosts = h.at('/etc/sovereign/egress-hostnames');
    const hostnames = fs.readFileSync(hosts, 'utf8');
    const conf = h.at('/etc/nftables.conf');
    fs.writeFileSync(conf, DEBIAN_NFTABLES_CONF);
    const nftables = nftablesService(part.files.find((f) => f.path === NFTABLES_DROP_IN)!.content, conf);
    // The previous release's table, live with its addresses, and the addresses it kept, fingerprinted from its hostnames file.
    const old = [
      'table inet sovereign_egress {',
      '  set allowed_v4 { type ipv4_addr; flags interval; elements = { 192.0.2.10, 198.51.100.40, 198.51.100.50 }; }',
      '  set allowed_v6 { type ipv6_addr; flags interval; }',
      '  chain output {',
      '    type filter hook output priority 0; policy accept;',
      '    tcp dport { 23, 80, 443, 8443 } ip daddr @allowed_v4 accept',
      '    tcp dport { 23, 80, 443, 8443 } ip6 daddr @allowed_v6 accept',
      '    tcp dport { 23, 80, 443, 8443 } counter reject with tcp reset',
      '  }',
      '}',
    ].join('\n');
    fs.writeFileSync(path.join(h.root, 'old.nft'), `${old}\n`);
    const kept = h.at('/var/lib/sovereign/egress/last-sets.nft');
    const sources = `for f in old-hostnames ${h.at(TIME_SERVERS)}; do cat $f | sha256sum; done | sha256sum | cut -d ' ' -f 1`;
    const previous = [
      `cd ${h.root} && grep -v '^ports ' ${hosts} >old-hostnames && mkdir -p ${path.dirname(kept)}`,
      `printf '%s\\n' "# sources $(${sources})" 'flush set inet sovereign_egress allowed_v4' 'add element inet sovereign_egress allowed_v4 { 192.0.2.10, 198.51.100.40, 198.51.100.50 }' >${kept}`,
      `cp ${hosts} new-hostnames && cp old-hostnames ${hosts} && nft -f old.nft`,
    ].join('\n');
    const probes = (round: string) => ({
      [`${round}:mistral443`]: tcpProbe(443, MISTRAL), [`${round}:mistral8443`]: tcpProbe(8443, MISTRAL),
      [`${round}:probed8443`]: tcpProbe(8443, PROBED), [`${round}:probed443`]: tcpProbe(443, PROBED),
    });
    const steps: Record<string, string> = {
      // Setup, the previous table, the upgrade, a restart, the check's restore and 16 probes in one namespace run.
      setup: [`cd ${h.root}`, ...worldAlone(), 'ip addr add 198.51.100.1/24 dev hw && ip link set hw up && ip link set lo up',
        `nsenter -t $W -n sh -c "ip link set lo up && ip addr add ${MISTRAL}/24 dev ww && ip addr add ${PROBED}/24 dev ww && ip link set ww up"`,
        worldListens([443, 8443], '0.0.0.0')].join('\n'),
      previous, ...probes('previous'),
      // The rollout writes the new files, reloads the boot unit (the new definition over the live old table) and refreshes.
      upgrade: `cp ${h.root}/new-hostnames ${hosts}\n${h.start(BOOT_UNIT)}`, ...probes('upgrade'), 'upgrade:listed': LIST,
      restart: ['set -e', ...nftables.restart.map((c) => h.localize(c))].join('\n'), ...probes('restart'),
      flushed: `nft flush ruleset\n${h.start(`${CHECK_UNIT}.service`)}`, ...probes('flushed'), 'flushed:listed': LIST,
    };
    const names = Object.keys(steps);
    const results = h.inNetworkNamespace(Object.values(steps));
    stopStarted(h, 'w.pid', 'srv.pid');
    const r = Object.fromEntries(names.map((n, i) => [n, results[i]]));
    expect({ setup: r.setup.stderr, previous: r.previous.stderr, upgrade: r.upgrade.status, restart: r.restart.status, restartErr: r.restart.stderr, flushed: r.flushed.status })
      .toEqual({ setup: '', previous: '', upgrade: 0, restart: 0, restartErr: '', flushed: 0 });
    const seen = (round: string) => Object.fromEntries(['mistral443', 'mistral8443', 'probed8443', 'probed443'].map((p) => [p, r[`${round}:${p}`].stdout.trim()]));
    // The previous table: the model provider's API was reached on the probe's port.
    expect(seen('previous')).toEqual({ mistral443: 'connected', mistral8443: 'connected', probed8443: 'connected', probed443: 'connected' });
    const own = { mistral443: 'connected', mistral8443: 'ECONNREFUSED', probed8443: 'connected', probed443: 'ECONNREFUSED' };
    expect({ upgrade: seen('upgrade'), restart: seen('restart'), flushed: seen('flushed') }).toEqual({ upgrade: own, restart: own, flushed: own });
    for (const listed of ['upgrade:listed', 'flushed:listed']) {
      expect(setElements(r[listed].stdout, 'allowed_v4')).toEqual(expect.arrayContaining([`${MISTRAL} . 443`, `${MISTRAL} . 80`, `${PROBED} . 8443`, '192.0.2.10 . 443']));
      expect(setElements(r[listed].stdout, 'allowed_v4')).not.toContain(`${MISTRAL} . 8443`);
    }
    // The refresh's source: the hosts of each set of ports under its line.
    expect(hostnames).toBe('ports 80 443\ndeb.debian.org\nsecurity.debian.org\nmirror.hetzner.com\napi.mistral.ai\napi.jina.ai\nports 8443\nstatus.acme.eu\n');
  }, 60_000);

  // A ping URL on its own port (https://hc.acme.eu:8443/…) was declared on 443, and the team opened 8443 with
  // allowTcpPort, which the table opens to every allowlisted host: api.mistral.ai was reached on 8443 too. The heartbeat
  // now declares its port, and the plan opens it for the ping host alone.
  canRun('a heartbeat with its own port: the ping host is reached on it, a model provider\'s API is not', () => {
    const stack = checkedStack();
    const m = machine(stack, 'App', {}, false);
    const part = applyEgressAllowlist(m, { policy });
    const secret = (name: string) => new TerraformVariable(stack, name, { type: 'string', sensitive: true });
    const account = StorageBoxAccount.fromAttributes({ host: 'u123.your-storagebox.de', username: 'u123', location: Location.HEL1, readonly: false, password: secret('box_password') });
    BackupPlan.phase1(stack, 'Backups', {
      environment: Environment.PRODUCTION, resticPassword: secret('restic_password'),
      heartbeat: Heartbeat.healthchecks(secret('heartbeat_url'), { port: Port.of(8443) }),
      targets: [BackupTarget.storageBox(account, { hostKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl'] })],
    }).protect(m);
    const [MISTRAL, PING] = ['198.51.100.40', '198.51.100.60'];
    const h = new ScratchHost(part, { ...DNS, 'A hc.acme.eu': [PING] });
    host = h;
    writeResolvConf(h, `nameserver ${RESOLVERS_V4[0]}\n`);
    // Terraform renders the ping host from the secret URL at deploy: its one token in the file is the ping host.
    const hosts = h.at('/etc/sovereign/egress-hostnames');
    const rendered = fs.readFileSync(hosts, 'utf8');
    expect(rendered.match(/\$\{TfToken\[[^\]]+\]\}/g)).toHaveLength(1);
    fs.writeFileSync(hosts, rendered.replace(/\$\{TfToken\[[^\]]+\]\}/, 'hc.acme.eu'));
    const steps: Record<string, string> = {
      setup: [`cd ${h.root}`, ...worldAlone(), 'ip addr add 198.51.100.1/24 dev hw && ip link set hw up && ip link set lo up',
        `nsenter -t $W -n sh -c "ip link set lo up && ip addr add ${MISTRAL}/24 dev ww && ip addr add ${PING}/24 dev ww && ip link set ww up"`,
        worldListens([443, 8443], '0.0.0.0')].join('\n'),
      boot: h.start(BOOT_UNIT),
      ping8443: tcpProbe(8443, PING), mistral8443: tcpProbe(8443, MISTRAL), mistral443: tcpProbe(443, MISTRAL),
    };
    const names = Object.keys(steps);
    const results = h.inNetworkNamespace(Object.values(steps));
    stopStarted(h, 'w.pid', 'srv.pid');
    const r = Object.fromEntries(names.map((n, i) => [n, results[i]]));
    expect({ setup: r.setup.stderr, boot: r.boot.status }).toEqual({ setup: '', boot: 0 });
    expect({ ping8443: r.ping8443.stdout.trim(), mistral8443: r.mistral8443.stdout.trim(), mistral443: r.mistral443.stdout.trim() })
      .toEqual({ ping8443: 'connected', mistral8443: 'ECONNREFUSED', mistral443: 'connected' });
    // The firewall opens 8443 for the ping host (the plan's rule), and nothing else is declared on it.
    expect(m.egressRules.filter((rule) => rule.ports?.from === 8443).map((rule) => rule.description)).toEqual(['ping host of a backup heartbeat (host allowlist narrows it to the ping host)']);
    expect(synthErrors(stack)).toBe('');
  }, 60_000);

  // Debian's /etc/nftables.conf starts with `flush ruleset`: `systemctl restart nftables` (or its reload) removed the
  // table, and only the next refresh, up to 10 minutes later, loaded it again; until then every host was reachable.
  // Then a drop-in loaded it after Debian's commands, which left it missing for milliseconds, and a stop removed it.
  canRun('through systemctl restart, reload and stop of nftables the table stays, never missing, with the last addresses, DNS down; never with a removed host\'s', () => {
    const h = scratch();
    const conf = h.at('/etc/nftables.conf');
    fs.writeFileSync(conf, DEBIAN_NFTABLES_CONF);
    // Without the drop-in (before it existed), nftables.service runs its own commands alone.
    const nftables = nftablesService(egressPart().files.find((f) => f.path === NFTABLES_DROP_IN)?.content ?? '', conf);
    // DNS is down while nftables restarts.
    const noDns = withoutDns(h);
    const run = (commands: string[]) => ['set -e', noDns, ...commands.map((c) => h.localize(c))].join('\n');
    const probes = (round: string) => ({ [`${round}:allowed`]: tcpProbe(443, ALLOWED), [`${round}:other`]: tcpProbe(443, OTHER), [`${round}:listed`]: LIST });
    const kept = h.at('/var/lib/sovereign/egress/last-sets.nft');
    fs.writeFileSync(path.join(h.root, 'restart.sh'), run(nftables.restart));
    fs.writeFileSync(path.join(h.root, 'reload.sh'), run(nftables.reload));
    const steps: Record<string, string> = {
      setup: `cd ${h.root}\n${allowedAndOther}`,
      // Before any refresh kept addresses: the table, its address sets empty.
      'first:restart': run(nftables.restart), 'first:listed': LIST,
      boot: h.start(BOOT_UNIT), ...probes('boot'),
      restart: run(nftables.restart), ...probes('restart'),
      reload: run(nftables.reload), ...probes('reload'),
      // Debian's stop flushed everything: the table went with the rest, open until the check. Now the stop keeps it.
      stop: run(nftables.stop), ...probes('stop'),
      // Debian's stop, start and reload each ran in a transaction of their own, and the table came back only after
      // them: another process listing the table between found it missing. Now it never is, through restarts and reloads.
      watch: [
        `cd ${h.root}`,
        '( polls=0; missing=0; : >polling; while [ ! -e watched ]; do polls=$((polls+1)); nft list table inet sovereign_egress >/dev/null 2>&1 || missing=$((missing+1)); done; echo "polls $polls missing $missing" >watch.out ) & P=$!',
        // The poller runs before the first restart.
        'until [ -e polling ]; do :; done',
        'for i in 1 2 3 4 5 6 7 8 9 10; do sh restart.sh >/dev/null 2>&1 && sh reload.sh >/dev/null 2>&1 || echo "round $i failed"; done',
        'touch watched; wait $P; rm -f watched; cat watch.out',
      ].join('\n'),
      // An /etc/nftables.conf that does not load: the restart fails, the table kept with its addresses (Debian's stop had
      // flushed it, and the start never came to the drop-in's load); its stop done, the conf's own table is gone.
      'broken-conf': `cp ${conf} ${conf}.good && echo 'table inet filter { bogus' >${conf}`, 'broken-conf:restart': run(nftables.restart), 'broken-conf:listed': LIST,
      'broken-conf:tables': 'nft list tables',
      // Kept addresses that no longer load (the fingerprint still matches): loaded again with the address sets empty.
      'bad-kept': `mv ${conf}.good ${conf} && echo 'add element inet sovereign_egress no_such_set { 192.0.2.99 }' >>${kept}`,
      'bad-kept:restart': run(nftables.restart), 'bad-kept:listed': LIST,
      // A deploy removed a hostname (api.mistral.ai, ALLOWED) and its refresh has not kept theirs yet: none come back. The
      // file keeps the kept addresses' time to the nanosecond, as when a rollback copies it back with its old time, or
      // both are written in one clock tick: file times judged these addresses fresh and brought the removed host back.
      deployed: `sed -i '/^api\\.mistral\\.ai$/d' ${h.at('/etc/sovereign/egress-hostnames')} && touch -r ${h.at('/var/lib/sovereign/egress/last-sets.nft')} ${h.at('/etc/sovereign/egress-hostnames')}`,
      'deployed:restart': run(nftables.restart), 'deployed:allowed': tcpProbe(443, ALLOWED), 'deployed:other': tcpProbe(443, OTHER), 'deployed:listed': LIST,
    };
    const names = Object.keys(steps);
    const results = h.inNetworkNamespace(Object.values(steps));
    stopStarted(h, 'w.pid', 'srv.pid');
    const r = Object.fromEntries(names.map((n, i) => [n, results[i]]));
    const allowed = (listed: string) => (r[listed].status === 0 ? setAddresses(r[listed].stdout, 'allowed_v4') : 'no table');
    const round = (name: string) => ({
      [name]: r[name].status, [`${name}:allowed`]: r[`${name}:allowed`].stdout.trim(), [`${name}:other`]: r[`${name}:other`].stdout.trim(), [`${name}:listed`]: allowed(`${name}:listed`),
    });
    const narrowed = (name: string) => ({ [name]: 0, [`${name}:allowed`]: 'connected', [`${name}:other`]: 'ECONNREFUSED', [`${name}:listed`]: ALL_V4 });
    expect(r.setup.stderr).toBe('');
    const watched = /^polls (\d+) missing (\d+)$/.exec(r.watch.stdout.trim());
    expect({ out: r.watch.stdout.trim().replace(/^polls \d+/, 'polls'), stderr: r.watch.stderr, status: r.watch.status }).toEqual({ out: 'polls missing 0', stderr: '', status: 0 });
    expect(Number(watched?.[1])).toBeGreaterThan(20);
    expect({
      'first:restart': r['first:restart'].status, 'first:listed': allowed('first:listed'), ...round('boot'), ...round('restart'), ...round('reload'), ...round('stop'),
      'broken-conf:restart': r['broken-conf:restart'].status === 0 ? 'loaded' : 'failed', 'broken-conf:listed': allowed('broken-conf:listed'),
      'bad-kept:restart': r['bad-kept:restart'].status, 'bad-kept:listed': allowed('bad-kept:listed'),
      deployed: r.deployed.status, 'deployed:restart': r['deployed:restart'].status, 'deployed:allowed': r['deployed:allowed'].stdout.trim(),
      'deployed:other': r['deployed:other'].stdout.trim(), 'deployed:listed': allowed('deployed:listed'),
    }).toEqual({
      'first:restart': 0, 'first:listed': [], ...narrowed('boot'), ...narrowed('restart'), ...narrowed('reload'), ...narrowed('stop'),
      'broken-conf:restart': 'failed', 'broken-conf:listed': ALL_V4, 'bad-kept:restart': 0, 'bad-kept:listed': [],
      deployed: 0, 'deployed:restart': 0, 'deployed:allowed': 'ECONNREFUSED', 'deployed:other': 'ECONNREFUSED', 'deployed:listed': [],
    });
    // The resolvers and time servers come back too, and nothing asked DNS.
    for (const listed of ['restart:listed', 'reload:listed', 'stop:listed']) {
      expect(setElements(r[listed].stdout, 'resolvers_v4')).toEqual(RESOLVERS_V4);
      expect(setElements(r[listed].stdout, 'time_servers_v4')).toEqual(TIME_V4);
      expect(setAddresses(r[listed].stdout, 'allowed_v6')).toEqual(ALL_V6);
    }
    expect(r['broken-conf:tables'].stdout.trim()).toBe('table inet sovereign_egress');
    expect(r['broken-conf:restart'].stderr).toMatch(/nftables\.conf does not load; nothing loaded/);
    expect(r['bad-kept:restart'].stderr).toMatch(/sovereign-egress loads with the egress allowlist's address sets empty/);
    expect(r['deployed:restart'].stderr).toMatch(/loading .*sovereign-egress\.nft with its address sets empty until the next refresh/);
  }, 60_000);

  // `nft flush ruleset` (and, before its drop-in kept the table, `systemctl stop nftables`) removed the table until the next
  // refresh, up to 10 minutes later, with every host reachable; the check, every 2 minutes, loads it again at once.
  canRun('after nft flush ruleset the check loads the table at once with the last addresses, DNS down, and records it; none kept: nothing open', () => {
    const h = scratch();
    // Without a check (before it existed), nothing ran: the step finds no unit and changes nothing. DNS is down.
    const check = egressPart().hasUnit(`${CHECK_UNIT}.service`) ? `${withoutDns(h)}\n${h.start(`${CHECK_UNIT}.service`)}` : 'true';
    const steps: Record<string, string> = {
      setup: `cd ${h.root}\n${allowedAndOther}`,
      // Before any refresh kept addresses: the table, its address sets empty (fail closed).
      'first:flush': 'nft flush ruleset', 'first:check': check, 'first:listed': LIST, 'first:allowed': tcpProbe(443, ALLOWED),
      boot: h.start(BOOT_UNIT),
      flush: 'nft flush ruleset', check, listed: LIST, allowed: tcpProbe(443, ALLOWED), other: tcpProbe(443, OTHER),
    };
    const names = Object.keys(steps);
    const results = h.inNetworkNamespace(Object.values(steps));
    stopStarted(h, 'w.pid', 'srv.pid');
    const r = Object.fromEntries(names.map((n, i) => [n, results[i]]));
    const allowed = (listed: string) => (r[listed].status === 0 ? setAddresses(r[listed].stdout, 'allowed_v4') : 'no table');
    expect(r.setup.stderr).toBe('');
    expect({
      'first:check': r['first:check'].status, 'first:listed': allowed('first:listed'), 'first:allowed': r['first:allowed'].stdout.trim(),
      boot: r.boot.status, check: r.check.status, listed: allowed('listed'), allowed: r.allowed.stdout.trim(), other: r.other.stdout.trim(),
    }).toEqual({
      'first:check': 0, 'first:listed': [], 'first:allowed': 'ECONNREFUSED',
      boot: 0, check: 0, listed: ALL_V4, allowed: 'connected', other: 'ECONNREFUSED',
    });
    expect(r.check.stderr).toMatch(/sovereign-egress-check: table inet sovereign_egress is missing; loading it with the addresses the last refresh kept/);
    expect(setElements(r.listed.stdout, 'resolvers_v4')).toEqual(RESOLVERS_V4);
    expect(setElements(r.listed.stdout, 'time_servers_v4')).toEqual(TIME_V4);
    // Both flushes show, though the table is present again after each check: counted, and when (the repair alert reads it).
    const recorded = h.metrics('sovereign_egress_check.prom');
    expect(recorded).toMatchObject({ sovereign_egress_check_table_present: 1, sovereign_egress_check_repairs_total: 2 });
    expect(Math.abs(recorded.sovereign_egress_check_last_repair_timestamp_seconds - Date.now() / 1000)).toBeLessThan(60);
  }, 60_000);

  // The check's restore and the refresh did not lock against each other: a refresh loaded fresh addresses, a flush came
  // before it kept them, and the check restored the ones kept before, which stayed loaded until the next refresh (a host
  // that had moved: its old address open, its new one closed). Real concurrent runs: the refresh is held between its load
  // and its save (a stand-in mv that waits on a FIFO), the ruleset is flushed, and the check runs meanwhile.
  canRun('a check that finds the table flushed while a refresh is between loading and keeping fresh addresses waits for it, and loads the fresh ones', () => {
    const h = scratch();
    const MOVED = '198.51.100.140'; // api.mistral.ai's new address
    const slow = path.join(h.root, 'slow');
    fs.mkdirSync(slow, { recursive: true });
    fs.writeFileSync(path.join(slow, 'dig'), `#!/bin/sh\n[ "$2 $3" = "A api.mistral.ai" ] && { echo ${MOVED}; exit 0; }\nexec ${h.env.PATH.split(':')[0]}/dig "$@"\n`, { mode: 0o755 });
    // The save of the kept addresses tells the test it got there, then waits for its word.
    fs.writeFileSync(path.join(slow, 'mv'), `#!/bin/sh\ncase "$*" in *last-sets.nft) echo >${h.root}/reached; read go <${h.root}/go ;; esac\nexec /bin/mv "$@"\n`, { mode: 0o755 });
    const lockFile = h.env.EGRESS_LOCK_FILE ?? h.at('/run/sovereign-egress/lock');
    // Until the check ended, or waits for the refresh's lock (a blocked flock on its inode in /proc/locks).
    const untilDoneOrWaiting = `until ! kill -0 $C 2>/dev/null || { i=$(stat -c %i ${lockFile} 2>/dev/null) && grep -Eq -- "-> FLOCK +ADVISORY +WRITE +[0-9]+ +[0-9a-f]+:[0-9a-f]+:$i " /proc/locks; }; do sleep 0.02; done`;
    const [boot, race, listed] = h.inNetworkNamespace([
      h.start(BOOT_UNIT),
      [
        `cd ${h.root} && mkfifo reached go`,
        `PATH=${slow}:$PATH ${h.localize(REFRESH)} >refresh.out 2>&1 & R=$!`,
        'read reached <reached',
        'nft flush ruleset',
        `${withoutDns(h)} ${h.localize(`/usr/local/sbin/${CHECK_UNIT}`)} >check.out 2>&1 & C=$!`,
        untilDoneOrWaiting,
        'echo go >go',
        'wait $R; echo "refresh $?"; wait $C; echo "check $?"',
      ].join('\n'),
      LIST,
    ]);
    expect(boot.status).toBe(0);
    expect({ race: race.stdout, check: fs.readFileSync(h.at('check.out'), 'utf8') }).toEqual({
      race: 'refresh 0\ncheck 0\n', check: expect.stringMatching(/table inet sovereign_egress is missing; loading it with the addresses the last refresh kept/),
    });
    // The fresh addresses, loaded and kept: the moved host's old address closed, its new one open.
    const fresh = [...ALL_V4.filter((a) => a !== ALLOWED), MOVED].sort();
    expect(setAddresses(listed.stdout, 'allowed_v4')).toEqual(fresh);
    expect(fs.readFileSync(h.at('/var/lib/sovereign/egress/last-sets.nft'), 'utf8')).toContain(MOVED);
  }, 60_000);

  // The kept addresses' fingerprint hashed the hostnames and the time servers joined: a name moved from the end of one to
  // the start of the other left it as it was, and a restore brought its addresses back in the set it had left (an NTP-only
  // host open on 443, or a host's address open to NTP only).
  canRun('a name moved between the hostnames and the time servers brings no kept address back in its old set', () => {
    const h = scratch();
    const hosts = h.at('/etc/sovereign/egress-hostnames');
    const joined = `cat ${hosts} ${h.at(TIME_SERVERS)} | sha256sum`;
    const move = `last=$(tail -n 1 ${hosts}) && sed -i '$d' ${hosts} && { echo "$last"; cat ${h.at(TIME_SERVERS)}; } >moved && mv moved ${h.at(TIME_SERVERS)}`;
    const [boot, before, moved, after, restore, listed] = h.inNetworkNamespace([
      h.start(BOOT_UNIT), joined, `cd ${h.root} && ${move} && nft flush ruleset`, joined, `${h.localize(REFRESH)} --restore`, LIST,
    ]);
    expect({ boot: boot.status, moved: moved.status, restore: restore.status }).toEqual({ boot: 0, moved: 0, restore: 0 });
    expect(after.stdout).toBe(before.stdout); // the joined text is the same
    expect(['allowed_v4', 'allowed_v6', 'time_servers_v4', 'time_servers_v6'].map((set) => ({ [set]: setElements(listed.stdout, set) })))
      .toEqual([{ allowed_v4: [] }, { allowed_v6: [] }, { time_servers_v4: [] }, { time_servers_v6: [] }]);
    expect(restore.stderr).toMatch(/loading .*sovereign-egress\.nft with its address sets empty until the next refresh/);
  });

  // The lock was /run/lock/sovereign-egress.lock: in that world-writable directory another user could create the file
  // first (root's open fails where fs.protected_regular is on, the systemd default) or hold its lock; and a lock that
  // could not be opened ended the script (\`exec\` is a special builtin) before the "loading anyway", so after a flush
  // neither nftables.service's restore nor the refresh loaded the table: every host reachable.
  canRun('a lock that cannot be opened leaves no table unloaded, and the lock lives in a directory of root\'s alone', () => {
    const h = scratch();
    const lockFile = h.env.EGRESS_LOCK_FILE;
    const unopenable = `rm -f ${lockFile} && mkdir ${lockFile}`; // no file a redirection can open, as the other user's was
    const [boot, blocked, restore, restored, refresh, refreshed] = h.inNetworkNamespace([
      h.start(BOOT_UNIT), `${unopenable} && nft flush ruleset`, `${h.localize(REFRESH)} --restore`, LIST, `nft flush ruleset && ${h.localize(REFRESH)}`, LIST,
    ]);
    expect(boot.status).toBe(0);
    expect(blocked.status).toBe(0);
    expect({ restore: restore.status, restored: restored.status === 0 ? setAddresses(restored.stdout, 'allowed_v4') : 'no table', refresh: refresh.status, refreshed: refreshed.status === 0 ? setAddresses(refreshed.stdout, 'allowed_v4') : 'no table' })
      .toEqual({ restore: 0, restored: ALL_V4, refresh: 0, refreshed: ALL_V4 });
    expect(restore.stderr).toMatch(/cannot lock .*; loading anyway/);
    const dir = fs.statSync(path.dirname(lockFile));
    expect({ mode: (dir.mode & 0o7777).toString(8), uid: dir.uid }).toEqual({ mode: '700', uid: 0 });
    expect(path.dirname(lockFile)).not.toBe(h.at('/run/lock'));
  });

  canRun('the check records a missing table when it cannot load it, and fails', () => {
    const h = scratch();
    const [check, list] = h.inNetworkNamespace([`EGRESS_RULESET_FILE=${h.at('/nonexistent.nft')} ${h.localize(`/usr/local/sbin/${CHECK_UNIT}`)}`, LIST]);
    expect(check.status).not.toBe(0);
    expect(list.status).not.toBe(0);
    // Not counted as a repair: the load failed, and HostTableRepaired would tell "loaded it again" beside EgressAllowlistNotLoaded.
    expect(h.metrics('sovereign_egress_check.prom')).toMatchObject({ sovereign_egress_check_table_present: 0, sovereign_egress_check_repairs_total: 0 });
  });

  // Review: the refresh wrote sovereign_egress.prom by the path of node exporter's directory, which sits in prometheus's
  // /var/lib/prometheus: prometheus could swap it for a symlink, and root made, chmodded and renamed files in its target.
  canRun("the refresh never writes its metric through a symlink planted where node exporter's directory was, nor in a directory of another user's; it still fills the table and succeeds", () => {
    const h = scratch();
    const textfiles = h.env.EGRESS_TEXTFILE_DIR;
    const victim = path.join(path.dirname(h.root), 'victim');
    fs.mkdirSync(victim);
    fs.mkdirSync(path.dirname(textfiles), { recursive: true });
    fs.symlinkSync(victim, textfiles);
    const refusal = `${textfiles} is a symlink`;
    const [linked, linkedList] = h.inNetworkNamespace([h.start(REFRESH_UNIT), LIST]);
    // The metric is best effort: the refresh's own outcome (the table, filled) and its exit status are as without it.
    expect(linked.status).toBe(0);
    expect(setAddresses(linkedList.stdout, 'allowed_v4')).toEqual(ALL_V4);
    expect(linked.stderr).toContain(`sovereign-egress: ${refusal}: sovereign_egress.prom not written; remove it (the next run makes the directory again)`);
    expect(linked.stderr).toContain(`sovereign-egress-check: ${refusal}: sovereign_egress_check.prom not written`);
    expect(fs.readdirSync(victim)).toEqual([]);
    expect(fs.lstatSync(textfiles).isSymbolicLink()).toBe(true);
    // A directory of prometheus's own there: nothing written in it.
    fs.rmSync(textfiles);
    fs.mkdirSync(textfiles);
    fs.chownSync(textfiles, 65534, 65534);
    const [foreign] = h.inNetworkNamespace([h.start(REFRESH_UNIT)]);
    expect(foreign.status).toBe(0);
    expect(foreign.stderr).toContain(`sovereign-egress: ${textfiles} is owned by uid 65534, not 0 (chown it to root or remove it): sovereign_egress.prom not written`);
    expect(fs.readdirSync(textfiles)).toEqual([]);
    // Once it is gone, the next refresh makes it (root's) and records its success there.
    fs.rmSync(textfiles, { recursive: true });
    const [again] = h.inNetworkNamespace([h.start(REFRESH_UNIT)]);
    expect(again.status).toBe(0);
    expect(again.stderr).not.toContain('not written');
    expect(h.metrics()).toMatchObject({ sovereign_egress_refresh_success: 1, sovereign_egress_table_present: 1 });
    expect(fs.lstatSync(textfiles).uid).toBe(0);
  });

  canRun('the refresh recreates a missing table, fills it and records success', () => {
    const h = scratch();
    const before = Math.floor(Date.now() / 1000);
    const [missing, refresh, list] = h.inNetworkNamespace([LIST, h.start(REFRESH_UNIT), LIST]);
    expect(missing.status).not.toBe(0);
    // Loaded by the check, which records the repair: a flush the refresh repaired by itself showed nowhere.
    expect(refresh.stderr).toMatch(/sovereign-egress-check: table inet sovereign_egress is missing; loading it/);
    expect(h.metrics('sovereign_egress_check.prom')).toMatchObject({ sovereign_egress_check_table_present: 1, sovereign_egress_check_repairs_total: 1 });
    expect(refresh.status).toBe(0);
    expect(setAddresses(list.stdout, 'allowed_v4')).toEqual(ALL_V4);
    expect(setAddresses(list.stdout, 'allowed_v6')).toEqual(ALL_V6);
    const metrics = h.metrics();
    expect(Object.keys(metrics).sort()).toEqual(METRICS);
    expect(metrics).toMatchObject({ sovereign_egress_refresh_success: 1, sovereign_egress_table_present: 1 });
    expect(metrics.sovereign_egress_refresh_timestamp_seconds).toBeGreaterThanOrEqual(before);
    expect(metrics.sovereign_egress_refresh_timestamp_seconds).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    // Written to a temporary file and renamed: nothing else is left for the collector to read (the check's repairs are
    // kept beside it, in a file that is not *.prom).
    expect(fs.readdirSync(h.env.EGRESS_TEXTFILE_DIR).sort()).toEqual(['.sovereign_egress_check.repairs', 'sovereign_egress.prom', 'sovereign_egress_check.prom']);
    expect(fs.statSync(path.join(h.env.EGRESS_TEXTFILE_DIR, 'sovereign_egress.prom')).mode & 0o777).toBe(0o644);
  });

  // Only the table missing at the refresh's start went through the check: one flushed while the refresh asked DNS was
  // loaded by the refresh itself and counted nowhere, so HostTableRepaired never told of it.
  canRun('a table flushed while the refresh asks DNS is loaded again through the check, which counts the repair', () => {
    const h = scratch();
    const flushing = path.join(h.root, 'flushing');
    fs.mkdirSync(flushing, { recursive: true });
    // The first lookup flushes the ruleset, as a firewall tool might meanwhile, then answers.
    fs.writeFileSync(path.join(flushing, 'dig'), `#!/bin/sh
[ -e ${h.root}/flushed ] || { touch ${h.root}/flushed; nft flush ruleset; }
exec ${h.env.PATH.split(':')[0]}/dig "$@"
`, { mode: 0o755 });
    const [boot, refresh, listed] = h.inNetworkNamespace([h.start(BOOT_UNIT), `PATH=${flushing}:$PATH ${h.localize(REFRESH)}`, LIST]);
    expect({ boot: boot.status, refresh: refresh.status, flushed: fs.existsSync(path.join(h.root, 'flushed')) }).toEqual({ boot: 0, refresh: 0, flushed: true });
    expect(refresh.stderr).toMatch(/sovereign-egress-check: table inet sovereign_egress is missing; loading it/);
    expect(h.metrics('sovereign_egress_check.prom')).toMatchObject({ sovereign_egress_check_table_present: 1, sovereign_egress_check_repairs_total: 1 });
    expect(setAddresses(listed.stdout, 'allowed_v4')).toEqual(ALL_V4);
    expect(h.metrics()).toMatchObject({ sovereign_egress_refresh_success: 1, sovereign_egress_table_present: 1 });
  });

  canRun('a hostname that does not resolve fails the refresh, opens nothing for it, and keeps the table', () => {
    const { 'A api.mistral.ai': _unresolved, ...answers } = DNS;
    const h = scratch(answers);
    const [boot, list, refresh, listAgain] = h.inNetworkNamespace([h.start(BOOT_UNIT), LIST, h.start(REFRESH_UNIT), LIST]);
    for (const run of [boot, refresh]) {
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/sovereign-egress: api\.mistral\.ai does not resolve/);
    }
    for (const listing of [list, listAgain]) {
      expect(listing.status).toBe(0); // the table stays
      expect(setAddresses(listing.stdout, 'allowed_v4')).toEqual(ALL_V4.filter((a) => a !== '198.51.100.40'));
      expect(setAddresses(listing.stdout, 'allowed_v6')).toEqual(ALL_V6);
    }
    expect(h.metrics()).toMatchObject({ sovereign_egress_refresh_success: 0, sovereign_egress_table_present: 1 });
  });

  // A URL may name localhost (a stand-in endpoint on the machine itself), and its host reaches the hostnames file: dig,
  // which skips /etc/hosts, found no address for it where the resolver does not answer it, and every refresh failed.
  canRun('localhost in the hostnames file is not looked up: loopback is open, and the refresh succeeds', () => {
    const h = scratch();
    const [boot, added, refresh, list] = h.inNetworkNamespace([h.start(BOOT_UNIT), `printf 'ports 443\\nlocalhost\\n' >> ${h.at('/etc/sovereign/egress-hostnames')}`, h.start(REFRESH_UNIT), LIST]);
    expect({ boot: boot.status, added: added.status, refresh: refresh.status }).toEqual({ boot: 0, added: 0, refresh: 0 });
    expect(refresh.stderr).not.toMatch(/localhost/);
    expect(setAddresses(list.stdout, 'allowed_v4')).toEqual(ALL_V4);
    expect(h.metrics()).toMatchObject({ sovereign_egress_refresh_success: 1 });
  });

  canRun('with no hostname resolving the sets stay empty: nothing is open', () => {
    const h = scratch({});
    const [boot, list] = h.inNetworkNamespace([h.start(BOOT_UNIT), LIST]);
    expect(boot.status).toBe(1);
    for (const set of ['allowed_v4', 'allowed_v6', 'time_servers_v4', 'time_servers_v6']) expect({ [set]: setElements(list.stdout, set) }).toEqual({ [set]: [] });
    // The resolvers come from resolv.conf, not from DNS.
    expect(setElements(list.stdout, 'resolvers_v4')).toEqual(RESOLVERS_V4);
    expect(h.metrics()).toMatchObject({ sovereign_egress_refresh_success: 0, sovereign_egress_table_present: 1 });
  });

  canRun('records a missing table when the ruleset cannot be loaded', () => {
    const h = scratch();
    const [refresh, list] = h.inNetworkNamespace([`EGRESS_RULESET_FILE=${h.at('/nonexistent.nft')} ${h.localize(REFRESH)}`, LIST]);
    expect(refresh.status).not.toBe(0);
    expect(list.status).not.toBe(0);
    expect(h.metrics()).toMatchObject({ sovereign_egress_refresh_success: 0, sovereign_egress_table_present: 0 });
  });

  // systemd is not among the packages .ci/run installs (containers rarely have it), so this one skips.
  const systemd = spawnSync('systemd-analyze', ['--version']).status === 0 ? test : test.skip;
  systemd('systemd accepts the units, as the rollout checks them', () => {
    const h = scratch();
    const result = spawnSync('systemd-analyze', ['verify', '--man=no', ...h.localizedUnits()], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  promtool('writes metrics files (the refresh\'s, the check\'s with a repair counted) that promtool accepts', () => {
    const h = scratch();
    h.inNetworkNamespace([h.start(BOOT_UNIT), 'nft flush ruleset', h.start(`${CHECK_UNIT}.service`)]);
    for (const textfile of ['sovereign_egress.prom', 'sovereign_egress_check.prom']) {
      const file = path.join(h.env.EGRESS_TEXTFILE_DIR, textfile);
      const result = spawnSync('promtool', ['check', 'metrics'], { input: fs.readFileSync(file), encoding: 'utf8' });
      expect({ textfile, out: `${result.stdout}${result.stderr}`, status: result.status }).toEqual({ textfile, out: '', status: 0 });
    }
    expect(h.metrics('sovereign_egress_check.prom')).toMatchObject({ sovereign_egress_check_repairs_total: 1 });
  });
});
