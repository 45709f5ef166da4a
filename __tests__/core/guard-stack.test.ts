import { App, TerraformStack, Testing } from 'cdktf';
import { Construct, IConstruct } from 'constructs';
import * as lib from '../../lib';
import { checkProps, is } from '../../lib/core/runtime-checks';
import * as stacks from '../../stacks';
import { thrownMessage } from '../setup/stack';

// Review (guard): checkProps installed the --hcl guard on the checked construct's stack, a side effect hidden in a
// check; Machine and ObjectStorageBackend, which do not call it, were guarded only once their checks passed.

/** The exported classes of the library's entry points that are constructs, by name. */
const constructClasses = [...Object.entries(lib), ...Object.entries(stacks)]
  .filter(([, value]) => typeof value === 'function' && value.prototype instanceof Construct) as Array<[string, new (...args: any[]) => IConstruct]>;

/** The constructs that check their props before they are in the tree (before super), built with props they take. */
const BUILT_WITH_PROPS: Record<string, (scope: Construct) => void> = {
  ObjectStorageBackend: (scope) => new lib.ObjectStorageBackend(scope, { bucket: 'acme-state' }),
};

/** Whether `stack`'s HCL rendering refuses a stack override cdk.tf would drop: the guard guardStack installs. */
function refusesDroppedOverride(stack: TerraformStack): boolean {
  stack.addOverride('resource.hcloud_server.app.name', 'elsewhere');
  return /cdktf writes only the terraform block of a stack's overrides into cdk\.tf/.test(thrownMessage(() => stack.toHclTerraform()));
}

/** A construct of `type` in `app`, built with no props (refused, after it joined the tree) or with those it takes. */
function builtIn(app: App, name: string, type: new (...args: any[]) => IConstruct): IConstruct | undefined {
  const stack = new TerraformStack(app, 'production');
  thrownMessage(() => new type(stack, 'Built', undefined));
  if (!stack.node.findAll().some((c) => c instanceof type)) BUILT_WITH_PROPS[name]?.(stack);
  return stack.node.findAll().find((c) => c instanceof type);
}

describe('every construct of the library guards the stack it is in', () => {
  test('the exported construct classes are found (the list below is not empty by accident)', () => {
    expect(constructClasses.map(([name]) => name)).toEqual(expect.arrayContaining(['Machine', 'ObjectStorageBackend', 'SshKey', 'SecretVariable', 'EnvironmentStack']));
  });

  // A construct added later that forgets guardStack(this) fails here; one that cannot be built without props needs
  // an entry in BUILT_WITH_PROPS, or this fails naming it.
  test.each(constructClasses)('%s: its stack refuses an override cdk.tf would drop, also when its props are refused', (name, type) => {
    const built = builtIn(Testing.app(), name, type);
    if (built === undefined) throw new Error(`${name} was not built: it checks its props before it joins the tree, so add a builder with valid props to BUILT_WITH_PROPS`);
    expect(refusesDroppedOverride(TerraformStack.of(built))).toBe(true);
  });

  test('a stack holding none of them is left as cdktf writes it, and checkProps on a construct only checks', () => {
    const stack = new TerraformStack(Testing.app(), 'production');
    const own = new Construct(stack, 'Own');
    expect(checkProps<{ name: string }>(own, { name: 'acme' }, { name: is.text("name it, such as 'acme'") }, "pass { name: 'acme' }")).toEqual({ name: 'acme' });
    expect(refusesDroppedOverride(stack)).toBe(false);
  });
});
