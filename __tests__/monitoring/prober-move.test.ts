import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Testing } from 'cdktf';
import { Phase } from '../../lib';
import { productFixture } from './helpers/fixture';
import { FreshMachine } from './helpers/fresh-machine';
import { FAKE_SECRETS } from './helpers/machine-root';
import { describeWithRealParts, isRoot, MACHINE_PYTHON, testWithRealParts } from '../setup/real-parts';

// Phase 2 -> Phase 3 on production's app machine: the monitoring machine takes over the probing, and the app
// machine, which probed until then, must stop doing so. Production's bundles as the library synthesizes them, for
// both phases, delivered in turn to one machine (a directory; systemctl records its calls) with the real agent.

const python = spawnSync(MACHINE_PYTHON, ['--version']).status === 0;
const describeWithPython = describeWithRealParts(python, 'the prober move suite', 'python3');

const PROBER_UNITS = ['prometheus', 'prometheus-alertmanager', 'prometheus-blackbox-exporter'];
const DERIVED = ['/etc/sovereign-monitoring/alertmanager.yml', '/etc/sovereign-monitoring/secrets/webhook-urls.json', '/etc/sovereign-monitoring/secrets/web_password',
  '/etc/sovereign-monitoring/web/web.yml'];

describeWithPython('the prober moving to the monitoring machine (Phase 2 -> 3)', () => {
  const synth = (phase: Phase) => JSON.parse(Testing.synth(productFixture({ phase, backups: false }).production.stack));
  const machine = new FreshMachine();
  afterAll(() => machine.remove());

  test('the app machine probes in Phase 2: its daemons configured, the alert secrets turned into files', () => {
    // The Debian packages the prober's part installs.
    for (const unit of PROBER_UNITS) {
      fs.mkdirSync(path.join(machine.root, 'lib/systemd/system'), { recursive: true });
      fs.writeFileSync(path.join(machine.root, `lib/systemd/system/${unit}.service`), `[Service]\nExecStart=/usr/bin/${unit}\n`);
    }
    const run = machine.deploy(synth(Phase.TWO), FAKE_SECRETS);
    expect(run.output).toMatch(/now runs bundle/);
    expect(run.status).toBe(0);
    for (const file of DERIVED) expect([file, machine.exists(file)]).toEqual([file, true]);
  });

  test('Phase 3 stops and disables them on the app machine and removes the files made from the secrets', () => {
    const run = machine.deploy(synth(Phase.THREE), FAKE_SECRETS);
    expect(run.output).toMatch(/now runs bundle/);
    expect(run.status).toBe(0);
    const calls = machine.systemctl();
    for (const unit of PROBER_UNITS) expect(calls).toContain(`disable --now ${unit}.service`);
    // The bundle's own units of the prober go with its part: the watch, and the relay that forwarded to the URLs.
    for (const unit of ['sovereign-prometheus-watch', 'sovereign-alert-relay']) expect(calls.join('\n')).toMatch(new RegExp(`disable --now .*${unit}\\.service`));
    for (const file of DERIVED) expect([file, machine.exists(file)]).toEqual([file, false]);
    // The app machine is still watched: its node exporter stays.
    expect(calls.join('\n')).not.toMatch(/disable .*prometheus-node-exporter/);
    expect(machine.exists('/etc/systemd/system/prometheus-node-exporter.service.d/sovereign-monitoring.conf')).toBe(true);
  });

  // Review (small): the app machine kept Alertmanager's login-less user, whose declaration the rollout removed with the
  // prober's part. The user goes (with its group), its data directory back to prometheus. userdel works on the machine
  // root's own account files (--root): the host's accounts, this suite's sovereign-alertmanager included, stay.
  const prometheusIds = () => spawnSync('id', ['-u', 'prometheus'], { encoding: 'utf8' }).stdout.trim() + ':' + spawnSync('id', ['-g', 'prometheus'], { encoding: 'utf8' }).stdout.trim();
  const hasPrometheus = spawnSync('id', ['prometheus']).status === 0;
  const userGoes = "Phase 3 removes Alertmanager's user and group from the app machine once Alertmanager is stopped, and hands its data directory back to prometheus";
  testWithRealParts(isRoot && hasPrometheus, userGoes, 'root (userdel --root) and the prometheus user')(userGoes, () => {
    const app = new FreshMachine();
    try {
      for (const unit of PROBER_UNITS) {
        fs.mkdirSync(path.join(app.root, 'lib/systemd/system'), { recursive: true });
        fs.writeFileSync(path.join(app.root, `lib/systemd/system/${unit}.service`), `[Service]\nExecStart=/usr/bin/${unit}\n`);
      }
      expect(app.deploy(synth(Phase.TWO), FAKE_SECRETS).status).toBe(0);
      // The accounts as systemd-sysusers left them on the machine (Debian's login.defs: a user's own group goes with it).
      const etc = path.join(app.root, 'etc');
      const account = (file: string, lines: string[], mode = 0o644) => fs.writeFileSync(path.join(etc, file), lines.join('\n') + '\n', { mode });
      account('passwd', ['root:x:0:0:root:/root:/bin/bash', 'sovereign-alertmanager:x:990:990:Alertmanager (sovereign-monitoring):/nonexistent:/usr/sbin/nologin']);
      account('group', ['root:x:0:', 'sovereign-alertmanager:x:990:']);
      account('shadow', ['root:*:19000:0:99999:7:::', 'sovereign-alertmanager:!*:19000::::::'], 0o640);
      account('gshadow', ['root:*::', 'sovereign-alertmanager:!*::'], 0o640);
      account('login.defs', ['USERGROUPS_ENAB yes']);
      const data = path.join(app.root, 'var/lib/prometheus/alertmanager');
      fs.mkdirSync(data, { recursive: true });
      fs.writeFileSync(path.join(data, 'silences'), '');
      for (const file of [data, path.join(data, 'silences')]) fs.chownSync(file, 990, 990);
      const hostAccount = spawnSync('getent', ['passwd', 'sovereign-alertmanager'], { encoding: 'utf8' }).stdout;

      const run = app.deploy(synth(Phase.THREE), FAKE_SECRETS);
      expect(run.status).toBe(0);
      expect(app.systemctl()).toContain('disable --now prometheus-alertmanager.service');
      expect(app.read('/etc/passwd')).toBe('root:x:0:0:root:/root:/bin/bash\n');
      expect(app.read('/etc/group')).toBe('root:x:0:\n');
      expect(app.read('/etc/shadow')).not.toContain('sovereign-alertmanager');
      // Its declaration and the unit that applied it went with the prober's part: nothing makes the user again.
      expect(app.exists('/etc/sysusers.d/sovereign-alertmanager.conf')).toBe(false);
      expect(app.exists('/etc/systemd/system/sovereign-alertmanager-user.service')).toBe(false);
      for (const file of [data, path.join(data, 'silences')]) expect(`${fs.statSync(file).uid}:${fs.statSync(file).gid}`).toBe(prometheusIds());
      expect(spawnSync('getent', ['passwd', 'sovereign-alertmanager'], { encoding: 'utf8' }).stdout).toBe(hostAccount);
    } finally {
      app.remove();
    }
  });

  test('a machine that never probed has nothing to retire: the step passes and calls nothing', () => {
    const fresh = new FreshMachine();
    try {
      const run = fresh.deploy(synth(Phase.THREE), FAKE_SECRETS);
      expect(run.status).toBe(0);
      expect(fresh.systemctl().join('\n')).not.toMatch(/disable --now prometheus/);
    } finally {
      fresh.remove();
    }
  });
});
