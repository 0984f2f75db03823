-- 0007_create_messages
-- purpose: the messages of a conversation, including the assistant's tool calls
--          and the tool results that answer them: the audit log of what the
--          agent did. messages are append-only (no update is granted).
-- touches: table todo_chat.messages, functions todo_chat.tool_calls_are_valid(),
--          todo_chat.messages_check_tool_answer(), todo_chat.messages_touch_conversation(),
--          their triggers, indexes, policies and grants.
-- limits:  content at most 10000 characters; role user|assistant|system|tool;
--          tool_calls only on assistant messages, an array of at most 64
--          {id, name, arguments} objects with distinct ids (id 1..128
--          characters, name 1..128 of [A-Za-z0-9_.:-], arguments an object);
--          tool_call_id 1..128 characters, present exactly on tool messages
--          (src/limits.ts holds the same numbers).

/*
 * why: tool_calls is jsonb so that it is read back exactly as written, but its
 * shape is still a constraint, not a hope: the same shape the zod schema
 * checks. the size cap here is a backstop against raw inserts; the client
 * refuses anything whose json text exceeds 64 KiB long before this. it is
 * 1 MiB because jsonb can be about 6 times larger than its text (`[0,0,...]`
 * costs 2 bytes of text and 12 of jsonb per element), and the backstop must
 * never refuse what the client accepts.
 */
create function todo_chat.tool_calls_are_valid(calls jsonb) returns boolean
language sql
immutable
strict
parallel safe
as $$
  select case
    when pg_catalog.jsonb_typeof(calls) <> 'array' then false
    when pg_catalog.jsonb_array_length(calls) > 64 then false
    when pg_catalog.pg_column_size(calls) > 1048576 then false
    else coalesce((
      select bool_and(
        case
          when pg_catalog.jsonb_typeof(call) <> 'object' then false
          when (select array_agg(k collate "C" order by k collate "C") from pg_catalog.jsonb_object_keys(call) as k)
               is distinct from array['arguments', 'id', 'name'] collate "C" then false
          when pg_catalog.jsonb_typeof(call -> 'id') <> 'string'
            or pg_catalog.jsonb_typeof(call -> 'name') <> 'string'
            or pg_catalog.jsonb_typeof(call -> 'arguments') <> 'object' then false
          when char_length(call ->> 'id') not between 1 and 128 then false
          when (call ->> 'name') !~ '^[A-Za-z0-9_.:-]{1,128}$' then false
          else true
        end)
      from pg_catalog.jsonb_array_elements(calls) as call
    ), true)
    and (select count(distinct call ->> 'id') from pg_catalog.jsonb_array_elements(calls) as call)
        = pg_catalog.jsonb_array_length(calls)
  end
$$;

comment on function todo_chat.tool_calls_are_valid(jsonb) is 'the shape of messages.tool_calls: [{id, name, arguments}], mirrored by the zod schema ToolCalls.';

create table todo_chat.messages (
  user_id uuid not null default todo_chat.current_user_id(),
  conversation_id uuid not null,
  id uuid not null default gen_random_uuid(),
  seq bigint generated always as identity,
  role text not null,
  content text not null default '',
  tool_calls jsonb,
  tool_call_id text,
  created_at timestamptz(3) not null default pg_catalog.now(),
  search_vector tsvector generated always as (to_tsvector('english'::regconfig, content)) stored,
  constraint messages_pkey primary key (user_id, id),
  constraint messages_conversation_seq_key unique (user_id, conversation_id, seq),
  constraint messages_conversation_fkey foreign key (user_id, conversation_id)
    references todo_chat.conversations (user_id, id) on delete cascade,
  constraint messages_role_known check (role in ('user', 'assistant', 'system', 'tool')),
  constraint messages_content_length check (char_length(content) <= 10000),
  constraint messages_tool_calls_shape check (todo_chat.tool_calls_are_valid(tool_calls)),
  constraint messages_tool_calls_on_assistant check (tool_calls is null or role = 'assistant'),
  constraint messages_tool_call_id_length check (char_length(tool_call_id) between 1 and 128),
  constraint messages_tool_call_id_on_tool check ((role = 'tool') = (tool_call_id is not null))
);

comment on table todo_chat.messages is 'append-only chat history; seq orders messages, even those written in one transaction.';
comment on column todo_chat.messages.seq is 'insertion order across the whole table; history is ordered by it, never by created_at.';
comment on column todo_chat.messages.search_vector is 'english full-text vector of content, for search.';

/*
 * why: a tool result must answer a call that an earlier assistant message of
 * the same conversation made. it is an after trigger so that a whole turn
 * (assistant call and its results) can arrive in one insert statement.
 */
create function todo_chat.messages_check_tool_answer() returns trigger
language plpgsql
as $$
begin
  if not exists (
    select from todo_chat.messages m
    where m.user_id = new.user_id
      and m.conversation_id = new.conversation_id
      and m.seq < new.seq
      and m.role = 'assistant'
      and m.tool_calls @> pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object('id', new.tool_call_id))
  ) then
    raise exception 'tool result answers no earlier tool call of its conversation'
      using errcode = 'check_violation',
            schema = 'todo_chat',
            table = 'messages',
            constraint = 'messages_tool_call_id_answers_call';
  end if;
  return null;
end
$$;

create trigger messages_check_tool_answer after insert on todo_chat.messages
  for each row when (new.role = 'tool') execute function todo_chat.messages_check_tool_answer();

/*
 * why: recent conversations are ordered by updated_at, which must move when a
 * message arrives. one statement-level update per insert, however many
 * messages the turn holds.
 */
create function todo_chat.messages_touch_conversation() returns trigger
language plpgsql
as $$
begin
  update todo_chat.conversations c
  set updated_at = pg_catalog.now()
  from (select distinct n.user_id, n.conversation_id from new_messages n) as m
  where c.user_id = m.user_id and c.id = m.conversation_id;
  return null;
end
$$;

create trigger messages_touch_conversation after insert on todo_chat.messages
  referencing new table as new_messages
  for each statement execute function todo_chat.messages_touch_conversation();

/*
 * why: history reads the newest n messages of one conversation by seq (the
 * unique constraint above is that index, read backward); search goes through
 * the gin index on the vector.
 */
create index messages_search_idx on todo_chat.messages using gin (search_vector);

/*
 * why: the rule of every table. user_id comes from its default; the composite
 * foreign key makes a message of another user's conversation impossible even
 * though foreign keys bypass row-level security.
 */
alter table todo_chat.messages enable row level security;
alter table todo_chat.messages force row level security;

create policy messages_select on todo_chat.messages for select to todo_chat_app
  using (user_id = (select todo_chat.current_user_id()));
create policy messages_insert on todo_chat.messages for insert to todo_chat_app
  with check (user_id = (select todo_chat.current_user_id()));
create policy messages_update on todo_chat.messages for update to todo_chat_app
  using (user_id = (select todo_chat.current_user_id()))
  with check (user_id = (select todo_chat.current_user_id()));
create policy messages_delete on todo_chat.messages for delete to todo_chat_app
  using (user_id = (select todo_chat.current_user_id()));

grant select on todo_chat.messages to todo_chat_app;
grant insert (id, conversation_id, role, content, tool_calls, tool_call_id) on todo_chat.messages to todo_chat_app;
