import * as fs from 'fs';
import * as path from 'path';
import { IConstruct } from 'constructs';
import { App } from 'cdktf';

const wrappedApps = new WeakSet<App>();

/**
 * Makes a failed `app.synth()` of the App above `scope` remove the files of the stacks it reached.
 *
 * cdktf 0.21 writes each stack's file as it goes and the manifest last: when a later stack's refusal (a secret an
 * Aspect flipped to non-sensitive, a written-stack check) or the App's own validation failed the synth, the stacks
 * written before stayed in the output beside the previous synth's manifest, a half synth that `cdktf deploy
 * --skip-synth`, the release path or a reader would take for a whole one. Only the configuration files this synth
 * wrote go (`cdk.tf.json`, or `cdk.tf` and `metadata.json` with `--hcl`); a stack's directory keeps what else is in it
 * (a local state, `.terraform`). The stacks the synth did not reach keep the earlier synth's files.
 * Idempotent per App; nothing for a stack outside an App.
 * @internal
 */
export function removeOutputOnFailedSynth(scope: IConstruct): void {
  const app = scope.node.root;
  if (!App.isApp(app) || wrappedApps.has(app)) return;
  wrappedApps.add(app);
  const synth = app.synth.bind(app);
  app.synth = () => {
    try {
      synth();
    } catch (error) {
      removeStackFiles(app);
      throw error;
    }
  };
}

/**
 * The manifest names each stack whose synthesis started: those before the failing one were written by this synth, and
 * the failing one's file, when a refusal came before its write, is an earlier synth's, of a stack the app no longer
 * synthesizes as it was: it goes too, as written-stack-check removes the one it refuses.
 */
function removeStackFiles(app: App): void {
  const { stacks, hclOutput } = app.manifest;
  for (const written of Object.values(stacks)) {
    fs.rmSync(path.join(app.outdir, written.synthesizedStackPath), { force: true });
    // metadata.json is written beside cdk.tf only: a JSON synth leaves an earlier --hcl synth's alone.
    if (hclOutput) fs.rmSync(path.join(app.outdir, written.stackMetadataPath), { force: true });
  }
}
