import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdktf';

/**
 * Synthesizes an example app the way `cdktf synth` does (full app.synth(), validations and
 * backend included) into a fresh directory, and returns each stack's cdk.tf.json.
 */
export function synthExample(define: (app: App) => unknown): { outdir: string; stacks: Record<string, any> } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'example-'));
  const app = new App({ outdir });
  define(app);
  app.synth();
  const stacksDir = path.join(outdir, 'stacks');
  const stacks = Object.fromEntries(fs.readdirSync(stacksDir).sort().map((name) =>
    [name, JSON.parse(fs.readFileSync(path.join(stacksDir, name, 'cdk.tf.json'), 'utf8'))]));
  return { outdir, stacks };
}

export function resources(stack: any, type: string): any[] {
  return Object.values(stack.resource?.[type] ?? {});
}

/** Every string anywhere in a JSON value. */
export function allStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(allStrings);
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [k, ...allStrings(v)]);
  return [];
}
