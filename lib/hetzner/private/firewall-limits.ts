import { TerraformResource } from 'cdktf';
import { IConstruct } from 'constructs';
import { invalidValue } from '../../core/validation-message';
import { synthesizedArgument } from './synthesized-argument';

/**
 * Hetzner's limits of Cloud Firewalls (docs.hetzner.com/cloud/firewalls/faq): "up to 500 (effective) rules per
 * Firewall" and "up to 5 active Firewalls per server"; its 50 firewalls per account are counted over the App's stacks
 * (firewalls-per-account.ts).
 */
const RULES_PER_FIREWALL = 500;
const FIREWALLS_PER_SERVER = 5;
/**
 * Hetzner Cloud API reference, a firewall rule's `source_ips` and `destination_ips`: "You can specify 100 CIDR blocks
 * at most".
 * @internal
 */
export const BLOCKS_PER_RULE = 100;

/** What a machine sends Terraform for its firewall and its server. */
export interface FirewallUse {
  /** The machine, for the messages' paths. */
  readonly machine: IConstruct;
  /** The server resource, whose `firewall_ids` attach its firewalls. */
  readonly server: TerraformResource;
  /** The machine's own firewall. */
  readonly firewall: TerraformResource;
}

/**
 * The limits the machine's firewall and server pass, as Terraform will send them (overrides included), since Hetzner
 * refuses them only when Terraform writes the firewall or the server, part-way through a deploy. Hetzner does not say
 * how it counts an "effective" rule beyond the rule itself (whether each address block or port counts apart), so each
 * rule is counted once: a firewall past the limit by that count is surely refused, and none is refused on a guess.
 * A list Terraform computes (an expression) cannot be counted and is left to Hetzner.
 */
export function firewallLimitProblems(use: FirewallUse): string[] {
  const problems: string[] = [];
  const rules = synthesizedArgument(use.firewall, 'rule');
  if (Array.isArray(rules) && rules.length > RULES_PER_FIREWALL) {
    const inbound = rules.filter((r) => (r as { direction?: unknown } | null)?.direction === 'in').length;
    problems.push(invalidValue(use.machine, 'firewall', `${rules.length} rules (${inbound} inbound, ${rules.length - inbound} outbound)`,
      `Hetzner accepts at most ${RULES_PER_FIREWALL} (effective) rules per firewall, and each rule counts at least once, so Terraform could not write this firewall`,
      "merge rules: one rule for each protocol and port (or range of adjacent ports, such as '8000-8099') listing all its address blocks, and a wider block where one covers several"));
  }
  for (const rule of Array.isArray(rules) ? rules : []) {
    const r = (rule ?? {}) as { direction?: unknown; protocol?: unknown; port?: unknown; description?: unknown; source_ips?: unknown; destination_ips?: unknown };
    const blocks = r.direction === 'out' ? r.destination_ips : r.source_ips;
    if (!Array.isArray(blocks) || blocks.length <= BLOCKS_PER_RULE) continue;
    const what = `${r.direction === 'out' ? 'destination_ips' : 'source_ips'} of the rule '${String(r.description ?? `${r.direction} ${r.protocol} ${r.port ?? ''}`.trim())}'`;
    problems.push(invalidValue(use.machine, 'firewall', `${blocks.length} address blocks in the ${what}`,
      `Hetzner accepts at most ${BLOCKS_PER_RULE} address blocks in one rule, so Terraform could not write this firewall`,
      `split the blocks over rules of at most ${BLOCKS_PER_RULE} each, for the same protocol and port, or merge adjacent blocks into wider ones`));
  }
  const firewallIds = synthesizedArgument(use.server, 'firewall_ids');
  if (Array.isArray(firewallIds) && firewallIds.length > FIREWALLS_PER_SERVER) {
    problems.push(invalidValue(use.machine, 'server', `${firewallIds.length} firewalls (firewall_ids)`,
      `Hetzner assigns at most ${FIREWALLS_PER_SERVER} firewalls to a server, so Terraform could not create or update it`,
      "add the rules to the machine's own firewall (ingress/egress props, machine.allowInbound or machine.allowOutbound) and attach no other"));
  }
  return problems;
}
