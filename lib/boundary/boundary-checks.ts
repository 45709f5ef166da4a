import { IConstruct } from 'constructs';
import { IAspect, TerraformStack } from 'cdktf';
import { warnOnce } from '../core/private/warn-once';
import { redactSecrets } from '../core/validation-message';
import { SuppressionUse } from '../core/private/suppression-registry';
import { reachStackOf, RULE_PACK_BRAND, StackCheckingPack } from '../core/app-level-packs';
import { fail, leaveOutFix, optionalArray, propNames, refuseUnknownProps, requireProps } from '../core/runtime-checks';
import { BoundaryPolicy, requireCheckedPolicy } from './boundary-policy';
import { DataFlow } from './data-flow';
import { BOUNDARY_RULES, BoundaryRule, RuleContext } from './rules';
import { resourcesOf } from './rules/rule';
import { boundarySuppressionRegistry, BoundarySuppressions } from './suppressions';

/** What a boundary rule pack checks against: the policy, and optionally a subset of the rules. */
export interface BoundaryChecksProps {
  /** The data boundary every stack is checked against. */
  readonly policy: BoundaryPolicy;
  /**
   * The rules to run.
   * @default - every rule of the boundary pack
   */
  readonly rules?: readonly BoundaryRule[];
}

/** What each pack checks, for `checksWholeBoundary`. */
const packSettings = new WeakMap<BoundaryChecks, { policy: BoundaryPolicy; rules: readonly BoundaryRule[] }>();

/**
 * The ids of the rules `pack` runs against `policy`: none when it judges by another policy (one that
 * differs in roles, processors, forms or extra hosts). A pack of a subset, or of a looser policy,
 * passes a stack the published boundary would refuse, with no suppression (and no reason) in boundary.md.
 * @internal
 */
export function boundaryRulesRun(pack: BoundaryChecks, policy: BoundaryPolicy): string[] {
  const settings = packSettings.get(pack);
  if (!settings || !samePolicy(settings.policy, policy)) return [];
  return settings.rules.map((r) => r.id);
}

/**
 * Whether two policies give every rule the same verdicts. An extra host is compared by name, not by its reason, as a
 * processor is by name, seat and hostnames, not by its purpose or note: no rule reads them (every extra host receives
 * public data at most, whatever its reason says), and boundary.md publishes each machine's extra hosts with the reasons
 * of the policy its allowlist was built from, so a pack whose policy words a reason differently judges and publishes
 * the same.
 */
function samePolicy(a: BoundaryPolicy, b: BoundaryPolicy): boolean {
  if (a === b) return true;
  const roles = (p: BoundaryPolicy) => JSON.stringify([...p.aiActRoles].sort());
  const extras = (p: BoundaryPolicy) => JSON.stringify(p.extraEgressHostnames.map((h) => h.hostname).sort());
  const grants = (p: BoundaryPolicy) => JSON.stringify(p.processors.flatMap((proc) => p.allowancesFor(proc).map((g) => `${proc.key}|${g.dataClass.name}|${g.form}`)).sort());
  return roles(a) === roles(b) && extras(a) === extras(b) && grants(a) === grants(b);
}

/**
 * The data boundary enforced at synth, as an Aspect (cdk-nag style), on a stack or on the whole
 * app: `Aspects.of(app).add(new BoundaryChecks({ policy }))`.
 *
 * cdktf 0.21 never invokes aspects added to the App; this pack still checks every stack below it:
 * each stack holding a construct of this library runs the packs added above it, and synth fails,
 * naming the stack and the fix, for a stack it cannot reach. Several packs compose: each runs on
 * each stack once per synth, whatever other packs do.
 *
 * The rules read each stack's final Terraform, so they run from a validation once every
 * construct and aspect has done its work, and again on the JSON the stack writes (a later
 * validation or an `onSynthesize` hook could change it in between); errors fail synth with the
 * construct path and the fix, warnings become annotations.
 */
export class BoundaryChecks implements IAspect, StackCheckingPack {
  /** Marks the aspect as a rule pack, so that an App-level pack can reach every stack (see app-level-packs). */
  public readonly [RULE_PACK_BRAND] = true as const;
  private readonly rules: readonly BoundaryRule[];
  private readonly policy: BoundaryPolicy;
  /** Stacks this pack has added its validation to: per pack, so that packs never shadow each other. */
  private readonly attached = new WeakSet<TerraformStack>();

  constructor(props: BoundaryChecksProps) {
    const at = 'BoundaryChecks';
    requireProps(at, props, 'pass { policy: product.boundary }');
    refuseUnknownProps(at, undefined, props, propNames<BoundaryChecksProps>({ policy: true, rules: true }));
    this.policy = requireCheckedPolicy(at, 'policy', props.policy, 'pass new BoundaryPolicy({ ... })');
    this.rules = optionalArray(at, 'rules', props.rules, leaveOutFix('pass rules from BOUNDARY_RULES, or leave it out'), (rule, prop) => {
      const r = rule as BoundaryRule;
      if (!r || typeof r !== 'object' || typeof r.id !== 'string' || typeof r.evaluate !== 'function') {
        fail(at, prop, rule, 'a rule has an id and an evaluate function', 'pick rules from BOUNDARY_RULES');
      }
      return r;
    }) ?? BOUNDARY_RULES;
    // An empty list (a filter that matched nothing) made a pack that checks nothing while the stack counts as checked.
    if (this.rules.length === 0) fail(at, 'rules', [], 'a pack that runs no rule checks nothing, and the stacks it is added to would pass as checked', 'leave rules out to run every rule (BOUNDARY_RULES), or list the rules to run');
    packSettings.set(this, { policy: this.policy, rules: this.rules });
  }

  public visit(node: IConstruct): void {
    if (!TerraformStack.isStack(node)) return;
    // Packs added above this stack reach it through the stack's own validation (see app-level-packs).
    reachStackOf(node);
    if (this.attached.has(node)) return;
    this.attached.add(node);
    node.node.addValidation({ validate: () => this.checkStack(node) });
  }

  /**
   * Runs the pack's rules on one stack's final Terraform; the errors, with warnings added as annotations.
   * @param terraform what the stack wrote, when checked after the write (see written-stack-check); by default rendered now
   */
  public checkStack(stack: TerraformStack, terraform: Record<string, any> = stack.toTerraform()): string[] {
    const constructs = new Map(stack.node.findAll().map((c) => [c.node.path, c]));
    const context: RuleContext = {
      stack, terraform, resources: resourcesOf(terraform), policy: this.policy, flows: DataFlow.declaredIn(stack),
      constructAt: (path) => constructs.get(path),
    };
    // What each suppression matched, and what a nearer one took from it: those that matched nothing are refused.
    const use = new SuppressionUse();
    const errors: string[] = [];
    for (const rule of this.rules) {
      for (const finding of rule.evaluate(context)) {
        const construct = constructs.get(finding.path) ?? stack;
        if (use.take(BoundarySuppressions.covering(construct, rule.id, finding.target), finding.target)) continue;
        // Every rule's message, redacted once here: a rule quotes what it read from the configuration (a module's
        // source, a backend's endpoint, a connection's host), where a token in a URL's user part goes to the CI log.
        const message = redactSecrets(`${rule.id}: ${finding.message}`);
        if ((finding.level ?? rule.level) === 'error') errors.push(message);
        else warnOnce(construct, message);
      }
    }
    errors.push(...boundarySuppressionRegistry.unusedRefusals(stack, use, { ruleIds: this.rules.map((r) => r.id) }));
    return errors;
  }
}
