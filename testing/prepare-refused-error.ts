/**
 * `LoopbackMachine.prepareFor` refused the bundle, or this host, before it made anything (or after undoing what it
 * made): its message names the machine, the value it refused and the fix. A failure of a step it runs (an `ip` or
 * `initdb` that exits non-zero) is thrown as that step's own error instead, since no fix of the input is known for it.
 */
export class PrepareRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PrepareRefusedError';
  }
}
