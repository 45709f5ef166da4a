import * as fs from 'fs';
import { DataClass, Environment, Location, Machine, ServerType, Size } from '../../lib';
import { DataVolume } from '../../lib/hetzner/data-volume';
import { recordVolumeBackup } from '../../lib/hetzner/private/volume-coverage';
import * as api from '../../lib';
import { ADMIN_CIDRS, ADMIN_KEY, resourcesOf, synthJson, testStack } from '../setup/stack';
import { synthesizedBundle } from '../../testing/bundle';
import { FACTS_FILE } from './hetzner-facts';

function machine(environment = Environment.PRODUCTION) {
  const { stack } = testStack(environment.name);
  const m = new Machine(stack, 'App', {
    environment, role: 'app', serverType: ServerType.CX33, location: Location.NBG1, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS, dataClasses: [DataClass.SENSITIVE],
  });
  return { stack, machine: m };
}

describe('DataVolume', () => {
  test('with only its required props: in the machine\'s location, attached without automount, mounted by cloud-init, and it must be backed up', () => {
    const { stack, machine: m } = machine(Environment.TEST);
    const volume = new DataVolume(stack, 'Data', { machine: m, size: Size.gibibytes(20) });
    expect(() => synthJson(stack)).toThrow(/test\/Data\.mountPath: '\/mnt\/data' is not allowed: Hetzner server backups and snapshots do not include attached volumes/);
    recordVolumeBackup(m, { by: stack, filePaths: ['/mnt'] });
    const json = synthJson(stack);
    const [v] = resourcesOf(json, 'hcloud_volume');
    expect(v).toMatchObject({ name: 'test-app-data', size: 20, location: 'nbg1', format: 'ext4', automount: false, delete_protection: false });
    expect(v.labels).toMatchObject({ role: 'app-volume', 'data-class': 'sensitive' });
    const [attachment] = resourcesOf(json, 'hcloud_volume_attachment');
    expect(attachment).toEqual({
      volume_id: expect.stringMatching(/^\$\{hcloud_volume\.\w+\.id\}$/), server_id: expect.stringMatching(/^\$\{hcloud_server\.\w+\.id\}$/), automount: false,
    });
    const bundle = synthesizedBundle(json, 'test-app');
    expect(bundle.files.get('/etc/sovereign/volumes/mnt-data.device')?.template).toMatch(/^\/dev\/disk\/by-id\/scsi-0HC_Volume_\$\{hcloud_volume\.\w+\.id\}\n$/);
    const [mount] = bundle.parts.find((p) => p.name === 'volume /mnt/data')!.commands as string[][];
    expect(mount[2]).toMatch(/^dev=\$\(cat \/etc\/sovereign\/volumes\/mnt-data.device\); dir=\/mnt\/data/);
    expect(mount[2]).toContain('ext4 discard,nofail,defaults 0 2');
    expect(volume.mountPath).toBe('/mnt/data');
  });

  test('a larger volume grows its file system on the next rollout: Hetzner grows only the device', () => {
    const mountOf = (gib: number) => {
      const { stack, machine: m } = machine();
      new DataVolume(stack, 'Data', { machine: m, size: Size.gibibytes(gib), withoutBackup: 'model cache, downloaded again at start' });
      const json = synthJson(stack);
      const bundle = synthesizedBundle(json, 'production-app');
      return { size: resourcesOf(json, 'hcloud_volume')[0].size, version: bundle.version, script: (bundle.parts.find((p) => p.name === 'volume /mnt/data')!.commands as string[][])[0][2] };
    };
    const [small, large] = [mountOf(50), mountOf(100)];
    expect([small.size, large.size]).toEqual([50, 100]);
    // The resize is in the part's command, so the rollout runs it again; before, the bundle did not change at all.
    expect(large.version).not.toBe(small.version);
    expect(large.script.split('\n').slice(-2)).toEqual(['else mount "$dir"; fi', 'resize2fs "$dev" # to 100 GiB']);
  });

  test('in production: delete protection and prevent_destroy', () => {
    const { stack, machine: m } = machine();
    new DataVolume(stack, 'Data', { machine: m, size: Size.gibibytes(20), withoutBackup: 'model cache, downloaded again at start' });
    const [v] = resourcesOf(synthJson(stack), 'hcloud_volume');
    expect(v.delete_protection).toBe(true);
    expect(v.lifecycle).toEqual({ prevent_destroy: true });
  });

  test('a file backup covers a volume mounted at or below its path, not above it', () => {
    const { stack, machine: m } = machine();
    const deep = new DataVolume(stack, 'Deep', { machine: m, size: Size.gibibytes(10), mountPath: '/srv/data/uploads' });
    const top = new DataVolume(stack, 'Top', { machine: m, size: Size.gibibytes(10), mountPath: '/srv' });
    recordVolumeBackup(m, { by: stack, filePaths: ['/srv/data'] });
    expect(deep.coveringBackup()).toBe(stack);
    expect(top.coveringBackup()).toBeUndefined();
    expect(() => synthJson(stack)).toThrow(/production\/Top\.mountPath: '\/srv' is not allowed/);
  });

  // Audit (mutation): a coverage check by bare prefix (/srv/data covering /srv/database), or one that forgot a
  // volume mounted inside a dumped data directory, passed every test.
  test('a backup covers a volume by whole path components: /srv/data does not cover /srv/database', () => {
    const { stack, machine: m } = machine();
    const sibling = new DataVolume(stack, 'Sibling', { machine: m, size: Size.gibibytes(10), mountPath: '/srv/database' });
    const dbSibling = new DataVolume(stack, 'DbSibling', { machine: m, size: Size.gibibytes(10), mountPath: '/mnt/pg' });
    recordVolumeBackup(m, { by: stack, filePaths: ['/srv/data'], databaseDirectories: ['/mnt/pg2/15/main'] });
    expect(sibling.coveringBackup()).toBeUndefined();
    expect(dbSibling.coveringBackup()).toBeUndefined();
    expect(() => synthJson(stack)).toThrow(/production\/Sibling\.mountPath: '\/srv\/database' is not allowed: Hetzner server backups and snapshots do not include attached volumes/);
    expect(() => synthJson(stack)).toThrow(/production\/DbSibling\.mountPath: '\/mnt\/pg' is not allowed/);
  });

  test('a database dump covers a volume its data directory is on, and a volume mounted inside the data directory', () => {
    const { stack, machine: m } = machine();
    const holding = new DataVolume(stack, 'Holding', { machine: m, size: Size.gibibytes(10), mountPath: '/mnt/pg' });
    const inside = new DataVolume(stack, 'Inside', { machine: m, size: Size.gibibytes(10), mountPath: '/var/lib/postgresql/15/main/pg_tblspc' });
    recordVolumeBackup(m, { by: stack, databaseDirectories: ['/mnt/pg/15/main', '/var/lib/postgresql/15/main'] });
    expect(holding.coveringBackup()).toBe(stack);
    expect(inside.coveringBackup()).toBe(stack);
    expect(() => synthJson(stack)).not.toThrow();
  });

  test('takes only a Machine, and offers no public way to record a backup the volume does not have', () => {
    const { stack, machine: m } = machine();
    // A look-alike of the machine (what a JavaScript caller could hand over) would skip what Machine enforces.
    const lookAlike = { ...m, node: m.node, server: m.server, environment: m.environment, location: m.location, dataClasses: m.dataClasses, addBundlePart: () => undefined };
    expect(() => new DataVolume(stack, 'Data', { machine: lookAlike as any, size: Size.gibibytes(10) }))
      .toThrow(/production\/Data\.machine: .* is not allowed: it is not a machine built with new Machine\(…\)\. Fix: pass the Machine itself/);
    expect(Machine.isMachine(m)).toBe(true);
    expect(Machine.isMachine(lookAlike)).toBe(false);
    expect((DataVolume as any).recordBackup).toBeUndefined();
    expect(Object.keys(api).filter((k) => /record|coverage/i.test(k))).toEqual([]);
  });

  test.each([
    ['a size below 10 GiB', { size: Size.gibibytes(5) }, /\.size: '5 GiB' is not allowed: Hetzner volumes are 10 GiB to 10 TiB/],
    ['a size that is not whole GiB', { size: Size.mebibytes(15_000) }, /\.size: '15000 MiB' is not allowed/],
    ['a relative mount path', { size: Size.gibibytes(10), mountPath: 'data' }, /\.mountPath: 'data' is not allowed/],
    ['an opt-out without a real reason', { size: Size.gibibytes(10), withoutBackup: 'cache' }, /\.withoutBackup: 'cache' is not allowed: opting a volume out of backups needs a specific reason/],
  ])('fails on %s', (_, props, message) => {
    const { stack, machine: m } = machine();
    expect(() => new DataVolume(stack, 'Data', { machine: m, ...props })).toThrow(message);
  });
});

// Audit (scale): Hetzner attaches at most 16 volumes to a server (reference facts, limits.perServer.volumes). A machine
// took any number of DataVolumes, and synth passed a 17th that Hetzner refuses when Terraform attaches it, part-way
// through a deploy.
describe('the volumes of one machine', () => {
  const LIMIT = JSON.parse(fs.readFileSync(FACTS_FILE, 'utf8')).limits.perServer.volumes as number;
  function withVolumes(n: number) {
    const { stack, machine: m } = machine();
    recordVolumeBackup(m, { by: stack, filePaths: ['/srv'] });
    for (let i = 1; i <= n; i += 1) new DataVolume(stack, `Data${i}`, { machine: m, size: Size.gibibytes(10), mountPath: `/srv/data${i}` });
    return stack;
  }

  test(`${LIMIT} pass synth; the next fails, naming the volume, the machine, the count and the fix`, () => {
    expect(LIMIT).toBe(16);
    expect(resourcesOf(synthJson(withVolumes(LIMIT)), 'hcloud_volume_attachment')).toHaveLength(LIMIT);
    expect(() => synthJson(withVolumes(LIMIT + 1))).toThrow("production/Data17.machine: 'production/App' is not allowed: it is volume 17 of 17 on that machine, "
      + 'and Hetzner attaches at most 16 volumes to a server. Fix: keep the data of several mount paths on one larger volume (a volume grows to 10 TiB), or put some of it on another machine');
  });

  test('volumes of other machines do not count', () => {
    const stack = withVolumes(LIMIT);
    const other = new Machine(stack, 'Worker', {
      environment: Environment.PRODUCTION, role: 'worker', serverType: ServerType.CX33, location: Location.NBG1, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS,
    });
    recordVolumeBackup(other, { by: stack, filePaths: ['/srv'] });
    new DataVolume(stack, 'WorkerData', { machine: other, size: Size.gibibytes(10), mountPath: '/srv/worker' });
    expect(resourcesOf(synthJson(stack), 'hcloud_volume_attachment')).toHaveLength(LIMIT + 1);
  });

  test('are attached one after another, each waiting for the one before; another machine\'s are not held up', () => {
    const stack = withVolumes(3);
    const other = new Machine(stack, 'Worker', {
      environment: Environment.PRODUCTION, role: 'worker', serverType: ServerType.CX33, location: Location.NBG1, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS,
    });
    recordVolumeBackup(other, { by: stack, filePaths: ['/srv'] });
    new DataVolume(stack, 'WorkerData', { machine: other, size: Size.gibibytes(10), mountPath: '/srv/worker' });
    const attachments: Record<string, any> = synthJson(stack).resource.hcloud_volume_attachment;
    const nameOf = (volume: string) => Object.keys(attachments).find((k) => k.startsWith(`${volume}_Attachment`))!;
    // Hetzner locks a server during an attachment; a second one made at the same moment fails with `locked`.
    expect(attachments[nameOf('Data1')].depends_on).toBeUndefined();
    expect(attachments[nameOf('Data2')].depends_on).toEqual([`hcloud_volume_attachment.${nameOf('Data1')}`]);
    expect(attachments[nameOf('Data3')].depends_on).toEqual([`hcloud_volume_attachment.${nameOf('Data2')}`]);
    expect(attachments[nameOf('WorkerData')].depends_on).toBeUndefined();
  });
});
