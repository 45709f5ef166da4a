import { TerraformStack, TerraformVariable, Testing } from 'cdktf';
import {
  AlertReceiver, BundlePart, DataClass, DeadMansSwitch, EgressAllowlist, Environment, EnvironmentMonitoring, ErrorMonitoring, ErrorMonitoringEndpoint, FirewallRule, IMachine,
  Machine, MonitoringPlan, Phase, PostgresDatabase, Processor, ServerType, SshKey, UptimeCheck,
} from '../../lib';
import { checkedStack, policy } from '../boundary/fixtures';
import { MESSAGE } from '../boundary/refusal';

// The constructs that build on a machine take an `IMachine` (what they read of it and add to it),
// and check at runtime that it is a `Machine`: a look-alike object, as a JavaScript caller could hand
// over, would skip what Machine enforces (protection, SSH exposure, EU placement, its firewall).

const secret = (stack: TerraformStack, name: string) => new TerraformVariable(stack, name, { type: 'string', sensitive: true });
const mistral = Processor.mistralAi();

function app(stack: TerraformStack, id = 'App'): Machine {
  return new Machine(stack, id, {
    environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [SshKey.fromName('admin')],
    adminCidrs: ['203.0.113.0/24'], dataClasses: [DataClass.SENSITIVE],
  });
}

/** An object with a machine's fields and methods, not built by `new Machine`. */
function lookAlike(m: Machine): IMachine {
  const copy = {
    ...m, node: m.node, server: m.server, serverName: m.serverName, environment: m.environment, role: m.role, location: m.location,
    serverType: m.serverType, dataClasses: m.dataClasses, ipv4: m.ipv4, ipv6: m.ipv6, bundle: m.bundle, ingressRules: [], egressRules: [],
    // Delegating to the real machine: were the look-alike accepted, its changes would show there.
    addBundlePart: (p: BundlePart) => m.addBundlePart(p), allowInbound: (r: FirewallRule) => m.allowInbound(r), allowOutbound: (r: FirewallRule) => m.allowOutbound(r),
  };
  expect(Machine.isMachine(copy)).toBe(false);
  return copy as unknown as IMachine;
}

const monitoringPlan = () => new MonitoringPlan({
  uptimeChecks: [UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu/health'), UptimeCheck.http(Environment.TEST, 'https://test.acme.eu/health')],
  receivers: [AlertReceiver.webhook('ops', { hostname: 'chat.acme.eu' })],
  deadMansSwitch: DeadMansSwitch.healthchecksIo(),
});

/** Each consumer, built on `machine` in `stack`. */
const CONSUMERS: Array<[string, (stack: TerraformStack, machine: IMachine) => unknown, RegExp]> = [
  ['new PostgresDatabase', (s, m) => new PostgresDatabase(s, 'Database', { machine: m, privateAddress: '10.0.1.2', privateSubnet: '10.0.1.0/24', password: secret(s, 'db_password') }),
    /production\/Database\.machine: /],
  ['new ErrorMonitoring', (s, m) => new ErrorMonitoring(s, 'Errors', { machine: m, endpoint: ErrorMonitoringEndpoint.selfHosted(mistral), dsn: secret(s, 'dsn') }),
    /production\/Errors\.machine: /],
  ['new EnvironmentMonitoring (machine)', (s, m) => new EnvironmentMonitoring(s, 'Monitoring', { environment: Environment.PRODUCTION, phase: Phase.ONE, machine: m, plan: monitoringPlan() }),
    /production\/Monitoring\.machine: /],
  ['new EnvironmentMonitoring (monitoringMachine)', (s, m) => new EnvironmentMonitoring(s, 'Monitoring', {
    environment: Environment.PRODUCTION, phase: Phase.THREE, machine: app(s, 'Other'), monitoringMachine: m, plan: monitoringPlan(),
  }), /production\/Monitoring\.monitoringMachine: /],
  ['EgressAllowlist.apply', (_s, m) => EgressAllowlist.apply(m, { policy }), /^EgressAllowlist\.apply\.machine: /],
  ['EgressAllowlist.requireHostnames', (_s, m) => EgressAllowlist.requireHostnames(m, ['u1.your-storagebox.de'], 'backup target the nightly backups are written to', 23), /^EgressAllowlist\.requireHostnames\.machine: /],
  ['EgressAllowlist.allowTcpPort', (_s, m) => EgressAllowlist.allowTcpPort(m, 587, 'SMTP submission'), /^EgressAllowlist\.allowTcpPort\.machine: /],
];

describe('constructs that build on a machine take an IMachine', () => {
  // The database's clients are checked with the same schema check as its machine.
  test('PostgresDatabase refuses a look-alike among its networkClients', () => {
    const stack = checkedStack();
    const real = app(stack);
    expect(() => new PostgresDatabase(stack, 'Database', {
      machine: app(stack, 'Other'), privateAddress: '10.0.1.2', privateSubnet: '10.0.1.0/24', password: secret(stack, 'db_password'), networkClients: [lookAlike(real)],
    })).toThrow(/^production\/Database\.networkClients\[0\]: .* is not allowed: it is not a machine built with new Machine\(…\)\. Fix: pass the Machine itself/);
  });

  test.each(CONSUMERS)('%s accepts a Machine typed as IMachine', (_name, build) => {
    const stack = checkedStack();
    const m: IMachine = app(stack);
    expect(() => build(stack, m)).not.toThrow();
  });

  test.each(CONSUMERS)('%s refuses a look-alike with path, value and fix, and changes nothing on it', (_name, build, at) => {
    const stack = checkedStack();
    const real = app(stack);
    const parts = real.bundle.partNames.length;
    const outbound = real.egressRules.length;
    const fake = lookAlike(real);
    let message = '';
    try {
      build(stack, fake);
    } catch (e) {
      expect((e as Error).name).toBe('ValidationError');
      message = (e as Error).message;
    }
    expect(message).toMatch(at);
    expect(message).toMatch(/is not allowed: it is not a machine built with new Machine\(…\)\. Fix: pass the Machine itself/);
    expect(message).toMatch(MESSAGE);
    // Nothing reached the real machine through the look-alike before the refusal.
    expect(real.bundle.partNames.length).toBe(parts);
    expect(real.egressRules.length).toBe(outbound);
  });

  test('PostgresDatabase.of finds the database of a machine passed as IMachine', () => {
    const stack = new TerraformStack(Testing.app(), 'production');
    const m: IMachine = app(stack);
    const db = new PostgresDatabase(stack, 'Database', { machine: m, privateAddress: '10.0.1.2', privateSubnet: '10.0.1.0/24', password: secret(stack, 'db_password') });
    expect(PostgresDatabase.of(m)).toBe(db);
    expect(db.machine).toBe(m);
    expect(PostgresDatabase.of(app(new TerraformStack(Testing.app(), 'other')))).toBeUndefined();
  });
});
