/**
 * Keyset pagination, in one place: the sentinel keys a first page starts
 * from, the cursor schemas, opaque cursors, and the "one row more than the
 * page" tail that says whether another page exists. A cursor is base64url
 * JSON naming the list it belongs to and the last row's sort key; one from
 * another list, or a tampered one, is a ValidationError, never a silently
 * wrong page. Sort keys hold only the user's own values (timestamps, ids,
 * positions within a conversation).
 */
import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { NIL_UUID, isCanonicalUuid } from '../schemas.js';

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
}

/** Keys past every real one. */
export const MAX_UUID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';
export { NIL_UUID };

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

/** How a part of a sort key is written in a cursor: a uuid, a timestamp (ISO text, read back as a Date), a whole number. */
export type KeyPart = 'uuid' | 'timestamp' | 'integer';
export type KeyValue = string | number | Date;

export function encodeCursor(kind: string, key: (string | number)[]): string {
  return Buffer.from(JSON.stringify([kind, ...key]), 'utf8').toString('base64url');
}

export function decodeCursor(kind: string, cursor: string, shape: KeyPart[]): KeyValue[] {
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
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < -1) throw refuse();
      return value;
    }
    if (typeof value !== 'string' || !isCanonicalUuid(value)) throw refuse();
    return value;
  });
}

/**
 * A keyset-paginated list: its name in cursors, how its sort key is written,
 * where its first page starts, a row's key, and the query parameters that
 * ask for the rows strictly after a key.
 */
export interface KeysetList<R, P> {
  kind: string;
  shape: KeyPart[];
  first: readonly KeyValue[];
  keyOf(row: R): (string | number)[];
  params(key: readonly KeyValue[], limit: number): P;
}

/** What the list queries ordered by (timestamp, id) take: strictly past (:cursorAt, :cursorId), at most :limit rows. */
export interface TimestampIdKeyset {
  cursorAt: Date | string;
  cursorId: string;
  limit: number;
}

/** A list ordered by (timestamp, id), newest or oldest first. */
export function byTimestampAndId<R extends { id: string }>(
  kind: string,
  order: 'newest' | 'oldest',
  at: (row: R) => Date,
): KeysetList<R, TimestampIdKeyset> {
  return {
    kind,
    shape: ['timestamp', 'uuid'],
    first: order === 'newest' ? ['infinity', MAX_UUID] : ['-infinity', NIL_UUID],
    keyOf: (row) => [at(row).toISOString(), row.id],
    params: ([cursorAt, cursorId], limit) => ({ cursorAt: cursorAt as Date | string, cursorId: cursorId as string, limit }),
  };
}

/**
 * One page of a keyset list: decodes the cursor (or starts at the list's
 * first key), asks `fetch` for one row more than the page, and encodes the
 * next cursor from the page's last row.
 */
export async function keysetPage<R, P>(
  list: KeysetList<R, P>,
  options: { cursor?: string | undefined; limit: number },
  fetch: (params: P) => Promise<R[]>,
): Promise<Page<R>> {
  const key = options.cursor ? decodeCursor(list.kind, options.cursor, list.shape) : list.first;
  const rows = await fetch(list.params(key, options.limit + 1));
  const hasMore = rows.length > options.limit;
  const items = hasMore ? rows.slice(0, options.limit) : rows;
  const last = items[items.length - 1];
  return { items, nextCursor: hasMore && last !== undefined ? encodeCursor(list.kind, list.keyOf(last)) : null };
}
