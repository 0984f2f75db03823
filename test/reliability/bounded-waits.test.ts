import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, test } from 'node:test';
import { createTestDatabase, onCleanup, rawPool } from '../helpers/db.js';
import { startTcpProxy, targetOf } from '../helpers/tcp-proxy.js';
import { createStore, TimeoutError, UsageError, ValidationError, type Store } from '../../src/index.js';

/*
 * Every wait of the library is bounded (issue: "nothing hangs"): against a
 * server that accepts and never answers, one that stops answering mid-way,
 * and a callback that never resolves. Bounds are asserted with generous
 * margins: the machine running the suite is shared, and what is proven is
 * that a call returns, not how fast.
 */

const db = await createTestDatabase();

/** How long `promise` takes to settle, and how. */
async function timed<T>(promise: Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const started = performance.now();
  try {
    const value = await promise;
    return { ms: performance.now() - started, value };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

function closeLater(store: Store): Store {
  onCleanup(() => store.close());
  return store;
}

describe('store options are validated strictly', () => {
  test('an unknown option is a ValidationError naming it, before anything connects', () => {
    for (const name of ['connectionTimeoutMillis', 'statementTimeout', 'max', 'idleTimeoutMillis', 'retries']) {
      assert.throws(
        () => createStore({ connectionString: db.url, [name]: 1 } as never),
        (error: unknown) => error instanceof ValidationError && error.message.includes(name),
        name,
      );
    }
  });

  test('a bad value is a ValidationError naming the option; a pool of your own takes no pool sizing', () => {
    for (const [name, value] of [
      ['statementTimeoutMs', 0],
      ['lockTimeoutMs', -1],
      ['transactionTimeoutMs', 1.5],
      ['acquireTimeoutMs', '1000'],
      ['retry', true],
      ['retry', { serialization: 0 }],
      ['retry', { connections: 3 }],
    ] as const) {
      assert.throws(
        () => createStore({ connectionString: db.url, [name]: value } as never),
        (error: unknown) => error instanceof ValidationError && error.message.includes(name),
        `${name}: ${JSON.stringify(value)}`,
      );
    }
    const pool = rawPool(db.url, 1);
    assert.throws(() => createStore({ pool, maxConnections: 3 }), UsageError);
    assert.throws(() => createStore({ pool, connectTimeoutMs: 3 }), UsageError);
  });

  test('withUser options are validated too', async () => {
    const store = closeLater(db.store());
    const user = await db.createUser();
    for (const options of [{ retries: 2 }, { retry: { serialization: 0 } }, { retry: true }, 'no']) {
      await assert.rejects(
        store.withUser(user, async () => 1, options as never),
        (error: unknown) => error instanceof ValidationError,
        JSON.stringify(options),
      );
    }
    assert.equal(await store.withUser(user, async () => 1, { retry: false }), 1);
  });
});

describe('a server that accepts connections and never answers', () => {
  test('withUser, health() and close() return within their bounds', async () => {
    const hole = await startTcpProxy(null);
    const store = createStore({
      connectionString: hole.urlThrough(db.url),
      connectTimeoutMs: 300,
      acquireTimeoutMs: 1_000,
      healthTimeoutMs: 500,
      closeGraceMs: 200,
    });
    const call = await timed(store.withUser(crypto.randomUUID(), async () => 'never'));
    assert.ok(call.error instanceof TimeoutError, `withUser: ${String(call.error)}`);
    assert.equal(call.error.kind, 'acquire');
    assert.ok(call.ms >= 900 && call.ms < 5_000, `withUser took ${call.ms} ms`);
    assert.ok(hole.accepted >= 2, 'connecting was retried while time remained');

    const health = await timed(store.health());
    assert.equal(health.value?.ok, false);
    assert.match(health.value?.error ?? '', /timed out|timeout/i);
    assert.ok(health.ms < 3_000, `health took ${health.ms} ms`);

    const pending = store.withUser(crypto.randomUUID(), async () => 'never');
    pending.catch(() => undefined);
    const closing = await timed(store.close());
    assert.equal(closing.error, undefined);
    assert.ok(closing.ms < 4_000, `close took ${closing.ms} ms`);
    assert.ok((await timed(pending)).error instanceof Error, 'the call in flight ended with an error');
    await assert.rejects(store.withUser(crypto.randomUUID(), async () => 1), UsageError);
  });

  test('a server that stops answering once connected: the transaction deadline ends the call', async () => {
    const proxy = await startTcpProxy(targetOf(db.url));
    const store = createStore({ connectionString: proxy.urlThrough(db.url), transactionTimeoutMs: 800, acquireTimeoutMs: 800, closeGraceMs: 100 });
    onCleanup(() => store.close());
    const user = await db.createUser();
    await store.withUser(user, (tx) => tx.tasks.create({ title: 'before the silence' }));

    // Silent before BEGIN: the open step's bound.
    proxy.goSilent();
    const opening = await timed(store.withUser(user, (tx) => tx.tasks.list()));
    assert.ok(opening.error instanceof TimeoutError, String(opening.error));
    assert.ok(opening.ms < 4_000, `took ${opening.ms} ms`);
    const health = await timed(store.health());
    assert.equal(health.value?.ok, false);
    assert.ok(health.ms < 8_000, `health took ${health.ms} ms`);

    // Silent inside the callback: the transaction deadline.
    proxy.resume();
    const silenced = store.withUser(user, async (tx) => {
      await tx.tasks.list();
      proxy.goSilent();
      return tx.tasks.create({ title: 'never answered' });
    });
    const inside = await timed(silenced);
    assert.ok(inside.error instanceof TimeoutError && inside.error.kind === 'transaction', String(inside.error));
    assert.ok(inside.ms < 4_000, `took ${inside.ms} ms`);
    proxy.resume();
    const titles = await db.admin.query<{ title: string }>('select title from todo_chat.tasks where user_id = $1', [user]);
    assert.deepEqual(
      titles.rows.map((r) => r.title),
      ['before the silence'],
    );
  });
});

describe('a callback that never resolves', () => {
  test('its slot comes back after the deadline, other calls proceed, no session is left idle in transaction, its locks go', async () => {
    const appName = `never-resolves-${crypto.randomUUID().slice(0, 8)}`;
    const url = new URL(db.url);
    url.searchParams.set('application_name', appName);
    const store = createStore({ connectionString: url.toString(), maxConnections: 2, transactionTimeoutMs: 1_500, healthTimeoutMs: 3_000 });
    onCleanup(() => store.close());
    const user = await db.createUser();
    const task = await store.withUser(user, (tx) => tx.tasks.create({ title: 'contended' }));

    // Two callbacks take both slots, one holding the task's row lock, and never resolve.
    let locked: () => void = () => undefined;
    const lockTaken = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const hung = [
      store.withUser(user, async (tx) => {
        await tx.tasks.update(task.id, { title: 'held' });
        locked();
        return new Promise<never>(() => undefined);
      }),
      store.withUser(user, () => new Promise<never>(() => undefined)),
    ];
    for (const h of hung) h.catch(() => undefined);
    await lockTaken;

    const started = performance.now();
    // Waits for a slot, then updates the row the first callback had locked.
    const other = await timed(store.withUser(user, (tx) => tx.tasks.update(task.id, { title: 'after the deadline' })));
    assert.equal(other.error, undefined, String(other.error));
    assert.equal(other.value?.title, 'after the deadline');
    for (const h of hung) {
      const outcome = await timed(h);
      assert.ok(outcome.error instanceof TimeoutError && outcome.error.kind === 'transaction', String(outcome.error));
    }
    assert.ok(performance.now() - started < 10_000);

    const health = await store.health();
    assert.equal(health.ok, true, JSON.stringify(health));
    // A discarded connection's backend ends as soon as it reads the client's goodbye: give it a moment, not the deadline.
    let sessions: { state: string }[] = [];
    for (let waited = 0; waited < 5_000; waited += 100) {
      sessions = (
        await db.admin.query<{ state: string }>(
          `select state from pg_stat_activity where application_name = $1 and state like 'idle in transaction%'`,
          [appName],
        )
      ).rows;
      if (sessions.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.deepEqual(sessions, [], 'no session of the store is left idle in transaction');
    const stored = await db.admin.query('select title from todo_chat.tasks where id = $1', [task.id]);
    assert.deepEqual(stored.rows, [{ title: 'after the deadline' }], 'the hung update was rolled back');

    const closing = await timed(store.close());
    assert.ok(closing.ms < 6_000, `close took ${closing.ms} ms`);
  });

  test('close() ends a transaction still running after its grace period', async () => {
    const store = createStore({ connectionString: db.url, closeGraceMs: 300 });
    const user = await db.createUser();
    let started: () => void = () => undefined;
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    const hung = store.withUser(user, async (tx) => {
      await tx.tasks.create({ title: 'not committed' });
      started();
      return new Promise<never>(() => undefined);
    });
    hung.catch(() => undefined);
    await running;
    const closing = await timed(store.close());
    assert.ok(closing.ms < 4_000, `close took ${closing.ms} ms`);
    const outcome = await timed(hung);
    assert.ok(outcome.error instanceof UsageError && /closed/.test(outcome.error.message), String(outcome.error));
    assert.equal((await db.admin.query('select 1 from todo_chat.tasks where user_id = $1', [user])).rowCount, 0);
  });
});

describe('statement and lock timeouts are set on every transaction', () => {
  test('a lock wait longer than lockTimeoutMs is a retryable TimeoutError(lock); nothing was written', async () => {
    const store = closeLater(db.store({ lockTimeoutMs: 200, retry: false }));
    const user = await db.createUser();
    const task = await store.withUser(user, (tx) => tx.tasks.create({ title: 'locked' }));
    const holder = await db.admin.connect();
    try {
      await holder.query('begin');
      await holder.query('select 1 from todo_chat.tasks where id = $1 for update', [task.id]);
      const call = await timed(store.withUser(user, (tx) => tx.tasks.update(task.id, { title: 'waited' })));
      assert.ok(call.error instanceof TimeoutError && call.error.kind === 'lock' && call.error.retryable, String(call.error));
      assert.ok(call.ms < 3_000, `took ${call.ms} ms`);
    } finally {
      await holder.query('rollback');
      holder.release();
    }
    assert.equal((await store.withUser(user, (tx) => tx.tasks.get(task.id))).title, 'locked');
  });

  test('a statement longer than statementTimeoutMs is a TimeoutError(statement), not retryable', async () => {
    const store = closeLater(db.store({ statementTimeoutMs: 200, lockTimeoutMs: 60_000, retry: false }));
    const user = await db.createUser();
    const task = await store.withUser(user, (tx) => tx.tasks.create({ title: 'locked' }));
    const holder = await db.admin.connect();
    try {
      await holder.query('begin');
      await holder.query('select 1 from todo_chat.tasks where id = $1 for update', [task.id]);
      const call = await timed(store.withUser(user, (tx) => tx.tasks.update(task.id, { title: 'waited' })));
      assert.ok(call.error instanceof TimeoutError && call.error.kind === 'statement' && !call.error.retryable, String(call.error));
      assert.ok(call.ms < 3_000, `took ${call.ms} ms`);
    } finally {
      await holder.query('rollback');
      holder.release();
    }
  });
});
