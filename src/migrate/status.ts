/**
 * Which migrations are applied (and whether their file is missing or changed
 * since) and which are pending: for `npm run migrate -- status`, under our
 * lock so that it never reports an up half-way, and for store.health().
 */
import type pg from 'pg';
import { migrationsDir } from '../paths.js';
import { readApplied, type AppliedMigration } from './bookkeeping.js';
import { listMigrationFiles, type MigrationFile } from './files.js';
import { withMigrationLock } from './lock.js';

export interface MigrationStatus {
  applied: (AppliedMigration & { fileName: string | undefined; changed: boolean })[];
  pending: MigrationFile[];
}

export async function migrationStatus(
  client: pg.ClientBase,
  options: { dir?: string | undefined; lockWaitMs?: number | undefined } = {},
): Promise<MigrationStatus> {
  const files = await listMigrationFiles(options.dir ?? migrationsDir);
  const applied = await withMigrationLock(client, () => readApplied(client), { waitMs: options.lockWaitMs });
  return compare(files, applied);
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
