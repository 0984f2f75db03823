-- 0002_create_current_user_id
-- purpose: the one function every policy reads the current user through.
--          it returns the uuid that the transaction helper stored with
--          set_config('todo_chat.user_id', <uuid>, true), or null when none is set
--          (then every policy compares with null: no rows, and every write fails).
-- touches: function todo_chat.current_user_id().
-- notes:   `stable` so that policies can call it as `(select todo_chat.current_user_id())`
--          and the planner evaluates it once per statement. after a transaction
--          that set the value ends, current_setting returns '' rather than null
--          on that connection, hence the nullif.

create function todo_chat.current_user_id() returns uuid
language sql
stable
parallel safe
as $$
  select nullif(pg_catalog.current_setting('todo_chat.user_id', true), '')::uuid
$$;

comment on function todo_chat.current_user_id() is 'the user of the current transaction (set_config(''todo_chat.user_id'', ..., true)), null when unset.';

revoke all on function todo_chat.current_user_id() from public;
grant execute on function todo_chat.current_user_id() to todo_chat_app;
