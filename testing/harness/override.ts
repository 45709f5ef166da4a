import * as fs from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';

/** The override file the stand-in puts beside a synthesized stack. */
export const OVERRIDE_FILE = 'hcloud_standin_override.tf.json';

/**
 * Makes a synthesized stack directory deploy against the stand-in without changing what was
 * synthesized: Terraform merges `*_override.tf.json` files over the configuration, so
 * - a declared backend (the examples' S3 state in Hetzner Object Storage, unreachable offline)
 *   becomes a local state file in the directory;
 * - every hcloud provider block (aliases included) gets `endpoint = "file://<cloud file>"`, which
 *   tells the stand-in which simulated project to use (the real provider's endpoint is its API).
 *
 * `cdktf synth` and `cdktf deploy` keep extra files in `cdktf.out/stacks/<stack>/`, so the same
 * file works for cdktf CLI runs.
 */
export function writeStandInOverride(stackDir: string, cloudFile: string, stackJson?: any): string {
  const config = stackJson ?? JSON.parse(fs.readFileSync(path.join(stackDir, 'cdk.tf.json'), 'utf8'));
  const override: Record<string, unknown> = {};
  if (config?.terraform?.backend && Object.keys(config.terraform.backend).length > 0) {
    override.terraform = { backend: { local: { path: path.join(stackDir, 'terraform.tfstate') } } };
  }
  const blocks = config?.provider?.hcloud;
  const list: Array<Record<string, unknown>> = Array.isArray(blocks) ? blocks : blocks ? [blocks] : [];
  if (list.length > 0) {
    const endpoint = pathToFileURL(path.resolve(cloudFile)).href;
    override.provider = { hcloud: list.map((b) => (typeof b.alias === 'string' ? { alias: b.alias, endpoint } : { endpoint })) };
  }
  const file = path.join(stackDir, OVERRIDE_FILE);
  fs.writeFileSync(file, `${JSON.stringify(override, null, 2)}\n`);
  return file;
}
