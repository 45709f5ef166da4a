import { HcloudApiStandIn, StandInResource } from '../environments/hcloud-api-stand-in';
import { cli } from './cli';

const onDemand = (expiresAt: string) => ({ environment: 'staging', lifecycle: 'on-demand', purpose: 'release-rehearsal', 'expires-at': expiresAt });

// Audit (staging lifecycle): the reaper keeps a staging server that is delete-protected (the way to keep a rehearsal
// past its day) or whose expires-at label is invalid, but judged its network, addresses and firewall each alone. It
// deleted the network, which Hetzner allows and answers by detaching the server in the background (its PostgreSQL
// listens on the private address), and every daily run then failed on the assigned addresses and applied firewall.
describe('staging delete-expired and a staging server it keeps', () => {
  let api: HcloudApiStandIn;
  let env: NodeJS.ProcessEnv;
  const NOW = ['--now', '2026-11-25T12:00:00Z'];

  beforeEach(async () => {
    const kept: StandInResource = {
      id: 1, name: 'acme-staging-app', labels: onDemand('2026-11-20'), protection: { delete: true },
      public_net: { ipv4: { id: 11 }, ipv6: { id: 12 }, firewalls: [{ id: 21 }] }, private_net: [{ network: 31 }],
    };
    const cloud: Record<string, StandInResource[]> = {
      servers: [kept, { id: 2, name: 'other-staging-app', labels: onDemand('2026-11-20'), public_net: { ipv4: { id: 13 }, ipv6: { id: 16 }, firewalls: [{ id: 22 }] }, private_net: [{ network: 32 }] },
        // The test machine a rehearsal reuses: no staging label marks it, so the reaper never lists it.
        { id: 99, name: 'acme-test-app', labels: { environment: 'test', role: 'app' }, public_net: { ipv4: { id: 14 } } }],
      load_balancers: [], volumes: [],
      // Assigned to the kept server (two), to the server this run deletes (one with auto_delete, which Hetzner deletes
      // with it), to the test machine, and to none.
      primary_ips: ([[11, 1], [12, 1], [13, 2], [14, 99], [15, null], [16, 2]] as const)
        .map(([id, server]) => ({ id, name: `ip-${id}`, labels: onDemand('2026-11-20'), assignee_id: server, auto_delete: id === 16 })),
      // Assigned to the kept server, to the server this run deletes, to the test machine, and to none.
      floating_ips: ([[51, 1], [52, 2], [53, 99], [54, null]] as const).map(([id, server]) => ({ id, name: `fip-${id}`, labels: onDemand('2026-11-20'), server })),
      firewalls: [21, 22].map((id) => ({ id, name: `firewall-${id}`, labels: onDemand('2026-11-20') })),
      networks: [31, 32].map((id) => ({ id, name: `network-${id}`, labels: onDemand('2026-11-20') })),
      ssh_keys: [], placement_groups: [],
    };
    api = new HcloudApiStandIn(cloud);
    env = { HCLOUD_TOKEN: 'test-token', HCLOUD_ENDPOINT: await api.start() };
  });
  afterEach(() => api.stop());

  test('leaves what the kept server uses, says why, and deletes the rest without failing', async () => {
    const { code, out, err } = await cli(['staging', 'delete-expired', '--yes', ...NOW], env);
    expect(err).toBe('');
    expect(code).toBe(0);
    // The kept server is still on its network, with its addresses and firewall.
    expect(api.collections.servers.find((s) => s.id === 1)!.private_net).toEqual([{ network: 31 }]);
    expect(api.deleted).toEqual(['servers/other-staging-app', 'primary_ips/ip-16', 'primary_ips/ip-13', 'primary_ips/ip-15', 'floating_ips/fip-52', 'floating_ips/fip-54', 'firewalls/firewall-22', 'networks/network-32']);
    // Hetzner deleted the auto_delete one with its server (ip-16 above): its not_found is no failure.
    expect(api.requests.filter((r) => r.method === 'DELETE' && r.path === '/v1/primary_ips/16')).toHaveLength(1);
    expect(out).toContain('primary_ips ip-16 (id 16) was gone already (a primary IP with auto_delete goes with its server)');
    expect(api.collections.primary_ips.map((ip) => ip.id)).toEqual([11, 12, 14]);
    expect(out).toMatch(/Deleted 7 expired staging resource\(s\)\./);
  });

  // Floating IPs were never reaped, and billed after every rehearsal that died before its destroy; primary IPs were
  // judged only by the staging servers that use them, so one on the test machine failed every daily run. Hetzner
  // refuses to delete an assigned one of either (since 1 May 2026: hetzner-facts-beyond-shared.json, floatingIps and
  // primaryIps), and unassigning it would take the address from a server that stays.
  describe.each([
    {
      collection: 'floating_ips', name: 'fip', onKept: 51, onDeleted: 52, onTest: 53, unassigned: 54,
      assignedTo: (ip: StandInResource) => ip.server, unassign: (ip: StandInResource) => { ip.server = null; },
      cli: 'floating-ip',
      fix: 'unassign it (hcloud floating-ip unassign 53: the server keeps its own primary addresses)',
    },
    {
      collection: 'primary_ips', name: 'ip', onKept: 11, onDeleted: 13, onTest: 14, unassigned: 15,
      assignedTo: (ip: StandInResource) => ip.assignee_id, unassign: (ip: StandInResource) => { ip.assignee_id = null; },
      cli: 'primary-ip',
      // Hetzner unassigns a primary IP only from a powered-off server, which starts again only with a network interface
      // (hetzner-facts-beyond-shared.json, primaryIps); a server has one primary IPv4 and one IPv6 at most. The fix said
      // "poweroff" (which cuts the power) and offered only unassigning, which takes the test machine's address for good.
      fix: 'shut the server down (hcloud server shutdown 99, and wait until it is off), unassign it (hcloud primary-ip unassign 14: '
        + 'Hetzner refuses while the server runs; the server loses that public address for good, as it has one primary IPv4 and one '
        + 'IPv6 at most) and start it again (hcloud server poweron 99). A server starts only with a network interface: if this was '
        + 'its last, assign it another primary IP while it is off (hcloud primary-ip assign --server 99 OTHER_ID) or attach it to a '
        + 'private network first',
    },
  ])('$collection', ({ collection, name, onKept, onDeleted, onTest, unassigned, assignedTo, unassign, cli: hcloudCli, fix }) => {
    test('deletes those no staying server holds, and keeps, with a reason in the log, those assigned to a server that stays', async () => {
      const { code, out, err } = await cli(['staging', 'delete-expired', '--yes', ...NOW], env);
      expect(err).toBe('');
      expect(code).toBe(0);
      // Still assigned where they were: neither deleted nor unassigned.
      expect(api.collections[collection].filter((ip) => [onKept, onTest].includes(ip.id)).map((ip) => [ip.id, assignedTo(ip)])).toEqual([[onKept, 1], [onTest, 99]]);
      expect(api.collections[collection].map((ip) => ip.id)).not.toContain(onDeleted);
      expect(api.collections[collection].map((ip) => ip.id)).not.toContain(unassigned);
      expect(api.requests.filter((r) => r.method !== 'GET' && r.path.includes(collection)).map((r) => `${r.method} ${r.path}`))
        .toEqual(expect.arrayContaining([`DELETE /v1/${collection}/${onDeleted}`, `DELETE /v1/${collection}/${unassigned}`]));
      expect(api.requests.filter((r) => r.method !== 'GET' && [onKept, onTest].some((id) => r.path === `/v1/${collection}/${id}` || r.path.startsWith(`/v1/${collection}/${id}/`)))).toEqual([]);
      expect(out).toContain(`keeping ${collection} ${name}-${onKept} (id ${onKept}, expired 2026-11-20): in use by server acme-staging-app (id 1), which stays (delete protection is on)`);
      expect(out).toContain(`keeping ${collection} ${name}-${onTest} (id ${onTest}, expired 2026-11-20): assigned to server id 99, which the reaper does not remove `
        + '(it is no on-demand staging server: the test machine, say); unassigning it would take the address from that server. '
        + `Fix: to keep the address, remove the staging labels the reaper selects it by (hcloud ${hcloudCli} remove-label ${onTest} `
        + 'environment lifecycle purpose expires-at): it is then no staging resource and this line ends. '
        + `Only if that server truly no longer needs it: ${fix}; the next run then deletes it`);
      // The first fix: with those labels removed, the next run neither keeps nor touches it (the daily line ends).
      const onTestIp = api.collections[collection].find((ip) => ip.id === onTest)!;
      const labels = onTestIp.labels;
      onTestIp.labels = Object.fromEntries(Object.entries(labels).filter(([key]) => !['environment', 'lifecycle', 'purpose', 'expires-at'].includes(key)));
      const kept = await cli(['staging', 'delete-expired', '--yes', ...NOW], env);
      expect(kept.code).toBe(0);
      expect(kept.out).not.toContain(`${name}-${onTest}`);
      expect(assignedTo(onTestIp)).toBe(99);
      // The second: once unassigned by hand (labels still on), the next run deletes it.
      onTestIp.labels = labels;
      unassign(onTestIp);
      expect((await cli(['staging', 'delete-expired', '--yes', ...NOW], env)).code).toBe(0);
      expect(api.deleted).toContain(`${collection}/${name}-${onTest}`);
      expect(api.collections.servers.map((s) => s.id)).toEqual([1, 99]);
    });
  });

  test('list names the server that holds each of them', async () => {
    const { code, out } = await cli(['staging', 'list', ...NOW], env);
    expect(code).toBe(0);
    expect(out).toMatch(/^servers\tacme-staging-app\t\(id 1\)\texpires-at 2026-11-20\tkept: delete protection is on$/m);
    for (const line of ['primary_ips\tip-11\t(id 11)', 'primary_ips\tip-12\t(id 12)', 'firewalls\tfirewall-21\t(id 21)', 'networks\tnetwork-31\t(id 31)']) {
      expect(out).toContain(`${line}\texpires-at 2026-11-20\tkept: in use by server acme-staging-app (id 1), which stays (delete protection is on)`);
    }
    expect(out).toMatch(/^networks\tnetwork-32\t\(id 32\)\texpires-at 2026-11-20\texpired$/m);
    expect(out).toContain('floating_ips\tfip-51\t(id 51)\texpires-at 2026-11-20\tkept: in use by server acme-staging-app (id 1), which stays (delete protection is on)');
    expect(out).toMatch(/^floating_ips\tfip-53\t\(id 53\)\texpires-at 2026-11-20\tkept: assigned to server id 99, which the reaper does not remove/m);
    expect(out).toMatch(/^primary_ips\tip-14\t\(id 14\)\texpires-at 2026-11-20\tkept: assigned to server id 99, which the reaper does not remove/m);
    // Assigned to a server this run deletes, which unassigns it: it goes after the server.
    expect(out).toMatch(/^floating_ips\tfip-52\t\(id 52\)\texpires-at 2026-11-20\texpired$/m);
    expect(out).toMatch(/^primary_ips\tip-13\t\(id 13\)\texpires-at 2026-11-20\texpired$/m);
  });

  test('an unexpired server keeps what it uses even where those labels say it has expired (an apply that stopped part-way)', async () => {
    const server = api.collections.servers.find((s) => s.id === 1)!;
    server.protection = { delete: false };
    server.labels = onDemand('2026-12-24');
    const { code } = await cli(['staging', 'delete-expired', '--yes', ...NOW], env);
    expect(code).toBe(0);
    expect(server.private_net).toEqual([{ network: 31 }]);
    expect(api.deleted).not.toContain('networks/network-31');
  });
});
