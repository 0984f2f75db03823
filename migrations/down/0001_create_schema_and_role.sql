-- down 0001_create_schema_and_role
-- drops the todo_chat schema (empty by now) and the app role, unless another
-- database of this cluster still holds privileges granted to that role, or
-- the role that migrates may not drop roles (a least-privilege deployment,
-- whose superuser created the role: docs/deploy.md).

drop schema todo_chat;

do $$
begin
  if exists (select from pg_catalog.pg_roles where rolname = 'todo_chat_app')
     and (select rolsuper or rolcreaterole from pg_catalog.pg_roles where rolname = current_user)
     and not exists (
       select from pg_catalog.pg_shdepend d
       join pg_catalog.pg_roles r on r.oid = d.refobjid and r.rolname = 'todo_chat_app'
       where d.dbid <> (select oid from pg_catalog.pg_database where datname = current_database())
     ) then
    drop role todo_chat_app;
  end if;
end
$$;
