import { Construct } from 'constructs';
import { Annotations, TerraformStack, Token } from 'cdktf';
import { SshKey as SshKeyResource } from '../../generated/providers/hcloud/ssh-key';
import { invalidValue, ValidationError } from '../core/validation-message';
import { checkProps, is, requireString } from '../core/runtime-checks';
import {
  isOpenSshPublicKey, refusedKeyShown, rsaUnderLastingWarning, sshKeyFingerprint, sshKeyMaterial, sshKeyNamed, STRONGER_KEY_FIX, weakKeyWhy,
} from './private/openssh-public-key';
import { labelErrors } from './private/standard-labels';
import { checkUniquePerProject, registerOnceFix } from './private/project-uniqueness';
import { guardStack } from '../core/private/guard-stack';

/** An SSH key that servers can be created with. */
export interface ISshKey {
  /** What `hcloud_server.ssh_keys` takes: the key's ID or name. */
  readonly sshKeyReference: string;
  /**
   * The OpenSSH public key line, when the app knows it (a key it registers): machines then keep root's
   * `authorized_keys` equal to their keys on every rollout.
   * @default - unknown (`SshKey.fromName`): the running servers keep the keys they were created with
   */
  readonly publicKey?: string;
}

/** What an SSH key is made of: its name and public key. */
export interface SshKeyProps {
  /** The key's name in the Hetzner project. Names and fingerprints are unique per project. */
  readonly name: string;
  /** The OpenSSH public key, such as `ssh-ed25519 AAAA… admin@example.eu`. */
  readonly publicKey: string;
  /**
   * Labels on the key.
   * @default - none
   */
  readonly labels?: Record<string, string>;
}

/**
 * An admin SSH key registered in the Hetzner project.
 *
 * Hetzner allows a key only once per project, so register each key in one stack and
 * refer to it elsewhere with `SshKey.fromName`.
 */
export class SshKey extends Construct implements ISshKey {
  /** Refers to a key that already exists in the project (created by hand or by another stack). */
  public static fromName(name: string): ISshKey {
    requireString('SshKey.fromName', 'name', name, "pass the key's name in the Hetzner project, such as 'admin'");
    return { sshKeyReference: name };
  }

  /** The `hcloud_ssh_key` resource. */
  public readonly resource: SshKeyResource;
  public readonly sshKeyReference: string;
  public readonly publicKey: string;

  constructor(scope: Construct, id: string, props: SshKeyProps) {
    super(scope, id);
    guardStack(this);
    // The props checked are the props built from: one frozen snapshot (a getter answers once; later edits do not reach it).
    props = checkProps<SshKeyProps>(this, props, {
      name: is.text("name the key, such as 'acme-ops'"),
      publicKey: is.text('pass the single line from your id_ed25519.pub (never the private key)'),
      labels: is.optional(is.textMap("write labels such as { team: 'ml' }")),
    }, "pass { name: 'acme-ops', publicKey: 'ssh-ed25519 AAAA… ops@acme.eu' }");
    if (!isOpenSshPublicKey(props.publicKey)) {
      // invalidValue's shape, with the text shown only as far as it is a public key's.
      throw new ValidationError(`${this.node.path}.publicKey: ${refusedKeyShown(props.publicKey)} is not allowed: it is not an OpenSSH public key. `
        + 'Fix: pass the single line from your id_ed25519.pub, in one piece (never the private key)');
    }
    // A 1024-bit RSA key passed every check here, and was root on every machine.
    const weak = weakKeyWhy(props.publicKey);
    if (weak !== undefined) throw new ValidationError(invalidValue(this, 'publicKey', sshKeyNamed(props.publicKey), weak, STRONGER_KEY_FIX));
    const lasting = rsaUnderLastingWarning(`${this.node.path}.publicKey`, props.publicKey);
    if (lasting !== undefined) Annotations.of(this).addWarning(lasting);
    this.resource = new SshKeyResource(this, 'Resource', {
      name: props.name,
      publicKey: props.publicKey.trim(),
      labels: props.labels,
    });
    this.sshKeyReference = this.resource.id;
    this.publicKey = props.publicKey.trim();
    const name = props.name;
    this.node.addValidation({ validate: () => this.duplicateErrors(name) });
    const labels = props.labels;
    this.node.addValidation({ validate: () => labelErrors(this, labels) });
    // duplicateErrors sees this stack; staging's stack and a team's other stacks may deploy to the same project.
    checkUniquePerProject(this, [this.resource]);
  }

  /**
   * Hetzner registers a name, and a key (its fingerprint), once per project: a second of either in the stack failed the
   * deploy with uniqueness_error, part-way through. The same key under two names (admin keys { ops, laptop } holding
   * one key) is the usual way there.
   */
  private duplicateErrors(name: string): string[] {
    const keys = TerraformStack.of(this).node.findAll().filter((c): c is SshKey => c instanceof SshKey);
    const earlier = keys.slice(0, keys.indexOf(this));
    const sameName = earlier.find((k) => k.resource.nameInput === name && !Token.isUnresolved(name));
    const sameKey = earlier.find((k) => sshKeyMaterial(k.publicKey) === sshKeyMaterial(this.publicKey));
    return [
      ...(sameName ? [invalidValue(this, 'name', name, `${sameName.node.path} has this name too, and Hetzner names a key once per project, so the deploy would fail with uniqueness_error`,
        'give each key its own name')] : []),
      ...(sameKey ? [invalidValue(this, 'publicKey', sshKeyFingerprint(this.publicKey),
        `it is the key of ${sameKey.node.path} too (comments aside), and Hetzner registers a key (its fingerprint) once per project, so the deploy would fail with uniqueness_error`,
        registerOnceFix(TerraformStack.of(this), sshKeyMaterial(this.publicKey)))] : []),
    ];
  }
}
