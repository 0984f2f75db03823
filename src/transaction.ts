/**
 * One withUser transaction, in small steps (after slonik's execTransaction
 * and transaction): acquire a pooled client, open the transaction as the
 * user, run the callback, commit; on any failure roll back, or discard a
 * connection that broke. The user id and the role are set with
 * set_config(..., true), the `set local` forms, so nothing survives into the
 * next transaction on the connection: safe behind transaction-mode poolers.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type pg from 'pg';
import {
  DatabaseUnavailableError,
  InternalError,
  TransactionAbortedError,
  UsageError,
  isConnectionFailure,
  mapDatabaseError,
} from './errors.js';
import { isCanonicalUuid } from './schemas.js';
import { QueryRunner, type QueryEvent } from './query-runner.js';
import { createRepositories, type Repositories } from './repositories/index.js';
import { isStaleStatementError, type StatementNames } from './statement-names.js';

/** What a withUser callback receives: the repositories of the current user. */
export interface Transaction extends Repositories {
  /** The user this transaction runs for. */
  readonly userId: string;
}

/** What every transaction of one store shares. */
export interface TransactionSettings {
  pool: pg.Pool;
  appRole: string;
  onQuery: ((event: QueryEvent) => void) | undefined;
  /** Undefined when the store sends unnamed statements (namedStatements: false). */
  statementNames?: StatementNames | undefined;
}

export const ROLE_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

/** The statement that opens every transaction: one round trip. Inputs are validated before they reach it. */
export function transactionPrologue(userId: string, appRole: string): string {
  if (!isCanonicalUuid(userId)) throw new InternalError('user id must be a canonical uuid');
  if (!ROLE_PATTERN.test(appRole)) throw new InternalError('invalid app role name');
  return `begin; select pg_catalog.set_config('todo_chat.user_id', '${userId}', true), pg_catalog.set_config('role', '${appRole}', true)`;
}

interface OpenTransaction {
  /** The settings of the store that opened it: a nested call joins only its own store's transaction. */
  settings: TransactionSettings;
  tx: Transaction;
  /** Ended once the transaction is over: async work the callback left behind then opens its own transaction. */
  runner: QueryRunner;
}

const openTransaction = new AsyncLocalStorage<OpenTransaction>();

/**
 * The transaction a withUser of the same store is running in the current
 * async context, for a nested withUser to join; undefined when there is none
 * (or it has ended). A nested call for another user is refused.
 */
export function joinableTransaction(settings: TransactionSettings, userId: string): Transaction | undefined {
  const current = openTransaction.getStore();
  if (!current || current.settings !== settings || !current.runner.open) return undefined;
  if (current.tx.userId !== userId) throw new UsageError('withUser for another user inside an open withUser transaction');
  return current.tx;
}

/** One transaction on one pooled client, from acquiring it to releasing it. */
export async function execTransaction<T>(settings: TransactionSettings, userId: string, fn: (tx: Transaction) => Promise<T>): Promise<T> {
  const client = await acquire(settings.pool);
  let broken = false;
  // A checked-out client whose server goes away emits 'error'; unheard, Node would crash the process.
  const onClientError = () => {
    broken = true;
  };
  client.on('error', onClientError);
  try {
    await begin(client, userId, settings.appRole);
    const runner = new QueryRunner(client, userId, settings.onQuery, settings.statementNames);
    const tx: Transaction = Object.freeze({ userId, ...createRepositories(runner) });
    let result: T;
    try {
      result = await openTransaction.run({ settings, tx, runner }, () => fn(tx));
    } finally {
      // Nothing may use tx once fn is done, whether or not the transaction commits.
      runner.end();
    }
    await commit(client, runner);
    return result;
  } catch (error) {
    broken = broken || isConnectionFailure(error) || isConnectionFailure((error as Error)?.cause) || isStaleStatementError(error);
    if (!broken) broken = !(await rollback(client));
    throw error;
  } finally {
    client.removeListener('error', onClientError);
    // A broken connection is destroyed rather than returned to the pool.
    client.release(broken ? true : undefined);
  }
}

async function acquire(pool: pg.Pool): Promise<pg.PoolClient> {
  try {
    return await pool.connect();
  } catch (error) {
    throw new DatabaseUnavailableError(`cannot get a database connection: ${(error as Error)?.message ?? error}`, { cause: error });
  }
}

async function begin(client: pg.PoolClient, userId: string, appRole: string): Promise<void> {
  try {
    await client.query(transactionPrologue(userId, appRole));
  } catch (error) {
    throw mapDatabaseError(error, { query: 'begin' });
  }
}

async function commit(client: pg.PoolClient, runner: QueryRunner): Promise<void> {
  let result: pg.QueryResult;
  try {
    result = await client.query('commit');
  } catch (error) {
    throw mapDatabaseError(error, { query: 'commit' });
  }
  // PostgreSQL answers COMMIT of a failed transaction with ROLLBACK, not an error.
  if (result.command !== 'COMMIT') throw new TransactionAbortedError(runner.abortCause);
}

/** Ends a failed transaction; false when the connection could not even do that (then it is discarded). */
async function rollback(client: pg.PoolClient): Promise<boolean> {
  try {
    await client.query('rollback');
    return true;
  } catch {
    return false;
  }
}
