import { Peer } from '../core/peer';

/** Who may administer a product's machines, and from where. */
export interface AdminAccess {
  /** Admin public keys by name, such as `{ alice: 'ssh-ed25519 AAAA… alice@example.eu' }`. */
  readonly sshPublicKeys: Record<string, string>;
  /**
   * IP blocks admins connect from (office, VPN), as `Peer`s or CIDR text:
   * `[Peer.ipv4('203.0.113.0/24')]` or `['203.0.113.0/24']`. Never the whole internet, however
   * it is split up.
   */
  readonly cidrs: Array<Peer | string>;
  /**
   * The SSH host public key of each machine, by server name (`<product>-<environment>-app`, `…-monitoring`),
   * such as `{ 'acme-production-app': 'ssh-ed25519 AAAA…' }`: the server's /etc/ssh/ssh_host_ed25519_key.pub
   * without its comment, read once over a trusted path (the Hetzner console) after its first deploy. Every
   * rollout to a pinned machine then fails on another key instead of handing the bundle and its secrets
   * over. Host keys are public: they belong in the repository, like known_hosts.
   * @default - none: Terraform checks no host key at all, and synth warns for production machines
   */
  readonly hostKeys?: Record<string, string>;
}
