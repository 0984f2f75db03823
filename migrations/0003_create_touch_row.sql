-- 0003_create_touch_row
-- purpose: the trigger function that keeps `updated_at` and `version` honest on
--          every update of a mutable table, so that no query (and no caller)
--          can forget them or set them by hand. `version` backs optimistic
--          concurrency: an update that expects version n changes nothing once
--          another writer has moved the row to n + 1. the version moves only
--          when a column other than updated_at changed, so touching a
--          conversation when a message arrives does not count as an edit.
-- touches: function todo_chat.touch_row().

create function todo_chat.touch_row() returns trigger
language plpgsql
as $$
begin
  new.updated_at := pg_catalog.now();
  if (pg_catalog.to_jsonb(new) - 'updated_at' - 'version') is distinct from (pg_catalog.to_jsonb(old) - 'updated_at' - 'version') then
    new.version := old.version + 1;
  else
    new.version := old.version;
  end if;
  return new;
end
$$;

comment on function todo_chat.touch_row() is 'before update trigger: sets updated_at to now(); bumps version when another column changed.';
