import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { gunzipSync, gzipSync } from 'zlib';
import { App, Testing } from 'cdktf';
import { phase3Traction } from '../../examples/phase3-traction';
import { RolloutTarget, StandInWorkspace, synthesizedBundle, writeStandInOverride } from '../../testing';
import { refusal } from '../boundary/refusal';

// One rollout target stood in for every machine of a stack: Phase 3 production rolls out to two (the app and the
// monitoring machine), whose bundles then landed on one host, their files mixed. rolloutTargets gives each its own.

const APP = 'phase3-traction-production-app';
const MONITORING = 'phase3-traction-production-monitoring';
/** The stack's own step script, which each rollout's own file is named after. */
const STEP_SCRIPT = '/root/.sovereign-rollout-step.sh';

const stack = JSON.parse(Testing.synth(phase3Traction(Testing.app({ stackTraces: false }) as App).production!, true));
/** The terraform_data resource that rolls out `server`'s bundle, found by the bundle's version, not by the override's naming. */
const rolloutOf = (server: string) => {
  const version = synthesizedBundle(stack, server).version;
  const found = Object.entries<any>(stack.resource.terraform_data).filter(([, r]) => r.triggers_replace?.bundle === version);
  expect(found).toHaveLength(1);
  return found[0][0];
};
/** The stack with its machines renamed (their bundles re-encoded), for server names a synthesized stack would not carry. */
const renamed = (names: Record<string, string>) => {
  const copy = JSON.parse(JSON.stringify(stack));
  for (const r of Object.values<any>(copy.resource.terraform_data)) {
    const upload = (r.provisioner ?? []).map((p: any) => p.file).find((f: any) => f && String(f.destination).endsWith('/bundle.gz.b64'));
    if (!upload) continue;
    const document = JSON.parse(gunzipSync(Buffer.from(upload.content, 'base64')).toString('utf8'));
    if (Object.prototype.hasOwnProperty.call(names, document.machine)) upload.content = gzipSync(JSON.stringify({ ...document, machine: names[document.machine] })).toString('base64');
  }
  return copy;
};
const target = (port: number, extra: Partial<RolloutTarget> = {}): RolloutTarget => ({ host: '127.0.0.1', port, privateKeyFile: `/keys/${port}`, ...extra });

describe('writeStandInOverride rolls each machine out to its own target', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rollout-targets-'));
  const cloud = path.join(dir, 'cloud.json');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const overrideOf = (options: object, stackJson: unknown = stack) => JSON.parse(fs.readFileSync(writeStandInOverride(dir, cloud, stackJson, options), 'utf8')).resource.terraform_data;

  test('the stack rolls out to two machines, each by its own terraform_data', () => {
    expect(rolloutOf(APP)).not.toBe(rolloutOf(MONITORING));
  });

  test("each machine's rollout connects to its own target, with its own key and host key, and runs its steps from a file of its own", () => {
    const override = overrideOf({ rolloutTargets: { [APP]: target(2201, { hostKey: 'ssh-ed25519 AAAAapp' }), [MONITORING]: target(2202, { timeout: '60s' }) } });
    expect(Object.keys(override).sort()).toEqual([rolloutOf(APP), rolloutOf(MONITORING)].sort());
    expect(override[rolloutOf(APP)].connection).toEqual({
      type: 'ssh', host: '127.0.0.1', port: 2201, user: 'root', timeout: '30s', private_key: '${file("/keys/2201")}', host_key: 'ssh-ed25519 AAAAapp',
      script_path: `/root/.sovereign-rollout-step.2201.${rolloutOf(APP)}.sh`,
    });
    expect(override[rolloutOf(MONITORING)].connection).toEqual({
      type: 'ssh', host: '127.0.0.1', port: 2202, user: 'root', timeout: '60s', private_key: '${file("/keys/2202")}',
      script_path: `/root/.sovereign-rollout-step.2202.${rolloutOf(MONITORING)}.sh`,
    });
    // The provisioners stay the stack's: only where they go changes.
    expect(override[rolloutOf(APP)].provisioner).toBeUndefined();
  });

  test('one rolloutTarget still takes every machine, each stepping from its own file; one machine steps from a file of its target too', () => {
    const override = overrideOf({ rolloutTarget: target(2201) });
    for (const server of [APP, MONITORING]) expect(override[rolloutOf(server)].connection).toMatchObject({ host: '127.0.0.1', port: 2201 });
    expect(Object.values<any>(override).map((r) => r.connection.script_path).sort())
      .toEqual([rolloutOf(APP), rolloutOf(MONITORING)].map((r) => `/root/.sovereign-rollout-step.2201.${r}.sh`).sort());
    // A single rollout too: two test files deploying one-machine stacks at once (jest workers) to their own sshds
    // shared the stack's one /root/.sovereign-rollout-step.sh, and ran each other's steps.
    const single = JSON.parse(Testing.synth(phase3Traction(Testing.app({ stackTraces: false }) as App).test, true));
    const stepOf = (port: number) => Object.values<any>(JSON.parse(fs.readFileSync(writeStandInOverride(dir, cloud, single, { rolloutTarget: target(port) }), 'utf8'))
      .resource.terraform_data).map((r) => r.connection.script_path);
    const [onFirst] = stepOf(2201);
    expect(stepOf(2202)).toHaveLength(1);
    expect(onFirst).toMatch(/^\/root\/\.sovereign-rollout-step\.2201\.[A-Za-z0-9_]+\.sh$/);
    expect(stepOf(2202)[0]).toBe(onFirst.replace('.2201.', '.2202.'));
    expect(onFirst).not.toBe(STEP_SCRIPT);
  });

  test('a map naming a machine the stack does not roll out to is refused, naming the machines it does', () => {
    expect(refusal(() => writeStandInOverride(dir, cloud, stack, { rolloutTargets: { [APP]: target(2201), [MONITORING]: target(2202), 'phase3-traction-production-db': target(2203) } })))
      .toBe(`writeStandInOverride.options.rolloutTargets.phase3-traction-production-db: 'phase3-traction-production-db' is not allowed: the stack rolls out to '${APP}', '${MONITORING}', `
        + `and no machine of this name. Fix: name the machines by their server names: ${APP}, ${MONITORING}`);
    // A construct id is not a server name.
    expect(refusal(() => writeStandInOverride(dir, cloud, stack, { rolloutTargets: { App: target(2201), MonitoringMachine: target(2202) } })))
      .toMatch(/^writeStandInOverride\.options\.rolloutTargets\.App: 'App' is not allowed: the stack rolls out to/);
  });

  test('a machine left out of the map is refused, not rolled out nowhere', () => {
    expect(refusal(() => writeStandInOverride(dir, cloud, stack, { rolloutTargets: { [APP]: target(2201) } })))
      .toBe(`writeStandInOverride.options.rolloutTargets.${MONITORING}: missing: the stack rolls out to '${APP}', '${MONITORING}', and rolloutTargets names no target for `
        + `'${MONITORING}', whose bundle would roll out nowhere. Fix: give every machine a target: '${APP}': …, '${MONITORING}': …`);
  });

  test("machine names that are Object.prototype's properties are read from the map's own entries only", () => {
    const inherited = renamed({ [APP]: 'constructor', [MONITORING]: 'toString' });
    // Left out, each is refused as any machine is: before, `targets.constructor` read Object's function as a target.
    expect(refusal(() => writeStandInOverride(dir, cloud, inherited, { rolloutTargets: {} })))
      .toMatch(/^writeStandInOverride\.options\.rolloutTargets\.constructor: missing: .*names no target for 'constructor', 'toString', whose bundle would roll out nowhere/);
    expect(refusal(() => writeStandInOverride(dir, cloud, inherited, { rolloutTargets: { constructor: target(2201) } })))
      .toMatch(/^writeStandInOverride\.options\.rolloutTargets\.toString: missing: .*names no target for 'toString',/);
    // Named where the stack has no such machine, refused as any other name.
    expect(refusal(() => writeStandInOverride(dir, cloud, stack, { rolloutTargets: { [APP]: target(2201), [MONITORING]: target(2202), toString: target(2203) } })))
      .toMatch(/^writeStandInOverride\.options\.rolloutTargets\.toString: 'toString' is not allowed: the stack rolls out to/);
    const both = overrideOf({ rolloutTargets: { constructor: target(2201), toString: target(2202) } }, inherited);
    expect([both[rolloutOf(APP)].connection.port, both[rolloutOf(MONITORING)].connection.port]).toEqual([2201, 2202]);
    // __proto__ as an own key (JSON, or a computed key), as a plain-JavaScript caller may build the map.
    const proto = renamed({ [APP]: '__proto__' });
    const protoMap = JSON.parse(`{ "__proto__": ${JSON.stringify(target(2201))}, "${MONITORING}": ${JSON.stringify(target(2202))} }`);
    expect(Object.prototype.hasOwnProperty.call(protoMap, '__proto__')).toBe(true);
    const viaProto = overrideOf({ rolloutTargets: protoMap }, proto);
    expect([viaProto[rolloutOf(APP)].connection.port, viaProto[rolloutOf(MONITORING)].connection.port]).toEqual([2201, 2202]);
    expect(refusal(() => writeStandInOverride(dir, cloud, proto, { rolloutTargets: { [MONITORING]: target(2202) } })))
      .toMatch(/^writeStandInOverride\.options\.rolloutTargets\.__proto__: missing: /);
  });

  test('a rollout whose bundle upload does not decode, or names no machine, is refused as edited; synthesizedBundle reads the same upload', () => {
    const edited = (change: (upload: any) => void) => {
      const copy = JSON.parse(JSON.stringify(stack));
      change(copy.resource.terraform_data[rolloutOf(APP)].provisioner.map((p: any) => p.file).find((f: any) => f && String(f.destination).endsWith('/bundle.gz.b64')));
      return copy;
    };
    const targets = { rolloutTargets: { [APP]: target(2201), [MONITORING]: target(2202) } };
    const asEdited = `^writeStandInOverride\\.stackJson: 'terraform_data\\.${rolloutOf(APP)}' is not allowed: it runs the rollout agent but carries no bundle naming its machine`;
    expect(refusal(() => writeStandInOverride(dir, cloud, edited((u) => { u.content = 'bm90IGd6aXA='; }), targets))).toMatch(new RegExp(asEdited));
    expect(refusal(() => writeStandInOverride(dir, cloud, edited((u) => { u.content = gzipSync(JSON.stringify({ parts: [] })).toString('base64'); }), targets))).toMatch(new RegExp(asEdited));
    expect(refusal(() => writeStandInOverride(dir, cloud, edited((u) => { u.destination = '/root/other'; }), targets))).toMatch(new RegExp(asEdited));
    // The name the override keys by is the one synthesizedBundle finds the bundle by.
    expect(synthesizedBundle(renamed({ [APP]: 'renamed-app' }), 'renamed-app').version).toBe(synthesizedBundle(stack, APP).version);
  });

  test('two rollouts of one server name are refused, naming both resources, not merged onto one target', () => {
    const twice = renamed({ [MONITORING]: APP });
    expect(refusal(() => writeStandInOverride(dir, cloud, twice, { rolloutTargets: { [APP]: target(2201) } }))).toBe(
      `writeStandInOverride.stackJson: 'terraform_data.${rolloutOf(MONITORING)}' is not allowed: it rolls out to '${APP}', as terraform_data.${rolloutOf(APP)} does, `
      + 'so one target by server name cannot tell them apart. Fix: give each machine its own server name (Machine name), or pass rolloutTarget to roll every machine onto one host');
    // One target for every machine still takes it.
    expect(Object.keys(overrideOf({ rolloutTarget: target(2201) }, twice))).toHaveLength(2);
  });

  test('both forms at once, two machines on one host, and a map for a stack without rollouts are refused', () => {
    expect(refusal(() => writeStandInOverride(dir, cloud, stack, { rolloutTarget: target(2201), rolloutTargets: { [APP]: target(2201), [MONITORING]: target(2202) } })))
      .toMatch(/^writeStandInOverride\.options: .* is not allowed: rolloutTarget rolls every machine onto one host and rolloutTargets each onto its own.*Fix: pass rolloutTargets alone/);
    expect(refusal(() => writeStandInOverride(dir, cloud, stack, { rolloutTargets: { [APP]: target(2201), [MONITORING]: target(2201) } })))
      .toMatch(new RegExp(`^writeStandInOverride\\.options\\.rolloutTargets\\.${MONITORING}: '127\\.0\\.0\\.1:2201' is not allowed: '${APP}' rolls out to 127\\.0\\.0\\.1:2201 too, and two machines on one host mix their files\\. Fix: .*pass rolloutTarget to roll every machine onto one host on purpose`));
    expect(refusal(() => writeStandInOverride(dir, cloud, {}, { rolloutTargets: { [APP]: target(2201) } })))
      .toMatch(/^writeStandInOverride\.options\.rolloutTargets\.phase3-traction-production-app: .* the stack rolls out to no machine.*Fix: leave rolloutTargets out/);
  });

  test('plain JavaScript: a map of the wrong type, one target in the map\'s place, a bad target, null and the options in the stack\'s place are refused', () => {
    const refusedWith = (options: unknown, stackJson: unknown = stack) => refusal(() => writeStandInOverride(dir, cloud, stackJson, options as any));
    expect(refusedWith({ rolloutTargets: 'phase3-traction-production-app' }))
      .toMatch(/^writeStandInOverride\.options\.rolloutTargets: .* is not allowed: it is a string, not a map of server names to rollout targets\. Fix: pass \{ \[server name\]: target \}/);
    expect(refusedWith({ rolloutTargets: [target(2201), target(2202)] })).toMatch(/^writeStandInOverride\.options\.rolloutTargets: .*it is a list, not a map/);
    expect(refusedWith({ rolloutTargets: target(2201) }))
      .toMatch(/^writeStandInOverride\.options\.rolloutTargets: .* is not allowed: it is one rollout target, not a map of server names to targets\. Fix: .*or pass rolloutTarget with this one$/);
    expect(refusedWith({ rolloutTargets: { [APP]: target(2201), [MONITORING]: { host: '127.0.0.1', port: '2202', privateKeyFile: '/k' } } }))
      .toMatch(new RegExp(`^writeStandInOverride\\.options\\.rolloutTargets\\.${MONITORING}\\.port: '2202' is not allowed: it is a string, not a number`));
    expect(refusedWith({ rolloutTargets: { [APP]: target(2201), [MONITORING]: null } }))
      .toMatch(new RegExp(`^writeStandInOverride\\.options\\.rolloutTargets\\.${MONITORING}: missing`));
    expect(refusedWith({ rolloutTargets: null })).toMatch(/^writeStandInOverride\.options\.rolloutTargets: null is not allowed/);
    expect(refusedWith({ rolloutTarget: target(2201), rolloutTagets: {} })).toMatch(/^writeStandInOverride\.options\.rolloutTagets: .*did you mean 'rolloutTargets'\?/);
    expect(refusal(() => writeStandInOverride(dir, cloud, { rolloutTargets: { [APP]: target(2201) } })))
      .toMatch(/^writeStandInOverride\.stackJson: .* is not allowed: \{ rolloutTargets \} is an option, the fourth argument, not a synthesized stack\. Fix: writeStandInOverride\(stackDir, cloudFile, undefined, \{ rolloutTargets \}\)/);
  });
});

describe('StandInWorkspace passes the targets through', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rollout-targets-ws-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const workspace = () => new StandInWorkspace({ env: () => ({}) }, fs.mkdtempSync(path.join(dir, 'ws-')), path.join(dir, 'cloud.json'));
  const written = (ws: StandInWorkspace) => JSON.parse(fs.readFileSync(path.join(ws.dir, 'hcloud_standin_override.tf.json'), 'utf8')).resource.terraform_data;

  test('rollOutEachTo gives each machine its target at the next setConfiguration; rollOutTo replaces them with one', () => {
    const ws = workspace().rollOutEachTo({ [APP]: target(2201), [MONITORING]: target(2202) }).setConfiguration(stack);
    expect(written(ws)[rolloutOf(APP)].connection.port).toBe(2201);
    expect(written(ws)[rolloutOf(MONITORING)].connection.port).toBe(2202);
    ws.rollOutTo(target(2203)).setConfiguration(stack);
    expect(Object.values<any>(written(ws)).map((r) => r.connection.port)).toEqual([2203, 2203]);
    ws.rollOutEachTo(undefined).setConfiguration(stack);
    expect(Object.values<any>(written(ws)).map((r) => r.provisioner[0]['local-exec'].command)).toEqual(Array(2).fill('echo "stand-in: the bundle is not rolled out (no rollout target)"'));
  });

  test('a refused map leaves the workspace as it was: configuration, override and the file naming the project', () => {
    const ws = workspace().rollOutEachTo({ [APP]: target(2201), [MONITORING]: target(2202) }).setConfiguration(stack);
    const files = ['cdk.tf.json', 'hcloud_standin_override.tf.json', '.hcloud-standin-endpoint'];
    const before = files.map((f) => fs.readFileSync(path.join(ws.dir, f), 'utf8'));
    const other = JSON.parse(Testing.synth(phase3Traction(Testing.app({ stackTraces: false }) as App).test, true));
    // The test stack rolls out to another machine: the map is refused, and nothing of the new stack is written.
    expect(refusal(() => ws.setConfiguration(other))).toMatch(/^StandInWorkspace\.rollOutEachTo\.targets\.phase3-traction-production-app: 'phase3-traction-production-app' is not allowed/);
    expect(files.map((f) => fs.readFileSync(path.join(ws.dir, f), 'utf8'))).toEqual(before);
    expect(JSON.parse(before[0])).toEqual(stack);
    // Fixed, the same workspace takes the new stack whole.
    ws.rollOutTo(target(2203)).setConfiguration(other);
    expect(JSON.parse(fs.readFileSync(path.join(ws.dir, 'cdk.tf.json'), 'utf8'))).toEqual(other);
    expect(Object.values<any>(written(ws)).map((r) => r.connection.port)).toEqual([2203]);
  });

  test('refusals name rollOutEachTo and rollOutTo, not writeStandInOverride\'s options: at setConfiguration those that need the stack, the rest at once', () => {
    expect(refusal(() => workspace().rollOutEachTo({ [APP]: target(2201) }).setConfiguration(stack))).toBe(
      `StandInWorkspace.rollOutEachTo.targets.${MONITORING}: missing: the stack rolls out to '${APP}', '${MONITORING}', and the map names no target for '${MONITORING}', `
      + `whose bundle would roll out nowhere. Fix: give every machine a target: '${APP}': …, '${MONITORING}': …`);
    expect(refusal(() => workspace().rollOutEachTo({ [APP]: target(2201), [MONITORING]: target(2202), other: target(2203) }).setConfiguration(stack)))
      .toMatch(/^StandInWorkspace\.rollOutEachTo\.targets\.other: 'other' is not allowed: the stack rolls out to .* Fix: name the machines by their server names: /);
    expect(refusal(() => workspace().rollOutEachTo({ [APP]: target(2201) }).setConfiguration({})))
      .toMatch(/^StandInWorkspace\.rollOutEachTo\.targets\..*Fix: call rollOutEachTo\(undefined\): there is nothing to roll out$/);
    expect(refusal(() => workspace().rollOutEachTo({ [APP]: target(2201) }).setConfiguration(renamed({ [MONITORING]: APP }))))
      .toMatch(/^StandInWorkspace\.setConfiguration\.stackJson: .* Fix: give each machine its own server name \(Machine name\), or call rollOutTo\(target\) to roll every machine onto one host$/);
    // Refused at rollOutEachTo itself, the stack not needed: two machines on one host, a target in the map's place, a bad target.
    const ws = workspace();
    expect(refusal(() => ws.rollOutEachTo({ [APP]: target(2201), [MONITORING]: target(2201) }))).toBe(
      `StandInWorkspace.rollOutEachTo.targets.${MONITORING}: '127.0.0.1:2201' is not allowed: '${APP}' rolls out to 127.0.0.1:2201 too, and two machines on one host `
      + 'mix their files. Fix: give each machine a host of its own (a LoopbackMachine each), or call rollOutTo(target) to roll every machine onto one host on purpose');
    expect(refusal(() => ws.rollOutEachTo(target(2201) as any))).toMatch(/^StandInWorkspace\.rollOutEachTo\.targets: .*it is one rollout target.*or call rollOutTo\(target\) with this one$/);
    expect(refusal(() => ws.rollOutEachTo({ [APP]: { host: '127.0.0.1', port: '2201' } } as any)))
      .toMatch(new RegExp(`^StandInWorkspace\\.rollOutEachTo\\.targets\\.${APP}\\.port: '2201' is not allowed: it is a string, not a number`));
    expect(refusal(() => ws.rollOutEachTo(null as any))).toMatch(/^StandInWorkspace\.rollOutEachTo\.targets: null is not allowed/);
    expect(refusal(() => ws.rollOutTo({ host: '127.0.0.1', privateKeyFile: '/k' } as any))).toMatch(/^StandInWorkspace\.rollOutTo\.target\.port: missing/);
    // The map is copied when given: a change after it does not slip past the check.
    const map: Record<string, RolloutTarget> = { [APP]: target(2201), [MONITORING]: target(2202) };
    ws.rollOutEachTo(map);
    map[MONITORING] = target(2201);
    expect(Object.values<any>(written(ws.setConfiguration(stack))).map((r) => r.connection.port).sort()).toEqual([2201, 2202]);
  });
});
