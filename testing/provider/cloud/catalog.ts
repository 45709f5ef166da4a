import catalogData from './catalog.json';

/**
 * What the simulated Hetzner Cloud offers: locations, datacenters, server types, images, load
 * balancer types and Storage Box types, read from catalog.json beside this file.
 *
 * The catalog is deliberately independent of the library's own `Location` and `ServerType`
 * classes: a stand-in that shared them would agree with any mistake in them. The facts come from
 * the Hetzner API (copy of 2026-09-29) by way of ../shared/reference/hetzner-facts.json.
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

export interface CatalogImage {
  readonly id: number;
  readonly name: string;
  readonly description: string;
  readonly architecture: 'x86' | 'arm';
  readonly osFlavor: string;
  readonly osVersion: string;
  readonly created: string;
}

export interface CatalogLoadBalancerType {
  readonly id: number;
  readonly name: string;
  readonly description: string;
  readonly maxConnections: number;
  readonly maxServices: number;
  readonly maxTargets: number;
  readonly maxAssignedCertificates: number;
}

export interface CatalogStorageBoxType {
  readonly id: number;
  readonly name: string;
  readonly description: string;
  /** Bytes. */
  readonly size: number;
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

export function locations(): CatalogLocation[] {
  return catalog().locations.map((l) => {
    const dc = catalog().datacenters.find((d) => d.location === l.name);
    return { ...l, datacenter: dc?.name ?? '', datacenterId: dc?.id ?? 0 };
  });
}

export function findLocation(name: unknown): CatalogLocation | undefined {
  return locations().find((l) => l.name === name || l.id === name);
}

/** A location by datacenter name (`fsn1-dc14`) or ID, for the removed `datacenter` arguments. */
export function findDatacenter(name: unknown): CatalogLocation | undefined {
  return locations().find((l) => l.datacenter === name || l.datacenterId === name);
}

export function datacenterDescription(l: CatalogLocation): string {
  return catalog().datacenters.find((d) => d.name === l.datacenter)?.description ?? '';
}

export function serverTypes(): CatalogServerType[] {
  return catalog().serverTypes.map(({ locations: names, deprecation, ...t }) => ({ ...t, locationNames: names, deprecation: deprecation ?? undefined }));
}

export function findServerType(nameOrId: unknown): CatalogServerType | undefined {
  return serverTypes().find((t) => t.name === nameOrId || t.id === nameOrId || String(t.id) === String(nameOrId));
}

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

export function findImage(nameOrId: unknown, architecture?: string): CatalogImage | undefined {
  return images().find((img) => (img.name === nameOrId || String(img.id) === String(nameOrId))
    && (architecture === undefined || img.architecture === architecture));
}

export function loadBalancerTypes(): CatalogLoadBalancerType[] {
  return catalog().loadBalancerTypes;
}

export function storageBoxTypes(): CatalogStorageBoxType[] {
  return catalog().storageBoxTypes;
}

export function storageBoxLocations(): readonly string[] {
  return catalog().storageBoxLocations;
}
