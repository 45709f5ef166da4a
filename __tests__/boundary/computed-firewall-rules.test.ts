import { TerraformIterator, TerraformVariable } from 'cdktf';
import { Firewall } from '../../generated/providers/hcloud/firewall';
import { checkedStack, machine, synthErrors } from './fixtures';

// Red team (audit redteam): the firewall rules were read only from literal `rule` blocks. A rule written
// through cdktf's iterator (`dynamic "rule"`), a direction or protocol Terraform computes, or source
// addresses from a variable were skipped, so SSH and PostgreSQL could be opened to the internet, and
// a sensitive machine's egress widened, with synth passing.

const ANYWHERE = ['0.0.0.0/0', '::/0'];

describe('a firewall rule Terraform computes is read at its widest', () => {
  test('a dynamic rule block (TerraformIterator) opening SSH to the internet is refused', () => {
    const stack = checkedStack();
    machine(stack);
    const ports = new TerraformVariable(stack, 'ssh_ports', { type: 'list(string)', default: ['22'] });
    const each = TerraformIterator.fromList(ports.listValue);
    new Firewall(stack, 'Raw', { name: 'raw', rule: each.dynamic({ direction: 'in', protocol: 'tcp', port: each.value, source_ips: ANYWHERE }) });
    expect(synthErrors(stack)).toMatch(/Boundary-AdminSshOnly: production\/Raw\.rule: 'tcp \$\{each\.value\} from 0\.0\.0\.0\/0, ::\/0' is not allowed: it opens SSH to the whole internet\. Fix: allow SSH only from the admin CIDRs/);
  });

  test('a direction or protocol written as an expression, or sources from a variable, still count', () => {
    const stack = checkedStack();
    machine(stack);
    const cidrs = new TerraformVariable(stack, 'cidrs', { type: 'list(string)' });
    new Firewall(stack, 'Direction', { name: 'd', rule: [{ direction: '${"in"}', protocol: 'tcp', port: '5432', sourceIps: ANYWHERE }] });
    new Firewall(stack, 'Protocol', { name: 'p', rule: [{ direction: 'in', protocol: '${lower("TCP")}', port: '22', sourceIps: ANYWHERE }] });
    new Firewall(stack, 'Sources', { name: 's', rule: [{ direction: 'in', protocol: 'tcp', port: '22', sourceIps: cidrs.listValue }] });
    const errors = synthErrors(stack);
    expect(errors).toMatch(/Boundary-NoPublicDataStore: production\/Direction\.rule: 'tcp 5432 from 0\.0\.0\.0\/0, ::\/0' is not allowed: it exposes PostgreSQL/);
    expect(errors).toMatch(/Boundary-AdminSshOnly: production\/Protocol\.rule: 'any \(computed by Terraform\) 22 from/);
    expect(errors).toMatch(/Boundary-AdminSshOnly: production\/Sources\.rule: 'tcp 22 from \$\{var\.cidrs\}, 0\.0\.0\.0\/0 \(computed by Terraform: may be any address\)' is not allowed/);
  });

  test('a rule list written as one expression, attached to a sensitive machine, is refused as unreadable egress', () => {
    const stack = checkedStack();
    const m = machine(stack);
    const rules = new TerraformVariable(stack, 'rules', { type: 'any' });
    const fw = new Firewall(stack, 'Extra', { name: 'extra' });
    fw.addOverride('rule', rules.value);
    fw.addOverride('apply_to', [{ server: m.server.id }]);
    expect(synthErrors(stack)).toMatch(/Boundary-RestrictedEgress: production\/App\/Resource\.egress: 'any \(computed by Terraform\) \$\{var\.rules\} to \$\{var\.rules\}, 0\.0\.0\.0\/0 \(computed by Terraform: may be any address\)' is not allowed: the server holds sensitive data/);
  });

  test('literal rules a sensitive machine is allowed keep passing', () => {
    const stack = checkedStack();
    machine(stack);
    new Firewall(stack, 'Web', { name: 'web', rule: [{ direction: 'in', protocol: 'tcp', port: '443', sourceIps: ANYWHERE }] });
    expect(synthErrors(stack)).toBe('');
  });
});
