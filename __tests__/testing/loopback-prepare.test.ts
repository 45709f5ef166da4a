import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Testing } from 'cdktf';
import { phase1Pilot } from '../../examples/phase1-pilot';
import { LoopbackMachine, PrepareRefusedError, SynthesizedBundle, synthesizedBundle } from '../../testing';
import { createDebianCluster, PG_BIN } from '../../testing/postgres-cluster';
import { NamespacePair } from '../database/helpers/netns';
import { describeWithRealParts, isRoot } from '../setup/real-parts';
import { forgetNetworkNamespace, makeOutsideRunDirectory, recordNetworkNamespace } from '../setup/run-leftovers';
import { refusal } from './helpers/refusal';

// LoopbackMachine.prepareFor where a run before left things behind, or a step fails: the namespace a killed run left,
// a retry after a failed step, the same directory prepared again, a directory postgres cannot reach.

const SERVER = 'phase1-pilot-production-app';
const ready = isRoot && fs.existsSync(`${PG_BIN}/pg_ctl`) && NamespacePair.available();
const describeReal = describeWithRealParts(ready, 'LoopbackMachine.prepareFor', 'root (sshd), ip netns and PostgreSQL 15 (/usr/lib/postgresql/15/bin)');

const namespaceExists = (name: string) => fs.existsSync(`/run/netns/${name}`);


describeReal('LoopbackMachine.prepareFor, again after a failure or a killed run', () => {
  let dir: string;
  let bundle: SynthesizedBundle;
  const machines: LoopbackMachine[] = [];

  /** A machine whose namespace the run's end removes should this process never get to `stop()`. */
  const start = async (machineDir: string) => {
    const machine = await LoopbackMachine.start(machineDir);
    machines.push(machine);
    recordNetworkNamespace(`loopback-${machine.port}`);
    return machine;
  };
  const stop = async (machine: LoopbackMachine) => {
    machines.splice(machines.indexOf(machine), 1);
    await machine.stop();
    if (!namespaceExists(`loopback-${machine.port}`)) forgetNetworkNamespace(`loopback-${machine.port}`);
  };

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loopback-prepare-'));
    bundle = synthesizedBundle(JSON.parse(Testing.synth(phase1Pilot(Testing.app({ stackTraces: false }) as App).production, true)), SERVER);
  }, 120_000);

  afterAll(async () => {
    for (const machine of [...machines]) await stop(machine);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a failed step leaves no namespace and a retry succeeds; a left namespace is replaced when empty, refused when not', async () => {
    const machine = await start(path.join(dir, 'machine'));
    const ns = `loopback-${machine.port}`;
    // One address twice: the second `ip addr add` fails (File exists), after the namespace is made.
    const twice: SynthesizedBundle = {
      ...bundle,
      parts: bundle.parts.map((part) => ({
        ...part,
        files: part.files.map((f) => {
          if (f.path !== '/etc/sovereign/postgres/setup.json') return f;
          const conf = JSON.parse(f.content!);
          return { ...f, content: JSON.stringify({ ...conf, listenAddresses: [...conf.listenAddresses, '10.0.1.2', '10.0.1.2'] }) };
        }),
      })),
    };
    let failed: unknown;
    try { machine.prepareFor(twice); } catch (e) { failed = e; }
    expect(String(failed)).toMatch(/ip addr add 10\.0\.1\.2\/32 dev lo/);
    // A step that failed is that step's error, not a refusal: no fix of the bundle is known for it.
    expect(failed).not.toBeInstanceOf(PrepareRefusedError);
    expect(namespaceExists(ns)).toBe(false);

    // A namespace of the same name that a process runs in is another's: refused, the namespace left as it was.
    expect(spawnSync('ip', ['netns', 'add', ns]).status).toBe(0);
    // It says "entered" from inside the namespace (ip netns exec runs it there), then becomes the sleep.
    const sleeper = spawn('ip', ['netns', 'exec', ns, 'sh', '-c', 'echo entered; exec sleep 600'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const exited = new Promise((resolve) => sleeper.once('exit', resolve));
    try {
      await entered(sleeper, ns);
      expect(refusal(() => machine.prepareFor(bundle)).message).toMatch(
        new RegExp(`^LoopbackMachine\\.prepareFor\\(${SERVER}\\): the network namespace ${ns} exists already, with processes \\d+ running in it\\. Fix: stop what runs in it \\(\`ip netns pids ${ns}\`\\), then \`ip netns del ${ns}\`\\.$`));
      expect(namespaceExists(ns)).toBe(true);
    } finally {
      sleeper.kill('SIGKILL');
      await exited;
    }

    // Empty now, as a killed run leaves it: replaced, and the retry makes the cluster and its unit.
    machine.prepareFor(bundle);
    expect(spawnSync('ip', ['netns', 'exec', ns, 'ip', '-o', 'addr', 'show', 'dev', 'lo'], { encoding: 'utf8' }).stdout).toContain('10.0.1.2/32');
    expect(fs.existsSync(path.join(machine.root, 'var/lib/postgresql/15/main/PG_VERSION'))).toBe(true);
    expect(fs.readdirSync(path.join(machine.dir, 'units')).sort()).toEqual(['postgresql@15-main.service.restart', 'postgresql@15-main.service.start', 'postgresql@15-main.service.stop']);
    // Once only: a second call is refused, naming the bundle it holds the cluster for, and the first stays as it was.
    expect(refusal(() => machine.prepareFor(bundle)).message).toBe(`LoopbackMachine.prepareFor(${SERVER}): this machine is prepared already, for ${SERVER}'s bundle, `
      + 'and one machine holds one cluster. Fix: start another LoopbackMachine for another machine\'s bundle, or roll out to this one without a second prepareFor.');
    expect(namespaceExists(ns)).toBe(true);
    await stop(machine);
    expect(namespaceExists(ns)).toBe(false);

    // The same directory again (the rehearsal run twice): the earlier machine's unit hooks are gone, and the cluster
    // initdb made is kept, where initdb would refuse its non-empty directory.
    const again = await start(path.join(dir, 'machine'));
    expect(fs.existsSync(path.join(again.dir, 'units'))).toBe(false);
    again.prepareFor(bundle);
    expect(fs.existsSync(path.join(again.dir, 'units/postgresql@15-main.service.start'))).toBe(true);
    await stop(again);
  }, 120_000);

  // It prepares for PostgreSQL alone: a bundle with nothing it can prepare was passed over in silence, and its
  // activation then failed on what no package had made.
  test('a bundle without a postgresql part is refused, naming its parts and the fix; nothing is made', async () => {
    const machine = await start(path.join(dir, 'no-database'));
    const withoutDatabase: SynthesizedBundle = { ...bundle, parts: bundle.parts.filter((p) => !/^postgresql /.test(p.name)) };
    expect(withoutDatabase.parts.length).toBeGreaterThan(0);
    expect(refusal(() => machine.prepareFor(withoutDatabase)).message).toBe(`LoopbackMachine.prepareFor(${SERVER}): the bundle has no part this can prepare (its parts: `
      + `${withoutDatabase.parts.map((p) => p.name).join(', ')}); prepareFor makes only what PostgreSQL's package makes, for a 'postgresql <major>' part. `
      + 'Fix: pass the bundle of a machine with a PostgresDatabase, or roll this one out without prepareFor.');
    expect(namespaceExists(`loopback-${machine.port}`)).toBe(false);
    expect(fs.existsSync(path.join(machine.root, 'etc/postgresql'))).toBe(false);
    // The machine is not taken: the database's bundle is prepared on it after.
    machine.prepareFor(bundle);
    expect(fs.existsSync(path.join(machine.root, 'var/lib/postgresql/15/main/PG_VERSION'))).toBe(true);
    await stop(machine);
  }, 120_000);

  test('a bundle without the setup it reads, a setup not JSON or without listenAddresses, or a host without pg_ctl, is refused as the others are; nothing is made', async () => {
    const machine = await start(path.join(dir, 'refusals'));
    const noSetup: SynthesizedBundle = {
      ...bundle,
      parts: bundle.parts.map((part) => ({ ...part, files: part.files.filter((f) => f.path !== '/etc/sovereign/postgres/setup.json') })),
    };
    expect(refusal(() => machine.prepareFor(noSetup)).message).toBe(`LoopbackMachine.prepareFor(${SERVER}): the 'postgresql 15' part has no `
      + '/etc/sovereign/postgres/setup.json to read the cluster from. Fix: pass the bundle of a machine with a PostgresDatabase, from synthesizedBundle(stackJson, serverName).');

    // Review: a setup.json edited by hand gave a bare SyntaxError or TypeError, naming neither the file nor a fix.
    const withSetup = (content: string): SynthesizedBundle => ({
      ...bundle,
      parts: bundle.parts.map((part) => ({
        ...part,
        files: part.files.map((f) => (f.path === '/etc/sovereign/postgres/setup.json' ? { ...f, content } : f)),
      })),
    });
    const rendered = JSON.parse(bundle.parts.flatMap((p) => p.files).find((f) => f.path === '/etc/sovereign/postgres/setup.json')!.content!);
    const file = `LoopbackMachine.prepareFor(${SERVER}): the 'postgresql 15' part's /etc/sovereign/postgres/setup.json`;
    const fix = 'Fix: pass the bundle synthesizedBundle(stackJson, serverName) returns for a machine with a PostgresDatabase, its setup.json as rendered.';
    const malformed = refusal(() => machine.prepareFor(withSetup('{"major": 15,')));
    // JSON.parse's own words, which differ between Node versions.
    const parseError = (() => { try { JSON.parse('{"major": 15,'); } catch (e) { return (e as Error).message; } throw new Error('parsed'); })();
    expect(malformed.message).toBe(`${file} is not JSON (${parseError}). ${fix}`);
    expect(malformed.cause).toBeInstanceOf(SyntaxError);
    expect(refusal(() => machine.prepareFor(withSetup('null'))).message).toBe(`${file} is null, not an object of settings. ${fix}`);
    const { listenAddresses, ...withoutAddresses } = rendered;
    expect(listenAddresses).toEqual(['localhost', '10.0.1.2']);
    expect(refusal(() => machine.prepareFor(withSetup(JSON.stringify(withoutAddresses)))).message).toBe(`${file} has listenAddresses missing, where the `
      + `addresses PostgreSQL listens on (a list of strings, such as ["localhost","10.0.1.2"]) must be. ${fix}`);
    expect(refusal(() => machine.prepareFor(withSetup(JSON.stringify({ ...rendered, listenAddresses: '10.0.1.2' })))).message).toBe(`${file} has `
      + `listenAddresses "10.0.1.2", where the addresses PostgreSQL listens on (a list of strings, such as ["localhost","10.0.1.2"]) must be. ${fix}`);

    // A host without Debian's postgresql-15: the check is of the file, so the test hides that file alone.
    const realFs = require('fs') as typeof import('fs');
    const exists = realFs.existsSync;
    const hidden = jest.spyOn(realFs, 'existsSync').mockImplementation((p) => p !== `${PG_BIN}/pg_ctl` && exists(p));
    try {
      expect(refusal(() => machine.prepareFor(bundle)).message).toBe(`LoopbackMachine.prepareFor(${SERVER}): ${PG_BIN}/pg_ctl does not exist on this host, `
        + 'and the unit\'s commands run it. Fix: install Debian\'s postgresql-15 on this host.');
    } finally {
      hidden.mockRestore();
    }
    expect(namespaceExists(`loopback-${machine.port}`)).toBe(false);
    expect(fs.existsSync(path.join(machine.root, 'etc/postgresql'))).toBe(false);
    await stop(machine);
  }, 120_000);

  test('a machine whose directory the postgres user cannot reach is refused by prepareFor, the namespace undone', async () => {
    // Named with this process's pid: a run killed before the finally block leaves it for the next run to remove.
    const locked = makeOutsideRunDirectory('loopback-prepare');
    try {
      const machine = await start(path.join(locked, 'machine'));
      const refused = refusal(() => machine.prepareFor(bundle));
      expect(refused.message).toBe(`LoopbackMachine.prepareFor(${SERVER}): createDebianCluster: the postgres user cannot `
        + `reach ${machine.root} (${locked} is 0700, and the cluster's files under it must be postgres's), so initdb would fail. Fix: use a directory under `
        + `${fs.realpathSync(os.tmpdir())}, or let others through ${locked} (chmod o+x ${locked}).`);
      // createDebianCluster's own refusal, said again in prepareFor's words, is its cause.
      expect(refused.cause).toBeInstanceOf(PrepareRefusedError);
      expect(`LoopbackMachine.prepareFor(${SERVER}): ${(refused.cause as Error).message}`).toBe(refused.message);
      expect(namespaceExists(`loopback-${machine.port}`)).toBe(false);
      await stop(machine);
    } finally {
      fs.rmSync(locked, { recursive: true, force: true });
    }
  }, 120_000);

  test('a directory the postgres user cannot reach is refused before initdb, naming the directory and the fix', () => {
    // Outside the temp directory, as a rehearsal's /root/rehearsal is: nothing opens the way for postgres there.
    // (Jest's process.env is the test's copy, which os.tmpdir() in the library does not read.)
    // Named with this process's pid: a run killed before the finally block leaves it for the next run to remove.
    const locked = makeOutsideRunDirectory('loopback-prepare');
    try {
      const root = path.join(locked, 'machine/root');
      fs.mkdirSync(root, { recursive: true });
      const unreachable = `the postgres user cannot reach ${root} (${locked} is 0700, and the cluster's files under it must be postgres's), so initdb would fail. Fix: use a directory under ${fs.realpathSync(os.tmpdir())}, or let others through ${locked} (chmod o+x ${locked}).`;
      expect(refusal(() => createDebianCluster(root)).message).toBe(`createDebianCluster: ${unreachable}`);
      expect(fs.existsSync(path.join(root, 'etc/postgresql'))).toBe(false);
    } finally {
      fs.rmSync(locked, { recursive: true, force: true });
    }
  });
});

/**
 * Resolves once the process `ip netns exec` started says it runs in `ns`: a signal of its own, not a poll, so a loaded
 * machine only makes it later. The bound is for a hang (ip netns exec stuck), not a judgement of speed.
 */
function entered(child: ChildProcess, ns: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const hung = setTimeout(() => reject(new Error(`the process started in ${ns} said nothing in 30 s`)), 30_000);
    child.stdout!.once('data', () => { clearTimeout(hung); resolve(); });
    child.once('exit', (code, signal) => { clearTimeout(hung); reject(new Error(`the process meant to run in ${ns} exited (${code ?? signal}) before entering it`)); });
  });
}
