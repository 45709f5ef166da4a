import { execFileSync } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BackupWorld, corrupt, expectFailure, expectSuccess, MachineRoot, PROD_HOST, RESTIC_PASSWORD, RunOptions, RunResult, TEST_HOST } from './helpers/world';
import { packBlobs, rewriteDataBlob } from './helpers/restic-blob';
import { describeWithRealParts, isRoot } from '../setup/real-parts';

// The weekly drill proved the database dumps only: the files a plan backs up (`paths`) were never restored by it, so a
// damaged or missing pack of the uploads went unnoticed until someone needed them. Production's plan backs up a path
// besides its database; the test machine's drill restores from the same Storage Box. Real restic, OpenSSH on loopback,
// PostgreSQL, the rendered scripts.
const describeAsRoot = describeWithRealParts(isRoot, 'the drill-files suite', 'root (runuser, sshd)');

describeAsRoot('the restore drill restores the newest file snapshot as well', () => {
  jest.setTimeout(300_000);
  let tmp: string;
  let world: BackupWorld;
  let uploads: string;
  let production: MachineRoot;
  let drillEtc: string;
  let work: string;
  const repo = 'repo-drill-files';
  const repository = () => path.join(world.sftp.home, repo);

  /** The pack files of the Storage Box's repository. */
  const packs = (): string[] => fs.readdirSync(path.join(repository(), 'data'), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile()).map((e) => path.join(e.parentPath ?? (e as any).path, e.name));
  const drill = (options?: RunOptions): Promise<RunResult> => world.run(world.test, 'restore-drill', drillEtc, options);
  /**
   * Runs `act` on the largest pack the file backup added (the uploads' content), then the drill (with the run options
   * `options` gives for the pack and its bytes), then puts the pack back as it was.
   */
  let filePacks: string[] = [];
  let push: RunResult;
  const withDamagedPack = async (act: (pack: string) => void, check: (result: RunResult) => void, options?: (pack: string, saved: Buffer) => RunOptions) => {
    const [pack] = filePacks.sort((a, b) => fs.statSync(b).size - fs.statSync(a).size);
    const saved = fs.readFileSync(pack);
    act(pack);
    try {
      check(await drill(options?.(pack, saved)));
    } finally {
      fs.writeFileSync(pack, saved);
    }
  };

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'drill-files-'));
    world = await BackupWorld.start(tmp);
    world.seedAppWithOrders();
    uploads = path.join(tmp, 'srv', 'uploads');
    fs.mkdirSync(path.join(uploads, 'avatars'), { recursive: true });
    // Content restic can neither compress nor deduplicate against anything else in the repository: the largest pack.
    fs.writeFileSync(path.join(uploads, 'avatars', 'u1.png'), randomBytes(400_000));
    fs.writeFileSync(path.join(uploads, 'contract.pdf'), '%PDF-1.4 contract\n'.repeat(300));
    fs.writeFileSync(path.join(uploads, 'empty.txt'), '');
    production = world.layOut('production-files', { storagebox_PORT: world.sftp.port, storagebox_REPO_PATH: repo, PG_DATABASES: 'app' }, { filePaths: [uploads] });
    world.sftp.authorize(world.generateKey(production.etc));
    work = path.join(tmp, 'drill-files-work');
    drillEtc = world.variant(world.test.etc, 'drill.conf', { source_REPO_PATH: repo, DRILL_WORK: work, DRILL_KEEP_DATABASES: 0 });
    const bootstrap = await world.run(production, 'backup-bootstrap');
    if (bootstrap.code !== 0) throw new Error(bootstrap.stderr);
    expectSuccess(await world.run(production, 'backup-dump'), PROD_HOST, 'dump');
    const beforeFiles = new Set(packs());
    push = await world.run(production, 'backup-push');
    expectSuccess(push, PROD_HOST, 'push');
    filePacks = packs().filter((p) => !beforeFiles.has(p));
  });

  afterAll(async () => {
    await world?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('a good run restores the uploads, holds them to the push\'s record and its listing, and reports them', async () => {
    // The push recorded what restic read: 3 files (the empty one too).
    expect(push.stderr).toMatch(/files \(\S+uploads\) are snapshot \w{8} on storagebox \(3 files, [\d.]+KiB\), its trees read back, its record written/);
    const result = await drill();
    expectSuccess(result, TEST_HOST, 'restore-drill');
    const size = 400_000 + '%PDF-1.4 contract\n'.length * 300;
    expect(result.pings[1].body).toMatch(new RegExp(`2 verification queries true; file snapshot (\\w{8}) \\(0 hours old\\): 3 files, [\\d.]+KiB restored and read back, `
      + `matching the record of its push: ${uploads} \\(3 files, 2 directories, ${size} bytes\\)`));
    // The restored copy goes with the run.
    expect(fs.readdirSync(work)).toEqual([]);
  });

  test('a damaged pack of the uploads fails the drill, naming the file snapshot; the databases alone would have passed', async () => {
    await withDamagedPack(corrupt, (result) => {
      expectFailure(result, TEST_HOST, 'restore-drill', /restic restore of file snapshot \w{8} \(\S+uploads\) from source failed/);
      // The databases were restored and verified first: only the files failed it.
      expect(result.stderr).toMatch(/step: verification query 02-users-present on app[\s\S]*step: restoring file snapshot/);
    });
    expect(fs.readdirSync(work)).toEqual([]);
  });

  // Audit (fifth pass): the drill's verdict on restic restore --verify alone ("Unexpected content in …" with no read
  // error) was checked against restic's source only. With restic 0.14 the repository cannot produce it: here a blob of
  // the uploads is rewritten in place with other content, sealed with the repository's own key (its MAC valid, as only
  // a writer holding the key could leave it), and restic's restorer hashes every blob it reads: "wrong data returned",
  // a read error, and the file is never written, so --verify has nothing to compare. The drill fails, naming it.
  test('a blob of the uploads rewritten with a valid MAC but other content fails the drill as a read, naming restic\'s "wrong data returned"', async () => {
    await withDamagedPack((pack) => {
      const [blob] = packBlobs(pack, repository(), RESTIC_PASSWORD).sort((a, b) => b.length - a.length);
      rewriteDataBlob(pack, blob, repository(), RESTIC_PASSWORD);
    }, (result) => {
      expectFailure(result, TEST_HOST, 'restore-drill', /restic restore of file snapshot \w{8} \(\S+uploads\) from source failed: .*wrong data returned, hash is [0-9a-f]{64}/);
      expect(result.stderr).toMatch(/restoring once more, in a new restic process/);
      expect(result.stderr).not.toMatch(/differ from the snapshot/);
    });
    expect(fs.readdirSync(work)).toEqual([]);
  });

  test('a pack of the uploads cut short on the remote fails the drill, after restic\'s retries', async () => {
    // restic 0.14 retries a read that fails for ~43 s (10 tries, exponential backoff, no option to shorten it), and the
    // drill reads once more in a new restic process: both on the short pack took ~90 s of the suite's wall clock. The
    // first read goes through restic's retries on the short pack; once the drill starts the second process, the pack is
    // damaged in full length instead, which that process fails on at once. A still-short pack fails it the same way,
    // 43 s later: the drill dies on the second process's failure whatever its cause (a damaged pack in both: the test above).
    // The drill's log as it was when it started the second process, read in full (its report on stderr ends with the
    // log's last 30 lines only, and the log goes when the drill exits).
    let firstRead = '';
    await withDamagedPack((pack) => fs.truncateSync(pack, Math.floor(fs.statSync(pack).size / 2)),
      (result) => {
        expectFailure(result, TEST_HOST, 'restore-drill', /restic restore of file snapshot \w{8} \(\S+uploads\) from source failed/);
        // The first process gave up on the short pack only after restic's retries.
        expect(firstRead).toMatch(/restoring file snapshot \w{8} from source[\s\S]*returned error, retrying after[\s\S]*restic restore of file snapshot \w{8} from source failed: restoring once more/);
      },
      (pack, saved) => ({
        onOutput: {
          when: /restoring once more, in a new restic process/,
          act: () => {
            firstRead = fs.readdirSync(tmp).filter((name) => /^sovereign-backup\.\w{6}$/.test(name)).map((name) => fs.readFileSync(path.join(tmp, name), 'utf8')).join('\n');
            fs.writeFileSync(pack, saved);
            corrupt(pack);
          },
        },
      }));
    // The pack put back: the drill passes again.
    expectSuccess(await drill(), TEST_HOST, 'restore-drill');
  });

  // Review (day 2): a push writes the record after its snapshot, once restic listed the snapshot back (minutes on a
  // large tree). A drill in that window failed with "has no record … the push failed before writing the record", a
  // false alarm. A newest snapshot with no record that is younger than a push's run now leaves the drill to the newest
  // snapshot with a record; past that, it fails (the copy's test below).
  test('a newest file snapshot without its record yet (its push may be writing it) leaves the drill to the newest with a record', async () => {
    // What a push between its file backup and its record leaves (or one that died there): the snapshot, no record.
    execFileSync('restic', ['-r', repository(), '--no-cache', 'backup', '--host', PROD_HOST, '--tag', 'sovereign-files', uploads],
      { env: { ...process.env, RESTIC_PASSWORD }, stdio: 'pipe' });
    const result = await drill();
    expectSuccess(result, TEST_HOST, 'restore-drill');
    expect(result.stderr).toMatch(/file snapshot \w{8} of acme-production-app on source has no record yet \(0 hours old: a push may still be writing it, up to 14 hours\); drilling \w{8}, the newest with a record/);
    expect(result.pings[1].body).toMatch(/file snapshot \w{8} \(0 hours old, the newest with a record: \w{8} \(0 hours old\) has none yet, which its push may be writing\): 3 files, [\d.]+KiB restored and read back, matching the record of its push/);
    // The next push writes a snapshot with its record, and the drill passes on it.
    expectSuccess(await world.run(production, 'backup-push'), PROD_HOST, 'push');
    expect((await drill()).stderr).not.toMatch(/has no record yet/);
  });

  test('the prune keeps the records of the file snapshots it keeps, and the drill still finds the newest one\'s', async () => {
    const tagged = (tag: string): number => JSON.parse(execFileSync('restic', ['-r', repository(), '--no-lock', '--no-cache', 'snapshots', '--json', '--host', PROD_HOST, '--tag', tag],
      { encoding: 'utf8', env: { ...process.env, RESTIC_PASSWORD } })).length;
    expect(tagged('sovereign-files')).toBeGreaterThan(1);
    expect(tagged('sovereign-files-record')).toBeGreaterThan(1);
    expectSuccess(await world.run(production, 'backup-prune'), PROD_HOST, 'prune');
    // keep-daily: one of each a day, the newest; the records, not listed in the retention's tags, would stay for ever.
    expect([tagged('sovereign-files'), tagged('sovereign-files-record')]).toEqual([1, 1]);
    expectSuccess(await drill(), TEST_HOST, 'restore-drill');
  });

  test('a scratch disk without room for the files fails the drill before restoring them, naming the disk and the fix', async () => {
    const small = world.smallDisk('small-drill-work', 300_000);
    const result = await world.run(world.test, 'restore-drill', world.variant(drillEtc, 'drill.conf', { DRILL_WORK: small, DRILL_RESERVE_MB: 0 }));
    expectFailure(result, TEST_HOST, 'restore-drill', new RegExp(`the files of snapshot \\w{8} \\(\\S+uploads\\) take 396KiB, and the disk of ${small} has [\\d.]+KiB free, `
      + 'of which the drill leaves 0B \\(DRILL_RESERVE_MB\\) for PostgreSQL when they share it\\. Fix: free space on that disk'));
    expect(fs.readdirSync(small)).toEqual([]);
  });

  describe('on a copy of the repository', () => {
    let copy: string;
    const restic = (args: string[], input?: string): string => execFileSync('restic', ['-r', path.join(world.sftp.home, copy), '--no-cache', ...args],
      { encoding: 'utf8', env: { ...process.env, RESTIC_PASSWORD }, input, stdio: ['pipe', 'pipe', 'pipe'] });
    const ids = (tag: string): string[] => JSON.parse(restic(['snapshots', '--json', '--host', PROD_HOST, '--tag', tag])).map((x: { id: string }) => x.id);
    const drillCopy = (): Promise<RunResult> => world.run(world.test, 'restore-drill', world.variant(drillEtc, 'drill.conf', { source_REPO_PATH: copy }));
    /** A record as backup-push writes one, with `lines` and timed `time`. */
    const record = (lines: string, time: string) => restic(['backup', '--stdin', '--stdin-filename', 'sovereign-files/record', '--host', PROD_HOST,
      '--tag', 'sovereign-files-record', '--time', time], lines);
    let n = 0;
    beforeEach(() => {
      copy = `repo-copy-${n += 1}`;
      fs.cpSync(repository(), path.join(world.sftp.home, copy), { recursive: true });
    });

    test('file snapshots of tooling older than the records (none at all) are held to their listing, and pass', async () => {
      restic(['forget', ...ids('sovereign-files-record')]);
      const result = await drillCopy();
      expectSuccess(result, TEST_HOST, 'restore-drill');
      expect(result.stderr).toMatch(/no record of a file snapshot of acme-production-app on source .*held to its own listing only/);
      expect(result.pings[1].body).toMatch(/file snapshot \w{8} \(0 hours old\): 3 files, [\d.]+KiB restored and read back: /);
    });

    test('a restore that gives back other files or bytes than the record fails the drill', async () => {
      const [newest] = ids('sovereign-files').slice(-1);
      // A record naming the newest file snapshot with one file more than it holds.
      record(`snapshot ${newest.slice(0, 8)}\nfiles 4\nbytes 405400\npaths ${uploads}\n`, new Date(Date.now() + 60_000).toISOString().replace('T', ' ').slice(0, 19));
      expectFailure(await drillCopy(), TEST_HOST, 'restore-drill',
        /file snapshot \w{8} of acme-production-app restored 3 files, \d+ bytes from source, where its push recorded 4 files, 405400 bytes/);
    });

    test('a newest file snapshot without a record, older than a push runs, fails the drill, naming the fix', async () => {
      restic(['forget', ...ids('sovereign-files'), ...ids('sovereign-files-record')]);
      const ago = (hours: number) => new Date(Date.now() - hours * 3600_000).toISOString().replace('T', ' ').slice(0, 19);
      const recorded = /"snapshot_id":"(\w+)"/.exec(restic(['backup', '--json', '--time', ago(20), '--host', PROD_HOST, '--tag', 'sovereign-files', uploads]))![1];
      record(`snapshot ${recorded}\nfiles 3\nbytes 405400\npaths ${uploads}\n`, ago(20));
      // 15 hours ago: its push, which runs at most 14, died before writing the record.
      restic(['backup', '--time', ago(15), '--host', PROD_HOST, '--tag', 'sovereign-files', uploads]);
      expectFailure(await drillCopy(), TEST_HOST, 'restore-drill',
        /the newest file snapshot of acme-production-app on source \(\w{8}\) has no record: the newest record names snapshot \w{8}, and it is 15 hours old, longer than a push runs \(14 hours\)\. .*Fix: run backup-push on acme-production-app/);
    });

    test('a newest file snapshot past the limit fails the drill: file backups are not arriving', async () => {
      restic(['forget', ...ids('sovereign-files'), ...ids('sovereign-files-record')]);
      // 41 hours ago: past the 26 hours and the 14 a push may still be running.
      const old = new Date(Date.now() - 41 * 3600_000).toISOString().replace('T', ' ').slice(0, 19);
      const made = restic(['backup', '--json', '--time', old, '--host', PROD_HOST, '--tag', 'sovereign-files', uploads]);
      const id = /"snapshot_id":"(\w+)"/.exec(made)![1];
      record(`snapshot ${id}\nfiles 3\nbytes 405400\npaths ${uploads}\n`, old);
      expectFailure(await drillCopy(), TEST_HOST, 'restore-drill',
        /the newest file snapshot of acme-production-app on source \(\w{8}, of \S+uploads\) is 41 hours old \(limit 26 hours, and 14 more for a push still running\): file backups are not arriving/);
    });
  });
});
