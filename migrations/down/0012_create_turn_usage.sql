-- down 0012_create_turn_usage
-- reverts: the usage records. nothing else holds them, so it refuses, changing
-- nothing, when any exist, unless the session setting todo_chat.allow_data_loss
-- is 'on' (`migrate down --allow-data-loss`).

alter table todo_chat.turn_usage no force row level security;

do $$
declare
  lost bigint;
begin
  select count(*) into lost from todo_chat.turn_usage;
  if lost > 0
     and coalesce(pg_catalog.current_setting('todo_chat.allow_data_loss', true), '') <> 'on' then
    raise exception 'reverting 0012_create_turn_usage would lose % usage record(s)', lost
      using errcode = 'object_not_in_prerequisite_state',
            hint = 'nothing was changed; to revert anyway and drop them, run down with --allow-data-loss';
  end if;
end
$$;

drop table todo_chat.turn_usage;
