/*
  Appends a turn: the messages of :messages (a json array of
  {id, role, content, toolCalls, toolCallId}) in array order, in one statement,
  so that seq follows the array and the turn is written whole or not at all.
  The conversation must be the current user's (composite foreign key).
*/
/* @name AppendMessages */
insert into todo_chat.messages (id, conversation_id, role, content, tool_calls, tool_call_id)
select coalesce((m.value ->> 'id')::uuid, gen_random_uuid()),
  :conversationId!::uuid,
  m.value ->> 'role',
  coalesce(m.value ->> 'content', ''),
  nullif(m.value -> 'toolCalls', 'null'::jsonb),
  m.value ->> 'toolCallId'
from jsonb_array_elements(:messages!::jsonb) with ordinality as m(value, ordinal)
order by m.ordinal
returning id, conversation_id as "conversationId", seq, role, content, tool_calls as "toolCalls",
  tool_call_id as "toolCallId", created_at as "createdAt";

/*
  The newest :limit messages of a conversation before seq :beforeSeq, newest
  first (the repository reverses them). A backward scan of
  messages_conversation_seq_key, never a sort of the whole conversation.
  :userId is a planner hint (sql/README.md).
*/
/* @name ListRecentMessages */
select id, conversation_id as "conversationId", seq, role, content, tool_calls as "toolCalls",
  tool_call_id as "toolCallId", created_at as "createdAt"
from todo_chat.messages
where user_id = :userId!
  and conversation_id = :conversationId!
  and seq < :beforeSeq!::bigint
order by seq desc
limit :limit!;

/*
  Where the turn containing seq :seq begins: the newest message at or before
  it that is not a tool result. A page that would start with a tool result is
  extended back to here, so that a result never appears without its call.
  :userId is a planner hint (sql/README.md).
*/
/* @name GetTurnStart */
select seq
from todo_chat.messages
where user_id = :userId!
  and conversation_id = :conversationId!
  and seq <= :seq!::bigint
  and role <> 'tool'
order by seq desc
limit 1;

/*
  The messages of a conversation with seq in [:fromSeq, :toSeq), oldest first.
  :userId is a planner hint (sql/README.md).
*/
/* @name ListMessagesBetween */
select id, conversation_id as "conversationId", seq, role, content, tool_calls as "toolCalls",
  tool_call_id as "toolCallId", created_at as "createdAt"
from todo_chat.messages
where user_id = :userId!
  and conversation_id = :conversationId!
  and seq >= :fromSeq!::bigint
  and seq < :toSeq!::bigint
order by seq;

/*
  Every message of a conversation, oldest first: its full reconstruction.
  :userId is a planner hint (sql/README.md).
*/
/* @name ListMessages */
select id, conversation_id as "conversationId", seq, role, content, tool_calls as "toolCalls",
  tool_call_id as "toolCallId", created_at as "createdAt"
from todo_chat.messages
where user_id = :userId!
  and conversation_id = :conversationId!
order by seq;

/*
  Full-text search over the current user's messages (english configuration,
  web-search syntax), best match first, optionally within one conversation.
  Served by messages_search_idx.
  :userId is a planner hint (sql/README.md).
*/
/* @name SearchMessages */
select m.id, m.conversation_id as "conversationId", m.seq, m.role, m.content,
  m.tool_calls as "toolCalls", m.tool_call_id as "toolCallId", m.created_at as "createdAt",
  ts_rank(m.search_vector, q.query) as rank
from todo_chat.messages m,
  websearch_to_tsquery('english'::regconfig, :query!) as q(query)
where m.user_id = :userId!
  and m.search_vector @@ q.query
  and (:conversationId::uuid is null or m.conversation_id = :conversationId::uuid)
order by rank desc, m.seq desc
limit :limit!;

/*
  Every message of the current user, by conversation and order, for the data
  export.
  :userId is a planner hint (sql/README.md).
*/
/* @name ExportMessages */
select id, conversation_id as "conversationId", seq, role, content, tool_calls as "toolCalls",
  tool_call_id as "toolCallId", created_at as "createdAt"
from todo_chat.messages
where user_id = :userId!
order by conversation_id, seq;
