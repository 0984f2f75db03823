import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, test } from 'node:test';
import { createTestDatabase } from '../helpers/db.js';
import { asUser, withoutTriggers } from '../helpers/transaction.js';
import { assertBoundedIndexReads, explainQuery } from '../helpers/plans.js';
import { countRows, snapshotRows } from '../helpers/snapshots.js';
import {
  ConflictError,
  NotFoundError,
  ValidationError,
  type Message,
  NewMessage,
  type QueryEvent,
  type Transaction,
} from '../../src/index.js';
import * as q from '../../src/queries/messages.queries.js';

const db = await createTestDatabase();
const store = db.store();

const newUser = () => db.createUser();

async function newConversation(user: string): Promise<string> {
  return (await store.withUser(user, (tx) => tx.conversations.create())).id;
}

/** Tool-call arguments that exercise every JSON shape jsonb must give back unchanged. */
const NASTY_ARGUMENTS = {
  title: 'Buy "milk" \\ eggs\n\ttab',
  unicode: 'café 日本語 😀 \u2028 \u00a0',
  empty: {},
  emptyList: [],
  nested: { deep: { deeper: [1, [2, [3, { x: null }]]] } },
  numbers: [0, -1, 1.5, 0.1, 1e21, 1e-7, 123456789012345680000, Number.MAX_SAFE_INTEGER, -2.5e-300, 5e-324],
  flags: [true, false, null],
  'key with spaces': 'v',
  '': 'empty key',
  __proto__key: 'not special',
  long: 'x'.repeat(2000),
};

/** One realistic turn: a question, k tool calls, their results, an answer. */
function turn(index: number, calls: number): NewMessage[] {
  const ids = Array.from({ length: calls }, (_, c) => `call_${index}_${c}`);
  const messages: NewMessage[] = [{ role: 'user', content: `question ${index}` }];
  if (calls > 0) {
    messages.push({
      role: 'assistant',
      content: '',
      toolCalls: ids.map((id, c) => ({ id, name: c % 2 ? 'list_tasks' : 'add_task', arguments: { n: index, c } })),
    });
    for (const id of ids) messages.push({ role: 'tool', toolCallId: id, content: `result of ${id}` });
  }
  messages.push({ role: 'assistant', content: `answer ${index}` });
  return messages;
}

describe('messages: append, appendTurn, all', () => {
  test('append stores one message and returns it; all() reconstructs the conversation', async () => {
    const user = await newUser();
    const conversation = await newConversation(user);
    const system = await store.withUser(user, (tx) => tx.messages.append(conversation, { role: 'system', content: 'You are a todo assistant.' }));
    assert.equal(system.role, 'system');
    assert.equal(system.content, 'You are a todo assistant.');
    assert.equal(system.conversationId, conversation);
    assert.equal(system.toolCalls, null);
    assert.equal(system.toolCallId, null);
    assert.equal(system.position, 1, 'the first message of a conversation is at position 1');
    assert.equal(system.format, 'chat');
    assert.equal(system.item, null);
    const userMessage = await store.withUser(user, (tx) => tx.messages.append(conversation, { role: 'user', content: 'hi' }));
    const id = crypto.randomUUID();
    const answer = await store.withUser(user, (tx) => tx.messages.append(conversation, { id, role: 'assistant' }));
    assert.equal(answer.id, id);
    assert.equal(answer.content, '', 'assistant content defaults to empty');
    const all = await store.withUser(user, (tx) => tx.messages.all(conversation));
    assert.deepEqual(all, [system, userMessage, answer]);
  });

  test('a whole turn with tool calls is stored in the order given and read back exactly', async () => {
    const user = await newUser();
    const conversation = await newConversation(user);
    const messages: NewMessage[] = [
      { role: 'user', content: 'Add "milk" and list my tasks' },
      {
        role: 'assistant',
        content: 'Let me do that.',
        toolCalls: [
          { id: 'call_a', name: 'add_task', arguments: NASTY_ARGUMENTS },
          { id: 'call_b', name: 'tasks.list:v2-beta', arguments: {} },
        ],
      },
      { role: 'tool', toolCallId: 'call_b', content: '[]' },
      { role: 'tool', toolCallId: 'call_a', content: '{"id":"t1"}' },
      { role: 'assistant', content: 'Added milk; you have no other tasks.' },
    ];
    const written = await store.withUser(user, (tx) => tx.messages.appendTurn(conversation, messages));
    const given = messages as { role: string; content?: string; toolCallId?: string }[];
    assert.deepEqual(
      written.map((m) => [m.role, m.content, m.toolCallId]),
      given.map((m) => [m.role, m.content ?? '', m.role === 'tool' ? m.toolCallId : null]),
    );
    assert.deepEqual(written.map((m) => m.position), [1, 2, 3, 4, 5], 'positions follow the array, without gaps');
    assert.deepStrictEqual(written[1]!.toolCalls, (messages[1] as { toolCalls: unknown }).toolCalls, 'returned tool calls are exact');
    const all = await store.withUser(user, (tx) => tx.messages.all(conversation));
    assert.deepStrictEqual(all, written);
    assert.deepStrictEqual(all[1]!.toolCalls![0]!.arguments, NASTY_ARGUMENTS);
    const history = await store.withUser(user, (tx) => tx.messages.history(conversation));
    assert.deepStrictEqual(history.items, written);
    const stored = await db.admin.query('select tool_calls from todo_chat.messages where id = $1', [written[1]!.id]);
    assert.deepStrictEqual(stored.rows[0].tool_calls, (messages[1] as { toolCalls: unknown }).toolCalls, 'stored as the same JSON');
  });

  test('messages written in one transaction, even in the same millisecond, come back in insertion order', async () => {
    const user = await newUser();
    const conversation = await newConversation(user);
    const expected: string[] = [];
    await store.withUser(user, async (tx) => {
      for (let i = 0; i < 40; i++) {
        await tx.messages.append(conversation, { role: i % 2 ? 'assistant' : 'user', content: `m${i}` });
        expected.push(`m${i}`);
        if (i % 10 === 9) {
          const batch = Array.from({ length: 5 }, (_, j) => ({ role: 'user' as const, content: `m${i}.${j}` }));
          await tx.messages.appendTurn(conversation, batch);
          expected.push(...batch.map((m) => m.content));
        }
      }
    });
    const all = await store.withUser(user, (tx) => tx.messages.all(conversation));
    assert.deepEqual(all.map((m) => m.content), expected);
    assert.equal(new Set(all.map((m) => m.createdAt.getTime())).size, 1, 'one transaction: every created_at is the same');
    const sortedById = [...all].sort((a, b) => (a.id < b.id ? -1 : 1)).map((m) => m.content);
    assert.notDeepEqual(sortedById, expected, 'order does not come from the (random) ids');
    const history = await store.withUser(user, (tx) => tx.messages.history(conversation, { limit: 500 }));
    assert.deepEqual(history.items.map((m) => m.content), expected);
  });

  test('appendTurn with one zod-invalid message writes nothing and runs no query', async () => {
    const user = await newUser();
    const conversation = await newConversation(user);
    await withoutTriggers(db.admin, "update todo_chat.conversations set updated_at = '2005-05-05T00:00:00Z' where id = $1", [conversation]);
    const before = await snapshotRows(db.admin, [user]);
    const events: QueryEvent[] = [];
    const observed = db.store({ onQuery: (event) => events.push(event) });
    const invalid: unknown[][] = [
      [...turn(1, 1).slice(0, 2), { role: 'tool', toolCallId: 'call_1_0', content: 'x'.repeat(10_001) }, { role: 'assistant', content: 'done' }],
      [{ role: 'user', content: 'ok' }, { role: 'robot', content: 'beep' }],
      [{ role: 'user', content: 'ok' }, { role: 'tool', content: 'no call id' }],
      [{ role: 'user', content: 'ok' }, { role: 'user', content: 'tool calls on a user message', toolCalls: [] }],
      [{ role: 'user', content: 'ok' }, { role: 'assistant', toolCalls: [{ id: 'c', name: 'bad name!', arguments: {} }] }],
      [{ role: 'user', content: 'ok' }, { role: 'assistant', toolCalls: [{ id: 'c', name: 'x', arguments: [] }] }],
      [{ role: 'user', content: 'ok' }, { role: 'assistant', toolCalls: [{ id: 'c', name: 'x', arguments: {} }, { id: 'c', name: 'y', arguments: {} }] }],
      [{ role: 'user', content: 'ok' }, { role: 'user', content: 'nul \u0000' }],
      [],
      Array.from({ length: 101 }, () => ({ role: 'user', content: 'too many' })),
    ];
    for (const messages of invalid) {
      await assert.rejects(
        observed.withUser(user, (tx) => tx.messages.appendTurn(conversation, messages as NewMessage[])),
        (error: unknown) => error instanceof ValidationError && error.issues.length > 0 && error.sqlState === undefined,
        JSON.stringify(messages).slice(0, 200),
      );
    }
    const [first] = invalid;
    await assert.rejects(
      observed.withUser(user, (tx) => tx.messages.appendTurn(conversation, first as NewMessage[])),
      (error: unknown) => error instanceof ValidationError && error.issues[0]!.path.join('.') === '2.content',
    );
    assert.deepEqual(events, [], 'validation happens before any query');
    assert.deepEqual(await snapshotRows(db.admin, [user]), before, 'nothing written, updated_at untouched');
  });

  test('appendTurn refused by the database alone (a tool result answering no call) writes nothing', async () => {
    const user = await newUser();
    const [conversation, elsewhere] = [await newConversation(user), await newConversation(user)];
    await store.withUser(user, (tx) => tx.messages.appendTurn(elsewhere, turn(1, 1)));
    await withoutTriggers(db.admin, "update todo_chat.conversations set updated_at = '2005-05-05T00:00:00Z' where id = $1", [conversation]);
    await store.withUser(user, (tx) => tx.messages.append(conversation, { role: 'user', content: 'existing' }));
    await withoutTriggers(db.admin, "update todo_chat.conversations set updated_at = '2005-05-05T00:00:00Z' where id = $1", [conversation]);
    const before = await snapshotRows(db.admin, [user]);
    const refused: [string, NewMessage[]][] = [
      ['answers a call that does not exist', [...turn(2, 2).slice(0, 3), { role: 'tool', toolCallId: 'call_missing', content: '?' }, { role: 'assistant', content: 'x' }]],
      ['answers a call of another conversation', [{ role: 'user', content: 'q' }, { role: 'tool', toolCallId: 'call_1_0', content: 'stolen' }]],
      ['answers a call made later in the same turn', [{ role: 'tool', toolCallId: 'later', content: 'early' }, { role: 'assistant', toolCalls: [{ id: 'later', name: 'x', arguments: {} }] }]],
    ];
    for (const [name, messages] of refused) {
      assert.equal(messages.every((message) => NewMessage.safeParse(message).success), true, `${name}: zod accepts it, only the database can refuse it`);
      await assert.rejects(
        store.withUser(user, (tx) => tx.messages.appendTurn(conversation, messages)),
        (error: unknown) => error instanceof ValidationError && error.constraint === 'tool_results_answers_call' && error.sqlState === '23514',
        name,
      );
    }
    const duplicateId = crypto.randomUUID();
    await assert.rejects(
      store.withUser(user, (tx) =>
        tx.messages.appendTurn(conversation, [
          { id: duplicateId, role: 'user', content: 'a' },
          { id: duplicateId, role: 'assistant', content: 'b' },
        ]),
      ),
      (error: unknown) => error instanceof ValidationError && /appears twice in one append/.test(error.message),
      'one id twice in one append',
    );
    const existing = (await store.withUser(user, (tx) => tx.messages.all(conversation)))[0]!;
    await assert.rejects(
      store.withUser(user, (tx) => tx.messages.append(conversation, { id: existing.id, role: 'user', content: 'not the same' })),
      ConflictError,
      'an id already stored with other content',
    );
    assert.deepEqual(await snapshotRows(db.admin, [user]), before, 'nothing written, updated_at untouched');
  });

  test('an empty conversation has no messages; an unknown one is a NotFoundError', async () => {
    const user = await newUser();
    const conversation = await newConversation(user);
    assert.deepEqual(await store.withUser(user, (tx) => tx.messages.all(conversation)), []);
    assert.deepEqual(await store.withUser(user, (tx) => tx.messages.history(conversation)), { items: [], before: null, startsMidTurn: false });
    const unknown = crypto.randomUUID();
    const calls: [string, (tx: Transaction) => Promise<unknown>][] = [
      ['all', (tx) => tx.messages.all(unknown)],
      ['history', (tx) => tx.messages.history(unknown)],
      ['append', (tx) => tx.messages.append(unknown, { role: 'user', content: 'x' })],
      ['appendTurn', (tx) => tx.messages.appendTurn(unknown, [{ role: 'user', content: 'x' }])],
    ];
    for (const [name, call] of calls) {
      await assert.rejects(store.withUser(user, call), (error: unknown) => error instanceof NotFoundError && error.entity === 'conversation', name);
    }
  });
});

describe("messages: another user's conversation", () => {
  test('append, appendTurn, history and all are NotFoundError and write nothing', async () => {
    const [owner, intruder] = await db.createUsers(2);
    const conversation = await newConversation(owner!);
    await store.withUser(owner!, (tx) => tx.messages.appendTurn(conversation, turn(1, 2)));
    const page = await store.withUser(owner!, (tx) => tx.messages.history(conversation, { limit: 2 }));
    assert.ok(page.before);
    const before = await snapshotRows(db.admin, [owner!, intruder!]);
    const attempts: [string, (tx: Transaction) => Promise<unknown>][] = [
      ['append', (tx) => tx.messages.append(conversation, { role: 'user', content: 'injected' })],
      ['appendTurn', (tx) => tx.messages.appendTurn(conversation, [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }])],
      ['appendTurn answering their call', (tx) => tx.messages.appendTurn(conversation, [{ role: 'tool', toolCallId: 'call_1_0', content: 'x' }])],
      ['history', (tx) => tx.messages.history(conversation)],
      ['history with their cursor', (tx) => tx.messages.history(conversation, { before: page.before! })],
      ['all', (tx) => tx.messages.all(conversation)],
    ];
    for (const [name, attempt] of attempts) {
      await assert.rejects(
        store.withUser(intruder!, attempt),
        (error: unknown) => error instanceof NotFoundError && error.entity === 'conversation',
        name,
      );
    }
    assert.deepEqual(await store.withUser(intruder!, (tx) => tx.messages.search('question')), []);
    assert.deepEqual(await snapshotRows(db.admin, [owner!, intruder!]), before, 'nothing changed');
  });
});

describe('messages: history pages', async () => {
  const user = await newUser();
  const conversation = await newConversation(user);
  // 30 turns with 0..4 tool calls each, so that page boundaries fall
  // everywhere, including inside runs of tool results.
  await store.withUser(user, async (tx) => {
    await tx.messages.append(conversation, { role: 'system', content: 'system prompt' });
    for (let i = 0; i < 30; i++) await tx.messages.appendTurn(conversation, turn(i, (i * 7) % 5));
  });
  const all = await store.withUser(user, (tx) => tx.messages.all(conversation));

  test('the first page is the latest `limit` messages, oldest first', async () => {
    const page = await store.withUser(user, (tx) => tx.messages.history(conversation, { limit: 5 }));
    assert.equal(all.at(-1)!.content, 'answer 29');
    assert.deepEqual(page.items.slice(-5), all.slice(-5));
    assert.ok(page.before);
    const defaults = await store.withUser(user, (tx) => tx.messages.history(conversation));
    assert.deepEqual(defaults.items.slice(-50), all.slice(-50), 'default limit 50');
  });

  for (const limit of [1, 2, 3, 4, 5, 7, 11, 50, 500]) {
    test(`limit ${limit}: walking back with \`before\` returns every message once, no page starts with an orphaned tool result`, async () => {
      const pages: Message[][] = [];
      let before: string | undefined;
      let remaining = all.length;
      for (;;) {
        const page = await store.withUser(user, (tx) => tx.messages.history(conversation, { limit, ...(before ? { before } : {}) }));
        assert.ok(page.items.length > 0, 'no empty page');
        // The newest `limit` messages of what is left are always on the page...
        const window = all.slice(Math.max(0, remaining - limit), remaining);
        assert.deepEqual(page.items.slice(-window.length), window);
        // ...and anything more is only the start of the turn, pulled in so that no result lacks its call.
        if (page.items.length > window.length) {
          assert.equal(window[0]!.role, 'tool', 'a page grows only when it would start with a tool result');
          assert.ok(page.items.slice(1, page.items.length - window.length).every((m) => m.role === 'tool'));
        }
        assert.notEqual(page.items[0]!.role, 'tool', 'a page never starts with a tool result');
        for (const [index, message] of page.items.entries()) {
          if (message.role !== 'tool') continue;
          const call = page.items.slice(0, index).find((m) => m.toolCalls?.some((c) => c.id === message.toolCallId));
          assert.ok(call, `the call of ${message.toolCallId} is on the same page`);
        }
        pages.push(page.items);
        remaining -= page.items.length;
        if (page.before === null) break;
        before = page.before;
        assert.ok(pages.length <= all.length, 'the walk ends');
      }
      assert.equal(remaining, 0, 'the last page reaches the first message');
      const walked = pages.reverse().flat();
      assert.equal(new Set(walked.map((m) => m.id)).size, walked.length, 'no duplicate');
      assert.deepEqual(walked, all, 'no gap, in order');
    });
  }

  test('a history cursor belongs to its conversation; tampered or empty cursors are refused', async () => {
    const other = await newConversation(user);
    await store.withUser(user, (tx) => tx.messages.appendTurn(other, turn(99, 0)));
    const page = await store.withUser(user, (tx) => tx.messages.history(conversation, { limit: 3 }));
    await assert.rejects(store.withUser(user, (tx) => tx.messages.history(other, { before: page.before! })), ValidationError);
    const forged = Buffer.from(JSON.stringify([`history:${conversation}`, '1; drop table'])).toString('base64url');
    for (const before of ['', 'x', forged]) {
      await assert.rejects(store.withUser(user, (tx) => tx.messages.history(conversation, { before })), ValidationError, before);
    }
    for (const limit of [0, 501, 2.5]) {
      await assert.rejects(store.withUser(user, (tx) => tx.messages.history(conversation, { limit })), ValidationError, String(limit));
    }
  });
});

describe('messages: search', async () => {
  const [alice, bob] = await db.createUsers(2);
  const [shopping, errands] = [await newConversation(alice!), await newConversation(alice!)];
  const bobs = await newConversation(bob!);
  await store.withUser(alice!, async (tx) => {
    await tx.messages.appendTurn(shopping, [
      { role: 'user', content: 'Groceries, groceries, groceries: the party needs groceries' },
      { role: 'assistant', content: 'I added groceries.', toolCalls: [{ id: 'c1', name: 'add_task', arguments: { title: 'groceries' } }] },
      { role: 'tool', toolCallId: 'c1', content: 'created' },
      { role: 'user', content: 'Also remind me about the dentist' },
    ]);
    await tx.messages.appendTurn(errands, [{ role: 'user', content: 'Pick up a grocery bag on the way home, among many other errands today' }]);
  });
  await store.withUser(bob!, (tx) => tx.messages.append(bobs, { role: 'user', content: 'groceries groceries groceries groceries' }));

  test('finds the current user\'s messages, best match first, stemmed', async () => {
    const hits = await store.withUser(alice!, (tx) => tx.messages.search('groceries'));
    assert.equal(hits[0]!.message.content, 'Groceries, groceries, groceries: the party needs groceries', 'four matches rank first');
    assert.deepEqual(
      hits.slice(1).map((hit) => hit.message.content).sort(),
      ['I added groceries.', 'Pick up a grocery bag on the way home, among many other errands today'],
      'one match each, stemmed ("grocery"), and nothing else',
    );
    for (let i = 1; i < hits.length; i++) assert.ok(hits[i - 1]!.rank >= hits[i]!.rank, 'ranked');
    assert.ok(hits[0]!.rank > hits[2]!.rank, 'more matches rank higher');
    assert.ok(hits.every((hit) => typeof hit.rank === 'number' && hit.rank > 0));
    const withCall = hits.find((hit) => hit.message.content === 'I added groceries.');
    assert.deepStrictEqual(withCall?.message.toolCalls, [{ id: 'c1', name: 'add_task', arguments: { title: 'groceries' } }]);
    const all = await store.withUser(alice!, (tx) => tx.messages.all(shopping));
    assert.deepStrictEqual(hits[0]!.message, all[0]);
  });

  test('is restricted to one conversation when asked, and by the limit', async () => {
    const inShopping = await store.withUser(alice!, (tx) => tx.messages.search('groceries', { conversationId: shopping }));
    assert.deepEqual(inShopping.map((hit) => hit.message.conversationId), [shopping, shopping]);
    const inErrands = await store.withUser(alice!, (tx) => tx.messages.search('grocery', { conversationId: errands }));
    assert.equal(inErrands.length, 1);
    const one = await store.withUser(alice!, (tx) => tx.messages.search('groceries', { limit: 1 }));
    assert.equal(one.length, 1);
    assert.equal(one[0]!.message.content, 'Groceries, groceries, groceries: the party needs groceries');
    const inBobs = await store.withUser(alice!, (tx) => tx.messages.search('groceries', { conversationId: bobs }));
    assert.deepEqual(inBobs, [], "another user's conversation yields nothing");
  });

  test("never returns another user's messages", async () => {
    const hits = await store.withUser(bob!, (tx) => tx.messages.search('groceries dentist OR groceries'));
    assert.deepEqual(hits.map((hit) => hit.message.conversationId), [bobs]);
  });

  test('web-search syntax: phrases, OR, exclusion; no match is an empty list', async () => {
    const phrase = await store.withUser(alice!, (tx) => tx.messages.search('"remind me"'));
    assert.deepEqual(phrase.map((hit) => hit.message.content), ['Also remind me about the dentist']);
    const either = await store.withUser(alice!, (tx) => tx.messages.search('dentist or errands'));
    assert.equal(either.length, 2);
    const excluded = await store.withUser(alice!, (tx) => tx.messages.search('groceries -party'));
    assert.ok(excluded.length === 2 && excluded.every((hit) => !hit.message.content.includes('party')));
    assert.deepEqual(await store.withUser(alice!, (tx) => tx.messages.search('zebra')), []);
    assert.deepEqual(await store.withUser(alice!, (tx) => tx.messages.search('the')), [], 'only stop words');
  });

  test('refuses an empty or over-long query and bad options', async () => {
    for (const [query, options] of [
      ['', {}],
      ['   ', {}],
      ['x'.repeat(501), {}],
      ['ok', { limit: 0 }],
      ['ok', { limit: 201 }],
      ['ok', { conversationId: 'nope' }],
      ['ok', { other: true }],
    ] as const) {
      await assert.rejects(store.withUser(alice!, (tx) => tx.messages.search(query, options as never)), ValidationError, query.slice(0, 20));
    }
    assert.ok(Array.isArray(await store.withUser(alice!, (tx) => tx.messages.search('x'.repeat(500)))));
  });
});

describe('messages: query plans under row-level security', async () => {
  // A database of its own: the planner's estimates depend on the statistics of
  // the whole table, which the other suites of this file keep changing.
  const plans = await createTestDatabase();
  const planStore = plans.store();
  const [user, ...others] = await plans.createUsers(6);
  const big = (await planStore.withUser(user!, (tx) => tx.conversations.create())).id;
  // One long conversation among many others: 3,000 messages in it, 100 in each of 50 more.
  await plans.admin.query(
    `insert into todo_chat.messages (user_id, conversation_id, id, position, role, content)
     select $1, $2, 'm' || g, g, case when g % 2 = 0 then 'user' else 'assistant' end, 'message ' || g
     from generate_series(1, 3000) as g`,
    [user, big],
  );
  await plans.admin.query('update todo_chat.conversations set last_position = 3000 where id = $1', [big]);
  await plans.admin.query(
    `with c as (
       insert into todo_chat.conversations (user_id, last_position)
       select u, 100 from unnest($1::uuid[]) as u, generate_series(1, 10) returning user_id, id
     )
     insert into todo_chat.messages (user_id, conversation_id, id, position, role, content)
     select c.user_id, c.id, 'm' || g, g, 'user', 'filler ' || g from c, generate_series(1, 100) as g`,
    [others],
  );
  await plans.admin.query('vacuum analyze todo_chat.messages');

  async function assertPositionScans(name: string, params: { before: number | null; limit: number }): Promise<void> {
    await asUser(plans.admin, user!, async (client) => {
      const plan = await explainQuery(client, q.listHistory, { userId: user!, conversationId: big, extra: 500 - params.limit, ...params });
      assertBoundedIndexReads(plan, { name, relation: 'messages', indexes: ['messages_position_key'] });
    });
  }

  test('the latest page of history reads a bounded range of messages_position_key, never the conversation', async () => {
    await assertPositionScans('ListHistory (newest page)', { before: null, limit: 50 });
  });

  test('an older page of history reads a bounded range of the index too', async () => {
    await assertPositionScans('ListHistory (older page)', { before: 1500, limit: 50 });
  });

  test('the long conversation pages correctly through the API', async () => {
    const page = await planStore.withUser(user!, (tx) => tx.messages.history(big, { limit: 3 }));
    assert.deepEqual(page.items.map((m) => m.content), ['message 2998', 'message 2999', 'message 3000']);
    const next = await planStore.withUser(user!, (tx) => tx.messages.history(big, { limit: 2, before: page.before! }));
    assert.deepEqual(next.items.map((m) => m.content), ['message 2996', 'message 2997']);
    const counts = await countRows(plans.admin, user!);
    assert.equal(counts.messages, 3000);
  });
});
