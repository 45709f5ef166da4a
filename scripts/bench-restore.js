#!/usr/bin/env node
// Rendered vs bare, on the same data in one run: the backup (backup-dump + backup-push) and the
// restore (restore-drill) exactly as the library renders them, against the least a person would
// type for the same result (`pg_dump -Fc | restic backup --stdin` and `restic dump | pg_restore`),
// on a real PostgreSQL 15, restic and OpenSSH SFTP server on loopback. A third pipeline, bare at
// the rendered pipeline's pg_dump compression level, shows what the proof costs with the
// compression level taken out. Rounds rotate the order of the three, each round into fresh
// repositories (a first, full upload); medians are reported, and the median of the per-round ratios.
// Needs root (as the end-to-end suite). Not part of `npm test`.
//
//   node scripts/bench-restore.js                       # about 170 MB of database, 5 rounds
//   BENCH_SIZE_MB=1000 BENCH_ROUNDS=3 node scripts/bench-restore.js
//
// Results go to scripts/bench-restore.results.md (and the figures into docs/backup.md by hand).
'use strict';
const { execFileSync, spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const SIZE_MB = Number(process.env.BENCH_SIZE_MB || 150);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 5);
const GOAL = 1.2;
// Everything from this line on in the results file is written by hand and kept by a new run.
const HAND_MARKER = '<!-- Written by hand from here on; scripts/bench-restore.js keeps it. -->';
// The pg_dump compression level backup-dump uses (lib/backup/private/scripts.ts).
const RENDERED_COMPRESS = 1;

// Load the e2e helpers from their TypeScript sources: transpile on require, no build.
const ts = require(require.resolve('typescript', { paths: [ROOT] }));
require.extensions['.ts'] = (module, filename) => {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020, esModuleInterop: true }, fileName: filename });
  module._compile(outputText, filename);
};
const { BackupWorld, RESTIC_PASSWORD } = require(path.join(ROOT, '__tests__', 'backup', 'helpers', 'world.ts'));

const PATH_ENV = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const PG_BIN = '/usr/lib/postgresql/15/bin';

function timed(command, args, options = {}) {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], ...options });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${command} ${args.join(' ')} failed (${code}):\n${stderr}`));
      resolve({ seconds: Number(process.hrtime.bigint() - started) / 1e9, stderr });
    });
  });
}

/** Seconds spent in each `step:` of a job's log (until the next step or the end). */
function steps(log) {
  const lines = log.split('\n').filter((l) => /^\d{4}-\d\d-\d\dT[\d:.]+Z \S+: (step: |OK: |FAILED)/.test(l));
  const out = {};
  for (let i = 0; i < lines.length - 1; i++) {
    const m = /: step: (.*)$/.exec(lines[i]);
    if (!m) continue;
    // Names without their variable parts: "dumping app" -> "dumping <db>".
    const name = m[1].replace(/\d{8}T\d{6}Z/g, '<time>').replace(/\b[0-9a-f]{8}\b/g, '<id>').replace(/restore_drill_\S+/g, '<scratch>')
      .replace(/^(dumping|table digest of) (?!the roles)\S+/, '$1 <db>').replace(/^(comparing the row counts and checksums of) \S+/, '$1 <db>');
    out[name] = (out[name] || 0) + (Date.parse(lines[i + 1].slice(0, 24)) - Date.parse(lines[i].slice(0, 24))) / 1000;
  }
  return out;
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

async function main() {
  if (process.getuid() !== 0) throw new Error('bench-restore needs root, as the end-to-end suite does');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-restore-'));
  // Repositories keep the key derivation restic calibrated, and the Storage Box offers OpenSSH's own key
  // exchanges: every open and every connection costs what it costs on a machine.
  const world = await BackupWorld.start(tmp, { calibratedKeys: true, defaultKeyExchange: true });
  const { pg, sftp } = world;
  try {
    // Data shaped like an app's: ~1 KiB rows of text, numbers, timestamps and JSON, an index, a second
    // table referencing the first. Hex text compresses about 2:1, like typical application data.
    pg.sql('postgres', 'CREATE DATABASE app');
    const rows = Math.round((SIZE_MB * 1024 * 1024) / 1200);
    const users = Math.max(1000, Math.round(rows / 20));
    const md5s = Array.from({ length: 31 }, () => 'md5(random()::text)').join(' || ');
    pg.sql('app', `CREATE TABLE users (id int PRIMARY KEY, email text, created timestamptz, prefs jsonb);
      INSERT INTO users SELECT g, 'user' || g || '@example.eu', now() - g * interval '1 minute', jsonb_build_object('n', g) FROM generate_series(1, ${users}) g;
      CREATE TABLE orders (id bigserial PRIMARY KEY, user_id int REFERENCES users, title text, body text, amount numeric(12,2), updated timestamptz);
      INSERT INTO orders (user_id, title, body, amount, updated)
        SELECT 1 + g % ${users}, 'order ' || g, md5(g::text) || ${md5s}, g * 0.5, now() - g * interval '1 second' FROM generate_series(1, ${rows}) g;
      CREATE INDEX ON orders (user_id);`);
    pg.sql('app', 'VACUUM ANALYZE');
    const dbBytes = Number(pg.sql('app', "SELECT pg_database_size('app')"));
    console.error(`database app: ${(dbBytes / 1e6).toFixed(0)} MB`);

    const keyEtc = world.production.etc;
    const ssh = `ssh -F /dev/null -p ${sftp.port} -i ${keyEtc}/ssh/id_ed25519 -o HostKeyAlias=bench -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR 127.0.0.1 -s sftp`;
    const pgEnv = { PGHOST: pg.dir, PGPORT: String(pg.port), PGUSER: 'postgres' };
    const bareEnv = { PATH: PATH_ENV, HOME: '/root', RESTIC_PASSWORD, ...pgEnv };
    const bash = (script, env) => timed('bash', ['-o', 'pipefail', '-ec', script], { env });

    const results = { rendered: [], bare: [], bareSame: [] };
    const loads = [os.loadavg()[0]];
    const stepLogs = { dump: [], drill: [] };
    let repoBytes = 0;
    let dumpBytes = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const kinds = ['rendered', 'bare', 'bareSame'];
      for (const kind of [...kinds.slice(round % 3), ...kinds.slice(0, round % 3)]) {
        const repo = `bench-${kind}-${round}`;
        if (kind !== 'rendered') {
          const restic = `restic --cache-dir ${tmp}/${kind}-cache-${round} -r sftp:root@127.0.0.1:${repo} -o sftp.command="${ssh}"`;
          const compress = kind === 'bareSame' ? ` --compress=${RENDERED_COMPRESS}` : '';
          const db = `${kind.toLowerCase()}_${round}`;
          await bash(`${restic} init -q`, bareEnv);
          const backup = await bash(`${PG_BIN}/pg_dump -Fc${compress} -d app | ${restic} backup -q --stdin --stdin-filename app.dump`, bareEnv);
          const restore = await bash(`${PG_BIN}/createdb ${db} && ${restic} dump latest /app.dump | ${PG_BIN}/pg_restore --no-owner -d ${db}`, bareEnv);
          pg.sql('postgres', `DROP DATABASE ${db}`);
          results[kind].push({ backup: backup.seconds, restore: restore.seconds });
        } else {
          const dumps = path.join(tmp, `dumps-${round}`);
          const prodEtc = world.variant(world.production.etc, 'backup.conf', { storagebox_REPO_PATH: repo, DUMP_DIR: dumps });
          const testEtc = world.variant(world.test.etc, 'drill.conf', { source_REPO_PATH: repo, DRILL_KEEP_DATABASES: 0 });
          const run = async (machine, script, etc) => {
            const started = process.hrtime.bigint();
            const r = await world.run(machine, script, etc);
            if (r.code !== 0) throw new Error(`${script} failed:\n${r.stderr}`);
            return { seconds: Number(process.hrtime.bigint() - started) / 1e9, stderr: r.stderr };
          };
          await run(world.production, 'backup-bootstrap', prodEtc);
          const dump = await run(world.production, 'backup-dump', prodEtc);
          const push = await run(world.production, 'backup-push', prodEtc);
          const drill = await run(world.test, 'restore-drill', testEtc);
          stepLogs.dump.push(steps(dump.stderr));
          stepLogs.drill.push(steps(drill.stderr));
          results.rendered.push({ backup: dump.seconds + push.seconds, dump: dump.seconds, push: push.seconds, restore: drill.seconds });
          repoBytes = Number(execFileSync('du', ['-sb', path.join(sftp.home, repo)], { encoding: 'utf8' }).split('\t')[0]);
          dumpBytes = Number(execFileSync('du', ['-sb', dumps], { encoding: 'utf8' }).split('\t')[0]);
          fs.rmSync(dumps, { recursive: true, force: true });
        }
        loads.push(os.loadavg()[0]);
        console.error(`round ${round + 1}/${ROUNDS} ${kind}: ${JSON.stringify(results[kind][results[kind].length - 1])} (load ${os.loadavg()[0].toFixed(1)})`);
      }
    }

    const m = (kind, key) => median(results[kind].map((r) => r[key]));
    const total = (kind) => median(results[kind].map((r) => r.backup + r.restore));
    const ratio = total('rendered') / total('bare');
    const sum = (r) => r.backup + r.restore;
    const perRound = (kind) => median(results.rendered.map((r, i) => sum(r) / sum(results[kind][i])));
    const s = (x) => `${x.toFixed(2)} s`;
    const stepTable = (logs) => {
      const names = [...new Set(logs.flatMap((l) => Object.keys(l)))];
      return names.map((n) => `| ${n} | ${s(median(logs.map((l) => l[n] || 0)))} |`);
    };
    const cpu = os.cpus()[0].model.replace(/\s+/g, ' ');
    const lines = [
      '# Restore benchmark: rendered vs bare',
      '',
      `Written by \`node scripts/bench-restore.js\` on ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} cores (${cpu}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, `
        + `1-minute load average between ${Math.min(...loads).toFixed(1)} and ${Math.max(...loads).toFixed(1)} during the run (the machine is shared; the ratios come from rounds that alternate, the absolute times do not carry over). PostgreSQL ${/\d+\.\d+/.exec(execFileSync(`${PG_BIN}/postgres`, ['--version'], { encoding: 'utf8' }))[0]}, `
        + `${execFileSync('restic', ['version'], { encoding: 'utf8' }).split(' ').slice(0, 2).join(' ')}, OpenSSH SFTP on loopback (no network limit).`,
      '',
      `One database of ${(dbBytes / 1e6).toFixed(0)} MB (rendered: dump ${(dumpBytes / 1e6).toFixed(0)} MB, repository ${(repoBytes / 1e6).toFixed(0)} MB), ${ROUNDS} rounds rotating the order of the three pipelines, `
        + 'each round into new repositories (a full upload); medians.',
      '',
      `- **rendered**: \`backup-dump\` (\`pg_dump -Fc --compress=${RENDERED_COMPRESS}\`) then \`backup-push\`, then \`restore-drill\`, exactly as the library renders them (every database, the table digest, the`,
      '  read-back of both snapshots without a cache, the scratch databases, row counts and checksums, the team\'s queries, heartbeats).',
      '- **bare**: `pg_dump -Fc app | restic backup --stdin` (pg_dump\'s default compression), then `createdb` and `restic dump latest | pg_restore`',
      '  with restic\'s cache kept between the two: no verification, no local copy, no heartbeat.',
      `- **bare, same level**: bare with \`pg_dump -Fc --compress=${RENDERED_COMPRESS}\`, as the rendered pipeline dumps: what the proof costs, the compression level taken out.`,
      '',
      '| | backup | restore | total | rendered / this (median of the rounds\' ratios) |',
      '|---|---|---|---|---|',
      `| rendered | ${s(m('rendered', 'backup'))} (dump ${s(m('rendered', 'dump'))}, push ${s(m('rendered', 'push'))}) | ${s(m('rendered', 'restore'))} | ${s(total('rendered'))} | |`,
      `| bare | ${s(m('bare', 'backup'))} | ${s(m('bare', 'restore'))} | ${s(total('bare'))} | ${perRound('bare').toFixed(2)}× |`,
      `| bare, same level | ${s(m('bareSame', 'backup'))} | ${s(m('bareSame', 'restore'))} | ${s(total('bareSame'))} | ${perRound('bareSame').toFixed(2)}× |`,
      `| **rendered / bare** | ${(m('rendered', 'backup') / m('bare', 'backup')).toFixed(2)}× | ${(m('rendered', 'restore') / m('bare', 'restore')).toFixed(2)}× | **${ratio.toFixed(2)}×** | |`,
      `| rendered / bare, same level | ${(m('rendered', 'backup') / m('bareSame', 'backup')).toFixed(2)}× | ${(m('rendered', 'restore') / m('bareSame', 'restore')).toFixed(2)}× | ${(total('rendered') / total('bareSame')).toFixed(2)}× | |`,
      '',
      `Goal: at most ${GOAL}× of bare. ${ratio <= GOAL ? 'Met.' : 'Not met.'}`,
      '',
      'Where the rendered time goes (medians of the steps in the jobs\' logs):',
      '',
      '| backup-dump step | time |',
      '|---|---|',
      ...stepTable(stepLogs.dump),
      '',
      '| restore-drill step | time |',
      '|---|---|',
      ...stepTable(stepLogs.drill),
      '',
    ];
    // Notes written by hand below the marker (earlier runs, the profile, what changed) stay.
    const file = path.join(__dirname, 'bench-restore.results.md');
    const previous = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    const kept = previous.includes(HAND_MARKER) ? previous.slice(previous.indexOf(HAND_MARKER)) : '';
    fs.writeFileSync(file, lines.join('\n') + (kept ? `\n${kept}` : ''));
    console.log(lines.join('\n'));
  } finally {
    await world.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
