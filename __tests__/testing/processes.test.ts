import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
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

  test("gives a process title that node pads with NULs as the title alone, not the padding as empty arguments", async () => {
    // node's process.title writes the title over its arguments' memory and NULs the rest of it, which the kernel's
    // cmdline gives whole (npm's processes, named "npm test" and the like, look so).
    const child = spawn(process.execPath, ['-e', 'process.title = "padded-title"; setInterval(() => {}, 1000)', 'an argument to pad over'], { stdio: 'ignore' });
    try {
      const args = await waitFor(() => commandLineOf(child.pid!)?.[0] === 'padded-title' && commandLineOf(child.pid!), { what: 'the child to set its title', timeout: Duration.seconds(30) });
      // What is read: the title, then the NULs of the padding (what the trim is for).
      expect(fs.readFileSync(`/proc/${child.pid}/cmdline`, 'latin1')).toMatch(/^padded-title\0{2,}$/);
      expect(args).toEqual(['padded-title']);
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('is undefined once the process has gone', () => {
    const ended = spawnSync('sh', ['-c', 'echo $$']);
    expect(commandLineOf(Number(ended.stdout.toString().trim()))).toBeUndefined();
  });
});
