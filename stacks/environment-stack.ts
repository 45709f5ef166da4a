import { Construct } from 'constructs';
import { TerraformOutput, TerraformStack } from 'cdktf';
import { HcloudProvider } from '../generated/providers/hcloud/provider';
import {
  DataClass, Environment, FirewallRule, Location, Machine, ObjectStorageBackend, ObjectStorageBackendProps,
  PrivateNetwork, ServerType, SshKey,
} from '../lib';

/** Who may administer the machines, and from where. */
export interface AdminAccess {
  /** Admin public keys by name, such as `{ alice: 'ssh-ed25519 AAAA… alice@example.eu' }`. */
  readonly sshPublicKeys: Record<string, string>;
  /** IP blocks admins connect from (office, VPN). Never the whole internet. */
  readonly cidrs: string[];
}

export interface EnvironmentStackProps {
  /** The product's short name; prefixes every resource name. */
  readonly product: string;
  /** Which environment this stack is. */
  readonly environment: Environment;
  /** The app machine's type. */
  readonly serverType: ServerType;
  /** Admin SSH keys and networks. */
  readonly admin: AdminAccess;
  /** Where this environment's Terraform state lives (Hetzner Object Storage, EU). */
  readonly stateBackend: ObjectStorageBackendProps;
  /**
   * Where the machines run.
   * @default Location.FSN1
   */
  readonly location?: Location;
  /**
   * The data classes the app machine holds.
   * @default [DataClass.SENSITIVE, DataClass.SECRET] - an app machine with its database holds tenant data and credentials
   */
  readonly dataClasses?: DataClass[];
  /**
   * Public entry points of the app machine.
   * @default [FirewallRule.httpsFromAnywhere(), FirewallRule.httpFromAnywhere()]
   */
  readonly ingress?: FirewallRule[];
}

/**
 * One environment of a product as its own stack, with its own state: deploying or
 * destroying one environment never touches another.
 *
 * It holds the provider (token from `HCLOUD_TOKEN`, never in the configuration), the
 * environment's private network, its admin keys and its app machine.
 */
export class EnvironmentStack extends TerraformStack {
  public readonly environment: Environment;
  public readonly network: PrivateNetwork;
  public readonly app: Machine;

  constructor(scope: Construct, id: string, props: EnvironmentStackProps) {
    super(scope, id);
    this.environment = props.environment;
    const location = props.location ?? Location.FSN1;
    const prefix = `${props.product}-${props.environment.name}`;

    new HcloudProvider(this, 'hcloud', {});
    new ObjectStorageBackend(this, props.stateBackend);

    this.network = new PrivateNetwork(this, 'Network', {
      environment: props.environment,
      name: `${prefix}-network`,
      location,
    });
    const sshKeys = Object.entries(props.admin.sshPublicKeys).map(([name, publicKey]) =>
      new SshKey(this, `AdminKey-${name}`, { name: `${prefix}-${name}`, publicKey }));

    this.app = new Machine(this, 'App', {
      environment: props.environment,
      role: 'app',
      name: `${prefix}-app`,
      serverType: props.serverType,
      location,
      dataClasses: props.dataClasses ?? [DataClass.SENSITIVE, DataClass.SECRET],
      sshKeys,
      adminCidrs: props.admin.cidrs,
      ingress: props.ingress ?? [FirewallRule.httpsFromAnywhere(), FirewallRule.httpFromAnywhere()],
      privateNetwork: this.network,
    });

    new TerraformOutput(this, 'app_ipv4', { value: this.app.ipv4.ipAddress, description: 'Public IPv4 of the app machine' });
    new TerraformOutput(this, 'app_ipv6', { value: this.app.ipv6.ipAddress, description: 'Public IPv6 of the app machine' });
  }
}
