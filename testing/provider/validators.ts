import * as net from 'net';
import { FRAMEWORK_RESOURCES } from './cloud/api-error';
import { Diagnostic, errorAt, warningAt } from './diagnostics';
import { Field, ResourceSchema, Shape } from './schema';
import { containsUnknown, isObject, isUnknown, ObjectValue, Value } from './values';

/**
 * The checks hcloud v1.68.0 makes in ValidateResourceConfig, ValidateDataResourceConfig and
 * ValidateProviderConfig: what `terraform validate` (and every plan) refuses before any API call.
 *
 * Ported from hetznercloud/terraform-provider-hcloud at tag v1.68.0 (file:line cited at each rule)
 * and from the SDKv2 and plugin-framework rules every provider gets (computed-only attributes,
 * deprecations). Like the real validators, a check skips a value that is still unknown.
 */

type Path = Array<string | number>;

const known = (v: Value | undefined): v is Exclude<Value, null> => v !== null && v !== undefined && !isUnknown(v);

/** Whether a resource type is implemented with the plugin framework (else SDKv2); decides the wording. */
export function isFrameworkResource(typeName: string): boolean {
  return FRAMEWORK_RESOURCES.has(typeName);
}

/**
 * hcloud-go v2.47 `ValidateResourceLabels` (hcloud/labels.go): a key is an optional DNS-like
 * prefix and `/`, then 1-63 characters that start and end alphanumeric; a value is empty or up to
 * 63 such characters. The regular expressions are Hetzner's, verbatim.
 */
const LABEL_KEY = /^([a-z0-9A-Z]((?:[\-_.]|[a-z0-9A-Z]){0,253}[a-z0-9A-Z])?\/)?[a-z0-9A-Z]((?:[\-_.]|[a-z0-9A-Z]|){0,62}[a-z0-9A-Z])?$/;
const LABEL_VALUE = /^(([a-z0-9A-Z](?:[\-_.]|[a-z0-9A-Z]){0,62})?[a-z0-9A-Z]$|$)/;

/** Why a label breaks Hetzner's label rules (hcloud-go ValidateResourceLabels), or undefined when it keeps them. */
export function labelError(key: string, value: string): string | undefined {
  if (!LABEL_KEY.test(key)) return `label key '${key}' is not correctly formatted`;
  if (!LABEL_VALUE.test(value)) return `label value '${value}' (key: ${key}) is not correctly formatted`;
  return undefined;
}

function checkLabels(typeName: string, config: ObjectValue, out: Diagnostic[]): void {
  const labels = config.labels;
  if (!isObject(labels) || containsUnknown(labels)) return;
  const entries = Object.entries(labels).filter(([, v]) => typeof v === 'string') as Array<[string, string]>;
  if (isFrameworkResource(typeName)) {
    // internal/util/resourceutil/labels.go:28 (labelsValidator.ValidateMap): one error per bad entry.
    for (const [k, v] of entries) {
      const problem = labelError(k, v);
      if (problem) out.push({ ...errorAt(['labels'], 'Invalid label', problem), attribute: { steps: [{ attribute_name: 'labels' }, { element_key_string: k }] } });
    }
    return;
  }
  // SDKv2 `ValidateDiagFunc` on "labels" (internal/server/resource.go:159, firewall/resource.go:38,
  // network/resource.go:43, volume/resource.go:53, floatingip/resource.go:63,
  // placementgroup/resource.go:33, certificate/resource.go:81, loadbalancer/resource.go:87):
  // diag.FromErr of the first error hcloud-go finds (Go map order; here: sorted keys).
  for (const [k, v] of entries.sort(([a], [b]) => a.localeCompare(b))) {
    const problem = labelError(k, v);
    if (problem) {
      out.push(errorAt(['labels'], problem));
      return;
    }
  }
}

/** Go's net.ParseIP for IPv4: four decimal octets, no leading zeros (Go >= 1.17). */
function parseIpv4(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const octets = parts.map((p) => (/^(0|[1-9]\d{0,2})$/.test(p) ? Number(p) : NaN));
  return octets.every((o) => o >= 0 && o <= 255) ? octets : undefined;
}

/** Go's net.ParseIP for IPv6, as 8 groups; undefined if it is not one. */
function parseIpv6(s: string): number[] | undefined {
  if (!net.isIPv6(s) || s.includes('%')) return undefined;
  let text = s;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const o = parseIpv4(v4[1]);
    if (!o) return undefined;
    text = text.slice(0, -v4[1].length) + `${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const fill = tail !== undefined ? 8 - h.length - t.length : 0;
  const groups = [...h, ...Array(fill).fill('0'), ...t].map((g) => parseInt(g, 16));
  return groups.length === 8 ? groups : undefined;
}

/** Go's IPv6 String(): lower case, the longest run (>= 2) of zero groups as `::`. */
function formatIpv6(groups: number[]): string {
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = Math.max(i, j);
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Go's net.ParseCIDR: the address, and the network it names (host bits cleared), or an error. */
export function parseGoCidr(s: string): { ip: string; network: string } | { error: string } {
  const slash = s.indexOf('/');
  const invalid = { error: `invalid CIDR address: ${s}` };
  if (slash < 0) return invalid;
  const addr = s.slice(0, slash);
  const bits = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits)) return invalid;
  const prefix = Number(bits);
  const v4 = parseIpv4(addr);
  if (v4) {
    if (prefix > 32) return invalid;
    const value = ((v4[0] << 24) >>> 0) + (v4[1] << 16) + (v4[2] << 8) + v4[3];
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    const base = (value & mask) >>> 0;
    const text = [24, 16, 8, 0].map((sh) => (base >>> sh) & 255).join('.');
    return { ip: v4.join('.'), network: `${text}/${prefix}` };
  }
  const v6 = parseIpv6(addr);
  if (!v6 || prefix > 128) return invalid;
  const masked = v6.map((g, i) => {
    const keep = Math.max(0, Math.min(16, prefix - i * 16));
    return keep === 0 ? 0 : g & ((0xffff << (16 - keep)) & 0xffff);
  });
  return { ip: formatIpv6(v6), network: `${formatIpv6(masked)}/${prefix}` };
}

/** internal/firewall/validation.go:18 validateIPDiag, after normalizeIP (:33): a bare address is a /32 or /128. */
export function firewallIpError(raw: string): string | undefined {
  let value = raw;
  if (parseIpv4(raw)) value = `${raw}/32`;
  else if (parseIpv6(raw)) value = `${raw}/128`;
  const parsed = parseGoCidr(value);
  if ('error' in parsed) return parsed.error;
  if (parsed.ip !== parsed.network.split('/')[0]) return `${value} is not the start of the cidr block ${parsed.network}`;
  return undefined;
}

const DATACENTER_REMOVED = 'The datacenter attribute is marked for removal, you must use the location attribute instead. See https://docs.hetzner.cloud/changelog#2026-07-01-removing-datacenters.';

/**
 * Deprecation messages (SDKv2 `Deprecated`, framework `DeprecationMessage`), by resource type and
 * attribute path. The schema file only says *that* an attribute is deprecated; the text is the source's.
 */
const DEPRECATIONS: Record<string, Record<string, string>> = {
  // internal/server/resource.go:77 and :121 (internal/server/model.go:16 for the text).
  hcloud_server: { datacenter: DATACENTER_REMOVED, allow_deprecated_images: 'Unused attribute, consider removing it from your configuration.' },
  // internal/primaryip/resource.go:105 (internal/primaryip/model.go:16).
  hcloud_primary_ip: { datacenter: DATACENTER_REMOVED },
  // internal/loadbalancer/resource.go:102 and :120.
  hcloud_load_balancer: {
    target: 'Use hcloud_load_balancer_target resource instead. This allows the full control over the selected targets.',
    'target.use_private_ip': 'Does not work. Use the hcloud_load_balancer_target resource instead.',
  },
};

/** Every non-null configured value of a field path, with its protocol path (set elements have none). */
function valuesAt(config: Value, segments: string[], path: Path = []): Array<{ value: Value; path: Path; key: string }> {
  if (segments.length === 0) return [{ value: config, path, key: path.filter((p) => typeof p === 'string').join('.') }];
  if (!isObject(config)) return [];
  const [head, ...rest] = segments;
  const v = config[head] ?? null;
  if (v === null) return [];
  if (Array.isArray(v) && rest.length > 0) return v.flatMap((e, i) => valuesAt(e, rest, [...path, head, i]));
  return valuesAt(v, rest, [...path, head]);
}

/**
 * Attributes that are computed only (neither required nor optional) cannot be configured.
 * SDKv2: helper/schema/schema.go `schemaMap.validate` ("Computed attributes cannot be set");
 * framework: internal/fwschemadata "Invalid Configuration for Read-Only Attribute".
 */
function checkComputedOnly(typeName: string, shape: Shape & { kind: 'object' }, config: Value, path: Path, sdkKey: string, out: Diagnostic[], truncated = false): void {
  if (!isObject(config)) return;
  for (const [name, field] of Object.entries(shape.attributes)) {
    const v = config[name] ?? null;
    if (v === null) continue;
    // Below a set element the protocol path stops at the set (its elements have no key to send).
    const here = truncated ? path : [...path, name];
    const key = sdkKey ? `${sdkKey}.${name}` : name;
    if (field.computed && !field.optional && !field.required) {
      out.push(isFrameworkResource(typeName)
        ? errorAt(here, 'Invalid Configuration for Read-Only Attribute',
          'Cannot set value for this attribute as the provider has marked it as read-only. Remove the configuration line setting the value.\n\n'
          + 'Refer to the provider documentation or contact the provider developers for additional information about configurable and read-only attributes that are supported.')
        : errorAt(here, 'Computed attributes cannot be set', `Computed attributes cannot be set, but a value was set for "${key}".`));
      continue;
    }
    const isSet = field.shape.kind === 'collection' && field.shape.collection === 'set';
    nested(field, v, (inner, element, i) => checkComputedOnly(typeName, inner, element,
      i === undefined || isSet || truncated ? here : [...here, i], i === undefined ? key : `${key}.${i}`, out, isSet || truncated));
  }
}

function nested(field: Field, v: Value, visit: (shape: Shape & { kind: 'object' }, element: Value, index?: number) => void): void {
  const s = field.shape;
  if (s.kind === 'object') visit(s, v);
  else if (s.kind === 'collection' && s.element.kind === 'object' && Array.isArray(v)) {
    const element = s.element;
    v.forEach((e, i) => visit(element, e, i));
  }
}

/** Deprecation warnings for configured deprecated arguments. */
function checkDeprecations(typeName: string, config: ObjectValue, out: Diagnostic[]): void {
  for (const [dotted, message] of Object.entries(DEPRECATIONS[typeName] ?? {})) {
    for (const { path } of valuesAt(config, dotted.split('.'))) {
      if (Array.isArray(config[dotted]) && (config[dotted] as Value[]).length === 0) continue;
      out.push(isFrameworkResource(typeName) ? warningAt(path, 'Attribute Deprecated', message) : warningAt(path, 'Argument is deprecated', message));
    }
  }
}

type Check = (config: ObjectValue, out: Diagnostic[]) => void;

/** Framework `resourcevalidator.ExactlyOneOf` (terraform-plugin-framework-validators), skipped while any is unknown. */
function exactlyOneOf(attributes: string[], root = ''): Check {
  return (config, out) => {
    const values = attributes.map((a) => config[a] ?? null);
    if (values.some((v) => isUnknown(v))) return;
    const set = attributes.filter((a) => config[a] !== null && config[a] !== undefined);
    const list = `[${attributes.map((a) => (root ? `${root}.${a}` : a)).join(',')}]`;
    if (set.length === 1) return;
    out.push(set.length === 0
      ? errorAt(undefined, 'Invalid Attribute Combination', `No attribute specified when one (and only one) of ${list} is required`)
      : errorAt([set[1]], 'Invalid Attribute Combination', `${set.length} attributes specified when one (and only one) of ${list} is required`));
  };
}

const RESOURCE_CHECKS: Record<string, Check[]> = {
  hcloud_server: [
    (c, out) => {
      // internal/server/resource.go:59 image ValidateFunc.
      if (c.image === '') out.push(errorAt(['image'], '"image" must have more than 0 characters. Have you set the name instead of an ID?'));
      // internal/server/resource.go:78 datacenter ValidateDiagFunc: any value is refused.
      if (known(c.datacenter)) out.push(errorAt(['datacenter'], 'Removed Attribute', DATACENTER_REMOVED));
      // internal/server/resource.go:105 ssh_keys element ValidateDiagFunc.
      if (Array.isArray(c.ssh_keys)) {
        c.ssh_keys.forEach((k, i) => {
          if (k === '') out.push(errorAt(['ssh_keys', i], 'Invalid ssh key passed. You need to pass a string with at least 1 character'));
        });
      }
    },
  ],
  hcloud_primary_ip: [
    (c, out) => {
      // internal/primaryip/resource.go:106 validateutil.IsRemoved on datacenter.
      if (known(c.datacenter)) out.push(errorAt(['datacenter'], 'Removed Attribute', DATACENTER_REMOVED));
    },
    // internal/primaryip/resource.go:148 ConfigValidators: ExactlyOneOf(location, assignee_id).
    exactlyOneOf(['location', 'assignee_id']),
    (c, out) => {
      // internal/primaryip/resource.go:157 ValidateConfig.
      if (isUnknown(c.assignee_id) || isUnknown(c.assignee_type)) return;
      const id = c.assignee_id ?? null;
      const type = c.assignee_type ?? null;
      if (id !== null && type === null) out.push(errorAt(['assignee_id'], 'Invalid Attribute Combination', 'These attributes must be configured together: [assignee_id,assignee_type]'));
      if (type !== null && id === null) {
        out.push(warningAt(['assignee_type'], 'Unused Attribute', 'This attribute is now optional and is only required together with the assignee_id attribute. Please remove it from your configuration.'));
      }
    },
  ],
  hcloud_firewall: [
    (c, out) => {
      for (const rule of Array.isArray(c.rule) ? c.rule : []) {
        if (!isObject(rule)) continue;
        // internal/firewall/resource.go:79 direction ValidateDiagFunc.
        if (typeof rule.direction === 'string' && !['in', 'out'].includes(rule.direction)) out.push(errorAt(['rule'], `${rule.direction} is not a valid direction`));
        // internal/firewall/resource.go:93 protocol ValidateDiagFunc.
        if (typeof rule.protocol === 'string' && !['icmp', 'tcp', 'udp', 'esp', 'gre'].includes(rule.protocol)) out.push(errorAt(['rule'], `${rule.protocol} is not a valid protocol`));
        // internal/firewall/resource.go:118 and :127 validateIPDiag on each address.
        for (const key of ['source_ips', 'destination_ips']) {
          for (const ip of Array.isArray(rule[key]) ? rule[key] as Value[] : []) {
            const problem = typeof ip === 'string' ? firewallIpError(ip) : undefined;
            if (problem) out.push(errorAt(['rule'], problem));
          }
        }
      }
    },
  ],
  hcloud_network: [
    (c, out) => {
      // internal/network/resource.go:41 validation.IsCIDR (terraform-plugin-sdk helper/validation/network.go).
      if (typeof c.ip_range === 'string') {
        const parsed = parseGoCidr(c.ip_range);
        if ('error' in parsed) out.push(errorAt(['ip_range'], `expected "ip_range" to be a valid IPv4 Value, got ${c.ip_range}: ${parsed.error}`));
      }
    },
  ],
  hcloud_network_subnet: [
    (c, out) => {
      // internal/network/resource_subnet.go:44 validation.StringInSlice(cloud, server, vswitch).
      if (typeof c.type === 'string' && !['cloud', 'server', 'vswitch'].includes(c.type)) {
        out.push(errorAt(['type'], `expected type to be one of ["cloud" "server" "vswitch"], got ${c.type}`));
      }
    },
  ],
  hcloud_placement_group: [
    (c, out) => {
      // internal/placementgroup/resource.go:53 type ValidateDiagFunc: only "spread".
      if (typeof c.type === 'string' && c.type !== 'spread') out.push(errorAt(['type'], `${c.type} is not a valid placement group type`));
    },
  ],
  // internal/server/resource_network.go:129 ConfigValidators: ExactlyOneOf(network_id, subnet_id).
  hcloud_server_network: [exactlyOneOf(['network_id', 'subnet_id'])],
  // internal/loadbalancer/resource_network.go:119.
  hcloud_load_balancer_network: [exactlyOneOf(['network_id', 'subnet_id'])],
  // internal/rdns/resource.go:112.
  hcloud_rdns: [exactlyOneOf(['server_id', 'primary_ip_id', 'floating_ip_id', 'load_balancer_id'])],
};

/** Resource types whose "labels" attribute has Hetzner's label validator in v1.68. */
const LABELLED = new Set([
  'hcloud_server', 'hcloud_firewall', 'hcloud_network', 'hcloud_volume', 'hcloud_floating_ip', 'hcloud_placement_group',
  'hcloud_uploaded_certificate', 'hcloud_managed_certificate', 'hcloud_certificate', 'hcloud_load_balancer',
  'hcloud_ssh_key', 'hcloud_primary_ip', 'hcloud_storage_box', 'hcloud_storage_box_subaccount', 'hcloud_storage_box_snapshot',
  'hcloud_zone', 'hcloud_zone_rrset',
]);

/** What ValidateResourceConfig answers for a resource configuration. */
export function validateResource(schema: ResourceSchema, config: Value): Diagnostic[] {
  if (!isObject(config)) return [];
  const out: Diagnostic[] = [];
  checkComputedOnly(schema.typeName, schema.shape, config, [], '', out);
  checkDeprecations(schema.typeName, config, out);
  if (LABELLED.has(schema.typeName)) checkLabels(schema.typeName, config, out);
  for (const check of RESOURCE_CHECKS[schema.typeName] ?? []) check(config, out);
  return out;
}

/** Data sources with `datasourcevalidator.ExactlyOneOf` (internal/<type>/data_source.go ConfigValidators). */
const DATA_SOURCE_ONE_OF: Record<string, string[]> = {
  hcloud_datacenter: ['id', 'name'],
  hcloud_image: ['id', 'name', 'selector', 'with_selector'],
  hcloud_load_balancer_type: ['id', 'name'],
  hcloud_location: ['id', 'name'],
  hcloud_primary_ip: ['id', 'name', 'ip_address', 'with_selector'],
  hcloud_server_type: ['id', 'name'],
  hcloud_ssh_key: ['id', 'name', 'fingerprint', 'selector', 'with_selector'],
  hcloud_storage_box: ['id', 'name', 'with_selector'],
  hcloud_storage_box_snapshot: ['id', 'name', 'with_selector'],
  hcloud_storage_box_subaccount: ['id', 'name', 'username', 'with_selector'],
  hcloud_storage_box_type: ['id', 'name'],
  hcloud_zone: ['id', 'name', 'with_selector'],
  hcloud_zone_rrset: ['id', 'name', 'with_selector'],
};

/** SDKv2 data sources whose `selector` is deprecated and conflicts with `with_selector`. */
const SDK_SELECTOR_DATA_SOURCES = new Set(['hcloud_server', 'hcloud_floating_ip', 'hcloud_volume']);

/** What ValidateDataResourceConfig answers for a data source configuration. */
export function validateDataSource(schema: ResourceSchema, config: Value): Diagnostic[] {
  if (!isObject(config)) return [];
  const out: Diagnostic[] = [];
  const typeName = schema.typeName;
  const oneOf = DATA_SOURCE_ONE_OF[typeName];
  if (oneOf) {
    // A data source block with none of them set is the framework's "no attribute specified" error.
    exactlyOneOf(oneOf.filter((a) => a in schema.shape.attributes))(config, out);
  }
  if (SDK_SELECTOR_DATA_SOURCES.has(typeName)) {
    // internal/server/data_source.go:149 (and floatingip/data_source.go:83, volume/data_source.go:75).
    if (known(config.selector)) out.push(warningAt(['selector'], 'Argument is deprecated', 'Please use the with_selector property instead.'));
    if (known(config.selector) && known(config.with_selector)) {
      out.push(errorAt(['selector'], 'Conflicting configuration arguments', '"selector": conflicts with with_selector'));
    }
  }
  return out;
}

/** A Go `time.ParseDuration` string. */
export function isGoDuration(s: string): boolean {
  return s === '0' || /^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$/.test(s);
}

/**
 * The token the SDKv2 half judges: the provider block's, else HCLOUD_TOKEN. Its DefaultFunc is
 * `schema.EnvDefaultFunc("HCLOUD_TOKEN", nil)` (hcloud/provider.go:40), which treats an empty variable as
 * unset; the SDK validates a DefaultFunc's value as if it had been configured.
 */
function sdkToken(c: Record<string, Value>, env: NodeJS.ProcessEnv): Value {
  if (c.token !== null && c.token !== undefined) return c.token;
  return env.HCLOUD_TOKEN ? env.HCLOUD_TOKEN : null;
}

/**
 * ValidateProviderConfig of the muxed provider, in the mux's order (tf6muxserver asks the framework
 * server, then the SDKv2 one, and appends every diagnostic): the framework half's poll_function OneOf
 * (hcloud/plugin_provider.go:89), then the SDKv2 half's token length (hcloud/provider.go:42) and
 * poll_function StringInSlice (:74). `env` is the environment the real provider would run in: Terraform's.
 */
export function validateProvider(config: Value, env: NodeJS.ProcessEnv = process.env): Diagnostic[] {
  const c = isObject(config) ? config : {};
  const badPollFunction = typeof c.poll_function === 'string' && !['constant', 'exponential'].includes(c.poll_function);
  const out: Diagnostic[] = [];
  if (badPollFunction) {
    out.push(errorAt(['poll_function'], 'Invalid Attribute Value Match', `Attribute poll_function value must be one of: ["\\"constant\\"" "\\"exponential\\""], got: "${c.poll_function}"`));
  }
  const token = sdkToken(c, env);
  if (typeof token === 'string' && token.length !== 64) out.push(errorAt(['token'], 'entered token is invalid (must be exactly 64 characters long)'));
  if (badPollFunction) out.push(errorAt(['poll_function'], `expected poll_function to be one of ["constant" "exponential"], got ${c.poll_function}`));
  return out;
}

/** The framework half's "Missing Hetzner Cloud API token" (hcloud/plugin_provider.go:144-156, v1.68.0). */
export const MISSING_TOKEN = {
  summary: 'Missing Hetzner Cloud API token',
  detail: 'While configuring the provider, the Hetzner Cloud API token was not found in the HCLOUD_TOKEN environment variable or provider configuration block token attribute.',
} as const;

/**
 * ConfigureProvider's refusal. tf6muxserver's ConfigureProvider asks the framework server first and
 * returns at the first error diagnostic, so the SDKv2 half (hcloud/provider.go:119, which would refuse
 * the same poll_interval) is never asked once the framework half has refused. The framework's Configure
 * (hcloud/plugin_provider.go:116) refuses, in this order:
 * - no token in the block nor in HCLOUD_TOKEN (:144-156; an empty string counts as none, and the length
 *   is the validators' business, not Configure's);
 * - a poll_interval that time.ParseDuration refuses (:165-173).
 *
 * `env` is Terraform's environment, where the real provider's os.Getenv("HCLOUD_TOKEN") reads.
 */
export function configureProviderChecks(config: Value, env: NodeJS.ProcessEnv = process.env): Diagnostic[] {
  const c = isObject(config) ? config : {};
  const configured = typeof c.token === 'string' && c.token !== '';
  if (!configured && !env.HCLOUD_TOKEN) return [errorAt(['token'], MISSING_TOKEN.summary, MISSING_TOKEN.detail)];
  if (typeof c.poll_interval === 'string' && c.poll_interval !== '' && !isGoDuration(c.poll_interval)) {
    return [errorAt(['poll_interval'], 'Unparsable poll interval value', `An unexpected error was encountered trying to parse the value.\n\ntime: invalid duration "${c.poll_interval}"`)];
  }
  return [];
}
