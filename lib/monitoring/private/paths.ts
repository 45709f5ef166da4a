// Where the monitoring tooling lives on a machine, and the loopback ports of its daemons.

export const ETC = '/etc/sovereign-monitoring';
export const SECRETS = `${ETC}/secrets`;
export const SBIN = '/usr/local/sbin';
export const SETUP = `${SBIN}/sovereign-monitoring-setup`;
export const JOB_METRIC = `${SBIN}/sovereign-job-metric`;
export const UNITS = '/etc/systemd/system';
/** The web configuration of Prometheus and Alertmanager: basic auth, so that other local users cannot read their APIs. */
export const WEB_CONFIG = `${ETC}/web/web.yml`;
/** The password of WEB_USER, made on the machine by the setup; readable by root and the daemons' group only. */
export const WEB_PASSWORD = `${SECRETS}/web_password`;
export const WEB_USER = 'sovereign';
/**
 * The system user and group Alertmanager runs as (its drop-in's User=): Debian runs Prometheus, Alertmanager and the
 * exporters all as `prometheus`, which could then read the SMTP passwords. ALERTMANAGER_SYSUSERS declares it.
 */
export const ALERTMANAGER_USER = 'sovereign-alertmanager';
/**
 * Alertmanager's data directory (silences, notification log) below /var/lib, as its drop-in's StateDirectory= names
 * it (it re-owns the directory at every start): Debian's, so that a package upgrade or a rollback finds the same data.
 */
export const ALERTMANAGER_STATE_DIRECTORY = 'prometheus/alertmanager';
export const ALERTMANAGER_DATA_DIR = `/var/lib/${ALERTMANAGER_STATE_DIRECTORY}`;
/** The sysusers.d file of ALERTMANAGER_USER, which the setup and ALERTMANAGER_USER_UNIT apply with systemd-sysusers. */
export const ALERTMANAGER_SYSUSERS = `/etc/sysusers.d/${ALERTMANAGER_USER}.conf`;
/** Applies ALERTMANAGER_SYSUSERS before every start of Alertmanager (its drop-in wants it), a boot included. */
export const ALERTMANAGER_USER_UNIT = 'sovereign-alertmanager-user';
/** amtool's HTTP configuration (basic auth from WEB_PASSWORD), for root on the prober. */
export const AMTOOL_CONFIG = `${ETC}/web/amtool.yml`;
/** Runs a daemon with its log lines' URLs cut to their host, so that no token reaches the journal. */
export const REDACT_LOG = `${SBIN}/sovereign-redact-log`;
/** Tells Alertmanager that Prometheus is down, so that its alerts are held rather than resolved. */
export const PROMETHEUS_WATCH = `${SBIN}/sovereign-prometheus-watch`;
export const PROMETHEUS_WATCH_CONFIG = `${ETC}/prometheus-watch.json`;
export const PROMETHEUS_WATCH_UNIT = 'sovereign-prometheus-watch';
/**
 * Forwards Alertmanager's webhook deliveries to the receivers' URLs, which it alone reads (RELAY_URLS): Alertmanager 0.25
 * (Debian 12) shows a webhook's URL in clear in its configuration and its status API, and has no `url_file`.
 */
export const ALERT_RELAY = `${SBIN}/sovereign-alert-relay`;
export const ALERT_RELAY_UNIT = 'sovereign-alert-relay';
/** The webhook URLs by secret variable, as JSON; written by the setup, readable by root alone. */
export const RELAY_URLS = `${SECRETS}/webhook-urls.json`;
/** The secret variables of the dead-man's switch's ping URLs start so; the relay knows the ping's posts by it. */
export const DEADMAN_VARIABLE_PREFIX = 'monitoring_deadman_ping_url_';
/** The secret variable of the error-monitoring DSN; its file under SECRETS (`<name>.b64`) is named so, and the setup reads it by it. */
export const ERROR_MONITORING_DSN_VARIABLE = 'error_monitoring_dsn';
/** Debian's node exporter reads its textfile collector from here. */
export const TEXTFILE_DIR = '/var/lib/prometheus/node-exporter';
/** The environment file applications read their Sentry-protocol settings from. */
export const ERROR_MONITORING_ENV = '/etc/sovereign/error-monitoring.env';

export const PORTS = { prometheus: 9090, alertmanager: 9093, blackbox: 9115, node: 9100, alertRelay: 9095 } as const;

/** The Debian packages and their systemd units. */
export const SERVICES = {
  prometheus: { package: 'prometheus', unit: 'prometheus', binary: '/usr/bin/prometheus' },
  alertmanager: { package: 'prometheus-alertmanager', unit: 'prometheus-alertmanager', binary: '/usr/bin/prometheus-alertmanager' },
  blackbox: { package: 'prometheus-blackbox-exporter', unit: 'prometheus-blackbox-exporter', binary: '/usr/bin/prometheus-blackbox-exporter' },
  node: { package: 'prometheus-node-exporter', unit: 'prometheus-node-exporter', binary: '/usr/bin/prometheus-node-exporter' },
} as const;

/** The units of the prober's daemons, on the machine that probes (SERVICES above). */
export const PROBER_UNITS: readonly string[] = [SERVICES.prometheus.unit, SERVICES.alertmanager.unit, SERVICES.blackbox.unit];
