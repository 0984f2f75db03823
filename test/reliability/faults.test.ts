import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';
import pg from 'pg';
import { onCleanup } from '../helpers/db.js';
import { startRestartableServer } from '../helpers/restartable-server.js';
import { CommitOutcomeUnknownError, TimeoutError, TodoChatDbError, createStore, migrate, type NewMessage, type Store } from '../../src/index.js';

/*
 * The server restarts (fast and immediate) and kills every backend while
 * many users write, several writers to each conversation. The writers retry
 * as docs/operations.md tells an application to: the same write again, with
 * the same ids, after any typed failure (a CommitOutcomeUnknownError
 * included, which only an idempotent write makes safe to retry). Proven
 * afterwards, from the database itself: every acknowledged write is there,
 * exactly once; every turn is whole and contiguous; every failure was typed;
 * and the library's own retries kept failures to the transactions whose
 * callback was running when their connection went (at most the pool's size
 * per fault).
 */

const USERS = 24;
const WRITERS_PER_CONVERSATION = 3;
const POOL_SIZE = 10;

test('restarts (fast, immediate) and killed backends under a many-user write workload: nothing acknowledged lost, no partial turn, every failure typed', async () => {
  const server = await startRestartableServer();
  await migrate({ connectionString: server.url });
  // A new superuser connection per statement: a pooled one would not survive the restarts.
  const admin = {
    async query<R extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
      const client = new pg.Client({ connectionString: server.url });
      client.on('error', () => undefined);
      await client.connect();
      try {
        return await client.query<R>(sql, values);
      } finally {
        await client.end();
      }
    },
  };
  const appName = 'faults-workload';
  const url = new URL(server.url);
  url.searchParams.set('application_name', appName);
  const store: Store = createStore({ connectionString: url.toString(), maxConnections: POOL_SIZE });
  onCleanup(() => store.close());

  const users = Array.from({ length: USERS }, () => crypto.randomUUID());
  await admin.query('insert into todo_chat.users (id) select unnest($1::uuid[])', [users]);
  const conversations = await Promise.all(users.map((user) => store.withUser(user, (tx) => tx.conversations.create({ title: 'under faults' }))));

  const failures = new Map<string, number>();
  const untyped: unknown[] = [];
  const beforeCallback: string[] = [];
  let unknownOutcomes = 0;
  let unknownResolved = 0;
  const acknowledgedTurns: { user: string; conversation: string; ids: string[] }[] = [];
  const acknowledgedTasks: { user: string; id: string; title: string }[] = [];

  /** One write, retried with the same ids until it is acknowledged. */
  async function untilAcknowledged<T>(user: string, write: Parameters<Store['withUser']>[1]): Promise<T> {
    let outcomeUnknown = false;
    for (let attempt = 1; ; attempt++) {
      try {
        const result = (await store.withUser(user, write)) as T;
        if (outcomeUnknown) unknownResolved++;
        return result;
      } catch (error) {
        if (!(error instanceof TodoChatDbError)) {
          untyped.push(error);
          throw error;
        }
        failures.set(error.constructor.name, (failures.get(error.constructor.name) ?? 0) + 1);
        // What failed before the callback ran: the library retries that itself, so none may reach a caller.
        if (/\((connect|begin|verify app role)\)/.test(error.message) || (error instanceof TimeoutError && error.kind === 'acquire')) {
          beforeCallback.push(error.message);
        }
        if (error instanceof CommitOutcomeUnknownError) {
          unknownOutcomes++;
          outcomeUnknown = true;
        }
        if (attempt >= 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
      }
    }
  }

  let running = true;
  async function writer(userIndex: number, writerIndex: number): Promise<void> {
    const user = users[userIndex]!;
    const conversation = conversations[userIndex]!.id;
    for (let n = 0; running; n++) {
      const key = `w${writerIndex}-${n}`;
      const turn: NewMessage[] = [
        { id: `${key}-u`, role: 'user', content: `turn ${key}` },
        { id: `${key}-a`, role: 'assistant', toolCalls: [{ id: `${key}-call`, name: 'add_task', arguments: { title: key } }] },
        { id: `${key}-t`, role: 'tool', toolCallId: `${key}-call`, content: '{"ok": true}' },
        { id: `${key}-f`, role: 'assistant', content: `done ${key}` },
      ];
      await untilAcknowledged(user, (tx) => tx.messages.appendTurn(conversation, turn));
      acknowledgedTurns.push({ user, conversation, ids: turn.map((m) => m.id!) });
      if (n % 3 === 0) {
        const id = crypto.randomUUID();
        const title = `task ${key}`;
        await untilAcknowledged(user, (tx) => tx.tasks.create({ id, title }));
        acknowledgedTasks.push({ user, id, title });
      }
      if (n % 5 === 0) await untilAcknowledged(user, (tx) => tx.messages.history(conversation, { limit: 20 }));
    }
  }

  const writers = users.flatMap((_, u) => Array.from({ length: WRITERS_PER_CONVERSATION }, (_, w) => writer(u, u * WRITERS_PER_CONVERSATION + w)));
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const killBackends = () =>
    admin.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [appName]);

  const faults: string[] = [];
  try {
    await pause(1_500);
    await killBackends();
    faults.push('killed backends');
    await pause(1_500);
    await server.restart('fast');
    faults.push('fast restart');
    await pause(1_500);
    await killBackends();
    faults.push('killed backends');
    await pause(1_500);
    await server.restart('immediate');
    faults.push('immediate restart');
    await pause(2_000);
  } finally {
    running = false;
    await Promise.allSettled(writers);
  }
  await Promise.all(writers);

  const failed = [...failures.values()].reduce((a, b) => a + b, 0);
  console.log(
    `# faults: ${faults.join(', ')}; ${acknowledgedTurns.length} turns and ${acknowledgedTasks.length} tasks acknowledged; ` +
      `${failed} failed calls (${JSON.stringify(Object.fromEntries(failures))}), retried by the writers; ` +
      `${unknownOutcomes} unknown commit outcomes, ${unknownResolved} resolved by an idempotent retry`,
  );

  assert.deepEqual(untyped, [], 'every failure is a TodoChatDbError');
  assert.ok(acknowledgedTurns.length > USERS, `the workload ran (${acknowledgedTurns.length} turns)`);
  // The library retries everything before the callback runs: only transactions running when their connection went fail
  // (at most the pool's size per fault, give or take one whose retry met a connection not yet ended).
  assert.deepEqual(beforeCallback, [], 'no failure before the callback ran reaches the caller');
  assert.ok(failed <= faults.length * POOL_SIZE * 2, `${failed} failed calls for ${faults.length} faults of a pool of ${POOL_SIZE}`);

  // From the database: every acknowledged turn whole, contiguous and stored once; no partial turn of any writer.
  const stored = await admin.query<{ conversation_id: string; id: string; position: number }>(
    'select conversation_id, id, position from todo_chat.messages order by conversation_id, position',
  );
  const byConversation = new Map<string, { id: string; position: number }[]>();
  for (const row of stored.rows) {
    const rows = byConversation.get(row.conversation_id) ?? [];
    rows.push({ id: row.id, position: row.position });
    byConversation.set(row.conversation_id, rows);
  }
  const acknowledgedIds = new Set(acknowledgedTurns.flatMap((t) => t.ids));
  for (const [conversation, rows] of byConversation) {
    assert.deepEqual(
      rows.map((r) => r.position),
      rows.map((_, i) => i + 1),
      `positions of ${conversation} are gapless`,
    );
    assert.equal(rows.length % 4, 0, `only whole turns in ${conversation}`);
    for (let i = 0; i < rows.length; i += 4) {
      const key = rows[i]!.id.slice(0, -2);
      assert.deepEqual(
        rows.slice(i, i + 4).map((r) => r.id),
        [`${key}-u`, `${key}-a`, `${key}-t`, `${key}-f`],
        `a whole, contiguous turn at position ${i + 1} of ${conversation}`,
      );
      assert.ok(acknowledgedIds.has(`${key}-u`), `turn ${key} is one a writer was told was stored`);
    }
  }
  assert.equal(stored.rowCount, acknowledgedTurns.length * 4, 'every acknowledged turn stored, exactly once');
  for (const turn of acknowledgedTurns) {
    const rows = byConversation.get(turn.conversation) ?? [];
    assert.ok(rows.some((r) => r.id === turn.ids[0]), `acknowledged turn ${turn.ids[0]} is stored`);
  }
  const tasks = await admin.query<{ user_id: string; id: string; title: string }>('select user_id, id, title from todo_chat.tasks');
  assert.deepEqual(
    tasks.rows.map((t) => `${t.user_id} ${t.id} ${t.title}`).sort(),
    acknowledgedTasks.map((t) => `${t.user} ${t.id} ${t.title}`).sort(),
    'every acknowledged task stored exactly once, nothing else',
  );
});
