import { HcloudApiStandIn, StandInResource } from '../environments/hcloud-api-stand-in';
import { cli } from './cli';

// Audit (staging lifecycle): Hetzner gives a snapshot no name (`name` is null; only system images have one), only
// the description it was taken with. `snapshot --keep` named each snapshot it deleted or kept by its name, so every
// message read "deleted snapshot 101 (null)", and no one could tell which release's image went. The API stand-in
// named its images after their description, which hid it.
test("snapshot names each snapshot it deletes or keeps by its description, as Hetzner's API has no name for it", async () => {
  const preRelease = (id: number, day: string): StandInResource => ({
    id, name: null as unknown as string, description: `pre-release ${day}`, labels: { purpose: 'pre-release', source: 'acme-production-app' },
  });
  const api = new HcloudApiStandIn({
    servers: [
      { id: 2, name: 'acme-production-app', labels: { environment: 'production', role: 'app' } },
      { id: 9, name: 'acme-staging-app', labels: { environment: 'staging' }, image: { id: 101 } },
    ],
    images: [preRelease(101, '2026-11-01'), preRelease(102, '2026-11-08'), preRelease(103, '2026-11-15')],
  });
  const endpoint = await api.start();
  try {
    const { code, out, err } = await cli(['snapshot', '--server', 'acme-production-app', '--description', 'pre-release 2026-12-04', '--keep', '2'],
      { HCLOUD_TOKEN: 'test-token', HCLOUD_ENDPOINT: endpoint });
    expect(code).toBe(0);
    expect(out).toBe('4242');
    expect(err).toMatch(/^kept snapshot 101 \(pre-release 2026-11-01\): server acme-staging-app was built from it$/m);
    expect(err).toMatch(/^deleted snapshot 102 \(pre-release 2026-11-08\): older than the newest 2 pre-release snapshots of acme-production-app$/m);
    expect(err).not.toMatch(/null/);
    // The new snapshot is stored as Hetzner stores it: no name, its description.
    expect(api.collections.images.find((i) => i.id === 4242)).toMatchObject({ name: null, description: 'pre-release 2026-12-04' });
  } finally {
    await api.stop();
  }
});
