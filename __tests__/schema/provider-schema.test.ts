import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');
const schemaFile = JSON.parse(fs.readFileSync(path.join(ROOT, 'schema', 'hcloud-provider-schema.json'), 'utf8'));
const provider = schemaFile.provider_schemas['registry.terraform.io/hetznercloud/hcloud'];
const replacement = JSON.parse(fs.readFileSync(path.join(ROOT, 'schema', 'hcloud-replacement.json'), 'utf8'));

type Block = { attributes?: Record<string, any>; block_types?: Record<string, any>; description?: string; description_kind?: string };

/** Every described element (block or attribute, at any depth) as `[path, description_kind, description]`. */
function described(block: Block, where: string, out: Array<[string, string, string]> = []): Array<[string, string, string]> {
  if (block.description !== undefined) out.push([where, block.description_kind ?? '', block.description]);
  const visitAttr = (attr: any, at: string): void => {
    if (attr.description !== undefined) out.push([at, attr.description_kind, attr.description]);
    for (const [n, a] of Object.entries(attr.nested_type?.attributes ?? {})) visitAttr(a, `${at}.${n}`);
  };
  for (const [name, attr] of Object.entries(block.attributes ?? {})) visitAttr(attr, `${where}.${name}`);
  for (const [name, nested] of Object.entries(block.block_types ?? {})) described(nested.block, `${where}.${name}`, out);
  return out;
}

/** Every description_kind in the schema, attributes and blocks at any depth. */
function kinds(block: Block): string[] {
  const ofAttr = (attr: any): string[] => [attr.description_kind, ...Object.values(attr.nested_type?.attributes ?? {}).flatMap(ofAttr)];
  return [
    block.description_kind ?? '',
    ...Object.values(block.attributes ?? {}).flatMap(ofAttr),
    ...Object.values(block.block_types ?? {}).flatMap((b: any) => kinds(b.block)),
  ];
}

const allBlocks = (): Array<[string, Block]> => [
  ['provider', provider.provider.block],
  ...Object.entries(provider.resource_schemas).map(([n, s]: [string, any]): [string, Block] => [n, s.block]),
  ...Object.entries(provider.data_source_schemas).map(([n, s]: [string, any]): [string, Block] => [`data.${n}`, s.block]),
];

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

  describe('carries the descriptions the provider serves', () => {
    // The texts are those of the provider's Go source at v1.68.0. The provider is a tf6muxserver of an SDKv2 server
    // (plain descriptions, hcloud/provider.go) and a plugin-framework server (MarkdownDescription: kind markdown).
    test('the provider block: SDKv2 and framework agree on plain descriptions', () => {
      expect(provider.provider.block.attributes.token).toMatchObject({
        description: 'The Hetzner Cloud API token, can also be specified with the HCLOUD_TOKEN environment variable.',
        description_kind: 'plain',
      });
      expect(provider.provider.block.description).toBeUndefined();
    });

    test('framework resources: markdown, on the block and on nested attributes', () => {
      const box = provider.resource_schemas.hcloud_storage_box.block;
      expect(box.description_kind).toBe('markdown');
      expect(box.description).toBe('\nProvides a Hetzner Storage Box resource.\n\n'
        + 'See the [Storage Box API documentation](https://docs.hetzner.cloud/reference/hetzner#storage-boxes) for more details.\n');
      expect(box.attributes.access_settings.nested_type.attributes.ssh_enabled)
        .toMatchObject({ description: 'Whether the SSH subsystem is enabled.', description_kind: 'markdown' });
      // Composed at run time: deprecation.DataSourceSchema("Server Type") merged into the nested locations.
      expect(provider.data_source_schemas.hcloud_server_type.block.attributes.locations.nested_type.attributes.unavailable_after)
        .toMatchObject({ description: 'Date of the Server Type removal. After this date, the Server Type cannot be used anymore.', description_kind: 'markdown' });
    });

    test('SDKv2 resources: plain where the source sets one, none where it does not, deprecation kept', () => {
      expect(provider.resource_schemas.hcloud_network.block.attributes.expose_routes_to_vswitch).toMatchObject({
        description: 'Enable or disable exposing the routes to the vSwitch connection. The exposing only takes effect if a vSwitch connection is active.',
        description_kind: 'plain',
      });
      const server = provider.resource_schemas.hcloud_server.block;
      expect(server.description).toBeUndefined();
      expect(server.attributes.datacenter).toMatchObject({ deprecated: true, description_kind: 'plain' });
      expect(server.attributes.datacenter.description).toBeUndefined();
    });

    test('every framework type has a markdown description; kinds are plain or markdown and never describe nothing', () => {
      const blocks = allBlocks();
      const withDescription = blocks.filter(([, b]) => b.description !== undefined).map(([n]) => n);
      // The 11 framework resources and 26 framework data sources of hcloud/plugin_provider.go; SDKv2 types have none.
      expect(withDescription).toHaveLength(37);
      expect(withDescription).toEqual(expect.arrayContaining(['hcloud_storage_box', 'hcloud_zone_rrset', 'data.hcloud_image', 'data.hcloud_storage_box_subaccounts']));
      expect(withDescription).not.toContain('hcloud_server');
      const all = blocks.flatMap(([n, b]) => described(b, n));
      expect(all.filter(([, , text]) => text === '')).toEqual([]);
      expect(new Set(blocks.flatMap(([, b]) => kinds(b)))).toEqual(new Set(['plain', 'markdown']));
      // Counted from the v1.68.0 source (446 attributes + 37 blocks); re-derive them when the provider version changes.
      expect(all.length).toBe(483);
      expect(all.filter(([, kind]) => kind === 'plain').map(([p]) => p).sort()).toEqual([
        'data.hcloud_network.expose_routes_to_vswitch', 'hcloud_network.expose_routes_to_vswitch',
        'provider.endpoint', 'provider.endpoint_hetzner', 'provider.poll_function', 'provider.poll_interval', 'provider.token',
      ]);
    });

    test('the generated bindings carry them as doc comments', () => {
      const bindings = fs.readFileSync(path.join(ROOT, 'generated', 'providers', 'hcloud', 'provider', 'index.ts'), 'utf8');
      expect(bindings).toMatch(/\* The Hetzner Cloud API token, can also be specified with the HCLOUD_TOKEN environment variable\.\n[^]*?readonly token\?: string;/);
    });
  });

  describe('carries the provider-defined functions as Terraform >= 1.8 prints them', () => {
    // hashicorp/terraform v1.11.4 internal/command/jsonfunction: function.go:25-48 and parameter.go:13-27.
    const FUNCTION_KEYS = ['deprecation_message', 'description', 'parameters', 'return_type', 'summary', 'variadic_parameter'];
    const PARAMETER_KEYS = ['description', 'is_nullable', 'name', 'type'];

    test('idna and txt_record, next to the schemas, in the jsonfunction shape (no description_kind)', () => {
      expect(Object.keys(provider)).toEqual(['data_source_schemas', 'functions', 'provider', 'resource_schemas']);
      expect(Object.keys(provider.functions)).toEqual(['idna', 'txt_record']);
      for (const fn of Object.values(provider.functions) as any[]) {
        expect(Object.keys(fn).filter((k) => !FUNCTION_KEYS.includes(k))).toEqual([]);
        expect(fn.return_type).toBe('string');
        for (const p of fn.parameters) expect(Object.keys(p).filter((k) => !PARAMETER_KEYS.includes(k))).toEqual([]);
      }
    });

    test('texts of internal/zone/function_idna.go and internal/zonerrset/function_txt_record.go at v1.68.0', () => {
      // MarkdownDescription is served as written: idna's raw string keeps its leading newline; txt_record's
      // goes through util.MarkdownDescription (internal/util/strings.go:34), which trims and dedents it.
      expect(provider.functions.idna).toEqual({
        summary: 'Convert a Internationalized Domain Name (IDN) to ASCII',
        description: "\nConverts a Internationalized Domain Name (IDN) to ASCII using Punycode.\n\nThe conversion is defined by Golang's IDNA package. "
          + 'See https://pkg.go.dev/golang.org/x/net/idna\nfor more details.',
        parameters: [{ name: 'domain', description: 'Domain to convert.', type: 'string' }], // is_nullable is omitted when false
        return_type: 'string',
      });
      expect(provider.functions.txt_record).toEqual({
        summary: 'Format a TXT record',
        description: 'Format a TXT record by splitting it in quoted strings of 255 characters.',
        parameters: [{ name: 'record', description: 'Record value to format.', type: 'string' }],
        return_type: 'string',
      });
    });
  });
});
