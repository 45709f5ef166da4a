import * as fs from 'fs';
import * as path from 'path';
import { fileURLToPath } from 'url';
import { ApiError, apiErrorDiagnostic, ProviderError } from './cloud/api-error';
import { readDataSource } from './cloud/data-sources';
import { SimulatedCloud } from './cloud/simulated-cloud';
import { CloudStore } from './cloud/store';
import { applyDefaults, plansSdkDefaults } from './defaults';
import { Diagnostic } from './diagnostics';
import { ProviderFunctions } from './functions/provider-functions';
import { endpointFileIn, peerEndpoint, peerEnvironment } from './peer-environment';
import { markComputedUnknown, replacementPaths } from './plan';
import { AttributeJson, BlockJson, loadProviderSchema, PROVIDER_ADDRESS, ProviderSchema, ResourceSchema, SchemaError } from './schema';
import { applyStoredForms, hasStateFuncs, planStoredForms } from './state-funcs';
import { configureProviderChecks, validateDataSource, validateProvider, validateResource } from './validators';
import {
  conform, decodeDynamic, DynamicValue, encodeDynamic, filterToSchema, isObject, ObjectValue, unknownValue, Value, ValueError,
} from './values';

/** Where the stand-in reads its facts from. */
export interface ServiceOptions {
  /** `terraform providers schema -json` output for hcloud. */
  readonly schemaFile: string;
  /** Arguments that force replacement, per resource type. */
  readonly replacementFile: string;
  /** The cloud file used when neither the provider's `endpoint` nor HCLOUD_ENDPOINT names one. */
  readonly defaultCloudFile: string;
  /** Appends one line per RPC (name, type, milliseconds) to this file. */
  readonly traceFile?: string;
}


type Handler = (request: any, peer: string) => Record<string, unknown>;

/**
 * The environment the real provider would read HCLOUD_TOKEN from: that of the Terraform process on the
 * other end of the connection (a reattached stand-in was started by someone else), or, where that
 * cannot be read, the plugin's own (which Terraform passes on when it launches the plugin).
 */
function terraformEnvironment(peer: string): NodeJS.ProcessEnv {
  return peerEnvironment(peer) ?? process.env;
}

/** The file a `file://` endpoint names, or undefined for any other endpoint. */
export function cloudFileFromEndpoint(endpoint: unknown): string | undefined {
  if (typeof endpoint !== 'string' || !endpoint.startsWith('file:')) return undefined;
  return fileURLToPath(endpoint);
}

/**
 * The tfplugin6 Provider service of the Hetzner stand-in: schema from the committed JSON,
 * plans from the schema and the replacement list, applies against the simulated cloud.
 *
 * No handler ever throws to gRPC: every failure, including a malformed message from Terraform,
 * becomes a diagnostic that names the RPC, the resource type and the attribute.
 */
export class ProviderService {
  public readonly schema: ProviderSchema;
  private readonly schemaErrors: SchemaError[];
  private readonly forceNew: Record<string, string[]>;
  private readonly schemaResponse: Record<string, unknown>;
  /** Provider-defined functions (`provider::hcloud::idna`, `provider::hcloud::txt_record`). */
  private readonly functions: ProviderFunctions;
  /** The cloud file each Terraform connection configured (reattach mode serves many workspaces). */
  private readonly cloudByPeer = new Map<string, string>();
  private lastCloudFile?: string;

  constructor(private readonly options: ServiceOptions) {
    const { schema, errors } = loadProviderSchema(options.schemaFile);
    this.schema = schema;
    this.functions = new ProviderFunctions(schema.functions);
    this.schemaErrors = [...errors, ...this.functions.errors];
    this.forceNew = JSON.parse(fs.readFileSync(options.replacementFile, 'utf8')).forceNew ?? {};
    this.schemaResponse = this.buildSchemaResponse();
  }

  /** The gRPC method implementations, by method name. */
  public handlers(): Record<string, (call: any, callback: (err: unknown, response?: unknown) => void) => void> {
    const rpcs: Record<string, Handler> = {
      GetMetadata: () => this.getMetadata(),
      GetProviderSchema: () => this.schemaResponse,
      ValidateProviderConfig: (r, peer) => this.validateProviderConfig(r, peer),
      ValidateResourceConfig: (r) => this.validateResourceConfig(r),
      ValidateDataResourceConfig: (r) => this.validateDataResourceConfig(r),
      UpgradeResourceState: (r) => this.upgradeResourceState(r),
      ConfigureProvider: (r, peer) => this.configureProvider(r, peer),
      ReadResource: (r, peer) => this.readResource(r, peer),
      PlanResourceChange: (r) => this.planResourceChange(r),
      ApplyResourceChange: (r, peer) => this.applyResourceChange(r, peer),
      ImportResourceState: (r) => this.importResourceState(r),
      MoveResourceState: (r) => this.moveResourceState(r),
      ReadDataSource: (r, peer) => this.readDataSource(r, peer),
      GetFunctions: () => ({ functions: this.functions.protoFunctions(), diagnostics: [] }),
      CallFunction: (r) => ({ ...this.functions.call(r) }),
      StopProvider: () => ({}),
    };
    return Object.fromEntries(Object.entries(rpcs).map(([name, handler]) => [name, (call: any, callback: (err: unknown, response?: unknown) => void) => {
      const started = process.hrtime.bigint();
      let response: Record<string, unknown>;
      try {
        response = handler(call.request ?? {}, String(call.getPeer?.() ?? ''));
      } catch (e) {
        response = { diagnostics: [toDiagnostic(e, name, call.request?.type_name ?? call.request?.target_type_name)] };
      }
      this.trace(name, call.request?.type_name, started);
      callback(null, response);
    }]));
  }

  private trace(rpc: string, typeName: string | undefined, started: bigint): void {
    if (!this.options.traceFile) return;
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    fs.appendFileSync(this.options.traceFile, `${new Date().toISOString()} ${process.pid} ${rpc} ${typeName ?? '-'} ${ms.toFixed(2)}\n`);
  }

  private resource(typeName: string): ResourceSchema {
    const r = this.schema.resources.get(typeName);
    if (!r) throw new ProviderError(`Unknown resource type ${typeName}`, `The hcloud 1.68.0 schema served by the stand-in has no resource type "${typeName}".`);
    return r;
  }

  private dataSource(typeName: string): ResourceSchema {
    const r = this.schema.dataSources.get(typeName);
    if (!r) throw new ProviderError(`Unknown data source ${typeName}`, `The hcloud 1.68.0 schema served by the stand-in has no data source "${typeName}".`);
    return r;
  }

  private cloud(peer: string): SimulatedCloud {
    const file = this.cloudByPeer.get(peer) ?? this.lastCloudFile ?? cloudFileFromEndpoint(process.env.HCLOUD_ENDPOINT) ?? this.options.defaultCloudFile;
    return new SimulatedCloud(new CloudStore(file));
  }

  /** Decodes a value sent by Terraform and checks it against the schema. */
  private value(dv: DynamicValue | undefined, r: ResourceSchema, what: string): Value {
    const raw = decodeDynamic(dv, `${r.typeName} (${what})`);
    return conform(raw, r.shape, r.typeName);
  }

  private getMetadata(): Record<string, unknown> {
    return {
      server_capabilities: { plan_destroy: true, get_provider_schema_optional: false, move_resource_state: true },
      diagnostics: [],
      resources: [...this.schema.resources.keys()].map((type_name) => ({ type_name })),
      data_sources: [...this.schema.dataSources.keys()].map((type_name) => ({ type_name })),
      functions: this.functions.names().map((name) => ({ name })),
    };
  }

  private buildSchemaResponse(): Record<string, unknown> {
    const convert = (r: ResourceSchema) => ({ version: r.version, block: protoBlock(r.json.block, r.version) });
    return {
      provider: convert(this.schema.provider),
      resource_schemas: Object.fromEntries([...this.schema.resources].map(([k, r]) => [k, convert(r)])),
      data_source_schemas: Object.fromEntries([...this.schema.dataSources].map(([k, r]) => [k, convert(r)])),
      server_capabilities: { plan_destroy: true, get_provider_schema_optional: false, move_resource_state: true },
      functions: this.functions.protoFunctions(),
      diagnostics: this.schemaErrors.map((e) => ({
        severity: 'ERROR',
        summary: `The Hetzner stand-in cannot serve the schema of ${e.where}`,
        detail: `${e.message}. The schema file is ${this.options.schemaFile}; fix the entry there (it must be \`terraform providers schema -json\` output).`,
      })),
    };
  }

  private validateProviderConfig(r: { config?: DynamicValue }, peer: string): Record<string, unknown> {
    const config = this.value(r.config, this.schema.provider, 'provider config');
    return { diagnostics: validateProvider(config, terraformEnvironment(peer)) };
  }

  private validateResourceConfig(r: { type_name: string; config?: DynamicValue }): Record<string, unknown> {
    const schema = this.resource(r.type_name);
    return { diagnostics: validateResource(schema, this.value(r.config, schema, 'config')) };
  }

  private validateDataResourceConfig(r: { type_name: string; config?: DynamicValue }): Record<string, unknown> {
    const schema = this.dataSource(r.type_name);
    return { diagnostics: validateDataSource(schema, this.value(r.config, schema, 'config')) };
  }

  private configureProvider(r: { config?: DynamicValue }, peer: string): Record<string, unknown> {
    const config = this.value(r.config, this.schema.provider, 'provider config');
    const endpoint = isObject(config) ? config.endpoint : null;
    // The provider block's endpoint, else the HCLOUD_ENDPOINT of the Terraform process talking to us
    // (a reattached daemon serves many), else the plugin's own environment.
    // A plugin Terraform launched runs in Terraform's directory: the endpoint file there comes first.
    const file = cloudFileFromEndpoint(endpoint) ?? cloudFileFromEndpoint(endpointFileIn(process.cwd())) ?? cloudFileFromEndpoint(peerEndpoint(peer))
      ?? cloudFileFromEndpoint(process.env.HCLOUD_ENDPOINT) ?? this.options.defaultCloudFile;
    this.cloudByPeer.set(peer, path.resolve(file));
    this.lastCloudFile = path.resolve(file);
    return { diagnostics: configureProviderChecks(config, terraformEnvironment(peer)) };
  }

  private upgradeResourceState(r: { type_name: string; version?: number; raw_state?: { json?: Buffer; flatmap?: Record<string, string> } }): Record<string, unknown> {
    const schema = this.resource(r.type_name);
    const json = r.raw_state?.json;
    if (!json || json.length === 0) {
      if (r.raw_state?.flatmap && Object.keys(r.raw_state.flatmap).length > 0) {
        throw new ProviderError(`${r.type_name}: state in the legacy flatmap format cannot be upgraded by the stand-in`, 'Refresh the state with a Terraform >= 0.12 and hcloud provider first.');
      }
      return { upgraded_state: encodeDynamic(null), diagnostics: [] };
    }
    let raw: unknown;
    try {
      raw = JSON.parse(Buffer.from(json).toString('utf8'));
    } catch (e) {
      throw new ValueError(`${r.type_name} (raw_state)`, `the stored state is not JSON (${(e as Error).message})`);
    }
    const upgraded = conform(filterToSchema(raw, schema.shape), schema.shape, r.type_name);
    return { upgraded_state: encodeDynamic(upgraded), diagnostics: [] };
  }

  private readResource(r: { type_name: string; current_state?: DynamicValue; private?: Buffer }, peer: string): Record<string, unknown> {
    const schema = this.resource(r.type_name);
    const current = this.value(r.current_state, schema, 'current_state');
    if (!isObject(current)) return { new_state: encodeDynamic(null), diagnostics: [], private: r.private };
    const found = this.cloud(peer).read(schema, current.id ?? null);
    return { new_state: encodeDynamic(found), diagnostics: [], private: r.private };
  }

  private planResourceChange(r: { type_name: string; prior_state?: DynamicValue; proposed_new_state?: DynamicValue; config?: DynamicValue; prior_private?: Buffer }): Record<string, unknown> {
    const schema = this.resource(r.type_name);
    const prior = this.value(r.prior_state, schema, 'prior_state');
    const proposed = this.value(r.proposed_new_state, schema, 'proposed_new_state');
    const config = this.value(r.config, schema, 'config');
    if (!isObject(proposed)) return { planned_state: encodeDynamic(null), requires_replace: [], planned_private: r.prior_private, diagnostics: [] };
    const diagnostics = planChecks(r.type_name, config);
    // Arguments kept in state in another form (user_data as a hash) are planned in that form.
    const forms = planStoredForms(r.type_name, prior, proposed);
    // Arguments the configuration leaves out are planned with the provider's defaults.
    const withDefaults = (v: ObjectValue) => applyDefaults(r.type_name, v, config);
    const stored = withDefaults(forms.planned);
    const compared = withDefaults(forms.compared);
    const legacy = legacyTypeSystem(r.type_name);
    if (!isObject(prior)) {
      return { planned_state: encodeDynamic(withDefaults(markComputedUnknown(schema.shape, stored, config))), requires_replace: [], planned_private: r.prior_private, diagnostics, ...legacy };
    }
    const replace = replacementPaths(schema.shape, prior, compared, this.forceNew[r.type_name] ?? []);
    const planned = replace.length > 0 ? withDefaults(markComputedUnknown(schema.shape, stored, config)) : inPlaceUpdate(r.type_name, prior, compared);
    return { planned_state: encodeDynamic(planned), requires_replace: replace.map((steps) => ({ steps })), planned_private: r.prior_private, diagnostics, ...legacy };
  }

  private applyResourceChange(r: { type_name: string; prior_state?: DynamicValue; planned_state?: DynamicValue; config?: DynamicValue; planned_private?: Buffer }, peer: string): Record<string, unknown> {
    const schema = this.resource(r.type_name);
    const prior = this.value(r.prior_state, schema, 'prior_state');
    const planned = this.value(r.planned_state, schema, 'planned_state');
    const cloud = this.cloud(peer);
    const respond = (state: Value, e?: unknown) => ({
      new_state: encodeDynamic(state), private: r.planned_private, diagnostics: e === undefined ? [] : [toDiagnostic(e, 'ApplyResourceChange', r.type_name)],
      ...legacyTypeSystem(r.type_name),
    });
    if (!isObject(planned)) {
      if (!isObject(prior)) return respond(null);
      try {
        cloud.delete(schema, prior);
        return respond(null);
      } catch (e) {
        return respond(prior, e);
      }
    }
    const config = this.value(r.config, schema, 'config');
    const resolved = applyStoredForms(r.type_name, planned, config);
    try {
      // The create request carries the configured text of arguments that state keeps only hashed.
      if (isObject(prior)) return respond(cloud.update(schema, prior, resolved));
      const created = cloud.create(schema, resolved, isObject(config) ? config : {});
      try {
        cloud.afterCreate(schema, created);
      } catch (e) {
        return respond(created, e);
      }
      return respond(created);
    } catch (e) {
      return respond(isObject(prior) ? prior : null, e);
    }
  }

  private importResourceState(r: { type_name: string; id: string }): Record<string, unknown> {
    const schema = this.resource(r.type_name);
    // Like the provider's passthrough importer: the ID alone, then ReadResource fills the rest
    // (and Terraform reports a missing object as "Cannot import non-existent remote object").
    const idField = schema.shape.attributes.id;
    const id = idField?.shape.kind === 'primitive' && idField.shape.type === 'number' ? Number(r.id) : r.id;
    if (typeof id === 'number' && Number.isNaN(id)) throw new ProviderError(`${r.type_name}: import ID "${r.id}" is not a number`, '', 'id');
    const state: ObjectValue = Object.fromEntries(Object.keys(schema.shape.attributes).map((k) => [k, null]));
    state.id = id;
    return { imported_resources: [{ type_name: r.type_name, state: encodeDynamic(state) }], diagnostics: [] };
  }

  private moveResourceState(r: { source_provider_address: string; source_type_name: string; target_type_name: string; source_state?: { json?: Buffer }; source_private?: Buffer }): Record<string, unknown> {
    const target = this.resource(r.target_type_name);
    const sameProvider = r.source_provider_address === PROVIDER_ADDRESS || r.source_provider_address.endsWith('/hetznercloud/hcloud');
    if (!sameProvider || r.source_type_name !== r.target_type_name) {
      throw new ProviderError('Unsupported resource move',
        `The hcloud provider cannot move ${r.source_provider_address} ${r.source_type_name} to ${r.target_type_name}; only a resource of the same type can be moved.`);
    }
    const raw = JSON.parse(Buffer.from(r.source_state?.json ?? Buffer.from('null')).toString('utf8'));
    const state = conform(filterToSchema(raw, target.shape), target.shape, r.target_type_name);
    return { target_state: encodeDynamic(state), target_private: r.source_private, diagnostics: [] };
  }

  private readDataSource(r: { type_name: string; config?: DynamicValue }, peer: string): Record<string, unknown> {
    const schema = this.dataSource(r.type_name);
    const config = this.value(r.config, schema, 'config');
    if (!isObject(config)) throw new ValueError(r.type_name, 'the data source configuration is null');
    return { state: encodeDynamic(readDataSource(schema, config, this.cloud(peer))), diagnostics: [] };
  }
}

/**
 * SDKv2 resources answer PlanResourceChange and ApplyResourceChange with `legacy_type_system`,
 * which lets a planned value differ from the configured one (a StateFunc's hash, an SDKv2 Default).
 * The stand-in sets it only where it plans such a value, so Terraform keeps checking every other
 * resource strictly.
 */
function legacyTypeSystem(typeName: string): { legacy_type_system?: true } {
  return hasStateFuncs(typeName) || plansSdkDefaults(typeName) ? { legacy_type_system: true } : {};
}

function error(summary: string, detail: string, attribute?: string): Diagnostic {
  return { severity: 'ERROR', summary, detail, attribute: attribute ? { steps: [{ attribute_name: attribute }] } : undefined };
}

/** Checks the real provider makes while planning (SDKv2 CustomizeDiff). */
function planChecks(typeName: string, config: Value): Diagnostic[] {
  if (typeName !== 'hcloud_server' || !isObject(config) || !Array.isArray(config.network)) return [];
  for (const n of config.network) {
    if (isObject(n) && n.network_id === null && n.subnet_id === null) return [error('must specify either network_id or subnet_id', '', 'network')];
  }
  return [];
}

/** An in-place update keeps what the cloud said, except values the change itself decides anew. */
function inPlaceUpdate(typeName: string, prior: ObjectValue, proposed: ObjectValue): ObjectValue {
  const planned = { ...proposed };
  if (typeName === 'hcloud_server' && proposed.server_type !== prior.server_type && proposed.keep_disk !== true) {
    planned.primary_disk_size = unknownValue(); // a rescale without keep_disk grows the disk
  }
  if (typeName === 'hcloud_server' && proposed.backups !== prior.backups) planned.backup_window = unknownValue();
  return planned;
}

/** Turns any failure into a diagnostic: never a gRPC error, never a stack trace. */
function toDiagnostic(e: unknown, rpc: string, typeName: string | undefined): Diagnostic {
  const where = typeName ?? 'provider';
  if (e instanceof ApiError) {
    const d = apiErrorDiagnostic(where, e);
    return { severity: 'ERROR', summary: d.summary, detail: d.detail, attribute: d.attribute ? { steps: [{ attribute_name: d.attribute }] } : undefined };
  }
  if (e instanceof ProviderError) {
    return { severity: e.warning ? 'WARNING' : 'ERROR', summary: e.summary, detail: e.detail, attribute: e.attribute ? { steps: [{ attribute_name: e.attribute }] } : undefined };
  }
  if (e instanceof ValueError) {
    const attribute = e.path.split('.').slice(1).filter((s) => /^[a-z_][a-z0-9_]*$/.test(s));
    return {
      severity: 'ERROR',
      summary: `Malformed value for ${e.path} in ${rpc}`,
      detail: `The Hetzner stand-in could not use what Terraform sent for ${where}: ${e.path}: ${e.problem}.`,
      attribute: attribute.length > 0 ? { steps: attribute.map((attribute_name) => ({ attribute_name })) } : undefined,
    };
  }
  if (e instanceof SchemaError) return { severity: 'ERROR', summary: `Schema error in ${e.where}`, detail: e.message };
  return {
    severity: 'ERROR',
    summary: `Internal error in the Hetzner stand-in (${rpc}, ${where})`,
    detail: e instanceof Error ? e.message : String(e),
  };
}

function protoBlock(b: BlockJson, version = 0): Record<string, unknown> {
  return {
    version,
    attributes: Object.entries(b.attributes ?? {}).sort(([a], [c]) => a.localeCompare(c)).map(([name, a]) => protoAttribute(name, a)),
    block_types: Object.entries(b.block_types ?? {}).sort(([a], [c]) => a.localeCompare(c)).map(([type_name, nb]) => ({
      type_name,
      block: protoBlock(nb.block),
      nesting: nb.nesting_mode.toUpperCase(),
      min_items: nb.min_items ?? 0,
      max_items: nb.max_items ?? 0,
    })),
    description: b.description ?? '',
    description_kind: b.description_kind === 'markdown' ? 'MARKDOWN' : 'PLAIN',
    deprecated: !!b.deprecated,
  };
}

function protoAttribute(name: string, a: AttributeJson): Record<string, unknown> {
  return {
    name,
    type: a.type !== undefined ? Buffer.from(JSON.stringify(a.type)) : undefined,
    nested_type: a.nested_type ? {
      attributes: Object.entries(a.nested_type.attributes).sort(([x], [y]) => x.localeCompare(y)).map(([n, inner]) => protoAttribute(n, inner)),
      nesting: a.nested_type.nesting_mode.toUpperCase(),
    } : undefined,
    description: a.description ?? '',
    required: !!a.required,
    optional: !!a.optional,
    computed: !!a.computed,
    sensitive: !!a.sensitive,
    description_kind: a.description_kind === 'markdown' ? 'MARKDOWN' : 'PLAIN',
    deprecated: !!a.deprecated,
    write_only: !!a.write_only,
  };
}
