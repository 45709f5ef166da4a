import { IConstruct } from 'constructs';
import { fail, requireArray, requireInstance } from './runtime-checks';
import { invalidValue, ValidationError } from './validation-message';

const declared = new WeakMap<IConstruct, readonly DataClass[]>();

/**
 * The operating model's data classification: what a store or workload holds decides
 * where it may live and what may leave the EU control plane.
 *
 * Classes are ordered by how hard their boundary is, from `PUBLIC` to `SECRET`.
 */
export class DataClass {
  /** Public information: may be processed flexibly. */
  public static readonly PUBLIC = new DataClass('public', 0, 'Public information; may be processed flexibly.');
  /** Pseudonymized or scrubbed data: the middle category. */
  public static readonly PSEUDONYMIZED = new DataClass('pseudonymized', 1, 'Pseudonymized or scrubbed data; a middle category.');
  /** Tenant, user, proposal and audit data: stays inside the EU control plane. */
  public static readonly SENSITIVE = new DataClass('sensitive', 2, 'Tenant, user, proposal and audit data; stays inside the EU control plane.');
  /** Secrets, tokens, credentials and identity data: the hardest boundary. */
  public static readonly SECRET = new DataClass('secret', 3, 'Secrets, tokens, credentials and identity data; the hardest boundary.');

  /** Every data class, from the least to the most strict. */
  public static all(): DataClass[] {
    return [DataClass.PUBLIC, DataClass.PSEUDONYMIZED, DataClass.SENSITIVE, DataClass.SECRET];
  }

  /** The class with the hardest boundary among `classes`; `undefined` for an empty list. */
  public static strictest(classes: readonly DataClass[]): DataClass | undefined {
    requireArray('DataClass.strictest', 'classes', classes, 'list data classes such as [DataClass.PUBLIC, DataClass.SECRET]',
      (c, prop) => requireInstance('DataClass.strictest', prop, c, DataClass, 'use DataClass.PUBLIC, PSEUDONYMIZED, SENSITIVE or SECRET'));
    return classes.reduce<DataClass | undefined>((max, c) => (max === undefined || c.strictness > max.strictness ? c : max), undefined);
  }

  /** The class with this name (`'sensitive'`), or `undefined`. */
  public static fromName(name: unknown): DataClass | undefined {
    return DataClass.all().find((c) => c.name === name);
  }

  /**
   * Records what a construct holds, on the construct tree: the boundary rules read it for every
   * resource below it, so a label set on a resource can add a class but never remove one. A
   * declaration may add classes to what the construct or an ancestor declared, never drop one.
   *
   * A server, volume, snapshot or Storage Box (or subaccount) counts as holding less than sensitive data only by a
   * declaration on itself, or on the construct it is the default child of (a `Machine`'s server): one on a stack or
   * a construct above reaches such a raw resource only when it holds sensitive or secret data. A `[DataClass.PUBLIC]`
   * on a stack left a raw `Volume` a team added beside the library's constructs public, whatever it held.
   */
  public static declare(scope: IConstruct, classes: readonly DataClass[]): void {
    // Only the four classes: a copy made with Object.create passes instanceof but is none of them, and
    // every rule would read a resource holding only such copies as holding nothing, that is public.
    // A JavaScript caller passing one class, not a list, is told so with the path, not by a TypeError.
    requireArray(scope, 'dataClasses', classes, 'list data classes such as [DataClass.SENSITIVE]', (c, prop) => {
      if (!DataClass.all().includes(c as DataClass)) {
        fail(scope, prop, String((c as { name?: unknown })?.name ?? c),
          'it is not one of the data classes (a copy or a look-alike is none of them, and would be read as holding nothing)',
          'use DataClass.PUBLIC, PSEUDONYMIZED, SENSITIVE or SECRET');
      }
    });
    // A declaration only adds: one that drops a class already declared here or above (a Machine's
    // own) would let the rules judge a sensitive machine as public.
    const problem = DataClass.narrowing(scope, classes);
    if (problem) throw new ValidationError(invalidValue(scope, 'dataClasses', classes.map(String), ...problem));
    declared.set(scope, [...classes]);
  }

  /**
   * Why declaring `classes` on `scope` would drop a class declared on it or above it, as `[why, fix]`; `undefined` when
   * it only adds. The reason names where the earlier declaration was made: one on the stack above reads differently
   * from the construct's own.
   * @internal
   */
  public static narrowing(scope: IConstruct, classes: readonly DataClass[]): [string, string] | undefined {
    const before = DataClass.declarationOf(scope);
    const dropped = (before?.classes ?? []).filter((c) => !classes.includes(c));
    if (!before || dropped.length === 0) return undefined;
    const all = DataClass.all().filter((c) => before.classes.includes(c) || classes.includes(c));
    const where = before.on === scope ? `${scope.node.path} already holds` : `'${before.on.node.path}' above it is declared to hold`;
    return [`${where} ${before.classes.join(', ')}, and a declaration can add classes but never remove one (${dropped.join(', ')})`,
      `declare every class it holds: ${DataClass.written(all)}`];
  }

  /**
   * `classes` as TypeScript writes them, such as `[DataClass.PUBLIC, DataClass.SENSITIVE]`, for the fix of a message.
   * @internal
   */
  public static written(classes: readonly DataClass[]): string {
    return `[${classes.map((c) => c.literal).join(', ')}]`;
  }

  /**
   * `classes` as the choices for one value, such as `DataClass.PUBLIC or DataClass.SECRET`: a list in brackets, where
   * one class is asked for (an allowance's `dataClass`), read as an array to write.
   * @internal
   */
  public static oneOf(classes: readonly DataClass[]): string {
    const literals = classes.map((c) => c.literal);
    return literals.length < 2 ? literals.join('') : `${literals.slice(0, -1).join(', ')} or ${literals[literals.length - 1]}`;
  }

  /** The class as TypeScript writes it: `DataClass.PUBLIC`. */
  private get literal(): string {
    return `DataClass.${this.name.toUpperCase()}`;
  }

  /** The classes declared on `scope` or its nearest declaring ancestor; `undefined` when none declares any. */
  public static declaredFor(scope: IConstruct): readonly DataClass[] | undefined {
    return DataClass.declarationOf(scope)?.classes;
  }

  /**
   * The declaration that reaches `scope`: the classes, and the construct they were declared on (`scope` or its
   * nearest declaring ancestor). The rules need the second: an ancestor's declaration reaches a raw store only
   * where it is stricter than an undeclared one (see `heldData`).
   * @internal
   */
  public static declarationOf(scope: IConstruct): { readonly classes: readonly DataClass[]; readonly on: IConstruct } | undefined {
    for (const c of [...scope.node.scopes].reverse()) {
      const classes = declared.get(c);
      if (classes) return { classes, on: c };
    }
    return undefined;
  }

  private constructor(
    /** The name used in labels and documents. */
    public readonly name: string,
    /** Higher is stricter. */
    public readonly strictness: number,
    /** What data of the class is, in words. */
    public readonly description: string,
  ) {}

  /** The name, such as `sensitive`. */
  public toString(): string {
    return this.name;
  }
}
