/**
 * Callers' ids and positions. A message id is the caller's (unique within its
 * conversation): appending an id again with identical content is a safe retry
 * that returns what is stored and writes nothing; different content is a
 * ConflictError that writes nothing. Positions are 1, 2, 3, ... within each
 * conversation, whatever other users and other conversations do, and a
 * rolled-back append leaves no gap. History cursors carry a conversation id
 * and a position, nothing global.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, test } from 'node:test';
import { createTestDatabase } from '../helpers/db.js';
import { snapshotRows } from '../helpers/snapshots.js';
import { ConflictError, LIMITS, ValidationError, type JsonObject, type Message, type NewMessage } from '../../src/index.js';

const db = await createTestDatabase();
const store = db.store({ maxConnections: 8 });

async function newConversation(user: string): Promise<string> {
  return (await store.withUser(user, (tx) => tx.conversations.create())).id;
}

async function positionsOf(conversation: string): Promise<number[]> {
  const { rows } = await db.admin.query<{ position: number }>('select position from todo_chat.messages where conversation_id = $1 order by position', [conversation]);
  return rows.map((row) => row.position);
}

async function lastPositionOf(conversation: string): Promise<number> {
  const { rows } = await db.admin.query<{ last_position: number }>('select last_position from todo_chat.conversations where id = $1', [conversation]);
  return rows[0]!.last_position;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** A turn naming every message, in all three formats, with a tool call and its result. */
function namedTurn(tag: string): NewMessage[] {
  return [
    { id: `${tag}-user`, role: 'user', content: `question ${tag}` },
    { id: `${tag}-call`, role: 'assistant', toolCalls: [{ id: `call-${tag}`, name: 'add_task', arguments: { title: tag, nested: { b: 2, a: [1, 2] } } }] },
    { id: `${tag}-result`, role: 'tool', toolCallId: `call-${tag}`, content: `{"ok":true}` },
    { id: `fc_${tag}`, format: 'openai-agents', item: { type: 'function_call', id: `fc_${tag}`, callId: `fcall-${tag}`, name: 'list_tasks', arguments: '{}' } },
    { id: `fco_${tag}`, format: 'openai-agents', item: { type: 'function_call_result', id: `fco_${tag}`, callId: `fcall-${tag}`, name: 'list_tasks', status: 'completed', output: 'none' } },
    { format: 'ai-sdk', item: { id: `ui${tag}`.padEnd(16, 'x').slice(0, 16), role: 'assistant', parts: [{ type: 'text', text: `answer ${tag}` }] } },
  ];
}

describe('ids and idempotent appends', () => {
  test('appending the same ids with identical content returns the stored messages and writes nothing', async () => {
    const user = await db.createUser();
    const conversation = await newConversation(user);
    const turn = namedTurn('t1');
    const first = await store.withUser(user, (tx) => tx.messages.appendTurn(conversation, turn));
    assert.deepEqual(first.map((m) => m.position), range(1, 6));
    const before = await snapshotRows(db.admin, [user]);

    // Wait a little so that a second write would show in created_at and updated_at.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const retried = await store.withUser(user, (tx) => tx.messages.appendTurn(conversation, namedTurn('t1')));
    assert.deepStrictEqual(retried, first, 'the stored messages, created_at included');
    // Also one by one, and with the keys of an item or of tool-call arguments in another order (the same JSON value).
    const single = await store.withUser(user, (tx) =>
      tx.messages.append(conversation, { id: 't1-call', role: 'assistant', toolCalls: [{ name: 'add_task', id: 'call-t1', arguments: { nested: { a: [1, 2], b: 2 }, title: 't1' } }] }),
    );
    assert.deepStrictEqual(single, first[1]);
    assert.deepStrictEqual(await snapshotRows(db.admin, [user]), before, 'no row written or touched (conversation updated_at included)');
  });

  test('a retry that adds new messages returns the stored ones and appends only the new ones, in the order given', async () => {
    const user = await db.createUser();
    const conversation = await newConversation(user);
    const first = await store.withUser(user, (tx) => tx.messages.appendTurn(conversation, namedTurn('a').slice(0, 3)));
    const mixed = await store.withUser(user, (tx) =>
      tx.messages.appendTurn(conversation, [{ id: 'new-1', role: 'user', content: 'more' }, ...namedTurn('a').slice(0, 3), { id: 'new-2', role: 'assistant', content: 'ok' }]),
    );
    assert.deepStrictEqual(mixed.slice(1, 4), first);
    assert.deepEqual(mixed.map((m) => [m.id, m.position]), [['new-1', 4], ['a-user', 1], ['a-call', 2], ['a-result', 3], ['new-2', 5]]);
    assert.deepEqual(await positionsOf(conversation), range(1, 5));
    assert.equal(await lastPositionOf(conversation), 5);
  });

  test('the same id with different content is a ConflictError that writes nothing, in every format and for every field', async () => {
    const user = await db.createUser();
    const conversation = await newConversation(user);
    await store.withUser(user, (tx) => tx.messages.appendTurn(conversation, namedTurn('c')));
    const before = await snapshotRows(db.admin, [user]);
    const uiId = 'uicxxxxxxxxxxxxx';
    const different: NewMessage[] = [
      { id: 'c-user', role: 'user', content: 'question c!' },
      { id: 'c-user', role: 'system', content: 'question c' },
      { id: 'c-user', format: 'openai-agents', item: { role: 'user', content: 'question c' } },
      { id: 'c-call', role: 'assistant', toolCalls: [{ id: 'call-c', name: 'add_task', arguments: { title: 'c', nested: { b: 2, a: [2, 1] } } }] },
      { id: 'c-call', role: 'assistant', toolCalls: null },
      { id: 'c-result', role: 'tool', toolCallId: 'call-c', content: '{"ok":false}' },
      { id: 'fc_c', format: 'openai-agents', item: { type: 'function_call', id: 'fc_c', callId: 'fcall-c', name: 'list_tasks', arguments: '{ }' } },
      { format: 'ai-sdk', item: { id: uiId, role: 'assistant', parts: [{ type: 'text', text: 'answer c', state: 'done' }] } },
    ];
    for (const message of different) {
      await assert.rejects(
        store.withUser(user, (tx) => tx.messages.appendTurn(conversation, [{ role: 'user', content: 'a new message first' }, message])),
        ConflictError,
        JSON.stringify(message),
      );
    }
    assert.deepStrictEqual(await snapshotRows(db.admin, [user]), before, 'nothing of the refused turns was written');
  });

  test('an id twice in one append is refused, and nothing is written', async () => {
    const user = await db.createUser();
    const conversation = await newConversation(user);
    const before = await snapshotRows(db.admin, [user]);
    for (const turn of [
      [{ id: 'x', role: 'user', content: 'a' }, { id: 'x', role: 'user', content: 'a' }],
      [{ id: 'x', role: 'user', content: 'a' }, { id: 'y', role: 'user', content: 'b' }, { id: 'x', role: 'assistant', content: 'c' }],
      [
        { format: 'ai-sdk', item: { id: 'dupdupdupdupdup1', role: 'user', parts: [] } },
        { format: 'ai-sdk', item: { id: 'dupdupdupdupdup1', role: 'assistant', parts: [] } },
      ],
    ] as NewMessage[][]) {
      await assert.rejects(store.withUser(user, (tx) => tx.messages.appendTurn(conversation, turn)), ValidationError);
    }
    assert.deepStrictEqual(await snapshotRows(db.admin, [user]), before);
  });

  test("an AI SDK message's id is its UIMessage's id; another given id is refused", async () => {
    const user = await db.createUser();
    const [one, two] = [await newConversation(user), await newConversation(user)];
    const item: JsonObject = { id: 'Ab3De6Gh9Jk2Mn5P', role: 'user', parts: [{ type: 'text', text: 'hello' }] };
    const stored = await store.withUser(user, (tx) => tx.messages.append(one, { format: 'ai-sdk', item }));
    assert.equal(stored.id, 'Ab3De6Gh9Jk2Mn5P');
    const same = await store.withUser(user, (tx) => tx.messages.append(one, { id: 'Ab3De6Gh9Jk2Mn5P', format: 'ai-sdk', item }));
    assert.deepStrictEqual(same, stored, 'the same id given explicitly: a retry');
    await assert.rejects(store.withUser(user, (tx) => tx.messages.append(two, { id: 'another-id', format: 'ai-sdk', item })), ValidationError);
    // Unique within a conversation only: the same UIMessage in another conversation, or another user's, is another message.
    const elsewhere = await store.withUser(user, (tx) => tx.messages.append(two, { format: 'ai-sdk', item }));
    assert.equal(elsewhere.id, 'Ab3De6Gh9Jk2Mn5P');
    assert.equal(elsewhere.position, 1);
    const other = await db.createUser();
    const theirs = await newConversation(other);
    assert.equal((await store.withUser(other, (tx) => tx.messages.append(theirs, { format: 'ai-sdk', item }))).id, 'Ab3De6Gh9Jk2Mn5P');
    // Without an id anywhere, an AI SDK message is refused (the UIMessage must carry one).
    await assert.rejects(store.withUser(user, (tx) => tx.messages.append(one, { format: 'ai-sdk', item: { role: 'user', parts: [] } })), ValidationError);
  });

  test('ids are 1..255 characters of any kind (code points, as char_length counts them), case-sensitive', async () => {
    const user = await db.createUser();
    const conversation = await newConversation(user);
    const longest = '😀'.repeat(LIMITS.messageId.max);
    const stored = await store.withUser(user, (tx) =>
      tx.messages.appendTurn(conversation, [
        { id: longest, role: 'user', content: 'emoji id' },
        { id: 'msg_ABC', role: 'user', content: 'upper' },
        { id: 'msg_abc', role: 'user', content: 'lower' },
        { id: 'A', role: 'user', content: 'one character' },
      ]),
    );
    assert.deepEqual(stored.map((m) => m.id), [longest, 'msg_ABC', 'msg_abc', 'A']);
    assert.equal((await store.withUser(user, (tx) => tx.messages.get(conversation, 'msg_ABC'))).content, 'upper');
    for (const id of ['', '😀'.repeat(LIMITS.messageId.max + 1), 'nul\u0000', 'lone\ud800']) {
      await assert.rejects(store.withUser(user, (tx) => tx.messages.append(conversation, { id, role: 'user', content: 'x' })), ValidationError, JSON.stringify(id));
    }
    assert.deepEqual(await positionsOf(conversation), range(1, 4));
  });

  test('an identical append racing the first one (which commits while it waits on the conversation) returns the stored message', async () => {
    // Regression: LockConversationForAppend read the stored messages with the
    // snapshot its statement started with, before it waited for the
    // conversation's lock: it missed the message the first writer committed
    // meanwhile, and the insert that followed hit messages_pkey (23505), a
    // ConflictError, although the content was identical. An append naming ids
    // now locks the conversation (LockConversation), then reads them
    // (GetMessagesByIds) with a fresh snapshot.
    const user = await db.createUser();
    const conversation = await newConversation(user);
    const message: NewMessage = { id: 'racing', role: 'user', content: 'same content' };
    const { stored, again, waiting } = await race(user, conversation, [message], [message]);
    assert.ok(waiting, 'the retry waited for the conversation lock');
    assert.equal(stored.status, 'fulfilled');
    if (again.status === 'rejected') throw again.reason;
    assert.deepStrictEqual(again.value, [(stored as PromiseFulfilledResult<Message>).value]);
    assert.deepEqual(await positionsOf(conversation), [1]);
  });

  test('a different append under the same id racing the first one is a ConflictError once the first commits, and writes nothing', async () => {
    const user = await db.createUser();
    const conversation = await newConversation(user);
    const { stored, again, waiting } = await race(
      user,
      conversation,
      [{ id: 'racing', role: 'user', content: 'first content' }],
      [{ id: 'other', role: 'user', content: 'before it' }, { id: 'racing', role: 'user', content: 'second content' }],
    );
    assert.ok(waiting, 'the second append waited for the conversation lock');
    assert.equal(stored.status, 'fulfilled');
    assert.equal(again.status, 'rejected');
    assert.ok((again as PromiseRejectedResult).reason instanceof ConflictError, String((again as PromiseRejectedResult).reason));
    const all = await store.withUser(user, (tx) => tx.messages.all(conversation));
    assert.deepEqual(all.map((m) => [m.id, m.position, m.content]), [['racing', 1, 'first content']]);
    assert.equal(await lastPositionOf(conversation), 1);
  });
});

/**
 * Appends `first` and, while its transaction still holds the conversation's
 * lock, starts appending `second`; lets `first` commit once `second` waits for
 * that lock.
 */
async function race(user: string, conversation: string, first: NewMessage[], second: NewMessage[]) {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let appended!: () => void;
  const firstAppended = new Promise<void>((resolve) => (appended = resolve));
  const firstWrite = store.withUser(user, async (tx) => {
    const [row] = await tx.messages.appendTurn(conversation, first);
    appended();
    await held; // keep the conversation locked until the second append waits for it
    return row!;
  });
  await firstAppended;
  const secondWrite = store.withUser(user, (tx) => tx.messages.appendTurn(conversation, second));
  // Let the second append reach the conversation's row lock and wait there.
  let waiting = false;
  for (let i = 0; i < 500 && !waiting; i++) {
    const { rows } = await db.admin.query<{ n: number }>(
      "select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
    );
    waiting = rows[0]!.n > 0;
    if (!waiting) await new Promise((resolve) => setTimeout(resolve, 10));
  }
  release();
  const [stored, again] = await Promise.allSettled([firstWrite, secondWrite]);
  return { stored, again, waiting };
}

describe('positions', () => {
  test("positions are 1..n per conversation with no gap from other users', other conversations' or rolled-back appends", async () => {
    const [alice, bob] = await db.createUsers(2);
    const [aliceMain, aliceOther, bobMain] = [await newConversation(alice!), await newConversation(alice!), await newConversation(bob!)];
    const rounds = 25;
    const seen: Record<string, number[]> = { aliceMain: [], aliceOther: [], bobMain: [], rolledBack: [] };
    const aliceWrites = (async () => {
      for (let i = 0; i < rounds; i++) {
        const turn = await store.withUser(alice!, (tx) =>
          tx.messages.appendTurn(aliceMain, [
            { role: 'user', content: `alice ${i}` },
            { role: 'assistant', content: `answer ${i}` },
          ]),
        );
        seen.aliceMain!.push(...turn.map((m) => m.position));
        seen.aliceOther!.push((await store.withUser(alice!, (tx) => tx.messages.append(aliceOther, { role: 'user', content: `other ${i}` }))).position);
        // An append that is rolled back: its positions are given again to the next append.
        await assert.rejects(
          store.withUser(alice!, async (tx) => {
            const [row] = await tx.messages.appendTurn(aliceMain, [{ role: 'user', content: 'rolled back' }]);
            seen.rolledBack!.push(row!.position);
            throw new Error('the request failed after appending');
          }),
          /the request failed after appending/,
        );
      }
    })();
    const bobWrites = (async () => {
      for (let i = 0; i < rounds; i++) {
        const turn = await store.withUser(bob!, (tx) =>
          tx.messages.appendTurn(bobMain, [
            { role: 'user', content: `bob ${i}` },
            { role: 'assistant', content: `answer ${i}` },
            { role: 'assistant', content: `more ${i}` },
          ]),
        );
        seen.bobMain!.push(...turn.map((m) => m.position));
      }
    })();
    await Promise.all([aliceWrites, bobWrites]);

    assert.deepEqual(seen.aliceMain, range(1, 2 * rounds), 'alice saw 1, 2, 3, ... in her conversation');
    assert.deepEqual(seen.bobMain, range(1, 3 * rounds), 'bob, appending at the same time, saw his own 1, 2, 3, ...');
    assert.deepEqual(seen.aliceOther, range(1, rounds));
    assert.deepEqual(seen.rolledBack, range(1, rounds).map((i) => 2 * i + 1), 'a rolled-back append took the next position, which the next append reused');
    assert.deepEqual(await positionsOf(aliceMain), range(1, 2 * rounds));
    assert.deepEqual(await positionsOf(bobMain), range(1, 3 * rounds));
    assert.deepEqual(await positionsOf(aliceOther), range(1, rounds));
    assert.equal(await lastPositionOf(aliceMain), 2 * rounds);
    assert.equal(await lastPositionOf(bobMain), 3 * rounds);
    const contents = await store.withUser(alice!, (tx) => tx.messages.all(aliceMain));
    assert.ok(!contents.some((m) => m.content === 'rolled back'));
    assert.deepEqual(contents.map((m) => m.content), range(0, rounds - 1).flatMap((i) => [`alice ${i}`, `answer ${i}`]));
  });

  test('history cursors hold the conversation id and a small position, nothing global', async () => {
    const [alice, bob] = await db.createUsers(2);
    const conversations: Record<string, string> = {};
    // Bob's conversation is written after a lot of other activity; the cursors must not show it.
    for (const [name, user] of [['alice', alice!], ['bob', bob!]] as const) {
      const noise = await newConversation(user);
      for (let i = 0; i < (name === 'bob' ? 5 : 1); i++) {
        await store.withUser(user, (tx) => tx.messages.appendTurn(noise, Array.from({ length: 100 }, (_, j) => ({ role: 'user' as const, content: `noise ${j}` }))));
      }
      conversations[name] = await newConversation(user);
      await store.withUser(user, (tx) => tx.messages.appendTurn(conversations[name]!, range(1, 10).map((i) => ({ role: 'user' as const, content: `m${i}` }))));
    }
    const decode = (cursor: string): unknown => JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    const walk = async (user: string, conversation: string) => {
      const cursors: string[] = [];
      const pages: Message[][] = [];
      let before: string | undefined;
      do {
        const page = await store.withUser(user, (tx) => tx.messages.history(conversation, { limit: 4, ...(before ? { before } : {}) }));
        pages.push(page.items);
        before = page.before ?? undefined;
        if (before) cursors.push(before);
      } while (before);
      return { cursors, pages };
    };
    const a = await walk(alice!, conversations.alice!);
    const b = await walk(bob!, conversations.bob!);
    assert.deepEqual(a.cursors.map(decode), [[`history:${conversations.alice}`, 7], [`history:${conversations.alice}`, 3]]);
    assert.deepEqual(b.cursors.map(decode), [[`history:${conversations.bob}`, 7], [`history:${conversations.bob}`, 3]], 'the same positions as alice');
    assert.deepEqual(a.pages.map((page) => page.map((m) => m.position)), [[7, 8, 9, 10], [3, 4, 5, 6], [1, 2]]);
    for (const cursor of a.cursors) {
      const text = Buffer.from(cursor, 'base64url').toString('utf8');
      assert.ok(!text.includes(alice!), 'no user id');
      assert.ok(text.length < 80, text);
    }
    // A cursor only fits its conversation.
    await assert.rejects(store.withUser(bob!, (tx) => tx.messages.history(conversations.bob!, { before: a.cursors[0]! })), ValidationError);
    const forged = Buffer.from(JSON.stringify([`history:${conversations.alice}`, 1.5]), 'utf8').toString('base64url');
    await assert.rejects(store.withUser(alice!, (tx) => tx.messages.history(conversations.alice!, { before: forged })), ValidationError);
    const random = crypto.randomBytes(12).toString('base64url');
    await assert.rejects(store.withUser(alice!, (tx) => tx.messages.history(conversations.alice!, { before: random })), ValidationError);
  });
});
