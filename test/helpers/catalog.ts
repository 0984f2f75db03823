/**
 * A textual snapshot of everything the migrations define in the todo_chat schema
 * (and the grants on the bookkeeping schema),
 * read from the catalog: tables, columns, constraints, indexes, policies,
 * triggers, functions, grants, comments and row-level security flags. Two
 * equal snapshots mean the same schema, not just the same table names.
 */
import type pg from 'pg';

const QUERIES: Record<string, string> = {
  schemas: `
    select n.nspname, pg_get_userbyid(n.nspowner) is not null as owned, n.nspacl::text, obj_description(n.oid, 'pg_namespace')
    from pg_namespace n where n.nspname = 'todo_chat'`,
  relations: `
    select c.relname, c.relkind, c.relrowsecurity, c.relforcerowsecurity, c.relacl::text, obj_description(c.oid, 'pg_class')
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'todo_chat' order by c.relname`,
  // The column's place among the table's columns rather than its attnum, which
  // counts dropped columns too: dropping a column and adding it again (a down
  // then an up) gives the same table.
  columns: `
    select c.relname, row_number() over (partition by c.oid order by a.attnum), a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
      pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated, a.attcollation, a.attacl::text,
      col_description(c.oid, a.attnum)
    from pg_attribute a
    join pg_class c on c.oid = a.attrelid
    join pg_namespace n on n.oid = c.relnamespace
    left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
    where n.nspname = 'todo_chat' and a.attnum > 0 and not a.attisdropped
    order by c.relname, a.attnum`,
  constraints: `
    select c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid, true), k.condeferrable, k.convalidated
    from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'todo_chat' order by c.relname, k.conname`,
  indexes: `
    select tablename, indexname, indexdef from pg_indexes where schemaname = 'todo_chat' order by tablename, indexname`,
  policies: `
    select tablename, policyname, permissive, roles::text, cmd, qual, with_check
    from pg_policies where schemaname = 'todo_chat' order by tablename, policyname`,
  triggers: `
    select c.relname, t.tgname, pg_get_triggerdef(t.oid, true), t.tgenabled
    from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'todo_chat' and not t.tgisinternal order by c.relname, t.tgname`,
  functions: `
    select p.proname, pg_get_function_identity_arguments(p.oid), pg_get_functiondef(p.oid), p.proacl::text,
      obj_description(p.oid, 'pg_proc')
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'todo_chat' order by p.proname, 2`,
  sequences: `
    select sequencename, data_type::text, start_value, increment_by, max_value, cycle
    from pg_sequences where schemaname = 'todo_chat' order by sequencename`,
  // What 0008 grants on the bookkeeping schema, which outlives a down of every migration.
  bookkeepingGrants: `
    select 'usage on schema todo_chat_migrations' where pg_catalog.to_regnamespace('todo_chat_migrations') is not null
      and pg_catalog.to_regrole('todo_chat_app') is not null and has_schema_privilege('todo_chat_app', 'todo_chat_migrations', 'usage')
    union all
    select 'select on todo_chat_migrations.migrations' where pg_catalog.to_regclass('todo_chat_migrations.migrations') is not null
      and pg_catalog.to_regrole('todo_chat_app') is not null and has_table_privilege('todo_chat_app', 'todo_chat_migrations.migrations', 'select')`,
  role: `
    select rolname, rolcanlogin, rolsuper, rolbypassrls, rolinherit, rolcreaterole, rolcreatedb
    from pg_roles where rolname = 'todo_chat_app'`,
};

export type CatalogSnapshot = Record<string, string[]>;

export async function snapshotCatalog(client: pg.ClientBase | pg.Pool): Promise<CatalogSnapshot> {
  const snapshot: CatalogSnapshot = {};
  for (const [name, sql] of Object.entries(QUERIES)) {
    const result = await client.query({ text: sql, rowMode: 'array' });
    snapshot[name] = result.rows.map((row: unknown[]) => JSON.stringify(row));
  }
  return snapshot;
}
