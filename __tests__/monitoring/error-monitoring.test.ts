import { Processor } from '../../lib';
import { boundaryDocument } from '../../lib/boundary/boundary-document';
import { BOUNDARY_RULES } from '../../lib/boundary/rules';
import { ErrorMonitoringEndpoint } from '../../lib/monitoring/error-monitoring-endpoint';
import { ERROR_MONITORING_ENDPOINT_RULE_ID, errorMonitoringEndpoint } from '../../lib/monitoring/error-monitoring-rule';
import { boundary, glitchTip, plan, productFixture, synth, synthErrors, userDataOf } from './helpers/fixture';
import { MachineRoot } from './helpers/machine-root';

// The rule pack as the lead wires it: BOUNDARY_RULES with the error-monitoring rule. BoundarySuppressions
// accepts only ids of the pack, so the suppressed case needs it there; once lib/boundary/rules/index.ts
// lists the rule, this mock changes nothing.
jest.mock('../../lib/boundary/rules', () => {
  const actual = jest.requireActual('../../lib/boundary/rules');
  const { errorMonitoringEndpoint: rule } = jest.requireActual('../../lib/monitoring/error-monitoring-rule');
  return { ...actual, BOUNDARY_RULES: actual.BOUNDARY_RULES.some((r: { id: string }) => r.id === rule.id) ? actual.BOUNDARY_RULES : [...actual.BOUNDARY_RULES, rule] };
});

const bugsink = new Processor({ name: 'Errors EU GmbH', legalSeat: { city: 'Munich', country: 'DE' }, hostnames: ['ingest.errors-eu.example'], purpose: 'error monitoring' });

describe(`${ERROR_MONITORING_ENDPOINT_RULE_ID}: error monitoring under the data boundary`, () => {
  test('the rule is in the pack the suppressions and the boundary document read', () => {
    expect(BOUNDARY_RULES.map((r) => r.id)).toContain(ERROR_MONITORING_ENDPOINT_RULE_ID);
    expect(errorMonitoringEndpoint.level).toBe('error');
  });

  test('compliant: a self-hosted GlitchTip declared in the policy passes, and the boundary document shows the flow', () => {
    const { test, production } = productFixture({ backups: false });
    expect(synthErrors(production.stack)).toBe('');
    const doc = boundaryDocument({ title: 'acme', policy: boundary(), stacks: [test.stack, production.stack] });
    expect(doc).toContain('| acme-production/Monitoring/ErrorMonitoring | pseudonymized | GlitchTip (self-hosted by Acme) | pseudonymized | error events (scrubbed) of the production applications | yes |');
    expect(doc).toContain(`| ${ERROR_MONITORING_ENDPOINT_RULE_ID} |`);
  });

  test('compliant: an endpoint built from its own, equal Processor object passes: processors compare by value', () => {
    const same = new Processor({ name: glitchTip.name, legalSeat: glitchTip.legalSeat!, hostnames: [...glitchTip.hostnames], purpose: 'error monitoring' });
    const { production } = productFixture({ backups: false, plan: plan({ errorMonitoring: ErrorMonitoringEndpoint.selfHosted(same) }) });
    expect(synthErrors(production.stack)).toBe('');
  });

  test('compliant: a hosted EU-seated provider declared in the policy passes, and its host joins the app\'s egress allowlist', () => {
    const { production } = productFixture({ plan: plan({ errorMonitoring: ErrorMonitoringEndpoint.hosted(bugsink) }), policy: boundary([bugsink]), backups: false });
    const json = synth(production.stack);
    const root = MachineRoot.create(userDataOf(json, 'acme-production-app'));
    try {
      expect(root.read('/etc/sovereign/egress-hostnames')).toMatch(/^ingest\.errors-eu\.example$/m);
    } finally {
      root.remove();
    }
  });

  test('non-compliant: an endpoint not declared in the policy fails synth with the fix', () => {
    const { production } = productFixture({ plan: plan({ errorMonitoring: ErrorMonitoringEndpoint.hosted(bugsink) }), backups: false });
    expect(synthErrors(production.stack)).toContain(`${ERROR_MONITORING_ENDPOINT_RULE_ID}: acme-production/Monitoring/ErrorMonitoring.endpoint: 'Errors EU GmbH (Munich, DE)' is not allowed: the endpoint is not declared in the boundary policy`);
    expect(synthErrors(production.stack)).toMatch(/Fix: add \{ dataClass: DataClass\.PUBLIC, to: \[processor\], form: EgressForm\.RAW \} and \{ dataClass: DataClass\.PSEUDONYMIZED/);
  });

  test('non-compliant: an endpoint the policy allows only public data fails, since error events are pseudonymized at least', () => {
    const { AiActRole, BoundaryPolicy, DataClass, EgressForm } = jest.requireActual('../../lib');
    const publicOnly = new BoundaryPolicy({ aiActRoles: [AiActRole.DEPLOYER], egress: [{ dataClass: DataClass.PUBLIC, to: [glitchTip], form: EgressForm.RAW }] });
    const { production } = productFixture({ policy: publicOnly, backups: false });
    expect(synthErrors(production.stack)).toMatch(/Boundary-ErrorMonitoringEndpoint: .*'GlitchTip \(self-hosted by Acme\) \(Berlin, DE\)' is not allowed: the policy does not let pseudonymized \(scrubbed\) data go to it/);
  });

  test("non-compliant: Sentry's EU data region fails, because its company is seated in the US", () => {
    const sentry = ErrorMonitoringEndpoint.sentryEuRegion({ ingestHostname: 'o123456.ingest.de.sentry.io' });
    const { production } = productFixture({ plan: plan({ errorMonitoring: sentry }), backups: false });
    const errors = synthErrors(production.stack);
    expect(errors).toContain(`${ERROR_MONITORING_ENDPOINT_RULE_ID}: acme-production/Monitoring/ErrorMonitoring.endpoint: 'Sentry (Functional Software, Inc.) (San Francisco, US)' is not allowed: error events carry user data, and the processor is seated outside the EU`);
    expect(errors).toMatch(/Fix: self-host GlitchTip inside the control plane \(ErrorMonitoringEndpoint\.selfHosted\), use an EU-seated provider \(ErrorMonitoringEndpoint\.hosted\), or accept the seat with a reason/);
    // The flow itself is outside the policy too.
    expect(errors).toMatch(/Boundary-ProcessorAllowed: acme-production\/Monitoring\/ErrorMonitoring\.dataFlow: 'pseudonymized → Sentry \(Functional Software, Inc\.\) \(pseudonymized\)' is not allowed/);
  });

  test('suppressed: Sentry with the US seat accepted for a reason passes, and the boundary document lists the reason', () => {
    const reason = 'DPA with SCCs signed 2026-03; events scrubbed by before_send; EU region (Frankfurt)';
    const sentry = ErrorMonitoringEndpoint.sentryEuRegion({ ingestHostname: 'o123456.ingest.de.sentry.io', usSeatAccepted: reason });
    const { test, production } = productFixture({ plan: plan({ errorMonitoring: sentry }), backups: false });
    expect(synthErrors(production.stack)).toBe('');
    const doc = boundaryDocument({ title: 'acme', policy: boundary(), stacks: [test.stack, production.stack] });
    expect(doc).toContain(`| ${ERROR_MONITORING_ENDPOINT_RULE_ID} | acme-production/Monitoring/ErrorMonitoring | ${reason} |`);
    expect(doc).toContain(`| Boundary-ProcessorAllowed | acme-production/Monitoring/ErrorMonitoring | ${reason} |`);
    expect(doc).toContain('| acme-production/Monitoring/ErrorMonitoring | pseudonymized | Sentry (Functional Software, Inc.) | pseudonymized | error events (scrubbed) of the production applications | **no** |');
    // The app can reach the ingest host: it is in the egress allowlist.
    const root = MachineRoot.create(userDataOf(synth(production.stack), 'acme-production-app'));
    try {
      expect(root.read('/etc/sovereign/egress-hostnames')).toMatch(/^o123456\.ingest\.de\.sentry\.io$/m);
    } finally {
      root.remove();
    }
  });

  describe('on the machine', () => {
    // One synth of production's app machine for these tests, made by the first that asks; each makes a root of its own
    // from the user data, a string no test can change.
    let userData: string | undefined;
    const productionUserData = () => userData ??= userDataOf(synth(productFixture({ backups: false }).production.stack), 'acme-production-app');

    test('the setup writes the DSN and the environment for the applications, root-only', () => {
      const root = MachineRoot.create(productionUserData());
      try {
        const result = root.setup('error-monitoring', 'production', 'errors.acme.eu');
        expect(result).toEqual({ status: 0, output: '' });
        expect(root.read('/etc/sovereign/error-monitoring.env')).toBe('SENTRY_DSN=https://0123456789abcdef0123456789abcdef@errors.acme.eu/1\nSENTRY_ENVIRONMENT=production\n');
        expect(require('fs').statSync(root.path('/etc/sovereign/error-monitoring.env')).mode & 0o777).toBe(0o600);
        // The command cloud-init runs is exactly this one.
        expect(require('yaml').parse(root.userData).runcmd).toContainEqual(['/usr/local/sbin/sovereign-monitoring-setup', 'error-monitoring', 'production', 'errors.acme.eu']);
      } finally {
        root.remove();
      }
    });

    // The second, from the audit of secrets: an http:// DSN at the declared host was written for the
    // applications, which then sent its key and every error event in clear text.
    test.each([
      ['points elsewhere than the declared endpoint', 'https://0123456789abcdef0123456789abcdef@o1.ingest.us.sentry.io/1',
        /the DSN points to 'o1\.ingest\.us\.sentry\.io', not to the declared error-monitoring host\(s\) errors\.acme\.eu/],
      ['is not https://', 'http://0123456789abcdef0123456789abcdef@errors.acme.eu/1',
        /the DSN is not https:\/\/; its key and the error events would travel in clear text/],
    ])('the setup refuses a DSN that %s, without printing it or writing it', (_, dsn, said) => {
      const root = MachineRoot.create(productionUserData(), {
        error_monitoring_dsn: dsn, monitoring_deadman_ping_url_production: 'https://hc-ping.com/x', monitoring_webhook_ops: 'https://chat.acme.eu/x',
      });
      try {
        const result = root.setup('error-monitoring', 'production', 'errors.acme.eu');
        expect(result.status).not.toBe(0);
        expect(result.output).toMatch(said);
        expect(result.output).not.toMatch(/0123456789abcdef/);
        expect(require('fs').existsSync(root.path('/etc/sovereign/error-monitoring.env'))).toBe(false);
      } finally {
        root.remove();
      }
    });
  });
});
