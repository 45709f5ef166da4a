import { quote, ValidationError } from '../validation-message';

/**
 * Refuses what is not a finite, non-negative number, saying why in the caller's terms: a JavaScript caller's
 * text ('50', from an environment variable or JSON) is named as text, with the call that takes it as a number.
 */
export function requireAmount(kind: string, amount: unknown, example: string): void {
  if (typeof amount === 'number' && Number.isFinite(amount) && amount >= 0) return;
  if (typeof amount === 'string') {
    throw new ValidationError(`${kind}: ${quote(amount)} is not allowed: it is text, and an amount is a number. Fix: pass the number itself, `
      + `such as ${example} (Number(text) for text from the environment or JSON)`);
  }
  throw new ValidationError(`${kind}: ${quote(amount)} is not allowed: an amount is a finite, non-negative number. Fix: pass an amount >= 0, such as ${example}.`);
}
