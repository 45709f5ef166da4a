import { createHash } from 'crypto';

const PUBLIC_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) ([A-Za-z0-9+/]+={0,3})( .*)?$/;

/** The bytes of an uncompressed point (0x04, X, Y) on each NIST curve OpenSSH knows. */
const ECDSA_POINT: Record<string, number> = { nistp256: 65, nistp384: 97, nistp521: 133 };

/**
 * The fields after the type, as each key type's wire format (RFC 4253, 5656, 8709; OpenSSH's PROTOCOL.u2f) lays them
 * out: each checks one length-prefixed field and says whether it is right.
 */
const FIELDS: Record<string, ReadonlyArray<(field: Buffer, type: string) => boolean>> = {
  'ssh-ed25519': [(k) => k.length === 32],
  // e and n, as positive mpints without a needless leading zero.
  'ssh-rsa': [mpint, mpint],
  'sk-ssh-ed25519@openssh.com': [(k) => k.length === 32, (application) => application.length > 0],
  'ecdsa': [(curve, type) => curve.toString('latin1') === type.slice('ecdsa-sha2-'.length), ecdsaPoint],
  'sk-ecdsa-sha2-nistp256@openssh.com': [(curve) => curve.toString('latin1') === 'nistp256', ecdsaPoint, (application) => application.length > 0],
};

function mpint(n: Buffer): boolean {
  return n.length > 0 && (n[0] & 0x80) === 0 && !(n[0] === 0 && (n.length === 1 || (n[1] & 0x80) === 0));
}

function ecdsaPoint(q: Buffer, type: string): boolean {
  const curve = /nistp\d+/.exec(type)![0];
  return q.length === ECDSA_POINT[curve] && q[0] === 0x04;
}

/**
 * The length-prefixed string (RFC 4251's `string`: a 4-byte length, then that many bytes) at `at` of `blob`, and where
 * the next field starts; undefined where it runs past the end.
 */
export function sshStringAt(blob: Buffer, at: number): { value: Buffer; next: number } | undefined {
  if (at + 4 > blob.length) return undefined;
  const next = at + 4 + blob.readUInt32BE(at);
  return next > blob.length ? undefined : { value: blob.subarray(at + 4, next), next };
}

/**
 * The key's wire-format blob (the base64 decoded), or undefined when it is not exactly one key of its type: its own
 * type as the first length-prefixed string, then each of the type's fields, and nothing after them. A key cut short
 * ('ssh-ed25519 AAAA', or the first line of a key wrapped over two) fails here, not at Hetzner's API or on the machine.
 */
function keyBlob(type: string, base64: string): Buffer | undefined {
  const blob = Buffer.from(base64, 'base64');
  const fields: Buffer[] = [];
  for (let at = 0; at < blob.length;) {
    const field = sshStringAt(blob, at);
    if (!field) return undefined;
    fields.push(field.value);
    at = field.next;
  }
  const checks = FIELDS[type.startsWith('ecdsa-') ? 'ecdsa' : type];
  if (fields.length !== 1 + checks.length || fields[0].toString('latin1') !== type) return undefined;
  return checks.every((check, i) => check(fields[i + 1], type)) ? blob : undefined;
}

/**
 * Whether text is one OpenSSH public key line (type, base64, optional comment); surrounding blanks allowed.
 * The base64 is the key in SSH wire format, read field by field (see keyBlob).
 */
export function isOpenSshPublicKey(text: string): boolean {
  const m = PUBLIC_KEY.exec(text.trim());
  return m !== null && keyBlob(m[1], m[2]) !== undefined;
}

/**
 * A public key without its comment: the type and the base64 that Hetzner takes the fingerprint of, and registers once
 * per project. Two lines that differ only in their comments, or in the base64's padding, are one key; compared by
 * what the base64 decodes to, not by its text.
 */
export function sshKeyMaterial(publicKey: string): string {
  const [type, base64] = publicKey.trim().split(/\s+/);
  return base64 === undefined ? type : `${type} ${Buffer.from(base64, 'base64').toString('base64')}`;
}

/**
 * A key as messages name it: its type and SHA256 fingerprint, as `ssh-keygen -l` prints them. The key's first
 * characters are the same for every key of a type ('ssh-ed25519 AAAAC3NzaC1l…'), so they name none.
 */
export function sshKeyFingerprint(publicKey: string): string {
  const [type, base64] = sshKeyMaterial(publicKey).split(' ');
  return `${type} SHA256:${createHash('sha256').update(Buffer.from(base64 ?? '', 'base64')).digest('base64').replace(/=+$/, '')}`;
}

/**
 * Text refused (as a public key, or as any answer of init's), as a message may show it: its first characters, quoted,
 * where they cannot be a private key's; else a note. A private key's line, pasted in its place, must never reach a
 * terminal, a CI log or an error. Text that starts with a key type is shown (a public key cut short, or mistyped: its
 * first characters are the same for every key of a type); refused as a key, nothing else is. Refused as another
 * `answer` (a name, a domain, networks), text is shown unless it may hold a private key's line (mayHoldPrivateKey).
 */
export function refusedKeyShown(text: unknown, as: 'key' | 'answer' = 'key'): string {
  const trimmed = String(text).trim();
  if (/^(ssh|ecdsa|sk)-[a-z0-9@.-]+ /.test(trimmed)) return `'${trimmed.slice(0, 24)}…'`;
  if (as === 'key') return 'a text (not shown: it starts with no key type such as ssh-ed25519)';
  if (mayHoldPrivateKey(trimmed)) return 'an answer (not shown: it may be a line of a private key)';
  return `'${trimmed.length > 24 ? `${trimmed.slice(0, 24)}…` : trimmed}'`;
}

/**
 * Whether text may hold a line of a private key: a run of 8 or more base64 characters that is not a lowercase word or
 * a number. A key's lines are such runs of 64 or 70 ('b3BlbnNzaC1rZXktdjE…', "openssh-key-v1", opens OpenSSH's), and
 * its last line may be a few characters long; a name, a domain, a network block or a processor is none.
 */
export function mayHoldPrivateKey(text: string): boolean {
  return (text.match(/[A-Za-z0-9+/=]{8,}/g) ?? []).some((run) => !/^([a-z]+|[0-9]+)$/.test(run));
}

/** Whether a line opens a private key file ('-----BEGIN OPENSSH PRIVATE KEY-----', or PEM's RSA, EC, ENCRYPTED kin). */
export function opensPrivateKey(line: string): boolean {
  return /^-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----$/.test(line.trim());
}
