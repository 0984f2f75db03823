/**
 * "`down` with rows present refuses and changes nothing; with the explicit
 * flag it proceeds."
 *
 * The down files that drop a table (0004 users, 0005 tasks, 0006
 * conversations, 0007 messages) refuse while it holds rows, naming the table
 * and its row count, and the run's transaction is rolled back: the catalog,
 * every row and the bookkeeping are as before. Each is reached by a run that
 * reverts everything after it too (the tables above it emptied first), through
 * migrateDown and through the CLI; `allowDataLoss` / `--allow-data-loss`
 * reverts them all. (0010 and 0011, which move or drop history, are proved in
 * test/history/migration-carry-over.test.ts.)
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import type pg from 'pg';
import { createTestDatabase, onCleanup, type TestDatabase } from '../helpers/db.js';
import { snapshotCatalog } from '../helpers/catalog.js';
import { MigrationError } from '../../src/errors.js';
import { listMigrationFiles, migrateDown, readMigrationStatus } from '../../src/migrate/index.js';
import { packageRoot } from '../../src/paths.js';

const run = promisify(execFile);
const files = await listMigrationFiles();

/** The guarded downs, in the order a run from the newest migration meets them, with the rows each table gets below. */
const GUARDED = [
  { table: 'messages', file: '0007_create_messages.sql', rows: 4 },
  { table: 'conversations', file: '0006_create_conversations.sql', rows: 1 },
  { table: 'tasks', file: '0005_create_tasks.sql', rows: 2 },
  { table: 'users', file: '0004_create_users.sql', rows: 3 },
] as const;

const TABLES = ['users', 'tasks', 'conversations', 'messages', 'tool_calls', 'tool_results'];

/** How many migrations a down run reverts to reach `fileName`'s down (it included). */
function countTo(fileName: string): number {
  const target = files.find((file) => file.fileName === fileName);
  assert.ok(target, `${fileName} is a shipped migration`);
  return files.filter((file) => file.id >= target.id).length;
}

/** A migrated database holding 3 users, 2 tasks, 1 conversation and 4 plain messages (uuid ids, no tool calls: 0010 and 0011 carry them back). */
async function databaseWithRows(): Promise<{ db: TestDatabase; client: pg.PoolClient }> {
  const db = await createTestDatabase();
  const store = db.store();
  const user = crypto.randomUUID();
  await db.createUsers(2);
  await store.withUser(user, async (tx) => {
    await tx.users.ensure();
    await tx.tasks.create({ title: 'buy oat milk' });
    await tx.tasks.create({ title: 'call mum' });
    const conversation = await tx.conversations.create({ title: 'groceries' });
    await tx.messages.appendTurn(conversation.id, [
      { id: crypto.randomUUID(), role: 'user', content: 'remind me to buy oat milk' },
      { id: crypto.randomUUID(), role: 'assistant', content: 'added it' },
      { id: crypto.randomUUID(), role: 'user', content: 'and to call mum' },
      { id: crypto.randomUUID(), role: 'assistant', content: 'added that too' },
    ]);
  });
  const client = await db.admin.connect();
  onCleanup(() => client.release());
  return { db, client };
}

/** The catalog, every row of every table of the schema that exists, and the bookkeeping. */
async function stateOf(client: pg.ClientBase): Promise<Record<string, unknown>> {
  const rows: Record<string, unknown> = {};
  for (const table of TABLES) {
    const exists = (await client.query('select to_regclass($1) is not null as e', [`todo_chat.${table}`])).rows[0].e;
    rows[table] = exists
      ? (await client.query(`select coalesce(jsonb_agg(r order by r::text), '[]') as r from (select to_jsonb(t) as r from todo_chat.${table} t) s`)).rows[0].r
      : null;
  }
  const bookkeeping = (await client.query('select id, name, hash from todo_chat_migrations.migrations order by id')).rows;
  return { catalog: await snapshotCatalog(client), rows, bookkeeping };
}

async function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', path.join(packageRoot, 'tools/migrate.ts'), ...args], {
      cwd: packageRoot,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('a down that would drop a table holding rows', () => {
  test('refuses, naming the table and its row count, and changes nothing, for each of 0004-0007', async () => {
    const { client } = await databaseWithRows();
    for (const { table, file, rows } of GUARDED) {
      const before = await stateOf(client);
      await assert.rejects(migrateDown(client, countTo(file)), (error: unknown) => {
        assert.ok(error instanceof MigrationError, String(error));
        assert.equal(error.file, `down/${file}`);
        assert.match(error.message, new RegExp(`would drop the table todo_chat\\.${table} and its ${rows} row\\(s\\)`));
        assert.match(error.message, /nothing was changed; to revert anyway and drop them, run down with --allow-data-loss/);
        assert.match(error.message, /were rolled back with it/, 'the other downs of the run are named as rolled back');
        return true;
      });
      assert.deepStrictEqual(await stateOf(client), before, `after the refusal of ${file}: catalog, rows and bookkeeping unchanged`);
      // Empty this table, so that the next run gets past its down and meets the one below.
      await client.query(`delete from todo_chat.${table}`);
    }
    // Every table empty: the same run reverts them all without being told.
    const reverted = await migrateDown(client, countTo('0004_create_users.sql'));
    assert.equal(reverted[reverted.length - 1]!.fileName, '0004_create_users.sql');
    assert.equal((await client.query("select to_regclass('todo_chat.users') as t")).rows[0].t, null);
  });

  test('with allowDataLoss it proceeds, drops the tables and their rows, and the setting does not outlive the run', async () => {
    const { client } = await databaseWithRows();
    const n = countTo('0004_create_users.sql');
    const reverted = await migrateDown(client, n, { allowDataLoss: true });
    assert.deepEqual(
      reverted.map((r) => r.fileName),
      files.slice(-n).reverse().map((f) => f.fileName),
    );
    for (const { table } of GUARDED) {
      assert.equal((await client.query('select to_regclass($1) as t', [`todo_chat.${table}`])).rows[0].t, null, `${table} dropped`);
    }
    const status = await readMigrationStatus(client);
    assert.deepEqual(status.applied.map((row) => row.fileName), files.slice(0, files.length - n).map((f) => f.fileName));
    assert.deepEqual((await client.query("select current_setting('todo_chat.allow_data_loss', true) as s")).rows, [{ s: '' }]);
  });

  test('the CLI: `down n` exits 1 saying what would be lost and changes nothing; `down n --allow-data-loss` reverts', async () => {
    const { db, client } = await databaseWithRows();
    const n = String(countTo('0004_create_users.sql'));
    const before = await stateOf(client);

    const refused = await cli(['down', n], { DATABASE_URL: db.url });
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(
      refused.stderr,
      /^migrate failed: down migration down\/0007_create_messages\.sql failed and was rolled back.*would drop the table todo_chat\.messages and its 4 row\(s\) \(nothing was changed; to revert anyway and drop them, run down with --allow-data-loss\)/m,
    );
    assert.doesNotMatch(refused.stdout, /reverted/);
    assert.deepStrictEqual(await stateOf(client), before, 'catalog, rows and bookkeeping unchanged');

    const allowed = await cli(['down', n, '--allow-data-loss'], { DATABASE_URL: db.url });
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stdout, /reverted 0004_create_users\.sql with down\/0004_create_users\.sql/);
    assert.match(allowed.stdout, new RegExp(`reverted ${n} migration\\(s\\)`));
    assert.equal((await client.query("select to_regclass('todo_chat.messages') as t")).rows[0].t, null);
  });
});
