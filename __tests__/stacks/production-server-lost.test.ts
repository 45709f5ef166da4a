import { Testing } from 'cdktf';
import { phase3Traction } from '../../examples/phase3-traction';
import { HetznerStandIn } from '../../testing';
import { CloudStore } from '../../testing/provider/cloud/store';

// docs/backup.md, "Production is lost": after production's app server is deleted (by accident, or on purpose because
// its disk is corrupt), `cdktf deploy` of the unchanged production stack creates a new server on the same primary
// IPs, attaches the surviving data volume (Phase 3: PostgreSQL's data) to it and rolls the bundle out again, and
// deletes or replaces nothing protected: prevent_destroy does not stand in the way of a server that is already gone.
// Through Terraform and the stand-in, with the cloud changed as Hetzner changes it when a server is deleted.

const APP = 'phase3-traction-production-app';

test("a deleted production server comes back on the same addresses, with the same data volume, from the unchanged stack", () => {
  const standIn = new HetznerStandIn();
  try {
    const json = JSON.parse(Testing.synth(phase3Traction(Testing.app({ stackTraces: false })).production, true));
    const ws = standIn.workspace(json);
    const first = ws.apply();
    expect(first.ok).toBe(true);
    const before = ws.cloud().objects;
    const [lostId, lost] = Object.entries<any>(before.hcloud_server).find(([, s]) => s.name === APP)!;
    const [volumeId] = Object.entries<any>(before.hcloud_volume).find(([, v]) => String(v.server_id) === lostId)!;
    const addresses = [lost.ipv4_address, lost.ipv6_network];

    // The loss, as Hetzner leaves the project: the server is gone, its volume detached, its primary IPs unassigned.
    new CloudStore(ws.cloudFile).update((cloud) => {
      delete cloud.objects.hcloud_server[lostId];
      for (const [id, attachment] of Object.entries<any>(cloud.objects.hcloud_volume_attachment ?? {})) {
        if (String(attachment.server_id) === lostId) delete cloud.objects.hcloud_volume_attachment[id];
      }
      for (const volume of Object.values<any>(cloud.objects.hcloud_volume)) if (String(volume.server_id) === lostId) volume.server_id = null;
      for (const ip of Object.values<any>(cloud.objects.hcloud_primary_ip)) {
        if (String(ip.assignee_id) === lostId) { ip.assignee_id = null; }
      }
    });

    const planned = ws.plan();
    expect(planned.run.ok).toBe(true);
    const changes = planned.changes!;
    expect(changes.deletes).toEqual([]);
    const created = [...changes.creates, ...changes.replacements].map((c) => c.type).sort();
    expect(created).toEqual(expect.arrayContaining(['hcloud_server', 'hcloud_volume_attachment', 'terraform_data']));
    // Nothing that outlived the server is touched but to be assigned again.
    const survivors = ['hcloud_volume', 'hcloud_primary_ip', 'hcloud_storage_box', 'hcloud_storage_box_subaccount', 'hcloud_network', 'hcloud_firewall'];
    expect([...changes.replacements, ...changes.deletes].filter((c) => survivors.includes(c.type)).map((c) => c.address)).toEqual([]);
    // The rollout of the app machine is replaced: its inputs hold the server's id, so the new server gets its bundle.
    expect(changes.replacements.concat(changes.creates).some((c) => c.type === 'terraform_data' && /^App_Rollout_/.test(c.name))).toBe(true);

    const second = ws.apply();
    expect(second.ok).toBe(true);
    const after = ws.cloud().objects;
    const [newId, rebuilt] = Object.entries<any>(after.hcloud_server).find(([, s]) => s.name === APP)!;
    expect(newId).not.toBe(lostId);
    expect([rebuilt.ipv4_address, rebuilt.ipv6_network]).toEqual(addresses);
    expect(rebuilt.delete_protection).toBe(true);
    expect(String(after.hcloud_volume[volumeId].server_id)).toBe(newId);
  } finally {
    standIn.stop(true);
  }
}, 240_000);
