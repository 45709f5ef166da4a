import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Environment, Machine, MachineProps, ServerType, SshKey } from '../../lib';
import { disruptiveUpdates } from '../../cli/guard';
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
