import { UsageError } from './usage-error';

/** A Hetzner command's arguments: its words and options, read against the options it takes. */
export interface ParsedArgs {
  /** The command the arguments are of, such as `release` or `staging list`. */
  readonly command?: string;
  readonly positional: string[];
  readonly flags: Record<string, string | boolean>;
}

/** The value of the option `--name`, `fallback` when it is left out; a usage error when it is required. */
export function stringFlag(args: ParsedArgs, name: string, fallback?: string): string {
  const value = args.flags[name];
  if (typeof value === 'string' && value !== '') return value;
  if (fallback !== undefined) return fallback;
  throw new UsageError(`--${name} is required. Fix: see \`cdktf-sovereign-hetzner help${args.command ? ` ${args.command}` : ''}\`.`);
}
