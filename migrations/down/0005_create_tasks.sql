-- down 0005_create_tasks

drop table todo_chat.tasks;
drop function todo_chat.tasks_track_completion();
