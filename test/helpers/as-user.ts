/**
 * Test-only access to a raw client inside a user context, opened exactly as
 * withUser opens its transactions (the same prologue), so that tests can try
 * what the repositories never would: naming another user's id, writing
 * user_id, forging the setting. Not part of the public API.
 */
import type pg from 'pg';
import { DEFAULT_APP_ROLE } from '../../src/store.js';
import { transactionPrologue } from '../../src/transaction.js';

export async function asUser<T>(pool: pg.Pool, userId: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(transactionPrologue(userId, DEFAULT_APP_ROLE));
    return await fn(client);
  } finally {
    await client.query('rollback').catch(() => undefined);
    client.release();
  }
}

/** The app role with no user set: what a request that forgot its context would get. */
export async function asAppRoleWithoutUser<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(`begin; select pg_catalog.set_config('role', '${DEFAULT_APP_ROLE}', true)`);
    return await fn(client);
  } finally {
    await client.query('rollback').catch(() => undefined);
    client.release();
  }
}

/** Runs one statement in its own savepoint, returning its error code (or 'ok') so a test can go on. */
export async function tryStatement(client: pg.PoolClient, sql: string, values: unknown[] = []): Promise<{ code: string; rowCount: number }> {
  await client.query('savepoint attempt');
  try {
    const result = await client.query(sql, values);
    await client.query('release savepoint attempt');
    return { code: 'ok', rowCount: result.rowCount ?? 0 };
  } catch (error) {
    await client.query('rollback to savepoint attempt');
    return { code: (error as { code?: string }).code ?? 'unknown', rowCount: 0 };
  }
}

/** Opens a transaction with `opening` on one pooled client, runs fn, and commits (rolls back when fn throws). */
export async function committedTransaction<T>(pool: pg.Pool, opening: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(opening);
    const result = await fn(client);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
