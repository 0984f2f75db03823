/**
 * The session settings an up or down runs under, restored afterwards because
 * the client may be one of its caller's pool:
 * - lock_timeout: every statement of a migration file waits at most this long
 *   for a lock, so that a migration queued behind a long transaction gives up
 *   fast instead of blocking every query that queues behind it in turn: one
 *   second by default, the longest stall a migration may cause traffic at a
 *   time; the file is then tried again (src/migrate/lock-retry.ts);
 * - search_path: postgres-migrations finds its bookkeeping table `migrations`
 *   through it, so it is our bookkeeping schema alone while it runs (our files
 *   name every object with its schema).
 */
import type pg from 'pg';
import { MigrationError } from '../errors.js';

export const DEFAULT_LOCK_TIMEOUT = '1s';

export interface MigrationSessionSettings {
  lockTimeout: string;
  searchPath: string;
}

export async function withSessionSettings<T>(client: pg.ClientBase, settings: MigrationSessionSettings, fn: () => Promise<T>): Promise<T> {
  const before = await client.query<{ lock_timeout: string; search_path: string }>(
    "select pg_catalog.current_setting('lock_timeout') as lock_timeout, pg_catalog.current_setting('search_path') as search_path",
  );
  const restore = before.rows[0]!;
  let set: string | undefined;
  try {
    const result = await client.query<{ lock_timeout: string }>(
      "select pg_catalog.set_config('lock_timeout', $1, false) as lock_timeout",
      [settings.lockTimeout],
    );
    set = result.rows[0]?.lock_timeout;
  } catch (error) {
    throw new MigrationError(`invalid migration lock timeout ${JSON.stringify(settings.lockTimeout)}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (set === '0') {
    // 0 turns lock_timeout off: a migration queued behind a long transaction would then stall its table until that ends.
    await client.query("select pg_catalog.set_config('lock_timeout', $1, false)", [restore.lock_timeout]).catch(() => undefined);
    throw new MigrationError(
      `invalid migration lock timeout ${JSON.stringify(settings.lockTimeout)}: it must be positive (0 would let a migration ` +
        'waiting for a lock stall every query on its table for as long as it waits)',
    );
  }
  try {
    await client.query("select pg_catalog.set_config('search_path', $1, false)", [settings.searchPath]);
    return await fn();
  } finally {
    await client
      .query(
        "select pg_catalog.set_config('lock_timeout', $1, false), pg_catalog.set_config('search_path', $2, false)",
        [restore.lock_timeout, restore.search_path],
      )
      .catch(() => undefined);
  }
}
