/**
 * Our own lock, held around every up, down and status, so that a down or a
 * status never reads or rewrites the bookkeeping table while an up is
 * applying files (postgres-migrations' lock covers only its own migrate call,
 * and its key is not part of its documented API).
 *
 * It is a session-level advisory lock on the two-int4 key (1952670818, 1):
 * 1952670818 is 'tcdb' in ASCII, 1 stands for "migrations". pg_locks shows it
 * as locktype 'advisory', classid 1952670818, objid 1, objsubid 2; two-int4
 * keys never collide with the bigint keys other tools use.
 *
 * It is polled rather than waited for with pg_advisory_lock, so that a run
 * stuck behind another one fails after `waitMs` with a clear message instead
 * of hanging.
 */
import type pg from 'pg';
import { MigrationError } from '../errors.js';
import { sleep } from '../backoff.js';

const LOCK_KEY = [1952670818, 1] as const;
const POLL_MS = 200;
export const DEFAULT_LOCK_WAIT_MS = 5 * 60_000;

export interface MigrationLockOptions {
  /** How long to wait for another migration run to finish; default 5 minutes. */
  waitMs?: number | undefined;
}

export async function withMigrationLock<T>(
  client: pg.ClientBase,
  fn: () => Promise<T>,
  { waitMs = DEFAULT_LOCK_WAIT_MS }: MigrationLockOptions = {},
): Promise<T> {
  const deadline = performance.now() + waitMs;
  for (;;) {
    const got = await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1, $2) as locked', [...LOCK_KEY]);
    if (got.rows[0]?.locked) break;
    const left = deadline - performance.now();
    if (left <= 0) {
      throw new MigrationError(
        `another migration run holds the migration lock on this database (advisory lock ${LOCK_KEY.join(', ')}); ` +
          `gave up after waiting ${waitMs} ms, try again when it ends`,
      );
    }
    await sleep(Math.min(POLL_MS, left));
  }
  try {
    return await fn();
  } finally {
    await client.query('select pg_advisory_unlock($1, $2)', [...LOCK_KEY]).catch(() => undefined);
  }
}
