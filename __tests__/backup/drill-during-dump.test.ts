import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ChildProcess } from 'child_process';
import { BackupWorld, expectFailure, expectSuccess, pingPath, PROD_HOST, runScript, shiftedClock, TEST_HOST } from './helpers/world';
import { holdResticLock, killHolder, unlockFails } from './helpers/restic-lock';
import { describeWithRealParts, isRoot } from '../setup/real-parts';

// Audit (timing): a dump reaches the repository only when it ends, and dumps of several hours are within its unit's
// 6 h. The weekly drill (Mondays 06:00) that starts while Monday's 03:00 dump still runs finds Sunday's, about 27 hours
// old: against the plan's 26 hours it reported "backups are not arriving" while they arrived. The rendered drill, real
// restic over a real OpenSSH SFTP server, real PostgreSQL; the drill's clock is moved on (date, which its age reads).
const describeAsRoot = describeWithRealParts(isRoot, 'the drill-during-dump suite', 'root (runuser, sshd)');

describeAsRoot('a restore drill that starts while production dumps', () => {
  jest.setTimeout(240_000);
  let tmp: string;
  let world: BackupWorld;
  let drillEtc: string;
  const running: ChildProcess[] = [];

  /** Runs the drill with its clock `hours` ahead of the dump's (calls with a date given are left alone). */
  const drillLater = (hours: number) => runScript(path.join(world.test.root, 'usr/local/sbin/restore-drill'), world.receiver,
    { TMPDIR: tmp, SOVEREIGN_BACKUP_ETC: drillEtc, PATH: shiftedClock(tmp, hours) });

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drill-during-dump-'));
    world = await BackupWorld.start(tmp);
    world.seedAppWithOrders();
    await world.bootstrapForCopies();
    world.copyBootstrapped('repo-production');
    expectSuccess(await world.run(world.production, 'backup-dump', world.productionWith('repo-production', { PG_DATABASES: 'app' })), PROD_HOST, 'dump');
    drillEtc = world.variant(world.test.etc, 'drill.conf', { source_REPO_PATH: 'repo-production' });
  });

  afterAll(async () => {
    for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await world?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test("renders the plan's age, the time a dump in progress takes to arrive and the time it takes to start writing", () => {
    const conf = fs.readFileSync(path.join(drillEtc, 'drill.conf'), 'utf8');
    expect(conf).toMatch(/^MAX_AGE_HOURS=26$/m);
    // The push timer's 10 min delay, the bootstrap's 90 min and the dump's 6 h, in whole hours.
    expect(conf).toMatch(/^DUMP_IN_PROGRESS_HOURS=8$/m);
    // The push timer's 10 min delay, the bootstrap's 90 min, the dump's hour of waiting for the repository lock and
    // half an hour for its steps before the stream opens, in whole hours.
    expect(conf).toMatch(/^DUMP_START_HOURS=4$/m);
  });

  test("passes on yesterday's dump while today's may still be starting (27 hours old), and says it is past the limit", async () => {
    const drill = await drillLater(27);
    expectSuccess(drill, TEST_HOST, 'restore-drill');
    expect(drill.pings[1].body).toMatch(/\(dump \d{8}T\d{6}Z, 27 hours old \(older than the limit of 26 hours: no dump of acme-production-app writes to source yet, and one may be starting; the drill fails past 30\)\)/);
  });

  // No restic lock in the repository: no dump writes to it, and one that has not started 4 hours past the limit is not
  // coming. (The fixed window of 8 hours passed this drill.)
  test('fails on a backup 30 hours old when no dump writes to the repository: backups are not arriving', async () => {
    const drill = await drillLater(30);
    expectFailure(drill, TEST_HOST, 'restore-drill',
      /holds a dump taken 30 hours ago \(\d{8}T\d{6}Z; limit 26 hours\), and no dump of acme-production-app is writing to source: no backup's restic lock there was refreshed in the last 30 minutes, and a dump writes under one from at most 4 hours after its timer\. Backups are not arriving/);
  });

  // Audit (fourth pass): the drill judged only the locks that are not exclusive, and reads without a lock: beside
  // another machine's prune it read data the prune was removing and failed as "restore broken", and beside a key change
  // or a check it passed on a repository it had not judged. Now an exclusive lock defers it: no verdict (exit 75, a
  // /log ping, which changes no heartbeat check; the job hook records neither outcome), so the drill is reported missed,
  // not passed and not broken, if it stays deferred. The holder is a real restic's key change.
  const repo = () => path.join(world.sftp.home, 'repo-production');
  test("another machine's exclusive lock (a prune, a check, a key change): the drill is deferred, reading nothing, with no verdict", async () => {
    const held = await holdResticLock(repo(), 'exclusive', running);
    try {
      // The clock as it is: an hour on, the holder's lock would be stale (restic refreshes it every 5 minutes).
      const drill = await drillLater(0);
      expect(drill.code).toBe(75);
      expect(drill.pings.map((p) => p.path)).toEqual([pingPath(TEST_HOST, 'restore-drill', '/start'), pingPath(TEST_HOST, 'restore-drill', '/log')]);
      expect(drill.pings[1].body).toMatch(/^restic pid \d+ on [\w.-]+ holds the repository of source exclusively \(a check, a prune or a key change\), its lock refreshed \d+ minutes ago: a prune removes data the drill would read, so the drill read nothing and has no verdict on the backups\. It runs again at its next timer; to drill sooner, wait until the lock is gone \(restic list locks on source\) and start it \(systemctl start restore-drill\)/);
      expect(drill.stderr).toMatch(/DEFERRED: restic pid/);
      expect(drill.stderr).not.toMatch(/step: fetching the newest backup|FAILED|OK: /);

      // A drill of two copies (here the Storage Box's under a second name, as with the bucket): each copy is deferred,
      // and so is the drill, once, naming each; a copy not drilled is not known to restore.
      const both = await runScript(path.join(world.test.root, 'usr/local/sbin/restore-drill'), world.receiver,
        { TMPDIR: tmp, SOVEREIGN_BACKUP_ETC: world.drillOfTwoCopies(drillEtc) });
      expect(both.code).toBe(75);
      expect(both.pings.map((p) => p.path)).toEqual([pingPath(TEST_HOST, 'restore-drill', '/start'), pingPath(TEST_HOST, 'restore-drill', '/log')]);
      expect(both.pings[1].body).toMatch(/^the drill was deferred on 2 of 2 copies of acme-production-app's backups: source \(Storage Box in \w+\): restic pid \d+ on [\w.-]+ holds the repository of source exclusively .*; source2 \(Storage Box in \w+\): restic pid \d+ on [\w.-]+ holds the repository of source2 exclusively .*; passed: none\n/);
    } finally {
      await killHolder(held);
      fs.rmSync(path.join(repo(), 'locks', held.lock), { force: true });
    }
  });

  // restic unlock removes the lock of this machine's killed restic (and any not refreshed for 30 minutes); one it cannot
  // remove (a read-only account, a lost link; here a stand-in whose unlock fails) is stale an hour on, and the drill,
  // which takes no lock, reads past it, naming it: every backup fails on it until it goes.
  test("a killed prune's exclusive lock: restic unlock removes it and the drill passes; one it cannot remove is named, and the drill passes", async () => {
    const held = await holdResticLock(repo(), 'exclusive', running);
    await killHolder(held);
    const bin = unlockFails(tmp);
    try {
      const kept = await runScript(path.join(world.test.root, 'usr/local/sbin/restore-drill'), world.receiver,
        { TMPDIR: tmp, SOVEREIGN_BACKUP_ETC: drillEtc, PATH: `${bin}:${shiftedClock(tmp, 2)}` });
      expectSuccess(kept, TEST_HOST, 'restore-drill');
      expect(kept.pings[1].body).toMatch(/; a stale exclusive lock of restic pid \d+ on [\w.-]+, last refreshed 1\d\d minutes ago \(a check, a prune or a key change killed mid-run\), is on the repository of source, and restic unlock did not remove it \(see the log\): the drill reads past it, but every backup to source fails while it is there\. Fix: run restic unlock on source from a machine whose account may write/);
      expect(fs.readdirSync(path.join(repo(), 'locks'))).toContain(held.lock);

      const removed = await drillLater(1);
      expectSuccess(removed, TEST_HOST, 'restore-drill');
      expect(removed.pings[1].body).not.toMatch(/stale/);
      expect(fs.readdirSync(path.join(repo(), 'locks'))).not.toContain(held.lock);
    } finally {
      fs.rmSync(path.join(repo(), 'locks', held.lock), { force: true });
    }
  });
});
