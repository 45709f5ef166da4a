import { TerraformStack, TerraformVariable, Testing } from 'cdktf';
import { HcloudProvider } from '../../generated/providers/hcloud/provider';
import { Duration, Environment, EnvironmentMonitoring, Machine, Phase, Processor, ServerType, SshKey } from '../../lib';
import { AlertReceiver } from '../../lib/monitoring/alert-receiver';
import { DeadMansSwitch } from '../../lib/monitoring/dead-mans-switch';
import { ErrorMonitoring } from '../../lib/monitoring/error-monitoring';
import { ErrorMonitoringEndpoint } from '../../lib/monitoring/error-monitoring-endpoint';
import { MonitoringPlan } from '../../lib/monitoring/monitoring-plan';
import { UptimeCheck } from '../../lib/monitoring/uptime-check';
import { glitchTip, ops, plan, productFixture, synthErrors } from './helpers/fixture';

describe('bad input fails at synth, naming the value and the fix', () => {
  test("fails when an uptime check's prober runs on the machine it checks", () => {
    expect(() => UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu/health', { probeFrom: Environment.PRODUCTION }))
      .toThrow(/^UptimeCheck\(https:\/\/acme\.eu\/health\)\.probeFrom: 'production' is not allowed: the prober would run on the machine it checks, and a machine is never judged up by itself\. Fix: probe production from another always-on environment \(Environment\.TEST\), or leave probeFrom unset$/);
    expect(() => UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu/health', { probeFrom: Environment.STAGING }))
      .toThrow(/probeFrom: 'staging' is not allowed: an on-demand environment is gone most of the time.*Fix: probe from Environment\.TEST or Environment\.PRODUCTION/);
  });

  test('fails when a check targets loopback or an IP address, which judges the prober by itself or bypasses the allowlist', () => {
    for (const url of ['http://localhost:8080/health', 'http://127.0.0.1/health', 'https://[::1]/health', 'https://203.0.113.7/']) {
      expect(() => UptimeCheck.http(Environment.PRODUCTION, url)).toThrow(/\.target: .* is not allowed: .*judges the prober by itself\. Fix: check the public host name/);
    }
    expect(() => UptimeCheck.tcp(Environment.PRODUCTION, 'localhost', 5432)).toThrow(/UptimeCheck\(localhost:5432\)\.target/);
    expect(() => UptimeCheck.http(Environment.PRODUCTION, 'ftp://acme.eu/')).toThrow(/\.url: "ftp:\/\/acme\.eu\/" is not allowed: an HTTP check takes an http:\/\/ or https:\/\/ URL without credentials\. Fix:/);
    expect(() => UptimeCheck.http(Environment.PRODUCTION, 'https://user:pw@acme.eu/')).toThrow(/without credentials/);
  });

  test('fails when a production environment has no uptime check', () => {
    const { production } = productFixture({ plan: plan({ uptimeChecks: [UptimeCheck.http(Environment.TEST, 'https://test.acme.eu/health')] }), backups: false });
    expect(synthErrors(production.stack)).toMatch(/acme-production\/Monitoring\.plan\.uptimeChecks: missing: production has no uptime check, so nobody learns that it is down\. Fix: add UptimeCheck\.http\(Environment\.PRODUCTION, 'https:\/\/acme\.eu\/health'\) to the plan/);
  });

  test('fails when a production environment has no monitoring plan at all; test only warns', () => {
    const { test, production } = productFixture({ plan: undefined, backups: false });
    expect(synthErrors(production.stack)).toMatch(/acme-production\/Monitoring\.plan: missing: production is never judged up by itself.*Fix: give the product monitoring: new MonitoringPlan\(/);
    expect(synthErrors(test.stack)).toBe('');
    const warnings = test.stack.node.findAll().flatMap((c) => c.node.metadata).filter((m) => m.type === '@cdktf/warn').map((m) => String(m.data));
    expect(warnings).toEqual(expect.arrayContaining([expect.stringMatching(/^Monitoring-NoPlan: acme-test\/Monitoring\.plan is missing/)]));
  });

  test('warns when production has no error monitoring, which every phase requires', () => {
    const { production } = productFixture({ plan: plan({ errorMonitoring: undefined }), backups: false });
    expect(synthErrors(production.stack)).toBe('');
    const warnings = production.stack.node.findAll().flatMap((c) => c.node.metadata).filter((m) => m.type === '@cdktf/warn').map((m) => String(m.data));
    expect(warnings).toEqual(expect.arrayContaining([expect.stringMatching(/^Monitoring-NoErrorMonitoring: acme-production\/Monitoring\.plan\.errorMonitoring is missing, and Phase 1 requires basic error monitoring.*Fix: pass errorMonitoring:/)]));
  });

  test('fails when the plan has no alert receiver or no dead-man\'s switch', () => {
    expect(() => plan({ receivers: [] })).toThrow(/^MonitoringPlan\.receivers: \[\] is not allowed: an alert that reaches nobody is no alert\. Fix: pass receivers:/);
    expect(() => plan({ deadMansSwitch: undefined as unknown as DeadMansSwitch })).toThrow(/MonitoringPlan\.deadMansSwitch: .* is not allowed: a dead prober alerts nobody without one\. Fix: pass deadMansSwitch: DeadMansSwitch\.healthchecksIo\(\)/);
  });

  test.each([
    ['a disk threshold of 0', { diskWarningShare: 0 }, /MonitoringPlan\.diskWarningShare: 0 is not allowed: a disk threshold is a share of the disk above 0 and below 1.*Fix: use a share such as 0\.5/],
    ['a disk threshold above 100%', { diskCriticalShare: 1.2 }, /MonitoringPlan\.diskCriticalShare: 1\.2 is not allowed: .*100% alerts when the disk is already full\)\. Fix: use a share such as 0\.7/],
    ['a disk threshold of exactly 100%', { diskCriticalShare: 1 }, /MonitoringPlan\.diskCriticalShare: 1 is not allowed/],
    ['a percentage where a share belongs', { diskWarningShare: 50 }, /MonitoringPlan\.diskWarningShare: 50 is not allowed/],
    ['a warning above the critical share', { diskWarningShare: 0.8, diskCriticalShare: 0.7 }, /MonitoringPlan\.diskWarningShare: 0\.8 is not allowed: the warning must come before the critical alert \(0\.7\)\. Fix:/],
    ['an evaluation interval of 0', { evaluationInterval: Duration.seconds(0) }, /MonitoringPlan\.evaluationInterval: '0 ms' is not allowed: rules are evaluated every 1 second to 5 minutes/],
  ])('fails when alert thresholds are out of range: %s', (_, overrides, message) => {
    expect(() => plan(overrides as never)).toThrow(message);
  });

  test.each([
    ['an interval of 0', { interval: Duration.seconds(0) }, /\.interval: '0 ms' is not allowed: a check runs every 1 second to 2 minutes, in whole seconds .*\. Fix: use Duration\.seconds\(30\)/],
    // Slower than Prometheus's 5-minute staleness: no data between runs, MonitoringDataMissing fired every cycle.
    ['an interval above 2 minutes', { interval: Duration.minutes(30) }, /\.interval: '30 minutes' is not allowed: a check runs every 1 second to 2 minutes.*Prometheus drops a series 5 minutes after its last scrape/],
    ['a timeout longer than the interval', { interval: Duration.seconds(5), timeout: Duration.seconds(6) }, /\.timeout: '6 seconds' is not allowed: a probe times out after 1 second at least and the interval \(5 seconds\) at most/],
    ['an alert after more than a day', { alertAfter: Duration.days(2) }, /\.alertAfter: '2 days' is not allowed: an outage that alerts only after a day is not watched/],
    ['a certificate warning of 0', { certificateExpiry: Duration.seconds(0) }, /\.certificateExpiry: '0 ms' is not allowed: certificates warn 1 to 90 days ahead/],
    ['a certificate warning above 90 days', { certificateExpiry: Duration.days(120) }, /\.certificateExpiry: '120 days' is not allowed/],
    ['a status code of 42', { expectStatus: [42] }, /\.expectStatus: \[42\] is not allowed: status codes are 100-599/],
    ['a body pattern Go cannot run', { expectBody: '(?=ok)' }, /\.expectBody: '\(\?=ok\)' is not allowed: the blackbox exporter uses Go RE2, which has no lookaround or backreferences/],
    ['a body pattern that does not compile', { expectBody: '(' }, /\.expectBody: '\(' is not allowed: it is not a regular expression/],
  ])('fails when an uptime check is out of range: %s', (_, options, message) => {
    expect(() => UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu/health', options as never)).toThrow(message);
  });

  test('fails when staging gets a check, or two checks or receivers share a name', () => {
    expect(() => plan({ uptimeChecks: [UptimeCheck.http(Environment.STAGING, 'https://staging.acme.eu/')] }))
      .toThrow(/MonitoringPlan\.uptimeChecks: 'staging-acme-eu \(https:\/\/staging\.acme\.eu\/\)' is not allowed: staging exists on demand/);
    expect(() => plan({ uptimeChecks: [UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu/'), UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu:443/')] }))
      .toThrow(/MonitoringPlan\.uptimeChecks: 'acme-eu' is not allowed: two checks share a name/);
    expect(() => plan({ receivers: [ops, AlertReceiver.webhook('ops', { hostname: 'other.acme.eu' })] }))
      .toThrow(/MonitoringPlan\.receivers: 'ops' is not allowed: two different receivers share a name/);
  });

  test('fails on receivers that cannot send', () => {
    expect(() => AlertReceiver.webhook('Ops Team', { hostname: 'chat.acme.eu' })).toThrow(/AlertReceiver\(Ops Team\)\.name: "Ops Team" is not allowed: .*Fix: use a name such as 'ops'/);
    expect(() => AlertReceiver.webhook('ops', { hostname: 'https://chat.acme.eu/hook' })).toThrow(/AlertReceiver\(ops\)\.hostname: .* is not allowed: alerts leave through the egress allowlist, which holds host names/);
    expect(() => AlertReceiver.email('mail', { to: [], from: 'a@acme.eu', smarthost: 'smtp.acme.eu:587', username: 'a' })).toThrow(/AlertReceiver\(mail\)\.to: \[\] is not allowed/);
    expect(() => AlertReceiver.email('mail', { to: ['ops@acme.eu'], from: 'a@acme.eu', smarthost: 'smtp.acme.eu', username: 'a' })).toThrow(/AlertReceiver\(mail\)\.smarthost: "smtp\.acme\.eu" is not allowed: the SMTP server is written host:port/);
    expect(() => DeadMansSwitch.healthchecksIo({ interval: Duration.seconds(30) })).toThrow(/DeadMansSwitch\(healthchecks\.io\)\.interval: "30 seconds" is not allowed/);
    expect(() => DeadMansSwitch.selfHosted({ hostname: 'hc' })).toThrow(/DeadMansSwitch\(self-hosted Healthchecks\)\.hostname: "hc" is not allowed/);
  });

  test('fails when Phase 3 production has no monitoring machine', () => {
    const { production } = productFixture({ phase: Phase.THREE, withoutMonitoringMachine: true, backups: false });
    expect(synthErrors(production.stack)).toMatch(/acme-production\/Monitoring\.monitoringMachine: missing: Phase 3 moves Prometheus and Alertmanager off the production app machine\. Fix: create a Machine with role 'monitoring' and serverType cx33 in the production stack and pass it as monitoringMachine/);
  });

  test('an alert wait of a fraction of a second is refused as such, not as a wait of a day', () => {
    expect(() => UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu/health', { alertAfter: Duration.seconds(90.5) }))
      .toThrow(/^UptimeCheck\(https:\/\/acme\.eu\/health\)\.alertAfter: .* is not allowed: Prometheus takes the wait before an alert in whole seconds\. Fix: use Duration\.minutes\(2\), or whole seconds/);
    expect(() => UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu/health', { alertAfter: Duration.days(2) })).toThrow(/alerts only after a day is not watched/);
    expect(UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu/health', { alertAfter: Duration.seconds(90) }).alertAfter.toSeconds()).toBe(90);
  });

  // Audit (the same object passed twice): the app machine given as its own monitoring machine passed synth in Phase 3,
  // which moves Prometheus and Alertmanager off it: the prober stayed beside the app and went down with it.
  test('fails when the monitoring machine is the app machine itself', () => {
    const stack = new TerraformStack(Testing.app(), 'acme-production');
    new HcloudProvider(stack, 'hcloud', {});
    const app = new Machine(stack, 'App', { environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [SshKey.fromName('admin')], adminCidrs: ['203.0.113.0/24'] });
    new EnvironmentMonitoring(stack, 'Monitoring', { plan: plan(), phase: Phase.THREE, environment: Environment.PRODUCTION, machine: app, monitoringMachine: app });
    expect(synthErrors(stack)).toMatch(/acme-production\/Monitoring\.monitoringMachine: 'acme-production\/App' is not allowed: it is the app machine itself, so Prometheus and Alertmanager would stay on the machine they watch, and go down with it\. Fix: create a Machine of its own with role 'monitoring'/);
  });

  test('fails when the DSN is not a sensitive variable, or the endpoint is not a declared processor', () => {
    const stack = new TerraformStack(Testing.app(), 'acme-production');
    new HcloudProvider(stack, 'hcloud', {});
    const machine = new Machine(stack, 'App', { environment: Environment.TEST, role: 'app', serverType: ServerType.CX23 });
    const plain = new TerraformVariable(stack, 'dsn', { type: 'string' });
    expect(() => new ErrorMonitoring(stack, 'Errors', { machine, endpoint: ErrorMonitoringEndpoint.selfHosted(glitchTip), dsn: plain }))
      .toThrow(/^acme-production\/Errors\.dsn: 'var\.dsn' is not allowed: the variable is not marked sensitive, so Terraform would print the secret in plans and outputs\. Fix: declare it with \{ sensitive: true \} \(SecretVariable does\)$/);
    // One check with the storage box's: a missing DSN was quoted as '<a value>'; a pasted one is never printed (the whole message is matched).
    expect(() => new ErrorMonitoring(stack, 'Errors2', { machine, endpoint: ErrorMonitoringEndpoint.selfHosted(glitchTip), dsn: undefined as any }))
      .toThrow(/^acme-production\/Errors2\.dsn: missing: a secret comes from a sensitive Terraform variable\. Fix: pass new SecretVariable\(stack, 'name', \{ description \}\) and set it with TF_VAR_name$/);
    const pasted = 'https://0123456789abcdef@glitchtip.example.eu/1';
    expect(() => new ErrorMonitoring(stack, 'Errors3', { machine, endpoint: ErrorMonitoringEndpoint.selfHosted(glitchTip), dsn: pasted as any }))
      .toThrow(/^acme-production\/Errors3\.dsn: '<a value>' is not allowed: a secret must come from a sensitive Terraform variable, never from the code\. Fix: pass new SecretVariable\(stack, 'name', \{ description \}\) and set it with TF_VAR_name$/);
    expect(() => ErrorMonitoringEndpoint.hosted(new Processor({ name: 'Nowhere', legalSeat: { city: 'Paris', country: 'FR' }, hostnames: [] })))
      .toThrow(/ErrorMonitoringEndpoint\.processor: 'Nowhere' is not allowed: it names no host/);
    expect(() => ErrorMonitoringEndpoint.sentryEuRegion({ ingestHostname: 'o1.ingest.us.sentry.io' }))
      .toThrow(/ErrorMonitoringEndpoint\.sentryEuRegion\.ingestHostname: "o1\.ingest\.us\.sentry\.io" is not allowed: events for the EU data region/);
    expect(() => ErrorMonitoringEndpoint.sentryEuRegion({ ingestHostname: 'o1.ingest.de.sentry.io', usSeatAccepted: 'fine' }))
      .toThrow(/usSeatAccepted: "fine" is not allowed: accepting a US-seated processor needs a specific reason of at least 20 characters/);
  });

  test('each value type works with only its required props', () => {
    expect(new MonitoringPlan({ uptimeChecks: [], receivers: [ops], deadMansSwitch: DeadMansSwitch.healthchecksIo() }).diskWarningShare).toBe(0.5);
    const check = UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu/health');
    expect([check.name, check.interval.toString(), check.timeout.toString(), check.alertAfter.toString(), check.certificateExpiry?.toString(), check.expectStatus])
      .toEqual(['acme-eu-health', '30 seconds', '10 seconds', '2 minutes', '14 days', [200]]);
    const tcp = UptimeCheck.tcp(Environment.TEST, 'mail.acme.eu', 587);
    expect([tcp.name, tcp.tls, tcp.certificateExpiry]).toEqual(['mail-acme-eu-587', false, undefined]);
    expect(DeadMansSwitch.healthchecksIo().toString()).toBe('healthchecks.io (hc-ping.com), every 5 minutes');
  });
});

test('a secret pasted where a host or URL belongs is refused without being printed (refusals end up in CI logs)', () => {
  const refusal = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error('accepted');
  };
  const webhook = refusal(() => AlertReceiver.webhook('ops', { hostname: 'https://hooks.slack.com/services/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' }));
  const dsn = refusal(() => ErrorMonitoringEndpoint.sentryEuRegion({ ingestHostname: 'https://0123456789abcdef0123456789abcdef@o123456.ingest.de.sentry.io/4507' }));
  const credentials = refusal(() => UptimeCheck.http(Environment.PRODUCTION, 'https://admin:Sup3rSecret@acme.eu/health'));
  expect(webhook).toMatch(/AlertReceiver\(ops\)\.hostname: .*hooks\.slack\.com.* is not allowed/);
  expect(webhook).not.toContain('Xq9wZr3TnV8kLmP2sDc4BfHj');
  expect(dsn).toMatch(/ingestHostname: .*o123456\.ingest\.de\.sentry\.io.* is not allowed/);
  expect(dsn).not.toContain('0123456789abcdef0123456789abcdef');
  expect(credentials).toMatch(/\.url: .*acme\.eu.* is not allowed: an HTTP check takes an http:\/\/ or https:\/\/ URL without credentials/);
  expect(credentials).not.toContain('Sup3rSecret');
  // Audit (messages): the DSN itself passed where the endpoint's processor belongs was printed whole, key and all.
  const dsnAsProcessor = refusal(() => ErrorMonitoringEndpoint.selfHosted('https://0123456789abcdef0123456789abcdef@errors.acme.eu/1' as unknown as Processor));
  expect(dsnAsProcessor).toMatch(/^ErrorMonitoringEndpoint\.processor: 'https:\/\/<redacted>@errors\.acme\.eu\/1' is not allowed: the endpoint is a processor of the boundary\. Fix: pass new Processor\(/);
  expect(dsnAsProcessor).not.toContain('0123456789abcdef0123456789abcdef');
  // Audit (messages): a self-hosted Healthchecks ping URL (whoever has it can ping) pasted where the host belongs was printed whole.
  const pingUrl = refusal(() => DeadMansSwitch.selfHosted({ hostname: 'https://hc.acme.eu/ping/0c3f5e3a-1b2c-4d5e-8f90-123456789abc' }));
  expect(pingUrl).toMatch(/^DeadMansSwitch\(self-hosted Healthchecks\)\.hostname: "https:\/\/hc\.acme\.eu\/<redacted>" is not allowed: pings leave through the egress allowlist.*Fix: /);
  expect(pingUrl).not.toContain('0c3f5e3a');
  // Audit (messages): a TCP check's host with credentials was printed twice, in the path and as the value.
  const tcpHost = refusal(() => UptimeCheck.tcp(Environment.PRODUCTION, 'https://monitor:Sup3rSecret@acme.eu/x', 443));
  expect(tcpHost).toMatch(/^UptimeCheck\(https:\/\/<redacted>@acme\.eu\/x:443\)\.target: 'https:\/\/<redacted>@acme\.eu\/x:443' is not allowed: the host is not a fully qualified lowercase host name\. Fix: /);
  expect(tcpHost).not.toContain('Sup3rSecret');
  // Audit (secrets11): the same login without a scheme was printed whole, in the path and as the value.
  const bareLogin = refusal(() => UptimeCheck.tcp(Environment.PRODUCTION, 'monitor:Sup3rSecret@acme.eu', 443));
  expect(bareLogin).toMatch(/^UptimeCheck\(<redacted>@acme\.eu:443\)\.target: '<redacted>@acme\.eu:443' is not allowed: the host is not a fully qualified lowercase host name\. Fix: /);
  expect(bareLogin).not.toContain('Sup3rSecret');
  // The same for a wrong option of an HTTP check whose URL carries a token in its query.
  const tokenUrl = refusal(() => UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu/health?token=s3cr3t-t0ken', { interval: Duration.minutes(30) }));
  expect(tokenUrl).toMatch(/^UptimeCheck\(https:\/\/acme\.eu\/<redacted>\)\.interval: '30 minutes' is not allowed/);
  expect(tokenUrl).not.toContain('s3cr3t');
  // Audit (secrets11): a webhook URL passed as the receiver's name (its first argument) was redacted as the value, and
  // printed whole in the path before it, token and all.
  for (const build of [
    (name: string) => AlertReceiver.webhook(name, { hostname: 'hooks.slack.com' }),
    (name: string) => AlertReceiver.email(name, { to: ['ops@acme.eu'], from: 'alerts@acme.eu', smarthost: 'smtp.acme.eu 587', username: 'alerts' }),
  ]) {
    const urlAsName = refusal(() => build('https://hooks.slack.com/services/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'));
    expect(urlAsName).toMatch(/^AlertReceiver\(https:\/\/hooks\.slack\.com\/<redacted>\)\.(name|smarthost): .* is not allowed/);
    expect(urlAsName).not.toContain('Xq9wZr3TnV8kLmP2sDc4BfHj');
  }
  // A value left out reads as left out, not as the text "undefined".
  expect(refusal(() => ErrorMonitoringEndpoint.hosted(undefined as unknown as Processor))).toMatch(/^ErrorMonitoringEndpoint\.processor: undefined is not allowed/);
});
