/**
 * Every statement of an up or down file waits at most `lockTimeout` for a
 * table lock, so that a migration queued behind a long transaction fails fast
 * instead of blocking every query that queues behind it in turn. The caller's
 * session setting is restored afterwards: the client may be one of its pool's.
 */
import type pg from 'pg';
import { MigrationError } from '../errors.js';

export const DEFAULT_LOCK_TIMEOUT = '10s';

export async function withLockTimeout<T>(client: pg.ClientBase, lockTimeout: string, fn: () => Promise<T>): Promise<T> {
  const before = await client.query<{ value: string }>("select pg_catalog.current_setting('lock_timeout') as value");
  try {
    await client.query("select pg_catalog.set_config('lock_timeout', $1, false)", [lockTimeout]);
  } catch (error) {
    throw new MigrationError(`invalid migration lock timeout ${JSON.stringify(lockTimeout)}: ${(error as Error).message}`, { cause: error });
  }
  try {
    return await fn();
  } finally {
    await client
      .query("select pg_catalog.set_config('lock_timeout', $1, false)", [before.rows[0]?.value ?? '0'])
      .catch(() => undefined);
  }
}
