import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import { commandLineOf, environmentOf, fieldsOfStat, inUninterruptibleSleep, memoryKib, processEntry, statFields, threadCount } from '../../testing/harness/processes';
import { waitFor } from '../../testing/harness/wait';
import { Duration } from '../../lib';
import { MACHINE_PYTHON, testWithRealParts } from '../setup/real-parts';

const python = spawnSync(MACHINE_PYTHON, ['--version']).status === 0;

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

describe('the state in a stat line', () => {
  // A command name (comm, at most 15 bytes) may hold spaces and parentheses, and what reads as a state after them.
  const line = (comm: string, state: string) => `4242 (${comm}) ${state} 17 4242 4242 0 -1 4194560 110 0 0 0 1 0 0 0 20 0 1 0 98765 9297920 420 18446744073709551615\n`;

  test.each([
    ['sleep', 'D', true],
    ['sleep', 'S', false],
    ['a b (c) d', 'D', true],
    ['x) D (y', 'S', false],
    ['x) S (y', 'D', true],
    [') )', 'R', false],
  ])('comm %j, state %s: in uninterruptible sleep %s', (comm, state, asleep) => {
    const fields = fieldsOfStat(line(comm, state));
    expect(fields[0]).toBe(state);
    // The parent's pid and the start time, at their places after the name whatever it holds.
    expect([fields[1], fields[19]]).toEqual(['17', '98765']);
    expect(inUninterruptibleSleep(fields)).toBe(asleep);
  });

  test("a process whose title (so its comm) holds parentheses and a state: its own state and parent", async () => {
    // node sets the comm to its title's first 15 bytes with prctl(PR_SET_NAME); stopped, its state is T for certain.
    const child = spawn(process.execPath, ['-e', 'process.title = "x) D (y"; setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      await waitFor(() => fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8').includes('(x) D (y)'), { what: 'the child to set its title', timeout: Duration.seconds(30) });
      child.kill('SIGSTOP');
      await waitFor(() => / T \d+ /.test(fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8')), { what: 'the child to stop', timeout: Duration.seconds(30) });
      const fields = statFields(child.pid!)!;
      expect([fields[0], Number(fields[1])]).toEqual(['T', process.pid]);
      expect(inUninterruptibleSleep(fields)).toBe(false);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('environmentOf', () => {
  test('reads the same for a pid as for its entry, stopped too, and nothing once the process has gone', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore', env: { MARK: 'environment-of-a-child' } });
    try {
      const entry = processEntry(child.pid!)!;
      for (const ifAsleep of ['wait', 'skip'] as const) {
        expect(environmentOf(child.pid!, ifAsleep)).toContain('MARK=environment-of-a-child');
        expect(environmentOf(entry, ifAsleep)).toEqual(environmentOf(child.pid!, ifAsleep));
      }
      // Stopped (T) is not uninterruptible sleep: read with skip too.
      child.kill('SIGSTOP');
      await waitFor(() => statFields(child.pid!)?.[0] === 'T', { what: 'the child to stop', timeout: Duration.seconds(30) });
      expect(environmentOf(entry, 'skip')).toContain('MARK=environment-of-a-child');
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise((resolve) => child.once('exit', resolve));
    expect(environmentOf(child.pid!, 'wait')).toBeUndefined();
  });

  // Review: no test made a process's stat say D, so dropping the skip (what keeps a teardown scan from hanging on a
  // stalled disk) failed nothing. A real D state cannot be made at will: the child's stat line is read as D instead.
  test("given skip, passes over a process in uninterruptible sleep without reading its environ; given wait, reads it", () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore', env: { MARK: 'asleep-on-a-disk' } });
    // The module object the harness reads through (an import's namespace object cannot be spied on).
    const nodeFs = require('fs') as typeof fs;
    const readFile = nodeFs.readFileSync;
    const reads = jest.spyOn(nodeFs, 'readFileSync');
    try {
      const stat = `/proc/${child.pid}/stat`;
      const real = readFile(stat, 'utf8');
      reads.mockImplementation(((file: fs.PathOrFileDescriptor, options?: BufferEncoding) => {
        const text = readFile(file, options);
        return String(file) === stat ? String(text).replace(/\) [A-Z] /, ') D ') : text;
      }) as typeof fs.readFileSync);
      expect(statFields(child.pid!)?.[0]).toBe('D');
      const entry = processEntry(child.pid!)!;
      reads.mockClear();
      expect(environmentOf(child.pid!, 'skip')).toBeUndefined();
      expect(environmentOf(entry, 'skip')).toBeUndefined();
      expect(reads.mock.calls.map(([file]) => String(file)).filter((file) => file.endsWith('/environ'))).toEqual([]);
      expect(environmentOf(child.pid!, 'wait')).toContain('MARK=asleep-on-a-disk');
      expect(real).toMatch(/\) [SR] /);
    } finally {
      reads.mockRestore();
      child.kill('SIGKILL');
    }
  });
});

describe('memoryKib and threadCount', () => {
  testWithRealParts(python, 'memoryKib and threadCount', MACHINE_PYTHON)("read a running process's memory fields and threads, and throw for a misnamed field or a process that has gone", async () => {
    // Three threads besides the main one, each asleep (start() returns once each runs), then a line: four from there.
    const child = spawn(MACHINE_PYTHON, ['-c', 'import sys, threading, time\nfor _ in range(3): threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\nprint("ready", flush=True)\ntime.sleep(60)'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      // A missing interpreter fails the test at once, not at jest's timeout.
      await new Promise((resolve, reject) => { child.stdout!.once('data', resolve); child.once('error', reject); });
      expect(threadCount(child.pid!)).toBe(4);
      const rss = memoryKib(child.pid!, 'VmRSS');
      expect(rss).toBeGreaterThan(0);
      expect(memoryKib(child.pid!, 'VmHWM')).toBeGreaterThanOrEqual(rss);
      expect(memoryKib(child.pid!, 'Pss', 'smaps_rollup')).toBeGreaterThan(0);
      expect(() => memoryKib(child.pid!, 'VmNothing')).toThrow(`/proc/${child.pid}/status has no field VmNothing in kB`);
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise((resolve) => child.once('exit', resolve));
    expect(() => memoryKib(child.pid!, 'VmRSS')).toThrow();
    expect(() => threadCount(child.pid!)).toThrow();
  });
});
