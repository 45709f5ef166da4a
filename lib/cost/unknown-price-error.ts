/**
 * Resources the estimator cannot price: a resource type, server type, plan or location without a
 * known price. Never costed as zero; each problem names the resource, the value and the fix.
 */
export class UnknownPriceError extends Error {
  constructor(
    /** One line per resource that could not be priced. */
    public readonly problems: readonly string[],
  ) {
    super(`Cost: ${problems.length} resource(s) without a known price:\n  ${problems.join('\n  ')}`);
    this.name = 'UnknownPriceError';
  }
}

/**
 * A price the price list does not have, with why and how to fix it.
 * @internal
 */
export class MissingPrice extends Error {
  constructor(
    /** The value that has no price, such as `'cx99' in eu`. */
    public readonly value: string,
    public readonly why: string,
    public readonly fix: string,
  ) {
    super(`${value} has no known price: ${why}. Fix: ${fix}`);
    this.name = 'MissingPrice';
  }
}
