import { TerraformStack, TerraformVariable } from 'cdktf';
import { DataClass, Duration, EgressAllowlist, Environment, IMachine, Location, Machine, ServerType } from '../../lib';
import { BackupTarget } from '../../lib/backup/backup-target';
import { S3Provider } from '../../lib/backup/s3-provider';
import { Heartbeat } from '../../lib/backup/heartbeat';
import { RestoreCheck } from '../../lib/backup/restore-check';
import { RestoreDrill, RestoreDrillProps } from '../../lib/backup/restore-drill';
import { PostgresVersion } from '../../lib/database/postgres-version';
import { StorageBoxAccount } from '../../lib/hetzner/storage-box';
import { ADMIN_CIDRS, ADMIN_KEY, resourcesOf, synthJson, testStack, warningsOf } from '../setup/stack';
import { synthesizedBundle } from '../../testing/bundle';
import { machinePayload } from '../setup/machine-payload';
import { filesByPath } from './helpers/machine-root';
import { renderTemplates } from '../setup/terraform-expression';

const secret = (stack: TerraformStack, name: string) => new TerraformVariable(stack, name, { type: 'string', sensitive: true });

function drillProps(): { stack: TerraformStack; props: RestoreDrillProps } {
  const { stack } = testStack('test');
  const machine = new Machine(stack, 'App', { environment: Environment.TEST, role: 'app', serverType: ServerType.CX23, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS });
  const account = StorageBoxAccount.fromAttributes({
    host: 'u12345-sub2.your-storagebox.de', username: 'u12345-sub2', location: Location.HEL1, password: secret(stack, 'storage_box_drill_password'),
  });
  return {
    stack,
    props: {
      machine,
      source: BackupTarget.storageBox(account, { hostKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr'] }),
      sourceHost: 'acme-production-app',
      resticPassword: secret(stack, 'production_restic_password'),
      heartbeat: Heartbeat.healthchecks(secret(stack, 'heartbeat_url')),
      checks: [RestoreCheck.sql('users-present', { database: 'app', query: 'SELECT count(*) > 0 FROM users' })],
    },
  };
}

function files(stack: TerraformStack): Record<string, string> {
  const json = synthJson(stack);
  const [server] = resourcesOf(json, 'hcloud_server');
  return filesByPath(machinePayload(json, server.name));
}

describe('RestoreDrill', () => {
  test('machine is an IMachine; a look-alike object that is not a Machine is refused with the prop and the fix', () => {
    const { stack, props } = drillProps();
    const machine: IMachine = props.machine;
    expect(new RestoreDrill(stack, 'Drill', { ...props, machine }).machine).toBe(machine);
    const lookAlike = { ...machine, node: machine.node, environment: Environment.TEST, serverName: machine.serverName } as unknown as IMachine;
    expect(() => new RestoreDrill(stack, 'Drill2', { ...props, machine: lookAlike }))
      .toThrow(/Drill2\.machine: .* is not allowed: it is not a machine built with new Machine\(…\)\. Fix: pass the Machine itself/);
  });

  test('with only its required props: weekly on Monday 06:00 UTC, reading production\'s backups through a read-only account with its password', () => {
    const { stack, props } = drillProps();
    new RestoreDrill(stack, 'RestoreDrill', props);
    const f = files(stack);
    expect(/OnCalendar=(.*)/.exec(f['/etc/systemd/system/restore-drill.timer'])![1]).toBe('Mon *-*-* 06:00:00 UTC');
    const conf = f['/etc/sovereign-backup/drill.conf'];
    expect(conf).toMatch(/^DRILL_FROM_HOST='acme-production-app'$/m);
    expect(conf).toMatch(/^MAX_AGE_HOURS=26$/m);
    expect(conf).toMatch(/^DRILL_KEEP_DATABASES=0$/m);
    // The restore leaves 256 MiB on the test server's disk: a PostgreSQL whose disk fills stops, and stays down.
    expect(conf).toMatch(/^DRILL_RESERVE_MB=256$/m);
    expect(conf).toMatch(/^source_HOST='u12345-sub2\.your-storagebox\.de'$/m);
    expect(conf).toMatch(/^source_PORT=23$/m);
    expect(conf).toMatch(/^source_AUTH='password'$/m);
    expect(f['/etc/sovereign-backup/secrets/source.password.b64']).toBe('${base64encode(var.storage_box_drill_password)}\n');
    expect(f['/etc/sovereign-backup/secrets/source.restic.b64']).toBe('${base64encode(var.production_restic_password)}\n');
    // The ping URL trimmed, as the plan checked it: Python's http.client refuses a URL with a space or CR, so every ping would fail.
    const [ping] = renderTemplates([f['/etc/sovereign-backup/secrets/drill-heartbeat.b64']], { heartbeat_url: ' https://hc-ping.com/uuid\r\n' });
    expect(Buffer.from(ping.value!.trim(), 'base64').toString()).toBe('https://hc-ping.com/uuid');
    expect(f['/etc/sovereign-backup/drill-checks/01-users-present.sql']).toBe('-- database: app\n-- check: users-present\nSELECT count(*) > 0 FROM users;\n');
    expect(f['/usr/local/sbin/restore-drill']).toMatch(/^#!\/bin\/bash/);
    // The production jobs are not on the test machine.
    expect(f['/usr/local/sbin/backup-push']).toBeUndefined();
  });

  test('runs the pg_restore and psql of the test server\'s major when given it, and installs that client; without it, Debian\'s choice', () => {
    const packagesOf = (stack: TerraformStack) => synthesizedBundle(synthJson(stack), 'test-app').parts.find((p) => p.name === 'sovereign-backup restore drill')!.packages;
    const given = drillProps();
    new RestoreDrill(given.stack, 'RestoreDrill', { ...given.props, postgresVersion: PostgresVersion.of(17) });
    expect(files(given.stack)['/etc/sovereign-backup/drill.conf']).toMatch(/^PG_BIN='\/usr\/lib\/postgresql\/17\/bin'$/m);
    expect(packagesOf(given.stack)).toEqual(['postgresql-client-17']);

    const unset = drillProps();
    new RestoreDrill(unset.stack, 'RestoreDrill', unset.props);
    expect(files(unset.stack)['/etc/sovereign-backup/drill.conf']).toMatch(/^PG_BIN=''$/m);
    expect(packagesOf(unset.stack)).toEqual(['postgresql-client']);

    // A plain-JavaScript caller passing the number.
    const bad = drillProps();
    expect(() => new RestoreDrill(bad.stack, 'RestoreDrill', { ...bad.props, postgresVersion: 17 as unknown as PostgresVersion }))
      .toThrow(/test\/RestoreDrill\.postgresVersion: 17 is not allowed: it is not a PostgresVersion\. Fix: use the test machine's database\.version, or PostgresVersion\.of\(15\)/);
  });

  test("warns when the test machine's rollouts, which carry production's restic password, check no SSH host key", () => {
    // Whoever answers on the test machine's address at a deploy gets what reads every production backup.
    const { stack, props } = drillProps();
    new RestoreDrill(stack, 'Drill', props);
    expect(warningsOf(stack)).toContainEqual(expect.stringMatching(new RegExp("^Rollout-UnpinnedHostKey: test/App's rollouts carry the restore drill's secrets "
      + "\\(production's restic password and the source's login\\), which read every production backup, and check no SSH host key.*"
      + "Fix: .*rollout: \\{ hostKey \\} on the Machine, or admin\\.hostKeys: \\{ 'test-app': 'ssh-ed25519 AAAA…' \\} on the Product")));
    const pinned = drillProps();
    const machine = new Machine(pinned.stack, 'Pinned', {
      environment: Environment.TEST, role: 'app', serverType: ServerType.CX23, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS,
      rollout: { hostKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr' },
    });
    new RestoreDrill(pinned.stack, 'Drill', { ...pinned.props, machine });
    expect(warningsOf(pinned.stack).filter((w) => w.startsWith('Rollout-UnpinnedHostKey: test/Pinned'))).toEqual([]);
  });

  test('fails when there is no verification query', () => {
    const { stack, props } = drillProps();
    expect(() => new RestoreDrill(stack, 'RestoreDrill', { ...props, checks: [] }))
      .toThrow(/test\/RestoreDrill\.checks: missing: .* Fix: pass at least one RestoreCheck\.sql/);
  });

  test('fails when there is no heartbeat', () => {
    const { stack, props } = drillProps();
    expect(() => new RestoreDrill(stack, 'RestoreDrill', { ...props, heartbeat: undefined as any }))
      .toThrow(/test\/RestoreDrill\.heartbeat: missing: a drill that fails or does not run must alert someone\. Fix: pass heartbeat: Heartbeat\.healthchecks/);
  });

  test('fails when it would run on a production machine', () => {
    const { stack, props } = drillProps();
    const prod = new Machine(stack, 'Prod', { environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS });
    expect(() => new RestoreDrill(stack, 'RestoreDrill', { ...props, machine: prod }))
      .toThrow(/test\/RestoreDrill\.machine: 'test\/Prod' is not allowed: .* Fix: run it on the test machine/);
  });

  test('fails when a read-only source has no password to log in with', () => {
    const { stack, props } = drillProps();
    const account = StorageBoxAccount.fromAttributes({ host: 'u1-sub2.your-storagebox.de', username: 'u1-sub2', location: Location.HEL1 });
    expect(() => new RestoreDrill(stack, 'RestoreDrill', { ...props, source: BackupTarget.storageBox(account) }))
      .toThrow(/test\/RestoreDrill\.source: missing: a read-only Storage Box account logs in with its password.*Fix:/);
  });

  test('warns when the source account is writable: the test machine could delete production\'s backups', () => {
    const { stack, props } = drillProps();
    const writable = StorageBoxAccount.fromAttributes({ host: 'u1-sub1.your-storagebox.de', username: 'u1-sub1', location: Location.HEL1, readonly: false, password: secret(stack, 'w') });
    new RestoreDrill(stack, 'RestoreDrill', { ...props, source: BackupTarget.storageBox(writable) });
    expect(warningsOf(stack)).toContainEqual(expect.stringMatching(/^Backup-WritableDrillSource: test\/RestoreDrill\.source: the source Storage Box account \(u1-sub1\) is writable.* Fix: give it a read-only sub-account/));
    const { stack: readOnly, props: readOnlyProps } = drillProps();
    new RestoreDrill(readOnly, 'RestoreDrill', readOnlyProps);
    expect(warningsOf(readOnly).filter((w) => w.startsWith('Backup-WritableDrillSource'))).toEqual([]);
  });

  describe('additionalSources: every copy of the backups is drilled', () => {
    const bucket = (stack: TerraformStack, prefix: string) => BackupTarget.s3Compatible({
      provider: S3Provider.SCALEWAY, endpoint: secret(stack, `${prefix}_endpoint`), bucket: secret(stack, `${prefix}_bucket`),
      accessKeyId: secret(stack, `${prefix}_access_key_id`), secretAccessKey: secret(stack, `${prefix}_secret_access_key`),
    });

    test('renders each copy under its own name, with its own restic password file, label and egress destination', () => {
      const { stack, props } = drillProps();
      new RestoreDrill(stack, 'RestoreDrill', { ...props, additionalSources: [bucket(stack, 'drill_offsite')] });
      const f = files(stack);
      const conf = f['/etc/sovereign-backup/drill.conf'];
      expect(conf).toMatch(/^DRILL_SOURCES='source source2'$/m);
      expect(conf).toMatch(/^source_LABEL='Storage Box in hel1'$/m);
      expect(conf).toMatch(/^source2_LABEL='S3 bucket at Scaleway \(FR\)'$/m);
      expect(conf).toMatch(/^source2_KIND='s3'$/m);
      // The bucket's repository path defaults to the production server's name, as production's plan writes it.
      expect(conf).toMatch(/^source2_REPO_PATH='acme-production-app'$/m);
      expect(f['/etc/sovereign-backup/secrets/source2.restic.b64']).toBe('${base64encode(var.production_restic_password)}\n');
      expect(f['/etc/sovereign-backup/secrets/source2.s3.env']).toContain('ACCESS_KEY_ID_B64=${base64encode(trimspace(var.drill_offsite_access_key_id))}');
      // The bucket's host is allowed out of the test machine, as the Storage Box's is.
      expect(EgressAllowlist.requiredDestinations(props.machine).map((d) => `${d.purpose} ${d.port}`))
        .toEqual(['restore drill source (Storage Box in hel1) the drill restores from 23', 'restore drill source (S3 bucket at Scaleway (FR)) the drill restores from 443', 'restore drill heartbeat pinged after each drill 443']);
    });

    test('gives the run 12 hours for each copy, restored one after the other', () => {
      const timeoutOf = (f: Record<string, string>) => /^TimeoutStartSec=(.*)$/m.exec(f['/etc/systemd/system/restore-drill.service'])![1];
      const one = drillProps();
      new RestoreDrill(one.stack, 'RestoreDrill', one.props);
      expect(timeoutOf(files(one.stack))).toBe('12h');
      const two = drillProps();
      new RestoreDrill(two.stack, 'RestoreDrill', { ...two.props, additionalSources: [bucket(two.stack, 'drill_offsite')] });
      expect(timeoutOf(files(two.stack))).toBe('24h');
    });

    test('without it, one copy: DRILL_SOURCES names the source alone', () => {
      const { stack, props } = drillProps();
      new RestoreDrill(stack, 'RestoreDrill', props);
      const f = files(stack);
      expect(f['/etc/sovereign-backup/drill.conf']).toMatch(/^DRILL_SOURCES='source'$/m);
      expect(f['/etc/sovereign-backup/secrets/source2.restic.b64']).toBeUndefined();
    });

    test('refuses a copy listed twice, and a value that is not a BackupTarget, naming the prop and the fix', () => {
      const { stack, props } = drillProps();
      const offsite = bucket(stack, 'drill_offsite');
      expect(() => new RestoreDrill(stack, 'A', { ...props, additionalSources: [offsite, offsite] }))
        .toThrow(/test\/A\.additionalSources\[1\]: 'S3 bucket at Scaleway \(FR\)' is not allowed: that copy is already drilled\. Fix: list each copy of the backups once/);
      expect(() => new RestoreDrill(stack, 'B', { ...props, additionalSources: [props.source] }))
        .toThrow(/test\/B\.additionalSources\[0\]: 'Storage Box in hel1' is not allowed: that copy is already drilled/);
      // A plain-JavaScript caller passing the bucket's options instead of the target.
      expect(() => new RestoreDrill(stack, 'C', { ...props, additionalSources: [{ provider: S3Provider.SCALEWAY } as unknown as BackupTarget] }))
        .toThrow(/C.*additionalSources.*BackupTarget\.s3Compatible/);
    });
  });

  // A drill on a test machine declared public passed synth: production's databases restored onto a machine the
  // boundary judged as public (outside the EU allowed, no egress allowlist owed).
  test('runs only on a machine that declares more than public data', () => {
    const { stack, props } = drillProps();
    const machine = (id: string, dataClasses: DataClass[]) =>
      new Machine(stack, id, { environment: Environment.TEST, role: id.toLowerCase(), serverType: ServerType.CX23, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS, dataClasses });
    expect(() => new RestoreDrill(stack, 'Drill', { ...props, machine: machine('Public', [DataClass.PUBLIC]) })).toThrow(
      "test/Drill.machine: 'test/Public (public)' is not allowed: a drill restores production's databases onto it, which are not public data, "
      + "and the data boundary judges the machine by the classes it declares. Fix: declare on the machine the classes production's database holds, "
      + 'such as dataClasses: [DataClass.SENSITIVE, DataClass.SECRET]');
    const pseudonymized = machine('Scrubbed', [DataClass.PUBLIC, DataClass.PSEUDONYMIZED]);
    expect(new RestoreDrill(stack, 'OnScrubbed', { ...props, machine: pseudonymized }).machine).toBe(pseudonymized);
  });

  // The drill's maxBackupAge had no upper bound: a weekly drill with Duration.days(30) passed four Mondays running on
  // the one backup taken before the backups stopped, each time reporting recovery proven.
  test('maxBackupAge is at most 6 days unless maxBackupAgeReason says why, as on a BackupPlan', () => {
    const { stack, props } = drillProps();
    new RestoreDrill(stack, 'AtLimit', { ...props, maxBackupAge: Duration.days(6) });
    expect(() => new RestoreDrill(stack, 'Month', { ...props, maxBackupAge: Duration.days(30) })).toThrow(
      "test/Month.maxBackupAge: '30 days' is not allowed: the drill would pass on a backup up to 30 days old: a weekly drill proves recovery again "
      + 'without a new backup having arrived, and backups that stop go unnoticed for more than 6 days. '
      + 'Fix: use at most Duration.days(6), such as Duration.hours(26) with a daily schedule; or pass maxBackupAgeReason with the reason the backups may go unnoticed that long');
    expect(() => new RestoreDrill(stack, 'Vague', { ...props, maxBackupAge: Duration.days(30), maxBackupAgeReason: 'ok' }))
      .toThrow(/test\/Vague\.maxBackupAgeReason: 'ok' is not allowed: letting backups go unnoticed for more than 6 days needs a specific reason/);
    // From JavaScript, a reason that is not text.
    expect(() => new RestoreDrill(stack, 'Flag', { ...props, maxBackupAge: Duration.days(30), maxBackupAgeReason: true as unknown as string }))
      .toThrow(/test\/Flag\.maxBackupAgeReason/);
    const { stack: other, props: reasoned } = drillProps();
    new RestoreDrill(other, 'RestoreDrill', { ...reasoned, maxBackupAge: Duration.days(8), maxBackupAgeReason: 'archive machine, restored from the quarterly export if lost' });
    expect(files(other)['/etc/sovereign-backup/drill.conf']).toMatch(/^MAX_AGE_HOURS=192$/m);
  });

  test('fails on a bad source host, check or maximum age', () => {
    const { stack, props } = drillProps();
    expect(() => new RestoreDrill(stack, 'A', { ...props, sourceHost: 'Production App' })).toThrow(/test\/A\.sourceHost: 'Production App' is not allowed/);
    expect(() => new RestoreDrill(stack, 'B', { ...props, maxBackupAge: Duration.minutes(90) })).toThrow(/test\/B\.maxBackupAge: '90 minutes' is not allowed/);
    expect(() => RestoreCheck.sql('Bad Name', { database: 'app', query: 'SELECT true' })).toThrow(/RestoreCheck\.sql: 'Bad Name' is not allowed/);
    expect(() => RestoreCheck.sql('empty', { database: 'app', query: '  ' })).toThrow(/RestoreCheck\.sql\(empty\)\.query: '' is not allowed: an empty query verifies nothing/);
    const check = RestoreCheck.sql('same', { database: 'app', query: 'SELECT true' });
    expect(() => new RestoreDrill(stack, 'C', { ...props, checks: [check, check] })).toThrow(/test\/C\.checks: 'same' is not allowed: two checks share a name/);
  });
});
