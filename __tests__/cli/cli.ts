import { runCli } from '../../cli/run-cli';

/** Runs the CLI in-process with `env` as its whole environment, and returns its exit code and what it printed on stdout and stderr. */
export async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { env, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}
