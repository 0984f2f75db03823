-- down 0003_create_touch_row

drop function todo_chat.touch_row();
