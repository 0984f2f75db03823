/**
 * Catalog invariants of the live, fully migrated schema (test/helpers/catalog-invariants.ts):
 * row-level security on every table, one policy per command to the app role
 * reading the user through a sub-select, a powerless app role that owns
 * nothing, no definer-rights escape hatches, user_id in every key (Citus
 * co-location), indexed policy columns, column-level grants only.
 *
 * Each invariant is also run against deliberately broken objects, created in a
 * transaction that is rolled back, to prove that the check really fails when
 * the schema breaks the rule (a check that cannot fail proves nothing).
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { asUser, tryStatement, withRawTransaction } from '../helpers/transaction.js';
import { INVARIANTS, ownerColumns, type Invariant } from '../helpers/catalog-invariants.js';
import { APP_TABLES } from '../helpers/snapshots.js';
import { DEFAULT_APP_ROLE } from '../../src/index.js';

let db: TestDatabase;

before(async () => {
  db = await createTestDatabase();
});

function invariant(prefix: string): Invariant {
  const found = INVARIANTS.filter((i) => i.name.startsWith(prefix));
  assert.equal(found.length, 1, `one invariant starts with "${prefix}"`);
  return found[0]!;
}

describe('catalog invariants of the migrated schema', () => {
  test('the app schema has the seven tables, each with its owner column', async () => {
    const client = await db.admin.connect();
    const owners = await ownerColumns(client).finally(() => client.release());
    assert.deepEqual(Object.fromEntries([...owners].sort()), {
      conversations: 'user_id',
      messages: 'user_id',
      tasks: 'user_id',
      tool_calls: 'user_id',
      tool_results: 'user_id',
      turn_usage: 'user_id',
      users: 'id',
    });
  });

  test('the snapshots of the attack suites (test/helpers/snapshots.ts) read every table of the schema', async () => {
    const client = await db.admin.connect();
    const owners = await ownerColumns(client).finally(() => client.release());
    assert.deepEqual([...APP_TABLES].sort(), [...owners.keys()].sort(), 'a table missing from APP_TABLES would hide what an attack changed in it');
  });

  for (const inv of INVARIANTS) {
    test(inv.name, async () => {
      const client = await db.admin.connect();
      try {
        assert.deepEqual(await inv.check(client, DEFAULT_APP_ROLE), [], inv.name);
      } finally {
        client.release();
      }
    });
  }

  test('the grants the invariants allow are exactly the ones the queries need', async () => {
    const { rows } = await db.admin.query(
      `select c.relname, a.privilege_type from pg_class c join pg_namespace n on n.oid = c.relnamespace, aclexplode(c.relacl) a
       where n.nspname = 'todo_chat' and a.grantee = 'todo_chat_app'::regrole order by 1, 2`,
    );
    assert.deepEqual(rows.map((r) => `${r.relname}:${r.privilege_type}`), [
      'conversations:DELETE',
      'conversations:SELECT',
      'messages:DELETE',
      'messages:SELECT',
      'tasks:DELETE',
      'tasks:SELECT',
      'tool_calls:SELECT',
      'tool_results:SELECT',
      'turn_usage:SELECT',
      'users:DELETE',
      'users:SELECT',
    ]);
    const { rows: columns } = await db.admin.query(
      `select c.relname, a.attname, p.privilege_type
       from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace,
         aclexplode(a.attacl) p
       where n.nspname = 'todo_chat' and p.grantee = 'todo_chat_app'::regrole and a.attnum > 0
       order by 1, 3, 2`,
    );
    const byTable = new Map<string, string[]>();
    for (const r of columns) byTable.set(`${r.relname} ${r.privilege_type}`, [...(byTable.get(`${r.relname} ${r.privilege_type}`) ?? []), r.attname]);
    for (const [key, granted] of byTable) assert.ok(!granted.includes('user_id'), `${key} includes user_id`);
    assert.deepEqual(byTable.get('users INSERT'), ['id']);
    assert.equal(byTable.get('users UPDATE'), undefined, 'nothing of users can be updated');
    assert.deepEqual(byTable.get('messages UPDATE'), ['call_ids', 'content', 'format', 'item', 'role', 'tool_call_id', 'tool_calls'], 'a message is replaced in place (its content and the calls it makes): never its keys or position');
    assert.deepEqual(byTable.get('conversations UPDATE'), ['history_bytes', 'last_audit_ordinal', 'last_position', 'status', 'title', 'updated_at']);
    assert.equal(byTable.get('tool_calls UPDATE'), undefined, 'the audit is append-only');
    assert.equal(byTable.get('tool_results UPDATE'), undefined, 'the audit is append-only');
    assert.deepEqual(byTable.get('turn_usage INSERT'), ['conversation_id', 'id', 'input_tokens', 'message_id', 'model', 'output_tokens', 'requests']);
    assert.equal(byTable.get('turn_usage UPDATE'), undefined, 'usage records are append-only');
  });

  test('what the catalog says, the server enforces: the app role cannot write user ids or truncate', async () => {
    const [a, b] = await db.createUsers(2);
    await asUser(db.admin, a!, async (client) => {
      const attempts = {
        insertTaskForB: await tryStatement(client, 'insert into todo_chat.tasks (user_id, title) values ($1, $2)', [b, 'forged']),
        moveTaskToB: await tryStatement(client, 'update todo_chat.tasks set user_id = $1', [b]),
        insertUserB: await tryStatement(client, 'insert into todo_chat.users (id) values ($1)', [b]),
        insertConversationForB: await tryStatement(client, 'insert into todo_chat.conversations (user_id) values ($1)', [b]),
        insertMessageForB: await tryStatement(client, "insert into todo_chat.messages (user_id, conversation_id, role) values ($1, $1, 'user')", [b]),
        moveMessageToB: await tryStatement(client, 'update todo_chat.messages set user_id = $1', [b]),
        renumberMessage: await tryStatement(client, 'update todo_chat.messages set position = 1'),
        insertToolCallForB: await tryStatement(
          client,
          "insert into todo_chat.tool_calls (user_id, conversation_id, ordinal, message_id, call_id, name, format, message_position, call_index) values ($1, $1, 1, 'm', 'c', 'n', 'chat', 1, 0)",
          [b],
        ),
        rewriteAudit: await tryStatement(client, "update todo_chat.tool_calls set name = 'x'"),
        deleteAudit: await tryStatement(client, 'delete from todo_chat.tool_calls'),
        deleteResults: await tryStatement(client, 'delete from todo_chat.tool_results'),
        truncate: await tryStatement(client, 'truncate todo_chat.tasks'),
        disableRls: await tryStatement(client, 'alter table todo_chat.tasks no force row level security'),
        createInApp: await tryStatement(client, 'create table todo_chat.mine (x int)'),
      };
      assert.deepEqual(attempts, {
        insertTaskForB: { code: '42501', rowCount: 0 },
        moveTaskToB: { code: '42501', rowCount: 0 },
        // users.id is insertable (EnsureUser), but the insert policy pins it to the current user.
        insertUserB: { code: '42501', rowCount: 0 },
        insertConversationForB: { code: '42501', rowCount: 0 },
        insertMessageForB: { code: '42501', rowCount: 0 },
        moveMessageToB: { code: '42501', rowCount: 0 },
        renumberMessage: { code: '42501', rowCount: 0 },
        insertToolCallForB: { code: '42501', rowCount: 0 },
        rewriteAudit: { code: '42501', rowCount: 0 },
        deleteAudit: { code: '42501', rowCount: 0 },
        deleteResults: { code: '42501', rowCount: 0 },
        truncate: { code: '42501', rowCount: 0 },
        disableRls: { code: '42501', rowCount: 0 },
        createInApp: { code: '42501', rowCount: 0 },
      });
    });
  });
});

describe('each catalog invariant fails on a schema that breaks it (broken objects, rolled back)', () => {
  const badRole = `tcdb_bad_${crypto.randomBytes(4).toString('hex')}`;

  /** Creates broken objects in one transaction, runs every check, rolls everything back. */
  async function violationsOfBrokenSchema(): Promise<Map<string, string[]>> {
    return withRawTransaction(db.admin, {}, async (client) => {
      await client.query(`
        -- no rls, no policies, no user_id, a primary key without user_id
        create table todo_chat.bad_plain (id int primary key, note text);
        -- rls enabled but not forced; a foreign key with no on delete action;
        -- policies: for all, to public, without the sub-select, with check (true)
        create table todo_chat.bad_policies (user_id uuid not null, id int not null,
          constraint bad_policies_fk foreign key (user_id) references todo_chat.users (id));
        alter table todo_chat.bad_policies enable row level security;
        create policy bad_all on todo_chat.bad_policies for all to public using (user_id = todo_chat.current_user_id());
        create policy bad_select on todo_chat.bad_policies for select to todo_chat_app using (user_id = todo_chat.current_user_id());
        create policy bad_insert on todo_chat.bad_policies for insert to todo_chat_app with check (true);
        create unique index bad_policies_id_key on todo_chat.bad_policies (id);
        grant insert, truncate on todo_chat.bad_policies to todo_chat_app;
        -- correct policies, but the policy column leads no index
        create table todo_chat.bad_unindexed (user_id uuid not null default todo_chat.current_user_id(), note text);
        alter table todo_chat.bad_unindexed enable row level security;
        alter table todo_chat.bad_unindexed force row level security;
        create policy s on todo_chat.bad_unindexed for select to todo_chat_app using (user_id = (select todo_chat.current_user_id()));
        create policy i on todo_chat.bad_unindexed for insert to todo_chat_app with check (user_id = (select todo_chat.current_user_id()));
        create policy u on todo_chat.bad_unindexed for update to todo_chat_app using (user_id = (select todo_chat.current_user_id())) with check (user_id = (select todo_chat.current_user_id()));
        create policy d on todo_chat.bad_unindexed for delete to todo_chat_app using (user_id = (select todo_chat.current_user_id()));
        create index bad_unindexed_note on todo_chat.bad_unindexed (note, user_id);
        grant update (user_id) on todo_chat.bad_unindexed to todo_chat_app;
        grant select on todo_chat.tasks to public;
        -- views and functions
        create view todo_chat.bad_view as select 1 as x;
        create view todo_chat.good_view with (security_invoker = true) as select 1 as x;
        create function todo_chat.bad_definer() returns int language sql security definer as 'select 1';
        create function todo_chat.good_definer() returns int language sql security definer set search_path = pg_catalog as 'select 1';
        -- the app role reaching outside the app schema, creating, owning
        create table public.bad_public (x int);
        grant select on public.bad_public to todo_chat_app;
        grant create on schema todo_chat to todo_chat_app;
        create table todo_chat.bad_owned (user_id uuid);
        alter table todo_chat.bad_owned owner to todo_chat_app;
        -- a default user for everyone connected to this database
        alter database ${db.name} set todo_chat.user_id = '11111111-1111-1111-1111-111111111111';
        -- current_user_id() made volatile
        alter function todo_chat.current_user_id() volatile;
        -- a role with every power the app role must not have
        create role ${badRole} login superuser bypassrls createdb;
        grant todo_chat_app to ${badRole};
      `);
      const result = new Map<string, string[]>();
      for (const inv of INVARIANTS) {
        const role = inv.name.startsWith('the app role cannot log in') ? badRole : DEFAULT_APP_ROLE;
        result.set(inv.name, await inv.check(client, role));
      }
      // The ownership part of the role invariant, for the real app role (it owns todo_chat.bad_owned now).
      result.set('owns', await invariant('the app role cannot log in').check(client, DEFAULT_APP_ROLE));
      return result;
    });
  }

  let broken: Map<string, string[]>;
  before(async () => {
    broken = await violationsOfBrokenSchema();
  });

  const expectations: [string, RegExp[]][] = [
    ['every table has row-level security', [/^bad_plain rls not enabled$/, /^bad_policies rls not forced$/, /^bad_plain has no user_id column$/]],
    ['every table has exactly one permissive policy', [/^bad_plain command r has 0 policies$/, /^bad_policies command w has 0 policies$/, /^bad_policies bad_all: FOR ALL policy$/]],
    ['every policy reads the user', [/bad_policies\.bad_select: using is \(user_id = current_user_id\(\)\)|bad_policies\.bad_select: using is \(user_id = todo_chat\.current_user_id\(\)\)/, /bad_policies\.bad_insert: with check is true/]],
    ['the app role cannot log in', [/login/, /superuser/, /bypassrls/, /createdb/, /member of todo_chat_app/]],
    ['no view lacks security_invoker', [/^todo_chat\.bad_view$/]],
    ['no security definer function', [/^todo_chat\.bad_definer\(\)$/]],
    ['every foreign key has an on delete action', [/^bad_policies bad_policies_fk$/]],
    ['every primary key, unique constraint', [/bad_plain\.bad_plain_pkey \(id\) lacks/, /unique index bad_policies_id_key \(id\) lacks user_id/]],
    ['every column a policy filters', [/^bad_unindexed\.user_id leads no index$/, /bad_policies: cannot tell the filtered column/]],
    ['the app role holds no table-level', [/^bad_policies todo_chat_app INSERT$/, /^bad_policies todo_chat_app TRUNCATE$/, /^tasks public SELECT$/]],
    ['the app role cannot write a user id column', [/todo_chat_app may INSERT bad_policies\.user_id/, /todo_chat_app may UPDATE bad_unindexed\.user_id/]],
    ['the app role reaches no table outside', [/^public\.bad_public SELECT$/, /^create in schema todo_chat$/]],
    ['no database or role setting', [/todo_chat\.user_id=11111111/]],
    ['todo_chat.current_user_id() is a stable', [/volatility v, not stable/]],
    ['owns', [/^owns pg_class \d+$/]],
  ];

  for (const [prefix, patterns] of expectations) {
    test(`detects: ${prefix}`, () => {
      const name = prefix === 'owns' ? 'owns' : invariant(prefix).name;
      const violations = broken.get(name) ?? [];
      for (const pattern of patterns) {
        assert.ok(violations.some((v) => pattern.test(v)), `${name}: expected a violation matching ${pattern}, got ${JSON.stringify(violations)}`);
      }
    });
  }

  test('every invariant has a broken-schema case', () => {
    const covered = expectations.map(([prefix]) => prefix).filter((p) => p !== 'owns');
    const uncovered = INVARIANTS.filter((inv) => !covered.some((p) => inv.name.startsWith(p))).map((inv) => inv.name);
    assert.deepEqual(uncovered, []);
  });

  test('the rolled-back broken objects left nothing behind', async () => {
    const left = await db.admin.query(
      `select relname from pg_class where relname like 'bad\\_%' union all select rolname from pg_roles where rolname = $1`,
      [badRole],
    );
    assert.deepEqual(left.rows, []);
    const client = await db.admin.connect();
    try {
      for (const inv of INVARIANTS) assert.deepEqual(await inv.check(client, DEFAULT_APP_ROLE), [], inv.name);
    } finally {
      client.release();
    }
  });
});
