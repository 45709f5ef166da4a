import {
  AdminAccess, AiActRole, AlertReceiver, BoundaryPolicy, DataClass, DataFlowProps, DeadMansSwitch, EgressForm, Environment,
  ErrorMonitoringEndpoint, MonitoringPlan, Processor, ProductBackupOptions, RestoreCheck, S3Provider, UptimeCheck,
} from '../lib';
import { DEFAULT_STAGING_DAYS, expiryAfterDays } from '../lib/environments/staging';

/**
 * The examples' error monitoring: a GlitchTip the team hosts itself in the EU. Error events carry user
 * data, so it is a processor like any other, allowed only scrubbed data.
 */
const EXAMPLE_GLITCHTIP = new Processor({
  name: 'GlitchTip (self-hosted)', legalSeat: { city: 'Berlin', country: 'DE' }, hostnames: ['errors.example.eu'], purpose: 'error monitoring',
});

/**
 * The examples' stand-in admin access: replace the keys with your team's public keys and the
 * blocks with your office or VPN ranges (these are documentation ranges, RFC 5737 / RFC 3849).
 * The admin's key opens production (and staging). Test has a deploy key of its own, the private half of
 * test's ADMIN_SSH_KEY: every test CI job holds it, so it must not open production
 * (`Environment-SharedAdminKey`); and Hetzner registers a key once per project, so with no key in both,
 * test and production deploy to one project as well as to a project each.
 */
export const EXAMPLE_ADMIN: AdminAccess = {
  sshPublicKeys: { admin: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr admin@example.eu' },
  environmentSshPublicKeys: {
    test: { deploy: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRuSkE3pmggc+7xLribpi9MlYDzZ4P/b721RyLC8lGy test-deploy@example.eu' },
  },
  cidrs: ['203.0.113.0/24', '2001:db8::/32'],
};

/**
 * When an example's staging environment expires. The release path sets STAGING_EXPIRES_AT when it
 * brings staging up. Without it the examples give staging the release path's default life, from today:
 * a fixed date turned into a warning as it neared, and into an expired staging after it, on a newcomer's
 * first synth. The tests pin the variable, so their output is stable.
 */
export const STAGING_EXPIRES_AT = process.env.STAGING_EXPIRES_AT ?? expiryAfterDays(DEFAULT_STAGING_DAYS, new Date());

/**
 * The examples' data boundary: public data may go raw to Mistral AI and Jina AI, scrubbed
 * (pseudonymized) data only to Mistral AI, and sensitive data and secrets never leave. The team
 * deploys models through APIs, so it is a deployer under the AI Act.
 */
export function exampleBoundary(): { boundary: BoundaryPolicy; dataFlows: DataFlowProps[] } {
  const mistral = Processor.mistralAi();
  const jina = Processor.jinaAi();
  const boundary = new BoundaryPolicy({
    aiActRoles: [AiActRole.DEPLOYER],
    egress: [
      { dataClass: DataClass.PUBLIC, to: [mistral, jina, EXAMPLE_GLITCHTIP], form: EgressForm.RAW },
      { dataClass: DataClass.PSEUDONYMIZED, to: [mistral, EXAMPLE_GLITCHTIP], form: EgressForm.PSEUDONYMIZED },
    ],
  });
  return {
    boundary,
    dataFlows: [
      { processor: mistral, dataClass: DataClass.PSEUDONYMIZED, form: EgressForm.PSEUDONYMIZED, purpose: 'drafting answers from scrubbed tenant questions' },
      { processor: jina, dataClass: DataClass.PUBLIC, form: EgressForm.RAW, purpose: 'embedding the public product documentation' },
    ],
  };
}

/**
 * The examples' backups: the restore drill proves the tenants table came back, and from Phase 2 an
 * offsite copy goes to Scaleway (Paris) as well as the Storage Box.
 */
export function exampleBackup(options: { offsite: boolean }): ProductBackupOptions {
  return {
    restoreChecks: [RestoreCheck.sql('tenants-present', { database: 'app', query: 'SELECT count(*) > 0 FROM tenants' })],
    ...(options.offsite ? { offsite: S3Provider.SCALEWAY } : {}),
  };
}

/**
 * The examples' monitoring: each environment's health URL is probed from the other environment's
 * machine, alerts go to the team's chat webhook, a dead prober pings healthchecks.io no more, and
 * errors go to the self-hosted GlitchTip.
 */
export function exampleMonitoring(domain: string): MonitoringPlan {
  return new MonitoringPlan({
    uptimeChecks: [
      UptimeCheck.http(Environment.PRODUCTION, `https://${domain}/health`),
      UptimeCheck.http(Environment.TEST, `https://test.${domain}/health`),
    ],
    receivers: [AlertReceiver.webhook('ops', { hostname: 'chat.example.eu' })],
    deadMansSwitch: DeadMansSwitch.healthchecksIo(),
    errorMonitoring: ErrorMonitoringEndpoint.selfHosted(EXAMPLE_GLITCHTIP),
  });
}
