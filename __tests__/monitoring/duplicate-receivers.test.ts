import { Testing } from 'cdktf';
import { Environment } from '../../lib';
import { AlertReceiver } from '../../lib/monitoring/alert-receiver';
import { UptimeCheck } from '../../lib/monitoring/uptime-check';
import { refusal } from '../boundary/refusal';
import { filesByPath } from '../backup/helpers/machine-root';
import { oncall, ops, plan, productFixture, userDataOf } from './helpers/fixture';

// Audit (limits): alert receivers given twice. Alertmanager's receiver of a list has one config per entry, so a
// receiver listed twice got every alert twice; and a second receiver of the same name (another address, another port)
// took the first one's place in the Alertmanager configuration, so the first never got an alert at all.

const production = (notify: AlertReceiver[]) => UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu/health', { notify });
const testSite = UptimeCheck.http(Environment.TEST, 'https://test.acme.eu/health');

/** The Alertmanager configuration template the test machine (production's prober in Phase 1) receives. */
function alertmanagerOfTestMachine(receivers: AlertReceiver[], checks: UptimeCheck[]): string {
  const { test: stack } = productFixture({ backups: false, plan: plan({ receivers, uptimeChecks: checks }) });
  return filesByPath(userDataOf(JSON.parse(Testing.synth(stack.stack)), 'acme-test-app'))['/etc/sovereign-monitoring/alertmanager.yml.in'];
}

describe('a receiver listed twice', () => {
  test("in the plan's receivers is refused, naming the second entry and the fix", () => {
    expect(refusal(() => plan({ receivers: [ops, oncall, ops] }))).toBe(
      "MonitoringPlan.receivers[2]: 'ops (webhook to chat.acme.eu)' is not allowed: the receiver is already listed (as receivers[0]), "
      + 'and Alertmanager would send it every alert twice. Fix: list each receiver once');
  });

  test('built twice with the same settings is the same receiver, listed twice', () => {
    const again = AlertReceiver.webhook('ops', { hostname: 'chat.acme.eu' });
    expect(refusal(() => plan({ receivers: [ops, again] }))).toMatch(/^MonitoringPlan\.receivers\[1\]: 'ops \(webhook to chat\.acme\.eu\)' is not allowed: the receiver is already listed/);
  });

  test("in an uptime check's notify is refused, naming the check, the entry and the fix", () => {
    expect(refusal(() => production([oncall, oncall]))).toBe(
      "UptimeCheck(https://acme.eu/health).notify[1]: 'oncall (e-mail to oncall@acme.eu)' is not allowed: the receiver is already listed (as notify[0]), "
      + 'and Alertmanager would send it every alert of the check twice. Fix: list each receiver once');
  });

  test("an address listed twice in an e-mail receiver's to is refused", () => {
    expect(refusal(() => AlertReceiver.email('oncall', { to: ['oncall@acme.eu', 'ops@acme.eu', 'oncall@acme.eu'], from: 'alerts@acme.eu', smarthost: 'smtp.mail.eu:587', username: 'alerts@acme.eu' })))
      .toBe('AlertReceiver(oncall).to[2]: "oncall@acme.eu" is not allowed: the address is already listed (as to[0]), so it would get every alert twice. Fix: list each address once');
  });

  test('one receiver in the plan and in a check (the same one, in two lists) passes, and gets each alert once', () => {
    const config = alertmanagerOfTestMachine([ops], [production([ops, oncall]), testSite]);
    const relay = 'url: "http://127.0.0.1:9095/monitoring_webhook_ops"';
    expect(config.split(relay)).toHaveLength(3); // the plan's group "ops" and the check's group "oncall+ops", once in each
    expect(config).toMatch(/- name: "ops"\n {4}webhook_configs:\n {6}- url: "http:\/\/127\.0\.0\.1:9095\/monitoring_webhook_ops"\n {8}send_resolved: true\n(?: {8}.*\n)+ {2}- name: "oncall\+ops"/);
  });
});

describe('two different receivers of one name', () => {
  const otherOncall = AlertReceiver.email('oncall', { to: ['someone-else@acme.eu'], from: 'alerts@acme.eu', smarthost: 'smtp.mail.eu:587', username: 'alerts@acme.eu' });

  test("are refused, also when only the addresses differ (before: the check's took the plan's place, and oncall@acme.eu got no alert)", () => {
    expect(refusal(() => plan({ receivers: [oncall], uptimeChecks: [production([otherOncall]), testSite] })))
      .toBe("MonitoringPlan.receivers: 'oncall' is not allowed: two different receivers share a name, and the name picks the secret variable and the Alertmanager receiver, "
        + 'so the alerts of one would go to the other. Fix: give each receiver its own name');
  });

  test('are refused when only the port differs', () => {
    const otherPort = AlertReceiver.webhook('ops', { hostname: 'chat.acme.eu', port: 8443 });
    expect(refusal(() => plan({ receivers: [ops], uptimeChecks: [production([otherPort]), testSite] }))).toMatch(/^MonitoringPlan\.receivers: 'ops' is not allowed: two different receivers share a name/);
  });

  // The addresses are a set to Alertmanager: built in another order, the same receiver was refused as a different one.
  test('built again with the same addresses in another order, it is the same receiver, and each address gets the alerts', () => {
    const both = (to: string[]) => AlertReceiver.email('oncall', { to, from: 'alerts@acme.eu', smarthost: 'smtp.mail.eu:587', username: 'alerts@acme.eu' });
    const config = alertmanagerOfTestMachine([both(['oncall@acme.eu', 'ops@acme.eu'])], [production([both(['ops@acme.eu', 'oncall@acme.eu'])]), testSite]);
    expect(config).toMatch(/to: "(oncall@acme\.eu, ops@acme\.eu|ops@acme\.eu, oncall@acme\.eu)"/);
  });

  test('with their own names, both get their alerts', () => {
    const someoneElse = AlertReceiver.email('someone_else', { to: ['someone-else@acme.eu'], from: 'alerts@acme.eu', smarthost: 'smtp.mail.eu:587', username: 'alerts@acme.eu' });
    const config = alertmanagerOfTestMachine([oncall], [production([someoneElse]), testSite]);
    expect(config).toContain('to: "oncall@acme.eu"');
    expect(config).toContain('to: "someone-else@acme.eu"');
  });
});
