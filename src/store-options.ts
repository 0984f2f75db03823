/**
 * createStore's options, validated strictly (an unknown option is a
 * ValidationError naming it, so a timeout that is misspelt is never believed
 * set), with the defaults of docs/operations.md filled in.
 */
import type pg from 'pg';
import { z } from 'zod';
import { UsageError, ValidationError } from './errors.js';
import type { QueryEvent } from './query-runner.js';

export const DEFAULT_APP_ROLE = 'todo_chat_app';
export const ROLE_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

/** Whole milliseconds, at least `min`, at most about 24 days (what a Node timer holds). */
const millis = (min: number) => z.number().int().min(min).max(2_147_483_647);

const RetryOptions = z.strictObject({
  /** Tries of acquiring a connection and opening the transaction when the connection fails before the callback runs. */
  connection: z.number().int().min(1).max(100).optional(),
  /** Runs of the callback when its transaction fails with 40001 (serialization) or 40P01 (deadlock); 1: never rerun. */
  serialization: z.number().int().min(1).max(100).optional(),
  /** The first backoff delay; each retry doubles it up to maxDelayMs, and waits a random time up to it (full jitter). */
  baseDelayMs: millis(0).optional(),
  maxDelayMs: millis(0).optional(),
});

const StoreOptionsSchema = z.strictObject({
  connectionString: z.string().min(1).optional(),
  // Duck-typed: the caller's pg may be another copy than the library's.
  pool: z
    .custom<pg.Pool>((value) => typeof value === 'object' && value !== null && ['connect', 'end', 'on'].every((m) => typeof (value as Record<string, unknown>)[m] === 'function'), 'must be a pg.Pool')
    .optional(),
  maxConnections: z.number().int().min(1).max(10_000).optional(),
  appRole: z.string().regex(ROLE_PATTERN, 'must be a lower-case role name (a-z, 0-9, _; at most 63)').optional(),
  onQuery: z.custom<(event: QueryEvent) => void>((value) => typeof value === 'function', 'must be a function').optional(),
  connectTimeoutMs: millis(1).optional(),
  acquireTimeoutMs: millis(1).optional(),
  statementTimeoutMs: millis(1).optional(),
  lockTimeoutMs: millis(1).optional(),
  transactionTimeoutMs: millis(1).optional(),
  healthTimeoutMs: millis(1).optional(),
  closeGraceMs: millis(0).optional(),
  retry: z.union([z.literal(false), RetryOptions]).optional(),
  namedStatements: z.boolean().optional(),
});

export type RetryOptions = z.input<typeof RetryOptions>;

const WithUserOptionsSchema = z.strictObject({
  retry: z.union([z.literal(false), z.strictObject({ serialization: z.number().int().min(1).max(100).optional() })]).optional(),
});

/** withUser's third argument, validated as strictly as the store's options. */
export interface WithUserOptions {
  /** Runs of the callback on 40001/40P01 for this call (the store's retry.serialization by default); false: one run. */
  retry?: { serialization?: number } | false;
}

/** How many times a withUser call may run its callback. */
export function serializationRuns(options: unknown, storeRuns: number): number {
  if (options === undefined) return storeRuns;
  const parsed = WithUserOptionsSchema.safeParse(options);
  if (!parsed.success) throw ValidationError.fromZod('withUser options', parsed.error);
  const { retry } = parsed.data;
  if (retry === false) return 1;
  return retry?.serialization ?? storeRuns;
}

export interface StoreOptions {
  /** A pg connection string; the store creates (and closes) its own pool. */
  connectionString?: string;
  /** A pg Pool you own; close() leaves it open. Its own connect timeout applies to new connections. */
  pool?: pg.Pool;
  /** Size of the pool the store creates (default 10). */
  maxConnections?: number;
  /** The NOLOGIN role requests run as (default todo_chat_app, created by the migrations). */
  appRole?: string;
  /** Called once per query with its name, duration, row count and error code; never values. */
  onQuery?: (event: QueryEvent) => void;
  /** Opening a new connection of the pool the store creates (default 5,000). */
  connectTimeoutMs?: number;
  /** Waiting for a pooled connection, connecting included (default 10,000). */
  acquireTimeoutMs?: number;
  /** Each statement of a transaction (statement_timeout; default 30,000). */
  statementTimeoutMs?: number;
  /** Each wait for a lock (lock_timeout; default 5,000). */
  lockTimeoutMs?: number;
  /** A whole transaction, from BEGIN to the answer to COMMIT (default 60,000): then it is ended on the server and its connection discarded. */
  transactionTimeoutMs?: number;
  /** health() answers within this (default 5,000). */
  healthTimeoutMs?: number;
  /** close() lets transactions in flight finish for this long, then ends them (default 5,000). */
  closeGraceMs?: number;
  /** Retries (docs/operations.md); false: none before the callback, and no rerun of it. */
  retry?: RetryOptions | false;
  /**
   * Prepare each statement once per connection (default true). Turn it off
   * behind a pooler that cannot carry prepared statements from one
   * transaction to the next: PgBouncer before 1.21 in transaction mode.
   */
  namedStatements?: boolean;
}

/** What a store runs with: every option filled in. */
export interface ResolvedStoreOptions {
  connectionString: string | undefined;
  pool: pg.Pool | undefined;
  maxConnections: number;
  appRole: string;
  onQuery: ((event: QueryEvent) => void) | undefined;
  connectTimeoutMs: number;
  acquireTimeoutMs: number;
  statementTimeoutMs: number;
  lockTimeoutMs: number;
  transactionTimeoutMs: number;
  healthTimeoutMs: number;
  closeGraceMs: number;
  retry: Required<RetryOptions>;
  namedStatements: boolean;
}

export const DEFAULTS = {
  maxConnections: 10,
  connectTimeoutMs: 5_000,
  acquireTimeoutMs: 10_000,
  statementTimeoutMs: 30_000,
  lockTimeoutMs: 5_000,
  transactionTimeoutMs: 60_000,
  healthTimeoutMs: 5_000,
  closeGraceMs: 5_000,
  retry: { connection: 20, serialization: 3, baseDelayMs: 50, maxDelayMs: 1_000 },
} as const;

export function resolveStoreOptions(options: StoreOptions): ResolvedStoreOptions {
  if (typeof options !== 'object' || options === null) throw new UsageError('createStore needs an options object');
  const parsed = StoreOptionsSchema.safeParse(options);
  if (!parsed.success) throw ValidationError.fromZod('store options', parsed.error);
  const o = parsed.data;
  if ((o.pool === undefined) === (o.connectionString === undefined)) {
    throw new UsageError('createStore needs exactly one of { connectionString } or { pool }');
  }
  if (o.pool !== undefined && (o.maxConnections !== undefined || o.connectTimeoutMs !== undefined)) {
    throw new UsageError('maxConnections and connectTimeoutMs configure the pool the store creates: set them on your own pool instead');
  }
  const retry = o.retry === false ? { connection: 1, serialization: 1 } : (o.retry ?? {});
  return {
    connectionString: o.connectionString,
    pool: o.pool,
    maxConnections: o.maxConnections ?? DEFAULTS.maxConnections,
    appRole: o.appRole ?? DEFAULT_APP_ROLE,
    onQuery: o.onQuery,
    connectTimeoutMs: o.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
    acquireTimeoutMs: o.acquireTimeoutMs ?? DEFAULTS.acquireTimeoutMs,
    statementTimeoutMs: o.statementTimeoutMs ?? DEFAULTS.statementTimeoutMs,
    lockTimeoutMs: o.lockTimeoutMs ?? DEFAULTS.lockTimeoutMs,
    transactionTimeoutMs: o.transactionTimeoutMs ?? DEFAULTS.transactionTimeoutMs,
    healthTimeoutMs: o.healthTimeoutMs ?? DEFAULTS.healthTimeoutMs,
    closeGraceMs: o.closeGraceMs ?? DEFAULTS.closeGraceMs,
    retry: { ...DEFAULTS.retry, ...retry },
    namedStatements: o.namedStatements ?? true,
  };
}
