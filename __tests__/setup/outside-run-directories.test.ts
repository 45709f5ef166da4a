import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { isRoot, testWithRealParts } from './real-parts';
import { makeOutsideRunDirectory, removeAbandonedOutsideRunDirectories } from './run-leftovers';

// Review: loopback-prepare's directory under /var/tmp (outside the run's temp directory, so that nothing opens the way
// for postgres) stayed behind when a run was killed during the test, since the run's end removes its own directory
// only. Its name now carries its maker's pid, and the next run's setup removes those whose maker is gone.

let parent: string;
beforeEach(() => { parent = fs.mkdtempSync(path.join(os.tmpdir(), 'outside-run-')); });
afterEach(() => fs.rmSync(parent, { recursive: true, force: true }));

/** The pid of a process that ran and is gone (exited and reaped), as a killed run's worker is. */
function deadPid(): number {
  const child = spawnSync('true');
  expect(child.status).toBe(0);
  expect(() => process.kill(child.pid!, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  return child.pid!;
}

test("a directory whose maker is gone is removed, one whose maker runs is kept, and nothing else is touched", async () => {
  const mine = makeOutsideRunDirectory('loopback-prepare', parent);
  expect(path.basename(mine)).toMatch(new RegExp(`^sovereign-outside-run-${process.pid}-loopback-prepare-\\w{6}$`));
  expect(fs.statSync(mine).mode & 0o777).toBe(0o700);
  fs.mkdirSync(path.join(mine, 'machine/root'), { recursive: true });

  // A killed run's: its maker's pid is no process now; it holds what the test had made.
  const dead = path.join(parent, `sovereign-outside-run-${deadPid()}-loopback-prepare-aB3dE9`);
  fs.mkdirSync(path.join(dead, 'machine/root'), { recursive: true });
  fs.chmodSync(dead, 0o700);
  fs.writeFileSync(path.join(dead, 'machine/root/file'), 'left');
  // Another live process's (another run's test, going on now).
  const sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
  const exited = new Promise((resolve) => sleeper.once('exit', resolve));
  try {
    const other = path.join(parent, `sovereign-outside-run-${sleeper.pid}-loopback-prepare-Zz9y8X`);
    fs.mkdirSync(other, { mode: 0o700 });
    // Not ours: a name without a pid, a file of the name, a symbolic link to a directory of a dead maker's name.
    const unnamed = path.join(parent, 'loopback-prepare-Q1w2E3');
    fs.mkdirSync(unnamed);
    const file = path.join(parent, `sovereign-outside-run-${deadPid()}-loopback-prepare-file00`);
    fs.writeFileSync(file, '');
    const target = fs.mkdtempSync(path.join(os.tmpdir(), 'outside-run-target-'));
    const link = path.join(parent, `sovereign-outside-run-${deadPid()}-loopback-prepare-link00`);
    fs.symlinkSync(target, link);
    try {
      expect(removeAbandonedOutsideRunDirectories(parent)).toEqual([dead]);
      expect(fs.existsSync(dead)).toBe(false);
      for (const kept of [mine, other, unnamed, file, link, target]) expect(fs.existsSync(kept)).toBe(true);
      // A second run finds nothing more to remove.
      expect(removeAbandonedOutsideRunDirectories(parent)).toEqual([]);
    } finally {
      fs.rmSync(target, { recursive: true, force: true });
    }

    // Once the other maker is gone too, its directory is the next run's to remove.
    sleeper.kill('SIGKILL');
    await exited;
    expect(removeAbandonedOutsideRunDirectories(parent)).toEqual([other]);
    expect(fs.existsSync(mine)).toBe(true);
  } finally {
    sleeper.kill('SIGKILL');
    await exited;
  }
});

/** A directory of a dead maker's name under `parent`, holding a file, of mode `mode`. */
function deadMakersDirectory(suffix: string, mode: number): string {
  const dir = path.join(parent, `sovereign-outside-run-${deadPid()}-loopback-prepare-${suffix}`);
  fs.mkdirSync(path.join(dir, 'machine'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'machine/file'), 'theirs');
  fs.chmodSync(dir, mode);
  return dir;
}

// Review: the name alone decided, so that a run as root would remove, recursively, a tree of a dead pid's name that
// another account made and controls (the temp cleaner's symlink race). Only a directory as makeOutsideRunDirectory
// makes it goes: this account's, 0700.
const othersKept = "another account's directory of a dead maker's name is kept";
testWithRealParts(isRoot, othersKept, 'root (to give the directory to nobody)')(othersKept, () => {
  const nobody = Number(spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim());
  expect(Number.isInteger(nobody) && nobody !== process.getuid!()).toBe(true);
  const theirs = deadMakersDirectory('nobody', 0o700);
  fs.chownSync(theirs, nobody, nobody);
  const ours = deadMakersDirectory('ours00', 0o700);
  expect(removeAbandonedOutsideRunDirectories(parent)).toEqual([ours]);
  expect(fs.readFileSync(path.join(theirs, 'machine/file'), 'utf8')).toBe('theirs');
  expect(fs.lstatSync(theirs).uid).toBe(nobody);
});

test("a directory of a dead maker's name open to group or others is kept", () => {
  const kept = [0o750, 0o705, 0o777].map((mode) => deadMakersDirectory(`m${mode.toString(8)}00`, mode));
  const ours = deadMakersDirectory('ours00', 0o700);
  expect(removeAbandonedOutsideRunDirectories(parent)).toEqual([ours]);
  for (const dir of kept) expect(fs.readFileSync(path.join(dir, 'machine/file'), 'utf8')).toBe('theirs');
  // Kept without a word: the next run finds the same and removes nothing.
  expect(removeAbandonedOutsideRunDirectories(parent)).toEqual([]);
});

test('a purpose that is not a plain name is refused, naming it and the fix', () => {
  expect(() => makeOutsideRunDirectory('../etc', parent)).toThrow(
    'makeOutsideRunDirectory: purpose "../etc" is not lower-case words joined by -. Fix: name it as loopback-prepare is.');
  expect(fs.readdirSync(parent)).toEqual([]);
});
