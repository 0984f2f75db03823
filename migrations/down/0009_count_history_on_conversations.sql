-- down 0009_count_history_on_conversations
-- reverts: the counters of todo_chat.conversations (derived from the messages
-- and the audit, so nothing is lost), the trigger's arguments and touch_row as
-- 0003 created it.

revoke update (last_position, history_bytes, last_audit_ordinal) on todo_chat.conversations from todo_chat_app;

drop trigger conversations_touch_row on todo_chat.conversations;
create trigger conversations_touch_row before update on todo_chat.conversations
  for each row execute function todo_chat.touch_row();

alter table todo_chat.conversations
  drop constraint conversations_last_audit_ordinal_not_negative,
  drop constraint conversations_history_bytes_not_negative,
  drop constraint conversations_last_position_not_negative,
  drop column last_audit_ordinal,
  drop column history_bytes,
  drop column last_position;

create or replace function todo_chat.touch_row() returns trigger
language plpgsql
as $$
begin
  new.updated_at := pg_catalog.now();
  if (pg_catalog.to_jsonb(new) - 'updated_at' - 'version') is distinct from (pg_catalog.to_jsonb(old) - 'updated_at' - 'version') then
    new.version := old.version + 1;
  else
    new.version := old.version;
  end if;
  return new;
end
$$;

comment on function todo_chat.touch_row() is 'before update trigger: sets updated_at to now(); bumps version when another column changed.';
