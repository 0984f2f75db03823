/*
  Starts a conversation for the current user, with an optional title and an
  optional client-chosen id. No row: the current user already has a
  conversation with this id (the repository then returns it when the title is
  the same, a retry, and refuses it otherwise).
*/
/* @name CreateConversation */
insert into todo_chat.conversations (id, title)
values (coalesce(:id::uuid, gen_random_uuid()), :title)
on conflict (user_id, id) do nothing
returning id, title, status, version, created_at as "createdAt", updated_at as "updatedAt";

/*
  One conversation of the current user by id; no row for an unknown id or
  another user's id.
*/
/* @name GetConversation */
select id, title, status, version, created_at as "createdAt", updated_at as "updatedAt"
from todo_chat.conversations
where id = :id!;

/*
  A page of the current user's conversations, most recently updated first,
  strictly past the keyset cursor (:cursorAt, :cursorId). Reads
  conversations_user_updated_idx backward.
  :userId is a planner hint (sql/README.md).
*/
/* @name ListConversations */
select id, title, status, version, created_at as "createdAt", updated_at as "updatedAt"
from todo_chat.conversations
where user_id = :userId!
  and (updated_at, id) < (:cursorAt!::timestamptz, :cursorId!::uuid)
order by updated_at desc, id desc
limit :limit!;

/*
  The same page, filtered by status. Reads conversations_user_status_updated_idx
  backward.
  :userId is a planner hint (sql/README.md).
*/
/* @name ListConversationsByStatus */
select id, title, status, version, created_at as "createdAt", updated_at as "updatedAt"
from todo_chat.conversations
where user_id = :userId!
  and status = :status!
  and (updated_at, id) < (:cursorAt!::timestamptz, :cursorId!::uuid)
order by updated_at desc, id desc
limit :limit!;

/*
  Sets the title (null removes it).
*/
/* @name RenameConversation */
update todo_chat.conversations
set title = :title
where id = :id!
returning id, title, status, version, created_at as "createdAt", updated_at as "updatedAt";

/*
  Archives or unarchives a conversation.
*/
/* @name SetConversationStatus */
update todo_chat.conversations
set status = :status!
where id = :id!
returning id, title, status, version, created_at as "createdAt", updated_at as "updatedAt";

/*
  Deletes a conversation; its messages go with it (on delete cascade).
*/
/* @name DeleteConversation */
delete from todo_chat.conversations
where id = :id!
returning id;

/*
  The next :limit conversations of the current user after id :afterId, by id
  (the primary key, a stable order while the export reads it in batches);
  the first batch passes the nil uuid. :userId is a planner hint
  (sql/README.md).
*/
/* @name ExportConversations */
select id, title, status, version, created_at as "createdAt", updated_at as "updatedAt"
from todo_chat.conversations
where user_id = :userId!
  and id > :afterId!::uuid
order by id
limit :limit!;
