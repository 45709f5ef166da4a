import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdktf';
import { sshKeyFingerprint } from '../../lib/hetzner/private/openssh-public-key';
import { Phase, Product, ProductProps, SshKey } from '../../lib';
import { ProductStacks } from '../../stacks';
import { policy } from '../boundary/fixtures';
import { expectRefused, refusal } from '../boundary/refusal';
import { backup, monitoring } from '../setup/product-basics';
import { synthJson, testStack } from '../setup/stack';
import { fingerprintOf, fingerprintPattern } from './ssh-keygen-fingerprint';

// Audit (duplicates in lists): Hetzner registers a key's name, and the key itself (its fingerprint), once per project.
// One key listed under two names (admin keys { ops, laptop }) or two SshKeys of one name synthesized, and the deploy
// failed with uniqueness_error part-way through.

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr';
const OTHER = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';

describe('SshKey: one name and one key per stack', () => {
  // The key's first 24 characters, as messages named it before, are the same for every ed25519 key ('ssh-ed25519
  // AAAAC3NzaC1l…'), so a message naming one of a team's keys did not say which.
  test.each(['ed25519', 'rsa', 'ecdsa'])('a %s key is named by its type and SHA256 fingerprint, exactly as ssh-keygen -l prints it', (type) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fingerprint-'));
    try {
      execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', 'ops@acme.eu', '-f', path.join(dir, 'key')]);
      const publicKey = fs.readFileSync(path.join(dir, 'key.pub'), 'utf8');
      expect(sshKeyFingerprint(publicKey)).toBe(fingerprintOf(publicKey));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(sshKeyFingerprint(KEY)).toBe('ssh-ed25519 SHA256:zN3y3Zbp9O2euPwhW9fzC0lT8Nj94hCoq3Si14PTxMw');
  });

  // A key cut short passed while its blob held more than its type: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiL', the first
  // line of a key wrapped over two, was test's key to init, and production's full key was then another key.
  test.each([['ed25519', []], ['ecdsa', ['-b', '256']], ['ecdsa', ['-b', '384']], ['ecdsa', ['-b', '521']], ['rsa', ['-b', '3072']]])(
    'a %s key %j from ssh-keygen is taken whole, refused cut short, and is one key with its padding left out', (type, bits) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'key-blob-'));
      let publicKey: string;
      let privateKey: string;
      try {
        execFileSync('ssh-keygen', ['-q', '-t', type, ...bits, '-N', '', '-C', 'ops@acme.eu', '-f', path.join(dir, 'key')]);
        publicKey = fs.readFileSync(path.join(dir, 'key.pub'), 'utf8');
        privateKey = fs.readFileSync(path.join(dir, 'key'), 'utf8');
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
      const [, base64] = publicKey.split(' ');
      const { stack } = testStack();
      expect(new SshKey(stack, 'Whole', { name: 'whole', publicKey }).publicKey).toBe(publicKey.trim());
      for (const cut of [base64.slice(0, 40), base64.slice(0, -4), `${base64}AAAA`]) {
        expect(() => new SshKey(stack, `Cut${cut.length}`, { name: 'cut', publicKey: `${publicKey.split(' ')[0]} ${cut}` })).toThrow(/is not an OpenSSH public key/);
      }
      // A private key in its place is refused, and no character of it after its first line is in the message.
      const body = privateKey.split('\n').slice(1, -2).join('');
      for (const pasted of [privateKey, privateKey.split('\n')[1]]) {
        const message = refusal(() => new SshKey(stack, `Private${pasted.length}`, { name: 'private', publicKey: pasted }));
        expect(message).toMatch(/\.publicKey: a text \(not shown: it starts with no key type such as ssh-ed25519\) is not allowed: it is not an OpenSSH public key/);
        for (let i = 0; i + 8 <= body.length; i += 8) expect(message).not.toContain(body.slice(i, i + 8));
      }
      if (base64.endsWith('=')) {
        expectRefused(() => {
          const { stack: other } = testStack();
          new SshKey(other, 'Padded', { name: 'padded', publicKey });
          new SshKey(other, 'Unpadded', { name: 'unpadded', publicKey: publicKey.replace(/=+ /, ' ') });
          return other;
        }, /Unpadded\.publicKey: .* it is the key of .*Padded too/);
      }
    });

  test('the same key under a second name (another comment) fails synth, naming both', () => {
    expectRefused(() => {
      const { stack } = testStack();
      new SshKey(stack, 'Ops', { name: 'ops', publicKey: `${KEY} ops@acme.eu` });
      new SshKey(stack, 'Laptop', { name: 'laptop', publicKey: `${KEY} laptop` });
      return stack;
    }, new RegExp(`^production/Laptop\\.publicKey: '${fingerprintPattern(KEY)}' is not allowed: it is the key of production/Ops too \\(comments aside\\).*uniqueness_error\\. Fix: register the key once`));
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
    expect(refusal(() => new Product(props(admin)))).toMatch(new RegExp(`^Product\\(acme\\)\\.${prop.replace(/\./g, '\\.')}\\.(laptop|ci): '${fingerprintPattern(prop.endsWith('production') ? OTHER : KEY)}' is not allowed: it is the key of '(ops)' too \\(comments aside\\).*Fix: list each key once`));
  });

  test('distinct keys build their stacks', () => {
    const stacks = new ProductStacks(Testing.app(), new Product(props({ sshPublicKeys: { ops: KEY, laptop: OTHER }, cidrs: ['198.51.100.0/24'] })));
    expect(() => Testing.synth(stacks.production, true)).not.toThrow();
  });
});
