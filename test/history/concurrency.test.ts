/**
 * "Eight concurrent writers into one conversation leave every turn contiguous
 * and every call followed by its results": eight writers, each its own
 * withUser transactions on its own connection, append many four-message turns
 * (question, assistant call, tool result, answer) into one conversation at
 * once, in plain chat and as Agents SDK items, some naming their messages and
 * some not, while a reader pages through the history. Afterwards positions
 * are 1..N without gaps, each turn's messages are contiguous and in order,
 * every result comes after its call, and the audit pairs every call with its
 * result.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createTestDatabase } from '../helpers/db.js';
import type { Message, NewMessage } from '../../src/index.js';

const WRITERS = 8;
const TURNS_PER_WRITER = 30;
const TURN_LENGTH = 4;

const db = await createTestDatabase();
// One connection per writer, one for the reader, one spare.
const store = db.store({ maxConnections: WRITERS + 2 });

/** A turn of writer w, number t: its messages carry their turn tag, and name their ids when `named`. */
function turnOf(w: number, t: number): NewMessage[] {
  const tag = `w${w}t${t}`;
  const named = w % 2 === 0;
  const id = (part: string) => (named ? { id: `${tag}-${part}` } : {});
  if (t % 3 === 2) {
    // An Agents SDK turn: user message, function_call, function_call_result, assistant message.
    return [
      { ...id('q'), format: 'openai-agents', item: { role: 'user', content: `${tag} q` } },
      { ...id('c'), format: 'openai-agents', item: { type: 'function_call', callId: `call-${tag}`, name: 'add_task', arguments: JSON.stringify({ tag }) } },
      { ...id('r'), format: 'openai-agents', item: { type: 'function_call_result', callId: `call-${tag}`, name: 'add_task', status: 'completed', output: `${tag} r` } },
      { ...id('a'), format: 'openai-agents', item: { role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: `${tag} a` }] } },
    ];
  }
  return [
    { ...id('q'), role: 'user', content: `${tag} q` },
    { ...id('c'), role: 'assistant', content: '', toolCalls: [{ id: `call-${tag}`, name: 'add_task', arguments: { tag } }] },
    { ...id('r'), role: 'tool', toolCallId: `call-${tag}`, content: `${tag} r` },
    { ...id('a'), role: 'assistant', content: `${tag} a` },
  ];
}

/** The turn tag and the part (q, c, r, a) of a stored message, from its text or its item. */
function describeMessage(message: Message): { tag: string; part: string; callId?: string; answers?: string } {
  const item = message.item as Record<string, unknown> | null;
  if (item?.type === 'function_call') {
    const callId = item.callId as string;
    return { tag: callId.slice('call-'.length), part: 'c', callId };
  }
  if (item?.type === 'function_call_result') return { tag: (item.callId as string).slice('call-'.length), part: 'r', answers: item.callId as string };
  if (message.toolCalls) return { tag: message.toolCalls[0]!.id.slice('call-'.length), part: 'c', callId: message.toolCalls[0]!.id };
  const [tag, part] = message.content.split(' ');
  return { tag: tag!, part: part!, ...(message.toolCallId ? { answers: message.toolCallId } : {}) };
}

describe('eight concurrent writers into one conversation', () => {
  test('every turn is contiguous and in order, positions have no gap, every call is followed by its result', async () => {
    const user = await db.createUser();
    const conversation = (await store.withUser(user, (tx) => tx.conversations.create({ title: 'busy' }))).id;

    let writing = true;
    const pagesSeen: number[] = [];
    let readerError: unknown;
    const reader = (async () => {
      // While the writers run, every page is a run of positions without gap ending at a whole turn.
      while (writing) {
        const page = await store.withUser(user, (tx) => tx.messages.history(conversation, { limit: 37 }));
        if (page.items.length === 0) continue;
        const positions = page.items.map((m) => m.position);
        assert.deepEqual(positions, positions.map((_, i) => positions[0]! + i), 'a page has no gap');
        assert.equal(positions[positions.length - 1]! % TURN_LENGTH, 0, 'the newest message always ends a turn: turns are written whole');
        assert.equal(describeMessage(page.items[page.items.length - 1]!).part, 'a');
        pagesSeen.push(positions.length);
      }
    })().catch((error: unknown) => {
      readerError = error;
    });

    const returned: Message[][] = [];
    const writers = Array.from({ length: WRITERS }, async (_, w) => {
      for (let t = 0; t < TURNS_PER_WRITER; t++) {
        const turn = await store.withUser(user, (tx) => tx.messages.appendTurn(conversation, turnOf(w, t)));
        returned.push(turn);
      }
    });
    try {
      await Promise.all(writers);
    } finally {
      writing = false;
      await reader;
    }
    if (readerError) throw readerError;
    assert.ok(pagesSeen.length > 0, 'the reader read pages while the writers wrote');

    const total = WRITERS * TURNS_PER_WRITER * TURN_LENGTH;
    // What each append returned: four consecutive positions, starting after a whole turn.
    assert.equal(returned.length, WRITERS * TURNS_PER_WRITER);
    for (const turn of returned) {
      assert.equal(turn[0]!.position % TURN_LENGTH, 1);
      assert.deepEqual(turn.map((m) => m.position), [0, 1, 2, 3].map((i) => turn[0]!.position + i));
    }
    assert.deepEqual(returned.flatMap((turn) => turn.map((m) => m.position)).sort((a, b) => a - b), Array.from({ length: total }, (_, i) => i + 1));

    // What is stored, read back in batches.
    const stored: Message[] = [];
    await store.withUser(user, async (tx) => {
      for await (const batch of tx.messages.batches(conversation, { batchSize: 250 })) stored.push(...batch);
    });
    assert.deepEqual(stored.map((m) => m.position), Array.from({ length: total }, (_, i) => i + 1), 'positions 1..N without gap');
    const seenTags = new Set<string>();
    const callAt = new Map<string, number>();
    for (let start = 0; start < total; start += TURN_LENGTH) {
      const turn = stored.slice(start, start + TURN_LENGTH).map(describeMessage);
      const tag = turn[0]!.tag;
      assert.deepEqual(turn.map((m) => `${m.tag} ${m.part}`), ['q', 'c', 'r', 'a'].map((part) => `${tag} ${part}`), `turn at ${start + 1} is whole and in order`);
      assert.ok(!seenTags.has(tag), `${tag} appears once`);
      seenTags.add(tag);
    }
    assert.equal(seenTags.size, WRITERS * TURNS_PER_WRITER);
    // The writers really wrote at the same time: their turns interleave.
    const writerOrder = stored.filter((_, i) => i % TURN_LENGTH === 0).map((m) => describeMessage(m).tag.split('t')[0]);
    const switches = writerOrder.filter((w, i) => i > 0 && w !== writerOrder[i - 1]).length;
    assert.ok(switches > 2 * WRITERS, `the writers' turns interleave (${switches} switches)`);
    stored.forEach((message) => {
      const { callId, answers } = describeMessage(message);
      if (callId) callAt.set(callId, message.position);
      if (answers) {
        const at = callAt.get(answers);
        assert.ok(at !== undefined && at < message.position, `the result at ${message.position} comes after its call`);
      }
    });
    // Each writer's turns are in the order the writer appended them.
    for (let w = 0; w < WRITERS; w++) {
      const order = stored.filter((m) => describeMessage(m).part === 'q' && describeMessage(m).tag.startsWith(`w${w}t`)).map((m) => Number(describeMessage(m).tag.split('t')[1]));
      assert.deepEqual(order, Array.from({ length: TURNS_PER_WRITER }, (_, t) => t));
    }

    // The conversation's counters and the audit.
    const { rows } = await db.admin.query<{ last_position: number; history_bytes: string; sum: string; count: number }>(
      `select c.last_position, c.history_bytes::text, (select sum(size_bytes)::text from todo_chat.messages m where m.conversation_id = c.id) as sum,
         (select count(*)::int from todo_chat.messages m where m.conversation_id = c.id) as count
       from todo_chat.conversations c where c.id = $1`,
      [conversation],
    );
    assert.deepEqual(rows, [{ last_position: total, history_bytes: rows[0]!.sum, sum: rows[0]!.sum, count: total }]);
    const audit = await store.withUser(user, async (tx) => {
      const records = [];
      let cursor: string | undefined;
      do {
        const page = await tx.toolCalls.list({ conversationId: conversation, limit: 200, ...(cursor ? { cursor } : {}) });
        records.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return records;
    });
    assert.equal(audit.length, WRITERS * TURNS_PER_WRITER);
    const byId = new Map(stored.map((m) => [m.id, m]));
    // The audit is numbered under the conversation's lock too: it lists the calls in the order of their messages.
    const callPositions = audit.map((record) => byId.get(record.messageId)!.position);
    assert.deepEqual(callPositions, callPositions.slice().sort((a, b) => a - b), 'the audit order is the history order');
    for (const record of audit) {
      assert.equal(record.results.length, 1, `${record.callId} has its result, and one only`);
      const call = byId.get(record.messageId)!;
      const result = byId.get(record.results[0]!.messageId)!;
      assert.equal(result.position, call.position + 1, `${record.callId}: its result right after its call`);
      assert.equal(describeMessage(call).callId, record.callId);
    }
  });
});
