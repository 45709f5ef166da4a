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
}
