// The on-machine half of PostgresDatabase, kept as a string so the compiled library carries it.
// The bundle installs it as /usr/local/sbin/sovereign-postgres-setup and runs it whenever the
// database's files change; tests run the exact rendered script (SOVEREIGN_ROOT moves its paths).

import { libraryDoc } from '../../core/private/library-doc';

/** Where the script reads its settings (JSON) on the machine. */
export const SETUP_CONF = '/etc/sovereign/postgres/setup.json';
/** The script's path on the machine. */
export const SETUP_SCRIPT_PATH = '/usr/local/sbin/sovereign-postgres-setup';

export const SETUP_SCRIPT = String.raw`#!/usr/bin/python3
# sovereign-postgres-setup, rendered by cdktf-sovereign-hetzner. Idempotent; run by the rollout.
#  0. refuses a configured major whose cluster holds no database while another major's cluster holds the data
#     (a major declared in code, deployed before the cluster was upgraded): it never upgrades a cluster;
#  1. places the cluster's data directory: when it is configured on a volume and the volume holds no
#     cluster yet, it moves the package's cluster there (server stopped, copied, checked) and keeps
#     the old directory as <dir>.moved-<date>; it never overwrites a directory that holds files;
#  2. starts the server, reloads the configuration, restarts only when a setting needs it (and fails at
#     once when another file moved it off the configured port); names the tuned settings ALTER SYSTEM overrides,
#     and when the server does not start, the ones that may be why; ends the app role's open sessions from an
#     address pg_hba.conf no longer admits (a client removed from the declaration);
#  3. creates the app's role and database if missing and sets the role's password from the password
#     file, as a SCRAM-SHA-256 verifier computed here: the password never reaches argv, SQL or logs;
#  4. checks that the server accepts connections on every address of listen_addresses at its port (the
#     Unix socket alone says nothing of what the app reaches), restarting it once when the private address
#     came up after it started, and fails naming the address, what it found and the fix otherwise.
import base64, hashlib, hmac, json, os, re, shutil, socket, struct, subprocess, sys, time

ROOT = os.environ.get("SOVEREIGN_ROOT", "").rstrip("/")
CONF = ROOT + "${'/etc/sovereign/postgres/setup.json'}"


def log(message):
    sys.stdout.write("sovereign-postgres-setup: %s\n" % message)
    sys.stdout.flush()


def fail(message, fix):
    sys.stderr.write("sovereign-postgres-setup: FAILED: %s. Fix: %s\n" % (message, fix))
    sys.exit(1)


def run(argv, stdin=None, check=True):
    p = subprocess.run(argv, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if check and p.returncode != 0:
        # stdin may carry a verifier, never shown; argv never carries a secret.
        fail("%s exited %d: %s" % (" ".join(argv[:6]), p.returncode, p.stderr.decode("utf-8", "replace").strip()[-800:]),
             "see the PostgreSQL log (journalctl -u postgresql@*) and deploy again")
    return p


def psql(conf, sql, database="postgres"):
    argv = ["runuser", "-u", conf["osUser"], "--", conf["bin"] + "/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
            "-h", ROOT + conf["socketDirectory"], "-p", str(conf["port"]), "-d", database]
    return run(argv, stdin=sql.encode()).stdout.decode().strip()


def ident(name):
    return '"' + name.replace('"', '""') + '"'


def literal(value):
    return "'" + value.replace("'", "''") + "'"


def cluster_major(directory):
    try:
        with open(directory + "/PG_VERSION") as f:
            return f.read().strip()
    except OSError:
        return None


def holds_files(directory):
    try:
        return [n for n in os.listdir(directory) if n != "lost+found"] != []
    except FileNotFoundError:
        return False


# initdb's own databases (template1, template0, postgres): a cluster with no more holds nothing of the app's.
INITIAL_DATABASES = 3


def databases_beyond_initial(directory):
    """How many databases a cluster's directory holds besides initdb's, read from its base/ (the server may be
    of a major this machine has no programs for)."""
    try:
        return max(0, len([n for n in os.listdir(directory + "/base") if n.isdigit()]) - INITIAL_DATABASES)
    except OSError:
        return 0


def refuse_major_change(conf):
    """Refuses, before anything changes, to serve the configured major's empty (or missing) cluster while another
    major's cluster on this machine holds the data: a major declared in code reaches the machine before its cluster
    was upgraded. Debian's package of the new major creates an empty cluster, which the setup would otherwise start
    (or move to the volume) and the app would find empty."""
    major = str(conf["major"])
    mine = [ROOT + conf["dataDirectory"], ROOT + conf["packageDataDirectory"]]
    if any(cluster_major(d) == major and databases_beyond_initial(d) > 0 for d in mine):
        return
    others = []
    for parent in sorted({os.path.dirname(os.path.dirname(d)) for d in mine}):
        try:
            names = os.listdir(parent)
        except OSError:
            continue
        for name in names:
            directory = "%s/%s/main" % (parent, name)
            found = cluster_major(directory)
            if found is not None and found != major and databases_beyond_initial(directory) > 0:
                others.append((int(found) if found.isdigit() else 0, found, directory))
    if not others:
        return
    _, found, directory = max(others)
    count = databases_beyond_initial(directory)
    fail("the machine is configured for PostgreSQL %s, whose cluster %s holds no database, but the PostgreSQL %s cluster in %s "
         "holds the data (%d database%s besides PostgreSQL's own); a deploy never upgrades a cluster, nor starts or moves an "
         "empty one in its place" % (major, conf["dataDirectory"], found, directory[len(ROOT):], count, "" if count == 1 else "s"),
         "upgrade the cluster on the machine (pg_upgradecluster %s main) as ${libraryDoc('database.md', 'Changing the PostgreSQL major')} "
         "says, then deploy again" % found)


def pg_ctl(conf, *args):
    return run(["runuser", "-u", conf["osUser"], "--", conf["bin"] + "/pg_ctl"] + list(args), check=False)


def server_runs_from(conf, directory):
    return pg_ctl(conf, "status", "-D", directory).returncode == 0


def stop_server_running_from(conf, directory):
    # The rollout has already pointed the configuration at the new directory, so Debian's unit would try to stop a
    # cluster there, fail, and leave systemd to send SIGTERM: a smart shutdown that waits for the app's sessions to
    # end, up to the unit's hour. Stop the server by the directory it runs from, ending sessions (fast).
    if server_runs_from(conf, directory):
        pg_ctl(conf, "stop", "-D", directory, "-m", "fast", "-w", "-t", "300")


def place_data_directory(conf):
    target = ROOT + conf["dataDirectory"]
    source = ROOT + conf["packageDataDirectory"]
    major = str(conf["major"])
    found = cluster_major(target)
    if found is not None:
        if found != major:
            fail("%s holds a PostgreSQL %s cluster, the machine runs %s" % (conf["dataDirectory"], found, major),
                 "upgrade the cluster with pg_upgradecluster, or restore a dump into a new one, as ${libraryDoc('database.md')} says")
        if target != source and server_runs_from(conf, source):
            # A new server whose volume already holds the cluster (production rebuilt after a loss): apt's package
            # started its own empty cluster from the root disk before the rollout pointed the configuration at the
            # volume. That server is stopped by the directory it runs from, so that the start below serves the volume's
            # data: restarting the unit would look for it on the volume, as when the cluster is moved.
            log("stopping the server running from %s: the cluster is on %s" % (conf["packageDataDirectory"], conf["dataDirectory"]))
            stop_server_running_from(conf, source)
        return
    if target == source:
        if conf.get("createEmptyClusterIfMissing") and not holds_files(target):
            create_empty_cluster(conf, target)
            return
        fail("no cluster in %s" % conf["dataDirectory"], "reinstall %s or restore from the backups, as ${libraryDoc('database.md')} says" % conf["package"])
    mount = conf.get("requireMount")
    if mount and not os.path.ismount(ROOT + mount):
        fail("%s is not mounted, and the data directory %s is on it" % (mount, conf["dataDirectory"]),
             "check the volume's attachment (hcloud volume list) and its mount, then deploy again")
    if holds_files(target):
        fail("%s holds files but no cluster; nothing is overwritten" % conf["dataDirectory"],
             "move those files away by hand, then deploy again")
    if cluster_major(source) != major:
        fail("no PostgreSQL %s cluster in %s to move" % (major, conf["packageDataDirectory"]),
             "restore the database from the backups into the new directory, as ${libraryDoc('database.md')} says")
    log("moving the cluster from %s to %s (server stopped meanwhile)" % (conf["packageDataDirectory"], conf["dataDirectory"]))
    stop_server_running_from(conf, source)
    run(conf["service"]["stop"])
    if server_runs_from(conf, source):
        fail("PostgreSQL still runs from %s; a copy of a running cluster is not a backup of it" % conf["packageDataDirectory"],
             "stop it (runuser -u %s -- %s/pg_ctl stop -D %s -m fast) and deploy again" % (conf["osUser"], conf["bin"], conf["packageDataDirectory"]))
    parent = os.path.dirname(target)
    os.makedirs(parent, exist_ok=True)
    staging = target + ".incoming"
    shutil.rmtree(staging, ignore_errors=True)
    run(["cp", "-a", source, staging])
    if cluster_major(staging) != major:
        fail("the copy in %s is incomplete" % staging, "check the volume's free space and deploy again")
    os.rename(staging, target)
    owner = conf["osUser"]
    run(["chown", owner + ":" + owner, parent])
    run(["chmod", "0700", target])
    kept = source + ".moved-" + time.strftime("%Y%m%d%H%M%S", time.gmtime())
    os.rename(source, kept)
    log("moved; the previous directory stays as %s until you delete it" % (kept[len(ROOT):] if ROOT else kept))


def create_empty_cluster(conf, target):
    """An empty cluster where the configuration (Debian's, from the snapshot) expects it, as Debian's package creates
    one: for a server built from a snapshot that does not hold the data (staging from a production on a volume)."""
    owner = conf["osUser"]
    parent = os.path.dirname(target)
    os.makedirs(parent, exist_ok=True)
    run(["chown", owner + ":" + owner, parent])
    run(["runuser", "-u", owner, "--", conf["bin"] + "/initdb", "-D", target, "--auth-local=peer", "--auth-host=scram-sha-256",
         "--encoding=UTF8", "--locale=C.UTF-8"])
    log("created an empty PostgreSQL %s cluster in %s: this server was built from a snapshot without the data; "
        "restore a backup into it before relying on it, as ${libraryDoc('backup.md', 'Restoring by hand')} says" % (conf["major"], conf["dataDirectory"]))


def altered_tuning(conf):
    """The tuned settings ALTER SYSTEM sets, as postgresql.auto.conf holds them: read after every other file, they win."""
    altered = {}
    try:
        with open(ROOT + conf["dataDirectory"] + "/postgresql.auto.conf") as f:
            for line in f:
                m = re.match(r"\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=?\s*'?([^'#]*?)'?\s*(#.*)?$", line)
                if m and m.group(1).lower() in conf["tuning"]:
                    altered[m.group(1).lower()] = m.group(2)
    except OSError:
        pass
    return altered


def control_service(conf, action):
    """Starts or restarts the server; when it does not come up, names the ALTER SYSTEM settings that may be why (a
    shared_buffers set for a larger type no longer fits after a rescale to a smaller one)."""
    p = run(conf["service"][action], check=False)
    if p.returncode == 0:
        return
    why = " ".join(p.stderr.decode("utf-8", "replace").split())[-800:]
    altered = altered_tuning(conf)
    if altered:
        fail("PostgreSQL did not %s (%s), and ALTER SYSTEM sets %s in %s/postgresql.auto.conf, which wins over the tuning for "
             "this server type (%s)" % (action, why, ", ".join("%s = %s" % kv for kv in sorted(altered.items())), conf["dataDirectory"],
                                        ", ".join("%s = %s" % (k, conf["tuning"][k]) for k in sorted(altered))),
             "see journalctl -u %s; if one of them is why, remove its line from postgresql.auto.conf (ALTER SYSTEM cannot run "
             "while the server is down), then deploy again" % conf["serviceName"])
    fail("%s exited %d: %s" % (" ".join(conf["service"][action][:6]), p.returncode, why),
         "see the PostgreSQL log (journalctl -u postgresql@*) and deploy again")


def end_sessions_no_longer_admitted(conf):
    # pg_hba.conf is read at each connection: a client the reloaded file no longer admits (removed from the
    # database's networkClients) would keep the sessions it has open, and a pool keeps them for hours. The app
    # role's sessions from an address no host line admits end now. A keyword address has no netmask: never cast.
    ended = psql(conf, "SELECT host(a.client_addr), pg_terminate_backend(a.pid) FROM pg_stat_activity a "
                 "WHERE a.usename = %s AND a.client_addr IS NOT NULL AND NOT EXISTS ("
                 "SELECT 1 FROM pg_hba_file_rules r WHERE r.type = 'host' AND r.auth_method <> 'reject' AND r.error IS NULL "
                 "AND CASE WHEN r.netmask IS NULL THEN false ELSE family(r.address::inet) = family(a.client_addr) "
                 "AND (a.client_addr & r.netmask::inet) = (r.address::inet & r.netmask::inet) END);" % literal(conf["role"]))
    for line in ended.splitlines():
        log("ended a session of role %s from %s: pg_hba.conf no longer admits that address" % (conf["role"], line.split("|")[0]))


def report_altered_tuning(conf):
    # Not a failure: ALTER SYSTEM is the DBA's way to decide. But a rescale re-tunes nothing it sets, so say so each time.
    for name, value in sorted(altered_tuning(conf).items()):
        log("ALTER SYSTEM sets %s = %s, which wins over this server type's tuning (%s); ALTER SYSTEM RESET %s hands it back"
            % (name, value, conf["tuning"][name], name))


def running_port(conf):
    """The port of a server that runs, ready, from the configured data directory (its postmaster.pid), if one does."""
    try:
        with open(ROOT + conf["dataDirectory"] + "/postmaster.pid") as f:
            lines = f.read().splitlines()
        return int(lines[3]) if len(lines) > 7 and lines[7].strip() == "ready" else None
    except (OSError, ValueError):
        return None


def wait_ready(conf, seconds=60):
    deadline = time.monotonic() + seconds
    argv = [conf["bin"] + "/pg_isready", "-q", "-h", ROOT + conf["socketDirectory"], "-p", str(conf["port"])]
    while time.monotonic() < deadline:
        if subprocess.run(argv).returncode == 0:
            return
        port = running_port(conf)
        if port is not None and port != conf["port"]:
            # Ready on another port: a later conf.d file (or postgresql.conf after the drop-in) sets it.
            source, line = psql(dict(conf, port=port), "SELECT coalesce(sourcefile, 'the server''s command line'), coalesce(sourceline, 0)"
                                                       " FROM pg_settings WHERE name = 'port';").split("|")
            fail("PostgreSQL runs on port %d, set in %s line %s, not on %d as 50-sovereign.conf sets it: it does not listen on %s"
                 % (port, source, line, conf["port"], ", ".join(endpoint(a, conf["port"]) for a in conf["listenAddresses"])),
                 "remove port from %s, restart the server (systemctl restart %s), then deploy again" % (source, conf["serviceName"]))
        time.sleep(0.5)
    fail("PostgreSQL did not accept connections within %d seconds" % seconds, "see journalctl -u %s" % conf["serviceName"])


def scram_verifier(password, salt, iterations):
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = lambda b: base64.b64encode(b).decode()
    return "SCRAM-SHA-256$%d:%s$%s:%s" % (iterations, b64(salt), b64(stored_key), b64(server_key))


def password_matches(current, password):
    # current: SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>
    try:
        iterations, salt = current.split("$")[1].split(":")
        return hmac.compare_digest(scram_verifier(password, base64.b64decode(salt), int(iterations)), current)
    except (ValueError, IndexError, AttributeError):
        return False


def read_password(conf):
    """The app role's password, checked before anything changes: a refusal after the cluster moved would leave
    the rollback's configuration pointing at the directory it left."""
    try:
        with open(ROOT + conf["passwordFile"], encoding="utf-8") as f:
            password = f.read().rstrip("\n")
    except (OSError, UnicodeDecodeError):
        fail("the password file %s cannot be read" % conf["passwordFile"], "set TF_VAR_%s and deploy again" % conf["passwordVariable"])
    if len(password) < 16:
        fail("the app role's password is shorter than 16 characters", "set a longer TF_VAR_%s and deploy again" % conf["passwordVariable"])
    if not password.isascii():
        # PostgreSQL and libpq normalize such a password (SASLprep) before hashing; this script's verifier does not,
        # so the app would be locked out. Never say which characters: the message reaches the deploy log.
        fail("the app role's password holds characters outside ASCII, which PostgreSQL's clients normalize before hashing",
             "set TF_VAR_%s to a password of ASCII characters (letters, digits, punctuation) and deploy again" % conf["passwordVariable"])
    return password


def ensure_role_and_database(conf, password):
    role, database = conf["role"], conf["database"]
    exists = psql(conf, "SELECT 1 FROM pg_roles WHERE rolname = %s;" % literal(role))
    if not exists:
        psql(conf, "CREATE ROLE %s LOGIN;" % ident(role))
        log("created role %s" % role)
    current = psql(conf, "SELECT coalesce(rolpassword, '') FROM pg_authid WHERE rolname = %s;" % literal(role))
    if not password_matches(current, password):
        verifier = scram_verifier(password, os.urandom(16), 4096)
        psql(conf, "ALTER ROLE %s LOGIN PASSWORD %s;" % (ident(role), literal(verifier)))
        log("set the password of role %s" % role)
    if not psql(conf, "SELECT 1 FROM pg_database WHERE datname = %s;" % literal(database)):
        psql(conf, "CREATE DATABASE %s OWNER %s;" % (ident(database), ident(role)))
        log("created database %s" % database)
    # The app's schema belongs to the app's role; nobody else may create objects in it.
    psql(conf, "REVOKE ALL ON DATABASE %s FROM PUBLIC; GRANT CONNECT, TEMPORARY ON DATABASE %s TO %s;" % (ident(database), ident(database), ident(role)))


def server_pid(conf):
    directory = psql(conf, "SHOW data_directory;")
    try:
        with open(directory + "/postmaster.pid") as f:
            return int(f.readline())
    except (OSError, ValueError):
        fail("the server's process id cannot be read from %s/postmaster.pid" % directory, "see journalctl -u %s" % conf["serviceName"])


def socket_inodes(pid):
    """The inodes of the sockets process pid holds open."""
    inodes = set()
    fds = "/proc/%d/fd" % pid
    for fd in os.listdir(fds):
        try:
            target = os.readlink(fds + "/" + fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    return inodes


def tcp_listeners(pid):
    """(address, port, socket inode) of every listening TCP socket in the network namespace of process pid,
    read from the kernel's tables: nothing is sent anywhere."""
    found = []
    for table, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
        try:
            with open("/proc/%d/net/%s" % (pid, table)) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if fields[3] != "0A":  # TCP_LISTEN
                continue
            address, port = fields[1].split(":")
            # The address is in 32-bit words of the kernel's byte order.
            raw = b"".join(struct.pack("=I", int(address[i:i + 8], 16)) for i in range(0, len(address), 8))
            found.append((socket.inet_ntop(family, raw), int(port, 16), fields[9]))
    return found


def resolve(entry):
    """The addresses PostgreSQL binds for one entry of listen_addresses (a host name may stand for several)."""
    try:
        return sorted({a[4][0] for a in socket.getaddrinfo(entry, None, socket.AF_UNSPEC, socket.SOCK_STREAM, 0, socket.AI_PASSIVE)})
    except socket.gaierror:
        return []


def endpoint(address, port):
    return ("[%s]:%d" if ":" in address else "%s:%d") % (address, port)


def in_server_network(pid, argv):
    # The server's network namespace: the machine's own, unless a stand-in runs the server in another one.
    return subprocess.run(["nsenter", "--net=/proc/%d/ns/net" % pid, "--"] + argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def on_an_interface(pid, address):
    shown = in_server_network(pid, ["ip", "-o", "addr", "show"]).stdout.decode("utf-8", "replace")
    return (" %s/" % address) in shown


def wait_for_interface(conf, pid, address):
    seconds = conf["addressWaitSeconds"]
    log("waiting up to %d seconds for %s to come up (the private network may be late)" % (seconds, address))
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if on_an_interface(pid, address):
            return True
        time.sleep(1)
    return on_an_interface(pid, address)


def verify_listening(conf):
    port, wanted = conf["port"], conf["listenAddresses"]
    # The setting in force, and the file that set it: a later conf.d file overrides the rendered drop-in.
    setting, source, line = psql(conf, "SELECT setting, coalesce(sourcefile, 'the server''s command line'), coalesce(sourceline, 0)"
                                       " FROM pg_settings WHERE name = 'listen_addresses';").split("|")
    configured = [a.strip() for a in setting.split(",")]
    if configured != wanted:
        lacking = [endpoint(a, port) for a in wanted if a not in configured]
        effect = ("it does not listen on %s" % ", ".join(lacking) if lacking
                  else "it listens beyond %s" % ", ".join(endpoint(a, port) for a in wanted))
        fail("PostgreSQL's listen_addresses is '%s', set in %s line %s, not '%s' as 50-sovereign.conf sets it: %s"
             % (setting, source, line, ",".join(wanted), effect),
             "remove listen_addresses from %s (conf.d files are read in name order and the last setting wins), then deploy again" % source)
    restarted = False
    while True:
        pid = server_pid(conf)
        mine = socket_inodes(pid)
        listeners = tcp_listeners(pid)
        held = sorted({a for a, p, inode in listeners if p == port and inode in mine})
        missing = [(entry, resolve(entry)) for entry in wanted if not set(resolve(entry)) & set(held)]
        if not missing:
            break
        entry, addresses = missing[0]
        found = "it listens on %s only" % ", ".join(endpoint(a, port) for a in held) if held else "it listens on no TCP address"
        what = "PostgreSQL does not listen on %s (%s)" % (endpoint(entry, port), found)
        others = sorted({endpoint(a, p) for a, p, inode in listeners
                         if p == port and inode not in mine and (a in addresses or a in ("0.0.0.0", "::"))})
        if others:
            fail("%s: another program listens on %s" % (what, ", ".join(others)),
                 "find it with ss -ltnp 'sport = :%d', stop it or move it off port %d, then deploy again (the setup restarts PostgreSQL)" % (port, port))
        if restarted:
            fail("%s, even after a restart" % what, "see why it could not bind in journalctl -u %s, then deploy again" % conf["serviceName"])
        if addresses == [entry] and not on_an_interface(pid, entry) and not wait_for_interface(conf, pid, entry):
            fail("%s: %s is on no interface of this machine after %d seconds" % (what, entry, conf["addressWaitSeconds"]),
                 "check that the server is attached to its private network (hcloud server describe) and that the interface is up "
                 "(ip -o addr), then deploy again")
        # It started before the address came up (after a reboot that beat the private network, past the unit's wait).
        log("restarting: %s, and %s is up now" % (what, entry))
        run(conf["service"]["restart"])
        wait_ready(conf)
        restarted = True
    # In the order of listen_addresses, as an address stands in it.
    checked = [a for entry in wanted for a in resolve(entry) if a in held]
    for address in checked:
        # A connection as the app role makes, to the address the app connects to; pg_isready stops before a password.
        p = in_server_network(pid, [conf["bin"] + "/pg_isready", "-q", "-h", address, "-p", str(port), "-U", conf["role"], "-d", conf["database"], "-t", "5"])
        if p.returncode != 0:
            found = {1: "it rejects connections (starting up or shutting down)", 2: "a connection got no answer within 5 seconds or was refused"}.get(p.returncode, "pg_isready exited %d" % p.returncode)
            fail("PostgreSQL listens on %s but %s" % (endpoint(address, port), found),
                 "check this machine's firewall (nft list ruleset) for a rule on port %d, then deploy again" % port)
    log("accepts connections on %s (listen_addresses '%s')" % (", ".join(endpoint(a, port) for a in checked), setting))


def main():
    with open(CONF) as f:
        conf = json.load(f)
    password = read_password(conf)
    refuse_major_change(conf)
    place_data_directory(conf)
    control_service(conf, "start")
    wait_ready(conf)
    psql(conf, "SELECT pg_reload_conf();")
    time.sleep(0.5)
    if psql(conf, "SELECT count(*) FROM pg_settings WHERE pending_restart;") != "0":
        log("restarting: a changed setting needs it")
        control_service(conf, "restart")
        wait_ready(conf)
    end_sessions_no_longer_admitted(conf)
    report_altered_tuning(conf)
    ensure_role_and_database(conf, password)
    verify_listening(conf)
    log("PostgreSQL %s ready: database %s, role %s, data in %s" % (conf["major"], conf["database"], conf["role"], conf["dataDirectory"]))


if __name__ == "__main__":
    main()
`;
