import { Environment, Port, UptimeCheck } from '../../lib';
import { MESSAGE, refusal } from '../boundary/refusal';
import { plan, productFixture, synth } from './helpers/fixture';

// UptimeCheck.tcp took a number alone, where every other construct takes a Port (FirewallRule, the offsite port):
// Port.of(993) was refused as "not a number". It takes a Port now, one port of it, and numbers as before.

describe('UptimeCheck.tcp takes a Port', () => {
  test('Port.of(993) builds the check a number builds', () => {
    const fromPort = UptimeCheck.tcp(Environment.PRODUCTION, 'mail.acme.eu', Port.of(993), { tls: true });
    const fromNumber = UptimeCheck.tcp(Environment.PRODUCTION, 'mail.acme.eu', 993, { tls: true });
    expect(fromPort).toEqual(fromNumber);
    expect([fromPort.name, fromPort.target, fromPort.port.toString(), fromPort.tls]).toEqual(['mail-acme-eu-993', 'mail.acme.eu:993', '993', true]);
  });

  // The check took a Port and handed back a number: a caller could not ask it Port's questions (contains,
  // FirewallRule's port) and compared numbers where the rest of the library compares Ports.
  test('its port is a Port, for TCP and HTTP checks alike; portNumber (deprecated) is the number', () => {
    const tcp = UptimeCheck.tcp(Environment.PRODUCTION, 'mail.acme.eu', 993);
    const http = UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu:8443/health');
    const plain = UptimeCheck.http(Environment.PRODUCTION, 'http://acme.eu/health');
    for (const [check, port] of [[tcp, 993], [http, 8443], [plain, 80]] as const) {
      expect(check.port).toBeInstanceOf(Port);
      expect(check.port.isSingle).toBe(true);
      expect(check.port.from).toBe(port);
      expect(Port.ALL.contains(check.port)).toBe(true);
      expect(check.portNumber).toBe(port);
    }
  });

  test("the prober probes the Port's host and port, and its firewall opens the port", () => {
    const { production } = productFixture({
      plan: plan({ uptimeChecks: [UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu/health'), UptimeCheck.tcp(Environment.TEST, 'mail.acme.eu', Port.of(993))] }),
    });
    const json = synth(production.stack);
    const prometheus = production.monitoring.checks.map((c) => c.target);
    expect(prometheus).toEqual(['mail.acme.eu:993']);
    const rules = Object.values(json.resource.hcloud_firewall as Record<string, any>).flatMap((f) => f.rule ?? []);
    expect(rules).toContainEqual(expect.objectContaining({ direction: 'out', protocol: 'tcp', port: '993', description: 'uptime check mail-acme-eu-993' }));
  });

  test('a range is refused: a TCP check connects to one port', () => {
    expect(refusal(() => UptimeCheck.tcp(Environment.PRODUCTION, 'mail.acme.eu', Port.range(993, 995))))
      .toBe("UptimeCheck(mail.acme.eu).port: '993-995' is not allowed: a TCP check connects to one port, and this is a range. Fix: pass one port of it, such as Port.of(993)");
  });

  test.each([['a string', '993'], ['null', null], ['NaN', NaN], ['an object', { port: 993 }], ['a fraction', 993.5], ['undefined', undefined]])(
    'a JavaScript caller passing %s gets the path, the value and the fix', (_label, port) => {
      const message = refusal(() => UptimeCheck.tcp(Environment.PRODUCTION, 'mail.acme.eu', port as never));
      expect(message).toMatch(MESSAGE);
      expect(message).toMatch(/^UptimeCheck\(mail\.acme\.eu\)\.port: .*Fix: pass the port the service listens on, such as Port\.of\(993\) or 993$/);
    });

  test('a number out of range is still refused by the check', () => {
    expect(refusal(() => UptimeCheck.tcp(Environment.PRODUCTION, 'mail.acme.eu', 70000))).toMatch(/^UptimeCheck\(mail\.acme\.eu:70000\)\.port: 70000 is not allowed: a TCP port is 1-65535/);
    expect(refusal(() => UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu:0/health'))).toMatch(/^UptimeCheck\(https:\/\/acme\.eu:0\/health\)\.port: 0 is not allowed: a TCP port is 1-65535/);
  });
});
