/**
 * The least-privilege deployment of docs/deploy.md, exactly as written there:
 * its SQL block is read from the page and run (with this test's own role and
 * database names and passwords), then a migration role that is no superuser
 * applies the migrations, and a login role that owns nothing and is only a
 * member of todo_chat_app serves withUser and health().
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import pg from 'pg';
import { adminQuery, createEmptyDatabase, onCleanup, urlFor, type TestDatabase } from '../helpers/db.js';
import { createStore, migrate, migrationStatus, NotFoundError } from '../../src/index.js';
import { packageRoot } from '../../src/paths.js';

const suffix = crypto.randomBytes(4).toString('hex');
const owner = { name: `tcdb_owner_${suffix}`, password: crypto.randomBytes(12).toString('hex') };
const web = { name: `tcdb_web_${suffix}`, password: crypto.randomBytes(12).toString('hex') };
let db: TestDatabase;

/** The one sql block of docs/deploy.md's "Two roles" section, with this test's names and passwords. */
function deploySql(database: string): string {
  const page = fs.readFileSync(path.join(packageRoot, 'docs', 'deploy.md'), 'utf8');
  const section = page.slice(page.indexOf('## Two roles'));
  const block = /```sql\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(block, 'docs/deploy.md has an sql block under "Two roles"');
  return block
    .replaceAll('todo_chat_owner', owner.name)
    .replaceAll('change-me-owner', owner.password)
    .replaceAll('todo_chat_web', web.name)
    .replaceAll('change-me-web', web.password)
    .replaceAll('todo_chat_production', database);
}

before(async () => {
  db = await createEmptyDatabase();
  onCleanup(async () => {
    // The roles own objects in the database (and rights on it) until it is gone.
    await adminQuery(`drop database if exists ${db.name} with (force)`);
    await adminQuery(`drop role if exists ${web.name}`);
    await adminQuery(`drop role if exists ${owner.name}`);
  });
  await db.admin.query(deploySql(db.name));
});

describe('the least-privilege deployment of docs/deploy.md', () => {
  test('the migration role is no superuser and needs no createrole, yet applies every migration and owns what they create', async () => {
    const { rows } = await db.admin.query('select rolsuper, rolcreaterole, rolbypassrls from pg_roles where rolname = $1', [owner.name]);
    assert.deepEqual(rows, [{ rolsuper: false, rolcreaterole: false, rolbypassrls: false }]);
    const lines: string[] = [];
    const applied = await migrate({ connectionString: urlFor(db.name, owner), log: (line) => lines.push(line) });
    const shipped = fs.readdirSync(path.join(packageRoot, 'migrations')).filter((file) => file.endsWith('.sql')).sort();
    assert.deepEqual(applied.map((result) => result.fileName), shipped);
    const owners = await db.admin.query<{ nspname: string; owner: string }>(
      "select nspname, nspowner::regrole::text as owner from pg_namespace where nspname in ('todo_chat', 'todo_chat_migrations') order by 1",
    );
    assert.deepEqual(owners.rows, [
      { nspname: 'todo_chat', owner: owner.name },
      { nspname: 'todo_chat_migrations', owner: owner.name },
    ]);
    const tables = await db.admin.query("select distinct tableowner from pg_tables where schemaname in ('todo_chat', 'todo_chat_migrations')");
    assert.deepEqual(tables.rows, [{ tableowner: owner.name }]);
  });

  test('the login role owns nothing, and serves withUser and health() with nothing pending', async () => {
    const { rows } = await db.admin.query(
      `select r.rolsuper, r.rolcreaterole, r.rolbypassrls,
         (select count(*)::int from pg_class c where c.relowner = r.oid) as owned,
         pg_has_role(r.oid, 'todo_chat_app', 'member') as member
       from pg_roles r where r.rolname = $1`,
      [web.name],
    );
    assert.deepEqual(rows, [{ rolsuper: false, rolcreaterole: false, rolbypassrls: false, owned: 0, member: true }]);

    const store = createStore({ connectionString: urlFor(db.name, web) });
    onCleanup(() => store.close());
    const [alice, mallory] = [crypto.randomUUID(), crypto.randomUUID()];
    const task = await store.withUser(alice, async (tx) => {
      await tx.users.ensure();
      return tx.tasks.create({ title: 'served by the least-privilege login' });
    });
    assert.equal((await store.withUser(alice, (tx) => tx.tasks.get(task.id))).title, 'served by the least-privilege login');
    await assert.rejects(store.withUser(mallory, (tx) => tx.tasks.get(task.id)), NotFoundError);

    const health = await store.health();
    assert.equal(health.error, undefined);
    assert.deepEqual(health.pendingMigrations, []);
    assert.equal(health.ok, true);
    assert.deepEqual((await migrationStatus({ connectionString: urlFor(db.name, web) })).pending, [], 'status needs nothing more either');
  });

  test('on a raw connection the login role reads no user data and cannot become a more powerful role', async () => {
    const client = new pg.Client({ connectionString: urlFor(db.name, web) });
    client.on('error', () => undefined);
    await client.connect();
    try {
      await assert.rejects(client.query(`set role ${owner.name}`), /permission denied/);
      const seen = await client.query('select count(*)::int as n from todo_chat.tasks');
      assert.deepEqual(seen.rows, [{ n: 0 }], 'as itself, with no user set, the policies give it no row');
      await assert.rejects(client.query('insert into todo_chat_migrations.migrations (id, name, hash) values (99, $1, $2)', ['x', 'y']), /permission denied/);
    } finally {
      await client.end();
    }
  });
});
