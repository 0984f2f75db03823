/**
 * The mutable ends of a history: pop (the newest n), clear (all), replace (one
 * message in place). The history changes, the tool-call audit does not: it
 * keeps the calls and results of popped, cleared and replaced messages, and
 * goes only with its conversation or its user. Another user's ids are a
 * NotFoundError that changes nothing. The conversation's counters
 * (last_position, history_bytes) follow every change.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createTestDatabase } from '../helpers/db.js';
import { countRows, snapshotRows } from '../helpers/snapshots.js';
import { NotFoundError, ValidationError, type JsonObject, type NewMessage, type ToolCallRecord, type Transaction } from '../../src/index.js';

const db = await createTestDatabase();
const store = db.store();

async function newConversation(user: string): Promise<string> {
  return (await store.withUser(user, (tx) => tx.conversations.create())).id;
}

/** question, call, result, answer: positions base+1..base+4 */
function turn(tag: string, args: JsonObject = { tag }): NewMessage[] {
  return [
    { id: `${tag}-q`, role: 'user', content: `question ${tag}` },
    { id: `${tag}-c`, role: 'assistant', toolCalls: [{ id: `call-${tag}`, name: 'add_task', arguments: args }] },
    { id: `${tag}-r`, role: 'tool', toolCallId: `call-${tag}`, content: `result ${tag}` },
    { id: `${tag}-a`, role: 'assistant', content: `answer ${tag}` },
  ];
}

/** The conversation's counters agree with its messages. */
async function assertCounters(conversation: string, expectedLast: number): Promise<void> {
  const { rows } = await db.admin.query<{ last_position: number; history_bytes: string; max: number | null; count: number; bytes: string }>(
    `select c.last_position, c.history_bytes::text,
       (select max(position) from todo_chat.messages m where m.user_id = c.user_id and m.conversation_id = c.id) as max,
       (select count(*)::int from todo_chat.messages m where m.user_id = c.user_id and m.conversation_id = c.id) as count,
       (select coalesce(sum(size_bytes), 0)::text from todo_chat.messages m where m.user_id = c.user_id and m.conversation_id = c.id) as bytes
     from todo_chat.conversations c where c.id = $1`,
    [conversation],
  );
  const row = rows[0]!;
  assert.equal(row.last_position, expectedLast, 'last_position');
  assert.equal(row.count, expectedLast, 'positions 1..last without gap');
  assert.equal(row.max, expectedLast === 0 ? null : expectedLast);
  assert.equal(row.history_bytes, row.bytes, 'history_bytes is the sum of size_bytes');
}

async function auditOf(tx: Transaction, conversationId?: string): Promise<ToolCallRecord[]> {
  const records: ToolCallRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await tx.toolCalls.list({ ...(conversationId ? { conversationId } : {}), limit: 200, ...(cursor ? { cursor } : {}) });
    records.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return records;
}

const summary = (records: ToolCallRecord[]) =>
  records.map((r) => ({ messageId: r.messageId, callId: r.callId, arguments: r.arguments, results: r.results.map((x) => ({ messageId: x.messageId, output: x.output })) }));

describe('pop', () => {
  test('pop returns the newest n oldest first; positions continue from the new end; the audit keeps what was popped', async () => {
    const user = await db.createUser();
    const conversation = await newConversation(user);
    await store.withUser(user, (tx) => tx.messages.appendTurn(conversation, [...turn('one'), ...turn('two')]));
    const auditBefore = await store.withUser(user, (tx) => auditOf(tx, conversation));
    assert.equal(auditBefore.length, 2);

    const popped = await store.withUser(user, (tx) => tx.messages.pop(conversation, 3));
    assert.deepEqual(popped.map((m) => [m.id, m.position]), [['two-c', 6], ['two-r', 7], ['two-a', 8]]);
    assert.deepEqual(popped[0]!.toolCalls, [{ id: 'call-two', name: 'add_task', arguments: { tag: 'two' } }], 'pop returns the whole messages');
    await assertCounters(conversation, 5);
    const one = await store.withUser(user, (tx) => tx.messages.pop(conversation));
    assert.deepEqual(one.map((m) => m.id), ['two-q'], 'one by default');
    await assertCounters(conversation, 4);

    const page = await store.withUser(user, (tx) => tx.messages.history(conversation));
    assert.deepEqual(page.items.map((m) => m.id), ['one-q', 'one-c', 'one-r', 'one-a']);
    const next = await store.withUser(user, (tx) => tx.messages.appendTurn(conversation, turn('three')));
    assert.deepEqual(next.map((m) => m.position), [5, 6, 7, 8], 'the next append continues from the new end');
    await assertCounters(conversation, 8);

    const auditAfter = await store.withUser(user, (tx) => auditOf(tx, conversation));
    assert.deepEqual(summary(auditAfter), [
      ...summary(auditBefore),
      { messageId: 'three-c', callId: 'call-three', arguments: { tag: 'three' }, results: [{ messageId: 'three-r', output: 'result three' }] },
    ], 'the popped call and its result stay in the audit');
  });

  test('pop beyond the start empties the conversation; pop of an empty one returns nothing; counts are 1..LIMITS.pop.max', async () => {
    const user = await db.createUser();
    const conversation = await newConversation(user);
    await store.withUser(user, (tx) => tx.messages.appendTurn(conversation, turn('a')));
    assert.equal((await store.withUser(user, (tx) => tx.messages.pop(conversation, 500))).length, 4);
    await assertCounters(conversation, 0);
    assert.deepEqual(await store.withUser(user, (tx) => tx.messages.pop(conversation)), []);
    for (const count of [0, -1, 501, 1.5]) {
      await assert.rejects(store.withUser(user, (tx) => tx.messages.pop(conversation, count)), ValidationError, String(count));
    }
    assert.equal((await store.withUser(user, (tx) => tx.messages.append(conversation, { role: 'user', content: 'again' }))).position, 1);
  });

  test('a message id reused after a pop records its new call and result in the audit, beside the popped ones', async () => {
    // Regression: the audit was keyed by (message id, call id) and written with
    // `on conflict do nothing`, so the second call of a re-used message id (a
    // retried turn under the same ids) and its result were silently missing.
    const user = await db.createUser();
    const conversation = await newConversation(user);
    await store.withUser(user, (tx) => tx.messages.appendTurn(conversation, turn('t', { attempt: 1 })));
    await store.withUser(user, (tx) => tx.messages.pop(conversation, 3));
    await store.withUser(user, (tx) =>
      tx.messages.appendTurn(conversation, [
        { id: 't-c', role: 'assistant', toolCalls: [{ id: 'call-t', name: 'add_task', arguments: { attempt: 2 } }] },
        { id: 't-r', role: 'tool', toolCallId: 'call-t', content: 'second result' },
      ]),
    );
    const audit = await store.withUser(user, (tx) => auditOf(tx, conversation));
    assert.deepEqual(
      audit.map((r) => [r.messageId, r.arguments, r.results.map((x) => [x.messageId, x.output])]),
      [
        ['t-c', { attempt: 1 }, [['t-r', 'result t']]],
        ['t-c', { attempt: 2 }, [['t-r', 'second result']]],
      ],
      'each call with its own result, in the order recorded',
    );
  });

  test('re-appending a popped message id with a new call (another call id) records the new call; a later result answers it', async () => {
    const user = await db.createUser();
    const conversation = await newConversation(user);
    await store.withUser(user, (tx) => tx.messages.appendTurn(conversation, turn('n')));
    await store.withUser(user, (tx) => tx.messages.pop(conversation, 3));
    await store.withUser(user, (tx) =>
      tx.messages.append(conversation, { id: 'n-c', role: 'assistant', toolCalls: [{ id: 'call-n2', name: 'list_tasks', arguments: { page: 2 } }] }),
    );
    // The result in an append of its own: it finds the call stored earlier.
    await store.withUser(user, (tx) => tx.messages.append(conversation, { id: 'n-r', role: 'tool', toolCallId: 'call-n2', content: 'two tasks' }));
    const audit = await store.withUser(user, (tx) => auditOf(tx, conversation));
    assert.deepEqual(summary(audit), [
      { messageId: 'n-c', callId: 'call-n', arguments: { tag: 'n' }, results: [{ messageId: 'n-r', output: 'result n' }] },
      { messageId: 'n-c', callId: 'call-n2', arguments: { page: 2 }, results: [{ messageId: 'n-r', output: 'two tasks' }] },
    ]);
    await assertCounters(conversation, 3);
  });

  test(
    'BUG: a result for the call of a popped message is refused after its id was re-used, at the same position, for another call',
    async () => {
      // AppendMessages finds a stored call through `exists (a message with the
      // call's message id at the call's position)`: the popped message's id,
      // appended again at the same position with another call, makes the popped
      // call count as in the history, and a result answering it is accepted
      // although no message of the history makes a call of that id.
      const user = await db.createUser();
      const conversation = await newConversation(user);
      await store.withUser(user, (tx) => tx.messages.appendTurn(conversation, turn('u').slice(0, 2)));
      await store.withUser(user, (tx) => tx.messages.pop(conversation));
      await store.withUser(user, (tx) =>
        tx.messages.append(conversation, { id: 'u-c', role: 'assistant', toolCalls: [{ id: 'call-u2', name: 'list_tasks', arguments: {} }] }),
      );
      const history = await store.withUser(user, (tx) => tx.messages.all(conversation));
      assert.ok(!history.some((m) => m.toolCalls?.some((call) => call.id === 'call-u')), 'no message of the history makes call-u');
      await assert.rejects(
        store.withUser(user, (tx) => tx.messages.append(conversation, { role: 'tool', toolCallId: 'call-u', content: 'late' })),
        (error: unknown) => error instanceof ValidationError && error.constraint === 'tool_results_answers_call',
      );
    },
  );

  test('a message popped and appended again, identical, at another position makes its call again: recorded again, and a later result answers it', async () => {
    // Regression: the same call of the same message was recorded once,
    // whatever its position, and the record kept the position it was first
    // recorded at; the message appended again elsewhere was in the history,
    // yet the lookup (same id at the recorded position) no longer found its
    // call, and the result was refused.
    const user = await db.createUser();
    const conversation = await newConversation(user);
    const [question, call] = turn('v');
    await store.withUser(user, (tx) => tx.messages.appendTurn(conversation, [question!, call!]));
    await store.withUser(user, (tx) => tx.messages.pop(conversation));
    await store.withUser(user, (tx) => tx.messages.appendTurn(conversation, [{ role: 'user', content: 'one more thing' }, call!]));
    const stored = await store.withUser(user, (tx) => tx.messages.get(conversation, 'v-c'));
    assert.equal(stored.position, 3);
    await store.withUser(user, (tx) => tx.messages.append(conversation, { id: 'v-r', role: 'tool', toolCallId: 'call-v', content: 'result v' }));
    const audit = await store.withUser(user, (tx) => auditOf(tx, conversation));
    assert.deepEqual(summary(audit), [
      { messageId: 'v-c', callId: 'call-v', arguments: { tag: 'v' }, results: [] },
      { messageId: 'v-c', callId: 'call-v', arguments: { tag: 'v' }, results: [{ messageId: 'v-r', output: 'result v' }] },
    ]);
    const { rows } = await db.admin.query('select message_position from todo_chat.tool_calls where conversation_id = $1 order by ordinal', [conversation]);
    assert.deepEqual(rows, [{ message_position: 2 }, { message_position: 3 }], 'each record says where the call stood when it was made');
    await assertCounters(conversation, 4);
  });

  test('a tool result whose call was popped or cleared is refused, as one that answers no call, and writes nothing', async () => {
    // Regression: the result's call was looked up in the audit, which keeps
    // popped and cleared calls, so a result for a call no longer in the history
    // was accepted (the history then held a tool result answering no call).
    const user = await db.createUser();
    const conversation = await newConversation(user);
    const refused = (error: unknown) => error instanceof ValidationError && error.constraint === 'tool_results_answers_call';
    await store.withUser(user, (tx) => tx.messages.appendTurn(conversation, turn('p').slice(0, 2)));
    await store.withUser(user, (tx) => tx.messages.clear(conversation));
    const before = await snapshotRows(db.admin, [user]);
    await assert.rejects(
      store.withUser(user, (tx) => tx.messages.append(conversation, { role: 'tool', toolCallId: 'call-p', content: 'late result' })),
      refused,
      'cleared',
    );
    assert.deepStrictEqual(await snapshotRows(db.admin, [user]), before, 'nothing of the refused result was written');
    // Popped (the conversation keeps its first message), in a turn with other messages.
    await store.withUser(user, (tx) => tx.messages.appendTurn(conversation, turn('q').slice(0, 2)));
    await store.withUser(user, (tx) => tx.messages.pop(conversation));
    const afterPop = await snapshotRows(db.admin, [user]);
    await assert.rejects(
      store.withUser(user, (tx) =>
        tx.messages.appendTurn(conversation, [
          { role: 'user', content: 'and?' },
          { role: 'tool', toolCallId: 'call-q', content: 'late result' },
        ]),
      ),
      refused,
      'popped',
    );
    assert.deepStrictEqual(await snapshotRows(db.admin, [user]), afterPop, 'nothing of the refused turn was written');
    await assertCounters(conversation, 1);
    const audit = await store.withUser(user, (tx) => auditOf(tx, conversation));
    assert.deepEqual(summary(audit).map((r) => [r.callId, r.results]), [['call-p', []], ['call-q', []]], 'the popped calls stay, unanswered');
  });

  test('a result answers the newest call of its id still in the history: popping the newer call makes it answer the older one', async () => {
    const user = await db.createUser();
    const conversation = await newConversation(user);
    await store.withUser(user, (tx) =>
      tx.messages.appendTurn(conversation, [
        { id: 'old', role: 'assistant', toolCalls: [{ id: 'call_0', name: 'add_task', arguments: { n: 1 } }] },
        { id: 'old-r', role: 'tool', toolCallId: 'call_0', content: 'first' },
        { id: 'new', role: 'assistant', toolCalls: [{ id: 'call_0', name: 'add_task', arguments: { n: 2 } }] },
      ]),
    );
    await store.withUser(user, (tx) => tx.messages.pop(conversation));
    await store.withUser(user, (tx) => tx.messages.append(conversation, { id: 'again-r', role: 'tool', toolCallId: 'call_0', content: 'again' }));
    const audit = await store.withUser(user, (tx) => auditOf(tx, conversation));
    assert.deepEqual(summary(audit), [
      { messageId: 'old', callId: 'call_0', arguments: { n: 1 }, results: [{ messageId: 'old-r', output: 'first' }, { messageId: 'again-r', output: 'again' }] },
      { messageId: 'new', callId: 'call_0', arguments: { n: 2 }, results: [] },
    ], 'two results of one call are both kept, oldest first');
  });
});

describe('clear', () => {
  test('clear returns how many went, leaves the conversation empty at position 0, and the audit whole', async () => {
    const user = await db.createUser();
    const conversation = await newConversation(user);
    await store.withUser(user, (tx) =>
      tx.messages.appendTurn(conversation, [
        ...turn('x'),
        { id: 'fc_x', format: 'openai-agents', item: { type: 'function_call', id: 'fc_x', callId: 'call-fx', name: 'list', arguments: '{}' } },
        { format: 'openai-agents', item: { type: 'function_call_result', callId: 'call-fx', name: 'list', status: 'completed', output: 'nothing' } },
      ]),
    );
    const auditBefore = await store.withUser(user, (tx) => auditOf(tx, conversation));
    const conversationBefore = await store.withUser(user, (tx) => tx.conversations.get(conversation));
    assert.equal(await store.withUser(user, (tx) => tx.messages.clear(conversation)), 6);
    await assertCounters(conversation, 0);
    const page = await store.withUser(user, (tx) => tx.messages.history(conversation));
    assert.deepEqual(page, { items: [], before: null, startsMidTurn: false });
    assert.deepEqual(await store.withUser(user, (tx) => tx.messages.all(conversation)), []);
    const after = await store.withUser(user, async (tx) => ({ audit: await auditOf(tx, conversation), conversation: await tx.conversations.get(conversation) }));
    assert.deepStrictEqual(after.audit, auditBefore, 'the audit is unchanged');
    assert.equal(after.audit.length, 2);
    assert.equal(after.conversation.version, conversationBefore.version, 'clearing is not an edit of the conversation: its version stays');
    assert.equal(await store.withUser(user, (tx) => tx.messages.clear(conversation)), 0);
    assert.equal((await store.withUser(user, (tx) => tx.messages.append(conversation, { role: 'user', content: 'fresh start' }))).position, 1);
    await assertCounters(conversation, 1);
  });
});

describe('replace', () => {
  test('replace keeps the id and the position, changes the content; the audit keeps the old calls and gains the new ones', async () => {
    const user = await db.createUser();
    const conversation = await newConversation(user);
    const [, call] = await store.withUser(user, (tx) => tx.messages.appendTurn(conversation, turn('r')));
    const replaced = await store.withUser(user, (tx) =>
      tx.messages.replace(conversation, 'r-c', {
        role: 'assistant',
        content: 'let me look that up, with a much longer text than before',
        toolCalls: [
          { id: 'call-r', name: 'add_task', arguments: { tag: 'r' } },
          { id: 'call-r2', name: 'list_tasks', arguments: {} },
        ],
      }),
    );
    assert.equal(replaced.id, 'r-c');
    assert.equal(replaced.position, 2);
    assert.equal(replaced.content, 'let me look that up, with a much longer text than before');
    assert.deepEqual(replaced.createdAt, call!.createdAt);
    assert.deepStrictEqual(await store.withUser(user, (tx) => tx.messages.get(conversation, 'r-c')), replaced);
    await assertCounters(conversation, 4);

    // Into another format: an Agents SDK item, then back to plain chat.
    const item: JsonObject = { type: 'function_call', id: 'fc_new', callId: 'call-r3', name: 'delete_task', arguments: '{"id":1}' };
    const asItem = await store.withUser(user, (tx) => tx.messages.replace(conversation, 'r-a', { format: 'openai-agents', item }));
    assert.deepStrictEqual(asItem.item, item);
    assert.equal(asItem.position, 4);
    assert.equal(asItem.content, '');
    await assertCounters(conversation, 4);
    const back = await store.withUser(user, (tx) => tx.messages.replace(conversation, 'r-a', { role: 'assistant', content: 'done' }));
    assert.equal(back.item, null);
    assert.equal(back.format, 'chat');
    await assertCounters(conversation, 4);

    const audit = await store.withUser(user, (tx) => auditOf(tx, conversation));
    assert.deepEqual(
      audit.map((r) => [r.messageId, r.callId, r.name, r.results.map((x) => x.messageId)]),
      [
        ['r-c', 'call-r', 'add_task', ['r-r']],
        ['r-c', 'call-r2', 'list_tasks', []],
        ['r-a', 'call-r3', 'delete_task', []],
      ],
      'the old call (kept, not recorded again: same arguments), the new one of the replaced message, and the call of the message replaced since',
    );
    const history = await store.withUser(user, (tx) => tx.messages.all(conversation));
    assert.deepEqual(history.map((m) => [m.id, m.position, m.content]), [
      ['r-q', 1, 'question r'],
      ['r-c', 2, 'let me look that up, with a much longer text than before'],
      ['r-r', 3, 'result r'],
      ['r-a', 4, 'done'],
    ]);
  });

  test('replacing a call with changed arguments records the new arguments and keeps the old record; a retried replace adds nothing', async () => {
    const user = await db.createUser();
    const conversation = await newConversation(user);
    await store.withUser(user, (tx) => tx.messages.appendTurn(conversation, turn('g', { title: 'milk' })));
    const changed: NewMessage = { role: 'assistant', toolCalls: [{ id: 'call-g', name: 'add_task', arguments: { title: 'oat milk', quantity: 2 } }] };
    await store.withUser(user, (tx) => tx.messages.replace(conversation, 'g-c', changed));
    const once = await store.withUser(user, (tx) => auditOf(tx, conversation));
    assert.deepEqual(summary(once), [
      { messageId: 'g-c', callId: 'call-g', arguments: { title: 'milk' }, results: [{ messageId: 'g-r', output: 'result g' }] },
      { messageId: 'g-c', callId: 'call-g', arguments: { title: 'oat milk', quantity: 2 }, results: [] },
    ]);
    // The same replacement again (a retried request): the same call of the same message is recorded once.
    await store.withUser(user, (tx) => tx.messages.replace(conversation, 'g-c', changed));
    assert.deepStrictEqual(await store.withUser(user, (tx) => auditOf(tx, conversation)), once, 'nothing recorded again');
    // A result appended now answers the newest call of its id: the replacement's.
    await store.withUser(user, (tx) => tx.messages.append(conversation, { id: 'g-r2', role: 'tool', toolCallId: 'call-g', content: 'oat milk added' }));
    const answered = await store.withUser(user, (tx) => auditOf(tx, conversation));
    assert.deepEqual(answered.map((r) => [r.arguments, r.results.map((x) => x.messageId)]), [
      [{ title: 'milk' }, ['g-r']],
      [{ title: 'oat milk', quantity: 2 }, ['g-r2']],
    ]);
    await assertCounters(conversation, 5);
  });

  test(
    'BUG: a retried replace whose arguments hold the same keys in another order records nothing again',
    async () => {
      // A retried append with the keys of the arguments in another order is a
      // retry (the stored message is the same JSON value); a retried replace is
      // not: the arguments are compared by md5 of their json text, so the same
      // call is recorded a second time.
      const user = await db.createUser();
      const conversation = await newConversation(user);
      await store.withUser(user, (tx) => tx.messages.append(conversation, { id: 'k-c', role: 'assistant', content: 'x' }));
      const withArgs = (args: JsonObject): NewMessage => ({ role: 'assistant', toolCalls: [{ id: 'call-k', name: 'add_task', arguments: args }] });
      await store.withUser(user, (tx) => tx.messages.replace(conversation, 'k-c', withArgs({ title: 'milk', quantity: 2 })));
      await store.withUser(user, (tx) => tx.messages.replace(conversation, 'k-c', withArgs({ quantity: 2, title: 'milk' })));
      const audit = await store.withUser(user, (tx) => auditOf(tx, conversation));
      assert.equal(audit.length, 1, `one call recorded: ${JSON.stringify(audit.map((r) => r.arguments))}`);
    },
  );

  test(
    'BUG: a result for a call that a replacement removed is refused, as one that answers no call of the history',
    async () => {
      const user = await db.createUser();
      const conversation = await newConversation(user);
      await store.withUser(user, (tx) => tx.messages.append(conversation, { id: 'm1', role: 'assistant', toolCalls: [{ id: 'call-gone', name: 'add_task', arguments: {} }] }));
      await store.withUser(user, (tx) => tx.messages.replace(conversation, 'm1', { role: 'assistant', content: 'never mind' }));
      await assert.rejects(
        store.withUser(user, (tx) => tx.messages.append(conversation, { role: 'tool', toolCallId: 'call-gone', content: 'late' })),
        (error: unknown) => error instanceof ValidationError && error.constraint === 'tool_results_answers_call',
      );
    },
  );

  test('an AI SDK message replaced as its tool part moves from input-available to output-available gains the result', async () => {
    const user = await db.createUser();
    const conversation = await newConversation(user);
    const id = 'Rp1aB2cD3eF4gH5i';
    const part = { type: 'tool-add_task', toolCallId: 'call-ui', input: { title: 'milk' } };
    await store.withUser(user, (tx) =>
      tx.messages.append(conversation, { format: 'ai-sdk', item: { id, role: 'assistant', parts: [{ ...part, state: 'input-available' }] } }),
    );
    const done = await store.withUser(user, (tx) =>
      tx.messages.replace(conversation, id, {
        format: 'ai-sdk',
        item: { id, role: 'assistant', parts: [{ ...part, state: 'output-available', output: { ok: true } }, { type: 'text', text: 'Added.' }] },
      }),
    );
    assert.equal(done.content, 'Added.');
    const audit = await store.withUser(user, (tx) => auditOf(tx, conversation));
    assert.deepEqual(summary(audit), [{ messageId: id, callId: 'call-ui', arguments: { title: 'milk' }, results: [{ messageId: id, output: { ok: true } }] }]);
    assert.equal(audit[0]!.results[0]!.status, 'output-available');
    await assert.rejects(
      store.withUser(user, (tx) => tx.messages.replace(conversation, id, { format: 'ai-sdk', item: { id: 'OtherIdOtherId16', role: 'assistant', parts: [] } })),
      ValidationError,
      "a UIMessage replaces only the message of its own id",
    );
    await assert.rejects(store.withUser(user, (tx) => tx.messages.replace(conversation, 'missing', { role: 'user', content: 'x' })), NotFoundError);
    await assertCounters(conversation, 1);
  });

  test('a replace that finds its message popped meanwhile changes nothing, even when its NotFoundError is caught', async () => {
    // Regression: ReplaceMessage adjusted history_bytes and wrote the audit
    // from what its snapshot saw, not from the row it updated: when a
    // concurrent pop deleted the message while the replace waited for its row
    // lock, the counter update and the audit inserts still happened, and a
    // caller that caught the NotFoundError committed them. A replace now locks
    // the conversation first, then reads the message with a fresh snapshot.
    const user = await db.createUser();
    const conversation = await newConversation(user);
    await store.withUser(user, (tx) => tx.messages.appendTurn(conversation, turn('z')));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let popped!: () => void;
    const didPop = new Promise<void>((resolve) => (popped = resolve));
    const pop = store.withUser(user, async (tx) => {
      await tx.messages.pop(conversation, 1);
      popped();
      await held;
    });
    await didPop;
    const replace = store.withUser(user, async (tx) => {
      try {
        await tx.messages.replace(conversation, 'z-a', {
          role: 'assistant',
          content: 'a much longer replacement answer that would change the byte count a lot',
          toolCalls: [{ id: 'call-ghost', name: 'add_task', arguments: {} }],
        });
        return 'replaced';
      } catch (error) {
        if (error instanceof NotFoundError) return 'not found';
        throw error;
      }
    });
    let waiting = false;
    for (let i = 0; i < 500 && !waiting; i++) {
      const { rows } = await db.admin.query<{ n: number }>(
        "select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
      );
      waiting = rows[0]!.n > 0;
      if (!waiting) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    release();
    await pop;
    assert.equal(await replace, 'not found');
    assert.ok(waiting, 'the replace waited for the pop');
    const audit = await store.withUser(user, (tx) => auditOf(tx, conversation));
    const { rows } = await db.admin.query<{ history_bytes: string; sum: string }>(
      `select c.history_bytes::text, (select sum(size_bytes)::text from todo_chat.messages m where m.conversation_id = c.id) as sum
       from todo_chat.conversations c where c.id = $1`,
      [conversation],
    );
    assert.deepEqual(
      { calls: audit.map((r) => r.callId), historyBytes: rows[0]!.history_bytes },
      { calls: ['call-z'], historyBytes: rows[0]!.sum },
      'no call recorded for a message that was not replaced, and history_bytes still the sum of the messages',
    );
    await assertCounters(conversation, 3);
  });
});

describe("another user's ids", () => {
  test("every method given another user's conversation or message id is a NotFoundError and changes nothing", async () => {
    const [victim, attacker] = await db.createUsers(2);
    const conversation = await newConversation(victim!);
    await store.withUser(victim!, (tx) => tx.messages.appendTurn(conversation, turn('v')));
    const own = await newConversation(attacker!);
    await store.withUser(attacker!, (tx) => tx.messages.appendTurn(own, turn('v')));
    const before = await snapshotRows(db.admin, [victim!, attacker!]);
    const attempts: [string, (tx: Transaction) => Promise<unknown>][] = [
      ['pop', (tx) => tx.messages.pop(conversation)],
      ['pop 500', (tx) => tx.messages.pop(conversation, 500)],
      ['clear', (tx) => tx.messages.clear(conversation)],
      ['replace', (tx) => tx.messages.replace(conversation, 'v-a', { role: 'assistant', content: 'pwned' })],
      ['get', (tx) => tx.messages.get(conversation, 'v-q')],
      ['history', (tx) => tx.messages.history(conversation)],
      ['all', (tx) => tx.messages.all(conversation)],
      ['batches', async (tx) => {
        for await (const batch of tx.messages.batches(conversation)) return batch;
      }],
      ['append', (tx) => tx.messages.append(conversation, { role: 'user', content: 'pwned' })],
      ['append a named id (a retry)', (tx) => tx.messages.appendTurn(conversation, [turn('v')[0]!])],
      ['append a result for their call', (tx) => tx.messages.append(conversation, { role: 'tool', toolCallId: 'call-v', content: 'pwned' })],
      ['audit', (tx) => tx.toolCalls.list({ conversationId: conversation })],
    ];
    for (const [what, attempt] of attempts) {
      await assert.rejects(store.withUser(attacker!, attempt), NotFoundError, what);
    }
    assert.deepStrictEqual(await snapshotRows(db.admin, [victim!, attacker!]), before);
    // The attacker's own audit shows only the attacker's calls.
    const audit = await store.withUser(attacker!, (tx) => auditOf(tx));
    assert.deepEqual(audit.map((r) => r.conversationId), [own]);
  });
});

describe('erasure', () => {
  test('deleting a conversation removes its messages and its audit, and nothing of the other conversations', async () => {
    const user = await db.createUser();
    const [gone, kept] = [await newConversation(user), await newConversation(user)];
    for (const conversation of [gone, kept]) {
      await store.withUser(user, (tx) => tx.messages.appendTurn(conversation, turn('d')));
      await store.withUser(user, (tx) => tx.messages.pop(conversation, 2)); // audit rows of popped messages too
    }
    const count = async (conversation: string) =>
      (
        await db.admin.query<{ messages: number; calls: number; results: number }>(
          `select (select count(*)::int from todo_chat.messages where conversation_id = $1) as messages,
                  (select count(*)::int from todo_chat.tool_calls where conversation_id = $1) as calls,
                  (select count(*)::int from todo_chat.tool_results where conversation_id = $1) as results`,
          [conversation],
        )
      ).rows[0];
    assert.deepEqual(await count(gone), { messages: 2, calls: 1, results: 1 });
    await store.withUser(user, (tx) => tx.conversations.delete(gone));
    assert.deepEqual(await count(gone), { messages: 0, calls: 0, results: 0 });
    assert.deepEqual(await count(kept), { messages: 2, calls: 1, results: 1 });
    await assert.rejects(store.withUser(user, (tx) => tx.toolCalls.list({ conversationId: gone })), NotFoundError);
    assert.equal((await store.withUser(user, (tx) => auditOf(tx))).length, 1);
  });

  test('erasing a user removes every message and every audit row, popped ones included, and nothing of anyone else', async () => {
    const [user, other] = await db.createUsers(2);
    for (const owner of [user!, other!]) {
      const conversation = await newConversation(owner);
      await store.withUser(owner, (tx) => tx.messages.appendTurn(conversation, [...turn('e1'), ...turn('e2')]));
      await store.withUser(owner, (tx) => tx.messages.pop(conversation, 4));
      await store.withUser(owner, (tx) => tx.messages.replace(conversation, 'e1-a', { role: 'assistant', content: 'x', toolCalls: [{ id: 'call-x', name: 'n', arguments: {} }] }));
    }
    const counts = await countRows(db.admin, user!);
    assert.deepEqual({ ...counts }, { users: 1, tasks: 0, conversations: 1, messages: 4, tool_calls: 3, tool_results: 2, turn_usage: 0 });
    const othersBefore = await snapshotRows(db.admin, [other!]);
    await store.withUser(user!, (tx) => tx.users.delete());
    assert.deepEqual({ ...(await countRows(db.admin, user!)) }, { users: 0, tasks: 0, conversations: 0, messages: 0, tool_calls: 0, tool_results: 0, turn_usage: 0 });
    assert.deepStrictEqual(await snapshotRows(db.admin, [other!]), othersBefore);
  });
});
