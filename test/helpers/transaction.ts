/**
 * Raw transactions for tests: one primitive, withRawTransaction, and thin
 * wrappers named after what the tests do with it. A raw client can try what
 * the repositories never would (naming another user's id, writing user_id,
 * forging the setting), so none of this is part of the public API.
 *
 * A user context is opened with exactly the prologue withUser sends with the
 * default options (transactionPrologue(userId, DEFAULT_APP_ROLE, DEFAULTS) of
 * src/transaction.ts).
 */
import type pg from 'pg';
import { DEFAULT_APP_ROLE, DEFAULTS } from '../../src/store-options.js';
import { transactionPrologue } from '../../src/transaction.js';

export interface RawTransactionOptions {
  /** Open the transaction as this user: the prologue withUser sends, with the default app role. */
  user?: string;
  /** Open it as the app role with no user set: what a request that forgot its context would get. */
  appRole?: boolean;
  /** Open it with this statement instead ('begin' when neither user, appRole nor opening is given). */
  opening?: string;
  /** Commit when fn resolves; without it the transaction is always rolled back. Either way it rolls back when fn throws. */
  commit?: boolean;
}

function openingOf(options: RawTransactionOptions): string {
  const given = [options.user !== undefined, options.appRole === true, options.opening !== undefined].filter(Boolean).length;
  if (given > 1) throw new Error('withRawTransaction: give at most one of user, appRole and opening');
  if (options.user !== undefined) return transactionPrologue(options.user, DEFAULT_APP_ROLE, DEFAULTS);
  if (options.appRole) return `begin; select pg_catalog.set_config('role', '${DEFAULT_APP_ROLE}', true)`;
  return options.opening ?? 'begin';
}

/**
 * Takes one client from `pool`, opens a transaction on it (see the options),
 * runs fn with the client, then commits (options.commit, when fn resolved) or
 * rolls back, and releases the client.
 */
export async function withRawTransaction<T>(
  pool: pg.Pool,
  options: RawTransactionOptions,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const opening = openingOf(options);
  const client = await pool.connect();
  let committed = false;
  try {
    await client.query(opening);
    const result = await fn(client);
    if (options.commit) {
      await client.query('commit');
      committed = true;
    }
    return result;
  } finally {
    if (!committed) await client.query('rollback').catch(() => undefined);
    client.release();
  }
}

/** A raw client in a user context, always rolled back. */
export async function asUser<T>(pool: pg.Pool, userId: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withRawTransaction(pool, { user: userId }, fn);
}

/**
 * A raw client in a user context that COMMITS when fn resolves (rolls back
 * when it throws): an attack that was not refused must be visible afterwards
 * to a superuser snapshot.
 */
export async function asUserCommitting<T>(pool: pg.Pool, userId: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withRawTransaction(pool, { user: userId, commit: true }, fn);
}

/** The app role with no user set, always rolled back. */
export async function asAppRoleWithoutUser<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withRawTransaction(pool, { appRole: true }, fn);
}

/**
 * Runs one statement as superuser with ordinary triggers off
 * (session_replication_role = replica), committed, so that a test can set
 * updated_at or completed_at to a value in the past that todo_chat.touch_row would
 * overwrite.
 */
export async function withoutTriggers(admin: pg.Pool, sql: string, values: unknown[] = []): Promise<pg.QueryResult> {
  return withRawTransaction(admin, { opening: "begin; set local session_replication_role = 'replica'", commit: true }, (client) =>
    client.query(sql, values),
  );
}

/** What one statement did: 'ok' and its row count, or the SQLSTATE it failed with (and the constraint, when the error names one). */
export interface StatementOutcome {
  code: string;
  rowCount: number;
  constraint?: string;
}

/**
 * Runs one statement in its own savepoint, inside a transaction the client
 * already has open, and returns what it did instead of throwing, so that a
 * test can go on with the transaction. A failed statement is rolled back to
 * the savepoint.
 */
export async function tryStatement(client: pg.PoolClient, sql: string, values: unknown[] = []): Promise<StatementOutcome> {
  await client.query('savepoint attempt');
  try {
    const result = await client.query(sql, values);
    await client.query('release savepoint attempt');
    return { code: 'ok', rowCount: result.rowCount ?? 0 };
  } catch (error) {
    await client.query('rollback to savepoint attempt');
    const { code, constraint } = error as { code?: string; constraint?: string };
    return { code: code ?? 'unknown', rowCount: 0, ...(constraint === undefined ? {} : { constraint }) };
  }
}
