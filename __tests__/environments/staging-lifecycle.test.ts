import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdktf';
import { HetznerStandIn } from '../../testing';
import { phase1Pilot } from '../../examples/phase1-pilot';

// Audit (lifecycle): staging built from production's snapshot must live in production's Hetzner project, since a
// snapshot is usable only in the project it was taken in. The staging stack registered the product's admin keys
// again, and Hetzner allows a key (fingerprint) once per project: the deploy failed with uniqueness_error after
// creating the network, addresses and firewall. Here Terraform applies both stacks into one simulated project.
describe('staging on demand in production\'s project', () => {
  const standIn = new HetznerStandIn();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'staging-lifecycle-'));
  const cloudFile = path.join(dir, 'production-project.cloud.json');
  afterAll(() => {
    standIn.stop(true);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** What the project holds, as `<type> <name>` (and the server's protection), sorted. */
  const inventory = (objects: Record<string, Record<string, any> | undefined>) => Object.entries(objects)
    .flatMap(([type, byId]) => Object.values(byId ?? {}).map((o) => `${type} ${o.name ?? o.ip_range ?? o.id}${o.delete_protection ? ' protected' : ''}`)).sort();

  test('comes up beside production, a second deploy changes nothing, and taking it down leaves production exactly as it was', () => {
    const stacks = phase1Pilot(Testing.app());
    const production = standIn.workspace(stacks.production, { cloudFile });
    const deployed = production.apply();
    expect(deployed.stderr).toBe('');
    expect(deployed.ok).toBe(true);
    const before = inventory(production.cloud().objects);

    const staging = standIn.workspace(stacks.staging!, { cloudFile });
    const up = staging.apply();
    expect(up.stdout).not.toMatch(/uniqueness_error/);
    expect(up.ok).toBe(true);
    // Production's keys are the project's only ones, and the staging server uses them.
    const keys = Object.values(staging.cloud().objects.hcloud_ssh_key ?? {}).map((k: any) => k.name);
    expect(keys).toEqual(['phase1-pilot-production-admin']);
    const [server] = Object.values(staging.cloud().objects.hcloud_server ?? {}).filter((s: any) => s.name === 'phase1-pilot-staging-app') as any[];
    expect(server.labels).toMatchObject({ environment: 'staging', lifecycle: 'on-demand' });

    // The release path deploys staging again when a rehearsal is repeated: nothing to change, nothing duplicated.
    const again = staging.plan().changes!;
    expect(again.resourceChanges.filter((c) => !c.actions.every((a) => a === 'no-op'))).toEqual([]);

    // A second release while the first staging is still up: a newer snapshot (another image here) replaces only the
    // staging server (and so its bundle's rollout), which keeps its addresses; production is not in the plan.
    staging.setConfiguration(JSON.parse(Testing.synth(phase1Pilot(Testing.app()).staging!))).setVariables({ TF_VAR_staging_image: 'debian-13' });
    const next = staging.plan().changes!;
    expect(next.replacements.map((c) => c.address).sort()).toEqual([expect.stringMatching(/^hcloud_server\.App_/), expect.stringMatching(/^terraform_data\.App_Rollout_/)]);
    expect(next.deletes).toEqual([]);
    expect(next.resourceChanges.every((c) => !JSON.stringify(c.before ?? {}).includes('phase1-pilot-production-app"'))).toBe(true);
    expect(staging.apply().ok).toBe(true);

    expect(staging.destroy().ok).toBe(true);
    expect(inventory(production.cloud().objects)).toEqual(before);
    expect(production.plan().changes!.resourceChanges.filter((c) => !c.actions.every((a) => a === 'no-op'))).toEqual([]);
  }, 240_000);
});
