import * as fs from 'fs';
import * as path from 'path';
import { IStackSynthesizer, ISynthesisSession, TerraformStack } from 'cdktf';
import { removeOutputOnFailedSynth } from './private/failed-synth-output';
import { guardHclRendering, jsonRenderedWithHcl } from './private/hcl-rendering';
import { PACKAGE_NAME } from './private/package-name';

/** A rule pack as the written-stack check sees it: checks one stack's Terraform and returns its errors. */
export interface WrittenStackPack {
  checkStack(stack: TerraformStack, terraform?: Record<string, any>): string[];
}

/**
 * A check of what a stack writes that is no rule pack (the staging reaper's labels): each error it returns names what
 * is wrong and its fix itself; skipValidation does not skip it either.
 */
export interface WrittenStackCheck {
  checkStack(stack: TerraformStack, terraform: Record<string, any>): string[];
}

/** What checks a stack's written Terraform: where its packs come from, and its other checks. */
interface WrittenChecks {
  packsOf?: (stack: TerraformStack) => readonly WrittenStackPack[];
  readonly others: WrittenStackCheck[];
}

const checksOf = new WeakMap<TerraformStack, WrittenChecks>();

/**
 * Checks the Terraform a stack actually writes, not only what it held at validation time.
 *
 * cdktf 0.21 runs the stack's validations, then the children's validations and every
 * `onSynthesize` hook, and only then renders `cdk.tf.json` again: anything changed in between
 * would be written unchecked. This wraps the stack's synthesizer: after it writes the file, the
 * packs `packsOf(stack)` names at that moment check the written JSON; on an error the file is
 * removed and synth fails the way a failed validation does (the stacks written before it lose theirs too, see
 * failed-synth-output). `skipValidation` does not skip it: the packs are the data boundary, which boundary.md
 * publishes as enforced at synth.
 * Idempotent per stack: the first `packsOf` stays.
 */
export function checkWrittenStack(stack: TerraformStack, packsOf: (stack: TerraformStack) => readonly WrittenStackPack[]): void {
  const checks = wrap(stack);
  checks.packsOf ??= packsOf;
}

/**
 * Has `check` check the Terraform `stack` writes too, after its packs (see checkWrittenStack), whatever constructs of
 * the library the stack holds: a stack that holds none but the one calling this is checked all the same.
 */
export function checkWrittenStackWith(stack: TerraformStack, check: WrittenStackCheck): void {
  const checks = wrap(stack);
  if (!checks.others.includes(check)) checks.others.push(check);
}

/** Wraps `stack`'s synthesizer once, to run the checks checksOf holds for it on what it wrote. */
function wrap(stack: TerraformStack): WrittenChecks {
  const known = checksOf.get(stack);
  if (known) return known;
  const checks: WrittenChecks = { others: [] };
  checksOf.set(stack, checks);
  const original = stack.synthesizer;
  const synthesizer: IStackSynthesizer = {
    synthesize(session: ISynthesisSession): void {
      const rendered = jsonRenderedWithHcl(stack, () => original.synthesize(session));
      const file = path.join(session.outdir, session.manifest.forStack(stack).synthesizedStackPath);
      // With --hcl the file is HCL: the JSON rendered with it (a stack that checks secrets renders it first, see
      // hcl-rendering, which also refuses the stack overrides the HCL would leave out) is what is checked, or the stack
      // rendered now, in the state the writer, which renders last, wrote.
      const written = readJson(file) ?? rendered ?? stack.toTerraform();
      const findings = [...new Set(checks.packsOf?.(stack) ?? [])].flatMap((pack) => pack.checkStack(stack, written));
      // skipValidation (which cdktf's own error message suggests) skips every validation, the packs'
      // and the App's checks that every stack is reached by one: the rule packs run here anyway, with
      // the App's, so that the boundary published as enforced at synth is never silently off.
      const appChecks = session.skipValidation ? stack.node.root.node.validate() : [];
      const others = checks.others.flatMap((check) => check.checkStack(stack, written));
      const errors = [...findings, ...appChecks, ...others];
      if (errors.length === 0) return;
      fs.rmSync(file, { force: true });
      const removed = `${file} was removed, so that nothing unchecked is deployed`;
      throw new Error('Validation failed with the following errors:\n'
        + errors.map((e) => `  [${stack.node.path}] ${e}`).join('\n')
        // Each error says its own fix; BoundarySuppressions is offered only when a rule pack's finding is listed, the
        // only kind it accepts (not the staging reaper's labels, nor the App's checks).
        + (session.skipValidation
          ? (findings.length > 0
            ? `\n\nskipValidation skips the CDK's validations (cdktf's or cdktn's), not the rule packs of ${PACKAGE_NAME} (the data boundary): ${removed}. `
              + "Fix the findings, or accept a rule pack's finding with BoundarySuppressions.add(construct, [{ id, reason }]), which boundary.md lists."
            : `\n\n${removed} (skipValidation skips the CDK's validations, not ${notSkipped(others.length > 0, appChecks.length > 0)}).`)
          : findings.length > 0
            ? `\n\nThe stack changed after its validation (a later validation or an onSynthesize hook); ${removed}.`
            : `\n\n${removed}.`));
    },
  };
  stack.synthesizer = synthesizer;
  guardHclRendering(stack);
  removeOutputOnFailedSynth(stack);
  return checks;
}

/** The JSON a stack wrote, or `undefined` for HCL output (`--hcl`) or no file. */
function readJson(file: string): Record<string, any> | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Which of the library's checks skipValidation did not skip, named as failed: the App's only checks that a rule pack reaches every stack. */
function notSkipped(written: boolean, app: boolean): string {
  const writes = `${PACKAGE_NAME}'s checks of what a stack writes`;
  const reached = 'the App\'s check that a rule pack reaches every stack';
  return written && app ? `${writes}, nor ${reached}` : written ? writes : reached;
}
