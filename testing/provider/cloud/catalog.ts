import { Location } from '../../../lib/hetzner/location';
import { ServerType } from '../../../lib/hetzner/server-type';

/**
 * What the simulated Hetzner Cloud offers: locations and server types from the library's own
 * catalogs (one source of truth with the constructs), plus the API facts those catalogs do not
 * carry (IDs, coordinates, datacenters) and a handful of OS images.
 * Facts as of the Hetzner API on 2026-09-29.
 */

interface LocationFacts { readonly id: number; readonly description: string; readonly latitude: number; readonly longitude: number; readonly datacenter: string; readonly datacenterId: number }

const LOCATION_FACTS: Record<string, LocationFacts> = {
  fsn1: { id: 1, description: 'Falkenstein DC Park 1', latitude: 50.47612, longitude: 12.370071, datacenter: 'fsn1-dc14', datacenterId: 4 },
  nbg1: { id: 2, description: 'Nuremberg DC Park 1', latitude: 49.452102, longitude: 11.076665, datacenter: 'nbg1-dc3', datacenterId: 2 },
  hel1: { id: 3, description: 'Helsinki DC Park 1', latitude: 60.169855, longitude: 24.938379, datacenter: 'hel1-dc2', datacenterId: 3 },
  ash: { id: 4, description: 'Ashburn, VA', latitude: 39.045821, longitude: -77.487073, datacenter: 'ash-dc1', datacenterId: 5 },
  hil: { id: 5, description: 'Hillsboro, OR', latitude: 45.54222, longitude: -122.951924, datacenter: 'hil-dc1', datacenterId: 6 },
  sin: { id: 6, description: 'Singapore', latitude: 1.283333, longitude: 103.833333, datacenter: 'sin-dc1', datacenterId: 7 },
};

const SERVER_TYPE_IDS: Record<string, number> = {
  cx23: 114, cx33: 115, cx43: 116, cx53: 117, cax11: 45, cax21: 93, cax31: 94, cax41: 95,
  cpx12: 108, cpx22: 109, cpx32: 110, cpx42: 111, cpx52: 112, cpx62: 113,
  cpx11: 22, cpx21: 23, cpx31: 24, cpx41: 25, cpx51: 26,
  ccx13: 96, ccx23: 97, ccx33: 98, ccx43: 99, ccx53: 100, ccx63: 101,
  cx22: 104, cx32: 105, cx42: 106, cx52: 107,
};

export interface CatalogLocation {
  readonly id: number;
  readonly name: string;
  readonly city: string;
  readonly country: string;
  readonly description: string;
  readonly networkZone: string;
  readonly latitude: number;
  readonly longitude: number;
  readonly datacenter: string;
  readonly datacenterId: number;
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

export function locations(): CatalogLocation[] {
  return Location.all().map((l) => ({
    name: l.name, city: l.city, country: l.country, networkZone: l.networkZone, ...LOCATION_FACTS[l.name],
  }));
}

export function findLocation(name: unknown): CatalogLocation | undefined {
  return locations().find((l) => l.name === name || l.id === name);
}

/** A location by datacenter name (`fsn1-dc14`), for the deprecated `datacenter` arguments. */
export function findDatacenter(name: unknown): CatalogLocation | undefined {
  return locations().find((l) => l.datacenter === name || l.datacenterId === name);
}

export function serverTypes(): ServerType[] {
  return ServerType.all();
}

export function findServerType(name: unknown): ServerType | undefined {
  return ServerType.all().find((t) => t.name === name || SERVER_TYPE_IDS[t.name] === name);
}

export function serverTypeId(type: ServerType): number {
  return SERVER_TYPE_IDS[type.name] ?? 0;
}

const IMAGE_RELEASES: Array<[string, string, string, string]> = [
  // name, description, flavor, version
  ['debian-12', 'Debian 12', 'debian', '12'],
  ['debian-13', 'Debian 13', 'debian', '13'],
  ['ubuntu-22.04', 'Ubuntu 22.04', 'ubuntu', '22.04'],
  ['ubuntu-24.04', 'Ubuntu 24.04', 'ubuntu', '24.04'],
  ['rocky-9', 'Rocky Linux 9', 'rocky', '9'],
  ['alma-9', 'AlmaLinux 9', 'alma', '9'],
];

/** Each release exists once per architecture, with its own ID, as in the real API. */
export function images(): CatalogImage[] {
  return IMAGE_RELEASES.flatMap(([name, description, osFlavor, osVersion], i) => (['x86', 'arm'] as const).map((architecture, j) => ({
    id: 114690387 + i * 2 + j, name, description, architecture, osFlavor, osVersion, created: '2026-09-01T00:00:00Z',
  })));
}

export function findImage(nameOrId: unknown, architecture?: string): CatalogImage | undefined {
  return images().find((img) => (img.name === nameOrId || String(img.id) === String(nameOrId))
    && (architecture === undefined || img.architecture === architecture));
}
