import { spawnSync } from 'child_process';
import { DEADMAN_PATH, LiveProber, OPS_PATH, runJobHook, startLiveProber } from './helpers/live-prober';
import { waitFor } from './helpers/live-stack';

// Production's Phase 1 prober as the library renders it, live on loopback: Prometheus, the blackbox
// exporter, Alertmanager and node exporter from Debian, started with the rendered command lines and
// configuration, probing a local HTTP target and alerting a local webhook receiver. Timing is short
// (1 s probes and evaluations, alert after 2 s, 1 s grouping); figures go to scripts/bench-monitoring.js.
const binaries = ['prometheus', 'prometheus-alertmanager', 'prometheus-blackbox-exporter', 'prometheus-node-exporter']
  .every((b) => spawnSync(b, ['--version']).status === 0);
if (!binaries) console.warn('monitoring end-to-end suite skipped: the Debian prometheus packages are missing (.ci/run installs them)');
const describeLive = binaries ? describe : describe.skip;

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
});
