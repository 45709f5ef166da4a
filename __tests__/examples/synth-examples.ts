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

/**
 * Synthesizes every example as a newcomer's `npm run synth` does: without the STAGING_EXPIRES_AT the suites pin
 * (global-setup.js), so staging's expiry is counted from today. Returns the manifest and each stack's cdk.tf.json.
 */
export function synthesizeExamplesUnpinned(): { manifest: any; stacks: Record<string, any> } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'examples-unpinned-'));
  const pinned = process.env.STAGING_EXPIRES_AT;
  delete process.env.STAGING_EXPIRES_AT;
  try {
    // A fresh module registry: the examples read the variable when they are first loaded.
    jest.isolateModules(() => {
      const { App: FreshApp } = require('cdktf');
      const { EXAMPLES } = require('../../examples');
      const app = new FreshApp({ outdir });
      for (const define of Object.values(EXAMPLES) as Array<(app: unknown) => unknown>) define(app);
      app.synth();
    });
  } finally {
    process.env.STAGING_EXPIRES_AT = pinned;
  }
  const stacksDir = path.join(outdir, 'stacks');
  const stacks = Object.fromEntries(fs.readdirSync(stacksDir).map((name) =>
    [name, JSON.parse(fs.readFileSync(path.join(stacksDir, name, 'cdk.tf.json'), 'utf8'))]));
  return { manifest: JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8')), stacks };
}

/** The messages of the warnings a synthesized app's manifest records, over all its stacks. */
export function manifestWarnings(manifest: any): string[] {
  return Object.values<any>(manifest.stacks).flatMap((stack) => stack.annotations ?? [])
    .filter((annotation: { level: string }) => annotation.level.includes('warn'))
    .map((annotation: { message: string }) => annotation.message);
}
