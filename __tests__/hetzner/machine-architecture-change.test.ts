import { Testing } from 'cdktf';
import { Environment, Machine, ServerType, SshKey } from '../../lib';
import { HetznerStandIn, setupStandInMatchers } from '../../testing';
import { ADMIN_CIDRS, resourcesOf, synthJson, testStack } from '../setup/stack';

// A change of server type between x86 and Arm is no rescale: hcloud v1.68 powers the server off, then the API
// refuses the type (invalid_server_type), and the provider returns without powering it on again. A machine
// turns such a change into a replacement at plan: refused by production's prevent_destroy before anything is
// powered off, carried out on test. A rescale within one architecture stays in place.

setupStandInMatchers();

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr admin@example.eu';

function machineStack(environment: Environment, serverType: ServerType) {
  const { stack } = testStack(environment.name);
  new Machine(stack, 'App', {
    environment, role: 'app', serverType, adminCidrs: ADMIN_CIDRS,
    sshKeys: [new SshKey(stack, 'Admin', { name: 'admin', publicKey: KEY })],
  });
  return stack;
}

const errorsOf = (run: { diagnostics: readonly { severity: string; summary: string; detail: string }[] }) =>
  run.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.summary} ${d.detail}`).join('\n');

test('the server is replaced when the architecture of its type changes, keyed on the architecture alone', () => {
  const json = synthJson(machineStack(Environment.PRODUCTION, ServerType.CX33));
  const [server] = resourcesOf(json, 'hcloud_server');
  const markers = Object.entries<any>(json.resource.terraform_data ?? {}).filter(([, r]) => r.triggers_replace?.architecture !== undefined);
  expect(markers.map(([, r]) => r.triggers_replace)).toEqual([{ architecture: ServerType.CX33.architecture }]);
  expect(server.lifecycle.replace_triggered_by).toEqual([`terraform_data.${markers[0][0]}`]);
  // Production's other protections stay as they are.
  expect(server.lifecycle).toMatchObject({ prevent_destroy: true, ignore_changes: ['user_data', 'image', 'ssh_keys'] });
});

describe('through Terraform and the stand-in', () => {
  const standIn = new HetznerStandIn({ reattach: true });
  afterAll(() => standIn.stop(true));

  test('production: x86 to Arm is refused at plan, and the server keeps running', () => {
    const ws = standIn.workspace(machineStack(Environment.PRODUCTION, ServerType.CX33));
    expect(errorsOf(ws.apply())).toBe('');
    ws.setConfiguration(Testing.synth(machineStack(Environment.PRODUCTION, ServerType.CAX21)));
    const { run } = ws.plan();
    expect(errorsOf(run)).toMatch(/Instance cannot be destroyed[\s\S]*hcloud_server\.App_[0-9A-F]{8} has lifecycle\.prevent_destroy/);
    // Had the plan passed, the apply would have powered production off before the API refused the type.
    const refusedApply = ws.apply();
    expect(errorsOf(refusedApply)).not.toMatch(/invalid_server_type/);
    const [server] = Object.values<any>(ws.cloud().objects.hcloud_server);
    expect([server.server_type, server.status]).toEqual(['cx33', 'running']);
  });

  test('test: x86 to Arm replaces the server (its addresses stay), where an in-place change failed', () => {
    const ws = standIn.workspace(machineStack(Environment.TEST, ServerType.CX23));
    expect(errorsOf(ws.apply())).toBe('');
    const ipsBefore = Object.values<any>(ws.cloud().objects.hcloud_primary_ip).map((ip) => ip.ip_address).sort();
    ws.setConfiguration(Testing.synth(machineStack(Environment.TEST, ServerType.CAX11)));
    const planned = ws.plan().changes!;
    expect(planned.replacements.map((c) => c.type)).toContain('hcloud_server');
    expect(errorsOf(ws.apply())).toBe('');
    const [server] = Object.values<any>(ws.cloud().objects.hcloud_server);
    expect([server.server_type, server.status]).toEqual(['cax11', 'running']);
    expect(Object.values<any>(ws.cloud().objects.hcloud_primary_ip).map((ip) => ip.ip_address).sort()).toEqual(ipsBefore);
  });

  test('production: a rescale within x86 stays in place and keeps the disk', () => {
    const ws = standIn.workspace(machineStack(Environment.PRODUCTION, ServerType.CX33));
    expect(errorsOf(ws.apply())).toBe('');
    ws.setConfiguration(Testing.synth(machineStack(Environment.PRODUCTION, ServerType.CX43)));
    const planned = ws.plan().changes!;
    expect(planned).toPlanWithoutReplacing('hcloud_server');
    const [update] = planned.updates.filter((c) => c.type === 'hcloud_server');
    expect(update.afterUnknown.primary_disk_size).toBeFalsy(); // keep_disk: the disk keeps its size, so a downgrade stays possible
    expect(errorsOf(ws.apply())).toBe('');
    expect(Object.values<any>(ws.cloud().objects.hcloud_server).map((s) => s.server_type)).toEqual(['cx43']);
  });
});

test('the stand-in, like hcloud, leaves a server powered off when the API refuses its new type', () => {
  const standIn = new HetznerStandIn();
  try {
    // Without the machine's architecture key: the raw server, as any hcloud configuration has it.
    const raw = (serverType: string) => {
      const { stack } = testStack('raw');
      const json = JSON.parse(Testing.synth(stack));
      json.resource = { hcloud_server: { web: { name: 'web', server_type: serverType, image: 'debian-12', location: 'fsn1', keep_disk: true } } };
      return json;
    };
    const ws = standIn.workspace(raw('cx23'));
    expect(errorsOf(ws.apply())).toBe('');
    ws.setConfiguration(raw('cax11'));
    expect(errorsOf(ws.apply())).toMatch(/invalid_server_type/);
    const [server] = Object.values<any>(ws.cloud().objects.hcloud_server);
    expect([server.server_type, server.status]).toEqual(['cx23', 'off']);
  } finally {
    standIn.stop(true);
  }
});
