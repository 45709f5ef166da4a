import { spawnSync } from 'child_process';
import * as path from 'path';

// A failing suite must not keep the run alive: jest exits, non-zero, even when the suite's cleanup fails
// and leaves a server listening.
test('a run whose suite fails and leaves a server behind still exits, and reports the failure', () => {
  const root = path.resolve(__dirname, '..', '..');
  const run = spawnSync(process.execPath, [
    path.join(root, 'node_modules', 'jest', 'bin', 'jest.js'), '--ci', '--config', path.join(root, 'jest.config.js'),
    '--roots', path.join(__dirname, 'fixtures'), '--testMatch', '**/*.fixture.js',
  ], { cwd: root, encoding: 'utf8', timeout: 120_000, env: { ...process.env, JEST_RUN_LIMIT_MINUTES: '1', JEST_WARM_TRANSFORM_CACHE: '0' } });
  expect(run.error).toBeUndefined(); // not killed by the timeout: it exited by itself
  expect(run.status).toBe(1);
  expect(run.stderr).toMatch(/fails on purpose/);
  expect(run.stderr).toMatch(/Tests: +1 failed, 1 total/);
}, 150_000);
