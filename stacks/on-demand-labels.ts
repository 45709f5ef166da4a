import { Annotations, IAspect, TerraformResource, TerraformStack } from 'cdktf';
import { IConstruct } from 'constructs';
import { Environment } from '../lib/core/environment';
import { invalidValue, missingValue, quote } from '../lib/core/validation-message';
import { checkWrittenStackWith, WrittenStackCheck } from '../lib/core/written-stack-check';
import { SuppressionUse } from '../lib/core/private/suppression-registry';
import { EXPIRES_AT_LABEL, expiryProblem, ON_DEMAND_LABELS, STACK_LABEL } from '../lib/environments/staging';
import { REAPED_COLLECTIONS } from '../lib/environments/staging-reaper';
import { STAGING_NOT_REAPED, stagingSuppressionRegistry } from '../lib/environments/staging-suppressions';
import { Machine } from '../lib/hetzner/machine';
import { synthesizedArgument } from '../lib/hetzner/private/synthesized-argument';

/**
 * Gives every Hetzner resource of a staging stack that takes labels the stack's on-demand labels, whoever built it (a
 * `networkClients` worker, a machine added after the stack): the staging reaper finds what to delete by those labels,
 * and a worker without them outlived a rehearsal that died before its destroy, running and billed, once the reaper had
 * deleted its network. A label set to another value is refused, neither kept (the reaper would miss the resource) nor
 * overwritten (a label its author wrote would be silently untrue). An Aspect, so that it sees what is added later too.
 *
 * The reaper removes only the types of REAPED_COLLECTIONS (servers, load balancers, volumes, primary and floating IPs,
 * firewalls, networks, SSH keys, placement groups); a labelled resource of another type (a snapshot, a certificate, a
 * storage box, a zone) gets the labels too, and a warning that the reaper will not remove it, unless a
 * StagingSuppressions entry accepts that with a reason: then an info annotation records the reason.
 *
 * What comes after it (a stack override of the labels, an Aspect added after it, skipValidation past its refusal)
 * could still write a resource the reaper removes without them: the stack's written Terraform is checked again
 * (checkStack, run by the written-stack check whatever else the stack holds), and refused at synth. That check runs
 * where the stack's synthesizer writes it: `app.synth()` (the CLI, `--hcl` included) and `Testing.fullSynth`, not
 * `Testing.synth` or `Testing.synthHcl`, which render the stack without writing it.
 */
export class OnDemandLabels implements IAspect, WrittenStackCheck {
  private readonly refused = new Map<TerraformResource, { readonly owner: IConstruct; readonly message: string; readonly fix: string }>();
  private readonly warned = new Set<TerraformResource>();
  /** What the suppressions accepted, and which a nearer one shadowed: any other one placed in the stack is refused. */
  private readonly suppressionUse = new SuppressionUse();

  /**
   * The labels every resource of the stack that takes labels gets: environment, lifecycle, purpose, the stack's name
   * and, when the stack's expiry is a valid date, expires-at.
   */
  public readonly labels: Readonly<Record<string, string>>;
  /**
   * Why the stack's expiry is refused (missing, or no calendar date), or none. Then `labels` lack expires-at, which the
   * reaper selects by: validation refuses the stack with it, and the written-stack check too, skipValidation or not.
   */
  public readonly expiryRefusal?: string;
  /** The stack's expiry when it is a valid date (the labels' expires-at), else undefined and `expiryRefusal` says why. */
  public readonly expiresAt?: string;

  /** For `stack`, a staging stack expiring on `expiresAt` (YYYY-MM-DD), which it is then added to: its written Terraform is checked too (checkStack). */
  constructor(stack: TerraformStack, expiresAt: string | undefined) {
    const problem = expiryProblem(expiresAt);
    this.expiresAt = problem ? undefined : expiresAt;
    // The stack's name, so that a release tells its staging from another stack's (`staging list --none-up`).
    this.labels = { environment: Environment.STAGING.name, ...ON_DEMAND_LABELS, [STACK_LABEL]: stack.node.id, ...(this.expiresAt ? { [EXPIRES_AT_LABEL]: this.expiresAt } : {}) };
    this.expiryRefusal = !problem ? undefined : expiresAt === undefined
      ? missingValue(stack, 'expiresAt', problem, "pass expiresAt: '2026-12-31' (the day after the planned rehearsal)")
      : invalidValue(stack, 'expiresAt', expiresAt, problem, "write the date as YYYY-MM-DD, such as '2026-12-31'");
    checkWrittenStackWith(stack, this);
  }

  public visit(node: IConstruct): void {
    if (!(node instanceof TerraformResource) || !node.terraformResourceType.startsWith('hcloud_')) return;
    // A generated resource with a labels argument has resetLabels; the others (an attachment, a subnet) take none.
    if (typeof (node as { resetLabels?: unknown }).resetLabels !== 'function') return;
    this.warnIfNotReaped(node);
    this.refused.delete(node);
    // A Machine's server, firewall and addresses share its labels: one refusal for the Machine, not one for each.
    const owner = ownerOf(node);
    const fix = `write them out at synth as an object of labels, such as { team: 'data' }, or leave them out: the stack adds ${JSON.stringify(this.labels)}`;
    // The generated constructor (from JavaScript, or `as any`) writes a list as an object of its indices ({"0": "team"})
    // and a number as {}: as synthesized, they would pass for labels and be labelled. An override merges into that.
    const given = (node as { labelsInput?: unknown }).labelsInput;
    if (Array.isArray(given) || typeof given === 'number' || typeof given === 'boolean') {
      this.refused.set(node, { owner, fix, message: invalidValue(owner, 'labels', given, `${notLabels(given)}, which the generated constructor would write out as `
        + `${JSON.stringify(synthesizedArgument(node, 'labels'))}, so the staging reaper's labels cannot be added to them`, fix) });
      return;
    }
    // As synthesized, overrides included: an addOverride('labels', …) replaces what the constructor was given.
    const written = synthesizedArgument(node, 'labels');
    if (written !== undefined && (written === null || typeof written !== 'object' || Array.isArray(written))) {
      this.refused.set(node, { owner, fix, message: invalidValue(owner, 'labels', written, `${notLabels(written)}, so the staging reaper's labels cannot be added to them`, fix) });
      return;
    }
    const current = (written ?? {}) as Record<string, unknown>;
    const { missing, differing } = this.mismatched(current);
    if (differing.length > 0) {
      const differingFix = this.fix(owner, differing);
      this.refused.set(node, { owner, fix: differingFix, message: invalidValue(owner, 'labels', Object.fromEntries(differing.map((key) => [key, current[key]])),
        'a staging stack labels what it creates for the staging reaper, which finds what a rehearsal left by these labels; '
        + 'with other values the reaper would leave this resource running and billed', differingFix) });
      return;
    }
    // Key by key: the labels the resource has stay, whoever set them.
    for (const key of missing) node.addOverride(`labels.${key}`, this.labels[key]);
  }

  /**
   * The resources of a type the reaper removes that `terraform`, what `stack` wrote, leaves without the stack's labels,
   * each with what is missing or changed and the fix: what came after this Aspect (a stack override, a later Aspect or
   * hook, skipValidation past its refusal) would otherwise deploy a resource no reaper finds, billed until deleted by hand.
   */
  public checkStack(stack: TerraformStack, terraform: Record<string, any>): string[] {
    // The staging reaper selects by expires-at (staging-reaper): labels without it leave every resource unreaped, and
    // the resources' own labels, checked against these, cannot tell. Validation refuses that; skipValidation skips it.
    const unexpiring = this.expiryRefusal === undefined ? [] : [this.expiryRefusal];
    const overrides: Record<string, any> = (stack as unknown as { rawOverrides?: Record<string, any> }).rawOverrides ?? {};
    return [...unexpiring, ...Object.keys(REAPED_COLLECTIONS).flatMap((type) => Object.entries<Record<string, any>>(terraform.resource?.[type] ?? {}).flatMap(([id, body]) => {
      const written: unknown = body.labels;
      const isMap = written !== null && typeof written === 'object' && !Array.isArray(written);
      const current = (isMap ? written : {}) as Record<string, unknown>;
      const { missing, differing } = this.mismatched(current);
      if (missing.length === 0 && differing.length === 0) return [];
      const address = `${type}.${id}`;
      const constructPath: unknown = body['//']?.metadata?.path;
      const what = [
        ...(!isMap && written !== undefined ? [`${notLabels(written)}`] : []),
        ...(missing.length > 0 ? [`they lack ${JSON.stringify(Object.fromEntries(missing.map((key) => [key, this.labels[key]])))}`] : []),
        ...differing.map((key) => `they set ${key} to ${quote(current[key])}, not ${quote(this.labels[key])}`),
      ].join('; ');
      const needed = JSON.stringify(Object.fromEntries([...missing, ...differing].map((key) => [key, this.labels[key]])));
      const overridden = stackOverridesOf(overrides, type, id, [...missing, ...differing], typeof constructPath === 'string');
      const refusal = [...this.refused.entries()].find(([node]) => node.terraformResourceType === type && node.friendlyUniqueId === id)?.[1];
      // Whichever way the labels were lost, a resource meant to stay is in the wrong stack: the reaper removes it, labelled.
      const fix = `${overridden.length > 0
        ? `remove ${overridden.map((at) => `stack.addOverride('${at}', …)`).join(' and ')}, or give the resource the staging reaper's labels in it: ${needed}`
        : refusal
          ? `${refusal.fix} (the stack refused them at validation, which skipValidation skips; it does not skip this check of what the stack writes)`
          : 'let the library\'s labels through: whatever sets this resource\'s labels after the stack labelled it (an Aspect added after the stack\'s, an onSynthesize hook) '
            + `must add to them ({ ...labels, team: 'data' }), not replace them; or add them: ${needed}`}`
        + `. A ${type} that must outlive a rehearsal belongs in another stack, not a staging one, whose resources the reaper removes`;
      const at = `${address}${typeof constructPath === 'string' ? ` (${constructPath})` : ''}`;
      const why = `as ${stack.node.path} writes it, ${what}: the staging reaper finds what a rehearsal that died before its destroy left by these labels, `
        + `so it would leave this ${type} running and billed`;
      return [written === undefined ? missingValue(at, 'labels', why, fix) : invalidValue(at, 'labels', written, why, fix)];
    }))];
  }

  /**
   * The resources whose labels could not be made the stack's, with why: once for each Machine, or resource outside one;
   * and the suppressions of Staging-NotReaped in `stack` that accepted no warning.
   */
  public errors(stack: IConstruct): string[] {
    const byOwner = new Map<IConstruct, string>();
    for (const { owner, message } of this.refused.values()) if (!byOwner.has(owner)) byOwner.set(owner, message);
    return [...byOwner.values(), ...stagingSuppressionRegistry.unusedRefusals(stack, this.suppressionUse, {
      why: `no resource on it or below it is of a type the staging reaper does not remove (it removes ${Object.keys(REAPED_COLLECTIONS).join(', ')})`,
    })];
  }

  /** A labelled type the reaper has no collection for: labelled, it still outlives a rehearsal that died, billed. */
  private warnIfNotReaped(node: TerraformResource): void {
    if (REAPED_COLLECTIONS[node.terraformResourceType] !== undefined || this.warned.has(node)) return;
    this.warned.add(node);
    const finding = `${node.node.path} is a ${node.terraformResourceType}, which the staging reaper does not remove `
      + `(it removes ${Object.keys(REAPED_COLLECTIONS).join(', ')}): after a rehearsal that died before its destroy, it stays, billed, and \`staging list\` `
      + 'does not show it';
    // A farther suppression covering this resource too is shadowed: if it covers nothing else, its refusal names the nearer one.
    const accepted = this.suppressionUse.take(stagingSuppressionRegistry.covering(node, STAGING_NOT_REAPED));
    if (accepted) {
      Annotations.of(node).addInfo(`${STAGING_NOT_REAPED} (accepted at ${accepted.owner.node.path}, reason ${quote(accepted.suppression.reason)}): ${finding}`);
      return;
    }
    Annotations.of(node).addWarning(`${STAGING_NOT_REAPED}: ${finding}. Fix: put it in another stack, or destroy it by hand when the rehearsal is over; `
      + `if it may outlive a rehearsal, accept it with a reason: StagingSuppressions.add(<it, or the stack>, [{ id: '${STAGING_NOT_REAPED}', reason: '…' }])`);
  }

  /** The stack's labels `current` lacks, and those it sets to another value. */
  private mismatched(current: Record<string, unknown>): { readonly missing: string[]; readonly differing: string[] } {
    const keys = Object.keys(this.labels).filter((key) => current[key] !== this.labels[key]);
    return { missing: keys.filter((key) => current[key] === undefined), differing: keys.filter((key) => current[key] !== undefined) };
  }

  private fix(owner: IConstruct, keys: readonly string[]): string {
    const fixes: string[] = [];
    // A Machine's environment label is its environment prop: the labels prop never set it.
    if (owner instanceof Machine && keys.includes('environment')) fixes.push('build the Machine with environment: stack.environment (its environment label comes from that prop)');
    const rest = Object.fromEntries(Object.entries(this.labels).filter(([key]) => keys.includes(key) && !(owner instanceof Machine && key === 'environment')));
    if (Object.keys(rest).length > 0) fixes.push(`leave these labels out (the stack sets them), or give them the stack's values: ${JSON.stringify(rest)}`);
    return fixes.join('; and ');
  }
}

/** The nearest Machine the resource is part of, or the resource itself. */
function ownerOf(resource: TerraformResource): IConstruct {
  return [...resource.node.scopes].reverse().find((scope) => scope instanceof Machine) ?? resource;
}

/**
 * The stack overrides (`stack.addOverride`) that wrote the resource `type`.`id` without the stack's `keys`, as their
 * paths: of its labels, those keys or the labels as a whole; or the resource as a whole when no construct made it.
 */
function stackOverridesOf(overrides: Record<string, any>, type: string, id: string, keys: readonly string[], madeByConstruct: boolean): string[] {
  const resource: unknown = overrides.resource?.[type]?.[id];
  if (resource === null || typeof resource !== 'object') return resource === undefined || madeByConstruct ? [] : [`resource.${type}.${id}`];
  const at = `resource.${type}.${id}`;
  if (!('labels' in resource)) return madeByConstruct ? [] : [at];
  const labels: unknown = (resource as Record<string, unknown>).labels;
  const byKey = labels !== null && typeof labels === 'object' && !Array.isArray(labels) ? keys.filter((key) => key in labels) : [];
  return byKey.length > 0 ? byKey.map((key) => `${at}.labels.${key}`) : [`${at}.labels`];
}

/** Why written labels are no map of labels, by what they are. */
function notLabels(written: unknown): string {
  if (typeof written === 'string' && written.includes('${')) return 'they are not known at synth';
  if (written === null) return 'they are null, not an object of labels';
  if (Array.isArray(written)) return 'they are a list, not an object of labels';
  return `they are a ${typeof written}, not an object of labels`;
}
