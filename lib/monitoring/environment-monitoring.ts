import { Construct } from 'constructs';
import { Annotations, TerraformStack } from 'cdktf';
import { BackupPlan } from '../backup/backup-plan';
import { RestoreDrill } from '../backup/restore-drill';
import { DRILL_START_DELAY } from '../backup/private/drill-run-time';
import { EgressAllowlist, openDestinationPort, requireConstructDestinations } from '../boundary/egress-allowlist';
import { recordDeclaredHostPart } from '../boundary/private/declared-host-parts';
import { SecretVariable } from '../boundary/secret-variable';
import { Environment } from '../core/environment';
import { Port } from '../core/port';
import { invalidValue, missingValue } from '../core/validation-message';
import { checkProps, is } from '../core/runtime-checks';
import { PrivateIngress } from '../hetzner/private-ingress';
import { Location } from '../hetzner/location';
import { IMachine, Machine } from '../hetzner/machine';
import { machineCheck } from '../hetzner/private/require-machine';
import { Component } from '../roadmap/component';
import { Phase } from '../roadmap/phase';
import { AlertReceiver, AlertReceiverKind } from './alert-receiver';
import { ErrorMonitoring } from './error-monitoring';
import { AlertSeverity } from './monitoring-alert';
import { MonitoringPlan } from './monitoring-plan';
import { guardOnClone } from '../hetzner/private/machine-identity';
import { privateAddressOf } from '../hetzner/private/private-address';
import { BACKUP_JOB_UNITS, RESTORE_DRILL_UNIT } from './private/job-metrics';
import {
  ALERT_RELAY, ALERT_RELAY_UNIT, ALERTMANAGER_SYSUSERS, ALERTMANAGER_USER_UNIT, AMTOOL_CONFIG, ERROR_MONITORING_DSN_VARIABLE, ETC, PORTS, PROBER_UNITS, PROMETHEUS_WATCH, PROMETHEUS_WATCH_CONFIG, PROMETHEUS_WATCH_UNIT, REDACT_LOG, RELAY_URLS, SECRETS, SERVICES, SETUP, UNITS,
  WEB_CONFIG, WEB_PASSWORD,
} from './private/paths';
import { MonitoringProfile, profileFor, ProberResources, proberResources } from './private/profile';
import {
  alertmanagerCommand, alertmanagerRunsAs, alertmanagerSysusers, alertmanagerUserUnit, alertRelayUnit, blackboxCommand, dropIn, expectedSecrets, JobWatch, NodeTarget, nodeExporterCommand, nodeExporterWaitsFor, prometheusCommand,
  ProberModel, prometheusWatchUnit, receiversOf, renderAlertmanagerTemplate, renderAmtoolConfig, renderBlackbox, renderNodeTargets, renderPrometheus,
  renderPrometheusWatch, renderRules,
} from './private/render';
import { ALERT_RELAY_SCRIPT, PROMETHEUS_WATCH_SCRIPT, REDACT_LOG_SCRIPT } from './private/scripts';
import { secretFile } from './private/secrets';
import { ensureTooling, monitoringFile } from './private/tooling';
import { IpFamily, UptimeCheck, UptimeCheckProtocol } from './uptime-check';
import { guardStack } from '../core/private/guard-stack';

/** The bundle part of the prober's daemons and their configuration. */
const PROBER_PART = 'sovereign-monitoring prober';

/** What one environment stack's monitoring is built from: the plan, the phase, the environment and its machines. */
export interface EnvironmentMonitoringProps {
  /**
   * The product's monitoring plan.
   * @default - none; a production stack fails synth without one
   */
  readonly plan?: MonitoringPlan;
  /** The product's phase: what runs, and where. */
  readonly phase: Phase;
  /** The environment this stack is. */
  readonly environment: Environment;
  /** The environment's app machine (a `Machine`): it gets node exporter, and in Phases 1 and 2 the prober. */
  readonly machine: IMachine;
  /**
   * Phase 3, production: the machine Prometheus and Alertmanager move to. In other phases it is a
   * postponed component and fails synth unless adopted early.
   * @default - none; a Phase 3 production stack fails synth without one
   */
  readonly monitoringMachine?: IMachine;
}

export { BACKUP_JOB_UNITS, RESTORE_DRILL_UNIT } from './private/job-metrics';
/** The backup job whose success means a new verified remote copy: the RPO is measured on it. */
const BACKUP_PUSH_UNIT = 'backup-push';
/**
 * DNS over TCP: the egress allowlist opens TCP 53 itself (`openDestinationPort` leaves out 23, 80 and 443 itself); NTP's 123
 * it opens over UDP alone, so a TCP check on 123 is opened as any other port. A prober without the allowlist opens no port
 * for the monitoring (`openDestinationPort`): synth refuses a destination its rules do not open.
 */
const ANSWERED_BY_ALLOWLIST_RULES = new Set([53]);

/**
 * The monitoring of one environment stack, from the product's `MonitoringPlan` and phase.
 *
 * Placement ("nothing is judged up by itself"): an environment's uptime checks run on another
 * always-on machine. In Phases 1 and 2 the test machine probes production and production probes
 * test, each with prometheus-blackbox-exporter, Prometheus and Alertmanager from Debian. In Phase 3
 * Prometheus and Alertmanager of production move to the monitoring machine, which probes both
 * environments and scrapes production's node exporters over the private network; the test machine
 * keeps its own small stack for test's host and restore-drill alerts. Every prober's watchdog pings
 * the dead-man's switch. Staging is on demand and not watched.
 *
 * On every watched machine node exporter publishes the outcomes of the backup jobs and the restore
 * drill (recorded by a systemd hook on their units) and the disks' fill level; from Phase 2 also the
 * host metrics. Secrets are sensitive variables of this stack: `monitoring_deadman_ping_url_<environment>`,
 * `monitoring_webhook_<receiver>`, `monitoring_smtp_password_<receiver>` and `error_monitoring_dsn`.
 */
export class EnvironmentMonitoring extends Construct {
  /** The product's monitoring plan, if it has one. */
  public readonly plan?: MonitoringPlan;
  /** The product's phase. */
  public readonly phase: Phase;
  /** The environment this stack is. */
  public readonly environment: Environment;
  /** The environment's app machine. */
  public readonly machine: IMachine;
  /** Phase 3, production: the machine Prometheus and Alertmanager run on. */
  public readonly monitoringMachine?: IMachine;
  /** The machine running this stack's Prometheus and Alertmanager, if any. */
  public readonly prober?: IMachine;
  /** The uptime checks this stack's prober runs (the checks of the other environments). */
  public readonly checks: readonly UptimeCheck[];
  /** The machines whose node exporter this stack's prober scrapes. */
  public readonly watchedMachines: readonly IMachine[];
  /** The error monitoring of the app machine, when the plan has an endpoint. */
  public readonly errorMonitoring?: ErrorMonitoring;
  /** The sensitive variables this stack declares, by name. */
  public readonly secretVariables: Readonly<Record<string, SecretVariable>>;

  private readonly profile: MonitoringProfile;

  constructor(scope: Construct, id: string, props: EnvironmentMonitoringProps) {
    super(scope, id);
    guardStack(this);
    // The props checked are the props built from: one frozen snapshot (a getter answers once; later edits do not reach it).
    props = checkProps<EnvironmentMonitoringProps>(this, props, {
      plan: is.optional(is.instance(MonitoringPlan, 'pass the product\'s new MonitoringPlan({ … })')),
      phase: is.instance(Phase, 'use Phase.ONE, Phase.TWO or Phase.THREE'),
      environment: is.instance(Environment, 'use Environment.PRODUCTION, Environment.TEST or Environment.STAGING'),
      machine: machineCheck(),
      monitoringMachine: is.optional(machineCheck('pass the Machine Prometheus and Alertmanager run on in Phase 3 production, built with new Machine(…)')),
    }, 'pass { plan, phase, environment, machine }');
    this.plan = props.plan;
    this.phase = props.phase;
    this.environment = props.environment;
    this.machine = props.machine;
    this.monitoringMachine = props.monitoringMachine;
    this.profile = profileFor(props.phase);
    const plan = props.plan;
    const stack = TerraformStack.of(this);
    const variables: Record<string, SecretVariable> = {};
    const secret = (name: string, description: string) => {
      variables[name] = variables[name] ?? new SecretVariable(stack, name, { description });
      return variables[name];
    };

    const alwaysOn = props.environment.alwaysOn;
    const dedicated = props.monitoringMachine !== undefined && props.environment === Environment.PRODUCTION;
    this.prober = plan && alwaysOn ? (dedicated ? props.monitoringMachine : props.machine) : undefined;
    this.watchedMachines = this.prober ? [...new Set([this.prober, props.machine])] : [];
    this.checks = plan && this.prober ? plan.uptimeChecks.filter((c) => this.proberEnvironmentOf(c) === props.environment) : [];

    if (props.monitoringMachine) Component.declare(props.monitoringMachine, Component.MONITORING_MACHINE);
    if (plan?.errorMonitoring) {
      this.errorMonitoring = new ErrorMonitoring(this, 'ErrorMonitoring', {
        machine: props.machine,
        endpoint: plan.errorMonitoring,
        dsn: secret(ERROR_MONITORING_DSN_VARIABLE, `DSN of the ${props.environment} project at ${plan.errorMonitoring.processor.name} (it holds the project key)`),
      });
    }

    if (plan && this.prober) {
      const prober = this.prober;
      if (this.checks.length > 0) Component.declare(this, Component.EXTERNAL_UPTIME_CHECKS);
      if (this.profile.hostMetrics) Component.declare(this, Component.HOST_OBSERVABILITY);

      for (const machine of this.watchedMachines) this.addNodeExporter(machine, machine !== prober);
      const receivers = receiversOf(this.model());
      const derivedFromSecrets = [`${ETC}/alertmanager.yml`, RELAY_URLS, WEB_PASSWORD, WEB_CONFIG,
        ...receivers.filter((r) => r.kind === AlertReceiverKind.EMAIL).map((r) => `${SECRETS}/${r.secretVariableName}`)];
      // A machine that probed before (Phase 2's app machine) stops doing so once the monitoring machine takes over.
      for (const machine of this.watchedMachines.filter((m) => m !== prober)) {
        machine.addBundlePart({ name: 'sovereign-monitoring no prober here', commands: [[SETUP, 'retire-prober', ...derivedFromSecrets]] });
      }

      const deadmanVariable = plan.deadMansSwitch.secretVariableNameFor(props.environment);
      const deadman = secret(deadmanVariable,
        `Ping URL (with its key) of the dead-man's switch check of ${prober.serverName}'s prober at ${plan.deadMansSwitch.service}`);
      for (const r of receivers) {
        secret(r.secretVariableName, r.kind === AlertReceiverKind.WEBHOOK
          ? `Webhook URL (with its token) of alert receiver '${r.name}' at ${r.hostname}`
          : `SMTP password of ${r.email!.username} at ${r.email!.smarthost}, for alert receiver '${r.name}'`);
      }
      const remoteTargets = this.watchedMachines.some((m) => m !== prober);
      const resources = this.resourcesOf(prober);
      const memory = resources.memoryMaxMib;
      ensureTooling(prober);
      prober.addBundlePart({
        name: PROBER_PART,
        packages: [SERVICES.prometheus.package, SERVICES.alertmanager.package, SERVICES.blackbox.package],
        files: [
          monitoringFile(`${ETC}/prometheus.yml`, () => renderPrometheus(this.model())),
          { ...monitoringFile(`${ETC}/alerts.yml`, () => renderRules(this.model())), check: ['promtool', 'check', 'rules', '{}'] },
          monitoringFile(`${ETC}/blackbox.yml`, () => renderBlackbox(this.model())),
          monitoringFile(`${ETC}/alertmanager.yml.in`, () => renderAlertmanagerTemplate(this.model()), '0600'),
          monitoringFile(`${SECRETS}/expected`, () => expectedSecrets(this.model()), '0600'),
          // The Debian packages start their daemons with Debian's defaults (behind the firewall, which
          // opens none of their ports) until the commands below restart them with these command lines.
          monitoringFile(`${UNITS}/${SERVICES.prometheus.unit}.service.d/sovereign-monitoring.conf`, dropIn(prometheusCommand(resources), memory.prometheus)),
          monitoringFile(ALERTMANAGER_SYSUSERS, alertmanagerSysusers()),
          monitoringFile(`${UNITS}/${ALERTMANAGER_USER_UNIT}.service`, alertmanagerUserUnit()),
          monitoringFile(`${UNITS}/${SERVICES.alertmanager.unit}.service.d/sovereign-monitoring.conf`, dropIn(alertmanagerCommand(), memory.alertmanager, alertmanagerRunsAs())),
          monitoringFile(`${UNITS}/${SERVICES.blackbox.unit}.service.d/sovereign-monitoring.conf`, dropIn(blackboxCommand(), memory.blackbox)),
          monitoringFile(AMTOOL_CONFIG, renderAmtoolConfig(), '0600'),
          monitoringFile(REDACT_LOG, REDACT_LOG_SCRIPT, '0755'),
          monitoringFile(PROMETHEUS_WATCH, PROMETHEUS_WATCH_SCRIPT, '0755'),
          monitoringFile(PROMETHEUS_WATCH_CONFIG, () => renderPrometheusWatch(this.model())),
          monitoringFile(`${UNITS}/${PROMETHEUS_WATCH_UNIT}.service`, prometheusWatchUnit()),
          monitoringFile(ALERT_RELAY, ALERT_RELAY_SCRIPT, '0755'),
          monitoringFile(`${UNITS}/${ALERT_RELAY_UNIT}.service`, alertRelayUnit()),
          secretFile(deadmanVariable, deadman),
          ...receivers.map((r) => secretFile(r.secretVariableName, variables[r.secretVariableName])),
          ...(remoteTargets ? [monitoringFile(`${ETC}/targets/nodes.json`, () => renderNodeTargets(this.model()) ?? '[]\n')] : []),
        ],
        commands: [
          // A renamed or dropped receiver's password file goes here, seconds before the restart below. The running
          // Alertmanager reads it at each send: one to that receiver meanwhile fails and is retried until the restart
          // ends it, as the restart would anyway. Alertmanager keeps alerts in memory only: Prometheus sends the firing
          // ones again, and the renamed receiver, new to the notification log, is notified of them (a resolved notice
          // due in those seconds is lost, as with any rename).
          [SETUP, 'alertmanager'],
          ['systemctl', 'daemon-reload'],
          ['systemctl', 'enable', SERVICES.prometheus.unit, SERVICES.alertmanager.unit, SERVICES.blackbox.unit, PROMETHEUS_WATCH_UNIT, ALERT_RELAY_UNIT],
          ['systemctl', 'restart', SERVICES.prometheus.unit, SERVICES.alertmanager.unit, SERVICES.blackbox.unit],
          ['systemctl', 'restart', PROMETHEUS_WATCH_UNIT, ALERT_RELAY_UNIT],
        ],
      });
      // Its files name the checks' URLs and the receivers' hosts, each declared below: judged there, not read again as text.
      recordDeclaredHostPart(prober, PROBER_PART);
      // On a clone of this machine: the daemons are Debian's units (not files of the bundle), and the
      // setup derived these files from the secrets.
      guardOnClone(prober, { units: PROBER_UNITS.map((u) => `${u}.service`), files: derivedFromSecrets });
      this.allowAlertEgress(prober, receivers);
      // The monitoring declares its own destinations, so the prober's egress allowlist holds them whoever builds the stack.
      // A probe sends none of the machine's data: a probed host the policy names as a processor needs no DataFlow.
      for (const c of this.checks) {
        requireConstructDestinations(prober, [c.hostname], `host the prober probes for uptime check ${c.name}`, c.port, true);
        // A check that follows redirects follows the usual one to https://<host>/ (from http://, or from another port): on
        // the URL's port alone the host table would reset it, and the check would page for a site that is up.
        if (followsRedirectsTo443(c)) {
          requireConstructDestinations(prober, [c.hostname], `host the prober probes for uptime check ${c.name}, on HTTPS where it redirects`, Port.of(443), true);
        }
      }
      for (const r of receivers) requireConstructDestinations(prober, [r.hostname], `alert receiver ${r.name} that Alertmanager notifies`, r.port);
      requireConstructDestinations(prober, [plan.deadMansSwitch.hostname], "dead-man's switch that Alertmanager pings while it runs", plan.deadMansSwitch.port);
      // They probe, page and ping outside hosts: they run only once the prober's allowlist is loaded (a table that
      // failed to load silences the prober; the dead-man's switch, no longer pinged, reports it).
      EgressAllowlist.guardUnits(prober, [...PROBER_UNITS, ALERT_RELAY_UNIT].map((u) => `${u}.service`));
    }
    this.secretVariables = variables;
    this.node.addValidation({ validate: () => this.validate(props) });
  }

  /**
   * The hosts `machine` must reach for the monitoring: probed hosts, alert receivers, the ping service, the error-monitoring
   * endpoint. The constructs declare them on the machine's egress allowlist themselves (`EgressAllowlist.requireHostnames`).
   * @deprecated Passing them to `EgressAllowlist.apply` is refused (they are declared destinations, the error endpoint a
   * processor's API), and nothing else needs them: leave them out of `apply`. `EgressAllowlist.requiredDestinations(machine)`
   * lists them with their purposes, and `EgressAllowlist.hostnamesFor` what the allowlist holds.
   */
  public egressHostnamesFor(machine: IMachine): string[] {
    const hosts: string[] = [];
    if (machine === this.prober && this.plan) {
      hosts.push(...this.checks.map((c) => c.hostname), ...receiversOf(this.model()).map((r) => r.hostname), this.plan.deadMansSwitch.hostname);
    }
    if (this.errorMonitoring && machine === this.errorMonitoring.machine) hosts.push(...this.errorMonitoring.endpoint.hostnames);
    return [...new Set(hosts)];
  }

  /**
   * Where the prober reaches `machine`'s node exporter, and where it listens: its private address (a machine without
   * a network fails validation; its server's address then stands in, as Terraform would fail on it at deploy).
   */
  private privateAddressOf(machine: IMachine): string {
    return privateAddressOf(machine) ?? machine.server.network.get(0).ip;
  }

  /** What the monitoring may take on `machine`: a machine of its own is the monitoring machine. */
  private resourcesOf(machine: IMachine): ProberResources {
    return proberResources(this.phase, machine === this.monitoringMachine);
  }

  /** The environment whose stack runs a check's probe. */
  private proberEnvironmentOf(check: UptimeCheck): Environment {
    if (check.probeFrom) return check.probeFrom;
    if (this.profile.monitoringMachine) return Environment.PRODUCTION;
    return check.environment === Environment.PRODUCTION ? Environment.TEST : Environment.PRODUCTION;
  }

  private addNodeExporter(machine: IMachine, scrapedRemotely: boolean): void {
    ensureTooling(machine);
    guardOnClone(machine, { units: [`${SERVICES.node.unit}.service`] });
    // Scraped over the private network: on the machine's private address, which the prober's target names too.
    const privateAddress = scrapedRemotely ? this.privateAddressOf(machine) : undefined;
    // The private network's only way in to it: the machine's table admits the prober alone.
    if (scrapedRemotely) PrivateIngress.allowTcp(machine, this.prober!, PORTS.node, `node exporter, scraped by ${this.prober!.serverName}`);
    machine.addBundlePart({
      name: 'sovereign-monitoring node exporter',
      packages: [SERVICES.node.package],
      files: [
        monitoringFile(`${ETC}/watched-units`, () => `${this.jobsOf(machine).map((j) => j.unit).join('\n')}\n`),
        monitoringFile(`${UNITS}/${SERVICES.node.unit}.service.d/sovereign-monitoring.conf`,
          dropIn(nodeExporterCommand(this.profile, privateAddress), this.resourcesOf(machine).memoryMaxMib.node,
            privateAddress === undefined ? {} : nodeExporterWaitsFor(privateAddress))),
      ],
      commands: [
        [SETUP, 'watch'],
        ['systemctl', 'daemon-reload'],
        ['systemctl', 'enable', SERVICES.node.unit],
        ['systemctl', 'restart', SERVICES.node.unit],
      ],
    });
  }

  /** The backup and drill jobs running on `machine`, found in the construct tree at synth. */
  private jobsOf(machine: IMachine): JobWatch[] {
    const jobs: JobWatch[] = [];
    // BackupPlan.of still takes a Machine; every machine here is one (checked by requireMachine).
    const plan = Machine.isMachine(machine) ? BackupPlan.of(machine) : undefined;
    if (plan) {
      const severity = plan.environment.protectedFromLoss ? AlertSeverity.CRITICAL : AlertSeverity.WARNING;
      for (const unit of BACKUP_JOB_UNITS) {
        jobs.push({ unit, kind: 'backup', severity, ...(unit === BACKUP_PUSH_UNIT ? { maxAge: plan.maxBackupAge } : {}) });
      }
    }
    const drill = TerraformStack.of(machine).node.findAll().find((c): c is RestoreDrill => c instanceof RestoreDrill && c.machine === machine);
    if (drill) {
      jobs.push({
        unit: RESTORE_DRILL_UNIT, kind: 'drill', severity: AlertSeverity.CRITICAL,
        // Its longest run is 12 hours per copy it restores: a drill of the offsite bucket too may still be running.
        maxAge: drill.maxTimeBetweenRuns,
        maxAgeInWords: `${drill.schedule.interval}, plus a start up to ${DRILL_START_DELAY} late and a run of up to ${drill.longestRun}`,
      });
    }
    return jobs;
  }

  private model(): ProberModel {
    const plan = this.plan!;
    const prober = this.prober!;
    const nodes: NodeTarget[] = this.watchedMachines.map((m) => ({
      instance: m.serverName,
      environment: m.environment,
      address: m === prober ? `127.0.0.1:${PORTS.node}` : `${this.privateAddressOf(m)}:${PORTS.node}`,
      remote: m !== prober,
      jobs: this.jobsOf(m),
    }));
    return {
      prober: prober.serverName,
      profile: this.profile,
      checks: this.checks,
      probes: this.checks.flatMap((check) => this.probedFamiliesOf(check).map((family) => ({ check, family }))),
      defaultReceivers: plan.receivers,
      deadMansSwitch: plan.deadMansSwitch,
      deadmanVariable: plan.deadMansSwitch.secretVariableNameFor(this.environment),
      nodes,
      diskWarningShare: plan.diskWarningShare,
      diskCriticalShare: plan.diskCriticalShare,
      evaluationInterval: plan.evaluationInterval,
    };
  }

  /**
   * The families a check's environment serves: those the check names, else its machine's (IPv4 and IPv6, or IPv6 alone
   * without a public IPv4). The machine is found as `sameLocationWarnings` finds it; one not in this app is taken
   * for a dual-stack machine, `Machine`'s default.
   */
  private servedFamiliesOf(check: UptimeCheck): IpFamily[] {
    if (check.ipFamilies) return [...check.ipFamilies];
    const machine = this.checkedMachineOf(check.environment);
    return machine && machine.ipv4 === undefined ? ['ipv6'] : ['ipv4', 'ipv6'];
  }

  /** What the prober can probe of them: a prober without a public IPv4 reaches no IPv4 address (validate says so). */
  private probedFamiliesOf(check: UptimeCheck): IpFamily[] {
    return this.servedFamiliesOf(check).filter((f) => f === 'ipv6' || this.prober?.ipv4 !== undefined);
  }

  /** The app machine of a checked environment: this stack's, or the one of its EnvironmentMonitoring of the same plan in this app. */
  private checkedMachineOf(environment: Environment): IMachine | undefined {
    if (environment === this.environment) return this.machine;
    return this.node.root.node.findAll()
      .find((c): c is EnvironmentMonitoring => c instanceof EnvironmentMonitoring && c !== this && c.plan === this.plan && c.environment === environment)?.machine;
  }

  /**
   * Opens the prober's firewall for alert and probe ports the egress allowlist does not open anyway, as the backup plan
   * opens an S3 endpoint's: where the allowlist narrows each to its hosts (`openDestinationPort`). A public prober whose
   * egress the team restricted by hand gets no rule of the library's (SMTP 25 to every address, unannounced): synth
   * refuses each alert or probe port its rules do not open, naming the rule.
   */
  private allowAlertEgress(prober: IMachine, receivers: AlertReceiver[]): void {
    const ports = new Map<number, string>();
    for (const r of receivers) ports.set(r.port.from, r.kind === AlertReceiverKind.EMAIL ? 'SMTP for alert e-mail' : 'alert webhook');
    ports.set(this.plan!.deadMansSwitch.port.from, "dead-man's switch pings");
    for (const c of this.checks) ports.set(c.port.from, `uptime check ${c.name}`);
    for (const [port, description] of [...ports.entries()].sort(([a], [b]) => a - b)) {
      if (!ANSWERED_BY_ALLOWLIST_RULES.has(port)) openDestinationPort(prober, Port.of(port), description);
    }
  }

  /**
   * Where one environment's app machine probes the other (Phases 1 and 2): a warning for each probed
   * environment whose machine runs in the prober's location, found through the other environment's
   * EnvironmentMonitoring of the same plan in this app (each stack deploys on its own; the app holds
   * them all). A location-wide outage would silence the probe together with its target, and only the
   * dead-man's switch would notice. A warning, not an error: one location is the default, and a
   * second one is the team's choice of latency and cost. The monitoring machine of Phase 3 probes
   * both environments from production's location; that limit is documented, not warned about.
   */
  private sameLocationWarnings(): string[] {
    const prober = this.prober;
    if (!this.plan || !prober || prober === this.monitoringMachine || this.checks.length === 0) return [];
    const warnings: string[] = [];
    for (const target of [...new Set(this.checks.map((c) => c.environment))]) {
      const machine = this.checkedMachineOf(target);
      if (!machine || machine.location.name !== prober.location.name) continue;
      const names = this.checks.filter((c) => c.environment === target).map((c) => c.name).join(', ');
      const elsewhere = Location.eu().find((l) => l.name !== prober.location.name) ?? Location.NBG1;
      warnings.push(`Monitoring-ProbeInTargetLocation: ${this.node.path}.plan.uptimeChecks (${names}) run on ${prober.serverName} in ${prober.location.name}, `
        + `where ${target} runs too: an outage of ${prober.location.name} silences the probe with its target, and only the dead-man's switch notices. `
        + `Fix: run test and production in different locations (Product locations: { test: Location.${elsewhere.name.toUpperCase()} }), or add an external uptime check.`);
    }
    return warnings;
  }

  private validate(props: EnvironmentMonitoringProps): string[] {
    const errors: string[] = [];
    const plan = props.plan;
    const production = props.environment === Environment.PRODUCTION;
    if (props.machine.environment !== props.environment) {
      errors.push(invalidValue(this, 'machine', props.machine.node.path, `it is in ${props.machine.environment}, this stack is ${props.environment}`, "pass the environment's app machine"));
    }
    if (props.monitoringMachine !== undefined && props.monitoringMachine === props.machine) {
      // The same machine passed twice satisfied the phase's "a machine of its own" while Prometheus stayed beside the app.
      errors.push(invalidValue(this, 'monitoringMachine', props.monitoringMachine.node.path,
        'it is the app machine itself, so Prometheus and Alertmanager would stay on the machine they watch, and go down with it',
        `create a Machine of its own with role 'monitoring' in the production stack and pass it as monitoringMachine`));
    } else if (props.monitoringMachine && !production) {
      errors.push(invalidValue(this, 'monitoringMachine', props.monitoringMachine.node.path, 'the monitoring machine belongs to the production stack, which is always on and protected',
        'create it in the production stack only'));
    } else if (props.monitoringMachine && props.monitoringMachine.environment !== props.environment) {
      errors.push(invalidValue(this, 'monitoringMachine', props.monitoringMachine.node.path, `it is in ${props.monitoringMachine.environment}, this stack is ${props.environment}`,
        'create it with environment: Environment.PRODUCTION'));
    }
    if (!plan) {
      if (production) {
        errors.push(missingValue(this, 'plan', 'production is never judged up by itself: it needs uptime checks from another machine and someone to alert',
          "give the product monitoring: new MonitoringPlan({ uptimeChecks: [UptimeCheck.http(Environment.PRODUCTION, 'https://…/health')], receivers: [AlertReceiver.webhook('ops', { hostname })], deadMansSwitch: DeadMansSwitch.healthchecksIo() })"));
      } else if (props.environment.alwaysOn) {
        Annotations.of(this).addWarning(`Monitoring-NoPlan: ${this.node.path}.plan is missing, so nothing watches ${props.environment}. Fix: give the product a MonitoringPlan.`);
      }
      return errors;
    }
    if (production && plan.checksOf(Environment.PRODUCTION).length === 0) {
      errors.push(missingValue(this, 'plan.uptimeChecks', 'production has no uptime check, so nobody learns that it is down',
        "add UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu/health') to the plan"));
    }
    if (production && !plan.errorMonitoring && props.phase.required.includes(Component.ERROR_MONITORING)) {
      Annotations.of(this).addWarning(`Monitoring-NoErrorMonitoring: ${this.node.path}.plan.errorMonitoring is missing, and ${props.phase} requires basic error monitoring: exceptions reach nobody. Fix: pass errorMonitoring: ErrorMonitoringEndpoint.selfHosted(processor) (GlitchTip inside the control plane).`);
    }
    if (props.environment === Environment.TEST && plan.checksOf(Environment.TEST).length === 0) {
      Annotations.of(this).addWarning(`Monitoring-TestUnwatched: ${this.node.path}.plan.uptimeChecks has no check of test, so a broken test environment goes unnoticed until a release. Fix: add UptimeCheck.http(Environment.TEST, 'https://test.…/health').`);
    }
    if (production && this.profile.monitoringMachine && !props.monitoringMachine) {
      errors.push(missingValue(this, 'monitoringMachine', `${props.phase} moves Prometheus and Alertmanager off the production app machine`,
        `create a Machine with role 'monitoring' and serverType ${props.phase.monitoringMachine?.preferred.name ?? 'cx33'} in the production stack and pass it as monitoringMachine`));
    }
    for (const machine of this.watchedMachines.filter((m) => m !== this.prober)) {
      if (!machine.server.networkInput) {
        errors.push(invalidValue(this, 'machine', machine.node.path, 'the monitoring machine scrapes its node exporter over the private network, and it has none',
          "attach it to the environment's PrivateNetwork"));
      }
    }
    for (const warning of this.sameLocationWarnings()) Annotations.of(this).addWarning(warning);
    for (const c of this.checks.filter((check) => this.servedFamiliesOf(check).includes('ipv4') && this.prober?.ipv4 === undefined)) {
      const prober = this.prober!.serverName;
      const watched = this.probedFamiliesOf(c).length > 0;
      const why = `${prober}, which probes it, has no public IPv4 (publicIpv4: false) and reaches no IPv4 address: `
        + (watched ? `only ${c.hostname}'s IPv6 is probed, and an IPv4 outage of ${c.environment} goes unseen` : 'the check would watch nothing');
      const fix = `give ${prober}'s environment a public IPv4, or probe the check from another environment (probeFrom)${watched ? ", or check IPv6 alone (ipFamilies: ['ipv6'])" : ''}`;
      if (watched) Annotations.of(this).addWarning(`Monitoring-ProberWithoutIpv4: ${this.node.path}.plan.uptimeChecks (${c.name}): ${why}. Fix: ${fix}.`);
      else errors.push(invalidValue(this, `plan.uptimeChecks (${c.name}).ipFamilies`, c.ipFamilies, why, fix));
    }
    for (const r of this.prober ? receiversOf(this.model()) : []) {
      if (r.kind === AlertReceiverKind.EMAIL && (r.port.from === 25 || r.port.from === 465)) {
        Annotations.of(this).addWarning(`Monitoring-BlockedSmtpPort: receiver '${r.name}' sends through ${r.email!.smarthost}, but Hetzner blocks outgoing ports 25 and 465 on new projects. Fix: use the submission port 587.`);
      }
    }
    // The same block stops a probe: the check would fail from its first run and alert until Hetzner lifts it.
    for (const c of this.checks.filter((check) => check.port.from === 25 || check.port.from === 465)) {
      Annotations.of(this).addWarning(`Monitoring-BlockedSmtpPort: ${this.node.path}.plan.uptimeChecks (${c.name}) probes ${c.hostname}:${c.port} from ${this.prober!.serverName}, `
        + 'but Hetzner blocks outgoing ports 25 and 465 on new projects, so the check fails and alerts until Hetzner lifts the block for the project. '
        + `Fix: check the submission port 587 (UptimeCheck.tcp(environment, '${c.hostname}', 587)), or have Hetzner lift the block first.`);
    }
    return errors;
  }
}

/**
 * Whether an uptime check's redirects may lead to HTTPS on its host (a 301 from http:// to https://, or from another
 * port to the canonical URL): an HTTP check that follows redirects, on a port other than 443. A redirect to another
 * host is not known at synth: declare that host on the prober with `EgressAllowlist.requireProbeTargets`.
 */
function followsRedirectsTo443(check: UptimeCheck): boolean {
  return check.protocol === UptimeCheckProtocol.HTTP && check.followRedirects && check.port.from !== 443;
}
