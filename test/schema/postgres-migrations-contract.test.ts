/**
 * What src/migrate/ relies on postgres-migrations to do, one test per
 * behaviour, each naming the part of its README (or of its typed API) that
 * promises it. An upgrade of postgres-migrations that changes one of these
 * fails here, by name, before it can silently break up, down or status.
 *
 * The tests call the library directly on small scratch migration folders, with
 * our file naming, on fresh empty databases.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import type pg from 'pg';
import { loadMigrationFiles, migrate } from 'postgres-migrations';
import { createEmptyDatabase } from '../helpers/db.js';

/** A scratch migrations folder; like ours, it has a down/ folder the library must ignore. */
function scratchDir(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcdb-contract-'));
  fs.mkdirSync(path.join(dir, 'down'));
  fs.writeFileSync(path.join(dir, 'down', '0001_not_an_up_file.sql'), 'select 1/0;\n');
  for (const [name, sql] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), sql);
  return dir;
}

const createLog = 'create table log (seq int generated always as identity, file int not null);\ninsert into log (file) values (1);\n';
const logFile = (id: number) => `insert into log (file) values (${id});\n`;

async function run(client: pg.PoolClient, dir: string): Promise<number[]> {
  const ran = await migrate({ client }, dir);
  return ran.map((m) => m.id).filter((id) => id > 0);
}

async function logged(client: pg.ClientBase): Promise<number[]> {
  const result = await client.query<{ file: number }>('select file from log order by seq');
  return result.rows.map((row) => row.file);
}

async function recorded(client: pg.ClientBase): Promise<number[]> {
  const result = await client.query<{ id: number }>('select id from public.migrations where id > 0 order by id');
  return result.rows.map((row) => row.id);
}

async function advisoryLocksHeld(client: pg.ClientBase): Promise<number> {
  const result = await client.query<{ n: number }>(
    "select count(*)::int as n from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()",
  );
  return result.rows[0]!.n;
}

describe('postgres-migrations behaves as src/migrate/ relies on', () => {
  // README "API" (pass a pg client), "The `migrations` table" and "Hash checks for
  // previous migrations"; migrate's typed result, "Details about the migrations
  // which were run". up compares our files' loadMigrationFiles hashes with this
  // table, applies copies from a staging folder, and reads the result to know
  // which file ran; bookkeeping.ts keeps the table in todo_chat_migrations.
  test('migrate applies pending files in id order, records each in `migrations` with the loadMigrationFiles hash, returns them', async () => {
    const db = await createEmptyDatabase();
    const files = { '0001_create_log.sql': createLog, '0002_second.sql': logFile(2), '0003_third.sql': logFile(3) };
    const dir = scratchDir(files);
    const copy = scratchDir(files);
    const client = await db.admin.connect();
    try {
      assert.deepEqual(await run(client, dir), [1, 2, 3], 'returns the files it ran, in id order');
      assert.deepEqual(await logged(client), [1, 2, 3], 'ran them in id order');

      const columns = await client.query<{ column_name: string }>(
        "select column_name from information_schema.columns where table_schema = 'public' and table_name = 'migrations'",
      );
      for (const column of ['id', 'name', 'hash', 'executed_at']) {
        assert.ok(columns.rows.some((row) => row.column_name === column), `public.migrations has ${column}`);
      }
      const rows = await client.query<{ id: number; hash: string; executed_at: Date }>(
        'select id, hash, executed_at from public.migrations where id > 0 order by id',
      );
      const loaded = await loadMigrationFiles(dir);
      const loadedCopy = await loadMigrationFiles(copy);
      assert.deepEqual(
        loaded.filter((m) => m.id > 0).map((m) => m.fileName),
        Object.keys(files),
        'loadMigrationFiles ignores the down/ folder',
      );
      assert.deepEqual(rows.rows.map((row) => row.id), [1, 2, 3]);
      for (const row of rows.rows) {
        assert.equal(row.hash, loaded.find((m) => m.id === row.id)?.hash, `recorded hash of ${row.id} is loadMigrationFiles'`);
        assert.equal(row.hash, loadedCopy.find((m) => m.id === row.id)?.hash, `the hash of ${row.id} does not depend on its folder`);
        assert.ok(row.executed_at instanceof Date, 'executed_at is a timestamp');
      }
    } finally {
      client.release();
    }

    // The table is found through the session's search_path (public by default).
    const other = await createEmptyDatabase();
    const scoped = await other.admin.connect();
    try {
      await scoped.query('create schema scratch; set search_path to scratch');
      await run(scoped, scratchDir({ '0001_create_log.sql': createLog }));
      const where = await scoped.query("select to_regclass('scratch.migrations') is not null as here, to_regclass('public.migrations') as public");
      assert.deepEqual(where.rows[0], { here: true, public: null });
    } finally {
      scoped.release();
    }
  });

  // Not in its README, so pinned here: src/migrate/bookkeeping.ts creates the
  // table itself, with the columns of the library's own
  // 0_create-migrations-table.sql, in the schema on the search_path, because the
  // library decides whether its table exists by the name `migrations` in ANY
  // schema: with another tool's `migrations` table elsewhere it would skip the
  // creation and fail to find its own. The library must use a pre-created table
  // of that shape as its own, and leave the foreign one alone.
  test('a pre-created table of its shape on the search_path is used as its own, beside a foreign `migrations` table', async () => {
    const db = await createEmptyDatabase();
    const client = await db.admin.connect();
    try {
      await client.query('create table public.migrations (id serial primary key, "timestamp" bigint not null, name varchar not null)');
      await client.query("insert into public.migrations (\"timestamp\", name) values (1700000000000, 'CreateUsers1700000000000')");
      await client.query(`create schema ours; set search_path to ours;
        create table ours.migrations (id integer primary key, name varchar(100) unique not null, hash varchar(40) not null,
          executed_at timestamp default current_timestamp)`);
      const dir = scratchDir({ '0001_create_log.sql': createLog, '0002_second.sql': logFile(2) });
      assert.deepEqual(await run(client, dir), [1, 2]);
      const ours = await client.query('select id from ours.migrations order by id');
      assert.deepEqual(ours.rows.map((row) => row.id), [0, 1, 2], 'its own row 0 and both files, in the pre-created table');
      const foreign = await client.query('select id, "timestamp", name from public.migrations');
      assert.deepEqual(foreign.rows, [{ id: 1, timestamp: '1700000000000', name: 'CreateUsers1700000000000' }], 'the foreign table is untouched');
      assert.deepEqual(await run(client, dir), [], 'and a second call finds them there');
    } finally {
      client.release();
    }
  });

  // README "Hash checks for previous migrations": applied files are recorded and
  // not run again. up calls migrate once per pending file on a folder that also
  // holds every applied one.
  test('a second call applies nothing', async () => {
    const db = await createEmptyDatabase();
    const dir = scratchDir({ '0001_create_log.sql': createLog, '0002_second.sql': logFile(2) });
    const client = await db.admin.connect();
    try {
      await run(client, dir);
      assert.deepEqual(await run(client, dir), [], 'returns nothing run');
      assert.deepEqual(await logged(client), [1, 2], 'ran nothing again');
      assert.deepEqual(await recorded(client), [1, 2]);
    } finally {
      client.release();
    }
  });

  // README "Each migration runs in a transaction" and "Abort on errors": "the
  // migration in progress is rolled back and an exception is thrown". up reports
  // the file it asked for, with the exception's message, which must carry the
  // database's own error (our test for a failing migration looks for it).
  test('a failing file rolls back entirely, earlier files stay applied, and the call rejects with the database error', async () => {
    const db = await createEmptyDatabase();
    const dir = scratchDir({
      '0001_create_log.sql': createLog,
      '0002_broken.sql': 'insert into log (file) values (2);\ncreate table half_done (x int);\nselect 1/0;\n',
    });
    const client = await db.admin.connect();
    try {
      await assert.rejects(migrate({ client }, dir), /division by zero/);
      assert.deepEqual(await recorded(client), [1], 'the file before it stays applied');
      assert.deepEqual(await logged(client), [1], 'nothing of the failed file remains');
      const halfDone = await client.query("select to_regclass('half_done') as t");
      assert.equal(halfDone.rows[0].t, null);
      assert.equal(await advisoryLocksHeld(client), 0, 'its lock is released after a failure');
      assert.deepEqual((await client.query('select 1 as one')).rows, [{ one: 1 }], 'the client is usable afterwards');

      // The file and its bookkeeping row commit together: here the row cannot be
      // written (the file took its id), so the file's work must go too.
      const squatter = scratchDir({
        '0001_create_log.sql': createLog,
        '0002_squatter.sql': "insert into log (file) values (2);\ninsert into migrations (id, name, hash) values (2, 'squatter', 'x');\n",
      });
      await assert.rejects(migrate({ client }, squatter));
      assert.deepEqual(await recorded(client), [1]);
      assert.deepEqual(await logged(client), [1], 'the file is undone when its row cannot be recorded');
    } finally {
      client.release();
    }
  });

  // README "Hash checks for previous migrations" / "Migrations are immutable".
  // up checks hashes itself first; this is the library's own guard behind it.
  test('an applied file whose content changed makes migrate reject and apply nothing further', async () => {
    const db = await createEmptyDatabase();
    const dir = scratchDir({ '0001_create_log.sql': createLog });
    const client = await db.admin.connect();
    try {
      await run(client, dir);
      fs.writeFileSync(path.join(dir, '0001_create_log.sql'), `${createLog}-- edited after it was applied\n`);
      fs.writeFileSync(path.join(dir, '0002_second.sql'), logFile(2));
      await assert.rejects(migrate({ client }, dir));
      assert.deepEqual(await recorded(client), [1]);
      assert.deepEqual(await logged(client), [1]);
    } finally {
      client.release();
    }
  });

  // README "File name": ids "Must start from 1 and be consecutive"; "If ids are
  // not consecutive ... the migration run will fail". Our own listing enforces
  // the same rule, and the staging folder up hands over is always 1..k.
  test('non-consecutive ids are refused, by loadMigrationFiles and by migrate, before anything runs', async () => {
    const db = await createEmptyDatabase();
    const dir = scratchDir({ '0001_create_log.sql': createLog, '0003_third.sql': logFile(3) });
    const client = await db.admin.connect();
    try {
      await assert.rejects(loadMigrationFiles(dir));
      await assert.rejects(migrate({ client }, dir));
      const left = await client.query("select to_regclass('public.migrations') as migrations, to_regclass('log') as log");
      assert.deepEqual(left.rows[0], { migrations: null, log: null });
    } finally {
      client.release();
    }
  });

  // README "Each migration runs in a transaction": "An exception is made when
  // `-- postgres-migrations disable-transaction` is included at the top of the
  // migration file", for CREATE INDEX CONCURRENTLY. .squawk.toml and our up
  // files rely on it; the same file without the marker must fail.
  test('`-- postgres-migrations disable-transaction` runs a file outside a transaction', async () => {
    const table = '0001_create_t.sql';
    const index = '0002_index_t.sql';
    const indexSql = 'create index concurrently t_x on t (x);\n';

    const db = await createEmptyDatabase();
    const client = await db.admin.connect();
    try {
      await run(client, scratchDir({ [table]: 'create table t (x int);\n', [index]: `-- postgres-migrations disable-transaction\n${indexSql}` }));
      const built = await client.query<{ indisvalid: boolean }>("select indisvalid from pg_index where indexrelid = 't_x'::regclass");
      assert.deepEqual(built.rows, [{ indisvalid: true }]);
    } finally {
      client.release();
    }

    const control = await createEmptyDatabase();
    const other = await control.admin.connect();
    try {
      await assert.rejects(migrate({ client: other }, scratchDir({ [table]: 'create table t (x int);\n', [index]: indexSql })));
      assert.equal((await other.query("select to_regclass('t_x') as i")).rows[0].i, null, 'without the marker it runs in a transaction');
    } finally {
      other.release();
    }
  });

  // README "The `migrations` table": it "keeps track of all the migrations which
  // have already been run", so a file without its row is pending. down deletes
  // the row of each migration it reverts so that the next up applies it again.
  test('deleting a row from `migrations` makes the next call apply that file again', async () => {
    const db = await createEmptyDatabase();
    const dir = scratchDir({ '0001_create_log.sql': createLog, '0002_second.sql': logFile(2) });
    const client = await db.admin.connect();
    try {
      await run(client, dir);
      await client.query('delete from public.migrations where id = 2');
      assert.deepEqual(await run(client, dir), [2]);
      assert.deepEqual(await logged(client), [1, 2, 2]);
      assert.deepEqual(await recorded(client), [1, 2]);
    } finally {
      client.release();
    }
  });

  // README "Concurrency": "If two migration runs are kicked off concurrently, one
  // will wait for the other to finish before starting." Our own lock serializes
  // our runs; this keeps a run of the library by another tool from racing ours.
  test('concurrent calls on two connections apply each file exactly once', async () => {
    const db = await createEmptyDatabase();
    const dir = scratchDir({
      '0001_create_log.sql': createLog,
      '0002_slow.sql': `select pg_sleep(0.5);\n${logFile(2)}`,
      '0003_third.sql': logFile(3),
    });
    const a = await db.admin.connect();
    const b = await db.admin.connect();
    try {
      const [ranA, ranB] = await Promise.all([run(a, dir), run(b, dir)]);
      assert.deepEqual([...ranA, ...ranB].sort((x, y) => x - y), [1, 2, 3], 'both calls resolve, and between them run each file once');
      assert.deepEqual(await logged(a), [1, 2, 3]);
      assert.deepEqual(await recorded(a), [1, 2, 3]);
      assert.equal(await advisoryLocksHeld(a), 0, 'its lock is released');
      assert.equal(await advisoryLocksHeld(b), 0, 'its lock is released');
    } finally {
      a.release();
      b.release();
    }
  });

  // README "API": "pass a pg client ... The caller is responsible for connecting
  // and cleaning up". up sets lock_timeout on the session for the files'
  // statements, and calls migrate many times on the same client.
  test('migrate runs the files on the client it is given, with its session settings, and leaves it open', async () => {
    const db = await createEmptyDatabase();
    const dir = scratchDir({
      '0001_create_seen.sql': "create table seen (lock_timeout text);\ninsert into seen select current_setting('lock_timeout');\n",
    });
    const client = await db.admin.connect();
    try {
      await client.query("set lock_timeout = '1234ms'");
      await run(client, dir);
      assert.deepEqual((await client.query('select lock_timeout from seen')).rows, [{ lock_timeout: '1234ms' }]);
      assert.deepEqual((await client.query('show lock_timeout')).rows, [{ lock_timeout: '1234ms' }], 'the session is left as it was');
    } finally {
      client.release();
    }
  });
});
