import { IConstruct } from 'constructs';
import { guardHclRendering } from './hcl-rendering';

/**
 * What every construct of the library does to the stack it is built in, first thing once the construct is in the tree
 * (right after `super`, before it checks its props or builds a child; ObjectStorageBackend checks its props before
 * `super`, which takes them, so a refusal there leaves its stack as it was): guards the stack's `--hcl` rendering,
 * refusing the stack overrides cdktf's HCL drops or miswrites and removing the stack's earlier files on a refused synth
 * (hcl-rendering). A stack holding none of the library's constructs is left as cdktf writes it. Idempotent per stack;
 * nothing outside a stack. guard-stack.test.ts builds every construct class the package's entry points export (the
 * generated bindings aside), with refused props where it joins the tree before its checks, and fails for one that does
 * not call it with itself, or calls it only after it built a child.
 * @internal
 */
export function guardStack(construct: IConstruct): void {
  guardHclRendering(construct);
}
