import { TerraformStack } from 'cdktf';
import { IConstruct } from 'constructs';
import { removeOutputOnFailedSynth } from './failed-synth-output';
import { stackOf } from './stack-of';

/** Per stack: the JSON rendering its latest HCL rendering was made with. */
const jsonOfHcl = new WeakMap<TerraformStack, Record<string, any>>();
const wrapped = new WeakSet<TerraformStack>();
/** The stacks whose JSON rendering checks something (secrets-at-synth), so it is rendered before each HCL rendering. */
const checkedInJson = new WeakSet<TerraformStack>();

/**
 * Wraps the HCL rendering of `scope`'s stack (`toHclTerraform`, what `--hcl` writes, rendered after every Aspect and
 * onSynthesize hook ran) so that it first renders the stack's JSON when that rendering checks something, through
 * `stack.toTerraform` as it then is (secrets-at-synth's refusal wraps it, {@link checkJsonBeforeHcl}), keeping it for
 * {@link jsonRenderedWithHcl} (made right before the HCL, it is made in the same state), then refuses the stack-level
 * overrides the HCL would drop or write wrongly. Any other stack renders its HCL alone, once: a written-stack check of
 * it renders the JSON after the writer, which renders last, so in the same state. A refused synth removes the stack's
 * earlier files (failed-synth-output). Every construct of the library reaches it through `guardStack(this)`
 * (guard-stack), and the written-stack check and secrets-at-synth for the stacks they check. A stack holding none of
 * the library's constructs is left as cdktf writes it. Idempotent per stack; nothing outside a stack.
 * @internal
 */
export function guardHclRendering(scope: IConstruct): void {
  const stack = stackOf(scope);
  if (!stack || wrapped.has(stack)) return;
  wrapped.add(stack);
  removeOutputOnFailedSynth(stack);
  const renderHcl = stack.toHclTerraform.bind(stack);
  stack.toHclTerraform = () => {
    // The JSON first, when it checks secrets: a secret's refusal names the secret, also when its flip is an override
    // refused below.
    if (checkedInJson.has(stack)) jsonOfHcl.set(stack, stack.toTerraform());
    refuseOverridesHclMiswrites(stack);
    return renderHcl();
  };
}

/**
 * Runs `synthesize` and returns the JSON its last HCL rendering of `stack` was made with, or `undefined` when it
 * rendered no HCL or `stack`'s JSON checks nothing (then the caller renders it, once, in the same state: the writer
 * renders last). The writer renders after every Aspect and onSynthesize hook: a rendering a hook made before a
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

/**
 * Guards `stack`'s HCL rendering (as {@link guardHclRendering}) and has its JSON, whose rendering `stack.toTerraform`
 * checks (secrets-at-synth), rendered before each HCL rendering: cdktf renders the HCL without it, so the check would
 * otherwise not run under --hcl.
 * @internal
 */
export function checkJsonBeforeHcl(stack: TerraformStack): void {
  checkedInJson.add(stack);
  guardHclRendering(stack);
}

/** The settings of the `terraform` block the HCL renderer (cdktf 0.21's, kept by cdktn 0.24) writes as blocks; it writes the others wrongly. */
const HCL_TERRAFORM_BLOCKS = new Set(['required_providers', 'backend', 'cloud']);

/**
 * Refuses the stack-level overrides (`stack.addOverride`) that cdktf's HCL rendering does not write as toTerraform,
 * which the written-stack check and secrets-at-synth read, applies them:
 * - toHclTerraform merges them all, then renders only their `terraform` block: an override of a resource would be
 *   checked but not written, so a refused value could reach cdk.tf;
 * - of that block it writes a plain setting (`required_version`, `experiments`, anything but required_providers,
 *   backend and cloud) as a list index with the setting's name as value (`0 = "required_version"`), which Terraform
 *   cannot parse: `init`, `validate` and `fmt` fail on cdk.tf.
 * A deletion (`addOverride(path, undefined)`) is merged the same way, by deleting the key: of the terraform block it is
 * let through, since JSON and HCL alike go without the setting; of a resource (or any other element) it is refused
 * like any other value there, since the JSON checked goes without the attribute while cdk.tf still writes it (a firewall
 * rule deleted from the checked JSON would still be deployed).
 */
function refuseOverridesHclMiswrites(stack: TerraformStack): void {
  const overrides: Record<string, unknown> = (stack as any).rawOverrides ?? {};
  const dropped = Object.keys(overrides).filter((key) => key !== 'terraform').flatMap((key) => overridePaths(key, overrides[key]));
  const terraform = overrides.terraform;
  const mangled = terraform !== null && typeof terraform === 'object'
    ? Object.keys(terraform).filter((key) => !HCL_TERRAFORM_BLOCKS.has(key) && (terraform as Record<string, unknown>)[key] !== undefined)
      .map((key) => `terraform.${key}`) : [];
  const errors: string[] = [];
  const named = (paths: string[]) => `[${stack.node.path}] stack.addOverride(${paths.map((p) => `'${p}'`).join(', ')}): with HCL output (--hcl, SYNTH_HCL_OUTPUT, Testing.synthHcl) `;
  if (dropped.length > 0) {
    errors.push(named(dropped)
      + 'cdktf 0.21 and cdktn 0.24 write only the terraform block of a stack\'s overrides into cdk.tf, so it would be left out of what is deployed while the library\'s checks read it. '
      + 'Put it on the element instead (resource.addOverride(\'location\', ...), which cdk.tf carries), or synthesize JSON (without --hcl).');
  }
  if (mangled.length > 0) {
    errors.push(named(mangled)
      + `cdktf 0.21 and cdktn 0.24 write a plain setting of the terraform block as a list index (such as 0 = "${mangled[0].slice('terraform.'.length)}"), `
      + 'which Terraform cannot parse: init and validate would fail on cdk.tf. '
      + 'Synthesize JSON (without --hcl), which writes it, or leave it out under --hcl: of the terraform block, cdk.tf carries only required_providers, backend and cloud.');
  }
  if (errors.length > 0) throw new Error(errors.join('\n'));
}

/** The dotted paths an addOverride value was set at: down to each value that is not a plain object. */
function overridePaths(prefix: string, value: unknown): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.keys(value).length === 0) return [prefix];
  return Object.entries(value).flatMap(([key, inner]) => overridePaths(`${prefix}.${key}`, inner));
}
