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
