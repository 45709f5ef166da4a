import { App, TerraformStack } from 'cdktf';
import { HcloudProvider } from '../../generated/providers/hcloud/provider';
import { DataVolume, Environment, Machine, PrivateNetwork, ServerType, Size, SshKey } from '../../lib';
import { ADMIN_CIDRS } from '../setup/stack';

// The stacks project-uniqueness.test.ts and its stand-in half build: a team's own stacks, several to one App.

export const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr';
export const OTHER_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';

/** What one stack of the test App holds: a machine with its key, optionally a volume and a network. */
export interface TeamStackOptions {
  readonly environment?: Environment;
  readonly machineName?: string;
  readonly keyName?: string;
  readonly publicKey?: string;
  readonly volumeName?: string;
  readonly networkName?: string;
}

/** A team's own stack (no EnvironmentStack): a machine registering its admin key, as the README's custom stacks do. */
export function teamStack(app: App, id: string, options: TeamStackOptions = {}): TerraformStack {
  const stack = new TerraformStack(app, id);
  new HcloudProvider(stack, 'hcloud', {});
  const environment = options.environment ?? Environment.PRODUCTION;
  const network = options.networkName === undefined ? undefined
    : new PrivateNetwork(stack, 'Network', { environment, name: options.networkName });
  const machine = new Machine(stack, 'Web', {
    environment, role: 'web', name: options.machineName ?? 'acme-web', serverType: ServerType.CX23, adminCidrs: ADMIN_CIDRS,
    sshKeys: [new SshKey(stack, 'Admin', { name: options.keyName ?? 'acme-admin', publicKey: options.publicKey ?? KEY })],
    privateNetwork: network,
  });
  if (options.volumeName !== undefined) {
    new DataVolume(stack, 'Data', { machine, size: Size.gibibytes(10), name: options.volumeName, withoutBackup: 'a scratch cache, rebuilt from the object store on demand' });
  }
  return stack;
}
