import { HcloudApiStandIn, StandInResource } from '../environments/hcloud-api-stand-in';
import { cli } from './cli';

const onDemand = (stack: string) => ({ environment: 'staging', lifecycle: 'on-demand', purpose: 'release-rehearsal', 'expires-at': '2026-11-28', stack });
const empty = (): Record<string, StandInResource[]> => ({ servers: [], load_balancers: [], volumes: [], primary_ips: [], floating_ips: [], firewalls: [], networks: [], ssh_keys: [], placement_groups: [] });

// Audit (release): the release path checked that staging was down, then brought it up: two releases at once both
// passed the check. A claim is a name Hetzner takes once per project, and a release gives up only its own.
describe('cdktf-sovereign-hetzner staging claim and unclaim', () => {
  let api: HcloudApiStandIn;
  let env: NodeJS.ProcessEnv;
  beforeEach(async () => {
    api = new HcloudApiStandIn(empty());
    env = { HCLOUD_TOKEN: 'test-token', HCLOUD_ENDPOINT: await api.start() };
  });
  afterEach(() => api.stop());

  const claim = (release: string, stack = 'acme-staging') => cli(['staging', 'claim', '--stack', stack, '--release', release, '--expires-at', '2026-11-28'], env);
  const unclaim = (release: string, stack = 'acme-staging') => cli(['staging', 'unclaim', '--stack', stack, '--release', release], env);

  test('the first claim wins; a second is refused naming the holder, and its unclaim leaves the holder\'s claim alone', async () => {
    expect(await claim('rel-one')).toMatchObject({ code: 0, out: 'Staging of acme-staging is claimed by release rel-one until 2026-11-28.' });
    expect(api.collections.placement_groups).toEqual([{ id: expect.any(Number), name: 'acme-staging-release-claim',
      labels: { ...onDemand('acme-staging'), release: 'rel-one' } }]);
    const second = await claim('rel-two');
    expect(second.code).toBe(1);
    expect(second.err).toBe('error: staging of acme-staging is claimed by release rel-one (expires-at 2026-11-28): it is bringing staging up, rehearsing on it '
      + 'or taking it down. Nothing was changed. Fix: let that release end, then release again; if it no longer runs (it was killed), take staging down '
      + '(STAGING_EXPIRES_AT=2026-11-28 npx cdktf destroy acme-staging --auto-approve), give up its claim '
      + '(npx cdktf-sovereign-hetzner staging unclaim --stack acme-staging --release rel-one), then release again.');
    expect(await unclaim('rel-two')).toMatchObject({ code: 0, out: 'Staging of acme-staging is claimed by release rel-one, not rel-two: left alone.' });
    expect(api.collections.placement_groups).toHaveLength(1);
    // Another stack, whose name shares the prefix, has a claim of its own.
    expect((await claim('rel-three', 'acme-staging-lab-staging')).code).toBe(0);
    expect(await unclaim('rel-one')).toMatchObject({ code: 0, out: 'Release rel-one gave up its claim on staging of acme-staging.' });
    expect(api.collections.placement_groups.map((p) => p.name)).toEqual(['acme-staging-lab-staging-release-claim']);
  });

  test('a claim is refused, and given up again, while staging a release left up is there; unclaim keeps it while staging is up', async () => {
    api.collections.servers.push({ id: 1, name: 'acme-staging-app', labels: onDemand('acme-staging') });
    const refused = await claim('rel-one');
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/^error: staging of acme-staging is up already: server acme-staging-app \(id 1, expires-at 2026-11-28\)\. /);
    expect(api.collections.placement_groups).toEqual([]);
    // Held, then staging is left up (its take-down failed): the claim stays, so no other release builds on it.
    api.collections.servers.splice(0, 1);
    expect((await claim('rel-one')).code).toBe(0);
    api.collections.servers.push({ id: 2, name: 'acme-staging-app', labels: onDemand('acme-staging') });
    const kept = await unclaim('rel-one');
    expect(kept.code).toBe(1);
    expect(kept.err).toBe('error: staging of acme-staging is still up: server acme-staging-app (id 2, expires-at 2026-11-28). The claim of release rel-one stays, '
      + 'so that no other release is built on it. Fix: take staging down (STAGING_EXPIRES_AT=2026-11-28 npx cdktf destroy acme-staging --auto-approve), '
      + 'then run npx cdktf-sovereign-hetzner staging unclaim --stack acme-staging --release rel-one.');
    expect(api.collections.placement_groups).toHaveLength(1);
  });

  test('a claim a killed release left is deleted with its staging once it expires, and not before', async () => {
    expect((await claim('rel-killed')).code).toBe(0);
    const before = await cli(['staging', 'delete-expired', '--yes', '--now', '2026-11-27T23:59:00Z'], env);
    expect(before).toMatchObject({ code: 0, out: 'Deleted 0 expired staging resource(s).' });
    const after = await cli(['staging', 'delete-expired', '--yes', '--now', '2026-11-28T00:00:00Z'], env);
    expect(after.code).toBe(0);
    expect(api.deleted).toEqual(['placement_groups/acme-staging-release-claim']);
    expect((await claim('rel-next')).code).toBe(0);
  });

  test('a holder that gives its claim up between the refused create and the look at it: the claim is taken, not called foreign', async () => {
    // What Hetzner answers while the other release still holds the name; by the time this one looks, it has given it up.
    api.failures.push({ match: 'POST /v1/placement_groups', status: 409, code: 'uniqueness_error', times: 1 });
    expect(await claim('rel-one')).toMatchObject({ code: 0, out: 'Staging of acme-staging is claimed by release rel-one until 2026-11-28.' });
    expect(api.collections.placement_groups).toEqual([expect.objectContaining({ name: 'acme-staging-release-claim', labels: { ...onDemand('acme-staging'), release: 'rel-one' } })]);
  });

  test('a placement group of the claim\'s name that is no claim is named, and left alone', async () => {
    api.collections.placement_groups.push({ id: 5, name: 'acme-staging-release-claim', labels: {} });
    const { code, err } = await claim('rel-one');
    expect(code).toBe(1);
    expect(err).toMatch(/^error: a placement group named acme-staging-release-claim exists, but it is no release's claim .* Fix: rename or delete that placement group/);
    expect(api.deleted).toEqual([]);
  });

  test.each([
    [['--stack', 'acme/staging', '--release', 'r', '--expires-at', '2026-11-28'], /--stack acme\/staging is not allowed: a Hetzner label value/],
    [['--stack', 'acme-staging', '--release', 'r', '--expires-at', '28.11.2026'], /--expires-at 28\.11\.2026 is not allowed: an expiry is a UTC date written YYYY-MM-DD/],
    [['--stack', 'acme-staging', '--expires-at', '2026-11-28'], /--release is required/],
  ])('claim refuses %j before any request, as a usage error (exit 2)', async (args, message) => {
    const { code, err } = await cli(['staging', 'claim', ...args], env);
    expect(code).toBe(2);
    expect(err).toMatch(message);
    expect(api.requests).toEqual([]);
  });
});
