import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BackupWorld, corrupt, expectFailure, expectSuccess, PROD_HOST, RunResult, killJob, runScript, shiftedClock, TEST_HOST } from './helpers/world';
import { describeWithRealParts, isRoot } from '../setup/real-parts';
import { waitFor } from '../../testing/harness/wait';
import { Duration } from '../../lib/core/duration';

// Audit (timing): the drill allowed a fixed 8 hours past the age limit for a dump in progress, whether or not a dump
// ran. It now reads the source repository's restic locks: a dump writes under one that its restic refreshes every 5
// minutes. The rendered jobs, real restic over a real OpenSSH SFTP server, real PostgreSQL: yesterday's dump is taken
// with the dump's clock 31 hours back; today's is held in pg_dump by a table lock (a long dump), then SIGKILLed with
// everything it started (a dump that died: its restic's lock stays, and is no longer refreshed).
const describeAsRoot = describeWithRealParts(isRoot, 'the drill-dump-writer suite', 'root (runuser, sshd)');

describeAsRoot('a restore drill that reads whether a dump writes to its source', () => {
  jest.setTimeout(240_000);
  let tmp: string;
  let world: BackupWorld;
  let prodEtc: string;
  let drillEtc: string;
  let release: (() => void) | undefined;
  let today: Promise<RunResult> | undefined;

  // The drill removes no lock (it writes nothing into production's repository): the killed dump's stay for the drills
  // that judge them.
  const drillAt = (hours: number, bin = '') => runScript(path.join(world.test.root, 'usr/local/sbin/restore-drill'), world.receiver,
    { TMPDIR: tmp, SOVEREIGN_BACKUP_ETC: drillEtc, PATH: `${bin}${shiftedClock(tmp, hours)}` });
  const locks = () => fs.readdirSync(path.join(world.sftp.home, 'repo-production', 'locks'));

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drill-dump-writer-'));
    world = await BackupWorld.start(tmp);
    world.seedAppWithOrders();
    await world.bootstrapForCopies();
    world.copyBootstrapped('repo-production');
    prodEtc = world.productionWith('repo-production', { PG_DATABASES: 'app' });
    const yesterday = await runScript(path.join(world.production.root, 'usr/local/sbin/backup-dump'), world.receiver,
      { TMPDIR: tmp, SOVEREIGN_BACKUP_ETC: prodEtc, PATH: shiftedClock(tmp, -31) });
    expectSuccess(yesterday, PROD_HOST, 'dump');
    drillEtc = world.variant(world.test.etc, 'drill.conf', { source_REPO_PATH: 'repo-production' });
  });

  afterAll(async () => {
    release?.();
    if (prodEtc) await killJob(prodEtc);
    await today;
    await world?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test("passes on yesterday's dump 31 hours old while today's writes for hours, and names the writer", async () => {
    // A session that holds the table: today's pg_dump waits for it, with its streams to the Storage Box open.
    release = await world.pg.holdTable('app', 'users');
    let dumping = false;
    today = world.run(world.production, 'backup-dump', prodEtc, { onOutput: { when: /step: dumping app/, act: () => { dumping = true; } } });
    await waitFor(() => dumping && locks().length === 2, { timeout: Duration.minutes(1), what: "today's dump to stream to the Storage Box (its two restic locks)" });

    const drill = await drillAt(0);
    expectSuccess(drill, TEST_HOST, 'restore-drill');
    expect(drill.pings[1].body).toMatch(/\(dump \d{8}T\d{6}Z, 31 hours old \(older than the limit of 26 hours: a restic process \(a backup or a reader\) holds a lock on source now \(restic pid \d+ on [\w.-]+, its lock refreshed \d+ minutes ago\), so a dump of acme-production-app may be writing; the drill fails past 34\)\)/);

    // With a limit of 20 hours, 31 is more than a dump in progress explains (20 + 8): one before it did not arrive.
    const strict = await runScript(path.join(world.test.root, 'usr/local/sbin/restore-drill'), world.receiver,
      { TMPDIR: tmp, SOVEREIGN_BACKUP_ETC: world.variant(drillEtc, 'drill.conf', { MAX_AGE_HOURS: 20 }) });
    expectFailure(strict, TEST_HOST, 'restore-drill',
      /holds a dump taken 31 hours ago \(\d{8}T\d{6}Z; limit 20 hours\): backups are not arriving\. A restic process \(a backup or a reader\) holds a lock on source now \(restic pid \d+ on [\w.-]+, its lock refreshed \d+ minutes ago\), but a dump in progress explains a backup at most 8 hours past the limit/);
  });

  test('fails on it once the dump that wrote died (SIGKILL): its lock is no longer refreshed, and no dump arrives', async () => {
    // The OOM killer or a crash: every process of the job at once, restic and its ssh with it.
    await killJob(prodEtc);
    expect((await today)!.code).toBeNull();
    expect(locks().length).toBe(2);
    // An hour later (32 hours): the fixed window of 8 hours passed this drill.
    const drill = await drillAt(1);
    expectFailure(drill, TEST_HOST, 'restore-drill',
      /holds a dump taken 32 hours ago \(\d{8}T\d{6}Z; limit 26 hours\), and no dump of acme-production-app is writing to source: no backup's restic lock there was refreshed in the last 30 minutes; a stale lock of restic pid \d+ on [\w.-]+, last refreshed 6\d minutes ago, is what a job killed mid-run leaves, and a dump writes under one from at most 4 hours after its timer\. Backups are not arriving/);
  });
  // Audit (third pass): restic 0.14 retries a read that failed for about 43 s, a read of a lock that went between the
  // list and the read too (its job ended, or its restic refreshed it under a new name): the drill waited that long
  // for a lock that was gone. Here a shim lists one lock that is not there, once, as a lock that went would be: in the
  // second listing of the locks, the judgement of a dump in progress (the first is the drill's look for exclusive locks,
  // before it reads anything).
  test('a lock that went between the list and its read delays the drill by seconds, not by restic\'s 43 s of retries', async () => {
    const bin = path.join(tmp, 'bin-lock-went');
    const listed = path.join(tmp, 'lock-went-listed');
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, 'restic'), '#!/bin/bash\n'
      + `if [ "\${@: -2:1} \${@: -1}" = "list locks" ] && ! mkdir ${listed}.first 2>/dev/null && mkdir ${listed} 2>/dev/null; then /usr/bin/restic "$@" || exit; printf '%064d\\n' 1; exit 0; fi\n`
      + 'exec /usr/bin/restic "$@"\n', { mode: 0o755 });
    const drill = await drillAt(1, `${bin}:`);
    expect(fs.existsSync(listed)).toBe(true);
    // The same judgment as without the lock that went: the dump that died left its stale locks, read.
    expectFailure(drill, TEST_HOST, 'restore-drill', /no backup's restic lock there was refreshed in the last 30 minutes; a stale lock of restic pid \d+ on [\w.-]+, last refreshed 6\d minutes ago/);
    // restic's first retry ends the read (the log keeps its line); before, all of its retries ran, each logged.
    const log = drill.pings.find((p) => p.path.endsWith('/fail'))!.body.split('\n--- log ---\n')[1];
    expect(log.match(/returned error, retrying after/g)).toHaveLength(1);
    // In the judgement of a dump in progress, as this test means.
    expect(log.indexOf('returned error, retrying after')).toBeGreaterThan(log.indexOf('step: looking for a dump of acme-production-app in progress'));
    expect(log.indexOf('step: looking for a dump of acme-production-app in progress')).toBeGreaterThan(-1);
  });
  // Review (day 2): a lock whose read failed (damaged, or a read that failed) was left out as if its job had ended, and
  // the drill took the repository for one no dump writes to: the short window. A lock still there that cannot be read
  // may be a writer's: the drill keeps the longer window and says the locks could not all be read.
  test('a lock still listed that cannot be read counts as unknown, not as none', async () => {
    const dir = path.join(world.sftp.home, 'repo-production', 'locks');
    expect(locks().length).toBe(2);
    corrupt(path.join(dir, locks()[0]));
    const drill = await drillAt(1);
    expectSuccess(drill, TEST_HOST, 'restore-drill');
    expect(drill.pings[1].body).toMatch(/32 hours old \(older than the limit of 26 hours: the locks of source could not all be read, so a dump of acme-production-app may be running; the drill fails past 34\)/);
  });
});
