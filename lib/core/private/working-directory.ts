import * as fs from 'fs';
import * as path from 'path';
import { IConstruct } from 'constructs';
import { ISynthesisSession, TerraformStack } from 'cdktf';

/** The file `cdktf plan` and `cdktf diff` save their plan in, inside the stack's working directory. */
export const CDKTF_SAVED_PLAN = 'plan';

/**
 * Keeps a stack's working directory (`cdktf.out/stacks/<stack>`) to its owner, and takes a plan saved in it away.
 *
 * Terraform runs there, and what it writes there holds the stack's secrets in clear: the plan `cdktf plan` saves
 * (every variable's value, sensitive or not; written with the umask, so readable by every local user under the
 * usual 022), a local state, and `.terraform`. No cdktf command reads that plan again (`cdktf deploy` plans anew), so
 * the next synth, which every deploy starts with, removes it: a saved plan lasts from `cdktf plan` until then.
 * @internal
 */
export function protectWorkingDirectory(directory: string): void {
  fs.chmodSync(directory, 0o700);
  fs.rmSync(path.join(directory, CDKTF_SAVED_PLAN), { force: true });
}

const protectedStacks = new WeakSet<TerraformStack>();

/**
 * Protects the working directory of the stack holding `scope` at every synth of that stack (see
 * {@link protectWorkingDirectory}). Called by what brings a secret into a stack, so that a team's own
 * `TerraformStack` gets it as `EnvironmentStack` does. Once per stack.
 * @internal
 */
export function protectWorkingDirectoryOf(scope: IConstruct): void {
  const stack = TerraformStack.of(scope);
  if (protectedStacks.has(stack)) return;
  protectedStacks.add(stack);
  const inner = stack.synthesizer;
  stack.synthesizer = {
    synthesize: (session: ISynthesisSession) => {
      inner.synthesize(session);
      protectWorkingDirectory(path.join(session.outdir, session.manifest.forStack(stack).workingDirectory));
    },
  };
}
