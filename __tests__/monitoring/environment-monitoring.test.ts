import { TerraformStack, Testing } from 'cdktf';
import { parse } from 'yaml';
import { HcloudProvider } from '../../generated/providers/hcloud/provider';
import {
  CloudInit, Component, DeadMansSwitch, Duration, EgressAllowlist, Environment, FirewallRule, Location, Machine, MonitoringPlan, Phase, Port, PostponedRegister, Product, ProductProps, RestoreCheck,
  ROADMAP_THRESHOLDS, S3Provider, ServerType,
} from '../../lib';
import { ProductStacks } from '../../stacks';
import { policy } from '../boundary/fixtures';
import { BackupPlan } from '../../lib/backup/backup-plan';
import { AlertReceiver } from '../../lib/monitoring/alert-receiver';
import { MonitoringAlert } from '../../lib/monitoring/monitoring-alert';
import { BACKUP_JOB_UNITS, EnvironmentMonitoring, RESTORE_DRILL_UNIT } from '../../lib/monitoring/environment-monitoring';
import { UptimeCheck } from '../../lib/monitoring/uptime-check';
import { proberResources, SHARED_MEMORY_SHARE } from '../../lib/monitoring/private/profile';
import { plan, productFixture, synth, userDataOf } from './helpers/fixture';
import { cloudConfig, machineFiles } from './helpers/machine-files';
import { warningsOf } from '../setup/stack';

const prometheusConfig = (userData: string) => parse(machineFiles(userData).get('/etc/sovereign-monitoring/prometheus.yml')!.content);
const probeTargets = (userData: string) => prometheusConfig(userData).scrape_configs
  .filter((j: any) => j.metrics_path === '/probe')
  .map((j: any) => [j.static_configs[0].labels.environment, j.static_configs[0].targets[0]])
  // One job per address family of a check (tested in __tests__/stacks/ipv6-only-product.test.ts): each check once here.
  .filter(([environment, target]: string[], i: number, all: string[][]) => all.findIndex(([e, t]) => e === environment && t === target) === i);
const file = (userData: string, path: string) => machineFiles(userData).get(path)?.content;
// The examples' product (its plan, no backups) synthesized once per phase and environment for the whole file, by the
// first test that asks (a test run alone with -t still makes it); each call parses a copy of its own.
const synthesizedText = new Map<string, string>();
const synthesized = (phase: Phase, environment: 'test' | 'production') => {
  const key = `${phase.number} ${environment}`;
  if (!synthesizedText.has(key)) synthesizedText.set(key, Testing.synth(productFixture({ phase, backups: false })[environment].stack, true));
  return JSON.parse(synthesizedText.get(key)!);
};

describe('EnvironmentMonitoring', () => {
  describe('probes from another location, where one environment probes the other', () => {
    const monitoring = new MonitoringPlan({
      uptimeChecks: [UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu/health'), UptimeCheck.http(Environment.TEST, 'https://test.acme.eu/health')],
      receivers: [AlertReceiver.webhook('ops', { hostname: 'chat.acme.eu' })],
      deadMansSwitch: DeadMansSwitch.healthchecksIo(),
    });
    const product = (overrides: Partial<ProductProps>) => new Product({
      name: 'acme', phase: Phase.ONE, stateBucket: 'acme-state', boundary: policy, monitoring,
      admin: { sshPublicKeys: { ops: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr ops@acme.eu' }, cidrs: ['198.51.100.0/24'] },
      backup: { restoreChecks: [RestoreCheck.sql('users-present', { database: 'app', query: 'SELECT count(*) > 0 FROM users' })] },
      ...overrides,
    });
    /** The location warnings of each always-on stack, after a synth with validations (as `cdktf synth` runs them). */
    const locationWarnings = (p: Product) => {
      const stacks = new ProductStacks(Testing.app(), p);
      return Object.fromEntries([stacks.test, stacks.production].map((stack) => {
        Testing.synth(stack, true);
        return [stack.node.id, stack.node.findAll().flatMap((c) => c.node.metadata).filter((m) => m.type === '@cdktf/warn')
          .map((m) => String(m.data)).filter((w) => w.startsWith('Monitoring-ProbeInTargetLocation'))];
      }));
    };

    test('test and production in one location: each prober warns that it shares its target\'s location, with the fix', () => {
      const warnings = locationWarnings(product({ location: Location.NBG1 }));
      expect(warnings['acme-test']).toEqual([expect.stringMatching(/^Monitoring-ProbeInTargetLocation: acme-test\/Monitoring\.plan\.uptimeChecks \(acme-eu-health\) run on acme-test-app in nbg1, where production runs too: an outage of nbg1 silences the probe with its target, and only the dead-man's switch notices\. Fix: run test and production in different locations \(Product locations: \{ test: Location\.FSN1 \}\), or add an external uptime check\.$/)]);
      expect(warnings['acme-production']).toEqual([expect.stringMatching(/^Monitoring-ProbeInTargetLocation: acme-production\/Monitoring\.plan\.uptimeChecks \(test-acme-eu-health\) run on acme-production-app in nbg1, where test runs too/)]);
    });

    test("test in another location than production: no warning, each probe comes from outside its target's location", () => {
      for (const locations of [{ test: Location.NBG1 }, { production: Location.HEL1 }]) {
        expect(locationWarnings(product({ locations }))).toEqual({ 'acme-test': [], 'acme-production': [] });
      }
    });

    test('Phase 3: the monitoring machine probes from production\'s location, a limit the docs state, not a warning', () => {
      const backup = { restoreChecks: [RestoreCheck.sql('users-present', { database: 'app', query: 'SELECT count(*) > 0 FROM users' })], offsite: S3Provider.IONOS };
      expect(locationWarnings(product({ phase: Phase.THREE, backup }))).toEqual({ 'acme-test': [], 'acme-production': [] });
    });
  });

  describe('placement: nothing is judged up by itself', () => {
    test('in Phase 1 the test machine probes production, and production probes test', () => {
      const { test, production } = productFixture({ backups: false });
      expect(probeTargets(userDataOf(synthesized(Phase.ONE, 'test'), 'acme-test-app')))
        .toEqual([['production', 'https://acme.eu/health'], ['production', 'https://api.acme.eu/v1/ping']]);
      expect(probeTargets(userDataOf(synthesized(Phase.ONE, 'production'), 'acme-production-app'))).toEqual([['test', 'https://test.acme.eu/health']]);
      expect(test.monitoring.prober).toBe(test.app);
      expect(production.monitoring.prober).toBe(production.app);
    });

    test('probeFrom moves a check to another always-on environment', () => {
      const moved = plan({
        uptimeChecks: [
          UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu/health'),
          UptimeCheck.http(Environment.TEST, 'https://test.acme.eu/health', { probeFrom: Environment.PRODUCTION }),
        ],
      });
      const { test, production } = productFixture({ phase: Phase.THREE, plan: moved, backups: false });
      // Phase 3: the monitoring machine takes every check without probeFrom.
      expect(production.monitoring.prober).toBe(production.monitoringMachine);
      expect(production.monitoring.checks.map((c) => c.name)).toEqual(['acme-eu-health', 'test-acme-eu-health']);
      expect(test.monitoring.checks).toEqual([]);
    });

    test('in Phase 3 the monitoring machine probes both environments and scrapes production over the private network', () => {
      const json = synthesized(Phase.THREE, 'production');
      const monitoring = userDataOf(json, 'acme-production-monitoring');
      expect(probeTargets(monitoring)).toEqual([
        ['production', 'https://acme.eu/health'], ['production', 'https://api.acme.eu/v1/ping'], ['test', 'https://test.acme.eu/health']]);
      const targets = JSON.parse(file(monitoring, '/etc/sovereign-monitoring/targets/nodes.json')!);
      expect(targets).toEqual([{ targets: [expect.stringMatching(/^\$\{tolist\(hcloud_server\.App_[A-F0-9]+\.network\)\.0\.ip\}:9100$/)], labels: { instance: 'acme-production-app', environment: 'production' } }]);
      // The app machine carries node exporter only, listening where the monitoring machine reaches it.
      const app = userDataOf(json, 'acme-production-app');
      expect(cloudConfig(app).packages).toEqual(expect.arrayContaining(['prometheus-node-exporter']));
      expect(cloudConfig(app).packages).not.toContain('prometheus');
      expect(file(app, '/etc/systemd/system/prometheus-node-exporter.service.d/sovereign-monitoring.conf')).toMatch(/--web\.listen-address=127\.0\.0\.1:9100 --web\.listen-address=\$\{tolist\(hcloud_server\.App_[A-F0-9]+\.network\)\.0\.ip\}:9100 /);
      // The test machine keeps its own small stack for test's host and restore drill, and probes nothing.
      expect(probeTargets(userDataOf(synthesized(Phase.THREE, 'test'), 'acme-test-app'))).toEqual([]);
    });

    test('staging gets error monitoring, and neither a prober nor node exporter', () => {
      const stack = new TerraformStack(Testing.app(), 'acme-staging');
      new HcloudProvider(stack, 'hcloud', {});
      const machine = new Machine(stack, 'App', {
        environment: Environment.STAGING, role: 'app', name: 'acme-staging-app', serverType: ServerType.CX33,
      });
      const monitoring = new EnvironmentMonitoring(stack, 'Monitoring', { plan: plan(), phase: Phase.ONE, environment: Environment.STAGING, machine });
      expect(monitoring.prober).toBeUndefined();
      expect(machine.bundle.partNames).toEqual(['sovereign machine identity', 'sovereign-monitoring tooling', 'sovereign-monitoring error monitoring']);
    });
  });

  describe('what each phase runs', () => {
    test('Phase 1: node exporter with only its textfile and filesystem collectors; Phase 2: with all of them', () => {
      const dropIn = (phase: Phase) => file(userDataOf(synthesized(phase, 'production'), 'acme-production-app'),
        '/etc/systemd/system/prometheus-node-exporter.service.d/sovereign-monitoring.conf');
      expect(dropIn(Phase.ONE)).toMatch(/--collector\.disable-defaults --collector\.textfile --collector\.filesystem\nMemoryMax=64M\nEnvironment=GOMEMLIMIT=51MiB\n$/);
      expect(dropIn(Phase.TWO)).not.toMatch(/disable-defaults/);
    });

    test('a prober beside an app is capped small; the monitoring machine gets room', () => {
      const prometheus = (json: any, name: string) => file(userDataOf(json, name), '/etc/systemd/system/prometheus.service.d/sovereign-monitoring.conf');
      expect(prometheus(synthesized(Phase.THREE, 'production'), 'acme-production-monitoring')).toMatch(/--storage\.tsdb\.retention\.time=90d --storage\.tsdb\.retention\.size=20GB .*\nMemoryMax=2048M\n/);
      expect(prometheus(synthesized(Phase.THREE, 'test'), 'acme-test-app')).toMatch(/--storage\.tsdb\.retention\.time=15d --storage\.tsdb\.retention\.size=1GB .*\nMemoryMax=192M\n/);
    });

    test('declares the components each phase requires, and none it postpones', () => {
      for (const phase of Phase.all()) {
        const { test, production } = productFixture({ phase, backups: false });
        const declared = [...Component.declaredIn(test.stack), ...Component.declaredIn(production.stack)];
        const register = new PostponedRegister(phase, [], declared);
        const mine = [Component.EXTERNAL_UPTIME_CHECKS, Component.ERROR_MONITORING, Component.HOST_OBSERVABILITY, Component.MONITORING_MACHINE];
        for (const component of mine) {
          const entry = register.required.find((r) => r.component === component.id);
          // Required: provided. Postponed: not declared anywhere.
          if (phase.required.includes(component)) expect(entry?.provided).toBe(true);
          else expect(declared.filter((d) => d.component === component)).toEqual([]);
        }
      }
    });

    test("the disk alerts use Roadmap.assess's numbers, unless the plan says otherwise", () => {
      const exprs = (p = plan()) => {
        const { production } = productFixture({ plan: p, backups: false });
        const rules = parse(file(userDataOf(synth(production.stack), 'acme-production-app'), '/etc/sovereign-monitoring/alerts.yml')!);
        const disk = rules.groups.find((g: any) => g.name === 'disk').rules;
        return Object.fromEntries(disk.map((r: any) => [r.alert, Number(/\) > ([0-9.]+)(?: unless .*)?$/.exec(r.expr)![1])]));
      };
      expect(exprs()).toEqual({
        DiskAboveVolumeThreshold: ROADMAP_THRESHOLDS.volumeDiskShare, DiskAboveSplitThreshold: ROADMAP_THRESHOLDS.splitDatabaseDiskShare,
      });
      expect(exprs(plan({ diskWarningShare: 0.6, diskCriticalShare: 0.85 }))).toEqual({ DiskAboveVolumeThreshold: 0.6, DiskAboveSplitThreshold: 0.85 });
    });

    test("the backup and drill alerts follow the BackupPlan's maxBackupAge and the RestoreDrill's schedule", () => {
      const { test, production } = productFixture({ phase: Phase.ONE });
      // Without validations: backup tooling and monitoring exceed 32 KiB until the user data is compressed as a whole.
      const prodData = userDataOf(JSON.parse(Testing.synth(production.stack)), 'acme-production-app');
      const testData = userDataOf(JSON.parse(Testing.synth(test.stack)), 'acme-test-app');
      const plan1 = BackupPlan.of(production.app)!;
      const rulesOf = (userData: string) => parse(file(userData, '/etc/sovereign-monitoring/alerts.yml')!).groups.find((g: any) => g.name === 'backups').rules;
      const tooOld = rulesOf(prodData).find((r: any) => r.alert === 'BackupTooOld');
      expect(tooOld.expr).toMatch(new RegExp(`unit="backup-push"\\}\\[8d\\]\\), "series", "sovereign_job_watched_since_timestamp_seconds", "", ""\\)\\) > ${plan1.maxBackupAge.toSeconds()}$`));
      expect(plan1.maxBackupAge.toSeconds()).toBe(26 * 3600);
      const missed = rulesOf(testData).find((r: any) => r.alert === 'RestoreDrillMissed');
      expect(missed.expr).toMatch(new RegExp(`unit="restore-drill"\\}\\[8d\\]\\), "series", "sovereign_job_watched_since_timestamp_seconds", "", ""\\)\\) > ${Duration.days(7).toSeconds() + Duration.minutes(15).toSeconds() + Duration.hours(12).toSeconds()}$`));
      expect(file(prodData, '/etc/sovereign-monitoring/watched-units')).toBe(`${BACKUP_JOB_UNITS.join('\n')}\n`);
      expect(file(testData, '/etc/sovereign-monitoring/watched-units')).toBe(`${RESTORE_DRILL_UNIT}\n`);
      // The hooked units are the ones the backup tooling installs.
      for (const unit of BACKUP_JOB_UNITS) expect(machineFiles(prodData).has(`/etc/systemd/system/${unit}.service`)).toBe(true);
      expect(machineFiles(testData).has(`/etc/systemd/system/${RESTORE_DRILL_UNIT}.service`)).toBe(true);
    });

    // Audit (day 2, the offsite copy added): the drill's service may run 12 hours per copy, but RestoreDrillMissed kept a
    // 12-hour grace, so a drill of two copies still within its timeout was reported as not having run.
    test("RestoreDrillMissed waits for the drill's longest run: 12 hours for each copy it restores", () => {
      const missedAfter = (drillOffsite: boolean) => {
        const { test } = productFixture({ phase: Phase.TWO, drillOffsite });
        const userData = userDataOf(JSON.parse(Testing.synth(test.stack)), 'acme-test-app');
        const rules = parse(file(userData, '/etc/sovereign-monitoring/alerts.yml')!).groups.find((g: any) => g.name === 'backups').rules;
        const missed = rules.find((r: any) => r.alert === 'RestoreDrillMissed');
        const timeout = /^TimeoutStartSec=(\d+)h$/m.exec(file(userData, '/etc/systemd/system/restore-drill.service')!)![1];
        const delay = /^RandomizedDelaySec=(\S+)$/m.exec(file(userData, '/etc/systemd/system/restore-drill.timer')!)![1];
        return { seconds: Number(/ > (\d+)$/.exec(missed.expr)![1]), description: missed.annotations.description, timeoutHours: Number(timeout), delay };
      };
      // The timer starts a run up to 15 minutes late (RandomizedDelaySec), and a late start ends late.
      const late = Duration.minutes(15).toSeconds();
      expect(missedAfter(false)).toEqual({ seconds: Duration.days(7).toSeconds() + late + Duration.hours(12).toSeconds(),
        description: 'A run ends at least every 7 days, plus a start up to 15 minutes late and a run of up to 12 hours.', timeoutHours: 12, delay: '15min' });
      expect(missedAfter(true)).toEqual({ seconds: Duration.days(7).toSeconds() + late + Duration.hours(24).toSeconds(),
        description: 'A run ends at least every 7 days, plus a start up to 15 minutes late and a run of up to 1 day.', timeoutHours: 24, delay: '15min' });
    });

    test('the memory caps fit a quarter of the smallest preset type of every phase that shares the app machine', () => {
      // In Phase 3 the test machine still carries a prober beside its app.
      for (const phase of Phase.all()) {
        // The relay's and the watch's caps too: they run beside the daemons on every prober.
        const caps = proberResources(phase, false).memoryMaxTotalMib;
        const types = [...phase.machineFor(Environment.TEST).types, ...phase.machineFor(Environment.PRODUCTION).types];
        for (const type of types) expect(caps).toBeLessThanOrEqual(type.memory.toMebibytes() * SHARED_MEMORY_SHARE);
      }
    });
  });

  describe('secrets and egress', () => {
    test('every secret is a sensitive variable without a default, and the configuration holds only references', () => {
      const { production } = productFixture({ phase: Phase.THREE, backups: false });
      const json = synthesized(Phase.THREE, 'production');
      expect(Object.keys(json.variable).sort()).toEqual(['error_monitoring_dsn', 'monitoring_deadman_ping_url_production', 'monitoring_smtp_password_oncall', 'monitoring_webhook_ops']);
      // One check per prober: test's stack pings with a variable of its own.
      expect(Object.keys(synthesized(Phase.THREE, 'test').variable)).toContain('monitoring_deadman_ping_url_test');
      for (const variable of Object.values(json.variable) as any[]) {
        expect(variable).toMatchObject({ sensitive: true, nullable: false, type: 'string' });
        expect(variable.default).toBeUndefined();
      }
      const secrets = machineFiles(userDataOf(json, 'acme-production-monitoring'));
      expect(secrets.get('/etc/sovereign-monitoring/secrets/monitoring_webhook_ops.b64')).toEqual({
        path: '/etc/sovereign-monitoring/secrets/monitoring_webhook_ops.b64', content: '${base64encode(var.monitoring_webhook_ops)}\n', permissions: '0600',
      });
      expect(production.monitoring.secretVariables.monitoring_webhook_ops.environmentVariable).toBe('TF_VAR_monitoring_webhook_ops');
    });

    test("the prober's egress allowlist holds the probed hosts, the receivers and the ping service; its firewall opens SMTP", () => {
      const json = synthesized(Phase.THREE, 'production');
      const monitoring = machineFiles(userDataOf(json, 'acme-production-monitoring'));
      const hosts = monitoring.get('/etc/sovereign/egress-hostnames')!.content.trim().split('\n');
      expect(hosts).toEqual(expect.arrayContaining(['acme.eu', 'api.acme.eu', 'test.acme.eu', 'chat.acme.eu', 'smtp.mail.eu', 'hc-ping.com']));
      const app = machineFiles(userDataOf(json, 'acme-production-app')).get('/etc/sovereign/egress-hostnames')!.content;
      expect(app).toMatch(/^errors\.acme\.eu$/m);
      expect(app).not.toMatch(/hc-ping\.com/);
      const firewall = Object.values(json.resource.hcloud_firewall as Record<string, any>).find((f) => f.name === 'acme-production-monitoring-firewall');
      expect(firewall.rule).toEqual(expect.arrayContaining([
        { description: 'SMTP for alert e-mail', destination_ips: ['0.0.0.0/0', '::/0'], direction: 'out', port: '587', protocol: 'tcp' },
      ]));
    });

    test("the prober's firewall opens the port of a self-hosted dead-man's switch, beyond the ports the allowlist opens anyway", () => {
      const deadMansSwitch = DeadMansSwitch.selfHosted({ hostname: 'hc.acme.eu', port: 8443 });
      const { test } = productFixture({ backups: false, plan: plan({ deadMansSwitch }) });
      // The team's own rule on 8443 (for an extra host) stops reaching any host but the switch: synth says so.
      test.app.allowOutbound(FirewallRule.tcpOut(8443, FirewallRule.ANYWHERE, { description: 'package registry' }));
      const json = synth(test.stack);
      expect(machineFiles(userDataOf(json, 'acme-test-app')).get('/etc/sovereign/egress-hostnames')!.content).toMatch(/^ports 8443\nhc\.acme\.eu$/m);
      const firewall = Object.values(json.resource.hcloud_firewall as Record<string, any>).find((f) => f.name === 'acme-test-app-firewall');
      expect(firewall.rule).toEqual(expect.arrayContaining([
        { description: "dead-man's switch pings", destination_ips: ['0.0.0.0/0', '::/0'], direction: 'out', port: '8443', protocol: 'tcp' },
      ]));
      expect(warningsOf(test.stack).filter((w) => w.startsWith('Egress-PortClaimed'))).toEqual([expect.stringMatching(
        /^Egress-PortClaimed: acme-test\/App: TCP 8443, which the rule 'package registry' opens out, reaches only hc\.acme\.eu \(dead-man's switch that Alertmanager pings while it runs\).* Fix: .*EgressAllowlist\.allowTcpPort\(machine, 8443, /)]);
      // Opened with allowTcpPort, it stays every allowlisted host's, the switch's too: nothing to warn of.
      const shared = productFixture({ backups: false, plan: plan({ deadMansSwitch }) }).test;
      EgressAllowlist.allowTcpPort(shared.app, 8443, 'package registry');
      synth(shared.stack);
      expect(warningsOf(shared.stack).filter((w) => w.startsWith('Egress-PortClaimed'))).toEqual([]);
    });

    // The allowlist opens NTP's 123 over UDP alone: a TCP check on 123 was left to it, opened by nothing, and refused at synth.
    test('a TCP check on 53 is left to the allowlist, which opens TCP 53; one on 123, which it opens over UDP alone, is opened', () => {
      const checks = plan({ uptimeChecks: [UptimeCheck.tcp(Environment.PRODUCTION, 'ntp.acme.eu', 123), UptimeCheck.tcp(Environment.PRODUCTION, 'ns.acme.eu', 53)] });
      const { test } = productFixture({ backups: false, plan: checks });
      const json = synth(test.stack);
      const rules = Object.values(json.resource.hcloud_firewall as Record<string, any>).find((f) => f.name === 'acme-test-app-firewall').rule
        .filter((r: any) => r.direction === 'out' && r.protocol === 'tcp' && ['53', '123'].includes(r.port));
      expect(rules.map((r: any) => [r.port, r.description]).sort()).toEqual([['123', 'uptime check ntp-acme-eu-123'], ['53', 'DNS over TCP']]);
    });

    test("Egress-PortClaimed: not for a port the team declared its own host on (allowTcpPort's recipe); each host named once, the narrow fix first", () => {
      // The recipe of allowTcpPort's doc: the team's relay on 587 alone (its rule and its declaration), and the library's alert
      // e-mail on 587 beside it. Nothing changed for the team's relay: it was declared on the port before the receiver came.
      const mail = AlertReceiver.email('mail', { to: ['ops@acme.eu'], from: 'alerts@acme.eu', smarthost: 'smtp.mail.eu:587', username: 'alerts@acme.eu' });
      const recipe = productFixture({ backups: false, plan: plan({ receivers: [mail] }) }).test;
      recipe.app.allowOutbound(FirewallRule.tcpOut(587, FirewallRule.ANYWHERE, { description: 'app mail relay' }));
      EgressAllowlist.requireHostnames(recipe.app, ['smtp.acme.eu'], 'mail relay the application sends its account e-mails through', Port.of(587));
      synth(recipe.stack);
      expect(warningsOf(recipe.stack).filter((w) => w.startsWith('Egress-PortClaimed'))).toEqual([]);
      // Only the library's declarations on the port (a webhook and the switch, one host): the host is named once, and the fix
      // that opens the port to one host comes before the one that opens it to every allowlisted host.
      const deadMansSwitch = DeadMansSwitch.selfHosted({ hostname: 'hc.acme.eu', port: 8443 });
      const hook = AlertReceiver.webhook('hc_hook', { hostname: 'hc.acme.eu', port: Port.of(8443) });
      const claimed = productFixture({ backups: false, plan: plan({ deadMansSwitch, receivers: [hook] }) }).test;
      claimed.app.allowOutbound(FirewallRule.tcpOut(8443, FirewallRule.ANYWHERE, { description: 'package registry' }));
      synth(claimed.stack);
      const [warning, ...more] = warningsOf(claimed.stack).filter((w) => w.startsWith('Egress-PortClaimed'));
      expect(more).toEqual([]);
      expect(warning.match(/hc\.acme\.eu/g)).toHaveLength(1);
      expect(warning).toMatch(/reaches only hc\.acme\.eu \(alert receiver hc_hook that Alertmanager notifies; dead-man's switch that Alertmanager pings while it runs\)/);
      expect(warning).toMatch(/Fix: .*EgressAllowlist\.allowTcpPortTo\(machine, Port\.of\(8443\), \[host\], purpose\).* or .*EgressAllowlist\.allowTcpPort\(machine, 8443, .*every allowlisted host/);
    });

    test('an HTTP check that follows redirects reaches its host on 443 too (http:// to https://); one that expects the 3xx, on its own port alone', () => {
      // Declared on the URL's port alone, acme.eu's usual 301 to https://acme.eu/ was reset by the host table: a false critical alert.
      const redirects = plan({
        uptimeChecks: [
          UptimeCheck.http(Environment.PRODUCTION, 'http://acme.eu/health'),
          UptimeCheck.http(Environment.PRODUCTION, 'http://old.acme.eu/', { expectStatus: [301] }),
          UptimeCheck.http(Environment.PRODUCTION, 'https://api.acme.eu:8443/v1/ping'),
          UptimeCheck.http(Environment.TEST, 'https://test.acme.eu/health'),
        ],
      });
      const { test } = productFixture({ backups: false, plan: redirects });
      const groups = file(userDataOf(synth(test.stack), 'acme-test-app'), '/etc/sovereign/egress-hostnames')!.split(/^ports /m).slice(1).map((g) => g.split('\n'));
      const portsOf = (host: string) => groups.filter((g) => g.slice(1).includes(host)).map((g) => g[0]);
      expect(portsOf('acme.eu')).toEqual(['80 443']);
      expect(portsOf('old.acme.eu')).toEqual(['80']);
      expect(portsOf('api.acme.eu')).toEqual(['443 8443']);
    });

    test("routes each check's alerts to its own receivers, and everything else to the plan's", () => {
      const root = machineFiles(userDataOf(synthesized(Phase.ONE, 'test'), 'acme-test-app'));
      const am = parse(root.get('/etc/sovereign-monitoring/alertmanager.yml.in')!.content);
      expect(am.route.receiver).toBe('ops');
      expect(am.route.routes).toEqual([
        // A repeat_interval below the group_interval: every flush pings (equal ones ping every other flush).
        { matchers: ['alertname="Watchdog"'], receiver: 'deadmansswitch', group_wait: '0s', group_interval: '5m', repeat_interval: '2m30s' },
        { matchers: ['notify="ops"'], receiver: 'ops' },
        { matchers: ['notify="oncall+ops"'], receiver: 'oncall+ops' },
      ]);
      const both = am.receivers.find((r: any) => r.name === 'oncall+ops');
      // Through the relay on loopback, which alone reads the URL; with the web password, which it asks for.
      expect(both.webhook_configs).toEqual([{
        url: 'http://127.0.0.1:9095/monitoring_webhook_ops', send_resolved: true,
        http_config: { basic_auth: { username: 'sovereign', password_file: '/etc/sovereign-monitoring/secrets/web_password' } },
      }]);
      expect(both.email_configs).toEqual([expect.objectContaining({
        to: 'oncall@acme.eu', smarthost: 'smtp.mail.eu:587', auth_password_file: '/etc/sovereign-monitoring/secrets/monitoring_smtp_password_oncall', require_tls: true,
      })]);
      const rules = parse(root.get('/etc/sovereign-monitoring/alerts.yml')!.content).groups[0].rules;
      expect(rules.filter((r: any) => r.alert === 'UptimeCheckFailed').map((r: any) => [r.expr, r.labels])).toEqual([
        ['last_over_time(probe_success{check="acme-eu-health"}[1d]) == 0', { severity: 'critical', notify: 'ops' }],
        ['last_over_time(probe_success{check="api-acme-eu-v1-ping"}[1d]) == 0', { severity: 'critical', notify: 'oncall+ops' }],
      ]);
    });

    test('holds back what a firing alert makes redundant: the disk warning under its critical; the certificate alert only by its expression', () => {
      const root = machineFiles(userDataOf(synthesized(Phase.ONE, 'test'), 'acme-test-app'));
      const am = parse(root.get('/etc/sovereign-monitoring/alertmanager.yml.in')!.content);
      // Matched on the disk itself: another disk's critical never hides this one's warning.
      expect(am.inhibit_rules).toEqual(expect.arrayContaining([
        { source_matchers: ['alertname="DiskAboveSplitThreshold"'], target_matchers: ['alertname="DiskAboveVolumeThreshold"'], equal: ['instance', 'mountpoint'] },
      ]));
      // UptimeCheckFailed fires per address family: an inhibit rule on the check would let one failing family hide the
      // certificate the other serves (rule-behaviour.test.ts shows the expression's own suppression).
      expect(am.inhibit_rules.filter((r: { target_matchers: string[] }) => r.target_matchers.includes('alertname="TlsCertificateExpiring"'))).toEqual([]);
    });

    test('the watch beside Prometheus says it is down after the two failed looks 15 s apart that PrometheusDown documents, to the plan\'s receivers', () => {
      const root = machineFiles(userDataOf(synthesized(Phase.ONE, 'test'), 'acme-test-app'));
      const watch = JSON.parse(root.get('/etc/sovereign-monitoring/prometheus-watch.json')!.content);
      expect([watch.everySeconds, watch.failuresToAlert]).toEqual([15, 2]);
      expect(MonitoringAlert.PROMETHEUS_DOWN.firesWhen).toContain(`twice in a row (${watch.everySeconds} s apart)`);
      expect(watch.labels).toEqual({ prober: 'acme-test-app', severity: 'critical', notify: 'ops' });
    });

    test("the dead-man's switch's grace is one interval: a ping one interval late alerts, one lost ping never does", () => {
      expect(DeadMansSwitch.healthchecksIo().grace.toSeconds()).toBe(Duration.minutes(5).toSeconds());
      expect(DeadMansSwitch.selfHosted({ hostname: 'hc.acme.eu' }, { interval: Duration.minutes(10) }).grace.toSeconds()).toBe(Duration.minutes(10).toSeconds());
    });

    test("warns when an e-mail receiver uses a port Hetzner blocks", () => {
      const blocked = AlertReceiver.email('mail', { to: ['ops@acme.eu'], from: 'alerts@acme.eu', smarthost: 'smtp.mail.eu:465', username: 'alerts' });
      const { production } = productFixture({ plan: plan({ receivers: [blocked] }), backups: false });
      synth(production.stack);
      const warnings = production.stack.node.findAll().flatMap((c) => c.node.metadata).filter((m) => m.type === '@cdktf/warn').map((m) => String(m.data));
      expect(warnings).toEqual(expect.arrayContaining([expect.stringMatching(/^Monitoring-BlockedSmtpPort: receiver 'mail' sends through smtp\.mail\.eu:465.*Fix: use the submission port 587\.$/)]));
    });

    test('warns when a TCP uptime check probes a port Hetzner blocks outgoing: it would fail, and alert, for good', () => {
      const checks = [UptimeCheck.http(Environment.TEST, 'https://test.acme.eu/health'), UptimeCheck.tcp(Environment.PRODUCTION, 'mail.acme.eu', 25)];
      const { test } = productFixture({ plan: plan({ uptimeChecks: checks }), backups: false });
      synth(test.stack);
      const warnings = test.stack.node.findAll().flatMap((c) => c.node.metadata).filter((m) => m.type === '@cdktf/warn').map((m) => String(m.data));
      expect(warnings).toEqual(expect.arrayContaining([expect.stringMatching(
        /^Monitoring-BlockedSmtpPort: acme-test\/Monitoring\.plan\.uptimeChecks \(mail-acme-eu-25\) probes mail\.acme\.eu:25 from acme-test-app, but Hetzner blocks outgoing ports 25 and 465 on new projects.* Fix: check the submission port 587/)]));
    });
  });

  test('the Phase 1 monitoring parts of the production machine stay compact', () => {
    const { production } = productFixture({ backups: false });
    const parts: any[] = (production.app.cloudInit as any).parts.filter((p: any) => p.name.startsWith('sovereign-monitoring'));
    const doc = new CloudInit();
    for (const p of parts) doc.addPart(p);
    // About a quarter of Hetzner's 32 KiB; the rest is the backup tooling's and the egress allowlist's.
    expect(Buffer.byteLength(doc.render())).toBeLessThan(9 * 1024);
  });
});
