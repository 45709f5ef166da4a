/**
 * The arguments of a command that takes stack names, `--name VALUE` options and `--switch` flags: the stacks, each
 * option's value and the switches given.
 */
export function parseStackArgs(argv: readonly string[], options: readonly string[], command: string, switches: readonly string[] = []):
{ stacks: string[]; values: Record<string, string>; switched: Set<string> } {
  const stacks: string[] = [];
  const values: Record<string, string> = {};
  const switched = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (switches.includes(arg)) {
      switched.add(arg.slice(2));
    } else if (options.includes(arg)) {
      const value = argv[++i];
      if (value === undefined || value === '') throw new Error(`${arg} needs a value. Fix: see \`cdktf-sovereign-hetzner help ${command}\`.`);
      values[arg.slice(2)] = value;
    } else if (arg.startsWith('--')) {
      throw new Error(`unknown option '${arg}'. Fix: see \`cdktf-sovereign-hetzner help ${command}\`.`);
    } else {
      stacks.push(arg);
    }
  }
  return { stacks, values, switched };
}
