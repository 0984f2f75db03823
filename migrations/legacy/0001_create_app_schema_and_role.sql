-- 0001_create_app_schema_and_role
-- purpose: the `app` schema that holds every table of todo-chat-db, and the
--          nologin, nobypassrls role `todo_chat_app` that every request runs as
--          (the transaction helper switches to it with `set local role`).
-- touches: schema app, role todo_chat_app (cluster-wide: created only if missing).
-- notes:   roles belong to the cluster, not the database, so several databases
--          (a test cluster, staging next to production) share the one role.
--          the login role that migrates is made a member so that it can switch
--          to the app role; a superuser needs no membership.

create schema app;

comment on schema app is 'todo-chat-db: users, tasks, conversations, messages. every table has forced row-level security.';

do $$
begin
  if not exists (select from pg_catalog.pg_roles where rolname = 'todo_chat_app') then
    create role todo_chat_app nologin nosuperuser nocreatedb nocreaterole noinherit nobypassrls noreplication;
  end if;
  if not (select rolsuper from pg_catalog.pg_roles where rolname = current_user) then
    execute format('grant todo_chat_app to %I', current_user);
  end if;
end
$$;

comment on role todo_chat_app is 'todo-chat-db request role: nologin, nobypassrls; sees only the rows of app.current_user_id().';

grant usage on schema app to todo_chat_app;
