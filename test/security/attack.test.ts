/**
 * The cross-user attack suite. User A (the attacker) runs every named query of
 * sql/, and every operation of the public API, with user B's (the victim's)
 * ids and values, and each time:
 *   - gets nothing of B's back (zero rows, NotFoundError, or a row that is A's own),
 *   - changes nothing of B's (and nobody else's): a superuser snapshot of every
 *     row not owned by A is identical before and after the attack, which is
 *     committed, not rolled back;
 *   - never waits on B's locks (a wait would tell A that B's conversation exists).
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
import {
  ConflictError,
  NotFoundError,
  TodoChatDbError,
  ValidationError,
  type JsonObject,
  type Page,
  type Store,
  type ToolCallRecord,
  type Transaction,
} from '../../src/index.js';
import { MAX_UUID, NIL_UUID, encodeCursor } from '../../src/repositories/pagination.js';

let db: TestDatabase;
let store: Store;
let victim: Victim;
let bystander: Victim;
let generated: Awaited<ReturnType<typeof loadGeneratedQueries>>;
/** The sort key of B's first tool call (ordinal: ListConversationToolCalls; all three: ListUserToolCalls), to forge cursors from. */
let victimFirstCall: { createdAt: Date; conversationId: string; ordinal: number };
const named = listNamedQueries();

before(async () => {
  db = await createTestDatabase();
  store = db.store();
  const [victimId, bystanderId] = await db.createUsers(2);
  victim = await seedVictim(store, victimId!);
  bystander = await seedVictim(store, bystanderId!);
  generated = await loadGeneratedQueries();
  const { rows } = await db.admin.query(
    `select created_at as "createdAt", conversation_id as "conversationId", ordinal
     from todo_chat.tool_calls where user_id = $1 order by created_at, conversation_id, ordinal limit 1`,
    [victim.userId],
  );
  assert.equal(rows.length, 1, 'the victim has tool calls');
  victimFirstCall = rows[0];
  // B's first call is answered: a list that joined results by ordinal alone would show B's result beside A's call of that ordinal.
  const { rows: answered } = await db.admin.query(
    'select count(*)::int as n from todo_chat.tool_results where user_id = $1 and conversation_id = $2 and call_ordinal = $3',
    [victim.userId, victimFirstCall.conversationId, victimFirstCall.ordinal],
  );
  assert.deepEqual(answered, [{ n: 1 }], "B's first call has its result");
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
  /** Runs last, whatever the expectation: further checks of what the attack left (read as superuser). */
  verify?: (attack: Attack) => Promise<void>;
  /**
   * Values of B's that A itself wrote into A's own rows (B's call id, which holds B's marker):
   * they may come back in A's rows, and are masked before the check that no row holds B's marker.
   */
  echoes?: (attack: Attack) => string[];
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

/** A message as AppendMessages and ReplaceMessage read it (src/repositories/messages.ts `wire`): a plain user message unless told otherwise. */
function wireMessage(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { role: 'user', format: 'chat', content: 'attack', calls: [], results: [], ...fields };
}

const messagesJson = (...messages: Record<string, unknown>[]) => JSON.stringify(messages.map((m) => wireMessage(m)));

/** A plain chat tool message answering `callId`, and its audit result. */
const chatResult = (callId: string, content = 'forged result') =>
  ({ role: 'tool', content, toolCallId: callId, results: [{ callId, output: content }] });

/** An Agents SDK function_call_result item answering `callId`, and its audit result. */
const agentsResult = (callId: string) => ({
  role: 'tool',
  format: 'openai-agents',
  content: 'forged result',
  item: { type: 'function_call_result', callId, name: 'list_tasks', status: 'completed', output: 'forged result' },
  results: [{ callId, output: 'forged result', status: 'completed' }],
});

/** A plain chat assistant message making a call under `callId`, and its audit call. */
const chatCall = (callId: string, fields: Record<string, unknown> = {}) => ({
  role: 'assistant',
  content: '',
  toolCalls: [{ id: callId, name: 'mine', arguments: {} }],
  calls: [{ callId, name: 'mine', arguments: {} }],
  ...fields,
});

/** Appends messages to A's own conversation (committed setup), through the generated AppendMessages as the library runs it. */
async function appendAsAttacker(client: pg.PoolClient, attack: Attack, ...messages: Record<string, unknown>[]): Promise<void> {
  const rows = await generated
    .get('appendMessages')!
    .query.run({ userId: attack.attacker, conversationId: attack.victim.conversationId, messages: messagesJson(...messages) }, client);
  assert.equal(rows.length, messages.length, 'the setup appended to A\'s own conversation');
}

/** A owns a conversation with B's conversation id that holds one message of its own under B's first message id. */
async function sameIdConversationWithMessage(client: pg.PoolClient, attack: Attack): Promise<void> {
  await conversationWithVictimsId(client, attack);
  await appendAsAttacker(client, attack, { id: attack.victim.messageIds[0], content: 'mine' });
}

/** A owns a conversation with B's conversation id holding two messages of its own under B's first two message ids. */
async function sameIdConversationWithTwoMessages(client: pg.PoolClient, attack: Attack): Promise<void> {
  await conversationWithVictimsId(client, attack);
  await appendAsAttacker(client, attack, { id: attack.victim.messageIds[0], content: 'mine' }, { id: attack.victim.messageIds[1], content: 'mine too' });
}

/** A owns a conversation with B's conversation id in which A made a call under B's call id, and answered it. */
async function sameIdConversationWithCall(client: pg.PoolClient, attack: Attack): Promise<void> {
  await conversationWithVictimsId(client, attack);
  await appendAsAttacker(client, attack, chatCall(attack.victim.toolCallId, { id: 'a-call' }), { ...chatResult(attack.victim.toolCallId, 'mine'), id: 'a-result' });
}

/**
 * A owns a conversation with B's conversation id in which A made a call under
 * B's call id that nothing answered: A's call has the ordinal of B's first
 * call (1), which B's result answers in B's conversation.
 */
async function sameIdConversationWithUnansweredCall(client: pg.PoolClient, attack: Attack): Promise<void> {
  await conversationWithVictimsId(client, attack);
  await appendAsAttacker(client, attack, chatCall(attack.victim.toolCallId, { id: 'a-call' }));
  const { rows } = await client.query('select ordinal from todo_chat.tool_calls where conversation_id = $1', [attack.victim.conversationId]);
  assert.deepEqual(rows, [{ ordinal: victimFirstCall.ordinal }], "A's call has the ordinal of B's first call");
}

/**
 * A owns a conversation with B's conversation id holding, at the positions of
 * B's first two messages, messages of A's under B's message ids (the second,
 * B's call message, making no call): a lookup of a call "still in the
 * history" by message id and position alone would take B's call for A's.
 */
async function sameIdConversationMirroringVictim(client: pg.PoolClient, attack: Attack): Promise<void> {
  await conversationWithVictimsId(client, attack);
  await appendAsAttacker(
    client,
    attack,
    { id: attack.victim.messageIds[0], content: 'mine' },
    { id: attack.victim.messageIds[1], role: 'assistant', content: 'no call of mine' },
  );
}

const ownRow = (table: string) => async (rows: Record<string, unknown>[], attack: Attack) => {
  assert.equal(rows.length, 1);
  await attackerRowOf(table, rows[0]!.id, attack);
};

const noRow = { own: (rows: Record<string, unknown>[]) => assert.deepEqual(rows, []) };

/** The ids and contents of rows, as a query returned them. */
const idsAndContents = (rows: Record<string, unknown>[]) => rows.map((row) => ({ id: row.id, content: row.content }));

/** B's conversation as seeded: its counters, and as many messages as its last position (none added, none removed). */
async function victimConversationIntact(attack: Attack): Promise<void> {
  const { rows } = await attack.db.admin.query(
    `select c.last_position,
       (select count(*)::int from todo_chat.messages m where m.user_id = c.user_id and m.conversation_id = c.id) as messages
     from todo_chat.conversations c where c.user_id = $1 and c.id = $2`,
    [attack.victim.userId, attack.victim.conversationId],
  );
  assert.deepEqual(rows, [{ last_position: attack.victim.lastPosition, messages: attack.victim.lastPosition }], "B's conversation is as seeded");
}

/** A's same-id conversation: its counter and its messages (id, position, content), read as superuser. */
async function attackersConversation(attack: Attack): Promise<{ lastPosition: number; messages: { id: string; position: number; content: string }[] }> {
  const { rows: conversation } = await attack.db.admin.query(
    'select last_position from todo_chat.conversations where user_id = $1 and id = $2',
    [attack.attacker, attack.victim.conversationId],
  );
  assert.equal(conversation.length, 1, "A's own conversation with B's conversation id exists");
  const { rows: messages } = await attack.db.admin.query(
    'select id, position, content from todo_chat.messages where user_id = $1 and conversation_id = $2 order by position',
    [attack.attacker, attack.victim.conversationId],
  );
  return { lastPosition: conversation[0].last_position, messages };
}

/** A's rows in both audit tables, read as superuser. */
async function attackersAudit(attack: Attack): Promise<{ calls: unknown[]; results: unknown[] }> {
  const { rows: calls } = await attack.db.admin.query(
    'select conversation_id, message_id, call_id, name from todo_chat.tool_calls where user_id = $1 order by message_id, call_id',
    [attack.attacker],
  );
  // Each result with the message of the call it answers (its call_ordinal, among A's calls: the foreign key holds the user id).
  const { rows: results } = await attack.db.admin.query(
    `select r.conversation_id, r.message_id, r.call_id, t.message_id as call_message_id
     from todo_chat.tool_results r
     left join todo_chat.tool_calls t on t.user_id = r.user_id and t.conversation_id = r.conversation_id and t.ordinal = r.call_ordinal
     where r.user_id = $1 order by r.message_id, r.call_id`,
    [attack.attacker],
  );
  return { calls, results };
}

/** The first page's key of ListConversationToolCalls: every call. */
const FIRST_CONVERSATION_CALL_KEY = { afterOrdinal: 0 };
/** The first page's key of ListUserToolCalls: every call. */
const FIRST_USER_CALL_KEY = { cursorAt: '-infinity', cursorConversationId: NIL_UUID, cursorOrdinal: 0 };

/** The rows of ListConversationToolCalls and ListUserToolCalls, each call with the message ids and outputs of its results. */
const callsWithResults = (rows: Record<string, unknown>[]) =>
  rows.map((row) => ({
    conversationId: row.conversationId,
    messageId: row.messageId,
    callId: row.callId,
    name: row.name,
    results: (row.results as { messageId: string; output: unknown }[]).map((result) => ({ messageId: result.messageId, output: result.output })),
  }));

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
  ExportTasks: [
    { label: 'first batch', params: ({ victim }) => ({ userId: victim.userId, afterId: NIL_UUID, limit: 1000 }), expect: 'none' },
    { label: 'batches of one', params: ({ victim }) => ({ userId: victim.userId, afterId: NIL_UUID, limit: 1 }), expect: 'none' },
  ],

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
  ExportConversations: [
    { label: 'first batch', params: ({ victim }) => ({ userId: victim.userId, afterId: NIL_UUID, limit: 1000 }), expect: 'none' },
    { label: 'batches of one', params: ({ victim }) => ({ userId: victim.userId, afterId: NIL_UUID, limit: 1 }), expect: 'none' },
  ],

  // sql/messages.sql
  AppendMessages: [
    {
      label: "into B's conversation: no row back, nothing written, B's counters untouched",
      params: ({ victim }) => ({ userId: victim.userId, conversationId: victim.conversationId, messages: messagesJson({ content: 'attack' }) }),
      expect: 'none',
      verify: victimConversationIntact,
    },
    {
      label: "into B's conversation with A's user id: no row back, nothing written",
      params: ({ victim, attacker }) => ({ userId: attacker, conversationId: victim.conversationId, messages: messagesJson({ content: 'attack' }) }),
      expect: noRow,
      verify: victimConversationIntact,
    },
    {
      label: "into B's conversation, under ids of A's choosing, with an AI SDK item: nothing written",
      params: ({ victim }) => ({
        userId: victim.userId,
        conversationId: victim.conversationId,
        messages: messagesJson(
          { id: `new-${victim.messageIds[0]}`, content: 'attack' },
          { id: 'attack-ui', role: 'assistant', format: 'ai-sdk', content: 'attack', item: { id: 'attack-ui', role: 'assistant', parts: [] } },
        ),
      }),
      expect: 'none',
      verify: victimConversationIntact,
    },
    {
      label: "a chat tool result in B's conversation answering B's tool call: nothing written",
      params: ({ victim }) => ({ userId: victim.userId, conversationId: victim.conversationId, messages: messagesJson(chatResult(victim.toolCallId)) }),
      expect: 'none',
      verify: victimConversationIntact,
    },
    {
      label: "an Agents SDK result in B's conversation answering B's function call: nothing written",
      params: ({ victim }) => ({ userId: victim.userId, conversationId: victim.conversationId, messages: messagesJson(agentsResult(victim.agentsCallId)) }),
      expect: 'none',
      verify: victimConversationIntact,
    },
    {
      label: "a call made in B's conversation under B's call id: nothing written",
      params: ({ victim }) => ({ userId: victim.userId, conversationId: victim.conversationId, messages: messagesJson(chatCall(victim.toolCallId)) }),
      expect: 'none',
      verify: victimConversationIntact,
    },
    {
      label: "into A's own conversation that reuses B's conversation id, under B's message id: lands in A's, numbered from 1",
      setup: conversationWithVictimsId,
      params: ({ victim, attacker }) => ({
        userId: attacker,
        conversationId: victim.conversationId,
        messages: messagesJson({ id: victim.messageIds[0], content: 'mine' }),
      }),
      expect: {
        own: async (rows, attack) => {
          assert.deepEqual(rows.map((row) => ({ id: row.id, position: row.position })), [{ id: attack.victim.messageIds[0], position: 1 }]);
          assert.deepEqual(await attackersConversation(attack), {
            lastPosition: 1,
            messages: [{ id: attack.victim.messageIds[0], position: 1, content: 'mine' }],
          });
        },
      },
      verify: victimConversationIntact,
    },
    {
      label: "into A's same-id conversation with B's user id: nothing written, in A's or in B's",
      setup: conversationWithVictimsId,
      params: ({ victim }) => ({ userId: victim.userId, conversationId: victim.conversationId, messages: messagesJson({ content: 'attack' }) }),
      expect: 'none',
      verify: async (attack) => {
        await victimConversationIntact(attack);
        assert.deepEqual(await attackersConversation(attack), { lastPosition: 0, messages: [] });
      },
    },
    {
      label: "a chat tool result in A's same-id conversation answering B's tool call: B's call is invisible, refused",
      setup: conversationWithVictimsId,
      params: ({ victim, attacker }) => ({ userId: attacker, conversationId: victim.conversationId, messages: messagesJson(chatResult(victim.toolCallId)) }),
      expect: { error: '23514' },
    },
    {
      label: "an Agents SDK result in A's same-id conversation answering B's function call: refused",
      setup: conversationWithVictimsId,
      params: ({ victim, attacker }) => ({ userId: attacker, conversationId: victim.conversationId, messages: messagesJson(agentsResult(victim.agentsCallId)) }),
      expect: { error: '23514' },
    },
    {
      label: "the same, with B's user id for the call lookup: nothing written",
      setup: conversationWithVictimsId,
      params: ({ victim }) => ({ userId: victim.userId, conversationId: victim.conversationId, messages: messagesJson(chatResult(victim.toolCallId)) }),
      expect: 'none',
      verify: async (attack) => assert.deepEqual(await attackersAudit(attack), { calls: [], results: [] }),
    },
    {
      label: "a call reusing B's call id and its result in A's same-id conversation: both A's, the result answers A's call",
      setup: conversationWithVictimsId,
      echoes: ({ victim }) => [victim.toolCallId],
      params: ({ victim, attacker }) => ({
        userId: attacker,
        conversationId: victim.conversationId,
        messages: messagesJson(chatCall(victim.toolCallId, { id: 'a-call' }), { ...chatResult(victim.toolCallId, 'mine'), id: 'a-result' }),
      }),
      expect: {
        own: async (rows, attack) => {
          assert.deepEqual(rows.map((row) => row.position), [1, 2]);
          const { conversationId, toolCallId } = attack.victim;
          assert.deepEqual(await attackersAudit(attack), {
            calls: [{ conversation_id: conversationId, message_id: 'a-call', call_id: toolCallId, name: 'mine' }],
            results: [{ conversation_id: conversationId, message_id: 'a-result', call_id: toolCallId, call_message_id: 'a-call' }],
          });
        },
      },
    },
    {
      label: "a result naming B's call id in A's same-id conversation that holds A's messages under B's message ids, at B's positions: refused",
      setup: sameIdConversationMirroringVictim,
      params: ({ victim, attacker }) => ({ userId: attacker, conversationId: victim.conversationId, messages: messagesJson(chatResult(victim.toolCallId)) }),
      expect: { error: '23514' },
      verify: async (attack) => {
        await victimConversationIntact(attack);
        assert.deepEqual(await attackersAudit(attack), { calls: [], results: [] });
        assert.equal((await attackersConversation(attack)).lastPosition, 2);
      },
    },
    {
      label: "an Agents SDK result naming B's function call id in A's mirroring same-id conversation: refused",
      setup: sameIdConversationMirroringVictim,
      params: ({ victim, attacker }) => ({ userId: attacker, conversationId: victim.conversationId, messages: messagesJson(agentsResult(victim.agentsCallId)) }),
      expect: { error: '23514' },
    },
    {
      label: "B's call made again by A, identically, under B's message id in A's same-id conversation: recorded as A's own call",
      setup: conversationWithVictimsId,
      // A wrote B's call id and B's arguments (which hold B's marker) itself.
      echoes: ({ victim }) => [victim.toolCallId, `"title":"${victim.marker}"`],
      params: ({ victim, attacker }) => ({
        userId: attacker,
        conversationId: victim.conversationId,
        messages: messagesJson(
          { id: victim.messageIds[0], content: 'mine' },
          {
            id: victim.messageIds[1],
            role: 'assistant',
            content: '',
            toolCalls: [{ id: victim.toolCallId, name: 'create_task', arguments: { title: victim.marker } }],
            calls: [{ callId: victim.toolCallId, name: 'create_task', arguments: { title: victim.marker } }],
          },
        ),
      }),
      expect: {
        own: async (rows, attack) => {
          assert.deepEqual(rows.map((row) => row.position), [1, 2]);
          // Recorded once per user: B's identical record (same conversation id, message id, call, arguments) does not stop A's.
          assert.deepEqual(await attackersAudit(attack), {
            calls: [{ conversation_id: attack.victim.conversationId, message_id: attack.victim.messageIds[1], call_id: attack.victim.toolCallId, name: 'create_task' }],
            results: [],
          });
        },
      },
      verify: victimConversationIntact,
    },
  ],
  ReplaceMessage: [
    {
      label: "B's message in B's conversation: no row, nothing changed",
      params: ({ victim }) => ({
        userId: victim.userId,
        conversationId: victim.conversationId,
        id: victim.messageIds[0],
        message: JSON.stringify(wireMessage({ content: 'pwned' })),
      }),
      expect: 'none',
    },
    {
      label: "B's message with A's user id: no row",
      params: ({ victim, attacker }) => ({
        userId: attacker,
        conversationId: victim.conversationId,
        id: victim.messageIds[0],
        message: JSON.stringify(wireMessage({ content: 'pwned' })),
      }),
      expect: noRow,
    },
    {
      label: "B's AI SDK message, by the id its client chose, with an item: no row",
      params: ({ victim }) => ({
        userId: victim.userId,
        conversationId: victim.conversationId,
        id: victim.uiMessageId,
        message: JSON.stringify(
          wireMessage({ role: 'assistant', format: 'ai-sdk', content: 'pwned', item: { id: victim.uiMessageId, role: 'assistant', parts: [{ type: 'text', text: 'pwned' }] } }),
        ),
      }),
      expect: 'none',
    },
    {
      label: "B's tool message, answering B's call with a forged result and making a call: no row, no audit row",
      params: ({ victim }) => ({
        userId: victim.userId,
        conversationId: victim.conversationId,
        id: victim.messageIds[2],
        message: JSON.stringify(wireMessage({ ...chatResult(victim.toolCallId), calls: [{ callId: 'forged-call', name: 'forged', arguments: {} }] })),
      }),
      expect: 'none',
    },
    {
      label: "B's message id in A's same-id conversation that holds no such message: no row",
      setup: conversationWithVictimsId,
      params: ({ victim, attacker }) => ({
        userId: attacker,
        conversationId: victim.conversationId,
        id: victim.messageIds[0],
        message: JSON.stringify(wireMessage({ content: 'pwned' })),
      }),
      expect: noRow,
    },
    {
      label: "A's message under B's message id in A's same-id conversation: A's is replaced, B's is not",
      setup: sameIdConversationWithMessage,
      params: ({ victim, attacker }) => ({
        userId: attacker,
        conversationId: victim.conversationId,
        id: victim.messageIds[0],
        message: JSON.stringify(wireMessage({ content: 'replaced' })),
      }),
      expect: {
        own: async (rows, attack) => {
          assert.deepEqual(rows.map((row) => ({ id: row.id, position: row.position, content: row.content })), [
            { id: attack.victim.messageIds[0], position: 1, content: 'replaced' },
          ]);
          assert.deepEqual((await attackersConversation(attack)).messages, [{ id: attack.victim.messageIds[0], position: 1, content: 'replaced' }]);
        },
      },
      verify: victimConversationIntact,
    },
    {
      label: "A's message in A's same-id conversation replaced by a result answering B's call: refused",
      setup: sameIdConversationWithMessage,
      params: ({ victim, attacker }) => ({
        userId: attacker,
        conversationId: victim.conversationId,
        id: victim.messageIds[0],
        message: JSON.stringify(wireMessage(chatResult(victim.toolCallId))),
      }),
      expect: { error: '23514' },
    },
  ],
  GetMessagesByIds: [
    {
      label: "B's conversation, B's message ids",
      params: ({ victim }) => ({ userId: victim.userId, conversationId: victim.conversationId, ids: [...victim.messageIds, victim.uiMessageId] }),
      expect: 'none',
    },
    {
      label: "A's same-id conversation, B's message ids: A's message alone",
      setup: sameIdConversationWithMessage,
      params: ({ victim, attacker }) => ({ userId: attacker, conversationId: victim.conversationId, ids: [...victim.messageIds, victim.uiMessageId] }),
      expect: { own: (rows, { victim }) => assert.deepEqual(idsAndContents(rows), [{ id: victim.messageIds[0], content: 'mine' }]) },
    },
  ],
  LockConversation: [
    { label: "B's conversation: no row, no lock", params: ({ victim }) => ({ userId: victim.userId, conversationId: victim.conversationId }), expect: 'none' },
    { label: "B's conversation with A's user id", params: ({ victim, attacker }) => ({ userId: attacker, conversationId: victim.conversationId }), expect: noRow },
    {
      label: "A's same-id conversation: A's last position, not B's",
      setup: sameIdConversationWithMessage,
      params: ({ victim, attacker }) => ({ userId: attacker, conversationId: victim.conversationId }),
      expect: { own: (rows) => assert.deepEqual(rows, [{ lastPosition: 1 }]) },
    },
  ],
  RemoveNewestMessages: [
    {
      label: "B's conversation, keep 0 (clear): nothing removed, B's last position unchanged",
      params: ({ victim }) => ({ userId: victim.userId, conversationId: victim.conversationId, keep: 0 }),
      expect: 'none',
      verify: victimConversationIntact,
    },
    {
      label: "B's conversation, keep all but the newest (pop): nothing removed",
      params: ({ victim }) => ({ userId: victim.userId, conversationId: victim.conversationId, keep: victim.lastPosition - 1 }),
      expect: 'none',
      verify: victimConversationIntact,
    },
    {
      label: "B's conversation with A's user id: nothing removed",
      params: ({ victim, attacker }) => ({ userId: attacker, conversationId: victim.conversationId, keep: 0 }),
      expect: noRow,
      verify: victimConversationIntact,
    },
    {
      label: "A's same-id conversation, keep 0: A's two messages go, B's stay",
      setup: sameIdConversationWithTwoMessages,
      params: ({ victim, attacker }) => ({ userId: attacker, conversationId: victim.conversationId, keep: 0 }),
      expect: {
        own: async (rows, attack) => {
          assert.deepEqual(idsAndContents(rows), [
            { id: attack.victim.messageIds[0], content: 'mine' },
            { id: attack.victim.messageIds[1], content: 'mine too' },
          ]);
          assert.deepEqual(await attackersConversation(attack), { lastPosition: 0, messages: [] });
        },
      },
      verify: victimConversationIntact,
    },
    {
      label: "A's same-id conversation, keep beyond its last position (B's): nothing removed, A's last position stays (clamped)",
      setup: sameIdConversationWithTwoMessages,
      params: ({ victim, attacker }) => ({ userId: attacker, conversationId: victim.conversationId, keep: victim.lastPosition }),
      expect: {
        own: async (rows, attack) => {
          assert.deepEqual(rows, []);
          assert.equal((await attackersConversation(attack)).lastPosition, 2);
        },
      },
      verify: victimConversationIntact,
    },
    {
      label: "A's same-id conversation with B's user id: nothing removed, in A's or in B's",
      setup: sameIdConversationWithTwoMessages,
      params: ({ victim }) => ({ userId: victim.userId, conversationId: victim.conversationId, keep: 0 }),
      expect: 'none',
      verify: async (attack) => {
        await victimConversationIntact(attack);
        assert.equal((await attackersConversation(attack)).lastPosition, 2);
      },
    },
  ],
  ListHistory: [
    {
      label: "B's conversation, newest page",
      params: ({ victim }) => ({ userId: victim.userId, conversationId: victim.conversationId, before: null, limit: 500, extra: 0 }),
      expect: 'none',
    },
    {
      label: "B's conversation, a page before a position from B's cursor, reaching back to B's turn start",
      params: ({ victim }) => ({ userId: victim.userId, conversationId: victim.conversationId, before: victim.lastPosition, limit: 1, extra: 499 }),
      expect: 'none',
    },
    {
      label: "A's same-id conversation, before B's last position: A's message alone",
      setup: sameIdConversationWithMessage,
      params: ({ victim, attacker }) => ({ userId: attacker, conversationId: victim.conversationId, before: victim.lastPosition, limit: 500, extra: 0 }),
      expect: { own: (rows, { victim }) => assert.deepEqual(idsAndContents(rows), [{ id: victim.messageIds[0], content: 'mine' }]) },
    },
    {
      label: "A's empty same-id conversation: one row with no message, none of B's",
      setup: conversationWithVictimsId,
      params: ({ victim, attacker }) => ({ userId: attacker, conversationId: victim.conversationId, before: null, limit: 500, extra: 0 }),
      expect: { own: (rows) => assert.deepEqual(rows.map((row) => ({ firstPosition: row.firstPosition, id: row.id })), [{ firstPosition: 1, id: null }]) },
    },
  ],
  ListAllMessages: [
    {
      label: "B's conversation",
      params: ({ victim }) => ({ userId: victim.userId, conversationId: victim.conversationId, maxMessages: 20_000, maxBytes: 16 * 1024 * 1024 }),
      expect: 'none',
    },
    {
      label: "A's same-id conversation: A's counters and message, not B's",
      setup: sameIdConversationWithMessage,
      params: ({ victim, attacker }) => ({ userId: attacker, conversationId: victim.conversationId, maxMessages: 20_000, maxBytes: 16 * 1024 * 1024 }),
      expect: {
        own: (rows, { victim }) => {
          assert.deepEqual(idsAndContents(rows), [{ id: victim.messageIds[0], content: 'mine' }]);
          assert.equal(rows[0]!.lastPosition, 1);
        },
      },
    },
  ],
  ListMessagesAfter: [
    {
      label: "B's conversation, from the start",
      params: ({ victim }) => ({ userId: victim.userId, conversationId: victim.conversationId, after: 0, limit: 1000 }),
      expect: 'none',
    },
    {
      label: "B's conversation, after a position from B's stream",
      params: ({ victim }) => ({ userId: victim.userId, conversationId: victim.conversationId, after: victim.lastPosition - 2, limit: 1000 }),
      expect: 'none',
    },
    {
      label: "A's same-id conversation: A's message alone",
      setup: sameIdConversationWithMessage,
      params: ({ victim, attacker }) => ({ userId: attacker, conversationId: victim.conversationId, after: 0, limit: 1000 }),
      expect: { own: (rows, { victim }) => assert.deepEqual(idsAndContents(rows), [{ id: victim.messageIds[0], content: 'mine' }]) },
    },
  ],
  SearchMessages: [
    { label: 'all conversations', params: ({ victim }: Attack) => ({ userId: victim.userId, query: victim.marker, conversationId: null, limit: 200 }), expect: 'none' as const },
    {
      label: "within B's conversation",
      params: ({ victim }: Attack) => ({ userId: victim.userId, query: victim.marker, conversationId: victim.conversationId, limit: 200 }),
      expect: 'none' as const,
    },
    {
      label: "within A's same-id conversation: none of B's words",
      setup: sameIdConversationWithMessage,
      params: ({ victim, attacker }: Attack) => ({ userId: attacker, query: victim.marker, conversationId: victim.conversationId, limit: 200 }),
      expect: noRow,
    },
  ],

  // sql/tool-calls.sql
  ListConversationToolCalls: [
    {
      label: "B's conversation, first page",
      params: ({ victim }) => ({ userId: victim.userId, conversationId: victim.conversationId, ...FIRST_CONVERSATION_CALL_KEY, limit: 1000 }),
      expect: 'none',
    },
    {
      label: "B's conversation, with a cursor forged just before B's first call",
      params: ({ victim }) => ({ userId: victim.userId, conversationId: victim.conversationId, afterOrdinal: victimFirstCall.ordinal - 1, limit: 1000 }),
      expect: 'none',
    },
    {
      label: "A's same-id conversation with B's user id: none of A's or B's",
      setup: sameIdConversationWithCall,
      params: ({ victim }) => ({ userId: victim.userId, conversationId: victim.conversationId, ...FIRST_CONVERSATION_CALL_KEY, limit: 1000 }),
      expect: 'none',
    },
    {
      label: "A's same-id conversation: A's call under B's call id, answered by A's result, none of B's",
      setup: sameIdConversationWithCall,
      echoes: ({ victim }) => [victim.toolCallId],
      params: ({ victim, attacker }) => ({ userId: attacker, conversationId: victim.conversationId, ...FIRST_CONVERSATION_CALL_KEY, limit: 1000 }),
      expect: {
        own: (rows, { victim }) =>
          assert.deepEqual(callsWithResults(rows), [
            { conversationId: victim.conversationId, messageId: 'a-call', callId: victim.toolCallId, name: 'mine', results: [{ messageId: 'a-result', output: 'mine' }] },
          ]),
      },
    },
    {
      label: "A's same-id conversation, A's unanswered call at the ordinal of B's answered call: no result, none of B's",
      setup: sameIdConversationWithUnansweredCall,
      echoes: ({ victim }) => [victim.toolCallId],
      params: ({ victim, attacker }) => ({ userId: attacker, conversationId: victim.conversationId, ...FIRST_CONVERSATION_CALL_KEY, limit: 1000 }),
      expect: {
        own: (rows, { victim }) =>
          assert.deepEqual(callsWithResults(rows), [{ conversationId: victim.conversationId, messageId: 'a-call', callId: victim.toolCallId, name: 'mine', results: [] }]),
      },
    },
  ],
  ListUserToolCalls: [
    {
      label: "B's user id, first page",
      params: ({ victim }) => ({ userId: victim.userId, ...FIRST_USER_CALL_KEY, limit: 1000 }),
      expect: 'none',
    },
    {
      label: "B's user id, with a cursor forged just before B's first call",
      params: ({ victim }) => ({
        userId: victim.userId,
        cursorAt: victimFirstCall.createdAt,
        cursorConversationId: victimFirstCall.conversationId,
        cursorOrdinal: victimFirstCall.ordinal - 1,
        limit: 1000,
      }),
      expect: 'none',
    },
    {
      label: "A's user id, A owning a same-id conversation: A's call and result alone",
      setup: sameIdConversationWithCall,
      echoes: ({ victim }) => [victim.toolCallId],
      params: ({ attacker }) => ({ userId: attacker, ...FIRST_USER_CALL_KEY, limit: 1000 }),
      expect: {
        own: (rows, { victim }) =>
          assert.deepEqual(callsWithResults(rows), [
            { conversationId: victim.conversationId, messageId: 'a-call', callId: victim.toolCallId, name: 'mine', results: [{ messageId: 'a-result', output: 'mine' }] },
          ]),
      },
    },
    {
      label: "A's user id, A's unanswered call at the ordinal of B's answered call in a same-id conversation: no result, none of B's",
      setup: sameIdConversationWithUnansweredCall,
      echoes: ({ victim }) => [victim.toolCallId],
      params: ({ attacker }) => ({ userId: attacker, ...FIRST_USER_CALL_KEY, limit: 1000 }),
      expect: {
        own: (rows, { victim }) =>
          assert.deepEqual(callsWithResults(rows), [{ conversationId: victim.conversationId, messageId: 'a-call', callId: victim.toolCallId, name: 'mine', results: [] }]),
      },
    },
  ],

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
  // sql/usage.sql
  RecordUsage: [
    ...(['victim', 'attacker'] as const).map((whose) => ({
      label: `into B's conversation, with ${whose === 'victim' ? "B's" : "A's"} user id: inserts nothing`,
      params: ({ victim, attacker }: Attack) => ({
        userId: whose === 'victim' ? victim.userId : attacker,
        conversationId: victim.conversationId,
        id: null,
        messageId: null,
        model: 'attack',
        requests: 1,
        inputTokens: 1,
        outputTokens: 1,
      }),
      expect: noRow,
      verify: async ({ db: d, attacker }: Attack) =>
        assert.deepEqual((await d.admin.query('select count(*)::int as n from todo_chat.turn_usage where user_id = $1', [attacker])).rows, [{ n: 0 }]),
    })),
    {
      label: "with B's record id, into A's own same-id conversation: A's own record, no conflict that would reveal B's",
      setup: conversationWithVictimsId,
      echoes: ({ victim }) => [victim.usageId, victim.uiMessageId],
      params: ({ victim, attacker }) => ({
        userId: attacker,
        conversationId: victim.conversationId,
        id: victim.usageId,
        messageId: victim.uiMessageId,
        model: 'mine',
        requests: 1,
        inputTokens: 1,
        outputTokens: 1,
      }),
      expect: { own: ownRow('turn_usage') },
    },
  ],
  GetUsageRecord: [
    { label: "B's user id and record id", params: ({ victim }) => ({ userId: victim.userId, id: victim.usageId }), expect: 'none' },
    { label: "A's user id, B's record id", params: ({ victim, attacker }) => ({ userId: attacker, id: victim.usageId }), expect: noRow },
  ],
  SumUserUsage: {
    params: ({ victim }) => ({ userId: victim.userId, since: '-infinity', until: 'infinity' }),
    expect: 'none',
  },
  SumConversationUsage: [
    {
      label: "B's user id and conversation",
      params: ({ victim }) => ({ userId: victim.userId, conversationId: victim.conversationId, since: '-infinity', until: 'infinity' }),
      expect: 'none',
    },
    {
      label: "A's user id, A owning a same-id conversation: nothing of B's runs",
      setup: conversationWithVictimsId,
      params: ({ victim, attacker }) => ({ userId: attacker, conversationId: victim.conversationId, since: '-infinity', until: 'infinity' }),
      expect: noRow,
    },
  ],
  ExportUsage: {
    params: ({ victim }) => ({ userId: victim.userId, cursorAt: '-infinity', cursorId: '', limit: 1000 }),
    expect: 'none',
  },

  GetUserDataSize: [
    {
      label: "with B's user id: A's zeros, where B's own counts are not",
      params: ({ victim }) => ({ userId: victim.userId }),
      expect: {
        own: async (rows, attack) => {
          const counts = (list: Record<string, unknown>[]) => list.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)])));
          assert.deepEqual(counts(rows), [{ tasks: 0, conversations: 0, messages: 0, historyBytes: 0, toolCalls: 0, usage: 0 }]);
          // The control: the same parameters, as B, count B's data.
          const asVictim = (await asUser(attack.db.admin, attack.victim.userId, (client) =>
            generated.get('getUserDataSize')!.query.run({ userId: attack.victim.userId }, client),
          )) as Record<string, unknown>[];
          const victims = counts(asVictim)[0]!;
          assert.ok(
            victims.tasks! > 0 && victims.conversations! > 0 && victims.messages! > 0 && victims.historyBytes! > 0 && victims.toolCalls! > 0 && victims.usage! > 0,
            `as B the same parameters count B's data: ${JSON.stringify(victims)}`,
          );
        },
      },
    },
    {
      label: "with A's user id, A owning a same-id conversation: A's counts only",
      setup: sameIdConversationWithCall,
      params: ({ attacker }) => ({ userId: attacker }),
      expect: {
        own: (rows) =>
          assert.deepEqual(
            rows.map((row) => ({ tasks: Number(row.tasks), conversations: Number(row.conversations), messages: Number(row.messages), toolCalls: Number(row.toolCalls) })),
            [{ tasks: 0, conversations: 1, messages: 2, toolCalls: 1 }],
          ),
      },
    },
  ],
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
    let text = JSON.stringify(rows);
    for (const echoed of queryCase.echoes?.(attack) ?? []) text = text.replaceAll(echoed, '<A wrote it>');
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
  await queryCase.verify?.(attack);
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

  test("the locking and writing queries, run by A on B's conversation while B holds its locks, do not wait for them (no timing side channel)", async () => {
    const [attacker] = await db.createUsers(1);
    const run = (name: string, params: unknown, client: pg.PoolClient) => generated.get(name)!.query.run(params, client);
    const { userId, conversationId } = victim;
    await asUser(db.admin, userId, async (victimClient) => {
      // B holds its conversation's row lock (as an append, pop or clear of B's in progress does) and its messages' row locks.
      assert.equal((await run('lockConversation', { userId, conversationId }, victimClient)).length, 1);
      await victimClient.query('select id from todo_chat.messages where conversation_id = $1 for update', [conversationId]);
      await asUser(db.admin, attacker!, async (client) => {
        // Waiting for B's lock would be seen (and would fail here with 55P03 lock_not_available).
        await client.query("set local lock_timeout = '2s'");
        for (const userIdParam of [userId, attacker!]) {
          const attempts: [string, unknown][] = [
            ['lockConversation', { userId: userIdParam, conversationId }],
            ['getMessagesByIds', { userId: userIdParam, conversationId, ids: victim.messageIds }],
            ['appendMessages', { userId: userIdParam, conversationId, messages: messagesJson({ content: 'attack' }, chatResult(victim.toolCallId)) }],
            ['appendMessages', { userId: userIdParam, conversationId, messages: messagesJson(chatCall(victim.toolCallId, { id: victim.messageIds[1] })) }],
            ['replaceMessage', { userId: userIdParam, conversationId, id: victim.messageIds[0], message: JSON.stringify(wireMessage({ content: 'pwned' })) }],
            ['removeNewestMessages', { userId: userIdParam, conversationId, keep: 0 }],
          ];
          for (const [name, params] of attempts) {
            assert.deepEqual(await run(name, params, client), [], `${name} with ${userIdParam === userId ? "B's" : "A's"} user id returns nothing`);
          }
        }
      });
    });
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
  /** A plain chat user message (the first of the conversation), the assistant message making `toolCallId`, and the tool message answering it. */
  messageId: string;
  callMessageId: string;
  toolMessageId: string;
  /** The AI SDK message, under the id its client chose. */
  uiMessageId: string;
  toolCallId: string;
  agentsCallId: string;
  lastPosition: number;
}

function targetOf(v: Victim): Target {
  return {
    userId: v.userId,
    marker: v.marker,
    taskId: v.taskId,
    conversationId: v.conversationId,
    messageId: v.messageIds[0]!,
    callMessageId: v.messageIds[1]!,
    toolMessageId: v.messageIds[2]!,
    uiMessageId: v.uiMessageId,
    toolCallId: v.toolCallId,
    agentsCallId: v.agentsCallId,
    lastPosition: v.lastPosition,
  };
}

function phantom(): Target {
  return {
    userId: crypto.randomUUID(),
    marker: 'nobody',
    taskId: crypto.randomUUID(),
    conversationId: crypto.randomUUID(),
    messageId: crypto.randomUUID(),
    callMessageId: crypto.randomUUID(),
    toolMessageId: crypto.randomUUID(),
    uiMessageId: `ui_nobody_${crypto.randomUUID()}`,
    toolCallId: 'call_nobody',
    agentsCallId: 'fc_call_nobody',
    lastPosition: victim.lastPosition,
  };
}

/** The ids of a target a call may echo in its error: the caller's own input, never data of B's. */
const echoedIds = (t: Target) => [t.taskId, t.conversationId, t.messageId, t.callMessageId, t.toolMessageId, t.uiMessageId];

interface ApiCase {
  /** `tasks.get`, `messages.history`, ...: the repository method this case covers. */
  method: string;
  label: string;
  run: (tx: Transaction, target: Target, attacker: string) => Promise<unknown>;
  /**
   * not-found: NotFoundError, exactly as for ids that exist for nobody (same class, entity and
   * message but for the id), and as B the same call succeeds;
   * { refused }: the call fails, exactly as it does with ids that exist for nobody, and the
   * function checks the error;
   * function: the call succeeds and the function checks it touched only A's data.
   */
  expect:
    | 'not-found'
    | { refused: (error: unknown) => void }
    | ((result: unknown, attacker: string, target: Target) => Promise<void> | void);
  /** Values of B's that A itself wrote into A's own rows (B's call id, which holds B's marker): masked before the marker check. */
  echoes?: (target: Target) => string[];
}

const emptyPage = (result: unknown) => assert.deepEqual((result as { items: unknown[] }).items, []);
const emptyList = (result: unknown) => assert.deepEqual(result, []);

async function ownedBy(table: string, id: string, attacker: string): Promise<void> {
  const { rows } = await db.admin.query(`select user_id from todo_chat.${table} where id = $1 order by user_id`, [id]);
  assert.ok(rows.some((r) => r.user_id === attacker), `A owns the new ${table} row ${id}`);
}

/** Every batch an async generator yields, read inside the transaction. */
async function collect<T>(generator: AsyncGenerator<T, void, undefined>): Promise<T[]> {
  const out: T[] = [];
  for await (const chunk of generator) out.push(chunk);
  return out;
}

/** B's AI SDK message exactly as seedVictim wrote it: appending it again under its id is a retry. */
const uiMessageOf = (t: Target): JsonObject => ({
  id: t.uiMessageId,
  role: 'assistant',
  parts: [
    { type: 'text', text: `here ${t.marker}` },
    { type: 'tool-add_task', toolCallId: `ui_call_${t.marker}`, state: 'output-available', input: { title: t.marker }, output: { id: t.marker } },
  ],
});

/** A creates its own conversation with the target's conversation id and appends one message under the target's first message id. */
async function sameIdConversation(tx: Transaction, t: Target): Promise<void> {
  await tx.conversations.create({ id: t.conversationId, title: 'mine' });
  await tx.messages.append(t.conversationId, { id: t.messageId, role: 'user', content: 'mine' });
}

/** A's messages in A's conversation of that id, read as superuser. */
async function attackersMessages(attacker: string, conversationId: string): Promise<{ id: string; position: number; content: string }[]> {
  const { rows } = await db.admin.query(
    'select id, position, content from todo_chat.messages where user_id = $1 and conversation_id = $2 order by position',
    [attacker, conversationId],
  );
  return rows;
}

/** The one message A appended in its same-id conversation, as the API returns it. */
function isAttackersMessage(message: unknown, t: Target, content = 'mine'): void {
  const m = message as { conversationId: string; id: string; position: number; content: string };
  assert.deepEqual({ conversationId: m.conversationId, id: m.id, position: m.position, content: m.content }, {
    conversationId: t.conversationId,
    id: t.messageId,
    position: 1,
    content,
  });
}

/** Refused by tool_results_answers_call: the call it answers is none of A's. */
const answersNoCall = (error: unknown) => {
  assert.ok(error instanceof ValidationError, `ValidationError, got ${(error as Error)?.name}: ${(error as Error)?.message}`);
  assert.equal(error.constraint, 'tool_results_answers_call');
};

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
  {
    method: 'tasks.create',
    label: "with B's task id and B's very content (an idempotent retry's shape): A's own new task, never B's row",
    run: (tx, t) => tx.tasks.create({ id: t.taskId, title: `buy milk ${t.marker}`, description: `private ${t.marker}` }),
    echoes: (t) => [`buy milk ${t.marker}`, `private ${t.marker}`],
    expect: async (result, attacker, t) => {
      await ownedBy('tasks', t.taskId, attacker);
      const mine = await db.admin.query('select created_at from todo_chat.tasks where id = $1 and user_id = $2', [t.taskId, attacker]);
      assert.deepEqual((result as { createdAt: Date }).createdAt, mine.rows[0]!.created_at, "the row returned is A's, not B's");
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
  {
    method: 'conversations.create',
    label: "with B's conversation id and B's title (an idempotent retry's shape): A's own new conversation, never B's row",
    run: (tx, t) => tx.conversations.create({ id: t.conversationId, title: `chat ${t.marker}` }),
    echoes: (t) => [`chat ${t.marker}`],
    expect: async (result, attacker, t) => {
      await ownedBy('conversations', t.conversationId, attacker);
      const mine = await db.admin.query('select created_at from todo_chat.conversations where id = $1 and user_id = $2', [t.conversationId, attacker]);
      assert.deepEqual((result as { createdAt: Date }).createdAt, mine.rows[0]!.created_at, "the row returned is A's, not B's");
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
    method: 'messages.append',
    label: "to B's conversation, re-sending B's first message under its id (a retry): NotFoundError, not B's stored message",
    run: (tx, t) => tx.messages.append(t.conversationId, { id: t.messageId, role: 'user', content: `remind me ${t.marker}` }),
    expect: 'not-found',
  },
  {
    method: 'messages.append',
    label: "to B's conversation, under B's message id with other content: NotFoundError, not a ConflictError that would reveal it",
    run: (tx, t) => tx.messages.append(t.conversationId, { id: t.messageId, role: 'user', content: 'attack' }),
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
  {
    method: 'messages.appendTurn',
    label: "to B's conversation, an Agents SDK result answering B's function call",
    run: (tx, t) =>
      tx.messages.appendTurn(t.conversationId, [
        { format: 'openai-agents', item: { type: 'function_call_result', callId: t.agentsCallId, name: 'list_tasks', status: 'completed', output: 'forged' } },
      ]),
    expect: 'not-found',
  },
  {
    method: 'messages.appendTurn',
    label: "to B's conversation, re-sending B's AI SDK message under its id (a retry): NotFoundError, not B's stored message",
    run: (tx, t) => tx.messages.appendTurn(t.conversationId, [{ format: 'ai-sdk', item: uiMessageOf(t) }]),
    expect: 'not-found',
  },
  {
    method: 'messages.appendTurn',
    label: "to A's own conversation reusing B's conversation id, under B's message id: A's message, numbered from 1, no ConflictError",
    run: async (tx, t) => {
      await tx.conversations.create({ id: t.conversationId, title: 'mine' });
      return tx.messages.appendTurn(t.conversationId, [{ id: t.messageId, role: 'user', content: 'mine' }]);
    },
    expect: async (result, attacker, t) => {
      const [message] = result as unknown[];
      isAttackersMessage(message, t);
      assert.deepEqual(await attackersMessages(attacker, t.conversationId), [{ id: t.messageId, position: 1, content: 'mine' }]);
    },
  },
  {
    method: 'messages.appendTurn',
    label: "to A's same-id conversation, answering B's tool call: refused as an answer to no call, like an unknown call id",
    run: async (tx, t) => {
      await tx.conversations.create({ id: t.conversationId, title: 'mine' });
      return tx.messages.appendTurn(t.conversationId, [{ role: 'tool', toolCallId: t.toolCallId, content: 'forged result' }]);
    },
    expect: { refused: answersNoCall },
  },
  {
    method: 'messages.appendTurn',
    label: "to A's same-id conversation, an Agents SDK result answering B's function call: refused, like an unknown call id",
    run: async (tx, t) => {
      await tx.conversations.create({ id: t.conversationId, title: 'mine' });
      return tx.messages.appendTurn(t.conversationId, [
        { format: 'openai-agents', item: { type: 'function_call_result', callId: t.agentsCallId, name: 'list_tasks', status: 'completed', output: 'forged' } },
      ]);
    },
    expect: { refused: answersNoCall },
  },
  {
    method: 'messages.appendTurn',
    label: "to A's same-id conversation holding A's messages under B's message ids at B's positions, answering B's tool call: refused, like an unknown call id",
    run: async (tx, t) => {
      await tx.conversations.create({ id: t.conversationId, title: 'mine' });
      await tx.messages.appendTurn(t.conversationId, [
        { id: t.messageId, role: 'user', content: 'mine' },
        { id: t.callMessageId, role: 'assistant', content: 'no call of mine' },
      ]);
      return tx.messages.appendTurn(t.conversationId, [{ role: 'tool', toolCallId: t.toolCallId, content: 'forged result' }]);
    },
    expect: { refused: answersNoCall },
  },
  { method: 'messages.get', label: "B's message", run: (tx, t) => tx.messages.get(t.conversationId, t.messageId), expect: 'not-found' },
  {
    method: 'messages.get',
    label: "B's AI SDK message, by the id its client chose",
    run: (tx, t) => tx.messages.get(t.conversationId, t.uiMessageId),
    expect: 'not-found',
  },
  {
    method: 'messages.get',
    label: "B's message id in A's same-id conversation: A's message",
    run: async (tx, t) => {
      await sameIdConversation(tx, t);
      return tx.messages.get(t.conversationId, t.messageId);
    },
    expect: (result, _attacker, t) => isAttackersMessage(result, t),
  },
  { method: 'messages.history', label: "B's conversation", run: (tx, t) => tx.messages.history(t.conversationId), expect: 'not-found' },
  {
    method: 'messages.history',
    label: "B's conversation with a cursor forged for it",
    run: (tx, t) => tx.messages.history(t.conversationId, { before: encodeCursor(`history:${t.conversationId}`, [t.lastPosition]) }),
    expect: 'not-found',
  },
  {
    method: 'messages.history',
    label: "A's same-id conversation with a cursor from B's last position: A's message alone",
    run: async (tx, t) => {
      await sameIdConversation(tx, t);
      return tx.messages.history(t.conversationId, { before: encodeCursor(`history:${t.conversationId}`, [t.lastPosition]) });
    },
    expect: (result, _attacker, t) => {
      const page = result as { items: unknown[]; before: string | null; startsMidTurn: boolean };
      assert.equal(page.items.length, 1);
      isAttackersMessage(page.items[0], t);
      assert.deepEqual([page.before, page.startsMidTurn], [null, false]);
    },
  },
  { method: 'messages.all', label: "B's conversation", run: (tx, t) => tx.messages.all(t.conversationId), expect: 'not-found' },
  {
    method: 'messages.all',
    label: "A's same-id conversation: A's message alone",
    run: async (tx, t) => {
      await sameIdConversation(tx, t);
      return tx.messages.all(t.conversationId);
    },
    expect: (result, _attacker, t) => {
      assert.equal((result as unknown[]).length, 1);
      isAttackersMessage((result as unknown[])[0], t);
    },
  },
  { method: 'messages.batches', label: "B's conversation", run: (tx, t) => collect(tx.messages.batches(t.conversationId)), expect: 'not-found' },
  {
    method: 'messages.batches',
    label: "B's conversation, in batches of one",
    run: (tx, t) => collect(tx.messages.batches(t.conversationId, { batchSize: 1 })),
    expect: 'not-found',
  },
  {
    method: 'messages.batches',
    label: "A's same-id conversation: A's message alone",
    run: async (tx, t) => {
      await sameIdConversation(tx, t);
      return collect(tx.messages.batches(t.conversationId, { batchSize: 1 }));
    },
    expect: (result, _attacker, t) => {
      const batches = result as unknown[][];
      assert.deepEqual(batches.map((batch) => batch.length), [1]);
      isAttackersMessage(batches[0]![0], t);
    },
  },
  { method: 'messages.pop', label: "B's conversation", run: (tx, t) => tx.messages.pop(t.conversationId), expect: 'not-found' },
  {
    method: 'messages.pop',
    label: "B's conversation, as many as it holds",
    run: (tx, t) => tx.messages.pop(t.conversationId, 500),
    expect: 'not-found',
  },
  {
    method: 'messages.pop',
    label: "A's same-id conversation: pops A's message, B's stay",
    run: async (tx, t) => {
      await sameIdConversation(tx, t);
      return tx.messages.pop(t.conversationId, 500);
    },
    expect: async (result, attacker, t) => {
      assert.equal((result as unknown[]).length, 1);
      isAttackersMessage((result as unknown[])[0], t);
      assert.deepEqual(await attackersMessages(attacker, t.conversationId), []);
    },
  },
  { method: 'messages.clear', label: "B's conversation", run: (tx, t) => tx.messages.clear(t.conversationId), expect: 'not-found' },
  {
    method: 'messages.clear',
    label: "A's same-id conversation: clears A's one message, B's stay",
    run: async (tx, t) => {
      await sameIdConversation(tx, t);
      return tx.messages.clear(t.conversationId);
    },
    expect: async (result, attacker, t) => {
      assert.equal(result, 1);
      assert.deepEqual(await attackersMessages(attacker, t.conversationId), []);
    },
  },
  {
    method: 'messages.replace',
    label: "B's message",
    run: (tx, t) => tx.messages.replace(t.conversationId, t.messageId, { role: 'user', content: 'pwned' }),
    expect: 'not-found',
  },
  {
    method: 'messages.replace',
    label: "B's AI SDK message, with an item under its id",
    run: (tx, t) =>
      tx.messages.replace(t.conversationId, t.uiMessageId, {
        format: 'ai-sdk',
        item: { id: t.uiMessageId, role: 'assistant', parts: [{ type: 'text', text: 'pwned' }] },
      }),
    expect: 'not-found',
  },
  {
    method: 'messages.replace',
    label: "B's tool message, with a forged answer to B's call",
    run: (tx, t) => tx.messages.replace(t.conversationId, t.toolMessageId, { role: 'tool', toolCallId: t.toolCallId, content: 'forged result' }),
    expect: 'not-found',
  },
  {
    method: 'messages.replace',
    label: "A's message under B's message id in A's same-id conversation: A's is replaced",
    run: async (tx, t) => {
      await sameIdConversation(tx, t);
      return tx.messages.replace(t.conversationId, t.messageId, { role: 'user', content: 'replaced' });
    },
    expect: async (result, attacker, t) => {
      isAttackersMessage(result, t, 'replaced');
      assert.deepEqual(await attackersMessages(attacker, t.conversationId), [{ id: t.messageId, position: 1, content: 'replaced' }]);
    },
  },
  {
    method: 'messages.replace',
    label: "A's message in A's same-id conversation, by a result answering B's call: refused, like an unknown call id",
    run: async (tx, t) => {
      await sameIdConversation(tx, t);
      return tx.messages.replace(t.conversationId, t.messageId, { role: 'tool', toolCallId: t.toolCallId, content: 'forged result' });
    },
    expect: { refused: answersNoCall },
  },
  { method: 'messages.search', label: "B's words", run: (tx, t) => tx.messages.search(t.marker), expect: emptyList },
  {
    method: 'messages.search',
    label: "B's words in B's conversation",
    run: (tx, t) => tx.messages.search(t.marker, { conversationId: t.conversationId }),
    expect: emptyList,
  },
  {
    method: 'messages.search',
    label: "B's words in A's same-id conversation",
    run: async (tx, t) => {
      await sameIdConversation(tx, t);
      return tx.messages.search(t.marker, { conversationId: t.conversationId });
    },
    expect: emptyList,
  },

  // tx.toolCalls
  { method: 'toolCalls.list', label: "all of A's: none of B's", run: (tx) => tx.toolCalls.list({ limit: 200 }), expect: emptyPage },
  {
    method: 'toolCalls.list',
    label: "all of A's, with a cursor forged just before B's first call",
    run: (tx) =>
      tx.toolCalls.list({
        cursor: encodeCursor('tool-calls', [victimFirstCall.createdAt.toISOString(), victimFirstCall.conversationId, victimFirstCall.ordinal - 1]),
      }),
    expect: emptyPage,
  },
  {
    method: 'toolCalls.list',
    label: "B's conversation",
    run: (tx, t) => tx.toolCalls.list({ conversationId: t.conversationId }),
    expect: 'not-found',
  },
  {
    method: 'toolCalls.list',
    label: "B's conversation, with a cursor forged just before B's first call: NotFoundError, as for a conversation of nobody",
    run: (tx, t) => tx.toolCalls.list({ conversationId: t.conversationId, cursor: encodeCursor(`tool-calls:${t.conversationId}`, [victimFirstCall.ordinal - 1]) }),
    expect: 'not-found',
  },
  {
    method: 'toolCalls.list',
    label: "B's conversation, with a cursor past B's last call: NotFoundError, not the empty page B would get",
    run: (tx, t) => tx.toolCalls.list({ conversationId: t.conversationId, cursor: encodeCursor(`tool-calls:${t.conversationId}`, [1_000_000]) }),
    expect: 'not-found',
  },
  {
    method: 'toolCalls.list',
    label: "A's same-id conversation, A's call under B's call id: A's call and result alone",
    echoes: (t) => [t.toolCallId],
    run: async (tx, t) => {
      await tx.conversations.create({ id: t.conversationId, title: 'mine' });
      await tx.messages.appendTurn(t.conversationId, [
        { id: 'a-call', role: 'assistant', toolCalls: [{ id: t.toolCallId, name: 'mine', arguments: {} }] },
        { id: 'a-result', role: 'tool', toolCallId: t.toolCallId, content: 'mine' },
      ]);
      return tx.toolCalls.list({ conversationId: t.conversationId });
    },
    expect: (result, _attacker, t) => {
      const page = result as Page<ToolCallRecord>;
      assert.deepEqual(
        page.items.map((c) => ({ conversationId: c.conversationId, messageId: c.messageId, callId: c.callId, name: c.name, answeredBy: c.results.map((r) => [r.messageId, r.output]) })),
        [{ conversationId: t.conversationId, messageId: 'a-call', callId: t.toolCallId, name: 'mine', answeredBy: [['a-result', 'mine']] }],
      );
    },
  },
  {
    method: 'toolCalls.list',
    label: "A's same-id conversation, A's unanswered call at the ordinal of B's answered call: no result (B's is not shown), in A's conversation and in all of A's",
    echoes: (t) => [t.toolCallId],
    run: async (tx, t) => {
      await tx.conversations.create({ id: t.conversationId, title: 'mine' });
      await tx.messages.append(t.conversationId, { id: 'a-call', role: 'assistant', toolCalls: [{ id: t.toolCallId, name: 'mine', arguments: {} }] });
      return [await tx.toolCalls.list({ conversationId: t.conversationId }), await tx.toolCalls.list()];
    },
    expect: (result, _attacker, t) => {
      for (const page of result as Page<ToolCallRecord>[]) {
        assert.deepEqual(
          page.items.map((c) => ({ conversationId: c.conversationId, messageId: c.messageId, callId: c.callId, results: c.results })),
          [{ conversationId: t.conversationId, messageId: 'a-call', callId: t.toolCallId, results: [] }],
        );
      }
    },
  },

  // tx.users: no ids to pass; they act on A alone.
  {
    method: 'users.ensure',
    label: "creates or returns A's row only",
    run: (tx) => tx.users.ensure(),
    expect: (result, attacker) => assert.equal((result as { id: string }).id, attacker),
  },
  { method: 'users.get', label: "A's row", run: (tx) => tx.users.get(), expect: (result, attacker) => assert.equal((result as { id: string }).id, attacker) },
  // tx.usage
  { method: 'usage.record', label: "into B's conversation", run: (tx, t) => tx.usage.record(t.conversationId, { model: 'attack', requests: 1, inputTokens: 1, outputTokens: 1 }), expect: 'not-found' },
  {
    method: 'usage.record',
    label: "into B's conversation under B's record id and values",
    run: (tx, t) => tx.usage.record(t.conversationId, { id: `run_${t.marker}`, messageId: t.uiMessageId, model: `model-${t.marker}`, requests: 2, inputTokens: 300, outputTokens: 40 }),
    expect: 'not-found',
  },
  {
    method: 'usage.record',
    label: "under B's record id, into A's own same-id conversation: A's own record, no ConflictError that would reveal B's",
    echoes: (t) => [`run_${t.marker}`, t.uiMessageId],
    run: async (tx, t) => {
      await tx.conversations.create({ id: t.conversationId, title: 'mine' });
      return tx.usage.record(t.conversationId, { id: `run_${t.marker}`, messageId: t.uiMessageId, model: 'mine', requests: 1, inputTokens: 1, outputTokens: 1 });
    },
    expect: async (result, attacker, t) => {
      assert.deepEqual((result as { model: string; conversationId: string }).model, 'mine');
      const { rows } = await db.admin.query('select user_id from todo_chat.turn_usage where id = $1 order by user_id', [`run_${t.marker}`]);
      assert.ok(rows.some((r) => r.user_id === attacker), "A owns a record of that id");
    },
  },
  { method: 'usage.total', label: "of B's conversation", run: (tx, t) => tx.usage.total({ conversationId: t.conversationId }), expect: 'not-found' },
  {
    method: 'usage.total',
    label: "A's own, and of A's same-id conversation: nothing of B's runs",
    run: async (tx, t) => {
      await tx.conversations.create({ id: t.conversationId, title: 'mine' });
      return [await tx.usage.total(), await tx.usage.total({ conversationId: t.conversationId })];
    },
    expect: (result) => {
      const zero = { runs: 0, requests: 0, inputTokens: 0, outputTokens: 0, byModel: [] };
      assert.deepEqual(result, [zero, zero]);
    },
  },

  {
    method: 'users.export',
    label: "holds A's data only",
    run: (tx) => tx.users.export(),
    expect: (result, attacker) => {
      const doc = result as { format: string; user: { id: string }; tasks: unknown[]; conversations: unknown[]; toolCalls: unknown[]; usage: unknown[] };
      assert.equal(doc.format, 'todo-chat-db/export@3');
      assert.equal(doc.user.id, attacker);
      assert.deepEqual([doc.tasks, doc.conversations, doc.toolCalls, doc.usage], [[], [], [], []]);
      assert.ok(!JSON.stringify(doc).includes(victim.marker));
    },
  },
  {
    method: 'users.exportBatches',
    label: "yields A's row and nothing else",
    run: (tx) => collect(tx.users.exportBatches()),
    expect: (result, attacker) => {
      const chunks = result as { type: string; user?: { id: string } }[];
      assert.deepEqual(chunks.map((chunk) => chunk.type), ['user']);
      assert.equal(chunks[0]!.user!.id, attacker);
    },
  },
  {
    method: 'users.exportBatches',
    label: "A owning a conversation that reuses B's id, with a call under B's call id: A's conversation, message and call alone",
    echoes: (t) => [t.toolCallId],
    run: async (tx, t) => {
      await sameIdConversation(tx, t);
      await tx.messages.append(t.conversationId, { id: 'a-call', role: 'assistant', toolCalls: [{ id: t.toolCallId, name: 'mine', arguments: {} }] });
      return collect(tx.users.exportBatches());
    },
    expect: (result, attacker, t) => {
      const chunks = result as Record<string, unknown>[];
      assert.deepEqual(chunks.map((chunk) => chunk.type), ['user', 'conversation', 'messages', 'toolCalls']);
      assert.equal((chunks[0]!.user as { id: string }).id, attacker);
      assert.equal((chunks[1]!.conversation as { id: string }).id, t.conversationId);
      const messages = chunks[2]!.messages as { id: string; content: string }[];
      assert.deepEqual(messages.map((m) => [m.id, m.content]), [[t.messageId, 'mine'], ['a-call', '']]);
      const calls = chunks[3]!.toolCalls as ToolCallRecord[];
      assert.deepEqual(calls.map((c) => [c.messageId, c.callId, c.results]), [['a-call', t.toolCallId, []]]);
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

/** An error as the caller sees it, but for the ids the caller passed (of B or of nobody). */
function normalise(error: TodoChatDbError, target: Target) {
  let message = error.message;
  for (const id of echoedIds(target)) message = message.replaceAll(id, '<id>');
  return {
    name: error.name,
    code: error.code,
    entity: error instanceof NotFoundError ? error.entity : undefined,
    constraint: error instanceof ValidationError ? error.constraint : undefined,
    message,
  };
}

describe("every operation of the public API, as A with B's ids, yields NotFoundError (or nothing) and changes nothing", () => {
  test('every repository method has a case', async () => {
    const [probe] = await db.createUsers(1);
    // Every repository tx carries (found, not listed: a new repository is covered without editing a list).
    const { repos, methods } = await store.withUser(probe!, async (tx) => {
      const found = Object.entries(tx).filter(([, value]) => typeof value === 'object' && value !== null);
      return {
        repos: found.map(([repo]) => repo).sort(),
        methods: found.flatMap(([repo, value]) => Object.keys(value as object).map((name) => `${repo}.${name}`)),
      };
    });
    for (const repo of ['conversations', 'messages', 'tasks', 'toolCalls', 'users']) assert.ok(repos.includes(repo), `tx.${repo} is found`);
    const missing = methods.filter((method) => !API_CASES.some((c) => c.method === method));
    assert.deepEqual(missing, [], `no cross-user case for tx.${missing.join(', tx.')}: add one to API_CASES in test/security/attack.test.ts`);
    const stale = API_CASES.filter((c) => !methods.includes(c.method)).map((c) => c.method);
    assert.deepEqual(stale, [], `API_CASES names methods that do not exist: ${stale.join(', ')}`);
  });

  for (const apiCase of API_CASES) {
    test(`tx.${apiCase.method}: ${apiCase.label}`, async () => {
      const [attacker] = await db.createUsers(1);
      const target = targetOf(victim);
      const before = await snapshotOthers(db.admin, attacker);
      const got = await outcome(attacker!, (tx) => apiCase.run(tx, target, attacker!));
      const after = await snapshotOthers(db.admin, attacker);
      assert.deepEqual(after, before, `tx.${apiCase.method} as A with B's ids changed rows that are not A's`);

      const expect = apiCase.expect;
      if (expect === 'not-found' || typeof expect === 'object') {
        assert.ok(!got.ok, `tx.${apiCase.method} with B's ids must fail, it returned ${JSON.stringify(got.ok && got.value)}`);
        if (expect === 'not-found') {
          assert.ok(got.error instanceof NotFoundError, `NotFoundError, got ${(got.error as Error)?.name}: ${(got.error as Error)?.message}`);
        } else {
          expect.refused(got.error);
        }
        // Indistinguishable from ids that exist for nobody: same class, entity, message (but for the id).
        const nobody = phantom();
        const control = await outcome(attacker!, (tx) => apiCase.run(tx, nobody, attacker!));
        assert.ok(!control.ok && control.error instanceof TodoChatDbError, `ids of nobody fail too, got ${JSON.stringify(control)}`);
        assert.deepEqual(normalise(got.error as TodoChatDbError, target), normalise(control.error, nobody));
        if (expect === 'not-found') {
          // And the call aims at B's real rows: as B, the same call finds them (it succeeds and is
          // rolled back, or, for a wrong expected version, B alone learns of the conflict).
          const asVictim = await outcome(victim.userId, async (tx) => {
            await apiCase.run(tx, target, victim.userId);
            throw new RollBack();
          });
          assert.ok(!asVictim.ok);
          assert.ok(
            asVictim.error instanceof RollBack || asVictim.error instanceof ConflictError,
            `as B the same call reaches B's row, got ${(asVictim.error as Error)?.name}: ${(asVictim.error as Error)?.message}`,
          );
        }
      } else {
        assert.ok(got.ok, `tx.${apiCase.method} failed: ${(got as { error: Error }).error}`);
        let text = JSON.stringify(got.value ?? null);
        for (const echoed of apiCase.echoes?.(target) ?? []) text = text.replaceAll(echoed, '<A wrote it>');
        assert.ok(!text.includes(victim.marker), `tx.${apiCase.method} returned B's data: ${text}`);
        await expect(got.value, attacker!, target);
      }
    });
  }

  test("errors never carry B's data", async () => {
    const [attacker] = await db.createUsers(1);
    const target = targetOf(victim);
    const errors: unknown[] = [];
    for (const apiCase of API_CASES.filter((c) => typeof c.expect !== 'function')) {
      const got = await outcome(attacker!, (tx) => apiCase.run(tx, target, attacker!));
      if (!got.ok) errors.push(got.error);
    }
    assert.ok(errors.length > 10);
    for (const error of errors) {
      assert.ok(error instanceof TodoChatDbError);
      let text = `${error.message} ${JSON.stringify(error)} ${String((error as Error).cause ?? '')}`;
      // An id A passed may be echoed back (B's AI SDK message id, chosen by B's client, holds the marker): A's own input.
      for (const id of echoedIds(target)) text = text.replaceAll(id, '<id A passed>');
      assert.ok(!text.includes(victim.marker), text);
      assert.ok(!text.includes(victim.userId), `the error names B's user id: ${text}`);
    }
  });
});
