import { Field, ResourceSchema, Shape } from '../schema';
import { cloneValue, conform, filterToSchema, isObject, isUnknown, ObjectValue, Value } from '../values';
import { ApiError } from './api-error';
import { behaviourOf, FillContext, Generator, objectsOf } from './behaviours';
import { CloudState, CloudStore } from './store';

type ObjectShape = Shape & { kind: 'object' };

/**
 * A Hetzner Cloud project simulated in a file: creates, updates, deletes and reads objects the way
 * the API would, refusing what it would refuse. The schema drives everything generic; the
 * behaviours add what is particular to a resource type.
 */
export class SimulatedCloud {
  constructor(public readonly store: CloudStore) {}

  /**
   * Creates an object from its planned state: fills every unknown value, stores it, returns it.
   * `config` is the resource's configuration: the create request also carries what the state
   * keeps only in another form (the user_data text, of which state and cloud keep a hash).
   */
  public create(schema: ResourceSchema, planned: ObjectValue, config: ObjectValue = {}): ObjectValue {
    const behaviour = behaviourOf(schema.typeName);
    return this.store.update((state) => {
      behaviour.checkCreate?.(knownOnly(planned), state, knownOnly(config));
      this.checkUniqueName(schema.typeName, planned, state, undefined);
      const id = state.nextId++;
      const object = fill(schema.shape, planned, { state, typeName: schema.typeName, id, object: planned, element: planned }, behaviour.generators ?? {}, '');
      if (object.id === null || object.id === undefined) object.id = String(id);
      const key = String(object.id);
      objectsOf(state, schema.typeName)[key] = object;
      behaviour.afterWrite?.(object, state, null);
      return cloneValue(object);
    });
  }

  /**
   * Calls the provider makes right after a create (server protection): a refusal there leaves the
   * object created, and Terraform keeps it as tainted.
   */
  public afterCreate(schema: ResourceSchema, created: ObjectValue): void {
    behaviourOf(schema.typeName).checkAfterCreate?.(created);
  }

  /** Applies an in-place update; the object keeps its ID. */
  public update(schema: ResourceSchema, prior: ObjectValue, planned: ObjectValue): ObjectValue {
    const behaviour = behaviourOf(schema.typeName);
    // A refusal is returned, not thrown, so that what happened before it (a power-off) is stored.
    const result = this.store.update((state): { object: ObjectValue } | { refusal: unknown } => {
      const key = String(prior.id);
      const existing = objectsOf(state, schema.typeName)[key];
      if (!existing) throw new ApiError('not_found', `${behaviour.noun} with ID ${key} not found`);
      try {
        behaviour.checkUpdate?.(prior, knownOnly(planned), state);
        this.checkUniqueName(schema.typeName, planned, state, key);
      } catch (refusal) {
        // hcloud v1.68 powers a running server off before change_type (internal/server/resource.go resourceServerUpdate)
        // and returns on the API's refusal without powering it on again: a refused rescale leaves the server off.
        const aboutType = refusal instanceof ApiError && refusal.attribute === 'server_type';
        if (schema.typeName === 'hcloud_server' && planned.server_type !== prior.server_type && aboutType) existing.status = 'off';
        return { refusal };
      }
      const id = Number(prior.id) || 0;
      const object = fill(schema.shape, planned, { state, typeName: schema.typeName, id, object: planned, element: planned }, behaviour.generators ?? {}, '');
      objectsOf(state, schema.typeName)[key] = object;
      behaviour.afterWrite?.(object, state, existing);
      return { object: cloneValue(object) };
    });
    if ('refusal' in result) throw result.refusal;
    return result.object;
  }

  /** Deletes an object, unless the API refuses (delete protection). A missing object is fine. */
  public delete(schema: ResourceSchema, prior: ObjectValue): void {
    const behaviour = behaviourOf(schema.typeName);
    // A refusal is returned, not thrown, so that what happened before it (a shutdown) is stored.
    const refusal = this.store.update((state): ApiError | undefined => {
      const key = String(prior.id);
      const existing = objectsOf(state, schema.typeName)[key];
      if (!existing) return undefined;
      // hcloud v1.68 shuts a server with shutdown_before_deletion down first (internal/server/resource.go:932),
      // whether or not the delete that follows is refused: a protected server stays off.
      if (schema.typeName === 'hcloud_server' && prior.shutdown_before_deletion === true) existing.status = 'off';
      // hcloud v1.68 deletes servers, volumes, primary IPs, networks, load balancers, ... without
      // lifting their protection first, so the API refuses; only the Storage Box unprotects itself.
      if (existing.delete_protection === true && !behaviour.unprotectsBeforeDelete) {
        return new ApiError('protected', `${behaviour.noun} deletion is protected`, undefined, 'delete_protection');
      }
      delete objectsOf(state, schema.typeName)[key];
      behaviour.afterDelete?.(existing, state);
      return undefined;
    });
    if (refusal) throw refusal;
  }

  /** The object as the API shows it now, or null if it is gone. */
  public read(schema: ResourceSchema, id: Value): ObjectValue | null {
    if (id === null || isUnknown(id)) return null;
    const found = this.store.read().objects[schema.typeName]?.[String(id)];
    return found ? (conform(filterToSchema(found, schema.shape), schema.shape, schema.typeName) as ObjectValue) : null;
  }

  /** Every object of a type (for data sources). */
  public all(typeName: string): ObjectValue[] {
    return Object.values(this.store.read().objects[typeName] ?? {});
  }

  private checkUniqueName(typeName: string, o: ObjectValue, state: CloudState, selfKey: string | undefined): void {
    const behaviour = behaviourOf(typeName);
    if (!behaviour.uniqueName || typeof o.name !== 'string') return;
    for (const [key, other] of Object.entries(objectsOf(state, typeName))) {
      if (key !== selfKey && other.name === o.name) {
        throw new ApiError('uniqueness_error', `${behaviour.noun} name is already used`, undefined, 'name');
      }
    }
  }
}

/** The planned object with values still to be decided by the cloud read as absent, for the checks. */
function knownOnly(v: ObjectValue): ObjectValue {
  const strip = (x: Value): Value => {
    if (isUnknown(x)) return null;
    if (Array.isArray(x)) return x.map(strip);
    if (isObject(x)) return Object.fromEntries(Object.entries(x).map(([k, e]) => [k, strip(e)]));
    return x;
  };
  return strip(v) as ObjectValue;
}

/**
 * Replaces every unknown value with what the cloud decides: a behaviour's generator for that
 * path, or a neutral value of the attribute's type. Known values are never changed (Terraform
 * rejects a provider that changes a planned value).
 */
function fill(shape: ObjectShape, value: ObjectValue, ctx: FillContext, generators: Readonly<Record<string, Generator>>, prefix: string): ObjectValue {
  const out: ObjectValue = { ...value };
  const here: FillContext = prefix === '' ? { ...ctx, object: out, element: out } : { ...ctx, element: out };
  for (const [name, field] of Object.entries(shape.attributes)) {
    const key = prefix === '' ? name : `${prefix}.${name}`;
    let v = out[name] ?? null;
    if (isUnknown(v)) v = materialize(field, key, here, generators);
    out[name] = fillNested(field.shape, v, here, generators, key);
  }
  return out;
}

function materialize(field: Field, key: string, ctx: FillContext, generators: Readonly<Record<string, Generator>>): Value {
  if (key === 'id') {
    const generated = generators.id?.(ctx);
    if (generated !== undefined) return generated;
    const idShape = field.shape;
    return idShape.kind === 'primitive' && idShape.type === 'number' ? ctx.id : String(ctx.id);
  }
  const generated = generators[key]?.(ctx);
  if (generated !== undefined) return generated === null ? null : conform(generated, field.shape, key);
  return neutral(field.shape);
}

/** What an unset computed attribute reads as when the cloud has nothing to say. */
function neutral(shape: Shape): Value {
  if (shape.kind === 'primitive') return shape.type === 'string' ? '' : shape.type === 'number' ? 0 : false;
  if (shape.kind === 'collection') return shape.collection === 'map' ? {} : [];
  return null;
}

function fillNested(shape: Shape, v: Value, ctx: FillContext, generators: Readonly<Record<string, Generator>>, key: string): Value {
  if (v === null || isUnknown(v)) return v;
  if (shape.kind === 'object') return isObject(v) ? fill(shape, v, ctx, generators, key) : v;
  if (shape.kind === 'collection') {
    const element = shape.element;
    if (Array.isArray(v)) {
      return v.map((e) => {
        const known = isUnknown(e) ? materialize({ shape: element, required: false, optional: false, computed: true, sensitive: false }, key, ctx, generators) : e;
        return fillNested(element, known, ctx, generators, key);
      });
    }
    if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, fillNested(element, e, ctx, generators, key)]));
  }
  return v;
}
