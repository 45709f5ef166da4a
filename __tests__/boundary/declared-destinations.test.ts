import { TerraformOutput, TerraformStack, TerraformVariable, Testing } from 'cdktf';
import {
  AlertReceiver, BackupPlan, BackupTarget, DataClass, DeadMansSwitch, EgressAllowlist, Environment, EnvironmentMonitoring, FirewallRule, Heartbeat,
  Location, Machine, MonitoringPlan, Phase, Port, RestoreCheck, RestoreDrill, S3Provider, ServerType, SshKey, StorageBox, StorageBoxAccount, UptimeCheck,
} from '../../lib';
import { boundaryDocument } from '../../lib/boundary/boundary-document';
import { hostnameProblem } from '../../lib/boundary/processor';
import { HetznerStandIn } from '../../testing';
import { synthesizedBundle } from '../../testing/bundle';
import { checkedStack, policy } from './fixtures';
import { expectRefused, outcomeOf } from './refusal';
import { warningsOf } from '../setup/stack';
import { renderTemplates } from '../setup/terraform-expression';

// Issue #14, bypass 8: the host allowlist is derived from what the product itself declares. The
// backup plan, the restore drill and the monitoring declare their own destinations
// (EgressAllowlist.requireHostnames), so a stack written by hand (no EnvironmentStack) cannot
// forget them, and a machine whose own outbound rules cannot reach them is refused at synth.

const secret = (stack: TerraformStack, name: string) => new TerraformVariable(stack, name, { type: 'string', sensitive: true });
const admin = { sshKeys: [SshKey.fromName('admin')], adminCidrs: ['203.0.113.0/24'] };

function app(stack: TerraformStack, props: { dataClasses?: DataClass[]; egress?: FirewallRule[]; environment?: Environment } = {}): Machine {
  return new Machine(stack, 'App', {
    environment: props.environment ?? Environment.PRODUCTION, role: 'app', name: 'acme-production-app', serverType: ServerType.CX33, location: Location.FSN1,
    dataClasses: props.dataClasses ?? [DataClass.SENSITIVE], egress: props.egress, ...admin,
  });
}

/**
 * A production backup plan to a Storage Box in hel1, protecting `machine`, as a team would write it without
 * EnvironmentStack; with `offsite`, also to an S3 bucket whose endpoint (a secret) may name a port.
 */
function backUp(stack: TerraformStack, machine: Machine, offsite?: { port?: Port }, heartbeatPort?: Port): void {
  const box = new StorageBox(stack, 'StorageBox', { environment: Environment.PRODUCTION, location: Location.HEL1, password: secret(stack, 'storage_box_password') });
  const account = box.addSubaccount('App', { homeDirectory: 'backups/production/app', password: secret(stack, 'storage_box_app_password') });
  BackupPlan.phase1(stack, 'Backups', {
    environment: Environment.PRODUCTION,
    resticPassword: secret(stack, 'restic_password'),
    heartbeat: Heartbeat.healthchecks(secret(stack, 'heartbeat_url'), heartbeatPort && { port: heartbeatPort }),
    targets: [
      BackupTarget.storageBox(account, { hostKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl'] }),
      ...(offsite ? [BackupTarget.s3Compatible({ ...s3Secrets(stack), port: offsite.port })] : []),
    ],
  }).protect(machine);
}

/** An offsite bucket's provider and connection details, every one a sensitive variable. */
function s3Secrets(stack: TerraformStack) {
  return {
    provider: S3Provider.SCALEWAY, endpoint: secret(stack, 's3_endpoint'), bucket: secret(stack, 's3_bucket'),
    accessKeyId: secret(stack, 's3_key_id'), secretAccessKey: secret(stack, 's3_secret'),
  };
}

/** A restore drill on a sensitive test machine with the allowlist, from a Storage Box and `additionalSources`. */
function drillOn(stack: TerraformStack, additionalSources: (stack: TerraformStack) => BackupTarget[] = () => []): TerraformStack {
  const m = new Machine(stack, 'App', {
    environment: Environment.TEST, role: 'app', name: 'acme-test-app', serverType: ServerType.CX23, location: Location.FSN1, dataClasses: [DataClass.SENSITIVE], ...admin,
  });
  EgressAllowlist.apply(m, { policy });
  new RestoreDrill(stack, 'RestoreDrill', {
    machine: m,
    source: BackupTarget.storageBox(StorageBoxAccount.fromAttributes({ host: 'u12345-sub2.your-storagebox.de', username: 'u12345-sub2', location: Location.HEL1, readonly: true, password: secret(stack, 'drill_password') })),
    additionalSources: additionalSources(stack),
    sourceHost: 'acme-production-app',
    resticPassword: secret(stack, 'restic_password'),
    heartbeat: Heartbeat.healthchecks(secret(stack, 'drill_heartbeat_url')),
    checks: [RestoreCheck.sql('users-present', { database: 'app', query: 'SELECT count(*) > 0 FROM users' })],
  });
  return stack;
}

function hostnamesFile(stack: TerraformStack, serverName: string): string {
  const file = synthesizedBundle(JSON.parse(Testing.synth(stack)), serverName).files.get('/etc/sovereign/egress-hostnames')!;
  return String(file.content ?? file.template);
}

describe('the allowlist holds what the product declares', () => {
  test('a hand-written stack whose allowlist lists no hostnames still lets the backups reach their target and heartbeat', () => {
    const stack = checkedStack();
    const m = app(stack);
    // The allowlist comes first and names no hostnames: what the plan declares later is read at synth.
    EgressAllowlist.apply(m, { policy });
    backUp(stack, m);
    expect(outcomeOf(() => stack).kind).toBe('accepted');
    const hosts = hostnamesFile(stack, 'acme-production-app').split('\n');
    expect(hosts).toContain('${hcloud_storage_box_subaccount.StorageBox_App_4D343002.server}');
    expect(hosts).toContain('${trimsuffix(lower(element(regex("^(?:[A-Za-z][A-Za-z0-9+.-]*://)?([^/:]+)", trimspace(var.heartbeat_url)), 0)), ".")}');
    expect(EgressAllowlist.requiredDestinations(m).map((d) => [d.purpose, d.port.from])).toEqual([
      ['backup target (Storage Box in hel1) the backup jobs write to', 23], ['backup heartbeat pinged after each backup', 443],
    ]);
  });

  test('the restore drill declares its source and heartbeat on the test machine', () => {
    const stack = drillOn(checkedStack('test'));
    expect(outcomeOf(() => stack).kind).toBe('accepted');
    expect(hostnamesFile(stack, 'acme-test-app').split('\n')).toEqual(expect.arrayContaining(['u12345-sub2.your-storagebox.de', '${trimsuffix(lower(element(regex("^(?:[A-Za-z][A-Za-z0-9+.-]*://)?([^/:]+)", trimspace(var.drill_heartbeat_url)), 0)), ".")}']));
  });

  test('the monitoring declares its probed hosts, receivers and dead-man\'s switch on the prober', () => {
    const stack = checkedStack();
    const m = app(stack);
    EgressAllowlist.apply(m, { policy });
    monitor(stack, m);
    const declared = EgressAllowlist.requiredDestinations(m).map((d) => `${d.hostname}:${d.port}`);
    expect(declared).toEqual(expect.arrayContaining(['test.acme.eu:443', 'smtp.mail.eu:587', 'hc-ping.com:443']));
    expect(hostnamesFile(stack, 'acme-production-app').split('\n')).toEqual(expect.arrayContaining(['test.acme.eu', 'smtp.mail.eu', 'hc-ping.com']));
  });
});

function monitor(stack: TerraformStack, m: Machine): void {
    new EnvironmentMonitoring(stack, 'Monitoring', {
      environment: Environment.PRODUCTION, phase: Phase.ONE, machine: m,
      plan: new MonitoringPlan({
        uptimeChecks: [UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu/health'), UptimeCheck.http(Environment.TEST, 'https://test.acme.eu/health')],
        receivers: [AlertReceiver.email('ops', { smarthost: 'smtp.mail.eu:587', from: 'alerts@acme.eu', to: ['ops@acme.eu'], username: 'alerts@acme.eu' })],
        deadMansSwitch: DeadMansSwitch.healthchecksIo(),
      }),
    });
}

// Third pass: an uptime check pointed at a host the policy names as a processor (is the model API up?) was refused
// unless the stack declared a DataFlow to it, as if the probe sent data; a team could only pass it by declaring a flow
// the probe does not make. A probe is told apart from a destination that receives data: it passes where the policy
// already opens the host, and is refused where it would be the one opening it (a model provider the policy does not name).
describe('a probe is judged for what it sends', () => {
  function probing(stack: TerraformStack, m: Machine, url: string, receiver = AlertReceiver.email('ops', { smarthost: 'smtp.mail.eu:587', from: 'alerts@acme.eu', to: ['ops@acme.eu'], username: 'alerts@acme.eu' })): void {
    new EnvironmentMonitoring(stack, 'Monitoring', {
      environment: Environment.PRODUCTION, phase: Phase.ONE, machine: m,
      plan: new MonitoringPlan({
        uptimeChecks: [UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu/health'), UptimeCheck.http(Environment.TEST, url, { name: 'model-api', expectStatus: [401] })],
        receivers: [receiver],
        deadMansSwitch: DeadMansSwitch.healthchecksIo(),
      }),
    });
  }

  test('an uptime check of a policy processor\'s API passes without a DataFlow, and boundary.md says it is a probe', () => {
    const stack = checkedStack();
    const m = app(stack);
    EgressAllowlist.apply(m, { policy });
    probing(stack, m, 'https://api.mistral.ai/v1/models');
    const outcome = outcomeOf(() => stack);
    expect(outcome.kind === 'rejected' ? outcome.message : outcome.kind).toBe('accepted');
    expect(EgressAllowlist.requiredDestinations(m).find((d) => d.hostname === 'api.mistral.ai')).toEqual(expect.objectContaining({ port: Port.of(443), probe: true }));
    // The host was on the allowlist already, as the policy's processor; the probe adds nothing to it.
    expect(hostnamesFile(stack, 'acme-production-app').split('\n').filter((h) => h === 'api.mistral.ai')).toHaveLength(1);
    expect(boundaryDocument({ title: 'Acme', policy, stacks: [stack] })).toMatch(/^\| api\.mistral\.ai \| 80, 443 \| host the prober probes for uptime check model-api \(probed on TCP 443: the probe sends no data, but the host is open to every program on the machine on that port\); declared processor Mistral AI \(Paris, FR\) \|$/m);
  });

  test('an alert receiver at a policy processor\'s API still needs a DataFlow: alerts are data', () => {
    expectRefused(() => {
      const stack = checkedStack();
      const m = app(stack);
      EgressAllowlist.apply(m, { policy });
      probing(stack, m, 'https://status.acme.eu/', AlertReceiver.webhook('pager', { hostname: 'api.mistral.ai' }));
      return stack;
    }, /production\/App\.egressHostnames\[\d+\]: 'api\.mistral\.ai' is not allowed: it is declared as the alert receiver pager that Alertmanager notifies, but is the API of the declared processor Mistral AI/);
  });

  test('a probe of a model provider the policy does not name is refused: it would open the host to every program on the prober', () => {
    expectRefused(() => {
      const stack = checkedStack();
      const m = app(stack);
      EgressAllowlist.apply(m, { policy });
      probing(stack, m, 'https://api.openai.com/v1/models');
      return stack;
    }, /production\/App\.egressHostnames\[\d+\]: 'api\.openai\.com' is not allowed: it is declared as the host the prober probes for uptime check model-api, but is the API of OpenAI, a model provider/);
  });

  // The checks' URLs are in the prober's Prometheus configuration too, which the model-provider check of a machine
  // without an allowlist read as text: a public prober failed synth for its probe, as a proxy in front of the provider.
  test.each(['https://status.openai.com/', 'https://api.openai.com/v1/models'])('a public prober probing %s passes', (url) => {
    const stack = checkedStack();
    const m = app(stack, { dataClasses: [DataClass.PUBLIC] });
    probing(stack, m, url);
    expect(synthesizedBundle(JSON.parse(Testing.synth(stack)), 'acme-production-app').files.get('/etc/sovereign-monitoring/prometheus.yml')!.content).toContain(url);
    const outcome = outcomeOf(() => stack);
    expect(outcome.kind === 'rejected' ? outcome.message : outcome.kind).toBe('accepted');
  });

  // From plain JavaScript a caller could edit a recorded destination after its checks (mark it a probe, change its host).
  test('the recorded destinations are frozen', () => {
    const m = app(checkedStack());
    EgressAllowlist.requireHostnames(m, ['hooks.acme.eu'], 'webhook receiver the app posts events to');
    const [d] = EgressAllowlist.requiredDestinations(m) as any[];
    expect(() => { d.probe = true; }).toThrow(TypeError);
    expect(() => { d.hostname = 'api.openai.com'; }).toThrow(TypeError);
    expect(() => { d.port = Port.of(8443); }).toThrow(TypeError);
    expect(EgressAllowlist.requiredDestinations(m)).toEqual([{ hostname: 'hooks.acme.eu', purpose: 'webhook receiver the app posts events to', port: Port.of(443), portNumber: 443 }]);
  });

  // The port was a bare number; it is a Port as every other port of the library, and a reader of the number keeps it.
  test('a destination\'s port is a Port, and the deprecated portNumber still gives the number', () => {
    const m = app(checkedStack());
    EgressAllowlist.requireProbeTargets(m, ['status.acme.eu'], 'host the prober probes for uptime check status', Port.of(8443));
    const [d] = EgressAllowlist.requiredDestinations(m);
    expect(d.port).toBeInstanceOf(Port);
    expect({ port: d.port.toString(), from: d.port.from, single: d.port.isSingle, portNumber: d.portNumber }).toEqual({ port: '8443', from: 8443, single: true, portNumber: 8443 });
  });

  // 0.1's call (the port a number) declared a host on a port every allowlisted host reached; since 0.2 the port is the
  // declared hosts' alone, and the other hosts' connections on it were reset without a word at synth.
  test("0.1's requireHostnames with the port as a number warns that the other hosts lose the port; the Port overload, 80 and 443, and allowTcpPort's ports do not", () => {
    const narrowed = (declare: (m: Machine) => void) => {
      const stack = checkedStack();
      const m = app(stack);
      EgressAllowlist.apply(m, { policy });
      declare(m);
      expect(outcomeOf(() => stack).kind).toBe('accepted');
      return warningsOf(stack).filter((w) => w.startsWith('Egress-DeclaredPortNarrowed'));
    };
    const BOX = 'own Storage Box the exports are copied to';
    expect(narrowed((m) => EgressAllowlist.requireHostnames(m, ['u9.your-storagebox.de'], BOX, 23))).toEqual([expect.stringMatching(
      /^Egress-DeclaredPortNarrowed: production\/App: TCP 23, declared with EgressAllowlist\.requireHostnames\(machine, hosts, purpose, 23\) \(the port as a number, 0\.1's call\), reaches only the hosts declared on it \(u9\.your-storagebox\.de\): .* Fix: declare each other host that needs TCP 23 on it, EgressAllowlist\.allowTcpPortTo\(machine, Port\.of\(23\), \[host\], purpose\); then pass the port as Port\.of\(23\)/)]);
    expect(narrowed((m) => EgressAllowlist.requireHostnames(m, ['u9.your-storagebox.de'], BOX, Port.of(23)))).toEqual([]);
    expect(narrowed((m) => EgressAllowlist.requireHostnames(m, ['api.acme.eu'], 'API of our own the exports are sent to', 443))).toEqual([]);
    expect(narrowed((m) => {
      EgressAllowlist.allowTcpPort(m, 8443, 'artifact store');
      EgressAllowlist.requireHostnames(m, ['api.acme.eu'], 'API of our own the exports are sent to', 8443);
    })).toEqual([]);
  });

  test('an empty list with a bad purpose is refused as such, not as a host', () => {
    const m = app(checkedStack());
    expectRefused(() => EgressAllowlist.requireHostnames(m, [], 'hooks'), /^production\/App\.egressHostnames\.purpose: 'hooks' is not allowed: a declaration of no host \(the hostnames list is empty\) needs a specific purpose/);
  });

  test('from plain JavaScript, requireProbeTargets is held to what requireHostnames is', () => {
    const m = app(checkedStack());
    expectRefused(() => (EgressAllowlist.requireProbeTargets as any)(m, 'api.mistral.ai', 'model API the team watches for outages'), /production\/App\.egressHostnames\.hostnames: 'api\.mistral\.ai' is not allowed: it is a string, not a list/);
    expectRefused(() => (EgressAllowlist.requireProbeTargets as any)(m, ['api.mistral.ai'], 'probe'), /production\/App\.egressHostnames\[0\]\.purpose: 'probe' is not allowed: the destination api\.mistral\.ai needs a specific purpose/);
    expectRefused(() => (EgressAllowlist.requireProbeTargets as any)({}, ['api.mistral.ai'], 'model API the team watches for outages'), /EgressAllowlist\.requireProbeTargets\.machine/);
  });
});

describe('a destination the machine cannot reach is refused', () => {
  test('a machine whose own outbound rules forget the Storage Box port is refused with path, value and fix', () => {
    const message = expectRefused(() => {
      const stack = checkedStack();
      // Public data: the boundary does not require the allowlist, so the team restricted egress by hand.
      backUp(stack, app(stack, { dataClasses: [DataClass.PUBLIC], egress: [FirewallRule.tcpOut(443, FirewallRule.ANYWHERE)] }));
      return stack;
    });
    expect(message).toMatch(/^production\/App\.egress: 'the backup target \(Storage Box in hel1\) the backup jobs write to \(known at deploy\) on TCP 23' is not allowed: .*do not open TCP 23.* Fix: restrict egress with EgressAllowlist\.apply\(machine, \{ policy \}\).* or add FirewallRule\.tcpOut\(23, FirewallRule\.ANYWHERE\)$/m);
    // The heartbeat goes out on 443, which is open: only the target is named.
    expect(message).not.toMatch(/heartbeat/);
  });

  // A public machine whose egress the team restricted by hand (no allowlist) got the monitoring's alert ports and the
  // backups' S3 and ping ports as rules to every address (SMTP 587 here), without a word at synth and with nothing to narrow
  // them to their hosts; a team that had followed the refusal's fix got the port twice. The library adds no rule there: synth
  // names the one to add, and following it is accepted with the port opened once.
  test('a public machine whose egress the team restricted by hand gets no rule from the constructs: synth names the rule to add, and following it opens the port once', () => {
    const restricted = (stack: TerraformStack, more: FirewallRule[] = []) =>
      app(stack, { dataClasses: [DataClass.PUBLIC], egress: [FirewallRule.tcpOut(443, FirewallRule.ANYWHERE), ...more] });
    let prober: Machine | undefined;
    expectRefused(() => {
      const stack = checkedStack();
      prober = restricted(stack);
      monitor(stack, prober);
      return stack;
    }, /production\/App\.egress: 'smtp\.mail\.eu on TCP 587' is not allowed: the alert receiver ops that Alertmanager notifies needs it.* Fix: open TCP 587 alone, machine\.allowOutbound\(FirewallRule\.tcpOut\(587, FirewallRule\.ANYWHERE, \{ description: 'alert receiver ops that Alertmanager notifies' \}\)\): without an egress allowlist nothing narrows it to the host; or apply EgressAllowlist/);
    expect(prober!.egressRules.map((r) => r.ports?.from)).toEqual([443]);
    let backedUp: Machine | undefined;
    // The S3 endpoint and the ping host on one port: one refusal naming both, and one rule (one refusal each, each
    // naming a rule of its own, added two rules for the port when followed).
    const both = expectRefused(() => {
      const stack = checkedStack();
      backedUp = restricted(stack);
      backUp(stack, backedUp, { port: Port.of(8443) }, Port.of(8443));
      return stack;
    });
    expect(both.split('\n').filter((l) => l.includes('on TCP 8443'))).toEqual([expect.stringMatching(
      /^production\/App\.egress: 'the backup target \(S3 bucket at .*\) the backup jobs write to \(known at deploy\), the backup heartbeat .* \(known at deploy\) on TCP 8443' is not allowed: the backup target .* need it, .* do not open TCP 8443 to them, .* Fix: open TCP 8443 alone, machine\.allowOutbound\(FirewallRule\.tcpOut\(8443, FirewallRule\.ANYWHERE, \{ description: 'backup target \(S3 bucket at .*\) the backup jobs write to; backup heartbeat .*' \}\)\): without an egress allowlist nothing narrows it to the hosts; /)]);
    expect(backedUp!.egressRules.map((r) => r.ports?.from)).toEqual([443]);
    // The fix followed: the team's rule alone opens the port.
    const stack = checkedStack();
    const m = restricted(stack, [FirewallRule.tcpOut(587, FirewallRule.ANYWHERE, { description: 'SMTP for alert e-mail' })]);
    monitor(stack, m);
    expect(outcomeOf(() => stack).kind).toBe('accepted');
    expect(m.egressRules.filter((r) => r.ports?.from === 587)).toHaveLength(1);
  });

  // An allowlist applied after the constructs (or after allowTcpPortTo) on a machine with no rule yet: what they asked for
  // waited for no one, and synth refused each port ("add FirewallRule.tcpOut(587, …)"). apply opens them, once each.
  test('EgressAllowlist.apply opens the ports asked for before it, by allowTcpPortTo and by the constructs', () => {
    const stack = checkedStack();
    const m = app(stack, { dataClasses: [DataClass.PUBLIC] });
    EgressAllowlist.allowTcpPortTo(m, Port.of(2525), ['relay.acme.eu'], 'mail relay the app sends its sign-up e-mails through');
    monitor(stack, m);
    expect(m.egressRules).toEqual([]);
    EgressAllowlist.apply(m, { policy });
    expect(outcomeOf(() => stack).kind).toBe('accepted');
    expect([2525, 587].map((p) => m.egressRules.filter((r) => r.ports?.from === p).map((r) => r.description)))
      .toEqual([['mail relay the app sends its sign-up e-mails through'], ['SMTP for alert e-mail']]);
  });

  // The port asked for before apply, then opened by a rule of the team's before apply: apply added a second rule for it,
  // one of the firewall's 50, without a word. The team's rule opens it; the host allowlist still narrows it to the host.
  test("EgressAllowlist.apply adds no rule for a port asked for before it that a rule of the team's opens already", () => {
    const stack = checkedStack();
    const m = app(stack, { dataClasses: [DataClass.PUBLIC] });
    EgressAllowlist.allowTcpPortTo(m, Port.of(2525), ['relay.acme.eu'], 'mail relay the app sends its sign-up e-mails through');
    m.allowOutbound(FirewallRule.tcpOut(2525, FirewallRule.ANYWHERE, { description: 'mail relay' }));
    EgressAllowlist.apply(m, { policy });
    expect(outcomeOf(() => stack).kind).toBe('accepted');
    expect(m.egressRules.filter((r) => r.ports?.from === 2525).map((r) => r.description)).toEqual(['mail relay']);
    const groups = hostnamesFile(stack, 'acme-production-app').split(/^ports /m).slice(1).map((g) => g.trim().split('\n'));
    expect(groups.filter(([ports]) => ports.split(' ').includes('2525'))).toEqual([['2525', 'relay.acme.eu']]);
    // After apply too: the call finds the team's rule and adds none.
    EgressAllowlist.allowTcpPortTo(m, Port.of(2525), ['relay2.acme.eu'], 'second mail relay the app fails over to');
    expect(m.egressRules.filter((r) => r.ports?.from === 2525)).toHaveLength(1);
  });

  // The team's rule added after apply (or after allowTcpPortTo) on a port the library opened stood beside the library's
  // rule in the synthesized firewall, one of Hetzner's 50 rules taken for nothing, without a word.
  test("a rule of the team's on a port the library opens already is warned of, naming both rules; one to a few addresses is not", () => {
    const stack = checkedStack();
    const m = app(stack, { dataClasses: [DataClass.PUBLIC] });
    EgressAllowlist.apply(m, { policy });
    EgressAllowlist.allowTcpPortTo(m, Port.of(2525), ['relay.acme.eu'], 'mail relay the app sends its sign-up e-mails through');
    m.allowOutbound(FirewallRule.tcpOut(2525, FirewallRule.ANYWHERE, { description: 'mail relay' }));
    m.allowOutbound(FirewallRule.tcpOut(443, FirewallRule.ANYWHERE, { description: 'HTTPS out' }));
    m.allowOutbound(FirewallRule.tcpOut(23, ['198.51.100.0/24'], { description: 'backup box' }));
    expect(outcomeOf(() => stack).kind).toBe('accepted');
    // What the synthesized firewall holds: each port twice.
    const firewall = Object.values<any>(JSON.parse(Testing.synth(stack)).resource.hcloud_firewall)[0];
    const out = (port: string) => firewall.rule.filter((r: any) => r.direction === 'out' && r.port === port).map((r: any) => r.description);
    expect([out('2525'), out('443')]).toEqual([['mail relay the app sends its sign-up e-mails through', 'mail relay'], ['HTTPS (host allowlist narrows it)', 'HTTPS out']]);
    expect(warningsOf(stack).filter((w) => w.startsWith('Egress-DuplicateRule')).sort()).toEqual([
      "Egress-DuplicateRule: production/App.egress: TCP 2525 out to every address is opened twice, by the library's rule 'mail relay the app sends its sign-up e-mails through' "
      + "and by your rule 'mail relay': the firewall holds both, one of Hetzner's 50 rules taken for nothing, and the host allowlist narrows the port the same way with either. "
      + "Fix: remove your rule (from the machine's egress, or the allowOutbound call); the library's opens the port.",
      expect.stringMatching(/^Egress-DuplicateRule: production\/App\.egress: TCP 443 out to every address is opened twice, by the library's rule 'HTTPS \(host allowlist narrows it\)' and by your rule 'HTTPS out'/),
    ]);
  });

  test('an outbound rule to a few addresses does not count as reaching a hostname', () => {
    expectRefused(() => {
      const stack = checkedStack();
      backUp(stack, app(stack, { dataClasses: [DataClass.PUBLIC], egress: [FirewallRule.tcpOut(443, FirewallRule.ANYWHERE), FirewallRule.tcpOut(23, ['198.51.100.0/24'])] }));
      return stack;
    }, /production\/App\.egress: .*on TCP 23' is not allowed/);
  });

  test('the same machine with the port open, or with no outbound rule at all, is accepted', () => {
    const open = checkedStack();
    backUp(open, app(open, { dataClasses: [DataClass.PUBLIC], egress: [FirewallRule.tcpOut(443, FirewallRule.ANYWHERE), FirewallRule.tcpOut(23, FirewallRule.ANYWHERE)] }));
    expect(outcomeOf(() => open).kind).toBe('accepted');
    const unrestricted = checkedStack();
    backUp(unrestricted, app(unrestricted, { dataClasses: [DataClass.PUBLIC] }));
    expect(outcomeOf(() => unrestricted).kind).toBe('accepted');
  });

  test('a sensitive machine whose stack forgets the allowlist altogether is refused by the boundary', () => {
    expectRefused(() => {
      const stack = checkedStack();
      backUp(stack, app(stack));
      return stack;
    }, /Boundary-RestrictedEgress: production\/App/);
  });

  test('declared ports are values: a bad one is refused where it is declared', () => {
    const m = app(checkedStack());
    expectRefused(() => EgressAllowlist.requireHostnames(m, ['u1.your-storagebox.de'], 'backup target the nightly backups are written to', 70000),
      /production\/App\.egressHostnames\[\d+\]\.port: 70000 is not allowed: the destination u1\.your-storagebox\.de is reached on a TCP port/);
    expectRefused(() => EgressAllowlist.requireHostnames(m, ['u1.your-storagebox.de'], 'backup target the nightly backups are written to', '23' as any), /egressHostnames\[\d+\]\.port: '23' is not allowed: the destination u1\.your-storagebox\.de/);
    expectRefused(() => EgressAllowlist.requireHostnames(m, ['u1.your-storagebox.de'], 'backup target the nightly backups are written to', Port.range(22, 23)),
      /egressHostnames\[\d+\]\.port: '22-23' is not allowed: the destination u1\.your-storagebox\.de is reached on one TCP port, and this is a range\. Fix: pass one port of it, such as Port\.of\(22\)/);
  });
});

describe('an offsite S3 endpoint is declared on its own port', () => {
  const offsitePort = (m: Machine) => EgressAllowlist.requiredDestinations(m).find((d) => d.purpose.startsWith('backup target (S3'))!.port.from;

  test('on 443 unless the team names the port its endpoint URL carries', () => {
    const plain = checkedStack();
    const m1 = app(plain);
    backUp(plain, m1, {});
    expect(offsitePort(m1)).toBe(443);
    const custom = checkedStack();
    const m2 = app(custom);
    backUp(custom, m2, { port: Port.of(8443) });
    expect(offsitePort(m2)).toBe(8443);
  });

  // Outside ProductStacks too, the plan opens the endpoint's port itself on a machine whose egress is restricted (or will
  // be), for the endpoint alone: no rule of the team's is needed, and none is warned of.
  test("the plan opens the endpoint's port itself: no rule of the team's, no Egress-PortClaimed, the port the endpoint's alone", () => {
    const stack = checkedStack();
    const m = app(stack);
    EgressAllowlist.apply(m, { policy });
    backUp(stack, m, { port: Port.of(8443) });
    expect(outcomeOf(() => stack).kind).toBe('accepted');
    expect(warningsOf(stack).filter((w) => w.startsWith('Egress-PortClaimed'))).toEqual([]);
    expect(m.egressRules.filter((r) => r.ports?.from === 8443).map((r) => r.description)).toEqual(['S3 endpoint of a backup target (host allowlist narrows it to the endpoint)']);
    // The endpoint (a secret, its host known at deploy) alone under 8443; no other allowlisted host reaches it.
    const groups = hostnamesFile(stack, 'acme-production-app').split(/^ports /m).slice(1).map((g) => g.trim().split('\n'));
    expect(groups.filter(([ports]) => ports.split(' ').includes('8443'))).toEqual([['8443', expect.stringContaining('var.s3_endpoint')]]);
  });

  // A ping URL on its own port was declared on 443 and needed allowTcpPort, which opens the port to every allowlisted host.
  test("a heartbeat's port is declared for the ping host and opened for it alone; a port that is no Port is refused with the fix", () => {
    const stack = checkedStack();
    const m = app(stack);
    EgressAllowlist.apply(m, { policy });
    backUp(stack, m, undefined, Port.of(8443));
    expect(outcomeOf(() => stack).kind).toBe('accepted');
    expect(warningsOf(stack).filter((w) => w.startsWith('Egress-'))).toEqual([]);
    expect(EgressAllowlist.requiredDestinations(m).filter((d) => d.purpose.startsWith('backup heartbeat')).map((d) => d.port.from)).toEqual([8443]);
    const groups = hostnamesFile(stack, 'acme-production-app').split(/^ports /m).slice(1).map((g) => g.trim().split('\n'));
    expect(groups.filter(([ports]) => ports.split(' ').includes('8443'))).toEqual([['8443', expect.stringContaining('var.heartbeat_url')]]);
    // From plain JavaScript: the port as a string or a number, a range, options that are no object.
    const url = (st: TerraformStack) => secret(st, 'heartbeat_url');
    const healthchecks = Heartbeat.healthchecks as (u: unknown, o?: unknown) => Heartbeat;
    expect(() => healthchecks(url(checkedStack()), { port: '8443' })).toThrow(/^Heartbeat\.healthchecks\.options\.port: '8443' is not allowed: .* Fix: use Port\.of\(8443\), the port the ping URL names/);
    expect(() => healthchecks(url(checkedStack()), { port: 8443 })).toThrow(/^Heartbeat\.healthchecks\.options\.port: '?8443'? is not allowed: .* Fix: use Port\.of\(8443\)/);
    expect(() => healthchecks(url(checkedStack()), { port: Port.range(8000, 8443) })).toThrow(/^Heartbeat\.healthchecks\.options\.port: '8000-8443' is not allowed: a ping service listens on one port, not a range\. Fix: use Port\.of\(8443\)/);
    expect(() => healthchecks(url(checkedStack()), '8443')).toThrow(/^Heartbeat\.healthchecks\.options: '8443' is not allowed: .*Fix: pass \{ port: Port\.of\(8443\) \}/);
  });

  test('a public machine with outbound rules of its own is refused the port, before or after the plan, with a fix that works', () => {
    const before = checkedStack();
    const egress = [FirewallRule.tcpOut(443, FirewallRule.ANYWHERE), FirewallRule.tcpOut(23, FirewallRule.ANYWHERE)];
    // The fix followed (the team's rule on the port): accepted, the port opened once.
    const m = app(before, { dataClasses: [DataClass.PUBLIC], egress: [...egress, FirewallRule.tcpOut(8443, FirewallRule.ANYWHERE, { description: 'S3 endpoint' })] });
    backUp(before, m, { port: Port.of(8443) });
    expect(outcomeOf(() => before).kind).toBe('accepted');
    expect(m.egressRules.filter((r) => r.ports?.from === 8443)).toHaveLength(1);
    // A port the team opened with allowTcpPort (every allowlisted host, the endpoint among them) is not opened twice.
    const shared = checkedStack();
    const s = app(shared);
    EgressAllowlist.apply(s, { policy });
    EgressAllowlist.allowTcpPort(s, 8443, 'artifact store and S3 endpoint');
    backUp(shared, s, { port: Port.of(8443) });
    expect(s.egressRules.filter((r) => r.ports?.from === 8443).map((r) => r.description)).toEqual(['artifact store and S3 endpoint']);
    // No rule when the plan is built (egress open to all): the plan opens nothing, which would close every other port.
    expectRefused(() => {
      const stack = checkedStack();
      const late = app(stack, { dataClasses: [DataClass.PUBLIC] });
      backUp(stack, late, { port: Port.of(8443) });
      expect(late.egressRules).toEqual([]);
      for (const rule of egress) late.allowOutbound(rule);
      return stack;
    }, /production\/App\.egress: 'the backup target \(S3 bucket at .*\) the backup jobs write to \(known at deploy\) on TCP 8443' is not allowed: .* Fix: open TCP 8443 alone, machine\.allowOutbound\(FirewallRule\.tcpOut\(8443, FirewallRule\.ANYWHERE, \{ description: 'backup target \(S3 bucket at .*\) the backup jobs write to' \}\)\): without an egress allowlist nothing narrows it to the host; or apply EgressAllowlist to the machine, which opens the port for the declared hosts alone$/m);
  });

  test("the drill opens its offsite copy's port itself, as the plan does", () => {
    const stack = drillOn(checkedStack('test'), (st) => [BackupTarget.s3Compatible({ ...s3Secrets(st), port: Port.of(8443) })]);
    expect(outcomeOf(() => stack).kind).toBe('accepted');
    expect(warningsOf(stack).filter((w) => w.startsWith('Egress-PortClaimed'))).toEqual([]);
    const groups = hostnamesFile(stack, 'acme-test-app').split(/^ports /m).slice(1).map((g) => g.trim().split('\n'));
    expect(groups.filter(([ports]) => ports.split(' ').includes('8443'))).toEqual([['8443', expect.stringContaining('var.s3_endpoint')]]);
  });

  // A rule of the team's on the port is no longer what opens it: synth says it may go, and a host the team declares there
  // too (the rule is its) is not warned of.
  test("the team's own rule on the endpoint's port is named (Egress-PortClaimed) as one that may go; a host the team declares there too is not warned of", () => {
    const claimed = (declareOwn: boolean) => {
      const stack = checkedStack();
      const m = app(stack);
      EgressAllowlist.apply(m, { policy });
      m.allowOutbound(FirewallRule.tcpOut(8443, FirewallRule.ANYWHERE, { description: 'artifact store' }));
      if (declareOwn) EgressAllowlist.requireHostnames(m, ['artifacts.acme.eu'], 'artifact store the deploys download release builds from', Port.of(8443));
      backUp(stack, m, { port: Port.of(8443) });
      Testing.synth(stack, true);
      return warningsOf(stack).filter((w) => w.startsWith('Egress-PortClaimed'));
    };
    expect(claimed(false)).toEqual([expect.stringMatching(
      /^Egress-PortClaimed: production\/App: TCP 8443, which the rule 'artifact store' opens out, reaches only a host known at deploy \(backup target \(S3 bucket at .*\) the backup jobs write to\).* If nothing else uses the port, remove the rule: the construct opened it for its hosts itself\.$/)]);
    expect(claimed(true)).toEqual([]);
  });

  // The endpoint is a secret, so synth cannot see the port its URL names: Terraform checks it at plan (a
  // precondition beside the jobs), before anything is created.
  test('an endpoint URL on another port than the declared one fails the plan, without printing the URL', () => {
    const standIn = new HetznerStandIn({ reattach: true });
    // Digits, as a port would be (a password read as the URL's port was refused for it too), and too many of them to
    // turn up by chance: '1234' did, a few runs in a hundred, in the microseconds of the plan output's timestamps.
    const PASSWORD = '7391046285';
    try {
      // The endpoint's rows, then the heartbeat's ping URL's (Heartbeat.healthchecks(url, { port })), checked the same way.
      const plans = ([[undefined, 'https://s3.fr-par.scw.cloud', true], [undefined, 's3.fr-par.scw.cloud', true],
        [undefined, 'https://s3.example.eu:8443', false], [Port.of(8443), 'https://s3.example.eu:8443', true],
        [Port.of(8443), 'https://s3.example.eu/', false], [Port.of(8443), 'HTTPS://s3.example.eu:8443/bucket', true],
        [undefined, 'https://hc.acme.eu:8443/k7q-ping-key', false, 'heartbeat'], [Port.of(8443), 'https://hc.acme.eu:8443/k7q-ping-key', true, 'heartbeat'],
        [Port.of(8443), 'https://ping.acme.eu/k7q-ping-key', false, 'heartbeat'], [Port.of(8443), 'HTTPS://hc.acme.eu:8443/k7q-ping-key', true, 'heartbeat'],
        [undefined, `https://ops:${PASSWORD}@hc.acme.eu/k7q-ping-key`, false, 'heartbeat'],
        // A space before the URL (a .env line's): the host and https checks read it trimmed, and the port check did not,
        // so that it read 443 and refused the declared 8443, and let 8443 through where 443 was declared.
        [Port.of(8443), ' https://hc.acme.eu:8443/k7q-ping-key', true, 'heartbeat'], [undefined, ' https://hc.acme.eu:8443/k7q-ping-key', false, 'heartbeat'],
        [Port.of(8443), ' https://s3.example.eu:8443', true], [undefined, ' https://s3.example.eu:8443', false]] as Array<[Port | undefined, string, boolean, 'heartbeat'?]>).map(([port, endpoint, accepted, of]) => {
        const stack = checkedStack();
        if (of) backUp(stack, app(stack), undefined, port);
        else backUp(stack, app(stack), { port });
        // The host the allowlist reads from the ping URL, as Terraform computes it (an output of the getter, sensitive like the URL).
        if (of) new TerraformOutput(stack, 'ping_host', { value: Heartbeat.healthchecks(stack.node.findChild('heartbeat_url') as TerraformVariable, { port: port ?? Port.of(443) }).host, sensitive: true });
        const ws = standIn.workspace(JSON.parse(Testing.synth(stack)));
        ws.setVariables(of ? { TF_VAR_heartbeat_url: endpoint } : { TF_VAR_s3_endpoint: endpoint });
        const { run, changes } = ws.plan();
        const errors = run.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.summary}: ${d.detail}`).join('\n');
        const host = changes?.json.planned_values?.outputs?.ping_host?.value;
        return { port: port?.from ?? 443, endpoint, accepted, of, ok: run.ok, errors, output: `${run.stdout}\n${run.stderr}`, host };
      });
      for (const plan of plans) {
        expect({ ...plan, output: undefined }).toEqual({ ...plan, ok: plan.accepted, output: undefined });
        // The ping host, whatever the scheme's case: 'HTTPS://hc.acme.eu:8443/…' passed both checks, and the host read was 'HTTPS'.
        if (plan.of && plan.accepted) expect(plan.host).toBe('hc.acme.eu');
        // A URL with a user name or password is refused for it once, not also for a port (its host is the user name).
        if (plan.endpoint.includes('@')) {
          expect(plan.errors).toMatch(/must be https:\/\/<host>\/…, with no user name or password/);
          expect(plan.errors).not.toMatch(/must use port/);
        } else if (!plan.accepted) {
          expect(plan.errors).toMatch(new RegExp(`must use port ${plan.port}, the port declared for it.*${plan.of ? 'Heartbeat\\.healthchecks\\(url, \\{ ' : ''}port: Port\\.of\\(<port>\\)`));
        }
        // Neither the URL, nor its key, host or password, printed.
        const [, host] = /^(?:[a-z]+:\/\/)?(?:[^@/]*@)?([^/:]+)/i.exec(plan.endpoint.trim())!;
        for (const part of [plan.endpoint.trim().replace(/^https:\/\//i, ''), 'k7q-ping-key', PASSWORD, host]) expect(plan.output).not.toContain(part);
      }
    } finally {
      standIn.stop(true);
    }
  }, 240_000);

  // A value pasted with a space or a newline around it (a .env line, `$(cat file)` of a file without its last newline
  // stripped by hand): the allowlist's host was ' https' and restic's repository 's3: https://…', so no push reached the bucket.
  test('an endpoint and a bucket with spaces around them: the allowlist holds the host, restic the repository, as without them', () => {
    const stack = checkedStack();
    const m = app(stack);
    EgressAllowlist.apply(m, { policy });
    backUp(stack, m, {});
    expect(outcomeOf(() => stack).kind).toBe('accepted');
    const bundle = synthesizedBundle(JSON.parse(Testing.synth(stack)), 'acme-production-app');
    const endpointHost = hostnamesFile(stack, 'acme-production-app').split('\n').filter((l) => l.includes('var.s3_endpoint'));
    const envFile = [...bundle.files.values()].find((f) => f.path.endsWith('/offsite.s3.env'))!;
    const lines = String(envFile.template).split('\n').filter((l) => /^(ENDPOINT|BUCKET)_B64=/.test(l));
    const rendered = (variables: Record<string, string>) => {
      const [host, endpoint, bucket] = renderTemplates([...endpointHost, ...lines], variables).map((r) => r.value ?? r.error);
      const decoded = (line: string | undefined) => Buffer.from(String(line).replace(/^[A-Z0-9_]+=/, ''), 'base64').toString();
      // As backup-tooling builds it: RESTIC_REPOSITORY="s3:$endpoint/$bucket/<path>".
      return { host, repository: `s3:${decoded(endpoint)}/${decoded(bucket)}/acme-production-app` };
    };
    const clean = { host: 's3.fr-par.scw.cloud', repository: 's3:https://s3.fr-par.scw.cloud/acme-backups/acme-production-app' };
    expect(rendered({ s3_endpoint: 'https://s3.fr-par.scw.cloud', s3_bucket: 'acme-backups' })).toEqual(clean);
    expect(rendered({ s3_endpoint: ' https://s3.fr-par.scw.cloud\n', s3_bucket: 'acme-backups \n' })).toEqual(clean);
    expect(rendered({ s3_endpoint: '\ts3.fr-par.scw.cloud ', s3_bucket: ' acme-backups' })).toEqual({ ...clean, repository: clean.repository.replace('https://', '') });
    // From plain JavaScript, an endpoint given as text (spaces or not) is refused at synth, naming the fix.
    expect(() => BackupTarget.s3Compatible({ ...s3Secrets(checkedStack()), endpoint: ' https://s3.fr-par.scw.cloud ' as any }))
      .toThrow(/BackupTarget\.s3Compatible\.endpoint: .* Fix: pass a sensitive variable/);
  });

  // The host the allowlist reads from a secret URL went into the hostnames file unchecked, while a literal host is held
  // to hostnameProblem at synth: an IP address, an underscore or a name in Unicode passed the plan and only showed as
  // the refresh failing on the machine; a user name before the endpoint's host was read as the host.
  test('a host derived from a ping URL or an S3 endpoint is held to the rule a literal host is: the plan accepts it exactly when synth would', () => {
    const stack = checkedStack();
    const m = app(stack);
    EgressAllowlist.apply(m, { policy });
    backUp(stack, m, {});
    const json = JSON.parse(Testing.synth(stack));
    const preconditions = (variable: string): Array<{ condition: string; error_message: string }> => Object.values<any>(json.resource.terraform_data)
      .flatMap((r) => r.lifecycle?.precondition ?? []).filter((p: any) => p.condition.includes(`var.${variable})`));
    const hostLine = (variable: string) => hostnamesFile(stack, 'acme-production-app').split('\n').find((l) => l.includes(`var.${variable})`))!;
    // The host rule's precondition judged alone (the https and port ones refuse other URLs), and as a value: an
    // evaluation error is neither an acceptance nor the rule's refusal. One console for all of a URL's templates.
    const judged = (variable: string, url: string) => {
      const all = preconditions(variable);
      const hostRule = all.findIndex((p) => p.error_message.includes('must name its host'));
      const [host, ...conditions] = renderTemplates([hostLine(variable), ...all.map((p) => `\${tostring(${p.condition.slice(2, -1)})}`)], { [variable]: url });
      for (const c of conditions) expect({ url, value: c.value ?? c.error }).toEqual({ url, value: expect.stringMatching(/^(true|false)$/) });
      return { hostRule: conditions[hostRule].value === 'true', accepted: conditions.every((c) => c.value === 'true'), host: host.value };
    };
    // [host as written in the URL, accepted]
    const edges: Array<[string, boolean]> = [
      ['hc.acme.eu', true], ['xn--bcher-kva.example', true], ['HC.Acme.EU', true], ['hc.acme.eu:443', true],
      // A trailing dot names the same host (dig and curl read it so, and it worked before the host was checked): dropped.
      ['hc.acme.eu.', true], ['hc.acme.eu..', false],
      ['bücher.example', false], ['hc_ping.acme.eu', false], ['203.0.113.7', false], ['[2001:db8::1]', false],
      ['-hc.acme.eu', false], [`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`, false], ['ping', false],
      // The machine itself (a stand-in endpoint on loopback, as machine-rollout-e2e's): the one name without a dot, a URL's alone.
      ['localhost:443', true],
    ];
    for (const [variable, scheme] of [['heartbeat_url', 'https://'], ['s3_endpoint', 'https://'], ['s3_endpoint', '']]) {
      for (const [written, accepted] of edges) {
        // A bare word reads as a value that names no host, as the stand-in's placeholders: below.
        if (!scheme && written === 'ping') continue;
        const url = `${scheme}${written}${variable === 'heartbeat_url' ? '/k7q-ping-key' : ''}`;
        const result = judged(variable, url);
        expect({ url, accepted: result.hostRule }).toEqual({ url, accepted });
        if (accepted) expect({ url, accepted: result.accepted }).toEqual({ url, accepted });
        // One rule decides both: the host the plan lets into the hostnames file is one synth takes as a literal, and the other
        // way round; localhost alone is a URL's only (a literal host names someone reached off the machine).
        if (result.host !== undefined) expect({ url, literal: hostnameProblem(result.host) === undefined }).toEqual({ url, literal: accepted && result.host !== 'localhost' });
        if (accepted) expect(result.host).toBe(written.toLowerCase().replace(/:443$/, '').replace(/[.]$/, ''));
      }
    }
    // A user name before the host: the heartbeat's https check refuses it; the endpoint's host check, which read 'ops' as the host.
    expect(judged('s3_endpoint', 'https://ops.team:pw@s3.fr-par.scw.cloud').hostRule).toBe(false);
    expect(judged('heartbeat_url', 'https://ops.team:pw@hc.acme.eu/k').accepted).toBe(false);
    // A value that names no host (the stand-in's placeholders) is left to its user, as before.
    expect(judged('s3_endpoint', 'stand-in-s3-endpoint').accepted).toBe(true);
    // The refusal names the URL and the rule, never the value.
    const message = Object.values<any>(json.resource.terraform_data).flatMap((r) => r.lifecycle?.precondition ?? [])
      .map((p: any) => p.error_message).find((e: string) => e.startsWith("The offsite S3 endpoint's URL") && e.includes('must name its host'));
    expect(message).toMatch(/^The offsite S3 endpoint's URL \(TF_VAR_s3_endpoint\) must name its host .*lowercase DNS name .*\(or localhost\).*punycode form, xn--.*IP address.*no user name or password: set it to the URL the provider gives/);
    expect(message).not.toMatch(/a port|trailing dot/);
  });

  test('a range, or a port that is not a Port, is refused with the fix', () => {
    const options = (stack: TerraformStack, port: unknown) => ({ ...s3Secrets(stack), port: port as Port });
    expect(() => BackupTarget.s3Compatible(options(checkedStack(), Port.range(8000, 8443))))
      .toThrow(/^BackupTarget\.s3Compatible\.port: '8000-8443' is not allowed: an endpoint listens on one port, not a range\. Fix: use Port\.of\(8443\)/);
    expect(() => BackupTarget.s3Compatible(options(checkedStack(), 8443)))
      .toThrow(/BackupTarget\.s3Compatible\.port: .*8443.* Fix: use Port\.of\(8443\)/);
  });
});
