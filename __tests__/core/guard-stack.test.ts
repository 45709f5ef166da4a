import * as path from 'path';
import { App, TerraformStack, Testing } from 'cdktf';
import { Construct, IConstruct } from 'constructs';
import * as lib from '../../lib';
import * as guard from '../../lib/core/private/guard-stack';
import { checkProps, is } from '../../lib/core/runtime-checks';
import { thrownMessage } from '../setup/stack';

// Review (guard): checkProps installed the --hcl guard on the checked construct's stack, a side effect hidden in a
// check; Machine and ObjectStorageBackend, which do not call it, were guarded only once their checks passed.
// Review (guard2): the test asserted only that the stack ended up guarded, which a library child (a SecretVariable, an
// SshKey) built before the construct's own check would do for a construct that forgot guardStack(this); and it read
// two of the package's entry points by hand.

const ROOT = path.resolve(__dirname, '..', '..');
const manifest = require(path.join(ROOT, 'package.json')) as { exports: Record<string, string | { default: string }> };

/** Each entry point of package.json "exports" that is code, as the source module its dist file is compiled from. */
const entryPoints = Object.entries(manifest.exports)
  .map(([entry, target]) => [entry, typeof target === 'string' ? target : target.default] as const)
  .filter(([, file]) => file.endsWith('.js'))
  .map(([entry, file]) => [entry, path.relative(path.join(ROOT, 'dist'), path.join(ROOT, file)).replace(/\.js$/, '')] as const);
/** cdktf get's bindings (never edited by hand): cdktf's own resources, which a stack may hold without the library. */
const generated = entryPoints.filter(([, source]) => source.startsWith(`generated${path.sep}`));

/** The construct classes a module's exports hold, by exported name, also inside `export * as` namespaces. */
function constructsOf(exports: Record<string, unknown>, prefix = ''): Array<[string, new (...args: any[]) => IConstruct]> {
  return Object.entries(exports).flatMap(([name, value]): Array<[string, new (...args: any[]) => IConstruct]> => {
    if (typeof value === 'function' && value.prototype instanceof Construct) return [[`${prefix}${name}`, value as new (...args: any[]) => IConstruct]];
    if (value !== null && typeof value === 'object' && (value as { __esModule?: boolean }).__esModule === true) return constructsOf(value as Record<string, unknown>, `${prefix}${name}.`);
    return [];
  });
}

/** The construct classes of the library's entry points (all but the generated bindings), by entry and name, each once. */
const constructClasses = [...new Map(entryPoints.filter((e) => !generated.includes(e))
  .flatMap(([entry, source]) => constructsOf(require(path.join(ROOT, source))).map(([name, type]) => [type, `${entry} ${name}`] as const))).entries()]
  .map(([type, name]) => [name, type] as [string, new (...args: any[]) => IConstruct]);

/** The constructs that check their props before they are in the tree (before super), built with props they take. */
const BUILT_WITH_PROPS: Record<string, (scope: Construct) => void> = {
  ObjectStorageBackend: (scope) => new lib.ObjectStorageBackend(scope, { bucket: 'acme-state' }),
};

/** Whether `stack`'s HCL rendering refuses a stack override cdk.tf would drop: the guard guardStack installs. */
function refusesDroppedOverride(stack: TerraformStack): boolean {
  stack.addOverride('resource.hcloud_server.app.name', 'elsewhere');
  return /cdktf 0\.21 and cdktn 0\.24 write only the terraform block of a stack's overrides into cdk\.tf/.test(thrownMessage(() => stack.toHclTerraform()));
}

/**
 * A construct of `type` in `app`, built with no props (refused, after it joined the tree) or with those it takes; one
 * refused before it joined the tree must have left the stack unguarded.
 */
function builtIn(app: App, name: string, type: new (...args: any[]) => IConstruct, guarded: ReadonlyMap<IConstruct, number>): IConstruct | undefined {
  const stack = new TerraformStack(app, 'production');
  thrownMessage(() => new type(stack, 'Built', undefined));
  if (!stack.node.findAll().some((c) => c instanceof type)) {
    expect([...guarded.keys()]).toEqual([]);
    BUILT_WITH_PROPS[name.split(' ').pop()!]?.(stack);
  }
  return stack.node.findAll().find((c) => c instanceof type);
}

describe('every construct of the library guards the stack it is in', () => {
  /** Each construct guardStack was called with, and how many children it had then (none: it was the first thing). */
  const guarded = new Map<IConstruct, number>();
  const guardStack = guard.guardStack;
  beforeEach(() => {
    guarded.clear();
    jest.spyOn(guard, 'guardStack').mockImplementation((construct) => {
      if (!guarded.has(construct)) guarded.set(construct, construct.node.children.length);
      guardStack(construct);
    });
  });
  afterEach(() => jest.restoreAllMocks());

  test('the exported construct classes are found in every entry point but the generated bindings (the list below is not empty by accident)', () => {
    expect(entryPoints.map(([entry]) => entry)).toEqual(expect.arrayContaining(['.', './stacks', './testing', './hcloud']));
    expect(generated.map(([entry]) => entry)).toEqual(['./hcloud']);
    expect(constructClasses.map(([name]) => name)).toEqual(expect.arrayContaining(['. Machine', '. ObjectStorageBackend', '. SshKey', '. SecretVariable', './stacks EnvironmentStack']));
    // The walk reaches into `export * as` namespaces: the generated entry point's are, so it would find them there.
    expect(constructsOf(require(path.join(ROOT, generated[0][1]))).map(([name]) => name)).toContain('server.Server');
  });

  // A construct added later that forgets guardStack(this), or calls it only after building a child (whose own guard
  // would guard the stack anyway), fails here; so does one that checks its props before calling it once in the tree
  // (built with none, it is refused unguarded). One that refuses them before joining the tree (before super) needs an
  // entry in BUILT_WITH_PROPS, or this fails naming it.
  test.each(constructClasses)('%s: guards its stack itself, first once it is in the tree (its props refused, where it joins the tree before checking them)', (name, type) => {
    const built = builtIn(Testing.app(), name, type, guarded);
    if (built === undefined) throw new Error(`${name} was not built: it checks its props before it joins the tree, so add a builder with valid props to BUILT_WITH_PROPS`);
    expect(guarded.has(built)).toBe(true);
    expect(guarded.get(built)).toBe(0);
    expect(refusesDroppedOverride(TerraformStack.of(built))).toBe(true);
  });

  test('a stack holding none of them is left as cdktf writes it, and checkProps on a construct only checks', () => {
    const stack = new TerraformStack(Testing.app(), 'production');
    const own = new Construct(stack, 'Own');
    expect(checkProps<{ name: string }>(own, { name: 'acme' }, { name: is.text("name it, such as 'acme'") }, "pass { name: 'acme' }")).toEqual({ name: 'acme' });
    expect(guarded.size).toBe(0);
    expect(refusesDroppedOverride(stack)).toBe(false);
  });
});
