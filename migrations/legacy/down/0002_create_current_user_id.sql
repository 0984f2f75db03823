-- down 0002_create_current_user_id

drop function app.current_user_id();
