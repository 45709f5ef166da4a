import { spawnSync } from 'child_process';
import { Testing } from 'cdktf';
import { Duration, Environment, Phase } from '../../../lib';
import { AlertReceiver } from '../../../lib/monitoring/alert-receiver';
import { DeadMansSwitch } from '../../../lib/monitoring/dead-mans-switch';
import { MonitoringPlan } from '../../../lib/monitoring/monitoring-plan';
import { UptimeCheck, UptimeCheckOptions } from '../../../lib/monitoring/uptime-check';
import { productFixture, userDataOf } from './fixture';
import { HttpTarget, LiveStack, WebhookReceiver } from './live-stack';
import { MachineRoot } from './machine-root';

export interface LiveProberOptions {
  /** The check of test that production's prober runs. @default 1 s interval and timeout, alert after 2 s */
  readonly check?: UptimeCheckOptions;
  /** How often rules are evaluated. @default Duration.seconds(1) */
  readonly evaluationInterval?: Duration;
  /** Alertmanager's group_wait and group_interval, replacing 30s and 5m; `null` keeps the rendered timing. @default '1s' */
  readonly groupTiming?: string | null;
  /** Replaces the BackupTooOld threshold (the plan's 26 hours), in seconds. @default - kept */
  readonly backupMaxAgeSeconds?: number;
}

/** A running prober with everything it talks to. */
export interface LiveProber {
  readonly root: MachineRoot;
  readonly stack: LiveStack;
  readonly receiver: WebhookReceiver;
  readonly target: HttpTarget;
  /** The check's name: the `check` label of its alerts. */
  readonly check: string;
  stop(): Promise<void>;
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
  const receiver = await WebhookReceiver.start();
  const target = await HttpTarget.start();
  const plan = new MonitoringPlan({
    uptimeChecks: [
      UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu/health'),
      UptimeCheck.http(Environment.TEST, 'http://test.acme.eu/health', {
        interval: Duration.seconds(1), timeout: Duration.seconds(1), alertAfter: Duration.seconds(2), expectBody: '"status":\\s*"ok"', ...options.check,
      }),
    ],
    receivers: [AlertReceiver.webhook('ops', { hostname: 'chat.acme.eu' })],
    deadMansSwitch: DeadMansSwitch.healthchecksIo(),
    evaluationInterval: options.evaluationInterval ?? Duration.seconds(1),
  });
  const { production } = productFixture({ phase: Phase.ONE, plan });
  // Without validations: production's backup tooling and the monitoring together exceed Hetzner's
  // 32 KiB user data until it is compressed as a whole; the other suites synthesize with validations.
  const userData = userDataOf(JSON.parse(Testing.synth(production.stack)), 'acme-production-app');
  const root = MachineRoot.create(userData, {
    monitoring_deadman_ping_url: receiver.url(DEADMAN_PATH),
    monitoring_webhook_ops: receiver.url(OPS_PATH),
    error_monitoring_dsn: 'https://0123456789abcdef0123456789abcdef@errors.acme.eu/1',
  }, 'monitoring-live-');
  const check = production.monitoring.checks[0].name;
  // Where the machine would resolve DNS, the test points at loopback.
  root.override('/etc/sovereign-monitoring/secrets/expected', /(hc-ping\.com|chat\.acme\.eu)$/m, '127.0.0.1');
  root.override('/etc/sovereign-monitoring/prometheus.yml', 'http://test.acme.eu/health', `http://127.0.0.1:${target.port}/health`);
  const timing = options.groupTiming === undefined ? '1s' : options.groupTiming;
  if (timing !== null) {
    root.override('/etc/sovereign-monitoring/alertmanager.yml.in', /group_wait: "30s"/, `group_wait: "${timing}"`);
    root.override('/etc/sovereign-monitoring/alertmanager.yml.in', /group_interval: "5m"/, `group_interval: "${timing}"`);
  }
  if (options.backupMaxAgeSeconds !== undefined) {
    root.override('/etc/sovereign-monitoring/alerts.yml', /(sovereign_job_watched_since_timestamp_seconds", instance="acme-production-app", unit="backup-push"\}\)) > 93600/,
      `$1 > ${options.backupMaxAgeSeconds}`);
  }
  for (const action of ['alertmanager', 'watch']) {
    const result = root.setup(action);
    if (result.status !== 0) throw new Error(`setup ${action} failed: ${result.output}`);
  }
  let stack: LiveStack;
  try {
    // Prometheus learns Alertmanager's address a few seconds after start; an alert that fires before
    // that is resent only after the resend delay (1 minute by default), too long for a test.
    stack = await LiveStack.start(root, { prometheus: ['--rules.alert.resend-delay=1s'] });
  } catch (e) {
    await Promise.all([receiver.stop(), target.down()]);
    root.remove();
    throw e;
  }
  return {
    root, stack, receiver, target, check,
    stop: async () => {
      await stack.stop();
      await Promise.all([receiver.stop(), target.down()]);
      root.remove();
    },
  };
}

/** Runs the rendered job hook as systemd's ExecStopPost would, with the unit's result. */
export function runJobHook(root: MachineRoot, unit: string, serviceResult: 'success' | 'exit-code'): void {
  const result = spawnSync(root.path('/usr/local/sbin/sovereign-job-metric'), [unit], {
    env: { ...root.toolEnv, SERVICE_RESULT: serviceResult }, encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`sovereign-job-metric ${unit} failed: ${result.stderr}`);
}
