import { TerraformStack, TerraformVariable } from 'cdktf';
import { Construct } from 'constructs';
import { DataClass, Duration, Environment, IMachine, Location, Machine, Port, ServerType, Size } from '../../lib';
import { BackupPlan, BackupPlanOptions } from '../../lib/backup/backup-plan';
import { BackupTarget } from '../../lib/backup/backup-target';
import { Heartbeat } from '../../lib/backup/heartbeat';
import { PostgresDump } from '../../lib/backup/postgres-dump';
import { PostgresVersion } from '../../lib/database/postgres-version';
import { Retention } from '../../lib/backup/retention';
import { S3Provider } from '../../lib/backup/s3-provider';
import { Schedule, Weekday } from '../../lib/backup/schedule';
import { DataVolume } from '../../lib/hetzner/data-volume';
import { IStorageBoxAccount, StorageBox, StorageBoxAccount } from '../../lib/hetzner/storage-box';
import { ADMIN_CIDRS, ADMIN_KEY, resourcesOf, synthJson, testStack, warningsOf } from '../setup/stack';
import { machinePayload } from '../setup/machine-payload';
import { filesByPath } from './helpers/machine-root';
import { renderTemplates } from '../setup/terraform-expression';
import { ROLLOUT_AGENT } from '../../lib/hetzner/private/rollout-agent';

const secret = (stack: TerraformStack, name: string) => new TerraformVariable(stack, name, { type: 'string', sensitive: true });

function production(location = Location.FSN1) {
  const { stack } = testStack('production');
  const machine = new Machine(stack, 'App', {
    environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, location, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS,
  });
  const box = new StorageBox(stack, 'StorageBox', { environment: Environment.PRODUCTION, password: secret(stack, 'box_password') });
  const account = box.addSubaccount('App', { homeDirectory: 'backups/production/app', password: secret(stack, 'box_app_password') });
  const options: BackupPlanOptions = {
    environment: Environment.PRODUCTION,
    resticPassword: secret(stack, 'restic_password'),
    heartbeat: Heartbeat.healthchecks(secret(stack, 'heartbeat_url')),
    targets: [BackupTarget.storageBox(account, { hostKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr'] })],
  };
  return { stack, machine, box, account, options };
}

function offsite(stack: TerraformStack, provider = S3Provider.SCALEWAY) {
  return BackupTarget.s3Compatible({
    provider, endpoint: secret(stack, 's3_endpoint'), bucket: secret(stack, 's3_bucket'),
    accessKeyId: secret(stack, 's3_key_id'), secretAccessKey: secret(stack, 's3_secret'),
  });
}

/** The files the machine's bundle installs, by path. */
function machineFiles(stack: TerraformStack): Record<string, string> {
  const json = synthJson(stack);
  const [server] = resourcesOf(json, 'hcloud_server');
  return filesByPath(machinePayload(json, server.name));
}

const conf = (files: Record<string, string>, key: string) => new RegExp(`^${key}=(.*)$`, 'm').exec(files['/etc/sovereign-backup/backup.conf'])?.[1];
const onCalendar = (files: Record<string, string>, timer: string) => /OnCalendar=(.*)/.exec(files[`/etc/systemd/system/${timer}`])![1];

describe('BackupPlan', () => {
  test('protect and of take an IMachine; a look-alike object that is not a Machine is refused with the prop and the fix', () => {
    const { stack, machine, options } = production();
    const plan = new BackupPlan(stack, 'Backups', options);
    const asInterface: IMachine = machine;
    plan.protect(asInterface);
    expect(BackupPlan.of(asInterface)).toBe(plan);
    expect(plan.machines).toEqual([machine]);
    // Everything an IMachine declares, but not built with new Machine(…): it would skip what Machine enforces.
    const lookAlike = { ...asInterface, node: machine.node, environment: Environment.PRODUCTION } as unknown as IMachine;
    expect(() => plan.protect(lookAlike)).toThrow(/Backups\.machine: .* is not allowed: it is not a machine built with new Machine\(…\)\. Fix: pass the Machine itself/);
    expect(BackupPlan.of(lookAlike)).toBeUndefined();
    const files = machineFiles(stack);
    // The production restore is rendered with the jobs, by hand only: no unit starts it.
    expect(files['/usr/local/sbin/backup-restore']).toMatch(/^#!\/bin\/bash\n# backup-restore: /);
    expect(Object.keys(files).filter((f) => /backup-restore\.(service|timer)$/.test(f))).toEqual([]);
  });

  test("backup-rotate-keys gives up waiting for the repository lock before the rollout agent stops it, leaving time for the rotation", () => {
    const { stack, machine, options } = production();
    BackupPlan.phase1(stack, 'Backups', options).protect(machine);
    const files = machineFiles(stack);
    // The agent's limit for one command, as the machine runs it: past it the command is killed and the deploy rolled
    // back, with no word of the job the rotation waited for.
    const agentLimit = Number(/^def command_timeout\(default=(\d+)\):$/m.exec(ROLLOUT_AGENT)![1]);
    expect(ROLLOUT_AGENT).toMatch(/^COMMAND_TIMEOUT = command_timeout\(\)$/m);
    expect(ROLLOUT_AGENT).toMatch(/^def run\(argv, env=None, timeout=COMMAND_TIMEOUT[,)]/m);
    expect(agentLimit).toBe(1800);
    const rotationWait = Number(conf(files, 'ROTATE_LOCK_WAIT_SECONDS') ?? conf(files, 'LOCK_WAIT_SECONDS'));
    // A rotation that got the lock at the end of its wait still adds, checks and removes a key per target.
    expect(agentLimit - rotationWait).toBeGreaterThanOrEqual(10 * 60);
    // The other jobs keep their hour: the rotation's shorter wait is its own.
    expect(conf(files, 'LOCK_WAIT_SECONDS')).toBe('3600');
  });

  test('phase1 pins its numbers: daily 03:00 UTC, 7 local copies, keep-daily 7 / weekly 4 / monthly 6, weekly prune and check reading 10%', () => {
    const { stack, machine, options } = production();
    const plan = BackupPlan.phase1(stack, 'Backups', options);
    plan.protect(machine);
    const files = machineFiles(stack);
    expect(onCalendar(files, 'backup-push.timer')).toBe('*-*-* 03:00:00 UTC');
    expect(onCalendar(files, 'backup-prune.timer')).toBe('Sun *-*-* 04:00:00 UTC');
    expect(onCalendar(files, 'backup-check.timer')).toBe('*-*-* 05:00:00 UTC');
    expect(conf(files, 'LOCAL_COPIES')).toBe('7');
    // The local copy leaves room on its disk for restic's packs in /tmp (docs/backup.md, "A full disk at the dump location").
    expect(conf(files, 'DUMP_RESERVE_MB')).toBe('256');
    // backup-restore leaves as much free on PostgreSQL's disk as the drill does (one constant): a server whose disk fills stops.
    expect(conf(files, 'RESTORE_RESERVE_MB')).toBe('256');
    // A job waits an hour for another of the machine's jobs to release the repositories, then fails naming it.
    expect(conf(files, 'LOCK_WAIT_SECONDS')).toBe('3600');
    expect(conf(files, 'KEEP')).toBe("'--keep-daily 7 --keep-weekly 4 --keep-monthly 6'");
    // A daily check reads one seventh of the data: every pack is read back every week.
    expect(conf(files, 'CHECK_READ_SLICES')).toBe('7');
    expect(plan.corruptionFoundWithin.toDays()).toBe(7);
    expect(conf(files, 'MAX_AGE_HOURS')).toBe('26');
    expect(plan.recoveryPointObjective.toHours()).toBe(24);
    expect(String(plan.retention)).toBe('keep-daily 7, keep-weekly 4, keep-monthly 6');
  });

  test('phase2 pins its numbers: every 6 hours, 28 local copies, keep-hourly 12 on top, check reading 25%, an offsite target', () => {
    const { stack, machine, options } = production();
    const plan = BackupPlan.phase2(stack, 'Backups', { ...options, targets: [...options.targets!, offsite(stack)] });
    plan.protect(machine);
    const files = machineFiles(stack);
    expect(onCalendar(files, 'backup-push.timer')).toBe('*-*-* 00,06,12,18:15:00 UTC');
    expect(conf(files, 'LOCAL_COPIES')).toBe('28');
    expect(conf(files, 'KEEP')).toBe("'--keep-hourly 12 --keep-daily 7 --keep-weekly 4 --keep-monthly 6'");
    expect(conf(files, 'CHECK_READ_SLICES')).toBe('7');
    expect(conf(files, 'MAX_AGE_HOURS')).toBe('8');
    expect(conf(files, 'TARGETS')).toBe("'storagebox offsite'");
    expect(plan.recoveryPointObjective.toHours()).toBe(6);
  });

  test('with only its required props: daily dumps, the default retention, and a production-grade setup on the machine', () => {
    const { stack, machine, options } = production();
    new BackupPlan(stack, 'Backups', options).protect(machine);
    const files = machineFiles(stack);
    expect(onCalendar(files, 'backup-push.timer')).toBe('*-*-* 03:00:00 UTC');
    expect(conf(files, 'KEEP')).toBe("'--keep-daily 7 --keep-weekly 4 --keep-monthly 6'");
    expect(Object.keys(files)).toEqual(expect.arrayContaining([
      '/usr/local/sbin/backup-dump', '/usr/local/sbin/backup-push', '/usr/local/sbin/backup-prune', '/usr/local/sbin/backup-check',
      '/usr/local/sbin/backup-bootstrap', '/etc/systemd/system/backup-push.service', '/etc/systemd/system/sovereign-metadata-guard.service',
    ]));
    // The push runs the dump first and only after it succeeded.
    expect(files['/etc/systemd/system/backup-push.service']).toMatch(/^Requires=backup-dump\.service$/m);
    expect(files['/etc/systemd/system/backup-push.service']).toMatch(/^After=backup-dump\.service$/m);
    // The jobs that write to the targets run the (idempotent) bootstrap first: a first-boot bootstrap that failed is not run
    // again by anything else, and every dump then failed on an uninstalled key or an uninitialized repository.
    for (const job of ['dump', 'push']) {
      expect(files[`/etc/systemd/system/backup-${job}.service`]).toMatch(/^Wants=backup-bootstrap\.service$/m);
      expect(files[`/etc/systemd/system/backup-${job}.service`]).toMatch(/^After=backup-bootstrap\.service$/m);
    }
    // Every job that takes or judges a time starts once the clock is synchronized.
    for (const job of ['dump', 'push', 'prune', 'check']) {
      expect(files[`/etc/systemd/system/backup-${job}.service`]).toMatch(/^Wants=time-sync\.target systemd-time-wait-sync\.service$/m);
      expect(files[`/etc/systemd/system/backup-${job}.service`]).toMatch(/^After=time-sync\.target systemd-time-wait-sync\.service$/m);
    }
  });

  test('writes the Storage Box target for port 23 at the sub-account\'s host, with the host key pinned', () => {
    const { stack, machine, options } = production();
    new BackupPlan(stack, 'Backups', options).protect(machine);
    const files = machineFiles(stack);
    expect(conf(files, 'storagebox_PORT')).toBe('23');
    expect(conf(files, 'storagebox_HOST')).toMatch(/^'\$\{hcloud_storage_box_subaccount\.\w+\.server\}'$/);
    expect(conf(files, 'storagebox_USER')).toMatch(/^'\$\{hcloud_storage_box_subaccount\.\w+\.username\}'$/);
    expect(conf(files, 'storagebox_AUTH')).toBe("'key'");
    expect(conf(files, 'storagebox_HOSTKEYS')).toBe("'yes'");
    expect(files['/etc/sovereign-backup/ssh/known_hosts.storagebox']).toMatch(/^sovereign-storagebox ssh-ed25519 AAAA/);
  });

  test('warns when the Storage Box host key is not pinned', () => {
    const { stack, machine, account, options } = production();
    new BackupPlan(stack, 'Backups', { ...options, targets: [BackupTarget.storageBox(account)] }).protect(machine);
    const files = machineFiles(stack);
    expect(conf(files, 'storagebox_HOSTKEYS')).toBe("'accept-new'");
    expect(warningsOf(stack)).toContainEqual(expect.stringMatching(/^Backup-UnpinnedHostKey: production\/Backups\.targets: .* Fix: pass hostKeys/));
  });

  // Review: a construct account is itself, read live when the target is rendered, not a snapshot the factory checked:
  // a team's own account construct that sets its password after BackupTarget.storageBox, or a JavaScript caller that
  // replaces a sub-account's, put a variable Terraform would print into the machine's files once only the factory checked.
  test("refuses a construct account's password that is no sensitive variable, also one set after the target was made", () => {
    const { stack, machine, options } = production();
    class TeamAccount extends Construct implements IStorageBoxAccount {
      public readonly host = 'u1-sub9.your-storagebox.de';
      public readonly username = 'u1-sub9';
      public readonly location = Location.HEL1;
      public readonly readonly = false;
      public password?: TerraformVariable;
    }
    const team = new TeamAccount(stack, 'TeamAccount');
    const target = BackupTarget.storageBox(team);
    team.password = new TerraformVariable(stack, 'plain_box_password', { type: 'string' });
    expect(() => new BackupPlan(stack, 'Backups', { ...options, targets: [target] }).protect(machine))
      .toThrow(/production\/Backups\.targets: 'var\.plain_box_password' is not allowed: the variable is not marked sensitive.*Fix: declare it with \{ sensitive: true \}/s);
  });

  test("refuses a sub-account's password that a JavaScript caller replaced after the target was made", () => {
    const { stack, machine, account, options } = production();
    (account as unknown as { password: unknown }).password = new TerraformVariable(stack, 'plain_app_password', { type: 'string' });
    expect(() => new BackupPlan(stack, 'Backups', options).protect(machine)).toThrow(/production\/Backups\.targets: 'var\.plain_app_password' is not allowed/);
  });

  test('keeps every secret out of the configuration: only references to sensitive variables', () => {
    const { stack, machine, options } = production();
    new BackupPlan(stack, 'Backups', { ...options, targets: [...options.targets!, offsite(stack)] }).protect(machine);
    const json = synthJson(stack);
    for (const name of ['restic_password', 'heartbeat_url', 'box_password', 'box_app_password', 's3_endpoint', 's3_bucket', 's3_key_id', 's3_secret']) {
      expect(json.variable[name]).toEqual({ type: 'string', sensitive: true });
    }
    const files = machineFiles(stack);
    expect(files['/etc/sovereign-backup/secrets/storagebox.restic.b64']).toBe('${base64encode(var.restic_password)}\n');
    expect(files['/etc/sovereign-backup/secrets/backup-heartbeat.b64']).toBe('${base64encode(trimspace(var.heartbeat_url))}\n');
    expect(files['/etc/sovereign-backup/secrets/offsite.s3.env']).toBe([
      'ENDPOINT_B64=${base64encode(trimspace(var.s3_endpoint))}', 'BUCKET_B64=${base64encode(trimspace(var.s3_bucket))}',
      'ACCESS_KEY_ID_B64=${base64encode(trimspace(var.s3_key_id))}', 'SECRET_ACCESS_KEY_B64=${base64encode(trimspace(var.s3_secret))}', ''].join('\n'));
    expect(resourcesOf(json, 'hcloud_storage_box')[0].password).toBe('${var.box_password}');
    expect(JSON.stringify(json.output ?? {})).not.toMatch(/var\./);
  });

  test('writes the ping URL trimmed, as the plan checked it: a padded URL still pings (http.client refuses a space or CR)', () => {
    const { stack, machine, options } = production();
    new BackupPlan(stack, 'Backups', options).protect(machine);
    const [rendered] = renderTemplates([machineFiles(stack)['/etc/sovereign-backup/secrets/backup-heartbeat.b64']],
      { heartbeat_url: ' https://hc-ping.com/uuid \r\n' });
    expect(Buffer.from(rendered.value!.trim(), 'base64').toString()).toBe('https://hc-ping.com/uuid');
  });

  test('fails when a secret comes from a variable that is not sensitive', () => {
    const { stack, options } = production();
    const plain = new TerraformVariable(stack, 'plain_password', { type: 'string' });
    expect(() => new BackupPlan(stack, 'Backups', { ...options, resticPassword: plain }))
      .toThrow(/production\/Backups\.resticPassword: 'var\.plain_password' is not allowed: the variable is not marked sensitive.*Fix: declare it with \{ sensitive: true \}/);
  });

  test('fails when a secret is a plain string', () => {
    const { stack, options } = production();
    expect(() => new BackupPlan(stack, 'Backups', { ...options, resticPassword: 'hunter2' as any }))
      .toThrow(/production\/Backups\.resticPassword: '<a value>' is not allowed: a secret must come from a sensitive Terraform variable.*Fix:/);
  });

  test('of() finds the plan protecting a machine; the release path snapshots production first', () => {
    const { stack, machine, options } = production();
    expect(BackupPlan.of(machine)).toBeUndefined();
    const plan = new BackupPlan(stack, 'Backups', options);
    plan.protect(machine);
    expect(BackupPlan.of(machine)).toBe(plan);
    expect(plan.machines).toEqual([machine]);
    expect(plan.preReleaseSnapshot).toBe(true);
  });

  test('keeps Hetzner\'s daily server backups on in production', () => {
    const { stack, machine, options } = production();
    new BackupPlan(stack, 'Backups', options).protect(machine);
    expect(resourcesOf(synthJson(stack), 'hcloud_server')[0].backups).toBe(true);
  });

  describe('two machines sharing one repository', () => {
    // A second production machine beside production()'s App, in the same location.
    function worker(stack: TerraformStack): Machine {
      return new Machine(stack, 'Worker', {
        environment: Environment.PRODUCTION, role: 'worker', serverType: ServerType.CX33, location: Location.FSN1, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS,
      });
    }
    const shared = (path: string) => new RegExp(`production/Backups2?\\.targets: 'Storage Box in hel1' is not allowed: production/App and production/Worker both back up to `
      + `production/StorageBox/App at path '${path}': one restic repository.*Fix: give each machine its own repository: .*\\{ path: '[^']+' \\} for production/Worker.*or a sub-account`);

    test('one plan protecting two machines with one Storage Box target fails synth, naming both machines, the account, the path and the fix', () => {
      const { stack, machine, options } = production();
      const plan = new BackupPlan(stack, 'Backups', options);
      plan.protect(machine);
      plan.protect(worker(stack));
      expect(() => synthJson(stack)).toThrow(shared('restic'));
    });

    test('two plans whose targets are the same sub-account and path fail synth, in other stacks of the app too', () => {
      const { stack, machine, account, options } = production();
      new BackupPlan(stack, 'Backups', { ...options, targets: [BackupTarget.storageBox(account, { path: 'shared' })] }).protect(machine);
      new BackupPlan(stack, 'Backups2', { ...options, targets: [BackupTarget.storageBox(account, { path: 'shared' })] }).protect(worker(stack));
      expect(() => synthJson(stack)).toThrow(shared('shared'));

      // The same account given twice by its attributes, in two stacks of one app.
      const { app, stack: first } = testStack('first');
      const second = new TerraformStack(app, 'second');
      const attributes = { host: 'u1-sub1.your-storagebox.de', username: 'u1-sub1', location: Location.HEL1, readonly: false };
      for (const [s, id] of [[first, 'A'], [second, 'B']] as const) {
        const m = new Machine(s, id, { environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, location: Location.FSN1, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS });
        new BackupPlan(s, 'Backups', { ...options, resticPassword: secret(s, 'restic'), heartbeat: Heartbeat.healthchecks(secret(s, 'hb')),
          targets: [BackupTarget.storageBox(StorageBoxAccount.fromAttributes(attributes))] }).protect(m);
      }
      expect(() => app.synth()).toThrow(/second\/Backups\.targets: .* first\/A and second\/B both back up to u1-sub1 at path 'restic'/);
    });

    test('each machine with its own path, its own sub-account, or the S3 default path (the server name) synthesizes', () => {
      const own = (make: (stack: TerraformStack, box: StorageBox, account: IStorageBoxAccount) => [BackupTarget, BackupTarget]) => {
        const { stack, machine, box, account, options } = production();
        const [a, b] = make(stack, box, account);
        new BackupPlan(stack, 'Backups', { ...options, targets: [a] }).protect(machine);
        new BackupPlan(stack, 'Backups2', { ...options, targets: [b] }).protect(worker(stack));
        return () => synthJson(stack);
      };
      expect(own((_s, _b, account) => [BackupTarget.storageBox(account), BackupTarget.storageBox(account, { path: 'worker' })])).not.toThrow();
      expect(own((stack, box, account) => [BackupTarget.storageBox(account),
        BackupTarget.storageBox(box.addSubaccount('Worker', { homeDirectory: 'backups/production/worker', password: secret(stack, 'box_worker_password') }))])).not.toThrow();
      // The S3 target's path defaults to the machine's server name: one bucket, a repository per machine.
      const { stack, machine, account, options } = production();
      const s3 = offsite(stack);
      const plan = new BackupPlan(stack, 'Backups', { ...options, targets: [BackupTarget.storageBox(account), s3] });
      plan.protect(machine);
      new BackupPlan(stack, 'Backups2', { ...options, targets: [BackupTarget.storageBox(account, { path: 'worker' }), s3] }).protect(worker(stack));
      expect(() => synthJson(stack)).not.toThrow();
    });

    test('an S3 target with one explicit path on two machines fails synth', () => {
      const { stack, machine, account, options } = production();
      const s3 = BackupTarget.s3Compatible({
        provider: S3Provider.SCALEWAY, endpoint: secret(stack, 's3_endpoint'), bucket: secret(stack, 's3_bucket'),
        accessKeyId: secret(stack, 's3_key_id'), secretAccessKey: secret(stack, 's3_secret'), path: 'backups',
      });
      const plan = new BackupPlan(stack, 'Backups', { ...options, targets: [BackupTarget.storageBox(account), s3] });
      plan.protect(machine);
      new BackupPlan(stack, 'Backups2', { ...options, targets: [BackupTarget.storageBox(account, { path: 'worker' }), s3] }).protect(worker(stack));
      expect(() => synthJson(stack)).toThrow(/production\/Backups2\.targets: 'S3 bucket at .*' is not allowed: production\/App and production\/Worker both back up to bucket production\/s3_bucket at path 'backups'.*or a bucket of its own/);
    });
  });

  describe('bad input', () => {
    test('fails when a production plan has no remote target', () => {
      const { stack, machine, options } = production();
      new BackupPlan(stack, 'Backups', { ...options, targets: [] }).protect(machine);
      expect(() => synthJson(stack)).toThrow(/production\/Backups\.targets: missing: production needs a remote copy.*Fix: pass targets: \[BackupTarget\.storageBox/);
    });

    test('fails when the remote target is in the same location as production', () => {
      const { stack, machine, options } = production(Location.HEL1);
      new BackupPlan(stack, 'Backups', options).protect(machine);
      expect(() => synthJson(stack)).toThrow(/production\/Backups\.targets: 'Storage Box in hel1' is not allowed: it is in the same location as production\/App \(hel1\).*Fix: create the Storage Box in Location\.FSN1/);
    });

    test.each([
      ['zero daily', Retention.of({ daily: 0, weekly: 4, monthly: 6 }), "'keep-daily 0, keep-weekly 4, keep-monthly 6'"],
      ['all zero', Retention.of({ daily: 0 }), "'keep-daily 0'"],
    ])('fails when the retention keeps nothing daily (%s)', (_, retention, shown) => {
      const { stack, options } = production();
      expect(() => new BackupPlan(stack, 'Backups', { ...options, retention }))
        .toThrow(new RegExp(`production/Backups\\.retention: ${shown} is not allowed: a retention that keeps no daily snapshot.*Fix: keep at least one daily snapshot`));
    });

    test('fails when no dump stays on the machine', () => {
      const { stack, options } = production();
      expect(() => new BackupPlan(stack, 'Backups', { ...options, localCopies: 0 })).toThrow(/production\/Backups\.localCopies: 0 is not allowed: .* Fix: keep at least 1/);
    });

    test('fails when the heartbeat is missing', () => {
      const { stack, options } = production();
      expect(() => new BackupPlan(stack, 'Backups', { ...options, heartbeat: undefined as any }))
        .toThrow(/production\/Backups\.heartbeat: missing: .* Fix: pass heartbeat: Heartbeat\.healthchecks/);
    });

    test('fails when a Phase 2 plan has no offsite target', () => {
      const { stack, machine, options } = production();
      BackupPlan.phase2(stack, 'Backups', options).protect(machine);
      expect(() => synthJson(stack)).toThrow(/production\/Backups\.targets: missing: from Phase 2 one copy must be offsite.*Fix: add BackupTarget\.s3Compatible/);
    });

    test('fails when the offsite provider is not in the EU, or is Hetzner', () => {
      for (const [provider, why] of [[S3Provider.of('Wasabi', 'US'), 'stays with EU companies'], [S3Provider.of('Hetzner Object Storage', 'DE'), 'cannot be at Hetzner']] as const) {
        const { stack, machine, options } = production();
        new BackupPlan(stack, `Backups`, { ...options, targets: [...options.targets!, offsite(stack, provider)] }).protect(machine);
        expect(() => synthJson(stack)).toThrow(new RegExp(`production/Backups\\.targets: 'S3 bucket at ${provider.name} \\(${provider.country}\\)' is not allowed: .*${why}.*Fix: use`));
      }
    });

    test('fails when a read-only account is given as a place to write backups', () => {
      const { stack, options } = production();
      const readOnly = StorageBoxAccount.fromAttributes({ host: 'u1-sub2.your-storagebox.de', username: 'u1-sub2', location: Location.HEL1, password: secret(stack, 'ro') });
      const plan = new BackupPlan(stack, 'Backups', { ...options, targets: [BackupTarget.storageBox(readOnly)] });
      const { machine } = { machine: new Machine(stack, 'Db', { environment: Environment.PRODUCTION, role: 'db', serverType: ServerType.CX33, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS }) };
      expect(() => plan.protect(machine)).toThrow(/production\/Backups\.targets: 'read-only Storage Box account in hel1' is not allowed: backups cannot be written to a read-only account\. Fix:/);
    });

    test('fails when a machine of another environment, or one already protected, is protected', () => {
      const { stack, machine, options } = production();
      const plan = new BackupPlan(stack, 'Backups', options);
      plan.protect(machine);
      expect(() => plan.protect(machine)).toThrow(/production\/Backups\.protect: 'production\/App' is not allowed: the machine is already protected by production\/Backups/);
      const testMachine = new Machine(stack, 'TestApp', { environment: Environment.TEST, role: 'app', serverType: ServerType.CX23 });
      expect(() => plan.protect(testMachine)).toThrow(/production\/Backups\.protect: 'production\/TestApp' is not allowed: the machine is in test, the plan protects production/);
    });

    test('fails when the plan protects nothing, or a machine is given nothing to back up', () => {
      const { stack, machine, options } = production();
      const plan = new BackupPlan(stack, 'Backups', options);
      expect(() => plan.protect(machine, { postgres: PostgresDump.NONE })).toThrow(/PostgresDump\.NONE and no paths back up nothing/);
      expect(() => synthJson(stack)).toThrow(/production\/Backups\.protect: missing: the plan protects no machine\. Fix: call plan\.protect\(machine\)/);
    });

    test('fails when production turns Hetzner\'s server backups off', () => {
      const { stack, options } = production();
      const machine = new Machine(stack, 'Db', { environment: Environment.PRODUCTION, role: 'db', serverType: ServerType.CX33, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS, hetznerBackups: false });
      new BackupPlan(stack, 'Backups', options).protect(machine);
      expect(() => synthJson(stack)).toThrow(/production\/Db\.hetznerBackups: false is not allowed: production keeps Hetzner's daily server backups.*Fix: remove hetznerBackups: false/);
    });

    test('fails on a schedule or a check share that cannot work', () => {
      expect(() => Schedule.daily({ hour: 24 })).toThrow(/^Schedule\.daily\.hour: 24 is not allowed: an hour is 0 to 23, in UTC\. Fix: write midnight as \{ hour: 0 \}$/);
      expect(() => Schedule.everyHours(5)).toThrow(/Schedule\.everyHours: 5 is not allowed: the interval must divide a day/);
      // Audit (messages): a minute out of range read "Schedule: 0:75", an hour nobody gave, and advised { hour: 3, minute: 0 },
      // which everyHours refuses as a property it does not have.
      expect(() => Schedule.everyHours(6, { minute: 75 }))
        .toThrow(/^Schedule\.everyHours\.options\.minute: 75 is not allowed: the minute past each start hour is 0-59\. Fix: pass \{ minute: 15 \} or nothing$/);
      const { stack, options } = production();
      expect(() => new BackupPlan(stack, 'Backups', { ...options, checkReadCycle: Duration.hours(36) }))
        .toThrow(/production\/Backups\.checkReadCycle: '36 hours' is not allowed: the checks read the data in slices, one per check \(daily at 05:00 UTC\).*Fix: use a multiple of 1 day/);
      const weekly = new BackupPlan(stack, 'Weekly', { ...options, checkSchedule: Schedule.weekly({ day: Weekday.SUNDAY, hour: 5 }), checkReadCycle: Duration.days(28) });
      expect(weekly.checkReadSlices).toBe(4);
      expect(() => new BackupPlan(stack, 'Backups2', { ...options, maxBackupAge: Duration.hours(12) }))
        .toThrow(/production\/Backups2\.maxBackupAge: '12 hours' is not allowed: .*longer than the schedule's interval \(1 day\).*Fix: use Duration\.hours\(26\)/);
    });
  });

  test('a file backup of a volume\'s mount path covers the volume; without it synth fails and says how to fix it', () => {
    const uncovered = production();
    new DataVolume(uncovered.stack, 'Uploads', { machine: uncovered.machine, size: Size.gibibytes(20) });
    new BackupPlan(uncovered.stack, 'Backups', uncovered.options).protect(uncovered.machine);
    expect(() => synthJson(uncovered.stack)).toThrow(/production\/Uploads\.mountPath: '\/mnt\/uploads' is not allowed: Hetzner server backups and snapshots do not include attached volumes, and no dump or file backup covers this volume on production\/App\. Fix: back it up: plan\.protect\(machine, \{ paths: \['\/mnt\/uploads'\] \}\)/);

    const covered = production();
    const volume = new DataVolume(covered.stack, 'Uploads', { machine: covered.machine, size: Size.gibibytes(20) });
    const plan = new BackupPlan(covered.stack, 'Backups', covered.options);
    plan.protect(covered.machine, { paths: ['/mnt/uploads'] });
    expect(volume.coveringBackup()).toBe(plan);
    const files = machineFiles(covered.stack);
    expect(conf(files, 'FILE_PATHS')).toBe("'/mnt/uploads'");
    expect(conf(files, 'TAGS')).toBe("'sovereign-dump sovereign-files'");
  });

  test('a database dump covers the volume the database lives on', () => {
    const { stack, machine, options } = production();
    const volume = new DataVolume(stack, 'Database', { machine, size: Size.gibibytes(50), mountPath: '/var/lib/postgresql' });
    new BackupPlan(stack, 'Backups', options).protect(machine);
    expect(volume.coveringBackup()).toBeDefined();
    expect(() => synthJson(stack)).not.toThrow();
  });

  test('a machine without a database backs up only its paths, and its push needs no dump', () => {
    const { stack, machine, options } = production();
    new BackupPlan(stack, 'Backups', options).protect(machine, { postgres: PostgresDump.NONE, paths: ['/srv/uploads'] });
    const files = machineFiles(stack);
    expect(files['/usr/local/sbin/backup-dump']).toBeUndefined();
    expect(conf(files, 'DUMP_DIR')).toBe("''");
    expect(conf(files, 'TAGS')).toBe("'sovereign-files'");
    expect(files['/etc/systemd/system/backup-push.service']).not.toMatch(/backup-dump/);
    expect(files['/etc/systemd/system/backup-push.service']).toMatch(/^After=backup-bootstrap\.service$/m);
    // A volume mounted with nofail may still be mounting when the timer fires.
    expect(files['/etc/systemd/system/backup-push.service']).toMatch(/^RequiresMountsFor=\/srv\/uploads$/m);
    // The paths come back by hand after a loss (docs/backup.md, "backup-restore-files"): no unit starts it.
    expect(files['/usr/local/sbin/backup-restore-files']).toMatch(/^#!\/bin\/bash\n# backup-restore-files: /);
    expect(files['/usr/local/sbin/backup-restore']).toBeUndefined();
    expect(Object.keys(files).filter((f) => /backup-restore-files\.(service|timer)$/.test(f))).toEqual([]);
  });

  test('a machine that backs up no paths gets no file restore', () => {
    const { stack, machine, options } = production();
    new BackupPlan(stack, 'Backups', options).protect(machine);
    expect(machineFiles(stack)['/usr/local/sbin/backup-restore-files']).toBeUndefined();
  });

  test('dumps only the named databases when asked', () => {
    const { stack, machine, options } = production();
    new BackupPlan(stack, 'Backups', { ...options, schedule: Schedule.weekly({ day: Weekday.SATURDAY, hour: 1, minute: 30 }), maxBackupAgeReason: 'reporting replica, rebuilt from the primary if lost' })
      .protect(machine, { postgres: PostgresDump.databases(['app', 'audit'], { port: 5433 }) });
    const files = machineFiles(stack);
    expect(conf(files, 'PG_DATABASES')).toBe("'app audit'");
    expect(conf(files, 'PG_PORT')).toBe('5433');
    expect(onCalendar(files, 'backup-push.timer')).toBe('Sat *-*-* 01:30:00 UTC');
    expect(conf(files, 'MAX_AGE_HOURS')).toBe(String(7 * 24 + 2));
  });

  // The dump's port was a bare number where PostgresDatabase.port (whose dump() it is) and every other construct's is
  // a Port: PostgresDump.databases([...], { port: Port.of(5433) }) was refused as "not a number".
  test('its port is a Port, taken as a Port or a number, and backup.conf gets the number; portNumber (deprecated) and plain JavaScript read it', () => {
    for (const given of [5433, Port.of(5433)]) {
      const dump = PostgresDump.databases(['app'], { port: given });
      expect(dump.port).toBeInstanceOf(Port);
      expect(`${dump.port}`).toBe('5433');
      expect(dump.portNumber).toBe(5433);
      expect(new Function('dump', 'return dump.portNumber + 1')(dump)).toBe(5434);
      const { stack, machine, options } = production();
      new BackupPlan(stack, 'Backups', options).protect(machine, { postgres: dump });
      expect(conf(machineFiles(stack), 'PG_PORT')).toBe('5433');
    }
    expect(PostgresDump.allDatabases().port.from).toBe(5432);
    expect(() => PostgresDump.allDatabases({ port: Port.range(5432, 5434) })).toThrow(
      "PostgresDump.allDatabases.options.port: '5432-5434' is not allowed: PostgreSQL listens on one port, and this is a range. Fix: pass one port of it, such as Port.of(5432)");
    expect(() => PostgresDump.allDatabases({ port: '5432' as never })).toThrow(/^PostgresDump\.allDatabases\.options\.port: '5432' is not allowed: .*Fix: use a port such as 5432 or Port\.of\(5432\)$/);
  });

  test('runs the client programs of the server\'s major when the dump names it (as a database\'s dump() does); a plain-JavaScript number is refused', () => {
    const { stack, machine, options } = production();
    new BackupPlan(stack, 'Backups', options).protect(machine, { postgres: PostgresDump.allDatabases({ version: PostgresVersion.of(16) }) });
    expect(conf(machineFiles(stack), 'PG_BIN')).toBe("'/usr/lib/postgresql/16/bin'");
    const unset = production();
    new BackupPlan(unset.stack, 'Backups', unset.options).protect(unset.machine);
    expect(conf(machineFiles(unset.stack), 'PG_BIN')).toBe("''");
    expect(() => PostgresDump.allDatabases({ version: 16 as unknown as PostgresVersion }))
      .toThrow(/PostgresDump\.allDatabases\.options\.version: 16 is not allowed: it is not a PostgresVersion\. Fix: use PostgresVersion\.of\(15\), or the database's dump\(\)/);
  });

  test('a test environment may have a plan without remote targets', () => {
    const { stack } = testStack('test');
    const machine = new Machine(stack, 'App', { environment: Environment.TEST, role: 'app', serverType: ServerType.CX23, dataClasses: [DataClass.PSEUDONYMIZED], sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS });
    const plan = new BackupPlan(stack, 'Backups', {
      environment: Environment.TEST, resticPassword: secret(stack, 'restic_password'), heartbeat: Heartbeat.healthchecks(secret(stack, 'hb')),
    });
    plan.protect(machine);
    expect(plan.preReleaseSnapshot).toBe(false);
    expect(() => synthJson(stack)).not.toThrow();
  });
});
