import { spawnSync } from 'child_process';
import { generateKeyPairSync } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TerraformStack, TerraformVariable } from 'cdktf';
import { BackupPlan, BackupTarget, Environment, Heartbeat, Location, SshKey, StorageBox } from '../../lib';
import { quote } from '../../lib/core/validation-message';
import { checkedStack, machine, synthErrors } from './fixtures';

// Audit (messages): a private key pasted where a public or host key belongs (the key file instead of its .pub, the
// neighbouring sshPrivateKey and hostKey options mixed up) was printed whole by the refusal, and so into the CI log,
// where whoever reads it could log in with it. Every refusal quotes values through one helper, which now keeps the
// BEGIN line, so the reader sees which key was pasted, and drops the rest.

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'private-key-in-message-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** A fresh OpenSSH private key as ssh-keygen writes it (`~/.ssh/id_ed25519`). */
function openSshKey(): string {
  const file = path.join(work, `id_ed25519_${Math.random().toString(36).slice(2)}`);
  const made = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ops@acme.eu', '-f', file], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`ssh-keygen failed: ${made.stderr}`);
  return fs.readFileSync(file, 'utf8');
}

const KEYS: Array<[string, string, string]> = [
  ['an OpenSSH key', openSshKey(), 'OPENSSH '],
  ['a PKCS#8 key', generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), ''],
  ['an RSA key in PEM', generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs1' }).toString(), 'RSA '],
];

/** The base64 lines of a key's body, each of which must stay out of a message. */
const bodyLines = (key: string) => key.split('\n').filter((l) => l !== '' && !l.startsWith('-----'));

const secret = (stack: TerraformStack, name: string) => new TerraformVariable(stack, name, { type: 'string', sensitive: true });

/** The refusal of what `build` builds in a checked production stack: thrown while building, or failing its synth. */
function refusalOf(build: (stack: TerraformStack) => void): string {
  const stack = checkedStack();
  try {
    build(stack);
  } catch (e) {
    return (e as Error).message;
  }
  return synthErrors(stack);
}

describe.each(KEYS)('%s pasted where a public or host key belongs is refused without its body', (_name, key, kind) => {
  const expectRedacted = (message: string, shown: RegExp) => {
    expect(message).toMatch(shown);
    expect(message).toContain(`-----BEGIN ${kind}PRIVATE KEY----- <redacted>`);
    for (const line of bodyLines(key)) expect(message).not.toContain(line);
  };

  test('by the quoting every refusal goes through, as text and in a list', () => {
    for (const value of [key, [key], { hostKeys: [key] }]) {
      const quoted = quote(value);
      expect(quoted).toContain(`-----BEGIN ${kind}PRIVATE KEY----- <redacted>`);
      for (const line of bodyLines(key)) expect(quoted).not.toContain(line.slice(0, 40));
    }
  });

  test("as a machine's SSH key (a JavaScript caller's text for an SshKey)", () => {
    const message = refusalOf((stack) => machine(stack, 'App', { sshKeys: [key as unknown as SshKey] }));
    expectRedacted(message, /production\/App\.sshKeys\[0\]: '-----BEGIN .*PRIVATE KEY----- <redacted>.*' is not allowed: .*Fix: /s);
  });

  test("as a machine's rollout host key", () => {
    // The rollout options are checked when the machine is built, with or without a bundle part.
    const message = refusalOf((stack) => machine(stack, 'App', { rollout: { hostKey: key } }));
    expectRedacted(message, /production\/App\.rollout\.hostKey: '-----BEGIN .*PRIVATE KEY----- <redacted>.*' is not allowed: a host key is the public key of the server's sshd.*Fix: /s);
  });

  test("as the Storage Box's host key", () => {
    const message = refusalOf((stack) => {
      const box = new StorageBox(stack, 'Box', { environment: Environment.PRODUCTION, location: Location.HEL1, password: secret(stack, 'box_password') });
      const account = box.addSubaccount('App', { homeDirectory: 'backups/app', password: secret(stack, 'app_password') });
      BackupPlan.phase1(stack, 'Backups', {
        environment: Environment.PRODUCTION, resticPassword: secret(stack, 'restic_password'), heartbeat: Heartbeat.healthchecks(secret(stack, 'heartbeat_url')),
        targets: [BackupTarget.storageBox(account, { hostKeys: [key] })],
      }).protect(machine(stack));
    });
    expectRedacted(message, /production\/Backups\.targets: '-----BEGIN .*PRIVATE KEY----- <redacted>.*' is not allowed: a host key is a key type and base64 key.*Fix: /s);
  });
});

// Review: the redaction stopped at the first character outside base64 and line breaks, so a key whose line breaks had
// become spaces (an unquoted `echo $KEY` in CI) printed its whole body, and a passphrase-protected PEM key its headers
// and body after `Proc`.
describe('a private key in another shape is refused without its body too', () => {
  const [, openSsh] = KEYS[0];
  const encrypted = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
    .export({ format: 'pem', type: 'pkcs1', cipher: 'aes-128-cbc', passphrase: 'correct horse battery staple' }).toString();

  test.each([
    ['with its line breaks turned into spaces', openSsh.trim().replace(/\n/g, ' '), bodyLines(openSsh), 'OPENSSH '],
    ['with its line breaks turned into spaces and no END line', openSsh.trim().replace(/\n/g, ' ').replace(/ -----END.*$/, ''), bodyLines(openSsh), 'OPENSSH '],
    ['encrypted, in PEM with its Proc-Type and DEK-Info headers', encrypted, bodyLines(encrypted), 'RSA '],
  ])('%s', (_name, key, lines, kind) => {
    expect(lines.length).toBeGreaterThan(0);
    for (const value of [key, [key]]) {
      const quoted = quote(value);
      expect(quoted).toContain(`-----BEGIN ${kind}PRIVATE KEY----- <redacted>`);
      for (const line of lines) expect(quoted).not.toContain(line.slice(0, 40));
    }
  });
});
