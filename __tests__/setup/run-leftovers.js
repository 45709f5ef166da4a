const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
// The harness's /proc reader, in TypeScript: jest transforms what its global setup and teardown require, as it does a
// test file's imports.
const processes = require('../../testing/harness/processes');

/**
 * Ends what a run's suites left under its temp directory, so that removing the directory removes everything:
 * processes (an sshd, a PostgreSQL, a Prometheus whose suite failed before its afterAll could stop it), mounts (a
 * suite's tmpfs volume), loop devices (an ext4 volume's image), and the named network namespaces suites recorded. Without it, a process outlived jest, and a mount made the directory's removal
 * fail with EBUSY after emptying the mount, which stayed. Synchronous: the run limit's timer calls it before it
 * exits the process.
 */
function endLeftovers(runDir) {
  // /proc is Linux's; elsewhere the suites that start daemons and mounts do not run.
  if (!fs.existsSync('/proc/self/mountinfo')) return;
  const inRun = (p) => p === runDir || p.startsWith(`${runDir}/`);
  endProcesses(runDir, () => processesIn(runDir));
  // Deepest first: a mount inside another goes before it. Lazy, so that a mount still in use is detached now
  // and freed when its last user goes.
  for (const mountPoint of mountPoints().filter(inRun).sort((a, b) => b.length - a.length)) {
    spawnSync('umount', ['-l', mountPoint], { stdio: 'ignore' });
  }
  // The named network namespaces the suites made (mounts under /run/netns, outside the directory).
  for (const ns of recordedNetworkNamespaces(runDir)) {
    spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  }
  // A loop device whose image is in the directory (a volume suite's ext4) stays attached to the image after the
  // file is removed, holding its space, until detached.
  for (const loop of loopDevices().filter((l) => inRun(l.backFile.replace(/ \(deleted\)$/, '')))) {
    spawnSync('losetup', ['-d', loop.name], { stdio: 'ignore' });
  }
  // The OS accounts the run made (after its processes: userdel refuses a user with one running). A drill account has
  // a password written in the tests: left, a host whose sshd takes passwords would let it in. Not while another run's
  // directory is there: that run may be using them (it did not record what it found made).
  const accounts = readdir(path.join(runDir, ACCOUNTS));
  const others = accounts.length === 0 ? [] : readdir(path.dirname(runDir))
    .map((e) => path.join(path.dirname(runDir), e))
    .filter((dir) => path.basename(dir).startsWith('sovereign-tests-') && dir !== runDir && runsIn(dir));
  for (const user of accounts) {
    if (others.length > 0) {
      process.stderr.write(`\nleft the OS account ${user}: another test run, still going (${others.join(', ')}), may be using it; userdel ${user} removes it\n`);
      continue;
    }
    // Exit 8: a process of the user's, just sent SIGKILL, is not gone yet; 6: the account is gone already.
    let status = null;
    for (let attempt = 0; attempt < 10 && status !== 0; attempt++) {
      if (attempt > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
      status = spawnSync('userdel', [user], { stdio: 'ignore' }).status;
      if (status !== 8) break;
    }
    if (status !== 0 && status !== 6) process.stderr.write(`\ncould not remove the OS account ${user} the test run made (userdel exited ${status}): userdel ${user} removes it\n`);
  }
}

/** The file in a run's directory naming the pid of the jest process whose run it is (global-setup.js). */
const RUN_PID_FILE = 'jest.pid';

/** Whether a run directory's jest is still running: a directory a killed run left (no such process) is not a run. */
function runsIn(dir) {
  const pid = Number((read(path.join(dir, RUN_PID_FILE)) ?? '').trim());
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; }
}

/** The directory in the run's directory holding a file named after each OS account the run made, removed at its end. */
const ACCOUNTS = 'accounts-made';

/** Records an OS account the run made (one it found already there is not its to remove). Nothing outside a run. */
function recordAccountMade(name) {
  const runDir = process.env.SOVEREIGN_TEST_RUN_DIR;
  if (!runDir) return;
  fs.mkdirSync(path.join(runDir, ACCOUNTS), { recursive: true });
  fs.writeFileSync(path.join(runDir, ACCOUNTS, name), '');
}

/**
 * The directory in the run's directory holding a file named after each named network namespace its suites made and
 * have not removed. A file each, so that workers record and forget at once without rewriting each other's lines.
 */
const NETWORK_NAMESPACES = 'network-namespaces';

/**
 * Records a named network namespace a suite made, which the run's end removes if the suite did not (it outlives
 * every process). Nothing outside a run (no SOVEREIGN_TEST_RUN_DIR).
 */
function recordNetworkNamespace(name) {
  const runDir = process.env.SOVEREIGN_TEST_RUN_DIR;
  if (!runDir) return;
  fs.mkdirSync(path.join(runDir, NETWORK_NAMESPACES), { recursive: true });
  fs.writeFileSync(path.join(runDir, NETWORK_NAMESPACES, name), '');
}

/**
 * Forgets a recorded namespace its suite removed: names are the host's, and another run (or suite) that makes the
 * same name later would have its live namespace removed by this run's end.
 */
function forgetNetworkNamespace(name) {
  const runDir = process.env.SOVEREIGN_TEST_RUN_DIR;
  if (runDir) fs.rmSync(path.join(runDir, NETWORK_NAMESPACES, name), { force: true });
}

/**
 * The namespaces recorded and not forgotten in a run's directory, and in the directories of the runs nested in it
 * (jest-exits.test.ts runs jest inside a suite, its TMPDIR this run's): such a run, whose end never ran when it was
 * stopped with this one, had its records removed with this run's directory, and its namespaces stayed until a reboot.
 */
function recordedNetworkNamespaces(runDir) {
  return [
    ...readdir(path.join(runDir, NETWORK_NAMESPACES)),
    ...readdir(runDir).filter((e) => e.startsWith('sovereign-tests-')).flatMap((nested) => recordedNetworkNamespaces(path.join(runDir, nested))),
  ];
}

/**
 * Where a test makes a directory outside the run's temp directory, which global-setup.js opens to every account: one
 * whose lack of access a test needs (a directory postgres cannot reach), as a rehearsal's /root/rehearsal is.
 */
const OUTSIDE_RUN_PARENT = '/var/tmp';
const OUTSIDE_RUN_PREFIX = 'sovereign-outside-run-';

/**
 * Makes `<parent>/sovereign-outside-run-<pid>-<purpose>-XXXXXX`, 0700. The run's end does not remove it (it is not in
 * the run's directory) and a killed test never reaches its own finally block: the maker's pid, in the name from the
 * moment the directory exists, lets a later run tell one a dead process left (removeAbandonedOutsideRunDirectories).
 */
function makeOutsideRunDirectory(purpose, parent = OUTSIDE_RUN_PARENT) {
  if (!/^[a-z0-9-]+$/.test(purpose)) throw new Error(`makeOutsideRunDirectory: purpose ${JSON.stringify(purpose)} is not lower-case words joined by -. Fix: name it as loopback-prepare is.`);
  const dir = fs.mkdtempSync(path.join(parent, `${OUTSIDE_RUN_PREFIX}${process.pid}-${purpose}-`));
  fs.chmodSync(dir, 0o700);
  return dir;
}

/**
 * Removes the directories makeOutsideRunDirectory made under `parent` whose maker is no longer alive (a run killed
 * during the test), and returns them. Only what makeOutsideRunDirectory makes goes: a real directory (lstat: a
 * symbolic link is not followed) owned by this process's account and of mode 0700. Kept, silently: one whose maker
 * runs (another run's test is using it) or whose pid a process has taken since, which errs on the side of keeping; an
 * entry not of that name (nothing of ours); one another account owns (a name is not proof: as root, a recursive
 * removal of a tree another user controls, named with any dead pid, is the temp cleaner's symlink race); one open to
 * group or others (not as made, so someone else may have put entries in it). A directory this account may not remove
 * is named on stderr, not thrown: the run goes on.
 */
function removeAbandonedOutsideRunDirectories(parent = OUTSIDE_RUN_PARENT) {
  const removed = [];
  for (const entry of readdir(parent)) {
    const owner = new RegExp(`^${OUTSIDE_RUN_PREFIX}(\\d+)-[a-z0-9-]+-[^/]+$`).exec(entry);
    if (!owner || processes.alive(Number(owner[1]))) continue;
    const dir = path.join(parent, entry);
    try {
      const found = fs.lstatSync(dir);
      if (!found.isDirectory() || found.uid !== process.getuid() || (found.mode & 0o777) !== 0o700) continue;
      fs.rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch (e) {
      process.stderr.write(`
could not remove ${dir}, which a test run that is gone (pid ${owner[1]}) left: ${e.message}. rm -r ${dir} removes it\n`);
    }
  }
  return removed;
}

/** The attached loop devices with their image files (none where losetup is missing). */
function loopDevices() {
  const listed = spawnSync('losetup', ['--list', '--json', '--output', 'NAME,BACK-FILE'], { encoding: 'utf8' });
  if (listed.status !== 0 || !listed.stdout.trim()) return [];
  return JSON.parse(listed.stdout).loopdevices.map((l) => ({ name: l.name, backFile: l['back-file'] ?? '' }));
}

/**
 * The processes (not this one, nor its parent) whose files are under `dir`: named on the command line (sshd -f,
 * postgres -D, prometheus --config.file), or the working directory (PostgreSQL's children, which name nothing).
 */
function processesIn(dir) {
  const own = new Set([process.pid, process.ppid]);
  return processTable().filter((p) => !own.has(p.pid) && (p.args.some((arg) => arg.includes(`${dir}/`)) || worksIn(p, dir))).map((p) => p.pid);
}

/**
 * The processes (not this one, nor its parent) of the account `uid` whose working directory is `dir` or under it
 * (PostgreSQL's, in its data directory): no command line is read, which waits for a process's memory map, held by
 * one stuck in uninterruptible sleep (D) for as long as it is stuck (a bounded stop polls this).
 */
function processesWorkingIn(dir, uid) {
  const own = new Set([process.pid, process.ppid]);
  return processTable().filter((p) => !own.has(p.pid) && processes.ownedBy(p.pid, uid) && worksIn(p, dir)).map((p) => p.pid);
}

/** Whether the process table's entry `p` works in `dir` or under it. */
function worksIn(p, dir) {
  return p.cwd === dir || p.cwd.startsWith(`${dir}/`);
}

/** The processes whose parent is `pid`. */
function childrenOf(pid) {
  return childEntries(pid).map((p) => p.pid);
}

/** The entries of the processes whose parent is `pid`. */
function childEntries(pid) {
  return processTable().filter((p) => p.parent === pid);
}

/**
 * jest's worker processes among the children of `pid` (jest's main process). Workers only: a suite run in band
 * starts its daemons as children of the main process, which the sweep names and ends with SIGTERM first, and a main
 * process that is PID 1 (a container without --init) is the parent of every orphan in the container.
 */
function workersOf(pid) {
  return childEntries(pid).filter((p) => p.args.some((arg) => arg.endsWith('jest-worker/build/processChild.js'))).map((p) => p.pid);
}

/**
 * What jest's main process (`pid`) started for the run in `runDir`: its workers, and the processes that carry the run's
 * directory in their environment, wherever they are in the process table: in a run in band (--runInBand, or one file)
 * those its tests started themselves (a nested jest run, a test's helper), and in any run the orphans of a process
 * that ended (a test's `sh -c 'daemon &'`, a helper that double-forked), which init or a subreaper adopted and no walk
 * from jest's processes finds. Not those of another run (a nested run's own carry its directory), nor this process
 * and `pid`. Missed, unless they work in the run's directory (the sweep's then) or descend from one found: a process a
 * test spawned with an environment built from scratch (no SOVEREIGN_TEST_RUN_DIR); one whose environment this process
 * may not or does not read (another account's when jest is not root: a setuid child, sudo; as root, where the suites
 * run, it reads every account's, a test's `runuser -u postgres …` too; see environmentOf); one
 * that wrote a title over its environment (PostgreSQL, sshd); one in uninterruptible sleep (D) at every look (endWorkers
 * looks again in each of its rounds, no longer); and, in a container where jest is PID 1, an orphan of a nested run,
 * which carries the nested run's directory, not this one.
 */
function startedForRun(pid, runDir) {
  const own = `SOVEREIGN_TEST_RUN_DIR=${runDir}`;
  const workers = workersOf(pid);
  const skip = new Set([pid, process.pid, ...workers]);
  return [...workers, ...processes.processTable()
    .filter((p) => !skip.has(p.pid) && p.state !== 'Z' && (processes.environmentOf(p, 'skip') ?? []).includes(own)).map((p) => p.pid)];
}

/**
 * Ends jest's workers (of this, jest's main process; in a run in band, the processes its tests started) and what they
 * started outside the run's temp directory (a nested jest run, a test's helper), naming each: left running, a worker goes on with its file after the run exits, and a
 * process it started that the sweep does not find goes on too (a nested run, whose own end never ran, leaked its
 * namespaces). Stopped first (SIGSTOP), so that none starts another while they are found; those in the run's
 * directory are continued for the sweep, which ends them with SIGTERM first.
 */
function endWorkers(runDir) {
  const stopped = new Set();
  // Rounds, until one finds nothing new: a process may have forked between the look and its SIGSTOP, and one whose
  // parent exited meanwhile (an orphan) is found by its environment only, which each round reads again (as that of a
  // process in uninterruptible sleep at the last look).
  for (let round = 0; round < 10; round++) {
    const found = processes.descendantsOf(startedForRun(process.pid, runDir)).filter((pid) => !stopped.has(pid));
    if (found.length === 0) break;
    for (const pid of found) { signal(pid, 'SIGSTOP'); stopped.add(pid); }
  }
  const inRun = new Set(processesIn(runDir));
  const outside = [...stopped].filter((pid) => !inRun.has(pid));
  if (outside.length > 0) process.stderr.write(`\njest: ending jest's workers (in band, the tests' own processes) and what they started outside the run's temp directory:\n${outside.map(described).join('')}`);
  killAll(outside);
  for (const pid of stopped) if (inRun.has(pid)) signal(pid, 'SIGCONT');
}

/** A process's line on stderr: its pid and command line. */
function described(pid) {
  return `  ${pid} ${(processes.commandLineOf(pid) ?? []).join(' ').slice(0, 200)}\n`;
}

/**
 * SIGTERM to each process `pids` gives, then SIGKILL to those still there after 3 s. Each is named on stderr: one may
 * be a developer's shell or editor working in the directory, not a suite's daemon.
 */
function endProcesses(runDir, pids) {
  const found = pids();
  if (found.length === 0) return;
  process.stderr.write(`\njest: ending the processes left in the run's temp directory ${runDir}:\n${found.map(described).join('')}`);
  for (const pid of found) signal(pid, 'SIGTERM');
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline && found.some((pid) => processes.alive(pid))) Atomics.wait(sleeper, 0, 0, 50);
  for (const pid of pids()) signal(pid, 'SIGKILL');
}

/** The mount points of this process's mount namespace (mountinfo's fifth field, its octal escapes undone). */
function mountPoints() {
  return (read('/proc/self/mountinfo') ?? '').split('\n').filter(Boolean)
    .map((line) => line.split(' ')[4].replace(/\\([0-7]{3})/g, (_, octal) => String.fromCharCode(parseInt(octal, 8))))
    .map((p) => path.normalize(p));
}

/**
 * SIGKILL to each of `pids`, ignoring those that ended since they were found: a test's finally block must not
 * throw ESRCH over the failure it cleans up after.
 */
function killAll(pids) {
  for (const pid of pids) signal(pid, 'SIGKILL');
}

const signal = processes.signal;

/**
 * One read of the process table, for the filters above: every process there is, with its parent and state (from its
 * stat alone), and its command line and working directory when a filter asks. Both are read when first asked for,
 * once: alive() (polled every 50 ms) and the parent links need only `stat`, and reading a process's cmdline waits for
 * its memory map, which a process stuck in uninterruptible sleep (D) can hold for as long as it is stuck. The
 * command line is empty for a zombie (and a kernel thread), the working directory where it is not ours to read.
 */
function processTable() {
  return processes.processTable().map(({ pid, parent, state }) => {
    let args;
    let cwd;
    return {
      pid, parent, state,
      get args() { return args ??= processes.commandLineOf(pid) ?? []; },
      get cwd() {
        if (cwd === undefined) {
          try { cwd = fs.readlinkSync(`/proc/${pid}/cwd`); } catch { cwd = ''; /* gone, or not ours to read */ }
        }
        return cwd;
      },
    };
  });
}

function readdir(dir) {
  try { return fs.readdirSync(dir); } catch { return []; }
}

function read(file) {
  try { return fs.readFileSync(file, 'utf8'); } catch { return undefined; }
}

module.exports = { RUN_PID_FILE, makeOutsideRunDirectory, removeAbandonedOutsideRunDirectories, recordAccountMade, endLeftovers, endWorkers, processesIn, processesWorkingIn, childrenOf, workersOf, startedForRun, killAll, described, recordNetworkNamespace, forgetNetworkNamespace, recordedNetworkNamespaces };
