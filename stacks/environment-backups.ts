import { Annotations, TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import {
  BackupPlan, BackupTarget, Component, Duration, Environment, Heartbeat, Location, Machine, Phase, PostgresDatabase, Product,
  ProductBackupOptions, RestoreDrill, S3TargetOptions, SecretVariable, StorageBox, StorageBoxAccount,
} from '../lib';
import { defaultMaxBackupAge, PHASE_ONE_SCHEDULE, PHASE_TWO_SCHEDULE } from '../lib/backup/private/phase-schedules';
import { DRILL_ACCOUNT_PASSWORD_VARIABLES, OFFSITE_DRILL_VARIABLES } from './drill-variables';

export { DRILL_ACCOUNT_PASSWORD_VARIABLES, OFFSITE_DRILL_VARIABLES } from './drill-variables';

/** The test stack's variables that take production's outputs (variable → output), for the restore drill's login. */
export const DRILL_SOURCE_OUTPUTS = { production_backup_host: 'backup_drill_host', production_backup_username: 'backup_drill_username' } as const;

/** Storage Boxes exist in fsn1 and hel1: the backups go to the one production's machines are not in. */
export function backupLocationFor(machines: Location): Location {
  return machines === Location.HEL1 ? Location.FSN1 : Location.HEL1;
}

/**
 * The age past which the phase's production plan calls its newest backup missing (its schedule's interval plus
 * 2 hours): 26 hours in Phase 1, 8 from Phase 2. The drill, in the test stack, judges production's backups by it.
 */
function backupMaxAgeFor(phase: Phase): Duration {
  return defaultMaxBackupAge(phase === Phase.ONE ? PHASE_ONE_SCHEDULE : PHASE_TWO_SCHEDULE);
}

/** The product's offsite bucket, with these details (the plan and the drill open its port, when not 443, for the endpoint alone). */
function offsiteTarget(options: ProductBackupOptions, details: Pick<S3TargetOptions, 'endpoint' | 'bucket' | 'accessKeyId' | 'secretAccessKey'>): BackupTarget {
  return BackupTarget.s3Compatible({ provider: options.offsite!, ...details, ...(options.offsitePort ? { port: options.offsitePort } : {}) });
}

/**
 * Production: a Storage Box in the other location with a writable sub-account for the app
 * machine and a read-only one for the restore drill, the phase's BackupPlan protecting the app
 * machine, and from Phase 2 an offsite S3 copy. Every secret is a SecretVariable.
 */
export function addProductionBackups(stack: TerraformStack, product: Product, app: Machine, options: ProductBackupOptions, database: PostgresDatabase): void {
  const secret = (id: string, description: string) => new SecretVariable(stack, id, { description });
  const prefix = `${product.name}-production`;
  const box = new StorageBox(stack, 'StorageBox', {
    environment: Environment.PRODUCTION,
    name: `${prefix}-backups`,
    location: backupLocationFor(product.locationFor(Environment.PRODUCTION)),
    password: secret('storage_box_password', 'Password of the Storage Box main account (Hetzner password policy)'),
  });
  const home = 'backups/production/app';
  const appAccount = box.addSubaccount('App', {
    homeDirectory: home, password: secret('storage_box_app_password', 'Password of the app machine\'s Storage Box sub-account'),
    description: 'production app machine backups',
  });
  const drillAccount = box.addSubaccount('Drill', {
    homeDirectory: home, readonly: true, password: secret(DRILL_ACCOUNT_PASSWORD_VARIABLES.production,
      `Password of the read-only sub-account the restore drill reads with (the test stack's ${DRILL_ACCOUNT_PASSWORD_VARIABLES.test} must hold the same value)`),
    description: 'read-only access for the restore drill',
  });

  const targets = [BackupTarget.storageBox(appAccount, { hostKeys: options.storageBoxHostKeys })];
  // The plan declares its targets' and heartbeat's hosts for the app machine's egress allowlist itself.
  // Declared in Phase 1 it is built too: the phase then refuses it unless adopted early, with the reason.
  if (options.offsite) {
    const v = OFFSITE_DRILL_VARIABLES;
    targets.push(offsiteTarget(options, {
      endpoint: secret(v.endpoint.production, `Endpoint URL of the offsite S3 bucket (EU, not Hetzner; the test stack's ${v.endpoint.test} holds the same)`),
      bucket: secret(v.bucket.production, `Name of the offsite S3 bucket (the test stack's ${v.bucket.test} holds the same)`),
      accessKeyId: secret(v.accessKeyId.production, 'Access key ID for the offsite bucket, with write access'),
      secretAccessKey: secret(v.secretAccessKey.production, 'Secret access key for the offsite bucket, with write access'),
    }));
  }
  const options_ = {
    environment: Environment.PRODUCTION,
    resticPassword: secret('restic_password', 'Password of the restic repositories (the test stack needs the same value for the drill)'),
    heartbeat: Heartbeat.healthchecks(secret('backup_heartbeat_url', 'Healthchecks ping URL prefix for the backup jobs')),
    targets,
  };
  const plan = product.phase === Phase.ONE ? BackupPlan.phase1(stack, 'Backups', options_) : BackupPlan.phase2(stack, 'Backups', options_);
  // Every database of the server, its data directory (and so a volume it is on) covered.
  plan.protect(app, { postgres: database.dump() });
  Component.declare(plan, Component.REMOTE_BACKUP);
  if (targets.some((t) => t.isOffsite)) Component.declare(plan, Component.OFFSITE_BACKUP);

  // The test stack's restore drill reads through the read-only account: these are its TF_VAR_production_backup_* inputs.
  new TerraformOutput(stack, DRILL_SOURCE_OUTPUTS.production_backup_host, { value: drillAccount.host, description: 'Set as TF_VAR_production_backup_host for the test stack' });
  new TerraformOutput(stack, DRILL_SOURCE_OUTPUTS.production_backup_username, { value: drillAccount.username, description: 'Set as TF_VAR_production_backup_username for the test stack' });
}

/**
 * Test: the weekly restore drill, reading production's newest backup through the read-only
 * Storage Box account, restoring it into scratch databases and running the team's checks; from
 * the offsite bucket as well when there is one (with a read-only key of its own).
 * The stack stays deployable alone: production's account and bucket come in as variables.
 */
export function addRestoreDrill(stack: TerraformStack, product: Product, app: Machine, options: ProductBackupOptions, database: PostgresDatabase): void {
  const secret = (id: string, description: string) => new SecretVariable(stack, id, { description });
  const fromOutput = (variable: keyof typeof DRILL_SOURCE_OUTPUTS) => new TerraformVariable(stack, variable, {
    type: 'string', nullable: false, description: `The production stack's ${DRILL_SOURCE_OUTPUTS[variable]} output`,
  });
  const host = fromOutput('production_backup_host');
  const username = fromOutput('production_backup_username');
  const drill = new RestoreDrill(stack, 'RestoreDrill', {
    machine: app,
    source: BackupTarget.storageBox(StorageBoxAccount.fromAttributes({
      host: host.stringValue, username: username.stringValue, location: backupLocationFor(product.locationFor(Environment.PRODUCTION)), readonly: true,
      password: new SecretVariable(stack, DRILL_ACCOUNT_PASSWORD_VARIABLES.test, {
        description: `Password of production's read-only restore-drill sub-account (the same value as production's ${DRILL_ACCOUNT_PASSWORD_VARIABLES.production})`,
      }),
    }), { hostKeys: options.storageBoxHostKeys }),
    ...(options.offsite ? { additionalSources: [offsiteTarget(options, {
      endpoint: secret(OFFSITE_DRILL_VARIABLES.endpoint.test, `Endpoint URL of production's offsite S3 bucket (the same value as production's ${OFFSITE_DRILL_VARIABLES.endpoint.production})`),
      bucket: secret(OFFSITE_DRILL_VARIABLES.bucket.test, `Name of production's offsite S3 bucket (the same value as production's ${OFFSITE_DRILL_VARIABLES.bucket.production})`),
      accessKeyId: secret(OFFSITE_DRILL_VARIABLES.accessKeyId.test, 'Access key ID of a read-only key for production\'s offsite bucket (not production\'s writing key)'),
      secretAccessKey: secret(OFFSITE_DRILL_VARIABLES.secretAccessKey.test, 'Secret access key of that read-only key'),
    })] } : {}),
    sourceHost: `${product.name}-production-app`,
    resticPassword: new SecretVariable(stack, 'restic_password', { description: 'Password of production\'s restic repositories' }),
    heartbeat: Heartbeat.healthchecks(new SecretVariable(stack, 'restore_drill_heartbeat_url', { description: 'Healthchecks ping URL prefix for the restore drill' })),
    checks: options.restoreChecks,
    postgresVersion: database.version,
    // The drill's default (26 hours) would pass a backup three times older than a Phase 2 plan allows.
    maxBackupAge: backupMaxAgeFor(product.phase),
  });
  // The product's PostgreSQL has one database the app can reach; a check on another fails the drill every week.
  for (const check of options.restoreChecks.filter((c) => c.database !== product.database.name)) {
    Annotations.of(drill).addWarning(`Backup-UnknownDrillDatabase: ${drill.node.path}.checks (${check.name}) queries database '${check.database}', `
      + `but the product's PostgreSQL has one database, '${product.database.name}' (pg_hba.conf admits the app to it only), and a check on a database `
      + `the backup lacks fails the weekly drill. Fix: query the product's database: database: '${product.database.name}', with the schema in the query `
      + `(such as ${check.database}.events), since further data sets live in schemas of it.`);
  }
}
