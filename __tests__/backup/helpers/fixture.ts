import { App, TerraformStack, TerraformVariable, Testing } from 'cdktf';
import { HcloudProvider } from '../../../generated/providers/hcloud/provider';
import { Environment, Location, Machine, ServerType, SshKey } from '../../../lib';
import { BackupPlan } from '../../../lib/backup/backup-plan';
import { BackupTarget } from '../../../lib/backup/backup-target';
import { PostgresDump } from '../../../lib/backup/postgres-dump';
import { PostgresVersion } from '../../../lib/database/postgres-version';
import { S3Provider } from '../../../lib/backup/s3-provider';
import { Heartbeat } from '../../../lib/backup/heartbeat';
import { RestoreCheck } from '../../../lib/backup/restore-check';
import { RestoreDrill } from '../../../lib/backup/restore-drill';
import { machinePayload } from '../../setup/machine-payload';
import { StorageBox, StorageBoxAccount } from '../../../lib/hetzner/storage-box';

/** How the fixture app's backups and drill are set up. */
export interface FixtureOptions {
  /** Pinned host keys of the Storage Box. @default - none (trust on first use) */
  readonly hostKeys?: string[];
  /** The drill's view of production's Storage Box account. */
  readonly drillSourceHost?: string;
  /**
   * The drill's source host comes from the variable drill_source_host, as the product gives it from production's
   * output: a loopback address, which a literal host may not be (the allowlist resolves names).
   * @default false - drillSourceHost
   */
  readonly drillSourceHostFromVariable?: boolean;
  readonly drillSourceUser?: string;
  /**
   * The drill logs in as a read-only Storage Box account does: with its password (variable
   * storage_box_drill_password), and its host key trusted on first use.
   * @default false - key login with the pinned hostKeys
   */
  readonly drillPasswordLogin?: boolean;
  /**
   * Production's plan also copies to an offsite S3 bucket (variables offsite_endpoint, offsite_bucket,
   * offsite_access_key_id, offsite_secret_access_key), as from Phase 2.
   * @default false - the Storage Box only
   */
  readonly offsite?: boolean;
  /**
   * Where the drill restores from: production's Storage Box account, the offsite bucket (variables
   * drill_offsite_endpoint, drill_offsite_bucket, drill_offsite_access_key_id, drill_offsite_secret_access_key),
   * or both: the Storage Box as its source and the bucket as its additional source.
   * @default 'storagebox'
   */
  readonly drillSource?: 'storagebox' | 'offsite' | 'both';
  /**
   * Directories production's plan backs up as files besides its databases (`plan.protect(machine, { paths })`).
   * @default - none
   */
  readonly filePaths?: string[];
}

/** A synthesized stack of the fixture app and its machine's payload. */
export interface SynthesizedMachine {
  readonly json: any;
  /** What the machine receives (its bundle) as one cloud-config document; see machinePayload. */
  readonly userData: string;
}

const secret = (stack: TerraformStack, name: string) => new TerraformVariable(stack, name, { type: 'string', sensitive: true });

/** An offsite bucket at an EU provider, every detail a sensitive variable named `<prefix>_…`. */
const offsiteTarget = (stack: TerraformStack, prefix: string) => BackupTarget.s3Compatible({
  provider: S3Provider.SCALEWAY,
  endpoint: secret(stack, `${prefix}_endpoint`),
  bucket: secret(stack, `${prefix}_bucket`),
  accessKeyId: secret(stack, `${prefix}_access_key_id`),
  secretAccessKey: secret(stack, `${prefix}_secret_access_key`),
});

/**
 * A product's production and test stacks as a team would write them: production backed up by a
 * Phase 1 plan to a Storage Box in hel1, the test machine running the weekly restore drill
 * against production's backups.
 */
export function synthBackupApp(options: FixtureOptions = {}): { app: App; production: SynthesizedMachine; test: SynthesizedMachine } {
  const app = Testing.app();
  const admin = { sshKeys: [SshKey.fromName('admin')], adminCidrs: ['203.0.113.0/24'] };

  const production = new TerraformStack(app, 'production');
  new HcloudProvider(production, 'hcloud', {});
  const prodMachine = new Machine(production, 'App', {
    environment: Environment.PRODUCTION, role: 'app', name: 'acme-production-app', serverType: ServerType.CX33, location: Location.FSN1, ...admin,
  });
  const box = new StorageBox(production, 'StorageBox', { environment: Environment.PRODUCTION, location: Location.HEL1, password: secret(production, 'storage_box_password') });
  const account = box.addSubaccount('App', { homeDirectory: 'backups/production/app', password: secret(production, 'storage_box_app_password') });
  const plan = BackupPlan.phase1(production, 'Backups', {
    environment: Environment.PRODUCTION,
    resticPassword: secret(production, 'restic_password'),
    heartbeat: Heartbeat.healthchecks(secret(production, 'heartbeat_url')),
    targets: [BackupTarget.storageBox(account, { hostKeys: options.hostKeys }), ...(options.offsite ? [offsiteTarget(production, 'offsite')] : [])],
  });
  // The major of the PostgreSQL the suites run, as a PostgresDatabase's dump() and version give it.
  plan.protect(prodMachine, { postgres: PostgresDump.allDatabases({ version: PostgresVersion.V15 }), paths: options.filePaths });

  const test = new TerraformStack(app, 'test');
  new HcloudProvider(test, 'hcloud', {});
  const testMachine = new Machine(test, 'App', {
    environment: Environment.TEST, role: 'app', name: 'acme-test-app', serverType: ServerType.CX23, location: Location.FSN1, ...admin,
  });
  new RestoreDrill(test, 'RestoreDrill', {
    machine: testMachine,
    ...(options.drillSource === 'both' ? { additionalSources: [offsiteTarget(test, 'drill_offsite')] } : {}),
    source: options.drillSource === 'offsite' ? offsiteTarget(test, 'drill_offsite') : BackupTarget.storageBox(StorageBoxAccount.fromAttributes({
      host: options.drillSourceHostFromVariable
        ? new TerraformVariable(test, 'drill_source_host', { type: 'string', nullable: false }).stringValue
        : options.drillSourceHost ?? 'u12345-sub2.your-storagebox.de',
      username: options.drillSourceUser ?? 'u12345-sub2',
      location: Location.HEL1,
      ...(options.drillPasswordLogin
        ? { readonly: true, password: secret(test, 'storage_box_drill_password') }
        // Key login, as a writable account.
        : { readonly: false }),
    }), { hostKeys: options.drillPasswordLogin ? undefined : options.hostKeys }),
    sourceHost: prodMachine.serverName,
    postgresVersion: PostgresVersion.V15,
    resticPassword: secret(test, 'production_restic_password'),
    heartbeat: Heartbeat.healthchecks(secret(test, 'heartbeat_url')),
    checks: [
      RestoreCheck.sql('every-order-has-its-user', { database: 'app', query: 'SELECT NOT EXISTS (SELECT 1 FROM orders o LEFT JOIN users u ON u.id = o.user_id WHERE u.id IS NULL)' }),
      RestoreCheck.sql('users-present', { database: 'app', query: 'SELECT count(*) >= 1000 FROM users' }),
    ],
  });

  const read = (stack: TerraformStack): SynthesizedMachine => {
    const json = JSON.parse(Testing.synth(stack, true));
    const [server] = Object.values(json.resource.hcloud_server) as any[];
    return { json, userData: machinePayload(json, server.name) };
  };
  return { app, production: read(production), test: read(test) };
}
