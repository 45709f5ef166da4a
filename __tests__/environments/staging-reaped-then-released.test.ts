import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdktf';
import { HetznerStandIn } from '../../testing';
import { phase1Pilot } from '../../examples/phase1-pilot';

// Audit (staging lifecycle): a release stopped without its clean-up (a CI runner killed) leaves staging up; the
// daily reaper deletes it from its expiry day, behind Terraform's back, so staging's state still lists it. The
// next release brings staging up from that state: Terraform must notice what is gone and build it again, and the
// take-down after it must succeed, with production untouched throughout.
test('a staging the reaper deleted comes up again at the next release, and goes down again, production untouched', () => {
  const standIn = new HetznerStandIn();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'staging-reaped-'));
  const cloudFile = path.join(dir, 'production-project.cloud.json');
  try {
    const stacks = phase1Pilot(Testing.app());
    const production = standIn.workspace(stacks.production, { cloudFile });
    expect(production.apply().ok).toBe(true);
    const productionObjects = () => Object.entries(production.cloud().objects)
      .flatMap(([type, byId]) => Object.values(byId ?? {}).filter((o: any) => o.labels?.environment === 'production').map((o) => `${type} ${JSON.stringify(o)}`)).sort();
    const before = productionObjects();
    const staging = standIn.workspace(stacks.staging!, { cloudFile });
    expect(staging.apply().ok).toBe(true);

    // What `staging delete-expired` deletes: every object labelled staging (a network's subnets go with it).
    const cloud = JSON.parse(fs.readFileSync(cloudFile, 'utf8'));
    const reaped: string[] = [];
    for (const byId of Object.values<Record<string, any>>(cloud.objects)) {
      for (const [id, o] of Object.entries(byId)) if (o?.labels?.environment === 'staging') { reaped.push(id); delete byId[id]; }
    }
    for (const [id, o] of Object.entries<any>(cloud.objects.hcloud_network_subnet ?? {})) if (reaped.includes(String(o.network_id))) delete cloud.objects.hcloud_network_subnet[id];
    fs.writeFileSync(cloudFile, JSON.stringify(cloud));
    expect(reaped.length).toBe(5);

    const again = staging.apply();
    expect(again.ok).toBe(true);
    const servers = Object.values(staging.cloud().objects.hcloud_server ?? {}).map((s: any) => s.name).sort();
    expect(servers).toEqual(['phase1-pilot-production-app', 'phase1-pilot-staging-app']);
    expect(staging.destroy().ok).toBe(true);
    expect(Object.values(staging.cloud().objects).flatMap((byId) => Object.values(byId ?? {})).filter((o: any) => o.labels?.environment === 'staging')).toEqual([]);
    expect(productionObjects()).toEqual(before);
  } finally {
    standIn.stop(true);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 240_000);
