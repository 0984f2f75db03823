/*
  Appends messages to a conversation, in array order, in one statement: the
  messages of :messages (a json array of {id?, role, format, content,
  toolCalls?, toolCallId?, item?, calls, results}, calls and results being
  the tool-call audit the library derived from each) get the positions after
  the conversation's last one, so one append's messages are contiguous. The
  conversation row is updated first, and its lock makes appends to one
  conversation take turns without serialising anything else. The audit
  records of the append (its calls, then its results, message by message) are
  numbered after the conversation's last_audit_ordinal; a call already
  recorded identically for the same message at the same position is not
  recorded again. A result
  answers the newest call of its id at or before it in this append, or else
  the newest stored one that is still in the history: its message still at
  its position and still making that call (call_ids). That is an index lookup
  by call id, each candidate checked by a primary-key probe (a subquery with a
  limit, so that the planner keeps it a probe rather than a join over the
  messages); one that answers none is refused by tool_results_answers_call. No row back: the conversation is not the current
  user's.
*/
/* @name AppendMessages */
with input as (
  select m.ordinal::integer as ordinal,
    coalesce(m.value ->> 'id', pg_catalog.gen_random_uuid()::text) as id,
    m.value ->> 'role' as role,
    m.value ->> 'format' as format,
    m.value ->> 'content' as content,
    (m.value -> 'toolCalls')::jsonb as tool_calls,
    m.value ->> 'toolCallId' as tool_call_id,
    m.value -> 'item' as item,
    m.value -> 'calls' as calls,
    m.value -> 'results' as results,
    (select array_agg(k.value ->> 'callId' order by k.ordinal)
     from pg_catalog.json_array_elements(m.value -> 'calls') with ordinality as k(value, ordinal)) as call_ids,
    octet_length(m.value ->> 'content') + coalesce(octet_length(((m.value -> 'toolCalls')::jsonb)::text), 0)
      + coalesce(octet_length((m.value -> 'item')::text), 0) as size_bytes
  from pg_catalog.json_array_elements(:messages!::json) with ordinality as m(value, ordinal)
),
audit as (
  select a.*, (row_number() over (order by a.message_ordinal, a.kind, a.idx))::integer as n
  from (
    select i.ordinal as message_ordinal, i.id as message_id, i.format, 0 as kind, k.ordinal as idx, k.value
    from input i, pg_catalog.json_array_elements(i.calls) with ordinality as k(value, ordinal)
    union all
    select i.ordinal, i.id, i.format, 1, r.ordinal, r.value
    from input i, pg_catalog.json_array_elements(i.results) with ordinality as r(value, ordinal)
  ) as a
),
conversation as (
  update todo_chat.conversations c
  set last_position = c.last_position + (select count(*) from input)::integer,
    history_bytes = c.history_bytes + (select coalesce(sum(i.size_bytes), 0) from input i),
    last_audit_ordinal = c.last_audit_ordinal + (select count(*) from audit)::integer
  where c.user_id = :userId! and c.id = :conversationId!
  returning c.last_position - (select count(*) from input)::integer as base,
    c.last_audit_ordinal - (select count(*) from audit)::integer as audit_base
),
inserted as (
  insert into todo_chat.messages (conversation_id, id, position, role, format, content, tool_calls, tool_call_id, item, call_ids)
  select :conversationId!, i.id, c.base + i.ordinal, i.role, i.format, i.content, i.tool_calls, i.tool_call_id, i.item, i.call_ids
  from input i, conversation c
  returning id, position, role, format, content, tool_calls, tool_call_id, item, created_at
),
calls as (
  select a.message_ordinal, a.message_id, a.format, a.idx, a.value ->> 'callId' as call_id, a.value ->> 'name' as name,
    a.value -> 'arguments' as arguments, c.base + a.message_ordinal as message_position,
    coalesce(
      (select t.ordinal
       from todo_chat.tool_calls t
       where t.user_id = :userId! and t.conversation_id = :conversationId! and t.message_id = a.message_id
         and t.message_position = c.base + a.message_ordinal
         and t.call_id = a.value ->> 'callId' and t.name = a.value ->> 'name'
         and md5(coalesce(t.arguments::jsonb::text, '')) = md5(coalesce((a.value -> 'arguments')::jsonb::text, ''))),
      c.audit_base + a.n
    ) as ordinal
  from audit a, conversation c
  where a.kind = 0
),
recorded_calls as (
  insert into todo_chat.tool_calls (conversation_id, ordinal, message_id, message_position, call_index, call_id, name, arguments, format)
  select :conversationId!, k.ordinal, k.message_id, k.message_position, (k.idx - 1)::integer, k.call_id, k.name, k.arguments, k.format
  from calls k, conversation c
  where k.ordinal > c.audit_base
  on conflict do nothing
),
recorded_results as (
  insert into todo_chat.tool_results (conversation_id, ordinal, call_ordinal, call_id, message_id, output, status)
  select :conversationId!, c.audit_base + a.n,
    coalesce(
      (select k.ordinal
       from calls k
       where k.call_id = a.value ->> 'callId' and k.message_ordinal <= a.message_ordinal
       order by k.message_ordinal desc, k.idx desc
       limit 1),
      (select t.ordinal
       from todo_chat.tool_calls t
       where t.user_id = :userId! and t.conversation_id = :conversationId! and t.call_id = a.value ->> 'callId'
         and coalesce((
           select true
           from todo_chat.messages m
           where m.user_id = t.user_id and m.conversation_id = t.conversation_id and m.id = t.message_id
             and m.position = t.message_position and t.call_id = any (m.call_ids)
           limit 1
         ), false)
       order by t.ordinal desc
       limit 1)
    ),
    a.value ->> 'callId', a.message_id, a.value -> 'output', a.value ->> 'status'
  from audit a, conversation c
  where a.kind = 1
  on conflict do nothing
)
select id, position, role, format, content, tool_calls as "toolCalls", tool_call_id as "toolCallId", item,
  created_at as "createdAt"
from inserted
order by position;

/*
  Replaces a message in place (same id, same position) with :message (one
  element of AppendMessages' :messages), adjusts the conversation's
  history_bytes, and records the calls and results of its new content in the
  audit as AppendMessages does (the audit keeps those of the old content).
  Runs after LockConversation, so that it sees every write to the
  conversation committed before. No row: no such message in the current
  user's conversation.
*/
/* @name ReplaceMessage */
with input as (
  select m.value ->> 'role' as role,
    m.value ->> 'format' as format,
    m.value ->> 'content' as content,
    (m.value -> 'toolCalls')::jsonb as tool_calls,
    m.value ->> 'toolCallId' as tool_call_id,
    m.value -> 'item' as item,
    m.value -> 'calls' as calls,
    m.value -> 'results' as results,
    (select array_agg(k.value ->> 'callId' order by k.ordinal)
     from pg_catalog.json_array_elements(m.value -> 'calls') with ordinality as k(value, ordinal)) as call_ids,
    octet_length(m.value ->> 'content') + coalesce(octet_length(((m.value -> 'toolCalls')::jsonb)::text), 0)
      + coalesce(octet_length((m.value -> 'item')::text), 0) as size_bytes
  from (select :message!::json as value) as m
),
previous as (
  select m.position, m.size_bytes
  from todo_chat.messages m
  where m.user_id = :userId! and m.conversation_id = :conversationId! and m.id = :id!
),
audit as (
  select a.*, (row_number() over (order by a.kind, a.idx))::integer as n
  from (
    select i.format, 0 as kind, k.ordinal as idx, k.value
    from input i, previous p, pg_catalog.json_array_elements(i.calls) with ordinality as k(value, ordinal)
    union all
    select i.format, 1, r.ordinal, r.value
    from input i, previous p, pg_catalog.json_array_elements(i.results) with ordinality as r(value, ordinal)
  ) as a
),
conversation as (
  update todo_chat.conversations c
  set history_bytes = c.history_bytes - p.size_bytes + i.size_bytes,
    last_audit_ordinal = c.last_audit_ordinal + (select count(*) from audit)::integer
  from previous p, input i
  where c.user_id = :userId! and c.id = :conversationId!
  returning p.position, c.last_audit_ordinal - (select count(*) from audit)::integer as audit_base
),
replaced as (
  update todo_chat.messages m
  set role = i.role, format = i.format, content = i.content, tool_calls = i.tool_calls, tool_call_id = i.tool_call_id, item = i.item,
    call_ids = i.call_ids
  from input i, conversation c
  where m.user_id = :userId! and m.conversation_id = :conversationId! and m.id = :id!
  returning m.id, m.position, m.role, m.format, m.content, m.tool_calls, m.tool_call_id, m.item, m.created_at
),
calls as (
  select a.format, a.idx, a.value ->> 'callId' as call_id, a.value ->> 'name' as name, a.value -> 'arguments' as arguments,
    coalesce(
      (select t.ordinal
       from todo_chat.tool_calls t
       where t.user_id = :userId! and t.conversation_id = :conversationId! and t.message_id = :id!
         and t.message_position = c.position
         and t.call_id = a.value ->> 'callId' and t.name = a.value ->> 'name'
         and md5(coalesce(t.arguments::jsonb::text, '')) = md5(coalesce((a.value -> 'arguments')::jsonb::text, ''))),
      c.audit_base + a.n
    ) as ordinal
  from audit a, conversation c
  where a.kind = 0
),
recorded_calls as (
  insert into todo_chat.tool_calls (conversation_id, ordinal, message_id, message_position, call_index, call_id, name, arguments, format)
  select :conversationId!, k.ordinal, :id!, c.position, (k.idx - 1)::integer, k.call_id, k.name, k.arguments, k.format
  from calls k, conversation c
  where k.ordinal > c.audit_base
  on conflict do nothing
),
recorded_results as (
  insert into todo_chat.tool_results (conversation_id, ordinal, call_ordinal, call_id, message_id, output, status)
  select :conversationId!, c.audit_base + a.n,
    coalesce(
      (select k.ordinal from calls k where k.call_id = a.value ->> 'callId' order by k.idx desc limit 1),
      (select t.ordinal
       from todo_chat.tool_calls t
       where t.user_id = :userId! and t.conversation_id = :conversationId! and t.call_id = a.value ->> 'callId'
         and coalesce((
           select true
           from todo_chat.messages m
           where m.user_id = t.user_id and m.conversation_id = t.conversation_id and m.id = t.message_id
             and m.position = t.message_position and t.call_id = any (m.call_ids)
           limit 1
         ), false)
       order by t.ordinal desc
       limit 1)
    ),
    a.value ->> 'callId', :id!, a.value -> 'output', a.value ->> 'status'
  from audit a, conversation c
  where a.kind = 1
  on conflict do nothing
)
select id, position, role, format, content, tool_calls as "toolCalls", tool_call_id as "toolCallId", item,
  created_at as "createdAt"
from replaced;

/*
  The messages of a conversation with the given ids (at most a page of them),
  in position order. :userId is a planner hint (sql/README.md).
*/
/* @name GetMessagesByIds */
select id, position, role, format, content, tool_calls as "toolCalls", tool_call_id as "toolCallId", item,
  created_at as "createdAt"
from todo_chat.messages
where user_id = :userId!
  and conversation_id = :conversationId!
  and id = any (:ids!::text[])
order by position;

/*
  Locks the conversation before a write that reads what is stored (an append
  that names its messages' ids, a replacement, a removal of the newest
  messages) and returns its last position: the statements that follow, each
  with a snapshot of its own, see every write to the conversation committed
  before the lock was granted, and appends wait for it. No row: not the
  current user's conversation.
*/
/* @name LockConversation */
select last_position as "lastPosition"
from todo_chat.conversations
where user_id = :userId! and id = :conversationId!
for update;

/*
  Removes the messages after position :keep (the newest ones; :keep 0 clears
  the conversation) and moves the conversation's counters back, under the lock
  LockConversation took. Returns what it removed, oldest first. The audit
  keeps their calls and results.
*/
/* @name RemoveNewestMessages */
with removed as (
  delete from todo_chat.messages m
  where m.user_id = :userId! and m.conversation_id = :conversationId! and m.position > :keep!::integer
  returning m.id, m.position, m.role, m.format, m.content, m.tool_calls, m.tool_call_id, m.item, m.created_at, m.size_bytes
),
counted as (
  update todo_chat.conversations c
  set last_position = least(:keep!::integer, c.last_position),
    history_bytes = c.history_bytes - (select coalesce(sum(r.size_bytes), 0) from removed r)
  where c.user_id = :userId! and c.id = :conversationId!
)
select id, position, role, format, content, tool_calls as "toolCalls", tool_call_id as "toolCallId", item,
  created_at as "createdAt"
from removed
order by position;

/*
  A page of history: the newest :limit messages before position :before
  (null: the newest), oldest first, by position range (positions have no
  gaps). When the page would start with a tool result it reaches back to the
  start of that turn (the nearest message that is not a tool result) but never
  by more than :extra messages, so a page holds at most :limit + :extra; a
  turn longer than that is entered in the middle. firstPosition is where the
  page starts (more history when it is above 1). No row: not the current
  user's conversation; one row with a null id: no message in the range.
  :userId is a planner hint (sql/README.md).
*/
/* @name ListHistory */
with conversation as (
  select least(coalesce(:before::integer, c.last_position + 1), c.last_position + 1) as before
  from todo_chat.conversations c
  where c.user_id = :userId! and c.id = :conversationId!
),
page as (
  select c.before, greatest(c.before - :limit!::integer, 1) as first
  from conversation c
),
start as (
  select coalesce(
    (select max(m.position)
     from todo_chat.messages m
     where m.user_id = :userId! and m.conversation_id = :conversationId!
       and m.position between greatest(p.first - :extra!::integer, 1) and p.first - 1
       and m.role <> 'tool'),
    greatest(p.first - :extra!::integer, 1)
  ) as position
  from page p
  where exists (
    select from todo_chat.messages m
    where m.user_id = :userId! and m.conversation_id = :conversationId! and m.position = p.first and m.role = 'tool'
  )
),
bounds as materialized (
  select coalesce((select s.position from start s), p.first) as first_position, p.before
  from page p
)
select b.first_position as "firstPosition",
  m.id, m.position, m.role, m.format, m.content, m.tool_calls as "toolCalls", m.tool_call_id as "toolCallId", m.item,
  m.created_at as "createdAt"
from bounds b
left join lateral (
  select m.id, m.position, m.role, m.format, m.content, m.tool_calls, m.tool_call_id, m.item, m.created_at
  from todo_chat.messages m
  where m.user_id = :userId! and m.conversation_id = :conversationId!
    and m.position >= b.first_position and m.position < b.before
  order by m.position
  limit :limit!::integer + :extra!::integer
) as m on true;

/*
  Every message of a conversation, its full reconstruction, but only while
  the conversation holds at most :maxMessages messages of at most :maxBytes
  in all; lastPosition and historyBytes say how much it holds, so that a
  larger one is refused before anything is read. No row: not the current
  user's conversation; one row with a null id: empty or too large. In no
  particular order: positions are 1..lastPosition without gaps, so the
  library puts each row in its place, and the server never sorts a
  conversation (sql/README.md). :userId is a planner hint (sql/README.md).
*/
/* @name ListAllMessages */
select c.last_position as "lastPosition", c.history_bytes as "historyBytes",
  m.id, m.position, m.role, m.format, m.content, m.tool_calls as "toolCalls", m.tool_call_id as "toolCallId", m.item,
  m.created_at as "createdAt"
from todo_chat.conversations c
left join todo_chat.messages m
  on m.user_id = :userId! and m.conversation_id = c.id
  and c.last_position <= :maxMessages!::integer and c.history_bytes <= :maxBytes!::bigint
where c.user_id = :userId! and c.id = :conversationId!;

/*
  The next :limit messages of a conversation after position :after, oldest
  first: one batch of a streamed reconstruction or export. No row: not the
  current user's conversation (or nothing after :after, which the caller
  tells apart by asking for a conversation it knows exists).
  :userId is a planner hint (sql/README.md).
*/
/* @name ListMessagesAfter */
select id, position, role, format, content, tool_calls as "toolCalls", tool_call_id as "toolCallId", item,
  created_at as "createdAt"
from todo_chat.messages
where user_id = :userId!
  and conversation_id = :conversationId!
  and position > :after!::integer
order by position
limit :limit!;

/*
  Full-text search over the current user's messages (english configuration,
  web-search syntax), best match first, optionally within one conversation.
  :userId is a planner hint (sql/README.md).
*/
/* @name SearchMessages */
select m.conversation_id as "conversationId", m.id, m.position, m.role, m.format, m.content,
  m.tool_calls as "toolCalls", m.tool_call_id as "toolCallId", m.item, m.created_at as "createdAt",
  ts_rank(m.search_vector, q.query) as rank
from todo_chat.messages m,
  websearch_to_tsquery('english'::regconfig, :query!) as q(query)
where m.user_id = :userId!
  and m.search_vector @@ q.query
  and (:conversationId::uuid is null or m.conversation_id = :conversationId::uuid)
order by rank desc, m.created_at desc, m.position desc
limit :limit!;
