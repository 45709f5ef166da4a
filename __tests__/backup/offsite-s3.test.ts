import { ChildProcess, execFile, execFileSync, spawn, spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { ProcessesBefore } from './helpers/processes-before';
import { bucketRepository, holdResticLock, killHolder, locksOf } from './helpers/restic-lock';
import { S3Server } from './helpers/s3-server';
import {
  b64, BackupWorld, corrupt, drillCopyProcess, expectFailure, expectSuccess, filesBySize, fingerprint, MachineRoot, pingPath, PROD_HOST, RunOptions, RunResult,
  scratchDatabases, survivorsOf, TEST_HOST, RESTIC_PASSWORD, runScript, PATH_ENV,
} from './helpers/world';
import { describeWithRealParts, isRoot } from '../setup/real-parts';
import { leakedSecrets } from '../setup/secret-sentinels';
import { allPids, commandLineOf, processEntry } from '../../testing/harness/processes';
import { waitFor } from '../../testing/harness/wait';
import { Duration } from '../../lib/core/duration';

// The offsite target (BackupTarget.s3Compatible) against a real S3-compatible server: s3rver on
// loopback, behind a strict Signature V4 check (see helpers/s3-server.ts). Production's plan copies
// to the Storage Box and to the bucket; the drill restores from the bucket. The exact rendered
// scripts, with real PostgreSQL 15 and restic's S3 backend (ListObjectsV2, HEAD, ranged GET, PUT,
// DELETE). Needs root, as the end-to-end suite does.
const describeAsRoot = describeWithRealParts(isRoot, 'the offsite S3 suite', 'root (runuser, sshd)');

/** The repository's prefix in the bucket: the machine's server name (s3Compatible's default path). */
const PREFIX = PROD_HOST;

describeAsRoot('offsite S3 target, end to end against a real S3-compatible server', () => {
  jest.setTimeout(180_000);
  let tmp: string;
  let world: BackupWorld;
  let s3: S3Server;
  /** The test machine with its drill restoring from the offsite bucket. */
  let drillMachine: MachineRoot;
  const runs: RunResult[] = [];
  /** The command lines of the processes a job ran, sampled while it ran (what ps shows any local user). */
  const commandLines = new Set<string>();

  /** Runs a script and keeps its result, so that the last test can look for the S3 secrets in all of them. */
  const run = async (machine: MachineRoot, script: string, etc?: string, options: RunOptions = {}) => {
    const marker = Buffer.from(`SOVEREIGN_BACKUP_ETC=${etc ?? machine.etc}\0`);
    // The processes there before the job starts that lack its marker (the machine's, other suites') are read once, not
    // 25 times a second: reading every environ each time was most of this file's sampling CPU. None of them can be the
    // job's (its processes are forked after this first pass), and a process gets another environment only by exec, so
    // one of them could take the marker only if something outside the job exec'd it with this run's etc. Each is known
    // by its pid and start time (ProcessesBefore): a pid one of them leaves may go to the job's next process at once.
    const before = new ProcessesBefore();
    const sample = (first: boolean) => {
      for (const pid of allPids()) {
        if (before.skips(pid)) continue;
        try {
          const entry = first ? processEntry(pid) : undefined;
          if (environOf(pid).includes(marker)) {
            const args = commandLineOf(pid);
            if (args) commandLines.add(args.join(' '));
          } else if (entry !== undefined) {
            before.record(entry);
          }
        } catch {
          // The process ended while it was read.
        }
      }
    };
    sample(true);
    const sampler = setInterval(() => sample(false), 40);
    try {
      const result = await world.run(machine, script, etc, options);
      runs.push(result);
      return result;
    } finally {
      clearInterval(sampler);
    }
  };

  /**
   * A process's environment, read into one buffer kept for every read (the view is valid until the next call). The
   * sampler reads those of the processes not there before the job 25 times a second (every process's, until
   * 2026-12-07): readFileSync's fresh buffers for each read (a /proc file's size reads as 0), tens of MB a second to
   * allocate and collect, cost this file's worker a third of its CPU (scripts/slowest-tests.results.md).
   */
  let environ = Buffer.allocUnsafe(64 * 1024);
  const environOf = (pid: number): Buffer => {
    const fd = fs.openSync(`/proc/${pid}/environ`, 'r');
    try {
      for (let length = 0; ;) {
        if (length === environ.length) environ = Buffer.concat([environ, Buffer.allocUnsafe(environ.length)]);
        const read = fs.readSync(fd, environ, length, environ.length - length, null);
        if (read === 0) return environ.subarray(0, length);
        length += read;
      }
    } finally {
      fs.closeSync(fd);
    }
  };

  /**
   * Production's backup in both its copies (the Storage Box and the bucket), made once: by the happy path, else by the
   * first test that drills it, so that such a test also runs alone (`-t`).
   */
  let backedUp = false;
  const backUpOnce = async () => {
    if (backedUp) return;
    expect((await run(world.production, 'backup-bootstrap')).code).toBe(0);
    expectSuccess(await run(world.production, 'backup-dump'), PROD_HOST, 'dump');
    backedUp = true;
  };

  /** restic on the repository under `prefix` in the bucket, as the test host reaches it; its stdout. */
  const resticOnBucket = async (prefix: string, args: string[]): Promise<string> => (await promisify(execFile)('restic', ['--no-cache', ...args], {
    env: { ...process.env, RESTIC_PASSWORD, TZ: 'UTC', ...bucketRepository(s3, prefix).env },
  })).stdout;

  /** The content of `secrets/<name>.s3.env` for other connection details. */
  const s3Env = (details: { endpoint?: string; accessKeyId?: string; secretAccessKey?: string }) => [
    `ENDPOINT_B64=${b64(details.endpoint ?? s3.endpoint).trim()}`,
    `BUCKET_B64=${b64(s3.bucket).trim()}`,
    `ACCESS_KEY_ID_B64=${b64(details.accessKeyId ?? s3.credentials.accessKeyId).trim()}`,
    `SECRET_ACCESS_KEY_B64=${b64(details.secretAccessKey ?? s3.credentials.secretAccessKey).trim()}`,
    '',
  ].join('\n');
  /** Production with only the offsite target, and other connection details for it. */
  const prodOffsite = (settings: Record<string, string | number>, details: Parameters<typeof s3Env>[0] = {}) =>
    world.variant(world.production.etc, 'backup.conf', { TARGETS: 'offsite', ...settings }, { 'secrets/offsite.s3.env': s3Env(details) });
  const drillOffsite = (settings: Record<string, string | number>, details: Parameters<typeof s3Env>[0] = {}) =>
    world.variant(drillMachine.etc, 'drill.conf', settings, { 'secrets/source.s3.env': s3Env(details) });

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'backup-offsite-'));
    world = await BackupWorld.start(tmp, { offsite: true });
    s3 = world.s3!;
    drillMachine = world.layOut('test-offsite', { DRILL_KEEP_DATABASES: 1 }, { drillSource: 'offsite' });
    const { pg } = world;
    pg.sql('postgres', 'CREATE DATABASE app');
    pg.sql('postgres', 'CREATE DATABASE analytics');
    // What the fixture's drill checks query (users, orders), with a few value types; small: size proves nothing here.
    pg.sql('app', `CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL, created timestamptz NOT NULL, prefs jsonb);
      INSERT INTO users SELECT g, 'Nutzer ' || g || E' \\u00e9', timestamptz '2026-01-01 00:00:00+00' + g * interval '37 minutes',
        jsonb_build_object('n', g) FROM generate_series(1, 1000) g;
      CREATE TABLE orders (id bigserial PRIMARY KEY, user_id int NOT NULL REFERENCES users, amount numeric(12, 2), note text);
      INSERT INTO orders (user_id, amount, note) SELECT (g % 1000) + 1, g * 1.25, md5(g::text) FROM generate_series(1, 3000) g;`);
    pg.sql('analytics', "CREATE TABLE events (at timestamptz, kind text); INSERT INTO events SELECT now() - g * interval '1 hour', 'view' FROM generate_series(1, 200) g");
  });

  afterAll(async () => {
    await world?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('happy path: the dump streams to the Storage Box and the bucket, reads both back, and the drill restores every row from the bucket', async () => {
    const conf = fs.readFileSync(path.join(world.production.etc, 'backup.conf'), 'utf8');
    expect(conf).toMatch(/^TARGETS='storagebox offsite'$/m);
    expect(conf).toMatch(/^offsite_KIND='s3'$/m);
    // Every connection detail of the bucket is a secret file, not configuration.
    expect(conf).not.toContain(s3.credentials.accessKeyId);
    expect(conf).not.toContain(String(s3.port));

    expect((await run(world.production, 'backup-bootstrap')).code).toBe(0);
    expect(fs.existsSync(path.join(s3.objects(PREFIX), 'config._S3rver_object'))).toBe(true);

    const dump = await run(world.production, 'backup-dump');
    expectSuccess(dump, PROD_HOST, 'dump');
    expect(dump.pings[1].body).toMatch(/streamed to storagebox offsite and read back/);
    expect(dump.stderr).toMatch(/read back from offsite: \d+ databases/);
    backedUp = true;
    const push = await run(world.production, 'backup-push');
    expectSuccess(push, PROD_HOST, 'push');
    const packs = filesBySize(path.join(s3.objects(PREFIX), 'data')).filter((f) => f.endsWith('._S3rver_object'));
    expect(packs.length).toBeGreaterThan(0);

    const before = { app: fingerprint(world.pg, 'app'), analytics: fingerprint(world.pg, 'analytics') };
    const served = s3.requests.length;
    const drill = await run(drillMachine, 'restore-drill');
    expectSuccess(drill, TEST_HOST, 'restore-drill');
    expect(drill.pings[1].body).toMatch(/restored snapshot \w{8} of acme-production-app \(dump \d{8}T\d{6}Z, 0 hours old\): analytics app postgres; .*2 verification queries true/);
    // One copy is drilled by this run itself, not by a run per copy (audit: that went unnoticed): its summary alone, its lines its own.
    expect(drill.pings[1].body).toMatch(/^restored snapshot /);
    expect(drill.stderr).not.toMatch(/restore-drill@|drilling the copy/);
    const scratch = scratchDatabases(drill.pings[1].body);
    expect(fingerprint(world.pg, scratch.app)).toBe(before.app);
    expect(fingerprint(world.pg, scratch.analytics)).toBe(before.analytics);
    for (const db of Object.values(scratch)) world.pg.sql('postgres', `DROP DATABASE ${db}`);

    // The drill read the bucket over S3 (not a cache, not the Storage Box): listings, and packs by ranged GETs.
    const drillRequests = s3.since(served);
    expect(drillRequests.some((r) => r.method === 'GET' && /[?&]list-type=2/.test(r.url) && r.status === 200)).toBe(true);
    expect(drillRequests.some((r) => r.method === 'GET' && r.url.includes(`/${PREFIX}/data/`) && r.range !== undefined && r.status === 206)).toBe(true);
    // And the jobs used what restic's S3 backend needs: PUT and DELETE (its locks) and HEAD.
    const methods = new Set(s3.requests.filter((r) => r.status < 300).map((r) => r.method));
    expect([...methods].sort()).toEqual(expect.arrayContaining(['DELETE', 'GET', 'HEAD', 'PUT']));
  });

  test('a drill of both copies restores each into its own scratch databases and pings once; either copy failing fails it, named', async () => {
    await backUpOnce();
    // The Storage Box as the drill's source and the bucket as its additional one, as ProductStacks builds it from Phase 2.
    const both = world.layOut('test-both', { source_PORT: world.sftp.port, DRILL_KEEP_DATABASES: 1 }, { drillSource: 'both' });
    world.sftp.authorize(world.generateKey(both.etc));
    const production = { app: fingerprint(world.pg, 'app'), analytics: fingerprint(world.pg, 'analytics') };
    const scratchNow = () => world.pg.sql('postgres', "SELECT datname FROM pg_database WHERE datname LIKE 'restore\\_drill\\_%' ORDER BY 1").split('\n').filter(Boolean);
    const before = scratchNow();

    const served = s3.requests.length;
    const drill = await run(both, 'restore-drill');
    expectSuccess(drill, TEST_HOST, 'restore-drill');
    const summary = drill.pings[1].body;
    expect(summary).toMatch(new RegExp("^every copy of acme-production-app's newest backup restored: "
      + 'source \\(Storage Box in hel1\\): restored snapshot \\w{8} of acme-production-app \\(dump \\d{8}T\\d{6}Z, 0 hours old\\): analytics app postgres; .*; '
      + 'source2 \\(S3 bucket at Scaleway \\(FR\\)\\): restored snapshot \\w{8} of acme-production-app \\(dump \\d{8}T\\d{6}Z, 0 hours old\\): analytics app postgres; '));
    // Each copy came back whole into databases of its own, and the second copy's run left the first's in place.
    const kept = [...summary.matchAll(/kept until the next drill as ([\w ]+)/g)].map((m) => scratchDatabases(m[0]));
    expect(kept).toHaveLength(2);
    for (const scratch of kept) {
      expect(fingerprint(world.pg, scratch.app)).toBe(production.app);
      expect(fingerprint(world.pg, scratch.analytics)).toBe(production.analytics);
    }
    expect(scratchNow().filter((d) => !before.includes(d)).sort()).toEqual(kept.flatMap((k) => Object.values(k)).sort());
    // The bucket was read over S3 in this drill: its packs by ranged GETs.
    expect(s3.since(served).some((r) => r.method === 'GET' && r.url.includes(`/${PREFIX}/data/`) && r.range !== undefined && r.status === 206)).toBe(true);

    // The bucket's key refused: the drill fails, names the copy, its step and the provider's reason, and says which copy passed.
    const badBucket = world.variant(both.etc, 'drill.conf', {}, { 'secrets/source2.s3.env': s3Env({ secretAccessKey: 'not-the-secret-access-key-0123' }) });
    const bucketFails = await run(both, 'restore-drill', badBucket);
    expectFailure(bucketFails, TEST_HOST, 'restore-drill', new RegExp("^the drill failed on 1 of 2 copies of acme-production-app's backups: "
      + "source2 \\(S3 bucket at Scaleway \\(FR\\)\\) failed at step 'fetching the newest backup's manifest of acme-production-app from source2' \\(exit 1\\): "
      + 'cannot fetch the newest backup of acme-production-app from source2.*; passed: source \\(Storage Box in hel1\\): restored snapshot'));
    // One outcome for the run: its start and its failure, no ping of a copy's own.
    expect(bucketFails.pings.map((p) => p.path)).toEqual([pingPath(TEST_HOST, 'restore-drill', '/start'), pingPath(TEST_HOST, 'restore-drill', '/fail')]);
    expect(bucketFails.pings[1].body).toMatch(/signature we calculated does not match/);
    // The earlier drill's scratch databases went first; the passing copy's of this run are kept.
    expect(scratchNow().filter((d) => kept.some((k) => Object.values(k).includes(d)))).toEqual([]);

    // The first copy failing and the second passing fails too: a later success hides nothing.
    const boxFails = await run(both, 'restore-drill', world.variant(both.etc, 'drill.conf', { source_PORT: 1 }));
    expectFailure(boxFails, TEST_HOST, 'restore-drill', new RegExp("^the drill failed on 1 of 2 copies of acme-production-app's backups: "
      + 'source \\(Storage Box in hel1\\) failed at step .*cannot fetch the newest backup of acme-production-app from source .*; '
      + 'passed: source2 \\(S3 bucket at Scaleway \\(FR\\)\\): restored snapshot'));
    expect(boxFails.pings.map((p) => p.path)).toEqual([pingPath(TEST_HOST, 'restore-drill', '/start'), pingPath(TEST_HOST, 'restore-drill', '/fail')]);
    for (const db of scratchNow().filter((d) => !before.includes(d))) world.pg.sql('postgres', `DROP DATABASE ${db}`);

    // Stopped while a copy restores (systemctl stop, the 12-hour timeout, a shutdown: SIGTERM to every process of
    // the service): it fails and says so, and leaves no process, no scratch database and no partial success behind.
    const dropping = world.variant(both.etc, 'drill.conf', { DRILL_KEEP_DATABASES: 0 });
    const stopped = await run(both, 'restore-drill', dropping, { stopWhen: /restore-drill@source: step: restoring snapshot/ });
    expectFailure(stopped, TEST_HOST, 'restore-drill', /stopped by a signal/);
    expect(stopped.stderr).not.toMatch(/drilling the copy source2/);
    // The stopped copy's own last lines (it too was stopped, at its step) reach the journal and the run's failure ping:
    // its tee outlives the stop (audit: without that guard the drill passed this test and the lines were lost).
    // Its exit status is 1, or 143 (128 + SIGTERM) when its shell was waiting for a process as the signal came (seen
    // once in a loaded full run): a stop either way, and the message says so.
    const copyStopped = /restore-drill@source: FAILED \(exit (?:1|143)\) at step 'restoring snapshot \w{8} from source': stopped by a signal/;
    expect(stopped.stderr).toMatch(copyStopped);
    expect(stopped.pings[1].body).toMatch(copyStopped);
    expect(survivorsOf(dropping)).toEqual([]);
    expect(scratchNow().filter((d) => !before.includes(d))).toEqual([]);
  });

  // Audit: a copy's run killed before it writes its result (SIGKILL, as the OOM killer does) had no test. Without the
  // guard on reading that missing result, the run of all copies died at the read ("sed … exited with 2"): the copy
  // went unnamed and the next copy was never drilled.
  test('a copy\'s run killed mid-restore: the drill names that copy, still drills the next, and pings one failure listing it as passed', async () => {
    await backUpOnce();
    const both = world.layOut('test-both-killed', { source_PORT: world.sftp.port, DRILL_KEEP_DATABASES: 0 }, { drillSource: 'both' });
    world.sftp.authorize(world.generateKey(both.etc));
    const scratchNow = () => world.pg.sql('postgres', "SELECT datname FROM pg_database WHERE datname LIKE 'restore\\_drill\\_%' ORDER BY 1").split('\n').filter(Boolean);
    const before = scratchNow();
    let killed: number | undefined;
    const drill = await run(both, 'restore-drill', undefined, {
      onOutput: {
        when: /restore-drill@source: step: restoring snapshot/,
        act: () => {
          killed = drillCopyProcess(both.etc, 'source');
          if (killed !== undefined) process.kill(killed, 'SIGKILL');
        },
      },
    });
    expect(killed).toBeDefined();
    // The killed copy wrote nothing after its restore began; the second copy was drilled all the same, and passed.
    expect(drill.stderr).not.toMatch(/restore-drill@source: (OK|FAILED)/);
    expect(drill.stderr).toMatch(/step: drilling the copy source2 \(S3 bucket at Scaleway \(FR\)\)/);
    expect(drill.stderr).toMatch(/restore-drill@source2: OK: restored snapshot \w{8} of acme-production-app/);
    expectFailure(drill, TEST_HOST, 'restore-drill', new RegExp("^the drill failed on 1 of 2 copies of acme-production-app's backups: "
      + "source \\(Storage Box in hel1\\) failed at step 'restoring snapshot \\w{8} from source' \\(exit 137\\): it was killed by SIGKILL before it wrote its result "
      + '\\(the OOM killer sends SIGKILL: journalctl -k shows whether it did\\); '
      + 'passed: source2 \\(S3 bucket at Scaleway \\(FR\\)\\): restored snapshot \\w{8} of acme-production-app \\(dump \\d{8}T\\d{6}Z, 0 hours old\\): analytics app postgres; '
      + '.*2 verification queries true\n'));
    // One outcome for the run: its start and one failure.
    expect(drill.pings.map((p) => p.path)).toEqual([pingPath(TEST_HOST, 'restore-drill', '/start'), pingPath(TEST_HOST, 'restore-drill', '/fail')]);
    // The second copy dropped its scratch databases (DRILL_KEEP_DATABASES=0); only the killed copy's are left, for the next drill to drop.
    const scratchOf = (copy: string) => new RegExp(`restore-drill@${copy}: step: creating the scratch databases ([^\\n]+)`).exec(drill.stderr)![1].split(' ');
    const second = scratchOf('source2');
    expect(second).toHaveLength(3);
    const left = scratchNow().filter((d) => !before.includes(d));
    expect(left.filter((d) => second.includes(d))).toEqual([]);
    expect(left.sort()).toEqual(scratchOf('source').sort());
    for (const db of left) world.pg.sql('postgres', `DROP DATABASE ${db} WITH (FORCE)`);
  });

  // Audit (mutation): with several copies the lock moved into the run that starts them, and nothing showed that a
  // drill still refuses to run beside another (a manual run during the weekly one): without the lock both would
  // drop each other's scratch databases as an earlier drill's.
  test('the drill lock held by another drill: a drill of several copies fails before it reads any copy, and so does a drill of one', async () => {
    const both = world.layOut('test-both-locked', { source_PORT: world.sftp.port }, { drillSource: 'both' });
    // The machine's state directory: the last BACKUP_STATE of its drill.conf (the test world's override).
    const stateOf = (machine: MachineRoot) => [...fs.readFileSync(path.join(machine.etc, 'drill.conf'), 'utf8').matchAll(/^BACKUP_STATE='([^'\n]+)'$/gm)].pop()![1];
    for (const machine of [both, drillMachine]) {
      const lock = path.join(stateOf(machine), 'drill.lock');
      fs.mkdirSync(path.dirname(lock), { recursive: true });
      // Another drill holding the lock, as the running one does (flock on the lock file, kept until it ends).
      const holder = spawn('bash', ['-c', 'exec 9>"$1"; flock 9; echo held; exec sleep 120', 'holder', lock], { stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
        const served = s3.requests.length;
        const locked = await run(machine, 'restore-drill');
        expectFailure(locked, TEST_HOST, 'restore-drill', /^another restore drill is running on this machine/);
        expect(locked.stderr).not.toMatch(/drilling the copy|creating the scratch databases|restoring snapshot/);
        // The run of several copies takes the lock before it starts any: the bucket is not asked for anything.
        if (machine === both) expect(s3.since(served)).toEqual([]);
        expect(survivorsOf(machine.etc)).toEqual([]);
      } finally {
        holder.kill('SIGKILL');
      }
    }
  });

  test('wrong credentials: a wrong secret key or an unknown access key fails the push and the drill with the provider\'s reason', async () => {
    const wrongSecret = { secretAccessKey: 'not-the-secret-access-key-0123' };
    expectFailure(await run(world.production, 'backup-push', prodOffsite({ DUMP_DIR: path.join(tmp, 'production-dumps') }, wrongSecret)), PROD_HOST, 'push',
      /push failed for offsite[\s\S]*signature we calculated does not match/);
    expectFailure(await run(world.production, 'backup-dump', prodOffsite({ DUMP_DIR: path.join(tmp, 'dumps-unknown-key') }, { accessKeyId: 'AKIAUNKNOWN0000000' })), PROD_HOST, 'dump',
      /streaming it failed for offsite[\s\S]*Access Key Id you provided does not exist/);
    expectFailure(await run(drillMachine, 'restore-drill', drillOffsite({}, wrongSecret)), TEST_HOST, 'restore-drill',
      /cannot fetch the newest backup of acme-production-app from source[\s\S]*signature we calculated does not match/);
  });

  test('server down: the dump keeps its local copy and fails, the push sends it once the server is back, the drill fails', async () => {
    // Port 1 (tcpmux): privileged and unused, so nothing another test starts can take it.
    const down = { endpoint: 'http://127.0.0.1:1' };
    const dumps = path.join(tmp, 'dumps-s3-down');
    const dump = await run(world.production, 'backup-dump', prodOffsite({ DUMP_DIR: dumps }, down));
    expectFailure(dump, PROD_HOST, 'dump', /dump \d{8}T\d{6}Z is kept on this machine, but streaming it failed for offsite[\s\S]*connection refused/i);
    const [kept] = fs.readdirSync(dumps);
    expect(fs.readdirSync(path.join(dumps, kept))).not.toContain('.pushed.offsite');
    // A refused connection costs no timeout: the backup tries once more itself (the endpoint may be back by then).
    const unreachable = /offsite: the repository cannot be reached/;
    expect(dump.stderr).not.toMatch(unreachable);
    // Audit (eighth pass): the endpoint named by its host: Go names the address it dialled, the host's IP, which the
    // redaction of the endpoint left in the log and the failure ping.
    const pushDown = await run(world.production, 'backup-push', prodOffsite({ DUMP_DIR: dumps }, { endpoint: 'http://localhost:1' }));
    expectFailure(pushDown, PROD_HOST, 'push', /push failed for offsite[\s\S]*dial tcp <s3-endpoint>: connect: connection refused/i);
    expect(pushDown.stderr).not.toMatch(unreachable);
    expect(pushDown.stderr).not.toMatch(/127\.0\.0\.1:1|\[::1\]:1|localhost/);
    expect(pushDown.pings[1].body).not.toMatch(/127\.0\.0\.1:1|\[::1\]:1|localhost/);
    const push = await run(world.production, 'backup-push', prodOffsite({ DUMP_DIR: dumps }));
    expectSuccess(push, PROD_HOST, 'push');
    expect(push.stderr).toMatch(new RegExp(`dump ${kept} is snapshot \\w{8} \\(manifest \\w{8}\\) on offsite; read back from offsite: \\d+ databases, \\d+ bytes, every checksum matches`));
    expect(fs.readdirSync(path.join(dumps, kept))).toContain('.pushed.offsite');
    expectFailure(await run(drillMachine, 'restore-drill', drillOffsite({}, down)), TEST_HOST, 'restore-drill',
      /cannot fetch the newest backup of acme-production-app from source[\s\S]*connection refused/i);
  });

  // Audit (eighth pass): a lock listing whose S3 dial timed out once, which restic's own retry got past, and that then
  // failed for another reason made the backup fail at once as unreachable, without its own try: only the final failure
  // (restic's "Fatal:" line) counts. A stand-in restic adds the retried timeout (a real one takes Go's 30 s dial timeout)
  // and lists with a wrong password: the listing fails, not for a timeout, and the dump goes on and backs up.
  test('a dial timeout that restic retried past, then another failure of the lock listing: the dump still backs up', async () => {
    const bin = path.join(tmp, 'bin-retried-timeout');
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, 'restic'), `#!/bin/bash
case " $* " in
  *" list locks "*)
    address=\${RESTIC_REPOSITORY#s3:http://} address=\${address%%/*}
    printf 'List(lock) returned error, retrying after 552.330144ms: Get "http://%s/": dial tcp %s: i/o timeout\\n' "$address" "$address" >&2
    exec /usr/bin/restic "$@" --password-command 'echo not-the-password' ;;
esac
exec /usr/bin/restic "$@"
`, { mode: 0o755 });
    const dump = await run(world.production, 'backup-dump', prodOffsite({ DUMP_DIR: path.join(tmp, 'dumps-s3-retried') }), { env: { PATH: `${bin}:${PATH_ENV}` } });
    expectSuccess(dump, PROD_HOST, 'dump');
    expect(dump.stderr).toMatch(/offsite: cannot list the repository's locks: none removed before the backup/);
    expect(dump.stderr).not.toMatch(/offsite: the repository cannot be reached/);
  });

  test('corrupted objects in the bucket: the check and the drill fail, neither reports success', async () => {
    // A repository of its own in the bucket, so that the other tests keep a sound one.
    const prefix = 'corrupt-objects';
    const etc = prodOffsite({ offsite_REPO_PATH: prefix, DUMP_DIR: path.join(tmp, 'dumps-s3-corrupt') });
    expect((await run(world.production, 'backup-bootstrap', etc)).code).toBe(0);
    expectSuccess(await run(world.production, 'backup-dump', etc), PROD_HOST, 'dump');
    // Bit rot in the provider's storage: every data object (pack) of the repository. (That a dump
    // deduplicating onto damaged packs fails its read-back is proved over SFTP in false-successes;
    // this dump is too small to share chunks with the next one.)
    const packs = filesBySize(path.join(s3.objects(prefix), 'data')).filter((f) => f.endsWith('._S3rver_object'));
    expect(packs.length).toBeGreaterThan(0);
    packs.forEach(corrupt);

    expectFailure(await run(world.production, 'backup-check', world.variant(etc, 'backup.conf', { CHECK_READ_SLICES: 1 })), PROD_HOST, 'check',
      /check failed for offsite: restic check reading slice 1\/1 failed/);
    expectFailure(await run(drillMachine, 'restore-drill', drillOffsite({ source_REPO_PATH: prefix })), TEST_HOST, 'restore-drill',
      /ciphertext verification failed|differs from its checksum|restic dump of snapshot \w{8} from source failed|cannot fetch the newest backup/);
  });

  /** The snapshots of the Storage Box's repository tagged `dump-<stamp>` (its stream and its manifest), by tag. */
  const storageBoxSnapshotsOf = (stamp: string): string[] => JSON.parse(execFileSync('restic',
    ['-r', path.join(world.sftp.home, 'restic'), '--no-lock', '--no-cache', 'snapshots', '--json', '--tag', `dump-${stamp}`],
    { encoding: 'utf8', env: { ...process.env, RESTIC_PASSWORD } })).flatMap((s: { tags: string[] }) => s.tags.filter((t) => t.startsWith('sovereign-'))).sort();

  test('disk full at the dump location: the dump still reaches the Storage Box and the bucket, each copy restores, and the job fails naming the disk', async () => {
    const disk = world.smallDisk('full-disk', 4 * 1024 * 1024);
    const dumps = path.join(disk, 'postgresql');
    const etc = world.variant(world.production.etc, 'backup.conf', { DUMP_DIR: dumps, LOCAL_COPIES: 1, DUMP_RESERVE_MB: 0 });
    // An earlier dump that fitted: the only local copy, which the local retention (1 copy) must keep.
    expectSuccess(await run(world.production, 'backup-dump', etc), PROD_HOST, 'dump');
    const [earlier] = fs.readdirSync(dumps);
    // Then the disk fills up but for 16 KiB, less than app's dump, and app gets a row the earlier dump lacks.
    BackupWorld.fillDisk(disk, 16 * 1024);
    world.pg.sql('app', "INSERT INTO users VALUES (1001, 'after the disk filled up', now(), '{}')");
    const before = fingerprint(world.pg, 'app');

    const dump = await run(world.production, 'backup-dump', etc);
    expectFailure(dump, PROD_HOST, 'dump', new RegExp(`no space left on the disk of ${dumps}: the local copy of dump \\d{8}T\\d{6}Z could not be written`
      + '[\\s\\S]*the remote copies are complete: it was streamed to storagebox offsite and read back from each[\\s\\S]*Fix: free space on that disk'));
    const stamp = /the local copy of dump (\d{8}T\d{6}Z)/.exec(dump.pings.find((p) => p.path.endsWith('/fail'))!.body)![1];
    expect(stamp > earlier).toBe(true);
    // Nothing of the new dump stays where the push, the local retention or a restore by hand would take it for a
    // complete one; the earlier dump is whole.
    expect(fs.readdirSync(dumps)).toEqual([earlier]);
    execFileSync('sha256sum', ['--quiet', '--strict', '-c', 'SHA256SUMS'], { cwd: path.join(dumps, earlier) });
    const push = await run(world.production, 'backup-push', etc);
    expectSuccess(push, PROD_HOST, 'push');
    expect(push.pings[1].body).toContain(`pushed dump ${earlier}`);

    // Each remote copy is the new dump, and restores: from the bucket every row, from the Storage Box as well.
    expect(storageBoxSnapshotsOf(stamp)).toEqual(['sovereign-dump', 'sovereign-dump-data']);
    const fromBucket = await run(drillMachine, 'restore-drill');
    expectSuccess(fromBucket, TEST_HOST, 'restore-drill');
    expect(fromBucket.pings[1].body).toMatch(new RegExp(`\\(dump ${stamp}, 0 hours old\\): analytics app postgres; .*2 verification queries true`));
    const scratch = scratchDatabases(fromBucket.pings[1].body);
    expect(fingerprint(world.pg, scratch.app)).toBe(before);
    for (const db of Object.values(scratch)) world.pg.sql('postgres', `DROP DATABASE ${db}`);
    const fromBox = await run(world.test, 'restore-drill', world.variant(world.test.etc, 'drill.conf', { DRILL_KEEP_DATABASES: 0 }));
    expectSuccess(fromBox, TEST_HOST, 'restore-drill');
    expect(fromBox.pings[1].body).toMatch(new RegExp(`\\(dump ${stamp}, 0 hours old\\): analytics app postgres; .*2 verification queries true`));
  });

  test('disk full and the bucket down: the Storage Box gets the dump, and the failure names both the disk and the bucket', async () => {
    const disk = world.smallDisk('full-disk-bucket-down', 1024 * 1024);
    BackupWorld.fillDisk(disk, 16 * 1024);
    const dumps = path.join(disk, 'postgresql');
    const etc = world.variant(world.production.etc, 'backup.conf', { DUMP_DIR: dumps, DUMP_RESERVE_MB: 0 }, { 'secrets/offsite.s3.env': s3Env({ endpoint: 'http://127.0.0.1:1' }) });
    const dump = await run(world.production, 'backup-dump', etc);
    expectFailure(dump, PROD_HOST, 'dump', new RegExp(`no space left on the disk of ${dumps}: the local copy of dump \\d{8}T\\d{6}Z could not be written`
      + '[\\s\\S]*it was streamed to storagebox and read back from it; it failed for offsite: restic backup of dump \\d{8}T\\d{6}Z failed \\([^)]*connection refused'
      + '[\\s\\S]*Fix: free space on that disk', 'i'));
    const stamp = /the local copy of dump (\d{8}T\d{6}Z)/.exec(dump.pings.find((p) => p.path.endsWith('/fail'))!.body)![1];
    expect(storageBoxSnapshotsOf(stamp)).toEqual(['sovereign-dump', 'sovereign-dump-data']);
    expect(fs.readdirSync(dumps)).toEqual([]);
  });

  // Audit (second pass): the drill tells a dump that runs from one that died by the repository's restic locks
  // (restic_locks), proved over SFTP only (drill-dump-writer). On the bucket the locks are objects under <prefix>/locks/,
  // listed and read over S3. A limit of 0 hours makes every dump late, so the drill reads the locks on each run here.
  test('the drill reads the bucket\'s restic locks: a running dump\'s is seen, an unreadable one counts as unknown, none is none', async () => {
    const prefix = 'locks-on-s3';
    const etc = prodOffsite({ offsite_REPO_PATH: prefix, DUMP_DIR: path.join(tmp, 'dumps-s3-locks'), PG_DATABASES: 'app' });
    expect((await run(world.production, 'backup-bootstrap', etc)).code).toBe(0);
    expectSuccess(await run(world.production, 'backup-dump', etc), PROD_HOST, 'dump');
    const drillEtc = drillOffsite({ source_REPO_PATH: prefix, MAX_AGE_HOURS: 0, DRILL_KEEP_DATABASES: 0 });
    const late = (seen: string) => new RegExp(`\\(dump \\d{8}T\\d{6}Z, 0 hours old \\(older than the limit of 0 hours: ${seen}; the drill fails past \\d+\\)\\)`);
    const repository = bucketRepository(s3, prefix);
    const lockObjects = () => locksOf(repository);

    // No job runs: the bucket holds no lock, and the drill says that no dump writes.
    expect(lockObjects()).toEqual([]);
    const idle = await run(drillMachine, 'restore-drill', drillEtc);
    expectSuccess(idle, TEST_HOST, 'restore-drill');
    expect(idle.pings[1].body).toMatch(late('no dump of acme-production-app writes to source yet, and one may be starting'));

    // A dump held in pg_dump by a table lock: its restic backup streams to the bucket under a lock it refreshes.
    const release = await world.pg.holdTable('app', 'users');
    let dumping = false;
    let dump: Promise<RunResult> | undefined;
    try {
      // It runs until release() below, after three drills: on a loaded machine longer than a job's own 100 s (a CI beside
      // other work killed it so, code null).
      dump = run(world.production, 'backup-dump', etc, { onOutput: { when: /step: dumping app/, act: () => { dumping = true; } }, timeout: Duration.minutes(5) });
      await waitFor(() => dumping && lockObjects().length > 0, { timeout: Duration.minutes(1), what: "the dump's restic to hold a lock in the bucket" });
      const served = s3.requests.length;
      const writing = await run(drillMachine, 'restore-drill', drillEtc);
      expectSuccess(writing, TEST_HOST, 'restore-drill');
      expect(writing.pings[1].body).toMatch(late('a restic process \\(a backup or a reader\\) holds a lock on source now \\(restic pid \\d+ on [\\w.-]+, '
        + 'its lock refreshed 0 minutes ago\\), so a dump of acme-production-app may be writing'));
      // The drill read the locks over S3: their listing and each lock object.
      const read = s3.since(served);
      expect(read.some((r) => r.method === 'GET' && /[?&]prefix=[^&]*locks/.test(r.url) && r.status === 200)).toBe(true);
      expect(read.some((r) => r.method === 'GET' && r.url.includes(`/${prefix}/locks/`) && r.status < 300)).toBe(true);

      // A lock object that cannot be read (damaged in the bucket) may be a writer's: unknown, not none.
      const [lock] = lockObjects();
      const file = path.join(repository.locks, `${lock}${repository.suffix}`);
      const saved = fs.readFileSync(file);
      corrupt(file);
      try {
        const unreadable = await run(drillMachine, 'restore-drill', drillEtc);
        expectSuccess(unreadable, TEST_HOST, 'restore-drill');
        expect(unreadable.pings[1].body).toMatch(late('the locks of source could not all be read, so a dump of acme-production-app may be running'));
      } finally {
        fs.writeFileSync(file, saved);
      }
    } finally {
      release();
    }
    // The dump the drills ran beside was not disturbed by them (its pings among theirs, which came while it ran).
    const dumped = await dump!;
    expect({ code: dumped.code, stderr: dumped.code === 0 ? '' : dumped.stderr }).toEqual({ code: 0, stderr: '' });
    expect(dumped.pings.filter((p) => p.path.includes(`${PROD_HOST}-dump`)).map((p) => p.path)).toEqual([pingPath(PROD_HOST, 'dump', '/start'), pingPath(PROD_HOST, 'dump')]);
    expect(lockObjects()).toEqual([]);

    // restic refreshes a running backup's lock every 5 minutes by writing it under a new name and removing the old
    // one. A refresh between the drill's listing and its read of the lock made the drill read no lock (the old one
    // gone, the new one never read) and take a writing dump for none: the short window, a false alarm. Here the
    // refresh comes exactly there: the drill's first `restic cat lock` waits (a shim on its PATH) while a second
    // restic backup takes a lock and the first one goes with its lock, as a refreshed lock does.
    const resticEnv = {
      ...process.env, RESTIC_PASSWORD, RESTIC_REPOSITORY: `s3:${s3.endpoint}/${s3.bucket}/${prefix}`,
      AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
    };
    /** A restic backup of stdin on the bucket, writing until it is killed (its stdin stays open). */
    const backup = () => spawn('restic', ['--no-cache', 'backup', '--stdin', '--stdin-filename', 'held', '--host', PROD_HOST, '--tag', 'held'],
      { env: resticEnv, stdio: ['pipe', 'ignore', 'ignore'] });
    const shim = path.join(tmp, 'bin-refresh');
    const asked = path.join(shim, 'asked');
    const go = path.join(shim, 'go');
    fs.mkdirSync(shim);
    execFileSync('mkfifo', [go]);
    fs.writeFileSync(path.join(shim, 'restic'), '#!/bin/bash\n'
      + `if [[ " $* " == *" cat lock "* ]] && [ ! -e ${asked} ]; then : >${asked}; read -r _ <${go}; fi\n`
      + 'exec /usr/bin/restic "$@"\n', { mode: 0o755 });
    const first = backup();
    const second: { process?: ReturnType<typeof spawn> } = {};
    try {
      await waitFor(() => lockObjects().length === 1, { timeout: Duration.minutes(1), what: "a restic backup's lock in the bucket" });
      const [old] = lockObjects();
      const refreshing = runScript(path.join(drillMachine.root, 'usr/local/sbin/restore-drill'), world.receiver,
        { TMPDIR: tmp, SOVEREIGN_BACKUP_ETC: drillEtc, PATH: `${shim}:${PATH_ENV}` });
      await waitFor(() => fs.existsSync(asked), { timeout: Duration.minutes(1), what: 'the drill to list the locks and read the first' });
      second.process = backup();
      await waitFor(() => lockObjects().length === 2, { timeout: Duration.minutes(1), what: "the refreshed lock's new name" });
      first.kill('SIGKILL');
      await new Promise((resolve) => first.once('exit', resolve));
      for (const f of fs.readdirSync(repository.locks).filter((f) => f.startsWith(old))) fs.rmSync(path.join(repository.locks, f));
      fs.writeFileSync(go, 'go\n');
      const refreshed = await refreshing;
      runs.push(refreshed);
      expectSuccess(refreshed, TEST_HOST, 'restore-drill');
      expect(refreshed.pings[1].body).toMatch(late(`a restic process \\(a backup or a reader\\) holds a lock on source now \\(restic pid ${second.process.pid} on [\\w.-]+, `
        + 'its lock refreshed 0 minutes ago\\), so a dump of acme-production-app may be writing'));
    } finally {
      for (const p of [first, second.process]) p?.kill('SIGKILL');
    }
    // Longer than the held dump's 5 minutes, so that a slow run fails on the dump's own result, not on jest's clock
    // with the dump still running beside the next tests.
  }, 420_000);

  // Audit (sixth pass): a stale exclusive lock was proved over SFTP only (stale-locks, rotate-keys). In the bucket a lock
  // is an object under <prefix>/locks/, which restic lists, reads and deletes over S3; a check, a prune or a key change
  // killed mid-run leaves it there, and restic refuses every backup beside it, stale or not. The push failed (and paged)
  // until the next check or prune removed it; it removes the stale locks itself now, and another machine's live lock stays.
  test("a killed key change's exclusive lock in the bucket: the push, the prune and the key rotation remove it and do their work; another machine's live lock stays and fails the push", async () => {
    const prefix = 'stale-lock-s3';
    const uploads = path.join(tmp, 'uploads-stale-lock');
    fs.mkdirSync(uploads);
    fs.writeFileSync(path.join(uploads, 'contract.pdf'), 'contract 1\n');
    const etc = prodOffsite({ offsite_REPO_PATH: prefix, DUMP_DIR: path.join(tmp, 'dumps-stale-lock'), PG_DATABASES: 'app', FILE_PATHS: uploads });
    expect((await run(world.production, 'backup-bootstrap', etc)).code).toBe(0);
    expectSuccess(await run(world.production, 'backup-dump', etc), PROD_HOST, 'dump');
    const lockObjects = () => locksOf(bucketRepository(s3, prefix));
    const running: ChildProcess[] = [];
    /** A key change of this host that took its exclusive lock in the bucket, SIGKILLed: the lock stays, stale. */
    const staleLock = async (password = RESTIC_PASSWORD) => {
      const held = await holdResticLock(bucketRepository(s3, prefix), 'exclusive', running, password);
      await killHolder(held);
      expect(lockObjects()).toEqual([held.lock]);
      return held.lock;
    };
    try {
      const lock = await staleLock();
      const push = await run(world.production, 'backup-push', etc);
      expectSuccess(push, PROD_HOST, 'push');
      expect(push.stderr).toMatch(new RegExp(`offsite: restic unlock removed the stale lock ${lock.slice(0, 8)}: the exclusive lock of restic pid \\d+ on [\\w.-]+, last refreshed \\d+ minutes ago`));
      expect(lockObjects()).toEqual([]);

      // The prune removes one too, before its own work.
      await staleLock();
      const prune = await run(world.production, 'backup-prune', etc);
      expectSuccess(prune, PROD_HOST, 'prune');
      expect(prune.stderr).toMatch(/offsite: removing stale locks of the repository, if any \(restic unlock\)/);
      expect(lockObjects()).toEqual([]);

      // A rollout that changes the bucket's restic password, with another stale exclusive lock there.
      await staleLock();
      const previousRoot = path.join(tmp, 'previous-stale-lock');
      const secret = path.join(etc, 'secrets/offsite.restic.b64');
      fs.mkdirSync(path.dirname(path.join(previousRoot, secret)), { recursive: true });
      fs.copyFileSync(secret, path.join(previousRoot, secret));
      const rotated = 'a rotated bucket password 9%';
      fs.writeFileSync(secret, b64(rotated), { mode: 0o600 });
      const rotation = await run(world.production, 'backup-rotate-keys', etc, { env: { SOVEREIGN_PREVIOUS_ROOT: previousRoot } });
      if (rotation.code !== 0) throw new Error(`backup-rotate-keys failed (exit ${rotation.code}):\n${rotation.stderr}`);
      expect(rotation.stderr).toMatch(/offsite: removing stale locks of the repository, if any \(restic unlock\)/);
      expect(rotation.stderr).toMatch(/OK: restic keys rotated: offsite; unchanged: none/);
      expect(lockObjects()).toEqual([]);
      expectSuccess(await run(world.production, 'backup-push', etc), PROD_HOST, 'push');

      // Another machine's key change in the bucket, running (a new password of its own): its lock stays, and the push fails naming it.
      const other = await holdResticLock(bucketRepository(s3, prefix), 'exclusive', running, rotated, 'another-machine');
      expectFailure(await run(world.production, 'backup-push', etc), PROD_HOST, 'push',
        /offsite: restic backup of .*uploads-stale-lock failed \(.*repository is already locked exclusively by PID \d+ on another-machine/);
      expect(lockObjects()).toEqual([other.lock]);
    } finally {
      for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  // Audit (sixth pass): a prune kept waiting by a file snapshot without a record that nothing supersedes names the restic
  // forget to run by hand (restic_by_hand); its S3 form was untested, and it gave restic the repository as an argument:
  // the bucket's endpoint and name, secrets that the jobs keep out of argv (ps shows argv to every local user).
  test("the prune's forget by hand for the bucket: no secret in the line, none in restic's command line, and it forgets the snapshot", async () => {
    const prefix = 'by-hand-s3';
    // The plan backs up a path; its file snapshots' retention waits for one of a path retired from the plan.
    const [uploads, retired] = [path.join(tmp, 'uploads-by-hand'), path.join(tmp, 'retired-by-hand')];
    for (const dir of [uploads, retired]) fs.mkdirSync(dir);
    const etc = prodOffsite({ offsite_REPO_PATH: prefix, DUMP_DIR: path.join(tmp, 'dumps-by-hand'), PG_DATABASES: 'app', FILE_PATHS: uploads,
      TAGS: 'sovereign-dump sovereign-files' });
    expect((await run(world.production, 'backup-bootstrap', etc)).code).toBe(0);
    expectSuccess(await run(world.production, 'backup-dump', etc), PROD_HOST, 'dump');
    fs.writeFileSync(path.join(uploads, 'invoice.pdf'), 'invoice 1\n');
    expectSuccess(await run(world.production, 'backup-push', etc), PROD_HOST, 'push');
    fs.writeFileSync(path.join(retired, 'old.csv'), 'a path no longer in the plan\n');
    const conf = fs.readFileSync(path.join(etc, 'backup.conf'), 'utf8');
    const [pushRuns, maxAge] = ['FILES_IN_PROGRESS_HOURS', 'MAX_AGE_HOURS'].map((name) => Number(new RegExp(`^${name}=['"]?([\\d.]+)`, 'm').exec(conf)![1]));
    const time = new Date(Date.now() - (pushRuns + maxAge + 1) * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
    await resticOnBucket(prefix, ['backup', '--time', time, '--host', PROD_HOST, '--tag', 'sovereign-files', retired]);
    const ids = async () => (JSON.parse(await resticOnBucket(prefix, ['--no-lock', 'snapshots', '--json', '--tag', 'sovereign-files'])) ?? [])
      .filter((s: { paths: string[] }) => s.paths.includes(retired)).map((s: { id: string }) => s.id);
    const [id] = await ids();

    const prune = await run(world.production, 'backup-prune', etc);
    expectFailure(prune, PROD_HOST, 'prune', new RegExp(`on offsite, file snapshots without a record are older than a push runs and the backup age limit[^\\n]*: ${id}\\. Fix: once you know`));
    const line = new RegExp(`forget them \\(as root, in sudo -i or sudo bash -c '…': (\\(\\. [^\\n]* forget ${id}\\))\\), then run backup-prune again`).exec(prune.stderr)?.[1];
    expect(line).toBeDefined();
    // sudo bash -c '<line>' takes it whole; and restic leaves no cache in root's home, as the jobs' cache lives for their run.
    expect(line).not.toContain("'");
    expect(line).toMatch(/ restic --no-cache forget /);
    const secrets = [s3.credentials.accessKeyId, s3.credentials.secretAccessKey, s3.endpoint, `127.0.0.1:${s3.port}`, s3.bucket, RESTIC_PASSWORD];
    expect(secrets.filter((secret) => line!.includes(secret) || line!.includes(b64(secret).trim()))).toEqual([]);

    // Run by an operator who is not root, the secret file cannot be read: the line stops there (bash goes on after a
    // failed `.`, and restic ran on "s3:/" without keys, failing with a message about neither). A restic in a directory
    // every account reaches stands in for restic and says that it ran.
    const shared = fs.mkdtempSync(path.join(os.tmpdir(), 'by-hand-not-root-'));
    try {
      fs.chmodSync(shared, 0o755);
      fs.writeFileSync(path.join(shared, 'restic'), '#!/bin/sh\necho "restic ran" >&2\nexit 3\n', { mode: 0o755 });
      const notRoot = spawnSync('runuser', ['-u', 'nobody', '--', 'bash', '-c', line!], { env: { PATH: `${shared}:${PATH_ENV}`, HOME: shared }, encoding: 'utf8' });
      expect({ status: notRoot.status, stderr: notRoot.stderr }).toEqual({ status: 1, stderr: expect.stringContaining(path.join(etc, 'secrets/offsite.s3.env')) });
      expect(notRoot.stderr).not.toContain('restic ran');
    } finally {
      fs.rmSync(shared, { recursive: true, force: true });
    }

    // Run as printed in a root shell on the machine, restic's command line (what ps shows) recorded by a shim.
    const bin = path.join(tmp, 'bin-argv');
    fs.mkdirSync(bin);
    const argv = path.join(tmp, 'restic-argv');
    fs.writeFileSync(path.join(bin, 'restic'), `#!/bin/bash\nprintf '%s\\n' "$*" >>'${argv}'\nexec /usr/bin/restic "$@"\n`, { mode: 0o755 });
    const home = path.join(tmp, 'home-by-hand');
    fs.mkdirSync(home);
    await promisify(execFile)('bash', ['-c', line!], { env: { PATH: `${bin}:${PATH_ENV}`, HOME: home } });
    const ran = fs.readFileSync(argv, 'utf8');
    expect(ran).toMatch(new RegExp(`forget ${id}`));
    expect(secrets.filter((secret) => ran.includes(secret))).toEqual([]);
    expect(await ids()).toEqual([]);
    // No cache of the repository left in root's home.
    expect(fs.readdirSync(home)).toEqual([]);
    expectSuccess(await run(world.production, 'backup-prune', etc), PROD_HOST, 'prune');
  });

  // Audit (second pass): the file backup (tag sovereign-files), its record (sovereign-files-record) and the drill's
  // restore --verify of them were proved over SFTP only (drill-files). Here a plan backs up a path to the bucket alone,
  // and the test machine drills it from there; then a pack of the files is damaged in the bucket, as bit rot at the
  // provider would.
  test('files to the bucket: the push backs them up with their record, the drill restores them from it; a damaged pack there fails the drill', async () => {
    const prefix = 'files-on-s3';
    const uploads = path.join(tmp, 'srv-s3', 'uploads');
    fs.mkdirSync(path.join(uploads, 'avatars'), { recursive: true });
    // Content restic can neither compress nor deduplicate: the largest pack the push adds.
    fs.writeFileSync(path.join(uploads, 'avatars', 'u1.png'), randomBytes(300_000));
    fs.writeFileSync(path.join(uploads, 'contract.pdf'), '%PDF-1.4 contract\n'.repeat(200));
    const files = world.layOut('production-files-s3', {
      storagebox_PORT: world.sftp.port, TARGETS: 'offsite', offsite_REPO_PATH: prefix, PG_DATABASES: 'app',
    }, { filePaths: [uploads] });
    expect((await run(files, 'backup-bootstrap')).code).toBe(0);
    expectSuccess(await run(files, 'backup-dump'), PROD_HOST, 'dump');
    const packsNow = () => filesBySize(path.join(s3.objects(prefix), 'data')).filter((f) => f.endsWith('._S3rver_object'));
    const beforeFiles = new Set(packsNow());
    const push = await run(files, 'backup-push');
    expectSuccess(push, PROD_HOST, 'push');
    expect(push.stderr).toMatch(/files \(\S+uploads\) are snapshot \w{8} on offsite \(2 files, [\d.]+KiB\), its trees read back, its record written/);
    // The file snapshot and its record are in the bucket, under the machine's host.
    // (Asynchronously: the S3 server answers from this process.)
    const tagged = async (tag: string) => JSON.parse(await resticOnBucket(prefix, ['--no-lock', 'snapshots', '--json', '--host', PROD_HOST, '--tag', tag])).length;
    expect([await tagged('sovereign-files'), await tagged('sovereign-files-record')]).toEqual([1, 1]);

    const drillEtc = drillOffsite({ source_REPO_PATH: prefix, DRILL_KEEP_DATABASES: 0 });
    const served = s3.requests.length;
    const drill = await run(drillMachine, 'restore-drill', drillEtc);
    expectSuccess(drill, TEST_HOST, 'restore-drill');
    const size = 300_000 + '%PDF-1.4 contract\n'.length * 200;
    expect(drill.pings[1].body).toMatch(new RegExp('verification queries true; file snapshot \\w{8} \\(0 hours old\\): 2 files, [\\d.]+KiB restored and read back, '
      + `matching the record of its push: ${uploads} \\(2 files, 2 directories, ${size} bytes\\)`));
    // The files came from the bucket, their packs by ranged GETs.
    const filePacks = packsNow().filter((p) => !beforeFiles.has(p));
    expect(filePacks.length).toBeGreaterThan(0);
    expect(s3.since(served).some((r) => r.method === 'GET' && filePacks.some((p) => r.url.endsWith(`/data/${path.basename(path.dirname(p))}/${path.basename(p, '._S3rver_object')}`)) && r.status === 206)).toBe(true);

    // Bit rot at the provider in the files' largest pack: the databases still restore, the files do not, and the drill fails.
    const [pack] = filePacks.sort((a, b) => fs.statSync(b).size - fs.statSync(a).size);
    corrupt(pack);
    const damaged = await run(drillMachine, 'restore-drill', drillEtc);
    expectFailure(damaged, TEST_HOST, 'restore-drill', /restic restore of file snapshot \w{8} \(\S+uploads\) from source failed/);
    expect(damaged.stderr).toMatch(/step: verification query 02-users-present on app[\s\S]*step: restoring file snapshot/);
  });

  // Audit (eighth pass, second review): while any target's file snapshots could not be listed (is this an unrestored
  // rebuild?), the first file backup was held back from every target: a new machine's uploads reached not even the
  // Storage Box that answered. And with no dump yet (a first dump that refused), the push stopped before the files.
  test('a first file backup while the bucket is down: the files reach the Storage Box, the push fails naming the bucket and checks it again once it answers', async () => {
    const uploads = path.join(tmp, 'srv-two', 'uploads');
    fs.mkdirSync(uploads, { recursive: true });
    fs.writeFileSync(path.join(uploads, 'contract.pdf'), '%PDF-1.4 first customer\n');
    const state = path.join(tmp, 'state-files-two');
    const settings = {
      storagebox_REPO_PATH: 'files-two', offsite_REPO_PATH: 'files-two', FILE_PATHS: uploads, PG_DATABASES: 'app', BACKUP_STATE: state,
      DUMP_DIR: path.join(tmp, 'dumps-files-two'),
    };
    const etc = world.variant(world.production.etc, 'backup.conf', settings);
    expect((await run(world.production, 'backup-bootstrap', etc)).code).toBe(0);
    expectSuccess(await run(world.production, 'backup-dump', etc), PROD_HOST, 'dump');
    const recorded = path.join(state, 'files-backed-up-from-this-machine');

    // The bucket refuses connections: the Storage Box was listed and gets the files; the bucket is named, with restic's error.
    const down = world.variant(etc, 'backup.conf', {}, { 'secrets/offsite.s3.env': s3Env({ endpoint: 'http://127.0.0.1:1' }) });
    const pushDown = await run(world.production, 'backup-push', down);
    expectFailure(pushDown, PROD_HOST, 'push', new RegExp(`^push failed for the file backup of ${uploads} to offsite: cannot tell whether this machine is an unrestored rebuild: `
      + `it has not backed up its paths before, and the file snapshots of ${PROD_HOST} on offsite could not be listed \\(restic: offsite: Fatal: [^)]*connection refused[^)]*\\)\\. `
      + 'Nothing of the files was sent there \\(the other targets, if any, got them\\)\\. Fix: find out from restic\'s error why, fix that, and run backup-push again once its file snapshots can be listed; '));
    expect(pushDown.stderr).toMatch(/files \(\S+uploads\) are snapshot \w{8} on storagebox \(1 files, /);
    expect(pushDown.stderr).not.toMatch(/backing up \S+uploads to offsite/);
    // restic says "unable to open config file" for the refused connection too: not a repository never created.
    expect(pushDown.pings[1].body.split('\n')[0]).not.toMatch(/backup-bootstrap/);
    // Not recorded: the next push checks again.
    expect(fs.existsSync(recorded)).toBe(false);

    // The bucket answers: it is checked (this host has no file snapshot there), the Storage Box's own snapshot passes.
    const push = await run(world.production, 'backup-push', etc);
    expectSuccess(push, PROD_HOST, 'push');
    expect(push.stderr).toMatch(/step: checking that this machine's paths are not an unrestored rebuild/);
    expect(push.stderr).toMatch(/files \(\S+uploads\) are snapshot \w{8} on offsite \(1 files, /);
    expect(fs.existsSync(recorded)).toBe(true);

    // A repository never created (backup-bootstrap failed for it): the fix points to backup-bootstrap's journal. And a
    // machine with no dump yet (its first dump refused) still backs up its files, failing for the dump.
    const fresh = world.variant(etc, 'backup.conf', {
      offsite_REPO_PATH: 'files-two-never-created', BACKUP_STATE: path.join(tmp, 'state-files-two-fresh'), DUMP_DIR: path.join(tmp, 'dumps-files-two-none'),
    });
    fs.mkdirSync(path.join(tmp, 'dumps-files-two-none'));
    const pushFresh = await run(world.production, 'backup-push', fresh);
    expectFailure(pushFresh, PROD_HOST, 'push', new RegExp(`^push failed for no dump yet in \\S+: backup-dump has not completed its first dump on this machine; see its alert \\(journalctl -u backup-dump\\); `
      + `the file backup of ${uploads} to offsite: .*\\(restic: offsite: Fatal: unable to open config file: [^)]*\\)\\. .*a repository that does not exist was never created: `
      + 'see why backup-bootstrap did not create it \\(journalctl -u backup-bootstrap\\), then run it again \\(systemctl start backup-bootstrap\\)'));
    expect(pushFresh.stderr).toMatch(/files \(\S+uploads\) are snapshot \w{8} on storagebox \(1 files, /);
  });

  test('restic\'s errors reach the failure ping with the bucket\'s endpoint and name replaced', async () => {
    const push = await run(world.production, 'backup-push', prodOffsite({ DUMP_DIR: path.join(tmp, 'production-dumps') }, { secretAccessKey: 'not-the-secret-access-key-0123' }));
    expectFailure(push, PROD_HOST, 'push', /push failed for offsite[\s\S]*s3:<s3-endpoint>\/<bucket>\/acme-production-app/);
    const fail = push.pings.find((p) => p.path.endsWith('/fail'))!;
    expect(fail.body).not.toContain(s3.bucket);
    expect(fail.body).not.toContain(`127.0.0.1:${s3.port}`);
  });

  test('the bucket\'s secret key and access key, its endpoint and its name never reach a job\'s output, a ping or a command line', () => {
    expect(runs.length).toBeGreaterThan(10);
    // restic ran (with its arguments) while the jobs were sampled, and no command line named the bucket.
    const restic = [...commandLines].filter((c) => /^restic /.test(c));
    expect(restic.length).toBeGreaterThan(0);
    expect([...commandLines].filter((c) => c.includes(s3.bucket) || c.includes(`127.0.0.1:${s3.port}`))).toEqual([]);
    // Nor did any command line, output or ping hold a key or the restic password, in any form.
    const secrets = { restic: RESTIC_PASSWORD, secretAccessKey: s3.credentials.secretAccessKey, accessKeyId: s3.credentials.accessKeyId };
    expect([...commandLines].flatMap((c) => leakedSecrets(c, secrets).map((leak) => `${c.split(' ')[0]}: ${leak}`))).toEqual([]);
    expect(runs.flatMap((r) => leakedSecrets([r.stdout, r.stderr, ...r.pings.map((p) => `${p.path}\n${p.body}`)].join('\n'), secrets))).toEqual([]);
    for (const result of runs) {
      const seen = [result.stdout, result.stderr, ...result.pings.map((p) => `${p.path}\n${p.body}`)].join('\n');
      expect(seen).not.toContain(s3.credentials.secretAccessKey);
      expect(seen).not.toContain(b64(s3.credentials.secretAccessKey).trim());
      expect(seen).not.toContain(s3.credentials.accessKeyId);
      // docs/backup.md: the endpoint and the bucket are secrets too (restic names its repository in its errors).
      expect(seen).not.toContain(`127.0.0.1:${s3.port}`);
      expect(seen).not.toContain(s3.bucket);
    }
  });
});
