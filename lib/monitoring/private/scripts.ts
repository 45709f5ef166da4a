// The on-machine tooling of the monitoring, kept as string constants so that the compiled library
// carries them. Rendered into cloud-init by EnvironmentMonitoring and ErrorMonitoring, and run as they
// are by the live test (__tests__/monitoring). SOVEREIGN_ROOT moves every path under a directory,
// which only the tests do.

import { JOB_HOOK_DROP_IN } from './job-metrics';
import { HELPER_MEMORY_MAX_MIB } from './profile';
import { TEXTFILE_CD_FUNCTION } from './textfile-dir-shell';
import { SMTP_PASSWORD_FILE } from './receiver-names';
import { ALERTMANAGER_DATA_DIR, ALERTMANAGER_SYSUSERS, ALERTMANAGER_USER, DEADMAN_VARIABLE_PREFIX, ERROR_MONITORING_DSN_VARIABLE, ERROR_MONITORING_ENV, ETC as MONITORING_ETC, JOB_METRIC, PROMETHEUS_WATCH_CONFIG, PORTS, PROBER_UNITS, TEXTFILE_DIR, UNITS, WEB_USER } from './paths';

/**
 * `sovereign-monitoring-setup <action>`, run by cloud-init at first boot (idempotent):
 * - `unpack`: writes the files of the compressed bundle cloud-init wrote (configuration, job hook);
 * - `alertmanager`: makes the password of Prometheus's and Alertmanager's web APIs (basic auth), and
 *   decodes the secrets cloud-init wrote (base64, root-only) into the alert relay's URL file (webhook
 *   URLs, root-only) and password files (SMTP, readable by root and Alertmanager's own group only, which
 *   it makes: Prometheus and the exporters run as `prometheus`, Alertmanager as ALERTMANAGER_USER), and
 *   writes the Alertmanager configuration, then removes the password files of receivers no longer configured (and
 *   the .tmp of such a file's write cut short);
 *   refuses a URL whose host is not the declared one (the egress allowlist would block it);
 * - `watch`: hooks the job units listed in `watched-units` (backups, restore drill) so that every
 *   run records its outcome for node exporter's textfile collector, and records when watching began; removes the
 *   hook's drop-in from units it no longer watches;
 * - `error-monitoring <environment> <hosts>`: writes the DSN into the applications' environment file;
 * - `retire-prober <files>`: on a machine that is not the prober (any longer), stops and disables the
 *   prober's Debian daemons if installed, removes the files the setup derived from its secrets and those under
 *   secrets/ readable by ALERTMANAGER_USER's group or by a group that is gone, and removes ALERTMANAGER_USER and its
 *   group (its data directory handed back to `prometheus`, never through a symlink).
 * Each `sovereign-monitoring-setup: removed …` line it prints reaches the deploy's output: the rollout agent shows such
 * lines of a step that succeeded (show_removals), and no other. So they name files and accounts, never a value.
 */
export const SETUP_SCRIPT = `#!/usr/bin/python3
# sovereign-monitoring-setup, rendered by cdktf-sovereign-hetzner. Secrets never reach argv or logs.
import base64, errno, glob, grp, json, os, pwd, re, secrets, stat, subprocess, sys, time, urllib.parse, warnings

ROOT = os.environ.get("SOVEREIGN_ROOT", "")
ETC = ROOT + "${MONITORING_ETC}"


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


def write(path, text, mode, group=None, dir_fd=None):
    # <path>.tmp, then a rename. The .tmp is made anew, never opened through what is there: a symlink planted at it (the
    # textfile collector's directory sits in prometheus's /var/lib/prometheus) had root write, chown and chmod its target.
    # One a crashed run left goes first; its owner and mode are set on the open file, not by its name, which another
    # process may swap. All of it goes relative to the directory's fd (open_owned_dir), never through its path, which prometheus
    # could swap for a symlink meanwhile. The data reaches the disk before the rename, and the rename after it: a power
    # loss leaves the old file or the new one, never an empty one (the \`since\` file, written once, was never repaired).
    directory, name = os.path.split(path)
    fd_dir = open_owned_dir(directory) if dir_fd is None else dir_fd
    try:
        tmp = name + ".tmp"
        discard(path + ".tmp", fd_dir)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=fd_dir)
        except FileExistsError:
            fail("%s appeared again while this run wrote %s: another process writes there; stop it, then deploy again"
                 % (path[len(ROOT):] + ".tmp", path[len(ROOT):]))
        with os.fdopen(fd, "w") as f:
            f.write(text)
            if group and os.geteuid() == 0:
                try:
                    os.fchown(fd, 0, grp.getgrnam(group).gr_gid)
                except KeyError:
                    pass
            os.fchmod(fd, mode)
            f.flush()
            os.fsync(fd)
        os.replace(tmp, name, src_dir_fd=fd_dir, dst_dir_fd=fd_dir)
        os.fsync(fd_dir)
    finally:
        if dir_fd is None:
            os.close(fd_dir)


def open_owned_dir(directory):
    # The directory a file is written in, as an fd, made if missing. Opened without following a symlink, and refused
    # unless it is this run's user's (root's): prometheus owns /var/lib/prometheus, and so can swap the textfile
    # collector's directory in it (root's, as Debian ships it) for a symlink to /etc or for a directory of its own.
    for attempt in (1, 2):
        try:
            fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
            break
        except FileNotFoundError:
            if attempt == 2:
                raise
            os.makedirs(directory, exist_ok=True)
        except OSError as e:
            if e.errno not in (errno.ELOOP, errno.ENOTDIR):
                raise
            fail("%s is a symlink or not a directory: nothing is written through it; remove it (the setup makes the "
                 "directory again), then deploy again" % directory[len(ROOT):])
    owner = os.fstat(fd).st_uid
    if owner != os.geteuid():
        os.close(fd)
        fail("%s belongs to uid %d, not to this run's user (uid %d), who writes there: its owner could swap what it holds; "
             "remove it (the setup makes it again) or chown it to root, then deploy again" % (directory[len(ROOT):], owner, os.geteuid()))
    return fd


def discard(path, dir_fd=None):
    # Removes the file or symlink at path (never what a symlink points to), if there is one; by its name in dir_fd, the
    # fd of path's directory, when given.
    try:
        if dir_fd is None:
            os.unlink(path)
        else:
            os.unlink(os.path.basename(path), dir_fd=dir_fd)
    except FileNotFoundError:
        pass
    except OSError as e:
        fail("%s cannot be removed (%s): remove it by hand, then deploy again" % (path[len(ROOT):], e.strerror or type(e).__name__))


def host_of(url):
    try:
        return (urllib.parse.urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def unpack():
    with open(ETC + "/bundle.json") as f:
        for path, spec in json.load(f).items():
            write(ROOT + path, spec["content"], int(spec["mode"], 8))


def web():
    # Prometheus's and Alertmanager's APIs answer only with this password (Alertmanager's status shows
    # the receivers' URLs). Made here, once; readable by root and the daemons' group only.
    path = ETC + "/secrets/web_password"
    try:
        with open(path) as f:
            password = f.read().strip()
    except OSError:
        password = ""
    if len(password) < 32:
        password = secrets.token_urlsafe(32)
    write(path, password, 0o640, "prometheus")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt
    hashed = None
    try:
        with open(ETC + "/web/web.yml") as f:
            previous = f.read().split("sovereign: ", 1)[1].split()[0].strip('"')
        if crypt.crypt(password, previous) == previous:
            hashed = previous
    except (OSError, IndexError):
        pass
    if hashed is None:
        hashed = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 10))
    if not hashed or not hashed.startswith("$2"):
        fail("this python3 cannot make a bcrypt hash for the web configuration")
    write(ETC + "/web/web.yml", "# Basic auth of Prometheus and Alertmanager, made by sovereign-monitoring-setup.\\nbasic_auth_users:\\n  sovereign: \\"%s\\"\\n" % hashed,
          0o640, "prometheus")


def alertmanager_user():
    # Alertmanager's own user and group (its drop-in runs it so): the SMTP passwords are readable by that group, not by
    # \`prometheus\`, which Debian runs Prometheus and the exporters as. systemd-sysusers applies the bundle's declaration:
    # it finds a user made earlier, makes a group that user lacks, and holds the passwd lock, so two runs at once make it
    # once. The user is the machine's own even under SOVEREIGN_ROOT (the tests run Alertmanager's identity with it).
    if os.geteuid() != 0:
        return
    p = subprocess.run(["systemd-sysusers", ROOT + "${ALERTMANAGER_SYSUSERS}"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        fail("systemd-sysusers could not make the user ${ALERTMANAGER_USER} (exit %d): %s" % (p.returncode, p.stdout.decode("utf-8", "replace").strip()[-400:]))


def alertmanager():
    alertmanager_user()
    web()
    with open(ETC + "/alertmanager.yml.in") as f:
        config = f.read()
    with open(ETC + "/secrets/expected") as f:
        expected = [line.split() for line in f if line.strip()]
    urls, passwords = {}, set()
    for name, kind, host, *url_rules in expected:
        value = secret(name)
        if kind == "password":
            write("%s/secrets/%s" % (ETC, name), value, 0o640, "${ALERTMANAGER_USER}")
            passwords.add(name)
            continue
        # Alertmanager's log escapes a quote or a backslash, and the redaction of its log cuts a URL at a space:
        # the rest of the token would show. No URL holds them, nor other characters outside ASCII, unencoded.
        if re.search(r'[^\\x21-\\x7e]|["\\\\]', value):
            fail("the URL in %s holds a space, a quote, a backslash or a character outside ASCII; write it percent-encoded "
                 "(%%20 for a space, %%22 for a quote, %%5C for a backslash), as its service shows it" % name)
        if host_of(value) != host:
            fail("the URL in %s points to %r, not to the declared host %s; the egress allowlist lets only %s through"
                 % (name, host_of(value), host, host))
        if url_rules:
            port, scheme = int(url_rules[0]), url_rules[1]
            try:
                parts = urllib.parse.urlsplit(value)
                actual_port = parts.port or {"https": 443, "http": 80}.get(parts.scheme, 0)
            except ValueError:
                parts, actual_port = None, 0
            # Only the scheme and port are named: the rest of the URL is the secret.
            if parts is None or parts.scheme != scheme:
                fail("the URL in %s is not %s://; its token would travel in clear text" % (name, scheme))
            if actual_port != port:
                fail("the URL in %s uses port %d, not the declared %d; the egress allowlist lets only port %d to %s through"
                     % (name, actual_port, port, port, host))
        if '"http://127.0.0.1:${PORTS.alertRelay}/%s"' % name not in config:
            fail("the configuration sends nothing to " + name)
        urls[name] = value
    # Alertmanager posts to the relay on loopback; the relay alone (root) reads the URLs, each time it forwards one.
    write(ETC + "/secrets/webhook-urls.json", json.dumps(urls, indent=1, sort_keys=True) + "\\n", 0o600)
    write(ETC + "/alertmanager.yml", config, 0o640, "prometheus")
    # The password file of a receiver no longer configured (removed, or now a webhook) stayed, readable by Alertmanager's
    # group: it goes. Only the files this setup derives (secrets/<variable>, by its name's pattern), not one the
    # configuration still names; the .b64 cloud-init wrote goes with the bundle. So does the .tmp of a write cut short
    # (with its mode and group set already, it held the password too): the writes above replaced the configured ones'.
    remove_secret_files(lambda path, st: stale_password(path, passwords))


def stale_password(path, passwords):
    name = path[:-len(".tmp")] if path.endswith(".tmp") else path
    if not re.fullmatch(r"${SMTP_PASSWORD_FILE.source}", name):
        return None
    if name != path:
        return "left by a write cut short"
    return "its receiver is no longer configured" if path not in passwords else None


def watch():
    path = ETC + "/watched-units"
    units = [u.strip() for u in open(path) if u.strip()] if os.path.exists(path) else []
    metric = "sovereign_job_watched_since_timestamp_seconds"
    # The hook's drop-in on a unit no longer watched goes: one an earlier version left (before it went with the unit's
    # part, and before its "-") named a hook that may be gone, and systemd failed every run of that unit on it.
    # A .tmp of a write cut short goes with its drop-in (write removes those of the units still watched).
    for dropin in glob.glob("%s${UNITS}/*.service.d/${JOB_HOOK_DROP_IN}" % ROOT) + glob.glob("%s${UNITS}/*.service.d/${JOB_HOOK_DROP_IN}.tmp" % ROOT):
        if os.path.basename(os.path.dirname(dropin))[:-len(".service.d")] not in units:
            discard(dropin)
            try:
                os.rmdir(os.path.dirname(dropin))  # its directory too, once empty (never one holding another drop-in)
            except OSError:
                pass
    textfiles = None
    for unit in units:
        # "-": the hook's failure, or its absence (the monitoring left the machine, and the rollout removed the hook
        # with it, while the job stays), does not fail the job: without it, systemd failed every run of the unit.
        write("%s${UNITS}/%s.service.d/${JOB_HOOK_DROP_IN}" % (ROOT, unit),
              "[Service]\\nExecStopPost=-%s${JOB_METRIC} %s\\n" % (ROOT, unit), 0o644)
        since = "%s${TEXTFILE_DIR}/sovereign-job-%s-watched.prom" % (ROOT, unit)
        # In node exporter's directory, opened once (open_owned_dir: never through a symlink): the file is looked at and written
        # relative to it. One that holds no time for the unit (empty: a power loss cut an earlier version's write) is
        # written again, else its alert fired for good.
        if textfiles is None:
            textfiles = open_owned_dir(os.path.dirname(since))
        if not recorded_since(since, textfiles, metric, unit):
            write(since, "# HELP %s Unix time from which the job unit's outcomes are recorded.\\n# TYPE %s gauge\\n%s{unit=\\"%s\\"} %d\\n"
                  % (metric, metric, metric, unit, time.time()), 0o644, dir_fd=textfiles)
    if textfiles is not None:
        os.close(textfiles)


def recorded_since(path, dir_fd, metric, unit):
    # Whether the file at path (in dir_fd) is a regular file that gives the unit's time; read without following a symlink.
    try:
        fd = os.open(os.path.basename(path), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    except OSError:
        return False
    # Bytes, decoded with replacement: a since file a crash or a full disk corrupted gives no time (written again), not
    # a UnicodeDecodeError that ends watch.
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        text = f.read(4096).decode("utf-8", errors="replace")
    return re.search(r'^%s\\{unit="%s"\\} [0-9]+$' % (metric, re.escape(unit)), text, re.M) is not None


def error_monitoring(environment, hosts):
    dsn = secret("${ERROR_MONITORING_DSN_VARIABLE}")
    if host_of(dsn) not in hosts.split(","):
        fail("the DSN points to %r, not to the declared error-monitoring host(s) %s" % (host_of(dsn), hosts))
    # The applications send the DSN's key and their error events (user data) to it.
    if urllib.parse.urlsplit(dsn).scheme != "https":
        fail("the DSN is not https://; its key and the error events would travel in clear text")
    write(ROOT + "${ERROR_MONITORING_ENV}", "SENTRY_DSN=%s\\nSENTRY_ENVIRONMENT=%s\\n" % (dsn, environment), 0o600)


def retire_prober(*derived):
    # The prober runs on another machine now (Phase 3's monitoring machine). Its Debian daemons would go on here
    # with the packages' defaults, holding memory the app needs, and the files made from the alert secrets would
    # stay. Both go; the metrics history stays in /var/lib/prometheus.
    for unit in ${JSON.stringify(PROBER_UNITS)}:
        if any(os.path.exists("%s%s/%s.service" % (ROOT, d, unit)) for d in ("/lib/systemd/system", "/usr/lib/systemd/system")):
            p = subprocess.run(["systemctl", "disable", "--now", unit + ".service"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            if p.returncode != 0:
                fail("systemctl disable --now %s.service exited %d: %s" % (unit, p.returncode, p.stdout.decode("utf-8", "replace").strip()[-400:]))
    for path in [p + tmp for p in derived for tmp in ("", ".tmp")]:  # with the .tmp of a write cut short
        if os.path.lexists(ROOT + path):
            discard(ROOT + path)
            print("sovereign-monitoring-setup: removed %s (the prober runs elsewhere)" % path)
    retire_alertmanager_user()


def retire_alertmanager_user():
    # Alertmanager is stopped (above); the rollout removed, with the prober's part, the sysusers.d file that declared its
    # user and the unit that applied it, so nothing makes the user again: it goes, and its group with it (Debian's
    # USERGROUPS_ENAB). Its data directory (silences, notification log) goes back to prometheus first, as Debian's
    # package has it: files of a removed user would belong to the next system user given its uid.
    remove_group_secrets()
    if listed("/etc/passwd"):  # where systemd-sysusers wrote it; absent on a machine that never probed, or a second run
        if os.geteuid() == 0:
            hand_back(ROOT + "${ALERTMANAGER_DATA_DIR}")
        code, out = account_tool("userdel", "${ALERTMANAGER_USER}")
        if code == 8:  # Debian's unit sets SendSIGKILL=no: an Alertmanager that ignored SIGTERM outlives disable --now
            fail("userdel ${ALERTMANAGER_USER} exited 8 (a process of the user still runs): %s; stop it: "
                 "systemctl kill -s KILL prometheus-alertmanager.service, then deploy again" % out)
        if code not in (0, 6):  # 6: no such user (another run removed it meanwhile)
            fail("userdel ${ALERTMANAGER_USER} exited %d: %s" % (code, out))
        if out:
            print(out)  # e.g. the group not removed because it has other members: groupdel below
        if code == 0:
            print("sovereign-monitoring-setup: removed the user ${ALERTMANAGER_USER} (the prober runs elsewhere)")
    # The group, once its user is gone: userdel leaves one that has other members, and a run before this step existed
    # left it too.
    if listed("/etc/group"):
        code, out = account_tool("groupdel", "${ALERTMANAGER_USER}")
        if out:
            print(out)
        if code == 0:
            print("sovereign-monitoring-setup: removed the group ${ALERTMANAGER_USER} (the prober runs elsewhere)")
        elif code == 8:  # another user's primary group: that user is not ours to remove
            print("sovereign-monitoring-setup: left the group ${ALERTMANAGER_USER}: another user's primary group")
        elif code != 6:
            fail("groupdel ${ALERTMANAGER_USER} exited %d: %s" % (code, out))


def remove_group_secrets():
    # Before userdel (which may remove the group) and groupdel: a file left readable by the group (0640) would be readable
    # by the next system group given its gid. Each is an SMTP password derived from a secret (the .b64 cloud-init wrote
    # stays, root-only) and read by Alertmanager alone, which runs here no more: removed, not kept under another group.
    # On a machine deployed by an earlier version, a receiver dropped then left one, which the derived files the rollout
    # names do not list (the alertmanager action now removes them at the deploy that drops the receiver).
    # A run of an earlier version removed the group and left such files with its gid, free now: they go too, and so does
    # any file here readable by a group that is gone (Debian's prometheus purged with its package). Only a file whose
    # group bits grant access: the next group given the gid could read no other. Removed rather than handed to root:root
    # 0600: the setup derives every group-readable file here again where a prober runs, and nothing reads them on this
    # machine, so a copy kept would only be a password more on its disk.
    groups = group_ids()
    if not groups:
        return  # no account files, or none read from them: no group can be told apart from a gone one
    gid = groups.get("${ALERTMANAGER_USER}")
    known = set(groups.values()) | {0}  # root's group is never gone, even from a damaged file

    def goes(path, st):
        if not st.st_mode & 0o070:
            return None
        if st.st_gid == gid:
            return "readable by the group ${ALERTMANAGER_USER}, which goes"
        if group_gone(st.st_gid, known):
            return "its group %d is gone, and the next group given that gid could read it" % st.st_gid
        return None
    remove_secret_files(goes)


def remove_secret_files(goes):
    # Removes each regular file under secrets/ for which goes(its path there, its lstat) gives a reason, and says so.
    # A symlink is not followed, nor removed (this setup makes none); the directory, root's, is opened without following
    # a symlink, and each name is looked at and unlinked relative to the fd fwalk listed it in.
    try:
        fd = os.open(ETC + "/secrets", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as e:
        if e.errno in (errno.ENOENT, errno.ELOOP, errno.ENOTDIR):
            return
        raise
    try:
        for top, _, files, dir_fd in os.fwalk(".", dir_fd=fd):
            for name in files:
                path = os.path.normpath(os.path.join(top, name))
                try:
                    st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
                    why = goes(path, st) if stat.S_ISREG(st.st_mode) else None
                    if why:
                        os.unlink(name, dir_fd=dir_fd)
                        print("sovereign-monitoring-setup: removed %s/secrets/%s (%s)" % (ETC[len(ROOT):], path, why))
                except FileNotFoundError:
                    pass
    finally:
        os.close(fd)


def group_gone(gid, known):
    # On the machine itself (no SOVEREIGN_ROOT) a group /etc/group lacks may come from NSS (nss-systemd, a directory):
    # it is there, not gone.
    if gid in known:
        return False
    if not ROOT:
        try:
            grp.getgrgid(gid)
            return False
        except KeyError:
            pass
    return True


def group_ids():
    # The groups by name, from the account files this step changes (under SOVEREIGN_ROOT, that directory's), not the
    # host's; None without them, empty when no line of them parses. The setup gives files here system groups only, which
    # /etc/group holds.
    try:
        with open(ROOT + "/etc/group") as f:
            fields = [line.rstrip("\\n").split(":") for line in f]
    except FileNotFoundError:
        return None
    return {g[0]: int(g[2]) for g in fields if len(g) > 2 and g[2].isdigit()}


def listed(accounts):
    try:
        with open(ROOT + accounts) as f:
            return any(line.split(":", 1)[0] == "${ALERTMANAGER_USER}" for line in f)
    except FileNotFoundError:
        return False


def account_tool(tool, name):
    # Under SOVEREIGN_ROOT (tests) it works on that directory's account files, never the host's.
    p = subprocess.run([tool] + (["--root", ROOT] if ROOT else []) + [name], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return p.returncode, p.stdout.decode("utf-8", "replace").strip()[-400:]


def hand_back(data):
    # prometheus (node exporter runs as it here) owns /var/lib/prometheus and this directory's group may write to it:
    # it can swap the directory, or one in it, for a symlink to /etc at any moment. So nothing here goes by path: each
    # directory is an fd opened without following a symlink, and each name in it is chowned relative to that fd, a
    # symlink as itself, never its target.
    try:
        fd = os.open(data, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return  # Alertmanager never wrote here
    except OSError as e:
        if e.errno not in (errno.ELOOP, errno.ENOTDIR):
            raise
        print("sovereign-monitoring-setup: %s is a symlink or not a directory, left alone (its owner unchanged)" % data)
        return
    try:
        try:
            owner = pwd.getpwnam("prometheus")
        except KeyError:
            fail("the user prometheus, to whom Alertmanager's data directory %s goes back, is missing (Debian's "
                 "prometheus-node-exporter makes it): reinstall that package, then deploy again" % data)
        os.fchown(fd, owner.pw_uid, owner.pw_gid)
        # fwalk descends only into a directory whose fd is the one it listed (no symlink), and yields that fd.
        for _, dirs, files, dir_fd in os.fwalk(".", dir_fd=fd):
            for name in dirs + files:
                try:
                    os.chown(name, owner.pw_uid, owner.pw_gid, dir_fd=dir_fd, follow_symlinks=False)
                except FileNotFoundError:
                    pass  # removed meanwhile
    finally:
        os.close(fd)


actions = {"unpack": unpack, "alertmanager": alertmanager, "watch": watch, "error-monitoring": error_monitoring, "retire-prober": retire_prober}
if len(sys.argv) < 2 or sys.argv[1] not in actions:
    fail("usage: sovereign-monitoring-setup unpack | alertmanager | watch | error-monitoring <environment> <hosts> | retire-prober <files>")
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
dir=\${SOVEREIGN_ROOT:-}${TEXTFILE_DIR}
# Exit 75 (EX_TEMPFAIL) means "no verdict": neither is recorded. No backup job or drill exits 75 (each reports such an
# exit as 1), so nothing it records is lost to this case.
if [ "\${SERVICE_RESULT:-}" = exit-code ] && [ "\${EXIT_STATUS:-}" = 75 ]; then exit 0; fi
if [ "\${SERVICE_RESULT:-}" = success ]; then outcome=success; else outcome=failure; fi
metric=sovereign_job_last_\${outcome}_timestamp_seconds
# The job units run as root, and the directory sits in prometheus's /var/lib/prometheus: prometheus can swap it for a
# symlink (to /etc) or a directory of its own. The hook works in it as its working directory, which stays the directory
# it checked whatever is at the path later (textfile_cd, shared with the host tables' checks). A refusal fails the hook.
TEXTFILE_DIR=$dir
${TEXTFILE_CD_FUNCTION}
textfile_cd sovereign-job-metric "sovereign-job-$unit-$outcome.prom" || exit 1
tmp=$(mktemp ./.sovereign-job.XXXXXX)
printf '# HELP %s Unix time of the job unit'"'"'s last %s.\\n# TYPE %s gauge\\n%s{unit="%s"} %s\\n' \\
  "$metric" "$outcome" "$metric" "$metric" "$unit" "$(date +%s)" >"$tmp"
chmod 0644 "$tmp"
mv -T -- "$tmp" "sovereign-job-$unit-$outcome.prom"
`;

/**
 * `sovereign-redact-log <binary> <args…>`: runs a daemon whose log lines may hold a secret URL (a
 * failed delivery logs the webhook or ping URL with its token) with every URL in them cut to its
 * scheme and host. The daemon keeps the process (and its PID, for reloads); a child it inherits
 * filters its output to the journal, ignores the stop signals and ends when the daemon's output ends.
 * Alertmanager also logs the body of an upstream's refusal, which may echo the path (`Cannot POST
 * /hooks/<token>`), no URL left for the pattern to find: so every part of each URL in the daemon's
 * `--config.file` (its whole path and query, each longer segment or value) is cut wherever it shows,
 * read again when the file changes (a rotated secret).
 */
export const REDACT_LOG_SCRIPT = `#!/usr/bin/python3
# sovereign-redact-log <binary> <args...>, rendered by cdktf-sovereign-hetzner: no URL path, query or
# user info reaches the journal, nor any part of a URL in the daemon's --config.file.
import os, re, signal, sys, urllib.parse

URL = re.compile(rb'([A-Za-z][A-Za-z0-9+.-]*://)(?:[^/\\s"\\\\@]*@)?([^/\\s"\\\\?#]*)[^\\s"\\\\]*')
# A part shorter than this is cut only as the whole rest of its URL: short segments are words (/api/, /hooks/), not tokens.
PART = 8


def parts_of(config):
    found = set()
    try:
        with open(config, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return found
    for url in re.findall(r'[A-Za-z][A-Za-z0-9+.-]*://[^\\s"\\\\]+', text):
        try:
            split = urllib.parse.urlsplit(url)
        except ValueError:
            continue
        rest = url.split("://", 1)[1]
        rest = rest[rest.find("/"):] if "/" in rest else ""
        short = [rest, rest.split("#")[0], split.path]
        long = [split.username, split.password, split.query, split.fragment] + split.path.split("/")
        long += [v for pair in split.query.split("&") for v in pair.split("=")]
        for part in short + long:
            for form in (part, urllib.parse.unquote(part or "")):
                if form and len(form) >= (2 if part in short else PART):
                    found.add(form.encode())
    return found


if len(sys.argv) < 2:
    sys.exit("usage: sovereign-redact-log <binary> <args...>")
config = next((a.split("=", 1)[1] for a in sys.argv[2:] if a.startswith("--config.file=")), None)
r, w = os.pipe()
if os.fork() == 0:
    os.close(w)
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, signal.SIG_IGN)
    seen, secrets = None, []
    with os.fdopen(r, "rb") as lines:
        for line in lines:
            if config:
                try:
                    info = os.stat(config)
                    # The setup replaces the file (a new inode); an edit in place changes its time or size.
                    stamp = (info.st_ino, info.st_mtime_ns, info.st_size)
                except OSError:
                    stamp = None
                if stamp != seen:
                    seen, secrets = stamp, sorted(parts_of(config), key=len, reverse=True)
            data = URL.sub(rb"\\1\\2/<redacted>", line)
            for secret in secrets:
                data = data.replace(secret, b"<redacted>")
            while data:
                data = data[os.write(2, data):]
    os._exit(0)
os.close(r)
os.dup2(w, 1)
os.dup2(w, 2)
os.close(w)
os.execv(sys.argv[1], sys.argv[1:])
`;

/**
 * `sovereign-prometheus-watch`: beside Prometheus, looks at it every few seconds. When it does not
 * answer, it posts a `PrometheusDown` alert to Alertmanager, whose inhibit rule then holds every
 * alert of that prober: they expire without a "resolved" notification, and the team is told that
 * Prometheus is down. The alert stays a while after Prometheus is back, until its alerts are resent.
 */
export const PROMETHEUS_WATCH_SCRIPT = `#!/usr/bin/python3
# sovereign-prometheus-watch, rendered by cdktf-sovereign-hetzner. Configuration: prometheus-watch.json.
import base64, datetime, json, os, sys, time, urllib.request

ROOT = os.environ.get("SOVEREIGN_ROOT", "")
with open(ROOT + "${PROMETHEUS_WATCH_CONFIG}") as f:
    CONFIG = json.load(f)


def auth():
    with open(CONFIG["passwordFile"]) as f:
        password = f.read().strip()
    return "Basic " + base64.b64encode(("%s:%s" % (CONFIG["user"], password)).encode()).decode()


def healthy():
    try:
        request = urllib.request.Request(CONFIG["prometheus"] + "/-/healthy", headers={"Authorization": auth()})
        with urllib.request.urlopen(request, timeout=5) as r:
            return r.status == 200
    except (OSError, ValueError):
        return False


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isoformat()


def tell(since, ends):
    labels = dict(CONFIG["labels"], alertname=CONFIG["alertname"])
    alert = [{"labels": labels, "startsAt": iso(since), "endsAt": iso(ends), "annotations": {
        "summary": "Prometheus on %s is down: its alerts are held as they were, not resolved" % labels.get("prober", "the prober"),
        "description": "Nothing new is detected until it is back. See systemctl status prometheus and journalctl -u prometheus on the prober.",
    }}]
    try:
        request = urllib.request.Request(CONFIG["alertmanager"] + "/api/v2/alerts", data=json.dumps(alert).encode(), method="POST",
                                         headers={"Authorization": auth(), "Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=5).close()
    except (OSError, ValueError) as e:
        sys.stderr.write("sovereign-prometheus-watch: Alertmanager did not take the alert (%s)\\n" % type(e).__name__)


every = float(CONFIG["everySeconds"])
failures, down_since, back_at = 0, None, None
while True:
    now = time.time()
    if healthy():
        failures = 0
        if down_since is not None and back_at is None:
            back_at = now
    else:
        failures += 1
        if failures >= CONFIG["failuresToAlert"]:
            if down_since is None:
                down_since = now
                sys.stderr.write("sovereign-prometheus-watch: Prometheus does not answer; its alerts are held\\n")
                sys.stderr.flush()
            back_at = None
    if down_since is not None:
        if back_at is not None and now - back_at >= CONFIG["holdAfterRecoverySeconds"]:
            tell(down_since, now)
            down_since, back_at = None, None
        else:
            tell(down_since, now + max(60.0, 4 * every))
    time.sleep(every)
`;

/**
 * The alert relay's bounds that its documentation states (monitoringPhaseDocument), rendered into the script: the
 * bodies it forwards at once and the seconds a whole forward may take (its name lookup, connects, sending and the
 * answer's head), those of one receiver, the posts that may wait for one receiver, and the seconds a request's head,
 * then its body, may take to arrive.
 */
export const ALERT_RELAY_BOUNDS = { forwards: 4, forwardSeconds: 30, receiverForwards: 1, receiverPosts: 8, readSeconds: 10 } as const;
/**
 * How many receivers that never answer still leave a forward for the others from the start, before any of their
 * forwards has failed (the documentation states it). Once failed, any number of them do: they share FORWARDS - 1.
 */
export const ALERT_RELAY_SILENT_RECEIVERS = Math.floor((ALERT_RELAY_BOUNDS.forwards - 1) / ALERT_RELAY_BOUNDS.receiverForwards);

// The relay's connections at once, and what its memory is made of, measured (MiB): the interpreter with its modules, a
// connection's thread with its head and buffers, a forward (a body of MAX_BODY read, then sent, and an HTTPS
// connection's context, which loads the CA certificates).
const ALERT_RELAY_SLOTS = 32;
const ALERT_RELAY_MIB = { interpreter: 23, slot: 0.1, forward: 3.5 } as const;
// A name lookup's thread counts as a slot's (a thread and the resolver's buffers): LOOKUPS running at once, outlived
// ones included (one for each forward and as many again), and the dead man's switch's ping's one more.
export const ALERT_RELAY_LOOKUPS = 2 * ALERT_RELAY_BOUNDS.forwards;
const alertRelayMaxMib = Math.ceil(ALERT_RELAY_MIB.interpreter + (ALERT_RELAY_SLOTS + ALERT_RELAY_LOOKUPS + 1) * ALERT_RELAY_MIB.slot + ALERT_RELAY_BOUNDS.forwards * ALERT_RELAY_MIB.forward);

/**
 * `sovereign-alert-relay <address:port> <urls.json> <password file>`: Alertmanager's webhook URLs, forwarded.
 * Alertmanager 0.25 (Debian 12) shows a webhook URL in clear in its configuration file and its status API, and
 * has no `url_file`: it posts to `http://127.0.0.1:<port>/<variable>` instead, with the web password, and this
 * relay (root, no capabilities) posts the same body to the URL the setup wrote for that variable, read again
 * whenever the file changes (a rotated secret). It answers with the receiver's status (a 5xx makes Alertmanager
 * retry), or 502 when the receiver cannot be reached or answers with a redirect (followed by none), and never
 * with the receiver's body (which may echo the path, and Alertmanager logs it); its own log names the variable
 * and the URL's host alone, and of a host with more than one address each address that could not be connected to. Any local user can reach its port: it checks the password before it reads a body,
 * and reads none without a Content-Length of at most MAX_BODY; it holds SLOTS connections at most, each with a
 * head of HEAD_BYTES at most, a new one taking the slot of the oldest still sending its head, and forwards
 * FORWARDS bodies at once, so that its memory stays under the unit's MemoryMax, each within FORWARD_SECONDS from its
 * name lookup to the receiver's answer. One receiver (a URL's host and port) takes RECEIVER_FORWARDS of those and
 * RECEIVER_POSTS connections at most, so that up to ALERT_RELAY_SILENT_RECEIVERS receivers that never answer cannot
 * hold up the others' alerts, and receivers whose last forward got no status from them (but the dead man's switch's ping) share FORWARDS - 1 forwards, so that
 * once failed any number of them cannot; and a request's head, then its body, must arrive within READ_SECONDS each.
 */
export const ALERT_RELAY_SCRIPT = `#!/usr/bin/python3
# sovereign-alert-relay <address:port> <urls.json> <password file>, rendered by cdktf-sovereign-hetzner.
import base64, contextlib, hmac, http.client, http.server, io, json, os, re, socket, ssl, sys, threading, time, urllib.parse

if len(sys.argv) != 4:
    sys.exit("usage: sovereign-alert-relay <address:port> <urls.json> <password file>")
ADDRESS, URLS_FILE, PASSWORD_FILE = sys.argv[1:]
# Alertmanager's notification is one group's alerts, about a kilobyte each: 1 MiB holds a thousand.
MAX_BODY = 1 << 20
# Past the unit's MemoryMax=${HELPER_MEMORY_MAX_MIB.alertRelay}M systemd kills the relay (alerts are lost until it is back), and any local user can
# connect, as often as they like. So a connection is one thread, SLOTS at most, whose request's head (first line and
# headers: Alertmanager's is under 1 KiB) may hold HEAD_BYTES, not http.server's 101 lines of 64 KiB (6 MiB a
# connection: 200 of them took the relay's RSS to 800 MiB); and only a post with the web password reads its
# body and forwards it, FORWARDS at once. The interpreter with its modules takes about ${ALERT_RELAY_MIB.interpreter} MiB, a thread with its
# head and buffers under ${ALERT_RELAY_MIB.slot} MiB, a forward about ${ALERT_RELAY_MIB.forward} MiB (a body of MAX_BODY read, then sent, and an HTTPS
# connection's context, which loads the CA certificates), a name lookup's thread (LOOKUPS + 1 at most, below) as much
# as a connection's: ${ALERT_RELAY_MIB.interpreter} + (SLOTS + LOOKUPS + 1) * ${ALERT_RELAY_MIB.slot} + FORWARDS * ${ALERT_RELAY_MIB.forward} = ${alertRelayMaxMib} MiB at most. That
# holds with one malloc arena (the unit's MALLOC_ARENA_MAX=1): glibc gives each thread an arena of its own, up to 8
# a core, and keeps what a freed body took in each, so bursts of large posts left the relay at 42 to 57 MiB.
SLOTS, HEAD_BYTES, FORWARDS = ${ALERT_RELAY_SLOTS}, 8 << 10, ${ALERT_RELAY_BOUNDS.forwards}
forwards = threading.BoundedSemaphore(FORWARDS)
# A whole forward: its name lookup, connects, TLS handshake, the sending of its body and the receiver's answer's head.
# A timeout for each socket operation alone (urllib's) let a receiver that trickles its answer, or a lookup that hangs
# (getaddrinfo has no timeout), hold a forward for good.
FORWARD_SECONDS = ${ALERT_RELAY_BOUNDS.forwardSeconds}
# A receiver that accepts a post and never answers holds a forward for FORWARD_SECONDS, and again for each post
# Alertmanager retries: with every forward shared, FORWARDS of them made every other receiver's alerts wait. So one
# receiver (a URL's host and port: the webhooks of one service fail together) takes RECEIVER_FORWARDS of them at
# most: up to ${ALERT_RELAY_SILENT_RECEIVERS} receivers that never answer leave a forward for the others, the dead man's switch's
# ping among them (it goes through the relay too). The posts that wait for a receiver hold a connection each (a thread
# and a head, no body): RECEIVER_POSTS of the SLOTS at most, past which the relay answers 503 at once (Alertmanager
# retries it later), so that ${ALERT_RELAY_SILENT_RECEIVERS} such receivers hold ${ALERT_RELAY_SILENT_RECEIVERS} * RECEIVER_POSTS slots and leave the rest to the others.
RECEIVER_FORWARDS, RECEIVER_POSTS = ${ALERT_RELAY_BOUNDS.receiverForwards}, ${ALERT_RELAY_BOUNDS.receiverPosts}
# More receivers than that that never answer, each holding its forward, took every forward. A receiver whose last
# forward got no status from it (it timed out, its name could not be looked up, it could not be connected to, its
# certificate was not trusted, its connection was reset or its answer was no HTTP, or its URL is none the relay can
# post to) is failing: the failing ones share FAILING_FORWARDS forwards, one fewer than FORWARDS, and FAILING_POSTS
# posts in the relay (the posts of ${ALERT_RELAY_SILENT_RECEIVERS} receivers), past which a post to one is answered 503, on its way in or, for
# one that came in before its receiver failed, when its turn to forward comes. So any number of them leave a forward
# and slots to the others once each has failed once; before that, ${ALERT_RELAY_SILENT_RECEIVERS} of them at most leave one (the bounds
# above). Its next answered forward makes it one of the others.
FAILING_FORWARDS, FAILING_POSTS = FORWARDS - 1, ${ALERT_RELAY_SILENT_RECEIVERS} * RECEIVER_POSTS
failing_forwards = threading.BoundedSemaphore(FAILING_FORWARDS)
# The dead man's switch's ping (its variable's name starts with PING_PREFIX) is what tells that alerts get through:
# its receiver is never failing, so that a blip (a lookup that failed once) does not leave its pings to wait behind
# the failing receivers' share, and the ping service then page for a relay that works. Its receiver is its own, the
# ping's posts alone (keyed "ping" and its host and port): a webhook on the ping service's host is a receiver as any
# other, failing when it fails. It still takes RECEIVER_FORWARDS and RECEIVER_POSTS at most, as a receiver that has
# not failed yet: a ping service that never answers holds one forward and up to RECEIVER_POSTS slots, and with the
# failing ones' share taken leaves the others no forward until its own times out (the price of a ping that always
# has one).
PING_PREFIX = "${DEADMAN_VARIABLE_PREFIX}"
# A receiver with nothing in flight is forgotten (a new one is the same), but for a failing one, which is kept so that
# its next post still counts as failing: KEPT_FAILING of those at most, the longest idle forgotten first. The
# receivers held are then SLOTS with a post in flight and KEPT_FAILING, however many hosts the URLs name over time.
KEPT_FAILING = SLOTS
receivers, receivers_lock, failing_posts = {}, threading.Lock(), 0
# The name lookups running (addresses()), by host and port: one at a time for each, whichever receiver's forward
# started it (the ping's and a webhook's on its host are two receivers, one host and port). Each is a thread, FORWARDS
# of them while their forwards wait, and those that outlived theirs (a lookup that hangs) go on, as many as the URLs
# name hosts and ports. So while LOOKUPS run, outlived or not, a forward that needs a new lookup fails at once until
# one ends (names that hang on several hosts at once: the resolver is down); but the ping's, which has one more of its
# own, so that hanging webhook names do not fail the forward that tells alerts get through. LOOKUPS + 1 in all, which
# the memory bound above counts. A lookup that never returns (a broken NSS module) holds its host and port, and its
# place, until the relay restarts.
LOOKUPS = ${ALERT_RELAY_LOOKUPS}
lookups = {}
# Alertmanager, on loopback, sends a request's head and body at once: milliseconds, a second on a machine under
# load. A client that sends a byte at a time, each within the handler's timeout, would keep its slot for as long as
# it likes (a head until a newer connection took the slot, a body for good, a forward with it). So a head must come
# within READ_SECONDS of the connection's start, and a body within READ_SECONDS of the relay beginning to read it
# (a post may first wait for a forward): ten times what a loaded machine takes, and SLOTS such clients hold the
# relay's slots READ_SECONDS at most.
READ_SECONDS = ${ALERT_RELAY_BOUNDS.readSeconds}
cache = {}


def basic(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


def target(url, headers):
    # A user and password in the URL go as basic auth, as Alertmanager's own client sent them: urllib would take
    # user:password@host for the host's name and look it up in DNS, token included.
    split = urllib.parse.urlsplit(url)
    if split.username is None and split.password is None:
        return url
    headers["Authorization"] = basic(urllib.parse.unquote(split.username or ""), urllib.parse.unquote(split.password or ""))
    return urllib.parse.urlunsplit(split._replace(netloc=split.netloc.rpartition("@")[2]))


def current(path, parse):
    # Read again when the setup replaced the file (a new inode) or it changed in place.
    info = os.stat(path)
    stamp = (info.st_ino, info.st_mtime_ns, info.st_size)
    if cache.get(path, (None,))[0] != stamp:
        with open(path) as f:
            cache[path] = (stamp, parse(f.read()))
    return cache[path][1]


def log(message):
    sys.stderr.write("sovereign-alert-relay: %s\\n" % message)
    sys.stderr.flush()


class Server(http.server.ThreadingHTTPServer):
    # SLOTS connections at once. Clients that send their head slowly or never would hold every slot, and make
    # Alertmanager wait until they time out: a new connection takes the slot of the one that has been sending its
    # head the longest instead. Alertmanager sends its head at once, so it is past it before others could take its
    # slot; a connection past its head (answered at once, or a post with the password) keeps its slot, and when
    # every one is such a connection, the next waits in the kernel's queue.
    # That queue holds a burst of connections (5 by default): past it the kernel drops a connection's first packet,
    # Alertmanager's too, which its client sends again a second or more later.
    request_queue_size = 128

    def __init__(self, *args):
        super().__init__(*args)
        self.slots = threading.Condition()
        self.busy = 0
        # The connections still sending their head, oldest first.
        self.heads = {}

    def process_request(self, request, client_address):
        with self.slots:
            while self.busy >= SLOTS:
                if self.heads:
                    oldest = next(iter(self.heads))
                    del self.heads[oldest]
                    try:
                        # Its thread's read ends at once: Head refuses a head without its blank line.
                        oldest.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                self.slots.wait()
            self.busy += 1
            self.heads[request] = True
        super().process_request(request, client_address)

    def head_read(self, request):
        # False when the connection lost its slot meanwhile.
        with self.slots:
            return self.heads.pop(request, None) is not None

    def shutdown_request(self, request):
        super().shutdown_request(request)
        with self.slots:
            self.heads.pop(request, None)
            self.busy -= 1
            self.slots.notify()


class Receiver:
    # One receiver's forwards; its posts in the relay and whether its last forward got no answer (each written under
    # receivers_lock); whether it is the dead man's switch's ping, which never fails.
    def __init__(self, key, ping):
        self.key, self.forwards, self.posts, self.ping = key, threading.BoundedSemaphore(RECEIVER_FORWARDS), 0, ping
        self.failing = False


def mark(receiver, failing):
    # Under receivers_lock: failing_posts is the posts in the relay of the failing receivers, all of them, those that
    # came in while it answered too (counted in when it fails, out when it answers again).
    global failing_posts
    if receiver.failing != failing:
        receiver.failing = failing
        failing_posts += receiver.posts if failing else -receiver.posts


def release(receiver):
    # Under receivers_lock, once a receiver's post ended: forgotten with nothing in flight, or kept as the newest idle
    # failing one, the oldest past KEPT_FAILING forgotten.
    if receiver.posts or receivers.get(receiver.key) is not receiver:
        return
    del receivers[receiver.key]
    if receiver.failing:
        receivers[receiver.key] = receiver
        idle = [r for r in receivers.values() if r.failing and not r.posts]
        for r in idle[:-KEPT_FAILING]:
            del receivers[r.key]


def left(end):
    # What is left of a forward's deadline, for its next operation; none left is a timeout.
    left = end - time.monotonic()
    if left <= 0:
        raise TimeoutError()
    return left


class LookupRunning(Exception):
    pass


class LookupsFull(Exception):
    pass


class Lookup:
    # One name's lookup: its result once done; outlived once a forward that waited for it gave up.
    def __init__(self):
        self.done, self.found, self.error, self.outlived = threading.Event(), None, None, False


def addresses(host, port, end, ping):
    # An address as written needs no lookup. A name's lookup runs in a thread of its own, waited for until the
    # forward's deadline: getaddrinfo cannot be interrupted, so one that hangs goes on (a thread, no body) until the
    # system's resolver gives up. A forward to a name whose lookup runs for another forward waits for that one; once
    # a forward gave it up, the next ones to that name fail at once meanwhile rather than wait or start more. The
    # ping's may start one past LOOKUPS.
    try:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    except socket.gaierror:
        pass
    key = (host, port)
    with receivers_lock:
        lookup = lookups.get(key)
        if lookup is not None and lookup.outlived:
            raise LookupRunning()
        start = lookup is None
        if start:
            if len(lookups) >= LOOKUPS + (1 if ping else 0):
                raise LookupsFull()
            lookup = lookups[key] = Lookup()

    def look_up():
        try:
            lookup.found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except Exception as e:
            lookup.error = e
        finally:
            with receivers_lock:
                del lookups[key]
            lookup.done.set()

    if start:
        try:
            threading.Thread(target=look_up, daemon=True).start()
        except RuntimeError as e:
            # No thread (the system's limit): no lookup runs, and the name's next forward may start one; a forward
            # that came to wait for this one meanwhile fails with it.
            with receivers_lock:
                del lookups[key]
            lookup.error = e
            lookup.done.set()
            raise
    if not lookup.done.wait(max(0.0, end - time.monotonic())):
        with receivers_lock:
            lookup.outlived = True
        raise TimeoutError()
    if lookup.error is not None:
        raise lookup.error
    return lookup.found


class Within(io.RawIOBase):
    # A forward's socket, each send and each read given what is left of its deadline: the whole forward ends by
    # then, however the receiver paces its answer. What http.client sends with and reads its answer from.
    def __init__(self, sock, end):
        self.sock, self.end = sock, end

    def sendall(self, data):
        # Send by send, each given what is left: a TLS socket's sendall gives each of its sends the whole timeout.
        rest = memoryview(data)
        while rest:
            self.sock.settimeout(left(self.end))
            rest = rest[self.sock.send(rest):]

    def readable(self):
        return True

    def readinto(self, buffer):
        self.sock.settimeout(left(self.end))
        return self.sock.recv_into(buffer)

    def makefile(self, mode):
        return io.BufferedReader(self)

    def close(self):
        # Closed by the connection or by its answer's reader, whichever comes first.
        self.sock.close()
        super().close()


class Forward(http.client.HTTPConnection):
    # One post to a receiver, within FORWARD_SECONDS from its start. http.client follows no redirect (urlopen
    # followed a 301/302/303 to a POST as a GET without the body, to any URL: a notification reported delivered
    # that no receiver had) and takes no proxy from the environment (a *_proxy variable would route every URL,
    # token and all, through it).
    def __init__(self, split, end, label, ping):
        self.tls = split.scheme == "https"
        self.default_port = 443 if self.tls else 80
        # The port given: http.client would read the last part of an IPv6 address as one.
        super().__init__(split.hostname, split.port or self.default_port)
        self.end, self.label, self.ping = end, label, ping

    def connect(self):
        error, found = TimeoutError(), addresses(self.host, self.port, self.end, self.ping)
        for i, (family, kind, protocol, _, address) in enumerate(found):
            # One reading of the clock decides whether this address is tried and gives it its share: a second reading
            # past the deadline (left() raising) would log an address never tried as not connected.
            now = time.monotonic()
            if now >= self.end:
                # Nothing left (a lookup that answered at the deadline): the rest were never tried, so no line says
                # one of them was not connected; one says how many.
                if len(found) > 1:
                    log("%s: %d of %d addresses not tried, the forward's time is up" % (self.label, len(found) - i, len(found)))
                error = TimeoutError()
                break
            sock = None
            try:
                # In the try: a family the machine lacks (an IPv6 address without IPv6) goes on to the next address.
                sock = socket.socket(family, kind, protocol)
                # Each address its share of what is left, connect and handshake together: one that never answers (a
                # blackholed IPv6 address, first in the lookup's order) leaves time to the next.
                slot = (self.end - now) / (len(found) - i)
                share = now + slot
                sock.settimeout(slot)
                sock.connect(address)
                if self.tls:
                    # The handshake as a whole (Python's ssl gives it the socket's timeout as one deadline, not one
                    # for each read) within what the connect left of the share: one whose path drops large packets
                    # (TCP connects, the certificate never arrives) leaves time to the next, as one that never
                    # connects does.
                    sock.settimeout(left(share))
                    sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
            except OSError as e:
                if sock is not None:
                    sock.close()
                error = e
                # Each address's failure, not the last one's alone: a certificate refused on the first address, then
                # a delivery through the second, left no trace. The address and the exception's type, no message.
                if len(found) > 1:
                    log("%s: address %s not connected (%s)" % (self.label, at(address), type(e).__name__))
                continue
            self.sock = Within(sock, self.end)
            return
        raise error


def at(address):
    # A socket address as an operator reads it: host:port, an IPv6 host in brackets.
    return ("[%s]:%s" if ":" in str(address[0]) else "%s:%s") % tuple(address[:2])


def host_of(url):
    # The URL's host alone, as the log names it: its path and query may hold a token.
    try:
        return urllib.parse.urlsplit(url).hostname
    except Exception:
        return None


def receiver_of(url):
    # Its host (lowercased by urlsplit) and port, the scheme's when none is written: https://h/ and https://h:443/
    # are one receiver. Never its user and password.
    try:
        split = urllib.parse.urlsplit(url)
        return (split.hostname, split.port or {"http": 80, "https": 443}.get(split.scheme.lower()))
    except Exception:
        # A URL the forward refuses (and logs): a receiver of its own.
        return repr(url)


class Refused(Exception):
    pass


class Late(Exception):
    pass


class Head:
    # What http.server reads a request's head from, line by line: HEAD_BYTES in all at most, each line whole, all
    # within READ_SECONDS of the connection's start.
    def __init__(self, stream, connection):
        self.stream, self.connection, self.left = stream, connection, HEAD_BYTES
        self.deadline = time.monotonic() + READ_SECONDS

    def readline(self, limit):
        line, limit = b"", min(limit, self.left)
        try:
            while not line.endswith(b"\\n") and len(line) < limit:
                # The socket's timeout is what is left of the deadline, for each read: a client that trickles its
                # head gets no more time than one that sends it at once.
                left = self.deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError()
                self.connection.settimeout(left)
                # What is buffered, or one read's worth (peek), taken up to the line's end: the rest is the next
                # line's, or the body's.
                data = self.stream.peek(1)[:limit - len(line)]
                if not data:
                    break
                end = data.find(b"\\n")
                line += self.stream.read(end + 1 if end >= 0 else len(data))
        except TimeoutError:
            raise Late()
        self.left -= len(line)
        if not line.endswith(b"\\n"):
            # Past HEAD_BYTES, or the connection ended (or lost its slot) before the head did: nothing to answer.
            raise Refused()
        return line

    def close(self):
        self.stream.close()


class Relay(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # A client that does not read its answer holds a thread: not past this many seconds (reads have READ_SECONDS).
    timeout = 30

    def setup(self):
        super().setup()
        self.rfile = Head(self.rfile, self.connection)

    def handle(self):
        # One request a connection: the slot is the connection's, and its head the only one read through Head.
        try:
            self.handle_one_request()
        except Late:
            log("a connection sent no whole request head within %d s: closed" % READ_SECONDS)
        except (Refused, ConnectionError):
            # A client that resets its connection is not the relay's error: no traceback for each in the journal.
            pass

    def parse_request(self):
        parsed = super().parse_request()
        self.rfile = self.rfile.stream
        self.connection.settimeout(self.timeout)
        return self.server.head_read(self.connection) and parsed

    def answer(self, code, text):
        body = (text + "\\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        # Read or not, the body is the last thing on the connection: Alertmanager opens a new one for its next post.
        self.send_header("Connection", "close")
        self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/-/healthy":
            self.answer(200, "ok")
        else:
            self.answer(404, "not found")

    def do_POST(self):
        # The password first, then the length: nothing is read for a client without the password, nor a body
        # whose size is not known and small (Alertmanager always sends a Content-Length, never chunks).
        try:
            password = current(PASSWORD_FILE, str.strip)
        except OSError as e:
            log("the web password cannot be read (%s)" % type(e).__name__)
            return self.answer(500, "the relay cannot read the web password")
        expected = basic("${WEB_USER}", password)
        if not hmac.compare_digest(self.headers.get("Authorization", "").encode(), expected.encode()):
            return self.answer(401, "unauthorized")
        length = self.headers.get("Content-Length")
        if length is None or "Transfer-Encoding" in self.headers:
            return self.answer(411, "a Content-Length is required")
        if not re.fullmatch(r"[0-9]+", length):
            return self.answer(400, "the Content-Length is not a number")
        # The length of the text first: int() refuses more than 4300 digits with an exception.
        if len(length) > len(str(MAX_BODY)) or int(length) > MAX_BODY:
            return self.answer(413, "the body is over %d bytes" % MAX_BODY)
        # The URL before the body: its receiver decides which forwards the post waits for.
        name = self.path.lstrip("/")
        try:
            url = current(URLS_FILE, json.loads).get(name) if re.fullmatch(r"\\w+", name) else None
        except (OSError, ValueError) as e:
            log("the webhook URLs cannot be read (%s)" % type(e).__name__)
            return self.answer(500, "the relay cannot read the webhook URLs")
        if url is None:
            return self.answer(404, "no webhook URL for this receiver")
        global failing_posts
        ping = name.startswith(PING_PREFIX)
        key = ("ping", receiver_of(url)) if ping else receiver_of(url)
        with receivers_lock:
            receiver = receivers.setdefault(key, Receiver(key, ping))
            if receiver.posts >= RECEIVER_POSTS:
                full = "%d posts already wait for it" % RECEIVER_POSTS
            elif receiver.failing and failing_posts >= FAILING_POSTS:
                full = "it is failing, and %d posts already wait for failing receivers" % FAILING_POSTS
            else:
                full = None
                receiver.posts += 1
                failing_posts += receiver.failing
        if full:
            log("%s -> %s: %s: answered 503" % (name, host_of(url), full))
            return self.answer(503, "%s: %s" % (host_of(url), full))
        reply = None
        try:
            # Its receiver's forward first: waiting for it holds none of the others'. Then, for a receiver whose last
            # forward (ended: it had this forward) got no answer, one of the failing ones'.
            with receiver.forwards:
                with receivers_lock:
                    failing = receiver.failing
                    # Posts that came in while their receiver answered, waiting when it failed, were counted in as
                    # failing then, past FAILING_POSTS: the ones over it are answered 503 as they come to forward, so
                    # that its failing leaves the other receivers their slots.
                    over = failing and failing_posts > FAILING_POSTS
                if over:
                    full = "it is failing, and %d posts already wait for failing receivers" % FAILING_POSTS
                    log("%s -> %s: %s: answered 503" % (name, host_of(url), full))
                    reply = 503, "%s: %s" % (host_of(url), full)
                else:
                    with failing_forwards if failing else contextlib.nullcontext(), forwards:
                        body = self.body(int(length))
                        reply = None if body is None else self.forward(name, url, body, receiver)
                        # Gone before the forward is given back: FORWARDS bodies in memory at most.
                        del body
        finally:
            with receivers_lock:
                receiver.posts -= 1
                failing_posts -= receiver.failing
                release(receiver)
        # Answered once its forwards are given back and it is counted out: Alertmanager's next post (its retry of a 5xx
        # may come at once) finds both free.
        if reply is not None:
            self.answer(*reply)

    def body(self, length):
        # The body, read within READ_SECONDS however the client paces it; None (logged) when it did not all come.
        body, got = bytearray(length), 0
        deadline = time.monotonic() + READ_SECONDS
        try:
            with memoryview(body) as view:
                while got < length:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise TimeoutError()
                    self.connection.settimeout(left)
                    n = self.rfile.readinto1(view[got:])
                    if not n:
                        break
                    got += n
        except TimeoutError:
            log("a post's body did not all come within %d s: not forwarded" % READ_SECONDS)
            return None
        except ConnectionError:
            # Only a client with the password gets here (Alertmanager): its lost post is worth a line.
            log("a post's connection was reset before its whole body: not forwarded")
            return None
        finally:
            self.connection.settimeout(self.timeout)
        if got < length:
            # The client left before its whole body: part of an alert is no alert to deliver, nor anyone to answer.
            log("a post ended %d bytes short of its Content-Length: not forwarded" % (length - got))
            return None
        return body

    def forward(self, name, url, body, receiver):
        # The answer for Alertmanager: the receiver's status, or 502. Whether the receiver answered is its state.
        headers = {"Content-Type": self.headers.get("Content-Type", "application/json"), "User-Agent": self.headers.get("User-Agent", "sovereign-alert-relay"), "Connection": "close"}
        host = host_of(url)
        end = time.monotonic() + FORWARD_SECONDS
        connection = None
        try:
            # In the try: a URL that cannot be split or has a bad port raises here, named in the exception's text.
            split = urllib.parse.urlsplit(target(url, headers))
            if split.scheme not in ("http", "https") or not split.hostname:
                raise ValueError()
            connection = Forward(split, end, "%s -> %s" % (name, host), receiver.ping)
            connection.request("POST", urllib.parse.urlunsplit(("", "", split.path or "/", split.query, "")), body=body, headers=headers)
            code = connection.getresponse().status
        except Exception as e:
            # No message: an exception's text may quote the URL.
            log("%s -> %s: not delivered (%s)" % (name, host, type(e).__name__))
            with receivers_lock:
                mark(receiver, not receiver.ping)
            return 502, "%s did not answer" % host
        finally:
            if connection is not None:
                connection.close()
        with receivers_lock:
            mark(receiver, False)
        if code // 100 != 2:
            log("%s -> %s: answered %d" % (name, host, code))
        # A redirect (not followed) is a failure, not one for Alertmanager to follow.
        return code if code // 100 in (2, 4, 5) else 502, "%s answered %d" % (host, code)

    def log_message(self, format, *args):
        pass


host, port = ADDRESS.rsplit(":", 1)
Server((host, int(port)), Relay).serve_forever()
`;
