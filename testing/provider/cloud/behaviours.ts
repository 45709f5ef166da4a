import * as crypto from 'crypto';
import { isObject, ObjectValue, Value } from '../values';
import { cidrContains, firstAddressOf, intToIpv4, macAddress, networkAddressOf, parseCidr, publicIpv4, publicIpv6Network } from './addresses';
import { ApiError, ProviderError } from './api-error';
import { findDatacenter, findImage, findLocation, findServerType, storageBoxLocations, storageBoxTypes } from './catalog';
import { CloudState } from './store';

/**
 * How the simulated Hetzner Cloud treats each resource type beyond the generic schema-driven
 * behaviour: the values it fills in, what it refuses, and what one change does to other objects.
 */

/** What a generator sees while the stand-in fills the unknown values of a new object. */
export interface FillContext {
  readonly state: CloudState;
  readonly typeName: string;
  /** The object's ID, already allocated. */
  readonly id: number;
  /** The whole object as planned (known values from the configuration). */
  readonly object: ObjectValue;
  /** The innermost object holding the attribute (the object itself, or a nested block element). */
  readonly element: ObjectValue;
}

/** Produces a computed attribute's value at apply, or undefined to leave it as planned. */
export type Generator = (ctx: FillContext) => Value | undefined;

/** What the simulated API does for one resource type: values it fills in, and what it refuses. */
export interface Behaviour {
  /** The noun the API uses in messages, such as "primary ip". */
  readonly noun: string;
  /** Whether names are unique per project for this type (the API refuses a second one). */
  readonly uniqueName?: boolean;
  /** Values for unknown attributes, by dotted path without indices (`network.mac_address`). */
  readonly generators?: Readonly<Record<string, Generator>>;
  /**
   * Refusals of a create, on the planned object (unknown values read as null) and on the
   * configuration, which holds what the request sends but state keeps only hashed (user_data).
   */
  readonly checkCreate?: (object: ObjectValue, state: CloudState, config: ObjectValue) => void;
  /** Refusals of a call the provider makes after the create succeeded (the object exists). */
  readonly checkAfterCreate?: (object: ObjectValue) => void;
  /** Refusals of an in-place update. */
  readonly checkUpdate?: (prior: ObjectValue, planned: ObjectValue, state: CloudState) => void;
  /** Whether the provider lifts delete protection itself before deleting (Storage Box does). */
  readonly unprotectsBeforeDelete?: boolean;
  /** Effects of a create or update on other objects. */
  readonly afterWrite?: (object: ObjectValue, state: CloudState, prior: ObjectValue | null) => void;
  /** Effects of a delete on other objects. */
  readonly afterDelete?: (prior: ObjectValue, state: CloudState) => void;
}

/** The next value of a named counter in the cloud state (addresses, subaccount numbers). */
export function nextCounter(state: CloudState, name: string): number {
  const s = state as CloudState & { counters?: Record<string, number> };
  s.counters ??= {};
  const n = s.counters[name] ?? 0;
  s.counters[name] = n + 1;
  return n;
}

/** The objects of one resource type in a project, by ID (created empty on first use). */
export function objectsOf(state: CloudState, typeName: string): Record<string, ObjectValue> {
  state.objects[typeName] ??= {};
  return state.objects[typeName];
}

function findObject(state: CloudState, typeName: string, id: Value): ObjectValue | undefined {
  if (id === null || id === undefined) return undefined;
  return objectsOf(state, typeName)[String(id)];
}

const str = (v: Value | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: Value | undefined): number | undefined => (typeof v === 'number' ? v : typeof v === 'string' && v !== '' && !Number.isNaN(Number(v)) ? Number(v) : undefined);

/** The location an object ends up in: its own, its datacenter's, or Hetzner's default. */
function locationOf(o: ObjectValue): string {
  return str(o.location) ?? findDatacenter(o.datacenter)?.name ?? 'fsn1';
}

function requireKnownLocation(name: string | undefined, field = 'location'): void {
  if (name !== undefined && !findLocation(name)) {
    throw new ApiError('invalid_input', `invalid input in field '${field}'`, { name: field, messages: [`location ${name} not found`] }, field);
  }
}

function requireKnownDatacenter(name: string | undefined): void {
  if (name !== undefined && !findDatacenter(name)) {
    throw new ApiError('invalid_input', "invalid input in field 'datacenter'", { name: 'datacenter', messages: [`datacenter ${name} not found`] }, 'datacenter');
  }
}

const NETWORK_ZONES = new Set(['eu-central', 'us-east', 'us-west', 'ap-southeast']);

/** The server type checks hcloud_server runs before it calls the API, and the API's own. */
function checkServerType(typeName: string | undefined, location: string): void {
  if (typeName === undefined) return;
  const type = findServerType(typeName);
  if (!type) throw new ProviderError(`server type ${typeName} not found`, '', 'server_type');
  if (!findLocation(location)) return;
  if (!type.locationNames.includes(location)) {
    throw new ApiError('invalid_input', "invalid input in field 'server_type'",
      { name: 'server_type', messages: [`server type ${type.name} is not available in location ${location} (offered in ${type.locationNames.join(', ')})`] }, 'server_type');
  }
  if (type.deprecation && type.deprecation.locations.includes(location)) {
    throw new ProviderError(`Server Type "${type.name}" is unavailable in "${location}" and can no longer be ordered.`,
      'Existing servers of that plan will continue to work as before and no action is required on your part. '
      + 'It is possible to migrate this Server to another Server Type by using the "hcloud server change-type" command.', 'server_type');
  }
}

function invalidInput(field: string, message: string, attribute = field): ApiError {
  return new ApiError('invalid_input', `invalid input in field '${field}'`, { name: field, messages: [message] }, attribute);
}

/**
 * POST /servers: "name: Name of the Server to create (must be unique per Project and a valid
 * hostname as per RFC 1123)" (Hetzner Cloud API reference, Servers). Labels of letters, digits
 * and hyphens, 1-63 characters, not starting or ending with a hyphen; 253 characters at most.
 */
export function isRfc1123Hostname(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  return name.replace(/\.$/, '').split('.').every((label) => /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label));
}

/**
 * Server protection: "delete ... rebuild: If true, prevents the Server from being rebuilt
 * (currently delete and rebuild attribute needs to have the same value)" (API reference,
 * POST /servers/{id}/actions/change_protection). hcloud v1.68 sends both after the create.
 */
function checkServerProtection(o: ObjectValue): void {
  const del = o.delete_protection === true;
  const rebuild = o.rebuild_protection === true;
  if (del !== rebuild) {
    throw invalidInput('rebuild', 'delete and rebuild protection must have the same value', 'rebuild_protection');
  }
}

/** RFC 1918 private IPv4 ranges: the only ones a Network may use (API reference, POST /networks ip_range). */
const RFC1918 = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];

/** SSH public key types the API accepts (POST /ssh_keys public_key, OpenSSH format). */
const SSH_KEY_TYPES = new Set([
  'ssh-rsa', 'ssh-dss', 'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com',
]);

/** Whether a public key is in OpenSSH format: `<type> <base64 blob whose first field is the type> [comment]`. */
export function isOpenSshPublicKey(key: string): boolean {
  const [type, body] = key.trim().split(/\s+/);
  if (!type || !body || !SSH_KEY_TYPES.has(type) || !/^[A-Za-z0-9+/]+={0,2}$/.test(body) || body.length % 4 !== 0) return false;
  const blob = Buffer.from(body, 'base64');
  if (blob.length < 4) return false;
  const length = blob.readUInt32BE(0);
  return length === type.length && blob.subarray(4, 4 + length).toString('latin1') === type && blob.length > 4 + length;
}

/**
 * Firewall rules: "port: Port or port range to which traffic will be allowed, only applicable
 * for protocols TCP and UDP" and required for them (API reference, POST /firewalls rules).
 */
function checkFirewallRules(o: ObjectValue): void {
  for (const rule of Array.isArray(o.rule) ? o.rule : []) {
    if (!isObject(rule)) continue;
    const portProtocol = rule.protocol === 'tcp' || rule.protocol === 'udp';
    const port = str(rule.port);
    if (portProtocol && (port === undefined || port === '')) throw invalidInput('rules', `port is required for protocol ${rule.protocol}`, 'rule');
    if (!portProtocol && port !== undefined && port !== '') throw invalidInput('rules', `port is not allowed for protocol ${rule.protocol}`, 'rule');
    if (port !== undefined && port !== '' && port !== 'any') {
      const m = /^(\d+)(?:-(\d+))?$/.exec(port);
      const ok = m && Number(m[1]) >= 1 && Number(m[1]) <= 65535 && (m[2] === undefined || (Number(m[2]) <= 65535 && Number(m[2]) > Number(m[1])));
      if (!ok) throw invalidInput('rules', `port ${port} is not a port or a port range`, 'rule');
    }
    if (rule.direction === 'in' && !(Array.isArray(rule.source_ips) && rule.source_ips.length > 0)) throw invalidInput('rules', 'source_ips is required for direction in', 'rule');
    if (rule.direction === 'out' && !(Array.isArray(rule.destination_ips) && rule.destination_ips.length > 0)) throw invalidInput('rules', 'destination_ips is required for direction out', 'rule');
    // "You can specify 100 CIDR blocks at most" (API reference, a rule's source_ips and destination_ips).
    const blocks = rule.direction === 'out' ? rule.destination_ips : rule.source_ips;
    if (Array.isArray(blocks) && blocks.length > 100) {
      throw invalidInput('rules', `${rule.direction === 'out' ? 'destination_ips' : 'source_ips'} has ${blocks.length} CIDR blocks, at most 100 are allowed`, 'rule');
    }
  }
}

/** The most user data the API accepts in a server create, in bytes (UTF-8). */
export const USER_DATA_MAX_BYTES = 32768;

/**
 * The API refuses a server create whose user_data is longer than 32 KiB; the provider sends the
 * text as configured (its schema has no length check, and state holds only a hash of it).
 */
function checkUserDataLength(userData: string | undefined): void {
  if (userData === undefined || Buffer.byteLength(userData, 'utf8') <= USER_DATA_MAX_BYTES) return;
  throw new ApiError('invalid_input', "invalid input in field 'user_data'",
    { name: 'user_data', messages: [`Length must be between 0 and ${USER_DATA_MAX_BYTES}.`] }, 'user_data');
}

function sshKeyFingerprint(publicKey: string): string {
  const body = publicKey.trim().split(/\s+/)[1] ?? publicKey;
  return crypto.createHash('md5').update(Buffer.from(body, 'base64')).digest('hex').replace(/(..)(?!$)/g, '$1:');
}

function subnetOf(state: CloudState, subnetId: string | undefined): ObjectValue | undefined {
  if (!subnetId) return undefined;
  return objectsOf(state, 'hcloud_network_subnet')[subnetId];
}

/** The next free private address in a subnet (.1 is the gateway). */
function nextPrivateIp(state: CloudState, ipRange: string): string | undefined {
  const range = parseCidr(ipRange);
  if (!range) return undefined;
  const used = new Set<string>();
  for (const server of Object.values(objectsOf(state, 'hcloud_server'))) {
    for (const n of Array.isArray(server.network) ? server.network : []) if (isObject(n) && typeof n.ip === 'string') used.add(n.ip);
  }
  for (let host = 2; host < 2 ** (32 - range.prefix) - 1; host++) {
    const ip = intToIpv4(range.base + host);
    if (!used.has(ip)) return ip;
  }
  return undefined;
}

/** Points a primary IP at the server using it, as the API does when a server is created with it. */
function assignPrimaryIps(server: ObjectValue, state: CloudState, assignee: number | null): void {
  for (const net of Array.isArray(server.public_net) ? server.public_net : []) {
    if (!isObject(net)) continue;
    for (const key of ['ipv4', 'ipv6']) {
      const ip = findObject(state, 'hcloud_primary_ip', num(net[key]) ?? null);
      if (ip) ip.assignee_id = assignee;
    }
  }
}

/**
 * The server's IPv6 /64: its primary IP's, or a new one. Computed once per object (the address
 * and the network are filled one after the other from it).
 */
function serverIpv6Network({ object, state }: FillContext): string {
  if (typeof object.ipv6_network === 'string') return object.ipv6_network;
  const net = Array.isArray(object.public_net) && isObject(object.public_net[0]) ? object.public_net[0] : undefined;
  let network = '';
  if (!net || net.ipv6_enabled !== false) {
    const primary = findObject(state, 'hcloud_primary_ip', net ? num(net.ipv6) ?? null : null);
    network = primary ? str(primary.ip_network) ?? '' : publicIpv6Network(nextCounter(state, 'ipv6'));
  }
  object.ipv6_network = network; // still unknown in the plan: filled here so both values agree
  return network;
}

const server: Behaviour = {
  noun: 'server',
  uniqueName: true,
  generators: {
    location: ({ object }) => locationOf(object),
    datacenter: ({ object }) => findLocation(locationOf(object))?.datacenter ?? null,
    status: () => 'running',
    backup_window: ({ object }) => (object.backups === true ? '22-02' : ''),
    primary_disk_size: ({ object }) => findServerType(object.server_type)?.disk ?? 0,
    firewall_ids: () => [],
    ipv4_address: ({ object, state }) => {
      const net = Array.isArray(object.public_net) && isObject(object.public_net[0]) ? object.public_net[0] : undefined;
      if (net && net.ipv4_enabled === false) return '';
      const primary = findObject(state, 'hcloud_primary_ip', net ? num(net.ipv4) ?? null : null);
      return primary ? str(primary.ip_address) ?? '' : publicIpv4(nextCounter(state, 'ipv4'));
    },
    ipv6_network: (ctx) => serverIpv6Network(ctx),
    ipv6_address: (ctx) => {
      const network = serverIpv6Network(ctx);
      return network === '' ? '' : firstAddressOf(network);
    },
    'network.mac_address': ({ id, element }) => macAddress(id * 16 + (num(element.network_id) ?? 0) % 16),
    'network.network_id': ({ element }) => num(str(element.subnet_id)?.split('-')[0]) ?? null,
    'network.subnet_id': ({ element, state }) => {
      const subnets = Object.values(objectsOf(state, 'hcloud_network_subnet')).filter((s) => s.network_id === element.network_id);
      return str(subnets[0]?.id) ?? null;
    },
    'network.ip': ({ element, state }) => {
      const subnet = subnetOf(state, str(element.subnet_id))
        ?? Object.values(objectsOf(state, 'hcloud_network_subnet')).find((s) => s.network_id === element.network_id);
      return subnet ? nextPrivateIp(state, String(subnet.ip_range)) ?? null : null;
    },
    'network.alias_ips': () => [],
    'public_net.ipv4': ({ element, state }) => (element.ipv4_enabled === false ? null : nextCounter(state, 'auto-primary-ip') + 20000001),
    'public_net.ipv6': ({ element, state }) => (element.ipv6_enabled === false ? null : nextCounter(state, 'auto-primary-ip') + 20000001),
  },
  checkCreate: (o, state, config) => {
    const location = locationOf(o);
    requireKnownLocation(str(o.location));
    requireKnownDatacenter(str(o.datacenter));
    checkServerType(str(o.server_type), location);
    checkUserDataLength(str(config.user_data));
    if (typeof o.name === 'string' && !isRfc1123Hostname(o.name)) throw invalidInput('name', 'name must be a valid hostname', 'name');
    const type = findServerType(o.server_type);
    const image = str(o.image);
    if (image !== undefined && type && !findImage(image, type.architecture)) {
      throw new ProviderError(`image ${image} for architecture ${type.architecture} not found`, '', 'image');
    }
    for (const key of Array.isArray(o.ssh_keys) ? o.ssh_keys : []) {
      const keys = Object.values(objectsOf(state, 'hcloud_ssh_key'));
      if (!keys.some((k) => String(k.id) === String(key) || k.name === key)) throw new ProviderError(`SSH key not found: ${key}`, '', 'ssh_keys');
    }
    for (const net of Array.isArray(o.public_net) ? o.public_net : []) {
      if (!isObject(net)) continue;
      for (const key of ['ipv4', 'ipv6']) {
        const ip = findObject(state, 'hcloud_primary_ip', num(net[key]) ?? null);
        if (net[key] !== null && !ip) throw new ApiError('not_found', `primary ip with ID ${net[key]} not found`, undefined, 'public_net');
        if (ip && str(ip.location) !== location) {
          throw new ApiError('primary_ip_datacenter_mismatch', `primary ip ${ip.id} is in location ${ip.location}, the server in ${location}`, undefined, 'public_net');
        }
        if (ip && num(ip.assignee_id)) throw new ApiError('primary_ip_already_assigned', `primary ip ${ip.id} is already assigned to server ${ip.assignee_id}`, undefined, 'public_net');
      }
    }
    for (const net of Array.isArray(o.network) ? o.network : []) {
      if (!isObject(net)) continue;
      const subnetId = str(net.subnet_id);
      if (subnetId && !subnetOf(state, subnetId)) {
        throw new ApiError('no_subnet_available', `no subnet or IP available (subnet ${subnetId} does not exist)`, undefined, 'network');
      }
      const subnet = subnetOf(state, subnetId);
      const zone = findLocation(location)?.networkZone;
      if (subnet && zone && subnet.network_zone !== zone) {
        throw new ApiError('invalid_input', "invalid input in field 'network'", { name: 'network', messages: [`subnet ${subnetId} is in network zone ${subnet.network_zone}, the server's location ${location} in ${zone}`] }, 'network');
      }
    }
  },
  // internal/server/resource.go resourceServerCreate: protection is set by a change_protection
  // action after the server is created.
  checkAfterCreate: (o) => {
    if (o.delete_protection === true || o.rebuild_protection === true) checkServerProtection(o);
  },
  checkUpdate: (prior, planned) => {
    if (typeof planned.name === 'string' && planned.name !== prior.name && !isRfc1123Hostname(planned.name)) throw invalidInput('name', 'name must be a valid hostname', 'name');
    if (planned.delete_protection !== prior.delete_protection || planned.rebuild_protection !== prior.rebuild_protection) checkServerProtection(planned);
    if (planned.server_type !== prior.server_type) {
      checkServerType(str(planned.server_type), locationOf(prior));
      const from = findServerType(prior.server_type);
      const to = findServerType(planned.server_type);
      if (from && to && from.architecture !== to.architecture) {
        throw new ApiError('invalid_server_type', `server type ${to.name} does not fit for server: its architecture ${to.architecture} differs from the server's ${from.architecture}`, undefined, 'server_type');
      }
      if (from && to && planned.keep_disk !== true && to.disk < (num(prior.primary_disk_size) ?? 0)) {
        throw new ApiError('invalid_server_type', `server type ${to.name} has a smaller disk (${to.disk} GB) than the server (${prior.primary_disk_size} GB)`, undefined, 'server_type');
      }
    }
  },
  afterWrite: (o, state, prior) => {
    if (prior) assignPrimaryIps(prior, state, null);
    assignPrimaryIps(o, state, num(o.id) ?? null);
  },
  afterDelete: (prior, state) => {
    assignPrimaryIps(prior, state, null);
    for (const volume of Object.values(objectsOf(state, 'hcloud_volume'))) if (String(volume.server_id) === String(prior.id)) volume.server_id = null;
  },
};

const primaryIp: Behaviour = {
  noun: 'primary ip',
  uniqueName: true,
  generators: {
    location: ({ object }) => locationOf(object),
    datacenter: ({ object }) => findLocation(locationOf(object))?.datacenter ?? null,
    // hcloud's model sets an IPv6 address's ip_address to the start of its /64 (`2001:db8::`, as the API's `ip`
    // names the network); the server it is assigned to answers on the first address after it (`::1`).
    ip_address: ({ object, state }) => (object.type === 'ipv6'
      ? networkAddressOf(publicIpv6Network(nextCounter(state, 'ipv6'))) : publicIpv4(nextCounter(state, 'ipv4'))),
    ip_network: ({ object }) => (object.type === 'ipv6' && typeof object.ip_address === 'string' ? `${object.ip_address}/64` : null),
    assignee_id: () => null,
    assignee_type: () => 'server',
    auto_delete: () => false,
    delete_protection: () => false,
    labels: () => ({}),
  },
  checkCreate: (o) => {
    requireKnownLocation(str(o.location));
    requireKnownDatacenter(str(o.datacenter));
    if (o.type !== 'ipv4' && o.type !== 'ipv6') {
      throw new ApiError('invalid_input', "invalid input in field 'type'", { name: 'type', messages: [`type must be one of ipv4, ipv6, not ${JSON.stringify(o.type)}`] }, 'type');
    }
  },
};

const volume: Behaviour = {
  noun: 'volume',
  uniqueName: true,
  generators: {
    linux_device: ({ id }) => `/dev/disk/by-id/scsi-0HC_Volume_${id}`,
    location: ({ object, state }) => str(findObject(state, 'hcloud_server', object.server_id ?? null)?.location) ?? locationOf(object),
    server_id: () => null,
  },
  checkCreate: (o, state) => {
    requireKnownLocation(str(o.location));
    const size = num(o.size) ?? 0;
    if (size < 10 || size > 10240) throw new ApiError('invalid_input', "invalid input in field 'size'", { name: 'size', messages: ['size must be between 10 and 10240 GB'] }, 'size');
    if (o.server_id !== null && o.server_id !== undefined) {
      const target = findObject(state, 'hcloud_server', o.server_id);
      if (!target) throw new ApiError('not_found', `server with ID ${o.server_id} not found`, undefined, 'server_id');
      if (str(o.location) !== undefined && o.location !== target.location) {
        throw new ApiError('invalid_input', 'server and volume must be in the same location', { name: 'server', messages: [`server ${target.id} is in ${target.location}, the volume in ${o.location}`] }, 'server_id');
      }
    }
  },
  checkUpdate: (prior, planned, state) => {
    if (planned.server_id !== prior.server_id && planned.server_id !== null) {
      const target = findObject(state, 'hcloud_server', planned.server_id);
      if (target && target.location !== prior.location) {
        throw new ApiError('invalid_input', 'server and volume must be in the same location', { name: 'server', messages: [`server ${target.id} is in ${target.location}, the volume in ${prior.location}`] }, 'server_id');
      }
    }
    if ((num(planned.size) ?? 0) < (num(prior.size) ?? 0)) {
      throw new ApiError('invalid_input', "invalid input in field 'size'", { name: 'size', messages: ['volumes can only be resized upwards'] }, 'size');
    }
  },
};

const volumeAttachment: Behaviour = {
  noun: 'volume attachment',
  generators: {
    id: ({ object }) => String(object.volume_id),
    automount: () => false,
  },
  checkCreate: (o, state) => {
    const vol = findObject(state, 'hcloud_volume', o.volume_id);
    const target = findObject(state, 'hcloud_server', o.server_id);
    if (!vol) throw new ApiError('not_found', `volume with ID ${o.volume_id} not found`, undefined, 'volume_id');
    if (!target) throw new ApiError('not_found', `server with ID ${o.server_id} not found`, undefined, 'server_id');
    if (vol.location !== target.location) {
      throw new ApiError('invalid_input', 'server and volume must be in the same location', { name: 'server', messages: [`server ${target.id} is in ${target.location}, volume ${vol.id} in ${vol.location}`] }, 'server_id');
    }
    if (vol.server_id !== null && vol.server_id !== undefined && String(vol.server_id) !== String(o.server_id)) {
      throw new ApiError('volume_already_attached', `volume ${vol.id} is already attached to server ${vol.server_id}, detach first`, undefined, 'volume_id');
    }
  },
  afterWrite: (o, state) => {
    const vol = findObject(state, 'hcloud_volume', o.volume_id);
    if (vol) vol.server_id = num(o.server_id) ?? null;
  },
  afterDelete: (prior, state) => {
    const vol = findObject(state, 'hcloud_volume', prior.volume_id);
    if (vol) vol.server_id = null;
  },
};

const network: Behaviour = {
  noun: 'network',
  uniqueName: true,
  checkCreate: (o) => {
    const range = parseCidr(String(o.ip_range));
    if (!range || range.prefix > 24 || !RFC1918.some((block) => cidrContains(block, String(o.ip_range)))) {
      throw new ApiError('invalid_input', "invalid input in field 'ip_range'", { name: 'ip_range', messages: [`ip_range ${o.ip_range} must be an RFC 1918 IPv4 network of /24 or larger`] }, 'ip_range');
    }
  },
  afterDelete: (prior, state) => {
    const subnets = objectsOf(state, 'hcloud_network_subnet');
    for (const [id, s] of Object.entries(subnets)) if (String(s.network_id) === String(prior.id)) delete subnets[id];
  },
};

const networkSubnet: Behaviour = {
  noun: 'subnet',
  generators: {
    id: ({ object }) => `${object.network_id}-${object.ip_range}`,
    gateway: ({ object, state }) => {
      const parent = findObject(state, 'hcloud_network', object.network_id);
      const range = parseCidr(String(parent?.ip_range ?? object.ip_range));
      return range ? intToIpv4(range.base + 1) : '';
    },
  },
  checkCreate: (o, state) => {
    const parent = findObject(state, 'hcloud_network', o.network_id);
    if (!parent) throw new ApiError('not_found', `network with ID ${o.network_id} not found`, undefined, 'network_id');
    // POST /networks/{id}/actions/add_subnet: "vswitch_id: ID of the robot vSwitch. Must be supplied
    // if the subnet is of type vswitch."
    if (o.type === 'vswitch' && (o.vswitch_id === null || o.vswitch_id === undefined)) throw invalidInput('vswitch_id', 'vswitch_id is required for a subnet of type vswitch');
    if (o.type !== 'vswitch' && o.vswitch_id !== null && o.vswitch_id !== undefined) throw invalidInput('vswitch_id', `vswitch_id is only allowed for a subnet of type vswitch, not ${o.type}`);
    if (!NETWORK_ZONES.has(String(o.network_zone))) {
      throw new ApiError('invalid_input', "invalid input in field 'network_zone'", { name: 'network_zone', messages: [`network zone ${o.network_zone} not found`] }, 'network_zone');
    }
    if (!cidrContains(String(parent.ip_range), String(o.ip_range))) {
      throw new ApiError('invalid_input', "invalid input in field 'ip_range'", { name: 'ip_range', messages: [`ip_range ${o.ip_range} is not inside the network's ${parent.ip_range}`] }, 'ip_range');
    }
    for (const other of Object.values(objectsOf(state, 'hcloud_network_subnet'))) {
      if (String(other.network_id) === String(o.network_id) && (cidrContains(String(other.ip_range), String(o.ip_range)) || cidrContains(String(o.ip_range), String(other.ip_range)))) {
        throw new ApiError('networks_overlap', `subnet ${o.ip_range} overlaps with subnet ${other.ip_range}`, undefined, 'ip_range');
      }
    }
  },
};

/**
 * Hetzner's limit of firewalls: "up to 50 Firewalls total across your projects" (docs.hetzner.com/cloud/firewalls/faq),
 * per account. The stand-in knows one project (one cloud file) and no account, so it counts the project's firewalls:
 * stacks deployed to two cloud files may hold 50 each here, which Hetzner refuses in one account (synth counts those).
 * Written here, not read from the library: the stand-in checks the library, so it must not share its mistakes.
 */
const FIREWALLS_PER_PROJECT = 50;

const firewall: Behaviour = {
  noun: 'firewall',
  uniqueName: true,
  generators: { labels: () => ({}) },
  checkCreate: (o, state) => {
    checkFirewallRules(o);
    // The code Hetzner's API gives a resource past its limit; the message is the stand-in's.
    if (Object.keys(objectsOf(state, 'hcloud_firewall')).length >= FIREWALLS_PER_PROJECT) {
      throw new ApiError('resource_limit_exceeded', `firewall limit exceeded: at most ${FIREWALLS_PER_PROJECT} firewalls (the stand-in counts its project's; Hetzner counts the account's)`);
    }
  },
  checkUpdate: (_prior, planned) => checkFirewallRules(planned),
};

const sshKey: Behaviour = {
  noun: 'SSH key',
  uniqueName: true,
  generators: {
    fingerprint: ({ object }) => sshKeyFingerprint(String(object.public_key)),
    labels: () => ({}),
  },
  checkCreate: (o, state) => {
    if (!isOpenSshPublicKey(String(o.public_key))) throw invalidInput('public_key', 'invalid public key');
    const fingerprint = sshKeyFingerprint(String(o.public_key));
    if (Object.values(objectsOf(state, 'hcloud_ssh_key')).some((k) => k.fingerprint === fingerprint)) {
      throw new ApiError('uniqueness_error', 'SSH key with the same fingerprint already exists', undefined, 'public_key');
    }
  },
};


const storageBox: Behaviour = {
  noun: 'storage box',
  uniqueName: true,
  unprotectsBeforeDelete: true,
  generators: {
    server: ({ id }) => `u${id}.your-storagebox.de`,
    username: ({ id }) => `u${id}`,
    system: ({ object, id }) => `${String(object.location ?? 'fsn1').toUpperCase()}-BX${(id % 900) + 100}`,
    ssh_keys: () => [],
    labels: () => ({}),
    delete_protection: () => false,
    access_settings: () => ({ reachable_externally: false, samba_enabled: false, ssh_enabled: false, webdav_enabled: false, zfs_enabled: false }),
    'access_settings.reachable_externally': () => false,
    'access_settings.samba_enabled': () => false,
    'access_settings.ssh_enabled': () => false,
    'access_settings.webdav_enabled': () => false,
    'access_settings.zfs_enabled': () => false,
  },
  checkCreate: (o) => {
    requireKnownLocation(str(o.location));
    if (!storageBoxLocations().includes(String(o.location))) {
      throw new ApiError('invalid_input', "invalid input in field 'location'", { name: 'location', messages: [`storage boxes are not offered in ${o.location}`] }, 'location');
    }
    if (!storageBoxTypes().some((t) => t.name === o.storage_box_type)) {
      throw new ApiError('invalid_input', "invalid input in field 'storage_box_type'", { name: 'storage_box_type', messages: [`storage box type ${o.storage_box_type} not found`] }, 'storage_box_type');
    }
  },
};

const storageBoxSubaccount: Behaviour = {
  noun: 'storage box subaccount',
  generators: {
    username: ({ object, state }) => `u${object.storage_box_id}-sub${nextCounter(state, `subaccount-${object.storage_box_id}`) + 1}`,
    server: ({ object, state }) => str(findObject(state, 'hcloud_storage_box', object.storage_box_id)?.server) ?? `u${object.storage_box_id}.your-storagebox.de`,
    name: ({ object }) => (typeof object.username === 'string' ? object.username : null),
    description: () => '',
    labels: () => ({}),
    access_settings: () => ({ reachable_externally: false, readonly: false, samba_enabled: false, ssh_enabled: false, webdav_enabled: false }),
    'access_settings.reachable_externally': () => false,
    'access_settings.readonly': () => false,
    'access_settings.samba_enabled': () => false,
    'access_settings.ssh_enabled': () => false,
    'access_settings.webdav_enabled': () => false,
  },
  checkCreate: (o, state) => {
    if (!findObject(state, 'hcloud_storage_box', o.storage_box_id)) {
      throw new ApiError('not_found', `storage box with ID ${o.storage_box_id} not found`, undefined, 'storage_box_id');
    }
  },
};

const floatingIp: Behaviour = {
  noun: 'floating ip',
  uniqueName: true,
  generators: {
    // hcloud's model sets an IPv6 address's ip_address to the start of its /64 (`2001:db8::`, as the API's `ip`
    // names the network); the server it is assigned to answers on the first address after it (`::1`).
    ip_address: ({ object, state }) => (object.type === 'ipv6'
      ? networkAddressOf(publicIpv6Network(nextCounter(state, 'ipv6'))) : publicIpv4(nextCounter(state, 'ipv4'))),
    ip_network: ({ object }) => (object.type === 'ipv6' && typeof object.ip_address === 'string' ? `${object.ip_address}/64` : null),
    home_location: ({ object, state }) => str(findObject(state, 'hcloud_server', object.server_id ?? null)?.location) ?? 'fsn1',
  },
  checkCreate: (o) => requireKnownLocation(str(o.home_location), 'home_location'),
};

const loadBalancer: Behaviour = {
  noun: 'load balancer',
  uniqueName: true,
  generators: {
    ipv4: ({ state }) => publicIpv4(nextCounter(state, 'ipv4')),
    ipv6: ({ state }) => firstAddressOf(publicIpv6Network(nextCounter(state, 'ipv6'))),
    network_zone: ({ object }) => findLocation(object.location)?.networkZone ?? 'eu-central',
  },
  checkCreate: (o) => requireKnownLocation(str(o.location)),
};

const BEHAVIOURS: Record<string, Behaviour> = {
  hcloud_server: server,
  hcloud_primary_ip: primaryIp,
  hcloud_volume: volume,
  hcloud_volume_attachment: volumeAttachment,
  hcloud_network: network,
  hcloud_network_subnet: networkSubnet,
  hcloud_firewall: firewall,
  hcloud_ssh_key: sshKey,
  hcloud_storage_box: storageBox,
  hcloud_storage_box_subaccount: storageBoxSubaccount,
  hcloud_floating_ip: floatingIp,
  hcloud_load_balancer: loadBalancer,
};

/** The behaviour of a resource type; types without special rules get the generic one. */
export function behaviourOf(typeName: string): Behaviour {
  return BEHAVIOURS[typeName] ?? { noun: typeName.replace(/^hcloud_/, '').replace(/_/g, ' ') };
}
