import { Fn, TerraformStack, TerraformVariable, Testing } from 'cdktf';
import { DataClass, EgressAllowlist, Environment, Machine, ServerType } from '../../lib';
import { policy } from '../boundary/fixtures';
import { expectRefused, refusal } from '../boundary/refusal';
import { ADMIN_CIDRS, ADMIN_KEY, testStack } from '../setup/stack';

// The parts a machine's bundle and cloud-init are built from. A file two parts write and a command
// holding a Terraform reference used to pass the constructors and fail when the document rendered at
// synth, with a plain Error ("Resolution error: MachineBundle: …") that named no construct. They are
// refused where the part is added, naming the machine, the part and the value; a JavaScript caller's
// malformed part is refused the same way.

function machine(stack: TerraformStack, id = 'App'): Machine {
  return new Machine(stack, id, {
    environment: Environment.PRODUCTION, role: id.toLowerCase(), serverType: ServerType.CX33,
    sshKeys: [ADMIN_KEY], adminCidrs: ADMIN_CIDRS, dataClasses: [DataClass.SENSITIVE],
  });
}

describe('a bundle part', () => {
  test('writing a file another part writes is refused when added, naming the owner', () => {
    const { stack } = testStack();
    const m = machine(stack);
    EgressAllowlist.apply(m, { policy });
    expect(refusal(() => m.addBundlePart({ name: 'mine', files: [{ path: '/etc/sovereign/egress-hostnames', content: 'evil.example.com\n' }] })))
      .toMatch(/^production\/App\.bundle\.part\(mine\)\.files\[0\]\.path: '\/etc\/sovereign\/egress-hostnames' is not allowed: part 'egress-allowlist' writes it already, and a file has one content\. Fix: let one part own each file/);
    expect(m.bundle.partNames).not.toContain('mine');
  });

  test.each([
    ['in a command string', (v: string) => `echo ${v} > /tmp/x`],
    ['as a word of an argv command', (v: string) => ['sh', '-c', v]],
  ])('holding a Terraform reference %s is refused when added', (_name, command) => {
    const { stack } = testStack();
    const m = machine(stack);
    const v = new TerraformVariable(stack, 'token', { type: 'string', sensitive: true });
    const message = refusal(() => m.addBundlePart({ name: 'mine', commands: ['true', command(v.stringValue)] }));
    expect(message).toMatch(/^production\/App\.bundle\.part\(mine\)\.commands\[1\]: .* is not allowed: it holds a Terraform reference.*Fix: write the value into a file of the part/);
  });

  test('a refused first part leaves the machine able to take a correct one', () => {
    const { stack } = testStack();
    const m = machine(stack);
    refusal(() => m.addBundlePart({ name: 'mine', commands: [Fn.uuid()] }));
    expect(m.rollout).toBeUndefined();
    refusal(() => m.addBundlePart({ name: 'mine', files: [{ path: '/etc/x', content: '1' }, { path: '/etc/x', content: '2' }] }));
    // The machine's own parts went in with the rollout that delivers them; the refused part did not.
    expect(m.rollout).toBeDefined();
    expect(m.bundle.partNames).not.toContain('mine');
    m.addBundlePart({ name: 'mine', commands: ['true'] });
    expect(m.bundle.partNames.filter((n) => n === 'sovereign machine identity')).toHaveLength(1);
    expect(() => Testing.synth(stack, true)).not.toThrow();
  });

  test('a part added to machine.bundle directly gets the same check', () => {
    const { stack } = testStack();
    const m = machine(stack);
    m.addBundlePart({ name: 'a', files: [{ path: '/etc/a', content: '1' }] });
    expect(refusal(() => m.bundle.addPart({ name: 'b', files: [{ path: '/etc/a', content: '2' }] })))
      .toMatch(/^production\/App\.bundle\.part\(b\)\.files\[0\]\.path: '\/etc\/a' is not allowed: part 'a' writes it already/);
  });
});

describe('a part changed after it was added', () => {
  test('is rendered as it was checked: a clash pushed in later, or a command turned into a reference, never reaches the document', () => {
    // Before, the part was kept by reference: the later edit passed addPart's checks and failed the render at synth with a plain Error.
    const { stack } = testStack();
    const m = machine(stack);
    const files = [{ path: '/etc/a', content: '1' }];
    const commands: string[] = ['true'];
    const part = { name: 'a', files, commands };
    m.addBundlePart(part);
    files.push({ path: '/etc/sovereign/machine-id-check', content: 'x' }, { path: '/etc/a', content: '2' });
    commands.push(`echo ${Fn.uuid()}`);
    const produced = m.bundle.files();
    expect(produced.get('/etc/a')!.content).toBe('1');
    expect([...produced.keys()].filter((p) => p === '/etc/a')).toHaveLength(1);
    expect(() => Testing.synth(stack, true)).not.toThrow();
    const cloud = { name: 'c', files: [{ path: '/etc/c', content: '1' }] };
    m.addCloudInitPart(cloud);
    cloud.files.push({ path: '/etc/c', content: '2' });
    expect(() => m.cloudInit.render()).not.toThrow();
  });
});

describe('a cloud-init part', () => {
  test('writing a file another part writes is refused when added', () => {
    const { stack } = testStack();
    const m = machine(stack);
    m.addCloudInitPart({ name: 'a', files: [{ path: '/etc/x', content: '1' }] });
    expect(refusal(() => m.addCloudInitPart({ name: 'b', files: [{ path: '/etc/x', content: '2' }] })))
      .toMatch(/^production\/App\.cloudInit\.part\(b\)\.files\[0\]\.path: '\/etc\/x' is not allowed: part 'a' writes it already/);
  });

  test('compressing a reference is refused when added, or at synth when the content is produced then', () => {
    const { stack } = testStack();
    const m = machine(stack);
    const v = new TerraformVariable(stack, 'token', { type: 'string', sensitive: true });
    expect(refusal(() => m.addCloudInitPart({ name: 'a', files: [{ path: '/etc/x', content: v.stringValue, permissions: '0600', compress: true }] })))
      .toMatch(/^production\/App\.cloudInit\.part\(a\)\.files\[0\]\.content: '<content with a Terraform reference>' is not allowed: the file is compressed/);
    expectRefused(() => {
      const s = testStack().stack;
      const later = machine(s);
      const w = new TerraformVariable(s, 'token', { type: 'string', sensitive: true });
      later.addCloudInitPart({ name: 'b', files: [{ path: '/etc/y', content: () => `token=${w.stringValue}\n`, permissions: '0600', compress: true }] });
      return s;
    }, /production\/App\.cloudInit\.part\(b\)\.files\[0\]\.content: '<content with a Terraform reference>' is not allowed: the file is compressed \(compress: true\)/);
  });
});

describe('parts from plain JavaScript', () => {
  test.each([
    ['no part', null, /^production\/App\.bundle\.part: missing: an object of named values is required/],
    ['a file that is a path', { name: 'mine', files: ['/etc/x'] }, /^production\/App\.bundle\.part\(mine\)\.files\[0\]: '\/etc\/x' is not allowed: it is a string, not an object of named values\. Fix: pass \{ path: /],
    ['a part without a name', { commands: ['true'] }, /^production\/App\.bundle\.part\.name: missing: a text value is required/],
    ['a misspelt commands', { name: 'mine', command: ['systemctl restart x'] }, /^production\/App\.bundle\.part\(mine\)\.command: 'command' is not allowed: there is no property of this name.*did you mean 'commands'\?/],
    ['packages as one string', { name: 'mine', packages: 'curl' }, /^production\/App\.bundle\.part\(mine\)\.packages: 'curl' is not allowed: it is a string, not a list/],
    ['a file without a path', { name: 'mine', files: [{ content: 'x' }] }, /^production\/App\.bundle\.part\(mine\)\.files\[0\]\.path: missing/],
    ['a file whose content is a number', { name: 'mine', files: [{ path: '/etc/x', content: 42 }] }, /^production\/App\.bundle\.part\(mine\)\.files\[0\]\.content: 42 is not allowed: it is a number, not a text value/],
    ['a misspelt file option', { name: 'mine', files: [{ path: '/etc/x', content: 'x', permission: '0600' }] }, /^production\/App\.bundle\.part\(mine\)\.files\[0\]\.permission: .*did you mean 'permissions'\?/],
    ['a command word that is a number', { name: 'mine', commands: [['sleep', 5]] }, /^production\/App\.bundle\.part\(mine\)\.commands\[0\]\[1\]: 5 is not allowed: it is a number, not a text value/],
    ['activatesFirst as a string', { name: 'mine', activatesFirst: 'yes' }, /^production\/App\.bundle\.part\(mine\)\.activatesFirst: 'yes' is not allowed: it is a string, not true or false/],
  ])('%s is refused by name at addBundlePart', (_name, part, message) => {
    const { stack } = testStack();
    const m = machine(stack);
    expect(refusal(() => m.addBundlePart(part as any))).toMatch(message);
    // Nothing half-added: the machine has no bundle, so no rollout.
    expect(m.rollout).toBeUndefined();
  });

  test.each([
    ['a misspelt compress', { name: 'mine', files: [{ path: '/etc/x', content: 'x', compressed: true }] }, /^production\/App\.cloudInit\.part\(mine\)\.files\[0\]\.compressed: .*did you mean 'compress'\?/],
    ['compress as a string', { name: 'mine', files: [{ path: '/etc/x', content: 'x', compress: 'yes' }] }, /^production\/App\.cloudInit\.part\(mine\)\.files\[0\]\.compress: 'yes' is not allowed: it is a string, not true or false/],
    ['a bundle-only option', { name: 'mine', files: [{ path: '/etc/x', content: 'x', check: ['true'] }] }, /^production\/App\.cloudInit\.part\(mine\)\.files\[0\]\.check: 'check' is not allowed: there is no property of this name/],
    ['activatesFirst, which only the bundle orders', { name: 'mine', activatesFirst: true }, /^production\/App\.cloudInit\.part\(mine\)\.activatesFirst: 'activatesFirst' is not allowed: there is no property of this name/],
  ])('%s is refused by name at addCloudInitPart', (_name, part, message) => {
    const { stack } = testStack();
    expect(refusal(() => machine(stack).addCloudInitPart(part as any))).toMatch(message);
  });
});
