/**
 * Migrating a database that is not empty: an application's own objects under
 * the names applications use (`app`, `public.migrations` of TypeORM or of
 * another postgres-migrations user, a `users` table) are left exactly as they
 * were; and an install of todo-chat-db made under its former names (schema
 * `app`, bookkeeping in `public.migrations`) is adopted in place, its rows
 * kept, ending with the same catalog as a fresh install.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import type pg from 'pg';
import { migrate as postgresMigrations } from 'postgres-migrations';
import { createEmptyDatabase, type TestDatabase } from '../helpers/db.js';
import { snapshotCatalog } from '../helpers/catalog.js';
import { listMigrationFiles, migrateUp, readMigrationStatus } from '../../src/migrate/index.js';
import { LEGACY_DIR } from '../../src/migrate/legacy.js';
import { MigrationError } from '../../src/index.js';

const shipped = await listMigrationFiles();

/** An application's own objects, under the names many applications use. */
async function createForeignApplication(admin: pg.Pool): Promise<void> {
  await admin.query(`
    create schema app;
    create table app.orders (id serial primary key, customer text not null, total numeric(10, 2) not null);
    insert into app.orders (customer, total) values ('ada', 12.50), ('grace', 7.25);
    create function app.order_count() returns bigint language sql as 'select count(*) from app.orders';
    create table public.users (id serial primary key, email text unique not null);
    insert into public.users (email) values ('ada@example.com');
    -- TypeORM's default bookkeeping table
    create table public.migrations (id serial primary key, "timestamp" bigint not null, name varchar not null);
    insert into public.migrations ("timestamp", name) values (1700000000000, 'CreateOrders1700000000000');
  `);
}

/** Everything of the application's objects: their definitions and their rows. */
async function snapshotForeign(admin: pg.Pool): Promise<Record<string, unknown[]>> {
  const definitions = await admin.query(
    `select table_schema, table_name, column_name, data_type, column_default, is_nullable
     from information_schema.columns where table_schema in ('app', 'public') order by 1, 2, ordinal_position`,
  );
  const functions = await admin.query(
    `select n.nspname, p.proname, pg_get_functiondef(p.oid) from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname in ('app', 'public') order by 1, 2`,
  );
  return {
    definitions: definitions.rows,
    functions: functions.rows,
    orders: (await admin.query('select * from app.orders order by id')).rows,
    users: (await admin.query('select * from public.users order by id')).rows,
    migrations: (await admin.query('select * from public.migrations order by id')).rows,
  };
}

async function withClient<T>(db: TestDatabase, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await db.admin.connect();
  try {
    return await fn(client);
  } finally {
    client.release();
  }
}

/** What a fresh install of every shipped migration looks like in the catalog. */
async function freshCatalog() {
  const fresh = await createEmptyDatabase();
  return withClient(fresh, async (client) => {
    await migrateUp(client);
    return snapshotCatalog(client);
  });
}

describe('next to an existing application', () => {
  test('installs beside a foreign `app` schema, a TypeORM `public.migrations` and a `users` table, and leaves them untouched', async () => {
    const db = await createEmptyDatabase();
    await createForeignApplication(db.admin);
    const before = await snapshotForeign(db.admin);
    const applied = await withClient(db, (client) => migrateUp(client));
    assert.deepEqual(applied.map((result) => result.fileName), shipped.map((file) => file.fileName));
    assert.deepEqual(await snapshotForeign(db.admin), before, 'the application is exactly as it was');
    assert.deepEqual(await withClient(db, (client) => migrateUp(client)), [], 'a second run applies nothing');
    const status = await withClient(db, (client) => readMigrationStatus(client));
    assert.equal(status.legacy, undefined, "TypeORM's table is not mistaken for an install of ours");
    assert.equal(status.pending.length, 0);

    const store = db.store();
    const user = crypto.randomUUID();
    const task = await store.withUser(user, async (tx) => {
      await tx.users.ensure();
      return tx.tasks.create({ title: 'beside an application' });
    });
    assert.equal((await store.withUser(user, (tx) => tx.tasks.get(task.id))).title, 'beside an application');
    assert.deepEqual(await snapshotForeign(db.admin), before, 'and so it stays while the library is used');
  });

  test("another application's postgres-migrations table in public is not adopted and not touched", async () => {
    const db = await createEmptyDatabase();
    await db.admin.query(`
      create table public.migrations (id integer primary key, name varchar(100) unique not null, hash varchar(40) not null,
        executed_at timestamp default current_timestamp);
      insert into public.migrations (id, name, hash) values (0, 'create-migrations-table', 'aaaa'), (1, 'their_first', 'bbbb');`);
    const before = (await db.admin.query('select id, name, hash from public.migrations order by id')).rows;
    await withClient(db, (client) => migrateUp(client));
    assert.deepEqual((await db.admin.query('select id, name, hash from public.migrations order by id')).rows, before);
    const ours = await db.admin.query('select count(*)::int as n from todo_chat_migrations.migrations where id > 0');
    assert.equal(ours.rows[0].n, shipped.length);
  });

  test('a foreign table where our bookkeeping goes is refused with its name and what to do', async () => {
    const db = await createEmptyDatabase();
    await db.admin.query('create schema todo_chat_migrations; create table todo_chat_migrations.migrations (id serial primary key, "timestamp" bigint, name varchar)');
    await assert.rejects(withClient(db, (client) => migrateUp(client)), (error: unknown) => {
      assert.ok(error instanceof MigrationError);
      assert.match(error.message, /todo_chat_migrations\.migrations is not a postgres-migrations bookkeeping table/);
      assert.match(error.message, /rename or move that table/);
      return true;
    });
    assert.equal((await db.admin.query("select to_regnamespace('todo_chat') as s")).rows[0].s, null, 'nothing was applied');
  });
});

/** A database as the former releases left it: their migration files applied by postgres-migrations into public.migrations. */
async function createLegacyInstall(upTo?: number): Promise<TestDatabase> {
  const db = await createEmptyDatabase();
  const legacy = await listMigrationFiles(LEGACY_DIR);
  const dir = upTo === undefined ? LEGACY_DIR : stagedLegacy(legacy.slice(0, upTo));
  await withClient(db, (client) => postgresMigrations({ client }, dir));
  return db;
}

/** A folder with the first of the former migration files only: an install that stopped there. */
function stagedLegacy(files: { path: string; fileName: string }[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcdb-legacy-'));
  for (const file of files) fs.copyFileSync(file.path, path.join(dir, file.fileName));
  return dir;
}

/** One user's data written under the former names, as the former library wrote it (a tool-calling turn included). */
async function seedLegacyData(admin: pg.Pool, userId: string): Promise<{ conversationId: string; taskId: string }> {
  const conversationId = crypto.randomUUID();
  const taskId = crypto.randomUUID();
  await admin.query(
    `insert into app.users (id) values ($1);
     insert into app.tasks (user_id, id, title, description) values ($1, $2, 'legacy task', 'kept across the adoption');
     insert into app.conversations (user_id, id, title) values ($1, $3, 'legacy chat');
     insert into app.messages (user_id, conversation_id, role, content, tool_calls, tool_call_id)
     values ($1, $3, 'user', 'remind me', null, null),
            ($1, $3, 'assistant', '', '[{"id": "call_1", "name": "add_task", "arguments": {"title": "legacy task"}}]', null),
            ($1, $3, 'tool', '{"ok": true}', null, 'call_1'),
            ($1, $3, 'assistant', 'done', null, null);`.replace(/\$1/g, `'${userId}'`).replace(/\$2/g, `'${taskId}'`).replace(/\$3/g, `'${conversationId}'`),
  );
  return { conversationId, taskId };
}

/**
 * The rows of the former version's columns, in a stable order: what an
 * adoption (and the redesign of the history that follows it) must keep.
 * Messages are ordered by their former seq, which becomes their position.
 */
async function rowsOf(admin: pg.Pool, schema: string): Promise<Record<string, unknown[]>> {
  const order = schema === 'app' ? 'seq' : 'position';
  const read: Record<string, string> = {
    users: 'select * from %s.users order by id',
    tasks: 'select * from %s.tasks order by user_id, id',
    conversations: 'select user_id, id, title, status, version, created_at, updated_at from %s.conversations order by user_id, id',
    messages: `select user_id, conversation_id, id::text as id, role, content, tool_calls, tool_call_id, created_at from %s.messages order by user_id, conversation_id, ${order}`,
  };
  const rows: Record<string, unknown[]> = {};
  for (const [table, sql] of Object.entries(read)) rows[table] = (await admin.query(sql.replace('%s', schema))).rows;
  return rows;
}

describe('an install under the former names (schema app, public.migrations)', () => {
  test('is adopted in place: every row kept, the same catalog as a fresh install, readable through the API', async () => {
    const expected = await freshCatalog();
    const db = await createLegacyInstall();
    const user = crypto.randomUUID();
    const { conversationId, taskId } = await seedLegacyData(db.admin, user);
    const before = await rowsOf(db.admin, 'app');
    const legacyTimes = (await db.admin.query('select id, executed_at from public.migrations order by id')).rows;

    const status = await withClient(db, (client) => readMigrationStatus(client));
    assert.deepEqual(status.legacy, { applied: 7 }, 'status reports the install it will adopt');

    const lines: string[] = [];
    const applied = await withClient(db, (client) => migrateUp(client, { log: (line) => lines.push(line) }));
    assert.ok(lines.some((line) => /adopted: schema app is now todo_chat/.test(line)), lines.join('\n'));
    assert.deepEqual(applied.map((result) => result.fileName), shipped.slice(7).map((file) => file.fileName), 'then applies what came after');

    assert.deepEqual(await rowsOf(db.admin, 'todo_chat'), before, 'every row is kept, unchanged');
    assert.deepEqual(await snapshotCatalog(db.admin), expected, 'the same schema as a fresh install');
    const gone = await db.admin.query("select to_regnamespace('app') as app, to_regclass('public.migrations') as migrations");
    assert.deepEqual(gone.rows, [{ app: null, migrations: null }]);
    const bookkeeping = await db.admin.query('select id, executed_at from todo_chat_migrations.migrations where id <= 7 order by id');
    assert.deepEqual(bookkeeping.rows, legacyTimes, 'the recorded times of the adopted migrations are kept');
    assert.deepEqual((await withClient(db, (client) => readMigrationStatus(client))).pending, []);

    const store = db.store();
    await store.withUser(user, async (tx) => {
      assert.equal((await tx.tasks.get(taskId)).description, 'kept across the adoption');
      const history = await tx.messages.history(conversationId);
      assert.deepEqual(history.items.map((m) => m.role), ['user', 'assistant', 'tool', 'assistant']);
      assert.equal(history.items[1]!.toolCalls?.[0]?.name, 'add_task');
      await tx.messages.append(conversationId, { role: 'user', content: 'after the adoption' });
    });
    await assert.rejects(store.withUser(crypto.randomUUID(), (tx) => tx.tasks.get(taskId)), /not found/);
  });

  test('that was behind is first brought to its last former migration, then adopted', async () => {
    const expected = await freshCatalog();
    const db = await createLegacyInstall(5);
    const lines: string[] = [];
    await withClient(db, (client) => migrateUp(client, { log: (line) => lines.push(line) }));
    assert.ok(lines.some((line) => /^legacy applied 0006_create_conversations\.sql/.test(line)), lines.join('\n'));
    assert.ok(lines.some((line) => /^legacy applied 0007_create_messages\.sql/.test(line)), lines.join('\n'));
    assert.deepEqual(await snapshotCatalog(db.admin), expected);
  });

  test('whose former migration file was edited is refused, naming it, and nothing changes', async () => {
    const db = await createLegacyInstall();
    await db.admin.query("update public.migrations set hash = 'edited' where id = 3");
    await assert.rejects(withClient(db, (client) => migrateUp(client)), /migration file 0003_create_touch_row\.sql was changed after it was applied/);
    const still = await db.admin.query("select to_regnamespace('app') is not null as app, to_regnamespace('todo_chat') as ours");
    assert.deepEqual(still.rows, [{ app: true, ours: null }]);
  });
});
