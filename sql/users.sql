/*
  Creates the current user's row if it does not exist yet; returns nothing when
  it already did (the repository then reads it with GetUser). The id is always
  app.current_user_id(): no parameter can name another user.
*/
/* @name EnsureUser */
insert into app.users (id)
values (app.current_user_id())
on conflict (id) do nothing
returning id, created_at as "createdAt";

/*
  The current user's row.
*/
/* @name GetUser */
select id, created_at as "createdAt"
from app.users
where id = app.current_user_id();

/*
  Deletes the current user; every task, conversation and message they own goes
  with it by cascade.
*/
/* @name DeleteUser */
delete from app.users
where id = app.current_user_id()
returning id;
