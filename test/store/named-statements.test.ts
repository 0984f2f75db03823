/**
 * Named statements (src/statement-names.ts): on by default, each statement is
 * prepared once per pooled connection under a name derived from its text and
 * then only bound and executed; off (namedStatements: false, for PgBouncer
 * before 1.21 in transaction mode: security/pgbouncer.test.ts runs that way)
 * nothing is prepared on the server. A connection whose prepared statements
 * the server forgot is discarded, and the next transaction works. The history
 * is one statement, whether the page starts on a user message or on a tool
 * result (the turn-boundary extension included).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type pg from 'pg';
import { createTestDatabase } from '../helpers/db.js';
import { statementOf } from '../helpers/plans.js';
import { createStore, DatabaseError, type NewMessage, type QueryEvent } from '../../src/index.js';
import { STATEMENT_NAME_PREFIX, statementNameOf } from '../../src/statement-names.js';
import * as mq from '../../src/queries/messages.queries.js';

const db = await createTestDatabase();

interface Prepared {
  name: string;
  statement: string;
  executions: number;
}

/** The statements prepared on the pool's one connection, with how often each was executed (PostgreSQL 14+ counts plans). */
async function prepared(pool: pg.Pool): Promise<Prepared[]> {
  const { rows } = await pool.query<Prepared>(
    `select name, statement, (generic_plans + custom_plans)::integer as executions
     from pg_catalog.pg_prepared_statements where name like $1 order by name`,
    [`${STATEMENT_NAME_PREFIX}%`],
  );
  return rows;
}

function turn(tag: string): NewMessage[] {
  return [
    { role: 'user', content: `question ${tag}` },
    { role: 'assistant', toolCalls: [{ id: `call-${tag}`, name: 'add_task', arguments: { tag } }] },
    { role: 'tool', toolCallId: `call-${tag}`, content: `result ${tag}` },
    { role: 'assistant', content: `answer ${tag}` },
  ];
}

describe('named statements', () => {
  test('on by default: each statement is prepared once per connection, named by its text, and reused', async () => {
    const pool = db.pool(1);
    const store = createStore({ pool });
    const user = await db.createUser();
    const conversation = await store.withUser(user, (tx) => tx.conversations.create());
    await store.withUser(user, (tx) => tx.messages.history(conversation.id));
    const first = await prepared(pool);
    const history = await statementOf(mq.listHistory, { userId: user, conversationId: conversation.id, before: null, limit: 50, extra: 450 });
    const listHistory = first.find((p) => p.name === statementNameOf(history.text));
    assert.ok(listHistory, `ListHistory prepared under its name: ${JSON.stringify(first.map((p) => p.name))}`);
    assert.equal(listHistory.statement, history.text);
    assert.equal(listHistory.executions, 1);

    await store.withUser(user, (tx) => tx.messages.history(conversation.id));
    await store.withUser(user, (tx) => tx.messages.history(conversation.id, { limit: 10 }));
    const again = await prepared(pool);
    assert.deepEqual(
      again.map((p) => p.name),
      first.map((p) => p.name),
      'no statement was prepared again',
    );
    assert.equal(again.find((p) => p.name === listHistory.name)!.executions, 3, 'the same prepared statement ran three times');
    await store.close();
  });

  test('names depend on the text only: two stores name a statement alike, different texts differently', async () => {
    const history = await statementOf(mq.listHistory, { userId: crypto.randomUUID(), conversationId: crypto.randomUUID(), before: null, limit: 5, extra: 0 });
    const all = await statementOf(mq.listAllMessages, { userId: crypto.randomUUID(), conversationId: crypto.randomUUID(), maxMessages: 1, maxBytes: 1 });
    assert.equal(statementNameOf(history.text), statementNameOf(`${history.text}`));
    assert.notEqual(statementNameOf(history.text), statementNameOf(all.text));
    assert.match(statementNameOf(history.text), /^tcdb_[A-Za-z0-9_-]{22}$/);
    assert.ok(statementNameOf(history.text).length <= 63, 'within NAMEDATALEN');
  });

  test('off (namedStatements: false): nothing is prepared on the server', async () => {
    const pool = db.pool(1);
    const store = createStore({ pool, namedStatements: false });
    const user = await db.createUser();
    const conversation = await store.withUser(user, (tx) => tx.conversations.create());
    await store.withUser(user, async (tx) => {
      await tx.messages.appendTurn(conversation.id, turn('a'));
      await tx.tasks.create({ title: 'unnamed' });
      return tx.messages.history(conversation.id);
    });
    assert.deepEqual(await prepared(pool), []);
    await store.close();
  });

  test('a connection whose prepared statements the server forgot is discarded; the next transaction works', async () => {
    const pool = db.pool(1);
    const store = createStore({ pool });
    const user = await db.createUser();
    const conversation = await store.withUser(user, (tx) => tx.conversations.create());
    await store.withUser(user, (tx) => tx.messages.history(conversation.id));
    const before = (await pool.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
    // What a pooler's server reset (DISCARD ALL) or a stray DEALLOCATE does behind node-postgres' back.
    await pool.query('deallocate all');
    await assert.rejects(
      store.withUser(user, (tx) => tx.messages.history(conversation.id)),
      (error: unknown) => error instanceof DatabaseError && error.sqlState === '26000',
    );
    const page = await store.withUser(user, (tx) => tx.messages.history(conversation.id));
    assert.deepEqual(page.items, []);
    const after = (await pool.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
    assert.notEqual(after, before, 'the connection was replaced');
    await store.close();
  });
});

describe('the history is one statement', () => {
  test('a page starting on a user message and one starting on a tool result each run exactly one query', async () => {
    const events: QueryEvent[] = [];
    const store = db.store({ onQuery: (event) => events.push(event) });
    const user = await db.createUser();
    const conversation = await store.withUser(user, (tx) => tx.conversations.create());
    await store.withUser(user, (tx) => tx.messages.appendTurn(conversation.id, [...turn('1'), ...turn('2')]));
    for (const [limit, firstRole] of [
      [4, 'user'],
      [6, 'tool'],
    ] as const) {
      events.length = 0;
      const page = await store.withUser(user, (tx) => tx.messages.history(conversation.id, { limit }));
      assert.deepEqual(
        events.map((e) => e.query),
        ['ListHistory'],
        `limit ${limit}`,
      );
      // The page of 6 would start on the first turn's tool result: it reaches back to that turn's call.
      assert.equal(page.items[0]!.role, firstRole === 'user' ? 'user' : 'assistant');
      assert.equal(page.items.length, firstRole === 'user' ? 4 : 7);
    }
  });
});
