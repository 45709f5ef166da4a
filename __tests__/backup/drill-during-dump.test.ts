import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BackupWorld, expectFailure, expectSuccess, PATH_ENV, PROD_HOST, runScript, TEST_HOST } from './helpers/world';
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

  /** Runs the drill with its clock `hours` ahead of the dump's (calls with a date given are left alone). */
  const drillLater = (hours: number) => {
    const bin = path.join(tmp, `bin-${hours}h-later`);
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, 'date'), '#!/bin/bash\nfor a in "$@"; do case $a in -d*|--date*) exec /usr/bin/date "$@";; esac; done\n'
      + `exec /usr/bin/date -d "@$(( $(/usr/bin/date +%s) + ${hours} * 3600 ))" "$@"\n`, { mode: 0o755 });
    return runScript(path.join(world.test.root, 'usr/local/sbin/restore-drill'), world.receiver,
      { TMPDIR: tmp, SOVEREIGN_BACKUP_ETC: drillEtc, PATH: `${bin}:${PATH_ENV}` });
  };

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
    await world?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test("renders the plan's age and the time a dump in progress takes to arrive", () => {
    const conf = fs.readFileSync(path.join(drillEtc, 'drill.conf'), 'utf8');
    expect(conf).toMatch(/^MAX_AGE_HOURS=26$/m);
    // The push timer's 10 min delay, the bootstrap's 90 min and the dump's 6 h, in whole hours.
    expect(conf).toMatch(/^DUMP_IN_PROGRESS_HOURS=8$/m);
  });

  test("passes on yesterday's dump while today's still runs (27 hours old), and says it is past the limit", async () => {
    const drill = await drillLater(27);
    expectSuccess(drill, TEST_HOST, 'restore-drill');
    expect(drill.pings[1].body).toMatch(/\(dump \d{8}T\d{6}Z, 27 hours old \(older than the limit of 26 hours: a dump of acme-production-app was probably running; the drill fails past 34\)\)/);
  });

  test('fails on a backup older than any dump in progress explains (34 hours): backups are not arriving', async () => {
    const drill = await drillLater(34);
    expectFailure(drill, TEST_HOST, 'restore-drill',
      /holds a dump taken 34 hours ago \(\d{8}T\d{6}Z; limit 26 hours, and 8 more for a dump still running\): backups are not arriving/);
  });
});
