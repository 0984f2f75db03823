/**
 * The cross-user attack suite. User A (the attacker) runs every named query of
 * sql/, and every operation of the public API, with user B's (the victim's)
 * ids and values, and each time:
 *   - gets nothing of B's back (zero rows, NotFoundError, or a row that is A's own),
 *   - changes nothing of B's (and nobody else's): a superuser snapshot of every
 *     row not owned by A is identical before and after the attack, which is
 *     committed, not rolled back.
 *
 * The queries come from the sql/ files themselves: a named query with no case
 * in QUERY_CASES fails the suite with a message naming it, and so does a
 * repository method with no case in API_CASES.
 *
 * The raw-query attacks run on a pool that logs in as the server's superuser,
 * the worst case: only the transaction prologue (set local role + the user
 * setting) stands between it and every row.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { before, describe, test } from 'node:test';
import type pg from 'pg';
import type { PreparedQuery } from '@pgtyped/runtime';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { asUser, asUserCommitting } from '../helpers/transaction.js';
import { listNamedQueries, loadGeneratedQueries, seedVictim, type Victim } from '../helpers/security.js';
import { snapshotOthers } from '../helpers/snapshots.js';
import { ConflictError, NotFoundError, TodoChatDbError, type Store, type Transaction } from '../../src/index.js';
import { MAX_BIGINT, MAX_UUID, NIL_UUID, encodeCursor } from '../../src/repositories/pagination.js';

let db: TestDatabase;
let store: Store;
let victim: Victim;
let bystander: Victim;
let generated: Awaited<ReturnType<typeof loadGeneratedQueries>>;
const named = listNamedQueries();

before(async () => {
  db = await createTestDatabase();
  store = db.store();
  const [victimId, bystanderId] = await db.createUsers(2);
  victim = await seedVictim(store, victimId!);
  bystander = await seedVictim(store, bystanderId!);
  generated = await loadGeneratedQueries();
});

/* ------------------------------------------------------------------------ */
/* Part 1: every named query of sql/, run raw as A with B's ids and values.  */
/* ------------------------------------------------------------------------ */

interface Attack {
  /** The attacker's id (a fresh user for every case, so that cases cannot see each other's writes). */
  attacker: string;
  victim: Victim;
  db: TestDatabase;
}

type Expectation =
  /** Zero rows; and the same parameters run as the victim return rows (the case really aims at B's data). */
  | 'none'
  /** The statement fails with this SQLSTATE (the transaction is rolled back). */
  | { error: string }
  /** Rows that belong to the attacker only: checked by the function. */
  | { own: (rows: Record<string, unknown>[], attack: Attack) => Promise<void> | void };

interface QueryCase {
  /** Shown in the test name when a query has several cases. */
  label?: string;
  /** The attacker's user row exists (default) or not yet. */
  attackerExists?: boolean;
  /** Runs first, as the attacker, committed: e.g. A creates a conversation with B's conversation id. */
  setup?: (client: pg.PoolClient, attack: Attack) => Promise<void>;
  params: (attack: Attack) => unknown;
  expect: Expectation;
}

async function attackerRowOf(table: string, id: unknown, attack: Attack): Promise<void> {
  const { rows } = await attack.db.admin.query(`select user_id from todo_chat.${table} where id = $1 order by user_id`, [id]);
  assert.ok(
    rows.some((row) => row.user_id === attack.attacker),
    `the ${table} row ${String(id)} written by the attacker belongs to the attacker`,
  );
}

/** A creates its own conversation that reuses B's conversation id (ids are unique per user, not globally). */
async function conversationWithVictimsId(client: pg.PoolClient, attack: Attack): Promise<void> {
  await client.query('insert into todo_chat.conversations (id, title) values ($1, $2)', [attack.victim.conversationId, 'mine']);
}

const ownRow = (table: string) => async (rows: Record<string, unknown>[], attack: Attack) => {
  assert.equal(rows.length, 1);
  await attackerRowOf(table, rows[0]!.id, attack);
};

/**
 * One case (or several) per @name in sql/. Adding a query to sql/ without
 * adding it here fails the suite, naming the query.
 */
const QUERY_CASES: Record<string, QueryCase | QueryCase[]> = {
  // sql/tasks.sql
  CreateTask: {
    label: "with B's task id: creates A's own task, B's is untouched and no conflict reveals it",
    params: ({ victim }) => ({ id: victim.taskId, title: 'attack', description: 'attack', completed: false }),
    expect: { own: ownRow('tasks') },
  },
  GetTask: { params: ({ victim }) => ({ id: victim.taskId }), expect: 'none' },
  ListTasksNewest: {
    params: ({ victim }) => ({ userId: victim.userId, cursorAt: 'infinity', cursorId: MAX_UUID, limit: 1000 }),
    expect: 'none',
  },
  ListTasksNewestByCompleted: [true, false].map((completed) => ({
    label: `completed ${completed}`,
    params: ({ victim }: Attack) => ({ userId: victim.userId, completed, cursorAt: 'infinity', cursorId: MAX_UUID, limit: 1000 }),
    expect: 'none' as const,
  })),
  ListTasksOldest: {
    params: ({ victim }) => ({ userId: victim.userId, cursorAt: '-infinity', cursorId: NIL_UUID, limit: 1000 }),
    expect: 'none',
  },
  ListTasksOldestByCompleted: [true, false].map((completed) => ({
    label: `completed ${completed}`,
    params: ({ victim }: Attack) => ({ userId: victim.userId, completed, cursorAt: '-infinity', cursorId: NIL_UUID, limit: 1000 }),
    expect: 'none' as const,
  })),
  UpdateTask: [null, 1].map((expectedVersion) => ({
    label: `expectedVersion ${expectedVersion}`,
    params: ({ victim }: Attack) => ({ id: victim.taskId, title: 'pwned', description: 'pwned', completed: true, expectedVersion }),
    expect: 'none' as const,
  })),
  DeleteTask: [null, 1].map((expectedVersion) => ({
    label: `expectedVersion ${expectedVersion}`,
    params: ({ victim }: Attack) => ({ id: victim.taskId, expectedVersion }),
    expect: 'none' as const,
  })),
  ExportTasks: { params: ({ victim }) => ({ userId: victim.userId }), expect: 'none' },

  // sql/conversations.sql
  CreateConversation: {
    label: "with B's conversation id: creates A's own conversation",
    params: ({ victim }) => ({ id: victim.conversationId, title: 'attack' }),
    expect: { own: ownRow('conversations') },
  },
  GetConversation: { params: ({ victim }) => ({ id: victim.conversationId }), expect: 'none' },
  ListConversations: {
    params: ({ victim }) => ({ userId: victim.userId, cursorAt: 'infinity', cursorId: MAX_UUID, limit: 1000 }),
    expect: 'none',
  },
  ListConversationsByStatus: ['active', 'archived'].map((status) => ({
    label: `status ${status}`,
    params: ({ victim }: Attack) => ({ userId: victim.userId, status, cursorAt: 'infinity', cursorId: MAX_UUID, limit: 1000 }),
    expect: 'none' as const,
  })),
  RenameConversation: { params: ({ victim }) => ({ id: victim.conversationId, title: 'pwned' }), expect: 'none' },
  SetConversationStatus: { params: ({ victim }) => ({ id: victim.conversationId, status: 'archived' }), expect: 'none' },
  DeleteConversation: { params: ({ victim }) => ({ id: victim.conversationId }), expect: 'none' },
  ExportConversations: { params: ({ victim }) => ({ userId: victim.userId }), expect: 'none' },

  // sql/messages.sql
  AppendMessages: [
    {
      label: "into B's conversation: refused by the composite foreign key",
      params: ({ victim }) => ({
        conversationId: victim.conversationId,
        messages: JSON.stringify([{ id: null, role: 'user', content: 'attack', toolCalls: null, toolCallId: null }]),
      }),
      expect: { error: '23503' },
    },
    {
      label: "a tool result in B's conversation answering B's tool call: refused",
      params: ({ victim }) => ({
        conversationId: victim.conversationId,
        messages: JSON.stringify([{ id: null, role: 'tool', content: 'forged result', toolCalls: null, toolCallId: victim.toolCallId }]),
      }),
      expect: { error: '23503' },
    },
    {
      label: "into A's own conversation that reuses B's conversation id: lands in A's, B's is not touched",
      setup: conversationWithVictimsId,
      params: ({ victim }) => ({
        conversationId: victim.conversationId,
        messages: JSON.stringify([{ id: victim.messageIds[0], role: 'user', content: 'mine', toolCalls: null, toolCallId: null }]),
      }),
      expect: {
        own: async (rows, attack) => {
          assert.equal(rows.length, 1);
          const { rows: stored } = await attack.db.admin.query('select user_id from todo_chat.messages where seq = $1', [rows[0]!.seq]);
          assert.deepEqual(stored, [{ user_id: attack.attacker }]);
        },
      },
    },
    {
      label: "a tool result in A's same-id conversation answering B's tool call: B's call is invisible, refused",
      setup: conversationWithVictimsId,
      params: ({ victim }) => ({
        conversationId: victim.conversationId,
        messages: JSON.stringify([{ id: null, role: 'tool', content: 'forged', toolCalls: null, toolCallId: victim.toolCallId }]),
      }),
      expect: { error: '23514' },
    },
  ],
  ListRecentMessages: {
    params: ({ victim }) => ({ userId: victim.userId, conversationId: victim.conversationId, beforeSeq: MAX_BIGINT, limit: 1000 }),
    expect: 'none',
  },
  GetTurnStart: {
    params: ({ victim }) => ({ userId: victim.userId, conversationId: victim.conversationId, seq: MAX_BIGINT }),
    expect: 'none',
  },
  ListMessagesBetween: {
    params: ({ victim }) => ({ userId: victim.userId, conversationId: victim.conversationId, fromSeq: '0', toSeq: MAX_BIGINT }),
    expect: 'none',
  },
  ListMessages: { params: ({ victim }) => ({ userId: victim.userId, conversationId: victim.conversationId }), expect: 'none' },
  SearchMessages: [
    { label: 'all conversations', params: ({ victim }: Attack) => ({ userId: victim.userId, query: victim.marker, conversationId: null, limit: 200 }), expect: 'none' as const },
    {
      label: "within B's conversation",
      params: ({ victim }: Attack) => ({ userId: victim.userId, query: victim.marker, conversationId: victim.conversationId, limit: 200 }),
      expect: 'none' as const,
    },
  ],
  ExportMessages: { params: ({ victim }) => ({ userId: victim.userId }), expect: 'none' },

  // sql/users.sql
  EnsureUser: [
    { label: 'A exists already: nothing', params: () => undefined, expect: { own: (rows) => assert.deepEqual(rows, []) } },
    {
      label: "A does not exist yet: creates A's row only",
      attackerExists: false,
      params: () => undefined,
      expect: {
        own: (rows, attack) => assert.deepEqual(rows.map((r) => r.id), [attack.attacker]),
      },
    },
  ],
  GetUser: { params: () => undefined, expect: { own: (rows, attack) => assert.deepEqual(rows.map((r) => r.id), [attack.attacker]) } },
  DeleteUser: { params: () => undefined, expect: { own: (rows, attack) => assert.deepEqual(rows, [{ id: attack.attacker }]) } },
};

async function runQueryCase(query: PreparedQuery<unknown, unknown>, name: string, queryCase: QueryCase): Promise<void> {
  const attacker = queryCase.attackerExists === false ? crypto.randomUUID() : (await db.createUsers(1))[0]!;
  const attack: Attack = { attacker, victim, db };
  if (queryCase.setup) await asUserCommitting(db.admin, attacker, (client) => queryCase.setup!(client, attack));

  const before = await snapshotOthers(db.admin, attacker);
  const params = queryCase.params(attack);
  let rows: Record<string, unknown>[] | undefined;
  let errorCode: string | undefined;
  try {
    rows = (await asUserCommitting(db.admin, attacker, (client) => query.run(params, client))) as Record<string, unknown>[];
  } catch (error) {
    errorCode = (error as { code?: string }).code ?? String(error);
  }
  const after = await snapshotOthers(db.admin, attacker);
  assert.deepEqual(after, before, `${name} run by A with B's ids changed rows that are not A's`);
  if (rows) {
    const text = JSON.stringify(rows);
    assert.ok(!text.includes(victim.marker) && !text.includes(bystander.marker), `${name} returned B's data: ${text}`);
  }

  const expect = queryCase.expect;
  if (expect === 'none') {
    assert.equal(errorCode, undefined, `${name} failed with ${errorCode}`);
    assert.deepEqual(rows, [], `${name} run by A with B's ids returns no row`);
    // The control: the very same parameters, run as B (and rolled back), do reach B's rows.
    const asVictim = (await asUser(db.admin, victim.userId, (client) => query.run(params, client))) as unknown[];
    assert.ok(asVictim.length > 0, `${name}: the case must aim at B's data (as B the same parameters return rows)`);
  } else if ('error' in expect) {
    assert.equal(errorCode, expect.error, `${name} is refused with SQLSTATE ${expect.error}`);
  } else {
    assert.equal(errorCode, undefined, `${name} failed with ${errorCode}`);
    await expect.own(rows!, attack);
  }
}

describe('every named query of sql/, run as A with B ids, returns and changes nothing of B', () => {
  test('sql/ has named queries, and every one compiles to a generated PreparedQuery (npm run codegen is current)', () => {
    assert.ok(named.length >= 20, `found ${named.length} named queries`);
    const names = named.map((q) => q.name);
    assert.equal(new Set(names).size, names.length, 'query names are unique across sql/');
    const missing = named.filter((q) => !generated.has(q.exportName)).map((q) => `${q.name} (${q.file})`);
    assert.deepEqual(missing, [], `no generated query for: ${missing.join(', ')}; run npm run codegen`);
    const extra = [...generated.keys()].filter((exportName) => !named.some((q) => q.exportName === exportName));
    assert.deepEqual(extra, [], `generated queries with no @name in sql/: ${extra.join(', ')}; run npm run codegen`);
  });

  test('every named query has an isolation case, and every case names a query that exists', () => {
    const missing = named.filter((q) => !(q.name in QUERY_CASES));
    assert.deepEqual(
      missing.map((q) => q.name),
      [],
      `no isolation case for: ${missing.map((q) => `${q.name} (${q.file})`).join(', ')}. ` +
        'Add one to QUERY_CASES in test/security/attack.test.ts: run it as user A with user B ids and values.',
    );
    const stale = Object.keys(QUERY_CASES).filter((name) => !named.some((q) => q.name === name));
    assert.deepEqual(stale, [], `QUERY_CASES has cases for queries no longer in sql/: ${stale.join(', ')}`);
  });

  for (const q of named) {
    const cases = QUERY_CASES[q.name];
    if (cases === undefined) {
      test(`${q.name} (${q.file})`, () => {
        assert.fail(
          `named query ${q.name} in ${q.file} has no isolation case: add one to QUERY_CASES in test/security/attack.test.ts`,
        );
      });
      continue;
    }
    for (const queryCase of Array.isArray(cases) ? cases : [cases]) {
      test(`${q.name} (${q.file})${queryCase.label ? `: ${queryCase.label}` : ''}`, async () => {
        const entry = generated.get(q.exportName);
        assert.ok(entry, `no generated export ${q.exportName} for ${q.name}; run npm run codegen`);
        await runQueryCase(entry.query, q.name, queryCase);
      });
    }
  }
});

/* ------------------------------------------------------------------------ */
/* Part 2: every operation of the public API, as A with B's ids.             */
/* ------------------------------------------------------------------------ */

/** The ids an operation is given: B's, or (for the comparison) ids that exist for nobody. */
interface Target {
  userId: string;
  marker: string;
  taskId: string;
  conversationId: string;
  toolCallId: string;
  lastSeq: string;
}

function phantom(): Target {
  return {
    userId: crypto.randomUUID(),
    marker: 'nobody',
    taskId: crypto.randomUUID(),
    conversationId: crypto.randomUUID(),
    toolCallId: 'call_nobody',
    lastSeq: victim.lastSeq,
  };
}

interface ApiCase {
  /** `tasks.get`, `messages.history`, ...: the repository method this case covers. */
  method: string;
  label: string;
  run: (tx: Transaction, target: Target, attacker: string) => Promise<unknown>;
  /**
   * not-found: NotFoundError, exactly as for ids that exist for nobody (same class, entity and
   * message but for the id), and as B the same call succeeds;
   * function: the call succeeds and the function checks it touched only A's data.
   */
  expect: 'not-found' | ((result: unknown, attacker: string, target: Target) => Promise<void> | void);
}

const emptyPage = (result: unknown) => assert.deepEqual((result as { items: unknown[] }).items, []);
const emptyList = (result: unknown) => assert.deepEqual(result, []);

async function ownedBy(table: string, id: string, attacker: string): Promise<void> {
  const { rows } = await db.admin.query(`select user_id from todo_chat.${table} where id = $1 order by user_id`, [id]);
  assert.ok(rows.some((r) => r.user_id === attacker), `A owns the new ${table} row ${id}`);
}

const API_CASES: ApiCase[] = [
  // tx.tasks
  {
    method: 'tasks.create',
    label: "with B's task id: A's own task, no ConflictError that would reveal B's",
    run: (tx, t) => tx.tasks.create({ id: t.taskId, title: 'attack' }),
    expect: async (result, attacker, t) => {
      assert.equal((result as { id: string }).id, t.taskId);
      await ownedBy('tasks', t.taskId, attacker);
    },
  },
  { method: 'tasks.get', label: "B's task", run: (tx, t) => tx.tasks.get(t.taskId), expect: 'not-found' },
  { method: 'tasks.list', label: 'newest first', run: (tx) => tx.tasks.list({ limit: 200 }), expect: emptyPage },
  { method: 'tasks.list', label: 'oldest first, completed', run: (tx) => tx.tasks.list({ order: 'oldest', completed: true }), expect: emptyPage },
  {
    method: 'tasks.list',
    label: "with a cursor forged from B's task",
    run: (tx, t) =>
      tx.tasks.list({ cursor: encodeCursor('tasks:newest:all', [new Date(Date.now() + 86_400_000).toISOString(), t.taskId]) }),
    expect: emptyPage,
  },
  { method: 'tasks.update', label: "B's task", run: (tx, t) => tx.tasks.update(t.taskId, { title: 'pwned' }), expect: 'not-found' },
  {
    method: 'tasks.update',
    label: "B's task at its real version",
    run: (tx, t) => tx.tasks.update(t.taskId, { description: 'pwned', expectedVersion: 1 }),
    expect: 'not-found',
  },
  {
    method: 'tasks.update',
    label: "B's task at a wrong version: NotFoundError, not a ConflictError that would reveal it",
    run: (tx, t) => tx.tasks.update(t.taskId, { completed: true, expectedVersion: 99 }),
    expect: 'not-found',
  },
  { method: 'tasks.complete', label: "B's task", run: (tx, t) => tx.tasks.complete(t.taskId), expect: 'not-found' },
  {
    method: 'tasks.complete',
    label: "B's task at a wrong version",
    run: (tx, t) => tx.tasks.complete(t.taskId, { expectedVersion: 7 }),
    expect: 'not-found',
  },
  { method: 'tasks.reopen', label: "B's task", run: (tx, t) => tx.tasks.reopen(t.taskId), expect: 'not-found' },
  { method: 'tasks.delete', label: "B's task", run: (tx, t) => tx.tasks.delete(t.taskId), expect: 'not-found' },
  {
    method: 'tasks.delete',
    label: "B's task at a wrong version",
    run: (tx, t) => tx.tasks.delete(t.taskId, { expectedVersion: 5 }),
    expect: 'not-found',
  },

  // tx.conversations
  {
    method: 'conversations.create',
    label: "with B's conversation id: A's own conversation",
    run: (tx, t) => tx.conversations.create({ id: t.conversationId, title: 'attack' }),
    expect: async (result, attacker, t) => {
      assert.equal((result as { id: string }).id, t.conversationId);
      await ownedBy('conversations', t.conversationId, attacker);
    },
  },
  { method: 'conversations.get', label: "B's conversation", run: (tx, t) => tx.conversations.get(t.conversationId), expect: 'not-found' },
  { method: 'conversations.list', label: 'all', run: (tx) => tx.conversations.list({ limit: 200 }), expect: emptyPage },
  { method: 'conversations.list', label: 'archived', run: (tx) => tx.conversations.list({ status: 'archived' }), expect: emptyPage },
  {
    method: 'conversations.rename',
    label: "B's conversation",
    run: (tx, t) => tx.conversations.rename(t.conversationId, 'pwned'),
    expect: 'not-found',
  },
  {
    method: 'conversations.rename',
    label: "B's conversation, title removed",
    run: (tx, t) => tx.conversations.rename(t.conversationId, null),
    expect: 'not-found',
  },
  { method: 'conversations.archive', label: "B's conversation", run: (tx, t) => tx.conversations.archive(t.conversationId), expect: 'not-found' },
  {
    method: 'conversations.unarchive',
    label: "B's conversation",
    run: (tx, t) => tx.conversations.unarchive(t.conversationId),
    expect: 'not-found',
  },
  { method: 'conversations.delete', label: "B's conversation", run: (tx, t) => tx.conversations.delete(t.conversationId), expect: 'not-found' },

  // tx.messages
  {
    method: 'messages.append',
    label: "to B's conversation",
    run: (tx, t) => tx.messages.append(t.conversationId, { role: 'user', content: 'attack' }),
    expect: 'not-found',
  },
  {
    method: 'messages.appendTurn',
    label: "to B's conversation, with a forged answer to B's tool call",
    run: (tx, t) =>
      tx.messages.appendTurn(t.conversationId, [
        { role: 'user', content: 'attack' },
        { role: 'tool', toolCallId: t.toolCallId, content: 'forged result' },
      ]),
    expect: 'not-found',
  },
  {
    method: 'messages.appendTurn',
    label: "to B's conversation, a whole tool-call turn",
    run: (tx, t) =>
      tx.messages.appendTurn(t.conversationId, [
        { role: 'assistant', toolCalls: [{ id: 'c1', name: 'delete_all', arguments: {} }] },
        { role: 'tool', toolCallId: 'c1', content: 'ok' },
      ]),
    expect: 'not-found',
  },
  { method: 'messages.history', label: "B's conversation", run: (tx, t) => tx.messages.history(t.conversationId), expect: 'not-found' },
  {
    method: 'messages.history',
    label: "B's conversation with a cursor forged for it",
    run: (tx, t) => tx.messages.history(t.conversationId, { before: encodeCursor(`history:${t.conversationId}`, [t.lastSeq]) }),
    expect: 'not-found',
  },
  { method: 'messages.all', label: "B's conversation", run: (tx, t) => tx.messages.all(t.conversationId), expect: 'not-found' },
  { method: 'messages.search', label: "B's words", run: (tx, t) => tx.messages.search(t.marker), expect: emptyList },
  {
    method: 'messages.search',
    label: "B's words in B's conversation",
    run: (tx, t) => tx.messages.search(t.marker, { conversationId: t.conversationId }),
    expect: emptyList,
  },

  // tx.users: no ids to pass; they act on A alone.
  {
    method: 'users.ensure',
    label: "creates or returns A's row only",
    run: (tx) => tx.users.ensure(),
    expect: (result, attacker) => assert.equal((result as { id: string }).id, attacker),
  },
  { method: 'users.get', label: "A's row", run: (tx) => tx.users.get(), expect: (result, attacker) => assert.equal((result as { id: string }).id, attacker) },
  {
    method: 'users.export',
    label: "holds A's data only",
    run: (tx) => tx.users.export(),
    expect: (result, attacker) => {
      const doc = result as { user: { id: string }; tasks: unknown[]; conversations: unknown[] };
      assert.equal(doc.user.id, attacker);
      assert.deepEqual([doc.tasks, doc.conversations], [[], []]);
      assert.ok(!JSON.stringify(doc).includes(victim.marker));
    },
  },
  {
    method: 'users.delete',
    label: 'erases A only',
    run: (tx) => tx.users.delete(),
    expect: async (_result, attacker) => {
      const { rows } = await db.admin.query('select id from todo_chat.users where id = $1', [attacker]);
      assert.deepEqual(rows, []);
    },
  },
];

/** Thrown to roll back the "as B the same call works" control. */
class RollBack extends Error {}

async function outcome(userId: string, fn: (tx: Transaction) => Promise<unknown>): Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await store.withUser(userId, fn) };
  } catch (error) {
    return { ok: false, error };
  }
}

describe("every operation of the public API, as A with B's ids, yields NotFoundError (or nothing) and changes nothing", () => {
  test('every repository method has a case', async () => {
    const [probe] = await db.createUsers(1);
    const methods = await store.withUser(probe!, async (tx) =>
      (['tasks', 'conversations', 'messages', 'users'] as const).flatMap((repo) =>
        Object.keys(tx[repo]).map((name) => `${repo}.${name}`),
      ),
    );
    const missing = methods.filter((method) => !API_CASES.some((c) => c.method === method));
    assert.deepEqual(missing, [], `no cross-user case for tx.${missing.join(', tx.')}: add one to API_CASES in test/security/attack.test.ts`);
    const stale = API_CASES.filter((c) => !methods.includes(c.method)).map((c) => c.method);
    assert.deepEqual(stale, [], `API_CASES names methods that do not exist: ${stale.join(', ')}`);
  });

  for (const apiCase of API_CASES) {
    test(`tx.${apiCase.method}: ${apiCase.label}`, async () => {
      const [attacker] = await db.createUsers(1);
      const before = await snapshotOthers(db.admin, attacker);
      const got = await outcome(attacker!, (tx) => apiCase.run(tx, victim, attacker!));
      const after = await snapshotOthers(db.admin, attacker);
      assert.deepEqual(after, before, `tx.${apiCase.method} as A with B's ids changed rows that are not A's`);

      if (apiCase.expect === 'not-found') {
        assert.ok(!got.ok, `tx.${apiCase.method} with B's ids must fail, it returned ${JSON.stringify(got.ok && got.value)}`);
        assert.ok(got.error instanceof NotFoundError, `NotFoundError, got ${(got.error as Error)?.name}: ${(got.error as Error)?.message}`);
        // Indistinguishable from ids that exist for nobody: same class, entity, message (but for the id).
        const nobody = phantom();
        const control = await outcome(attacker!, (tx) => apiCase.run(tx, nobody, attacker!));
        assert.ok(!control.ok && control.error instanceof NotFoundError, 'ids of nobody give NotFoundError too');
        const normalise = (error: NotFoundError, target: Target) =>
          ({
            name: error.name,
            code: error.code,
            entity: error.entity,
            message: error.message.replaceAll(target.taskId, '<id>').replaceAll(target.conversationId, '<id>'),
          });
        assert.deepEqual(normalise(got.error, victim), normalise(control.error as NotFoundError, nobody));
        // And the call aims at B's real rows: as B, the same call finds them (it succeeds and is
        // rolled back, or, for a wrong expected version, B alone learns of the conflict).
        const asVictim = await outcome(victim.userId, async (tx) => {
          await apiCase.run(tx, victim, victim.userId);
          throw new RollBack();
        });
        assert.ok(!asVictim.ok);
        assert.ok(
          asVictim.error instanceof RollBack || asVictim.error instanceof ConflictError,
          `as B the same call reaches B's row, got ${(asVictim.error as Error)?.name}: ${(asVictim.error as Error)?.message}`,
        );
      } else {
        assert.ok(got.ok, `tx.${apiCase.method} failed: ${(got as { error: Error }).error}`);
        assert.ok(!JSON.stringify(got.value ?? null).includes(victim.marker), `tx.${apiCase.method} returned B's data`);
        await apiCase.expect(got.value, attacker!, victim);
      }
    });
  }

  test("errors never carry B's data", async () => {
    const [attacker] = await db.createUsers(1);
    const errors: unknown[] = [];
    for (const apiCase of API_CASES.filter((c) => c.expect === 'not-found')) {
      const got = await outcome(attacker!, (tx) => apiCase.run(tx, victim, attacker!));
      if (!got.ok) errors.push(got.error);
    }
    assert.ok(errors.length > 10);
    for (const error of errors) {
      assert.ok(error instanceof TodoChatDbError);
      const text = `${error.message} ${JSON.stringify(error)} ${String((error as Error).cause ?? '')}`;
      assert.ok(!text.includes(victim.marker), text);
      assert.ok(!text.includes(victim.userId), `the error names B's user id: ${text}`);
    }
  });
});
