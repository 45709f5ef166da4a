import * as crypto from 'crypto';
import { Field, ResourceSchema, Shape } from '../schema';
import { conform, filterToSchema, isObject, ObjectValue, Value } from '../values';
import { ProviderError } from './api-error';
import {
  CatalogImage, CatalogLocation, CatalogServerType, datacenterDescription, findDatacenter, findImage, findLocation, findServerType, images,
  isDeprecatedIn, loadBalancerTypes, locations, serverTypeId, serverTypes, storageBoxTypes,
} from './catalog';
import { SimulatedCloud } from './simulated-cloud';

/**
 * Every data source of hcloud v1.68 (42): the catalog ones (locations, datacenters, server types,
 * images, load balancer and Storage Box types) from the stand-in's own catalog, the others from the
 * objects of the simulated project, with the real provider's "Resource not found" wording.
 */
type Reader = (config: ObjectValue, cloud: SimulatedCloud, schema: ResourceSchema) => ObjectValue;

/** hcloudutil.NotFoundDiagnostic: `Resource (location) was not found: name="xyz"`. */
function notFound(noun: string, key: string, value: Value): ProviderError {
  return new ProviderError('Resource not found', `Resource (${noun}) was not found: ${key}=${JSON.stringify(value)}`, key);
}

function locationObject(l: CatalogLocation): ObjectValue {
  return { id: l.id, name: l.name, city: l.city, country: l.country, description: l.description, latitude: l.latitude, longitude: l.longitude, network_zone: l.networkZone };
}

function serverTypeObject(t: CatalogServerType): ObjectValue {
  const deprecation = t.deprecation;
  return {
    id: serverTypeId(t),
    name: t.name,
    description: t.description,
    cores: t.cores,
    memory: t.memory,
    disk: t.disk,
    architecture: t.architecture,
    cpu_type: t.cpuType,
    category: t.category,
    storage_type: t.storageType,
    included_traffic: 0,
    is_deprecated: false,
    deprecation_announced: null,
    unavailable_after: null,
    locations: t.locationNames.map((name) => {
      const deprecatedHere = isDeprecatedIn(t, name);
      return {
        id: findLocation(name)?.id ?? 0,
        name,
        available: !deprecatedHere,
        recommended: !deprecatedHere,
        is_deprecated: deprecatedHere,
        deprecation_announced: deprecatedHere ? deprecation!.announced : null,
        unavailable_after: deprecatedHere ? deprecation!.unavailableAfter : null,
      };
    }),
  };
}

function imageObject(img: CatalogImage, config: ObjectValue): ObjectValue {
  return {
    ...config,
    id: img.id, name: img.name, description: img.description, architecture: img.architecture, created: img.created,
    deprecated: '', labels: {}, os_flavor: img.osFlavor, os_version: img.osVersion, rapid_deploy: true, type: 'system',
  };
}

function datacenterObject(l: CatalogLocation): ObjectValue {
  const offered = serverTypes().filter((t) => t.locationNames.includes(l.name));
  return {
    id: l.datacenterId, name: l.datacenter, description: datacenterDescription(l),
    location: { id: String(l.id), name: l.name, city: l.city, country: l.country, description: l.description, latitude: String(l.latitude), longitude: String(l.longitude) },
    supported_server_type_ids: offered.map(serverTypeId),
    available_server_type_ids: offered.filter((t) => !isDeprecatedIn(t, l.name)).map(serverTypeId),
  };
}

function hashId(values: string[]): string {
  return crypto.createHash('sha1').update(values.join(',')).digest('hex');
}

/** The data source's selector: `with_selector`, or the deprecated `selector`. */
function selectorOf(c: ObjectValue): string | undefined {
  const s = c.with_selector ?? c.selector ?? null;
  return typeof s === 'string' ? s : undefined;
}

/**
 * A cloud object as a data source shows it: every attribute the data source has, by name, in the
 * data source's types (a resource's set is a data source's list; a string ID a number).
 */
function project(shape: Shape & { kind: 'object' }, o: ObjectValue): ObjectValue {
  const out: ObjectValue = {};
  for (const [name, field] of Object.entries(shape.attributes)) out[name] = projectField(field, o[name] ?? null);
  return out;
}

function projectField(field: Field, v: Value): Value {
  try {
    return conform(filterToSchema(v, field.shape), field.shape, 'data');
  } catch {
    return null;
  }
}

/** Where a data source finds its objects in the simulated project, and how it names them. */
interface CloudSource {
  readonly types: readonly string[];
  readonly noun: string;
  /** Attributes that identify one object (besides id and the selector), in the order the provider tries them. */
  readonly keys?: readonly string[];
  /** Attributes that scope the search (Storage Box ID, zone), compared with the object's. */
  readonly scope?: readonly string[];
}

const CLOUD_SOURCES: Record<string, CloudSource> = {
  certificate: { types: ['hcloud_uploaded_certificate', 'hcloud_managed_certificate', 'hcloud_certificate'], noun: 'certificate', keys: ['name'] },
  firewall: { types: ['hcloud_firewall'], noun: 'firewall', keys: ['name'] },
  floating_ip: { types: ['hcloud_floating_ip'], noun: 'floating ip', keys: ['name', 'ip_address'] },
  load_balancer: { types: ['hcloud_load_balancer'], noun: 'load balancer', keys: ['name'] },
  network: { types: ['hcloud_network'], noun: 'network', keys: ['name'] },
  placement_group: { types: ['hcloud_placement_group'], noun: 'placement group', keys: ['name'] },
  primary_ip: { types: ['hcloud_primary_ip'], noun: 'primary ip', keys: ['name', 'ip_address'] },
  server: { types: ['hcloud_server'], noun: 'server', keys: ['name'] },
  ssh_key: { types: ['hcloud_ssh_key'], noun: 'ssh key', keys: ['name', 'fingerprint'] },
  storage_box: { types: ['hcloud_storage_box'], noun: 'storage box', keys: ['name'] },
  storage_box_snapshot: { types: ['hcloud_storage_box_snapshot'], noun: 'storage box snapshot', keys: ['name'], scope: ['storage_box_id'] },
  storage_box_subaccount: { types: ['hcloud_storage_box_subaccount'], noun: 'storage box subaccount', keys: ['name', 'username'], scope: ['storage_box_id'] },
  volume: { types: ['hcloud_volume'], noun: 'volume', keys: ['name'] },
  zone: { types: ['hcloud_zone'], noun: 'zone', keys: ['name'] },
  zone_rrset: { types: ['hcloud_zone_rrset'], noun: 'zone rrset', keys: ['name'], scope: ['zone'] },
};

/** The list data sources: their name, the singular they list, and the list attribute. */
const LISTS: Record<string, { single: string; attribute: string }> = {
  hcloud_certificates: { single: 'certificate', attribute: 'certificates' },
  hcloud_firewalls: { single: 'firewall', attribute: 'firewalls' },
  hcloud_floating_ips: { single: 'floating_ip', attribute: 'floating_ips' },
  hcloud_load_balancers: { single: 'load_balancer', attribute: 'load_balancers' },
  hcloud_networks: { single: 'network', attribute: 'networks' },
  hcloud_placement_groups: { single: 'placement_group', attribute: 'placement_groups' },
  hcloud_primary_ips: { single: 'primary_ip', attribute: 'primary_ips' },
  hcloud_servers: { single: 'server', attribute: 'servers' },
  hcloud_ssh_keys: { single: 'ssh_key', attribute: 'ssh_keys' },
  hcloud_storage_boxes: { single: 'storage_box', attribute: 'storage_boxes' },
  hcloud_storage_box_snapshots: { single: 'storage_box_snapshot', attribute: 'snapshots' },
  hcloud_storage_box_subaccounts: { single: 'storage_box_subaccount', attribute: 'subaccounts' },
  hcloud_volumes: { single: 'volume', attribute: 'volumes' },
  hcloud_zones: { single: 'zone', attribute: 'zones' },
  hcloud_zone_rrsets: { single: 'zone_rrset', attribute: 'rrsets' },
};

function objectsFor(source: CloudSource, cloud: SimulatedCloud, c: ObjectValue): ObjectValue[] {
  const all = source.types.flatMap((t) => cloud.all(t));
  const scoped = all.filter((o) => (source.scope ?? []).every((k) => c[k] === null || c[k] === undefined || String(o[k]) === String(c[k])));
  const statuses = Array.isArray(c.with_status) ? c.with_status.map(String) : [];
  return scoped.filter((o) => statuses.length === 0 || statuses.includes(String(o.status ?? '')));
}

function readOne(source: CloudSource, c: ObjectValue, cloud: SimulatedCloud): ObjectValue {
  const candidates = objectsFor(source, cloud, c);
  if (c.id !== null && c.id !== undefined) {
    const found = candidates.find((o) => String(o.id) === String(c.id));
    if (!found) throw notFound(source.noun, 'id', c.id);
    return found;
  }
  for (const key of source.keys ?? []) {
    if (c[key] === null || c[key] === undefined) continue;
    const found = candidates.find((o) => o[key] === c[key]);
    if (!found) throw notFound(source.noun, key, c[key]);
    return found;
  }
  const selector = selectorOf(c);
  const matching = candidates.filter((o) => matchesSelector(o.labels, selector ?? ''));
  if (matching.length === 0) throw new ProviderError(`no ${source.noun} found for selector ${JSON.stringify(selector ?? '')}`, '', 'with_selector');
  if (matching.length > 1 && c.most_recent !== true) {
    throw new ProviderError(`more than one ${source.noun} found for selector ${JSON.stringify(selector ?? '')}`, '', 'with_selector');
  }
  return matching.sort((a, b) => Number(b.id) - Number(a.id))[0];
}

const READERS: Record<string, Reader> = {
  hcloud_location: (c) => {
    const l = c.id !== null ? findLocation(c.id) : c.name !== null ? findLocation(c.name) : undefined;
    if (!l) throw c.id !== null ? notFound('location', 'id', c.id) : notFound('location', 'name', c.name);
    return locationObject(l);
  },
  hcloud_locations: () => {
    const all = locations();
    return {
      id: hashId(all.map((l) => String(l.id))),
      location_ids: all.map((l) => String(l.id)),
      names: all.map((l) => l.name),
      descriptions: all.map((l) => l.description),
      locations: all.map(locationObject),
    };
  },
  hcloud_datacenter: (c) => {
    const l = c.id !== null ? findDatacenter(c.id) : findDatacenter(c.name);
    if (!l) throw c.id !== null ? notFound('datacenter', 'id', c.id) : notFound('datacenter', 'name', c.name);
    return datacenterObject(l);
  },
  hcloud_datacenters: () => {
    const all = locations();
    return {
      id: hashId(all.map((l) => String(l.datacenterId))),
      datacenter_ids: all.map((l) => String(l.datacenterId)),
      names: all.map((l) => l.datacenter),
      descriptions: all.map(datacenterDescription),
      datacenters: all.map(datacenterObject),
    };
  },
  hcloud_server_type: (c) => {
    const t = c.id !== null ? findServerType(c.id) : c.name !== null ? findServerType(c.name) : undefined;
    if (!t) throw c.id !== null ? notFound('server type', 'id', c.id) : notFound('server type', 'name', c.name);
    return serverTypeObject(t);
  },
  hcloud_server_types: () => {
    const all = serverTypes();
    return {
      id: hashId(all.map((t) => String(serverTypeId(t)))),
      server_type_ids: all.map((t) => String(serverTypeId(t))),
      names: all.map((t) => t.name),
      descriptions: all.map((t) => t.description),
      server_types: all.map(serverTypeObject),
    };
  },
  hcloud_image: (c) => {
    const architecture = typeof c.with_architecture === 'string' ? c.with_architecture : 'x86';
    if (c.id !== null) {
      const img = images().find((i) => i.id === c.id);
      if (!img) throw notFound('image', 'id', c.id);
      return imageObject(img, c);
    }
    if (c.name !== null) {
      const img = findImage(c.name, architecture);
      if (!img) throw new ProviderError(`no image found with name ${c.name} and architecture ${architecture}`, '', 'name');
      return imageObject(img, c);
    }
    // The catalog's images carry no labels, so a selector finds nothing, as in an empty project.
    throw new ProviderError(`no image found for selector ${JSON.stringify(c.with_selector ?? c.selector)}`, '', 'with_selector');
  },
  hcloud_images: (c, _cloud, schema) => {
    const archs = Array.isArray(c.with_architecture) ? c.with_architecture.map(String) : [];
    const found = selectorOf(c) ? [] : images().filter((i) => archs.length === 0 || archs.includes(i.architecture));
    const element = listElement(schema, 'images');
    return { id: hashId(found.map((i) => String(i.id))), images: found.map((i) => project(element, imageObject(i, {}))) };
  },
  hcloud_load_balancer_type: (c) => {
    const t = loadBalancerTypes().find((x) => (c.id !== null ? x.id === c.id : x.name === c.name));
    if (!t) throw c.id !== null ? notFound('load balancer type', 'id', c.id) : notFound('load balancer type', 'name', c.name);
    return loadBalancerTypeObject(t);
  },
  hcloud_load_balancer_types: () => {
    const all = loadBalancerTypes();
    return { id: hashId(all.map((t) => String(t.id))), load_balancer_types: all.map(loadBalancerTypeObject) };
  },
  hcloud_storage_box_type: (c) => {
    const t = storageBoxTypes().find((x) => (c.id !== null ? x.id === c.id : x.name === c.name));
    if (!t) throw c.id !== null ? notFound('storage box type', 'id', c.id) : notFound('storage box type', 'name', c.name);
    return storageBoxTypeObject(t);
  },
  hcloud_storage_box_types: () => ({ storage_box_types: storageBoxTypes().map(storageBoxTypeObject) }),
};

function loadBalancerTypeObject(t: ReturnType<typeof loadBalancerTypes>[number]): ObjectValue {
  return {
    id: t.id, name: t.name, description: t.description, max_connections: t.maxConnections, max_services: t.maxServices,
    max_targets: t.maxTargets, max_assigned_certificates: t.maxAssignedCertificates, is_deprecated: false, deprecation_announced: null, unavailable_after: null,
  };
}

function storageBoxTypeObject(t: ReturnType<typeof storageBoxTypes>[number]): ObjectValue {
  return {
    id: t.id, name: t.name, description: t.description, size: t.size, snapshot_limit: t.snapshotLimit,
    automatic_snapshot_limit: t.automaticSnapshotLimit, subaccounts_limit: t.subaccountsLimit, is_deprecated: false, deprecation_announced: null, unavailable_after: null,
  };
}

/** The object shape of a list attribute's elements. */
function listElement(schema: ResourceSchema, attribute: string): Shape & { kind: 'object' } {
  const s = schema.shape.attributes[attribute]?.shape;
  if (s?.kind === 'collection' && s.element.kind === 'object') return s.element;
  return { kind: 'object', attributes: {} };
}

/** A reader for a data source answered from the simulated project. */
function cloudReader(typeName: string): Reader | undefined {
  const list = LISTS[typeName];
  if (list) {
    const source = CLOUD_SOURCES[list.single];
    return (c, cloud, schema) => {
      const found = objectsFor(source, cloud, c).filter((o) => matchesSelector(o.labels, selectorOf(c) ?? ''))
        .sort((a, b) => Number(a.id) - Number(b.id));
      const element = listElement(schema, list.attribute);
      return { id: hashId(found.map((o) => String(o.id))), [list.attribute]: found.map((o) => project(element, o)) };
    };
  }
  const source = CLOUD_SOURCES[typeName.replace(/^hcloud_/, '')];
  if (!source) return undefined;
  return (c, cloud, schema) => {
    const found = readOne(source, c, cloud);
    const projected = project(schema.shape, found);
    // What the configuration chose (the selector, most_recent, with_status) stays as configured.
    for (const [k, v] of Object.entries(c)) if (v !== null && (projected[k] === null || projected[k] === undefined)) projected[k] = v;
    return projected;
  };
}

/** `key=value` and `key` terms, comma-separated, as Hetzner label selectors (a subset). */
function matchesSelector(labels: Value | undefined, selector: string): boolean {
  const l = isObject(labels) ? labels : {};
  return selector.split(',').map((s) => s.trim()).filter(Boolean).every((term) => {
    const [k, v] = term.split('=').map((s) => s.trim());
    return v === undefined ? k in l : l[k] === v;
  });
}

/** Whether the stand-in can answer a data source type. */
export function isSimulatedDataSource(typeName: string): boolean {
  return typeName in READERS || cloudReader(typeName) !== undefined;
}

/** Reads a data source from the catalog and the project, as the real provider reads it from the API. */
export function readDataSource(schema: ResourceSchema, config: ObjectValue, cloud: SimulatedCloud): ObjectValue {
  const reader = READERS[schema.typeName] ?? cloudReader(schema.typeName);
  if (!reader) {
    throw new ProviderError(`The Hetzner stand-in does not simulate data source ${schema.typeName}`,
      `It answers ${Object.keys(READERS).join(', ')}. Use one of them, or a resource, in tests against the stand-in.`);
  }
  const result = reader(config, cloud, schema);
  const merged: ObjectValue = {};
  for (const name of Object.keys(schema.shape.attributes)) merged[name] = name in result ? result[name] : config[name] ?? null;
  return conform(merged, schema.shape, schema.typeName) as ObjectValue;
}
