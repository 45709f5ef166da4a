import * as fs from 'fs';
import * as path from 'path';

// The cross-cutting facts of schema/hcloud-provider-schema.json, each checked against the hcloud v1.68.0 source
// (hetznercloud/terraform-provider-hcloud at tag v1.68.0; up to its main branch of 2026-08-17 only go.mod changed).
// A hand edit of the schema file, or a provider upgrade, has to re-derive them from there.
// How Terraform renders the SDKv2 half: terraform-plugin-sdk v2.40.1 helper/schema/core_schema.go.

const ROOT = path.resolve(__dirname, '..', '..');
const schemaFile = JSON.parse(fs.readFileSync(path.join(ROOT, 'schema', 'hcloud-provider-schema.json'), 'utf8'));
const provider = schemaFile.provider_schemas['registry.terraform.io/hetznercloud/hcloud'];

type Block = { attributes?: Record<string, any>; block_types?: Record<string, any>; deprecated?: boolean };
type Flagged = { attr: (a: any) => boolean; block: (b: any) => boolean };

/** Paths (`type.attr.nested`) of every attribute or nested block, at any depth, that `flag` selects. */
function paths(flag: Flagged): string[] {
  const walk = (block: Block, at: string): string[] => [
    ...Object.entries(block.attributes ?? {}).flatMap(([n, a]) => [
      ...(flag.attr(a) ? [`${at}.${n}`] : []),
      ...(a.nested_type ? walk(a.nested_type, `${at}.${n}`) : []),
    ]),
    ...Object.entries(block.block_types ?? {}).flatMap(([n, b]) => [
      ...(flag.block(b) ? [`${at}.${n}`] : []),
      ...walk(b.block, `${at}.${n}`),
    ]),
  ];
  return [
    ...Object.entries(provider.resource_schemas).flatMap(([t, s]: [string, any]) => walk(s.block, t)),
    ...Object.entries(provider.data_source_schemas).flatMap(([t, s]: [string, any]) => walk(s.block, `data.${t}`)),
  ].sort();
}

describe('provider schema inventory (hetznercloud/hcloud v1.68.0)', () => {
  test('exactly the resources of hcloud/provider.go:77 (SDKv2) and hcloud/plugin_provider.go:245 (framework)', () => {
    // hcloud_certificate is the SDKv2 alias of hcloud_uploaded_certificate (same schema, provider.go:79).
    expect(Object.keys(provider.resource_schemas).sort()).toEqual([
      'certificate', 'firewall', 'firewall_attachment', 'floating_ip', 'floating_ip_assignment', 'load_balancer',
      'load_balancer_network', 'load_balancer_service', 'load_balancer_target', 'managed_certificate', 'network',
      'network_route', 'network_subnet', 'placement_group', 'primary_ip', 'rdns', 'server', 'server_network',
      'snapshot', 'ssh_key', 'storage_box', 'storage_box_snapshot', 'storage_box_subaccount', 'uploaded_certificate',
      'volume', 'volume_attachment', 'zone', 'zone_record', 'zone_rrset',
    ].map((n) => `hcloud_${n}`));
    expect(provider.resource_schemas.hcloud_certificate).toEqual(provider.resource_schemas.hcloud_uploaded_certificate);
  });

  test('exactly the data sources of hcloud/provider.go:97 (SDKv2) and hcloud/plugin_provider.go:209 (framework)', () => {
    expect(Object.keys(provider.data_source_schemas).sort()).toEqual([
      'certificate', 'certificates', 'datacenter', 'datacenters', 'firewall', 'firewalls', 'floating_ip', 'floating_ips',
      'image', 'images', 'load_balancer', 'load_balancer_type', 'load_balancer_types', 'load_balancers', 'location',
      'locations', 'network', 'networks', 'placement_group', 'placement_groups', 'primary_ip', 'primary_ips', 'server',
      'server_type', 'server_types', 'servers', 'ssh_key', 'ssh_keys', 'storage_box', 'storage_box_snapshot',
      'storage_box_snapshots', 'storage_box_subaccount', 'storage_box_subaccounts', 'storage_box_type',
      'storage_box_types', 'storage_boxes', 'volume', 'volumes', 'zone', 'zone_rrset', 'zone_rrsets', 'zones',
    ].map((n) => `hcloud_${n}`));
  });

  test('schema versions: only the certificate resources are at 1 (internal/certificate/resource.go:45 and :130)', () => {
    const versioned = [...Object.entries(provider.resource_schemas), ...Object.entries(provider.data_source_schemas)]
      .filter(([, s]: [string, any]) => s.version !== 0).map(([t, s]: [string, any]) => [t, s.version]);
    expect(versioned.sort()).toEqual([['hcloud_certificate', 1], ['hcloud_managed_certificate', 1], ['hcloud_uploaded_certificate', 1]]);
    expect(provider.provider.version).toBe(0);
  });

  test('sensitive: the token and the three secrets the provider marks, nothing else', () => {
    // hcloud/provider.go:49 and plugin_provider.go:71; internal/certificate/resource.go:65;
    // internal/storagebox/resource.go:111; internal/storageboxsubaccount/resource.go:120.
    expect(provider.provider.block.attributes.token.sensitive).toBe(true);
    expect(paths({ attr: (a) => a.sensitive === true, block: () => false })).toEqual([
      'hcloud_certificate.private_key', 'hcloud_storage_box.password', 'hcloud_storage_box_subaccount.password',
      'hcloud_uploaded_certificate.private_key',
    ]);
  });

  test('deprecated: every SDKv2 `Deprecated` and framework `DeprecationMessage`, nothing else', () => {
    expect(paths({ attr: (a) => a.deprecated === true, block: (b) => b.block.deprecated === true })).toEqual([
      // internal/datacenter/data_source.go:114, :120, :296-306
      'data.hcloud_datacenter.available_server_type_ids', 'data.hcloud_datacenter.supported_server_type_ids',
      'data.hcloud_datacenters.datacenter_ids', 'data.hcloud_datacenters.datacenters.available_server_type_ids',
      'data.hcloud_datacenters.datacenters.supported_server_type_ids', 'data.hcloud_datacenters.descriptions',
      'data.hcloud_datacenters.names',
      'data.hcloud_floating_ip.selector', // internal/floatingip/data_source.go:83
      'data.hcloud_image.selector', // internal/image/data_source.go:112
      // internal/location/data_source.go:246-256
      'data.hcloud_locations.descriptions', 'data.hcloud_locations.location_ids', 'data.hcloud_locations.names',
      'data.hcloud_network.most_recent', // internal/network/data_source.go:69
      // internal/primaryip/data_source.go:45
      'data.hcloud_primary_ip.datacenter', 'data.hcloud_primary_ips.primary_ips.datacenter',
      'data.hcloud_server.datacenter', 'data.hcloud_server.selector', // internal/server/data_source.go:52, :149
      // internal/servertype/data_source.go:220-235, :388-398
      'data.hcloud_server_type.deprecation_announced', 'data.hcloud_server_type.included_traffic',
      'data.hcloud_server_type.is_deprecated', 'data.hcloud_server_type.unavailable_after',
      'data.hcloud_server_types.descriptions', 'data.hcloud_server_types.names', 'data.hcloud_server_types.server_type_ids',
      'data.hcloud_server_types.server_types.deprecation_announced', 'data.hcloud_server_types.server_types.included_traffic',
      'data.hcloud_server_types.server_types.is_deprecated', 'data.hcloud_server_types.server_types.unavailable_after',
      'data.hcloud_ssh_key.selector', // internal/sshkey/data_source.go:117
      'data.hcloud_volume.selector', // internal/volume/data_source.go:75
      // internal/loadbalancer/resource.go:102 (a deprecated SDKv2 block marks its block) and :120
      'hcloud_load_balancer.target', 'hcloud_load_balancer.target.use_private_ip',
      'hcloud_primary_ip.datacenter', // internal/primaryip/resource.go:105
      // internal/server/resource.go:77, :121, :127
      'hcloud_server.allow_deprecated_images', 'hcloud_server.backup_window', 'hcloud_server.datacenter',
    ]);
    // The schema-level DeprecationMessage of internal/datacenter/data_source.go:158 and :271.
    const deprecatedTypes = Object.entries(provider.data_source_schemas).filter(([, s]: [string, any]) => s.block.deprecated).map(([t]) => t);
    expect(deprecatedTypes).toEqual(['hcloud_datacenter', 'hcloud_datacenters']);
    expect(Object.values(provider.resource_schemas).filter((s: any) => s.block.deprecated)).toEqual([]);
  });

  test('nested blocks: only the SDKv2 half has them, with its MaxItems and the timeouts it adds', () => {
    // The framework half uses nested attributes only. SDKv2 renders a *Resource Elem that is not computed-only as a
    // block (core_schema.go:102) and MaxItems as max_items (Optional drops MinItems, :184-235); Resource.Timeouts
    // adds a single `timeouts` block (:330-372) for internal/server/resource.go:41 and internal/snapshot/resource.go:29.
    const blocks = paths({ attr: () => false, block: () => true }).map((p) => {
      const [type, ...rest] = p.startsWith('data.') ? [p.split('.').slice(0, 2).join('.'), ...p.split('.').slice(2)] : p.split('.');
      let b: any = type.startsWith('data.') ? provider.data_source_schemas[type.slice(5)] : provider.resource_schemas[type];
      for (const step of rest) b = (b.block ?? b).block_types[step];
      return [p, b.nesting_mode, b.min_items ?? 0, b.max_items ?? 0];
    });
    expect(blocks).toEqual([
      ['data.hcloud_firewall.apply_to', 'set', 0, 0], ['data.hcloud_firewall.rule', 'set', 0, 0],
      ['data.hcloud_server.network', 'set', 0, 0],
      ['hcloud_firewall.apply_to', 'set', 0, 0], ['hcloud_firewall.rule', 'set', 0, 0],
      ['hcloud_load_balancer.algorithm', 'list', 0, 1], ['hcloud_load_balancer.target', 'set', 0, 0],
      ['hcloud_load_balancer_service.health_check', 'list', 0, 1], ['hcloud_load_balancer_service.health_check.http', 'list', 0, 1],
      ['hcloud_load_balancer_service.http', 'list', 0, 1],
      ['hcloud_server.network', 'set', 0, 0], ['hcloud_server.public_net', 'set', 0, 0], ['hcloud_server.timeouts', 'single', 0, 0],
      ['hcloud_snapshot.timeouts', 'single', 0, 0],
    ]);
    expect(Object.keys(provider.resource_schemas.hcloud_server.block.block_types.timeouts.block.attributes)).toEqual(['create']);
  });

  test('`id`: SDKv2 adds an optional+computed string where a type has none; the framework adds nothing', () => {
    // core_schema.go:317. Framework types without an `id` of their own have none at all.
    const withoutId = (schemas: Record<string, any>): string[] => Object.entries(schemas).filter(([, s]) => !s.block.attributes.id).map(([t]) => t).sort();
    expect(withoutId(provider.resource_schemas)).toEqual(['hcloud_zone_record']);
    expect(withoutId(provider.data_source_schemas)).toEqual(['hcloud_storage_box_snapshots', 'hcloud_storage_box_subaccounts', 'hcloud_storage_box_types', 'hcloud_storage_boxes']);
    expect(provider.resource_schemas.hcloud_server.block.attributes.id).toEqual({ type: 'string', optional: true, computed: true, description_kind: 'plain' });
    // Declared by the provider itself, so not the implied string: internal/firewall/data_source.go:29 (TypeInt, Optional only).
    expect(provider.data_source_schemas.hcloud_firewall.block.attributes.id).toEqual({ type: 'number', optional: true, description_kind: 'plain' });
  });
});
