import * as fs from 'fs';
import { FACTS_BEYOND_SHARED_FILE } from '../hetzner/hetzner-facts';
import { HcloudApiStandIn } from './hcloud-api-stand-in';

// The stand-in refused to delete an assigned floating IP, and the reaper was built around that, on a claim ("since 1 May
// 2026, must_be_unassigned") that no source in the repository backed. The fact and its sources are in the repository's
// facts beyond the shared reference now; the stand-in answers as they say.
describe('the API stand-in deletes floating IPs as Hetzner does since 1 May 2026', () => {
  const facts = JSON.parse(fs.readFileSync(FACTS_BEYOND_SHARED_FILE, 'utf8'));

  test('the reference facts state it, each source listed', () => {
    expect(facts.floatingIps.deleteWhileAssigned).toMatch(/from 1 May 2026 it is refused with 422 must_be_unassigned/);
    const known = new Set(facts.sources.map((s: { id: string }) => s.id));
    expect(facts.floatingIps.sources.filter((id: string) => !known.has(id))).toEqual([]);
    expect(facts.floatingIps.sources.length).toBeGreaterThan(0);
  });

  test('an assigned one is refused with 422 must_be_unassigned and stays; an unassigned one is deleted', async () => {
    const api = new HcloudApiStandIn({ floating_ips: [{ id: 51, name: 'fip-51', labels: {}, server: 1 }, { id: 52, name: 'fip-52', labels: {}, server: null }] });
    const endpoint = await api.start();
    try {
      const del = (id: number) => fetch(`${endpoint}/floating_ips/${id}`, { method: 'DELETE', headers: { Authorization: 'Bearer test-token' } });
      const refused = await del(51);
      expect([refused.status, ((await refused.json()) as { error: { code: string } }).error.code]).toEqual([422, 'must_be_unassigned']);
      expect((await del(52)).status).toBe(204);
      expect(api.collections.floating_ips.map((ip) => ip.id)).toEqual([51]);
    } finally {
      await api.stop();
    }
  });
});
