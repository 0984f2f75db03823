/**
 * How the library's queries turn the text of a column into a JavaScript
 * value: exactly as node-postgres does, except for timestamptz, the one type
 * every row of ours carries and the costliest to parse. node-postgres parses
 * it with three regular expressions per value (postgres-date); here the form
 * PostgreSQL sends with its default DateStyle (ISO), '2025-03-01
 * 12:00:30.123456+00' or '...+05:30', is read by position, and anything else
 * (infinity, BC, a year outside 100..9999, another DateStyle) goes to
 * node-postgres' own parser. Same Date, to the millisecond (truncated, as
 * node-postgres does): test/store/row-types.test.ts compares both with the
 * server's own epoch. About half a microsecond less per row on this
 * project's development machine (`npm run bench -- --decoding`).
 */
import pg from 'pg';

const TIMESTAMPTZ_OID = 1184;
const fallbackTimestamptz = pg.types.getTypeParser(TIMESTAMPTZ_OID, 'text') as (text: string) => unknown;

/** The number written by the digits text[from..to), or -1 when one is not a digit. */
function digitsAt(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    n = n * 10 + digit;
  }
  return n;
}

/** A timestamptz as PostgreSQL writes it with DateStyle ISO, as a Date; node-postgres' parser for any other form. */
export function parseTimestamptz(text: string): unknown {
  // YYYY-MM-DD HH:MM:SS, then an optional fraction and the offset: at least 22 characters.
  if (text.length < 22 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(10) !== 32 || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) {
    return fallbackTimestamptz(text);
  }
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 7);
  const day = digitsAt(text, 8, 10);
  const hour = digitsAt(text, 11, 13);
  const minute = digitsAt(text, 14, 16);
  const second = digitsAt(text, 17, 19);
  // Date.UTC reads years 0..99 as 1900..1999; -1 is a character that is not a digit.
  if (year < 100 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return fallbackTimestamptz(text);
  let at = 19;
  let millis = 0;
  if (text.charCodeAt(at) === 46) {
    // The fraction: its first three digits are the milliseconds; the rest is truncated.
    let scale = 100;
    at++;
    const start = at;
    for (let digit = text.charCodeAt(at) - 48; digit >= 0 && digit <= 9; digit = text.charCodeAt(++at) - 48) {
      millis += digit * scale;
      scale /= 10;
    }
    if (at === start) return fallbackTimestamptz(text);
    millis = Math.trunc(millis);
  }
  // The offset: +HH, +HH:MM or +HH:MM:SS (historical local mean times), and nothing after it.
  const sign = text.charCodeAt(at);
  if (sign !== 43 && sign !== 45) return fallbackTimestamptz(text);
  const rest = text.length - at;
  if (rest !== 3 && rest !== 6 && rest !== 9) return fallbackTimestamptz(text);
  const offsetHours = digitsAt(text, at + 1, at + 3);
  const offsetMinutes = rest >= 6 && text.charCodeAt(at + 3) === 58 ? digitsAt(text, at + 4, at + 6) : rest >= 6 ? -1 : 0;
  const offsetSeconds = rest === 9 && text.charCodeAt(at + 6) === 58 ? digitsAt(text, at + 7, at + 9) : rest === 9 ? -1 : 0;
  if (offsetHours < 0 || offsetMinutes < 0 || offsetSeconds < 0) return fallbackTimestamptz(text);
  const offsetMillis = (offsetHours * 3600 + offsetMinutes * 60 + offsetSeconds) * 1000 * (sign === 45 ? -1 : 1);
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMillis);
}

/** The type parsers of every query the library sends (node-postgres' `types` option of a query). */
export const ROW_TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (text: string) => unknown {
    if (oid === TIMESTAMPTZ_OID && format !== 'binary') return parseTimestamptz;
    return pg.types.getTypeParser(oid, format) as (text: string) => unknown;
  },
};
