/**
 * "A migration behind a long transaction: other sessions' queries on the
 * table are never blocked for longer than the lock timeout at a time, and the
 * migration ends clearly."
 *
 * A migration statement that needs a table lock queues behind a long
 * transaction holding a lock on the table, and every later query on the table
 * queues behind it: the lock timeout (1 s by default) bounds that stall, the
 * file is rolled back and tried again after a pause during which traffic
 * flows, and after its retries the run fails with a MigrationError naming
 * the file and the session in the way. Measured from other sessions running
 * queries on the table throughout. Also: the same for a down, a migration that
 * succeeds once the transaction ends, and `create index concurrently` in a
 * file of its own (outside a transaction: it never blocks writes; an invalid
 * index left by a failed build is dropped, or named with how to drop it).
 *
 * The migration files these tests apply are written into a temporary copy of
 * the migrations folder, numbered after the shipped ones.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import type pg from 'pg';
import { createTestDatabase, onCleanup, type TestDatabase } from '../helpers/db.js';
import { MigrationError } from '../../src/errors.js';
import { listMigrationFiles, migrateDown, migrateUp, readMigrationStatus } from '../../src/migrate/index.js';
import { DEFAULT_LOCK_TIMEOUT } from '../../src/migrate/session-settings.js';
import { migrationsDir } from '../../src/paths.js';

const files = await listMigrationFiles();
const NEXT = String(files.length + 1).padStart(4, '0');
/** The default lock timeout, which these tests run under. */
const LOCK_TIMEOUT_MS = 1000;
/** Slack for a shared, busy machine on top of the lock timeout: far below what an unbounded wait would show. */
const SLACK_MS = 2000;

/** A copy of the shipped migrations plus one more pair, named `${NEXT}_${name}.sql`. */
function migrationsWith(name: string, up: string, down: string): { dir: string; fileName: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcdb-locks-'));
  onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.cpSync(migrationsDir, dir, { recursive: true });
  const fileName = `${NEXT}_${name}.sql`;
  fs.writeFileSync(path.join(dir, fileName), up);
  fs.writeFileSync(path.join(dir, 'down', fileName), down);
  return { dir, fileName };
}

/** A database with one user's tasks, and a client for the migration. */
async function setUp(): Promise<{ db: TestDatabase; migrator: pg.PoolClient; taskIds: string[] }> {
  const db = await createTestDatabase();
  const user = await db.createUser();
  const taskIds = Array.from({ length: 3 }, () => crypto.randomUUID());
  await db.admin.query("insert into todo_chat.tasks (user_id, id, title) select $1, unnest($2::uuid[]), 'a task'", [user, taskIds]);
  const migrator = await db.admin.connect();
  onCleanup(() => migrator.release());
  return { db, migrator, taskIds };
}

/** A session in a transaction that holds a lock on todo_chat.tasks (row exclusive: it updated the row `taskId`), open until `end`. */
async function longTransaction(db: TestDatabase, application: string, taskId: string): Promise<{ pid: number; end: () => Promise<void> }> {
  const client = await db.pool(1).connect();
  await client.query("select set_config('application_name', $1, false)", [application]);
  await client.query('begin');
  await client.query("update todo_chat.tasks set title = 'held' where id = $1", [taskId]);
  const pid = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
  let ended = false;
  const end = async () => {
    if (ended) return;
    ended = true;
    await client.query('commit');
    client.release();
  };
  onCleanup(end);
  return { pid, end };
}

interface Traffic {
  /** Stops the workers and returns every query's start and duration, in ms. */
  stop: () => Promise<{ startedAt: number; ms: number }[]>;
}

/** Other sessions reading and writing todo_chat.tasks (not the row the long transaction holds, taskIds[0]) in a loop, each query timed. */
function traffic(db: TestDatabase, taskIds: string[]): Traffic {
  const pool = db.pool(3);
  const samples: { startedAt: number; ms: number }[] = [];
  let running = true;
  const statements: [string, unknown[]][] = [
    ['select count(*) from todo_chat.tasks', []],
    ['select title from todo_chat.tasks where id = $1', [taskIds[1]]],
    ["update todo_chat.tasks set description = 'x' where id = $1", [taskIds[2]]],
  ];
  const workers = statements.map(async ([sql, values]) => {
    while (running) {
      const startedAt = performance.now();
      await pool.query(sql, values);
      samples.push({ startedAt, ms: performance.now() - startedAt });
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(workers);
      return samples;
    },
  };
}

function maxMs(samples: { ms: number }[]): number {
  return Math.max(0, ...samples.map((s) => s.ms));
}

async function columnExists(client: pg.ClientBase, table: string, column: string): Promise<boolean> {
  const { rowCount } = await client.query(
    "select 1 from information_schema.columns where table_schema = 'todo_chat' and table_name = $1 and column_name = $2",
    [table, column],
  );
  return rowCount === 1;
}

describe('a migration behind a long transaction', () => {
  test('stalls other sessions at most about the lock timeout at a time, then fails naming the file and the session in the way', async (t) => {
    assert.equal(DEFAULT_LOCK_TIMEOUT, '1s', 'these tests measure the default');
    const { db, migrator, taskIds } = await setUp();
    const { dir, fileName } = migrationsWith(
      'add_task_colour',
      '-- add_task_colour\nalter table todo_chat.tasks add column colour text;\n',
      '-- down\nalter table todo_chat.tasks drop column colour;\n',
    );
    const holder = await longTransaction(db, 'nightly-report', taskIds[0]!);
    const load = traffic(db, taskIds);
    await new Promise((resolve) => setTimeout(resolve, 200));

    const logs: string[] = [];
    const started = performance.now();
    let failure: unknown;
    try {
      await migrateUp(migrator, { dir, lockRetries: 3, lockRetryDelayMs: 300, log: (line) => logs.push(line) });
    } catch (error) {
      failure = error;
    }
    const elapsed = performance.now() - started;
    const samples = await load.stop();

    assert.ok(failure instanceof MigrationError, `the run fails with a MigrationError, got ${String(failure)}`);
    assert.equal(failure.file, fileName);
    assert.equal(failure.sqlState, '55P03');
    assert.match(failure.message, new RegExp(`^migration ${fileName} gave up waiting for a lock on each of its 4 attempt\\(s\\) \\(lock_timeout 1s each, over \\d+\\.\\d s\\)`));
    assert.match(failure.message, /each attempt was rolled back and nothing of it is applied/);
    assert.match(
      failure.message,
      new RegExp(`pid ${holder.pid} \\(user \\w+, application "nightly-report", idle in transaction, transaction open for \\d+\\.\\d s, holding locks on todo_chat\\.tasks\\)`),
      'names the session in the way',
    );
    assert.match(failure.message, /What to do: end that transaction or wait for it to finish, then migrate again/);
    assert.equal(logs.filter((line) => /waited 1s for a lock and gave up \(attempt \d of 4\); rolled back, trying again in \d+ ms/.test(line)).length, 3);

    const during = samples.filter((s) => s.startedAt >= started && s.startedAt < started + elapsed);
    const stall = maxMs(during);
    t.diagnostic(`run ${elapsed.toFixed(0)} ms, ${during.length} queries on the table during it, longest ${stall.toFixed(0)} ms`);
    assert.ok(stall < LOCK_TIMEOUT_MS + SLACK_MS, `the longest query on the table took ${stall.toFixed(0)} ms (bound ${LOCK_TIMEOUT_MS + SLACK_MS} ms)`);
    // The scenario is real: queries did queue behind the migration ...
    assert.ok(stall > LOCK_TIMEOUT_MS / 3, `some query queued behind the migration (longest ${stall.toFixed(0)} ms)`);
    // ... and only at a time: the run lasted several lock timeouts, and traffic flowed between its attempts.
    assert.ok(elapsed > 3 * LOCK_TIMEOUT_MS, `the run lasted ${elapsed.toFixed(0)} ms`);
    assert.ok(during.filter((s) => s.ms < LOCK_TIMEOUT_MS / 4).length >= 4, 'queries went through between the attempts');

    assert.equal(await columnExists(migrator, 'tasks', 'colour'), false, 'nothing of the file is applied');
    assert.deepEqual((await readMigrationStatus(migrator, { dir })).pending.map((f) => f.fileName), [fileName]);
    const { rows } = await db.admin.query('select state from pg_stat_activity where pid = $1', [holder.pid]);
    assert.deepEqual(rows, [{ state: 'idle in transaction' }], 'the migration left the long transaction alone');
    assert.deepEqual((await migrator.query('show lock_timeout')).rows, [{ lock_timeout: '0' }], 'the session setting is restored');

    await holder.end();
    assert.deepEqual((await migrateUp(migrator, { dir })).map((r) => r.fileName), [fileName], 'applies once the way is clear');
    assert.equal(await columnExists(migrator, 'tasks', 'colour'), true);
  });

  test('applies on a later attempt when the long transaction ends during its retries', async () => {
    const { db, migrator, taskIds } = await setUp();
    const { dir, fileName } = migrationsWith(
      'add_task_colour',
      '-- add_task_colour\nalter table todo_chat.tasks add column colour text;\n',
      '-- down\nalter table todo_chat.tasks drop column colour;\n',
    );
    const holder = await longTransaction(db, 'short-report', taskIds[0]!);
    const logs: string[] = [];
    const ending = new Promise((resolve) => setTimeout(resolve, 1500)).then(() => holder.end());
    const applied = await migrateUp(migrator, { dir, lockRetryDelayMs: 200, log: (line) => logs.push(line) });
    await ending;
    assert.deepEqual(applied.map((r) => r.fileName), [fileName]);
    assert.ok(logs.some((line) => line.includes(`migration ${fileName} waited 1s for a lock and gave up (attempt 1 of 11)`)), logs.join('\n'));
    assert.ok(logs.includes(logs.find((line) => line.startsWith(`applied ${fileName}`))!), 'then applied it');
    assert.equal(await columnExists(migrator, 'tasks', 'colour'), true);
  });

  test('a down behind a long transaction is retried the same way and fails naming its file, leaving the migration applied', async () => {
    const { db, migrator, taskIds } = await setUp();
    const { dir, fileName } = migrationsWith(
      'add_task_colour',
      '-- add_task_colour\nalter table todo_chat.tasks add column colour text;\n',
      '-- down\nalter table todo_chat.tasks drop column colour;\n',
    );
    await migrateUp(migrator, { dir });
    const holder = await longTransaction(db, 'nightly-report', taskIds[0]!);
    await assert.rejects(migrateDown(migrator, 1, { dir, lockRetries: 1, lockRetryDelayMs: 100 }), (error: unknown) => {
      assert.ok(error instanceof MigrationError);
      assert.equal(error.file, `down/${fileName}`);
      assert.match(error.message, new RegExp(`^down migration down/${fileName} gave up waiting for a lock on each of its 2 attempt\\(s\\)`));
      assert.match(error.message, new RegExp(`pid ${holder.pid} \\(`));
      return true;
    });
    assert.deepEqual((await readMigrationStatus(migrator, { dir })).pending, [], 'still applied');
    assert.equal(await columnExists(migrator, 'tasks', 'colour'), true);
  });
});

describe('create index concurrently, in a file of its own', () => {
  const up = (sql: string) => `-- index_task_titles\n-- postgres-migrations disable-transaction\n${sql}\n`;
  const down = '-- down\n-- todo-chat-db: no-transaction\ndrop index concurrently todo_chat.tasks_title_idx;\n';

  async function indexState(client: pg.ClientBase): Promise<{ valid: boolean } | undefined> {
    const { rows } = await client.query<{ valid: boolean }>(
      "select i.indisvalid as valid from pg_index i where i.indexrelid = to_regclass('todo_chat.tasks_title_idx')",
    );
    return rows[0];
  }

  test('runs outside a transaction and is reverted by its no-transaction down', async () => {
    const { migrator } = await setUp();
    const { dir, fileName } = migrationsWith('index_task_titles', up('create index concurrently if not exists tasks_title_idx on todo_chat.tasks (user_id, title);'), down);
    assert.deepEqual((await migrateUp(migrator, { dir })).map((r) => r.fileName), [fileName]);
    assert.deepEqual(await indexState(migrator), { valid: true });
    assert.deepEqual((await migrateDown(migrator, 1, { dir })).map((r) => r.fileName), [fileName]);
    assert.equal(await indexState(migrator), undefined);
  });

  test('behind a long transaction it never blocks writes to its table; it gives up, and names the invalid index it could not drop and how to drop it', async () => {
    const { db, migrator, taskIds } = await setUp();
    const { dir, fileName } = migrationsWith('index_task_titles', up('create index concurrently if not exists tasks_title_idx on todo_chat.tasks (user_id, title);'), down);
    const holder = await longTransaction(db, 'nightly-report', taskIds[0]!);
    const load = traffic(db, taskIds);
    const started = performance.now();
    let failure: unknown;
    try {
      await migrateUp(migrator, { dir, lockRetries: 1, lockRetryDelayMs: 100 });
    } catch (error) {
      failure = error;
    }
    const elapsed = performance.now() - started;
    const samples = await load.stop();
    assert.ok(failure instanceof MigrationError, String(failure));
    assert.equal(failure.file, fileName);
    assert.match(failure.message, new RegExp(`^migration ${fileName} gave up waiting for a lock on each of its 2 attempt\\(s\\)`));
    assert.match(
      failure.message,
      /but it left the invalid index\(es\) todo_chat\.tasks_title_idx, which could not be dropped while a transaction was in the way: drop them with `drop index concurrently if exists todo_chat\.tasks_title_idx;` before migrating again/,
    );
    assert.match(failure.message, new RegExp(`pid ${holder.pid} \\(`));
    const during = samples.filter((s) => s.startedAt >= started && s.startedAt < started + elapsed);
    assert.ok(during.length > 0);
    assert.ok(maxMs(during) < LOCK_TIMEOUT_MS, `no query on the table waited for the build (longest ${maxMs(during).toFixed(0)} ms)`);
    assert.deepEqual(await indexState(migrator), { valid: false });

    // The next run refuses while the invalid index is there, and says what to run.
    await holder.end();
    await assert.rejects(migrateUp(migrator, { dir }), (error: unknown) => {
      assert.ok(error instanceof MigrationError);
      assert.equal(error.file, fileName);
      assert.match(error.message, /runs outside a transaction, and the schema holds invalid index\(es\) todo_chat\.tasks_title_idx \(on todo_chat\.tasks\)/);
      assert.match(error.message, /Nothing was run\. .*drop them with `drop index concurrently if exists todo_chat\.tasks_title_idx;` and migrate again/);
      return true;
    });
    await migrator.query('drop index concurrently if exists todo_chat.tasks_title_idx');
    assert.deepEqual((await migrateUp(migrator, { dir })).map((r) => r.fileName), [fileName]);
    assert.deepEqual(await indexState(migrator), { valid: true });
  });

  test('a build that fails drops the invalid index it left, and the file stays pending', async () => {
    const { migrator } = await setUp();
    // Three tasks of one user, all titled 'a task': a unique index on (user_id, title) cannot be built.
    const { dir, fileName } = migrationsWith('index_task_titles', up('create unique index concurrently if not exists tasks_title_idx on todo_chat.tasks (user_id, title);'), down);
    await assert.rejects(migrateUp(migrator, { dir }), (error: unknown) => {
      assert.ok(error instanceof MigrationError);
      assert.equal(error.file, fileName);
      assert.match(error.message, new RegExp(`^migration ${fileName} \\(run outside a transaction\\) failed: could not create unique index "tasks_title_idx"`));
      assert.match(error.message, /the invalid index it left \(todo_chat\.tasks_title_idx\) was dropped/);
      return true;
    });
    assert.equal(await indexState(migrator), undefined);
    assert.deepEqual((await readMigrationStatus(migrator, { dir })).pending.map((f) => f.fileName), [fileName]);
  });
});
