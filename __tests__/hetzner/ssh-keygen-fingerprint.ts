import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

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

/** A key pair made by OpenSSH's ssh-keygen (`-t type`, then args such as ['-b', '1024']), without a passphrase. */
export function keygenPair(type: string, args: readonly string[] = [], comment = 'ops@acme.eu'): { publicKey: string; privateKey: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keygen-'));
  try {
    execFileSync('ssh-keygen', ['-q', '-t', type, ...args, '-N', '', '-C', comment, '-f', path.join(dir, 'key')]);
    return { publicKey: fs.readFileSync(path.join(dir, 'key.pub'), 'utf8').trim(), privateKey: fs.readFileSync(path.join(dir, 'key'), 'utf8') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Whether OpenSSH's ssh-keygen reads the line as a public key (as sshd reads authorized_keys), and the bits it counts. */
export function keygenReads(publicKey: string): { reads: boolean; bits?: number } {
  const run = spawnSync('ssh-keygen', ['-l', '-f', '-'], { input: `${publicKey}\n`, encoding: 'utf8' });
  return run.status === 0 ? { reads: true, bits: Number(/^(\d+) /.exec(run.stdout)?.[1]) } : { reads: false };
}
