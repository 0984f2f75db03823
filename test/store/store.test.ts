import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, test } from 'node:test';
import { createEmptyDatabase, createTestDatabase } from '../helpers/db.js';
import { createStore, ValidationError, ConflictError, NotFoundError, type QueryEvent } from '../../src/index.js';
import { listMigrationFiles } from '../../src/migrate/index.js';

const db = await createTestDatabase();

describe('onQuery', () => {
  test('one event per query: name, duration, row count; an error code when it failed', async () => {
    const events: QueryEvent[] = [];
    const store = db.store({ onQuery: (event) => events.push(event) });
    const [user] = await db.createUsers(1);
    const task = await store.withUser(user!, async (tx) => {
      const created = await tx.tasks.create({ title: 'observed' });
      await tx.tasks.create({ title: 'another' });
      await tx.tasks.get(created.id);
      await tx.tasks.list();
      return created;
    });
    assert.deepEqual(
      events.map(({ query, rowCount, errorCode }) => ({ query, rowCount, errorCode })),
      [
        { query: 'CreateTask', rowCount: 1, errorCode: undefined },
        { query: 'CreateTask', rowCount: 1, errorCode: undefined },
        { query: 'GetTask', rowCount: 1, errorCode: undefined },
        { query: 'ListTasksNewest', rowCount: 2, errorCode: undefined },
      ],
    );
    for (const event of events) {
      assert.equal(typeof event.durationMs, 'number');
      assert.ok(Number.isFinite(event.durationMs) && event.durationMs >= 0);
      assert.ok(!('errorCode' in event), 'no errorCode key on success');
    }

    events.length = 0;
    await assert.rejects(store.withUser(user!, (tx) => tx.tasks.create({ id: task.id, title: 'duplicate' })), ConflictError);
    // The conflict is found by reading the stored row, not by an error of the insert.
    assert.deepEqual(events.map(({ query, rowCount, errorCode }) => ({ query, rowCount, errorCode })), [
      { query: 'CreateTask', rowCount: 0, errorCode: undefined },
      { query: 'GetTask', rowCount: 1, errorCode: undefined },
    ]);

    events.length = 0;
    await assert.rejects(store.withUser(crypto.randomUUID(), (tx) => tx.tasks.create({ title: 'no such user' })), NotFoundError);
    assert.deepEqual(events.map(({ query, rowCount, errorCode }) => ({ query, rowCount, errorCode })), [
      { query: 'CreateTask', rowCount: 0, errorCode: '23503' },
    ]);

    events.length = 0;
    await assert.rejects(store.withUser(user!, (tx) => tx.tasks.get(crypto.randomUUID())));
    assert.deepEqual(events.map(({ query, rowCount, errorCode }) => ({ query, rowCount, errorCode })), [
      { query: 'GetTask', rowCount: 0, errorCode: undefined },
    ], 'an empty result is not an error');

    events.length = 0;
    await assert.rejects(store.withUser(user!, (tx) => tx.tasks.create({ title: '' })), ValidationError);
    assert.deepEqual(events, [], 'input refused by zod runs no query');
  });

  test('events never carry parameter values, content, ids or the user', async () => {
    const events: QueryEvent[] = [];
    const store = db.store({ onQuery: (event) => events.push(event) });
    const [user] = await db.createUsers(1);
    const secret = `s3cr3t-${crypto.randomBytes(8).toString('hex')}`;
    const ids = await store.withUser(user!, async (tx) => {
      const task = await tx.tasks.create({ title: `title ${secret}`, description: `description ${secret}` });
      await tx.tasks.update(task.id, { title: `renamed ${secret}` });
      const conversation = await tx.conversations.create({ title: `conversation ${secret}` });
      await tx.messages.appendTurn(conversation.id, [
        { role: 'user', content: `content ${secret}` },
        { role: 'assistant', toolCalls: [{ id: `call-${secret}`, name: 'add_task', arguments: { secret } }] },
        { role: 'tool', toolCallId: `call-${secret}`, content: secret },
      ]);
      await tx.messages.history(conversation.id);
      await tx.messages.search(secret);
      await tx.users.export();
      return [task.id, conversation.id];
    });
    // A failing query too: its driver error message would name the value.
    await assert.rejects(store.withUser(user!, (tx) => tx.tasks.create({ id: ids[0], title: secret })), ConflictError);
    assert.ok(events.length >= 10);
    const text = JSON.stringify(events);
    for (const forbidden of [secret, user!, ...ids]) assert.ok(!text.includes(forbidden!), `events contain ${forbidden}`);
    for (const event of events) {
      assert.deepEqual(
        Object.keys(event).filter((key) => !['query', 'durationMs', 'rowCount', 'errorCode'].includes(key)),
        [],
      );
      assert.match(event.query, /^[A-Z][A-Za-z]+$/, 'the name of a query in sql/');
    }
  });

  test('an observer that throws does not break the transaction', async () => {
    const store = db.store({
      onQuery: () => {
        throw new Error('observer failure');
      },
    });
    const [user] = await db.createUsers(1);
    const task = await store.withUser(user!, (tx) => tx.tasks.create({ title: 'still stored' }));
    const rows = await db.admin.query('select title from todo_chat.tasks where id = $1', [task.id]);
    assert.deepEqual(rows.rows, [{ title: 'still stored' }]);
  });
});

describe('health', () => {
  test('a migrated database: reachable, latency, server version, no pending migration', async () => {
    const store = db.store();
    const health = await store.health();
    const version = await db.admin.query<{ server_version: string }>('show server_version');
    assert.equal(health.ok, true);
    assert.equal(health.serverVersion, version.rows[0]!.server_version);
    assert.ok(typeof health.latencyMs === 'number' && Number.isFinite(health.latencyMs) && health.latencyMs >= 0);
    assert.deepEqual(health.pendingMigrations, []);
    assert.equal(health.error, undefined);
  });

  test('a database without the migrations: reachable but not ok, every migration pending', async () => {
    const empty = await createEmptyDatabase();
    const health = await empty.store().health();
    assert.equal(health.ok, false);
    assert.ok(typeof health.latencyMs === 'number');
    assert.ok(health.serverVersion);
    assert.deepEqual(health.pendingMigrations, (await listMigrationFiles()).map((file) => file.fileName));
  });

  test('one migration missing: that one is pending', async () => {
    const partial = await createTestDatabase();
    const files = await listMigrationFiles();
    const newest = files[files.length - 1]!;
    await partial.admin.query('delete from todo_chat_migrations.migrations where id = $1', [newest.id]);
    const health = await partial.store().health();
    assert.equal(health.ok, false);
    assert.deepEqual(health.pendingMigrations, [newest.fileName]);
  });

  test('an unreachable server is reported, not thrown', async () => {
    const store = createStore({ connectionString: 'postgres://nobody:secret@127.0.0.1:1/nowhere' });
    try {
      const health = await store.health();
      assert.equal(health.ok, false);
      assert.equal(health.latencyMs, null);
      assert.equal(health.serverVersion, null);
      assert.equal(health.pendingMigrations, null);
      assert.match(health.error ?? '', /ECONNREFUSED|connect/);
      assert.doesNotMatch(health.error ?? '', /secret/);
    } finally {
      await store.close();
    }
  });
});

describe('stateless: stores share nothing but the database', () => {
  test('two stores on one database see each other\'s writes at once', async () => {
    const [a, b] = [db.store(), db.store()];
    const [user] = await db.createUsers(1);
    const task = await a.withUser(user!, (tx) => tx.tasks.create({ title: 'from a' }));
    assert.deepEqual(await b.withUser(user!, (tx) => tx.tasks.get(task.id)), task);
    const updated = await b.withUser(user!, (tx) => tx.tasks.update(task.id, { title: 'from b', expectedVersion: 1 }));
    assert.deepEqual(await a.withUser(user!, (tx) => tx.tasks.get(task.id)), updated);
    // a's view of the version is not cached: its stale expectation is a conflict.
    await assert.rejects(a.withUser(user!, (tx) => tx.tasks.update(task.id, { title: 'stale', expectedVersion: 1 })), ConflictError);

    const conversation = await a.withUser(user!, (tx) => tx.conversations.create({ title: 'shared' }));
    await b.withUser(user!, (tx) => tx.messages.append(conversation.id, { role: 'user', content: 'hello from b' }));
    const history = await a.withUser(user!, (tx) => tx.messages.history(conversation.id));
    assert.deepEqual(history.items.map((m) => m.content), ['hello from b']);
    await a.withUser(user!, (tx) => tx.tasks.delete(task.id));
    await assert.rejects(b.withUser(user!, (tx) => tx.tasks.get(task.id)), /not found/);
  });

  test('a change made behind the store\'s back is visible to its next transaction', async () => {
    const store = db.store();
    const [user] = await db.createUsers(1);
    const task = await store.withUser(user!, (tx) => tx.tasks.create({ title: 'before' }));
    assert.equal((await store.withUser(user!, (tx) => tx.tasks.get(task.id))).title, 'before');
    await db.admin.query("update todo_chat.tasks set title = 'changed directly' where id = $1", [task.id]);
    assert.equal((await store.withUser(user!, (tx) => tx.tasks.get(task.id))).title, 'changed directly');
  });

  test('a store on a pool you own works like one on a connection string, and close() leaves the pool open', async () => {
    const pool = db.pool(2);
    try {
      const store = createStore({ pool });
      const other = db.store();
      const [user] = await db.createUsers(1);
      const task = await store.withUser(user!, (tx) => tx.tasks.create({ title: 'pooled' }));
      assert.equal((await other.withUser(user!, (tx) => tx.tasks.get(task.id))).title, 'pooled');
      await store.close();
      const alive = await pool.query('select 1 as one');
      assert.deepEqual(alive.rows, [{ one: 1 }]);
    } finally {
      await pool.end();
    }
  });
});
