import { IConstruct } from 'constructs';
import { Aspects, TerraformStack } from 'cdktf';
import { BoundaryChecks } from '../boundary/boundary-checks';
import { ChecklistItem } from '../boundary/boundary-document';
import { DataFlow } from '../boundary/data-flow';
import { BOUNDARY_RULES } from '../boundary/rules';
import { resourcesOf, SynthesizedResource } from '../boundary/rules/rule';
import { DataClass } from '../core/data-class';
import { Environment } from '../core/environment';
import { Component } from '../roadmap/component';
import { Machine } from '../hetzner/machine';
import { Product } from './product';

/** An environment stack, as far as the checklist needs to know it. */
export interface ChecklistEnvironment {
  readonly stack: TerraformStack;
  readonly environment: Environment;
  readonly expiresAt?: string;
}

/**
 * Evaluates the operating model's "what good looks like in the first 90 days", item by item,
 * from the product and its synthesized stacks. Each answer carries its evidence.
 */
export function ninetyDayChecklist(product: Product, environments: readonly ChecklistEnvironment[]): ChecklistItem[] {
  const stacks = environments.map((e) => e.stack);
  const declared = stacks.flatMap((s) => Component.declaredIn(s));
  const flows = stacks.flatMap((s) => DataFlow.declaredIn(s));
  const policy = product.boundary;

  // The answers come from the rules the stacks are checked against, never from a second reading:
  // one pack with every rule the checklist asks about, run once per stack, on the stack's
  // Terraform synthesized once.
  const { resources, errors } = checkOnce(stacks, new BoundaryChecks({ policy, rules: BOUNDARY_RULES.filter((r) => CHECKLIST_RULES.includes(r.id)) }));
  const violations = (ids: readonly string[]) => errors.filter((e) => ids.some((id) => isAbout(e, id)));
  const holding = resources.filter((r) => r.body.location && r.body.labels?.['data-class'] !== 'public');
  const euViolations = violations(EU_RULES);
  const leaving = violations(LEAVING_RULES);
  const unchecked = stacks.filter((s) => !isChecked(s));

  const classDecisions = DataClass.all().map((c) => {
    const allowances = policy.allowances.filter((a) => a.dataClass === c && a.to.length > 0);
    return allowances.length === 0 ? `${c.name}: never` : `${c.name}: ${allowances.map((a) => `${a.form} to ${a.to.join(', ')}`).join('; ')}`;
  });

  const test = environments.find((e) => e.environment === Environment.TEST);
  const staging = environments.find((e) => e.environment === Environment.STAGING);
  const unjustified = declared.filter((d) => !product.phase.permits(d.component) && !product.adoptionOf(d.component));
  const disallowedFlows = flows.filter((f) => !policy.allows(f.dataClass, f.processor, f.form));
  const selfHosting = [Component.SELF_HOSTED_INFERENCE, Component.GPU_BOX, Component.EMBEDDINGS_SERVER];
  const selfHosted = declared.filter((d) => selfHosting.includes(d.component));
  const backup = declared.filter((d) => d.component === Component.REMOTE_BACKUP);
  // A machine whose bundle carries the restore drill's timer runs the drill.
  const drills = stacks
    .filter((s) => s.node.findAll().some((c) => c instanceof Machine && [...c.bundle.files().keys()].some((p) => p.endsWith('/restore-drill.timer'))))
    .map((s) => ({ stack: s.node.id }));

  return [
    {
      item: 'Your core app and tenant data stay inside a European control plane',
      met: euViolations.length === 0,
      evidence: euViolations.length === 0
        ? `Boundary-EuPlacement and Boundary-EuStateBackend hold on all ${stacks.length} stacks: ${holding.length} located resources holding non-public data, all in EU locations, and state in EU object storage`
        : `not met: ${summary(euViolations)}`,
    },
    {
      item: 'Your sovereignty rule is written down, not implied',
      met: unchecked.length === 0,
      evidence: unchecked.length === 0
        ? `this document, generated from the BoundaryPolicy every stack is checked against at synth (AI Act role: ${policy.aiActRoles.join(', ')})`
        : `written down, but not enforced on ${unchecked.map((s) => s.node.id).join(', ')}: no BoundaryChecks pack reaches ${unchecked.length === 1 ? 'it' : 'them'}`,
    },
    {
      item: 'You know exactly what data can leave and in what form',
      met: leaving.length === 0,
      evidence: leaving.length === 0
        ? `${classDecisions.join('; ')}; every declared flow, the egress of machines holding sensitive data, and every secret follow it`
        : `not met: ${summary(leaving)}`,
    },
    {
      item: 'You run permanent test, not permanent complexity',
      met: test !== undefined && unjustified.length === 0 && (staging === undefined || staging.expiresAt !== undefined),
      evidence: [
        test ? `test stack ${test.stack.node.id} is always on` : 'no test stack',
        staging ? `staging ${staging.stack.node.id} is on demand, expiring ${staging.expiresAt ?? 'never (missing expiry)'}` : `staging ${product.staging.hasOwnStack ? 'is not up' : 'reuses the test machine'}`,
        unjustified.length ? `built without justification: ${unjustified.map((d) => d.component.id).join(', ')}` : 'no postponed component built',
      ].join('; '),
    },
    {
      item: 'You can rehearse releases in staging when risk justifies it',
      // Staging comes from production's snapshot or the test machine: either needs the test environment.
      met: test !== undefined,
      evidence: test !== undefined
        ? `staging mode ${product.staging.name}; the release path is \`cdktf-sovereign-hetzner release --product ${product.name}\``
        : 'no test environment, so staging has nothing to be rehearsed on',
    },
    {
      item: 'You have backup and restore discipline',
      met: backup.length > 0 && drills.length > 0,
      evidence: backup.length > 0
        ? `remote backup: ${backup.map((b) => b.path).join(', ')}; restore drill ${drills.length > 0 ? `on ${drills.map((d) => d.stack).join(', ')}` : 'missing'}`
        : 'no backup plan with a remote target and a restore drill yet',
    },
    {
      item: 'You use external AI providers only where the boundary allows',
      met: disallowedFlows.length === 0,
      evidence: flows.length === 0 ? 'no data flows to external processors declared'
        : disallowedFlows.length === 0 ? `${flows.length} declared flows, all allowed by the policy`
          : `not allowed: ${disallowedFlows.map((f) => `${f.dataClass.name} → ${f.processor.name}`).join(', ')}`,
    },
    {
      item: 'You delay self-hosting until the economics or obligations are real',
      met: selfHosted.every((d) => product.phase.permits(d.component) || product.adoptionOf(d.component)),
      evidence: selfHosted.length === 0 ? 'no self-hosted inference, GPU box or embeddings server; model APIs within the boundary'
        : selfHosted.map((d) => `${d.component.id} at ${d.path}${product.adoptionOf(d.component) ? ` (adopted: ${product.adoptionOf(d.component)!.reason})` : ''}`).join('; '),
    },
    {
      item: 'You add infrastructure because usage demands it, not because architecture diagrams look impressive',
      met: unjustified.length === 0,
      evidence: `${product.phase.postponed.length} components postponed with their thresholds; ${product.earlyAdoptions.length} adopted early with a reason`,
    },
  ];
}

const EU_RULES = ['Boundary-EuPlacement', 'Boundary-EuStateBackend'];
const LEAVING_RULES = ['Boundary-ProcessorAllowed', 'Boundary-RestrictedEgress', 'Boundary-NoPlaintextSecret', 'Boundary-SecretViaVariable'];
const CHECKLIST_RULES = [...EU_RULES, ...LEAVING_RULES];

/** Whether an error of `BoundaryChecks.checkStack` concerns the rule: a finding, or a suppression of it that matches nothing. */
function isAbout(error: string, ruleId: string): boolean {
  return error.startsWith(`${ruleId}: `) || error.includes(`.suppressions: '${ruleId}' is not allowed`);
}

/**
 * Runs the pack on each stack once, with each stack's Terraform synthesized once and shared by the
 * pack and the checklist's own reading (synthesizing a stack resolves every lazy value and renders
 * every bundle, which is most of the checklist's cost).
 */
function checkOnce(stacks: readonly TerraformStack[], checks: BoundaryChecks): { resources: Array<SynthesizedResource & { stack: string }>; errors: string[] } {
  const resources: Array<SynthesizedResource & { stack: string }> = [];
  const errors: string[] = [];
  for (const stack of stacks) {
    const terraform = stack.toTerraform();
    resources.push(...resourcesOf(terraform).map((r) => ({ ...r, stack: stack.node.id })));
    // checkStack synthesizes the stack itself; for this one call it gets the Terraform just made.
    const own = Object.getOwnPropertyDescriptor(stack, 'toTerraform');
    Object.defineProperty(stack, 'toTerraform', { value: () => terraform, configurable: true, writable: true });
    try {
      errors.push(...checks.checkStack(stack));
    } finally {
      if (own) Object.defineProperty(stack, 'toTerraform', own);
      else delete (stack as { toTerraform?: unknown }).toTerraform;
    }
  }
  return { resources, errors };
}

/** Whether a BoundaryChecks pack reaches the stack: added to it or to a scope above it. */
function isChecked(stack: TerraformStack): boolean {
  for (let scope: IConstruct | undefined = stack; scope; scope = scope.node.scope) {
    if (Aspects.of(scope).all.some((a) => a instanceof BoundaryChecks)) return true;
  }
  return false;
}

/** The first violations, with the count of the rest. */
function summary(messages: readonly string[]): string {
  const shown = messages.slice(0, 3).join('; ');
  return messages.length > 3 ? `${shown}; and ${messages.length - 3} more` : shown;
}
