/**
 * PostgresSession against the Agents SDK's Session contract, with the SDK's
 * own MemorySession as the reference: any sequence of addItems, getItems
 * (with and without a limit), popItem and clearSession gives the same answers
 * from both. And what a session over a database adds: it joins an open
 * withUser of its user and refuses another user's, another user's
 * conversation is a NotFoundError that changes nothing, writes are all or
 * nothing, what is not JSON is refused, a conversation of another format is
 * a UsageError, the tool-call audit survives pops and clears, and a run's
 * usage is recorded against its turn.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { MemorySession, type AgentInputItem } from '@openai/agents-core';
import { createTestDatabase } from '../helpers/db.js';
import { snapshotRows } from '../helpers/snapshots.js';
import { NotFoundError, UsageError, ValidationError, LIMITS } from '../../src/index.js';
import { PostgresSession } from '../../src/agents/index.js';

const db = await createTestDatabase();
const store = db.store();

async function newSession(options: { historyLimit?: number } = {}): Promise<PostgresSession> {
  return PostgresSession.create({ store, userId: await db.createUser(), ...options });
}

let calls = 0;
const userItem = (text: string): AgentInputItem => ({ type: 'message', role: 'user', content: text });
const assistantItem = (text: string): AgentInputItem => ({ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text }] });
const reasoningItem = (text: string): AgentInputItem => ({ type: 'reasoning', id: `rs_${text.length}`, content: [{ type: 'input_text', text }], providerData: { encryptedContent: `enc-${text}` } });
function callAndResult(name: string, args: object, output: string): AgentInputItem[] {
  const callId = `call_${++calls}`;
  return [
    { type: 'function_call', callId, name, arguments: JSON.stringify(args), status: 'completed' },
    { type: 'function_call_result', callId, name, status: 'completed', output: { type: 'text', text: output } },
  ];
}

/** A run's items: a user message, maybe reasoning, maybe tool calls with their results, an answer. */
const turnArb = fc
  .record({
    question: fc.string({ maxLength: 40 }),
    reasoning: fc.option(fc.string({ minLength: 1, maxLength: 20 }), { nil: undefined }),
    tools: fc.array(fc.record({ title: fc.string({ maxLength: 10 }), output: fc.string({ maxLength: 10 }) }), { maxLength: 3 }),
    answer: fc.string({ maxLength: 40 }),
  })
  .map(({ question, reasoning, tools, answer }) => [
    userItem(question),
    ...(reasoning === undefined ? [] : [reasoningItem(reasoning)]),
    ...tools.flatMap((tool) => callAndResult('add_task', { title: tool.title }, tool.output)),
    assistantItem(answer),
  ]);

type Operation = { op: 'add'; items: AgentInputItem[] } | { op: 'get'; limit?: number } | { op: 'pop' } | { op: 'clear' };
const operationArb: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 5, arbitrary: turnArb.map((items) => ({ op: 'add' as const, items })) },
  { weight: 3, arbitrary: fc.option(fc.integer({ min: -2, max: 30 }), { nil: undefined }).map((limit) => (limit === undefined ? { op: 'get' as const } : { op: 'get' as const, limit })) },
  { weight: 2, arbitrary: fc.constant({ op: 'pop' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'clear' as const }) },
);

async function apply(session: PostgresSession | MemorySession, operation: Operation): Promise<unknown> {
  switch (operation.op) {
    case 'add':
      return session.addItems(structuredClone(operation.items));
    case 'get':
      return session.getItems(operation.limit);
    case 'pop':
      return session.popItem();
    case 'clear':
      return session.clearSession();
  }
}

describe('PostgresSession keeps the Session contract, as MemorySession does', () => {
  test('any sequence of addItems, getItems(limit?), popItem and clearSession answers as MemorySession does', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(operationArb, { minLength: 1, maxLength: 14 }), async (operations) => {
        runs++;
        const postgres = await newSession();
        const memory = new MemorySession();
        for (const operation of operations) {
          const [got, expected] = [await apply(postgres, operation), await apply(memory, operation)];
          assert.deepStrictEqual(got, expected, `${operation.op} ${JSON.stringify(operation)}`);
        }
        assert.deepStrictEqual(await postgres.getItems(), await memory.getItems());
      }),
      { numRuns: 30 },
    );
    assert.equal(runs, 30);
  });

  test('getItems(limit) is the newest `limit` items in chronological order, beyond a history page (500) too', async () => {
    const session = await newSession();
    const items = Array.from({ length: 1_234 }, (_, i) => userItem(`message ${i}`));
    await session.addItems(items);
    for (const limit of [1, 2, 499, 500, 501, 1_000, 1_233, 1_234, 5_000]) {
      assert.deepStrictEqual(await session.getItems(limit), items.slice(-limit), `limit ${limit}`);
    }
    assert.deepStrictEqual(await session.getItems(0), []);
    assert.deepStrictEqual(await session.getItems(-3), []);
    assert.deepStrictEqual(await session.getItems(), items);
    await assert.rejects(session.getItems(2.5), ValidationError);
    await assert.rejects(session.getItems(Number.NaN), ValidationError);
    // The newest item may be a tool result: getItems(limit) returns exactly what was asked, as MemorySession does.
    const [call, result] = callAndResult('list_tasks', {}, 'none');
    await session.addItems([call!, result!]);
    assert.deepStrictEqual(await session.getItems(1), [result]);
  });

  test('historyLimit: what the runner gets (getItems()) is the newest items from a turn\'s start, never an orphaned tool result', async () => {
    const session = await newSession({ historyLimit: 3 });
    const turn = [userItem('add two'), ...callAndResult('add_task', { title: 'a' }, 'ok'), ...callAndResult('add_task', { title: 'b' }, 'ok'), assistantItem('done')];
    await session.addItems([userItem('earlier'), assistantItem('earlier answer')]);
    await session.addItems(turn);
    // The newest 3 would start with a result; the page reaches back to its call.
    const got = await session.getItems();
    assert.deepStrictEqual(got, turn.slice(3));
    assert.equal((got[0] as { type: string }).type, 'function_call');
    assert.deepStrictEqual(await session.getItems(3), turn.slice(-3), 'an explicit limit is exact');
    for (const bad of [0, 501, 1.5]) {
      assert.throws(() => new PostgresSession({ store, userId: session.userId, conversationId: session.conversationId, historyLimit: bad }), ValidationError);
    }
  });

  test('fields the SDK left undefined are stored without them, as JSON would; what is not JSON is refused and nothing is written', async () => {
    const session = await newSession();
    await session.addItems([{ type: 'message', role: 'user', content: 'hi', providerData: undefined } as AgentInputItem]);
    assert.deepStrictEqual(await session.getItems(), [{ type: 'message', role: 'user', content: 'hi' }]);
    // A "__proto__" key of parsed JSON is data: kept as a key, never taken for the copy's prototype.
    const parsed = JSON.parse('{"type":"message","role":"user","content":"proto","providerData":{"__proto__":{"polluted":true},"n":1}}') as AgentInputItem;
    await session.addItems([parsed]);
    assert.deepStrictEqual((await session.getItems()).at(-1), parsed);
    assert.equal(Object.getPrototypeOf((await session.getItems()).at(-1)!.providerData), Object.prototype);
    await session.popItem();
    const before = await snapshotRows(db.admin, [session.userId]);
    const bad: unknown[] = [
      [userItem('fine'), { type: 'message', role: 'user', content: [{ type: 'input_image', image: new Uint8Array([1, 2]) }] }],
      [userItem('fine'), { type: 'message', role: 'user', content: 'x', providerData: { at: new Date() } }],
      [userItem('fine'), { type: 'message', role: 'user', content: 'x', providerData: { n: 10n } }],
      [userItem('fine'), { type: 'message', role: 'robot', content: 'x' }],
      [userItem('fine'), { type: 'function_call_result', callId: 'call_never_made', name: 'x', status: 'completed', output: 'x' }],
      [...Array.from({ length: 150 }, (_, i) => userItem(`m${i}`)), { type: 'message', role: 'user', content: '\u0000' }],
      'not a list',
    ];
    for (const items of bad) {
      await assert.rejects(session.addItems(items as AgentInputItem[]), ValidationError, JSON.stringify(items, (_k, v) => (typeof v === 'bigint' ? String(v) : v)).slice(0, 200));
    }
    assert.deepEqual(await snapshotRows(db.admin, [session.userId]), before, 'no partial write, even across appends');
  });

  test('it joins an open withUser of its user (one transaction: rolled back together) and refuses another user\'s', async () => {
    const session = await newSession();
    await assert.rejects(
      store.withUser(session.userId, async (tx) => {
        await tx.tasks.create({ title: 'in the same transaction' });
        await session.addItems([userItem('joined')]);
        assert.deepStrictEqual(await session.getItems(), [userItem('joined')], 'the joined write is visible inside');
        throw new Error('roll back');
      }),
      /roll back/,
    );
    assert.deepStrictEqual(await session.getItems(), []);
    assert.deepEqual((await store.withUser(session.userId, (tx) => tx.tasks.list())).items, []);

    const other = await db.createUser();
    const before = await snapshotRows(db.admin, [session.userId, other]);
    await assert.rejects(store.withUser(other, () => session.addItems([userItem('as another user')])), UsageError);
    await assert.rejects(store.withUser(other, () => session.getItems()), UsageError);
    assert.deepEqual(await snapshotRows(db.admin, [session.userId, other]), before);
  });

  test("another user's conversation: every method is a NotFoundError, never an empty history, and nothing changes", async () => {
    const owner = await newSession();
    await owner.addItems([userItem('private'), ...callAndResult('add_task', { title: 'private' }, 'ok')]);
    const intruder = await db.createUser();
    const session = new PostgresSession({ store, userId: intruder, conversationId: owner.conversationId });
    const before = await snapshotRows(db.admin, [owner.userId, intruder]);
    const attempts: [string, () => Promise<unknown>][] = [
      ['getSessionId', () => session.getSessionId()],
      ['getItems()', () => session.getItems()],
      ['getItems(10)', () => session.getItems(10)],
      ['getItems(0)', () => session.getItems(0)],
      ['addItems', () => session.addItems([userItem('write into it')])],
      ['popItem', () => session.popItem()],
      ['clearSession', () => session.clearSession()],
      ['recordUsage', () => session.recordUsage({ requests: 1, inputTokens: 1, outputTokens: 1 }, { model: 'm' })],
    ];
    for (const [name, attempt] of attempts) {
      await assert.rejects(attempt(), (error: unknown) => error instanceof NotFoundError && error.entity === 'conversation', name);
    }
    assert.deepEqual(await snapshotRows(db.admin, [owner.userId, intruder]), before);
    // Exactly what a conversation that exists for nobody gives.
    const nobody = new PostgresSession({ store, userId: intruder, conversationId: crypto.randomUUID() });
    await assert.rejects(nobody.getItems(), (error: unknown) => error instanceof NotFoundError && error.entity === 'conversation');
  });

  test('create() makes the user\'s row and a conversation; the constructor checks its options', async () => {
    const user = crypto.randomUUID();
    const session = await PostgresSession.create({ store, userId: user.toUpperCase(), title: 'Groceries' });
    assert.equal(session.userId, user);
    assert.equal(await session.getSessionId(), session.conversationId);
    const conversation = await store.withUser(user, (tx) => tx.conversations.get(session.conversationId));
    assert.equal(conversation.title, 'Groceries');
    assert.throws(() => new PostgresSession({ store, userId: 'nobody', conversationId: session.conversationId }), ValidationError);
    assert.throws(() => new PostgresSession({ store, userId: user, conversationId: 'c1' }), ValidationError);
    assert.throws(() => new PostgresSession({ store: {} as never, userId: user, conversationId: session.conversationId }), UsageError);
    await assert.rejects(PostgresSession.create({ store, userId: '00000000-0000-0000-0000-000000000000' }), ValidationError);
  });

  test('a conversation holding messages of another format: getItems and popItem are a UsageError, and nothing is popped', async () => {
    const session = await newSession();
    await session.addItems([userItem('agents item')]);
    await store.withUser(session.userId, (tx) => tx.messages.append(session.conversationId, { role: 'assistant', content: 'plain chat' }));
    await assert.rejects(session.getItems(), UsageError);
    await assert.rejects(session.getItems(1), UsageError);
    await assert.rejects(session.popItem(), UsageError);
    assert.equal((await store.withUser(session.userId, (tx) => tx.messages.all(session.conversationId))).length, 2, 'the pop was rolled back');
  });

  test('popping and clearing edit the history, not the tool-call audit', async () => {
    const session = await newSession();
    const [call, result] = callAndResult('add_task', { title: 'milk' }, 'added');
    await session.addItems([userItem('add milk'), call!, result!, assistantItem('done')]);
    assert.deepStrictEqual(await session.popItem(), assistantItem('done'));
    assert.deepStrictEqual(await session.popItem(), result);
    await session.clearSession();
    assert.deepStrictEqual(await session.getItems(), []);
    assert.equal(await session.popItem(), undefined);
    const audit = await store.withUser(session.userId, (tx) => tx.toolCalls.list({ conversationId: session.conversationId }));
    assert.deepEqual(audit.items.map((c) => [c.name, c.arguments, c.results.map((r) => r.output)]), [['add_task', JSON.stringify({ title: 'milk' }), [{ type: 'text', text: 'added' }]]]);
    // A result whose call was popped is refused, like one that answers nothing.
    await assert.rejects(session.addItems([result!]), (error: unknown) => error instanceof ValidationError && error.constraint === 'tool_results_answers_call');
  });

  test('recordUsage: a run result or its usage, against the last item this session added; the model by name', async () => {
    const session = await newSession();
    await session.addItems([userItem('q'), assistantItem('a')]);
    const [, answer] = await store.withUser(session.userId, (tx) => tx.messages.all(session.conversationId));
    const run = { state: { usage: { requests: 3, inputTokens: 120, outputTokens: 40 } }, lastAgent: { model: 'gpt-test' } };
    const recorded = await session.recordUsage(run);
    assert.deepEqual(
      { model: recorded.model, requests: recorded.requests, inputTokens: recorded.inputTokens, outputTokens: recorded.outputTokens, messageId: recorded.messageId, conversationId: recorded.conversationId },
      { model: 'gpt-test', requests: 3, inputTokens: 120, outputTokens: 40, messageId: answer!.id, conversationId: session.conversationId },
    );
    // A Model object has no name: the caller names it.
    await assert.rejects(session.recordUsage({ state: run.state, lastAgent: { model: {} } }), (error: unknown) => error instanceof ValidationError && /name the model/.test(error.message));
    const usageOnly = await session.recordUsage({ inputTokens: 5, outputTokens: 6 }, { model: 'named', id: 'resp_1' });
    assert.equal(usageOnly.requests, 1);
    // Recording the same run again (a retry) is not a second run.
    assert.deepEqual(await session.recordUsage({ inputTokens: 5, outputTokens: 6 }, { model: 'named', id: 'resp_1' }), usageOnly);
    const totals = await store.withUser(session.userId, (tx) => tx.usage.total({ conversationId: session.conversationId }));
    assert.deepEqual([totals.runs, totals.requests, totals.inputTokens, totals.outputTokens], [2, 4, 125, 46]);
    // A fresh session (another request) has added nothing: messageId is null unless given.
    const later = new PostgresSession({ store, userId: session.userId, conversationId: session.conversationId });
    assert.equal((await later.recordUsage(run)).messageId, null);
    await assert.rejects(later.recordUsage({ inputTokens: -1, outputTokens: 0 }, { model: 'm' }), ValidationError);
    assert.equal(LIMITS.usage.maxCount, Number.MAX_SAFE_INTEGER);
  });
});
