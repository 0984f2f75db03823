/**
 * Every limit is written twice, once in TypeScript (src/limits.ts through the
 * zod schemas of src/schemas.ts) and once in SQL (the CHECK constraints of
 * migrations/). These tests prove the two agree at each boundary: the zod
 * side with the exported schemas, the SQL side by writing the same value
 * directly as the app role (bypassing zod), and the API end to end.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type pg from 'pg';
import type { z } from 'zod';
import { createTestDatabase } from '../helpers/db.js';
import { asUser, tryStatement } from '../helpers/transaction.js';
import {
  ConversationStatus,
  ConversationTitle,
  LIMITS,
  MessageContent,
  MessageRole,
  NewMessage,
  TaskDescription,
  TaskTitle,
  ToolCall,
  ToolCallId,
  ToolCalls,
  ToolName,
  ValidationError,
  type Transaction,
} from '../../src/index.js';
import { TRIMMED_WHITESPACE } from '../../src/limits.js';

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
      (v) => asDatabase("insert into todo_chat.messages (conversation_id, role, content) values ($1, 'user', $2)", [conversationId, v]),
      (v) => byApi((tx) => tx.messages.append(conversationId, { role: 'user', content: v as string })),
    );
  });

  test('message role: user, assistant, system, tool', async () => {
    for (const role of ['user', 'assistant', 'system']) {
      assert.equal(byZod(MessageRole, role), true);
      assert.deepEqual(await asDatabase("insert into todo_chat.messages (conversation_id, role) values ($1, $2)", [conversationId, role]), { ok: true }, role);
    }
    assert.equal(byZod(MessageRole, 'tool'), true);
    const toolAnswer = await asDatabase(
      "insert into todo_chat.messages (conversation_id, role, tool_call_id) values ($1, 'tool', 'c')",
      [conversationId],
      (c) => c.query(`insert into todo_chat.messages (conversation_id, role, tool_calls) values ($1, 'assistant', '[{"id":"c","name":"n","arguments":{}}]')`, [conversationId]).then(() => undefined),
    );
    assert.deepEqual(toolAnswer, { ok: true });
    for (const role of ['robot', 'User', '']) {
      assert.equal(byZod(MessageRole, role), false, role);
      assert.equal(byZod(NewMessage, { role, content: 'x' }), false, role);
      assert.deepEqual(
        await asDatabase('insert into todo_chat.messages (conversation_id, role) values ($1, $2)', [conversationId, role]),
        { ok: false, code: '23514', constraint: 'messages_role_known' },
        role,
      );
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
      (v) =>
        asDatabase("insert into todo_chat.messages (conversation_id, role, tool_calls) values ($1, 'assistant', $2::jsonb)", [
          conversationId,
          JSON.stringify([{ id: v, name: 'n', arguments: {} }]),
        ]),
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
      (v) =>
        asDatabase("insert into todo_chat.messages (conversation_id, role, tool_calls) values ($1, 'assistant', $2::jsonb)", [
          conversationId,
          JSON.stringify([{ id: 'c', name: v, arguments: {} }]),
        ]),
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
      (v) =>
        asDatabase("insert into todo_chat.messages (conversation_id, role, tool_calls) values ($1, 'assistant', $2::jsonb)", [
          conversationId,
          JSON.stringify(v),
        ]),
      (v) => byApi((tx) => tx.messages.append(conversationId, { role: 'assistant', toolCalls: v as never })),
    );
  });

  test('tool calls only on assistant messages; tool_call_id exactly on tool messages', async () => {
    const callJson = JSON.stringify(calls(1));
    for (const role of ['user', 'system', 'tool']) {
      assert.equal(byZod(NewMessage, { role, content: 'x', toolCallId: 'call_0', toolCalls: calls(1) }), false, role);
      const outcome = await asDatabase('insert into todo_chat.messages (conversation_id, role, tool_calls, tool_call_id) values ($1, $2, $3::jsonb, $4)', [
        conversationId,
        role,
        callJson,
        role === 'tool' ? 'call_0' : null,
      ]);
      assert.deepEqual(outcome, { ok: false, code: '23514', constraint: 'messages_tool_calls_on_assistant' }, role);
    }
    assert.equal(byZod(NewMessage, { role: 'tool', content: 'x' }), false);
    assert.deepEqual(await asDatabase("insert into todo_chat.messages (conversation_id, role) values ($1, 'tool')", [conversationId]), {
      ok: false,
      code: '23514',
      constraint: 'messages_tool_call_id_on_tool',
    });
    assert.equal(byZod(NewMessage, { role: 'user', content: 'x', toolCallId: 'c' }), false);
    assert.deepEqual(await asDatabase("insert into todo_chat.messages (conversation_id, role, tool_call_id) values ($1, 'user', 'c')", [conversationId]), {
      ok: false,
      code: '23514',
      constraint: 'messages_tool_call_id_on_tool',
    });
  });

  test("tool_call_id of a tool message: 1..128 code points", async () => {
    const max = LIMITS.toolCallId.max;
    const answering = (id: string) => (c: pg.PoolClient) =>
      c
        .query("insert into todo_chat.messages (conversation_id, role, tool_calls) values ($1, 'assistant', $2::jsonb)", [
          conversationId,
          JSON.stringify([{ id, name: 'n', arguments: {} }]),
        ])
        .then(() => undefined);
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
        asDatabase(
          "insert into todo_chat.messages (conversation_id, role, tool_call_id, content) values ($1, 'tool', $2, 'r')",
          [conversationId, v],
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
