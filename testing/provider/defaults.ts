import { isFrameworkResource } from './validators';
import { cloneValue, isObject, isUnknown, ObjectValue, Value } from './values';

/**
 * Plan-time defaults of hcloud v1.68.0: what the provider plans for an argument the configuration
 * leaves out (SDKv2 `Default`, framework `Default`), so the plan and the state show `false`
 * rather than null or "known after apply". Paths are dotted; a path through a block or a nested
 * attribute applies to each configured element.
 */
const ACCESS_SETTINGS_BOX = { reachable_externally: false, samba_enabled: false, ssh_enabled: false, webdav_enabled: false, zfs_enabled: false };
const ACCESS_SETTINGS_SUBACCOUNT = { reachable_externally: false, readonly: false, samba_enabled: false, ssh_enabled: false, webdav_enabled: false };

const DEFAULTS: Readonly<Record<string, Readonly<Record<string, Value>>>> = {
  // internal/server/resource.go:115-277 (keep_disk, backups, public_net.ipv4_enabled/ipv6_enabled,
  // ignore_remote_firewall_ids, delete_protection, rebuild_protection, shutdown_before_deletion).
  hcloud_server: {
    keep_disk: false, backups: false, ignore_remote_firewall_ids: false, delete_protection: false, rebuild_protection: false,
    shutdown_before_deletion: false, 'public_net.ipv4_enabled': true, 'public_net.ipv6_enabled': true,
  },
  // internal/network/resource.go:53-62.
  hcloud_network: { delete_protection: false, expose_routes_to_vswitch: false },
  // internal/volume/resource.go:75, internal/floatingip/resource.go:73, internal/loadbalancer/resource.go:116-128.
  hcloud_volume: { delete_protection: false },
  hcloud_floating_ip: { delete_protection: false },
  hcloud_load_balancer: { delete_protection: false, 'target.use_private_ip': false },
  // internal/primaryip/resource.go:122, :129 and resourceutil.LabelsSchema (labels.go: empty map).
  hcloud_primary_ip: { auto_delete: false, delete_protection: false, labels: {} },
  hcloud_ssh_key: { labels: {} },
  // internal/storagebox/resource.go:113-180.
  hcloud_storage_box: {
    labels: {}, ssh_keys: [], access_settings: ACCESS_SETTINGS_BOX, delete_protection: false,
    ...Object.fromEntries(Object.entries(ACCESS_SETTINGS_BOX).map(([k, v]) => [`access_settings.${k}`, v])),
  },
  // internal/storageboxsubaccount/resource.go:104-167.
  hcloud_storage_box_subaccount: {
    labels: {}, description: '', access_settings: ACCESS_SETTINGS_SUBACCOUNT,
    ...Object.fromEntries(Object.entries(ACCESS_SETTINGS_SUBACCOUNT).map(([k, v]) => [`access_settings.${k}`, v])),
  },
  // internal/storageboxsnapshot/resource.go:94.
  hcloud_storage_box_snapshot: { description: '', labels: {} },
  // internal/loadbalancer/resource_network.go:114.
  hcloud_load_balancer_network: { enable_public_interface: true },
};

/** Whether the provider plans defaults for this resource type. */
export function hasDefaults(typeName: string): boolean {
  return DEFAULTS[typeName] !== undefined;
}

/** Whether an SDKv2 resource plans values Terraform's strict check would call inconsistent (defaults). */
export function plansSdkDefaults(typeName: string): boolean {
  return hasDefaults(typeName) && !isFrameworkResource(typeName);
}

/** The planned object with each default applied where the configuration has no value. */
export function applyDefaults(typeName: string, planned: ObjectValue, config: Value): ObjectValue {
  const defaults = DEFAULTS[typeName];
  if (!defaults) return planned;
  const out = { ...planned };
  // Whole-attribute defaults first, so that a nested default fills a configured object only.
  const paths = Object.keys(defaults).sort((a, b) => a.split('.').length - b.split('.').length);
  for (const dotted of paths) setDefault(out, isObject(config) ? config : {}, dotted.split('.'), defaults[dotted]);
  return out;
}

function setDefault(planned: ObjectValue, config: ObjectValue, segments: string[], value: Value): void {
  const [name, ...rest] = segments;
  if (!(name in planned)) return;
  const configured = config[name] ?? null;
  if (rest.length === 0) {
    if (configured === null) planned[name] = cloneValue(value);
    return;
  }
  if (configured === null || isUnknown(configured)) return; // the block is absent, or its default applied whole
  const target = planned[name];
  if (Array.isArray(target) && Array.isArray(configured)) {
    planned[name] = target.map((element, i) => {
      if (!isObject(element)) return element;
      const copy = { ...element };
      setDefault(copy, isObject(configured[i]) ? configured[i] as ObjectValue : {}, rest, value);
      return copy;
    });
  } else if (isObject(target) && isObject(configured)) {
    const copy = { ...target };
    setDefault(copy, configured, rest, value);
    planned[name] = copy;
  }
}
