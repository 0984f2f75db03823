-- 0012_create_turn_usage
-- purpose: what each agent run cost: the model it called, its requests, its
--          input and output tokens, recorded against the conversation and the
--          message of the turn it produced, and summed per conversation and
--          per user (src/repositories/usage.ts; the agents sdk session and the
--          ai sdk helpers record it).
-- touches: table todo_chat.turn_usage, its indexes, policies and grants.
-- limits:  id, model and message id 1..255 characters; requests, input and
--          output tokens whole numbers 0..9007199254740991 (src/limits.ts).
-- notes:   a record outlives its conversation: deleting the conversation sets
--          its conversation_id to null, so that what a user cost stays
--          countable; erasing the user erases their records. records are
--          append-only for requests (no update or delete is granted). `on
--          delete set null (column)` needs postgresql 15, the oldest supported.

/*
 * why: one row per run recorded. id is the caller's (a response id, say) or a
 * uuid made here; it is unique per user, so that recording the same run again
 * (a retried request) finds the record instead of counting it twice. the
 * conversation is a foreign key with the user id in it, as everywhere: a run
 * can only be recorded against a conversation of the same user. message_id
 * names the last message of the turn the run produced; it is not a foreign key,
 * since messages may be popped, cleared or replaced afterwards and the cost
 * stays.
 */
create table todo_chat.turn_usage (
  user_id uuid not null default todo_chat.current_user_id(),
  id text not null default (gen_random_uuid())::text,
  conversation_id uuid,
  message_id text,
  model text not null,
  requests bigint not null,
  input_tokens bigint not null,
  output_tokens bigint not null,
  created_at timestamptz(3) not null default pg_catalog.now(),
  constraint turn_usage_pkey primary key (user_id, id),
  constraint turn_usage_user_id_fkey foreign key (user_id) references todo_chat.users (id) on delete cascade,
  constraint turn_usage_conversation_fkey foreign key (user_id, conversation_id)
    references todo_chat.conversations (user_id, id) on delete set null (conversation_id),
  constraint turn_usage_id_length check (char_length(id) between 1 and 255),
  constraint turn_usage_message_id_length check (char_length(message_id) between 1 and 255),
  constraint turn_usage_model_length check (char_length(model) between 1 and 255),
  constraint turn_usage_requests_range check (requests between 0 and 9007199254740991),
  constraint turn_usage_input_tokens_range check (input_tokens between 0 and 9007199254740991),
  constraint turn_usage_output_tokens_range check (output_tokens between 0 and 9007199254740991)
);

comment on table todo_chat.turn_usage is 'what each agent run cost (model, requests, tokens), against the turn it produced; outlives its conversation, not its user.';
comment on column todo_chat.turn_usage.id is 'the caller''s id of the run (a response id) or a uuid; recording the same id again is a retry, not a second run.';
comment on column todo_chat.turn_usage.conversation_id is 'the conversation of the turn; null once that conversation was deleted.';
comment on column todo_chat.turn_usage.message_id is 'the last message of the turn the run produced (it may since have been popped or replaced).';

/*
 * why: a user's costs are summed over a time window (this month) and listed
 * for an export in (created_at, id) order: turn_usage_user_time_idx. a
 * conversation's are summed through turn_usage_conversation_idx, which is also
 * what deleting a conversation needs to find the records it nulls.
 */
create index turn_usage_user_time_idx on todo_chat.turn_usage (user_id, created_at, id);
create index turn_usage_conversation_idx on todo_chat.turn_usage (user_id, conversation_id, created_at);

/*
 * why: the rule of every table. requests only ever read and append records: no
 * update or delete is granted (they go with their user by cascade; deleting a
 * conversation nulls its id through the foreign key, which needs no grant).
 */
alter table todo_chat.turn_usage enable row level security;
alter table todo_chat.turn_usage force row level security;

create policy turn_usage_select on todo_chat.turn_usage for select to todo_chat_app
  using (user_id = (select todo_chat.current_user_id()));
create policy turn_usage_insert on todo_chat.turn_usage for insert to todo_chat_app
  with check (user_id = (select todo_chat.current_user_id()));
create policy turn_usage_update on todo_chat.turn_usage for update to todo_chat_app
  using (user_id = (select todo_chat.current_user_id()))
  with check (user_id = (select todo_chat.current_user_id()));
create policy turn_usage_delete on todo_chat.turn_usage for delete to todo_chat_app
  using (user_id = (select todo_chat.current_user_id()));

grant select on todo_chat.turn_usage to todo_chat_app;
grant insert (id, conversation_id, message_id, model, requests, input_tokens, output_tokens) on todo_chat.turn_usage to todo_chat_app;
