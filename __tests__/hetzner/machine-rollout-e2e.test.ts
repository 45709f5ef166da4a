import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Aspects, TerraformStack, TerraformVariable, Testing } from 'cdktf';
import { HcloudProvider } from '../../generated/providers/hcloud/provider';
import {
  BoundaryChecks, DataClass, Duration, EgressAllowlist, Environment, FirewallRule, Location, Machine, ObjectStorageBackend, Phase, Port, PostgresVersion,
  PrivateNetwork, RestoreCheck, RestoreDrill, S3Provider, SecretVariable, SshKey, StorageBoxAccount,
} from '../../lib';
import { BackupPlan } from '../../lib/backup/backup-plan';
import { BackupTarget } from '../../lib/backup/backup-target';
import { Heartbeat } from '../../lib/backup/heartbeat';
import { Retention } from '../../lib/backup/retention';
import { Schedule } from '../../lib/backup/schedule';
import { StorageBox } from '../../lib/hetzner/storage-box';
import { DRILL_ACCOUNT_PASSWORD_VARIABLES, OFFSITE_DRILL_VARIABLES } from '../../stacks/environment-backups';
import { EnvironmentMonitoring } from '../../lib/monitoring/environment-monitoring';
import { UptimeCheck } from '../../lib/monitoring/uptime-check';
import { HetznerStandIn, LoopbackMachine, PlannedChanges, PlanOutcome, StandInWorkspace, TerraformRun } from '../../testing';
import { CloudStore } from '../../testing/provider/cloud/store';
import { OVERRIDE_FILE } from '../../testing/harness/stand-in-names';
import { commandLineOf, signal } from '../../testing/harness/processes';
import { boundary, plan, RULES } from '../monitoring/helpers/fixture';
import { leakedSecrets } from '../setup/secret-sentinels';
import { SftpServer } from '../backup/helpers/sftp-server';
import { b64, BackupWorld, expectSuccess, fingerprint, PROD_HOST, RESTIC_PASSWORD, runScript, scratchDatabases, TEST_HOST } from '../backup/helpers/world';

// A production stack applied through Terraform with the stand-in provider, its machine's bundle rolled
// out over real SSH to a loopback sshd standing in for the server (files under a directory, systemctl
// recorded). Then day-2 changes (a retention, an uptime check, a rotated secret, a removed part) reach
// the running machine on the next deploy without replacing the server; failures leave it as it was.

interface Version {
  readonly keepDaily: number;
  readonly extraCheck?: boolean;
  /** A team part that v1 has and v2 drops: its files must go. */
  readonly teamPart?: boolean;
  /** A team part whose command starts a daemon in the background, its output not redirected. */
  readonly daemonPart?: string;
  /** A team part whose unit systemd refuses. */
  readonly brokenUnit?: boolean;
}

const ADMIN_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr ops@acme.eu';
const secret = (stack: TerraformStack, name: string) => new TerraformVariable(stack, name, { type: 'string', sensitive: true });

function productionStack(version: Version): TerraformStack {
  const app = Testing.app();
  const stack = new TerraformStack(app, 'acme-production');
  new HcloudProvider(stack, 'hcloud', {});
  new ObjectStorageBackend(stack, { bucket: 'acme-state' });
  const env = Environment.PRODUCTION;
  const network = new PrivateNetwork(stack, 'Network', { environment: env, name: 'acme-production-network' });
  const machine = new Machine(stack, 'App', {
    environment: env, role: 'app', name: 'acme-production-app', serverType: Phase.ONE.machineFor(env).preferred,
    dataClasses: [DataClass.SENSITIVE, DataClass.SECRET], ingress: [FirewallRule.httpsFromAnywhere()], privateNetwork: network,
    sshKeys: [new SshKey(stack, 'Admin', { name: 'admin', publicKey: ADMIN_KEY })], adminCidrs: ['203.0.113.0/24'],
  });
  const box = new StorageBox(stack, 'StorageBox', { environment: env, location: Location.HEL1, password: secret(stack, 'storage_box_password') });
  const account = box.addSubaccount('App', { homeDirectory: 'backups/production/app', password: secret(stack, 'storage_box_app_password') });
  new BackupPlan(stack, 'Backups', {
    environment: env, resticPassword: secret(stack, 'restic_password'), heartbeat: Heartbeat.healthchecks(secret(stack, 'heartbeat_url')),
    targets: [BackupTarget.storageBox(account)], schedule: Schedule.daily({ hour: 3 }),
    retention: Retention.of({ daily: version.keepDaily, weekly: 4, monthly: 6 }),
  }).protect(machine);
  const monitoringPlan = version.extraCheck
    ? plan({ uptimeChecks: [...plan().uptimeChecks, UptimeCheck.http(Environment.TEST, 'https://status.acme.eu/health')] })
    : plan();
  new EnvironmentMonitoring(stack, 'Monitoring', { plan: monitoringPlan, phase: Phase.ONE, environment: env, machine });
  EgressAllowlist.apply(machine, { policy: boundary() });
  if (version.teamPart) {
    machine.addBundlePart({
      name: 'team: report job',
      files: [
        { path: '/usr/local/sbin/acme-report', content: '#!/bin/sh\necho report\n', permissions: '0755' },
        { path: '/etc/systemd/system/acme-report.service', content: '[Unit]\nDescription=Acme report\n\n[Service]\nType=oneshot\nExecStart=/usr/local/sbin/acme-report\n' },
      ],
      commands: [['systemctl', 'daemon-reload']],
    });
  }
  if (version.daemonPart) {
    machine.addBundlePart({
      name: 'team: worker',
      files: [{ path: '/etc/acme/worker.conf', content: 'threads=2\n' }],
      commands: [['sh', '-c', `sleep 600 & echo $! > ${version.daemonPart}; echo worker started`]],
    });
  }
  if (version.brokenUnit) {
    machine.addBundlePart({
      name: 'team: broken unit',
      files: [{ path: '/etc/systemd/system/acme-broken.service', content: '[Unit]\nDescription=Broken\n\n[Servce]\nExecStart=/bin/true\n' }],
    });
  }
  Aspects.of(stack).add(new BoundaryChecks({ policy: boundary(), rules: RULES }));
  return stack;
}

/** Real-looking secrets: the monitoring setup checks each URL's host against the declared one. */
const SECRETS = {
  TF_VAR_monitoring_webhook_ops: 'https://chat.acme.eu/hooks/first-token-0001',
  TF_VAR_monitoring_deadman_ping_url_production: 'https://hc-ping.com/0f7b2c1e-0000-4000-8000-000000000001',
  TF_VAR_error_monitoring_dsn: 'https://key0001@errors.acme.eu/1',
  TF_VAR_heartbeat_url: 'https://hc-ping.com/0f7b2c1e-0000-4000-8000-000000000002',
  TF_VAR_restic_password: 'restic-password-first-0001',
  TF_VAR_storage_box_password: 'Box-Password-0001!',
  TF_VAR_storage_box_app_password: 'Sub-Password-0001!',
};

const CONF = '/etc/sovereign-backup/backup.conf';
/** How long the agent lets one command run on the production machine below. */
const COMMAND_TIMEOUT = Duration.minutes(1);
/**
 * Where the rollout's steps run from, as the workspace's override last wrote it (the loopback sshd's own file system,
 * as the provisioners' paths are absolute): a file of the target's own, as other test files roll out at once.
 */
function stepScriptOf(workspace: StandInWorkspace): string {
  const override = JSON.parse(fs.readFileSync(path.join(workspace.dir, OVERRIDE_FILE), 'utf8'));
  const paths = Object.values<any>(override.resource.terraform_data).map((r) => r.connection?.script_path);
  expect(paths).toHaveLength(1);
  expect(paths[0]).toMatch(/^\/root\/\.sovereign-rollout-step\.\d+\.[A-Za-z0-9_]+\.sh$/);
  return paths[0];
}
/** Terraform's default place for them: world-writable files in /tmp. */
const stepScriptsInTmp = () => fs.readdirSync('/tmp').filter((f) => /^terraform_\d+\.sh$/.test(f));
const WEBHOOK_SECRET = '/etc/sovereign-monitoring/secrets/monitoring_webhook_ops.b64';
/** Where the setup writes the webhook URLs for the alert relay, root-only. */
const RELAY_URLS = '/etc/sovereign-monitoring/secrets/webhook-urls.json';
/** What Terraform said went wrong, and what the provisioners printed: the messages a deployer reads. */
function messages(run: TerraformRun): string {
  return (run.stdout + run.stderr).split('\n').filter(Boolean).map((line) => {
    try {
      const event = JSON.parse(line);
      return event.diagnostic ? `${event.diagnostic.summary}\n${event.diagnostic.detail}` : String(event['@message']);
    } catch {
      return line;
    }
  }).join('\n');
}
/** Every regular file below a directory. */
const filesUnder = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
  const full = path.join(dir, e.name);
  return e.isDirectory() ? filesUnder(full) : e.isFile() ? [full] : [];
});
const decode = (b64: string | undefined) => Buffer.from(String(b64).trim(), 'base64').toString('utf8');
/** The planned changes, or a failure that says what Terraform said. */
function changesOf(planned: PlanOutcome): PlannedChanges {
  if (!planned.changes) throw new Error(`terraform ${planned.run.args[0]} failed (exit ${planned.run.exitCode}, ${planned.run.ms} ms):\n${messages(planned.run)}`.slice(0, 8000));
  return planned.changes;
}

/** One stand-in (one provider daemon) for both machines' deploy sequences. */
const standIn = new HetznerStandIn();
afterAll(() => standIn.stop(true));

describe('day-2 rollout of a production machine\'s bundle (stand-in provider, real sshd on loopback)', () => {
  let target: LoopbackMachine;
  let ws: StandInWorkspace;
  let dir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rollout-e2e-'));
    // A command that hangs fails in a minute, not the 30 of a real machine.
    target = await LoopbackMachine.start(path.join(dir, 'machine'), { env: { SOVEREIGN_COMMAND_TIMEOUT: String(COMMAND_TIMEOUT.toSeconds()) } });
    ws = standIn.workspace(productionStack({ keepDaily: 7, teamPart: true }));
    ws.setVariables(SECRETS).rollOutTo(target.target()).setConfiguration(JSON.parse(Testing.synth(productionStack({ keepDaily: 7, teamPart: true }), true)));
  }, 60_000);

  afterAll(async () => {
    await target?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const deploy = (version: Version) => {
    ws.setConfiguration(JSON.parse(Testing.synth(productionStack(version), true)));
    return ws;
  };
  const serverIds = () => Object.keys(ws.cloud().objects.hcloud_server ?? {});
  const bundleVersionOf = (version: Version) => {
    const json = JSON.parse(Testing.synth(productionStack(version), true));
    return String(Object.values<any>(json.resource.terraform_data).find((r) => r.provisioner).triggers_replace.bundle);
  };

  test('the first deploy creates the server and installs the bundle: files, modes, secrets decoded by the setup, units enabled', () => {
    const inTmpBefore = new Set(stepScriptsInTmp());
    const run = ws.apply();
    expect(run.ok ? '' : messages(run)).toBe('');
    // The steps ran as root from root's own directory, and Terraform blanked the script after the last one;
    // none went to a world-writable file in /tmp.
    expect(fs.statSync(stepScriptOf(ws)).size).toBe(0);
    expect(stepScriptsInTmp().filter((f) => !inTmpBefore.has(f))).toEqual([]);
    const current = target.current();
    expect(current.version).toBe(bundleVersionOf({ keepDaily: 7, teamPart: true }));
    expect(target.read(CONF)).toContain("KEEP='--keep-daily 7 --keep-weekly 4 --keep-monthly 6'");
    expect(target.mode(CONF)).toBe('0600');
    expect(decode(target.read(WEBHOOK_SECRET))).toBe(SECRETS.TF_VAR_monitoring_webhook_ops);
    // The monitoring setup ran on the machine and wrote the webhook for the alert relay, not into Alertmanager's configuration.
    expect(JSON.parse(target.read(RELAY_URLS)!).monitoring_webhook_ops).toBe(SECRETS.TF_VAR_monitoring_webhook_ops);
    expect(target.read('/etc/sovereign-monitoring/alertmanager.yml')).toContain('"http://127.0.0.1:9095/monitoring_webhook_ops"');
    expect(target.read('/usr/local/sbin/acme-report')).toBe('#!/bin/sh\necho report\n');
    expect(target.systemctlCalls()).toEqual(expect.arrayContaining([
      'daemon-reload', 'enable --now backup-push.timer backup-prune.timer backup-check.timer',
      'restart prometheus prometheus-alertmanager prometheus-blackbox-exporter', 'restart sovereign-prometheus-watch sovereign-alert-relay',
    ]));
    // Nothing of the inputs stays where the provisioners put them (the sshd's own file system: the
    // provisioners' paths are absolute), and no secret reached Terraform's output.
    const incoming = `/var/lib/sovereign/rollout/incoming/${current.version.slice(7, 23)}`;
    expect(fs.existsSync(incoming)).toBe(false);
    expect(leakedSecrets(run.stdout + run.stderr, SECRETS)).toEqual([]);
    // Every file on the machine that holds a secret, in any form, is closed to other users.
    const holders = filesUnder(target.root).map((file) => ({ file, leaks: leakedSecrets(fs.readFileSync(file, 'latin1'), SECRETS) }))
      .filter(({ leaks }) => leaks.length > 0).map(({ file }) => `${file.slice(target.root.length)} ${(fs.statSync(file).mode & 0o777).toString(8)}`);
    expect(holders).toEqual(expect.arrayContaining([`${WEBHOOK_SECRET} 600`, `${RELAY_URLS} 600`]));
    // What the daemons' group reads holds none: Alertmanager's configuration names the relay.
    expect(holders.filter((h) => h.startsWith('/etc/sovereign-monitoring/alertmanager.yml'))).toEqual([]);
    expect(holders.filter((h) => !/ [67][0-7]0$/.test(h))).toEqual([]);
    expect(target.read('/var/lib/prometheus/node-exporter/sovereign_rollout.prom')).toMatch(/sovereign_rollout_success 1\n[\s\S]*sovereign_bundle_info\{version="sha256:[0-9a-f]{64}"\} 1/);
  }, 240_000);

  test('a second deploy with nothing changed plans no change at all', () => {
    const planned = deploy({ keepDaily: 7, teamPart: true }).plan();
    expect(changesOf(planned).resourceChanges.filter((c) => !c.actions.every((a) => a === 'no-op') && !c.actions.every((a) => a === 'read'))).toEqual([]);
  }, 120_000);

  test('day 2: a retention, an uptime check, a rotated secret and a dropped part reach the machine; the server stays', () => {
    const before = serverIds();
    const old = target.current().version;
    ws.setVariables({ TF_VAR_monitoring_webhook_ops: 'https://chat.acme.eu/hooks/rotated-token-0002' });
    const next = { keepDaily: 14, extraCheck: true };
    const planned = deploy(next).plan();
    const changed = changesOf(planned).resourceChanges.filter((c) => !c.actions.every((a) => a === 'no-op' || a === 'read'));
    // Only the rollout is replaced: the plan shows the bundle version going from old to new.
    expect(changed.map((c) => [c.type, c.actions])).toEqual([['terraform_data', ['delete', 'create']]]);
    expect(changed[0].before.triggers_replace.bundle).toBe(old);
    expect(changed[0].after.triggers_replace.bundle).toBe(bundleVersionOf(next));
    expect(changed[0].before.triggers_replace.inputs).not.toBe(changed[0].after.triggers_replace.inputs);
    // The digest covers secrets, so it stays sensitive: the plan says that it changed, not what it is.
    expect(changed[0].afterSensitive.triggers_replace.inputs).toBe(true);
    target.clearSystemctl();
    const run = ws.apply();
    expect(messages(run)).not.toMatch(/Error/);
    expect(serverIds()).toEqual(before);
    expect(target.current().version).toBe(bundleVersionOf(next));
    expect(target.read(CONF)).toContain("KEEP='--keep-daily 14 --keep-weekly 4 --keep-monthly 6'");
    expect(target.read('/etc/sovereign-monitoring/prometheus.yml')).toContain('https://status.acme.eu/health');
    expect(target.read(RELAY_URLS)).toContain('rotated-token-0002');
    expect(target.read(RELAY_URLS)).not.toContain('first-token-0001');
    // Nor does any other file keep the rotated-out secret (the agent's copies of replaced files go with the release).
    const rotatedOut = { TF_VAR_monitoring_webhook_ops: SECRETS.TF_VAR_monitoring_webhook_ops };
    expect(filesUnder(target.root).filter((f) => leakedSecrets(fs.readFileSync(f, 'latin1'), rotatedOut).length > 0)).toEqual([]);
    // The team part is gone, files and unit.
    expect(target.read('/usr/local/sbin/acme-report')).toBeUndefined();
    expect(target.read('/etc/systemd/system/acme-report.service')).toBeUndefined();
    expect(target.systemctlCalls()).toContain('disable --now acme-report.service');
    // Units are reloaded and daemons restarted where their files changed, and only there.
    const calls = target.systemctlCalls();
    expect(calls).toContain('daemon-reload');
    expect(calls).toContain('restart prometheus prometheus-alertmanager prometheus-blackbox-exporter');
    expect(calls.filter((c) => c.includes('node-exporter'))).toEqual([]);
  }, 240_000);

  test('fails when the machine is unreachable, and the previous version keeps running', () => {
    const running = target.current().version;
    ws.rollOutTo(target.target({ port: 1, timeout: '3s' }));
    const run = deploy({ keepDaily: 21, extraCheck: true }).apply();
    ws.rollOutTo(target.target());
    expect(run.ok).toBe(false);
    expect(messages(run)).toMatch(/connect|dial tcp 127\.0\.0\.1:1/i);
    expect(target.current().version).toBe(running);
    expect(target.read(CONF)).toContain('--keep-daily 14 ');
  }, 240_000);

  test('fails when the machine answers with another host key than the pinned one, before anything reaches it', () => {
    const running = target.current().version;
    // Another host on the machine's address: its key is not the one pinned (admin.hostKeys / rollout.hostKey).
    ws.rollOutTo(target.target({ hostKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr', timeout: '3s' }));
    const run = deploy({ keepDaily: 21, extraCheck: true }).apply();
    ws.rollOutTo(target.target());
    expect(run.ok).toBe(false);
    expect(messages(run)).toMatch(/ssh: handshake failed: knownhosts: key mismatch/);
    expect(target.current().version).toBe(running);
    expect(target.read(CONF)).toContain('--keep-daily 14 ');
  }, 240_000);

  test('fails when the bundle does not match its checksum, and the previous version keeps running', () => {
    const running = target.current().version;
    const json = JSON.parse(Testing.synth(productionStack({ keepDaily: 21, extraCheck: true }), true));
    const rollout: any = Object.values<any>(json.resource.terraform_data).find((r) => r.provisioner);
    const file = rollout.provisioner.find((p: any) => p.file && String(p.file.destination).endsWith('/bundle.gz.b64')).file;
    // Another synth's bundle under this synth's version: what a cut or altered transfer looks like.
    file.content = Object.values<any>(JSON.parse(Testing.synth(productionStack({ keepDaily: 30 }), true)).resource.terraform_data).find((r) => r.provisioner)
      .provisioner.find((p: any) => p.file && String(p.file.destination).endsWith('/bundle.gz.b64')).file.content;
    ws.setConfiguration(json);
    const run = ws.apply();
    expect(run.ok).toBe(false);
    expect(messages(run)).toMatch(/FAILED to verify the checksum: the bundle received hashes to sha256:[0-9a-f]{12}, the deploy expected sha256:[0-9a-f]{12}/);
    expect(messages(run)).toMatch(/the machine keeps running sha256:/);
    expect(target.current().version).toBe(running);
    expect(target.read(CONF)).toContain('--keep-daily 14 ');
  }, 240_000);

  test('fails when a unit does not pass systemd-analyze verify, and nothing is switched', () => {
    const running = target.current().version;
    const run = deploy({ keepDaily: 21, extraCheck: true, brokenUnit: true }).apply();
    expect(run.ok).toBe(false);
    expect(messages(run)).toMatch(/FAILED to check \/etc\/systemd\/system\/acme-broken\.service: systemd-analyze verify refuses the unit/);
    expect(messages(run)).toMatch(/Fix: correct the unit file/);
    expect(target.current().version).toBe(running);
    expect(target.read('/etc/systemd/system/acme-broken.service')).toBeUndefined();
    expect(target.read(CONF)).toContain('--keep-daily 14 ');
  }, 240_000);

  test('fails when activation fails (a daemon refuses to restart), and the previous files are put back', () => {
    const running = target.current().version;
    const previousPrometheus = target.read('/etc/sovereign-monitoring/prometheus.yml');
    target.failSystemctl('^restart prometheus ');
    const run = deploy({ keepDaily: 21 }).apply();
    target.failSystemctl(undefined);
    expect(run.ok).toBe(false);
    expect(messages(run)).toMatch(/FAILED to activate "sovereign-monitoring prober": systemctl restart prometheus .* exited 1/);
    expect(target.current().version).toBe(running);
    expect(target.read('/etc/sovereign-monitoring/prometheus.yml')).toBe(previousPrometheus);
    expect(target.read(CONF)).toContain('--keep-daily 14 ');
  }, 240_000);

  test('after the failures, the same deploy succeeds on retry', () => {
    const run = deploy({ keepDaily: 21 }).apply();
    expect(messages(run)).not.toMatch(/Error/);
    expect(run.ok).toBe(true);
    expect(target.read(CONF)).toContain('--keep-daily 21 ');
    expect(target.read('/etc/sovereign-monitoring/prometheus.yml')).not.toContain('https://status.acme.eu/health');
  }, 240_000);

  // A step that started a daemon with `&`, its output not redirected, kept the agent reading that output until the
  // command timeout (30 minutes on a server), although the step had exited 0; then the daemon was killed and the
  // deploy rolled back. The step's own exit judges it now, and the daemon, started on purpose, keeps running.
  test('a step that leaves a daemon holding its output: the deploy ends when the step does, names the daemon, and leaves it running', () => {
    const pidFile = path.join(dir, 'worker.pid');
    try {
      const run = deploy({ keepDaily: 21, daemonPart: pidFile }).apply();
      expect(run.ok ? '' : messages(run)).toBe('');
      const pid = fs.readFileSync(pidFile, 'utf8').trim();
      expect(messages(run)).toMatch(new RegExp(`exited 0; pid ${pid} \\(sleep\\) it left in the background still held its output 2 s later: it keeps running, unsupervised`));
      expect(messages(run)).not.toMatch(/timed out|rolling back/);
      expect(target.current().version).toBe(bundleVersionOf({ keepDaily: 21, daemonPart: pidFile }));
      expect(target.read('/etc/acme/worker.conf')).toBe('threads=2\n');
      expect(commandLineOf(Number(pid))).toEqual(['sleep', '600']);
    } finally {
      if (fs.existsSync(pidFile)) signal(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGKILL');
    }
  }, 240_000);

  test('the inputs never land where other users can read them: a leftover at the upload path goes, and the directories are root-only', () => {
    const next = { keepDaily: 35 };
    const incoming = `/var/lib/sovereign/rollout/incoming/${bundleVersionOf(next).slice(7, 23)}`;
    // What an upload whose directory had gone leaves: scp -t wrote the inputs as a file named like the directory, mode 0644.
    fs.mkdirSync(path.dirname(incoming), { recursive: true, mode: 0o755 });
    fs.chmodSync(path.dirname(incoming), 0o755);
    fs.writeFileSync(incoming, '{"/etc/sovereign-backup/secrets/storagebox.restic.b64":"c2VjcmV0Cg==\\n"}', { mode: 0o644 });
    let run: TerraformRun;
    try {
      run = deploy(next).apply();
    } finally {
      if (fs.statSync(incoming, { throwIfNoEntry: false })?.isFile()) fs.rmSync(incoming); // never left for the next run
    }
    expect(run.ok ? '' : messages(run)).toBe('');
    expect(target.read(CONF)).toContain('--keep-daily 35 ');
    expect(fs.existsSync(incoming)).toBe(false);
    for (const dir of ['/var/lib/sovereign/rollout', '/var/lib/sovereign/rollout/incoming']) {
      expect(`${dir} ${(fs.statSync(dir).mode & 0o777).toString(8)}`).toBe(`${dir} 700`);
    }
  }, 240_000);

  // A disk rebuilt from one of Hetzner's backup images, outside Terraform (a corrupt disk, docs/backup.md), holds the
  // bundle of the day the backup was taken, on the same server: same id, so the identity check lets its older jobs run.
  // Terraform's state still said the newest bundle was installed, so no deploy rolled it out again until the bundle
  // changed or someone ran -replace.
  test('a disk rebuilt from an older backup image gets the newest bundle again on the next deploy, and the drift check sees it', () => {
    const backupDay = path.join(dir, 'backup-image');
    fs.cpSync(target.root, backupDay, { recursive: true });
    const older = target.current().version;
    const newest = { keepDaily: 42 };
    const deployed = deploy(newest).apply();
    expect(deployed.ok ? '' : messages(deployed)).toBe('');
    expect(target.current().version).toBe(bundleVersionOf(newest));

    // The rebuild, as Hetzner does it: the backup's files on the disk, the backup image reported as the server's image.
    const [id] = serverIds();
    fs.rmSync(target.root, { recursive: true });
    fs.cpSync(backupDay, target.root, { recursive: true });
    new CloudStore(ws.cloudFile).update((cloud) => { cloud.objects.hcloud_server[id].image = '312345678'; });
    expect(target.current().version).toBe(older);

    // The daily drift check's plan (and the next deploy's) replaces the rollout, and only it.
    const planned = deploy(newest).plan();
    const changed = changesOf(planned).resourceChanges.filter((c) => !c.actions.every((a) => a === 'no-op' || a === 'read'));
    expect(changed.map((c) => [c.type, c.actions])).toEqual([['terraform_data', ['delete', 'create']]]);
    expect([changed[0].before.triggers_replace.image, changed[0].after.triggers_replace.image]).toEqual(['debian-12', '312345678']);
    expect(changed[0].after.triggers_replace.bundle).toBe(bundleVersionOf(newest));

    const run = ws.apply();
    expect(run.ok ? '' : messages(run)).toBe('');
    expect(serverIds()).toEqual([id]);
    expect(target.current().version).toBe(bundleVersionOf(newest));
    expect(target.read(CONF)).toContain('--keep-daily 42 ');
    // Healed: the next plan is empty again.
    const after = changesOf(deploy(newest).plan()).resourceChanges.filter((c) => !c.actions.every((a) => a === 'no-op' || a === 'read'));
    expect(after).toEqual([]);
  }, 240_000);
});

// The test machine's weekly restore drill, deployed with one copy (the Storage Box, through production's read-only
// sub-account), then with production's offsite bucket added as ProductStacks adds it from Phase 2 (`backup.offsite`:
// RestoreDrillProps.additionalSources, a read-only key, the endpoint's port opened and narrowed by the host table).
// The second deploy reaches the running machine through the rollout; what the first drill left there stays; and the
// drill as deployed restores both copies with real restic, from an SFTP server standing in for the Storage Box and
// an S3 server standing in for the bucket, into a real PostgreSQL 15.

/** The offsite endpoint's host: a name (the host table resolves names), reached on the S3 server's own port. */
const OFFSITE_HOST = 'localhost';

function testStack(version: { readonly offsite: boolean }, offsitePort: number): TerraformStack {
  const app = Testing.app();
  const stack = new TerraformStack(app, 'acme-test');
  new HcloudProvider(stack, 'hcloud', {});
  new ObjectStorageBackend(stack, { bucket: 'acme-state' });
  const env = Environment.TEST;
  const machine = new Machine(stack, 'App', {
    environment: env, role: 'app', name: TEST_HOST, serverType: Phase.TWO.machineFor(env).preferred,
    dataClasses: [DataClass.SENSITIVE], ingress: [FirewallRule.httpsFromAnywhere()],
    sshKeys: [new SshKey(stack, 'Admin', { name: 'admin', publicKey: ADMIN_KEY })], adminCidrs: ['203.0.113.0/24'],
  });
  const secretNamed = (name: string) => new SecretVariable(stack, name, { description: `${name} (test)` });
  const fromProduction = (name: string) => new TerraformVariable(stack, name, { type: 'string', nullable: false });
  // As stacks/environment-backups.ts builds the offsite copy of the test stack's drill, with an endpoint on another port than 443.
  const v = OFFSITE_DRILL_VARIABLES;
  const offsite = version.offsite ? BackupTarget.s3Compatible({
    provider: S3Provider.of('UpCloud', 'FI'), port: Port.of(offsitePort),
    endpoint: secretNamed(v.endpoint.test), bucket: secretNamed(v.bucket.test),
    accessKeyId: secretNamed(v.accessKeyId.test), secretAccessKey: secretNamed(v.secretAccessKey.test),
  }) : undefined;
  if (offsite) EgressAllowlist.allowTcpPort(machine, offsitePort, 'offsite S3 endpoint (host allowlist narrows it)');
  new RestoreDrill(stack, 'RestoreDrill', {
    machine,
    source: BackupTarget.storageBox(StorageBoxAccount.fromAttributes({
      host: fromProduction('production_backup_host').stringValue, username: fromProduction('production_backup_username').stringValue,
      location: Location.HEL1, readonly: true, password: secretNamed(DRILL_ACCOUNT_PASSWORD_VARIABLES.test),
    })),
    ...(offsite ? { additionalSources: [offsite] } : {}),
    sourceHost: PROD_HOST,
    resticPassword: secretNamed('restic_password'),
    heartbeat: Heartbeat.healthchecks(secretNamed('restore_drill_heartbeat_url')),
    checks: [RestoreCheck.sql('users-present', { database: 'app', query: 'SELECT count(*) > 0 FROM users' })],
    postgresVersion: PostgresVersion.of(15),
    maxBackupAge: Duration.hours(8),
  });
  // Test's prober runs on its app machine and raises RestoreDrillMissed, which must wait for the longer drill.
  new EnvironmentMonitoring(stack, 'Monitoring', { plan: plan(), phase: Phase.TWO, environment: env, machine });
  EgressAllowlist.apply(machine, { policy: boundary() });
  Aspects.of(stack).add(new BoundaryChecks({ policy: boundary(), rules: RULES }));
  return stack;
}

const BACKUP_ETC = '/etc/sovereign-backup';
const DRILL_CONF = `${BACKUP_ETC}/drill.conf`;
const DRILL_SERVICE = '/etc/systemd/system/restore-drill.service';
const DRILL_TIMER = '/etc/systemd/system/restore-drill.timer';
const EGRESS_HOSTNAMES = '/etc/sovereign/egress-hostnames';
const EGRESS_RULESET = '/etc/nftables.d/sovereign-egress.nft';
/** The TCP ports the host table narrows to the allowlisted hosts. */
const narrowedPorts = (ruleset: string | undefined) => (/tcp dport \{ ([\d, ]+) \} ip daddr \. tcp dport @allowed_v4 accept/.exec(ruleset ?? '')?.[1] ?? '').split(', ').map(Number);
/** When RestoreDrillMissed fires: seconds since the drill's last run ended. */
const drillMissedAfter = (alerts: string | undefined) => Number(/alert: RestoreDrillMissed\n\s+expr: .* > (\d+)\n/.exec(alerts ?? '')?.[1]);

describe("day-2 rollout of a test machine's restore drill: production's offsite copy added (stand-in provider, real sshd on loopback)", () => {
  let target: LoopbackMachine;
  let ws: StandInWorkspace;
  let dir: string;
  let world: BackupWorld;
  /** Production's read-only Storage Box account: password login into a copy of production's repository. */
  let box: SftpServer;
  let secrets: Record<string, string>;
  const login = { user: 'sovereign-day2-drill', password: 'Drill-Password-0001-long-enough' };
  /** What the first weekly drill left on the machine, which no bundle carries: the box's host key, pinned at its first login, and its state. */
  let drillRuntimeState: Record<string, string>;
  let firstDeploy: { files: Record<string, string>; timer: string | undefined };

  const synth = (version: { offsite: boolean }) => JSON.parse(Testing.synth(testStack(version, world.s3!.port), true));
  const deploy = (version: { offsite: boolean }) => {
    ws.setConfiguration(synth(version));
    return ws;
  };
  const conf = () => target.read(DRILL_CONF) ?? '';
  const setting = (name: string) => new RegExp(`^${name}=(.*)$`, 'm').exec(conf())?.[1];
  /** A secret file of the drill, decoded as the drill decodes it. */
  const secretFile = (name: string) => decode(target.read(`${BACKUP_ETC}/secrets/${name}`));
  const s3Env = () => Object.fromEntries((target.read(`${BACKUP_ETC}/secrets/source2.s3.env`) ?? '').split('\n').filter(Boolean)
    .map((line) => [line.slice(0, line.indexOf('=')), decode(line.slice(line.indexOf('=') + 1))]));
  const serverIds = () => Object.keys(ws.cloud().objects.hcloud_server ?? {});

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rollout-drill-e2e-'));
    // PostgreSQL's and the drill account's users reach their directories below it.
    fs.chmodSync(dir, 0o755);
    fs.mkdirSync(path.join(dir, 'world'));
    world = await BackupWorld.start(path.join(dir, 'world'), { offsite: true });
    const s3 = world.s3!;
    // Production's backup, copied to the Storage Box and to the bucket by the plan's own jobs.
    world.pg.sql('postgres', 'CREATE DATABASE app');
    world.pg.sql('app', "CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL); INSERT INTO users SELECT g, 'user ' || g FROM generate_series(1, 500) g");
    for (const job of ['backup-bootstrap', 'backup-dump', 'backup-push']) {
      const run = await world.run(world.production, job);
      if (run.code !== 0) throw new Error(`${job} failed (exit ${run.code}):\n${run.stderr}`);
    }
    // The read-only sub-account sees the same repository (here: a copy its OS user may read).
    const home = path.join(dir, 'drill-account');
    fs.cpSync(path.join(world.sftp.home, 'restic'), path.join(home, 'restic'), { recursive: true });
    box = await SftpServer.start(path.join(dir, 'drill-box'), { passwordLogin: { ...login, home } });
    target = await LoopbackMachine.start(path.join(dir, 'machine'));
    secrets = {
      TF_VAR_production_backup_host: '127.0.0.1',
      TF_VAR_production_backup_username: login.user,
      [`TF_VAR_${DRILL_ACCOUNT_PASSWORD_VARIABLES.test}`]: login.password,
      TF_VAR_restic_password: RESTIC_PASSWORD,
      TF_VAR_restore_drill_heartbeat_url: 'https://hc-ping.com/0f7b2c1e-0000-4000-8000-000000000003',
      TF_VAR_monitoring_webhook_ops: 'https://chat.acme.eu/hooks/test-token-0001',
      TF_VAR_monitoring_deadman_ping_url_test: 'https://hc-ping.com/0f7b2c1e-0000-4000-8000-000000000004',
      TF_VAR_error_monitoring_dsn: 'https://key0002@errors.acme.eu/2',
      // Set from the first deploy on, as a team sets them before the release that adds the copy (Terraform ignores them until then).
      [`TF_VAR_${OFFSITE_DRILL_VARIABLES.endpoint.test}`]: `http://${OFFSITE_HOST}:${s3.port}`,
      [`TF_VAR_${OFFSITE_DRILL_VARIABLES.bucket.test}`]: s3.bucket,
      [`TF_VAR_${OFFSITE_DRILL_VARIABLES.accessKeyId.test}`]: s3.credentials.accessKeyId,
      [`TF_VAR_${OFFSITE_DRILL_VARIABLES.secretAccessKey.test}`]: s3.credentials.secretAccessKey,
    };
    drillRuntimeState = {
      [`${BACKUP_ETC}/ssh/known_hosts.source`]: `sovereign-source ${box.hostKey}\n`,
      '/var/lib/sovereign-backup/drill.lock': '',
    };
    ws = standIn.workspace(testStack({ offsite: false }, s3.port));
    ws.setVariables(secrets).rollOutTo(target.target());
  }, 120_000);

  afterAll(async () => {
    await target?.stop();
    await box?.stop();
    await world?.stop();
    // The drill account's OS user goes with the suite (a locked /etc/passwd leaves it, harmless: no shell, no home).
    spawnSync('userdel', [login.user], { stdio: 'ignore' });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the first deploy installs a drill of one copy, the Storage Box, with its 12-hour timeout', () => {
    const run = deploy({ offsite: false }).apply();
    expect(run.ok ? '' : messages(run)).toBe('');
    expect(setting('DRILL_SOURCES')).toBe("'source'");
    expect(setting('source_LABEL')).toBe("'Storage Box in hel1'");
    expect(setting('source_USER')).toBe(`'${login.user}'`);
    expect(setting('source2_KIND')).toBeUndefined();
    expect(target.read(`${BACKUP_ETC}/secrets/source2.s3.env`)).toBeUndefined();
    expect(target.read(DRILL_SERVICE)).toMatch(/^TimeoutStartSec=12h$/m);
    expect(target.systemctlCalls()).toContain('enable --now restore-drill.timer');
    expect(drillMissedAfter(target.read('/etc/sovereign-monitoring/alerts.yml'))).toBe(Duration.days(7).toSeconds() + Duration.minutes(15).toSeconds() + Duration.hours(12).toSeconds());
    expect((target.read(EGRESS_HOSTNAMES) ?? '').split('\n')).not.toContain(OFFSITE_HOST);
    expect(narrowedPorts(target.read(EGRESS_RULESET))).toEqual(expect.arrayContaining([80, 443]));
    expect(narrowedPorts(target.read(EGRESS_RULESET))).not.toContain(world.s3!.port);
    for (const [file, content] of Object.entries(drillRuntimeState)) {
      fs.mkdirSync(path.dirname(path.join(target.root, file)), { recursive: true });
      fs.writeFileSync(path.join(target.root, file), content, { mode: 0o600 });
    }
    firstDeploy = { files: target.current().files, timer: target.read(DRILL_TIMER) };
  }, 240_000);

  test('day 2: the offsite copy reaches the running machine: both copies named, their secrets owner-only, egress opened, the timeout doubled', () => {
    const s3 = world.s3!;
    const before = serverIds();
    const planned = changesOf(deploy({ offsite: true }).plan());
    const changed = planned.resourceChanges.filter((c) => !c.actions.every((a) => a === 'no-op' || a === 'read'));
    // The server stays; its firewall opens the endpoint's port, and the rollout is replaced.
    expect(changed.filter((c) => c.type === 'hcloud_server')).toEqual([]);
    expect(changed.filter((c) => c.type === 'hcloud_firewall').map((c) => c.actions)).toEqual([['update']]);
    const rollout = changed.find((c) => c.type === 'terraform_data' && c.before?.triggers_replace?.bundle);
    expect(rollout?.actions).toEqual(['delete', 'create']);
    target.clearSystemctl();
    const run = ws.apply();
    expect(run.ok ? '' : messages(run)).toBe('');
    expect(serverIds()).toEqual(before);

    // Both copies, in order, each with its label: the Storage Box keeps the name `source` (its pinned host key with it).
    expect(setting('DRILL_SOURCES')).toBe("'source source2'");
    expect(setting('source_LABEL')).toBe("'Storage Box in hel1'");
    expect(setting('source_KIND')).toBe("'sftp'");
    expect(setting('source_HOST')).toBe("'127.0.0.1'");
    expect(setting('source2_LABEL')).toBe("'S3 bucket at UpCloud (FI)'");
    expect(setting('source2_KIND')).toBe("'s3'");
    expect(setting('source2_REPO_PATH')).toBe(`'${PROD_HOST}'`);
    expect(target.mode(DRILL_CONF)).toBe('0600');
    // Nothing of the bucket is configuration: its details are in the copy's secret file only.
    expect(conf()).not.toContain(s3.bucket);
    expect(conf()).not.toContain(String(s3.port));

    // Each copy's secrets, owner-only, decoded as the drill decodes them.
    const files = ['drill-heartbeat.b64', 'source.restic.b64', 'source.password.b64', 'source2.restic.b64', 'source2.s3.env'];
    expect(files.map((f) => `${f} ${target.mode(`${BACKUP_ETC}/secrets/${f}`)}`)).toEqual(files.map((f) => `${f} 0600`));
    expect(secretFile('source.restic.b64')).toBe(RESTIC_PASSWORD);
    expect(secretFile('source2.restic.b64')).toBe(RESTIC_PASSWORD);
    expect(secretFile('source.password.b64')).toBe(login.password);
    expect(s3Env()).toEqual({
      ENDPOINT_B64: `http://${OFFSITE_HOST}:${s3.port}`, BUCKET_B64: s3.bucket,
      ACCESS_KEY_ID_B64: s3.credentials.accessKeyId, SECRET_ACCESS_KEY_B64: s3.credentials.secretAccessKey,
    });
    // No file on the machine holding the bucket's key is open to other users, and the key reached no Terraform output.
    const key = { accessKeyId: s3.credentials.accessKeyId, secretAccessKey: s3.credentials.secretAccessKey };
    const holders = filesUnder(target.root).filter((f) => leakedSecrets(fs.readFileSync(f, 'latin1'), key).length > 0)
      .map((f) => `${f.slice(target.root.length)} ${(fs.statSync(f).mode & 0o777).toString(8)}`);
    expect(holders).toEqual([`${BACKUP_ETC}/secrets/source2.s3.env 600`]);
    expect(leakedSecrets(run.stdout + run.stderr, key)).toEqual([]);

    // Egress: the host table allows the endpoint's host and narrows its port, and is reloaded; the firewall opens the port.
    expect((target.read(EGRESS_HOSTNAMES) ?? '').split('\n')).toContain(OFFSITE_HOST);
    expect(narrowedPorts(target.read(EGRESS_RULESET))).toContain(s3.port);
    expect(target.systemctlCalls()).toContain('reload-or-restart sovereign-egress.service');
    const firewalls = Object.values<any>(ws.cloud().objects.hcloud_firewall ?? {});
    expect(JSON.stringify(firewalls)).toContain(`"${s3.port}"`);

    // The units: 12 hours per copy, reloaded, the timer enabled again and otherwise as it was.
    expect(target.read(DRILL_SERVICE)).toMatch(/^TimeoutStartSec=24h$/m);
    expect(target.read(DRILL_SERVICE)).not.toMatch(/^TimeoutStartSec=12h$/m);
    expect(target.read(DRILL_TIMER)).toBe(firstDeploy.timer);
    expect(target.systemctlCalls()).toEqual(expect.arrayContaining(['daemon-reload', 'enable --now restore-drill.timer']));
    // The prober on this machine waits as long before it calls the drill missed, and runs with the new rule.
    expect(drillMissedAfter(target.read('/etc/sovereign-monitoring/alerts.yml'))).toBe(Duration.days(7).toSeconds() + Duration.minutes(15).toSeconds() + Duration.hours(24).toSeconds());
    expect(target.systemctlCalls()).toContain('restart prometheus prometheus-alertmanager prometheus-blackbox-exporter');

    // Nothing of the first drill is lost: its files the bundle still carries are untouched, and what it left stays.
    const now = target.current().files;
    const kept = Object.keys(firstDeploy.files).filter((f) => f.startsWith(`${BACKUP_ETC}/`) && f !== DRILL_CONF);
    expect(kept.filter((f) => now[f] !== firstDeploy.files[f])).toEqual([]);
    expect(kept.length).toBeGreaterThanOrEqual(4);
    for (const [file, content] of Object.entries(drillRuntimeState)) expect(`${file}: ${target.read(file)}`).toBe(`${file}: ${content}`);
  }, 240_000);

  test('a third deploy with nothing changed plans no change at all, and the machine keeps the second deploy', () => {
    const running = target.current();
    const planned = deploy({ offsite: true }).plan();
    expect(changesOf(planned).resourceChanges.filter((c) => !c.actions.every((a) => a === 'no-op' || a === 'read'))
      .map((c) => `${c.address} ${c.actions.join('/')}`)).toEqual([]);
    expect(target.current()).toEqual(running);
  }, 120_000);

  test('the drill as deployed restores both copies, each into its own scratch databases, and reports once', async () => {
    const s3 = world.s3!;
    // The deployed configuration and secrets, with what only a test changes: the box's port (23 on a Storage Box),
    // this PostgreSQL, directories of the test's own, and the heartbeat (https:// at plan, the receiver here is http).
    const etc = world.variant(path.join(target.root, BACKUP_ETC), 'drill.conf', {
      source_PORT: box.port, PG_HOST: world.pg.dir, PG_PORT: world.pg.port, DRILL_KEEP_DATABASES: 1,
      BACKUP_STATE: path.join(dir, 'drill-state'), DRILL_WORK: path.join(dir, 'drill-work'),
    }, { 'secrets/drill-heartbeat.b64': b64(world.receiver.url) });
    const production = fingerprint(world.pg, 'app');
    const served = s3.requests.length;
    const drill = await runScript(path.join(target.root, 'usr/local/sbin/restore-drill'), world.receiver, { TMPDIR: world.tmp, SOVEREIGN_BACKUP_ETC: etc });
    expectSuccess(drill, TEST_HOST, 'restore-drill');
    const summary = drill.pings[1].body;
    expect(summary).toMatch(new RegExp(`^every copy of ${PROD_HOST}'s newest backup restored: `
      + `source \\(Storage Box in hel1\\): restored snapshot \\w{8} of ${PROD_HOST} .*; source2 \\(S3 bucket at UpCloud \\(FI\\)\\): restored snapshot \\w{8} of ${PROD_HOST} `));
    const kept = [...summary.matchAll(/kept until the next drill as ([\w ]+)/g)].map((m) => scratchDatabases(m[0]));
    expect(kept).toHaveLength(2);
    for (const scratch of kept) expect(fingerprint(world.pg, scratch.app)).toBe(production);
    for (const db of kept.flatMap((k) => Object.values(k))) world.pg.sql('postgres', `DROP DATABASE ${db}`);
    // The bucket was read over S3 with the deployed key, and the box through the host key the first drill pinned.
    expect(s3.since(served).some((r) => r.method === 'GET' && r.url.includes(`/${PROD_HOST}/data/`) && r.range !== undefined && r.status === 206)).toBe(true);
    expect(fs.readFileSync(path.join(etc, 'ssh/known_hosts.source'), 'utf8')).toBe(`sovereign-source ${box.hostKey}\n`);
  }, 240_000);
});
