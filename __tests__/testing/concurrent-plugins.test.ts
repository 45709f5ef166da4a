import { spawn } from 'child_process';
import { App, TerraformStack, Testing } from 'cdktf';
import { HcloudProvider } from '../../generated/providers/hcloud/provider';
import { Network } from '../../generated/providers/hcloud/network';
import { HetznerStandIn, StandInWorkspace, terraformBinary } from '../../testing';

// Two `terraform apply` runs at once, each with its own plugin process (no reattach), creating
// objects in one simulated project: the cloud file must end up with every object of both.

const PER_STACK = 12;

function networks(prefix: string): TerraformStack {
  const app: App = Testing.app();
  const s = new TerraformStack(app, prefix);
  new HcloudProvider(s, 'hcloud', {});
  for (let i = 0; i < PER_STACK; i++) new Network(s, `net${i}`, { name: `${prefix}-${i}`, ipRange: `10.${i}.0.0/16` });
  return s;
}

function applyAsync(standIn: HetznerStandIn, ws: StandInWorkspace): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(terraformBinary(), ['apply', '-auto-approve', '-input=false', '-no-color', '-parallelism=12'], { cwd: ws.dir, env: standIn.env(ws.cloudFile) });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe('two plugin processes writing one cloud file', () => {
  const standIn = new HetznerStandIn({ reattach: false });
  afterAll(() => standIn.stop(true));

  test('lose nothing', async () => {
    const a = standIn.workspace(networks('alpha'));
    const b = standIn.workspace(networks('beta'), { cloudFile: a.cloudFile });
    expect(a.init().ok).toBe(true);
    expect(b.init().ok).toBe(true);
    const [ra, rb] = await Promise.all([applyAsync(standIn, a), applyAsync(standIn, b)]);
    expect(ra).toMatchObject({ code: 0 });
    expect(rb).toMatchObject({ code: 0 });
    const cloud = a.cloud();
    const names = Object.values(cloud.objects.hcloud_network).map((n) => n.name).sort();
    expect(names).toHaveLength(2 * PER_STACK);
    expect(names).toEqual([...Array.from({ length: PER_STACK }, (_, i) => `alpha-${i}`), ...Array.from({ length: PER_STACK }, (_, i) => `beta-${i}`)].sort());
    expect(new Set(Object.keys(cloud.objects.hcloud_network)).size).toBe(2 * PER_STACK);
    // Each state holds exactly the IDs the cloud handed to that stack.
    for (const ws of [a, b]) {
      const ids = ws.state().values.root_module.resources.map((r: any) => r.values.id);
      expect(ids).toHaveLength(PER_STACK);
      for (const id of ids) expect(cloud.objects.hcloud_network[id]).toBeDefined();
    }
  }, 120_000);
});
