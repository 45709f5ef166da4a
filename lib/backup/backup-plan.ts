import { Construct } from 'constructs';
import { Fn, TerraformVariable } from 'cdktf';
import { Duration } from '../core/duration';
import { Size } from '../core/size';
import { Environment } from '../core/environment';
import { invalidValue, missingValue, ValidationError } from '../core/validation-message';
import { checkOptions, checkProps, fail, is, orNothing } from '../core/runtime-checks';
import { BundleFile } from '../hetzner/machine-bundle';
import { recordVolumeBackup } from '../hetzner/private/volume-coverage';
import { Location } from '../hetzner/location';
import { IMachine } from '../hetzner/machine';
import { requireMachine } from '../hetzner/private/require-machine';
import { ROLLOUT_COMMAND_TIMEOUT } from '../hetzner/private/rollout-agent';
import { EgressAllowlist } from '../boundary/egress-allowlist';
import { BACKUP_JOB_UNITS, jobMetricFiles } from '../monitoring/private/job-metrics';
import { protectCheckedSecret, requireSensitiveVariable } from '../core/private/sensitive-variable';
import { BackupTarget } from './backup-target';
import { declareBackupDestination, HEARTBEAT_PORT_RULE, TARGET_PORT_RULE } from './private/target-port';
import { Heartbeat } from './heartbeat';
import { HeartbeatCheck } from './heartbeat-check';
import { PostgresDump } from './postgres-dump';
import { DATABASE_DISK_RESERVE } from './private/database-disk-reserve';
import { backupAgeLimitLifted, LIFT_BACKUP_AGE_LIMIT, MAX_BACKUP_AGE_LIMIT, refuseBackupAgeAboveLimit } from './private/backup-age-limit';
import { defaultMaxBackupAge, PHASE_ONE_SCHEDULE, PHASE_TWO_SCHEDULE, PRESET_CHECK_SCHEDULE, PRESET_PRUNE_SCHEDULE } from './private/phase-schedules';
import { BACKUP_BOOTSTRAP, BACKUP_CHECK, BACKUP_DUMP, BACKUP_PRUNE, BACKUP_PUSH, BACKUP_RESTORE, BACKUP_RESTORE_FILES, BACKUP_ROTATE_KEYS } from './private/scripts';
import { GIVE_WAY_WAIT, heartbeatCheck, JOB_GRACE, JOB_TIMES, REPOSITORY_LOCK_WAIT, systemdTime } from './private/job-times';
import { ensureBasePart, ETC, file, SBIN, script, service, shellConf, STATE, targetNames, timer, TIME_SYNC_UNIT_LINES, UNITS } from './private/tooling';
import { Retention } from './retention';
import { Schedule } from './schedule';
import { guardStack } from '../core/private/guard-stack';

/** What every plan needs; the presets fill in the rest. */
export interface BackupPlanOptions {
  /** The environment whose machines the plan protects. */
  readonly environment: Environment;
  /** The password of the restic repositories, from a sensitive Terraform variable. Lose it and the backups are lost. */
  readonly resticPassword: TerraformVariable;
  /** Where the jobs report success and failure. */
  readonly heartbeat: Heartbeat;
  /**
   * Remote repositories the backups are copied to.
   * @default - none; a production plan fails synth without one
   */
  readonly targets?: BackupTarget[];
}

/** A plan's props: what every plan needs, and the schedule, retention and checks the presets fix. */
export interface BackupPlanProps extends BackupPlanOptions {
  /**
   * When the databases are dumped and pushed.
   * @default Schedule.daily({ hour: 3 })
   */
  readonly schedule?: Schedule;
  /**
   * How many dumps stay on the machine (for a restore without the network). At least 1.
   * @default 7
   */
  readonly localCopies?: number;
  /**
   * How many remote snapshots the prune job keeps. Must keep at least one daily snapshot.
   * @default Retention.DEFAULT - keep-daily 7, keep-weekly 4, keep-monthly 6
   */
  readonly retention?: Retention;
  /**
   * When the retention policy is applied.
   * @default Schedule.weekly({ day: Weekday.SUNDAY, hour: 4 })
   */
  readonly pruneSchedule?: Schedule;
  /**
   * When `restic check` verifies the repositories (with no local cache) and reads back one slice of the data.
   * @default Schedule.daily({ hour: 5 })
   */
  readonly checkSchedule?: Schedule;
  /**
   * The time in which the checks read back every byte stored: each check reads the next of
   * `checkReadCycle / checkSchedule.interval` slices (`restic check --read-data-subset=n/N`), so a
   * corrupted pack is found at the latest one cycle after it went bad. A whole multiple of the
   * check schedule's interval.
   * @default Duration.days(7)
   */
  readonly checkReadCycle?: Duration;
  /**
   * A backup older than this makes the push, the check and the drill fail: backups are not arriving. At most 6 days
   * (without `maxBackupAgeReason`): Hetzner replaces the oldest of its 7 daily server backups every day, and an alert
   * any later leaves no day to keep an image from before the backups stopped.
   * @default - the schedule's interval plus 2 hours
   */
  readonly maxBackupAge?: Duration;
  /**
   * Why backups that stop may go unnoticed for more than 6 days: a `maxBackupAge` above that, or a schedule (weekly)
   * that needs one. At least 20 letters, 8 of them different.
   * @default - maxBackupAge is at most 6 days, and backups run at least daily
   */
  readonly maxBackupAgeReason?: string;
  /**
   * Whether one target must be offsite (outside Hetzner, at an EU provider), as from Phase 2.
   * @default false
   */
  readonly requireOffsite?: boolean;
}

/** What `BackupPlan.protect` backs up on a machine: its PostgreSQL databases and file paths. */
export interface ProtectOptions {
  /**
   * The PostgreSQL databases to dump.
   * @default PostgresDump.allDatabases()
   */
  readonly postgres?: PostgresDump;
  /**
   * Directories backed up as files (uploads, a volume's mount path), absolute, without spaces. Each must exist on the
   * machine by its first push (create it in the app's part), or `backup-push` fails naming it.
   * @default - none
   */
  readonly paths?: string[];
}

/** What the presets (`phase1`, `phase2`) set themselves: given to a preset, each was overwritten by the preset's value. */
const PRESET_FIELDS: ReadonlyArray<Exclude<keyof BackupPlanProps, keyof BackupPlanOptions>> = [
  'schedule', 'localCopies', 'retention', 'pruneSchedule', 'checkSchedule', 'checkReadCycle', 'maxBackupAge', 'maxBackupAgeReason', 'requireOffsite',
];

/**
 * Refuses a field a preset sets itself. From JavaScript (or a TypeScript object of the wider `BackupPlanProps` type)
 * `BackupPlan.phase1(this, 'Backups', { ...options, retention: Retention.of({ daily: 30, monthly: 24 }) })` kept the
 * preset's 7 daily and 6 monthly snapshots without a word: fewer backups than written down.
 */
function refusePresetFields(at: string, options: unknown, phase: string): void {
  if (options === null || typeof options !== 'object') return;
  const given = PRESET_FIELDS.find((field) => (options as Record<string, unknown>)[field] !== undefined);
  if (given === undefined) return;
  // The presets set no reason: their maxBackupAge is within the limit, which a reason would only lift.
  const why = given === 'maxBackupAgeReason'
    ? `the ${phase} preset keeps maxBackupAge within ${MAX_BACKUP_AGE_LIMIT}, so a reason to exceed it would lift nothing and be ignored`
    : `the ${phase} preset sets ${given} itself, so this value would be ignored`;
  fail(at, `options.${given}`, (options as Record<string, unknown>)[given], why,
    `leave it out to keep the preset's, or build the plan with new BackupPlan(scope, id, { environment, resticPassword, heartbeat, targets, ${given}, … }) and choose every setting`);
}

const plans = new WeakMap<IMachine, BackupPlan>();
const ABSOLUTE_PATH = /^\/[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;
const DUMP_DIR = '/var/backups/sovereign/postgresql';
/**
 * What the local copy of a dump leaves free on its disk, which it shares with /tmp by default: restic keeps the
 * packs it has not uploaded yet there (16 MiB each, a few per target), and the job its log and run files. A local
 * copy that took the last of it made the remote copies fail; it is given up instead (see backup-dump).
 */
const LOCAL_COPY_RESERVE = Size.mebibytes(256);
/**
 * How long `backup-rotate-keys` waits for the repository lock. The rollout runs it, and the agent stops a command after
 * ROLLOUT_COMMAND_TIMEOUT and rolls the deploy back: a wait of REPOSITORY_LOCK_WAIT was cut off there, with no word of
 * the job it waited for. It gives up first, naming the holder, and leaves KEY_ROTATION_WORK for the rotation itself
 * (a few restic calls per target).
 */
const KEY_ROTATION_WORK = Duration.minutes(10);
const KEY_ROTATION_LOCK_WAIT = Duration.seconds(ROLLOUT_COMMAND_TIMEOUT.toSeconds() - KEY_ROTATION_WORK.toSeconds());
/**
 * Unit lines of the jobs that write to the targets: the bootstrap runs first, every time. The rollout starts it once
 * (without waiting), and one that failed then (the Storage Box's new sub-account not reachable yet, the egress
 * allowlist not yet resolving its host) was never run again: the key stayed uninstalled, the repository
 * uninitialized, and every dump failed until someone ran it by hand. When all is in place it is a login and a
 * repository open per target; `Wants=`, so a bootstrap that fails still lets the job run and report its own failure.
 */
const BOOTSTRAP_FIRST: readonly string[] = ['Wants=backup-bootstrap.service', 'After=backup-bootstrap.service'];

/**
 * The backups of one environment: database dumps with local retention, encrypted remote copies
 * (restic), a retention policy, and verification; rendered onto each protected machine as
 * scripts and systemd timers.
 *
 * On a protected machine:
 * - `backup-dump` dumps the databases (with row counts and checksums from the same snapshot)
 *   and streams each dump, as `pg_dump` writes it, into the local copy, every target
 *   (`restic backup --stdin`) and a `pg_restore` read-back at once; then reads the new snapshots
 *   back from each target with no local cache, every database against its checksum, and keeps
 *   `localCopies` dumps;
 * - `backup-push` (after each dump) sends the local copy to a target the dump could not reach
 *   (read back the same way), and backs up the `paths`;
 * - `backup-prune` applies the retention; `backup-check` runs `restic check` without a cache,
 *   reading the next slice of the data each time (all of it every `checkReadCycle`), and fails
 *   on a backup older than `maxBackupAge`.
 *
 * Every job exits non-zero on any failure and pings the heartbeat's `/fail`; it reports success
 * only after verifying its result. In production, Hetzner's server backups stay on (7 daily
 * slots), and `preReleaseSnapshot` tells the release path to snapshot production first.
 *
 * Secrets (restic password, Storage Box password, S3 credentials, heartbeat URL) are sensitive
 * variables: the synthesized configuration holds references, never values. At apply Terraform
 * writes them into the machine's user data, base64-encoded, which cloud-init writes to
 * root-only files; the user data stays readable through the metadata service, so the tooling
 * limits that service to root (see docs/backup.md).
 */
export class BackupPlan extends Construct {
  /**
   * Phase 1: a dump daily at 03:00 UTC and a push right after it, 7 local copies, the default
   * retention (keep-daily 7, keep-weekly 4, keep-monthly 6) applied Sundays at 04:00 UTC, and
   * `restic check` daily at 05:00 UTC reading a seventh of the data, so every byte is read back
   * every week. RPO 24 hours.
   */
  public static phase1(scope: Construct, id: string, options: BackupPlanOptions): BackupPlan {
    refusePresetFields('BackupPlan.phase1', options, 'Phase 1');
    return new BackupPlan(scope, id, {
      ...options,
      schedule: PHASE_ONE_SCHEDULE,
      localCopies: 7,
      retention: Retention.DEFAULT,
      pruneSchedule: PRESET_PRUNE_SCHEDULE,
      checkSchedule: PRESET_CHECK_SCHEDULE,
      checkReadCycle: Duration.days(7),
    });
  }

  /**
   * Phase 2: a dump every 6 hours (00:15, 06:15, 12:15, 18:15 UTC) and a push after each,
   * 28 local copies (a week), retention keep-hourly 12, keep-daily 7, keep-weekly 4,
   * keep-monthly 6 applied Sundays at 04:00 UTC, `restic check` daily at 05:00 UTC reading a
   * seventh of the data (every byte every week), and an offsite target required. RPO 6 hours.
   */
  public static phase2(scope: Construct, id: string, options: BackupPlanOptions): BackupPlan {
    refusePresetFields('BackupPlan.phase2', options, 'Phase 2');
    return new BackupPlan(scope, id, {
      ...options,
      schedule: PHASE_TWO_SCHEDULE,
      localCopies: 28,
      retention: Retention.of({ hourly: 12, daily: 7, weekly: 4, monthly: 6 }),
      pruneSchedule: PRESET_PRUNE_SCHEDULE,
      checkSchedule: PRESET_CHECK_SCHEDULE,
      checkReadCycle: Duration.days(7),
      requireOffsite: true,
    });
  }

  /** The plan protecting a machine, if any (`undefined` for anything `protect` was not given). */
  public static of(machine: IMachine): BackupPlan | undefined {
    return plans.get(machine);
  }

  /** The environment whose machines the plan protects. */
  public readonly environment: Environment;
  /** The remote repositories each dump is streamed to and read back from. */
  public readonly targets: readonly BackupTarget[];
  /** When the databases are dumped and pushed. */
  public readonly schedule: Schedule;
  /** How many dumps stay on each machine. */
  public readonly localCopies: number;
  /** How many remote snapshots the prune job keeps. */
  public readonly retention: Retention;
  /** When the retention is applied. */
  public readonly pruneSchedule: Schedule;
  /** When `restic check` runs, reading one slice of the data. */
  public readonly checkSchedule: Schedule;
  /** The time in which the checks read back every byte stored. */
  public readonly checkReadCycle: Duration;
  /** A backup older than this fails the push, the check and the drill. */
  public readonly maxBackupAge: Duration;
  /** Whether one target must be offsite (outside Hetzner, at an EU provider). */
  public readonly requireOffsite: boolean;
  private readonly resticPassword: TerraformVariable;
  private readonly heartbeat: Heartbeat;
  private readonly protectedMachines: IMachine[] = [];
  /** The protected machines that dump PostgreSQL (and so have a dump job). */
  private readonly dumpingMachines = new Set<IMachine>();

  constructor(scope: Construct, id: string, props: BackupPlanProps) {
    super(scope, id);
    guardStack(this);
    const schedule = is.optional(is.instance(Schedule, 'use Schedule.daily({ hour: 3 }) or another Schedule'));
    const duration = is.optional(is.instance(Duration, 'use Duration.hours(26) or another Duration'));
    // The props checked are the props built from: one frozen snapshot (a getter answers once; later edits do not reach it).
    props = checkProps<BackupPlanProps>(this, props, {
      environment: is.instance(Environment, 'use Environment.PRODUCTION or Environment.TEST'),
      resticPassword: is.secret("pass a sensitive variable: new SecretVariable(stack, 'restic_password', { description })"),
      heartbeat: is.checkedLater(),
      targets: is.optional(is.list(is.instance(BackupTarget, 'use BackupTarget.storageBox(…) or BackupTarget.s3Compatible(…)'), 'list targets such as [BackupTarget.storageBox(account)]')),
      schedule, pruneSchedule: schedule, checkSchedule: schedule, checkReadCycle: duration, maxBackupAge: duration,
      maxBackupAgeReason: is.optional(is.text("say why backups may go unnoticed that long, such as 'archive machine, restored from the quarterly export if lost'")),
      localCopies: is.optional(is.number('keep a whole number of dumps, such as 7', { integer: true })),
      retention: is.optional(is.instance(Retention, 'use Retention.DEFAULT or Retention.of({ daily: 7, weekly: 4, monthly: 6 })')),
      requireOffsite: is.optional(is.boolean()),
    }, 'pass { environment, resticPassword, heartbeat, targets }');
    this.environment = props.environment;
    this.targets = [...(props.targets ?? [])];
    this.schedule = props.schedule ?? PHASE_ONE_SCHEDULE;
    this.localCopies = props.localCopies ?? 7;
    this.retention = props.retention ?? Retention.DEFAULT;
    this.pruneSchedule = props.pruneSchedule ?? PRESET_PRUNE_SCHEDULE;
    this.checkSchedule = props.checkSchedule ?? PRESET_CHECK_SCHEDULE;
    this.checkReadCycle = props.checkReadCycle ?? Duration.days(7);
    this.maxBackupAge = props.maxBackupAge ?? defaultMaxBackupAge(this.schedule);
    this.requireOffsite = props.requireOffsite ?? false;
    this.resticPassword = props.resticPassword;
    this.heartbeat = props.heartbeat;

    protectCheckedSecret(this, 'resticPassword', props.resticPassword);
    if (!(props.heartbeat instanceof Heartbeat)) {
      throw new ValidationError(missingValue(this, 'heartbeat', 'jobs that fail without telling anyone are no backup',
        'pass heartbeat: Heartbeat.healthchecks(<sensitive variable with the ping URL>)'));
    }
    requireSensitiveVariable(this, 'heartbeat', props.heartbeat.pingUrl);
    if (this.retention.daily < 1) {
      throw new ValidationError(invalidValue(this, 'retention', this.retention,
        'a retention that keeps no daily snapshot deletes the newest backups at the next prune',
        'keep at least one daily snapshot, such as Retention.of({ daily: 7, weekly: 4, monthly: 6 }) (Retention.DEFAULT)'));
    }
    if (!Number.isInteger(this.localCopies) || this.localCopies < 1) {
      throw new ValidationError(invalidValue(this, 'localCopies', this.localCopies,
        'without a local copy every restore waits for the remote target, and a failed push leaves nothing',
        'keep at least 1 dump on the machine (the default is 7)'));
    }
    const cycle = this.checkReadCycle.toSeconds();
    const checkInterval = this.checkSchedule.interval.toSeconds();
    if (cycle < checkInterval || cycle % checkInterval !== 0) {
      throw new ValidationError(invalidValue(this, 'checkReadCycle', this.checkReadCycle,
        `the checks read the data in slices, one per check (${this.checkSchedule}), so the cycle is a whole number of checks`,
        `use a multiple of ${this.checkSchedule.interval}, such as Duration.days(7) with a daily check`));
    }
    if (this.maxBackupAge.toSeconds() % 3600 !== 0 || !this.maxBackupAge.isLongerThan(this.schedule.interval)) {
      throw new ValidationError(invalidValue(this, 'maxBackupAge', this.maxBackupAge,
        `it must be whole hours and longer than the schedule's interval (${this.schedule.interval}), or every run would fail`,
        `use Duration.hours(${this.schedule.interval.toSeconds() / 3600 + 2})`));
    }
    this.refuseUnnoticedStop(props.maxBackupAgeReason);

    this.node.addValidation({ validate: () => this.validate() });
  }

  /**
   * Refuses a plan under which backups that stop go unnoticed for longer than MAX_BACKUP_AGE_LIMIT (why it is 6 days:
   * there), unless a reason says why that is acceptable.
   */
  private refuseUnnoticedStop(reason: string | undefined): void {
    if (backupAgeLimitLifted(this, reason)) return;
    const limit = MAX_BACKUP_AGE_LIMIT;
    // maxBackupAge must be longer than the interval, in whole hours: a schedule this rare leaves no value within the limit.
    if (this.schedule.interval.toSeconds() + 3600 > limit.toSeconds()) {
      throw new ValidationError(invalidValue(this, 'schedule', this.schedule,
        `its backups are ${this.schedule.interval} apart, and maxBackupAge, which must be longer, would leave backups that stop unnoticed for more than ${limit} (the operating model dumps daily)`,
        `dump at least daily, such as Schedule.daily({ hour: 3 }); or ${LIFT_BACKUP_AGE_LIMIT}`));
    }
    refuseBackupAgeAboveLimit(this, this.maxBackupAge,
      `backups that stop would go unnoticed for more than ${limit}, while Hetzner replaces the oldest of its 7 daily server backups every day: `
      + "less than a day is left to keep an image from before they stopped (convert it into a snapshot), and the operating model's weekly proof of recovery passes without a new backup");
  }

  /** The machines this plan protects. */
  public get machines(): readonly IMachine[] {
    return [...this.protectedMachines];
  }

  /** Whether the release path must snapshot the machines before each release (production). */
  public get preReleaseSnapshot(): boolean {
    return this.environment.protectedFromLoss;
  }

  /** How many checks it takes to read back every byte: each reads one slice (`--read-data-subset=n/N`). */
  public get checkReadSlices(): number {
    return this.checkReadCycle.toSeconds() / this.checkSchedule.interval.toSeconds();
  }

  /**
   * The longest a corrupted pack can go unnoticed by the checks: one cycle, since the check that
   * reads its slice may have run just before it went bad. (A push that deduplicates onto it fails at once.)
   */
  public get corruptionFoundWithin(): Duration {
    return this.checkReadCycle;
  }

  /**
   * The checks to create at the heartbeat's ping service, one per job of each protected machine (`<server>-dump`,
   * `-push`, `-prune`, `-check`), each with its period and the grace its longest run needs. The push's grace
   * includes the dump it waits for; the bootstrap and key rotation report their failures to the push's check.
   */
  public get heartbeatChecks(): HeartbeatCheck[] {
    return this.protectedMachines.flatMap((m) => {
      const dumps = this.dumpingMachines.has(m);
      return [
        ...(dumps ? [heartbeatCheck(`${m.serverName}-dump`, this.schedule, JOB_GRACE.dump)] : []),
        heartbeatCheck(`${m.serverName}-push`, this.schedule, dumps ? JOB_GRACE.push : JOB_GRACE.pushWithoutDump),
        heartbeatCheck(`${m.serverName}-prune`, this.pruneSchedule, JOB_GRACE.prune),
        heartbeatCheck(`${m.serverName}-check`, this.checkSchedule, JOB_GRACE.check),
      ];
    });
  }

  /** The most data a loss can cost: the time between two pushes. */
  public get recoveryPointObjective(): Duration {
    return this.schedule.interval;
  }

  /**
   * Backs a machine up with this plan: adds the dump, push, prune and check jobs (and the commands run by hand after
   * a loss: `backup-restore` when it dumps PostgreSQL, `backup-restore-files` when it backs up paths) to its bundle. A machine has
   * at most one plan. The machine must be a `Machine` (checked at runtime, whatever its static type).
   */
  public protect(machine: IMachine, options: ProtectOptions = {}): void {
    requireMachine(this, 'machine', machine);
    // What is checked is what is built from: a frozen snapshot, each field read once (a getter answers once).
    options = checkOptions<ProtectOptions>(this, 'protect.options', options, {
      postgres: is.optional(is.instance(PostgresDump, 'use PostgresDump.allDatabases() or PostgresDump.databases([…])')),
      paths: is.optional(is.list(is.text('use a path such as "/srv/uploads"'), "list paths such as ['/srv/uploads']")),
    }, orNothing("pass { paths: ['/srv/uploads'] }")) ?? {};
    const postgres = options.postgres ?? PostgresDump.allDatabases();
    const paths = options.paths ?? [];
    if (machine.environment !== this.environment) {
      throw new ValidationError(invalidValue(this, 'protect', machine.node.path,
        `the machine is in ${machine.environment}, the plan protects ${this.environment}`, "use the plan of the machine's environment"));
    }
    const existing = plans.get(machine);
    if (existing) {
      throw new ValidationError(invalidValue(this, 'protect', machine.node.path, `the machine is already protected by ${existing.node.path}`,
        'protect each machine with one plan, listing all its databases and paths there'));
    }
    if (!postgres.enabled && paths.length === 0) {
      throw new ValidationError(invalidValue(this, 'protect', machine.node.path, 'PostgresDump.NONE and no paths back up nothing',
        'dump its databases (the default) or list the paths that hold its data'));
    }
    const badPath = paths.find((p) => !ABSOLUTE_PATH.test(p) || p.split('/').includes('..'));
    if (badPath !== undefined) {
      throw new ValidationError(invalidValue(this, 'paths', badPath, 'a backed-up path is absolute, without spaces, ".." or a trailing "/"',
        'use a path such as "/srv/uploads"'));
    }
    const again = paths.findIndex((p, i) => paths.indexOf(p) !== i);
    if (again !== -1) {
      throw new ValidationError(invalidValue(this, `paths[${again}]`, paths[again], `the path is already listed (as paths[${paths.indexOf(paths[again])}]), so it backs up nothing more; `
        + 'a second path was probably meant', 'list each path once'));
    }
    plans.set(machine, this);
    this.protectedMachines.push(machine);
    if (postgres.enabled) this.dumpingMachines.add(machine);
    // The plan declares its own destinations, so the machine's egress allowlist holds them whoever builds the stack.
    // An S3 endpoint or a ping URL on its own port: opened here for that host alone, so no rule of the team's is needed (or warned of).
    for (const t of this.targets) declareBackupDestination(machine, t.destination, `backup target (${t.description}) the backup jobs write to`, TARGET_PORT_RULE);
    declareBackupDestination(machine, this.heartbeat.destination, 'backup heartbeat pinged after each backup', HEARTBEAT_PORT_RULE);
    // The jobs send the backups out: they run only once the machine's allowlist is loaded.
    EgressAllowlist.guardUnits(machine, ['backup-bootstrap', ...(postgres.enabled ? ['backup-dump'] : []), 'backup-push', 'backup-prune', 'backup-check'].map((u) => `${u}.service`));
    this.heartbeat.requireHttps(this, 'the backup heartbeat');
    recordVolumeBackup(machine, { by: this, filePaths: paths, databaseDirectories: postgres.enabled ? [postgres.dataDirectory] : [] });
    ensureBasePart(machine);
    machine.addBundlePart(this.jobsPart(machine, postgres, paths));
  }

  private jobsPart(machine: IMachine, postgres: PostgresDump, paths: string[]) {
    const names = targetNames(this.targets);
    const rendered = this.targets.map((t, i) => t.render(this, names[i], { serverName: machine.serverName, writes: true, prop: 'targets' }));
    const tags = [...(postgres.enabled ? ['sovereign-dump'] : []), ...(paths.length > 0 ? ['sovereign-files'] : [])];
    const conf = shellConf(`sovereign-backup jobs of ${machine.serverName}, from ${this.node.path}. Paths have no spaces.`, [
      ['BACKUP_HOST', machine.serverName],
      ['BACKUP_STATE', STATE],
      ['DUMP_DIR', postgres.enabled ? DUMP_DIR : ''],
      ['LOCAL_COPIES', this.localCopies],
      ['DUMP_RESERVE_MB', postgres.enabled ? LOCAL_COPY_RESERVE.toMebibytes() : 0],
      // backup-restore (by hand) leaves this free on PostgreSQL's disk, as the drill does on the test machine's.
      ['RESTORE_RESERVE_MB', postgres.enabled ? DATABASE_DISK_RESERVE.toMebibytes() : 0],
      ['LOCK_WAIT_SECONDS', REPOSITORY_LOCK_WAIT.toSeconds()],
      ['ROTATE_LOCK_WAIT_SECONDS', KEY_ROTATION_LOCK_WAIT.toSeconds()],
      ['GIVE_WAY_WAIT_SECONDS', GIVE_WAY_WAIT.toSeconds()],
      ['MAX_AGE_HOURS', this.maxBackupAge.toSeconds() / 3600],
      ['KEEP', this.retention.toResticArguments()],
      // backup-prune forgets a file snapshot without a record only once it is older than a push runs.
      ['FILES_IN_PROGRESS_HOURS', Math.ceil(JOB_GRACE.push.toSeconds() / 3600)],
      ['TAGS', tags.join(' ')],
      ['CHECK_READ_SLICES', this.checkReadSlices],
      ['PG_OS_USER', postgres.osUser],
      ['PG_HOST', '/var/run/postgresql'],
      ['PG_PORT', postgres.port.from],
      ['PG_BIN', postgres.version?.binDirectory ?? ''],
      ['PG_DATABASES', (postgres.databaseNames ?? []).join(' ')],
      ['FILE_PATHS', paths.join(' ')],
      ['HEARTBEAT', 'backup-heartbeat'],
      ['TARGETS', names.join(' ')],
      ...rendered.flatMap((r) => r.conf),
    ]);
    const files: BundleFile[] = [
      file(`${ETC}/backup.conf`, conf, '0600'),
      file(`${ETC}/secrets/backup-heartbeat.b64`, `${Fn.base64encode(Fn.trimspace(this.heartbeat.pingUrl.stringValue))}\n`, '0600'),
      ...names.map((n) => file(`${ETC}/secrets/${n}.restic.b64`, `${Fn.base64encode(this.resticPassword.stringValue)}\n`, '0600')),
      ...rendered.flatMap((r) => r.files),
      script(`${SBIN}/backup-bootstrap`, BACKUP_BOOTSTRAP),
      ...(postgres.enabled ? [script(`${SBIN}/backup-dump`, BACKUP_DUMP)] : []),
      // Run by hand after a loss (docs/backup.md, "Restoring by hand"): no unit, no timer.
      ...(postgres.enabled ? [script(`${SBIN}/backup-restore`, BACKUP_RESTORE)] : []),
      ...(paths.length > 0 ? [script(`${SBIN}/backup-restore-files`, BACKUP_RESTORE_FILES)] : []),
      script(`${SBIN}/backup-push`, BACKUP_PUSH),
      script(`${SBIN}/backup-prune`, BACKUP_PRUNE),
      script(`${SBIN}/backup-check`, BACKUP_CHECK),
      script(`${SBIN}/backup-rotate-keys`, BACKUP_ROTATE_KEYS),
      file(`${UNITS}/backup-bootstrap.service`, service('Backup: SSH key, key install on the Storage Box, repository init (first boot)',
        `${SBIN}/backup-bootstrap`, { unit: ['Wants=network-online.target', 'After=network-online.target'], service: [`TimeoutStartSec=${systemdTime(JOB_TIMES.bootstrap.longestRun)}`] }), '0644'),
      // The dump streams to the targets as it is written: it needs the network as much as PostgreSQL.
      ...(postgres.enabled ? [file(`${UNITS}/backup-dump.service`, service(`Backup: dump ${postgres}, stream it to the targets and read it back`, `${SBIN}/backup-dump`,
        { unit: ['Wants=network-online.target', 'After=postgresql.service network-online.target', ...BOOTSTRAP_FIRST, ...TIME_SYNC_UNIT_LINES], service: [`TimeoutStartSec=${systemdTime(JOB_TIMES.dump.longestRun)}`] }), '0644')] : []),
      file(`${UNITS}/backup-push.service`, service('Backup: make sure every target has the newest dump (send it where the dump could not) and back up the paths', `${SBIN}/backup-push`, {
        unit: [...(postgres.enabled ? ['Requires=backup-dump.service', 'After=backup-dump.service'] : []), 'Wants=network-online.target', 'After=network-online.target',
          ...BOOTSTRAP_FIRST, ...TIME_SYNC_UNIT_LINES,
          // A volume mounted with nofail may still be mounting when the timer fires after boot; the job
          // itself fails when a mount of these paths is missing.
          ...(paths.length > 0 ? [`RequiresMountsFor=${paths.join(' ')}`] : [])],
        service: [`TimeoutStartSec=${systemdTime(JOB_TIMES.push.longestRun)}`],
      }), '0644'),
      // The dump has no timer of its own: the push's starts it, so its random delay is the push's.
      file(`${UNITS}/backup-push.timer`, timer(postgres.enabled ? 'Backup: dump and push' : 'Backup: push', this.schedule, systemdTime(JOB_TIMES.push.startDelay)), '0644'),
      file(`${UNITS}/backup-prune.service`, service(`Backup: apply the retention (${this.retention})`, `${SBIN}/backup-prune`,
        { unit: ['Wants=network-online.target', 'After=network-online.target', ...TIME_SYNC_UNIT_LINES], service: [`TimeoutStartSec=${systemdTime(JOB_TIMES.prune.longestRun)}`] }), '0644'),
      file(`${UNITS}/backup-prune.timer`, timer('Backup: prune', this.pruneSchedule, systemdTime(JOB_TIMES.prune.startDelay)), '0644'),
      file(`${UNITS}/backup-check.service`, service(`Backup: restic check reading 1/${this.checkReadSlices} of the data (all of it every ${this.checkReadCycle})`, `${SBIN}/backup-check`,
        { unit: ['Wants=network-online.target', 'After=network-online.target', ...TIME_SYNC_UNIT_LINES], service: [`TimeoutStartSec=${systemdTime(JOB_TIMES.check.longestRun)}`] }), '0644'),
      file(`${UNITS}/backup-check.timer`, timer('Backup: check', this.checkSchedule, systemdTime(JOB_TIMES.check.startDelay)), '0644'),
    ];
    return {
      name: 'sovereign-backup jobs',
      packages: postgres.enabled ? ['postgresql-client'] : [],
      files,
      // The monitoring's metrics of the job units (when watched) go with them.
      runtimeFiles: jobMetricFiles(BACKUP_JOB_UNITS),
      commands: [
        ['systemctl', 'daemon-reload'],
        // A rotated restic password becomes a new key of each repository (the old key is removed), never a new repository.
        [`${SBIN}/backup-rotate-keys`],
        ['systemctl', 'enable', '--now', 'backup-push.timer', 'backup-prune.timer', 'backup-check.timer'],
        ['systemctl', 'start', '--no-block', 'backup-bootstrap.service'],
      ],
    };
  }

  /**
   * Two machines writing one restic repository: restic 0.14 (Debian's) does not wait for a lock, so one machine's
   * prune or check (exclusive lock) fails the other's dump and push, and each prune and check works on both
   * machines' data. Every plan of the app is looked at; a pair is reported once, by the plan of the
   * later machine.
   */
  private sharedRepositoryErrors(): string[] {
    const writers = this.node.root.node.findAll()
      .filter((c): c is BackupPlan => c instanceof BackupPlan)
      .flatMap((plan) => plan.protectedMachines.flatMap((machine) => plan.targets.map((target) => ({
        plan, machine, target, repository: target.repositoryFor(machine.serverName),
      }))));
    const errors: string[] = [];
    writers.forEach((writer, i) => {
      if (writer.plan !== this) return;
      const first = writers.slice(0, i).find((w) => w.repository.key === writer.repository.key);
      if (!first) return;
      const { account, path } = writer.repository;
      if (first.machine === writer.machine) {
        // One target listed twice (the same value, or the same account and path again): one copy where the list promises two.
        errors.push(invalidValue(this, 'targets', writer.target.description,
          `${writer.machine.node.path}'s backups would go to ${account} at path '${path}' twice, as one restic repository: one remote copy, where the list reads as two`,
          'list each target once; for a second copy, add a target elsewhere (another Storage Box location, or BackupTarget.s3Compatible at an EU provider)'));
        return;
      }
      const own = writer.target.kind === 'storagebox' ? 'sub-account (box.addSubaccount(…))' : 'bucket';
      // Two sub-accounts of one box whose homes and paths come to one directory: name both.
      const where = first.repository.account === account && first.repository.path === path ? `${account} at path '${path}'`
        : `${first.repository.account} at path '${first.repository.path}' and ${account} at path '${path}', one directory of the Storage Box (the accounts' home directories meet)`;
      errors.push(invalidValue(this, 'targets', writer.target.description,
        `${first.machine.node.path} and ${writer.machine.node.path} both back up to ${where}: one restic repository, `
        + "where one machine's prune or check makes the other's backup fail (restic does not wait for the lock), and each prune and check covers both machines' data",
        `give each machine its own repository: a path of its own on the target (such as { path: '${writer.machine.serverName}' } for ${writer.machine.node.path}; `
        + `keep the path a deployed machine already uses, or it starts a new, empty repository), or a ${own} of its own`));
    });
    return errors;
  }

  private validate(): string[] {
    const errors: string[] = [];
    if (this.protectedMachines.length === 0) {
      errors.push(missingValue(this, 'protect', 'the plan protects no machine', 'call plan.protect(machine) for each machine that holds data'));
    }
    if (this.environment.protectedFromLoss && this.targets.length === 0) {
      errors.push(missingValue(this, 'targets', `${this.environment} needs a remote copy: a dump that lives only on the machine dies with it`,
        'pass targets: [BackupTarget.storageBox(box.addSubaccount(...))] with a Storage Box in another location than the machines'));
    }
    for (const target of this.targets) {
      for (const machine of this.protectedMachines) {
        if (target.location !== undefined && target.location === machine.location) {
          const other = Location.HEL1 === machine.location ? 'Location.FSN1' : 'Location.HEL1';
          errors.push(invalidValue(this, 'targets', target.description,
            `it is in the same location as ${machine.node.path} (${machine.location}); a fire, flood or outage there takes both`,
            `create the Storage Box in ${other}`));
        }
      }
      const provider = target.provider;
      if (provider && provider.isHetzner) {
        errors.push(invalidValue(this, 'targets', target.description, 'an offsite copy must survive losing Hetzner, so it cannot be at Hetzner',
          'use an EU provider outside Hetzner, such as S3Provider.SCALEWAY, S3Provider.IONOS or S3Provider.OVHCLOUD'));
      } else if (provider && !provider.inEu) {
        errors.push(invalidValue(this, 'targets', target.description, 'the backups hold the same data as production, which stays with EU companies',
          'use a provider headquartered in the EU, such as S3Provider.SCALEWAY, S3Provider.IONOS or S3Provider.OVHCLOUD, with a bucket in an EU region'));
      }
    }
    errors.push(...this.sharedRepositoryErrors());
    if (this.requireOffsite && !this.targets.some((t) => t.isOffsite)) {
      errors.push(missingValue(this, 'targets', 'from Phase 2 one copy must be offsite: outside Hetzner, at an EU provider',
        'add BackupTarget.s3Compatible({ provider: S3Provider.SCALEWAY, endpoint, bucket, accessKeyId, secretAccessKey }) with sensitive variables'));
    }
    if (this.environment.protectedFromLoss) {
      for (const machine of this.protectedMachines) {
        if (machine.server.backupsInput !== true) {
          errors.push(invalidValue(machine, 'hetznerBackups', machine.server.backupsInput ?? false,
            "production keeps Hetzner's daily server backups (7 slots) as its fast restore layer",
            'remove hetznerBackups: false'));
        }
      }
    }
    return errors;
  }
}
