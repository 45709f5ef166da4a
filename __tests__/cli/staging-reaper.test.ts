import { spawnSync } from 'child_process';
import * as http from 'http';
import { AddressInfo } from 'net';
import { runCli } from '../../cli/run-cli';
import { freePort } from '../setup/ports';
import { HcloudApiStandIn, StandInResource } from '../environments/hcloud-api-stand-in';
import { cli } from './cli';
import { loopbackOnlyFetch } from '../setup/loopback-only-fetch';
import { STAND_IN_TOKEN } from '../../testing/harness/stand-in-names';
import { STAND_IN_STEPS } from '../../cli/production-project';
import { testWhereHostHas } from '../setup/real-parts';

/** Whether this host can listen on IPv6's loopback: a container without IPv6 cannot, which no package changes. */
const hasIpv6Loopback = spawnSync(process.execPath, ['-e',
  "require('net').createServer().once('error', () => process.exit(1)).listen(0, '::1', function () { this.close(); })"]).status === 0;

const onDemand = (expiresAt: string) => ({ environment: 'staging', lifecycle: 'on-demand', purpose: 'release-rehearsal', 'expires-at': expiresAt, stack: 'acme-staging' });

function cloud(): Record<string, StandInResource[]> {
  return {
    servers: [
      { id: 1, name: 'acme-staging-app', labels: onDemand('2026-11-20') },
      { id: 2, name: 'acme-production-app', labels: { environment: 'production', role: 'app' }, protection: { delete: true } },
      { id: 3, name: 'acme-test-app', labels: { environment: 'test', role: 'app' } },
      { id: 4, name: 'acme-staging-next', labels: onDemand('2026-12-24') },
      { id: 5, name: 'hand-made-staging', labels: { environment: 'staging', 'expires-at': '2026-01-01' } },
    ],
    load_balancers: [],
    volumes: [],
    primary_ips: [
      { id: 11, name: 'acme-staging-app-ipv4', labels: onDemand('2026-11-20') },
      { id: 12, name: 'acme-staging-app-ipv6', labels: onDemand('2026-11-20') },
      { id: 13, name: 'acme-staging-locked', labels: onDemand('2026-11-20'), protection: { delete: true } },
    ],
    floating_ips: [],
    firewalls: [{ id: 21, name: 'acme-staging-app-firewall', labels: onDemand('2026-11-20') }],
    networks: [
      { id: 31, name: 'acme-staging-network', labels: onDemand('2026-11-20') },
      { id: 32, name: 'acme-staging-odd', labels: onDemand('soon') },
    ],
    ssh_keys: [{ id: 41, name: 'acme-staging-ops', labels: onDemand('2026-11-20') }],
    placement_groups: [],
  };
}

async function run(args: string[], api: HcloudApiStandIn, endpoint: string, token = 'test-token') {
  return { ...await cli(args, { HCLOUD_TOKEN: token, HCLOUD_ENDPOINT: endpoint }), api };
}

describe('cdktf-sovereign-hetzner staging', () => {
  let api: HcloudApiStandIn;
  let endpoint: string;
  // The refusals below keep a token from Hetzner's API or another host: should one regress, its request fails here.
  let net: ReturnType<typeof loopbackOnlyFetch>;
  beforeEach(async () => {
    net = loopbackOnlyFetch();
    api = new HcloudApiStandIn(cloud());
    endpoint = await api.start();
  });
  afterEach(() => {
    net.restore();
    return api.stop();
  });

  const NOW = ['--now', '2026-11-25T12:00:00Z'];

  test('list shows only on-demand staging resources, expired or not, across pages', async () => {
    const { code, out } = await run(['staging', 'list', ...NOW], api, endpoint);
    expect(code).toBe(0);
    expect(out).toMatch(/servers\tacme-staging-app\t\(id 1\)\texpires-at 2026-11-20\texpired/);
    expect(out).toMatch(/servers\tacme-staging-next\t\(id 4\)\texpires-at 2026-12-24\tnot expired/);
    expect(out).toMatch(/primary_ips\tacme-staging-locked.*kept: delete protection is on/);
    expect(out).toMatch(/networks\tacme-staging-odd.*kept: invalid expires-at label/);
    expect(out).not.toMatch(/production|acme-test-app|hand-made/);
    expect(api.deleted).toEqual([]);
  });

  // Audit (job overlap): two releases at once shared one staging stack. The second rebuilt staging from its own snapshot
  // under the first one's rehearsal, and whichever ended first took staging down under the other's. The release path
  // now runs this check before it brings staging up.
  test('list --stack NAME --none-up fails naming the staging servers of that stack that are up, and passes when none is', async () => {
    const up = await run(['staging', 'list', '--stack', 'acme-staging', '--none-up', ...NOW], api, endpoint);
    expect(up.code).toBe(1);
    expect(up.err).toMatch(new RegExp('^error: staging of acme-staging is up already: server acme-staging-app \\(id 1, expires-at 2026-11-20\\), '
      + 'server acme-staging-next \\(id 4, expires-at 2026-12-24\\)\\. Another release is rehearsing on it, or one stopped without taking it down; '
      + '.*Nothing was changed\\. Fix: let the other release end; if none runs, take staging down \\(STAGING_EXPIRES_AT=<its expires-at> '
      + 'npx cdktf destroy acme-staging --auto-approve\\), then release again\\.$'));
    // Another product's staging in the same project is not this one's.
    const other = await run(['staging', 'list', '--stack', 'shop-staging', '--none-up', ...NOW], api, endpoint);
    expect(other).toMatchObject({ code: 0, out: 'No staging server of shop-staging is up.', err: '' });
    expect(api.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  // Audit (release): --none-up matched the servers whose names start with `NAME-`: the staging of a product named
  // acme-staging-lab (stack acme-staging-lab-staging) stopped every release of acme, and a product's own staging
  // server under another name went unseen. It reads the stack label each staging resource carries.
  test('list --none-up finds a stack\'s staging by its stack label, not by a name that shares a prefix', async () => {
    api.collections.servers.splice(0, api.collections.servers.length,
      { id: 6, name: 'acme-staging-lab-staging-app', labels: { ...onDemand('2026-12-24'), stack: 'acme-staging-lab-staging' } },
      { id: 7, name: 'renamed-app', labels: onDemand('2026-12-24') });
    const up = await run(['staging', 'list', '--stack', 'acme-staging', '--none-up', ...NOW], api, endpoint);
    expect(up.code).toBe(1);
    expect(up.err).toMatch(/^error: staging of acme-staging is up already: server renamed-app \(id 7, expires-at 2026-12-24\)\. /);
    const lab = await run(['staging', 'list', '--stack', 'acme-staging-lab-staging', '--none-up', ...NOW], api, endpoint);
    expect(lab.err).toMatch(/^error: staging of acme-staging-lab-staging is up already: server acme-staging-lab-staging-app \(id 6, expires-at 2026-12-24\)\. /);
    api.collections.servers.splice(1, 1);
    expect(await run(['staging', 'list', '--stack', 'acme-staging', '--none-up', ...NOW], api, endpoint))
      .toMatchObject({ code: 0, out: 'No staging server of acme-staging is up.', err: '' });
  });

  test('list --stack without --none-up is refused: it would read as a filter of the list, which lists every stack', async () => {
    const { code, err } = await run(['staging', 'list', '--stack', 'acme-staging', ...NOW], api, endpoint);
    expect(code).toBe(2);
    expect(err).toBe('error: --stack is read only with --none-up: staging list lists the on-demand staging resources of every stack. '
      + 'Fix: add --none-up to check that no staging server of the stack is up, or leave --stack out.');
    expect(api.requests).toEqual([]);
  });

  test('delete-expired without --yes deletes nothing and says so', async () => {
    const { code, out } = await run(['staging', 'delete-expired', ...NOW], api, endpoint);
    expect(code).toBe(0);
    expect(out).toMatch(/Would delete 6 resource\(s\)\. Nothing was deleted: pass --yes to delete\./);
    expect(api.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
  });

  test('delete-expired --yes deletes the expired ones, servers first, and waits for the server action', async () => {
    const { code, out } = await run(['staging', 'delete-expired', '--yes', ...NOW], api, endpoint);
    expect(code).toBe(0);
    expect(api.deleted).toEqual([
      'servers/acme-staging-app', 'primary_ips/acme-staging-app-ipv4', 'primary_ips/acme-staging-app-ipv6',
      'firewalls/acme-staging-app-firewall', 'networks/acme-staging-network', 'ssh_keys/acme-staging-ops',
    ]);
    expect(api.requests.some((r) => r.path.startsWith('/v1/actions/'))).toBe(true);
    expect(out).toMatch(/Deleted 6 expired staging resource\(s\)\./);
    // Untouched: production, test, unexpired, unlabelled, protected, invalid expiry.
    expect(api.collections.servers.map((s) => s.name)).toEqual(['acme-production-app', 'acme-test-app', 'acme-staging-next', 'hand-made-staging']);
  });

  test('a resource the API refuses to delete does not stop the run: the rest goes, and the run fails naming what stayed', async () => {
    api.refuseDelete.add('primary_ips/11');
    const { code, out, err } = await run(['staging', 'delete-expired', '--yes', ...NOW], api, endpoint);
    expect(code).not.toBe(0);
    expect(api.deleted).toEqual([
      'servers/acme-staging-app', 'primary_ips/acme-staging-app-ipv6', 'firewalls/acme-staging-app-firewall', 'networks/acme-staging-network', 'ssh_keys/acme-staging-ops',
    ]);
    expect(out).toMatch(/could not delete primary_ips acme-staging-app-ipv4: Hetzner API DELETE \/primary_ips\/11 failed: 423 locked/);
    expect(err).toMatch(/deleted 5 expired staging resource\(s\), but 1 could not be deleted: primary_ips acme-staging-app-ipv4 \(id 11\).*Fix: remove what holds them/);
  });

  // Audit (mutation): nothing exercised the reaper's own label check (the stand-in always honoured the selector),
  // nor the day an expiry starts: dropping the check, or reaping a day early, passed every test.
  test('checks the labels itself: an API that ignores the label selector still gets only expired on-demand staging deleted', async () => {
    api.ignoreLabelSelector = true;
    // Labelled for a rehearsal, but in the test environment (the machine staging reuses): never the reaper's.
    api.collections.servers.push({ id: 6, name: 'acme-test-rehearsal', labels: { ...onDemand('2026-11-20'), environment: 'test' } });
    const { code, out } = await run(['staging', 'delete-expired', '--yes', ...NOW], api, endpoint);
    expect(code).toBe(0);
    expect(api.deleted).toEqual([
      'servers/acme-staging-app', 'primary_ips/acme-staging-app-ipv4', 'primary_ips/acme-staging-app-ipv6',
      'firewalls/acme-staging-app-firewall', 'networks/acme-staging-network', 'ssh_keys/acme-staging-ops',
    ]);
    expect(out).toMatch(/Deleted 6 expired staging resource\(s\)\./);
    expect(api.collections.servers.map((s) => s.name)).toEqual(['acme-production-app', 'acme-test-app', 'acme-staging-next', 'hand-made-staging', 'acme-test-rehearsal']);
  });

  test.each([
    ['the last second before its expiry day', '2026-12-23T23:59:59Z', 'not expired'],
    ['the first second of its expiry day (UTC)', '2026-12-24T00:00:00Z', 'expired'],
  ])('staging expiring 2026-12-24 is kept until its day starts: at %s (%s) it is %s', async (_when, now, state) => {
    const { code, out } = await run(['staging', 'list', '--now', now], api, endpoint);
    expect(code).toBe(0);
    expect(out).toMatch(new RegExp(`servers\\tacme-staging-next\\t\\(id 4\\)\\texpires-at 2026-12-24\\t${state}$`, 'm'));
  });

  test('asks the API only for labelled staging resources and sends the token as a bearer token, never printing it', async () => {
    const { out, err } = await run(['staging', 'list', ...NOW], api, endpoint);
    const lists = api.requests.filter((r) => r.method === 'GET' && !r.path.startsWith('/v1/actions'));
    for (const r of lists) expect(decodeURIComponent(r.path)).toContain('label_selector=environment=staging,lifecycle=on-demand,purpose=release-rehearsal,expires-at');
    expect(api.requests.every((r) => r.authorization === 'Bearer test-token')).toBe(true);
    expect(`${out}${err}`).not.toContain('test-token');
  });

  test("with a project per environment it acts in production's (HCLOUD_TOKEN_PRODUCTION), as release does; another HCLOUD_TOKEN beside it is refused", async () => {
    // The stand-in answers production's token ('test-token') only: test's would be refused with 401.
    const tokens = { HCLOUD_TOKEN_TEST: 'test-project-token', HCLOUD_TOKEN_PRODUCTION: 'test-token', HCLOUD_ENDPOINT: endpoint };
    const perProject = await cli(['staging', 'list', ...NOW], tokens);
    expect(perProject.code).toBe(0);
    expect(perProject.out).toMatch(/servers\tacme-staging-app/);
    expect(api.requests.length).toBeGreaterThan(0);
    expect(api.requests.every((r) => r.authorization === 'Bearer test-token')).toBe(true);
    // The same token under both names is one project: fine.
    expect((await cli(['staging', 'list', ...NOW], { ...tokens, HCLOUD_TOKEN: 'test-token' })).code).toBe(0);

    const asked = api.requests.length;
    for (const command of [['staging', 'list', ...NOW], ['staging', 'delete-expired', '--yes', ...NOW], ['snapshot', '--server', 'acme-production-app']]) {
      const both = await cli(command, { ...tokens, HCLOUD_TOKEN: 'test-project-token' });
      expect(both.code).toBe(1);
      expect(both.err).toMatch(/HCLOUD_TOKEN and HCLOUD_TOKEN_PRODUCTION are both set, to different tokens: .*production's Hetzner project.* Fix: unset HCLOUD_TOKEN, or set it to production's token\./);
      expect(both.err).not.toMatch(/test-token|test-project-token/);
    }
    // The release's own rules: one project token alone is refused, as release refuses it.
    const alone = await cli(['staging', 'list', ...NOW], { HCLOUD_TOKEN_PRODUCTION: 'test-token', HCLOUD_ENDPOINT: endpoint });
    expect(alone.code).toBe(1);
    expect(alone.err).toMatch(/HCLOUD_TOKEN_PRODUCTION is set but HCLOUD_TOKEN_TEST is not/);
    // Refused before any request: no other project was listed, nothing deleted or snapshotted.
    expect(api.requests.length).toBe(asked);
    expect(api.deleted).toEqual([]);
  });

  test('fails clearly on a wrong token, without printing it', async () => {
    const { code, err } = await run(['staging', 'list', ...NOW], api, endpoint, 'wrong-token');
    expect(code).toBe(1);
    expect(err).toMatch(/Hetzner API GET \/servers failed: 401 unauthorized unable to authenticate/);
    expect(err).not.toContain('wrong-token');
  });

  test('fails clearly without HCLOUD_TOKEN', async () => {
    const err: string[] = [];
    const code = await runCli(['staging', 'list'], { env: {}, out: () => undefined, err: (l) => err.push(l) });
    expect(code).toBe(1);
    expect(err.join()).toMatch(/HCLOUD_TOKEN is not set\. Fix: export HCLOUD_TOKEN/);
  });

  // The shell of a rehearsal against the stand-in (docs/testing.md) holds its token: without an endpoint the command
  // would send it to Hetzner's API, which answers 401 about a token the stand-in made up.
  test("refuses the stand-in's token before any request: the stand-in serves Terraform, not Hetzner's API", async () => {
    for (const command of [['staging', 'list', ...NOW], ['snapshot', '--server', 'acme-production-app']]) {
      const err: string[] = [];
      const code = await runCli(command, { env: { HCLOUD_TOKEN: STAND_IN_TOKEN }, out: () => undefined, err: (l) => err.push(l) });
      expect(code).toBe(1);
      expect(err.join('\n')).toMatch(/HCLOUD_TOKEN is the stand-in's token \(docs\/testing\.md\): .*Hetzner's API.* Fix: run it with a token of the Hetzner Cloud project/);
      // The release's refusal names the same steps: without --skip-provider-lock cdktf locks the provider from the registry.
      expect(err.join('\n').endsWith(STAND_IN_STEPS)).toBe(true);
    }
    const withProjects = await cli(['staging', 'list', ...NOW], { HCLOUD_TOKEN_TEST: 'test-project-token', HCLOUD_TOKEN_PRODUCTION: STAND_IN_TOKEN });
    expect(withProjects.err).toMatch(/HCLOUD_TOKEN_PRODUCTION is the stand-in's token/);
    expect(net.remote).toEqual([]);
  });

  // HetznerStandIn.env(cloudFile) sets a file: endpoint (and docs/testing.md has non-Linux users set one): it skipped the
  // refusal and failed later on a URL the client cannot fetch. Hetzner's own URL sent the stand-in's token to Hetzner.
  test("refuses the stand-in's token with the stand-in's file: endpoint or Hetzner's; only an http(s) server of this machine takes it", async () => {
    for (const HCLOUD_ENDPOINT of ['file:///tmp/hcloud-standin/workspaces/acme-test/hcloud-standin.cloud.json', 'https://api.hetzner.cloud/v1']) {
      for (const command of [['staging', 'list', ...NOW], ['snapshot', '--server', 'acme-production-app']]) {
        const { code, err } = await cli(command, { HCLOUD_TOKEN: STAND_IN_TOKEN, HCLOUD_ENDPOINT });
        expect(code).toBe(1);
        expect(err).toMatch(/^error: HCLOUD_TOKEN is the stand-in's token \(docs\/testing\.md\): this command talks to Hetzner's API.* nothing was asked\./);
        expect(err.includes("HCLOUD_ENDPOINT's file: URL names the stand-in's project")).toBe(HCLOUD_ENDPOINT.startsWith('file:'));
      }
    }
    const local = new HcloudApiStandIn(cloud(), STAND_IN_TOKEN);
    try {
      const { code, out } = await cli(['staging', 'list', ...NOW], { HCLOUD_TOKEN: STAND_IN_TOKEN, HCLOUD_ENDPOINT: await local.start() });
      expect({ code, out }).toMatchObject({ code: 0, out: expect.stringMatching(/servers\tacme-staging-app\t/) });
      expect(local.requests.length).toBeGreaterThan(0);
    } finally {
      await local.stop();
    }
    expect(net.remote).toEqual([]);
  });

  // isLoopbackHttpEndpoint takes localhost and [::1] as well as 127.0.0.1: the CLI reaches a stand-in of the API there
  // too, localhost's listening on every address localhost resolves to here (127.0.0.1, ::1 or both).
  const reachedThrough = (host: 'localhost' | '::1') => async () => {
    const local = new HcloudApiStandIn(cloud(), STAND_IN_TOKEN);
    try {
      const endpoint = await local.start(host);
      expect(endpoint).toMatch(host === 'localhost' ? /^http:\/\/localhost:\d+\/v1$/ : /^http:\/\/\[::1\]:\d+\/v1$/);
      const { code, out, err } = await cli(['staging', 'list', ...NOW], { HCLOUD_TOKEN: STAND_IN_TOKEN, HCLOUD_ENDPOINT: endpoint });
      expect({ code, err }).toEqual({ code: 0, err: '' });
      expect(out).toMatch(/servers\tacme-staging-app\t/);
      expect(local.requests.map((r) => r.authorization)).toEqual(local.requests.map(() => `Bearer ${STAND_IN_TOKEN}`));
      expect(local.requests.length).toBeGreaterThan(0);
    } finally {
      await local.stop();
    }
    expect(net.remote).toEqual([]);
  };
  test("takes the stand-in's token with a stand-in of the API at http://localhost:PORT", reachedThrough('localhost'));
  const atIpv6Loopback = "takes the stand-in's token with a stand-in of the API at http://[::1]:PORT";
  testWhereHostHas(hasIpv6Loopback, atIpv6Loopback, 'IPv6 loopback (::1) to listen on')(atIpv6Loopback, reachedThrough('::1'));

  // A variable left over in a shell or in CI would send the token to another host.
  test('refuses an HCLOUD_ENDPOINT that is neither Hetzner\'s API nor this machine, before any request, naming no value', async () => {
    const { code, err } = await run(['staging', 'list', ...NOW], api, 'https://ops:s3cret@api.example.net/v1');
    expect(code).toBe(1);
    expect(err).toMatch(/^error: HCLOUD_ENDPOINT is set to a host other than Hetzner's API \(https:\/\/api\.hetzner\.cloud\/v1, https:\/\/api\.hetzner\.com\/v1\): the token .* Fix: unset HCLOUD_ENDPOINT before running this command/);
    expect(err).not.toMatch(/s3cret|example\.net|test-token/);
    expect(api.requests).toEqual([]);
    expect(net.remote).toEqual([]);
  });

  test('says which URL could not be reached, why, and what to check, when the API is unreachable', async () => {
    const closed = await freePort();
    const { code, err } = await run(['staging', 'list', ...NOW], api, `http://127.0.0.1:${closed}/v1`);
    expect(code).toBe(1);
    expect(err).toMatch(new RegExp(`cannot reach the Hetzner API: GET http://127\\.0\\.0\\.1:${closed}/v1/servers failed \\(ECONNREFUSED.*\\)\\. Fix: check the network and DNS from this machine, or HCLOUD_ENDPOINT`));
    expect(err).not.toContain('test-token');
  });

  // Audit (lifecycle): the API client sent every request once. A project's 3600 requests an hour are shared by
  // everything in it, and a 429 or a passing 503 failed the whole listing; during deletion the reaper went on
  // sending a delete per resource into the spent budget.
  describe('under the API\'s rate limit and outages', () => {
    test('a rate limit or a 503 that passes is waited out (Retry-After honoured): the listing and the deletes complete', async () => {
      api.failures.push({ match: 'GET /v1/servers', status: 429, code: 'rate_limit_exceeded', times: 2, retryAfter: '0' });
      api.failures.push({ match: 'GET /v1/networks', status: 503, code: 'unavailable', times: 1, retryAfter: '0' });
      api.failures.push({ match: 'DELETE /v1/firewalls', status: 429, code: 'rate_limit_exceeded', times: 1, retryAfter: '0' });
      const { code, out } = await run(['staging', 'delete-expired', '--yes', ...NOW], api, endpoint);
      expect(code).toBe(0);
      expect(out).toMatch(/Deleted 6 expired staging resource\(s\)\./);
      expect(api.collections.servers.map((s) => s.name)).toEqual(['acme-production-app', 'acme-test-app', 'acme-staging-next', 'hand-made-staging']);
    });

    // A connection that broke failed the daily run at once, as if the API had refused: reads and deletes go again.
    test('a connection that breaks without an answer is tried again for a read or a delete: the listing and the deletes complete', async () => {
      api.failures.push({ match: 'GET /v1/servers', status: 0, code: '', times: 1, dropConnection: true });
      api.failures.push({ match: 'DELETE /v1/firewalls', status: 0, code: '', times: 1, dropConnection: true });
      const { code, out, err } = await run(['staging', 'delete-expired', '--yes', ...NOW], api, endpoint);
      expect(err).toBe('');
      expect(code).toBe(0);
      expect(out).toMatch(/Deleted 6 expired staging resource\(s\)\./);
      expect(api.requests.filter((r) => r.method === 'DELETE' && r.path === '/v1/firewalls/21')).toHaveLength(2);
    });

    test('a snapshot whose connection broke is not taken again (a second would be billed): it fails naming the URL', async () => {
      api.failures.push({ match: 'POST /v1/servers', status: 0, code: '', times: 1, dropConnection: true });
      const { code, err } = await run(['snapshot', '--server', 'acme-production-app', '--description', 'pre-release 2026-11-25'], api, endpoint);
      expect(code).toBe(1);
      expect(err).toMatch(/cannot reach the Hetzner API: POST http:\/\/127\.0\.0\.1:\d+\/v1\/servers\/2\/actions\/create_image failed \(UND_ERR_SOCKET: other side closed\)/);
      expect(api.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    });

    test('a rate limit that lasts stops the run at once, deleting nothing more, and says what is left and when to retry', async () => {
      api.failures.push({ match: 'DELETE /v1/primary_ips', status: 429, code: 'rate_limit_exceeded', times: Infinity, retryAfter: '0' });
      const { code, err } = await run(['staging', 'delete-expired', '--yes', ...NOW], api, endpoint);
      expect(code).toBe(1);
      expect(api.deleted).toEqual(['servers/acme-staging-app']);
      // One delete and its three retries, then nothing more.
      expect(api.requests.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual(['/v1/servers/1', ...Array(4).fill('/v1/primary_ips/11')]);
      expect(err).toMatch(/rate limit stopped the run: deleted 1 expired staging resource\(s\); not deleted: primary_ips acme-staging-app-ipv4 \(id 11\): .*429 rate_limit_exceeded.*; primary_ips acme-staging-app-ipv6 \(id 12\); firewalls acme-staging-app-firewall .*ssh_keys acme-staging-ops \(id 41\)\. Fix: run delete-expired again later/);
    });

    test('a listing that keeps failing deletes nothing and fails naming the API\'s answer', async () => {
      api.failures.push({ match: 'GET /v1/firewalls', status: 503, code: 'unavailable', times: Infinity, retryAfter: '0' });
      const { code, err } = await run(['staging', 'delete-expired', '--yes', ...NOW], api, endpoint);
      expect(code).toBe(1);
      expect(api.deleted).toEqual([]);
      expect(err).toMatch(/Hetzner API GET \/firewalls failed: 503 unavailable service unavailable/);
    });
  });

  // Review: any 404 on a delete was logged "was gone already" and counted no failure. A proxy answering DELETE with an
  // HTML 404 made every delete "gone", the run pass, and everything stay billed; a 404 polling the server deletion's
  // action (which says nothing of the server) was swallowed too. Only Hetzner's not_found for the DELETE itself is gone.
  describe('a delete answered 404', () => {
    const HTML_404 = '<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>';

    test("Hetzner's not_found for the DELETE itself is gone already: logged, no failure", async () => {
      api.failures.push({ match: 'DELETE /v1/primary_ips/11', status: 404, code: 'not_found', times: 1 });
      const { code, out, err } = await run(['staging', 'delete-expired', '--yes', ...NOW], api, endpoint);
      expect(err).toBe('');
      expect(code).toBe(0);
      expect(out).toContain('primary_ips acme-staging-app-ipv4 (id 11) was gone already');
      expect(out).toMatch(/Deleted 5 expired staging resource\(s\)\./);
    });

    test('an HTML 404 (a proxy, not the API) on every delete is a failure for each, and the run fails', async () => {
      api.failures.push({ match: 'DELETE /v1/', status: 404, code: '', times: Infinity, html: HTML_404 });
      const { code, out, err } = await run(['staging', 'delete-expired', '--yes', ...NOW], api, endpoint);
      expect(code).toBe(1);
      expect(out).not.toContain('gone already');
      expect(api.deleted).toEqual([]);
      expect(err).toMatch(/deleted 0 expired staging resource\(s\), but 6 could not be deleted: servers acme-staging-app \(id 1\): the Hetzner API at \S+ answered 404 with something that is not JSON: <html>/);
    });

    test('an HTML 404 on a delete sent again after an outage is a failure too, not gone', async () => {
      api.failures.push({ match: 'DELETE /v1/firewalls/21', status: 503, code: 'unavailable', times: 1, retryAfter: '0' });
      api.failures.push({ match: 'DELETE /v1/firewalls/21', status: 404, code: '', times: 1, html: HTML_404 });
      const { code, out, err } = await run(['staging', 'delete-expired', '--yes', ...NOW], api, endpoint);
      expect(code).toBe(1);
      expect(out).not.toContain('gone already');
      expect(api.collections.firewalls.map((f) => f.id)).toEqual([21]);
      expect(err).toMatch(/but 1 could not be deleted: firewalls acme-staging-app-firewall \(id 21\): the Hetzner API at \S+ answered 404 with something that is not JSON/);
    });

    test("a 404 not_found polling a server deletion's action is a failure, not the server gone", async () => {
      api.failures.push({ match: 'GET /v1/actions/', status: 404, code: 'not_found', times: Infinity });
      const { code, out, err } = await run(['staging', 'delete-expired', '--yes', ...NOW], api, endpoint);
      expect(code).toBe(1);
      expect(out).not.toContain('gone already');
      expect(err).toMatch(/but 1 could not be deleted: servers acme-staging-app \(id 1\): Hetzner API GET \/actions\/\d+ failed: 404 not_found/);
    });
  });
});

// Audit (secrets): an error printed the API's answer as it came. A proxy, or an HCLOUD_ENDPOINT that is
// not the Cloud API, that echoes the request printed the bearer token into the CI log; credentials in
// HCLOUD_ENDPOINT were printed with every URL (and fetch refuses such a URL anyway).
describe('the Hetzner commands never print the token or endpoint credentials', () => {
  const TOKEN = 'Zq7tokenSentinel0123456789abcdefghijABCDEFGHIJ0123456789abcdefgh';
  let echo: http.Server;
  let port: number;
  let answer: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  beforeAll(async () => {
    echo = http.createServer((req, res) => answer(req, res));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    port = (echo.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((resolve) => echo.close(resolve)));

  async function cli(args: string[], endpoint: string) {
    const lines: string[] = [];
    const code = await runCli(args, { env: { HCLOUD_TOKEN: TOKEN, HCLOUD_ENDPOINT: endpoint }, out: (l) => lines.push(l), err: (l) => lines.push(l) });
    return { code, text: lines.join('\n') };
  }

  test.each([
    ['a page that is not JSON', (req: http.IncomingMessage, res: http.ServerResponse) => {
      // Retry-After 0: the client retries a 502, without the default 1, 2, 4 s waits.
      res.writeHead(502, { 'content-type': 'text/plain', 'retry-after': '0' });
      res.end(`bad gateway: ${req.headers.authorization}`);
    }, /answered 502 with something that is not JSON: bad gateway: Bearer <redacted>\. Fix: check HCLOUD_ENDPOINT/],
    ['a JSON error without the API\'s fields', (req: http.IncomingMessage, res: http.ServerResponse) => {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ detail: req.headers.authorization }));
    }, /Hetzner API GET \/servers failed: 403 +\{"detail":"Bearer <redacted>"\}/],
    ['an API error message', (req: http.IncomingMessage, res: http.ServerResponse) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'unauthorized', message: `token ${req.headers.authorization} is not valid` } }));
    }, /failed: 401 unauthorized token Bearer <redacted> is not valid/],
  ])('an endpoint that echoes the request in %s', async (_what, handler, message) => {
    answer = handler;
    for (const args of [['staging', 'list'], ['snapshot', '--server', 'acme-production-app']]) {
      const { code, text } = await cli(args, `http://127.0.0.1:${port}/v1`);
      expect(code).toBe(1);
      expect(text).toMatch(message);
      expect(text).not.toContain(TOKEN.slice(0, 12));
    }
  });

  test.each([
    ['user and password', (p: number) => `http://proxy:Pr0xy-Pass%21word@127.0.0.1:${p}/v1`, 'http://<redacted>:<redacted>@127.0.0.1'],
    ['a query', (p: number) => `http://127.0.0.1:${p}/v1?key=Pr0xy-Pass%21word`, '/v1?<redacted> holds'],
  ])('refuses an endpoint with credentials (%s), naming them redacted', async (_what, endpoint, shown) => {
    answer = (_req, res) => res.end('{}');
    const { code, text } = await cli(['staging', 'list'], endpoint(port));
    expect(code).toBe(1);
    expect(text).toContain(shown);
    expect(text).toMatch(/holds credentials .* Fix: give the plain API base URL, such as https:\/\/api\.hetzner\.cloud\/v1/);
    expect(text).not.toMatch(/Pr0xy|Pass(%21|!)word/);
  });
});

describe('cdktf-sovereign-hetzner snapshot', () => {
  test('keeps the newest pre-release snapshots of the server (3 by default) and deletes the older ones, printing only the new ID', async () => {
    const preRelease = (id: number, source: string, protectedImage = false): StandInResource => ({
      id, name: `pre-release ${id}`, labels: { purpose: 'pre-release', source }, ...(protectedImage ? { protection: { delete: true } } : {}),
    });
    const api = new HcloudApiStandIn({
      servers: [{ id: 2, name: 'acme-production-app', labels: { environment: 'production', role: 'app' } }],
      images: [preRelease(101, 'acme-production-app'), preRelease(102, 'acme-production-app', true), preRelease(103, 'acme-production-app'),
        preRelease(104, 'acme-production-app'), preRelease(105, 'other-production-app'), { id: 106, name: 'by hand', labels: {} }],
    });
    const endpoint = await api.start();
    try {
      const result = await run(['snapshot', '--server', 'acme-production-app', '--description', 'pre-release 2026-12-04'], api, endpoint);
      expect(result.code).toBe(0);
      expect(result.out).toBe('4242');
      // Kept: the new one, 104 and 103; 102 has delete protection; another server's and a hand-made image are not touched.
      expect(api.collections.images.map((i) => i.id).sort()).toEqual([102, 103, 104, 105, 106, 4242]);
      expect(result.err).toMatch(/deleted snapshot 101 \(pre-release 101\): older than the newest 3 pre-release snapshots of acme-production-app/);
      expect(result.err).toMatch(/kept snapshot 102 \(pre-release 102\): it has delete protection/);
      const again = await run(['snapshot', '--server', 'acme-production-app', '--keep', '1'], api, endpoint);
      expect(again.out).toBe('4243');
      expect(api.collections.images.map((i) => i.id).sort()).toEqual([102, 105, 106, 4243]);
      expect((await run(['snapshot', '--server', 'acme-production-app', '--keep', '0'], api, endpoint)).err).toMatch(/--keep 0 is not allowed/);
    } finally {
      await api.stop();
    }
  });
});

// Audit (lifecycle): --keep deleted the oldest pre-release snapshots by count alone. A staging server still up
// (a rehearsal running, or a take-down that failed) was built from one of them: the image went from under it.
describe('cdktf-sovereign-hetzner snapshot --keep and live staging', () => {
  test('never deletes the snapshot a server was built from, and says why it stayed', async () => {
    const preRelease = (id: number): StandInResource => ({ id, name: `pre-release ${id}`, labels: { purpose: 'pre-release', source: 'acme-production-app' } });
    const api = new HcloudApiStandIn({
      servers: [
        { id: 2, name: 'acme-production-app', labels: { environment: 'production', role: 'app' }, image: { id: 7 } },
        { id: 9, name: 'acme-staging-app', labels: onDemand('2026-12-06'), image: { id: 101 } },
      ],
      images: [preRelease(101), preRelease(102), preRelease(103)],
    });
    const endpoint = await api.start();
    try {
      const result = await run(['snapshot', '--server', 'acme-production-app', '--keep', '1'], api, endpoint);
      expect(result.code).toBe(0);
      expect(result.out).toBe('4242');
      expect(api.collections.images.map((i) => i.id).sort()).toEqual([101, 4242]);
      expect(result.err).toMatch(/kept snapshot 101 \(pre-release 101\): server acme-staging-app was built from it/);
      expect(result.err).toMatch(/deleted snapshot 102/);
    } finally {
      await api.stop();
    }
  });
});

