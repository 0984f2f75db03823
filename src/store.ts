/**
 * createStore: the only public way to reach the database. A store owns (or
 * borrows) a pg pool; withUser runs a callback in one transaction as one user
 * (src/transaction.ts), health() reports on the database, close() ends the
 * pool the store created.
 */
import pg from 'pg';
import { UsageError } from './errors.js';
import { UserId, parseInput } from './schemas.js';
import type { QueryEvent } from './query-runner.js';
import { ROLE_PATTERN, execTransaction, joinableTransaction, type Transaction, type TransactionSettings } from './transaction.js';
import { readHealth, type Health } from './health.js';
import { StatementNames } from './statement-names.js';

export type { QueryEvent } from './query-runner.js';
export type { Transaction } from './transaction.js';

export const DEFAULT_APP_ROLE = 'todo_chat_app';

export interface StoreOptions {
  /** A pg connection string; the store creates (and closes) its own pool. */
  connectionString?: string;
  /** A pg Pool you own; close() leaves it open. */
  pool?: pg.Pool;
  /** Size of the pool the store creates (default 10). */
  maxConnections?: number;
  /** The NOLOGIN role requests run as (default todo_chat_app, created by the migrations). */
  appRole?: string;
  /** Called once per query with its name, duration, row count and error code; never values. */
  onQuery?: (event: QueryEvent) => void;
  /**
   * Prepare each statement once per connection (default true). Turn it off
   * behind a pooler that cannot carry prepared statements from one
   * transaction to the next: PgBouncer before 1.21 in transaction mode.
   */
  namedStatements?: boolean;
}

export interface Store {
  /** Runs fn in one transaction as userId; commits when it resolves, rolls back when it throws. */
  withUser<T>(userId: string, fn: (tx: Transaction) => Promise<T>): Promise<T>;
  /** Reachability, round-trip latency, server version and pending migrations. */
  health(): Promise<Health>;
  /** Ends the pool the store created (a pool passed in stays open). */
  close(): Promise<void>;
}

export function createStore(options: StoreOptions): Store {
  if (!options || (options.pool === undefined) === (options.connectionString === undefined)) {
    throw new UsageError('createStore needs exactly one of { connectionString } or { pool }');
  }
  const appRole = options.appRole ?? DEFAULT_APP_ROLE;
  if (!ROLE_PATTERN.test(appRole)) throw new UsageError(`invalid appRole ${JSON.stringify(appRole)}`);
  const ownsPool = options.pool === undefined;
  const pool = options.pool ?? new pg.Pool({ connectionString: options.connectionString, max: options.maxConnections ?? 10 });
  if (ownsPool) {
    // An idle client whose server went away emits 'error'; without a listener Node would crash.
    pool.on('error', () => undefined);
  }
  const settings: TransactionSettings = {
    pool,
    appRole,
    onQuery: options.onQuery,
    statementNames: options.namedStatements === false ? undefined : new StatementNames(),
  };
  let closed = false;

  return {
    async withUser(rawUserId, fn) {
      const userId = parseInput(UserId, rawUserId, 'user id');
      if (typeof fn !== 'function') throw new UsageError('withUser needs a callback');
      const open = joinableTransaction(settings, userId);
      if (open) return fn(open);
      if (closed) throw new UsageError('store is closed');
      return execTransaction(settings, userId, fn);
    },
    async health() {
      return readHealth(pool);
    },
    async close() {
      if (closed) return;
      closed = true;
      if (ownsPool) await pool.end();
    },
  };
}
