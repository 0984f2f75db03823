-- down 0006_create_conversations

drop table app.conversations;
