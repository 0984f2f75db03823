/**
 * Usage per turn (tx.usage, migration 0012): what each run cost is recorded
 * against its conversation and turn, summed per conversation and per user,
 * per model, over a time window; recording a run again is a retry, not a
 * second run; records outlive their conversation but not their user; they
 * are in the user's export; the down file of 0012 refuses to drop them
 * unless told; and the sums and the export read their indexes under
 * row-level security, for a heavy user among 2,000.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, test } from 'node:test';
import pg from 'pg';
import { createTestDatabase, onCleanup } from '../helpers/db.js';
import { snapshotRows } from '../helpers/snapshots.js';
import { asUser } from '../helpers/transaction.js';
import { assertOrderedIndexScan, describePlan, explainQuery, planNodes, type PlanNode } from '../helpers/plans.js';
import * as uq from '../../src/queries/usage.queries.js';
import { ConflictError, MigrationError, NotFoundError, ValidationError, type QueryEvent, type UsageRecord } from '../../src/index.js';
import { migrateDown, migrateUp } from '../../src/migrate/index.js';

const db = await createTestDatabase();
const events: QueryEvent[] = [];
const store = db.store({ onQuery: (event) => events.push(event) });

async function userWithConversation(): Promise<{ user: string; conversationId: string }> {
  const user = await db.createUser();
  const conversation = await store.withUser(user, (tx) => tx.conversations.create());
  return { user, conversationId: conversation.id };
}

const run = (model: string, requests: number, inputTokens: number, outputTokens: number) => ({ model, requests, inputTokens, outputTokens });

describe('tx.usage', () => {
  test('record returns the record; total sums per model and in all, per conversation and per user', async () => {
    const { user, conversationId } = await userWithConversation();
    const other = (await store.withUser(user, (tx) => tx.conversations.create())).id;
    const recorded = await store.withUser(user, async (tx) => {
      const message = await tx.messages.append(conversationId, { role: 'assistant', content: 'answer' });
      return [
        await tx.usage.record(conversationId, { ...run('gpt-b', 2, 100, 10), messageId: message.id }),
        await tx.usage.record(conversationId, run('gpt-a', 1, 50, 5)),
        await tx.usage.record(other, run('gpt-b', 3, 1_000, 100)),
      ];
    });
    assert.match(recorded[1]!.id, /^[0-9a-f-]{36}$/, 'a uuid when the caller gives no id');
    assert.equal(recorded[0]!.messageId, (await store.withUser(user, (tx) => tx.messages.all(conversationId)))[0]!.id);
    assert.equal(recorded[1]!.messageId, null);
    assert.ok(recorded.every((r) => r.createdAt instanceof Date));

    const byConversation = await store.withUser(user, (tx) => tx.usage.total({ conversationId }));
    assert.deepEqual(byConversation, {
      runs: 2,
      requests: 3,
      inputTokens: 150,
      outputTokens: 15,
      byModel: [
        { model: 'gpt-a', runs: 1, requests: 1, inputTokens: 50, outputTokens: 5 },
        { model: 'gpt-b', runs: 1, requests: 2, inputTokens: 100, outputTokens: 10 },
      ],
    });
    const byUser = await store.withUser(user, (tx) => tx.usage.total());
    assert.deepEqual([byUser.runs, byUser.requests, byUser.inputTokens, byUser.outputTokens], [3, 6, 1_150, 115]);
    assert.deepEqual(byUser.byModel.map((m) => [m.model, m.runs]), [['gpt-a', 1], ['gpt-b', 2]]);
    // A conversation without runs counts zero; nobody else's runs count.
    const empty = (await store.withUser(user, (tx) => tx.conversations.create())).id;
    assert.deepEqual(await store.withUser(user, (tx) => tx.usage.total({ conversationId: empty })), { runs: 0, requests: 0, inputTokens: 0, outputTokens: 0, byModel: [] });
    const stranger = await db.createUser();
    assert.deepEqual(await store.withUser(stranger, (tx) => tx.usage.total()), { runs: 0, requests: 0, inputTokens: 0, outputTokens: 0, byModel: [] });
  });

  test('a time window: since (inclusive) and until (exclusive)', async () => {
    const { user, conversationId } = await userWithConversation();
    const records: UsageRecord[] = [];
    for (let i = 0; i < 3; i++) {
      records.push(await store.withUser(user, (tx) => tx.usage.record(conversationId, run('m', 1, 10 ** i, 0))));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const total = (since?: Date, until?: Date) =>
      store.withUser(user, async (tx) => (await tx.usage.total({ ...(since ? { since } : {}), ...(until ? { until } : {}) })).inputTokens);
    assert.equal(await total(), 111);
    assert.equal(await total(records[1]!.createdAt), 110);
    assert.equal(await total(undefined, records[1]!.createdAt), 1);
    assert.equal(await total(records[1]!.createdAt, records[2]!.createdAt), 10);
    assert.equal(await total(new Date(Date.now() + 86_400_000)), 0);
    for (const bad of [{ since: new Date('x') }, { until: new Date('0000-06-01T00:00:00Z') }, { since: '2026-01-01' }, { month: 1 }]) {
      await assert.rejects(store.withUser(user, (tx) => tx.usage.total(bad as never)), ValidationError, JSON.stringify(bad));
    }
  });

  test('recording the same id again returns the stored record (a retry); different values are a ConflictError and change nothing', async () => {
    const { user, conversationId } = await userWithConversation();
    const first = await store.withUser(user, (tx) => tx.usage.record(conversationId, { ...run('m', 1, 5, 5), id: 'resp_123' }));
    const again = await store.withUser(user, (tx) => tx.usage.record(conversationId, { ...run('m', 1, 5, 5), id: 'resp_123' }));
    assert.deepStrictEqual(again, first);
    const before = await snapshotRows(db.admin, [user]);
    await assert.rejects(store.withUser(user, (tx) => tx.usage.record(conversationId, { ...run('m', 1, 5, 6), id: 'resp_123' })), ConflictError);
    const elsewhere = (await store.withUser(user, (tx) => tx.conversations.create())).id;
    await assert.rejects(store.withUser(user, (tx) => tx.usage.record(elsewhere, { ...run('m', 1, 5, 5), id: 'resp_123' })), ConflictError);
    assert.deepEqual({ ...(await snapshotRows(db.admin, [user])), conversations: [] }, { ...before, conversations: [] });
    // Ids are the user's own: another user may use the same one.
    const { user: other, conversationId: theirs } = await userWithConversation();
    const theirRecord = await store.withUser(other, (tx) => tx.usage.record(theirs, { ...run('x', 9, 9, 9), id: 'resp_123' }));
    assert.equal(theirRecord.model, 'x');
    // A conflict leaves the transaction usable (nothing failed on the server).
    await store.withUser(user, async (tx) => {
      await assert.rejects(tx.usage.record(conversationId, { ...run('m', 2, 5, 5), id: 'resp_123' }), ConflictError);
      await tx.usage.record(conversationId, run('m', 1, 1, 1));
    });
    assert.equal((await store.withUser(user, (tx) => tx.usage.total())).runs, 2);
  });

  test("another user's conversation (or none) is a NotFoundError, and the transaction stays usable", async () => {
    const { user } = await userWithConversation();
    const { conversationId: theirs } = await userWithConversation();
    for (const conversationId of [theirs, crypto.randomUUID()]) {
      await store.withUser(user, async (tx) => {
        await assert.rejects(tx.usage.record(conversationId, run('m', 1, 1, 1)), (e: unknown) => e instanceof NotFoundError && e.entity === 'conversation');
        await assert.rejects(tx.usage.record(conversationId, { ...run('m', 1, 1, 1), id: 'x' }), (e: unknown) => e instanceof NotFoundError && e.entity === 'conversation');
        await assert.rejects(tx.usage.total({ conversationId }), (e: unknown) => e instanceof NotFoundError && e.entity === 'conversation');
        await tx.tasks.create({ title: 'still usable' });
      });
    }
  });

  test('invalid input is a ValidationError before any query', async () => {
    const { user, conversationId } = await userWithConversation();
    const bad: unknown[] = [
      {},
      run('', 1, 1, 1),
      run('m', -1, 1, 1),
      run('m', 1, 1.5, 1),
      run('m', 1, 1, Number.MAX_SAFE_INTEGER + 2),
      run('m', 1, Number.NaN, 1),
      { ...run('m', 1, 1, 1), id: '' },
      { ...run('m', 1, 1, 1), id: 'x'.repeat(256) },
      { ...run('m', 1, 1, 1), messageId: 'x'.repeat(256) },
      { ...run('m\u0000', 1, 1, 1) },
      { ...run('m', 1, 1, 1), cost: 0.5 },
      '1 run',
    ];
    for (const input of bad) {
      events.length = 0;
      await assert.rejects(store.withUser(user, (tx) => tx.usage.record(conversationId, input as never)), ValidationError, JSON.stringify(input));
      assert.deepEqual(events.filter((e) => e.query.includes('Usage')), [], 'no usage query ran');
    }
    await assert.rejects(store.withUser(user, (tx) => tx.usage.record('not-a-uuid', run('m', 1, 1, 1))), ValidationError);
  });

  test('records outlive their conversation (its id becomes null; the user total keeps them) and go with their user', async () => {
    const { user, conversationId } = await userWithConversation();
    await store.withUser(user, (tx) => tx.usage.record(conversationId, { ...run('m', 2, 20, 2), id: 'kept' }));
    await store.withUser(user, (tx) => tx.conversations.delete(conversationId));
    const { rows } = await db.admin.query('select id, conversation_id from todo_chat.turn_usage where user_id = $1', [user]);
    assert.deepEqual(rows, [{ id: 'kept', conversation_id: null }]);
    assert.deepEqual(await store.withUser(user, async (tx) => (await tx.usage.total()).requests), 2);
    await assert.rejects(store.withUser(user, (tx) => tx.usage.total({ conversationId })), NotFoundError);
    // A new conversation under the same id does not inherit them.
    await store.withUser(user, (tx) => tx.conversations.create({ id: conversationId }));
    assert.equal((await store.withUser(user, (tx) => tx.usage.total({ conversationId }))).runs, 0);
    await store.withUser(user, (tx) => tx.users.delete());
    assert.deepEqual((await db.admin.query('select count(*)::int as n from todo_chat.turn_usage where user_id = $1', [user])).rows, [{ n: 0 }]);
  });

  test("the user's export holds every record, oldest first, in batches of at most 200", async () => {
    const { user, conversationId } = await userWithConversation();
    await store.withUser(user, async (tx) => {
      for (let i = 0; i < 230; i++) await tx.usage.record(conversationId, { ...run(`m${i % 3}`, 1, i, i), id: `run-${String(i).padStart(3, '0')}` });
    });
    const exported = await store.withUser(user, (tx) => tx.users.export());
    assert.equal(exported.format, 'todo-chat-db/export@3');
    assert.equal(exported.usage.length, 230);
    assert.deepEqual(
      exported.usage.map((r) => r.id),
      [...exported.usage].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1)).map((r) => r.id),
    );
    assert.deepEqual(new Set(exported.usage.map((r) => r.id)).size, 230);
    const chunks = await store.withUser(user, async (tx) => {
      const sizes: number[] = [];
      for await (const chunk of tx.users.exportBatches()) if (chunk.type === 'usage') sizes.push(chunk.usage.length);
      return sizes;
    });
    assert.deepEqual(chunks, [200, 30]);
  });
});

describe('migration 0012', () => {
  test('its down file refuses while usage records exist, changing nothing; allowed, it drops them; up brings the table back', async () => {
    const own = await createTestDatabase();
    const client = new pg.Client({ connectionString: own.url });
    client.on('error', () => undefined);
    await client.connect();
    onCleanup(() => client.end().catch(() => undefined));
    const ownStore = own.store();
    const user = await own.createUser();
    await ownStore.withUser(user, async (tx) => tx.usage.record((await tx.conversations.create()).id, run('m', 1, 1, 1)));
    await assert.rejects(migrateDown(client, 1), (error: unknown) => error instanceof MigrationError && /would lose 1 usage record/.test(error.message));
    assert.deepEqual((await client.query('select count(*)::int as n from todo_chat.turn_usage')).rows, [{ n: 1 }]);
    const reverted = await migrateDown(client, 1, { allowDataLoss: true });
    assert.deepEqual(reverted.map((r) => r.fileName), ['0012_create_turn_usage.sql']);
    assert.deepEqual((await client.query("select to_regclass('todo_chat.turn_usage') as t")).rows, [{ t: null }]);
    await migrateUp(client);
    assert.deepEqual((await client.query('select count(*)::int as n from todo_chat.turn_usage')).rows, [{ n: 0 }]);
  });
});

/**
 * A sum reads every run of its window, whatever the plan: what matters is that it reads them
 * through the user's range of one of `indexes` (an index or bitmap scan whose condition fixes
 * user_id), never by scanning the table with everybody's runs. Sorting the groups (one per
 * model) is fine.
 */
function assertReadsThrough(plan: PlanNode, name: string, indexes: string[]): void {
  const reads = planNodes(plan).filter((node) => node['Relation Name'] === 'turn_usage');
  const text = `${name}:\n${describePlan(plan)}`;
  assert.ok(reads.length > 0, text);
  for (const node of reads) {
    assert.match(node['Node Type'], /^(Index (Only )?Scan|Bitmap Heap Scan)$/, text);
    const scan = node['Node Type'] === 'Bitmap Heap Scan' ? planNodes(node).find((child) => child['Node Type'] === 'Bitmap Index Scan') : node;
    assert.ok(indexes.includes(String(scan?.['Index Name'])), text);
    assert.match(String(scan?.['Index Cond']), /\buser_id = /, `the index condition fixes the user: ${text}`);
  }
}

describe('the usage queries under row-level security, with the statistics of 2,000 users and a heavy one', () => {
  test('a user\'s sums read their range of turn_usage_user_time_idx, a conversation\'s of turn_usage_conversation_idx, the export pages in index order', async () => {
    const plans = await createTestDatabase();
    const [heavy, ...ordinary] = await plans.createUsers(2001);
    await plans.admin.query(
      `with c as (insert into todo_chat.conversations (user_id) select u from unnest($1::uuid[]) as u returning user_id, id)
       insert into todo_chat.turn_usage (user_id, conversation_id, model, requests, input_tokens, output_tokens, created_at)
       select c.user_id, c.id, 'm', 1, 10, 1, now() - g * interval '1 day' from c, generate_series(1, 5) as g`,
      [ordinary],
    );
    const conversation = (await plans.admin.query<{ id: string }>('insert into todo_chat.conversations (user_id) values ($1) returning id', [heavy])).rows[0]!.id;
    const other = (await plans.admin.query<{ id: string }>('insert into todo_chat.conversations (user_id) values ($1) returning id', [heavy])).rows[0]!.id;
    await plans.admin.query(
      `insert into todo_chat.turn_usage (user_id, conversation_id, model, requests, input_tokens, output_tokens, created_at)
       select $1, case when g % 10 = 0 then $2::uuid else $3::uuid end, 'm' || (g % 4), 1, g, 1, now() - g * interval '1 minute' from generate_series(1, 20000) as g`,
      [heavy, conversation, other],
    );
    await plans.admin.query('vacuum analyze todo_chat.turn_usage');
    await asUser(plans.admin, heavy!, async (client) => {
      const day = { since: new Date(Date.now() - 86_400_000), until: new Date() };
      assertReadsThrough(await explainQuery(client, uq.sumUserUsage, { userId: heavy!, ...day }), 'SumUserUsage, one day of the heavy user', ['turn_usage_user_time_idx']);
      const ordinaryMonth = { since: new Date(Date.now() - 30 * 86_400_000), until: new Date() };
      await client.query("select set_config('todo_chat.user_id', $1, true)", [ordinary[0]]);
      // Five runs: every index of the table starts with user_id, and the planners differ on which to read them by
      // (PostgreSQL 15 takes turn_usage_conversation_idx, 18 turn_usage_user_time_idx); each reads that user's range alone.
      assertReadsThrough(await explainQuery(client, uq.sumUserUsage, { userId: ordinary[0]!, ...ordinaryMonth }), 'SumUserUsage, a month of an ordinary user', [
        'turn_usage_user_time_idx',
        'turn_usage_conversation_idx',
        'turn_usage_pkey',
      ]);
      await client.query("select set_config('todo_chat.user_id', $1, true)", [heavy]);
      assertReadsThrough(
        await explainQuery(client, uq.sumConversationUsage, { userId: heavy!, conversationId: conversation, since: '-infinity', until: 'infinity' }),
        "SumConversationUsage, a tenth of the heavy user's runs",
        ['turn_usage_conversation_idx'],
      );
      assertOrderedIndexScan(await explainQuery(client, uq.exportUsage, { userId: heavy!, cursorAt: '-infinity', cursorId: '', limit: 200 }), {
        name: 'ExportUsage, the first page of the heavy user',
        relation: 'turn_usage',
        indexes: ['turn_usage_user_time_idx'],
        direction: 'Forward',
      });
    });
  });
});
