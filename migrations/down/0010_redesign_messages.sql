-- down 0010_redesign_messages
-- reverts: the message history to its first version (0007), moving back
-- every message that version can hold: plain chat messages (format 'chat')
-- whose id is a uuid, numbered again in their former order. it refuses, and
-- changes nothing, when messages would be lost (sdk items, ids that are not
-- uuids, or one uuid in several conversations of a user, which the first
-- version kept unique per user), unless the session setting
-- todo_chat.allow_data_loss is 'on' (`migrate down --allow-data-loss`); then
-- those are dropped. the functions it had are made again, after the copy.

alter table todo_chat.messages no force row level security;

do $$
declare
  sdk_items bigint;
  foreign_ids bigint;
  repeated_ids bigint;
begin
  select count(*) filter (where format <> 'chat'),
    count(*) filter (where format = 'chat' and id !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')
  into sdk_items, foreign_ids
  from todo_chat.messages;
  select count(*) - count(distinct (user_id, lower(id)))
  into repeated_ids
  from todo_chat.messages
  where format = 'chat' and id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
  if sdk_items + foreign_ids + repeated_ids > 0
     and coalesce(pg_catalog.current_setting('todo_chat.allow_data_loss', true), '') <> 'on' then
    raise exception 'reverting 0010_redesign_messages would lose % message(s): % sdk item(s), % with an id that is not a uuid, % repeating a uuid in another conversation',
      sdk_items + foreign_ids + repeated_ids, sdk_items, foreign_ids, repeated_ids
      using errcode = 'object_not_in_prerequisite_state',
            hint = 'nothing was changed; to revert anyway and drop them, run down with --allow-data-loss';
  end if;
end
$$;

alter table todo_chat.messages rename to messages_v2;
alter table todo_chat.messages_v2 rename constraint messages_pkey to messages_v2_pkey;
alter table todo_chat.messages_v2 rename constraint messages_position_key to messages_v2_position_key;
alter table todo_chat.messages_v2 rename constraint messages_conversation_fkey to messages_v2_conversation_fkey;

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

insert into todo_chat.messages (user_id, conversation_id, id, role, content, tool_calls, tool_call_id, created_at)
select user_id, conversation_id, id::uuid, role, content, tool_calls, tool_call_id, created_at
from (
  select m.*, row_number() over (partition by m.user_id, lower(m.id) order by m.created_at, m.conversation_id, m.position) as copy
  from todo_chat.messages_v2 m
  where m.format = 'chat' and m.id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
) as kept
where kept.copy = 1
order by user_id, conversation_id, position;

drop table todo_chat.messages_v2;

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
