/**
 * Which migrations are applied (and whether their file is missing or changed
 * since) and which are pending: for `migrate status`, under our lock so that
 * it never reports an up half-way, and for store.health().
 */
import type pg from 'pg';
import { migrationsDir } from '../paths.js';
import { readApplied, type AppliedMigration } from './bookkeeping.js';
import { listMigrationFiles, type MigrationFile } from './files.js';
import { findLegacyInstall } from './legacy.js';
import { withMigrationLock } from './lock.js';

export interface MigrationStatus {
  applied: (AppliedMigration & { fileName: string | undefined; changed: boolean })[];
  pending: MigrationFile[];
  /** An install under the former names (schema app, public.migrations) that the next up adopts: how many of its migrations it had applied. */
  legacy?: { applied: number };
}

export async function readMigrationStatus(
  client: pg.ClientBase,
  options: { dir?: string | undefined; lockWaitMs?: number | undefined } = {},
): Promise<MigrationStatus> {
  const files = await listMigrationFiles(options.dir ?? migrationsDir);
  return withMigrationLock(
    client,
    async () => {
      const status = compare(files, await readApplied(client));
      const legacy = await findLegacyInstall(client);
      return legacy ? { ...status, legacy: { applied: legacy.length } } : status;
    },
    { waitMs: options.lockWaitMs },
  );
}

/**
 * File names of the shipped migrations not applied, for health checks. Without
 * our lock: health must answer at once while a migration runs, and a session
 * lock taken behind PgBouncer in transaction mode could be left held on a
 * server connection.
 */
export async function pendingMigrations(client: pg.ClientBase): Promise<string[]> {
  const { pending } = compare(await listMigrationFiles(), await readApplied(client));
  return pending.map((file) => file.fileName);
}

function compare(files: MigrationFile[], applied: AppliedMigration[]): MigrationStatus {
  return {
    applied: applied.map((row) => {
      const file = files.find((f) => f.id === row.id);
      return { ...row, fileName: file?.fileName, changed: file !== undefined && file.hash !== row.hash };
    }),
    pending: files.filter((file) => !applied.some((row) => row.id === file.id)),
  };
}
