import { UsageError } from './usage-error';

/**
 * The number an option's value writes in plain decimal digits (`30`, `2.5`, `.5`), or NaN for anything else, so that
 * the option is refused with its text as given. `Number(text)` alone reads far more: '0x10' as 16, '1e1' as 10,
 * '' and ' ' as 0, 'Infinity' as infinite.
 */
export function decimalNumber(text: string): number {
  return /^\s*(?:\d+(?:\.\d*)?|\.\d+)\s*$/.test(text) ? Number(text) : Number.NaN;
}

/** The whole number an option's value writes in decimal digits alone (`14`), or NaN for anything else (see `decimalNumber`). */
export function wholeNumber(text: string): number {
  return /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
}

/**
 * The whole-number option `--name` from `min` to `max`, as typed (`text`), refused as a usage error with that text:
 * `Number('two')` is NaN, which the message would print instead, and `Number('0x10')` or `Number('1e1')` would pass.
 */
export function wholeNumberOption(name: string, text: string, min: number, max: number, why: string, fix: string): number {
  const n = wholeNumber(text);
  if (!(n >= min && n <= max)) throw new UsageError(`--${name} ${text} is not allowed: ${why}. Fix: ${fix}.`);
  return n;
}
