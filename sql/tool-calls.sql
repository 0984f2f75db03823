/*
  The tool calls of one conversation, in the order they were recorded, each
  with the results that answered it (a json array of {messageId, output,
  status, createdAt}, oldest first; empty until one did), after the audit
  ordinal :afterOrdinal (0 for the first page). Reads the primary key in
  order, and each call's results through tool_results_call_idx.
  :userId is a planner hint (sql/README.md).
*/
/* @name ListConversationToolCalls */
select t.conversation_id as "conversationId", t.ordinal, t.message_id as "messageId", t.call_id as "callId", t.name,
  t.arguments, t.format, t.created_at as "createdAt", r.results
from todo_chat.tool_calls t
cross join lateral (
  select coalesce(
    pg_catalog.json_agg(
      pg_catalog.json_build_object('messageId', x.message_id, 'output', x.output, 'status', x.status, 'createdAt', x.created_at)
      order by x.ordinal
    ),
    '[]'::json
  ) as results
  from todo_chat.tool_results x
  where x.user_id = t.user_id and x.conversation_id = t.conversation_id and x.call_ordinal = t.ordinal
) as r
where t.user_id = :userId!
  and t.conversation_id = :conversationId!
  and t.ordinal > :afterOrdinal!::integer
order by t.ordinal
limit :limit!;

/*
  The tool calls of every conversation of the current user, in the order they
  were recorded, each with its results, strictly after the keyset cursor
  (:cursorAt, :cursorConversationId, :cursorOrdinal); the first page passes
  ('-infinity', the nil uuid, 0). Reads tool_calls_user_order_idx forward.
  :userId is a planner hint (sql/README.md).
*/
/* @name ListUserToolCalls */
select t.conversation_id as "conversationId", t.ordinal, t.message_id as "messageId", t.call_id as "callId", t.name,
  t.arguments, t.format, t.created_at as "createdAt", r.results
from todo_chat.tool_calls t
cross join lateral (
  select coalesce(
    pg_catalog.json_agg(
      pg_catalog.json_build_object('messageId', x.message_id, 'output', x.output, 'status', x.status, 'createdAt', x.created_at)
      order by x.ordinal
    ),
    '[]'::json
  ) as results
  from todo_chat.tool_results x
  where x.user_id = t.user_id and x.conversation_id = t.conversation_id and x.call_ordinal = t.ordinal
) as r
where t.user_id = :userId!
  and (t.created_at, t.conversation_id, t.ordinal) > (:cursorAt!::timestamptz, :cursorConversationId!::uuid, :cursorOrdinal!::integer)
order by t.created_at, t.conversation_id, t.ordinal
limit :limit!;
