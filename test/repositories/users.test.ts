import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, test } from 'node:test';
import { createTestDatabase } from '../helpers/db.js';
import { countRows, snapshotRows } from '../helpers/snapshots.js';
import { NotFoundError, type Store, type UserExport } from '../../src/index.js';

const db = await createTestDatabase();
const store = db.store();

/** A user with two tasks and two conversations, one of them with a tool-call turn. */
async function populate(s: Store, user: string): Promise<void> {
  await s.withUser(user, async (tx) => {
    await tx.users.ensure();
    await tx.tasks.create({ title: 'first task', description: 'with a description' });
    const done = await tx.tasks.create({ title: 'second task' });
    await tx.tasks.complete(done.id);
    const chat = await tx.conversations.create({ title: 'chat' });
    await tx.messages.appendTurn(chat.id, [
      { role: 'user', content: 'add milk' },
      { role: 'assistant', toolCalls: [{ id: 'call_1', name: 'add_task', arguments: { title: 'milk', tags: ['food'], due: null } }] },
      { role: 'tool', toolCallId: 'call_1', content: '{"ok":true}' },
      { role: 'assistant', content: 'Added.' },
    ]);
    await tx.conversations.create();
  });
}

describe('users', () => {
  test('ensure creates the current user once; get reads it', async () => {
    const id = crypto.randomUUID();
    await assert.rejects(
      store.withUser(id, (tx) => tx.users.get()),
      (error: unknown) => error instanceof NotFoundError && error.entity === 'user' && error.id === id,
    );
    const created = await store.withUser(id, (tx) => tx.users.ensure());
    assert.equal(created.id, id);
    assert.ok(created.createdAt instanceof Date);
    const again = await store.withUser(id, (tx) => tx.users.ensure());
    assert.deepEqual(again, created, 'a second ensure returns the same row');
    assert.deepEqual(await store.withUser(id, (tx) => tx.users.get()), created);
    const rows = await db.admin.query('select count(*)::int as n from todo_chat.users where id = $1', [id]);
    assert.equal(rows.rows[0].n, 1);
  });

  test('ensure from many concurrent requests creates one row and returns it to all', async () => {
    const id = crypto.randomUUID();
    const results = await Promise.all(Array.from({ length: 8 }, () => store.withUser(id, (tx) => tx.users.ensure())));
    for (const result of results) assert.deepEqual(result, results[0]);
    const rows = await db.admin.query('select count(*)::int as n from todo_chat.users where id = $1', [id]);
    assert.equal(rows.rows[0].n, 1);
  });

  test('the user id is normalised to lower case', async () => {
    const id = crypto.randomUUID();
    const created = await store.withUser(id.toUpperCase(), (tx) => tx.users.ensure());
    assert.equal(created.id, id);
  });

  test('delete erases the user and, by cascade, everything they own, and nothing of anyone else', async () => {
    const [victim, bystander] = [crypto.randomUUID(), crypto.randomUUID()];
    await populate(store, victim);
    await populate(store, bystander);
    const counts = await countRows(db.admin, victim);
    assert.deepEqual(counts, { users: 1, tasks: 2, conversations: 2, messages: 4, tool_calls: 1, tool_results: 1, turn_usage: 0 });
    const bystanderBefore = await snapshotRows(db.admin, [bystander]);

    await store.withUser(victim, (tx) => tx.users.delete());
    assert.deepEqual(await countRows(db.admin, victim), { users: 0, tasks: 0, conversations: 0, messages: 0, tool_calls: 0, tool_results: 0, turn_usage: 0 }, 'the tool-call audit goes too');
    assert.deepEqual(await snapshotRows(db.admin, [bystander]), bystanderBefore);
    await assert.rejects(store.withUser(victim, (tx) => tx.users.get()), NotFoundError);
    await assert.rejects(store.withUser(victim, (tx) => tx.users.delete()), NotFoundError);
    await assert.rejects(store.withUser(victim, (tx) => tx.tasks.create({ title: 'after deletion' })), NotFoundError);

    const reborn = await store.withUser(victim, (tx) => tx.users.ensure());
    assert.equal(reborn.id, victim);
    const exported = await store.withUser(victim, (tx) => tx.users.export());
    assert.deepEqual([exported.tasks, exported.conversations, exported.toolCalls], [[], [], []], 'a new row starts empty');
  });

  test('delete inside a transaction that then fails is rolled back', async () => {
    const user = crypto.randomUUID();
    await populate(store, user);
    await assert.rejects(
      store.withUser(user, async (tx) => {
        await tx.users.delete();
        throw new Error('changed my mind');
      }),
      /changed my mind/,
    );
    assert.deepEqual(await countRows(db.admin, user), { users: 1, tasks: 2, conversations: 2, messages: 4, tool_calls: 1, tool_results: 1, turn_usage: 0 });
  });

  test("export contains all of the user's tasks, conversations, messages and tool calls, exactly, and nobody else's", async () => {
    const [user, other] = [crypto.randomUUID(), crypto.randomUUID()];
    await populate(store, user);
    await populate(store, other);
    const exported: UserExport = await store.withUser(user, (tx) => tx.users.export());
    assert.equal(exported.format, 'todo-chat-db/export@3');
    assert.ok(!Number.isNaN(Date.parse(exported.exportedAt)));
    assert.deepEqual(exported.user, await store.withUser(user, (tx) => tx.users.get()));

    const tasks = await store.withUser(user, (tx) => tx.tasks.list({ order: 'oldest', limit: 200 }));
    assert.equal(tasks.items.length, 2);
    assert.deepStrictEqual(exported.tasks, [...tasks.items].sort((a, b) => (a.id < b.id ? -1 : 1)), 'every task, by id');

    const conversations = await store.withUser(user, (tx) => tx.conversations.list({ limit: 200 }));
    assert.equal(exported.conversations.length, 2);
    assert.deepEqual(
      exported.conversations.map((c) => c.id).sort(),
      conversations.items.map((c) => c.id).sort(),
    );
    for (const conversation of exported.conversations) {
      const { messages, ...row } = conversation;
      assert.deepStrictEqual(row, await store.withUser(user, (tx) => tx.conversations.get(conversation.id)));
      assert.deepStrictEqual(messages, await store.withUser(user, (tx) => tx.messages.all(conversation.id)));
    }
    const withTurn = exported.conversations.find((c) => c.title === 'chat')!;
    assert.deepStrictEqual(
      withTurn.messages.map((m) => m.role),
      ['user', 'assistant', 'tool', 'assistant'],
    );
    assert.deepStrictEqual(withTurn.messages[1]!.toolCalls, [{ id: 'call_1', name: 'add_task', arguments: { title: 'milk', tags: ['food'], due: null } }]);
    assert.deepStrictEqual(exported.toolCalls, (await store.withUser(user, (tx) => tx.toolCalls.list({ limit: 200 }))).items);
    assert.deepEqual(
      exported.toolCalls.map((call) => [call.callId, call.name, call.results.map((result) => result.messageId)]),
      [['call_1', 'add_task', [withTurn.messages[2]!.id]]],
      'the call and the message that answered it',
    );

    const otherIds = new Set([
      ...(await db.admin.query('select id from todo_chat.tasks where user_id = $1', [other])).rows.map((r: { id: string }) => r.id),
      ...(await db.admin.query('select id from todo_chat.conversations where user_id = $1', [other])).rows.map((r: { id: string }) => r.id),
      ...(await db.admin.query('select id from todo_chat.messages where user_id = $1', [other])).rows.map((r: { id: string }) => r.id),
    ]);
    const json = JSON.stringify(exported);
    for (const id of otherIds) assert.ok(!json.includes(id), `export leaks ${id}`);

    const parsed = JSON.parse(json) as { tasks: { createdAt: string }[]; conversations: { messages: unknown[] }[] };
    assert.equal(parsed.tasks[0]!.createdAt, exported.tasks[0]!.createdAt.toISOString(), 'JSON-serialisable, dates as ISO strings');
    assert.equal(parsed.conversations.flatMap((c) => c.messages).length, 4);
  });

  test('export of a user without a row is a NotFoundError; of a new user it is empty', async () => {
    const id = crypto.randomUUID();
    await assert.rejects(store.withUser(id, (tx) => tx.users.export()), NotFoundError);
    await store.withUser(id, (tx) => tx.users.ensure());
    const exported = await store.withUser(id, (tx) => tx.users.export());
    assert.deepEqual([exported.user.id, exported.tasks, exported.conversations, exported.toolCalls], [id, [], [], []]);
  });
});
