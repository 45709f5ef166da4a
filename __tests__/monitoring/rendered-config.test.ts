import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Testing } from 'cdktf';
import { Phase } from '../../lib';
import { productFixture, synth, userDataOf } from './helpers/fixture';
import { check, FAKE_SECRETS, MachineRoot } from './helpers/machine-root';
import { describeWithRealParts, runsInCi } from '../setup/real-parts';

// Every configuration the monitoring renders, checked by the tool that reads it: promtool for
// Prometheus and its rules, amtool for Alertmanager (after the real setup script put the secrets in),
// the blackbox exporter's own --config.check, and cloud-init's schema for the whole user data.
const has = (command: string, args: string[]) => spawnSync(command, args).status === 0;
const tools = has('promtool', ['--version']) && has('amtool', ['--version']) && has('prometheus-blackbox-exporter', ['--version']);
// Skipped only outside CI: in CI a missing tool is a broken machine, not a pass (it skipped there too before).
const withTools = describeWithRealParts(tools, 'the rendered-config suite', "promtool, amtool and prometheus-blackbox-exporter (Debian's prometheus packages)");
const cloudInit = has('cloud-init', ['--version']) || runsInCi() ? test : test.skip;

interface Prober {
  readonly label: string;
  readonly userData: string;
}

/**
 * The user data of every machine that runs a prober, in every phase. Production's backups and test's
 * restore drill are in, so the backup and drill rules are rendered too; validations are skipped here
 * because the backup tooling and the monitoring together exceed Hetzner's 32 KiB user data until the
 * user data is compressed as a whole (see the report); the other suites synthesize with validations.
 */
function probers(): Prober[] {
  return Phase.all().flatMap((phase) => {
    const { test, production } = productFixture({ phase });
    const read = (stack: typeof test.stack, name: string): Prober => {
      const json = JSON.parse(Testing.synth(stack));
      return { label: `Phase ${phase.number}: ${name}`, userData: userDataOf(json, name) };
    };
    return [
      read(test.stack, 'acme-test-app'),
      read(production.stack, phase.monitoringMachine ? 'acme-production-monitoring' : 'acme-production-app'),
    ];
  });
}

withTools('the rendered configuration passes its own checker', () => {
  const roots: MachineRoot[] = [];
  afterAll(() => roots.forEach((r) => r.remove()));
  // Synthesized once for the file: each test only reads a prober's user data (a root of its own is made from it).
  const all = probers();
  const cases = all.map((p) => [p.label, p] as const);

  test.each(cases)('%s: promtool check config (with its rules) and promtool check rules', (_, prober) => {
    const root = MachineRoot.create(prober.userData);
    roots.push(root);
    const config = check('promtool', ['check', 'config', root.path('/etc/sovereign-monitoring/prometheus.yml')]);
    expect(config.output).toMatch(/SUCCESS/);
    expect(config.status).toBe(0);
    const rules = check('promtool', ['check', 'rules', root.path('/etc/sovereign-monitoring/alerts.yml')]);
    expect(rules.output).toMatch(/SUCCESS: \d+ rules found/);
    expect(rules.status).toBe(0);
  });

  test.each(cases)('%s: amtool check-config, after the setup script decoded the secrets', (_, prober) => {
    const root = MachineRoot.create(prober.userData);
    roots.push(root);
    const setup = root.setup('alertmanager');
    expect(setup.output).toBe('');
    expect(setup.status).toBe(0);
    const result = check('amtool', ['check-config', root.path('/etc/sovereign-monitoring/alertmanager.yml')]);
    expect(result.output).toMatch(/SUCCESS/);
    expect(result.status).toBe(0);
    // Each prober pings its own check through the relay: test's prober with test's variable, production's with
    // production's. Neither the configuration nor its template holds the URL; the relay's file does.
    const [variable, other] = prober.label.includes('-test-') ? ['monitoring_deadman_ping_url_test', 'monitoring_deadman_ping_url_production']
      : ['monitoring_deadman_ping_url_production', 'monitoring_deadman_ping_url_test'];
    const config = root.read('/etc/sovereign-monitoring/alertmanager.yml');
    expect(config).toContain(`"http://127.0.0.1:9095/${variable}"`);
    expect(config).not.toContain(other);
    expect(JSON.parse(root.read('/etc/sovereign-monitoring/secrets/webhook-urls.json'))[variable]).toBe(FAKE_SECRETS[variable]);
    for (const file of ['alertmanager.yml', 'alertmanager.yml.in']) expect(root.read(`/etc/sovereign-monitoring/${file}`)).not.toContain('hc-ping.com/');
  });

  test.each(cases)("%s: the blackbox exporter's --config.check", (_, prober) => {
    const root = MachineRoot.create(prober.userData);
    roots.push(root);
    const result = check('prometheus-blackbox-exporter', [`--config.file=${root.path('/etc/sovereign-monitoring/blackbox.yml')}`, '--config.check']);
    expect(result.output).toMatch(/Config file is ok/);
    expect(result.status).toBe(0);
  });

  test('every phase renders the rules it promises', () => {
    const names = (p: Prober) => {
      const root = MachineRoot.create(p.userData);
      roots.push(root);
      return [...root.read('/etc/sovereign-monitoring/alerts.yml').matchAll(/- alert: (\w+)/g)].map((m) => m[1]);
    };
    // The rollout agent's, the egress allowlist's and the private-network table's own records (and their checks' repairs), on every watched machine.
    const TOOLING = ['RolloutFailed', 'EgressAllowlistNotLoaded', 'EgressAllowlistRefreshFailing', 'PrivateIngressNotLoaded', 'MetadataGuardNotLoaded', 'HostTableRepaired', 'HostTablesLoaderBypassed'];
    const phase1Test = names(all[0]);
    const phase1Production = names(all[1]);
    const phase2Production = names(all[3]);
    expect(new Set(phase1Test)).toEqual(new Set(['UptimeCheckFailed', 'TlsCertificateExpiring', 'RestoreDrillFailed', 'RestoreDrillMissed',
      'DiskAboveVolumeThreshold', 'DiskAboveSplitThreshold', 'Watchdog', 'MonitoringTargetDown', 'MonitoringDataMissing', ...TOOLING]));
    expect(new Set(phase1Production)).toEqual(new Set(['UptimeCheckFailed', 'TlsCertificateExpiring', 'BackupJobFailed', 'BackupTooOld',
      'DiskAboveVolumeThreshold', 'DiskAboveSplitThreshold', 'Watchdog', 'MonitoringTargetDown', 'MonitoringDataMissing', ...TOOLING]));
    expect(phase2Production).toEqual(expect.arrayContaining(['MemoryAlmostExhausted', 'OutOfMemoryKill', 'DiskWillFillIn24Hours', 'CpuSaturated']));
  });
});

describe('the user data passes cloud-init schema', () => {
  const roots: string[] = [];
  afterAll(() => roots.forEach((r) => fs.rmSync(r, { recursive: true, force: true })));

  cloudInit.each(Phase.all().map((p) => [p.number, p] as const))('Phase %s: every machine of test and production', (_, phase) => {
    // With validations: the user data as it deploys, the bootstrap the bundle's rollout builds on.
    const { test, production } = productFixture({ phase });
    // Production's stack synthesized once, for both of its machines.
    const productionJson = synth(production.stack);
    const machines = [
      [synth(test.stack), 'acme-test-app'], [productionJson, 'acme-production-app'],
      ...(phase.monitoringMachine ? [[productionJson, 'acme-production-monitoring']] : []),
    ] as const;
    for (const [json, name] of machines) {
      const server = Object.values<any>(json.resource.hcloud_server).find((s) => s.name === name);
      expect(Buffer.byteLength(server.user_data)).toBeLessThanOrEqual(8192);
      const root = MachineRoot.create(server.user_data);
      roots.push(root.dir);
      const file = path.join(root.dir, 'user-data');
      fs.writeFileSync(file, root.userData);
      const result = check('cloud-init', ['schema', '--config-file', file]);
      expect(`${name}: ${result.output}`).toMatch(/Valid cloud-config/);
      expect(result.status).toBe(0);
    }
  });
});
