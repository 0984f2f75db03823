-- down 0007_create_messages

drop table app.messages;
drop function app.messages_touch_conversation();
drop function app.messages_check_tool_answer();
drop function app.tool_calls_are_valid(jsonb);
