import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DataVolume, Environment, Machine, ServerType, Size, SshKey } from '../../lib';
import { volumeShrinks } from '../../cli/guard';
import { deployedForGuard, guard } from './cli';
import { HetznerStandIn, stackJson, StandInWorkspace } from '../../testing';
import { ADMIN_CIDRS, testStack } from '../setup/stack';

// Hetzner volumes grow only (hetzner-facts: "resize": "grow only (no shrink)"). hcloud v1.68 plans a smaller `size` as
// an in-place change ("1 to change"), and the API refuses the resize at apply, after the plan's other changes went
// through. `guard` refuses such a plan before anything changes, with the fix.

const ADMIN_PUBLIC_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr ops@acme.eu';

/** Production with one machine and a data volume of `gib` GiB. */
function production(gib: number) {
  const { stack } = testStack('acme-production');
  const machine = new Machine(stack, 'App', {
    environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, adminCidrs: ADMIN_CIDRS,
    sshKeys: [new SshKey(stack, 'Admin', { name: 'admin', publicKey: ADMIN_PUBLIC_KEY })],
  });
  new DataVolume(stack, 'Data', { machine, size: Size.gibibytes(gib), name: 'acme-data', withoutBackup: 'a scratch cache, rebuilt from the object store on demand' });
  return stackJson(stack);
}

describe('guard refuses a plan that shrinks a volume (stand-in, real Terraform)', () => {
  const standIn = HetznerStandIn.shared();
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'guard-volume-shrink-'));
  const stack = 'acme-production';
  let ws: StandInWorkspace;
  let env: NodeJS.ProcessEnv;
  beforeAll(() => {
    ({ ws, env } = deployedForGuard(standIn, outdir, stack, production(20)));
  }, 180_000);
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  test('Terraform plans the smaller size as an in-place change: no plan-time error, no replacement', () => {
    ws.setConfiguration(production(10));
    const changes = ws.plan().changes!;
    expect(changes.replacements.filter((c) => c.type === 'hcloud_volume')).toEqual([]);
    expect(changes.updates.filter((c) => c.type === 'hcloud_volume').map((c) => [c.before?.size, c.after?.size])).toEqual([[20, 10]]);
  }, 120_000);

  test('a shrink exits 1, naming the volume, both sizes, why and the fix', async () => {
    ws.setConfiguration(production(10));
    const result = await guard([stack, '--out', outdir], env);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/^acme-production's plan shrinks the volume hcloud_volume\.Data_[0-9A-F]{8} \('acme-data'\) from 20 GB to 10 GB: Hetzner volumes only grow, so the API refuses the resize at apply, after Terraform may have applied the plan's other changes\. Fix: restore the size \(size: Size\.gibibytes\(20\) on the DataVolume\); to move to a smaller volume, add a new DataVolume beside it, copy the data over, then retire the old one\.$/m);
    expect(result.err).toMatch(/^guard: acme-production's plan shrinks 1 volume, which Hetzner refuses: do not deploy it\.$/m);
    expect(result.out).not.toMatch(/deletes no protected resource/);
  }, 120_000);

  test('growing the volume passes', async () => {
    ws.setConfiguration(production(30));
    const result = await guard([stack, '--out', outdir], env);
    // The volume's bundle part names the size (resize2fs after the grow), so the machine's rollout is replaced too.
    expect(result).toMatchObject({ code: 0, err: '', out: expect.stringMatching(/deletes no protected resource \(\d+ to add, \d+ to change, \d+ to destroy; of them, a machine's rollout replaced \(terraform_data\.\w+_Rollout_[0-9A-F]{8}\): .*replacing nothing on Hetzner\)\.$/) });
  }, 120_000);

  test('what guard stops: applied anyway, the stand-in (like Hetzner) refuses the resize, and the volume keeps its size', () => {
    ws.setConfiguration(production(10));
    const applied = ws.apply();
    expect(applied.ok).toBe(false);
    expect(applied.stdout + applied.stderr).toMatch(/volumes can only be resized upwards/);
    expect(Object.values(ws.cloud().objects.hcloud_volume ?? {}).map((v: any) => v.size)).toEqual([20]);
  }, 120_000);
});

describe('volumeShrinks', () => {
  const volume = (actions: string[], before: Record<string, unknown> | null, after: Record<string, unknown> | null) =>
    ({ resource_changes: [{ address: 'hcloud_volume.V', type: 'hcloud_volume', change: { actions, before, after } }] });

  test('only an in-place update to a known smaller size counts', () => {
    expect(volumeShrinks(volume(['update'], { size: 50, name: 'v' }, { size: 40, name: 'v' }))).toEqual([{ address: 'hcloud_volume.V', name: 'v', sizes: [50, 40] }]);
    expect(volumeShrinks(volume(['update'], { size: 50 }, { size: 50 }))).toEqual([]);
    expect(volumeShrinks(volume(['update'], { size: 50 }, { size: 60 }))).toEqual([]);
    expect(volumeShrinks(volume(['update'], { size: 50 }, { size: null }))).toEqual([]);
    expect(volumeShrinks(volume(['create'], null, { size: 10 }))).toEqual([]);
    expect(volumeShrinks(undefined)).toEqual([]);
  });
});
