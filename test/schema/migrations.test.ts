import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { createEmptyDatabase, createTestDatabase } from '../helpers/db.js';
import { snapshotCatalog } from '../helpers/catalog.js';
import { listMigrationFiles, migrateDown, migrateUp, readMigrationStatus } from '../../src/migrate/index.js';
import { createMigration } from '../../tools/create-migration.js';
import { MigrationError } from '../../src/errors.js';
import { migrationsDir, packageRoot } from '../../src/paths.js';

const run = promisify(execFile);
const files = await listMigrationFiles();

async function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', path.join(packageRoot, 'tools/migrate.ts'), ...args], {
      cwd: packageRoot,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function copyMigrations(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcdb-migrations-'));
  fs.cpSync(migrationsDir, dir, { recursive: true });
  return dir;
}

describe('migrations', () => {
  test('ids are consecutive, every up file has a down file and a header comment', () => {
    assert.ok(files.length >= 7);
    files.forEach((file, index) => {
      assert.equal(file.id, index + 1);
      assert.ok(fs.existsSync(file.downPath), `${file.fileName} has a down file`);
      const text = fs.readFileSync(file.path, 'utf8');
      assert.match(text, new RegExp(`^-- ${file.fileName.replace('.sql', '')}\\n-- purpose: `), `${file.fileName} header`);
      assert.match(text, /-- touches: /, `${file.fileName} names what it touches`);
      assert.doesNotMatch(text, /\b(CREATE|ALTER|DROP|SELECT|INSERT|GRANT) /, `${file.fileName} is lowercase sql`);
    });
  });

  test('up, then down all the way, then up again leaves an identical catalog', async () => {
    const db = await createEmptyDatabase();
    const client = await db.admin.connect();
    try {
      const empty = await snapshotCatalog(client);
      const applied = await migrateUp(client);
      assert.equal(applied.length, files.length);
      const first = await snapshotCatalog(client);
      assert.ok(first.relations!.some((row) => row.includes('"messages"')), 'schema has the messages table');

      const reverted = await migrateDown(client, files.length);
      assert.deepEqual(
        reverted.map((r) => r.fileName),
        [...files].reverse().map((f) => f.fileName),
      );
      const afterDown = await snapshotCatalog(client);
      assert.deepEqual({ ...afterDown, role: [] }, { ...empty, role: [] }, 'down removes every object of the app schema');
      const rows = await client.query('select id from todo_chat_migrations.migrations order by id');
      assert.deepEqual(rows.rows, [{ id: 0 }], 'down removes the bookkeeping rows');

      await migrateUp(client);
      assert.deepEqual(await snapshotCatalog(client), first);
    } finally {
      client.release();
    }
  });

  test('each up/down pair is reversible on its own', async () => {
    const db = await createEmptyDatabase();
    const client = await db.admin.connect();
    try {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tcdb-steps-'));
      fs.mkdirSync(path.join(dir, 'down'));
      for (const file of files) {
        const before = await snapshotCatalog(client);
        fs.copyFileSync(file.path, path.join(dir, file.fileName));
        fs.copyFileSync(file.downPath, path.join(dir, 'down', file.fileName));
        await migrateUp(client, { dir });
        const after = await snapshotCatalog(client);
        assert.notDeepEqual(after, before, `${file.fileName} changes the schema`);
        await migrateDown(client, 1, { dir });
        assert.deepEqual(await snapshotCatalog(client), before, `${file.fileName} is reverted exactly by its down file`);
        await migrateUp(client, { dir });
        assert.deepEqual(await snapshotCatalog(client), after, `${file.fileName} applies again after its down`);
      }
    } finally {
      client.release();
    }
  });

  test('a failing migration is rolled back and named', async () => {
    const db = await createEmptyDatabase();
    const dir = copyMigrations();
    const next = String(files.length + 1).padStart(4, '0');
    fs.writeFileSync(path.join(dir, `${next}_broken.sql`), '-- broken\ncreate table todo_chat.broken (id int);\nselect 1/0;\n');
    fs.writeFileSync(path.join(dir, 'down', `${next}_broken.sql`), '-- down\ndrop table todo_chat.broken;\n');
    const client = await db.admin.connect();
    try {
      await assert.rejects(migrateUp(client, { dir }), (error: unknown) => {
        assert.ok(error instanceof MigrationError);
        assert.equal(error.file, `${next}_broken.sql`);
        assert.match(error.message, new RegExp(`${next}_broken\\.sql.*division by zero`));
        return true;
      });
      const report = await readMigrationStatus(client, { dir });
      assert.equal(report.applied.length, files.length, 'the migrations before it stay applied');
      assert.deepEqual(report.pending.map((f) => f.fileName), [`${next}_broken.sql`]);
      const broken = await client.query("select to_regclass('todo_chat.broken') as t");
      assert.equal(broken.rows[0].t, null, 'the failed migration left nothing behind');
    } finally {
      client.release();
    }
  });

  test('an applied migration whose file is missing is refused', async () => {
    const db = await createTestDatabase();
    await db.admin.query("insert into todo_chat_migrations.migrations (id, name, hash) values ($1, 'vanished', 'x')", [files.length + 1]);
    const client = await db.admin.connect();
    try {
      await assert.rejects(migrateUp(client), /applied in the database but its file is missing/);
      await assert.rejects(migrateDown(client), /applied in the database but its file is missing/);
    } finally {
      client.release();
    }
  });

  test('three concurrent up runs apply each migration exactly once', async () => {
    const db = await createEmptyDatabase();
    const clients = await Promise.all([db.admin.connect(), db.admin.connect(), db.admin.connect()]);
    try {
      const runs = await Promise.all(clients.map((client) => migrateUp(client)));
      assert.deepEqual(
        runs.flat().map((r) => r.fileName).sort(),
        files.map((f) => f.fileName),
      );
      const rows = await clients[0]!.query('select id from todo_chat_migrations.migrations where id > 0 order by id');
      assert.deepEqual(rows.rows.map((row) => row.id), files.map((f) => f.id));
    } finally {
      for (const client of clients) client.release();
    }
  });

  test('status waits for a running up, and gives up after lockWaitMs naming the lock', async () => {
    const db = await createTestDatabase();
    const dir = copyMigrations();
    const next = `${String(files.length + 1).padStart(4, '0')}_slow.sql`;
    fs.writeFileSync(path.join(dir, next), '-- slow\nselect pg_sleep(1);\n');
    fs.writeFileSync(path.join(dir, 'down', next), '-- down\nselect 1;\n');
    const upClient = await db.admin.connect();
    const other = await db.admin.connect();
    try {
      const pid = (await upClient.query('select pg_backend_pid() as pid')).rows[0].pid;
      const up = migrateUp(upClient, { dir });
      for (;;) {
        const sleeping = await other.query("select 1 from pg_stat_activity where pid = $1 and query like '%pg_sleep%' and state = 'active'", [pid]);
        if (sleeping.rowCount) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await assert.rejects(readMigrationStatus(other, { dir, lockWaitMs: 100 }), (error: unknown) => {
        assert.ok(error instanceof MigrationError);
        assert.match(error.message, /another migration run holds the migration lock/);
        return true;
      });
      const report = await readMigrationStatus(other, { dir });
      assert.deepEqual(report.pending, [], 'status reports the up once it has ended');
      assert.equal(report.applied.length, files.length + 1);
      assert.deepEqual((await up).map((r) => r.fileName), [next]);
    } finally {
      upClient.release();
      other.release();
    }
  });

  test('a down file marked `-- todo-chat-db: no-transaction` runs outside a transaction; unmarked, it fails and stays applied', async () => {
    const db = await createTestDatabase();
    const dir = copyMigrations();
    const next = `${String(files.length + 1).padStart(4, '0')}_index_title.sql`;
    fs.writeFileSync(path.join(dir, next), '-- postgres-migrations disable-transaction\ncreate index concurrently tasks_title_x on todo_chat.tasks (title);\n');
    const down = path.join(dir, 'down', next);
    const client = await db.admin.connect();
    try {
      fs.writeFileSync(down, '-- down\ndrop index concurrently todo_chat.tasks_title_x;\n');
      await migrateUp(client, { dir });
      await assert.rejects(migrateDown(client, 1, { dir }), (error: unknown) => {
        assert.ok(error instanceof MigrationError);
        assert.equal(error.file, `down/${next}`);
        assert.match(error.message, /cannot run inside a transaction block/);
        return true;
      });
      assert.deepEqual((await readMigrationStatus(client, { dir })).pending, [], 'the failed down left it applied');

      fs.writeFileSync(down, '-- down\n-- todo-chat-db: no-transaction\ndrop index concurrently todo_chat.tasks_title_x;\n');
      assert.deepEqual((await migrateDown(client, 1, { dir })).map((r) => r.fileName), [next]);
      assert.equal((await client.query("select to_regclass('todo_chat.tasks_title_x') as i")).rows[0].i, null);
      assert.deepEqual((await readMigrationStatus(client, { dir })).pending.map((f) => f.fileName), [next]);
    } finally {
      client.release();
    }
  });

  test('lockTimeout applies to the statements of the migration files, and the session setting is restored', async () => {
    const db = await createTestDatabase();
    const dir = copyMigrations();
    const next = `${String(files.length + 1).padStart(4, '0')}_seen.sql`;
    fs.writeFileSync(path.join(dir, next), "-- seen\ncreate table todo_chat.seen as select current_setting('lock_timeout') as lock_timeout;\n");
    fs.writeFileSync(path.join(dir, 'down', next), '-- down\ndrop table todo_chat.seen;\n');
    const client = await db.admin.connect();
    try {
      await client.query("set lock_timeout = '7s'");
      await migrateUp(client, { dir, lockTimeout: '1234ms' });
      assert.deepEqual((await client.query('select lock_timeout from todo_chat.seen')).rows, [{ lock_timeout: '1234ms' }]);
      assert.deepEqual((await client.query('show lock_timeout')).rows, [{ lock_timeout: '7s' }]);
      await assert.rejects(migrateUp(client, { dir, lockTimeout: 'soon' }), MigrationError);
      // 0 turns lock_timeout off: refused, the session untouched.
      for (const off of ['0', '0ms']) {
        await assert.rejects(migrateUp(client, { dir, lockTimeout: off }), /invalid migration lock timeout "0(ms)?": it must be positive/);
      }
      assert.deepEqual((await client.query('show lock_timeout')).rows, [{ lock_timeout: '7s' }]);
    } finally {
      client.release();
    }
  });

  test('create scaffolds the next numbered up/down pair', async () => {
    const dir = copyMigrations();
    const created = createMigration('Add task due date!', dir);
    const expected = `${String(files.length + 1).padStart(4, '0')}_add_task_due_date.sql`;
    assert.equal(path.basename(created.up), expected);
    assert.equal(created.down, path.join(dir, 'down', expected));
    assert.match(fs.readFileSync(created.up, 'utf8'), /^-- \d{4}_add_task_due_date\n-- purpose:/);
    assert.equal((await listMigrationFiles(dir)).length, files.length + 1);
    assert.throws(() => createMigration('   ', dir), MigrationError);
  });
});

describe('npm run migrate (the CLI)', () => {
  test('up, status, down, up again print what they did; a second up applies nothing', async () => {
    const db = await createEmptyDatabase();
    const env = { DATABASE_URL: db.url };

    const up = await cli([], env);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /^database: postgres:\/\/postgres:\*\*\*@.* \(from DATABASE_URL\)$/m, 'names the target, password hidden');
    assert.doesNotMatch(up.stdout, /:postgres@/, 'never prints the password');
    for (const file of files) assert.match(up.stdout, new RegExp(`applied ${file.fileName} \\(\\d+\\.\\d ms\\)`));

    const st = await cli(['status'], env);
    assert.equal(st.code, 0, st.stderr);
    assert.match(st.stdout, new RegExp(`${files.length} applied, 0 pending`));

    const down = await cli(['down'], env);
    assert.equal(down.code, 0, down.stderr);
    const newest = files[files.length - 1]!.fileName;
    assert.match(down.stdout, new RegExp(`reverted ${newest} with down/${newest}`));
    const st2 = await cli(['status'], env);
    assert.match(st2.stdout, new RegExp(`pending  ${newest}`));

    const again = await cli(['up'], env);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, new RegExp(`applied ${newest}`));
    const noop = await cli([], env);
    assert.equal(noop.code, 0, noop.stderr);
    assert.match(noop.stdout, /nothing to apply/);
  });

  test('an edited applied migration fails naming the file', async () => {
    const db = await createTestDatabase();
    const victim = files[4]!;
    // The recorded hash no longer matching is exactly what an edit of the file looks like.
    await db.admin.query("update todo_chat_migrations.migrations set hash = 'edited' where id = $1", [victim.id]);
    const result = await cli([], { DATABASE_URL: db.url });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, new RegExp(`migration file ${victim.fileName} was changed after it was applied`));
    const st = await cli(['status'], { DATABASE_URL: db.url });
    assert.match(st.stdout, new RegExp(`${victim.fileName} .*FILE CHANGED`));
  });

  test('refuses the local fallback in production, and bad arguments', async () => {
    const prod = await cli([], { DATABASE_URL: '', NODE_ENV: 'production' });
    assert.notEqual(prod.code, 0);
    assert.match(prod.stderr, /DATABASE_URL is not set and NODE_ENV=production/);
    const bad = await cli(['sideways'], { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/x' });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /unknown command "sideways"/);
    const badCount = await cli(['down', 'two'], { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/x' });
    assert.notEqual(badCount.code, 0);
    assert.match(badCount.stderr, /positive whole number/);
  });

  test('an unreachable server fails with the target named', async () => {
    const result = await cli(['status'], { DATABASE_URL: 'postgres://someone:secret@127.0.0.1:1/nowhere' });
    assert.notEqual(result.code, 0);
    assert.match(result.stdout, /database: postgres:\/\/someone:\*\*\*@127\.0\.0\.1:1\/nowhere/);
    assert.doesNotMatch(result.stdout + result.stderr, /secret/);
    assert.match(result.stderr, /migrate failed: .*ECONNREFUSED/);
  });
});
