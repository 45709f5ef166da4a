import { parseOptions } from './command-options';

/**
 * The arguments of a command that takes stack names, `--name VALUE` options and `--switch` flags: the stacks, each
 * option's value and the switches given.
 */
export function parseStackArgs(argv: readonly string[], options: readonly string[], command: string, switches: readonly string[] = []):
{ stacks: string[]; values: Record<string, string>; switched: Set<string> } {
  const bare = (names: readonly string[]) => names.map((n) => n.replace(/^--/, ''));
  const { words, values, switched } = parseOptions(argv, { valued: bare(options), switches: bare(switches) }, command);
  return { stacks: words, values, switched };
}
