/**
 * Behind PgBouncer in transaction pooling mode (Debian's 1.18: no named
 * prepared statements there) with one or two server connections per pool:
 * many users' transactions interleave on the same server sessions, and
 * - every user sees and writes only their own rows,
 * - no user context (todo_chat.user_id, the app role, an open transaction) survives
 *   into the next transaction on a server connection, checked by a raw query
 *   through the pooler after every transaction,
 * - the isolation promises hold through it,
 * - every repository operation works through it,
 * - statement naming: off (namedStatements: false, as the store of this suite
 *   runs) the same calls work on either server connection and nothing is
 *   prepared on them; on (the default, for direct connections) a statement
 *   prepared on one server connection is unknown on the next (26000): why
 *   the option exists.
 *
 * Runs when tools/run-tests.ts started PgBouncer (TCDB_TEST_PGBOUNCER=1, as
 * .ci/run does); otherwise skips, saying so. Under CI it never skips.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { setImmediate as tick } from 'node:timers/promises';
import { before, describe, test } from 'node:test';
import type pg from 'pg';
import { createTestDatabase, onCleanup, rawPool, type TestDatabase } from '../helpers/db.js';
import { asAppRoleWithoutUser, asUser, tryStatement } from '../helpers/transaction.js';
import { pgbouncerAdmin, pgbouncerLoginRole, pgbouncerPoolSize, pgbouncerSkipReason, pgbouncerUrl } from '../helpers/pgbouncer.js';
import { ConflictError, DatabaseError, NotFoundError, createStore, type Store, type Transaction } from '../../src/index.js';

const skip = pgbouncerSkipReason();

interface ServerState {
  user_id: string | null;
  app_user_id: string | null;
  current_user: string;
  session_user: string;
  role: string;
  fresh_transaction: boolean;
  pid: number;
}

/**
 * What a query outside withUser finds on whichever server connection the
 * pooler hands it. A simple-protocol query (no parameters), so now() is this
 * statement's own transaction start unless a transaction was left open.
 */
async function serverState(pool: pg.Pool): Promise<ServerState> {
  const { rows } = await pool.query<ServerState>(
    `select current_setting('todo_chat.user_id', true) as user_id,
            todo_chat.current_user_id()::text as app_user_id,
            current_user::text as current_user,
            session_user::text as session_user,
            current_setting('role') as role,
            now() = statement_timestamp() as fresh_transaction,
            pg_backend_pid() as pid`,
  );
  return rows[0]!;
}

function assertNoContext(state: ServerState, loginRole: string, after: string): void {
  assert.ok(state.user_id === null || state.user_id === '', `todo_chat.user_id survived ${after}: ${JSON.stringify(state.user_id)}`);
  assert.equal(state.app_user_id, null, `todo_chat.current_user_id() after ${after}`);
  assert.equal(state.current_user, loginRole, `current_user after ${after}`);
  assert.equal(state.session_user, loginRole, `session_user after ${after}`);
  assert.equal(state.role, 'none', `the role setting after ${after}`);
  assert.equal(state.fresh_transaction, true, `a transaction was left open on the server connection after ${after}`);
}

const SUITE = 'through PgBouncer in transaction pooling mode';

// A skipped test (not a skipped suite) so that the run's summary counts it under `skipped`.
if (skip) test(SUITE, { skip }, () => undefined);
else describe(SUITE, () => {
  let db: TestDatabase;
  /** The store under test: ~20 client connections to PgBouncer, which has 1-2 server connections. */
  let store: Store;
  /** Raw clients through PgBouncer, outside any user context. */
  let raw: pg.Pool;
  let loginRole: string;
  let poolSize: number;

  before(async () => {
    db = await createTestDatabase();
    loginRole = pgbouncerLoginRole();
    poolSize = pgbouncerPoolSize();
    // PgBouncer 1.18 in transaction mode cannot carry prepared statements: the store sends unnamed ones.
    store = createStore({ connectionString: pgbouncerUrl(db.name), maxConnections: 20, namedStatements: false });
    raw = rawPool(pgbouncerUrl(db.name), 8);
    onCleanup(async () => {
      await store.close();
      await raw.end();
    });
  });

  test('PgBouncer runs in transaction mode with a pool of one or two server connections', async () => {
    const settings = new Map(
      (await pgbouncerAdmin<{ key: string; value: string }>('show config')).map((row) => [row.key, row.value]),
    );
    assert.equal(settings.get('pool_mode'), 'transaction');
    assert.equal(Number(settings.get('default_pool_size')), poolSize);
    assert.ok(poolSize >= 1 && poolSize <= 2, `pool size ${poolSize}`);
    assert.equal(Number(settings.get('reserve_pool_size')), 0);
    const health = await store.health();
    assert.equal(health.ok, true, JSON.stringify(health));
    assert.deepEqual(health.pendingMigrations, []);
  });

  test('50 users interleaved over the pooled server connections: own rows only, and no context survives a transaction', async () => {
    const USERS = 50;
    const ROUNDS = 6;
    const users = Array.from({ length: USERS }, () => crypto.randomUUID());
    const pids = new Set<number>();
    let checks = 0;
    const expectedTasks = new Map<string, string[]>();
    const expectedMessages = new Map<string, string[]>();

    async function check(after: string): Promise<void> {
      const state = await serverState(raw);
      assertNoContext(state, loginRole, after);
      pids.add(state.pid);
      checks++;
    }

    await Promise.all(
      users.map(async (userId, u) => {
        const titles: string[] = [];
        const contents: string[] = [];
        const conversationId = await store.withUser(userId, async (tx) => {
          await tx.users.ensure();
          return (await tx.conversations.create({ title: `chat of user ${u}` })).id;
        });
        await check(`user ${u}'s first transaction`);

        for (let round = 0; round < ROUNDS; round++) {
          const title = `user ${u} task ${round}`;
          const content = `user ${u} says ${round}`;
          // Every third user rolls back its round-2 transaction after writing: those writes must vanish.
          const rollBack = round === 2 && u % 3 === 0;
          // Every fifth user hits a database error (duplicate id) in round 4, then goes on.
          const conflict = round === 4 && u % 5 === 0;
          const outcome = store.withUser(userId, async (tx) => {
            const task = await tx.tasks.create({ title });
            await tick();
            await tx.messages.append(conversationId, { role: 'user', content });
            const tasks = await tx.tasks.list({ limit: 200 });
            const history = await tx.messages.history(conversationId, { limit: 500 });
            const conversations = await tx.conversations.list();
            if (conflict) await tx.tasks.create({ id: task.id, title: 'duplicate' });
            if (rollBack) throw new Error('deliberate rollback');
            return {
              tasks: tasks.items.map((t) => t.title),
              messages: history.items.map((m) => m.content),
              conversations: conversations.items.map((c) => c.id),
            };
          });
          if (rollBack) {
            await assert.rejects(outcome, /deliberate rollback/);
          } else if (conflict) {
            await assert.rejects(outcome, ConflictError);
          } else {
            const seen = await outcome;
            titles.push(title);
            contents.push(content);
            assert.deepEqual([...seen.tasks].sort(), [...titles].sort(), `user ${u} round ${round}: tasks`);
            assert.deepEqual(seen.messages, contents, `user ${u} round ${round}: history`);
            assert.deepEqual(seen.conversations, [conversationId], `user ${u} round ${round}: conversations`);
          }
          await check(`user ${u}'s round ${round}${rollBack ? ' (rolled back)' : conflict ? ' (failed)' : ''}`);
        }
        expectedTasks.set(userId, titles);
        expectedMessages.set(userId, contents);
      }),
    );

    // Where every row landed, as the superuser sees it on a direct connection.
    const tasks = await db.admin.query<{ user_id: string; title: string }>('select user_id, title from todo_chat.tasks order by created_at, title');
    const messages = await db.admin.query<{ user_id: string; content: string }>(
      'select m.user_id, m.content from todo_chat.messages m join todo_chat.conversations c on (c.id, c.user_id) = (m.conversation_id, m.user_id) order by m.conversation_id, m.position',
    );
    for (const userId of users) {
      assert.deepEqual(
        tasks.rows.filter((row) => row.user_id === userId).map((row) => row.title).sort(),
        [...expectedTasks.get(userId)!].sort(),
        `tasks stored under ${userId}`,
      );
      assert.deepEqual(
        messages.rows.filter((row) => row.user_id === userId).map((row) => row.content),
        expectedMessages.get(userId),
        `messages stored under ${userId}`,
      );
    }
    assert.equal(tasks.rowCount, [...expectedTasks.values()].reduce((sum, list) => sum + list.length, 0));

    // All of it really went through the pooler's one or two server sessions.
    assert.equal(checks, USERS * (ROUNDS + 1));
    assert.ok(pids.size <= poolSize, `raw checks ran on ${pids.size} server connections, pool size ${poolSize}`);
    const servers = (await pgbouncerAdmin<{ database: string }>('show servers')).filter((row) => row.database === db.name);
    assert.ok(servers.length <= poolSize, `${servers.length} server connections for ${db.name}`);
    const stats = (await pgbouncerAdmin<{ database: string; total_xact_count: string }>('show stats')).find(
      (row) => row.database === db.name,
    );
    assert.ok(stats, `PgBouncer has statistics for ${db.name}`);
    assert.ok(Number(stats.total_xact_count) >= USERS * (ROUNDS + 1) * 2, `transactions through PgBouncer: ${stats.total_xact_count}`);
  });

  describe('isolation between two users', () => {
    interface Owned {
      userId: string;
      taskId: string;
      conversationId: string;
      messageId: string;
      word: string;
    }
    let a: Owned;
    let b: Owned;

    async function seed(): Promise<Owned> {
      const userId = crypto.randomUUID();
      const word = `secret${crypto.randomBytes(4).toString('hex')}`;
      return store.withUser(userId, async (tx) => {
        await tx.users.ensure();
        const task = await tx.tasks.create({ title: `task ${word}` });
        const conversation = await tx.conversations.create({ title: `chat ${word}` });
        const message = await tx.messages.append(conversation.id, { role: 'user', content: `hello ${word}` });
        return { userId, taskId: task.id, conversationId: conversation.id, messageId: message.id, word };
      });
    }

    async function rowsOf(userId: string): Promise<unknown[]> {
      const result = [];
      for (const table of ['tasks', 'conversations', 'messages', 'tool_calls', 'tool_results']) {
        const order = table.startsWith('tool_') ? 'conversation_id, ordinal' : 'id';
        result.push((await db.admin.query(`select * from todo_chat.${table} where user_id = $1 order by ${order}`, [userId])).rows);
      }
      result.push((await db.admin.query('select * from todo_chat.users where id = $1', [userId])).rows);
      return result;
    }

    before(async () => {
      a = await seed();
      b = await seed();
    });

    test("A cannot read, change or delete B's rows through the store API: NotFoundError, and B's rows stay as they were", async () => {
      const before = await rowsOf(b.userId);
      // Each attempt in its own transaction: a refused write (a foreign key naming B's conversation) aborts it.
      const attempts: Record<string, (tx: Transaction) => Promise<unknown>> = {
        'tasks.get': (tx) => tx.tasks.get(b.taskId),
        'tasks.update': (tx) => tx.tasks.update(b.taskId, { title: 'stolen' }),
        'tasks.complete': (tx) => tx.tasks.complete(b.taskId),
        'tasks.reopen': (tx) => tx.tasks.reopen(b.taskId),
        'tasks.delete': (tx) => tx.tasks.delete(b.taskId),
        'conversations.get': (tx) => tx.conversations.get(b.conversationId),
        'conversations.rename': (tx) => tx.conversations.rename(b.conversationId, 'stolen'),
        'conversations.archive': (tx) => tx.conversations.archive(b.conversationId),
        'conversations.unarchive': (tx) => tx.conversations.unarchive(b.conversationId),
        'conversations.delete': (tx) => tx.conversations.delete(b.conversationId),
        'messages.append': (tx) => tx.messages.append(b.conversationId, { role: 'user', content: 'injected' }),
        'messages.appendTurn': (tx) =>
          tx.messages.appendTurn(b.conversationId, [
            { role: 'user', content: 'injected' },
            { role: 'assistant', content: 'injected' },
          ]),
        'messages.history': (tx) => tx.messages.history(b.conversationId),
        'messages.all': (tx) => tx.messages.all(b.conversationId),
      };
      for (const [name, attempt] of Object.entries(attempts)) {
        await assert.rejects(store.withUser(a.userId, attempt), NotFoundError, `${name} with B's id`);
        assertNoContext(await serverState(raw), loginRole, `A's ${name} with B's id`);
      }
      await store.withUser(a.userId, async (tx) => {
        assert.deepEqual((await tx.tasks.list()).items.map((t) => t.id), [a.taskId]);
        assert.deepEqual((await tx.conversations.list()).items.map((c) => c.id), [a.conversationId]);
        assert.deepEqual(await tx.messages.search(b.word), []);
        assert.deepEqual((await tx.messages.search(a.word)).map((hit) => hit.message.id), [a.messageId]);
        assert.equal((await tx.users.get()).id, a.userId);
        const exported = await tx.users.export();
        assert.deepEqual(exported.tasks.map((t) => t.id), [a.taskId]);
        assert.deepEqual(exported.conversations.map((c) => c.id), [a.conversationId]);
      });
      assert.deepEqual(await rowsOf(b.userId), before, "B's rows are unchanged");
      assertNoContext(await serverState(raw), loginRole, 'the cross-user attempts');
    });

    test("a raw client in A's context sees only A's rows and cannot write B's, and without a user sees nothing", async () => {
      const before = await rowsOf(b.userId);
      await asUser(raw, a.userId, async (client) => {
        for (const [table, column] of [
          ['users', 'id'],
          ['tasks', 'user_id'],
          ['conversations', 'user_id'],
          ['messages', 'user_id'],
        ] as const) {
          const { rows } = await client.query<{ owner: string }>(`select ${column} as owner from todo_chat.${table}`);
          assert.deepEqual(
            rows.map((row) => row.owner),
            [a.userId],
            `A sees exactly their own ${table}`,
          );
        }
        assert.deepEqual(await tryStatement(client, "update todo_chat.tasks set title = 'stolen' where id = $1", [b.taskId]), {
          code: 'ok',
          rowCount: 0,
        });
        assert.deepEqual(await tryStatement(client, 'delete from todo_chat.conversations where id = $1', [b.conversationId]), {
          code: 'ok',
          rowCount: 0,
        });
        const forged = await tryStatement(client, "insert into todo_chat.tasks (user_id, title) values ($1, 'forged')", [b.userId]);
        assert.notEqual(forged.code, 'ok', 'an insert naming B is refused');
        assert.equal(forged.rowCount, 0);
      });
      await asAppRoleWithoutUser(raw, async (client) => {
        for (const table of ['users', 'tasks', 'conversations', 'messages']) {
          const { rowCount } = await client.query(`select 1 from todo_chat.${table}`);
          assert.equal(rowCount, 0, `no user: no ${table}`);
        }
      });
      assert.deepEqual(await rowsOf(b.userId), before, "B's rows are unchanged");
      assertNoContext(await serverState(raw), loginRole, 'the raw client transactions');
    });
  });

  test('every repository operation works through the pooler', async () => {
    const userId = crypto.randomUUID();
    const ids = await store.withUser(userId, async (tx) => {
      const user = await tx.users.ensure();
      assert.equal(user.id, userId);
      assert.equal((await tx.users.ensure()).id, userId, 'ensure is idempotent');
      assert.equal((await tx.users.get()).id, userId);

      // tasks
      const first = await tx.tasks.create({ title: 'buy milk', description: 'semi-skimmed' });
      const second = await tx.tasks.create({ id: crypto.randomUUID(), title: 'call mum', completed: true });
      const third = await tx.tasks.create({ title: 'write report' });
      assert.equal((await tx.tasks.get(first.id)).description, 'semi-skimmed');
      const updated = await tx.tasks.update(first.id, { title: 'buy oat milk', expectedVersion: first.version });
      assert.equal(updated.title, 'buy oat milk');
      assert.equal(updated.version, first.version + 1);
      await assert.rejects(tx.tasks.update(first.id, { title: 'stale', expectedVersion: first.version }), ConflictError);
      return { first: first.id, second: second.id, third: third.id };
    });
    // The ConflictError above aborted nothing (no statement failed), but keep transactions short anyway.
    await store.withUser(userId, async (tx) => {
      const completed = await tx.tasks.complete(ids.first);
      assert.equal(completed.completed, true);
      assert.ok(completed.completedAt instanceof Date);
      const reopened = await tx.tasks.reopen(ids.first);
      assert.equal(reopened.completed, false);
      assert.equal(reopened.completedAt, null);
      const newest = await tx.tasks.list({ limit: 2 });
      assert.equal(newest.items.length, 2);
      assert.ok(newest.nextCursor);
      const rest = await tx.tasks.list({ limit: 2, cursor: newest.nextCursor });
      assert.equal(rest.items.length, 1);
      assert.equal(rest.nextCursor, null);
      assert.deepEqual(
        new Set([...newest.items, ...rest.items].map((t) => t.id)),
        new Set([ids.first, ids.second, ids.third]),
      );
      assert.deepEqual((await tx.tasks.list({ completed: true })).items.map((t) => t.id), [ids.second]);
      assert.equal((await tx.tasks.list({ order: 'oldest' })).items.length, 3);
      assert.equal((await tx.tasks.list({ order: 'oldest', completed: false })).items.length, 2);
      await tx.tasks.delete(ids.third);
      await assert.rejects(tx.tasks.get(ids.third), NotFoundError);
    });

    // conversations and messages
    const conversationId = await store.withUser(userId, async (tx) => {
      const conversation = await tx.conversations.create({ title: 'planning' });
      const other = await tx.conversations.create();
      assert.equal((await tx.conversations.get(conversation.id)).title, 'planning');
      assert.equal((await tx.conversations.rename(conversation.id, 'weekly planning')).title, 'weekly planning');
      assert.equal((await tx.conversations.rename(other.id, null)).title, null);
      assert.equal((await tx.conversations.archive(other.id)).status, 'archived');
      assert.deepEqual((await tx.conversations.list({ status: 'archived' })).items.map((c) => c.id), [other.id]);
      assert.equal((await tx.conversations.unarchive(other.id)).status, 'active');
      const page = await tx.conversations.list({ limit: 1 });
      assert.equal(page.items.length, 1);
      assert.ok(page.nextCursor);
      assert.equal((await tx.conversations.list({ limit: 1, cursor: page.nextCursor })).items.length, 1);
      await tx.conversations.delete(other.id);
      await assert.rejects(tx.conversations.get(other.id), NotFoundError);

      await tx.messages.append(conversation.id, { role: 'system', content: 'you are a todo assistant' });
      await tx.messages.append(conversation.id, { role: 'user', content: 'add a task: water the plants' });
      const turn = await tx.messages.appendTurn(conversation.id, [
        {
          role: 'assistant',
          content: '',
          toolCalls: [{ id: 'call_1', name: 'create_task', arguments: { title: 'water the plants', tags: ['home', 2, null] } }],
        },
        { role: 'tool', toolCallId: 'call_1', content: '{"ok":true}' },
        { role: 'assistant', content: 'Added "water the plants".' },
      ]);
      assert.deepEqual(
        turn.map((m) => m.role),
        ['assistant', 'tool', 'assistant'],
      );
      assert.deepEqual(turn[0]!.toolCalls, [
        { id: 'call_1', name: 'create_task', arguments: { title: 'water the plants', tags: ['home', 2, null] } },
      ]);
      return conversation.id;
    });

    await store.withUser(userId, async (tx) => {
      const all = await tx.messages.all(conversationId);
      assert.deepEqual(
        all.map((m) => m.role),
        ['system', 'user', 'assistant', 'tool', 'assistant'],
      );
      // The last 2 would start with the tool result, so the page reaches back to its call.
      const last = await tx.messages.history(conversationId, { limit: 2 });
      assert.deepEqual(
        last.items.map((m) => m.role),
        ['assistant', 'tool', 'assistant'],
      );
      assert.ok(last.before);
      const older = await tx.messages.history(conversationId, { limit: 10, before: last.before });
      assert.deepEqual(
        older.items.map((m) => m.role),
        ['system', 'user'],
      );
      assert.equal(older.before, null);
      const hits = await tx.messages.search('plants');
      assert.ok(hits.length >= 1);
      assert.ok(hits.every((hit) => hit.message.conversationId === conversationId));
      assert.equal((await tx.messages.search('plants', { conversationId, limit: 1 })).length, 1);
      assert.ok((await tx.conversations.get(conversationId)).updatedAt instanceof Date);

      // SDK items, a retried append, replace, pop, clear, batches and the audit, through the pooler too.
      const item = { type: 'function_call', id: 'fc_1', callId: 'call_2', name: 'list_tasks', arguments: '{}', status: 'completed' };
      const [stored] = await tx.messages.appendTurn(conversationId, [{ id: 'fc_1', format: 'openai-agents', item }]);
      const [retried] = await tx.messages.appendTurn(conversationId, [{ id: 'fc_1', format: 'openai-agents', item }]);
      assert.deepEqual(retried, stored, 'a retried append returns what is stored');
      await tx.messages.append(conversationId, {
        format: 'ai-sdk',
        item: { id: 'ui_1', role: 'assistant', parts: [{ type: 'tool-list_tasks', toolCallId: 'call_3', state: 'output-available', input: {}, output: [] }] },
      });
      assert.deepEqual((await tx.messages.get(conversationId, 'fc_1')).item, item);
      assert.equal((await tx.messages.replace(conversationId, 'ui_1', { role: 'assistant', content: 'none left' })).position, 7);
      assert.deepEqual((await tx.messages.pop(conversationId)).map((m) => m.id), ['ui_1']);
      const batches: number[][] = [];
      for await (const batch of tx.messages.batches(conversationId, { batchSize: 4 })) batches.push(batch.map((m) => m.position));
      assert.deepEqual(batches, [[1, 2, 3, 4], [5, 6]]);
      assert.deepEqual(
        (await tx.toolCalls.list({ conversationId })).items.map((call) => [call.callId, call.results.length > 0]),
        [['call_1', true], ['call_2', false], ['call_3', true]],
        'the audit keeps the popped message\'s call and result',
      );

      // Usage per turn, through the pooler: a record, its retry, the sums.
      const run = { id: 'resp_1', model: 'gpt-test', requests: 2, inputTokens: 30, outputTokens: 4 };
      const recorded = await tx.usage.record(conversationId, run);
      assert.deepEqual(await tx.usage.record(conversationId, run), recorded, 'a retried record returns what is stored');
      assert.deepEqual(await tx.usage.total({ conversationId }), {
        runs: 1,
        requests: 2,
        inputTokens: 30,
        outputTokens: 4,
        byModel: [{ model: 'gpt-test', runs: 1, requests: 2, inputTokens: 30, outputTokens: 4 }],
      });

      const exported = await tx.users.export();
      assert.equal(exported.format, 'todo-chat-db/export@3');
      assert.deepEqual(exported.usage, [recorded]);
      assert.equal(exported.user.id, userId);
      assert.equal(exported.tasks.length, 2);
      assert.equal(exported.conversations.length, 1);
      assert.equal(exported.conversations[0]!.messages.length, 6);
      assert.equal(exported.toolCalls.length, 3);
      // The export is one JSON document.
      assert.equal(JSON.parse(JSON.stringify(exported)).conversations[0].messages[3].toolCallId, 'call_1');
      const chunks: string[] = [];
      for await (const chunk of tx.users.exportBatches()) chunks.push(chunk.type);
      assert.deepEqual(chunks, ['user', 'tasks', 'conversation', 'messages', 'toolCalls', 'usage']);
      assert.equal(await tx.messages.clear(conversationId), 6);
      assert.deepEqual((await tx.messages.history(conversationId)).items, []);
    });

    await store.withUser(userId, async (tx) => {
      await tx.users.delete();
      await assert.rejects(tx.users.get(), NotFoundError);
    });
    for (const table of ['tasks', 'conversations', 'messages', 'tool_calls', 'tool_results']) {
      const { rowCount } = await db.admin.query(`select 1 from todo_chat.${table} where user_id = $1`, [userId]);
      assert.equal(rowCount, 0, `deleting the user removed their ${table}`);
    }
    assertNoContext(await serverState(raw), loginRole, 'the repository operations');
  });

  describe('statement naming through the pooler', () => {
    /**
     * Runs fn inside a raw transaction that PgBouncer gave the server
     * connection `pid`: another raw client holds the other server connection
     * meanwhile if it came first, and is let go before fn runs, so that whatever
     * fn sends outside this transaction goes to the other one.
     */
    async function onServer<T>(pid: number, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
      const held: pg.PoolClient[] = [];
      const letGo = async (client: pg.PoolClient) => {
        await client.query('rollback').catch(() => undefined);
        client.release();
      };
      try {
        for (let i = 0; i < poolSize; i++) {
          const client = await raw.connect();
          held.push(client);
          await client.query('begin');
          const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
          if (rows[0]!.pid !== pid) continue;
          while (held.length > 1) await letGo(held.shift()!);
          return await fn(client);
        }
        throw new Error(`PgBouncer did not hand out server connection ${pid}`);
      } finally {
        for (const client of held) await letGo(client);
      }
    }

    /** The pids of the pool's two server connections, each seen by a transaction held open at the same time. */
    async function serverPids(): Promise<[number, number]> {
      const a = await raw.connect();
      const b = await raw.connect();
      try {
        await a.query('begin');
        await b.query('begin');
        const pid = async (client: pg.PoolClient) => (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
        return [await pid(a), await pid(b)];
      } finally {
        for (const client of [a, b]) {
          await client.query('rollback').catch(() => undefined);
          client.release();
        }
      }
    }

    const ours = "select name from pg_catalog.pg_prepared_statements where name like 'tcdb\\_%' order by name";
    const twoServers = pgbouncerPoolSize() >= 2 ? false : 'needs a PgBouncer pool of two server connections (TCDB_TEST_PGBOUNCER_POOL_SIZE=2, the default)';

    test('off (namedStatements: false, as this suite runs): the same calls on either server connection, and nothing prepared on them', { skip: twoServers }, async () => {
      const [first, second] = await serverPids();
      assert.notEqual(first, second);
      const off = createStore({ connectionString: pgbouncerUrl(db.name), maxConnections: 1, namedStatements: false });
      onCleanup(() => off.close());
      const userId = crypto.randomUUID();
      const conversationId = await off.withUser(userId, async (tx) => {
        await tx.users.ensure();
        const conversation = await tx.conversations.create({ title: 'named off' });
        await tx.messages.appendTurn(conversation.id, [
          { role: 'user', content: 'question' },
          { role: 'assistant', toolCalls: [{ id: 'call_off', name: 'add_task', arguments: {} }] },
          { role: 'tool', toolCallId: 'call_off', content: 'result' },
        ]);
        return conversation.id;
      });
      // The same statements, once on each server connection: the second must not rely on the first.
      const pages = [];
      for (const [held, used] of [[second, first], [first, second]] as const) {
        pages.push(
          await onServer(held, async () => {
            const page = await off.withUser(userId, (tx) => tx.messages.history(conversationId, { limit: 2 }));
            assertNoContext(await serverState(raw), loginRole, `a history read on server connection ${used}`);
            return page.items.map((m) => m.role);
          }),
        );
      }
      assert.deepEqual(pages, [['assistant', 'tool'], ['assistant', 'tool']], 'the page reaches back to the call on either connection');
      for (const pid of [first, second]) {
        assert.deepEqual((await onServer(pid, (client) => client.query(ours))).rows, [], `nothing of ours is prepared on server connection ${pid}`);
      }
    });

    test('on (the default, right for direct connections): a statement prepared on one server connection is unknown on the next, which is why the suite turns it off', { skip: twoServers }, async () => {
      const [first, second] = await serverPids();
      const on = createStore({ connectionString: pgbouncerUrl(db.name), maxConnections: 1 });
      onCleanup(() => on.close());
      const userId = crypto.randomUUID();
      const conversationId = await on.withUser(userId, async (tx) => {
        await tx.users.ensure();
        return (await tx.conversations.create({ title: 'named on' })).id;
      });
      // The history, prepared on `first` while `second` is held...
      await onServer(second, () => on.withUser(userId, (tx) => tx.messages.history(conversationId)));
      const prepared = (await onServer(first, (client) => client.query<{ name: string }>(ours))).rows.map((row) => row.name);
      assert.ok(prepared.length >= 1, 'the store prepared its statements on the server connection it was given');
      // ...and then sent to `second` as a bind of a statement that connection never saw.
      await onServer(first, () =>
        assert.rejects(
          on.withUser(userId, (tx) => tx.messages.history(conversationId)),
          (error: unknown) => error instanceof DatabaseError && error.sqlState === '26000',
        ),
      );
      assertNoContext(await serverState(raw), loginRole, 'the failed named statement');
      // Leave the server connections as the rest of the suite expects them: nothing of ours prepared
      // (PgBouncer closed `second`, which the store dropped in a failed transaction: ask again).
      for (const pid of await serverPids()) await onServer(pid, (client) => client.query('deallocate all'));
    });
  });

  test('control: a session-level setting, which the library never makes, would leak to other clients through the pooler, and the check sees it', async () => {
    // Proves the checks above are not vacuous: PgBouncer really hands one
    // client's server session to the next client.
    const forged = crypto.randomUUID();
    const client = await raw.connect();
    try {
      await client.query(`select set_config('todo_chat.user_id', '${forged}', false)`);
    } finally {
      client.release();
    }
    let leaked = false;
    for (let attempt = 0; attempt < 50 && !leaked; attempt++) {
      const others = await Promise.all(Array.from({ length: 4 }, () => serverState(raw)));
      leaked = others.some((state) => state.user_id === forged);
    }
    assert.ok(leaked, 'a session-level set_config through PgBouncer reached another client');

    // Put the pool back: PgBouncer closes the server connections as they are released.
    await pgbouncerAdmin(`reconnect ${db.name}`);
    for (let attempt = 0; attempt < 50; attempt++) {
      const states = await Promise.all(Array.from({ length: 4 }, () => serverState(raw)));
      if (states.every((state) => state.user_id === null || state.user_id === '')) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    for (let i = 0; i < 8; i++) assertNoContext(await serverState(raw), loginRole, 'RECONNECT');
  });
});
