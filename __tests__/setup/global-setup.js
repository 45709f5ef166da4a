const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { endLeftovers, endWorkers, recordAccountMade, removeAbandonedOutsideRunDirectories, RUN_PID_FILE } = require('./run-leftovers');
const warmTransformCache = require('./warm-transform-cache');

const EXAMPLES_STAGING_EXPIRES_AT = '2026-12-31';
// lib/monitoring/private/paths.ts's ALERTMANAGER_USER (this file runs before any TypeScript is compiled).
const ALERTMANAGER_USER = 'sovereign-alertmanager';

// Before the workers start: the last resort against a run that never ends, and a warm transform cache.
// After JEST_RUN_LIMIT_MINUTES (default 60, below CI's 90-minute limit) the run stops with a message naming
// the limit, instead of waiting until CI kills it.

module.exports = async (_globalConfig, projectConfig) => {
  // One temp directory per run, which global-teardown.js removes: cdktf's Testing helpers leave a directory
  // per synth (about 2,900 a run), and a suite that fails leaves its own. Set here, in jest's main process,
  // because the workers and every process they start inherit this environment, while a test file's
  // process.env is jest's copy of it, which os.tmpdir() (and so cdktf and mkdtemp) never reads.
  // Resolved: /proc gives the working directories and mount points it sweeps resolved, and a TMPDIR reached through a
  // symbolic link hid what is in the directory from it.
  // A run inside another's (a suite's own jest run) leaves the host's accounts to the outer run.
  const nested = process.env.SOVEREIGN_TEST_RUN_DIR !== undefined;
  const runDir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'sovereign-tests-')));
  // Open to all, sticky, as /tmp is: suites run PostgreSQL, Prometheus and scripts as other users.
  fs.chmodSync(runDir, 0o1777);
  process.env.TMPDIR = runDir;
  process.env.SOVEREIGN_TEST_RUN_DIR = runDir;
  // Who runs in it, for another run's end to tell a live run's directory from one a killed run left (run-leftovers.js).
  fs.writeFileSync(path.join(runDir, RUN_PID_FILE), `${process.pid}\n`);
  // What a killed run's tests left outside its directory (loopback-prepare's /var/tmp one): its maker's pid is gone.
  removeAbandonedOutsideRunDirectories();
  // Run as root, the monitoring suites' setup makes Alertmanager's system user as on a machine: the run's end removes it
  // when the host had none before.
  if (!nested && process.getuid?.() === 0 && spawnSync('id', ['-u', ALERTMANAGER_USER], { stdio: 'ignore' }).status !== 0) {
    recordAccountMade(ALERTMANAGER_USER);
  }
  // A Terraform CLI configuration that does not exist is no configuration, except that every Terraform run
  // then warns about it (and cdktf relays that as an error line): the suites' Terraform runs without it.
  const cliConfig = process.env.TF_CLI_CONFIG_FILE;
  if (cliConfig && !fs.existsSync(cliConfig)) {
    process.stderr.write(`\nTF_CLI_CONFIG_FILE names ${cliConfig}, which does not exist: the tests run Terraform without it.\n`);
    delete process.env.TF_CLI_CONFIG_FILE;
  }
  // The examples' staging expiry, which without it is counted from today: fixed, so that their output (and every
  // snapshot of it) is the same on any day, and the same whatever the developer's shell has set.
  process.env.STAGING_EXPIRES_AT = EXAMPLES_STAGING_EXPIRES_AT;
  // A run that is stopped (the run limit, Ctrl-C, CI cancelling the job) skips global-teardown.js: what it removes
  // (the suites' daemons, mounts and files) goes here, before the exit.
  // jest's workers go first, with what they started outside the directory: one left running goes on with its file
  // after this process exits (jest-worker's child does not end when its parent does), starting daemons after the
  // sweep. So do the processes that carry the run's directory in their environment (in band, a test's nested jest
  // run, its helper; an orphan init adopted). What any of them runs in the directory (a suite's daemon) is the sweep's,
  // to name and end with SIGTERM first; the other processes (not the run's) are left alone.
  const stop = (code, signal) => {
    endWorkers(runDir);
    endLeftovers(runDir);
    fs.rmSync(runDir, { recursive: true, force: true });
    // Ended by the signal, as a shell expects: a shell loop over `npx jest` goes on after a run that exits 130
    // itself, and stops after one killed by Ctrl-C. Its listener is gone (once), so the signal's default ends us.
    if (signal) process.kill(process.pid, signal);
    process.exit(code);
  };
  const minutes = Number(process.env.JEST_RUN_LIMIT_MINUTES ?? 60);
  const timer = setTimeout(() => {
    process.stderr.write(`\njest: the run took more than ${minutes} minutes and is stopped (JEST_RUN_LIMIT_MINUTES). A suite hangs: run the suites one by one to find it.\n`);
    stop(1);
  }, minutes * 60_000);
  // Ended by the signal itself; the status a shell gives such a process, should the signal not end it.
  process.once('SIGINT', () => stop(130, 'SIGINT'));
  process.once('SIGTERM', () => stop(143, 'SIGTERM'));
  // Unreferenced: a run that ends on time is not kept alive by it.
  timer.unref();
  // JEST_WARM_TRANSFORM_CACHE=0: a run of a few files under another configuration (jest-exits.test.ts). Its
  // transforms are cached under that configuration's keys, so warming would transpile every source again
  // (about 9 CPU-s on a slow 2-core machine) for the one or two files it loads.
  if (process.env.JEST_WARM_TRANSFORM_CACHE !== '0') await warmTransformCache(projectConfig);
};
