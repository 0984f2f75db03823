/**
 * Code in the same process, written as an attacker would: a query observer
 * (a third-party metrics helper, say) and code running inside a withUser
 * callback try to reach a pg client, a pool or anything else that runs SQL,
 * through everything the library hands them: the observer's `this` and its
 * event, the callback's `this` and `tx`, the errors it throws (their `cause`
 * chains included), and the async context (async_hooks resources and their
 * symbol-keyed properties, where AsyncLocalStorage keeps its values). Each
 * handle found is then used to become the victim: none may be found.
 */
import assert from 'node:assert/strict';
import { executionAsyncResource } from 'node:async_hooks';
import { before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seedVictim, type Victim } from '../helpers/security.js';
import { snapshotRows } from '../helpers/snapshots.js';
import { findSqlHandles, isSqlHandle, type SqlHandle } from '../helpers/reachability.js';
import { TodoChatDbError, type QueryEvent, type Store, type Transaction } from '../../src/index.js';

let db: TestDatabase;
let victim: Victim;
let victimRows: Record<string, unknown[]>;

before(async () => {
  db = await createTestDatabase();
  const [victimId] = await db.createUsers(1);
  victim = await seedVictim(db.store(), victimId!);
  victimRows = await snapshotRows(db.admin, [victim.userId]);
});

/** What an attacker does with a handle it found: become the victim in the current transaction, read and erase. */
async function exploit(handle: unknown): Promise<void> {
  const run = (handle as { query: (text: string, values?: unknown[]) => Promise<unknown> }).query;
  if (typeof run !== 'function') return;
  for (const [text, values] of [["select pg_catalog.set_config('todo_chat.user_id', $1, true)", [victim.userId]], ['delete from todo_chat.tasks', []]] as const) {
    try {
      await Reflect.apply(run, handle, [text, values]);
    } catch {
      // A prototype's method called on the prototype itself, say: the attack goes on with the next handle.
    }
  }
}

/** Every SQL handle reachable from the current async context (the resource of the running code and what hangs off it). */
function handlesInAsyncContext(where: string): SqlHandle[] {
  return findSqlHandles(executionAsyncResource(), `executionAsyncResource()@${where}`);
}

describe('code in the same process reaches no pg client, pool or SQL runner', () => {
  test("an onQuery observer: its `this` is undefined and its event plain frozen data", async () => {
    const [user] = await db.createUsers(1);
    const seen: { receiver: unknown; event: QueryEvent; handles: string[]; frozen: boolean }[] = [];
    const attacks: Promise<void>[] = [];
    const store = db.store({
      // A `function` observer, as a metrics helper would be written: `this` is whatever the library calls it on.
      onQuery: function (this: unknown, event: QueryEvent) {
        const handles = [...findSqlHandles(this, 'this'), ...findSqlHandles(event, 'event'), ...handlesInAsyncContext('onQuery')];
        seen.push({ receiver: this, event, handles: handles.map((h) => h.path), frozen: Object.isFrozen(event) });
        for (const handle of handles) attacks.push(exploit(handle.value));
        // The attack of the audit: the receiver's client, used to become the victim.
        const client = (this as { client?: unknown } | undefined)?.client;
        if (client) attacks.push(exploit(client));
      },
    });
    const task = await store.withUser(user!, (tx) => tx.tasks.create({ title: 'observed' }));
    await store.withUser(user!, (tx) => tx.tasks.get(task.id));
    await Promise.all(attacks);
    assert.ok(seen.length >= 2, 'the observer ran');
    for (const call of seen) {
      assert.equal(call.receiver, undefined, 'called without a receiver');
      assert.deepEqual(call.handles, [], 'nothing reachable runs SQL');
      assert.ok(call.frozen, 'the event is frozen');
      assert.deepEqual(Object.keys(call.event).sort(), ['durationMs', 'query', 'rowCount'].sort());
      assert.throws(() => {
        (call.event as { query: string }).query = 'x';
      }, TypeError);
    }
    assert.deepEqual(await snapshotRows(db.admin, [victim.userId]), victimRows, "the victim's rows are untouched");
  });

  test('a withUser callback: its `this`, tx and the async context, at every point of its run', async () => {
    const [user] = await db.createUsers(1);
    const store = db.store();
    const found: SqlHandle[] = [];
    const receivers: unknown[] = [];
    const look = (where: string, tx?: Transaction) => {
      found.push(...handlesInAsyncContext(where));
      if (tx) found.push(...findSqlHandles(tx, `tx@${where}`));
    };
    await store.withUser(user!, async function (this: unknown, tx) {
      receivers.push(this);
      look('start', tx);
      const conversation = await tx.conversations.create({ title: 'walk' });
      look('after a query', tx);
      await tx.messages.append(conversation.id, { role: 'user', content: 'hello' });
      await new Promise<void>((resolve) => setTimeout(() => {
        look('in a timer');
        resolve();
      }, 1));
      await new Promise<void>((resolve) => setImmediate(() => {
        look('in setImmediate');
        resolve();
      }));
      for await (const batch of tx.messages.batches(conversation.id, { batchSize: 1 })) {
        look(`in batches (${batch.length})`, tx);
      }
      await Promise.resolve().then(() => look('in a then'));
      // A nested withUser of the same user joins this transaction: the same tx, nothing more.
      await store.withUser(user!, async (nested) => {
        assert.equal(nested, tx);
        look('nested', nested);
      });
      // Work left behind after the callback returns runs in the same async context.
      setTimeout(() => look('after the callback returned'), 0);
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(receivers, [undefined], 'the callback is called without a receiver');
    for (const handle of found) await exploit(handle.value);
    assert.deepEqual(found.map((h) => h.path), [], 'nothing reachable from the async context or tx runs SQL');
    assert.deepEqual(await snapshotRows(db.admin, [victim.userId]), victimRows, "the victim's rows are untouched");
  });

  test('errors the library throws, their cause chains included, lead to no client', async () => {
    const [user] = await db.createUsers(1);
    const store: Store = db.store();
    const errors: unknown[] = [];
    const attempt = async (fn: (tx: Transaction) => Promise<unknown>) => {
      try {
        await store.withUser(user!, fn);
      } catch (error) {
        errors.push(error);
      }
    };
    const task = await store.withUser(user!, (tx) => tx.tasks.create({ title: 'mine' }));
    await attempt((tx) => tx.tasks.get(victim.taskId)); // NotFoundError
    await attempt((tx) => tx.tasks.create({ title: '' })); // ValidationError with a ZodError cause
    await attempt((tx) => tx.tasks.create({ id: task.id, title: 'again' } as never)); // a conflict or a validation error, from the driver
    await attempt((tx) => tx.tasks.update(task.id, { title: 'x', expectedVersion: 99 })); // a version conflict
    await attempt(async (tx) => {
      // A constraint the database refuses, swallowed, then another query: TransactionAbortedError caused by the driver error.
      const conversation = await tx.conversations.create({});
      await tx.messages.append(conversation.id, { role: 'tool', toolCallId: 'none', content: 'x' }).catch(() => undefined);
      await tx.tasks.list();
    });
    let txAfter: Transaction | undefined;
    await store.withUser(user!, async (tx) => {
      txAfter = tx;
    });
    await txAfter!.tasks.list().catch((error: unknown) => errors.push(error)); // UsageError: the transaction ended
    assert.ok(errors.length >= 5, `${errors.length} errors provoked`);
    for (const error of errors) {
      assert.ok(error instanceof TodoChatDbError, String(error));
      const chain: unknown[] = [];
      for (let e: unknown = error; e && chain.length < 10; e = (e as { cause?: unknown }).cause) chain.push(e);
      for (const [i, e] of chain.entries()) assert.ok(!isSqlHandle(e), `cause ${i} of ${(error as Error).name}`);
      assert.deepEqual(findSqlHandles(error, (error as Error).name).map((h) => h.path), [], `nothing reachable from ${(error as Error).name}: ${(error as Error).message}`);
    }
  });
});
