-- 0005_create_tasks
-- purpose: a user's todo items, with completion tracking and a version for
--          optimistic concurrency.
-- touches: table app.tasks, function app.tasks_track_completion(), its
--          triggers, indexes, policies and grants.
-- limits:  title 1..500 characters with no leading or trailing white space,
--          description at most 5000 characters (the same limits as src/limits.ts).

create table app.tasks (
  user_id uuid not null default app.current_user_id(),
  id uuid not null default gen_random_uuid(),
  title text not null,
  description text not null default '',
  completed boolean not null default false,
  completed_at timestamptz(3),
  version integer not null default 1,
  created_at timestamptz(3) not null default pg_catalog.now(),
  updated_at timestamptz(3) not null default pg_catalog.now(),
  constraint tasks_pkey primary key (user_id, id),
  constraint tasks_user_id_fkey foreign key (user_id) references app.users (id) on delete cascade,
  constraint tasks_title_length check (char_length(title) between 1 and 500),
  constraint tasks_title_trimmed check (title = btrim(title, E' \t\n\u000b\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff')),
  constraint tasks_description_length check (char_length(description) <= 5000),
  constraint tasks_completed_at_matches check (completed = (completed_at is not null))
);

comment on table app.tasks is 'todo items of a user.';
comment on column app.tasks.version is 'starts at 1, bumped by every update (app.touch_row); update/delete may require an expected version.';
comment on column app.tasks.completed_at is 'set when completed turns true, cleared when it turns false (app.tasks_track_completion).';

/*
 * why: completed_at is derived from completed; a trigger keeps the two in step
 * so that no query has to remember it, and the check above proves it.
 */
create function app.tasks_track_completion() returns trigger
language plpgsql
as $$
begin
  if not new.completed then
    new.completed_at := null;
  elsif tg_op = 'INSERT' or not old.completed then
    new.completed_at := pg_catalog.now();
  else
    new.completed_at := old.completed_at;
  end if;
  return new;
end
$$;

create trigger tasks_track_completion before insert or update on app.tasks
  for each row execute function app.tasks_track_completion();
create trigger tasks_touch_row before update on app.tasks
  for each row execute function app.touch_row();

/*
 * why: lists page through a user's tasks newest or oldest first by
 * (created_at, id), optionally filtered by completed; each index leads with
 * user_id, the column every policy filters on.
 */
create index tasks_user_created_idx on app.tasks (user_id, created_at, id);
create index tasks_user_completed_created_idx on app.tasks (user_id, completed, created_at, id);

/*
 * why: a user reads and writes only rows whose user_id is the current user.
 * user_id is filled by its default, never granted, so no insert can name
 * another user.
 */
alter table app.tasks enable row level security;
alter table app.tasks force row level security;

create policy tasks_select on app.tasks for select to todo_chat_app
  using (user_id = (select app.current_user_id()));
create policy tasks_insert on app.tasks for insert to todo_chat_app
  with check (user_id = (select app.current_user_id()));
create policy tasks_update on app.tasks for update to todo_chat_app
  using (user_id = (select app.current_user_id()))
  with check (user_id = (select app.current_user_id()));
create policy tasks_delete on app.tasks for delete to todo_chat_app
  using (user_id = (select app.current_user_id()));

grant select, delete on app.tasks to todo_chat_app;
grant insert (id, title, description, completed) on app.tasks to todo_chat_app;
grant update (title, description, completed) on app.tasks to todo_chat_app;
