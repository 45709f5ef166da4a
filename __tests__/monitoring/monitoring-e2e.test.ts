import { execFile, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { DEADMAN_PATH, durationSeconds, LiveProber, OPS_PATH, runJobHook, startLiveProber, WATCHDOG_TIME_SCALE } from './helpers/live-prober';
import { Notification } from './helpers/live-stack';
import { MachineRoot } from './helpers/machine-root';
import { TEXTFILE_DIR } from '../../lib/monitoring/private/paths';
import { describeWithRealParts, MACHINE_PYTHON } from '../setup/real-parts';
import { Duration } from '../../lib/core/duration';
import { waitFor } from '../../testing/harness/wait';

// Production's Phase 1 prober as the library renders it, live on loopback: Prometheus, the blackbox
// exporter, Alertmanager and node exporter from Debian, started with the rendered command lines and
// configuration, probing a local HTTP target and alerting a local webhook receiver. Timing is short
// (1 s probes and evaluations, alert after 2 s, 1 s grouping); figures go to scripts/bench-monitoring.js.
//
// Four probers run at once, each its own daemons, receiver and root, so that the waits of independent
// scenarios overlap: the main one (alert paths, the watchdog's period, secrets), one whose exporter and
// Prometheus are killed, one whose Alertmanager is restarted under a critical and its warning, and a
// clone. Each scenario that waits runs in the background from the start; its tests await its findings.
const binaries = ['prometheus', 'prometheus-alertmanager', 'prometheus-blackbox-exporter', 'prometheus-node-exporter']
  .every((b) => spawnSync(b, ['--version']).status === 0);
const describeLive = describeWithRealParts(binaries, 'the monitoring end-to-end suite', "Debian's prometheus, prometheus-alertmanager, prometheus-blackbox-exporter and prometheus-node-exporter");

/**
 * Runs a command as another user; resolves with what it printed. Asynchronously: the receivers live in
 * this process and time the Watchdog's pings as they arrive, and a blocked event loop (a synchronous
 * Python start takes about half a second on a slow machine) would stamp a ping late and shorten its gap.
 */
function runAs(user: string, group: string, command: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('setpriv', [`--reuid=${user}`, `--regid=${group}`, '--clear-groups', ...command], { encoding: 'utf8' },
      (error, stdout, stderr) => (error && typeof error.code !== 'number' ? reject(error) : resolve(`${stdout}${stderr}`.trim())));
  });
}

/** Runs a Python snippet as the unprivileged user `nobody`; resolves with what it printed. */
const asNobody = (code: string): Promise<string> => runAs('nobody', 'nogroup', [MACHINE_PYTHON, '-c', code]);

/** Lets other users walk down to the root's files (as /etc is), so that only each file's own mode protects it. */
function openDirectories(dir: string): void {
  fs.chmodSync(dir, 0o755);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) openDirectories(path.join(dir, entry.name));
}

/** A bound for each step: generous against a loaded CI machine, far below anything a team would notice. */
const BOUND_MS = 30_000;
const BOUND = Duration.millis(BOUND_MS);
const BACKUP_MAX_AGE_S = 6;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
type Alert = ReturnType<LiveProber['receiver']['alerts']>[number];
const firingAt = (p: LiveProber, alertname: string, at = OPS_PATH): Alert[] => p.receiver.alerts(at).filter((a) => a.labels.alertname === alertname && a.status === 'firing');

/** The Watchdog's pings from now on, over `intervals` gaps: resolves with the gaps, in ms. */
async function watchdogGaps(p: LiveProber, periodMs: number, intervals: number): Promise<number[]> {
  const pings = () => p.receiver.alerts(DEADMAN_PATH).filter((a) => a.labels.alertname === 'Watchdog').map((a) => a.at);
  await waitFor(() => pings().length > 0, { what: 'the first watchdog ping', timeout: BOUND });
  const first = pings().length;
  await waitFor(() => pings().length >= first + intervals + 1, { what: `${intervals + 1} more pings`, timeout: Duration.millis(BOUND_MS + periodMs * (intervals + 3)) });
  const at = pings().slice(first, first + intervals + 1);
  return at.slice(1).map((t, i) => t - at[i]);
}

/** What the prober whose node exporter, then Prometheus, is killed told the team. */
interface OutageFindings {
  readonly beforeKill: { tooOld: number; jobFailed: number };
  readonly resolvedAfterExporterDied: Alert[];
  readonly firingInPrometheus: number;
  readonly missingDataPending: number;
  readonly prometheusDown: Alert;
  readonly prometheusKilledAt: number;
  readonly resolvedAfterPrometheusDied: Alert[];
}

/**
 * The backup jobs' record before the daemons start: the watch began an hour ago, a backup just succeeded (at
 * `hookAt`, returned) and the check job failed once. Before the daemons, because an hour-old watch without a
 * success is, rightly, a stale backup: a scrape of node exporter between the setup and the hook would alert from
 * the watch's start (and the four probers' synthesis and setup alone take longer than BACKUP_MAX_AGE_S).
 */
function backupJobsRan(root: MachineRoot): number {
  const watched = `${TEXTFILE_DIR}/sovereign-job-backup-push-watched.prom`;
  const at = Date.now();
  root.override(watched, /^(sovereign_job_watched_since_timestamp_seconds\{unit="backup-push"\}) \d+$/m, `$1 ${Math.floor(at / 1000) - 3600}`);
  runJobHook(root, 'backup-push', 'success');
  runJobHook(root, 'backup-check', 'exit-code');
  return at;
}

async function outages(p: LiveProber): Promise<OutageFindings> {
  const tooOld = await waitFor(() => firingAt(p, 'BackupTooOld').length && firingAt(p, 'BackupJobFailed').length, { what: 'BackupTooOld and BackupJobFailed firing', timeout: BOUND });
  const beforeKill = { tooOld, jobFailed: firingAt(p, 'BackupJobFailed').length };
  const killedAt = Date.now();
  await p.stack.kill('prometheus-node-exporter');
  // Past Alertmanager's expiry of the alerts (4 resend delays, 4 s here) and a few flushes.
  await waitFor(async () => (await p.stack.query('up{job="node"} == 0')).length > 0, { what: 'the node target down', timeout: BOUND });
  await sleep(8000);
  const resolvedAfterExporterDied = p.receiver.alerts(OPS_PATH).filter((a) => a.status === 'resolved' && a.at >= killedAt && /^Backup/.test(a.labels.alertname));
  const firingInPrometheus = (await p.stack.query('ALERTS{alertname="BackupTooOld", alertstate="firing"}')).length;
  const missingDataPending = (await p.stack.query('ALERTS{alertname="MonitoringDataMissing", unit="backup-push"}')).length;

  const prometheusKilledAt = Date.now();
  await p.stack.kill('prometheus');
  const prometheusDown = await waitFor(() => firingAt(p, 'PrometheusDown').find((a) => a.at >= prometheusKilledAt), { what: 'PrometheusDown at the receiver', timeout: BOUND });
  // Alertmanager lets Prometheus's alerts expire 4 resend delays (4 s here) after the last resend.
  await sleep(8000);
  const resolvedAfterPrometheusDied = p.receiver.alerts(OPS_PATH).filter((a) => a.status === 'resolved' && a.at >= prometheusKilledAt);
  return { beforeKill, resolvedAfterExporterDied, firingInPrometheus, missingDataPending, prometheusDown, prometheusKilledAt, resolvedAfterPrometheusDied };
}

/** What the prober whose Alertmanager restarts under a firing critical disk alert delivered. */
interface RestartFindings {
  readonly critical: Alert;
  readonly warningConditionHolds: number;
  readonly restartedAt: number;
  readonly criticalBackInAlertmanager: boolean;
  readonly notifications: Notification[];
}

async function alertmanagerRestart(p: LiveProber): Promise<RestartFindings> {
  const critical = await waitFor(() => firingAt(p, 'DiskAboveSplitThreshold')[0], { what: 'DiskAboveSplitThreshold at the receiver', timeout: BOUND });
  // The warning's own condition holds (the disk is above its share), so only the suppression keeps it away.
  const warningConditionHolds = (await p.stack.query(`1 - node_filesystem_avail_bytes / node_filesystem_size_bytes > ${DISK_WARNING_SHARE}`)).length;
  // Resends and flushes go on for a while before the restart, as they would for hours.
  await sleep(3000);
  const restartedAt = Date.now();
  await p.stack.restart('prometheus-alertmanager');
  // Alertmanager forgets its alerts on restart; Prometheus resends the firing ones every resend delay (1 s here).
  const criticalBackInAlertmanager = await waitFor(async () => (await p.stack.alertmanagerAlerts())
    .some((a) => a.labels.alertname === 'DiskAboveSplitThreshold' && a.status.state === 'active'), { what: 'the critical back in Alertmanager', timeout: BOUND });
  // Its group wait (1 s, flushed at once for an alert older than that) and several group intervals (1 s).
  await sleep(6000);
  return { critical, warningConditionHolds, restartedAt, criticalBackInAlertmanager, notifications: [...p.receiver.notifications] };
}

/** How many of the Watchdog's periods the live test measures. */
const WATCHDOG_INTERVALS = 3;
/** Disk shares below any real disk's fill level, so that both disk alerts' conditions hold on this machine. */
const DISK_WARNING_SHARE = 0.01;

let main: LiveProber;
let outage: LiveProber;
let restarting: LiveProber;
let clone: LiveProber;
let hookAt: number;
let watchdog: Promise<number[]>;
let outageFindings: Promise<OutageFindings>;
let restartFindings: Promise<RestartFindings>;
let cloneQuiet: Promise<void>;

if (binaries) {
  beforeAll(async () => {
    const started = await Promise.allSettled([
      // The node exporter's job scraped every second (not 30 s), so that a job's outcome and the
      // exporter's death show at once.
      startLiveProber({ backupMaxAgeSeconds: BACKUP_MAX_AGE_S, scrapeInterval: '1s', beforeStart: (root) => { hookAt = backupJobsRan(root); } }),
      startLiveProber({ backupMaxAgeSeconds: BACKUP_MAX_AGE_S, scrapeInterval: '1s', beforeStart: backupJobsRan }),
      startLiveProber({ plan: { diskWarningShare: DISK_WARNING_SHARE, diskCriticalShare: DISK_WARNING_SHARE * 2 }, scrapeInterval: '1s', diskAlertAfter: '2s' }),
      startLiveProber({ runsAsServerId: '9999' }),
    ]);
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
      throw failed.reason;
    }
    [main, outage, restarting, clone] = started.map((s) => (s as PromiseFulfilledResult<LiveProber>).value);
    // The scenarios that wait run from now on, side by side; a test that needs one awaits it.
    const periodMs = 5 * 60 * 1000 * WATCHDOG_TIME_SCALE;
    watchdog = watchdogGaps(main, periodMs, WATCHDOG_INTERVALS);
    outageFindings = outages(outage);
    restartFindings = alertmanagerRestart(restarting);
    cloneQuiet = sleep(5000);
    // Rejections are reported by the tests that await them, not as unhandled.
    for (const p of [watchdog, outageFindings, restartFindings]) p.catch(() => undefined);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([main, outage, restarting, clone].map((p) => p?.stop()));
  });
}

describeLive('the monitoring, live on Prometheus, Alertmanager and the blackbox exporter', () => {
  jest.setTimeout(90_000);
  const firing = (alertname: string, at = OPS_PATH) => firingAt(main, alertname, at);

  test("the watchdog reaches the dead-man's switch, and only it", async () => {
    const ping = await waitFor(() => firing('Watchdog', DEADMAN_PATH)[0], { what: 'the first watchdog ping', timeout: BOUND });
    expect(ping.labels).toMatchObject({ alertname: 'Watchdog', prober: 'acme-production-app', severity: 'none' });
    expect(main.receiver.alerts(OPS_PATH).filter((a) => a.labels.alertname === 'Watchdog')).toEqual([]);
  });

  test('while the target is up, no uptime alert fires', async () => {
    // The check has run and passed, and then twice as long as it takes to alert has gone by.
    await waitFor(async () => (await main.stack.query(`probe_success{check="${main.check}"} == 1`)).length > 0, { what: 'a passing probe', timeout: BOUND });
    const since = Date.now();
    await waitFor(async () => (await main.stack.lastEvaluation('uptime')) > since + 4000, { what: '4 more seconds of evaluations', timeout: BOUND });
    expect(firing('UptimeCheckFailed')).toEqual([]);
    // Firing, not pending: one probe of its 1 s timeout can miss on a loaded machine (a CI with other work beside it
    // saw one pending), which is what the rule's alertAfter is for.
    expect((await main.stack.query('ALERTS{alertname="UptimeCheckFailed",alertstate="firing"}'))).toEqual([]);
  });

  test('a failed backup job and a stale backup alert the receiver', async () => {
    const failed = await waitFor(() => firing('BackupJobFailed')[0], { what: 'BackupJobFailed', timeout: BOUND });
    expect(failed.labels).toMatchObject({ unit: 'backup-check', instance: 'acme-production-app', severity: 'critical', environment: 'production' });
    // The push succeeded at hookAt, the watch began an hour before: nothing before hookAt + BACKUP_MAX_AGE_S is
    // stale, then it is, by the success's age (under an hour: the summary names no hours), not the watch's.
    const stale = await waitFor(() => firing('BackupTooOld')[0], { what: 'BackupTooOld', timeout: BOUND });
    expect(stale.labels).toMatchObject({ unit: 'backup-push', instance: 'acme-production-app', severity: 'critical' });
    expect(Date.parse(stale.startsAt)).toBeGreaterThanOrEqual(Math.floor(hookAt / 1000) * 1000 + BACKUP_MAX_AGE_S * 1000);
    expect(stale.annotations.summary).toMatch(/^The newest verified backup of acme-production-app is (\d+m )?\d+(\.\d+)?s old$/);
    expect(firing('BackupJobFailed').some((a) => a.labels.unit === 'backup-push')).toBe(false);
  });

  test('other local users cannot read the web APIs or the secrets; the daemons\' user reads no webhook URL; root with the password can', async () => {
    openDirectories(main.root.dir);
    const status = `http://127.0.0.1:${main.stack.ports.alertmanager}/api/v2/status`;
    const get = (url: string) => `import urllib.request, urllib.error\ntry:\n  print(urllib.request.urlopen("${url}").status)\nexcept urllib.error.HTTPError as e:\n  print(e.code)`;
    expect(await asNobody(get(status))).toBe('401');
    expect(await asNobody(get(`http://127.0.0.1:${main.stack.ports.prometheus}/api/v1/status/config`))).toBe('401');
    const urls = '/etc/sovereign-monitoring/secrets/webhook-urls.json';
    for (const file of ['/etc/sovereign-monitoring/secrets/web_password', '/etc/sovereign-monitoring/alertmanager.yml', urls,
      '/etc/sovereign-monitoring/secrets/monitoring_webhook_ops.b64', '/etc/sovereign-monitoring/web/amtool.yml']) {
      expect(await asNobody(`open("${main.root.path(file)}").read()`)).toMatch(/PermissionError/);
    }
    // Nor can another user page the team through the relay: it wants the web password too.
    const relayPost = `import urllib.request, urllib.error\ntry:\n  print(urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:${main.stack.ports.alertRelay}/monitoring_webhook_ops", data=b"{}")).status)\nexcept urllib.error.HTTPError as e:\n  print(e.code)`;
    expect(await asNobody(relayPost)).toBe('401');
    // The daemons' group reads the password (Prometheus authenticates with it) and Alertmanager's configuration, which
    // names the relay alone: the URLs (with their tokens) are in root's file, which the daemons' user cannot open.
    const password = fs.readFileSync(main.root.path('/etc/sovereign-monitoring/secrets/web_password'), 'utf8').trim();
    expect(await runAs('prometheus', 'prometheus', ['cat', main.root.path('/etc/sovereign-monitoring/secrets/web_password')])).toBe(password);
    expect(await runAs('prometheus', 'prometheus', ['cat', main.root.path(urls)])).toMatch(/Permission denied/);
    const config = await runAs('prometheus', 'prometheus', ['cat', main.root.path('/etc/sovereign-monitoring/alertmanager.yml')]);
    expect(config).toContain(`url: "http://127.0.0.1:${main.stack.ports.alertRelay}/monitoring_deadman_ping_url_production"`);
    // Alertmanager 0.25 shows a webhook URL in clear in its status: it is the relay's, with no token.
    const authorized = await fetch(status, { headers: { authorization: main.stack.authorization } });
    expect(authorized.status).toBe(200);
    const text = await authorized.text();
    expect(text).toContain(`http://127.0.0.1:${main.stack.ports.alertRelay}/monitoring_webhook_ops`);
    for (const secret of [DEADMAN_PATH, OPS_PATH, `127.0.0.1:${main.receiver.port}`]) {
      expect(config).not.toContain(secret);
      expect(text).not.toContain(secret);
    }
  });

  test('a stopped target alerts the receiver within the bound, and the alert clears when it is back', async () => {
    // The wait's own bound is the test's; the time taken is only logged (a loaded machine stretches it).
    const stoppedAt = Date.now();
    await main.target.down();
    const alert = await waitFor(() => firing('UptimeCheckFailed').find((a) => a.at >= stoppedAt), { what: 'UptimeCheckFailed at the receiver', timeout: BOUND });
    const detected = alert.at - stoppedAt;
    expect(alert.labels).toMatchObject({ check: main.check, environment: 'test', prober: 'acme-production-app', severity: 'warning', notify: 'ops' });

    const restartedAt = Date.now();
    await main.target.up();
    const resolved = await waitFor(() => main.receiver.alerts(OPS_PATH)
      .find((a) => a.labels.alertname === 'UptimeCheckFailed' && a.status === 'resolved' && a.at >= restartedAt), { what: 'the resolved notification', timeout: BOUND });
    expect(resolved.labels.check).toBe(main.check);
    console.log(`stop → alert at the receiver: ${detected} ms; back → resolved at the receiver: ${resolved.at - restartedAt} ms`);
  });

  test("the watchdog pings the dead-man's switch once per rendered interval, measured over three intervals", async () => {
    const rendered = /receiver: "deadmansswitch"\n\s+group_wait: "0s"\n\s+group_interval: "([^"]+)"/.exec(
      fs.readFileSync(main.root.path('/etc/sovereign-monitoring/alertmanager.yml.in'), 'utf8'))!;
    // The rendered route is scaled by WATCHDOG_TIME_SCALE (minutes become seconds); the period must be the plan's interval, scaled.
    const periodMs = 5 * 60 * 1000 * WATCHDOG_TIME_SCALE;
    expect(durationSeconds(rendered[1]) * 1000).toBe(periodMs);
    const gaps = await watchdog;
    console.log(`watchdog gaps: ${gaps.join(', ')} ms (rendered period ${periodMs} ms scaled)`);
    expect(gaps).toHaveLength(WATCHDOG_INTERVALS);
    for (const gap of gaps) {
      expect(gap).toBeGreaterThan(periodMs * 0.8);
      expect(gap).toBeLessThan(periodMs * 1.25);
    }
  });

  // Next to last on this prober: every delivery fails meanwhile, the watchdog's too.
  test('a failed delivery leaves no URL path (token) in the logs, nor does a refusal whose body echoes the path', async () => {
    const logs = () => `${main.stack.log('prometheus-alertmanager')}${main.stack.log('sovereign-alert-relay')}`;
    const logged = main.stack.log('prometheus-alertmanager').length;
    const relayLogged = main.stack.log('sovereign-alert-relay').length;
    main.receiver.failing = true;
    try {
      await waitFor(() => /Notify .*failed|notify retry canceled|Error on notify/i.test(main.stack.log('prometheus-alertmanager').slice(logged)), { what: 'a failed delivery in the log', timeout: BOUND });
    } finally {
      main.receiver.failing = false;
    }
    // Alertmanager saw the relay's 502; the relay names the variable and the receiver's host.
    expect(main.stack.log('prometheus-alertmanager').slice(logged)).toMatch(/unexpected status code 502/);
    expect(main.stack.log('sovereign-alert-relay').slice(relayLogged)).toMatch(/monitoring_\w+ -> 127\.0\.0\.1: not delivered \(\w+\)/);

    // A refusal whose body echoes the path (a revoked hook, answered by a web framework): Alertmanager logs the body
    // it gets, which is the relay's, never the receiver's.
    const before = main.stack.log('prometheus-alertmanager').length;
    main.receiver.refusing = true;
    try {
      await waitFor(() => /unexpected status code 404/.test(main.stack.log('prometheus-alertmanager').slice(before)), { what: 'a refused delivery in the log', timeout: BOUND });
    } finally {
      main.receiver.refusing = false;
    }
    expect(main.stack.log('prometheus-alertmanager').slice(before)).toContain('127.0.0.1 answered 404');
    expect(logs()).not.toContain('Cannot POST');
    expect(logs()).not.toContain(DEADMAN_PATH);
    expect(logs()).not.toContain(OPS_PATH);
  });

  // Last on this prober: its dead-man's switch URL changes.
  test("a rotated webhook URL is used once the setup ran again (the rollout's step), and shows nowhere Alertmanager holds it", async () => {
    const rotated = '/ping/R0TATED-4711';
    const b64 = '/etc/sovereign-monitoring/secrets/monitoring_deadman_ping_url_production.b64';
    main.root.write(b64, `${Buffer.from(main.receiver.url(rotated)).toString('base64')}\n`, 0o600);
    expect(main.root.setup('alertmanager')).toEqual({ status: 0, output: '' });
    main.stack.movePorts('/etc/sovereign-monitoring/alertmanager.yml');
    // Neither Alertmanager nor its configuration changed: the relay reads the new URL on the next ping.
    const ping = await waitFor(() => firing('Watchdog', rotated)[0], { what: 'a watchdog ping at the rotated URL', timeout: BOUND });
    expect(ping.labels).toMatchObject({ alertname: 'Watchdog', prober: 'acme-production-app' });
    const status = await (await fetch(`http://127.0.0.1:${main.stack.ports.alertmanager}/api/v2/status`, { headers: { authorization: main.stack.authorization } })).text();
    for (const text of [status, main.root.read('/etc/sovereign-monitoring/alertmanager.yml'), main.stack.log('prometheus-alertmanager'), main.stack.log('sovereign-alert-relay')]) {
      expect(text).not.toContain('R0TATED');
    }
  });
});

describeLive('the monitoring when its own parts die', () => {
  jest.setTimeout(90_000);

  test('a dead node exporter resolves nothing: its last values are held, and the missing data is pending', async () => {
    const found = await outageFindings;
    expect(found.beforeKill.tooOld).toBeGreaterThan(0);
    expect(found.beforeKill.jobFailed).toBeGreaterThan(0);
    expect(found.resolvedAfterExporterDied).toEqual([]);
    expect(found.firingInPrometheus).toBe(1);
    expect(found.missingDataPending).toBe(1);
  });

  test('a dead Prometheus: the team is told, and no alert is reported resolved', async () => {
    const found = await outageFindings;
    expect(found.prometheusDown.labels).toMatchObject({ prober: 'acme-production-app', severity: 'critical' });
    expect(found.resolvedAfterPrometheusDied).toEqual([]);
    console.log(`Prometheus killed → PrometheusDown at the receiver: ${found.prometheusDown.at - found.prometheusKilledAt} ms`);
  });
});

describeLive('an Alertmanager restart under a firing critical and the warning it suppresses', () => {
  // The restart waits for Alertmanager to stop as long as systemd would (90 s) before it gives up.
  jest.setTimeout(150_000);

  test('the critical is delivered, its warning never is: not before the restart, not after it', async () => {
    const found = await restartFindings;
    expect(found.critical.labels).toMatchObject({ alertname: 'DiskAboveSplitThreshold', instance: 'acme-production-app', severity: 'critical' });
    expect(found.warningConditionHolds).toBeGreaterThan(0);
    expect(found.criticalBackInAlertmanager).toBe(true);
    const warnings = found.notifications.filter((n) => n.path === OPS_PATH)
      .flatMap((n) => n.body.alerts.map((a: any) => ({ afterRestart: n.at >= found.restartedAt, status: a.status, alertname: a.labels.alertname })))
      .filter((a: any) => a.alertname === 'DiskAboveVolumeThreshold');
    expect(warnings).toEqual([]);
  });

  test("the critical is not delivered again after the restart: Alertmanager's data directory kept its notification log", async () => {
    const found = await restartFindings;
    const again = found.notifications.filter((n) => n.path === OPS_PATH && n.at >= found.restartedAt)
      .flatMap((n) => n.body.alerts).filter((a: any) => a.labels.alertname === 'DiskAboveSplitThreshold');
    expect(again).toEqual([]);
  });
});

describeLive("a clone of production's machine (another server id): nothing runs as production", () => {
  jest.setTimeout(90_000);

  test('the probers and the watch are skipped, production is never pinged, its jobs would not run', async () => {
    expect(clone.stack.skipped.sort()).toEqual(['prometheus', 'prometheus-alertmanager', 'prometheus-blackbox-exporter', 'prometheus-node-exporter', 'sovereign-alert-relay',
      'sovereign-prometheus-watch']);
    for (const unit of ['backup-push', 'backup-dump', 'backup-prune', 'backup-check', 'backup-bootstrap']) expect(await clone.stack.wouldRun(unit)).toBe(false);
    await cloneQuiet;
    expect(clone.receiver.notifications).toEqual([]);
    expect(clone.metadata.requests).toBeGreaterThan(0);
  });

  test("the clone disabled production's units and removed its secrets, and says so", () => {
    const calls = fs.readFileSync(clone.root.path('/var/log/systemctl.log'), 'utf8');
    expect(calls).toMatch(/^--no-block disable --now .*backup-push\.timer/m);
    for (const unit of ['backup-push.service', 'backup-check.timer', 'prometheus.service', 'prometheus-alertmanager.service', 'sovereign-prometheus-watch.service',
      'sovereign-alert-relay.service']) {
      expect(calls).toContain(unit);
    }
    expect(calls).not.toContain('sovereign-identity.service');
    for (const file of ['/etc/sovereign-backup/backup.conf', '/etc/sovereign-monitoring/secrets/monitoring_deadman_ping_url_production.b64',
      '/etc/sovereign-monitoring/alertmanager.yml', '/etc/sovereign-monitoring/secrets/webhook-urls.json', '/etc/sovereign-monitoring/secrets/web_password',
      '/etc/sovereign/error-monitoring.env']) {
      expect(fs.existsSync(clone.root.path(file))).toBe(false);
    }
    // Nor does the rollout's copy of replaced files (an activation cut short when the snapshot was taken) survive.
    expect(fs.existsSync(clone.root.path('/var/lib/sovereign/rollout/releases'))).toBe(false);
    expect(fs.existsSync(clone.root.path('/var/lib/sovereign/rollout/pending.json'))).toBe(false);
    expect(fs.existsSync(clone.root.path('/etc/sovereign/identity/server'))).toBe(true);
    expect(clone.root.read('/var/lib/sovereign/identity/clone')).toMatch(/^built for server 4711, runs as server 9999/);
    expect(fs.readFileSync(clone.root.path('/var/log/conditions.log'), 'utf8')).toMatch(/runs as server 9999 but its bundle was built for server 4711/);
  });

  test("once the clone's own bundle names its id, its jobs run again", async () => {
    clone.root.write('/etc/sovereign/identity/server', 'SERVER_ID=9999\n');
    expect(await clone.stack.wouldRun('backup-push')).toBe(true);
  });
});
