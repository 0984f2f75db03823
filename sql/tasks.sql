/*
  Creates a task for the current user. id is optional; user_id, completed_at,
  version and the timestamps come from defaults and triggers. No row: the
  current user already has a task with this id (a client-chosen id makes a
  retry idempotent: the repository then returns the stored task when it is
  the same one, and refuses it otherwise).
*/
/* @name CreateTask */
insert into todo_chat.tasks (id, title, description, completed)
values (coalesce(:id::uuid, gen_random_uuid()), :title!, :description!, :completed!)
on conflict (user_id, id) do nothing
returning id, title, description, completed, completed_at as "completedAt", version,
  created_at as "createdAt", updated_at as "updatedAt";

/*
  One task of the current user by id; no row for an unknown id or another
  user's id.
*/
/* @name GetTask */
select id, title, description, completed, completed_at as "completedAt", version,
  created_at as "createdAt", updated_at as "updatedAt"
from todo_chat.tasks
where id = :id!;

/*
  A page of the current user's tasks, newest first, strictly past the keyset
  cursor (:cursorAt, :cursorId); the first page passes ('infinity', the
  largest uuid). Reads tasks_user_created_idx backward.
  :userId is a planner hint (sql/README.md).
*/
/* @name ListTasksNewest */
select id, title, description, completed, completed_at as "completedAt", version,
  created_at as "createdAt", updated_at as "updatedAt"
from todo_chat.tasks
where user_id = :userId!
  and (created_at, id) < (:cursorAt!::timestamptz, :cursorId!::uuid)
order by created_at desc, id desc
limit :limit!;

/*
  The same page, filtered by completed. Reads tasks_user_completed_created_idx
  backward.
  :userId is a planner hint (sql/README.md).
*/
/* @name ListTasksNewestByCompleted */
select id, title, description, completed, completed_at as "completedAt", version,
  created_at as "createdAt", updated_at as "updatedAt"
from todo_chat.tasks
where user_id = :userId!
  and completed = :completed!
  and (created_at, id) < (:cursorAt!::timestamptz, :cursorId!::uuid)
order by created_at desc, id desc
limit :limit!;

/*
  A page of the current user's tasks, oldest first, strictly past the keyset
  cursor (:cursorAt, :cursorId); the first page passes ('-infinity', the
  nil uuid). Reads tasks_user_created_idx forward.
  :userId is a planner hint (sql/README.md).
*/
/* @name ListTasksOldest */
select id, title, description, completed, completed_at as "completedAt", version,
  created_at as "createdAt", updated_at as "updatedAt"
from todo_chat.tasks
where user_id = :userId!
  and (created_at, id) > (:cursorAt!::timestamptz, :cursorId!::uuid)
order by created_at, id
limit :limit!;

/*
  The oldest-first page, filtered by completed.
  :userId is a planner hint (sql/README.md).
*/
/* @name ListTasksOldestByCompleted */
select id, title, description, completed, completed_at as "completedAt", version,
  created_at as "createdAt", updated_at as "updatedAt"
from todo_chat.tasks
where user_id = :userId!
  and completed = :completed!
  and (created_at, id) > (:cursorAt!::timestamptz, :cursorId!::uuid)
order by created_at, id
limit :limit!;

/*
  Partial update: a null parameter keeps the column as it is. With
  :expectedVersion the row changes only if it is still at that version;
  no row back means not found or, when the task exists, a conflict.
*/
/* @name UpdateTask */
update todo_chat.tasks
set title = coalesce(:title, title),
  description = coalesce(:description, description),
  completed = coalesce(:completed, completed)
where id = :id!
  and (:expectedVersion::integer is null or version = :expectedVersion::integer)
returning id, title, description, completed, completed_at as "completedAt", version,
  created_at as "createdAt", updated_at as "updatedAt";

/*
  Deletes one task, optionally only at :expectedVersion; returns the id when a
  row went.
*/
/* @name DeleteTask */
delete from todo_chat.tasks
where id = :id!
  and (:expectedVersion::integer is null or version = :expectedVersion::integer)
returning id;

/*
  The next :limit tasks of the current user after id :afterId, by id (the
  primary key, a stable order while the export reads it in batches); the
  first batch passes the nil uuid. :userId is a planner hint (sql/README.md).
*/
/* @name ExportTasks */
select id, title, description, completed, completed_at as "completedAt", version,
  created_at as "createdAt", updated_at as "updatedAt"
from todo_chat.tasks
where user_id = :userId!
  and id > :afterId!::uuid
order by id
limit :limit!;
