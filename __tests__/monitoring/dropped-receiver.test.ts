import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Testing } from 'cdktf';
import { AlertReceiver, Phase } from '../../lib';
import { oncall, ops, plan, productFixture } from './helpers/fixture';
import { FreshMachine } from './helpers/fresh-machine';
import { FAKE_SECRETS } from './helpers/machine-root';
import { describeWithRealParts, isRoot, MACHINE_PYTHON } from '../setup/real-parts';

// A team drops an e-mail receiver and deploys again (day 2). The setup had turned its SMTP password into a file readable
// by Alertmanager's group; the rollout removes the .b64 cloud-init wrote (a bundle file), but the derived file stayed.
// Production's app machine in Phase 2 (the prober), its bundles as the library synthesizes them, with the real agent.

const python = spawnSync(MACHINE_PYTHON, ['--version']).status === 0;
const sysusers = spawnSync('systemd-sysusers', ['--version']).status === 0;
// As root the setup makes Alertmanager's user with systemd-sysusers and gives the password files its group.
const describeDeploys = describeWithRealParts(python && isRoot && sysusers, 'the dropped receiver suite', 'root, python3 and systemd-sysusers');

const SECRETS = '/etc/sovereign-monitoring/secrets';
const pager = AlertReceiver.email('pager', { to: ['pager@acme.eu'], from: 'alerts@acme.eu', smarthost: 'smtp.mail.eu:587', username: 'pager@acme.eu' });

describeDeploys("a receiver dropped from the plan: its password file goes at the next deploy", () => {
  const machine = new FreshMachine();
  afterAll(() => machine.remove());
  const secrets = { ...FAKE_SECRETS, monitoring_smtp_password_pager: 'the pager relay password' };
  /** Production in Phase 2 with the plan's receivers (production's prober alerts them of its own machine). */
  const synth = (receivers: AlertReceiver[]) => JSON.parse(Testing.synth(productFixture({ phase: Phase.TWO, backups: false, plan: plan({ receivers }) }).production.stack));
  const file = (name: string) => path.join(machine.root, SECRETS, name);
  /** The machine's own setup, as the rollout runs it for the prober's part. */
  const setupAlertmanager = () => {
    const run = spawnSync(MACHINE_PYTHON, [path.join(machine.root, 'usr/local/sbin/sovereign-monitoring-setup'), 'alertmanager'],
      { env: { ...process.env, SOVEREIGN_ROOT: machine.root, PATH: `${machine.dir}/bin:${process.env.PATH}` }, encoding: 'utf8' });
    return { status: run.status, output: `${run.stdout}${run.stderr}` };
  };
  const listing = () => fs.readdirSync(path.join(machine.root, SECRETS)).sort();
  /** The host's gid of Alertmanager's group: the setup gives the password files the group the host's NSS names. */
  const alertmanagerGid = () => Number(spawnSync('getent', ['group', 'sovereign-alertmanager'], { encoding: 'utf8' }).stdout.split(':')[2]);

  test('the first deploy turns both receivers\' passwords into files of Alertmanager\'s group', () => {
    const run = machine.deploy(synth([ops, oncall]), secrets);
    expect([run.status, run.output]).toEqual([0, expect.stringMatching(/now runs bundle/)]);
    expect(fs.readFileSync(file('monitoring_smtp_password_oncall'), 'utf8')).toBe(FAKE_SECRETS.monitoring_smtp_password_oncall);
    const st = fs.statSync(file('monitoring_smtp_password_oncall'));
    expect([st.mode & 0o777, st.uid, st.gid]).toEqual([0o640, 0, alertmanagerGid()]);
  });

  test('the deploy without it removes its password file (the .b64 with the bundle) and keeps the configured one\'s', () => {
    // A file beside it that the setup did not make (its name is no receiver's file) is not the setup's to remove.
    fs.writeFileSync(file('monitoring_smtp_password_oncall.old'), 'kept by hand', { mode: 0o600 });
    const run = machine.deploy(synth([ops, pager]), secrets);
    expect([run.status, run.output]).toEqual([0, expect.stringMatching(/now runs bundle/)]);
    // The operator reads in the deploy's log what it removed, and no password.
    expect(run.output.split('\n').filter((line) => / removed /.test(line))).toEqual([
      'sovereign-rollout: activate "sovereign-monitoring prober": sovereign-monitoring-setup: removed /etc/sovereign-monitoring/secrets/monitoring_smtp_password_oncall (its receiver is no longer configured)',
    ]);
    for (const password of [FAKE_SECRETS.monitoring_smtp_password_oncall, secrets.monitoring_smtp_password_pager]) expect(run.output).not.toContain(password);
    expect(fs.existsSync(file('monitoring_smtp_password_oncall'))).toBe(false);
    expect(fs.existsSync(file('monitoring_smtp_password_oncall.b64'))).toBe(false);
    expect(fs.readFileSync(file('monitoring_smtp_password_pager'), 'utf8')).toBe('the pager relay password');
    expect(fs.readFileSync(file('monitoring_smtp_password_oncall.old'), 'utf8')).toBe('kept by hand');
    expect(machine.read('/etc/sovereign-monitoring/alertmanager.yml')).not.toContain('monitoring_smtp_password_oncall');
  });

  test('the setup says which file it removed and why, and nothing else', () => {
    // The file as the first deploy left it, its receiver still dropped: the setup's own run, as the rollout's.
    fs.writeFileSync(file('monitoring_smtp_password_oncall'), FAKE_SECRETS.monitoring_smtp_password_oncall, { mode: 0o640 });
    fs.chownSync(file('monitoring_smtp_password_oncall'), 0, alertmanagerGid());
    expect(setupAlertmanager()).toEqual({ status: 0,
      output: 'sovereign-monitoring-setup: removed /etc/sovereign-monitoring/secrets/monitoring_smtp_password_oncall (its receiver is no longer configured)\n' });
    expect(fs.existsSync(file('monitoring_smtp_password_oncall'))).toBe(false);
  });

  test('a second run finds nothing to remove', () => {
    const before = listing();
    expect(setupAlertmanager()).toEqual({ status: 0, output: '' });
    expect(listing()).toEqual(before);
  });

  test('a symlink where the file was is not followed: what it points to stays as it was', () => {
    const target = path.join(machine.dir, 'elsewhere');
    fs.writeFileSync(target, 'not the setup\'s', { mode: 0o640 });
    fs.symlinkSync(target, file('monitoring_smtp_password_oncall'));
    expect(setupAlertmanager()).toEqual({ status: 0, output: '' });
    expect(fs.readFileSync(target, 'utf8')).toBe('not the setup\'s');
    expect(fs.lstatSync(file('monitoring_smtp_password_oncall')).isSymbolicLink()).toBe(true);
  });

  test('an e-mail receiver turned into a webhook of the same name loses its password file; its URL goes to the relay', () => {
    const hook = AlertReceiver.webhook('pager', { hostname: 'hooks.acme.eu' });
    const run = machine.deploy(synth([ops, hook]), { ...FAKE_SECRETS, monitoring_webhook_pager: 'https://hooks.acme.eu/alerts?token=not-a-real-token' });
    expect([run.status, run.output]).toEqual([0, expect.stringMatching(/now runs bundle/)]);
    expect(fs.existsSync(file('monitoring_smtp_password_pager'))).toBe(false);
    expect(Object.keys(JSON.parse(fs.readFileSync(file('webhook-urls.json'), 'utf8')))).toContain('monitoring_webhook_pager');
    expect(machine.read('/etc/sovereign-monitoring/alertmanager.yml')).not.toContain('monitoring_smtp_password_pager');
  });
});
