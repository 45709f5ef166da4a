/**
 * `text` as one word of a POSIX shell line that a message tells the reader to paste: as it is when the shell reads
 * nothing in it, else in single quotes. A path with a space, unquoted, is two words: `rm -rf` of it removed two
 * other directories, `terraform -chdir=` of it failed.
 */
export function shellWord(text: string): string {
  return /^[A-Za-z0-9_\-.,/:=@+%]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
