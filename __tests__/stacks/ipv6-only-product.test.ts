import { Testing } from 'cdktf';
import { parse } from 'yaml';
import { Environment, Peer, Phase, Product, ProductProps, UptimeCheck } from '../../lib';
import { EnvironmentStack, ProductStacks } from '../../stacks';
import { policy } from '../boundary/fixtures';
import { refusal } from '../boundary/refusal';
import { warningsOf } from '../setup/stack';
import { admin, backup, monitoring } from '../setup/product-basics';
import { synthesizedBundle } from '../../testing/bundle';
import { AlertReceiver, DeadMansSwitch, MonitoringPlan } from '../../lib';

// Machine takes publicIpv4: false (an IPv6-only server), and Product, which teams build their stacks with, had no way to
// pass it. And every uptime check was probed over one address family: the blackbox exporter prefers IPv6 and falls
// back to IPv4, so a dual-stack machine's IPv4 outage went unseen while its IPv6 answered.

const dualAdmin = { ...admin, cidrs: ['198.51.100.0/24', Peer.ipv6('2001:db8:1234::/48')] };
const product = (overrides: Partial<ProductProps> = {}) => new Product({ name: 'acme', phase: Phase.ONE, admin: dualAdmin, stateBucket: 'acme-state', boundary: policy, backup, monitoring, ...overrides });
const synth = (stack: EnvironmentStack) => JSON.parse(Testing.synth(stack, true));

/** The prober's rendered Prometheus jobs of the checks and blackbox modules, as the machine receives them. */
function proberConfig(stack: EnvironmentStack): { jobs: Array<{ job: string; target: string; family: string }>; modules: Record<string, any> } {
  const bundle = synthesizedBundle(synth(stack), stack.app.serverName);
  const prometheus = parse(bundle.files.get('/etc/sovereign-monitoring/prometheus.yml')!.content!);
  const blackbox = parse(bundle.files.get('/etc/sovereign-monitoring/blackbox.yml')!.content!);
  const jobs = prometheus.scrape_configs.filter((j: any) => j.job_name.startsWith('check_'))
    .map((j: any) => ({ job: j.job_name, target: j.static_configs[0].targets[0], family: j.static_configs[0].labels.ip_family }));
  for (const { job } of jobs) expect(prometheus.scrape_configs.find((j: any) => j.job_name === job).params.module).toEqual([job]);
  return { jobs, modules: blackbox.modules };
}

describe('Product.publicIpv4', () => {
  test('every environment has a public IPv4 unless it says otherwise; staging follows production', () => {
    const p = product();
    expect(Environment.all().map((e) => p.publicIpv4For(e))).toEqual([true, true, true]);
    const ipv6Production = product({ publicIpv4: { production: false } });
    expect([Environment.TEST, Environment.STAGING, Environment.PRODUCTION].map((e) => ipv6Production.publicIpv4For(e))).toEqual([true, false, false]);
    expect(product({ publicIpv4: { production: false, staging: true } }).publicIpv4For(Environment.STAGING)).toBe(true);
  });

  test('refuses what is not true or false by environment, naming the product and the fix', () => {
    expect(refusal(() => product({ publicIpv4: { test: 'no' as never } }))).toMatch(/^Product\(acme\)\.publicIpv4\.test: 'no' is not allowed: .*Fix: write true or false/);
    expect(refusal(() => product({ publicIpv4: { tset: false } as never }))).toMatch(/^Product\(acme\)\.publicIpv4\.tset: .*is not allowed/);
    expect(refusal(() => product({ publicIpv4: false as never }))).toMatch(/^Product\(acme\)\.publicIpv4: false is not allowed: it is an object of true or false by environment\. Fix: \{ test: false \}/);
    expect(refusal(() => product().publicIpv4For('test' as never))).toMatch(/^Product\(acme\)\.publicIpv4For\.environment: 'test' is not allowed/);
  });

  test('refuses an IPv6-only environment when admin.cidrs has no IPv6 block, at the product', () => {
    expect(refusal(() => product({ admin, publicIpv4: { test: false } })))
      .toBe("Product(acme).publicIpv4.test: false is not allowed: test's machines would have no public IPv4, so SSH and the deploy's rollout reach them over IPv6 alone, "
        + 'and admin.cidrs holds no IPv6 block: no admin and no rollout could connect. '
        + "Fix: add the IPv6 blocks admins and CI connect from to admin.cidrs, such as Peer.ipv6('2001:db8:1234::/48'), or leave publicIpv4 out");
    expect(() => product({ admin, publicIpv4: { test: true } })).not.toThrow();
  });
});

describe('an IPv6-only environment of a product', () => {
  const stacks = new ProductStacks(Testing.app(), product({ publicIpv4: { test: false } }));

  test('its machine has no IPv4 (none created or billed), its stack no app_ipv4 output; production keeps both', () => {
    const test = synth(stacks.test);
    const [server] = Object.values<any>(test.resource.hcloud_server);
    expect(server.public_net).toEqual([expect.objectContaining({ ipv4_enabled: false, ipv6_enabled: true })]);
    expect(Object.values<any>(test.resource.hcloud_primary_ip).map((ip) => ip.type)).toEqual(['ipv6']);
    expect(Object.keys(test.output)).toEqual(expect.arrayContaining(['app_ipv6']));
    expect(test.output.app_ipv4).toBeUndefined();
    expect(synth(stacks.production).output.app_ipv4).toBeDefined();
  });

  test('its firewall lets HTTPS in over IPv6 and SSH from the IPv6 admin block; the rollout connects over IPv6', () => {
    const test = synth(stacks.test);
    const rules = Object.values<any>(test.resource.hcloud_firewall).flatMap((f) => f.rule);
    expect(rules).toContainEqual(expect.objectContaining({ direction: 'in', port: '443', source_ips: expect.arrayContaining(['::/0']) }));
    expect(rules).toContainEqual(expect.objectContaining({ direction: 'in', port: '22', source_ips: expect.arrayContaining(['2001:db8:1234::/48']) }));
    const rollout = Object.values<any>(test.resource.terraform_data).find((r) => r.connection);
    expect(rollout.connection.host).toMatch(/\.ipv6_address\}$/);
  });

  test("its uptime check is probed over IPv6 alone (there is no IPv4 to probe); production's over both", () => {
    expect(proberConfig(stacks.production).jobs).toEqual([{ job: 'check_test-acme-eu-health_ipv6', target: 'https://test.acme.eu/health', family: 'ipv6' }]);
  });

  test('its prober cannot probe IPv4: production is probed over IPv6, and synth warns that its IPv4 goes unwatched', () => {
    expect(proberConfig(stacks.test).jobs.map((j) => j.family)).toEqual(['ipv6']);
    expect(warningsOf(stacks.test).join('\n')).toMatch(/Monitoring-ProberWithoutIpv4: acme-test\/Monitoring\.plan\.uptimeChecks \(acme-eu-health\): acme-test-app, which probes it, has no public IPv4 .*an IPv4 outage of production goes unseen\. Fix: /);
    expect(warningsOf(stacks.production).join('\n')).not.toMatch(/Monitoring-ProberWithoutIpv4/);
  });
});

test('a check narrowed to IPv4 on a prober without IPv4 fails synth: it would watch nothing', () => {
  const plan = new MonitoringPlan({
    uptimeChecks: [UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu/health', { ipFamilies: ['ipv4'] }), UptimeCheck.http(Environment.TEST, 'https://test.acme.eu/health')],
    receivers: [AlertReceiver.webhook('ops', { hostname: 'chat.acme.eu' })],
    deadMansSwitch: DeadMansSwitch.healthchecksIo(),
  });
  const stacks = new ProductStacks(Testing.app(), product({ monitoring: plan, publicIpv4: { test: false } }));
  expect(() => synth(stacks.test)).toThrow(/acme-test\/Monitoring\.plan\.uptimeChecks \(acme-eu-health\)\.ipFamilies: \["ipv4"\] is not allowed: acme-test-app, which probes it, has no public IPv4 .*the check would watch nothing\. Fix: give acme-test-app's environment a public IPv4, or probe the check from another environment \(probeFrom\)/);
});

describe('a dual-stack machine is probed over IPv4 and over IPv6, each on its own', () => {
  test('one job and one module per family, neither falling back to the other', () => {
    const stacks = new ProductStacks(Testing.app(), product());
    const { jobs, modules } = proberConfig(stacks.test);
    expect(jobs).toEqual([
      { job: 'check_acme-eu-health_ipv4', target: 'https://acme.eu/health', family: 'ipv4' },
      { job: 'check_acme-eu-health_ipv6', target: 'https://acme.eu/health', family: 'ipv6' },
    ]);
    expect(modules['check_acme-eu-health_ipv4'].http).toEqual(expect.objectContaining({ preferred_ip_protocol: 'ip4', ip_protocol_fallback: false }));
    expect(modules['check_acme-eu-health_ipv6'].http).toEqual(expect.objectContaining({ preferred_ip_protocol: 'ip6', ip_protocol_fallback: false }));
  });

  test("a check's ipFamilies narrows it (a host name without an AAAA record), TCP checks too", () => {
    const plan = new MonitoringPlan({
      uptimeChecks: [
        UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu/health', { ipFamilies: ['ipv4'] }),
        UptimeCheck.tcp(Environment.PRODUCTION, 'mail.acme.eu', 993, { tls: true }),
        UptimeCheck.http(Environment.TEST, 'https://test.acme.eu/health'),
      ],
      receivers: [AlertReceiver.webhook('ops', { hostname: 'chat.acme.eu' })],
      deadMansSwitch: DeadMansSwitch.healthchecksIo(),
    });
    const stacks = new ProductStacks(Testing.app(), product({ monitoring: plan }));
    const { jobs, modules } = proberConfig(stacks.test);
    expect(jobs.map((j) => j.job)).toEqual(['check_acme-eu-health_ipv4', 'check_mail-acme-eu-993_ipv4', 'check_mail-acme-eu-993_ipv6']);
    expect(modules['check_mail-acme-eu-993_ipv6'].tcp).toEqual({ preferred_ip_protocol: 'ip6', ip_protocol_fallback: false, tls: true });
  });

  test('ipFamilies refuses an empty list or another family, naming the check', () => {
    expect(refusal(() => UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu/health', { ipFamilies: [] })))
      .toMatch(/^UptimeCheck\(https:\/\/acme\.eu\/health\)\.ipFamilies: \[\] is not allowed: a check that probes no address family watches nothing\. Fix: /);
    expect(refusal(() => UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu/health', { ipFamilies: ['ip4' as never] })))
      .toMatch(/^UptimeCheck\(https:\/\/acme\.eu\/health\)\.options\.ipFamilies\[0\]: 'ip4' is not allowed: an address family is 'ipv4' or 'ipv6'\. Fix: /);
  });
});
