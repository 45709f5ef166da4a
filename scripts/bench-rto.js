#!/usr/bin/env node
// Measures the RTO for a lost production machine, end to end, on loopback:
//  0. (before the clock) production of the example product (examples/phase1-pilot) runs a PostgreSQL
//     configured from its rendered bundle, holding a database of BENCH_DB_MB (default 1024) MB, backed
//     up by its rendered jobs to the Storage Box lab (OpenSSH SFTP on loopback); then the machine is lost
//     (server stopped, files wiped);
//  1. the clock starts: `terraform init` + `terraform apply` of the production stack through the
//     stand-in provider, rolling the bundle out to a new server (LoopbackMachine: sshd on loopback); the
//     rollout runs the rendered PostgreSQL setup, which starts the server and creates the app's role and
//     database (what `apt-get install postgresql-15` makes is made first by LoopbackMachine.prepareFor, timed);
//  2. the rendered production restore: production's `backup-restore`, pointed at the new server, fetches
//     the newest backup from the Storage Box with no cache, replaces the empty `app` database the setup
//     created with the dump (owners, privileges, the backup's roles) and checks every table's rows and
//     checksums against the manifest; the app role then reads it over the private address.
// Run it as root (ip netns, sshd, runuser): `node scripts/bench-rto.js`. It runs the TypeScript sources
// (transpiled into node_modules/.cache). Results go to scripts/bench-rto.results.md.
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const DB_MB = Number(process.env.BENCH_DB_MB || 1024);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 3);
const { javascriptEntry } = require(path.join(ROOT, 'dist', 'testing', 'harness', 'transpile-cache.js'));
const labModule = require(javascriptEntry(path.join(ROOT, '__tests__', 'database', 'helpers', 'recovery-lab')));
const postgresCluster = require(javascriptEntry(path.join(ROOT, 'testing', 'postgres-cluster')));
const testing = require(javascriptEntry(path.join(ROOT, 'testing', 'index')));
const { RecoveryLab, APP_PASSWORD, RESTIC_PASSWORD, PRIVATE_ADDRESS, PILOT } = labModule;
const PG_BIN = postgresCluster.PG_BIN;

const now = () => Number(process.hrtime.bigint()) / 1e6;
const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' / ');

function du(dir) {
  return Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);
}

/** The timed steps of a job, from its log lines (`<time> <job>: step: <name>`), to its end. */
function stepsOf(stderr, endMs) {
  const steps = [];
  for (const line of stderr.split('\n')) {
    const m = /^(\d{4}-\d\d-\d\dT[\d:.]+Z) [\w-]+: step: (.*)$/.exec(line);
    if (m) steps.push({ at: Date.parse(m[1]), name: m[2] });
  }
  return steps.map((st, i) => ({ name: st.name, ms: (i + 1 < steps.length ? steps[i + 1].at : endMs) - st.at }));
}

/**
 * One recovery, timed: a new server from the production stack, the rendered restore path, the app's
 * database in place. `cleanup` collects what to undo after the round.
 */
async function recover({ lab, standIn, tmp, round, rows, cleanup }) {
  const rto = {};
  const start = now();
  const machine = await testing.LoopbackMachine.start(path.join(tmp, `new-production-${round}`));
  // stop() also stops the server prepareFor's unit started and removes its namespace.
  cleanup.push(() => machine.stop());
  const json = lab.stacks.production;
  let t = now();
  machine.prepareFor(testing.synthesizedBundle(json, PILOT.productionServer));
  fs.appendFileSync(path.join(postgresCluster.clusterConfigDirectory(machine.root), 'postgresql.conf'), 'fsync = on\n');
  rto.package = now() - t;
  const ws = standIn.workspace(json);
  // The other variables are the workspace's placeholders, which the machine's setups accept.
  ws.setVariables({ TF_VAR_database_app_password_production: APP_PASSWORD, TF_VAR_restic_password: RESTIC_PASSWORD }).rollOutTo(machine.target({ timeout: '60s' })).setConfiguration(json);
  t = now();
  const init = ws.init();
  if (!init.ok) throw new Error(`terraform init failed:\n${init.stderr}`);
  rto.init = now() - t;
  t = now();
  const apply = ws.apply();
  if (!apply.ok) throw new Error(`terraform apply failed:\n${(apply.stdout + apply.stderr).slice(-6000)}`);
  rto.apply = now() - t;
  rto.resources = Object.values(ws.cloud().objects).reduce((n, o) => n + Object.keys(o).length, 0);
  const calls = machine.systemctlCalls();
  if (!calls.some((c) => /^start postgresql@15-main/.test(c))) throw new Error(`the rollout did not start PostgreSQL; systemctl calls: ${calls.join(', ')}`);

  // 2. The rendered production restore against the new server: production's own `backup-restore`
  // (laid out from the same bundle, its SSH key authorized on the Storage Box lab, pointed at the new
  // server's socket) restores the newest dump into the live `app` database, which the rollout's setup
  // created empty, with its owners and the backup's roles, and checks it against the manifest.
  const kit = lab.productionMachine(`restore-kit-${round}`);
  kit.override('backup.conf', { PG_HOST: path.join(machine.root, 'var/run/postgresql') });
  const restore = await kit.run('backup-restore');
  if (restore.code !== 0) throw new Error(`backup-restore failed (exit ${restore.code}):\n${restore.stderr.slice(-4000)}`);
  rto.restore = restore.ms;
  rto.restoreSteps = stepsOf(restore.stderr, Date.now());
  rto.restoreSummary = /OK: (.*)/.exec(restore.stderr)[1].trim();
  const seen = execFileSync('ip', ['netns', 'exec', `loopback-${machine.port}`, `${PG_BIN}/psql`, '-X', '-q', '-A', '-t', '-w',
    `host=${PRIVATE_ADDRESS} port=5432 user=app dbname=app sslmode=disable`, '-c', "INSERT INTO tenants VALUES (1001, 'after the restore'); SELECT count(*) FROM events"],
  { env: { PATH: process.env.PATH, PGPASSWORD: APP_PASSWORD }, encoding: 'utf8' }).trim();
  if (Number(seen) !== rows) throw new Error(`the app role sees ${seen} events after the restore, production had ${rows}`);
  rto.total = now() - start;
  return rto;
}

async function main() {
  if (process.getuid() !== 0) throw new Error('run as root: ip netns, sshd and runuser are needed');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-rto-'));
  // Every temp directory of the run (cdktf's Testing apps make one per synth) goes under this one, removed at the end.
  fs.chmodSync(tmp, 0o1777); // as /tmp: PostgreSQL and the scripts run as other users
  process.env.TMPDIR = tmp;
  const loadAtStart = load();
  // The Storage Box offers OpenSSH's own key exchanges: each connection costs what it costs on a machine.
  const lab = await RecoveryLab.start(tmp, { defaultKeyExchange: true });
  const standIn = new testing.HetznerStandIn();
  let lost;
  const prep = {};
  const rounds = [];
  const facts = {};
  try {
    // 0. Production before the loss: configured from its bundle, the data loaded by the app role, backed up.
    lost = lab.productionMachine('lost-production');
    lost.configurePostgres({ fsync: true });
    const rows = Math.round((DB_MB * 1024 * 1024) / 215);
    let t = now();
    lost.asApp(`
      CREATE TABLE tenants (id int PRIMARY KEY, name text NOT NULL);
      INSERT INTO tenants SELECT g, 'tenant ' || g FROM generate_series(1, 1000) g;
      CREATE TABLE events (id bigserial PRIMARY KEY, tenant_id int NOT NULL REFERENCES tenants, at timestamptz NOT NULL, kind text NOT NULL, payload text NOT NULL);
      INSERT INTO events (tenant_id, at, kind, payload)
        SELECT (g % 1000) + 1, timestamptz '2026-01-01' + g * interval '1 second', (ARRAY['view','order','login','export'])[(g % 4) + 1],
               md5(g::text) || md5((g * 7)::text) || md5((g * 13)::text) || md5((g * 31)::text)
        FROM generate_series(1, ${rows}) g;`);
    lost.asApp('VACUUM ANALYZE events');
    prep.load = now() - t;
    facts.rows = Number(lost.superuser('app', 'SELECT count(*) FROM events'));
    facts.dbBytes = Number(lost.superuser('postgres', "SELECT pg_database_size('app')"));
    for (const job of ['backup-bootstrap', 'backup-dump', 'backup-push']) {
      const run = await lost.run(job);
      if (run.code !== 0) throw new Error(`${job} failed (exit ${run.code}):\n${run.stderr.slice(-3000)}`);
      prep[job] = run.ms;
    }
    facts.dumpBytes = du(path.join(lost.root, 'var/backups/sovereign/postgresql'));
    facts.repoBytes = du(path.join(lab.box.home, 'restic'));
    lost.destroy({ wipe: true });

    // 1. The clock starts, once per round: a new server from the stacks.
    for (let round = 1; round <= ROUNDS; round++) {
      const cleanup = [];
      try {
        rounds.push(await recover({ lab, standIn, tmp, round, rows: facts.rows, cleanup }));
      } finally {
        for (const undo of cleanup.reverse()) await undo();
      }
      process.stderr.write(`round ${round}: RTO ${s(rounds[rounds.length - 1].total)}\n`);
    }
  } finally {
    lost?.destroy();
    standIn.stop(true);
    await lab.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  const loadAtEnd = load();
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const byTotal = [...rounds].sort((a, b) => a.total - b.total);
  const mid = byTotal[Math.floor(byTotal.length / 2)];
  const step = (key) => median(rounds.map((r) => r[key]));
  const server = median(rounds.map((r) => r.total - r.package - r.init - r.apply - r.restore));
  const total = mid.total;
  const share = (ms) => `${(ms / total * 100).toFixed(0)}%`;
  const out = [
    '# RTO for a lost production machine (scripts/bench-rto.js)',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} cores (${os.cpus()[0].model.trim()}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}.`,
    `Load average (1/5/15 min): ${loadAtStart} at the start, ${loadAtEnd} at the end: the machine is shared with other engineers' test runs,`,
    'so the figures are this run\'s, under that load.',
    `${execFileSync(`${PG_BIN}/postgres`, ['--version'], { encoding: 'utf8' }).trim()}, ${execFileSync('restic', ['version'], { encoding: 'utf8' }).trim().split(' compiled')[0]}, ${execFileSync('terraform', ['version'], { encoding: 'utf8' }).split('\n')[0]}; fsync on for both clusters.`,
    '',
    `The database: \`app\` of the example product (examples/phase1-pilot), ${mb(facts.dbBytes)} on disk (\`pg_database_size\`), ${facts.rows.toLocaleString('en')} rows`,
    `in \`events\` plus 1,000 \`tenants\`; its dump ${mb(facts.dumpBytes)}, the restic repository ${mb(facts.repoBytes)}. One backup, then ${rounds.length} recoveries,`,
    'each onto a new server.',
    '',
    `## RTO: **${s(total)}** (median of ${rounds.length}; ${rounds.map((r) => s(r.total)).join(', ')}) from "the machine is gone" to the app reading its restored data`,
    '',
    '| step (median over the rounds) | time | share of the median RTO |',
    '|---|---:|---:|',
    `| new server: LoopbackMachine (sshd) | ${s(server)} | ${share(server)} |`,
    `| what \`apt-get install postgresql-15\` makes, by \`LoopbackMachine.prepareFor\`: the cluster (initdb), its unit, and the namespace carrying the private address (downloading the package is not in this figure) | ${s(step('package'))} | ${share(step('package'))} |`,
    `| \`terraform init\` of the production stack (stand-in provider) | ${s(step('init'))} | ${share(step('init'))} |`,
    `| \`terraform apply\`: ${mid.resources} resources created, bundle rolled out over SSH, rendered PostgreSQL setup (server started, role and database created) | ${s(step('apply'))} | ${share(step('apply'))} |`,
    `| rendered \`backup-restore\` from the Storage Box lab into the new server's live \`app\` database (owners, roles, verified) | ${s(step('restore'))} | ${share(step('restore'))} |`,
    '',
    'Inside the restore of the median round (its own step log):',
    '',
    '| backup-restore step | time |',
    '|---|---:|',
    ...mid.restoreSteps.map((st) => `| ${st.name.replace(/snapshot \w{8}/, 'snapshot <id>').replace(/\d{8}T\d{6}Z/, '<time>')} | ${s(st.ms)} |`),
    '',
    `The restore's report: \`${mid.restoreSummary.replace(/\d{8}T\d{6}Z/, '<time>')}\``,
    '',
    'Before the clock (the lost production machine, for reference): loading the data',
    `${s(prep.load)}, \`backup-bootstrap\` ${s(prep['backup-bootstrap'])}, \`backup-dump\` ${s(prep['backup-dump'])}, \`backup-push\` ${s(prep['backup-push'])}.`,
    '',
    '## What the figure leaves out',
    '',
    '- Noticing the loss (the heartbeat and uptime alerts) and deciding to rebuild: human time.',
    '- Hetzner creating and booting the server, and cloud-init: the stand-in creates it at once. Not measured here.',
    '- Downloading and installing the packages (`postgresql-15`, `restic`, …) on the new server: not measured here.',
    '- The network between the server and the Storage Box: the lab is on loopback. At 1 Gbit/s the repository above would take',
    `  about ${(facts.repoBytes * 8 / 1e9).toFixed(0)} s to transfer at least.`,
    '- `terraform apply` here creates the whole stack (network, firewall, Storage Box and sub-accounts, …); after a real loss only the server',
    '  and what hangs on it are replaced.',
    '- The new server\'s own backup key: the restore runs from a copy of production\'s bundle whose key the lab already authorizes, so the',
    '  new server\'s `backup-bootstrap` (a password login, `install-ssh-key`, a repository open; `backup-bootstrap` above) is not in the figure.',
    '- A production whose host key is pinned (`admin.hostKeys`): the first deploy stops at the new server\'s key, which is read in the Hetzner',
    '  console and pinned before a second deploy rolls the bundle out (docs/backup.md, "Production is lost").',
    '',
    'The restore path is production\'s rendered `backup-restore` (docs/backup.md, "Restoring by hand"), run from a copy of production\'s',
    'bundle whose SSH key the Storage Box lab authorizes, pointed at the new server\'s socket (`PG_HOST`): it replaces the empty `app`',
    'database the rollout\'s setup created, with the dump\'s owners and the backup\'s roles; the app role then reads it with its password.',
    '',
  ].join('\n');
  fs.writeFileSync(path.join(__dirname, 'bench-rto.results.md'), out);
  process.stdout.write(out);
}

main().catch((e) => { console.error(e); process.exit(1); });
