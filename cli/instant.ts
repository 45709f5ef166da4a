import { UsageError } from './usage-error';

/**
 * A point in time given on the command line (`--now`): an ISO 8601 date and time with its zone (`Z` or `±HH:MM`),
 * or a bare date, which is the start of that day in UTC.
 *
 * `new Date(text)` took far more, each a different time than meant, with no word: "12" was 1 December 2001, "2026-02-30"
 * the 2nd of March, and a time without a zone ("2026-12-01T00:00") was read in the time zone of whoever ran the command,
 * so the staging reaper judged the UTC expiry days hours early or late depending on the laptop or CI runner.
 */
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** The time `text` names, or a UsageError saying why it names none (with `flag` and the fix). */
export function parseInstant(flag: string, text: string): Date {
  const refuse = (why: string) => new UsageError(`${flag} ${text} is not allowed: ${why}. Fix: pass an ISO time with its zone, such as 2026-12-01T00:00:00Z, or a date such as 2026-12-01 (its start, UTC).`);
  const m = INSTANT.exec(text);
  if (!m) {
    if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text)) throw refuse('it names no time zone, so it would be read in the zone of the machine that runs the command');
    throw refuse('it is not an ISO 8601 time');
  }
  const [, year, month, day, hour = '00', minute = '00', second = '00', fraction = '', zone = 'Z'] = m;
  const fields = [Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second)] as const;
  const utc = new Date(Date.UTC(...fields));
  // Date.UTC rolls over (the 30th of February is the 2nd of March): the fields must come back as written.
  const back = [utc.getUTCFullYear(), utc.getUTCMonth(), utc.getUTCDate(), utc.getUTCHours(), utc.getUTCMinutes(), utc.getUTCSeconds()];
  if (back.some((v, i) => v !== fields[i])) throw refuse('it is not a calendar date and time of day');
  let offsetMinutes = 0;
  if (zone !== 'Z') {
    const [h, mm] = zone.slice(1).split(':').map(Number);
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (h * 60 + mm);
    if (mm > 59 || offsetMinutes < -12 * 60 || offsetMinutes > 14 * 60) throw refuse(`${zone} is not a time zone offset (they run from -12:00 to +14:00)`);
  }
  const milliseconds = Number(fraction.padEnd(3, '0').slice(0, 3));
  return new Date(utc.getTime() + milliseconds - offsetMinutes * 60_000);
}
