import { App } from 'cdktf';
import { Environment, ServerType } from '../../lib';
import { EnvironmentStack, EnvironmentStackProps } from '../../stacks';

/** A stand-in admin key: replace it with your team's own public keys. */
const EXAMPLE_ADMIN_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr admin@example.eu';

const shared: Omit<EnvironmentStackProps, 'environment' | 'serverType' | 'stateBackend'> = {
  product: 'pilot',
  admin: {
    sshPublicKeys: { admin: EXAMPLE_ADMIN_KEY },
    // Documentation ranges (RFC 5737 / RFC 3849): replace with your office or VPN blocks.
    cidrs: ['203.0.113.0/24', '2001:db8::/32'],
  },
};

/**
 * Phase 1, pre-revenue or early pilots: one small permanent test machine and one
 * modest production machine, each in its own stack with its own state.
 */
export function phase1Pilot(app: App): { test: EnvironmentStack; production: EnvironmentStack } {
  const test = new EnvironmentStack(app, 'phase1-pilot-test', {
    ...shared,
    environment: Environment.TEST,
    serverType: ServerType.CX23,
    stateBackend: { bucket: 'pilot-terraform-state' },
  });
  const production = new EnvironmentStack(app, 'phase1-pilot-production', {
    ...shared,
    environment: Environment.PRODUCTION,
    serverType: ServerType.CX33,
    stateBackend: { bucket: 'pilot-terraform-state' },
  });
  return { test, production };
}
