import { App, TerraformStack, Testing } from 'cdktf';
import { HcloudProvider } from '../../../generated/providers/hcloud/provider';
import { DataVolume, Environment, Location, Machine, PostgresDatabase, PrivateNetwork, SecretVariable, ServerType, Size, SshKey } from '../../../lib';
import { synthesizedBundle, SynthesizedBundle } from '../../../testing/bundle';

export interface DatabaseFixtureOptions {
  readonly environment?: Environment;
  readonly serverType?: ServerType;
  /** Put the data directory on a volume mounted here. */
  readonly volumeMount?: string;
  /** The machine's image (production ignores a change of it: the running server keeps its own). */
  readonly image?: string;
  /** The private addresses of worker machines declared as the database's networkClients (the app machine then joins a private network). */
  readonly networkClients?: string[];
}

/** A stack with one app machine running the product's PostgreSQL, as EnvironmentStack wires it (private address 10.0.1.2). */
export function synthDatabase(options: DatabaseFixtureOptions = {}): { json: any; bundle: SynthesizedBundle; database: PostgresDatabase; app: App } {
  const app = Testing.app();
  const stack = new TerraformStack(app, 'db');
  new HcloudProvider(stack, 'hcloud', {});
  const environment = options.environment ?? Environment.PRODUCTION;
  const network = options.networkClients && new PrivateNetwork(stack, 'Network', { environment, subnetRange: '10.0.1.0/24' });
  const inNetwork = (privateIp: string) => (network ? { privateNetwork: network, privateIp } : {});
  const machine = new Machine(stack, 'App', {
    environment, role: 'app', name: `acme-${environment.name}-app`, serverType: options.serverType ?? ServerType.CX23, location: Location.NBG1,
    sshKeys: [SshKey.fromName('admin')], adminCidrs: ['203.0.113.0/24'], image: options.image, ...inNetwork('10.0.1.2'),
  });
  const networkClients = (options.networkClients ?? []).map((address, i) => new Machine(stack, `Worker${i}`, {
    environment, role: 'worker', name: `acme-${environment.name}-worker-${i}`, serverType: ServerType.CX23, location: Location.NBG1,
    sshKeys: [SshKey.fromName('admin')], adminCidrs: ['203.0.113.0/24'], ...inNetwork(address),
  }));
  const volume = options.volumeMount ? new DataVolume(stack, 'DatabaseVolume', { machine, size: Size.gibibytes(20), mountPath: options.volumeMount, withoutBackup: 'the fixture has no backup plan; the stacks wire one' }) : undefined;
  const database = new PostgresDatabase(stack, 'Database', {
    machine, privateAddress: '10.0.1.2', privateSubnet: '10.0.1.0/24', dataVolume: volume,
    password: new SecretVariable(stack, 'database_app_password', { description: 'app role password' }),
    withoutBackup: 'the fixture has no backup plan; the stacks wire one', networkClients,
  });
  const json = JSON.parse(Testing.synth(stack, true));
  return { json, bundle: synthesizedBundle(json, machine.serverName), database, app };
}
