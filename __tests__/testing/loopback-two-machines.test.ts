import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TerraformStack, Testing } from 'cdktf';
import { HcloudProvider } from '../../generated/providers/hcloud/provider';
import { DataClass, Environment, FirewallRule, Machine, Phase, SshKey } from '../../lib';
import { HetznerStandIn, LoopbackMachine, StandInWorkspace, synthesizedBundle, TerraformRun } from '../../testing';
import { OVERRIDE_FILE } from '../../testing/harness/stand-in-names';
import { describeWithRealParts, hasTerraform, isRoot } from '../setup/real-parts';

// A stack that rolls out to two machines, deployed through the stand-in with each machine's bundle rolled out to its
// own LoopbackMachine (rolloutTargets): each host gets its machine's files and version only. With one rolloutTarget
// both bundles landed on one host, and the steps of the two rollouts, run at once from one file, could swap bundles.

const APP = 'acme-production-app';
const WORKER = 'acme-production-worker';
const ADMIN_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr ops@acme.eu';

const ready = isRoot && hasTerraform();
const describeReal = describeWithRealParts(ready, 'the two-machine loopback rollout', 'root (sshd) and terraform on PATH');

/** The smallest stack with two rolled-out machines: each has a file of its own and one file both have, with its own content. */
function twoMachines(workerThreads: number): any {
  const stack = new TerraformStack(Testing.app({ stackTraces: false }), 'acme-production');
  new HcloudProvider(stack, 'hcloud', {});
  const sshKeys = [new SshKey(stack, 'Admin', { name: 'admin', publicKey: ADMIN_KEY })];
  const env = Environment.PRODUCTION;
  const machine = (id: string, role: string, name: string) => new Machine(stack, id, {
    environment: env, role, name, serverType: Phase.ONE.machineFor(env).preferred, dataClasses: [DataClass.PSEUDONYMIZED],
    ingress: [FirewallRule.httpsFromAnywhere()], sshKeys, adminCidrs: ['203.0.113.0/24'],
  });
  machine('App', 'app', APP).addBundlePart({ name: 'team: app', files: [{ path: '/etc/acme/app.conf', content: 'port=8080\n' }, { path: '/etc/acme/role', content: 'app\n' }] });
  machine('Worker', 'worker', WORKER).addBundlePart({ name: 'team: worker', files: [{ path: '/etc/acme/worker.conf', content: `threads=${workerThreads}\n` }, { path: '/etc/acme/role', content: 'worker\n' }] });
  return JSON.parse(Testing.synth(stack, true));
}

/** What Terraform and the provisioners said, for a failure's message. */
const said = (run: TerraformRun) => `${run.stdout}\n${run.stderr}`.slice(-6000);

describeReal('two machines of one stack, each rolled out to its own LoopbackMachine', () => {
  const standIn = new HetznerStandIn();
  let dir: string;
  let app: LoopbackMachine;
  let worker: LoopbackMachine;
  const stepScripts = new Set<string>();
  /** Notes the step files the workspace's override names (connection.script_path of each rollout): each machine's stop() removes its own. */
  const noteStepScripts = (ws: StandInWorkspace) => {
    const override = JSON.parse(fs.readFileSync(path.join(ws.dir, OVERRIDE_FILE), 'utf8'));
    for (const r of Object.values<any>(override.resource.terraform_data)) stepScripts.add(r.connection.script_path);
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loopback-two-machines-'));
    app = await LoopbackMachine.start(path.join(dir, 'app'));
    worker = await LoopbackMachine.start(path.join(dir, 'worker'));
  }, 60_000);

  afterAll(async () => {
    await app?.stop();
    await worker?.stop();
    standIn.stop(true);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("each machine's bundle lands on its own host only, also on the next deploy that changes one of them", () => {
    const v1 = twoMachines(2);
    const ws = standIn.workspace(v1).rollOutEachTo({ [APP]: app.target({ timeout: '60s' }), [WORKER]: worker.target({ timeout: '60s' }) }).setConfiguration(v1);
    noteStepScripts(ws);
    // Each rollout steps from a file of its own target's.
    expect([app.port, worker.port].map((port) => [...stepScripts].filter((f) => f.includes(`.${port}.`)).length)).toEqual([1, 1]);
    const first = ws.apply();
    expect(first.ok ? '' : said(first)).toBe('');
    expect(app.current().version).toBe(synthesizedBundle(v1, APP).version);
    expect(worker.current().version).toBe(synthesizedBundle(v1, WORKER).version);
    expect([app.read('/etc/acme/app.conf'), app.read('/etc/acme/worker.conf'), app.read('/etc/acme/role')]).toEqual(['port=8080\n', undefined, 'app\n']);
    expect([worker.read('/etc/acme/worker.conf'), worker.read('/etc/acme/app.conf'), worker.read('/etc/acme/role')]).toEqual(['threads=2\n', undefined, 'worker\n']);
    // Each host names the server it stands in for: its own server's id, from the simulated project.
    const ids = Object.fromEntries(Object.values<any>(ws.cloud().objects.hcloud_server ?? {}).map((s) => [s.name, String(s.id)]));
    expect(app.read('/etc/sovereign/identity/server')).toContain(`SERVER_ID=${ids[APP]}\n`);
    expect(worker.read('/etc/sovereign/identity/server')).toContain(`SERVER_ID=${ids[WORKER]}\n`);

    // Day 2: only the worker's bundle changes, and only the worker's host gets a new version.
    const v2 = twoMachines(4);
    ws.setConfiguration(v2);
    noteStepScripts(ws);
    const second = ws.apply();
    expect(second.ok ? '' : said(second)).toBe('');
    expect(synthesizedBundle(v2, APP).version).toBe(synthesizedBundle(v1, APP).version);
    expect(app.current().version).toBe(synthesizedBundle(v1, APP).version);
    expect(worker.current().version).toBe(synthesizedBundle(v2, WORKER).version);
    expect(worker.read('/etc/acme/worker.conf')).toBe('threads=4\n');
    expect(app.read('/etc/acme/worker.conf')).toBeUndefined();
  }, 600_000);
});
