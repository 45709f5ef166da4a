import { BundlePart } from '../machine-bundle';
import { ROLLOUT_STATE_DIR, WRITE_LEFTOVERS_REMOVED_FUNCTION } from './rollout-agent';

// Machine identity: every on-machine job checks that it runs on the server its bundle was built for.
// A server built from another machine's snapshot (staging from production, a restored snapshot)
// boots with that machine's files: its timers, probers, pings and credentials. The server id the
// bundle was built for is known only at deploy, so it is a deploy-time file of the bundle; the id the
// machine runs as comes from Hetzner's metadata service (GET
// http://169.254.169.254/hetzner/v1/metadata/instance-id, a plain numeric id).

/** The deploy-time file holding the server id the bundle was built for (`SERVER_ID=<id>`). */
export const IDENTITY_FILE = '/etc/sovereign/identity/server';
/** What a clone disables and removes besides the bundle's own units and deploy-time files (`unit <name>` / `file <path>` lines). */
export const IDENTITY_GUARD_FILE = '/etc/sovereign/identity/guard';
/** The check: `check` for a unit's ExecCondition=, `boot` for the boot unit. */
export const IDENTITY_CHECK = '/usr/local/sbin/sovereign-identity';
export const IDENTITY_UNIT = 'sovereign-identity.service';
export const IDENTITY_PART = 'sovereign machine identity';
/** Hetzner's metadata endpoint for the server id. Tests point SOVEREIGN_METADATA_URL elsewhere. */
export const METADATA_INSTANCE_ID_URL = 'http://169.254.169.254/hetzner/v1/metadata/instance-id';

/**
 * The lines a unit adds to run only on the server it was built for; a skipped run is not a failure.
 * `+` runs the check as root whatever the unit's User= (only root may reach the metadata service, and
 * a clone's lock-down disables units and removes root-owned files).
 */
export const IDENTITY_UNIT_LINES = {
  unit: [`After=${IDENTITY_UNIT}`],
  service: [`ExecCondition=+${IDENTITY_CHECK} check`],
} as const;

/** What a clone must also stop and remove: units that are not files of the bundle (Debian's daemons), and files the bundle's commands derive from its secrets. */
export interface CloneGuard {
  readonly units?: readonly string[];
  readonly files?: readonly string[];
}

const guards = new WeakMap<object, { units: Set<string>; files: Set<string> }>();

/** Registers what a clone of `machine` must also disable (units) and remove (files holding the original's secrets). */
export function guardOnClone(machine: object, guard: CloneGuard): void {
  const entry = guards.get(machine) ?? { units: new Set<string>(), files: new Set<string>() };
  guards.set(machine, entry);
  for (const u of guard.units ?? []) entry.units.add(u);
  for (const f of guard.files ?? []) entry.files.add(f);
}

/**
 * The part every machine with a bundle gets first: the server id it was built for, the check, and a
 * boot unit that, on a server whose id differs (a clone), disables the bundle's units and removes its
 * deploy-time files (secrets) before the clone's own bundle arrives.
 */
export function identityPart(machine: object, serverId: string): BundlePart {
  return {
    name: IDENTITY_PART,
    packages: ['python3'],
    files: [
      { path: IDENTITY_FILE, content: `# The server this machine's bundle was built for (rendered by cdktf-sovereign-hetzner at deploy).\nSERVER_ID=${serverId}\n`, permissions: '0644' },
      {
        path: IDENTITY_GUARD_FILE,
        permissions: '0644',
        content: () => {
          const entry = guards.get(machine);
          const lines = [...(entry?.units ?? [])].sort().map((u) => `unit ${u}`).concat([...(entry?.files ?? [])].sort().map((f) => `file ${f}`));
          return `# What a clone disables and removes besides the bundle's units and deploy-time files.\n${lines.join('\n')}${lines.length ? '\n' : ''}`;
        },
      },
      { path: IDENTITY_CHECK, content: IDENTITY_SCRIPT, permissions: '0755' },
      {
        path: `/etc/systemd/system/${IDENTITY_UNIT}`,
        permissions: '0644',
        content: [
          '[Unit]', 'Description=Machine identity: on a clone of another server, stop its jobs and remove its secrets',
          'Wants=network-online.target', 'After=network-online.target', '',
          '[Service]', 'Type=oneshot', 'RemainAfterExit=yes', `ExecStart=${IDENTITY_CHECK} boot`, '',
          '[Install]', 'WantedBy=multi-user.target', '',
        ].join('\n'),
      },
    ],
    // Never `--now`: the check asks the metadata service, which a rollout must not depend on.
    commands: [['systemctl', 'daemon-reload'], ['systemctl', 'enable', IDENTITY_UNIT]],
  };
}

/**
 * `sovereign-identity check|boot`. `check` exits 0 on the server the bundle was built for, and 1
 * (systemd skips the unit, which is not a failure) when the id differs or cannot be learned: it fails
 * closed, so a job never runs as another server. On a definite mismatch both disable the bundle's
 * units and the guard's, and remove the bundle's deploy-time files (the original's secrets) and the
 * guard's files, holding the rollout agent's lock so that a rollout never interleaves. `boot` always
 * exits 0. The metadata answer is cached in /run (it cannot change until the next boot).
 */
export const IDENTITY_SCRIPT = `#!/usr/bin/python3
# sovereign-identity check|boot, rendered by cdktf-sovereign-hetzner: does this machine run on the
# server its bundle was built for? See lib/hetzner/private/machine-identity.ts.
import fcntl, json, os, re, shutil, stat, subprocess, sys, time, urllib.request

ROOT = os.environ.get("SOVEREIGN_ROOT", "").rstrip("/")
IDENTITY = ROOT + "${IDENTITY_FILE}"
GUARD = ROOT + "${IDENTITY_GUARD_FILE}"
STATE = ROOT + "${ROLLOUT_STATE_DIR}"
CACHE = ROOT + "/run/sovereign/instance-id"
MARKER = ROOT + "/var/lib/sovereign/identity/clone"
URL = os.environ.get("SOVEREIGN_METADATA_URL", "${METADATA_INSTANCE_ID_URL}")
WAIT = float(os.environ.get("SOVEREIGN_IDENTITY_WAIT", "60"))
UNIT_DIR = "/etc/systemd/system/"


def say(message):
    sys.stderr.write("sovereign-identity: " + message + "\\n")
    sys.stderr.flush()


def expected():
    try:
        with open(IDENTITY) as f:
            for line in f:
                if line.startswith("SERVER_ID="):
                    value = line.split("=", 1)[1].strip()
                    return value if re.fullmatch(r"[0-9]+", value) else None
    except OSError:
        return None
    return None


def actual():
    try:
        with open(CACHE) as f:
            value = f.read().strip()
            if re.fullmatch(r"[0-9]+", value):
                return value
    except OSError:
        pass
    # Monotonic: a clock stepped by time sync at first boot must not end (or stretch) the wait.
    deadline = time.monotonic() + WAIT
    while True:
        try:
            with urllib.request.urlopen(URL, timeout=5) as r:
                value = r.read(64).decode("ascii", "replace").strip()
            if re.fullmatch(r"[0-9]+", value):
                os.makedirs(os.path.dirname(CACHE), mode=0o755, exist_ok=True)
                tmp = CACHE + ".tmp"
                with open(tmp, "w") as f:
                    f.write(value + "\\n")
                os.replace(tmp, CACHE)
                return value
        except (OSError, ValueError):
            pass
        if time.monotonic() >= deadline:
            return None
        time.sleep(1)


def guard():
    units, files = [], []
    try:
        with open(GUARD) as f:
            for line in f:
                kind, _, value = line.strip().partition(" ")
                if kind == "unit" and value:
                    units.append(value)
                elif kind == "file" and value:
                    files.append(value)
    except OSError:
        pass
    return units, files


def lock_down(built_for, runs_as):
    os.makedirs(STATE, mode=0o700, exist_ok=True)
    with open(STATE + "/lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        # A rollout may have brought this server's own bundle meanwhile.
        if expected() == runs_as:
            return
        try:
            with open(STATE + "/current-bundle.json") as f:
                bundle = json.load(f)
        except (OSError, ValueError):
            bundle = {"parts": []}
        units, files = guard()
        for part in bundle.get("parts", []):
            for spec in part.get("files", []):
                path = spec.get("path", "")
                name = path[len(UNIT_DIR):]
                if path.startswith(UNIT_DIR) and "/" not in name and name.endswith((".service", ".timer")) and name != "${IDENTITY_UNIT}":
                    units.append(name)
                if "template" in spec and path != "${IDENTITY_FILE}":
                    files.append(path)
        units = sorted(set(units))
        if units:
            subprocess.run(["systemctl", "--no-block", "disable", "--now"] + units, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # The rollout's own copies: an activation that never ended keeps the files it replaced (secrets included).
        shutil.rmtree(STATE + "/releases", ignore_errors=True)
        try:
            os.unlink(STATE + "/pending.json")
        except FileNotFoundError:
            pass
        removed = 0
        # With the .tmp of each: a write cut short (the monitoring setup's, of a DSN, the webhook URLs or an SMTP password)
        # left the secret there, and the clone carried it over from the original's snapshot.
        for path in sorted({p + tmp for p in files for tmp in ("", ".tmp")}):
            try:
                os.unlink(ROOT + path)
                removed += 1
            except FileNotFoundError:
                pass
        # And what the rollout agent's write_atomic left, cut short (a crash between its mkstemp and its rename) beside
        # a deploy-time file or in the agent's state: the file it was writing, secret and all.
        removed += remove_write_leftovers({os.path.dirname(p) for p in files} | {"${ROLLOUT_STATE_DIR}"})
        os.makedirs(os.path.dirname(MARKER), mode=0o755, exist_ok=True)
        with open(MARKER, "w") as f:
            f.write("built for server %s, runs as server %s since %d\\n" % (built_for, runs_as, int(time.time())))
        say("this machine runs as server %s but its bundle was built for server %s (a clone or a restored snapshot): "
            "disabled %d units and removed %d files of the original; deploy this server's own stack to give it its bundle"
            % (runs_as, built_for, len(units), removed))


${WRITE_LEFTOVERS_REMOVED_FUNCTION}


def remove_write_leftovers(directories):
    """Removes the regular files named as write_atomic's temporary file in each directory, opened without following a
    symlink (another user's, planted) and read relative to it. Returns how many it removed. Unlike the agent's walk, only
    the last component is opened so: what is removed is only regular files of write_atomic's exact name, and the clone
    runs none of the original's writers yet."""
    removed = 0
    for directory in sorted(directories):
        try:
            fd = os.open(ROOT + directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            continue  # missing, or a symlink: nothing of write_atomic's is there
        try:
            removed += sum(1 for _ in write_leftovers_removed(fd))
        finally:
            os.close(fd)
    return removed


def verdict():
    built_for, runs_as = expected(), actual()
    if built_for is None:
        say("no server id in %s: skipping (deploy the stack to install it)" % "${IDENTITY_FILE}")
        return False
    if runs_as is None:
        say("the metadata service did not give this server's id: skipping, never running as another server")
        return False
    if built_for != runs_as:
        lock_down(built_for, runs_as)
        return False
    return True


if len(sys.argv) != 2 or sys.argv[1] not in ("check", "boot"):
    sys.stderr.write("usage: sovereign-identity check | boot\\n")
    sys.exit(2)
ok = verdict()
sys.exit(0 if ok or sys.argv[1] == "boot" else 1)
`;
