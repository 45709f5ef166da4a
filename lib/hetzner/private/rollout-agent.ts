// The on-machine half of a rollout, kept as a string constant so that the compiled library carries
// it. `MachineRollout` copies it next to the bundle on every deploy (the machine needs nothing
// installed beforehand but Debian's python3), and the end-to-end suite runs it as it is.
// SOVEREIGN_ROOT moves every path it writes under a directory, which only the tests do.
import { Duration } from '../../core/duration';
import { SETUP, TEXTFILE_DIR } from '../../monitoring/private/paths';

/**
 * How long the agent lets one command of a part run before it stops it and rolls the deploy back. A command that
 * waits for something (backup-rotate-keys for the repository lock) gives up before this, naming what it waited for.
 */
export const ROLLOUT_COMMAND_TIMEOUT = Duration.minutes(30);

/**
 * How long the agent still reads a command's output once the command itself has exited: what it started in the
 * background and left holding that output (a daemon started with `&`) may not keep the rollout waiting.
 */
export const ROLLOUT_OUTPUT_DRAIN = Duration.seconds(2);

/**
 * The library's own tools whose lines saying what they removed (\`<tool>: removed <what> (<why>)\`) the agent shows
 * whatever a step's exit (show_removals). Only these: a user's bundle part (Machine.addBundlePart) may print anything,
 * a line that looks like one included, and no other line of a step that succeeded reaches the deploy's output.
 */
export const REMOVAL_REPORTING_TOOLS: readonly string[] = [SETUP.slice(SETUP.lastIndexOf('/') + 1)];

/**
 * Where those tools are installed: only a step whose command is an argument list starting with one of these paths has
 * its removals shown. A line of the same shape from any other step (a user's part printing it through `sh -c`, a
 * script of its own by that name elsewhere) is not.
 */
const REMOVAL_REPORTING_PATHS: readonly string[] = [SETUP];

/** REMOVAL_REPORTING_TOOLS as alternatives of a Python regular expression, each matched literally. */
function removalToolsPattern(): string {
  return REMOVAL_REPORTING_TOOLS.map((tool) => tool.replace(/[^A-Za-z0-9_-]/g, (c) => `\\${c}`)).join('|');
}

/**
 * The name of write_atomic's temporary file (tempfile.mkstemp's: 8 of [a-z0-9_]), as a Python regular expression
 * matched against a whole file name: the agent removes a write's leftovers by it, and a clone's lock-down too.
 */
export const WRITE_LEFTOVER_PATTERN = String.raw`\.sovereign-rollout\.[a-z0-9_]{8}\Z`;

/**
 * Python (needs os, re, stat): `write_leftovers_removed(fd)` removes write_atomic's leftovers of the directory open at
 * `fd` (that exact name, regular files only, relative to the fd), yielding each name once it is gone. The agent logs
 * them as they go (a later failure leaves the earlier ones logged); a clone's lock-down counts them.
 */
export const WRITE_LEFTOVERS_REMOVED_FUNCTION = `# write_atomic's temporary file (tempfile.mkstemp's name: 8 of [a-z0-9_]).
WRITE_LEFTOVER = re.compile(r"${WRITE_LEFTOVER_PATTERN}")


def write_leftovers_removed(fd):
    """Removes write_atomic's temporary files (a write cut short) of the directory open at fd, regular files of that
    exact name only, yielding each name once it is gone."""
    for name in sorted(os.listdir(fd)):
        if not WRITE_LEFTOVER.match(name):
            continue
        try:
            if not stat.S_ISREG(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode):
                continue
            os.unlink(name, dir_fd=fd)
        except FileNotFoundError:
            continue
        yield name`;

/** Where the agent keeps its state on the machine: current version, staged releases, the lock. */
export const ROLLOUT_STATE_DIR = '/var/lib/sovereign/rollout';

/** `sovereign-rollout apply|status`; see the header of the script. */
export const ROLLOUT_AGENT = `#!/usr/bin/python3
# sovereign-rollout, rendered by cdktf-sovereign-hetzner: installs one version of this machine's bundle.
#
#   sovereign-rollout apply --version sha256:<hex> --dir <incoming directory>
#   sovereign-rollout status
#
# apply: checks the bundle against the hash the deploy expects, stages every file, checks the staged
# files (units, scripts, and each file's own check such as promtool), installs missing packages, then
# switches file by file (write + rename) and runs the commands of the parts whose files changed.
# A part that activates first (the egress allowlist) runs its commands before the others; where it never
# ran, it is installed, switched and activated on its own before the other parts' packages are installed.
# If anything fails, the files of the previous version are put back and its commands run again, so
# the previous version keeps running; the exit code is non-zero and the message says what failed.
# An activation that never ended (the agent killed, the machine off) is finished by the next apply,
# even of the same version. A second apply of the same version changes nothing. Secrets (the inputs)
# never reach argv or output, and no copy of them outlives the apply that needed it.
import base64, errno, fcntl, gzip, hashlib, json, os, random, re, selectors, shutil, signal, stat, subprocess, sys, tempfile, time

ROOT = os.environ.get("SOVEREIGN_ROOT", "").rstrip("/")
STATE = ROOT + "${ROLLOUT_STATE_DIR}"
# Written before the switch and removed once an activation has ended: what it switched, and where the
# files it replaced are kept.
PENDING = STATE + "/pending.json"
RELEASES = STATE + "/releases"
# What a part's steps left running in the background when they succeeded (a daemon started with \`&\`), by part: each
# process by its pid and start time, so that a pid the kernel gave to another process since is never signalled.
STEP_PROCESSES = STATE + "/step-processes.json"
# Where the agent keeps a copy of itself for the operator's \`sovereign-rollout status\`: the deploy delivers it into
# the incoming directory, which every apply removes.
COMMAND = ROOT + "/usr/local/sbin/sovereign-rollout"
TEXTFILE_DIR = ROOT + "${TEXTFILE_DIR}"
UNIT_DIR = "/etc/systemd/system/"

# How long one command may run, in seconds (ROLLOUT_COMMAND_TIMEOUT); tests shorten it. Anything but a positive
# whole number there (a stray export on the machine) leaves the default: read at load, it would otherwise stop the
# agent before it takes the lock, or let no command run at all.
def command_timeout(default=${ROLLOUT_COMMAND_TIMEOUT.toSeconds()}):
    try:
        seconds = int(os.environ.get("SOVEREIGN_COMMAND_TIMEOUT", default))
    except ValueError:
        return default
    return seconds if seconds > 0 else default


COMMAND_TIMEOUT = command_timeout()
# How long a command's output is still read after the command exited (ROLLOUT_OUTPUT_DRAIN).
OUTPUT_DRAIN = ${ROLLOUT_OUTPUT_DRAIN.toSeconds()}
UNIT_SUFFIXES = (".service", ".timer", ".socket", ".path", ".mount", ".target")
# Units a removed drop-in never restarts, and why: the reload is enough for what their drop-ins do.
NEVER_RESTARTED = {
    # Its stop flushes the ruleset, its start loads /etc/nftables.conf (which flushes it too): every table but the host
    # tables, which its drop-ins' loader keeps, would go (Docker's NAT until Docker restarts).
    "nftables.service": "its restart removes every nftables table but the host tables",
}
# How one of this library's tools (REMOVAL_REPORTING_TOOLS), run as a step, says what it removed (show_removals).
REMOVAL_LINE = re.compile(r"(?:${removalToolsPattern()}): removed ")
# Where those tools are installed: a step shows their lines only when it runs one of them (an argument list, not a shell).
REMOVAL_TOOL_PATHS = frozenset(${JSON.stringify(REMOVAL_REPORTING_PATHS)})
# Lines of systemd-analyze verify that mean the unit file itself is wrong (not the machine around it).
UNIT_ERRORS = ("Unknown section", "Unknown key", "Unknown lvalue", "bad unit file setting", "Failed to parse",
               "Refusing", "Invalid", "Missing '='", "has no ExecStart")


class Failure(Exception):
    def __init__(self, step, message, fix):
        Exception.__init__(self, message)
        self.step, self.message, self.fix = step, message, fix


def log(message):
    try:
        print("sovereign-rollout: " + message, flush=True)
    except OSError:
        pass  # the SSH session is gone; the apply goes on and its result stays on the machine


def show_removals(step, out):
    """A step's output reaches the deploy's log only when the step fails: a tool may print anything, a value included.
    But the lines in which one of this library's tools (REMOVAL_REPORTING_TOOLS) says what it removed (\`<tool>: removed <what> (<why>)\`:
    a dropped receiver's SMTP password file) are shown whatever the step's exit, since the removal stays: an operator
    sees what a deploy took away. Those tools name files and accounts there, never a value."""
    for line in out.splitlines():
        if REMOVAL_LINE.match(line):
            log("%s: %s" % (step, printable(line)))


def printable(line, cap=400):
    """A tool's line as the deploy's log shows it: each character that is not printable as ? (control characters, C1's
    too, and U+202E, which shows the rest of the line reversed), cut after \`cap\` characters with an ellipsis (U+2026) where it was cut."""
    line = "".join(c if c.isprintable() else "?" for c in line)
    return line if len(line) <= cap else line[:cap] + "\\u2026"


def tail(text, lines=15):
    return "\\n".join(("  | " + l) for l in text.strip().splitlines()[-lines:])


def digest(data):
    return hashlib.sha256(data).hexdigest()


def real(path):
    return ROOT + path


def read_json(path, default):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return default


def write_atomic(path, data, mode, owner="root:root", dir_fd=None):
    """Writes a file whole or not at all: a temporary file beside it, synced, then renamed over it. With dir_fd, \`path\`
    is a name in that directory (opened by the caller, without following a symlink) and every step is relative to it,
    the directory synced too; the temporary file is named as mkstemp names it (WRITE_LEFTOVER)."""
    if dir_fd is None:
        directory = os.path.dirname(path)
        os.makedirs(directory, mode=0o755, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".sovereign-rollout.")
    else:
        while True:
            tmp = ".sovereign-rollout." + "".join(random.SystemRandom().choice("abcdefghijklmnopqrstuvwxyz0123456789_") for _ in range(8))
            try:
                fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=dir_fd)
                break
            except FileExistsError:
                continue
    try:
        # Mode and owner set on the open file, not by its name: another process writing in the directory could swap it.
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            os.fchmod(fd, mode)
            chown(fd, owner, path)
            f.flush()
            os.fsync(fd)
        if dir_fd is None:
            os.replace(tmp, path)
        else:
            os.replace(tmp, path, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
            os.fsync(dir_fd)
    except BaseException:
        try:
            os.unlink(tmp, dir_fd=dir_fd)
        except FileNotFoundError:
            pass
        raise


${WRITE_LEFTOVERS_REMOVED_FUNCTION}


def remove_write_leftovers(directories):
    """A write_atomic cut short (a crash, a power loss) between its mkstemp and its rename leaves its temporary file,
    which may hold a deploy-time secret that nothing else removes. Each apply removes those of the directories it
    writes to: only regular files of that exact name, relative to the directory opened without following a symlink
    another user could have planted (open_dir_walk); no write of the agent runs beside it (it holds the lock)."""
    for directory in sorted(directories):
        try:
            fd = open_dir_walk(directory)
        except OSError:
            continue  # missing, or through a symlink: nothing of write_atomic's is there
        try:
            remove_leftovers_in(fd, directory)
        finally:
            os.close(fd)


def remove_leftovers_in(fd, directory):
    """Removes write_atomic's leftovers of the directory open at \`fd\`, logging each."""
    for name in write_leftovers_removed(fd):
        log("removed %s, left by a write cut short" % os.path.join(directory, name))


def owner_ids(owner):
    import grp, pwd
    user, _, group = owner.partition(":")
    try:
        return pwd.getpwnam(user).pw_uid, grp.getgrnam(group or user).gr_gid
    except KeyError:
        return None


def chown(fd, owner, path):
    """Gives the open file \`fd\`, to be installed at \`path\`, its owner."""
    if os.geteuid() != 0:
        return
    ids = owner_ids(owner)
    if ids is None:
        if ROOT:
            return  # a test machine under SOVEREIGN_ROOT may lack the service's user
        raise Failure("install " + path, "the owner %s does not exist on the machine" % owner,
                      "add the package that creates the user to the part's packages")
    os.fchown(fd, *ids)


def copy_kept(source, target):
    """Copies a file with its mode, times and owner (copy2 keeps no owner; a rollback must)."""
    shutil.copy2(source, target, follow_symlinks=False)
    if os.geteuid() == 0:
        st = os.lstat(source)
        os.chown(target, st.st_uid, st.st_gid, follow_symlinks=False)


def describe(error):
    """A Failure's message for an unexpected error: its kind and file, never a file's content."""
    if isinstance(error, OSError):
        return "%s%s" % (error.strerror or type(error).__name__, " (%s)" % error.filename if error.filename else "")
    return "%s: %s" % (type(error).__name__, str(error)[:200])


def run(argv, env=None, timeout=COMMAND_TIMEOUT, stdin=None, left=None):
    """Runs a command in a process group of its own, so that a timeout or a failure stops it and everything it
    started. When it succeeds, what it left running is added to \`left\` (a list, when given) as [pid, start, command]."""
    before = children(os.getpid())
    try:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL if stdin is None else stdin, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, env=env, start_new_session=True)
    except FileNotFoundError:
        return 127, "%s: command not found" % argv[0]
    except OSError as e:
        # Not executable (a script left at mode 0644), not a program: a failed command, not a crash.
        return 126, "%s: cannot be run: %s" % (argv[0], e.strerror or type(e).__name__)
    try:
        out, later, held = read_output(p, timeout)
    except subprocess.TimeoutExpired:
        stop_tree(p, before)
        return 124, "timed out after %d s" % timeout
    except BaseException:
        stop_tree(p, before)  # the agent interrupted (Ctrl-C): nothing it started outlives it
        raise
    if later:
        to_syslog(later)
    if p.returncode != 0:
        # A failed step is rolled back: what it started goes first, whether it still holds the step's output or redirected
        # its own (\`daemon >/var/log/x 2>&1 &\`), or the new version's daemon kept running beside the previous version's,
        # holding its ports and locks. Its process group and the orphans the agent adopted (subreaper) find it all.
        stopped = stop_tree(p, before)
        if stopped:
            log("%s exited %d; %s it left in the background, stopped with it before the rollback" % (
                " ".join(argv)[:200], p.returncode, ", ".join("pid %d (%s)" % s for s in sorted(stopped.items()))))
    else:
        if left is not None:
            # Not an orphan of another part's step adopted while this one ran (tree_of leaves it out): recorded here too,
            # this part's next run stopped the other's daemon.
            for pid in sorted(tree_of(p, before, processes()) - {p.pid}):
                fields = stat_of(pid)
                cgroup = cgroup_of(pid) if fields and fields[0] != "Z" else None
                # Recorded only with the cgroup it ran in, read before it ended: one gone meanwhile was recorded with an
                # empty one, and a group whose entries all had it spared every later member; a zombie's v1 lines say /.
                if cgroup is not None and (stat_of(pid) or ["Z"])[0] != "Z":
                    # Its process group too: what it forks later (\`sh -c 'sleep 2; daemon'\`) is in it, and recorded nowhere.
                    # Its cgroup tells that group from a later one that got the number (see left_running).
                    left.append([pid, int(fields[19]), program_name(pid), int(fields[2]), cgroup])
        if held:
            hand_over(p, argv)
    p.stdout.close()
    return p.returncode, out.decode("utf-8", "replace")


def read_output(p, timeout):
    """The command's output, what came after its exit, and whether something else still holds the output. The command's
    own exit judges it: reading to the end of its output waited as long as a daemon it started in the background
    (\`some-daemon &\`) kept that output open, so a command that had exited 0 ran into the timeout and was rolled back,
    the daemon killed. Its output is what the pipe holds when its exit is seen (it wrote all of it before exiting);
    what follows within OUTPUT_DRAIN, and no more, is read as the background's: kept out of the command's output, where
    a chatty daemon's lines pushed the command's own error out of the failure message's last lines."""
    deadline = time.monotonic() + timeout
    fd, chunks, later, drained_by = p.stdout.fileno(), [], [], None
    try:
        exited = os.pidfd_open(p.pid)  # readable once the command exits: no polling
    except (AttributeError, OSError):
        exited = None  # before Linux 5.3: the loop below looks every 0.1 s
    with selectors.DefaultSelector() as waiting:
        waiting.register(fd, selectors.EVENT_READ)
        if exited is not None:
            waiting.register(exited, selectors.EVENT_READ)
        try:
            while True:
                if drained_by is None and p.poll() is not None:
                    drained_by = time.monotonic() + OUTPUT_DRAIN
                    if read_waiting(fd, chunks):
                        p.wait()
                        return b"".join(chunks), b"", False
                left = (deadline if drained_by is None else drained_by) - time.monotonic()
                if left <= 0:
                    if drained_by is None:
                        raise subprocess.TimeoutExpired(p.args, timeout)
                    return b"".join(chunks), b"".join(later), True
                for key, _ in waiting.select(left if exited is not None or drained_by is not None else min(left, 0.1)):
                    if key.fd != fd:
                        waiting.unregister(exited)  # stays readable: it said what it had to
                        continue
                    data = os.read(fd, 65536)
                    if not data:  # everything that held the output closed it; the command may still run (exec >/dev/null)
                        p.wait(timeout=max(0, deadline - time.monotonic()))
                        return b"".join(chunks), b"".join(later), False
                    (chunks if drained_by is None else later).append(data)
        finally:
            if exited is not None:
                os.close(exited)


def read_waiting(fd, chunks):
    """Appends what the pipe holds now, without waiting for more; True when it reached the end (nothing holds it)."""
    os.set_blocking(fd, False)
    try:
        while True:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                return False
            if not data:
                return True
            chunks.append(data)
    finally:
        os.set_blocking(fd, True)


def to_syslog(data):
    """What a command's background processes wrote after it exited: the step's log, not its output."""
    try:
        subprocess.run(["logger", "-t", "sovereign-rollout-step"], input=data, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        pass


def output_holders(fd):
    """pid -> program name of every process but the agent that holds the other end of the pipe \`fd\` reads."""
    pipe, me, found = os.readlink("/proc/self/fd/%d" % fd), os.getpid(), {}
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        try:
            if any(os.readlink("/proc/%s/fd/%s" % (name, f)) == pipe for f in os.listdir("/proc/%s/fd" % name)):
                found[int(name)] = program_name(int(name))
        except OSError:
            pass  # gone meanwhile, or a kernel thread
    return found


def program_name(pid):
    """The program a process runs, by the base name of its argv[0] (its kernel name when it has none): never its
    arguments, which may hold a secret a step passed its child, and reach the CI log through the agent's messages."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            name = os.path.basename(f.read().split(b"\\0")[0].decode("utf-8", "replace"))
    except OSError:
        name = ""
    if not name:
        try:
            with open("/proc/%d/comm" % pid) as f:
                name = f.read().strip()
        except OSError:
            pass
    return name[:60] or "?"


def hand_over(p, argv):
    """The command exited 0 and left a process holding its output. A step that succeeded may have started a daemon on
    purpose, so it is not killed; its output goes on to syslog (logger reads it to its end), where closing it would end
    the daemon with SIGPIPE on its next write. Said in the log, with the process, as a unit would supervise it and this
    does not. (A step that failed is stopped with everything it started: see run.)"""
    holders = output_holders(p.stdout.fileno())
    shown = ", ".join("pid %d (%s)" % h for h in sorted(holders.items()))
    command = " ".join(argv)[:200]
    if not holders:
        log("%s exited 0; what it left in the background held its output %d s later and has ended since; its last output"
            " goes to syslog (journalctl -t sovereign-rollout-step)" % (command, OUTPUT_DRAIN))
    else:
        log("%s exited 0; %s it left in the background still held its output %d s later: it keeps running, unsupervised"
            " (not restarted, not started at boot), its output going to syslog (journalctl -t sovereign-rollout-step);"
            " start a daemon as a systemd unit instead" % (command, shown, OUTPUT_DRAIN))
    try:
        subprocess.Popen(["logger", "-t", "sovereign-rollout-step"], stdin=p.stdout, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError:
        pass  # no logger: the output is closed, and the daemon learns it when it next writes


def still_runs(pid, start):
    """Whether the process that started at \`start\` (clock ticks since boot) as \`pid\` runs now: not ended (a zombie has),
    and not another that got its number since."""
    fields = stat_of(pid)
    return fields is not None and fields[0] != "Z" and int(fields[19]) == start


def stat_of(pid):
    """The fields of /proc/<pid>/stat after the command name (which may hold spaces): [0] state, [1] parent, [2] process
    group, [19] start time in clock ticks since boot; None when the process is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return fields if len(fields) > 19 else None
    except (OSError, IndexError):
        return None


def session_of(pid):
    """The session a process is in (its leader's pid, as a string), None when it is gone."""
    return (stat_of(pid) or [None] * 4)[3]


def processes():
    """pid -> (state, parent, process group, start time) of every process, from /proc."""
    found = {}
    for name in os.listdir("/proc"):
        fields = stat_of(int(name)) if name.isdigit() else None
        if fields:
            found[int(name)] = (fields[0], int(fields[1]), int(fields[2]), int(fields[19]))
    return found


def children(parent):
    return {pid for pid, (_, ppid, _, _) in processes().items() if ppid == parent}


def stop_tree(p, before):
    """Kills a command and every process it started: killing the command alone left a script's psql, restic or sleep
    running, holding its locks and ports while the rollback ran. The tree is its process group, what is below it, and
    what the agent adopted meanwhile (an orphan that left the group with setsid). Each is stopped first, so none forks
    past the kill. Returns pid -> program name of what it stopped besides the command itself."""
    me, stopped = os.getpid(), set()
    # A command that exited has been reaped (a failed step's): its pid may be another process's now, never signalled.
    reaped = {p.pid} if p.returncode is not None else set()
    while True:
        new = tree_of(p, before, processes()) - stopped - reaped
        if not new:
            break
        for pid in new:
            send(pid, None, signal.SIGSTOP)
        stopped |= new
    # Named once stopped (state T): a process caught in its exec has no command line yet, and the stop waits for its end.
    deadline = time.monotonic() + 1
    while time.monotonic() < deadline and any((stat_of(pid) or ["T"])[0] not in "TtZX" for pid in stopped):
        time.sleep(0.01)
    shown = {pid: program_name(pid) for pid in stopped - {p.pid} if stat_of(pid)}
    for pid in stopped:
        send(pid, None, signal.SIGKILL)
    p.stdout.close()  # not read to its end: a process that escaped all this must not hold the agent
    p.wait()
    # The killed orphans come to the agent (subreaper) and are reaped here; none is left when the rollback starts.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        reap()
        procs = processes()
        if not any(pid in procs and procs[pid][0] != "Z" for pid in stopped):
            break
        time.sleep(0.05)
    return shown


def tree_of(p, before, procs):
    """The command's pid, its process group, what is below them, and what the agent adopted since it started it, but for
    an orphan in a process group recorded for a part: what one part's step forks while another part's step runs is the
    first part's, adopted when its wrapper exits. Recorded under the running part, that part's next run stopped it; stopped
    with a failed step, it was gone for good where its part runs no more (one activated first stays active through the
    rollback); a rollback stops it itself when its part came with the failed version or runs again."""
    known = {e[3] for entries in read_left().values() for e in entries if len(e) > 3 and e[3] is not None} - {p.pid}
    me, tree, grew = os.getpid(), {p.pid}, True
    while grew:
        grew = False
        for pid, (_, ppid, pgid, _) in procs.items():
            if pid != me and pid not in tree and (ppid in tree or pgid == p.pid or (ppid == me and pid not in before and pgid not in known)):
                tree.add(pid)
                grew = True
    return tree


def stop_left(parts, why, refuse=None, gone=False, ran=None):
    """Stops what earlier runs of the parts' steps left in the background and still runs (SIGTERM, then SIGKILL after
    10 s, all together), and forgets it: a step that starts a daemon with \`&\` started one more copy each time it ran
    again. \`ran\` (a list, when given) gets the names of the parts whose processes it found running, before any refusal:
    a rollback runs their previous steps again. \`refuse\` (and \`gone\`): the step that then fails when what the parts
    left survived SIGKILL, in this stop or an earlier one of this run (refuse_beside); a rollback gives none, as its
    steps run whatever is left."""
    running = stop_recorded(parts, why)
    if ran is not None:
        ran.extend(sorted(running))
    if refuse is not None:
        refuse_beside(parts, refuse, gone)


def stop_recorded(parts, why):
    """stop_left's stop, of the parts whose processes did not survive SIGKILL earlier in this run; the names of the
    parts whose processes it found running."""
    records = read_left()
    # A part with a process that survived SIGKILL earlier in this run had its steps refused (refuse_beside), so it left
    # nothing new: its rollback is not made to wait out SIGTERM and SIGKILL again.
    names = sorted(name for name in set(parts) & set(records) if not unkilled([name]))
    if not names:
        return set()
    procs, found, running, entries, forkers = processes(), {}, set(), [], {}
    recorded = {name: records[name] for name in names}
    # pid -> the parts whose records found it: a process that survives SIGKILL refuses those parts alone, not every part
    # stopped with it (the parts that left the bundle together), and the failure names its own part.
    owners = {}
    for name in names:
        entries += records[name]
        mine = left_running(records.pop(name), procs)
        found.update(catch(mine - set(found), procs))
        for pid in mine & set(found):
            owners.setdefault(pid, set()).add(name)
            running.add(name)
    try:
        for pid, (fd, _) in found.items():
            send(pid, fd, signal.SIGTERM)
            # As systemd does: a stopped process (SIGSTOP, a job stopped by hand) acts on no SIGTERM until it is
            # continued, so it sat out the 10 s and was SIGKILLed without its shutdown (a lock file, a flush) having run.
            send(pid, fd, signal.SIGCONT)
        alive = wait_ended(found, time.monotonic() + 10)
        for pid in alive:
            send(pid, found[pid][0], signal.SIGKILL)
        alive = wait_ended({pid: found[pid] for pid in alive}, time.monotonic() + 10)
        # What joined a group after the groups were read (a TERM trap that forks, a supervisor that respawns) got no
        # signal: killed too, until the groups are empty (a bounded number of rounds). What forked such a process from
        # outside what is stopped (a supervisor in its session's other process group) may fork again whenever it is
        # next scheduled: while it runs, a look that finds nothing new ends no round early, and it is named at the end.
        for _ in range(5):
            procs = processes()
            late = catch(left_running(entries, procs) - set(found), procs)
            for pid in late:
                # Only a process of the group's session can have put one in it (setpgid): the parent of an orphan
                # (init, a subreaper such as systemd --user) is in a session of its own and forked nothing there.
                parent = procs[pid][1]
                if parent not in set(found) | set(late) | {os.getpid(), 0, 1} and session_of(parent) == session_of(pid):
                    forkers.setdefault(parent, set()).add(procs[pid][2])
            # A stopped process its parent has not reaped keeps its group in being, and that parent (a supervisor,
            # not PID 1) may fork into it whenever it is next scheduled: its first fork, after the first look that
            # found the group empty, was never seen. It is looked for too, and named at the end while it waits.
            waiting = {pid: groups for pid, groups in unreaped(set(found), procs).items() if pid not in found}
            if not late:
                if not waiting and not any(not ended(pid, None) for pid in forkers):
                    break
                time.sleep(0.1)
                continue
            found.update(late)
            for name in names:
                for pid in left_running(recorded[name], procs) & set(late):
                    owners.setdefault(pid, set()).add(name)
            for pid, (fd, _) in late.items():
                send(pid, fd, signal.SIGKILL)
            alive |= wait_ended(late, time.monotonic() + 10)
        else:
            # A group is named as it is now: one that still has a member no signal reached was not stopped; one that
            # was emptied, while its forker runs, may be forked into again (it lives on in a zombie the forker keeps).
            # What got SIGKILL and runs on is named below, as such: counted here, its group alone was said to be
            # still forked into, by a forker to find, where nothing forked and the process will not die.
            procs = processes()
            groups = {procs[pid][2] for pid in left_running(entries, procs) - set(found)}
            held = {procs[pid][2] for pid in alive if pid in procs}
            named = {pid: program_name(pid) for pid in set(forkers) | set(waiting) if not ended(pid, None)}
            for group in sorted(groups | {g for pid in named for g in forkers.get(pid, ())}):
                by = ", ".join("pid %d (%s)" % (pid, named[pid]) for pid in sorted(named) if group in forkers.get(pid, ()))
                if group in groups:
                    log("still forking into process group %d after 5 rounds of SIGKILL, not stopped (%s): %s "
                        "(ps -eo pid,ppid,pgid,sid,args) and stop it" % (group, why, "forked into by " + by if by
                                                                          else "find what adds to it"))
                else:
                    log("process group %d emptied%s (%s); %s forked into it during the stop and may again: stop it "
                        "(ps -eo pid,ppid,pgid,sid,args)" % (group, " but for what survived SIGKILL" if group in held
                                                             else "", why, by))
            for pid in sorted(set(waiting) & set(named) - set(forkers)):
                log("process group %s emptied (%s); pid %d (%s) has not reaped what was stopped in it, which keeps the "
                    "group in being, and may fork into it (a supervisor): stop it (ps -eo pid,ppid,pgid,sid,args); the "
                    "group stays recorded, so the part's next run stops what it adds" % (
                        ", ".join(str(g) for g in sorted(waiting[pid])), why, pid, named[pid]))
        for pid, (_, program) in sorted(found.items()):
            if pid in alive:
                log(unkillable(pid, program, why))
                fields = stat_of(pid)
                if fields:
                    UNKILLED[pid] = (int(fields[19]), program, frozenset(owners.get(pid) or names))
            else:
                log("stopped pid %d (%s), left in the background by an earlier run of its part's steps: %s" % (
                    pid, program, why))
    finally:
        for fd, _ in found.values():
            if fd is not None:
                os.close(fd)
    reap()
    # What could not be stopped stays recorded (a process that survived SIGKILL, a group still forked into, whose
    # forker runs on): forgotten, the part's next run looked for it no more, and what the forker added later ran on.
    procs = processes()
    forked = {g for pid in forkers if not ended(pid, None) for g in forkers[pid]}
    for name in names:
        kept = still_left(recorded[name], procs, forked)
        if kept:
            records[name] = kept
    write_left(records)
    return running


# What a state of /proc/<pid>/stat says of a process that SIGKILL did not end: the kernel holds it, and only what it
# waits for (or whoever froze it) lets it go.
HELD = {"D": "in uninterruptible sleep (state D): waiting in the kernel, on a hung disk or network mount (NFS, FUSE), "
             "or frozen (v1 cgroup freezer)"}


# pid -> (start time, program, the parts whose records found it) of each process that survived SIGKILL in this run of the
# agent: the rollback that reruns its part's steps does not wait out SIGTERM and SIGKILL again.
UNKILLED = {}


def held_by(pid):
    state = (stat_of(pid) or ["?"])[0]
    return HELD.get(state, "in state %s" % state)


def find_holder(pid):
    return ("find what holds it (cat /proc/%d/stack /proc/%d/cgroup; frozen by the v1 cgroup freezer: write THAWED to "
            "its freezer.state)" % (pid, pid))


def unkillable(pid, program, why):
    """The message for a process still running 10 s after SIGKILL: what holds it, that it stays recorded, what to do.
    Not a supervisor's doing (that is a new process, named as forked into its group): no signal ends this one."""
    fix = find_holder(pid)
    return ("could not stop pid %d (%s), left in the background by an earlier run of its part's steps (%s): still running "
            "10 s after SIGKILL, %s; it stays recorded, and is stopped once it can end when its part runs again (at every "
            "deploy, if its part left the bundle). %s" % (
                pid, program, why, held_by(pid), fix[:1].upper() + fix[1:]))


def unkilled(names):
    """pid -> (program, its parts among \`names\`) of what survived SIGKILL in this run, found by the records of any of
    the parts \`names\`, and still runs."""
    held = {}
    for pid, (start, program, parts) in UNKILLED.items():
        if parts & set(names) and still_runs(pid, start):
            held[pid] = (program, parts & set(names))
    return held


def refuse_beside(names, step, gone=False):
    """Fails the step when what the parts' earlier steps left survived SIGKILL: run beside it, a daemon's second copy
    started next to the first (two writers, a port held), and the deploy said it succeeded. It stays recorded (see
    stop_left), so the next deploy tries again; the rollback that follows does not wait for it again (unkilled).
    \`gone\`: the parts left the bundle (or have no commands now), so no step of theirs runs again, but the new
    version's may start their daemon under another part's name; and nothing but a deploy stops what they left."""
    held = unkilled(names)
    if not held:
        return
    pids = sorted(held)
    one = len(pids) == 1
    shown = ", ".join("pid %d (%s)" % (pid, held[pid][0]) for pid in pids)
    owners = sorted(set().union(*(held[pid][1] for pid in pids)))
    parts = ", ".join('"%s"' % name for name in owners)
    states = "; ".join("pid %d %s" % (pid, held_by(pid)) for pid in pids)
    if gone:
        beside = ("no step of the new version ran beside %s (a part renamed, or a daemon moved to another part, would "
                  "start its copy next to it: two writers, a port held)" % ("it" if one else "them"))
        whose = "%s, which left the bundle or %s no commands now" % (parts, "has" if len(owners) == 1 else "have")
        then = ("until %s every deploy fails here, as nothing else stops %s now that %s gone; reboot the machine if "
                "%s: the reboot ends %s, and the agent forgets what an earlier boot recorded"
                % (("it ends", "it", "its part is", "it never ends", "it") if one else
                   ("they end", "them", "their parts are", "they never end", "them")))
    else:
        beside = "the steps did not run again beside %s (a second copy of a daemon next to the first)" % ("it" if one else "them")
        whose = parts
        then = "reboot the machine if it never ends; then deploy again: it stays recorded, and the next deploy stops it before the steps run"
    raise Failure(step, "%s, left in the background by an earlier run of the steps of %s, %s after SIGKILL: %s; %s" % (
                      shown, whose, "still runs" if one else "still run", states, beside),
                  "; ".join(find_holder(pid) for pid in pids) + "; " + then)


def unreaped(pids, procs):
    """parent -> process groups: for each of \`pids\` that ended and waits for its parent to reap it, that parent, when
    it runs in the same session (not PID 1, not a subreaper of its own session, not the agent). The zombie keeps its
    group in being, and only a process of that session can fork into it: such a parent is a supervisor that may. Not
    where the group still has a process that runs (its parent's own group, say): that group was not emptied."""
    me, held = os.getpid(), {}
    live = {group for state, _, group, _ in procs.values() if state != "Z"}
    for pid in pids:
        if pid in procs and procs[pid][0] == "Z" and procs[pid][2] not in live:
            parent = procs[pid][1]
            if parent not in (0, 1, me) and not ended(parent, None) and session_of(parent) == session_of(pid):
                held.setdefault(parent, set()).add(procs[pid][2])
    return held


def catch(pids, procs):
    """The pids that still name the processes read in \`procs\`, each with a pidfd (None before Linux 5.3) and its program."""
    caught = {}
    for pid in pids:
        fd = open_pidfd(pid)
        # Opened, then checked: a pidfd names the process checked, whatever its pid names later.
        if still_runs(pid, procs[pid][3]):
            caught[pid] = (fd, program_name(pid))
        elif fd is not None:
            os.close(fd)
    return caught


def left_running(entries, procs):
    """The recorded processes that still run, what joined their process groups since they were recorded (what a wrapper
    forked later: \`sh -c 'sleep 2; daemon' &\`, whose sh alone was recorded, left its daemon orphaned), and what is below
    any of them now, in whatever session or group (\`setsid daemon &\` forked later by a recorded process that still runs)."""
    me = os.getpid()
    alive = {e[0] for e in entries if e[0] in procs and procs[e[0]][0] != "Z" and procs[e[0]][3] == e[1]}
    since, cgroups = {}, {}
    for e in entries:
        if len(e) > 3 and e[3] is not None:  # recorded with its group (not a mark's entry: see forget_ended)
            since[e[3]] = min(e[1], since.get(e[3], e[1]))
            if len(e) > 4:
                cgroups.setdefault(e[3], set()).add(started_in(e[4]))
    for pgid, start in since.items():
        # A group's id is the pid of its first process, never given to another process while the group has one: a
        # process of that pid that is not the recorded one means the group ended and the number went to another.
        if pgid in procs and not any(e[0] == pgid and e[1] == procs[pgid][3] for e in entries):
            continue
        # A record of an earlier build of this version kept no cgroup: the group is the recorded one only while a recorded
        # process still runs in it (a group lives as long as one of its processes). Once they have all left or ended its
        # number may have come back after a pid wrap, and nothing tells that group from the recorded one: it is spared.
        if pgid not in cgroups and not any(e[0] in alive and procs[e[0]][2] == pgid for e in entries):
            continue
        # Whose first process has exited too, that tells nothing (a daemon that forked twice, its group's first process
        # gone, got the number after a pid wrap between deploys): its cgroup does. A process stays in the cgroup of the
        # one that forked it (under systemd, the deploy's SSH session scope, or a unit's), so a later group of that
        # number is the recorded one's only if it was started from there (see the note on step processes in day-2.md).
        members = {pid for pid, (state, _, group, began) in procs.items() if group == pgid and state != "Z" and began >= start and pid != me}
        alive |= {pid for pid in members if pgid not in cgroups or cgroup_of(pid) in cgroups[pgid]}
    # What any process of the steps started, found by the mark its run gave it (see step_mark), wherever it went: a
    # \`setsid\` child whose recorded parent has exited is PID 1's, in no recorded group.
    alive |= set(marked(entries, procs))
    grew = True
    while grew:
        below = {pid for pid, (state, ppid, _, _) in procs.items() if ppid in alive and state != "Z" and pid != me} - alive
        alive |= below
        grew = bool(below)
    return alive


# The environment variable each run of a part's steps gives its commands, with a value of its own (step_mark): whatever
# they start inherits it (a \`setsid\` daemon too), and keeps it however its parents end, unless it writes over its
# environment (a process title: PostgreSQL, nginx, setproctitle). What systemd starts for them (\`systemctl start\`)
# does not: a unit's environment is systemd's.
STEP_MARK = "SOVEREIGN_ROLLOUT_STEP"


def step_mark():
    """A value no other run of the steps has (128 random bits): a process carrying it is a descendant of that run,
    whatever pid the kernel gave it, so no pid reuse can make a stranger carry it."""
    return os.urandom(16).hex()


def mark_of(pid):
    """The step mark in a process's environment, "" when it has none or is gone. /proc/<pid>/environ is the process's
    memory as it is now, not a copy kept from its exec: a process that wrote its title over it (setproctitle) lost it."""
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            environ = f.read()
    except OSError:
        return ""
    prefix = (STEP_MARK + "=").encode()
    for variable in environ.split(b"\\0"):
        if variable.startswith(prefix):
            return variable[len(prefix):].decode("ascii", "replace")
    return ""


def marked(entries, procs):
    """pid -> mark of each running process carrying the mark of a run that recorded \`entries\` (their sixth field),
    started no earlier than what that run recorded, from the cgroup that run's processes were started in. Records
    without marks (an earlier build's) find none.

    The mark says what inherited the step's environment, which is not only what the step started: a unit systemd
    started while a step's \`systemctl import-environment\` (or \`set-environment\`) had put the mark in systemd's
    own environment carries it too, and was stopped as the step's. systemd starts each unit in a cgroup of its own
    (system.slice/<unit>), which nothing the step starts can leave but through systemd; what the step started stays
    in the cgroup the agent ran it in (the deploy's session scope), with the processes recorded with the mark."""
    since, where = {}, {}
    for e in entries:
        if len(e) > 5 and e[5]:
            since[e[5]] = min(e[1], since.get(e[5], e[1]))
            where.setdefault(e[5], set()).add(started_in(e[4]))
    if not since:
        return {}
    me, found = os.getpid(), {}
    for pid, (state, _, _, began) in procs.items():
        if pid != me and state != "Z":
            mark = mark_of(pid)
            # "" matches any: a mark-only entry of an earlier build, which kept no cgroup (still_left gives it those its
            # carriers run in), or a host whose /proc/<pid>/cgroup has neither line (no systemd, and no cgroup2 mounted
            # since boot: the kernel shows 0:: only then, and before 4.5 never).
            # A host that shares one cgroup among all says 0::/ for each: a plain match.
            if mark in since and began >= since[mark] and ("" in where[mark] or cgroup_of(pid) in where[mark]):
                found[pid] = mark
    return found


def cgroup_of(pid):
    """Where a process was started, from /proc/<pid>/cgroup, None when it is gone: under systemd, the unit or session scope
    that started it, which setsid and setpgid leave as it is (see started_in)."""
    try:
        with open("/proc/%d/cgroup" % pid) as f:
            return started_in(f.read())
    except OSError:
        return None


def started_in(cgroups):
    """The lines of a /proc/<pid>/cgroup text that say where its process was started: the unified hierarchy's (0::) and,
    on a hybrid or legacy host, systemd's own (name=systemd; there 0:: may say only /). Not a v1 resource controller's
    (memory, cpu): anything may move a process there, and the whole text, compared, spared a later member of a recorded
    group moved in one. "" on a host with neither (no systemd, no cgroup2 mounted). A record of an agent that kept the
    whole text is read through this too."""
    return "\\n".join(line for line in cgroups.strip().split("\\n") if line.startswith("0::") or line.split(":")[1:2] == ["name=systemd"])


def boot_id():
    """This boot's id: process start times count from the boot, and a pid and start time name a process only within it."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip()
    except OSError:
        return ""


def read_left():
    """The recorded processes by part; none from another boot (the machine rebooted, or was built from another
    machine's snapshot, whose file came with it): there a pid and start time may name another process."""
    recorded = read_json(STEP_PROCESSES, {})
    return recorded.get("parts", {}) if recorded.get("boot") == boot_id() else {}


def write_left(records):
    write_atomic(STEP_PROCESSES, json.dumps({"boot": boot_id(), "parts": records}).encode(), 0o600)


def forget_ended():
    """Forgets the recorded processes that ended, their groups with them: once a group has no process left its number
    is free, and a group that later takes it (under a process that got the pid, since gone) would be stopped as theirs."""
    records = read_left()
    if not records:
        return
    procs = processes()
    kept = {name: still_left(entries, procs) for name, entries in records.items()}
    kept = {name: entries for name, entries in kept.items() if entries}
    if kept != records:
        write_left(kept)


def still_left(entries, procs, groups=()):
    """The entries of a part's record that still name something running: its processes that run, the groups that still
    have one (or are in \`groups\`: forked into by a process that runs; or live on in a recorded process that ended,
    whose parent may fork into them: see unreaped), and the marks running processes carry."""
    alive = left_running(entries, procs)
    recorded = {e[0] for e in entries if e[0] in procs and procs[e[0]][3] == e[1]}
    groups = {procs[pid][2] for pid in alive} | set(groups) | {g for held in unreaped(recorded, procs).values() for g in held}
    kept = [e for e in entries if e[0] in alive or (len(e) > 3 and e[3] in groups)]
    # A run whose recorded processes ended while what they started runs on (a setsid child) is kept by its mark, in
    # entries of no pid or group: its ended processes' numbers, kept, are what a pid wrap gives to others. Their start
    # is the run's earliest, so that marked() still finds all it started, and there is one for each cgroup a process
    # carrying the mark runs in that no kept entry names: marked() asks for one of those, and a run whose processes were
    # recorded in two (a step's \`systemd-run --scope\`) lost the other's setsid child with its last recorded process.
    carriers = {}
    for pid, mark in marked(entries, procs).items():
        carriers.setdefault(mark, set()).add(cgroup_of(pid))
    for mark, cgroups in sorted(carriers.items()):
        start = min(e[1] for e in entries if len(e) > 5 and e[5] == mark)
        named = [e for e in kept if len(e) > 5 and e[5] == mark]
        missing = cgroups - {started_in(e[4]) for e in named} - {None}
        if not missing and not any(e[1] == start for e in named):
            missing = set(sorted(cgroups - {None})[:1])
        kept += [[None, start, "", None, where, mark] for where in sorted(missing)]
    return kept


def remember_left(part, left):
    records = read_left()
    records[part] = records.get(part, []) + left
    write_left(records)


def open_pidfd(pid):
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None  # before Linux 5.3, or gone


def send(pid, fd, sig):
    try:
        if fd is not None:
            signal.pidfd_send_signal(fd, sig)
        else:
            os.kill(pid, sig)
    except OSError:
        pass  # gone already


def wait_ended(found, deadline):
    """Waits for the processes (pid -> (pidfd, name)) together; returns the pids still running at the deadline. A pidfd
    is readable once its process ended, whoever its parent is."""
    while True:
        alive = {pid: fd for pid, (fd, _) in found.items() if not ended(pid, fd)}
        left = deadline - time.monotonic()
        if not alive or left <= 0:
            return set(alive)
        if None in alive.values():
            time.sleep(min(0.05, left))  # before Linux 5.3
            continue
        with selectors.DefaultSelector() as waiting:
            for fd in alive.values():
                waiting.register(fd, selectors.EVENT_READ)
            waiting.select(left)


def ended(pid, fd):
    if fd is not None:
        with selectors.DefaultSelector() as waiting:
            waiting.register(fd, selectors.EVENT_READ)
            return bool(waiting.select(0))
    fields = stat_of(pid)
    return fields is None or fields[0] == "Z"


def reap():
    """Reaps what the agent adopted and what ended (a killed orphan is its child, as subreaper)."""
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


def adopt_orphans():
    """Makes the agent the parent of every orphan of its commands (PR_SET_CHILD_SUBREAPER), so that a timeout finds
    a daemon that left its command's process group, and the agent reaps what it killed."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the process group alone


def metric(success, version):
    lines = [
        "# HELP sovereign_rollout_success Whether the last rollout of the machine's bundle succeeded.",
        "# TYPE sovereign_rollout_success gauge",
        "sovereign_rollout_success %d" % (1 if success else 0),
        "# HELP sovereign_rollout_timestamp_seconds When the last rollout ended.",
        "# TYPE sovereign_rollout_timestamp_seconds gauge",
        "sovereign_rollout_timestamp_seconds %d" % int(time.time()),
    ]
    if version:
        lines += ["# HELP sovereign_bundle_info The bundle version the machine runs.", "# TYPE sovereign_bundle_info gauge",
                  'sovereign_bundle_info{version="%s"} 1' % version]
    try:
        write_textfile("sovereign_rollout.prom", ("\\n".join(lines) + "\\n").encode())
    except OSError:
        pass


def write_textfile(name, data):
    """Writes a file of node exporter's directory. That directory sits in prometheus's /var/lib/prometheus: prometheus can
    swap it for a symlink (to /etc) or a directory of its own. So it is opened without following a symlink, written only
    if root's, and the file is made and renamed relative to its fd (write_atomic), never through its path."""
    shown = TEXTFILE_DIR[len(ROOT):]
    try:
        os.makedirs(TEXTFILE_DIR, mode=0o755, exist_ok=True)
    except FileExistsError:
        pass  # a dangling symlink there: refused below
    try:
        fd_dir = os.open(TEXTFILE_DIR, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as e:
        fix = "remove it, then deploy again" if e.errno in (errno.ELOOP, errno.ENOTDIR) else "deploy again once it can be"
        log("%s cannot be opened as a directory without following a symlink (%s): %s not written (%s)" % (shown, e.strerror, name, fix))
        return
    try:
        owner = os.fstat(fd_dir).st_uid
        if owner != os.geteuid():
            log("%s is owned by uid %d, not root: %s not written (chown it to root or remove it, then deploy again)" % (shown, owner, name))
            return
        # What a write of this metric cut short left (it holds no secret, but node exporter's directory is no place for it).
        remove_leftovers_in(fd_dir, shown)
        write_atomic(name, data, 0o644, dir_fd=fd_dir)
    finally:
        os.close(fd_dir)


def wait_for_first_boot():
    # A rollout right after the server was created meets cloud-init still running apt.
    if ROOT or not os.path.isdir("/run/cloud-init") or not shutil.which("cloud-init"):
        return
    log("waiting for cloud-init to finish the first boot")
    run(["cloud-init", "status", "--wait"], timeout=1200)


def load_bundle(version, incoming):
    try:
        with open(os.path.join(incoming, "bundle.gz.b64"), "rb") as f:
            raw = gzip.decompress(base64.b64decode(f.read(), validate=False))
    except (OSError, ValueError, EOFError) as e:
        raise Failure("receive the bundle", "the bundle cannot be read or decoded (%s)" % type(e).__name__,
                      "run the deploy again; the transfer was probably cut")
    received = "sha256:" + digest(raw)
    if received != version:
        raise Failure("verify the checksum", "the bundle received hashes to %s, the deploy expected %s: it was altered or cut in transit"
                      % (received[:19], version[:19]), "run the deploy again from one synth (cdktf synth, then deploy)")
    try:
        bundle = json.loads(raw)
    except ValueError:
        raise Failure("read the bundle", "the bundle is not valid JSON", "run the deploy again from one synth")
    try:
        with open(os.path.join(incoming, "inputs.json"), "rb") as f:
            inputs_raw = f.read()
        inputs = json.loads(inputs_raw)
    except (OSError, ValueError):
        # The inputs hold secrets: say which step failed, never what they contain.
        raise Failure("read the inputs", "the deploy-time inputs (secrets, addresses) are missing or not valid JSON",
                      "check that every TF_VAR_ the stack declares is set, then deploy again")
    return bundle, inputs, digest(inputs_raw)


def desired_files(bundle, inputs):
    files = {}
    for part in bundle["parts"]:
        for f in part.get("files", []):
            if "content" in f:
                data = f["content"].encode()
            elif f["path"] in inputs:
                data = inputs[f["path"]].encode()
            else:
                raise Failure("read the inputs", "no deploy-time content for " + f["path"], "run the deploy again from one synth")
            files[f["path"]] = {"data": data, "mode": int(f.get("mode", "0644"), 8), "owner": f.get("owner", "root:root"),
                                "part": part["name"], "check": f.get("check"), "secret": "content" not in f}
    return files


def fingerprint(spec):
    return digest(spec["data"]) + ":%o:%s" % (spec["mode"], spec["owner"])


def on_disk(path, spec):
    try:
        st = os.stat(real(path))
        with open(real(path), "rb") as f:
            if f.read() != spec["data"] or (st.st_mode & 0o7777) != spec["mode"]:
                return False
    except OSError:
        return False
    if os.geteuid() != 0:
        return True
    ids = owner_ids(spec["owner"])
    if ids is None:
        return bool(ROOT)  # see chown
    return (st.st_uid, st.st_gid) == ids


def is_unit_file(path):
    return path.startswith(UNIT_DIR) and path.endswith(UNIT_SUFFIXES) and ".d/" not in path[len(UNIT_DIR):]


def verify_unfinished(code):
    """Why a systemd-analyze verify that exited \`code\` verified nothing, with the fix; None when it ran to its end.
    It exits 1 on findings that do not concern the unit file (an ExecStart not yet in place, as on a first deploy, where
    the bundle's scripts are staged but not installed): only its lines of UNIT_ERRORS refuse a unit. A code that says
    it did not run or finish (timed out, killed, cannot be run, not found) verified nothing."""
    held = "find what holds systemd-analyze on the machine (a slow generator, a hung mount), then deploy again"
    if code == 124:
        return "did not finish (timed out)", held
    if code < 0:
        return "did not finish (killed by signal %d)" % -code, held
    if code == 126:
        return ("did not run: cannot be run (126)",
                "make /usr/bin/systemd-analyze executable again (its mode, a noexec mount), then deploy again")
    if code == 127:
        return ("did not run: not found (127)",
                "install systemd-analyze again (apt-get install --reinstall systemd), then deploy again")
    return None


def units_verify_together(units, staged):
    """One systemd-analyze for all the bundle's unit files (each call costs a start of it): True when it ran to its end
    and printed no line of UNIT_ERRORS, as a call per file passes. Otherwise the caller verifies file by file, which
    names the bad file (the batch's lines name the staged path, and a call that did not finish named none). A single
    file, or two files of one name (they would load as one unit), go file by file at once."""
    names = [os.path.basename(path) for path in units]
    if len(units) < 2 or len(set(names)) != len(names):
        return False
    code, out = run(["systemd-analyze", "verify"] + [staged + path for path in units], timeout=120)
    return verify_unfinished(code) is None and not any(e in l for l in out.splitlines() for e in UNIT_ERRORS)


def check_staged(files, staged):
    verified = units_verify_together([path for path in sorted(files) if is_unit_file(path)], staged)
    for path, spec in sorted(files.items()):
        target = staged + path
        argvs = []
        if is_unit_file(path) and not verified:
            code, out = run(["systemd-analyze", "verify", target], timeout=120)
            bad = [l for l in out.splitlines() if any(e in l for e in UNIT_ERRORS)]
            if bad:
                raise Failure("check " + path, "systemd-analyze verify refuses the unit:\\n" + tail("\\n".join(bad)),
                              "correct the unit file in the bundle part, synthesize and deploy again")
            unfinished = verify_unfinished(code)
            if unfinished:
                # A verify that did not run or finish checked nothing: the unit would go in unverified.
                raise Failure("check " + path, "systemd-analyze verify %s:\\n%s" % (unfinished[0], tail(out)), unfinished[1])
        if spec["data"].startswith(b"#!/bin/bash") or spec["data"].startswith(b"#!/usr/bin/env bash"):
            argvs.append(["bash", "-n", target])
        elif spec["data"].startswith(b"#!/bin/sh"):
            argvs.append(["sh", "-n", target])
        elif spec["data"].startswith(b"#!/usr/bin/python3"):
            try:
                compile(spec["data"], path, "exec")
            except SyntaxError as e:
                raise Failure("check " + path, "python3 cannot parse it (line %s: %s)" % (e.lineno, e.msg),
                              "correct the script, synthesize and deploy again")
        if spec["check"]:
            argvs.append([target if a == "{}" else a for a in spec["check"]])
        for argv in argvs:
            code, out = run(argv, timeout=300)
            if code != 0:
                shown = "(output withheld: the file holds deploy-time inputs)" if spec["secret"] else tail(out)
                raise Failure("check " + path, "%s exited %d on the staged file:\\n%s" % (argv[0], code, shown),
                              "correct the file in the bundle part, synthesize and deploy again")


def repair_dpkg():
    """Finishes what an interrupted dpkg left (an apt-get stopped at the timeout takes its dpkg with it). dpkg keeps a
    journal in updates/ until an operation ends; while it holds an entry, apt-get refuses every install ("dpkg was
    interrupted, you must manually run 'dpkg --configure -a'"), so each later deploy that adds a package failed, and
    unattended-upgrades stopped too. A package cut short while unpacking (half-installed) is beyond --configure -a, which
    passes it by and exits 0: only a reinstall finishes it, and apt-get refuses installs until then. Returns the Failure
    when dpkg stays broken, for the caller to raise only when packages are to be installed: a deploy that installs none
    does not need dpkg."""
    admin = real("/var/lib/dpkg")
    if not os.path.isdir(admin):
        return None
    try:
        journal = [n for n in os.listdir(admin + "/updates") if n.isdigit()]
    except OSError:
        journal = []
    # Under SOVEREIGN_ROOT (tests) dpkg works on that directory's own database, and runs the packages' scripts there
    # without a chroot (the directory holds no shell).
    root = ["--root=" + ROOT, "--force-script-chrootless"] if ROOT else []
    if not journal and not half_installed(root):
        return None
    if dpkg_running(admin):
        return None  # what it unpacks now is half-installed until it is done: its own
    broken = None
    if journal:
        log("dpkg was interrupted (%d journal entries in %s/updates): running dpkg --configure -a" % (len(journal), admin))
        code, out = run(["dpkg"] + root + ["--force-confdef", "--force-confold", "--configure", "-a"],
                        env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        # unattended-upgrades may have started between the look at the locks and dpkg (which then finds them taken): its own.
        if code != 0 and dpkg_running(admin):
            return None
        if code != 0:
            broken = Failure("finish the interrupted dpkg", "dpkg --configure -a exited %d:\\n%s" % (code, tail(out)),
                             "run dpkg --configure -a on the machine, correct what it reports, then deploy again")
    half = half_installed(root)
    if not half:
        return broken
    # Not reinstalled here: that fetches the package again, and the mirror may no longer hold the version cut short. A
    # package cut short while being removed or purged (selected r or p) is finished by that removal, not a reinstall.
    # One flagged reinst-required (R) is refused by dpkg --remove ("you should reinstall it before attempting a
    # removal") unless forced.
    fixes = [("apt-get install --reinstall", "reinstall", "unpacking", [n for n, want, _ in half if want not in "rp"]),
             ("dpkg --remove", "removal", "removal", [n for n, want, req in half if want == "r" and not req]),
             ("dpkg --purge", "purge", "removal", [n for n, want, req in half if want == "p" and not req]),
             ("dpkg --remove --force-remove-reinstreq", "removal", "removal", [n for n, want, req in half if want == "r" and req]),
             ("dpkg --purge --force-remove-reinstreq", "purge", "removal", [n for n, want, req in half if want == "p" and req])]
    fixes = [f for f in fixes if f[3]]
    names = [n for f in fixes for n in f[3]]
    return Failure("finish the interrupted dpkg", "dpkg left %s half-installed (its %s was cut short): dpkg --configure -a"
                   " cannot finish %s, only a %s can%s" % (
                       ", ".join(names), " or ".join(sorted({f[2] for f in fixes})), "it" if len(names) == 1 else "them",
                       " or ".join(sorted({f[1] for f in fixes}, key=[f[1] for f in fixes].index)), "; " + broken.message if broken else ""),
                   "run %s on the machine, then deploy again" % " and ".join("%s %s" % (f[0], " ".join(f[3])) for f in fixes))


def half_installed(root):
    """The packages dpkg wants reinstalled or removed, with the action selected for each (i install, r remove, p purge)
    and whether it is flagged reinst-required (R): half-installed (H), or so flagged."""
    code, out = run(["dpkg-query"] + root[:1] + ["-W", "-f=\${db:Status-Abbrev}|\${binary:Package}\\n"])
    if code != 0:
        return []
    return sorted((name, abbrev[:1], abbrev[2:3] == "R") for abbrev, _, name in (l.partition("|") for l in out.splitlines())
                  if name and (abbrev[1:2] == "H" or abbrev[2:3] == "R"))


def tolerate(broken):
    """A rollout that installs no package goes on with dpkg broken, and says so."""
    log("%s (%s); no package to install, so the rollout goes on" % (broken.message.replace("\\n", " "), broken.fix))


def dpkg_running(admin):
    """Whether a dpkg runs now (unattended-upgrades): its journal holds entries until it ends, and is no sign of an
    interruption. dpkg holds an fcntl lock on lock while it works, and apt on lock-frontend between its dpkg runs;
    trying them tells, and each is released at once."""
    for name in ("lock-frontend", "lock"):
        try:
            fd = os.open(admin + "/" + name, os.O_RDWR)
        except OSError:
            continue  # never created: nothing has taken it
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            log("dpkg is running (another apt-get, or unattended-upgrades): its journal is its own, the next rollout looks again")
            return True
        finally:
            os.close(fd)
    return False


def install_packages(packages):
    broken = repair_dpkg()
    wanted = sorted(set(packages))
    missing = not_installed(wanted)
    if broken and missing:
        raise broken
    if broken:
        tolerate(broken)
    if not missing:
        return
    if ROOT:
        log("packages not installed under SOVEREIGN_ROOT: " + " ".join(missing))
        return
    log("installing " + " ".join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for argv in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + missing):
        code, out = run(argv, env=env)
        if code != 0:
            raise Failure("install packages", "%s exited %d:\\n%s" % (" ".join(argv[:2]), code, tail(out)),
                          "check that the machine reaches the Debian mirrors (egress allowlist, DNS), then deploy again")


def not_installed(packages):
    """The packages dpkg does not have installed, from one dpkg-query for all of them (one per package was a process and a
    read of dpkg's whole database each, some 25 a rollout of a production bundle). A name dpkg does not know is missing:
    dpkg-query says so on stderr, in no line of the format; so is one whose query fails (no dpkg-query)."""
    if not packages:
        return []
    out = run(["dpkg-query", "-W", "-f=\${Package}\\t\${binary:Package}\\t\${Architecture}\\t\${Status}\\n"] + packages)[1]
    installed = set()
    for line in out.splitlines():
        fields = line.split("\\t")
        # Status is "<wanted> <flag> <state>": a package held (hold ok installed), or marked for removal but still there
        # (deinstall ok installed), is installed; one half configured, or that dpkg must reinstall (reinstreq), is not.
        if len(fields) == 4 and fields[3].split(" ")[1:] == ["ok", "installed"]:
            # Asked for as "name" or as "name:arch": binary:Package carries the architecture only for Multi-Arch: same
            # packages (libc6:amd64), so "bash:amd64" and "tzdata:all" are matched through the Architecture field.
            installed.update((fields[0], fields[1], "%s:%s" % (fields[0], fields[2])))
    return [p for p in packages if p not in installed]


def command_argv(command):
    if isinstance(command, str):
        return ["sh", "-c", command]
    argv = list(command)
    if ROOT and argv[0].startswith("/") and os.path.exists(real(argv[0])):
        argv[0] = real(argv[0])
    return argv


def parts_to_run(bundle, changed, previous_parts):
    chosen = []
    for part in bundle["parts"]:
        commands = part.get("commands", [])
        if not commands:
            continue
        own = {f["path"] for f in part.get("files", [])}
        text = json.dumps(commands)
        if (previous_parts.get(part["name"]) != digest(text.encode()) or own & changed
                or any(p in text for p in changed)):
            chosen.append(part)
    return chosen


def run_parts(parts, previous_root, ran=None, refuse=True):
    """Runs the parts' commands in order; \`ran\` (a list, when given) gets the name of each part whose commands started.
    A part's commands all run again together, so what they left in the background before goes first: a part whose
    earlier process survived SIGKILL is refused (refuse_beside), unless \`refuse\` is False (a rollback)."""
    for part in parts:
        if ran is not None:
            ran.append(part["name"])
        stop_left([part["name"]], "its part is activated again", 'activate "%s"' % part["name"] if refuse else None)
        mark = step_mark()
        env = dict(os.environ, SOVEREIGN_PREVIOUS_ROOT=previous_root, **{STEP_MARK: mark})
        try:
            for command in part["commands"]:
                argv = command_argv(command)
                left = []
                code, out = run(argv, env=env, left=left)
                if left:
                    remember_left(part["name"], [e + [mark] for e in left])
                if not isinstance(command, str) and command and command[0] in REMOVAL_TOOL_PATHS:
                    show_removals('activate "%s"' % part["name"], out)
                if code != 0:
                    shown = command if isinstance(command, str) else " ".join(command)
                    raise Failure('activate "%s"' % part["name"], "%s exited %d:\\n%s" % (shown[:200], code, tail(out)),
                                  "fix the cause shown above and deploy again")
        finally:
            unset_mark_in_systemd()


def unset_mark_in_systemd():
    """Removes the step mark from systemd's own environment, where a step's \`systemctl import-environment\` or
    \`set-environment\` put it: every unit systemd started afterwards, until the next boot, carried it (a timer's
    backup-push too), and the part's next run stopped them with what the part left."""
    if not os.path.isdir(ROOT + "/run/systemd/system"):
        return  # systemd does not run (a container, the tests' machine): it holds no environment of the steps
    code, out = run(["systemctl", "unset-environment", STEP_MARK])
    if code != 0:
        log("could not remove %s from systemd's environment (systemctl unset-environment exited %d: %s): a unit started "
            "later may carry a step's mark and be stopped with the part; run systemctl unset-environment %s" % (
                STEP_MARK, code, tail(out).strip()[:200], STEP_MARK))


def install_command():
    with open(os.path.abspath(__file__), "rb") as f:
        agent = f.read()
    try:
        with open(COMMAND, "rb") as f:
            if f.read() == agent:
                return
    except OSError:
        pass
    write_atomic(COMMAND, agent, 0o755)


def apply(version, incoming):
    # A dropped SSH session must not stop an apply halfway: it runs to its end, which the next deploy reads.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    adopt_orphans()
    os.makedirs(STATE, mode=0o700, exist_ok=True)
    with open(STATE + "/lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        current = read_json(STATE + "/current.json", {})
        try:
            install_command()
            forget_ended()
            summary = apply_locked(version, incoming, current)
        except Exception as e:
            f = e if isinstance(e, Failure) else Failure("apply the bundle", describe(e), "fix the cause shown above and deploy again")
            metric(False, current.get("version"))
            try:
                sys.stderr.write("sovereign-rollout: FAILED to %s: %s\\n" % (f.step, f.message))
                sys.stderr.write("sovereign-rollout: the machine keeps running %s.\\n" % (current.get("version") or "its previous files (no bundle yet)"))
                sys.stderr.write("sovereign-rollout: Fix: %s\\n" % f.fix)
            except OSError:
                pass
            return 1
        finally:
            shutil.rmtree(incoming, ignore_errors=True)  # it holds the inputs, secrets included
        metric(True, version)
        log(summary)
        return 0


def apply_locked(version, incoming, current):
    bundle, inputs, inputs_digest = load_bundle(version, incoming)
    files = desired_files(bundle, inputs)
    release = digest((version + inputs_digest).encode())[:16]
    # An activation that never ended left its files switched and its commands not (all) run: its files
    # count as changed until one ends, and the files it replaced stay the previous version.
    pending = read_json(PENDING, None)
    unfinished = set(pending["touched"]) if pending else set()
    changed = {p for p, spec in files.items() if not on_disk(p, spec)}
    # What the machine has: the files of the last bundle, and those of a part that activated first when the rest failed.
    old_bundle = read_json(STATE + "/current-bundle.json", {"parts": []})
    installed = set(current.get("files", {})) | {f["path"] for p in old_bundle["parts"] for f in p.get("files", [])}
    removed = {p for p in installed | unfinished if p not in files}
    remove_write_leftovers({os.path.dirname(p) for p in set(files) | installed | unfinished}
                           | {STATE[len(ROOT):], os.path.dirname(COMMAND[len(ROOT):])})
    previous_parts = current.get("parts", {})
    if current.get("release") == release and not changed and not removed and not unfinished:
        # Nothing to switch, but an interrupted dpkg still blocks unattended-upgrades, and "deploy again" is what the
        # failure that left it told the operator to do: it is finished here too.
        broken = repair_dpkg()
        if broken:
            tolerate(broken)
        return "%s already runs bundle %s; nothing to do" % (bundle["machine"], version[:19])
    if pending:
        log("finishing an activation that did not end (%d files)" % len(unfinished))
    wait_for_first_boot()
    switched = len(changed)

    # A part that activates first (the egress allowlist) and never ran here goes through a switch of its own
    # before the other parts' packages are installed: nothing they install or start runs before it. It stays
    # active if the rest fails, and its commands then run again on the next apply (idempotent).
    first = [p for p in bundle["parts"] if p.get("activatesFirst") and p["name"] not in previous_parts]
    own = {f["path"] for p in first for f in p.get("files", [])}
    # An activation cut short that touched only their files was their own switch: it is finished by this one.
    if first and (not pending or unfinished <= own):
        log("activating %s before the other parts' packages are installed" % ", ".join('"%s"' % p["name"] for p in first))
        switch({"parts": first}, {p: files[p] for p in own}, changed & own, set(), set(), unfinished, pending, release, previous_parts, old_bundle)
        pending, unfinished = None, set()
        # Recorded with the bundle the machine runs: if the rest fails, a later bundle without the part removes its files
        # and units, and a rollback re-activates it. Not in current.json: its commands run again on the next apply with it.
        names = {p["name"] for p in first}
        old_bundle = dict(old_bundle, parts=[p for p in old_bundle["parts"] if p["name"] not in names] + first)
        write_atomic(STATE + "/current-bundle.json", json.dumps(old_bundle).encode(), 0o600)
        end_activation()
        log("%s active; it stays active if the rest of the bundle fails" % ", ".join('"%s"' % p["name"] for p in first))
        previous_parts = dict(previous_parts, **{p["name"]: digest(json.dumps(p.get("commands", [])).encode()) for p in first})
        changed = changed - own
    switch(bundle, files, changed, removed, runtime_files_left(old_bundle, bundle), unfinished, pending, release,
           previous_parts, old_bundle, set(read_left()) - {p["name"] for p in bundle["parts"] if p.get("commands")})

    write_atomic(STATE + "/current-bundle.json", json.dumps(bundle).encode(), 0o600)
    write_atomic(STATE + "/current.json", json.dumps({
        "machine": bundle["machine"], "version": version, "release": release, "installedAt": int(time.time()),
        "files": {p: fingerprint(s) for p, s in sorted(files.items())},
        "parts": {p["name"]: digest(json.dumps(p.get("commands", [])).encode()) for p in bundle["parts"]},
    }, indent=1).encode(), 0o600)
    end_activation()
    return "%s now runs bundle %s: %d files changed, %d removed" % (bundle["machine"], version[:19], switched, len(removed))


def runtime_files(bundle):
    """What the parts' own programs write on the machine (a textfile metric): it goes with the part."""
    return {f for p in bundle["parts"] for f in p.get("runtimeFiles", [])}


def runtime_files_left(old_bundle, bundle):
    """The runtime files of the parts of old_bundle that bundle has no longer (by name). A part in both keeps all it
    writes: a file only one of its versions lists (a revert, a rollback of an upgrade) is still that part's."""
    names = {p["name"] for p in bundle["parts"]}
    return {f for p in old_bundle["parts"] if p["name"] not in names for f in p.get("runtimeFiles", [])} - runtime_files(bundle)


def remove_runtime_files(paths):
    """A runtime file sits in a directory another user may write in (node exporter's, in prometheus's
    /var/lib/prometheus), which could be swapped for a symlink: each is unlinked relative to its directory opened
    without following one (open_dir_walk); a path through such a symlink is named in the log and left alone."""
    for path in sorted(paths):
        try:
            remove_file(path, open_dir_walk)
            log("removed %s, written by a part that is gone" % path)
        except FileNotFoundError:
            pass
        except OSError as e:
            if e.errno not in (errno.ELOOP, errno.ENOTDIR):
                raise
            log("%s not removed: a directory on its path is a symlink where another user can write, or no directory; "
                "remove that symlink, then delete the file by hand" % path)


def open_dir_walk(path):
    """A directory of the machine, opened component by component from / relative to the one before: a symlink is
    followed only where root alone can write (merged /usr's /lib, /var/run); anywhere else it raises OSError (ELOOP),
    as a file in place of a directory does (ENOTDIR)."""
    fd = os.open(ROOT or "/", os.O_RDONLY | os.O_DIRECTORY)
    try:
        for name in [n for n in path.split("/") if n]:
            st = os.fstat(fd)
            trusted = st.st_uid == 0 and not st.st_mode & 0o022
            inner = os.open(name, os.O_RDONLY | os.O_DIRECTORY | (0 if trusted else os.O_NOFOLLOW), dir_fd=fd)
            os.close(fd)
            fd = inner
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_dir_by_path(path):
    return os.open(real(path), os.O_RDONLY | os.O_DIRECTORY)


def remove_file(path, opener=open_dir_by_path):
    """Removes a file of the machine, relative to its directory as \`opener\` opens it; a unit's drop-in directory
    (/etc/systemd/system/<unit>.d) goes with its last drop-in: left empty, it stayed behind for every backup job or
    monitoring unit a deploy removed. One that still holds a file (the team's override.conf, another part's drop-in)
    stays as it is."""
    directory = os.path.dirname(path)
    fd = opener(directory)
    try:
        os.unlink(os.path.basename(path), dir_fd=fd)
    finally:
        os.close(fd)
    if os.path.dirname(directory) + "/" == UNIT_DIR and directory.endswith(".d"):
        try:
            fd = opener(os.path.dirname(directory))
            try:
                os.rmdir(os.path.basename(directory), dir_fd=fd)
            finally:
                os.close(fd)
        except OSError:
            pass  # not empty: what else it holds keeps it


def switch(bundle, files, changed, removed, runtime_gone, unfinished, pending, release, previous_parts, old_bundle,
           leaving=()):
    """Stages the changed files, installs the bundle's packages, checks, switches, and runs the commands of the parts
    whose files changed; on a failure puts the previous files back and activates them again, then raises. What the
    removed parts' programs wrote (runtime_gone) goes once the switch has succeeded; what the bundle's new parts wrote
    before a rollback goes with it. What the steps of the parts \`leaving\` the bundle, or keeping their name without
    commands (none runs again to stop it), left running goes before any command runs."""
    work = "%s/%s" % (RELEASES, release)
    staged = work + "/staged"
    previous_root = pending["previous"] if pending else work + "/previous"
    shutil.rmtree(staged, ignore_errors=True)
    if not pending:
        shutil.rmtree(previous_root, ignore_errors=True)
    # What each Debian unit a file new to the machine overrides did before this version (its packages may bring and
    # start the unit, its commands \`enable --now\` it): a rollback puts that back when the file goes. Kept from an
    # activation that did not end, whose files are on the machine already.
    units = dict(pending.get("units", {})) if pending else {}
    for path in sorted(changed):
        if path.startswith(UNIT_DIR) and not os.path.lexists(real(path)) and path[len(UNIT_DIR):] not in units:
            units[path[len(UNIT_DIR):]] = unit_state(path)
    try:
        for path in changed:
            write_atomic(staged + path, files[path]["data"], files[path]["mode"])
        # Packages first: the checks use their tools (promtool), and installing them stops nothing that runs.
        install_packages(p for part in bundle["parts"] for p in part.get("packages", []))
        check_staged({p: files[p] for p in changed}, staged)
    except BaseException:
        if not pending:
            shutil.rmtree(RELEASES, ignore_errors=True)  # refused before the switch, with no activation pending: nothing is kept
        raise
    finally:
        shutil.rmtree(staged, ignore_errors=True)  # staged secrets never outlive the apply

    # Keep what is replaced or removed (a file the unfinished activation replaced is kept already), then switch.
    touched = sorted(changed | removed | unfinished)
    for path in sorted((changed | removed) - unfinished):
        if os.path.lexists(real(path)):
            os.makedirs(os.path.dirname(previous_root + path), mode=0o700, exist_ok=True)
            copy_kept(real(path), previous_root + path)
    write_atomic(PENDING, json.dumps({"previous": previous_root, "touched": touched, "units": units}).encode(), 0o600)
    ran = []
    try:
        for path in sorted(changed):
            spec = files[path]
            write_atomic(real(path), spec["data"], spec["mode"], spec["owner"])
        # A unit the new version no longer has is stopped and disabled before its file goes (a server
        # built from another machine's snapshot carries that machine's timers until its own bundle arrives).
        for path in sorted(removed):
            disable_unit(path)
            if os.path.lexists(real(path)):
                remove_file(path)
        if any(p.startswith(UNIT_DIR) for p in touched):
            daemon_reload()
        # Which run of each Debian unit a new file overrides is the one before the commands: a rollback restarts the
        # unit only if something (its part's commands, another part's, a package) started it again since.
        for unit in sorted(units):
            if len(units[unit]) < 3 and overridden_unit(UNIT_DIR + unit):
                units[unit].append(invocation(unit))
        # Kept before any command runs: an activation cut short after one restarted the unit is resumed with these,
        # not with the run the resumed apply would find (the bundle's own, which a rollback must then restart).
        write_atomic(PENDING, json.dumps({"previous": previous_root, "touched": touched, "units": units}).encode(), 0o600)
        # As a removed unit is stopped above: a part renamed, or its daemon moved to another part, starts its new copy
        # below, which found the old one holding its port. A rollback runs the previous commands of these parts again.
        stop_left(leaving, "its part left the bundle, or has no commands now",
                  "stop what the parts that left the bundle started", gone=True, ran=ran)
        run_parts(parts_to_run(bundle, set(touched), previous_parts), previous_root, ran)
        restart_undropped(removed, files)
        remove_runtime_files(runtime_gone - set(files))  # never a file the bundle installs
    except Exception as e:
        failure = e if isinstance(e, Failure) else Failure("switch to the new files", describe(e), "fix the cause shown above and deploy again")
        remove_runtime_files(runtime_files_left(bundle, old_bundle) - {f["path"] for p in old_bundle["parts"] for f in p.get("files", [])})
        if roll_back(touched, previous_root, old_bundle, failure, ran, files, units):
            end_activation()
        raise failure


def disable_unit(path):
    """Stops and disables a unit whose file is about to go: systemctl needs the file to find its links, and a unit
    whose file is gone keeps running, unseen by any later bundle. A file that overrides a Debian unit (redis-server
    .service) is not: its daemon ran before the bundle had the file and runs on with Debian's (see overridden_unit)."""
    name = path[len(UNIT_DIR):]
    if path.startswith(UNIT_DIR) and "/" not in name and name.endswith(UNIT_SUFFIXES) and not overridden_unit(path):
        run(["systemctl", "disable", "--now", name])


def overridden_unit(path):
    """The Debian unit a file of the bundle overrides whole (/etc/systemd/system/redis-server.service over
    /lib/systemd/system/redis-server.service), else None. Disabling it when the file goes stopped the daemon and removed
    Debian's own wants-link (off after the next boot too): the file goes, and a restart brings Debian's back. An
    instance (postgresql@15-main.service) overrides its Debian template (postgresql@.service) as well."""
    name = path[len(UNIT_DIR):]
    if not path.startswith(UNIT_DIR) or "/" in name or not name.endswith(UNIT_SUFFIXES):
        return None
    names = {name}
    if "@" in name:
        names.add(name[:name.index("@") + 1] + name[name.rindex("."):])
    return name if any(os.path.exists(real(d + n)) for d in ("/lib/systemd/system/", "/usr/lib/systemd/system/") for n in names) else None


def unit_state(path):
    """[is-enabled, is-active] of the unit a file of the bundle is about to override; a unit Debian does not have (yet:
    a package of the rollout may bring it) did not exist, so it was neither. A word systemctl did not say is left empty."""
    unit = overridden_unit(path)
    if not unit:
        return ["not-found", "inactive"]
    words = []
    for query in ("is-enabled", "is-active"):
        out = run(["systemctl", query, unit])[1].strip().split("\\n")[0].strip()
        words.append(out if re.fullmatch(r"[a-z-]+", out) else "")
    return words


def invocation(unit):
    """The unit's InvocationID: each start of a unit gets a new one; "" when systemctl does not say."""
    out = run(["systemctl", "show", "-p", "InvocationID", "--value", unit])[1].strip()
    return out if re.fullmatch(r"[0-9a-f]{32}", out) else ""


def restarted_since(unit, was, ran):
    """Whether a Debian unit started again since the switch (\`was\`, unit_state with its InvocationID then). Whether
    its part's commands ran (\`ran\`) tells neither way: they are counted as run before the first starts, and another
    part's may restart the unit. Only when systemctl did not say, the part's commands decide."""
    before = was[2] if len(was) > 2 else ""
    now = invocation(unit) if before else ""
    return now != before if before and now else ran


def put_back(unit, was):
    """Puts a Debian unit whose override a rollback removed back as it was before the rollout (\`was\`, unit_state): a
    daemon the failed version's packages brought, or its commands enabled and started, does not run on after it. One
    that had failed is not stopped: it was meant to run (roll_back restarts it with Debian's file if it started since)."""
    if was[0] in ("disabled", "not-found"):
        run_unit_command(["disable"], unit)
    if was[1] == "inactive":
        run_unit_command(["stop"], unit)
    if was[0] in ("disabled", "not-found") or was[1] == "inactive":
        log("%s put back as it was before the rollout (%s, %s)" % (unit, was[0], was[1]))
    if was[0] == "not-found":
        # Its package stays installed, and Debian enables a unit on the package's first install only.
        log("%s came with a package of the version rolled back, which stays installed: the unit stays disabled for good "
            "(systemctl enable --now %s, or deploy a version whose commands do, if it should run)" % (unit, unit))
    if was[1] == "failed":
        log("%s had failed before the rollout: not stopped (systemctl status %s)" % (unit, unit))


def run_unit_command(args, unit):
    code, out = run(["systemctl"] + args + [unit])
    if code != 0:
        raise Failure("%s %s" % (args[0], unit), "systemctl %s exited %d:\\n%s" % (" ".join(args), code, tail(out)),
                      "check the unit on the machine (systemctl status %s)" % unit)


def restart_undropped(removed, files):
    """A unit that lost a drop-in of the bundle (a Debian daemon the bundle had reconfigured, such as a prober
    moved to another machine), or the whole file the bundle had put over Debian's, runs with it until restarted:
    daemon-reload alone changes no running process."""
    units = set()
    for path in removed:
        directory = os.path.dirname(path)  # /etc/systemd/system/<unit>.d for a drop-in
        unit = overridden_unit(path)  # or a whole file over a Debian unit
        if not unit and (os.path.dirname(directory) + "/" != UNIT_DIR or not directory.endswith(".d")):
            continue
        lost = "the bundle's file over Debian's" if unit else "its drop-in " + os.path.basename(path)
        whole, unit = unit, unit or os.path.basename(directory)[:-len(".d")]
        if unit in NEVER_RESTARTED:
            log_not_restarted(unit, lost)
        elif unit.endswith(UNIT_SUFFIXES) and UNIT_DIR + unit not in files:
            units.add(unit)
            if whole:
                # Whether the machine ran it before the bundle had the file is unknown here: say what it does now.
                log("%s has Debian's unit file again, the bundle's is gone: restarted with it if it runs (systemctl disable --now %s if it should not run)" % (unit, unit))
    try_restart(units)


def log_not_restarted(unit, lost):
    log("%s lost %s: not restarted (%s); the reload applies it from its next start" % (unit, lost, NEVER_RESTARTED[unit]))


def try_restart(units):
    if units:
        code, out = run(["systemctl", "try-restart"] + sorted(units))
        if code != 0:
            raise Failure("restart " + " ".join(sorted(units)), "systemctl try-restart exited %d:\\n%s" % (code, tail(out)),
                          "check the units' own configuration (journalctl -u <unit>), then deploy again")


def end_activation():
    """The activation ended (activated, or rolled back and re-activated): nothing of it is kept, secrets included."""
    if os.path.exists(PENDING):
        os.unlink(PENDING)
    shutil.rmtree(RELEASES, ignore_errors=True)


def daemon_reload():
    code, out = run(["systemctl", "daemon-reload"])
    if code != 0:
        raise Failure("reload systemd", "systemctl daemon-reload exited %d:\\n%s" % (code, tail(out)), "check systemd on the machine")


def roll_back(touched, previous_root, old_bundle, failure, ran, files, units):
    """Puts the previous files back and activates them again, the parts whose new commands ran (\`ran\`) too, and the
    Debian units the failed version overrode as they were (\`units\`, unit_state before the switch); False when that
    failed too."""
    log("rolling back to the previous files after: " + failure.step)
    try:
        # What the new version's parts left in the background goes; that of a part whose previous commands run again,
        # below, goes then. A part the previous version has without commands runs none: its new daemon goes here.
        stop_left(set(ran) - {p["name"] for p in old_bundle["parts"] if p.get("commands")}, "its part came with the version rolled back")
        debian, off = set(), {}
        # Every file the previous version had is back before any file only the failed version had goes, as the switch
        # writes before it removes: a file renamed (a drop-in of nftables.service that keeps the host tables' loader) is
        # never missing in between, whichever of its names sorts first.
        kept = [path for path in touched if os.path.lexists(previous_root + path)]
        for path in kept:
            os.makedirs(os.path.dirname(real(path)), exist_ok=True)
            copy_kept(previous_root + path, real(path))
        for path in touched:
            if path not in kept and os.path.lexists(real(path)):
                # Only the new version had it: a unit its part enabled and started kept running after the rollback,
                # beside the previous version, which never had it. One over a Debian unit goes back to Debian's, restarted
                # when it started again since the switch (with the file: restarted_since), or disabled and stopped
                # if it was before the rollout (a package of the failed version brought it, its commands started it).
                disable_unit(path)
                remove_file(path)
                unit = overridden_unit(path)
                was = units.get(unit, ["", ""]) if unit else ["", ""]
                if unit and (was[0] in ("disabled", "not-found") or was[1] in ("inactive", "failed")):
                    off[unit] = was
                if unit and was[1] != "inactive" and restarted_since(unit, was, path in files and files[path]["part"] in ran):
                    if unit in NEVER_RESTARTED:
                        log_not_restarted(unit, "the bundle's file over Debian's")
                    else:
                        debian.add(unit)
        if any(p.startswith(UNIT_DIR) for p in touched):
            daemon_reload()
        restored = set(touched)
        # The previous version comes back whole, its steps run again beside a process that survived SIGKILL as every
        # rollback's did: refused there, the rest of the old bundle's parts, units and drop-ins stayed as the failed
        # version left them, and the next deploy of the previous version found nothing to do.
        run_parts([p for p in old_bundle["parts"] if p.get("commands") and (p["name"] in ran or
            {f["path"] for f in p.get("files", [])} & restored or any(t in json.dumps(p["commands"]) for t in restored))], previous_root,
            refuse=False)
        # After the previous commands, never before: a Debian unit that fails to restart (the failed version's daemon
        # still on its port) must not keep the previous version's own commands from running again.
        for unit in sorted(off):
            try:
                put_back(unit, off[unit])
            except Failure as e:
                failure.message += "\\n(after the rollback, %s failed: %s)" % (e.step, e.message)
        try:
            try_restart(debian)
        except Failure as e:
            failure.message += "\\n(after the rollback, %s failed: %s)" % (e.step, e.message)
        return True
    except Exception as e:
        again = e if isinstance(e, Failure) else Failure("restore the previous files", describe(e), "")
        failure.message += "\\n(restoring the previous version also failed at %s: %s; the next deploy finishes it)" % (again.step, again.message)
        return False


def status():
    current = read_json(STATE + "/current.json", None)
    if not current:
        first = read_json(STATE + "/current-bundle.json", {"parts": []})["parts"]
        print("no bundle installed" + ("; active: %s (activated first, the rest of the bundle failed)" % ", ".join(p["name"] for p in first) if first else ""))
        return 1
    print("%s runs bundle %s (release %s, installed %s UTC, %d files)" % (
        current["machine"], current["version"], current["release"],
        time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(current["installedAt"])), len(current["files"])))
    pending = read_json(PENDING, None)
    if pending:
        print("an activation of %d files did not end: the next deploy finishes it" % len(pending["touched"]))
        return 1
    return 0


def main(argv):
    if argv[:1] == ["status"]:
        return status()
    if argv[:1] == ["apply"] and len(argv) == 5 and argv[1] == "--version" and argv[3] == "--dir":
        return apply(argv[2], argv[4])
    sys.stderr.write("usage: sovereign-rollout apply --version sha256:<hex> --dir <incoming> | status\\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
`;
