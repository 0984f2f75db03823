-- 0001_create_schema_and_role
-- purpose: the `todo_chat` schema that holds every table of todo-chat-db, and
--          the nologin, nobypassrls role `todo_chat_app` that every request
--          runs as (the transaction helper switches to it with `set local role`).
-- touches: schema todo_chat, role todo_chat_app (cluster-wide: created only if
--          missing).
-- notes:   every object of todo-chat-db is named `todo_chat...` so that it
--          cannot be mistaken for an application's own (`app`, `migrations`
--          and the like are names many applications use); postgres-migrations'
--          bookkeeping table lives in the schema `todo_chat_migrations`, which
--          the migration runner creates before this file runs.
--          roles belong to the cluster, not the database, so several databases
--          (a test cluster, staging next to production) share the one role.
--          creating a role takes createrole: a least-privilege deployment has
--          a superuser create it beforehand (docs/deploy.md), and then this
--          file leaves it as it is.
--          the role that migrates becomes a member unless it already is one
--          (or is a superuser), so that a development login that both
--          migrates and serves requests can switch to the app role.

create schema todo_chat;

comment on schema todo_chat is 'todo-chat-db: users, tasks, conversations, messages. every table has forced row-level security.';

do $$
begin
  if not exists (select from pg_catalog.pg_roles where rolname = 'todo_chat_app') then
    create role todo_chat_app nologin nosuperuser nocreatedb nocreaterole noinherit nobypassrls noreplication;
    comment on role todo_chat_app is 'todo-chat-db request role: nologin, nobypassrls; sees only the rows of todo_chat.current_user_id().';
  end if;
  if not (select rolsuper from pg_catalog.pg_roles where rolname = current_user)
     and not pg_catalog.pg_has_role(current_user, 'todo_chat_app', 'member') then
    execute format('grant todo_chat_app to %I', current_user);
  end if;
end
$$;

grant usage on schema todo_chat to todo_chat_app;
