import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, test } from 'node:test';
import { createTestDatabase, onCleanup, rawPool } from '../helpers/db.js';
import { startTcpProxy, targetOf } from '../helpers/tcp-proxy.js';
import {
  CommitOutcomeUnknownError,
  SerializationFailureError,
  createStore,
  type NewMessage,
  type Store,
} from '../../src/index.js';

/*
 * Retries that are safe by construction: real deadlocks (40P01) and
 * serialization failures (40001) rerun the whole callback (and fail once with
 * retries off); pooled connections the server ended are replaced before the
 * callback runs; a connection lost during COMMIT is its own error, never
 * retried by the library, and resolved by an idempotent retry.
 */

const db = await createTestDatabase();

function closeLater(store: Store): Store {
  onCleanup(() => store.close());
  return store;
}

/** A promise both callers wait on until both have arrived. */
function barrier(parties: number): () => Promise<void> {
  let arrived = 0;
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return async () => {
    if (++arrived >= parties) open();
    await opened;
  };
}

describe('deadlocks and serialization failures', () => {
  /** Two transactions that lock two tasks in opposite orders: one of them is the deadlock's loser (40P01). */
  async function deadlock(store: Store, options?: { retry: false }) {
    const user = await db.createUser();
    const [first, second] = await store.withUser(user, async (tx) => [await tx.tasks.create({ title: 'one' }), await tx.tasks.create({ title: 'two' })]);
    const bothHoldOne = barrier(2);
    let runs = 0;
    const crossing = (mine: string, theirs: string, label: string) =>
      store.withUser(
        user,
        async (tx) => {
          const run = ++runs;
          await tx.tasks.update(mine, { description: `${label} run ${run}` });
          if (run <= 2) await bothHoldOne();
          await tx.tasks.update(theirs, { description: `${label} run ${run}` });
          return label;
        },
        options,
      );
    const outcomes = await Promise.allSettled([crossing(first!.id, second!.id, 'a'), crossing(second!.id, first!.id, 'b')]);
    return { outcomes, runs: () => runs };
  }

  test('a real deadlock (40P01): the loser runs again and both succeed', async () => {
    const store = closeLater(db.store());
    const { outcomes, runs } = await deadlock(store);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['fulfilled', 'fulfilled'],
      String(outcomes.map((o) => (o.status === 'rejected' ? o.reason : 'ok'))),
    );
    assert.equal(runs(), 3, 'the loser ran twice');
  });

  test('with retries off (per call, or per store) the deadlock is a SerializationFailureError, once', async () => {
    for (const [store, options] of [
      [closeLater(db.store()), { retry: false as const }],
      [closeLater(db.store({ retry: false })), undefined],
    ] as const) {
      const { outcomes, runs } = await deadlock(store, options);
      const failed = outcomes.filter((o) => o.status === 'rejected');
      assert.equal(failed.length, 1);
      const reason = (failed[0] as PromiseRejectedResult).reason as SerializationFailureError;
      assert.ok(reason instanceof SerializationFailureError && reason.sqlState === '40P01' && reason.retryable, String(reason));
      assert.equal(runs(), 2);
    }
  });

  test('a real serialization failure (40001 under repeatable read) reruns the callback to success; retries off: fails once', async () => {
    for (const retry of [true, false]) {
      const pool = rawPool(db.url, 4);
      // Every transaction of this pool runs under repeatable read, as a database configured so would.
      pool.options.options = '-c default_transaction_isolation=repeatable\\ read';
      const store = closeLater(createStore({ pool, retry: retry ? {} : false }));
      const user = await db.createUser();
      const task = await store.withUser(user, (tx) => tx.tasks.create({ title: 'counter', description: '0' }));
      const bothRead = barrier(2);
      let runs = 0;
      const increment = () =>
        store.withUser(user, async (tx) => {
          const run = ++runs;
          const current = await tx.tasks.get(task.id);
          if (run <= 2) await bothRead();
          return tx.tasks.update(task.id, { description: String(Number(current.description) + 1) });
        });
      const outcomes = await Promise.allSettled([increment(), increment()]);
      const stored = await store.withUser(user, (tx) => tx.tasks.get(task.id));
      if (retry) {
        assert.deepEqual(
          outcomes.map((o) => o.status),
          ['fulfilled', 'fulfilled'],
        );
        assert.equal(runs, 3);
        assert.equal(stored.description, '2', 'no lost update: the rerun read the first one');
      } else {
        const failed = outcomes.filter((o) => o.status === 'rejected');
        assert.equal(failed.length, 1);
        const reason = (failed[0] as PromiseRejectedResult).reason as SerializationFailureError;
        assert.ok(reason instanceof SerializationFailureError && reason.sqlState === '40001', String(reason));
        assert.equal(runs, 2);
        assert.equal(stored.description, '1');
      }
    }
  });
});

describe('pooled connections the server ended', () => {
  test('right after the server ends every idle backend, every call succeeds', async () => {
    const appName = `killed-${crypto.randomUUID().slice(0, 8)}`;
    const url = new URL(db.url);
    url.searchParams.set('application_name', appName);
    const store = closeLater(createStore({ connectionString: url.toString(), maxConnections: 10 }));
    const users = await db.createUsers(20);
    // Fill the pool: ten connections, all idle afterwards.
    await Promise.all(Array.from({ length: 10 }, (_, i) => store.withUser(users[i]!, async (tx) => {
      await tx.tasks.list();
      await new Promise((resolve) => setTimeout(resolve, 50));
    })));
    const pidsOf = async () =>
      (await db.admin.query<{ pid: number }>('select pid from pg_stat_activity where application_name = $1', [appName])).rows.map((r) => r.pid);
    const before = await pidsOf();
    assert.equal(before.length, 10);
    const killed = await db.admin.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [appName]);
    assert.equal(killed.rowCount, 10);

    const outcomes = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) => store.withUser(users[i % users.length]!, (tx) => tx.tasks.create({ title: `after the kill ${i}` }))),
    );
    const failures = outcomes.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason));
    assert.deepEqual(failures, []);
    const after = await pidsOf();
    assert.ok(after.length > 0 && after.every((pid) => !before.includes(pid)), 'every connection is a new one');
    const count = await db.admin.query<{ n: string }>("select count(*) as n from todo_chat.tasks where title like 'after the kill %' and user_id = any($1)", [users]);
    assert.equal(count.rows[0]!.n, '200');
  });
});

describe('a connection lost during COMMIT', () => {
  for (const when of ['after', 'before'] as const) {
    test(`cut ${when} the server receives COMMIT: CommitOutcomeUnknownError, not retryable, run once; an idempotent retry writes exactly once`, async () => {
      const proxy = await startTcpProxy(targetOf(db.url));
      const store = closeLater(createStore({ connectionString: proxy.urlThrough(db.url) }));
      const user = await db.createUser();
      const chat = await store.withUser(user, (tx) => tx.conversations.create({ title: 'retried' }));

      const taskId = crypto.randomUUID();
      let runs = 0;
      const createTask = () =>
        store.withUser(user, (tx) => {
          runs++;
          return tx.tasks.create({ id: taskId, title: 'exactly once' });
        });
      const cut = proxy.cutAtNextCommit(when);
      const lost = await createTask().then(
        () => assert.fail('the commit was cut'),
        (error: unknown) => error,
      );
      await cut;
      assert.ok(lost instanceof CommitOutcomeUnknownError && !lost.retryable && lost.code === 'COMMIT_OUTCOME_UNKNOWN', String(lost));
      assert.equal(runs, 1, 'the library never reruns after COMMIT was sent');
      const landed = (await db.admin.query('select 1 from todo_chat.tasks where id = $1', [taskId])).rowCount;
      assert.equal(landed, when === 'after' ? 1 : 0, 'the scenario: the write landed only when COMMIT reached the server');
      const retried = await createTask();
      assert.equal(retried.id, taskId);
      assert.equal((await db.admin.query('select 1 from todo_chat.tasks where id = $1', [taskId])).rowCount, 1);

      const turn: NewMessage[] = [
        { id: `u-${when}`, role: 'user', content: 'add bread' },
        { id: `a-${when}`, role: 'assistant', toolCalls: [{ id: `call-${when}`, name: 'add_task', arguments: { title: 'bread' } }] },
        { id: `t-${when}`, role: 'tool', toolCallId: `call-${when}`, content: '{"ok":true}' },
        { id: `f-${when}`, role: 'assistant', content: 'Added bread.' },
      ];
      const append = () => store.withUser(user, (tx) => tx.messages.appendTurn(chat.id, turn));
      const cutTurn = proxy.cutAtNextCommit(when);
      await assert.rejects(append(), CommitOutcomeUnknownError);
      await cutTurn;
      const stored = await append();
      assert.deepEqual(
        stored.map((m) => m.id),
        turn.map((m) => m.id),
      );
      const rows = await db.admin.query<{ id: string }>('select id from todo_chat.messages where conversation_id = $1 order by position', [chat.id]);
      assert.deepEqual(
        rows.rows.map((r) => r.id),
        turn.map((m) => m.id),
        'the turn is stored once, whole',
      );
    });
  }
});
