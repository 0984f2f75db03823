/*
  Creates the current user's row if it does not exist yet; returns nothing when
  it already did (the repository then reads it with GetUser). The id is always
  todo_chat.current_user_id(): no parameter can name another user.
*/
/* @name EnsureUser */
insert into todo_chat.users (id)
values (todo_chat.current_user_id())
on conflict (id) do nothing
returning id, created_at as "createdAt";

/*
  The current user's row.
*/
/* @name GetUser */
select id, created_at as "createdAt"
from todo_chat.users
where id = todo_chat.current_user_id();

/*
  Deletes the current user; every task, conversation and message they own goes
  with it by cascade.
*/
/* @name DeleteUser */
delete from todo_chat.users
where id = todo_chat.current_user_id()
returning id;

/*
  How much the current user's data is, read before a one-shot export so that a
  large one is refused before anything else is read: the number of tasks,
  conversations, messages, tool calls and usage records, and the bytes of
  their history. :userId is a planner hint (sql/README.md).
*/
/* @name GetUserDataSize */
select
  (select count(*) from todo_chat.tasks where user_id = :userId!)::integer as tasks,
  (select count(*) from todo_chat.conversations where user_id = :userId!)::integer as conversations,
  (select coalesce(sum(last_position), 0) from todo_chat.conversations where user_id = :userId!)::bigint as messages,
  (select coalesce(sum(history_bytes), 0) from todo_chat.conversations where user_id = :userId!)::bigint as "historyBytes",
  (select count(*) from todo_chat.tool_calls where user_id = :userId!)::bigint as "toolCalls",
  (select count(*) from todo_chat.turn_usage where user_id = :userId!)::bigint as usage;
