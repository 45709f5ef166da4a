// The on-machine half of PostgresDatabase, kept as a string so the compiled library carries it.
// The bundle installs it as /usr/local/sbin/sovereign-postgres-setup and runs it whenever the
// database's files change; tests run the exact rendered script (SOVEREIGN_ROOT moves its paths).

/** Where the script reads its settings (JSON) on the machine. */
export const SETUP_CONF = '/etc/sovereign/postgres/setup.json';
/** The script's path on the machine. */
export const SETUP_SCRIPT_PATH = '/usr/local/sbin/sovereign-postgres-setup';

export const SETUP_SCRIPT = String.raw`#!/usr/bin/python3
# sovereign-postgres-setup, rendered by cdktf-sovereign-hetzner. Idempotent; run by the rollout.
#  1. places the cluster's data directory: when it is configured on a volume and the volume holds no
#     cluster yet, it moves the package's cluster there (server stopped, copied, checked) and keeps
#     the old directory as <dir>.moved-<date>; it never overwrites a directory that holds files;
#  2. starts the server, reloads the configuration, restarts only when a setting needs it;
#  3. creates the app's role and database if missing and sets the role's password from the password
#     file, as a SCRAM-SHA-256 verifier computed here: the password never reaches argv, SQL or logs.
import base64, hashlib, hmac, json, os, shutil, subprocess, sys, time

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
                 "upgrade the cluster with pg_upgradecluster, or restore a dump into a new one (docs/database.md)")
        return
    if target == source:
        fail("no cluster in %s" % conf["dataDirectory"], "reinstall %s or restore from the backups (docs/database.md)" % conf["package"])
    mount = conf.get("requireMount")
    if mount and not os.path.ismount(ROOT + mount):
        fail("%s is not mounted, and the data directory %s is on it" % (mount, conf["dataDirectory"]),
             "check the volume's attachment (hcloud volume list) and its mount, then deploy again")
    if holds_files(target):
        fail("%s holds files but no cluster; nothing is overwritten" % conf["dataDirectory"],
             "move those files away by hand, then deploy again")
    if cluster_major(source) != major:
        fail("no PostgreSQL %s cluster in %s to move" % (major, conf["packageDataDirectory"]),
             "restore the database from the backups into the new directory (docs/database.md)")
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


def wait_ready(conf, seconds=60):
    deadline = time.time() + seconds
    argv = [conf["bin"] + "/pg_isready", "-q", "-h", ROOT + conf["socketDirectory"], "-p", str(conf["port"])]
    while time.time() < deadline:
        if subprocess.run(argv).returncode == 0:
            return
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


def main():
    with open(CONF) as f:
        conf = json.load(f)
    password = read_password(conf)
    place_data_directory(conf)
    run(conf["service"]["start"])
    wait_ready(conf)
    psql(conf, "SELECT pg_reload_conf();")
    time.sleep(0.5)
    if psql(conf, "SELECT count(*) FROM pg_settings WHERE pending_restart;") != "0":
        log("restarting: a changed setting needs it")
        run(conf["service"]["restart"])
        wait_ready(conf)
    ensure_role_and_database(conf, password)
    log("PostgreSQL %s ready: database %s, role %s, data in %s" % (conf["major"], conf["database"], conf["role"], conf["dataDirectory"]))


if __name__ == "__main__":
    main()
`;
