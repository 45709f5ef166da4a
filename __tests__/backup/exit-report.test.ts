import { spawn, spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BACKUP_RESTORE_FILES, COMMON } from '../../lib/backup/private/scripts';
import { LIB, SBIN } from '../../lib/backup/private/tooling';
import { PATH_ENV } from './helpers/world';
import { alive, signal } from '../../testing/harness/processes';
import { recordedCalls, recordingWrapper } from '../setup/recording-wrapper';

// The exit trap and the job's own stderr (common.sh), without root or a repository: a job installed where the plan
// installs the tooling (it sources ../lib/sovereign-backup/common.sh), run as a unit or an operator runs it.

interface Finished {
  readonly code: number | null;
  readonly stderr: string;
  /** Whether the lingering child (its pid in <tmp>/child.pid) was still running when the job's stderr reached EOF. */
  readonly childAliveAtEof: boolean | null;
}

let tmp: string;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'exit-report-'));
  fs.mkdirSync(path.join(tmp, 'etc'));
  fs.mkdirSync(path.join(tmp, 'bin'));
  fs.mkdirSync(path.join(tmp, LIB), { recursive: true });
  fs.mkdirSync(path.join(tmp, SBIN), { recursive: true });
  fs.writeFileSync(path.join(tmp, LIB, 'common.sh'), COMMON, { mode: 0o644 });
});

afterEach(() => {
  const pidFile = path.join(tmp, 'child.pid');
  if (fs.existsSync(pidFile)) {
    signal(Number(fs.readFileSync(pidFile, 'utf8').trim()), 'SIGTERM');
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Runs the job body after common.sh, with its stderr on a pipe, as a journal or `| tee` reads it. */
function runJob(body: string): Promise<Finished> {
  const job = path.join(tmp, SBIN, 'job');
  fs.writeFileSync(job, `#!/bin/bash\nSB_JOB=harness\n. "$(dirname "$(readlink -f "$0")")/../lib/sovereign-backup/common.sh"\n${body}`, { mode: 0o755 });
  return new Promise((resolve, reject) => {
    const child = spawn(job, [], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: `${path.join(tmp, 'bin')}:${PATH_ENV}`, SOVEREIGN_BACKUP_ETC: path.join(tmp, 'etc'), TMPDIR: tmp },
    });
    let stderr = '';
    let childAliveAtEof: boolean | null = null;
    let code: number | null | undefined;
    let ended = false;
    const done = () => { if (ended && code !== undefined) resolve({ code, stderr, childAliveAtEof }); };
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => { stderr += d; });
    child.stderr.on('end', () => {
      const pidFile = path.join(tmp, 'child.pid');
      if (fs.existsSync(pidFile)) childAliveAtEof = alive(Number(fs.readFileSync(pidFile, 'utf8').trim()));
      ended = true;
      done();
    });
    child.on('error', reject);
    child.on('exit', (c) => { code = c; done(); });
  });
}

test('a signal during run: the FAILED report reaches the job\'s own stderr, not the log run writes to', async () => {
  // The signal comes while run's redirection (>>"$SB_LOG" 2>&1) is in effect: slow() signals when it has started.
  const result = await runJob([
    'step "slow step"',
    'ready=$SB_LOG.ready',
    'slow() { sleep 30 & bg_job $!; : >"$ready"; wait $!; }',
    '( while [ ! -e "$ready" ]; do sleep 0.01; done; kill -TERM $$ ) &',
    'run slow || die "slow failed"',
    'ok done',
    '',
  ].join('\n'));
  expect(result.stderr).toMatch(/FAILED \(exit 1\) at step 'slow step': stopped by a signal/);
  expect(result.code).toBe(1);
});

// A child that outlives the job (restic's ssh) must not keep the stderr the job started with open: whoever reads it (a
// restore by hand piped through tee, the drill's tee of each copy) would wait for that child. Here restic is a stand-in
// that leaves a process behind with its own output elsewhere, as its ssh may.
test.each([
  ['sftp', 'box_KIND=sftp box_AUTH=password box_USER=u box_HOST=h box_REPO_PATH=r box_PORT=23 box_HOSTKEYS=yes'],
  ['s3', 'box_KIND=s3 box_REPO_PATH=r'],
])('a process restic leaves behind (%s target) does not hold the job\'s stderr open', async (_kind, conf) => {
  fs.writeFileSync(path.join(tmp, 'bin', 'restic'),
    `#!/bin/bash\nsleep 20 </dev/null >/dev/null 2>&1 & echo $! >'${tmp}/child.pid'\n`, { mode: 0o755 });
  fs.mkdirSync(path.join(tmp, 'etc', 'secrets'));
  fs.writeFileSync(path.join(tmp, 'etc', 'secrets', 'box.restic.b64'), 'cHc=\n', { mode: 0o600 });
  fs.writeFileSync(path.join(tmp, 'etc', 'secrets', 'box.s3.env'),
    'ACCESS_KEY_ID_B64=aWQ= SECRET_ACCESS_KEY_B64=a2V5 ENDPOINT_B64=aHR0cDovLzEyNy4wLjAuMTo5 BUCKET_B64=Yg==\n', { mode: 0o600 });
  const result = await runJob([
    conf,
    // The stand-in pins no host key (sftp), so restic_on may fail after it: what is asserted is the pipe, not the call.
    'restic_on box snapshots || true',
    'ok done',
    '',
  ].join('\n'));
  expect(result.code).toBe(0);
  // EOF came while the left-behind process still ran: nothing but the job held the pipe.
  expect(result.childAliveAtEof).toBe(true);
});

test('a job started with its stderr closed still gets to run restic', async () => {
  // The kept stderr cannot be a copy of a closed fd 2: it is /dev/null then, so that the children's closes name a
  // descriptor (an unset one fails the command as an ambiguous redirect, before restic starts).
  fs.writeFileSync(path.join(tmp, 'bin', 'restic'), `#!/bin/bash\n: >'${tmp}/restic.ran'\n`, { mode: 0o755 });
  fs.mkdirSync(path.join(tmp, 'etc', 'secrets'));
  fs.writeFileSync(path.join(tmp, 'etc', 'secrets', 'box.s3.env'),
    'ACCESS_KEY_ID_B64=aWQ= SECRET_ACCESS_KEY_B64=a2V5 ENDPOINT_B64=aHR0cDovLzEyNy4wLjAuMTo5 BUCKET_B64=Yg==\n', { mode: 0o600 });
  fs.writeFileSync(path.join(tmp, 'etc', 'secrets', 'box.restic.b64'), 'cHc=\n', { mode: 0o600 });
  const job = path.join(tmp, SBIN, 'job');
  fs.writeFileSync(job, [
    '#!/bin/bash',
    'exec 2>&-',
    'SB_JOB=harness',
    '. "$(dirname "$(readlink -f "$0")")/../lib/sovereign-backup/common.sh"',
    'box_KIND=s3 box_REPO_PATH=r',
    // A step logs (log ends in >&2): with fd 2 left closed, set -e ended the job there.
    'step "listing"',
    // Its outcome is not asserted: S3 messages go to fd 2, which this job has not got.
    'restic_on box snapshots || true',
    'ok done',
    '',
  ].join('\n'), { mode: 0o755 });
  const run = spawnSync(job, [], {
    stdio: 'ignore',
    // A synchronous call jest's own timeout cannot end.
    timeout: 20_000,
    env: { PATH: `${path.join(tmp, 'bin')}:${PATH_ENV}`, SOVEREIGN_BACKUP_ETC: path.join(tmp, 'etc'), TMPDIR: tmp },
  });
  expect(run.signal).toBeNull();
  expect(fs.existsSync(path.join(tmp, 'restic.ran'))).toBe(true);
});

// Review (ninth pass): the job's lock on its log (SB_LOG_FD) reached every child, and a program run directly under run
// got the kept stderr too: one that outlived the job held the log's lock (its files looked alive to the next job's
// clean-up) or the pipe of its stderr (a journal or a tee waited for it). Each child here lists what it holds.
test('a program under run or pg, and restic, hold neither the log\'s lock nor the job\'s kept stderr', async () => {
  // exec, not a redirection of the loop: bash would keep the probe's own stdout (the log, under run) on a descriptor above 9.
  const probe = `#!/bin/bash\nexec >'${tmp}/fds.'"\${0##*/}"\nfor f in /proc/$$/fd/*; do n=\${f##*/}; [ "$n" -gt 2 ] || continue; printf '%s %s\\n' "$n" "$(readlink "$f")"; done\n`;
  for (const name of ['restic', 'probe-run', 'probe-pg']) fs.writeFileSync(path.join(tmp, 'bin', name), probe, { mode: 0o755 });
  fs.mkdirSync(path.join(tmp, 'etc', 'secrets'));
  fs.writeFileSync(path.join(tmp, 'etc', 'secrets', 'box.restic.b64'), 'cHc=\n', { mode: 0o600 });
  const result = await runJob([
    'box_KIND=sftp box_AUTH=password box_USER=u box_HOST=h box_REPO_PATH=r box_PORT=23 box_HOSTKEYS=yes',
    // What the children must not hold: the log, and the stderr the job started with (the harness's pipe).
    `printf '%s\\n' "$SB_LOG" "$(readlink /proc/$$/fd/2)" >'${tmp}/job'`,
    'run probe-run',
    'run pg probe-pg',
    // The stand-in pins no host key, so restic_on fails after it: what is asserted is what restic got.
    'restic_on box snapshots || true',
    'ok done',
    '',
  ].join('\n'));
  expect(result.code).toBe(0);
  const [log, stderr] = fs.readFileSync(path.join(tmp, 'job'), 'utf8').split('\n');
  expect(log).toMatch(/\/sovereign-backup\.\w{6}$/);
  expect(stderr).toMatch(/^(pipe|socket):\[\d+\]$/);
  for (const name of ['restic', 'probe-run', 'probe-pg']) {
    const held = fs.readFileSync(path.join(tmp, `fds.${name}`), 'utf8').trim().split('\n').map((line) => line.slice(line.indexOf(' ') + 1));
    // The probe's own script (bash's fd 255) shows that the listing ran.
    expect(held).toContain(path.join(tmp, 'bin', name));
    expect(held).not.toContain(log);
    expect(held).not.toContain(stderr);
  }
});

// Audit (forks): restic_on ran `mkdir -p` on the ssh directory and `ssh-keygen -F` on the target's known_hosts after every
// restic call. The host key is looked up once per target and job now: at the job's start (load_conf) for a target whose
// known_hosts holds it already, which the subshells most calls run in inherit, else after each login until found. One
// whose key is missing after a login still fails every call, and one target's find does not vouch for another's. The
// stand-in restic records the host key as ssh's accept-new does, except for the host "nopin".
test('restic_on looks up a target\'s host key until it is found pinned, and fails every login of an unpinned one', async () => {
  const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr';
  fs.writeFileSync(path.join(tmp, 'bin', 'restic'), [
    '#!/bin/bash',
    '[[ $2 =~ UserKnownHostsFile=([^ ]+) ]] && f=${BASH_REMATCH[1]}',
    '[[ $2 =~ HostKeyAlias=([^ ]+) ]] && alias=${BASH_REMATCH[1]}',
    `[[ $2 == *" nopin -s sftp" ]] || [ -s "$f" ] || printf '%s ${key}\\n' "$alias" >>"$f"`,
    '',
  ].join('\n'), { mode: 0o755 });
  // Each wrapper notes its arguments and runs the real program.
  for (const name of ['ssh-keygen', 'mkdir']) recordingWrapper(path.join(tmp, 'bin'), name, path.join(tmp, `${name}.calls`));
  const etc = path.join(tmp, 'etc');
  fs.mkdirSync(path.join(etc, 'secrets'));
  for (const t of ['a', 'b', 'c']) fs.writeFileSync(path.join(etc, 'secrets', `${t}.restic.b64`), 'cHc=\n', { mode: 0o600 });
  const sftp = (t: string, auth: string, host: string, hostKeys: string) =>
    `${t}_KIND=sftp ${t}_AUTH=${auth} ${t}_USER=u ${t}_HOST=${host} ${t}_REPO_PATH=r ${t}_PORT=23 ${t}_HOSTKEYS=${hostKeys}`;
  fs.writeFileSync(path.join(etc, 'backup.conf'), [
    `BACKUP_STATE='${tmp}/state'`,
    // a: no known_hosts yet (its first login pins the key); b: its key never recorded; c: pinned by the plan.
    sftp('a', 'key', 'h', 'accept-new'), sftp('b', 'password', 'nopin', 'accept-new'), sftp('c', 'password', 'h', 'yes'), '',
  ].join('\n'));
  // c's key is in place before the job starts, as the plan installs it (and with it the ssh directory).
  fs.mkdirSync(path.join(etc, 'ssh'));
  fs.writeFileSync(path.join(etc, 'ssh', 'known_hosts.c'), `sovereign-c ${key}\n`);
  // No target's: ssh-keygen -R's copy, and a name without a target (an empty subscript ended every job at load_conf).
  fs.writeFileSync(path.join(etc, 'ssh', 'known_hosts.c.old'), `sovereign-c ${key}\n`);
  fs.writeFileSync(path.join(etc, 'ssh', 'known_hosts.'), `sovereign- ${key}\n`);
  const result = await runJob([
    'load_conf backup.conf',
    `called() { if "$@"; then echo "$2 ok"; else echo "$2 failed"; fi >>'${tmp}/outcomes'; }`,
    'for i in 1 2 3; do called restic_on a snapshots; called restic_on b snapshots; done',
    // Subshells inherit the job's finds: a's key and c's are not looked up again there, b's is.
    'x=$(called restic_on a snapshots; called restic_on b snapshots)',
    'for i in 1 2; do x=$(called restic_on c snapshots); done',
    'ok done',
    '',
  ].join('\n'));
  expect(result.code).toBe(0);
  expect(fs.readFileSync(path.join(tmp, 'outcomes'), 'utf8').split('\n').filter(Boolean))
    .toEqual(['a ok', 'b failed', 'a ok', 'b failed', 'a ok', 'b failed', 'a ok', 'b failed', 'c ok', 'c ok']);
  const lookups = recordedCalls(path.join(tmp, 'ssh-keygen.calls')).filter((l) => l.startsWith('-F '));
  expect(lookups.filter((l) => l.startsWith('-F sovereign-a '))).toHaveLength(1);
  expect(lookups.filter((l) => l.startsWith('-F sovereign-b '))).toHaveLength(4);
  expect(lookups.filter((l) => l.startsWith('-F sovereign-c '))).toHaveLength(1);
  expect(lookups).toHaveLength(6);
  expect(result.stderr.match(/the host key of b is not in \S+\/known_hosts\.b after a login: it would not be checked next time/g)).toHaveLength(4);
  expect(result.stderr).not.toMatch(/the host key of [ac] /);
  // The ssh directory is there: tested, not made, by each call.
  const ssh = path.join(etc, 'ssh');
  // No mkdir at all leaves no log: that is no call either.
  const mkdirCalls = path.join(tmp, 'mkdir.calls');
  expect(recordedCalls(mkdirCalls).filter((l) => l.includes(ssh))).toEqual([]);
});

// Review (fourteenth pass): count_content, which backup-restore-files' messages count a path's files with, ran under
// set -e: a find that fails (a file an app removed during the walk) ended the run on the assignment. The count stands.
test('a path whose walk fails part way is still counted, and the job goes on', async () => {
  const findFails = path.join(tmp, 'find-fails');
  fs.mkdirSync(findFails);
  fs.writeFileSync(path.join(findFails, 'find'), `#!/bin/bash\n/usr/bin/find "$@"\necho 'find: a file vanished (test)' >&2\nexit 1\n`, { mode: 0o755 });
  const walked = path.join(tmp, 'walked');
  fs.mkdirSync(walked);
  fs.writeFileSync(path.join(walked, 'f'), 'abc');
  const result = await runJob([
    `PATH='${findFails}':$PATH`,
    `count_content '${walked}'`,
    `printf '%s\\n' "\${content_of['${walked}']}" >'${tmp}/counted'`,
    'ok done',
    '',
  ].join('\n'));
  expect(result.code).toBe(0);
  expect(fs.readFileSync(path.join(tmp, 'counted'), 'utf8')).toBe('1 3\n');
});

// Review (fifteenth pass): restic_on named each call's ssh log by $RANDOM, which repeats, and ssh -E appends: an ssh an
// earlier call left running wrote into a later call's log of the same name. Seeding RANDOM before every call makes it
// repeat here; the names must not. Calls in a subshell count on from the parent's value, under their own BASHPID.
test('restic_on names the ssh log of every call of a job differently, in its subshells too', async () => {
  // The stand-in notes the log ssh -E would write (restic's sftp.command) and pins no key, so each call fails after it.
  fs.writeFileSync(path.join(tmp, 'bin', 'restic'), `#!/bin/bash\n[[ $2 =~ -E\\ ([^ ]+) ]] && printf '%s\\n' "\${BASH_REMATCH[1]}" >>'${tmp}/sshlogs'\n`, { mode: 0o755 });
  fs.mkdirSync(path.join(tmp, 'etc', 'secrets'));
  fs.writeFileSync(path.join(tmp, 'etc', 'secrets', 'box.restic.b64'), 'cHc=\n', { mode: 0o600 });
  const call = 'RANDOM=7; restic_on box snapshots || true';
  const result = await runJob([
    'box_KIND=sftp box_AUTH=password box_USER=u box_HOST=h box_REPO_PATH=r box_PORT=23 box_HOSTKEYS=yes',
    call, call,
    `x=$(${call}; ${call})`,
    `( ${call} )`,
    call,
    'ok done',
    '',
  ].join('\n'));
  expect(result.code).toBe(0);
  const names = fs.readFileSync(path.join(tmp, 'sshlogs'), 'utf8').split('\n').filter(Boolean);
  expect(names).toHaveLength(6);
  for (const name of names) expect(name).toMatch(/\/sovereign-backup\.\w{6}\.ssh\.\d+\.\d+$/);
  expect(new Set(names).size).toBe(6);
});

// Review (fifteenth pass): the restore's check over what the paths hold must take a count made after the lock wait
// (walk_content), not count_content's, which keeps a path's first count: a file written between the two is seen only
// by the walk.
test('walk_content counts a path again; count_content keeps the count it made', async () => {
  const p = path.join(tmp, 'path');
  fs.mkdirSync(p);
  const result = await runJob([
    `counted() { printf '%s\\n' "\${content_of[$1]}" >>'${tmp}/counted'; }`,
    `count_content '${p}'; counted '${p}'`,
    `printf 'abcd' >'${p}/arrived'`,
    `count_content '${p}'; counted '${p}'`,
    `walk_content '${p}'; counted '${p}'`,
    'ok done',
    '',
  ].join('\n'));
  expect(result.code).toBe(0);
  expect(fs.readFileSync(path.join(tmp, 'counted'), 'utf8')).toBe('0 0\n0 0\n1 4\n');
});

// ...and backup-restore-files' check, after the lock is taken, walks each path (walk_content): a count_content there would
// take the count made before the lock wait, which the run in restore-files.test.ts cannot tell from a fresh one.
test('backup-restore-files checks what its paths hold with walk_content, never count_content', () => {
  const after = BACKUP_RESTORE_FILES.split('step "checking what $paths hold')[1];
  expect(after).toBeDefined();
  const end = after.search(/^done$/m);
  expect(end).toBeGreaterThan(0);
  const loop = after.slice(0, end).split('\n').filter((line) => !/^\s*#/.test(line)).join('\n');
  expect(loop).toMatch(/^\s*walk_content "\$p"$/m);
  expect(loop).not.toMatch(/\bcount_content\b/);
});

// Review (fifteenth pass): tv_to and ssh_options_to set the caller's variable with printf -v, which sets a local of the
// setter instead when the name is one: the caller's kept its old value, unsaid. Such a name is refused, loudly.
test('tv_to and ssh_options_to refuse a variable named as one of their locals, and set any other', async () => {
  const result = await runJob([
    'box_KIND=sftp box_AUTH=password box_USER=u box_HOST=h box_REPO_PATH=r box_PORT=23 box_HOSTKEYS=yes',
    `rc() { "$@" && echo "$1 $2 0" || echo "$1 $2 $?"; } >>'${tmp}/outcomes'`,
    '__n=old __known=old kind=old',
    'rc tv_to __n box KIND; rc ssh_options_to __known box; rc tv_to kind box KIND; rc ssh_options_to __port box; rc ssh_options_to opts box',
    `printf '%s\\n' "$__n" "$__known" "$kind" "\${opts[*]}" >>'${tmp}/outcomes'`,
    'ok done',
    '',
  ].join('\n'));
  expect(result.code).toBe(0);
  const outcomes = fs.readFileSync(path.join(tmp, 'outcomes'), 'utf8').split('\n');
  expect(outcomes.slice(0, 8)).toEqual(['tv_to __n 2', 'ssh_options_to __known 2', 'tv_to kind 0', 'ssh_options_to __port 2', 'ssh_options_to opts 0', 'old', 'old', 'sftp']);
  // A name that is none of its locals is set: the target's options, its port among them.
  expect(outcomes[8]).toContain('-o Port=23 -o User=u');
  expect(result.stderr).toContain("tv_to: cannot set __n: a local of tv_to has that name, so printf -v would set the local, not the caller's variable");
  expect(result.stderr).toContain("ssh_options_to: cannot set __known: a local of ssh_options_to has that name");
});

// restic_by_hand and target_identity read a target's settings with tv_to, ssh_options_to and password_file_to (no
// command substitution for each, which forked). A setting is neither split into words (printf would repeat its format),
// nor expanded, nor cut. restic_by_hand prints a line to paste into a shell: every value in it is quoted, so that pasted
// (run here by bash, where an unquoted * would expand to this directory's files), each reaches restic as the one
// argument or setting restic_on gives it; a value that needs no quoting (an id, a path) is printed as it is. One with a
// control character is in %q's $'…' form: raw, a tab pasted into an interactive shell (readline) completes, a newline
// ends the line. Each line is run by bash -c and, as an operator pastes it, by an interactive bash (readline, history
// expansion) reading it on stdin: both give restic the same arguments. A password login's line sets the askpass
// helper and its file, as restic_on does.
test('restic_by_hand quotes each value of its line, which bash runs with each value as one argument; target_identity prints settings as they are', async () => {
  // The user is of the class ssh_options_to takes; the box's repository path holds the quotes and the glob.
  const user = 'u12345-sub2';
  const boxRepo = `r 'x' "y" *`;
  // A configuration directory (SOVEREIGN_BACKUP_ETC) with a quote and a comma: the ssh options' paths put them in sftp.command.
  const oddDir = 'a "q", b';
  const repo = 'p "q" $r *';
  const odd = '$HOME `id` \\ a!b';
  const ctl = 'a!b\tc\nd\re "f" $x';
  const shellQuote = (v: string): string => `'${v.replace(/'/g, "'\\''")}'`;
  // The secret files target_identity digests (the password file by password_file_to's name for it) and the S3 line reads.
  const secrets = path.join(tmp, 'etc', 'secrets');
  fs.mkdirSync(secrets, { recursive: true });
  const digest = (name: string, content: string): string => {
    fs.writeFileSync(path.join(secrets, name), content, { mode: 0o600 });
    return createHash('sha256').update(content).digest('hex').slice(0, 16);
  };
  const b64 = (v: string): string => Buffer.from(v).toString('base64');
  const s3Env = { ENDPOINT_B64: 'https://s3.example', BUCKET_B64: 'bucket', ACCESS_KEY_ID_B64: 'AKID', SECRET_ACCESS_KEY_B64: 'secret key' };
  const keys = {
    box: digest('box.restic.b64', 'Ym94Cg==\n'),
    s3box: digest('s3box.restic.b64', 'czNib3gK\n'),
    env: digest('s3box.s3.env', Object.entries(s3Env).map(([name, value]) => `${name}=${b64(value)}\n`).join('')),
  };
  fs.copyFileSync(path.join(secrets, 's3box.s3.env'), path.join(secrets, 's3ctl.s3.env'));
  const result = await runJob([
    `box_KIND=sftp box_AUTH=key box_USER=${user} box_HOST=h.example box_REPO_PATH=${shellQuote(boxRepo)} box_PORT=23 box_HOSTKEYS=yes`,
    `s3box_KIND=s3 s3box_REPO_PATH=${shellQuote(repo)}`,
    'pwbox_KIND=sftp pwbox_AUTH=password pwbox_USER=u1 pwbox_HOST=h.example pwbox_REPO_PATH=r pwbox_PORT=23 pwbox_HOSTKEYS=yes',
    `s3ctl_KIND=s3 s3ctl_REPO_PATH=${shellQuote(`p\t${repo}`)}`,
    `cd '${tmp}'`,
    `{ printf '%s\\n' "$SB_ETC"; restic_by_hand box forget 'a b' '*' ${shellQuote(odd)}; echo; restic_by_hand s3box forget 0123abcd ${shellQuote(odd)}; echo; `
      + `target_identity box; target_identity s3box; printf '%s\\n' "$SB_LIB"; restic_by_hand pwbox forget ${shellQuote(ctl)}; echo; `
      + `restic_by_hand s3ctl forget ${shellQuote(ctl)}; echo; (SB_ETC=${shellQuote(`${tmp}/etc/${oddDir}`)}; restic_by_hand box forget x); echo; } >'${tmp}/printed'`,
    'ok done',
    '',
  ].join('\n'));
  expect(result.code).toBe(0);
  const [etc, sftp, s3, sftpIdentity, s3Identity, lib, sftpCtl, s3Ctl, sftpCsv, after] = fs.readFileSync(path.join(tmp, 'printed'), 'utf8').split('\n');
  // One line each: no control character is printed raw.
  expect(after).toBe('');
  expect(etc).toBe(path.join(tmp, 'etc'));
  const byHand = "as root, in sudo -i or sudo bash -c '…': ";
  // A line with a single quote (the box's repository r 'x', a control character's $'…' form) cannot go inside sudo bash -c '…'.
  const rootShell = 'as root, in sudo -i: ';
  // ssh's options, one argument each: a value ssh would split (the user) escaped for ssh's own parser (ssh_value_to).
  const sshWords = (sshUser: string, t: string, login: string[]): string[] => ['ssh', '-F', '/dev/null', '-o', 'Port=23', '-o', `User=${sshUser}`,
    '-o', `HostKeyAlias=sovereign-${t}`, '-o', `UserKnownHostsFile=${etc}/ssh/known_hosts.${t}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'ConnectTimeout=20',
    '-o', 'ServerAliveInterval=15', '-o', 'ServerAliveCountMax=4', '-o', 'LogLevel=ERROR', ...login, 'h.example', '-s', 'sftp'];
  const boxWords = sshWords(user, 'box',
    ['-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'PreferredAuthentications=publickey', '-o', `IdentityFile=${etc}/ssh/id_ed25519`]);
  const pwboxWords = sshWords('u1', 'pwbox', ['-o', 'PreferredAuthentications=password', '-o', 'PubkeyAuthentication=no', '-o', 'NumberOfPasswordPrompts=1']);
  // The real restic (Debian's 0.14) given a line's -o: the words it starts ssh with, read by an ssh stand-in. restic reads
  // -o as CSV, then splits sftp.command with its own splitter: both must give each word back whole.
  const splitBin = path.join(tmp, 'split-bin');
  fs.mkdirSync(splitBin, { recursive: true });
  fs.writeFileSync(path.join(splitBin, 'ssh'), `#!/bin/bash\nprintf '%s\\0' "$0" "$@" >'${tmp}/split'\nexit 1\n`, { mode: 0o755 });
  const resticStarts = (option: string): string[] => {
    fs.rmSync(path.join(tmp, 'split'), { force: true });
    spawnSync('restic', ['-o', option, '-r', 'sftp:h.example:r', '--no-cache', 'snapshots'],
      { env: { PATH: `${splitBin}:${PATH_ENV}`, RESTIC_PASSWORD: 'x', HOME: tmp }, encoding: 'utf8' });
    const [program, ...args] = fs.readFileSync(path.join(tmp, 'split'), 'utf8').split('\0').slice(0, -1);
    return [path.basename(program), ...args];
  };
  // Quoted as an operator reads it: between double quotes with \ " $ ` escaped and ! outside them, the rest as it is.
  const oddQuoted = '"\\$HOME \\`id\\` \\\\ a"\\!"b"';
  expect(sftp.startsWith(`${rootShell}RESTIC_PASSWORD_COMMAND="base64 -d ${etc}/secrets/box.restic.b64" restic -o `)).toBe(true);
  expect(sftp.endsWith(` -r "sftp:${user}@h.example:r 'x' \\"y\\" *" --no-cache forget "a b" "*" ${oddQuoted}`)).toBe(true);
  expect(s3).toBe(`${byHand}(. ${etc}/secrets/s3box.s3.env || exit 1; d() { printf %s "$1" | base64 -d; }; RESTIC_REPOSITORY="s3:$(d "$ENDPOINT_B64")/$(d "$BUCKET_B64")/p \\"q\\" \\$r *" `
    + 'AWS_ACCESS_KEY_ID=$(d "$ACCESS_KEY_ID_B64") AWS_SECRET_ACCESS_KEY=$(d "$SECRET_ACCESS_KEY_B64") '
    + `RESTIC_PASSWORD_COMMAND="base64 -d ${etc}/secrets/s3box.restic.b64" restic --no-cache forget 0123abcd ${oddQuoted})`);
  expect(sftpIdentity).toBe(`sftp ${user}@h.example:23/${boxRepo} key ${keys.box}`);
  expect(s3Identity).toBe(`s3 ${keys.env} ${repo} key ${keys.s3box}`);
  const ctlQuoted = `$'a!b\\tc\\nd\\re "f" $x'`;
  expect(sftpCtl.startsWith(`${rootShell}SSH_ASKPASS=${lib}/askpass SSH_ASKPASS_REQUIRE=force SB_ASKPASS_FILE=${etc}/secrets/pwbox.password.b64 `
    + `RESTIC_PASSWORD_COMMAND="base64 -d ${etc}/secrets/pwbox.restic.b64" restic -o `)).toBe(true);
  expect(sftpCtl.endsWith(` -r sftp:u1@h.example:r --no-cache forget ${ctlQuoted}`)).toBe(true);
  // A setting that -o's CSV leaves as it is keeps sftp.command= outside the shell's quotes, as an operator writes it; one
  // with a quote (a configuration directory's) is given whole, in the CSV form.
  expect(sftpCtl).toContain(' restic -o sftp.command="ssh -F /dev/null -o Port=23 -o User=u1 ');
  expect(sftp).toContain(' restic -o sftp.command="ssh -F /dev/null -o Port=23 -o User=u12345-sub2 ');
  expect(sftpCsv).toContain(' restic -o "\\"sftp.command=ssh -F /dev/null ');
  expect(s3Ctl).toBe(`${rootShell}(. ${etc}/secrets/s3ctl.s3.env || exit 1; d() { printf %s "$1" | base64 -d; }; RESTIC_REPOSITORY="s3:$(d "$ENDPOINT_B64")/$(d "$BUCKET_B64")/"$'p\\tp "q" $r *' `
    + 'AWS_ACCESS_KEY_ID=$(d "$ACCESS_KEY_ID_B64") AWS_SECRET_ACCESS_KEY=$(d "$SECRET_ACCESS_KEY_B64") '
    + `RESTIC_PASSWORD_COMMAND="base64 -d ${etc}/secrets/s3ctl.restic.b64" restic --no-cache forget ${ctlQuoted})`);

  // Each line as bash runs it, in a directory with files for a glob to find, restic a function that prints what it was
  // given: its arguments and the environment restic (and its ssh) reads, each NUL-ended.
  const standIn = 'restic() { printf "%s\\0" "PW=${RESTIC_PASSWORD_COMMAND-}" "REPO=${RESTIC_REPOSITORY-}" '
    + '"KEYS=${AWS_ACCESS_KEY_ID-}/${AWS_SECRET_ACCESS_KEY-}" "ASKPASS=${SSH_ASKPASS-}|${SSH_ASKPASS_REQUIRE-}|${SB_ASKPASS_FILE-}" "$@"; }';
  const command = (line: string): string => {
    const prefix = [byHand, rootShell].find((p) => line.startsWith(p));
    expect(prefix).toBeDefined();
    // sudo bash -c '…' is offered exactly when the line can go between its single quotes.
    expect(prefix === byHand).toBe(!line.slice(prefix!.length).includes("'"));
    return line.slice(prefix!.length);
  };
  const ran = (line: string): string[] => {
    const run = spawnSync('bash', ['-c', `${standIn}\n${command(line)}`], { cwd: tmp, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(fs.readdirSync(tmp).length).toBeGreaterThan(1);
    return run.stdout.split('\0').slice(0, -1);
  };
  // As pasted: an interactive bash (readline, history expansion) reading the line on stdin, with no terminal (its
  // stderr holds its prompts and job control's notice); no history file written.
  const pasted = (line: string): { argv: string[]; stderr: string } => {
    const run = spawnSync('bash', ['--norc', '--noprofile', '-i'], {
      cwd: tmp, encoding: 'utf8', input: `${standIn}\n${line}\n`, env: { ...process.env, HISTFILE: '' },
    });
    expect(run.status).toBe(0);
    return { argv: run.stdout.split('\0').slice(0, -1), stderr: run.stderr };
  };
  // The interactive shell expands history: a ! left inside double quotes fails there (and only there).
  expect(pasted('restic "a!b"').stderr).toContain('!b: event not found');
  expect(ran(`${byHand}restic "a!b"`)).toEqual(['PW=', 'REPO=', 'KEYS=/', 'ASKPASS=||', 'a!b']);
  // An SFTP line's -o is given as the words real restic starts ssh with from it.
  const asRestic = (argv: string[]): Array<string | string[]> => argv.map((a, i) => (argv[i - 1] === '-o' ? resticStarts(a) : a));
  const runs: Array<[string, Array<string | string[]>]> = [
    [sftp, [`PW=base64 -d ${etc}/secrets/box.restic.b64`, 'REPO=', 'KEYS=/', 'ASKPASS=||',
      '-o', boxWords, '-r', `sftp:${user}@h.example:${boxRepo}`, '--no-cache', 'forget', 'a b', '*', odd]],
    [s3, [`PW=base64 -d ${etc}/secrets/s3box.restic.b64`, `REPO=s3:https://s3.example/bucket/${repo}`, 'KEYS=AKID/secret key', 'ASKPASS=||',
      '--no-cache', 'forget', '0123abcd', odd]],
    // RESTIC_PASSWORD_COMMAND in the form restic splits back (restic_command_to): the path between single quotes.
    [sftpCsv, [`PW=base64 -d '${etc}/${oddDir}/secrets/box.restic.b64'`, 'REPO=', 'KEYS=/', 'ASKPASS=||', '-o',
      sshWords(user, 'box', ['-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'PreferredAuthentications=publickey', '-o', `IdentityFile=${etc}/a\\ \\"q\\",\\ b/ssh/id_ed25519`])
        .map((w) => w.replace(`UserKnownHostsFile=${etc}/`, `UserKnownHostsFile=${etc}/a\\ \\"q\\",\\ b/`)),
      '-r', `sftp:${user}@h.example:${boxRepo}`, '--no-cache', 'forget', 'x']],
    [sftpCtl, [`PW=base64 -d ${etc}/secrets/pwbox.restic.b64`, 'REPO=', 'KEYS=/', `ASKPASS=${lib}/askpass|force|${etc}/secrets/pwbox.password.b64`,
      '-o', pwboxWords, '-r', 'sftp:u1@h.example:r', '--no-cache', 'forget', ctl]],
    [s3Ctl, [`PW=base64 -d ${etc}/secrets/s3ctl.restic.b64`, `REPO=s3:https://s3.example/bucket/p\t${repo}`, 'KEYS=AKID/secret key', 'ASKPASS=||',
      '--no-cache', 'forget', ctl]],
  ];
  for (const [line, argv] of runs) {
    expect(asRestic(ran(line))).toEqual(argv);
    const interactive = pasted(command(line));
    expect(interactive.stderr).not.toContain('event not found');
    expect(asRestic(interactive.argv)).toEqual(argv);
  }
});

// restic 0.14's splitter of sftp.command has no form for some words (both quotes bare, a trailing backslash), and ssh's
// -o parser none for a control character or, in a path, a ${ it would expand: restic_on refuses such a value, naming it
// and the fix, and starts no restic, rather than starting ssh with words split where the value was not.
test('restic_on refuses a setting restic or ssh cannot be given whole, naming it, and starts no restic', async () => {
  fs.writeFileSync(path.join(tmp, 'bin', 'restic'), `#!/bin/bash\nprintf '%s\\n' "$*" >>'${tmp}/restic.ran'\n`, { mode: 0o755 });
  fs.mkdirSync(path.join(tmp, 'etc', 'secrets'));
  fs.writeFileSync(path.join(tmp, 'etc', 'secrets', 'box.restic.b64'), 'cHc=\n', { mode: 0o600 });
  // The third case's configuration directory, named with a ${ (its password file there, so that only ssh's path refuses).
  fs.mkdirSync(path.join(tmp, 'etc', '${HOME}', 'secrets'), { recursive: true });
  fs.writeFileSync(path.join(tmp, 'etc', '${HOME}', 'secrets', 'box.restic.b64'), 'cHc=\n', { mode: 0o600 });
  const result = await runJob([
    `box_KIND=sftp box_AUTH=password box_USER=u1 box_HOST='h"'"'"'x' box_REPO_PATH=r box_PORT=23 box_HOSTKEYS=yes`,
    `rc() { "$@" && echo 0 || echo $?; } >>'${tmp}/outcomes'`,
    'rc restic_on box snapshots',
    "box_HOST=h.example box_USER=$'u\\t1'",
    'rc restic_on box snapshots',
    // Users OpenSSH 9.2 refuses unnamed (a ;, a leading -, a trailing space) or 10.0 expands (% and ${}).
    // And two whose start only looks like an account name's (a password pasted alone): nothing of them is shown.
    "for box_USER in 'u1;x' -u1 'u1 ' u1%h 'u1${HOME}' 'u1abc;x' 'u7Hx$pw'; do rc restic_on box snapshots; done",
    `box_USER=u1 SB_ETC='${tmp}/etc/\${HOME}'`,
    'rc restic_on box snapshots',
    'ok done',
    '',
  ].join('\n'));
  if (result.code !== 0) throw new Error(result.stderr);
  expect(fs.readFileSync(path.join(tmp, 'outcomes'), 'utf8')).toBe('1\n'.repeat(10));
  expect(fs.existsSync(path.join(tmp, 'restic.ran'))).toBe(false);
  expect(result.stderr).toContain(`restic cannot be given the word h\\"\\'x in a command it splits itself (sftp.command, --password-command): `
    + 'it is empty, ends in a backslash, or holds both quotes. Fix: choose a value without them');
  // Review: the refusal printed the whole user (%q): a password pasted there reached the journal and the failure ping.
  // Only an account name's start is shown (u1), or nothing of it.
  const userRefusal = (shown: string) => `restic_on: the SSH user of target box is refused (${shown}): ssh refuses or rewrites a user outside letters, digits, . _ - `
    + '(starting with a letter or digit). Fix: set box_USER in backup.conf to the account name as the Storage Box gives it (u123456 or u123456-sub1)\n';
  const begins = 'it begins u1; the rest is not shown, as it may hold a password';
  const hidden = 'not shown, as it may hold a password';
  const shown = [hidden, begins, hidden, begins, begins, begins, hidden, hidden];
  expect(result.stderr.split('\n').filter((line) => line.includes('the SSH user of target')).map((line) => `${line}\n`)).toEqual(shown.map(userRefusal));
  // Whole fragments only: stderr holds the run's mkdtemp name, whose random letters could hold a short one.
  expect(result.stderr).not.toMatch(/u1\\?;x|u1%h|u1\\?\$|u1abc|u7Hx|Hx\\?\$pw/);
  expect(result.stderr).toMatch(/ssh_options_to: ssh cannot be given \S*\/etc\/\\\$\\\{HOME\\\}\/ssh\/known_hosts\.box: .*in a path, \$\{, which ssh expands\. Fix: /);
});

// at_exit_run keeps a clean-up's words as words (each %q-quoted) for the exit trap's eval: a path holding a ', a $(…), a
// newline or a glob is removed as it is, and nothing in it runs. Code pasted with the path inside '…' broke on the quote.
test('at_exit_run removes paths with quotes, a $(…), a newline and a glob at exit, running nothing in them', async () => {
  // The $(…) makes the marker in TMPDIR (the job's is tmp), with no / (a file name holds none).
  const marker = path.join(tmp, 'at-exit-ran');
  const names = [`it's`, `x'$(cd "$TMPDIR"; touch at-exit-ran)'y`, 'a\nb', '*'];
  const dirs = names.map((n) => path.join(tmp, 'cleanups', n));
  for (const d of dirs) fs.mkdirSync(d, { recursive: true });
  // A sibling a glob in the last word would reach, were it expanded.
  fs.mkdirSync(path.join(tmp, 'cleanups', 'kept'));
  const result = await runJob([
    `for d in ${dirs.map((d) => `'${d.replace(/'/g, "'\\''")}'`).join(' ')}; do at_exit_run rm -rf -- "$d"; done`,
    'ok done',
    '',
  ].join('\n'));
  if (result.code !== 0) throw new Error(result.stderr);
  expect(fs.existsSync(marker)).toBe(false);
  expect(fs.readdirSync(path.join(tmp, 'cleanups'))).toEqual(['kept']);
});
