import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, test } from 'node:test';
import { createTestDatabase } from '../helpers/db.js';
import { asUser, withoutTriggers } from '../helpers/transaction.js';
import { assertOrderedIndexScan, explainQuery } from '../helpers/plans.js';
import { snapshotRows } from '../helpers/snapshots.js';
import { ConflictError, NotFoundError, ValidationError, type ListTasksOptions, type Task } from '../../src/index.js';
import * as q from '../../src/queries/tasks.queries.js';

const db = await createTestDatabase();
const store = db.store();

const newUser = () => db.createUser();

describe('tasks: create and get', () => {
  test('create returns the stored row, get reads it back', async () => {
    const user = await newUser();
    const created = await store.withUser(user, (tx) => tx.tasks.create({ title: '  Buy milk \n', description: 'two litres' }));
    assert.equal(created.title, 'Buy milk', 'surrounding white space is trimmed');
    assert.equal(created.description, 'two litres');
    assert.equal(created.completed, false);
    assert.equal(created.completedAt, null);
    assert.equal(created.version, 1);
    assert.ok(created.createdAt instanceof Date && created.updatedAt instanceof Date);
    assert.match(created.id, /^[0-9a-f-]{36}$/);
    const read = await store.withUser(user, (tx) => tx.tasks.get(created.id));
    assert.deepEqual(read, created);
    const stored = await db.admin.query('select user_id, title from todo_chat.tasks where id = $1', [created.id]);
    assert.deepEqual(stored.rows, [{ user_id: user, title: 'Buy milk' }], 'user_id comes from the context');
  });

  test('a caller-chosen id is kept (upper case normalised); repeating it returns the stored task, other content is a ConflictError', async () => {
    const user = await newUser();
    const id = crypto.randomUUID();
    const created = await store.withUser(user, (tx) => tx.tasks.create({ id: id.toUpperCase(), title: 'chosen id' }));
    assert.equal(created.id, id);
    // An idempotent write: the retry of a create whose commit outcome was unknown.
    const again = await store.withUser(user, (tx) => tx.tasks.create({ id, title: 'chosen id' }));
    assert.deepEqual(again, created);
    for (const other of [{ title: 'again' }, { title: 'chosen id', description: 'more' }, { title: 'chosen id', completed: true }]) {
      await assert.rejects(
        store.withUser(user, (tx) => tx.tasks.create({ id, ...other })),
        (error: unknown) => error instanceof ConflictError && /already exists with other content/.test(error.message),
      );
    }
    const rows = await db.admin.query('select title from todo_chat.tasks where id = $1', [id]);
    assert.deepEqual(rows.rows, [{ title: 'chosen id' }]);
  });

  test('create completed sets completedAt; description defaults to empty', async () => {
    const user = await newUser();
    const task = await store.withUser(user, (tx) => tx.tasks.create({ title: 'done already', completed: true }));
    assert.equal(task.completed, true);
    assert.ok(task.completedAt instanceof Date);
    assert.equal(task.description, '');
  });

  test('create for a user whose row does not exist is a NotFoundError for the user', async () => {
    const ghost = crypto.randomUUID();
    await assert.rejects(
      store.withUser(ghost, (tx) => tx.tasks.create({ title: 'orphan' })),
      (error: unknown) => error instanceof NotFoundError && error.entity === 'user' && error.sqlState === '23503',
    );
    const rows = await db.admin.query('select count(*)::int as n from todo_chat.tasks where user_id = $1', [ghost]);
    assert.equal(rows.rows[0].n, 0);
  });

  test('invalid input is a ValidationError with the zod issues, before any query', async () => {
    const user = await newUser();
    const names: string[] = [];
    const observed = db.store({ onQuery: (event) => names.push(event.query) });
    for (const input of [
      { title: '   ' },
      { title: 'ok', extra: 1 },
      { title: 42 },
      { title: 'ok', completed: 'yes' },
      { title: 'ok', id: 'not-a-uuid' },
      { title: 'ok', description: 'a\u0000b' },
    ]) {
      await assert.rejects(
        observed.withUser(user, (tx) => tx.tasks.create(input as never)),
        (error: unknown) => error instanceof ValidationError && error.issues.length > 0 && error.constraint === undefined,
        JSON.stringify(input),
      );
    }
    await assert.rejects(observed.withUser(user, (tx) => tx.tasks.get('nope')), ValidationError);
    assert.deepEqual(names, [], 'no query ran');
  });

  test('get of an unknown id is a NotFoundError naming the task', async () => {
    const user = await newUser();
    const id = crypto.randomUUID();
    await assert.rejects(
      store.withUser(user, (tx) => tx.tasks.get(id)),
      (error: unknown) => error instanceof NotFoundError && error.entity === 'task' && error.id === id,
    );
  });
});

describe('tasks: update, complete, reopen, delete', () => {
  test('update is a partial patch: only the given fields change, version moves on', async () => {
    const user = await newUser();
    const task = await store.withUser(user, (tx) => tx.tasks.create({ title: 'draft', description: 'keep me' }));
    const renamed = await store.withUser(user, (tx) => tx.tasks.update(task.id, { title: ' final ' }));
    assert.equal(renamed.title, 'final');
    assert.equal(renamed.description, 'keep me');
    assert.equal(renamed.completed, false);
    assert.equal(renamed.version, 2);
    const described = await store.withUser(user, (tx) => tx.tasks.update(task.id, { description: '' }));
    assert.equal(described.title, 'final');
    assert.equal(described.description, '', 'an empty description is a value, not "keep"');
    assert.equal(described.version, 3);
    const completed = await store.withUser(user, (tx) => tx.tasks.update(task.id, { completed: true }));
    assert.equal(completed.completed, true);
    assert.ok(completed.completedAt instanceof Date);
    assert.equal(completed.version, 4);
    await assert.rejects(store.withUser(user, (tx) => tx.tasks.update(task.id, {})), ValidationError);
    await assert.rejects(store.withUser(user, (tx) => tx.tasks.update(task.id, { expectedVersion: 4 })), ValidationError);
    assert.deepEqual(await store.withUser(user, (tx) => tx.tasks.get(task.id)), completed);
  });

  test('updatedAt is set by the database on every update', async () => {
    const user = await newUser();
    const task = await store.withUser(user, (tx) => tx.tasks.create({ title: 'old' }));
    await withoutTriggers(db.admin, "update todo_chat.tasks set updated_at = '2001-01-01T00:00:00Z' where id = $1", [task.id]);
    const updated = await store.withUser(user, (tx) => tx.tasks.update(task.id, { title: 'new' }));
    assert.ok(updated.updatedAt.getTime() > Date.parse('2001-01-01T00:00:00Z'));
    assert.equal(updated.createdAt.getTime(), task.createdAt.getTime());
  });

  test('complete and reopen maintain completedAt', async () => {
    const user = await newUser();
    const task = await store.withUser(user, (tx) => tx.tasks.create({ title: 'water plants' }));
    const done = await store.withUser(user, (tx) => tx.tasks.complete(task.id));
    assert.equal(done.completed, true);
    assert.ok(done.completedAt instanceof Date);

    // A completion in the past must survive completing again.
    await withoutTriggers(db.admin, "update todo_chat.tasks set completed_at = '2002-02-02T00:00:00Z' where id = $1", [task.id]);
    const again = await store.withUser(user, (tx) => tx.tasks.complete(task.id));
    assert.equal(again.completedAt?.toISOString(), '2002-02-02T00:00:00.000Z', 'completing a completed task keeps completedAt');

    const reopened = await store.withUser(user, (tx) => tx.tasks.reopen(task.id));
    assert.equal(reopened.completed, false);
    assert.equal(reopened.completedAt, null);
    const reopenedAgain = await store.withUser(user, (tx) => tx.tasks.reopen(task.id));
    assert.equal(reopenedAgain.completedAt, null);

    const redone = await store.withUser(user, (tx) => tx.tasks.complete(task.id));
    assert.ok(redone.completedAt instanceof Date);
    assert.notEqual(redone.completedAt.toISOString(), '2002-02-02T00:00:00.000Z', 'a new completion gets a new time');
    const stored = await db.admin.query('select completed, completed_at from todo_chat.tasks where id = $1', [task.id]);
    assert.equal(stored.rows[0].completed, true);
    assert.equal(stored.rows[0].completed_at.getTime(), redone.completedAt.getTime());
  });

  test('complete and reopen accept expectedVersion', async () => {
    const user = await newUser();
    const task = await store.withUser(user, (tx) => tx.tasks.create({ title: 'versioned' }));
    await assert.rejects(store.withUser(user, (tx) => tx.tasks.complete(task.id, { expectedVersion: 7 })), ConflictError);
    const done = await store.withUser(user, (tx) => tx.tasks.complete(task.id, { expectedVersion: 1 }));
    assert.equal(done.version, 2);
    await assert.rejects(store.withUser(user, (tx) => tx.tasks.reopen(task.id, { expectedVersion: 1 })), ConflictError);
    assert.equal((await store.withUser(user, (tx) => tx.tasks.get(task.id))).completed, true);
  });

  test('update with expectedVersion: the right version wins, a stale one is a ConflictError and changes nothing', async () => {
    const user = await newUser();
    const task = await store.withUser(user, (tx) => tx.tasks.create({ title: 'v1' }));
    const v2 = await store.withUser(user, (tx) => tx.tasks.update(task.id, { title: 'v2', expectedVersion: 1 }));
    assert.equal(v2.version, 2);
    await assert.rejects(
      store.withUser(user, (tx) => tx.tasks.update(task.id, { title: 'stale', expectedVersion: 1 })),
      (error: unknown) => error instanceof ConflictError && /version 2, not the expected 1/.test(error.message),
    );
    assert.equal((await store.withUser(user, (tx) => tx.tasks.get(task.id))).title, 'v2');
    await assert.rejects(store.withUser(user, (tx) => tx.tasks.update(task.id, { title: 'x', expectedVersion: 0 })), ValidationError);
    await assert.rejects(store.withUser(user, (tx) => tx.tasks.update(task.id, { title: 'x', expectedVersion: 1.5 })), ValidationError);
  });

  test('without expectedVersion the last write wins', async () => {
    const user = await newUser();
    const task = await store.withUser(user, (tx) => tx.tasks.create({ title: 'start' }));
    // Two clients both read version 1, then both write without a version.
    const [a, b] = await Promise.all([
      store.withUser(user, (tx) => tx.tasks.get(task.id)),
      store.withUser(user, (tx) => tx.tasks.get(task.id)),
    ]);
    assert.equal(a.version, 1);
    assert.equal(b.version, 1);
    await store.withUser(user, (tx) => tx.tasks.update(task.id, { title: 'first writer' }));
    const last = await store.withUser(user, (tx) => tx.tasks.update(task.id, { title: 'second writer' }));
    assert.equal(last.title, 'second writer');
    assert.equal(last.version, 3);
  });

  test('a writer that commits while another holds the row makes the waiting expectedVersion update a ConflictError', async () => {
    const user = await newUser();
    const task = await store.withUser(user, (tx) => tx.tasks.create({ title: 'contended' }));
    let releaseFirst!: () => void;
    const firstMayCommit = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstUpdated!: () => void;
    const firstHasLock = new Promise<void>((resolve) => (firstUpdated = resolve));
    const first = store.withUser(user, async (tx) => {
      const row = await tx.tasks.update(task.id, { title: 'first', expectedVersion: 1 });
      firstUpdated();
      await firstMayCommit;
      return row;
    });
    await firstHasLock;
    const second = store.withUser(user, (tx) => tx.tasks.update(task.id, { title: 'second', expectedVersion: 1 }));
    const secondOutcome = second.then(
      () => 'resolved',
      (error: unknown) => error,
    );
    // Wait until the second update is blocked on the row lock the first holds.
    for (;;) {
      const waiting = await db.admin.query(
        "select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query like '%update todo_chat.tasks%'",
      );
      if (waiting.rows[0].n > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    releaseFirst();
    assert.equal((await first).title, 'first');
    const outcome = await secondOutcome;
    assert.ok(outcome instanceof ConflictError, `second update: ${String(outcome)}`);
    const final = await store.withUser(user, (tx) => tx.tasks.get(task.id));
    assert.equal(final.title, 'first');
    assert.equal(final.version, 2);
  });

  test('delete removes the task; a second delete is a NotFoundError', async () => {
    const user = await newUser();
    const task = await store.withUser(user, (tx) => tx.tasks.create({ title: 'temporary' }));
    await store.withUser(user, (tx) => tx.tasks.delete(task.id));
    await assert.rejects(store.withUser(user, (tx) => tx.tasks.get(task.id)), NotFoundError);
    await assert.rejects(
      store.withUser(user, (tx) => tx.tasks.delete(task.id)),
      (error: unknown) => error instanceof NotFoundError && error.id === task.id,
    );
  });

  test('delete with expectedVersion: stale is a ConflictError and keeps the task, current deletes it', async () => {
    const user = await newUser();
    const task = await store.withUser(user, (tx) => tx.tasks.create({ title: 'careful' }));
    await store.withUser(user, (tx) => tx.tasks.update(task.id, { title: 'careful, edited' }));
    await assert.rejects(store.withUser(user, (tx) => tx.tasks.delete(task.id, { expectedVersion: 1 })), ConflictError);
    assert.equal((await store.withUser(user, (tx) => tx.tasks.get(task.id))).title, 'careful, edited');
    await store.withUser(user, (tx) => tx.tasks.delete(task.id, { expectedVersion: 2 }));
    const left = await db.admin.query('select count(*)::int as n from todo_chat.tasks where id = $1', [task.id]);
    assert.equal(left.rows[0].n, 0);
    await assert.rejects(store.withUser(user, (tx) => tx.tasks.delete(task.id, { expectedVersion: 2 })), NotFoundError);
  });
});

describe("tasks: another user's ids", () => {
  test('get, update, complete, reopen and delete of another user\'s task are NotFoundError and change nothing', async () => {
    const [owner, intruder] = await db.createUsers(2);
    const task = await store.withUser(owner!, (tx) => tx.tasks.create({ title: 'private', description: 'secret' }));
    const before = await snapshotRows(db.admin, [owner!, intruder!]);
    const attempts: [string, (tx: Parameters<Parameters<typeof store.withUser>[1]>[0]) => Promise<unknown>][] = [
      ['get', (tx) => tx.tasks.get(task.id)],
      ['update', (tx) => tx.tasks.update(task.id, { title: 'hijacked' })],
      ['update with version', (tx) => tx.tasks.update(task.id, { title: 'hijacked', expectedVersion: 1 })],
      ['update with wrong version', (tx) => tx.tasks.update(task.id, { title: 'hijacked', expectedVersion: 9 })],
      ['complete', (tx) => tx.tasks.complete(task.id)],
      ['reopen', (tx) => tx.tasks.reopen(task.id)],
      ['delete', (tx) => tx.tasks.delete(task.id)],
      ['delete with version', (tx) => tx.tasks.delete(task.id, { expectedVersion: 1 })],
    ];
    for (const [name, attempt] of attempts) {
      await assert.rejects(
        store.withUser(intruder!, attempt),
        (error: unknown) => error instanceof NotFoundError && error.entity === 'task' && error.id === task.id,
        name,
      );
    }
    const list = await store.withUser(intruder!, (tx) => tx.tasks.list());
    assert.deepEqual(list.items, []);
    assert.deepEqual(await snapshotRows(db.admin, [owner!, intruder!]), before, 'nothing changed');
    assert.deepEqual(await store.withUser(owner!, (tx) => tx.tasks.get(task.id)), task);
  });

  test("creating a task with the id of another user's task does not touch theirs", async () => {
    const [owner, other] = await db.createUsers(2);
    const task = await store.withUser(owner!, (tx) => tx.tasks.create({ title: 'mine' }));
    const copy = await store.withUser(other!, (tx) => tx.tasks.create({ id: task.id, title: 'theirs' }));
    assert.equal(copy.id, task.id);
    assert.equal((await store.withUser(owner!, (tx) => tx.tasks.get(task.id))).title, 'mine');
    assert.equal((await store.withUser(other!, (tx) => tx.tasks.get(task.id))).title, 'theirs');
  });
});

describe('tasks: keyset pagination over 1,000 tasks', async () => {
  const user = await newUser();
  const others = await db.createUsers(19);
  // 1,000 tasks in groups of 8 sharing one created_at, one group of 100 sharing
  // another, random ids, a third completed: ties everywhere a cursor could slip.
  await db.admin.query(
    `insert into todo_chat.tasks (user_id, title, completed, created_at)
     select $1, 'task ' || g, g % 3 = 0,
       case when g <= 100 then timestamptz '2024-03-01T12:00:00Z'
            else timestamptz '2024-01-01T00:00:00Z' + (g / 8) * interval '1 millisecond' end
     from generate_series(1, 1000) as g`,
    [user],
  );
  // Other users' tasks, so that lists must also skip rows that are not the user's.
  await db.admin.query(
    `insert into todo_chat.tasks (user_id, title, completed, created_at)
     select u, 'other ' || g, g % 2 = 0, timestamptz '2024-01-01T00:00:00Z' + (g / 4) * interval '1 millisecond'
     from unnest($1::uuid[]) as u, generate_series(1, 1000) as g`,
    [others],
  );
  await db.admin.query('analyze todo_chat.tasks');
  const all = (await db.admin.query<{ id: string; created_at: Date; completed: boolean }>(
    'select id, created_at, completed from todo_chat.tasks where user_id = $1',
    [user],
  )).rows;
  const oldestFirst = [...all].sort((a, b) => a.created_at.getTime() - b.created_at.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  assert.equal(oldestFirst.length, 1000);

  async function walk(options: Omit<ListTasksOptions, 'cursor'>): Promise<{ ids: string[]; pages: number }> {
    const ids: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await store.withUser(user, (tx) => tx.tasks.list({ ...options, ...(cursor ? { cursor } : {}) }));
      pages++;
      assert.ok(page.items.length <= (options.limit ?? 50));
      ids.push(...page.items.map((task: Task) => task.id));
      if (page.nextCursor === null) break;
      assert.equal(page.items.length, options.limit ?? 50, 'only the last page is short');
      cursor = page.nextCursor;
      assert.ok(pages < 2000, 'the walk ends');
    }
    return { ids, pages };
  }

  for (const order of ['newest', 'oldest'] as const) {
    for (const completed of [undefined, true, false]) {
      test(`order ${order}, completed ${completed ?? 'any'}: every task exactly once, in order`, async () => {
        const limit = completed === undefined ? 37 : 23;
        const expected = (order === 'oldest' ? oldestFirst : [...oldestFirst].reverse())
          .filter((row) => completed === undefined || row.completed === completed)
          .map((row) => row.id);
        const { ids, pages } = await walk({ order, limit, ...(completed === undefined ? {} : { completed }) });
        assert.equal(new Set(ids).size, ids.length, 'no duplicate');
        assert.equal(ids.length, expected.length, 'no gap');
        assert.deepEqual(ids, expected, 'in (created_at, id) order');
        assert.equal(pages, Math.ceil(expected.length / limit), "no empty trailing page");
      });
    }
  }

  test('the default order is newest first and the default page size 50', async () => {
    const page = await store.withUser(user, (tx) => tx.tasks.list());
    assert.equal(page.items.length, 50);
    assert.deepEqual(
      page.items.map((task) => task.id),
      [...oldestFirst].reverse().slice(0, 50).map((row) => row.id),
    );
  });

  test('a page size of 200 is allowed, 0 and 201 are not', async () => {
    const page = await store.withUser(user, (tx) => tx.tasks.list({ limit: 200 }));
    assert.equal(page.items.length, 200);
    for (const limit of [0, 201, 1.5]) {
      await assert.rejects(store.withUser(user, (tx) => tx.tasks.list({ limit })), ValidationError, String(limit));
    }
  });

  test('a cursor only works for the list it came from; a tampered cursor is a ValidationError', async () => {
    const first = await store.withUser(user, (tx) => tx.tasks.list({ order: 'newest', limit: 5 }));
    assert.ok(first.nextCursor);
    for (const options of [{ order: 'oldest' as const }, { completed: true }, { order: 'newest' as const, completed: false }]) {
      await assert.rejects(
        store.withUser(user, (tx) => tx.tasks.list({ ...options, cursor: first.nextCursor! })),
        ValidationError,
        JSON.stringify(options),
      );
    }
    const tampered = Buffer.from(JSON.stringify(['tasks:newest:all', 'not a date', crypto.randomUUID()])).toString('base64url');
    for (const cursor of ['garbage', tampered, '', Buffer.from('{}').toString('base64url')]) {
      await assert.rejects(store.withUser(user, (tx) => tx.tasks.list({ cursor })), ValidationError, cursor);
    }
  });

  test("another user's cursor pages through the current user's own tasks only", async () => {
    const first = await store.withUser(user, (tx) => tx.tasks.list({ limit: 3 }));
    const page = await store.withUser(others[0]!, (tx) => tx.tasks.list({ cursor: first.nextCursor!, limit: 200 }));
    const theirs = await db.admin.query('select id from todo_chat.tasks where user_id = $1', [others[0]]);
    const ownIds = new Set(theirs.rows.map((row: { id: string }) => row.id));
    assert.ok(page.items.length > 0);
    for (const task of page.items) assert.ok(ownIds.has(task.id));
  });

  test('EXPLAIN: every task list is an index scan in order, without a sort, under row-level security', async () => {
    const queries = [
      ['ListTasksNewest', q.listTasksNewest, { userId: user, cursorAt: 'infinity', cursorId: 'ffffffff-ffff-ffff-ffff-ffffffffffff', limit: 51 }, 'Backward', 'tasks_user_created_idx'],
      ['ListTasksOldest', q.listTasksOldest, { userId: user, cursorAt: '-infinity', cursorId: '00000000-0000-0000-0000-000000000000', limit: 51 }, 'Forward', 'tasks_user_created_idx'],
      ['ListTasksNewestByCompleted', q.listTasksNewestByCompleted, { userId: user, completed: true, cursorAt: 'infinity', cursorId: 'ffffffff-ffff-ffff-ffff-ffffffffffff', limit: 51 }, 'Backward', 'tasks_user_completed_created_idx'],
      ['ListTasksOldestByCompleted', q.listTasksOldestByCompleted, { userId: user, completed: false, cursorAt: '-infinity', cursorId: '00000000-0000-0000-0000-000000000000', limit: 51 }, 'Forward', 'tasks_user_completed_created_idx'],
      // A page from the middle, with a cursor taken from a real row.
      ['ListTasksNewest (cursor)', q.listTasksNewest, { userId: user, cursorAt: oldestFirst[500]!.created_at, cursorId: oldestFirst[500]!.id, limit: 51 }, 'Backward', 'tasks_user_created_idx'],
    ] as const;
    await asUser(db.admin, user, async (client) => {
      for (const [name, query, params, direction, index] of queries) {
        const plan = await explainQuery(client, query as never, params as never);
        // The filtered index, or the plain one read in order with completed as a filter: either is sort-free and stops at the limit.
        assertOrderedIndexScan(plan, { name, relation: 'tasks', indexes: [index, 'tasks_user_created_idx'], direction });
      }
    });
  });
});
