/**
 * Getting a connection with its transaction open, before any of the
 * caller's code runs: acquire a pooled client within acquireTimeoutMs,
 * verify the app role (once per store), BEGIN as the user. A connection that
 * fails here (the server restarting, a pooled connection the server ended)
 * is discarded and the whole step retried with backoff: nothing of the
 * caller's has run, so a retry is always safe. A pooled connection found dead
 * is replaced at once, without waiting. acquireTimeoutMs bounds the whole
 * step, retries included.
 */
import type pg from 'pg';
import { ConfigurationError, TimeoutError, TodoChatDbError, UsageError, brokeConnection, mapDatabaseError } from './errors.js';
import { backoffDelay, sleep, type Backoff } from './backoff.js';

export interface OpenOptions {
  pool: pg.Pool;
  /** The most the whole step may take, retries included. */
  acquireTimeoutMs: number;
  /** Tries in all when the connection fails (1: no retry). */
  attempts: number;
  backoff: Backoff;
  /** Checked before each try: a store that closed meanwhile stops the retries. */
  isClosed: () => boolean;
  /** Run on the client before BEGIN (the app role check). */
  verify: (client: pg.ClientBase) => Promise<void>;
  /** The opening statement of the transaction (src/transaction.ts). */
  prologue: string;
}

/** Clients this process has used before: one found dead was a pooled connection the server ended, not a new one. */
const used = new WeakSet<pg.PoolClient>();

/** A client with the transaction open, or the error of the last try. */
export async function openTransaction(options: OpenOptions): Promise<pg.PoolClient> {
  const deadline = performance.now() + options.acquireTimeoutMs;
  /** Waits before the next try, if there is time for one; false when there is not. */
  let outOfTime = false;
  const pause = async (retry: number): Promise<boolean> => {
    const delay = backoffDelay(options.backoff, retry);
    if (performance.now() + delay >= deadline) {
      outOfTime = true;
      return false;
    }
    await sleep(delay);
    return true;
  };
  /** What the caller gets when the retries stop: out of time is a TimeoutError, whatever the last try's error. */
  const giveUp = (error: unknown): unknown =>
    outOfTime && retryable(error)
      ? new TimeoutError('acquire', `no database connection within ${options.acquireTimeoutMs} ms (acquireTimeoutMs), retries included; the last try: ${(error as Error).message}`, {
          cause: error,
        })
      : error;
  // Dead pooled connections are replaced without counting as a try (bounded: a pool holds so many).
  let deadPooled = 0;
  for (let attempt = 1; ; ) {
    if (options.isClosed()) throw new UsageError('store is closed');
    let client: pg.PoolClient;
    try {
      client = await acquire(options.pool, Math.max(1, deadline - performance.now()), options.acquireTimeoutMs);
    } catch (error) {
      if (attempt < options.attempts && retryable(error) && (await pause(attempt))) {
        attempt++;
        continue;
      }
      throw giveUp(error);
    }
    const reused = used.has(client);
    if (!reused) {
      // A checked-out client the server ends emits 'error' between statements (57P01 after a restart,
      // say); unheard, Node would crash the process. Whoever uses it next finds it broken.
      client.on('error', () => undefined);
      used.add(client);
    }
    let began = false;
    let timer: NodeJS.Timeout | undefined;
    try {
      // The server may take the connection and then never answer: the role check and BEGIN share the bound.
      const stalled = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new TimeoutError('acquire', `the server did not open the transaction within ${options.acquireTimeoutMs} ms (acquireTimeoutMs)`)),
          Math.max(1, deadline - performance.now()),
        );
      });
      stalled.catch(() => undefined);
      await Promise.race([options.verify(client), stalled]);
      began = true;
      await Promise.race([begin(client, options.prologue), stalled]);
      return client;
    } catch (error) {
      if (error instanceof TimeoutError) {
        // Whatever it was waiting for, the connection is given up.
        client.release(true);
        throw error;
      }
      const broken = brokeConnection(error);
      if (broken) client.release(true);
      else if (began) await rollbackAndRelease(client);
      else client.release();
      if (broken && reused && deadPooled++ < 100 && performance.now() < deadline) continue;
      if (attempt < options.attempts && broken && (await pause(attempt))) {
        attempt++;
        continue;
      }
      throw broken ? giveUp(mapDatabaseError(error, { query: 'begin' })) : error;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A retry can help: the connection failed (not a timeout: that already waited its bound; not a refused login). */
function retryable(error: unknown): boolean {
  return error instanceof TodoChatDbError && error.retryable && !(error instanceof TimeoutError) && !(error instanceof ConfigurationError);
}

/**
 * A pooled client within `timeoutMs` (what is left of `boundMs`).
 * pool.connect() cannot be cancelled: a client it yields after the timeout is
 * released at once.
 */
async function acquire(pool: pg.Pool, timeoutMs: number, boundMs: number): Promise<pg.PoolClient> {
  const connecting = pool.connect();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new TimeoutError('acquire', `no database connection within ${boundMs} ms (acquireTimeoutMs): the pool is busy or the server does not answer`));
      connecting.then(
        (late) => late.release(),
        () => undefined,
      );
    }, timeoutMs);
  });
  try {
    return await Promise.race([connecting, timeout]);
  } catch (error) {
    if (error instanceof TimeoutError) throw error;
    throw mapDatabaseError(error, { query: 'connect' });
  } finally {
    clearTimeout(timer);
  }
}

async function begin(client: pg.PoolClient, prologue: string): Promise<void> {
  try {
    await client.query(prologue);
  } catch (error) {
    throw mapDatabaseError(error, { query: 'begin' });
  }
}

async function rollbackAndRelease(client: pg.PoolClient): Promise<void> {
  try {
    await client.query('rollback');
    client.release();
  } catch {
    client.release(true);
  }
}
