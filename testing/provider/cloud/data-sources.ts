import * as crypto from 'crypto';
import { ServerType } from '../../../lib/hetzner/server-type';
import { ResourceSchema } from '../schema';
import { conform, isObject, ObjectValue, Value } from '../values';
import { ProviderError } from './api-error';
import { CatalogImage, CatalogLocation, findDatacenter, findImage, findLocation, findServerType, images, locations, serverTypeId, serverTypes } from './catalog';
import { SimulatedCloud } from './simulated-cloud';

/**
 * Data sources answered from the catalog (images, locations, server types, datacenters) and
 * from the simulated project (SSH keys), with the real provider's "Resource not found" wording.
 */
type Reader = (config: ObjectValue, cloud: SimulatedCloud) => ObjectValue;

/** hcloudutil.NotFoundDiagnostic: `Resource (location) was not found: name="xyz"`. */
function notFound(noun: string, key: string, value: Value): ProviderError {
  return new ProviderError('Resource not found', `Resource (${noun}) was not found: ${key}=${JSON.stringify(value)}`, key);
}

function locationObject(l: CatalogLocation): ObjectValue {
  return { id: l.id, name: l.name, city: l.city, country: l.country, description: l.description, latitude: l.latitude, longitude: l.longitude, network_zone: l.networkZone };
}

function serverTypeObject(t: ServerType): ObjectValue {
  const deprecation = t.deprecation;
  return {
    id: serverTypeId(t),
    name: t.name,
    description: t.name.toUpperCase(),
    cores: t.cores,
    memory: t.memory.toGibibytes(),
    disk: t.disk.toGibibytes(),
    architecture: t.architecture,
    cpu_type: t.cpu,
    category: t.cpu === 'dedicated' ? 'dedicated_cpu' : t.name.startsWith('cpx') ? 'regular_purpose' : 'cost_optimized',
    storage_type: 'local',
    included_traffic: 0,
    is_deprecated: false,
    deprecation_announced: null,
    unavailable_after: null,
    locations: t.locationNames.map((name) => {
      const deprecatedHere = deprecation?.locations.includes(name) ?? false;
      return {
        id: findLocation(name)?.id ?? 0,
        name,
        available: !deprecatedHere,
        recommended: !deprecatedHere,
        is_deprecated: deprecatedHere,
        deprecation_announced: deprecatedHere ? '2025-10-16T00:00:00Z' : null,
        unavailable_after: deprecatedHere ? `${deprecation!.unavailableAfter}T00:00:00Z` : null,
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

function hashId(values: string[]): string {
  return crypto.createHash('sha1').update(values.join(',')).digest('hex');
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
    const offered = serverTypes().filter((t) => t.locationNames.includes(l.name));
    return {
      id: l.datacenterId, name: l.datacenter, description: `${l.city} DC`,
      location: { id: String(l.id), name: l.name, city: l.city, country: l.country, description: l.description, latitude: String(l.latitude), longitude: String(l.longitude) },
      supported_server_type_ids: offered.map(serverTypeId),
      available_server_type_ids: offered.filter((t) => !t.isDeprecatedIn(findLocationObject(l.name))).map(serverTypeId),
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
      descriptions: all.map((t) => t.name.toUpperCase()),
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
  hcloud_ssh_key: (c, cloud) => {
    const keys = cloud.all('hcloud_ssh_key');
    let key: ObjectValue | undefined;
    if (c.id !== null) {
      key = keys.find((k) => String(k.id) === String(c.id));
      if (!key) throw notFound('ssh key', 'id', c.id);
    } else if (c.name !== null) {
      key = keys.find((k) => k.name === c.name);
      if (!key) throw notFound('ssh key', 'name', c.name);
    } else if (c.fingerprint !== null) {
      key = keys.find((k) => k.fingerprint === c.fingerprint);
      if (!key) throw notFound('ssh key', 'fingerprint', c.fingerprint);
    } else {
      const selector = String(c.with_selector ?? c.selector ?? '');
      key = keys.find((k) => matchesSelector(k.labels, selector));
      if (!key) throw new ProviderError(`no ssh key found for selector ${JSON.stringify(selector)}`, '', 'with_selector');
    }
    return { ...c, id: Number(key.id), name: key.name, fingerprint: key.fingerprint, public_key: key.public_key, labels: key.labels ?? {} };
  },
  hcloud_ssh_keys: (c, cloud) => {
    const selector = typeof c.with_selector === 'string' ? c.with_selector : '';
    const keys = cloud.all('hcloud_ssh_key').filter((k) => matchesSelector(k.labels, selector));
    return {
      ...c,
      id: hashId(keys.map((k) => String(k.id))),
      ssh_keys: keys.map((k) => ({ id: Number(k.id), name: k.name, fingerprint: k.fingerprint, public_key: k.public_key, labels: k.labels ?? {} })),
    };
  },
};

function findLocationObject(name: string) {
  // ServerType.isDeprecatedIn takes the library's Location; only its name is read.
  return { name } as Parameters<ServerType['isDeprecatedIn']>[0];
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
  return typeName in READERS;
}

export function readDataSource(schema: ResourceSchema, config: ObjectValue, cloud: SimulatedCloud): ObjectValue {
  const reader = READERS[schema.typeName];
  if (!reader) {
    throw new ProviderError(`The Hetzner stand-in does not simulate data source ${schema.typeName}`,
      `It answers ${Object.keys(READERS).join(', ')}. Use one of them, or a resource, in tests against the stand-in.`);
  }
  const result = reader(config, cloud);
  const merged: ObjectValue = {};
  for (const name of Object.keys(schema.shape.attributes)) merged[name] = name in result ? result[name] : config[name] ?? null;
  return conform(merged, schema.shape, schema.typeName) as ObjectValue;
}
