import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { TerraformStack, TerraformVariable, Testing } from 'cdktf';
import { BundlePart, MachineBundle } from '../../lib';
import { Duration } from '../../lib/core/duration';
import { adminKeysPart } from '../../lib/hetzner/private/admin-keys-part';
import { hostTablesLoaderPath, nftablesDropInPath, nftablesServiceDropIn } from '../../lib/hetzner/private/nftables-table';
import { PRIVATE_INGRESS_RUNTIME_FILES } from '../../lib/hetzner/private/private-ingress-check';
import { PRIVATE_INGRESS_NFTABLES_DROP_IN } from '../../lib/hetzner/private/private-ingress-table';
import { REMOVAL_REPORTING_TOOLS, ROLLOUT_AGENT } from '../../lib/hetzner/private/rollout-agent';
import { SETUP } from '../../lib/monitoring/private/paths';
import { BACKUP_JOB_UNITS, JOB_HOOK_DROP_IN, jobMetricFiles } from '../../lib/monitoring/private/job-metrics';
import { AgentMachine, HOST_HAS_ANALYZE } from '../setup/agent-machine';
import { hasSystemdAnalyze, standInSystemdAnalyze } from '../../testing/harness/systemd-analyze';
import { alive, signal, statFields } from '../../testing/harness/processes';
import { isRoot, MACHINE_PYTHON, testWhereHostHas, testWithRealParts } from '../setup/real-parts';
import { recordedCalls, recordingWrapper } from '../setup/recording-wrapper';

const hasStrace = spawnSync('strace', ['-V']).status === 0;

// The rollout agent run directly, as the rollout's last provisioner runs it, on a machine whose file
// system is a directory (SOVEREIGN_ROOT) and whose systemctl records its calls. The end-to-end suite
// (machine-rollout-e2e.test.ts) runs it through Terraform and SSH; this one pins its decisions.

const secret = 'TOKEN=s3cr3t-value-0001';

class Machine extends AgentMachine {
  /** Delivers a bundle as the provisioners do and runs the agent; `inputs` are the deploy-time contents. */
  public apply(parts: BundlePart[], inputs: Record<string, string> = {}, options: { version?: string; commandTimeout?: Duration; path?: string } = {}) {
    const bundle = new MachineBundle('acme-production-app');
    for (const part of parts) bundle.addPart(part);
    // Templates stay as they are: the deploy-time contents come from `inputs`, as Terraform renders them.
    const rendered = bundle.render((text) => text);
    return { ...this.deliver(rendered.payload, options.version ?? rendered.version, inputs, { commandTimeout: options.commandTimeout, path: options.path }), version: rendered.version };
  }
}

/**
 * Whether the process whose pid the agent or a step wrote as text (a pid file, a listing) still runs. Text that is no
 * pid (an empty file, a listing without the line) throws: as Number() it would name no process, and read as one ended.
 */
function alivePid(pid: string): boolean {
  return alive(pidOf(pid));
}

/** The pid a step wrote as text; text that is none throws (as Number() it would be 0, to process.kill this suite's own group). */
function pidOf(text: string): number {
  if (!/^[1-9]\d*$/.test(text)) throw new Error(`not a pid: ${JSON.stringify(text)}`);
  return Number(text);
}

/**
 * A PATH with every command of the host's but `command`: a directory in `m` of links to the first of each name on the
 * host's PATH (the agent runs bash, sh and more, which share /usr/bin with systemd-analyze).
 */
function hostPathWithout(m: Machine, command: string): string {
  const dir = path.join(m.dir, 'host-bin');
  fs.mkdirSync(dir);
  const linked = new Set([command]);
  for (const from of (process.env.PATH ?? '').split(':').filter(Boolean)) {
    if (!fs.existsSync(from)) continue;
    for (const name of fs.readdirSync(from)) {
      if (linked.has(name)) continue;
      linked.add(name);
      fs.symlinkSync(path.join(from, name), path.join(dir, name));
    }
  }
  return dir;
}

/** Applies a part's next version: `daemon`, left by its steps, is stopped and named (as its shell, caught before its exec). */
function expectStoppedByNextRun(m: Machine, part: BundlePart, daemon: string): void {
  const again = m.apply([part]);
  expect(again.status).toBe(0);
  expect(alivePid(daemon)).toBe(false);
  expect(again.output).toMatch(new RegExp(`stopped pid ${daemon} \\((sleep|sh)\\)`));
}

/**
 * The writable cgroup mount whose type and super options pass `which`, when this runs as root (a test moves a process to a
 * cgroup of its own there). Field 5 of a mountinfo line holds the mount's options: a container may mount cgroups read-only.
 */
function cgroupMount(which: (type: string, options: string[]) => boolean): string | undefined {
  return isRoot
    ? fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((line) => line.split(' '))
      .find((fields) => which(fields[fields.indexOf('-') + 1], (fields[fields.indexOf('-') + 3] ?? '').split(',')) && fields[5].split(',').includes('rw'))?.[4]
    : undefined;
}
const cgroup2 = cgroupMount((type) => type === 'cgroup2');
/** A v1 controller's hierarchy (cpu, memory), as a hybrid or legacy host has (this suite's own machine may be one). */
const cgroup1Controller = cgroupMount((type, options) => type === 'cgroup' && !options.some((option) => option.startsWith('name=')));

/** Kills every process a test's step listed in `file`, one a line, its pid last: on a failure, none outlives the suite. */
function killListed(file: string): void {
  for (const line of fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n') : []) {
    // signal() passes over an empty line's 0, which process.kill would take for this suite's own process group.
    signal(Number(line.split(' ').pop()), 'SIGKILL');
  }
}

/** What a process writes to the fifo `fifo`, read within 20 s: a writer that died before it opened the fifo fails the test, never hangs it. */
function readFifo(fifo: string): string {
  const read = spawnSync('timeout', ['20', 'cat', fifo], { encoding: 'utf8' });
  if (read.status !== 0) throw new Error(`nothing was written to ${fifo} within 20 s (timeout exited ${read.status})`);
  return read.stdout.trim();
}

/**
 * Writes `text` and a line break to the fifo `fifo` within 20 s: a reader that died before it opened the fifo fails
 * the test, never hangs it (an open() blocked in this process is beyond jest's timeout).
 */
function writeFifo(fifo: string, text: string): void {
  const write = spawnSync('timeout', ['20', 'sh', '-c', 'printf "%s\\n" "$2" > "$1"', 'sh', fifo, text]);
  if (write.status !== 0) throw new Error(`nothing read ${fifo} within 20 s (timeout exited ${write.status})`);
}

/** Waits (20 s at most, then fails the test) until `done` holds. */
function waitFor(done: () => boolean, what = 'the condition'): void {
  const deadline = Date.now() + 20_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what} did not hold within 20 s`);
    spawnSync('sleep', ['0.05']);
  }
}

/**
 * Runs each of a cleanup's steps (a finally block's), even after one threw, and logs what one threw rather than throw
 * it: thrown, it replaced the test's own failure, and the steps after it never ran.
 */
function cleanUp(...steps: Array<() => void>): void {
  for (const step of steps) {
    try {
      step();
    } catch (e) {
      console.warn(`cleanup: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

/** A cleanup's wait: as waitFor, but one that does not hold is logged (cleanUp), not thrown. */
function settle(done: () => boolean, what = 'the condition'): void {
  cleanUp(() => waitFor(done, what));
}

/**
 * A step's shell loop that waits until the process whose pid the variable `name` holds has ended (gone, or a zombie):
 * 20 s at most by the shell's clock, then the step fails saying so, rather than hang the agent (and the test) until
 * jest's timeout. The state is stat's field after the last `)`, which a command name holding `) Z` cannot fake.
 */
function untilEnded(name: string): string {
  return `end=$((SECONDS + 20)); while [ -e /proc/$${name} ] && [ "$(sed 's/.*) //' /proc/$${name}/stat 2>/dev/null | cut -c1)" != Z ]; do ` +
    `if [ $SECONDS -ge $end ]; then echo "pid $${name} did not end within 20 s" >&2; exit 124; fi; sleep 0.05; done`;
}

/** A file whose content Terraform fills in: a token, as a sensitive variable gives it. */
function deployTime(): string {
  const stack = new TerraformStack(Testing.app(), 'x');
  return `TOKEN=${new TerraformVariable(stack, 'token', { type: 'string', sensitive: true }).stringValue}`;
}

const app = (conf: string): BundlePart => ({
  name: 'app',
  files: [
    { path: '/etc/acme/app.conf', content: conf },
    { path: '/etc/systemd/system/acme.service', content: '[Unit]\nDescription=Acme\n\n[Service]\nExecStart=/bin/true\n' },
  ],
  commands: [['systemctl', 'restart', 'acme.service']],
});
const jobs = (schedule: string): BundlePart => ({
  name: 'jobs',
  files: [{ path: '/etc/systemd/system/acme-job.timer', content: `[Unit]\nDescription=Job\n\n[Timer]\nOnCalendar=${schedule}\n\n[Install]\nWantedBy=timers.target\n` }],
  commands: [['systemctl', 'enable', '--now', 'acme-job.timer']],
});
/**
 * A machine whose dpkg database is its own (under its root, never this machine's), and a package for it whose
 * maintainer scripts are `scripts` (e.g. { postinst: '...' }). `state` is the package's status as dpkg-query shows it.
 */
function dpkgPackage(m: Machine, scripts: Record<string, string>) {
  const admin = path.join(m.root, 'var/lib/dpkg');
  for (const dir of ['updates', 'info']) fs.mkdirSync(path.join(admin, dir), { recursive: true });
  fs.writeFileSync(path.join(admin, 'status'), '');
  const pkg = path.join(m.dir, 'acme-probe');
  fs.mkdirSync(path.join(pkg, 'DEBIAN'), { recursive: true });
  fs.writeFileSync(path.join(pkg, 'DEBIAN/control'), 'Package: acme-probe\nVersion: 1.0\nArchitecture: all\nMaintainer: Acme <ops@acme.eu>\nDescription: probe\n');
  for (const [name, script] of Object.entries(scripts)) fs.writeFileSync(path.join(pkg, 'DEBIAN', name), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
  expect(spawnSync('dpkg-deb', ['--build', '--root-owner-group', pkg, `${pkg}.deb`]).status).toBe(0);
  return {
    admin,
    /** The bundle part whose step installs the package, as a part's own `dpkg -i` would. */
    install: { name: 'probe', commands: [['dpkg', `--root=${m.root}`, '--force-script-chrootless', '-i', `${pkg}.deb`]] } as BundlePart,
    state: () => spawnSync('dpkg-query', [`--root=${m.root}`, '-W', '-f=${Status}', 'acme-probe'], { encoding: 'utf8' }).stdout,
  };
}

/**
 * A systemctl for `m` that records its calls, says each unit is enabled and `active` (is-active's word), and gives it
 * a new InvocationID on each restart, as systemd does.
 */
function systemctlWithInvocations(m: Machine, active = 'active'): void {
  const id = path.join(m.dir, 'invocation');
  fs.writeFileSync(path.join(m.dir, 'bin/systemctl'), `#!/bin/sh\necho "$*" >> ${m.dir}/systemctl.log\ncase "$1" in
  is-enabled) echo enabled;; is-active) echo ${active};;
  show) printf '%032d\\n' "$(cat ${id} 2>/dev/null || echo 1)";;
  restart) echo $(( $(cat ${id} 2>/dev/null || echo 1) + 1 )) > ${id};;
esac\nexit 0\n`);
}

const secrets = (): BundlePart => ({ name: 'secrets', files: [{ path: '/etc/acme/secret.env', content: deployTime(), permissions: '0600' }] });

describe('the rollout agent', () => {
  const machines: Machine[] = [];
  const machine = () => {
    const m = new Machine();
    machines.push(m);
    return m;
  };
  afterAll(() => machines.forEach((m) => m.remove()));

  // Review (synth): each unit file cost a start of systemd-analyze. One call verifies them all now; a bad line (or a
  // call that did not finish) falls back to a call per file, which names the bad one.
  const hasAnalyze = HOST_HAS_ANALYZE;
  /** A systemd-analyze for `m` that records each call's unit files (by name), runs `before`, then the real one. */
  const recordedAnalyze = (m: Machine, before = '') => {
    const log = path.join(m.dir, 'analyze.log');
    recordingWrapper(path.join(m.dir, 'bin'), 'systemd-analyze', log, before);
    return () => recordedCalls(log).map((call) => call.split(' ').filter((a) => a.startsWith('/')).map((a) => path.basename(a)).join(' '));
  };
  const unit = (name: string, service: string): BundlePart => ({
    name, files: [{ path: `/etc/systemd/system/${name}.service`, content: `[Unit]\nDescription=${name}\n\n[Service]\n${service}` }],
  });
  const verifyBatched = 'verifies the unit files of a bundle with one systemd-analyze call';
  testWithRealParts(hasAnalyze, verifyBatched, 'systemd-analyze (the systemd package)')(verifyBatched, () => {
    const m = machine();
    const calls = recordedAnalyze(m);
    const run = m.apply([unit('acme-a', 'ExecStart=/bin/true\n'), unit('acme-b', 'ExecStart=/bin/true\n')]);
    expect(run.status).toBe(0);
    expect(calls()).toEqual(['acme-a.service acme-b.service']);
  });
  const verifyNamed = 'names the bad unit file when the second of two is bad, each file verified apart after the batch';
  testWithRealParts(hasAnalyze, verifyNamed, 'systemd-analyze (the systemd package)')(verifyNamed, () => {
    const m = machine();
    const calls = recordedAnalyze(m);
    const run = m.apply([unit('acme-a', 'ExecStart=/bin/true\n'), unit('acme-b', 'ExecStart=/bin/true\nExecStartt=/bin/true\n')]);
    expect(run.status).not.toBe(0);
    expect(run.output).toMatch(/FAILED to check \/etc\/systemd\/system\/acme-b\.service: systemd-analyze verify refuses the unit:\n.*Unknown key/);
    expect(run.output).not.toMatch(/check \/etc\/systemd\/system\/acme-a\.service/);
    expect(calls()).toEqual(['acme-a.service acme-b.service', 'acme-a.service', 'acme-b.service']);
    expect(m.read('/etc/systemd/system/acme-a.service')).toBeUndefined();
  });

  // Review (mend): verify exits 1 when an ExecStart is not in place yet (a first deploy stages the scripts it names),
  // which the call per file ignores: the batch passes on it too, and falls back only when it did not finish.
  const verifyFirstDeploy = 'passes two good units whose ExecStart is not in place yet with one systemd-analyze call';
  testWithRealParts(hasAnalyze, verifyFirstDeploy, 'systemd-analyze (the systemd package)')(verifyFirstDeploy, () => {
    const m = machine();
    const calls = recordedAnalyze(m);
    const run = m.apply([unit('acme-a', 'ExecStart=/opt/acme/not-there-a\n'), unit('acme-b', 'ExecStart=/opt/acme/not-there-b\n')]);
    expect(run.status).toBe(0);
    expect(calls()).toEqual(['acme-a.service acme-b.service']);
  });
  const verifyCutShort = 'verifies file by file when the batch did not finish, and passes the good files';
  testWithRealParts(hasAnalyze, verifyCutShort, 'systemd-analyze (the systemd package)')(verifyCutShort, () => {
    const m = machine();
    // The batch (verify and two files) exits as one cut at the timeout does.
    const calls = recordedAnalyze(m, 'if [ $# -gt 2 ]; then exit 124; fi');
    const run = m.apply([unit('acme-a', 'ExecStart=/bin/true\n'), unit('acme-b', 'ExecStart=/bin/true\n')]);
    expect(run.status).toBe(0);
    expect(calls()).toEqual(['acme-a.service acme-b.service', 'acme-a.service', 'acme-b.service']);
  });
  const verifyKilled = 'fails the deploy when the verify of a file is killed: the unit went unverified';
  testWithRealParts(hasAnalyze, verifyKilled, 'systemd-analyze (the systemd package)')(verifyKilled, () => {
    const m = machine();
    recordedAnalyze(m, 'kill -9 $$');
    const run = m.apply([unit('acme-a', 'ExecStart=/bin/true\n')]);
    expect(run.status).not.toBe(0);
    expect(run.output).toMatch(/FAILED to check \/etc\/systemd\/system\/acme-a\.service: systemd-analyze verify did not finish \(killed by signal 9\)/);
    expect(m.read('/etc/systemd/system/acme-a.service')).toBeUndefined();
  });

  // Review (small): the call per file failed only on a timeout or a signal, so a systemd-analyze that could not be run
  // (126) or was not there (127) let the unit go in unverified. Either fails the deploy now, as the batch falls back.
  test('fails the deploy when systemd-analyze cannot be run (126): the units went unverified', () => {
    const m = machine();
    fs.writeFileSync(path.join(m.dir, 'bin/systemd-analyze'), '#!/bin/sh\nexit 126\n', { mode: 0o755 });
    const run = m.apply([unit('acme-a', 'ExecStart=/bin/true\n'), unit('acme-b', 'ExecStart=/bin/true\n')]);
    expect(run.status).not.toBe(0);
    expect(run.output).toMatch(/FAILED to check \/etc\/systemd\/system\/acme-a\.service: systemd-analyze verify did not run: cannot be run \(126\)/);
    expect(run.output).toMatch(/make \/usr\/bin\/systemd-analyze executable again/);
    expect(m.read('/etc/systemd/system/acme-a.service')).toBeUndefined();
    expect(m.read('/etc/systemd/system/acme-b.service')).toBeUndefined();
  });
  test('fails the deploy when systemd-analyze is not found (127): the units went unverified', () => {
    const m = machine();
    fs.rmSync(path.join(m.dir, 'bin/systemd-analyze'), { force: true });
    const run = m.apply([unit('acme-a', 'ExecStart=/bin/true\n'), unit('acme-b', 'ExecStart=/bin/true\n')], {}, { path: hostPathWithout(m, 'systemd-analyze') });
    expect(run.status).not.toBe(0);
    expect(run.output).toMatch(/FAILED to check \/etc\/systemd\/system\/acme-a\.service: systemd-analyze verify did not run: not found \(127\):\n.*systemd-analyze: command not found/);
    expect(run.output).toMatch(/install systemd-analyze again \(apt-get install --reinstall systemd\)/);
    expect(m.read('/etc/systemd/system/acme-a.service')).toBeUndefined();
    expect(m.read('/etc/systemd/system/acme-b.service')).toBeUndefined();
  });

  // The 127 above failed every rollout with a unit file in a team's test on a host without the systemd package (the
  // node:22 image): LoopbackMachine (testing/) stood in for systemctl only. It writes this stand-in now.
  test("testing's systemd-analyze stand-in: on a PATH without systemd-analyze a unit file deploys; with one there, none is written", () => {
    const m = machine();
    const bin = path.join(m.dir, 'bin');
    fs.rmSync(path.join(bin, 'systemd-analyze'), { force: true });
    const without = hostPathWithout(m, 'systemd-analyze');
    expect(hasSystemdAnalyze(without)).toBe(false);
    expect(standInSystemdAnalyze(bin, without)).toBe(true);
    const run = m.apply([unit('acme-a', 'ExecStart=/bin/true\n')], {}, { path: without });
    expect({ status: run.status, output: run.output }).toEqual({ status: 0, output: expect.stringMatching(/now runs bundle sha256:[0-9a-f]{12}: 1 files? changed/) });
    expect(m.read('/etc/systemd/system/acme-a.service')).toBe('[Unit]\nDescription=acme-a\n\n[Service]\nExecStart=/bin/true\n');
    // A systemd-analyze on the PATH (here one that is no file, or not executable, does not count) is left to do its work.
    const present = path.join(m.dir, 'present');
    const empty = path.join(m.dir, 'empty-bin');
    fs.mkdirSync(path.join(present, 'systemd-analyze'), { recursive: true });
    fs.mkdirSync(empty);
    expect(standInSystemdAnalyze(empty, present)).toBe(true);
    fs.rmSync(path.join(empty, 'systemd-analyze'));
    fs.rmSync(path.join(present, 'systemd-analyze'), { recursive: true });
    fs.writeFileSync(path.join(present, 'systemd-analyze'), '#!/bin/sh\nexit 0\n', { mode: 0o644 });
    expect(standInSystemdAnalyze(empty, present)).toBe(true);
    fs.rmSync(path.join(empty, 'systemd-analyze'));
    fs.chmodSync(path.join(present, 'systemd-analyze'), 0o755);
    expect(standInSystemdAnalyze(empty, `${without}:${present}`)).toBe(false);
    expect(fs.readdirSync(empty)).toEqual([]);
  });

  test('installs a bundle, runs every part\'s commands the first time, records the version, and removes what it received', () => {
    const m = machine();
    const run = m.apply([app('a=1\n'), jobs('daily'), secrets()], { '/etc/acme/secret.env': secret });
    expect(run.output).toMatch(/acme-production-app now runs bundle sha256:[0-9a-f]{12}: 4 files changed, 0 removed/);
    expect(run.status).toBe(0);
    expect(m.read('/etc/acme/app.conf')).toBe('a=1\n');
    expect(m.read('/etc/acme/secret.env')).toBe(secret);
    expect((fs.statSync(path.join(m.root, 'etc/acme/secret.env')).mode & 0o777).toString(8)).toBe('600');
    expect(m.systemctl()).toEqual(['daemon-reload', 'restart acme.service', 'enable --now acme-job.timer']);
    expect(m.status()).toBe(`acme-production-app runs bundle ${run.version} (release ${JSON.parse(m.read('/var/lib/sovereign/rollout/current.json')!).release}, installed ${m.status().match(/installed (.*) UTC/)![1]} UTC, 4 files)`);
    expect(run.incomingLeft).toBe(false);
    expect(run.output).not.toContain('s3cr3t');
  });

  // The packages are looked up in one dpkg-query, not one each: each installed one is found by its name and by its name with
  // the architecture, whether dpkg names it so (libc6 is "libc6:amd64", being Multi-Arch: same) or not (bash, and debconf,
  // of architecture all, required on every Debian machine), and only those dpkg lacks are named, wherever they are listed.
  const dpkgArch = spawnSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).stdout?.trim() ?? '';
  const namesMissing = 'names exactly the packages dpkg lacks, asked as a name or as name:arch, among installed ones';
  testWhereHostHas(/^[a-z0-9-]+$/.test(dpkgArch), namesMissing, "a Debian host's own dpkg (its packages are asked for)")(namesMissing, () => {
    const arch = dpkgArch;
    const m = machine();
    const run = m.apply([app('a=1\n'), { name: 'probe', packages: ['coreutils', 'acme-probe-not-installed', 'bash', `libc6:${arch}`, 'libc6', `bash:${arch}`, 'debconf:all', 'acme-probe-also-missing'] }]);
    expect(run.status).toBe(0);
    expect(run.output).toContain('packages not installed under SOVEREIGN_ROOT: acme-probe-also-missing acme-probe-not-installed\n');
  });

  // The real dpkg above has none of its packages in a state other than installed or unknown: a stand-in on the agent's
  // PATH answers as dpkg-query does (a line per package it knows, in the agent's format; the others named on stderr,
  // exit 1), logs each call, and knows one package removed but for its configuration files and one held at its version.
  test('asks one dpkg-query for all the packages, names one dpkg keeps only the configuration files of, and takes a held one for installed', () => {
    const m = machine();
    const calls = path.join(m.dir, 'dpkg-query.log');
    fs.writeFileSync(path.join(m.dir, 'bin/dpkg-query'), `#!${MACHINE_PYTHON}
import json, sys
with open(${JSON.stringify(calls)}, "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
known = {"acme-kept": "acme-kept\\tacme-kept\\tall\\tinstall ok installed", "acme-removed": "acme-removed\\tacme-removed\\tamd64\\tdeinstall ok config-files", "acme-held": "acme-held\\tacme-held\\tamd64\\thold ok installed",
         "libacme:amd64": "libacme\\tlibacme:amd64\\tamd64\\tinstall ok installed"}
asked = [a for a in sys.argv[1:] if not a.startswith("-")]
for name in asked:
    if name in known:
        print(known[name])
    else:
        print("dpkg-query: no packages found matching " + name, file=sys.stderr)
sys.exit(0 if all(name in known for name in asked) else 1)
`, { mode: 0o755 });
    const packages = ['acme-kept', 'acme-absent', 'libacme:amd64', 'acme-removed', 'acme-held'];
    const run = m.apply([app('a=1\n'), { name: 'probe', packages }]);
    expect(run.status).toBe(0);
    expect(run.output).toContain('packages not installed under SOVEREIGN_ROOT: acme-absent acme-removed\n');
    // One call, in the format the stand-in answers in, for all five.
    const logged: string[][] = fs.readFileSync(calls, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(logged).toHaveLength(1);
    expect(logged[0].slice(0, 2)).toEqual(['-W', '-f=${Package}\t${binary:Package}\t${Architecture}\t${Status}\n']);
    expect([...logged[0].slice(2)].sort()).toEqual([...packages].sort());
  });

  test('the same version again changes nothing and runs nothing', () => {
    const m = machine();
    m.apply([app('a=1\n'), jobs('daily')]);
    const again = m.apply([app('a=1\n'), jobs('daily')]);
    expect(again.status).toBe(0);
    expect(again.output).toMatch(/already runs bundle sha256:[0-9a-f]{12}; nothing to do/);
    expect(m.systemctl()).toEqual([]);
  });

  // Review: the agent read SOVEREIGN_COMMAND_TIMEOUT (the tests' knob) with a bare int() when it loaded, so a stray
  // export on the machine stopped every deploy before the agent took its lock; 0 or less let no command finish.
  test.each(['abc', '', '0', '-5', '2.5'])('a SOVEREIGN_COMMAND_TIMEOUT of %p leaves the default, and the rollout applies', (value) => {
    const m = machine();
    const before = process.env.SOVEREIGN_COMMAND_TIMEOUT;
    process.env.SOVEREIGN_COMMAND_TIMEOUT = value;
    try {
      const run = m.apply([{ ...app('port = 8080\n'), commands: [['sleep', '0.2'], ['systemctl', 'restart', 'acme.service']] }]);
      expect([run.status, run.output]).toEqual([0, expect.not.stringMatching(/Traceback|timed out/)]);
      expect(m.read('/etc/acme/app.conf')).toBe('port = 8080\n');
    } finally {
      if (before === undefined) delete process.env.SOVEREIGN_COMMAND_TIMEOUT;
      else process.env.SOVEREIGN_COMMAND_TIMEOUT = before;
    }
  });

  test('reloads and restarts only what changed: a new schedule touches the timer, not the app', () => {
    const m = machine();
    m.apply([app('a=1\n'), jobs('daily')]);
    const run = m.apply([app('a=1\n'), jobs('weekly')]);
    expect(run.status).toBe(0);
    expect(m.systemctl()).toEqual(['daemon-reload', 'enable --now acme-job.timer']);
    // A configuration change without a unit: no daemon-reload, only the app's restart.
    m.apply([app('a=2\n'), jobs('weekly')]);
    expect(m.systemctl()).toEqual(['restart acme.service']);
  });

  test('a rotated secret replaces its file and keeps the previous copy for the activation, outside the file system', () => {
    const m = machine();
    m.apply([app('a=1\n'), secrets()], { '/etc/acme/secret.env': secret });
    const run = m.apply([app('a=1\n'), secrets()], { '/etc/acme/secret.env': 'TOKEN=rotated-0002' });
    expect(run.status).toBe(0);
    expect(run.output).toMatch(/1 files changed/);
    expect(m.read('/etc/acme/secret.env')).toBe('TOKEN=rotated-0002');
    expect(run.output).not.toMatch(/rotated-0002|s3cr3t/);
  });

  test('repairs drift: a file edited by hand is put back on the next rollout of the same version', () => {
    const m = machine();
    m.apply([app('a=1\n')]);
    m.write('/etc/acme/app.conf', 'edited by hand\n');
    const run = m.apply([app('a=1\n')]);
    expect(run.output).toMatch(/1 files changed/);
    expect(m.read('/etc/acme/app.conf')).toBe('a=1\n');
    expect(m.systemctl()).toEqual(['restart acme.service']);
  });

  test('removes the files a part no longer has, stopping and disabling its units first', () => {
    const m = machine();
    m.apply([app('a=1\n'), jobs('daily')]);
    const run = m.apply([app('a=1\n')]);
    expect(run.output).toMatch(/0 files changed, 1 removed/);
    expect(m.read('/etc/systemd/system/acme-job.timer')).toBeUndefined();
    expect(m.systemctl()).toEqual(['disable --now acme-job.timer', 'daemon-reload']);
  });

  // Review: the rollback put the previous files back and deleted the new part's unit file, but never stopped the unit
  // the new part had enabled and started: it kept running after the rollback, beside the version that never had it.
  test('a rollback stops and disables the units only the failed version had', () => {
    const m = machine();
    m.apply([app('a=1\n')]);
    const queue: BundlePart = {
      name: 'queue',
      files: [
        { path: '/etc/systemd/system/acme-queue.service', content: '[Unit]\nDescription=Queue\n\n[Service]\nExecStart=/bin/true\n\n[Install]\nWantedBy=multi-user.target\n' },
        { path: '/etc/acme/queue.conf', content: 'x=1\n' },
      ],
      commands: [['systemctl', 'enable', '--now', 'acme-queue.service']],
    };
    const failing: BundlePart = { name: 'migrate', files: [{ path: '/etc/acme/migrate.conf', content: 'x=1\n' }], commands: [['sh', '-c', 'exit 4']] };
    const run = m.apply([app('a=1\n'), queue, failing]);
    expect(run.status).toBe(1);
    expect(m.read('/etc/systemd/system/acme-queue.service')).toBeUndefined();
    expect(m.read('/etc/acme/queue.conf')).toBeUndefined();
    expect(m.systemctl()).toEqual([
      'daemon-reload', 'enable --now acme-queue.service',
      // The rollback: stopped and disabled while its file is still there to find its links, then gone.
      'disable --now acme-queue.service', 'daemon-reload',
    ]);
  });

  test("restarts a Debian unit whose drop-in the bundle no longer has, so it stops running with the bundle's settings", () => {
    const m = machine();
    const prober: BundlePart = {
      name: 'prober',
      files: [{ path: '/etc/systemd/system/prometheus-alertmanager.service.d/50-sovereign.conf', content: '[Service]\nExecStart=\nExecStart=/usr/bin/prometheus-alertmanager --config.file=/etc/acme/am.yml\n' }],
      commands: [['systemctl', 'restart', 'prometheus-alertmanager']],
    };
    m.apply([app('a=1\n'), prober]);
    // The prober moved to a machine of its own (Phase 3): this machine's Alertmanager must not keep pinging as it.
    const run = m.apply([app('a=1\n')]);
    expect(run.status).toBe(0);
    expect(m.read('/etc/systemd/system/prometheus-alertmanager.service.d/50-sovereign.conf')).toBeUndefined();
    expect(m.systemctl()).toEqual(['daemon-reload', 'try-restart prometheus-alertmanager.service']);
  });

  // Review: a file of the bundle overriding a Debian unit whole was disabled when it went (a rollback, a later bundle):
  // the daemon the machine ran before was stopped, and Debian's wants-link removed, so it stayed off after a reboot too.
  test("a Debian unit the bundle overrode whole goes back to Debian's file and is restarted, never disabled", () => {
    const m = machine();
    fs.mkdirSync(path.join(m.root, 'lib/systemd/system'), { recursive: true });
    fs.writeFileSync(path.join(m.root, 'lib/systemd/system/redis-server.service'), '[Service]\nExecStart=/usr/bin/redis-server\n');
    const redis: BundlePart = {
      name: 'redis',
      files: [{ path: '/etc/systemd/system/redis-server.service', content: '[Unit]\nDescription=Redis\n\n[Service]\nExecStart=/bin/true\n\n[Install]\nWantedBy=multi-user.target\n' }],
      commands: [['systemctl', 'restart', 'redis-server.service']],
    };
    m.apply([app('a=1\n')]);
    const failed = m.apply([app('a=1\n'), redis, { name: 'migrate', files: [{ path: '/etc/acme/migrate.conf', content: 'x=1\n' }], commands: [['false']] }]);
    expect(failed.status).toBe(1);
    expect(m.read('/etc/systemd/system/redis-server.service')).toBeUndefined();
    expect(m.systemctl()).toEqual(['is-enabled redis-server.service', 'is-active redis-server.service', 'daemon-reload',
      'show -p InvocationID --value redis-server.service', 'restart redis-server.service', 'daemon-reload', 'try-restart redis-server.service']);
    expect(m.apply([app('a=1\n'), redis]).status).toBe(0);
    const dropped = m.apply([app('a=1\n')]);
    expect(dropped.status).toBe(0);
    expect(dropped.output).toContain("redis-server.service has Debian's unit file again, the bundle's is gone: restarted with it if it runs (systemctl disable --now redis-server.service if it should not run)");
    expect(m.read('/etc/systemd/system/redis-server.service')).toBeUndefined();
    expect(m.systemctl()).toEqual(['daemon-reload', 'try-restart redis-server.service']);
  });

  // Review: a rollback left running, with Debian's unit, a daemon the previous version did not run: one the failed
  // version's commands enabled and started (or its packages brought), such as a Redis with its stock configuration.
  test('a rollback puts a Debian unit the failed version overrode back as it was before: disabled and stopped', () => {
    const m = machine();
    fs.mkdirSync(path.join(m.root, 'lib/systemd/system'), { recursive: true });
    fs.writeFileSync(path.join(m.root, 'lib/systemd/system/redis-server.service'), '[Service]\nExecStart=/usr/bin/redis-server\n');
    fs.writeFileSync(path.join(m.dir, 'bin/systemctl'), `#!/bin/sh\necho "$*" >> ${m.dir}/systemctl.log\ncase "$1" in is-enabled) echo disabled; exit 1;; is-active) echo inactive; exit 3;; esac\nexit 0\n`);
    const redis: BundlePart = {
      name: 'redis',
      files: [{ path: '/etc/systemd/system/redis-server.service', content: '[Unit]\nDescription=Redis\n\n[Service]\nExecStart=/bin/true\n\n[Install]\nWantedBy=multi-user.target\n' }],
      commands: [['systemctl', 'enable', '--now', 'redis-server.service']],
    };
    m.apply([app('a=1\n')]);
    const failed = m.apply([app('a=1\n'), redis, { name: 'migrate', files: [{ path: '/etc/acme/migrate.conf', content: 'x=1\n' }], commands: [['false']] }]);
    expect(failed.status).toBe(1);
    expect(m.read('/etc/systemd/system/redis-server.service')).toBeUndefined();
    expect(m.systemctl()).toEqual(['is-enabled redis-server.service', 'is-active redis-server.service', 'daemon-reload',
      'show -p InvocationID --value redis-server.service', 'enable --now redis-server.service', 'daemon-reload', 'disable redis-server.service', 'stop redis-server.service']);
    expect(failed.output).toContain('redis-server.service put back as it was before the rollout (disabled, inactive)');
  });

  // Review: a Debian unit a package of the failed version brought (not-found before it) was disabled at the rollback,
  // its package's wants-link gone, silently: the package stays installed, and Debian enables a unit on its first
  // install only, so a later version relying on that found it disabled for good.
  test('a rollback says that a Debian unit a package of the failed version brought stays disabled, its package installed', () => {
    const m = machine();
    fs.mkdirSync(path.join(m.root, 'lib/systemd/system'), { recursive: true });
    const redis: BundlePart = {
      name: 'redis',
      files: [{ path: '/etc/systemd/system/redis-server.service', content: '[Unit]\nDescription=Redis\n\n[Service]\nExecStart=/bin/true\n' }],
      // What its package's install does: Debian's unit arrives.
      commands: [['sh', '-c', `printf '[Service]\\nExecStart=/usr/bin/redis-server\\n' > ${m.root}/lib/systemd/system/redis-server.service`]],
    };
    m.apply([app('a=1\n')]);
    const failed = m.apply([app('a=1\n'), redis, { name: 'migrate', files: [{ path: '/etc/acme/migrate.conf', content: 'x=1\n' }], commands: [['false']] }]);
    expect(failed.status).toBe(1);
    expect(m.systemctl()).toEqual(['daemon-reload', 'daemon-reload', 'disable redis-server.service', 'stop redis-server.service']);
    expect(failed.output).toContain('redis-server.service came with a package of the version rolled back, which stays installed: the unit stays disabled for good '
      + '(systemctl enable --now redis-server.service, or deploy a version whose commands do, if it should run)');
  });

  // Review: a Debian unit that had failed before the rollout (meant to run) was stopped at the rollback, and never
  // restarted: one the failed version started again now runs on, restarted with Debian's file.
  test('a rollback neither stops nor leaves on the bundle\'s file a Debian unit that had failed before the rollout', () => {
    const m = machine();
    fs.mkdirSync(path.join(m.root, 'lib/systemd/system'), { recursive: true });
    fs.writeFileSync(path.join(m.root, 'lib/systemd/system/redis-server.service'), '[Service]\nExecStart=/usr/bin/redis-server\n');
    systemctlWithInvocations(m, 'failed');
    const redis: BundlePart = {
      name: 'redis',
      files: [{ path: '/etc/systemd/system/redis-server.service', content: '[Unit]\nDescription=Redis\n\n[Service]\nExecStart=/bin/true\n' }],
      commands: [['systemctl', 'restart', 'redis-server.service']],
    };
    m.apply([app('a=1\n')]);
    const failed = m.apply([app('a=1\n'), redis, { name: 'migrate', files: [{ path: '/etc/acme/migrate.conf', content: 'x=1\n' }], commands: [['false']] }]);
    expect(failed.status).toBe(1);
    expect(m.systemctl().filter((line) => !/^(is-|show|daemon-reload)/.test(line))).toEqual(['restart redis-server.service', 'try-restart redis-server.service']);
    expect(failed.output).toContain('redis-server.service had failed before the rollout: not stopped (systemctl status redis-server.service)');
  });

  // Review: a rollback restarted a Debian unit the failed version overrode when that part's commands ran, counted as run
  // before the first started (a failure before the restart, or commands that never restart it, restarted it anyway), and
  // never when another part's commands restarted it. It now asks systemd whether the unit started again since the switch.
  test('a rollback restarts a Debian unit the failed version overrode only when it started again since the switch, whoever started it', () => {
    const m = machine();
    fs.mkdirSync(path.join(m.root, 'lib/systemd/system'), { recursive: true });
    fs.writeFileSync(path.join(m.root, 'lib/systemd/system/redis-server.service'), '[Service]\nExecStart=/usr/bin/redis-server\n');
    systemctlWithInvocations(m);
    const redis = (commands: string[][]): BundlePart => ({
      name: 'redis',
      files: [{ path: '/etc/systemd/system/redis-server.service', content: '[Unit]\nDescription=Redis\n\n[Service]\nExecStart=/bin/true\n' }],
      commands,
    });
    const migrate: BundlePart = { name: 'migrate', files: [{ path: '/etc/acme/migrate.conf', content: 'x=1\n' }], commands: [['false']] };
    const restarts = () => m.systemctl().filter((line) => line.startsWith('try-restart'));
    m.apply([app('a=1\n')]);
    // Its part's commands ran, and never restarted it.
    expect(m.apply([app('a=1\n'), redis([['true']]), migrate]).status).toBe(1);
    expect(restarts()).toEqual([]);
    // Another part restarted it, with the new file.
    expect(m.apply([app('a=1\n'), redis([]), { name: 'cache', files: [{ path: '/etc/acme/cache.conf', content: 'x=1\n' }], commands: [['systemctl', 'restart', 'redis-server.service']] }, migrate]).status).toBe(1);
    expect(restarts()).toEqual(['try-restart redis-server.service']);
  });

  // Review: pending.json kept the units' states without the InvocationID taken at the switch, so an activation cut short
  // after a command restarted the unit was resumed with the ID of that restart: the resumed apply's rollback saw no
  // change and left the unit running the bundle's ExecStart while Debian's file was back.
  test('a rollback of a resumed activation restarts a Debian unit restarted before the agent was killed', () => {
    const m = machine();
    fs.mkdirSync(path.join(m.root, 'lib/systemd/system'), { recursive: true });
    fs.writeFileSync(path.join(m.root, 'lib/systemd/system/redis-server.service'), '[Service]\nExecStart=/usr/bin/redis-server\n');
    const once = path.join(m.dir, 'kill-once');
    systemctlWithInvocations(m);
    const parts: BundlePart[] = [app('a=1\n'),
      { name: 'redis', files: [{ path: '/etc/systemd/system/redis-server.service', content: '[Unit]\nDescription=Redis\n\n[Service]\nExecStart=/bin/true\n' }] },
      // Restarts the unit with the bundle's file, then the agent is killed; resumed, the part fails.
      { name: 'cache', files: [{ path: '/etc/acme/cache.conf', content: 'x=1\n' }],
        commands: [['sh', '-c', `if [ -e ${once} ]; then rm ${once}; systemctl restart redis-server.service; kill -9 $PPID; fi; exit 1`]] }];
    m.apply([app('a=1\n')]);
    fs.writeFileSync(once, '');
    expect(m.apply(parts).status).not.toBe(0);
    m.systemctl();
    const resumed = m.apply(parts);
    expect(resumed.status).toBe(1);
    expect(resumed.output).toMatch(/finishing an activation that did not end/);
    expect(m.read('/etc/systemd/system/redis-server.service')).toBeUndefined();
    expect(m.systemctl()).toContain('try-restart redis-server.service');
  });

  // Review: a rollback try-restarted a whole file's Debian unit that NEVER_RESTARTED names (nftables.service, whose
  // restart flushes every table but the host tables) when it had started again since the switch.
  test('a rollback never restarts nftables.service whose whole file the failed version brought', () => {
    const m = machine();
    fs.mkdirSync(path.join(m.root, 'lib/systemd/system'), { recursive: true });
    fs.writeFileSync(path.join(m.root, 'lib/systemd/system/nftables.service'), '[Service]\nExecStart=/usr/sbin/nft -f /etc/nftables.conf\n');
    systemctlWithInvocations(m);
    m.apply([app('a=1\n')]);
    const failed = m.apply([app('a=1\n'),
      { name: 'tables', files: [{ path: '/etc/systemd/system/nftables.service', content: '[Service]\nExecStart=/bin/true\n' }], commands: [['systemctl', 'restart', 'nftables.service']] },
      { name: 'migrate', files: [{ path: '/etc/acme/migrate.conf', content: 'x=1\n' }], commands: [['false']] }]);
    expect(failed.status).toBe(1);
    expect(m.read('/etc/systemd/system/nftables.service')).toBeUndefined();
    expect(m.systemctl().filter((line) => line.startsWith('try-restart'))).toEqual([]);
    expect(failed.output).toContain("nftables.service lost the bundle's file over Debian's: not restarted (its restart removes every nftables table but the host tables)");
  });

  // Review: only a Debian unit of the same name counted as overridden: a file over an instance of a Debian template
  // (postgresql@15-main.service over postgresql@.service) was disabled when it went, which stopped the database.
  test("an instance of a Debian template the bundle overrode whole goes back to Debian's template and is restarted, never disabled", () => {
    const m = machine();
    fs.mkdirSync(path.join(m.root, 'usr/lib/systemd/system'), { recursive: true });
    fs.writeFileSync(path.join(m.root, 'usr/lib/systemd/system/postgresql@.service'), '[Service]\nExecStart=/usr/bin/pg_ctlcluster %i start\n');
    const postgres: BundlePart = {
      name: 'postgres',
      files: [{ path: '/etc/systemd/system/postgresql@15-main.service', content: '[Unit]\nDescription=PostgreSQL\n\n[Service]\nExecStart=/bin/true\n' }],
      commands: [['systemctl', 'restart', 'postgresql@15-main.service']],
    };
    expect(m.apply([app('a=1\n'), postgres]).status).toBe(0);
    expect(m.apply([app('a=1\n')]).status).toBe(0);
    expect(m.read('/etc/systemd/system/postgresql@15-main.service')).toBeUndefined();
    expect(m.systemctl()).toEqual(['daemon-reload', 'try-restart postgresql@15-main.service']);
  });

  // Review: the Debian unit was restarted before the previous commands ran again, and a failed restart (the failed
  // version's daemon still on its port) ended the rollback there: the previous commands never ran, while the output
  // said the machine kept running the previous version.
  test("a Debian unit that fails to restart at a rollback still lets the previous version's commands run again", () => {
    const m = machine();
    const ran = path.join(m.dir, 'ran');
    fs.mkdirSync(path.join(m.root, 'lib/systemd/system'), { recursive: true });
    fs.writeFileSync(path.join(m.root, 'lib/systemd/system/redis-server.service'), '[Service]\nExecStart=/usr/bin/redis-server\n');
    fs.writeFileSync(path.join(m.dir, 'bin/systemctl'), `#!/bin/sh\necho "$*" >> ${m.dir}/systemctl.log\n[ "$1" = try-restart ] && { echo "Job for $2 failed"; exit 1; }\nexit 0\n`);
    const worker = (conf: string): BundlePart => ({ name: 'worker', files: [{ path: '/etc/acme/worker.conf', content: conf }], commands: [['sh', '-c', `cat ${m.root}/etc/acme/worker.conf >> ${ran}`]] });
    const redis: BundlePart = {
      name: 'redis',
      files: [{ path: '/etc/systemd/system/redis-server.service', content: '[Unit]\nDescription=Redis\n\n[Service]\nExecStart=/bin/true\n' }],
      commands: [['systemctl', 'restart', 'redis-server.service']],
    };
    expect(m.apply([worker('x=1\n')]).status).toBe(0);
    const failed = m.apply([worker('x=2\n'), redis, { name: 'migrate', files: [{ path: '/etc/acme/migrate.conf', content: 'x=1\n' }], commands: [['false']] }]);
    expect(failed.status).toBe(1);
    expect(m.read('/etc/acme/worker.conf')).toBe('x=1\n');
    expect(fs.readFileSync(ran, 'utf8')).toBe('x=1\nx=2\nx=1\n');
    expect(failed.output).toMatch(/after the rollback, restart redis-server\.service failed: systemctl try-restart exited 1:\n *\| Job for redis-server\.service failed/);
    expect(failed.output).not.toMatch(/restoring the previous version also failed/);
  });

  test('fails on a bundle that does not match the expected version, before touching anything', () => {
    const m = machine();
    const first = m.apply([app('a=1\n')]);
    const run = m.apply([app('a=2\n')], {}, { version: `sha256:${'0'.repeat(64)}` });
    expect(run.status).toBe(1);
    expect(run.output).toMatch(/FAILED to verify the checksum: the bundle received hashes to sha256:[0-9a-f]{12}, the deploy expected sha256:000000000000/);
    expect(run.output).toContain(`the machine keeps running ${first.version}`);
    expect(m.read('/etc/acme/app.conf')).toBe('a=1\n');
    expect(run.incomingLeft).toBe(false);
  });

  test('withholds the output of a check that fails on a file with deploy-time inputs', () => {
    const m = machine();
    const run = m.apply([{ name: 'secrets', files: [{ path: '/etc/acme/secret.env', content: deployTime(), check: ['sh', '-c', 'cat "$0"; exit 3', '{}'] }] }],
      { '/etc/acme/secret.env': secret });
    expect(run.status).toBe(1);
    expect(run.output).toMatch(/FAILED to check \/etc\/acme\/secret.env: sh exited 3 on the staged file:\n\(output withheld: the file holds deploy-time inputs\)/);
    expect(run.output).not.toContain('s3cr3t');
    expect(m.read('/etc/acme/secret.env')).toBeUndefined();
    // Nor does a staged copy of it stay behind.
    expect(fs.existsSync(path.join(m.root, 'var/lib/sovereign/rollout/releases'))).toBe(false);
  });

  test('a command that fails in a later part rolls back every file of the rollout and re-activates the previous version', () => {
    const m = machine();
    m.apply([app('a=1\n'), jobs('daily')]);
    const failing: BundlePart = { name: 'jobs', files: jobs('weekly').files, commands: [['sh', '-c', 'echo "unit acme-job.timer: bad calendar" >&2; exit 4']] };
    const run = m.apply([app('a=2\n'), failing]);
    expect(run.status).toBe(1);
    expect(run.output).toMatch(/FAILED to activate "jobs": sh -c .* exited 4:\n {2}\| unit acme-job.timer: bad calendar/);
    expect(m.read('/etc/acme/app.conf')).toBe('a=1\n');
    expect(m.read('/etc/systemd/system/acme-job.timer')).toContain('OnCalendar=daily');
    // The new app config was activated, then the previous one was put back and activated again.
    expect(m.systemctl()).toEqual(['daemon-reload', 'restart acme.service', 'daemon-reload', 'restart acme.service', 'enable --now acme-job.timer']);
    expect(m.read('/var/lib/prometheus/node-exporter/sovereign_rollout.prom')).toMatch(/sovereign_rollout_success 0/);
  });

  // Review: the agent wrote its metric through the path of node exporter's directory, which sits in prometheus's
  // /var/lib/prometheus: prometheus could swap it for a symlink, and root made and renamed files in its target.
  test("the rollout's metric is never written through a symlink planted where node exporter's directory was", () => {
    const m = machine();
    const textfiles = path.join(m.root, 'var/lib/prometheus/node-exporter');
    const victim = path.join(m.dir, 'victim');
    fs.mkdirSync(victim);
    fs.mkdirSync(path.dirname(textfiles), { recursive: true });
    fs.symlinkSync(victim, textfiles);
    const run = m.apply([app('a=1\n')]);
    expect(run.status).toBe(0);
    expect(run.output).toMatch(/sovereign-rollout: \/var\/lib\/prometheus\/node-exporter cannot be opened as a directory without following a symlink \((Not a directory|Too many levels of symbolic links)\): sovereign_rollout\.prom not written \(remove it, then deploy again\)/);
    expect(fs.readdirSync(victim)).toEqual([]);
    expect(fs.lstatSync(textfiles).isSymbolicLink()).toBe(true);
    // Once it is gone, the next rollout writes the metric in a directory of its own.
    fs.rmSync(textfiles);
    expect(m.apply([app('a=2\n')]).status).toBe(0);
    expect(m.read('/var/lib/prometheus/node-exporter/sovereign_rollout.prom')).toMatch(/sovereign_rollout_success 1/);
    expect(fs.lstatSync(textfiles).isDirectory()).toBe(true);
  });

  // Review: a rollback ran the previous commands only of the parts whose files it restored: a part whose commands alone
  // changed had run its new ones (its daemon, since then, stopped before them) and was not activated again as it was.
  test('a rollback runs the previous commands of a part whose commands alone changed', () => {
    const m = machine();
    const activations = path.join(m.dir, 'activations');
    const web = (version: string): BundlePart => ({
      name: 'web',
      files: [{ path: '/etc/acme/web.conf', content: 'x=1\n' }],
      commands: [['sh', '-c', `echo ${version} >> ${activations}`]],
    });
    const failing: BundlePart = { name: 'migrate', files: [{ path: '/etc/acme/migrate.conf', content: 'x=1\n' }], commands: [['false']] };
    m.apply([web('v1')]);
    expect(m.apply([web('v2'), failing]).status).toBe(1);
    expect(fs.readFileSync(activations, 'utf8')).toBe('v1\nv2\nv1\n');
  });

  test('keeps no copy of a secret once a rollout has ended: a clone of the disk carries only the live files', () => {
    const m = machine();
    m.apply([app('a=1\n'), secrets()], { '/etc/acme/secret.env': secret });
    m.apply([app('a=1\n'), secrets()], { '/etc/acme/secret.env': 'TOKEN=rotated-0002' });
    const state = path.join(m.root, 'var/lib/sovereign/rollout');
    // The staged copy and the replaced one (the previous secret) went with the activation that needed them.
    expect(fs.readdirSync(state).sort()).toEqual(['current-bundle.json', 'current.json', 'lock']);
    const everything = fs.readdirSync(m.root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
      .map((e) => fs.readFileSync(path.join(e.parentPath, e.name), 'utf8'));
    expect(everything.filter((text) => text.includes('s3cr3t'))).toEqual([]);
    expect(everything.filter((text) => text.includes('rotated-0002'))).toHaveLength(1);
  });

  test('a command that cannot be run (a script left at mode 0644) fails the rollout and rolls back; the fixed retry activates', () => {
    const m = machine();
    m.apply([app('a=1\n')]);
    const hook = (mode: string): BundlePart => ({
      name: 'migrate',
      files: [{ path: '/usr/local/sbin/acme-migrate', content: '#!/bin/sh\nexit 0\n', permissions: mode }],
      commands: [[path.join(m.root, 'usr/local/sbin/acme-migrate')]],
    });
    const run = m.apply([hook('0644'), app('a=2\n')]);
    expect(run.status).toBe(1);
    expect(run.output).toMatch(/FAILED to activate "migrate": .*acme-migrate exited 126:\n {2}\| .*acme-migrate: cannot be run: Permission denied/);
    expect(run.output).not.toMatch(/Traceback/);
    expect(m.read('/etc/acme/app.conf')).toBe('a=1\n');
    expect(m.read('/var/lib/prometheus/node-exporter/sovereign_rollout.prom')).toMatch(/sovereign_rollout_success 0/);
    const retry = m.apply([hook('0755'), app('a=2\n')]);
    expect(retry.status).toBe(0);
    expect(m.read('/etc/acme/app.conf')).toBe('a=2\n');
    expect(m.systemctl()).toContain('restart acme.service');
  });

  test('an activation cut short (the agent killed) is finished by the next apply of the same version', () => {
    const m = machine();
    const once = path.join(m.dir, 'kill-once');
    const restarts = path.join(m.dir, 'restarts');
    const web = (workers: number): BundlePart => ({
      name: 'web',
      files: [{ path: '/etc/acme/web.conf', content: `workers=${workers}\n` }],
      // Killed where an OOM kill or a power cut would stop it: after the switch, before the restart.
      commands: [['sh', '-c', `if [ -e ${once} ]; then rm ${once}; kill -9 $PPID; exit 1; fi; cat ${m.root}/etc/acme/web.conf >> ${restarts}`]],
    });
    m.apply([web(2)]);
    fs.writeFileSync(once, '');
    const killed = m.apply([web(8)]);
    expect(killed.status).not.toBe(0);
    expect(m.read('/etc/acme/web.conf')).toBe('workers=8\n');
    expect(m.status()).toMatch(/an activation of 1 files did not end: the next deploy finishes it/);
    const retry = m.apply([web(8)]);
    expect(retry.status).toBe(0);
    expect(retry.output).toMatch(/finishing an activation that did not end \(1 files\)/);
    expect(fs.readFileSync(restarts, 'utf8')).toBe('workers=2\nworkers=8\n');
    expect(m.apply([web(8)]).output).toMatch(/nothing to do/);
    expect(fs.existsSync(path.join(m.root, 'var/lib/sovereign/rollout/releases'))).toBe(false);
  });

  test('a rollback after an activation cut short restores the files of the last activation that ended', () => {
    const m = machine();
    const once = path.join(m.dir, 'kill-once');
    const web = (workers: number, fail = false): BundlePart => ({
      name: 'web',
      files: [{ path: '/etc/acme/web.conf', content: `workers=${workers}\n` }],
      commands: [['sh', '-c', `if [ -e ${once} ]; then rm ${once}; kill -9 $PPID; fi; ${fail ? 'exit 3' : 'true'}`]],
    });
    m.apply([web(2)]);
    fs.writeFileSync(once, '');
    m.apply([web(8)]);
    const run = m.apply([web(16, true)]);
    expect(run.status).toBe(1);
    expect(m.read('/etc/acme/web.conf')).toBe('workers=2\n');
  });

  // A step that hangs is stopped at the timeout and rolled back. Killing only the command left what its script had
  // started (a psql, a restic, a sleep) running: here one holds the lock the previous version's activation takes, so the
  // rollback failed too, and the survivors kept running after the deploy had failed.
  test('a command that times out is stopped with everything it started, so the rollback finds no lock held and no process left', () => {
    const m = machine();
    const lock = path.join(m.dir, 'repository.lock');
    const pids = path.join(m.dir, 'descendants');
    const migrate = (script: string): BundlePart => ({
      name: 'migrate',
      files: [{ path: '/usr/local/sbin/acme-migrate', content: `#!/bin/bash\n${script}\n`, permissions: '0755' }],
      commands: [[path.join(m.root, 'usr/local/sbin/acme-migrate')]],
    });
    // The previous version's activation takes the lock, and fails when something else holds it.
    expect(m.apply([migrate(`flock -n ${lock} true`)]).status).toBe(0);
    // A grandchild holding the lock, one a level further down, and an orphan that left the process group (a daemon's
    // setsid, its parent gone): each hangs.
    const hanging = migrate([
      `flock ${lock} sh -c 'echo $$ >> ${pids}; exec sleep 300' &`,
      `bash -c 'sleep 300 & echo $! >> ${pids}; wait' &`,
      `(setsid sleep 300 & echo $! >> ${pids})`,
      'wait',
    ].join('\n'));
    try {
      const run = m.apply([hanging], {}, { commandTimeout: Duration.seconds(3) });
      expect(run.status).toBe(1);
      expect(run.output).toMatch(/FAILED to activate "migrate": .*acme-migrate exited 124:\n {2}\| timed out after 3 s/);
      expect(run.output).not.toMatch(/restoring the previous version also failed/);
      expect(m.read('/usr/local/sbin/acme-migrate')).toContain(`flock -n ${lock} true`);
      const started = fs.readFileSync(pids, 'utf8').trim().split('\n');
      expect(started).toHaveLength(3);
      expect(started.filter((pid) => alivePid(pid))).toEqual([]);
      expect(spawnSync('flock', ['-n', lock, 'true']).status).toBe(0);
    } finally {
      killListed(pids);
    }
  });

  // A step that starts a daemon with `&` and no redirection left it holding the step's output: the agent read that output
  // to its end, so it waited out the timeout although the step had exited 0, then killed the daemon and rolled back.
  test('a step that leaves a daemon holding its output is judged by its own exit: the daemon is named, keeps running, and may still write', () => {
    const m = machine();
    const ticks = path.join(m.dir, 'ticks');
    const pidFile = path.join(m.dir, 'daemon.pid');
    const worker: BundlePart = {
      name: 'worker',
      files: [{ path: '/etc/acme/worker.conf', content: 'x=1\n' }],
      // Each tick is written to the step's output first: a daemon whose writes failed (SIGPIPE) would count no more.
      commands: [['sh', '-c', `while echo tick && echo >> ${ticks}; do sleep 0.1; done & echo $! > ${pidFile}; echo started`]],
    };
    try {
      const run = m.apply([app('a=1\n'), worker], {}, { commandTimeout: Duration.seconds(20) });
      expect([run.status, run.output]).toEqual([0, expect.not.stringMatching(/timed out|rolling back/)]);
      const pid = fs.readFileSync(pidFile, 'utf8').trim();
      // The daemon among what holds its output, in pid order: its `sleep 0.1` may come first once pids have wrapped.
      expect(run.output).toMatch(new RegExp(`sh -c while echo tick .* exited 0; (pid \\d+ \\(\\w+\\), )*pid ${pid} \\(sh\\).* it left in the background still held its output 2 s later: it keeps running`));
      expect(m.read('/etc/acme/worker.conf')).toBe('x=1\n');
      // The agent has exited; the daemon still runs and still writes to the output it was given.
      const count = fs.readFileSync(ticks, 'utf8').length;
      waitFor(() => fs.readFileSync(ticks, 'utf8').length >= count + 3, 'three more ticks from the daemon after the agent exited');
      expect(alivePid(pid)).toBe(true);
    } finally {
      if (fs.existsSync(pidFile)) signal(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGKILL');
    }
  });

  // Review: when what held the output ended between the drain and the look at /proc, the log said "a process that ended
  // meanwhile … keeps running, unsupervised". The agent's own hand_over, on a command whose output nothing holds any more.
  test('a background process that ended before the agent looked is said to have ended, not to keep running', () => {
    const harness = [
      'import subprocess, sys',
      'agent = {"__name__": "sovereign_rollout"}',
      'exec(compile(sys.stdin.read(), "sovereign-rollout", "exec"), agent)',
      'p = subprocess.Popen(["true"], stdout=subprocess.PIPE)',
      'p.wait()',
      'agent["hand_over"](p, ["sh", "-c", "some-daemon &"])',
    ].join('\n');
    const run = spawnSync(MACHINE_PYTHON, ['-c', harness], { input: ROLLOUT_AGENT, encoding: 'utf8' });
    expect(run.stdout).toMatch(/sh -c some-daemon & exited 0; what it left in the background held its output 2 s later and has ended since/);
    expect(run.stdout).not.toMatch(/keeps running/);
  });

  // Review: write_atomic set the mode and owner of its temporary file by its name, which another process writing in the
  // directory could swap for a symlink (chmod and chown follow one) between the write and the rename.
  const onTheFd = "write_atomic sets the mode and owner on the open file, syncs it, then renames it: no chmod or chown by a name";
  testWithRealParts(hasStrace && isRoot, onTheFd, 'strace, and root (to give the file an owner)')(onTheFd, () => {
    const m = machine();
    const target = path.join(m.root, 'etc/acme/owned.conf');
    const trace = path.join(m.dir, 'strace.log');
    const harness = [
      'import sys',
      'agent = {"__name__": "sovereign_rollout"}',
      'exec(compile(sys.stdin.read(), "sovereign-rollout", "exec"), agent)',
      `agent["write_atomic"](${JSON.stringify(target)}, b"x=1\\n", 0o640, "nobody:nogroup")`,
    ].join('\n');
    const run = spawnSync('strace', ['-qq', '-f', '-o', trace, '-e', 'trace=chmod,fchmod,fchmodat,chown,fchown,fchownat,lchown,fsync,rename,renameat,renameat2', MACHINE_PYTHON, '-c', harness],
      { input: ROLLOUT_AGENT, encoding: 'utf8', env: { ...process.env, SOVEREIGN_ROOT: m.root } });
    expect([run.status, run.stderr]).toEqual([0, '']);
    const calls = fs.readFileSync(trace, 'utf8').split('\n').filter(Boolean).map((line) => line.replace(/^\d+\s+/, '').replace(/\(.*$/, ''));
    expect(calls).toEqual(['fchmod', 'fchown', 'fsync', expect.stringMatching(/^renameat2?$|^rename$/)]);
    const st = fs.statSync(target);
    expect([st.mode & 0o777, st.uid, fs.readFileSync(target, 'utf8')]).toEqual([0o640, 65534, 'x=1\n']);
  });

  // Review: write_atomic cut short (a crash between its mkstemp and its rename) left a randomly named .sovereign-rollout.*
  // file beside its target, which could hold a deploy-time secret: no deploy, nor a clone's lock-down, ever removed it.
  test("the next deploy removes what a write_atomic cut short left, and only that: regular files of its name, not through a symlink", () => {
    const m = machine();
    expect(m.apply([app('a=1\n')]).status).toBe(0);
    const conf = path.join(m.root, 'etc/acme');
    const state = path.join(m.root, 'var/lib/sovereign/rollout');
    // The crash, as it happens: the agent's own write_atomic, its rename never reached (the process ends there).
    const crash = (target: string) => spawnSync(MACHINE_PYTHON, ['-c', [
      'import os, sys',
      'agent = {"__name__": "sovereign_rollout"}',
      'exec(compile(sys.stdin.read(), "sovereign-rollout", "exec"), agent)',
      'os.replace = lambda *args: os._exit(9)',
      `agent["write_atomic"](${JSON.stringify(target)}, b"${secret}\\n", 0o600)`,
    ].join('\n')], { input: ROLLOUT_AGENT, encoding: 'utf8', env: { ...process.env, SOVEREIGN_ROOT: m.root } });
    expect(crash(path.join(conf, 'app.conf')).status).toBe(9);
    expect(crash(path.join(state, 'current.json')).status).toBe(9);
    const leftovers = (dir: string) => fs.readdirSync(dir).filter((n) => /^\.sovereign-rollout\.[a-z0-9_]{8}$/.test(n));
    const [left] = leftovers(conf);
    const [leftState] = leftovers(state);
    expect(fs.readFileSync(path.join(conf, left), 'utf8')).toBe(`${secret}\n`);
    // Look-alikes that are not write_atomic's: another length, a directory and a symlink of its name (to a file elsewhere).
    const victim = path.join(m.dir, 'victim');
    fs.writeFileSync(victim, 'kept\n');
    fs.writeFileSync(path.join(conf, '.sovereign-rollout.short'), 'kept\n');
    fs.mkdirSync(path.join(conf, '.sovereign-rollout.adirecto'));
    fs.symlinkSync(victim, path.join(conf, '.sovereign-rollout.asymlink'));
    // A deploy with nothing to switch removes them too: "deploy again" is what follows a crash.
    const run = m.apply([app('a=1\n')]);
    expect(run.status).toBe(0);
    expect(run.output).toContain(`removed /etc/acme/${left}, left by a write cut short`);
    expect(run.output).toContain(`removed /var/lib/sovereign/rollout/${leftState}, left by a write cut short`);
    expect(run.output).not.toContain(secret);
    expect(leftovers(conf).sort()).toEqual(['.sovereign-rollout.adirecto', '.sovereign-rollout.asymlink']);
    expect(fs.existsSync(path.join(conf, '.sovereign-rollout.short'))).toBe(true);
    expect(leftovers(state)).toEqual([]);
    expect(fs.readFileSync(victim, 'utf8')).toBe('kept\n');
    expect(m.read('/etc/acme/app.conf')).toBe('a=1\n');
    // A second deploy finds nothing to remove.
    expect(m.apply([app('a=1\n')]).output).not.toContain('left by a write cut short');
  });

  // Review: a process that ended between the agent's look at its stat and at its cgroup was recorded with an empty cgroup
  // (gone) or a zombie's (its v1 lines all say /): a group whose entries all held one spared every later member.
  test.each([['gone', true], ['a zombie', false]])('a process a step left that ends while the agent records it (%s) is not recorded', (_, reaped) => {
    const m = machine();
    const harness = [
      'import os, select, signal, sys',
      'agent = {"__name__": "sovereign_rollout"}',
      'exec(compile(sys.stdin.read(), "sovereign-rollout", "exec"), agent)',
      'agent["adopt_orphans"]()',
      'read = agent["cgroup_of"]',
      'def ends_first(pid):',
      '    fd = os.pidfd_open(pid)',
      '    os.kill(pid, signal.SIGKILL)',
      '    select.select([fd], [], [])',
      '    os.close(fd)',
      reaped ? '    os.waitpid(pid, 0)' : '',
      '    return read(pid)',
      'agent["cgroup_of"] = ends_first',
      'left = []',
      'print(agent["run"](["sh", "-c", "sleep 318 >/dev/null 2>&1 &"], left=left)[0], left)',
    ].join('\n');
    const run = spawnSync(MACHINE_PYTHON, ['-c', harness], { input: ROLLOUT_AGENT, encoding: 'utf8', env: { ...process.env, SOVEREIGN_ROOT: m.root } });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('0 []');
  });

  // Review: a step that starts a daemon with `&` started one more copy each time it ran again (the next change of its
  // part, a rollback): each kept running, unsupervised, beside the others, and none went with its part.
  test("a step's background daemon is stopped before its part runs again (a rollback too), and goes with its part", () => {
    const m = machine();
    const pids = path.join(m.dir, 'pids');
    const daemon = (name: string, conf: string): BundlePart => ({
      name,
      files: [{ path: `/etc/acme/${name}.conf`, content: conf }],
      commands: [['sh', '-c', `sleep 300 >/dev/null 2>&1 & echo ${name} $! >> ${pids}`]],
    });
    const started = () => fs.readFileSync(pids, 'utf8').trim().split('\n').map((line) => line.split(' '));
    const runningNames = () => started().filter(([, pid]) => alivePid(pid)).map(([name]) => name);
    try {
      expect(m.apply([daemon('worker', 'x=1\n')]).status).toBe(0);
      const again = m.apply([daemon('worker', 'x=2\n')]);
      expect(again.status).toBe(0);
      expect(runningNames()).toEqual(['worker']);
      expect(again.output).toContain(`stopped pid ${started()[0][1]} (sleep), left in the background by an earlier run of its part's steps: its part is activated again`);
      // The next change fails in a later part: the worker's new daemon goes when its previous commands run again, and
      // that of a part only the failed version had goes with it.
      const failing: BundlePart = { name: 'migrate', files: [{ path: '/etc/acme/migrate.conf', content: 'x=1\n' }], commands: [['false']] };
      const failed = m.apply([daemon('worker', 'x=3\n'), daemon('queue', 'y=1\n'), failing]);
      expect(failed.status).toBe(1);
      expect(failed.output).toMatch(/\(sleep\), left in the background by an earlier run of its part's steps: its part came with the version rolled back/);
      expect(started().map(([name]) => name)).toEqual(['worker', 'worker', 'worker', 'queue', 'worker']);
      expect(runningNames()).toEqual(['worker']);
      // The part leaves the bundle: its daemon goes with its files.
      expect(m.apply([app('a=1\n')]).status).toBe(0);
      expect(runningNames()).toEqual([]);
    } finally {
      killListed(pids);
    }
  });

  // Review: the daemon was handed over whatever the step's exit, so a failed step's new daemon kept running beside the
  // previous version's, which the rollback had started again (its ports and locks taken). Then only a process still
  // holding the failed step's output was stopped; one that redirected its own (\`daemon >/var/log/x 2>&1 &\`) kept
  // running after the rollback, as did one that left the step's session.
  test.each([
    ['holds its output', (pids: string) => `sleep 300 & echo $! >> ${pids}; exit 1`],
    ['redirected its output, or left the session', (pids: string) => `sleep 301 >/dev/null 2>&1 & echo $! >> ${pids}; setsid sleep 302 >/dev/null 2>&1 & echo $! >> ${pids}; exit 1`],
  ])('a step that fails and leaves a process that %s: that process is stopped before the rollback', (_, step) => {
    const m = machine();
    const pids = path.join(m.dir, 'pids');
    const worker = (fail: boolean): BundlePart => ({
      name: 'worker',
      files: [{ path: '/etc/acme/worker.conf', content: fail ? 'x=2\n' : 'x=1\n' }],
      commands: [['sh', '-c', fail ? step(pids) : 'true']],
    });
    m.apply([worker(false)]);
    try {
      const run = m.apply([worker(true)], {}, { commandTimeout: Duration.seconds(20) });
      expect(run.status).toBe(1);
      const left = fs.readFileSync(pids, 'utf8').trim().split('\n').sort((a, b) => Number(a) - Number(b));
      expect(left.filter((pid) => alivePid(pid))).toEqual([]);
      // Named by its program once stopped: a fork caught before its exec is still sh, one caught in setsid's still setsid.
      expect(run.output).toMatch(new RegExp(`exited 1; ${left.map((pid) => `pid ${pid} \\((sh|setsid|sleep)\\)`).join(', ')} it left in the background, stopped with it before the rollback`));
      expect(run.output).toMatch(/rolling back/);
      expect(m.read('/etc/acme/worker.conf')).toBe('x=1\n');
    } finally {
      killListed(pids);
    }
  });

  // Review: a stopped process was named by its command line (120 characters), so a secret a step passed its child as an
  // argument reached the deploy's output, and the CI log.
  test("a failed step's stopped processes are named by their program, never their arguments", () => {
    const m = machine();
    const pids = path.join(m.dir, 'pids');
    fs.writeFileSync(path.join(m.dir, 'token'), secret);
    const step = `sh -c 'sleep 303; :' sh "$(cat ${m.dir}/token)" >/dev/null 2>&1 & echo $! >> ${pids}; exit 1`;
    try {
      const run = m.apply([{ name: 'worker', files: [{ path: '/etc/acme/worker.conf', content: 'x=1\n' }], commands: [['sh', '-c', step]] }],
        {}, { commandTimeout: Duration.seconds(20) });
      expect(run.status).toBe(1);
      expect(run.output).toMatch(new RegExp(`pid ${fs.readFileSync(pids, 'utf8').trim()} \\(sh\\)`));
      expect(run.output).not.toContain('s3cr3t');
    } finally {
      killListed(pids);
    }
  });

  // Review: the rollback stopped what the failed version's steps left only for parts the previous version lacked, and
  // re-ran the previous commands of the others: a part the previous version had without commands ran none, so the daemon
  // the failed version's step started for it kept running beside the previous version.
  test("a rollback stops the daemon of a part whose previous version had no commands", () => {
    const m = machine();
    const pids = path.join(m.dir, 'pids');
    const conf = { path: '/etc/acme/x.conf', content: 'x=1\n' };
    m.apply([{ name: 'x', files: [conf] }]);
    try {
      const failed = m.apply([
        { name: 'x', files: [conf], commands: [['sh', '-c', `sleep 311 >/dev/null 2>&1 & echo $! >> ${pids}`]] },
        { name: 'migrate', files: [{ path: '/etc/acme/migrate.conf', content: 'x=1\n' }], commands: [['false']] },
      ]);
      expect(failed.status).toBe(1);
      expect(fs.readFileSync(pids, 'utf8').trim().split('\n').filter((pid) => alivePid(pid))).toEqual([]);
    } finally {
      killListed(pids);
    }
  });

  // Review: only a part that left the bundle had its daemon stopped; one that kept its name but dropped its commands ran
  // none again, so what its earlier steps left kept running, for good.
  test("a part that keeps its name but drops its commands has what its steps left running stopped", () => {
    const m = machine();
    const pids = path.join(m.dir, 'pids');
    try {
      expect(m.apply([{ name: 'x', files: [{ path: '/etc/acme/x.conf', content: 'x=1\n' }], commands: [['sh', '-c', `sleep 313 >/dev/null 2>&1 & echo $! >> ${pids}`]] }]).status).toBe(0);
      const run = m.apply([{ name: 'x', files: [{ path: '/etc/acme/x.conf', content: 'x=2\n' }] }]);
      expect(run.status).toBe(0);
      expect(fs.readFileSync(pids, 'utf8').trim().split('\n').filter((pid) => alivePid(pid))).toEqual([]);
      expect(run.output).toMatch(/stopped pid \d+ \(sleep\), left in the background by an earlier run of its part's steps: its part left the bundle, or has no commands now/);
    } finally {
      killListed(pids);
    }
  });

  // Review: a part that left the bundle (renamed, its daemon moved to another part) had its daemon stopped only after the
  // new parts' commands ran, so the new copy started while the old one held its port.
  test("a part's daemon goes before the commands of the bundle that drops the part run; a rollback starts it again", () => {
    const m = machine();
    const pids = path.join(m.dir, 'pids');
    const seen = path.join(m.dir, 'seen');
    const started = () => fs.readFileSync(pids, 'utf8').trim().split('\n').map((line) => line.split(' '));
    const old: BundlePart = { name: 'old', files: [{ path: '/etc/acme/old.conf', content: 'x=1\n' }], commands: [['sh', '-c', `sleep 312 >/dev/null 2>&1 & echo old $! >> ${pids}`]] };
    // What of the old part's daemons runs when the new part's step runs.
    const renamed: BundlePart = {
      name: 'new',
      files: [{ path: '/etc/acme/new.conf', content: 'x=1\n' }],
      commands: [['sh', '-c', `for p in $(cut -d' ' -f2 ${pids}); do awk '$3 != "Z" { print $1 }' /proc/$p/stat 2>/dev/null; done > ${seen}`]],
    };
    try {
      expect(m.apply([old]).status).toBe(0);
      const failed = m.apply([renamed, { name: 'migrate', files: [{ path: '/etc/acme/migrate.conf', content: 'x=1\n' }], commands: [['false']] }]);
      expect(failed.status).toBe(1);
      expect(fs.readFileSync(seen, 'utf8')).toBe('');
      // The rollback ran the old part's commands again: its daemon runs, once.
      expect(started().filter(([, pid]) => alivePid(pid)).map(([name]) => name)).toEqual(['old']);
      expect(started()).toHaveLength(2);
    } finally {
      killListed(pids);
    }
  });

  // Review: only the recorded processes were stopped: what a recorded wrapper forked later (`sh -c 'sleep 2; daemon' &`)
  // was orphaned when the wrapper went, and kept running beside the next copy.
  test("what a step's background process forks after the step ended goes with it, found by its process group", () => {
    const m = machine();
    const [go, out, listed] = [path.join(m.dir, 'go'), path.join(m.dir, 'out'), path.join(m.dir, 'pids')];
    const worker = (conf: string): BundlePart => ({
      name: 'worker',
      files: [{ path: '/etc/acme/worker.conf', content: conf }],
      // The wrapper forks its daemon once the step has ended and the agent recorded what it left.
      commands: [['sh', '-c', `sh -c 'echo $$ >> ${listed}; read x < ${go}; sleep 314 & echo $! > ${out}; echo $! >> ${listed}; wait' >/dev/null 2>&1 &`]],
    });
    try {
      for (const fifo of [go, out]) expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
      expect(m.apply([worker('x=1\n')]).status).toBe(0);
      writeFifo(go, 'go');
      const daemon = readFifo(out);
      expect(alivePid(daemon)).toBe(true);
      const again = m.apply([worker('x=2\n')]);
      expect(again.status).toBe(0);
      expect(alivePid(daemon)).toBe(false);
      expect(again.output).toContain(`stopped pid ${daemon} (sleep)`);
    } finally {
      killListed(listed);
    }
  });

  // Review: the recorded processes survived a reboot, or came with a snapshot the server was built from: start times count
  // from the boot, so a pid and start time there may name another process, which the next run of the part's steps killed.
  // Review: the groups were read once, before SIGTERM: what a process forked into its group during the grace (a TERM
  // trap, a supervisor that respawns) got no signal and ran on, no longer recorded.
  test('what joins a recorded process group while it is being stopped (a TERM trap that forks) is stopped too', () => {
    const m = machine();
    const pids = path.join(m.dir, 'pids');
    const worker = (conf: string): BundlePart => ({
      name: 'worker',
      files: [{ path: '/etc/acme/worker.conf', content: conf }],
      commands: [['sh', '-c', `sh -c 'trap "sleep 331 >/dev/null 2>&1 & echo \\$! >> ${pids}; exit" TERM; echo $$ >> ${pids}; while :; do sleep 1; done' >/dev/null 2>&1 &`]],
    });
    try {
      expect(m.apply([worker('x=1\n')]).status).toBe(0);
      const again = m.apply([worker('x=2\n')]);
      expect(again.status).toBe(0);
      const [first, forked] = fs.readFileSync(pids, 'utf8').trim().split('\n');
      expect([alivePid(first), alivePid(forked)]).toEqual([false, false]);
      // Named as it was when stopped: the trap's fork may not have run sleep yet (a loaded machine failed on that once).
      expect(again.output).toMatch(new RegExp(`stopped pid ${forked} \\((sleep|sh)\\)`));
    } finally {
      killListed(pids);
    }
  });

  // Review: a recorded process stopped by SIGSTOP (a job stopped by hand) acted on no SIGTERM: it sat out the 10 s and
  // was SIGKILLed, so its TERM handler (its shutdown: a lock file, a flush) never ran.
  test("a stopped daemon a step left is continued after its SIGTERM, so that its shutdown runs before SIGKILL", () => {
    const m = machine();
    const [pids, shutdown, ready] = ['pids', 'shutdown', 'ready'].map((name) => path.join(m.dir, name));
    expect(spawnSync('mkfifo', [ready]).status).toBe(0);
    const daemon = `import os, signal, sys\ndef term(*_):\n    open("${shutdown}", "w").write("clean")\n    sys.exit(0)\nsignal.signal(signal.SIGTERM, term)\nopen("${pids}", "a").write("%d\\n" % os.getpid())\nopen("${ready}", "w").write("ready\\n")\nwhile True: signal.pause()`;
    fs.writeFileSync(path.join(m.dir, 'daemon.py'), daemon);
    const worker = (conf: string): BundlePart => ({
      name: 'worker',
      files: [{ path: '/etc/acme/worker.conf', content: conf }],
      // The daemon has set its handler and written its pid before the step ends.
      commands: [['sh', '-c', `${MACHINE_PYTHON} ${m.dir}/daemon.py >/dev/null 2>&1 & read x < ${ready}`]],
    });
    try {
      // A bounded command time: a daemon that died before it opened `ready` fails the step, never hangs it.
      const commandTimeout = Duration.seconds(30);
      expect(m.apply([worker('x=1\n')], {}, { commandTimeout }).status).toBe(0);
      const pid = fs.readFileSync(pids, 'utf8').trim();
      process.kill(pidOf(pid), 'SIGSTOP');
      waitFor(() => statFields(pid)?.[0] === 'T', 'the daemon stopped');
      const again = m.apply([worker('x=2\n')], {}, { commandTimeout });
      expect(again.status).toBe(0);
      expect(alivePid(pid)).toBe(false);
      expect(fs.existsSync(shutdown) ? fs.readFileSync(shutdown, 'utf8') : 'SIGKILLed').toBe('clean');
    } finally {
      killListed(pids);
    }
  });

  /**
   * Records `pid` (in process group `pgid`) as left running by the part "worker"'s steps, as the agent records what a
   * step left: by pid and start time, in its group, from its cgroup; beside what is recorded already (for every part)
   * unless `alone`.
   */
  function recordAsLeft(m: Machine, pid: string, pgid: number, program: string, alone = true): void {
    const file = path.join(m.root, 'var/lib/sovereign/rollout/step-processes.json');
    const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const start = Number(statFields(pid)![19]);
    const parts = alone ? {} : JSON.parse(fs.readFileSync(file, 'utf8')).parts;
    const entries = parts.worker ?? [];
    entries.push([Number(pid), start, program, pgid, fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8')]);
    fs.writeFileSync(file, JSON.stringify({ boot, parts: { ...parts, worker: entries } }));
  }

  /**
   * A supervisor outside a recorded group that forks into it, recorded as the agent records a daemon its part's step
   * left: in its group, from its cgroup. The daemon is the supervisor's child in a group of its own. Its SIGTERM handler
   * asks the supervisor for a child in its group and exits once it is there, so the first round finds one whatever the
   * load; with `respawn`, each child that ends is replaced in that group, which the daemon's unreaped zombie keeps.
   * With `late`, the daemon exits at SIGTERM without asking; the supervisor keeps it unreaped, and forks its one child
   * into its group once told through the fifo `go` (after the agent's stop), saying so through the fifo `out`.
   */
  function supervised(m: Machine, mode: 'respawn' | 'once' | 'late') {
    const [pids, go, out] = ['pids', 'go', 'out'].map((name) => path.join(m.dir, name));
    if (mode === 'late') for (const fifo of [go, out]) expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const late = mode === 'late' ? 'True' : 'False';
    const supervisor = path.join(m.dir, 'supervisor.py');
    fs.writeFileSync(supervisor, [
      'import os, signal, sys',
      'def note(what, pid):',
      '    with open(sys.argv[1], "a") as f: f.write("%s %d\\n" % (what, pid))',
      'note("supervisor", os.getpid())',
      'ask_r, ask_w = os.pipe()',
      'ack_r, ack_w = os.pipe()',
      'daemon = os.fork()',
      'if daemon == 0:',
      '    os.setpgid(0, 0)',
      '    def term(*_):',
      `        if not ${late}:`,
      '            os.write(ask_w, b"t")',
      '            os.read(ack_r, 1)',
      '        os._exit(0)',
      '    signal.signal(signal.SIGTERM, term)',
      '    os.write(ask_w, b"r")',
      '    while True:',
      '        signal.pause()',
      'os.read(ask_r, 1)',
      'note("daemon", daemon)',
      'spawn = lambda: os.posix_spawnp("sleep", ["sleep", "357"], os.environ, setpgroup=daemon)',
      `if ${late}:`,
      '    os.waitid(os.P_PID, daemon, os.WEXITED | os.WNOWAIT)',
      `    open("${go}").read()`,
      '    note("child", spawn())',
      `    open("${out}", "w").write("forked")`,
      '    while True:',
      '        signal.pause()',
      'os.read(ask_r, 1)',
      'child = spawn()',
      'note("child", child)',
      'os.write(ack_w, b"a")',
      `while ${mode === 'respawn' ? 'True' : 'False'}:`,
      '    os.waitpid(child, 0)',
      '    child = spawn()',
      '    note("child", child)',
      'while True:',
      '    signal.pause()',
    ].join('\n'));
    const listed = (what: string) => (fs.existsSync(pids) ? fs.readFileSync(pids, 'utf8') : '').split('\n')
      .filter((line) => line.startsWith(`${what} `)).map((line) => line.split(' ')[1]);
    const started = spawn('setsid', [MACHINE_PYTHON, supervisor, pids], { stdio: 'ignore' });
    waitFor(() => listed('daemon').length > 0, "the supervisor's daemon listed");
    const [daemon, [forker]] = [listed('daemon')[0], listed('supervisor')];
    recordAsLeft(m, daemon, Number(daemon), 'python3');
    // The supervisor first, so that it replaces no child once they are killed.
    const stop = () => cleanUp(...listed('supervisor').map((pid) => () => {
      signal(Number(pid), 'SIGKILL');
      settle(() => !alivePid(pid), `the supervisor ${pid} ended by SIGKILL`);
    }), () => killListed(pids), () => started.kill('SIGKILL'));
    return { daemon, forker, listed, stop };
  }
  const supervisedWorker = (conf: string): BundlePart => ({ name: 'worker', files: [{ path: '/etc/acme/worker.conf', content: conf }], commands: [['true']] });

  // A supervisor outside a recorded group that forks into it whenever it is next scheduled: the rounds of SIGKILL ended at
  // the first look that found nothing new, so a supervisor briefly not scheduled kept its next child, and nothing said so.
  // Review: the group was then forgotten, so the part's next run looked no more for the child the supervisor added later.
  test('what keeps forking into a recorded group from outside it is named after 5 rounds of SIGKILL, and stays recorded', () => {
    const m = machine();
    expect(m.apply([supervisedWorker('x=1\n')]).status).toBe(0);
    const { daemon, forker, listed, stop } = supervised(m, 'respawn');
    try {
      const again = m.apply([supervisedWorker('x=2\n')]);
      expect(again.status).toBe(0);
      expect([alivePid(daemon), alivePid(listed('child')[0])]).toEqual([false, false]);
      expect(again.output).toContain(`stopped pid ${listed('child')[0]} (sleep)`);
      expect(again.output).toMatch(new RegExp(`(still forking into process group ${daemon} after 5 rounds of SIGKILL, not stopped|process group ${daemon} emptied) \\(its part is activated again\\)`));
      // Whether the supervisor's next child is there when the agent looks decides which: either names the supervisor.
      expect(again.output).toMatch(new RegExp(`(forked into by )?pid ${forker} \\(python3\\)`));
      // The supervisor's next child, forked after the last round, is stopped by the part's next run.
      waitFor(() => alivePid(listed('child').slice(-1)[0]), "the supervisor's next child running");
      const later = listed('child').slice(-1)[0];
      const third = m.apply([supervisedWorker('x=3\n')]);
      expect(third.status).toBe(0);
      expect(third.output).toContain(`stopped pid ${later} (sleep)`);
    } finally {
      stop();
    }
  });

  // Review: while the forker ran all 5 rounds were looked for, and the closing report named every group it ever forked
  // into as "still forking … not stopped", one it forked into once and that was emptied too.
  test('a recorded group emptied while its forker runs on is reported as emptied, not as still forked into', () => {
    const m = machine();
    expect(m.apply([supervisedWorker('x=1\n')]).status).toBe(0);
    const { daemon, forker, listed, stop } = supervised(m, 'once');
    try {
      const again = m.apply([supervisedWorker('x=2\n')]);
      expect(again.status).toBe(0);
      expect(alivePid(listed('child')[0])).toBe(false);
      expect(again.output).not.toContain('still forking into process group');
      expect(again.output).toContain(`process group ${daemon} emptied (its part is activated again); pid ${forker} (python3) forked into it during the stop and may again`);
    } finally {
      stop();
    }
  });

  /** The writable v1 freezer hierarchy, when this runs as root: a task frozen there is in state D, and SIGKILL does not end it until it is thawed. */
  const freezer = cgroupMount((type, options) => type === 'cgroup' && options.includes('freezer'));

  /**
   * A `sleep <seconds>` frozen in a v1 freezer cgroup of `m`'s own: in state D, SIGKILL does not end it until it is
   * thawed. `release` (for a finally) thaws it, kills it and removes the cgroup.
   */
  function frozenSleep(m: Machine, seconds: string) {
    const frozen = path.join(freezer!, path.basename(m.dir));
    const stuck = spawn('sleep', [seconds], { detached: true, stdio: 'ignore' });
    const thaw = () => fs.writeFileSync(path.join(frozen, 'freezer.state'), 'THAWED');
    const release = () => cleanUp(() => {
      if (fs.existsSync(frozen)) {
        thaw();
        stuck.kill('SIGKILL');
        settle(() => !fs.readFileSync(path.join(frozen, 'cgroup.procs'), 'utf8').trim(), 'the freezer cgroup empty');
        fs.rmdirSync(frozen);
      }
    }, () => stuck.kill('SIGKILL'));
    try {
      fs.mkdirSync(frozen);
      fs.writeFileSync(path.join(frozen, 'cgroup.procs'), String(stuck.pid));
      fs.writeFileSync(path.join(frozen, 'freezer.state'), 'FROZEN');
      waitFor(() => fs.readFileSync(path.join(frozen, 'freezer.state'), 'utf8').trim() === 'FROZEN', 'the freezer cgroup FROZEN');
    } catch (e) {
      release();
      throw e;
    }
    return { pid: String(stuck.pid), thaw, release };
  }

  // Review: what the agent says of a process that will not die (in uninterruptible sleep on a hung disk, frozen) was
  // untested: next to a forker's 5 rounds its group alone was named as "still forking into … after 5 rounds of SIGKILL",
  // to be stopped by finding what adds to it, where nothing did, and the process itself was said only to be still running.
  // A task in a frozen v1 freezer cgroup is such a process, honestly, until it is thawed. So this runs only where a
  // writable v1 freezer hierarchy exists (skipped with a warning on a v2-only host, whose freezer SIGKILL gets through),
  // and it takes 20 s or more by design: the agent waits out 10 s after SIGTERM, then 10 s after SIGKILL.
  const unkillable = 'a recorded process that survives SIGKILL is named with what holds it, not as a group still forked into, stays recorded, and fails its part rather than run its steps beside it';
  testWhereHostHas(freezer !== undefined, unkillable, 'a writable v1 freezer cgroup (root)')(unkillable, () => {
    const m = machine();
    expect(m.apply([supervisedWorker('x=1\n')]).status).toBe(0);
    const { daemon, forker, listed, stop } = supervised(m, 'once');
    const { pid, thaw, release } = frozenSleep(m, '362');
    try {
      const record = path.join(m.root, 'var/lib/sovereign/rollout/step-processes.json');
      recordAsLeft(m, pid, Number(pid), 'sleep', false);
      // Review: the part's steps then ran again beside it (a daemon's second copy next to the first), and the deploy succeeded.
      const ran = path.join(m.dir, 'ran');
      /** A deploy of the part's steps while the survivor runs: refused, rolled back whole, the survivor still recorded. */
      const refusedBeside = () => {
        const refused = m.apply([{ ...supervisedWorker('x=2\n'), commands: [['touch', ran]] }]);
        expect(refused.status).toBe(1);
        expect(fs.existsSync(ran)).toBe(false);
        expect(alivePid(pid)).toBe(true);
        expect(refused.output).toContain(`FAILED to activate "worker": pid ${pid} (sleep), left in the background by an earlier run of the steps of "worker", still runs after SIGKILL: pid ${pid} in uninterruptible sleep (state D)`);
        expect(refused.output).toContain('the steps did not run again beside it');
        // The rollback puts the previous version back whole (its steps rerun, as every rollback's do), without waiting for the process again.
        expect(refused.output).not.toContain('restoring the previous version also failed');
        expect(refused.output).toContain('rolling back to the previous files after: activate "worker"');
        expect(fs.existsSync(path.join(m.root, 'var/lib/sovereign/rollout/pending.json'))).toBe(false);
        // Kept, so that the part's next run stops it once it is thawed.
        expect(JSON.parse(fs.readFileSync(record, 'utf8')).parts.worker.map((e: number[]) => e[0])).toContain(Number(pid));
        return refused.output;
      };
      const again = refusedBeside();
      expect(again.split(`could not stop pid ${pid} (sleep)`)).toHaveLength(2);
      expect(again).toContain(`Fix: find what holds it (cat /proc/${pid}/stack /proc/${pid}/cgroup; frozen by the v1 cgroup freezer: write THAWED to its freezer.state); reboot the machine if it never ends`);
      expect(again).toContain(`process group ${daemon} emptied (its part is activated again); pid ${forker} (python3) forked into it`);
      expect(again).not.toContain(`process group ${pid}`);
      expect(again).toContain(`could not stop pid ${pid} (sleep), left in the background by an earlier run of its part's steps (its part is activated again): still running 10 s after SIGKILL, in uninterruptible sleep (state D)`);
      // Thawing is the way out of the v1 freezer only: SIGKILL ends a process the v2 freezer (cgroup.freeze) froze.
      expect(again).toContain(`or frozen (v1 cgroup freezer); it stays recorded, and is stopped once it can end when its part runs again (at every deploy, if its part left the bundle). Find what holds it (cat /proc/${pid}/stack /proc/${pid}/cgroup; frozen by the v1 cgroup freezer: write THAWED to its freezer.state)`);
      expect(alivePid(listed('child')[0])).toBe(false);
      // Review: only the first refusal was tested. The next deploy, the same survivor still running, is refused again:
      // nothing of the first run's (its refusal, its rollback) let the steps run beside it.
      refusedBeside();
      thaw();
      waitFor(() => !alivePid(pid), 'the thawed process ended by the SIGKILL it was sent');
      const third = m.apply([{ ...supervisedWorker('x=2\n'), commands: [['touch', ran]] }]);
      expect(third.status).toBe(0);
      expect(fs.existsSync(ran)).toBe(true);
    } finally {
      cleanUp(release, stop);
    }
  }, 150_000);

  // Review: a process that survived SIGKILL was blamed on every part stopped in the same call (the parts leaving the
  // bundle together): the failure named them all. And the refusal for a part that left the bundle was untested: it
  // said that "the steps did not run again", where no step of the part runs any more, and not that every deploy fails so.
  const leftTogether = 'a survivor of a part that left the bundle fails the deploy naming that part alone, the part that left with it is stopped and put back, and a reboot ends the refusal';
  testWhereHostHas(freezer !== undefined, leftTogether, 'a writable v1 freezer cgroup (root)')(leftTogether, () => {
    const m = machine();
    const pids = path.join(m.dir, 'pids');
    const other: BundlePart = {
      name: 'other',
      files: [{ path: '/etc/acme/other.conf', content: 'o=1\n' }],
      commands: [['sh', '-c', `sleep 363 >/dev/null 2>&1 & echo $! >> ${pids}`]],
    };
    expect(m.apply([supervisedWorker('x=1\n'), other]).status).toBe(0);
    const [daemon] = fs.readFileSync(pids, 'utf8').trim().split('\n');
    const { pid, release } = frozenSleep(m, '364');
    try {
      const record = path.join(m.root, 'var/lib/sovereign/rollout/step-processes.json');
      recordAsLeft(m, pid, Number(pid), 'sleep', false);
      // "worker" renamed: its new name's steps would start the daemon next to the one that will not die.
      const ran = path.join(m.dir, 'ran');
      const renamed: BundlePart = { name: 'renamed-worker', files: [{ path: '/etc/acme/worker.conf', content: 'x=2\n' }], commands: [['touch', ran]] };
      const again = m.apply([renamed]);
      expect(again.status).toBe(1);
      expect(fs.existsSync(ran)).toBe(false);
      expect(again.output).toContain(`stopped pid ${daemon} (sleep), left in the background by an earlier run of its part's steps: its part left the bundle`);
      expect(again.output).toContain(`FAILED to stop what the parts that left the bundle started: pid ${pid} (sleep), left in the background by an earlier run of the steps of "worker", which left the bundle or has no commands now, still runs after SIGKILL: pid ${pid} in uninterruptible sleep (state D)`);
      expect(again.output).toContain('no step of the new version ran beside it (a part renamed, or a daemon moved to another part, would start its copy next to it');
      expect(again.output).toContain('; until it ends every deploy fails here, as nothing else stops it now that its part is gone; reboot the machine if it never ends: the reboot ends it, and the agent forgets what an earlier boot recorded');
      // Once: it followed a reboot already advised ("reboot the machine if it never ends; … a reboot ends it").
      expect(again.output).not.toContain('reboot the machine if it never ends; until');
      // The rollback activates "other" again (its daemon back), beside "worker".
      expect(again.output).toContain('rolling back to the previous files after: stop what the parts that left the bundle started');
      expect(again.output).not.toContain('restoring the previous version also failed');
      const restarted = fs.readFileSync(pids, 'utf8').trim().split('\n');
      expect(restarted).toHaveLength(2);
      expect([alivePid(daemon), alivePid(restarted[1])]).toEqual([false, true]);
      expect(JSON.parse(fs.readFileSync(record, 'utf8')).parts.worker.map((e: number[]) => e[0])).toContain(Number(pid));
      // A reboot: the records name processes of this boot only (its id with them), so the next deploy finds none. The
      // frozen process stands in for nothing here (a reboot ends it), and "other"'s daemon is killed below.
      const kept = JSON.parse(fs.readFileSync(record, 'utf8'));
      fs.writeFileSync(record, JSON.stringify({ ...kept, boot: '00000000-0000-4000-8000-000000000000' }));
      const rebooted = m.apply([renamed]);
      expect([rebooted.status, rebooted.output]).toEqual([0, expect.not.stringContaining(`pid ${pid}`)]);
      expect(fs.existsSync(ran)).toBe(true);
    } finally {
      cleanUp(release, () => killListed(pids));
    }
  }, 90_000);

  // Review: the rounds after SIGKILL ended at the first look that found the recorded groups empty: a supervisor whose
  // first fork into a stopped group came after that look (not yet scheduled, or restarting after a pause) was never
  // seen, and the group, its processes ended, was forgotten, so its child ran on past the part's next runs too.
  test("a supervisor that keeps a stopped process unreaped is named as able to fork into its group, and what it forks later is stopped by the part's next run", () => {
    const m = machine();
    expect(m.apply([supervisedWorker('x=1\n')]).status).toBe(0);
    const { daemon, forker, listed, stop } = supervised(m, 'late');
    try {
      const again = m.apply([supervisedWorker('x=2\n')]);
      expect(again.status).toBe(0);
      expect(again.output).toContain(`stopped pid ${daemon} (python3)`);
      expect(again.output).toContain(`process group ${daemon} emptied (its part is activated again); pid ${forker} (python3) has not reaped what was stopped in it`);
      // The supervisor forks into the group after the agent ended: the part's next run stops its child.
      writeFifo(path.join(m.dir, 'go'), 'go');
      readFifo(path.join(m.dir, 'out'));
      const child = listed('child')[0];
      expect(alivePid(child)).toBe(true);
      const third = m.apply([supervisedWorker('x=3\n')]);
      expect(third.status).toBe(0);
      expect(alivePid(child)).toBe(false);
      expect(third.output).toContain(`stopped pid ${child} (sleep)`);
    } finally {
      stop();
    }
  });

  // Review: a stopped process left unreaped by a parent in its own group (which runs on) was said to have left its
  // group "emptied", its parent able to fork into it, and the agent looked for 0.5 s more: the group was never empty.
  test('a stopped process whose unreaping parent runs in its group is not said to have emptied it', () => {
    const m = machine();
    expect(m.apply([supervisedWorker('x=1\n')]).status).toBe(0);
    const out = path.join(m.dir, 'out');
    expect(spawnSync('mkfifo', [out]).status).toBe(0);
    const parent = spawn(MACHINE_PYTHON, ['-c', `import os, signal\nchild = os.posix_spawnp("sleep", ["sleep", "373"], os.environ)\nopen("${out}", "w").write(str(child))\nwhile True: signal.pause()`],
      { detached: true, stdio: 'ignore' });
    let child = '';
    try {
      child = readFifo(out);
      recordAsLeft(m, child, parent.pid!, 'sleep');
      const again = m.apply([supervisedWorker('x=2\n')]);
      expect(again.status).toBe(0);
      expect(again.output).toContain(`stopped pid ${child} (sleep)`);
      expect(again.output).not.toContain('emptied');
    } finally {
      parent.kill('SIGKILL');
      if (child) signal(Number(child), 'SIGKILL');
    }
  });

  // Review: a step that ran `systemctl import-environment` left the step's mark in systemd's environment until the next
  // boot, so every unit systemd started later carried it (a timer's backup-push) and the part's next run stopped it.
  test('the step mark is removed from systemd\'s environment after each part\'s steps, a failed one\'s too', () => {
    const m = machine();
    // systemd runs (sd_booted's test), and its stand-in keeps the manager's environment in a file.
    fs.mkdirSync(path.join(m.root, 'run/systemd/system'), { recursive: true });
    const manager = path.join(m.dir, 'manager-environment');
    fs.writeFileSync(path.join(m.dir, 'bin/systemctl'), `#!/bin/sh\necho "$*" >> ${m.dir}/systemctl.log\ncase "$1" in
  import-environment) echo "$2=$(printenv "$2")" >> ${manager};;
  unset-environment) touch ${manager}; grep -v "^$2=" ${manager} > ${manager}.new; mv ${manager}.new ${manager};;
esac\nexit 0\n`);
    const step = (conf: string, code: number): BundlePart => ({
      name: 'worker',
      files: [{ path: '/etc/acme/worker.conf', content: conf }],
      commands: [['systemctl', 'import-environment', 'SOVEREIGN_ROLLOUT_STEP'], ['sh', '-c', `exit ${code}`]],
    });
    expect(m.apply([step('x=1\n', 0)]).status).toBe(0);
    expect(m.systemctl()).toEqual(['import-environment SOVEREIGN_ROLLOUT_STEP', 'unset-environment SOVEREIGN_ROLLOUT_STEP']);
    expect(fs.readFileSync(manager, 'utf8')).not.toMatch(/SOVEREIGN_ROLLOUT_STEP/);
    // A failed step: removed before the rollback runs the previous version's steps, and after them.
    expect(m.apply([step('x=2\n', 1)]).status).toBe(1);
    expect(m.systemctl().filter((line) => /environment/.test(line))).toEqual([
      'import-environment SOVEREIGN_ROLLOUT_STEP', 'unset-environment SOVEREIGN_ROLLOUT_STEP',
      'import-environment SOVEREIGN_ROLLOUT_STEP', 'unset-environment SOVEREIGN_ROLLOUT_STEP']);
    expect(fs.readFileSync(manager, 'utf8')).not.toMatch(/SOVEREIGN_ROLLOUT_STEP/);
  });

  // Review: a unit systemd started while a step's `systemctl import-environment` had put the step's mark in systemd's
  // environment carried the mark, and the part's next run stopped it as the step's child. systemd is simulated: a
  // manager process the test started (not the step) starts the "unit" with its own environment, the mark imported into
  // it, in a cgroup of its own, as systemd starts each unit in system.slice/<unit>; the step's own daemon stays in the
  // cgroup the agent runs in. Proven: a marked process outside the cgroup the step's processes were recorded in is not
  // taken for the step's. Not proven here: that real systemd places units so (it does, one cgroup per unit).
  const imported = "a unit systemd starts with the step's mark imported into its environment is not taken for the step's child";
  testWhereHostHas(cgroup2 !== undefined, imported, 'root and a writable cgroup2 mount')(imported, () => {
    const m = machine();
    fs.mkdirSync(path.join(m.root, 'run/systemd/system'), { recursive: true });
    const [manager, start, started, pids] = ['manager-environment', 'start', 'started', 'pids'].map((name) => path.join(m.dir, name));
    const unitCgroup = path.join(cgroup2!, `sovereign-rollout-test-${process.pid}-unit`);
    for (const fifo of [start, started]) expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    fs.mkdirSync(unitCgroup);
    fs.writeFileSync(manager, '');
    fs.writeFileSync(path.join(m.dir, 'bin/systemctl'), `#!/bin/sh\necho "$*" >> ${m.dir}/systemctl.log\ncase "$1" in
  import-environment) echo "$2=$(printenv "$2")" >> ${manager};;
  unset-environment) grep -v "^$2=" ${manager} > ${manager}.new; mv ${manager}.new ${manager};;
  start) echo "$2" > ${start}; read unit < ${started};;
esac\nexit 0\n`);
    // "systemd": each start request runs the unit with the manager's environment, in the unit's cgroup. It holds its
    // request fifo open for writing too, so that a request's writer closing never reads as its end (a loop that opened
    // it anew for each request read an end of file, under load, while the last writer still held it, and ended).
    const systemd = spawn('sh', ['-c', `exec 3<> ${start}; while read unit <&3; do env $(cat ${manager}) sh -c 'echo $$ > ${unitCgroup}/cgroup.procs; echo unit $$ >> ${pids}; echo $$ > ${started}; exec sleep 371' >/dev/null 2>&1 & done`],
      { detached: true, stdio: 'ignore' });
    const worker = (conf: string): BundlePart => ({
      name: 'worker',
      files: [{ path: '/etc/acme/worker.conf', content: conf }],
      // The unit starts after what the step recorded: a mark is looked for in what started since.
      commands: [
        ['sh', '-c', `sleep 372 >/dev/null 2>&1 & echo step $! >> ${pids}`],
        ['systemctl', 'import-environment', 'SOVEREIGN_ROLLOUT_STEP'],
        ['systemctl', 'start', 'acme-worker.service'],
      ],
    });
    const listed = (what: string) => fs.readFileSync(pids, 'utf8').trim().split('\n').filter((line) => line.startsWith(`${what} `)).map((line) => line.split(' ')[1]);
    try {
      // A bounded command time: a step waiting on a "systemd" that is gone fails the test, never hangs it.
      const commandTimeout = Duration.seconds(30);
      expect(m.apply([worker('x=1\n')], {}, { commandTimeout }).status).toBe(0);
      const [unit, daemon] = [listed('unit')[0], listed('step')[0]];
      expect(fs.readFileSync(`/proc/${unit}/environ`, 'utf8')).toContain('SOVEREIGN_ROLLOUT_STEP=');
      expect(fs.readFileSync(`/proc/${unit}/cgroup`, 'utf8')).toContain(`/${path.basename(unitCgroup)}\n`);
      const again = m.apply([worker('x=2\n')], {}, { commandTimeout });
      expect(again.status).toBe(0);
      expect(again.output).toContain(`stopped pid ${daemon} (sleep)`);
      expect(again.output).not.toContain(`pid ${unit} `);
      expect([alivePid(daemon), alivePid(unit)]).toEqual([false, true]);
    } finally {
      try { process.kill(-systemd.pid!, 'SIGKILL'); } catch { /* gone */ }
      cleanUp(() => killListed(pids), () => settle(() => !fs.readFileSync(path.join(unitCgroup, 'cgroup.procs'), 'utf8').trim(), "the unit's cgroup empty"),
        () => fs.rmdirSync(unitCgroup));
    }
  });

  // Review: an orphan of one part's step, adopted by the agent while another part's step ran, was recorded under that
  // other part, so that part's next run stopped the first part's daemon.
  test("what one part's step forks while another part's step runs stays the first part's", () => {
    const m = machine();
    const [go, out, pids] = [path.join(m.dir, 'go'), path.join(m.dir, 'out'), path.join(m.dir, 'pids')];
    const a: BundlePart = {
      name: 'a',
      files: [{ path: '/etc/acme/a.conf', content: 'x=1\n' }],
      commands: [['sh', '-c', `sh -c 'read x < ${go}; sleep 341 >/dev/null 2>&1 & echo $! >> ${pids}; echo $$ > ${out}' >/dev/null 2>&1 &`]],
    };
    // b's step lets a's wrapper fork its daemon and waits for the wrapper's exit, which hands the daemon to the agent.
    const b = (conf: string): BundlePart => ({
      name: 'b',
      files: [{ path: '/etc/acme/b.conf', content: conf }],
      commands: [['sh', '-c', `[ -p ${go} ] || exit 0; echo go > ${go}; rm ${go}; read sh < ${out}; ${untilEnded('sh')}`]],
    });
    try {
      for (const fifo of [go, out]) expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
      expect(m.apply([a, b('x=1\n')]).status).toBe(0);
      const daemon = fs.readFileSync(pids, 'utf8').trim();
      expect(alivePid(daemon)).toBe(true);
      expect(m.apply([a, b('x=2\n')]).status).toBe(0);
      expect(alivePid(daemon)).toBe(true);
      expect(m.apply([b('x=2\n')]).status).toBe(0);
      expect(alivePid(daemon)).toBe(false);
    } finally {
      killListed(pids);
    }
  });

  // Review: a failed step's cleanup stopped every orphan the agent adopted while the step ran, another part's daemon too
  // (its wrapper exited meanwhile): a part activated first stays active through the rollback and runs no more, so its
  // daemon was gone until the next deploy that changed it.
  test("a failed step's cleanup leaves alone another part's daemon adopted while it ran", () => {
    const m = machine();
    const [go, out, pids] = [path.join(m.dir, 'go'), path.join(m.dir, 'out'), path.join(m.dir, 'pids')];
    const first: BundlePart = {
      name: 'first',
      activatesFirst: true,
      files: [{ path: '/etc/acme/first.conf', content: 'x=1\n' }],
      commands: [['sh', '-c', `sh -c 'read x < ${go}; sleep 343 >/dev/null 2>&1 & echo $! >> ${pids}; echo $$ > ${out}' >/dev/null 2>&1 &`]],
    };
    // Lets the first part's wrapper fork its daemon, waits for the wrapper's exit (the agent adopts the daemon), fails.
    const failing: BundlePart = {
      name: 'failing',
      files: [{ path: '/etc/acme/failing.conf', content: 'x=1\n' }],
      commands: [['sh', '-c', `echo go > ${go}; read sh < ${out}; ${untilEnded('sh')}; exit 1`]],
    };
    try {
      for (const fifo of [go, out]) expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
      const result = m.apply([first, failing]);
      expect(result.status).toBe(1);
      expect(result.output).not.toContain('did not end within 20 s');
      expect(result.output).toMatch(/"first" active; it stays active/);
      const daemon = fs.readFileSync(pids, 'utf8').trim();
      expect(alivePid(daemon)).toBe(true);
      expect(result.output).not.toContain(`pid ${daemon}`);
    } finally {
      killListed(pids);
    }
  });

  // Review: only the recorded processes and their process groups were stopped: what a recorded daemon started later in a
  // session of its own (setsid) ran on after its part's next run had stopped its parent, and started a second copy.
  test("what a step's background process starts later in a session of its own goes with it", () => {
    const m = machine();
    const [go, out, pids] = [path.join(m.dir, 'go'), path.join(m.dir, 'out'), path.join(m.dir, 'pids')];
    const worker = (conf: string): BundlePart => ({
      name: 'worker',
      files: [{ path: '/etc/acme/worker.conf', content: conf }],
      // The wrapper stays; its daemon says its pid once in a session of its own.
      commands: [['sh', '-c', `sh -c 'echo $$ >> ${pids}; read x < ${go}; setsid sh -c "echo \\$\\$ > ${out}; exec sleep 344" & echo $! >> ${pids}; wait' >/dev/null 2>&1 &`]],
    });
    try {
      for (const fifo of [go, out]) expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
      expect(m.apply([worker('x=1\n')]).status).toBe(0);
      writeFifo(go, 'go');
      const daemon = readFifo(out);
      expect(statFields(daemon)![3]).toBe(daemon);
      expectStoppedByNextRun(m, worker('x=2\n'), daemon);
    } finally {
      killListed(pids);
    }
  });

  // Review: a child a recorded process started later in a session of its own (setsid) was found only while that process
  // ran: once it had exited the child was PID 1's, in no recorded group, and ran on beside the part's next copy.
  test("what a step's background process starts in a session of its own goes with it after that process has exited", () => {
    const m = machine();
    const [go, out, pids] = [path.join(m.dir, 'go'), path.join(m.dir, 'out'), path.join(m.dir, 'pids')];
    const worker = (conf: string): BundlePart => ({
      name: 'worker',
      files: [{ path: '/etc/acme/worker.conf', content: conf }],
      // Once the step ended, the wrapper starts its daemon in a session of its own and exits.
      commands: [['sh', '-c', `sh -c 'echo $$ >> ${pids}; read x < ${go}; setsid sh -c "echo \\$\\$ >> ${pids}; echo \\$\\$ > ${out}; exec sleep 351" &' >/dev/null 2>&1 &`]],
    });
    try {
      for (const fifo of [go, out]) expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
      expect(m.apply([worker('x=1\n')]).status).toBe(0);
      const wrapper = fs.readFileSync(pids, 'utf8').trim();
      writeFifo(go, 'go');
      const daemon = readFifo(out);
      waitFor(() => !alivePid(wrapper), `the wrapper ${wrapper} ended`);
      const stat = statFields(daemon)!;
      expect([stat[3], stat[1] === wrapper]).toEqual([daemon, false]);
      // Review: every entry of the run was kept while the daemon ran, the wrapper's ended pid and group too, which a pid
      // wrap gives to others. The next run of the agent keeps the run's mark alone.
      expect(m.apply([worker('x=1\n')]).output).toMatch(/nothing to do/);
      const kept = JSON.parse(m.read('/var/lib/sovereign/rollout/step-processes.json')!).parts.worker as unknown[][];
      expect(kept.map((e) => [e[0], e[3]])).toEqual([[null, null]]);
      expectStoppedByNextRun(m, worker('x=2\n'), daemon);
    } finally {
      killListed(pids);
    }
  });

  // Review: a marked process counts only in a cgroup the run's recorded entries name, and the agent's look at the start of
  // each apply dropped each entry whose process had ended: a run that recorded processes in two cgroups (a step's
  // `systemd-run --scope`, `su` under pam_systemd) lost the second cgroup with its last recorded process, and the
  // setsid child that process had started ran on past the part's next run. The second cgroup is a cgroup2 child here.
  const twoCgroups = "what a step's process in a second cgroup starts in a session of its own goes with the part after that process has exited";
  testWhereHostHas(cgroup2 !== undefined, twoCgroups, 'root and a writable cgroup2 mount')(twoCgroups, () => {
    const m = machine();
    const [moved, go, out, pids] = ['moved', 'go', 'out', 'pids'].map((name) => path.join(m.dir, name));
    const cgroup = path.join(cgroup2!, `sovereign-rollout-test-${process.pid}-scope`);
    const worker = (conf: string, commands: string[][]): BundlePart => ({ name: 'worker', files: [{ path: '/etc/acme/worker.conf', content: conf }], commands });
    const first = worker('x=1\n', [
      // A daemon that stays in the agent's cgroup, its entry kept throughout.
      ['sh', '-c', `sleep 374 >/dev/null 2>&1 & echo $! >> ${pids}`],
      // A wrapper that moves to a cgroup of its own before the step ends (so recorded there); told to, it starts its
      // daemon in a session of its own and exits.
      ['sh', '-c', `sh -c 'echo $$ > ${cgroup}/cgroup.procs; echo $$ >> ${pids}; echo moved > ${moved}; read x < ${go}; setsid sh -c "echo \\$\\$ >> ${pids}; echo \\$\\$ > ${out}; exec sleep 375" &' >/dev/null 2>&1 & read x < ${moved}`],
    ]);
    try {
      fs.mkdirSync(cgroup);
      for (const fifo of [moved, go, out]) expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
      expect(m.apply([first], {}, { commandTimeout: Duration.seconds(30) }).status).toBe(0);
      const [kept, wrapper] = fs.readFileSync(pids, 'utf8').trim().split('\n');
      writeFifo(go, 'go');
      const daemon = readFifo(out);
      waitFor(() => !alivePid(wrapper));
      expect(fs.readFileSync(`/proc/${daemon}/cgroup`, 'utf8')).toContain(`0::/${path.basename(cgroup)}\n`);
      expect(alivePid(kept)).toBe(true);
      expectStoppedByNextRun(m, worker('x=2\n', [['true']]), daemon);
      expect(alivePid(kept)).toBe(false);
    } finally {
      cleanUp(() => killListed(pids), () => {
        if (fs.existsSync(cgroup)) {
          settle(() => !fs.readFileSync(path.join(cgroup, 'cgroup.procs'), 'utf8').trim(), "the test's cgroup empty");
          fs.rmdirSync(cgroup);
        }
      });
    }
  });

  // Review: a record an earlier build of 0.2 wrote (no cgroup) took any group that got its number for the recorded one,
  // once the recorded processes had ended: a machine upgraded between two deploys SIGKILLed a daemon started elsewhere.
  test("a record without cgroups (an earlier build's) spares a group whose recorded processes are gone, and stops one's that runs", () => {
    const m = machine();
    const [go, out, pids] = [path.join(m.dir, 'go'), path.join(m.dir, 'out'), path.join(m.dir, 'pids')];
    const file = path.join(m.root, 'var/lib/sovereign/rollout/step-processes.json');
    const gone = (conf: string): BundlePart => ({
      name: 'gone',
      files: [{ path: '/etc/acme/gone.conf', content: conf }],
      commands: [['sh', '-c', `sleep 352 >/dev/null 2>&1 & echo $! >> ${pids}`]],
    });
    // Its wrapper stays and forks its daemon once the step ended: only the group ties the daemon to the part.
    const kept = (conf: string): BundlePart => ({
      name: 'kept',
      files: [{ path: '/etc/acme/kept.conf', content: conf }],
      commands: [['sh', '-c', `sh -c 'echo $$ >> ${pids}; read x < ${go}; sleep 353 & echo $! > ${out}; echo $! >> ${pids}; wait' >/dev/null 2>&1 &`]],
    });
    let stranger = '';
    try {
      for (const fifo of [go, out]) expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
      expect(m.apply([gone('x=1\n'), kept('x=1\n')]).status).toBe(0);
      writeFifo(go, 'go');
      const forked = readFifo(out);
      const recorded = fs.readFileSync(pids, 'utf8').trim().split('\n')[0];
      process.kill(pidOf(recorded), 'SIGKILL');
      waitFor(() => !alivePid(recorded), `the recorded ${recorded} ended by SIGKILL`);
      // Later, another daemon's group, its first process gone: the number the pid wrap gives the recorded group.
      const other = spawnSync('sh', ['-c', `setsid sh -c 'sleep 354 >/dev/null 2>&1 & echo $$ $!' &\nwait`], { encoding: 'utf8' });
      const [group, daemon] = other.stdout.trim().split(' ');
      stranger = daemon;
      fs.appendFileSync(pids, `${daemon}\n`);
      expect([alivePid(group), alivePid(daemon)]).toEqual([false, true]);
      // As the earlier build wrote it: pid, start, program, group; no cgroup, no mark.
      const records = JSON.parse(fs.readFileSync(file, 'utf8'));
      records.parts.gone = records.parts.gone.map((e: unknown[]) => [e[0], e[1], e[2], Number(group)]);
      records.parts.kept = records.parts.kept.map((e: unknown[]) => e.slice(0, 4));
      fs.writeFileSync(file, JSON.stringify(records));
      const again = m.apply([gone('x=2\n'), kept('x=2\n')]);
      expect(again.status).toBe(0);
      expect([alivePid(daemon), alivePid(forked)]).toEqual([true, false]);
      expect(again.output).toContain(`stopped pid ${forked} (sleep)`);
    } finally {
      cleanUp(() => killListed(pids), () => settle(() => !stranger || !alivePid(stranger), `the stranger ${stranger} ended by SIGKILL`));
    }
  });

  // Review: a recorded process group whose processes had all ended was taken for the recorded one when its number came
  // back (a pid wrap between deploys) in a group whose first process had exited too: a daemon that forked twice, started
  // by systemd, was SIGKILLed as the part's. The record is made to name such a group here, as the wrap would.
  testWhereHostHas(cgroup2 !== undefined, 'a process group whose number came back to a daemon started elsewhere is never stopped', 'root and a writable cgroup2 mount')(
    'a process group whose number came back to a daemon started elsewhere is never stopped', () => {
      const m = machine();
      const pids = path.join(m.dir, 'pids');
      const file = path.join(m.root, 'var/lib/sovereign/rollout/step-processes.json');
      const worker = (conf: string): BundlePart => ({
        name: 'worker',
        files: [{ path: '/etc/acme/worker.conf', content: conf }],
        commands: [['sh', '-c', `sleep 345 >/dev/null 2>&1 & echo $! >> ${pids}`]],
      });
      const cgroup = path.join(cgroup2!, `sovereign-rollout-test-${process.pid}`);
      let daemon = '';
      try {
        expect(m.apply([worker('x=1\n')]).status).toBe(0);
        const recorded = fs.readFileSync(pids, 'utf8').trim();
        process.kill(pidOf(recorded), 'SIGKILL');
        waitFor(() => !alivePid(recorded), `the recorded ${recorded} ended by SIGKILL`);
        // Later, another daemon's group, its first process gone, in a cgroup of its own (as systemd starts a unit).
        fs.mkdirSync(cgroup);
        const other = spawnSync('sh', ['-c', `echo $$ > ${cgroup}/cgroup.procs; setsid sh -c 'sleep 346 >/dev/null 2>&1 & echo $$ $!' &\nwait`], { encoding: 'utf8' });
        const [group, forked] = other.stdout.trim().split(' ');
        daemon = forked;
        fs.appendFileSync(pids, `${daemon}\n`);
        expect([alivePid(group), alivePid(daemon)]).toEqual([false, true]);
        const records = JSON.parse(fs.readFileSync(file, 'utf8'));
        records.parts.worker = records.parts.worker.map((e: unknown[]) => [e[0], e[1], e[2], Number(group), ...e.slice(4)]);
        fs.writeFileSync(file, JSON.stringify(records));
        expect(m.apply([worker('x=2\n')]).status).toBe(0);
        expect(alivePid(daemon)).toBe(true);
      } finally {
        cleanUp(() => killListed(pids), () => settle(() => !daemon || !alivePid(daemon), `the daemon ${daemon} ended by SIGKILL`),
          () => { if (fs.existsSync(cgroup)) fs.rmdirSync(cgroup); });
      }
    });

  // Review: the whole of /proc/<pid>/cgroup was compared: on a hybrid or legacy host (v1 controllers beside systemd's
  // hierarchy), a later member of a recorded group that something moved in a v1 controller no longer matched, was spared
  // and ran beside the part's next copy.
  const v1Moved = "a recorded group's later member moved in a v1 controller (memory, cpu) still goes with it";
  // The host's cgroup layout, not a part to install: skipped where it has none, in CI too.
  testWhereHostHas(cgroup1Controller !== undefined, v1Moved, 'root and a writable cgroup v1 controller')(v1Moved, () => {
    const m = machine();
    const [go, out, pids] = [path.join(m.dir, 'go'), path.join(m.dir, 'out'), path.join(m.dir, 'pids')];
    const cgroup = path.join(cgroup1Controller!, `sovereign-rollout-test-${process.pid}`);
    const worker = (conf: string): BundlePart => ({
      name: 'worker',
      files: [{ path: '/etc/acme/worker.conf', content: conf }],
      // Once the step ended, the wrapper forks its daemon and exits: only their group ties the daemon to the part. The
      // daemon moves itself to a cgroup of that controller first.
      commands: [['sh', '-c', `sh -c 'echo $$ >> ${pids}; read x < ${go}; sh -c "echo \\$\\$ > ${cgroup}/cgroup.procs; echo \\$\\$ > ${out}; exec sleep 347" &' >/dev/null 2>&1 &`]],
    });
    let daemon = '';
    try {
      for (const fifo of [go, out]) expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
      fs.mkdirSync(cgroup);
      expect(m.apply([worker('x=1\n')]).status).toBe(0);
      const wrapper = fs.readFileSync(pids, 'utf8').trim();
      writeFifo(go, 'go');
      daemon = readFifo(out);
      fs.appendFileSync(pids, `${daemon}\n`);
      waitFor(() => !alivePid(wrapper), `the wrapper ${wrapper} ended`);
      expect(fs.readFileSync(`/proc/${daemon}/cgroup`, 'utf8')).toContain(`/sovereign-rollout-test-${process.pid}\n`);
      expectStoppedByNextRun(m, worker('x=2\n'), daemon);
    } finally {
      cleanUp(() => killListed(pids), () => settle(() => !daemon || !alivePid(daemon), `the daemon ${daemon} ended by SIGKILL`),
        () => { if (fs.existsSync(cgroup)) fs.rmdirSync(cgroup); });
    }
  });

  // Review: a record stayed until its part ran again, however long after its processes and their group had ended: the
  // group's number, free then, could name another group, which that later run stopped as the part's.
  test('what a step left running is forgotten on the next run of the agent once it ended, its group empty', () => {
    const m = machine();
    const pids = path.join(m.dir, 'pids');
    const daemon = (name: string): BundlePart => ({
      name,
      files: [{ path: `/etc/acme/${name}.conf`, content: 'x=1\n' }],
      commands: [['sh', '-c', `sleep 315 >/dev/null 2>&1 & echo ${name} $! >> ${pids}`]],
    });
    const recorded = () => Object.keys(JSON.parse(m.read('/var/lib/sovereign/rollout/step-processes.json')!).parts).sort();
    try {
      expect(m.apply([daemon('gone'), daemon('kept')]).status).toBe(0);
      expect(recorded()).toEqual(['gone', 'kept']);
      const gone = fs.readFileSync(pids, 'utf8').trim().split('\n').find((line) => line.startsWith('gone '))!.split(' ')[1];
      process.kill(pidOf(gone), 'SIGKILL');
      waitFor(() => !alivePid(gone), `the recorded ${gone} ended by SIGKILL`);
      expect(m.apply([daemon('gone'), daemon('kept')]).output).toMatch(/nothing to do/);
      expect(recorded()).toEqual(['kept']);
    } finally {
      killListed(pids);
    }
  });

  test('processes recorded in another boot are never stopped', () => {
    const m = machine();
    const worker = (conf: string): BundlePart => ({ name: 'worker', files: [{ path: '/etc/acme/worker.conf', content: conf }], commands: [['true']] });
    const other = spawn('sleep', ['306'], { stdio: 'ignore' });
    try {
      const pid = other.pid!;
      const start = Number(statFields(pid)![19]);
      const file = path.join(m.root, 'var/lib/sovereign/rollout/step-processes.json');
      expect(m.apply([worker('x=1\n')]).status).toBe(0);
      // As an older file holds it (no boot), and as one written before a reboot.
      fs.writeFileSync(file, JSON.stringify({ worker: [[pid, start, 'sleep']] }));
      expect(m.apply([worker('x=2\n')]).status).toBe(0);
      fs.writeFileSync(file, JSON.stringify({ boot: '00000000-0000-0000-0000-000000000000', parts: { worker: [[pid, start, 'sleep', pid]] } }));
      expect(m.apply([worker('x=3\n')]).status).toBe(0);
      expect(alive(pid)).toBe(true);
    } finally {
      other.kill('SIGKILL');
    }
  });

  // Review: what a background process wrote during the drain was appended to the step's output, and the failure message
  // keeps its last 15 lines: a chatty daemon pushed the step's own error out of it.
  // Review: a step's output reached the deploy's log only when the step failed, so what a deploy removed (the monitoring
  // setup's "removed" lines, a dropped receiver's SMTP password file) was seen by no one. Those lines are shown, alone.
  test("a step's lines saying what one of the library's tools removed reach the deploy's log, and no other line of its output", () => {
    const m = machine();
    // The library's tool, as the step of its part runs it; a user's part may print lines that look like one's.
    expect(REMOVAL_REPORTING_TOOLS).toEqual(['sovereign-monitoring-setup']);
    const tool = REMOVAL_REPORTING_TOOLS[0];
    const printed = (version: string) => [
      'preparing the cleanup',
      `${tool}: removed /etc/acme/old-${version}.key (no longer configured)`,
      secret,
      `${tool}: kept /etc/acme/new.key`,
      'acme-setup: removed /etc/acme/not-ours (a tool that is not the library\'s)',
      `sovereign-x: removed /etc/acme/${secret} (a user's tool named like the library's)`,
      `${tool}: removed /etc/acme/\x1b[2Jcleared (a control character)`,
      `${tool}: removed /etc/acme/\u009b2Jc1\u202Egnp.kcatta (a C1 control and a bidi override)`,
      `${tool}: removed /etc/acme/${'a'.repeat(400)} (a long line)`,
      `${tool}: removed /etc/acme/${'b'.repeat(400 - `${tool}: removed /etc/acme/`.length)}`,
    ];
    // The tool at its installed path, run as an argument list: only such a step's removals are shown.
    const cleanup = (version: string, exit = 0): BundlePart => ({
      name: 'cleanup',
      files: [
        { path: '/etc/acme/cleanup.conf', content: `v=${version}\n` },
        { path: SETUP, content: '#!/bin/sh\ncode=$1; shift; printf "%s\\n" "$@"; exit "$code"\n', permissions: '0755' },
      ],
      commands: [[SETUP, String(exit), ...printed(version)]],
    });
    const shown = (output: string) => output.split('\n').filter((line) => line.includes('removed /etc/acme'));
    const removals = (version: string) => [
      `sovereign-rollout: activate "cleanup": ${tool}: removed /etc/acme/old-${version}.key (no longer configured)`,
      `sovereign-rollout: activate "cleanup": ${tool}: removed /etc/acme/?[2Jcleared (a control character)`,
      `sovereign-rollout: activate "cleanup": ${tool}: removed /etc/acme/?2Jc1?gnp.kcatta (a C1 control and a bidi override)`,
      // Cut after 400 characters, and said to be; one of 400 exactly is whole.
      `sovereign-rollout: activate "cleanup": ${`${tool}: removed /etc/acme/${'a'.repeat(400)}`.slice(0, 400)}\u2026`,
      `sovereign-rollout: activate "cleanup": ${tool}: removed /etc/acme/${'b'.repeat(400 - `${tool}: removed /etc/acme/`.length)}`,
    ];
    const run = m.apply([cleanup('1')]);
    expect(run.status).toBe(0);
    expect(shown(run.output)).toEqual(removals('1'));
    expect(run.output).not.toMatch(/s3cr3t|preparing|kept|not-ours|sovereign-x|\x1b|\u009b|\u202E|long line/);
    // The same version again runs nothing, and shows nothing of it.
    const again = m.apply([cleanup('1')]);
    expect([again.status, shown(again.output)]).toEqual([0, []]);
    // A failed step's removals stay removed through the rollback: shown as well, then the rollback's (version 1's step
    // runs again), before the failure's message with the tail of the failed step's output.
    const failed = m.apply([cleanup('2', 3)]);
    expect(failed.status).toBe(1);
    expect(shown(failed.output.slice(0, failed.output.indexOf('FAILED to activate')))).toEqual([...removals('2'), ...removals('1')]);
  });

  test("a failed step's message shows its own output, not what its background process wrote after it exited", () => {
    const m = machine();
    const migrate: BundlePart = {
      name: 'migrate',
      files: [{ path: '/etc/acme/migrate.conf', content: 'x=1\n' }],
      commands: [['sh', '-c', "(while echo daemon-chatter; do sleep 0.05; done) & echo 'ERROR: migration 42 failed'; exit 3"]],
    };
    const run = m.apply([migrate], {}, { commandTimeout: Duration.seconds(20) });
    expect(run.status).toBe(1);
    const failure = run.output.slice(run.output.indexOf('FAILED to activate'));
    expect(failure).toContain('\n  | ERROR: migration 42 failed\n');
    // The background's first line may come before the step's, while the step still ran: its own output, then.
    expect((failure.match(/\| daemon-chatter/g) ?? []).length).toBeLessThanOrEqual(2);
  });

  // Review: removing a table's nftables.service drop-in (a machine leaving the private network, the egress allowlist
  // turned off) restarted nftables.service, whose start flushes every table: the egress allowlist's, Docker's NAT.
  test('a removed nftables.service drop-in reloads systemd and never restarts nftables.service', () => {
    const m = machine();
    const tables: BundlePart = {
      name: 'tables',
      files: [PRIVATE_INGRESS_NFTABLES_DROP_IN, nftablesDropInPath('sovereign-egress')].map((p) => ({ path: p, content: nftablesServiceDropIn('Test', hostTablesLoaderPath('test')) })),
    };
    m.apply([app('a=1\n'), tables]);
    const run = m.apply([app('a=1\n')]);
    expect(run.status).toBe(0);
    expect(m.read(PRIVATE_INGRESS_NFTABLES_DROP_IN)).toBeUndefined();
    expect(m.systemctl()).toEqual(['daemon-reload']);
    expect(run.output).toMatch(/nftables.service lost its drop-in zz-sovereign-private-ingress.conf: not restarted \(its restart removes every nftables table but the host tables\)/);
  });

  // Review: the parts' drop-ins were renamed 50-sovereign-*.conf to zz-sovereign-*.conf (to sort after override.conf),
  // and no rollout across the rename was tested: the new name written before the old one goes, one daemon-reload,
  // nftables.service never restarted, and a failed rollout puts the old name back.
  test('a drop-in renamed from 50- to zz-: one daemon-reload and no restart; a failed rollout puts 50- back', () => {
    const m = machine();
    const old50 = PRIVATE_INGRESS_NFTABLES_DROP_IN.replace('/zz-', '/50-');
    expect(old50).not.toBe(PRIVATE_INGRESS_NFTABLES_DROP_IN);
    const content = nftablesServiceDropIn('Test', hostTablesLoaderPath('sovereign-private-ingress'));
    const tables = (dropIn: string, fail = false): BundlePart => ({ name: 'tables', files: [{ path: dropIn, content }], ...(fail ? { commands: [['false']] } : {}) });
    expect(m.apply([app('a=1\n'), tables(old50)]).status).toBe(0);
    // The upgrade fails at a later step: the rollback puts 50- back and takes zz- away.
    expect(m.apply([app('a=1\n'), tables(PRIVATE_INGRESS_NFTABLES_DROP_IN, true)]).status).toBe(1);
    expect([m.read(old50), m.read(PRIVATE_INGRESS_NFTABLES_DROP_IN)]).toEqual([content, undefined]);
    expect(m.systemctl()).not.toContainEqual(expect.stringMatching(/nftables/));
    const run = m.apply([app('a=1\n'), tables(PRIVATE_INGRESS_NFTABLES_DROP_IN)]);
    expect(run.status).toBe(0);
    expect([m.read(old50), m.read(PRIVATE_INGRESS_NFTABLES_DROP_IN)]).toEqual([undefined, content]);
    expect(m.systemctl()).toEqual(['daemon-reload']);
  });

  // Review: a rollback put each file back or removed it in the order of the paths: a file renamed to a name that sorts
  // first (zz- to 50-) went before the previous name was back, and a rollback cut short there left neither.
  test('a rollback puts every previous file back before it removes one only the failed version had', () => {
    const m = machine();
    const previous = '/etc/systemd/system/acme-worker.service';
    // systemctl says, when the rollback disables the failed version's unit, whether the previous one is back.
    fs.writeFileSync(path.join(m.dir, 'bin/systemctl'), `#!/bin/sh\necho "$* $([ -e ${m.root}${previous} ] && echo with || echo without) ${previous}" >> ${m.dir}/systemctl.log\n`);
    const unit = (name: string, fail = false): BundlePart => ({
      name: 'worker',
      files: [{ path: `/etc/systemd/system/${name}`, content: '[Unit]\nDescription=Worker\n\n[Service]\nExecStart=/bin/true\n' }],
      commands: [fail ? ['false'] : ['true']],
    });
    expect(m.apply([unit('acme-worker.service')]).status).toBe(0);
    // Renamed to a name that sorts first; its step fails.
    expect(m.apply([unit('acme-app.service', true)]).status).toBe(1);
    expect(m.systemctl()).toContain(`disable --now acme-app.service with ${previous}`);
    expect([m.read(previous) !== undefined, m.read('/etc/systemd/system/acme-app.service')]).toEqual([true, undefined]);
  });

  // Review: a whole file the bundle had put over Debian's nftables.service was said to be a lost drop-in.
  test("a removed whole file over Debian's nftables.service is named as such, and nftables.service is never restarted", () => {
    const m = machine();
    fs.mkdirSync(path.join(m.root, 'lib/systemd/system'), { recursive: true });
    fs.writeFileSync(path.join(m.root, 'lib/systemd/system/nftables.service'), '[Service]\nExecStart=/usr/sbin/nft -f /etc/nftables.conf\n');
    m.apply([app('a=1\n'), { name: 'tables', files: [{ path: '/etc/systemd/system/nftables.service', content: '[Service]\nExecStart=/bin/true\n' }] }]);
    const run = m.apply([app('a=1\n')]);
    expect(run.status).toBe(0);
    expect(m.systemctl()).toEqual(['daemon-reload']);
    expect(run.output).toContain("nftables.service lost the bundle's file over Debian's: not restarted (its restart removes every nftables table but the host tables)");
  });

  // Review: the private-network check's metric file stayed when its part was removed or rolled back, and its last value
  // (0) kept PrivateIngressNotLoaded firing for a machine that no longer has the table.
  test("a part's runtime files (its textfile metric) go when the part leaves the bundle, and when a rollout that added it rolls back", () => {
    const m = machine();
    const [metric] = PRIVATE_INGRESS_RUNTIME_FILES; // its textfile
    const check = (fail = false): BundlePart => ({
      name: 'check',
      runtimeFiles: [metric],
      files: [{ path: '/etc/acme/check.conf', content: 'x=1\n' }],
      // The check runs as its first activation does, and writes its metric; a later part may still fail the rollout.
      commands: [['sh', '-c', `mkdir -p ${path.dirname(path.join(m.root, metric))} && echo 'present 0' > ${path.join(m.root, metric)}`], ...(fail ? [['false']] : [])],
    });
    // Added with a failing step: the rollback takes the metric it wrote along with its files.
    expect(m.apply([app('a=1\n'), check(true)]).status).toBe(1);
    expect(m.read(metric)).toBeUndefined();
    expect(m.apply([app('a=1\n'), check()]).status).toBe(0);
    expect(m.read(metric)).toBe('present 0\n');
    const run = m.apply([app('a=1\n')]);
    expect(run.status).toBe(0);
    expect(m.read(metric)).toBeUndefined();
    expect(run.output).toContain(`removed ${metric}, written by a part that is gone`);
  });

  // Review: a part's runtime files were unlinked by their path: through a node-exporter symlink that prometheus (owner of
  // /var/lib/prometheus) planted, root unlinked the same-named files in its target.
  test("a leaving part's runtime files are never removed through a symlink planted where node exporter's directory was", () => {
    const m = machine();
    const [metric] = PRIVATE_INGRESS_RUNTIME_FILES; // in node exporter's directory
    const textfiles = path.join(m.root, path.dirname(metric));
    const check: BundlePart = {
      name: 'check',
      runtimeFiles: [metric],
      files: [{ path: '/etc/acme/check.conf', content: 'x=1\n' }],
      commands: [['sh', '-c', `mkdir -p ${textfiles} && echo 'present 1' > ${path.join(m.root, metric)}`]],
    };
    expect(m.apply([app('a=1\n'), check]).status).toBe(0);
    expect(m.read(metric)).toBe('present 1\n');
    // prometheus owns the directory that holds node exporter's, as Debian ships it, and swaps node-exporter for a symlink.
    fs.chownSync(path.dirname(textfiles), 65534, 65534);
    const victim = path.join(m.dir, 'victim');
    fs.mkdirSync(victim);
    fs.writeFileSync(path.join(victim, path.basename(metric)), 'not the part\'s\n');
    fs.renameSync(textfiles, `${textfiles}.moved`);
    fs.symlinkSync(victim, textfiles);
    const linked = m.apply([app('a=1\n')]);
    expect(linked.status).toBe(0);
    expect(linked.output).toContain(`sovereign-rollout: ${metric} not removed: a directory on its path is a symlink where another user can write, or no directory; remove that symlink, then delete the file by hand`);
    expect(linked.output).not.toContain(`removed ${metric},`);
    expect(fs.readdirSync(victim)).toEqual([path.basename(metric)]);
    expect(fs.readFileSync(path.join(victim, path.basename(metric)), 'utf8')).toBe('not the part\'s\n');
    // A directory of prometheus's own there (no symlink): the part's file in it is removed, the agent's metric not written.
    const part = m.apply([app('a=1\n'), check]);
    expect(part.status).toBe(0);
    fs.rmSync(textfiles);
    fs.mkdirSync(textfiles);
    fs.chownSync(textfiles, 65534, 65534);
    fs.writeFileSync(path.join(textfiles, path.basename(metric)), 'present 1\n');
    const foreign = m.apply([app('a=1\n')]);
    expect(foreign.status).toBe(0);
    expect(foreign.output).toContain(`removed ${metric}, written by a part that is gone`);
    expect(foreign.output).toContain('sovereign_rollout.prom not written');
    expect(fs.readdirSync(textfiles)).toEqual([]);
  });

  // Audit (fifth pass): a part's drop-in went with it, but its directory stayed: every backup job or monitoring unit a
  // deploy removed left an empty /etc/systemd/system/<unit>.service.d behind. It goes with its last drop-in (a removed
  // file of the bundle, a runtime file, a rollback); one that holds the team's own drop-in stays, with it.
  test("a unit's drop-in directory goes with its part's last drop-in, never while it holds someone else's", () => {
    const m = machine();
    const units = '/etc/systemd/system';
    const [dump, push] = BACKUP_JOB_UNITS;
    const hook = (unit: string) => `${units}/${unit}.service.d/${JOB_HOOK_DROP_IN}`;
    const backup = (fail = false): BundlePart => ({
      name: 'backup',
      // The monitoring's hooks on the job units, written by its setup (runtime files of the part that has the units).
      runtimeFiles: jobMetricFiles([dump, push]),
      files: [
        { path: `${units}/${dump}.service`, content: '[Service]\nType=oneshot\nExecStart=/bin/true\n' },
        { path: `${units}/${push}.service`, content: '[Service]\nType=oneshot\nExecStart=/bin/true\n' },
        // A drop-in of the bundle, on a Debian unit (as the monitoring's on prometheus.service).
        { path: `${units}/prometheus.service.d/sovereign-monitoring.conf`, content: '[Service]\nMemoryMax=256M\n' },
      ],
      commands: [['sh', '-c', [dump, push].map((u) => `mkdir -p ${path.join(m.root, units, u + '.service.d')} && echo '[Service]' > ${path.join(m.root, hook(u))}`).join(' && ')], ...(fail ? [['false']] : [])],
    });
    const dirs = () => fs.readdirSync(path.join(m.root, units)).filter((d) => d.endsWith('.d')).sort();
    // Added by a rollout that fails: the rollback takes the directories along with the drop-ins.
    expect(m.apply([app('a=1\n'), backup(true)]).status).toBe(1);
    expect(dirs()).toEqual([]);
    expect(m.apply([app('a=1\n'), backup()]).status).toBe(0);
    expect(dirs()).toEqual([`${dump}.service.d`, `${push}.service.d`, 'prometheus.service.d']);
    // The team's own drop-in beside the part's, on the push's unit.
    m.write(`${units}/${push}.service.d/override.conf`, '[Service]\nNice=10\n');
    const run = m.apply([app('a=1\n')]);
    expect(run.status).toBe(0);
    expect(run.output).toContain(`removed ${hook(dump)}, written by a part that is gone`);
    expect(dirs()).toEqual([`${push}.service.d`]);
    expect(fs.readdirSync(path.join(m.root, units, `${push}.service.d`))).toEqual(['override.conf']);
  });

  // Review: the agent compared the runtime files the two bundles list, not the parts: a part that stays and gains a
  // runtime file (the backup jobs' metrics) lost that file on a failed upgrade's rollback and on a revert to the version
  // that did not list it, while the part kept running (its alerts lost the failure metric and the watched-since time).
  test("a part that stays keeps its runtime files: a failed upgrade that lists them and a revert to a version that did not remove none", () => {
    const m = machine();
    const [metric] = PRIVATE_INGRESS_RUNTIME_FILES; // its textfile
    const check = (listed: boolean, fail = false): BundlePart => ({
      name: 'check',
      ...(listed ? { runtimeFiles: [metric] } : {}),
      files: [{ path: '/etc/acme/check.conf', content: `listed=${listed}\n` }],
      commands: [['sh', '-c', `mkdir -p ${path.dirname(path.join(m.root, metric))} && echo 'present 0' > ${path.join(m.root, metric)}`], ...(fail ? [['false']] : [])],
    });
    expect(m.apply([app('a=1\n'), check(false)]).status).toBe(0);
    expect(m.read(metric)).toBe('present 0\n');
    // The upgrade that lists the file fails: the rollback puts the old version back, which still writes it.
    expect(m.apply([app('a=1\n'), check(true, true)]).status).toBe(1);
    expect(m.read(metric)).toBe('present 0\n');
    expect(m.apply([app('a=1\n'), check(true)]).status).toBe(0);
    // A revert to the version that did not list it: the part stays, and so does what it writes.
    const revert = m.apply([app('a=1\n'), check(false)]);
    expect(revert.status).toBe(0);
    expect(m.read(metric)).toBe('present 0\n');
    expect(revert.output).not.toContain(`removed ${metric}`);
  });

  // Review: a failed dpkg --configure -a failed every deploy, one that installs no package too, and so did the race in
  // which unattended-upgrades takes dpkg's lock between the agent's look at it and dpkg --configure -a.
  test('an interrupted dpkg that cannot be finished fails only a deploy that installs a package; one that began meanwhile fails none', async () => {
    const m = machine();
    const admin = path.join(m.root, 'var/lib/dpkg');
    fs.mkdirSync(path.join(admin, 'updates'), { recursive: true });
    fs.writeFileSync(path.join(admin, 'updates/0001'), '');
    const started = path.join(m.dir, 'dpkg-started');
    const locked = path.join(m.dir, 'dpkg-locked');
    const race = path.join(m.dir, 'race');
    for (const fifo of [started, locked]) expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    // dpkg stands in for itself: a postinst that fails, or (in the race) the frontend lock found taken.
    fs.writeFileSync(path.join(m.dir, 'bin/dpkg'), `#!/bin/sh
if [ -e ${race} ]; then echo > ${started}; read x < ${locked}; echo 'dpkg: error: dpkg frontend lock was locked by another process'; exit 2; fi
echo 'dpkg: error processing package acme-probe (--configure): installed acme-probe package post-installation script subprocess returned error exit status 1'
exit 1
`, { mode: 0o755 });
    const none = m.apply([app('a=1\n')]);
    expect([none.status, none.output]).toEqual([0, expect.stringMatching(/dpkg --configure -a exited 1: .*post-installation script .*no package to install, so the rollout goes on/)]);
    const needed = m.apply([app('a=2\n'), { name: 'probe', packages: ['acme-probe-not-installed'] }]);
    expect(needed.status).toBe(1);
    expect(needed.output).toMatch(/FAILED to finish the interrupted dpkg: dpkg --configure -a exited 1:\n {2}\| dpkg: error processing package acme-probe/);
    expect(m.read('/etc/acme/app.conf')).toBe('a=1\n');

    // unattended-upgrades takes the frontend lock once the agent has looked, before dpkg runs.
    fs.writeFileSync(race, '');
    const holder = spawn(MACHINE_PYTHON, ['-c', `import fcntl, sys\nopen("${started}").read()\nf = open("${admin}/lock-frontend", "a+")\nfcntl.lockf(f, fcntl.LOCK_EX)\nopen("${locked}", "w").write("x")\nsys.stdin.read()`],
      { stdio: ['pipe', 'ignore', 'inherit'] });
    try {
      const during = m.apply([app('a=3\n'), { name: 'probe', packages: ['acme-probe-not-installed'] }]);
      expect([during.status, during.output]).toEqual([0, expect.stringMatching(/dpkg is running \(another apt-get, or unattended-upgrades\)/)]);
      expect(m.read('/etc/acme/app.conf')).toBe('a=3\n');
    } finally {
      holder.stdin!.end();
    }
    await new Promise((done) => holder.once('exit', done));
  });

  // An apt-get stopped at the timeout takes its dpkg with it (the process tree is killed), and dpkg's journal keeps the
  // interrupted operation: apt-get then refuses every install until someone runs dpkg --configure -a by hand. Here a
  // real dpkg works on the machine's own database (under its root, never this machine's), and is killed as a timeout kills it.
  // dpkg refuses to install as another user than root ("requires superuser privilege"), under --root too.
  const dpkgKilled = 'a dpkg killed at a timeout is finished by the next rollout (dpkg --configure -a) before its packages and steps; a running one is left alone';
  testWithRealParts(isRoot, dpkgKilled, 'root (dpkg -i)')(dpkgKilled, async () => {
    const m = machine();
    // A package whose configuration hangs the first time, as a postinst waiting on a mirror or a lock does.
    const once = path.join(m.dir, 'hang-once');
    const configured = path.join(m.dir, 'configured');
    const { admin, install, state } = dpkgPackage(m, { postinst: `echo configured >> ${configured}\nif [ -e ${once} ]; then rm ${once}; exec sleep 300; fi` });
    fs.writeFileSync(once, '');
    const killed = m.apply([app('a=1\n'), install], {}, { commandTimeout: Duration.seconds(3) });
    expect(killed.output).toMatch(/FAILED to activate "probe": dpkg .* exited 124:\n {2}\| timed out after 3 s/);
    expect(state()).toBe('install ok half-configured');
    expect(fs.readdirSync(path.join(admin, 'updates')).filter((f) => /^\d+$/.test(f)).length).toBeGreaterThan(0);

    // While a dpkg runs (unattended-upgrades) its journal holds entries too, and it holds dpkg's lock: that is left alone.
    const ready = path.join(m.dir, 'locked');
    const holder = spawn(MACHINE_PYTHON, ['-c', `import fcntl, sys\nf = open("${admin}/lock", "a+")\nfcntl.lockf(f, fcntl.LOCK_EX)\nopen("${ready}", "w").close()\nsys.stdin.read()`],
      { stdio: ['pipe', 'ignore', 'inherit'] });
    try {
      waitFor(() => fs.existsSync(ready), "the holder of dpkg's lock ready");
      const during = m.apply([app('a=2\n')]);
      expect([during.status, during.output]).toEqual([0, expect.stringMatching(/dpkg is running \(another apt-get, or unattended-upgrades\)/)]);
      expect(state()).toBe('install ok half-configured');
    } finally {
      holder.stdin!.end();
    }
    await new Promise((done) => holder.once('exit', done));

    // Review: the repair ran only on a rollout that switched something; "deploy again" with nothing changed left dpkg
    // broken, and unattended-upgrades with it.
    const next = m.apply([app('a=2\n')]);
    expect(next.output).toMatch(/dpkg was interrupted \(\d+ journal entries in .*\/var\/lib\/dpkg\/updates\): running dpkg --configure -a/);
    expect([next.status, next.output]).toEqual([0, expect.stringMatching(/nothing to do/)]);
    expect(state()).toBe('install ok installed');
    expect(fs.readFileSync(configured, 'utf8')).toBe('configured\nconfigured\n');
    expect(fs.readdirSync(path.join(admin, 'updates')).filter((f) => /^\d+$/.test(f))).toEqual([]);
    // Nothing left to finish: the next rollout says nothing of dpkg.
    const after = m.apply([app('a=3\n')]);
    expect([after.status, after.output]).toEqual([0, expect.not.stringMatching(/dpkg/)]);
    expect(m.read('/etc/acme/app.conf')).toBe('a=3\n');
  });

  // Review: a package cut short while unpacking is half-installed, which dpkg --configure -a passes by (it exits 0): the
  // rollout went on as if dpkg were repaired, and apt-get then refused every install, naming no fix the operator could act on.
  const halfInstalled = 'a package cut short while unpacking is named, with the reinstall that finishes it: only a deploy that installs a package fails';
  testWithRealParts(isRoot, halfInstalled, 'root (dpkg -i)')(halfInstalled, () => {
    const m = machine();
    const { install, state } = dpkgPackage(m, { preinst: 'exec sleep 300' });
    m.apply([app('a=1\n')]);
    const killed = m.apply([app('a=1\n'), install], {}, { commandTimeout: Duration.seconds(3) });
    expect(killed.output).toMatch(/FAILED to activate "probe": dpkg .* exited 124/);
    expect(state()).toBe('install reinstreq half-installed');
    const needed = m.apply([app('a=2\n'), { name: 'packages', packages: ['acme-probe-not-installed'] }]);
    expect(needed.status).toBe(1);
    expect(needed.output).toMatch(/FAILED to finish the interrupted dpkg: dpkg left acme-probe half-installed \(its unpacking was cut short\): dpkg --configure -a cannot finish it, only a reinstall can/);
    expect(needed.output).toMatch(/Fix: run apt-get install --reinstall acme-probe on the machine, then deploy again/);
    expect(m.read('/etc/acme/app.conf')).toBe('a=1\n');
    const none = m.apply([app('a=2\n')]);
    expect([none.status, none.output]).toEqual([0, expect.stringMatching(/dpkg left acme-probe half-installed .*apt-get install --reinstall acme-probe.*; no package to install, so the rollout goes on/)]);
    expect(m.read('/etc/acme/app.conf')).toBe('a=2\n');
  });

  // Review: a package cut short while being removed is half-installed too, and got the reinstall as its fix, which
  // undoes the removal the operator (or a part) asked for; \`dpkg --remove\` finishes it.
  const halfRemoved = 'a package cut short while being removed is named with the removal that finishes it, not a reinstall';
  testWithRealParts(isRoot, halfRemoved, 'root (dpkg -i)')(halfRemoved, () => {
    const m = machine();
    const { install, state } = dpkgPackage(m, { postrm: '[ "$1" = remove ] && exec sleep 300; exit 0' });
    expect(m.apply([install]).status).toBe(0);
    const remove: BundlePart = { name: 'unprobe', commands: [['dpkg', `--root=${m.root}`, '--force-script-chrootless', '-r', 'acme-probe']] };
    const killed = m.apply([install, remove], {}, { commandTimeout: Duration.seconds(3) });
    expect(killed.output).toMatch(/FAILED to activate "unprobe": dpkg .* exited 124/);
    expect(state()).toBe('deinstall ok half-installed');
    const needed = m.apply([{ name: 'packages', packages: ['acme-probe-not-installed'] }]);
    expect(needed.status).toBe(1);
    expect(needed.output).toMatch(/dpkg left acme-probe half-installed \(its removal was cut short\): dpkg --configure -a cannot finish it, only a removal can/);
    expect(needed.output).toMatch(/Fix: run dpkg --remove acme-probe on the machine, then deploy again/);
  });

  // In CI it runs (and fails when not root): a skip there would hide the owner rollback.
  // Review: a package flagged reinst-required and selected for removal was given `dpkg --remove`, which refuses it
  // ("you should reinstall it before attempting a removal") without --force-remove-reinstreq.
  test('a package flagged reinst-required and selected for removal is given the forced removal that finishes it', () => {
    const m = machine();
    fs.mkdirSync(path.join(m.root, 'var/lib/dpkg/updates'), { recursive: true });
    fs.writeFileSync(path.join(m.root, 'var/lib/dpkg/status'),
      'Package: acme-probe\nStatus: deinstall reinstreq half-installed\nVersion: 1.0\nArchitecture: all\nMaintainer: Acme <ops@acme.eu>\nDescription: probe\n');
    const needed = m.apply([{ name: 'packages', packages: ['acme-probe-not-installed'] }]);
    expect(needed.status).toBe(1);
    expect(needed.output).toMatch(/dpkg left acme-probe half-installed \(its removal was cut short\): dpkg --configure -a cannot finish it, only a removal can/);
    expect(needed.output).toMatch(/Fix: run dpkg --remove --force-remove-reinstreq acme-probe on the machine, then deploy again/);
  });

  const ownerChange = 'applies a change of owner alone, and a rollback puts the previous owner back';
  testWithRealParts(isRoot, ownerChange, 'root (chown)')(ownerChange, () => {
    const m = machine();
    const owned = (owner: string, fail = false): BundlePart => ({
      name: 'owned',
      files: [{ path: '/etc/acme/owned.conf', content: 'x=1\n', owner }],
      commands: [['sh', '-c', fail ? 'exit 5' : 'true']],
    });
    m.apply([owned('root:root')]);
    const nobody = spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim();
    const run = m.apply([owned('nobody:nogroup')]);
    expect(run.output).toMatch(/1 files changed/);
    expect(String(fs.statSync(path.join(m.root, 'etc/acme/owned.conf')).uid)).toBe(nobody);
    m.apply([owned('root:root', true)]);
    expect(String(fs.statSync(path.join(m.root, 'etc/acme/owned.conf')).uid)).toBe(nobody);
  });

  test("root's authorized_keys: ssh-keygen refuses a file that holds no readable key before it replaces the one that lets admins in", () => {
    const m = machine();
    const stack = new TerraformStack(Testing.app(), 'keys');
    const keys = (publicKey: string) => adminKeysPart(stack, [{ sshKeyReference: 'ops', publicKey }])!;
    const ops = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr ops@acme.eu';
    expect(m.apply([keys(ops)]).status).toBe(0);
    expect(m.read('/root/.ssh/authorized_keys')).toContain(ops);
    // Text of the right shape, but no key. Synth refuses it now; the machine's own check stays the second line (a key
    // synth's parser accepts and ssh-keygen does not, a file changed on its way), so the part is changed after synth here.
    const broken = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBroken ops@acme.eu';
    expect(() => keys(broken)).toThrow(/is not one OpenSSH public key line/);
    const part = keys(ops);
    const tampered: BundlePart = { ...part, files: part.files!.map((f) => ({ ...f, content: String(f.content).replace(ops, broken) })) };
    expect(String(tampered.files![0].content)).toContain(broken);
    const run = m.apply([tampered]);
    expect(run.status).toBe(1);
    expect(run.output).toMatch(/FAILED to check \/root\/\.ssh\/authorized_keys: ssh-keygen exited 255 on the staged file/);
    expect(m.read('/root/.ssh/authorized_keys')).toContain(ops);
  });

  // docs/day-2.md and the RolloutFailed alert tell the operator to run `sovereign-rollout status` on the machine. The
  // deploy copies the agent into the incoming directory, which every apply removes, so the machine had no such command.
  test('leaves `sovereign-rollout` on the machine, so `sovereign-rollout status` answers after an apply, a failed one too', () => {
    const m = machine();
    const command = path.join(m.root, 'usr/local/sbin/sovereign-rollout');
    const status = () => spawnSync(MACHINE_PYTHON, [command, 'status'], { env: { ...process.env, SOVEREIGN_ROOT: m.root }, encoding: 'utf8' });
    const failing: BundlePart = { name: 'broken', files: [{ path: '/etc/acme/broken.conf', content: 'x=1\n' }], commands: [['sh', '-c', 'exit 4']] };

    expect(m.apply([failing]).status).toBe(1);
    expect(fs.statSync(command).mode & 0o777).toBe(0o755);
    expect(status().stdout).toMatch(/^no bundle installed/);

    const run = m.apply([app('a=1\n')]);
    expect(run.status).toBe(0);
    expect(run.incomingLeft).toBe(false);
    const answer = status();
    expect(answer.status).toBe(0);
    expect(answer.stdout).toMatch(new RegExp(`^acme-production-app runs bundle ${run.version} `));
    expect(fs.readFileSync(command, 'utf8')).toBe(fs.readFileSync(path.join(m.dir, 'sovereign-rollout'), 'utf8'));
  });

  test('refuses to run without its arguments', () => {
    const m = machine();
    const run = spawnSync(MACHINE_PYTHON, [path.join(m.dir, 'sovereign-rollout'), 'apply'], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/usage: sovereign-rollout apply --version sha256:<hex> --dir <incoming> \| status/);
  });
});

// Review: a user's part printing a line in the library tool's exact shape (`sovereign-monitoring-setup: removed …`)
// through its own shell had it shown in the deploy's log although the step succeeded: the agent matched the line alone.
describe("the rollout agent, a user's part printing the library tool's removal lines", () => {
  const machines: Machine[] = [];
  afterAll(() => machines.forEach((m) => m.remove()));
  const machine = () => {
    const m = new Machine();
    machines.push(m);
    return m;
  };
  test('its lines are not shown, however they are printed: through sh -c, or by a script of its own of the same name elsewhere', () => {
    const m = machine();
    const line = `${REMOVAL_REPORTING_TOOLS[0]}: removed /etc/acme/${secret} (a user's line in the library tool's shape)`;
    const run = m.apply([
      { name: 'shell', files: [{ path: '/etc/acme/a.conf', content: 'a\n' }], commands: [['sh', '-c', 'printf "%s\\n" "$0"', line], `printf '%s\\n' "${line}"`] },
      {
        name: 'own script',
        files: [{ path: `/opt/acme/${REMOVAL_REPORTING_TOOLS[0]}`, content: `#!/bin/sh\nprintf '%s\\n' "${line}"\n`, permissions: '0755' }],
        commands: [[`/opt/acme/${REMOVAL_REPORTING_TOOLS[0]}`]],
      },
    ]);
    expect(run.status).toBe(0);
    expect(run.output).not.toContain('removed /etc/acme');
    expect(run.output).not.toContain(secret);
  });
});


// Review: write_textfile had its own copy of write_atomic (no sync of the directory after the rename), and said "is a
// symlink or not a directory" of any error opening node exporter's directory. It writes through write_atomic now,
// relative to the directory's fd: the file synced, renamed, then the directory synced.
describe("the rollout agent's textfile metric", () => {
  const machines: Machine[] = [];
  afterAll(() => machines.forEach((m) => m.remove()));
  const traced = 'is written by write_atomic relative to the directory opened without following a symlink, the file and then the directory synced';
  testWithRealParts(hasStrace, traced, 'strace (scripts/system-packages.sh installs it)')(traced, () => {
    const m = new Machine();
    machines.push(m);
    const trace = path.join(m.dir, 'trace');
    const harness = [
      'import sys',
      'agent = {"__name__": "sovereign_rollout"}',
      'exec(compile(sys.stdin.read(), "sovereign-rollout", "exec"), agent)',
      'agent["write_textfile"]("sovereign_rollout.prom", b"sovereign_rollout_success 1\\n")',
    ].join('\n');
    const run = spawnSync('strace', ['-qq', '-f', '-o', trace, '-e', 'trace=openat,fsync,rename,renameat,renameat2', MACHINE_PYTHON, '-c', harness],
      { input: ROLLOUT_AGENT, encoding: 'utf8', env: { ...process.env, SOVEREIGN_ROOT: m.root } });
    expect([run.status, run.stderr]).toEqual([0, '']);
    const lines = fs.readFileSync(trace, 'utf8').split('\n').filter((line) => /node-exporter|sovereign-rollout\.|fsync|rename/.test(line));
    const dirOpen = lines.findIndex((line) => /openat\(.*node-exporter", O_RDONLY\|O_NONBLOCK\|O_CLOEXEC\|O_DIRECTORY\|O_NOFOLLOW|openat\(.*node-exporter", .*O_NOFOLLOW/.test(line));
    expect(dirOpen).toBeGreaterThanOrEqual(0);
    const dirFd = /= (\d+)$/.exec(lines[dirOpen])![1];
    const after = lines.slice(dirOpen + 1).map((line) => line.replace(/^\d+\s+/, ''));
    // The temporary file made in that directory by name, synced, renamed in it, then the directory itself synced.
    expect(after.find((line) => line.startsWith('openat('))).toMatch(new RegExp(`^openat\\(${dirFd}, "\\.sovereign-rollout\\.[a-z0-9_]{8}", O_RDWR\\|O_CREAT\\|O_EXCL\\|O_NOFOLLOW`));
    const calls = after.filter((line) => !line.startsWith('openat(')).map((line) => line.replace(/\s+=.*$/, '').replace(/,.*$/, ''));
    expect(calls).toEqual([expect.stringMatching(/^fsync\(\d+\)$/), expect.stringMatching(new RegExp(`^renameat2?\\(${dirFd}$`)), `fsync(${dirFd})`]);
    expect(calls[0]).not.toBe(`fsync(${dirFd})`);
    expect(m.read('/var/lib/prometheus/node-exporter/sovereign_rollout.prom')).toBe('sovereign_rollout_success 1\n');
    expect(fs.statSync(path.join(m.root, 'var/lib/prometheus/node-exporter/sovereign_rollout.prom')).mode & 0o777).toBe(0o644);
  });
});
