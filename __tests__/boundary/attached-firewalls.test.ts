import { TerraformStack, Token } from 'cdktf';
import { Firewall, FirewallRule } from '../../generated/providers/hcloud/firewall';
import { FirewallAttachment } from '../../generated/providers/hcloud/firewall-attachment';
import { DataClass } from '../../lib';
import { checkedStack, machine, synthErrors } from './fixtures';
import { expectRefused } from './refusal';

// Audit 02: Boundary-RestrictedEgress read only the firewalls in a server's own firewall_ids. Hetzner
// adds the rules of every attached firewall together, so a second firewall attached any other way
// opened all egress of a sensitive machine; an id of a firewall outside the stack was ignored.

const OPEN_ALL: FirewallRule[] = [
  { direction: 'out', protocol: 'tcp', port: 'any', destinationIps: ['0.0.0.0/0', '::/0'] },
  { direction: 'out', protocol: 'udp', port: 'any', destinationIps: ['0.0.0.0/0', '::/0'] },
];

function withSecondFirewall(attach: (stack: TerraformStack, m: ReturnType<typeof machine>) => void): () => TerraformStack {
  return () => {
    const stack = checkedStack();
    attach(stack, machine(stack));
    return stack;
  };
}

describe('every firewall attached to a sensitive server counts', () => {
  test.each<[string, (stack: TerraformStack, m: ReturnType<typeof machine>) => void]>([
    ['apply_to server', (stack, m) => new Firewall(stack, 'Open', { name: 'open', rule: OPEN_ALL, applyTo: [{ server: Token.asNumber(m.server.id) }] })],
    ['apply_to label_selector', (stack) => new Firewall(stack, 'Open', { name: 'open', rule: OPEN_ALL, applyTo: [{ labelSelector: 'role=app' }] })],
    ['apply_to label_selector with set syntax', (stack) => new Firewall(stack, 'Open', { name: 'open', rule: OPEN_ALL, applyTo: [{ labelSelector: 'role in (app,worker),!nothing' }] })],
    ['hcloud_firewall_attachment by server', (stack, m) => {
      const fw = new Firewall(stack, 'Open', { name: 'open', rule: OPEN_ALL });
      new FirewallAttachment(stack, 'Attach', { firewallId: Token.asNumber(fw.id), serverIds: [Token.asNumber(m.server.id)] });
    }],
    ['hcloud_firewall_attachment by label', (stack) => {
      const fw = new Firewall(stack, 'Open', { name: 'open', rule: OPEN_ALL });
      new FirewallAttachment(stack, 'Attach', { firewallId: Token.asNumber(fw.id), labelSelectors: ['role=app'] });
    }],
  ])('a second firewall with open egress, attached by %s, is refused', (_name, attach) => {
    expectRefused(withSecondFirewall(attach), /Boundary-RestrictedEgress: production\/App\/\w+\.egress: 'tcp any to 0\.0\.0\.0\/0, ::\/0' is not allowed/);
  });

  test.each<[string, (stack: TerraformStack, m: ReturnType<typeof machine>) => void]>([
    ['an extra id in firewall_ids', (_stack, m) => { m.server.firewallIds = [Token.asNumber(m.firewall.id), 1234567]; }],
    ['an attachment of a firewall outside the stack', (stack, m) => {
      new FirewallAttachment(stack, 'Attach', { firewallId: 1234567, serverIds: [Token.asNumber(m.server.id)] });
    }],
  ])('%s is refused: its rules cannot be read', (_name, attach) => {
    const message = expectRefused(withSecondFirewall(attach), /'firewall 1234567' \(attached by [^)]*firewall_id/);
    expect(message).toMatch(/Fix: attach only firewalls of this stack/);
  });

  test('firewalls that do not reach the server are not counted', () => {
    const stack = checkedStack();
    const m = machine(stack);
    // Other labels, and another server of the stack: neither is this machine.
    new Firewall(stack, 'Other', { name: 'other', rule: OPEN_ALL, applyTo: [{ labelSelector: 'role=batch' }, { labelSelector: 'role!=app' }] });
    const other = machine(stack, 'Public', { dataClasses: [DataClass.PUBLIC], role: 'web' }, false);
    new Firewall(stack, 'ForOther', { name: 'for-other', rule: OPEN_ALL, applyTo: [{ server: Token.asNumber(other.server.id) }] });
    expect(synthErrors(stack)).not.toMatch(/production\/App\/\w+\.egress/);
    expect(m).toBeDefined();
  });
});
