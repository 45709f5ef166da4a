import { gunzipSync } from 'zlib';
import { parse } from 'yaml';
import { TerraformStack, TerraformVariable, Testing } from 'cdktf';
import {
  DataClass, Duration, Environment, FirewallRule, Location, Machine, MachineRollout, MachineRolloutOptions, Port, PrivateNetwork, ServerType, SshKey,
} from '../../lib';
import { ADMIN_CIDRS, ADMIN_KEY, resourcesOf, synthJson, testStack, warningsOf } from '../setup/stack';
import { synthesizedBundle } from '../../testing/bundle';
import { fingerprintPattern, keygenPair } from './ssh-keygen-fingerprint';

function productionMachine(overrides: Partial<ConstructorParameters<typeof Machine>[2]> = {}) {
  const { stack } = testStack('production');
  const machine = new Machine(stack, 'App', {
    environment: Environment.PRODUCTION,
    role: 'app',
    serverType: ServerType.CX33,
    sshKeys: [ADMIN_KEY],
    adminCidrs: ADMIN_CIDRS,
    ...overrides,
  });
  return { stack, machine };
}

describe('Machine', () => {
  test('with only its required props: an EU server behind its own firewall, no SSH ingress', () => {
    const { stack } = testStack('test');
    new Machine(stack, 'App', { environment: Environment.TEST, role: 'app', serverType: ServerType.CX23 });
    const json = synthJson(stack);
    const [server] = resourcesOf(json, 'hcloud_server');
    expect(server.location).toBe('fsn1');
    expect(server.firewall_ids).toHaveLength(1);
    expect(resourcesOf(json, 'hcloud_firewall')[0].rule).toEqual([]);
    expect(server.delete_protection).toBe(false);
    expect(server.keep_disk).toBe(true);
    expect(warningsOf(stack).join('\n')).toMatch(/Hetzner-NoSshKey: test\/App\.sshKeys is empty/);
  });

  describe('in production', () => {
    test('is delete- and rebuild-protected, prevent_destroy, backed up, survives cloud-init and image edits, and is not shut down by a refused delete', () => {
      const { stack } = productionMachine();
      const [server] = resourcesOf(synthJson(stack), 'hcloud_server');
      expect(server.delete_protection).toBe(true);
      expect(server.rebuild_protection).toBe(true);
      expect(server.backups).toBe(true);
      expect(server.keep_disk).toBe(true);
      // The provider shuts a server down before the API refuses to delete it while protected (pitfall 27).
      expect(server.shutdown_before_deletion).toBe(false);
      expect(server.lifecycle.prevent_destroy).toBe(true);
      expect(server.lifecycle.ignore_changes).toEqual(expect.arrayContaining(['user_data', 'image', 'ssh_keys']));
    });

    test('keeps its addresses: primary IPs that outlive the server, protected and never auto-deleted', () => {
      const { stack } = productionMachine();
      const json = synthJson(stack);
      const ips = resourcesOf(json, 'hcloud_primary_ip');
      expect(ips.map((ip) => ip.type).sort()).toEqual(['ipv4', 'ipv6']);
      for (const ip of ips) {
        expect(ip.auto_delete).toBe(false);
        expect(ip.delete_protection).toBe(true);
        expect(ip.lifecycle.prevent_destroy).toBe(true);
        expect(ip.location).toBe('fsn1');
        expect(ip).not.toHaveProperty('assignee_id');
      }
      const [server] = resourcesOf(json, 'hcloud_server');
      expect(server.public_net).toEqual([{
        ipv4_enabled: true, ipv4: expect.stringMatching(/hcloud_primary_ip\..*\.id/),
        ipv6_enabled: true, ipv6: expect.stringMatching(/hcloud_primary_ip\..*\.id/),
      }]);
    });

    test('opens SSH only to the admin networks, through a firewall attached at creation', () => {
      const { stack } = productionMachine({ ingress: [FirewallRule.httpsFromAnywhere()] });
      const json = synthJson(stack);
      const [firewall] = resourcesOf(json, 'hcloud_firewall');
      const ssh = firewall.rule.filter((r: any) => r.port === '22');
      expect(ssh).toEqual([expect.objectContaining({ direction: 'in', protocol: 'tcp', source_ips: ADMIN_CIDRS })]);
      for (const rule of firewall.rule) {
        if (rule.port === '22') expect(rule.source_ips).not.toContain('0.0.0.0/0');
      }
      expect(firewall.rule).toContainEqual(expect.objectContaining({ port: '443', source_ips: ['0.0.0.0/0', '::/0'] }));
      const [server] = resourcesOf(json, 'hcloud_server');
      expect(server.firewall_ids).toEqual([expect.stringMatching(/^\$\{hcloud_firewall\..*\.id\}$/)]);
    });

    test('fails when a production machine has no SSH keys', () => {
      const { stack } = productionMachine({ sshKeys: [] });
      expect(() => synthJson(stack)).toThrow(/production\/App\.sshKeys: missing: .* Fix: pass sshKeys: .*; in a stack of ProductStacks or EnvironmentStack, the stack's own: \[\.\.\.stack\.adminSshKeys\]/);
    });

    test('fails when a production machine has no admin CIDRs', () => {
      const { stack } = productionMachine({ adminCidrs: undefined });
      expect(() => synthJson(stack)).toThrow(/production\/App\.adminCidrs: missing: .* Fix: pass adminCidrs/);
    });
  });

  test('labels every resource with environment, role and data classes', () => {
    const { stack } = productionMachine({ dataClasses: [DataClass.PSEUDONYMIZED, DataClass.SENSITIVE] });
    const json = synthJson(stack);
    const expected = {
      'managed-by': 'cdktf-sovereign-hetzner', environment: 'production', role: 'app',
      'data-class': 'sensitive', 'data-sensitive': 'true', 'data-pseudonymized': 'true',
    };
    for (const type of ['hcloud_server', 'hcloud_firewall', 'hcloud_primary_ip']) {
      for (const resource of resourcesOf(json, type)) expect(resource.labels).toEqual(expected);
    }
  });

  test('treats an undeclared machine as holding sensitive data', () => {
    const { stack, machine } = productionMachine();
    expect(machine.dataClasses).toEqual([DataClass.SENSITIVE]);
    expect(resourcesOf(synthJson(stack), 'hcloud_server')[0].labels['data-class']).toBe('sensitive');
  });

  describe('bad input', () => {
    test('fails on a private address that is malformed, public, or given without a private network', () => {
      // Each passed synth: the address was dropped without a network, and a malformed or public one failed only at apply.
      const inNetwork = (privateIp: string) => {
        const { stack } = testStack('production');
        const privateNetwork = new PrivateNetwork(stack, 'Network', { environment: Environment.PRODUCTION, name: 'acme-production-network' });
        return new Machine(stack, 'App', { environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS, privateNetwork, privateIp });
      };
      for (const ip of ['10.0.1', '10.0.1.2/24', '203.0.113.5', ' 10.0.1.2', 'ten']) {
        expect(() => inNetwork(ip)).toThrow(new RegExp(`^production/App\\.privateIp: '${ip.replace(/\./g, '\\.')}' is not allowed: it is not an IPv4 address of a private \\(RFC 1918\\) network\\. Fix:`));
      }
      expect(() => inNetwork('10.0.1.2')).not.toThrow();
      const { stack } = testStack('production');
      expect(() => new Machine(stack, 'App', { environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS, privateIp: '10.0.1.2' }))
        .toThrow(/^production\/App\.privateIp: '10\.0\.1\.2' is not allowed: a private address is on a private network, and none is given, so it would be ignored\. Fix: pass privateNetwork/);
    });

    test('fails when the location is unknown, naming the value and the EU choices', () => {
      const { stack } = productionMachine({ location: Location.of('fra1') });
      expect(() => synthJson(stack)).toThrow(/production\/App\.location: 'fra1' is not allowed: it is not a Hetzner location\. Fix: use Location\.FSN1/);
    });

    test('fails when the server type is unknown', () => {
      const { stack } = productionMachine({ serverType: ServerType.of('cx99') });
      expect(() => synthJson(stack)).toThrow(/production\/App\.serverType: 'cx99' is not allowed: it is not a Hetzner server type\. Fix: use a ServerType constant/);
    });

    test('fails when a machine holding non-public data is placed outside the EU', () => {
      const { stack } = productionMachine({ location: Location.ASH, serverType: ServerType.CCX13 });
      expect(() => synthJson(stack)).toThrow(/production\/App\.location: 'ash' is not allowed: it is outside the EU, and the machine holds sensitive data.*Fix: use Location\.FSN1/);
    });

    // Audit (mutation): only Ashburn was tested, so marking Hillsboro or Singapore as EU passed the machine tests.
    test.each([[Location.HIL], [Location.SIN]])('fails when a machine holding non-public data is placed in %s', (location) => {
      const { stack } = productionMachine({ location, serverType: ServerType.CCX13 });
      expect(() => synthJson(stack)).toThrow(new RegExp(`production/App\\.location: '${location.name}' is not allowed: it is outside the EU, and the machine holds sensitive data`));
    });

    test('allows a non-EU location for a machine that explicitly holds only public data', () => {
      const { stack } = productionMachine({ location: Location.ASH, serverType: ServerType.CCX13, dataClasses: [DataClass.PUBLIC] });
      expect(resourcesOf(synthJson(stack), 'hcloud_server')[0].location).toBe('ash');
    });

    test('fails when the server type is not sold in the location', () => {
      const { stack } = productionMachine({ location: Location.ASH, serverType: ServerType.CX23, dataClasses: [DataClass.PUBLIC] });
      expect(() => synthJson(stack)).toThrow(/production\/App\.serverType: 'cx23' is not allowed: it is not offered in ash/);
    });

    test('the fix names a type that is offered in the location, at least as large', () => {
      // It always suggested ServerType.CPX22, which is not offered in ash either.
      const { stack } = productionMachine({ location: Location.ASH, serverType: ServerType.CX43, dataClasses: [DataClass.PUBLIC] });
      expect(() => synthJson(stack)).toThrow(/App\.serverType: 'cx43' is not allowed: it is not offered in ash \(only in fsn1, nbg1, hel1\)\. Fix: pick a type offered in ash, such as ServerType\.CPX41, or another location/);
    });

    test.each([['0.0.0.0/0'], ['::/0']])('fails when adminCidrs opens SSH to the internet (%s)', (cidr) => {
      const { stack } = productionMachine({ adminCidrs: [cidr] });
      expect(() => synthJson(stack)).toThrow(new RegExp(`production/App\\.adminCidrs: '${cidr.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}' is not allowed: SSH must never be open to the whole internet\\. Fix:`));
    });

    test('fails when an admin CIDR has host bits set', () => {
      const { stack } = productionMachine({ adminCidrs: ['203.0.113.7/24'] });
      expect(() => synthJson(stack)).toThrow(/production\/App\.adminCidrs: '203\.0\.113\.7\/24' is not allowed: the address has host bits set/);
    });

    test('fails when an ingress rule opens SSH to the internet', () => {
      const { stack } = productionMachine({ ingress: [FirewallRule.tcpIn(22, FirewallRule.ANYWHERE)] });
      expect(() => synthJson(stack)).toThrow(/production\/App\.ingress: .* it opens SSH to the whole internet\. Fix:/);
    });

    test('fails when a label is not a valid Hetzner label', () => {
      const { stack } = productionMachine({ labels: { branch: 'feat/x' } });
      expect(() => synthJson(stack)).toThrow(/production\/App\.labels: 'branch=feat\/x' is not allowed: a Hetzner label value/);
    });

    test('fails when cloud-init exceeds the 32 KiB user_data limit', () => {
      const { stack, machine } = productionMachine();
      machine.addCloudInitPart({ name: 'huge', files: [{ path: '/opt/blob', content: 'x'.repeat(40_000) }] });
      expect(() => synthJson(stack)).toThrow(/production\/App\.cloudInit: '40\d{3} bytes as Terraform sends it \(0 references counted at 256 bytes each; parts: huge\)' is not allowed: Hetzner rejects user_data above 32768 bytes, and its largest files are \/opt\/blob \(part huge, 40000 bytes\)\. Fix: move files .* into the bundle \(machine\.addBundlePart\)/);
    });

    test('reports every problem at once', () => {
      const { stack } = productionMachine({ sshKeys: [], adminCidrs: [], serverType: ServerType.of('nope') });
      let message = '';
      try { synthJson(stack); } catch (e) { message = String(e); }
      expect(message).toMatch(/sshKeys: missing/);
      expect(message).toMatch(/adminCidrs: missing/);
      expect(message).toMatch(/serverType: 'nope'/);
    });
  });

  test('warns about a deprecated server type and names its successor', () => {
    const { stack } = productionMachine({ serverType: ServerType.CX22 });
    synthJson(stack);
    expect(warningsOf(stack)).toContainEqual(expect.stringMatching(
      /Hetzner-DeprecatedServerType: production\/App\.serverType 'cx22' can no longer be ordered in fsn1 .* Fix: move to ServerType\.CX23/));
  });

  test('does not warn about CPX gen1 in the US, where Hetzner still sells it', () => {
    const { stack } = productionMachine({ serverType: ServerType.CPX11, location: Location.ASH, dataClasses: [DataClass.PUBLIC] });
    synthJson(stack);
    expect(warningsOf(stack).filter((w) => w.includes('DeprecatedServerType'))).toEqual([]);
  });

  test('joins a private network through its subnet, after the subnet exists, without alias-IP churn', () => {
    const { stack } = testStack('production');
    const network = new PrivateNetwork(stack, 'Network', { environment: Environment.PRODUCTION });
    new Machine(stack, 'App', {
      environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33,
      sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS, privateNetwork: network, privateIp: '10.0.1.10',
    });
    const [server] = resourcesOf(synthJson(stack), 'hcloud_server');
    expect(server.network).toEqual([{
      subnet_id: expect.stringMatching(/^\$\{hcloud_network_subnet\..*\.id\}$/), ip: '10.0.1.10', alias_ips: [],
    }]);
    expect(server.depends_on).toEqual([expect.stringMatching(/^hcloud_network_subnet\./)]);
  });

  test('fails when the machine is in another network zone than its private network', () => {
    const { stack } = testStack('production');
    const network = new PrivateNetwork(stack, 'Network', { environment: Environment.PRODUCTION, location: Location.FSN1 });
    new Machine(stack, 'App', {
      environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CCX13, location: Location.ASH,
      dataClasses: [DataClass.PUBLIC], sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS, privateNetwork: network,
    });
    expect(() => synthJson(stack)).toThrow(/production\/App\.location: 'ash' is not allowed: the private network's subnet is in network zone eu-central/);
  });

  test('renders cloud-init parts into user_data in order', () => {
    const { stack, machine } = productionMachine();
    machine.addCloudInitPart({ name: 'base', packages: ['unattended-upgrades'] });
    machine.addCloudInitPart({ name: 'app', files: [{ path: '/etc/app.conf', content: 'port=8080\n' }], commands: ['systemctl restart app'] });
    const [server] = resourcesOf(synthJson(stack), 'hcloud_server');
    expect(server.user_data).toMatch(/^#cloud-config\n# parts: base, app\n/);
    expect(server.user_data).toContain('unattended-upgrades');
    expect(server.user_data).toContain('/etc/app.conf');
  });

  test('a second cloud-init part of one name is refused with the machine\'s path', () => {
    const { machine } = productionMachine();
    machine.addCloudInitPart({ name: 'base', packages: ['unattended-upgrades'] });
    expect(() => machine.addCloudInitPart({ name: 'base', packages: ['curl'] }))
      .toThrow(/^production\/App\.cloudInit\.part\.name: 'base' is not allowed: the machine's cloud-init document has a part of that name already \('base'\)\. Fix: give each part its own name$/);
  });

  test('registers an SSH key from its public key and rejects anything else', () => {
    const { stack } = testStack('production');
    const key = new SshKey(stack, 'Key', { name: 'alice', publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr alice@example.eu' });
    expect(key.sshKeyReference).toMatch(/\$\{TfToken/);
    expect(() => new SshKey(stack, 'Bad', { name: 'bob', publicKey: '-----BEGIN OPENSSH PRIVATE KEY-----' }))
      .toThrow(/production\/Bad\.publicKey: .* it is not an OpenSSH public key\. Fix:/);
    // The right shape, but no key: truncated, or the base64 of another type. Hetzner's API would refuse it at deploy.
    for (const truncated of ['ssh-ed25519 AAAA', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5', 'ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr']) {
      expect(() => new SshKey(stack, `Truncated${truncated.length}`, { name: 'carol', publicKey: truncated })).toThrow(/is not an OpenSSH public key/);
    }
  });
});

test('escapes shell and template syntax in user data so Terraform keeps it literal, but keeps references', () => {
  const { stack } = testStack('production');
  const m = new Machine(stack, 'App', { environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS });
  const key = new SshKey(stack, 'Key', { name: 'k', publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr k@example.eu' });
  m.addCloudInitPart({ name: 'script', files: [{ path: '/usr/local/bin/x', content: `echo "\${HOME:-/root} %{x} key ${key.resource.fingerprint}"\n` }] });
  const [server] = resourcesOf(synthJson(stack), 'hcloud_server');
  expect(server.user_data).toContain('$${HOME:-/root} %%{x} key ${hcloud_ssh_key.Key_');
});

test('fails when user data fits only with cdktf\'s short placeholders: each reference counts at its realistic size', () => {
  const { stack } = testStack('production');
  const m = new Machine(stack, 'App', { environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS });
  const token = new TerraformVariable(stack, 'token', { type: 'string', sensitive: true });
  const lines = Array.from({ length: 20 }, (_, i) => `TOKEN_${i}=${token.stringValue}`).join('\n');
  m.addCloudInitPart({ name: 'big', files: [{ path: '/opt/blob', content: 'x'.repeat(28_000) }, { path: '/etc/app.env', content: lines }] });
  // The placeholders (`${var.token}`) alone would fit: about 28,700 bytes.
  expect(Buffer.byteLength(JSON.stringify(resourcesOf(JSON.parse(Testing.synth(stack)), 'hcloud_server')[0].user_data))).toBeLessThan(32_768);
  expect(() => synthJson(stack)).toThrow(/production\/App\.cloudInit: '3\d{4} bytes as Terraform sends it \(20 references counted at 256 bytes each; parts: big\)' is not allowed/);
  expect(m.userDataSize()).toEqual({ bytes: expect.any(Number), references: 20 });
});

// Audit (mutation): the size was checked only far above the limit (40,000 bytes) and with ASCII text, so counting
// characters instead of bytes, or letting a few bytes over the limit through, passed every test.
describe('user data at the 32 KiB limit', () => {
  /** A production machine whose user data holds `text` repeated `count` times in one file. */
  const withUserData = (text: string, count: number) => {
    const { stack, machine } = productionMachine();
    machine.addCloudInitPart({ name: 'notes', files: [{ path: '/etc/acme/notes.txt', content: text.repeat(count) }] });
    return { stack, machine };
  };
  /** How many repetitions of `text` make the user data exactly `bytes` long, found from one measurement. */
  const countFor = (text: string, bytes: number) => {
    const measured = withUserData(text, 1000).machine.userDataSize()!.bytes;
    return 1000 + (bytes - measured) / Buffer.byteLength(text);
  };

  test('exactly 32768 bytes pass synth; one byte more fails', () => {
    const count = countFor('x', 32_768);
    const atLimit = withUserData('x', count);
    expect(atLimit.machine.userDataSize()!.bytes).toBe(32_768);
    expect(() => synthJson(atLimit.stack)).not.toThrow();
    const over = withUserData('x', count + 1);
    expect(over.machine.userDataSize()!.bytes).toBe(32_769);
    expect(() => synthJson(over.stack)).toThrow(/production\/App\.cloudInit: '32769 bytes as Terraform sends it/);
  });

  test('counts bytes, not characters: 2-byte letters fail at half the characters', () => {
    const { stack, machine } = withUserData('ä', 17_000);
    const [server] = resourcesOf(JSON.parse(Testing.synth(stack)), 'hcloud_server');
    // The letters travel as they are (2 bytes each in UTF-8), not escaped.
    expect(server.user_data).toContain('ä'.repeat(100));
    expect(server.user_data.length).toBeLessThan(32_768);
    expect(machine.userDataSize()!.bytes).toBe(Buffer.byteLength(server.user_data, 'utf8'));
    expect(() => synthJson(stack)).toThrow(/production\/App\.cloudInit: '3\d{4} bytes as Terraform sends it \(0 references/);
  });
});

test('a machine with a bundle sends only the bootstrap in its user data; the bundle rolls out over SSH', () => {
  const { stack } = testStack('production');
  const m = new Machine(stack, 'App', { environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS });
  m.addBundlePart({ name: 'tooling', packages: ['restic'], files: [{ path: '/usr/local/sbin/job', content: '#!/bin/sh\necho "${HOME}"\n', permissions: '0755' }], commands: [['systemctl', 'daemon-reload']] });
  const json = synthJson(stack);
  const [server] = resourcesOf(json, 'hcloud_server');
  expect(server.user_data).toBe('#cloud-config\n# parts: sovereign bootstrap (the tooling arrives as a bundle over SSH)\npackage_update: true\npackages:\n  - python3\n');
  const rollout = resourcesOf(json, 'terraform_data').find((r) => r.provisioner);
  expect(rollout.triggers_replace.bundle).toMatch(/^sha256:[0-9a-f]{64}$/);
  // The machine identity (the server id the bundle is built for) is a deploy-time input of every bundle.
  expect(rollout.triggers_replace.inputs).toMatch(/^sha256:\$\{sha256\(join\("\\n", \[hcloud_server\.App_\w+\.id\]\)\)\}$/);
  // Its steps run as root from a script in root's home, not from a world-writable one in /tmp.
  expect(rollout.connection).toEqual({
    type: 'ssh', host: expect.stringMatching(/^\$\{hcloud_primary_ip\.App_Ipv4_\w+\.ip_address\}$/), user: 'root', port: 22, timeout: '300s',
    script_path: '/root/.sovereign-rollout-step.sh',
  });
  expect(rollout.depends_on).toEqual([expect.stringMatching(/^hcloud_server\.App_\w+$/)]);
  expect(synthesizedBundle(json, 'production-app').files.get('/usr/local/sbin/job')).toMatchObject({ content: '#!/bin/sh\necho "${HOME}"\n', permissions: '0755', part: 'tooling' });
});

describe("root's authorized_keys on a running machine", () => {
  const OPS = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr ops@acme.eu';
  const BOB = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICJUVdU0Td/SXOIINMwukHD5F8QXTa/AMbJ58qZBpIZy bob@acme.eu';
  const machineWithKeys = (environment: Environment, keys: string[] | 'by name') => {
    const { stack } = testStack(environment.name);
    const sshKeys = keys === 'by name' ? [SshKey.fromName('admin')] : keys.map((k, i) => new SshKey(stack, `Key${i}`, { name: `k${i}`, publicKey: k }));
    const m = new Machine(stack, 'App', { environment, role: 'app', serverType: ServerType.CX33, sshKeys, adminCidrs: ADMIN_CIDRS });
    m.addBundlePart({ name: 'tooling', files: [{ path: '/etc/acme/x', content: 'x\n' }] });
    const json = synthJson(stack);
    return { stack, json, server: resourcesOf(json, 'hcloud_server')[0], bundle: synthesizedBundle(json, `${environment.name}-app`) };
  };

  test('are exactly the declared keys, rolled out with the bundle: removing a departed admin\'s key changes the rollout, never the server', () => {
    const both = machineWithKeys(Environment.PRODUCTION, [OPS, BOB]);
    const file = both.bundle.files.get('/root/.ssh/authorized_keys')!;
    expect(file).toMatchObject({ part: 'admin SSH keys', permissions: '0600', owner: 'root:root' });
    expect(file.content!.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual([OPS, BOB]);
    const opsOnly = machineWithKeys(Environment.PRODUCTION, [OPS]);
    expect(opsOnly.bundle.files.get('/root/.ssh/authorized_keys')!.content).not.toContain('bob@acme.eu');
    expect(opsOnly.bundle.version).not.toBe(both.bundle.version);
    for (const { server } of [both, opsOnly]) expect(server.lifecycle.ignore_changes).toEqual(expect.arrayContaining(['ssh_keys', 'user_data']));
  });

  test('on the test machine too, a key change is rolled out and never replaces the server (it holds the test database)', () => {
    const { server, bundle } = machineWithKeys(Environment.TEST, [OPS]);
    expect(server.lifecycle).toEqual({ ignore_changes: ['user_data', 'ssh_keys'], replace_triggered_by: [expect.stringMatching(/^terraform_data\.App_Architecture_/)] });
    expect(bundle.files.get('/root/.ssh/authorized_keys')!.content).toContain(OPS);
  });

  test('keys given by name are left as Hetzner wrote them, with a warning that says so', () => {
    const { stack, bundle } = machineWithKeys(Environment.PRODUCTION, 'by name');
    expect(bundle.files.has('/root/.ssh/authorized_keys')).toBe(false);
    expect(warningsOf(stack).join('\n')).toMatch(/Hetzner-AdminKeysNotRolledOut: production\/App\.sshKeys has a key given by name \(SshKey\.fromName\).*a key removed from sshKeys stays on the server\. Fix: register the keys in this app with new SshKey/);
  });

  test('refuses a forged key object from JavaScript whose text would add lines (options, other keys) to the file', () => {
    const { stack } = testStack('production');
    const forged = { sshKeyReference: 'ops', publicKey: `${OPS}\ncommand="curl evil" ssh-ed25519 AAAA` };
    const m = new Machine(stack, 'App', { environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [forged], adminCidrs: ADMIN_CIDRS });
    expect(() => m.addBundlePart({ name: 'tooling', files: [{ path: '/etc/acme/x', content: 'x\n' }] }))
      .toThrow(/production\/App.sshKeys\[0\]\.publicKey: 'ssh-ed25519 AAAAC3NzaC1l…' is not allowed: it is not one OpenSSH public key line\. Fix: pass SshKey constructs/);
  });

  // It was checked only with the bundle's authorized_keys: a machine with no bundle part (and no private network) was
  // created with the key, unchecked.
  test("refuses a forged key object's RSA key under 2048 bits, as SshKey does, on a machine with no bundle too", () => {
    const weak = keygenPair('rsa', ['-b', '1024']).publicKey;
    const { stack } = testStack('production');
    expect(() => new Machine(stack, 'App', { environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [{ sshKeyReference: 'old', publicKey: weak }], adminCidrs: ADMIN_CIDRS }))
      .toThrow(new RegExp(`^production/App\\.sshKeys\\[0\\]\\.publicKey: '${fingerprintPattern(weak)} ops@acme\\.eu' is not allowed: it is an RSA key of 1024 bits`));
  });

  // A plain-object key of 2048 bits was taken without the warning an SshKey of the same key gets.
  test("warns of a forged key object's RSA key of 2048 bits, as SshKey does, once, with or without a bundle, and once for an SshKey's", () => {
    const fair = keygenPair('rsa', ['-b', '2048']).publicKey;
    const bare = testStack('production').stack;
    new Machine(bare, 'App', { environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [{ sshKeyReference: 'fair', publicKey: fair }], adminCidrs: ADMIN_CIDRS });
    expect(warningsOf(bare).filter((w) => w.startsWith('SshKey-'))).toEqual([expect.stringMatching(/^SshKey-RsaUnder3072: production\/App\.sshKeys\[0\]\.publicKey /)]);
    const { stack } = testStack('production');
    new Machine(stack, 'App', { environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [{ sshKeyReference: 'fair', publicKey: fair }], adminCidrs: ADMIN_CIDRS })
      .addBundlePart({ name: 'tooling', files: [{ path: '/etc/acme/x', content: 'x\n' }] });
    expect(warningsOf(stack).filter((w) => w.startsWith('SshKey-'))).toEqual([expect.stringMatching(new RegExp(
      `^SshKey-RsaUnder3072: production/App\\.sshKeys\\[0\\]\\.publicKey '${fingerprintPattern(fair)} ops@acme\\.eu' is an RSA key of 2048 bits, which NIST allows only until 2030 .*Fix: make an Ed25519 key`))]);
    const registered = testStack('production').stack;
    new Machine(registered, 'App', { environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [new SshKey(registered, 'Fair', { name: 'fair', publicKey: fair })], adminCidrs: ADMIN_CIDRS })
      .addBundlePart({ name: 'tooling', files: [{ path: '/etc/acme/x', content: 'x\n' }] });
    expect(warningsOf(registered).filter((w) => w.startsWith('SshKey-'))).toEqual([expect.stringMatching(/^SshKey-RsaUnder3072: production\/Fair\.publicKey /)]);
  });
});

describe('Machine rollout options', () => {
  const tooling = { name: 'tooling', files: [{ path: '/etc/x', content: 'x\n' }] };

  test('fails when the bundle cannot be rolled out because no admin network reaches SSH', () => {
    const { stack } = testStack('test');
    const m = new Machine(stack, 'App', { environment: Environment.TEST, role: 'app', serverType: ServerType.CX23, sshKeys: [ADMIN_KEY] });
    m.addBundlePart(tooling);
    expect(() => synthJson(stack)).toThrow(/test\/App\.adminCidrs: missing: its bundle \(sovereign machine identity, tooling\) is rolled out over SSH on every deploy, and no admin network may reach SSH\. Fix: pass adminCidrs/);
  });

  test.each([
    ['a Port', Port.of(2222)],
    ['a number (JavaScript callers)', 2222],
  ])('pins the host key, takes the key from a sensitive variable and the SSH port as %s', (_kind, port) => {
    const { stack } = testStack('production');
    const key = new TerraformVariable(stack, 'deploy_key', { type: 'string', sensitive: true });
    const m = new Machine(stack, 'App', {
      environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS,
      rollout: { sshPrivateKey: key, hostKey: ' ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr ', port },
    });
    m.addBundlePart(tooling);
    const rollout = resourcesOf(synthJson(stack), 'terraform_data').find((r) => r.provisioner);
    expect(rollout.connection).toMatchObject({ private_key: '${var.deploy_key}', host_key: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr', port: 2222 });
  });

  test("produces each file's content once per synth, shared by the bundle version, the inputs and their digest", () => {
    const { stack } = testStack('production');
    const secret = new TerraformVariable(stack, 'secret', { type: 'string', sensitive: true });
    const m = new Machine(stack, 'App', { environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS });
    let produced = 0;
    m.addBundlePart({ name: 'counted', files: [{ path: '/etc/counted', permissions: '0600', content: () => { produced += 1; return `token=${secret.stringValue}\n`; } }] });
    const rollout = resourcesOf(synthJson(stack), 'terraform_data').find((r) => r.provisioner);
    expect(produced).toBe(1);
    // All three producers saw the file: the inputs carry its reference, the digest hashes it.
    expect(rollout.triggers_replace.inputs).toContain('var.secret');
    expect(JSON.stringify(rollout.provisioner)).toContain('/etc/counted');
  });

  test.each([
    [{ port: 70000 }, /production\/App\.rollout\.port: 70000 is not allowed: an SSH port is one whole number from 1 to 65535/],
    [{ port: Number.NaN }, /production\/App\.rollout\.port: NaN is not allowed/],
    [{ port: Port.range(2222, 2223) }, /production\/App\.rollout\.port: '2222-2223' is not allowed: an SSH port is one whole number/],
    [{ port: '22' as any }, /production\/App\.rollout\.port: '22' is not allowed/],
    [{ hostKey: 'SHA256:abc' }, /production\/App\.rollout\.hostKey: 'SHA256:abc' is not allowed: a host key is the public key/],
    // Review: the fix suggested a bare TerraformVariable; the library declares secrets with SecretVariable.
    [{ sshPrivateKey: 'BEGIN OPENSSH PRIVATE KEY' as any },
      /production\/App\.rollout\.sshPrivateKey: '<a value>' is not allowed: a secret must come from a sensitive Terraform variable, never from the code\. Fix: pass new SecretVariable\(stack, 'name', \{ description \}\) and set it with TF_VAR_name$/],
    // From JavaScript, seconds as a number crashed with "(options.connectTimeout ?? ...).toSeconds is not a function".
    [{ connectTimeout: 30 as any }, /production\/App\.rollout\.connectTimeout: 30 is not allowed: it is not a Duration\. Fix: pass a Duration, such as Duration\.minutes\(5\)/],
    [{ connectTimeout: Duration.seconds(0) }, /production\/App\.rollout\.connectTimeout: '0 ms' is not allowed: deploy would give up before the first connection attempt/],
  ])('fails on bad rollout options when the machine is built, before it has a bundle part: %j', (rollout, message) => {
    const { stack } = testStack('production');
    // Review (secrets): the options were checked only by the rollout, which the first bundle part builds, so a machine
    // without a part kept a plain-text key (or a bad port) unrefused, and its key was never re-checked at synth.
    expect(() => new Machine(stack, 'App', { environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS, rollout }))
      .toThrow(message);
  });

  test('a rollout key from a variable not marked sensitive is refused, with the way the library declares secrets', () => {
    const { stack } = testStack('production');
    const plain = new TerraformVariable(stack, 'deploy_key', { type: 'string' });
    expect(() => new Machine(stack, 'App', { environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS, rollout: { sshPrivateKey: plain } })).toThrow(/production\/App\.rollout\.sshPrivateKey: 'var\.deploy_key' is not allowed: the variable is not marked sensitive, .* Fix: declare it with \{ sensitive: true \} \(SecretVariable does\)$/);
  });

  // A MachineRollout is public: one built directly checks its own options (a Machine's are checked when it is built).
  // It names its own path and its prop options, not its scope and the Machine prop the options would be.
  test.each<[string, (stack: TerraformStack) => MachineRolloutOptions, RegExp]>([
    ['a bad port', () => ({ port: 70000 }),
      /^production\/Rollout\.options\.port: 70000 is not allowed: an SSH port is one whole number from 1 to 65535\. Fix: leave it out for 22, or pass the port sshd listens on, such as Port\.of\(2222\)$/],
    ['a key not marked sensitive', (stack) => ({ sshPrivateKey: new TerraformVariable(stack, 'deploy_key', { type: 'string' }) }),
      /^production\/Rollout\.options\.sshPrivateKey: 'var\.deploy_key' is not allowed: the variable is not marked sensitive, .* Fix: declare it with \{ sensitive: true \} \(SecretVariable does\)$/],
  ])('a MachineRollout built directly fails on %s', (_kind, options, message) => {
    const { stack } = testStack('production');
    const { bundle } = new Machine(stack, 'App', { environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS });
    expect(() => new MachineRollout(stack, 'Rollout', { bundle, host: '203.0.113.1', dependsOn: [], options: options(stack) })).toThrow(message);
  });
});


// Audit (scale): a growing team's first-boot document has many parts, and the refusal over 32 KiB named the parts but
// neither which files made it large nor the way out for a file that must be there at first boot (compress: true).
describe('user data over 32 KiB, in a document of many parts', () => {
  const config = (i: number) => Array.from({ length: 400 + 10 * i }, (_, j) => `setting_${i}_${j} = value ${j} of service ${i}`).join('\n');
  function manyParts(compress: boolean) {
    const { stack, machine } = productionMachine();
    for (let i = 1; i <= 12; i += 1) machine.addCloudInitPart({ name: `service-${i}`, files: [{ path: `/etc/service-${i}/small.conf`, content: `id = ${i}\n` }] });
    machine.addCloudInitPart({ name: 'service-7-settings', files: [{ path: '/etc/service-7/settings.conf', content: config(7), compress }] });
    machine.addCloudInitPart({ name: 'service-9-settings', files: [{ path: '/etc/service-9/settings.conf', content: config(9), compress }] });
    return { stack, machine };
  }

  test('the refusal names the largest files with their parts and sizes, and both ways out: the bundle, or compress: true', () => {
    const { stack } = manyParts(false);
    const bytes = (i: number) => Buffer.byteLength(config(i));
    expect(bytes(9)).toBeGreaterThan(bytes(7));
    expect(() => synthJson(stack)).toThrow(`Hetzner rejects user_data above 32768 bytes, and its largest files are /etc/service-9/settings.conf (part service-9-settings, ${bytes(9)} bytes), `
      + `/etc/service-7/settings.conf (part service-7-settings, ${bytes(7)} bytes), /etc/service-10/small.conf (part service-10, 8 bytes). `
      + 'Fix: move files that are not needed before the first deploy into the bundle (machine.addBundlePart), which has no size limit and reaches production on every deploy; '
      + 'store a text file that must be there at first boot compressed (compress: true on the file)');
  });

  test('the way out for files needed at first boot works: compressed, the same files pass synth, and cloud-init gets their text back', () => {
    const { stack, machine } = manyParts(true);
    expect(machine.userDataSize()!.bytes).toBeLessThan(32_768);
    const [server] = resourcesOf(synthJson(stack), 'hcloud_server');
    const file = (parse(server.user_data) as { write_files: Array<{ path: string; encoding?: string; content: string }> }).write_files.find((f) => f.path === '/etc/service-7/settings.conf')!;
    expect(file.encoding).toBe('gz+b64');
    expect(gunzipSync(Buffer.from(file.content.replace(/\s+/g, ''), 'base64')).toString('utf8')).toBe(config(7));
  });
});
