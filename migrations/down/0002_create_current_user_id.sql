-- down 0002_create_current_user_id

drop function todo_chat.current_user_id();
