import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Testing } from 'cdktf';
import { Phase } from '../../lib';
import { productFixture } from './helpers/fixture';
import { FreshMachine } from './helpers/fresh-machine';
import { FAKE_SECRETS } from './helpers/machine-root';
import { describeWithRealParts, MACHINE_PYTHON } from '../setup/real-parts';

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
