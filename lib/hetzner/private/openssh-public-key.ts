import { createHash } from 'crypto';

const PUBLIC_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) ([A-Za-z0-9+/]+={0,3})( .*)?$/;

/**
 * Whether text is one OpenSSH public key line (type, base64, optional comment); surrounding blanks allowed.
 * The base64 is the key in SSH wire format, which starts with its own type as a length-prefixed string: a
 * truncated or mistyped key ('ssh-ed25519 AAAA') fails that check here instead of at Hetzner's API.
 */
export function isOpenSshPublicKey(text: string): boolean {
  const m = PUBLIC_KEY.exec(text.trim());
  if (!m) return false;
  const blob = Buffer.from(m[2], 'base64');
  if (blob.length < 4) return false;
  const typeLength = blob.readUInt32BE(0);
  // The type and at least one more length-prefixed field (the key material) must follow.
  return typeLength === m[1].length && blob.length > 4 + typeLength + 4 && blob.toString('latin1', 4, 4 + typeLength) === m[1];
}

/**
 * A public key without its comment: the type and the base64 that Hetzner takes the fingerprint of, and registers once
 * per project. Two lines that differ only in their comments are one key.
 */
export function sshKeyMaterial(publicKey: string): string {
  return publicKey.trim().split(/\s+/).slice(0, 2).join(' ');
}

/**
 * A key as messages name it: its type and SHA256 fingerprint, as `ssh-keygen -l` prints them. The key's first
 * characters are the same for every key of a type ('ssh-ed25519 AAAAC3NzaC1l…'), so they name none.
 */
export function sshKeyFingerprint(publicKey: string): string {
  const [type, base64] = sshKeyMaterial(publicKey).split(' ');
  return `${type} SHA256:${createHash('sha256').update(Buffer.from(base64 ?? '', 'base64')).digest('base64').replace(/=+$/, '')}`;
}
