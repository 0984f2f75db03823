/**
 * "A test migrates a database holding data of the current schema (tasks,
 * conversations, messages with tool calls) up, checks every row carried over
 * and readable through the API, and proves down refuses to drop data it
 * cannot carry back unless told."
 *
 * Up: a database migrated to 0008 (the first message history) is filled as
 * superuser with several users' tasks, conversations and messages (tool calls,
 * a call id reused in a later turn, two results for one call, another user's
 * identical call ids), then migrated to the end, by a superuser and by a
 * migration role that owns the objects without bypassing row-level security.
 * Down: 0010 and 0011 refuse, changing nothing (several files revert in one
 * transaction), when they would lose messages or audit records that 0011
 * cannot derive again from the stored messages, unless data loss is allowed.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import pg from 'pg';
import { adminQuery, createEmptyDatabase, createTestDatabase, onCleanup, urlFor, type TestDatabase } from '../helpers/db.js';
import { snapshotCatalog } from '../helpers/catalog.js';
import { createStore, MigrationError, NotFoundError, type Message, type Store, type ToolCallRecord, type Transaction } from '../../src/index.js';
import { listMigrationFiles, migrateDown, migrateUp } from '../../src/migrate/index.js';
import { migrationsDir } from '../../src/paths.js';

const LAST_V1 = 8;
/** The newest migration of the history's second version (0009..0011); later ones are reverted first, and left alone. */
const LAST_V2 = 11;

/** A copy of the shipped migrations folder holding only 0001..`last` and their down files. */
function migrationsUpTo(last: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tcdb-${last}-migrations-`));
  onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'down'));
  const files = fs.readdirSync(migrationsDir).filter((file) => /^\d{4}_.*\.sql$/.test(file) && Number(file.slice(0, 4)) <= last);
  assert.equal(files.length, last);
  for (const file of files) {
    fs.copyFileSync(path.join(migrationsDir, file), path.join(dir, file));
    fs.copyFileSync(path.join(migrationsDir, 'down', file), path.join(dir, 'down', file));
  }
  return dir;
}

const migrationsUpToV1 = () => migrationsUpTo(LAST_V1);
/** The fileNames of 0009..0011 among the migrations a run applied. */
const secondVersion = (applied: { fileName: string }[]) => applied.map((r) => r.fileName).filter((file) => Number(file.slice(0, 4)) <= LAST_V2);

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  onCleanup(() => client.end().catch(() => undefined));
  return client;
}

// ---------------------------------------------------------------------------
// The data of the first version, the same for every database of this file.
// ---------------------------------------------------------------------------

const ids = () => crypto.randomUUID();
const USERS = { alice: ids(), bob: ids(), carol: ids() };
const CONVERSATIONS = { a1: ids(), a2: ids(), a3: ids(), b1: ids() };
const OWNER: Record<string, string> = { a1: USERS.alice, a2: USERS.alice, a3: USERS.alice, b1: USERS.bob };

interface V1Message {
  conversation: keyof typeof CONVERSATIONS;
  id: string;
  role: 'user' | 'assistant' | 'system' | 'tool';
  content: string;
  toolCalls?: { id: string; name: string; arguments: Record<string, unknown> }[];
  toolCallId?: string;
  createdAt: string;
}

const base = Date.parse('2025-03-01T09:00:00.000Z');
let tick = 0;
const v1 = (conversation: V1Message['conversation'], role: V1Message['role'], content: string, extra: Partial<V1Message> = {}): V1Message => ({
  conversation,
  id: ids(),
  role,
  content,
  createdAt: new Date(base + 1000 * tick++).toISOString(),
  ...extra,
});

/** In insertion (seq) order: conversations interleave. */
const V1_MESSAGES: V1Message[] = [
  v1('a1', 'system', 'You are a todo assistant.'),
  v1('a1', 'user', 'Add milk and eggs, "quoted" \\ café 😀'),
  v1('b1', 'user', 'hello from bob'),
  v1('a1', 'assistant', '', {
    toolCalls: [
      { id: 'call_1', name: 'add_task', arguments: { title: 'milk' } },
      { id: 'call_2', name: 'add_task', arguments: { title: 'eggs', nested: { list: [1, 2.5, null, true], empty: {} } } },
    ],
  }),
  v1('a2', 'user', 'another conversation'),
  v1('a1', 'tool', '{"id":1}', { toolCallId: 'call_1' }),
  v1('b1', 'assistant', 'let me look', { toolCalls: [{ id: 'call_1', name: 'list_tasks', arguments: {} }] }),
  v1('a1', 'tool', '{"id":2}', { toolCallId: 'call_2' }),
  v1('b1', 'tool', 'bob has no tasks', { toolCallId: 'call_1' }),
  v1('a1', 'assistant', 'Added milk and eggs.'),
  v1('a1', 'user', 'complete milk'),
  // The same call id in a later turn, answered twice.
  v1('a1', 'assistant', '', { toolCalls: [{ id: 'call_1', name: 'complete_task', arguments: { id: 1 } }] }),
  v1('a1', 'tool', 'completed', { toolCallId: 'call_1' }),
  v1('a1', 'tool', 'completed (retried)', { toolCallId: 'call_1' }),
  v1('a2', 'assistant', 'a reply'),
  v1('a1', 'assistant', 'Milk is done.'),
  v1('b1', 'assistant', 'bye'),
];

const TASKS: [string, string][] = [
  [USERS.alice, 'milk'],
  [USERS.alice, 'eggs'],
  [USERS.bob, 'call mom'],
  [USERS.carol, 'carol only has a task'],
];

/** Inserts the data as superuser into a database at 0008, one message per statement (their seq follows). */
async function insertV1(admin: pg.Pool | pg.Client): Promise<void> {
  await admin.query('insert into todo_chat.users (id) select unnest($1::uuid[])', [Object.values(USERS)]);
  for (const [user, title] of TASKS) await admin.query('insert into todo_chat.tasks (user_id, title) values ($1, $2)', [user, title]);
  for (const [name, id] of Object.entries(CONVERSATIONS)) {
    await admin.query('insert into todo_chat.conversations (user_id, id, title) values ($1, $2, $3)', [OWNER[name], id, `conversation ${name}`]);
  }
  for (const m of V1_MESSAGES) {
    await admin.query(
      `insert into todo_chat.messages (user_id, conversation_id, id, role, content, tool_calls, tool_call_id, created_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [OWNER[m.conversation], CONVERSATIONS[m.conversation], m.id, m.role, m.content, m.toolCalls ? JSON.stringify(m.toolCalls) : null, m.toolCallId ?? null, m.createdAt],
    );
  }
}

/** What each conversation must hold after the migration: its messages in seq order, numbered. */
function expectedMessages(conversation: keyof typeof CONVERSATIONS): Message[] {
  return V1_MESSAGES.filter((m) => m.conversation === conversation).map((m, index) => ({
    conversationId: CONVERSATIONS[conversation],
    id: m.id,
    position: index + 1,
    role: m.role,
    format: 'chat',
    content: m.content,
    toolCalls: (m.toolCalls ?? null) as Message['toolCalls'],
    toolCallId: m.toolCallId ?? null,
    item: null,
    createdAt: new Date(m.createdAt),
  }));
}

/** The audit each conversation must hold: every call; each result linked to the newest call of its id before it; a call answered twice keeps both, oldest first. */
function expectedAudit(conversation: keyof typeof CONVERSATIONS) {
  const messages = expectedMessages(conversation);
  const records: { messageId: string; callId: string; name: string; arguments: unknown; format: string; createdAt: Date; results: { messageId: string; output: string }[] }[] = [];
  for (const message of messages) {
    for (const call of message.toolCalls ?? []) {
      records.push({ messageId: message.id, callId: call.id, name: call.name, arguments: call.arguments, format: 'chat', createdAt: message.createdAt, results: [] });
    }
    if (message.toolCallId) {
      const call = records.filter((r) => r.callId === message.toolCallId).at(-1)!;
      call.results.push({ messageId: message.id, output: message.content });
    }
  }
  return records;
}

function auditSummary(records: ToolCallRecord[]) {
  return records.map(({ conversationId: _c, results, ...rest }) => ({ ...rest, results: results.map((r) => ({ messageId: r.messageId, output: r.output })) }));
}

async function auditOf(tx: Transaction, conversationId?: string): Promise<ToolCallRecord[]> {
  const records: ToolCallRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await tx.toolCalls.list({ ...(conversationId ? { conversationId } : {}), limit: 2, ...(cursor ? { cursor } : {}) });
    records.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return records;
}

/** Every row of the app schema as superuser, for comparing databases and before/after. */
async function allRows(client: pg.Pool | pg.Client): Promise<Record<string, unknown>> {
  const rows: Record<string, unknown> = {};
  for (const [table, sql] of Object.entries({
    users: 'select * from todo_chat.users order by id',
    tasks: 'select user_id, title, description, completed from todo_chat.tasks order by user_id, title',
    conversations: 'select * from todo_chat.conversations order by user_id, id',
    messages: "select to_jsonb(m) - 'search_vector' as m from todo_chat.messages m order by m.user_id, m.conversation_id, m.position",
    tool_calls: "select to_jsonb(t) as t from todo_chat.tool_calls t order by 1",
    tool_results: "select to_jsonb(r) as r from todo_chat.tool_results r order by 1",
    migrations: 'select id, name, hash from todo_chat_migrations.migrations order by id',
  })) {
    try {
      rows[table] = (await client.query(sql)).rows;
    } catch (error) {
      rows[table] = `error: ${(error as Error).message}`;
    }
  }
  return rows;
}

/** Checks, as superuser, that the migrated database holds exactly the v1 data in its new shape. */
async function assertCarriedOver(client: pg.Client | pg.Pool): Promise<void> {
  for (const conversation of Object.keys(CONVERSATIONS) as (keyof typeof CONVERSATIONS)[]) {
    const { rows } = await client.query<{ id: string; position: number; role: string; format: string; content: string; tool_calls: unknown; tool_call_id: string | null; item: unknown; created_at: Date; size_bytes: number }>(
      'select id, position, role, format, content, tool_calls, tool_call_id, item, created_at, size_bytes from todo_chat.messages where user_id = $1 and conversation_id = $2 order by position',
      [OWNER[conversation], CONVERSATIONS[conversation]],
    );
    const expected = expectedMessages(conversation);
    assert.deepStrictEqual(
      rows.map((r) => ({ id: r.id, position: r.position, role: r.role, format: r.format, content: r.content, toolCalls: r.tool_calls, toolCallId: r.tool_call_id, item: r.item, createdAt: r.created_at })),
      expected.map((m) => ({ id: m.id, position: m.position, role: m.role, format: m.format, content: m.content, toolCalls: m.toolCalls, toolCallId: m.toolCallId, item: m.item, createdAt: m.createdAt })),
      `conversation ${conversation}: every message, in its former order, with its former id`,
    );
    const counters = await client.query<{ last_position: number; history_bytes: string; expected: string }>(
      `select c.last_position, c.history_bytes::text,
         (select coalesce(sum(octet_length(m.content) + coalesce(octet_length(m.tool_calls::text), 0)), 0)::text
          from todo_chat.messages m where m.user_id = c.user_id and m.conversation_id = c.id) as expected
       from todo_chat.conversations c where c.id = $1`,
      [CONVERSATIONS[conversation]],
    );
    assert.equal(counters.rows[0]!.last_position, expected.length, `${conversation}: last_position`);
    assert.equal(counters.rows[0]!.history_bytes, counters.rows[0]!.expected, `${conversation}: history_bytes is the bytes of the contents and calls`);
    assert.equal(Number(counters.rows[0]!.history_bytes), rows.reduce((sum, r) => sum + r.size_bytes, 0), `${conversation}: and the sum of size_bytes`);
  }
  const audit = await client.query<{ conversation_id: string; message_id: string; call_id: string; name: string; arguments: unknown; format: string; created_at: Date; results: { message_id: string; output: unknown; call_id: string }[] }>(
    `select t.conversation_id, t.message_id, t.call_id, t.name, t.arguments, t.format, t.created_at,
       (select coalesce(json_agg(json_build_object('message_id', r.message_id, 'output', r.output, 'call_id', r.call_id) order by r.ordinal), '[]'::json)
        from todo_chat.tool_results r
        where r.user_id = t.user_id and r.conversation_id = t.conversation_id and r.call_ordinal = t.ordinal) as results
     from todo_chat.tool_calls t
     order by t.conversation_id, t.ordinal`,
  );
  const expected = (Object.keys(CONVERSATIONS) as (keyof typeof CONVERSATIONS)[])
    .sort((x, y) => (CONVERSATIONS[x] < CONVERSATIONS[y] ? -1 : 1))
    .flatMap((conversation) => expectedAudit(conversation).map((record) => ({ conversation: CONVERSATIONS[conversation], ...record })));
  assert.deepStrictEqual(
    audit.rows.map((r) => ({
      conversation: r.conversation_id,
      messageId: r.message_id,
      callId: r.call_id,
      name: r.name,
      arguments: r.arguments,
      format: r.format,
      createdAt: r.created_at,
      results: r.results.map((x) => {
        assert.equal(x.call_id, r.call_id, 'a result answers a call of its own call id');
        return { messageId: x.message_id, output: x.output };
      }),
    })),
    expected.map(({ conversation, messageId, callId, name, arguments: args, format, createdAt, results }) => ({ conversation, messageId, callId, name, arguments: args, format, createdAt, results })),
    'the audit holds every call in history order, each with all its results, oldest first',
  );
  const results = await client.query<{ n: number }>('select count(*)::int as n from todo_chat.tool_results');
  assert.equal(results.rows[0]!.n, 5, 'five results: the second answer to one call is a second result of that call');
  // Calls and results are numbered together, 1..n per conversation in history order, and the conversation's counter is n.
  const ordinals = await client.query<{ conversation_id: string; last_audit_ordinal: number; ordinals: number[]; kinds: string[] }>(
    `select c.id as conversation_id, c.last_audit_ordinal,
       coalesce(array_agg(a.ordinal order by a.ordinal) filter (where a.ordinal is not null), '{}') as ordinals,
       coalesce(array_agg(a.kind order by a.ordinal) filter (where a.ordinal is not null), '{}') as kinds
     from todo_chat.conversations c
     left join (
       select user_id, conversation_id, ordinal, 'call:' || message_id || ':' || call_id as kind from todo_chat.tool_calls
       union all
       select user_id, conversation_id, ordinal, 'result:' || message_id || ':' || call_id from todo_chat.tool_results
     ) a on a.user_id = c.user_id and a.conversation_id = c.id
     group by c.id, c.last_audit_ordinal
     order by c.id`,
  );
  const expectedOrdinals = (Object.keys(CONVERSATIONS) as (keyof typeof CONVERSATIONS)[])
    .sort((x, y) => (CONVERSATIONS[x] < CONVERSATIONS[y] ? -1 : 1))
    .map((conversation) => {
      const kinds = expectedMessages(conversation).flatMap((m) => [
        ...(m.toolCalls ?? []).map((call) => `call:${m.id}:${call.id}`),
        ...(m.toolCallId ? [`result:${m.id}:${m.toolCallId}`] : []),
      ]);
      return { conversation_id: CONVERSATIONS[conversation], last_audit_ordinal: kinds.length, ordinals: kinds.map((_, i) => i + 1), kinds };
    });
  assert.deepStrictEqual(ordinals.rows, expectedOrdinals, 'audit ordinals 1..n in history order, last_audit_ordinal = n');
  const tasks = await client.query('select user_id, title from todo_chat.tasks order by user_id, title');
  assert.deepEqual(tasks.rows.map((r: { user_id: string; title: string }) => [r.user_id, r.title]), TASKS.slice().sort((x, y) => (x[0] === y[0] ? (x[1] < y[1] ? -1 : 1) : x[0] < y[0] ? -1 : 1)));
  // Forced row-level security is back on every table the migrations lifted it on.
  const forced = await client.query<{ relname: string; relforcerowsecurity: boolean }>(
    "select relname, relforcerowsecurity from pg_class where relnamespace = 'todo_chat'::regnamespace and relkind = 'r' order by relname",
  );
  assert.deepEqual(forced.rows.filter((r) => !r.relforcerowsecurity), [], 'every table forces row-level security again');
}

describe('up: data of the first version carried over', () => {
  let db: TestDatabase;
  let superuserRows: Record<string, unknown>;

  test('migrated by a superuser: every message, counter and audit row, in order, with its former id', async () => {
    db = await createEmptyDatabase();
    const client = await connect(db.url);
    const applied = await migrateUp(client, { dir: migrationsUpToV1() });
    assert.equal(applied.length, LAST_V1);
    await insertV1(client);
    const seqOrder = await client.query<{ id: string }>('select id from todo_chat.messages order by seq');
    assert.deepEqual(seqOrder.rows.map((r) => r.id), V1_MESSAGES.map((m) => m.id));
    const conversationsBefore = await client.query('select id, title, status, version, created_at, updated_at from todo_chat.conversations order by id');
    const rest = await migrateUp(client);
    assert.deepEqual(secondVersion(rest), ['0009_count_history_on_conversations.sql', '0010_redesign_messages.sql', '0011_create_tool_call_audit.sql']);
    await assertCarriedOver(client);
    const conversationsAfter = await client.query('select id, title, status, version, created_at, updated_at from todo_chat.conversations order by id');
    assert.deepStrictEqual(conversationsAfter.rows, conversationsBefore.rows, 'filling the counters is no edit of a conversation: updated_at and version stay');
    superuserRows = await allRows(client);
  });

  test('readable through the API, user by user, and isolated', async () => {
    const store = db.store();
    for (const conversation of ['a1', 'a2', 'a3', 'b1'] as const) {
      const user = OWNER[conversation]!;
      const expected = expectedMessages(conversation);
      await store.withUser(user, async (tx) => {
        assert.deepStrictEqual(await tx.messages.all(CONVERSATIONS[conversation]), expected, `${conversation}: all`);
        const page = await tx.messages.history(CONVERSATIONS[conversation], { limit: 3 });
        let start = Math.max(expected.length - 3, 0);
        while (start > 0 && expected[start]!.role === 'tool') start--;
        assert.deepStrictEqual(page.items, expected.slice(start), `${conversation}: history`);
        const batches: Message[] = [];
        for await (const batch of tx.messages.batches(CONVERSATIONS[conversation], { batchSize: 4 })) batches.push(...batch);
        assert.deepStrictEqual(batches, expected);
        assert.deepStrictEqual(auditSummary(await auditOf(tx, CONVERSATIONS[conversation])), expectedAudit(conversation), `${conversation}: audit`);
        for (const message of expected) assert.deepStrictEqual(await tx.messages.get(CONVERSATIONS[conversation], message.id), message);
      });
    }
    await store.withUser(USERS.alice, async (tx) => {
      const own = await auditOf(tx);
      assert.equal(own.length, 3);
      assert.ok(own.every((r) => r.conversationId === CONVERSATIONS.a1));
      const hits = await tx.messages.search('milk');
      assert.ok(hits.length >= 2 && hits.every((hit) => hit.message.conversationId === CONVERSATIONS.a1), 'search reads the carried-over content');
      assert.equal((await tx.tasks.list()).items.length, 2);
    });
    await store.withUser(USERS.bob, async (tx) => {
      await assert.rejects(tx.messages.all(CONVERSATIONS.a1), NotFoundError);
      await assert.rejects(tx.toolCalls.list({ conversationId: CONVERSATIONS.a1 }), NotFoundError);
      assert.deepEqual((await auditOf(tx)).map((r) => [r.callId, r.name, r.results.map((x) => x.output)]), [['call_1', 'list_tasks', ['bob has no tasks']]]);
      assert.deepEqual(await tx.messages.search('milk'), []);
    });
    // Appending goes on from the carried-over counters; a result may answer a carried-over call's id again.
    const appended = await store.withUser(USERS.alice, (tx) =>
      tx.messages.appendTurn(CONVERSATIONS.a1, [
        { role: 'user', content: 'and bread' },
        { role: 'assistant', toolCalls: [{ id: 'call_2', name: 'add_task', arguments: { title: 'bread' } }] },
        { role: 'tool', toolCallId: 'call_2', content: '{"id":3}' },
      ]),
    );
    const carried = expectedMessages('a1').length;
    assert.deepEqual(appended.map((m) => m.position), [carried + 1, carried + 2, carried + 3]);
    const audit = await store.withUser(USERS.alice, (tx) => auditOf(tx, CONVERSATIONS.a1));
    assert.deepEqual(audit.at(-1)!.results.map((x) => x.messageId), [appended[2]!.id], 'the new result answers the new call, not the carried-over one of the same id');
    const firstCall = expectedMessages('a1').find((m) => m.toolCalls)!;
    assert.deepEqual(audit.find((r) => r.messageId === firstCall.id && r.callId === 'call_2')?.results.map((x) => x.output), ['{"id":2}']);
    // A result alone, in an append of its own, answers the newest carried-over call of its id still in the history.
    const late = await store.withUser(USERS.alice, (tx) => tx.messages.append(CONVERSATIONS.a1, { role: 'tool', toolCallId: 'call_1', content: 'completed (third time)' }));
    const completeCall = expectedMessages('a1').filter((m) => m.toolCalls?.some((call) => call.id === 'call_1')).at(-1)!;
    const answered = await store.withUser(USERS.alice, (tx) => auditOf(tx, CONVERSATIONS.a1));
    assert.deepEqual(
      answered.find((r) => r.messageId === completeCall.id)?.results.map((x) => [x.messageId, x.output]),
      [
        ...expectedAudit('a1').find((r) => r.messageId === completeCall.id)!.results.map((x) => [x.messageId, x.output]),
        [late.id, 'completed (third time)'],
      ],
    );
  });

  test('migrated by a migration role that owns the objects without bypassing row-level security: no row is lost', async () => {
    const suffix = crypto.randomBytes(4).toString('hex');
    const owner = { name: `tcdb_hist_owner_${suffix}`, password: crypto.randomBytes(12).toString('hex') };
    const ownerDb = await createEmptyDatabase();
    onCleanup(async () => {
      await adminQuery(`drop database if exists ${ownerDb.name} with (force)`);
      await adminQuery(`drop role if exists ${owner.name}`);
    });
    await ownerDb.admin.query(`create role ${owner.name} login password '${owner.password}' nosuperuser nobypassrls`);
    await ownerDb.admin.query(`grant create on database ${ownerDb.name} to ${owner.name}`);
    await ownerDb.admin.query(`grant todo_chat_app to ${owner.name} with admin option`);
    const client = await connect(urlFor(ownerDb.name, owner));
    await migrateUp(client, { dir: migrationsUpToV1() });
    await insertV1(ownerDb.admin);
    // As the owner, forced row-level security hides every row (no user is set).
    assert.deepEqual((await client.query('select count(*)::int as n from todo_chat.messages')).rows, [{ n: 0 }]);
    const rest = await migrateUp(client);
    assert.equal(secondVersion(rest).length, 3);
    const owners = await ownerDb.admin.query("select distinct tableowner from pg_tables where schemaname = 'todo_chat'");
    assert.deepEqual(owners.rows, [{ tableowner: owner.name }]);
    await assertCarriedOver(ownerDb.admin);
    const rows = await allRows(ownerDb.admin);
    // The same rows as the superuser's migration (the same data was inserted into both), but for the
    // timestamps the databases set themselves when the data was inserted.
    const comparable = (all: Record<string, unknown>) => ({
      ...all,
      users: (all.users as { id: string }[]).map((row) => row.id),
      conversations: (all.conversations as Record<string, unknown>[]).map(({ created_at: _c, updated_at: _u, ...row }) => row),
    });
    assert.deepStrictEqual(comparable(rows), comparable(superuserRows));
  });
});

// ---------------------------------------------------------------------------
// Down
// ---------------------------------------------------------------------------

/** A migrated database with a client of its own, and a store. */
async function migratedDatabase(): Promise<{ db: TestDatabase; client: pg.Client; store: Store; user: string }> {
  const db = await createTestDatabase();
  const client = await connect(db.url);
  const store = createStore({ connectionString: db.url, maxConnections: 2 });
  onCleanup(() => store.close());
  const user = await db.createUser();
  // The migrations after 0011 (which hold no data yet) are reverted: the down files under test are then the newest.
  const newer = (await listMigrationFiles()).filter((file) => file.id > LAST_V2).length;
  if (newer > 0) await migrateDown(client, newer);
  return { db, client, store, user };
}

async function stateOf(client: pg.Client) {
  return { catalog: await snapshotCatalog(client), rows: await allRows(client) };
}

describe('down: refuses to drop what it cannot carry back, unless told', () => {
  test('down of 0011 and 0010 refuses, naming what would be lost, and changes nothing', async () => {
    // Regression: migrateDown(client, 2) reverted each file in its own
    // transaction, so 0011 was reverted (and committed) before 0010 refused,
    // leaving the database half-way down. The files of one run now revert in
    // one transaction.
    const { client, store, user } = await migratedDatabase();
    const [one, two] = await store.withUser(user, async (tx) => [(await tx.conversations.create()).id, (await tx.conversations.create()).id]);
    const repeated = crypto.randomUUID();
    await store.withUser(user, async (tx) => {
      await tx.messages.appendTurn(one, [
        { role: 'user', content: 'a chat message with a uuid' },
        { id: repeated, role: 'assistant', content: 'a uuid used in two conversations' },
        { format: 'openai-agents', item: { role: 'user', content: 'an sdk item' } },
        { id: 'msg_not_a_uuid', role: 'user', content: 'an id that is no uuid' },
      ]);
      await tx.messages.append(two, { id: repeated, role: 'assistant', content: 'a uuid used in two conversations' });
    });
    const before = await stateOf(client);
    await assert.rejects(migrateDown(client, 2), (error: unknown) => {
      assert.ok(error instanceof MigrationError);
      assert.match(error.message, /would lose 3 message\(s\): 1 sdk item\(s\), 1 with an id that is not a uuid, 1 repeating a uuid in another conversation/);
      return true;
    });
    const after = await stateOf(client);
    assert.deepStrictEqual(after.rows.migrations, before.rows.migrations, 'no migration reverted');
    assert.deepStrictEqual(after, before, 'catalog, rows and bookkeeping unchanged');
  });

  test('down of 0011 alone refuses while the audit holds calls and results of popped messages, and changes nothing; allowed, it drops them', async () => {
    const { client, store, user } = await migratedDatabase();
    const conversation = await store.withUser(user, async (tx) => (await tx.conversations.create()).id);
    await store.withUser(user, (tx) =>
      tx.messages.appendTurn(conversation, [
        { role: 'user', content: 'q' },
        { role: 'assistant', toolCalls: [{ id: 'call_p', name: 'add_task', arguments: {} }] },
        { role: 'tool', toolCallId: 'call_p', content: 'r' },
      ]),
    );
    await store.withUser(user, (tx) => tx.messages.pop(conversation, 2));
    const before = await stateOf(client);
    await assert.rejects(migrateDown(client, 1), (error: unknown) => {
      assert.ok(error instanceof MigrationError);
      assert.match(error.message, /would lose the audit of 1 call\(s\) and 1 result\(s\) that the messages now stored do not hold/);
      return true;
    });
    assert.deepStrictEqual(await stateOf(client), before);
    // Told through the session setting, as `migrate down --allow-data-loss` does, it goes.
    await client.query("select set_config('todo_chat.allow_data_loss', 'on', false)");
    const reverted = await migrateDown(client, 1);
    assert.deepEqual(reverted.map((r) => r.fileName), ['0011_create_tool_call_audit.sql']);
    assert.deepEqual((await client.query("select to_regclass('todo_chat.tool_calls') as t")).rows, [{ t: null }]);
    await client.query("select set_config('todo_chat.allow_data_loss', '', false)");
  });

  test('down of 0011 refuses while the audit holds calls of SDK items, which 0011 cannot derive again', async () => {
    // Regression: 0011's down only counted audit rows whose message was gone;
    // it dropped the calls and results derived from SDK items (whose messages
    // are all there), and applying 0011 again derives the audit from plain
    // chat messages only: those calls were lost without a refusal.
    const { client, store, user } = await migratedDatabase();
    const conversation = await store.withUser(user, async (tx) => (await tx.conversations.create()).id);
    await store.withUser(user, (tx) =>
      tx.messages.appendTurn(conversation, [
        { id: 'fc_1', format: 'openai-agents', item: { type: 'function_call', id: 'fc_1', callId: 'call_sdk', name: 'add_task', arguments: '{}' } },
        { id: 'fco_1', format: 'openai-agents', item: { type: 'function_call_result', id: 'fco_1', callId: 'call_sdk', name: 'add_task', status: 'completed', output: 'ok' } },
      ]),
    );
    const before = await stateOf(client);
    await assert.rejects(migrateDown(client, 1), /would lose the audit of 1 call\(s\) and 1 result\(s\)/);
    assert.deepStrictEqual(await stateOf(client), before);
  });

  test('down of 0011 refuses while the audit holds the calls of replaced messages', async () => {
    // Regression: the old calls of a replaced message are kept by the audit
    // only; the message is still there under its id, so the down's check did
    // not see them, and dropped them.
    const { client, store, user } = await migratedDatabase();
    const conversation = await store.withUser(user, async (tx) => (await tx.conversations.create()).id);
    await store.withUser(user, (tx) =>
      tx.messages.append(conversation, { id: 'm1', role: 'assistant', toolCalls: [{ id: 'call_old', name: 'delete_everything', arguments: {} }] }),
    );
    await store.withUser(user, (tx) => tx.messages.replace(conversation, 'm1', { role: 'assistant', content: 'never mind' }));
    const before = await stateOf(client);
    await assert.rejects(migrateDown(client, 1), /would lose the audit of 1 call\(s\) and 0 result\(s\)/);
    assert.deepStrictEqual(await stateOf(client), before);
    // The same when the replacement keeps the call id but changes its arguments: the former arguments would be lost.
    await store.withUser(user, (tx) =>
      tx.messages.append(conversation, { id: 'm2', role: 'assistant', toolCalls: [{ id: 'call_m2', name: 'add_task', arguments: { title: 'tea' } }] }),
    );
    await store.withUser(user, (tx) =>
      tx.messages.replace(conversation, 'm2', { role: 'assistant', toolCalls: [{ id: 'call_m2', name: 'add_task', arguments: { title: 'green tea' } }] }),
    );
    const again = await stateOf(client);
    await assert.rejects(migrateDown(client, 1), /would lose the audit of 2 call\(s\) and 0 result\(s\)/);
    assert.deepStrictEqual(await stateOf(client), again);
    // Allowed through the migrateDown option, it goes (and the setting does not outlive the run).
    const reverted = await migrateDown(client, 1, { allowDataLoss: true });
    assert.deepEqual(reverted.map((r) => r.fileName), ['0011_create_tool_call_audit.sql']);
    assert.deepEqual((await client.query("select to_regclass('todo_chat.tool_calls') as t, current_setting('todo_chat.allow_data_loss', true) as s")).rows, [{ t: null, s: '' }]);
  });

  test('down of 0011 goes without being told when 0011 derives the whole audit again from the messages, and up rebuilds it exactly', async () => {
    const { client, store, user } = await migratedDatabase();
    const [one, two] = await store.withUser(user, async (tx) => [(await tx.conversations.create()).id, (await tx.conversations.create()).id]);
    await store.withUser(user, async (tx) => {
      await tx.messages.appendTurn(one, [
        { role: 'user', content: 'q' },
        { role: 'assistant', toolCalls: [{ id: 'call_a', name: 'add_task', arguments: { title: 'a', nested: { list: [1, null] } } }, { id: 'call_b', name: 'list_tasks', arguments: {} }] },
        { role: 'tool', toolCallId: 'call_b', content: 'none' },
        { role: 'tool', toolCallId: 'call_a', content: '{"id":1}' },
      ]);
      // A result in an append of its own, and a call id used again in a later turn, answered twice.
      await tx.messages.append(one, { role: 'tool', toolCallId: 'call_a', content: 'again' });
      await tx.messages.appendTurn(one, [
        { role: 'assistant', toolCalls: [{ id: 'call_a', name: 'complete_task', arguments: { id: 1 } }] },
        { role: 'tool', toolCallId: 'call_a', content: 'done' },
      ]);
      await tx.messages.appendTurn(two, [{ role: 'user', content: 'no calls here' }]);
    });
    const before = await allRows(client);
    assert.equal((before.tool_results as unknown[]).length, 4);
    const reverted = await migrateDown(client, 1);
    assert.deepEqual(reverted.map((r) => r.fileName), ['0011_create_tool_call_audit.sql']);
    assert.deepEqual((await client.query("select to_regclass('todo_chat.tool_calls') as t")).rows, [{ t: null }]);
    await migrateUp(client, { dir: migrationsUpTo(LAST_V2) });
    assert.deepStrictEqual(await allRows(client), before, 'the same audit rows (ordinals and times included), counters and conversations');
  });

  test('allowed to lose data, down of 0011 and 0010 moves the uuid chat messages back to the first version in order, and up brings them back', async () => {
    const { client, store, user } = await migratedDatabase();
    const other = await store.withUser(user, async (tx) => (await tx.conversations.create()).id);
    const conversation = await store.withUser(user, async (tx) => (await tx.conversations.create()).id);
    const repeated = crypto.randomUUID();
    const appended = await store.withUser(user, (tx) =>
      tx.messages.appendTurn(conversation, [
        { role: 'user', content: 'q1' },
        { id: repeated, role: 'assistant', toolCalls: [{ id: 'call_1', name: 'add_task', arguments: { title: 'x' } }] },
        { format: 'openai-agents', item: { role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'an sdk item, dropped' }] } },
        { role: 'tool', toolCallId: 'call_1', content: 'r1' },
        { id: 'msg_custom', role: 'assistant', content: 'no uuid, dropped' },
        { role: 'assistant', content: 'a1' },
      ]),
    );
    // Later (the first copy of a uuid, by created_at, is the one kept).
    await new Promise((resolve) => setTimeout(resolve, 5));
    await store.withUser(user, (tx) => tx.messages.append(other, { id: repeated, role: 'user', content: 'the same uuid again, appended later: dropped' }));
    const kept = appended.filter((m) => m.format === 'chat' && m.id !== 'msg_custom');
    assert.equal(kept.length, 4);
    const reverted = await migrateDown(client, 2, { allowDataLoss: true });
    assert.deepEqual(reverted.map((r) => r.fileName), ['0011_create_tool_call_audit.sql', '0010_redesign_messages.sql']);
    const { rows } = await client.query<{ conversation_id: string; id: string; role: string; content: string; tool_calls: unknown; tool_call_id: string | null; created_at: Date }>(
      'select conversation_id, id, role, content, tool_calls, tool_call_id, created_at from todo_chat.messages order by seq',
    );
    assert.deepStrictEqual(
      rows,
      kept.map((m) => ({ conversation_id: conversation, id: m.id, role: m.role, content: m.content, tool_calls: m.toolCalls, tool_call_id: m.toolCallId, created_at: m.createdAt })),
      'the chat messages with uuid ids, in order; the first copy of a repeated uuid',
    );
    assert.deepEqual((await client.query("select current_setting('todo_chat.allow_data_loss', true) as s")).rows, [{ s: '' }], 'the setting did not outlive the down');
    // The first version's rule is back: a tool message must answer an earlier call.
    await assert.rejects(
      client.query('insert into todo_chat.messages (user_id, conversation_id, role, content, tool_call_id) values ($1, $2, $3, $4, $5)', [user, conversation, 'tool', 'x', 'call_none']),
      /answers no earlier tool call/,
    );
    await migrateUp(client);
    const back = await store.withUser(user, (tx) => tx.messages.all(conversation));
    assert.deepStrictEqual(back, kept.map((m, i) => ({ ...m, position: i + 1 })));
    const audit = await store.withUser(user, (tx) => auditOf(tx, conversation));
    assert.deepEqual(audit.map((r) => [r.messageId, r.callId, r.results.map((x) => x.output)]), [[repeated, 'call_1', ['r1']]]);
    assert.deepEqual(await store.withUser(user, (tx) => tx.messages.all(other)), []);
  });
});
