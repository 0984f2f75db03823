/**
 * store.health(): whether the database answers, how fast, which server,
 * which shipped migrations it still lacks, and what is wrong with the app
 * role. Runs as the pool's login role, outside any user context, and reads
 * no user data. Never throws, and answers within its timeout: a connection
 * it got too late, or that stopped answering, is discarded.
 */
import type pg from 'pg';
import { pendingMigrations } from './migrate/index.js';

export interface Health {
  ok: boolean;
  /** Round trip of `select 1`, in milliseconds. */
  latencyMs: number | null;
  serverVersion: string | null;
  /** File names of shipped migrations not applied to this database. */
  pendingMigrations: string[] | null;
  /** What is wrong with the app role or the schema's row-level security (each with its fix); empty when nothing is. */
  appRoleProblems: string[] | null;
  error?: string;
}

function unhealthy(error: string): Health {
  return { ok: false, latencyMs: null, serverVersion: null, pendingMigrations: null, appRoleProblems: null, error };
}

export async function readHealth(
  pool: pg.Pool,
  appRoleProblems: (client: pg.ClientBase) => Promise<string[]>,
  timeoutMs: number,
): Promise<Health> {
  let client: pg.PoolClient | undefined;
  let timedOut = false;
  const check = async (): Promise<Health> => {
    const acquired = await pool.connect();
    if (timedOut) {
      acquired.release();
      return unhealthy('timed out');
    }
    client = acquired;
    const started = performance.now();
    await acquired.query('select 1');
    const latencyMs = performance.now() - started;
    const version = await acquired.query<{ server_version: string }>('show server_version');
    const pending = await pendingMigrations(acquired);
    const problems = await appRoleProblems(acquired);
    return {
      ok: pending.length === 0 && problems.length === 0,
      latencyMs,
      serverVersion: version.rows[0]?.server_version ?? null,
      pendingMigrations: pending,
      appRoleProblems: problems,
    };
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  let failed = false;
  const checked = check().catch((error: unknown) => {
    failed = true;
    return unhealthy((error as Error)?.message ?? String(error));
  });
  const outcome = await Promise.race([checked, timeout]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    timedOut = true;
    // A client still waiting for the server is discarded, so that its pool slot comes back.
    (client as pg.PoolClient | undefined)?.release(true);
    return unhealthy(`no answer within ${timeoutMs} ms (healthTimeoutMs)`);
  }
  // A client whose query failed may be broken: discard it rather than pool it.
  (client as pg.PoolClient | undefined)?.release(failed ? true : undefined);
  return outcome;
}
