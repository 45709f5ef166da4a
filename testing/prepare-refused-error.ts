import { ValidationError } from '../lib/core/validation-message';

/** ErrorOptions' shape: the library's TypeScript lib (ES2020) lacks that type. */
export interface PrepareRefusedErrorOptions {
  /**
   * The error this refusal says again in its caller's words.
   * @default - none (no `cause` property, as Error without one)
   */
  readonly cause?: unknown;
}

/**
 * `LoopbackMachine.prepareFor`, or the cluster setup prepareFor runs, refused the bundle or this host before it made
 * anything (or after undoing what it made): its message names the machine, the value it refused and the fix. A
 * ValidationError, so that a caller that catches the library's refusals catches this one too. A failure of a step it
 * runs (an `ip` or `initdb` that exits non-zero) is thrown as that step's own error instead, since no fix of the input
 * is known for it.
 */
export class PrepareRefusedError extends ValidationError {
  /** The error this one says again in its caller's words (prepareFor's, of its cluster setup's refusal), if any. */
  declare public readonly cause?: unknown;

  constructor(message: string, options?: PrepareRefusedErrorOptions) {
    super(message);
    this.name = 'PrepareRefusedError';
    // As ES2022's Error does with { cause }: an own property, not enumerable, there only when passed.
    if (options && 'cause' in options) {
      Object.defineProperty(this, 'cause', { value: options.cause, writable: true, configurable: true, enumerable: false });
    }
  }
}
