-- down 0007_create_messages
-- reverts: the first version of the message history and its functions. it
-- refuses, and changes nothing, while todo_chat.messages holds rows (it says
-- how many), unless the session setting todo_chat.allow_data_loss is 'on'
-- (`migrate down --allow-data-loss`).

/*
 * why: dropping the table drops its rows, which no migration can bring back.
 * the check runs after `no force row level security` (under the lock that
 * takes, so no row can arrive after it counted), because a migrating role
 * that owns the table but does not bypass row-level security would otherwise
 * count no row at all.
 */
alter table todo_chat.messages no force row level security;

do $$
declare
  rows_held bigint;
begin
  select count(*) into rows_held from todo_chat.messages;
  if rows_held > 0
     and coalesce(pg_catalog.current_setting('todo_chat.allow_data_loss', true), '') <> 'on' then
    raise exception 'reverting 0007_create_messages would drop the table todo_chat.messages and its % row(s)', rows_held
      using errcode = 'object_not_in_prerequisite_state',
            hint = 'nothing was changed; to revert anyway and drop them, run down with --allow-data-loss';
  end if;
end
$$;

drop table todo_chat.messages;
drop function todo_chat.messages_touch_conversation();
drop function todo_chat.messages_check_tool_answer();
drop function todo_chat.tool_calls_are_valid(jsonb);
