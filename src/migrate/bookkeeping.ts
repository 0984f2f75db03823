/**
 * postgres-migrations' bookkeeping table, which its README ("The `migrations`
 * table") documents as where it keeps every applied migration and its hash.
 * We read it for status and for the checks before up and down, and delete one
 * row when down reverts that migration, so that up applies the file again.
 * This is the only module that names the table.
 */
import type pg from 'pg';

/** Where postgres-migrations keeps its rows: `migrations` on the search_path, public by default. */
const MIGRATIONS_TABLE = 'public.migrations';

export interface AppliedMigration {
  id: number;
  name: string;
  hash: string;
  executedAt: Date;
}

/** The applied migrations in id order; none when the table does not exist yet. */
export async function readApplied(client: pg.ClientBase): Promise<AppliedMigration[]> {
  const exists = await client.query<{ exists: boolean }>('select to_regclass($1) is not null as exists', [MIGRATIONS_TABLE]);
  if (!exists.rows[0]?.exists) return [];
  // Row 0 is the library's own creation of the table, not one of our files.
  const result = await client.query<{ id: number; name: string; hash: string; executed_at: Date }>(
    `select id, name, hash, executed_at from ${MIGRATIONS_TABLE} where id > 0 order by id`,
  );
  return result.rows.map((row) => ({ id: row.id, name: row.name, hash: row.hash, executedAt: row.executed_at }));
}

/** Marks one migration as not applied, in the caller's transaction. */
export async function forgetApplied(client: pg.ClientBase, id: number): Promise<void> {
  await client.query(`delete from ${MIGRATIONS_TABLE} where id = $1`, [id]);
}
