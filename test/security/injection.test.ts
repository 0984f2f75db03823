/**
 * Context forgery and injection.
 *
 * - SQL in content (every text field of every write) is stored verbatim and
 *   changes nothing: not the user context, not another user's rows.
 * - An input that names another user (userId / user_id keys) cannot write as
 *   that user: the zod schemas are strict objects and refuse unknown keys.
 * - A missing, empty, malformed, nil or injection-laden user id is a
 *   ValidationError before any connection is even attempted.
 * - What a raw client in a user context could do (set_config, set role, reset
 *   role, set session authorization), with a superuser login and with a
 *   least-privilege login: documented by assertions. No raw client is
 *   reachable from the public API (asserted too), and a finished transaction
 *   cannot be used.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { before, describe, test } from 'node:test';
import type pg from 'pg';
import { adminQuery, createTestDatabase, onCleanup, rawPool, urlFor, type TestDatabase } from '../helpers/db.js';
import { asUser, tryStatement } from '../helpers/transaction.js';
import { seedVictim, type Victim } from '../helpers/security.js';
import { countRows, snapshotOthers } from '../helpers/snapshots.js';
import { freePort } from '../../tools/embedded-postgres.js';
import {
  UsageError,
  DatabaseUnavailableError,
  ValidationError,
  createStore,
  type Store,
  type Transaction,
} from '../../src/index.js';

let db: TestDatabase;
let store: Store;
let victim: Victim;

before(async () => {
  db = await createTestDatabase();
  store = db.store();
  const [victimId] = await db.createUsers(1);
  victim = await seedVictim(store, victimId!);
});

/** SQL and quoting tricks aimed at every layer: string literals, identifiers, comments, dollar quotes, pgtyped and pg placeholders. */
function payloads(victimId: string): string[] {
  return [
    `'); select set_config('todo_chat.user_id', '${victimId}', false); --`,
    `'); select pg_catalog.set_config('todo_chat.user_id', '${victimId}', true); select ('`,
    `'); commit; begin; select set_config('todo_chat.user_id','${victimId}',true); --`,
    `'; reset role; --`,
    'reset role',
    'set role postgres',
    `'; set session authorization postgres; --`,
    `"); set local role postgres; --`,
    `*/ select 1; /*`,
    `/* unterminated comment`,
    `-- a line comment`,
    `$$; update todo_chat.tasks set title = 'pwned'; $$`,
    `$tag$ delete from todo_chat.tasks $tag$`,
    `\\'; drop table todo_chat.users; --`,
    `\\\\ \\x00 \\u0000 E'\\n'`,
    `' or '1'='1`,
    `" or ""="`,
    `:title! :id :userId :conversationId!`,
    `$1 $2 $999 ?`,
    `%s %I %L %%`,
    `; copy todo_chat.tasks to program 'id'; --`,
    `\u202e ${victimId} \u202d`,
    `{"user_id": "${victimId}", "userId": "${victimId}"}`,
    victimId,
    'NULL',
    `'::uuid) or true or ('`,
    `websearch " or -"x" & ! | <-> :* ${victimId}`,
  ];
}

describe('SQL in content is stored verbatim and changes nothing', () => {
  test('every text field of every write, every payload', async () => {
    const [a] = await db.createUsers(1);
    const others = await snapshotOthers(db.admin, a);
    const list = payloads(victim.userId);
    for (const [index, payload] of list.entries()) {
      const stored = await store.withUser(a!, async (tx) => {
        const task = await tx.tasks.create({ title: payload, description: payload });
        const updated = await tx.tasks.update(task.id, { title: `${payload} 2`, description: `${payload} 3` });
        const conversation = await tx.conversations.create({ title: payload });
        const renamed = await tx.conversations.rename(conversation.id, `${payload} 4`);
        const callId = `${payload}`.slice(0, 128);
        const turn = await tx.messages.appendTurn(conversation.id, [
          { role: 'user', content: payload },
          {
            role: 'assistant',
            content: payload,
            toolCalls: [{ id: callId, name: 'lookup', arguments: { q: payload, user_id: victim.userId, userId: victim.userId, [payload]: payload } }],
          },
          { role: 'tool', toolCallId: callId, content: payload },
          { role: 'system', content: payload },
        ]);
        const hits = await tx.messages.search(payload);
        // The context is still A's, inside the very transaction that stored the payloads.
        assert.equal((await tx.users.get()).id, a);
        const tasks = await tx.tasks.list({ limit: 200 });
        assert.ok(tasks.items.every((t) => !t.title.includes(victim.marker)), "A's list holds none of B's tasks");
        const mine = new Set((await tx.conversations.list({ limit: 200 })).items.map((c) => c.id));
        assert.ok(hits.every((hit) => mine.has(hit.message.conversationId)), 'search finds only A\u2019s messages');
        return { task, updated, conversation, renamed, turn };
      });
      assert.equal(stored.task.title, payload.trim(), `payload ${index} title`);
      assert.equal(stored.task.description, payload);
      assert.equal(stored.updated.title, `${payload} 2`.trim());
      assert.equal(stored.updated.description, `${payload} 3`);
      assert.equal(stored.conversation.title, payload.trim());
      assert.equal(stored.renamed.title, `${payload} 4`.trim());
      assert.deepEqual(stored.turn.map((m) => m.content), [payload, payload, payload, payload]);
      assert.equal(stored.turn[2]!.toolCallId, payload.slice(0, 128));

      // Read back as the superuser: verbatim, and owned by A.
      const { rows: tasks } = await db.admin.query('select user_id, title, description from todo_chat.tasks where id = $1', [stored.task.id]);
      assert.deepEqual(tasks, [{ user_id: a, title: `${payload} 2`.trim(), description: `${payload} 3` }]);
      const { rows: messages } = await db.admin.query(
        'select user_id, content, tool_calls, tool_call_id from todo_chat.messages where conversation_id = $1 order by position',
        [stored.conversation.id],
      );
      assert.deepEqual(messages.map((m) => [m.user_id, m.content]), Array(4).fill([a, payload]));
      assert.deepEqual(messages[1]!.tool_calls, [
        { id: payload.slice(0, 128), name: 'lookup', arguments: { q: payload, user_id: victim.userId, userId: victim.userId, [payload]: payload } },
      ]);
    }
    assert.deepEqual(await snapshotOthers(db.admin, a), others, "no payload changed anybody else's rows");
    // every payload made exactly: 1 task, 1 conversation, 4 messages, 1 audited call and its result
    assert.deepEqual(await countRows(db.admin, a!), {
      users: 1,
      tasks: list.length,
      conversations: list.length,
      messages: 4 * list.length,
      tool_calls: list.length,
      tool_results: list.length,
      turn_usage: 0,
    });
  });

  test('after the payloads the pooled connection carries no user context and no role', async () => {
    const pool = db.pool(1);
    const oneConnection = createStore({ pool });
    const [a] = await db.createUsers(1);
    for (const payload of payloads(victim.userId)) {
      await oneConnection.withUser(a!, async (tx) => {
        await tx.tasks.create({ title: payload });
        await tx.messages.search(payload);
      });
      await assert.rejects(
        oneConnection.withUser(a!, async (tx) => {
          await tx.conversations.create({ title: payload });
          throw new Error('rolled back');
        }),
        /rolled back/,
      );
    }
    // The same (only) connection, outside any transaction:
    const { rows } = await pool.query(
      "select current_setting('todo_chat.user_id', true) as user_id, current_user, session_user, (select count(*)::int from todo_chat.tasks) as visible",
    );
    assert.equal(rows[0].user_id ?? '', '', 'no user id survives its transaction');
    assert.equal(rows[0].current_user, rows[0].session_user, 'no role survives its transaction');
    assert.equal(rows[0].visible, (await db.admin.query('select count(*)::int as n from todo_chat.tasks')).rows[0].n);
  });
});

describe('an input that names another user cannot write as that user', () => {
  test('extra userId / user_id keys are refused by the strict schemas (ValidationError, unrecognized_keys), nothing written', async () => {
    const [a] = await db.createUsers(1);
    const { conversation, task } = await store.withUser(a!, async (tx) => ({
      conversation: await tx.conversations.create({}),
      task: await tx.tasks.create({ title: 'mine' }),
    }));
    const b = victim.userId;
    const attempts: [string, (tx: Transaction) => Promise<unknown>][] = [
      ['tasks.create userId', (tx) => tx.tasks.create({ title: 'x', userId: b } as never)],
      ['tasks.create user_id', (tx) => tx.tasks.create({ title: 'x', user_id: b } as never)],
      ['tasks.create own __proto__ key', (tx) => tx.tasks.create(JSON.parse(`{"title":"x","__proto__":{"userId":"${b}"}}`))],
      ['tasks.update user_id', (tx) => tx.tasks.update(task.id, { title: 'x', user_id: b } as never)],
      ['tasks.list userId', (tx) => tx.tasks.list({ userId: b } as never)],
      ['tasks.delete userId', (tx) => tx.tasks.delete(task.id, { userId: b } as never)],
      ['conversations.create user_id', (tx) => tx.conversations.create({ title: 'x', user_id: b } as never)],
      ['conversations.list userId', (tx) => tx.conversations.list({ userId: b } as never)],
      ['messages.append userId', (tx) => tx.messages.append(conversation.id, { role: 'user', content: 'x', userId: b } as never)],
      ['messages.appendTurn user_id', (tx) => tx.messages.appendTurn(conversation.id, [{ role: 'user', content: 'x', user_id: b } as never])],
      [
        'messages.append tool call with userId',
        (tx) => tx.messages.append(conversation.id, { role: 'assistant', toolCalls: [{ id: 'c', name: 'n', arguments: {}, userId: b } as never] }),
      ],
      ['messages.history userId', (tx) => tx.messages.history(conversation.id, { userId: b } as never)],
      ['messages.search userId', (tx) => tx.messages.search('x', { userId: b } as never)],
    ];
    const before = { mine: await countRows(db.admin, a!), others: await snapshotOthers(db.admin, a) };
    for (const [label, attempt] of attempts) {
      await assert.rejects(store.withUser(a!, attempt), (error: unknown) => {
        assert.ok(error instanceof ValidationError, `${label}: ValidationError, got ${(error as Error)?.name}`);
        assert.ok(
          error.issues.some((issue) => issue.code === 'unrecognized_keys'),
          `${label}: refused for the unknown key (${JSON.stringify(error.issues)})`,
        );
        return true;
      });
    }
    assert.deepEqual({ mine: await countRows(db.admin, a!), others: await snapshotOthers(db.admin, a) }, before);
  });

  test('inherited userId / user_id keys are refused too (an input must be a plain object), nothing written', async () => {
    const [a] = await db.createUsers(1);
    const input = Object.assign(Object.create({ userId: victim.userId, user_id: victim.userId }) as object, { title: 'inherited' });
    await assert.rejects(store.withUser(a!, (tx) => tx.tasks.create(input as { title: string })), (error: unknown) => {
      assert.ok(error instanceof ValidationError);
      assert.deepEqual(error.issues.map((issue) => issue.code), ['not_plain_data']);
      return true;
    });
    assert.deepEqual(await countRows(db.admin, a!), { users: 1, tasks: 0, conversations: 0, messages: 0, tool_calls: 0, tool_results: 0, turn_usage: 0 });
  });

  test('a user id inside tool call arguments is data, not identity', async () => {
    const [a] = await db.createUsers(1);
    const message = await store.withUser(a!, async (tx) => {
      const conversation = await tx.conversations.create({});
      return tx.messages.append(conversation.id, {
        role: 'assistant',
        toolCalls: [{ id: 'c1', name: 'impersonate', arguments: { user_id: victim.userId, userId: victim.userId } }],
      });
    });
    const { rows } = await db.admin.query('select user_id, tool_calls from todo_chat.messages where id = $1 and user_id = $2', [message.id, a]);
    assert.deepEqual(rows, [{ user_id: a, tool_calls: [{ id: 'c1', name: 'impersonate', arguments: { user_id: victim.userId, userId: victim.userId } }] }]);
  });
});

describe('a bad user id is a ValidationError before any connection is attempted', () => {
  const a = crypto.randomUUID();
  const badIds: [string, unknown][] = [
    ['undefined', undefined],
    ['null', null],
    ['empty', ''],
    ['blank', '   '],
    ['the word null', 'null'],
    ['not a uuid', 'not-a-uuid'],
    ['nil uuid', '00000000-0000-0000-0000-000000000000'],
    ['braces', `{${a}}`],
    ['urn form', `urn:uuid:${a}`],
    ['no hyphens', a.replace(/-/g, '')],
    ['trailing newline', `${a}\n`],
    ['leading space', ` ${a}`],
    ['trailing space', `${a} `],
    ['zero-width space inside', `${a.slice(0, 8)}\u200b${a.slice(8)}`],
    ['NUL inside', `${a.slice(0, 8)}\u0000${a.slice(8)}`],
    ['one character short', a.slice(0, -1)],
    ['one character long', `${a}0`],
    ['a non-hex letter', `g${a.slice(1)}`],
    ['fullwidth digits', a.replace(/[0-9]/g, (d) => String.fromCharCode(0xff10 + Number(d)))],
    ['arabic-indic digit', `\u0663${a.slice(1)}`],
    ['cyrillic a for latin a', `\u0430${a.slice(1)}`],
    ['wrong grouping', `${a.slice(0, 7)}-${a.slice(7, 8)}${a.slice(9)}`],
    ['injection after a uuid', `${a}'; reset role; --`],
    ['injection instead of a uuid', `'); select set_config('todo_chat.user_id', '${a}', false); --`],
    ['sql or-true', `' or '1'='1`],
    ['number', 123],
    ['boolean', true],
    ['object with toString', { toString: () => a }],
    ['String object', new String(a)],
    ['array', [a]],
  ];

  let closedStore: Store;
  let connectAttempts = 0;
  let closedPool: pg.Pool;
  before(async () => {
    // Nothing listens on this port: any connection attempt fails with DatabaseUnavailableError.
    const port = await freePort();
    closedPool = rawPool(`postgres://postgres:postgres@127.0.0.1:${port}/nothing`, 1);
    const connect = closedPool.connect.bind(closedPool) as () => Promise<pg.PoolClient>;
    (closedPool as unknown as { connect: () => Promise<pg.PoolClient> }).connect = () => {
      connectAttempts++;
      return connect();
    };
    closedStore = createStore({ pool: closedPool, retry: { connection: 3, baseDelayMs: 1 } });
  });

  for (const [label, id] of badIds) {
    test(`${label}: ValidationError, callback not run, no connection attempted`, async () => {
      let ran = false;
      await assert.rejects(
        closedStore.withUser(id as string, async () => {
          ran = true;
        }),
        (error: unknown) => {
          assert.ok(error instanceof ValidationError, `ValidationError, got ${(error as Error)?.name}: ${(error as Error)?.message}`);
          assert.deepEqual(error.issues.length > 0, true);
          return true;
        },
      );
      assert.equal(ran, false);
      assert.equal(connectAttempts, 0);
    });
  }

  test('the control: a valid id does attempt the connection (DatabaseUnavailableError, after the retries before the callback)', async () => {
    await assert.rejects(closedStore.withUser(a, async () => undefined), DatabaseUnavailableError);
    assert.equal(connectAttempts, 3);
    connectAttempts = 0;
  });

  test('an upper- or mixed-case uuid is the same user as its lower-case form', async () => {
    const [user] = await db.createUsers(1);
    await store.withUser(user!, (tx) => tx.tasks.create({ title: 'case test' }));
    for (const spelling of [user!.toUpperCase(), user!.replace(/[a-f]/g, (c, i: number) => (i % 2 ? c.toUpperCase() : c))]) {
      const seen = await store.withUser(spelling, async (tx) => ({ userId: tx.userId, tasks: (await tx.tasks.list()).items.map((t) => t.title) }));
      assert.deepEqual(seen, { userId: user, tasks: ['case test'] });
    }
  });
});

describe('what a raw client in a user context can do (no raw client is public: see the next suite)', () => {
  async function who(client: pg.PoolClient): Promise<{ role: string; session: string; userId: string; tasks: number }> {
    const { rows } = await client.query(
      `select current_user as role, session_user as session, current_setting('todo_chat.user_id', true) as "userId",
         (select count(*)::int from todo_chat.tasks) as tasks`,
    );
    return rows[0];
  }

  test('with the superuser login the tests use: set_config switches the user; reset role, set role and set session authorization escape row-level security entirely', async () => {
    const [a] = await db.createUsers(1);
    const all = (await db.admin.query('select count(*)::int as n from todo_chat.tasks')).rows[0].n as number;
    const victimTasks = (await db.admin.query('select count(*)::int as n from todo_chat.tasks where user_id = $1', [victim.userId])).rows[0].n;
    await asUser(db.admin, a!, async (client) => {
      assert.deepEqual(await who(client), { role: 'todo_chat_app', session: 'postgres', userId: a, tasks: 0 });

      // set_config in the raw client CAN switch the user: this is why no raw client is exposed.
      assert.equal((await tryStatement(client, `select set_config('todo_chat.user_id', $1, true)`, [victim.userId])).code, 'ok');
      assert.deepEqual(await who(client), { role: 'todo_chat_app', session: 'postgres', userId: victim.userId, tasks: victimTasks });
      await client.query(`select set_config('todo_chat.user_id', $1, true)`, [a]);

      // reset role goes back to the login role: a superuser bypasses row-level security, forced or not.
      assert.equal((await tryStatement(client, 'reset role')).code, 'ok');
      assert.deepEqual(await who(client), { role: 'postgres', session: 'postgres', userId: a, tasks: all });

      await client.query(`select set_config('role', 'todo_chat_app', true)`);
      assert.equal((await tryStatement(client, 'set role postgres')).code, 'ok');
      assert.deepEqual(await who(client), { role: 'postgres', session: 'postgres', userId: a, tasks: all });

      await client.query(`select set_config('role', 'todo_chat_app', true)`);
      assert.equal((await tryStatement(client, 'set session authorization postgres')).code, 'ok');
      assert.deepEqual(await who(client), { role: 'postgres', session: 'postgres', userId: a, tasks: all });
    });
  });

  test('with a least-privilege login (member of the app role, owns nothing): set_config still switches the user, but every role escape is refused', async () => {
    const name = `tcdb_login_${crypto.randomBytes(4).toString('hex')}`;
    const password = crypto.randomBytes(12).toString('hex');
    await db.admin.query(`create role ${name} login noinherit password '${password}'`);
    await db.admin.query(`grant todo_chat_app to ${name}`);
    const pool = rawPool(urlFor(db.name, { name, password }), 1);
    onCleanup(async () => {
      await pool.end();
      await adminQuery(`drop role if exists ${name}`);
    });
    const [a] = await db.createUsers(1);
    const victimTasks = (await db.admin.query('select count(*)::int as n from todo_chat.tasks where user_id = $1', [victim.userId])).rows[0].n;

    await asUser(pool, a!, async (client) => {
      assert.deepEqual(await who(client), { role: 'todo_chat_app', session: name, userId: a, tasks: 0 });

      // The setting is not protected by any role: a raw client switches users whatever it logged in as.
      await client.query(`select set_config('todo_chat.user_id', $1, true)`, [victim.userId]);
      assert.equal((await who(client)).tasks, victimTasks);
      await client.query(`select set_config('todo_chat.user_id', $1, true)`, [a]);

      // Writing user_id, truncating, disabling RLS: refused (column grants, no truncate, not the owner).
      assert.equal((await tryStatement(client, 'insert into todo_chat.tasks (user_id, title) values ($1, $2)', [victim.userId, 'x'])).code, '42501');
      assert.equal((await tryStatement(client, 'truncate todo_chat.tasks')).code, '42501');
      assert.equal((await tryStatement(client, 'alter table todo_chat.tasks disable row level security')).code, '42501');

      // Escaping the role: reset role lands on the login role, which has no privilege on the tables at all.
      assert.equal((await tryStatement(client, 'reset role')).code, 'ok');
      assert.equal((await tryStatement(client, 'select count(*) from todo_chat.tasks')).code, '42501');
      assert.equal((await tryStatement(client, 'set role postgres')).code, '42501');
      assert.equal((await tryStatement(client, 'set session authorization postgres')).code, '42501');
      assert.equal((await tryStatement(client, 'select count(*) from todo_chat.tasks')).code, '42501');
    });
  });
});

/** Plausible arguments for every repository method, to call each on a finished transaction. */
function argumentsFor(method: string): unknown[] | undefined {
  const id = crypto.randomUUID();
  const table: Record<string, unknown[]> = {
    'tasks.create': [{ title: 'x' }],
    'tasks.get': [id],
    'tasks.list': [],
    'tasks.update': [id, { title: 'x' }],
    'tasks.complete': [id],
    'tasks.reopen': [id],
    'tasks.delete': [id],
    'conversations.create': [{}],
    'conversations.get': [id],
    'conversations.list': [],
    'conversations.rename': [id, 'x'],
    'conversations.archive': [id],
    'conversations.unarchive': [id],
    'conversations.delete': [id],
    'messages.append': [id, { role: 'user', content: 'x' }],
    'messages.appendTurn': [id, [{ role: 'user', content: 'x' }]],
    'messages.history': [id],
    'messages.all': [id],
    'messages.batches': [id],
    'messages.get': [id, 'x'],
    'messages.pop': [id],
    'messages.clear': [id],
    'messages.replace': [id, 'x', { role: 'user', content: 'x' }],
    'messages.search': ['x'],
    'users.ensure': [],
    'users.get': [],
    'users.delete': [],
    'users.export': [],
    'users.exportBatches': [],
    'toolCalls.list': [],
    'usage.record': [id, { model: 'x', requests: 1, inputTokens: 1, outputTokens: 1 }],
    'usage.total': [],
  };
  return table[method];
}

function methodsOf(tx: Transaction): [string, (...args: unknown[]) => Promise<unknown>][] {
  return (['tasks', 'conversations', 'messages', 'users', 'toolCalls', 'usage'] as const).flatMap((repo) =>
    Object.entries(tx[repo]).map(([name, fn]) => [`${repo}.${name}`, fn as (...args: unknown[]) => Promise<unknown>] as [string, (...args: unknown[]) => Promise<unknown>]),
  );
}

describe('the public transaction object', () => {
  test('exposes the repositories and the user id, nothing that reaches a client', async () => {
    const [a] = await db.createUsers(1);
    await store.withUser(a!, async (tx) => {
      assert.deepEqual(Object.keys(tx).sort(), ['conversations', 'messages', 'tasks', 'toolCalls', 'usage', 'userId', 'users']);
      assert.deepEqual(Reflect.ownKeys(tx).sort(), ['conversations', 'messages', 'tasks', 'toolCalls', 'usage', 'userId', 'users']);
      assert.ok(Object.isFrozen(tx));
      assert.equal(Object.getPrototypeOf(tx), Object.prototype);
      // Walk everything reachable through properties (own and inherited, enumerable or not).
      const forbidden = /client|query|connection|session|pool|release|socket|stream/i;
      const seen = new Set<unknown>();
      const found: string[] = [];
      const walk = (value: unknown, path: string) => {
        if ((typeof value !== 'object' && typeof value !== 'function') || value === null || seen.has(value)) return;
        if (value === Object.prototype || value === Function.prototype) return;
        seen.add(value);
        for (let o: object | null = value as object; o && o !== Object.prototype && o !== Function.prototype; o = Object.getPrototypeOf(o)) {
          for (const key of Reflect.ownKeys(o)) {
            if (forbidden.test(String(key))) found.push(`${path}.${String(key)}`);
            const descriptor = Object.getOwnPropertyDescriptor(o, key)!;
            if ('value' in descriptor) walk(descriptor.value, `${path}.${String(key)}`);
          }
        }
      };
      walk(tx, 'tx');
      assert.deepEqual(found, []);
      for (const [name, fn] of methodsOf(tx)) {
        assert.equal(typeof fn, 'function', name);
        assert.deepEqual(Object.keys(fn), [], `${name} carries no properties`);
      }
    });
  });

  test('every method of a finished transaction throws UsageError (after commit and after rollback), and nothing is written', async () => {
    const [a] = await db.createUsers(1);
    let committed: Transaction | undefined;
    await store.withUser(a!, async (tx) => {
      committed = tx;
    });
    let rolledBack: Transaction | undefined;
    await assert.rejects(
      store.withUser(a!, async (tx) => {
        rolledBack = tx;
        throw new Error('abort');
      }),
      /abort/,
    );
    const before = { mine: await countRows(db.admin, a!), others: await snapshotOthers(db.admin, a) };
    for (const tx of [committed!, rolledBack!]) {
      for (const [name, fn] of methodsOf(tx)) {
        const args = argumentsFor(name);
        assert.ok(args, `no arguments for tx.${name}: add them to argumentsFor in test/security/injection.test.ts`);
        const called = fn(...args) as Promise<unknown> | AsyncGenerator<unknown>;
        // A method that reads in batches returns an async iterator: its first batch is where it queries.
        const first = Symbol.asyncIterator in called ? called.next() : called;
        await assert.rejects(first, UsageError, `tx.${name} on a finished transaction`);
      }
    }
    assert.deepEqual({ mine: await countRows(db.admin, a!), others: await snapshotOthers(db.admin, a) }, before);
  });

  test("A's leaked transaction used inside B's transaction on the same pooled connection: UsageError, B's context untouched", async () => {
    const pool = db.pool(1);
    const oneConnection = createStore({ pool });
    const [a, b] = await db.createUsers(2);
    let leaked: Transaction | undefined;
    await oneConnection.withUser(a!, async (tx) => {
      leaked = tx;
    });
    const result = await oneConnection.withUser(b!, async (tx) => {
      await assert.rejects(leaked!.tasks.create({ title: 'written as A through B' }), UsageError);
      await assert.rejects(leaked!.tasks.list(), UsageError);
      return { userId: tx.userId, me: (await tx.users.get()).id, tasks: (await tx.tasks.list()).items.length };
    });
    assert.deepEqual(result, { userId: b, me: b, tasks: 0 });
    assert.deepEqual((await db.admin.query('select count(*)::int as n from todo_chat.tasks where user_id = any($1)', [[a, b]])).rows, [{ n: 0 }]);
  });

  test('withUser for another user inside an open transaction is a UsageError, and the outer transaction is rolled back with it', async () => {
    const [a, b] = await db.createUsers(2);
    await assert.rejects(
      store.withUser(a!, async (tx) => {
        await tx.tasks.create({ title: 'outer' });
        await store.withUser(b!, (inner) => inner.tasks.create({ title: 'inner' }));
      }),
      UsageError,
    );
    assert.deepEqual((await db.admin.query('select count(*)::int as n from todo_chat.tasks where user_id = any($1)', [[a, b]])).rows, [{ n: 0 }]);
  });

  test('async work a callback leaves behind runs in its own transaction once that callback has ended (no stale context)', async () => {
    const [a, b] = await db.createUsers(2);
    let later: Promise<unknown> | undefined;
    let sameUserLater: Promise<unknown> | undefined;
    await store.withUser(a!, async (tx) => {
      await tx.tasks.create({ title: 'from the request' });
      const afterEnd = new Promise((resolve) => setTimeout(resolve, 0));
      // Started inside A's callback, run after it committed: it must get a fresh transaction,
      // neither a UsageError for "another user inside an open transaction" nor A's ended tx.
      later = afterEnd.then(() => store.withUser(b!, async (inner) => ({ userId: inner.userId, me: (await inner.users.get()).id })));
      sameUserLater = afterEnd.then(() => store.withUser(a!, async (inner) => (await inner.tasks.list()).items.map((t) => t.title)));
    });
    assert.deepEqual(await later, { userId: b, me: b });
    assert.deepEqual(await sameUserLater, ['from the request']);
  });
});
