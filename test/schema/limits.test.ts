/**
 * Every limit is written twice, once in TypeScript (src/limits.ts through the
 * zod schemas of src/schemas.ts and src/history/) and once in SQL (the CHECK
 * constraints of migrations/). These tests prove the two agree at each
 * boundary: the zod side with the exported schemas, the SQL side by writing
 * the same value directly as the app role (bypassing zod), and the API end to
 * end. Messages written directly name their id and position (the append
 * statement assigns positions; here each insert takes an unused one).
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, test } from 'node:test';
import type pg from 'pg';
import type { z } from 'zod';
import { createTestDatabase } from '../helpers/db.js';
import { asUser, tryStatement } from '../helpers/transaction.js';
import {
  ConversationStatus,
  ConversationTitle,
  LIMITS,
  MESSAGE_FORMATS,
  MessageContent,
  MessageId,
  MessageRole,
  NewMessage,
  TaskDescription,
  TaskTitle,
  ToolCall,
  ToolCallId,
  ToolCalls,
  ToolName,
  NotFoundError,
  ValidationError,
  RecordUsageInput,
  type Message,
  type Transaction,
} from '../../src/index.js';
import { TRIMMED_WHITESPACE } from '../../src/limits.js';
import { AuditCallId, AuditToolName } from '../../src/history/derived.js';
import { SdkItem } from '../../src/history/new-message.js';

const db = await createTestDatabase();
const store = db.store();
const [user] = await db.createUsers(1);
const conversationId = (await store.withUser(user!, (tx) => tx.conversations.create())).id;

interface Outcome {
  ok: boolean;
  code?: string;
  constraint?: string;
}

/** Runs one statement as the app role for `user` (after `setup`, if any), in a transaction that is always rolled back. */
async function asDatabase(sql: string, values: unknown[], setup?: (client: pg.PoolClient) => Promise<void>): Promise<Outcome> {
  return asUser(db.admin, user!, async (client) => {
    await setup?.(client);
    const { code, constraint } = await tryStatement(client, sql, values);
    return code === 'ok' ? { ok: true } : { ok: false, code, constraint };
  });
}

/** Casts of the message columns a direct insert names. */
const CASTS: Record<string, string> = { tool_calls: '::jsonb', item: '::json' };
let unused = 0;

/** The insert of one message, as the app role would write it directly: an unused id and position unless `columns` names them. */
function messageInsert(columns: Record<string, unknown>): [string, unknown[]] {
  unused++;
  const all: Record<string, unknown> = { conversation_id: conversationId, id: `direct-${unused}`, position: 1_000_000 + unused, ...columns };
  const names = Object.keys(all);
  return [`insert into todo_chat.messages (${names.join(', ')}) values (${names.map((n, i) => `$${i + 1}${CASTS[n] ?? ''}`).join(', ')})`, Object.values(all)];
}

/** One direct insert of a message (see messageInsert), after `setup`, rolled back. */
function insertMessage(columns: Record<string, unknown>, setup?: (client: pg.PoolClient) => Promise<void>): Promise<Outcome> {
  const [sql, values] = messageInsert(columns);
  return asDatabase(sql, values, setup);
}

/** One direct insert of a tool call into the audit (rolled back): valid but for the columns given. */
function auditCallInsert(columns: Record<string, unknown>): Promise<Outcome> {
  unused++;
  const all: Record<string, unknown> = {
    conversation_id: conversationId,
    ordinal: 1_000_000 + unused,
    message_id: 'm',
    message_position: 1,
    call_index: 0,
    call_id: 'c',
    name: 'n',
    arguments: '{}',
    format: 'chat',
    ...columns,
  };
  const names = Object.keys(all);
  return asDatabase(`insert into todo_chat.tool_calls (${names.join(', ')}) values (${names.map((n, i) => `$${i + 1}${n === 'arguments' ? '::json' : ''}`).join(', ')})`, Object.values(all));
}

/** One direct insert of a tool result into the audit (rolled back), answering a call inserted first unless `columns` says otherwise. */
function auditResultInsert(columns: Record<string, unknown>): Promise<Outcome> {
  unused += 2;
  const callOrdinal = 1_000_000 + unused - 1;
  const all: Record<string, unknown> = { conversation_id: conversationId, ordinal: 1_000_000 + unused, call_ordinal: callOrdinal, call_id: 'c', message_id: 'm', output: '"r"', ...columns };
  const names = Object.keys(all);
  return asDatabase(
    `insert into todo_chat.tool_results (${names.join(', ')}) values (${names.map((n, i) => `$${i + 1}${n === 'output' ? '::json' : ''}`).join(', ')})`,
    Object.values(all),
    (c) =>
      c
        .query(
          `insert into todo_chat.tool_calls (conversation_id, ordinal, message_id, message_position, call_index, call_id, name, format)
           values ($1, $2, 'm', 1, 0, 'c', 'n', 'chat')`,
          [conversationId, callOrdinal],
        )
        .then(() => undefined),
  );
}

/** A setup step: a message inserted first, in the same transaction. */
function withMessage(columns: Record<string, unknown>) {
  return async (client: pg.PoolClient): Promise<void> => {
    const [sql, values] = messageInsert(columns);
    await client.query(sql, values);
  };
}

function byZod(schema: z.ZodType, value: unknown): boolean {
  return schema.safeParse(value).success;
}

/** Through the public API: resolves true when stored, false on a ValidationError that zod raised before any query. */
async function byApi(fn: (tx: Transaction) => Promise<unknown>): Promise<boolean> {
  try {
    await store.withUser(user!, async (tx) => {
      await fn(tx);
      throw new Rollback();
    });
  } catch (error) {
    if (error instanceof Rollback) return true;
    if (error instanceof ValidationError && error.sqlState === undefined) return false;
    throw error;
  }
  throw new Error('unreachable');
}
class Rollback extends Error {}

const calls = (n: number, make: (i: number) => object = (i) => ({ id: `call_${i}`, name: 'tool', arguments: {} })) =>
  Array.from({ length: n }, (_, i) => make(i));
const astral = (n: number) => '😀'.repeat(n);

interface Case {
  name: string;
  value: unknown;
  accepted: boolean;
  constraint?: string;
}

async function checkAll(
  cases: Case[],
  zodCheck: (value: unknown) => boolean,
  dbCheck: (value: unknown) => Promise<Outcome>,
  apiCheck?: (value: unknown) => Promise<boolean>,
): Promise<void> {
  for (const c of cases) {
    assert.equal(zodCheck(c.value), c.accepted, `zod: ${c.name}`);
    const outcome = await dbCheck(c.value);
    assert.equal(outcome.ok, c.accepted, `database: ${c.name} (${outcome.code ?? 'ok'} ${outcome.constraint ?? ''})`);
    if (!c.accepted) {
      assert.equal(outcome.code, '23514', `database: ${c.name} is a check violation`);
      if (c.constraint) assert.equal(outcome.constraint, c.constraint, `database: ${c.name}`);
    }
    if (apiCheck) assert.equal(await apiCheck(c.value), c.accepted, `api: ${c.name}`);
  }
}

describe('limits agree between zod and the CHECK constraints', () => {
  test('task title: 1..500 code points, no surrounding white space', async () => {
    const max = LIMITS.taskTitle.max;
    assert.equal(max, 500);
    await checkAll(
      [
        { name: '1 character', value: 'a', accepted: true },
        { name: '500 characters', value: 'x'.repeat(max), accepted: true },
        { name: '501 characters', value: 'x'.repeat(max + 1), accepted: false, constraint: 'tasks_title_length' },
        { name: '500 astral characters (1,000 UTF-16 units)', value: astral(max), accepted: true },
        { name: '501 astral characters', value: astral(max + 1), accepted: false, constraint: 'tasks_title_length' },
        { name: 'empty', value: '', accepted: false, constraint: 'tasks_title_length' },
      ],
      (v) => byZod(TaskTitle, v),
      (v) => asDatabase('insert into todo_chat.tasks (title) values ($1)', [v]),
      (v) => byApi((tx) => tx.tasks.create({ title: v as string })),
    );
    await checkAll(
      [
        { name: '500 characters', value: 'x'.repeat(max), accepted: true },
        { name: '501 characters', value: 'x'.repeat(max + 1), accepted: false, constraint: 'tasks_title_length' },
      ],
      (v) => byZod(TaskTitle, v),
      (v) => asDatabase("update todo_chat.tasks set title = $1 where title = 'a'", [v], (c) => c.query("insert into todo_chat.tasks (title) values ('a')").then(() => undefined)),
      async (v) => {
        const task = await store.withUser(user!, (tx) => tx.tasks.create({ title: 'to rename' }));
        return byApi((tx) => tx.tasks.update(task.id, { title: v as string }));
      },
    );
  });

  test('titles: zod trims exactly the white space the CHECK refuses at either end', async () => {
    const whitespace = [...TRIMMED_WHITESPACE];
    assert.equal(whitespace.length, 25);
    for (const ch of whitespace) {
      const label = `U+${ch.codePointAt(0)!.toString(16).padStart(4, '0')}`;
      assert.equal(TaskTitle.parse(`${ch}t${ch}`), 't', `zod trims ${label}`);
      assert.equal(ConversationTitle.parse(`${ch}t`), 't', `zod trims ${label}`);
      for (const value of [`${ch}t`, `t${ch}`]) {
        const task = await asDatabase('insert into todo_chat.tasks (title) values ($1)', [value]);
        assert.deepEqual(task, { ok: false, code: '23514', constraint: 'tasks_title_trimmed' }, `tasks refuse ${label}`);
        const conversation = await asDatabase('insert into todo_chat.conversations (title) values ($1)', [value]);
        assert.deepEqual(conversation, { ok: false, code: '23514', constraint: 'conversations_title_trimmed' }, `conversations refuse ${label}`);
      }
      assert.equal(byZod(TaskTitle, ch.repeat(3)), false, `only ${label} is empty after trimming`);
    }
    // Characters that look blank but are not white space: kept by zod, accepted by the CHECK.
    for (const ch of ['\u200b', '\u0085', '\u180e', '\u2060']) {
      const label = `U+${ch.codePointAt(0)!.toString(16).padStart(4, '0')}`;
      assert.equal(TaskTitle.parse(`${ch}t`), `${ch}t`, `zod keeps ${label}`);
      assert.deepEqual(await asDatabase('insert into todo_chat.tasks (title) values ($1)', [`${ch}t`]), { ok: true }, `tasks accept ${label}`);
      assert.deepEqual(await asDatabase('insert into todo_chat.conversations (title) values ($1)', [`${ch}t`]), { ok: true }, `conversations accept ${label}`);
    }
    // Inner white space is fine everywhere.
    assert.equal(TaskTitle.parse('a \n b'), 'a \n b');
    assert.deepEqual(await asDatabase('insert into todo_chat.tasks (title) values ($1)', ['a \n b']), { ok: true });
  });

  test('task description: at most 5000 code points', async () => {
    const max = LIMITS.taskDescription.max;
    assert.equal(max, 5000);
    await checkAll(
      [
        { name: 'empty', value: '', accepted: true },
        { name: '5000 characters', value: 'd'.repeat(max), accepted: true },
        { name: '5001 characters', value: 'd'.repeat(max + 1), accepted: false, constraint: 'tasks_description_length' },
        { name: '5000 astral characters', value: astral(max), accepted: true },
        { name: '5001 astral characters', value: astral(max + 1), accepted: false, constraint: 'tasks_description_length' },
      ],
      (v) => byZod(TaskDescription, v),
      (v) => asDatabase("insert into todo_chat.tasks (title, description) values ('t', $1)", [v]),
      (v) => byApi((tx) => tx.tasks.create({ title: 't', description: v as string })),
    );
  });

  test('conversation title: null or 1..500 code points', async () => {
    const max = LIMITS.conversationTitle.max;
    assert.equal(max, 500);
    await checkAll(
      [
        { name: 'null', value: null, accepted: true },
        { name: '500 characters', value: 'c'.repeat(max), accepted: true },
        { name: '501 characters', value: 'c'.repeat(max + 1), accepted: false, constraint: 'conversations_title_length' },
        { name: '501 astral characters', value: astral(max + 1), accepted: false, constraint: 'conversations_title_length' },
        { name: 'empty', value: '', accepted: false, constraint: 'conversations_title_length' },
      ],
      (v) => byZod(ConversationTitle.nullable(), v),
      (v) => asDatabase('insert into todo_chat.conversations (title) values ($1)', [v]),
      (v) => byApi((tx) => tx.conversations.create({ title: v as string | null })),
    );
  });

  test('conversation status: active or archived', async () => {
    await checkAll(
      [
        { name: 'active', value: 'active', accepted: true },
        { name: 'archived', value: 'archived', accepted: true },
        { name: 'deleted', value: 'deleted', accepted: false, constraint: 'conversations_status_known' },
        { name: 'Active', value: 'Active', accepted: false, constraint: 'conversations_status_known' },
      ],
      (v) => byZod(ConversationStatus, v),
      (v) => asDatabase('insert into todo_chat.conversations (status) values ($1)', [v]),
      (v) => byApi((tx) => tx.conversations.list({ status: v as 'active' })),
    );
  });

  test('message content: at most 10000 code points', async () => {
    const max = LIMITS.messageContent.max;
    assert.equal(max, 10_000);
    await checkAll(
      [
        { name: 'empty', value: '', accepted: true },
        { name: '10000 characters', value: 'm'.repeat(max), accepted: true },
        { name: '10001 characters', value: 'm'.repeat(max + 1), accepted: false, constraint: 'messages_content_length' },
        { name: '10000 astral characters', value: astral(max), accepted: true },
        { name: '10001 astral characters', value: astral(max + 1), accepted: false, constraint: 'messages_content_length' },
      ],
      (v) => byZod(MessageContent, v),
      (v) => insertMessage({ role: 'user', content: v }),
      (v) => byApi((tx) => tx.messages.append(conversationId, { role: 'user', content: v as string })),
    );
  });

  test('message role: user, assistant, system, tool', async () => {
    for (const role of ['user', 'assistant', 'system']) {
      assert.equal(byZod(MessageRole, role), true);
      assert.deepEqual(await insertMessage({ role }), { ok: true }, role);
    }
    assert.equal(byZod(MessageRole, 'tool'), true);
    const toolAnswer = await insertMessage({ role: 'tool', tool_call_id: 'c' }, withMessage({ role: 'assistant', tool_calls: '[{"id":"c","name":"n","arguments":{}}]' }));
    assert.deepEqual(toolAnswer, { ok: true });
    for (const role of ['robot', 'User', '']) {
      assert.equal(byZod(MessageRole, role), false, role);
      assert.equal(byZod(NewMessage, { role, content: 'x' }), false, role);
      assert.deepEqual(await insertMessage({ role }), { ok: false, code: '23514', constraint: 'messages_role_known' }, role);
    }
  });

  test('tool call id: 1..128 code points', async () => {
    const max = LIMITS.toolCallId.max;
    assert.equal(max, 128);
    await checkAll(
      [
        { name: '1 character', value: 'c', accepted: true },
        { name: '128 characters', value: 'i'.repeat(max), accepted: true },
        { name: '129 characters', value: 'i'.repeat(max + 1), accepted: false, constraint: 'messages_tool_calls_shape' },
        { name: '128 astral characters', value: astral(max), accepted: true },
        { name: '129 astral characters', value: astral(max + 1), accepted: false, constraint: 'messages_tool_calls_shape' },
        { name: 'empty', value: '', accepted: false, constraint: 'messages_tool_calls_shape' },
      ],
      (v) => byZod(ToolCallId, v) && byZod(ToolCall, { id: v, name: 'n', arguments: {} }),
      (v) => insertMessage({ role: 'assistant', tool_calls: JSON.stringify([{ id: v, name: 'n', arguments: {} }]) }),
      (v) => byApi((tx) => tx.messages.append(conversationId, { role: 'assistant', toolCalls: [{ id: v as string, name: 'n', arguments: {} }] })),
    );
  });

  test('tool name: 1..128 of A-Z a-z 0-9 _ . : -', async () => {
    const max = LIMITS.toolName.max;
    assert.equal(max, 128);
    await checkAll(
      [
        { name: 'every allowed character', value: 'Az09_.:-', accepted: true },
        { name: '128 characters', value: 'n'.repeat(max), accepted: true },
        { name: '129 characters', value: 'n'.repeat(max + 1), accepted: false, constraint: 'messages_tool_calls_shape' },
        { name: 'empty', value: '', accepted: false, constraint: 'messages_tool_calls_shape' },
        { name: 'a space', value: 'add task', accepted: false, constraint: 'messages_tool_calls_shape' },
        { name: 'a slash', value: 'tasks/add', accepted: false, constraint: 'messages_tool_calls_shape' },
        { name: 'a non-ASCII letter', value: 'tâche', accepted: false, constraint: 'messages_tool_calls_shape' },
        { name: 'a trailing newline', value: 'add_task\n', accepted: false, constraint: 'messages_tool_calls_shape' },
      ],
      (v) => byZod(ToolName, v) && byZod(ToolCall, { id: 'c', name: v, arguments: {} }),
      (v) => insertMessage({ role: 'assistant', tool_calls: JSON.stringify([{ id: 'c', name: v, arguments: {} }]) }),
      (v) => byApi((tx) => tx.messages.append(conversationId, { role: 'assistant', toolCalls: [{ id: 'c', name: v as string, arguments: {} }] })),
    );
  });

  test('tool calls: at most 64 per message, distinct ids, exactly {id, name, arguments} with an object as arguments', async () => {
    const max = LIMITS.toolCalls.maxCount;
    assert.equal(max, 64);
    await checkAll(
      [
        { name: 'none', value: [], accepted: true },
        { name: '64 calls', value: calls(max), accepted: true },
        { name: '65 calls', value: calls(max + 1), accepted: false },
        { name: 'a repeated id', value: [...calls(2), { id: 'call_0', name: 'x', arguments: {} }], accepted: false },
        { name: 'an extra key', value: [{ id: 'c', name: 'n', arguments: {}, type: 'function' }], accepted: false },
        { name: 'no arguments', value: [{ id: 'c', name: 'n' }], accepted: false },
        { name: 'array arguments', value: [{ id: 'c', name: 'n', arguments: [1] }], accepted: false },
        { name: 'string arguments', value: [{ id: 'c', name: 'n', arguments: '{}' }], accepted: false },
        { name: 'null arguments', value: [{ id: 'c', name: 'n', arguments: null }], accepted: false },
        { name: 'a numeric id', value: [{ id: 1, name: 'n', arguments: {} }], accepted: false },
        { name: 'a call that is not an object', value: ['call'], accepted: false },
        { name: 'an object instead of an array', value: { id: 'c', name: 'n', arguments: {} }, accepted: false },
      ],
      (v) => byZod(ToolCalls, v),
      (v) => insertMessage({ role: 'assistant', tool_calls: JSON.stringify(v) }),
      (v) => byApi((tx) => tx.messages.append(conversationId, { role: 'assistant', toolCalls: v as never })),
    );
  });

  test('tool calls only on assistant messages; tool_call_id exactly on tool messages', async () => {
    const callJson = JSON.stringify(calls(1));
    for (const role of ['user', 'system', 'tool']) {
      assert.equal(byZod(NewMessage, { role, content: 'x', toolCallId: 'call_0', toolCalls: calls(1) }), false, role);
      const outcome = await insertMessage({ role, tool_calls: callJson, tool_call_id: role === 'tool' ? 'call_0' : null });
      assert.deepEqual(outcome, { ok: false, code: '23514', constraint: 'messages_tool_calls_on_assistant' }, role);
    }
    assert.equal(byZod(NewMessage, { role: 'tool', content: 'x' }), false);
    assert.deepEqual(await insertMessage({ role: 'tool' }), {
      ok: false,
      code: '23514',
      constraint: 'messages_tool_call_id_on_tool',
    });
    assert.equal(byZod(NewMessage, { role: 'user', content: 'x', toolCallId: 'c' }), false);
    assert.deepEqual(await insertMessage({ role: 'user', tool_call_id: 'c' }), {
      ok: false,
      code: '23514',
      constraint: 'messages_tool_call_id_on_tool',
    });
  });

  test("tool_call_id of a tool message: 1..128 code points", async () => {
    const max = LIMITS.toolCallId.max;
    const answering = (id: string) => withMessage({ role: 'assistant', tool_calls: JSON.stringify([{ id, name: 'n', arguments: {} }]) });
    const cases: Case[] = [
      { name: '128 characters', value: 't'.repeat(max), accepted: true },
      { name: '128 astral characters', value: astral(max), accepted: true },
      { name: '129 characters', value: 't'.repeat(max + 1), accepted: false, constraint: 'messages_tool_call_id_length' },
      { name: '129 astral characters', value: astral(max + 1), accepted: false, constraint: 'messages_tool_call_id_length' },
      { name: 'empty', value: '', accepted: false, constraint: 'messages_tool_call_id_length' },
    ];
    await checkAll(
      cases,
      (v) => byZod(ToolCallId, v) && byZod(NewMessage, { role: 'tool', toolCallId: v, content: 'r' }),
      (v) =>
        insertMessage(
          { role: 'tool', tool_call_id: v, content: 'r' },
          // The call it answers exists whenever a call id of that length can exist at all.
          (v as string).length > 0 && [...(v as string)].length <= max ? answering(v as string) : undefined,
        ),
      (v) =>
        byApi(async (tx) => {
          // For the API the answered call goes in the same turn when it can exist.
          const call = [...(v as string)].length <= max && (v as string).length > 0;
          await tx.messages.appendTurn(conversationId, [
            ...(call ? [{ role: 'assistant' as const, toolCalls: [{ id: v as string, name: 'n', arguments: {} }] }] : []),
            { role: 'tool', toolCallId: v as string, content: 'r' },
          ]);
        }),
    );
  });

  test('message id: 1..255 code points, kept exactly (MessageId; messages_id_length)', async () => {
    const max = LIMITS.messageId.max;
    assert.equal(max, 255);
    const upperUuid = crypto.randomUUID().toUpperCase();
    const cases: Case[] = [
      { name: '1 character', value: 'i', accepted: true },
      { name: '255 characters', value: 'i'.repeat(max), accepted: true },
      { name: '256 characters', value: 'i'.repeat(max + 1), accepted: false, constraint: 'messages_id_length' },
      { name: '255 astral characters (510 UTF-16 units)', value: astral(max), accepted: true },
      { name: '256 astral characters', value: astral(max + 1), accepted: false, constraint: 'messages_id_length' },
      { name: 'a UUID in upper case', value: upperUuid, accepted: true },
      { name: 'white space only', value: ' \u3000', accepted: true },
      { name: 'empty', value: '', accepted: false, constraint: 'messages_id_length' },
    ];
    // A plain chat message's id, an Agents SDK item's (given beside it), an AI SDK message's (its own).
    await checkAll(
      cases,
      (v) => byZod(MessageId, v) && byZod(NewMessage, { id: v, role: 'user', content: 'x' }),
      (v) => insertMessage({ id: v, role: 'user' }),
      (v) => byApi((tx) => tx.messages.append(conversationId, { id: v as string, role: 'user', content: 'x' })),
    );
    await checkAll(
      cases,
      (v) => byZod(NewMessage, { id: v, format: 'openai-agents', item: { role: 'user', content: 'x' } }),
      (v) => insertMessage({ id: v, role: 'user', format: 'openai-agents', item: '{"role":"user","content":"x"}', content: 'x' }),
      (v) => byApi((tx) => tx.messages.append(conversationId, { id: v as string, format: 'openai-agents', item: { role: 'user', content: 'x' } })),
    );
    await checkAll(
      cases,
      // zod takes any JSON object as an item; the library reads the UIMessage's id with MessageId.
      (v) => byZod(NewMessage, { format: 'ai-sdk', item: { id: v, role: 'user', parts: [] } }) && byZod(MessageId, v),
      (v) => insertMessage({ id: v, role: 'user', format: 'ai-sdk', item: JSON.stringify({ id: v, role: 'user', parts: [] }) }),
      // The UIMessage's own id is the message id: the library reads it (ValidationError before any query when out of bounds).
      (v) => byApi((tx) => tx.messages.append(conversationId, { format: 'ai-sdk', item: { id: v, role: 'user', parts: [] } })),
    );
    // Reading by id takes the same ids: an unknown valid one is a NotFoundError, an invalid one a ValidationError.
    for (const c of cases) {
      const read = store.withUser(user!, (tx) => tx.messages.get(conversationId, c.value as string));
      await assert.rejects(read, c.accepted ? NotFoundError : ValidationError, `get: ${c.name}`);
    }
    // Kept exactly, not normalised: the lower-case form of a stored upper-case UUID is another id.
    assert.equal(
      await byApi(async (tx) => {
        const upper = await tx.messages.append(conversationId, { id: upperUuid, role: 'user', content: 'upper' });
        await assert.rejects(tx.messages.get(conversationId, upperUuid.toLowerCase()), NotFoundError);
        const lower = await tx.messages.append(conversationId, { id: upperUuid.toLowerCase(), role: 'user', content: 'lower' });
        assert.deepEqual([upper.id, lower.id], [upperUuid, upperUuid.toLowerCase()]);
      }),
      true,
    );
    // The database's side of ids and positions: unique per conversation, positions from 1.
    assert.deepEqual(await insertMessage({ id: 'twice', role: 'user' }, withMessage({ id: 'twice', role: 'user' })), { ok: false, code: '23505', constraint: 'messages_pkey' });
    assert.deepEqual(await insertMessage({ position: 999_999, role: 'user' }, withMessage({ position: 999_999, role: 'user' })), { ok: false, code: '23505', constraint: 'messages_position_key' });
    assert.deepEqual(await insertMessage({ position: 0, role: 'user' }), { ok: false, code: '23514', constraint: 'messages_position_positive' });
  });

  /** An SDK item whose JSON text is exactly `bytes` long, padded with `fill` (its JSON escape counted): in its text (content) or beside it. */
  function sizedItem(bytes: number, fill: string, where: 'content' | 'providerData' = 'content'): Record<string, unknown> {
    const make = (pad: string) => (where === 'content' ? { role: 'user', content: pad } : { role: 'user', content: 'x', providerData: { pad } });
    const size = (value: unknown) => Buffer.byteLength(JSON.stringify(value), 'utf8');
    const room = bytes - size(make(''));
    const unit = size(fill) - 2;
    const item = make(fill.repeat(Math.floor(room / unit)) + 'x'.repeat(room % unit));
    assert.equal(size(item), bytes);
    return item;
  }

  test('SDK item: at most 1 MiB of JSON text, in bytes, as the CHECK counts octet_length(item::text) (SdkItem; messages_item_size)', async () => {
    const max = LIMITS.item.maxJsonBytes;
    assert.equal(max, 1_048_576);
    const cases: Case[] = [];
    // One-byte, two-byte, three-byte and four-byte characters, and characters JSON escapes (2 and 6 bytes of text).
    for (const fill of ['x', 'é', '中', '😀', '"', '\u0001']) {
      const label = `U+${fill.codePointAt(0)!.toString(16).padStart(4, '0')}`;
      cases.push(
        { name: `${max} bytes of ${label}`, value: sizedItem(max, fill), accepted: true },
        { name: `${max + 1} bytes of ${label}`, value: sizedItem(max + 1, fill), accepted: false, constraint: 'messages_item_size' },
      );
    }
    cases.push(
      { name: `${max} bytes beside the text`, value: sizedItem(max, '😀', 'providerData'), accepted: true },
      { name: `${max + 1} bytes beside the text`, value: sizedItem(max + 1, '😀', 'providerData'), accepted: false, constraint: 'messages_item_size' },
    );
    await checkAll(
      cases,
      (v) => byZod(SdkItem, v) && byZod(NewMessage, { format: 'openai-agents', item: v }),
      // The item alone (content left empty), as the JSON text the library sends: JSON.stringify's, which json keeps as written.
      (v) => insertMessage({ role: 'user', format: 'openai-agents', item: JSON.stringify(v) }),
      (v) => byApi((tx) => tx.messages.append(conversationId, { format: 'openai-agents', item: v as Record<string, unknown> })),
    );
    // The same bound for the AI SDK's UIMessages.
    const uiItem = (bytes: number) => {
      const base = { id: 'ui-size', role: 'user', parts: [{ type: 'text', text: '' }] };
      const room = bytes - Buffer.byteLength(JSON.stringify(base), 'utf8');
      return { ...base, parts: [{ type: 'text', text: '😀'.repeat(Math.floor(room / 4)) + 'x'.repeat(room % 4) }] };
    };
    await checkAll(
      [
        { name: `a UIMessage of ${max} bytes`, value: uiItem(max), accepted: true },
        { name: `a UIMessage of ${max + 1} bytes`, value: uiItem(max + 1), accepted: false, constraint: 'messages_item_size' },
      ],
      (v) => byZod(NewMessage, { format: 'ai-sdk', item: v }),
      (v) => insertMessage({ id: 'ui-size', role: 'user', format: 'ai-sdk', item: JSON.stringify(v) }),
      (v) => byApi((tx) => tx.messages.append(conversationId, { format: 'ai-sdk', item: v as Record<string, unknown> })),
    );
  });

  test('SDK-derived content: at most 1 MiB in bytes (messages_content_length for SDK formats), never reached by an item zod accepts', async () => {
    const max = LIMITS.item.maxJsonBytes;
    // The CHECK: bytes for SDK formats (a plain chat message is still limited to 10000 code points).
    const sdk = (content: string) => insertMessage({ role: 'user', format: 'openai-agents', item: '{}', content });
    for (const [fill, width] of [['x', 1], ['é', 2], ['中', 3], ['😀', 4]] as const) {
      const atMax = fill.repeat(Math.floor(max / width)) + 'x'.repeat(max % width);
      assert.equal(Buffer.byteLength(atMax, 'utf8'), max);
      assert.deepEqual(await sdk(atMax), { ok: true }, `${max} bytes of ${fill}`);
      assert.deepEqual(await sdk(`${atMax}x`), { ok: false, code: '23514', constraint: 'messages_content_length' }, `${max + 1} bytes of ${fill}`);
    }
    assert.deepEqual(await insertMessage({ role: 'user', content: astral(LIMITS.messageContent.max) }), { ok: true }, 'chat: 10000 astral characters (40000 bytes)');
    assert.deepEqual(await sdk(astral(LIMITS.messageContent.max + 1)), { ok: true }, 'an SDK message may hold more than 10000 characters');
    // The library: the content derived from an item is its text, which the item's JSON holds (escaped, quoted, with
    // its keys), so an item zod accepts never derives more than the CHECK allows. The largest there can be:
    for (const fill of ['x', '😀']) {
      const item = sizedItem(max, fill);
      const [message] = await store.withUser(user!, async (tx) => {
        const appended = await tx.messages.append(conversationId, { format: 'openai-agents', item });
        throw Object.assign(new Rollback(), { appended });
      }).catch((error: unknown) => [(error as { appended: Message }).appended]);
      assert.equal(message!.content, item.content, 'the whole text, never truncated');
      assert.ok(Buffer.byteLength(message!.content, 'utf8') < max && [...message!.content].length > LIMITS.messageContent.max);
    }
  });

  test('audit call id and tool name: 1..255 code points (AuditCallId, AuditToolName; tool_calls_call_id_length, tool_calls_name_length)', async () => {
    assert.equal(LIMITS.auditCallId.max, 255);
    assert.equal(LIMITS.auditToolName.max, 255);
    const max = 255;
    const cases = (constraint: string): Case[] => [
      { name: '1 character', value: 'c', accepted: true },
      { name: '255 characters', value: 'c'.repeat(max), accepted: true },
      { name: '256 characters', value: 'c'.repeat(max + 1), accepted: false, constraint },
      { name: '255 astral characters', value: astral(max), accepted: true },
      { name: '256 astral characters', value: astral(max + 1), accepted: false, constraint },
      { name: 'spaces and punctuation (any text, unlike plain chat tool names)', value: 'list tasks / ツール', accepted: true },
      { name: 'empty', value: '', accepted: false, constraint },
    ];
    const auditCall = (callId: unknown, name: unknown) => auditCallInsert({ call_id: callId, name });
    // Call ids, as the Agents SDK and the AI SDK give them.
    await checkAll(
      cases('tool_calls_call_id_length'),
      (v) => byZod(AuditCallId, v),
      (v) => auditCall(v, 'n'),
      (v) => byApi((tx) => tx.messages.append(conversationId, { format: 'openai-agents', item: { type: 'function_call', callId: v, name: 'n', arguments: '{}' } })),
    );
    await checkAll(
      cases('tool_calls_call_id_length'),
      (v) => byZod(AuditCallId, v),
      (v) => auditCall(v, 'n'),
      (v) => byApi((tx) => tx.messages.append(conversationId, { format: 'ai-sdk', item: { id: 'ui-call', role: 'assistant', parts: [{ type: 'tool-n', toolCallId: v, state: 'input-available', input: {} }] } })),
    );
    // Tool names: an Agents SDK function call's, an AI SDK tool part's type (tool-<name>), a dynamic tool's.
    await checkAll(
      cases('tool_calls_name_length'),
      (v) => byZod(AuditToolName, v),
      (v) => auditCall('c', v),
      (v) => byApi((tx) => tx.messages.append(conversationId, { format: 'openai-agents', item: { type: 'function_call', callId: 'c', name: v, arguments: '{}' } })),
    );
    await checkAll(
      cases('tool_calls_name_length'),
      (v) => byZod(AuditToolName, v),
      (v) => auditCall('c', v),
      (v) => byApi((tx) => tx.messages.append(conversationId, { format: 'ai-sdk', item: { id: 'ui-name', role: 'assistant', parts: [{ type: `tool-${v as string}`, toolCallId: 'c', state: 'input-available', input: {} }] } })),
    );
    await checkAll(
      cases('tool_calls_name_length'),
      (v) => byZod(AuditToolName, v),
      (v) => auditCall('c', v),
      (v) => byApi((tx) => tx.messages.append(conversationId, { format: 'ai-sdk', item: { id: 'ui-dynamic', role: 'assistant', parts: [{ type: 'dynamic-tool', toolName: v, toolCallId: 'c', state: 'input-available', input: {} }] } })),
    );
  });

  test('message format: chat, openai-agents or ai-sdk (messages_format_known, tool_calls_format_known)', async () => {
    const items: Record<string, Record<string, unknown>> = { 'openai-agents': { role: 'user', content: 'x' }, 'ai-sdk': { id: 'ui-format', role: 'user', parts: [] } };
    for (const format of MESSAGE_FORMATS) {
      const message = format === 'chat' ? { format, role: 'user', content: 'x' } : { format, item: items[format] };
      assert.equal(byZod(NewMessage, message), true, format);
      assert.deepEqual(await insertMessage({ role: 'user', format, item: format === 'chat' ? null : JSON.stringify(items[format]) }), { ok: true }, format);
      assert.deepEqual(await auditCallInsert({ format }), { ok: true }, format);
      assert.equal(await byApi((tx) => tx.messages.append(conversationId, message as never)), true, format);
    }
    for (const format of ['Chat', 'openai', 'ai_sdk', 'openai-agents ', '']) {
      assert.equal(byZod(NewMessage, { format, role: 'user', content: 'x' }), false, format);
      assert.equal(byZod(NewMessage, { format, item: items['openai-agents'] }), false, format);
      // With an item, so that only the format is wrong.
      assert.deepEqual(await insertMessage({ role: 'user', format, item: '{}' }), { ok: false, code: '23514', constraint: 'messages_format_known' }, format);
      assert.deepEqual(await auditCallInsert({ format }), { ok: false, code: '23514', constraint: 'tool_calls_format_known' }, format);
      assert.equal(await byApi((tx) => tx.messages.append(conversationId, { format, item: items['openai-agents'] } as never)), false, format);
    }
  });

  test('an item exactly on SDK formats (messages_item_on_sdk_formats); tool calls and tool_call_id only on plain chat messages', async () => {
    const item = { role: 'assistant', content: 'x' };
    const itemJson = JSON.stringify(item);
    const refused = (constraint: string) => ({ ok: false, code: '23514', constraint });
    // A plain chat message has no item; an SDK message has one (zod: a JSON object).
    assert.equal(byZod(NewMessage, { role: 'user', content: 'x', item }), false);
    assert.equal(byZod(NewMessage, { format: 'chat', role: 'user', content: 'x', item }), false);
    assert.deepEqual(await insertMessage({ role: 'user', item: itemJson }), refused('messages_item_on_sdk_formats'));
    for (const format of ['openai-agents', 'ai-sdk']) {
      for (const value of [undefined, null, [], 'item', 42]) assert.equal(byZod(NewMessage, { format, item: value }), false, `${format} with ${JSON.stringify(value)}`);
      assert.equal(byZod(NewMessage, { format }), false, format);
      assert.deepEqual(await insertMessage({ role: 'user', format, item: null }), refused('messages_item_on_sdk_formats'), format);
      // Tool calls are a plain chat assistant message's: an SDK item carries its own (and feeds the audit).
      assert.equal(byZod(NewMessage, { format, item, toolCalls: calls(1) }), false, format);
      assert.deepEqual(
        await insertMessage({ role: 'assistant', format, item: itemJson, tool_calls: JSON.stringify(calls(1)) }),
        refused('messages_tool_calls_on_assistant'),
        format,
      );
      // tool_call_id likewise: an SDK tool result (role tool) has none.
      assert.equal(byZod(NewMessage, { format, item, toolCallId: 'call_0' }), false, format);
      assert.deepEqual(await insertMessage({ role: 'tool', format, item: itemJson }), { ok: true }, format);
      assert.deepEqual(await insertMessage({ role: 'tool', format, item: itemJson, tool_call_id: 'call_0' }), refused('messages_tool_call_id_on_tool'), format);
    }
  });

  test('a tool result must answer a call (tool_results_answers_call): the audit refuses one that answers none, and the append with it', async () => {
    assert.deepEqual(await auditResultInsert({ call_ordinal: null }), { ok: false, code: '23514', constraint: 'tool_results_answers_call' });
    for (const message of [
      { role: 'tool', toolCallId: 'never-called', content: 'r' },
      { format: 'openai-agents', item: { type: 'function_call_result', callId: 'never-called', status: 'completed', output: 'r' } },
    ] as const) {
      assert.equal(byZod(NewMessage, message), true, 'zod cannot know which calls there are');
      const refusal = await store
        .withUser(user!, (tx) => tx.messages.append(conversationId, message as never))
        .then(() => undefined, (error: unknown) => error);
      assert.ok(refusal instanceof ValidationError, `refused: ${String(refusal)}`);
      assert.equal(refusal.constraint, 'tool_results_answers_call');
      assert.equal(refusal.sqlState, '23514');
    }
  });

  test('tool result status: 1..255 characters or none (tool_results_status_length); the library records a status an SDK reports only within them', async () => {
    assert.deepEqual(await auditResultInsert({}), { ok: true }, 'the insert itself is valid');
    for (const status of ['completed', 's', 'x'.repeat(255)]) assert.deepEqual(await auditResultInsert({ status }), { ok: true }, status);
    for (const status of ['', 'x'.repeat(256)]) {
      assert.deepEqual(await auditResultInsert({ status }), { ok: false, code: '23514', constraint: 'tool_results_status_length' }, `${status.length} characters`);
    }
    // An Agents SDK result's status: kept within the bound, dropped (null) beyond it, never refused.
    for (const [given, kept] of [['completed', 'completed'], ['x'.repeat(255), 'x'.repeat(255)], ['x'.repeat(256), null], ['', null]] as const) {
      const recorded = await store
        .withUser(user!, async (tx) => {
          await tx.messages.appendTurn(conversationId, [
            { format: 'openai-agents', item: { type: 'function_call', callId: 'status', name: 'n', arguments: '{}' } },
            { format: 'openai-agents', item: { type: 'function_call_result', callId: 'status', status: given, output: 'r' } },
          ]);
          const { items } = await tx.toolCalls.list({ conversationId });
          throw Object.assign(new Rollback(), { status: items.find((c) => c.callId === 'status')?.results[0]?.status });
        })
        .catch((error: unknown) => (error as { status: unknown }).status);
      assert.equal(recorded, kept, `a status of ${given.length} characters`);
    }
  });

  test('usage records: id, model and message id 1..255 code points, counts 0..2^53 - 1 (RecordUsageInput; turn_usage_*)', async () => {
    const valid = { model: 'm', requests: 1, inputTokens: 1, outputTokens: 1 };
    const usageInsert = (columns: Record<string, unknown>) => {
      const all: Record<string, unknown> = { conversation_id: conversationId, model: 'm', requests: 1, input_tokens: 1, output_tokens: 1, ...columns };
      const names = Object.keys(all);
      return asDatabase(`insert into todo_chat.turn_usage (${names.join(', ')}) values (${names.map((_, i) => `$${i + 1}`).join(', ')})`, Object.values(all));
    };
    const texts = (constraint: string): Case[] => [
      { name: '1 character', value: 'x', accepted: true },
      { name: '255 characters', value: 'x'.repeat(255), accepted: true },
      { name: '256 characters', value: 'x'.repeat(256), accepted: false, constraint },
      { name: '255 astral characters', value: astral(255), accepted: true },
      { name: '256 astral characters', value: astral(256), accepted: false, constraint },
      { name: 'empty', value: '', accepted: false, constraint },
    ];
    // Both sides roll back: every case may use the same id.
    await checkAll(
      texts('turn_usage_id_length'),
      (v) => byZod(RecordUsageInput, { ...valid, id: v }),
      (v) => usageInsert({ id: v }),
      (v) => byApi((tx) => tx.usage.record(conversationId, { ...valid, id: v as string })),
    );
    await checkAll(
      texts('turn_usage_model_length'),
      (v) => byZod(RecordUsageInput, { ...valid, model: v }),
      (v) => usageInsert({ model: v }),
      (v) => byApi((tx) => tx.usage.record(conversationId, { ...valid, model: v as string })),
    );
    await checkAll(
      texts('turn_usage_message_id_length'),
      (v) => byZod(RecordUsageInput, { ...valid, messageId: v }),
      (v) => usageInsert({ message_id: v }),
      (v) => byApi((tx) => tx.usage.record(conversationId, { ...valid, messageId: v as string })),
    );
    for (const [field, column] of [['requests', 'requests'], ['inputTokens', 'input_tokens'], ['outputTokens', 'output_tokens']] as const) {
      const constraint = `turn_usage_${column}_range`;
      await checkAll(
        [
          { name: '0', value: 0, accepted: true },
          { name: '2^53 - 1', value: Number.MAX_SAFE_INTEGER, accepted: true },
          { name: '2^53', value: Number.MAX_SAFE_INTEGER + 1, accepted: false, constraint },
          { name: '-1', value: -1, accepted: false, constraint },
        ],
        (v) => byZod(RecordUsageInput, { ...valid, [field]: v }),
        (v) => usageInsert({ [column]: v }),
        (v) => byApi((tx) => tx.usage.record(conversationId, { ...valid, [field]: v })),
      );
      assert.equal(byZod(RecordUsageInput, { ...valid, [field]: 1.5 }), false, `${field}: a whole number`);
    }
    assert.equal(LIMITS.usage.maxCount, Number.MAX_SAFE_INTEGER);
    assert.deepEqual([LIMITS.usage.id.max, LIMITS.usage.model.max, LIMITS.messageId.max], [255, 255, 255]);
  });

  test('text that PostgreSQL cannot store exactly is refused by zod before it reaches the database', async () => {
    for (const value of ['nul\u0000', 'lone \ud800 surrogate']) {
      assert.equal(byZod(TaskTitle, value), false);
      assert.equal(byZod(MessageContent, value), false);
      assert.equal(await byApi((tx) => tx.tasks.create({ title: value })), false);
      assert.equal(await byApi((tx) => tx.messages.append(conversationId, { role: 'user', content: value })), false);
    }
    const nul = await asDatabase('insert into todo_chat.tasks (title) values ($1)', ['nul\u0000']);
    assert.equal(nul.ok, false, 'the database cannot hold NUL either');
  });
});
