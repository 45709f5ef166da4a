import * as fs from 'fs';
import * as path from 'path';
import { EXAMPLES } from '../../examples';
import { resources, synthExample } from './synth-examples';

// The examples are what a team copies. With one key set for all environments, the key test's deploys use
// (test's ADMIN_SSH_KEY, held by every test CI job) was root on production, and every newcomer's first
// synth warned about it (Environment-SharedAdminKey) three times.
describe.each(Object.entries(EXAMPLES))('example %s: admin keys', (_name, define) => {
  const { outdir, stacks } = synthExample(define);
  const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8'));
  const keyMaterial = (stack: any) => new Set(resources(stack, 'hcloud_ssh_key').map((key) => key.public_key.split(/\s+/).slice(0, 2).join(' ')));
  const stackEndingWith = (suffix: string) => Object.entries(stacks).find(([stack]) => stack.endsWith(suffix))![1];
  const test_ = stackEndingWith('-test');
  const production = stackEndingWith('-production');

  test('test has a key of its own that opens no production machine', () => {
    const productionKeys = keyMaterial(production);
    expect(productionKeys.size).toBeGreaterThan(0);
    expect([...keyMaterial(test_)].filter((key) => !productionKeys.has(key))).toHaveLength(1);
  });

  test('synthesizes without the shared-key warning', () => {
    const warnings = Object.values<any>(manifest.stacks).flatMap((stack) => stack.annotations ?? [])
      .map((annotation: { message: string }) => annotation.message);
    expect(warnings.filter((message: string) => message.startsWith('Environment-SharedAdminKey'))).toEqual([]);
  });
});
