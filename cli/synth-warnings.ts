import * as fs from 'fs';
import * as path from 'path';
import { readJsonFile } from '../lib/core/private/json-file';
import { SYNTH_AGAIN } from '../lib/cost/synthesized-stacks';
import type { Cdk } from './cdk';

/** The level cdktf records a warning annotation (`Annotations.of(…).addWarning`) under in manifest.json. */
const WARN = '@cdktf/warn';

/**
 * The warnings the last synth recorded for `stacks`, each as cdktf prints it (`WARN [construct path]: message`).
 * `cdktf synth` prints them only to a terminal (`cdktf deploy` always): in CI or through a pipe, and `node main.js`, none, so
 * the fixes they name (pin the host keys, declare error monitoring) were never seen there. Output without a
 * manifest (written by hand or by an older tool) has none to read.
 */
export function synthWarnings(outdir: string, stacks: readonly string[]): string[] {
  const manifest = path.join(outdir, 'manifest.json');
  if (!fs.existsSync(manifest)) return [];
  const recorded = (readJsonFile(manifest, SYNTH_AGAIN) as { stacks?: Record<string, { annotations?: Array<{ level?: string; constructPath?: string; message?: string }> }> }).stacks ?? {};
  return stacks.flatMap((name) => (recorded[name]?.annotations ?? [])
    .filter((a) => a.level === WARN && typeof a.message === 'string')
    .map((a) => `  WARN [${a.constructPath ?? name}]: ${a.message}`));
}

/**
 * Where the CDK's synth prints the stacks' warnings, and that an app run under `node` alone (`app`) prints none: the one
 * wording of check's usage, check's line above the warnings and init's README, which had each worded it apart. With
 * `backticks`, the commands are marked as code (the usage and Markdown).
 */
export function whereSynthWarns(cdk: Cdk, { app = 'node', backticks = false }: { app?: string; backticks?: boolean } = {}): string {
  const code = (text: string) => (backticks ? `\`${text}\`` : text);
  const where = cdk.synthWarnsOnlyInTerminal ? 'only in a terminal, not in CI or through a pipe' : 'in CI and through a pipe too';
  return `${code(`${cdk.command} synth`)} prints them ${where}, and an app run with ${code(app)} alone prints none`;
}

/**
 * The line check prints above the warnings. It named `cdktf synth` and a terminal in the cdktn package too, whose
 * `cdktn synth` prints them through a pipe and in CI as well; and said "as cdktn synth printed them" where the app ran
 * under `node` alone, which prints none: it says what each prints, true whichever ran the app.
 */
export function synthWarningsHeading(cdk: Cdk, stacks: readonly string[]): string {
  return `The synth's warnings for ${stacks.join(', ')}, each with its fix (${whereSynthWarns(cdk)}; none stops a deploy):`;
}
