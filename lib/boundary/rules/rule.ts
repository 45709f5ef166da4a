import { TerraformStack } from 'cdktf';
import { BoundaryPolicy } from '../boundary-policy';
import { DeclaredDataFlow } from '../data-flow';

/** A resource of the synthesized stack, with the construct path it came from. */
export interface SynthesizedResource {
  readonly type: string;
  readonly name: string;
  readonly path: string;
  readonly body: Record<string, any>;
}

/** Everything a rule may look at: the stack's final Terraform, the policy and the declared flows. */
export interface RuleContext {
  readonly stack: TerraformStack;
  /** The stack's Terraform JSON, resolved. */
  readonly terraform: Record<string, any>;
  readonly resources: readonly SynthesizedResource[];
  readonly policy: BoundaryPolicy;
  readonly flows: readonly DeclaredDataFlow[];
}

/** One violation: where, what value, and the message that explains it. */
export interface Finding {
  /** Construct path of the offending construct. */
  readonly path: string;
  readonly message: string;
  /**
   * Overrides the rule's level for this finding (a rule that errs on some inputs and only warns on others).
   * @default - the rule's level
   */
  readonly level?: 'error' | 'warning';
}

/** A boundary rule: a pure function of the synthesized stack. */
export interface BoundaryRule {
  /** `Boundary-<RuleName>`: reads on its own, used in suppressions. */
  readonly id: string;
  readonly level: 'error' | 'warning';
  /** What it checks, one line. */
  readonly cause: string;
  /** Why the operating model needs it. */
  readonly explanation: string;
  /** Where it is enforced: at synth, by the Hetzner firewall, on the host, or only declared. */
  readonly enforcedAt: string;
  evaluate(context: RuleContext): Finding[];
}

/** Every resource in a stack's Terraform JSON, with its construct path. */
export function resourcesOf(terraform: Record<string, any>): SynthesizedResource[] {
  return Object.entries(terraform.resource ?? {}).flatMap(([type, byName]) =>
    Object.entries(byName as Record<string, any>).map(([name, body]) => ({
      type, name, body, path: body?.['//']?.metadata?.path ?? `${type}.${name}`,
    })));
}

/** Whether a value is a Terraform reference or expression rather than a literal. */
export function isExpression(value: unknown): boolean {
  return typeof value === 'string' && /^\$\{[\s\S]*\}$/.test(value.trim());
}

/** The labels' data classes of a resource; unlabelled resources count as sensitive. */
export function dataClassOf(resource: SynthesizedResource): string {
  return resource.body.labels?.['data-class'] ?? 'sensitive (undeclared)';
}
