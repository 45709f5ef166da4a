import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TerraformStack, Testing } from 'cdktf';
import { HetznerStandIn, stackJson } from '../../testing';

// The testing entry point from plain JavaScript: a wrong argument is refused with path, value and fix,
// not passed on to Terraform as a stack's JSON or crashed on with a TypeError.

describe('stackJson', () => {
  test('a stack built with another copy of cdktf is synthesized, not passed on as JSON', () => {
    // A second module instance of cdktf: its TerraformStack is another class, as in an app with its own cdktf.
    let other: typeof import('cdktf') | undefined;
    jest.isolateModules(() => { other = require('cdktf'); });
    expect(other!.TerraformStack).not.toBe(TerraformStack);
    const stack = new other!.TerraformStack(other!.Testing.app(), 'acme-test');
    new other!.TerraformOutput(stack, 'app_ipv4', { value: '203.0.113.10' });
    const json = stackJson(stack as unknown as TerraformStack);
    expect(json).toEqual({ output: { app_ipv4: { value: '203.0.113.10' } } });
  });

  test.each([
    ['null', null, /^stackJson\.stack: null is not allowed: it is not a stack, a synthesized stack directory or file, or its JSON\. Fix: pass the TerraformStack/],
    ['a number', 42, /^stackJson\.stack: 42 is not allowed/],
    ['a list', [], /^stackJson\.stack: \[\] is not allowed/],
    ['a construct that is not a stack', new TerraformStack(Testing.app(), 's').node.scope, /^stackJson\.stack: '<a construct>' is not allowed/],
  ])('%s is refused', (_name, value, message) => {
    expect(() => stackJson(value as any)).toThrow(message);
  });

  // Audit (messages): a stack directory not synthesized yet failed with fs's "ENOENT: no such file or directory, stat …",
  // and a cdk.tf.json a synth cut short with JSON.parse's "Unexpected end of JSON input", which names no file.
  test('a stack directory or file that is missing or cut short is named, with the fix', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-json-'));
    try {
      const missing = path.join(dir, 'cdktf.out', 'stacks', 'acme-test');
      expect(() => stackJson(missing)).toThrow(`${missing} cannot be read: it does not exist. Fix: synthesize the app first (npx cdktf synth), or pass the TerraformStack itself.`);
      fs.mkdirSync(missing, { recursive: true });
      fs.writeFileSync(path.join(missing, 'cdk.tf.json'), '{"resource": {');
      expect(() => stackJson(missing)).toThrow(new RegExp(`^${path.join(missing, 'cdk.tf.json').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not valid JSON \\(.*\\)\\. Fix: synthesize the app first`));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('HetznerStandIn options', () => {
  test.each([
    ['null', null, /^HetznerStandIn\.options: null is not allowed: the property is optional.*Fix: leave options out \(or undefined\), or pass \{ dir, reattach \}$/],
    ['a misspelt option', { reatach: false }, /^HetznerStandIn\.options\.reatach: 'reatach' is not allowed: .*did you mean 'reattach'\?/],
    ['reattach as text', { reattach: 'false' }, /^HetznerStandIn\.options\.reattach: 'false' is not allowed: it is a string, not true or false/],
  ])('%s is refused before anything is created', (_name, options, message) => {
    expect(() => new HetznerStandIn(options as any)).toThrow(message);
  });

  test('valid options still make a stand-in in the given directory', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'standin-options-'));
    try {
      expect(new HetznerStandIn({ dir, reattach: false }).dir).toBe(dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
