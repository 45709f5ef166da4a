import { AlertReceiver, DeadMansSwitch, Environment, MonitoringPlan, RestoreCheck, UptimeCheck } from '../../lib';

// A product's everyday props, shared by the suites that build Products: one admin key and network, the
// drill's check, and a monitoring plan with a check per always-on environment.

export const admin = { sshPublicKeys: { ops: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr ops@acme.eu' }, cidrs: ['198.51.100.0/24'] };
export const backup = { restoreChecks: [RestoreCheck.sql('users-present', { database: 'app', query: 'SELECT count(*) > 0 FROM users' })] };
export const monitoring = new MonitoringPlan({
  uptimeChecks: [UptimeCheck.http(Environment.PRODUCTION, 'https://acme.eu/health'), UptimeCheck.http(Environment.TEST, 'https://test.acme.eu/health')],
  receivers: [AlertReceiver.webhook('ops', { hostname: 'chat.acme.eu' })],
  deadMansSwitch: DeadMansSwitch.healthchecksIo(),
});
