import { labelSelectorMayMatch as mayMatch } from '../../core/labels';
import { SynthesizedResource } from './rule';

/**
 * What attaches to a server, as Hetzner would apply it: every firewall of the stack that reaches
 * the server (its own `firewall_ids`, a firewall's `apply_to` by server or label selector, an
 * `hcloud_firewall_attachment`), and every id that names no firewall of the stack. Hetzner adds
 * the rules of all attached firewalls together, so a rule that judges egress must read them all.
 */
export interface AttachedFirewalls {
  /** The stack's firewalls that reach the server. */
  readonly firewalls: readonly SynthesizedResource[];
  /** Ids attached to the server whose firewall is not in the stack, so whose rules are unknown, with the attribute that attaches each. */
  readonly unknown: ReadonlyArray<{ readonly attribute: string; readonly id: string }>;
}

/** The firewalls attached to `server`, read from every resource of its stack. */
export function firewallsAttachedTo(server: SynthesizedResource, resources: readonly SynthesizedResource[]): AttachedFirewalls {
  const byReference = new Map(resources.filter((r) => r.type === 'hcloud_firewall').map((f) => [`\${hcloud_firewall.${f.name}.id}`, f]));
  const serverNames = new Set(resources.filter((r) => r.type === 'hcloud_server').map((r) => r.name));
  const firewalls = new Set<SynthesizedResource>();
  const unknown: Array<{ attribute: string; id: string }> = [];
  const attach = (attribute: string, id: unknown): void => {
    const firewall = typeof id === 'string' ? byReference.get(id.trim()) : undefined;
    if (firewall) firewalls.add(firewall);
    else unknown.push({ attribute, id: typeof id === 'string' ? id : JSON.stringify(id) });
  };
  const reaches = (serverIds: unknown, selectors: unknown): boolean =>
    listOf(serverIds).some((id) => mayName(id, server.name, serverNames)) || listOf(selectors).some((s) => mayMatch(s, server.body.labels));

  for (const id of listOf(server.body.firewall_ids)) attach('firewall_ids', id);
  for (const firewall of resources.filter((r) => r.type === 'hcloud_firewall')) {
    const targets = listOf(firewall.body.apply_to);
    // apply_to written as one expression may name any server.
    if (targets.some((t) => !isObject(t) || reaches(t.server, t.label_selector))) firewalls.add(firewall);
  }
  for (const attachment of resources.filter((r) => r.type === 'hcloud_firewall_attachment')) {
    if (reaches(attachment.body.server_ids, attachment.body.label_selectors)) attach(`${attachment.path}.firewall_id`, attachment.body.firewall_id);
  }
  return { firewalls: [...firewalls], unknown };
}

/** A list attribute as its items; an expression standing for the whole list is one unknown item. */
function listOf(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value.filter((v) => v !== undefined && v !== null) : [value];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Whether a server id may be the server's: a reference to it, or anything that references no
 * other server of the stack (a literal id or an expression could be this server once it exists).
 */
export function mayName(id: unknown, name: string, serverNames: ReadonlySet<string>): boolean {
  const text = typeof id === 'string' ? id : JSON.stringify(id);
  const named = [...text.matchAll(/hcloud_server\.([A-Za-z0-9_-]+)\.id/g)].map((m) => m[1]);
  if (named.includes(name)) return true;
  return !named.some((n) => serverNames.has(n));
}

