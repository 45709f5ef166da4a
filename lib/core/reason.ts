/** A reason uses at least this many letters. */
export const MIN_REASON_LETTERS = 20;
/** A reason uses at least this many different letters: any real sentence does, a repeated word does not. */
export const MIN_DIFFERENT_REASON_LETTERS = 8;

/** How a reason is measured, for the messages that refuse one. */
export const REASON_RULE = `at least ${MIN_REASON_LETTERS} letters, ${MIN_DIFFERENT_REASON_LETTERS} of them different; `
  + 'spaces, digits, punctuation and invisible characters do not count';

/**
 * Whether `text` is a reason a later reader can act on: the written justification that lifts a protection
 * (a retirement, a volume without backups, a component adopted early, a US-seated processor, a suppressed
 * boundary rule). Letters, not characters: twenty spaces, dots or zero-width characters say nothing,
 * nor does one letter or word repeated ('xxxxxxxxxxxxxxxxxxxx', 'TODO TODO TODO TODO TODO').
 * Anything but text (a number, a list, from JavaScript) is not a reason either.
 */
export function isReason(text: unknown): boolean {
  if (typeof text !== 'string') return false;
  const letters = text.match(/\p{L}/gu) ?? [];
  return letters.length >= MIN_REASON_LETTERS && new Set(letters.map((l) => l.toLowerCase())).size >= MIN_DIFFERENT_REASON_LETTERS;
}
