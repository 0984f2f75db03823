-- down 0008_grant_migration_status
-- reverts: the read access of todo_chat_app to the bookkeeping table.

revoke select on todo_chat_migrations.migrations from todo_chat_app;
revoke usage on schema todo_chat_migrations from todo_chat_app;
