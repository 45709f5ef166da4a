import * as fs from 'fs';
import * as path from 'path';
import { IConstruct } from 'constructs';
import { App } from 'cdktf';
import { redactSecrets } from '../validation-message';

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
 * Only active when a construct of the library (each guards its stack's rendering, see hcl-rendering) existed before
 * `app.synth()` started: the wrap is put on then. On a second `synth()` of the same App the manifest still names every
 * stack of the first, so a failure removes their files too, reached by this synth or not. A file that cannot be removed (a directory in
 * its place, a root-owned one from an earlier sudo run) is named on the original error, which is always the one thrown.
 * Only a good synth of an App so wrapped removes SYNTH_FAILED again; a good synth of any other app writes a manifest,
 * which is enough for the readers to pass while the stale marker stays.
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
      const kept = removeStackFiles(app);
      const notes = markFailed(app, error);
      if (error instanceof Error) {
        if (kept.length > 0) error.message += `\n\nThese files of the failed synth could not be removed; remove them before a deploy: ${kept.join('; ')}`;
        for (const note of notes) error.message += `\n\n${note}.`;
      }
      throw error;
    }
    clearFailed(app);
  };
}

/** Removes SYNTH_FAILED after a good synth; one that cannot be removed is warned of, never failing the synth. */
function clearFailed(app: App): void {
  const marker = path.join(app.outdir, SYNTH_FAILED);
  try {
    fs.rmSync(marker, { force: true });
  } catch (e) {
    // The manifest this synth wrote makes the readers pass: the marker left is harmless to them, only misleading.
    process.stderr.write(`warning: ${marker} from an earlier failed synth could not be removed (${errorCode(e)}); remove it by hand.\n`);
  }
}

/**
 * The file a failed synth leaves in the output directory, holding the line of its error that names the cause, secrets
 * redacted. The previous synth's manifest.json goes with it: it named stacks whose files are now gone or from another
 * synth, and `cdktf deploy --skip-synth` and the CLI's readers would take them for a whole synth. Readers refuse while
 * it is there and no manifest.json is: a manifest written by any later good synth makes them pass, though only a good
 * synth of an App holding the library's constructs removes this file.
 */
export const SYNTH_FAILED = 'synth-failed';

/** Removes the manifest and writes the SYNTH_FAILED file; returns a note for each it could not do. */
function markFailed(app: App, error: unknown): string[] {
  const manifest = path.join(app.outdir, 'manifest.json');
  const marker = path.join(app.outdir, SYNTH_FAILED);
  const notes: string[] = [];
  try {
    fs.rmSync(manifest, { force: true });
  } catch (e) {
    notes.push(`manifest.json could not be removed (${manifest}: ${errorCode(e)}): remove it before a deploy, or the readers take the earlier synth's stacks for this one's`);
  }
  try {
    fs.mkdirSync(app.outdir, { recursive: true });
    fs.writeFileSync(marker, `${causeLine(error)}\n`);
  } catch (e) {
    notes.push(`synth-failed could not be written (${marker}: ${errorCode(e)}): check, guard and release cannot tell this synth failed`);
  }
  return notes;
}

// cdktf's validation errors open with a header; the line after it names the construct path and the cause.
const HEADER = /^(App-level validation|Validation) failed with the following errors:$/;

/**
 * The first line of the error that is not a validation header, or its first line; secrets redacted, since the message
 * may quote a value (an Aspect's error, cdktf's own `valueIsInvalidStringOrToken`) and the file is read in other jobs.
 */
function causeLine(error: unknown): string {
  const lines = (error instanceof Error ? error.message : String(error)).split('\n').map((l) => l.trim());
  return redactSecrets(lines.find((l) => l !== '' && !HEADER.test(l)) ?? lines[0]);
}

function errorCode(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
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
      kept.push(`${file} (${errorCode(e)})`);
    }
  };
  for (const written of Object.values(stacks)) {
    remove(path.join(app.outdir, written.synthesizedStackPath));
    // metadata.json is written beside cdk.tf only: a JSON synth leaves an earlier --hcl synth's alone.
    if (hclOutput) remove(path.join(app.outdir, written.stackMetadataPath));
  }
  return kept;
}
