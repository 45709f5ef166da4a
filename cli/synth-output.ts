import * as fs from 'fs';
import * as path from 'path';

/** The project a command runs in: the directory of the nearest cdktf.json at or above `cwd`, and its synth output. */
export interface CdktfProject {
  /** The directory holding cdktf.json. */
  readonly dir: string;
  /** Its `output` (cdktf.out when it names none), relative to `cwd`: where `cdktf synth` writes. */
  readonly output: string;
}

/** The nearest cdktf.json at or above `cwd`, or undefined outside a CDK for Terraform project. */
export function cdktfProject(cwd: string = process.cwd()): CdktfProject | undefined {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'cdktf.json');
    if (fs.existsSync(file) && fs.statSync(file).isFile()) {
      let output: unknown;
      try {
        output = JSON.parse(fs.readFileSync(file, 'utf8')).output;
      } catch {
        output = undefined; // cdktf itself says what is wrong with it
      }
      return { dir, output: path.relative(cwd, path.join(dir, typeof output === 'string' && output !== '' ? output : 'cdktf.out')) || '.' };
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * The synth output a command reads when --out is not given: that of the project's cdktf.json, so that the command
 * reads the app's synth from a subdirectory of the project, or when cdktf.json names another output; else cdktf.out.
 */
export function defaultSynthOutput(cwd: string = process.cwd()): string {
  return cdktfProject(cwd)?.output ?? 'cdktf.out';
}
