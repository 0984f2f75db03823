/**
 * Keyset pagination, in one place: the sentinel keys a first page starts
 * from, the cursor schema, opaque cursors, and the "one row more than the
 * page" tail that says whether another page exists. A cursor is base64url
 * JSON naming the list it belongs to and the last row's sort key; one from
 * another list, or a tampered one, is a ValidationError, never a silently
 * wrong page.
 */
import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { isCanonicalUuid } from '../schemas.js';

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
}

/** Keys past every real one: the largest and the smallest uuid, the largest bigint. */
export const MAX_UUID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';
export const NIL_UUID = '00000000-0000-0000-0000-000000000000';
export const MAX_BIGINT = '9223372036854775807';

/*
 * Cursors as callers pass them back. An empty cursor is refused rather than
 * read as "first page": a client that turned a null nextCursor into "" would
 * otherwise loop forever.
 */
export const PageCursor = z.string().min(1).max(512);
export const HistoryCursor = z.string().min(1).max(256);

/** A page size between 1 and the list's maximum, its default when absent. */
export function pageLimit(limits: { defaultLimit: number; maxLimit: number }) {
  return z.number().int().min(1).max(limits.maxLimit).default(limits.defaultLimit);
}

type KeyPart = 'uuid' | 'timestamp' | 'integer';

export function encodeCursor(kind: string, key: (string | number)[]): string {
  return Buffer.from(JSON.stringify([kind, ...key]), 'utf8').toString('base64url');
}

export function decodeCursor(kind: string, cursor: string, shape: KeyPart[]): (string | Date)[] {
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
    if (type === 'timestamp') {
      const date = typeof value === 'string' ? new Date(value) : new Date(Number.NaN);
      if (Number.isNaN(date.getTime())) throw refuse();
      return date;
    }
    if (type === 'integer') {
      if (typeof value !== 'string' || !/^[0-9]{1,19}$/.test(value)) throw refuse();
      return value;
    }
    if (typeof value !== 'string' || !isCanonicalUuid(value)) throw refuse();
    return value;
  });
}

/** The direction of a list keyed by (timestamp, id). */
export type KeysetOrder = 'newest' | 'oldest';

const FIRST_KEY: Record<KeysetOrder, readonly [string, string]> = {
  newest: ['infinity', MAX_UUID],
  oldest: ['-infinity', NIL_UUID],
};

/** The parameters every list query of sql/ takes: strictly past (:cursorAt, :cursorId), at most :limit rows. */
export interface Keyset {
  cursorAt: Date | string;
  cursorId: string;
  limit: number;
}

/**
 * One page of a list ordered by (timestamp, id). `list.kind` names the list
 * (and its filter) inside its cursors; `list.at` is the timestamp a row is
 * ordered by. `fetch` runs the list query with the keyset it is given.
 */
export async function keysetPage<R extends { id: string }>(
  list: { kind: string; order: KeysetOrder; at: (row: R) => Date },
  options: { cursor?: string | undefined; limit: number },
  fetch: (keyset: Keyset) => Promise<R[]>,
): Promise<Page<R>> {
  const [cursorAt, cursorId] = options.cursor
    ? (decodeCursor(list.kind, options.cursor, ['timestamp', 'uuid']) as [Date, string])
    : FIRST_KEY[list.order];
  const rows = await fetch({ cursorAt, cursorId, limit: options.limit + 1 });
  const hasMore = rows.length > options.limit;
  const items = hasMore ? rows.slice(0, options.limit) : rows;
  const last = items[items.length - 1];
  return {
    items,
    nextCursor: hasMore && last ? encodeCursor(list.kind, [list.at(last).toISOString(), last.id]) : null,
  };
}
