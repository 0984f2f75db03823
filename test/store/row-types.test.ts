/**
 * Row decoding (src/row-types.ts): the library reads timestamptz by position
 * instead of node-postgres' regular expressions. Its Dates must be exactly
 * the server's instants, to the millisecond, for every form the server
 * writes: compared with the server's own epoch for timestamps across the
 * supported years, fractions of one to six digits and offsets of whole
 * hours, half hours and the seconds of historical local mean time, under
 * several TimeZone settings; the forms it does not read (infinity, BC, years
 * before 100 or after 9999, another DateStyle) come out exactly as
 * node-postgres makes them. The store's rows use it, named and unnamed.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pg from 'pg';
import { createTestDatabase } from '../helpers/db.js';
import { ROW_TYPES, parseTimestamptz } from '../../src/row-types.js';

const db = await createTestDatabase();
const nodePostgres = pg.types.getTypeParser(1184, 'text') as (text: string) => unknown;

/** A parsed value in a form assert can compare: a Date's time (NaN for an invalid Date, which is not equal to itself as a Date). */
const comparable = (value: unknown) => (value instanceof Date ? { date: String(value.getTime()) } : value);

const ZONES = ['UTC', 'Asia/Kolkata', 'America/St_Johns', 'Pacific/Chatham', 'Africa/Monrovia', 'America/Los_Angeles', 'Pacific/Kiritimati'];

/** Timestamps spread over years 100..9999 with fractions of every length, plus the edges of the fast path. */
const INSTANTS = `
  select t from (
    select timestamptz '0100-01-01 00:00:00+00' + g * interval '57600 hours 13 minutes 17.123457 seconds' as t
    from generate_series(0, 1490) as g
    union all select timestamptz '1900-01-01 00:00:00.5+00' + g * interval '1 day 1.000001 seconds' from generate_series(0, 200) as g
    union all select timestamptz '2025-03-01 12:00:30+00' + g * interval '0.1 seconds' from generate_series(0, 20) as g
    union all select timestamptz '2025-03-01 12:00:30+00' + g * interval '0.000001 seconds' from generate_series(0, 20) as g
    union all select timestamptz '1969-12-31 23:59:59.999999+00'
    union all select timestamptz '1970-01-01 00:00:00+00'
    union all select timestamptz '9999-12-31 23:59:59.999999+00'
  ) as x where t < timestamptz '9999-12-31 00:00:00+00'`;

describe('timestamptz decoding', () => {
  for (const zone of ZONES) {
    test(`every instant, as the server writes it with TimeZone ${zone}: the server's epoch, to the millisecond`, async () => {
      const client = await db.admin.connect();
      try {
        await client.query(`set timezone = '${zone}'`);
        const { rows } = await client.query<{ text: string; epoch_ms: string }>(
          `select t::text as text, floor(extract(epoch from t) * 1000)::bigint::text as epoch_ms from (${INSTANTS}) as i`,
        );
        assert.ok(rows.length > 1700, `${rows.length} instants`);
        const forms = new Set<string>();
        for (const { text, epoch_ms } of rows) {
          const parsed = parseTimestamptz(text);
          assert.ok(parsed instanceof Date, text);
          assert.equal(parsed.getTime(), Number(epoch_ms), `${text} (${zone})`);
          // node-postgres agrees wherever its own float arithmetic does not round a fraction down a millisecond.
          const theirs = (nodePostgres(text) as Date).getTime();
          assert.ok(theirs === parsed.getTime() || theirs === parsed.getTime() - 1, `${text}: node-postgres ${theirs}, ours ${parsed.getTime()}`);
          forms.add(text.replace(/\d/g, '9'));
        }
        // The forms the fast path reads were all there: with and without fractions, and the zone's offsets.
        assert.ok([...forms].some((f) => /\.9+[+-]/.test(f)) && [...forms].some((f) => /:99[+-]/.test(f)), [...forms].join(', '));
      } finally {
        client.release();
      }
    });
  }

  test('the offsets of historical local mean time (seconds in the offset) are read too', async () => {
    const client = await db.admin.connect();
    try {
      // Liberia kept Monrovia Mean Time, 44 minutes 30 seconds behind UTC, until 1972.
      await client.query("set timezone = 'Africa/Monrovia'");
      const { rows } = await client.query<{ text: string; epoch_ms: string }>(
        "select t::text as text, floor(extract(epoch from t) * 1000)::bigint::text as epoch_ms from (values (timestamptz '1950-06-01 12:00:00.25+00')) as v(t)",
      );
      assert.match(rows[0]!.text, /[+-]\d\d:\d\d:\d\d$/, 'an offset with seconds');
      assert.equal((parseTimestamptz(rows[0]!.text) as Date).getTime(), Number(rows[0]!.epoch_ms));
    } finally {
      client.release();
    }
  });

  test("what the fast path does not read comes out exactly as node-postgres makes it", async () => {
    const client = await db.admin.connect();
    try {
      const texts: string[] = [];
      await client.query("set timezone = 'UTC'");
      const iso = await client.query<{ text: string }>(
        `select t::text as text from (values (timestamptz 'infinity'), (timestamptz '-infinity'), (timestamptz '0044-03-15 12:00:00+00'),
           (timestamptz '0200-03-15 12:00:00+00 BC'), (timestamptz '12345-01-01 00:00:00+00'), (timestamptz '0099-12-31 23:59:59.9+00')) as v(t)`,
      );
      texts.push(...iso.rows.map((row) => row.text));
      await client.query("set datestyle = 'SQL, DMY'");
      texts.push((await client.query<{ text: string }>("select timestamptz '2025-03-01 12:00:30.5+00'::text as text")).rows[0]!.text);
      await client.query("set datestyle = 'Postgres, MDY'");
      texts.push((await client.query<{ text: string }>("select timestamptz '2025-03-01 12:00:30.5+00'::text as text")).rows[0]!.text);
      assert.equal(texts.length, 8);
      for (const text of texts) {
        assert.deepEqual(comparable(parseTimestamptz(text)), comparable(nodePostgres(text)), text);
      }
      // And text the server never writes: no fast-path misreading either.
      for (const text of ['2025-03-01 12:00:30+0', '2025-03-01 12:00:30.+00', '2025-03-01 12:00:30+00:3', '2025-03-01 12:00:30+00 ', '2025-0x-01 12:00:30+00']) {
        assert.deepEqual(comparable(parseTimestamptz(text)), comparable(nodePostgres(text)), text);
      }
    } finally {
      await client.query('reset datestyle');
      client.release();
    }
  });

  test('ROW_TYPES: timestamptz by the fast path, every other type as node-postgres parses it', () => {
    assert.equal(ROW_TYPES.getTypeParser(1184, 'text'), parseTimestamptz);
    for (const oid of [16, 20, 23, 25, 114, 1082, 1114, 2950, 3802]) assert.equal(ROW_TYPES.getTypeParser(oid, 'text'), pg.types.getTypeParser(oid, 'text'), `oid ${oid}`);
  });

  for (const namedStatements of [true, false]) {
    test(`the store's rows (namedStatements ${namedStatements}): every Date is the server's instant`, async () => {
      const store = db.store({ namedStatements });
      const [user] = await db.createUsers(1);
      const { task, conversation, messages } = await store.withUser(user!, async (tx) => {
        const task = await tx.tasks.complete((await tx.tasks.create({ title: 'dated' })).id);
        const conversation = await tx.conversations.create({ title: 'dated' });
        const messages = await tx.messages.appendTurn(conversation.id, [{ role: 'user', content: 'when?' }]);
        return { task, conversation, messages };
      });
      const stored = (
        await db.admin.query<{ created: string; completed: string; conversation: string; message: string }>(
          `select floor(extract(epoch from t.created_at) * 1000)::bigint::text as created, floor(extract(epoch from t.completed_at) * 1000)::bigint::text as completed,
             floor(extract(epoch from c.updated_at) * 1000)::bigint::text as conversation, floor(extract(epoch from m.created_at) * 1000)::bigint::text as message
           from todo_chat.tasks t, todo_chat.conversations c, todo_chat.messages m
           where t.id = $1 and c.id = $2 and m.conversation_id = c.id`,
          [task.id, conversation.id],
        )
      ).rows[0]!;
      assert.ok(task.createdAt instanceof Date && task.completedAt instanceof Date);
      assert.equal(task.createdAt.getTime(), Number(stored.created));
      assert.equal(task.completedAt.getTime(), Number(stored.completed));
      assert.equal(messages[0]!.createdAt.getTime(), Number(stored.message));
      const [read] = await store.withUser(user!, (tx) => tx.messages.all(conversation.id));
      assert.equal(read!.createdAt.getTime(), Number(stored.message));
      assert.equal((await store.withUser(user!, (tx) => tx.conversations.get(conversation.id))).updatedAt.getTime(), Number(stored.conversation));
      await store.close();
    });
  }
});
