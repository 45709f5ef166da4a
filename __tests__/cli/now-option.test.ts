import { HcloudApiStandIn } from '../environments/hcloud-api-stand-in';
import { parseInstant } from '../../cli/instant';
import { cli } from './cli';

const onDemand = (expiresAt: string) => ({ environment: 'staging', lifecycle: 'on-demand', purpose: 'release-rehearsal', 'expires-at': expiresAt });

describe('--now names one instant, whatever the time zone of whoever runs the command', () => {
  let api: HcloudApiStandIn;
  let endpoint: string;
  const zoneBefore = process.env.TZ;
  beforeEach(async () => {
    api = new HcloudApiStandIn({
      servers: [{ id: 1, name: 'acme-staging-app', labels: onDemand('2026-11-20') }],
      load_balancers: [], volumes: [], primary_ips: [], floating_ips: [], firewalls: [], networks: [], ssh_keys: [], placement_groups: [],
    });
    endpoint = await api.start();
  });
  afterEach(() => {
    api.stop();
    if (zoneBefore === undefined) delete process.env.TZ; else process.env.TZ = zoneBefore;
  });
  const run = (args: string[]) => cli(args, { HCLOUD_TOKEN: 'test-token', HCLOUD_ENDPOINT: endpoint });

  test.each([
    // Read as local time: on a runner in Kiritimati (UTC+14) this was 2026-11-19T10:00Z, and the expired server "not expired".
    ['2026-11-20T00:00', /names no time zone/],
    ['2026-11-20 09:30:00', /names no time zone/],
    // Read as 1 December 2001, and 2 March 2026.
    ['12', /is not an ISO 8601 time/],
    ['2026-02-30T00:00:00Z', /is not a calendar date/],
    ['2026-11-20T24:00:00Z', /is not a calendar date/],
    ['2026-11-20T00:00:00+15:00', /is not a time zone offset/],
    ['2026-11-20T00:00:00-13:00', /is not a time zone offset/],
  ])('staging delete-expired --yes --now %s is refused before any request, naming the value and the fix', async (now, why) => {
    process.env.TZ = 'Pacific/Kiritimati';
    const { code, err } = await run(['staging', 'delete-expired', '--yes', '--now', now]);
    expect({ code, deleted: api.deleted, requests: api.requests }).toEqual({ code: 2, deleted: [], requests: [] });
    expect(err).toMatch(why);
    expect(err).toContain(`--now ${now} is not allowed`);
    expect(err).toMatch(/Fix: pass an ISO time with its zone, such as 2026-12-01T00:00:00Z/);
  });

  test('a time with its zone, or a bare date (UTC), is the same instant in any time zone', async () => {
    for (const zone of ['UTC', 'Pacific/Kiritimati', 'America/Los_Angeles']) {
      process.env.TZ = zone;
      expect(parseInstant('--now', '2026-11-20T00:00:00Z').toISOString()).toBe('2026-11-20T00:00:00.000Z');
      expect(parseInstant('--now', '2026-11-20').toISOString()).toBe('2026-11-20T00:00:00.000Z');
      expect(parseInstant('--now', '2026-11-20T01:30:15.25+01:30').toISOString()).toBe('2026-11-20T00:00:15.250Z');
      expect(parseInstant('--now', '2026-11-19T14:00:00-10:00').toISOString()).toBe('2026-11-20T00:00:00.000Z');
    }
    process.env.TZ = 'Pacific/Kiritimati';
    const { code, out } = await run(['staging', 'list', '--now', '2026-11-20T00:00:00+14:00']);
    expect(code).toBe(0);
    expect(out).toMatch(/acme-staging-app\t\(id 1\)\texpires-at 2026-11-20\tnot expired/);
    expect((await run(['staging', 'list', '--now', '2026-11-20'])).out).toMatch(/expires-at 2026-11-20\texpired/);
  });
});
