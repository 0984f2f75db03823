/**
 * Retrying a migration file that gave up waiting for a lock. Every statement
 * of a migration runs under a short lock_timeout (src/migrate/session-settings.ts):
 * a statement queued behind a long transaction holds its place in the lock
 * queue, and every query on that table queues behind it in turn, so it must
 * not wait long. When it gives up (SQLSTATE 55P03, lock_not_available) its
 * file has been rolled back (postgres-migrations runs each file in its own
 * transaction; down runs its files in ours), traffic flows again, and the
 * file is tried again after a growing, jittered pause. After the last attempt
 * the run fails with a MigrationError that names the file, says it waited for
 * a lock each time, names the sessions that hold locks or old transactions
 * (pid, user, application, state, how long its transaction has been open;
 * never query text, which may carry values) and says what to do.
 */
import type pg from 'pg';
import { MigrationError, TodoChatDbError } from '../errors.js';
import type { MigrationLog } from './apply.js';
import { sleep } from '../backoff.js';

export const DEFAULT_LOCK_RETRIES = 10;
export const DEFAULT_LOCK_RETRY_DELAY_MS = 500;
/** The pause between attempts doubles from the first delay up to this (or to the first delay, if larger). */
const MAX_RETRY_DELAY_MS = 5_000;
/** How many sessions the final error names at most. */
const MAX_HOLDERS = 5;

export interface LockRetryPolicy {
  /** The session's lock_timeout (PostgreSQL interval text), for messages and for finding the holders. */
  lockTimeout: string;
  /** Attempts after the first one. */
  retries: number;
  /** The pause before the first retry, in ms; each later one doubles it, with jitter. */
  firstDelayMs: number;
  log: MigrationLog;
}

export interface LockRetryTarget {
  /** How messages name what is tried: `migration 0012_x.sql`, `down migration down/0012_x.sql`. */
  label: string;
  /** The file, as MigrationError.file. */
  file: string;
  /** What is left behind after the last attempt, for the message (invalid indexes a failed attempt could not drop). */
  leftBehind?: () => string | undefined;
}

/** Validates the numbers of a policy: a mistake here is the caller's, reported before anything runs. */
export function checkRetryOptions(retries: number, firstDelayMs: number): void {
  if (!Number.isInteger(retries) || retries < 0) {
    throw new MigrationError(`lockRetries must be a whole number of retries, 0 or more, got ${retries}`);
  }
  if (!Number.isFinite(firstDelayMs) || firstDelayMs < 0) {
    throw new MigrationError(`lockRetryDelayMs must be 0 or more milliseconds, got ${firstDelayMs}`);
  }
}

/** True when `error` (a driver error, or ours wrapping one) is 55P03: a lock wait gave up. */
export function isLockNotAvailable(error: unknown): boolean {
  if (error instanceof TodoChatDbError) return error.sqlState === '55P03';
  return (error as { code?: unknown } | null)?.code === '55P03';
}

/** The pause before retry `retry` (1-based): the first delay doubled each time, capped, each 50..100 % of it at random. */
export function retryDelayMs(policy: Pick<LockRetryPolicy, 'firstDelayMs'>, retry: number): number {
  const cap = Math.max(MAX_RETRY_DELAY_MS, policy.firstDelayMs);
  const full = Math.min(cap, policy.firstDelayMs * 2 ** (retry - 1));
  return full * (0.5 + Math.random() / 2);
}

/**
 * Runs `attempt` until it succeeds, fails with anything but 55P03, or has
 * given up waiting for a lock `policy.retries + 1` times. `attempt` must
 * leave nothing behind when it throws 55P03 (a rolled-back transaction).
 */
export async function retryOnLockTimeout<T>(
  client: pg.ClientBase,
  policy: LockRetryPolicy,
  target: LockRetryTarget,
  attempt: () => Promise<T>,
): Promise<T> {
  const attempts = policy.retries + 1;
  const started = performance.now();
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (!isLockNotAvailable(error)) throw error;
      if (n >= attempts) throw await gaveUp(client, policy, target, attempts, performance.now() - started, error);
      const pause = retryDelayMs(policy, n);
      policy.log(
        `${target.label} waited ${policy.lockTimeout} for a lock and gave up (attempt ${n} of ${attempts}); ` +
          `rolled back, trying again in ${Math.round(pause)} ms`,
      );
      await sleep(pause);
    }
  }
}

async function gaveUp(
  client: pg.ClientBase,
  policy: LockRetryPolicy,
  target: LockRetryTarget,
  attempts: number,
  elapsedMs: number,
  last: unknown,
): Promise<MigrationError> {
  const holders = await describeLockHolders(client).catch(
    (error: unknown) => `the sessions holding locks could not be read (${(error as Error)?.message ?? String(error)})`,
  );
  const left = target.leftBehind?.();
  return new MigrationError(
    `${target.label} gave up waiting for a lock on each of its ${attempts} attempt(s) ` +
      `(lock_timeout ${policy.lockTimeout} each, over ${(elapsedMs / 1000).toFixed(1)} s); ` +
      `each attempt was rolled back and nothing of it is applied${left ? `, but ${left}` : ''}. ` +
      `${holders}. What to do: end that transaction or wait for it to finish, then migrate again; ` +
      'or migrate when the database is quieter, or with more retries (--lock-retries, TCDB_MIGRATION_LOCK_RETRIES). ' +
      'A longer lock timeout (--lock-timeout, TCDB_MIGRATION_LOCK_TIMEOUT) makes every query on the table wait that long behind the migration.',
    { cause: last, file: target.file },
  );
}

interface Holder {
  pid: number;
  usename: string | null;
  application_name: string | null;
  state: string | null;
  xact_seconds: number | null;
  tables: string[] | null;
}

/**
 * The other sessions of this database that may hold what the migration
 * waited for: those whose transaction has been open longer than the lock
 * timeout, and those whose activity this role may not see (another role's
 * session, without pg_read_all_stats) that hold locks on tables. Oldest first.
 * The lock timeout is the session's, as the server reads it (a bare number is
 * milliseconds there, seconds as an interval): the caller runs under it.
 */
export async function describeLockHolders(client: pg.ClientBase): Promise<string> {
  const { rows } = await client.query<Holder>(
    `with here as (
       select oid from pg_catalog.pg_database where datname = pg_catalog.current_database()
     ), held as (
       select l.pid, pg_catalog.array_agg(distinct pg_catalog.format('%I.%I', n.nspname, c.relname)) as tables
       from pg_catalog.pg_locks l
       join here on l.database = here.oid
       join pg_catalog.pg_class c on c.oid = l.relation and c.relkind in ('r', 'p', 'm')
       join pg_catalog.pg_namespace n on n.oid = c.relnamespace
       where l.granted and l.locktype = 'relation' and n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
       group by l.pid
     )
     select a.pid, a.usename::text, a.application_name, a.state,
       extract(epoch from pg_catalog.clock_timestamp() - a.xact_start)::float8 as xact_seconds, held.tables
     from pg_catalog.pg_stat_activity a
     join here on a.datid = here.oid
     left join held on held.pid = a.pid
     where a.pid <> pg_catalog.pg_backend_pid()
       and a.backend_type = 'client backend'
       and (a.xact_start < pg_catalog.clock_timestamp() - pg_catalog.current_setting('lock_timeout')::interval
            or (a.state is null and held.tables is not null))
     order by a.xact_start nulls last, a.pid
     limit ${MAX_HOLDERS + 1}`,
  );
  if (rows.length === 0) {
    return 'No session of this database is in a transaction older than the lock timeout now (the one in the way may have ended)';
  }
  const shown = rows.slice(0, MAX_HOLDERS).map(describeHolder);
  const more = rows.length > MAX_HOLDERS ? `, and more` : '';
  return `In the way (sessions of this database in a transaction older than the lock timeout, oldest first): ${shown.join('; ')}${more}`;
}

function describeHolder(row: Holder): string {
  const parts = [`user ${row.usename ?? '?'}`];
  if (row.application_name) parts.push(`application ${JSON.stringify(row.application_name)}`);
  if (row.state === null) {
    parts.push('its state is hidden from this role (pg_read_all_stats shows it)');
  } else {
    parts.push(row.state);
    if (row.xact_seconds !== null) parts.push(`transaction open for ${row.xact_seconds.toFixed(1)} s`);
  }
  if (row.tables && row.tables.length > 0) parts.push(`holding locks on ${row.tables.sort().join(', ')}`);
  return `pid ${row.pid} (${parts.join(', ')})`;
}

/** The policy of a run from its options, defaults filled in and checked. */
export function lockRetryPolicy(options: {
  lockTimeout: string;
  lockRetries?: number | undefined;
  lockRetryDelayMs?: number | undefined;
  log: MigrationLog;
}): LockRetryPolicy {
  const retries = options.lockRetries ?? DEFAULT_LOCK_RETRIES;
  const firstDelayMs = options.lockRetryDelayMs ?? DEFAULT_LOCK_RETRY_DELAY_MS;
  checkRetryOptions(retries, firstDelayMs);
  return { lockTimeout: options.lockTimeout, retries, firstDelayMs, log: options.log };
}
