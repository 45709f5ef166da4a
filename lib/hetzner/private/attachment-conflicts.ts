import { TerraformResource, TerraformStack } from 'cdktf';
import { IConstruct } from 'constructs';
import { labelSelectorMayMatch } from '../../core/labels';
import { invalidValue } from '../../core/validation-message';
import { synthesizedArguments } from './synthesized-argument';

/** What a machine attaches to its server itself, which other resources of its stack must not attach again. */
export interface OwnAttachments {
  /** The machine, for the messages' paths. */
  readonly machine: IConstruct;
  /** The server resource, whose `firewall_ids` (and inline `network`, if any) the machine sets. */
  readonly server: TerraformResource;
  /** The machine's own firewall, attached through `firewall_ids`. */
  readonly firewall: TerraformResource;
  /** The server's labels, which a label selector may match. */
  readonly labels: Record<string, string>;
  /** Whether the server joins a private network through its inline `network` block. */
  readonly inlineNetwork: boolean;
}

const FIX_FIREWALL = "add the rules to the machine's own firewall (ingress/egress props, machine.allowInbound or machine.allowOutbound), "
  + 'or attach the other firewall to servers that are not a Machine\'s';

/**
 * Resources of the machine's stack that also attach a firewall or a network to its server. hcloud treats the
 * server's `firewall_ids` as the whole list, so a firewall attached by `hcloud_firewall_attachment` is detached again
 * on the next apply (terraform-provider-hcloud #828), one attached by a label selector makes that apply fail with
 * `firewall_managed_by_label_selector` (#911), and both reach the server only after it booted unfiltered. The inline
 * `network` block and `hcloud_server_network` each claim the server's networks (server.md). The first deploy works;
 * the second breaks.
 */
export function attachmentConflicts(own: OwnAttachments): string[] {
  const stack = TerraformStack.of(own.machine);
  const serverAddress = `hcloud_server.${own.server.friendlyUniqueId}`;
  const namesServer = (value: unknown) => JSON.stringify(value ?? null).includes(`${serverAddress}.`);
  const errors: string[] = [];
  for (const c of stack.node.findAll()) {
    if (!(c instanceof TerraformResource) || c === own.firewall || c === own.server) continue;
    const type = c.terraformResourceType;
    if (type !== 'hcloud_firewall_attachment' && type !== 'hcloud_firewall' && type !== 'hcloud_server_network') continue;
    const body = synthesizedArguments(c, ['server_ids', 'label_selectors', 'apply_to', 'server_id']);
    const at = (attribute: string) => `${c.node.path}.${attribute}`;
    if (type === 'hcloud_firewall_attachment') {
      if (namesServer(body.server_ids)) {
        errors.push(invalidValue(own.machine, 'server', at('server_ids'),
          "it attaches another firewall to the server after it booted, and the server's firewall_ids (the machine's own firewall) "
          + 'detach it again on the next apply', FIX_FIREWALL));
      }
      for (const selector of listOf(body.label_selectors)) {
        if (labelSelectorMayMatch(selector, own.labels)) {
          errors.push(invalidValue(own.machine, 'server', `${at('label_selectors')} '${selector}'`,
            "it may match the server's labels, so it attaches another firewall after the server booted, which the server's firewall_ids "
            + 'detach again on the next apply', FIX_FIREWALL));
        }
      }
    } else if (type === 'hcloud_firewall') {
      for (const target of listOf(body.apply_to)) {
        const t = (typeof target === 'object' && target !== null ? target : {}) as Record<string, unknown>;
        if (namesServer(t.server)) {
          errors.push(invalidValue(own.machine, 'server', at('apply_to.server'),
            "it attaches the firewall to the server after it booted, and the server's firewall_ids detach it again on the next apply", FIX_FIREWALL));
        } else if (t.label_selector !== undefined && labelSelectorMayMatch(t.label_selector, own.labels)) {
          errors.push(invalidValue(own.machine, 'server', `${at('apply_to.label_selector')} '${String(t.label_selector)}'`,
            "it may match the server's labels: the firewall reaches the server after it booted, and the next apply, which sets the "
            + "server's firewall_ids, fails with firewall_managed_by_label_selector", FIX_FIREWALL));
        }
      }
    } else if (own.inlineNetwork && namesServer(body.server_id)) {
      errors.push(invalidValue(own.machine, 'server', at('server_id'),
        "the server joins its private network through its inline network block, and hcloud_server_network claims its networks too, "
        + 'so each apply detaches what the other attached', 'join one private network through the machine\'s privateNetwork only, or give the machine none and attach it with hcloud_server_network alone'));
    }
  }
  return errors;
}

/** A list attribute as its items; one value that is not a list (an expression) as one item. */
function listOf(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}
