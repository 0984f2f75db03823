/**
 * Concurrent isolation: 100 users at once on one store whose pool has 10
 * connections, each doing a random mix of operations (creates, patches,
 * deletes, whole tool-call turns, rolled-back transactions, attempts on other
 * users' ids, and ids that several users share on purpose, since ids are
 * unique per user). Every user keeps an in-test model of what they should own.
 * During the run each user's own reads must equal their model; at the end,
 * every user's rows (read as superuser, and through users.export) must be
 * exactly their model: nothing missing, nothing extra, nothing of anyone else.
 *
 * The mix is random but reproducible: TCDB_CONCURRENCY_SEED=<n> replays a run (the
 * seed is printed).
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { NotFoundError, type Store, type Transaction } from '../../src/index.js';

const USERS = 100;
const STEPS = 14;
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

interface ModelMessage {
  role: string;
  content: string;
  toolCalls: unknown;
  toolCallId: string | null;
}
interface Model {
  userId: string;
  tasks: Map<string, { title: string; description: string; completed: boolean }>;
  conversations: Map<string, { title: string | null; status: string; messages: ModelMessage[] }>;
}

/** Ids that several users use for their own rows at once (ids are unique per user, not globally). */
const SHARED_TASK_IDS = Array.from({ length: 5 }, () => crypto.randomUUID());
const SHARED_CONVERSATION_IDS = Array.from({ length: 5 }, () => crypto.randomUUID());
/** Every id any user created that is theirs alone: the targets of cross-user attempts. */
const privateTaskIds = new Map<string, string>();
const privateConversationIds = new Map<string, string>();

class Abort extends Error {}

function pick<T>(random: () => number, items: T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

async function checkOwnView(tx: Transaction, model: Model): Promise<void> {
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
}

/** One user's session: STEPS transactions of random operations, the model updated only when a transaction commits. */
async function runUser(index: number, userId: string, models: Model[]): Promise<void> {
  const random = prng(seed + index);
  const model = models[index]!;
  for (let step = 0; step < STEPS; step++) {
    const op = random();
    const taskIds = [...model.tasks.keys()];
    const conversationIds = [...model.conversations.keys()];
    if (op < 0.18) {
      const shared = random() < 0.3 ? SHARED_TASK_IDS.find((id) => !model.tasks.has(id)) : undefined;
      const title = `t${index}.${step} ${pick(random, ['plain', "o'quote", '😀 emoji', '\u202ertl'])}`;
      const task = await store.withUser(userId, (tx) => tx.tasks.create({ id: shared, title, description: `d${index}`, completed: random() < 0.3 }));
      model.tasks.set(task.id, { title: task.title, description: task.description, completed: task.completed });
      if (!shared) privateTaskIds.set(task.id, userId);
    } else if (op < 0.3 && taskIds.length) {
      const id = pick(random, taskIds);
      const completed = random() < 0.5;
      const title = `u${index}.${step}`;
      await store.withUser(userId, (tx) => tx.tasks.update(id, { title, completed }));
      model.tasks.set(id, { ...model.tasks.get(id)!, title, completed });
    } else if (op < 0.36 && taskIds.length) {
      const id = pick(random, taskIds);
      await store.withUser(userId, (tx) => tx.tasks.delete(id));
      model.tasks.delete(id);
    } else if (op < 0.48) {
      const shared = random() < 0.3 ? SHARED_CONVERSATION_IDS.find((id) => !model.conversations.has(id)) : undefined;
      const conversation = await store.withUser(userId, (tx) => tx.conversations.create({ id: shared, title: `c${index}.${step}` }));
      model.conversations.set(conversation.id, { title: conversation.title, status: 'active', messages: [] });
      if (!shared) privateConversationIds.set(conversation.id, userId);
    } else if (op < 0.68 && conversationIds.length) {
      const id = pick(random, conversationIds);
      const callId = `call_${index}_${step}`;
      const turn: ModelMessage[] = [
        { role: 'user', content: `please ${index}.${step}`, toolCalls: null, toolCallId: null },
        { role: 'assistant', content: '', toolCalls: [{ id: callId, name: 'create_task', arguments: { user: index, step } }], toolCallId: null },
        { role: 'tool', content: `ok ${index}`, toolCalls: null, toolCallId: callId },
        { role: 'assistant', content: `done ${index}.${step}`, toolCalls: null, toolCallId: null },
      ];
      await store.withUser(userId, (tx) =>
        tx.messages.appendTurn(id, [
          { role: 'user', content: turn[0]!.content },
          { role: 'assistant', toolCalls: turn[1]!.toolCalls as never },
          { role: 'tool', toolCallId: callId, content: turn[2]!.content },
          { role: 'assistant', content: turn[3]!.content },
        ]),
      );
      model.conversations.get(id)!.messages.push(...turn);
    } else if (op < 0.74 && conversationIds.length) {
      const id = pick(random, conversationIds);
      const archive = random() < 0.5;
      await store.withUser(userId, (tx) => (archive ? tx.conversations.archive(id) : tx.conversations.rename(id, `r${index}.${step}`)));
      const conversation = model.conversations.get(id)!;
      if (archive) conversation.status = 'archived';
      else conversation.title = `r${index}.${step}`;
    } else if (op < 0.78 && conversationIds.length) {
      const id = pick(random, conversationIds);
      await store.withUser(userId, (tx) => tx.conversations.delete(id));
      model.conversations.delete(id);
    } else if (op < 0.86) {
      // A transaction that writes, then throws: nothing of it may remain.
      await assert.rejects(
        store.withUser(userId, async (tx) => {
          await tx.tasks.create({ title: `rolled back ${index}` });
          const c = await tx.conversations.create({ title: 'rolled back' });
          await tx.messages.append(c.id, { role: 'user', content: 'rolled back' });
          if (taskIds.length) await tx.tasks.delete(taskIds[0]!);
          throw new Abort();
        }),
        Abort,
      );
    } else {
      // Another user's private ids: NotFoundError for every write, nothing changes.
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
      }
    }
    if (random() < 0.3) await store.withUser(userId, (tx) => checkOwnView(tx, model));
  }
}

describe(`${USERS} users in parallel on a pool of ${POOL_SIZE} connections (seed ${seed})`, () => {
  test('each user ends with exactly their own model, as the superuser and their own export see it', async () => {
    const userIds = await db.createUsers(USERS);
    const models: Model[] = userIds.map((userId) => ({ userId, tasks: new Map(), conversations: new Map() }));
    const results = await Promise.allSettled(userIds.map((userId, index) => runUser(index, userId, models)));
    const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [`user ${i}: ${(r.reason as Error)?.stack ?? r.reason}`] : []));
    assert.deepEqual(failures, [], `seed ${seed}`);

    // The run really interleaved users and did all kinds of things.
    const totals = models.reduce(
      (sum, m) => ({
        tasks: sum.tasks + m.tasks.size,
        conversations: sum.conversations + m.conversations.size,
        messages: sum.messages + [...m.conversations.values()].reduce((n, c) => n + c.messages.length, 0),
      }),
      { tasks: 0, conversations: 0, messages: 0 },
    );
    assert.ok(totals.tasks > USERS && totals.conversations > USERS / 2 && totals.messages > USERS * 4, JSON.stringify(totals));

    // Every row in the database, as the superuser sees it, grouped by owner.
    const { rows: tasks } = await db.admin.query('select user_id, id, title, description, completed from todo_chat.tasks');
    const { rows: conversations } = await db.admin.query('select user_id, id, title, status from todo_chat.conversations');
    const { rows: messages } = await db.admin.query(
      'select user_id, conversation_id, role, content, tool_calls, tool_call_id from todo_chat.messages order by seq',
    );
    assert.equal(tasks.length, totals.tasks, 'no task beyond the models');
    assert.equal(conversations.length, totals.conversations, 'no conversation beyond the models');
    assert.equal(messages.length, totals.messages, 'no message beyond the models');

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
        assert.deepEqual(
          messages
            .filter((m) => mine(m) && m.conversation_id === id)
            .map((m) => ({ role: m.role, content: m.content, toolCalls: m.tool_calls, toolCallId: m.tool_call_id })),
          conversation.messages,
          `messages of ${model.userId} in ${id}`,
        );
      }
    }

    // And through the public API: each user's export is their model, for a sample of users in parallel.
    await Promise.all(
      models.filter((_, i) => i % 5 === 0).map(async (model) => {
        const exported = await store.withUser(model.userId, (tx) => tx.users.export());
        assert.equal(exported.user.id, model.userId);
        assert.deepEqual(exported.tasks.map((t) => t.id).sort(), [...model.tasks.keys()].sort());
        assert.deepEqual(
          exported.conversations.map((c) => [c.id, c.messages.length]).sort(),
          [...model.conversations].map(([id, c]) => [id, c.messages.length]).sort(),
        );
      }),
    );
  });

  test('shared ids were really used by several users at once (ids are per user, and isolation held for them)', async () => {
    const { rows } = await db.admin.query(
      `select id, count(distinct user_id)::int as owners from todo_chat.tasks where id = any($1) group by id
       union all
       select id, count(distinct user_id)::int from todo_chat.conversations where id = any($2) group by id`,
      [SHARED_TASK_IDS, SHARED_CONVERSATION_IDS],
    );
    assert.ok(rows.some((r) => r.owners > 1), `some shared id has several owners: ${JSON.stringify(rows)}`);
  });
});
