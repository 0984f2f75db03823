/**
 * The plans of the hot paths as the library now runs them: named (prepared)
 * statements, under row-level security as the app role. PostgreSQL plans a
 * prepared statement with its parameters' values for its first five
 * executions (custom plans) and may then keep one generic plan, made without
 * them; either must be right, so every check runs EXPLAIN EXECUTE with
 * plan_cache_mode forced to each. Data: a heavy user (one conversation of
 * 10,000 messages in turns of four, 1,000 tasks, 300 conversations) among
 * 500 ordinary users.
 *
 * - rebuild (ListAllMessages): reads the conversation through its position
 *   index and sorts nothing (the library places each row by its position);
 * - history (ListHistory), pages starting on a user message and on a tool
 *   result: bounded reads of the position index, nothing sorted but under a
 *   limit;
 * - task and conversation lists: ordered index scans, no sort;
 * - search (SearchMessages) by an ordinary user: their messages through an
 *   index of theirs, never a scan of the table.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { createTestDatabase } from '../helpers/db.js';
import { asUser } from '../helpers/transaction.js';
import { assertBoundedIndexReads, assertOrderedIndexScan, describePlan, planNodes, statementOf, type PlanNode } from '../helpers/plans.js';
import * as tq from '../../src/queries/tasks.queries.js';
import * as cq from '../../src/queries/conversations.queries.js';
import * as mq from '../../src/queries/messages.queries.js';
import type { PreparedQuery } from '@pgtyped/runtime';
import { MAX_UUID } from '../../src/repositories/pagination.js';
import { LIMITS } from '../../src/limits.js';

const BIG = 10_000;
const db = await createTestDatabase();
const [heavy, ...ordinary] = await db.createUsers(501);
const big = (await db.admin.query<{ id: string }>('insert into todo_chat.conversations (user_id, last_position) values ($1, $2) returning id', [heavy, BIG])).rows[0]!.id;
await db.admin.query(
  `insert into todo_chat.tasks (user_id, title, completed) select u, 'task', g % 3 = 0 from unnest($1::uuid[]) as u, generate_series(1, 10) as g`,
  [ordinary],
);
await db.admin.query(
  `insert into todo_chat.tasks (user_id, title, completed, created_at)
   select $1, 'task ' || g, g % 3 = 0, now() - g * interval '1 second' from generate_series(1, 1000) as g`,
  [heavy],
);
await db.admin.query(
  `with c as (
     insert into todo_chat.conversations (user_id, last_position) select u, 20 from unnest($1::uuid[]) as u, generate_series(1, 2) returning user_id, id
   )
   insert into todo_chat.messages (user_id, conversation_id, id, position, role, content)
   select c.user_id, c.id, 'm' || g, g, 'user', 'ordinary chatter about the weather ' || g from c, generate_series(1, 20) as g`,
  [ordinary],
);
await db.admin.query(
  `insert into todo_chat.conversations (user_id, updated_at) select $1, now() - g * interval '1 second' from generate_series(1, 300) as g`,
  [heavy],
);
// Turns of four: user, assistant (tool call), tool result, assistant; position 4k+3 is a tool result.
await db.admin.query(
  `insert into todo_chat.messages (user_id, conversation_id, id, position, role, content, tool_calls, tool_call_id)
   select $1, $2, 'm' || g, g,
     (array['user', 'assistant', 'tool', 'assistant'])[(g - 1) % 4 + 1],
     case when g = 1234 then 'remember zanzibar' when (g - 1) % 4 = 1 then '' else 'message ' || g end,
     case when (g - 1) % 4 = 1 then jsonb_build_array(jsonb_build_object('id', 'call_' || g, 'name', 'add_task', 'arguments', '{}'::jsonb)) end,
     case when (g - 1) % 4 = 2 then 'call_' || (g - 1) end
   from generate_series(1, $3::integer) as g`,
  [heavy, big, BIG],
);
await db.admin.query('vacuum analyze');

type PlanCacheMode = 'force_custom_plan' | 'force_generic_plan';

/** EXPLAIN EXECUTE of the statement the library prepares for this query, with the plan cache forced to `mode`. */
async function explainPrepared<P>(client: pg.ClientBase, query: PreparedQuery<P, unknown>, params: P, mode: PlanCacheMode): Promise<PlanNode> {
  const { text, values } = await statementOf(query, params);
  await client.query(`set local plan_cache_mode = ${mode}`);
  await client.query(`prepare planned as ${text}`);
  try {
    const literals = values.map((value) => (value === null ? 'null' : client.escapeLiteral(String(value))));
    const result = await client.query(`explain (format json) execute planned${literals.length ? `(${literals.join(', ')})` : ''}`);
    return (result.rows[0] as { 'QUERY PLAN': { Plan: PlanNode }[] })['QUERY PLAN'][0]!.Plan;
  } finally {
    await client.query('deallocate planned');
  }
}

const modes: PlanCacheMode[] = ['force_custom_plan', 'force_generic_plan'];

describe('plans of the prepared hot paths, custom and generic, as the app role', () => {
  for (const mode of modes) {
    test(`rebuild of the 10,000-message conversation (${mode}): the position index, no sort`, async () => {
      await asUser(db.admin, heavy!, async (client) => {
        const { maxMessages, maxBytes } = LIMITS.wholeConversation;
        const plan = await explainPrepared(client, mq.listAllMessages, { userId: heavy!, conversationId: big, maxMessages, maxBytes }, mode);
        const text = describePlan(plan);
        assert.ok(!planNodes(plan).some((node) => /Sort/.test(node['Node Type'])), `sorts the conversation:\n${text}`);
        // Either index that leads with (user_id, conversation_id) reads exactly the conversation.
        assertBoundedIndexReads(plan, { name: `ListAllMessages (${mode})`, relation: 'messages', indexes: ['messages_position_key', 'messages_pkey'] });
      });
    });

    for (const [kind, before] of [
      ['the newest page, starting on a tool result', null],
      ['a page starting on a user message', BIG - 1],
      ['an older page starting on a tool result', 5005],
    ] as const) {
      test(`history: ${kind} (${mode}): a bounded range of the position index`, async () => {
        await asUser(db.admin, heavy!, async (client) => {
          const limit = LIMITS.historyPage.defaultLimit;
          const plan = await explainPrepared(
            client,
            mq.listHistory,
            { userId: heavy!, conversationId: big, before, limit, extra: LIMITS.historyPage.maxLimit - limit },
            mode,
          );
          assertBoundedIndexReads(plan, { name: `ListHistory ${kind} (${mode})`, relation: 'messages', indexes: ['messages_position_key'] });
        });
      });
    }

    test(`task list (${mode}): ordered index scan, no sort`, async () => {
      await asUser(db.admin, heavy!, async (client) => {
        const plan = await explainPrepared(client, tq.listTasksNewest, { userId: heavy!, cursorAt: 'infinity', cursorId: MAX_UUID, limit: 51 }, mode);
        assertOrderedIndexScan(plan, { name: `ListTasksNewest (${mode})`, relation: 'tasks', indexes: ['tasks_user_created_idx'] });
      });
    });

    test(`conversation list (${mode}): ordered index scan, no sort`, async () => {
      await asUser(db.admin, heavy!, async (client) => {
        const plan = await explainPrepared(client, cq.listConversations, { userId: heavy!, cursorAt: 'infinity', cursorId: MAX_UUID, limit: 51 }, mode);
        assertOrderedIndexScan(plan, { name: `ListConversations (${mode})`, relation: 'conversations', indexes: ['conversations_user_updated_idx'] });
      });
    });

    test(`search by an ordinary user (${mode}): their messages through an index, never a scan of the table`, async () => {
      // (For the heavy user, a third of the table, a sequential scan is the right plan, and the planner takes it.)
      await asUser(db.admin, ordinary[0]!, async (client) => {
        const plan = await explainPrepared(client, mq.searchMessages, { userId: ordinary[0]!, query: 'weather', conversationId: null, limit: 20 }, mode);
        const text = describePlan(plan);
        const reads = planNodes(plan).filter((node) => node['Relation Name'] === 'messages');
        assert.ok(reads.length > 0, text);
        for (const node of reads) assert.notEqual(node['Node Type'], 'Seq Scan', text);
      });
    });
  }
});
