-- 0011_create_tool_call_audit
-- purpose: the audit of what the agent did: every tool call (which tool,
--          with what arguments) and the result that answered it, whichever
--          api or sdk wrote the turn, queryable for a conversation and for a
--          user. the library derives calls and results from each message it
--          appends or replaces (src/history/) and writes them in the same
--          statement.
-- touches: tables todo_chat.tool_calls and todo_chat.tool_results, their
--          indexes, policies and grants; rows derived from the messages
--          already stored.
-- limits:  call ids and tool names 1..255 characters.
-- notes:   the audit is append-only: popping, clearing or replacing messages
--          edits the history, not the audit, so it keeps what the agent did
--          even after the history was rewritten; it goes with its
--          conversation (on delete cascade) and with its user. a result
--          answers the newest call of its id at or before it that is still in
--          the history, found by an index lookup on the call id, and a result
--          that answers none is refused: the check costs the same in a
--          conversation of 20,000 messages as in a new one.

/*
 * why: one row per call recorded. ordinal numbers the audit records of a
 * conversation (calls and results together, from conversations'
 * last_audit_ordinal), in the order they were written; message_position and
 * call_index say where the call stood in the history when it was recorded.
 * recording the same call of the same message at the same position again (a
 * retried append, a replacement that kept it) adds nothing:
 * tool_calls_recorded_once_idx, on a hash of the arguments since they may be
 * long (as jsonb text: the same arguments with their keys in another order are
 * the same call). the same message re-appended elsewhere after a pop makes its
 * call again, and is recorded again.
 */
create table todo_chat.tool_calls (
  user_id uuid not null default todo_chat.current_user_id(),
  conversation_id uuid not null,
  ordinal integer not null,
  message_id text not null,
  message_position integer not null,
  call_index integer not null,
  call_id text not null,
  name text not null,
  arguments json,
  format text not null,
  created_at timestamptz(3) not null default pg_catalog.now(),
  constraint tool_calls_pkey primary key (user_id, conversation_id, ordinal),
  constraint tool_calls_conversation_fkey foreign key (user_id, conversation_id)
    references todo_chat.conversations (user_id, id) on delete cascade,
  constraint tool_calls_ordinal_positive check (ordinal > 0),
  constraint tool_calls_call_id_length check (char_length(call_id) between 1 and 255),
  constraint tool_calls_name_length check (char_length(name) between 1 and 255),
  constraint tool_calls_format_known check (format in ('chat', 'openai-agents', 'ai-sdk')),
  constraint tool_calls_place_positive check (message_position > 0 and call_index >= 0)
);

comment on table todo_chat.tool_calls is 'append-only audit: every tool call the agent made, as written; survives pops, clears and replacements of the history.';
comment on column todo_chat.tool_calls.ordinal is 'number of the audit record within its conversation (calls and results together), in the order written.';
comment on column todo_chat.tool_calls.message_id is 'the message that made the call (it may since have been popped or replaced).';
comment on column todo_chat.tool_calls.message_position is 'the position of that message when the call was recorded.';
comment on column todo_chat.tool_calls.arguments is 'the arguments exactly as the sdk gave them (an object for chat and the ai sdk, a json string for the agents sdk).';

create unique index tool_calls_recorded_once_idx on todo_chat.tool_calls
  (user_id, conversation_id, message_id, message_position, call_id, name, md5(coalesce(arguments::jsonb::text, '')));

/*
 * why: one row per result recorded. call_ordinal names the call it answers;
 * the check that it is not null is the rule "a result answers a call of its
 * conversation that is still in its history", a constraint with a name so
 * that the refusal says so. a call may be answered more than once (all are
 * kept); the same result of the same message recorded again adds nothing.
 */
create table todo_chat.tool_results (
  user_id uuid not null default todo_chat.current_user_id(),
  conversation_id uuid not null,
  ordinal integer not null,
  call_ordinal integer,
  call_id text not null,
  message_id text not null,
  output json,
  status text,
  created_at timestamptz(3) not null default pg_catalog.now(),
  constraint tool_results_pkey primary key (user_id, conversation_id, ordinal),
  constraint tool_results_call_fkey foreign key (user_id, conversation_id, call_ordinal)
    references todo_chat.tool_calls (user_id, conversation_id, ordinal) on delete cascade,
  constraint tool_results_answers_call check (call_ordinal is not null),
  constraint tool_results_ordinal_positive check (ordinal > 0),
  constraint tool_results_status_length check (char_length(status) between 1 and 255)
);

comment on table todo_chat.tool_results is 'append-only audit: every result that answered a tool call.';
comment on column todo_chat.tool_results.call_ordinal is 'the call this result answers; never null (tool_results_answers_call).';
comment on column todo_chat.tool_results.message_id is 'the message that carried the result (it may since have been popped or replaced).';
comment on column todo_chat.tool_results.output is 'the output exactly as the sdk gave it (a string for plain chat: the tool message''s content).';
comment on column todo_chat.tool_results.status is 'as the sdk reported it (completed, incomplete, failed, output-error, output-denied, ...), null for plain chat.';

create unique index tool_results_recorded_once_idx on todo_chat.tool_results
  (user_id, conversation_id, call_ordinal, message_id, md5(coalesce(output::jsonb::text, '')), coalesce(status, ''));

/*
 * why: a result finds its call by call id, newest first: tool_calls_call_idx
 * bounds that lookup by the call id, however long the conversation. a call's
 * results are found through tool_results_call_idx (also what the foreign key's
 * cascade needs). the audit of a conversation is listed in ordinal order (the
 * primary key), a user's by time.
 */
create index tool_calls_call_idx on todo_chat.tool_calls (user_id, conversation_id, call_id, ordinal);
create index tool_calls_user_order_idx on todo_chat.tool_calls (user_id, created_at, conversation_id, ordinal);
create index tool_results_call_idx on todo_chat.tool_results (user_id, conversation_id, call_ordinal, ordinal);

/*
 * why: the audit of the messages already stored: the calls of each plain chat
 * assistant message and each tool message's result, numbered in history
 * order; a result answers the newest call of its id before it. the migrating
 * role may be an owner without bypassrls, for whom forced row-level security
 * hides every row: forcing is lifted for this transaction.
 */
alter table todo_chat.messages no force row level security;
alter table todo_chat.conversations no force row level security;

create temporary table audit_backfill on commit drop as
select m.user_id, m.conversation_id, m.id as message_id, m.position, m.created_at, e.kind, e.idx, e.call_id, e.name, e.payload,
  (row_number() over (partition by m.user_id, m.conversation_id order by m.position, e.kind, e.idx))::integer as ordinal
from todo_chat.messages m,
  lateral (
    select 0 as kind, c.ordinal as idx, c.value ->> 'id' as call_id, c.value ->> 'name' as name, c.value -> 'arguments' as payload
    from pg_catalog.jsonb_array_elements(m.tool_calls) with ordinality as c(value, ordinal)
    union all
    select 1, 1, m.tool_call_id, null, pg_catalog.to_jsonb(m.content)
    where m.role = 'tool'
  ) as e
where m.format = 'chat';

insert into todo_chat.tool_calls (user_id, conversation_id, ordinal, message_id, message_position, call_index, call_id, name, arguments, format, created_at)
select user_id, conversation_id, ordinal, message_id, position, (idx - 1)::integer, call_id, name, payload::json, 'chat', created_at
from audit_backfill
where kind = 0;

insert into todo_chat.tool_results (user_id, conversation_id, ordinal, call_ordinal, call_id, message_id, output, created_at)
select b.user_id, b.conversation_id, b.ordinal,
  (select t.ordinal from todo_chat.tool_calls t
   where t.user_id = b.user_id and t.conversation_id = b.conversation_id and t.call_id = b.call_id and t.message_position < b.position
   order by t.ordinal desc
   limit 1),
  b.call_id, b.message_id, b.payload::json, b.created_at
from audit_backfill b
where b.kind = 1;

-- filling the counters is not a change of the conversation: updated_at stays.
alter table todo_chat.conversations disable trigger conversations_touch_row;

update todo_chat.conversations c
set last_audit_ordinal = a.last
from (select user_id, conversation_id, max(ordinal) as last from audit_backfill group by user_id, conversation_id) as a
where c.user_id = a.user_id and c.id = a.conversation_id;

alter table todo_chat.conversations enable trigger conversations_touch_row;

alter table todo_chat.conversations force row level security;
alter table todo_chat.messages force row level security;

/*
 * why: the rule of every table. the audit is only ever read and appended to
 * by requests: no update or delete is granted (it goes by cascade with its
 * conversation or user).
 */
alter table todo_chat.tool_calls enable row level security;
alter table todo_chat.tool_calls force row level security;

create policy tool_calls_select on todo_chat.tool_calls for select to todo_chat_app
  using (user_id = (select todo_chat.current_user_id()));
create policy tool_calls_insert on todo_chat.tool_calls for insert to todo_chat_app
  with check (user_id = (select todo_chat.current_user_id()));
create policy tool_calls_update on todo_chat.tool_calls for update to todo_chat_app
  using (user_id = (select todo_chat.current_user_id()))
  with check (user_id = (select todo_chat.current_user_id()));
create policy tool_calls_delete on todo_chat.tool_calls for delete to todo_chat_app
  using (user_id = (select todo_chat.current_user_id()));

alter table todo_chat.tool_results enable row level security;
alter table todo_chat.tool_results force row level security;

create policy tool_results_select on todo_chat.tool_results for select to todo_chat_app
  using (user_id = (select todo_chat.current_user_id()));
create policy tool_results_insert on todo_chat.tool_results for insert to todo_chat_app
  with check (user_id = (select todo_chat.current_user_id()));
create policy tool_results_update on todo_chat.tool_results for update to todo_chat_app
  using (user_id = (select todo_chat.current_user_id()))
  with check (user_id = (select todo_chat.current_user_id()));
create policy tool_results_delete on todo_chat.tool_results for delete to todo_chat_app
  using (user_id = (select todo_chat.current_user_id()));

grant select on todo_chat.tool_calls to todo_chat_app;
grant insert (conversation_id, ordinal, message_id, message_position, call_index, call_id, name, arguments, format) on todo_chat.tool_calls to todo_chat_app;
grant select on todo_chat.tool_results to todo_chat_app;
grant insert (conversation_id, ordinal, call_ordinal, call_id, message_id, output, status) on todo_chat.tool_results to todo_chat_app;
