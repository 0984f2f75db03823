/**
 * "The bounds of history, all and export with data past them": every read of
 * a conversation or of a user's data is bounded. A history page holds at most
 * LIMITS.historyPage.maxLimit messages, also when a turn is longer than that
 * (it is then entered in the middle, startsMidTurn); messages.all refuses a
 * conversation beyond LIMITS.wholeConversation, and users.export a user beyond
 * LIMITS.userExport, with a TooLargeError that names the form reading in
 * batches, which returns everything, in batches of bounded size.
 */
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import { before, describe, test } from 'node:test';
import { createTestDatabase } from '../helpers/db.js';
import { LIMITS, TooLargeError, type JsonObject, type Message, type NewMessage, type QueryEvent } from '../../src/index.js';

const db = await createTestDatabase();
const events: QueryEvent[] = [];
const store = db.store({ onQuery: (event) => events.push(event) });
const MAX_PAGE = LIMITS.historyPage.maxLimit;

async function newConversation(user: string): Promise<string> {
  return (await store.withUser(user, (tx) => tx.conversations.create())).id;
}

async function historyBytes(conversation: string): Promise<number> {
  const { rows } = await db.admin.query<{ history_bytes: string; sum: string | null }>(
    `select c.history_bytes::text, (select sum(size_bytes)::text from todo_chat.messages m where m.conversation_id = c.id) as sum
     from todo_chat.conversations c where c.id = $1`,
    [conversation],
  );
  assert.equal(rows[0]!.history_bytes, rows[0]!.sum ?? '0', 'history_bytes is the sum of the messages');
  return Number(rows[0]!.history_bytes);
}

function normalTurn(tag: string): NewMessage[] {
  return [
    { role: 'user', content: `question ${tag}` },
    { role: 'assistant', toolCalls: [{ id: `call-${tag}`, name: 'add_task', arguments: { tag } }] },
    { role: 'tool', toolCallId: `call-${tag}`, content: `result ${tag}` },
    { role: 'assistant', content: `answer ${tag}` },
  ];
}

/** A UIMessage of one text part of `textBytes` ASCII bytes: it costs 2 * textBytes + overhead (its text is both the item and the content). */
function bigItem(index: number, textBytes: number): JsonObject {
  const id = `big${String(index).padStart(13, '0')}`;
  return { id, role: 'assistant', parts: [{ type: 'text', text: 'lorem ipsum dolor '.repeat(Math.ceil(textBytes / 18)).slice(0, textBytes) }] };
}
const sizeOfItem = (item: JsonObject) => Buffer.byteLength(JSON.stringify(item), 'utf8') + Buffer.byteLength((item.parts as { text: string }[])[0]!.text, 'utf8');
const ITEM_OVERHEAD = sizeOfItem(bigItem(0, 0));
/** Item ids (the UIMessages' own) are unique within a conversation: one counter for the file. */
let index = 1;

/** Appends big items (and a one-byte chat message when needed) until the conversation holds exactly `target` bytes of history. */
async function fillTo(user: string, conversation: string, target: number): Promise<void> {
  let remaining = target - (await historyBytes(conversation));
  assert.ok(remaining >= 0);
  const append = async (message: NewMessage) => {
    const [stored] = await store.withUser(user, (tx) => tx.messages.appendTurn(conversation, [message]));
    return stored!;
  };
  while (remaining > 2_000_000) {
    const item = bigItem(index++, 900_000);
    await append({ format: 'ai-sdk', item });
    remaining -= sizeOfItem(item);
  }
  if ((remaining - ITEM_OVERHEAD) % 2 !== 0) {
    await append({ role: 'user', content: 'x' });
    remaining -= 1;
  }
  if (remaining > 0) {
    const item = bigItem(index++, (remaining - ITEM_OVERHEAD) / 2);
    assert.ok(Buffer.byteLength(JSON.stringify(item)) <= LIMITS.item.maxJsonBytes);
    await append({ format: 'ai-sdk', item });
  }
  assert.equal(await historyBytes(conversation), target, 'the size_bytes of a message is the bytes of its content and its item');
}

async function readBatches(user: string, conversation: string, batchSize: number): Promise<{ messages: Message[]; sizes: number[] }> {
  return store.withUser(user, async (tx) => {
    const messages: Message[] = [];
    const sizes: number[] = [];
    for await (const batch of tx.messages.batches(conversation, { batchSize })) {
      sizes.push(batch.length);
      messages.push(...batch);
    }
    return { messages, sizes };
  });
}

describe('history pages are bounded', () => {
  let user: string;
  let conversation: string;
  const RESULTS = 600;
  let total: number;

  before(async () => {
    user = await db.createUser();
    conversation = await newConversation(user);
    // 5 turns, then a turn whose one call is answered by 600 tool results, then 5 turns.
    await store.withUser(user, (tx) => tx.messages.appendTurn(conversation, [0, 1, 2, 3, 4].flatMap((i) => normalTurn(`before${i}`))));
    await store.withUser(user, (tx) =>
      tx.messages.appendTurn(conversation, [
        { role: 'user', content: 'do it 600 times' },
        { role: 'assistant', toolCalls: [{ id: 'call-many', name: 'repeat', arguments: {} }] },
      ]),
    );
    for (let r = 0; r < RESULTS; r += 100) {
      await store.withUser(user, (tx) =>
        tx.messages.appendTurn(conversation, Array.from({ length: 100 }, (_, i) => ({ role: 'tool' as const, toolCallId: 'call-many', content: `result ${r + i}` }))),
      );
    }
    await store.withUser(user, (tx) => tx.messages.appendTurn(conversation, [{ role: 'assistant', content: 'done 600 times' }, ...[0, 1, 2, 3, 4].flatMap((i) => normalTurn(`after${i}`))]));
    total = 20 + 2 + RESULTS + 1 + 20;
  });

  test(`walking back with before returns every message exactly once, each page at most ${MAX_PAGE} messages, mid-turn pages flagged`, async () => {
    assert.ok(RESULTS > MAX_PAGE);
    const turnStart = 22; // the assistant message that made the call
    for (const limit of [1, 7, 50, MAX_PAGE]) {
      const pages: Message[][] = [];
      let cursor: string | undefined;
      do {
        const page = await store.withUser(user, (tx) => tx.messages.history(conversation, { limit, ...(cursor ? { before: cursor } : {}) }));
        const where = `limit ${limit}, page ${pages.length + 1} (${page.items[0]?.position}..${page.items.at(-1)?.position})`;
        assert.ok(page.items.length <= MAX_PAGE, where);
        assert.ok(page.items.length >= Math.min(limit, page.items.at(-1)!.position), `${where}: at least the page asked for`);
        const first = page.items[0]!;
        assert.equal(page.startsMidTurn, first.role === 'tool', where);
        if (page.startsMidTurn) {
          // It could not reach back to the turn's start within the bound: the page is full.
          assert.equal(page.items.length, MAX_PAGE, where);
          assert.ok(first.position > turnStart && first.position <= turnStart + RESULTS, `${where}: inside the long turn`);
        } else if (first.position > 1) {
          assert.notEqual(first.role, 'tool', where);
        }
        pages.push(page.items);
        cursor = page.before ?? undefined;
        assert.equal(page.before === null, first.position === 1, where);
      } while (cursor);
      const positions = pages.reverse().flat().map((m) => m.position);
      assert.deepEqual(positions, Array.from({ length: total }, (_, i) => i + 1), `limit ${limit}: every message exactly once, in order`);
      if (limit < MAX_PAGE) {
        assert.ok(
          pages.some((page) => page[0]!.role === 'tool'),
          `limit ${limit}: some page enters the 600-result turn in the middle`,
        );
      }
    }
  });

  test(`the audit keeps all ${RESULTS} results of the one call, oldest first, each answering it`, async () => {
    const audit = await store.withUser(user, (tx) => tx.toolCalls.list({ conversationId: conversation, limit: 200 }));
    assert.equal(audit.nextCursor, null);
    assert.deepEqual(audit.items.map((r) => [r.callId, r.results.length]), [
      ...[0, 1, 2, 3, 4].map((i) => [`call-before${i}`, 1]),
      ['call-many', RESULTS],
      ...[0, 1, 2, 3, 4].map((i) => [`call-after${i}`, 1]),
    ]);
    const many = audit.items.find((r) => r.callId === 'call-many')!;
    assert.deepEqual(many.results.map((r) => r.output), Array.from({ length: RESULTS }, (_, i) => `result ${i}`));
  });

  test(`history({ limit: 1 }) extends back to the turn start within ${MAX_PAGE} messages, and no further`, async () => {
    // The newest page (the final turn) needs no extension.
    const newest = await store.withUser(user, (tx) => tx.messages.history(conversation, { limit: 1 }));
    assert.deepEqual(newest.items.map((m) => m.position), [total]);
    // The page just before the answer to the 600 results starts on a result: it reaches back MAX_PAGE - 1 more and stops there.
    const answer = 22 + RESULTS + 1;
    const page = await store.withUser(user, async (tx) => {
      let cursor: string | undefined;
      for (;;) {
        const p = await tx.messages.history(conversation, { limit: 1, ...(cursor ? { before: cursor } : {}) });
        if (p.items.at(-1)!.position < answer) return p;
        cursor = p.before!;
      }
    });
    assert.equal(page.items.length, MAX_PAGE);
    assert.equal(page.items.at(-1)!.position, answer - 1);
    assert.equal(page.startsMidTurn, true);
    assert.ok(page.items.every((m) => m.role === 'tool'));
    // A short turn is reached whole: the page of limit 1 ending at the result of a normal turn starts at its call.
    const [, call, result] = normalTurn('x');
    const tail = await store.withUser(user, (tx) => tx.messages.appendTurn(conversation, [call!, result!, { role: 'user', content: 'next' }]));
    const p = await store.withUser(user, (tx) => tx.messages.history(conversation, { limit: 2 }));
    assert.deepEqual(p.items.map((m) => m.id), tail.map((m) => m.id), 'a page starting on a result extends to its call');
    assert.equal(p.startsMidTurn, false);
    await store.withUser(user, (tx) => tx.messages.pop(conversation, 3));
  });
});

describe('messages.all and users.export beyond their bounds', () => {
  let user: string;
  let large: string;
  let other: string;
  const calls = 6;

  before(async () => {
    user = await db.createUser();
    await store.withUser(user, async (tx) => {
      for (let i = 0; i < 5; i++) await tx.tasks.create({ title: `task ${i}` });
    });
    large = await newConversation(user);
    other = await newConversation(user);
    await store.withUser(user, (tx) => tx.messages.appendTurn(large, [0, 1, 2].flatMap((i) => normalTurn(`l${i}`))));
    await store.withUser(user, (tx) => tx.messages.appendTurn(other, [0, 1, 2].flatMap((i) => normalTurn(`o${i}`))));
  });

  test(`messages.all reads a conversation of exactly ${LIMITS.wholeConversation.maxBytes} bytes, refuses one byte more naming messages.batches, which returns everything`, async () => {
    await fillTo(user, large, LIMITS.wholeConversation.maxBytes);
    const all = await store.withUser(user, (tx) => tx.messages.all(large));
    const count = all.length;
    assert.deepEqual(all.map((m) => m.position), Array.from({ length: count }, (_, i) => i + 1));

    await store.withUser(user, (tx) => tx.messages.append(large, { role: 'user', content: 'y' }));
    assert.equal(await historyBytes(large), LIMITS.wholeConversation.maxBytes + 1);
    events.length = 0;
    await assert.rejects(
      store.withUser(user, (tx) => tx.messages.all(large)),
      (error: unknown) => error instanceof TooLargeError && error.code === 'TOO_LARGE' && /messages\.batches\(\)/.test(error.message),
    );
    const read = events.find((event) => event.query === 'ListAllMessages');
    assert.equal(read?.rowCount, 1, 'nothing but the counters was read (one row, no message)');

    const { messages, sizes } = await readBatches(user, large, 5);
    assert.equal(messages.length, count + 1);
    assert.deepStrictEqual(messages.slice(0, count), all);
    assert.ok(sizes.every((size) => size <= 5));
    assert.deepEqual(sizes, [...Array(Math.floor((count + 1) / 5)).fill(5), ...((count + 1) % 5 ? [(count + 1) % 5] : [])]);
    assert.equal(messages.at(-1)!.content, 'y');
  });

  test(`users.export reads exactly ${LIMITS.userExport.maxHistoryBytes} bytes of history, refuses one byte more naming users.exportBatches, which yields everything`, async () => {
    const largeBytes = await historyBytes(large);
    await fillTo(user, other, LIMITS.userExport.maxHistoryBytes - largeBytes);
    const exported = await store.withUser(user, (tx) => tx.users.export());
    const messageCount = exported.conversations.reduce((sum, c) => sum + c.messages.length, 0);
    const { rows } = await db.admin.query<{ n: number }>('select count(*)::int as n from todo_chat.messages where user_id = $1', [user]);
    assert.equal(messageCount, rows[0]!.n);
    assert.equal(exported.toolCalls.length, calls);
    assert.equal(exported.tasks.length, 5);

    await store.withUser(user, (tx) => tx.messages.append(other, { role: 'user', content: 'z' }));
    await assert.rejects(
      store.withUser(user, (tx) => tx.users.export()),
      (error: unknown) => error instanceof TooLargeError && /users\.exportBatches\(\)/.test(error.message),
    );
    const counted = { tasks: 0, conversations: 0, messages: 0, toolCalls: 0, users: 0, chunks: 0, largestMessageChunk: 0 };
    const positions = new Map<string, number[]>();
    await store.withUser(user, async (tx) => {
      for await (const chunk of tx.users.exportBatches()) {
        counted.chunks++;
        if (chunk.type === 'user') counted.users++;
        else if (chunk.type === 'tasks') counted.tasks += chunk.tasks.length;
        else if (chunk.type === 'conversation') counted.conversations++;
        else if (chunk.type === 'messages') {
          counted.messages += chunk.messages.length;
          counted.largestMessageChunk = Math.max(counted.largestMessageChunk, chunk.messages.length);
          positions.set(chunk.conversationId, [...(positions.get(chunk.conversationId) ?? []), ...chunk.messages.map((m) => m.position)]);
        } else if (chunk.type === 'toolCalls') counted.toolCalls += chunk.toolCalls.length;
      }
    });
    const { tasks, conversations, messages, toolCalls, users } = counted;
    assert.deepEqual({ tasks, conversations, messages, toolCalls, users }, { tasks: 5, conversations: 2, messages: messageCount + 1, toolCalls: calls, users: 1 });
    assert.ok(counted.largestMessageChunk <= LIMITS.batch.defaultSize);
    for (const [, list] of positions) assert.deepEqual(list, Array.from({ length: list.length }, (_, i) => i + 1));
  });

  test(`users.export refuses more than ${LIMITS.userExport.maxRows} rows, and exportBatches yields them all`, async () => {
    const heavy = await db.createUser();
    const { maxRows } = LIMITS.userExport;
    // Rows are tasks + conversations + messages + tool calls: one conversation of one turn (4 messages, 1 call), and tasks for the rest.
    const chat = await newConversation(heavy);
    await store.withUser(heavy, (tx) => tx.messages.appendTurn(chat, normalTurn('h')));
    await db.admin.query(`insert into todo_chat.tasks (user_id, title) select $1, 'task ' || g from generate_series(1, $2::int) g`, [heavy, maxRows - 6]);
    // What autovacuum would soon do: without statistics the planner takes the table for empty, and reads it whole for every batch.
    await db.admin.query('analyze todo_chat.tasks');
    const atBound = await store.withUser(heavy, (tx) => tx.users.export());
    assert.equal(atBound.tasks.length + atBound.conversations.length + atBound.conversations[0]!.messages.length + atBound.toolCalls.length, maxRows);
    await db.admin.query(`insert into todo_chat.tasks (user_id, title) values ($1, 'one too many')`, [heavy]);
    await assert.rejects(
      store.withUser(heavy, (tx) => tx.users.export()),
      (error: unknown) => error instanceof TooLargeError && /users\.exportBatches\(\)/.test(error.message) && new RegExp(`${maxRows + 1} rows`).test(error.message),
    );
    let tasks = 0;
    let largest = 0;
    await store.withUser(heavy, async (tx) => {
      for await (const chunk of tx.users.exportBatches()) {
        if (chunk.type === 'tasks') {
          tasks += chunk.tasks.length;
          largest = Math.max(largest, chunk.tasks.length);
        }
      }
    });
    assert.equal(tasks, maxRows - 5);
    assert.ok(largest <= LIMITS.batch.defaultSize);
  });

  test('reading a large conversation in batches keeps the heap well below its size', async () => {
    // The two conversations hold 32 MiB of history; read them one message at a
    // time and sample the heap after a full collection at every batch. Lenient:
    // a batch holds one message (its item and content, at most about 2 MB as
    // JavaScript strings, plus the driver's buffer), so the heap may grow by a
    // few MB, never by the conversation's size; the bound is a quarter of it.
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const size = (await historyBytes(large)) + (await historyBytes(other));
    gc();
    const baseline = process.memoryUsage().heapUsed;
    let peak = 0;
    let count = 0;
    let bytes = 0;
    await store.withUser(user, async (tx) => {
      for (const conversation of [large, other]) {
        for await (const batch of tx.messages.batches(conversation, { batchSize: 1 })) {
          count += batch.length;
          bytes += batch.reduce((sum, m) => sum + Buffer.byteLength(m.content) + (m.item ? Buffer.byteLength(JSON.stringify(m.item)) : 0), 0);
          gc();
          peak = Math.max(peak, process.memoryUsage().heapUsed - baseline);
        }
      }
    });
    console.log(`# read ${count} messages, ${bytes} bytes of content and items (history ${size} bytes): heap grew by at most ${peak} bytes`);
    assert.ok(bytes > 0.9 * size, 'everything was read');
    assert.ok(peak < size / 4, `heap grew by ${peak} bytes while reading ${size}`);
  });
});
