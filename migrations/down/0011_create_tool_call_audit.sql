-- down 0011_create_tool_call_audit
-- reverts: the tool-call audit. the records that 0011 would make again from
-- the messages now stored (the calls of plain chat assistant messages, the
-- results of plain chat tool messages) are not lost; any other record (of sdk
-- items, of messages since popped, cleared or replaced, or of a replaced
-- message's former content) would be. it refuses, changing nothing, when such
-- records exist, unless the session setting todo_chat.allow_data_loss is 'on'
-- (`migrate down --allow-data-loss`).

alter table todo_chat.tool_calls no force row level security;
alter table todo_chat.tool_results no force row level security;
alter table todo_chat.messages no force row level security;

do $$
declare
  lost_calls bigint;
  lost_results bigint;
begin
  select count(*) into lost_calls
  from todo_chat.tool_calls t
  where not exists (
    select from todo_chat.messages m, pg_catalog.jsonb_array_elements(m.tool_calls) as c(value)
    where m.user_id = t.user_id and m.conversation_id = t.conversation_id and m.id = t.message_id
      and m.position = t.message_position and m.format = 'chat' and t.format = 'chat'
      and c.value ->> 'id' = t.call_id and c.value ->> 'name' = t.name
      and c.value -> 'arguments' = t.arguments::jsonb
  );
  select count(*) into lost_results
  from todo_chat.tool_results r
  where not exists (
    select from todo_chat.messages m
    where m.user_id = r.user_id and m.conversation_id = r.conversation_id and m.id = r.message_id
      and m.format = 'chat' and m.role = 'tool' and m.tool_call_id = r.call_id
      and pg_catalog.to_jsonb(m.content) = r.output::jsonb
  );
  if lost_calls + lost_results > 0
     and coalesce(pg_catalog.current_setting('todo_chat.allow_data_loss', true), '') <> 'on' then
    raise exception 'reverting 0011_create_tool_call_audit would lose the audit of % call(s) and % result(s) that the messages now stored do not hold (sdk items, messages popped, cleared or replaced)',
      lost_calls, lost_results
      using errcode = 'object_not_in_prerequisite_state',
            hint = 'nothing was changed; to revert anyway and drop them, run down with --allow-data-loss';
  end if;
end
$$;

alter table todo_chat.messages force row level security;

drop table todo_chat.tool_results;
drop table todo_chat.tool_calls;
