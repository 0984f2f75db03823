/**
 * Concurrent isolation: 100 users at once on one store whose pool has 10
 * connections, each doing a random mix of operations (creates, patches,
 * deletes, whole tool-call turns in plain chat and as Agents SDK items and AI
 * SDK UIMessages, retries of stored messages (idempotent) and conflicting
 * re-uses of their ids, pops, clears, replacements, reads of the tool-call
 * audit, rolled-back transactions, attempts on other users' ids, and ids that
 * several users share on purpose, since task and conversation ids are unique
 * per user and message ids per conversation). Every user keeps an in-test
 * model of what they should own: their tasks, their conversations with their
 * messages by position, and the audit of their tool calls and results.
 * During the run each user's own reads must equal their model; at the end,
 * every user's rows (read as superuser, and through users.export) must be
 * exactly their model: nothing missing, nothing extra, nothing of anyone else,
 * and every conversation's counters must agree with its messages.
 *
 * The mix is random but reproducible: TCDB_CONCURRENCY_SEED=<n> replays a run (the
 * seed is printed).
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { ConflictError, NotFoundError, type Message, type NewMessage, type Store, type ToolCallRecord, type Transaction } from '../../src/index.js';

const USERS = 100;
const STEPS = 20;
const POOL_SIZE = 10;
const seed = Number(process.env.TCDB_CONCURRENCY_SEED ?? crypto.randomInt(2 ** 31));

let db: TestDatabase;
let store: Store;

before(async () => {
  db = await createTestDatabase();
  store = db.store({ maxConnections: POOL_SIZE });
});

/** mulberry32: a small seeded PRNG, so that a failing mix can be replayed. */
function prng(s: number): () => number {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A stored message as the model knows it: its row, and what was given for it (with its id), which a retry sends again. */
interface ModelMessage {
  id: string;
  role: string;
  format: string;
  content: string;
  toolCalls: unknown;
  toolCallId: string | null;
  item: unknown;
  input: NewMessage;
}
/** One tool call of the audit and the messages whose results answered it. */
interface ModelCall {
  conversationId: string;
  messageId: string;
  callId: string;
  name: string;
  format: string;
  results: string[];
}
interface Model {
  userId: string;
  tasks: Map<string, { title: string; description: string; completed: boolean }>;
  conversations: Map<string, { title: string | null; status: string; messages: ModelMessage[] }>;
  /** The audit: append-only, but it goes with its conversation. */
  calls: ModelCall[];
}

/** Ids that several users use for their own rows at once (ids are unique per user, not globally). */
const SHARED_TASK_IDS = Array.from({ length: 5 }, () => crypto.randomUUID());
const SHARED_CONVERSATION_IDS = Array.from({ length: 5 }, () => crypto.randomUUID());
/** Message ids that several users use in their own conversations (message ids are unique per conversation). */
const SHARED_MESSAGE_IDS = ['msg_shared', 'MSG-SHARED', crypto.randomUUID().toUpperCase()];
/** Every id any user created that is theirs alone: the targets of cross-user attempts. */
const privateTaskIds = new Map<string, string>();
const privateConversationIds = new Map<string, string>();

/** How often each kind of operation committed (or was refused as it should), summed over all users. */
const done: Record<string, number> = {};
const count = (kind: string) => {
  done[kind] = (done[kind] ?? 0) + 1;
};

class Abort extends Error {}

function pick<T>(random: () => number, items: T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

/**
 * What a turn will store and add to the audit: per message, its row (and which call it makes or answers), as
 * the library documents deriving it; ids are taken from what the append returned.
 */
interface Planned {
  input: NewMessage;
  row: Omit<ModelMessage, 'id' | 'input'>;
  call?: { callId: string; name: string };
  answers?: string;
}

/** A plain chat turn: question, assistant call, tool result, answer. */
function chatTurn(tag: string, callId: string, index: number, step: number): Planned[] {
  const toolCalls = [{ id: callId, name: 'create_task', arguments: { user: index, step } }];
  return [
    { input: { role: 'user', content: `please ${tag}` }, row: { role: 'user', format: 'chat', content: `please ${tag}`, toolCalls: null, toolCallId: null, item: null } },
    { input: { role: 'assistant', toolCalls }, row: { role: 'assistant', format: 'chat', content: '', toolCalls, toolCallId: null, item: null }, call: { callId, name: 'create_task' } },
    {
      input: { role: 'tool', toolCallId: callId, content: `ok ${tag}` },
      row: { role: 'tool', format: 'chat', content: `ok ${tag}`, toolCalls: null, toolCallId: callId, item: null },
      answers: callId,
    },
    { input: { role: 'assistant', content: `done ${tag}` }, row: { role: 'assistant', format: 'chat', content: `done ${tag}`, toolCalls: null, toolCallId: null, item: null } },
  ];
}

/** An Agents SDK turn: user message, function_call, function_call_result, assistant message. */
function agentsTurn(tag: string, callId: string): Planned[] {
  const items = [
    { role: 'user', content: `list ${tag} 😀` },
    { type: 'function_call', callId, name: 'list_tasks', arguments: JSON.stringify({ tag }), status: 'completed' },
    { type: 'function_call_result', callId, name: 'list_tasks', status: 'completed', output: { type: 'text', text: `listed ${tag}` } },
    { type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: `done ${tag}` }] },
  ];
  const sdk = (item: (typeof items)[number], role: string, content: string) => ({
    input: { format: 'openai-agents', item } as NewMessage,
    row: { role, format: 'openai-agents', content, toolCalls: null, toolCallId: null, item },
  });
  return [
    sdk(items[0]!, 'user', `list ${tag} 😀`),
    { ...sdk(items[1]!, 'assistant', ''), call: { callId, name: 'list_tasks' } },
    { ...sdk(items[2]!, 'tool', `listed ${tag}`), answers: callId },
    sdk(items[3]!, 'assistant', `done ${tag}`),
  ];
}

/** An AI SDK turn: the user's UIMessage, and the assistant's with a tool part that carries its own output. */
function aiSdkTurn(tag: string, callId: string): Planned[] {
  const user = { id: `ui-u-${tag}`, role: 'user', parts: [{ type: 'text', text: `add ${tag}` }] };
  const assistant = {
    id: `ui-a-${tag}`,
    role: 'assistant',
    parts: [
      { type: 'step-start' },
      { type: 'tool-add_task', toolCallId: callId, state: 'output-available', input: { title: tag }, output: { ok: true } },
      { type: 'text', text: `added ${tag}` },
    ],
  };
  return [
    { input: { format: 'ai-sdk', item: user }, row: { role: 'user', format: 'ai-sdk', content: `add ${tag}`, toolCalls: null, toolCallId: null, item: user } },
    {
      input: { format: 'ai-sdk', item: assistant },
      row: { role: 'assistant', format: 'ai-sdk', content: `added ${tag}`, toolCalls: null, toolCallId: null, item: assistant },
      call: { callId, name: 'add_task' },
      answers: callId,
    },
  ];
}

/** The input that stores `planned` again under `id`: the same message, named (an AI SDK message's id is its own). */
function named(input: NewMessage, id: string): NewMessage {
  return input.format === 'ai-sdk' ? input : ({ ...input, id } as NewMessage);
}

/** Takes a committed append into the model: the messages (ids from what came back) and the audit they added. */
function takeAppend(model: Model, conversationId: string, planned: Planned[], appended: Message[]): void {
  const conversation = model.conversations.get(conversationId)!;
  assert.equal(appended.length, planned.length);
  planned.forEach((p, i) => {
    const got = appended[i]!;
    assert.deepEqual(
      { role: got.role, format: got.format, content: got.content, toolCalls: got.toolCalls, toolCallId: got.toolCallId, item: got.item },
      p.row,
      `${model.userId}: an appended message is stored as given`,
    );
    assert.equal(got.position, conversation.messages.length + 1, 'positions follow each other within the conversation');
    conversation.messages.push({ id: got.id, ...p.row, input: named(p.input, got.id) });
    if (p.call) model.calls.push({ conversationId, messageId: got.id, ...p.call, format: p.row.format, results: [] });
    if (p.answers) model.calls.findLast((c) => c.conversationId === conversationId && c.callId === p.answers)!.results.push(got.id);
  });
}

function rowOf(m: ModelMessage | Message) {
  return { id: m.id, role: m.role, format: m.format, content: m.content, toolCalls: m.toolCalls, toolCallId: m.toolCallId, item: m.item };
}

/** The audit as toolCalls.list gives it (every page) or as the model holds it, in a comparable order. */
function auditOf(calls: (ModelCall | ToolCallRecord)[]) {
  return calls
    .map((c) => ({
      conversationId: c.conversationId,
      messageId: c.messageId,
      callId: c.callId,
      name: c.name,
      format: c.format,
      results: 'createdAt' in c ? c.results.map((r) => r.messageId) : c.results,
    }))
    .sort((a, b) => (`${a.conversationId} ${a.callId}` < `${b.conversationId} ${b.callId}` ? -1 : 1));
}

async function listAudit(tx: Transaction, conversationId?: string): Promise<ToolCallRecord[]> {
  const items: ToolCallRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await tx.toolCalls.list({ limit: 200, ...(conversationId ? { conversationId } : {}), ...(cursor ? { cursor } : {}) });
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return items;
}

async function checkOwnView(tx: Transaction, model: Model, random: () => number): Promise<void> {
  const tasks = await tx.tasks.list({ limit: 200 });
  assert.deepEqual(
    tasks.items.map((t) => [t.id, t.title, t.description, t.completed]).sort(),
    [...model.tasks].map(([id, t]) => [id, t.title, t.description, t.completed]).sort(),
    `${model.userId} sees exactly their tasks`,
  );
  const conversations = await tx.conversations.list({ limit: 200 });
  assert.deepEqual(
    conversations.items.map((c) => [c.id, c.title, c.status]).sort(),
    [...model.conversations].map(([id, c]) => [id, c.title, c.status]).sort(),
    `${model.userId} sees exactly their conversations`,
  );
  if (model.conversations.size) {
    const [id, conversation] = pick(random, [...model.conversations]);
    const all = await tx.messages.all(id);
    assert.deepEqual(all.map(rowOf), conversation.messages.map(rowOf), `${model.userId} reads exactly their history`);
    assert.deepEqual(all.map((m) => m.position), all.map((_, i) => i + 1));
  }
  assert.deepEqual(auditOf(await listAudit(tx)), auditOf(model.calls), `${model.userId} reads exactly their audit`);
}

/** One user's session: STEPS transactions of random operations, the model updated only when a transaction commits. */
async function runUser(index: number, userId: string, models: Model[]): Promise<void> {
  const random = prng(seed + index);
  const model = models[index]!;
  for (let step = 0; step < STEPS; step++) {
    const op = random();
    const taskIds = [...model.tasks.keys()];
    const conversationIds = [...model.conversations.keys()];
    const withMessages = conversationIds.filter((id) => model.conversations.get(id)!.messages.length > 0);
    const tag = `${index}.${step}`;
    if (op < 0.14) {
      const shared = random() < 0.3 ? SHARED_TASK_IDS.find((id) => !model.tasks.has(id)) : undefined;
      const title = `t${tag} ${pick(random, ['plain', "o'quote", '😀 emoji', '\u202ertl'])}`;
      const task = await store.withUser(userId, (tx) => tx.tasks.create({ id: shared, title, description: `d${index}`, completed: random() < 0.3 }));
      model.tasks.set(task.id, { title: task.title, description: task.description, completed: task.completed });
      if (!shared) privateTaskIds.set(task.id, userId);
    } else if (op < 0.22 && taskIds.length) {
      const id = pick(random, taskIds);
      const completed = random() < 0.5;
      const title = `u${tag}`;
      await store.withUser(userId, (tx) => tx.tasks.update(id, { title, completed }));
      model.tasks.set(id, { ...model.tasks.get(id)!, title, completed });
    } else if (op < 0.26 && taskIds.length) {
      const id = pick(random, taskIds);
      await store.withUser(userId, (tx) => tx.tasks.delete(id));
      model.tasks.delete(id);
    } else if (op < 0.36) {
      const shared = random() < 0.3 ? SHARED_CONVERSATION_IDS.find((id) => !model.conversations.has(id)) : undefined;
      const conversation = await store.withUser(userId, (tx) => tx.conversations.create({ id: shared, title: `c${tag}` }));
      model.conversations.set(conversation.id, { title: conversation.title, status: 'active', messages: [] });
      if (!shared) privateConversationIds.set(conversation.id, userId);
    } else if (op < 0.56 && conversationIds.length) {
      // A whole turn in one of the three formats; its messages named by the caller or not, some with ids other users use too.
      const id = pick(random, conversationIds);
      const kind = op < 0.44 ? 'chat' : op < 0.5 ? 'openai-agents' : 'ai-sdk';
      const callId = `call_${index}_${step}`;
      const planned = kind === 'chat' ? chatTurn(tag, callId, index, step) : kind === 'openai-agents' ? agentsTurn(tag, callId) : aiSdkTurn(tag, callId);
      const stored = new Set(model.conversations.get(id)!.messages.map((m) => m.id));
      const naming = random();
      const inputs = planned.map((p, k) => {
        if (p.input.format === 'ai-sdk' || naming < 0.4) return p.input;
        const shared = k === 0 && naming < 0.7 ? SHARED_MESSAGE_IDS.find((s) => !stored.has(s)) : undefined;
        return { ...p.input, id: shared ?? `m${tag}.${k}` } as NewMessage;
      });
      const appended = await store.withUser(userId, (tx) => tx.messages.appendTurn(id, inputs));
      inputs.forEach((input, k) => {
        if (input.id !== undefined) assert.equal(appended[k]!.id, input.id, 'a given id is kept exactly');
      });
      takeAppend(model, id, planned.map((p, k) => ({ ...p, input: inputs[k]! })), appended);
      count(`turn ${kind}`);
    } else if (op < 0.6 && conversationIds.length) {
      const id = pick(random, conversationIds);
      const archive = random() < 0.5;
      await store.withUser(userId, (tx) => (archive ? tx.conversations.archive(id) : tx.conversations.rename(id, `r${tag}`)));
      const conversation = model.conversations.get(id)!;
      if (archive) conversation.status = 'archived';
      else conversation.title = `r${tag}`;
    } else if (op < 0.62 && conversationIds.length) {
      const id = pick(random, conversationIds);
      await store.withUser(userId, (tx) => tx.conversations.delete(id));
      model.conversations.delete(id);
      model.calls = model.calls.filter((c) => c.conversationId !== id);
    } else if (op < 0.66 && withMessages.length) {
      // A retry: stored messages sent again (exactly as given, under their ids) come back as stored and write nothing; a new one after them is appended.
      const id = pick(random, withMessages);
      const conversation = model.conversations.get(id)!;
      const again = [...new Set([pick(random, conversation.messages), pick(random, conversation.messages)])];
      const fresh = random() < 0.5 ? { role: 'user' as const, content: `after the retry ${tag}` } : undefined;
      const result = await store.withUser(userId, (tx) => tx.messages.appendTurn(id, [...again.map((m) => m.input), ...(fresh ? [fresh] : [])]));
      assert.deepEqual(result.slice(0, again.length).map(rowOf), again.map(rowOf), 'a retry returns the stored messages');
      assert.deepEqual(
        result.slice(0, again.length).map((m) => m.position),
        again.map((m) => conversation.messages.indexOf(m) + 1),
        'at their positions',
      );
      if (fresh) {
        const row = { role: 'user', format: 'chat', content: fresh.content, toolCalls: null, toolCallId: null, item: null };
        takeAppend(model, id, [{ input: fresh, row }], result.slice(again.length));
      }
      count('retry');
    } else if (op < 0.68 && withMessages.length) {
      // The id of a stored message with other content: a ConflictError, and nothing changes.
      const id = pick(random, withMessages);
      const message = pick(random, model.conversations.get(id)!.messages);
      const input = message.input;
      const changed = (input.format === 'openai-agents' || input.format === 'ai-sdk' ? { ...input, item: { ...input.item, changed: tag } } : { ...input, content: `changed ${tag}` }) as NewMessage;
      await assert.rejects(store.withUser(userId, (tx) => tx.messages.appendTurn(id, [{ role: 'user', content: `before ${tag}` }, changed])), ConflictError);
      count('conflict');
    } else if (op < 0.73 && withMessages.length) {
      const id = pick(random, withMessages);
      const conversation = model.conversations.get(id)!;
      const n = 1 + Math.floor(random() * 4);
      const removed = await store.withUser(userId, (tx) => tx.messages.pop(id, n));
      const expected = conversation.messages.splice(Math.max(conversation.messages.length - n, 0));
      assert.deepEqual(removed.map(rowOf), expected.map(rowOf), 'pop removes the newest messages, oldest first');
      count('pop');
    } else if (op < 0.745 && withMessages.length) {
      const id = pick(random, withMessages);
      const conversation = model.conversations.get(id)!;
      assert.equal(await store.withUser(userId, (tx) => tx.messages.clear(id)), conversation.messages.length);
      conversation.messages = [];
      count('clear');
    } else if (op < 0.8 && withMessages.length) {
      // A message replaced in place, in any format; the audit gains the new content's calls and keeps the old ones.
      const id = pick(random, withMessages);
      const conversation = model.conversations.get(id)!;
      const position = Math.floor(random() * conversation.messages.length);
      const target = conversation.messages[position]!;
      const callId = `replaced_${index}_${step}`;
      const variant = random();
      const planned: Planned =
        variant < 0.3
          ? { input: { role: 'user', content: `replaced ${tag}` }, row: { role: 'user', format: 'chat', content: `replaced ${tag}`, toolCalls: null, toolCallId: null, item: null } }
          : variant < 0.55
            ? {
                input: { role: 'assistant', toolCalls: [{ id: callId, name: 'update_task', arguments: { step } }] },
                row: { role: 'assistant', format: 'chat', content: '', toolCalls: [{ id: callId, name: 'update_task', arguments: { step } }], toolCallId: null, item: null },
                call: { callId, name: 'update_task' },
              }
            : variant < 0.8
              ? (() => {
                  const item = { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: `replaced ${tag}` }] };
                  return { input: { format: 'openai-agents', item }, row: { role: 'assistant', format: 'openai-agents', content: `replaced ${tag}`, toolCalls: null, toolCallId: null, item } } as Planned;
                })()
              : (() => {
                  const item = { id: target.id, role: 'assistant', parts: [{ type: 'dynamic-tool', toolName: 'retry_task', toolCallId: callId, state: 'output-error', input: {}, errorText: 'no' }] };
                  return {
                    input: { format: 'ai-sdk', item },
                    row: { role: 'assistant', format: 'ai-sdk', content: '', toolCalls: null, toolCallId: null, item },
                    call: { callId, name: 'retry_task' },
                    answers: callId,
                  } as Planned;
                })();
      const replaced = await store.withUser(userId, (tx) => tx.messages.replace(id, target.id, planned.input));
      assert.deepEqual(rowOf(replaced), { id: target.id, ...planned.row }, 'replaced in place, under the same id');
      assert.equal(replaced.position, position + 1, 'at the same position');
      conversation.messages[position] = { id: target.id, ...planned.row, input: named(planned.input, target.id) };
      if (planned.call) model.calls.push({ conversationId: id, messageId: target.id, ...planned.call, format: planned.row.format, results: planned.answers ? [target.id] : [] });
      count('replace');
    } else if (op < 0.83) {
      // The audit of one conversation, and of all of them.
      await store.withUser(userId, async (tx) => {
        if (conversationIds.length) {
          const id = pick(random, conversationIds);
          assert.deepEqual(auditOf(await listAudit(tx, id)), auditOf(model.calls.filter((c) => c.conversationId === id)), `${model.userId}: the audit of one conversation`);
        }
        assert.deepEqual(auditOf(await listAudit(tx)), auditOf(model.calls), `${model.userId}: the whole audit`);
      });
      count('audit');
    } else if (op < 0.9) {
      // A transaction that writes (appends, pops, clears, replaces, deletes), then throws: nothing of it may remain.
      await assert.rejects(
        store.withUser(userId, async (tx) => {
          await tx.tasks.create({ title: `rolled back ${index}` });
          const c = await tx.conversations.create({ title: 'rolled back' });
          await tx.messages.appendTurn(c.id, agentsTurn(`rb${tag}`, `rb_${index}_${step}`).map((p) => p.input));
          if (withMessages.length) {
            const id = pick(random, withMessages);
            const first = model.conversations.get(id)!.messages[0]!;
            await tx.messages.replace(id, first.id, { role: 'system', content: `rolled back ${tag}` });
            await tx.messages.append(id, { role: 'assistant', toolCalls: [{ id: `rb_${tag}`, name: 'n', arguments: {} }] });
            await tx.messages.pop(id, 2);
            if (random() < 0.5) await tx.messages.clear(id);
          }
          if (taskIds.length) await tx.tasks.delete(taskIds[0]!);
          throw new Abort();
        }),
        Abort,
      );
      count('rolled back');
    } else {
      // Another user's private ids: NotFoundError for every write and read, nothing changes.
      const othersTasks = [...privateTaskIds].filter(([, owner]) => owner !== userId).map(([id]) => id);
      const othersConversations = [...privateConversationIds].filter(([, owner]) => owner !== userId).map(([id]) => id);
      if (othersTasks.length) {
        const id = pick(random, othersTasks);
        await assert.rejects(store.withUser(userId, (tx) => tx.tasks.update(id, { title: `stolen by ${index}` })), NotFoundError);
        await assert.rejects(store.withUser(userId, (tx) => tx.tasks.delete(id)), NotFoundError);
      }
      if (othersConversations.length) {
        const id = pick(random, othersConversations);
        await assert.rejects(store.withUser(userId, (tx) => tx.messages.append(id, { role: 'user', content: `injected by ${index}` })), NotFoundError);
        await assert.rejects(store.withUser(userId, (tx) => tx.conversations.rename(id, `stolen by ${index}`)), NotFoundError);
        await assert.rejects(store.withUser(userId, (tx) => tx.messages.all(id)), NotFoundError);
        await assert.rejects(store.withUser(userId, (tx) => tx.messages.pop(id, 1)), NotFoundError);
        await assert.rejects(store.withUser(userId, (tx) => tx.messages.clear(id)), NotFoundError);
        await assert.rejects(store.withUser(userId, (tx) => tx.messages.replace(id, SHARED_MESSAGE_IDS[0]!, { role: 'user', content: `stolen by ${index}` })), NotFoundError);
        await assert.rejects(store.withUser(userId, (tx) => tx.messages.get(id, SHARED_MESSAGE_IDS[0]!)), NotFoundError);
        await assert.rejects(store.withUser(userId, (tx) => tx.toolCalls.list({ conversationId: id })), NotFoundError);
      }
      count('attack');
    }
    if (random() < 0.3) await store.withUser(userId, (tx) => checkOwnView(tx, model, random));
  }
}

describe(`${USERS} users in parallel on a pool of ${POOL_SIZE} connections (seed ${seed})`, () => {
  test('each user ends with exactly their own model, as the superuser and their own export see it', async () => {
    const userIds = await db.createUsers(USERS);
    const models: Model[] = userIds.map((userId) => ({ userId, tasks: new Map(), conversations: new Map(), calls: [] }));
    const results = await Promise.allSettled(userIds.map((userId, index) => runUser(index, userId, models)));
    const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [`user ${i}: ${(r.reason as Error)?.stack ?? r.reason}`] : []));
    assert.deepEqual(failures, [], `seed ${seed}`);

    // The run really interleaved users and did all kinds of things.
    const totals = models.reduce(
      (sum, m) => ({
        tasks: sum.tasks + m.tasks.size,
        conversations: sum.conversations + m.conversations.size,
        messages: sum.messages + [...m.conversations.values()].reduce((n, c) => n + c.messages.length, 0),
        calls: sum.calls + m.calls.length,
        results: sum.results + m.calls.reduce((n, c) => n + c.results.length, 0),
      }),
      { tasks: 0, conversations: 0, messages: 0, calls: 0, results: 0 },
    );
    assert.ok(totals.tasks > USERS && totals.conversations > USERS / 2 && totals.messages > USERS * 4 && totals.calls > USERS, JSON.stringify(totals));
    const kinds = ['turn chat', 'turn openai-agents', 'turn ai-sdk', 'retry', 'conflict', 'pop', 'clear', 'replace', 'audit', 'rolled back', 'attack'];
    assert.deepEqual(kinds.filter((kind) => !done[kind]), [], `every kind of operation ran: ${JSON.stringify(done)}`);

    // Every row in the database, as the superuser sees it, grouped by owner.
    const { rows: tasks } = await db.admin.query('select user_id, id, title, description, completed from todo_chat.tasks');
    const { rows: conversations } = await db.admin.query(
      `select c.user_id, c.id, c.title, c.status, c.last_position, c.history_bytes::text as history_bytes,
         (select count(*)::int from todo_chat.messages m where m.user_id = c.user_id and m.conversation_id = c.id) as messages,
         (select coalesce(sum(m.size_bytes), 0)::text from todo_chat.messages m where m.user_id = c.user_id and m.conversation_id = c.id) as size_bytes
       from todo_chat.conversations c`,
    );
    const { rows: messages } = await db.admin.query(
      `select user_id, conversation_id, id, position, role, format, content, tool_calls, tool_call_id, item
       from todo_chat.messages order by user_id, conversation_id, position`,
    );
    const { rows: calls } = await db.admin.query('select user_id, conversation_id, message_id, call_id, name, format from todo_chat.tool_calls');
    const { rows: answers } = await db.admin.query('select user_id, conversation_id, message_id, call_id from todo_chat.tool_results');
    assert.equal(tasks.length, totals.tasks, 'no task beyond the models');
    assert.equal(conversations.length, totals.conversations, 'no conversation beyond the models');
    assert.equal(messages.length, totals.messages, 'no message beyond the models');
    assert.equal(calls.length, totals.calls, 'no tool call beyond the models');
    assert.equal(answers.length, totals.results, 'no tool result beyond the models');
    for (const c of conversations) {
      assert.equal(c.last_position, c.messages, `conversation ${c.id} of ${c.user_id}: last_position is its message count`);
      assert.equal(c.history_bytes, c.size_bytes, `conversation ${c.id} of ${c.user_id}: history_bytes is what its messages weigh`);
    }

    for (const model of models) {
      const mine = (row: { user_id: string }) => row.user_id === model.userId;
      assert.deepEqual(
        tasks.filter(mine).map((t) => [t.id, t.title, t.description, t.completed]).sort(),
        [...model.tasks].map(([id, t]) => [id, t.title, t.description, t.completed]).sort(),
        `tasks of ${model.userId}`,
      );
      assert.deepEqual(
        conversations.filter(mine).map((c) => [c.id, c.title, c.status]).sort(),
        [...model.conversations].map(([id, c]) => [id, c.title, c.status]).sort(),
        `conversations of ${model.userId}`,
      );
      for (const [id, conversation] of model.conversations) {
        const rows = messages.filter((m) => mine(m) && m.conversation_id === id);
        assert.deepEqual(
          rows.map((m) => ({ id: m.id, role: m.role, format: m.format, content: m.content, toolCalls: m.tool_calls, toolCallId: m.tool_call_id, item: m.item })),
          conversation.messages.map(rowOf),
          `messages of ${model.userId} in ${id}`,
        );
        assert.deepEqual(rows.map((m) => m.position), rows.map((_, i) => i + 1), `positions of ${model.userId} in ${id}: 1..n`);
      }
      const key = (r: { conversationId: string; messageId: string; callId: string }) => `${r.conversationId} ${r.messageId} ${r.callId}`;
      assert.deepEqual(
        calls.filter(mine).map((c) => key({ conversationId: c.conversation_id, messageId: c.message_id, callId: c.call_id }) + ` ${c.name} ${c.format}`).sort(),
        model.calls.map((c) => `${key(c)} ${c.name} ${c.format}`).sort(),
        `tool calls of ${model.userId}`,
      );
      assert.deepEqual(
        answers.filter(mine).map((r) => key({ conversationId: r.conversation_id, messageId: r.message_id, callId: r.call_id })).sort(),
        model.calls.flatMap((c) => c.results.map((messageId) => key({ conversationId: c.conversationId, messageId, callId: c.callId }))).sort(),
        `tool results of ${model.userId}`,
      );
    }

    // And through the public API: each user's export is their model, for a sample of users in parallel.
    await Promise.all(
      models.filter((_, i) => i % 5 === 0).map(async (model) => {
        const exported = await store.withUser(model.userId, (tx) => tx.users.export());
        assert.equal(exported.format, 'todo-chat-db/export@3');
        assert.equal(exported.user.id, model.userId);
        assert.deepEqual(exported.tasks.map((t) => t.id).sort(), [...model.tasks.keys()].sort());
        assert.deepEqual(
          exported.conversations.map((c) => [c.id, c.messages.map(rowOf)]).sort(),
          [...model.conversations].map(([id, c]) => [id, c.messages.map(rowOf)]).sort(),
        );
        assert.deepEqual(auditOf(exported.toolCalls), auditOf(model.calls));
      }),
    );
  });

  test("one user's concurrent writes to one conversation (appends, retries, replacements, pops, clears) keep it consistent", async () => {
    // Replacements once read the size of the message they replace before the conversation's lock, and two at
    // once (or one racing a pop) left history_bytes wrong: every write now takes the conversation's row lock first.
    const [userId] = await db.createUsers(1);
    const conversationId = (await store.withUser(userId!, (tx) => tx.conversations.create({ title: 'contended' }))).id;
    const WRITERS = 8;
    const OPS = 12;
    const outcomes: Record<string, number> = {};
    await Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        const random = prng(seed + 1000 + w);
        for (let op = 0; op < OPS; op++) {
          const tag = `w${w}.${op}`;
          const r = random();
          const kind = r < 0.35 ? 'append' : r < 0.5 ? 'retry' : r < 0.75 ? 'replace' : r < 0.95 ? 'pop' : 'clear';
          try {
            await store.withUser(userId!, async (tx) => {
              if (kind === 'append' || kind === 'retry') {
                // A retry names the ids of an earlier append of this writer: stored (returned as is) or popped since
                // (appended again). It leaves the result out: one whose call was popped and appended again is refused
                // (see the LIBRARY BUG todo tests of fuzz.test.ts).
                const t = kind === 'retry' && op > 0 ? `w${w}.${Math.floor(random() * op)}` : tag;
                const turn: NewMessage[] = [
                  { id: `${t}.q`, role: 'user', content: `q ${t}` },
                  { id: `${t}.c`, format: 'openai-agents', item: { type: 'function_call', callId: `call ${t}`, name: 'n', arguments: '{}' } },
                  { id: `${t}.r`, format: 'openai-agents', item: { type: 'function_call_result', callId: `call ${t}`, output: `r ${t}` } },
                ];
                await tx.messages.appendTurn(conversationId, kind === 'retry' ? turn.slice(0, 2) : turn);
              } else if (kind === 'replace') {
                const ids = (await tx.messages.history(conversationId, { limit: 50 })).items.map((m) => m.id);
                if (ids.length === 0) return;
                const id = ids[Math.floor(random() * ids.length)]!;
                await tx.messages.replace(conversationId, id, { format: 'ai-sdk', item: { id, role: 'assistant', parts: [{ type: 'text', text: 'x'.repeat(Math.floor(random() * 500)) }, { type: 'tool-t', toolCallId: `call ${tag}`, state: 'output-available', input: {}, output: tag }] } });
              } else if (kind === 'pop') {
                await tx.messages.pop(conversationId, 1 + Math.floor(random() * 3));
              } else {
                await tx.messages.clear(conversationId);
              }
            });
            outcomes[kind] = (outcomes[kind] ?? 0) + 1;
          } catch (error) {
            // The refusals there may be: the message to replace was popped by another writer in between; a message
            // retried was replaced in between (its id now holds other content).
            const expected = (kind === 'replace' && error instanceof NotFoundError) || (kind === 'retry' && error instanceof ConflictError);
            assert.ok(expected, `${kind} ${tag}: ${(error as Error).stack}`);
            outcomes[`${kind} refused`] = (outcomes[`${kind} refused`] ?? 0) + 1;
          }
        }
      }),
    );
    assert.ok(outcomes.append && outcomes.replace && outcomes.pop, JSON.stringify(outcomes));
    const { rows } = await db.admin.query(
      `select c.last_position, c.last_audit_ordinal, c.history_bytes::text as history_bytes,
         (select coalesce(sum(m.size_bytes), 0)::text from todo_chat.messages m where m.user_id = c.user_id and m.conversation_id = c.id) as size_bytes,
         (select coalesce(array_agg(m.position order by m.position), '{}') from todo_chat.messages m where m.user_id = c.user_id and m.conversation_id = c.id) as positions,
         (select greatest(coalesce(max(t.ordinal), 0), coalesce(max(x.ordinal), 0)) from todo_chat.tool_calls t full join todo_chat.tool_results x on false
          where coalesce(t.user_id, x.user_id) = c.user_id and coalesce(t.conversation_id, x.conversation_id) = c.id) as newest_record,
         (select count(*)::int from todo_chat.tool_results x join todo_chat.tool_calls t
            on t.user_id = x.user_id and t.conversation_id = x.conversation_id and t.ordinal = x.call_ordinal
          where x.user_id = c.user_id and x.conversation_id = c.id and t.call_id <> x.call_id) as mismatched_results
       from todo_chat.conversations c where c.user_id = $1 and c.id = $2`,
      [userId, conversationId],
    );
    const state = rows[0];
    assert.deepEqual(state.positions, Array.from({ length: state.last_position }, (_, i) => i + 1), 'positions 1..n, n = last_position');
    assert.equal(state.history_bytes, state.size_bytes, 'history_bytes is what the messages weigh');
    assert.ok(state.last_audit_ordinal >= state.newest_record, 'last_audit_ordinal counts every audit record');
    assert.equal(state.mismatched_results, 0, 'every result answers a call of its id');
  });

  test('shared ids were really used by several users at once (ids are per user, and isolation held for them)', async () => {
    const { rows } = await db.admin.query(
      `select id::text, count(distinct user_id)::int as owners from todo_chat.tasks where id = any($1) group by id
       union all
       select id::text, count(distinct user_id)::int from todo_chat.conversations where id = any($2) group by id
       union all
       select id, count(distinct user_id)::int from todo_chat.messages where id = any($3) group by id`,
      [SHARED_TASK_IDS, SHARED_CONVERSATION_IDS, SHARED_MESSAGE_IDS],
    );
    assert.ok(rows.some((r) => r.owners > 1), `some shared id has several owners: ${JSON.stringify(rows)}`);
    const messageIds = new Set<string>(SHARED_MESSAGE_IDS);
    assert.ok(rows.some((r) => messageIds.has(r.id) && r.owners > 1), `some shared message id has several owners: ${JSON.stringify(rows)}`);
  });
});
