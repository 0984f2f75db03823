-- adopt_legacy_install
-- purpose: moves an install of todo-chat-db made before its objects were
--          renamed (schema `app`, postgres-migrations' bookkeeping in
--          `public.migrations`, the user setting `app.user_id`) to the names of
--          the current migrations, so that it ends exactly as a fresh install
--          of migrations/0001 to 0007 (a test compares the two catalogs). the
--          migration runner runs this file once, in one transaction with the
--          bookkeeping move, after the install has reached
--          migrations/legacy/0007; the legacy files themselves stay as released.
-- touches: schema app (renamed todo_chat), the three functions whose bodies
--          name the schema or the setting, comments that name them.
-- notes:   policies, defaults, constraints and triggers refer to functions and
--          tables by oid, so the rename carries them over; plpgsql and sql
--          function bodies are text, so those are replaced. the old library
--          version stops working at this point: stop it, migrate, start the new
--          one. the comment on the role todo_chat_app (cluster-wide, and only
--          for a role with createrole to change) keeps its former wording.

alter schema app rename to todo_chat;

create or replace function todo_chat.current_user_id() returns uuid
language sql
stable
parallel safe
as $$
  select nullif(pg_catalog.current_setting('todo_chat.user_id', true), '')::uuid
$$;

comment on function todo_chat.current_user_id() is 'the user of the current transaction (set_config(''todo_chat.user_id'', ..., true)), null when unset.';

create or replace function todo_chat.messages_check_tool_answer() returns trigger
language plpgsql
as $$
begin
  if not exists (
    select from todo_chat.messages m
    where m.user_id = new.user_id
      and m.conversation_id = new.conversation_id
      and m.seq < new.seq
      and m.role = 'assistant'
      and m.tool_calls @> pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object('id', new.tool_call_id))
  ) then
    raise exception 'tool result answers no earlier tool call of its conversation'
      using errcode = 'check_violation',
            schema = 'todo_chat',
            table = 'messages',
            constraint = 'messages_tool_call_id_answers_call';
  end if;
  return null;
end
$$;

create or replace function todo_chat.messages_touch_conversation() returns trigger
language plpgsql
as $$
begin
  update todo_chat.conversations c
  set updated_at = pg_catalog.now()
  from (select distinct n.user_id, n.conversation_id from new_messages n) as m
  where c.user_id = m.user_id and c.id = m.conversation_id;
  return null;
end
$$;

comment on column todo_chat.tasks.version is 'starts at 1, bumped by every update (todo_chat.touch_row); update/delete may require an expected version.';
comment on column todo_chat.tasks.completed_at is 'set when completed turns true, cleared when it turns false (todo_chat.tasks_track_completion).';
