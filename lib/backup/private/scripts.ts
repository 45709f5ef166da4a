// The on-machine tooling: bash scripts and SQL, kept as string constants so that the compiled
// library carries them. Rendered into cloud-init by BackupPlan and RestoreDrill, and run as they
// are by the end-to-end suite (__tests__/backup/e2e). Paths and hosts come from the configuration
// files, never from the scripts.

/** Functions shared by every job: logging, the exit trap that pings the heartbeat, restic per target. */
export const COMMON = `# sovereign-backup: functions shared by the jobs (sourced, never run).
# Every job logs each step, exits non-zero on any failure, pings <heartbeat>/<host>-<job>/fail,
# and pings success only after it called ok() on a verified result.
set -Eeuo pipefail
umask 077
export LC_ALL=C
SB_ETC=\${SOVEREIGN_BACKUP_ETC:-\${SOVEREIGN_ROOT:-}/etc/sovereign-backup}
SB_LIB=$(dirname "$(readlink -f "\${BASH_SOURCE[0]}")")
PY=/usr/bin/python3
SB_OK=0 SB_SUMMARY='' SB_FAILURE='' SB_CLEANUP=()
SB_LOG=$(mktemp "\${TMPDIR:-/tmp}/sovereign-backup.XXXXXX")

log() { printf '%s %s: %s\\n' "$(date -u +%FT%T.%3NZ)" "$SB_JOB" "$*" | tee -a "$SB_LOG" >&2; }
die() { SB_FAILURE="$*"; log "FAILED: $*"; exit 1; }
ok() { SB_OK=1; SB_SUMMARY="$*"; }
at_exit() { SB_CLEANUP+=("$1"); }
# Runs a command with its output in the log; returns its exit code.
run() { log "run: $*"; "$@" >>"$SB_LOG" 2>&1; }

sb_exit() {
  local rc=$? c
  trap - EXIT ERR
  set +e
  for c in "\${SB_CLEANUP[@]}"; do eval "$c"; done
  if [ "$rc" = 0 ] && [ "$SB_OK" = 1 ]; then
    log "OK: $SB_SUMMARY"
    if [ -z "\${SB_NO_SUCCESS_PING:-}" ]; then
      printf '%s\\n' "$SB_SUMMARY" | heartbeat "" || log "could not report success to the heartbeat"
    fi
  else
    if [ "$rc" = 0 ]; then rc=1; SB_FAILURE='the job ended without verifying its result'; fi
    log "FAILED (exit $rc): \${SB_FAILURE:-see the log}"
    printf -- '--- last lines of the log ---\\n%s\\n' "$(tail -n 30 "$SB_LOG")" >&2
    { printf '%s\\n\\n' "\${SB_FAILURE:-exit $rc}"; tail -n 80 "$SB_LOG"; } | heartbeat /fail || log "could not report the failure to the heartbeat"
  fi
  rm -f "$SB_LOG"
  exit "$rc"
}
trap sb_exit EXIT
trap 'SB_RC=$?; [ -n "$SB_FAILURE" ] || SB_FAILURE="line $LINENO: $BASH_COMMAND (exit $SB_RC)"' ERR
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
  if [ -z "\${HEARTBEAT:-}" ]; then cat >/dev/null; return 0; fi
  if [ ! -r "$file" ]; then cat >/dev/null; log "the heartbeat URL file $file is missing"; return 1; fi
  url="$(base64 -d "$file")/\${BACKUP_HOST:-unknown}-\${SB_SLUG:-$SB_JOB}$1"
  SB_PING_URL=$url "$PY" -c "$SB_PING_PY"
}

load_conf() {
  [ -r "$SB_ETC/$1" ] || die "configuration $SB_ETC/$1 is missing"
  . "$SB_ETC/$1"
  export PGHOST="\${PG_HOST:-/var/run/postgresql}" PGPORT="\${PG_PORT:-5432}"
  if [ -n "\${PG_USER:-}" ]; then export PGUSER="$PG_USER"; fi
}

# One job at a time touches the repositories of this machine (prune needs them to itself).
repo_lock() {
  mkdir -p "$BACKUP_STATE"
  exec 9>"$BACKUP_STATE/repository.lock"
  flock -w 3600 9 || die "another backup job has held the repository lock for an hour"
}

# Per-target settings are <target>_<NAME> variables of the configuration.
tv() { local n="\${1}_$2"; printf '%s' "\${!n:-}"; }

ssh_options() {
  local t=$1 o
  o="-F /dev/null -o Port=$(tv "$t" PORT) -o User=$(tv "$t" USER) -o HostKeyAlias=sovereign-$t"
  o="$o -o UserKnownHostsFile=$SB_ETC/ssh/known_hosts.$t -o StrictHostKeyChecking=$(tv "$t" HOSTKEYS)"
  o="$o -o ConnectTimeout=20 -o ServerAliveInterval=15 -o ServerAliveCountMax=4 -o LogLevel=ERROR"
  if [ "$(tv "$t" AUTH)" = password ]; then
    printf '%s' "$o -o PreferredAuthentications=password -o PubkeyAuthentication=no -o NumberOfPasswordPrompts=1"
  else
    printf '%s' "$o -o BatchMode=yes -o IdentitiesOnly=yes -o PreferredAuthentications=publickey -i $SB_ETC/ssh/id_ed25519"
  fi
}

ensure_key() {
  mkdir -p "$SB_ETC/ssh"
  [ -s "$SB_ETC/ssh/id_ed25519" ] && return 0
  log "generating this machine's backup SSH key"
  ssh-keygen -q -t ed25519 -N '' -C "sovereign-backup@\${BACKUP_HOST:-unknown}" -f "$SB_ETC/ssh/id_ed25519"
}

# restic_on <target> <restic arguments...>: restic against one target's repository.
restic_on() {
  local t=$1 pw
  shift
  pw="$SB_ETC/secrets/$t.restic.b64"
  [ -r "$pw" ] || { log "the restic password of $t is missing ($pw)"; return 1; }
  mkdir -p "$BACKUP_STATE/cache"
  set -- --cache-dir "$BACKUP_STATE/cache" --password-command "base64 -d $pw" "$@"
  case "$(tv "$t" KIND)" in
    sftp)
      if [ "$(tv "$t" AUTH)" != password ]; then ensure_key || return 1; fi
      SSH_ASKPASS="$SB_LIB/askpass" SSH_ASKPASS_REQUIRE=force SB_ASKPASS_FILE="$SB_ETC/secrets/$t.password.b64" \\
        restic -o sftp.command="ssh $(ssh_options "$t") $(tv "$t" HOST) -s sftp" \\
        -r "sftp:$(tv "$t" USER)@$(tv "$t" HOST):$(tv "$t" REPO_PATH)" "$@" ;;
    s3)
      (
        . "$SB_ETC/secrets/$t.s3.env"
        AWS_ACCESS_KEY_ID=$(printf %s "$ACCESS_KEY_ID_B64" | base64 -d)
        AWS_SECRET_ACCESS_KEY=$(printf %s "$SECRET_ACCESS_KEY_B64" | base64 -d)
        export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
        exec restic -r "s3:$(printf %s "$ENDPOINT_B64" | base64 -d)/$(printf %s "$BUCKET_B64" | base64 -d)/$(tv "$t" REPO_PATH)" "$@"
      ) ;;
    *) log "target $t has no known kind"; return 1 ;;
  esac
}

# Reads \`restic snapshots --json\`; prints "<id> <age in hours> <path>" of the newest snapshot, or nothing.
newest_snapshot() {
  "$PY" -c '
import json, re, sys, time
from datetime import datetime
snaps = json.load(sys.stdin) or []
def epoch(t):
    return datetime.fromisoformat(re.sub(r"(\\.\\d{6})\\d*", r"\\1", t)).timestamp()
if snaps:
    s = max(snaps, key=lambda s: epoch(s["time"]))
    print(s["id"], int((time.time() - epoch(s["time"])) // 3600), s["paths"][0])
'
}

# Runs a PostgreSQL client as the database's OS user (peer authentication on Debian).
pg() { if [ -n "\${PG_OS_USER:-}" ]; then runuser -u "$PG_OS_USER" -- "$@"; else "$@"; fi; }
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
SB_JOB=bootstrap SB_SLUG=push SB_NO_SUCCESS_PING=1
. "$(dirname "$(readlink -f "$0")")/../lib/sovereign-backup/common.sh"
load_conf backup.conf
repo_lock

for t in $TARGETS; do
  if [ "$(tv "$t" KIND)" = sftp ] && [ "$(tv "$t" AUTH)" = key ]; then
    ensure_key
    # shellcheck disable=SC2046
    if ! sftp -b /dev/null $(ssh_options "$t") "$(tv "$t" HOST)" >>"$SB_LOG" 2>&1; then
      [ -r "$SB_ETC/secrets/$t.password.b64" ] || die "the key does not work on $t and there is no password to install it"
      log "installing this machine's key on $t"
      # shellcheck disable=SC2046
      SSH_ASKPASS="$SB_LIB/askpass" SSH_ASKPASS_REQUIRE=force SB_ASKPASS_FILE="$SB_ETC/secrets/$t.password.b64" \\
        ssh $(ssh_options "$t" | sed 's/-o BatchMode=yes//; s/PreferredAuthentications=publickey/PreferredAuthentications=password/') \\
        "$(tv "$t" HOST)" install-ssh-key <"$SB_ETC/ssh/id_ed25519.pub" >>"$SB_LOG" 2>&1 || die "install-ssh-key on $t failed"
      # shellcheck disable=SC2046
      sftp -b /dev/null $(ssh_options "$t") "$(tv "$t" HOST)" >>"$SB_LOG" 2>&1 || die "the key still does not work on $t"
    fi
  fi
  if restic_on "$t" cat config >/dev/null 2>>"$SB_LOG"; then
    log "$t: repository exists and opens"
  else
    # init refuses to overwrite an existing repository, so a wrong password fails here instead.
    run restic_on "$t" init || die "cannot initialize the repository on $t (if it exists, the password is wrong)"
    log "$t: repository initialized"
  fi
done
ok "bootstrapped $TARGETS"
`;

/** The dump job. */
export const BACKUP_DUMP = `#!/bin/bash
# backup-dump: dumps every PostgreSQL database into a new dated directory with row counts and
# checksums taken in the same snapshot, verifies the dump by reading it back, keeps LOCAL_COPIES.
SB_JOB=dump
. "$(dirname "$(readlink -f "$0")")/../lib/sovereign-backup/common.sh"
load_conf backup.conf
heartbeat /start </dev/null || true

stamp=$(date -u +%Y%m%dT%H%M%SZ)
work="$DUMP_DIR/.partial-$stamp"
mkdir -p "$DUMP_DIR"
rm -rf "$DUMP_DIR"/.partial-*
mkdir -m 0700 "$work"
at_exit "rm -rf '$work'"

if [ -n "\${PG_DATABASES:-}" ]; then
  dbs=$PG_DATABASES
else
  dbs=$(pg psql -X -A -t -v ON_ERROR_STOP=1 -d postgres \\
    -c "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1" 2>>"$SB_LOG") \\
    || die "cannot list the databases on $PGHOST:$PGPORT (is PostgreSQL running?)"
fi
[ -n "$dbs" ] || die "there is no database to dump"

for db in $dbs; do
  [[ $db =~ ^[A-Za-z0-9_.-]+$ ]] || die "database name '$db' has characters the dump files cannot carry"
  log "dumping $db"
  # One session exports a snapshot: pg_dump and the table digest both read exactly that state.
  coproc SESSION { pg psql -X -q -A -t -F '|' -v ON_ERROR_STOP=1 -d "$db" 2>&1; }
  printf '%s\\n' 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;' 'SELECT pg_export_snapshot();' >&"\${SESSION[1]}"
  snapshot=''
  read -r -t 60 snapshot <&"\${SESSION[0]}" || true
  [[ $snapshot =~ ^[0-9A-F]+-[0-9A-F]+-[0-9]+$ ]] || die "cannot open a snapshot of $db: \${snapshot:-no answer from PostgreSQL}"
  pg pg_dump -Fc --snapshot="$snapshot" -d "$db" >"$work/$db.dump" 2>>"$SB_LOG" || die "pg_dump of $db failed"
  { cat "$SB_LIB/table-digest.sql"; printf '%s\\n' '\\echo __END__'; } >&"\${SESSION[1]}"
  complete=0
  while IFS= read -r -t 3600 line <&"\${SESSION[0]}"; do
    if [ "$line" = __END__ ]; then complete=1; break; fi
    [[ $line =~ ^[^|]+\\|[0-9]+\\|-?[0-9]+$ ]] || die "table digest of $db failed: $line"
    printf '%s\\n' "$line"
  done >"$work/$db.tables"
  [ "$complete" = 1 ] || die "table digest of $db ended early"
  printf '%s\\n' 'COMMIT;' '\\q' >&"\${SESSION[1]}"
  wait "$SESSION_PID" || die "the snapshot session of $db failed"
  log "verifying the dump of $db"
  pg_restore --file=/dev/null "$work/$db.dump" 2>>"$SB_LOG" || die "the dump of $db does not read back completely"
done
pg pg_dumpall --globals-only --no-role-passwords >"$work/globals.sql" 2>>"$SB_LOG" || die "pg_dumpall --globals-only failed"
(cd "$work" && sha256sum -- *.dump *.tables globals.sql >SHA256SUMS) || die "cannot write checksums"
sync "$work"/* "$work"
mv "$work" "$DUMP_DIR/$stamp"
sync "$DUMP_DIR"

# Local retention: the newest LOCAL_COPIES dumps stay.
find "$DUMP_DIR" -mindepth 1 -maxdepth 1 -type d -name '2*Z' | sort -r | tail -n "+$((LOCAL_COPIES + 1))" | xargs -r rm -rf --
kept=$(find "$DUMP_DIR" -mindepth 1 -maxdepth 1 -type d -name '2*Z' | wc -l)
ok "dumped $(echo $dbs) into $DUMP_DIR/$stamp ($(du -sh "$DUMP_DIR/$stamp" | cut -f1)), verified; $kept local copies"
`;

/** The push job. */
export const BACKUP_PUSH = `#!/bin/bash
# backup-push: copies the newest verified dump (and the file paths) to every remote target, then
# reads each copy back from the target to prove it is there.
SB_JOB=push
. "$(dirname "$(readlink -f "$0")")/../lib/sovereign-backup/common.sh"
load_conf backup.conf
repo_lock
heartbeat /start </dev/null || true

# Prints the snapshot ID from \`restic backup --json\` output.
snapshot_id() {
  "$PY" -c '
import json, sys
ids = [m.get("snapshot_id", "") for m in map(json.loads, filter(None, sys.stdin.read().splitlines())) if m.get("message_type") == "summary"]
print(ids[-1] if ids else "")'
}

latest=''
if [ -n "\${DUMP_DIR:-}" ]; then
  latest=$(find "$DUMP_DIR" -mindepth 1 -maxdepth 1 -type d -name '2*Z' | sort | tail -n 1)
  [ -n "$latest" ] || die "no completed dump in $DUMP_DIR"
  stamp=$(basename "$latest")
  taken=$(date -u -d "$(sed -E 's/^(....)(..)(..)T(..)(..)(..)Z$/\\1-\\2-\\3 \\4:\\5:\\6/' <<<"$stamp")" +%s) || die "cannot read the time of dump $stamp"
  age=$(( ($(date +%s) - taken) / 3600 ))
  [ "$age" -lt "$MAX_AGE_HOURS" ] || die "the newest dump ($stamp) is $age hours old, the limit is $MAX_AGE_HOURS; the dump job is failing"
  (cd "$latest" && sha256sum --quiet --strict -c SHA256SUMS) >>"$SB_LOG" 2>&1 || die "dump $stamp no longer matches its checksums"
fi

failed=''
for t in $TARGETS; do
  log "pushing to $t"
  if [ -n "$latest" ]; then
    out=$(restic_on "$t" backup --json --host "$BACKUP_HOST" --tag sovereign-dump "$latest" 2>>"$SB_LOG") \\
      || { log "backup of $stamp to $t failed"; failed="$failed $t"; continue; }
    snap=$(snapshot_id <<<"$out")
    if [ -z "$snap" ] || ! restic_on "$t" dump "$snap" "$latest/SHA256SUMS" 2>>"$SB_LOG" | cmp -s - "$latest/SHA256SUMS"; then
      log "snapshot \${snap:-?} on $t does not read back as dump $stamp"; failed="$failed $t"; continue
    fi
    log "dump $stamp is snapshot $snap on $t, read back"
  fi
  if [ -n "\${FILE_PATHS:-}" ]; then
    # shellcheck disable=SC2086
    out=$(restic_on "$t" backup --json --host "$BACKUP_HOST" --tag sovereign-files $FILE_PATHS 2>>"$SB_LOG") \\
      || { log "file backup to $t failed"; failed="$failed $t"; continue; }
    snap=$(snapshot_id <<<"$out")
    if [ -z "$snap" ] || ! restic_on "$t" ls "$snap" >/dev/null 2>>"$SB_LOG"; then
      log "file snapshot \${snap:-?} on $t cannot be listed"; failed="$failed $t"; continue
    fi
    log "files ($FILE_PATHS) are snapshot $snap on $t"
  fi
done
[ -z "$failed" ] || die "push failed for:$failed"
ok "pushed\${latest:+ dump $stamp}\${FILE_PATHS:+ and $FILE_PATHS} to $TARGETS, read back from each"
`;

/** The prune job. */
export const BACKUP_PRUNE = `#!/bin/bash
# backup-prune: applies the retention policy on every target and proves that backups remain.
SB_JOB=prune
. "$(dirname "$(readlink -f "$0")")/../lib/sovereign-backup/common.sh"
load_conf backup.conf
repo_lock
heartbeat /start </dev/null || true

failed=''
for t in $TARGETS; do
  for tag in $TAGS; do
    # Grouped by host and tags: each dump has its own path, and the default grouping by path would keep them all.
    # shellcheck disable=SC2086
    if ! run restic_on "$t" forget --host "$BACKUP_HOST" --tag "$tag" --group-by host,tags $KEEP --prune; then
      log "prune of $tag on $t failed"; failed="$failed $t"; continue
    fi
    left=$(restic_on "$t" snapshots --json --host "$BACKUP_HOST" --tag "$tag" 2>>"$SB_LOG" | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin) or []))') || left=0
    if [ "$left" -lt 1 ]; then log "no $tag snapshot left on $t"; failed="$failed $t"; continue; fi
    log "$t keeps $left $tag snapshots ($KEEP)"
  done
done
[ -z "$failed" ] || die "prune failed for:$failed"
ok "pruned $TARGETS with $KEEP"
`;

/** The check job. */
export const BACKUP_CHECK = `#!/bin/bash
# backup-check: restic check with a read-data subset on every target, and the newest backup's age.
SB_JOB=check
. "$(dirname "$(readlink -f "$0")")/../lib/sovereign-backup/common.sh"
load_conf backup.conf
repo_lock
heartbeat /start </dev/null || true

failed=''
for t in $TARGETS; do
  if ! run restic_on "$t" check --read-data-subset="$CHECK_READ_PERCENT%"; then
    log "restic check of $t failed"; failed="$failed $t"; continue
  fi
  for tag in $TAGS; do
    read -r id age _ < <(restic_on "$t" snapshots --json --host "$BACKUP_HOST" --tag "$tag" 2>>"$SB_LOG" | newest_snapshot) || true
    if [ -z "\${id:-}" ]; then log "no $tag snapshot of $BACKUP_HOST on $t"; failed="$failed $t"; continue; fi
    if [ "$age" -ge "$MAX_AGE_HOURS" ]; then log "the newest $tag snapshot on $t is $age hours old (limit $MAX_AGE_HOURS)"; failed="$failed $t"; continue; fi
    log "$t: repository sound ($CHECK_READ_PERCENT% of data read), newest $tag snapshot \${id:0:8} is $age hours old"
  done
done
[ -z "$failed" ] || die "check failed for:$failed"
ok "checked $TARGETS: repositories sound, $CHECK_READ_PERCENT% of the data read, backups fresh"
`;

/** The restore drill. */
export const RESTORE_DRILL = `#!/bin/bash
# restore-drill: fetches the newest production backup from the remote target, restores it into
# scratch databases, and verifies row counts, checksums and the team's SQL checks.
SB_JOB=restore-drill
. "$(dirname "$(readlink -f "$0")")/../lib/sovereign-backup/common.sh"
load_conf drill.conf
heartbeat /start </dev/null || true

checks=$(find "$SB_ETC/drill-checks" -maxdepth 1 -name '*.sql' 2>/dev/null | sort)
[ -n "$checks" ] || die "no verification query in $SB_ETC/drill-checks; a drill that checks nothing proves nothing"
# Fail before fetching gigabytes when the scratch databases cannot be created anyway.
pg psql -X -q -A -t -d postgres -c 'SELECT 1' >/dev/null 2>>"$SB_LOG" \\
  || die "PostgreSQL on this machine ($PGHOST:$PGPORT) is not reachable for the scratch databases"
mkdir -p "$DRILL_WORK"
scratch=$(mktemp -d "$DRILL_WORK/drill.XXXXXX")
at_exit "rm -rf '$scratch'"

t=$DRILL_SOURCE
json=$(restic_on "$t" --no-lock snapshots --json --host "$DRILL_FROM_HOST" --tag sovereign-dump 2>>"$SB_LOG") \\
  || die "cannot list the backups of $DRILL_FROM_HOST on $t"
read -r id age path < <(newest_snapshot <<<"$json") || true
[ -n "\${id:-}" ] || die "there is no backup of $DRILL_FROM_HOST on $t"
[ "$age" -lt "$MAX_AGE_HOURS" ] || die "the newest backup of $DRILL_FROM_HOST is $age hours old (limit $MAX_AGE_HOURS): backups are not arriving"
log "restoring snapshot \${id:0:8} ($age hours old) from $t"
run restic_on "$t" --no-lock restore "$id" --target "$scratch" || die "restic restore of \${id:0:8} from $t failed"
dir="$scratch$path"
[ -s "$dir/SHA256SUMS" ] || die "the restored backup has no SHA256SUMS"
(cd "$dir" && sha256sum --quiet --strict -c SHA256SUMS) >>"$SB_LOG" 2>&1 || die "the restored files do not match their checksums"

tables=0 rows=0 dbs=''
for dump in "$dir"/*.dump; do
  [ -e "$dump" ] || die "the backup holds no database dump"
  db=$(basename "$dump" .dump)
  target="$DRILL_DB_PREFIX$db"
  dbs="$dbs $db"
  if [ "\${DRILL_KEEP_DATABASES:-0}" != 1 ]; then at_exit "pg dropdb --if-exists '$target' >/dev/null 2>&1"; fi
  run pg dropdb --if-exists "$target" || die "cannot drop the old scratch database $target"
  run pg createdb "$target" || die "cannot create the scratch database $target"
  log "restoring $db into $target"
  pg pg_restore --no-owner --no-privileges --exit-on-error -d "$target" <"$dump" >>"$SB_LOG" 2>&1 || die "pg_restore of $db failed"
  pg psql -X -q -A -t -F '|' -v ON_ERROR_STOP=1 -d "$target" -f - <"$SB_LIB/table-digest.sql" >"$scratch/$db.restored" 2>>"$SB_LOG" \\
    || die "cannot compute the table digest of $target"
  if ! diff "$dir/$db.tables" "$scratch/$db.restored" >>"$SB_LOG" 2>&1; then
    die "row counts or checksums of $db differ from the backup (table, rows, checksum; < backup, > restored): $(diff "$dir/$db.tables" "$scratch/$db.restored" | head -n 5 | tr '\\n' ' ')"
  fi
  tables=$((tables + $(wc -l <"$dir/$db.tables")))
  rows=$((rows + $(awk -F'|' '{ s += $2 } END { print s + 0 }' "$dir/$db.tables")))
done

passed=0
for check in $checks; do
  name=$(basename "$check" .sql)
  db=$(sed -n 's/^-- database: *//p' "$check" | head -n 1)
  result=$(pg psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$DRILL_DB_PREFIX$db" -f - <"$check" 2>>"$SB_LOG") \\
    || die "verification query $name failed on $db"
  [ "$result" = t ] || die "verification query $name returned '$result' instead of true"
  passed=$((passed + 1))
done
ok "restored snapshot \${id:0:8} of $DRILL_FROM_HOST ($age hours old):$dbs; $tables tables and $rows rows match the backup's counts and checksums; $passed verification queries true"
`;

/**
 * Key rotation after a rollout. The rollout agent keeps every file it replaces under
 * `$SOVEREIGN_PREVIOUS_ROOT` at the same absolute path, then runs this script: for each target
 * whose restic password changed, it adds the new password as a key of the repository, proves it
 * opens the repository, removes the old key and proves the old password no longer opens it.
 */
export const BACKUP_ROTATE_KEYS = `#!/bin/bash
# backup-rotate-keys (after a rollout): for every target of backup.conf whose restic password file
# was replaced with a different password (the rollout agent keeps the replaced file under
# $SOVEREIGN_PREVIOUS_ROOT at the same absolute path), adds the new password as a key with the old
# one, proves the new one opens the repository, removes the old key and proves the old password
# no longer opens it. The repository is never re-initialized; a re-run after success changes nothing.
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
repo_lock

keys=$(mktemp "\${TMPDIR:-/tmp}/sovereign-backup-keys.XXXXXX")
at_exit "rm -f '$keys'"
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
  local rc=0
  # restic_on passes the target's current password; a later --password-command wins.
  restic_error=$(restic_on "$1" --password-command "base64 -d \\"$2\\"" --no-lock key list --json 2>&1 >"$keys") || rc=$?
  if [ -n "$restic_error" ]; then printf '%s\\n' "$restic_error" >>"$SB_LOG"; fi
  [ "$rc" = 0 ] && return 0
  [[ $restic_error == *"wrong password or no key found"* ]] && return 2
  restic_error=$(tail -n 3 <<<"\${restic_error:-restic exited with $rc}" | tr '\\n' ' ')
  return 1
}

# The ID of the key the last open_with used (restic marks it current), and the number of keys it listed.
current_key() { "$PY" -c 'import json, sys; print(next((k["id"] for k in json.load(open(sys.argv[1])) if k.get("current")), ""))' "$keys"; }
key_count() { "$PY" -c 'import json, sys; print(len(json.load(open(sys.argv[1]))))' "$keys"; }

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

rotate() {
  local t=$1 new old new_id old_id i
  new="$SB_ETC/secrets/$t.restic.b64"
  old="$PREVIOUS$new"
  if [ ! -e "$old" ]; then log "$t: no previous restic password file ($old): nothing to rotate"; unchanged="$unchanged $t"; return 0; fi
  [[ $old$new != *[\\"\\\\]* ]] || { step_failed "$t" "reading the passwords" "the path $old or $new holds a quote or a backslash"; return; }
  usable_password "$new" || { step_failed "$t" "reading the new password" "$new is missing, unreadable, not base64 or empty"; return; }
  usable_password "$old" || { step_failed "$t" "reading the previous password" "$old is unreadable, not base64 or empty"; return; }
  if cmp -s "$old" "$new" || cmp -s <(base64 -d "$old") <(base64 -d "$new"); then
    log "$t: the restic password did not change: nothing to rotate"; unchanged="$unchanged $t"; return 0
  fi

  log "$t: the restic password changed; trying both passwords on the repository"
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
    run restic_on "$t" --password-command "base64 -d \\"$old\\"" key add --new-password-file <(base64 -d "$new") \\
      || { step_failed "$t" "adding the new password as a key (restic key add)" "see the log; the repository still opens with the previous password only"; return; }
    probe "$t" "$new" "verifying the new key" || return
    new_id=$key_id
    [ -n "$new_id" ] || { step_failed "$t" "verifying the new key" "the new password does not open the repository after restic key add; the previous password still does"; return; }
    log "$t: the new password opens the repository (key $new_id)"
  else
    log "$t: the new password (key $new_id) and the previous one (key $old_id) both open the repository: an earlier rotation stopped before removing the old key"
  fi

  # restic refuses to remove the key in use, so the old key goes with the new password. Several
  # keys may hold the old password (keys added by hand): each goes until the old password opens nothing.
  for i in 1 2 3 4 5; do
    log "$t: removing the previous password's key $old_id"
    run restic_on "$t" key remove "$old_id" \\
      || { step_failed "$t" "removing the previous key $old_id (restic key remove)" "see the log; both passwords open the repository, run this script again"; return; }
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

for t in $TARGETS; do
  rotate "$t" || true
done
[ -z "$failures" ] || die "restic key rotation failed for $failures"
ok "restic keys rotated:\${rotated:- none}; unchanged:\${unchanged:- none}"
`;
