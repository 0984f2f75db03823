/**
 * migrate() and migrationStatus() for code that deploys from a script: the
 * same runner as the `todo-chat-db migrate` command, on a client you pass or
 * on one connection opened (and closed) from a connection string. Migrations
 * need one session for their whole run (session advisory lock, session
 * settings): give a direct connection, not a transaction-mode pooler.
 */
import pg from 'pg';
import { UsageError } from '../errors.js';
import { migrateUp, type MigrateOptions, type MigrationResult } from './up.js';
import { readMigrationStatus, type MigrationStatus } from './status.js';

export interface MigrationTarget {
  /** A PostgreSQL connection string: one connection is opened for the run and closed after it. */
  connectionString?: string | undefined;
  /** A connected client (a pg.Client, or a client checked out of a pool) that stays open. */
  client?: pg.ClientBase | undefined;
  /** Milliseconds to wait for the connection when connecting from a connection string (default 10 s). */
  connectionTimeoutMillis?: number | undefined;
}

export type MigrateApiOptions = MigrationTarget & Omit<MigrateOptions, 'dir'>;

/** Applies the shipped migrations that the database lacks; returns what it applied, each with its duration. */
export async function migrate(options: MigrateApiOptions): Promise<MigrationResult[]> {
  return withTarget(options, (client) =>
    migrateUp(client, { log: options.log, lockTimeout: options.lockTimeout, lockWaitMs: options.lockWaitMs }),
  );
}

/** Which shipped migrations the database has applied and which are pending. */
export async function migrationStatus(options: MigrationTarget & { lockWaitMs?: number | undefined }): Promise<MigrationStatus> {
  return withTarget(options, (client) => readMigrationStatus(client, { lockWaitMs: options.lockWaitMs }));
}

async function withTarget<T>(target: MigrationTarget, fn: (client: pg.ClientBase) => Promise<T>): Promise<T> {
  if (!target || (target.client === undefined) === (target.connectionString === undefined)) {
    throw new UsageError('migrate needs exactly one of { connectionString } or { client }');
  }
  if (target.client) return fn(target.client);
  const client = new pg.Client({
    connectionString: target.connectionString,
    connectionTimeoutMillis: target.connectionTimeoutMillis ?? 10_000,
  });
  // A connection that breaks mid-run emits 'error'; unheard, Node would crash the process.
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
