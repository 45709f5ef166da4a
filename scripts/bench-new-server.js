// A new production server for the benchmarks that roll the Phase 1 production bundle out to it (rollout,
// RTO): the database part of the bundle needs what a Debian server gives it. Its PostgreSQL listens on the
// server's private address, which a network namespace carries (the recovery lab's `machineNamespace`), and
// systemd's postgresql@15-main unit is run by pg_ctl inside that namespace. Shared by scripts/bench-rollout.js
// and scripts/bench-rto.js.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

/**
 * systemd's part for the new server: the recorder LoopbackMachine installs, plus the Debian unit
 * postgresql@15-main run by pg_ctl inside the machine's network namespace (which carries its private
 * address). The rollout agent leaves owners alone under SOVEREIGN_ROOT, so the unit's start gives the
 * cluster's configuration to postgres, as the agent does on a real machine (owner postgres:postgres).
 */
function installPostgresSystemctl(machine, ns, pgBin) {
  const root = machine.root;
  const conf = path.join(root, 'etc/postgresql/15/main');
  const socket = path.join(root, 'var/run/postgresql');
  const pgCtl = `ip netns exec ${ns} runuser -u postgres -- ${pgBin}/pg_ctl -D ${conf} -l ${path.join(root, 'var/log/postgresql/postgresql.log')} -w -t 300`;
  fs.writeFileSync(path.join(machine.dir, 'bin', 'systemctl'), [
    '#!/bin/sh',
    `echo "$*" >> ${path.join(machine.dir, 'systemctl.log')}`,
    'case "$1 $2" in',
    `  "start postgresql@15-main"|"start postgresql@15-main.service") chown -R postgres:postgres ${path.join(root, 'etc/postgresql')}; ${pgBin}/pg_isready -q -h ${socket} || exec ${pgCtl} start ;;`,
    `  "restart postgresql@15-main"|"restart postgresql@15-main.service") chown -R postgres:postgres ${path.join(root, 'etc/postgresql')}; exec ${pgCtl} -m fast restart ;;`,
    `  "stop postgresql@15-main"|"stop postgresql@15-main.service") ${pgBin}/pg_isready -q -h ${socket} || exit 0; exec ${pgCtl} -m fast stop ;;`,
    'esac',
    '',
  ].join('\n'), { mode: 0o755 });
}

/** Stops the server's PostgreSQL at once, if it runs (a benchmark's cleanup). */
function stopPostgres(machine, pgBin) {
  spawnSync('runuser', ['-u', 'postgres', '--', `${pgBin}/pg_ctl`, '-D', path.join(machine.root, 'etc/postgresql/15/main'), '-m', 'immediate', 'stop'], { cwd: '/', stdio: 'ignore' });
}

module.exports = { installPostgresSystemctl, stopPostgres };
