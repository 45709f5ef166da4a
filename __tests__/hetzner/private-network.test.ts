import { TerraformVariable, Testing } from 'cdktf';
import { Environment, Location, Machine, PrivateNetwork, ServerType, SshKey, StorageBox } from '../../lib';
import { HetznerStandIn } from '../../testing';
import { resourcesOf, synthJson, testStack } from '../setup/stack';

describe('PrivateNetwork', () => {
  test('with only its required props: one network and one cloud subnet in the EU zone', () => {
    const { stack } = testStack('test');
    new PrivateNetwork(stack, 'Network', { environment: Environment.TEST });
    const json = synthJson(stack);
    const [network] = resourcesOf(json, 'hcloud_network');
    const [subnet] = resourcesOf(json, 'hcloud_network_subnet');
    expect(network).toMatchObject({ name: 'test-network', ip_range: '10.0.0.0/16', delete_protection: false });
    expect(network.lifecycle).toBeUndefined();
    expect(subnet).toMatchObject({ type: 'cloud', network_zone: 'eu-central', ip_range: '10.0.1.0/24' });
    expect(subnet.network_id).toMatch(/^\$\{hcloud_network\..*\.id\}$/);
  });

  test('is delete-protected with prevent_destroy in production', () => {
    const { stack } = testStack('production');
    new PrivateNetwork(stack, 'Network', { environment: Environment.PRODUCTION });
    const [network] = resourcesOf(synthJson(stack), 'hcloud_network');
    expect(network.delete_protection).toBe(true);
    expect(network.lifecycle).toEqual({ prevent_destroy: true });
  });

  test('its subnet has prevent_destroy in production too: a new range or zone replaces it, which production refuses at plan', () => {
    const { stack } = testStack('production');
    new PrivateNetwork(stack, 'Network', { environment: Environment.PRODUCTION });
    expect(resourcesOf(synthJson(stack), 'hcloud_network_subnet')[0].lifecycle).toEqual({ prevent_destroy: true });
    const { stack: test } = testStack('test');
    new PrivateNetwork(test, 'Network', { environment: Environment.TEST });
    expect(resourcesOf(synthJson(test), 'hcloud_network_subnet')[0].lifecycle).toBeUndefined();
  });

  test('through Terraform: a new subnet range in production is refused at plan, and the subnet servers are attached to stays', () => {
    const standIn = new HetznerStandIn();
    const production = (subnetRange: string) => {
      const { stack } = testStack('production');
      const network = new PrivateNetwork(stack, 'Network', { environment: Environment.PRODUCTION, subnetRange });
      new Machine(stack, 'App', {
        environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, adminCidrs: ['203.0.113.0/24'], privateNetwork: network,
        sshKeys: [new SshKey(stack, 'Admin', { name: 'admin', publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr ops@acme.eu' })],
      });
      return stack;
    };
    try {
      const ws = standIn.workspace(production('10.0.1.0/24'));
      expect(ws.apply().ok).toBe(true);
      ws.setConfiguration(Testing.synth(production('10.0.2.0/24')));
      const { run } = ws.plan();
      expect(run.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.summary} ${d.detail}`).join('\n'))
        .toMatch(/Instance cannot be destroyed Resource hcloud_network_subnet\.Network_Subnet_[0-9A-F]{8} has lifecycle\.prevent_destroy set/);
      expect(Object.values<any>(ws.cloud().objects.hcloud_network_subnet).map((s) => s.ip_range)).toEqual(['10.0.1.0/24']);
    } finally {
      standIn.stop(true);
    }
  });

  test('derives the network zone from the location', () => {
    const { stack } = testStack('test');
    const network = new PrivateNetwork(stack, 'Network', { environment: Environment.TEST, location: Location.ASH });
    expect(network.networkZone).toBe('us-east');
    expect(resourcesOf(synthJson(stack), 'hcloud_network_subnet')[0].network_zone).toBe('us-east');
  });

  test('fails when the subnet is outside the network range', () => {
    const { stack } = testStack('test');
    new PrivateNetwork(stack, 'Network', { environment: Environment.TEST, subnetRange: '192.168.0.0/24' });
    expect(() => synthJson(stack)).toThrow(/test\/Network\.subnetRange: '192\.168\.0\.0\/24' is not allowed: it is not inside the network's ipRange 10\.0\.0\.0\/16\. Fix:/);
  });

  test('fails when a range has host bits set', () => {
    const { stack } = testStack('test');
    new PrivateNetwork(stack, 'Network', { environment: Environment.TEST, ipRange: '10.0.0.1/16' });
    expect(() => synthJson(stack)).toThrow(/test\/Network\.ipRange: '10\.0\.0\.1\/16' is not allowed: the address has host bits set/);
  });
});

describe('reserved labels on the other building blocks', () => {
  test.each([
    ['PrivateNetwork', (stack: any) => new PrivateNetwork(stack, 'Network', { environment: Environment.PRODUCTION, labels: { environment: 'test' } })],
    ['StorageBox', (stack: any) => new StorageBox(stack, 'Box', {
      environment: Environment.PRODUCTION, location: Location.HEL1, labels: { 'data-class': 'public' },
      password: new TerraformVariable(stack, 'pw', { type: 'string', sensitive: true }),
    })],
  ])('fails when a user label would override a standard one: %s', (_, build) => {
    const { stack } = testStack('production');
    expect(() => build(stack)).toThrow(/production\/(Network|Box)\.labels\.(environment|data-class): '(test|public)' is not allowed: the library sets this label from the props/);
  });
});
