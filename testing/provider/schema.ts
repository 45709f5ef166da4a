import * as fs from 'fs';

/**
 * The provider schema as the stand-in works with it: one shape tree per resource, in which
 * attributes, nested blocks and nested attributes all look alike, so that the plan, apply and
 * conformance walks are written once for every depth.
 *
 * Read from the committed `terraform providers schema -json` file, the same one the bindings
 * are generated from.
 */

/** The cty type JSON of an attribute, such as "string" or ["set", "number"]. */
export type CtyType = string | [string, unknown];

/** The shape of a value: a primitive, a collection of one element shape, or an object of fields. */
export type Shape =
  | { readonly kind: 'primitive'; readonly type: 'string' | 'number' | 'bool' }
  | { readonly kind: 'collection'; readonly collection: 'list' | 'set' | 'map'; readonly element: Shape }
  | { readonly kind: 'object'; readonly attributes: Readonly<Record<string, Field>> };

/** One attribute (or nested block) of an object shape. */
export interface Field {
  readonly shape: Shape;
  readonly required: boolean;
  readonly optional: boolean;
  readonly computed: boolean;
  readonly sensitive: boolean;
  /** A nested block rather than an attribute: never computed as a whole, never null when a list/set. */
  readonly block?: { readonly nesting: 'single' | 'list' | 'set' | 'map'; readonly minItems?: number; readonly maxItems?: number };
}

/** One resource type, data source or the provider block, as the stand-in works with it. */
export interface ResourceSchema {
  readonly typeName: string;
  readonly version: number;
  /** The whole object: the resource's top-level attributes and blocks. */
  readonly shape: Shape & { kind: 'object' };
  /** The schema as it appears in the JSON file, served as is. */
  readonly json: SchemaJson;
}

/** The whole provider schema: the provider block, every resource type, every data source and every function. */
export interface ProviderSchema {
  readonly provider: ResourceSchema;
  readonly resources: ReadonlyMap<string, ResourceSchema>;
  readonly dataSources: ReadonlyMap<string, ResourceSchema>;
  /** Provider-defined functions by name, as the file has them (checked where they are served: functions/provider-functions.ts). */
  readonly functions: Readonly<Record<string, FunctionJson>>;
}

/**
 * One parameter of a provider-defined function as Terraform >= 1.8 prints it
 * (hashicorp/terraform v1.11.4 internal/command/jsonfunction/parameter.go:13-27).
 */
export interface FunctionParameterJson {
  /**
   * The parameter's name.
   * @default - unnamed
   */
  name?: string;
  /**
   * The parameter's description.
   * @default - none
   */
  description?: string;
  /**
   * The protocol's allow_null_value; printed only when true.
   * @default false
   */
  is_nullable?: boolean;
  /** The parameter's cty type. */
  type: CtyType;
}

/**
 * A provider-defined function's signature in `terraform providers schema -json`
 * (hashicorp/terraform v1.11.4 internal/command/jsonfunction/function.go:25-48). Unlike blocks it has
 * no description_kind: the kind is lost in the JSON.
 */
export interface FunctionJson {
  /**
   * The full description.
   * @default - none
   */
  description?: string;
  /**
   * A one-line summary.
   * @default - none
   */
  summary?: string;
  /**
   * Why the function is deprecated.
   * @default - not deprecated
   */
  deprecation_message?: string;
  /** The result's cty type. */
  return_type: CtyType;
  /**
   * The positional parameters.
   * @default - none
   */
  parameters?: FunctionParameterJson[];
  /**
   * A final parameter taking zero or more arguments.
   * @default - none
   */
  variadic_parameter?: FunctionParameterJson;
}

/** `terraform providers schema -json` block format. */
export interface BlockJson {
  attributes?: Record<string, AttributeJson>;
  block_types?: Record<string, { nesting_mode: string; block: BlockJson; min_items?: number; max_items?: number }>;
  description?: string;
  description_kind?: string;
  deprecated?: boolean;
}

/** `terraform providers schema -json` attribute format. */
export interface AttributeJson {
  type?: CtyType;
  nested_type?: { attributes: Record<string, AttributeJson>; nesting_mode: string };
  description?: string;
  description_kind?: string;
  required?: boolean;
  optional?: boolean;
  computed?: boolean;
  sensitive?: boolean;
  deprecated?: boolean;
  write_only?: boolean;
}

/** One schema entry of `terraform providers schema -json`: a version and a block. */
export interface SchemaJson {
  version?: number;
  block: BlockJson;
}

/** A schema entry that cannot be served, with the resource and attribute it is in. */
export class SchemaError extends Error {
  constructor(public readonly where: string, message: string) {
    super(`${where}: ${message}`);
    this.name = 'SchemaError';
  }
}

const PRIMITIVES = new Set(['string', 'number', 'bool']);
const COLLECTIONS = new Set(['list', 'set', 'map']);
const NESTINGS = new Set(['single', 'list', 'set', 'map']);

/** Turns cty type JSON into a shape; attributes of object types are computed when their parent is. */
export function shapeOfType(type: unknown, where: string, computed = false): Shape {
  if (typeof type === 'string') {
    if (PRIMITIVES.has(type)) return { kind: 'primitive', type: type as 'string' | 'number' | 'bool' };
    throw new SchemaError(where, `type ${JSON.stringify(type)} is not a Terraform type the stand-in serves (string, number, bool, list, set, map, object)`);
  }
  if (Array.isArray(type) && type.length === 2 && typeof type[0] === 'string') {
    const [kind, inner] = type;
    if (COLLECTIONS.has(kind)) {
      return { kind: 'collection', collection: kind as 'list' | 'set' | 'map', element: shapeOfType(inner, `${where}[*]`, computed) };
    }
    if (kind === 'object' && inner && typeof inner === 'object' && !Array.isArray(inner)) {
      const attributes: Record<string, Field> = {};
      for (const [name, t] of Object.entries(inner as Record<string, unknown>)) {
        attributes[name] = { shape: shapeOfType(t, `${where}.${name}`, computed), required: false, optional: !computed, computed, sensitive: false };
      }
      return { kind: 'object', attributes };
    }
  }
  throw new SchemaError(where, `type ${JSON.stringify(type)} is not a Terraform type the stand-in serves (string, number, bool, list, set, map, object)`);
}

function nestingShape(nesting: string, object: Shape, where: string): Shape {
  if (!NESTINGS.has(nesting)) throw new SchemaError(where, `nesting mode ${JSON.stringify(nesting)} is not one of single, list, set, map`);
  return nesting === 'single' ? object : { kind: 'collection', collection: nesting as 'list' | 'set' | 'map', element: object };
}

function attributeField(a: AttributeJson, where: string): Field {
  if (!a || typeof a !== 'object') throw new SchemaError(where, 'the attribute is not an object');
  if (!a.required && !a.optional && !a.computed) throw new SchemaError(where, 'the attribute is neither required, optional nor computed');
  if (a.required && a.computed) throw new SchemaError(where, 'the attribute is both required and computed');
  const computed = !!a.computed;
  let shape: Shape;
  if (a.nested_type) {
    const attributes: Record<string, Field> = {};
    for (const [name, inner] of Object.entries(a.nested_type.attributes ?? {})) attributes[name] = attributeField(inner, `${where}.${name}`);
    shape = nestingShape(a.nested_type.nesting_mode, { kind: 'object', attributes }, where);
  } else if (a.type !== undefined) {
    shape = shapeOfType(a.type, where, computed);
  } else {
    throw new SchemaError(where, 'the attribute has neither a type nor a nested_type');
  }
  return { shape, required: !!a.required, optional: !!a.optional, computed, sensitive: !!a.sensitive };
}

/** The object shape of a block, with its nested blocks as fields. */
export function blockShape(block: BlockJson, where: string): Shape & { kind: 'object' } {
  if (!block || typeof block !== 'object') throw new SchemaError(where, 'the block is not an object');
  const attributes: Record<string, Field> = {};
  for (const [name, a] of Object.entries(block.attributes ?? {})) attributes[name] = attributeField(a, `${where}.${name}`);
  for (const [name, b] of Object.entries(block.block_types ?? {})) {
    const inner = blockShape(b.block, `${where}.${name}`);
    attributes[name] = {
      shape: nestingShape(b.nesting_mode, inner, `${where}.${name}`),
      required: false, optional: true, computed: false, sensitive: false,
      block: { nesting: b.nesting_mode as 'single' | 'list' | 'set' | 'map', minItems: b.min_items, maxItems: b.max_items },
    };
  }
  return { kind: 'object', attributes };
}

function resourceSchema(typeName: string, json: SchemaJson): ResourceSchema {
  if (!json || typeof json !== 'object' || !json.block) throw new SchemaError(typeName, 'the schema has no block');
  return { typeName, version: json.version ?? 0, shape: blockShape(json.block, typeName), json };
}

/** The provider's address in the schema file. */
export const PROVIDER_ADDRESS = 'registry.terraform.io/hetznercloud/hcloud';

/**
 * Reads the schema file. Entries that cannot be served are collected, not thrown, so that the
 * rest of the schema still works and GetProviderSchema can name each broken attribute.
 */
export function loadProviderSchema(file: string): { schema: ProviderSchema; errors: SchemaError[] } {
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  const entry = doc?.provider_schemas?.[PROVIDER_ADDRESS];
  if (!entry) throw new SchemaError(file, `no provider_schemas["${PROVIDER_ADDRESS}"] entry`);
  const errors: SchemaError[] = [];
  const collect = (source: Record<string, SchemaJson>): Map<string, ResourceSchema> => {
    const out = new Map<string, ResourceSchema>();
    for (const [name, json] of Object.entries(source ?? {})) {
      try {
        out.set(name, resourceSchema(name, json));
      } catch (e) {
        if (e instanceof SchemaError) errors.push(e);
        else throw e;
      }
    }
    return out;
  };
  let provider: ResourceSchema;
  try {
    provider = resourceSchema('provider', entry.provider);
  } catch (e) {
    if (!(e instanceof SchemaError)) throw e;
    errors.push(e);
    provider = resourceSchema('provider', { block: {} });
  }
  return {
    schema: { provider, resources: collect(entry.resource_schemas), dataSources: collect(entry.data_source_schemas), functions: entry.functions ?? {} },
    errors,
  };
}
