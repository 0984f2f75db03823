-- 0004_create_users
-- purpose: the authenticated identities. the id is the user id that the backend
--          authenticated and passes to withUser; todo-chat-db never issues it.
--          deleting a user cascades to everything the user owns.
-- touches: table app.users, its policies and grants.
-- notes:   every timestamp of the schema is timestamptz(3): millisecond
--          precision, exactly what a javascript Date holds, so that keyset
--          cursors built from returned rows match the stored values.

create table app.users (
  id uuid not null,
  created_at timestamptz(3) not null default pg_catalog.now(),
  constraint users_pkey primary key (id)
);

comment on table app.users is 'one row per authenticated user; the root every other table cascades from.';

/*
 * why: a user sees and removes only their own row, and can only create the row
 * whose id is the current user. there is nothing to update; the update policy
 * exists so that every command has exactly one policy, and no update is granted.
 */
alter table app.users enable row level security;
alter table app.users force row level security;

create policy users_select on app.users for select to todo_chat_app
  using (id = (select app.current_user_id()));
create policy users_insert on app.users for insert to todo_chat_app
  with check (id = (select app.current_user_id()));
create policy users_update on app.users for update to todo_chat_app
  using (id = (select app.current_user_id()))
  with check (id = (select app.current_user_id()));
create policy users_delete on app.users for delete to todo_chat_app
  using (id = (select app.current_user_id()));

grant select, delete on app.users to todo_chat_app;
grant insert (id) on app.users to todo_chat_app;
