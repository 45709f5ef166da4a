import { Port } from '../../lib';
import { AlertReceiver } from '../../lib/monitoring/alert-receiver';
import { DeadMansSwitch } from '../../lib/monitoring/dead-mans-switch';
import { MESSAGE, refusal } from '../boundary/refusal';
import { plan, productFixture, synth } from './helpers/fixture';

// AlertReceiver.port and DeadMansSwitch.port were bare numbers where UptimeCheck.port and every construct's prop are a
// Port: a typed caller could not ask them Port's questions, and their props refused Port.of(8443) as "not a number".

describe('the ports of alert receivers and dead-man\'s switches are Ports', () => {
  test('a typed reader gets a Port; portNumber (deprecated) is the number', () => {
    const cases: Array<[{ port: Port; portNumber: number }, number]> = [
      [AlertReceiver.webhook('ops', { hostname: 'chat.acme.eu' }), 443],
      [AlertReceiver.webhook('ops', { hostname: 'chat.acme.eu', port: 8443 }), 8443],
      [AlertReceiver.webhook('ops', { hostname: 'chat.acme.eu', port: Port.of(8443) }), 8443],
      [AlertReceiver.email('mail', { to: ['ops@acme.eu'], from: 'alerts@acme.eu', smarthost: 'smtp.acme.eu:587', username: 'alerts' }), 587],
      [DeadMansSwitch.healthchecksIo(), 443],
      [DeadMansSwitch.selfHosted({ hostname: 'ping.acme.eu', port: 8443 }), 8443],
      [DeadMansSwitch.selfHosted({ hostname: 'ping.acme.eu', port: Port.of(8443) }), 8443],
    ];
    for (const [value, port] of cases) {
      expect(value.port).toBeInstanceOf(Port);
      expect(value.port.isSingle).toBe(true);
      expect(value.port.from).toBe(port);
      expect(`${value.port}`).toBe(String(port));
      expect(value.portNumber).toBe(port);
    }
  });

  test('from plain JavaScript, the number accessor still reads the number', () => {
    // What a JavaScript caller of 0.1 writes: no types, the number read and compared as a number.
    const js = new Function('receiver', 'deadman', 'return [receiver.portNumber === 8443, deadman.portNumber + 1, receiver.port.from, String(deadman.port)]') as
      (receiver: unknown, deadman: unknown) => unknown[];
    expect(js(AlertReceiver.webhook('ops', { hostname: 'chat.acme.eu', port: 8443 }), DeadMansSwitch.selfHosted({ hostname: 'ping.acme.eu', port: 8443 })))
      .toEqual([true, 8444, 8443, '8443']);
  });

  test('a range, text or a port out of range is refused with the path, the value and the fix', () => {
    expect(refusal(() => AlertReceiver.webhook('ops', { hostname: 'chat.acme.eu', port: Port.range(8443, 8445) })))
      .toBe("AlertReceiver(ops).port: '8443-8445' is not allowed: a webhook URL has one port, and this is a range. Fix: pass one port of it, such as Port.of(8443)");
    expect(refusal(() => DeadMansSwitch.selfHosted({ hostname: 'ping.acme.eu', port: Port.range(8443, 8445) })))
      .toBe("DeadMansSwitch.selfHosted.port: '8443-8445' is not allowed: a ping URL has one port, and this is a range. Fix: pass one port of it, such as Port.of(8443)");
    for (const message of [refusal(() => AlertReceiver.webhook('ops', { hostname: 'chat.acme.eu', port: '443' as never })),
      refusal(() => DeadMansSwitch.selfHosted({ hostname: 'ping.acme.eu', port: '443' as never }))]) {
      expect(message).toMatch(MESSAGE);
      expect(message).toMatch(/^(AlertReceiver\(ops\)|DeadMansSwitch\.selfHosted)\.port: '443' is not allowed: .*Fix: pass the port the service listens on, such as Port\.of\(993\) or 993$/);
    }
    expect(refusal(() => AlertReceiver.webhook('ops', { hostname: 'chat.acme.eu', port: 70000 }))).toMatch(/^AlertReceiver\(ops\)\.port: 70000 is not allowed: a TCP port is 1-65535/);
    expect(refusal(() => DeadMansSwitch.selfHosted({ hostname: 'ping.acme.eu', port: 0 }))).toMatch(/^DeadMansSwitch\(self-hosted Healthchecks\)\.port: "0" is not allowed: a TCP port is 1-65535/);
  });

  test('the prober\'s firewall and allowlist open the Ports given', () => {
    const { production } = productFixture({
      plan: plan({
        receivers: [AlertReceiver.webhook('pager', { hostname: 'pager.acme.eu', port: Port.of(8443) })],
        deadMansSwitch: DeadMansSwitch.selfHosted({ hostname: 'ping.acme.eu', port: Port.of(9443) }),
      }),
    });
    const json = synth(production.stack);
    const rules = Object.values(json.resource.hcloud_firewall as Record<string, any>).flatMap((f) => f.rule ?? []);
    expect(rules).toContainEqual(expect.objectContaining({ direction: 'out', protocol: 'tcp', port: '8443', description: 'alert webhook' }));
    expect(rules).toContainEqual(expect.objectContaining({ direction: 'out', protocol: 'tcp', port: '9443', description: "dead-man's switch pings" }));
  });
});
