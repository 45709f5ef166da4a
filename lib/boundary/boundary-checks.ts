import { IConstruct } from 'constructs';
import { Annotations, IAspect, TerraformStack } from 'cdktf';
import { BoundaryPolicy } from './boundary-policy';
import { DataFlow } from './data-flow';
import { BOUNDARY_RULES, BoundaryRule, RuleContext } from './rules';
import { resourcesOf } from './rules/rule';
import { BoundarySuppressions } from './suppressions';

export interface BoundaryChecksProps {
  /** The data boundary every stack is checked against. */
  readonly policy: BoundaryPolicy;
  /**
   * The rules to run.
   * @default - every rule of the boundary pack
   */
  readonly rules?: readonly BoundaryRule[];
}

const checkedStacks = new WeakSet<TerraformStack>();

/**
 * The data boundary enforced at synth, as an Aspect over the whole app (cdk-nag style):
 * `Aspects.of(app).add(new BoundaryChecks({ policy }))`.
 *
 * The rules read each stack's final Terraform, so they run from a validation once every
 * construct and aspect has done its work; errors fail synth with the construct path and
 * the fix, warnings become annotations.
 */
export class BoundaryChecks implements IAspect {
  private readonly rules: readonly BoundaryRule[];

  constructor(private readonly props: BoundaryChecksProps) {
    this.rules = props.rules ?? BOUNDARY_RULES;
  }

  public visit(node: IConstruct): void {
    if (!TerraformStack.isStack(node) || checkedStacks.has(node)) return;
    checkedStacks.add(node);
    node.node.addValidation({ validate: () => this.check(node) });
  }

  private check(stack: TerraformStack): string[] {
    const terraform = stack.toTerraform();
    const context: RuleContext = {
      stack, terraform, resources: resourcesOf(terraform), policy: this.props.policy, flows: DataFlow.declaredIn(stack),
    };
    const constructs = new Map(stack.node.findAll().map((c) => [c.node.path, c]));
    const used = new Set<string>();
    const errors: string[] = [];
    for (const rule of this.rules) {
      for (const finding of rule.evaluate(context)) {
        const construct = constructs.get(finding.path) ?? stack;
        const suppressed = BoundarySuppressions.find(construct, rule.id);
        if (suppressed) {
          used.add(`${suppressed.owner.node.path}|${rule.id}`);
          continue;
        }
        const message = `${rule.id}: ${finding.message}`;
        if ((finding.level ?? rule.level) === 'error') errors.push(message);
        else Annotations.of(construct).addWarning(message);
      }
    }
    for (const placed of BoundarySuppressions.placedIn(stack)) {
      if (this.rules.some((r) => r.id === placed.id) && !used.has(`${placed.path}|${placed.id}`)) {
        errors.push(`${placed.path}.suppressions: '${placed.id}' is not allowed: the suppression matches no finding. Fix: remove it, so that the boundary document lists only real exceptions`);
      }
    }
    return errors;
  }
}
