import { Environment, PrivateNetwork, SshKey } from '../../lib';
import { expectRefused } from '../boundary/refusal';
import { resourcesOf, synthJson, testStack } from '../setup/stack';

// Audit (scale): Hetzner takes a label value of at most 63 characters, alphanumeric at both ends with only "-", "_" and
// "." inside (hetzner-pitfalls item 20). Machines, volumes and Storage Boxes refused a bad label at synth; an SSH key
// and a private network passed it to Terraform, and the deploy failed when it wrote them. A growing team labels its
// keys by owner (an e-mail) and its networks by branch (feat/x), which are the usual bad values.

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr ops@acme.eu';
const FIX = 'Fix: sanitize the label, for example "feat-x" instead of "feat/x"';

describe('labels of SSH keys and private networks', () => {
  test('an SSH key with a label Hetzner refuses fails synth, naming the key, the label and the fix', () => {
    expect(expectRefused(() => {
      const { stack } = testStack();
      new SshKey(stack, 'Ops', { name: 'acme-ops', publicKey: KEY, labels: { owner: 'ops@acme.eu' } });
      return stack;
    })).toBe(`production/Ops.labels: 'owner=ops@acme.eu' is not allowed: a Hetzner label value has at most 63 characters, starts and ends with a letter or digit, `
      + `and uses only letters, digits, "-", "_" and "." inside. ${FIX}`);
  });

  test('a private network with a label Hetzner refuses fails synth, naming the network, the label and the fix', () => {
    expect(expectRefused(() => {
      const { stack } = testStack();
      new PrivateNetwork(stack, 'Network', { environment: Environment.PRODUCTION, labels: { branch: 'feat/x' } });
      return stack;
    })).toMatch(/^production\/Network\.labels: 'branch=feat\/x' is not allowed: a Hetzner label value has at most 63 characters/);
    expect(expectRefused(() => {
      const { stack } = testStack();
      new PrivateNetwork(stack, 'Network', { environment: Environment.PRODUCTION, labels: { [`team/${'x'.repeat(64)}`]: 'ml' } });
      return stack;
    })).toMatch(/^production\/Network\.labels: 'team\/x{64}' is not allowed: a Hetzner label key is an optional DNS-style prefix/);
  });

  test('valid labels, the longest included, reach the resources', () => {
    const { stack } = testStack();
    new SshKey(stack, 'Ops', { name: 'acme-ops', publicKey: KEY, labels: { owner: 'ops.acme.eu', note: 'a'.repeat(63) } });
    new PrivateNetwork(stack, 'Network', { environment: Environment.PRODUCTION, labels: { branch: 'feat-x' } });
    const json = synthJson(stack);
    expect(resourcesOf(json, 'hcloud_ssh_key')[0].labels).toEqual({ owner: 'ops.acme.eu', note: 'a'.repeat(63) });
    expect(resourcesOf(json, 'hcloud_network')[0].labels).toMatchObject({ branch: 'feat-x', environment: 'production' });
  });
});
