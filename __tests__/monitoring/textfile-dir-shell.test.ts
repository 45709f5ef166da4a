import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TEXTFILE_DIR } from '../../lib/monitoring/private/paths';
import { JOB_METRIC_SCRIPT } from '../../lib/monitoring/private/scripts';
import { TEXTFILE_CD_FUNCTION } from '../../lib/monitoring/private/textfile-dir-shell';
import { isRoot, testWithRealParts } from '../setup/real-parts';

// textfile_cd, as the job hook renders it (the host tables' checks and the egress refresh include the same function):
// each refusal says its own cause, and a symlink swapped in between its symlink test and its cd is refused.

let dir: string;
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'textfile-cd-')); });
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs the rendered job hook for a successful `backup-push`, with `before` (shell) defined first: the hook is sourced. */
function hook(before = '') {
  const script = path.join(dir, 'sovereign-job-metric');
  fs.writeFileSync(script, JOB_METRIC_SCRIPT, { mode: 0o755 });
  const r = spawnSync('sh', ['-c', `${before}\nset -- backup-push; . ${script}`], {
    encoding: 'utf8', env: { PATH: process.env.PATH, SOVEREIGN_ROOT: path.join(dir, 'root'), SERVICE_RESULT: 'success' },
  });
  return { status: r.status, stderr: r.stderr };
}
const textfiles = () => path.join(dir, 'root', TEXTFILE_DIR);
const written = 'sovereign-job-backup-push-success.prom';

test('with nothing in the way, the hook makes the directory and writes its file there (the control for the refusals below)', () => {
  expect(hook()).toEqual({ status: 0, stderr: '' });
  expect(fs.readFileSync(path.join(textfiles(), written), 'utf8')).toMatch(/^sovereign_job_last_success_timestamp_seconds\{unit="backup-push"\} \d+$/m);
});

test('a symlink swapped in between the symlink test and the cd is refused, though it leads to a directory of the same owner; nothing is written there', () => {
  const victim = path.join(dir, 'victim');
  fs.mkdirSync(victim);
  fs.mkdirSync(textfiles(), { recursive: true });
  // The swap, deterministically: the hook's cd (a regular builtin, so a function overrides it) first replaces the path.
  const swap = `cd() { mv -T -- "$TEXTFILE_DIR" "$TEXTFILE_DIR.checked" && ln -s ${victim} "$TEXTFILE_DIR" && command cd "$@"; }`;
  expect(hook(swap)).toEqual({ status: 1, stderr: `sovereign-job-metric: ${textfiles()} is not the directory at the path (it was replaced while it was checked): ${written} not written; the next run checks it again\n` });
  expect(fs.readdirSync(victim)).toEqual([]);
  expect(fs.readdirSync(`${textfiles()}.checked`)).toEqual([]);
});

test('a symlink at the path is refused as one, and nothing is made through it', () => {
  const victim = path.join(dir, 'victim');
  fs.mkdirSync(victim);
  fs.mkdirSync(path.dirname(textfiles()), { recursive: true });
  fs.symlinkSync(path.join(victim, 'missing'), textfiles());
  expect(hook()).toEqual({ status: 1, stderr: `sovereign-job-metric: ${textfiles()} is a symlink: ${written} not written; remove it (the next run makes the directory again)\n` });
  expect(fs.readdirSync(victim)).toEqual([]);
});

test('a file at the path: the directory cannot be made, and mkdir says why', () => {
  fs.mkdirSync(path.dirname(textfiles()), { recursive: true });
  fs.writeFileSync(textfiles(), 'a file\n');
  const r = hook();
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(new RegExp(`^sovereign-job-metric: ${textfiles()} cannot be made \\(mkdir: .*File exists\\): ${written} not written\n$`));
});

const foreign = "a directory of another user's is refused with its owner and the fix; nothing is written in it";
testWithRealParts(isRoot, foreign, 'root (chown to another uid)')(foreign, () => {
  fs.mkdirSync(textfiles(), { recursive: true });
  fs.chownSync(textfiles(), 65534, 65534);
  expect(hook()).toEqual({ status: 1, stderr: `sovereign-job-metric: ${textfiles()} is owned by uid 65534, not 0 (chown it to root or remove it): ${written} not written\n` });
  expect(fs.readdirSync(textfiles())).toEqual([]);
});

/** Runs textfile_cd alone with `TEXTFILE_DIR` as given, in `cwd`; prints the working directory it entered. */
function textfileCd(textfileDir: string, cwd = dir) {
  const r = spawnSync('sh', ['-c', `${TEXTFILE_CD_FUNCTION}\ntextfile_cd who f.prom || exit 1; pwd -P`], {
    encoding: 'utf8', cwd, env: { PATH: process.env.PATH, TEXTFILE_DIR: textfileDir },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Review: with a trailing /, -L, cd -P and stat without -L all resolve a symlink, so a symlinked directory passed
// every check; a relative path was looked up again inside the directory the cd entered.
test('a symlink named with a trailing slash is refused as a symlink, and one with several slashes too', () => {
  const victim = path.join(dir, 'victim');
  fs.mkdirSync(victim);
  const link = path.join(dir, 'node-exporter');
  fs.symlinkSync(victim, link);
  for (const named of [`${link}/`, `${link}///`]) {
    expect(textfileCd(named)).toEqual({ status: 1, stdout: '', stderr: `who: ${link} is a symlink: f.prom not written; remove it (the next run makes the directory again)\n` });
  }
  // After /. or /.. the system resolves the link too: such a path is refused before anything is looked at.
  for (const named of [`${link}/.`, `${link}/./`, `${link}/../node-exporter/.`, `${dir}/./node-exporter`]) {
    expect(textfileCd(named)).toEqual({ status: 1, stdout: '', stderr: `who: ${named.replace(/\/+$/, '')} has a . or .. component: f.prom not written; name the directory itself\n` });
  }
  expect(fs.readdirSync(victim)).toEqual([]);
});

test('a real directory named with a trailing slash is entered; a relative path is refused as not absolute', () => {
  const real = path.join(dir, 'node-exporter');
  fs.mkdirSync(real);
  expect(textfileCd(`${real}/`)).toEqual({ status: 0, stdout: `${fs.realpathSync(real)}\n`, stderr: '' });
  expect(textfileCd('node-exporter')).toEqual({ status: 1, stdout: '', stderr: "who: 'node-exporter' is not an absolute path: f.prom not written; set it to one\n" });
  expect(textfileCd('')).toEqual({ status: 1, stdout: '', stderr: "who: '' is not an absolute path: f.prom not written; set it to one\n" });
  expect(fs.readdirSync(real)).toEqual([]);
});
