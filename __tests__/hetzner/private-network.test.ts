import { TerraformVariable } from 'cdktf';
import { Environment, Location, PrivateNetwork, StorageBox } from '../../lib';
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
