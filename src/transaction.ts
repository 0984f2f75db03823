/**
 * One withUser transaction, in small steps (after slonik's execTransaction,
 * transaction and retryTransaction): open it (src/acquire.ts: a pooled
 * client, BEGIN as the user, retried while nothing of the caller's has run),
 * run the callback, commit; roll back on any failure, or discard a
 * connection that broke. A deadline bounds the whole: when it passes, the
 * connection is discarded (the server rolls the transaction back as its
 * client goes), its pool slot comes back, and withUser rejects at once,
 * whatever the callback is still waiting for. retryTransaction runs it again
 * on a deadlock or a serialization failure. Settings are set with
 * set_config(..., true), the `set local` forms: nothing survives into the next
 * transaction on the connection, which keeps it safe behind transaction-mode
 * poolers.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type pg from 'pg';
import {
  brokeConnection,
  CommitOutcomeUnknownError,
  InternalError,
  SerializationFailureError,
  TimeoutError,
  TransactionAbortedError,
  UsageError,
  mapDatabaseError,
} from './errors.js';
import { isCanonicalUuid } from './schemas.js';
import { QueryRunner, type QueryEvent } from './query-runner.js';
import { createRepositories, type Repositories } from './repositories/index.js';
import { openTransaction } from './acquire.js';
import { backoffDelay, sleep } from './backoff.js';
import { ROLE_PATTERN, type ResolvedStoreOptions } from './store-options.js';
import { isStaleStatementError, type StatementNames } from './statement-names.js';

/** What a withUser callback receives: the repositories of the current user. */
export interface Transaction extends Repositories {
  /** The user this transaction runs for. */
  readonly userId: string;
}

/** What every transaction of one store shares. */
export interface TransactionSettings {
  pool: pg.Pool;
  options: ResolvedStoreOptions;
  onQuery: ((event: QueryEvent) => void) | undefined;
  /** Resolves once the store has verified its app role (src/app-role.ts); rejects with what is wrong. */
  verifyAppRole: (client: pg.ClientBase) => Promise<void>;
  /** The transactions in flight, for close() to end after its grace period. */
  inFlight: Set<InFlight>;
  isClosed: () => boolean;
  /** Undefined when the store sends unnamed statements (namedStatements: false). */
  statementNames?: StatementNames | undefined;
}

/** A transaction in flight, as close() sees it. */
export interface InFlight {
  /** Settles when the transaction has ended, however it ended. */
  readonly done: Promise<void>;
  /** Ends it now: the connection is discarded and withUser rejects with `error`. */
  abort(error: Error): void;
}

export interface Timeouts {
  statementTimeoutMs: number;
  lockTimeoutMs: number;
  transactionTimeoutMs: number;
}

/**
 * The statement that opens every transaction: one round trip that begins it,
 * sets the user and the role, and bounds its statements, lock waits and idle
 * time on the server. Inputs are validated before they reach it.
 */
export function transactionPrologue(userId: string, appRole: string, timeouts?: Timeouts): string {
  if (!isCanonicalUuid(userId)) throw new InternalError('user id must be a canonical uuid');
  if (!ROLE_PATTERN.test(appRole)) throw new InternalError('invalid app role name');
  const bounds = timeouts
    ? [
        ['statement_timeout', timeouts.statementTimeoutMs],
        ['lock_timeout', timeouts.lockTimeoutMs],
        // The server's own guard, should the client vanish without closing its socket.
        ['idle_in_transaction_session_timeout', timeouts.transactionTimeoutMs],
      ].map(([name, ms]) => {
        if (!Number.isInteger(ms)) throw new InternalError(`invalid ${String(name)}`);
        return `, pg_catalog.set_config('${String(name)}', '${ms}', true)`;
      })
    : [];
  return `begin; select pg_catalog.set_config('todo_chat.user_id', '${userId}', true), pg_catalog.set_config('role', '${appRole}', true)${bounds.join('')}`;
}

interface OpenTransaction {
  /** The settings of the store that opened it: a nested call joins only its own store's transaction. */
  settings: TransactionSettings;
  tx: Transaction;
}

/**
 * The async context holds an opaque key per transaction, never the
 * transaction itself: code in the process can reach the context's value
 * (through async_hooks resources), and from the key nothing leads to a
 * client. The transactions live in this module's WeakMap, and only while
 * they are open: async work the callback left behind then opens its own.
 */
const openTransactionKey = new AsyncLocalStorage<object>();
const openTransactions = new WeakMap<object, OpenTransaction>();

/**
 * The transaction a withUser of the same store is running in the current
 * async context, for a nested withUser to join; undefined when there is none
 * (or it has ended). A nested call for another user is refused.
 */
export function joinableTransaction(settings: TransactionSettings, userId: string): Transaction | undefined {
  const key = openTransactionKey.getStore();
  const current = key === undefined ? undefined : openTransactions.get(key);
  if (!current || current.settings !== settings) return undefined;
  if (current.tx.userId !== userId) throw new UsageError('withUser for another user inside an open withUser transaction');
  return current.tx;
}

/** Errors of a commit that was sent: never run again, whatever they are. */
const afterCommit = new WeakSet<object>();

/** A deadlock or serialization failure before the commit was sent: the whole callback may run again. */
function isSerializationFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || afterCommit.has(error)) return false;
  return error instanceof SerializationFailureError || (error instanceof TransactionAbortedError && error.cause instanceof SerializationFailureError);
}

/** execTransaction, run again (after a backoff) when it fails with 40001/40P01 before its commit was sent. */
export async function retryTransaction<T>(settings: TransactionSettings, userId: string, fn: (tx: Transaction) => Promise<T>, runs: number): Promise<T> {
  for (let run = 1; ; run++) {
    try {
      return await execTransaction(settings, userId, fn);
    } catch (error) {
      if (run >= runs || !isSerializationFailure(error) || settings.isClosed()) throw error;
      await sleep(backoffDelay(settings.options.retry, run));
    }
  }
}

/** One transaction on one pooled client, from acquiring it to releasing it. */
export async function execTransaction<T>(settings: TransactionSettings, userId: string, fn: (tx: Transaction) => Promise<T>): Promise<T> {
  const { options } = settings;
  const client = await openTransaction({
    pool: settings.pool,
    acquireTimeoutMs: options.acquireTimeoutMs,
    attempts: options.retry.connection,
    backoff: options.retry,
    isClosed: settings.isClosed,
    verify: settings.verifyAppRole,
    prologue: transactionPrologue(userId, options.appRole, options),
  });

  let phase: 'callback' | 'commit' | 'rollback' | 'done' = 'callback';
  let released = false;
  const release = (destroy: boolean) => {
    if (released) return;
    released = true;
    client.release(destroy ? true : undefined);
  };
  let broken = false;
  // A checked-out client whose server goes away emits 'error'; unheard, Node would crash the process.
  const onClientError = () => {
    broken = true;
  };
  client.on('error', onClientError);

  const runner = new QueryRunner(client, userId, settings.onQuery, settings.statementNames);
  const tx: Transaction = Object.freeze({ userId, ...createRepositories(runner) });
  const key = Object.freeze(Object.create(null) as object);
  openTransactions.set(key, { settings, tx });
  const close = () => {
    openTransactions.delete(key);
    runner.end();
  };

  let abortWith: (error: Error) => void = () => undefined;
  const aborted = new Promise<never>((_, reject) => {
    abortWith = reject;
  });
  // Raced while the transaction runs; an abort after that is nobody's to hear.
  aborted.catch(() => undefined);
  let resolveDone: () => void = () => undefined;
  const entry: InFlight = {
    done: new Promise<void>((resolve) => {
      resolveDone = resolve;
    }),
    abort(error) {
      if (phase === 'done') return;
      const during = phase;
      phase = 'done';
      broken = true;
      close();
      // Discarding the connection ends the transaction on the server (it rolls back as its client goes).
      release(true);
      abortWith(during === 'commit' ? new CommitOutcomeUnknownError(`${error.message}, after COMMIT was sent: the transaction may have committed`, { cause: error }) : error);
    },
  };
  const deadline = setTimeout(() => {
    entry.abort(
      new TimeoutError(
        'transaction',
        `the transaction ran longer than ${options.transactionTimeoutMs} ms (transactionTimeoutMs); it was ended on the server and nothing of it was committed`,
      ),
    );
  }, options.transactionTimeoutMs);
  settings.inFlight.add(entry);

  try {
    let result: T;
    try {
      // Called without a receiver: the callback's `this` is undefined, never an internal object.
      const work = openTransactionKey.run(key, () => Reflect.apply(fn, undefined, [tx]) as Promise<T>);
      result = await Promise.race([work, aborted]);
    } finally {
      // Nothing may use tx once fn is done, whether or not the transaction commits.
      close();
    }
    phase = 'commit';
    await Promise.race([commit(client, runner), aborted]);
    phase = 'done';
    return result;
  } catch (error) {
    if (phase !== 'done') {
      // The transaction failed before its end: roll back, or discard a connection that broke.
      const during = phase;
      phase = 'done';
      // A connection whose prepared statements went stale (a schema change) is discarded, as a broken one.
      broken = broken || brokeConnection(error) || isStaleStatementError(error);
      if (during === 'commit' && broken) {
        afterCommit.add(error as object);
        const outcome = new CommitOutcomeUnknownError('the connection was lost after COMMIT was sent: the transaction may have committed', { cause: error });
        afterCommit.add(outcome);
        throw outcome;
      }
      if (during === 'commit') afterCommit.add(error as object);
      if (!broken) {
        // Bounded by the deadline too: an abort meanwhile discards the connection.
        phase = 'rollback';
        const rolledBack = await Promise.race([rollback(client), aborted.catch(() => false)]);
        phase = 'done';
        broken = broken || !rolledBack;
      }
    }
    throw error;
  } finally {
    clearTimeout(deadline);
    settings.inFlight.delete(entry);
    // A discarded client keeps the listener: it may still report its socket's end.
    if (!broken) client.removeListener('error', onClientError);
    // A broken connection is destroyed rather than returned to the pool.
    release(broken);
    resolveDone();
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
