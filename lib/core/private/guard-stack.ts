import { IConstruct } from 'constructs';
import { guardHclRendering } from './hcl-rendering';

/**
 * What every construct of the library does to the stack it is built in, first thing in its constructor (before any
 * check can throw): guards the stack's `--hcl` rendering, refusing the stack overrides cdktf's HCL drops or miswrites
 * and removing the stack's earlier files on a refused synth (hcl-rendering). A stack holding none of the library's
 * constructs is left as cdktf writes it. Idempotent per stack; nothing outside a stack. guard-stack.test.ts builds
 * every exported construct class and fails for one that does not call it.
 * @internal
 */
export function guardStack(construct: IConstruct): void {
  guardHclRendering(construct);
}
