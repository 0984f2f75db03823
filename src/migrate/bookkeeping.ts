/**
 * postgres-migrations' bookkeeping table, which its README ("The `migrations`
 * table") documents as where it keeps every applied migration and its hash.
 * It is called `migrations` and found through the search_path; we keep it in
 * a schema of our own, `todo_chat_migrations`, so that it can never be
 * mistaken for an application's own `migrations` table (TypeORM's default,
 * among others). We read it for status and for the checks before up and down,
 * and delete one row when down reverts that migration, so that up applies the
 * file again. This is the only module that names the table.
 */
import type pg from 'pg';
import { MigrationError } from '../errors.js';

export const BOOKKEEPING_SCHEMA = 'todo_chat_migrations';

export interface AppliedMigration {
  id: number;
  name: string;
  hash: string;
  executedAt: Date;
}

/** The columns postgres-migrations creates and reads; a table of that name without them is not its. */
const COLUMNS = ['executed_at', 'hash', 'id', 'name'];

function table(schema: string): string {
  return `${schema}.migrations`;
}

/**
 * Creates our schema and, in it, the table exactly as postgres-migrations
 * creates its own (migrations/0_create-migrations-table.sql of the library,
 * pinned by test/schema/postgres-migrations-contract.test.ts). Created here
 * rather than left to the library because the library decides whether the
 * table exists by its name in any schema: a foreign `migrations` table
 * elsewhere would make it skip the creation and then fail to find ours.
 */
export async function prepareBookkeeping(client: pg.ClientBase): Promise<void> {
  await client.query(`
    create schema if not exists ${BOOKKEEPING_SCHEMA};
    comment on schema ${BOOKKEEPING_SCHEMA} is 'todo-chat-db: the bookkeeping table of its migrations (postgres-migrations).';
    create table if not exists ${table(BOOKKEEPING_SCHEMA)} (
      id integer primary key,
      name varchar(100) unique not null,
      hash varchar(40) not null,
      executed_at timestamp default current_timestamp
    )`);
  await assertShape(client, BOOKKEEPING_SCHEMA);
}

/** Whether `<schema>.migrations` exists. */
export async function bookkeepingExists(client: pg.ClientBase, schema = BOOKKEEPING_SCHEMA): Promise<boolean> {
  const found = await client.query<{ exists: boolean }>('select pg_catalog.to_regclass($1) is not null as exists', [table(schema)]);
  return found.rows[0]?.exists === true;
}

async function columnsOf(client: pg.ClientBase, schema: string): Promise<string[]> {
  const { rows } = await client.query<{ column_name: string }>(
    `select attname as column_name from pg_catalog.pg_attribute
     where attrelid = pg_catalog.to_regclass($1) and attnum > 0 and not attisdropped order by attname`,
    [table(schema)],
  );
  return rows.map((row) => row.column_name);
}

/** Whether `<schema>.migrations` exists with the columns of a postgres-migrations table (another tool's does not). */
export async function looksLikeBookkeeping(client: pg.ClientBase, schema: string): Promise<boolean> {
  const columns = await columnsOf(client, schema);
  return COLUMNS.every((column) => columns.includes(column));
}

async function assertShape(client: pg.ClientBase, schema: string): Promise<void> {
  const columns = await columnsOf(client, schema);
  if (COLUMNS.some((column) => !columns.includes(column))) {
    throw new MigrationError(
      `the table ${table(schema)} is not a postgres-migrations bookkeeping table (its columns are ${columns.join(', ')}, ` +
        `expected ${COLUMNS.join(', ')}); todo-chat-db keeps its own there: rename or move that table, then migrate again`,
    );
  }
}

/** The applied migrations in id order; none when the table does not exist yet. */
export async function readApplied(client: pg.ClientBase, schema = BOOKKEEPING_SCHEMA): Promise<AppliedMigration[]> {
  if (!(await bookkeepingExists(client, schema))) return [];
  await assertShape(client, schema);
  // Row 0 is the library's own creation of the table, not one of our files.
  const result = await client.query<{ id: number; name: string; hash: string; executed_at: Date }>(
    `select id, name, hash, executed_at from ${table(schema)} where id > 0 order by id`,
  );
  return result.rows.map((row) => ({ id: row.id, name: row.name, hash: row.hash, executedAt: row.executed_at }));
}

/** Marks one migration as not applied, in the caller's transaction. */
export async function forgetApplied(client: pg.ClientBase, id: number): Promise<void> {
  await client.query(`delete from ${table(BOOKKEEPING_SCHEMA)} where id = $1`, [id]);
}

/**
 * Records migrations as applied without running them: only for adopting a
 * legacy install (src/migrate/legacy.ts), whose schema already is what these
 * files create. Rows carry the ids, names and hashes postgres-migrations
 * computes for the files (its own row 0 included) and the time the same id
 * first ran in the legacy bookkeeping table.
 */
export async function recordAdopted(client: pg.ClientBase, rows: { id: number; name: string; hash: string }[], legacySchema: string): Promise<void> {
  await client.query(
    `insert into ${table(BOOKKEEPING_SCHEMA)} (id, name, hash, executed_at)
     select n.id, n.name, n.hash, coalesce(l.executed_at, current_timestamp)
     from unnest($1::integer[], $2::text[], $3::text[]) as n(id, name, hash)
     left join ${table(legacySchema)} l on l.id = n.id
     order by n.id`,
    [rows.map((row) => row.id), rows.map((row) => row.name), rows.map((row) => row.hash)],
  );
}

/** Drops a legacy bookkeeping table once its rows have moved. */
export async function dropBookkeeping(client: pg.ClientBase, schema: string): Promise<void> {
  await client.query(`drop table ${table(schema)}`);
}
