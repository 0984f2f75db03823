/**
 * The transaction helper: one client, one transaction, the user context set
 * for that transaction only, rollback on any throw, nothing left behind on the
 * pooled connection.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { before, describe, test } from 'node:test';
import { createTestDatabase, onCleanup, type TestDatabase } from '../helpers/db.js';
import {
  UsageError,
  DatabaseUnavailableError,
  TransactionAbortedError,
  ValidationError,
  createStore,
  type Store,
} from '../../src/index.js';

let db: TestDatabase;
let store: Store;
let userA: string;
let userB: string;

before(async () => {
  db = await createTestDatabase();
  store = db.store();
  [userA, userB] = await db.createUsers(2) as [string, string];
});

describe('withUser', () => {
  test('commits what the callback wrote and returns its result', async () => {
    const task = await store.withUser(userA, (tx) => tx.tasks.create({ title: 'kept' }));
    const rows = await db.admin.query('select user_id, title from todo_chat.tasks where id = $1', [task.id]);
    assert.deepEqual(rows.rows, [{ user_id: userA, title: 'kept' }]);
  });

  test('rolls back everything when the callback throws', async () => {
    const marker = `rolled back ${crypto.randomUUID()}`;
    await assert.rejects(
      store.withUser(userA, async (tx) => {
        await tx.tasks.create({ title: marker });
        await tx.conversations.create({ title: marker });
        throw new Error('boom');
      }),
      /boom/,
    );
    const tasks = await db.admin.query('select 1 from todo_chat.tasks where title = $1', [marker]);
    const conversations = await db.admin.query('select 1 from todo_chat.conversations where title = $1', [marker]);
    assert.equal(tasks.rowCount, 0);
    assert.equal(conversations.rowCount, 0);
  });

  test('neither the user setting nor the role survives into the next transaction on the connection', async () => {
    const pool = db.pool(1);
    const shared = createStore({ pool });
    const inside = await shared.withUser(userA, async (tx) => {
      await tx.tasks.list();
      const waiting = pool.connect();
      const client = await Promise.race([waiting, new Promise<null>((resolve) => setTimeout(() => resolve(null), 200))]);
      // Hand the connection back as soon as the transaction releases it.
      void waiting.then((c) => c.release());
      assert.equal(client, null, 'the one connection is held by the transaction');
      return tx.userId;
    });
    assert.equal(inside, userA);
    const client = await pool.connect();
    try {
      const after = await client.query<{ setting: string | null; role: string; current: string; tx: string }>(
        "select current_setting('todo_chat.user_id', true) as setting, current_setting('role') as role, current_user as current, " +
          'pg_catalog.txid_current_if_assigned()::text as tx',
      );
      const row = after.rows[0]!;
      assert.ok(row.setting === '' || row.setting === null, `todo_chat.user_id is unset afterwards (got ${row.setting})`);
      assert.equal(row.role, 'none', 'the session role is back to the login role');
      assert.notEqual(row.current, 'todo_chat_app');
      const visible = await client.query('select todo_chat.current_user_id() as id');
      assert.equal(visible.rows[0].id, null);
    } finally {
      client.release();
    }
    // And the next user on that same connection sees only their own rows.
    const seen = await shared.withUser(userB, async (tx) => (await tx.tasks.list()).items);
    assert.equal(seen.length, 0);
  });

  test('a nested withUser for the same user joins the open transaction', async () => {
    const marker = `nested ${crypto.randomUUID()}`;
    await assert.rejects(
      store.withUser(userA, async (outer) => {
        const inner = await store.withUser(userA, async (tx) => {
          assert.equal(tx, outer, 'the same transaction object');
          return tx.tasks.create({ title: marker });
        });
        assert.equal((await outer.tasks.get(inner.id)).title, marker, 'visible to the outer callback');
        throw new Error('undo both');
      }),
      /undo both/,
    );
    assert.equal((await db.admin.query('select 1 from todo_chat.tasks where title = $1', [marker])).rowCount, 0);
  });

  test('a nested withUser for another user throws and writes nothing', async () => {
    await assert.rejects(
      store.withUser(userA, async () => {
        await store.withUser(userB, async (tx) => tx.tasks.create({ title: 'as B inside A' }));
      }),
      UsageError,
    );
    assert.equal((await db.admin.query("select 1 from todo_chat.tasks where title = 'as B inside A'")).rowCount, 0);
  });

  test('invalid user ids are refused before any connection is attempted', async () => {
    const unreachable = createStore({ connectionString: 'postgres://nobody:x@127.0.0.1:1/none', retry: false });
    onCleanup(() => unreachable.close());
    for (const bad of ['', 'not-a-uuid', '00000000-0000-0000-0000-000000000000', `${userA}x`, `'; reset role; --`, 42, null, undefined]) {
      await assert.rejects(
        unreachable.withUser(bad as string, async () => 'never'),
        ValidationError,
        `user id ${JSON.stringify(bad)}`,
      );
    }
    await assert.rejects(
      unreachable.withUser(userA, async () => 'never'),
      DatabaseUnavailableError,
      'a valid id does reach for the pool',
    );
  });

  test('the transaction object is unusable once its withUser has ended', async () => {
    const leaked = await store.withUser(userA, async (tx) => tx);
    await assert.rejects(leaked.tasks.list(), UsageError);
  });

  test('a swallowed database error fails the commit instead of silently losing the writes', async () => {
    const marker = `swallowed ${crypto.randomUUID()}`;
    await assert.rejects(
      store.withUser(userA, async (tx) => {
        await tx.tasks.create({ title: marker });
        const chat = await tx.conversations.create();
        // A tool result that answers no call: the database refuses it, which aborts the transaction.
        await tx.messages.append(chat.id, { role: 'tool', toolCallId: 'no_such_call', content: 'orphan' }).catch(() => undefined);
        return 'done';
      }),
      TransactionAbortedError,
    );
    assert.equal((await db.admin.query('select 1 from todo_chat.tasks where title = $1', [marker])).rowCount, 0);
  });

  test('after a database error the next query says the transaction is aborted', async () => {
    const chat = await store.withUser(userA, (tx) => tx.conversations.create());
    await store.withUser(userA, async (tx) => {
      // A tool result that answers no call: the server refuses the insert, which aborts the transaction.
      await assert.rejects(tx.messages.append(chat.id, { role: 'tool', toolCallId: 'no_such_call', content: 'orphan' }), ValidationError);
      await assert.rejects(tx.tasks.list(), TransactionAbortedError);
    }).catch((error: unknown) => assert.ok(error instanceof TransactionAbortedError, String(error)));
  });

  test('a connection killed mid-transaction is discarded, and the store recovers', async () => {
    const pool = db.pool(1);
    const fragile = createStore({ pool });
    await assert.rejects(
      fragile.withUser(userA, async (tx) => {
        await tx.tasks.list();
        await db.admin.query(
          "select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and state = 'idle in transaction'",
        );
        await new Promise((resolve) => setTimeout(resolve, 100));
        await tx.tasks.list();
      }),
      DatabaseUnavailableError,
    );
    const after = await fragile.withUser(userA, async (tx) => (await tx.tasks.list()).items.length);
    assert.ok(after >= 1, 'a fresh connection serves the next transaction');
  });

  test('createStore checks its options; a closed store refuses work', async () => {
    assert.throws(() => createStore({} as never), UsageError);
    assert.throws(() => createStore({ connectionString: db.url, pool: db.admin }), UsageError);
    assert.throws(() => createStore({ connectionString: db.url, appRole: 'x; drop table' }), ValidationError);
    const closing = createStore({ connectionString: db.url });
    await closing.close();
    await assert.rejects(closing.withUser(userA, async () => 1), UsageError);
    const borrowed = createStore({ pool: db.admin });
    await borrowed.close();
    assert.equal((await db.admin.query('select 1 as one')).rows[0].one, 1, 'close() leaves a pool it was given open');
  });
});
