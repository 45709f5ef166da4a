import { Construct } from 'constructs';
import { TerraformVariable } from 'cdktf';
import { Duration } from '../../core/duration';
import { Port } from '../../core/port';
import { invalidValue, ValidationError } from '../../core/validation-message';
import { leaveOutFix, optionalInstance, refuseNull } from '../../core/runtime-checks';
import { requireSensitiveVariable } from '../../core/private/sensitive-variable';
import type { MachineRolloutOptions } from '../machine-rollout';

// A Machine's rollout options are checked here, out of the root entry point: machine-rollout.ts is re-exported whole.

const PORT_FIX = leaveOutFix('leave it out for 22, or pass the port sshd listens on, such as Port.of(2222)');
// Pinning first: left out, Terraform checks no host key (the fix must say so, and a null is told it as it is).
const HOST_KEY_FIX = leaveOutFix("pass the line of /etc/ssh/ssh_host_ed25519_key.pub without its comment, such as 'ssh-ed25519 AAAAC3Nza…', "
  + 'or leave it out (not pinned: synth warns in production)');
const HOST_KEY = /^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/]+={0,2}$/;

/**
 * The key each Machine took when it was built, checked and registered then (a key that reaches the stack is refused at
 * synth unless rendered sensitive, with or without a bundle part): its rollout, built later in the machine's
 * construction (with the first part, or at creation for a machine in a private network), takes the same key, which is
 * not checked twice.
 */
const keysTakenByMachine = new WeakMap<Construct, TerraformVariable>();

/**
 * Checks a Machine's rollout options when the machine is built, not only once its first bundle part builds the
 * rollout: a key (and a bad port or host key) given to a machine that has no part yet is refused and registered too.
 */
export function checkRolloutOptions(machine: Construct, options: MachineRolloutOptions): void {
  validateRolloutOptions(machine, 'rollout', options);
  if (options.sshPrivateKey !== undefined) keysTakenByMachine.set(machine, options.sshPrivateKey);
}

/**
 * Checks the options a rollout is built with, naming `at` and its prop `prop` (a Machine's `rollout`, or a rollout built
 * directly and its `options`); a key `machine` checked when it was built is not checked again.
 */
export function validateRolloutOptions(at: Construct, prop: string, options: MachineRolloutOptions, machine: Construct = at): void {
  // null from plain JavaScript is refused as null (refuseNull), not as a key, port or host key of the wrong kind.
  refuseNull(at, `${prop}.sshPrivateKey`, options.sshPrivateKey, leaveOutFix("pass a sensitive variable: new SecretVariable(stack, 'deploy_ssh_key', { description }), or leave it out for the SSH agent"));
  refuseNull(at, `${prop}.port`, options.port, PORT_FIX);
  refuseNull(at, `${prop}.hostKey`, options.hostKey, HOST_KEY_FIX);
  if (options.sshPrivateKey !== undefined && keysTakenByMachine.get(machine) !== options.sshPrivateKey) {
    requireSensitiveVariable(at, `${prop}.sshPrivateKey`, options.sshPrivateKey);
  }
  const port = options.port;
  const isOnePort = port instanceof Port ? port.isSingle
    : typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535;
  if (port !== undefined && !isOnePort) {
    throw new ValidationError(invalidValue(at, `${prop}.port`, port instanceof Port ? port.toString() : port,
      'an SSH port is one whole number from 1 to 65535', PORT_FIX.text));
  }
  if (options.hostKey !== undefined && (typeof options.hostKey !== 'string' || !HOST_KEY.test(options.hostKey.trim()))) {
    throw new ValidationError(invalidValue(at, `${prop}.hostKey`, options.hostKey,
      'a host key is the public key of the server\'s sshd as `<type> <base64>`', HOST_KEY_FIX.text));
  }
  // A JavaScript caller's 30 (meant as seconds) would otherwise crash the synth with a TypeError naming no construct.
  const timeout = optionalInstance(at, `${prop}.connectTimeout`, options.connectTimeout, Duration, 'pass a Duration, such as Duration.minutes(5)');
  if (timeout !== undefined && timeout.toSeconds() <= 0) {
    throw new ValidationError(invalidValue(at, `${prop}.connectTimeout`, timeout, 'deploy would give up before the first connection attempt', 'leave it out for 5 minutes, or pass Duration.minutes(5)'));
  }
}
