import { Construct } from 'constructs';
import { Fn, TerraformVariable } from 'cdktf';
import { holdsOnlyPublic } from '../core/private/only-public';
import { Duration } from '../core/duration';
import { invalidValue, missingValue, ValidationError } from '../core/validation-message';
import { checkProps, is, orNothing } from '../core/runtime-checks';
import { IMachine, Machine } from '../hetzner/machine';
import { requireMachine } from '../hetzner/private/require-machine';
import { EgressAllowlist } from '../boundary/egress-allowlist';
import { jobMetricFiles, RESTORE_DRILL_UNIT } from '../monitoring/private/job-metrics';
import { PostgresVersion } from '../database/postgres-version';
import { protectCheckedSecret, requireSensitiveVariable } from '../core/private/sensitive-variable';
import { BackupTarget } from './backup-target';
import { declareBackupDestination, HEARTBEAT_PORT_RULE, TARGET_PORT_RULE } from './private/target-port';
import { Heartbeat } from './heartbeat';
import { HeartbeatCheck } from './heartbeat-check';
import { backupAgeLimitLifted, MAX_BACKUP_AGE_LIMIT, refuseBackupAgeAboveLimit } from './private/backup-age-limit';
import { DATABASE_DISK_RESERVE } from './private/database-disk-reserve';
import { DRILL_DEFAULT_SCHEDULE, DRILL_RUN_TIME_PER_COPY, DRILL_START_DELAY } from './private/drill-run-time';
import { DUMP_STARTS_WRITING, heartbeatCheck, JOB_GRACE, systemdTime, total } from './private/job-times';
import { RESTORE_DRILL } from './private/scripts';
import { ensureBasePart, ETC, file, SBIN, script, service, shellConf, STATE, timer, TIME_SYNC_UNIT_LINES, UNITS } from './private/tooling';
import { RestoreCheck } from './restore-check';
import { Schedule } from './schedule';
import { guardStack } from '../core/private/guard-stack';

/** Where the drill runs, where production's backups are, and what it verifies. */
export interface RestoreDrillProps {
  /** The machine the drill runs on: in the test environment, with PostgreSQL for the scratch databases. */
  readonly machine: IMachine;
  /**
   * Where production's backups are, seen from the test machine: best a read-only Storage Box
   * sub-account (`StorageBoxAccount.fromAttributes`), so the test environment cannot change them.
   */
  readonly source: BackupTarget;
  /**
   * Further copies of the same backups, each restored and verified in the same run after `source`, such as
   * production's offsite bucket from Phase 2 (best with a read-only key): a copy that is never restored is not
   * known to restore. The run reports once, and fails when any copy fails.
   * @default - none: only `source` is drilled
   */
  readonly additionalSources?: BackupTarget[];
  /** The server name of the production machine whose backups are restored (restic's host). */
  readonly sourceHost: string;
  /** The restic password of production's repositories, from a sensitive variable. */
  readonly resticPassword: TerraformVariable;
  /** Where the drill reports; a failed or missed drill alerts someone. */
  readonly heartbeat: Heartbeat;
  /** The team's verification queries; at least one. Row counts and checksums are always compared. */
  readonly checks: RestoreCheck[];
  /**
   * When the drill runs.
   * @default Schedule.weekly({ day: Weekday.MONDAY, hour: 6 })
   */
  readonly schedule?: Schedule;
  /**
   * The drill fails when the newest backup is older than this: backups are not arriving. At most 6 days (without
   * `maxBackupAgeReason`), or a weekly drill could pass twice on the same backup. A dump reaches the backups only
   * when it ends, so a drill that starts while production dumps allows on top the longest a dump takes to arrive
   * after its timer (7 h 40 min: the timer's delay, the bootstrap, the dump's run), in whole hours, and says so in its
   * report: with the default, a newest backup of 34 hours fails it. A file snapshot of production's `paths`, which the
   * push makes after the dump, is allowed the longest a push takes to arrive instead (13 h 40 min, so 14 hours): with
   * the default, one of 40 hours fails it.
   * @default Duration.hours(26)
   */
  readonly maxBackupAge?: Duration;
  /**
   * Why the drill may pass on a backup older than 6 days, such as the reason of a plan whose own `maxBackupAge` is
   * longer. At least 20 letters, 8 of them different.
   * @default - maxBackupAge is at most 6 days
   */
  readonly maxBackupAgeReason?: string;
  /**
   * Prefix of the scratch databases (`<prefix><database>`), dropped after each drill.
   * @default 'restore_drill_'
   */
  readonly databasePrefix?: string;
  /**
   * The major of the test machine's PostgreSQL server: the drill installs that major's client package and
   * runs its `pg_restore` and `psql` (`/usr/lib/postgresql/<major>/bin`). Pass the database's `version`.
   * @default - `postgresql-client`, and the programs Debian's pg_wrapper picks (the newest major installed)
   */
  readonly postgresVersion?: PostgresVersion;
}

const SERVER_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * The weekly proof that recovery works. On the test machine, for `source` and then each of
 * `additionalSources`, it:
 * 1. fetches the newest production backup from that copy;
 * 2. restores every database into a scratch database;
 * 3. compares each table's row count and checksum with those taken at dump time, and runs the
 *    team's verification queries;
 * 4. drops the scratch databases;
 * 5. when production backs up `paths`, restores the newest file snapshot into scratch space, every file read back, and
 *    compares it with the record its push wrote (files and bytes) and with the snapshot's listing.
 * It then reports once to the heartbeat: success only when every copy passed.
 *
 * It never reports success it did not verify, and fails on a backup older than `maxBackupAge` plus the time a dump in
 * progress takes to arrive.
 */
export class RestoreDrill extends Construct {
  /** The test machine the drill runs on. */
  public readonly machine: IMachine;
  /** When the drill runs. */
  public readonly schedule: Schedule;
  /** The team's verification queries, run on the restored databases. */
  public readonly checks: readonly RestoreCheck[];
  /** The copies of the backups it restores and verifies: `source`, then each of `additionalSources`. */
  public readonly sources: readonly BackupTarget[];
  /** The server name of the production machine whose backups it restores. */
  public readonly sourceHost: string;
  /**
   * The longest one run may take: 12 hours for each copy it restores (the service's timeout).
   */
  public readonly longestRun: Duration;
  /**
   * The longest time between the ends of two runs: the schedule's interval, a start up to 15 minutes late (the timer's
   * random delay) and the longest run. Monitoring counts the drill missed only when no run ended within it.
   */
  public readonly maxTimeBetweenRuns: Duration;
  /**
   * The check to create at the heartbeat's ping service (`<test server>-restore-drill`): the schedule's period, and a
   * grace of the timer's random delay plus the longest run, so a drill that restores for hours is not reported down.
   */
  public readonly heartbeatCheck: HeartbeatCheck;

  constructor(scope: Construct, id: string, props: RestoreDrillProps) {
    super(scope, id);
    guardStack(this);
    // The props checked are the props built from: one frozen snapshot (a getter answers once; later edits do not reach it).
    props = checkProps<RestoreDrillProps>(this, props, {
      machine: is.checkedLater(),
      source: is.instance(BackupTarget, 'pass BackupTarget.storageBox(StorageBoxAccount.fromAttributes({ … }))'),
      additionalSources: is.optional(is.list(is.instance(BackupTarget, 'pass BackupTarget.s3Compatible({ … }) with a read-only key'), orNothing('pass [BackupTarget.s3Compatible({ … })]'))),
      sourceHost: is.text("pass the production machine's serverName, such as 'acme-production-app'"),
      resticPassword: is.secret("pass a sensitive variable: new SecretVariable(stack, 'restic_password', { description })"),
      heartbeat: is.checkedLater(),
      checks: is.list(is.instance(RestoreCheck, "use RestoreCheck.sql('name', { database, query })"), "pass [RestoreCheck.sql('users-present', { database: 'app', query: 'SELECT count(*) > 0 FROM users' })]"),
      schedule: is.optional(is.instance(Schedule, 'use Schedule.weekly({ day: Weekday.MONDAY, hour: 6 }) or another Schedule')),
      maxBackupAge: is.optional(is.instance(Duration, 'use Duration.hours(26)')),
      maxBackupAgeReason: is.optional(is.text("say why backups may go unnoticed that long, such as 'archive machine, restored from the quarterly export if lost'")),
      databasePrefix: is.optional(is.text("use 'restore_drill_'")),
      postgresVersion: is.optional(is.instance(PostgresVersion, "use the test machine's database.version, or PostgresVersion.of(15)")),
    }, 'pass { machine, source, sourceHost, resticPassword, heartbeat, checks }');
    requireMachine(this, 'machine', props.machine);
    this.machine = props.machine;
    this.schedule = props.schedule ?? DRILL_DEFAULT_SCHEDULE;
    this.checks = [...(props.checks ?? [])];
    this.sources = [props.source, ...(props.additionalSources ?? [])];
    this.sourceHost = props.sourceHost;
    const maxAge = props.maxBackupAge ?? Duration.hours(26);
    const prefix = props.databasePrefix ?? 'restore_drill_';

    if (props.machine.environment.protectedFromLoss) {
      throw new ValidationError(invalidValue(this, 'machine', props.machine.node.path,
        'a drill restores into scratch databases and loads the machine; production is not the place', 'run it on the test machine'));
    }
    // The drill brings production's databases onto the machine: declared public, the boundary would let that copy run
    // outside the EU with open egress. (A product's test stack is held to production's own classes.)
    const held = props.machine.dataClasses;
    if (holdsOnlyPublic(held)) {
      throw new ValidationError(invalidValue(this, 'machine', `${props.machine.node.path} (${held.map((c) => c.name).join(', ')})`,
        "a drill restores production's databases onto it, which are not public data, and the data boundary judges the machine by the classes it declares",
        "declare on the machine the classes production's database holds, such as dataClasses: [DataClass.SENSITIVE, DataClass.SECRET]"));
    }
    if (!(props.heartbeat instanceof Heartbeat)) {
      throw new ValidationError(missingValue(this, 'heartbeat', 'a drill that fails or does not run must alert someone',
        'pass heartbeat: Heartbeat.healthchecks(<sensitive variable with the ping URL>)'));
    }
    requireSensitiveVariable(this, 'heartbeat', props.heartbeat.pingUrl);
    // resticPassword was checked by the schema's is.secret.
    protectCheckedSecret(this, 'resticPassword', props.resticPassword);
    if (this.checks.length === 0) {
      throw new ValidationError(missingValue(this, 'checks', 'row counts prove the rows came back, not that the product can use them',
        "pass at least one RestoreCheck.sql('name', { database: 'app', query: 'SELECT count(*) > 0 FROM users' })"));
    }
    const names = this.checks.map((c) => c.name);
    const duplicate = names.find((n, i) => names.indexOf(n) !== i);
    if (duplicate !== undefined) {
      throw new ValidationError(invalidValue(this, 'checks', duplicate, 'two checks share a name', 'give each check its own name'));
    }
    if (!SERVER_NAME.test(props.sourceHost)) {
      throw new ValidationError(invalidValue(this, 'sourceHost', props.sourceHost, "it is not a server name (restic's host of the backups)",
        "pass the production machine's serverName, such as 'acme-production-app'"));
    }
    if (!/^[a-z_][a-z0-9_]{0,30}$/.test(prefix)) {
      throw new ValidationError(invalidValue(this, 'databasePrefix', prefix, 'a prefix is lowercase letters, digits and "_"', "use 'restore_drill_'"));
    }
    if (maxAge.toSeconds() % 3600 !== 0 || maxAge.toSeconds() === 0) {
      throw new ValidationError(invalidValue(this, 'maxBackupAge', maxAge, 'it must be a whole number of hours', 'use Duration.hours(26)'));
    }
    if (!backupAgeLimitLifted(this, props.maxBackupAgeReason)) {
      refuseBackupAgeAboveLimit(this, maxAge, `the drill would pass on a backup up to ${maxAge} old: `
        + `a weekly drill proves recovery again without a new backup having arrived, and backups that stop go unnoticed for more than ${MAX_BACKUP_AGE_LIMIT}`);
    }

    // The first copy keeps the name `source` on the machine; the others are source2, source3, ….
    const sources = [props.source, ...(props.additionalSources ?? [])].map((target, i) => ({
      target, name: i === 0 ? 'source' : `source${i + 1}`, prop: i === 0 ? 'source' : `additionalSources[${i - 1}]`,
    }));
    this.longestRun = Duration.hours(DRILL_RUN_TIME_PER_COPY.toHours() * sources.length);
    // A run may start late by the timer's random delay, then take its longest run: its heartbeat's grace.
    const latestSuccess = total(DRILL_START_DELAY, this.longestRun);
    this.maxTimeBetweenRuns = total(this.schedule.interval, latestSuccess);
    this.heartbeatCheck = heartbeatCheck(`${props.machine.serverName}-restore-drill`, this.schedule, latestSuccess);
    const again = sources.find((s, i) => sources.findIndex((o) => o.target === s.target) !== i);
    if (again !== undefined) {
      throw new ValidationError(invalidValue(this, again.prop, again.target.description, 'that copy is already drilled', 'list each copy of the backups once'));
    }
    // The drill declares its own destinations, so the machine's egress allowlist holds them whoever builds the stack.
    for (const { target } of sources) declareBackupDestination(props.machine, target.destination, `restore drill source (${target.description}) the drill restores from`, TARGET_PORT_RULE);
    declareBackupDestination(props.machine, props.heartbeat.destination, 'restore drill heartbeat pinged after each drill', HEARTBEAT_PORT_RULE);
    // The drill reads the backups over the network: it runs only once the machine's allowlist is loaded.
    EgressAllowlist.guardUnits(props.machine, ['restore-drill.service']);
    props.heartbeat.requireHttps(this, 'the restore drill heartbeat');
    const rendered = sources.map(({ target, name, prop }) => ({ name, label: target.description, ...target.render(this, name, { serverName: props.sourceHost, writes: false, prop }) }));
    const conf = shellConf(`sovereign-backup restore drill on ${props.machine.serverName}, from ${this.node.path}. Paths have no spaces.`, [
      ['BACKUP_HOST', props.machine.serverName],
      ['BACKUP_STATE', STATE],
      ['DRILL_WORK', '/var/tmp/restore-drill'],
      ['DRILL_SOURCE', 'source'],
      ['DRILL_SOURCES', rendered.map((r) => r.name).join(' ')],
      ['DRILL_FROM_HOST', props.sourceHost],
      ['DRILL_DB_PREFIX', prefix],
      // 1 keeps the scratch databases until the next drill, for a look at the restored data.
      ['DRILL_KEEP_DATABASES', 0],
      ['DRILL_RESERVE_MB', DATABASE_DISK_RESERVE.toMebibytes()],
      ['MAX_AGE_HOURS', maxAge.toSeconds() / 3600],
      // A drill that meets a dump in progress finds the one before it, up to this much older.
      ['DUMP_IN_PROGRESS_HOURS', Math.ceil(JOB_GRACE.dump.toSeconds() / 3600)],
      // A file snapshot is made by the push, after the dump: its limit allows a push in progress.
      ['FILES_IN_PROGRESS_HOURS', Math.ceil(JOB_GRACE.push.toSeconds() / 3600)],
      // With no dump writing to the source (none of its restic locks live), up to this much older: the time a dump may
      // take after its timer to start writing.
      ['DUMP_START_HOURS', Math.ceil(DUMP_STARTS_WRITING.toSeconds() / 3600)],
      ['PG_OS_USER', 'postgres'],
      ['PG_HOST', '/var/run/postgresql'],
      ['PG_PORT', 5432],
      ['PG_BIN', props.postgresVersion?.binDirectory ?? ''],
      ['HEARTBEAT', 'drill-heartbeat'],
      ...rendered.flatMap((r) => [[`${r.name}_LABEL`, r.label] as const, ...r.conf]),
    ]);
    ensureBasePart(props.machine);
    // The test machine is always on and its host key can be pinned; what its rollouts carry reads production's backups.
    (props.machine as Machine).warnIfRolloutUnpinned?.("the restore drill's secrets (production's restic password and the source's login), which read every production backup");
    props.machine.addBundlePart({
      name: 'sovereign-backup restore drill',
      packages: [props.postgresVersion?.clientPackage ?? 'postgresql-client'],
      // The monitoring's metrics of the drill's unit (when watched) go with it.
      runtimeFiles: jobMetricFiles([RESTORE_DRILL_UNIT]),
      files: [
        file(`${ETC}/drill.conf`, conf, '0600'),
        file(`${ETC}/secrets/drill-heartbeat.b64`, `${Fn.base64encode(Fn.trimspace(props.heartbeat.pingUrl.stringValue))}\n`, '0600'),
        ...rendered.flatMap((r) => [file(`${ETC}/secrets/${r.name}.restic.b64`, `${Fn.base64encode(props.resticPassword.stringValue)}\n`, '0600'), ...r.files]),
        ...this.checks.map((c, i) => file(`${ETC}/drill-checks/${String(i + 1).padStart(2, '0')}-${c.name}.sql`, c.renderFile(), '0644')),
        script(`${SBIN}/restore-drill`, RESTORE_DRILL),
        file(`${UNITS}/restore-drill.service`, service(`Restore drill: restore ${props.sourceHost}'s newest backup and verify it`, `${SBIN}/restore-drill`,
          // 12 hours for each copy: they are restored one after the other.
          { unit: ['Wants=network-online.target', 'After=network-online.target postgresql.service', ...TIME_SYNC_UNIT_LINES], service: [`TimeoutStartSec=${systemdTime(this.longestRun)}`] }), '0644'),
        file(`${UNITS}/restore-drill.timer`, timer('Restore drill', this.schedule, systemdTime(DRILL_START_DELAY)), '0644'),
      ],
      commands: [
        ['systemctl', 'daemon-reload'],
        ['systemctl', 'enable', '--now', 'restore-drill.timer'],
      ],
    });
  }
}
