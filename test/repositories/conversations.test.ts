import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, test } from 'node:test';
import { createTestDatabase } from '../helpers/db.js';
import { asUser, withoutTriggers } from '../helpers/transaction.js';
import { assertOrderedIndexScan, explainQuery } from '../helpers/plans.js';
import { snapshotRows } from '../helpers/snapshots.js';
import { NotFoundError, ValidationError, type Conversation, type ListConversationsOptions, type Transaction } from '../../src/index.js';
import * as q from '../../src/queries/conversations.queries.js';

const db = await createTestDatabase();
const store = db.store();

const newUser = () => db.createUser();

describe('conversations: create, get, rename, archive, delete', () => {
  test('create with no input: untitled and active', async () => {
    const user = await newUser();
    const created = await store.withUser(user, (tx) => tx.conversations.create());
    assert.equal(created.title, null);
    assert.equal(created.status, 'active');
    assert.equal(created.version, 1);
    assert.ok(created.createdAt instanceof Date);
    assert.equal(created.updatedAt.getTime(), created.createdAt.getTime());
    assert.deepEqual(await store.withUser(user, (tx) => tx.conversations.get(created.id)), created);
  });

  test('create with a title (trimmed) and a caller-chosen id', async () => {
    const user = await newUser();
    const id = crypto.randomUUID();
    const created = await store.withUser(user, (tx) => tx.conversations.create({ id, title: '\tWeekly plan ' }));
    assert.equal(created.id, id);
    assert.equal(created.title, 'Weekly plan');
    const stored = await db.admin.query('select user_id, title, status from todo_chat.conversations where id = $1', [id]);
    assert.deepEqual(stored.rows, [{ user_id: user, title: 'Weekly plan', status: 'active' }]);
    const untitled = await store.withUser(user, (tx) => tx.conversations.create({ title: null }));
    assert.equal(untitled.title, null);
  });

  test('create refuses bad input and a missing user row', async () => {
    const user = await newUser();
    for (const input of [{ title: '' }, { title: '   ' }, { title: 5 }, { status: 'archived' }, { id: 'x' }]) {
      await assert.rejects(store.withUser(user, (tx) => tx.conversations.create(input as never)), ValidationError, JSON.stringify(input));
    }
    await assert.rejects(
      store.withUser(crypto.randomUUID(), (tx) => tx.conversations.create()),
      (error: unknown) => error instanceof NotFoundError && error.entity === 'user',
    );
  });

  test('rename sets and removes the title and bumps the version', async () => {
    const user = await newUser();
    const conversation = await store.withUser(user, (tx) => tx.conversations.create({ title: 'first' }));
    const renamed = await store.withUser(user, (tx) => tx.conversations.rename(conversation.id, ' second '));
    assert.equal(renamed.title, 'second');
    assert.equal(renamed.version, 2);
    const cleared = await store.withUser(user, (tx) => tx.conversations.rename(conversation.id, null));
    assert.equal(cleared.title, null);
    assert.equal(cleared.version, 3);
    await assert.rejects(store.withUser(user, (tx) => tx.conversations.rename(conversation.id, ' ')), ValidationError);
    assert.deepEqual(await store.withUser(user, (tx) => tx.conversations.get(conversation.id)), cleared);
  });

  test('archive and unarchive', async () => {
    const user = await newUser();
    const conversation = await store.withUser(user, (tx) => tx.conversations.create({ title: 'to archive' }));
    const archived = await store.withUser(user, (tx) => tx.conversations.archive(conversation.id));
    assert.equal(archived.status, 'archived');
    assert.equal(archived.title, 'to archive');
    const again = await store.withUser(user, (tx) => tx.conversations.archive(conversation.id));
    assert.equal(again.status, 'archived', 'archiving twice is harmless');
    const active = await store.withUser(user, (tx) => tx.conversations.unarchive(conversation.id));
    assert.equal(active.status, 'active');
    const stored = await db.admin.query('select status from todo_chat.conversations where id = $1', [conversation.id]);
    assert.equal(stored.rows[0].status, 'active');
  });

  test('delete removes the conversation and all of its messages, and only them', async () => {
    const user = await newUser();
    const [doomed, kept] = await store.withUser(user, async (tx) => [await tx.conversations.create(), await tx.conversations.create()]);
    await store.withUser(user, async (tx) => {
      for (const conversation of [doomed!, kept!]) {
        await tx.messages.appendTurn(conversation.id, [
          { role: 'user', content: 'add a task' },
          { role: 'assistant', toolCalls: [{ id: 'call_1', name: 'add_task', arguments: { title: 'x' } }] },
          { role: 'tool', toolCallId: 'call_1', content: '{"ok":true}' },
          { role: 'assistant', content: 'done' },
        ]);
      }
    });
    await store.withUser(user, (tx) => tx.conversations.delete(doomed!.id));
    const counts = await db.admin.query(
      'select conversation_id, count(*)::int as n from todo_chat.messages where user_id = $1 group by conversation_id',
      [user],
    );
    assert.deepEqual(counts.rows, [{ conversation_id: kept!.id, n: 4 }]);
    await assert.rejects(store.withUser(user, (tx) => tx.conversations.get(doomed!.id)), NotFoundError);
    await assert.rejects(store.withUser(user, (tx) => tx.messages.all(doomed!.id)), NotFoundError);
    await assert.rejects(
      store.withUser(user, (tx) => tx.conversations.delete(doomed!.id)),
      (error: unknown) => error instanceof NotFoundError && error.entity === 'conversation' && error.id === doomed!.id,
    );
  });

  test('appending a message touches updatedAt (without counting as an edit) and moves the conversation to the top', async () => {
    const user = await newUser();
    const [older, newer] = await store.withUser(user, async (tx) => [await tx.conversations.create({ title: 'older' }), await tx.conversations.create({ title: 'newer' })]);
    await withoutTriggers(db.admin, "update todo_chat.conversations set updated_at = '2003-03-03T00:00:00Z' where id = $1", [older!.id]);
    await withoutTriggers(db.admin, "update todo_chat.conversations set updated_at = '2004-04-04T00:00:00Z' where id = $1", [newer!.id]);
    const before = await store.withUser(user, (tx) => tx.conversations.list());
    assert.deepEqual(before.items.map((c) => c.title), ['newer', 'older']);

    await store.withUser(user, (tx) => tx.messages.append(older!.id, { role: 'user', content: 'bump' }));
    const touched = await store.withUser(user, (tx) => tx.conversations.get(older!.id));
    assert.ok(touched.updatedAt.getTime() > Date.parse('2004-04-04T00:00:00Z'), `updatedAt ${touched.updatedAt.toISOString()}`);
    assert.equal(touched.version, older!.version, 'a new message is not an edit of the conversation');
    const after = await store.withUser(user, (tx) => tx.conversations.list());
    assert.deepEqual(after.items.map((c) => c.title), ['older', 'newer']);

    // appendTurn touches it too.
    await withoutTriggers(db.admin, "update todo_chat.conversations set updated_at = '2003-03-03T00:00:00Z' where id = $1", [older!.id]);
    await store.withUser(user, (tx) => tx.messages.appendTurn(older!.id, [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }]));
    const again = await store.withUser(user, (tx) => tx.conversations.get(older!.id));
    assert.ok(again.updatedAt.getTime() > Date.parse('2004-04-04T00:00:00Z'));
  });
});

describe("conversations: another user's ids", () => {
  test('get, rename, archive, unarchive and delete are NotFoundError and change nothing', async () => {
    const [owner, intruder] = await db.createUsers(2);
    const conversation = await store.withUser(owner!, async (tx) => {
      const c = await tx.conversations.create({ title: 'private' });
      await tx.messages.append(c.id, { role: 'user', content: 'secret' });
      return tx.conversations.get(c.id);
    });
    const before = await snapshotRows(db.admin, [owner!, intruder!]);
    const attempts: [string, (tx: Transaction) => Promise<unknown>][] = [
      ['get', (tx) => tx.conversations.get(conversation.id)],
      ['rename', (tx) => tx.conversations.rename(conversation.id, 'hijacked')],
      ['rename to null', (tx) => tx.conversations.rename(conversation.id, null)],
      ['archive', (tx) => tx.conversations.archive(conversation.id)],
      ['unarchive', (tx) => tx.conversations.unarchive(conversation.id)],
      ['delete', (tx) => tx.conversations.delete(conversation.id)],
    ];
    for (const [name, attempt] of attempts) {
      await assert.rejects(
        store.withUser(intruder!, attempt),
        (error: unknown) => error instanceof NotFoundError && error.entity === 'conversation' && error.id === conversation.id,
        name,
      );
    }
    assert.deepEqual((await store.withUser(intruder!, (tx) => tx.conversations.list())).items, []);
    assert.deepEqual(await snapshotRows(db.admin, [owner!, intruder!]), before, 'nothing changed');
    assert.deepEqual(await store.withUser(owner!, (tx) => tx.conversations.get(conversation.id)), conversation);
  });
});

describe('conversations: keyset pagination', async () => {
  const user = await newUser();
  const others = await db.createUsers(9);
  // 300 conversations whose updated_at collide in groups of 6 (one group of
  // 40), a third archived, plus other users' conversations around them.
  await db.admin.query(
    `insert into todo_chat.conversations (user_id, title, status, created_at, updated_at)
     select $1, 'conversation ' || g, case when g % 3 = 0 then 'archived' else 'active' end,
       timestamptz '2024-01-01T00:00:00Z',
       case when g <= 40 then timestamptz '2024-06-01T00:00:00Z'
            else timestamptz '2024-01-01T00:00:00Z' + (g / 6) * interval '1 millisecond' end
     from generate_series(1, 300) as g`,
    [user],
  );
  await db.admin.query(
    `insert into todo_chat.conversations (user_id, title, created_at, updated_at)
     select u, 'other ' || g, timestamptz '2024-01-01T00:00:00Z', timestamptz '2024-01-01T00:00:00Z' + (g / 3) * interval '1 millisecond'
     from unnest($1::uuid[]) as u, generate_series(1, 300) as g`,
    [others],
  );
  await db.admin.query('analyze todo_chat.conversations');
  const rows = (await db.admin.query<{ id: string; updated_at: Date; status: string }>(
    'select id, updated_at, status from todo_chat.conversations where user_id = $1',
    [user],
  )).rows;
  const newestFirst = rows.sort((a, b) => b.updated_at.getTime() - a.updated_at.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));

  async function walk(options: Omit<ListConversationsOptions, 'cursor'>): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | undefined;
    for (let pages = 1; ; pages++) {
      const page = await store.withUser(user, (tx) => tx.conversations.list({ ...options, ...(cursor ? { cursor } : {}) }));
      ids.push(...page.items.map((c: Conversation) => c.id));
      if (page.nextCursor === null) break;
      assert.equal(page.items.length, options.limit);
      cursor = page.nextCursor;
      assert.ok(pages < 1000);
    }
    return ids;
  }

  for (const status of [undefined, 'active', 'archived'] as const) {
    test(`status ${status ?? 'any'}: every conversation exactly once, most recently updated first`, async () => {
      const expected = newestFirst.filter((row) => status === undefined || row.status === status).map((row) => row.id);
      const ids = await walk({ limit: 7, ...(status ? { status } : {}) });
      assert.equal(new Set(ids).size, ids.length, 'no duplicate');
      assert.deepEqual(ids, expected, 'no gap, in (updated_at, id) descending order');
    });
  }

  test('default page size is 50; limits and cursors are validated', async () => {
    const page = await store.withUser(user, (tx) => tx.conversations.list());
    assert.equal(page.items.length, 50);
    assert.deepEqual(page.items.map((c) => c.id), newestFirst.slice(0, 50).map((row) => row.id));
    for (const options of [{ limit: 0 }, { limit: 201 }, { status: 'deleted' }, { cursor: '' }, { cursor: 'nonsense' }]) {
      await assert.rejects(store.withUser(user, (tx) => tx.conversations.list(options as never)), ValidationError, JSON.stringify(options));
    }
    await assert.rejects(
      store.withUser(user, (tx) => tx.conversations.list({ status: 'archived', cursor: page.nextCursor! })),
      ValidationError,
      'a cursor of the unfiltered list is refused by the filtered one',
    );
  });

  test('a conversation touched while paging moves to the front and is not repeated on later pages', async () => {
    const first = await store.withUser(user, (tx) => tx.conversations.list({ limit: 10 }));
    const seen = new Set(first.items.map((c) => c.id));
    // Touch a conversation that the first page already returned.
    await store.withUser(user, (tx) => tx.messages.append(first.items[5]!.id, { role: 'user', content: 'touch' }));
    let cursor = first.nextCursor;
    while (cursor) {
      const page = await store.withUser(user, (tx) => tx.conversations.list({ limit: 50, cursor: cursor! }));
      for (const c of page.items) {
        assert.ok(!seen.has(c.id), `${c.id} repeated`);
        seen.add(c.id);
      }
      cursor = page.nextCursor;
    }
    assert.equal(seen.size, 300);
    const top = await store.withUser(user, (tx) => tx.conversations.list({ limit: 1 }));
    assert.equal(top.items[0]!.id, first.items[5]!.id);
  });

  test('EXPLAIN: listing conversations is an index scan without a sort, under row-level security', async () => {
    await asUser(db.admin, user, async (client) => {
      const cases = [
        ['ListConversations', q.listConversations, { userId: user, cursorAt: 'infinity', cursorId: 'ffffffff-ffff-ffff-ffff-ffffffffffff', limit: 51 }, 'conversations_user_updated_idx'],
        ['ListConversationsByStatus', q.listConversationsByStatus, { userId: user, status: 'active', cursorAt: 'infinity', cursorId: 'ffffffff-ffff-ffff-ffff-ffffffffffff', limit: 51 }, 'conversations_user_status_updated_idx'],
      ] as const;
      for (const [name, query, params, index] of cases) {
        const plan = await explainQuery(client, query as never, params as never);
        // The status index, or the plain one read in order with status as a filter: either is sort-free and stops at the limit.
        assertOrderedIndexScan(plan, {
          name,
          relation: 'conversations',
          indexes: [index, 'conversations_user_updated_idx'],
          direction: 'Backward',
        });
      }
    });
  });
});
