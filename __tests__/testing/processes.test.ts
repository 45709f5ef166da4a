import { spawn, spawnSync } from 'child_process';
import { commandLineOf } from '../../testing/harness/processes';
import { waitFor } from '../../testing/harness/wait';
import { Duration } from '../../lib';

describe('commandLineOf', () => {
  test('gives each argument as the process was started with it: spaces kept, an empty one in the middle kept', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'two words', '', 'last'], { stdio: 'ignore' });
    try {
      const args = await waitFor(() => commandLineOf(child.pid!)?.includes('last') && commandLineOf(child.pid!), { what: 'the child to run', timeout: Duration.seconds(30) });
      expect(args).toEqual([process.execPath, '-e', 'setInterval(() => {}, 1000)', 'two words', '', 'last']);
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('is undefined once the process has gone', () => {
    const ended = spawnSync('sh', ['-c', 'echo $$']);
    expect(commandLineOf(Number(ended.stdout.toString().trim()))).toBeUndefined();
  });
});
