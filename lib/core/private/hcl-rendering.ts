import { TerraformStack } from 'cdktf';

/** Per stack: the JSON rendering its latest HCL rendering was made with. */
const jsonOfHcl = new WeakMap<TerraformStack, Record<string, any>>();
const wrapped = new WeakSet<TerraformStack>();

/**
 * Makes the stack's HCL rendering (`toHclTerraform`, what `--hcl` writes) render its JSON first, through
 * `stack.toTerraform` as it then is (secrets-at-synth's refusal wraps it), and keep that JSON for
 * {@link jsonRenderedWithHcl}: made right before the HCL, it is made in the same state.
 * Idempotent per stack.
 * @internal
 */
export function renderJsonWithHcl(stack: TerraformStack): void {
  if (wrapped.has(stack)) return;
  wrapped.add(stack);
  const renderHcl = stack.toHclTerraform.bind(stack);
  stack.toHclTerraform = () => {
    jsonOfHcl.set(stack, stack.toTerraform());
    return renderHcl();
  };
}

/**
 * Runs `synthesize` and returns the JSON its last HCL rendering of `stack` was made with, or `undefined` when it
 * rendered no HCL. The writer renders last, after every Aspect and onSynthesize hook: a rendering a hook made before a
 * later hook changed the stack is replaced by the writer's, and one from before `synthesize` is never taken.
 * @internal
 */
export function jsonRenderedWithHcl(stack: TerraformStack, synthesize: () => void): Record<string, any> | undefined {
  jsonOfHcl.delete(stack);
  synthesize();
  const json = jsonOfHcl.get(stack);
  jsonOfHcl.delete(stack);
  return json;
}
