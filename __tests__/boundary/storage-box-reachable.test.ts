import { TerraformStack, TerraformVariable } from 'cdktf';
import { StorageBox } from '../../generated/providers/hcloud/storage-box';
import { SecretVariable } from '../../lib';
import { checkedStack, synthErrors } from './fixtures';
import { expectRefused } from './refusal';

// Audit 14: Boundary-NoPublicDataStore compared reachable_externally with the JSON boolean true only;
// "true" (which Terraform converts to true), "${true}" or a variable passed. Only an absent value or a
// literal false is known to keep the box closed.

function boxWith(reachable: ((stack: TerraformStack) => unknown) | undefined): TerraformStack {
  const stack = checkedStack();
  const pw = new SecretVariable(stack, 'box_pw', { description: 'Storage Box password' });
  const box = new StorageBox(stack, 'Box', {
    name: 'box', location: 'hel1', storageBoxType: 'bx11', password: pw.stringValue,
    labels: { 'data-class': 'sensitive', 'data-sensitive': 'true' }, accessSettings: { sshEnabled: true },
  });
  if (reachable) box.addOverride('access_settings.reachable_externally', reachable(stack));
  return stack;
}

describe('a Storage Box reachable from outside Hetzner', () => {
  test.each<[string, (stack: TerraformStack) => unknown, RegExp]>([
    ['true', () => true, /reachable_externally: true is not allowed/],
    ['"true"', () => 'true', /reachable_externally: 'true' is not allowed: .*Terraform may read it as true/],
    ['${true}', () => '${true}', /reachable_externally: '\$\{true\}' is not allowed/],
    ['a variable', (stack) => new TerraformVariable(stack, 'ext', { type: 'bool', default: true }).booleanValue, /reachable_externally: '\$\{var\.ext\}' is not allowed/],
  ])('written as %s is refused', (_name, reachable, why) => {
    expectRefused(() => boxWith(reachable), new RegExp(`Boundary-NoPublicDataStore: production/Box\\.access_settings\\.${why.source}`));
  });

  test('absent or literal false is accepted', () => {
    expect(synthErrors(boxWith(undefined))).toBe('');
    expect(synthErrors(boxWith(() => false))).toBe('');
  });
});
