/**
 * Invalid indexes in the library's schema. `create index concurrently` (which
 * must run in a file of its own, outside a transaction) builds in several
 * transactions: when it fails part way (a lock wait that gave up, a unique
 * index over duplicates, a cancelled statement) it leaves the index behind,
 * marked invalid (pg_index.indisvalid = false): never used by queries, still
 * updated by every write. Running the file again then fails ("already
 * exists"), or, written with `if not exists`, succeeds without building
 * anything. So a non-transactional file is refused while such an index
 * exists, the invalid indexes a failed attempt leaves are dropped (when their
 * table's lockers let us) before it is tried again, and a file that left one
 * is never recorded as applied.
 */
import type pg from 'pg';
import { APP_SCHEMA } from '../app-role.js';

/** The qualified, quoted names of the invalid indexes of the library's schema (`todo_chat."x"`), with their tables. */
export async function listInvalidIndexes(client: pg.ClientBase): Promise<{ index: string; table: string }[]> {
  const { rows } = await client.query<{ index: string; table: string }>(
    `select pg_catalog.format('%I.%I', n.nspname, c.relname) as index, pg_catalog.format('%I.%I', tn.nspname, t.relname) as table
     from pg_catalog.pg_index i
     join pg_catalog.pg_class c on c.oid = i.indexrelid
     join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     join pg_catalog.pg_class t on t.oid = i.indrelid
     join pg_catalog.pg_namespace tn on tn.oid = t.relnamespace
     where not i.indisvalid and n.nspname = $1
     order by 1`,
    [APP_SCHEMA],
  );
  return rows;
}

/** The statements that drop `indexes`, for messages. */
export function dropStatements(indexes: string[]): string {
  return indexes.map((index) => `\`drop index concurrently if exists ${index};\``).join(' ');
}

/**
 * Drops `indexes` one by one, outside a transaction, under the session's
 * lock_timeout; returns those it could not drop, and the first error.
 */
export async function dropIndexes(client: pg.ClientBase, indexes: string[]): Promise<{ left: string[]; error: unknown }> {
  const left: string[] = [];
  let first: unknown;
  for (const index of indexes) {
    try {
      // The names come from format('%I.%I') over the catalog: quoted as identifiers.
      await client.query(`drop index concurrently if exists ${index}`);
    } catch (error) {
      left.push(index);
      first ??= error;
    }
  }
  return { left, error: first };
}
