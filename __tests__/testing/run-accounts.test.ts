import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ALERTMANAGER_USER } from '../../lib/monitoring/private/paths';
import { isRoot, testWithRealParts } from '../setup/real-parts';
import { endLeftovers, recordAccountMade, RUN_PID_FILE } from '../setup/run-leftovers';

// Root runs make OS accounts as on a machine (a drill login whose password is in the tests, Alertmanager's system user):
// the run's end removes those it recorded as made, and leaves the others, and all of them while another run is going.

const removesMade = 'the run\'s end removes the OS accounts the run recorded as made, and no other; none while another run is going';
testWithRealParts(isRoot, removesMade, 'root and useradd')(removesMade, () => {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'run-accounts-'));
  const [runDir, otherRun] = [path.join(parent, 'sovereign-tests-a'), path.join(parent, 'sovereign-tests-b')];
  const [made, kept] = [`sb-made-${process.pid}`, `sb-kept-${process.pid}`];
  const exists = (user: string) => spawnSync('id', ['-u', user]).status === 0;
  try {
    for (const user of [made, kept]) expect(spawnSync('useradd', ['-M', '-s', '/usr/sbin/nologin', user]).status).toBe(0);
    // Recorded as the suites record theirs, into the run directory of this test's own (the harness's layout, not a copy).
    const ownRun = process.env.SOVEREIGN_TEST_RUN_DIR;
    process.env.SOVEREIGN_TEST_RUN_DIR = runDir;
    try {
      recordAccountMade(made);
    } finally {
      if (ownRun === undefined) delete process.env.SOVEREIGN_TEST_RUN_DIR;
      else process.env.SOVEREIGN_TEST_RUN_DIR = ownRun;
    }
    // A directory a killed run left (its jest gone) is no run: another run, still going (this process), may be using it.
    fs.mkdirSync(otherRun);
    fs.writeFileSync(path.join(otherRun, RUN_PID_FILE), `${process.pid}\n`);
    endLeftovers(runDir);
    expect([made, kept].map(exists)).toEqual([true, true]);
    fs.writeFileSync(path.join(otherRun, RUN_PID_FILE), '2147483646\n');
    endLeftovers(runDir);
    expect([made, kept].map(exists)).toEqual([false, true]);
  } finally {
    for (const user of [made, kept]) spawnSync('userdel', [user]);
    fs.rmSync(parent, { recursive: true, force: true });
  }
});

test('global-setup names Alertmanager\'s user as the library does', () => {
  expect(fs.readFileSync(path.join(__dirname, '../setup/global-setup.js'), 'utf8')).toContain(`const ALERTMANAGER_USER = '${ALERTMANAGER_USER}';`);
});
