-- 0006_create_conversations
-- purpose: chat threads between a user and the assistant. updated_at moves
--          whenever the conversation changes or a message is added to it, so
--          that "recent conversations" is one index scan.
-- touches: table app.conversations, its trigger, indexes, policies and grants.
-- limits:  title null or 1..500 characters with no leading or trailing white
--          space; status 'active' or 'archived' (src/limits.ts).

create table app.conversations (
  user_id uuid not null default app.current_user_id(),
  id uuid not null default gen_random_uuid(),
  title text,
  status text not null default 'active',
  version integer not null default 1,
  created_at timestamptz(3) not null default pg_catalog.now(),
  updated_at timestamptz(3) not null default pg_catalog.now(),
  constraint conversations_pkey primary key (user_id, id),
  constraint conversations_user_id_fkey foreign key (user_id) references app.users (id) on delete cascade,
  constraint conversations_title_length check (char_length(title) between 1 and 500),
  constraint conversations_title_trimmed check (title = btrim(title, E' \t\n\u000b\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff')),
  constraint conversations_status_known check (status in ('active', 'archived'))
);

comment on table app.conversations is 'chat threads of a user; updated_at is touched when a message is added.';

create trigger conversations_touch_row before update on app.conversations
  for each row execute function app.touch_row();

/*
 * why: conversations are listed most recently updated first, optionally by
 * status, and paged by (updated_at, id).
 */
create index conversations_user_updated_idx on app.conversations (user_id, updated_at, id);
create index conversations_user_status_updated_idx on app.conversations (user_id, status, updated_at, id);

/*
 * why: the same rule as every table: only the current user's rows, user_id
 * from its default and never granted.
 */
alter table app.conversations enable row level security;
alter table app.conversations force row level security;

create policy conversations_select on app.conversations for select to todo_chat_app
  using (user_id = (select app.current_user_id()));
create policy conversations_insert on app.conversations for insert to todo_chat_app
  with check (user_id = (select app.current_user_id()));
create policy conversations_update on app.conversations for update to todo_chat_app
  using (user_id = (select app.current_user_id()))
  with check (user_id = (select app.current_user_id()));
create policy conversations_delete on app.conversations for delete to todo_chat_app
  using (user_id = (select app.current_user_id()));

grant select, delete on app.conversations to todo_chat_app;
grant insert (id, title, status) on app.conversations to todo_chat_app;
-- updated_at is granted for the message trigger's touch; app.touch_row sets it
-- to now() on every update, so no caller can choose its value.
grant update (title, status, updated_at) on app.conversations to todo_chat_app;
