import * as fs from 'fs';
import * as path from 'path';

/**
 * Writes `dir/program`: a script that appends its arguments to `logFile` (one line a call, joined by spaces as `"$*"`
 * joins them), runs `before` (shell, optional), then execs the real program: the first `program` on this process's
 * PATH outside `dir`, resolved now. A test puts `dir` first on the PATH of the code under test to see the calls it
 * makes while they still do their work. Returns the script's path.
 */
export function recordingWrapper(dir: string, program: string, logFile: string, before = ''): string {
  // Real paths, so that `dir` reached under another spelling (a symlink) is still skipped: the wrapper would exec itself.
  const own = realPath(dir);
  const real = (process.env.PATH ?? '').split(':').filter((d) => d && realPath(d) !== own)
    .map((d) => path.resolve(d, program)).find((candidate) => {
      try {
        fs.accessSync(candidate, fs.constants.X_OK);
        return fs.statSync(candidate).isFile();
      } catch {
        return false;
      }
    });
  if (!real) throw new Error(`recordingWrapper: no ${program} on PATH (${process.env.PATH}) to run after recording its call`);
  const wrapper = path.join(dir, program);
  fs.writeFileSync(wrapper, `#!/bin/sh\nprintf '%s\\n' "$*" >> ${quoted(logFile)}\n${before}\nexec ${quoted(real)} "$@"\n`, { mode: 0o755 });
  return wrapper;
}

/** The calls a recording wrapper logged, one string of its arguments each; none when it was never called. */
export function recordedCalls(logFile: string): string[] {
  const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
  return log === '' ? [] : log.replace(/\n$/, '').split('\n');
}

function realPath(dir: string): string {
  try {
    return fs.realpathSync(dir);
  } catch {
    return path.resolve(dir);
  }
}

function quoted(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
