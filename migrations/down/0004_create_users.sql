-- down 0004_create_users

drop table todo_chat.users;
