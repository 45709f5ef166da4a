// The on-machine tooling: bash scripts and SQL, kept as string constants so that the compiled
// library carries them. Rendered into cloud-init by BackupPlan and RestoreDrill, and run as they
// are by the end-to-end suite (__tests__/backup/e2e). Paths and hosts come from the configuration
// files, never from the scripts.

import { libraryDoc } from '../../core/private/library-doc';
import { JOB_TIMES } from './job-times';

/**
 * The longest a backup job runs (its unit's timeout, JOB_TIMES): a log in TMPDIR that no job locks and that nothing
 * wrote for this long belongs to no running job, even to one of a previous version, which did not lock its log.
 */
export const KILLED_RUN_MINUTES = Math.max(...Object.values(JOB_TIMES).map((times) => times.longestRun.toMinutes()));

/** Functions shared by every job: logging, the exit trap that pings the heartbeat, restic per target. */
export const COMMON = `# sovereign-backup: functions shared by the jobs (sourced, never run).
# Every job logs each step, exits non-zero on any failure, pings <heartbeat>/<host>-<job>/fail,
# and pings success only after it called ok() on a verified result.
set -Eeuo pipefail
umask 077
export LC_ALL=C
SB_ETC=\${SOVEREIGN_BACKUP_ETC:-\${SOVEREIGN_ROOT:-}/etc/sovereign-backup}
SB_LIB=$(dirname "$(readlink -f "\${BASH_SOURCE[0]}")")
# Isolated (-I: no PYTHON* variables, no user site) and without site packages (-S): the snippets use
# the standard library only.
PY=(/usr/bin/python3 -I -S)
SB_OK=0 SB_SUMMARY='' SB_FAILURE='' SB_CLEANUP=() SB_STEP='starting' SB_CACHE='' SB_START_PING=''
declare -A SB_PASSWORD_FD=()
# The targets a job found it cannot reach (unreached: the connection of a job's first call there timed out: a listing, a
# lock listing, an unlock, the bootstrap's login or opening), each with the line that said so: restic_on fails at once
# for them, with a one-line notice naming it, rather than waiting out another connection timeout (ssh's ConnectTimeout,
# S3's dial timeout).
declare -A SB_UNREACHABLE=()
# The targets a first backup could not list to tell whether this machine is an unrestored rebuild (not_listed), each with
# restic's cause: a first dump refuses, a first file backup skips them.
declare -A SB_UNLISTED=()
# The SFTP targets whose host key is in their known_hosts file, found at the job's start (pinned_host_keys) or by
# restic_on after a login (a subshell's finds stay in it).
declare -A SB_PINNED=()
# 1 in a run that pings nothing: one whose outcome another run reports (one copy of a restore drill of several), or a
# restore by hand (backup-restore), which reports on the terminal.
SB_NO_PINGS=''
# Snapshot times (restic backup --time) are the dump's UTC time.
export TZ=UTC
# The job's log. When it cannot be created (TMPDIR's disk has no space or inode left), the exit trap does not exist
# yet and the heartbeat is not known: the job goes on without a log file, and load_conf fails it (with its ping).
SB_NO_TMP=''
SB_LOG=$(mktemp "\${TMPDIR:-/tmp}/sovereign-backup.XXXXXX" 2>&1) || { SB_NO_TMP=\${SB_LOG:-mktemp failed}; SB_LOG=/dev/null; }
# A job killed with SIGKILL (the OOM killer, its unit's last kill at the timeout, a crash) runs no exit trap: its log,
# its run directory (the dump's indexes, digests and roles, copies of its manifests) and its ssh logs stayed in TMPDIR
# until someone removed them (the units have no private /tmp, and Debian 12's /tmp is cleaned only at boot, if at
# all). Each job holds a lock on its log for its whole run, and each job's start removes the files of the runs whose
# log nobody holds and nothing wrote for longer than a job runs (clean_killed_runs): a job of the previous version,
# still running through an upgrade, holds no lock on its log and may write nothing to it for hours (a long pg_dump);
# removing its log and its ssh logs failed it.
if [ -z "$SB_NO_TMP" ] && exec {SB_LOG_FD}<"$SB_LOG"; then flock -n "$SB_LOG_FD" || true; fi
# Children close it ({SB_LOG_FD}<&-, where they close SB_STDERR): one that outlived the job would hold its lock, and its
# log would look alive. Without a log, it is /dev/null: the closes need a descriptor to name.
[ -n "\${SB_LOG_FD:-}" ] || exec {SB_LOG_FD}</dev/null || true
clean_killed_runs() {
  local f dir=\${TMPDIR:-/tmp}
  for f in "$dir"/sovereign-backup.??????; do
    [ -f "$f" ] && [ "$f" != "$SB_LOG" ] || continue
    [ -n "$(find "$f" -maxdepth 0 -mmin +${KILLED_RUN_MINUTES} 2>/dev/null)" ] && flock -n "$f" true 2>/dev/null || continue
    rm -rf -- "$f" "$f".* "$dir/sovereign-backup-run.\${f##*.}" 2>/dev/null || true
  done
}
[ -n "$SB_NO_TMP" ] || clean_killed_runs

# Bash builtins only (the clock from EPOCHREALTIME, TZ=UTC): on a busy machine every program a
# job starts waits for a CPU, and a job logs a few dozen lines.
log() {
  local now=$EPOCHREALTIME line
  printf -v line '%(%Y-%m-%dT%H:%M:%S)T.%sZ %s: %s' "\${now%.*}" "\${now:\${#now}-6:3}" "$SB_JOB" "$*"
  # On a full disk the log file takes no more lines: the journal (stderr) still does, and the job goes on to say why.
  printf '%s\\n' "$line" >>"$SB_LOG" 2>/dev/null || true
  printf '%s\\n' "$line" >&2
}
# Names the step that runs now: a failure ping names it, with what its commands printed last.
step() { SB_STEP="$*"; log "step: $*"; }
# What the commands of the current step printed (the job's own log lines left out), last lines:
# the log after the last line of step().
step_output() {
  local from
  from=$(sed -n -E "/^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z $SB_JOB: step: /=" "$SB_LOG" | tail -n 1)
  tail -n "+$((\${from:-0} + 1))" "$SB_LOG" | grep -v -E "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z $SB_JOB: " | grep -v '^$' | tail -n "\${1:-12}"
}
# step_cause [<lines>]: the last lines (4 by default) of what the current step's commands printed, on one
# line: the cause a failure message carries ("no output" when there is none).
step_cause() {
  local cause
  cause=$(step_output "\${1:-4}" | tr '\\n' ' ')
  printf '%s' "\${cause:-no output}"
}
die() { SB_FAILURE="$*"; log "FAILED: $*"; exit 1; }

# start_empty_argument <arguments...>: the one option of backup-dump and backup-push, --start-empty (sets start_empty):
# the machine starts empty on purpose, given once, by hand.
start_empty_argument() {
  start_empty=0
  while [ $# -gt 0 ]; do
    case $1 in
      --start-empty) start_empty=1; shift ;;
      *) die "unknown argument '$1'. usage: \${0##*/} [--start-empty]" ;;
    esac
  done
}

# restore_arguments <usage> <item option> <what it takes> <what --snapshot takes> <arguments...>: the options of a
# restore run by hand (backup-restore, backup-restore-files). Sets from, snapshot, replace and wanted (the item option's
# values, in order); --help prints the usage and ends the run.
restore_arguments() {
  local usage=$1 option=$2 item=$3 snapshot_of=$4
  shift 4
  from='' snapshot='' replace=0 wanted=()
  while [ $# -gt 0 ]; do
    case $1 in
      --from) [ $# -ge 2 ] || die "--from needs a target name. $usage"; from=$2; shift 2 ;;
      --snapshot) [ $# -ge 2 ] || die "--snapshot needs $snapshot_of. $usage"; snapshot=$2; shift 2 ;;
      "$option") [ $# -ge 2 ] || die "$option needs $item. $usage"; wanted+=("$2"); shift 2 ;;
      --replace) replace=1; shift ;;
      -h|--help) printf '%s\\n' "$usage"; SB_OK=1; SB_SUMMARY='usage printed'; exit 0 ;;
      *) die "unknown argument '$1'. $usage" ;;
    esac
  done
}
# restore_target: the target a restore run by hand reads (--from, or the first of TARGETS), refused when it is not one
# of this machine's. Sets t.
restore_target() {
  step "choosing the target"
  t=\${from:-\${TARGETS%% *}}
  [ -n "$t" ] || die "backup.conf lists no target (TARGETS is empty): there is nothing to restore from"
  [[ " $TARGETS " == *" $t "* ]] || die "target '$t' is not one of this machine's targets ($TARGETS); pass --from with one of them"
}
# restore_lock: the repository lock for a restore run by hand, and when it started to wait for it (started): a backup
# taken after that was made while it waited, of the machine as it is now, and is not the one to restore. From here on
# the restore's reads take restic's shared lock (restic_read): a prune of another machine cannot start while one reads.
restore_lock() {
  step "waiting for the repository lock"
  started=$EPOCHSECONDS
  repo_lock
  run_dir
  restore_judge_locks
  restic_read=()
}
# The restic option of a job's reads: none (restic's shared lock) in a restore run by hand, from restore_lock on: restic
# then refuses to read while a check, a prune or a key change holds the repository, and a prune of another machine
# refuses to start while the restore reads (the restore reads for hours; judging the locks once at its start left a
# prune that began after it free to remove data it was reading). The jobs read without a lock (restic 0.14 would wait
# for none, and their own lock order keeps this machine's prune out).
restic_read=(--no-lock)
# restore_judge_locks: the restic locks on the target's repository, judged as the restore drill judges them
# (restic_locks), exclusive ones too. This machine's lock (repo_lock) keeps only this machine's jobs out, so a restic of
# another machine (or one killed in the last 30 minutes) was not seen: a backup there became the newest, which the
# restore took. First the stale locks go (unlock_stale, as the other jobs do under the repository lock): what a restic
# of this machine killed mid-run left (SIGKILL, a crash; restic 0.14 leaves it on SIGTERM too), which held an
# emergency restore for 30 minutes, and locks not refreshed for 30 minutes. Then:
# - a target that cannot be reached (the unlock's connection timed out): it fails, changing nothing;
# - an exclusive lock (a check, a prune or a key change, refreshed in the last 30 minutes): it fails, changing nothing;
# - a lock that is not exclusive (a backup, or a reader), or locks that cannot all be read: without --snapshot it fails,
#   changing nothing (what is newest may change while it reads); with --snapshot it restores that one, saying so;
# - a stale exclusive lock (restic unlock failed to remove it): it fails, changing nothing: restic refuses its shared
#   lock on any exclusive lock, stale or not, so the first read would fail;
# - a stale lock that is not exclusive (restic unlock failed to remove it): it goes on, saying so.
# restic 0.14 takes its shared lock past a lock file it cannot read; restic 0.15 and later (Debian 13, Ubuntu 24.04)
# refuse it, so there "unknown" with --snapshot fails at the first read, naming restic's cause. restic 0.15 and later
# also end a read whose lock they could not refresh in time (a link to the Storage Box that stalls for minutes).
restore_judge_locks() {
  local writer state host pid minutes held unlocked
  step "reading the restic locks on $t"
  unlocked=0
  unlock_stale "$t" || unlocked=$?
  [ "$unlocked" != 1 ] || log "$t: restic unlock failed: a stale lock, if any, is judged below as restic lists it"
  # Its locks could not be read either, and that verdict's fix (--snapshot) cannot help: the target is what fails.
  [ "$unlocked" != 2 ] || die "the repository of $t cannot be reached (\${SB_UNREACHABLE[$t]}). Nothing was changed. Fix: see why $t does not answer from this machine, or pass --from with another of its targets ($TARGETS), then run \${0##*/} again"
  restic_locks writer "$t" "$SB_RUN/locks" exclusive || writer=unknown
  read -r state host pid minutes <<<"$writer"
  held="restic pid $pid on $host holds a lock on the repository of $t, refreshed $minutes minutes ago"
  case $state in
    exclusive)
      die "$held, exclusively: a check, a prune or a key change of another machine, and a prune removes data the restore would read. Nothing was changed. Fix: see what runs on $host and wait until its lock is gone (restic list locks on $t), then run \${0##*/} again; once $host is known to be down (its restic cannot remove its lock) and restic list locks on $t (restic cat lock <ID> names each one's host and pid) shows no other machine's restic running, restic unlock --remove-all on $t removes the lock at once; it removes every machine's locks, and a prune after it may delete the data of a backup still running elsewhere" ;;
    stale-exclusive)
      die "a stale exclusive lock of restic pid $pid on $host, last refreshed $minutes minutes ago (a check, a prune or a key change killed mid-run), is on the repository of $t, and restic unlock did not remove it (see the log): restic refuses every read while it is there. Nothing was changed. Fix: see in the log why restic unlock failed, run restic unlock on $t once it can (it removes stale locks only), then run \${0##*/} again" ;;
    live|unknown)
      [ "$state" = live ] || held="the restic locks on the repository of $t could not all be read (see the log), so a backup or a prune may run there"
      [ -n "$snapshot" ] || die "$held: another machine may be writing a backup, which would become the newest while the restore reads. Nothing was changed. Fix: pass --snapshot to name the backup to restore (restic snapshots --host $BACKUP_HOST lists them), or wait until the lock is gone (restic list locks on $t) and run \${0##*/} again"
      note "$held; restoring snapshot $snapshot as named, which no backup changes, with restic's shared lock on each read (restic refuses to read while a prune holds the repository, and a prune cannot start while it reads)" ;;
    stale) note "a stale lock of restic pid $pid on $host, last refreshed $minutes minutes ago, is on the repository of $t (restic unlock did not remove it); it is not exclusive, so restic reads past it: the restore goes on" ;;
    *) log "no restic process holds a lock on the repository of $t" ;;
  esac
}
ok() { SB_OK=1; SB_SUMMARY="$*"; }
# note <what>: logs something the job's outcome must say too (added to its summary): a success that went on past it.
SB_NOTES=''
note() { [[ $SB_NOTES == *"; $*"* ]] || SB_NOTES+="; $*"; log "$*"; }
# at_exit <code>: literal code only, run by eval at exit. at_exit_run <command> [<arg>...]: a command whose words
# (paths) are kept as words, quoted with %q: a path interpolated into code broke on a ' and ran a $(…) it held.
at_exit() { SB_CLEANUP+=("$1"); }
at_exit_run() { local c; printf -v c '%q ' "$@"; SB_CLEANUP+=("$c"); }
# bg_job <pid>...: background processes that a job ending early stops, with all they started
# (kill_tree), before the other clean-ups run: all at once, so restic's own clean-up runs in parallel.
SB_BG=()
bg_job() { SB_BG+=("$@"); }
# Runs a command with its output in the log; returns its exit code. A program gets neither the kept stderr nor the log's
# lock. A function keeps them: bash undoes the closes when it returns, but a die inside it would run the exit trap while
# they are in effect, with no terminal to report to and the log's lock fd closed.
run() {
  log "run: $*"
  if [ "$(type -t "$1")" = file ]; then "$@" >>"$SB_LOG" 2>&1 {SB_STDERR}>&- {SB_LOG_FD}<&-; else "$@" >>"$SB_LOG" 2>&1; fi
}

# kill_tree <pid>...: stops background processes of this job and everything they started, and
# waits until all are gone. A background restic runs in a subshell (restic_on does more after
# restic ends), so killing the subshell alone left restic and its ssh running: restic then saw its
# input end when the job exited and recorded a cut-off stream, or waited on the Storage Box until
# ssh's keep-alive gave up (60 s). Each process is stopped before its children are listed (a
# stopped process starts nothing), then all get TERM: restic cancels and records nothing.
kill_tree() {
  local all=() next=() kids p i
  # Only this shell's running jobs: a PID that was waited for may belong to another process by now.
  for p in "$@"; do [[ " $(jobs -pr | tr '\\n' ' ') " != *" $p "* ]] || next+=("$p"); done
  [ "\${#next[@]}" -gt 0 ] || return 0
  while [ "\${#next[@]}" -gt 0 ]; do
    kill -STOP "\${next[@]}" 2>/dev/null || true
    all+=("\${next[@]}")
    kids=$(IFS=,; pgrep -d ' ' -P "\${next[*]}") || kids=''
    read -r -a next <<<"$kids" || true
  done
  kill -TERM "\${all[@]}" 2>/dev/null || true
  kill -CONT "\${all[@]}" 2>/dev/null || true
  # This shell's children are reaped by wait; the others (restic, ssh) are polled, for at most 10 s.
  for p in "$@"; do wait "$p" 2>/dev/null || true; done
  for ((i = 0; i < 100; i++)); do
    kids=''
    for p in "\${all[@]}"; do if kill -0 "$p" 2>/dev/null; then kids=$p; break; fi; done
    [ -n "$kids" ] || return 0
    sleep 0.1
  done
  kill -KILL "\${all[@]}" 2>/dev/null || true
  return 0
}

sb_exit() {
  local rc=$? c
  trap - EXIT ERR
  set +e
  # A signal, or an exit in a function, can end the job while a command's output goes to the log (run): the report goes
  # to the job's own stderr (the journal, the terminal), which it would otherwise reach only through a deleted log.
  # After set +e: a trap that cannot redirect still cleans up and reports (on fd 2 as it is).
  [ -z "\${SB_STDERR:-}" ] || exec 2>&"$SB_STDERR" || true
  [ "\${#SB_BG[@]}" = 0 ] || kill_tree "\${SB_BG[@]}"
  for c in "\${SB_CLEANUP[@]}"; do eval "$c"; done
  # The start ping went out in the background; it arrives before the outcome.
  [ -z "$SB_START_PING" ] || wait "$SB_START_PING" 2>/dev/null
  if [ "$rc" = 0 ] && [ "$SB_OK" = 1 ]; then
    SB_SUMMARY+=$SB_NOTES
    log "OK: $SB_SUMMARY"
    if [ -z "\${SB_NO_SUCCESS_PING:-}" ]; then
      printf '%s\\n' "$SB_SUMMARY" | heartbeat "" || log "could not report success to the heartbeat"
    fi
  else
    # Exit 75 means "deferred, no verdict" to the monitoring's job hook: no job defers, so a failure never exits 75.
    [ "$rc" != 75 ] || rc=1
    if [ "$rc" = 0 ]; then rc=1; SB_FAILURE='the job ended without verifying its result'; fi
    out=$(step_output 12)
    log "FAILED (exit $rc) at step '$SB_STEP': \${SB_FAILURE:-exit $rc}"
    report=$(printf '%s%s\\nfailed step: %s\\nlast lines of the failing command:\\n%s\\n' "\${SB_FAILURE:-exit $rc}" "$SB_NOTES" "$SB_STEP" "\${out:-(it printed nothing)}")
    printf -- '%s\\n--- last lines of the log ---\\n%s\\n' "$report" "$(tail -n 30 "$SB_LOG")" >&2
    { printf '%s\\n\\n--- log ---\\n' "$report"; tail -n 60 "$SB_LOG"; } | heartbeat /fail || log "could not report the failure to the heartbeat"
  fi
  [ -z "$SB_CACHE" ] || rm -rf "$SB_CACHE"
  [ -n "$SB_NO_TMP" ] || rm -f "$SB_LOG" "$SB_LOG".ssh.*
  exit "$rc"
}
# The job's own stderr, for the exit trap. Children close it ({SB_STDERR}>&- where restic, ssh, a ping or a drill copy
# start): one that outlives the job (an ssh restic left behind) would keep whoever reads that stderr (a tee, the drill's
# wait for a copy's tee) waiting. Started with fd 2 closed, fd 2 and it are /dev/null: log's >&2 and the closes need a
# descriptor to name (a failed redirection ends the job under set -e).
exec {SB_STDERR}>&2 || { exec 2>/dev/null && exec {SB_STDERR}>&2; } || true
trap sb_exit EXIT
trap 'SB_RC=$?; [ -n "$SB_FAILURE" ] || SB_FAILURE="$BASH_COMMAND exited with $SB_RC (line $LINENO)"' ERR
trap 'die "stopped by a signal"' TERM INT HUP

SB_PING_PY='
import os, sys, time, urllib.request
body, error = sys.stdin.buffer.read()[-20000:], ""
for attempt in range(3):
    try:
        urllib.request.urlopen(urllib.request.Request(os.environ["SB_PING_URL"], data=body, method="POST"), timeout=10).close()
        sys.exit(0)
    except Exception as e:
        error = "%s %s" % (type(e).__name__, getattr(e, "code", ""))
        time.sleep(1 + 2 * attempt)
sys.exit("heartbeat ping failed: " + error)
'
# Pings <url>/<host>-<job><suffix> with stdin as the body. The URL is a secret: never in argv or the log.
heartbeat() {
  local file="$SB_ETC/secrets/\${HEARTBEAT:-}.b64" url
  if [ -z "\${HEARTBEAT:-}" ] || [ -n "$SB_NO_PINGS" ]; then cat >/dev/null; return 0; fi
  if [ ! -r "$file" ]; then cat >/dev/null; log "the heartbeat URL file $file is missing"; return 1; fi
  url="$(base64 -d "$file")/\${BACKUP_HOST:-unknown}-\${SB_SLUG:-$SB_JOB}$1"
  SB_PING_URL=$url "\${PY[@]}" -c "$SB_PING_PY" {SB_LOG_FD}<&-
}
# The /start ping, in the background: a heartbeat adds no time to the job.
heartbeat_start() { heartbeat /start </dev/null >/dev/null 2>&1 {SB_STDERR}>&- {SB_LOG_FD}<&- & SB_START_PING=$!; }

# require_free_tmp: restic keeps the packs it uploads in TMPDIR until they are sent, and a job's run files go
# there too. On a disk that is full (less than SB_TMP_FLOOR_MB left) the job would fail at its first write with
# an error that does not say why (a printf, a read), so it fails at once and says so.
SB_TMP_FLOOR_MB=4
require_free_tmp() {
  local dir=\${TMPDIR:-/tmp} free
  step "checking the free space of $dir"
  free=$(( $(stat -f -c '%f * %S' "$dir") >> 20 ))
  [ "$free" -ge "$SB_TMP_FLOOR_MB" ] || die "the disk of $dir (TMPDIR) is full: $free MiB left, and this job needs room there for restic's packs on their way to the targets and for its own files, so nothing was sent. Fix: free space on that disk (df -h $dir; on one-disk machines the local dumps in \${DUMP_DIR:-the dump directory} are often the largest files), then run backup-$SB_JOB again"
}

# disk_free <directory>: "<n> inodes and <m> MiB free" of the directory's disk.
disk_free() {
  local inodes blocks
  inodes=$(stat -f -c %d "$1" 2>/dev/null) || inodes='?'
  blocks=$(stat -f -c '%f %S' "$1" 2>/dev/null) && blocks="$(( \${blocks% *} * \${blocks#* } >> 20 )) MiB" || blocks='? MiB'
  printf '%s inodes and %s free' "$inodes" "$blocks"
}

# tmpdir_full <what failed, and how>: a file of the run's directory in TMPDIR did not fit (its disk filled during the
# run); fails the job, naming the disk, its free space and the fix. The log is on that disk too: the message says it all.
tmpdir_full() {
  local dir=\${TMPDIR:-/tmp}
  die "$1. TMPDIR's disk ($(df --output=target "$dir" 2>/dev/null | tail -n 1)) has $(disk_free "$dir"); the job keeps its run's files there, and restic its packs (16 MiB each). Fix: free space on that disk (df -h $dir), or give the job a TMPDIR on a larger disk, then run \${0##*/} again"
}

# to_run_file <file> <what> <text>: appends text to one of the run's files in TMPDIR. A disk that filled fails the job
# naming TMPDIR, its disk and the fix (tmpdir_full), where the ERR trap would name only the command and its line.
to_run_file() {
  local error
  error=$( { printf '%s' "$3" >>"$1"; } 2>&1 ) || tmpdir_full "writing $2 into $SB_RUN (TMPDIR) failed: \${error##*: }"
}

# no_tmp_files: the job's log could not be created in TMPDIR (SB_NO_TMP holds mktemp's error); fails the job, naming the disk.
no_tmp_files() {
  local dir=\${TMPDIR:-/tmp}
  die "cannot create the job's files in $dir (TMPDIR), so it did nothing: $SB_NO_TMP. Its disk has $(disk_free "$dir"); every job needs a few files there, and restic its packs. Fix: free inodes or space on that disk (df -i $dir and df -h $dir; many small files use up the inodes), then run \${0##*/} again"
}

load_conf() {
  [ -r "$SB_ETC/$1" ] || die "configuration $SB_ETC/$1 is missing"
  . "$SB_ETC/$1"
  [ -z "$SB_NO_TMP" ] || no_tmp_files
  # restic's cache lives for one run only: a cache that survives runs serves snapshot, index and
  # tree files that may no longer match the remote, and hides corruption there (or invents it).
  mkdir -p "$BACKUP_STATE"
  rm -rf "$BACKUP_STATE/cache"
  find "$BACKUP_STATE" -maxdepth 1 -name 'cache-run.*' -mmin +1440 -exec rm -rf {} + 2>/dev/null || true
  # On a state disk with no inode left the job fails here: it says which disk, not only which line.
  if ! SB_CACHE=$(mktemp -d "$BACKUP_STATE/cache-run.XXXXXX" 2>&1); then
    local error=$SB_CACHE
    SB_CACHE=''
    die "cannot create this run's restic cache in $BACKUP_STATE, so it did nothing: $error. Its disk has $(disk_free "$BACKUP_STATE"). Fix: free inodes or space on that disk (df -i $BACKUP_STATE and df -h $BACKUP_STATE), then run \${0##*/} again"
  fi
  # Each target's restic password as the job found it, for all of its restic calls. A deploy that changes the password
  # replaces the file while a job runs, and backup-rotate-keys adds the new password to the repositories only once the
  # job let go of the repository lock: the job's later calls (the read-back of a dump) opened the repository with a
  # password it did not know yet, and the job failed. The job keeps each file open, and its restic reads the file it
  # opened (/proc/<job>/fd/<n>, root's alone): the rollout renames a new file into place, which leaves the open one as it
  # was. (No copy: it would need an inode and room on a disk that may have none left.)
  local f
  for f in "$SB_ETC"/secrets/*.restic.b64; do
    [ -r "$f" ] || continue
    f=\${f##*/}
    exec {SB_PASSWORD_FD[\${f%.restic.b64}]}<"$SB_ETC/secrets/$f" || true
  done
  pinned_host_keys
  export PGHOST="\${PG_HOST:-/var/run/postgresql}" PGPORT="\${PG_PORT:-5432}"
  if [ -n "\${PG_USER:-}" ]; then export PGUSER="$PG_USER"; fi
  # The server's major's own client programs, first on PATH: Debian's pg_wrapper would pick the newest
  # major installed (PGHOST is set), and start Perl on every call.
  if [ -n "\${PG_BIN:-}" ]; then
    [ -x "$PG_BIN/pg_dump" ] && [ -x "$PG_BIN/pg_restore" ] && [ -x "$PG_BIN/psql" ] \\
      || die "PostgreSQL's client programs are not in $PG_BIN (PG_BIN of $SB_ETC/$1): install the client package of the server's major, or correct the major the plan was given"
    PATH="$PG_BIN:$PATH"
  fi
}

# One job at a time touches the repositories of this machine (prune needs them to itself). A job waits up to
# LOCK_WAIT_SECONDS (an hour) for the others; the holder writes its name into the lock file, so that a job that gave up
# names the job it waited for (a dump, a check or a prune can run for hours: their schedules must not meet).
# repo_lock [<seconds to wait> [<what to do when the wait ran out>]]
repo_lock() {
  local lock="$BACKUP_STATE/repository.lock" wait=\${1:-\${LOCK_WAIT_SECONDS:-3600}} holder held
  local fix=\${2:-"see what it does (systemctl list-units 'backup-*'; journalctl -u <its unit>); when it runs this long on every run, move one of the two schedules away from the other (the plan's schedule, pruneSchedule or checkSchedule)"}
  mkdir -p "$BACKUP_STATE"
  # Opened without truncating it: the holder's line stays for the jobs that wait.
  exec 9<>"$lock"
  # The jobs that make the backups come first (SB_LOCK_FIRST: the bootstrap, the dump, the push; and a restore run by
  # hand). While one waits it holds repository.wanted (shared), and a check or a prune that holds the lock stops its
  # long step and lets go (gives_way). Otherwise a check that took the lock first (the missed jobs all run at boot, in a
  # random order) or ran long (Phase 2 dumps every 6 hours) held the dump past its hour's wait, and the dump failed.
  if { [ -n "\${SB_LOCK_FIRST:-}" ] || [ -n "\${SB_LOCK_BY_HAND:-}" ]; } && ! flock -n 9; then
    holder=$(lock_holder "$lock")
    [ -z "\${SB_LOCK_BY_HAND:-}" ] || lock_held_by_hand "$holder"
    # Its name, for the check or prune that gives way to it (lock_wanted_by): written before it wants the lock, so that
    # one that sees it wanting finds the name.
    SB_WANTED_NAME="$BACKUP_STATE/repository.wanted.$$"
    at_exit 'rm -f "$SB_WANTED_NAME"'
    printf '%s (pid %s)\\n' "\${0##*/}" "$$" 2>/dev/null >"$SB_WANTED_NAME" || true
    # (Without it, on a state disk with no inode left, the job waits as the others do.)
    if exec {SB_WANTED_FD}<>"$BACKUP_STATE/repository.wanted"; then flock -s "$SB_WANTED_FD"; else SB_WANTED_FD=''; fi
    log "waiting for the repository lock, held by \${holder:-a job that did not record its name}: a check or a prune gives way"
  fi
  if ! lock_wait "$wait" "$lock"; then
    holder=$(lock_holder "$lock")
    if [ "$wait" -ge 120 ]; then wait="$((wait / 60)) minutes"; else wait="$wait seconds"; fi
    die "another backup job has held the repository lock for $wait, so \${0##*/} did nothing: \${holder:-a job that did not record its name}. Fix: $fix"
  fi
  if [ -n "\${SB_WANTED_FD:-}" ]; then exec {SB_WANTED_FD}>&-; SB_WANTED_FD=''; fi
  rm -f "\${SB_WANTED_NAME:-}"
  # Truncated as it is opened: on a full state disk the line is empty rather than the previous holder's. The job goes
  # on (a dump matters more than its name in the lock file), and says so in its outcome.
  if ! held=$(printf '%s (pid %s), since %(%Y-%m-%dT%H:%M:%S)TZ\\n' "\${0##*/}" "$$" -1 2>&1 >"$lock"); then
    note "could not record this job as the holder of the repository lock in $lock (\${held##*: }; its disk has $(disk_free "$BACKUP_STATE")), so a job that waits for the lock names 'a job that did not record its name' instead of \${0##*/}. Fix: free space on that disk (df -h $BACKUP_STATE)"
  fi
  reopen_rotated_passwords
}

# lock_wait <seconds> <lock file>: waits for the repository lock (fd 9). A restore run by hand waits in slices of 2s
# and names the holder again after each: the check it waited for gives way to a dump or a push as
# well, and one that took the lock first (they race for it) fails the restore at once, as at its start. In one long
# wait the restore went on waiting without a word, and restored the dump of this machine as it is now.
lock_wait() {
  [ -n "\${SB_LOCK_BY_HAND:-}" ] || { flock -w "$1" 9; return; }
  local end=$((SECONDS + $1))
  until flock -w 2 9; do
    lock_held_by_hand "$(lock_holder "$2")"
    [ "$SECONDS" -lt "$end" ] || return 1
  done
}

# lock_wanted_by: who waits for the repository lock (each waiter's repository.wanted.<pid>, written by repo_lock), those
# still running; a waiter that wrote no name (a job of an earlier version, a state disk with no inode left) is said to be
# unknown. Names of waiters that are gone (killed while they waited) are removed: a waiter killed by SIGKILL runs no
# exit trap, and its pid, used again by another process, is no longer the waiter unless that runs the job it named.
lock_wanted_by() {
  local f pid name arg running names='' unnamed=''
  for f in "$BACKUP_STATE"/repository.wanted.*; do
    pid=\${f##*.}
    [[ $pid =~ ^[0-9]+$ ]] || continue
    name=$(lock_holder "$f") running=''
    # (A file without a name yet, or on a full disk, has no job to match: its pid alone says it runs.)
    if [ -r "/proc/$pid/cmdline" ] && [ -z "$name" ]; then running=1; fi
    if [ -n "$name" ] && [ -r "/proc/$pid/cmdline" ]; then
      { while IFS= read -r -d '' arg; do [ "\${arg##*/}" != "\${name%% *}" ] || running=1; done <"/proc/$pid/cmdline"; } 2>/dev/null || true
    fi
    if [ -z "$running" ]; then rm -f "$f"; continue; fi
    if [ -n "$name" ]; then names="\${names:+$names, }$name"; else unnamed=1; fi
  done
  if [ -n "$unnamed" ] && [ -n "$names" ]; then names="$names, a job that did not record its name"; fi
  printf '%s' "\${names:-a job that did not record its name (a bootstrap, a dump, a push, or a restore run by hand)}"
}

# lock_holder <lock file>: the line its holder wrote ("backup-dump (pid 1234), since <time>"), printable, or nothing.
lock_holder() { head -n 1 "$1" 2>/dev/null | tr -cd '[:print:]' | head -c 200 || true; }

# lock_held_by_hand <holder>: a restore run by hand (SB_LOCK_BY_HAND: backup-restore, backup-restore-files) found the
# repository lock held. A check or a prune gives way to it, as to a dump: it only verifies or trims the repositories.
# Any other holder (a dump, a push, the bootstrap, a key rotation, another restore) fails it at once, before it changed
# anything: it waited up to an hour without a word, and a dump or push that ended meanwhile became the newest backup,
# of this machine as it is now (what the operator restores over), which the restore then took.
lock_held_by_hand() {
  local job=\${1%% *}
  case $job in
    backup-check|backup-prune) return 0 ;;
  esac
  die "\${1:-a job that did not record its name} holds this machine's repository lock, and \${0##*/} waits for no job but a check or a prune (they give way to it): a dump or a push that ended while it waited would be the newest backup, of this machine as it is now, and the restore would take it. Nothing was changed. Fix: see what it does (systemctl list-units 'backup-*'; journalctl -u \${job:-<its unit>}) and wait until it has ended, or stop it (systemctl stop \${job:-<its unit>}); then run \${0##*/} again, and pass --snapshot to name the backup to restore (restic snapshots --host $BACKUP_HOST lists them)"
}

# reopen_rotated_passwords: once the lock is this job's. A deploy may have replaced a restic password file while the job
# waited for the lock, and backup-rotate-keys, taking the lock first, then removed the password the job had opened (load_conf
# keeps it open for the run): every restic call of the job failed. A target whose file changed and whose repository no
# longer opens with the job's password, but opens with the file's, is used with the file's from here on.
reopen_rotated_passwords() {
  local t current held fresh
  for t in "\${!SB_PASSWORD_FD[@]}"; do
    current="$SB_ETC/secrets/$t.restic.b64" held=\${SB_PASSWORD_FD[$t]}
    if [ ! -r "$current" ] || cmp -s "/proc/$$/fd/$held" "$current"; then continue; fi
    restic_on "$t" --no-cache cat config >/dev/null 2>&1 && continue
    exec {fresh}<"$current" || continue
    SB_PASSWORD_FD[$t]=$fresh
    if restic_on "$t" --no-cache cat config >/dev/null 2>&1; then
      exec {held}<&-
      log "$t: the restic password was replaced while this job waited for the repository lock, and the repository was rotated to the new one meanwhile: using the new one"
    else
      SB_PASSWORD_FD[$t]=$held
      exec {fresh}<&-
    fi
  done
}

# gives_way <target> <command>...: runs a long step of a check or a prune (restic check, restic prune) on <target>
# under the repository lock, and stops it when a dump, push or bootstrap waits for the lock (repo_lock). Then it
# removes the stopped restic's lock from the repository (restic 0.14 would refuse the dump on it), lets go of the
# repository lock, waits until the jobs that waited have taken it and let go (GIVE_WAY_WAIT_SECONDS: the longest a
# bootstrap, a dump and a push run), takes it again, and runs the step again from its start. It gives way as often as a dump comes:
# a check or prune that never finishes between two dumps runs into its unit's timeout, and its heartbeat alerts.
SB_GAVE_WAY=0 SB_GAVE_WAY_TO=''
gave_way_note() { [ "$SB_GAVE_WAY" = 0 ] || printf '; gave way %s time(s) to %s and ran the step again' "$SB_GAVE_WAY" "$SB_GAVE_WAY_TO"; }
gives_way() {
  local t=$1 pid rc wanted waited=\${GIVE_WAY_WAIT_SECONDS:-48600} took who
  shift
  while :; do
    # Without the file (a state disk with no inode left) the step runs as before, giving way to nobody.
    if ! exec {wanted}<>"$BACKUP_STATE/repository.wanted"; then
      log "cannot open $BACKUP_STATE/repository.wanted: this step does not give way to a dump or push that comes"
      "$@"
      return
    fi
    exec {wanted}>&-
    "$@" &
    pid=$!
    bg_job "$pid"
    exec {wanted}<>"$BACKUP_STATE/repository.wanted"
    while [[ " $(jobs -pr | tr '\\n' ' ') " == *" $pid "* ]]; do
      if ! flock -n -x "$wanted"; then break; fi
      flock -u "$wanted"
      sleep 1
    done
    if [[ " $(jobs -pr | tr '\\n' ' ') " != *" $pid "* ]]; then
      exec {wanted}>&-
      rc=0; wait "$pid" || rc=$?
      return "$rc"
    fi
    SB_GAVE_WAY=$((SB_GAVE_WAY + 1))
    who=$(lock_wanted_by)
    SB_GAVE_WAY_TO="\${SB_GAVE_WAY_TO:+$SB_GAVE_WAY_TO, }$who"
    log "$t: $who waits for the repository lock: stopping this step ($SB_STEP) to let it go first, then running it again"
    kill_tree "$pid"
    wait "$pid" 2>/dev/null || true
    unlock_stale "$t" || log "$t: restic unlock failed: the lock of the stopped step may stay until the next dump, push, check or prune"
    flock -u 9
    # The waiting jobs hold repository.wanted until they have the lock: this one takes it again only after them.
    took=$SECONDS
    flock -w "$waited" -x "$wanted" || die "the jobs this \${0##*/} gave way to still wait for the repository lock after \${waited}s: see what holds it (systemctl list-units 'backup-*')"
    exec {wanted}>&-
    repo_lock "$(( waited > SECONDS - took ? waited - (SECONDS - took) : 1 ))" "see what the job that came first does (journalctl -u <its unit>): a bootstrap, a dump and a push together take at most GIVE_WAY_WAIT_SECONDS"
    log "$t: the repository lock is back after $((SECONDS - took))s; running the step again ($SB_STEP)"
  done
}

# Per-target settings are <target>_<NAME> variables of the configuration. tv_to <variable> <target> <NAME> sets the
# variable to one with no fork (restic_on runs for every restic call; a command substitution costs a subshell). No
# helper prints a setting: a $(…) of it would bring the fork back.
# The locals are __-named: printf -v sets the caller's variable only when no local of these functions has its name.
# setter_name_free <function> <variable> <its locals>...: a variable named as one of them would set that local and
# leave the caller's as it was, unsaid: refused, said, and returns 2 (a job under set -e stops there).
setter_name_free() {
  case " \${*:3} " in *" "$2" "*) printf '%s: cannot set %s: a local of %s has that name, so printf -v would set the local, not the caller'"'"'s variable\n' "$1" "$2" "$1" >&2; return 2 ;; esac
}
tv_to() { setter_name_free tv_to "$1" __n || return; local __n="\${2}_$3"; printf -v "$1" '%s' "\${!__n:-}"; }

# quoted_to <variable> <value>: the value as one word of a line an operator pastes into a shell: as it is when nothing in
# it is special to bash (printf %q leaves it so: an id, a path, a user name), else between double quotes, with \\ " $ \`
# escaped and each ! outside them (an interactive shell's history expansion acts inside double quotes). Not %q's own
# form: a setting such as sftp.command, which holds spaces, stays as readable as it is written. A value with a control
# character (a tab, a newline, CR) takes %q's $'…' form, which writes each as an escape: raw, a tab pasted into an
# interactive shell completes and a newline ends the line, the log's and the pasted one.
quoted_to() {
  setter_name_free quoted_to "$1" __q || return
  local __q
  printf -v __q %q "$2"
  if [[ $2 == *[[:cntrl:]]* ]]; then :
  elif [ "$__q" != "$2" ]; then
    __q=\${2//\\\\/\\\\\\\\}; __q=\${__q//\\"/\\\\\\"}; __q=\${__q//\\$/\\\\\\$}; __q=\${__q//\\\`/\\\\\\\`}; __q=\${__q//!/\\"\\\\!\\"}
    __q=\\"$__q\\"
  fi
  printf -v "$1" '%s' "$__q"
}

# restic_by_hand <target> <restic arguments...>: the command line that runs restic on a target's repository as this
# tooling does, for an operator's shell on this machine, after how to run it: as root, whose files (the key, the
# secrets) it reads; a subshell takes no sudo in front, so in sudo -i, or sudo bash -c '…' when the line holds no single
# quote; sudo -i alone when a value puts one in it (a setting or an argument with a single quote, or with a control
# character, which takes the $'…' form). Every value is quoted (quoted_to): pasted, each reaches restic as the one
# argument, or the one setting, restic_on gives it, with no glob expanded. An S3 target's endpoint and bucket are
# secrets: read from their file, not printed, and given to restic in its environment, as restic_on does (argv is what ps
# shows any user); a secret file that cannot be read stops the line (bash goes on after a failed dot command), rather
# than running restic on "s3:/" without keys. --no-cache, as the jobs' own cache lives for their run only: none is left
# in root's home.
restic_by_hand() {
  local t=$1 kind repo host user password env askpass file a args='' line command setting
  local -a options
  shift
  for a in "$@"; do quoted_to a "$a"; args="$args $a"; done
  tv_to kind "$t" KIND; tv_to repo "$t" REPO_PATH
  # The settings restic splits itself in its form (restic_command_to), then quoted for the shell.
  restic_command_to password base64 -d "$SB_ETC/secrets/$t.restic.b64" || return
  quoted_to password "$password"
  case $kind in
    sftp)
      ssh_options_to options "$t" || return; tv_to host "$t" HOST; tv_to user "$t" USER; tv_to askpass "$t" AUTH
      # A password login: ssh takes the password from the askpass helper, which reads it from its file, as restic_on
      # has it; the line names the file, not the password.
      if [ "$askpass" = password ]; then
        quoted_to askpass "$SB_LIB/askpass"; quoted_to file "$SB_ETC/secrets/$t.password.b64"
        askpass="SSH_ASKPASS=$askpass SSH_ASKPASS_REQUIRE=force SB_ASKPASS_FILE=$file "
      else askpass=''; fi
      restic_command_to command ssh "\${options[@]}" "$host" -s sftp || return
      # sftp.command= outside the shell's quotes, as an operator writes it, when -o's CSV form leaves it as it is.
      csv_field_to setting "sftp.command=$command" || return
      if [ "$setting" = "sftp.command=$command" ]; then quoted_to command "$command"; command=sftp.command=$command
      else quoted_to command "$setting"; fi
      quoted_to repo "sftp:$user@$host:$repo"
      printf -v line '%sRESTIC_PASSWORD_COMMAND=%s restic -o %s -r %s --no-cache%s' "$askpass" "$password" "$command" "$repo" "$args" ;;
    *)
      # The repository's path goes inside the double quotes of RESTIC_REPOSITORY (after the secrets' $(…)), which it
      # closes: quoted_to's form without its opening quote; a $'…' form (a control character) after them.
      quoted_to env "$SB_ETC/secrets/$t.s3.env"; quoted_to repo "$repo"
      case $repo in \\"*) repo=\${repo#\\"} ;; \\$\\'*) repo=\\"$repo ;; *) repo=$repo\\" ;; esac
      printf -v line '(. %s || exit 1; d() { printf %%s "$1" | base64 -d; }; RESTIC_REPOSITORY="s3:$(d "$ENDPOINT_B64")/$(d "$BUCKET_B64")/%s AWS_ACCESS_KEY_ID=$(d "$ACCESS_KEY_ID_B64") AWS_SECRET_ACCESS_KEY=$(d "$SECRET_ACCESS_KEY_B64") RESTIC_PASSWORD_COMMAND=%s restic --no-cache%s)' \\
        "$env" "$repo" "$password" "$args" ;;
  esac
  case $line in
    *\\'*) printf 'as root, in sudo -i: %s' "$line" ;;
    *) printf "as root, in sudo -i or sudo bash -c '…': %s" "$line" ;;
  esac
}

# ssh_options_to <array> <target> [password]: sets the array to ssh's options for the target, one argument each, with no
# fork (as tv_to); with "password", a password login's, whatever the target's AUTH (the bootstrap installs its key so).
# IdentityFile by -o, not -i: ssh looks for -i's file before it expands % in its name (ssh_value_to), so a path with a %
# had no form there.
ssh_options_to() {
  setter_name_free ssh_options_to "$1" __r __t __port __user __keys __auth __known __key __shown || return
  local -n __r=$1
  local __t=$2 __port __user __keys __auth __known __key __shown
  tv_to __port "$__t" PORT; tv_to __user "$__t" USER; tv_to __keys "$__t" HOSTKEYS; tv_to __auth "$__t" AUTH
  [ -z "\${3:-}" ] || __auth=$3
  # OpenSSH 9.2 refuses a user holding any of '"\`;&<>|(){}\\ or a space at its end or - at its start, without naming
  # the target; 10.0 expands % and \${} in User. So the class StorageBoxAccount takes, refused here by name (returns 2).
  if [[ ! $__user =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]]; then
    # Shown no further than an account name's start: a password pasted there reaches the journal and the failure ping.
    __shown='not shown, as it may hold a password'
    # The start is shown only when it is a whole account name, ended by the first refused character ('u7Hx$pw' shows nothing).
    [[ ! $__user =~ ^(u[0-9]+(-sub[0-9]+)?)([^A-Za-z0-9._-]|$) ]] || __shown="it begins \${BASH_REMATCH[1]}; the rest is not shown, as it may hold a password"
    printf '%s: the SSH user of target %s is refused (%s): ssh refuses or rewrites a user outside letters, digits, . _ - (starting with a letter or digit). Fix: set %s_USER in backup.conf to the account name as the Storage Box gives it (u123456 or u123456-sub1)\\n' "\${FUNCNAME[1]}" "$__t" "$__shown" "$__t" >&2
    return 2
  fi
  # The user needs no escape for ssh's parser: the check above lets through nothing it treats specially.
  ssh_value_to __known "$SB_ETC/ssh/known_hosts.$__t" path || return
  __r=(-F /dev/null -o "Port=$__port" -o "User=$__user" -o "HostKeyAlias=sovereign-$__t" -o "UserKnownHostsFile=$__known"
    -o "StrictHostKeyChecking=$__keys" -o ConnectTimeout=20 -o ServerAliveInterval=15 -o ServerAliveCountMax=4 -o LogLevel=ERROR)
  if [ "$__auth" = password ]; then
    __r+=(-o PreferredAuthentications=password -o PubkeyAuthentication=no -o NumberOfPasswordPrompts=1)
  else
    ssh_value_to __key "$SB_ETC/ssh/id_ed25519" path || return
    __r+=(-o BatchMode=yes -o IdentitiesOnly=yes -o PreferredAuthentications=publickey -o "IdentityFile=$__key")
  fi
}

# ssh_value_to <variable> <value> [path]: the value of an ssh -o option as ssh reads it back: ssh parses "-o Key=value" as
# a line of its configuration, split at spaces and tabs, with quotes, and with \\ before a space, a quote or \\ as an escape
# (OpenSSH 9.2's argv_split): each of those is escaped, so no value is split or unquoted. A path (IdentityFile,
# UserKnownHostsFile) is expanded besides: its % doubled (%% is a %). Refused (said, returns 2): a control character (a
# tab splits even escaped), and in a path a \${, which ssh expands as an environment variable, with no escape.
ssh_value_to() {
  setter_name_free ssh_value_to "$1" __v || return
  local __v=$2
  if [[ $__v == *[[:cntrl:]]* ]] || { [ -n "\${3:-}" ] && [[ $__v == *'\${'* ]]; }; then
    printf '%s: ssh cannot be given %q: it holds a control character, or, in a path, \${, which ssh expands. Fix: choose a value without them (the Storage Box user, SOVEREIGN_BACKUP_ETC)\\n' "\${FUNCNAME[1]}" "$__v" >&2
    return 2
  fi
  __v=\${__v//\\\\/\\\\\\\\}; __v=\${__v// /\\\\ }; __v=\${__v//\\"/\\\\\\"}; __v=\${__v//\\'/\\\\\\'}
  [ -z "\${3:-}" ] || __v=\${__v//\\%/%%}
  printf -v "$1" '%s' "$__v"
}

# restic_word_to <variable> <word>: the word in the form restic 0.14 splits back into it, for a setting restic splits
# itself (sftp.command, --password-command; backend.SplitShellStrings): it splits at whitespace and at \\, and at each
# quote, ' or ", which opens a run that is one argument until the same quote closes it; a quote right after a \\ neither
# opens nor closes one, and is kept with the \\. No escape outside quotes. So a word of plain characters is given as it
# is, any other between double quotes, or single ones when a " in it is not after a \\; refused (said, returns 2) when
# no form gives it back: an empty word (it vanishes), one that ends in \\ (it keeps the closing quote open), one with both
# quotes bare.
restic_word_to() {
  setter_name_free restic_word_to "$1" __w || return
  local __w=$2
  case $__w in
    ''|*\\\\) __w='' ;;
    *[!A-Za-z0-9_./:@%+=,-]*)
      if [[ $__w != \\"* && $__w != *[!\\\\]\\"* ]]; then __w=\\"$__w\\"
      elif [[ $__w != \\'* && $__w != *[!\\\\]\\'* ]]; then __w=\\'$__w\\'
      else __w=''; fi ;;
  esac
  if [ -z "$__w" ]; then
    printf '%s: restic cannot be given the word %q in a command it splits itself (sftp.command, --password-command): it is empty, ends in a backslash, or holds both quotes. Fix: choose a value without them (the Storage Box user and host, SOVEREIGN_BACKUP_ETC, TMPDIR)\\n' "\${FUNCNAME[1]}" "$2" >&2
    return 2
  fi
  printf -v "$1" '%s' "$__w"
}

# csv_field_to <variable> <value>: the value as restic's -o reads it back: each -o is read as a line of CSV (pflag's string
# slice: split at commas, "…" quoting, "" a quote inside), so a value with a comma or a quote goes between quotes, each "
# doubled. A CR or a newline is refused (said, returns 2): the reader changes a CRLF, and a bare newline ends the line.
csv_field_to() {
  setter_name_free csv_field_to "$1" __f || return
  local __f=$2
  case $__f in
    *[$'\\r\\n']*) printf '%s: restic -o cannot be given %q: it holds a CR or a newline. Fix: choose values without them\\n' "\${FUNCNAME[1]}" "$__f" >&2; return 2 ;;
    *[,\\"]*) __f=\\"\${__f//\\"/\\"\\"}\\" ;;
  esac
  printf -v "$1" '%s' "$__f"
}

# restic_command_to <variable> <words>...: the words as one setting that restic splits back into them (restic_word_to).
restic_command_to() {
  setter_name_free restic_command_to "$1" __c __a __q || return
  local __c='' __a __q
  for __a in "\${@:2}"; do restic_word_to __q "$__a" || return; __c+=" $__q"; done
  printf -v "$1" '%s' "\${__c# }"
}

ensure_key() {
  # A test first (a builtin): restic_on calls this before every restic call on an SFTP target that logs in with a key.
  [ -d "$SB_ETC/ssh" ] || mkdir -p "$SB_ETC/ssh"
  [ -s "$SB_ETC/ssh/id_ed25519" ] && return 0
  log "generating this machine's backup SSH key"
  ssh-keygen -q -t ed25519 -N '' -C "sovereign-backup@\${BACKUP_HOST:-unknown}" -f "$SB_ETC/ssh/id_ed25519"
}

# s3_redact <endpoint> <bucket>: copies stdin to stdout with the endpoint (as configured, and its host
# with and without the port) and the bucket replaced (bash builtins: it runs for every restic call). Go names the
# address it connected to, the endpoint's resolved IP ("dial tcp 203.0.113.7:443: i/o timeout", "read tcp
# <local>-><IP>:443: ..."): it tells the endpoint as its name does, so it is replaced too (every TCP connection of
# restic's S3 backend goes to the endpoint, or to a proxy). Only in the shape of Go's network errors (net.OpError: the
# operation on a connection (dial, read, write, close, readfrom, writeto, set), tcp, the address, ": "), and not the
# resolver's address, which a name looked up over TCP names the same way ("lookup <name> on 10.0.0.2:53: dial tcp
# 10.0.0.2:53: i/o timeout"): it is not the endpoint.
s3_redact() {
  local host=\${1#*://} line rest out resolver match lookup='lookup [^ ]+ on ([^ ]+): ' address='(^|[^[:alnum:]])((dial|read|write|close|readfrom|writeto|set) tcp[46]? ([^ <]*->)?)([^ <>]+)(: )'
  host=\${host%%/*}
  local -a secrets=("$1" "$host" "\${host%:*}" "$2")
  while IFS= read -r line || [ -n "$line" ]; do
    line=\${line//"\${secrets[0]}"/<s3-endpoint>}
    line=\${line//"\${secrets[1]}"/<s3-endpoint>}
    line=\${line//"\${secrets[2]}"/<s3-endpoint>}
    line=\${line//"\${secrets[3]}"/<bucket>}
    resolver=''
    if [[ $line =~ $lookup ]]; then resolver=\${BASH_REMATCH[1]}; fi
    rest=$line out=''
    while [[ $rest =~ $address ]]; do
      match=\${BASH_REMATCH[0]}
      out+=\${rest%%"$match"*}
      if [ "\${BASH_REMATCH[5]}" = "$resolver" ]; then out+=$match
      else out+="\${BASH_REMATCH[1]}\${BASH_REMATCH[2]}<s3-endpoint>\${BASH_REMATCH[6]}"; fi
      rest=\${rest#*"$match"}
    done
    printf '%s\n' "$out$rest"
  done
}

# password_file_to <variable> <target>: sets the variable to the target's restic password file (its name, never the
# password) as the job opened it (load_conf), else the file itself, with no fork (as tv_to).
# It has no locals, so no variable named is one of them (setter_name_free).
password_file_to() {
  if [ -n "\${SB_PASSWORD_FD[$2]:-}" ]; then printf -v "$1" '/proc/%s/fd/%s' "$$" "\${SB_PASSWORD_FD[$2]}"
  else printf -v "$1" '%s' "$SB_ETC/secrets/$2.restic.b64"; fi
}

# pinned_host_keys: notes in SB_PINNED the SFTP targets whose known_hosts file holds their host key before the job's first
# restic call (load_conf): ssh checks every login to them against it. Most restic calls run in subshells, which inherit
# the note: without it each looked the key up again after its call (restic_on), an ssh-keygen for every restic call.
pinned_host_keys() {
  local f t
  for f in "$SB_ETC"/ssh/known_hosts.*; do
    t=\${f##*/known_hosts.}
    # A target's name has no dot (targetNames): known_hosts.<t>.old is ssh-keygen -R's copy, and an empty name would end
    # the job at the array subscript.
    case $t in ''|*.*) continue ;; esac
    [ -f "$f" ] && [ -z "\${SB_PINNED[$t]:-}" ] || continue
    if ssh-keygen -F "sovereign-$t" -f "$f" >/dev/null 2>&1; then SB_PINNED[$t]=1; fi
  done
}

# restic_on <target> [--no-cache] <restic arguments...>: restic against one target's repository.
# Verifications pass --no-cache (and the drill sets SB_NO_CACHE=1): everything they read comes from
# the remote. Other calls share a cache that lives for this run only.
restic_on() {
  local t=$1 pw rc=0 sshlog kind auth host user repo command
  local -a options
  shift
  # One line, the cause: the listing's own messages are in the log once (a line for each of them again per restic call).
  if [ -n "\${SB_UNREACHABLE[$t]:-}" ]; then printf '%s: not connecting again, the repository was not reached a moment ago: %s\\n' "$t" "\${SB_UNREACHABLE[$t]}" >&2; return 1; fi
  password_file_to pw "$t"
  [ -r "$pw" ] || { log "the restic password of $t is missing ($SB_ETC/secrets/$t.restic.b64)"; return 1; }
  if [ "\${1:-}" = --no-cache ]; then shift; set -- --no-cache "$@"
  elif [ -n "\${SB_NO_CACHE:-}" ] || [ -z "$SB_CACHE" ]; then set -- --no-cache "$@"
  else set -- --cache-dir "$SB_CACHE" "$@"; fi
  restic_command_to command base64 -d "$pw" || return 1
  set -- --password-command "$command" "$@"
  # restic and its ssh leave the job's locks (fd 9, the repository; fd 8, the drill's; SB_LOG_FD, its log's) and its
  # kept stderr (SB_STDERR) behind: one that outlived the job must not hold them.
  tv_to kind "$t" KIND
  case $kind in
    sftp)
      tv_to auth "$t" AUTH
      if [ "$auth" != password ]; then ensure_key || return 1; fi
      # ssh records a first-use host key in this directory; without it every login would be a first use.
      [ -d "$SB_ETC/ssh" ] || mkdir -p "$SB_ETC/ssh"
      # ssh's own errors go to a file of this call: restic may exit before it relays them (a changed host key). Not
      # removed after the call (an rm for every restic call): the exit trap removes the job's ssh logs, clean_killed_runs
      # a killed job's. Named by a counter of this shell, not $RANDOM (which repeats): ssh -E appends, and an ssh an
      # earlier call left running would write into a later call's log of the same name. A subshell counts on from its
      # parent's value under its own BASHPID, so names stay unique. Emptied first (a builtin), as ssh -E would append to
      # whatever a file of that name held.
      SB_SSH_SEQ=$((\${SB_SSH_SEQ:-0}+1))
      sshlog="$SB_LOG.ssh.$BASHPID.$SB_SSH_SEQ"
      { : >"$sshlog"; } 2>/dev/null || true
      ssh_options_to options "$t" || return 1
      tv_to host "$t" HOST; tv_to user "$t" USER; tv_to repo "$t" REPO_PATH
      # restic splits sftp.command itself: each word in the form it gives back (restic_command_to).
      # -o is read as CSV first (csv_field_to).
      restic_command_to command ssh -E "$sshlog" "\${options[@]}" "$host" -s sftp || return 1
      csv_field_to command "sftp.command=$command" || return 1
      SSH_ASKPASS="$SB_LIB/askpass" SSH_ASKPASS_REQUIRE=force SB_ASKPASS_FILE="$SB_ETC/secrets/$t.password.b64" \\
        restic -o "$command" \\
        -r "sftp:$user@$host:$repo" "$@" 8>&- 9>&- {SB_STDERR}>&- {SB_LOG_FD}<&- || rc=$?
      if [ "$rc" != 0 ] && [ -s "$sshlog" ]; then ssh_lines <"$sshlog" >&2; fi
      # Whatever the login method, the host key is pinned from now on: a changed key fails the next run. Not looked up
      # again once found (SB_PINNED: at the job's start, or after an earlier login of this shell): a key found pinned
      # stays so, as ssh checks every later login against it. One not found is looked up, and fails, after every login.
      if [ "$rc" = 0 ] && [ -z "\${SB_PINNED[$t]:-}" ]; then
        ssh-keygen -F "sovereign-$t" -f "$SB_ETC/ssh/known_hosts.$t" >/dev/null 2>&1 \\
          || { log "the host key of $t is not in $SB_ETC/ssh/known_hosts.$t after a login: it would not be checked next time"; return 1; }
        SB_PINNED[$t]=1
      fi
      return "$rc" ;;
    s3)
      (
        . "$SB_ETC/secrets/$t.s3.env"
        AWS_ACCESS_KEY_ID=$(printf %s "$ACCESS_KEY_ID_B64" | base64 -d)
        AWS_SECRET_ACCESS_KEY=$(printf %s "$SECRET_ACCESS_KEY_B64" | base64 -d)
        export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
        endpoint=$(printf %s "$ENDPOINT_B64" | base64 -d) bucket=$(printf %s "$BUCKET_B64" | base64 -d)
        # The endpoint and the bucket are secrets: the repository goes through the environment, not
        # argv (ps shows argv to every user), and restic's messages, which name it, reach the log and
        # the failure ping with both replaced. stdout (JSON, dumps) is passed on untouched.
        tv_to repo "$t" REPO_PATH
        export RESTIC_REPOSITORY="s3:$endpoint/$bucket/$repo"
        rc=0
        case " $* " in
          # restic init prints the repository it created.
          *" init "*) { restic "$@" 2>&1 | s3_redact "$endpoint" "$bucket"; } 8>&- 9>&- {SB_STDERR}>&- {SB_LOG_FD}<&- || rc=$? ;;
          *) { restic "$@" 2>&1 >&3 3>&- | s3_redact "$endpoint" "$bucket" >&2; } 3>&1 8>&- 9>&- {SB_STDERR}>&- {SB_LOG_FD}<&- || rc=$? ;;
        esac
        exit "$rc"
      ) ;;
    *) log "target $t has no known kind"; return 1 ;;
  esac
}

# unlock_stale <target>: removes the repository's stale locks (\`restic unlock\`, never --remove-all): those
# of this host whose process is gone, and those not refreshed for 30 minutes (restic refreshes a live
# one every 5). A job killed mid-run (a hard reset, the OOM killer, the Storage Box's connection lost
# before restic could delete its lock) leaves its lock behind, and restic 0.14 (Debian 12) never looks
# past one: a stale lock made every prune, check and key removal fail, and a stale exclusive one (a
# prune or check killed) every backup too, until someone ran restic unlock by hand. Run under the
# repository lock (repo_lock): no other job of this machine uses the repository, and a restic of this machine whose
# process still runs (one run by hand) is kept (restic checks its PID).
# unlock_stale <target> [<restic options>...]: the options go before restic's unlock (another key's password command)
# The first restic call on the target in a prune, a check, a key change and a restore by hand, and the one after a step
# that gave way (gives_way): a connection that timed out records the target as unreachable (judged), so that the job's
# later calls there fail at once, each naming that cause, rather than each waiting out another connection timeout.
# Returns 0, 2 when the target cannot be reached, 1 on any other failure.
unlock_stale() {
  log "$1: removing stale locks of the repository, if any (restic unlock)"
  run_dir
  log "run: restic_on $* unlock"
  judged "$1" 'removing stale locks' "$SB_RUN/unlock.$1.err" restic_on "$1" "\${@:2}" unlock >>"$SB_LOG"
}

# unreachable <file of restic's stderr>: whether restic failed because its connection to the repository timed out: ssh's
# ConnectTimeout (no TCP connection, or no SSH banner, in time) for SFTP, Go's dial timeout for S3; prints the line that
# says so. Only a timeout: a failure that comes at once (connection refused, no route, a name not found) costs the
# backup's own try nothing, and that try may find the target back (a Storage Box restarting, the network up a moment
# after boot). Only the final failure counts, restic's last "Fatal:" line and what follows it (ssh's messages, which
# restic_on adds after restic's), or, with no "Fatal:" line (restic prints other errors with their stack frames and a
# library's messages after them, so the last line is not the error), every line but restic's retry notices: a dial
# timeout that restic's own retry got past ("... returned error, retrying after ...") before another failure says
# nothing about the repository now.
unreachable() {
  awk '/returned error, retrying after/{next} /^Fatal: /{n = 0} {line[n++] = $0} END{for (i = 0; i < n; i++) print line[i]}' "$1" \\
    | grep -E '^ssh: (ssh: )?(connect to host .* port [0-9]+: Connection timed out|Connection timed out during banner exchange)|dial tcp [^ ]*: i/o timeout' \\
    | tail -n 1 | grep .
}

# unreached <target> <file of restic's stderr> <what restic did>: after a restic call of the target failed (its messages
# already in the log), records the target as unreachable for the rest of the run (SB_UNREACHABLE) when its connection timed out
# (unreachable), and says so; returns 1 otherwise. A target recorded already was not connected to (restic_on's notice,
# in the log, names the cause): its notice is not judged again (an S3 cause would read as a new timeout).
unreached() {
  local cause
  [ -z "\${SB_UNREACHABLE[$1]:-}" ] || return 0
  cause=$(unreachable "$2") || return 1
  SB_UNREACHABLE[$1]=$cause
  case $SB_JOB in
    dump|push) log "$1: the repository cannot be reached ($3 timed out), so the backup to it fails without connecting again" ;;
    *) log "$1: the repository cannot be reached ($3 timed out), so \${0##*/} does not connect to it again: what it still reads or writes there fails at once" ;;
  esac
}

# judged <target> <what it did> <file> <command...>: a call to a target after which the job has more to do there, judged
# as it failed: a job's first call (unlock_stale's, the bootstrap's login), or one after it (the bootstrap's opening of
# the repository after its login, the unlock after a step that gave way). Runs the command with its messages (stderr) in
# <file>, then in the log; returns 0 when it succeeded, 2 when the target cannot be reached (unreached: its connection
# timed out, or an earlier call found so), 1 on any other failure. The callers branch on the status: after a 2, what
# they would do next there fails at once (restic_on), so they say why instead.
judged() {
  local target=$1 what=$2 err=$3 rc=0
  shift 3
  "$@" 2>"$err" || rc=$?
  cat "$err" >>"$SB_LOG" 2>/dev/null || true
  [ "$rc" != 0 ] || return 0
  unreached "$target" "$err" "$what" && return 2
  return 1
}

# ssh_lines: ssh's messages (stdin) as restic_on relays them, which unreachable reads: the CR of ssh's CR LF line ends
# dropped (it would go on into a failure message), each line "ssh: ".
ssh_lines() { sed 's/\\r$//; s/^/ssh: /'; }

# listing <variable> <target> <what> <otherwise> <restic arguments...>: what a backup lists on a target before it writes
# (the repository's locks, this host's dumps or file snapshots), and restic_locks' lock listing, with --no-lock: sets
# <variable> to restic's output, and puts restic's messages in the log once and in $SB_RUN/listing.<target>.err
# (not_listed reads them). When restic fails, records the target as unreachable if its connection timed out (unreached,
# naming "listing <what>"), else logs "<target>: <otherwise>", and returns 1. It sets the variable by name rather than
# printing: called in $(…), a subshell, its record in SB_UNREACHABLE would be lost, and the job's later calls to the
# target would each wait out another connection timeout.
listing() {
  local listing_out listing_rc=0
  run_dir
  listing_out=$(restic_on "$2" --no-lock "\${@:5}" 2>"$SB_RUN/listing.$2.err") || listing_rc=$?
  cat "$SB_RUN/listing.$2.err" >>"$SB_LOG" 2>/dev/null || true
  printf -v "$1" '%s' "$listing_out"
  [ "$listing_rc" != 0 ] || return 0
  unreached "$2" "$SB_RUN/listing.$2.err" "listing $3" || log "$2: $4"
  return 1
}

# not_listed <target> <file of restic's stderr>: a first backup's listing of the target failed: adds the target to
# SB_UNLISTED with its cause, restic's last "Fatal:" line (else its last line; restic_on's output, redacted). Not only
# a timeout lands here: wrong S3 keys, a missing bucket, a wrong password, a repository backup-bootstrap never created.
not_listed() {
  local fatal
  fatal=$(grep '^Fatal: ' "$2" 2>/dev/null | tail -n 1) || true
  [ -n "$fatal" ] || fatal=$(grep . "$2" 2>/dev/null | tail -n 1) || true
  SB_UNLISTED[$1]=\${fatal:-no error from restic}
}

# unlisted <names|causes>: the targets of SB_UNLISTED in the order of TARGETS, for a message: "a, b", or with their
# causes, "a: <cause>; b: <cause>".
unlisted() {
  local t out=''
  for t in $TARGETS; do
    [ -n "\${SB_UNLISTED[$t]+set}" ] || continue
    if [ "$1" = names ]; then out+="\${out:+, }$t"; else out+="\${out:+; }$t: \${SB_UNLISTED[$t]}"; fi
  done
  printf '%s' "$out"
}

# unlisted_fix <what>: the fix of a refusal whose listing of <what> (dumps, file snapshots) failed on SB_UNLISTED, by cause.
unlisted_fix() {
  local fix="find out from restic's error why, fix that, and run \${0##*/} again once its $1 can be listed"
  # A missing config file, not one that could not be read: restic says "unable to open config file" for a refused
  # connection too.
  if printf '%s\\n' "\${SB_UNLISTED[@]}" | grep -q -E 'unable to open config file: [^;]*(does not exist|no such file or directory)'; then
    fix+="; a repository that does not exist was never created: see why backup-bootstrap did not create it (journalctl -u backup-bootstrap), then run it again (systemctl start backup-bootstrap)"
  fi
  printf '%s' "$fix"
}

# unlock_before_backup <target>: the dump and the push, under the repository lock, before restic locks the repository:
# a stale exclusive lock (a prune, a check or a key change killed mid-run: a reboot, the OOM killer) failed them, and
# paged, until the next check or prune removed it, though restic itself calls it stale. The locks are listed first
# (restic lists no lock in the usual case, and the job goes on at once), each read as restic_locks reads them (read_lock,
# SB_LOCKS_PY), but one by one: restic_locks sums them up in one verdict, and this needs each lock's host and pid.
# restic unlock runs only when a lock is this host's with its process gone (restic's hostname is the OS's, uname -n),
# and every other lock is this host's too, with its process running and refreshed in the last 25 minutes: restic unlock
# also removes any lock not refreshed for 30 minutes, whatever its host, and restic 0.14 only warns when a refresh
# fails and goes on, so a lock of another machine that looks stale may belong to a prune still deleting packs (a flaky
# link, a clock 30 minutes off, a stopped restic). That lock stays for the check and the prune, and the backup fails
# naming it, as before. A restic of this machine whose process still runs is kept (restic checks its PID). Never
# --remove-all. Each lock this unlock removed is logged by name (restic 0.14 prints only "successfully removed locks").
unlock_before_backup() {
  local t=$1 id ids kind host pid minutes me ours=0 keep=
  local -A held=() removable=()
  me=$(uname -n); me=\${me//[^A-Za-z0-9.-]/?}; me=\${me:0:64}
  # A repository that cannot be reached fails the backup the same way, after another connection timeout: the backup
  # fails at once naming this connection's cause (unreached, restic_on). One a first backup's listing found unreachable
  # already is not connected to again (restic_on). Any other failure (a lock restic cannot list) leaves the backup to
  # restic, as before.
  listing ids "$t" 'its locks' "cannot list the repository's locks: none removed before the backup" list locks || return 0
  for id in $ids; do
    [[ $id =~ ^[0-9a-f]{64}$ ]] || continue
    kind= host= pid= minutes=
    read -r kind host pid minutes < <(read_lock "$t" "$id" | "\${PY[@]}" -c "$SB_LOCKS_PY" "$(date +%s)" exclusive) || true
    case "\${kind:-none}" in
      none) held[$id]='a lock restic could not read' ;;
      *exclusive) held[$id]="the exclusive lock of restic pid $pid on $host, last refreshed $minutes minutes ago" ;;
      *) held[$id]="the lock of restic pid $pid on $host, last refreshed $minutes minutes ago" ;;
    esac
    # SB_LOCKS_PY prints the host as this compares it (characters past [A-Za-z0-9.-] as ?, 64 at most).
    if [ "\${kind:-none}" = none ]; then keep="\${keep:-$id}"
    elif [ "$host" = "$me" ] && [[ $pid =~ ^[0-9]+$ ]] && [ ! -d "/proc/$pid" ]; then removable[$id]=1; ours=1
    elif [ "$host" != "$me" ] || [ "$minutes" -ge 25 ]; then keep="\${keep:-$id}"
    fi
    [ "\${minutes:-0}" -lt 30 ] || removable[$id]=1
  done
  [ "\${#held[@]}" -gt 0 ] || return 0
  if [ -n "$keep" ]; then
    log "$t: restic unlock not run before the backup: \${held[$keep]} (\${keep:0:8}) is not this machine's or may still run, and restic unlock could remove it (not refreshed for 30 minutes, whatever its host); the check and the prune remove stale locks"
    return 0
  fi
  [ "$ours" = 1 ] || return 0
  # A timeout recorded the target unreachable (unreached's line says so, status 2): the backup there then fails at once.
  unlock_stale "$t" || { [ $? = 2 ] || log "$t: restic unlock failed: a stale lock, if any, stays, and restic names it if it refuses the backup"; return 0; }
  ids=$(restic_on "$t" --no-lock list locks 2>>"$SB_LOG") || return 0
  for id in "\${!held[@]}"; do
    grep -qxF -- "$id" <<<"$ids" && continue
    if [ -n "\${removable[$id]:-}" ]; then log "$t: restic unlock removed the stale lock \${id:0:8}: \${held[$id]}"
    else log "$t: the lock \${id:0:8} went while unlocking (its restic ended or refreshed it): \${held[$id]}"; fi
  done
}

# Reads the repository's locks (the JSON of each \`restic cat lock\`, one a line), the time now (argument 1) and whether
# exclusive locks count (argument 2, "exclusive"); prints "exclusive <host> <pid> <minutes>" for the most recently
# refreshed exclusive lock less than 30 minutes old (a check, a prune, a key change), when they count, else
# "stale-exclusive <host> <pid> <minutes>" for the most recent older exclusive one (restic refuses its shared lock on any
# exclusive lock, stale or not), when they count, else "live <host> <pid> <minutes>" for the most recently refreshed
# lock that is not exclusive (restic backup: a dump's streams, a push; a reader that takes a lock) and less than 30
# minutes old, else "stale <host> <pid> <minutes>" for the most recent older one, else "none". restic refreshes the lock of a running process every 5 minutes, and takes one older than 30
# for stale: its process died without removing it (SIGKILL, a crash).
SB_LOCKS_PY='
import json, re, sys
from datetime import datetime
now, exclusive, found = int(sys.argv[1]), sys.argv[2:] == ["exclusive"], {}
for line in sys.stdin:
    try:
        lock = json.loads(line)
        at = datetime.fromisoformat(re.sub(r"(\\.\\d{6})\\d*", r"\\1", lock["time"]).replace("Z", "+00:00")).timestamp()
    except (ValueError, KeyError, TypeError, AttributeError):
        continue
    if lock.get("exclusive") and not exclusive:
        continue
    minutes = max(0, int(now - at) // 60)
    kind = ("stale-exclusive" if lock.get("exclusive") else "stale") if minutes >= 30 else "exclusive" if lock.get("exclusive") else "live"
    seen = (minutes, "%s %s %s %d" % (kind, re.sub(r"[^A-Za-z0-9.-]", "?", str(lock.get("hostname")))[:64] or "?", re.sub(r"[^0-9]", "", str(lock.get("pid")))[:10] or "?", minutes))
    found[kind] = min(found.get(kind, seen), seen)
print((found.get("exclusive") or found.get("stale-exclusive") or found.get("live") or found.get("stale") or (0, "none"))[1])
'
# read_lock <target> <lock ID> [patient]: prints the lock's JSON on one line. restic 0.14 retries a read that failed
# for about 43 s, a lock that went between the list and its read too (its job ended, or its restic refreshed it under a
# new name): a quick read stops at restic's first retry (its stderr closes, and restic ends on its next line there),
# and the caller lists the locks again to tell a lock that went from one still there. A patient read lets restic retry.
read_lock() {
  local rc=0
  if [ -n "\${3:-}" ]; then
    restic_on "$1" --no-lock cat lock "$2" 2>>"$SB_LOG" | tr -d '\\n' || rc=$?
  else
    { restic_on "$1" --no-lock cat lock "$2" 2>&1 >&3 3>&- | sed -u '/returned error, retrying after/q' >>"$SB_LOG"; } 3>&1 | tr -d '\\n' || rc=$?
  fi
  printf '\\n'
  return "$rc"
}
# restic_locks <variable> <target> <file> [exclusive]: the restic locks on the target's repository now, judged by
# SB_LOCKS_PY (its line, set in <variable>), read into <file> (in the run's own directory); returns 1 when they cannot be
# read. The locks are listed as a backup lists them (listing): a connection that timed out records the target as
# unreachable, and the job's later calls there fail at once (hence the verdict set by name: in $(…) the record was
# lost). A lock that goes between the list and its read is left out: its job ended, or its restic refreshed it (restic
# 0.14 writes the refreshed lock under a new name, then removes the old one), so the locks are listed again and the new
# ones read. One still listed whose quick read failed is read again, patiently; one that still cannot be read (damaged,
# a read that failed) may be a writer's: unknown (return 1), rather than none; so are locks that still go faster than
# they are read.
restic_locks() {
  local locks_verdict=$1 locks_line id ids unread='' seen=' ' round
  shift
  : >"$2"
  for round in 1 2 3 4; do
    [ "$round" = 1 ] || [ -n "$unread" ] || break
    [ "$round" != 4 ] || return 1
    listing ids "$1" 'its locks' "cannot list the repository's locks" list locks || return 1
    for id in $unread; do
      if grep -qxF -- "$id" <<<"$ids"; then read_lock "$1" "$id" patient >>"$2" || return 1; fi
    done
    unread=''
    for id in $ids; do
      [[ $id =~ ^[0-9a-f]{64}$ && $seen != *" $id "* ]] || continue
      seen+="$id "
      read_lock "$1" "$id" >>"$2" || unread+=" $id"
    done
  done
  locks_line=$("\${PY[@]}" -c "$SB_LOCKS_PY" "$(date +%s)" "\${3:-}" <"$2") || return 1
  printf -v "$locks_verdict" '%s' "$locks_line"
}

# The databases of one dump reach each target as two restic snapshots, both timed at the dump
# (restic backup --time) and tagged dump-<UTC time>: the stream (every database's pg_dump -Fc, one
# after the other, tagged sovereign-dump-data) and, written only after the stream was complete,
# the manifest (a tar of <time>/: INDEX, the byte length of each database in the stream, in order;
# SHA256SUMS; the .tables digests; globals.sql; STREAM, the stream's snapshot ID on this target),
# tagged sovereign-dump. A backup exists when its manifest does.
DUMP_STREAM=/sovereign-dump/databases.dumps
DUMP_MANIFEST=/sovereign-dump/manifest.tar
# Each file snapshot (tag sovereign-files) has a record beside it, written by the push once the snapshot was listed back:
# a restic snapshot of one small file (tag sovereign-files-record, timed as the file snapshot, so that the prune finds
# the records of the snapshots its retention forgot), naming the snapshot and the files and bytes restic read into it,
# and the files that vanished while restic read the paths. The restore drill checks the newest file snapshot, restored,
# against it.
FILES_RECORD=/sovereign-files/record
SB_RUN=''
# The run directory is named as the log is (sovereign-backup-run.<its suffix>), so that clean_killed_runs finds it.
run_dir() {
  [ -z "$SB_RUN" ] || return 0
  SB_RUN="\${TMPDIR:-/tmp}/sovereign-backup-run.\${SB_LOG##*.}"
  mkdir -m 0700 "$SB_RUN" 2>/dev/null || SB_RUN=$(mktemp -d "\${TMPDIR:-/tmp}/sovereign-backup-run.XXXXXX")
  at_exit_run rm -rf -- "$SB_RUN"
}

# "20260101T030000Z" -> seconds since the epoch; returns 1 for anything else, such as 20261340T250000Z (date refuses
# some of those and reads others as another time: only a stamp that comes back as itself is a time).
stamp_epoch() {
  local e
  [[ $1 =~ ^([0-9]{4})([0-9]{2})([0-9]{2})T([0-9]{2})([0-9]{2})([0-9]{2})Z$ ]] || return 1
  e=$(date -u -d "\${BASH_REMATCH[1]}-\${BASH_REMATCH[2]}-\${BASH_REMATCH[3]} \${BASH_REMATCH[4]}:\${BASH_REMATCH[5]}:\${BASH_REMATCH[6]}" +%s 2>/dev/null) || return 1
  [ "$(date -u -d "@$e" +%Y%m%dT%H%M%SZ)" = "$1" ] || return 1
  printf '%s\n' "$e"
}
stamp_time() { date -u -d "@$(stamp_epoch "$1")" '+%Y-%m-%d %H:%M:%S'; }
# hours_since <seconds since the epoch>: the whole hours from then until now. A time more than 10
# minutes ahead of this clock comes out negative (-1 or less): a dump or snapshot taken while a clock
# ran ahead would otherwise look fresh for as long as it is ahead, so every caller fails on it.
# (10 minutes: clocks of synchronized machines differ by far less.)
SB_CLOCK_TOLERANCE=600
hours_since() {
  local now ahead
  # Not a time (an empty one came out as the hours since 1970): the caller's own check says which.
  [[ $1 =~ ^-?[0-9]+$ ]] || return 1
  now=$(date +%s)
  ahead=$(( $1 - now ))
  if [ "$ahead" -gt "$SB_CLOCK_TOLERANCE" ]; then printf '%s\n' "$(( -(ahead + 3599) / 3600 ))"
  elif [ "$ahead" -gt 0 ]; then printf '0\n'
  else printf '%s\n' "$(( -ahead / 3600 ))"; fi
}
# What a failure on a future-dated dump tells to do: the clock first, then the dump's traces everywhere.
future_fix() {
  printf '%s' "check this machine's clock (timedatectl; the jobs wait for time-sync.target), then forget the dump's snapshots on every target (restic forget --host $1 --tag dump-$2) and move its local copy, if any, out of the dump directory"
}
# globals_complete <globals.sql>: pg_dumpall wrote it to the end. pg_dumpall exits 0 when its writes
# fail (a full disk), so only its closing line proves the roles are all there.
globals_complete() { [ -s "$1" ] && grep -qxF -- '-- PostgreSQL database cluster dump complete' "$1"; }
# table_rows <.tables digest>: the rows its tables hold (the second field of each "table|rows|checksum" line).
table_rows() { awk -F'|' '{ s += $2 } END { printf "%d", s }' "$1"; }

# A machine that has backed up before records it in BACKUP_STATE (backup-dump: <what> dumped, backup-push:
# files-backed-up): a first backup that finds nothing to back up refuses while the targets hold the data of this host
# (an unrestored rebuild). backed_up_before <what>: whether it is recorded. record_backed_up <what> <what it did, for
# the log>: records it (a full state disk only costs the record).
backed_up_before() { [ -e "$BACKUP_STATE/$1-from-this-machine" ]; }
record_backed_up() { : >"$BACKUP_STATE/$1-from-this-machine" 2>>"$SB_LOG" || log "cannot record in $BACKUP_STATE/$1-from-this-machine that this machine $2"; }

# A backup-restore-files killed (SIGKILL, a power loss) while it puts a path's restored files in place leaves the path
# half what it held, half the snapshot's. So it writes a marker in BACKUP_STATE, on disk, before it starts, and removes
# it once the path is complete and on disk: while it is there, backup-push does not back the path up (its half state
# would become the newest snapshot, the one a restore takes) and backup-restore-files restores it again without --replace.
# It stays too when the restore fails (or is stopped) after it began to move files: the path is then as uncertain.
# placing_marker <path>: the marker's file (the path; the snapshot, for messages; its full ID and target, for the rerun).
# half_placed <path>: whether it is there.
placing_marker() { printf '%s/restore-placing.%s' "$BACKUP_STATE" "$(printf '%s' "$1" | sha256sum | cut -c 1-16)"; }
half_placed() { [ -e "$(placing_marker "$1")" ]; }
# placed_from <path>: the snapshot's full ID and the target the marker records ("<ID> <target>"), empty if it has none.
placed_from() { sed -n 3p "$(placing_marker "$1")" 2>/dev/null || true; }
# half_placed_why <path>: what the marker says, for a message. One that records no snapshot (empty, or cut short: this
# version writes a marker whole, then renames it, so one made by hand or a damaged file system) says that much, not a blank.
half_placed_why() {
  local marker what
  marker=$(placing_marker "$1")
  what=$(sed -n 2p "$marker" 2>/dev/null || true)
  if [ -n "$what" ]; then
    printf 'a backup-restore-files did not finish putting the files of %s in place in %s (stopped, power loss, or a failure after it began); it may hold part of what it held and part of that snapshot (%s records it)' \
      "$what" "$1" "$marker"
  else
    printf 'a backup-restore-files did not finish putting the files of a snapshot in place in %s (stopped, power loss, or a failure after it began); it may hold part of what it held and part of that snapshot, which %s does not record (it records none: this version never writes one so; made by hand, or a damaged file system)' \
      "$1" "$marker"
  fi
}
# restore_run <snapshot ID|-> <target|-> <path>...: the backup-restore-files command that restores the paths whole, from
# what this run knows, so that every message names the same one. With a snapshot or a target ("-": none, each path's
# newest on the first target): that restore. For one path with neither: the command this run already named for it
# (fix_of), else the one that finishes the restore its marker records (the same snapshot and target); a marker that
# records none has no restore to finish: a snapshot chosen by hand, over what the path holds. --replace when the run
# has it (kept as asked), or when a marked path is given another snapshot or target than its marker records (or may be:
# each path's newest). Never for files the run was not told to replace: for an unmarked path that holds files, the
# command comes without it, then what --replace would replace, so that pasting it never deletes them unsaid.
# fix_of: the command a die already named for a path, from what the run knows (the marker, on a file system that
# failed, may be lost or not what was written): later messages name that one, not a second read back from the marker.
# content_of: each path's files_with_content, filled in this shell (restore_run runs in a command substitution, whose
# walks are not kept, and reads it only): by count_content, which walks a path not counted yet, for the messages; by
# walk_content, which walks it again, for the check over what the paths hold (after the lock wait: an app may have
# written there since the first count), and the messages after it take that count.
# walk_failed: the paths whose last walk find did not finish cleanly (a file an app removed during it, a directory root
# may not read): their count is a floor, so the messages take it, and the check over what the paths hold refuses a path
# it counted nothing in without --replace, rather than take "nothing" from a walk that failed.
declare -A fix_of=() content_of=() walk_failed=()
walk_content() {
  local c
  unset 'walk_failed[$1]'
  c=$(files_with_content "$1") || walk_failed[$1]=1
  content_of[$1]=$c
}
count_content() {
  local p
  for p; do [ -n "\${content_of[$p]:-}" ] || walk_content "$p"; done
}
restore_run() {
  local snap=$1 target=$2 p from_p n size named='' needs=\${replace:-0} cost=''
  shift 2
  if [ "$snap $target" = '- -' ] && [ $# = 1 ]; then
    [ -z "\${fix_of[$1]:-}" ] || { printf '%s' "\${fix_of[$1]}"; return 0; }
    from_p=$(placed_from "$1")
    # Finishing its restore needs no --replace, whatever this run was asked.
    if [ -n "$from_p" ]; then snap=\${from_p%% *} target=\${from_p#* } needs=0
    elif half_placed "$1"; then
      printf 'backup-restore-files --path %s --snapshot <ID> [--from <target>] --replace, with the snapshot to restore and its target (restic snapshots --host %s --tag sovereign-files --path %s lists them)' "$1" "$BACKUP_HOST" "$1"
      return 0
    fi
  fi
  for p; do
    named="$named --path $p"
    from_p=$(placed_from "$p")
    if [ -n "$from_p" ]; then [ "$from_p" = "$snap $target" ] || needs=1
    # With --replace the run was told to replace what it holds: nothing to count.
    elif [ "\${replace:-0}" != 1 ]; then
      # Counted by the caller (count_content): a path not counted is said so, never taken for empty (a --replace
      # after it would replace its files unsaid).
      if [ -z "\${content_of[$p]:-}" ]; then cost="\${cost:+$cost; }$p may hold files, which this run did not count"; continue; fi
      read -r n size <<<"\${content_of[$p]}"
      # A walk that failed and counted nothing tells nothing (walk_failed): not taken for empty either.
      if [ "$n" = 0 ] && [ -n "\${walk_failed[$p]:-}" ]; then cost="\${cost:+$cost; }$p may hold files, which find failed to count"; continue; fi
      [ "$n" = 0 ] || cost="\${cost:+$cost; }$p holds $n files with content, $(bytes "$size")"
    fi
  done
  printf 'backup-restore-files%s' "$named"
  [ "$target" = - ] || printf ' --from %s' "$target"
  [ "$snap" = - ] || printf ' --snapshot %s' "$snap"
  if [ -n "$cost" ]; then
    [ $# != 1 ] || cost="it \${cost#"$1 "}"
    if [ "$needs" = 1 ]; then printf " (refused without --replace, as a marked path may be given another snapshot than its marker's; with it, it also replaces what is there: %s)" "$cost"
    else printf " (%s: add --replace to replace them with the snapshot's)" "$cost"; fi
  elif [ "$needs" = 1 ]; then printf ' --replace'; fi
}
# stray_markers: a note for each marker whose path is not one of FILE_PATHS (the plan dropped it): nothing restores or
# holds it back any more, so it is said rather than forgotten.
# A marker is told by its name, not by the path it records: an empty one records none.
stray_markers() {
  local m mp ours p
  ours=$(for p in \${FILE_PATHS:-}; do placing_marker "$p"; echo; done)
  for m in "$BACKUP_STATE"/restore-placing.*; do
    [ -e "$m" ] || continue
    ! grep -qxF -- "$m" <<<"$ours" || continue
    mp=$(sed -n 1p "$m" 2>/dev/null || true)
    if [ -n "$mp" ]; then
      note "$m records that a backup-restore-files did not finish putting the files of $(sed -n 2p "$m" 2>/dev/null || true) in place in $mp, which is no longer one of this machine's file paths (\${FILE_PATHS:-none}), so nothing restores it or holds it back. Fix: check what $mp holds (or restore it by hand), then remove $m"
    else
      note "$m is the empty marker of a backup-restore-files that did not finish putting files in place in a path that is not one of this machine's file paths (\${FILE_PATHS:-none}; an empty marker names no path), so nothing restores it or holds it back. Fix: check the paths the plan dropped (or restore them by hand), then remove $m"
    fi
  done
}

# Where a target's repository is, and with which password: a marker of a verified copy names it.
target_identity() {
  local t=$1 kind repo user host port pw
  tv_to kind "$t" KIND; tv_to repo "$t" REPO_PATH; password_file_to pw "$t"
  case $kind in
    sftp)
      tv_to user "$t" USER; tv_to host "$t" HOST; tv_to port "$t" PORT
      printf 'sftp %s@%s:%s/%s' "$user" "$host" "$port" "$repo" ;;
    *) printf '%s %s %s' "$kind" "$(sha256sum <"$SB_ETC/secrets/$t.s3.env" 2>/dev/null | cut -c1-16)" "$repo" ;;
  esac
  printf ' key %s\\n' "$(sha256sum <"$pw" 2>/dev/null | cut -c1-16)"
}

# Prints the snapshot ID from \`restic backup --json\` output; \`snapshot_id counts\` adds the files and bytes the backup
# read ("<id> <files> <bytes>": regular files, empty ones too; restic counts them as it reads them, not from the tree).
snapshot_id() {
  "\${PY[@]}" -c '
import json, sys
found = []
for line in sys.stdin.read().splitlines():
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if isinstance(m, dict) and m.get("message_type") == "summary":
        found.append([m.get("snapshot_id", "")] + ([str(m.get("total_files_processed", 0)), str(m.get("total_bytes_processed", 0))] if sys.argv[1:] == ["counts"] else []))
print(" ".join(found[-1]) if found else "")' "$@"
}

declare -A SB_STREAM_FD=() SB_STREAM_PID=() SB_STREAM_OF=() SB_MANIFEST_FD=() SB_MANIFEST_PID=()
# In a background process: closes the write ends of the streams opened so far. A restic that held
# another stream's write end open would keep that stream from ever ending.
close_streams() {
  local fd
  for fd in "\${SB_STREAM_FD[@]}" "\${SB_MANIFEST_FD[@]}"; do eval "exec $fd>&-"; done
}
# stdin_open <stream|manifest> <target> <stamp> <file name> <tag>: starts \`restic backup --stdin\` to a
# target in the background, recorded as SB_STREAM_PID/SB_MANIFEST_PID[target]; what is written to fd
# SB_STREAM_FD/SB_MANIFEST_FD[target] is the file. restic's output goes to $SB_RUN/<kind>.<target>.{json,err}.
stdin_open() {
  local kind=$1 t=$2 stamp=$3 name=$4 tag=$5 fifo fd
  local -n pids="SB_\${kind^^}_PID" fds="SB_\${kind^^}_FD"
  run_dir
  fifo="$SB_RUN/$kind.$t.fifo"
  mkfifo -m 0600 "$fifo"
  { close_streams; restic_on "$t" backup --json --stdin --stdin-filename "\${name#/}" --host "$BACKUP_HOST" \\
    --tag "$tag" --tag "dump-$stamp" --time "$(stamp_time "$stamp")"; } \\
    <"$fifo" >"$SB_RUN/$kind.$t.json" 2>"$SB_RUN/$kind.$t.err" &
  pids[$t]=$!
  # A job that fails before closing the file stops restic first: it must not record a cut-off one.
  bg_job "\${pids[$t]}"
  exec {fd}>"$fifo"
  fds[$t]=$fd
  rm -f "$fifo"
}

# stream_open <target> <stamp>: the databases stream to a target (stdin_open).
stream_open() { stdin_open stream "$1" "$2" "$DUMP_STREAM" sovereign-dump-data; }

# stream_close <target> <INDEX> <SHA256SUMS>: ends the stream and sets SB_STREAM_ID (and
# SB_STREAM_OF[target]) to its snapshot ID; returns 1 when restic failed (its messages are in
# $SB_RUN/stream.<target>.err). The read-back of the new snapshot (readback_start) starts at once:
# it needs nothing that comes later, so the manifest and the rest of the job run while it reads.
stream_close() {
  local t=$1 rc=0
  SB_STREAM_ID='' SB_STREAM_OF[$t]=''
  eval "exec \${SB_STREAM_FD[$t]}>&-"
  wait "\${SB_STREAM_PID[$t]}" || rc=$?
  [ "$rc" = 0 ] || return 1
  SB_STREAM_ID=$(snapshot_id <"$SB_RUN/stream.$t.json")
  SB_STREAM_OF[$t]=$SB_STREAM_ID
  [ -n "$SB_STREAM_ID" ] || return 1
  readback_start "$t" "$SB_STREAM_ID" "$2" "$3"
}

declare -A SB_READBACK_PID=() SB_CHECK_PID=()
# readback_start <target> <stream ID> <INDEX> <SHA256SUMS>: in the background, \`restic dump\` of the
# stream snapshot from the target with no cache, every database checked against its checksum as it
# arrives (SB_STREAM_CHECK_PY). The files INDEX and SHA256SUMS are read at once; readback_wait
# collects the outcome.
readback_start() {
  local t=$1 stream=$2 fifo
  fifo="$SB_RUN/readback.$t.fifo"
  rm -f "$fifo" && mkfifo -m 0600 "$fifo"
  # Both close the write ends of the manifests' streams: holding one open would keep a manifest from ending.
  { close_streams; exec "\${PY[@]}" -c "$SB_STREAM_CHECK_PY" "$3" "$4"; } <"$fifo" >"$SB_RUN/readback.$t.out" 2>"$SB_RUN/readback.$t.check" &
  SB_CHECK_PID[$t]=$!
  { close_streams; restic_on "$t" --no-cache --no-lock dump "$stream" "$DUMP_STREAM"; } >"$fifo" 2>"$SB_RUN/readback.$t.err" &
  SB_READBACK_PID[$t]=$!
  # A job that ends first stops the check; restic then stops at its next write.
  bg_job "\${SB_CHECK_PID[$t]}" "\${SB_READBACK_PID[$t]}"
}

# readback_wait <target>: waits for the read-back readback_start began, puts what restic and the check
# printed into the log (the current step's output) and sets SB_VERIFIED; returns 1 when either failed.
readback_wait() {
  local t=$1 rc=0
  SB_VERIFIED=''
  if [ -z "\${SB_CHECK_PID[$t]:-}" ]; then log "the read-back of the stream to $t never started"; return 1; fi
  wait "\${SB_READBACK_PID[$t]}" || { rc=1; printf 'restic dump of the stream from %s failed\\n' "$t" >>"$SB_LOG"; }
  wait "\${SB_CHECK_PID[$t]}" || rc=1
  cat "$SB_RUN/readback.$t.err" "$SB_RUN/readback.$t.check" >>"$SB_LOG" 2>/dev/null
  [ "$rc" = 0 ] || return 1
  SB_VERIFIED=$(cat "$SB_RUN/readback.$t.out")
  [ -n "$SB_VERIFIED" ]
}

# Copies stdin (one database's pg_dump -Fc) to the local copy (argument 1, fsynced; "-" for none), to
# every target's stream (arguments 3…, <target>=<fd>) and to stdout (the read-back by pg_restore);
# writes "<sha256> <bytes> <local copy: written, no-space or none>" to argument 2. A target whose
# restic stopped reading is left out (its failure is restic's). A local copy out of space, or that
# would leave less than SB_RESERVE bytes free on its disk (restic's packs wait in TMPDIR, on the same
# disk by default), is removed and the rest goes on: the remote copies must not stop because this disk
# is full. Any other write error fails.
SB_FANOUT_PY='
import errno, hashlib, os, sys
# The exit status when the checksum file does not fit on its disk (that of TMPDIR): backup-dump names the disk.
SUMMARY_NO_SPACE = 4
local_path, local, state = sys.argv[1], None, "none"
reserve = int(os.environ.get("SB_RESERVE") or 0)
outs = dict(a.split("=", 1) for a in sys.argv[3:])
outs = {n: int(fd) for n, fd in outs.items()}
def write_all(fd, chunk):
    view = memoryview(chunk)
    while view:
        view = view[os.write(fd, view):]
def local_lost(error):
    global local, state
    if error.errno not in (errno.ENOSPC, errno.EDQUOT):
        raise error
    if local is not None:
        try:
            os.close(local)
        except OSError:
            pass
        os.unlink(local_path)
    local, state = None, "no-space"
    sys.stderr.write("no space left for the local copy %s (%s): removed; the streams go on\\n" % (local_path, error.strerror))
if local_path != "-":
    try:
        local, state = os.open(local_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666), "written"
    except OSError as e:
        local_lost(e)
digest, total, out, inp = hashlib.sha256(), 0, sys.stdout.buffer, sys.stdin.buffer
while True:
    chunk = inp.read1(1 << 20)
    if not chunk:
        break
    digest.update(chunk)
    total += len(chunk)
    if local is not None:
        try:
            disk = os.fstatvfs(local)
            if reserve and disk.f_bfree * disk.f_frsize - len(chunk) < reserve:
                raise OSError(errno.ENOSPC, "%d MiB would no longer be left free on its disk" % (reserve >> 20))
            write_all(local, chunk)
        except OSError as e:
            local_lost(e)
    for name, fd in list(outs.items()):
        try:
            write_all(fd, chunk)
        except BrokenPipeError:
            del outs[name]
            sys.stderr.write("the stream to %s stopped reading\\n" % name)
    out.write(chunk)
if local is not None:
    try:
        os.fsync(local)
        os.close(local)
    except OSError as e:
        local_lost(e)
out.flush()
# Closed here, not at exit: a full disk fails the close, which Python ignores at exit (the file left empty).
try:
    with open(sys.argv[2], "w") as summary:
        summary.write("%s %d %s\\n" % (digest.hexdigest(), total, state))
except OSError as e:
    if e.errno not in (errno.ENOSPC, errno.EDQUOT):
        raise
    sys.stderr.write("cannot write the checksum to %s: %s\\n" % (sys.argv[2], e.strerror))
    sys.exit(SUMMARY_NO_SPACE)
'

# Reads a databases stream on stdin and checks every database in it against SHA256SUMS, by the
# byte lengths of INDEX (arguments 1 and 2); the stream must end where the last database does.
# With more arguments (<database>=<scratch database>, in INDEX order), pipes each database into
# pg_restore of its scratch database as it arrives (as $PG_OS_USER when set); with
# SB_RESTORE_CREATE=<maintenance database> in the environment, pg_restore --create makes the
# database itself, under its own name (backup-restore). With SB_RESTORE_RESERVE=<bytes> and
# SB_RESTORE_DATA_DIR=<PostgreSQL's data directory> (the drill, backup-restore), the restore stops (exit 3) before the disk of that
# directory or of its pg_wal has less than that left: a PostgreSQL whose write-ahead log finds its disk full stops,
# and does not start again until someone frees space, so a drill that did not fit took the test machine's database down.
SB_STREAM_CHECK_PY='
import hashlib, os, subprocess, sys
reserve, data_dir = int(os.environ.get("SB_RESTORE_RESERVE") or 0), os.environ.get("SB_RESTORE_DATA_DIR") or ""
def short_of_room():
    for d in ([data_dir, os.path.join(data_dir, "pg_wal")] if reserve and data_dir else []):
        try:
            disk = os.statvfs(d)
        except OSError:
            # Not on this machine (a server elsewhere): its disk cannot be watched from here.
            continue
        if disk.f_bavail * disk.f_frsize < reserve:
            return d, disk.f_bavail * disk.f_frsize
    return None
index = [line.split() for line in open(sys.argv[1]) if line.strip()]
sums = dict(reversed(line.rstrip("\\n").split("  ", 1)) for line in open(sys.argv[2]) if line.strip())
into = dict(a.split("=", 1) for a in sys.argv[3:])
inp = sys.stdin.buffer
prefix = ["runuser", "-u", os.environ["PG_OS_USER"], "--"] if os.environ.get("PG_OS_USER") else []
total = 0
for db, length in index:
    left, digest, proc = int(length), hashlib.sha256(), None
    if db in into:
        # SB_RESTORE_CREATE (backup-restore): the database is created by pg_restore from the dump, with
        # its owner, settings and privileges, through that maintenance database; else into a scratch one.
        create = os.environ.get("SB_RESTORE_CREATE")
        args = ["--create", "-d", create] if create else ["--no-owner", "--no-privileges", "-d", into[db]]
        proc = subprocess.Popen(prefix + ["pg_restore", "--exit-on-error"] + args,
                                stdin=subprocess.PIPE, stdout=sys.stderr, stderr=sys.stderr)
    while left:
        chunk = inp.read(min(left, 1 << 20))
        if not chunk:
            # Exit 4: the stream was cut short, a failure of restic to read (restore_snapshot), not a verdict on the dump.
            sys.stderr.write("the stream ended %d bytes into %s.dump, which has %s\\n" % (int(length) - left, db, length))
            sys.exit(4)
        digest.update(chunk)
        left -= len(chunk)
        if proc:
            low = short_of_room()
            if low:
                proc.terminate()
                proc.wait()
                sys.stderr.write("stopped restoring %s after %d of its %s bytes: the disk of %s has %d MiB left, and the restore leaves %d MiB free there for PostgreSQL (a server whose disk fills stops, and starts again only once space is freed by hand)\\n"
                                 % (db, int(length) - left - len(chunk), length, low[0], low[1] >> 20, reserve >> 20))
                sys.exit(3)
            try:
                proc.stdin.write(chunk)
            except BrokenPipeError:
                break
    if proc:
        try:
            proc.stdin.close()
        except BrokenPipeError:
            pass
        if proc.wait() != 0:
            sys.exit("pg_restore of %s failed (exit %d)" % (db, proc.returncode))
    if left:
        sys.exit("pg_restore of %s stopped reading" % db)
    if digest.hexdigest() != sums.get(db + ".dump"):
        sys.exit("%s.dump differs from its checksum in SHA256SUMS" % db)
    total += int(length)
if inp.read(1):
    sys.exit("the stream holds more than the databases of its INDEX")
print("%d databases, %d bytes, every checksum matches" % (len(index), total))
'

# manifest_open <target> <stamp>: starts the manifest's restic right away (stdin_open), so that it
# opens the repository while the databases are dumped; manifest_close writes it.
manifest_open() { stdin_open manifest "$1" "$2" "$DUMP_MANIFEST" sovereign-dump; }

# manifest_close <target> <stamp> <dump directory> <stream ID>: writes the manifest (a tar of
# <stamp>/ with INDEX, SHA256SUMS, the digests, globals.sql and STREAM) and sets SB_MANIFEST_ID;
# returns 1 when restic failed (its messages go to the log).
manifest_close() {
  local t=$1 stamp=$2 dir=$3 stream=$4 stage rc=0
  SB_MANIFEST_ID=''
  stage="$SB_RUN/manifest.$t"
  rm -rf "$stage" && mkdir -p "$stage/$stamp"
  (cd "$dir" && cp -- INDEX SHA256SUMS globals.sql ./*.tables "$stage/$stamp/") || rc=1
  printf '%s\n' "$stream" >"$stage/$stamp/STREAM" || rc=1
  [ "$rc" = 0 ] && tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$(stamp_epoch "$stamp")" -C "$stage" -cf "$stage.tar" "$stamp" || rc=1
  # An empty or partial manifest must not be recorded: restic stops before its input ends.
  if [ "$rc" = 0 ]; then cat "$stage.tar" >&"\${SB_MANIFEST_FD[$t]}" || rc=1; else kill_tree "\${SB_MANIFEST_PID[$t]}"; fi
  eval "exec \${SB_MANIFEST_FD[$t]}>&-"
  wait "\${SB_MANIFEST_PID[$t]}" || rc=1
  cat "$SB_RUN/manifest.$t.err" >>"$SB_LOG"
  [ "$rc" = 0 ] || return 1
  SB_MANIFEST_ID=$(snapshot_id <"$SB_RUN/manifest.$t.json")
  [ -n "$SB_MANIFEST_ID" ]
}

# read_back <target> <manifest ID>: reads the manifest snapshot back from the target with no cache
# while the stream's read-back (started by stream_close) goes on, then waits for that; every byte of
# both must match what was written (the stream by the dump's checksums). Sets SB_VERIFIED.
read_back() {
  local t=$1 manifest=$2 rc=0 want got
  restic_on "$t" --no-cache --no-lock dump "$manifest" "$DUMP_MANIFEST" 2>"$SB_RUN/readback-manifest.$t.err" >"$SB_RUN/readback.$t.tar" \\
    || { rc=1; log "restic dump of the manifest $manifest failed"; }
  cat "$SB_RUN/readback-manifest.$t.err" >>"$SB_LOG"
  readback_wait "$t" || rc=1
  [ "$rc" = 0 ] || return 1
  want=$(sha256sum <"$SB_RUN/manifest.$t.tar" | cut -d' ' -f1)
  got=$(sha256sum <"$SB_RUN/readback.$t.tar" | cut -d' ' -f1)
  [ "$want" = "$got" ] || { log "the manifest read back from $t differs from the one written"; return 1; }
}

failures=''
# target_failed <target> <what failed>: records a target's failure with what the step's commands
# printed last; the job goes on with the next target and fails at its end.
target_failed() {
  local cause
  cause=$(step_cause)
  log "$1: $2 failed: $cause"
  failures="\${failures:+$failures; }$1: $2 failed ($cause)"
}

# dump_on_target <target> <stamp> <dump directory>: after stream_close of a dump's stream to a
# target (SB_STREAM_OF[target]), writes its manifest, reads both snapshots back with no cache and,
# when every byte matches, writes the marker .pushed.<target> naming the repository and the
# snapshots. One definition for backup-dump and backup-push. Returns 1 after target_failed.
dump_on_target() {
  local t=$1 stamp=$2 dir=$3 snap=\${SB_STREAM_OF[$1]:-} manifest
  cat "$SB_RUN/stream.$t.err" >>"$SB_LOG"
  if [ -z "$snap" ]; then
    kill_tree "\${SB_MANIFEST_PID[$t]}"
    target_failed "$t" "restic backup of dump $stamp"; return 1
  fi
  step "writing the manifest of dump $stamp to $t"
  manifest_close "$t" "$stamp" "$dir" "$snap" || { target_failed "$t" "writing the manifest of dump $stamp"; return 1; }
  manifest=$SB_MANIFEST_ID
  step "reading snapshot \${snap:0:8} back from $t without a cache"
  read_back "$t" "$manifest" || { target_failed "$t" "reading snapshot \${snap:0:8} back (restic dump --no-cache)"; return 1; }
  printf '%s\\n%s %s\\n' "$(target_identity "$t")" "$snap" "$manifest" >"$dir/.pushed.$t"
  log "dump $stamp is snapshot \${snap:0:8} (manifest \${manifest:0:8}) on $t; read back from $t: $SB_VERIFIED"
}

# newest_snapshot [<tag>]: reads \`restic snapshots --json\`; prints "<id> <age in hours> <path>..." of the newest snapshot
# (of those tagged <tag>, when given), or nothing. The age is negative when the snapshot is dated more than 10 minutes in
# the future (see hours_since).
newest_snapshot() {
  "\${PY[@]}" -c '
import json, math, re, sys, time
from datetime import datetime
snaps = [s for s in json.load(sys.stdin) or [] if (not sys.argv[1:] or sys.argv[1] in (s.get("tags") or []))
         and (not sys.argv[2:] or s["id"].startswith(sys.argv[2]))]
def epoch(t):
    return datetime.fromisoformat(re.sub(r"(\\.\\d{6})\\d*", r"\\1", t)).timestamp()
if snaps:
    s = max(snaps, key=lambda s: epoch(s["time"]))
    age = time.time() - epoch(s["time"])
    # As hours_since: more than 10 minutes in the future is a negative age, which the callers fail on.
    hours = int(age // 3600) if age >= 0 else (0 if -age <= 600 else -math.ceil(-age / 3600))
    print(s["id"], hours, *s["paths"])
' "$@"
}

# The restore drill's scratch databases are <DRILL_DB_PREFIX><run>_<database, or its number when the name would pass 63
# bytes>, a run being <UTC time>_<random> (drill_run_id): no other run, earlier or killed, has these names.
# drill_scratch_re <prefix>: the pattern of every run's names (backup-dump leaves them out, the drill drops earlier runs').
drill_run_id() { printf '%(%Y%m%dt%H%M%S)T_%06x' -1 "$((SRANDOM & 0xffffff))"; }
drill_scratch_re() { printf '^%s[0-9]{8}t[0-9]{6}_[0-9a-f]{6}_' "$1"; }

# The database names a dump carries, and the only ones a restore accepts from a manifest: they
# become parts of file paths (<name>.dump, <name>.tables) and psql variables. A PostgreSQL
# identifier of at most 63 bytes made of letters, digits, "_", "." and "-", starting with a letter,
# a digit or "_": no "/", no "." or "..", nothing read as an option. A manifest read from a remote
# is checked against it before any of its names is used (a tampered remote could name "../x").
DB_NAME_RE='^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$'
valid_db_name() { [[ $1 =~ $DB_NAME_RE ]]; }

# unpack_manifest <manifest tar> <directory> <what it is, for messages>: unpacks a manifest fetched from a remote into
# <directory> (which must not exist) and sets stamp (its dump's time), epoch (that time in seconds), dir (its files)
# and id (its stream snapshot); dies on anything that is not a manifest of one dump, naming <what it is>.
unpack_manifest() {
  local what=$3
  mkdir "$2"
  tar --no-same-owner --no-same-permissions -xf "$1" -C "$2" 2>>"$SB_LOG" || die "the manifest of $what is not a readable tar"
  stamp=$(ls "$2")
  [[ $stamp =~ ^[0-9]{8}T[0-9]{6}Z$ ]] || die "the manifest of $what does not name the time of its dump (it holds: \${stamp:0:200})"
  dir="$2/$stamp"
  id=$(cat "$dir/STREAM" 2>/dev/null) || true
  [[ $id =~ ^[0-9a-f]{8,64}$ ]] || die "the manifest of $what (dump $stamp) names no stream snapshot"
  # A time that is no time gave an age counted from 1970 ("taken 494000 hours ago"), or none.
  epoch=$(stamp_epoch "$stamp") || die "the manifest of $what (stream snapshot \${id:0:8}) names its dump's time as '$stamp', which is not a time: backup-dump names each dump by the UTC time it took it (YYYYMMDDTHHMMSSZ), so it did not write this one, or it was damaged; the remote repository may have been tampered with. Fix: restore from another target or an older backup (restic snapshots --tag sovereign-dump lists them), forget this one (restic forget with its ID), and check who can write to this repository"
}

# check_manifest <directory of one dump's manifest>: the INDEX of a manifest fetched from a remote
# names valid databases with byte lengths, once each, and the manifest holds nothing but regular
# files; dies otherwise, before any of its names is used.
check_manifest() {
  local dir=$1 db length extra seen=' '
  if [ -n "$(find "$dir" -mindepth 1 ! -type f -print -quit)" ]; then
    die "the manifest holds something other than regular files ($(find "$dir" -mindepth 1 ! -type f -printf '%P ' | head -c 200)); it was not written by backup-dump: the remote repository may have been tampered with"
  fi
  [ -s "$dir/INDEX" ] || die "the backup holds no database dump"
  while read -r db length extra; do
    valid_db_name "$db" || die "the manifest's INDEX names a database '\${db:0:80}', which is not a database name a dump carries (letters, digits, _ . -, starting with a letter, digit or _, at most 63 bytes); the remote repository may have been tampered with: restore from another target or an older backup, and check who can write to this one"
    [[ $length =~ ^[0-9]{1,15}$ ]] && [ -z "$extra" ] || die "the manifest's INDEX line of $db is not '<database> <bytes>'; the remote repository may have been tampered with"
    [[ $seen != *" $db "* ]] || die "the manifest's INDEX names database $db twice; the remote repository may have been tampered with"
    seen="$seen$db "
  done <"$dir/INDEX"
}

# The file backups (FILE_PATHS, tag sovereign-files), from restic's JSON on stdin. A file system's own lost+found, and
# the directories a restore works in (.sovereign-restore.*), are left out everywhere.
#   choose <snapshot ID or ''> <path>...: of \`restic snapshots --json\` (the file snapshots and their records), for each
#     path the newest file snapshot that holds it (or the named one): "<path> <ID> <epoch> <UTC time> <skipped ID>",
#     with "-" for each field when none does. A snapshot with no record (none of its host and time), timed to the second
#     as pushes with records time theirs, is passed over for an older one with a record: the push that made it failed,
#     such as one restic saved without the files it could not read (exit 3); the newest passed over is the last field
#     ("-" for none). Snapshots of tooling before the records, or made by hand, are timed to a fraction of a second.
#     \`choose --failed <now> <hours>\` and \`choose --orphans\` are the prune's (see there);
#   unread: of the stderr of restic backup --json after its exit 3, whether only files that vanished were not read;
#   count <path>: of \`restic ls --json\`, the files with content under the path: "<files> <bytes>";
#   compare <path> <directory>: of \`restic ls --json\`, the tree under the path against the directory's, every entry's
#     type and every file's size: "<files> files, <directories> directories, <bytes> bytes", or exits naming differences.
SB_FILES_PY='
import json, os, re, stat, sys
from datetime import datetime, timezone
mode, args = sys.argv[1], sys.argv[2:]
def left_out(rel):
    return any(c == "lost+found" or c.startswith(".sovereign-restore.") for c in rel.split("/"))
if mode == "unread":
    # Of the stderr of restic backup --json after its exit 3: the items it could not read, once each. An item that
    # vanished between the listing of its directory and its read (ENOENT: an upload renamed, a cache or journal file
    # removed) is a change of the paths, not a file lost: prints them ("<n> <names>") and exits 0 when every error is
    # one; otherwise prints the other errors (the lines of restic) and exits 1.
    vanished, other = {}, {}
    for line in sys.stdin:
        try:
            m = json.loads(line)
        except ValueError:
            continue
        if not isinstance(m, dict) or m.get("message_type") != "error":
            continue
        e, item = m.get("error"), m.get("item") or ""
        # A directory gone between its lstat and its open comes with no errno ("error":{}): gone now, it vanished.
        gone = isinstance(e, dict) and (e.get("Err") == 2 or ("Err" not in e and item and not os.path.lexists(item)))
        (vanished if gone else other)[item] = line.strip()
    if other or not vanished:
        print(" ".join(list(other.values())[:5]) or "no error named")
        sys.exit(1)
    names = [json.dumps(i)[1:-1] for i in sorted(vanished)]
    print(len(names), " ".join(names[:20]) + (" and %d more" % (len(names) - 20) if len(names) > 20 else ""))
    sys.exit(0)
if mode == "choose":
    want, snaps = args[0], json.load(sys.stdin) or []
    epoch = lambda s: datetime.fromisoformat(re.sub(r"(\\.\\d{6})\\d*", r"\\1", s["time"])).timestamp()
    tagged = lambda s, t: t in (s.get("tags") or [])
    second = lambda s: (s.get("hostname"), int(epoch(s)))
    records = {second(s) for s in snaps if tagged(s, "sovereign-files-record")}
    files = [s for s in snaps if tagged(s, "sovereign-files")]
    # Pushes with records time their snapshots to the second (--time); tooling before the records, and restic backup
    # run by hand, did not: such a snapshot is complete as far as anyone knows, whatever the records say.
    whole = lambda s: "." not in s["time"]
    complete = lambda s: second(s) in records or not whole(s)
    if want == "--failed":
        # Surely a failed push: no record, timed by a push with records, older than a push runs, and a newer snapshot
        # with a record holds its paths. Line 1: those; line 2: the others with no record (a push still running, on
        # this machine or on a replacement with its backup host name; one whose record write failed; the newest).
        # Line 3: of line 2, those older than a push runs plus the backup age limit (args[3], hours): none superseded
        # them since (paths renamed or reduced, file backups stopped), so the retention would wait for ever.
        now, hours = float(args[1]), float(args[2])
        superseded = lambda s: any(second(n) in records and epoch(n) > epoch(s) and set(s.get("paths") or []) <= set(n.get("paths") or []) for n in files)
        failed = [s for s in files if not complete(s) and now - epoch(s) >= hours * 3600 and superseded(s)]
        waiting = [s for s in files if not complete(s) and s not in failed]
        print(" ".join(s["id"] for s in failed))
        print(" ".join(s["id"] for s in waiting))
        print(" ".join(s["id"] for s in waiting if len(args) > 3 and now - epoch(s) >= (hours + float(args[3])) * 3600))
        sys.exit(0)
    if want == "--orphans":
        # Records whose file snapshot (same host and second) is gone: forgotten after the retention of the snapshots.
        held = {second(s) for s in files}
        print(" ".join(s["id"] for s in snaps if tagged(s, "sovereign-files-record") and second(s) not in held))
        sys.exit(0)
    for p in args[1:]:
        every = [s for s in snaps if tagged(s, "sovereign-files") and p in (s.get("paths") or []) and s["id"].startswith(want)]
        held = [s for s in every if complete(s)] or every
        s = max(held, key=epoch) if held else None
        skipped = max((n for n in every if s and epoch(n) > epoch(s)), key=epoch, default=None)
        print(p, *((s["id"], int(epoch(s)), datetime.fromtimestamp(epoch(s), timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")) if s else ("-", "-", "-")),
              skipped["id"] if skipped else "-")
    sys.exit(0)
top, nodes = args[0], {}
for line in sys.stdin:
    try:
        n = json.loads(line)
    except ValueError:
        continue
    p = n.get("path", "") if isinstance(n, dict) and n.get("struct_type") == "node" else ""
    if (p == top or p.startswith(top + "/")) and not left_out(p[len(top):]):
        nodes[p[len(top):]] = (n.get("type"), n.get("size", 0) if n.get("type") == "file" else 0)
if mode == "count":
    files = [size for kind, size in nodes.values() if kind == "file" and size > 0]
    print(len(files), sum(files))
    sys.exit(0)
kinds = ((stat.S_ISREG, "file"), (stat.S_ISDIR, "dir"), (stat.S_ISLNK, "symlink"), (stat.S_ISBLK, "dev"),
         (stat.S_ISCHR, "chardev"), (stat.S_ISFIFO, "fifo"), (stat.S_ISSOCK, "socket"))
here = {}
def walk(directory, rel):
    st = os.lstat(directory)
    here[rel] = next((k for test, k in kinds if test(st.st_mode)), "?"), st.st_size if stat.S_ISREG(st.st_mode) else 0
    if stat.S_ISDIR(st.st_mode):
        for name in os.listdir(directory):
            if not left_out(name):
                walk(os.path.join(directory, name), rel + "/" + name)
walk(args[1], "")
wrong = ["%s: %s in the snapshot, %s here" % (top + rel, "%s of %d bytes" % nodes[rel] if rel in nodes else "missing",
         "%s of %d bytes" % here[rel] if rel in here else "missing")
         for rel in sorted(set(nodes) | set(here)) if nodes.get(rel) != here.get(rel)]
if wrong:
    sys.exit("%d entries differ: %s" % (len(wrong), "; ".join(wrong[:5])))
print("%d files, %d directories, %d bytes" % (sum(k == "file" for k, _ in nodes.values()), sum(k == "dir" for k, _ in nodes.values()), sum(s for _, s in nodes.values())))
'
# files_with_content <path>: "<files> <bytes>" of the regular files of at least one byte under the path on this machine
# (as SB_FILES_PY counts them in a snapshot); "0 0" when the path does not exist.
files_with_content() {
  [ -e "$1" ] || { printf '0 0\\n'; return 0; }
  find "$1" \\( -name lost+found -o -name '.sovereign-restore.*' \\) -prune -o -type f -size +0c -printf '%s\\n' | awk '{ n++; s += $1 } END { printf "%d %d\\n", n, s }'
}
# bytes <number>: a size as people read it (12KiB, 3.4MiB).
bytes() { numfmt --to=iec-i --suffix=B "$1"; }

# Runs a PostgreSQL client as the database's OS user (peer authentication on Debian).
pg() { if [ -n "\${PG_OS_USER:-}" ]; then runuser -u "$PG_OS_USER" -- "$@" {SB_STDERR}>&- {SB_LOG_FD}<&-; else "$@" {SB_STDERR}>&- {SB_LOG_FD}<&-; fi; }

# Streams the dumps of snapshot $2 on target $1 through the checking restorer (SB_STREAM_CHECK_PY, with
# the manifest's INDEX and SHA256SUMS in $dir) into the databases named from $4 on; $3, when not empty,
# is the maintenance database through which pg_restore --create makes each database itself; SB_RESTORE_RESERVE and
# SB_RESTORE_DATA_DIR, when set, keep room on PostgreSQL's disk (see SB_STREAM_CHECK_PY). Dies with restic's or the
# restorer's cause, except when restic failed to read while the restorer saw only the stream end early or nothing
# wrong: then it returns 2, the cause in SB_READ_FAILURE (the drill reads once more). The restorer's own verdicts (a
# checksum that differs, pg_restore failing, both of which also cut restic off) are never taken for a failed read.
restore_snapshot() {
  local t=$1 id=$2 create=$3 cause st
  shift 3
  restic_on "$t" "\${restic_read[@]}" dump "$id" "$DUMP_STREAM" 2>>"$SB_LOG" \\
    | SB_RESTORE_CREATE=$create PG_OS_USER=\${PG_OS_USER:-} SB_RESTORE_RESERVE=\${SB_RESTORE_RESERVE:-0} SB_RESTORE_DATA_DIR=\${SB_RESTORE_DATA_DIR:-} \\
      "\${PY[@]}" -c "$SB_STREAM_CHECK_PY" "$dir/INDEX" "$dir/SHA256SUMS" "$@" >>"$SB_LOG" 2>&1 \\
    && st=(0 0) || st=("\${PIPESTATUS[@]}")
  if [ "\${st[1]}" != 0 ]; then
    cause=$(step_cause 3)
    # The restorer stopped on its own (PostgreSQL's disk): restic, cut off, is not the cause.
    if [ "\${st[1]}" = 3 ]; then cause=$(step_cause 1); die "restoring snapshot \${id:0:8}: \${cause% }\${SB_RESTORE_FIX:+. $SB_RESTORE_FIX}"; fi
    [ "\${st[1]}" = 4 ] && [ "\${st[0]}" != 0 ] || die "restoring snapshot \${id:0:8}: $cause"
    SB_READ_FAILURE="restic dump of snapshot \${id:0:8} from $t failed ($cause)"
    return 2
  fi
  [ "\${st[0]}" = 0 ] || { SB_READ_FAILURE="restic dump of snapshot \${id:0:8} from $t failed"; return 2; }
}
`;

/** Row count and order-independent checksum of every table (psql script). */
export const TABLE_DIGEST_SQL = `-- Row count and an order-independent checksum of every table, in a fixed text format.
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';
SET extra_float_digits = 3;
SET bytea_output = 'hex';
SELECT format('SELECT %L, count(*), coalesce(sum(hashtextextended(t::text, 0)::numeric), 0) FROM %I.%I t',
              n.nspname || '.' || c.relname, n.nspname, c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
ORDER BY n.nspname, c.relname
\\gexec
`;

/** SSH_ASKPASS helper that prints a Storage Box password. */
export const ASKPASS = `#!/bin/sh
# SSH_ASKPASS helper: prints the Storage Box password named by SB_ASKPASS_FILE (base64).
exec base64 -d "$SB_ASKPASS_FILE"
`;

/** First boot: SSH key, key install on the Storage Box, repository init. */
export const BACKUP_BOOTSTRAP = `#!/bin/bash
# backup-bootstrap (first boot): creates this machine's SSH key, installs it on each Storage Box
# sub-account (once, with the password over port 23) and initializes each repository.
# Failures alert through the push job's heartbeat; success is not a backup, so it pings nothing.
SB_JOB=bootstrap SB_SLUG=push SB_NO_SUCCESS_PING=1 SB_LOCK_FIRST=1
. "$(dirname "$(readlink -f "$0")")/../lib/sovereign-backup/common.sh"
load_conf backup.conf
repo_lock

# sftp_login <target>: a login with this machine's key that does nothing; ssh's messages (stderr) as restic_on relays them.
sftp_login() {
  local host
  local -a options
  ssh_options_to options "$1" || return 1
  tv_to host "$1" HOST
  sftp -b /dev/null "\${options[@]}" "$host" 2>&1 >/dev/null | ssh_lines >&2
}

run_dir
for t in $TARGETS; do
  tv_to kind "$t" KIND; tv_to auth "$t" AUTH
  if [ "$kind" = sftp ] && [ "$auth" = key ]; then
    ssh_options_to options "$t" || die "the ssh options of $t cannot be written (above)"
    tv_to host "$t" HOST; tv_to port "$t" PORT
    ensure_key
    login=0
    judged "$t" 'logging in with the key (sftp)' "$SB_RUN/login.$t.err" sftp_login "$t" || login=$?
    if [ "$login" != 0 ]; then
      # A login whose connection timed out fails the bootstrap at once: installing the key connects to the same port and
      # would wait out another timeout.
      [ "$login" != 2 ] || die "$t cannot be reached (\${SB_UNREACHABLE[$t]}), so this machine's key was not installed there nor its repository opened. Fix: see why $host port $port does not answer from this machine, then run backup-bootstrap again"
      [ -r "$SB_ETC/secrets/$t.password.b64" ] || die "the key does not work on $t and there is no password to install it"
      log "installing this machine's key on $t"
      # A password login's options (no batch mode: ssh asks the askpass).
      ssh_options_to password_options "$t" password || die "the ssh options of $t cannot be written (above)"
      SSH_ASKPASS="$SB_LIB/askpass" SSH_ASKPASS_REQUIRE=force SB_ASKPASS_FILE="$SB_ETC/secrets/$t.password.b64" \\
        ssh "\${password_options[@]}" "$host" install-ssh-key <"$SB_ETC/ssh/id_ed25519.pub" >>"$SB_LOG" 2>&1 || die "install-ssh-key on $t failed"
      sftp -b /dev/null "\${options[@]}" "$host" >>"$SB_LOG" 2>&1 || die "the key still does not work on $t"
    fi
  fi
  # This machine's record that the repository at this place, with this password, opened once (target_identity).
  seen="$BACKUP_STATE/repository-opened.$t"
  opened=0
  judged "$t" 'opening the repository' "$SB_RUN/config.$t.err" restic_on "$t" cat config >/dev/null || opened=$?
  if [ "$opened" = 0 ]; then
    log "$t: repository exists and opens"
  else
    # The bootstrap runs before every dump: a repository that opened before and is gone now (deleted through
    # this machine's account, a wrong home directory) must alert, not be replaced by an empty one that every
    # later check and drill would find fresh, with the history lost unnoticed.
    # A connection that timed out: restic init would wait out another one, then fail naming a wrong password. First,
    # so that a repository that opened before is not said to be lost when it is only out of reach.
    [ "$opened" != 2 ] || die "the repository on $t cannot be reached (\${SB_UNREACHABLE[$t]}), so it was not initialized. Fix: see why $t does not answer from this machine, then run backup-bootstrap again"
    if [ "$(cat "$seen" 2>/dev/null)" = "$(target_identity "$t")" ]; then
      die "the repository on $t opened from this machine before and does not open now ($(step_cause 2)); not initializing an empty one in its place. Fix: find out what became of it (restic snapshots from another machine, the Storage Box's snapshots); if it is lost for good, delete $seen and run backup-bootstrap to start a new repository"
    fi
    # init refuses to overwrite an existing repository, so a wrong password fails here instead.
    run restic_on "$t" init || die "cannot initialize the repository on $t (if it exists, the password is wrong)"
    log "$t: repository initialized"
  fi
  target_identity "$t" >"$seen.new" && mv "$seen.new" "$seen"
done
ok "bootstrapped $TARGETS"
`;

/** The dump job. */
export const BACKUP_DUMP = `#!/bin/bash
# backup-dump: dumps every PostgreSQL database and streams it, as pg_dump writes it, to the local
# copy and to every remote target at once (pg_dump -Fc | tee | restic backup --stdin), with row
# counts and checksums taken in the same snapshot and a read-back by pg_restore in the same pass;
# then writes each target's manifest and reads both snapshots back from the target with no cache.
# The local copy is kept when a target fails (backup-push sends it later); LOCAL_COPIES stay. When the
# disk of DUMP_DIR is full, the local copy is given up (nothing of it stays) and the dump still goes
# to every target and is read back; the job fails all the same, naming the disk.
SB_JOB=dump SB_LOCK_FIRST=1
. "$(dirname "$(readlink -f "$0")")/../lib/sovereign-backup/common.sh"
# --start-empty: this machine starts with empty databases on purpose (see "checking that this machine's databases are
# not an unrestored rebuild" below); given once, by hand.
start_empty_argument "$@"
load_conf backup.conf
repo_lock
heartbeat_start
require_free_tmp

step "checking that the clock is synchronized"
# A dump's time names it, times its snapshots and is the age every check judges: a dump taken while
# the clock runs ahead looks fresh for as long as it is ahead. The unit waits for time-sync.target;
# this catches a clock that lost its synchronization, or a machine without a time service.
if ! command -v timedatectl >/dev/null 2>&1; then
  log "timedatectl is not installed: cannot tell whether the clock is synchronized; dumping anyway"
elif synced=$(timeout 20 timedatectl show -p NTPSynchronized --value 2>&1); then
  [ "$synced" = yes ] || die "the system clock is not synchronized (timedatectl: NTPSynchronized=$synced): a dump taken with a wrong clock is misdated, and one dated ahead would pass every age check with stale data. Fix: make time synchronization work (timedatectl timesync-status; systemctl status systemd-timesyncd) until timedatectl shows 'System clock synchronized: yes', then run backup-dump again"
else
  log "cannot tell whether the clock is synchronized (timedatectl: $(tr '\n' ' ' <<<"$synced")); dumping anyway"
fi

stamp=$(date -u +%Y%m%dT%H%M%SZ)
# The local copy is written under a name no other job reads ($work) and takes its name only when complete.
# The dump's other files (INDEX, the digests, globals.sql, SHA256SUMS: what each target's manifest holds)
# are written to the run's directory ($meta) and copied into the local copy at the end.
work="$DUMP_DIR/.partial-$stamp" local_copy=1 local_lost='' local_cause=''
# out_of_space <what a command printed>: it says that a disk is full. (Taken from the command, not from the
# log: the log may be on that same disk, and then holds no line of it.)
out_of_space() { grep -q -e 'No space left on device' -e 'Disk quota exceeded' <<<"$1"; }
# give_up_local <what failed>: the disk of DUMP_DIR is full. The local copy of this dump goes
# at once, with what was written of it (no job may take it for a dump, and it holds space); the dump goes on
# to the targets, and the job fails at its end.
give_up_local() {
  [ "$local_copy" = 1 ] || return 0
  local_copy=0 local_lost=$1 local_cause=\${2:-$(step_output 3)}
  rm -rf "$work"
  log "no space left on the disk of $DUMP_DIR ($1): the local copy of dump $stamp is given up and removed; the dump goes on to $TARGETS"
}
if ! err=$({ mkdir -p "$DUMP_DIR" && rm -rf "$DUMP_DIR"/.partial-* && mkdir -m 0700 "$work"; } 2>&1); then
  printf '%s\\n' "$err" >>"$SB_LOG" 2>/dev/null || true
  out_of_space "$err" || die "cannot create $work: \${err:-no output}"
  give_up_local "creating $work" "$err"
fi
at_exit_run rm -rf -- "$work"
run_dir
meta="$SB_RUN/files"
mkdir "$meta"

step "listing the databases"
if [ -n "\${PG_DATABASES:-}" ]; then
  dbs=$PG_DATABASES
else
  # Every database but PostgreSQL's own templates: one that allows no connections, or is marked as a
  # template, holds data as much as any other, and leaving it out silently loses it.
  listed=$(pg psql -X -A -t -F '|' -v ON_ERROR_STOP=1 -d postgres \\
    -c "SELECT datname, datallowconn FROM pg_database WHERE datname NOT IN ('template0', 'template1') ORDER BY 1" 2>>"$SB_LOG") \\
    || die "cannot list the databases on $PGHOST:$PGPORT (is PostgreSQL running?)"
  # On a machine that runs the restore drill as well (a test machine with a plan of its own), the drill's scratch
  # databases hold a copy of production's backup: half restored while it runs, dropped WITH (FORCE) at its end (which
  # failed the dump that was reading one), kept until the next drill with DRILL_KEEP_DATABASES=1. They are not this
  # machine's data, and this machine's backups must not carry production's for months: left out, and named.
  drill_prefix=''
  if [ -r "$SB_ETC/drill.conf" ]; then
    drill_prefix=$(. "$SB_ETC/drill.conf" >/dev/null 2>&1; printf '%s' "\${DRILL_DB_PREFIX:-}") || drill_prefix=''
    [[ $drill_prefix =~ ^[a-z_][a-z0-9_]{0,30}$ ]] || drill_prefix=''
  fi
  scratch_re=''
  [ -z "$drill_prefix" ] || scratch_re=$(drill_scratch_re "$drill_prefix")
  dbs='' closed='' scratch=''
  while IFS='|' read -r db allowed; do
    [ -n "$db" ] || continue
    # The drill's names (drill_scratch_re).
    if [ -n "$scratch_re" ] && [[ $db =~ $scratch_re ]]; then scratch="$scratch $db"; continue; fi
    if [ "$allowed" = t ]; then dbs="\${dbs:+$dbs }$db"; else closed="$closed $db"; fi
  done <<<"$listed"
  [ -z "$scratch" ] || log "leaving out the restore drill's scratch database(s)$scratch: copies of the backup it restores, not this machine's data"
  [ -z "$closed" ] || die "database(s)$closed allow no connections, so pg_dump cannot dump them and this dump would leave their data out. Fix: allow connections (ALTER DATABASE <name> ALLOW_CONNECTIONS true), or leave them out on purpose by naming the databases to dump (PostgresDump.databases([...]), PG_DATABASES in backup.conf)"
fi
[ -n "$dbs" ] || die "there is no database to dump"
for db in $dbs; do
  valid_db_name "$db" || die "database name '$db' cannot be carried by a dump: it becomes part of file names, so it is letters, digits, _ . - (starting with a letter, digit or _) and at most 63 bytes; rename the database or leave it out with PG_DATABASES"
done

# A machine that has dumped before records it (backed_up_before); so does one with a complete local dump (a machine
# upgraded from a version without the record, or rebuilt from a Hetzner backup of its disk).
if [ "$start_empty" = 1 ]; then
  log "--start-empty: this machine's databases are dumped as they are, whatever the targets hold"
elif ! backed_up_before dumped && [ -z "$(find "$DUMP_DIR" -mindepth 1 -maxdepth 1 -type d -name '2*Z' -print -quit 2>/dev/null)" ]; then
  step "checking that this machine's databases are not an unrestored rebuild"
  # A rebuilt production machine gets its bundle (an empty app database, the timers) before anyone restores its data:
  # a dump of it that ran first became the newest backup, the one backup-restore and the drill take, and the restore
  # gave back an empty database with a success. So a first dump with no row at all refuses while the newest dump of
  # this host on a target holds rows.
  held_here=0
  for db in $dbs; do
    rows=$(pg psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$db" 2>>"$SB_LOG" <<'SQL'
SELECT format('SELECT EXISTS (SELECT 1 FROM %I.%I)', n.nspname, c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
\\gexec
SQL
    ) || die "cannot read whether database $db holds rows"
    if grep -qx t <<<"$rows"; then held_here=1; break; fi
  done
  # remote_newest <target> <manifest tar> <directory>: unpacks the newest dump's manifest of this host on the target
  # (unpack_manifest, check_manifest) and sets newest (its dump's time) and remote_rows (the rows its digests count in
  # the databases of this dump). unpack_manifest's variables are this function's: its stamp is not this dump's.
  remote_newest() {
    local stamp dir id epoch db
    unpack_manifest "$2" "$3" "the newest dump of $BACKUP_HOST on $1"
    check_manifest "$dir"
    newest=$stamp remote_rows=0
    for db in $dbs; do
      [ -r "$dir/$db.tables" ] || continue
      remote_rows=$((remote_rows + $(table_rows "$dir/$db.tables")))
    done
  }
  if [ "$held_here" = 0 ]; then
    for t in $TARGETS; do
      remote="$SB_RUN/remote-newest"
      rm -rf "$remote" "$remote.tar"
      select=(--host "$BACKUP_HOST" --tag sovereign-dump --path "$DUMP_MANIFEST")
      # A listing whose connection timed out makes the backup to the target fail at once (listing, unreached): it
      # connected again to list the locks, another timeout. The other targets are still checked: one of them may refuse first.
      if ! listing listed "$t" 'its dumps' "cannot list its dumps of $BACKUP_HOST" snapshots --json "\${select[@]}"; then
        not_listed "$t" "$SB_RUN/listing.$t.err"
        continue
      fi
      [ "$listed" != "[]" ] && [ -n "$listed" ] || continue
      restic_on "$t" --no-lock dump "\${select[@]}" latest "$DUMP_MANIFEST" >"$remote.tar" 2>>"$SB_LOG" \\
        || die "cannot fetch the newest dump's manifest of $BACKUP_HOST from $t, to compare it with this machine's empty databases"
      remote_newest "$t" "$remote.tar" "$remote"
      if [ "$remote_rows" -gt 0 ]; then
        die "refusing to dump: this machine has not dumped before, and its databases ($(echo $dbs)) hold no row, while the newest dump of $BACKUP_HOST on $t ($newest) holds $remote_rows rows. This looks like a rebuilt machine whose data was not restored yet: this dump would become the newest backup, the one backup-restore and the restore drill take. Nothing was sent. Fix: restore it first with backup-restore, as ${libraryDoc('backup.md', 'Restoring by hand')} says, then run backup-dump again; if this machine is meant to start empty, giving up the data of those dumps, run backup-dump --start-empty once"
      fi
    done
    # Nothing else checks it later: a dump sent to the targets that answered, or kept in DUMP_DIR for backup-push to
    # send once the target answers, would become the newest backup, and the next dump, finding a local copy, would not
    # check again.
    [ "\${#SB_UNLISTED[@]}" = 0 ] || die "cannot tell whether this machine is an unrestored rebuild: it has not dumped before, its databases ($(echo $dbs)) hold no row, and the dumps of $BACKUP_HOST on $(unlisted names) could not be listed (restic: $(unlisted causes)). Nothing was dumped. Fix: $(unlisted_fix dumps); if this machine is meant to start empty, giving up the data of any dumps there, run backup-dump --start-empty once"
  fi
fi

for t in $TARGETS; do unlock_before_backup "$t"; done
step "opening the stream of dump $stamp to $TARGETS"
outs=()
for t in $TARGETS; do
  stream_open "$t" "$stamp"
  manifest_open "$t" "$stamp"
  outs+=("$t=\${SB_STREAM_FD[$t]}")
done

: >"$meta/INDEX"
for db in $dbs; do
  step "dumping $db"
  # One session exports a snapshot; pg_dump reads it in its own session while the table digest
  # runs in this one: both see exactly the same state, at the same time.
  coproc SESSION { pg psql -X -q -A -t -F '|' -v ON_ERROR_STOP=1 -d "$db" 2>&1; }
  printf '%s\\n' 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;' 'SELECT pg_export_snapshot();' >&"\${SESSION[1]}"
  snapshot=''
  read -r -t 60 snapshot <&"\${SESSION[0]}" || true
  [[ $snapshot =~ ^[0-9A-F]+-[0-9A-F]+-[0-9]+$ ]] || die "cannot open a snapshot of $db: \${snapshot:-no answer from PostgreSQL}"
  { cat "$SB_LIB/table-digest.sql"; printf '%s\\n' '\\echo __END__'; } >&"\${SESSION[1]}"
  # zlib level 1: a third of the CPU time of pg_dump's default (6) for a dump a few per cent larger;
  # pg_dump is the slowest part of the pipeline and competes with the database it dumps.
  into=-
  [ "$local_copy" = 0 ] || into="$work/$db.dump"
  pg pg_dump -Fc --compress=1 --snapshot="$snapshot" -d "$db" 2>>"$SB_LOG" \\
    | SB_RESERVE=$((\${DUMP_RESERVE_MB:-0} << 20)) "\${PY[@]}" -c "$SB_FANOUT_PY" "$into" "$SB_RUN/$db.sum" "\${outs[@]}" 2>>"$SB_LOG" \\
    | pg_restore --file=/dev/null 2>>"$SB_LOG" && st=(0 0 0) || st=("\${PIPESTATUS[@]}")
  [ "\${st[0]}" = 0 ] || die "pg_dump of $db failed"
  [ "\${st[1]}" != 4 ] || tmpdir_full "writing the checksum of the dump of $db into $SB_RUN (TMPDIR) failed: No space left on device"
  [ "\${st[1]}" = 0 ] || die "writing the dump of $db failed"
  [ "\${st[2]}" = 0 ] || die "the dump of $db does not read back completely (pg_restore)"
  read -r sum bytes copy <"$SB_RUN/$db.sum" || tmpdir_full "the checksum of the dump of $db in $SB_RUN (TMPDIR) is missing or cut off: its disk may have filled"
  [ "$copy" != no-space ] || give_up_local "writing the dump of $db"
  step "table digest of $db"
  complete=0 digest=''
  while IFS= read -r -t 3600 line <&"\${SESSION[0]}"; do
    if [ "$line" = __END__ ]; then complete=1; break; fi
    [[ $line =~ ^[^|]+\\|[0-9]+\\|-?[0-9]+$ ]] || die "table digest of $db failed: $line"
    digest+=$line$'\\n'
  done
  [ "$complete" = 1 ] || die "table digest of $db ended early"
  printf '%s\\n' 'COMMIT;' '\\q' >&"\${SESSION[1]}"
  wait "$SESSION_PID" || die "the snapshot session of $db failed (exit $?)"
  # TMPDIR's disk may fill at any of these writes as well as at the fan-out's.
  to_run_file "$meta/$db.tables" "the table digest of $db" "$digest"
  to_run_file "$SB_RUN/SUMS" "the checksum of the dump of $db" "$sum  $db.dump"$'\\n'
  to_run_file "$meta/INDEX" "the size of the dump of $db" "$db $bytes"$'\\n'
done

step "closing the streams"
# The read-back of each new snapshot starts here and runs while the roles, the checksums and the
# manifests are written: it needs only INDEX and the databases' checksums.
for t in $TARGETS; do
  stream_close "$t" "$meta/INDEX" "$SB_RUN/SUMS" || true
done
step "dumping the roles"
# pg_dumpall runs as the database's OS user and exits 0 when its writes fail; on a nearly full disk
# the blocks reserved for root stay writable for every other file of the dump. So root writes the
# file, and pg_dumpall's closing line proves it complete.
pg pg_dumpall --globals-only --no-role-passwords 2>>"$SB_LOG" | cat >"$meta/globals.sql" && st=(0 0) || st=("\${PIPESTATUS[@]}")
[ "\${st[0]}" = 0 ] || die "pg_dumpall --globals-only failed"
[ "\${st[1]}" = 0 ] || tmpdir_full "writing the roles to $meta/globals.sql (TMPDIR) failed"
globals_complete "$meta/globals.sql" || die "the roles' dump (globals.sql) is empty or cut off: it lacks pg_dumpall's closing line '-- PostgreSQL database cluster dump complete', and a restore of this dump could not create the owners of its objects. Fix: free space on the disk of \${TMPDIR:-/tmp} (df -h \${TMPDIR:-/tmp}), then run backup-dump again"
step "writing the checksums"
if ! err=$( { { cat "$SB_RUN/SUMS"; (cd "$meta" && sha256sum -- *.tables globals.sql); } >"$meta/SHA256SUMS"; } 2>&1 ); then
  printf '%s\\n' "$err" >>"$SB_LOG" 2>/dev/null || true
  out_of_space "$err" && tmpdir_full "writing the checksums (SHA256SUMS) into $meta (TMPDIR) failed: \${err##*: }"
  die "writing the checksums (SHA256SUMS) into $meta failed: \${err:-no output}"
fi
if [ "$local_copy" = 1 ]; then
  step "completing the local copy of dump $stamp"
  if ! err=$(cp -- "$meta"/* "$work/" 2>&1); then
    printf '%s\\n' "$err" >>"$SB_LOG" 2>/dev/null || true
    out_of_space "$err" || die "cannot write the files of dump $stamp into $work: \${err:-no output}"
    give_up_local "writing the files of dump $stamp" "$err"
  fi
fi
if [ "$local_copy" = 1 ]; then
  sync "$work"/* "$work"
  mv "$work" "$DUMP_DIR/$stamp"
  sync "$DUMP_DIR"
  latest="$DUMP_DIR/$stamp"
  step "applying the local retention"
  # Local retention: the newest LOCAL_COPIES dumps stay.
  find "$DUMP_DIR" -mindepth 1 -maxdepth 1 -type d -name '2*Z' | sort -r | tail -n "+$((LOCAL_COPIES + 1))" | xargs -r rm -rf --
  kept=$(find "$DUMP_DIR" -mindepth 1 -maxdepth 1 -type d -name '2*Z' | wc -l)
else
  # No local copy: the manifests come from the run's files. The local copies there stay as they are.
  latest=$meta
fi

sent=''
for t in $TARGETS; do
  step "backing up dump $stamp to $t"
  dump_on_target "$t" "$stamp" "$latest" || continue
  sent="$sent $t"
done

if [ "$local_copy" = 0 ]; then
  # The failure reports the step that failed for lack of space, with what its commands printed then.
  step "writing the local copy of dump $stamp into $DUMP_DIR ($local_lost)"
  printf '%s\\n' "$local_cause" >>"$SB_LOG"
  read -r -a reached <<<"$sent"
  from=each
  [ "\${#reached[@]}" != 1 ] || from=it
  if [ -z "$TARGETS" ]; then
    remote="and the plan has no remote target: this dump exists nowhere"
  elif [ -z "$failures" ]; then
    remote="the remote copies are complete: it was streamed to \${reached[*]} and read back from $from"
  elif [ "\${#reached[@]}" -gt 0 ]; then
    remote="it was streamed to \${reached[*]} and read back from $from; it failed for $failures, and without a local copy backup-push cannot send it there later"
  else
    remote="and it reached no target either: $failures"
  fi
  reserve=''
  [ "\${DUMP_RESERVE_MB:-0}" = 0 ] || reserve="; it leaves $DUMP_RESERVE_MB MiB free there, for restic's packs in \${TMPDIR:-/tmp} and the run's files"
  die "no space left on the disk of $DUMP_DIR: the local copy of dump $stamp could not be written ($local_lost$reserve), and nothing of it is left there (any dump there is an earlier, complete one); $remote. Fix: free space on that disk (df -h $DUMP_DIR; du -sh $DUMP_DIR/*), or keep fewer local copies (the plan's localCopies) or give $DUMP_DIR a larger disk, then run backup-dump again"
fi
[ -z "$failures" ] || die "dump $stamp is kept on this machine, but streaming it failed for $failures (backup-push sends it again)"
record_backed_up dumped 'dumped (its local dumps say so while they last)'
ok "dumped $(echo $dbs) into $latest ($(du -sh "$latest" | cut -f1)), verified, streamed to\${sent:- no target} and read back; $kept local copies"
`;

/** The push job. */
export const BACKUP_PUSH = `#!/bin/bash
# backup-push: makes sure the newest verified dump is on every remote target, and backs up the
# file paths. backup-dump streams each dump to the targets and reads it back; a target it could
# not reach gets the local copy now, sent and read back the same way (no cache). File snapshots
# are listed back from the target with no cache.
SB_JOB=push SB_LOCK_FIRST=1
. "$(dirname "$(readlink -f "$0")")/../lib/sovereign-backup/common.sh"
# --start-empty: this machine's paths start empty (or as they are) on purpose (see "checking that this machine's paths are not an
# unrestored rebuild" below); given once, by hand.
start_empty_argument "$@"
load_conf backup.conf
repo_lock
heartbeat_start
require_free_tmp

latest='' checked=0
if [ -n "\${DUMP_DIR:-}" ]; then
  step "finding the newest dump"
  latest=$(find "$DUMP_DIR" -mindepth 1 -maxdepth 1 -type d -name '2*Z' | sort | tail -n 1)
  if [ -z "$latest" ]; then
    if backed_up_before dumped; then die "no completed dump in $DUMP_DIR"; fi
    # A first dump that refused (an unrestored rebuild, a target's dumps not listed) leaves none: the files still go.
    failures="\${failures:+$failures; }no dump yet in $DUMP_DIR: backup-dump has not completed its first dump on this machine; see its alert (journalctl -u backup-dump)"
  fi
fi
if [ -n "$latest" ]; then
  stamp=$(basename "$latest")
  taken=$(stamp_epoch "$stamp") || die "cannot read the time of dump $stamp"
  age=$(hours_since "$taken")
  # The newest by name is the newest by time: one dated ahead would pass for fresh until its date.
  [ "$age" -ge 0 ] || die "the newest dump ($stamp) is dated in the future: it was taken while this machine's clock ran ahead (or the clock is behind now), so whether dumps still arrive cannot be told. Fix: $(future_fix "$BACKUP_HOST" "$stamp")"
  [ "$age" -lt "$MAX_AGE_HOURS" ] || die "the newest dump ($stamp) is $age hours old, the limit is $MAX_AGE_HOURS; the dump job is failing"
  [ -s "$latest/INDEX" ] && [ -s "$latest/SHA256SUMS" ] || die "dump $stamp has no INDEX or SHA256SUMS"
fi

# streamed_by_dump <target>: whether backup-dump streamed the newest dump to the target and read it back. The marker it
# wrote then names the repository and the password it used.
streamed_by_dump() { [ "$(head -n 1 "$latest/.pushed.$1" 2>/dev/null)" = "$(target_identity "$1")" ]; }

push_dump() {
  local t=$1 snap manifest db bytes
  if streamed_by_dump "$t"; then
    read -r snap manifest < <(sed -n 2p "$latest/.pushed.$t")
    log "dump $stamp is snapshot \${snap:0:8} on $t: streamed and read back from $t by backup-dump"
    return 0
  fi
  if [ "$checked" = 0 ]; then
    step "checking dump $stamp against its checksums"
    (cd "$latest" && sha256sum --quiet --strict -c SHA256SUMS) >>"$SB_LOG" 2>&1 || die "dump $stamp no longer matches its checksums"
    checked=1
  fi
  step "backing up dump $stamp to $t"
  stream_open "$t" "$stamp"
  manifest_open "$t" "$stamp"
  while read -r db bytes; do
    cat -- "$latest/$db.dump" >&"\${SB_STREAM_FD[$t]}" 2>>"$SB_LOG" || break
  done <"$latest/INDEX"
  stream_close "$t" "$latest/INDEX" "$latest/SHA256SUMS" || true
  dump_on_target "$t" "$stamp" "$latest" || return 0
}

# unmounted_paths: the mount points of /etc/fstab at, inside or above a path of FILE_PATHS that are not
# mounted now. A DataVolume is mounted with nofail: when it is missing, its mount point is an empty
# directory, and backing that up would record an empty snapshot that the next prune keeps instead
# of the last one with the data.
unmounted_paths() {
  local dev dir type opts rest p
  while read -r dev dir type opts rest; do
    [[ -n $dev && $dev != \\#* && $dir == /?* && ,$opts, != *,noauto,* ]] || continue
    printf -v dir '%b' "$dir"
    for p in $FILE_PATHS; do
      if [ "$dir" = "$p" ] || [[ $dir == "$p"/* || $p == "$dir"/* ]]; then
        mountpoint -q -- "$dir" || printf ' %s' "$dir"
        break
      fi
    done
  done <"\${SOVEREIGN_ROOT:-}/etc/fstab"
}

push_files() {
  local t=$1 out snap n size when rc=0 vanished='' errors fix='make them readable or move them out of the paths' lost='' p
  local excludes=()
  step "backing up $files to $t"
  printf -v when '%(%Y-%m-%d %H:%M:%S)T' -1
  # The work directory of a backup-restore-files killed while restic wrote it is not the path's: a restore would
  # bring it back (the next restore of the path removes it).
  for p in $files; do excludes+=(--exclude "$p/.sovereign-restore.*"); done
  # shellcheck disable=SC2086
  out=$(restic_on "$t" backup --json --time "$when" --host "$BACKUP_HOST" --tag sovereign-files "\${excludes[@]}" $files 2>>"$SB_LOG") || rc=$?
  # restic 0.14 also exits 3 when a file vanished while it read the paths (listed, then gone: an upload renamed, a
  # cache or journal file removed). The snapshot holds what the paths held as restic read them: it is kept and recorded,
  # naming them. Unless a file system of the paths went away during the read (every file of it vanishes): then it goes.
  if [ "$rc" = 3 ] && errors=$(step_output 100000 | "\${PY[@]}" -c "$SB_FILES_PY" unread); then
    if [ -r "\${SOVEREIGN_ROOT:-}/etc/fstab" ]; then lost=$(unmounted_paths); fi
    if [ -z "$lost" ]; then
      vanished=\${errors#* } rc=0
      log "$t: \${errors%% *} files vanished while restic read the paths (they are not in the snapshot): $vanished"
    else
      errors="\${errors%% *} files vanished while restic read the paths, and /etc/fstab mounts$lost, which is not mounted any more (unmounted or failed during the push): \${errors#* }"
      fix="mount$lost again (journalctl -b for why it went)"
    fi
  fi
  if [ "$rc" = 3 ]; then
    # restic 0.14 exits 3 when it could not read some files, and still saves the snapshot without them: the newest of
    # the paths, the one a restore took, and the one of its day the retention kept over a complete one. It goes now;
    # should forget fail (another process's lock), it stays without a record, which restores pass over.
    local cause gone='forgotten'
    cause=\${errors:-$(step_cause)}
    read -r snap < <(snapshot_id <<<"$out") || true
    if [ -z "$snap" ] || ! run restic_on "$t" forget "$snap"; then
      gone="left without a record, which restores pass over (restic forget failed)"
    fi
    log "$t: restic backup of $files could not read some files: $cause"
    failures="\${failures:+$failures; }$t: restic backup of $files could not read some files, so the snapshot it saved without them (\${snap:0:8}) was $gone. Fix: $fix, then run backup-push again. restic: $cause"
    return
  fi
  [ "$rc" = 0 ] || { target_failed "$t" "restic backup of $files"; return; }
  read -r snap n size < <(snapshot_id counts <<<"$out") || true
  step "listing file snapshot \${snap:-?} on $t without a cache"
  if [ -z "$snap" ] || ! restic_on "$t" --no-cache ls "$snap" >/dev/null 2>>"$SB_LOG"; then
    target_failed "$t" "listing file snapshot \${snap:-?}"; return
  fi
  step "writing the record of file snapshot \${snap:0:8} to $t"
  if ! { printf 'snapshot %s\\nfiles %s\\nbytes %s\\npaths %s\\n' "$snap" "$n" "$size" "$files"; [ -z "$vanished" ] || printf 'vanished %s\\n' "$vanished"; } \\
    | restic_on "$t" backup --stdin --stdin-filename "\${FILES_RECORD#/}" --time "$when" --host "$BACKUP_HOST" --tag sovereign-files-record >/dev/null 2>>"$SB_LOG"; then
    target_failed "$t" "writing the record of file snapshot \${snap:0:8}"; return
  fi
  log "files ($files) are snapshot \${snap:0:8} on $t ($n files, $(bytes "$size")), its trees read back, its record written\${vanished:+ (naming the files that vanished while restic read them)}"
  [ -n "$absent$half" ] || [ "\${#SB_UNLISTED[@]}" -gt 0 ] || record_backed_up files-backed-up 'backed up its paths'
}

# unrestored_paths <target> <path>...: adds to $unrestored each path given whose newest snapshot of this host on the
# target holds files, and more than twice the files or twice the bytes with content the path holds here (here_n and
# here_size, by path), with that snapshot; adds the target to SB_UNLISTED when its file snapshots cannot be listed.
unrestored_paths() {
  local t=$1 listed p id epoch time n size hn hs
  shift
  # As the dump's listing: a timeout makes the backups to the target fail at once (unreached).
  if ! listing listed "$t" 'its file snapshots' "cannot list its file snapshots of $BACKUP_HOST" \\
    snapshots --json --host "$BACKUP_HOST" --tag sovereign-files --tag sovereign-files-record; then
    not_listed "$t" "$SB_RUN/listing.$t.err"
    return 0
  fi
  while read -r p id epoch time _; do
    [ "$id" != - ] || continue
    restic_on "$t" --no-lock ls --json "$id" >"$SB_RUN/listing.$t" 2>>"$SB_LOG" \\
      || die "cannot list snapshot \${id:0:8} on $t, to compare it with what this machine's $p holds"
    read -r n size < <("\${PY[@]}" -c "$SB_FILES_PY" count "$p" <"$SB_RUN/listing.$t")
    hn=\${here_n[$p]} hs=\${here_size[$p]}
    # Either count below half: a path whose snapshot holds one or two files (an SQLite file, a key store) has as many
    # files here once the rebuild seeded one, and only its bytes tell.
    [ "$n" -gt 0 ] && { [ "$((hn * 2))" -lt "$n" ] || [ "$((hs * 2))" -lt "$size" ]; } || continue
    if [ ! -e "$p" ]; then hn='nothing (no such path)'; elif [ "$hn" = 0 ]; then hn='no file with content'; else hn="only $hn files with content ($(bytes "$hs"), less than half of the snapshot's files or of its bytes)"; fi
    unrestored="\${unrestored:+$unrestored; }$p holds $hn here, while the newest snapshot of $BACKUP_HOST that holds it on $t (\${id:0:8}, $time UTC) holds $n files ($(bytes "$size"))"
  done < <("\${PY[@]}" -c "$SB_FILES_PY" choose '' "$@" <<<"$listed")
}

files=\${FILE_PATHS:-} absent=''
if [ -n "$files" ]; then
  step "checking that the file systems of $FILE_PATHS are mounted"
  unmounted=''
  if [ -r "\${SOVEREIGN_ROOT:-}/etc/fstab" ]; then unmounted=$(unmounted_paths); fi
  if [ -n "$unmounted" ]; then
    log "not mounted:$unmounted"
    failures="\${failures:+$failures; }the file backup of $FILE_PATHS: /etc/fstab mounts$unmounted, which is not mounted (a missing or failed volume: fstab's nofail let the machine boot without it); backing up the empty mount point would record a snapshot without the data, which the next prune keeps instead of the last one with it. Fix: attach the volume and mount it (mount$unmounted; journalctl -b for why it failed), then run backup-push again"
    files=''
  fi
fi
half=''
stray_markers
if [ -n "$files" ]; then
  # Before --start-empty, which does not change what a stopped restore left.
  for p in $files; do
    half_placed "$p" || continue
    half="$half $p"
    if [ -n "$(placed_from "$p")" ]; then
      half_fix="run $(restore_run - - "$p") again (it restores $p whole from the snapshot it was restoring and removes the marker)"
    else
      half_fix="run $(restore_run - - "$p") (it restores $p whole and removes the marker); or, once you know $p is whole, remove $(placing_marker "$p")"
    fi
    failures="\${failures:+$failures; }the file backup of $p: $(half_placed_why "$p"). Backing it up would record that as the newest snapshot of $p, the one a restore takes. Nothing of $p was sent. Fix: $half_fix, then run backup-push again"
  done
  if [ -n "$half" ]; then
    log "left half placed by a stopped restore:$half"
    files=$(for p in $files; do half_placed "$p" || printf '%s ' "$p"; done)
    files=\${files% }
  fi
fi
if [ -n "$files" ] && [ "$start_empty" = 1 ]; then
  log "--start-empty: $FILE_PATHS are backed up as they are, whatever the targets hold"
elif [ -n "$files" ] && ! backed_up_before files-backed-up; then
  step "checking that this machine's paths are not an unrestored rebuild"
  # A rebuilt machine gets its bundle (the app's directories, empty, and the timers) before anyone restores its files: a
  # file backup that ran first became the newest snapshot of the paths, the one a restore takes, and the next prune
  # could keep it instead of the one with the files. So the first file backup of a machine (none recorded) refuses
  # while a path holds less than half of the files or less than half of the bytes with content (directories, empty
  # files and lost+found left out) of the newest snapshot of this host that holds it on a target: nothing at all, or
  # what the rebuild seeded, such as a default configuration cloud-init wrote. Only the files are held back: the dump
  # goes on.
  declare -A here_n=() here_size=()
  for p in $files; do
    read -r "here_n[$p]" "here_size[$p]" < <(files_with_content "$p")
  done
  unrestored=''
  for t in $TARGETS; do unrestored_paths "$t" $files; done
  if [ -n "$unrestored" ]; then
    log "not restored: $unrestored"
    failures="\${failures:+$failures; }the file backup of $FILE_PATHS: refusing to back up the paths, since this machine has not backed them up before and $unrestored. This looks like a rebuilt machine whose files were not restored yet: this backup would become the newest snapshot, the one a restore takes, and the next prune could keep it instead of the one with the files. Nothing of the files was sent. Fix: restore them first with backup-restore-files, as ${libraryDoc('backup.md', 'Restoring by hand')} says, then run backup-push again; if this machine is meant to start with these paths as they are now, giving up the files of those snapshots, run backup-push --start-empty once"
    files=''
  elif [ "\${#SB_UNLISTED[@]}" -gt 0 ]; then
    # The files go to the targets that were listed and passed the check (a new machine's uploads reach the Storage Box
    # while the bucket is down), not to the unlisted ones; and the first file backup is not recorded, so the next push
    # checks again (this machine's own snapshot then passes), the unlisted targets too once they answer.
    failures="\${failures:+$failures; }the file backup of $FILE_PATHS to $(unlisted names): cannot tell whether this machine is an unrestored rebuild: it has not backed up its paths before, and the file snapshots of $BACKUP_HOST on $(unlisted names) could not be listed (restic: $(unlisted causes)). Nothing of the files was sent there (the other targets, if any, got them). Fix: $(unlisted_fix 'file snapshots'); if this machine is meant to start with these paths as they are now, giving up the files of any snapshots there, run backup-push --start-empty once"
  fi
fi
if [ -n "$files" ]; then
  # restic 0.14 skips a path that does not exist ("does not exist, skipping") and exits 0: the push reported the paths
  # pushed and its record named them, while no snapshot held the path (a directory removed or renamed, a volume mounted
  # elsewhere, one the app never made). The paths that exist are backed up; the push fails, naming the others. This
  # comes after the check above, which counts a missing path as an empty one: on a rebuilt machine a path the rebuild
  # did not make is refused with the rest, and the machine is not recorded as backing up its paths while one is missing
  # (the check would never run again, and the path, once made, would be backed up empty).
  absent=''
  for p in $files; do [ -e "$p" ] || absent="$absent $p"; done
  if [ -n "$absent" ]; then
    log "missing:$absent"
    failures="\${failures:+$failures; }the file backup of$absent: no such path on this machine, so nothing of it was backed up (restic skips it without failing; the other paths were). Fix: find where its files went (a directory renamed or removed, a volume mounted elsewhere) and put them back; on a rebuilt machine, restore them first with backup-restore-files, as ${libraryDoc('backup.md', 'Restoring by hand')} says; if the app has written nothing there yet, create it (mkdir -p$absent); if the plan should no longer back it up, remove it from the plan's paths and deploy"
    files=$(for p in $files; do [ ! -e "$p" ] || printf '%s ' "$p"; done)
    files=\${files% }
  fi
fi
for t in $TARGETS; do
  # The files skip a target whose file snapshots could not be listed for the check above.
  files_to=$files
  [ -z "\${SB_UNLISTED[$t]+set}" ] || files_to=''
  # Only a target the push writes to (a dump backup-dump did not stream there, the file paths) has restic lock it.
  if [ -n "$files_to" ] || { [ -n "$latest" ] && ! streamed_by_dump "$t"; }; then unlock_before_backup "$t"; fi
  if [ -n "$latest" ]; then push_dump "$t"; fi
  if [ -n "$files_to" ]; then push_files "$t"; fi
done
[ -z "$failures" ] || die "push failed for $failures"
ok "pushed\${latest:+ dump $stamp}\${FILE_PATHS:+ and $FILE_PATHS} to $TARGETS, read back from each without a cache"
`;

/** The prune job. */
export const BACKUP_PRUNE = `#!/bin/bash
# backup-prune: applies the retention policy on every target and proves that backups remain.
# Dumps: the policy chooses among the manifests (one per complete dump); a stream goes when no
# manifest of its dump remains (a stream without a manifest is an unfinished dump).
SB_JOB=prune
. "$(dirname "$(readlink -f "$0")")/../lib/sovereign-backup/common.sh"
load_conf backup.conf
repo_lock
heartbeat_start

# Reads \`restic snapshots --json\`; prints the IDs of the dump streams whose dump (tag dump-<time>) has no manifest left.
SB_ORPHANS_PY='
import json, sys
snaps = json.load(sys.stdin) or []
dumps = lambda s: {t for t in s.get("tags") or [] if t.startswith("dump-")}
kept = set().union(*[dumps(s) for s in snaps if "sovereign-dump" in (s.get("tags") or [])])
for s in snaps:
    if "sovereign-dump-data" in (s.get("tags") or []) and not dumps(s) & kept:
        print(s["id"])
'

# listed <target> <restic snapshots option>...: \`restic snapshots --json\` of a target, read to choose what to forget.
# restic 0.14 passes over a snapshot file it cannot load (damaged, truncated), says "could not load snapshot" on stderr
# and exits 0: that file snapshot's record would look orphaned, its snapshot unrecorded, a dump's stream without its
# manifest, and each be forgotten. Fails then, naming the fix.
# Not the backups' listing helper (listing), which would change what the prune does: that one reads with --no-lock,
# where this one takes restic's shared lock (refused while another machine's prune or check holds the repository); it
# records a timeout as unreachable, which fails the target's later calls at once (this one runs in a pipe or in $(…),
# where that record would be lost anyway); and it logs its own failure line beside the prune's.
listed() {
  local t=$1 err=$SB_RUN/prune.$1.err rc=0
  shift
  restic_on "$t" snapshots --json "$@" 2>"$err" || rc=$?
  cat "$err" >>"$SB_LOG" 2>/dev/null
  if [ "$rc" -eq 0 ] && grep -q 'could not load snapshot' "$err"; then
    rc=1
    log "$t: restic could not load some snapshots ($(grep -m 3 'could not load snapshot' "$err" | tr '\\n' ' ')), so nothing of this target is forgotten: a record, manifest or snapshot it passed over would look missing. Fix: run restic check on $t, move the snapshot files it cannot load out of the repository's snapshots/ directory (or put back good copies), then run backup-prune again"
  fi
  return "$rc"
}

# pruned <target> <command...>: run (its output in the log), with its messages (stderr) in $SB_RUN/prune.<target>.err
# too, as listed leaves them, for prune_failed.
pruned() {
  local t=$1 rc=0
  shift
  log "run: $*"
  "$@" >>"$SB_LOG" 2>"$SB_RUN/prune.$t.err" || rc=$?
  cat "$SB_RUN/prune.$t.err" >>"$SB_LOG" 2>/dev/null || true
  return "$rc"
}
# prune_failed <target> <what failed>: logs it and fails the target. When the connection of its last call there timed
# out (the target went away after its unlock), the target is recorded as unreachable (unreached) and the prune stops
# there: each of its later calls would wait out another timeout (those in a subshell, listed and gives_way, keep no record).
prune_failed() {
  log "$2"
  failed="$failed $1"
  unreached "$1" "$SB_RUN/prune.$1.err" "$SB_STEP" || true
}

failed='' waited='' stuck_notes=''
run_dir
for t in $TARGETS; do
  # forget and prune take the repository's exclusive lock, which a stale lock refuses.
  step "removing stale locks on $t"
  unlock_stale "$t" || { log "restic unlock on $t failed"; failed="$failed $t"; continue; }
  for tag in $TAGS; do
    # A target that went away (prune_failed): what is left of it here would only fail.
    [ -z "\${SB_UNREACHABLE[$t]:-}" ] || break
    step "applying the retention to the $tag snapshots on $t"
    if [ "$tag" = sovereign-dump ]; then
      # Manifests share one path (each dump's time is in its tag), so they are grouped by host and path.
      # shellcheck disable=SC2086
      if ! pruned "$t" restic_on "$t" forget --host "$BACKUP_HOST" --tag sovereign-dump --path "$DUMP_MANIFEST" --group-by host,paths $KEEP; then
        prune_failed "$t" "prune of $tag on $t failed"; continue
      fi
      orphans=$(listed "$t" --host "$BACKUP_HOST" | "\${PY[@]}" -c "$SB_ORPHANS_PY") \\
        || { prune_failed "$t" "listing the snapshots of $t failed"; continue; }
      # shellcheck disable=SC2086
      if [ -n "$orphans" ] && ! pruned "$t" restic_on "$t" forget $orphans; then
        prune_failed "$t" "forgetting the streams of forgotten dumps on $t failed"; continue
      fi
      gives_way "$t" pruned "$t" restic_on "$t" prune || { prune_failed "$t" "prune on $t failed"; continue; }
    else
      # Grouped by host and tags: the default grouping by path would keep every path set ever backed up.
      listed='' pending=''
      if [ "$tag" = sovereign-files ]; then
        listed=$(listed "$t" --host "$BACKUP_HOST" --tag sovereign-files --tag sovereign-files-record) \\
          || { prune_failed "$t" "listing the file snapshots of $t failed"; continue; }
        # A file snapshot with no record, kept among the complete ones, could be the one of its day keep-daily keeps over
        # the complete one. Only one that is surely a failed push goes (SB_FILES_PY choose --failed); while another is
        # left, the retention of the file snapshots waits: it may be a good one (a push still running here or on a
        # replacement with this backup host name, whose repository lock is not this one; one whose record write failed).
        unrecorded=$("\${PY[@]}" -c "$SB_FILES_PY" choose --failed "$(date +%s)" "$FILES_IN_PROGRESS_HOURS" "$MAX_AGE_HOURS" <<<"$listed" 2>>"$SB_LOG") \\
          || { prune_failed "$t" "reading the file snapshots of $t failed"; continue; }
        { read -r unrecorded; read -r pending; read -r stuck; } <<<"$unrecorded" || true
        # shellcheck disable=SC2086
        if [ -n "$unrecorded" ] && ! pruned "$t" restic_on "$t" forget $unrecorded; then
          prune_failed "$t" "forgetting the file snapshots of failed pushes on $t failed"; continue
        fi
      fi
      if [ -n "$pending" ]; then
        log "$t: the retention of the file snapshots waits while file snapshots without a record are younger than a push runs ($FILES_IN_PROGRESS_HOURS hours) or the newest of their paths: $pending"
        # shellcheck disable=SC2086
        waited="\${waited:+$waited; }on $t, the retention of the file snapshots waits for$(printf ' %.8s' $pending), without a record (once it is known to be a failed push, $(restic_by_hand "$t" forget $pending))"
        if [ -n "$stuck" ]; then
          # shellcheck disable=SC2086
          stuck_notes="\${stuck_notes:+$stuck_notes; }on $t, file snapshots without a record are older than a push runs and the backup age limit ($FILES_IN_PROGRESS_HOURS + $MAX_AGE_HOURS hours), and no newer recorded snapshot holds their paths (paths renamed or removed from the plan, file backups stopped), so the retention of the file snapshots would wait for ever: $stuck. Fix: once you know they are failed pushes or hold nothing you need, forget them ($(restic_by_hand "$t" forget $stuck)), then run backup-prune again"
          failed="$failed $t"
        fi
      elif [ "$tag" != sovereign-files ]; then
        # shellcheck disable=SC2086
        if ! gives_way "$t" pruned "$t" restic_on "$t" forget --host "$BACKUP_HOST" --tag "$tag" --group-by host,tags $KEEP --prune; then
          prune_failed "$t" "prune of $tag on $t failed"; continue
        fi
      else
        # The retention chooses among the file snapshots; their records (timed as their snapshots) follow them, as the
        # streams follow the manifests: a record of its own group kept other times than the snapshots kept.
        # shellcheck disable=SC2086
        if ! pruned "$t" restic_on "$t" forget --host "$BACKUP_HOST" --tag sovereign-files --group-by host,tags $KEEP; then
          prune_failed "$t" "prune of $tag on $t failed"; continue
        fi
        orphans=$(listed "$t" --host "$BACKUP_HOST" --tag sovereign-files --tag sovereign-files-record \\
          | "\${PY[@]}" -c "$SB_FILES_PY" choose --orphans) || { prune_failed "$t" "listing the file snapshots of $t failed"; continue; }
        # shellcheck disable=SC2086
        if [ -n "$orphans" ] && ! pruned "$t" restic_on "$t" forget $orphans; then
          prune_failed "$t" "forgetting the records of forgotten file snapshots on $t failed"; continue
        fi
        gives_way "$t" pruned "$t" restic_on "$t" prune || { prune_failed "$t" "prune on $t failed"; continue; }
      fi
    fi
    left=$(restic_on "$t" snapshots --json --host "$BACKUP_HOST" --tag "$tag" 2>"$SB_RUN/prune.$t.err" | "\${PY[@]}" -c 'import json,sys; print(len(json.load(sys.stdin) or []))') || left=''
    cat "$SB_RUN/prune.$t.err" >>"$SB_LOG" 2>/dev/null || true
    if [ -z "$left" ]; then prune_failed "$t" "listing the $tag snapshots of $t failed"; continue; fi
    if [ "$left" -lt 1 ]; then prune_failed "$t" "no $tag snapshot left on $t"; continue; fi
    log "$t keeps $left $tag snapshots ($KEEP)"
  done
done
[ -z "$failed" ] || die "prune failed for:$failed\${stuck_notes:+: $stuck_notes}"
ok "pruned $TARGETS with $KEEP$(gave_way_note)\${waited:+; $waited}"
`;

/** The check job. */
export const BACKUP_CHECK = `#!/bin/bash
# backup-check: \`restic check\` on every target with no local cache, reading one slice of the data
# per run in turn (--read-data-subset=n/N), so that every pack is read back every CHECK_READ_SLICES
# runs; and the newest backup's age.
SB_JOB=check
. "$(dirname "$(readlink -f "$0")")/../lib/sovereign-backup/common.sh"
load_conf backup.conf
repo_lock
heartbeat_start

slices=\${CHECK_READ_SLICES:-1}
[[ $slices =~ ^[1-9][0-9]*$ ]] || die "CHECK_READ_SLICES is '$slices', not a whole number of at least 1"
failures="" slices_read=""
for t in $TARGETS; do
  # The slice after the last one read; a run that fails reads the same slice again next time.
  state="$BACKUP_STATE/check-slice.$t"
  last=$(cat "$state" 2>/dev/null || echo 0)
  [[ $last =~ ^[0-9]+$ ]] || last=0
  n=$(( last % slices + 1 ))
  step "removing stale locks on $t"
  if ! unlock_stale "$t"; then
    failures="\${failures:+$failures; }$t: restic unlock failed ($(step_cause))"
    continue
  fi
  step "restic check of $t, reading data slice $n/$slices"
  if ! gives_way "$t" run restic_on "$t" --no-cache check --read-data-subset="$n/$slices"; then
    failures="\${failures:+$failures; }$t: restic check reading slice $n/$slices failed ($(step_cause))"
    continue
  fi
  # The next check reads the next slice only once this one is recorded. On a full state disk the record failed unseen:
  # every check read the same slice and reported the whole cycle, and the other slices were never read.
  if ! error=$({ printf '%s\\n' "$n" >"$state.new" && mv "$state.new" "$state"; } 2>&1); then
    rm -f "$state.new"
    failures="\${failures:+$failures; }$t: slice $n/$slices was read, but recording that in $state failed ($(tr '\\n' ' ' <<<"$error")), so the next check would read the same slice again and the other slices never (its disk has $(disk_free "$BACKUP_STATE")). Fix: free space on that disk (df -h $BACKUP_STATE), then run backup-check again"
  fi
  slices_read="\${slices_read:+$slices_read, }$t slice $n/$slices"
  step "finding the newest backups on $t"
  json=$(restic_on "$t" --no-cache snapshots --json --host "$BACKUP_HOST" 2>>"$SB_LOG") \\
    || { failures="\${failures:+$failures; }$t: listing the snapshots failed ($(step_cause))"; continue; }
  for tag in $TAGS; do
    read -r id age _ < <(newest_snapshot "$tag" <<<"$json") || true
    if [ -z "\${id:-}" ]; then failures="\${failures:+$failures; }$t: no $tag snapshot of $BACKUP_HOST"; continue; fi
    if [ "$age" -lt 0 ]; then failures="\${failures:+$failures; }$t: the newest $tag snapshot \${id:0:8} is dated in the future: it was taken while a clock ran ahead, so whether backups still arrive cannot be told (fix: check the clocks with timedatectl, then restic forget \${id:0:8} on $t)"; continue; fi
    if [ "$age" -ge "$MAX_AGE_HOURS" ]; then failures="\${failures:+$failures; }$t: the newest $tag snapshot is $age hours old (limit $MAX_AGE_HOURS)"; continue; fi
    log "$t: repository sound (data slice $n/$slices read), newest $tag snapshot \${id:0:8} is $age hours old"
  done
done
[ -z "$failures" ] || die "check failed for $failures"
ok "checked $TARGETS: repositories sound, read data slice $slices_read (every pack is read every $slices runs), backups fresh$(gave_way_note)"
`;

/** The restore drill. */
export const RESTORE_DRILL = `#!/bin/bash
# restore-drill: fetches the newest production backup from the remote target with no local cache,
# streams each of its databases into a scratch database that this run creates under a name of its
# own, and verifies checksums, row counts, table checksums and the team's SQL checks (each on a
# database this backup holds). With several copies (DRILL_SOURCES: the Storage Box and the offsite
# bucket), it drills each in turn and reports once: a copy never restored is not known to restore.
SB_JOB=restore-drill
. "$(dirname "$(readlink -f "$0")")/../lib/sovereign-backup/common.sh"
if [ -n "\${SB_DRILL_OF:-}" ]; then
  # One copy of several: the run that started this one reports, from the first line on. Its lines read
  # restore-drill@<copy>; it pings nothing, even when it fails reading its configuration (it then pinged a /fail of its
  # own, and the report named the copy's step 'unknown' and its cause 'it ended without saying why').
  SB_JOB="$SB_JOB@$SB_DRILL_OF" SB_NO_PINGS=1
  # Its notes too: sb_exit adds them to the outcome only after the clean-ups, this one among them.
  at_exit 'printf "%s\\\\n" "$SB_OK" "$SB_STEP" "\${SB_SUMMARY:-$SB_FAILURE}$SB_NOTES" >"$SB_DRILL_RESULT"'
fi
load_conf drill.conf
# Everything the drill reads comes from the remote: a cache would hide corruption there.
SB_NO_CACHE=1

# Scratch databases of earlier drills (kept with DRILL_KEEP_DATABASES=1, or left by a killed drill)
# go first. Listing them fails before gigabytes are fetched when PostgreSQL is not reachable.
scratch_re=$(drill_scratch_re "$DRILL_DB_PREFIX")
drop_earlier_scratch() {
  local leftovers old
  leftovers=$(printf '%s\\n' "SELECT datname FROM pg_database WHERE datname ~ :'re';" | pg psql -X -q -A -t -v ON_ERROR_STOP=1 -d postgres -v re="$scratch_re" 2>>"$SB_LOG") \\
    || die "PostgreSQL on this machine ($PGHOST:$PGPORT) is not reachable for the scratch databases (listing those of earlier drills failed)"
  for old in $leftovers; do
    run pg dropdb --if-exists "$old" || die "cannot drop the scratch database $old of an earlier drill"
  done
  # So do the work directories of earlier drills (the fetched manifest, the restored digests): a drill killed with
  # SIGKILL left its own in DRILL_WORK. This run holds the drill lock: no other drill uses one.
  if [ -d "$DRILL_WORK" ]; then
    find "$DRILL_WORK" -mindepth 1 -maxdepth 1 -name 'drill.*' ! -path "\${scratch:-$DRILL_WORK}" -exec rm -rf {} + 2>>"$SB_LOG" \\
      || log "cannot remove the work directories of earlier drills in $DRILL_WORK"
  fi
}

copies=\${DRILL_SOURCES:-$DRILL_SOURCE}
if [ -z "\${SB_DRILL_OF:-}" ] && [ "$copies" != "$DRILL_SOURCE" ]; then
  # One run of this script per copy, each with the whole drill and none with a heartbeat of its own:
  # this run pings once, and fails when any copy failed (a later success must not hide it).
  heartbeat_start
  exec 8>"$BACKUP_STATE/drill.lock"
  flock -n 8 || die "another restore drill is running on this machine"
  step "preparing"
  drop_earlier_scratch
  passed=() failed=()
  for t in $copies; do
    tv_to label "$t" LABEL
    copy="$t ($label)"
    step "drilling the copy $copy"
    result="$SB_LOG.$t.result"
    at_exit_run rm -f -- "$result"
    rc=0
    # The copy's lines go to the journal and to this run's log (a failure ping shows its last ones).
    # The tee outlives a stop (SIGTERM to every process of the service): the copy's run still writes
    # as it stops and cleans up, and those closing lines belong in the journal and in this run's log.
    # (A group, so that this shell starts the tee and $! names it: the copy's last lines are in the log before it is read.)
    { SB_DRILL_OF=$t SB_DRILL_RESULT=$result "$0" 8>&- {SB_STDERR}>&- {SB_LOG_FD}<&-; } 2> >(exec 8>&-; trap '' TERM INT HUP; exec tee -a "$SB_LOG" >&2) || rc=$?
    wait "$!" 2>/dev/null || true
    # A copy killed before it wrote its result (SIGKILL, the OOM killer) has none: it failed, and its last step is
    # the last one its lines in this run's log name.
    verified=$(sed -n 1p "$result" 2>/dev/null) || verified=''
    at=$(sed -n 2p "$result" 2>/dev/null) || at=''
    outcome=$(sed -n '3,$p' "$result" 2>/dev/null | tr '\\n' ' ') || outcome=''
    outcome=\${outcome% }
    if [ ! -s "$result" ]; then
      at=$(sed -n "s/^[^ ]* $SB_JOB@$t: step: //p" "$SB_LOG" | tail -n 1) || at=''
      if [ "$rc" -gt 128 ]; then
        sig=$(kill -l "$((rc - 128))" 2>/dev/null) && sig=SIG$sig || sig="signal $((rc - 128))"
        outcome="it was killed by $sig before it wrote its result (the OOM killer sends SIGKILL: journalctl -k shows whether it did)"
      fi
    fi
    if [ "$rc" = 0 ] && [ "$verified" = 1 ]; then
      passed+=("$copy: $outcome")
    else
      failed+=("$copy failed at step '\${at:-unknown}' (exit $rc): \${outcome:-it ended without saying why}")
    fi
  done
  step "reporting"
  [ "\${#passed[@]}" -gt 0 ] || [ "\${#failed[@]}" -gt 0 ] || die "no copy of the backups was drilled (DRILL_SOURCES='$copies' in $SB_ETC/drill.conf names none)"
  joined() { local all; [ "$#" -gt 0 ] || { printf none; return; }; all=$(printf '%s; ' "$@"); printf '%s' "\${all%; }"; }
  [ "\${#failed[@]}" = 0 ] || die "the drill failed on \${#failed[@]} of $(wc -w <<<"$copies") copies of $DRILL_FROM_HOST's backups: $(joined "\${failed[@]}"); passed: $(joined "\${passed[@]}")"
  ok "every copy of $DRILL_FROM_HOST's newest backup restored: $(joined "\${passed[@]}")"
  exit 0
fi
# One copy of several drills that copy (see above); a drill of one copy, its source.
t=\${SB_DRILL_OF:-$DRILL_SOURCE}
heartbeat_start

mkdir -p "$DRILL_WORK"
scratch=$(mktemp -d "$DRILL_WORK/drill.XXXXXX")
at_exit_run rm -rf -- "$scratch"
# The repository's restic locks, exclusive ones too (restic_locks), before anything is read. The drill reads without a
# lock (the source's account may be read-only) and removes none (restic unlock would write into production's repository,
# and on a read-only account never succeeds). Beside another machine's check or key change the drill reads what is there;
# beside its prune a read may fail, a pack it was reading removed. So every read of the repository that fails is run
# once more, in a new restic process (read_twice): a prune writes its new index before it deletes packs, and a new
# process reads the index again. A read that fails twice fails the drill, lock or no lock: a corrupt or missing pack, a
# missing snapshot, an unreachable repository are what the drill is there to find. The restorer's own verdicts (a
# checksum, pg_restore, restic restore --verify) are never run again. A stale exclusive lock (a check, a prune or a key
# change killed mid-run): the drill reads past it, saying so (the next job of $DRILL_FROM_HOST that writes to the
# repository removes it).
step "reading the restic locks on $t"
restic_locks writer "$t" "$scratch/locks" exclusive || writer=unknown
read -r state host pid minutes <<<"$writer"
case $state in
  exclusive)
    log "$t: restic pid $pid on $host (its lock refreshed $minutes minutes ago) holds the repository exclusively (a check, a prune or a key change): drilling it all the same" ;;
  stale-exclusive)
    note "a stale exclusive lock of restic pid $pid on $host, last refreshed $minutes minutes ago (a check, a prune or a key change killed mid-run), is on the repository of $t: the drill reads past it, and the next check or prune of the machine that writes to $t removes it before it locks the repository (its next dump or push too, where $host is that machine). Fix, if it stays: run restic unlock on $t from a machine whose account may write (it removes stale locks only)" ;;
esac
# read_again <why> <output> <restic arguments...>: a read of the repository of $t that failed, run once more in a new
# restic process, its output in the file <output> (see above); dies with <why> when it fails again. A repository found
# unreachable (unreached: its lock listing timed out) is not read again: restic_on's notice in the log names the cause.
read_again() {
  local why=$1 out=$2
  shift 2
  [ -z "\${SB_UNREACHABLE[$t]:-}" ] || die "$why: the repository cannot be reached (\${SB_UNREACHABLE[$t]})"
  log "$why: reading once more, in a new restic process (a prune beside the drill may have removed what the first read was reading)"
  restic_on "$t" --no-lock "$@" >"$out" 2>>"$SB_LOG" || die "$why"
}
# read_twice <why> <output> <restic arguments...>: a read of the repository of $t, run once more when it fails (read_again).
read_twice() { restic_on "$t" --no-lock "\${@:3}" >"$2" 2>>"$SB_LOG" || read_again "$@"; }
# The newest backup's manifest is fetched while this machine is prepared: opening the repository
# (deriving the key, reading the index) takes about a second. Its outcome is judged at its step.
restic_on "$t" --no-lock dump --host "$DRILL_FROM_HOST" --tag sovereign-dump --path "$DUMP_MANIFEST" latest "$DUMP_MANIFEST" \\
  >"$scratch/manifest.tar" 2>"$scratch/manifest.err" &
fetch=$!
bg_job "$fetch"

step "preparing"
# (Builtins where they do: on a busy machine every program started waits for a CPU.)
checks=$(shopt -s nullglob; printf '%s\\n' "$SB_ETC"/drill-checks/*.sql)
[ -n "$checks" ] || die "no verification query in $SB_ETC/drill-checks; a drill that checks nothing proves nothing"
# A copy of several runs under the lock of the run that started it, which also dropped the earlier
# drills' scratch databases: the other copies' of this drill stay until the next (when kept).
if [ -z "\${SB_DRILL_OF:-}" ]; then
  exec 8>"$BACKUP_STATE/drill.lock"
  flock -n 8 || die "another restore drill is running on this machine"
  drop_earlier_scratch
fi
# This run's scratch databases are <prefix><run>_<database>: no other run, earlier or killed, has these names.
run_id=$(drill_run_id)

step "fetching the newest backup's manifest of $DRILL_FROM_HOST from $t"
rc=0
wait "$fetch" || rc=$?
cat "$scratch/manifest.err" >>"$SB_LOG"
[ "$rc" = 0 ] || read_again "cannot fetch the newest backup of $DRILL_FROM_HOST from $t (restic dump of its manifest failed)" "$scratch/manifest.tar" \\
  dump --host "$DRILL_FROM_HOST" --tag sovereign-dump --path "$DUMP_MANIFEST" latest "$DUMP_MANIFEST"
[ -s "$scratch/manifest.tar" ] || die "there is no backup of $DRILL_FROM_HOST on $t"
unpack_manifest "$scratch/manifest.tar" "$scratch/manifest" "the newest backup of $DRILL_FROM_HOST on $t"
# The dump's own time: a dump pushed late is as old as the dump, not the push.
age=$(hours_since "$epoch")
# restic's latest is the newest by time: a dump dated ahead hides every newer one until its date.
[ "$age" -ge 0 ] || die "the newest backup of $DRILL_FROM_HOST on $t (stream snapshot \${id:0:8}) holds a dump dated in the future ($stamp): it was taken while a clock ran ahead, so it may be older than the dumps it hides, and whether backups arrive cannot be told. Fix: on $DRILL_FROM_HOST, $(future_fix "$DRILL_FROM_HOST" "$stamp")"
# A dump reaches the repository only when it ends, hours after its timer: a drill that starts while production dumps
# finds the dump before it, past MAX_AGE_HOURS. The repository's restic locks tell whether one runs (restic_locks; the
# drill takes none: the source's account may be read-only): a dump writes under a lock from the moment its stream
# opens, at most DUMP_START_HOURS after its timer (the push timer's delay, the bootstrap, its wait for the repository
# lock), and it has arrived DUMP_IN_PROGRESS_HOURS after its timer (its unit stops it then). With no dump writing, the drill fails DUMP_START_HOURS past the limit, not
# DUMP_IN_PROGRESS_HOURS: a dump that died (killed, a crash) leaves no writer, only a stale lock at most.
late=''
if [ "$age" -ge "$MAX_AGE_HOURS" ]; then
  step "looking for a dump of $DRILL_FROM_HOST in progress on $t (the repository's restic locks)"
  running=\${DUMP_IN_PROGRESS_HOURS:-0}
  starting=\${DUMP_START_HOURS:-$running}
  restic_locks writer "$t" "$scratch/locks" || writer=unknown
  read -r state host pid minutes <<<"$writer"
  older="the newest backup of $DRILL_FROM_HOST holds a dump taken $age hours ago ($stamp; limit $MAX_AGE_HOURS hours)"
  case $state in
    live)
      limit=$((MAX_AGE_HOURS + running))
      [ "$age" -lt "$limit" ] || die "$older: backups are not arriving. A restic process (a backup or a reader) holds a lock on $t now (restic pid $pid on $host, its lock refreshed $minutes minutes ago), but a dump in progress explains a backup at most $running hours past the limit (its unit stops it then): the dumps before it failed or did not run, or this is a push or a job that hangs. Fix: on $DRILL_FROM_HOST, see what the backup jobs did (systemctl list-units 'backup-*'; journalctl -u backup-dump -u backup-push)"
      seen="a restic process (a backup or a reader) holds a lock on $t now (restic pid $pid on $host, its lock refreshed $minutes minutes ago), so a dump of $DRILL_FROM_HOST may be writing" ;;
    unknown)
      limit=$((MAX_AGE_HOURS + running))
      [ "$age" -lt "$limit" ] || die "$older, and $running more for a dump still running: backups are not arriving"
      seen="the locks of $t could not all be read, so a dump of $DRILL_FROM_HOST may be running" ;;
    *)
      limit=$((MAX_AGE_HOURS + starting))
      stale=''
      [ "$state" != stale ] || stale="; a stale lock of restic pid $pid on $host, last refreshed $minutes minutes ago, is what a job killed mid-run leaves"
      [ "$age" -lt "$limit" ] || die "$older, and no dump of $DRILL_FROM_HOST is writing to $t: no backup's restic lock there was refreshed in the last 30 minutes$stale, and a dump writes under one from at most $starting hours after its timer. Backups are not arriving. Fix: on $DRILL_FROM_HOST, see why the dump fails or does not run (systemctl status backup-push.timer backup-dump; journalctl -u backup-dump), then run backup-dump"
      seen="no dump of $DRILL_FROM_HOST writes to $t yet, and one may be starting$stale" ;;
  esac
  late=" (older than the limit of $MAX_AGE_HOURS hours: $seen; the drill fails past $limit)"
  log "$older, past the limit: $seen; drilling this one, up to $limit hours"
fi
step "checking the manifest's index"
check_manifest "$dir"
step "checking the manifest against its checksums"
grep -v '\\.dump$' "$dir/SHA256SUMS" | (cd "$dir" && sha256sum --quiet --strict -c -) >>"$SB_LOG" 2>&1 || die "the restored files do not match their checksums"
step "checking the backup's roles"
globals_complete "$dir/globals.sql" || die "the roles of dump $stamp (globals.sql) are empty or cut off: they lack pg_dumpall's closing line, and a restore of this backup would fail to create the owners of its objects. Fix: on $DRILL_FROM_HOST, free space on the dump directory's disk and run backup-dump (it now refuses to write such a dump)"

declare -A scratch_of
dbs='' i=0 into=() names=() create=() drop=() targets=''
while read -r db _; do
  i=$((i + 1))
  target="$DRILL_DB_PREFIX\${run_id}_$db"
  # PostgreSQL cuts longer names to 63 bytes: a long one gets the dump's number instead.
  [ "\${#target}" -le 63 ] || target="$DRILL_DB_PREFIX\${run_id}_$i"
  scratch_of[$db]=$target
  dbs="$dbs $db"
  into+=("$db=$target")
  names+=(-v "n$i=$target")
  create+=("SELECT format('CREATE DATABASE %I', :'n$i') \\\\gexec")
  # FORCE: a check still reading it when the drill fails must not keep it.
  drop+=("SELECT format('DROP DATABASE IF EXISTS %I WITH (FORCE)', :'n$i') \\\\gexec")
  targets="$targets $target"
done <"$dir/INDEX"
# At the end, in one session; each drop is tried whatever became of the others.
drop_scratch() { printf '%s\\n' "\${drop[@]}" | pg psql -X -q -d postgres "\${names[@]}" >/dev/null 2>&1; }
if [ "\${DRILL_KEEP_DATABASES:-0}" != 1 ]; then at_exit drop_scratch; fi
step "creating the scratch databases$targets"
# One session for all; CREATE DATABASE fails on an existing database: the checks below only ever
# see what this run restored.
create_scratch() {
  log "run: psql: CREATE DATABASE$targets"
  printf '%s\\n' "\${create[@]}" | pg psql -X -q -v ON_ERROR_STOP=1 -d postgres "\${names[@]}" >>"$SB_LOG" 2>&1 \\
    || die "cannot create the scratch databases$targets"
}
create_scratch

step "restoring snapshot \${id:0:8} from $t"
# The restore stops while PostgreSQL's disk keeps DRILL_RESERVE_MB free: a restore that did not fit filled it, and the
# test machine's PostgreSQL stopped and stayed down (its own start needs room), with every later drill failing.
SB_RESTORE_DATA_DIR=$(pg psql -X -q -A -t -v ON_ERROR_STOP=1 -d postgres -c 'SHOW data_directory' 2>>"$SB_LOG") \\
  || die "cannot read PostgreSQL's data directory (SHOW data_directory), whose disk the restore must not fill"
SB_RESTORE_RESERVE=$(( \${DRILL_RESERVE_MB:-0} << 20 ))
SB_RESTORE_FIX="Fix: free space on that disk (df -h $SB_RESTORE_DATA_DIR) or give the test machine's PostgreSQL a larger one: the drill restores every database of the backup, one copy of the backups at a time (each copy's scratch databases are dropped before the next copy, unless DRILL_KEEP_DATABASES=1 in $SB_ETC/drill.conf keeps them all, which needs room for every copy)"
log "restoring snapshot \${id:0:8} (dump $stamp, $age hours old) from $t into$(printf ' %s' "\${into[@]}")"
if ! restore_snapshot "$t" "$id" '' "\${into[@]}"; then
  # A read that failed (see read_twice) is run once more, into scratch databases made anew.
  log "$SB_READ_FAILURE: restoring once more, into new scratch databases, in a new restic process (a prune beside the drill may have removed what the first read was reading)"
  drop_scratch || true
  create_scratch
  restore_snapshot "$t" "$id" '' "\${into[@]}" || die "$SB_READ_FAILURE"
fi

# The table digests and the team's queries read the scratch databases at the same time; each
# outcome is judged at its own step below, in this order.
declare -A digest_pid=() query_pid=()
for db in $dbs; do
  pg psql -X -q -A -t -F '|' -v ON_ERROR_STOP=1 -d "\${scratch_of[$db]}" -f - <"$SB_LIB/table-digest.sql" \\
    >"$scratch/$db.restored" 2>"$scratch/$db.restored.err" &
  digest_pid[$db]=$!
done
i=0
for check in $checks; do
  i=$((i + 1))
  db=$(sed -n '/^-- database: */{s///p;q;}' "$check")
  if [ -n "$db" ] && [ -n "\${scratch_of[$db]:-}" ]; then
    pg psql -X -q -A -t -v ON_ERROR_STOP=1 -d "\${scratch_of[$db]}" -f - <"$check" >"$scratch/check.$i.out" 2>"$scratch/check.$i.err" &
    query_pid[$i]=$!
  fi
done

tables=0 rows=0
for db in $dbs; do
  target=\${scratch_of[$db]}
  step "comparing the row counts and checksums of $target with the dump's"
  rc=0
  wait "\${digest_pid[$db]}" || rc=$?
  cat "$scratch/$db.restored.err" >>"$SB_LOG"
  [ "$rc" = 0 ] || die "cannot compute the table digest of $target"
  if ! diff "$dir/$db.tables" "$scratch/$db.restored" >>"$SB_LOG" 2>&1; then
    die "row counts or checksums of $db differ from the backup (table, rows, checksum; < backup, > restored): $(diff "$dir/$db.tables" "$scratch/$db.restored" | head -n 5 | tr '\\n' ' ')"
  fi
  tables=$((tables + $(wc -l <"$dir/$db.tables")))
  rows=$((rows + $(table_rows "$dir/$db.tables")))
done

passed=0 i=0
for check in $checks; do
  i=$((i + 1))
  name=$(basename "$check" .sql)
  db=$(sed -n '/^-- database: */{s///p;q;}' "$check")
  step "verification query $name on $db"
  [ -n "$db" ] && [ -n "\${scratch_of[$db]:-}" ] || die "verification query $name checks database \${db:-(none named)}, which this backup does not contain (it holds:$dbs)"
  rc=0
  wait "\${query_pid[$i]}" || rc=$?
  cat "$scratch/check.$i.err" >>"$SB_LOG"
  [ "$rc" = 0 ] || die "verification query $name failed on $db"
  result=$(cat "$scratch/check.$i.out")
  [ "$result" = t ] || die "verification query $name returned '$result' instead of true"
  passed=$((passed + 1))
done

# The files of production's paths (backup-push, tag sovereign-files), when its plan backs any up: the newest file
# snapshot, restored into this run's scratch directory with every file read back against the repository (restic restore
# --verify), then held to the record its push wrote (the files and bytes restic read) and to its own listing (every
# entry's type and size). It shares the databases' limits on age: a file backup that stopped fails the drill.
step "finding the newest file snapshot of $DRILL_FROM_HOST on $t"
read_twice "cannot list the snapshots of $DRILL_FROM_HOST on $t, to find its file backups" "$scratch/snapshots.json" \\
  snapshots --json --host "$DRILL_FROM_HOST"
listed=$(<"$scratch/snapshots.json")
fid='' fage='' fpaths='' rid=''
read -r fid fage fpaths < <(newest_snapshot sovereign-files <<<"$listed") || true
read -r rid _ < <(newest_snapshot sovereign-files-record <<<"$listed") || true
if [ -z "$fid" ]; then
  log "$DRILL_FROM_HOST has no file snapshot on $t: its plan backs up no paths"
  files_done=''
else
  [ "$fage" -ge 0 ] || die "the newest file snapshot of $DRILL_FROM_HOST on $t (\${fid:0:8}) is dated in the future: it was taken while a clock ran ahead, so it may be older than the snapshots it hides. Fix: check the clock of $DRILL_FROM_HOST (timedatectl), then forget that snapshot (restic forget \${fid:0:8}) on every target"
  running=\${FILES_IN_PROGRESS_HOURS:-0} unrecorded=''
  [ "$fage" -lt "$((MAX_AGE_HOURS + running))" ] || die "the newest file snapshot of $DRILL_FROM_HOST on $t (\${fid:0:8}, of $fpaths) is $fage hours old (limit $MAX_AGE_HOURS hours, and $running more for a push still running): file backups are not arriving. Fix: see why backup-push on $DRILL_FROM_HOST backs up no files (its heartbeat's failures; journalctl -u backup-push); if its plan no longer backs up paths, forget its file snapshots on every target (restic snapshots --host $DRILL_FROM_HOST --tag sovereign-files lists them)"
  if [ -z "$rid" ]; then
    # Pushes of tooling older than the records wrote none: the snapshot's own listing is all there is to hold it to.
    log "no record of a file snapshot of $DRILL_FROM_HOST on $t (backup-push writes one with each since the drill restores files): file snapshot \${fid:0:8} is held to its own listing only"
  else
    step "fetching the record of file snapshot \${fid:0:8} from $t"
    read_twice "cannot fetch the record of the file snapshots of $DRILL_FROM_HOST from $t (restic dump of snapshot \${rid:0:8} failed)" \\
      "$scratch/files.record" dump "$rid" "$FILES_RECORD"
    rsnap=$(sed -n 's/^snapshot //p' "$scratch/files.record") rn=$(sed -n 's/^files //p' "$scratch/files.record") rbytes=$(sed -n 's/^bytes //p' "$scratch/files.record")
    [[ $rsnap =~ ^[0-9a-f]{8,64}$ && $rn =~ ^[0-9]{1,15}$ && $rbytes =~ ^[0-9]{1,18}$ ]] \\
      || die "the record of the file snapshots of $DRILL_FROM_HOST on $t (snapshot \${rid:0:8}) is not one backup-push writes (snapshot, files and bytes); the remote repository may have been tampered with"
    # A push writes the record after its snapshot, once restic listed the snapshot back (minutes on a large tree): a
    # newest snapshot with no record, younger than a push's run, may be that push's. The newest with a record is drilled.
    rfid='' rfage='' rfpaths='' past=''
    if [ "\${rsnap:0:8}" != "\${fid:0:8}" ] && [ "$fage" -ge "$running" ]; then
      past=", and it is $fage hours old, longer than a push runs ($running hours)"
    elif [ "\${rsnap:0:8}" != "\${fid:0:8}" ]; then
      read -r rfid rfage rfpaths < <(newest_snapshot sovereign-files "$rsnap" <<<"$listed") || true
      if [ -n "$rfid" ] && [ "$rfage" -lt "$((MAX_AGE_HOURS + running))" ]; then
        unrecorded=", the newest with a record: \${fid:0:8} ($fage hours old) has none yet, which its push may be writing"
        log "file snapshot \${fid:0:8} of $DRILL_FROM_HOST on $t has no record yet ($fage hours old: a push may still be writing it, up to $running hours); drilling \${rfid:0:8}, the newest with a record"
        fid=$rfid fage=$rfage fpaths=$rfpaths
      fi
    fi
    [ "\${rsnap:0:8}" = "\${fid:0:8}" ] || die "the newest file snapshot of $DRILL_FROM_HOST on $t (\${fid:0:8}) has no record: the newest record names snapshot \${rsnap:0:8}$past. The push that made it failed before writing the record (its heartbeat reported it), so what it holds cannot be checked. Fix: run backup-push on $DRILL_FROM_HOST (its next file snapshot comes with a record), then the drill again"
  fi

  step "listing file snapshot \${fid:0:8} from $t"
  read_twice "cannot list file snapshot \${fid:0:8} on $t" "$scratch/files.listing" ls --json "$fid"
  need=0
  for p in $fpaths; do
    read -r _ size < <("\${PY[@]}" -c "$SB_FILES_PY" count "$p" <"$scratch/files.listing")
    need=$((need + size))
  done
  # The scratch databases go first (unless kept): on a test machine they are on the same disk, as a rule.
  if [ "\${DRILL_KEEP_DATABASES:-0}" != 1 ]; then drop_scratch || true; fi
  step "checking the room for file snapshot \${fid:0:8} in $DRILL_WORK"
  avail=$(df --output=avail -B1 "$scratch" | tail -n 1 | tr -d ' ')
  reserve=$(( \${DRILL_RESERVE_MB:-0} << 20 ))
  [ "$avail" -ge "$((need + reserve))" ] || die "the files of snapshot \${fid:0:8} ($fpaths) take $(bytes "$need"), and the disk of $DRILL_WORK has $(bytes "$avail") free, of which the drill leaves $(bytes "$reserve") (DRILL_RESERVE_MB) for PostgreSQL when they share it. Fix: free space on that disk (df -h $DRILL_WORK) or give the test machine a larger one"

  step "restoring file snapshot \${fid:0:8} from $t"
  restore_files() { rm -rf "$scratch/files"; run restic_on "$t" --no-lock restore "$fid" --target "$scratch/files" --verify; }
  if ! restore_files; then
    # restic restore --verify reads every restored file back: a file that differs ("Invalid file size", "Unexpected
    # content") is the drill's verdict, not a failed read, unless restic also failed to read (restic 0.14 verifies after
    # a restore with errors too, and the files it could not read then differ as well).
    restore_errors=$(step_output 200 | grep -E '^ignoring error for |^Fatal: ' | grep -v -E '^Fatal: There were [0-9]+ errors' || true)
    if [ -n "$restore_errors" ] && ! grep -v -q -E 'Invalid file size for |Unexpected content in ' <<<"$restore_errors"; then
      die "the files of file snapshot \${fid:0:8} ($fpaths) restored from $t differ from the snapshot (restic restore --verify): $(step_cause 3)"
    fi
    log "restic restore of file snapshot \${fid:0:8} from $t failed: restoring once more, in a new restic process (a prune beside the drill may have removed what the first read was reading)"
    restore_files || die "restic restore of file snapshot \${fid:0:8} ($fpaths) from $t failed: $(step_cause 3)"
  fi
  step "comparing the restored files of snapshot \${fid:0:8} with its record and its listing"
  read -r got_n got_bytes < <(find "$scratch/files" -type f -printf '%s\\n' | awk '{ n++; s += $1 } END { printf "%d %d\\n", n, s }')
  if [ -n "$rid" ] && { [ "$got_n" != "$rn" ] || [ "$got_bytes" != "$rbytes" ]; }; then
    die "file snapshot \${fid:0:8} of $DRILL_FROM_HOST restored $got_n files, $got_bytes bytes from $t, where its push recorded $rn files, $rbytes bytes: the snapshot does not give back what was backed up"
  fi
  held=''
  for p in $fpaths; do
    summary=$("\${PY[@]}" -c "$SB_FILES_PY" compare "$p" "$scratch/files$p" <"$scratch/files.listing" 2>&1) \\
      || die "the files of $p restored from snapshot \${fid:0:8} on $t differ from its listing: $summary"
    held="\${held:+$held, }$p ($summary)"
  done
  files_done="; file snapshot \${fid:0:8} ($fage hours old$unrecorded): $got_n files, $(bytes "$got_bytes") restored and read back\${rid:+, matching the record of its push}: $held"
fi
kept=''
if [ "\${DRILL_KEEP_DATABASES:-0}" = 1 ]; then kept="; kept until the next drill as$(for db in $dbs; do printf ' %s' "\${scratch_of[$db]}"; done)"; fi
ok "restored snapshot \${id:0:8} of $DRILL_FROM_HOST (dump $stamp, $age hours old$late):$(printf ' %s' $(printf '%s\\n' $dbs | sort)); $tables tables and $rows rows match the backup's counts and checksums; $passed verification queries true$kept$files_done"
`;

/**
 * The production restore, run by hand: the newest (or a named) dump of this machine from a target
 * into the live PostgreSQL under the databases' own names, with owners and roles; refuses to drop a
 * database that holds data without --replace; verified against the manifest.
 */
export const BACKUP_RESTORE = `#!/bin/bash
# backup-restore: restores a backup of this machine's databases from a remote target into this
# machine's PostgreSQL, under their own names, with their owners, privileges and settings, and the
# roles (globals) the backup holds. Run it by hand (as root) after a loss:
#   backup-restore [--from <target>] [--snapshot <manifest ID or dump time>] [--database <name>]... [--replace]
# The newest dump of this machine (restic host BACKUP_HOST) is taken unless --snapshot names one.
# It refuses when a database it would restore holds data, listing what it would drop, unless
# --replace is passed. Everything it reads comes from the remote with no cache; the restored
# databases are checked against the dump's checksums, row counts and table checksums. It holds the
# repository lock for the whole run, so no dump runs against a half-restored database; a check or a prune that holds it
# gives way, and any other job holding it fails the restore at once (lock_held_by_hand). It leaves
# RESTORE_RESERVE_MB free on PostgreSQL's disk: it refuses up front when even the dumps do not fit,
# and stops the restore before that disk fills (a server whose disk fills stops, and stays down).
SB_JOB=restore SB_NO_SUCCESS_PING=1 SB_LOCK_BY_HAND=1
. "$(dirname "$(readlink -f "$0")")/../lib/sovereign-backup/common.sh"
# A restore is run by hand: it reports on the terminal, not to the jobs' heartbeat, from its first line on (a failure
# while it reads backup.conf came after that file named the heartbeat).
SB_NO_PINGS=1
usage="usage: backup-restore [--from <target>] [--snapshot <manifest ID or dump time>] [--database <name>]... [--replace]"
restore_arguments "$usage" --database 'a database name' 'a snapshot ID or a dump time' "$@"
load_conf backup.conf
# Everything it reads comes from the remote: a cache would hide corruption there.
SB_NO_CACHE=1
restore_target
if [ -n "$snapshot" ] && ! [[ $snapshot =~ ^[0-9a-f]{8,64}$ || $snapshot =~ ^[0-9]{8}T[0-9]{6}Z$ ]]; then
  die "--snapshot '$snapshot' is neither a snapshot ID (8 to 64 hex digits, from restic snapshots --tag sovereign-dump) nor a dump time such as 20260101T030000Z"
fi
for db in "\${wanted[@]}"; do valid_db_name "$db" || die "--database '$db' is not a database name a dump carries"; done
restore_lock
work=$SB_RUN

step "fetching the manifest of \${snapshot:-the newest dump} of $BACKUP_HOST from $t"
select=(--host "$BACKUP_HOST" --tag sovereign-dump --path "$DUMP_MANIFEST")
if [ -z "$snapshot" ]; then which=latest
else
  if [[ $snapshot =~ Z$ ]]; then
    # One --tag with both: restic takes a snapshot with either of two --tag options, and the newest dump came instead.
    which=latest named=() missing="there is no dump of $BACKUP_HOST taken at $snapshot on $t"
    select=(--host "$BACKUP_HOST" --tag "sovereign-dump,dump-$snapshot" --path "$DUMP_MANIFEST")
  else
    which=$snapshot named=("$snapshot") missing="snapshot $snapshot on $t is not a dump manifest of $BACKUP_HOST"
  fi
  # Looked up first: a dump named by a time that matches none failed as "restic dump failed", naming no cause.
  found=$(restic_on "$t" snapshots --json "\${select[@]}" "\${named[@]}" 2>>"$SB_LOG" | "\${PY[@]}" -c 'import json, sys; print(" ".join(s["id"] for s in json.load(sys.stdin) or []))') \\
    || die "cannot list snapshot $snapshot on $t"
  [ -n "$found" ] || die "$missing. Nothing was changed. Fix: pass --snapshot with one of its dumps, by its ID or the time in its tag dump-<time> (restic snapshots --host $BACKUP_HOST --tag sovereign-dump lists them)"
fi
restic_on "$t" dump "\${select[@]}" "$which" "$DUMP_MANIFEST" >"$work/manifest.tar" 2>>"$SB_LOG" \\
  || die "cannot fetch the manifest of \${snapshot:-the newest dump} of $BACKUP_HOST from $t (restic dump failed)"
[ -s "$work/manifest.tar" ] || die "there is no dump of $BACKUP_HOST\${snapshot:+ matching $snapshot} on $t"
unpack_manifest "$work/manifest.tar" "$work/manifest" "\${snapshot:-the newest dump} of $BACKUP_HOST on $t"
if [ -z "$snapshot" ] && [ "$(hours_since "$epoch")" -lt 0 ]; then
  die "the newest dump of $BACKUP_HOST on $t ($stamp, stream snapshot \${id:0:8}) is dated in the future: it was taken while the clock ran ahead, so it may be older than dumps taken after it. Fix: choose the dump by hand (restic snapshots --host $BACKUP_HOST --tag sovereign-dump lists them) and pass --snapshot <ID or dump time>"
fi
# A dump taken after this restore started ran while it waited for the lock (one that won it and ended within a slice of
# lock_wait): of this machine as it is now, what the restore is meant to replace.
if [ -z "$snapshot" ] && [ "$epoch" -ge "$started" ]; then
  die "the newest dump of $BACKUP_HOST on $t ($stamp, stream snapshot \${id:0:8}) was taken after this restore started, while it waited for the repository lock: it is of this machine as it is now, not the backup to restore. Nothing was changed. Fix: pass --snapshot with the dump to restore (restic snapshots --host $BACKUP_HOST --tag sovereign-dump lists them)"
fi
step "checking the manifest of dump $stamp"
check_manifest "$dir"
grep -v '\\.dump$' "$dir/SHA256SUMS" | (cd "$dir" && sha256sum --quiet --strict -c -) >>"$SB_LOG" 2>&1 || die "the manifest's files do not match their checksums"
globals_complete "$dir/globals.sql" || die "the roles of dump $stamp (globals.sql) are empty or cut off (no closing line of pg_dumpall): restoring would fail to create the owners of its objects. Fix: restore an older dump with --snapshot (restic snapshots --host $BACKUP_HOST --tag sovereign-dump lists them)"
# " app postgres": each name after a space.
all=$(cut -d' ' -f1 "$dir/INDEX" | sed 's/^/ /' | tr -d '\\n')
if [ "\${#wanted[@]}" -gt 0 ]; then
  for db in "\${wanted[@]}"; do [[ "$all " == *" $db "* ]] || die "dump $stamp holds no database $db (it holds:$all)"; done
  dbs=" \${wanted[*]}"
else
  dbs=$all
fi

step "checking the databases on this machine ($PGHOST:$PGPORT)"
existing=$(pg psql -X -q -A -t -v ON_ERROR_STOP=1 -d template1 -c 'SELECT datname FROM pg_database' 2>>"$SB_LOG") \\
  || die "PostgreSQL on this machine ($PGHOST:$PGPORT) is not reachable (is it running?)"
holding='' replaced='' freed=0
for db in $dbs; do
  grep -qxF -- "$db" <<<"$existing" || continue
  # What the database holds: relations outside the system schemas, their estimated rows, its size (what dropping it frees).
  held=$(pg psql -X -q -A -t -F ' ' -v ON_ERROR_STOP=1 -d "$db" -c "SELECT count(*), coalesce(sum(greatest(c.reltuples, 0)), 0)::bigint, pg_database_size(current_database()), pg_size_pretty(pg_database_size(current_database()))
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'" 2>>"$SB_LOG") \\
    || die "cannot read what database $db holds"
  read -r relations rows bytes size <<<"$held"
  freed=$((freed + bytes))
  if [ "$relations" -gt 0 ]; then holding="\${holding:+$holding; }$db ($relations tables, views or sequences, about $rows rows, $size)"
  else replaced="$replaced $db"; fi
done
if [ -n "$holding" ] && [ "$replace" != 1 ]; then
  die "refusing to restore over databases that hold data: restoring would drop $holding. Fix: pass --replace to drop and replace them with dump $stamp (connections to them are closed), or choose other databases with --database"
fi
[ -z "$holding" ] || log "replacing (dropping) $holding"
[ -z "$replaced" ] || log "replacing the empty databases$replaced"

step "checking the room on PostgreSQL's disk"
# The restore stops while PostgreSQL's disk keeps RESTORE_RESERVE_MB free (see SB_STREAM_CHECK_PY): a restore that did
# not fit filled it, and PostgreSQL stopped mid-restore (its write-ahead log full) and stayed down, with the databases
# it replaces already dropped.
SB_RESTORE_DATA_DIR=$(pg psql -X -q -A -t -v ON_ERROR_STOP=1 -d template1 -c 'SHOW data_directory' 2>>"$SB_LOG") \\
  || die "cannot read PostgreSQL's data directory (SHOW data_directory), whose disk the restore must not fill"
SB_RESTORE_RESERVE=$(( \${RESTORE_RESERVE_MB:-0} << 20 ))
# The INDEX holds the dumps' sizes, compressed: restored, the databases take more. So the restore is refused before
# anything is dropped only when even the dumps and the reserve do not fit in what is free once the replaced databases
# are dropped; a disk this machine cannot see (a server elsewhere) is left to the restore's own watch.
dumped=$(awk -v dbs="$dbs " 'index(dbs, " " $1 " ") { s += $2 } END { printf "%d", s }' "$dir/INDEX")
avail=$(df --output=avail -B1 "$SB_RESTORE_DATA_DIR" 2>/dev/null | tail -n 1 | tr -d ' ') || avail=''
if [[ $avail =~ ^[0-9]+$ ]] && [ $((avail + freed)) -lt $((dumped + SB_RESTORE_RESERVE)) ]; then
  die "refusing to restore: the dumps of$dbs take $((dumped >> 20)) MiB (compressed; restored, they take more), and the disk of $SB_RESTORE_DATA_DIR has $((avail >> 20)) MiB free ($(( (avail + freed) >> 20 )) MiB once the databases it replaces are dropped), less than the dumps and the \${RESTORE_RESERVE_MB:-0} MiB the restore leaves free for PostgreSQL (a server whose disk fills stops mid-restore, and starts again only once space is freed by hand). Nothing was dropped. Fix: free space on that disk (df -h $SB_RESTORE_DATA_DIR) or grow the volume it is on, then run backup-restore again"
fi
log "PostgreSQL's disk ($SB_RESTORE_DATA_DIR): \${avail:-unknown (not on this machine)} bytes free, $freed more once the replaced databases are dropped; the dumps take $dumped bytes; the restore leaves $SB_RESTORE_RESERVE free"
SB_RESTORE_FIX="Fix: free space on that disk (df -h $SB_RESTORE_DATA_DIR) or grow the volume it is on, then run backup-restore again with --replace: the databases$dbs were dropped before the restore and are partially restored now (the one it stopped in is cut off, those after it are missing), and --replace drops them again"

step "applying the roles of dump $stamp"
# pg_dumpall --globals-only --no-role-passwords: a role this server has keeps its password and
# gets the backup's attributes; one it lacks is created without a password.
"\${PY[@]}" -c '
import re, sys
for line in open(sys.argv[1]):
    if re.match(r"CREATE ROLE .*;$", line.strip()):
        print("DO $sovereign$ BEGIN %s EXCEPTION WHEN duplicate_object THEN NULL; END $sovereign$;" % line.strip())
    else:
        sys.stdout.write(line)' "$dir/globals.sql" >"$work/globals.sql" || die "cannot read the roles of dump $stamp"
pg psql -X -q -v ON_ERROR_STOP=1 -d template1 -f - <"$work/globals.sql" >>"$SB_LOG" 2>&1 || die "applying the roles (globals.sql) of dump $stamp failed"

step "dropping$dbs"
names=() drop=() into=() i=0
for db in $dbs; do
  i=$((i + 1))
  names+=(-v "n$i=$db")
  drop+=("SELECT format('DROP DATABASE IF EXISTS %I WITH (FORCE)', :'n$i') \\\\gexec")
  into+=("$db=$db")
done
printf '%s\\n' "\${drop[@]}" | pg psql -X -q -v ON_ERROR_STOP=1 -d template1 "\${names[@]}" >>"$SB_LOG" 2>&1 || die "cannot drop$dbs before the restore"

step "restoring snapshot \${id:0:8} (dump $stamp) from $t"
log "restoring$dbs from snapshot \${id:0:8} (dump $stamp) on $t"
restore_snapshot "$t" "$id" template1 "\${into[@]}" || die "$SB_READ_FAILURE"

tables=0 rows=0
for db in $dbs; do
  step "comparing the row counts and checksums of $db with the dump's"
  pg psql -X -q -A -t -F '|' -v ON_ERROR_STOP=1 -d "$db" -f - <"$SB_LIB/table-digest.sql" >"$work/$db.restored" 2>>"$SB_LOG" \\
    || die "cannot compute the table digest of $db"
  if ! diff "$dir/$db.tables" "$work/$db.restored" >>"$SB_LOG" 2>&1; then
    die "row counts or checksums of $db differ from the backup (table, rows, checksum; < backup, > restored): $(diff "$dir/$db.tables" "$work/$db.restored" | head -n 5 | tr '\\n' ' ')"
  fi
  tables=$((tables + $(wc -l <"$dir/$db.tables")))
  rows=$((rows + $(table_rows "$dir/$db.tables")))
done
ok "restored$dbs of $BACKUP_HOST from snapshot \${id:0:8} (dump $stamp) on $t, with their owners and the backup's roles; $tables tables and $rows rows match the backup's counts and checksums\${holding:+; replaced $holding}"
`;

/**
 * The restore of the file paths, run by hand: each path of the plan (or those named) from the newest file snapshot of
 * this machine that holds it (or a named one), read back and compared with the snapshot before it takes the place of
 * what the path held; refuses to replace a path that holds files without --replace.
 */
export const BACKUP_RESTORE_FILES = `#!/bin/bash
# backup-restore-files: restores this machine's file paths (FILE_PATHS of backup.conf: the plan's paths) from a remote
# target, each from the newest file snapshot of this machine (restic host BACKUP_HOST, tag sovereign-files) that holds
# it, or from a named one. Run it by hand (as root) after a loss:
#   backup-restore-files [--from <target>] [--snapshot <ID>] [--path <path>]... [--replace]
# It refuses when a path holds a file with content, naming what it holds, unless --replace is passed (the path then
# holds exactly the snapshot's files: those the snapshot lacks go). Each path is restored into a directory of its own
# inside it (on its disk), read back against the repository (restic restore --verify) and compared with the snapshot's
# listing before it takes the place of what the path held: a restore that fails leaves the path as it was. Everything it
# reads comes from the remote with no cache; it holds the repository lock for the whole run, so no file backup records
# a half-restored path.
SB_JOB=restore-files SB_NO_SUCCESS_PING=1 SB_LOCK_BY_HAND=1
. "$(dirname "$(readlink -f "$0")")/../lib/sovereign-backup/common.sh"
# Run by hand: it reports on the terminal, not to the jobs' heartbeat.
SB_NO_PINGS=1
usage="usage: backup-restore-files [--from <target>] [--snapshot <ID>] [--path <path>]... [--replace]"
restore_arguments "$usage" --path "one of this machine's file paths" 'a snapshot ID' "$@"
load_conf backup.conf
# Everything it reads comes from the remote: a cache would hide corruption there.
SB_NO_CACHE=1
[ -n "\${FILE_PATHS:-}" ] || die "backup.conf names no file paths (FILE_PATHS is empty): this machine's plan backs up no files (its databases come back with backup-restore)"
[ -z "$snapshot" ] || [[ $snapshot =~ ^[0-9a-f]{8,64}$ ]] || die "--snapshot '$snapshot' is not a snapshot ID (8 to 64 hex digits, from restic snapshots --host $BACKUP_HOST --tag sovereign-files)"
for p in "\${wanted[@]}"; do [[ " $FILE_PATHS " == *" $p "* ]] || die "--path '$p' is not one of this machine's file paths ($FILE_PATHS)"; done
paths=\${wanted[*]:-$FILE_PATHS}
# A failure (or a stop) leaves each marker of these paths, this run's or an earlier one's: the report says so.
marked_failure() {
  local p
  [ "$SB_OK" != 1 ] || return 0
  for p in $paths; do
    half_placed "$p" || continue
    SB_FAILURE="\${SB_FAILURE:-the restore failed}. $p is marked as not put in place whole ($(placing_marker "$p")), and backup-push holds it back until a run of $(restore_run - - "$p") succeeds"
  done
}
at_exit marked_failure
# A rerun with neither --snapshot nor --from finishes the restore a marker records (its snapshot, its target): the
# newest snapshot of the first target is another, and the marked path skips the --replace check. With no --path either,
# it restores only the marked paths: the marker's snapshot is not the newest of the others, and may not hold them.
# Named by --path, marked and unmarked together, it refuses: the run was asked for all of them, and the marker's
# snapshot would restore the others from what may be older than their newest.
if [ -z "$snapshot$from" ]; then
  marked_from='' marked_paths=''
  for p in $paths; do
    from_p=$(placed_from "$p")
    [ -n "$from_p" ] || continue
    marked_paths="\${marked_paths:+$marked_paths }$p"
    [ -z "$marked_from" ] || [ "$marked_from" = "$from_p" ] \
      || die "the paths to restore were left half placed by restores of different snapshots or targets ($(for q in $paths; do if [ -n "$(placed_from "$q")" ]; then printf '%s; ' "$(sed -n 2p "$(placing_marker "$q")")"; fi; done)). Nothing was changed. Fix: run $(for q in $paths; do if [ -n "$(placed_from "$q")" ]; then printf '%s; ' "$(restore_run - - "$q")"; fi; done)"
    marked_from=$from_p
  done
  if [ -n "$marked_from" ]; then
    # The others by name: a bare run would take this path again, which then holds files and is refused. A path whose
    # marker records no snapshot is one of them, but its fix is its own (a snapshot chosen, --replace): checked as unmarked, it
    # holds what a restore left half placed.
    others='' unmarked='' emptied=''
    for q in $paths; do
      [[ " $marked_paths " != *" $q "* ]] || continue
      unmarked="$unmarked $q"
      if half_placed "$q"; then emptied="$emptied $q"; else others="$others $q"; fi
    done
    # The others' command (this run's --replace kept; without it, what it would replace said): in the refusal's fix and
    # in the bare rerun's log. Counted here, each unmarked path is walked once for all the commands that name it. Counted
    # before the lock wait: the check over what the paths hold walks each path again once the lock is held (walk_content).
    [ "$replace" = 1 ] || count_content $unmarked
    others_run=\${others:+$(restore_run - - $others)}
    if [ "\${#wanted[@]}" != 0 ] && [ "$marked_paths" != "$paths" ]; then
      die "the paths named mix half placed and unmarked ones: $marked_paths, left half placed by a stopped restore of $(sed -n 2p "$(placing_marker "\${marked_paths%% *}")" 2>/dev/null || true), and$unmarked, with no marker that records a snapshot\${emptied:+ (that of$emptied records none)}. A rerun with neither --snapshot nor --from takes the marker's snapshot and target for every path named, so$unmarked would be restored from that snapshot, not from the newest that holds it (or fail if it holds none). Nothing was changed. Fix: run $(for q in $marked_paths $emptied; do printf '%s; ' "$(restore_run - - "$q")"; done)\${others_run:+then $others_run for the others; }or restore them in one run: all from the marker's snapshot (if it holds them all), $(restore_run "\${marked_from%% *}" "\${marked_from#* }" $paths); or each from its newest snapshot on \${TARGETS%% *}, $(restore_run - "\${TARGETS%% *}" $paths). A command has --replace where this run was given it, where a marked path is given another snapshot than its marker's (as its newest may be), which is refused without it, and in the fix of a path whose marker records no snapshot (what it holds is half placed); where it would also replace the files of an unmarked path this run was not told to replace, the command comes without it and says what it would replace"
    fi
    snapshot=\${marked_from%% *} from=\${marked_from#* }
    if [ "\${#wanted[@]}" = 0 ] && [ "$marked_paths" != "$paths" ]; then
      paths=$marked_paths
      log "restoring only $paths (half placed)\${others_run:+; then run $others_run for the other paths}"
    fi
    log "a marked path: restoring snapshot \${snapshot:0:8} from $from, which the stopped restore was putting in place"
  fi
fi
restore_target
restore_lock

step "choosing the snapshots of $BACKUP_HOST on $t"
listed=$(restic_on "$t" snapshots --json --host "$BACKUP_HOST" --tag sovereign-files --tag sovereign-files-record 2>>"$SB_LOG") \\
  || die "cannot list the file snapshots of $BACKUP_HOST on $t"
declare -A snap_of=() time_of=()
passed_over=''
while read -r p id epoch time skipped; do
  if [ "$id" = - ]; then
    [ -z "$snapshot" ] || die "snapshot $snapshot on $t is not a file snapshot of $BACKUP_HOST that holds $p (restic snapshots --host $BACKUP_HOST --tag sovereign-files lists them, with their paths)"
    die "there is no file snapshot of $BACKUP_HOST that holds $p on $t"
  fi
  # restic's newest by time: one dated ahead hides those taken after it.
  if [ -z "$snapshot" ] && [ "$(hours_since "$epoch")" -lt 0 ]; then
    die "the newest file snapshot of $p on $t (\${id:0:8}, $time UTC) is dated in the future: it was taken while the clock ran ahead, so it may be older than the snapshots taken after it. Fix: choose the snapshot by hand (restic snapshots --host $BACKUP_HOST --tag sovereign-files lists them) and pass --snapshot <ID>"
  fi
  # A snapshot taken after this restore started was made while it waited for the lock (a push that won it and ended
  # within a slice of lock_wait): of this machine as it is now, what the restore is meant to replace.
  if [ -z "$snapshot" ] && [ "$epoch" -ge "$started" ]; then
    die "the newest file snapshot of $p on $t (\${id:0:8}, $time UTC) was taken after this restore started, while it waited for the repository lock: it is of this machine as it is now, not the backup to restore. Nothing was changed. Fix: pass --snapshot with the snapshot to restore (restic snapshots --host $BACKUP_HOST --tag sovereign-files lists them)"
  fi
  snap_of[$p]=$id time_of[$p]=$time
  # A newer snapshot with no record is a push that failed (or one whose record write failed): said, not taken silently.
  [ "$skipped" = - ] || passed_over="\${passed_over:+$passed_over; }for $p, newer snapshot \${skipped:0:8}, which has no record (its push failed before writing one; to restore it, pass --snapshot \${skipped:0:8})"
done < <("\${PY[@]}" -c "$SB_FILES_PY" choose "$snapshot" $paths <<<"$listed")

step "checking what $paths hold on this machine"
holding='' half='' untold=''
for p in $paths; do
  [ ! -e "$p" ] || [ -d "$p" ] || die "$p is not a directory on this machine; move it away, then run backup-restore-files again"
  # What a restore stopped while placing left is neither what the path held nor the snapshot: it is restored again.
  from_p=$(placed_from "$p")
  # A marker that records no snapshot (empty, or cut short) says nothing of what the path holds: checked as usual.
  if half_placed "$p" && [ -z "$from_p" ]; then
    log "$(placing_marker "$p") records no snapshot: $p is checked as if it had no marker"
  elif half_placed "$p"; then
    # Another snapshot or target over it is a choice, as over a path that holds files.
    if [ "$from_p" != "\${snap_of[$p]} $t" ] && [ "$replace" != 1 ]; then
      die "refusing to restore $p from snapshot \${snap_of[$p]:0:8} on $t: $(half_placed_why "$p"), and that is snapshot \${from_p:0:8} on \${from_p#* }. Nothing was changed. Fix: run $(restore_run - - "$p") to finish that restore, or pass --replace to restore the other snapshot over it"
    fi
    log "$(half_placed_why "$p"): restoring it again, whatever it holds"; half="$half $p"; continue
  fi
  # Walked again, not the count from before the lock wait (count_content): an app may have written there since.
  walk_content "$p"
  read -r n size <<<"\${content_of[$p]}"
  # Refused after the loop, with what the other paths hold: --replace, the fix, replaces those too.
  [ -z "\${walk_failed[$p]:-}" ] || [ "$n" != 0 ] || untold="$untold $p"
  [ "$n" = 0 ] || holding="\${holding:+$holding; }$p ($n files with content, $(bytes "$size"))"
done
for p in $FILE_PATHS; do
  [[ " $paths " == *" $p "* ]] || ! half_placed "$p" || note "$(half_placed_why "$p"): it stays so (not restored now), and backup-push does not back it up. Fix: run $(restore_run - - "$p")"
done
stray_markers
if [ -n "$untold" ] && [ "$replace" != 1 ]; then
  case $untold in
    " "*" "*) it=them holds=hold mounts="findmnt -R <path> lists the mounts under each" ;;
    *) it=it holds=holds mounts="findmnt -R$untold lists the mounts under it" ;;
  esac
  die "cannot tell what is in$untold: find failed while walking $it (its errors are above) and counted no file with content\${holding:+, and restoring would also replace what $holding hold}. Nothing was changed. Fix: make all of $it readable to root ($mounts), or pass --replace to restore over whatever $it $holds\${holding:+ and over what the others hold}"
fi
if [ -n "$holding" ] && [ "$replace" != 1 ]; then
  die "refusing to restore over paths that hold files: restoring would replace what $holding hold. Fix: pass --replace to replace it with the snapshot's files (a file the snapshot lacks goes too), or choose other paths with --path"
fi
[ -z "$holding" ] || log "replacing what $holding hold"

# cannot_write <path> <error>: the path cannot be written (or made): fails, naming it, what is unchanged and the fix.
cannot_write() {
  die "cannot write in $1 ($2): the restored files are written there first, beside what it holds. $unchanged. Fix: make $1 writable (a volume mounted read-only after errors: see dmesg, then mount -o remount,rw), then run backup-restore-files again"
}

# unstage <stage>: removes a restore's staging directory at exit, unless its files were being moved into place: then they
# are what is left of the path.
unstage() { [ "$placing" = 1 ] || rm -rf -- "$1"; }

restored='' done_paths=''
for p in $paths; do
  id=\${snap_of[$p]}
  # A failure from here on leaves this path as it was, but the paths before it are restored: the message says which.
  already=\${done_paths:+ (already restored: $done_paths)}
  unchanged="Nothing was changed"
  [ -z "$done_paths" ] || unchanged="$p was not changed$already"
  step "listing snapshot \${id:0:8} on $t"
  restic_on "$t" ls --json "$id" >"$SB_RUN/listing" 2>>"$SB_LOG" || die "cannot list snapshot \${id:0:8} on $t"
  read -r n size < <("\${PY[@]}" -c "$SB_FILES_PY" count "$p" <"$SB_RUN/listing")

  step "checking the room on the disk of $p"
  # The path made where it does not exist yet (a new volume's mount point, a path under it): its parent may not be writable.
  error=$(mkdir -p -- "$p" 2>&1) || cannot_write "$p" "$error"
  # An earlier restore's directory, left when it was killed.
  rm -rf "$p"/.sovereign-restore.*
  avail=$(df --output=avail -B1 "$p" | tail -n 1 | tr -d ' ')
  # The restored files are written beside what the path holds now, which goes only once they are complete.
  [ "$avail" -ge "$size" ] || die "refusing to restore $p: the files of snapshot \${id:0:8} take $(bytes "$size") and its disk has $(bytes "$avail") free (what the path holds now goes only once the restored files are complete). $unchanged. Fix: free space on that disk (df -h $p) or grow the volume it is on, then run backup-restore-files again"

  step "restoring $p from snapshot \${id:0:8} on $t"
  stage=$(mktemp -d "$p/.sovereign-restore.XXXXXX" 2>&1) || cannot_write "$p" "$stage"
  placing=0
  at_exit_run unstage "$stage"
  log "restoring $p from snapshot \${id:0:8} (\${time_of[$p]} UTC) on $t into $stage"
  run restic_on "$t" restore "$id" --target "$stage" --include "$p" --verify \\
    || die "restic restore of $p from snapshot \${id:0:8} on $t failed ($(step_cause 3)); $p is as it was$already"
  step "comparing the restored $p with snapshot \${id:0:8}"
  "\${PY[@]}" -c "$SB_FILES_PY" compare "$p" "$stage$p" <"$SB_RUN/listing" >>"$SB_LOG" 2>&1 \\
    || die "the files restored from snapshot \${id:0:8} differ from its listing: $(step_cause 1); $p is as it was$already"

  step "putting the restored $p in place"
  # The snapshot's time of the path, kept before the moves out of the restored copy and the removal of the work
  # directory (each sets a directory's mtime), and put on the path after them. Before placing: a failure here moved
  # nothing, and the work directory goes.
  touch -r "$stage$p" -- "$SB_RUN/path-time"
  # A path the check counted empty, walked again now: the restore since may have taken hours, and an app may have
  # written there (later paths were checked before the first was restored). Here, not after the marker: past it, the
  # path is marked half placed and a rerun restores it again whatever it holds, so a refusal there would leave the
  # app's files to the next run to replace unasked. What follows before the removal (the marker, two syncs) is short.
  if [ "$replace" != 1 ] && [[ " $half " != *" $p "* ]]; then
    walk_content "$p"
    read -r n size <<<"\${content_of[$p]}"
    if [ "$n" != 0 ] || [ -n "\${walk_failed[$p]:-}" ]; then
      # Each with the snapshot this run took for it: a rerun taking the newest again would take one a backup-push
      # made meanwhile of the app's new files, and restore that.
      rest=''
      after=0
      for q in $paths; do
        [ "$q" != "$p" ] || { after=1; continue; }
        [ "$after" = 0 ] || rest="\${rest:+$rest; }$(restore_run "\${snap_of[$q]}" "$t" "$q")"
      done
      if [ "$n" != 0 ]; then now="now holds $n files with content, $(bytes "$size"), written since (an app may be using it)"
      else now="find failed walking it again (its errors are above), so what was written there since cannot be told"; fi
      die "refusing to put the restored $p in place: it held no file with content when checked, and $now. $unchanged. Fix: stop what writes there, then run $(restore_run "\${snap_of[$p]}" "$t" "$p")\${rest:+, and for the paths not restored yet, $rest}"
    fi
  fi
  marker=$(placing_marker "$p")
  # Written beside it, synced, then renamed over it: a marker an earlier run left (the path half placed) stays whole
  # until this one is on disk, and one not written whole never holds the path back naming no snapshot. The name is
  # outside the markers' pattern.
  { printf '%s\\nsnapshot %s (%s UTC) from %s\\n%s %s\\n' "$p" "\${id:0:8}" "\${time_of[$p]}" "$t" "$id" "$t" >"$BACKUP_STATE/.restore-placing.new" \\
    && sync -- "$BACKUP_STATE/.restore-placing.new" && mv -f -- "$BACKUP_STATE/.restore-placing.new" "$marker"; } 2>>"$SB_LOG" \\
    || { rm -f -- "$BACKUP_STATE/.restore-placing.new" 2>>"$SB_LOG" || true
         die "cannot write $marker, which marks $p as being put in place until it is complete (backup-push does not back up a path left half placed): $(step_cause 1). $unchanged. Fix: free space or inodes on the disk of $BACKUP_STATE (df -h $BACKUP_STATE; df -i $BACKUP_STATE), then run backup-restore-files again"; }
  # Renamed, the marker is this run's, whatever its directory's sync does: the path is unchanged, the marker is not.
  # The fix names the restore of each path after this one too, as this run chose it: a rerun with neither --snapshot
  # nor --from takes the marker's snapshot for them, which may not be theirs.
  # Each command restores this run's choice (its snapshot, its target, its --replace), built from what the run holds,
  # not with restore_run: that reads the marker and walks the path, on the file system that is failing (a read there
  # may hang before this message). Its --replace is this run's: the run got past the check without it, so each path
  # is empty or marked with this choice. Kept in fix_of, the failure report names the same ones.
  if ! sync -- "$BACKUP_STATE" 2>>"$SB_LOG"; then
    rest='' after=0
    for q in $paths; do
      [ "$q" != "$p" ] || after=1
      [ "$after" = 1 ] || continue
      fix_of[$q]="backup-restore-files --path $q --from $t --snapshot \${snap_of[$q]}$([ "$replace" != 1 ] || printf ' --replace')"
      [ "$q" = "$p" ] || rest="\${rest:+$rest; }\${fix_of[$q]}"
    done
    die "cannot sync $BACKUP_STATE after putting $marker in place (it marks $p as being put in place until it is complete; a power loss now may lose it): $(step_cause 1). $p was not changed\${already}, but the marker stays, naming this restore's snapshot \${id:0:8} on $t. Fix: see why $BACKUP_STATE cannot be synced (dmesg; df -h $BACKUP_STATE), then run \${fix_of[$p]}\${rest:+, and for the paths not restored yet, $rest}"
  fi
  placing=1
  find "$p" -mindepth 1 -maxdepth 1 ! -path "$stage" ! -name lost+found -exec rm -rf -- {} +
  find "$stage$p" -mindepth 1 -maxdepth 1 ! -name lost+found -exec mv -t "$p" -- {} +
  chown --reference="$stage$p" -- "$p"
  chmod --reference="$stage$p" -- "$p"
  rm -rf "$stage"
  touch -r "$SB_RUN/path-time" -- "$p"
  placing=0
  step "comparing $p with snapshot \${id:0:8}"
  summary=$("\${PY[@]}" -c "$SB_FILES_PY" compare "$p" "$p" <"$SB_RUN/listing" 2>&1) \\
    || die "after the restore, $p differs from snapshot \${id:0:8}: $summary"
  # Only once the placed files are on disk: a power loss before leaves the marker.
  sync -f -- "$p"
  rm -f -- "$marker"
  sync -- "$BACKUP_STATE"
  log "$p: restored from snapshot \${id:0:8}: $summary"
  done_paths="\${done_paths:+$done_paths, }$p"
  restored="\${restored:+$restored; }$p from snapshot \${id:0:8} (\${time_of[$p]} UTC): $summary"
done
ok "restored the files of $BACKUP_HOST from $t: $restored; read back against the repository and matching the snapshots' listings\${holding:+; replaced what $holding held}\${half:+; restored again what a stopped restore left half placed in$half}\${passed_over:+; passed over $passed_over}"
`;

/**
 * Key rotation after a rollout. The rollout agent keeps every file it replaces under
 * `$SOVEREIGN_PREVIOUS_ROOT` at the same absolute path, then runs this script: for each target
 * whose restic password changed, it adds the new password as a key of the repository and proves it
 * opens the repository; only once that worked on every target does it remove the old keys (a failed
 * rollout puts the old password back, which must still open every repository) and prove the old
 * password no longer opens them.
 */
export const BACKUP_ROTATE_KEYS = `#!/bin/bash
# backup-rotate-keys (after a rollout): for every target of backup.conf whose restic password file
# was replaced with a different password (the rollout agent keeps the replaced file under
# $SOVEREIGN_PREVIOUS_ROOT at the same absolute path), adds the new password as a key with the old
# one and proves the new one opens the repository; then, only when that worked on every target,
# removes the old keys and proves the old password no longer opens them. The repository is never
# re-initialized; a re-run after success changes nothing.
# Passwords travel only through files and pipes: never argv, the environment or the log.
# Failures alert through the push job's heartbeat; success is not a backup, so it pings nothing.
SB_JOB=rotate-keys SB_SLUG=push SB_NO_SUCCESS_PING=1
. "$(dirname "$(readlink -f "$0")")/../lib/sovereign-backup/common.sh"
load_conf backup.conf
# restic_on passes the password with --password-command; these would conflict with it or override it.
unset RESTIC_PASSWORD RESTIC_PASSWORD_FILE RESTIC_PASSWORD_COMMAND RESTIC_KEY_HINT
[ -n "\${SOVEREIGN_PREVIOUS_ROOT:-}" ] || die "SOVEREIGN_PREVIOUS_ROOT is not set: it names where the rollout kept the replaced files, without it the previous restic passwords are unknown"
case $SB_ETC in /*) ;; *) die "the configuration directory $SB_ETC is not an absolute path" ;; esac
PREVIOUS=\${SOVEREIGN_PREVIOUS_ROOT%/}

keys=$(mktemp "\${TMPDIR:-/tmp}/sovereign-backup-keys.XXXXXX")
at_exit_run rm -f -- "$keys"
failures='' rotated='' unchanged=''

# step_failed <target> <step> <reason>: records a target's failure; returns 1.
step_failed() {
  log "$1: $2 failed: $3"
  failures="\${failures:+$failures; }$1: $2 failed: $3"
  return 1
}

# A password file must be base64 of a password restic can use (restic trims surrounding whitespace).
usable_password() {
  local n
  [ -r "$1" ] && n=$(base64 -d "$1" | tr -d '[:space:]' | wc -c) && [ "$n" -gt 0 ]
}

# open_with <target> <password file>: \`restic key list --json\` with that password, into $keys.
# Returns 0 when the password opens the repository, 2 when restic says it is wrong, 1 on any
# other error (restic's last lines in $restic_error).
open_with() {
  local rc=0 command
  # restic_on passes the target's current password; a later --password-command wins. The file's path in the form
  # restic splits back (restic_command_to); a path with none is refused, said (restic_word_to names it).
  restic_command_to command base64 -d "$2" 2>>"$SB_LOG" || { restic_error="restic cannot be given the path $2 in --password-command (it holds both kinds of quote bare, or ends in a backslash); see the log"; return 1; }
  restic_error=$(restic_on "$1" --password-command "$command" --no-lock key list --json 2>&1 >"$keys") || rc=$?
  if [ -n "$restic_error" ]; then printf '%s\\n' "$restic_error" >>"$SB_LOG"; fi
  [ "$rc" = 0 ] && return 0
  [[ $restic_error == *"wrong password or no key found"* ]] && return 2
  restic_error=$(tail -n 3 <<<"\${restic_error:-restic exited with $rc}" | tr '\\n' ' ')
  return 1
}

# The ID of the key the last open_with used (restic marks it current), and the number of keys it listed.
current_key() { "\${PY[@]}" -c 'import json, sys; print(next((k["id"] for k in json.load(open(sys.argv[1])) if k.get("current")), ""))' "$keys"; }
key_count() { "\${PY[@]}" -c 'import json, sys; print(len(json.load(open(sys.argv[1]))))' "$keys"; }

# probe <target> <password file> <step>: sets $key_id to the key the password opens, or to ''
# when restic says the password is wrong; any other outcome fails the step.
probe() {
  local rc=0
  key_id=''
  open_with "$1" "$2" || rc=$?
  case $rc in
    0) key_id=$(current_key) || key_id=''
       [ -n "$key_id" ] || { step_failed "$1" "$3" "restic key list --json names no key in use"; return 1; } ;;
    2) ;;
    *) step_failed "$1" "$3" "$restic_error"; return 1 ;;
  esac
}

# Two phases, because a failed rollout puts the previous password files back (the agent's rollback): no
# previous key may go anywhere until every target opens with the new password. Removing it from one
# target while another could not be reached left that target opening with the new password only, and
# the machine, rolled back to the previous one, failed every backup to it (and a team that set the
# variable back to the previous value, as the failure seemed to ask, locked its repository for good).
declare -A new_key=() old_key=()
prepared=''

# prepare <target>: phase 1. The new password becomes a key of the repository (added with the previous
# password), checked; records new_key/old_key[target] for finish. Removes nothing.
prepare() {
  local t=$1 new old new_id old_id old_command
  new="$SB_ETC/secrets/$t.restic.b64"
  old="$PREVIOUS$new"
  # The previous password's file as --password-command, in the form restic splits back (restic_command_to, as restic_on
  # gives the current one): a quote in the path is kept.
  restic_command_to old_command base64 -d "$old" 2>>"$SB_LOG" \\
    || { step_failed "$t" "reading the previous password" "restic cannot be given the path $old in --password-command: it holds both kinds of quote bare, or ends in a backslash. Fix: set SOVEREIGN_PREVIOUS_ROOT and SOVEREIGN_BACKUP_ETC to paths without them"; return; }
  usable_password "$new" || { step_failed "$t" "reading the new password" "$new is missing, unreadable, not base64 or empty"; return; }
  usable_password "$old" || { step_failed "$t" "reading the previous password" "$old is unreadable, not base64 or empty"; return; }

  log "$t: the restic password changed; trying both passwords on the repository"
  # restic 0.14's key add takes a lock (key list runs with --no-lock), which restic refuses on any exclusive lock, stale
  # or not: a check, a prune or a key change killed mid-run failed every rotation (the deploy rolled back) until a check
  # removed it. The stale locks go first, with the previous password, or with the new one (a rotation that stopped had
  # added it).
  unlock_stale "$t" --password-command "$old_command" || unlock_stale "$t" \\
    || log "$t: restic unlock failed with both passwords: a stale exclusive lock, if any, fails the steps below, which name it"
  probe "$t" "$new" "opening the repository with the new password" || return
  new_id=$key_id
  probe "$t" "$old" "opening the repository with the previous password" || return
  old_id=$key_id

  if [ -z "$new_id" ] && [ -z "$old_id" ]; then
    step_failed "$t" "opening the repository" "neither the new nor the previous restic password opens the repository (restic: wrong password or no key found); nothing was changed. Set the restic password variable back to the value that opens this repository and deploy again, then change it again; or add the new password by hand with restic key add"
    return
  fi
  if [ -z "$old_id" ]; then
    log "$t: the new password opens the repository (key $new_id) and the previous one does not: already rotated"
    unchanged="$unchanged $t"; return 0
  fi
  if [ "$new_id" = "$old_id" ]; then
    log "$t: both files hold the same password for restic (key $new_id): nothing to rotate"
    unchanged="$unchanged $t"; return 0
  fi

  if [ -z "$new_id" ]; then
    log "$t: adding the new password as a key, with the previous password (key $old_id)"
    run restic_on "$t" --password-command "$old_command" key add --new-password-file <(base64 -d "$new") \\
      || { step_failed "$t" "adding the new password as a key (restic key add)" "$(step_cause 3) (the repository still opens with the previous password only)"; return; }
    probe "$t" "$new" "verifying the new key" || return
    new_id=$key_id
    [ -n "$new_id" ] || { step_failed "$t" "verifying the new key" "the new password does not open the repository after restic key add; the previous password still does"; return; }
    log "$t: the new password opens the repository (key $new_id)"
  else
    log "$t: the new password (key $new_id) and the previous one (key $old_id) both open the repository: an earlier rotation stopped before removing the old key"
  fi
  new_key[$t]=$new_id old_key[$t]=$old_id
  prepared="$prepared $t"
}

# finish <target>: phase 2, once every target opens with the new password. restic refuses to remove
# the key in use, so the old key goes with the new password. Several keys may hold the old password
# (keys added by hand): each goes until the old password opens nothing.
finish() {
  local t=$1 new old new_id=\${new_key[$1]} old_id=\${old_key[$1]} i
  new="$SB_ETC/secrets/$t.restic.b64"
  old="$PREVIOUS$new"
  # restic key remove takes the repository's exclusive lock: a stale lock (a job killed mid-run) would refuse it.
  unlock_stale "$t" || { step_failed "$t" "removing stale locks (restic unlock)" "$(step_cause 3)"; return; }
  for i in 1 2 3 4 5; do
    log "$t: removing the previous password's key $old_id"
    run restic_on "$t" key remove "$old_id" \\
      || { step_failed "$t" "removing the previous key $old_id (restic key remove)" "$(step_cause 3) (both passwords open the repository, run this script again)"; return; }
    probe "$t" "$old" "verifying the previous password no longer opens the repository" || return
    old_id=$key_id
    [ -n "$old_id" ] || break
    [ "$old_id" != "$new_id" ] || { step_failed "$t" "verifying the previous password no longer opens the repository" "it opens the new key $new_id"; return; }
  done
  [ -z "$old_id" ] || { step_failed "$t" "verifying the previous password no longer opens the repository" "it still opens key $old_id after removing $i keys"; return; }
  probe "$t" "$new" "verifying the new key after removing the old one" || return
  [ -n "$key_id" ] || { step_failed "$t" "verifying the new key after removing the old one" "the new password no longer opens the repository"; return; }
  log "$t: restic key rotated: the new password opens the repository (key $key_id, $(key_count) key(s) in all), the previous one no longer does"
  rotated="$rotated $t"
}

# unchanged_password <target>: the rollout replaced no restic password file of the target, or replaced it with the same
# password (logged, and counted unchanged); returns 1 when the target may need a rotation, which prepare decides.
unchanged_password() {
  local t=$1 new old
  new="$SB_ETC/secrets/$t.restic.b64"
  old="$PREVIOUS$new"
  if [ ! -e "$old" ]; then log "$t: no previous restic password file ($old): nothing to rotate"; unchanged="$unchanged $t"; return 0; fi
  usable_password "$new" && usable_password "$old" || return 1
  if cmp -s "$old" "$new" || cmp -s <(base64 -d "$old") <(base64 -d "$new"); then
    log "$t: the restic password did not change: nothing to rotate"; unchanged="$unchanged $t"; return 0
  fi
  return 1
}

changed=''
for t in $TARGETS; do
  unchanged_password "$t" || changed="$changed $t"
done
# Only a changed password needs the repositories, and the repository lock. The rollout runs this script whenever the
# backup tooling changes, nearly always with no password changed: waiting for the lock then held the deploy for as long
# as a dump or a check ran (hours), past the agent's 30 minutes for a command, and the deploy failed and rolled back.
# It waits ROTATE_LOCK_WAIT_SECONDS, less than the agent gives a command (which then stops it and rolls back without
# a word of why), so that the failure names the job it waited for.
if [ -n "$changed" ]; then
  step "waiting for the repository lock"
  repo_lock "\${ROTATE_LOCK_WAIT_SECONDS:-1200}" "deploy again once it has ended (a dump or push runs up to 6 hours, a check up to 12: systemctl list-units 'backup-*'). The rollout rolls back, and the machine keeps the previous restic password, which still opens every repository"
fi
for t in $changed; do
  prepare "$t" || true
done
if [ -n "$failures" ]; then
  die "restic key rotation failed for $failures. No previous key was removed from any repository: the previous password opens every repository it opened before (the machine keeps it when the rollout fails); a new key added to\${prepared:- no repository} stays, and the next deploy with the new password finishes the rotation"
fi
for t in $prepared; do
  finish "$t" || true
done
if [ -n "$failures" ]; then
  die "restic key rotation failed for $failures. The new password opens every repository; the previous one no longer opens\${rotated:- none of them}. Do not set the restic password variable back to the previous value: deploy again with the new one, which removes the previous keys left"
fi
# In the order of TARGETS: the targets with no new password are found before the others are looked at.
unchanged=$(for t in $TARGETS; do [[ " $unchanged " != *" $t "* ]] || printf ' %s' "$t"; done)
ok "restic keys rotated:\${rotated:- none}; unchanged:\${unchanged:- none}"
`;
