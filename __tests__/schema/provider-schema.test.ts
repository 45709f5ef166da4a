import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');
const schemaFile = JSON.parse(fs.readFileSync(path.join(ROOT, 'schema', 'hcloud-provider-schema.json'), 'utf8'));
const provider = schemaFile.provider_schemas['registry.terraform.io/hetznercloud/hcloud'];
const replacement = JSON.parse(fs.readFileSync(path.join(ROOT, 'schema', 'hcloud-replacement.json'), 'utf8'));

type Block = { attributes?: Record<string, any>; block_types?: Record<string, any> };

/** Every problem in a block, recursively: each attribute has one type and a legal flag set. */
function blockProblems(block: Block, where: string): string[] {
  const problems: string[] = [];
  for (const [name, attr] of Object.entries(block.attributes ?? {})) {
    const at = `${where}.${name}`;
    if (('type' in attr) === ('nested_type' in attr)) problems.push(`${at}: needs exactly one of type/nested_type`);
    if (!attr.required && !attr.optional && !attr.computed) problems.push(`${at}: neither required, optional nor computed`);
    if (attr.required && (attr.optional || attr.computed)) problems.push(`${at}: required cannot be optional or computed`);
    if (attr.nested_type) problems.push(...blockProblems(attr.nested_type, at));
  }
  for (const [name, nested] of Object.entries(block.block_types ?? {})) {
    if (!['single', 'list', 'set', 'map', 'group'].includes(nested.nesting_mode)) problems.push(`${where}.${name}: bad nesting_mode`);
    problems.push(...blockProblems(nested.block, `${where}.${name}`));
  }
  return problems;
}

describe('provider schema (hetznercloud/hcloud 1.68)', () => {
  test('is in the `terraform providers schema -json` format', () => {
    expect(schemaFile.format_version).toBe('1.0');
    expect(Object.keys(schemaFile.provider_schemas)).toEqual(['registry.terraform.io/hetznercloud/hcloud']);
    expect(provider.provider.block.attributes.token).toMatchObject({ optional: true, sensitive: true });
  });

  test('covers every resource and data source the library uses or will use soon', () => {
    const resources = ['server', 'ssh_key', 'firewall', 'firewall_attachment', 'network', 'network_subnet', 'server_network', 'volume',
      'volume_attachment', 'placement_group', 'primary_ip', 'snapshot', 'storage_box', 'storage_box_subaccount', 'rdns', 'zone', 'zone_rrset',
      'load_balancer', 'load_balancer_service', 'load_balancer_target', 'load_balancer_network', 'managed_certificate'];
    const dataSources = ['image', 'location', 'server_type', 'ssh_key'];
    expect(Object.keys(provider.resource_schemas)).toEqual(expect.arrayContaining(resources.map((r) => `hcloud_${r}`)));
    expect(Object.keys(provider.data_source_schemas)).toEqual(expect.arrayContaining(dataSources.map((d) => `hcloud_${d}`)));
  });

  test('every attribute has one type and a legal combination of flags', () => {
    const problems = [
      ...Object.entries(provider.resource_schemas).flatMap(([n, s]: [string, any]) => blockProblems(s.block, n)),
      ...Object.entries(provider.data_source_schemas).flatMap(([n, s]: [string, any]) => blockProblems(s.block, `data.${n}`)),
    ];
    expect(problems).toEqual([]);
  });

  test('records the facts the library relies on', () => {
    const server = provider.resource_schemas.hcloud_server.block;
    expect(server.attributes.firewall_ids).toMatchObject({ type: ['set', 'number'], optional: true, computed: true });
    expect(server.attributes.keep_disk).toMatchObject({ type: 'bool', optional: true });
    expect(server.block_types.network.block.attributes.subnet_id).toMatchObject({ type: 'string', optional: true, computed: true });
    expect(provider.resource_schemas.hcloud_storage_box.block.attributes.password).toMatchObject({ required: true, sensitive: true });
    expect(provider.resource_schemas.hcloud_storage_box.block.attributes.access_settings.nested_type.nesting_mode).toBe('single');
  });

  test('lists, for every resource, which arguments force a replacement, and each names a real argument', () => {
    expect(Object.keys(replacement.forceNew).sort()).toEqual(Object.keys(provider.resource_schemas).sort());
    expect(replacement.forceNew.hcloud_server).toEqual(['image', 'location', 'ssh_keys', 'user_data']);
    for (const [type, paths] of Object.entries(replacement.forceNew) as Array<[string, string[]]>) {
      for (const p of paths) {
        let block: any = provider.resource_schemas[type].block;
        const steps = p.split('.');
        for (const step of steps.slice(0, -1)) block = block.block_types?.[step]?.block ?? block.attributes?.[step]?.nested_type;
        expect([type, p, Boolean(block?.attributes?.[steps[steps.length - 1]])]).toEqual([type, p, true]);
      }
    }
  });
});
