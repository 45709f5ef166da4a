import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdktf';
import { isOpenSshPublicKey, sshKeyFingerprint } from '../../lib/hetzner/private/openssh-public-key';
import { Phase, Product, ProductProps, SshKey } from '../../lib';
import { ProductStacks } from '../../stacks';
import { policy } from '../boundary/fixtures';
import { expectRefused, refusal } from '../boundary/refusal';
import { backup, monitoring } from '../setup/product-basics';
import { synthJson, testStack, warningsOf } from '../setup/stack';
import { fingerprintOf, fingerprintPattern, keygenPair, keygenReads } from './ssh-keygen-fingerprint';

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

/** An RFC 4251 string: its length in 4 bytes, then its bytes. */
function sshString(value: Buffer | string): Buffer {
  const bytes = Buffer.from(value);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** A public key line of the fields given, laid out as RFC 4253 and PROTOCOL.u2f lay them out. */
function keyLine(type: string, fields: ReadonlyArray<Buffer | string>, comment = 'ops@acme.eu'): string {
  return `${type} ${Buffer.concat([sshString(type), ...fields.map(sshString)]).toString('base64')} ${comment}`;
}

/** The fields of a key line after its type. */
function fieldsOf(publicKey: string): Buffer[] {
  const blob = Buffer.from(publicKey.split(' ')[1], 'base64');
  const fields: Buffer[] = [];
  for (let at = 0; at < blob.length; at += 4 + blob.readUInt32BE(at)) fields.push(blob.subarray(at + 4, at + 4 + blob.readUInt32BE(at)));
  return fields.slice(1);
}

describe('SshKey: what a key is made of', () => {
  // Audit (SSH keys): an RSA key had no minimum size. `ssh-keygen -t rsa -b 1024` (which OpenSSH 9 still makes) passed
  // SshKey, init and Hetzner's API, and was root on every machine.
  test('an RSA key under 2048 bits is refused, named by its fingerprint, comment and size; 2048 warns; 3072 is taken as it is', () => {
    const weak = keygenPair('rsa', ['-b', '1024'], 'old-laptop@acme.eu').publicKey;
    expect(keygenReads(weak)).toEqual({ reads: true, bits: 1024 });
    const { stack } = testStack();
    const message = refusal(() => new SshKey(stack, 'Old', { name: 'old', publicKey: weak }));
    expect(message).toMatch(new RegExp(`^production/Old\\.publicKey: '${fingerprintPattern(weak)} old-laptop@acme\\.eu' is not allowed: it is an RSA key of 1024 bits, `
      + 'and RSA under 2048 bits is within reach of being factored .* Fix: make an Ed25519 key with ssh-keygen -t ed25519 and pass the line of its \\.pub'));
    // The message names the key; it does not hold it.
    expect(message).not.toContain(weak.split(' ')[1].slice(20, 44));
    // Under OpenSSH's own minimum (1024), which ssh-keygen makes no more: built by hand as RFC 4253 lays it out.
    const modulus = Buffer.concat([Buffer.from([0x00, 0xc3]), Buffer.alloc(95, 0x5a)]);
    const tiny = keyLine('ssh-rsa', [Buffer.from([0x01, 0x00, 0x01]), modulus]);
    expect(keygenReads(tiny).reads).toBe(false);
    expect(refusal(() => new SshKey(stack, 'Tiny', { name: 'tiny', publicKey: tiny }))).toMatch(/^production\/Tiny\.publicKey: 'ssh-rsa SHA256:\S+ ops@acme\.eu' is not allowed: it is an RSA key of 768 bits/);

    const fair = testStack().stack;
    new SshKey(fair, 'Fair', { name: 'fair', publicKey: keygenPair('rsa', ['-b', '2048']).publicKey });
    expect(warningsOf(fair)).toEqual([expect.stringMatching(/^SshKey-RsaUnder3072: production\/Fair\.publicKey 'ssh-rsa SHA256:\S+ ops@acme\.eu' is an RSA key of 2048 bits, which NIST allows only until 2030 .*Fix: make an Ed25519 key with ssh-keygen -t ed25519/)]);
    const strong = testStack().stack;
    new SshKey(strong, 'Strong', { name: 'strong', publicKey: keygenPair('rsa', ['-b', '3072']).publicKey });
    new SshKey(strong, 'Ed', { name: 'ed', publicKey: keygenPair('ed25519').publicKey });
    expect(warningsOf(strong)).toEqual([]);
  });

  // Security keys (FIDO tokens, `ssh-keygen -t ed25519-sk`) were never tried in their real format. Hetzner's API lists
  // sk-ssh-ed25519 and sk-ecdsa-sha2-nistp256 among the types it takes, cloud-init's authorized keys take both, and sshd
  // logs in with them (the token at hand): they are taken, laid out as PROTOCOL.u2f lays them out, exactly as OpenSSH
  // reads them. A key OpenSSH cannot read (an application with a NUL, a point off the curve) registered at Hetzner and
  // then failed the machine's authorized_keys check, or let nobody in.
  test('security keys are taken exactly when OpenSSH reads them: SshKey and ssh-keygen -l agree on every line', () => {
    const ed = fieldsOf(keygenPair('ed25519').publicKey)[0];
    const [, point] = fieldsOf(keygenPair('ecdsa', ['-b', '256']).publicKey);
    const offCurve = Buffer.from(point);
    offCurve[64] ^= 0x01;
    const lines: Record<string, string> = {
      'sk-ssh-ed25519': keyLine('sk-ssh-ed25519@openssh.com', [ed, 'ssh:']),
      'sk-ssh-ed25519, another application': keyLine('sk-ssh-ed25519@openssh.com', [ed, 'ssh:acme-ops']),
      'sk-ecdsa-sha2-nistp256': keyLine('sk-ecdsa-sha2-nistp256@openssh.com', ['nistp256', point, 'ssh:']),
      'sk-ssh-ed25519 without its application': keyLine('sk-ssh-ed25519@openssh.com', [ed]),
      'sk-ssh-ed25519 with a NUL in its application': keyLine('sk-ssh-ed25519@openssh.com', [ed, Buffer.from('ssh:\0x')]),
      'sk-ecdsa-sha2-nistp256 off its curve': keyLine('sk-ecdsa-sha2-nistp256@openssh.com', ['nistp256', offCurve, 'ssh:']),
      'ecdsa-sha2-nistp256 off its curve': keyLine('ecdsa-sha2-nistp256', ['nistp256', offCurve]),
      'sk-ecdsa on nistp384': keyLine('sk-ecdsa-sha2-nistp256@openssh.com', ['nistp384', point, 'ssh:']),
    };
    const verdicts = Object.fromEntries(Object.entries(lines).map(([name, line]) => [name, { ours: isOpenSshPublicKey(line), openssh: keygenReads(line).reads }]));
    expect(Object.fromEntries(Object.entries(verdicts).map(([name, v]) => [name, v.ours]))).toEqual(Object.fromEntries(Object.entries(verdicts).map(([name, v]) => [name, v.openssh])));
    expect(verdicts['sk-ssh-ed25519'].ours && verdicts['sk-ecdsa-sha2-nistp256'].ours).toBe(true);
    // Registered as any key is, and named by the fingerprint ssh-keygen -l prints.
    const { stack } = testStack();
    for (const name of ['sk-ssh-ed25519', 'sk-ecdsa-sha2-nistp256']) {
      expect(new SshKey(stack, name, { name, publicKey: lines[name] }).publicKey).toBe(lines[name]);
      expect(sshKeyFingerprint(lines[name])).toBe(fingerprintOf(lines[name]));
    }
    expect(() => synthJson(stack)).not.toThrow();
  });
});
