import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Environment, Machine, MachineProps, ServerType, SshKey } from '../../lib';
import { disruptiveUpdates, rolloutReplacements } from '../../cli/guard';
import { deployedForGuard, guard } from './cli';
import { HetznerStandIn, stackJson, StandInWorkspace } from '../../testing';
import { ADMIN_CIDRS, testStack } from '../setup/stack';

// Pitfall 8: a new server type or new public addresses are planned as an in-place change ("1 to change", like a
// label), but hcloud powers the server off hard (Poweroff, not a shutdown) before it applies them; turning backups
// off deletes every backup of the server. `guard` names each such change before the deploy, and lets it pass.

const ADMIN_PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr ops@acme.eu';

function production(props: Partial<MachineProps> = {}) {
  const { stack } = testStack('acme-production');
  new Machine(stack, 'App', {
    environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, adminCidrs: ADMIN_CIDRS,
    sshKeys: [new SshKey(stack, 'Admin', { name: 'admin', publicKey: ADMIN_PUBLIC_KEY })], ...props,
  });
  return stackJson(stack);
}

describe('guard names the changes that take production down or delete its backups (stand-in, real Terraform)', () => {
  const standIn = HetznerStandIn.shared();
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'guard-disruptions-'));
  const stack = 'acme-production';
  let ws: StandInWorkspace;
  let env: NodeJS.ProcessEnv;
  beforeAll(() => {
    ({ ws, env } = deployedForGuard(standIn, outdir, stack, production()));
  }, 180_000);
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  test('a rescale passes, named as a hard power-off with the types and what to do', async () => {
    ws.setConfiguration(production({ serverType: ServerType.CX43 }));
    const result = await guard([stack, '--out', outdir], env);
    expect(result.code).toBe(0);
    expect(result.err).toMatch(/^guard: note: acme-production's plan changes the server type of hcloud_server\.App_[0-9A-F]{8} \(cx33 → cx43\): hcloud powers the server off hard \(Poweroff, not a shutdown\) before the rescale.* Deploy it in a maintenance window/);
    expect(result.out).toMatch(/deletes no protected resource \(0 to add, 1 to change, 0 to destroy\)/);
  }, 120_000);

  test('turning production\'s backups off passes, named as deleting every backup', async () => {
    ws.setConfiguration(production({ hetznerBackups: false }));
    const result = await guard([stack, '--out', outdir], env);
    expect(result.code).toBe(0);
    expect(result.err).toMatch(/^guard: note: acme-production's plan turns Hetzner's backups of hcloud_server\.App_[0-9A-F]{8} off: Hetzner deletes every backup of the server at once\. Fix: keep hetznerBackups on/);
    expect(result.err).not.toMatch(/server type|public_net/);
  }, 120_000);

  test('a change the server takes without stopping (a label) is not named', async () => {
    ws.setConfiguration(production({ labels: { team: 'ml' } }));
    const result = await guard([stack, '--out', outdir], env);
    expect(result).toMatchObject({ code: 0, err: '', out: expect.stringMatching(/\(0 to add, \d+ to change, 0 to destroy\)/) });
    expect(result.out).not.toMatch(/\(0 to add, 0 to change/);
  }, 120_000);
});

describe('disruptiveUpdates', () => {
  const server = (before: Record<string, unknown>, after: Record<string, unknown>, afterUnknown: Record<string, unknown> = {}) =>
    ({ resource_changes: [{ address: 'hcloud_server.App', type: 'hcloud_server', name: 'App', change: { actions: ['update'], before, after, after_unknown: afterUnknown } }] });
  const net = (ipv4: number) => [{ ipv4_enabled: true, ipv4, ipv6_enabled: true, ipv6: 2 }];

  test('new public addresses are a hard power-off; the same ones are not', () => {
    expect(disruptiveUpdates(server({ server_type: 'cx33', public_net: net(1) }, { server_type: 'cx33', public_net: net(3) })))
      .toEqual([{ address: 'hcloud_server.App', kind: 'public-net' }]);
    expect(disruptiveUpdates(server({ server_type: 'cx33', public_net: net(1) }, { server_type: 'cx33', public_net: [{ ...net(1)[0], ipv4: null }] }, { public_net: [{ ipv4: true }] })))
      .toEqual([{ address: 'hcloud_server.App', kind: 'public-net' }]);
    expect(disruptiveUpdates(server({ server_type: 'cx33', public_net: net(1), labels: {} }, { server_type: 'cx33', public_net: net(1), labels: { a: 'b' } }))).toEqual([]);
  });

  test('only in-place server updates count: a replacement is the protected-loss check\'s, other types are not servers', () => {
    const plan = { resource_changes: [
      { address: 'hcloud_server.A', type: 'hcloud_server', change: { actions: ['delete', 'create'], before: { server_type: 'cx33' }, after: { server_type: 'cax21' } } },
      { address: 'hcloud_volume.V', type: 'hcloud_volume', change: { actions: ['update'], before: { size: 10 }, after: { size: 20 } } },
    ] };
    expect(disruptiveUpdates(plan)).toEqual([]);
    expect(disruptiveUpdates(undefined)).toEqual([]);
  });
});

// A day-2 change (a new egress host, a rotated secret) replaces the machine's rollout: the plan reads "1 to add, 1 to
// destroy", and guard's line repeated it without saying that nothing on Hetzner goes.
describe('rolloutReplacements', () => {
  const dataChange = (name: string, actions: string[], triggers: unknown) =>
    ({ address: `terraform_data.${name}`, type: 'terraform_data', name, change: { actions, before: { triggers_replace: triggers }, after: {} } });
  const rollout = { agent: 'sha256:aa', bundle: 'sha256:bb', image: 'debian-12', inputs: 'sha256:cc' };

  test('names the replaced rollouts, and nothing else that is replaced or kept', () => {
    const plan = { resource_changes: [
      dataChange('App_Rollout_D52A5066', ['delete', 'create'], rollout),
      dataChange('Monitoring_Rollout_0A1B2C3D', ['no-op'], rollout),
      dataChange('App_Architecture_7955D201', ['delete', 'create'], { architecture: 'x86' }),
      { address: 'hcloud_server.App', type: 'hcloud_server', name: 'App', change: { actions: ['delete', 'create'], before: { triggers_replace: rollout }, after: {} } },
    ] };
    expect(rolloutReplacements(plan)).toEqual([{ address: 'terraform_data.App_Rollout_D52A5066', reason: undefined }]);
    expect(rolloutReplacements(undefined)).toEqual([]);
  });

  const guardOf = async (resourceChanges: unknown[]) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guard-rollout-'));
    try {
      const plan = path.join(dir, 'plan.json');
      fs.writeFileSync(plan, JSON.stringify({ format_version: '1.2', resource_changes: resourceChanges }));
      return await guard(['acme-test', '--plan-json', plan], {});
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };

  // A test Machine's new disk image replaces its server and its rollout in one plan: "replacing nothing on Hetzner" was
  // printed all the same.
  test('a plan that also replaces or deletes a Hetzner resource: the note says only that the rollout is none', async () => {
    const server = { address: 'hcloud_server.App', type: 'hcloud_server', name: 'App', change: { actions: ['delete', 'create'], before: { image: 'debian-12' }, after: { image: 'debian-13' } } };
    const firewall = { address: 'hcloud_firewall.Old', type: 'hcloud_firewall', name: 'Old', change: { actions: ['delete'], before: { name: 'old' }, after: null } };
    for (const other of [server, firewall]) {
      const result = await guardOf([other, dataChange('App_Rollout_D52A5066', ['delete', 'create'], rollout)]);
      expect(result).toMatchObject({ code: 0, out: expect.stringMatching(/; of them, a machine's rollout replaced \(terraform_data\.App_Rollout_D52A5066\): its bundle, .* changed \(a rollout itself is not a Hetzner resource\)\)\.$/) });
      expect(result.out).not.toMatch(/nothing on Hetzner/);
    }
  });

  // A rollout whose provisioner failed is tainted: the plan replaces it with its triggers unchanged, and the note said
  // its bundle or a secret had changed.
  test("a tainted rollout is said to run again because its last run failed, from the plan's action_reason", async () => {
    const tainted = { ...dataChange('App_Rollout_D52A5066', ['delete', 'create'], rollout), action_reason: 'replace_because_tainted' };
    const changed = { ...dataChange('Monitoring_Rollout_0A1B2C3D', ['delete', 'create'], rollout), action_reason: 'replace_because_cannot_update' };
    expect(await guardOf([tainted])).toMatchObject({ code: 0, out: "guard: acme-test's plan deletes no protected resource (1 to add, 0 to change, 1 to destroy; "
      + "of them, a machine's rollout run again (terraform_data.App_Rollout_D52A5066): its last run failed, so Terraform marked it tainted, "
      + 'and the deploy rolls it out to the running machine, replacing nothing on Hetzner).' });
    const both = await guardOf([tainted, changed]);
    expect(both.out).toMatch(/; of them, a machine's rollout replaced \(terraform_data\.Monitoring_Rollout_0A1B2C3D\): its bundle, .* changed; a machine's rollout run again \(terraform_data\.App_Rollout_D52A5066\): its last run failed/);
    // terraform apply -replace=…: asked for, neither failed nor changed.
    const requested = { ...dataChange('Db_Rollout_11223344', ['delete', 'create'], rollout), action_reason: 'replace_by_request' };
    expect((await guardOf([requested])).out).toMatch(/; of them, a machine's rollout replaced as -replace asked \(terraform_data\.Db_Rollout_11223344\), and the deploy rolls it out/);
    // Two of a kind: said of both ("its bundle" was said of two machines' rollouts).
    const changedToo = { ...dataChange('Db_Rollout_11223344', ['delete', 'create'], rollout), action_reason: 'replace_because_cannot_update' };
    expect((await guardOf([changed, changedToo])).out).toMatch(new RegExp('; of them, 2 machines\' rollouts replaced \\(terraform_data\\.Monitoring_Rollout_0A1B2C3D, '
      + 'terraform_data\\.Db_Rollout_11223344\\): their bundle, a secret they use, the agent or the disk\'s image changed, '
      + 'and the deploy rolls them out to the running machines, replacing nothing on Hetzner\\)\\.$'));
    const taintedToo = { ...changedToo, action_reason: 'replace_because_tainted' };
    expect((await guardOf([tainted, taintedToo])).out).toContain("2 machines' rollouts run again (terraform_data.App_Rollout_D52A5066, terraform_data.Db_Rollout_11223344): "
      + 'their last run failed, so Terraform marked them tainted, and the deploy rolls them out');
    expect(rolloutReplacements({ resource_changes: [tainted] })).toEqual([{ address: 'terraform_data.App_Rollout_D52A5066', reason: 'replace_because_tainted' }]);
  });

  test("guard's summary says the rollout it counts replaces nothing on Hetzner", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guard-rollout-'));
    const plan = path.join(dir, 'plan.json');
    fs.writeFileSync(plan, JSON.stringify({ format_version: '1.2', resource_changes: [dataChange('App_Rollout_D52A5066', ['delete', 'create'], rollout)] }));
    expect(await guard(['acme-production', '--plan-json', plan], {})).toMatchObject({ code: 0, out: "guard: acme-production's plan deletes no protected resource "
      + "(1 to add, 0 to change, 1 to destroy; of them, a machine's rollout replaced (terraform_data.App_Rollout_D52A5066): its bundle, a secret it uses, "
      + "the agent or the disk's image changed, and the deploy rolls it out to the running machine, replacing nothing on Hetzner)." });
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
