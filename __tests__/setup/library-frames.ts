import * as path from 'path';

/**
 * The library's own folder. A frame is matched against it, not against the first `/lib/` in its path: a checkout under
 * /var/lib/jenkins/… has one before the library's, and the file read from there was not the library's file.
 */
const LIB = path.resolve(__dirname, '../../lib') + path.sep;

/**
 * The library files (relative to lib/, with `/`) in the caller's call stack, innermost first, as often as they appear.
 * Deep enough (50 frames) to reach the library's frame from inside checkProps and the constructs' factories.
 */
export function libraryFilesInStack(): string[] {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 50;
  let stack: string;
  try {
    stack = new Error().stack ?? '';
  } finally {
    Error.stackTraceLimit = limit;
  }
  return stack.split('\n').flatMap((line) => {
    const at = line.indexOf(LIB);
    const file = at < 0 ? undefined : /^(.+?\.ts):\d+/.exec(line.slice(at + LIB.length))?.[1];
    return file === undefined ? [] : [file.split(path.sep).join('/')];
  });
}

/**
 * The modules where the secret checks are defined (relative to lib/, with `/`), not where they are used: a secret taken
 * or read inside one is the caller's, and these files themselves take none.
 */
export const CHECK_MODULES: readonly string[] = ['core/private/sensitive-variable.ts', 'core/private/secrets-at-synth.ts', 'core/runtime-checks.ts'];

/** The innermost library file in the caller's call stack outside the check modules: the one that took or read a secret. */
export function takingLibraryFile(): string | undefined {
  return libraryFilesInStack().find((file) => !CHECK_MODULES.includes(file));
}
