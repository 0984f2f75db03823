-- 0008_grant_migration_status
-- purpose: lets the request role read which migrations are applied, so that
--          store.health() can report pending migrations when the application
--          logs in as a least-privilege role that is only a member of
--          todo_chat_app (docs/deploy.md).
-- touches: schema todo_chat_migrations and its table migrations (created by
--          the migration runner for postgres-migrations), grants only.
-- notes:   the table holds file names and hashes, nothing of any user; the
--          role may read it, never change it.

grant usage on schema todo_chat_migrations to todo_chat_app;
grant select on todo_chat_migrations.migrations to todo_chat_app;
