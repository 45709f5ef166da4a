import { Token } from 'cdktf';
import { Firewall } from '../../generated/providers/hcloud/firewall';
import { FirewallAttachment } from '../../generated/providers/hcloud/firewall-attachment';
import { ServerNetworkA } from '../../generated/providers/hcloud/server-network';
import { Environment, Machine, PrivateNetwork, ServerType } from '../../lib';
import { ADMIN_CIDRS, ADMIN_KEY, resourcesOf, synthJson, testStack } from '../setup/stack';

// Pitfall 3 and 9: a machine attaches its firewall at creation (firewall_ids) and joins its network through the
// inline block. Another resource of the stack attaching a firewall (hcloud_firewall_attachment, a firewall's
// apply_to by server or label selector) or a network (hcloud_server_network) to the same server works on the first
// deploy, and breaks the second: firewall_ids detaches the attached firewall again (#828), a label-selector firewall
// fails it with firewall_managed_by_label_selector (#911), the two network claims undo each other.

function machine(props: { privateNetwork?: boolean } = {}) {
  const { stack } = testStack('production');
  const network = props.privateNetwork ? new PrivateNetwork(stack, 'Network', { environment: Environment.PRODUCTION }) : undefined;
  const m = new Machine(stack, 'App', {
    environment: Environment.PRODUCTION, role: 'app', serverType: ServerType.CX33, sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS,
    privateNetwork: network,
  });
  const office = new Firewall(stack, 'Office', { name: 'office' });
  return { stack, machine: m, office, network };
}

const FIX = /Fix: add the rules to the machine's own firewall \(ingress\/egress props, machine\.allowInbound or machine\.allowOutbound\)/;

test('an hcloud_firewall_attachment naming the server is refused, with the attachment and the fix', () => {
  const { stack, machine: m, office } = machine();
  new FirewallAttachment(stack, 'Attach', { firewallId: Token.asNumber(office.id), serverIds: [Token.asNumber(m.server.id)] });
  expect(() => synthJson(stack)).toThrow(/production\/App\.server: 'production\/Attach\.server_ids' is not allowed: it attaches another firewall to the server after it booted, and the server's firewall_ids \(the machine's own firewall\) detach it again on the next apply\. Fix: add the rules/);
  expect(() => synthJson(stack)).toThrow(FIX);
});

test("a firewall applied by a label selector that matches the server's labels is refused; one that cannot match passes", () => {
  const matching = machine();
  matching.office.putApplyTo([{ labelSelector: 'role=app,environment=production' }]);
  expect(() => synthJson(matching.stack)).toThrow(/production\/App\.server: 'production\/Office\.apply_to\.label_selector 'role=app,environment=production'' is not allowed: it may match the server's labels: .*fails with firewall_managed_by_label_selector/);

  const other = machine();
  other.office.putApplyTo([{ labelSelector: 'role=db' }]);
  new FirewallAttachment(other.stack, 'Attach', { firewallId: Token.asNumber(other.office.id), labelSelectors: ['role notin (app)'] });
  const json = synthJson(other.stack);
  expect(resourcesOf(json, 'hcloud_firewall').map((f) => f.apply_to ?? [])).toContainEqual([{ label_selector: 'role=db' }]);
});

test("a firewall applied to the server by id, and an attachment by a selector that matches, are refused", () => {
  const byId = machine();
  byId.office.putApplyTo([{ server: Token.asNumber(byId.machine.server.id) }]);
  expect(() => synthJson(byId.stack)).toThrow(/production\/App\.server: 'production\/Office\.apply_to\.server' is not allowed: it attaches the firewall to the server after it booted/);

  const bySelector = machine();
  new FirewallAttachment(bySelector.stack, 'Attach', { firewallId: Token.asNumber(bySelector.office.id), labelSelectors: ['managed-by=cdktf-sovereign-hetzner'] });
  expect(() => synthJson(bySelector.stack)).toThrow(/production\/Attach\.label_selectors 'managed-by=cdktf-sovereign-hetzner'' is not allowed: it may match the server's labels/);
});

test('hcloud_server_network on a machine that joins its network inline is refused; on a machine without one it is the only claim', () => {
  const inline = machine({ privateNetwork: true });
  new ServerNetworkA(inline.stack, 'Join', { serverId: Token.asNumber(inline.machine.server.id), subnetId: inline.network!.subnetId });
  expect(() => synthJson(inline.stack)).toThrow(/production\/App\.server: 'production\/Join\.server_id' is not allowed: the server joins its private network through its inline network block, and hcloud_server_network claims its networks too.* Fix: join one private network through the machine's privateNetwork only/);

  const separate = machine();
  const network = new PrivateNetwork(separate.stack, 'Network', { environment: Environment.PRODUCTION });
  new ServerNetworkA(separate.stack, 'Join', { serverId: Token.asNumber(separate.machine.server.id), subnetId: network.subnetId });
  expect(resourcesOf(synthJson(separate.stack), 'hcloud_server_network')).toHaveLength(1);
});

test("the machine's own firewall, and a firewall for other servers, pass", () => {
  const { stack, office } = machine();
  office.putApplyTo([{ server: 12345678 }]);
  const json = synthJson(stack);
  const [server] = resourcesOf(json, 'hcloud_server');
  expect(server.firewall_ids).toEqual([expect.stringMatching(/^\$\{hcloud_firewall\.App_Firewall_[0-9A-F]{8}\.id\}$/)]);
});
