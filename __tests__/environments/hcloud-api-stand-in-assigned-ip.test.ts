import * as fs from 'fs';
import { FACTS_BEYOND_SHARED_FILE } from '../hetzner/hetzner-facts';
import { HcloudApiStandIn, StandInResource } from './hcloud-api-stand-in';

// The stand-in refused to delete an assigned floating IP, and the reaper was built around that, on a claim ("since 1 May
// 2026, must_be_unassigned") that no source in the repository backed. The fact and its sources are in the repository's
// facts beyond the shared reference now, for primary IPs too; the stand-in answers as they say.
describe.each([
  { collection: 'floating_ips', facts: 'floatingIps', assign: (server: number | null): Partial<StandInResource> => ({ server }) },
  { collection: 'primary_ips', facts: 'primaryIps', assign: (server: number | null): Partial<StandInResource> => ({ assignee_id: server }) },
])('the API stand-in deletes $collection as Hetzner does since 1 May 2026', ({ collection, facts: key, assign }) => {
  const facts = JSON.parse(fs.readFileSync(FACTS_BEYOND_SHARED_FILE, 'utf8'));

  test('the reference facts state it, each source listed', () => {
    expect(facts[key].deleteWhileAssigned).toMatch(/from 1 May 2026 it is refused with 422 must_be_unassigned/);
    const known = new Set(facts.sources.map((s: { id: string }) => s.id));
    expect(facts[key].sources.filter((id: string) => !known.has(id))).toEqual([]);
    expect(facts[key].sources.length).toBeGreaterThan(0);
  });

  test('an assigned one is refused with 422 must_be_unassigned and stays; an unassigned one is deleted', async () => {
    const api = new HcloudApiStandIn({ [collection]: [{ id: 51, name: 'ip-51', labels: {}, ...assign(1) }, { id: 52, name: 'ip-52', labels: {}, ...assign(null) }] });
    const endpoint = await api.start();
    try {
      const del = (id: number) => fetch(`${endpoint}/${collection}/${id}`, { method: 'DELETE', headers: { Authorization: 'Bearer test-token' } });
      const refused = await del(51);
      expect([refused.status, ((await refused.json()) as { error: { code: string } }).error.code]).toEqual([422, 'must_be_unassigned']);
      expect((await del(52)).status).toBe(204);
      expect(api.collections[collection].map((ip) => ip.id)).toEqual([51]);
    } finally {
      await api.stop();
    }
  });
});

// Hetzner deletes a primary IP with auto_delete together with its server (hetzner-facts-beyond-shared.json,
// primaryIps.autoDelete); one without stays, unassigned (assumed: uncertain there).
test('deleting a server deletes its primary IPs with auto_delete and leaves the others unassigned', async () => {
  const api = new HcloudApiStandIn({
    servers: [{ id: 1, name: 'app', labels: {} }, { id: 2, name: 'other', labels: {} }],
    primary_ips: [
      { id: 11, name: 'kept-ipv4', labels: {}, assignee_id: 1, auto_delete: false },
      { id: 12, name: 'auto-ipv6', labels: {}, assignee_id: 1, auto_delete: true },
      { id: 13, name: 'other-ipv4', labels: {}, assignee_id: 2, auto_delete: true },
    ],
  });
  const endpoint = await api.start();
  try {
    expect((await fetch(`${endpoint}/servers/1`, { method: 'DELETE', headers: { Authorization: 'Bearer test-token' } })).status).toBe(200);
    expect(api.collections.primary_ips.map((ip) => [ip.id, ip.assignee_id])).toEqual([[11, null], [13, 2]]);
    // Gone all the same: tests that read what was deleted see it, after its server.
    expect(api.deleted).toEqual(['servers/app', 'primary_ips/auto-ipv6']);
  } finally {
    await api.stop();
  }
});

// refuseDelete answered every kind "409 conflict: primary ip is assigned", which Hetzner never says (an assigned one is
// refused with 422 must_be_unassigned, above): it now refuses any kind as Hetzner does while an action runs on it.
test('refuseDelete refuses a delete of any kind with 423 locked, and deletes nothing', async () => {
  const api = new HcloudApiStandIn({ firewalls: [{ id: 21, name: 'fw', labels: {} }], primary_ips: [{ id: 11, name: 'ip', labels: {}, assignee_id: null }] });
  api.refuseDelete.add('firewalls/21');
  api.refuseDelete.add('primary_ips/11');
  const endpoint = await api.start();
  try {
    for (const path of ['firewalls/21', 'primary_ips/11']) {
      const refused = await fetch(`${endpoint}/${path}`, { method: 'DELETE', headers: { Authorization: 'Bearer test-token' } });
      expect([refused.status, ((await refused.json()) as { error: { code: string } }).error.code]).toEqual([423, 'locked']);
    }
    expect(api.deleted).toEqual([]);
  } finally {
    await api.stop();
  }
});
