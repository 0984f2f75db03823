/**
 * Query plans with the statistics of a realistic database: 2,000 ordinary
 * users and one heavy user.
 *
 * Why the list queries name the user: every policy compares user_id with
 * (select todo_chat.current_user_id()), a value the planner cannot see, so on its
 * own it would estimate the current user's share of a table as
 * 1 / (number of users): ~10 rows where the heavy user has 1,000, and a
 * bitmap scan of all of them plus a sort would look cheaper than an ordered
 * index scan that stops after `limit` rows. The queries that read many rows
 * also say `user_id = :userId` (sql/README.md), which these tests keep honest.
 *
 * Why search has no full-text index: `@@` (ts_match_vq) is not leakproof,
 * and PostgreSQL only evaluates non-leakproof conditions after the row-level
 * security condition, so they could not be index conditions; that is also
 * what keeps search from telling one user anything about other users'
 * messages (test/security/search-side-channel.test.ts). Its cost is a scan
 * of the user's own rows.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createTestDatabase } from '../helpers/db.js';
import { asUser } from '../helpers/transaction.js';
import { assertBoundedIndexReads, assertOrderedIndexScan, describePlan, explainQuery, planNodes, statementOf, type PlanNode } from '../helpers/plans.js';
import * as tq from '../../src/queries/tasks.queries.js';
import * as cq from '../../src/queries/conversations.queries.js';
import * as mq from '../../src/queries/messages.queries.js';
import { MAX_UUID } from '../../src/repositories/pagination.js';

const db = await createTestDatabase();
const [heavy, ...ordinary] = await db.createUsers(2001);
const bigConversation = (await db.admin.query<{ id: string }>('insert into todo_chat.conversations (user_id) values ($1) returning id', [heavy])).rows[0]!.id;
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
await db.admin.query(
  `insert into todo_chat.messages (user_id, conversation_id, id, position, role, content)
   select $1, $2, 'm' || g, g, 'user', case when g = 1234 then 'remember zanzibar' else 'message ' || g end
   from generate_series(1, 3000) as g`,
  [heavy, bigConversation],
);
await db.admin.query('update todo_chat.conversations set last_position = 3000 where id = $1', [bigConversation]);
await db.admin.query('vacuum analyze');

describe('plans with 2,001 users, for the heavy user', () => {
  test('task list: ordered index scan, no sort', async () => {
    await asUser(db.admin, heavy!, async (client) => {
      const plan = await explainQuery(client, tq.listTasksNewest, { userId: heavy!, cursorAt: 'infinity', cursorId: MAX_UUID, limit: 51 });
      assertOrderedIndexScan(plan, { name: 'ListTasksNewest', relation: 'tasks', indexes: ['tasks_user_created_idx'] });
    });
  });

  test('conversation list: ordered index scan, no sort', async () => {
    await asUser(db.admin, heavy!, async (client) => {
      const plan = await explainQuery(client, cq.listConversations, { userId: heavy!, cursorAt: 'infinity', cursorId: MAX_UUID, limit: 51 });
      assertOrderedIndexScan(plan, { name: 'ListConversations', relation: 'conversations', indexes: ['conversations_user_updated_idx'] });
    });
  });

  test('latest history page of a 3,000-message conversation: a bounded range of the position index', async () => {
    await asUser(db.admin, heavy!, async (client) => {
      const plan = await explainQuery(client, mq.listHistory, { userId: heavy!, conversationId: bigConversation, before: null, limit: 50, extra: 450 });
      assertBoundedIndexReads(plan, { name: 'ListHistory', relation: 'messages', indexes: ['messages_position_key'] });
    });
  });

  test('an older history page of the same conversation, starting on a tool result: a bounded range of the position index', async () => {
    await asUser(db.admin, heavy!, async (client) => {
      const plan = await explainQuery(client, mq.listHistory, { userId: heavy!, conversationId: bigConversation, before: 1551, limit: 50, extra: 450 });
      assertBoundedIndexReads(plan, { name: 'ListHistory (older)', relation: 'messages', indexes: ['messages_position_key'] });
    });
  });

  test("search reads the user's own rows by an index on user_id", async () => {
    await asUser(db.admin, heavy!, async (client) => {
      const plan = await explainQuery(client, mq.searchMessages, { userId: heavy!, query: 'zanzibar', conversationId: null, limit: 20 });
      const nodes = planNodes(plan);
      // Both keys of messages lead with user_id: either reads a range of this user's entries only.
      assert.ok(nodes.some((node) => ['messages_pkey', 'messages_position_key'].includes(String(node['Index Name']))), describePlan(plan));
    });
  });

  test('an ordinary user\'s lists are cheap either way: at most their own rows are read', async () => {
    await asUser(db.admin, ordinary[0]!, async (client) => {
      const { text, values } = await statementOf(tq.listTasksNewest, { userId: ordinary[0]!, cursorAt: 'infinity', cursorId: MAX_UUID, limit: 51 });
      const result = await client.query(`explain (analyze, format json) ${text}`, values);
      const plan = (result.rows[0] as { 'QUERY PLAN': { Plan: PlanNode }[] })['QUERY PLAN'][0]!.Plan;
      const scan = planNodes(plan).find((node) => node['Relation Name'] === 'tasks');
      assert.ok(scan, describePlan(plan));
      assert.ok(Number(scan['Actual Rows']) <= 10, `read ${String(scan['Actual Rows'])} rows:\n${describePlan(plan)}`);
    });
  });
});
