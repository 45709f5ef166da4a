import { Fn, Testing, TerraformLocal, TerraformOutput, TerraformVariable } from 'cdktf';
import { SecretVariable } from '../../lib';
import { checkedStack, synthErrors } from './fixtures';

// audit 10: a local between the output and the secret hid it from Boundary-SensitiveOutput.
describe('Boundary-SensitiveOutput follows locals', () => {
  test('refuses an unmarked output of a local holding nonsensitive(var.secret)', () => {
    const stack = checkedStack();
    const pw = new SecretVariable(stack, 'db_password', { description: 'DB password' });
    const local = new TerraformLocal(stack, 'dbpw', Fn.nonsensitive(pw.stringValue));
    new TerraformOutput(stack, 'debug_password', { value: local.asString });
    expect(synthErrors(stack)).toMatch(/Boundary-SensitiveOutput: production\.output\.debug_password: 'sensitive: false' is not allowed: the output carries a secret \(through local\.dbpw\)\. Fix: mark the output sensitive/);
  });

  test('follows locals through other locals, and stops on a cycle', () => {
    const stack = checkedStack();
    const pw = new SecretVariable(stack, 'db_password', { description: 'DB password' });
    const inner = new TerraformLocal(stack, 'inner', pw.stringValue);
    const outer = new TerraformLocal(stack, 'outer', `postgres://app:${inner.asString}@db`);
    new TerraformOutput(stack, 'url', { value: outer.asString });
    // Terraform refuses cyclic locals, but the rule must still end on them.
    const a = new TerraformLocal(stack, 'a', '');
    const b = new TerraformLocal(stack, 'b', a.asString);
    a.expression = b.asString;
    new TerraformOutput(stack, 'cycle', { value: a.asString });
    expect(JSON.parse(Testing.synth(stack)).locals).toMatchObject({ a: '${local.b}', b: '${local.a}' });
    const errors = synthErrors(stack);
    expect(errors).toMatch(/production\.output\.url: 'sensitive: false' is not allowed: the output carries a secret \(through local\.outer → local\.inner\)/);
    expect(errors).not.toMatch(/output\.cycle/);
  });

  test('passes a local of plain values, and a marked output of a secret local', () => {
    const stack = checkedStack();
    const region = new TerraformVariable(stack, 'region', { type: 'string' });
    new TerraformOutput(stack, 'where', { value: new TerraformLocal(stack, 'where_local', `${region.stringValue}-1`).asString });
    const pw = new SecretVariable(stack, 'db_password', { description: 'DB password' });
    new TerraformOutput(stack, 'pw', { value: new TerraformLocal(stack, 'pw_local', pw.stringValue).asString, sensitive: true });
    expect(synthErrors(stack)).toBe('');
  });

  // Red team (audit boundary3): only `type.name.attribute` was read, so nonsensitive() around the
  // whole resource, or an attribute after an index, printed the password unmarked.
  test('refuses an unmarked output of a whole resource holding a secret, or of a secret after an index', () => {
    const stack = checkedStack();
    new TerraformOutput(stack, 'box', { value: '${nonsensitive(jsonencode(hcloud_storage_box.box))}' });
    new TerraformOutput(stack, 'first', { value: '${nonsensitive(hcloud_storage_box.boxes[0].password)}' });
    new TerraformOutput(stack, 'box_id', { value: '${hcloud_storage_box.box.id}' });
    const errors = synthErrors(stack);
    expect(errors).toMatch(/production\.output\.box: 'sensitive: false' is not allowed: the output carries a secret/);
    expect(errors).toMatch(/production\.output\.first: 'sensitive: false' is not allowed/);
    expect(errors).not.toMatch(/output\.box_id/);
  });
});
