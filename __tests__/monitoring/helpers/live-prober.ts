import { spawnSync } from 'child_process';
import { Testing } from 'cdktf';
import { Duration, Environment, Phase } from '../../../lib';
import { AlertReceiver } from '../../../lib/monitoring/alert-receiver';
import { DeadMansSwitch } from '../../../lib/monitoring/dead-mans-switch';
import { MonitoringPlan, MonitoringPlanProps } from '../../../lib/monitoring/monitoring-plan';
import { UptimeCheck, UptimeCheckOptions } from '../../../lib/monitoring/uptime-check';
import { synthesizedBundle } from '../../../testing/bundle';
import { ErrorMonitoringEndpoint } from '../../../lib/monitoring/error-monitoring-endpoint';
import { glitchTip, productFixture, userDataOf } from './fixture';
import { startTogether } from '../../setup/start-together';
import { HttpTarget, LiveStack, MetadataService, WebhookReceiver } from './live-stack';
import { BUILT_FOR_SERVER_ID, MachineRoot } from './machine-root';

export interface LiveProberOptions {
  /** The check of test that production's prober runs. @default 1 s interval and timeout, alert after 2 s */
  readonly check?: UptimeCheckOptions;
  /** How often rules are evaluated. @default Duration.seconds(1) */
  readonly evaluationInterval?: Duration;
  /** Alertmanager's group_wait and group_interval, replacing 30s and 5m; `null` keeps the rendered timing. @default '1s' */
  readonly groupTiming?: string | null;
  /** Replaces the BackupTooOld threshold (the plan's 26 hours), in seconds. @default - kept */
  readonly backupMaxAgeSeconds?: number;
  /** The server id the metadata service gives: another id than the bundle's makes the machine a clone. @default BUILT_FOR_SERVER_ID */
  readonly runsAsServerId?: string;
  /** Plan settings besides the checks, receivers and switch, such as disk shares. @default - the plan's defaults */
  readonly plan?: Partial<Pick<MonitoringPlanProps, 'diskWarningShare' | 'diskCriticalShare'>>;
  /** Replaces Prometheus's scrape interval and timeout (30s and 10s; the node exporter's job uses them). @default - kept */
  readonly scrapeInterval?: string;
  /** Replaces the disk alerts' `for` (15m). @default - kept */
  readonly diskAlertAfter?: string;
  /**
   * What the machine records after the setup and before the daemons start (a job's outcome): Prometheus's
   * first scrape of node exporter sees it, never the state before it. @default - nothing
   */
  readonly beforeStart?: (root: MachineRoot) => void;
}

/** A running prober with everything it talks to. */
export interface LiveProber {
  readonly root: MachineRoot;
  readonly stack: LiveStack;
  readonly receiver: WebhookReceiver;
  readonly target: HttpTarget;
  /** The check's name: the `check` label of its alerts. */
  readonly check: string;
  readonly metadata: MetadataService;
  stop(): Promise<void>;
}

/**
 * The watchdog route's timing is scaled by this factor (minutes become seconds), the rest of the
 * rendered relation kept: the measured period is the rendered one, divided by 60.
 */
export const WATCHDOG_TIME_SCALE = 1 / 60;

/** A Prometheus duration (`2m30s`) in seconds. */
export function durationSeconds(text: string): number {
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };
  let total = 0;
  for (const m of text.matchAll(/(\d+)(ms|s|m|h|d)/g)) total += Number(m[1]) * units[m[2]];
  return total;
}

export const OPS_PATH = '/ops';
export const DEADMAN_PATH = '/ping/deadman';

/**
 * Production's Phase 1 prober, live: the user data of `acme-production-app` (its BackupPlan, its
 * check of test, the ops webhook, the dead-man's switch) synthesized by the library, its files
 * written under a temporary root, the rendered setup run, and the real Debian binaries started with
 * the rendered command lines. What the test changes is the world around it: the check's URL points
 * at a local HTTP target, the receivers' URLs at a local webhook receiver, ports are free ones, and
 * the timing is short.
 */
export async function startLiveProber(options: LiveProberOptions = {}): Promise<LiveProber> {
  const [receiver, target] = await startTogether([WebhookReceiver.start(), HttpTarget.start()]);
  // Whatever fails from here (a bad option, the setup, a daemon) stops what did start: the caller gets nothing to stop.
  const parts: StartedParts = {};
  const stopAll = async () => {
    await Promise.all([receiver.stop(), target.stop(), parts.metadata?.stop()]);
    parts.root?.remove();
  };
  try {
    return await startProberOn(options, receiver, target, parts, stopAll);
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/** What startLiveProber started besides its receiver and target, as it starts it. */
interface StartedParts {
  root?: MachineRoot;
  metadata?: MetadataService;
}

/** startLiveProber's work once its receiver and target listen; each part it starts goes into `parts`, for stopping. */
async function startProberOn(options: LiveProberOptions, receiver: WebhookReceiver, target: HttpTarget, parts: StartedParts,
  stopAll: () => Promise<void>): Promise<LiveProber> {
  const plan = new MonitoringPlan({
    uptimeChecks: [
      UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu/health'),
      UptimeCheck.http(Environment.TEST, 'http://test.acme.eu/health', {
        // The loopback target listens on 127.0.0.1: the check's IPv4 probe is the one the suite drives.
        interval: Duration.seconds(1), timeout: Duration.seconds(1), alertAfter: Duration.seconds(2), expectBody: '"status":\\s*"ok"', ipFamilies: ['ipv4'], ...options.check,
      }),
    ],
    receivers: [AlertReceiver.webhook('ops', { hostname: 'chat.acme.eu' })],
    deadMansSwitch: DeadMansSwitch.healthchecksIo(),
    errorMonitoring: ErrorMonitoringEndpoint.selfHosted(glitchTip),
    evaluationInterval: options.evaluationInterval ?? Duration.seconds(1),
    ...options.plan,
  });
  const { production } = productFixture({ phase: Phase.ONE, plan });
  // Without validations: production's backup tooling and the monitoring together exceed Hetzner's
  // 32 KiB user data until it is compressed as a whole; the other suites synthesize with validations.
  const json = JSON.parse(Testing.synth(production.stack));
  const userData = userDataOf(json, 'acme-production-app');
  const root = parts.root = MachineRoot.create(userData, {
    monitoring_deadman_ping_url_production: receiver.url(DEADMAN_PATH),
    monitoring_webhook_ops: receiver.url(OPS_PATH),
    error_monitoring_dsn: 'https://0123456789abcdef0123456789abcdef@errors.acme.eu/1',
  }, 'monitoring-live-');
  const check = production.monitoring.checks[0].name;
  // Where the machine would resolve DNS, the test points at loopback, and its receiver speaks plain HTTP on its own port.
  root.override('/etc/sovereign-monitoring/secrets/expected', /(hc-ping\.com|chat\.acme\.eu) 443 https$/gm, `127.0.0.1 ${receiver.port} http`);
  root.override('/etc/sovereign-monitoring/prometheus.yml', 'http://test.acme.eu/health', `http://127.0.0.1:${target.port}/health`);
  const am = '/etc/sovereign-monitoring/alertmanager.yml.in';
  const watchdog = /(receiver: "deadmansswitch"\n\s+group_wait: "0s"\n\s+group_interval: )"([^"]+)"(\n\s+repeat_interval: )"([^"]+)"/;
  const [, , groupInterval, , repeatInterval] = watchdog.exec(root.read(am)) ?? [];
  if (!groupInterval) throw new Error('no watchdog route in the Alertmanager configuration');
  const scaled = (d: string) => `${Math.round(durationSeconds(d) * WATCHDOG_TIME_SCALE * 1000)}ms`;
  root.override(am, watchdog, `$1"${scaled(groupInterval)}"$3"${scaled(repeatInterval)}"`);
  // Prometheus's watch: every half second, held 5 s after recovery.
  root.override('/etc/sovereign-monitoring/prometheus-watch.json', /"everySeconds": 15/, '"everySeconds": 0.5');
  root.override('/etc/sovereign-monitoring/prometheus-watch.json', /"holdAfterRecoverySeconds": 180/, '"holdAfterRecoverySeconds": 5');
  const timing = options.groupTiming === undefined ? '1s' : options.groupTiming;
  if (timing !== null) {
    root.override('/etc/sovereign-monitoring/alertmanager.yml.in', /group_wait: "30s"/, `group_wait: "${timing}"`);
    root.override('/etc/sovereign-monitoring/alertmanager.yml.in', /group_interval: "5m"/, `group_interval: "${timing}"`);
  }
  if (options.scrapeInterval !== undefined) {
    root.override('/etc/sovereign-monitoring/prometheus.yml', /^( {2}scrape_interval: )30s$/m, `$1${options.scrapeInterval}`);
    root.override('/etc/sovereign-monitoring/prometheus.yml', /^( {2}scrape_timeout: )10s$/m, `$1${options.scrapeInterval}`);
  }
  if (options.diskAlertAfter !== undefined) {
    root.override('/etc/sovereign-monitoring/alerts.yml', /(- alert: DiskAbove\w+\n(?: {8}.*\n)*? {8}for: )15m/, `$1${options.diskAlertAfter}`);
  }
  if (options.backupMaxAgeSeconds !== undefined) {
    root.override('/etc/sovereign-monitoring/alerts.yml', /(sovereign_job_watched_since_timestamp_seconds\{instance="acme-production-app", unit="backup-push"\}\[\w+\]\), "series", "sovereign_job_watched_since_timestamp_seconds", "", ""\)\)) > 93600/,
      `$1 > ${options.backupMaxAgeSeconds}`);
  }
  for (const action of [['alertmanager'], ['watch'], ['error-monitoring', 'production', 'errors.acme.eu']]) {
    const result = root.setup(...action);
    if (result.status !== 0) throw new Error(`setup ${action.join(' ')} failed: ${result.output}`);
  }
  // What the rollout agent records after installing the bundle: a clone reads it to know what to stop.
  const installed = synthesizedBundle(json, 'acme-production-app');
  root.write('/var/lib/sovereign/rollout/current-bundle.json', JSON.stringify({
    format: 1, machine: installed.machine,
    parts: installed.parts.map((p) => ({ ...p, files: p.files.map((f) => ({ path: f.path, mode: f.permissions, owner: f.owner, ...(f.template !== undefined ? { template: f.template } : { content: f.content }) })) })),
  }), 0o600);
  if ((options.runsAsServerId ?? BUILT_FOR_SERVER_ID) !== BUILT_FOR_SERVER_ID) {
    // The original's snapshot was taken during an activation that never ended: the agent still kept the files it replaced.
    root.write('/var/lib/sovereign/rollout/releases/0123456789abcdef/previous/etc/sovereign-backup/secrets/storage-box.restic.b64', 'cHJldmlvdXM=\n', 0o600);
    root.write('/var/lib/sovereign/rollout/pending.json', JSON.stringify({ previous: '/var/lib/sovereign/rollout/releases/0123456789abcdef/previous', touched: [] }), 0o600);
  }
  // systemctl as the tests' recorder: nothing touches the host's units.
  root.write('/test-bin/systemctl', `#!/bin/sh\necho "$*" >> ${root.path('/var/log/systemctl.log')}\n`, 0o755);
  options.beforeStart?.(root);
  const metadata = parts.metadata = await MetadataService.start(options.runsAsServerId ?? BUILT_FOR_SERVER_ID);
  // Prometheus learns Alertmanager's address a few seconds after start; an alert that fires before
  // that is resent only after the resend delay (1 minute by default), too long for a test.
  const stack = await LiveStack.start(root, { extraArgs: { prometheus: ['--rules.alert.resend-delay=1s'] }, metadataUrl: metadata.url });
  return {
    root, stack, receiver, target, check, metadata,
    stop: async () => {
      await stack.stop();
      await stopAll();
    },
  };
}

/** Runs the rendered job hook as systemd's ExecStopPost would, with the unit's result (and its exit status, when given). */
export function runJobHook(root: MachineRoot, unit: string, serviceResult: 'success' | 'exit-code', exitStatus?: number): void {
  const result = spawnSync(root.path('/usr/local/sbin/sovereign-job-metric'), [unit], {
    env: { ...root.toolEnv, SERVICE_RESULT: serviceResult, ...(exitStatus === undefined ? {} : { EXIT_CODE: 'exited', EXIT_STATUS: String(exitStatus) }) }, encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`sovereign-job-metric ${unit} failed: ${result.stderr}`);
}
