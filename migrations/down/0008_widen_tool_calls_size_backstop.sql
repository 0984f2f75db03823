-- down 0008_widen_tool_calls_size_backstop
-- restores the 256 KiB size backstop of 0007.

create or replace function app.tool_calls_are_valid(calls jsonb) returns boolean
language sql
immutable
strict
parallel safe
as $$
  select case
    when pg_catalog.jsonb_typeof(calls) <> 'array' then false
    when pg_catalog.jsonb_array_length(calls) > 64 then false
    when pg_catalog.pg_column_size(calls) > 262144 then false
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
