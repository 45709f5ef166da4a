import { ChildProcess, spawn } from 'child_process';
import { processEntry } from '../../testing/harness/processes';
import { ProcessesBefore } from './helpers/processes-before';

// The skip rule of offsite-s3's command-line sampler, on real processes: a process recorded before a job is skipped
// only while its pid still names it (the same start time). A pid cannot be made to be reused on demand, so the reuse
// is the recorded start of another process under a live pid, what /proc shows once a pid has gone to a new process.
const describeOnLinux = process.platform === 'linux' ? describe : describe.skip;

describeOnLinux('ProcessesBefore: the processes there before a job, by pid and start time', () => {
  const children: ChildProcess[] = [];
  const sleeper = () => {
    const child = spawn('sleep', ['60'], { stdio: 'ignore' });
    children.push(child);
    return child;
  };
  afterAll(() => children.forEach((c) => c.kill('SIGKILL')));

  test('a recorded process is skipped while it runs, and read again once its pid is gone', async () => {
    const holder = sleeper();
    const before = new ProcessesBefore();
    const entry = processEntry(holder.pid!);
    expect(entry?.start).toMatch(/^\d+$/);
    before.record(entry!);
    expect(before.skips(holder.pid!)).toBe(true);
    expect(before.skips(holder.pid!)).toBe(true);
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve)); // reaped: its pid is free (or another's already)
    expect(before.skips(holder.pid!)).toBe(false);
    expect(before.size).toBe(0);
    // A process started after the first pass was never recorded: read.
    expect(before.skips(sleeper().pid!)).toBe(false);
  });

  test('a pid that names another process than the recorded one (a reuse) is read, and stays read', () => {
    const child = sleeper();
    const { start } = processEntry(child.pid!)!;
    const before = new ProcessesBefore();
    // The process that had this pid before: started earlier.
    before.record({ pid: child.pid!, start: String(Number(start) - 1) });
    expect(before.skips(child.pid!)).toBe(false);
    expect(before.size).toBe(0);
    expect(before.skips(child.pid!)).toBe(false);
  });
});
