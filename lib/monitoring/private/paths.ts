// Where the monitoring tooling lives on a machine, and the loopback ports of its daemons.

export const ETC = '/etc/sovereign-monitoring';
export const SECRETS = `${ETC}/secrets`;
export const SBIN = '/usr/local/sbin';
export const SETUP = `${SBIN}/sovereign-monitoring-setup`;
export const JOB_METRIC = `${SBIN}/sovereign-job-metric`;
export const UNITS = '/etc/systemd/system';
/** Debian's node exporter reads its textfile collector from here. */
export const TEXTFILE_DIR = '/var/lib/prometheus/node-exporter';
/** The environment file applications read their Sentry-protocol settings from. */
export const ERROR_MONITORING_ENV = '/etc/sovereign/error-monitoring.env';

export const PORTS = { prometheus: 9090, alertmanager: 9093, blackbox: 9115, node: 9100 } as const;

/** The Debian packages and their systemd units. */
export const SERVICES = {
  prometheus: { package: 'prometheus', unit: 'prometheus', binary: '/usr/bin/prometheus' },
  alertmanager: { package: 'prometheus-alertmanager', unit: 'prometheus-alertmanager', binary: '/usr/bin/prometheus-alertmanager' },
  blackbox: { package: 'prometheus-blackbox-exporter', unit: 'prometheus-blackbox-exporter', binary: '/usr/bin/prometheus-blackbox-exporter' },
  node: { package: 'prometheus-node-exporter', unit: 'prometheus-node-exporter', binary: '/usr/bin/prometheus-node-exporter' },
} as const;
