import { Testing } from 'cdktf';
import { Phase, Product, ProductProps, SshKey } from '../../lib';
import { ProductStacks } from '../../stacks';
import { policy } from '../boundary/fixtures';
import { expectRefused, refusal } from '../boundary/refusal';
import { backup, monitoring } from '../setup/product-basics';
import { synthJson, testStack } from '../setup/stack';

// Audit (duplicates in lists): Hetzner registers a key's name, and the key itself (its fingerprint), once per project.
// One key listed under two names (admin keys { ops, laptop }) or two SshKeys of one name synthesized, and the deploy
// failed with uniqueness_error part-way through.

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr';
const OTHER = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';

describe('SshKey: one name and one key per stack', () => {
  test('the same key under a second name (another comment) fails synth, naming both', () => {
    expectRefused(() => {
      const { stack } = testStack();
      new SshKey(stack, 'Ops', { name: 'ops', publicKey: `${KEY} ops@acme.eu` });
      new SshKey(stack, 'Laptop', { name: 'laptop', publicKey: `${KEY} laptop` });
      return stack;
    }, /^production\/Laptop\.publicKey: 'ssh-ed25519 AAAAC3NzaC1l…' is not allowed: it is the key of production\/Ops too \(comments aside\).*uniqueness_error\. Fix: register the key once/);
  });

  test('a second key of the same name fails synth', () => {
    expectRefused(() => {
      const { stack } = testStack();
      new SshKey(stack, 'A', { name: 'ops', publicKey: KEY });
      new SshKey(stack, 'B', { name: 'ops', publicKey: OTHER });
      return stack;
    }, /^production\/B\.name: 'ops' is not allowed: production\/A has this name too.*Fix: give each key its own name/);
  });

  test('keys of their own names and material synthesize', () => {
    const { stack } = testStack();
    new SshKey(stack, 'A', { name: 'ops', publicKey: KEY });
    new SshKey(stack, 'B', { name: 'laptop', publicKey: OTHER });
    expect(() => synthJson(stack)).not.toThrow();
  });
});

describe('Product admin keys', () => {
  const props = (admin: unknown): ProductProps => ({ name: 'acme', phase: Phase.ONE, admin, stateBucket: 'acme-state', boundary: policy, backup, monitoring } as any);

  test.each([
    ['admin.sshPublicKeys', { sshPublicKeys: { ops: `${KEY} ops@acme.eu`, laptop: `  ${KEY} laptop ` }, cidrs: ['198.51.100.0/24'] }],
    ['admin.environmentSshPublicKeys.production', { sshPublicKeys: { ops: KEY }, environmentSshPublicKeys: { production: { ops: OTHER, ci: `${OTHER} ci` } }, cidrs: ['198.51.100.0/24'] }],
  ])('one key under two names in %s is refused at the product', (prop, admin) => {
    expect(refusal(() => new Product(props(admin)))).toMatch(new RegExp(`^Product\\(acme\\)\\.${prop.replace(/\./g, '\\.')}\\.(laptop|ci): 'ssh-ed25519 AAAAC3NzaC1l…' is not allowed: it is the key of '(ops)' too \\(comments aside\\).*Fix: list each key once`));
  });

  test('distinct keys build their stacks', () => {
    const stacks = new ProductStacks(Testing.app(), new Product(props({ sshPublicKeys: { ops: KEY, laptop: OTHER }, cidrs: ['198.51.100.0/24'] })));
    expect(() => Testing.synth(stacks.production, true)).not.toThrow();
  });
});
