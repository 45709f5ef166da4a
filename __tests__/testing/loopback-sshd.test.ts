import { execFileSync, spawn, spawnSync } from 'child_process';
import { once } from 'events';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { Duration } from '../../lib';
import { LoopbackMachine } from '../../testing';
import * as harnessPorts from '../../testing/harness/ports';
import { freePort } from '../../testing/harness/ports';
import { alive, bootTicks, environmentOf, holders, holdingConnectionsTo, processEntry, statFields, tcpAddress, tcpSockets } from '../../testing/harness/processes';
import { startLoopbackSshd, stopSshd } from '../../testing/harness/sshd';
import { hasSystemdAnalyze } from '../../testing/harness/systemd-analyze';
import { waitFor } from '../../testing/harness/wait';
import { describeWithRealParts, isRoot, MACHINE_PYTHON } from '../setup/real-parts';
import { childrenOf, killAll, processesIn } from '../setup/run-leftovers';

// The loopback sshd offers X25519 only (the suites open hundreds of connections, and the post-quantum
// hybrid OpenSSH's client prefers costs it 75 ms of CPU each); a benchmark asks for OpenSSH's own list.
const describeAsRoot = describeWithRealParts(isRoot, 'the loopback sshd suite', 'root (sshd)');

describeAsRoot('the loopback sshd\'s key exchange', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'loopback-sshd-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(tmp, 'id_ed25519')]);
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** The key exchange an OpenSSH client with its own defaults negotiates with the server. */
  async function negotiated(name: string, options: { defaultKeyExchange?: boolean }): Promise<string> {
    const dir = path.join(tmp, name);
    fs.mkdirSync(dir);
    fs.copyFileSync(path.join(tmp, 'id_ed25519.pub'), path.join(dir, 'authorized_keys'));
    const sshd = await startLoopbackSshd(dir, [], options);
    try {
      return /debug1: kex: algorithm: (\S+)/.exec(inSession(dir, sshd.port, 'true', ['-v']).stderr)![1];
    } finally {
      await stopSshd(sshd.child);
    }
  }

  /** Runs `command` in a session of the sshd on `port` (whose directory is `dir`), which must succeed; what ssh printed. */
  function inSession(dir: string, port: number, command: string, options: readonly string[] = []): { stdout: string; stderr: string } {
    const ssh = spawnSync('ssh', [...options, '-F', '/dev/null', '-i', path.join(tmp, 'id_ed25519'), '-p', String(port), '-o', 'BatchMode=yes',
      '-o', 'StrictHostKeyChecking=no', '-o', `UserKnownHostsFile=${path.join(dir, 'known_hosts')}`, 'root@127.0.0.1', command], { encoding: 'utf8' });
    expect({ status: ssh.status, stderr: ssh.status === 0 ? '' : ssh.stderr }).toEqual({ status: 0, stderr: '' });
    return ssh;
  }

  test('is X25519 by default, and OpenSSH\'s own choice when a benchmark asks for it', async () => {
    expect(await negotiated('classic', {})).toBe('curve25519-sha256');
    expect(await negotiated('default', { defaultKeyExchange: true })).toMatch(/^sntrup761x25519-sha512(@openssh\.com)?$/);
  });

  test('a start that fails stops the sshd it started: the caller never gets it to stop, and it outlived jest', async () => {
    // No time to listen: the start fails with sshd running (a loaded machine's 10 s, cheaply). A zero timeout is one
    // try at the port, made at once (see wait.test.ts), mostly before sshd listens. Mostly: the clean-clone
    // CI once found an sshd listening already, so a start that wins the race is stopped and tried again, and one of
    // up to 10 must fail.
    const dir = path.join(tmp, 'too-slow');
    fs.mkdirSync(dir);
    try {
      let failed: Error | undefined;
      for (let attempt = 0; attempt < 10 && !failed; attempt++) {
        const sshd = await startLoopbackSshd(dir, [], { startTimeout: Duration.millis(0) }).catch((e: Error) => e);
        if (sshd instanceof Error) failed = sshd;
        else await stopSshd(sshd.child);
      }
      expect(failed).toEqual(expect.objectContaining({ message: expect.stringMatching(/^timed out after 0 ms waiting for something to listen on 127\.0\.0\.1:\d+$/) }));
      expect(processesIn(dir)).toEqual([]);
    } finally {
      killAll(processesIn(dir));
    }
  });

  // A stop ended the listener only: the process serving a connection runs in a session of its own, so one serving a
  // client that had not spoken yet (a probe of the port, under load) ran on, and a test found it after the stop.
  test('a stop ends the processes serving its connections too: one waiting on a silent client is gone with the listener', async () => {
    const dir = path.join(tmp, 'silent-client');
    fs.mkdirSync(dir);
    const sshd = await startLoopbackSshd(dir, []);
    // The start's own probe of the port is served by a process of its own, which ends by itself, seconds later on a
    // loaded machine (the probe's would pass without the fix), and may be forked after the start returned: the one
    // followed below is the child of sshd's holding the silent client's connection (by the client's port), not any new one.
    const before = childrenOf(sshd.child.pid!);
    const client = net.connect(sshd.port, '127.0.0.1');
    client.on('error', () => undefined);
    let serving: number[] = [];
    try {
      // Connected, and sshd has started the process that serves it ("sshd: [accepted]", waiting up to LoginGraceTime, 2 minutes).
      await once(client, 'connect');
      const [server, peer] = [tcpAddress('127.0.0.1', sshd.port), tcpAddress('127.0.0.1', client.localPort!)];
      serving = await waitFor(() => {
        const connection = tcpSockets().find((c) => c.local === server && c.remote === peer && c.inode !== '0');
        const found = connection && [...holders((t) => t === `socket:[${connection.inode}]`, childrenOf(sshd.child.pid!))].map((h) => h.pid);
        return found?.length && found;
      }, { timeout: Duration.seconds(30), what: "sshd's process serving the silent client" });
      expect(serving).toHaveLength(1);
      await stopSshd(sshd.child);
      expect([...serving, ...before].filter(alive)).toEqual([]);
      expect(processesIn(dir)).toEqual([]);
    } finally {
      client.destroy();
      killAll([...serving, ...before, ...processesIn(dir)]);
    }
  });

  // Review: a stop ended the listener's children only. A session's command that detached into a session of its own
  // (`setsid cmd &`, whose shell then exits: PID 1's, no descendant of sshd's) ran on after the stop.
  test("a stop ends what a session's command detached into a session of its own", async () => {
    const dir = path.join(tmp, 'detached');
    fs.mkdirSync(dir);
    fs.copyFileSync(path.join(tmp, 'id_ed25519.pub'), path.join(dir, 'authorized_keys'));
    const sshd = await startLoopbackSshd(dir, []);
    let pid = 0;
    try {
      // The shell's background child is no group leader, so setsid makes its session in place and execs sleep: $! is sleep's.
      pid = Number(inSession(dir, sshd.port, 'setsid sleep 600 </dev/null >/dev/null 2>&1 & echo $!').stdout.trim());
      // Its own session (stat's sixth field, the fourth from the state) once setsid has run, which ssh's return does not
      // wait for: looked at until then, or until it is gone, for 10 s at most, well inside the test's own timeout.
      const own = () => statFields(pid) === undefined || statFields(pid)?.[3] === String(pid);
      await waitFor(own, { timeout: Duration.seconds(10), what: `the detached sleep ${pid} in a session of its own` });
      const fields = statFields(pid);
      expect({ running: fields !== undefined, session: fields?.[3] }).toEqual({ running: true, session: String(pid) });
      const detached = { pid, start: fields![19] };
      await stopSshd(sshd.child);
      expect(alive(detached)).toBe(false);
    } finally {
      await stopSshd(sshd.child);
      if (pid) killAll([pid]);
    }
  });

  // Review: the stop awaited the listener's exit with no deadline, and one that never exits hung the suite's teardown.
  test('a stop whose listener does not exit goes on after 10 s, and kills it', async () => {
    const stuck = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000); console.log('ready')"], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await once(stuck.stdout!, 'data');
      const started = Date.now();
      await stopSshd(stuck);
      expect(Date.now() - started).toBeLessThan(20_000);
      if (stuck.exitCode === null && stuck.signalCode === null) await once(stuck, 'exit');
      expect(stuck.signalCode).toBe('SIGKILL');
    } finally {
      stuck.kill('SIGKILL');
    }
  }, 30_000);

  test("a start whose sshd exits before it listens fails at once with sshd's own error, and leaves nothing running", async () => {
    // The port the helper picked is taken before sshd binds it, as another process may take it (freePort can only
    // choose a port free now): `sshd -t` passes, since it binds nothing, and sshd then exits. Taken by a socket bound
    // without listening, so that nothing answers there and only sshd's exit can end the wait for the port.
    const dir = path.join(tmp, 'port-taken');
    fs.mkdirSync(dir);
    const port = await freePort();
    const holder = spawn(MACHINE_PYTHON, ['-c', 'import socket, sys; s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); print("bound", flush=True); sys.stdin.read()', String(port)],
      { stdio: ['pipe', 'pipe', 'inherit'] });
    const picked = jest.spyOn(harnessPorts, 'freePort').mockResolvedValueOnce(port);
    try {
      // A holder that cannot bind (the port taken meanwhile) exits without a line: the wait ends with it.
      const holding = await Promise.race([
        once(holder.stdout!, 'data').then(() => 'bound'),
        once(holder, 'exit').then(([code]) => `the port holder exited (${code}) before it bound ${port}`),
      ]);
      expect(holding).toBe('bound');
      const started = Date.now();
      // The wait ends when sshd does: well before a start timeout far above what a start takes on a loaded machine
      // (ssh-keygen, sshd -t, sshd's own start), which only a wait that does not end with sshd reaches.
      await expect(startLoopbackSshd(dir, [], { startTimeout: Duration.seconds(60) })).rejects.toThrow(new RegExp(`^sshd exited \\(255\\) before it listened on 127\\.0\\.0\\.1:${port}: `
        + `[\\s\\S]*Bind to port ${port} on 127\\.0\\.0\\.1 failed: Address already in use[\\s\\S]*Cannot bind any address`));
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(processesIn(dir)).toEqual([]);
    } finally {
      picked.mockRestore();
      holder.kill();
      killAll(processesIn(dir));
    }
  }, 90_000);
});

// stopSshd's look at a connection accepted after the stopped listener was looked at (it left its poll before the
// SIGSTOP, and accepts and forks when continued): that race cannot be provoked here, so the look itself is tested.
describe('holdingConnectionsTo', () => {
  // Review: only ESTABLISHED counted, so a child forked after the look whose client had left (CLOSE_WAIT) was missed;
  // and the other port was port + 1, where another worker may serve.
  test("finds the process holding the server's end of a loopback connection, established or left by its client, and nothing on another port", async () => {
    const port = await freePort();
    const server = spawn(MACHINE_PYTHON, ['-c', [
      'import socket, sys', 's = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)',
      'print("listening", flush=True)', 'c, _ = s.accept(); s.close(); print("accepted", flush=True)',
      'c.recv(1); print("client left", flush=True); sys.stdin.read()',
    ].join('\n'), String(port)], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines: string[] = [];
    server.stdout!.on('data', (d: Buffer) => lines.push(d.toString()));
    const said = (word: string) => waitFor(() => lines.join('').includes(word),
      { timeout: Duration.seconds(10), interval: Duration.millis(20), what: `the server to say '${word}'` });
    const client = new net.Socket();
    try {
      await said('listening');
      client.connect(port, '127.0.0.1');
      await once(client, 'connect');
      await said('accepted');
      expect(holdingConnectionsTo(port)).toEqual([server.pid]);
      expect(holdingConnectionsTo(await freePort())).toEqual([]);
      // The client gone, the server's end is in CLOSE_WAIT until it closes it: still held.
      client.destroy();
      await said('client left');
      expect(holdingConnectionsTo(port)).toEqual([server.pid]);
    } finally {
      client.destroy();
      server.kill('SIGKILL');
    }
  });
});

describe('bootTicks', () => {
  afterEach(() => jest.restoreAllMocks());

  /** The start of jest's main process (which started before this worker) and `bootTicks()` in `harness`. */
  function mainStartAndNow(harness: Pick<typeof import('../../testing/harness/processes'), 'processEntry' | 'bootTicks'>): { start: number; now: number } {
    return { start: Number(harness.processEntry(process.ppid)!.start), now: harness.bootTicks() };
  }

  // Review: "now" came from /proc/uptime, which LXCFS virtualizes in a container (its age) while the start times in stat
  // stay the host's: every process seemed to start after now, and stopSshd ended none of those it left.
  test("is on the clock of the processes' start times, whatever /proc/uptime says", () => {
    const harness = { processEntry, bootTicks };
    // The module itself: this file's `fs` is a copy of its bindings (esModuleInterop), whose properties cannot be spied on.
    const nodeFs = require('fs') as typeof fs;
    const read = nodeFs.readFileSync;
    jest.spyOn(nodeFs, 'readFileSync').mockImplementation(((file: fs.PathOrFileDescriptor, ...rest: unknown[]) =>
      (file === '/proc/uptime' ? '1.00 1.00\n' : (read as (...a: unknown[]) => unknown)(file, ...rest))) as typeof fs.readFileSync);
    const { start, now } = mainStartAndNow(harness);
    expect(start).toBeLessThanOrEqual(now);
  });

  // Review: without getconf (a slim image) the look threw ENOENT; `|| 100` covered only an unreadable answer.
  test('falls back to 100 ticks a second without getconf', () => {
    let harness!: typeof import('../../testing/harness/processes');
    jest.isolateModules(() => { harness = require('../../testing/harness/processes'); });
    // What execFileSync throws for a command not on PATH (a PATH set here would not reach it: jest's process.env is the test's own).
    const getconf = jest.spyOn(require('child_process') as typeof import('child_process'), 'execFileSync').mockImplementation(() => {
      throw Object.assign(new Error('spawnSync getconf ENOENT'), { code: 'ENOENT' });
    });
    expect(() => harness.bootTicks()).not.toThrow();
    expect(getconf).toHaveBeenCalledWith('getconf', ['CLK_TCK'], expect.anything());
    getconf.mockRestore();
    const { start, now } = mainStartAndNow(harness);
    expect(start).toBeLessThanOrEqual(now);
  });
});

// Review: another account's environment was not read even as root, where the suites run, so run-leftovers no longer
// found a test's `runuser -u postgres …` by the run's directory.
describeAsRoot('environmentOf as root', () => {
  test("reads another account's process", () => {
    const other = spawn('sleep', ['30'], { stdio: 'ignore', uid: 65534, gid: 65534, env: { MARK: 'environment-of-another-account' } });
    try {
      expect(environmentOf(processEntry(other.pid!)!, 'skip')).toContain('MARK=environment-of-another-account');
    } finally {
      other.kill('SIGKILL');
    }
  });
});

// bash reads ~/.bashrc for every command sshd runs. This image's root has one that runs pyenv (0.7 CPU-s a
// session) and puts its shims first on PATH; a fresh Debian server has the stock file, and so do the sessions
// of a LoopbackMachine.
describeAsRoot('a LoopbackMachine\'s sessions', () => {
  // Review: options.env went into sshd's SetEnv line as written: a value with a blank split into two variables (or
  // none), a quote opened a quoted word, and `#` ended the line.
  const VARIABLES = { SPACED: 'two  words', QUOTED: 'say "hi", it\'s', BACKSLASHED: 'C:\\dir\\', HASHED: 'a #b', EMPTY: '' };
  let tmp: string;
  let machine: LoopbackMachine;
  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'loopback-machine-'));
    machine = await LoopbackMachine.start(path.join(tmp, 'machine'), { env: VARIABLES });
  });
  afterAll(async () => {
    await machine?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** Runs `command` in a session of the machine, over ssh with its host key pinned; what it printed. */
  function inSession(command: string): string {
    const target = machine.target();
    const knownHosts = path.join(tmp, 'known_hosts');
    fs.writeFileSync(knownHosts, `[127.0.0.1]:${target.port} ${target.hostKey}\n`);
    const ssh = spawnSync('ssh', ['-F', '/dev/null', '-i', target.privateKeyFile, '-p', String(target.port), '-o', 'BatchMode=yes',
      '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${knownHosts}`, 'root@127.0.0.1', command], { encoding: 'utf8' });
    expect({ status: ssh.status, stderr: ssh.stderr }).toEqual({ status: 0, stderr: '' });
    return ssh.stdout;
  }

  test('get the variables of options.env as given, blanks, quotes, backslashes and # included', () => {
    const printed = inSession(`node -e 'console.log(JSON.stringify(Object.fromEntries(${JSON.stringify(Object.keys(VARIABLES))}.map((n) => [n, process.env[n]]))))'`);
    expect(JSON.parse(printed)).toEqual(VARIABLES);
  });

  test('refuse a variable sshd_config cannot carry, naming it and the fix', async () => {
    await expect(LoopbackMachine.start(path.join(tmp, 'refused'), { env: { TWO_LINES: 'a\nb' } })).rejects
      .toThrow('LoopbackMachine env: TWO_LINES\'s value "a\\nb" holds a line break or NUL, which sshd_config\'s SetEnv cannot carry. Fix: pass a value on one line.');
    await expect(LoopbackMachine.start(path.join(tmp, 'refused-name'), { env: { 'A B': 'x' } })).rejects.toThrow(/LoopbackMachine env: "A B" is not a variable name/);
  });

  // The rollout agent fails a deploy whose unit files systemd-analyze did not verify (127 where it is not found): on a
  // host without the systemd package (the node:22 image) every rollout with a unit file failed, as only systemctl had
  // a stand-in. Where the host has none, bin/ has one that passes every unit; where it has one, bin/ has none.
  test("find a systemd-analyze that passes a good unit file: the host's, or where the host has none a stand-in in bin/", () => {
    const unitFile = path.join(tmp, 'acme-a.service');
    fs.writeFileSync(unitFile, '[Unit]\nDescription=acme-a\n\n[Service]\nExecStart=/bin/true\n');
    const found = inSession(`command -v systemd-analyze && systemd-analyze verify ${unitFile}`).trim();
    const standIn = path.join(machine.dir, 'bin', 'systemd-analyze');
    const hostHas = hasSystemdAnalyze('/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    expect({ found, standIn: fs.existsSync(standIn) }).toEqual(hostHas ? { found: expect.not.stringContaining(machine.dir), standIn: false } : { found: standIn, standIn: true });
  });

  test('read Debian\'s stock ~/.bashrc, not this machine\'s, and keep the PATH the machine sets', () => {
    const printed = inSession('cat ~/.bashrc; echo "PATH=$PATH"');
    const stock = '/usr/share/base-files/dot.bashrc';
    const [bashrc, pathLine] = [printed.slice(0, printed.lastIndexOf('PATH=')), printed.slice(printed.lastIndexOf('PATH=')).trim()];
    expect(bashrc).toBe(fs.existsSync(stock) ? fs.readFileSync(stock, 'utf8') : '');
    expect(pathLine).toBe(`PATH=${path.join(machine.dir, 'bin')}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`);
  });
});

describeAsRoot("a LoopbackMachine's stop", () => {
  // Review: each rollout's step file is /root/.sovereign-rollout-step.<port>.<resource>.sh, and only three test files
  // removed theirs, after stop(): by then the port was free for another jest worker's sshd, whose live file they could
  // delete. stop() removes its port's own, while the port is still its sshd's.
  let tmp: string;
  const planted: string[] = [];
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'loopback-stop-'));
  });
  afterAll(() => {
    for (const file of planted) fs.rmSync(file, { recursive: true, force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test("removes its port's step files from /root, regular files only, and keeps another port's", async () => {
    const machine = await LoopbackMachine.start(path.join(tmp, 'machine'));
    const step = (port: string, resource: string) => `/root/.sovereign-rollout-step.${port}.${resource}.sh`;
    const own = [step(String(machine.port), 'App_Rollout_0001'), step(String(machine.port), 'Worker_Rollout_0002')];
    // Its port followed by digits, which no TCP port is: a name a prefix match alone would take.
    const others = [step(`${machine.port}00000`, 'App_Rollout_0001')];
    const target = path.join(tmp, 'target.sh');
    const link = step(String(machine.port), 'Linked_Rollout');
    const directory = step(String(machine.port), 'Directory_Rollout');
    planted.push(...own, ...others, link, directory);
    for (const file of [...own, ...others, target]) fs.writeFileSync(file, 'echo step\n');
    fs.symlinkSync(target, link);
    fs.mkdirSync(directory);

    await machine.stop();

    expect(fs.readdirSync('/root').filter((f) => f.startsWith(`.sovereign-rollout-step.${machine.port}.`)).sort())
      .toEqual([path.basename(directory), path.basename(link)].sort());
    expect(others.filter((f) => fs.existsSync(f))).toEqual(others);
    // The symlink is not followed: its target keeps its content.
    expect(fs.readFileSync(target, 'utf8')).toBe('echo step\n');
  });
});
