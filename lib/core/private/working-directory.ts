import * as fs from 'fs';
import * as path from 'path';

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
