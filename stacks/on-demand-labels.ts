import { IAspect, TerraformResource } from 'cdktf';
import { IConstruct } from 'constructs';
import { invalidValue } from '../lib/core/validation-message';
import { synthesizedArgument } from '../lib/hetzner/private/synthesized-argument';

/**
 * Gives every Hetzner resource of a staging stack that takes labels the stack's on-demand labels, whoever built it (a
 * `networkClients` worker, a machine added after the stack): the staging reaper finds what to delete by those labels,
 * and a worker without them outlived a rehearsal that died before its destroy, running and billed, once the reaper had
 * deleted its network. A label set to another value is refused, neither kept (the reaper would miss the resource) nor
 * overwritten (a label its author wrote would be silently untrue). An Aspect, so that it sees what is added later too.
 */
export class OnDemandLabels implements IAspect {
  private readonly refused = new Map<TerraformResource, string>();

  constructor(private readonly labels: Readonly<Record<string, string>>) {}

  public visit(node: IConstruct): void {
    if (!(node instanceof TerraformResource) || !node.terraformResourceType.startsWith('hcloud_')) return;
    // A generated resource with a labels argument has resetLabels; the others (an attachment, a subnet) take none.
    if (typeof (node as { resetLabels?: unknown }).resetLabels !== 'function') return;
    this.refused.delete(node);
    // As synthesized, overrides included: an addOverride('labels', …) replaces what the constructor was given.
    const written = synthesizedArgument(node, 'labels');
    if (written !== undefined && (written === null || typeof written !== 'object' || Array.isArray(written))) {
      this.refused.set(node, invalidValue(node, 'labels', written, "they are not known at synth, so the staging reaper's labels cannot be added to them", this.fix()));
      return;
    }
    const current = (written ?? {}) as Record<string, unknown>;
    const differing = Object.entries(this.labels).filter(([key, value]) => current[key] !== undefined && current[key] !== value);
    if (differing.length > 0) {
      this.refused.set(node, invalidValue(node, 'labels', Object.fromEntries(differing.map(([key]) => [key, current[key]])),
        'a staging stack labels what it creates for the staging reaper, which finds what a rehearsal left by these labels; '
        + 'with other values the reaper would leave this resource running and billed', this.fix()));
      return;
    }
    // Key by key: the labels the resource has stay, whoever set them.
    for (const [key, value] of Object.entries(this.labels)) if (current[key] === undefined) node.addOverride(`labels.${key}`, value);
  }

  /** The resources whose labels could not be made the stack's, with why. */
  public errors(): string[] {
    return [...this.refused.values()];
  }

  private fix(): string {
    return `leave these labels out (the stack sets them), or give them the stack's values: ${JSON.stringify(this.labels)}`;
  }
}
