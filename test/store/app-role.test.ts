/**
 * A store verifies its app role before the first transaction runs as it.
 * Written as a misconfiguration would arrive: `appRole` set to the superuser
 * login, to a role with BYPASSRLS, to a role that can log in, to a role that
 * owns a table, to a member of an owning or privileged role, to a missing
 * role; a table of the schema with row-level security no longer forced.
 * Each is refused with a ConfigurationError saying what is wrong and how to
 * fix it, before anything runs as that role (the callback never runs, so
 * no other user's row is read), and health() reports it. The check costs one
 * statement per store, and a refusal is not remembered once fixed.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { before, describe, test } from 'node:test';
import pg from 'pg';
import { adminQuery, adminServerUrl, createTestDatabase, onCleanup, type TestDatabase } from '../helpers/db.js';
import { seedVictim } from '../helpers/security.js';
import { ConfigurationError, createStore, type Store } from '../../src/index.js';

let db: TestDatabase;
let user: string;

before(async () => {
  db = await createTestDatabase();
  const [u, other] = await db.createUsers(2);
  user = u!;
  // Another user's data, which a store running as a privileged role would hand out.
  await seedVictim(db.store(), other!);
});

/** A role of this test (roles are cluster-wide: random names, dropped with what they own after the file). */
async function createRole(options: string): Promise<string> {
  const name = `tcdb_role_${crypto.randomBytes(4).toString('hex')}`;
  await adminQuery(`create role ${name} ${options}`);
  onCleanup(async () => {
    await db.admin.query(`drop owned by ${name}`);
    await adminQuery(`drop role if exists ${name}`);
  });
  return name;
}

/** withUser as the store's user with a callback that reads tasks: must be refused before the callback runs. */
async function assertRefused(store: Store, expected: RegExp): Promise<void> {
  let ran = false;
  await assert.rejects(
    store.withUser(user, async (tx) => {
      ran = true;
      return tx.tasks.list({ limit: 200 });
    }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigurationError, String(error));
      assert.equal(error.code, 'CONFIGURATION');
      assert.equal(error.retryable, false);
      assert.match(error.problems.join('\n'), expected);
      assert.match(error.message, expected);
      return true;
    },
  );
  assert.equal(ran, false, 'nothing ran as the role');
  const health = await store.health();
  assert.equal(health.ok, false);
  assert.match((health.appRoleProblems ?? []).join('\n'), expected, 'health() reports it');
}

describe('a store refuses an app role that row-level security would not bind', () => {
  test('the default app role of the migrations passes, and health() says so', async () => {
    const store = db.store();
    assert.equal((await store.withUser(user, (tx) => tx.tasks.list())).items.length, 0);
    const health = await store.health();
    assert.deepEqual(health.appRoleProblems, []);
    assert.equal(health.ok, true);
  });

  test('the superuser the pool logs in as', async () => {
    const superuser = decodeURIComponent(new URL(adminServerUrl()).username);
    await assertRefused(db.store({ appRole: superuser }), new RegExp(`${superuser} is a superuser.*alter role ${superuser} nosuperuser`));
  });

  test('a role with BYPASSRLS', async () => {
    const role = await createRole('nologin bypassrls');
    await assertRefused(db.store({ appRole: role }), new RegExp(`bypasses row-level security: alter role ${role} nobypassrls`));
  });

  test('a role that can log in', async () => {
    const role = await createRole('login');
    await assertRefused(db.store({ appRole: role }), new RegExp(`can log in: alter role ${role} nologin`));
  });

  test('a role that owns a table (of another schema)', async () => {
    const role = await createRole('nologin');
    await db.admin.query(`create table public.owned_${role} (id int); alter table public.owned_${role} owner to ${role}`);
    await assertRefused(db.store({ appRole: role }), new RegExp(`owns objects \\(table owned_${role}, owned by ${role}\\)`));
  });

  test('a member of a role that owns something, and a member of a privileged role', async () => {
    const owner = await createRole('nologin');
    await db.admin.query(`create schema s_${owner} authorization ${owner}`);
    const privileged = await createRole('nologin bypassrls');
    const role = await createRole('nologin');
    await adminQuery(`grant ${owner} to ${role}; grant ${privileged} to ${role}`);
    const store = db.store({ appRole: role });
    await assertRefused(store, new RegExp(`owns objects \\(schema s_${owner}, owned by ${owner}\\)`));
    await assertRefused(store, new RegExp(`is a member of ${privileged}, .*revoke ${privileged} from ${role}`));
  });

  test('a role that does not exist', async () => {
    await assertRefused(db.store({ appRole: 'tcdb_no_such_role' }), /the app role tcdb_no_such_role does not exist: run the migrations/);
  });

  test('a table of the schema whose row-level security is no longer forced, then fixed: refused, then served', async () => {
    const other = await createTestDatabase();
    const store = other.store();
    await other.admin.query('alter table todo_chat.tasks no force row level security');
    await assertRefused(store, /row-level security of table todo_chat\.tasks \(not forced\).*force row level security/);
    await other.admin.query('alter table todo_chat.tasks disable row level security');
    await assertRefused(store, /todo_chat\.tasks \(not enabled\)/);
    await other.admin.query('alter table todo_chat.tasks enable row level security, force row level security');
    const [u] = await other.createUsers(1);
    assert.deepEqual((await store.withUser(u!, (tx) => tx.tasks.list())).items, [], 'a refusal is not remembered once the database is fixed');
  });

  test('the check costs one statement per store, however many transactions (concurrent ones included)', async () => {
    let checks = 0;
    const pool = new pg.Pool({ connectionString: db.url, max: 4 });
    pool.on('error', () => undefined);
    onCleanup(() => pool.end());
    pool.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
        const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string } | undefined)?.text;
        if (text?.includes('pg_shdepend')) checks++;
        return query(...args);
      };
    });
    const store = createStore({ pool });
    await Promise.all(Array.from({ length: 8 }, () => store.withUser(user, (tx) => tx.tasks.list())));
    for (let i = 0; i < 20; i++) await store.withUser(user, (tx) => tx.tasks.list());
    assert.equal(checks, 1);
    await createStore({ pool }).withUser(user, (tx) => tx.tasks.list());
    assert.equal(checks, 2, 'each store checks once');
  });
});
