#!/usr/bin/env node
// Measures machines that live:
//  1. the user data every example server sends (as Terraform sends it: references counted at their
//     realistic size) and the size of its bundle, which travels over SSH instead;
//  2. the time `terraform apply` takes to roll a production update out, through the stand-in provider
//     with a real sshd on loopback standing in for the server: the first deploy (create + rollout, which
//     sets up the real PostgreSQL 15 of a new server prepared by LoopbackMachine.prepareFor), a bundle change, a
//     rotated secret, and a deploy with nothing changed.
// Run it as root (sshd, ip netns, runuser) after a build (`npm run build && node scripts/bench-rollout.js`);
// it uses dist/.
// BENCH_RUNS sets the runs per figure (default 5). Results go to scripts/bench-rollout.results.md.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { App, Testing } = require('cdktf');

const ROOT = path.resolve(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS || 5);
const lib = require(path.join(ROOT, 'dist', 'lib'));
const testing = require(path.join(ROOT, 'dist', 'testing'));
const { EXAMPLES } = require(path.join(ROOT, 'dist', 'examples'));

/** What each example server sent at df843b2, before this change (cdktf placeholders; see the results file). */
const BEFORE = {
  'phase1-pilot-production/App': 31447, 'phase1-pilot-staging/App': 3367, 'phase1-pilot-test/App': 23539,
  'phase2-paying-production/App': 32744, 'phase2-paying-test/App': 24081,
  'phase3-traction-production/App': 28366, 'phase3-traction-production/MonitoringMachine': 12582,
  'phase3-traction-staging/App': 3367, 'phase3-traction-test/App': 23543,
};

function machinesOf(app) {
  return app.node.findAll().filter((c) => c instanceof lib.Machine);
}

function sizes() {
  const app = Testing.app({ stackTraces: false });
  for (const define of Object.values(EXAMPLES)) define(app);
  app.synth();
  return machinesOf(app).map((m) => {
    const size = m.userDataSize();
    return { path: m.node.path, sent: size ? size.bytes : 0, references: size ? size.references : 0,
      bundle: m.rollout ? m.rollout.bundle.bytes : 0, files: m.rollout ? m.rollout.bundle.fileCount : 0 };
  });
}

/** The Phase 1 production stack, with `extra` team files in its app machine's bundle. */
function productionJson(extra) {
  const app = Testing.app({ stackTraces: false });
  EXAMPLES['phase1-pilot'](app);
  const stack = app.node.children.find((c) => c.node.id.endsWith('-production'));
  const machine = machinesOf(stack).find((m) => m.role === 'app');
  if (extra !== undefined) {
    machine.addBundlePart({ name: 'bench: team file', files: [{ path: '/etc/acme/bench.conf', content: `revision=${extra}\n` }] });
  }
  return { json: JSON.parse(Testing.synth(stack, true)), server: machine.serverName };
}

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor(s.length / 2)], max: s[s.length - 1] };
}

/**
 * A new server for each run: the example's production bundle sets up PostgreSQL, so the server gets what
 * installing postgresql-15 leaves (Debian's cluster `main`, its unit) and its private address, as
 * `LoopbackMachine.prepareFor` makes them for the bundle; `stop()` stops that server and removes its namespace.
 */
async function newServer(dir, run, bundle) {
  const machine = await testing.LoopbackMachine.start(path.join(dir, `machine-${run}`));
  try {
    machine.prepareFor(bundle);
  } catch (e) {
    await machine.stop();
    throw e;
  }
  return machine;
}

async function rollouts() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-rollout-'));
  const standIn = new testing.HetznerStandIn();
  const timed = (fn) => { const t = process.hrtime.bigint(); const run = fn(); const ms = Number(process.hrtime.bigint() - t) / 1e6; if (!run.ok) throw new Error(`${run.stdout}\n${run.stderr}`.slice(-4000)); return ms; };
  const figures = { first: [], bundle: [], secret: [], unchanged: [] };
  try {
    for (let run = 0; run < RUNS; run++) {
      const v1 = productionJson(undefined);
      const server = await newServer(dir, run, testing.synthesizedBundle(v1.json, v1.server));
      try {
        const ws = standIn.workspace(v1.json);
        ws.rollOutTo(server.target({ timeout: '60s' })).setConfiguration(v1.json);
        ws.init();
        figures.first.push(timed(() => ws.apply()));
        ws.setConfiguration(productionJson(run).json);
        figures.bundle.push(timed(() => ws.apply()));
        ws.setVariables({ TF_VAR_monitoring_webhook_ops: `https://chat.example.eu/rotated-${run}` });
        ws.setConfiguration(productionJson(run).json);
        figures.secret.push(timed(() => ws.apply()));
        figures.unchanged.push(timed(() => ws.apply()));
      } finally {
        await server.stop();
      }
    }
  } finally {
    standIn.stop(true);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, stats(v)]));
}

async function main() {
  if (process.getuid() !== 0) throw new Error('run as root: sshd, ip netns and runuser are needed');
  // Every temp directory of the run (cdktf's Testing apps make one per synth) goes under this one.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-rollout-run-'));
  fs.chmodSync(tmp, 0o1777); // as /tmp: PostgreSQL and the scripts run as other users
  process.env.TMPDIR = tmp;
  let rows;
  let times;
  try {
    rows = sizes();
    times = await rollouts();
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const ms = (v) => `${(v / 1000).toFixed(2)} s`;
  const out = [
    '# Machines that live: user data and rollout (scripts/bench-rollout.js)',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} cores (${os.cpus()[0].model.trim()}), Node ${process.version}, ${RUNS} runs per time,`,
    `load average (1 / 5 / 15 min) ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')} at the end. Each run deploys to a new server.`,
    '',
    '## User data per example server',
    '',
    'Before: the user data at df843b2, where the whole tooling travelled in it (bytes with cdktf\'s short placeholders; resolved',
    'with 128-character secrets the production servers sent 32,108 / 33,953 / 29,322 B, phase 2 over Hetzner\'s 32,768 B limit).',
    'After: what Terraform sends now, each reference counted at 256 bytes (`Machine.userDataSize()`); the bundle travels over SSH.',
    '',
    '| server | before | after | references | bundle (uncompressed) | bundle files |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.path} | ${BEFORE[r.path] ?? '–'} B | ${r.sent} B | ${r.references} | ${r.bundle} B | ${r.files} |`),
    '',
    '## Rolling out a production update (Phase 1 production, stand-in provider, sshd on loopback)',
    '',
    '`terraform apply` wall time, min / median / max:',
    '',
    '| deploy | min | median | max |',
    '|---|---:|---:|---:|',
    `| first deploy: every resource created, bundle installed, PostgreSQL set up (server started, role and database created) | ${ms(times.first.min)} | ${ms(times.first.median)} | ${ms(times.first.max)} |`,
    `| bundle changed (one file of a team part) | ${ms(times.bundle.min)} | ${ms(times.bundle.median)} | ${ms(times.bundle.max)} |`,
    `| secret rotated (webhook URL) | ${ms(times.secret.min)} | ${ms(times.secret.median)} | ${ms(times.secret.max)} |`,
    `| nothing changed (refresh and plan only) | ${ms(times.unchanged.min)} | ${ms(times.unchanged.median)} | ${ms(times.unchanged.max)} |`,
    '',
    'On a real server, add the SSH round trips to Hetzner (tens of milliseconds each, about 8 per rollout), the',
    'package installs of a first rollout, and the restarts of the daemons whose files changed (systemd is a recorder',
    'here, except for PostgreSQL, which pg_ctl starts and restarts for real).',
    '',
  ].join('\n');
  fs.writeFileSync(path.join(__dirname, 'bench-rollout.results.md'), out);
  process.stdout.write(out);
}

main().catch((e) => { console.error(e); process.exit(1); });
