import { Peer } from '../core/peer';

/**
 * The admin keys of an environment that has keys of its own, by name. Staging has no entry: it follows
 * production, since staging built from production's snapshot boots production's image (with production's
 * root `authorized_keys`) in production's Hetzner project, where it uses production's registered keys by name.
 */
export interface EnvironmentSshPublicKeys {
  /**
   * The keys that open test's machines, such as `{ ops: 'ssh-ed25519 AAAA… ops@acme.eu', ci: 'ssh-ed25519 AAAA… ci-test' }`.
   * @default - `AdminAccess.sshPublicKeys`
   */
  readonly test?: Record<string, string>;
  /**
   * The keys that open production's (and staging's) machines, and no other environment's: test's CI job, and
   * anyone who can run it, then holds no key that is root on production.
   * @default - `AdminAccess.sshPublicKeys`
   */
  readonly production?: Record<string, string>;
}

/** Who may administer a product's machines, and from where. */
export interface AdminAccess {
  /**
   * Admin public keys by name, such as `{ alice: 'ssh-ed25519 AAAA… alice@example.eu' }`: the keys of every
   * environment that has none of its own in `environmentSshPublicKeys`.
   */
  readonly sshPublicKeys: Record<string, string>;
  /**
   * Keys of an environment's own, instead of `sshPublicKeys`, such as
   * `{ production: { ops: 'ssh-ed25519 AAAA… ops@acme.eu', ci: 'ssh-ed25519 AAAA… ci-production' } }`. Each
   * environment's machines accept only its keys (root's `authorized_keys` is rewritten on every rollout),
   * so a key kept for test deploys never opens production.
   * @default - every environment's machines accept `sshPublicKeys`; synth warns that test's keys open production
   */
  readonly environmentSshPublicKeys?: EnvironmentSshPublicKeys;
  /**
   * IP blocks admins connect from (office, VPN), as `Peer`s or CIDR text:
   * `[Peer.ipv4('203.0.113.0/24')]` or `['203.0.113.0/24']`. Never the whole internet, however
   * it is split up.
   */
  readonly cidrs: Array<Peer | string>;
  /**
   * The SSH host public key of each machine, by server name (`<product>-<environment>-app`, `…-monitoring`),
   * such as `{ 'acme-production-app': 'ssh-ed25519 AAAA…' }`: the server's /etc/ssh/ssh_host_ed25519_key.pub
   * without its comment, read once over a trusted path after its first deploy: the Hetzner web console, once
   * `hcloud server reset-password <server>` has given root a password (docs/day-2.md). Every
   * rollout to a pinned machine then fails on another key instead of handing the bundle and its secrets
   * over. Host keys are public: they belong in the repository, like known_hosts.
   * @default - none: Terraform checks no host key at all, and synth warns for production machines
   */
  readonly hostKeys?: Record<string, string>;
}
