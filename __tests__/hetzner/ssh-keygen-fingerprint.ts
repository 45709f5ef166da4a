import { spawnSync } from 'child_process';

/**
 * A public key named as the uniqueness messages name it, computed by OpenSSH's own `ssh-keygen -l` rather than the
 * library's code: its type and SHA256 fingerprint, such as 'ssh-ed25519 SHA256:zN3y…'.
 */
export function fingerprintOf(publicKey: string): string {
  const run = spawnSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', '-'], { input: `${publicKey}\n`, encoding: 'utf8' });
  const fingerprint = /^\d+ (SHA256:[A-Za-z0-9+/]+) /.exec(run.stdout)?.[1];
  if (run.status !== 0 || fingerprint === undefined) throw new Error(`ssh-keygen -l failed on ${publicKey}: ${run.stderr}`);
  return `${publicKey.trim().split(/\s+/)[0]} ${fingerprint}`;
}

/** The fingerprint as a regular expression's literal text. */
export function fingerprintPattern(publicKey: string): string {
  return fingerprintOf(publicKey).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
