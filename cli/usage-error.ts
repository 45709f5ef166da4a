/**
 * A command line the tool cannot run as written: an unknown command or option, an option without its value (or with a
 * value it takes none of), a required option left out, a value of the wrong form. It exits 2, as usage errors
 * conventionally do, so that a script or CI step can tell a mistyped call from a command that ran and failed (exit 1).
 */
export class UsageError extends Error {
  /** The exit code of a usage error. */
  static readonly EXIT_CODE = 2;

  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The exit code of an error a command threw: 2 for a usage error, 1 for any other failure. */
export function exitCodeOf(error: unknown): number {
  return error instanceof UsageError ? UsageError.EXIT_CODE : 1;
}
