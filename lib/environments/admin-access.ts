/** Who may administer a product's machines, and from where. */
export interface AdminAccess {
  /** Admin public keys by name, such as `{ alice: 'ssh-ed25519 AAAA… alice@example.eu' }`. */
  readonly sshPublicKeys: Record<string, string>;
  /** IP blocks admins connect from (office, VPN). Never the whole internet. */
  readonly cidrs: string[];
}
