-- 0009_count_history_on_conversations
-- purpose: gives every conversation the counters that the second version of
--          the message history (0010, 0011) keeps with it: last_position, the
--          position of its newest message (messages are numbered 1, 2, 3, ...
--          within their conversation), history_bytes, the size of its
--          messages, and last_audit_ordinal, the number of its newest
--          tool-call audit record. appending, popping, clearing and replacing
--          messages update them in the same statement, under the
--          conversation's row lock, which is also what makes writes to one
--          conversation's history take turns.
-- touches: function todo_chat.touch_row() (it may now be told which columns
--          are bookkeeping), trigger conversations_touch_row, table
--          todo_chat.conversations (two columns, their grant).
-- notes:   the counters are filled from the messages by 0010; until then they
--          are 0. moving a counter is not an edit of the conversation: its
--          version, which guards title and status against lost updates, stays.

/*
 * why: touch_row bumps `version` when any column but updated_at changes; a
 * table names the columns that are bookkeeping rather than content as the
 * trigger's arguments, and those do not count either.
 */
create or replace function todo_chat.touch_row() returns trigger
language plpgsql
as $$
declare
  ignored text[] := array['updated_at', 'version'] || coalesce(tg_argv, '{}'::text[]);
begin
  new.updated_at := pg_catalog.now();
  if (pg_catalog.to_jsonb(new) - ignored) is distinct from (pg_catalog.to_jsonb(old) - ignored) then
    new.version := old.version + 1;
  else
    new.version := old.version;
  end if;
  return new;
end
$$;

comment on function todo_chat.touch_row() is 'before update trigger: sets updated_at to now(); bumps version when a column other than updated_at, version and the trigger''s arguments changed.';

/*
 * why: the counters live on the conversation row because appends must lock
 * that row anyway (to number their messages without gaps or interleaving),
 * and touching updated_at happens there too: one row update per append.
 * The checks are validated at once rather than `not valid` (squawk's
 * constraint-missing-not-valid): the columns are added by this very
 * statement, so every existing row holds the default 0, and the one scan is
 * of conversations (a row per conversation, small beside messages) under the
 * lock that adding the columns takes anyway.
 */
alter table todo_chat.conversations
  add column last_position integer not null default 0,
  add column history_bytes bigint not null default 0,
  add column last_audit_ordinal integer not null default 0,
  -- squawk-ignore constraint-missing-not-valid
  add constraint conversations_last_position_not_negative check (last_position >= 0),
  -- squawk-ignore constraint-missing-not-valid
  add constraint conversations_history_bytes_not_negative check (history_bytes >= 0),
  -- squawk-ignore constraint-missing-not-valid
  add constraint conversations_last_audit_ordinal_not_negative check (last_audit_ordinal >= 0);

comment on column todo_chat.conversations.last_position is 'position of the newest message (messages are numbered from 1 within their conversation, without gaps); 0 when it has none.';
comment on column todo_chat.conversations.history_bytes is 'sum of messages.size_bytes of the conversation: what reading its whole history costs.';
comment on column todo_chat.conversations.last_audit_ordinal is 'ordinal of the newest tool-call audit record of the conversation (tool_calls and tool_results are numbered together, from 1).';

drop trigger conversations_touch_row on todo_chat.conversations;
create trigger conversations_touch_row before update on todo_chat.conversations
  for each row execute function todo_chat.touch_row('last_position', 'history_bytes', 'last_audit_ordinal');

grant update (last_position, history_bytes, last_audit_ordinal) on todo_chat.conversations to todo_chat_app;
