import catalogData from './catalog.json';

/**
 * What the simulated Hetzner Cloud offers: locations, datacenters, server types, images, load
 * balancer types and Storage Box types, read from catalog.json beside this file.
 *
 * The catalog is deliberately independent of the library's own `Location` and `ServerType`
 * classes: a stand-in that shared them would agree with any mistake in them. The facts come from
 * the Hetzner API (copy of 2026-09-29) by way of ../shared/reference/hetzner-facts.json, the hcloud
 * provider's acceptance tests and Hetzner's product pages; Storage Box types name the source of each
 * value in `_sources`. A value no source gives is null in the file and served as null, never made up.
 */

export interface CatalogLocation {
  readonly id: number;
  readonly name: string;
  readonly city: string;
  readonly country: string;
  readonly description: string;
  readonly networkZone: string;
  readonly latitude: number;
  readonly longitude: number;
  /** The location's datacenter (one per location since Hetzner phased datacenters out). */
  readonly datacenter: string;
  readonly datacenterId: number;
}

/** A server type as GET /server_types describes it, with the locations that offer it. */
export interface CatalogServerType {
  readonly id: number;
  readonly name: string;
  readonly description: string;
  readonly cores: number;
  /** GB. */
  readonly memory: number;
  /** GB. */
  readonly disk: number;
  readonly architecture: 'x86' | 'arm';
  readonly cpuType: 'shared' | 'dedicated';
  readonly category: string;
  readonly storageType: string;
  readonly locationNames: readonly string[];
  readonly deprecation?: { readonly announced: string; readonly unavailableAfter: string; readonly locations: readonly string[] };
}

/** A system image, one per release and architecture. */
export interface CatalogImage {
  readonly id: number;
  readonly name: string;
  readonly description: string;
  readonly architecture: 'x86' | 'arm';
  readonly osFlavor: string;
  readonly osVersion: string;
  readonly created: string;
}

/** A load balancer type as GET /load_balancer_types describes it. */
export interface CatalogLoadBalancerType {
  readonly id: number;
  readonly name: string;
  readonly description: string;
  readonly maxConnections: number;
  readonly maxServices: number;
  readonly maxTargets: number;
  readonly maxAssignedCertificates: number;
}

/** A Storage Box type as GET /storage_box_types describes it. */
export interface CatalogStorageBoxType {
  readonly id: number;
  readonly name: string;
  readonly description: string;
  /** Bytes; null where no source gives the API's figure (catalog.json says why in `_sources.size`). */
  readonly size: number | null;
  readonly snapshotLimit: number;
  readonly automaticSnapshotLimit: number;
  readonly subaccountsLimit: number;
}

interface CatalogFile {
  locations: Array<Omit<CatalogLocation, 'datacenter' | 'datacenterId'>>;
  datacenters: Array<{ id: number; name: string; description: string; location: string }>;
  serverTypes: Array<Omit<CatalogServerType, 'locationNames' | 'deprecation'> & { locations: string[]; deprecation: CatalogServerType['deprecation'] | null }>;
  images: CatalogImage[];
  loadBalancerTypes: CatalogLoadBalancerType[];
  storageBoxTypes: CatalogStorageBoxType[];
  storageBoxLocations: string[];
}

function catalog(): CatalogFile {
  return catalogData as unknown as CatalogFile;
}

/** Every location, with its datacenter. */
export function locations(): CatalogLocation[] {
  return catalog().locations.map((l) => {
    const dc = catalog().datacenters.find((d) => d.location === l.name);
    return { ...l, datacenter: dc?.name ?? '', datacenterId: dc?.id ?? 0 };
  });
}

/** A location by name (`fsn1`) or ID. */
export function findLocation(name: unknown): CatalogLocation | undefined {
  return locations().find((l) => l.name === name || l.id === name);
}

/** A location by datacenter name (`fsn1-dc14`) or ID, for the removed `datacenter` arguments. */
export function findDatacenter(name: unknown): CatalogLocation | undefined {
  return locations().find((l) => l.datacenter === name || l.datacenterId === name);
}

/** The description of a location's datacenter, such as "Falkenstein DC". */
export function datacenterDescription(l: CatalogLocation): string {
  return catalog().datacenters.find((d) => d.name === l.datacenter)?.description ?? '';
}

/** Every server type. */
export function serverTypes(): CatalogServerType[] {
  return catalog().serverTypes.map(({ locations: names, deprecation, ...t }) => ({ ...t, locationNames: names, deprecation: deprecation ?? undefined }));
}

/** A server type by name (`cx23`) or ID. */
export function findServerType(nameOrId: unknown): CatalogServerType | undefined {
  return serverTypes().find((t) => t.name === nameOrId || t.id === nameOrId || String(t.id) === String(nameOrId));
}

/** The API ID of a server type. */
export function serverTypeId(type: CatalogServerType): number {
  return type.id;
}

/** Whether a server type can no longer be ordered in a location. */
export function isDeprecatedIn(type: CatalogServerType, location: string): boolean {
  return type.deprecation?.locations.includes(location) ?? false;
}

/** Each release exists once per architecture, with its own ID, as in the real API. */
export function images(): CatalogImage[] {
  return catalog().images;
}

/** An image by name or ID, of one architecture when given. */
export function findImage(nameOrId: unknown, architecture?: string): CatalogImage | undefined {
  return images().find((img) => (img.name === nameOrId || String(img.id) === String(nameOrId))
    && (architecture === undefined || img.architecture === architecture));
}

/** Every load balancer type. */
export function loadBalancerTypes(): CatalogLoadBalancerType[] {
  return catalog().loadBalancerTypes;
}

/** Every Storage Box type, in the order the API lists them. */
export function storageBoxTypes(): CatalogStorageBoxType[] {
  return catalog().storageBoxTypes;
}

/** The locations that offer Storage Boxes. */
export function storageBoxLocations(): readonly string[] {
  return catalog().storageBoxLocations;
}
