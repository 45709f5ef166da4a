import * as fs from 'fs';
import { App, TerraformOutput, TerraformStack, Testing } from 'cdktf';
import { DataHcloudImage } from '../../generated/providers/hcloud/data-hcloud-image';
import { DataHcloudLocation } from '../../generated/providers/hcloud/data-hcloud-location';
import { DataHcloudServerType } from '../../generated/providers/hcloud/data-hcloud-server-type';
import { DataHcloudSshKey } from '../../generated/providers/hcloud/data-hcloud-ssh-key';
import { Firewall } from '../../generated/providers/hcloud/firewall';
import { PrimaryIp } from '../../generated/providers/hcloud/primary-ip';
import { HcloudProvider } from '../../generated/providers/hcloud/provider';
import { Server, ServerConfig } from '../../generated/providers/hcloud/server';
import { SshKey } from '../../generated/providers/hcloud/ssh-key';
import { StorageBox } from '../../generated/providers/hcloud/storage-box';
import { StorageBoxSubaccount } from '../../generated/providers/hcloud/storage-box-subaccount';
import { Volume } from '../../generated/providers/hcloud/volume';
import { VolumeAttachment } from '../../generated/providers/hcloud/volume-attachment';
import { HetznerStandIn, setupStandInMatchers } from '../../testing';

setupStandInMatchers();

// The simulated cloud behind the stand-in, driven by the real Terraform CLI: realistic computed
// values, replacement exactly where hcloud forces it, and the API's refusals in its own words.

const standIn = new HetznerStandIn({ reattach: true });
afterAll(() => standIn.stop(true));

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiLWy4xzp7Co8xPuKADKhJl+LiPSPxErnNrzl8Jm/Yr admin@example.eu';

function stack(build: (s: TerraformStack) => void): TerraformStack {
  const app: App = Testing.app();
  const s = new TerraformStack(app, 'standin');
  new HcloudProvider(s, 'hcloud', {});
  build(s);
  return s;
}

const serverStack = (server: Partial<ServerConfig> = {}) => stack((s) => {
  new Server(s, 'web', { name: 'web', serverType: 'cx23', image: 'debian-12', location: 'fsn1', userData: '#cloud-config\n', labels: { role: 'web' }, ...server });
});

const errorsOf = (run: { diagnostics: readonly { severity: string; summary: string; detail: string }[] }) =>
  run.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.summary} ${d.detail}`).join('\n');

describe('apply fills in what the cloud decides', () => {
  test('servers, volumes and Storage Boxes get realistic IDs, addresses and names', () => {
    const ws = standIn.workspace(stack((s) => {
      const web = new Server(s, 'web', { name: 'web', serverType: 'cx23', image: 'debian-12', location: 'nbg1' });
      const data = new Volume(s, 'data', { name: 'data', size: 10, location: 'nbg1' });
      new VolumeAttachment(s, 'attach', { serverId: web.id as unknown as number, volumeId: data.id as unknown as number });
      const box = new StorageBox(s, 'box', { name: 'backups', location: 'fsn1', storageBoxType: 'bx11', password: 'Sup3r-Secret-Passw0rd!xyz' });
      const sub = new StorageBoxSubaccount(s, 'sub', { storageBoxId: box.id, homeDirectory: 'backups/web/', password: 'An0ther-Secret-Passw0rd!xy' });
      new TerraformOutput(s, 'ipv4', { value: web.ipv4Address });
      new TerraformOutput(s, 'ipv6', { value: web.ipv6Address });
      new TerraformOutput(s, 'device', { value: data.linuxDevice });
      new TerraformOutput(s, 'box_server', { value: box.server });
      new TerraformOutput(s, 'box_user', { value: box.username });
      new TerraformOutput(s, 'sub_user', { value: sub.username });
      new TerraformOutput(s, 'server_id', { value: web.id });
    }));
    const applied = ws.apply();
    expect(errorsOf(applied)).toBe('');
    const out = ws.outputs() as Record<string, string>;
    expect(out.server_id).toMatch(/^\d{8}$/);
    expect(out.ipv4).toMatch(/^(203\.0\.113|198\.51\.100|192\.0\.2)\.\d{1,3}$/);
    expect(out.ipv6).toMatch(/^2001:db8:[0-9a-f]+::1$/);
    expect(out.device).toMatch(/^\/dev\/disk\/by-id\/scsi-0HC_Volume_\d+$/);
    expect(out.box_user).toMatch(/^u\d+$/);
    expect(out.box_server).toBe(`${out.box_user}.your-storagebox.de`);
    expect(out.sub_user).toBe(`${out.box_user}-sub1`);
    const cloud = ws.cloud();
    expect(Object.values(cloud.objects.hcloud_volume)[0].server_id).toBe(Number(out.server_id));
    // Applying again changes nothing: what the cloud filled in reads back the same.
    expect(ws.plan().changes!.isEmpty).toBe(true);
  });
});

describe('IPv6 addresses read as hcloud reads them', () => {
  // hcloud's primary IP model (internal/primaryip/model.go, its model_test "ipv6") sets ip_address to the start of
  // the /64 the API names, and the server's ipv6_address is that start plus "1". The stand-in gave the primary IP
  // `::1`, so a stack that published the primary IP's address as the server's passed against it.
  test("a primary IPv6 is the start of its /64; the server it is assigned to answers on the first address after it", () => {
    const ws = standIn.workspace(stack((s) => {
      const v6 = new PrimaryIp(s, 'v6', { name: 'web-ipv6', type: 'ipv6', location: 'fsn1', autoDelete: false });
      const web = new Server(s, 'web', {
        name: 'web', serverType: 'cx23', image: 'debian-12', location: 'fsn1',
        publicNet: [{ ipv4Enabled: false, ipv6Enabled: true, ipv6: v6.id as unknown as number }],
      });
      new TerraformOutput(s, 'primary_address', { value: v6.ipAddress });
      new TerraformOutput(s, 'primary_network', { value: v6.ipNetwork });
      new TerraformOutput(s, 'server_address', { value: web.ipv6Address });
      new TerraformOutput(s, 'server_network', { value: web.ipv6Network });
    }));
    expect(errorsOf(ws.apply())).toBe('');
    const out = ws.outputs() as Record<string, string>;
    expect(out.primary_address).toMatch(/^2001:db8:[0-9a-f]+::$/);
    expect(out.primary_network).toBe(`${out.primary_address}/64`);
    expect(out.server_network).toBe(out.primary_network);
    expect(out.server_address).toBe(`${out.primary_address}1`);
    expect(ws.plan().changes!.isEmpty).toBe(true);
  });
});

describe('plans replace exactly what hcloud replaces', () => {
  test('user_data forces a new server; labels and server type change in place', () => {
    const ws = standIn.workspace(serverStack());
    expect(errorsOf(ws.apply())).toBe('');

    ws.setConfiguration(Testing.synth(serverStack({ userData: '#cloud-config\npackages: [htop]\n' })));
    const replaced = ws.plan().changes!;
    expect(replaced.replacements.map((c) => [c.address, c.replacePaths])).toEqual([['hcloud_server.web', [['user_data']]]]);
    expect(replaced).not.toPlanWithoutReplacing('hcloud_server');

    ws.setConfiguration(Testing.synth(serverStack({ labels: { role: 'api' }, serverType: 'cx33' })));
    const inPlace = ws.plan().changes!;
    expect(inPlace.updates.map((c) => c.address)).toEqual(['hcloud_server.web']);
    expect(inPlace).toPlanWithoutReplacing('hcloud_server');
    expect(inPlace.updates[0].afterUnknown.primary_disk_size).toBe(true); // a rescale without keep_disk grows the disk
  });

  test('the production machine ignores user_data changes, so the server is kept', () => {
    const production = (userData: string) => serverStack({ userData, deleteProtection: true, rebuildProtection: true, lifecycle: { preventDestroy: true, ignoreChanges: ['user_data', 'image', 'ssh_keys'] } });
    const ws = standIn.workspace(production('#cloud-config\n'));
    expect(errorsOf(ws.apply())).toBe('');
    ws.setConfiguration(Testing.synth(production('#cloud-config\nruncmd: [reboot]\n')));
    expect(ws).toPlanWithoutReplacing('hcloud_server');
    expect(ws).toRefuseToDestroy('hcloud_server.web');
    // Without prevent_destroy, the matcher sees Terraform plan the destruction.
    expect(serverStack()).not.toRefuseToDestroy();
  });

  test('a server deleted behind Terraform\'s back is planned again (drift is read from the cloud)', () => {
    const ws = standIn.workspace(serverStack());
    expect(errorsOf(ws.apply())).toBe('');
    const cloud = JSON.parse(fs.readFileSync(ws.cloudFile, 'utf8'));
    cloud.objects.hcloud_server = {};
    fs.writeFileSync(ws.cloudFile, JSON.stringify(cloud));
    expect(ws.plan().changes!.creates.map((c) => c.address)).toEqual(['hcloud_server.web']);
  });

  test('an existing server can be imported, after which nothing changes', () => {
    const first = standIn.workspace(serverStack());
    expect(errorsOf(first.apply())).toBe('');
    const id = String(Object.keys(first.cloud().objects.hcloud_server)[0]);
    const second = standIn.workspace(serverStack(), { cloudFile: first.cloudFile });
    const imported = second.import('hcloud_server.web', id);
    expect(imported.ok).toBe(true);
    expect(second.plan().changes!.isEmpty).toBe(true);
    const third = standIn.workspace(serverStack(), { cloudFile: first.cloudFile });
    expect(errorsOf(third.import('hcloud_server.web', '99999999'))).toMatch(/^Cannot import non-existent remote object/);
  });
});

describe('the API refuses what Hetzner refuses, in the provider\'s words', () => {
  test('deleting a delete-protected server', () => {
    // The API takes delete and rebuild protection only together (change_protection).
    const ws = standIn.workspace(serverStack({ deleteProtection: true, rebuildProtection: true }));
    expect(errorsOf(ws.apply())).toBe('');
    const destroyed = ws.destroy();
    expect(destroyed.ok).toBe(false);
    expect(errorsOf(destroyed)).toMatch(/^server deletion is protected \(protected, [0-9a-f]{16}\)/);
    expect(Object.keys(ws.cloud().objects.hcloud_server)).toHaveLength(1); // still there, still in state
    expect(ws.state().values.root_module.resources.map((r: any) => r.address)).toContain('hcloud_server.web');
    expect(Object.values(ws.cloud().objects.hcloud_server)[0].status).toBe('running'); // shutdown_before_deletion defaults to false
  });

  test('a refused delete of a protected server with shutdown_before_deletion leaves it powered off, as hcloud does', () => {
    const ws = standIn.workspace(serverStack({ deleteProtection: true, rebuildProtection: true, shutdownBeforeDeletion: true }));
    expect(errorsOf(ws.apply())).toBe('');
    const destroyed = ws.destroy();
    expect(errorsOf(destroyed)).toMatch(/^server deletion is protected/);
    expect(Object.values(ws.cloud().objects.hcloud_server)[0].status).toBe('off');
  });

  test('delete protection without rebuild protection: the server is created, the protection call refused, the server tainted', () => {
    const ws = standIn.workspace(serverStack({ deleteProtection: true }));
    const run = ws.apply();
    expect(errorsOf(run)).toMatch(/\[rebuild => \[delete and rebuild protection must have the same value\]\]/);
    expect(Object.keys(ws.cloud().objects.hcloud_server)).toHaveLength(1);
    expect(ws.state().values.root_module.resources.find((r: any) => r.address === 'hcloud_server.web').tainted).toBe(true);
  });

  test('an unknown location, an unknown server type, and a type not offered in the location', () => {
    expect(errorsOf(standIn.workspace(serverStack({ location: 'ams1' })).apply()))
      .toMatch(/invalid input in field 'location' \(invalid_input, [0-9a-f]+\): \[location => \[location ams1 not found\]\]/);
    expect(errorsOf(standIn.workspace(serverStack({ serverType: 'cx99' })).apply())).toMatch(/^server type cx99 not found/);
    expect(errorsOf(standIn.workspace(serverStack({ serverType: 'cx23', location: 'ash' })).apply()))
      .toMatch(/\[server_type => \[server type cx23 is not available in location ash \(offered in fsn1, nbg1, hel1\)\]\]/);
    expect(errorsOf(standIn.workspace(serverStack({ serverType: 'cx22' })).apply()))
      .toMatch(/Server Type "cx22" is unavailable in "fsn1" and can no longer be ordered\./);
  });

  // Audit (scale): the API takes at most 100 CIDR blocks in a rule; the stand-in took any number, so a firewall Hetzner
  // refuses applied here.
  test('a firewall rule with more than 100 address blocks', () => {
    const blocks = (n: number) => Array.from({ length: n }, (_, i) => `198.18.${i}.0/24`);
    const firewall = (n: number) => stack((s) => {
      new Firewall(s, 'fw', { name: 'fw', rule: [{ direction: 'in', protocol: 'tcp', port: '22', sourceIps: blocks(n) }] });
    });
    expect(errorsOf(standIn.workspace(firewall(100)).apply())).toBe('');
    expect(errorsOf(standIn.workspace(firewall(101)).apply())).toMatch(/^invalid input in field .rules. \(invalid_input, [0-9a-f]+\): \[rules => \[source_ips has 101 CIDR blocks, at most 100 are allowed\]\]/);
  });

  test('a volume attached to a server in another location', () => {
    const ws = standIn.workspace(stack((s) => {
      const web = new Server(s, 'web', { name: 'web', serverType: 'cx23', image: 'debian-12', location: 'fsn1' });
      const data = new Volume(s, 'data', { name: 'data', size: 10, location: 'hel1' });
      new VolumeAttachment(s, 'attach', { serverId: web.id as unknown as number, volumeId: data.id as unknown as number });
    }));
    const applied = ws.apply();
    expect(errorsOf(applied)).toMatch(/^server and volume must be in the same location \(invalid_input, [0-9a-f]+\): \[server => \[server \d+ is in fsn1, volume \d+ in hel1\]\]/);
    expect(ws.cloud().objects.hcloud_volume_attachment ?? {}).toEqual({});
  });

  test('the same SSH key twice in one project', () => {
    const ws = standIn.workspace(stack((s) => {
      new SshKey(s, 'a', { name: 'alice', publicKey: KEY });
      new SshKey(s, 'b', { name: 'alice-again', publicKey: KEY, dependsOn: [] });
    }));
    const run = ws.apply();
    expect(run.diagnostics.find((d) => d.severity === 'error')).toMatchObject({
      summary: 'API request failed',
      detail: expect.stringMatching(/SSH key with the same fingerprint already exists \(uniqueness_error, [0-9a-f]+\)[\s\S]*Error code: uniqueness_error/),
    });
  });
});

describe('data sources answer from the catalog and the project', () => {
  test('image, location, server type and SSH key', () => {
    const keys = standIn.workspace(stack((s) => { new SshKey(s, 'admin', { name: 'admin', publicKey: KEY }); }));
    expect(errorsOf(keys.apply())).toBe('');
    const ws = standIn.workspace(stack((s) => {
      const image = new DataHcloudImage(s, 'image', { name: 'debian-12', withArchitecture: 'arm' });
      const location = new DataHcloudLocation(s, 'location', { name: 'hel1' });
      const type = new DataHcloudServerType(s, 'type', { name: 'cax11' });
      const key = new DataHcloudSshKey(s, 'key', { name: 'admin' });
      new TerraformOutput(s, 'image_name', { value: `${image.name}/${image.architecture}/${image.osFlavor}` });
      new TerraformOutput(s, 'zone', { value: location.networkZone });
      new TerraformOutput(s, 'cores', { value: type.cores });
      new TerraformOutput(s, 'fingerprint', { value: key.fingerprint });
    }), { cloudFile: keys.cloudFile });
    expect(errorsOf(ws.apply())).toBe('');
    expect(ws.outputs()).toEqual({ image_name: 'debian-12/arm/debian', zone: 'eu-central', cores: 2, fingerprint: expect.stringMatching(/^([0-9a-f]{2}:){15}[0-9a-f]{2}$/) });

    const missing = standIn.workspace(stack((s) => { new DataHcloudLocation(s, 'nowhere', { name: 'xyz1' }); }));
    const run = missing.plan().run;
    expect(run.diagnostics.find((d) => d.severity === 'error')).toMatchObject({ summary: 'Resource not found', detail: 'Resource (location) was not found: name="xyz1"' });
  });
});

describe('Storage Box types: sourced facts, and null where no source gives a value', () => {
  const catalogFile = `${__dirname}/../../testing/provider/cloud/catalog.json`;
  const catalog = JSON.parse(fs.readFileSync(catalogFile, 'utf8'));

  test('every value of every type names its source, and a missing one says it is unknown', () => {
    for (const type of catalog.storageBoxTypes) {
      const sourced = Object.keys(type._sources ?? {}).flatMap((k) => k.split(/,\s*/).map((f) => f.replace(/\s*\(.*\)$/, '')));
      const fields = Object.keys(type).filter((k) => !k.startsWith('_'));
      expect({ type: type.name, unsourced: fields.filter((f) => !sourced.includes(f)) }).toEqual({ type: type.name, unsourced: [] });
      for (const field of fields.filter((f) => type[f] === null)) expect(type._sources[field]).toMatch(/^unknown: /);
      for (const [field, source] of Object.entries<string>(type._sources)) {
        if (source.startsWith('unknown: ')) expect({ type: type.name, field, value: type[field] }).toEqual({ type: type.name, field, value: null });
      }
    }
  });

  test('the data sources answer bx11 as the provider\'s acceptance test has it, and the others without made-up sizes', () => {
    const ws = standIn.workspace({
      terraform: { required_providers: { hcloud: { source: 'hetznercloud/hcloud', version: '1.68.0' } } },
      provider: { hcloud: [{}] },
      data: { hcloud_storage_box_type: { by_id: { id: 1333 } }, hcloud_storage_box_types: { all: {} } },
      output: {
        bx11: { value: '${data.hcloud_storage_box_type.by_id}' },
        types: { value: '${[for t in data.hcloud_storage_box_types.all.storage_box_types : { name = t.name, size = t.size }]}' },
      },
    });
    expect(errorsOf(ws.apply())).toBe('');
    const { bx11, types } = ws.outputs() as { bx11: Record<string, unknown>; types: Array<{ name: string; size: number | null }> };
    expect(bx11).toMatchObject({
      id: 1333, name: 'bx11', description: 'BX11', size: 1099511627776, snapshot_limit: 10, automatic_snapshot_limit: 10, subaccounts_limit: 100, is_deprecated: false,
    });
    expect(types).toEqual([
      { name: 'bx11', size: 1099511627776 }, { name: 'bx21', size: null }, { name: 'bx31', size: null }, { name: 'bx41', size: null },
    ]);
  });
});
