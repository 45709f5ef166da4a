import { IConstruct } from 'constructs';
import { Annotations } from 'cdktf';
import { BundlePart } from '../machine-bundle';
import { invalidValue, ValidationError } from '../../core/validation-message';
import { ISshKey, SshKey } from '../ssh-key';
import { isOpenSshPublicKey, refusedKeyShown, rsaUnderLastingWarning, sshKeyNamed, STRONGER_KEY_FIX, weakKeyWhy } from './openssh-public-key';

/** root's authorized_keys on every machine with a bundle: exactly the machine's declared keys. */
export const AUTHORIZED_KEYS_FILE = '/root/.ssh/authorized_keys';
export const ADMIN_KEYS_PART = 'admin SSH keys';

/**
 * Refuses a machine's key given as a plain object (not an SshKey, which checks its own) that is an RSA key under 2048
 * bits, and warns of one under 3072, as SshKey does: on every machine, at its creation, whether or not it has a bundle
 * (the key is root on the server Hetzner creates with it). A text that is no key line is left to `adminKeysPart`.
 */
export function checkPlainKeys(machine: IConstruct, keys: readonly ISshKey[]): void {
  keys.forEach((k, i) => {
    if (k instanceof SshKey || typeof k.publicKey !== 'string' || !isOpenSshPublicKey(k.publicKey)) return;
    const weak = weakKeyWhy(k.publicKey);
    if (weak !== undefined) throw new ValidationError(invalidValue(machine, `sshKeys[${i}].publicKey`, sshKeyNamed(k.publicKey), weak, STRONGER_KEY_FIX));
    const lasting = rsaUnderLastingWarning(`${machine.node.path}.sshKeys[${i}].publicKey`, k.publicKey);
    if (lasting !== undefined) Annotations.of(machine).addWarning(lasting);
  });
}

/**
 * The part that makes root's `authorized_keys` the machine's declared keys. Hetzner writes `ssh_keys` only
 * when it creates a server, and a change to them would replace the server (so the machine ignores it): without
 * this part a departed admin's key stayed on the running server for good. Undefined when a key's text is not
 * known at synth (`SshKey.fromName`): the part would lock that key out.
 */
export function adminKeysPart(machine: IConstruct, keys: readonly ISshKey[]): BundlePart | undefined {
  if (keys.length === 0 || keys.some((k) => k.publicKey === undefined)) return undefined;
  const lines = keys.map((k, i) => {
    // A forged key from plain JavaScript must not add lines (and with them options or other keys) to the file.
    if (typeof k.publicKey !== 'string' || !isOpenSshPublicKey(k.publicKey)) {
      throw new ValidationError(`${machine.node.path}.sshKeys[${i}].publicKey: ${refusedKeyShown(k.publicKey)} is not allowed: it is not one OpenSSH public key line. `
        + 'Fix: pass SshKey constructs, whose publicKey is the line from your id_ed25519.pub');
    }
    return k.publicKey.trim();
  });
  return {
    name: ADMIN_KEYS_PART,
    files: [{
      path: AUTHORIZED_KEYS_FILE,
      content: [
        '# Written by every rollout of cdktf-sovereign-hetzner: the machine\'s sshKeys, nothing else.',
        '# A key added here by hand is removed by the next rollout; declare it instead.',
        ...lines, '',
      ].join('\n'),
      permissions: '0600',
      // Refuses a file ssh-keygen cannot read as keys before it replaces the one that lets admins in.
      check: ['ssh-keygen', '-l', '-f', '{}'],
    }],
  };
}
