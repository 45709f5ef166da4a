import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BackupWorld, expectSuccess, pingPath, PROD_HOST, TEST_HOST, killJob, RunOptions, RunResult, runScript } from './helpers/world';
import { KILLED_RUN_MINUTES } from '../../lib/backup/private/scripts';
import { describeWithRealParts, isRoot } from '../setup/real-parts';
import { waitFor } from '../../testing/harness/wait';
import { Duration } from '../../lib/core/duration';

// Audit (day 2, a killed process): a job killed with SIGKILL (the OOM killer, its unit's last kill at the timeout, a
// crash) runs no exit trap. Its log and its run directory (the dump's INDEX, digests and roles, copies of its manifests)
// stayed in TMPDIR: the units have no private /tmp, and nothing removed them. Now each job's start removes the files of
// the runs whose log no job holds. The rendered dump, real restic over a real OpenSSH SFTP server, real PostgreSQL;
// the dump is held in pg_dump by a table lock, then killed with everything it started.
const describeAsRoot = describeWithRealParts(isRoot, 'the killed-job-files suite', 'root (runuser, sshd)');

describeAsRoot("the files a SIGKILLed job left in TMPDIR", () => {
  jest.setTimeout(240_000);
  let tmp: string;
  let jobTmp: string;
  let world: BackupWorld;
  let etc: string;

  const run = (script: string, conf: string, options: RunOptions = {}): Promise<RunResult> =>
    runScript(path.join(world.production.root, 'usr/local/sbin', script), world.receiver, { TMPDIR: jobTmp, SOVEREIGN_BACKUP_ETC: conf }, { timeout: Duration.seconds(200), ...options });
  /** A dump that has reached pg_dump of app (held there by the table lock), with its log and run directory in TMPDIR. */
  const heldDump = async (): Promise<{ result: Promise<RunResult>; files: string[] }> => {
    const before = new Set(fs.readdirSync(jobTmp));
    let dumping = false;
    const result = run('backup-dump', etc, { onOutput: { when: /step: dumping app/, act: () => { dumping = true; } } });
    await waitFor(() => dumping, { timeout: Duration.minutes(1), what: 'the dump to reach pg_dump' });
    return { result, files: fs.readdirSync(jobTmp).filter((f) => !before.has(f)) };
  };
  /** Dates files of TMPDIR `minutes` back (by default past the longest job run: the start of a job leaves younger ones alone). */
  const age = (files: string[], minutes = KILLED_RUN_MINUTES + 1) => {
    const then = new Date(Date.now() - minutes * 60_000);
    for (const f of files) fs.utimesSync(path.join(jobTmp, f), then, then);
  };

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'killed-job-files-'));
    jobTmp = path.join(tmp, 'job-tmp');
    fs.mkdirSync(jobTmp);
    world = await BackupWorld.start(tmp);
    world.seedAppWithOrders();
    await world.bootstrapForCopies();
    world.copyBootstrapped('repo-killed');
    etc = world.productionWith('repo-killed', { PG_DATABASES: 'app', LOCK_WAIT_SECONDS: 1 });
    // The machine has dumped before: the next dumps go straight to pg_dump (no check for an unrestored rebuild).
    expectSuccess(await run('backup-dump', etc), PROD_HOST, 'dump');
    expect(fs.readdirSync(jobTmp)).toEqual([]);
  });

  afterAll(async () => {
    if (etc) await killJob(etc);
    await world?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test("the next job's start removes a killed dump's log and run directory, and leaves a running dump's alone", async () => {
    const release = await world.pg.holdTable('app', 'users');
    let running: Promise<RunResult> | undefined;
    try {
      const killed = await heldDump();
      expect(killed.files.filter((f) => /^sovereign-backup\.\w{6}$/.test(f))).toHaveLength(1);
      expect(killed.files.filter((f) => /^sovereign-backup-run\.\w{6}$/.test(f))).toHaveLength(1);
      // The OOM killer or the unit's timeout: every process of the job at once.
      await killJob(etc);
      expect((await killed.result).code).toBeNull();
      expect(fs.readdirSync(jobTmp)).toEqual(expect.arrayContaining(killed.files));

      // Another dump runs (held as the first was), and a check starts meanwhile: it finds the repository lock taken,
      // and fails, after its start cleaned up.
      const live = await heldDump();
      running = live.result;
      age([...killed.files, ...live.files]);
      const check = await run('backup-check', etc);
      expect(check.stderr).toMatch(/another backup job has held the repository lock for 1 seconds, so backup-check did nothing: backup-dump/);
      const left = fs.readdirSync(jobTmp);
      expect(left.filter((f) => killed.files.includes(f))).toEqual([]);
      expect(left).toEqual(expect.arrayContaining(live.files));
    } finally {
      release();
    }
    // The running dump's files were left alone: it finishes, and its own exit removes them.
    const dumped = await running!;
    if (dumped.code !== 0) throw new Error(`dump failed (exit ${dumped.code}):\n${dumped.stderr}`);
    // Its pings among the check's, which came while it ran.
    expect(dumped.pings.map((p) => p.path).filter((p) => p.includes('-dump'))).toEqual([pingPath(PROD_HOST, 'dump', '/start'), pingPath(PROD_HOST, 'dump')]);
    expect(fs.readdirSync(jobTmp)).toEqual([]);
  });

  // Review (day 2, an upgrade): a job of the previous version holds no lock on its log, and the rollout runs the new
  // tooling (backup-rotate-keys) while it runs. The start removed its log once a minute had passed without a line (a
  // long pg_dump step), with its ssh logs, which the job reads when a step fails. Now only a log unwritten for longer
  // than any job runs goes.
  test("a job's start leaves alone an unlocked log written 2 minutes ago (a previous version's running job), and removes one older than any run", async () => {
    const running = ['sovereign-backup.Old1ab', 'sovereign-backup.Old1ab.ssh.storagebox'];
    const dead = ['sovereign-backup.Old2cd', 'sovereign-backup.Old2cd.ssh.storagebox'];
    for (const f of [...running, ...dead]) fs.writeFileSync(path.join(jobTmp, f), '2026-12-06T03:00:00.000Z dump: step: dumping app\n');
    age(running, 2);
    age(dead);
    expectSuccess(await run('backup-check', etc), PROD_HOST, 'check');
    const left = fs.readdirSync(jobTmp);
    expect(left).toEqual(expect.arrayContaining(running));
    expect(left.filter((f) => dead.includes(f))).toEqual([]);
    for (const f of running) fs.rmSync(path.join(jobTmp, f));
  });

  // The drill works in DRILL_WORK (/var/tmp/restore-drill), not in TMPDIR: a drill killed there left its directory (the
  // fetched manifest, the digests) until someone removed it. The next drill removes it, as it drops the scratch databases.
  test("the next drill removes a killed drill's work directory", async () => {
    const drillEtc = world.variant(world.test.etc, 'drill.conf', { source_REPO_PATH: 'repo-killed', DRILL_KEEP_DATABASES: 0 });
    const work = path.join(tmp, 'test-drill-work');
    const drill = (options: RunOptions = {}) => runScript(path.join(world.test.root, 'usr/local/sbin/restore-drill'), world.receiver,
      { TMPDIR: jobTmp, SOVEREIGN_BACKUP_ETC: drillEtc }, { timeout: Duration.seconds(200), ...options });
    let restoring = false;
    const killed = drill({ onOutput: { when: /step: restoring snapshot/, act: () => { restoring = true; } } });
    await waitFor(() => restoring, { timeout: Duration.minutes(1), what: 'the drill to restore' });
    await killJob(drillEtc);
    expect((await killed).code).toBeNull();
    const left = fs.readdirSync(work);
    expect(left.filter((d) => d.startsWith('drill.'))).toHaveLength(1);
    expect(fs.readdirSync(path.join(work, left[0]))).toContain('manifest.tar');

    expectSuccess(await drill(), TEST_HOST, 'restore-drill');
    expect(fs.readdirSync(work)).toEqual([]);
  });
});
