import * as fs from 'fs';
import { FACTS_BEYOND_SHARED_FILE } from '../hetzner/hetzner-facts';
import { HcloudApiStandIn } from './hcloud-api-stand-in';

// Review: the stand-in answered a delete-protected resource's DELETE with 423 protected, on no source. The code is in
// Hetzner's API reference; the status only in a comment of Hetzner's Go library's retry test (no Hetzner document
// states it: the facts' uncertain list says so). The fact is in the repository's facts beyond the shared reference,
// and the stand-in answers as it says.
describe('the API stand-in refuses to delete a delete-protected resource as Hetzner does', () => {
  const facts = JSON.parse(fs.readFileSync(FACTS_BEYOND_SHARED_FILE, 'utf8'));
  const [, status, code] = /answered HTTP (\d{3}) with error code (\w+)/.exec(facts.errors?.protected ?? '') ?? [];

  test('the reference facts state the status and the code, each source listed', () => {
    expect([status, code]).toEqual(['423', 'protected']);
    const known = new Set(facts.sources.map((s: { id: string }) => s.id));
    expect(facts.errors.sources.length).toBeGreaterThan(0);
    expect(facts.errors.sources.filter((id: string) => !known.has(id))).toEqual([]);
  });

  test.each(['servers', 'volumes', 'primary_ips', 'floating_ips', 'load_balancers', 'networks'])('%s: refused with that status and code, and kept', async (collection) => {
    const api = new HcloudApiStandIn({ [collection]: [{ id: 7, name: 'kept', labels: {}, protection: { delete: true } }, { id: 8, name: 'gone', labels: {} }] });
    const endpoint = await api.start();
    try {
      const del = (id: number) => fetch(`${endpoint}/${collection}/${id}`, { method: 'DELETE', headers: { Authorization: 'Bearer test-token' } });
      const refused = await del(7);
      expect([refused.status, ((await refused.json()) as { error: { code: string } }).error.code]).toEqual([Number(status), code]);
      expect((await del(8)).status).toBeLessThan(300);
      expect(api.collections[collection].map((r) => r.name)).toEqual(['kept']);
      expect(api.deleted).toEqual([`${collection}/gone`]);
    } finally {
      await api.stop();
    }
  });
});
