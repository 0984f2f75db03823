/**
 * The benchmark's data, made reproducibly on the server (generate_series, ids
 * from md5 of their indexes: the same parameters always make the same rows),
 * and reused by later runs whose parameters match (bench_meta.fill).
 *
 * Every user has `conversations` conversations of `messages` messages and
 * `tasks` tasks; user 0 also has one conversation of `bigMessages` messages.
 * A conversation is turns of four messages: the user's request, the
 * assistant's tool call, the tool's result, the assistant's answer (a quarter
 * of the messages are tool calls, each followed by its result), with the
 * tool-call audit (tool_calls, tool_results) filled as the append statement
 * would. Two layouts, so that the newest page of 50 starts on either kind of
 * message: even-numbered conversations open with a two-message greeting, so
 * that their newest 50 start on a user message; odd-numbered ones start with a
 * turn, so that their newest 50 start on a tool result (and the history reaches
 * back one message, to the call).
 */
import { createHash } from 'node:crypto';
import pg from 'pg';

export interface FillParameters {
  users: number;
  conversations: number;
  messages: number;
  tasks: number;
  bigMessages: number;
}

/** Bumped whenever the rows a fill makes change: an older fill is then made again. */
const FILL_FORMAT = 3;

export const FULL_FILL: FillParameters = { users: 1000, conversations: 5, messages: 200, tasks: 50, bigMessages: 10_000 };
export const QUICK_FILL: FillParameters = { users: 100, conversations: 5, messages: 200, tasks: 50, bigMessages: 10_000 };

/** The SQL expressions of the fill's ids, shared with the workloads' target selection. */
export const ids = {
  user: (u: number) => md5Uuid(`u:${u}`),
  conversation: (u: number, c: number) => md5Uuid(`c:${u}:${c}`),
  big: () => md5Uuid('c:big'),
  task: (u: number, t: number) => md5Uuid(`t:${u}:${t}`),
  scratch: (u: number) => md5Uuid(`scratch:${u}`),
};

function md5Uuid(text: string): string {
  const hex = createHash('md5').update(text).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** SQL functions of the fill, in a schema of the benchmark's own (never the library's). */
const HELPERS = `
create schema if not exists bench_meta;
create table if not exists bench_meta.fill (parameters jsonb not null, completed_at timestamptz);
create or replace function bench_meta.uid(text) returns uuid language sql immutable as $$ select md5($1)::uuid $$;
create or replace function bench_meta.word(seed integer, k integer) returns text language sql immutable as $$
  select (array['groceries','dentist','taxes','plants','passport','laundry','meeting','report','invoice','garden',
                'birthday','flight','hotel','car','insurance','library','gym','recipe','budget','email'])[1 + abs(seed * 7 + k * 13) % 20]
$$;
-- the role of the message at position p of a conversation of layout 'user' (greeting first) or 'tool'.
create or replace function bench_meta.slot(layout text, p integer) returns integer language sql immutable as $$
  select case when layout = 'user' then (case when p <= 2 then (p - 1) * 3 else (p - 3) % 4 end) else (p - 1) % 4 end
$$;
`;

/** Messages of conversations [from, to) of the user range, as one insert (the conversations exist). */
const INSERT_MESSAGES = `
insert into todo_chat.messages (user_id, conversation_id, id, position, role, format, content, tool_calls, tool_call_id, call_ids, created_at)
select c.user_id, c.id, md5(c.id::text || ':' || p)::uuid::text, p,
  case s when 0 then 'user' when 2 then 'tool' else 'assistant' end,
  'chat',
  case s
    when 0 then 'Please add a task about my ' || bench_meta.word(p, 1) || ' and remind me about the ' || bench_meta.word(p, 2) || ' on ' || to_char(c.created_at + p * interval '1 hour', 'FMDay') || '.'
    when 1 then ''
    when 2 then '{"taskId": "' || md5(c.id::text || ':task:' || p)::uuid || '", "title": "' || bench_meta.word(p, 1) || ' ' || bench_meta.word(p, 3) || '"}'
    else 'I added "' || bench_meta.word(p, 1) || ' ' || bench_meta.word(p, 3) || '" to your list. You now have ' || (p % 17 + 1) ||
      ' open tasks; the next one due is the ' || bench_meta.word(p, 2) || ', and I will remind you about the ' || bench_meta.word(p, 4) ||
      ' the day before. Anything else you would like me to plan for this week?'
  end,
  case s when 1 then jsonb_build_array(jsonb_build_object('id', 'call_' || left(md5(c.id::text || ':' || p), 24), 'name', 'add_task',
    'arguments', jsonb_build_object('title', bench_meta.word(p, 1) || ' ' || bench_meta.word(p, 3), 'due', to_char(c.created_at + p * interval '1 hour', 'YYYY-MM-DD')))) end,
  case s when 2 then 'call_' || left(md5(c.id::text || ':' || (p - 1)), 24) end,
  case s when 1 then array['call_' || left(md5(c.id::text || ':' || p), 24)] end,
  c.created_at + p * interval '30 seconds'
from todo_chat.conversations c
cross join lateral generate_series(1, c.last_position) as p
cross join lateral (select bench_meta.slot(case when c.title like '%tool layout%' then 'tool' else 'user' end, p) as s) as k
where c.user_id = any ($1::uuid[])`;

export async function ensureFill(url: string, wanted: FillParameters, log: (line: string) => void): Promise<'reused' | 'made'> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(HELPERS);
    const parameters = { ...wanted, format: FILL_FORMAT };
    const existing = await client.query<{ parameters: unknown }>('select parameters from bench_meta.fill where completed_at is not null');
    if (existing.rowCount === 1 && JSON.stringify(sortKeys(existing.rows[0]!.parameters)) === JSON.stringify(sortKeys(parameters))) return 'reused';
    await makeFill(client, wanted, parameters, log);
    return 'made';
  } finally {
    await client.end();
  }
}

function sortKeys(value: unknown): unknown {
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)));
}

async function makeFill(client: pg.Client, p: FillParameters, parameters: object, log: (line: string) => void): Promise<void> {
  const started = performance.now();
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)}s`;
  const total = p.users * p.conversations * p.messages + p.bigMessages;
  log(`fill: ${p.users} users x ${p.conversations} conversations x ${p.messages} messages + one of ${p.bigMessages} (${total.toLocaleString('en')} messages), ${p.tasks} tasks each`);
  await client.query('delete from bench_meta.fill');
  // As the superuser, with triggers (and so foreign-key checks) off: the rows are consistent by construction.
  await client.query("set session_replication_role = replica; set maintenance_work_mem = '1GB'; set synchronous_commit = off");
  await client.query('truncate todo_chat.users, todo_chat.tasks, todo_chat.conversations, todo_chat.messages, todo_chat.tool_calls, todo_chat.tool_results, todo_chat.turn_usage');
  // The full-text index is built once at the end: far cheaper than maintaining it row by row.
  await client.query('drop index if exists todo_chat.messages_search_idx');
  await client.query(
    `insert into todo_chat.users (id, created_at) select bench_meta.uid('u:' || u), timestamptz '2025-01-01 00:00:00+00' + u * interval '1 minute'
     from generate_series(0, $1::integer - 1) as u`,
    [p.users],
  );
  await client.query(
    `insert into todo_chat.tasks (user_id, id, title, description, completed, completed_at, version, created_at, updated_at)
     select bench_meta.uid('u:' || u), bench_meta.uid('t:' || u || ':' || t),
       initcap(bench_meta.word(t, u)) || ': ' || bench_meta.word(t + 1, u) || ' ' || t,
       case when t % 2 = 0 then 'Remember the ' || bench_meta.word(t, 3) || ' and the ' || bench_meta.word(t, 5) || '.' else '' end,
       t % 3 = 0, case when t % 3 = 0 then timestamptz '2025-02-01 00:00:00+00' + (u * 100 + t) * interval '1 minute' end, 1,
       timestamptz '2025-01-15 00:00:00+00' + (u * 100 + t) * interval '1 minute',
       timestamptz '2025-01-15 00:00:00+00' + (u * 100 + t) * interval '1 minute'
     from generate_series(0, $1::integer - 1) as u, generate_series(0, $2::integer - 1) as t`,
    [p.users, p.tasks],
  );
  await client.query(
    `insert into todo_chat.conversations (user_id, id, title, status, created_at, updated_at, last_position)
     select bench_meta.uid('u:' || u), bench_meta.uid('c:' || u || ':' || c),
       'Planning ' || c || case when c % 2 = 1 then ' (tool layout)' else '' end, 'active',
       timestamptz '2025-03-01 00:00:00+00' + (u * 10 + c) * interval '1 day',
       timestamptz '2025-03-01 00:00:00+00' + (u * 10 + c) * interval '1 day' + $3::integer * interval '30 seconds', $3
     from generate_series(0, $1::integer - 1) as u, generate_series(0, $2::integer - 1) as c`,
    [p.users, p.conversations, p.messages],
  );
  await client.query(
    `insert into todo_chat.conversations (user_id, id, title, status, created_at, updated_at, last_position)
     values (bench_meta.uid('u:0'), bench_meta.uid('c:big'), 'The long one (tool layout)', 'active',
       timestamptz '2024-01-01 00:00:00+00', timestamptz '2024-01-01 00:00:00+00' + $1::integer * interval '30 seconds', $1)`,
    [p.bigMessages],
  );
  const batch = 50;
  let done = 0;
  for (let from = 0; from < p.users; from += batch) {
    const users = Array.from({ length: Math.min(batch, p.users - from) }, (_, i) => ids.user(from + i));
    await client.query(INSERT_MESSAGES, [users]);
    done += users.length * p.conversations * p.messages + (from === 0 ? p.bigMessages : 0);
    log(`fill: messages ${done.toLocaleString('en')} / ${total.toLocaleString('en')} (${elapsed()})`);
  }
  log(`fill: the tool-call audit (${elapsed()})`);
  await client.query('begin');
  await client.query(`
    create temporary table audit on commit drop as
    select m.user_id, m.conversation_id, m.id as message_id, m.position, m.role, m.tool_calls, m.tool_call_id, m.content, m.created_at,
      (row_number() over (partition by m.user_id, m.conversation_id order by m.position))::integer as ordinal
    from todo_chat.messages m
    where m.tool_calls is not null or m.role = 'tool'`);
  await client.query(`
    insert into todo_chat.tool_calls (user_id, conversation_id, ordinal, message_id, message_position, call_index, call_id, name, arguments, format, created_at)
    select user_id, conversation_id, ordinal, message_id, position, 0, tool_calls -> 0 ->> 'id', tool_calls -> 0 ->> 'name', (tool_calls -> 0 -> 'arguments')::json, 'chat', created_at
    from audit where role = 'assistant'`);
  await client.query(`
    insert into todo_chat.tool_results (user_id, conversation_id, ordinal, call_ordinal, call_id, message_id, output, created_at)
    select user_id, conversation_id, ordinal, ordinal - 1, tool_call_id, message_id, to_json(content), created_at
    from audit where role = 'tool'`);
  await client.query(`
    update todo_chat.conversations c
    set history_bytes = h.bytes, last_audit_ordinal = coalesce(a.last, 0)
    from (select user_id, conversation_id, sum(size_bytes) as bytes from todo_chat.messages group by 1, 2) as h
    left join (select user_id, conversation_id, max(ordinal) as last from audit group by 1, 2) as a using (user_id, conversation_id)
    where c.user_id = h.user_id and c.id = h.conversation_id`);
  await client.query('commit');
  log(`fill: the full-text index (${elapsed()})`);
  await client.query('create index messages_search_idx on todo_chat.messages using gin (search_vector)');
  await client.query('set session_replication_role = origin');
  log(`fill: vacuum analyze (${elapsed()})`);
  await client.query('vacuum (analyze, freeze) todo_chat.users, todo_chat.tasks, todo_chat.conversations, todo_chat.messages, todo_chat.tool_calls, todo_chat.tool_results, todo_chat.turn_usage');
  await client.query('insert into bench_meta.fill (parameters, completed_at) values ($1, now())', [JSON.stringify(parameters)]);
  log(`fill: done in ${elapsed()}`);
}
