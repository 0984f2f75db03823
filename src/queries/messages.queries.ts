/** Types generated for queries found in "sql/messages.sql" */
import { PreparedQuery } from '@pgtyped/runtime';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export type NumberOrString = number | string;

export type stringArray = (string)[];

/** 'AppendMessages' parameters type */
export interface IAppendMessagesParams {
  conversationId: string;
  messages: Json;
  userId: string;
}

/** 'AppendMessages' return type */
export interface IAppendMessagesResult {
  /** plain text: as given for chat, the text parts of the item otherwise; what search indexes. */
  content: string;
  createdAt: Date;
  /** chat (role, content, tool_calls, tool_call_id as given), openai-agents (an AgentInputItem) or ai-sdk (a UIMessage). */
  format: string;
  /** unique within the conversation: the caller's (its sdk's) id, or a uuid made when it gave none. */
  id: string;
  /** the sdk item exactly as written, for formats other than chat. */
  item: Json | null;
  /** 1, 2, 3, ... within the conversation, without gaps; assigned by the append statement under the conversation's row lock. */
  position: number;
  role: string;
  toolCallId: string | null;
  toolCalls: Json | null;
}

/** 'AppendMessages' query type */
export interface IAppendMessagesQuery {
  params: IAppendMessagesParams;
  result: IAppendMessagesResult;
}

const appendMessagesIR: any = {"usedParamSet":{"messages":true,"userId":true,"conversationId":true},"params":[{"name":"messages","required":true,"transform":{"type":"scalar"},"locs":[{"a":831,"b":840}]},{"name":"userId","required":true,"transform":{"type":"scalar"},"locs":[{"a":1717,"b":1724},{"a":2632,"b":2639},{"a":3934,"b":3941}]},{"name":"conversationId","required":true,"transform":{"type":"scalar"},"locs":[{"a":1737,"b":1752},{"a":2066,"b":2081},{"a":2665,"b":2680},{"a":3233,"b":3248},{"a":3597,"b":3612},{"a":3967,"b":3982}]}],"statement":"with input as (\n  select m.ordinal::integer as ordinal,\n    coalesce(m.value ->> 'id', pg_catalog.gen_random_uuid()::text) as id,\n    m.value ->> 'role' as role,\n    m.value ->> 'format' as format,\n    m.value ->> 'content' as content,\n    (m.value -> 'toolCalls')::jsonb as tool_calls,\n    m.value ->> 'toolCallId' as tool_call_id,\n    m.value -> 'item' as item,\n    m.value -> 'calls' as calls,\n    m.value -> 'results' as results,\n    (select array_agg(k.value ->> 'callId' order by k.ordinal)\n     from pg_catalog.json_array_elements(m.value -> 'calls') with ordinality as k(value, ordinal)) as call_ids,\n    octet_length(m.value ->> 'content') + coalesce(octet_length(((m.value -> 'toolCalls')::jsonb)::text), 0)\n      + coalesce(octet_length((m.value -> 'item')::text), 0) as size_bytes\n  from pg_catalog.json_array_elements(:messages!::json) with ordinality as m(value, ordinal)\n),\naudit as (\n  select a.*, (row_number() over (order by a.message_ordinal, a.kind, a.idx))::integer as n\n  from (\n    select i.ordinal as message_ordinal, i.id as message_id, i.format, 0 as kind, k.ordinal as idx, k.value\n    from input i, pg_catalog.json_array_elements(i.calls) with ordinality as k(value, ordinal)\n    union all\n    select i.ordinal, i.id, i.format, 1, r.ordinal, r.value\n    from input i, pg_catalog.json_array_elements(i.results) with ordinality as r(value, ordinal)\n  ) as a\n),\nconversation as (\n  update todo_chat.conversations c\n  set last_position = c.last_position + (select count(*) from input)::integer,\n    history_bytes = c.history_bytes + (select coalesce(sum(i.size_bytes), 0) from input i),\n    last_audit_ordinal = c.last_audit_ordinal + (select count(*) from audit)::integer\n  where c.user_id = :userId! and c.id = :conversationId!\n  returning c.last_position - (select count(*) from input)::integer as base,\n    c.last_audit_ordinal - (select count(*) from audit)::integer as audit_base\n),\ninserted as (\n  insert into todo_chat.messages (conversation_id, id, position, role, format, content, tool_calls, tool_call_id, item, call_ids)\n  select :conversationId!, i.id, c.base + i.ordinal, i.role, i.format, i.content, i.tool_calls, i.tool_call_id, i.item, i.call_ids\n  from input i, conversation c\n  returning id, position, role, format, content, tool_calls, tool_call_id, item, created_at\n),\ncalls as (\n  select a.message_ordinal, a.message_id, a.format, a.idx, a.value ->> 'callId' as call_id, a.value ->> 'name' as name,\n    a.value -> 'arguments' as arguments, c.base + a.message_ordinal as message_position,\n    coalesce(\n      (select t.ordinal\n       from todo_chat.tool_calls t\n       where t.user_id = :userId! and t.conversation_id = :conversationId! and t.message_id = a.message_id\n         and t.message_position = c.base + a.message_ordinal\n         and t.call_id = a.value ->> 'callId' and t.name = a.value ->> 'name'\n         and md5(coalesce(t.arguments::jsonb::text, '')) = md5(coalesce((a.value -> 'arguments')::jsonb::text, ''))),\n      c.audit_base + a.n\n    ) as ordinal\n  from audit a, conversation c\n  where a.kind = 0\n),\nrecorded_calls as (\n  insert into todo_chat.tool_calls (conversation_id, ordinal, message_id, message_position, call_index, call_id, name, arguments, format)\n  select :conversationId!, k.ordinal, k.message_id, k.message_position, (k.idx - 1)::integer, k.call_id, k.name, k.arguments, k.format\n  from calls k, conversation c\n  where k.ordinal > c.audit_base\n  on conflict do nothing\n),\nrecorded_results as (\n  insert into todo_chat.tool_results (conversation_id, ordinal, call_ordinal, call_id, message_id, output, status)\n  select :conversationId!, c.audit_base + a.n,\n    coalesce(\n      (select k.ordinal\n       from calls k\n       where k.call_id = a.value ->> 'callId' and k.message_ordinal <= a.message_ordinal\n       order by k.message_ordinal desc, k.idx desc\n       limit 1),\n      (select t.ordinal\n       from todo_chat.tool_calls t\n       where t.user_id = :userId! and t.conversation_id = :conversationId! and t.call_id = a.value ->> 'callId'\n         and coalesce((\n           select true\n           from todo_chat.messages m\n           where m.user_id = t.user_id and m.conversation_id = t.conversation_id and m.id = t.message_id\n             and m.position = t.message_position and t.call_id = any (m.call_ids)\n           limit 1\n         ), false)\n       order by t.ordinal desc\n       limit 1)\n    ),\n    a.value ->> 'callId', a.message_id, a.value -> 'output', a.value ->> 'status'\n  from audit a, conversation c\n  where a.kind = 1\n  on conflict do nothing\n)\nselect id, position, role, format, content, tool_calls as \"toolCalls\", tool_call_id as \"toolCallId\", item,\n  created_at as \"createdAt\"\nfrom inserted\norder by position                                                                                                                                                                                                                                                                                                                                                                                                                                                                            "};

/**
 * Query generated from SQL:
 * ```
 * with input as (
 *   select m.ordinal::integer as ordinal,
 *     coalesce(m.value ->> 'id', pg_catalog.gen_random_uuid()::text) as id,
 *     m.value ->> 'role' as role,
 *     m.value ->> 'format' as format,
 *     m.value ->> 'content' as content,
 *     (m.value -> 'toolCalls')::jsonb as tool_calls,
 *     m.value ->> 'toolCallId' as tool_call_id,
 *     m.value -> 'item' as item,
 *     m.value -> 'calls' as calls,
 *     m.value -> 'results' as results,
 *     (select array_agg(k.value ->> 'callId' order by k.ordinal)
 *      from pg_catalog.json_array_elements(m.value -> 'calls') with ordinality as k(value, ordinal)) as call_ids,
 *     octet_length(m.value ->> 'content') + coalesce(octet_length(((m.value -> 'toolCalls')::jsonb)::text), 0)
 *       + coalesce(octet_length((m.value -> 'item')::text), 0) as size_bytes
 *   from pg_catalog.json_array_elements(:messages!::json) with ordinality as m(value, ordinal)
 * ),
 * audit as (
 *   select a.*, (row_number() over (order by a.message_ordinal, a.kind, a.idx))::integer as n
 *   from (
 *     select i.ordinal as message_ordinal, i.id as message_id, i.format, 0 as kind, k.ordinal as idx, k.value
 *     from input i, pg_catalog.json_array_elements(i.calls) with ordinality as k(value, ordinal)
 *     union all
 *     select i.ordinal, i.id, i.format, 1, r.ordinal, r.value
 *     from input i, pg_catalog.json_array_elements(i.results) with ordinality as r(value, ordinal)
 *   ) as a
 * ),
 * conversation as (
 *   update todo_chat.conversations c
 *   set last_position = c.last_position + (select count(*) from input)::integer,
 *     history_bytes = c.history_bytes + (select coalesce(sum(i.size_bytes), 0) from input i),
 *     last_audit_ordinal = c.last_audit_ordinal + (select count(*) from audit)::integer
 *   where c.user_id = :userId! and c.id = :conversationId!
 *   returning c.last_position - (select count(*) from input)::integer as base,
 *     c.last_audit_ordinal - (select count(*) from audit)::integer as audit_base
 * ),
 * inserted as (
 *   insert into todo_chat.messages (conversation_id, id, position, role, format, content, tool_calls, tool_call_id, item, call_ids)
 *   select :conversationId!, i.id, c.base + i.ordinal, i.role, i.format, i.content, i.tool_calls, i.tool_call_id, i.item, i.call_ids
 *   from input i, conversation c
 *   returning id, position, role, format, content, tool_calls, tool_call_id, item, created_at
 * ),
 * calls as (
 *   select a.message_ordinal, a.message_id, a.format, a.idx, a.value ->> 'callId' as call_id, a.value ->> 'name' as name,
 *     a.value -> 'arguments' as arguments, c.base + a.message_ordinal as message_position,
 *     coalesce(
 *       (select t.ordinal
 *        from todo_chat.tool_calls t
 *        where t.user_id = :userId! and t.conversation_id = :conversationId! and t.message_id = a.message_id
 *          and t.message_position = c.base + a.message_ordinal
 *          and t.call_id = a.value ->> 'callId' and t.name = a.value ->> 'name'
 *          and md5(coalesce(t.arguments::jsonb::text, '')) = md5(coalesce((a.value -> 'arguments')::jsonb::text, ''))),
 *       c.audit_base + a.n
 *     ) as ordinal
 *   from audit a, conversation c
 *   where a.kind = 0
 * ),
 * recorded_calls as (
 *   insert into todo_chat.tool_calls (conversation_id, ordinal, message_id, message_position, call_index, call_id, name, arguments, format)
 *   select :conversationId!, k.ordinal, k.message_id, k.message_position, (k.idx - 1)::integer, k.call_id, k.name, k.arguments, k.format
 *   from calls k, conversation c
 *   where k.ordinal > c.audit_base
 *   on conflict do nothing
 * ),
 * recorded_results as (
 *   insert into todo_chat.tool_results (conversation_id, ordinal, call_ordinal, call_id, message_id, output, status)
 *   select :conversationId!, c.audit_base + a.n,
 *     coalesce(
 *       (select k.ordinal
 *        from calls k
 *        where k.call_id = a.value ->> 'callId' and k.message_ordinal <= a.message_ordinal
 *        order by k.message_ordinal desc, k.idx desc
 *        limit 1),
 *       (select t.ordinal
 *        from todo_chat.tool_calls t
 *        where t.user_id = :userId! and t.conversation_id = :conversationId! and t.call_id = a.value ->> 'callId'
 *          and coalesce((
 *            select true
 *            from todo_chat.messages m
 *            where m.user_id = t.user_id and m.conversation_id = t.conversation_id and m.id = t.message_id
 *              and m.position = t.message_position and t.call_id = any (m.call_ids)
 *            limit 1
 *          ), false)
 *        order by t.ordinal desc
 *        limit 1)
 *     ),
 *     a.value ->> 'callId', a.message_id, a.value -> 'output', a.value ->> 'status'
 *   from audit a, conversation c
 *   where a.kind = 1
 *   on conflict do nothing
 * )
 * select id, position, role, format, content, tool_calls as "toolCalls", tool_call_id as "toolCallId", item,
 *   created_at as "createdAt"
 * from inserted
 * order by position                                                                                                                                                                                                                                                                                                                                                                                                                                                                            
 * ```
 */
export const appendMessages = new PreparedQuery<IAppendMessagesParams,IAppendMessagesResult>(appendMessagesIR);


/** 'ReplaceMessage' parameters type */
export interface IReplaceMessageParams {
  conversationId: string;
  id: string;
  message: Json;
  userId: string;
}

/** 'ReplaceMessage' return type */
export interface IReplaceMessageResult {
  /** plain text: as given for chat, the text parts of the item otherwise; what search indexes. */
  content: string;
  createdAt: Date;
  /** chat (role, content, tool_calls, tool_call_id as given), openai-agents (an AgentInputItem) or ai-sdk (a UIMessage). */
  format: string;
  /** unique within the conversation: the caller's (its sdk's) id, or a uuid made when it gave none. */
  id: string;
  /** the sdk item exactly as written, for formats other than chat. */
  item: Json | null;
  /** 1, 2, 3, ... within the conversation, without gaps; assigned by the append statement under the conversation's row lock. */
  position: number;
  role: string;
  toolCallId: string | null;
  toolCalls: Json | null;
}

/** 'ReplaceMessage' query type */
export interface IReplaceMessageQuery {
  params: IReplaceMessageParams;
  result: IReplaceMessageResult;
}

const replaceMessageIR: any = {"usedParamSet":{"message":true,"userId":true,"conversationId":true,"id":true},"params":[{"name":"message","required":true,"transform":{"type":"scalar"},"locs":[{"a":699,"b":707}]},{"name":"userId","required":true,"transform":{"type":"scalar"},"locs":[{"a":829,"b":836},{"a":1589,"b":1596},{"a":1983,"b":1990},{"a":2395,"b":2402},{"a":3562,"b":3569}]},{"name":"conversationId","required":true,"transform":{"type":"scalar"},"locs":[{"a":862,"b":877},{"a":1609,"b":1624},{"a":2016,"b":2031},{"a":2428,"b":2443},{"a":2972,"b":2987},{"a":3320,"b":3335},{"a":3595,"b":3610}]},{"name":"id","required":true,"transform":{"type":"scalar"},"locs":[{"a":890,"b":893},{"a":2044,"b":2047},{"a":2464,"b":2467},{"a":3001,"b":3004},{"a":4038,"b":4041}]}],"statement":"with input as (\n  select m.value ->> 'role' as role,\n    m.value ->> 'format' as format,\n    m.value ->> 'content' as content,\n    (m.value -> 'toolCalls')::jsonb as tool_calls,\n    m.value ->> 'toolCallId' as tool_call_id,\n    m.value -> 'item' as item,\n    m.value -> 'calls' as calls,\n    m.value -> 'results' as results,\n    (select array_agg(k.value ->> 'callId' order by k.ordinal)\n     from pg_catalog.json_array_elements(m.value -> 'calls') with ordinality as k(value, ordinal)) as call_ids,\n    octet_length(m.value ->> 'content') + coalesce(octet_length(((m.value -> 'toolCalls')::jsonb)::text), 0)\n      + coalesce(octet_length((m.value -> 'item')::text), 0) as size_bytes\n  from (select :message!::json as value) as m\n),\nprevious as (\n  select m.position, m.size_bytes\n  from todo_chat.messages m\n  where m.user_id = :userId! and m.conversation_id = :conversationId! and m.id = :id!\n),\naudit as (\n  select a.*, (row_number() over (order by a.kind, a.idx))::integer as n\n  from (\n    select i.format, 0 as kind, k.ordinal as idx, k.value\n    from input i, previous p, pg_catalog.json_array_elements(i.calls) with ordinality as k(value, ordinal)\n    union all\n    select i.format, 1, r.ordinal, r.value\n    from input i, previous p, pg_catalog.json_array_elements(i.results) with ordinality as r(value, ordinal)\n  ) as a\n),\nconversation as (\n  update todo_chat.conversations c\n  set history_bytes = c.history_bytes - p.size_bytes + i.size_bytes,\n    last_audit_ordinal = c.last_audit_ordinal + (select count(*) from audit)::integer\n  from previous p, input i\n  where c.user_id = :userId! and c.id = :conversationId!\n  returning p.position, c.last_audit_ordinal - (select count(*) from audit)::integer as audit_base\n),\nreplaced as (\n  update todo_chat.messages m\n  set role = i.role, format = i.format, content = i.content, tool_calls = i.tool_calls, tool_call_id = i.tool_call_id, item = i.item,\n    call_ids = i.call_ids\n  from input i, conversation c\n  where m.user_id = :userId! and m.conversation_id = :conversationId! and m.id = :id!\n  returning m.id, m.position, m.role, m.format, m.content, m.tool_calls, m.tool_call_id, m.item, m.created_at\n),\ncalls as (\n  select a.format, a.idx, a.value ->> 'callId' as call_id, a.value ->> 'name' as name, a.value -> 'arguments' as arguments,\n    coalesce(\n      (select t.ordinal\n       from todo_chat.tool_calls t\n       where t.user_id = :userId! and t.conversation_id = :conversationId! and t.message_id = :id!\n         and t.message_position = c.position\n         and t.call_id = a.value ->> 'callId' and t.name = a.value ->> 'name'\n         and md5(coalesce(t.arguments::jsonb::text, '')) = md5(coalesce((a.value -> 'arguments')::jsonb::text, ''))),\n      c.audit_base + a.n\n    ) as ordinal\n  from audit a, conversation c\n  where a.kind = 0\n),\nrecorded_calls as (\n  insert into todo_chat.tool_calls (conversation_id, ordinal, message_id, message_position, call_index, call_id, name, arguments, format)\n  select :conversationId!, k.ordinal, :id!, c.position, (k.idx - 1)::integer, k.call_id, k.name, k.arguments, k.format\n  from calls k, conversation c\n  where k.ordinal > c.audit_base\n  on conflict do nothing\n),\nrecorded_results as (\n  insert into todo_chat.tool_results (conversation_id, ordinal, call_ordinal, call_id, message_id, output, status)\n  select :conversationId!, c.audit_base + a.n,\n    coalesce(\n      (select k.ordinal from calls k where k.call_id = a.value ->> 'callId' order by k.idx desc limit 1),\n      (select t.ordinal\n       from todo_chat.tool_calls t\n       where t.user_id = :userId! and t.conversation_id = :conversationId! and t.call_id = a.value ->> 'callId'\n         and coalesce((\n           select true\n           from todo_chat.messages m\n           where m.user_id = t.user_id and m.conversation_id = t.conversation_id and m.id = t.message_id\n             and m.position = t.message_position and t.call_id = any (m.call_ids)\n           limit 1\n         ), false)\n       order by t.ordinal desc\n       limit 1)\n    ),\n    a.value ->> 'callId', :id!, a.value -> 'output', a.value ->> 'status'\n  from audit a, conversation c\n  where a.kind = 1\n  on conflict do nothing\n)\nselect id, position, role, format, content, tool_calls as \"toolCalls\", tool_call_id as \"toolCallId\", item,\n  created_at as \"createdAt\"\nfrom replaced                                                                                                                                                   "};

/**
 * Query generated from SQL:
 * ```
 * with input as (
 *   select m.value ->> 'role' as role,
 *     m.value ->> 'format' as format,
 *     m.value ->> 'content' as content,
 *     (m.value -> 'toolCalls')::jsonb as tool_calls,
 *     m.value ->> 'toolCallId' as tool_call_id,
 *     m.value -> 'item' as item,
 *     m.value -> 'calls' as calls,
 *     m.value -> 'results' as results,
 *     (select array_agg(k.value ->> 'callId' order by k.ordinal)
 *      from pg_catalog.json_array_elements(m.value -> 'calls') with ordinality as k(value, ordinal)) as call_ids,
 *     octet_length(m.value ->> 'content') + coalesce(octet_length(((m.value -> 'toolCalls')::jsonb)::text), 0)
 *       + coalesce(octet_length((m.value -> 'item')::text), 0) as size_bytes
 *   from (select :message!::json as value) as m
 * ),
 * previous as (
 *   select m.position, m.size_bytes
 *   from todo_chat.messages m
 *   where m.user_id = :userId! and m.conversation_id = :conversationId! and m.id = :id!
 * ),
 * audit as (
 *   select a.*, (row_number() over (order by a.kind, a.idx))::integer as n
 *   from (
 *     select i.format, 0 as kind, k.ordinal as idx, k.value
 *     from input i, previous p, pg_catalog.json_array_elements(i.calls) with ordinality as k(value, ordinal)
 *     union all
 *     select i.format, 1, r.ordinal, r.value
 *     from input i, previous p, pg_catalog.json_array_elements(i.results) with ordinality as r(value, ordinal)
 *   ) as a
 * ),
 * conversation as (
 *   update todo_chat.conversations c
 *   set history_bytes = c.history_bytes - p.size_bytes + i.size_bytes,
 *     last_audit_ordinal = c.last_audit_ordinal + (select count(*) from audit)::integer
 *   from previous p, input i
 *   where c.user_id = :userId! and c.id = :conversationId!
 *   returning p.position, c.last_audit_ordinal - (select count(*) from audit)::integer as audit_base
 * ),
 * replaced as (
 *   update todo_chat.messages m
 *   set role = i.role, format = i.format, content = i.content, tool_calls = i.tool_calls, tool_call_id = i.tool_call_id, item = i.item,
 *     call_ids = i.call_ids
 *   from input i, conversation c
 *   where m.user_id = :userId! and m.conversation_id = :conversationId! and m.id = :id!
 *   returning m.id, m.position, m.role, m.format, m.content, m.tool_calls, m.tool_call_id, m.item, m.created_at
 * ),
 * calls as (
 *   select a.format, a.idx, a.value ->> 'callId' as call_id, a.value ->> 'name' as name, a.value -> 'arguments' as arguments,
 *     coalesce(
 *       (select t.ordinal
 *        from todo_chat.tool_calls t
 *        where t.user_id = :userId! and t.conversation_id = :conversationId! and t.message_id = :id!
 *          and t.message_position = c.position
 *          and t.call_id = a.value ->> 'callId' and t.name = a.value ->> 'name'
 *          and md5(coalesce(t.arguments::jsonb::text, '')) = md5(coalesce((a.value -> 'arguments')::jsonb::text, ''))),
 *       c.audit_base + a.n
 *     ) as ordinal
 *   from audit a, conversation c
 *   where a.kind = 0
 * ),
 * recorded_calls as (
 *   insert into todo_chat.tool_calls (conversation_id, ordinal, message_id, message_position, call_index, call_id, name, arguments, format)
 *   select :conversationId!, k.ordinal, :id!, c.position, (k.idx - 1)::integer, k.call_id, k.name, k.arguments, k.format
 *   from calls k, conversation c
 *   where k.ordinal > c.audit_base
 *   on conflict do nothing
 * ),
 * recorded_results as (
 *   insert into todo_chat.tool_results (conversation_id, ordinal, call_ordinal, call_id, message_id, output, status)
 *   select :conversationId!, c.audit_base + a.n,
 *     coalesce(
 *       (select k.ordinal from calls k where k.call_id = a.value ->> 'callId' order by k.idx desc limit 1),
 *       (select t.ordinal
 *        from todo_chat.tool_calls t
 *        where t.user_id = :userId! and t.conversation_id = :conversationId! and t.call_id = a.value ->> 'callId'
 *          and coalesce((
 *            select true
 *            from todo_chat.messages m
 *            where m.user_id = t.user_id and m.conversation_id = t.conversation_id and m.id = t.message_id
 *              and m.position = t.message_position and t.call_id = any (m.call_ids)
 *            limit 1
 *          ), false)
 *        order by t.ordinal desc
 *        limit 1)
 *     ),
 *     a.value ->> 'callId', :id!, a.value -> 'output', a.value ->> 'status'
 *   from audit a, conversation c
 *   where a.kind = 1
 *   on conflict do nothing
 * )
 * select id, position, role, format, content, tool_calls as "toolCalls", tool_call_id as "toolCallId", item,
 *   created_at as "createdAt"
 * from replaced                                                                                                                                                   
 * ```
 */
export const replaceMessage = new PreparedQuery<IReplaceMessageParams,IReplaceMessageResult>(replaceMessageIR);


/** 'GetMessagesByIds' parameters type */
export interface IGetMessagesByIdsParams {
  conversationId: string;
  ids: stringArray;
  userId: string;
}

/** 'GetMessagesByIds' return type */
export interface IGetMessagesByIdsResult {
  /** plain text: as given for chat, the text parts of the item otherwise; what search indexes. */
  content: string;
  createdAt: Date;
  /** chat (role, content, tool_calls, tool_call_id as given), openai-agents (an AgentInputItem) or ai-sdk (a UIMessage). */
  format: string;
  /** unique within the conversation: the caller's (its sdk's) id, or a uuid made when it gave none. */
  id: string;
  /** the sdk item exactly as written, for formats other than chat. */
  item: Json | null;
  /** 1, 2, 3, ... within the conversation, without gaps; assigned by the append statement under the conversation's row lock. */
  position: number;
  role: string;
  toolCallId: string | null;
  toolCalls: Json | null;
}

/** 'GetMessagesByIds' query type */
export interface IGetMessagesByIdsQuery {
  params: IGetMessagesByIdsParams;
  result: IGetMessagesByIdsResult;
}

const getMessagesByIdsIR: any = {"usedParamSet":{"userId":true,"conversationId":true,"ids":true},"params":[{"name":"userId","required":true,"transform":{"type":"scalar"},"locs":[{"a":175,"b":182}]},{"name":"conversationId","required":true,"transform":{"type":"scalar"},"locs":[{"a":208,"b":223}]},{"name":"ids","required":true,"transform":{"type":"scalar"},"locs":[{"a":241,"b":245}]}],"statement":"select id, position, role, format, content, tool_calls as \"toolCalls\", tool_call_id as \"toolCallId\", item,\n  created_at as \"createdAt\"\nfrom todo_chat.messages\nwhere user_id = :userId!\n  and conversation_id = :conversationId!\n  and id = any (:ids!::text[])\norder by position                                                                                                                                                                                                                                                                                                                                                                                                                        "};

/**
 * Query generated from SQL:
 * ```
 * select id, position, role, format, content, tool_calls as "toolCalls", tool_call_id as "toolCallId", item,
 *   created_at as "createdAt"
 * from todo_chat.messages
 * where user_id = :userId!
 *   and conversation_id = :conversationId!
 *   and id = any (:ids!::text[])
 * order by position                                                                                                                                                                                                                                                                                                                                                                                                                        
 * ```
 */
export const getMessagesByIds = new PreparedQuery<IGetMessagesByIdsParams,IGetMessagesByIdsResult>(getMessagesByIdsIR);


/** 'LockConversation' parameters type */
export interface ILockConversationParams {
  conversationId: string;
  userId: string;
}

/** 'LockConversation' return type */
export interface ILockConversationResult {
  /** position of the newest message (messages are numbered from 1 within their conversation, without gaps); 0 when it has none. */
  lastPosition: number;
}

/** 'LockConversation' query type */
export interface ILockConversationQuery {
  params: ILockConversationParams;
  result: ILockConversationResult;
}

const lockConversationIR: any = {"usedParamSet":{"userId":true,"conversationId":true},"params":[{"name":"userId","required":true,"transform":{"type":"scalar"},"locs":[{"a":84,"b":91}]},{"name":"conversationId","required":true,"transform":{"type":"scalar"},"locs":[{"a":102,"b":117}]}],"statement":"select last_position as \"lastPosition\"\nfrom todo_chat.conversations\nwhere user_id = :userId! and id = :conversationId!\nfor update                                                                                                                                                                                                                                                                            "};

/**
 * Query generated from SQL:
 * ```
 * select last_position as "lastPosition"
 * from todo_chat.conversations
 * where user_id = :userId! and id = :conversationId!
 * for update                                                                                                                                                                                                                                                                            
 * ```
 */
export const lockConversation = new PreparedQuery<ILockConversationParams,ILockConversationResult>(lockConversationIR);


/** 'RemoveNewestMessages' parameters type */
export interface IRemoveNewestMessagesParams {
  conversationId: string;
  keep: number;
  userId: string;
}

/** 'RemoveNewestMessages' return type */
export interface IRemoveNewestMessagesResult {
  /** plain text: as given for chat, the text parts of the item otherwise; what search indexes. */
  content: string;
  createdAt: Date;
  /** chat (role, content, tool_calls, tool_call_id as given), openai-agents (an AgentInputItem) or ai-sdk (a UIMessage). */
  format: string;
  /** unique within the conversation: the caller's (its sdk's) id, or a uuid made when it gave none. */
  id: string;
  /** the sdk item exactly as written, for formats other than chat. */
  item: Json | null;
  /** 1, 2, 3, ... within the conversation, without gaps; assigned by the append statement under the conversation's row lock. */
  position: number;
  role: string;
  toolCallId: string | null;
  toolCalls: Json | null;
}

/** 'RemoveNewestMessages' query type */
export interface IRemoveNewestMessagesQuery {
  params: IRemoveNewestMessagesParams;
  result: IRemoveNewestMessagesResult;
}

const removeNewestMessagesIR: any = {"usedParamSet":{"userId":true,"conversationId":true,"keep":true},"params":[{"name":"userId","required":true,"transform":{"type":"scalar"},"locs":[{"a":73,"b":80},{"a":507,"b":514}]},{"name":"conversationId","required":true,"transform":{"type":"scalar"},"locs":[{"a":106,"b":121},{"a":527,"b":542}]},{"name":"keep","required":true,"transform":{"type":"scalar"},"locs":[{"a":140,"b":145},{"a":359,"b":364}]}],"statement":"with removed as (\n  delete from todo_chat.messages m\n  where m.user_id = :userId! and m.conversation_id = :conversationId! and m.position > :keep!::integer\n  returning m.id, m.position, m.role, m.format, m.content, m.tool_calls, m.tool_call_id, m.item, m.created_at, m.size_bytes\n),\ncounted as (\n  update todo_chat.conversations c\n  set last_position = least(:keep!::integer, c.last_position),\n    history_bytes = c.history_bytes - (select coalesce(sum(r.size_bytes), 0) from removed r)\n  where c.user_id = :userId! and c.id = :conversationId!\n)\nselect id, position, role, format, content, tool_calls as \"toolCalls\", tool_call_id as \"toolCallId\", item,\n  created_at as \"createdAt\"\nfrom removed\norder by position                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                        "};

/**
 * Query generated from SQL:
 * ```
 * with removed as (
 *   delete from todo_chat.messages m
 *   where m.user_id = :userId! and m.conversation_id = :conversationId! and m.position > :keep!::integer
 *   returning m.id, m.position, m.role, m.format, m.content, m.tool_calls, m.tool_call_id, m.item, m.created_at, m.size_bytes
 * ),
 * counted as (
 *   update todo_chat.conversations c
 *   set last_position = least(:keep!::integer, c.last_position),
 *     history_bytes = c.history_bytes - (select coalesce(sum(r.size_bytes), 0) from removed r)
 *   where c.user_id = :userId! and c.id = :conversationId!
 * )
 * select id, position, role, format, content, tool_calls as "toolCalls", tool_call_id as "toolCallId", item,
 *   created_at as "createdAt"
 * from removed
 * order by position                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                        
 * ```
 */
export const removeNewestMessages = new PreparedQuery<IRemoveNewestMessagesParams,IRemoveNewestMessagesResult>(removeNewestMessagesIR);


/** 'ListHistory' parameters type */
export interface IListHistoryParams {
  before?: number | null | void;
  conversationId: string;
  extra: number;
  limit: number;
  userId: string;
}

/** 'ListHistory' return type */
export interface IListHistoryResult {
  /** plain text: as given for chat, the text parts of the item otherwise; what search indexes. */
  content: string;
  createdAt: Date;
  firstPosition: number | null;
  /** chat (role, content, tool_calls, tool_call_id as given), openai-agents (an AgentInputItem) or ai-sdk (a UIMessage). */
  format: string;
  /** unique within the conversation: the caller's (its sdk's) id, or a uuid made when it gave none. */
  id: string;
  /** the sdk item exactly as written, for formats other than chat. */
  item: Json | null;
  /** 1, 2, 3, ... within the conversation, without gaps; assigned by the append statement under the conversation's row lock. */
  position: number;
  role: string;
  toolCallId: string | null;
  toolCalls: Json | null;
}

/** 'ListHistory' query type */
export interface IListHistoryQuery {
  params: IListHistoryParams;
  result: IListHistoryResult;
}

const listHistoryIR: any = {"usedParamSet":{"before":true,"userId":true,"conversationId":true,"limit":true,"extra":true},"params":[{"name":"before","required":false,"transform":{"type":"scalar"},"locs":[{"a":47,"b":53}]},{"name":"userId","required":true,"transform":{"type":"scalar"},"locs":[{"a":171,"b":178},{"a":427,"b":434},{"a":743,"b":750},{"a":1356,"b":1363}]},{"name":"conversationId","required":true,"transform":{"type":"scalar"},"locs":[{"a":191,"b":206},{"a":460,"b":475},{"a":776,"b":791},{"a":1389,"b":1404}]},{"name":"limit","required":true,"transform":{"type":"scalar"},"locs":[{"a":260,"b":266},{"a":1501,"b":1507}]},{"name":"extra","required":true,"transform":{"type":"scalar"},"locs":[{"a":526,"b":532},{"a":616,"b":622},{"a":1520,"b":1526}]}],"statement":"with conversation as (\n  select least(coalesce(:before::integer, c.last_position + 1), c.last_position + 1) as before\n  from todo_chat.conversations c\n  where c.user_id = :userId! and c.id = :conversationId!\n),\npage as (\n  select c.before, greatest(c.before - :limit!::integer, 1) as first\n  from conversation c\n),\nstart as (\n  select coalesce(\n    (select max(m.position)\n     from todo_chat.messages m\n     where m.user_id = :userId! and m.conversation_id = :conversationId!\n       and m.position between greatest(p.first - :extra!::integer, 1) and p.first - 1\n       and m.role <> 'tool'),\n    greatest(p.first - :extra!::integer, 1)\n  ) as position\n  from page p\n  where exists (\n    select from todo_chat.messages m\n    where m.user_id = :userId! and m.conversation_id = :conversationId! and m.position = p.first and m.role = 'tool'\n  )\n),\nbounds as materialized (\n  select coalesce((select s.position from start s), p.first) as first_position, p.before\n  from page p\n)\nselect b.first_position as \"firstPosition\",\n  m.id, m.position, m.role, m.format, m.content, m.tool_calls as \"toolCalls\", m.tool_call_id as \"toolCallId\", m.item,\n  m.created_at as \"createdAt\"\nfrom bounds b\nleft join lateral (\n  select m.id, m.position, m.role, m.format, m.content, m.tool_calls, m.tool_call_id, m.item, m.created_at\n  from todo_chat.messages m\n  where m.user_id = :userId! and m.conversation_id = :conversationId!\n    and m.position >= b.first_position and m.position < b.before\n  order by m.position\n  limit :limit!::integer + :extra!::integer\n) as m on true                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                            "};

/**
 * Query generated from SQL:
 * ```
 * with conversation as (
 *   select least(coalesce(:before::integer, c.last_position + 1), c.last_position + 1) as before
 *   from todo_chat.conversations c
 *   where c.user_id = :userId! and c.id = :conversationId!
 * ),
 * page as (
 *   select c.before, greatest(c.before - :limit!::integer, 1) as first
 *   from conversation c
 * ),
 * start as (
 *   select coalesce(
 *     (select max(m.position)
 *      from todo_chat.messages m
 *      where m.user_id = :userId! and m.conversation_id = :conversationId!
 *        and m.position between greatest(p.first - :extra!::integer, 1) and p.first - 1
 *        and m.role <> 'tool'),
 *     greatest(p.first - :extra!::integer, 1)
 *   ) as position
 *   from page p
 *   where exists (
 *     select from todo_chat.messages m
 *     where m.user_id = :userId! and m.conversation_id = :conversationId! and m.position = p.first and m.role = 'tool'
 *   )
 * ),
 * bounds as materialized (
 *   select coalesce((select s.position from start s), p.first) as first_position, p.before
 *   from page p
 * )
 * select b.first_position as "firstPosition",
 *   m.id, m.position, m.role, m.format, m.content, m.tool_calls as "toolCalls", m.tool_call_id as "toolCallId", m.item,
 *   m.created_at as "createdAt"
 * from bounds b
 * left join lateral (
 *   select m.id, m.position, m.role, m.format, m.content, m.tool_calls, m.tool_call_id, m.item, m.created_at
 *   from todo_chat.messages m
 *   where m.user_id = :userId! and m.conversation_id = :conversationId!
 *     and m.position >= b.first_position and m.position < b.before
 *   order by m.position
 *   limit :limit!::integer + :extra!::integer
 * ) as m on true                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                                            
 * ```
 */
export const listHistory = new PreparedQuery<IListHistoryParams,IListHistoryResult>(listHistoryIR);


/** 'ListAllMessages' parameters type */
export interface IListAllMessagesParams {
  conversationId: string;
  maxBytes: NumberOrString;
  maxMessages: number;
  userId: string;
}

/** 'ListAllMessages' return type */
export interface IListAllMessagesResult {
  /** plain text: as given for chat, the text parts of the item otherwise; what search indexes. */
  content: string;
  createdAt: Date;
  /** chat (role, content, tool_calls, tool_call_id as given), openai-agents (an AgentInputItem) or ai-sdk (a UIMessage). */
  format: string;
  /** sum of messages.size_bytes of the conversation: what reading its whole history costs. */
  historyBytes: string;
  /** unique within the conversation: the caller's (its sdk's) id, or a uuid made when it gave none. */
  id: string;
  /** the sdk item exactly as written, for formats other than chat. */
  item: Json | null;
  /** position of the newest message (messages are numbered from 1 within their conversation, without gaps); 0 when it has none. */
  lastPosition: number;
  /** 1, 2, 3, ... within the conversation, without gaps; assigned by the append statement under the conversation's row lock. */
  position: number;
  role: string;
  toolCallId: string | null;
  toolCalls: Json | null;
}

/** 'ListAllMessages' query type */
export interface IListAllMessagesQuery {
  params: IListAllMessagesParams;
  result: IListAllMessagesResult;
}

const listAllMessagesIR: any = {"usedParamSet":{"userId":true,"maxMessages":true,"maxBytes":true,"conversationId":true},"params":[{"name":"userId","required":true,"transform":{"type":"scalar"},"locs":[{"a":304,"b":311},{"a":450,"b":457}]},{"name":"maxMessages","required":true,"transform":{"type":"scalar"},"locs":[{"a":367,"b":379}]},{"name":"maxBytes","required":true,"transform":{"type":"scalar"},"locs":[{"a":413,"b":422}]},{"name":"conversationId","required":true,"transform":{"type":"scalar"},"locs":[{"a":470,"b":485}]}],"statement":"select c.last_position as \"lastPosition\", c.history_bytes as \"historyBytes\",\n  m.id, m.position, m.role, m.format, m.content, m.tool_calls as \"toolCalls\", m.tool_call_id as \"toolCallId\", m.item,\n  m.created_at as \"createdAt\"\nfrom todo_chat.conversations c\nleft join todo_chat.messages m\n  on m.user_id = :userId! and m.conversation_id = c.id\n  and c.last_position <= :maxMessages!::integer and c.history_bytes <= :maxBytes!::bigint\nwhere c.user_id = :userId! and c.id = :conversationId!                                                                                                                                                                                                                                                                                                                                              "};

/**
 * Query generated from SQL:
 * ```
 * select c.last_position as "lastPosition", c.history_bytes as "historyBytes",
 *   m.id, m.position, m.role, m.format, m.content, m.tool_calls as "toolCalls", m.tool_call_id as "toolCallId", m.item,
 *   m.created_at as "createdAt"
 * from todo_chat.conversations c
 * left join todo_chat.messages m
 *   on m.user_id = :userId! and m.conversation_id = c.id
 *   and c.last_position <= :maxMessages!::integer and c.history_bytes <= :maxBytes!::bigint
 * where c.user_id = :userId! and c.id = :conversationId!                                                                                                                                                                                                                                                                                                                                              
 * ```
 */
export const listAllMessages = new PreparedQuery<IListAllMessagesParams,IListAllMessagesResult>(listAllMessagesIR);


/** 'ListMessagesAfter' parameters type */
export interface IListMessagesAfterParams {
  after: number;
  conversationId: string;
  limit: NumberOrString;
  userId: string;
}

/** 'ListMessagesAfter' return type */
export interface IListMessagesAfterResult {
  /** plain text: as given for chat, the text parts of the item otherwise; what search indexes. */
  content: string;
  createdAt: Date;
  /** chat (role, content, tool_calls, tool_call_id as given), openai-agents (an AgentInputItem) or ai-sdk (a UIMessage). */
  format: string;
  /** unique within the conversation: the caller's (its sdk's) id, or a uuid made when it gave none. */
  id: string;
  /** the sdk item exactly as written, for formats other than chat. */
  item: Json | null;
  /** 1, 2, 3, ... within the conversation, without gaps; assigned by the append statement under the conversation's row lock. */
  position: number;
  role: string;
  toolCallId: string | null;
  toolCalls: Json | null;
}

/** 'ListMessagesAfter' query type */
export interface IListMessagesAfterQuery {
  params: IListMessagesAfterParams;
  result: IListMessagesAfterResult;
}

const listMessagesAfterIR: any = {"usedParamSet":{"userId":true,"conversationId":true,"after":true,"limit":true},"params":[{"name":"userId","required":true,"transform":{"type":"scalar"},"locs":[{"a":175,"b":182}]},{"name":"conversationId","required":true,"transform":{"type":"scalar"},"locs":[{"a":208,"b":223}]},{"name":"after","required":true,"transform":{"type":"scalar"},"locs":[{"a":242,"b":248}]},{"name":"limit","required":true,"transform":{"type":"scalar"},"locs":[{"a":283,"b":289}]}],"statement":"select id, position, role, format, content, tool_calls as \"toolCalls\", tool_call_id as \"toolCallId\", item,\n  created_at as \"createdAt\"\nfrom todo_chat.messages\nwhere user_id = :userId!\n  and conversation_id = :conversationId!\n  and position > :after!::integer\norder by position\nlimit :limit!                                                                                                                                                                                                          "};

/**
 * Query generated from SQL:
 * ```
 * select id, position, role, format, content, tool_calls as "toolCalls", tool_call_id as "toolCallId", item,
 *   created_at as "createdAt"
 * from todo_chat.messages
 * where user_id = :userId!
 *   and conversation_id = :conversationId!
 *   and position > :after!::integer
 * order by position
 * limit :limit!                                                                                                                                                                                                          
 * ```
 */
export const listMessagesAfter = new PreparedQuery<IListMessagesAfterParams,IListMessagesAfterResult>(listMessagesAfterIR);


/** 'SearchMessages' parameters type */
export interface ISearchMessagesParams {
  conversationId?: string | null | void;
  limit: NumberOrString;
  query: string;
  userId: string;
}

/** 'SearchMessages' return type */
export interface ISearchMessagesResult {
  /** plain text: as given for chat, the text parts of the item otherwise; what search indexes. */
  content: string;
  conversationId: string;
  createdAt: Date;
  /** chat (role, content, tool_calls, tool_call_id as given), openai-agents (an AgentInputItem) or ai-sdk (a UIMessage). */
  format: string;
  /** unique within the conversation: the caller's (its sdk's) id, or a uuid made when it gave none. */
  id: string;
  /** the sdk item exactly as written, for formats other than chat. */
  item: Json | null;
  /** 1, 2, 3, ... within the conversation, without gaps; assigned by the append statement under the conversation's row lock. */
  position: number;
  rank: number | null;
  role: string;
  toolCallId: string | null;
  toolCalls: Json | null;
}

/** 'SearchMessages' query type */
export interface ISearchMessagesQuery {
  params: ISearchMessagesParams;
  result: ISearchMessagesResult;
}

const searchMessagesIR: any = {"usedParamSet":{"query":true,"userId":true,"conversationId":true,"limit":true},"params":[{"name":"query","required":true,"transform":{"type":"scalar"},"locs":[{"a":309,"b":315}]},{"name":"userId","required":true,"transform":{"type":"scalar"},"locs":[{"a":348,"b":355}]},{"name":"conversationId","required":false,"transform":{"type":"scalar"},"locs":[{"a":397,"b":411},{"a":450,"b":464}]},{"name":"limit","required":true,"transform":{"type":"scalar"},"locs":[{"a":534,"b":540}]}],"statement":"select m.conversation_id as \"conversationId\", m.id, m.position, m.role, m.format, m.content,\n  m.tool_calls as \"toolCalls\", m.tool_call_id as \"toolCallId\", m.item, m.created_at as \"createdAt\",\n  ts_rank(m.search_vector, q.query) as rank\nfrom todo_chat.messages m,\n  websearch_to_tsquery('english'::regconfig, :query!) as q(query)\nwhere m.user_id = :userId!\n  and m.search_vector @@ q.query\n  and (:conversationId::uuid is null or m.conversation_id = :conversationId::uuid)\norder by rank desc, m.created_at desc, m.position desc\nlimit :limit!"};

/**
 * Query generated from SQL:
 * ```
 * select m.conversation_id as "conversationId", m.id, m.position, m.role, m.format, m.content,
 *   m.tool_calls as "toolCalls", m.tool_call_id as "toolCallId", m.item, m.created_at as "createdAt",
 *   ts_rank(m.search_vector, q.query) as rank
 * from todo_chat.messages m,
 *   websearch_to_tsquery('english'::regconfig, :query!) as q(query)
 * where m.user_id = :userId!
 *   and m.search_vector @@ q.query
 *   and (:conversationId::uuid is null or m.conversation_id = :conversationId::uuid)
 * order by rank desc, m.created_at desc, m.position desc
 * limit :limit!
 * ```
 */
export const searchMessages = new PreparedQuery<ISearchMessagesParams,ISearchMessagesResult>(searchMessagesIR);


