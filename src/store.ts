/**
 * createStore: the only public way to reach the database. A store owns (or
 * borrows) a pg pool; withUser runs a callback in one transaction as one user
 * (src/transaction.ts), health() reports on the database, close() ends the
 * pool the store created. Every one of them returns within its bound
 * (src/store-options.ts, docs/operations.md), whatever the server does.
 */
import pg from 'pg';
import { ConfigurationError, UsageError, mapDatabaseError } from './errors.js';
import { appRoleProblems } from './app-role.js';
import { UserId, parseInput } from './schemas.js';
import { joinableTransaction, retryTransaction, type InFlight, type Transaction, type TransactionSettings } from './transaction.js';
import { readHealth, type Health } from './health.js';
import { sleep } from './backoff.js';
import { StatementNames } from './statement-names.js';
import { resolveStoreOptions, serializationRuns, type StoreOptions, type WithUserOptions } from './store-options.js';

export type { QueryEvent } from './query-runner.js';
export type { Transaction } from './transaction.js';
export { DEFAULT_APP_ROLE } from './store-options.js';
export type { StoreOptions, RetryOptions, WithUserOptions } from './store-options.js';

export interface Store {
  /**
   * Runs fn in one transaction as userId; commits when it resolves, rolls
   * back when it throws. Runs fn again on a deadlock or serialization failure
   * (options.retry), so fn must be safe to run again.
   */
  withUser<T>(userId: string, fn: (tx: Transaction) => Promise<T>, options?: WithUserOptions): Promise<T>;
  /** Reachability, round-trip latency, server version, pending migrations and the app role's problems; never throws. */
  health(): Promise<Health>;
  /** Stops new work, lets transactions in flight finish for closeGraceMs, ends the rest, and ends the pool the store created. */
  close(): Promise<void>;
}

/** A connection of the pool the store creates: connecting is bounded by connectTimeoutMs. */
function clientClass(connectTimeoutMs: number): typeof pg.Client {
  return class BoundedClient extends pg.Client {
    constructor(config?: string | pg.ClientConfig) {
      super({ ...(typeof config === 'string' ? { connectionString: config } : config), connectionTimeoutMillis: connectTimeoutMs });
    }
  };
}

export function createStore(options: StoreOptions): Store {
  const resolved = resolveStoreOptions(options);
  const { appRole } = resolved;
  const ownsPool = resolved.pool === undefined;
  const pool =
    resolved.pool ??
    new pg.Pool({ connectionString: resolved.connectionString, max: resolved.maxConnections, Client: clientClass(resolved.connectTimeoutMs) });
  if (ownsPool) {
    // An idle client whose server went away emits 'error'; without a listener Node would crash.
    pool.on('error', () => undefined);
  }

  /*
   * The app role is verified once per store, before the first transaction
   * runs as it; concurrent first calls share the one check. A refusal is not
   * remembered: once an operator fixes the database, the next call passes.
   */
  let roleVerified = false;
  let roleCheck: Promise<void> | undefined;
  const checkRole = async (client: pg.ClientBase): Promise<string[]> => {
    let problems: string[];
    try {
      problems = await appRoleProblems(client, appRole);
    } catch (error) {
      throw mapDatabaseError(error, { query: 'verify app role' });
    }
    if (problems.length === 0) roleVerified = true;
    return problems;
  };
  const verifyAppRole = async (client: pg.ClientBase): Promise<void> => {
    if (roleVerified) return;
    roleCheck ??= checkRole(client)
      .then((problems) => {
        if (problems.length > 0) throw new ConfigurationError(problems);
      })
      .finally(() => {
        roleCheck = undefined;
      });
    await roleCheck;
  };

  let closed = false;
  let closing: Promise<void> | undefined;
  const inFlight = new Set<InFlight>();
  const settings: TransactionSettings = {
    pool,
    options: resolved,
    onQuery: resolved.onQuery,
    verifyAppRole,
    inFlight,
    isClosed: () => closed,
    statementNames: resolved.namedStatements ? new StatementNames() : undefined,
  };

  return {
    async withUser(rawUserId, fn, callOptions) {
      const userId = parseInput(UserId, rawUserId, 'user id');
      if (typeof fn !== 'function') throw new UsageError('withUser needs a callback');
      const runs = serializationRuns(callOptions, resolved.retry.serialization);
      const open = joinableTransaction(settings, userId);
      if (open) return fn(open);
      if (closed) throw new UsageError('store is closed');
      return retryTransaction(settings, userId, fn, runs);
    },
    async health() {
      return readHealth(pool, checkRole, resolved.healthTimeoutMs);
    },
    close() {
      closing ??= (async () => {
        closed = true;
        const grace = sleep(resolved.closeGraceMs, { unref: true });
        await Promise.race([Promise.all([...inFlight].map((entry) => entry.done)), grace]);
        for (const entry of inFlight) {
          entry.abort(new UsageError(`the store was closed while this transaction ran (closeGraceMs ${resolved.closeGraceMs}); it was rolled back`));
        }
        if (ownsPool) {
          // Every client is idle or discarded by now; ending them waits for no server.
          await Promise.race([pool.end(), sleep(resolved.connectTimeoutMs, { unref: true })]);
        }
      })();
      return closing;
    },
  };
}
