-- 0010_redesign_messages
-- purpose: the second version of the message history, moved over with every
--          row. a message now:
--          - has an id of its caller's choosing (any 1..255 characters, unique
--            within its conversation: the id its sdk gave it, `msg_...`, an ai
--            sdk id, or a uuid made here when the caller gives none);
--          - has a position, 1, 2, 3, ... within its conversation, without
--            gaps: nothing a user reads depends on other users' or other
--            conversations' activity, as the former global `seq` did;
--          - may carry the exact json item of the sdk that wrote it (`item`,
--            tagged by `format`), from which the library derives `role` and a
--            plain-text `content` for search; plain chat messages (format
--            'chat') are as before.
--          the newest messages may be removed (pop, clear) and a message may
--            be replaced in place; appends, pops and clears of one
--            conversation take turns on its row (0009's counters).
-- touches: table todo_chat.messages (rebuilt: the former one is renamed
--          messages_v1, copied and dropped), functions
--          todo_chat.messages_check_tool_answer() and
--          todo_chat.messages_touch_conversation() (dropped: the tool-call
--          audit of 0011 and the append statement of sql/messages.sql do their
--          work at constant cost), table todo_chat.conversations (counters
--          filled).
-- limits:  id 1..255 characters; plain chat content at most 10000 characters,
--          tool_calls and tool_call_id as before (src/limits.ts); an item at
--          most 1048576 bytes of json text, its derived content at most as
--          much; search indexes the first 100000 characters of content.
-- indexes: history reads a conversation by position (messages_position_key,
--          read backward for the newest page); a message is found by its id
--          through the primary key. search reads the user's own rows through
--          either (both lead with user_id) and matches the stored
--          search_vector. the former gin index is not rebuilt: under
--          row-level security a non-leakproof @@ can never be its index
--          condition, and making it one (marking ts_match_vq leakproof) would
--          let a search's cost depend on other users' messages (docs/api.md,
--          known limitations); every append would still pay for it.
-- notes:   the rebuild takes an access exclusive lock on the messages for as
--          long as the copy runs (about a second per million messages): run it
--          when the application is stopped. positions follow the former seq
--          order within each conversation. forced row-level security applies
--          to the table's owner too, so the copy reads the former table with
--          forcing lifted for this transaction (the role that migrates may be
--          an owner without bypassrls, docs/deploy.md).

/*
 * why: the former table and its constraints and index move aside under _v1
 * names, so that the new table is created with the final names. (squawk's
 * renaming-table and ban-drop-table: this file is a rebuild that runs while
 * the application is stopped, see the header; no client of the former table
 * outlives it, as the library's own statements change with it.)
 */
-- squawk-ignore renaming-table
alter table todo_chat.messages rename to messages_v1;
alter table todo_chat.messages_v1 rename constraint messages_pkey to messages_v1_pkey;
alter table todo_chat.messages_v1 rename constraint messages_conversation_seq_key to messages_v1_conversation_seq_key;
alter table todo_chat.messages_v1 rename constraint messages_conversation_fkey to messages_v1_conversation_fkey;
alter index todo_chat.messages_search_idx rename to messages_v1_search_idx;
drop trigger messages_check_tool_answer on todo_chat.messages_v1;
drop trigger messages_touch_conversation on todo_chat.messages_v1;
drop function todo_chat.messages_check_tool_answer();
drop function todo_chat.messages_touch_conversation();

/*
 * why: the columns of a message. content is what search reads and what plain
 * chat messages are; an sdk message keeps its item exactly as given (json,
 * not jsonb: the text is kept as written) and content is derived from its
 * text parts. size_bytes is what the message costs to read, summed in
 * conversations.history_bytes to bound whole-history reads.
 */
create table todo_chat.messages (
  user_id uuid not null default todo_chat.current_user_id(),
  conversation_id uuid not null,
  id text not null,
  position integer not null,
  role text not null,
  format text not null default 'chat',
  content text not null default '',
  tool_calls jsonb,
  tool_call_id text,
  item json,
  call_ids text[],
  size_bytes integer generated always as (
    octet_length(content) + coalesce(octet_length(tool_calls::text), 0) + coalesce(octet_length(item::text), 0)
  ) stored,
  created_at timestamptz(3) not null default pg_catalog.now(),
  search_vector tsvector generated always as (to_tsvector('english'::regconfig, "left"(content, 100000))) stored,
  constraint messages_pkey primary key (user_id, conversation_id, id),
  constraint messages_position_key unique (user_id, conversation_id, position),
  constraint messages_conversation_fkey foreign key (user_id, conversation_id)
    references todo_chat.conversations (user_id, id) on delete cascade,
  constraint messages_id_length check (char_length(id) between 1 and 255),
  constraint messages_position_positive check (position > 0),
  constraint messages_role_known check (role in ('user', 'assistant', 'system', 'tool')),
  constraint messages_format_known check (format in ('chat', 'openai-agents', 'ai-sdk')),
  constraint messages_content_length check (
    case when format = 'chat' then char_length(content) <= 10000 else octet_length(content) <= 1048576 end
  ),
  constraint messages_item_on_sdk_formats check ((format = 'chat') = (item is null)),
  constraint messages_item_is_object check (pg_catalog.json_typeof(item) = 'object'),
  constraint messages_item_size check (octet_length(item::text) <= 1048576),
  constraint messages_tool_calls_shape check (todo_chat.tool_calls_are_valid(tool_calls)),
  constraint messages_tool_calls_on_assistant check (tool_calls is null or (role = 'assistant' and format = 'chat')),
  constraint messages_tool_call_id_length check (char_length(tool_call_id) between 1 and 128),
  constraint messages_tool_call_id_on_tool check ((format = 'chat' and role = 'tool') = (tool_call_id is not null))
);

comment on table todo_chat.messages is 'chat history: numbered within each conversation; the newest may be popped, any may be replaced in place.';
comment on column todo_chat.messages.id is 'unique within the conversation: the caller''s (its sdk''s) id, or a uuid made when it gave none.';
comment on column todo_chat.messages.position is '1, 2, 3, ... within the conversation, without gaps; assigned by the append statement under the conversation''s row lock.';
comment on column todo_chat.messages.format is 'chat (role, content, tool_calls, tool_call_id as given), openai-agents (an AgentInputItem) or ai-sdk (a UIMessage).';
comment on column todo_chat.messages.content is 'plain text: as given for chat, the text parts of the item otherwise; what search indexes.';
comment on column todo_chat.messages.item is 'the sdk item exactly as written, for formats other than chat.';
comment on column todo_chat.messages.call_ids is 'the ids of the tool calls the message makes now (derived from it; null when none): what a tool result may answer.';
comment on column todo_chat.messages.size_bytes is 'bytes of content, tool_calls and item: what reading the message costs.';
comment on column todo_chat.messages.search_vector is 'english full-text vector of the first 100000 characters of content, for search.';

/*
 * why: the copy numbers each conversation's messages in their former order.
 */
alter table todo_chat.messages_v1 no force row level security;

insert into todo_chat.messages (user_id, conversation_id, id, position, role, format, content, tool_calls, tool_call_id, call_ids, created_at)
select user_id, conversation_id, id::text,
  (row_number() over (partition by user_id, conversation_id order by seq))::integer,
  role, 'chat', content, tool_calls, tool_call_id,
  (select array_agg(c.value ->> 'id' order by c.ordinal) from pg_catalog.jsonb_array_elements(tool_calls) with ordinality as c(value, ordinal)),
  created_at
from todo_chat.messages_v1;

-- squawk-ignore ban-drop-table
drop table todo_chat.messages_v1;

alter table todo_chat.conversations no force row level security;

-- filling the counters is not a change of the conversation: updated_at stays.
alter table todo_chat.conversations disable trigger conversations_touch_row;

update todo_chat.conversations c
set last_position = h.last_position, history_bytes = h.history_bytes
from (
  select user_id, conversation_id, max(position) as last_position, sum(size_bytes) as history_bytes
  from todo_chat.messages
  group by user_id, conversation_id
) as h
where c.user_id = h.user_id and c.id = h.conversation_id;

alter table todo_chat.conversations enable trigger conversations_touch_row;

alter table todo_chat.conversations force row level security;

/*
 * why: the rule of every table. user_id comes from its default; the composite
 * foreign key makes a message of another user's conversation impossible even
 * though foreign keys bypass row-level security. messages may now be deleted
 * (pop, clear) and replaced (update of everything but the keys).
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

grant select, delete on todo_chat.messages to todo_chat_app;
grant insert (conversation_id, id, position, role, format, content, tool_calls, tool_call_id, item, call_ids) on todo_chat.messages to todo_chat_app;
grant update (role, format, content, tool_calls, tool_call_id, item, call_ids) on todo_chat.messages to todo_chat_app;
