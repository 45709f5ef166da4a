import { unknownOption } from './unknown-option';

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
    // `--out=DIR` as well as `--out DIR`, as the other commands take it.
    const [option, inline] = arg.startsWith('--') ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    if (switches.includes(option)) {
      if (inline !== undefined) throw new Error(`${option} takes no value ('${arg}'): it is on when given, off when left out. Fix: pass ${option} alone, or leave it out.`);
      switched.add(option.slice(2));
    } else if (options.includes(option)) {
      const value = inline ?? argv[++i];
      if (value === undefined || value === '') throw new Error(`${option} needs a value. Fix: see \`cdktf-sovereign-hetzner help ${command}\`.`);
      values[option.slice(2)] = value;
    } else if (arg.startsWith('--')) {
      throw unknownOption(arg, [...options, ...switches], command);
    } else {
      stacks.push(arg);
    }
  }
  return { stacks, values, switched };
}
