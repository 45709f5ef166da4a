import { TerraformResource } from 'cdktf';
import { synthesizedArguments } from './synthesized-argument';

/** `${toset(["a", "b"])}`: how cdktf writes `TerraformIterator.fromList` of a literal list. */
const LITERAL_SET = /^\$\{toset\((\[[^]*\])\)\}$/;

/**
 * How many instances Terraform creates of `resource`, as synthesized (overrides applied): 1 without `count` or
 * `for_each`; a literal `count`; the keys of a literal `for_each` map, or the distinct elements of a literal set
 * (`TerraformIterator.fromList(['a', 'b'])`). Undefined when synth cannot know it: a count or collection that reads a
 * variable, a resource or a data source is only known at plan.
 */
export function instancesOf(resource: TerraformResource): number | undefined {
  const { count, for_each: forEach } = synthesizedArguments(resource, ['count', 'for_each']);
  if (count !== undefined) {
    const n = typeof count === 'string' && /^\d+$/.test(count) ? Number(count) : count;
    return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : undefined;
  }
  if (forEach === undefined) return 1;
  if (forEach !== null && typeof forEach === 'object' && !Array.isArray(forEach)) {
    const keys = Object.keys(forEach);
    return keys.some((k) => k.includes('${')) ? undefined : keys.length;
  }
  const literal = typeof forEach === 'string' ? LITERAL_SET.exec(forEach) : null;
  if (!literal) return undefined;
  let elements: unknown;
  try {
    elements = JSON.parse(literal[1]);
  } catch {
    return undefined; // an element that is an expression (var.x) is no JSON
  }
  if (!Array.isArray(elements) || elements.some((e) => typeof e !== 'string' || e.includes('${'))) return undefined;
  return new Set(elements).size;
}
