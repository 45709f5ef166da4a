import { createHash } from 'crypto';
import { SshKey } from '../../lib';
import { checkedStack, machine, synthErrors } from './fixtures';

// Audit (scale): root's authorized_keys travels in the bundle, and the secret scan reads the bundle's document as a
// whole besides each file. In that JSON document a key line follows an escaped newline ("\nssh-ed25519 AAAA…"), so the
// scan's "public keys are not secrets" mask, anchored at a word boundary, missed it. About one ed25519 key in a hundred
// has a run of exactly 64 letters and digits in its base64, which reads as an API token: a team with twenty admin keys
// had about one chance in five that synth refused its own public keys as a plaintext secret, with no way around it.

/** A well-formed ed25519 public key line whose key bytes are sha256(seed). */
function ed25519Key(seed: string): string {
  const field = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  const blob = Buffer.concat([field(Buffer.from('ssh-ed25519')), field(createHash('sha256').update(seed).digest())]);
  return `ssh-ed25519 ${blob.toString('base64')} ${seed}@example.eu`;
}

const TOKEN_LIKE_RUN = /(?<![A-Za-z0-9])[A-Za-z0-9]{64}(?![A-Za-z0-9])/;

/** The first keys (by seed) that look like they hold a token, and the first that do not: found, not hard-coded. */
function keys(tokenLike: boolean, count: number): string[] {
  const found: string[] = [];
  for (let i = 0; found.length < count; i += 1) {
    const key = ed25519Key(`member${i}`);
    if (TOKEN_LIKE_RUN.test(key.split(' ')[1]) === tokenLike) found.push(key);
  }
  return found;
}

function machineWithKeys(publicKeys: string[]) {
  const stack = checkedStack();
  const sshKeys = publicKeys.map((publicKey, i) => new SshKey(stack, `Key${i}`, { name: `acme-production-member-${i}`, publicKey }));
  machine(stack, 'App', { sshKeys }).addBundlePart({ name: 'app', files: [{ path: '/etc/app.conf', content: 'LOG_LEVEL=info\n' }] });
  return stack;
}

describe('admin public keys in a machine bundle', () => {
  test('a key whose base64 holds a token-like run passes synth, after another key as in authorized_keys', () => {
    const [tokenLike] = keys(true, 1);
    const [plain] = keys(false, 1);
    expect(synthErrors(machineWithKeys([plain, tokenLike]))).toBe('');
  });

  test('twenty admin keys pass synth, whichever they are', () => {
    expect(synthErrors(machineWithKeys([...keys(false, 17), ...keys(true, 3)]))).toBe('');
  });

  test('a token in a bundle command is still refused, on the first line of a command or on a later one', () => {
    const token = 'aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5hJ7kL9mN1pQ3sT5vW7yZ9bC1dE3f';
    for (const command of [`curl -H 'Authorization: Bearer ${token}' https://api.example.eu`, `set -e\nexport API_TOKEN_FILE=/etc/app.token\n${token} > /dev/null`]) {
      const stack = checkedStack();
      machine(stack).addBundlePart({ name: 'app', commands: [command] });
      expect(synthErrors(stack)).toMatch(/Boundary-NoPlaintextSecret: .*looks like a API token/);
    }
  });
});
