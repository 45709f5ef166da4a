import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { DEADMAN_PATH, durationSeconds, LiveProber, OPS_PATH, runJobHook, startLiveProber, WATCHDOG_TIME_SCALE } from './helpers/live-prober';
import { waitFor } from './helpers/live-stack';

// Production's Phase 1 prober as the library renders it, live on loopback: Prometheus, the blackbox
// exporter, Alertmanager and node exporter from Debian, started with the rendered command lines and
// configuration, probing a local HTTP target and alerting a local webhook receiver. Timing is short
// (1 s probes and evaluations, alert after 2 s, 1 s grouping); figures go to scripts/bench-monitoring.js.
const binaries = ['prometheus', 'prometheus-alertmanager', 'prometheus-blackbox-exporter', 'prometheus-node-exporter']
  .every((b) => spawnSync(b, ['--version']).status === 0);
if (!binaries) console.warn('monitoring end-to-end suite skipped: the Debian prometheus packages are missing (.ci/run installs them)');
if (!binaries && process.env.CI === 'true') throw new Error('the Debian prometheus packages are missing in CI');
const describeLive = binaries ? describe : describe.skip;

/** Runs a Python snippet as the unprivileged user `nobody`; returns what it printed. */
function asNobody(code: string): string {
  const result = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '/usr/bin/python3', '-c', code], { encoding: 'utf8' });
  return `${result.stdout}${result.stderr}`.trim();
}

/** Lets other users walk down to the root's files (as /etc is), so that only each file's own mode protects it. */
function openDirectories(dir: string): void {
  fs.chmodSync(dir, 0o755);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) openDirectories(path.join(dir, entry.name));
}

/** A bound for each step: generous against a loaded CI machine, far below anything a team would notice. */
const BOUND_MS = 30_000;
const BACKUP_MAX_AGE_S = 6;

describeLive('the monitoring, live on Prometheus, Alertmanager and the blackbox exporter', () => {
  jest.setTimeout(90_000);
  let live: LiveProber;
  let hookAt: number;

  beforeAll(async () => {
    live = await startLiveProber({ backupMaxAgeSeconds: BACKUP_MAX_AGE_S });
    // A backup just succeeded; the check job failed once.
    hookAt = Date.now();
    runJobHook(live.root, 'backup-push', 'success');
    runJobHook(live.root, 'backup-check', 'exit-code');
  });
  afterAll(async () => {
    await live?.stop();
  });

  const firing = (alertname: string, path = OPS_PATH) => live.receiver.alerts(path).filter((a) => a.labels.alertname === alertname && a.status === 'firing');

  test("the watchdog reaches the dead-man's switch, and only it", async () => {
    const ping = await waitFor('the first watchdog ping', () => firing('Watchdog', DEADMAN_PATH)[0], BOUND_MS);
    expect(ping.labels).toMatchObject({ alertname: 'Watchdog', prober: 'acme-production-app', severity: 'none' });
    expect(live.receiver.alerts(OPS_PATH).filter((a) => a.labels.alertname === 'Watchdog')).toEqual([]);
  });

  test('while the target is up, no uptime alert fires', async () => {
    // The check has run and passed, and then twice as long as it takes to alert has gone by.
    await waitFor('a passing probe', async () => (await live.stack.query(`probe_success{check="${live.check}"} == 1`)).length > 0, BOUND_MS);
    const since = Date.now();
    await waitFor('4 more seconds of evaluations', async () => (await live.stack.lastEvaluation('uptime')) > since + 4000 || undefined, BOUND_MS);
    expect(firing('UptimeCheckFailed')).toEqual([]);
    expect((await live.stack.query('ALERTS{alertname="UptimeCheckFailed"}'))).toEqual([]);
  });

  test('a failed backup job and a stale backup alert the receiver', async () => {
    const failed = await waitFor('BackupJobFailed', () => firing('BackupJobFailed')[0], BOUND_MS);
    expect(failed.labels).toMatchObject({ unit: 'backup-check', instance: 'acme-production-app', severity: 'critical', environment: 'production' });
    // The push succeeded at hookAt: nothing before it is BACKUP_MAX_AGE_S old, then it is.
    const stale = await waitFor('BackupTooOld', () => firing('BackupTooOld')[0], BOUND_MS);
    expect(stale.labels).toMatchObject({ unit: 'backup-push', instance: 'acme-production-app', severity: 'critical' });
    expect(Date.parse(stale.startsAt)).toBeGreaterThanOrEqual(Math.floor(hookAt / 1000) * 1000 + BACKUP_MAX_AGE_S * 1000);
    expect(firing('BackupJobFailed').some((a) => a.labels.unit === 'backup-push')).toBe(false);
  });

  test("the watchdog pings the dead-man's switch once per rendered interval, measured over four intervals", async () => {
    const rendered = /receiver: "deadmansswitch"\n\s+group_wait: "0s"\n\s+group_interval: "([^"]+)"/.exec(
      fs.readFileSync(live.root.path('/etc/sovereign-monitoring/alertmanager.yml.in'), 'utf8'))!;
    // The rendered route is scaled by WATCHDOG_TIME_SCALE (minutes become seconds); the period must be the plan's interval, scaled.
    const periodMs = 5 * 60 * 1000 * WATCHDOG_TIME_SCALE;
    expect(durationSeconds(rendered[1]) * 1000).toBe(periodMs);
    const pings = () => live.receiver.alerts(DEADMAN_PATH).filter((a) => a.labels.alertname === 'Watchdog').map((a) => a.at);
    const first = pings().length;
    await waitFor('five more pings', () => pings().length >= first + 5 || undefined, periodMs * 8);
    const at = pings().slice(first);
    const gaps = at.slice(1).map((t, i) => t - at[i]);
    console.log(`watchdog gaps: ${gaps.join(', ')} ms (rendered period ${periodMs} ms scaled)`);
    for (const gap of gaps) {
      expect(gap).toBeGreaterThan(periodMs * 0.8);
      expect(gap).toBeLessThan(periodMs * 1.25);
    }
  });

  test('other local users cannot read the web APIs or the secrets; root with the password can', async () => {
    openDirectories(live.root.dir);
    const status = `http://127.0.0.1:${live.stack.ports.alertmanager}/api/v2/status`;
    const get = (url: string) => `import urllib.request, urllib.error\ntry:\n  print(urllib.request.urlopen("${url}").status)\nexcept urllib.error.HTTPError as e:\n  print(e.code)`;
    expect(asNobody(get(status))).toBe('401');
    expect(asNobody(get(`http://127.0.0.1:${live.stack.ports.prometheus}/api/v1/status/config`))).toBe('401');
    for (const file of ['/etc/sovereign-monitoring/secrets/web_password', '/etc/sovereign-monitoring/alertmanager.yml',
      '/etc/sovereign-monitoring/secrets/monitoring_webhook_ops.b64', '/etc/sovereign-monitoring/web/amtool.yml']) {
      expect(asNobody(`open("${live.root.path(file)}").read()`)).toMatch(/PermissionError/);
    }
    // The daemons' group reads the password (Prometheus authenticates with it); the status holds the URLs.
    const asPrometheus = spawnSync('setpriv', ['--reuid=prometheus', '--regid=prometheus', '--clear-groups', 'cat', live.root.path('/etc/sovereign-monitoring/secrets/web_password')], { encoding: 'utf8' });
    expect(asPrometheus.status).toBe(0);
    const authorized = await fetch(status, { headers: { authorization: live.stack.authorization } });
    expect(authorized.status).toBe(200);
    expect(await authorized.text()).toContain(DEADMAN_PATH);
  });

  test('a failed delivery leaves no URL path (token) in the log', async () => {
    const logged = live.stack.log('prometheus-alertmanager').length;
    live.receiver.failing = true;
    try {
      await waitFor('a failed delivery in the log', () => /Notify .*failed|notify retry canceled|Error on notify/i.test(live.stack.log('prometheus-alertmanager').slice(logged)) || undefined, BOUND_MS);
    } finally {
      live.receiver.failing = false;
    }
    const log = live.stack.log('prometheus-alertmanager').slice(logged);
    expect(log).toContain(`127.0.0.1:${live.receiver.port}/<redacted>`);
    expect(log).not.toContain(DEADMAN_PATH);
    expect(log).not.toContain(OPS_PATH);
  });

  test('a stopped target alerts the receiver within the bound, and the alert clears when it is back', async () => {
    const stoppedAt = Date.now();
    await live.target.down();
    const alert = await waitFor('UptimeCheckFailed at the receiver', () => firing('UptimeCheckFailed')[0], BOUND_MS);
    const detected = alert.at - stoppedAt;
    expect(alert.labels).toMatchObject({ check: live.check, environment: 'test', prober: 'acme-production-app', severity: 'warning', notify: 'ops' });
    expect(detected).toBeLessThan(BOUND_MS);

    const restartedAt = Date.now();
    await live.target.up();
    const resolved = await waitFor('the resolved notification', () => live.receiver.alerts(OPS_PATH)
      .find((a) => a.labels.alertname === 'UptimeCheckFailed' && a.status === 'resolved' && a.at >= restartedAt), BOUND_MS);
    expect(resolved.labels.check).toBe(live.check);
    console.log(`stop → alert at the receiver: ${detected} ms; back → resolved at the receiver: ${resolved.at - restartedAt} ms`);
  });

  test('a dead node exporter resolves nothing: its last values are held, and the missing data is pending', async () => {
    const before = await waitFor('BackupTooOld and BackupJobFailed firing', () => (firing('BackupTooOld').length && firing('BackupJobFailed').length) || undefined, BOUND_MS);
    expect(before).toBeTruthy();
    const killedAt = Date.now();
    await live.stack.kill('prometheus-node-exporter');
    // Past Prometheus's staleness, Alertmanager's expiry of the alerts (4 resend delays) and a few flushes.
    await waitFor('the node target down', async () => (await live.stack.query('up{job="node"} == 0')).length > 0 || undefined, BOUND_MS);
    await new Promise((r) => setTimeout(r, 10_000));
    const resolved = live.receiver.alerts(OPS_PATH).filter((a) => a.status === 'resolved' && a.at >= killedAt && /^Backup/.test(a.labels.alertname));
    expect(resolved).toEqual([]);
    expect((await live.stack.query('ALERTS{alertname="BackupTooOld", alertstate="firing"}')).length).toBe(1);
    expect((await live.stack.query('ALERTS{alertname="MonitoringDataMissing", unit="backup-push"}')).length).toBe(1);
  });

  test('a dead Prometheus: the team is told, and no alert is reported resolved', async () => {
    const killedAt = Date.now();
    await live.stack.kill('prometheus');
    const down = await waitFor('PrometheusDown at the receiver', () => firing('PrometheusDown').find((a) => a.at >= killedAt), BOUND_MS);
    expect(down.labels).toMatchObject({ prober: 'acme-production-app', severity: 'critical' });
    // Alertmanager lets Prometheus's alerts expire 4 resend delays (4 s here) after the last resend.
    await new Promise((r) => setTimeout(r, 10_000));
    const resolved = live.receiver.alerts(OPS_PATH).filter((a) => a.status === 'resolved' && a.at >= killedAt);
    expect(resolved).toEqual([]);
    console.log(`Prometheus killed → PrometheusDown at the receiver: ${down.at - killedAt} ms`);
  });
});

describeLive("a clone of production's machine (another server id): nothing runs as production", () => {
  jest.setTimeout(90_000);
  let clone: LiveProber;
  beforeAll(async () => {
    clone = await startLiveProber({ runsAsServerId: '9999' });
  });
  afterAll(async () => {
    await clone?.stop();
  });

  test('the probers and the watch are skipped, production is never pinged, its jobs would not run', async () => {
    expect(clone.stack.skipped.sort()).toEqual(['prometheus', 'prometheus-alertmanager', 'prometheus-blackbox-exporter', 'prometheus-node-exporter', 'sovereign-prometheus-watch']);
    for (const unit of ['backup-push', 'backup-dump', 'backup-prune', 'backup-check', 'backup-bootstrap']) expect(await clone.stack.wouldRun(unit)).toBe(false);
    await new Promise((r) => setTimeout(r, 5000));
    expect(clone.receiver.notifications).toEqual([]);
    expect(clone.metadata.requests).toBeGreaterThan(0);
  });

  test("the clone disabled production's units and removed its secrets, and says so", () => {
    const calls = fs.readFileSync(clone.root.path('/var/log/systemctl.log'), 'utf8');
    expect(calls).toMatch(/^--no-block disable --now .*backup-push\.timer/m);
    for (const unit of ['backup-push.service', 'backup-check.timer', 'prometheus.service', 'prometheus-alertmanager.service', 'sovereign-prometheus-watch.service']) {
      expect(calls).toContain(unit);
    }
    expect(calls).not.toContain('sovereign-identity.service');
    for (const file of ['/etc/sovereign-backup/backup.conf', '/etc/sovereign-monitoring/secrets/monitoring_deadman_ping_url_production.b64',
      '/etc/sovereign-monitoring/alertmanager.yml', '/etc/sovereign-monitoring/secrets/web_password', '/etc/sovereign/error-monitoring.env']) {
      expect(fs.existsSync(clone.root.path(file))).toBe(false);
    }
    expect(fs.existsSync(clone.root.path('/etc/sovereign/identity/server'))).toBe(true);
    expect(clone.root.read('/var/lib/sovereign/identity/clone')).toMatch(/^built for server 4711, runs as server 9999/);
    expect(fs.readFileSync(clone.root.path('/var/log/conditions.log'), 'utf8')).toMatch(/runs as server 9999 but its bundle was built for server 4711/);
  });

  test("once the clone's own bundle names its id, its jobs run again", async () => {
    clone.root.write('/etc/sovereign/identity/server', 'SERVER_ID=9999\n');
    expect(await clone.stack.wouldRun('backup-push')).toBe(true);
  });
});
