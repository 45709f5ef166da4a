import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Testing } from 'cdktf';
import { parse, stringify } from 'yaml';
import { Phase, ROADMAP_THRESHOLDS } from '../../lib';
import { productFixture, userDataOf } from './helpers/fixture';
import { MachineRoot } from './helpers/machine-root';
import { describeWithRealParts } from '../setup/real-parts';

// What the rendered rules decide, run by Prometheus's own rule engine (`promtool test rules`) on
// synthetic series: when each alert fires and when it does not, with the numbers the library takes
// from the BackupPlan, the RestoreDrill and Roadmap.assess. Annotations (wording) are left out.
const promtool = spawnSync('promtool', ['--version']).status === 0;
// Skipped only outside CI: in CI a missing promtool is a broken machine, not a pass (it skipped there too before).
const describeWithPromtool = describeWithRealParts(promtool, 'the rule-behaviour suite', "promtool (Debian's prometheus package)");

interface Case {
  readonly series: Record<string, string>;
  /** Between two samples of the series. */
  readonly interval: string;
  /** Between two rule evaluations. @default '1m' */
  readonly evaluation?: string;
  /** Each alert's labels at `at`; with `annotations`, each alert's annotations too, in the same order. */
  readonly expect: Array<{ at: string; alert: string; labels: Array<Record<string, string>>; annotations?: Array<Record<string, string>> }>;
}

describeWithPromtool('the rendered alert rules, evaluated by promtool', () => {
  const roots: MachineRoot[] = [];
  afterAll(() => roots.forEach((r) => r.remove()));

  /** The rules file of a prober, without annotations unless `annotations` keeps them (promtool then checks them all). */
  function rules(phase: Phase, environment: 'test' | 'production', options: { drillOffsite?: boolean; annotations?: boolean } = {}): string {
    const { test, production } = productFixture({ phase, ...options });
    const stack = environment === 'test' ? test.stack : production.stack;
    // Without validations: the backup tooling and the monitoring together exceed the 32 KiB user data (see rendered-config.test.ts).
    const root = MachineRoot.create(userDataOf(JSON.parse(Testing.synth(stack)), `acme-${environment}-app`));
    roots.push(root);
    const doc = parse(root.read('/etc/sovereign-monitoring/alerts.yml'));
    if (!options.annotations) for (const group of doc.groups) for (const rule of group.rules) delete rule.annotations;
    const file = root.path('/rules-without-annotations.yml');
    fs.writeFileSync(file, stringify(doc));
    return file;
  }

  function run(rulesFile: string, c: Case): { status: number | null; output: string } {
    const test = {
      rule_files: [rulesFile],
      evaluation_interval: c.evaluation ?? '1m',
      tests: [{
        interval: c.interval,
        input_series: Object.entries(c.series).map(([series, values]) => ({ series, values })),
        alert_rule_test: c.expect.map((e) => ({ eval_time: e.at, alertname: e.alert, exp_alerts: e.labels.map((l, i) => ({ exp_labels: l, ...(e.annotations ? { exp_annotations: e.annotations[i] } : {}) })) })),
      }],
    };
    const file = path.join(path.dirname(rulesFile), `test-${Math.random().toString(36).slice(2)}.yml`);
    fs.writeFileSync(file, stringify(test));
    const result = spawnSync('promtool', ['test', 'rules', file], { encoding: 'utf8' });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  }

  const expectPass = (rulesFile: string, c: Case) => {
    const result = run(rulesFile, c);
    expect(result.output).toMatch(/SUCCESS/);
    expect(result.status).toBe(0);
  };

  const prod = { instance: 'acme-production-app', environment: 'production', job: 'node' };
  const testMachine = { instance: 'acme-test-app', environment: 'test', job: 'node' };
  const sel = (name: string, labels: Record<string, string>) => `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',')}}`;

  test("BackupTooOld fires when the newest verified backup is older than the plan's maxBackupAge (26 h in Phase 1), not before", () => {
    const file = rules(Phase.ONE, 'production');
    const labels = { ...prod, unit: 'backup-push' };
    const alert = { instance: prod.instance, environment: 'production', unit: 'backup-push', severity: 'critical', notify: 'ops' };
    // A backup at t=0, none after it.
    expectPass(file, {
      interval: '10m',
      evaluation: '10m',
      series: { [sel('sovereign_job_last_success_timestamp_seconds', labels)]: '0x200' },
      expect: [{ at: '25h50m', alert: 'BackupTooOld', labels: [] }, { at: '26h10m', alert: 'BackupTooOld', labels: [alert] }],
    });
    // Watched since t=0 and never a backup: the same.
    expectPass(file, {
      interval: '10m',
      evaluation: '10m',
      series: { [sel('sovereign_job_watched_since_timestamp_seconds', labels)]: '0x200' },
      expect: [{ at: '25h50m', alert: 'BackupTooOld', labels: [] }, { at: '26h10m', alert: 'BackupTooOld', labels: [alert] }],
    });
    // A new backup at 24 h (86400) resets the clock.
    expectPass(file, {
      interval: '10m',
      evaluation: '10m',
      series: {
        [sel('sovereign_job_watched_since_timestamp_seconds', labels)]: '0x200',
        [sel('sovereign_job_last_success_timestamp_seconds', labels)]: '0x143 86400x56',
      },
      expect: [{ at: '30h', alert: 'BackupTooOld', labels: [] }],
    });
  });

  test('BackupJobFailed fires while a job\'s last run failed, and clears with its next success', () => {
    const file = rules(Phase.ONE, 'production');
    const check = { ...prod, unit: 'backup-check' };
    expectPass(file, {
      interval: '1m',
      series: {
        [sel('sovereign_job_last_success_timestamp_seconds', check)]: '60x10 600x10',
        [sel('sovereign_job_last_failure_timestamp_seconds', check)]: '300x20',
        [sel('sovereign_job_last_failure_timestamp_seconds', { ...prod, unit: 'backup-prune' })]: '120x20',
      },
      expect: [
        { at: '5m', alert: 'BackupJobFailed', labels: [
          { ...check, severity: 'critical', notify: 'ops' },
          { ...prod, unit: 'backup-prune', severity: 'critical', notify: 'ops' },
        ] },
        { at: '15m', alert: 'BackupJobFailed', labels: [{ ...prod, unit: 'backup-prune', severity: 'critical', notify: 'ops' }] },
      ],
    });
  });

  test('RestoreDrillFailed fires on a failed drill; RestoreDrillMissed when none ran for a week plus 12 hours (a drill of one copy)', () => {
    const file = rules(Phase.ONE, 'test');
    const drill = { ...testMachine, unit: 'restore-drill' };
    const missed = { instance: testMachine.instance, environment: 'test', unit: 'restore-drill', severity: 'critical', notify: 'ops' };
    expectPass(file, {
      interval: '1h',
      evaluation: '30m',
      series: { [sel('sovereign_job_watched_since_timestamp_seconds', drill)]: '0x200' },
      expect: [{ at: '180h', alert: 'RestoreDrillMissed', labels: [] }, { at: '181h', alert: 'RestoreDrillMissed', labels: [missed] }],
    });
    expectPass(file, {
      interval: '1h',
      evaluation: '30m',
      series: {
        [sel('sovereign_job_watched_since_timestamp_seconds', drill)]: '0x200',
        [sel('sovereign_job_last_failure_timestamp_seconds', drill)]: '_x99 360000x100',
      },
      expect: [
        { at: '101h', alert: 'RestoreDrillFailed', labels: [{ ...drill, severity: 'critical', notify: 'ops' }] },
        // A failed drill is a run: it is not missed.
        { at: '181h', alert: 'RestoreDrillMissed', labels: [] },
      ],
    });
  });

  // The timer starts a run up to 15 minutes late: a quick run, then one that starts 15 minutes late and takes its full
  // 12 hours, end 180 h 15 min apart. That is not a missed drill.
  test('RestoreDrillMissed allows for the timer starting a run up to 15 minutes late', () => {
    const file = rules(Phase.ONE, 'test');
    const drill = { ...testMachine, unit: 'restore-drill' };
    const missed = { instance: testMachine.instance, environment: 'test', unit: 'restore-drill', severity: 'critical', notify: 'ops' };
    expectPass(file, {
      interval: '5m',
      evaluation: '5m',
      series: {
        [sel('sovereign_job_watched_since_timestamp_seconds', drill)]: '0x2300',
        // Ended at 0; the next ends at 180 h 15 min (sample 2163).
        [sel('sovereign_job_last_success_timestamp_seconds', drill)]: `0x2162 ${(180 * 60 + 15) * 60}x140`,
      },
      expect: [{ at: '180h10m', alert: 'RestoreDrillMissed', labels: [] }, { at: '180h15m', alert: 'RestoreDrillMissed', labels: [] }],
    });
    // No run at all: missed once the 15 minutes have passed too.
    expectPass(file, {
      interval: '5m',
      evaluation: '5m',
      series: { [sel('sovereign_job_watched_since_timestamp_seconds', drill)]: '0x2300', [sel('sovereign_job_last_success_timestamp_seconds', drill)]: '0x2300' },
      expect: [{ at: '180h15m', alert: 'RestoreDrillMissed', labels: [] }, { at: '180h25m', alert: 'RestoreDrillMissed', labels: [missed] }],
    });
  });

  // Audit (day 2, the offsite copy added): the drill of two copies may run 24 hours, but the alert said it had not run 12.
  test('RestoreDrillMissed waits 12 hours per copy: a drill of two copies still restoring the second is not missed', () => {
    const file = rules(Phase.TWO, 'test', { drillOffsite: true });
    const drill = { ...testMachine, unit: 'restore-drill' };
    const missed = { instance: testMachine.instance, environment: 'test', unit: 'restore-drill', severity: 'critical', notify: 'ops' };
    const watched = { [sel('sovereign_job_watched_since_timestamp_seconds', drill)]: '0x260' };
    // A drill that ended at 1 h; the next starts a week later and ends 22 hours on (at 191 h), within its 24-hour timeout.
    expectPass(file, {
      interval: '1h',
      evaluation: '30m',
      series: { ...watched, [sel('sovereign_job_last_success_timestamp_seconds', drill)]: `_ 3600x189 ${191 * 3600}x60` },
      expect: [{ at: '186h', alert: 'RestoreDrillMissed', labels: [] }, { at: '192h', alert: 'RestoreDrillMissed', labels: [] }],
    });
    // None ends after the one at 1 h: missed once the week and both copies' 12 hours have passed.
    expectPass(file, {
      interval: '1h',
      evaluation: '30m',
      series: { ...watched, [sel('sovereign_job_last_success_timestamp_seconds', drill)]: '_ 3600x250' },
      expect: [{ at: '192h', alert: 'RestoreDrillMissed', labels: [] }, { at: '194h', alert: 'RestoreDrillMissed', labels: [missed] }],
    });
  });

  test("disk alerts fire at Roadmap.assess's shares after 15 minutes", () => {
    const file = rules(Phase.ONE, 'production');
    const fs_ = { ...prod, device: '/dev/sda1', fstype: 'ext4', mountpoint: '/' };
    const size = 100;
    const avail = (share: number) => String(Math.round(size * (1 - share) * 1000) / 1000);
    const below = ROADMAP_THRESHOLDS.volumeDiskShare - 0.01;
    const between = (ROADMAP_THRESHOLDS.volumeDiskShare + ROADMAP_THRESHOLDS.splitDatabaseDiskShare) / 2;
    const above = ROADMAP_THRESHOLDS.splitDatabaseDiskShare + 0.01;
    expectPass(file, {
      interval: '5m',
      series: {
        [sel('node_filesystem_size_bytes', fs_)]: `${size}x30`,
        [sel('node_filesystem_avail_bytes', fs_)]: `${avail(below)}x6 ${avail(between)}x6 ${avail(above)}x12`,
      },
      expect: [
        { at: '25m', alert: 'DiskAboveVolumeThreshold', labels: [] },
        { at: '55m', alert: 'DiskAboveVolumeThreshold', labels: [{ ...fs_, severity: 'warning', notify: 'ops' }] },
        { at: '55m', alert: 'DiskAboveSplitThreshold', labels: [] },
        { at: '1h40m', alert: 'DiskAboveSplitThreshold', labels: [{ ...fs_, severity: 'critical', notify: 'ops' }] },
        // The warning steps aside while the critical fires: an Alertmanager restart cannot deliver it.
        { at: '1h40m', alert: 'DiskAboveVolumeThreshold', labels: [] },
      ],
    });
  });

  test('a disk that passes both shares at once fires the critical alert only: the warning never fires, not even for one evaluation', () => {
    const file = rules(Phase.ONE, 'production');
    const fs_ = { ...prod, device: '/dev/sda1', fstype: 'ext4', mountpoint: '/' };
    const above = ROADMAP_THRESHOLDS.splitDatabaseDiskShare + 0.05;
    // Below both until 5m, above both from then on: both are pending from 5m, and their 15 minutes end at 20m.
    expectPass(file, {
      interval: '1m',
      series: {
        [sel('node_filesystem_size_bytes', fs_)]: '100x40',
        [sel('node_filesystem_avail_bytes', fs_)]: `90x4 ${Math.round(100 * (1 - above))}x35`,
      },
      expect: [
        { at: '19m', alert: 'DiskAboveSplitThreshold', labels: [] },
        { at: '20m', alert: 'DiskAboveSplitThreshold', labels: [{ ...fs_, severity: 'critical', notify: 'ops' }] },
        // A warning that fired at 20m (before the critical, in the group's order) would reach Alertmanager
        // older than its group_wait, be sent at once, and could beat the critical that inhibits it.
        { at: '20m', alert: 'DiskAboveVolumeThreshold', labels: [] },
        { at: '30m', alert: 'DiskAboveVolumeThreshold', labels: [] },
      ],
    });
  });

  test('an exporter that stops resolves nothing: the last values hold, and MonitoringDataMissing fires', () => {
    const file = rules(Phase.ONE, 'production');
    const labels = { ...prod, unit: 'backup-push' };
    const alert = { instance: prod.instance, environment: 'production', unit: 'backup-push', severity: 'critical', notify: 'ops' };
    const fs_ = { ...prod, device: '/dev/sda1', fstype: 'ext4', mountpoint: '/' };
    // The backup is from t=0; node exporter dies at 27 h (its series go stale), while BackupTooOld and the disk alert fire.
    expectPass(file, {
      interval: '10m',
      evaluation: '10m',
      series: {
        [sel('sovereign_job_last_success_timestamp_seconds', labels)]: '0x162 stale',
        [sel('sovereign_job_watched_since_timestamp_seconds', labels)]: '0x162 stale',
        [sel('node_filesystem_size_bytes', fs_)]: '100x162 stale',
        [sel('node_filesystem_avail_bytes', fs_)]: '20x162 stale',
      },
      expect: [
        { at: '27h', alert: 'BackupTooOld', labels: [alert] },
        { at: '28h', alert: 'BackupTooOld', labels: [alert] },
        { at: '28h', alert: 'DiskAboveSplitThreshold', labels: [{ ...fs_, severity: 'critical', notify: 'ops' }] },
        // Held for a day (DATA_HOLD) after the last sample at 27 h, then silent.
        { at: '50h', alert: 'DiskAboveSplitThreshold', labels: [{ ...fs_, severity: 'critical', notify: 'ops' }] },
        { at: '52h', alert: 'DiskAboveSplitThreshold', labels: [] },
        // Missing: the stopped series, and those this case never fed (the check, the other jobs).
        { at: '28h', alert: 'MonitoringDataMissing', labels: [
          // One per family the check is probed over: a family whose probe stopped is missed on its own.
          { check: 'test-acme-eu-health', ip_family: 'ipv4', severity: 'warning', notify: 'ops' },
          { check: 'test-acme-eu-health', ip_family: 'ipv6', severity: 'warning', notify: 'ops' },
          { instance: prod.instance, severity: 'warning', notify: 'ops' },
          ...['backup-check', 'backup-dump', 'backup-prune', 'backup-push'].map((unit) => ({ instance: prod.instance, unit, severity: 'warning', notify: 'ops' })),
        ] },
      ],
    });
  });

  test('MonitoringTargetDown fires when a node exporter cannot be scraped for 2 minutes; a failing probe is left to UptimeCheckFailed', () => {
    const file = rules(Phase.ONE, 'production');
    expectPass(file, {
      interval: '1m',
      series: {
        [sel('up', prod)]: '1 1 0x10',
        [sel('up', { job: 'alertmanager', instance: prod.instance })]: '1x12',
        [sel('up', { job: 'check_acme-eu-health_ipv4', instance: 'https://acme.eu/health' })]: '0x12',
      },
      expect: [
        { at: '3m', alert: 'MonitoringTargetDown', labels: [] },
        { at: '5m', alert: 'MonitoringTargetDown', labels: [{ ...prod, severity: 'warning', notify: 'ops' }] },
      ],
    });
  });

  test('UptimeCheckFailed fires after the check failed for alertAfter (2 minutes); the certificate alert 14 days ahead', () => {
    const file = rules(Phase.ONE, 'test');
    const check = { check: 'acme-eu-health', environment: 'production', instance: 'https://acme.eu/health' };
    const probe = { ...check, job: 'check_acme-eu-health_ipv4', ip_family: 'ipv4' };
    const probe6 = { ...check, job: 'check_acme-eu-health_ipv6', ip_family: 'ipv6' };
    const alert = { ...probe, severity: 'critical', notify: 'ops' };
    // One certificate, whichever family served it: one alert, without the family.
    const certificate = { ...check, severity: 'critical', notify: 'ops' };
    expectPass(file, {
      interval: '30s',
      series: {
        [sel('probe_success', probe)]: '1x10 0x10',
        [sel('probe_success', probe6)]: '1x20',
        [sel('probe_ssl_earliest_cert_expiry', probe)]: `${15 * 86400}x60`,
      },
      expect: [
        { at: '6m', alert: 'UptimeCheckFailed', labels: [] },
        // Failing from 5m30s: pending at the 6m evaluation, firing 2 minutes later.
        { at: '7m', alert: 'UptimeCheckFailed', labels: [] },
        { at: '8m', alert: 'UptimeCheckFailed', labels: [alert] },
        // 15 days minus 30 minutes is still more than 14 days.
        { at: '29m', alert: 'TlsCertificateExpiring', labels: [] },
      ],
    });
    expectPass(file, {
      interval: '1m',
      series: { [sel('probe_ssl_earliest_cert_expiry', probe)]: `${13 * 86400}x30`, [sel('probe_ssl_earliest_cert_expiry', probe6)]: `${13 * 86400}x30` },
      expect: [{ at: '11m', alert: 'TlsCertificateExpiring', labels: [certificate] }],
    });
  });

  // The summary wrote the label as it is ("down over ipv6"); an alert a person reads names the family as it is written.
  test("UptimeCheckFailed's summary names the failing family as IPv4 or IPv6", () => {
    const file = rules(Phase.ONE, 'test', { annotations: true });
    const check = { check: 'acme-eu-health', environment: 'production', instance: 'https://acme.eu/health' };
    const alert = (family: string) => ({ ...check, job: `check_acme-eu-health_${family}`, ip_family: family });
    const annotations = (family: string) => ({
      summary: `production is down over ${family}: https://acme.eu/health fails its check from acme-test-app`,
      description: 'Expected status 200 and a matching body; failing for at least 2 minutes.',
    });
    expectPass(file, {
      interval: '1m',
      series: { [sel('probe_success', alert('ipv4'))]: '0x10', [sel('probe_success', alert('ipv6'))]: '0x10' },
      expect: [{ at: '5m', alert: 'UptimeCheckFailed', labels: [
        { ...alert('ipv4'), severity: 'critical', notify: 'ops' }, { ...alert('ipv6'), severity: 'critical', notify: 'ops' },
      ], annotations: [annotations('IPv4'), annotations('IPv6')] }],
    });
  });

  // The exporter preferred IPv6 and fell back to IPv4: one probe per check, over one family, so an outage of the
  // other went unseen. Each family is its own series now, and an outage of one fires while the other answers.
  test('UptimeCheckFailed fires for the family that fails while the other answers', () => {
    const file = rules(Phase.ONE, 'test');
    const check = { check: 'acme-eu-health', environment: 'production', instance: 'https://acme.eu/health' };
    const probe4 = { ...check, job: 'check_acme-eu-health_ipv4', ip_family: 'ipv4' };
    const probe6 = { ...check, job: 'check_acme-eu-health_ipv6', ip_family: 'ipv6' };
    expectPass(file, {
      interval: '30s',
      series: { [sel('probe_success', probe4)]: '1x20', [sel('probe_success', probe6)]: '1x10 0x10' },
      expect: [
        { at: '7m', alert: 'UptimeCheckFailed', labels: [] },
        { at: '8m', alert: 'UptimeCheckFailed', labels: [{ ...probe6, severity: 'critical', notify: 'ops' }] },
      ],
    });
  });

  // The certificate alert was suppressed while UptimeCheckFailed fired for any family of the check: an IPv6 outage
  // (or a name without AAAA) hid the expiry of the certificate IPv4 still served. Only a check down on every family hides it.
  test('TlsCertificateExpiring fires while IPv4 serves the expiring certificate and IPv6 is down; not when both are down', () => {
    const file = rules(Phase.ONE, 'test');
    const check = { check: 'acme-eu-health', environment: 'production', instance: 'https://acme.eu/health' };
    const probe4 = { ...check, job: 'check_acme-eu-health_ipv4', ip_family: 'ipv4' };
    const probe6 = { ...check, job: 'check_acme-eu-health_ipv6', ip_family: 'ipv6' };
    const certificate = { ...check, severity: 'critical', notify: 'ops' };
    expectPass(file, {
      interval: '1m',
      series: {
        [sel('probe_success', probe4)]: '1x40',
        [sel('probe_success', probe6)]: '0x40',
        [sel('probe_ssl_earliest_cert_expiry', probe4)]: `${13 * 86400}x40`,
      },
      expect: [
        { at: '5m', alert: 'UptimeCheckFailed', labels: [{ ...probe6, severity: 'critical', notify: 'ops' }] },
        { at: '30m', alert: 'TlsCertificateExpiring', labels: [certificate] },
      ],
    });
    // Down on both families (a 500 over TLS still reports the certificate): UptimeCheckFailed says it all.
    expectPass(file, {
      interval: '1m',
      series: {
        [sel('probe_success', probe4)]: '0x40',
        [sel('probe_success', probe6)]: '0x40',
        [sel('probe_ssl_earliest_cert_expiry', probe4)]: `${13 * 86400}x40`,
      },
      expect: [{ at: '30m', alert: 'TlsCertificateExpiring', labels: [] }],
    });
  });

  test('Phase 2 adds host alerts: memory', () => {
    const file = rules(Phase.TWO, 'production');
    expectPass(file, {
      interval: '1m',
      series: {
        [sel('node_memory_MemTotal_bytes', prod)]: '1000x30',
        [sel('node_memory_MemAvailable_bytes', prod)]: '500x5 50x25',
      },
      expect: [
        { at: '10m', alert: 'MemoryAlmostExhausted', labels: [] },
        { at: '20m', alert: 'MemoryAlmostExhausted', labels: [{ ...prod, severity: 'warning', notify: 'ops' }] },
      ],
    });
  });

  test('a failed rollout fires RolloutFailed at once, and a successful one clears it', () => {
    const file = rules(Phase.ONE, 'production');
    expectPass(file, {
      interval: '1m',
      series: { [sel('sovereign_rollout_success', prod)]: '1x5 0x5 1x5' },
      expect: [
        { at: '3m', alert: 'RolloutFailed', labels: [] },
        { at: '7m', alert: 'RolloutFailed', labels: [{ ...prod, severity: 'warning', notify: 'ops' }] },
        { at: '13m', alert: 'RolloutFailed', labels: [] },
      ],
    });
  });

  test('the private-network table: missing after its check for 5 minutes is critical', () => {
    // A flush the check could not repair (the ruleset does not load) at 10m.
    expectPass(rules(Phase.ONE, 'production'), {
      interval: '1m',
      series: { [sel('sovereign_private_ingress_table_present', prod)]: '1x10 0x30' },
      expect: [
        { at: '14m', alert: 'PrivateIngressNotLoaded', labels: [] },
        { at: '16m', alert: 'PrivateIngressNotLoaded', labels: [{ ...prod, severity: 'critical', notify: 'ops' }] },
      ],
    });
    // The timer stopped (or the check was killed before it wrote) at 10m, the table flushed after: node exporter keeps
    // exporting the last file, "present 1", and only its timestamp, no longer moving, tells. Stale past 10 minutes.
    expectPass(rules(Phase.ONE, 'production'), {
      interval: '1m',
      series: {
        [sel('sovereign_private_ingress_table_present', prod)]: '1x40',
        [sel('sovereign_private_ingress_check_timestamp_seconds', prod)]: '0+60x10 600x30',
      },
      expect: [
        { at: '19m', alert: 'PrivateIngressNotLoaded', labels: [] },
        { at: '26m', alert: 'PrivateIngressNotLoaded', labels: [{ ...prod, severity: 'critical', notify: 'ops' }] },
      ],
    });
  });

  // A flush the 2-minute check repaired at once: "present" is 1 at every scrape, so the alerts above never fired, and
  // nobody learned that the table had been gone. The time of the last repair says it, for an hour, naming the table.
  test('a table its check found missing and loaded again fires HostTableRepaired at once, for an hour, naming the table', () => {
    const repaired = (table: string, check: string) => [{ ...prod, table, check, severity: 'warning', notify: 'ops' }];
    expectPass(rules(Phase.ONE, 'production'), {
      interval: '1m',
      series: {
        // Present at every check; the egress check repaired at 10m (never before: 0), the private-network one at 30m.
        [sel('sovereign_egress_check_table_present', prod)]: '1x100',
        [sel('sovereign_egress_check_timestamp_seconds', prod)]: '0+60x100',
        [sel('sovereign_egress_check_last_repair_timestamp_seconds', prod)]: '0x10 600x90',
        [sel('sovereign_private_ingress_table_present', prod)]: '1x100',
        [sel('sovereign_private_ingress_check_timestamp_seconds', prod)]: '0+60x100',
        [sel('sovereign_private_ingress_check_last_repair_timestamp_seconds', prod)]: '0x30 1800x70',
      },
      expect: [
        { at: '9m', alert: 'HostTableRepaired', labels: [] },
        { at: '11m', alert: 'HostTableRepaired', labels: repaired('egress allowlist', 'sovereign-egress-check') },
        { at: '31m', alert: 'HostTableRepaired', labels: [...repaired('egress allowlist', 'sovereign-egress-check'), ...repaired('private-network ingress', 'sovereign-private-ingress-check')] },
        { at: '71m', alert: 'HostTableRepaired', labels: repaired('private-network ingress', 'sovereign-private-ingress-check') },
        { at: '91m', alert: 'HostTableRepaired', labels: [] },
        // The table was back at every check: the alerts on a missing one stay quiet.
        { at: '11m', alert: 'EgressAllowlistNotLoaded', labels: [] },
        { at: '31m', alert: 'PrivateIngressNotLoaded', labels: [] },
      ],
    });
  });

  // A drop-in read after the parts' that reset nftables.service's start left the host tables out of every restart, and
  // nothing said so. Each check records whether the loader is in place, labelled with its name: one alert per machine.
  test("nftables.service not running the host tables' loader, as any check of the machine reads it, fires HostTablesLoaderBypassed after 5 minutes, once", () => {
    const loader = (check: string) => sel('sovereign_host_tables_loader_in_place', { ...prod, check });
    expectPass(rules(Phase.ONE, 'production'), {
      interval: '1m',
      series: {
        [loader('sovereign-egress-check')]: '1x10 0x30',
        [loader('sovereign-metadata-guard-check')]: '1x10 0x30',
        [loader('sovereign-private-ingress-check')]: '1x40',
      },
      expect: [
        { at: '14m', alert: 'HostTablesLoaderBypassed', labels: [] },
        { at: '17m', alert: 'HostTablesLoaderBypassed', labels: [{ ...prod, severity: 'warning', notify: 'ops' }] },
      ],
    });
    // Its fix named the egress allowlist's copy of the loader, which a machine without the allowlist does not have.
    const doc = parse(fs.readFileSync(rules(Phase.ONE, 'production', { annotations: true }), 'utf8'));
    const description: string = doc.groups.flatMap((g: any) => g.rules).find((r: any) => r.alert === 'HostTablesLoaderBypassed').annotations.description;
    expect(description).toMatch(/ls \S*\/usr\/local\/sbin\/sovereign-\*-nftables\)/);
    expect(description).not.toMatch(/sovereign-egress-nftables/);
  });

  test('the egress allowlist: a missing table (by the refresh or the 2-minute check) or a stale check is critical after 5 minutes, a failing or stopped refresh a warning after 20', () => {
    const file = rules(Phase.ONE, 'production');
    // A reboot without the boot unit: the refresh finds no table at 10m (and then fails to load it).
    expectPass(file, {
      interval: '1m',
      series: {
        [sel('sovereign_egress_table_present', prod)]: '1x10 0x30',
        [sel('sovereign_egress_refresh_success', prod)]: '1x10 0x30',
        [sel('sovereign_egress_refresh_timestamp_seconds', prod)]: '0+60x40',
      },
      expect: [
        { at: '14m', alert: 'EgressAllowlistNotLoaded', labels: [] },
        { at: '16m', alert: 'EgressAllowlistNotLoaded', labels: [{ ...prod, severity: 'critical', notify: 'ops' }] },
        { at: '29m', alert: 'EgressAllowlistRefreshFailing', labels: [] },
        { at: '31m', alert: 'EgressAllowlistRefreshFailing', labels: [{ ...prod, severity: 'warning', notify: 'ops' }] },
      ],
    });
    // The ruleset flushed at 10m and the check, every 2 minutes, cannot load the table again: the refresh's last
    // file (10 minutes apart) still says present, the check's does not.
    expectPass(file, {
      interval: '1m',
      series: {
        [sel('sovereign_egress_table_present', prod)]: '1x40',
        [sel('sovereign_egress_check_table_present', prod)]: '1x10 0x30',
        [sel('sovereign_egress_check_timestamp_seconds', prod)]: '0+60x40',
      },
      expect: [
        { at: '14m', alert: 'EgressAllowlistNotLoaded', labels: [] },
        { at: '16m', alert: 'EgressAllowlistNotLoaded', labels: [{ ...prod, severity: 'critical', notify: 'ops' }] },
      ],
    });
    // The check's timer stopped at 10m: its last "present 1" is stale past 10 minutes.
    expectPass(file, {
      interval: '1m',
      series: {
        [sel('sovereign_egress_check_table_present', prod)]: '1x40',
        [sel('sovereign_egress_check_timestamp_seconds', prod)]: '0+60x10 600x30',
      },
      expect: [
        { at: '19m', alert: 'EgressAllowlistNotLoaded', labels: [] },
        { at: '26m', alert: 'EgressAllowlistNotLoaded', labels: [{ ...prod, severity: 'critical', notify: 'ops' }] },
      ],
    });
    // A timer that stopped: the last refresh succeeded, but 30 minutes ago and more.
    expectPass(file, {
      interval: '1m',
      series: {
        [sel('sovereign_egress_refresh_success', prod)]: '1x80',
        [sel('sovereign_egress_refresh_timestamp_seconds', prod)]: '0x80',
      },
      expect: [
        { at: '45m', alert: 'EgressAllowlistRefreshFailing', labels: [] },
        { at: '52m', alert: 'EgressAllowlistRefreshFailing', labels: [{ ...prod, severity: 'warning', notify: 'ops' }] },
      ],
    });
  });
});
