import { Fn, TerraformLocal, TerraformStack } from 'cdktf';
import { HcloudProvider } from '../../generated/providers/hcloud/provider';
import { StorageBox } from '../../generated/providers/hcloud/storage-box';
import { SecretVariable } from '../../lib';
import { checkedStack, synthErrors } from './fixtures';
import { expectRefused } from './refusal';

// Audit 09: a literal in an attribute the provider marks sensitive was refused only when it was not an
// expression, so wrapping it in any function, or in ${"…"}, wrote it to cdk.tf.json unflagged. A
// value now counts as not literal only when it reads a variable, a resource, a data source or a module.

const PASSWORD = 'Tenant-Backups-2024!';
const box = (stack: TerraformStack, password: string) => new StorageBox(stack, 'Box', {
  name: 'box', location: 'hel1', storageBoxType: 'bx11', password, labels: { 'data-class': 'secret', 'data-secret': 'true' },
});

describe('a literal wrapped in an expression is still a literal', () => {
  test.each<[string, (stack: TerraformStack) => string]>([
    ['Fn.trimspace', () => Fn.trimspace(PASSWORD)],
    ['${"…"}', () => `\${"${PASSWORD}"}`],
    ['Fn.join of literals', () => Fn.join('', ['Tenant-', 'Backups-2024!'])],
    ['a local holding a literal', (stack) => new TerraformLocal(stack, 'pw', PASSWORD).asString],
  ])('a Storage Box password written as %s is refused, without printing it', (_name, password) => {
    const message = expectRefused(() => {
      const stack = checkedStack();
      box(stack, password(stack));
      return stack;
    }, /Boundary-NoPlaintextSecret: production\/Box\.password: '<redacted>' is not allowed: .*reads no variable, resource or data source/);
    expect(message).not.toContain('Backups-2024');
  });

  test('a provider token joined from literals is refused', () => {
    const tok = 'q8Zr4TnW2vYk7LmP9sXc3BfH6jDa1GeK5uVw0NxRyQtAzCbEoIpMhJlSgUdFi7Ok';
    expectRefused(() => {
      const stack = checkedStack();
      (stack.node.tryFindChild('hcloud') as HcloudProvider).token = Fn.join('', [tok.slice(0, 32), tok.slice(32)]);
      return stack;
    }, /provider\.hcloud\.token: '<redacted>' is not allowed/);
  });

  test('expressions that read a secret variable, directly, through a function or a local, are accepted', () => {
    for (const wrap of [(v: string) => v, (v: string) => Fn.trimspace(v), (v: string, s: TerraformStack) => new TerraformLocal(s, 'pw', v).asString]) {
      const stack = checkedStack();
      const pw = new SecretVariable(stack, 'box_password', { description: 'Storage Box password' });
      box(stack, wrap(pw.stringValue, stack));
      expect(synthErrors(stack)).toBe('');
    }
  });
});
