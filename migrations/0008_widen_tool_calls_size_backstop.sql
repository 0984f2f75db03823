-- 0008_widen_tool_calls_size_backstop
-- purpose: the size backstop of app.tool_calls_are_valid() refused tool calls
--          that the client accepts. the client caps the json text at 64 KiB
--          (src/limits.ts), but jsonb can be up to ~6 times larger than its
--          text: `[0,0,...]` costs 2 bytes of text and 12 of jsonb per
--          element, so 64 KiB of text measured 384 KiB by pg_column_size and
--          failed the old 256 KiB cap (found by test/security-fuzz.test.ts).
--          the backstop is now 1 MiB: above anything the client lets through,
--          still a bound on what a raw insert could store.
-- touches: function app.tool_calls_are_valid(jsonb) (same signature, same
--          shape rules; only the size cap changes).

create or replace function app.tool_calls_are_valid(calls jsonb) returns boolean
language sql
immutable
strict
parallel safe
as $$
  select case
    when pg_catalog.jsonb_typeof(calls) <> 'array' then false
    when pg_catalog.jsonb_array_length(calls) > 64 then false
    when pg_catalog.pg_column_size(calls) > 1048576 then false
    else coalesce((
      select bool_and(
        case
          when pg_catalog.jsonb_typeof(call) <> 'object' then false
          when (select array_agg(k collate "C" order by k collate "C") from pg_catalog.jsonb_object_keys(call) as k)
               is distinct from array['arguments', 'id', 'name'] collate "C" then false
          when pg_catalog.jsonb_typeof(call -> 'id') <> 'string'
            or pg_catalog.jsonb_typeof(call -> 'name') <> 'string'
            or pg_catalog.jsonb_typeof(call -> 'arguments') <> 'object' then false
          when char_length(call ->> 'id') not between 1 and 128 then false
          when (call ->> 'name') !~ '^[A-Za-z0-9_.:-]{1,128}$' then false
          else true
        end)
      from pg_catalog.jsonb_array_elements(calls) as call
    ), true)
    and (select count(distinct call ->> 'id') from pg_catalog.jsonb_array_elements(calls) as call)
        = pg_catalog.jsonb_array_length(calls)
  end
$$;
