import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PostgresCluster } from './helpers/postgres';
import { SftpServer } from './helpers/sftp-server';
import {
  b64, BackupWorld, expectFailure, expectSuccess, fingerprint as fingerprintOf, MachineRoot, PATH_ENV, PROD_HOST, repositoryLock, RESTIC_PASSWORD, RunResult,
  runScript, scratchDatabases, survivorsOf, TEST_HOST,
} from './helpers/world';
import { describeWithRealParts, isRoot } from '../setup/real-parts';

// The exact scripts the library renders, taken from the synthesized user data (rendered the way
// Terraform renders it at apply), run against a real PostgreSQL 15, real restic and a real OpenSSH
// SFTP server on loopback (helpers/world.ts). Needs root: PostgreSQL runs as its own OS user, sshd
// chroots sessions, and the disk-full case mounts a small tmpfs. CI runs as root.
const describeAsRoot = describeWithRealParts(isRoot, 'the backup end-to-end suite', 'root (runuser, sshd, mount)');

describeAsRoot('backup tooling, end to end on PostgreSQL 15, restic and OpenSSH', () => {
  jest.setTimeout(120_000);
  let tmp: string;
  let world: BackupWorld;
  let pg: PostgresCluster;
  let sftp: SftpServer;
  let prodEtc: string;
  let testEtc: string;
  let production: MachineRoot;
  let testMachine: MachineRoot;

  const run = (machine: MachineRoot, script: string, etc: string): Promise<RunResult> => world.run(machine, script, etc);
  const variant = (etc: string, conf: string, settings: Record<string, string | number>, files: Record<string, string> = {}) => world.variant(etc, conf, settings, files);
  const fingerprint = (database: string) => fingerprintOf(pg, database);
  /** The stream snapshots (one per dump that reached the target) of the Storage Box's repository. */
  const streamSnapshots = (): string[] => JSON.parse(execFileSync('restic', ['-r', path.join(sftp.home, 'restic'), 'snapshots', '--json', '--no-lock', '--tag', 'sovereign-dump-data'],
    { env: { ...process.env, RESTIC_PASSWORD }, encoding: 'utf8' })).map((s: any) => s.id).sort();
  /**
   * A dump that failed part-way left nothing behind: no process it started, the repository lock
   * free for the next job at once (not after ssh's keep-alive gives up), and no cut-off stream
   * recorded on the target.
   */
  const expectCleanFailure = (etc: string, streamsBefore: string[]) => {
    expect(survivorsOf(etc)).toEqual([]);
    expect(repositoryLock(path.join(tmp, 'production-state'))).toEqual({ holders: [], free: true });
    expect(streamSnapshots()).toEqual(streamsBefore);
  };

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'backup-e2e-'));
    // Synthesized as a team would, rendered as Terraform does at apply; only paths and ports differ
    // from production. The drill keeps the restored databases, so that this test can compare every row itself.
    world = await BackupWorld.start(tmp);
    ({ pg, sftp, production } = world);
    testMachine = world.test;
    prodEtc = production.etc;
    testEtc = testMachine.etc;

    pg.sql('postgres', 'CREATE DATABASE app');
    pg.sql('postgres', 'CREATE DATABASE analytics');
    pg.sql('app', `
      CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL, email text UNIQUE, created timestamptz NOT NULL, avatar bytea, prefs jsonb);
      INSERT INTO users SELECT g, 'Nutzer ' || g || E' \\u00e9\\u00df\\n"quoted"', 'user' || g || '@example.eu',
        timestamptz '2026-01-01 00:00:00+00' + g * interval '37 minutes', decode(md5(g::text), 'hex'),
        jsonb_build_object('lang', CASE WHEN g % 3 = 0 THEN 'de' ELSE 'fr' END, 'n', g) FROM generate_series(1, 1000) g;
      CREATE TABLE orders (id bigserial PRIMARY KEY, user_id int NOT NULL REFERENCES users, amount numeric(12, 2), note text, placed date);
      INSERT INTO orders (user_id, amount, note, placed) SELECT (g % 1000) + 1, g * 1.25, CASE WHEN g % 7 = 0 THEN NULL ELSE 'note ' || g END,
        date '2026-01-01' + (g % 300) FROM generate_series(1, 5000) g;
      CREATE SCHEMA billing;
      CREATE TABLE billing.invoices (number text PRIMARY KEY, total numeric, lines jsonb);
      INSERT INTO billing.invoices SELECT 'INV-' || g, g * 10.5, jsonb_build_array(g, g * 2) FROM generate_series(1, 300) g;`);
    pg.sql('analytics', "CREATE TABLE events (at timestamptz, kind text); INSERT INTO events SELECT now() - g * interval '1 hour', 'view' FROM generate_series(1, 200) g");
  });

  afterAll(async () => {
    await world?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('happy path: dump and push production, destroy the database, and the drill brings every row back', async () => {
    const bootstrap = await run(production, 'backup-bootstrap', prodEtc);
    if (bootstrap.code !== 0) throw new Error(bootstrap.stderr);
    expect(bootstrap.pings).toEqual([]); // success of the bootstrap is not a backup: it pings nothing
    expect(fs.existsSync(path.join(sftp.home, 'restic', 'config'))).toBe(true);

    const dump = await run(production, 'backup-dump', prodEtc);
    expectSuccess(dump, PROD_HOST, 'dump');
    const push = await run(production, 'backup-push', prodEtc);
    expectSuccess(push, PROD_HOST, 'push');
    expect(push.pings[1].body).toMatch(/pushed dump \d{8}T\d{6}Z to storagebox, read back/);

    const before = { app: fingerprint('app'), analytics: fingerprint('analytics') };
    expect(before.app.split('\n')).toHaveLength(3);
    pg.sql('postgres', 'DROP DATABASE app WITH (FORCE)');
    pg.sql('postgres', 'DROP DATABASE analytics WITH (FORCE)');

    const drill = await run(testMachine, 'restore-drill', testEtc);
    expectSuccess(drill, TEST_HOST, 'restore-drill');
    expect(drill.pings[1].body).toMatch(/restored snapshot \w{8} of acme-production-app \(dump \d{8}T\d{6}Z, 0 hours old\): analytics app postgres; 4 tables and 6500 rows match .*; 2 verification queries true/);
    const scratch = scratchDatabases(drill.pings[1].body);
    expect(scratch.app).toMatch(/^restore_drill_\d{8}t\d{6}_[0-9a-f]{6}_app$/);
    expect(fingerprint(scratch.app)).toBe(before.app);
    expect(fingerprint(scratch.analytics)).toBe(before.analytics);

    // Production comes back from the same backup for the rest of the suite.
    for (const db of ['app', 'analytics']) {
      pg.sql('postgres', `ALTER DATABASE ${scratch[db]} RENAME TO ${db}`);
    }
    expect(fingerprint('app')).toBe(before.app);
  });

  test('the manual restore of docs/backup.md, run as written, gives back the newest dump byte for byte', async () => {
    // The block of "Restoring by hand" that fetches from the Storage Box, with only this machine's paths and port put in.
    const doc = fs.readFileSync(path.join(__dirname, '../../docs/backup.md'), 'utf8');
    const block = /```sh\n[\s\S]*?(# from the Storage Box[\s\S]*?)```/.exec(doc)![1];
    const commands = block.split('\n').filter((l) => !/pg_restore|psql/.test(l)).join('\n')
      .replace(/\/etc\/sovereign-backup/g, prodEtc).replace('-p 23', `-p ${sftp.port}`)
      .replace(/\/var\/tmp\/restore/g, path.join(tmp, 'manual-restore')).replace('cd <time>', 'cd 2*Z');
    expect(commands).toMatch(/r dump "\$\(cat STREAM\)"/);
    execFileSync('bash', ['-euo', 'pipefail', '-c', `. ${prodEtc}/backup.conf\n${commands}`], { env: { PATH: PATH_ENV, HOME: '/root' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const [stamp] = fs.readdirSync(path.join(tmp, 'manual-restore'));
    const local = path.join(tmp, 'production-dumps', stamp);
    expect(fs.existsSync(local)).toBe(true);
    const dumps = fs.readdirSync(local).filter((f) => f.endsWith('.dump'));
    expect(dumps).toEqual(expect.arrayContaining(['app.dump', 'analytics.dump']));
    for (const f of dumps) expect(fs.readFileSync(path.join(tmp, 'manual-restore', stamp, f)).equals(fs.readFileSync(path.join(local, f)))).toBe(true);
  });

  test('two targets: the dump streams to both at once, reads each back, and the drill restores from either', async () => {
    const knownHosts = fs.readFileSync(path.join(prodEtc, 'ssh/known_hosts.storagebox'), 'utf8');
    const etc = variant(prodEtc, 'backup.conf', {
      TARGETS: 'storagebox storagebox2', DUMP_DIR: path.join(tmp, 'dumps-two'), storagebox_REPO_PATH: 'restic-two-a',
      storagebox2_KIND: 'sftp', storagebox2_HOST: '127.0.0.1', storagebox2_PORT: sftp.port, storagebox2_USER: 'root',
      storagebox2_REPO_PATH: 'restic-two-b', storagebox2_AUTH: 'key', storagebox2_HOSTKEYS: 'yes',
    }, {
      'secrets/storagebox2.restic.b64': fs.readFileSync(path.join(prodEtc, 'secrets/storagebox.restic.b64'), 'utf8'),
      'ssh/known_hosts.storagebox2': knownHosts.replace(/^sovereign-storagebox /gm, 'sovereign-storagebox2 '),
    });
    expect((await run(production, 'backup-bootstrap', etc)).code).toBe(0);
    const dump = await run(production, 'backup-dump', etc);
    expectSuccess(dump, PROD_HOST, 'dump');
    expect(dump.pings[1].body).toMatch(/streamed to storagebox storagebox2 and read back/);
    expect(dump.stderr).toMatch(/read back from storagebox: \d+ databases/);
    expect(dump.stderr).toMatch(/read back from storagebox2: \d+ databases/);
    for (const repo of ['restic-two-a', 'restic-two-b']) {
      const drill = await run(testMachine, 'restore-drill', variant(testEtc, 'drill.conf', { source_REPO_PATH: repo, DRILL_KEEP_DATABASES: 0 }));
      expectSuccess(drill, TEST_HOST, 'restore-drill');
    }
  });

  test('prune keeps one snapshot per day (the retention groups by host, not by dump path) and check reads the repository', async () => {
    // Local retention, with one copy: the new dump replaces the happy path's.
    const firstDump = fs.readdirSync(path.join(tmp, 'production-dumps'));
    expectSuccess(await run(production, 'backup-dump', variant(prodEtc, 'backup.conf', { LOCAL_COPIES: 1 })), PROD_HOST, 'dump');
    const secondDump = fs.readdirSync(path.join(tmp, 'production-dumps'));
    expect(secondDump).toHaveLength(1);
    expect(secondDump).not.toEqual(firstDump);
    expectSuccess(await run(production, 'backup-push', prodEtc), PROD_HOST, 'push');
    // One listing before the prune and one after: each restic call opens the repository (derives the key).
    const snapshots = (): any[] => JSON.parse(execFileSync('restic', ['-r', path.join(sftp.home, 'restic'), 'snapshots', '--json', '--no-lock'],
      { env: { ...process.env, RESTIC_PASSWORD }, encoding: 'utf8' }));
    // Each dump is two snapshots: the stream of its databases and the manifest that names it.
    const manifests = (all: any[]) => all.filter((s: any) => s.tags.includes('sovereign-dump'));
    const streams = (all: any[]) => all.filter((s: any) => s.tags.includes('sovereign-dump-data'));
    const before = snapshots();
    expect(manifests(before)).toHaveLength(2);
    expect(streams(before)).toHaveLength(2);
    const newest = manifests(before).sort((a: any, b: any) => a.time.localeCompare(b.time))[1];
    const dumpTag = newest.tags.find((t: string) => t.startsWith('dump-'));
    const newestStream = streams(before).find((x: any) => x.tags.includes(dumpTag)).short_id;
    expectSuccess(await run(production, 'backup-prune', prodEtc), PROD_HOST, 'prune');
    // Both are from today: keep-daily keeps the newest of the day, and the stream of the same dump.
    const after = snapshots();
    expect(manifests(after).map((s: any) => s.id)).toEqual([newest.id]);
    expect(streams(after).map((s: any) => s.short_id)).toEqual([newestStream]);

    const check = await run(production, 'backup-check', variant(prodEtc, 'backup.conf', { CHECK_READ_SLICES: 1 }));
    expectSuccess(check, PROD_HOST, 'check');
    expect(check.pings[1].body).toMatch(/repositories sound, read data slice storagebox slice 1\/1 \(every pack is read every 1 runs\), backups fresh/);
  });

  test('the jobs run the client programs of the server\'s major (PG_BIN), not the ones Debian\'s pg_wrapper would pick', async () => {
    // PG_BIN names a directory of the real PostgreSQL 15 programs, pg_dump and pg_restore wrapped to record each call.
    const bin = path.join(tmp, 'pg-bin');
    const calls = path.join(tmp, 'pg-bin-calls');
    fs.mkdirSync(bin);
    for (const program of ['psql', 'pg_dumpall']) fs.symlinkSync(`/usr/lib/postgresql/15/bin/${program}`, path.join(bin, program));
    for (const program of ['pg_dump', 'pg_restore']) {
      fs.writeFileSync(path.join(bin, program), `#!/bin/sh\necho ${program} >>'${calls}'\nexec /usr/lib/postgresql/15/bin/${program} "$@"\n`, { mode: 0o755 });
    }
    fs.writeFileSync(calls, '');
    fs.chmodSync(calls, 0o666); // pg_restore of the read-back runs as root, pg_dump as the PostgreSQL OS user
    fs.chmodSync(tmp, 0o755);
    const dump = await run(production, 'backup-dump', variant(prodEtc, 'backup.conf', { PG_BIN: bin, PG_DATABASES: 'analytics', DUMP_DIR: path.join(tmp, 'dumps-pg-bin') }));
    expectSuccess(dump, PROD_HOST, 'dump');
    expect(fs.readFileSync(calls, 'utf8').split('\n').filter(Boolean).sort()).toEqual(['pg_dump', 'pg_restore']);
    expect(fs.readFileSync(path.join(prodEtc, 'backup.conf'), 'utf8')).toMatch(/^PG_BIN='\/usr\/lib\/postgresql\/15\/bin'$/m);
  });

  describe('failure cases: each ends non-zero, pings /fail and never success', () => {
    test('PG_BIN names a directory without PostgreSQL\'s client programs: every job fails at once, naming it', async () => {
      const missing = '/usr/lib/postgresql/99/bin';
      const result = await run(production, 'backup-dump', variant(prodEtc, 'backup.conf', { PG_BIN: missing }));
      expectFailure(result, PROD_HOST, 'dump', /PostgreSQL's client programs are not in \/usr\/lib\/postgresql\/99\/bin \(PG_BIN of .*backup\.conf\): install the client package of the server's major/);
      expectFailure(await run(testMachine, 'restore-drill', variant(testEtc, 'drill.conf', { PG_BIN: missing })), TEST_HOST, 'restore-drill', /PostgreSQL's client programs are not in \/usr\/lib\/postgresql\/99\/bin/);
    });

    test('target unreachable', async () => {
      // Port 1 (tcpmux): privileged and unused, so nothing another test starts can take it.
      const closed = 1;
      // The dump streams to the target as pg_dump writes: the target is down, the local copy stays.
      const dumps = path.join(tmp, 'dumps-unreachable');
      const dump = await run(production, 'backup-dump', variant(prodEtc, 'backup.conf', { storagebox_PORT: closed, DUMP_DIR: dumps }));
      expectFailure(dump, PROD_HOST, 'dump', /dump \d{8}T\d{6}Z is kept on this machine, but streaming it failed for storagebox: restic backup of dump \d{8}T\d{6}Z failed \(.*Connection refused[\s\S]*failed step: backing up dump \d{8}T\d{6}Z to storagebox/);
      const kept = fs.readdirSync(dumps);
      expect(kept).toHaveLength(1);
      expect(fs.readdirSync(path.join(dumps, kept[0]))).not.toContain('.pushed.storagebox');
      // Once the target is back, the push sends the local copy and reads it back.
      const push = await run(production, 'backup-push', variant(prodEtc, 'backup.conf', { DUMP_DIR: dumps }));
      expectSuccess(push, PROD_HOST, 'push');
      expect(push.stderr).toMatch(new RegExp(`dump ${kept[0]} is snapshot \\w{8} \\(manifest \\w{8}\\) on storagebox; read back from storagebox: \\d+ databases, \\d+ bytes, every checksum matches`));
      expect(fs.readdirSync(path.join(dumps, kept[0]))).toContain('.pushed.storagebox');
      expectFailure(await run(production, 'backup-push', variant(prodEtc, 'backup.conf', { storagebox_PORT: closed })), PROD_HOST, 'push', /push failed for storagebox: restic backup of dump \d{8}T\d{6}Z failed \(.*Connection refused[\s\S]*failed step: backing up dump \d{8}T\d{6}Z to storagebox[\s\S]*last lines of the failing command:\n[\s\S]*Connection refused/);
      expectFailure(await run(testMachine, 'restore-drill', variant(testEtc, 'drill.conf', { source_PORT: closed })), TEST_HOST, 'restore-drill', /cannot fetch the newest backup of acme-production-app from source[\s\S]*Connection refused/);
    });

    test('wrong repository password', async () => {
      const wrongPush = variant(prodEtc, 'backup.conf', {}, { 'secrets/storagebox.restic.b64': b64('not the password') });
      expectFailure(await run(production, 'backup-push', wrongPush), PROD_HOST, 'push', /wrong password or no key found/);
      const wrongDrill = variant(testEtc, 'drill.conf', {}, { 'secrets/source.restic.b64': b64('not the password') });
      expectFailure(await run(testMachine, 'restore-drill', wrongDrill), TEST_HOST, 'restore-drill', /wrong password or no key found/);
    });

    test('corrupted repository', async () => {
      // A copy of the repository with its data packs damaged (bit rot, a bad disk, tampering). All of
      // them: a small dump's stream is one chunk, in a pack of its own, so the largest pack may be an older dump's.
      const corrupt = path.join(sftp.home, 'restic-corrupt');
      fs.cpSync(path.join(sftp.home, 'restic'), corrupt, { recursive: true });
      const packs = fs.readdirSync(path.join(corrupt, 'data'), { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile()).map((e) => path.join(e.parentPath ?? (e as any).path, e.name));
      for (const file of packs) {
        const pack = fs.readFileSync(file);
        for (let i = 64; i < pack.length - 64; i += 509) pack[i] ^= 0xff;
        fs.writeFileSync(file, pack);
      }

      expectFailure(await run(production, 'backup-check', variant(prodEtc, 'backup.conf', { storagebox_REPO_PATH: 'restic-corrupt', CHECK_READ_SLICES: 1 })),
        PROD_HOST, 'check', /check failed for storagebox: restic check reading slice 1\/1 failed/);
      expectFailure(await run(testMachine, 'restore-drill', variant(testEtc, 'drill.conf', { source_REPO_PATH: 'restic-corrupt' })),
        TEST_HOST, 'restore-drill', /restic dump of snapshot \w{8} from source failed \(.*ciphertext verification failed|cannot fetch the newest backup|do not match their checksums/);
    });

    test('a tampered manifest whose INDEX names ../x fails the drill before a name is used in a path', async () => {
      // Whoever can write to the repository (it holds the password) records a newer manifest of its own.
      const tampered = path.join(sftp.home, 'restic-tampered');
      fs.cpSync(path.join(sftp.home, 'restic'), tampered, { recursive: true });
      const stream = streamSnapshots()[0];
      const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
      const stage = fs.mkdtempSync(path.join(tmp, 'tampered-'));
      fs.mkdirSync(path.join(stage, stamp));
      fs.writeFileSync(path.join(stage, stamp, 'INDEX'), '../x 10\n');
      fs.writeFileSync(path.join(stage, stamp, 'globals.sql'), '');
      fs.writeFileSync(path.join(stage, stamp, 'STREAM'), `${stream}\n`);
      const sum = (f: string) => execFileSync('sha256sum', [f], { cwd: path.join(stage, stamp), encoding: 'utf8' });
      fs.writeFileSync(path.join(stage, stamp, 'SHA256SUMS'), `${'0'.repeat(64)}  ../x.dump\n${sum('globals.sql')}`);
      const tar = execFileSync('tar', ['-C', stage, '-cf', '-', stamp]);
      execFileSync('restic', ['-r', tampered, 'backup', '--stdin', '--stdin-filename', 'sovereign-dump/manifest.tar', '--host', PROD_HOST, '--tag', 'sovereign-dump'],
        { input: tar, env: { ...process.env, RESTIC_PASSWORD }, stdio: ['pipe', 'ignore', 'pipe'] });

      const work = path.join(tmp, 'tampered-drill-work');
      const drill = await run(testMachine, 'restore-drill', variant(testEtc, 'drill.conf', { source_REPO_PATH: 'restic-tampered', DRILL_WORK: work }));
      expectFailure(drill, TEST_HOST, 'restore-drill', /the manifest's INDEX names a database '\.\.\/x', which is not a database name a dump carries[\s\S]*tampered with[\s\S]*failed step: checking the manifest's index/);
      // Nothing was written next to the drill's work directory, and no scratch database was created for it.
      expect(fs.readdirSync(work)).toEqual([]);
      expect(pg.sql('postgres', "SELECT count(*) FROM pg_database WHERE datname LIKE '%../x%'")).toBe('0');
    });

    // Audit (mutation): no case changed a manifest file and kept its checksums, so dropping the drill's check of the
    // manifest against SHA256SUMS passed: a roles file edited after the dump (a role added) was restored as it came.
    test('a manifest whose roles file changed after its checksums were written fails the drill at the checksum step', async () => {
      const tampered = path.join(sftp.home, 'restic-tampered-roles');
      fs.cpSync(path.join(sftp.home, 'restic'), tampered, { recursive: true });
      const restic = (args: string[], input?: Buffer) => execFileSync('restic', ['-r', tampered, '--no-lock', ...args],
        { input, env: { ...process.env, RESTIC_PASSWORD }, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
      // The newest real manifest, with one line added to its roles file and its SHA256SUMS left as the dump wrote it.
      const stage = fs.mkdtempSync(path.join(tmp, 'tampered-roles-'));
      execFileSync('tar', ['-C', stage, '-xf', '-'], { input: restic(['dump', '--host', PROD_HOST, '--tag', 'sovereign-dump', '--path', '/sovereign-dump/manifest.tar', 'latest', '/sovereign-dump/manifest.tar']) });
      const [stamp] = fs.readdirSync(stage);
      const globals = path.join(stage, stamp, 'globals.sql');
      const text = fs.readFileSync(globals, 'utf8');
      expect(text).toMatch(/^-- PostgreSQL database cluster dump complete$/m);
      fs.writeFileSync(globals, text.replace(/^(-- PostgreSQL database cluster dump complete)$/m, 'CREATE ROLE intruder SUPERUSER LOGIN;\n$1'));
      restic(['backup', '--stdin', '--stdin-filename', 'sovereign-dump/manifest.tar', '--host', PROD_HOST, '--tag', 'sovereign-dump'], execFileSync('tar', ['-C', stage, '-cf', '-', stamp]));

      const drill = await run(testMachine, 'restore-drill', variant(testEtc, 'drill.conf', { source_REPO_PATH: 'restic-tampered-roles' }));
      expectFailure(drill, TEST_HOST, 'restore-drill', /the restored files do not match their checksums[\s\S]*failed step: checking the manifest against its checksums/);
      expect(pg.sql('postgres', "SELECT count(*) FROM pg_roles WHERE rolname = 'intruder'")).toBe('0');
    });

    test('dump failing mid-way leaves no dump behind', async () => {
      // The dump role may read every table but one that row-level security guards: pg_dump fails
      // on that table's data, after writing the tables before it.
      pg.sql('app', `CREATE ROLE backup_reader LOGIN; GRANT USAGE ON SCHEMA public, billing TO backup_reader;
        GRANT SELECT ON ALL TABLES IN SCHEMA public, billing TO backup_reader; GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO backup_reader;
        CREATE TABLE zz_guarded (id int, secret text); INSERT INTO zz_guarded VALUES (1, 'x'); GRANT SELECT ON zz_guarded TO backup_reader;
        ALTER TABLE zz_guarded ENABLE ROW LEVEL SECURITY; CREATE POLICY own_rows ON zz_guarded USING (id = 0);`);
      try {
        const dumps = path.join(tmp, 'dumps-midway');
        const streams = streamSnapshots();
        const etc = variant(prodEtc, 'backup.conf', { PG_USER: 'backup_reader', PG_DATABASES: 'app', DUMP_DIR: dumps });
        const result = await run(production, 'backup-dump', etc);
        expectFailure(result, PROD_HOST, 'dump', /pg_dump of app failed[\s\S]*row-level security policy for table "zz_guarded"/);
        expect(result.stderr).not.toMatch(/verifying the dump of app/);
        expect(fs.readdirSync(dumps)).toEqual([]);
        expectCleanFailure(etc, streams);
      } finally {
        pg.sql('app', 'DROP TABLE zz_guarded; DROP OWNED BY backup_reader; DROP ROLE backup_reader');
      }
    });

    test('database down', async () => {
      pg.stop();
      try {
        expectFailure(await run(production, 'backup-dump', prodEtc), PROD_HOST, 'dump', /cannot list the databases .* \(is PostgreSQL running\?\)/);
        expectFailure(await run(testMachine, 'restore-drill', testEtc), TEST_HOST, 'restore-drill', /PostgreSQL on this machine .* is not reachable for the scratch databases/);
      } finally {
        pg.start();
      }
    });

    test('disk full at the dump location: the dump still reaches the Storage Box and restores from there, the job fails naming the disk, nothing half-written stays', async () => {
      const full = world.smallDisk('full-disk', 1024 * 1024);
      // The filesystem is full but for 48 KiB: less than one database's dump.
      BackupWorld.fillDisk(full, 48 * 1024);
      const streams = streamSnapshots();
      // No reserve: the disk itself runs out (the reserve is the next test's).
      const etc = variant(prodEtc, 'backup.conf', { DUMP_DIR: full, DUMP_RESERVE_MB: 0 });
      const result = await run(production, 'backup-dump', etc);
      expectFailure(result, PROD_HOST, 'dump', new RegExp(`no space left on the disk of ${full}: the local copy of dump \\d{8}T\\d{6}Z could not be written `
        + '\\(writing the dump of app\\), and nothing of it is left there[\\s\\S]*the remote copies are complete: it was streamed to storagebox and read back from it'
        + `[\\s\\S]*Fix: free space on that disk \\(df -h ${full}`));
      const fail = result.pings.find((p) => p.path.endsWith('/fail'))!.body;
      const stamp = /the local copy of dump (\d{8}T\d{6}Z)/.exec(fail)![1];
      // The failed step is the local copy's, with the cause its command printed.
      expect(fail).toMatch(new RegExp(`failed step: writing the local copy of dump ${stamp} into ${full} \\(writing the dump of app\\)\nlast lines of the failing command:\n`
        + `no space left for the local copy ${full}/.partial-${stamp}/app.dump \\(No space left on device\\): removed; the streams go on\n`));
      // No partial dump that the push, the local retention or a restore by hand could take for a complete one.
      expect(fs.readdirSync(full)).toEqual(['filler']);
      expectFailure(await run(production, 'backup-push', etc), PROD_HOST, 'push', new RegExp(`no completed dump in ${full}`));
      // Nothing the dump started is left running and the lock is free; the stream is the one new snapshot of its kind.
      expect(survivorsOf(etc)).toEqual([]);
      expect(repositoryLock(path.join(tmp, 'production-state'))).toEqual({ holders: [], free: true });
      expect(streamSnapshots().filter((id) => !streams.includes(id))).toHaveLength(1);
      const drill = await run(testMachine, 'restore-drill', variant(testEtc, 'drill.conf', { DRILL_KEEP_DATABASES: 0 }));
      expectSuccess(drill, TEST_HOST, 'restore-drill');
      expect(drill.pings[1].body).toMatch(new RegExp(`\\(dump ${stamp}, 0 hours old\\): analytics app postgres[^;]*; \\d+ tables and \\d+ rows match .*; 2 verification queries true`));
    });

    test('one disk for the dumps, /tmp and the state, as on a machine: the local copy leaves restic room for its packs, so the remote copy is made', async () => {
      // About 9 MB of pg_dump output that does not compress; restic's pack of it waits in TMPDIR until uploaded.
      pg.sql('postgres', 'CREATE DATABASE bulk');
      try {
        pg.sql('bulk', `CREATE TABLE blobs (id int PRIMARY KEY, body text); INSERT INTO blobs SELECT g, md5(random()::text) || md5(random()::text)
          || md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) FROM generate_series(1, 60000) g`);
        const disk = world.smallDisk('one-disk', 32 * 1024 * 1024);
        for (const dir of ['tmp', 'state', 'postgresql']) fs.mkdirSync(path.join(disk, dir));
        // Room for the dump or for restic's pack of it, not for both: the local copy keeps 8 MiB free.
        BackupWorld.fillDisk(disk, 12 * 1024 * 1024);
        const streams = streamSnapshots();
        const etc = variant(prodEtc, 'backup.conf', { DUMP_DIR: path.join(disk, 'postgresql'), BACKUP_STATE: path.join(disk, 'state'), PG_DATABASES: 'app bulk', DUMP_RESERVE_MB: 8 });
        const result = await runScript(path.join(production.root, 'usr/local/sbin/backup-dump'), world.receiver, { TMPDIR: path.join(disk, 'tmp'), SOVEREIGN_BACKUP_ETC: etc });
        expectFailure(result, PROD_HOST, 'dump', new RegExp(`no space left on the disk of ${disk}/postgresql: the local copy of dump (\\d{8}T\\d{6}Z) could not be written `
          + `\\(writing the dump of bulk; it leaves 8 MiB free there, for restic's packs in ${disk}/tmp and the run's files\\)`
          + '[\\s\\S]*the remote copies are complete: it was streamed to storagebox and read back from it'
          + '[\\s\\S]*no space left for the local copy .*/bulk\\.dump \\(8 MiB would no longer be left free on its disk\\)'));
        expect(fs.readdirSync(path.join(disk, 'postgresql'))).toEqual([]);
        expect(streamSnapshots().filter((id) => !streams.includes(id))).toHaveLength(1);
        const drill = await run(testMachine, 'restore-drill', variant(testEtc, 'drill.conf', { DRILL_KEEP_DATABASES: 0 }));
        expectSuccess(drill, TEST_HOST, 'restore-drill');
        expect(drill.pings[1].body).toMatch(/: app bulk; \d+ tables and 6\d{4} rows match .*; 2 verification queries true/);
      } finally {
        pg.sql('postgres', 'DROP DATABASE bulk WITH (FORCE)');
      }
    });

    test('a full disk under TMPDIR before the job begins: the dump and the push fail at once, naming that disk, and send nothing', async () => {
      // restic's packs wait there; on a full disk each job used to die at its first write ("printf … exited with 1").
      const tmp = world.smallDisk('full-tmp', 1024 * 1024);
      BackupWorld.fillDisk(tmp, 16 * 1024);
      const streams = streamSnapshots();
      for (const job of ['dump', 'push']) {
        const result = await runScript(path.join(production.root, `usr/local/sbin/backup-${job}`), world.receiver, { TMPDIR: tmp, SOVEREIGN_BACKUP_ETC: prodEtc });
        expectFailure(result, PROD_HOST, job, new RegExp(`^the disk of ${tmp} \\(TMPDIR\\) is full: 0 MiB left, .*nothing was sent\\. `
          + `Fix: free space on that disk \\(df -h ${tmp}; .*\\), then run backup-${job} again\\nfailed step: checking the free space of ${tmp}\\n`));
        expect(survivorsOf(prodEtc)).toEqual([]);
      }
      expect(streamSnapshots()).toEqual(streams);
    });

    // Audit: the job's log is the first file a job creates in TMPDIR, before its exit trap exists: on a disk with no
    // inode (or byte) left, mktemp failed and every job died without a failure ping, leaving the alert to the
    // heartbeat's grace period.
    test('no inode left under TMPDIR before the job begins: every job fails at once with its failure ping, naming that disk and the fix', async () => {
      const noInodes = world.smallDisk('no-inodes-tmp', 1024 * 1024, ['nr_inodes=2']);
      fs.writeFileSync(path.join(noInodes, 'filler'), '');
      expect(() => fs.writeFileSync(path.join(noInodes, 'x'), '')).toThrow(/ENOSPC/);
      // The jobs of the plan (bootstrap and key rotation report through the push job's heartbeat) and the drill.
      const jobs: Array<[MachineRoot, string, string, string, string]> = [
        [production, prodEtc, 'backup-dump', PROD_HOST, 'dump'], [production, prodEtc, 'backup-push', PROD_HOST, 'push'],
        [production, prodEtc, 'backup-prune', PROD_HOST, 'prune'], [production, prodEtc, 'backup-check', PROD_HOST, 'check'],
        [production, prodEtc, 'backup-bootstrap', PROD_HOST, 'push'], [production, prodEtc, 'backup-rotate-keys', PROD_HOST, 'push'],
        [testMachine, testEtc, 'restore-drill', TEST_HOST, 'restore-drill'],
      ];
      for (const [machine, etc, script, host, slug] of jobs) {
        const result = await runScript(path.join(machine.root, 'usr/local/sbin', script), world.receiver,
          { TMPDIR: noInodes, SOVEREIGN_BACKUP_ETC: etc, SOVEREIGN_PREVIOUS_ROOT: path.join(tmp, 'previous') });
        expectFailure(result, host, slug, new RegExp(`^cannot create the job's files in ${noInodes} \\(TMPDIR\\), so it did nothing: `
          + `mktemp: failed to create file via template '${noInodes}/sovereign-backup\\.XXXXXX': No space left on device\\. `
          + `Its disk has 0 inodes and \\d+ MiB free; .*Fix: free inodes or space on that disk \\(df -i ${noInodes} and df -h ${noInodes}; .*\\), then run ${script} again\\n`));
        // The journal says it as well; the job started nothing and left nothing.
        expect(result.stderr).toMatch(new RegExp(`FAILED \\(exit 1\\) at step 'starting': cannot create the job's files in ${noInodes} \\(TMPDIR\\)`));
        expect(survivorsOf(etc)).toEqual([]);
      }
      expect(fs.readdirSync(noInodes)).toEqual(['filler']);
    });

    test('no inode left at the dump location before the dump begins: it still reaches the Storage Box; a read-only one fails before streaming', async () => {
      const full = world.smallDisk('no-inodes', 1024 * 1024, ['nr_inodes=2']);
      fs.writeFileSync(path.join(full, 'filler'), '');
      expect(() => fs.mkdirSync(path.join(full, 'x'))).toThrow(/ENOSPC/);
      const streams = streamSnapshots();
      const result = await run(production, 'backup-dump', variant(prodEtc, 'backup.conf', { DUMP_DIR: full }));
      expectFailure(result, PROD_HOST, 'dump', new RegExp(`no space left on the disk of ${full}: the local copy of dump (\\d{8}T\\d{6}Z) could not be written `
        + `\\(creating ${full}/\\.partial-\\1[;)][\\s\\S]*the remote copies are complete: it was streamed to storagebox and read back from it`));
      expect(fs.readdirSync(full)).toEqual(['filler']);
      expect(streamSnapshots().filter((id) => !streams.includes(id))).toHaveLength(1);

      // Any other reason the local copy cannot be written fails the dump as before, before anything is streamed.
      const readOnly = world.smallDisk('read-only', 1024 * 1024, ['ro']);
      const etc = variant(prodEtc, 'backup.conf', { DUMP_DIR: path.join(readOnly, 'postgresql') });
      const before = streamSnapshots();
      expectFailure(await run(production, 'backup-dump', etc), PROD_HOST, 'dump', /cannot create .*Read-only file system/);
      expectCleanFailure(etc, before);
    });

    test('a stale dump is not pushed as if it were today\'s', async () => {
      const stale = path.join(tmp, 'stale-dumps');
      fs.mkdirSync(path.join(stale, '20200101T030000Z'), { recursive: true });
      const result = await run(production, 'backup-push', variant(prodEtc, 'backup.conf', { DUMP_DIR: stale }));
      expectFailure(result, PROD_HOST, 'push', /the newest dump \(20200101T030000Z\) is \d+ hours old/);
    });
  });
});
