import * as fs from 'fs';

/**
 * The JSON in `file`, or an error naming the file, what is wrong and `fix`. JSON.parse's own message ("Unexpected
 * end of JSON input") names no file, and a synth cut short leaves exactly such a truncated one in cdktf.out.
 */
export function readJsonFile(file: string, fix: string): any {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'EISDIR' ? 'it is a directory' : code === 'ENOENT' ? 'it does not exist' : code === 'EACCES' ? 'it may not be read (permission denied)' : (e as Error).message;
    throw new Error(`${file} cannot be read: ${why}. Fix: ${fix}.`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${file} is not valid JSON (${(e as Error).message}${text.trim() === '' ? ': it is empty' : ''}). Fix: ${fix}.`);
  }
}
