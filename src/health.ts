/**
 * store.health(): whether the database answers, how fast, which server, and
 * which shipped migrations it still lacks. Runs as the pool's login role,
 * outside any user context, and reads no user data.
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

export async function readHealth(pool: pg.Pool, appRoleProblems: (client: pg.ClientBase) => Promise<string[]>): Promise<Health> {
  let client: pg.PoolClient | undefined;
  try {
    client = await pool.connect();
    const started = performance.now();
    await client.query('select 1');
    const latencyMs = performance.now() - started;
    const version = await client.query<{ server_version: string }>('show server_version');
    const pending = await pendingMigrations(client);
    const problems = await appRoleProblems(client);
    return {
      ok: pending.length === 0 && problems.length === 0,
      latencyMs,
      serverVersion: version.rows[0]?.server_version ?? null,
      pendingMigrations: pending,
      appRoleProblems: problems,
    };
  } catch (error) {
    return {
      ok: false,
      latencyMs: null,
      serverVersion: null,
      pendingMigrations: null,
      appRoleProblems: null,
      error: (error as Error)?.message ?? String(error),
    };
  } finally {
    client?.release();
  }
}
