// The on-machine tooling of the monitoring, kept as string constants so that the compiled library
// carries them. Rendered into cloud-init by EnvironmentMonitoring and ErrorMonitoring, and run as they
// are by the live test (__tests__/monitoring). SOVEREIGN_ROOT moves every path under a directory,
// which only the tests do.

/**
 * `sovereign-monitoring-setup <action>`, run by cloud-init at first boot (idempotent):
 * - `unpack`: writes the files of the compressed bundle cloud-init wrote (configuration, job hook);
 * - `alertmanager`: decodes the secrets cloud-init wrote (base64, root-only) into the Alertmanager
 *   configuration (webhook URLs) and password files (SMTP), readable by the daemons' group only, and
 *   refuses a URL whose host is not the declared one (the egress allowlist would block it);
 * - `watch`: hooks the job units listed in `watched-units` (backups, restore drill) so that every
 *   run records its outcome for node exporter's textfile collector, and records when watching began;
 * - `error-monitoring <environment> <hosts>`: writes the DSN into the applications' environment file.
 */
export const SETUP_SCRIPT = `#!/usr/bin/python3
# sovereign-monitoring-setup, rendered by cdktf-sovereign-hetzner. Secrets never reach argv or logs.
import base64, grp, json, os, sys, time, urllib.parse

ROOT = os.environ.get("SOVEREIGN_ROOT", "")
ETC = ROOT + "/etc/sovereign-monitoring"


def fail(message):
    sys.exit("sovereign-monitoring-setup: " + message)


def secret(name):
    try:
        with open("%s/secrets/%s.b64" % (ETC, name), "rb") as f:
            value = base64.b64decode(f.read().strip()).decode().strip()
    except (OSError, ValueError) as e:
        fail("the secret %s cannot be read (%s)" % (name, type(e).__name__))
    if not value:
        fail("the secret %s is empty: set its Terraform variable" % name)
    return value


def write(path, text, mode, group=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with os.fdopen(os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(text)
    if group and os.geteuid() == 0:
        try:
            os.chown(path + ".tmp", 0, grp.getgrnam(group).gr_gid)
        except KeyError:
            pass
    os.chmod(path + ".tmp", mode)
    os.replace(path + ".tmp", path)


def host_of(url):
    try:
        return (urllib.parse.urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def unpack():
    with open(ETC + "/bundle.json") as f:
        for path, spec in json.load(f).items():
            write(ROOT + path, spec["content"], int(spec["mode"], 8))


def alertmanager():
    with open(ETC + "/alertmanager.yml.in") as f:
        config = f.read()
    with open(ETC + "/secrets/expected") as f:
        expected = [line.split() for line in f if line.strip()]
    for name, kind, host in expected:
        value = secret(name)
        if kind == "password":
            write("%s/secrets/%s" % (ETC, name), value, 0o640, "prometheus")
            continue
        if host_of(value) != host:
            fail("the URL in %s points to %r, not to the declared host %s; the egress allowlist lets only %s through"
                 % (name, host_of(value), host, host))
        placeholder = '"__SECRET_%s__"' % name
        if placeholder not in config:
            fail("the configuration has no place for " + name)
        config = config.replace(placeholder, json.dumps(value))
    write(ETC + "/alertmanager.yml", config, 0o640, "prometheus")


def watch():
    path = ETC + "/watched-units"
    units = [u.strip() for u in open(path) if u.strip()] if os.path.exists(path) else []
    metric = "sovereign_job_watched_since_timestamp_seconds"
    for unit in units:
        write("%s/etc/systemd/system/%s.service.d/50-sovereign-monitoring.conf" % (ROOT, unit),
              "[Service]\\nExecStopPost=%s/usr/local/sbin/sovereign-job-metric %s\\n" % (ROOT, unit), 0o644)
        since = "%s/var/lib/prometheus/node-exporter/sovereign-job-%s-watched.prom" % (ROOT, unit)
        if not os.path.exists(since):
            write(since, "# HELP %s Unix time from which the job unit's outcomes are recorded.\\n# TYPE %s gauge\\n%s{unit=\\"%s\\"} %d\\n"
                  % (metric, metric, metric, unit, time.time()), 0o644)


def error_monitoring(environment, hosts):
    dsn = secret("error_monitoring_dsn")
    if host_of(dsn) not in hosts.split(","):
        fail("the DSN points to %r, not to the declared error-monitoring host(s) %s" % (host_of(dsn), hosts))
    write(ROOT + "/etc/sovereign/error-monitoring.env", "SENTRY_DSN=%s\\nSENTRY_ENVIRONMENT=%s\\n" % (dsn, environment), 0o600)


actions = {"unpack": unpack, "alertmanager": alertmanager, "watch": watch, "error-monitoring": error_monitoring}
if len(sys.argv) < 2 or sys.argv[1] not in actions:
    fail("usage: sovereign-monitoring-setup unpack | alertmanager | watch | error-monitoring <environment> <hosts>")
actions[sys.argv[1]](*sys.argv[2:])
`;

/**
 * `sovereign-job-metric <unit>`: the ExecStopPost hook of a watched job unit. It records the time
 * of the job's last success or last failure for node exporter's textfile collector, from the result
 * systemd reports: the same outcome the job reports to its heartbeat, as its exit status.
 */
export const JOB_METRIC_SCRIPT = `#!/bin/sh
# sovereign-job-metric <unit>: rendered by cdktf-sovereign-hetzner. ExecStopPost hook: records the
# outcome of a job unit (systemd sets SERVICE_RESULT) for node exporter's textfile collector.
set -eu
unit=$1
dir=\${SOVEREIGN_ROOT:-}/var/lib/prometheus/node-exporter
if [ "\${SERVICE_RESULT:-}" = success ]; then outcome=success; else outcome=failure; fi
metric=sovereign_job_last_\${outcome}_timestamp_seconds
mkdir -p "$dir"
tmp=$(mktemp "$dir/.sovereign-job.XXXXXX")
printf '# HELP %s Unix time of the job unit'"'"'s last %s.\\n# TYPE %s gauge\\n%s{unit="%s"} %s\\n' \\
  "$metric" "$outcome" "$metric" "$metric" "$unit" "$(date +%s)" >"$tmp"
chmod 0644 "$tmp"
mv "$tmp" "$dir/sovereign-job-$unit-$outcome.prom"
`;
