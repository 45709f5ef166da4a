import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { javascriptEntry } from '../../testing/harness/transpile-cache';

// Audit (cli): cost --app and report built the app in a new temporary directory (sovereign-app-…) and never removed
// it: one more directory left in /tmp by each run, in CI and on every laptop.

describe('cost --app and report leave no temporary directory', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-tmp-'));
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
  const main = javascriptEntry(path.resolve(__dirname, '../../cli/main'));
  const examples = javascriptEntry(path.resolve(__dirname, '../../examples/index'));

  test.each([
    [['cost', '--app', '$EXAMPLES', '--export', 'EXAMPLES', '--json'], 0],
    [['cost', '--app', '$EXAMPLES', '--export', 'EXAMPLES', '--only', 'nope'], 1],
    [['report', '--app', '$EXAMPLES', '--export', 'EXAMPLES', '--only', 'phase1-pilot', '--to', '$WORK/report'], 0],
  ])('%j', (args, expected) => {
    // The command as a process of its own, whose temporary directory (TMPDIR) holds only what it leaves.
    const tmp = fs.mkdtempSync(path.join(work, 'tmp-'));
    const argv = args.map((a) => a.replace('$EXAMPLES', examples).replace('$WORK', work));
    const run = spawnSync(process.execPath, [main, ...argv], { env: { ...process.env, TMPDIR: tmp }, encoding: 'utf8' });
    expect({ status: run.status, stderr: expected === 0 ? run.stderr : '' }).toEqual({ status: expected, stderr: '' });
    expect(fs.readdirSync(tmp)).toEqual([]);
  });
});
