/**
 * The refusal of an option a command does not take. Ignored, a typo changed what ran: `release --dryrun` deployed,
 * `cost --jsn` printed text to a parser. Names the closest option the command takes, when one is close.
 */
export function unknownOption(given: string, known: readonly string[], command: string): Error {
  const name = given.replace(/^-+/, '').split('=')[0];
  const closest = known.map((k) => k.replace(/^-+/, '')).map((k) => ({ k, d: distance(normalized(name), normalized(k)) }))
    .filter(({ d }) => d <= 2).sort((a, b) => a.d - b.d)[0]?.k;
  const suggestion = closest !== undefined ? `--${closest}` : undefined;
  return new Error(`unknown option '--${name}' for ${command}${suggestion ? ` (did you mean ${suggestion}?)` : ''}. `
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
