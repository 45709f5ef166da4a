import { IConstruct } from 'constructs';
import { Aspects, TerraformStack } from 'cdktf';
import { stackOf } from './private/stack-of';
import { checkWrittenStack } from './written-stack-check';

/**
 * cdktf 0.21 invokes aspects from each stack down (`invokeAspects(stack)`), never from the App:
 * a rule pack added with `Aspects.of(app).add(pack)` is silently never visited. This makes such
 * packs reach every stack anyway: each stack with a construct of this library gets one validation
 * that finds the packs added above the stack and runs them on it; an App-level validation fails
 * synth, with the fix, for a stack that no pack above it could reach (one without any of the
 * library's constructs).
 *
 * Packs are recognized by a brand rather than by class, so that this module imports no rules.
 */
export const RULE_PACK_BRAND = Symbol.for('cdktf-sovereign-hetzner.rule-pack');

/** A rule pack as this module sees it: checks one stack and returns its errors. */
export interface StackCheckingPack {
  readonly [RULE_PACK_BRAND]: true;
  /** The errors of one stack; `terraform` is what the stack wrote, when it is checked after the write. */
  checkStack(stack: TerraformStack, terraform?: Record<string, any>): string[];
}

const hookedStacks = new WeakSet<TerraformStack>();
const hookedRoots = new WeakSet<IConstruct>();

function isPack(aspect: unknown): aspect is StackCheckingPack {
  return typeof aspect === 'object' && aspect !== null && (aspect as Record<symbol, unknown>)[RULE_PACK_BRAND] === true;
}

/** The packs added to the scopes above `stack` (the App, a stage construct), which cdktf does not invoke on it. */
export function packsAbove(stack: TerraformStack): StackCheckingPack[] {
  const own = new Set<unknown>(Aspects.of(stack).all);
  const above = stack.node.scopes.slice(0, -1).flatMap((scope) => Aspects.of(scope).all as unknown[]).filter(isPack);
  return [...new Set(above)].filter((pack) => !own.has(pack));
}

/** Makes the packs added above `scope`'s stack check it. Idempotent; called by the library's constructs. */
export function reachStackOf(scope: IConstruct): void {
  const stack = stackOf(scope);
  if (!stack) return;
  if (!hookedStacks.has(stack)) {
    hookedStacks.add(stack);
    stack.node.addValidation({ validate: () => packsAbove(stack).flatMap((pack) => pack.checkStack(stack)) });
    // Every pack of the stack, its own and those above it, checks again what is finally written.
    checkWrittenStack(stack, (s) => [...new Set([...(Aspects.of(s).all as unknown[]).filter(isPack), ...packsAbove(s)])]);
  }
  const root = stack.node.root;
  if (!hookedRoots.has(root) && root !== stack) {
    hookedRoots.add(root);
    root.node.addValidation({ validate: () => unreachedStacks(root) });
  }
}

/** Stacks under `root` that a pack added above them cannot reach: they hold none of the library's constructs. */
export function unreachedStacks(root: IConstruct): string[] {
  return root.node.findAll().filter(TerraformStack.isStack).flatMap((stack) => {
    if (hookedStacks.has(stack) || packsAbove(stack).length === 0) return [];
    return [`${stack.node.path}.aspects: 'a rule pack added to ${stack.node.scopes.slice(0, -1).map((s) => s.node.path || 'the App').join(' / ')}' is not allowed: `
      + 'cdktf 0.21 and cdktn 0.24 do not invoke aspects added above a stack, and this stack has none of the library\'s constructs through which the pack could reach it, so it would go unchecked. '
      + `Fix: add the pack to the stack itself, Aspects.of(stack).add(pack), or call reachStackOf(stack) once`];
  });
}
