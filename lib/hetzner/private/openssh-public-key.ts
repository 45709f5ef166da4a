import { createHash, createPublicKey } from 'crypto';

const PUBLIC_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) ([A-Za-z0-9+/]+={0,3})( .*)?$/;

/** The bytes of an uncompressed point (0x04, X, Y) on each NIST curve OpenSSH knows, and the curve's name in JWK. */
const ECDSA_POINT: Record<string, { bytes: number; jwk: string }> = {
  nistp256: { bytes: 65, jwk: 'P-256' }, nistp384: { bytes: 97, jwk: 'P-384' }, nistp521: { bytes: 133, jwk: 'P-521' },
};

/**
 * The fields after the type, as each key type's wire format (RFC 4253, 5656, 8709; OpenSSH's PROTOCOL.u2f) lays them
 * out: each checks one length-prefixed field and says whether it is right.
 */
const FIELDS: Record<string, ReadonlyArray<(field: Buffer, type: string) => boolean>> = {
  'ssh-ed25519': [(k) => k.length === 32],
  // e and n, as positive mpints without a needless leading zero.
  'ssh-rsa': [mpint, mpint],
  // A security key's (FIDO, PROTOCOL.u2f): the key, then the application it was made for ('ssh:'). Hetzner's API and
  // cloud-init take both sk types, and OpenSSH's sshd (8.2 and later) the login; the token is needed at each login.
  'sk-ssh-ed25519@openssh.com': [(k) => k.length === 32, application],
  'ecdsa': [(curve, type) => curve.toString('latin1') === type.slice('ecdsa-sha2-'.length), ecdsaPoint],
  'sk-ecdsa-sha2-nistp256@openssh.com': [(curve) => curve.toString('latin1') === 'nistp256', ecdsaPoint, application],
};

/** A security key's application: OpenSSH reads it as a C string, so a NUL in it makes the whole line unreadable. */
function application(name: Buffer): boolean {
  return name.length > 0 && !name.includes(0);
}

function mpint(n: Buffer): boolean {
  return n.length > 0 && (n[0] & 0x80) === 0 && !(n[0] === 0 && (n.length === 1 || (n[1] & 0x80) === 0));
}

/**
 * An uncompressed point on the type's curve. OpenSSH refuses a point off the curve (ssh-keygen -l and sshd alike): such
 * a key passed synth, then let nobody in, and the machine's authorized_keys check (ssh-keygen -l) failed on it.
 */
function ecdsaPoint(q: Buffer, type: string): boolean {
  const curve = ECDSA_POINT[/nistp\d+/.exec(type)![0]];
  if (q.length !== curve.bytes || q[0] !== 0x04) return false;
  const half = (q.length - 1) / 2;
  try {
    createPublicKey({ key: { kty: 'EC', crv: curve.jwk, x: q.subarray(1, 1 + half).toString('base64url'), y: q.subarray(1 + half).toString('base64url') }, format: 'jwk' });
    return true;
  } catch {
    return false;
  }
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

/** The fewest bits of an RSA key's modulus that may open a machine: NIST has disallowed fewer since 2013 (SP 800-131A). */
export const RSA_MINIMUM_BITS = 2048;
/** The bits of RSA from which on a key is good past 2030 (NIST SP 800-57); under them a key is allowed, with a warning. */
export const RSA_LASTING_BITS = 3072;
/** What a message tells the owner of a refused or weak RSA key. */
export const STRONGER_KEY_FIX = 'make an Ed25519 key with ssh-keygen -t ed25519 and pass the line of its .pub (or an RSA key of 3072 bits: ssh-keygen -t rsa -b 3072)';

/** The bits of an RSA public key's modulus, as ssh-keygen -l counts them; undefined for a key of another type or no key. */
export function rsaKeyBits(publicKey: string): number | undefined {
  const m = PUBLIC_KEY.exec(publicKey.trim());
  const blob = m?.[1] === 'ssh-rsa' ? keyBlob(m[1], m[2]) : undefined;
  if (blob === undefined) return undefined;
  const e = sshStringAt(blob, sshStringAt(blob, 0)!.next)!;
  const n = sshStringAt(blob, e.next)!.value;
  // An mpint's first byte may be a 0 that only keeps it positive.
  const first = n[0] === 0 ? 1 : 0;
  return (n.length - first - 1) * 8 + n[first].toString(2).length;
}

/**
 * Why a public key is too weak to open a machine as root (an RSA key under RSA_MINIMUM_BITS), or undefined. The key is
 * then named by sshKeyNamed, and the fix is STRONGER_KEY_FIX.
 */
export function weakKeyWhy(publicKey: string): string | undefined {
  const bits = rsaKeyBits(publicKey);
  return bits !== undefined && bits < RSA_MINIMUM_BITS
    ? `it is an RSA key of ${bits} bits, and RSA under ${RSA_MINIMUM_BITS} bits is within reach of being factored (NIST has disallowed it since 2013), while the key opens the machines as root`
    : undefined;
}

/**
 * The warning for an RSA key that opens the machines but not for long (RSA_MINIMUM_BITS to RSA_LASTING_BITS), the key
 * named as at `where` (a construct path and its prop), or undefined. Said wherever such a key is taken: an SshKey,
 * and a machine's key given as a plain object.
 */
export function rsaUnderLastingWarning(where: string, publicKey: string): string | undefined {
  const bits = rsaKeyBits(publicKey);
  return bits !== undefined && bits < RSA_LASTING_BITS
    ? `SshKey-RsaUnder${RSA_LASTING_BITS}: ${where} '${sshKeyNamed(publicKey)}' is an RSA key of ${bits} bits, which NIST allows only until 2030 (SP 800-57). Fix: ${STRONGER_KEY_FIX}.`
    : undefined;
}

/** A key as a message about the key itself names it: its type, SHA256 fingerprint and comment, all of it public. */
export function sshKeyNamed(publicKey: string): string {
  const comment = publicKey.trim().split(/\s+/).slice(2).join(' ');
  return `${sshKeyFingerprint(publicKey)}${comment === '' ? '' : ` ${comment}`}`;
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
 * Whether text may hold a line of a private key: a run of 8 or more base64 characters that is no word. A key's lines
 * are such runs of 64 or 70 ('b3BlbnNzaC1rZXktdjE…', "openssh-key-v1", opens OpenSSH's), and its last line may be a few
 * characters long. A word is a lowercase one, a number, or a name written in capitalized parts of two or more lowercase
 * letters with a vowel each ('AcmeCorp', 'HetznerCloud'), of fewer than WORD_RUN_LIMIT characters: about 3 in 1000
 * base64 runs of 8 characters have that shape, and fewer the longer they are. (init withholds the lines pasted with a
 * withheld one too.)
 */
export function mayHoldPrivateKey(text: string): boolean {
  return (text.match(/[A-Za-z0-9+/=]{8,}/g) ?? []).some((run) => run.length >= WORD_RUN_LIMIT || !(WORD.test(run) || /^([a-z]+|[0-9]+)$/.test(run)));
}

/**
 * How long a run of base64 characters is never taken for a word, whatever its shape: key material comes in such runs
 * (a 128-bit key is 22 base64 or 32 hex characters), and a random hex run of 20 is all digits, a number's shape, about
 * 8 times in 100,000. A name or a domain a person types breaks into shorter runs at its '-', '.' and spaces.
 */
const WORD_RUN_LIMIT = 20;

/** A name in capitalized parts: each an optional capital, then two or more lowercase letters, a vowel among them. */
const WORD = /^(?:[A-Z]?(?=[a-z]{2,}(?:[A-Z]|$))[a-z]*[aeiouy][a-z]*)+$/;

/** Whether a line opens a private key file ('-----BEGIN OPENSSH PRIVATE KEY-----', or PEM's RSA, EC, ENCRYPTED kin). */
export function opensPrivateKey(line: string): boolean {
  return /^-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----$/.test(line.trim());
}
