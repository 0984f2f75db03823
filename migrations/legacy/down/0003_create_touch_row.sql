-- down 0003_create_touch_row

drop function app.touch_row();
