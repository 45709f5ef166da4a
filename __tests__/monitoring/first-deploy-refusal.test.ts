import { spawnSync } from 'child_process';
import { Testing } from 'cdktf';
import { FreshMachine } from './helpers/fresh-machine';
import { productFixture } from './helpers/fixture';
import { FAKE_SECRETS } from './helpers/machine-root';
import { describeWithRealParts, MACHINE_PYTHON } from '../setup/real-parts';

// The day-2 path of a first deployment whose monitoring setup refuses a secret: production's bundle
// as the library synthesizes it, delivered as the rollout's provisioners deliver it (the compressed
// bundle and the inputs Terraform renders) to a fresh machine (a directory, SOVEREIGN_ROOT; systemctl
// records its calls), and the real rollout agent run on it. The refusal must fail the deploy loudly
// (a non-zero exit fails `terraform apply`), say where, why and how to fix it without printing the
// secret, and leave no half-configured prober behind; the corrected deploy then goes through.

const python = spawnSync(MACHINE_PYTHON, ['--version']).status === 0;
const describeWithPython = describeWithRealParts(python, 'the first-deploy refusal suite', 'python3');

const SERVER = 'acme-production-app';
/** The check's key: the part of the ping URL that must never be printed. */
const PING_KEY = '5f0c3b1e-0000-4000-8000-00000000f1a9';

describeWithPython("a first deployment whose monitoring setup refuses a secret", () => {
  // Production without its backups: their jobs are another suite's; the monitoring's parts are all here.
  const { production } = productFixture({ backups: false });
  const json = JSON.parse(Testing.synth(production.stack));
  const machines: FreshMachine[] = [];
  const fresh = () => {
    const m = new FreshMachine();
    machines.push(m);
    return m;
  };
  afterAll(() => machines.forEach((m) => m.remove()));

  const refusals: Array<[string, Record<string, string>, RegExp]> = [
    ["a ping URL on another host than the dead-man's switch", { monitoring_deadman_ping_url_production: `https://hc-ping.example.org/${PING_KEY}` },
      /sovereign-monitoring-setup: the URL in monitoring_deadman_ping_url_production points to 'hc-ping\.example\.org', not to the declared host hc-ping\.com/],
    ['an empty ping URL (the variable set to "")', { monitoring_deadman_ping_url_production: '' },
      /sovereign-monitoring-setup: the secret monitoring_deadman_ping_url_production is empty: set its Terraform variable/],
  ];

  test.each(refusals)('%s fails the deploy with the step, the cause and the fix, and leaves no prober behind', (_, bad, cause) => {
    const machine = fresh();
    const run = machine.deploy(json, { ...FAKE_SECRETS, ...bad });
    // A non-zero exit of the last provisioner fails `terraform apply`: the release path stops here.
    expect(run.status).toBe(1);
    expect(run.output).toMatch(/sovereign-rollout: FAILED to activate "sovereign-monitoring prober": \/usr\/local\/sbin\/sovereign-monitoring-setup alertmanager exited 1:/);
    expect(run.output).toMatch(cause);
    expect(run.output).toMatch(/sovereign-rollout: the machine keeps running its previous files \(no bundle yet\)\./);
    expect(run.output).toMatch(/sovereign-rollout: Fix: fix the cause shown above and deploy again/);
    expect(run.output).not.toContain(PING_KEY);
    expect(run.output).not.toContain('not-a-real-token');
    // Nothing of the refused version stays: no Alertmanager configuration, no drop-ins, no record of a bundle.
    for (const file of ['/etc/sovereign-monitoring/alertmanager.yml', '/etc/sovereign-monitoring/alertmanager.yml.in',
      '/etc/sovereign-monitoring/secrets/monitoring_deadman_ping_url_production.b64', '/etc/sovereign-monitoring/secrets/monitoring_webhook_ops.b64',
      '/etc/systemd/system/prometheus-alertmanager.service.d/sovereign-monitoring.conf', '/var/lib/sovereign/rollout/current.json']) {
      expect([file, machine.exists(file)]).toEqual([file, false]);
    }
    // The daemons were never restarted with a configuration the setup did not write.
    expect(machine.systemctl().join('\n')).not.toMatch(/restart .*prometheus-alertmanager/);
    expect(machine.read('/var/lib/prometheus/node-exporter/sovereign_rollout.prom')).toMatch(/sovereign_rollout_success 0/);
  });

  test('the corrected secret deploys: the prober is configured and started, the check is pinged by the URL given', () => {
    const machine = fresh();
    expect(machine.deploy(json, { ...FAKE_SECRETS, monitoring_deadman_ping_url_production: `https://hc-ping.example.org/${PING_KEY}` }).status).toBe(1);
    const fixed = machine.deploy(json, { ...FAKE_SECRETS, monitoring_deadman_ping_url_production: `https://hc-ping.com/${PING_KEY}` });
    expect(fixed.output).toMatch(new RegExp(`${SERVER} now runs bundle sha256:[0-9a-f]{12}`));
    expect(fixed.status).toBe(0);
    expect(JSON.parse(machine.read('/etc/sovereign-monitoring/secrets/webhook-urls.json')!).monitoring_deadman_ping_url_production).toBe(`https://hc-ping.com/${PING_KEY}`);
    expect(machine.systemctl().join('\n')).toMatch(/^restart prometheus prometheus-alertmanager prometheus-blackbox-exporter$/m);
    expect(fixed.output).not.toContain(PING_KEY);
  });
});
