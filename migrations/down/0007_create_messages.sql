-- down 0007_create_messages

drop table todo_chat.messages;
drop function todo_chat.messages_touch_conversation();
drop function todo_chat.messages_check_tool_answer();
drop function todo_chat.tool_calls_are_valid(jsonb);
