#!/usr/bin/env node
// Measures how long the backup tooling takes against data size: dump, push and the restore drill
// (fetch from the repository, pg_restore, verification), with the exact scripts the library renders,
// on a real PostgreSQL 15, restic and OpenSSH SFTP server on loopback, as the end-to-end suite runs them.
// Needs root (as the e2e suite). Not part of `npm test`.
//
//   node scripts/bench-restore.js                  # 100 MB and 1 GB of table data
//   BENCH_SIZES_MB=50,200 node scripts/bench-restore.js
//
// Results go to scripts/bench-restore.results.md (and the figures into docs/backup.md by hand).
'use strict';
const { execFileSync, spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const SIZES_MB = (process.env.BENCH_SIZES_MB || '100,1024').split(',').map(Number);
const RESTIC_PASSWORD = 'bench restic password';

// Load the library and the e2e helpers from their TypeScript sources: transpile on require, no build.
const ts = require(require.resolve('typescript', { paths: [ROOT] }));
require.extensions['.ts'] = (module, filename) => {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020, esModuleInterop: true }, fileName: filename });
  module._compile(outputText, filename);
};
const helpers = path.join(ROOT, '__tests__', 'backup', 'helpers');
const { synthBackupApp } = require(path.join(helpers, 'fixture.ts'));
const { HeartbeatReceiver } = require(path.join(helpers, 'heartbeat-receiver.ts'));
const { overrideConf, writeMachineFiles } = require(path.join(helpers, 'machine-root.ts'));
const { PostgresCluster } = require(path.join(helpers, 'postgres.ts'));
const { SftpServer } = require(path.join(helpers, 'sftp-server.ts'));
const { renderTemplate, templateValues } = require(path.join(helpers, 'terraform-template.ts'));

function du(dir) {
  return Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);
}

/** Runs a rendered script; returns its wall time and the timestamped log lines it printed. */
function run(root, script, etc, tmp) {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(root, 'usr/local/sbin', script), [], {
      env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C.UTF-8', TMPDIR: tmp, SOVEREIGN_BACKUP_ETC: etc },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0) return reject(new Error(`${script} failed (${code}):\n${stderr}`));
      resolve({ seconds, stderr });
    });
  });
}

/** Seconds between the first log lines matching two patterns. */
function between(log, from, to) {
  const at = (re) => {
    const line = log.split('\n').find((l) => re.test(l));
    if (!line) throw new Error(`no log line matches ${re}`);
    return Date.parse(line.slice(0, 24));
  };
  return (at(to) - at(from)) / 1000;
}

async function benchOne(sizeMb) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-restore-'));
  fs.chmodSync(tmp, 0o755);
  const pg = await PostgresCluster.start(path.join(tmp, 'postgres'));
  const sftp = await SftpServer.start(path.join(tmp, 'storage-box'));
  const receiver = await HeartbeatReceiver.start();
  try {
    const { production, test } = synthBackupApp({ hostKeys: [sftp.hostKey], drillSourceHost: '127.0.0.1', drillSourceUser: 'root' });
    const sub = Object.keys(production.json.resource.hcloud_storage_box_subaccount)[0];
    const values = templateValues(
      { restic_password: RESTIC_PASSWORD, production_restic_password: RESTIC_PASSWORD, heartbeat_url: receiver.url, storage_box_app_password: 'unused-1-Aa' },
      { [`hcloud_storage_box_subaccount.${sub}.server`]: '127.0.0.1', [`hcloud_storage_box_subaccount.${sub}.username`]: 'root' },
    );
    const prodRoot = path.join(tmp, 'production-machine');
    const testRoot = path.join(tmp, 'test-machine');
    writeMachineFiles(renderTemplate(production.userData, values), prodRoot);
    writeMachineFiles(renderTemplate(test.userData, values), testRoot);
    const prodEtc = path.join(prodRoot, 'etc/sovereign-backup');
    const testEtc = path.join(testRoot, 'etc/sovereign-backup');
    overrideConf(path.join(prodEtc, 'backup.conf'), {
      BACKUP_STATE: path.join(tmp, 'production-state'), DUMP_DIR: path.join(tmp, 'dumps'), PG_HOST: pg.dir, PG_PORT: pg.port, storagebox_PORT: sftp.port,
    });
    overrideConf(path.join(testEtc, 'drill.conf'), {
      BACKUP_STATE: path.join(tmp, 'test-state'), DRILL_WORK: path.join(tmp, 'drill'), PG_HOST: pg.dir, PG_PORT: pg.port, source_PORT: sftp.port,
    });
    for (const etc of [prodEtc, testEtc]) {
      fs.mkdirSync(path.join(etc, 'ssh'), { recursive: true });
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(etc, 'ssh', 'id_ed25519')]);
      sftp.authorize(fs.readFileSync(path.join(etc, 'ssh', 'id_ed25519.pub'), 'utf8'));
    }

    // Data shaped like an app's: ~1 KiB rows of text, numbers, timestamps and JSON, an index, a second table
    // referencing the first. Hex text compresses about 2:1, like typical application data.
    pg.sql('postgres', 'CREATE DATABASE app');
    const rows = Math.round((sizeMb * 1024 * 1024) / 1200);
    const started = Date.now();
    pg.sql('app', `CREATE TABLE users (id int PRIMARY KEY, email text, created timestamptz, prefs jsonb);
      INSERT INTO users SELECT g, 'user' || g || '@example.eu', now() - g * interval '1 minute', jsonb_build_object('n', g) FROM generate_series(1, ${Math.max(1000, Math.round(rows / 20))}) g;
      CREATE TABLE orders (id bigserial PRIMARY KEY, user_id int REFERENCES users, title text, body text, amount numeric(12,2), updated timestamptz);
      INSERT INTO orders (user_id, title, body, amount, updated)
        SELECT 1 + g % ${Math.max(1000, Math.round(rows / 20))}, 'order ' || g,
               md5(g::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text)
               || md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text)
               || md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text)
               || md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text),
               g * 0.5, now() - g * interval '1 second'
        FROM generate_series(1, ${rows}) g;
      CREATE INDEX ON orders (user_id);`);
    pg.sql('app', 'VACUUM ANALYZE');
    const dbBytes = Number(pg.sql('app', "SELECT pg_database_size('app')"));
    const tableBytes = Number(pg.sql('app', "SELECT sum(pg_table_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'"));
    console.error(`${sizeMb} MB: generated ${(dbBytes / 1e6).toFixed(0)} MB in ${((Date.now() - started) / 1000).toFixed(0)} s`);

    await run(prodRoot, 'backup-bootstrap', prodEtc, tmp);
    const dump = await run(prodRoot, 'backup-dump', prodEtc, tmp);
    const dumpBytes = du(path.join(tmp, 'dumps'));
    const push = await run(prodRoot, 'backup-push', prodEtc, tmp);
    const repoBytes = du(path.join(sftp.home, 'restic'));
    const drill = await run(testRoot, 'restore-drill', testEtc, tmp);
    const log = drill.stderr;
    const result = {
      sizeMb, dbBytes, tableBytes, dumpBytes, repoBytes,
      dump: dump.seconds, push: push.seconds, drill: drill.seconds,
      fetch: between(log, /restoring snapshot/, /run: pg dropdb --if-exists restore_drill_app/),
      pgRestore: between(log, /restoring app into/, /OK: restored snapshot/),
    };
    console.error(`${sizeMb} MB: ${JSON.stringify(result)}`);
    return result;
  } finally {
    await sftp.stop();
    await receiver.stop();
    pg.destroy();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function main() {
  if (process.getuid() !== 0) throw new Error('bench-restore needs root, as the end-to-end suite does');
  const results = [];
  for (const size of SIZES_MB) results.push(await benchOne(size));
  const mb = (b) => `${(b / 1e6).toFixed(0)} MB`;
  const s = (x) => `${x.toFixed(1)} s`;
  const cpu = os.cpus()[0].model.replace(/\s+/g, ' ');
  const lines = [
    '# Restore benchmark',
    '',
    `Written by \`node scripts/bench-restore.js\` on ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} cores (${cpu}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, `
      + `load average ${os.loadavg()[0].toFixed(1)} at the end. PostgreSQL ${/\d+\.\d+/.exec(execFileSync('/usr/lib/postgresql/15/bin/postgres', ['--version'], { encoding: 'utf8' }))[0]}, `
      + `${execFileSync('restic', ['version'], { encoding: 'utf8' }).split(' ').slice(0, 2).join(' ')}, OpenSSH SFTP on loopback (no network limit).`,
    '',
    'The exact scripts the library renders, run once per size: `backup-dump` (pg_dump with row counts and checksums in the same snapshot, then a full read-back),',
    '`backup-push` (restic over SFTP, then a read-back of the checksum file), `restore-drill` (fetch the newest snapshot, pg_restore into a scratch database,',
    'compare every table\'s row count and checksum, run the team\'s queries). "fetch" is restic restore plus checksum verification; "restore + verify" is',
    'createdb, pg_restore (one job, from a pipe) and the verification queries.',
    '',
    '| table data | database | dump files | repository | dump | push | drill total | fetch | restore + verify |',
    '|---|---|---|---|---|---|---|---|---|',
    ...results.map((r) => `| ${mb(r.tableBytes)} | ${mb(r.dbBytes)} | ${mb(r.dumpBytes)} | ${mb(r.repoBytes)} | ${s(r.dump)} | ${s(r.push)} | ${s(r.drill)} | ${s(r.fetch)} | ${s(r.pgRestore)} |`),
    '',
  ];
  if (results.length >= 2) {
    const [a, b] = [results[0], results[results.length - 1]];
    const perGb = (b.drill - a.drill) / ((b.dbBytes - a.dbBytes) / 1e9);
    lines.push(`Drill time grows by about ${perGb.toFixed(0)} s per additional GB of database (between the smallest and largest size), `
      + `with a fixed part of about ${(a.drill - perGb * a.dbBytes / 1e9).toFixed(0)} s.`, '');
  }
  fs.writeFileSync(path.join(__dirname, 'bench-restore.results.md'), lines.join('\n'));
  console.log(lines.join('\n'));
}

main().catch((e) => { console.error(e); process.exit(1); });
