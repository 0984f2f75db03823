/**
 * The core promise: whatever role the pool logs in as, a user reads, changes
 * and creates only their own rows, and a transaction without a user sees and
 * writes nothing.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { before, describe, test } from 'node:test';
import type pg from 'pg';
import { adminQuery, createTestDatabase, onCleanup, rawPool, urlFor, type TestDatabase } from '../helpers/db.js';
import { asAppRoleWithoutUser, asUser, tryStatement } from '../helpers/transaction.js';
import { NotFoundError, createStore, type Store } from '../../src/index.js';

const TABLES = ['users', 'tasks', 'conversations', 'messages', 'tool_calls', 'tool_results'] as const;

interface Owned {
  userId: string;
  taskId: string;
  conversationId: string;
  messageId: string;
}

/** Creates one of everything for a user through the public API. */
async function seed(store: Store, userId: string): Promise<Owned> {
  return store.withUser(userId, async (tx) => {
    await tx.users.ensure();
    const task = await tx.tasks.create({ title: `task of ${userId}` });
    const conversation = await tx.conversations.create({ title: `chat of ${userId}` });
    const message = await tx.messages.append(conversation.id, { role: 'user', content: `hello from ${userId}` });
    await tx.messages.appendTurn(conversation.id, [
      { role: 'assistant', toolCalls: [{ id: 'call_1', name: 'add_task', arguments: { title: 'x' } }] },
      { role: 'tool', toolCallId: 'call_1', content: 'added' },
    ]);
    return { userId, taskId: task.id, conversationId: conversation.id, messageId: message.id };
  });
}

/** Every row of every table, as the superuser sees it (row-level security bypassed). */
async function snapshot(db: TestDatabase): Promise<Record<string, unknown[]>> {
  const result: Record<string, unknown[]> = {};
  for (const table of TABLES) {
    const order = table === 'users' ? 'id' : table.startsWith('tool_') ? 'user_id, conversation_id, ordinal' : 'user_id, id';
    result[table] = (await db.admin.query(`select * from todo_chat.${table} order by ${order}`)).rows;
  }
  return result;
}

/** Runs the full set of cross-user checks with a store whose pool logs in as some role. */
function isolationSuite(label: string, setup: () => Promise<{ db: TestDatabase; store: Store; pool: pg.Pool }>) {
  describe(`isolation when the pool logs in as ${label}`, () => {
    let db: TestDatabase;
    let store: Store;
    let pool: pg.Pool;
    let a: Owned;
    let b: Owned;

    before(async () => {
      ({ db, store, pool } = await setup());
      a = await seed(store, crypto.randomUUID());
      b = await seed(store, crypto.randomUUID());
    });

    test('a user sees only their own rows in every table', async () => {
      await asUser(pool, a.userId, async (client) => {
        for (const table of TABLES) {
          const column = table === 'users' ? 'id' : 'user_id';
          const rows = await client.query(`select ${column} as owner from todo_chat.${table}`);
          assert.ok(rows.rowCount! > 0, `A sees their own ${table}`);
          assert.ok(
            rows.rows.every((row) => row.owner === a.userId),
            `A sees no other user's ${table}`,
          );
        }
        const byId = await client.query('select * from todo_chat.tasks where id = $1', [b.taskId]);
        assert.equal(byId.rowCount, 0, "B's task by id is invisible");
      });
      await store.withUser(a.userId, async (tx) => {
        await assert.rejects(tx.tasks.get(b.taskId), NotFoundError);
        await assert.rejects(tx.conversations.get(b.conversationId), NotFoundError);
        await assert.rejects(tx.messages.all(b.conversationId), NotFoundError);
        assert.deepEqual((await tx.tasks.list()).items.map((t) => t.id), [a.taskId]);
        assert.deepEqual((await tx.conversations.list()).items.map((c) => c.id), [a.conversationId]);
        assert.equal((await tx.users.get()).id, a.userId);
      });
    });

    test("a user cannot update or delete another user's rows", async () => {
      const before = await snapshot(db);
      await asUser(pool, a.userId, async (client) => {
        const attempts = [
          ['update todo_chat.tasks set title = $2 where id = $1', [b.taskId, 'pwned']],
          ['update todo_chat.tasks set completed = true where user_id = $1', [b.userId]],
          ['update todo_chat.conversations set title = $2 where id = $1', [b.conversationId, 'pwned']],
          ['update todo_chat.conversations set status = $2 where user_id = $1', [b.userId, 'archived']],
          ['delete from todo_chat.tasks where id = $1', [b.taskId]],
          ['delete from todo_chat.conversations where id = $1', [b.conversationId]],
          ['delete from todo_chat.users where id = $1', [b.userId]],
          // Messages may be replaced and popped, each user only their own.
          ['update todo_chat.messages set content = $2 where id = $1', [b.messageId, 'pwned']],
          ['update todo_chat.messages set content = $2 where conversation_id = $1', [b.conversationId, 'pwned']],
          ['delete from todo_chat.messages where id = $1', [b.messageId]],
          ['delete from todo_chat.messages where user_id = $1', [b.userId]],
          ['update todo_chat.conversations set last_position = 0, history_bytes = 0 where id = $1', [b.conversationId]],
        ] as const;
        for (const [sql, values] of attempts) {
          const outcome = await tryStatement(client, sql, [...values]);
          assert.equal(outcome.rowCount, 0, `${sql} touched no row of B`);
        }
        // The tool-call audit is append-only: no update or delete is granted at all.
        for (const sql of [
          "update todo_chat.tool_calls set name = 'x' where user_id = $1",
          'delete from todo_chat.tool_calls where user_id = $1',
          "update todo_chat.tool_results set status = 'x' where user_id = $1",
          'delete from todo_chat.tool_results where user_id = $1',
        ]) {
          assert.equal((await tryStatement(client, sql, [b.userId])).code, '42501', `${sql} is not granted`);
        }
      });
      await store.withUser(a.userId, async (tx) => {
        await assert.rejects(tx.tasks.update(b.taskId, { title: 'pwned' }), NotFoundError);
        await assert.rejects(tx.tasks.complete(b.taskId), NotFoundError);
        await assert.rejects(tx.tasks.delete(b.taskId), NotFoundError);
        await assert.rejects(tx.conversations.rename(b.conversationId, 'pwned'), NotFoundError);
        await assert.rejects(tx.conversations.archive(b.conversationId), NotFoundError);
        await assert.rejects(tx.conversations.delete(b.conversationId), NotFoundError);
        await assert.rejects(tx.messages.replace(b.conversationId, b.messageId, { role: 'user', content: 'pwned' }), NotFoundError);
        await assert.rejects(tx.messages.pop(b.conversationId), NotFoundError);
        await assert.rejects(tx.messages.clear(b.conversationId), NotFoundError);
      });
      assert.deepEqual(await snapshot(db), before, "nothing of B's changed");
    });

    test('a user cannot insert a row owned by another user', async () => {
      const before = await snapshot(db);
      await asUser(pool, a.userId, async (client) => {
        // user_id is never granted: naming it is refused outright.
        for (const sql of [
          "insert into todo_chat.tasks (user_id, title) values ($1, 'forged')",
          "insert into todo_chat.conversations (user_id, title) values ($1, 'forged')",
          `insert into todo_chat.messages (user_id, conversation_id, id, position, role, content) values ($1, '${b.conversationId}', 'forged', 99, 'user', 'forged')`,
          `insert into todo_chat.tool_calls (user_id, conversation_id, ordinal, message_id, call_id, name, format, message_position, call_index) values ($1, '${b.conversationId}', 1, 'm', 'c', 'n', 'chat', 1, 0)`,
        ]) {
          assert.equal((await tryStatement(client, sql, [b.userId])).code, '42501', sql);
        }
        assert.equal(
          (await tryStatement(client, 'insert into todo_chat.users (id) values ($1)', [crypto.randomUUID()])).code,
          '42501',
          'a user row for anyone but the current user violates the insert policy',
        );
        // A message into B's conversation: the composite foreign key finds no (A, conversation) pair.
        assert.equal(
          (await tryStatement(client, "insert into todo_chat.messages (conversation_id, id, position, role, content) values ($1, 'x', 99, 'user', 'x')", [b.conversationId])).code,
          '23503',
        );
        // Nor an audit row of B's conversation.
        assert.equal(
          (
            await tryStatement(
              client,
              "insert into todo_chat.tool_calls (conversation_id, ordinal, message_id, call_id, name, format, message_position, call_index) values ($1, 1, 'm', 'c', 'n', 'chat', 1, 0)",
              [b.conversationId],
            )
          ).code,
          '23503',
        );
      });
      // A refused write aborts its transaction, so each attempt gets its own withUser.
      await assert.rejects(
        store.withUser(a.userId, (tx) => tx.messages.append(b.conversationId, { role: 'user', content: 'hi' })),
        NotFoundError,
      );
      await assert.rejects(
        store.withUser(a.userId, (tx) =>
          tx.messages.appendTurn(b.conversationId, [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'yo' }]),
        ),
        NotFoundError,
      );
      assert.deepEqual(await snapshot(db), before);
    });

    test('without a user context the app role sees nothing and cannot write', async () => {
      await asAppRoleWithoutUser(pool, async (client) => {
        for (const table of TABLES) {
          const rows = await client.query(`select count(*)::int as n from todo_chat.${table}`);
          assert.equal(rows.rows[0].n, 0, `no ${table} visible without a user`);
        }
        assert.equal((await client.query('select todo_chat.current_user_id() as id')).rows[0].id, null);
        const writes = [
          ["insert into todo_chat.tasks (title) values ('x')", []],
          ["insert into todo_chat.conversations (title) values ('x')", []],
          ['insert into todo_chat.users (id) values ($1)', [a.userId]],
          ["update todo_chat.tasks set title = 'x'", []],
          ['delete from todo_chat.tasks', []],
        ] as const;
        for (const [sql, values] of writes) {
          const outcome = await tryStatement(client, sql, [...values]);
          assert.ok(outcome.code !== 'ok' || outcome.rowCount === 0, `${sql} wrote nothing (${outcome.code})`);
        }
        assert.notEqual((await tryStatement(client, "insert into todo_chat.tasks (title) values ('x')")).code, 'ok');
      });
    });

    test('the login role itself, outside withUser, reads no user data', async () => {
      const client = await pool.connect();
      try {
        const superuser = (await client.query<{ rolsuper: boolean }>('select rolsuper from pg_roles where rolname = current_user')).rows[0]!
          .rolsuper;
        const count = (await client.query('select count(*)::int as n from todo_chat.tasks')).rows[0].n;
        if (superuser) assert.ok(count >= 2, 'a superuser bypasses row-level security: the reason withUser switches role');
        else assert.equal(count, 0, 'forced row-level security hides every row from the owner');
      } finally {
        client.release();
      }
    });
  });
}

isolationSuite('a superuser', async () => {
  const db = await createTestDatabase();
  const store = db.store();
  const pool = db.pool(4);
  return { db, store, pool };
});

/**
 * A fresh login role (dropped after the file, once its database is gone) that
 * may switch to the app role, with a store and a raw pool logging in as it.
 */
async function asLoginRole(kind: 'owner' | 'login'): Promise<{ db: TestDatabase; store: Store; pool: pg.Pool }> {
  const db = await createTestDatabase();
  const role = `tcdb_${kind}_${crypto.randomBytes(4).toString('hex')}`;
  const password = crypto.randomBytes(12).toString('hex');
  await db.admin.query(`create role ${role} login password '${password}' nosuperuser nobypassrls`);
  await db.admin.query(`grant todo_chat_app to ${role}`);
  if (kind === 'owner') {
    await db.admin.query(`alter schema todo_chat owner to ${role}`);
    for (const table of TABLES) await db.admin.query(`alter table todo_chat.${table} owner to ${role}`);
    const owner = await db.admin.query("select tableowner from pg_tables where schemaname = 'todo_chat' and tablename = 'tasks'");
    assert.equal(owner.rows[0].tableowner, role);
  }
  const url = urlFor(db.name, { name: role, password });
  const store = createStore({ connectionString: url });
  const pool = rawPool(url, 4);
  onCleanup(async () => {
    await store.close();
    await pool.end();
    // Once the database is dropped, nothing references the role.
    await adminQuery(`drop database if exists ${db.name} with (force)`);
    await adminQuery(`drop role if exists ${role}`);
  });
  return { db, store, pool };
}

isolationSuite('the owner of the tables', () => asLoginRole('owner'));
isolationSuite('a plain login role granted the app role', () => asLoginRole('login'));
