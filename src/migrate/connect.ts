/**
 * migrate() and migrationStatus() for code that deploys from a script: the
 * same runner as the `todo-chat-db migrate` command, on a client you pass or
 * on one connection opened (and closed) from a connection string. Migrations
 * need one session for their whole run (session advisory lock, session
 * settings): give a direct connection, not a transaction-mode pooler.
 *
 * A connection we open is bounded in time: a server that accepts the
 * connection and never answers (a black hole: a dead proxy, a firewall that
 * drops, something that is not PostgreSQL) fails the run after the connect
 * timeout with a DatabaseUnavailableError saying so, and TCP keepalives are on
 * so that a peer that vanishes mid-run is eventually noticed by the system.
 * Wrong credentials or a missing database are a ConfigurationError (never
 * retryable), as for the store.
 */
import pg from 'pg';
import { ConfigurationError, DatabaseUnavailableError, UsageError } from '../errors.js';
import { migrateUp, type MigrateOptions, type MigrationResult } from './up.js';
import { readMigrationStatus, type MigrationStatus } from './status.js';

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** When TCP starts probing an idle connection whose peer may be gone. */
const KEEPALIVE_AFTER_MS = 10_000;

export interface MigrationTarget {
  /** A PostgreSQL connection string: one connection is opened for the run and closed after it. */
  connectionString?: string | undefined;
  /** A connected client (a pg.Client, or a client checked out of a pool) that stays open. */
  client?: pg.ClientBase | undefined;
  /** Milliseconds to wait for the connection (until the server is ready for queries) when connecting from a connection string; default 10 s. */
  connectionTimeoutMillis?: number | undefined;
}

export type MigrateApiOptions = MigrationTarget & Omit<MigrateOptions, 'dir'>;

/** Applies the shipped migrations that the database lacks; returns what it applied, each with its duration. */
export async function migrate(options: MigrateApiOptions): Promise<MigrationResult[]> {
  return withTarget(options, (client) =>
    migrateUp(client, {
      log: options.log,
      lockTimeout: options.lockTimeout,
      lockRetries: options.lockRetries,
      lockRetryDelayMs: options.lockRetryDelayMs,
      lockWaitMs: options.lockWaitMs,
    }),
  );
}

/** Which shipped migrations the database has applied and which are pending. */
export async function migrationStatus(options: MigrationTarget & { lockWaitMs?: number | undefined }): Promise<MigrationStatus> {
  return withTarget(options, (client) => readMigrationStatus(client, { lockWaitMs: options.lockWaitMs }));
}

/**
 * One connection for a migration run, ready for queries within
 * `connectTimeoutMs`, or a DatabaseUnavailableError (a ConfigurationError for
 * credentials or a database name) that says what happened.
 * The caller ends it.
 */
export async function connectForMigrations(connectionString: string, connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS): Promise<pg.Client> {
  if (!Number.isFinite(connectTimeoutMs) || connectTimeoutMs <= 0) {
    throw new UsageError(`the connect timeout must be a positive number of milliseconds, got ${connectTimeoutMs}`);
  }
  const client = new pg.Client({
    connectionString,
    connectionTimeoutMillis: connectTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_AFTER_MS,
  });
  // A connection that breaks mid-run emits 'error'; unheard, Node would crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    const message = (error as Error)?.message ?? String(error);
    // pg destroys the socket with this message when its connection timer fires.
    if (/timeout expired|connection timeout/i.test(message)) {
      throw new DatabaseUnavailableError(
        `could not connect to the database within the connect timeout of ${connectTimeoutMs} ms: the server did not answer ` +
          '(it accepted the connection and never replied, or never accepted it); check the address, and that a PostgreSQL ' +
          'server (not a stuck proxy) listens there',
        { cause: error },
      );
    }
    // Wrong credentials (class 28) or no such database (3D000): no retry can fix them.
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && (code.startsWith('28') || code === '3D000')) {
      throw new ConfigurationError([`the server refused the login (${code}): ${message}; check the connection string and the server's pg_hba.conf`], {
        cause: error,
        message: `could not connect to the database: ${message}`,
      });
    }
    throw new DatabaseUnavailableError(`could not connect to the database: ${message}`, { cause: error });
  }
  return client;
}

async function withTarget<T>(target: MigrationTarget, fn: (client: pg.ClientBase) => Promise<T>): Promise<T> {
  if (!target || (target.client === undefined) === (target.connectionString === undefined)) {
    throw new UsageError('migrate needs exactly one of { connectionString } or { client }');
  }
  if (target.client) return fn(target.client);
  const client = await connectForMigrations(target.connectionString!, target.connectionTimeoutMillis ?? DEFAULT_CONNECT_TIMEOUT_MS);
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
