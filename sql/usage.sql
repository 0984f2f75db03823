/*
  Records what one agent run cost, for the current user, against one of their
  conversations and the message of the turn it produced (null when unknown).
  :id is the caller's id of the run, or null for a uuid made here. The
  conversation is read first (under its policy), so that one that is not the
  user's inserts nothing and raises nothing: the transaction stays usable.
  A record of the same id already there is left as it is. Either way nothing
  is returned, and the repository reads the record (GetUsageRecord) to tell a
  retry from a conflict from a missing conversation. :userId is a planner hint
  (sql/README.md).
*/
/* @name RecordUsage */
insert into todo_chat.turn_usage (id, conversation_id, message_id, model, requests, input_tokens, output_tokens)
select coalesce(:id, (gen_random_uuid())::text), c.id, :messageId, :model!, :requests!, :inputTokens!, :outputTokens!
from todo_chat.conversations c
where c.user_id = :userId!
  and c.id = :conversationId!
on conflict (user_id, id) do nothing
returning id, conversation_id as "conversationId", message_id as "messageId", model, requests, input_tokens as "inputTokens",
  output_tokens as "outputTokens", created_at as "createdAt";

/*
  One usage record of the current user by its id. :userId is a planner hint
  (sql/README.md).
*/
/* @name GetUsageRecord */
select id, conversation_id as "conversationId", message_id as "messageId", model, requests, input_tokens as "inputTokens",
  output_tokens as "outputTokens", created_at as "createdAt"
from todo_chat.turn_usage
where user_id = :userId!
  and id = :id!;

/*
  What the current user's runs recorded in [:since, :until) cost, per model
  (the sums are numeric: they do not overflow). Reads turn_usage_user_time_idx
  over the window. :userId is a planner hint (sql/README.md).
*/
/* @name SumUserUsage */
select model, count(*) as runs, sum(requests) as requests, sum(input_tokens) as "inputTokens", sum(output_tokens) as "outputTokens"
from todo_chat.turn_usage
where user_id = :userId!
  and created_at >= :since!::timestamptz
  and created_at < :until!::timestamptz
group by model
order by model;

/*
  The same for one conversation of the current user. Reads
  turn_usage_conversation_idx over the window. :userId is a planner hint
  (sql/README.md).
*/
/* @name SumConversationUsage */
select model, count(*) as runs, sum(requests) as requests, sum(input_tokens) as "inputTokens", sum(output_tokens) as "outputTokens"
from todo_chat.turn_usage
where user_id = :userId!
  and conversation_id = :conversationId!
  and created_at >= :since!::timestamptz
  and created_at < :until!::timestamptz
group by model
order by model;

/*
  A page of the current user's usage records in (created_at, id) order,
  strictly after the keyset cursor (:cursorAt, :cursorId); the first page
  passes ('-infinity', ''). For the export. Reads turn_usage_user_time_idx
  forward. :userId is a planner hint (sql/README.md).
*/
/* @name ExportUsage */
select id, conversation_id as "conversationId", message_id as "messageId", model, requests, input_tokens as "inputTokens",
  output_tokens as "outputTokens", created_at as "createdAt"
from todo_chat.turn_usage
where user_id = :userId!
  and (created_at, id) > (:cursorAt!::timestamptz, :cursorId!::text)
order by created_at, id
limit :limit!;
