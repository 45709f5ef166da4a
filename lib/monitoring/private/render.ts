import { stringify } from 'yaml';
import { Duration } from '../../core/duration';
import { Environment } from '../../core/environment';
import { AlertReceiver, AlertReceiverKind } from '../alert-receiver';
import { DeadMansSwitch } from '../dead-mans-switch';
import { AlertSeverity, MonitoringAlert } from '../monitoring-alert';
import { IpFamily, UptimeCheck, UptimeCheckProtocol } from '../uptime-check';
import { IDENTITY_UNIT_LINES } from '../../hetzner/private/machine-identity';
import { ADDRESS_WAIT_SECONDS, ADDRESS_WAIT_START_TIMEOUT_SECONDS, waitForAddressCommand } from '../../hetzner/private/private-address';
import { ALERT_RELAY, ALERTMANAGER_DATA_DIR, ALERTMANAGER_STATE_DIRECTORY, ALERTMANAGER_SYSUSERS, ALERTMANAGER_USER, ALERTMANAGER_USER_UNIT, ETC, PORTS, PROMETHEUS_WATCH, REDACT_LOG, RELAY_URLS, SECRETS, SERVICES, TEXTFILE_DIR, WEB_CONFIG, WEB_PASSWORD, WEB_USER } from './paths';
import { HELPER_MEMORY_MAX_MIB, MonitoringProfile, ProberResources } from './profile';
import { EGRESS_CHECK_LAST_REPAIR_METRIC, EGRESS_CHECK_PRESENT_METRIC, EGRESS_CHECK_TIMESTAMP_METRIC, EGRESS_CHECK_UNIT } from '../../boundary/egress-allowlist';
import { METADATA_GUARD_CHECK, METADATA_GUARD_CHECK_TIMESTAMP_METRIC, METADATA_GUARD_LAST_REPAIR_METRIC, METADATA_GUARD_PRESENT_METRIC } from '../../backup/private/metadata-guard-check';
import {
  PRIVATE_INGRESS_CHECK, PRIVATE_INGRESS_CHECK_TIMESTAMP_METRIC, PRIVATE_INGRESS_LAST_REPAIR_METRIC, PRIVATE_INGRESS_PRESENT_METRIC,
} from '../../hetzner/private/private-ingress-check';
import { PRIVATE_INGRESS_UNIT } from '../../hetzner/private/private-ingress-table';
import { hostTablesLoaderPath } from '../../hetzner/private/nftables-table';
import { HOST_TABLES_LOADER_METRIC } from '../../hetzner/private/table-check';

/** A job unit whose outcomes a prober alerts on (backups, restore drill). */
export interface JobWatch {
  /** The systemd unit, without `.service`. */
  readonly unit: string;
  readonly kind: 'backup' | 'drill';
  /** The age of the last success (backup push) or last run (drill) that alerts. */
  readonly maxAge?: Duration;
  /** A drill's `maxAge` in words (its interval, start delay and longest run), for the alert's description. */
  readonly maxAgeInWords?: string;
  readonly severity: AlertSeverity;
}

/** A node exporter a prober scrapes. */
export interface NodeTarget {
  /** The machine's server name: the `instance` label. */
  readonly instance: string;
  readonly environment: Environment;
  /** `host:port`; may hold a Terraform reference (then it goes into a file_sd file, uncompressed). */
  readonly address: string;
  /** Reached over the private network, rather than on loopback. */
  readonly remote: boolean;
  readonly jobs: readonly JobWatch[];
}

/** One address family of one check: probed on its own, as its own Prometheus job and blackbox module. */
export interface Probe {
  readonly check: UptimeCheck;
  readonly family: IpFamily;
}

/** Everything one prober's configuration is rendered from. */
export interface ProberModel {
  /** The server name of the machine running Prometheus and Alertmanager: the `prober` label of every alert. */
  readonly prober: string;
  readonly profile: MonitoringProfile;
  readonly checks: readonly UptimeCheck[];
  /** The probes of the checks: each check once per address family it is probed over. */
  readonly probes: readonly Probe[];
  /** Who gets every alert that names no receivers. */
  readonly defaultReceivers: readonly AlertReceiver[];
  readonly deadMansSwitch: DeadMansSwitch;
  /** The sensitive variable holding this prober's own ping URL. */
  readonly deadmanVariable: string;
  readonly nodes: readonly NodeTarget[];
  readonly diskWarningShare: number;
  readonly diskCriticalShare: number;
  readonly evaluationInterval: Duration;
}

const HEADER = (what: string, model: ProberModel) => `# ${what} of ${model.prober}, rendered by cdktf-sovereign-hetzner (EnvironmentMonitoring).\n`;
const REAL_FILESYSTEMS = 'fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs"';
const DEADMAN = 'deadmansswitch';
/**
 * How long a rule keeps the last value of a series that stopped (its exporter died, its file went):
 * an alert never resolves for lack of data within this time. MonitoringTargetDown and
 * MonitoringDataMissing say that the data is missing meanwhile.
 */
export const DATA_HOLD = Duration.days(1);
/** The same for the jobs' timestamps: longer than the rarest weekly job's interval, so its last failure stays known. */
export const JOB_DATA_HOLD = Duration.days(8);
const hold = (selector: string, d: Duration = DATA_HOLD) => `last_over_time(${selector}[${promDuration(d)}])`;
/** Prometheus's basic auth towards Alertmanager (see WEB_CONFIG). */
const BASIC_AUTH = { username: WEB_USER, password_file: WEB_PASSWORD };

/** Prometheus's compound duration syntax (`1h30m`). */
export function promDuration(d: Duration): string {
  let s = Math.round(d.toSeconds());
  if (s === 0) return '0s';
  let out = '';
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (s >= size) {
      out += `${Math.floor(s / size)}${unit}`;
      s %= size;
    }
  }
  return out;
}

/** The Alertmanager receiver of a set of receivers: one per distinct set, named after its members. */
export function receiverGroup(receivers: readonly AlertReceiver[]): string {
  return [...new Set(receivers.map((r) => r.name))].sort().join('+');
}

function notifyOf(model: ProberModel, check?: UptimeCheck): string {
  return receiverGroup(check && check.notify.length > 0 ? check.notify : model.defaultReceivers);
}

function severityOf(environment: Environment): AlertSeverity {
  return environment.protectedFromLoss ? AlertSeverity.CRITICAL : AlertSeverity.WARNING;
}

/** The blackbox exporter's module, and the Prometheus job, of one family of a check. */
export function moduleName(probe: Probe): string {
  return `check_${probe.check.name}_${probe.family}`;
}

export function renderPrometheus(model: ProberModel): string {
  const local = model.nodes.filter((n) => !n.remote);
  const remote = model.nodes.filter((n) => n.remote);
  const config = {
    global: {
      scrape_interval: '30s',
      scrape_timeout: '10s',
      evaluation_interval: promDuration(model.evaluationInterval),
      external_labels: { prober: model.prober },
    },
    rule_files: [`${ETC}/alerts.yml`],
    alerting: { alertmanagers: [{ basic_auth: BASIC_AUTH, static_configs: [{ targets: [`127.0.0.1:${PORTS.alertmanager}`] }] }] },
    scrape_configs: [
      { job_name: 'blackbox', static_configs: [{ targets: [`127.0.0.1:${PORTS.blackbox}`], labels: { instance: model.prober } }] },
      { job_name: 'alertmanager', basic_auth: BASIC_AUTH, static_configs: [{ targets: [`127.0.0.1:${PORTS.alertmanager}`], labels: { instance: model.prober } }] },
      {
        job_name: 'node',
        ...(local.length > 0 ? { static_configs: local.map((n) => ({ targets: [n.address], labels: { instance: n.instance, environment: n.environment.name } })) } : {}),
        ...(remote.length > 0 ? { file_sd_configs: [{ files: [`${ETC}/targets/*.json`], refresh_interval: '5m' }] } : {}),
      },
      ...model.probes.map((probe) => ({
        job_name: moduleName(probe),
        scrape_interval: promDuration(probe.check.interval),
        scrape_timeout: promDuration(probe.check.timeout),
        metrics_path: '/probe',
        params: { module: [moduleName(probe)] },
        static_configs: [{ targets: [probe.check.target], labels: { check: probe.check.name, environment: probe.check.environment.name, ip_family: probe.family } }],
        relabel_configs: [
          { source_labels: ['__address__'], target_label: '__param_target' },
          { source_labels: ['__param_target'], target_label: 'instance' },
          { target_label: '__address__', replacement: `127.0.0.1:${PORTS.blackbox}` },
        ],
      })),
    ],
  };
  return HEADER('Prometheus configuration', model) + stringify(config, { lineWidth: 0, aliasDuplicateObjects: false });
}

/** The file_sd targets of node exporters reached over the private network, if any. */
export function renderNodeTargets(model: ProberModel): string | undefined {
  const remote = model.nodes.filter((n) => n.remote);
  if (remote.length === 0) return undefined;
  return `${JSON.stringify(remote.map((n) => ({ targets: [n.address], labels: { instance: n.instance, environment: n.environment.name } })), null, 1)}\n`;
}

export function renderBlackbox(model: ProberModel): string {
  const modules: Record<string, unknown> = {};
  for (const { check, family } of model.probes) {
    // The exporter prefers IPv6 and falls back to IPv4: a dual-stack host was probed over IPv6 alone, its IPv4 outage unseen.
    const ip = { preferred_ip_protocol: family === 'ipv4' ? 'ip4' : 'ip6', ip_protocol_fallback: false };
    modules[moduleName({ check, family })] = check.protocol === UptimeCheckProtocol.HTTP
      ? {
        prober: 'http',
        timeout: promDuration(check.timeout),
        http: {
          ...ip,
          valid_status_codes: [...check.expectStatus],
          follow_redirects: check.followRedirects,
          fail_if_not_ssl: check.tls,
          ...(check.expectBody !== undefined ? { fail_if_body_not_matches_regexp: [check.expectBody] } : {}),
        },
      }
      : { prober: 'tcp', timeout: promDuration(check.timeout), tcp: { ...ip, tls: check.tls } };
  }
  // The exporter needs at least one module to start; a prober without checks still serves its own health.
  if (model.probes.length === 0) modules.tcp_connect = { prober: 'tcp', timeout: '5s' };
  return HEADER('Blackbox exporter configuration', model) + stringify({ modules }, { lineWidth: 0, aliasDuplicateObjects: false });
}

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** The failing family as a person writes it (IPv4, IPv6), from the `ip_family` label (ipv4, ipv6) of the probe. */
const FAMILY_IN_WORDS = '{{ reReplaceAll "^ipv" "IPv" $labels.ip_family }}';

/**
 * The alert on a host table whose 2-minute check (lib/hetzner/private/table-check.ts) found it missing, or stopped
 * answering: `table` names it in the summary, `risk` says what is open meanwhile, `reload` how to load it again.
 */
function tableCheckRule(notify: string, alert: MonitoringAlert, presentMetric: string, timestampMetric: string,
  table: string, check: string, risk: string, reload: string): Rule {
  return {
    alert: alert.name,
    expr: `${hold(presentMetric)} == 0 or time() - ${hold(timestampMetric)} > 600`,
    for: '5m',
    labels: { severity: AlertSeverity.CRITICAL, notify },
    annotations: {
      summary: `The ${table} of {{ $labels.instance }} is not loaded, or no check ran for 10 minutes`,
      description: `${risk} Read systemctl status ${check}.timer and journalctl -u ${check}.service, fix the ruleset and run ${reload}.`,
    },
  };
}

export function renderRules(model: ProberModel): string {
  const notify = notifyOf(model);
  const groups: Array<{ name: string; rules: Rule[] }> = [];

  const uptime: Rule[] = [];
  for (const check of model.checks) {
    const labels = { severity: severityOf(check.environment), notify: notifyOf(model, check) };
    uptime.push({
      alert: MonitoringAlert.UPTIME_CHECK_FAILED.name,
      expr: `${hold(`probe_success{check="${check.name}"}`)} == 0`,
      ...(check.alertAfter.toSeconds() > 0 ? { for: promDuration(check.alertAfter) } : {}),
      labels,
      annotations: {
        summary: `${check.environment.name} is down over ${FAMILY_IN_WORDS}: ${check.target} fails its check from ${model.prober}`,
        description: `Expected ${check.protocol === UptimeCheckProtocol.HTTP ? `status ${check.expectStatus.join(' or ')}${check.expectBody !== undefined ? ' and a matching body' : ''}` : 'an open port'}; failing for at least ${check.alertAfter}.`,
      },
    });
    if (check.certificateExpiry) {
      const down = `ALERTS{alertname="${MonitoringAlert.UPTIME_CHECK_FAILED.name}", alertstate="firing", check="${check.name}"}`;
      uptime.push({
        alert: MonitoringAlert.TLS_CERTIFICATE_EXPIRING.name,
        // Not while every family of the check fails: then UptimeCheckFailed says it all. It is kept while one family
        // still answers (and serves the certificate), so a family that keeps failing (a name without AAAA, an IPv6
        // outage silenced in Alertmanager, which does not clear ALERTS) hides no expiry. Suppressed by the expression,
        // so it holds after an Alertmanager restart (which forgets alerts until Prometheus resends them).
        // One certificate, whichever family served it: one alert, not one per family.
        expr: `min without (job, ip_family) (${hold(`probe_ssl_earliest_cert_expiry{check="${check.name}"}`)}) - time() < ${check.certificateExpiry.toSeconds()}`
          // Suppressed when it fires for some family and there is no family it does not fire for.
          + ` unless on (check) (${down} unless on (check) (${hold(`probe_success{check="${check.name}"}`)} unless on (check, ip_family) ${down}))`,
        for: '10m',
        labels,
        annotations: {
          summary: `The certificate of ${check.target} expires in {{ $value | humanizeDuration }}`,
          description: `Renew it; the check warns ${check.certificateExpiry} ahead.`,
        },
      });
    }
  }
  if (uptime.length > 0) groups.push({ name: 'uptime', rules: uptime });

  const jobs: Rule[] = [];
  for (const node of model.nodes) {
    for (const kind of ['backup', 'drill'] as const) {
      const watched = node.jobs.filter((j) => j.kind === kind);
      if (watched.length === 0) continue;
      // One failure rule per machine and kind: its units by regex, its severity the most urgent of theirs.
      const severity = watched.some((j) => j.severity === AlertSeverity.CRITICAL) ? AlertSeverity.CRITICAL : AlertSeverity.WARNING;
      const at = `instance="${node.instance}", unit=~"${watched.map((j) => j.unit).join('|')}"`;
      const failed = hold(`sovereign_job_last_failure_timestamp_seconds{${at}}`, JOB_DATA_HOLD);
      const succeeded = hold(`sovereign_job_last_success_timestamp_seconds{${at}}`, JOB_DATA_HOLD);
      jobs.push({
        alert: (kind === 'backup' ? MonitoringAlert.BACKUP_JOB_FAILED : MonitoringAlert.RESTORE_DRILL_FAILED).name,
        expr: `${failed} > on (instance, unit) group_left ${succeeded} or (${failed} unless on (instance, unit) ${succeeded})`,
        labels: { severity, notify },
        annotations: kind === 'backup'
          ? { summary: 'The last run of {{ $labels.unit }} on {{ $labels.instance }} failed', description: 'See journalctl -u {{ $labels.unit }} on {{ $labels.instance }}.' }
          : { summary: 'The restore drill on {{ $labels.instance }} failed', description: 'A backup that does not restore is no backup. See journalctl -u {{ $labels.unit }}.' },
      });
      for (const job of watched.filter((j) => j.maxAge)) {
        const one = `instance="${node.instance}", unit="${job.unit}"`;
        jobs.push(kind === 'backup'
          ? {
            alert: MonitoringAlert.BACKUP_TOO_OLD.name,
            expr: `time() - ${newest(['sovereign_job_last_success_timestamp_seconds', 'sovereign_job_watched_since_timestamp_seconds'], one)} > ${job.maxAge!.toSeconds()}`,
            labels: { severity: job.severity, notify },
            annotations: {
              summary: `The newest verified backup of ${node.instance} is {{ $value | humanizeDuration }} old`,
              description: `${job.unit} has not succeeded for more than ${job.maxAge} (the plan's maxBackupAge: its RPO plus slack).`,
            },
          }
          : {
            alert: MonitoringAlert.RESTORE_DRILL_MISSED.name,
            expr: `time() - ${newest(['sovereign_job_last_success_timestamp_seconds', 'sovereign_job_last_failure_timestamp_seconds', 'sovereign_job_watched_since_timestamp_seconds'], one)} > ${job.maxAge!.toSeconds()}`,
            labels: { severity: job.severity, notify },
            annotations: { summary: `The restore drill on ${node.instance} has not run for {{ $value | humanizeDuration }}`, description: `A run ends at least every ${job.maxAgeInWords}.` },
          });
      }
    }
  }
  if (jobs.length > 0) groups.push({ name: 'backups', rules: jobs });

  if (model.nodes.length > 0) {
    const used = `1 - ${hold(`node_filesystem_avail_bytes{${REAL_FILESYSTEMS}}`)} / ${hold(`node_filesystem_size_bytes{${REAL_FILESYSTEMS}}`)}`;
    const disk = (alert: MonitoringAlert, share: number, severity: AlertSeverity, why: string, unlessFiring?: MonitoringAlert): Rule => ({
      alert: alert.name,
      // The warning steps aside while the critical alert fires (its resolution is inhibited), so an
      // Alertmanager restart cannot deliver a warning that the critical suppresses.
      expr: `${used} > ${share}${unlessFiring ? ` unless on (instance, mountpoint) ALERTS{alertname="${unlessFiring.name}", alertstate="firing"}` : ''}`,
      for: '15m',
      labels: { severity, notify },
      annotations: { summary: `{{ $labels.mountpoint }} on {{ $labels.instance }} is {{ $value | humanizePercentage }} full`, description: `Over ${Math.round(share * 100)}%: ${why}` },
    });
    groups.push({
      name: 'disk',
      // The critical rule first: a group's rules run in order and each sees the ALERTS of those before
      // it, so when both cross together the critical fires first and the warning never fires at all.
      // (Alertmanager sends an alert older than group_wait at once, before it may have seen the
      // critical that inhibits it: the live test restarts it to show that no warning gets through.)
      rules: [
        disk(MonitoringAlert.DISK_ABOVE_SPLIT_THRESHOLD, model.diskCriticalShare, AlertSeverity.CRITICAL,
          'move the database off the app disk now (Roadmap: split-app-db).'),
        disk(MonitoringAlert.DISK_ABOVE_VOLUME_THRESHOLD, model.diskWarningShare, AlertSeverity.WARNING,
          'plan the move of the database to a volume (Roadmap: attach-volume).', MonitoringAlert.DISK_ABOVE_SPLIT_THRESHOLD),
      ],
    });
  }

  if (model.nodes.length > 0) {
    // Written by the rollout agent, the egress allowlist's refresh and the private-network table's check into node exporter's textfile collector.
    groups.push({
      name: 'machine tooling',
      rules: [
        {
          alert: MonitoringAlert.ROLLOUT_FAILED.name,
          expr: `${hold('sovereign_rollout_success')} == 0`,
          labels: { severity: AlertSeverity.WARNING, notify },
          annotations: { summary: 'The last rollout to {{ $labels.instance }} failed: it runs its previous bundle', description: 'The deploy printed why; run sovereign-rollout status on the machine, fix the cause and deploy again.' },
        },
        {
          alert: MonitoringAlert.EGRESS_ALLOWLIST_NOT_LOADED.name,
          // The refresh writes its metric every 10 minutes, the check every 2 (and none for 10 means its answer is stale).
          expr: `${hold('sovereign_egress_table_present')} == 0 or ${hold(EGRESS_CHECK_PRESENT_METRIC)} == 0 or time() - ${hold(EGRESS_CHECK_TIMESTAMP_METRIC)} > 600`,
          for: '5m',
          labels: { severity: AlertSeverity.CRITICAL, notify },
          annotations: { summary: 'The egress allowlist of {{ $labels.instance }} is not loaded, or no check ran for 10 minutes', description: `Outbound traffic is not narrowed to the allowlist. Read systemctl status ${EGRESS_CHECK_UNIT}.timer and journalctl -u ${EGRESS_CHECK_UNIT}.service, run systemctl restart sovereign-egress.service and read its journal.` },
        },
        {
          alert: MonitoringAlert.EGRESS_ALLOWLIST_REFRESH_FAILING.name,
          expr: `${hold('sovereign_egress_refresh_success')} == 0 or time() - ${hold('sovereign_egress_refresh_timestamp_seconds')} > 1800`,
          for: '20m',
          labels: { severity: AlertSeverity.WARNING, notify },
          annotations: { summary: 'The egress allowlist of {{ $labels.instance }} is not refreshed', description: 'A hostname does not resolve or the timer stopped: journalctl -u sovereign-egress-refresh.service.' },
        },
        // The private-network ingress table's and the metadata guard's checks run every 2 minutes; none for 10 means
        // the last answer is stale (a stopped timer, a killed check).
        tableCheckRule(notify, MonitoringAlert.PRIVATE_INGRESS_NOT_LOADED, PRIVATE_INGRESS_PRESENT_METRIC, PRIVATE_INGRESS_CHECK_TIMESTAMP_METRIC,
          'private-network ingress table', PRIVATE_INGRESS_CHECK,
          'Every machine of the private network may reach every port of it.', `systemctl reload ${PRIVATE_INGRESS_UNIT}`),
        tableCheckRule(notify, MonitoringAlert.METADATA_GUARD_NOT_LOADED, METADATA_GUARD_PRESENT_METRIC, METADATA_GUARD_CHECK_TIMESTAMP_METRIC,
          'metadata guard', METADATA_GUARD_CHECK,
          'Any process may read the user data, and the backup secrets in it, from the metadata service.', 'systemctl restart sovereign-metadata-guard.service'),
        {
          alert: MonitoringAlert.HOST_TABLES_LOADER_BYPASSED.name,
          // Every check of a machine writes it, labelled with its own name: one alert per machine, not one per check.
          expr: `min without (check) (${hold(HOST_TABLES_LOADER_METRIC)}) == 0`,
          for: '5m',
          labels: { severity: AlertSeverity.WARNING, notify },
          annotations: {
            summary: "nftables.service of {{ $labels.instance }} does not run the host tables' loader: every restart, reload or stop leaves the host tables out",
            description: `A drop-in read after nftables.service.d/zz-sovereign-*.conf resets ExecStart=, ExecReload= or ExecStop= (journalctl -u sovereign-*-check.service names which). systemctl cat nftables shows it: remove its reset, or run the host tables' loader in it (start|reload|stop of the machine's own copy: ls ${hostTablesLoaderPath('sovereign-*')}), then systemctl daemon-reload.`,
          },
        },
        {
          alert: MonitoringAlert.HOST_TABLE_REPAIRED.name,
          // A check that loads a missing table records "present 1" at once: only the time of its repair tells that
          // the table was gone. Firing for an hour after it, the table named (both checks write to one instance).
          expr: [[EGRESS_CHECK_LAST_REPAIR_METRIC, 'egress allowlist', EGRESS_CHECK_UNIT], [PRIVATE_INGRESS_LAST_REPAIR_METRIC, 'private-network ingress', PRIVATE_INGRESS_CHECK],
            [METADATA_GUARD_LAST_REPAIR_METRIC, 'metadata guard', METADATA_GUARD_CHECK]]
            .map(([metric, table, check]) => `label_replace(label_replace(time() - (${hold(metric)} > 0) < 3600, "table", "${table}", "", ""), "check", "${check}", "", "")`).join(' or '),
          labels: { severity: AlertSeverity.WARNING, notify },
          annotations: { summary: 'The {{ $labels.table }} table of {{ $labels.instance }} was missing, and its check loaded it again {{ $value | humanizeDuration }} ago', description: 'Something flushed the nftables ruleset (nft flush ruleset, a firewall tool such as ufw, firewalld or Docker), and until the check, every 2 minutes, the table was not there. Find what did: journalctl -u {{ $labels.check }}.service says when, journalctl around then says what.' },
        },
      ],
    });
  }

  if (model.profile.hostMetrics && model.nodes.length > 0) {
    groups.push({
      name: 'host',
      rules: [
        {
          alert: MonitoringAlert.MEMORY_ALMOST_EXHAUSTED.name,
          expr: 'node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes < 0.1',
          for: '10m',
          labels: { severity: AlertSeverity.WARNING, notify },
          annotations: { summary: 'Only {{ $value | humanizePercentage }} of the memory of {{ $labels.instance }} is available', description: 'The next spike ends in an OOM kill.' },
        },
        {
          alert: MonitoringAlert.OUT_OF_MEMORY_KILL.name,
          expr: 'increase(node_vmstat_oom_kill[30m]) > 0',
          labels: { severity: AlertSeverity.WARNING, notify },
          annotations: { summary: 'The kernel of {{ $labels.instance }} killed a process for memory', description: 'See journalctl -k for what it killed.' },
        },
        {
          alert: MonitoringAlert.DISK_WILL_FILL.name,
          expr: `predict_linear(node_filesystem_avail_bytes{${REAL_FILESYSTEMS}}[6h], 86400) < 0`,
          for: '1h',
          labels: { severity: AlertSeverity.CRITICAL, notify },
          annotations: { summary: '{{ $labels.mountpoint }} on {{ $labels.instance }} is full within 24 hours at its current growth', description: 'Free space or grow the disk now.' },
        },
        {
          alert: MonitoringAlert.CPU_SATURATED.name,
          expr: '1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])) > 0.9',
          for: '30m',
          labels: { severity: AlertSeverity.WARNING, notify },
          annotations: { summary: 'The CPUs of {{ $labels.instance }} are {{ $value | humanizePercentage }} busy', description: 'Roadmap: rescale when p95 latency passes the SLA.' },
        },
      ],
    });
  }

  groups.push({
    name: 'monitoring',
    rules: [
      {
        alert: MonitoringAlert.WATCHDOG.name,
        expr: 'vector(1)',
        labels: { severity: AlertSeverity.NONE },
        annotations: { summary: `${model.prober} is alive`, description: "Always firing: its pings to the dead-man's switch prove the whole alert path." },
      },
      {
        alert: MonitoringAlert.MONITORING_TARGET_DOWN.name,
        expr: 'up{job!~"check_.+"} == 0',
        for: '2m',
        labels: { severity: AlertSeverity.WARNING, notify },
        annotations: { summary: 'The {{ $labels.job }} exporter on {{ $labels.instance }} cannot be scraped', description: `What it watches is not watched while it is down; its alerts keep their last state for ${DATA_HOLD}.` },
      },
      // One rule: each absent() keeps the labels of its selector (check, or instance and unit).
      {
        alert: MonitoringAlert.MONITORING_DATA_MISSING.name,
        expr: requiredSeries(model).map((series) => `absent(${series})`).join(' or '),
        for: '10m',
        labels: { severity: AlertSeverity.WARNING, notify },
        annotations: {
          summary: 'No data{{ with $labels.check }} from the uptime check {{ . }}{{ end }}{{ with $labels.instance }} from {{ . }}{{ end }}{{ with $labels.unit }} about {{ . }}{{ end }}',
          description: `The alerts that read it keep their last state for ${DATA_HOLD} (${JOB_DATA_HOLD} for the jobs), then fall silent. Is its exporter or its hook running?`,
        },
      },
    ],
  });
  return HEADER('Alert rules', model) + stringify({ groups }, { lineWidth: 0, aliasDuplicateObjects: false });
}

/** The newest of a job's timestamps: distinct labels per metric, as a range function drops the names. */
function newest(metrics: string[], selector: string): string {
  const each = metrics.map((m) => `label_replace(${hold(`${m}{${selector}}`, JOB_DATA_HOLD)}, "series", "${m}", "", "")`);
  return `max by (instance, environment, unit) (${each.join(' or ')})`;
}

/** The series that must exist while the prober works: each check's result, each node's disks, each watched job's record. */
function requiredSeries(model: ProberModel): string[] {
  const series = model.probes.map((p) => `probe_success{check="${p.check.name}", ip_family="${p.family}"}`);
  for (const node of model.nodes) {
    series.push(`node_filesystem_size_bytes{instance="${node.instance}"}`);
    for (const job of node.jobs) series.push(`sovereign_job_watched_since_timestamp_seconds{instance="${node.instance}", unit="${job.unit}"}`);
  }
  return series;
}

/** Every receiver the prober's alerts go to. */
export function receiversOf(model: ProberModel): AlertReceiver[] {
  const all = [...model.defaultReceivers, ...model.checks.flatMap((c) => c.notify)];
  return all.filter((r, i) => all.findIndex((o) => o.name === r.name) === i);
}

/**
 * Where Alertmanager posts a webhook's notifications: the relay on loopback, which forwards them to the URL of the
 * secret `variable`. Behind the web password, so that another local user cannot page the team through it.
 */
export function relayWebhook(variable: string, sendResolved: boolean) {
  return { url: `http://127.0.0.1:${PORTS.alertRelay}/${variable}`, send_resolved: sendResolved, http_config: { basic_auth: BASIC_AUTH } };
}

/** The Alertmanager configuration: no secret in it (webhooks go through the relay, SMTP passwords are files). */
export function renderAlertmanagerTemplate(model: ProberModel): string {
  const groups = new Map<string, readonly AlertReceiver[]>();
  groups.set(receiverGroup(model.defaultReceivers), model.defaultReceivers);
  for (const check of model.checks) if (check.notify.length > 0) groups.set(receiverGroup(check.notify), check.notify);
  const configOf = (receivers: readonly AlertReceiver[]) => {
    const webhooks = receivers.filter((r) => r.kind === AlertReceiverKind.WEBHOOK);
    const emails = receivers.filter((r) => r.kind === AlertReceiverKind.EMAIL);
    return {
      ...(webhooks.length > 0 ? { webhook_configs: webhooks.map((r) => relayWebhook(r.secretVariableName, true)) } : {}),
      ...(emails.length > 0 ? {
        email_configs: emails.map((r) => ({
          to: r.email!.to.join(', '),
          from: r.email!.from,
          smarthost: r.email!.smarthost,
          auth_username: r.email!.username,
          auth_password_file: `${SECRETS}/${r.secretVariableName}`,
          require_tls: true,
          send_resolved: true,
        })),
      } : {}),
    };
  };
  const interval = promDuration(model.deadMansSwitch.interval);
  // Alertmanager flushes a group every group_interval and repeats a notification only when
  // repeat_interval has passed *strictly* before the flush. With both equal, the ping would skip
  // every other flush (twice the interval); a repeat_interval below the group_interval makes each
  // flush ping, so the watchdog's period is the interval itself.
  const repeat = promDuration(Duration.seconds(model.deadMansSwitch.interval.toSeconds() / 2));
  const config = {
    route: {
      receiver: receiverGroup(model.defaultReceivers),
      group_by: ['alertname', 'environment', 'check', 'instance'],
      group_wait: '30s',
      group_interval: '5m',
      repeat_interval: '4h',
      routes: [
        { matchers: ['alertname="Watchdog"'], receiver: DEADMAN, group_wait: '0s', group_interval: interval, repeat_interval: repeat },
        ...[...groups.keys()].map((name) => ({ matchers: [`notify="${name}"`], receiver: name })),
      ],
    },
    inhibit_rules: [
      // While Prometheus is down its alerts expire in Alertmanager: held, not reported resolved.
      { source_matchers: [`alertname="${MonitoringAlert.PROMETHEUS_DOWN.name}"`], target_matchers: [`alertname!~"${MonitoringAlert.PROMETHEUS_DOWN.name}|${MonitoringAlert.WATCHDOG.name}"`], equal: ['prober'] },
      { source_matchers: [`alertname="${MonitoringAlert.MONITORING_TARGET_DOWN.name}"`], target_matchers: [`alertname="${MonitoringAlert.MONITORING_DATA_MISSING.name}"`], equal: ['instance'] },
      { source_matchers: [`alertname="${MonitoringAlert.DISK_ABOVE_SPLIT_THRESHOLD.name}"`], target_matchers: [`alertname="${MonitoringAlert.DISK_ABOVE_VOLUME_THRESHOLD.name}"`], equal: ['instance', 'mountpoint'] },
      // No inhibit rule for TlsCertificateExpiring: one check fails once per address family, and an inhibit rule (equal
      // on the check) would hide the certificate while one family fails and the other serves it. Its expression steps aside.
    ],
    receivers: [
      { name: DEADMAN, webhook_configs: [relayWebhook(model.deadmanVariable, false)] },
      ...[...groups.entries()].map(([name, receivers]) => ({ name, ...configOf(receivers) })),
    ],
  };
  const yaml = stringify(config, { lineWidth: 0, aliasDuplicateObjects: false, defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN' });
  return HEADER('Alertmanager configuration template', model) + yaml;
}

/**
 * The lines of `secrets/expected`: variable, kind (`url` goes to the relay, `password` into a file), the
 * declared host, and for a URL its declared port and scheme: the egress allowlist opens that port alone, and a
 * URL's token must not travel in clear text.
 */
export function expectedSecrets(model: ProberModel): string {
  const lines = [
    `${model.deadmanVariable} url ${model.deadMansSwitch.hostname} ${model.deadMansSwitch.port.from} https`,
    ...receiversOf(model).map((r) => (r.kind === AlertReceiverKind.WEBHOOK
      ? `${r.secretVariableName} url ${r.hostname} ${r.port.from} https`
      : `${r.secretVariableName} password ${r.hostname}`)),
  ];
  return `${lines.join('\n')}\n`;
}

/** Lines a drop-in adds to its unit's [Unit] and [Service] sections, besides the command line and the memory cap. */
export interface DropInExtras {
  readonly unit?: readonly string[];
  readonly service?: readonly string[];
}

/**
 * A systemd drop-in that replaces a Debian unit's command line and caps its memory. GOMEMLIMIT makes
 * the Go runtime collect garbage harder before the cap, rather than be killed at it.
 */
export function dropIn(execStart: string[], memoryMaxMib: number, extras: DropInExtras = {}): string {
  const unit = [...IDENTITY_UNIT_LINES.unit, ...(extras.unit ?? [])];
  const service = [...IDENTITY_UNIT_LINES.service, ...(extras.service ?? [])];
  return `[Unit]\n${unit.join('\n')}\n\n[Service]\n${service.join('\n')}\nExecStart=\nExecStart=${execStart.join(' ')}\n`
    + `MemoryMax=${memoryMaxMib}M\nEnvironment=GOMEMLIMIT=${Math.floor(memoryMaxMib * 0.8)}MiB\n`;
}

export function prometheusCommand(resources: ProberResources): string[] {
  return [SERVICES.prometheus.binary, `--config.file=${ETC}/prometheus.yml`, '--storage.tsdb.path=/var/lib/prometheus/metrics2',
    `--storage.tsdb.retention.time=${resources.retentionTime}`, `--storage.tsdb.retention.size=${resources.retentionSize}`,
    `--web.listen-address=127.0.0.1:${PORTS.prometheus}`, `--web.config.file=${WEB_CONFIG}`,
    // After a restart every alert with a `for` of a minute or more comes back firing within a minute
    // (not 10), and after an outage of up to a day: before Alertmanager lets it expire (4 resend delays).
    '--rules.alert.for-grace-period=1m', '--rules.alert.for-outage-tolerance=1d'];
}

export function alertmanagerCommand(): string[] {
  // Its webhook URLs are the relay's, with no token; the wrapper still cuts any URL in its log to its host, should a
  // receiver's answer or a future setting hold one.
  return [REDACT_LOG, SERVICES.alertmanager.binary, `--config.file=${ETC}/alertmanager.yml`, `--storage.path=${ALERTMANAGER_DATA_DIR}`,
    `--web.listen-address=127.0.0.1:${PORTS.alertmanager}`, `--web.config.file=${WEB_CONFIG}`, '--cluster.listen-address='];
}

/**
 * Who Alertmanager runs as: a user of its own, whose group alone (with root) reads the SMTP passwords, as a
 * supplementary group. Debian's unit runs it as `prometheus`, as it runs Prometheus and the exporters, which could then
 * read them. Its primary group stays `prometheus` (the web password, its configuration), so that StateDirectory=, which
 * re-owns Debian's data directory at every start, leaves it ALERTMANAGER_USER:prometheus 0775: writable by Alertmanager
 * run as `prometheus` too, by an earlier bundle after a rollback, or by Debian's unit after the package's postinst hands
 * the directory back to `prometheus` on an upgrade (the next start re-owns it). ALERTMANAGER_USER_UNIT makes the user
 * first: after a reboot between the rollout writing this drop-in and the setup's run, User= would name no user (217/USER).
 * Known limit: `prometheus` owns /var/lib/prometheus, so it can put a symlink where the data directory is. systemd 252
 * (Debian 12) refuses to re-own through it (Alertmanager fails to start: 238/STATE_DIRECTORY); a systemd that followed it
 * would hand the target to group `prometheus`. Look again when the machines move to a newer systemd.
 */
export function alertmanagerRunsAs(): DropInExtras {
  return { unit: [`Wants=${ALERTMANAGER_USER_UNIT}.service`, `After=${ALERTMANAGER_USER_UNIT}.service`], service: [`User=${ALERTMANAGER_USER}`, 'Group=prometheus', `SupplementaryGroups=${ALERTMANAGER_USER}`, `StateDirectory=${ALERTMANAGER_STATE_DIRECTORY}`, 'StateDirectoryMode=0775'] };
}

/**
 * The sysusers.d declaration of Alertmanager's user and group (ALERTMANAGER_SYSUSERS). The setup and
 * ALERTMANAGER_USER_UNIT apply it with systemd-sysusers, which takes the passwd lock (two runs at once make it once),
 * finds a user made earlier and makes a group it lacks. Debian's systemd-sysusers.service applies it at boot only after
 * /usr changed (ConditionNeedsUpdate=/etc), hence the unit.
 */
export function alertmanagerSysusers(): string {
  return `# Alertmanager's own user, rendered by cdktf-sovereign-hetzner: it alone (with root) reads the SMTP passwords.\n`
    + `u ${ALERTMANAGER_USER} - "Alertmanager (sovereign-monitoring)" /nonexistent /usr/sbin/nologin\n`;
}

/**
 * The unit that makes Alertmanager's user before Alertmanager starts (its drop-in wants it); quick, and a no-op once made.
 * No machine-identity check: on a clone it makes a local user and sends nothing, and the check would hold Alertmanager's
 * start on the metadata service.
 * systemd finds the program on its own path, as Debian's systemd-sysusers.service does (`/bin` or `/usr/bin`).
 */
export function alertmanagerUserUnit(): string {
  return [
    '[Unit]', "Description=Makes Alertmanager's own user, before Alertmanager starts", '',
    '[Service]', 'Type=oneshot', `ExecStart=systemd-sysusers ${ALERTMANAGER_SYSUSERS}`, '',
  ].join('\n');
}

/**
 * The unit of the alert relay. Root, for its root-only file of URLs, but without any capability (not even reading
 * another user's file), on a read-only system: it reads two files and talks HTTP.
 */
export function alertRelayUnit(): string {
  return [
    '[Unit]', "Description=Forwards Alertmanager's webhook notifications to the receivers' URLs, which Alertmanager never holds",
    ...IDENTITY_UNIT_LINES.unit, '',
    '[Service]', ...IDENTITY_UNIT_LINES.service, `ExecStart=${ALERT_RELAY} 127.0.0.1:${PORTS.alertRelay} ${RELAY_URLS} ${WEB_PASSWORD}`,
    'Restart=always', 'RestartSec=5', `MemoryMax=${HELPER_MEMORY_MAX_MIB.alertRelay}M`,
    // One malloc arena, not one a thread: what freed bodies took is used again, and the script's memory bound holds
    // (Python's lock lets one thread run at a time, so more arenas bought nothing).
    'Environment=MALLOC_ARENA_MAX=1',
    'CapabilityBoundingSet=', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes', 'PrivateDevices=yes', '',
    '[Install]', 'WantedBy=multi-user.target', '',
  ].join('\n');
}

export function blackboxCommand(): string[] {
  return [SERVICES.blackbox.binary, `--config.file=${ETC}/blackbox.yml`, `--web.listen-address=127.0.0.1:${PORTS.blackbox}`];
}

/**
 * Node exporter: on loopback, and when a monitoring machine scrapes it over the private network also on the
 * machine's private address (`privateAddress`), never on every interface: the Hetzner firewall does not
 * filter the private network, and a detached firewall would leave the public interface open.
 */
export function nodeExporterCommand(profile: MonitoringProfile, privateAddress?: string): string[] {
  return [SERVICES.node.binary, `--web.listen-address=127.0.0.1:${PORTS.node}`,
    ...(privateAddress === undefined ? [] : [`--web.listen-address=${privateAddress}:${PORTS.node}`]),
    `--collector.textfile.directory=${TEXTFILE_DIR}`,
    ...(profile.hostMetrics ? [] : ['--collector.disable-defaults', '--collector.textfile', '--collector.filesystem'])];
}

/**
 * What node exporter's unit adds when it listens on the private address: it cannot bind the address before
 * Hetzner's private network brings it up, which network-online.target does not wait for. It waits for the
 * address (up to 2 minutes); should it still be missing, the bind fails and Debian's `Restart=on-failure`
 * starts it again, which waits again, until the address is there. Debian's unit sets no start timeout, and
 * systemd's default (90 s) would kill the wait before it ends: the drop-in sets one that covers it.
 */
export function nodeExporterWaitsFor(privateAddress: string): DropInExtras {
  return {
    unit: ['Wants=network-online.target', 'After=network-online.target'],
    service: [`ExecStartPre=-${waitForAddressCommand(privateAddress, ADDRESS_WAIT_SECONDS)}`, `TimeoutStartSec=${ADDRESS_WAIT_START_TIMEOUT_SECONDS}s`],
  };
}

/** The watch of Prometheus: where to look, what to tell Alertmanager, and how often. */
export function renderPrometheusWatch(model: ProberModel): string {
  return `${JSON.stringify({
    prometheus: `http://127.0.0.1:${PORTS.prometheus}`,
    alertmanager: `http://127.0.0.1:${PORTS.alertmanager}`,
    user: WEB_USER,
    passwordFile: WEB_PASSWORD,
    alertname: MonitoringAlert.PROMETHEUS_DOWN.name,
    labels: { prober: model.prober, severity: AlertSeverity.CRITICAL, notify: notifyOf(model) },
    // Every 15 s; two failed looks in a row is down. Alertmanager lets Prometheus's alerts expire 4
    // minutes after their last resend, so the hold is in place long before.
    everySeconds: 15,
    failuresToAlert: 2,
    // After Prometheus is back, its alerts return within a minute (for-grace-period) plus a resend.
    holdAfterRecoverySeconds: 180,
  }, null, 1)}\n`;
}

/** amtool's HTTP configuration on the prober: `amtool --http.config.file=/etc/sovereign-monitoring/web/amtool.yml …` as root. */
export function renderAmtoolConfig(): string {
  return `# amtool's HTTP configuration, rendered by cdktf-sovereign-hetzner: basic auth towards Alertmanager.\n${stringify({ basic_auth: BASIC_AUTH }, { lineWidth: 0 })}`;
}

/** The unit of the watch of Prometheus; as the daemons' user, which reads the web password. */
export function prometheusWatchUnit(): string {
  return [
    '[Unit]', "Description=Tells Alertmanager when Prometheus is down, so that Prometheus's alerts are held, not reported resolved",
    ...IDENTITY_UNIT_LINES.unit, `After=${SERVICES.alertmanager.unit}.service`, '',
    '[Service]', ...IDENTITY_UNIT_LINES.service, `ExecStart=${PROMETHEUS_WATCH}`, 'User=prometheus', 'Restart=always', 'RestartSec=5', `MemoryMax=${HELPER_MEMORY_MAX_MIB.prometheusWatch}M`, '',
    '[Install]', 'WantedBy=multi-user.target', '',
  ].join('\n');
}
