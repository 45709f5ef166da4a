import { Construct } from 'constructs';
import { SshKey as SshKeyResource } from '../../generated/providers/hcloud/ssh-key';
import { invalidValue, ValidationError } from '../core/validation-message';
import { checkProps, is, requireString } from '../core/runtime-checks';

/** An SSH key that servers can be created with. */
export interface ISshKey {
  /** What `hcloud_server.ssh_keys` takes: the key's ID or name. */
  readonly sshKeyReference: string;
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

const PUBLIC_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( .*)?$/;

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

  constructor(scope: Construct, id: string, props: SshKeyProps) {
    super(scope, id);
    checkProps<SshKeyProps>(this, props, {
      name: is.text("name the key, such as 'acme-ops'"),
      publicKey: is.text('pass the single line from your id_ed25519.pub (never the private key)'),
      labels: is.optional(is.textMap("write labels such as { team: 'ml' }")),
    }, "pass { name: 'acme-ops', publicKey: 'ssh-ed25519 AAAA… ops@acme.eu' }");
    if (!PUBLIC_KEY.test(props.publicKey.trim())) {
      throw new ValidationError(invalidValue(this, 'publicKey', `${props.publicKey.slice(0, 24)}…`,
        'it is not an OpenSSH public key', 'pass the single line from your id_ed25519.pub (never the private key)'));
    }
    this.resource = new SshKeyResource(this, 'Resource', {
      name: props.name,
      publicKey: props.publicKey.trim(),
      labels: props.labels,
    });
    this.sshKeyReference = this.resource.id;
  }
}
