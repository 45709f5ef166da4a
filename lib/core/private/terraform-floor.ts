import { TerraformStack } from 'cdktf';
import { IConstruct } from 'constructs';

/**
 * The oldest Terraform that runs what each stack holds, written as its `terraform.required_version`.
 *
 * A feature that needs a newer Terraform than cdktf itself records its version here (`terraform_data` 1.4, the
 * S3 backend's `use_lockfile` 1.10), and every such feature writes the highest version recorded for its stack,
 * so that the block says the same whichever element Terraform's JSON takes it from. An older Terraform then
 * stops at `init`, naming the version it needs, instead of failing later on an argument or a resource type it
 * does not know. A stack's own `addOverride('terraform.required_version', …)` still wins: cdktf applies a
 * stack's overrides after its elements.
 *
 * Only the JSON output (`cdk.tf.json`, cdktf's default) carries it. cdktf 0.21's HCL renderer writes the
 * `terraform` block's plain settings as their list index (`0 = "required_version"`), which Terraform cannot
 * parse, so the HCL output stays as cdktf writes it, and a stack's own such override is refused there (hcl-rendering).
 */
const floors = new WeakMap<TerraformStack, string>();

/** Records that what `scope` adds to its stack needs Terraform `version` (such as `1.10`) or later. */
export function requireTerraform(scope: IConstruct, version: string): void {
  const stack = TerraformStack.of(scope);
  const current = floors.get(stack);
  if (current === undefined || newer(version, current)) floors.set(stack, version);
}

/** `config` (an element's Terraform JSON) with its stack's `required_version` added. */
export function withTerraformFloor<T extends { terraform?: Record<string, unknown> }>(scope: IConstruct, config: T): T {
  const floor = floors.get(TerraformStack.of(scope));
  if (floor === undefined) return config;
  // The element's own `terraform` settings come after, so an override on the element itself still wins.
  return { ...config, terraform: { required_version: `>= ${floor}`, ...config.terraform } };
}

function newer(a: string, b: string): boolean {
  const [x, y] = [a, b].map((v) => v.split('.').map(Number));
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) > (y[i] ?? 0);
  }
  return false;
}
