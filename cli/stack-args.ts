/** The arguments of a command that takes stack names and `--name VALUE` options: the stacks, and each option given. */
export function parseStackArgs(argv: readonly string[], options: readonly string[], command: string): { stacks: string[]; values: Record<string, string> } {
  const stacks: string[] = [];
  const values: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (options.includes(arg)) {
      const value = argv[++i];
      if (value === undefined || value === '') throw new Error(`${arg} needs a value. Fix: see \`cdktf-sovereign-hetzner help ${command}\`.`);
      values[arg.slice(2)] = value;
    } else if (arg.startsWith('--')) {
      throw new Error(`unknown option '${arg}'. Fix: see \`cdktf-sovereign-hetzner help ${command}\`.`);
    } else {
      stacks.push(arg);
    }
  }
  return { stacks, values };
}
