import { Fn, TerraformStack, TerraformVariable } from 'cdktf';
import { Volume } from '../../generated/providers/hcloud/volume';
import { checkedStack, machine, synthErrors } from './fixtures';
import { expectRefused } from './refusal';

// Audit 01: Boundary-EuPlacement skipped every placing value Terraform computes, although an unknown
// place counts as outside the EU: a variable defaulting to 'ash', '${"ash"}' or Fn.lower('ASH') put a
// sensitive server, its IPs and a volume in Ashburn with synth passing.

const COMPUTED: Array<[string, (stack: TerraformStack) => string]> = [
  ['a variable', (stack) => new TerraformVariable(stack, 'region', { type: 'string', default: 'ash' }).stringValue],
  ['a literal wrapped in ${}', () => '${"ash"}'],
  ['a function', () => Fn.lower('ASH')],
  ['a variable that happens to default to an EU place', (stack) => new TerraformVariable(stack, 'region', { type: 'string', default: 'fsn1' }).stringValue],
];

describe('a place Terraform computes counts as outside the EU', () => {
  test.each(COMPUTED)('the server, its IPs and a raw volume placed by %s are refused', (_name, place) => {
    const message = expectRefused(() => {
      const stack = checkedStack();
      const m = machine(stack);
      const location = place(stack);
      for (const r of [m.server, m.ipv4!, m.ipv6]) r.location = location;
      new Volume(stack, 'Data', { name: 'tenant-data', size: 10, location });
      return stack;
    }, /Boundary-EuPlacement: production\/Data\.location: '\$\{[^']+\}' is not allowed: .*Terraform computes this place.*Fix: write the place as a literal/);
    expect(message).toMatch(/production\/App\/\w+\.location: '\$\{/);
  });

  test('a reference to another resource\'s literal EU location is accepted; to a non-EU one it is refused', () => {
    const accepted = checkedStack();
    const m = machine(accepted);
    new Volume(accepted, 'Data', { name: 'tenant-data', size: 10, location: m.server.location });
    expect(synthErrors(accepted)).toBe('');

    expectRefused(() => {
      const stack = checkedStack();
      const other = new Volume(stack, 'Elsewhere', { name: 'elsewhere', size: 10, location: 'ash' });
      new Volume(stack, 'Data', { name: 'tenant-data', size: 10, location: other.location });
      return stack;
    }, /production\/Data\.location: 'ash' is not allowed/);
  });

  test('a public resource may be placed by an expression', () => {
    const stack = checkedStack();
    new Volume(stack, 'Site', { name: 'site', size: 10, location: Fn.lower('ASH'), labels: { 'data-class': 'public', 'data-public': 'true' } });
    expect(synthErrors(stack)).not.toMatch(/Site\.location/);
  });
});
