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
 * (a local state, `.terraform`). The stacks the synth did not reach keep the earlier synth's files; manifest.json goes
 * and SYNTH_FAILED says the synth failed, so that no reader takes those for a synth.
 * Only active when a library construct (a written-stack check, secrets-at-synth) existed before `app.synth()` started:
 * the wrap is put on then. On a second `synth()` of the same App the manifest still names every stack of the first,
 * so a failure removes their files too, reached by this synth or not. A file that cannot be removed (a directory in
 * its place, a root-owned one from an earlier sudo run) is named on the original error, which is always the one thrown.
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
      const kept = [...removeStackFiles(app), ...markFailed(app, error)];
      if (kept.length > 0 && error instanceof Error) {
        error.message += `\n\nThese files of the failed synth could not be removed; remove them before a deploy: ${kept.join('; ')}`;
      }
      throw error;
    }
    fs.rmSync(path.join(app.outdir, SYNTH_FAILED), { force: true });
  };
}

/**
 * The file a failed synth leaves in the output directory, holding its error's first line. The previous synth's
 * manifest.json goes with it: it named stacks whose files are now gone or from another synth, and `cdktf deploy
 * --skip-synth` and the CLI's readers would take them for a whole synth. Readers refuse while it is there and no
 * manifest.json is (a later synth, ours or not, writes one).
 */
export const SYNTH_FAILED = 'synth-failed';

/** Removes the manifest and writes the SYNTH_FAILED file; returns what it could not do. */
function markFailed(app: App, error: unknown): string[] {
  const manifest = path.join(app.outdir, 'manifest.json');
  const marker = path.join(app.outdir, SYNTH_FAILED);
  try {
    fs.rmSync(manifest, { force: true });
    fs.mkdirSync(app.outdir, { recursive: true });
    fs.writeFileSync(marker, `${(error instanceof Error ? error.message : String(error)).split('\n')[0]}\n`);
    return [];
  } catch (e) {
    return [`${manifest} or ${marker} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`];
  }
}

/**
 * The manifest names each stack whose synthesis started: those before the failing one were written by this synth, and
 * the failing one's file, when a refusal came before its write, is an earlier synth's, of a stack the app no longer
 * synthesizes as it was: it goes too, as written-stack-check removes the one it refuses. Returns the files it could not
 * remove.
 */
function removeStackFiles(app: App): string[] {
  const { stacks, hclOutput } = app.manifest;
  const kept: string[] = [];
  const remove = (file: string) => {
    try {
      fs.rmSync(file, { force: true });
    } catch (e) {
      kept.push(`${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  };
  for (const written of Object.values(stacks)) {
    remove(path.join(app.outdir, written.synthesizedStackPath));
    // metadata.json is written beside cdk.tf only: a JSON synth leaves an earlier --hcl synth's alone.
    if (hclOutput) remove(path.join(app.outdir, written.stackMetadataPath));
  }
  return kept;
}
