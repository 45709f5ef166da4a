import * as fs from 'fs';
import * as path from 'path';
import { IStackSynthesizer, ISynthesisSession, TerraformStack } from 'cdktf';
import { removeOutputOnFailedSynth } from './private/failed-synth-output';
import { jsonRenderedWithHcl } from './private/hcl-rendering';

/** A rule pack as the written-stack check sees it: checks one stack's Terraform and returns its errors. */
export interface WrittenStackPack {
  checkStack(stack: TerraformStack, terraform?: Record<string, any>): string[];
}

const wrapped = new WeakSet<TerraformStack>();

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
 * Idempotent per stack.
 */
export function checkWrittenStack(stack: TerraformStack, packsOf: (stack: TerraformStack) => readonly WrittenStackPack[]): void {
  if (wrapped.has(stack)) return;
  wrapped.add(stack);
  const original = stack.synthesizer;
  const synthesizer: IStackSynthesizer = {
    synthesize(session: ISynthesisSession): void {
      const rendered = jsonRenderedWithHcl(stack, () => original.synthesize(session));
      const file = path.join(session.outdir, session.manifest.forStack(stack).synthesizedStackPath);
      // With --hcl the file is HCL, made from the same state as the JSON rendered with it: that JSON is what is
      // checked, or the stack rendered again when none came (no secret in it: secrets-at-synth makes the HCL rendering
      // render the JSON). The two differ in the stack's own overrides, which toHclTerraform writes only of the terraform
      // block: the others are refused here, after every Aspect and hook ran, so that the check never reads what the HCL
      // left out.
      if (session.manifest.hclOutput) {
        try {
          refuseOverridesHclDrops(stack);
        } catch (error) {
          fs.rmSync(file, { force: true });
          throw error;
        }
      }
      const written = readJson(file) ?? rendered ?? stack.toTerraform();
      const errors = [...new Set(packsOf(stack))].flatMap((pack) => pack.checkStack(stack, written));
      // skipValidation (which cdktf's own error message suggests) skips every validation, the packs'
      // and the App's checks that every stack is reached by one: the rule packs run here anyway, with
      // the App's, so that the boundary published as enforced at synth is never silently off.
      if (session.skipValidation) errors.push(...stack.node.root.node.validate());
      if (errors.length === 0) return;
      fs.rmSync(file, { force: true });
      throw new Error('Validation failed with the following errors:\n'
        + errors.map((e) => `  [${stack.node.path}] ${e}`).join('\n')
        + (session.skipValidation
          ? `\n\nskipValidation skips cdktf's validations, not the rule packs of cdktf-sovereign-hetzner (the data boundary): ${file} was removed, so that nothing unchecked is deployed. `
            + 'Fix the findings, or accept one with BoundarySuppressions.add(construct, [{ id, reason }]), which boundary.md lists.'
          : `\n\nThe stack changed after its validation (a later validation or an onSynthesize hook); ${file} was removed, so that nothing unchecked is deployed.`));
    },
  };
  stack.synthesizer = synthesizer;
  removeOutputOnFailedSynth(stack);
}

/**
 * Refuses the stack-level overrides (`stack.addOverride`) that cdktf's HCL rendering drops: toHclTerraform merges them
 * all, then renders only their `terraform` block, while toTerraform, which the written-stack check reads, applies every
 * one. An override of a resource would be checked but not written, so a refused value could reach cdk.tf.
 */
function refuseOverridesHclDrops(stack: TerraformStack): void {
  const overrides: Record<string, unknown> = (stack as any).rawOverrides ?? {};
  const dropped = Object.keys(overrides).filter((key) => key !== 'terraform').flatMap((key) => overridePaths(key, overrides[key]));
  if (dropped.length === 0) return;
  throw new Error(`[${stack.node.path}] stack.addOverride(${dropped.map((p) => `'${p}'`).join(', ')}): with --hcl (SYNTH_HCL_OUTPUT) `
    + 'cdktf writes only the terraform block of a stack\'s overrides into cdk.tf, so it would be checked but not written. '
    + 'Put it on the element instead (resource.addOverride(\'location\', ...), which cdk.tf carries), or synthesize JSON (without --hcl).');
}

/** The dotted paths an addOverride value was set at: down to each value that is not a plain object. */
function overridePaths(prefix: string, value: unknown): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.keys(value).length === 0) return [prefix];
  return Object.entries(value).flatMap(([key, inner]) => overridePaths(`${prefix}.${key}`, inner));
}

/** The JSON a stack wrote, or `undefined` for HCL output (`--hcl`) or no file. */
function readJson(file: string): Record<string, any> | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}
