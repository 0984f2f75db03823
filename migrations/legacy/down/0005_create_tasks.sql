-- down 0005_create_tasks

drop table app.tasks;
drop function app.tasks_track_completion();
