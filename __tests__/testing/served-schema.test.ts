import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { HetznerStandIn } from '../../testing';

// The bindings are generated from schema/hcloud-provider-schema.json and an independent check holds that
// file to the real provider, so the stand-in must serve that file and nothing else: Terraform's own
// `providers schema -json`, read back through the stand-in, has to be the committed file, byte for value,
// descriptions, description kinds and deprecation flags included.

const ROOT = path.resolve(__dirname, '..', '..');
const committed = JSON.parse(fs.readFileSync(path.join(ROOT, 'schema', 'hcloud-provider-schema.json'), 'utf8'));

/** Every place two JSON values differ, as `path: served … committed …` lines. */
function differences(served: unknown, expected: unknown, at = ''): string[] {
  if (typeof served !== typeof expected || Array.isArray(served) !== Array.isArray(expected) || (served === null) !== (expected === null)) {
    return [`${at}: served ${JSON.stringify(served)}, committed ${JSON.stringify(expected)}`];
  }
  if (served && typeof served === 'object') {
    const a = served as Record<string, unknown>;
    const b = expected as Record<string, unknown>;
    return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort().flatMap((k) => differences(a[k], b[k], `${at}/${k}`));
  }
  return served === expected ? [] : [`${at}: served ${JSON.stringify(served)}, committed ${JSON.stringify(expected)}`];
}

describe('the schema the stand-in serves', () => {
  const standIn = new HetznerStandIn({ reattach: true });
  afterAll(() => standIn.stop(true));

  test('`terraform providers schema -json` through the stand-in is the committed schema file exactly', () => {
    expect(differences(servedSchema(standIn), committed)).toEqual([]);
  });
});

describe('descriptions, their kinds and deprecation flags reach Terraform as the schema file has them', () => {
  // The committed file may or may not carry them; a copy that has them at every depth shows the stand-in
  // passes each one through (HCLOUD_STANDIN_SCHEMA points the plugin at another schema file).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hcloud-schema-'));
  const described = JSON.parse(JSON.stringify(committed));
  const hcloud = described.provider_schemas['registry.terraform.io/hetznercloud/hcloud'];
  // Texts of hcloud/provider.go and hcloud/plugin_provider.go at v1.68.0, and markdown as framework resources write it.
  hcloud.provider.block.attributes.token.description = 'The Hetzner Cloud API token, can also be specified with the HCLOUD_TOKEN environment variable.';
  hcloud.resource_schemas.hcloud_storage_box.block.description = 'Provides a Hetzner Storage Box.';
  hcloud.resource_schemas.hcloud_storage_box.block.description_kind = 'markdown';
  hcloud.resource_schemas.hcloud_storage_box.block.attributes.access_settings.nested_type.attributes.ssh_enabled.description = 'Whether the SSH subsystem is enabled.';
  hcloud.resource_schemas.hcloud_storage_box.block.attributes.access_settings.nested_type.attributes.ssh_enabled.description_kind = 'markdown';
  hcloud.resource_schemas.hcloud_server.block.block_types.network.block.description = 'A private network of the server.';
  hcloud.resource_schemas.hcloud_server.block.block_types.network.block.deprecated = true;
  hcloud.resource_schemas.hcloud_server.block.block_types.network.block.attributes.ip.description = 'The `ip` the server gets.';
  hcloud.data_source_schemas.hcloud_image.block.attributes.name.description = 'Name of the image.';
  const file = path.join(dir, 'described-schema.json');
  fs.writeFileSync(file, JSON.stringify(described));
  const standIn = new HetznerStandIn({ dir: path.join(dir, 'stand-in'), reattach: false });
  afterAll(() => {
    standIn.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('served, they equal the file', () => {
    const before = process.env.HCLOUD_STANDIN_SCHEMA;
    process.env.HCLOUD_STANDIN_SCHEMA = file;
    try {
      const served = servedSchema(standIn);
      expect(differences(served, described)).toEqual([]);
      expect(served.provider_schemas['registry.terraform.io/hetznercloud/hcloud'].resource_schemas.hcloud_storage_box.block.description_kind).toBe('markdown');
    } finally {
      if (before === undefined) delete process.env.HCLOUD_STANDIN_SCHEMA;
      else process.env.HCLOUD_STANDIN_SCHEMA = before;
    }
  });
});

/** `terraform providers schema -json` in an initialized directory that requires hcloud 1.68.0. */
function servedSchema(standIn: HetznerStandIn): any {
  const ws = standIn.workspace({ terraform: { required_providers: { hcloud: { source: 'hetznercloud/hcloud', version: '1.68.0' } } } }, { name: 'schema' });
  const init = ws.init();
  expect(init.stderr).toBe('');
  const run = ws.terraformRun(['providers', 'schema', '-json']);
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout);
}
