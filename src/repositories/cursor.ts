/**
 * Opaque keyset cursors: base64url JSON naming the list they belong to and the
 * last row's sort key. A cursor from another list, or a tampered one, is a
 * ValidationError, never a silently wrong page.
 */
import { ValidationError } from '../errors.js';

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
}

export function encodeCursor(kind: string, key: (string | number)[]): string {
  return Buffer.from(JSON.stringify([kind, ...key]), 'utf8').toString('base64url');
}

export function decodeCursor(kind: string, cursor: string, shape: ('string' | 'date' | 'integer')[]): (string | Date)[] {
  const refuse = () =>
    new ValidationError(`invalid cursor for ${kind}`, [{ path: ['cursor'], message: 'not a cursor returned by this list' }]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw refuse();
  }
  if (!Array.isArray(parsed) || parsed[0] !== kind || parsed.length !== shape.length + 1) throw refuse();
  return shape.map((type, index) => {
    const value: unknown = parsed[index + 1];
    if (type === 'date') {
      const date = typeof value === 'string' ? new Date(value) : new Date(Number.NaN);
      if (Number.isNaN(date.getTime())) throw refuse();
      return date;
    }
    if (type === 'integer') {
      if (typeof value !== 'string' || !/^[0-9]{1,19}$/.test(value)) throw refuse();
      return value;
    }
    if (typeof value !== 'string' || !/^[0-9a-f-]{36}$/.test(value)) throw refuse();
    return value;
  });
}
