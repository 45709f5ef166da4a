import { UsageError } from './usage-error';

/** The options a command takes, by name without the leading `--`: those with a value, and switches. */
export interface CommandOptions {
  readonly valued: readonly string[];
  readonly switches: readonly string[];
}

/** A command line read against its options: the words that are no options, each option's value, the switches given. */
export interface ParsedOptions {
  readonly words: string[];
  readonly values: Record<string, string>;
  readonly switched: Set<string>;
}

/**
 * Reads `--name value`, `--name=value` and `--switch`, refusing an option `command` does not take, an option without
 * its value (or with the next option in its place: `--rehearse --dry-run`), and a switch given a value.
 */
export function parseOptions(argv: readonly string[], options: CommandOptions, command: string): ParsedOptions {
  const help = `Fix: see \`cdktf-sovereign-hetzner help ${command}\`.`;
  const parsed: ParsedOptions = { words: [], values: {}, switched: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) { parsed.words.push(arg); continue; }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
    if (options.valued.includes(name)) {
      const value = inline ?? argv[++i];
      if (inline === undefined && value?.startsWith('--')) throw new UsageError(`--${name} needs a value, but the option ${value} follows it. ${help}`);
      if (value === undefined || value === '') throw new UsageError(`--${name} needs a value. ${help}`);
      parsed.values[name] = value;
    } else if (options.switches.includes(name)) {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value ('${arg}'): it is on when given, off when left out. Fix: pass --${name} alone, or leave it out.`);
      parsed.switched.add(name);
    } else {
      throw unknownOption(arg, [...options.valued, ...options.switches], command);
    }
  }
  return parsed;
}

/**
 * The command line of a command that takes only options after its own `leading` words (`staging list` has two, `cost`
 * as its caller passes it none), as one record: each option's value, and `true` for each switch given.
 */
export function parseCommandFlags(argv: readonly string[], options: CommandOptions, command: string, leading = 0):
{ words: string[]; flags: Record<string, string | boolean> } {
  const { words, values, switched } = parseOptions(argv, options, command);
  const extra = words.slice(leading);
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}' for ${command}: it takes only options. Fix: see \`cdktf-sovereign-hetzner help ${command}\`.`);
  return { words, flags: { ...values, ...Object.fromEntries([...switched].map((name) => [name, true])) } };
}

/**
 * The refusal of an option a command does not take. Ignored, a typo changed what ran: `release --dryrun` deployed,
 * `cost --jsn` printed text to a parser. Names the closest option the command takes, when one is close.
 */
export function unknownOption(given: string, known: readonly string[], command: string): UsageError {
  const name = given.replace(/^-+/, '').split('=')[0];
  const closest = known.map((k) => k.replace(/^-+/, '')).map((k) => ({ k, d: distance(normalized(name), normalized(k)) }))
    .filter(({ d }) => d <= 2).sort((a, b) => a.d - b.d)[0]?.k;
  const suggestion = closest !== undefined ? `--${closest}` : undefined;
  return new UsageError(`unknown option '--${name}' for ${command}${suggestion ? ` (did you mean ${suggestion}?)` : ''}. `
    + `Fix: ${suggestion ? `pass ${suggestion}, or ` : ''}see \`cdktf-sovereign-hetzner help ${command}\` for the options it takes.`);
}

/** `--dry_run`, `--DryRun` and `--dry-run` are one option mistyped: compared without case and separators. */
function normalized(option: string): string {
  return option.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** Levenshtein distance. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length];
}
