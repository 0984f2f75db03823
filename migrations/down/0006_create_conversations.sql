-- down 0006_create_conversations

drop table todo_chat.conversations;
