/**
 * createStore and withUser: the only public way to reach the database. Every
 * callback runs in one transaction on one pooled client, as the app role, with
 * app.user_id set for that transaction alone (set_config(..., true) and
 * set_config('role', ..., true) are the `set local` forms), so nothing
 * survives into the next transaction on the connection: safe behind
 * transaction-mode poolers.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import { ContextError, DatabaseUnavailableError, TransactionAbortedError, isConnectionFailure, mapDatabaseError } from './errors.js';
import { UserId, parseInput } from './schemas.js';
import { Session, type QueryEvent } from './session.js';
import { createRepositories, type Repositories } from './repositories/index.js';
import { readHealth, type Health } from './health.js';

export type { QueryEvent } from './session.js';

export const DEFAULT_APP_ROLE = 'todo_chat_app';
const ROLE_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

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
}

/** What a withUser callback receives: the repositories of the current user. */
export interface Transaction extends Repositories {
  /** The user this transaction runs for. */
  readonly userId: string;
}

export interface Store {
  /** Runs fn in one transaction as userId; commits when it resolves, rolls back when it throws. */
  withUser<T>(userId: string, fn: (tx: Transaction) => Promise<T>): Promise<T>;
  /** Reachability, round-trip latency, server version and pending migrations. */
  health(): Promise<Health>;
  /** Ends the pool the store created (a pool passed in stays open). */
  close(): Promise<void>;
}

interface ActiveContext {
  store: object;
  userId: string;
  tx: Transaction;
  /** Closed once the transaction ended: async work the callback left behind then opens its own transaction. */
  session: Session;
}

const activeContext = new AsyncLocalStorage<ActiveContext>();

/** The statement that opens every transaction: one round trip. Inputs are validated before they reach it. */
export function transactionPrologue(userId: string, appRole: string): string {
  if (!CANONICAL_UUID.test(userId)) throw new ContextError('internal: user id must be a canonical uuid');
  if (!ROLE_PATTERN.test(appRole)) throw new ContextError('internal: invalid app role name');
  return `begin; select pg_catalog.set_config('app.user_id', '${userId}', true), pg_catalog.set_config('role', '${appRole}', true)`;
}

export function createStore(options: StoreOptions): Store {
  if (!options || (options.pool === undefined) === (options.connectionString === undefined)) {
    throw new ContextError('createStore needs exactly one of { connectionString } or { pool }');
  }
  const appRole = options.appRole ?? DEFAULT_APP_ROLE;
  if (!ROLE_PATTERN.test(appRole)) throw new ContextError(`invalid appRole ${JSON.stringify(appRole)}`);
  const ownsPool = options.pool === undefined;
  const pool =
    options.pool ??
    new pg.Pool({ connectionString: options.connectionString, max: options.maxConnections ?? 10 });
  if (ownsPool) {
    // An idle client whose server went away emits 'error'; without a listener Node would crash.
    pool.on('error', () => undefined);
  }
  const onQuery = options.onQuery;
  let closed = false;
  const identity = {};

  async function withUser<T>(rawUserId: string, fn: (tx: Transaction) => Promise<T>): Promise<T> {
    const userId = parseInput(UserId, rawUserId, 'user id');
    if (typeof fn !== 'function') throw new ContextError('withUser needs a callback');
    const current = activeContext.getStore();
    if (current && current.store === identity && current.session.open) {
      if (current.userId !== userId) {
        throw new ContextError('withUser for another user inside an open withUser transaction');
      }
      return fn(current.tx);
    }
    if (closed) throw new ContextError('store is closed');

    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw new DatabaseUnavailableError(`cannot get a database connection: ${(error as Error)?.message ?? error}`, {
        cause: error,
      });
    }
    const session = new Session(client, onQuery);
    const tx: Transaction = Object.freeze({ userId, ...createRepositories(session, userId) });
    const context: ActiveContext = { store: identity, userId, tx, session };
    let broken = false;
    // A checked-out client whose server goes away emits 'error'; unheard, Node would crash the process.
    const onClientError = () => {
      broken = true;
    };
    client.on('error', onClientError);
    try {
      try {
        await client.query(transactionPrologue(userId, appRole));
      } catch (error) {
        throw mapDatabaseError(error, { query: 'begin' });
      }
      let result: T;
      try {
        result = await activeContext.run(context, () => fn(tx));
      } finally {
        // Nothing may use tx once fn is done, whether or not the transaction commits.
        session.end();
      }
      let commit: pg.QueryResult;
      try {
        commit = await client.query('commit');
      } catch (error) {
        throw mapDatabaseError(error, { query: 'commit' });
      }
      if (commit.command !== 'COMMIT') {
        // PostgreSQL answers COMMIT of a failed transaction with ROLLBACK, not an error.
        throw new TransactionAbortedError(session.abortedBy);
      }
      return result;
    } catch (error) {
      broken = broken || isConnectionFailure(error) || isConnectionFailure((error as Error)?.cause);
      if (!broken) {
        try {
          await client.query('rollback');
        } catch {
          broken = true;
        }
      }
      throw error;
    } finally {
      client.removeListener('error', onClientError);
      // A broken connection is destroyed rather than returned to the pool.
      client.release(broken ? true : undefined);
    }
  }

  return {
    withUser,
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
