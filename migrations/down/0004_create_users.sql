-- down 0004_create_users
-- reverts: the users table. it refuses, and changes nothing, while
-- todo_chat.users holds rows (it says how many), unless the session setting
-- todo_chat.allow_data_loss is 'on' (`migrate down --allow-data-loss`).

/*
 * why: dropping the table drops its rows, which no migration can bring back.
 * the check runs after `no force row level security` (under the lock that
 * takes, so no row can arrive after it counted), because a migrating role
 * that owns the table but does not bypass row-level security would otherwise
 * count no row at all.
 */
alter table todo_chat.users no force row level security;

do $$
declare
  rows_held bigint;
begin
  select count(*) into rows_held from todo_chat.users;
  if rows_held > 0
     and coalesce(pg_catalog.current_setting('todo_chat.allow_data_loss', true), '') <> 'on' then
    raise exception 'reverting 0004_create_users would drop the table todo_chat.users and its % row(s)', rows_held
      using errcode = 'object_not_in_prerequisite_state',
            hint = 'nothing was changed; to revert anyway and drop them, run down with --allow-data-loss';
  end if;
end
$$;

drop table todo_chat.users;
