import { Duration } from '../core/duration';
import { Environment } from '../core/environment';
import { invalidValue, ValidationError } from '../core/validation-message';
import { checkProps, is } from '../core/runtime-checks';
import { ROADMAP_THRESHOLDS } from '../roadmap/roadmap';
import { AlertReceiver } from './alert-receiver';
import { DeadMansSwitch } from './dead-mans-switch';
import { ErrorMonitoringEndpoint } from './error-monitoring-endpoint';
import { UptimeCheck } from './uptime-check';

/** A product's monitoring: checks, receivers, the dead-man's switch, error monitoring and thresholds. */
export interface MonitoringPlanProps {
  /** What is watched from outside: the URLs and ports of test and production. Production needs at least one. */
  readonly uptimeChecks: UptimeCheck[];
  /** Who gets alerted when a check or rule names nobody else. At least one. */
  readonly receivers: AlertReceiver[];
  /** Where every prober's watchdog pings, so that a dead prober alerts too. */
  readonly deadMansSwitch: DeadMansSwitch;
  /**
   * Where applications report errors (a Sentry-protocol endpoint, declared as a processor).
   * @default - no error monitoring; Phase 1 lists it as not yet provided
   */
  readonly errorMonitoring?: ErrorMonitoringEndpoint;
  /**
   * The share of a disk that raises a warning.
   * @default ROADMAP_THRESHOLDS.volumeDiskShare (0.5) - where Roadmap.assess moves the database to a volume
   */
  readonly diskWarningShare?: number;
  /**
   * The share of a disk that raises a critical alert.
   * @default ROADMAP_THRESHOLDS.splitDatabaseDiskShare (0.7) - where Roadmap.assess moves the database off the app disk
   */
  readonly diskCriticalShare?: number;
  /**
   * How often Prometheus evaluates the alert rules.
   * @default Duration.seconds(15)
   */
  readonly evaluationInterval?: Duration;
}

/**
 * A product's monitoring, declared once (on the `Product`) and read by every environment stack:
 * the uptime checks of each environment, who is alerted, the dead-man's switch that watches the
 * probers, and the error-monitoring endpoint. Each stack renders the part that runs on its
 * machines; secrets (webhook URLs, SMTP passwords, ping URLs, the DSN) are sensitive variables of
 * the stacks, never part of the plan.
 */
export class MonitoringPlan {
  /** The uptime checks of test and production. */
  public readonly uptimeChecks: readonly UptimeCheck[];
  /** Who is alerted when a check or rule names nobody else. */
  public readonly receivers: readonly AlertReceiver[];
  /** Where every prober's watchdog pings. */
  public readonly deadMansSwitch: DeadMansSwitch;
  /** Where applications report errors, if anywhere. */
  public readonly errorMonitoring?: ErrorMonitoringEndpoint;
  /** The share of a disk that raises a warning. */
  public readonly diskWarningShare: number;
  /** The share of a disk that raises a critical alert. */
  public readonly diskCriticalShare: number;
  /** How often Prometheus evaluates the alert rules. */
  public readonly evaluationInterval: Duration;

  constructor(props: MonitoringPlanProps) {
    const share = is.optional(is.number('use a share between 0 and 1, such as 0.8'));
    // The props checked are the props built from: one frozen snapshot (a getter answers once; later edits do not reach it).
    props = checkProps<MonitoringPlanProps>('MonitoringPlan', props, {
      uptimeChecks: is.optional(is.list(is.instance(UptimeCheck, "use UptimeCheck.http(Environment.PRODUCTION, 'https://…/health')"), "list checks such as [UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu/health')]")),
      receivers: is.list(is.instance(AlertReceiver, "use AlertReceiver.webhook('ops', { hostname }) or AlertReceiver.email(…)"), "pass receivers: [AlertReceiver.webhook('ops', { hostname: 'chat.example.eu' })]"),
      deadMansSwitch: is.checkedLater(),
      errorMonitoring: is.optional(is.instance(ErrorMonitoringEndpoint, 'use ErrorMonitoringEndpoint.selfHosted(processor), .hosted(processor) or .sentryEuRegion({ ingestHostname })')),
      diskWarningShare: share, diskCriticalShare: share,
      evaluationInterval: is.optional(is.instance(Duration, 'use Duration.seconds(15)')),
    }, 'pass { uptimeChecks, receivers, deadMansSwitch }');
    const fail = (prop: string, value: unknown, why: string, fix: string): never => {
      throw new ValidationError(`MonitoringPlan.${prop}: ${typeof value === 'string' ? `'${value}'` : JSON.stringify(value)} is not allowed: ${why}. Fix: ${fix}`);
    };
    this.uptimeChecks = [...(props.uptimeChecks ?? [])];
    this.receivers = [...(props.receivers ?? [])];
    this.deadMansSwitch = props.deadMansSwitch;
    this.errorMonitoring = props.errorMonitoring;
    this.diskWarningShare = props.diskWarningShare ?? ROADMAP_THRESHOLDS.volumeDiskShare;
    this.diskCriticalShare = props.diskCriticalShare ?? ROADMAP_THRESHOLDS.splitDatabaseDiskShare;
    this.evaluationInterval = props.evaluationInterval ?? Duration.seconds(15);

    if (this.receivers.length === 0) {
      fail('receivers', [], 'an alert that reaches nobody is no alert',
        "pass receivers: [AlertReceiver.webhook('ops', { hostname: 'chat.example.eu' })] or AlertReceiver.email(...)");
    }
    if (!(this.deadMansSwitch instanceof DeadMansSwitch)) {
      fail('deadMansSwitch', String(this.deadMansSwitch), 'a dead prober alerts nobody without one', 'pass deadMansSwitch: DeadMansSwitch.healthchecksIo()');
    }
    const all = [...this.receivers, ...this.uptimeChecks.flatMap((c) => c.notify)];
    for (const receiver of all) {
      // Any setting counts: the Alertmanager receiver of a name is built from one of them, so another address or port lost its alerts.
      const other = all.find((r) => r.name === receiver.name && settingsOf(r) !== settingsOf(receiver));
      if (other) {
        fail('receivers', receiver.name, 'two different receivers share a name, and the name picks the secret variable and the Alertmanager receiver, so the alerts of one would go to the other',
          'give each receiver its own name');
      }
    }
    // By name, as Alertmanager's configuration knows them: each entry of a list is one more delivery of every alert.
    const again = this.receivers.findIndex((r, i) => this.receivers.findIndex((o) => o.name === r.name) !== i);
    if (again !== -1) {
      throw new ValidationError(invalidValue('MonitoringPlan', `receivers[${again}]`, this.receivers[again],
        `the receiver is already listed (as receivers[${this.receivers.findIndex((o) => o.name === this.receivers[again].name)}]), and Alertmanager would send it every alert twice`,
        'list each receiver once'));
    }
    const names = this.uptimeChecks.map((c) => c.name);
    const duplicate = names.find((n, i) => names.indexOf(n) !== i);
    if (duplicate) fail('uptimeChecks', duplicate, 'two checks share a name, which labels their alerts', "give one of them name: '…'");
    for (const check of this.uptimeChecks) {
      if (check.environment === Environment.STAGING) {
        fail('uptimeChecks', check.toString(), "staging exists on demand for a rehearsal, and its checks would outlive it in the other probers' configuration",
          'watch the rehearsal from the release path, and declare checks for test and production only');
      }
    }
    for (const [prop, share] of [['diskWarningShare', this.diskWarningShare], ['diskCriticalShare', this.diskCriticalShare]] as const) {
      if (typeof share !== 'number' || !Number.isFinite(share) || share <= 0 || share >= 1) {
        fail(prop, share, 'a disk threshold is a share of the disk above 0 and below 1 (0% never alerts usefully; 100% alerts when the disk is already full)',
          `use a share such as ${prop === 'diskWarningShare' ? ROADMAP_THRESHOLDS.volumeDiskShare : ROADMAP_THRESHOLDS.splitDatabaseDiskShare}`);
      }
    }
    if (this.diskWarningShare >= this.diskCriticalShare) {
      fail('diskWarningShare', this.diskWarningShare, `the warning must come before the critical alert (${this.diskCriticalShare})`, 'use a warning share below the critical one');
    }
    const evaluation = this.evaluationInterval.toSeconds();
    if (!Number.isInteger(evaluation) || evaluation < 1 || evaluation > 300) {
      fail('evaluationInterval', this.evaluationInterval.toString(), 'rules are evaluated every 1 second to 5 minutes, in whole seconds', 'use Duration.seconds(15)');
    }
  }

  /** The checks of one environment. */
  public checksOf(environment: Environment): UptimeCheck[] {
    return this.uptimeChecks.filter((c) => c.environment === environment);
  }
}

/**
 * Everything that decides where a receiver's alerts go: two receivers of one name must agree on all of it. The
 * addresses are a set (their order changes no delivery).
 */
function settingsOf(receiver: AlertReceiver): string {
  const email = receiver.email && { ...receiver.email, to: [...receiver.email.to].sort() };
  return JSON.stringify([receiver.kind, receiver.hostname, receiver.port.from, email ?? null]);
}
