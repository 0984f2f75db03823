/**
 * The AI SDK helpers (todo-chat-db/ai-sdk) with the real `ai` package and a
 * scripted model: streamText runs the todo tools, onFinish saves the
 * response with saveUIMessages; the reloaded messages pass validateUIMessages
 * and convertToModelMessages; saving the same array again writes nothing; a
 * changed message is replaced in place, a regenerated or edited tail is
 * removed and appended; what a save cannot do is refused with nothing
 * written.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { convertToModelMessages, validateUIMessages, type InferUITools, type UIDataTypes, type UIMessage } from 'ai';
import { createTestDatabase } from '../helpers/db.js';
import { snapshotRows } from '../helpers/snapshots.js';
import { ConflictError, NotFoundError, UsageError, ValidationError, type Transaction } from '../../src/index.js';
import { aiSdkUsage, createTodoTools, loadUIMessages, saveUIMessages, type TodoTools } from '../../src/ai-sdk/index.js';
import { UI_MODEL_ID, chat, userMessage } from './fixtures/ui-chat.js';

/** The UIMessage of a chat with the todo tools, as an application types it. */
type TodoUIMessage = UIMessage<unknown, UIDataTypes, InferUITools<TodoTools>>;

const db = await createTestDatabase();
const store = db.store();

async function newChat(): Promise<{ user: string; conversationId: string }> {
  const user = await db.createUser();
  const conversation = await store.withUser(user, (tx) => tx.conversations.create({ title: 'ai sdk' }));
  return { user, conversationId: conversation.id };
}

const load = (user: string, conversationId: string) => store.withUser(user, (tx) => loadUIMessages(tx, conversationId));

/** A conversation of two requests: add a task (a tool call and a text), then list them. */
async function twoRequests() {
  const { user, conversationId } = await newChat();
  const tools = createTodoTools({ store, userId: user });
  const first = await chat({
    store,
    userId: user,
    conversationId,
    tools,
    messages: [userMessage('u1', 'Remind me to buy oat milk')],
    steps: [
      { toolCalls: [{ id: 'call_add', name: 'add_task', input: JSON.stringify({ title: 'Buy oat milk', description: null }) }], usage: [100, 20] },
      { text: 'Added it to your list.', usage: [150, 8] },
    ],
  });
  const history = await load(user, conversationId);
  const second = await chat({
    store,
    userId: user,
    conversationId,
    tools,
    messages: [...history, userMessage('u2', 'What is on my list?')],
    steps: [
      { toolCalls: [{ id: 'call_list', name: 'list_tasks', input: JSON.stringify({ completed: null, cursor: null }) }], usage: [200, 15] },
      { text: 'One task: Buy oat milk.', usage: [260, 9] },
    ],
  });
  return { user, conversationId, tools, first, second };
}

describe('saveUIMessages and loadUIMessages with streamText', () => {
  test('onFinish saves the response; the reload is what onFinish had, and the AI SDK validates and converts it', async () => {
    const { user, conversationId, tools, first, second } = await twoRequests();
    assert.deepEqual(
      { appended: first.saved.appended, replaced: first.saved.replaced, removed: first.saved.removed, unchanged: first.saved.unchanged },
      { appended: 2, replaced: 0, removed: 0, unchanged: 0 },
    );
    assert.deepEqual(
      { appended: second.saved.appended, replaced: second.saved.replaced, removed: second.saved.removed, unchanged: second.saved.unchanged },
      { appended: 2, replaced: 0, removed: 0, unchanged: 2 },
      'the first exchange is not written again',
    );
    const loaded = await load(user, conversationId);
    assert.deepStrictEqual(loaded, JSON.parse(JSON.stringify(second.messages)), 'exactly the messages onFinish received');
    assert.deepEqual(loaded.map((m) => [m.id, m.role]), [['u1', 'user'], [first.messages[1]!.id, 'assistant'], ['u2', 'user'], [second.messages[3]!.id, 'assistant']]);
    assert.match(loaded[1]!.id, /^msg-/);

    const typed = await store.withUser(user, (tx) => loadUIMessages<TodoUIMessage>(tx, conversationId));
    const validated = await validateUIMessages<TodoUIMessage>({ messages: typed, tools });
    assert.deepStrictEqual(validated, loaded);
    const modelMessages = await convertToModelMessages(validated);
    assert.deepEqual(modelMessages.map((m) => m.role), ['user', 'assistant', 'tool', 'assistant', 'user', 'assistant', 'tool', 'assistant']);

    // The second request's model saw the first exchange, tool call and result included.
    const prompt = JSON.stringify(second.model.doStreamCalls[0]!.prompt);
    assert.ok(prompt.includes('Buy oat milk') && prompt.includes('call_add'), prompt);

    // The tools ran for this user, and the audit has both calls with their results.
    const tasks = await store.withUser(user, (tx) => tx.tasks.list());
    assert.deepEqual(tasks.items.map((task) => task.title), ['Buy oat milk']);
    const audit = await store.withUser(user, (tx) => tx.toolCalls.list({ conversationId }));
    assert.deepEqual(audit.items.map((call) => [call.callId, call.name, call.results.map((r) => r.status)]), [
      ['call_add', 'add_task', ['output-available']],
      ['call_list', 'list_tasks', ['output-available']],
    ]);

    // Each request's usage, against its response message.
    assert.deepEqual(
      [first.saved.usage, second.saved.usage].map((u) => [u?.model, u?.requests, u?.inputTokens, u?.outputTokens, u?.messageId]),
      [
        [UI_MODEL_ID, 2, 250, 28, first.messages[1]!.id],
        [UI_MODEL_ID, 2, 460, 24, second.messages[3]!.id],
      ],
    );
  });

  test('saving the same array again writes nothing: no row changes, and the run is not counted twice', async () => {
    const { user, conversationId, second } = await twoRequests();
    const before = await snapshotRows(db.admin, [user]);
    const again = await store.withUser(user, (tx) =>
      saveUIMessages(tx, conversationId, second.messages, { usage: { model: UI_MODEL_ID, requests: 2, inputTokens: 460, outputTokens: 24 } }),
    );
    assert.deepEqual(again, { appended: 0, replaced: 0, removed: 0, unchanged: 4, usage: null });
    assert.deepEqual(await snapshotRows(db.admin, [user]), before, 'every row of the user as it was, timestamps included');
    // Fields the SDK left undefined do not count as a change either.
    const withUndefined = second.messages.map((m) => ({ ...m, metadata: undefined }));
    const third = await store.withUser(user, (tx) => saveUIMessages(tx, conversationId, withUndefined));
    assert.equal(third.unchanged, 4);
    assert.deepEqual(await snapshotRows(db.admin, [user]), before);
  });

  test('a "__proto__" key of the JSON a client sent is kept as data, and saving it again writes nothing', async () => {
    const { user, conversationId, second } = await twoRequests();
    const edited = [...second.messages.slice(0, -1), { ...second.messages.at(-1)!, metadata: JSON.parse('{"__proto__":{"polluted":true},"n":1}') as unknown }];
    const saved = await store.withUser(user, (tx) => saveUIMessages(tx, conversationId, edited));
    assert.equal(saved.replaced, 1);
    const loaded = await store.withUser(user, (tx) => loadUIMessages(tx, conversationId));
    assert.deepStrictEqual(loaded, JSON.parse(JSON.stringify(edited)));
    assert.ok(Object.hasOwn(loaded.at(-1)!.metadata as object, '__proto__'), 'the key is an own property');
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'and no prototype was touched');
    const again = await store.withUser(user, (tx) => saveUIMessages(tx, conversationId, edited));
    assert.equal(again.unchanged, 4);
  });

  test('a changed last message is replaced in place, not duplicated; the audit keeps the old calls and adds the new', async () => {
    const { user, conversationId, second } = await twoRequests();
    const messages = structuredClone(second.messages);
    const last = messages.at(-1)!;
    const before = await store.withUser(user, (tx) => tx.messages.get(conversationId, last.id));
    // The client added a tool result after the response (addToolResult), say: here, a new text part and a new call.
    last.parts.push({ type: 'text', text: ' Anything else?' });
    last.parts.push({ type: 'tool-add_task', toolCallId: 'call_extra', state: 'output-available', input: { title: 'Bread', description: null }, output: { ok: true } } as UIMessage['parts'][number]);
    const saved = await store.withUser(user, (tx) => saveUIMessages(tx, conversationId, messages));
    assert.deepEqual({ ...saved, usage: undefined }, { appended: 0, replaced: 1, removed: 0, unchanged: 3, usage: undefined });
    const stored = await store.withUser(user, (tx) => tx.messages.all(conversationId));
    assert.equal(stored.length, 4, 'still four messages');
    assert.equal(stored[3]!.id, last.id);
    assert.equal(stored[3]!.position, before.position);
    assert.deepEqual(stored[3]!.item, JSON.parse(JSON.stringify(last)));
    assert.match(stored[3]!.content, /Anything else\?/);
    assert.deepStrictEqual(await load(user, conversationId), JSON.parse(JSON.stringify(messages)));
    const audit = await store.withUser(user, (tx) => tx.toolCalls.list({ conversationId }));
    assert.deepEqual(audit.items.map((call) => call.callId), ['call_add', 'call_list', 'call_extra']);
  });

  test('a regenerated response (another id in the last place) removes the old one and appends the new', async () => {
    const { user, conversationId, second } = await twoRequests();
    const regenerated: UIMessage = { id: 'msg-regenerated', role: 'assistant', parts: [{ type: 'text', text: 'Your list: Buy oat milk.' }] };
    const messages = [...second.messages.slice(0, 3), regenerated];
    const saved = await store.withUser(user, (tx) => saveUIMessages(tx, conversationId, messages));
    assert.deepEqual({ ...saved, usage: undefined }, { appended: 1, replaced: 0, removed: 1, unchanged: 3, usage: undefined });
    assert.deepEqual((await load(user, conversationId)).map((m) => m.id), ['u1', second.messages[1]!.id, 'u2', 'msg-regenerated']);
    // An edit of the first user message (the client drops what followed and asks again).
    const edited = [{ ...userMessage('u1', 'Remind me to buy soy milk') }, { id: 'msg-after-edit', role: 'assistant' as const, parts: [{ type: 'text' as const, text: 'Done.' }] }];
    const afterEdit = await store.withUser(user, (tx) => saveUIMessages(tx, conversationId, edited));
    assert.deepEqual({ ...afterEdit, usage: undefined }, { appended: 1, replaced: 1, removed: 3, unchanged: 0, usage: undefined });
    const reloaded = await load(user, conversationId);
    assert.deepStrictEqual(reloaded, edited);
    const positions = (await store.withUser(user, (tx) => tx.messages.all(conversationId))).map((m) => m.position);
    assert.deepEqual(positions, [1, 2]);
    // And the empty array empties the conversation, which stays.
    const cleared = await store.withUser(user, (tx) => saveUIMessages(tx, conversationId, []));
    assert.deepEqual({ ...cleared, usage: undefined }, { appended: 0, replaced: 0, removed: 2, unchanged: 0, usage: undefined });
    assert.deepEqual(await load(user, conversationId), []);
  });

  test('more than one append of messages (over 100, the turn cap): all saved, in order, in one transaction', async () => {
    const { user, conversationId } = await newChat();
    const many = Array.from({ length: 230 }, (_, i) => userMessage(`m${i}`, `message ${i}`));
    const saved = await store.withUser(user, (tx) => saveUIMessages(tx, conversationId, many));
    assert.equal(saved.appended, 230);
    assert.deepStrictEqual(await load(user, conversationId), many);
    assert.deepEqual(
      (await store.withUser(user, (tx) => loadUIMessages(tx, conversationId, { limit: 3 }))).map((m) => m.id),
      ['m227', 'm228', 'm229'],
    );
    // A failure in the last append rolls back the first two.
    const { conversationId: other } = await (async () => ({ conversationId: (await store.withUser(user, (tx) => tx.conversations.create())).id }))();
    const broken = [...many, { id: 'bad', role: 'robot', parts: [] } as unknown as UIMessage];
    await assert.rejects(store.withUser(user, (tx) => saveUIMessages(tx, other, broken)), ValidationError);
    assert.deepEqual(await load(user, other), []);
  });

  test('refused, with nothing written: a message without an id, repeated ids, a bad message; another user\'s conversation is NotFoundError', async () => {
    const { user, conversationId } = await newChat();
    await store.withUser(user, (tx) => saveUIMessages(tx, conversationId, [userMessage('u1', 'hi')]));
    const before = await snapshotRows(db.admin, [user]);
    const attempts: [unknown, (error: unknown) => boolean][] = [
      [[userMessage('u1', 'hi'), { id: '', role: 'assistant', parts: [] }], (e) => e instanceof ValidationError && /generateMessageId/.test(e.message)],
      [[userMessage('u1', 'hi'), { role: 'assistant', parts: [] }], (e) => e instanceof ValidationError && /generateMessageId/.test(e.message)],
      [[userMessage('x', 'a'), userMessage('x', 'b')], (e) => e instanceof ValidationError && /also the id of message 0/.test(e.message)],
      [[userMessage('u1', 'hi'), { id: 'a1', role: 'assistant', parts: [{ type: 'text', text: new Date() }] }], (e) => e instanceof ValidationError],
      [[userMessage('u1', 'hi'), { id: 'a1', role: 'assistant', parts: 'nope' }], (e) => e instanceof ValidationError],
      ['not an array', (e) => e instanceof ValidationError],
      [[null], (e) => e instanceof ValidationError],
    ];
    for (const [messages, check] of attempts) {
      await assert.rejects(
        store.withUser(user, (tx) => saveUIMessages(tx, conversationId, messages as UIMessage[])),
        (error: unknown) => check(error) || assert.fail(`unexpected ${String(error)} for ${JSON.stringify(messages)}`),
      );
    }
    assert.deepEqual(await snapshotRows(db.admin, [user]), before);

    const { user: other, conversationId: theirs } = await newChat();
    await store.withUser(other, (tx) => saveUIMessages(tx, theirs, [userMessage('secret', 'their secret')]));
    const theirsBefore = await snapshotRows(db.admin, [other]);
    await assert.rejects(store.withUser(user, (tx) => saveUIMessages(tx, theirs, [userMessage('secret', 'overwrite')])), NotFoundError);
    await assert.rejects(store.withUser(user, (tx) => saveUIMessages(tx, theirs, [])), NotFoundError);
    await assert.rejects(store.withUser(user, (tx) => loadUIMessages(tx, theirs)), NotFoundError);
    await assert.rejects(store.withUser(user, (tx) => loadUIMessages(tx, theirs, { limit: 5 })), NotFoundError);
    assert.deepEqual(await snapshotRows(db.admin, [other]), theirsBefore);
  });

  test('a conversation holding messages of another format is a UsageError for both, and nothing is removed', async () => {
    const { user, conversationId } = await newChat();
    await store.withUser(user, (tx) => tx.messages.append(conversationId, { role: 'user', content: 'plain chat' }));
    await assert.rejects(store.withUser(user, (tx) => loadUIMessages(tx, conversationId)), UsageError);
    await assert.rejects(store.withUser(user, (tx) => saveUIMessages(tx, conversationId, [userMessage('u1', 'x')])), UsageError);
    // Its id differs at the first place: it would be removed, and that is refused too.
    const before = await snapshotRows(db.admin, [user]);
    await assert.rejects(store.withUser(user, (tx) => saveUIMessages(tx, conversationId, [])), UsageError);
    assert.deepEqual(await snapshotRows(db.admin, [user]), before);
  });

  test('a save that raced with another save of the same conversation is a ConflictError, and the retry wins', async () => {
    const { user, conversationId } = await newChat();
    await store.withUser(user, (tx) => saveUIMessages(tx, conversationId, [userMessage('u1', 'one'), userMessage('u2', 'two')]));
    const mine = [userMessage('u1', 'one'), userMessage('u3', 'three')];
    // Another request (another store: its own transaction, not joined) appends right after this one
    // counted the stored messages, before it wrote anything.
    const otherRequest = db.store();
    const racing = (tx: Transaction): Transaction =>
      Object.freeze({
        ...tx,
        messages: Object.freeze({
          ...tx.messages,
          async history(...args: Parameters<Transaction['messages']['history']>) {
            const page = await tx.messages.history(...args);
            await otherRequest.withUser(user, (other) =>
              saveUIMessages(other, conversationId, [userMessage('u1', 'one'), userMessage('u2', 'two'), userMessage('u9', 'other tab')]),
            );
            return page;
          },
        }),
      });
    await assert.rejects(store.withUser(user, (tx) => saveUIMessages(racing(tx), conversationId, mine)), ConflictError);
    assert.deepEqual((await load(user, conversationId)).map((m) => m.id), ['u1', 'u2', 'u9'], 'the other save is intact');
    const retried = await store.withUser(user, (tx) => saveUIMessages(tx, conversationId, mine));
    assert.deepEqual({ ...retried, usage: undefined }, { appended: 1, replaced: 0, removed: 2, unchanged: 1, usage: undefined });
    assert.deepEqual((await load(user, conversationId)).map((m) => m.id), ['u1', 'u3']);
  });

  test('aiSdkUsage reads a streamText result, a generateText result or an onFinish event', async () => {
    assert.deepEqual(
      await aiSdkUsage({ totalUsage: Promise.resolve({ inputTokens: 7, outputTokens: 3 }), steps: Promise.resolve([1, 2, 3]), response: Promise.resolve({ modelId: 'm' }) }),
      { model: 'm', requests: 3, inputTokens: 7, outputTokens: 3 },
    );
    assert.deepEqual(await aiSdkUsage({ usage: { inputTokens: undefined, outputTokens: 4 }, response: { modelId: 'x' } }, { id: 'run-1' }), {
      model: 'x',
      requests: 1,
      inputTokens: 0,
      outputTokens: 4,
      id: 'run-1',
    });
    assert.deepEqual(await aiSdkUsage({ totalUsage: { inputTokens: 1, outputTokens: 1 }, steps: [] }, { model: 'named' }), {
      model: 'named',
      requests: 1,
      inputTokens: 1,
      outputTokens: 1,
    });
  });
});
